#!/usr/bin/env bash
# The CRD on a real kube-apiserver (tests/harness/kube.sh): it installs and becomes Established,
# every example under examples/ and kustomize/ applies (the Argo CD and Flux kinds they address
# get stand-in CRDs, testdata/peer-crds.yaml), kubectl finds ours by its full name, short name
# and category, and the schema refuses what `validate` refuses where a schema can say it.
#   kube_examples_test.sh IT_KUBE_DIR SOURCE_DIR
set -euo pipefail
dir=${1:?usage: kube_examples_test.sh IT_KUBE_DIR SOURCE_DIR}
src=${2:?usage: kube_examples_test.sh IT_KUBE_DIR SOURCE_DIR}
# shellcheck disable=SC1091
source "$dir/env"
if [ -n "${KUBE_SKIP:-}" ]; then echo "SKIPPED: $KUBE_SKIP"; exit 0; fi
[ -x "${KUBECTL:-}" ] || { echo "SKIPPED: no kubectl (scripts/get-tools.sh)"; exit 0; }
k() { "$KUBECTL" --kubeconfig "$KUBE_KUBECONFIG" "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# 1. The CRD, built by kustomize, and the peers' stand-ins.
k apply -k "$src/kustomize/crd" >/dev/null
k apply -f "$src/tests/integration/testdata/peer-crds.yaml" >/dev/null
k wait --for=condition=Established --timeout=60s \
  crd/imageupdaters.gitops.kubesphere.io crd/applications.argoproj.io \
  crd/ocirepositories.source.toolkit.fluxcd.io crd/externalartifacts.source.toolkit.fluxcd.io \
  crd/kustomizations.kustomize.toolkit.fluxcd.io >/dev/null
# Every namespace a file names exists first (as it would in a cluster the examples are meant for).
ensure_namespaces() { # FILE
  local ns
  for ns in $(sed -n 's/^[[:space:]]*namespace:[[:space:]]*\([a-z0-9-]*\)[[:space:]]*$/\1/p' "$1" | sort -u); do
    k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
  done
}

# 2. Every example file with an ImageUpdater, and every kustomize folder as it builds.
while IFS= read -r file; do
  ensure_namespaces "$file"
  k apply -f "$file" >"$tmp/out" 2>&1 || fail "${file#"$src"/}: $(cat "$tmp/out")"
done < <(grep -rl --include='*.yaml' '^kind: ImageUpdater' "$src/examples" | sort)
while IFS= read -r kustomization; do
  folder=$(dirname "$kustomization")
  case $folder in */sidecar) continue ;; esac # a Component: only buildable inside an overlay
  k kustomize "$folder" >"$tmp/built.yaml" 2>"$tmp/err" || { fail "build ${folder#"$src"/}: $(cat "$tmp/err")"; continue; }
  ensure_namespaces "$tmp/built.yaml"
  k apply -f "$tmp/built.yaml" >"$tmp/out" 2>&1 || fail "apply ${folder#"$src"/}: $(cat "$tmp/out")"
done < <(find "$src/kustomize" -name kustomization.yaml | sort)

# 3. kubectl finds ours: full name, short name, category; and the printer columns.
count=$(k get imageupdaters.gitops.kubesphere.io -A --no-headers | wc -l)
[ "$count" -ge 5 ] || fail "expected at least 5 ImageUpdaters applied, found $count"
short=$(k api-resources --api-group=gitops.kubesphere.io -o name)
[ "$short" = imageupdaters.gitops.kubesphere.io ] || fail "api-resources: $short"
names=$(k get crd imageupdaters.gitops.kubesphere.io -o jsonpath='{.spec.names.shortNames[*]} {.spec.names.categories[*]}')
for name in $names; do
  [ "$(k get "$name" -A --no-headers | wc -l)" = "$count" ] || fail "kubectl get $name does not list them"
done
header=$(k get imageupdaters.gitops.kubesphere.io -n shop | head -1)
for column in NAME KIND READY IMAGES AGE; do
  [[ $header == *"$column"* ]] || fail "no column $column in: $header"
done

# 4. What the schema refuses (each row: a spec fragment, then a piece of the expected message).
refuse() {
  local spec=$1 expect=$2
  cat >"$tmp/bad.yaml" <<YAML
apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata: {name: bad, namespace: demo}
spec: $spec
YAML
  if k apply -f "$tmp/bad.yaml" >"$tmp/out" 2>&1; then
    fail "accepted: spec: $spec"
    k delete -f "$tmp/bad.yaml" >/dev/null 2>&1 || true
  elif ! grep -qF -- "$expect" "$tmp/out"; then
    fail "spec: $spec: expected '$expect' in: $(cat "$tmp/out")"
  fi
}
refuse '{kind: helm, images: [nginx], argocd: {app: {name: a}}}' 'spec.kind'
refuse '{kind: argocd, images: [nginx], argocd: {app: {name: a}}, frobnicate: 1}' 'frobnicate'
refuse '{kind: argocd, images: "nginx", argocd: {app: {name: a}}}' 'spec.images'
refuse '{kind: argocd, images: [nginx], argocd: {app: {name: a}, write: svn}}' 'write'
refuse '{kind: argocd, images: [nginx], suspend: "yes"}' 'spec.suspend'
refuse '{kind: fluxcd, images: [nginx], fluxcd: {interval: 5m, policy: {semver: {}}}}' 'range'

# 5. Deleting them works (no finalizer is left without a controller to remove it).
k delete -f "$src/examples/imageupdater.yaml" --wait --timeout=30s >/dev/null ||
  fail "cannot delete the examples"

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "CRD and examples: ok on kube-apiserver $KUBE_VERSION"
