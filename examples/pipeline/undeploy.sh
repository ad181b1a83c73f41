#!/bin/sh
# Stops TOLLGATE_VERSION. Idempotent: stopping a version that does not run succeeds.
set -eu
# One state folder per environment: staging and production are separate worlds.
STATE_DIR="$STATE_DIR/$TOLLGATE_ENVIRONMENT"
rm -f "$STATE_DIR/running/$TOLLGATE_VERSION"
echo "stopped $TOLLGATE_SERVICE $TOLLGATE_VERSION"
