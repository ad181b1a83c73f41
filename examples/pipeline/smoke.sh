#!/bin/sh
# One measurement: exit 0 when the new version is running. A real check would call its health endpoint.
set -eu
# One state folder per environment: staging and production are separate worlds.
STATE_DIR="$STATE_DIR/$TOLLGATE_ENVIRONMENT"
test -f "$STATE_DIR/running/$TOLLGATE_VERSION"
