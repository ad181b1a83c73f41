#!/bin/sh
# Stops TOLLGATE_VERSION. Idempotent: stopping a version that does not run succeeds.
set -eu
rm -f "$STATE_DIR/running/$TOLLGATE_VERSION"
echo "stopped $TOLLGATE_SERVICE $TOLLGATE_VERSION"
