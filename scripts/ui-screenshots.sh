#!/usr/bin/env bash
# Takes the screenshots in docs/images/ from the real Temporal UI: a local stack, a few releases
# (one Succeeded, one rejected and RolledBack, one waiting for approval), and headless Chromium.
# Needs Debian's chromium (installed here when missing) and playwright-core (installed into a
# temporary folder, not the project: no test needs it).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
npm install --prefix "$tools" --no-audit --no-fund --no-save --silent playwright-core@1.64.1
NODE_PATH="$tools/node_modules" npx tsx scripts/ui-screenshots.ts docs/images
