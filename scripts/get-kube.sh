#!/usr/bin/env bash
# Builds the test servers for the Kubernetes-mode tests: kube-apiserver from the k8s.io/kubernetes
# Go module and etcd from go.etcd.io/etcd/server/v3, both at pinned releases, into
# .cache/kube/<release>/bin of this checkout (or $1). Go is used for nothing else: the product is
# C++. k8s.io/kubernetes is not meant as a dependency (its go.mod requires its ~30 staging modules
# at v0.0.0 with replace => ./staging/...), so a throw-away module requires it and replaces each
# staging module with its published v0.N.P of the same release. GOMODCACHE and GOCACHE live under
# .cache/go so only the first build downloads and compiles (minutes on 2 cores).
# Idempotent: does nothing when both binaries exist and report the pinned versions.
set -euo pipefail
cd "$(dirname "$0")/.."
k8s_version=v1.32.3 # kubectl from scripts/get-tools.sh is v1.32: same minor
etcd_version=v3.5.16 # the etcd release k8s 1.32 is tested with
root=$(pwd)
dest=${1:-.cache/kube/$k8s_version/bin}
command -v go >/dev/null || { echo "get-kube.sh: go is needed to build kube-apiserver and etcd" >&2; exit 1; }
if [[ -x "$dest/kube-apiserver" && -x "$dest/etcd" ]] &&
  "$dest/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes $k8s_version" &&
  "$dest/etcd" --version 2>/dev/null | grep -q "etcd Version: ${etcd_version#v}"; then
  exit 0
fi
export GOMODCACHE="$root/.cache/go/mod" GOCACHE="$root/.cache/go/build" GOFLAGS=-mod=mod
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
mkdir -p "$dest" "$GOMODCACHE" "$GOCACHE"
dest=$(cd "$dest" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# quiet CMD...: runs CMD, showing its output (hundreds of "go: downloading" lines) only when it
# fails.
quiet() {
  "$@" >"$work/out.log" 2>&1 || { cat "$work/out.log" >&2; echo "get-kube.sh: failed: $*" >&2; return 1; }
}

echo "get-kube.sh: building kube-apiserver $k8s_version (first time: several minutes)" >&2
mkdir "$work/apiserver"
cd "$work/apiserver"
go mod init iu.local/kube-apiserver >/dev/null 2>&1
gomod=$(go mod download -json "k8s.io/kubernetes@$k8s_version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
[[ -f "$gomod" ]] || { echo "get-kube.sh: could not download k8s.io/kubernetes@$k8s_version" >&2; exit 1; }
{
  echo "require k8s.io/kubernetes $k8s_version"
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod" |
    while read -r module; do echo "replace $module => $module v0.${k8s_version#v1.}"; done
} >>go.mod
printf 'package tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >tools.go
quiet go mod tidy
go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version" \
  -o "$dest/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver

echo "get-kube.sh: building etcd $etcd_version" >&2
mkdir "$work/etcd"
cd "$work/etcd"
go mod init iu.local/etcd >/dev/null 2>&1
printf 'package tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >tools.go
quiet go get "go.etcd.io/etcd/server/v3@$etcd_version"
quiet go mod tidy
go build -trimpath -ldflags "-s -w" -o "$dest/etcd" go.etcd.io/etcd/server/v3
echo "get-kube.sh: kube-apiserver and etcd in $dest" >&2
