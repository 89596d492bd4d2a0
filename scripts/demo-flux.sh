#!/usr/bin/env bash
# The Flux path end to end on loopback: build; start a real registry (Debian's docker-registry)
# and a real git server (git daemon, lighttpd + git http-backend) through the test harness, with
# a deploy repository whose apps/web/deployment.yaml carries a `$imagepolicy` marker; run
# `imageupdater-flux-source serve` on an SQLite file; create a fluxcd ImageUpdater through the
# REST API with curl; fetch the artifact a Flux Kustomization would apply and show the image in
# it; push a newer tag and show the new revision. Everything stays in a temporary directory,
# removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release imageupdater-flux-source >/dev/null
serve=$(realpath build/bin/imageupdater-flux-source)

work=$(mktemp -d /tmp/imageupdater-flux-demo.XXXXXX)
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  tests/harness/services.sh down "$work/svc" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
tests/harness/services.sh up "$work/svc" >/dev/null
# shellcheck disable=SC1091
source "$work/svc/env"

echo "== a registry on $REGISTRY_PLAIN with demo/web tags, a git server on $GIT_HTTP_URL"
curl -s "$REGISTRY_PLAIN/v2/demo/web/tags/list"; echo
git --no-pager -C "$GIT_REPOS/deploy.git" show main:apps/web/deployment.yaml | grep image:

echo "== serve: REST API + control loop + artifacts, data in $work/data"
"$serve" serve --listen 127.0.0.1:0 --port-file "$work/port" --data "$work/data" \
  --cache-ttl 0s 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat "$work/port")"
api="$base/kapis/gitops.kubesphere.io/v1alpha1"

echo "== create the ImageUpdater (newest 1.x of demo/web, setters in apps/web, every 2s)"
curl -sf -X POST -H 'Content-Type: application/yaml' "$api/namespaces/demo/imageupdaters" \
  --data-binary @- >/dev/null <<YAML
apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata:
  name: web
spec:
  kind: fluxcd
  images: ["web=$REGISTRY_PLAIN_HOST/demo/web"]
  fluxcd:
    interval: 2s
    policy: {semver: {range: ">=1.0.0 <2.0.0"}}
    sourceRef: {kind: GitRepository, name: deploy, url: "$GIT_HTTP_URL/deploy.git"}
    git: {checkout: {ref: {branch: main}}}
    update: {path: apps/web}
YAML

wait_ready() { # until status.artifact.revision differs from $1
  for _ in $(seq 200); do
    rev=$(curl -s "$api/namespaces/demo/imageupdaters/web" | jq -r '.status.artifact.revision // ""')
    [[ -n $rev && $rev != "$1" ]] && return 0
    sleep 0.1
  done
  echo "no artifact: $(curl -s "$api/namespaces/demo/imageupdaters/web" | jq .status)" >&2
  return 1
}
wait_ready ""
echo "== status (what a Flux ExternalArtifact would say)"
curl -s "$api/namespaces/demo/imageupdaters/web" |
  jq '.status | {images: [.images[] | {alias, tag}], source, artifact, ready: .conditions[0]}'

show_artifact() {
  url=$(curl -s "$api/namespaces/demo/imageupdaters/web" | jq -r .status.artifact.url)
  digest=$(curl -s "$api/namespaces/demo/imageupdaters/web" | jq -r .status.artifact.digest)
  curl -sf "$url" -o "$work/artifact.tar.gz"
  echo "sha256 of the served bytes: sha256:$(sha256sum <"$work/artifact.tar.gz" | cut -d' ' -f1) (status: $digest)"
  tar -xzOf "$work/artifact.tar.gz" deployment.yaml | grep image:
}
echo "== the artifact, as kustomize-controller fetches it"
show_artifact
first=$rev

echo "== push demo/web:1.9.0 to the registry; the next check publishes a new revision"
python3 tests/harness/seed.py image "$REGISTRY_PLAIN" demo/web 2024-07-01T00:00:00Z 1.9.0 >/dev/null
wait_ready "$first"
show_artifact
echo "== the service's log (without the polling GETs)"
grep -v "msg=request method=GET" "$work/serve.log"
