#!/bin/sh
# One-shot: the namespace Tollgate uses, with a retention long enough to read old releases.
set -eu
temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1 \
  || temporal operator namespace create --namespace "$NAMESPACE" --retention "${RETENTION:-30d}"
echo "namespace $NAMESPACE is ready"
