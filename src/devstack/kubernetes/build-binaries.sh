#!/usr/bin/env bash
# Builds what the Kubernetes test stack runs, once, into the cache dir:
#   kube-apiserver, kube-controller-manager and kube-scheduler (k8s.io/kubernetes through the Go
#   module proxy; the scheduler binds pods to the fake node, as in a real cluster),
#   kwok (fake nodes and pods), and the Gateway API CRDs (YAML from their Go module).
# Concurrent callers share one build: the first takes the lock, the others wait and find it done.
# Usage: build-binaries.sh <out-dir>   (prints nothing on success but progress on stderr)
set -euo pipefail

KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.36.3}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
GATEWAY_API_VERSION="${GATEWAY_API_VERSION:-v1.6.3}"

out="${1:?usage: build-binaries.sh <out-dir>}"
mkdir -p "$out"
exec 9>"$out/.build.lock"
flock 9

done_marker="$out/.complete-$KUBERNETES_VERSION-$KWOK_VERSION-$GATEWAY_API_VERSION-r3"
if [ -f "$done_marker" ]; then exit 0; fi

command -v go >/dev/null || { echo "Go is not installed: the Kubernetes test stack builds kube-apiserver with it (install Go 1.26+)" >&2; exit 1; }
export CGO_ENABLED=0 GOFLAGS=-mod=mod
start=$(date +%s)

# k8s.io/kubernetes has replace directives for its staging repos, which `go install pkg@version`
# refuses; a module of our own that repeats them builds it.
staging_version="v0${KUBERNETES_VERSION#v1}"
minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
mod="$out/src"
rm -rf "$mod"; mkdir -p "$mod"
{
  echo "module tollgate.local/kubebuild"
  echo
  echo "go 1.25"
  echo
  echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
  echo
  echo "replace ("
  for repo in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider \
    cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api \
    cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt \
    kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics \
    mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller streaming; do
    echo "  k8s.io/$repo => k8s.io/$repo $staging_version"
  done
  echo ")"
} > "$mod/go.mod"
cat > "$mod/tools.go" <<GO
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
cd "$mod"
echo "kubernetes: resolving k8s.io/kubernetes $KUBERNETES_VERSION" >&2
go mod tidy >&2
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
  # A binary built by an interrupted earlier run stays: the marker is written only at the end.
  if [ -x "$out/$cmd" ] && "$out/$cmd" --version 2>/dev/null | grep -qF "$KUBERNETES_VERSION"; then continue; fi
  echo "kubernetes: building $cmd (minutes, once)" >&2
  go build -trimpath -ldflags "$ldflags" -o "$out/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd" >&2
  mv "$out/$cmd.tmp" "$out/$cmd"
done

if [ ! -x "$out/kwok" ] || [ ! -f "$out/.kwok-$KWOK_VERSION" ]; then
  echo "kubernetes: installing kwok $KWOK_VERSION" >&2
  GOBIN="$out" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
  touch "$out/.kwok-$KWOK_VERSION"
fi

# kwok runs nothing without stages: the "fast" set from its own module (nodes Ready at once with a
# lease heartbeat, pods Ready once scheduled, deleted pods gone).
kwok_dir=$(cd "$mod" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",\?$/\1/p')
stages="$kwok_dir/kustomize/stage"
for stage in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  [ -f "$stages/$stage" ] || { echo "kwok $KWOK_VERSION has no stage $stage" >&2; exit 1; }
  cat "$stages/$stage"; echo "---"
done > "$out/kwok-stages.yaml"

echo "kubernetes: Gateway API CRDs $GATEWAY_API_VERSION" >&2
gw_dir=$(cd "$mod" && go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",\?$/\1/p')
[ -d "$gw_dir/config/crd/standard" ] || { echo "no config/crd/standard in $gw_dir" >&2; exit 1; }
rm -rf "$out/gateway-api-crds"; mkdir -p "$out/gateway-api-crds"
cp "$gw_dir"/config/crd/standard/*.yaml "$out/gateway-api-crds/"
chmod -R u+w "$out/gateway-api-crds"

rm -rf "$mod"
echo "kubernetes: built in $(( $(date +%s) - start ))s into $out" >&2
touch "$done_marker"
