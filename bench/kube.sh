#!/usr/bin/env bash
# serve --kubernetes at scale (issue 15): 1,000 ImageUpdater objects in 10 namespaces sharing 50
# images of the harness registry (two images each), on a real kube-apiserver (tests/harness/
# kube.sh). Measures:
#   - start to all statuses written (observedGeneration 1 on every object), with --workers 4;
#   - the service's requests to the API server (its imageupdater_kube_requests_total) for the
#     start-up round and for one more round (every object's reconcile.fluxcd.io/requestedAt
#     annotation set): a watch, not a poll, means no list and no get per object;
#   - the registry's tag-list requests (the shared images are fetched once per cache period);
#   - the service's memory (VmHWM, VmRSS).
#   bench/kube.sh [BUILD_DIR] [OBJECTS] [IMAGES] [QPS]   (QPS: --kube-api-qps; default 50, 0 = none)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
objects=${2:-1000}
images=${3:-50}
qps=${4:-50}
bin=$(realpath "$build/bin/imageupdater-flux-source")
work=$(mktemp -d /dev/shm/iu-kube-bench.XXXXXX)
svc_pid=
cleanup() {
  [ -n "$svc_pid" ] && kill "$svc_pid" 2>/dev/null
  tests/harness/kube.sh down "$work/kube" >/dev/null 2>&1 || true
  tests/harness/services.sh down "$work/svc" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }
tests/harness/services.sh up "$work/svc" >/dev/null
tests/harness/kube.sh up "$work/kube" >/dev/null
# shellcheck disable=SC1091
source "$work/svc/env"
# shellcheck disable=SC1091
source "$work/kube/env"
[ -z "${KUBE_SKIP:-}" ] || { echo "bench/kube.sh: $KUBE_SKIP" >&2; exit 1; }
k() { "$KUBECTL" --kubeconfig "$KUBE_KUBECONFIG" "$@"; }
paged=${REGISTRY_PAGED#http://}

for i in $(seq 0 $((images - 1))); do
  python3 tests/harness/seed.py image "$REGISTRY_PLAIN" "bkube/r-$i" 2024-05-01T00:00:00Z \
    1.0.0 1.1.0 1.2.0 >/dev/null
done
k apply -k kustomize/crd >/dev/null
k wait --for=condition=Established crd/imageupdaters.gitops.kubesphere.io >/dev/null
for n in $(seq 0 9); do k create namespace "bench-$n" >/dev/null; done
for i in $(seq 0 $((objects - 1))); do
  a=$((i % images)) b=$(((i * 7 + 3) % images))
  cat <<YAML
---
apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata: {name: app-$i, namespace: bench-$((i % 10))}
spec:
  kind: argocd
  images: ["a=$paged/bkube/r-$a:^1.0", "b=$paged/bkube/r-$b:~1.1"]
  argocd: {app: {name: app-$i}}
YAML
done >"$work/objects.yaml"
k apply --server-side -f "$work/objects.yaml" >/dev/null
echo "objects: $objects ImageUpdaters in 10 namespaces, $images images (2 per object); --kube-api-qps $qps"

written() { # how many objects have status.observedGeneration >= $1
  k get imageupdaters.gitops.kubesphere.io -A -o json |
    jq --argjson g "$1" '[.items[] | select((.status.observedGeneration // 0) >= $g)] | length'
}
requests() { # VERB RESOURCE: the service's successful requests so far
  curl -s "http://127.0.0.1:$metrics_port/metrics" |
    awk -v v="verb=\"$1\"" -v r="resource=\"$2\"" '/^imageupdater_kube_requests_total\{/ &&
      index($0, v) && index($0, r) && index($0, "result=\"ok\"") { s += $NF } END { print s + 0 }'
}
snapshot() {
  for v in list:imageupdaters watch:imageupdaters get:imageupdaters update:imageupdaters/status \
    create:events patch:events get:leases update:leases; do
    printf '%s=%s ' "$v" "$(requests "${v%%:*}" "${v#*:}")"
  done
}
tags_before=$(curl -s "$REGISTRY_PAGED/_stats" | jq '[.tags_requests[]] | add // 0')

metrics_port=$(python3 -B tests/harness/netutil.py free-ports 1)
start=$(now_ms)
"$bin" serve --kubernetes --kubeconfig "$KUBE_KUBECONFIG" --listen 127.0.0.1:0 \
  --port-file "$work/port" --metrics-listen "127.0.0.1:$metrics_port" --data "$work/data" --workers 4 \
  --interval 1h --kube-api-qps "$qps" --log-level warn 2>"$work/service.log" &
svc_pid=$!
until [ -s "$work/port" ]; do sleep 0.05; done
until [ "$(written 1)" -ge "$objects" ]; do sleep 0.2; done
round1=$(($(now_ms) - start))
echo "start to all $objects statuses written: $round1 ms"
echo "requests, start-up round: $(snapshot)"
rss=$(grep -E 'VmHWM|VmRSS' "/proc/$svc_pid/status" | awk '{ printf "%s %s kB  ", $1, $2 }')

before=$(snapshot)
status_before=$(requests update imageupdaters/status)
second=$(now_ms)
k annotate imageupdaters.gitops.kubesphere.io --all -A --overwrite \
  reconcile.fluxcd.io/requestedAt="$(date -u +%FT%TZ)" >/dev/null
annotated=$(($(now_ms) - second))
# every object's status written once more (the service's own count of status writes)
until [ "$(requests update imageupdaters/status)" -ge $((status_before + objects)) ]; do sleep 0.2; done
echo "requestedAt on every object (kubectl annotate took $annotated ms) to all statuses rewritten: $(($(now_ms) - second)) ms"
echo "requests after the second round (cumulative; before it: $before): $(snapshot)"
echo "memory: $rss(after the first round); now $(grep VmRSS "/proc/$svc_pid/status" | awk '{ print $2 " kB" }')"
echo "registry tag-list requests: $(($(curl -s "$REGISTRY_PAGED/_stats" | jq '[.tags_requests[]] | add // 0') - tags_before))"
echo "load before/after: $(cut -d' ' -f1-3 /proc/loadavg)"
