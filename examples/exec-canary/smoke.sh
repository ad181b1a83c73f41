#!/bin/sh
# One measurement: exit 0 when the new version is running. A real check would call its health endpoint.
set -eu
test -f "$STATE_DIR/running/$TOLLGATE_VERSION"
