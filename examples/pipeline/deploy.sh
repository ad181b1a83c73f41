#!/bin/sh
# Starts TOLLGATE_VERSION beside the stable version. Idempotent: starting a running version does nothing.
set -eu
# One state folder per environment: staging and production are separate worlds.
STATE_DIR="$STATE_DIR/$TOLLGATE_ENVIRONMENT"
mkdir -p "$STATE_DIR/running"
if [ ! -f "$STATE_DIR/running/$TOLLGATE_VERSION" ]; then
  date -u +%FT%TZ > "$STATE_DIR/running/$TOLLGATE_VERSION"
  echo "started $TOLLGATE_SERVICE $TOLLGATE_VERSION"
fi
