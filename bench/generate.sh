#!/usr/bin/env bash
# The Argo CD plugin's cost, whole processes: `imageupdater-cmp generate` on an application of
# 100 Deployments (bench/gen-manifests.sh 100, 5 of its repositories pointed at the harness
# registry and governed by one ImageUpdater: semver x3, newest-build x2), cold (empty cache) and
# warm (shared cache), beside rendering alone (the same app without its ImageUpdater: the plugin
# renders and passes the manifests through). Counts the tag-list requests the warm runs send,
# through the harness's counting pager in front of the registry.
#   bench/generate.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$(realpath "$build/bin/imageupdater-cmp")
work=$(mktemp -d /dev/shm/iu-generate.XXXXXX)
trap 'tests/harness/services.sh down "$work/svc" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
tests/harness/services.sh up "$work/svc" >/dev/null
# shellcheck disable=SC1091
source "$work/svc/env"
host=${REGISTRY_PAGED#http://}

bench/gen-manifests.sh 100 "$work/gen" >/dev/null
mkdir -p "$work/app" "$work/plain"
sed -e "s#ghcr.io/acme/svc-0:[^ ]*#$host/demo/web:1.2.0#" \
    -e "s#ghcr.io/acme/svc-1:[^ ]*#$host/demo/worker:main-0001#" \
    -e "s#ghcr.io/acme/svc-2:[^ ]*#$host/app:1.0.0#" \
    -e "s#ghcr.io/acme/svc-3:[^ ]*#$host/nb:v1#" \
    -e "s#docker.io/library/nginx:[^ ]*#$host/library/nginx:1.25.0#" \
    "$work/gen/images/deployments.yaml" >"$work/app/deployments.yaml"
cp "$work/app/deployments.yaml" "$work/plain/deployments.yaml"
cat >"$work/app/imageupdater.yaml" <<YAML
apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata: {name: bench, namespace: bench}
spec:
  kind: argocd
  images:
    - web=$host/demo/web:~1.2
    - worker=$host/demo/worker
    - app=$host/app:~1.0
    - nb=$host/nb
    - nginx=$host/library/nginx:~1.25
  argocd:
    app: {name: bench}
    update-strategy: {worker: newest-build, nb: newest-build}
YAML
resources=$(grep -c '^kind:' "$work/app/deployments.yaml")
tag_requests() { curl -s "$REGISTRY_PAGED/_stats" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["tags_requests"].values()))'; }

run_in() { # DIR CACHE
  echo "cd $1 && ARGOCD_APP_NAME=bench ARGOCD_APP_NAMESPACE=bench IMAGEUPDATER_CACHE_DIR=$2 $bin generate >/dev/null 2>&1"
}
# Fill the warm cache, check the output once.
(cd "$work/app" && ARGOCD_APP_NAME=bench IMAGEUPDATER_CACHE_DIR="$work/cache" "$bin" generate \
  >"$work/out.yaml" 2>"$work/log")
changed=$(grep -c 'image injected' "$work/log" || true)
before=$(tag_requests)
hyperfine --shell=sh --warmup 3 --runs 30 --export-json "$work/r.json" \
  -n "render alone (no ImageUpdater: pass through)" "$(run_in "$work/plain" "$work/cache")" \
  -n "generate, warm cache" "$(run_in "$work/app" "$work/cache")" \
  -n "generate, cold (empty cache each run)" --prepare "rm -rf $work/cold" \
  "$(run_in "$work/app" "$work/cold")" >/dev/null 2>&1
after=$(tag_requests)
cold_runs=33 # 3 warm-ups + 30 runs of the cold command; each lists 5 repositories
python3 - "$work/r.json" "$resources" "$changed" "$((after - before))" "$cold_runs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
resources, changed, requests, cold_runs = sys.argv[2:6]
print(f"app: {resources} resources, 5 governed images, {changed} image values injected")
print("| command | median | min–max | vs render alone |")
print("|---|---|---|---|")
base = r[0]["median"]
for x in r:
    print(f"| {x['command']} | {x['median']*1000:.1f} ms | {x['min']*1000:.1f}–{x['max']*1000:.1f} ms | +{(x['median']-base)*1000:.1f} ms |")
print(f"tag-list requests during the run: {requests} (= 5 per cold run x {cold_runs} cold runs: the warm runs sent none)"
      if int(requests) == 5 * int(cold_runs) else f"tag-list requests during the run: {requests}")
PY
