#!/usr/bin/env bash
# The main job on the embedded default: build; start a real registry on loopback (Debian's
# docker-registry, through the test harness, seeded with demo/web and demo/worker tags); then do
# what the Argo CD plugin does for the example application examples/apps/plain: resolve its
# ImageUpdater spec against that registry and render the app with the current images injected,
# exactly as cmp-server runs `imageupdater-cmp generate`. Everything stays on loopback and in a
# temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Everything the demo and later commands use (imageupdater-tls.so too: https registries need it),
# with ninja's progress on the terminal.
echo "== build (Release, build/; the first build takes several minutes on 2 cores)"
scripts/build.sh release imageupdater-cmp imageupdater-flux-source imageupdater-tls
cmp=$(realpath build/bin/imageupdater-cmp)

work=$(mktemp -d /tmp/imageupdater-demo.XXXXXX)
trap 'tests/harness/services.sh down "$work/svc" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
tests/harness/services.sh up "$work/svc" >/dev/null
# shellcheck disable=SC1091
source "$work/svc/env"

echo "== a registry on $REGISTRY_PLAIN (docker-registry, storage in $work): demo/web tags"
curl -s "$REGISTRY_PLAIN/v2/demo/web/tags/list"
echo

# The example app, pointed at this registry (the examples name 127.0.0.1:5000).
cp -r examples/apps/plain "$work/app"
find "$work/app" -type f -exec sed -i "s/127\.0\.0\.1:5000/$REGISTRY_PLAIN_HOST/g" {} +

echo "== validate the app's ImageUpdater spec"
"$cmp" validate -f "$work/app/imageupdater.yaml" && echo "ok"

echo "== resolve it (registry client, shared cache in $work/cache)"
"$cmp" resolve -f "$work/app/imageupdater.yaml" --cache-dir "$work/cache"

echo "== generate, as Argo CD's cmp-server runs it (cwd = the app; manifests on stdout, logs on stderr)"
# The environment Argo CD gives the plugin for kustomize/examples/application-plain.yaml: an
# env-only plugin source (so ARGOCD_APP_PARAMETERS is the text "null") with recurse on.
(cd "$work/app" && env ARGOCD_APP_NAME=demo-plain ARGOCD_APP_NAMESPACE=demo \
  ARGOCD_APP_SOURCE_PATH=. ARGOCD_APP_PARAMETERS=null ARGOCD_ENV_IMAGEUPDATER_RECURSE=true \
  IMAGEUPDATER_CACHE_DIR="$work/cache" "$cmp" generate 2>"$work/generate.log")
echo "== what generate logged"
cat "$work/generate.log"
