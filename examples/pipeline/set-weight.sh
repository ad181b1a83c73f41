#!/bin/sh
# Sends TOLLGATE_WEIGHT percent of traffic to TOLLGATE_VERSION and the rest to TOLLGATE_STABLE_VERSION.
# Idempotent: writing the same weight twice changes nothing. Fenced: a write with an older
# TOLLGATE_FENCE than the last one that wrote (a leftover of a dead worker, after the rollback
# wrote) is refused, so it cannot undo the rollback.
set -eu
# One state folder per environment: staging and production are separate worlds.
STATE_DIR="$STATE_DIR/$TOLLGATE_ENVIRONMENT"
mkdir -p "$STATE_DIR"
# Tokens grow per lane (service and environment): one fence file each.
fence="$STATE_DIR/fence.$TOLLGATE_SERVICE.$TOLLGATE_ENVIRONMENT"
exec 9>"$fence.lock"
flock 9
last=$(cat "$fence" 2>/dev/null || echo 0)
if [ "${TOLLGATE_FENCE:-0}" -lt "$last" ]; then
  echo "stale write refused: fencing token ${TOLLGATE_FENCE:-0} is older than $last" >&2
  exit 3
fi
printf '%s %s %s\n' "$TOLLGATE_VERSION" "$TOLLGATE_WEIGHT" "${TOLLGATE_STABLE_VERSION:-none}" > "$STATE_DIR/weights"
echo "${TOLLGATE_FENCE:-0}" > "$fence"
echo "$TOLLGATE_WEIGHT% to $TOLLGATE_VERSION (was $TOLLGATE_PREVIOUS_WEIGHT%)"
