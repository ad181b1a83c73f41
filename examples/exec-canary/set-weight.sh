#!/bin/sh
# Sends TOLLGATE_WEIGHT percent of traffic to TOLLGATE_VERSION and the rest to TOLLGATE_STABLE_VERSION.
# Idempotent: writing the same weight twice changes nothing.
set -eu
mkdir -p "$STATE_DIR"
printf '%s %s %s\n' "$TOLLGATE_VERSION" "$TOLLGATE_WEIGHT" "${TOLLGATE_STABLE_VERSION:-none}" > "$STATE_DIR/weights"
echo "$TOLLGATE_WEIGHT% to $TOLLGATE_VERSION (was $TOLLGATE_PREVIOUS_WEIGHT%)"
