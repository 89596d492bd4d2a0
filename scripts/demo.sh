#!/usr/bin/env bash
# The main job on the embedded default: build, validate the example ImageUpdater specs, and
# evaluate their tag policies against an example tag list.
# (Later: a real local registry on loopback and a render of an example application.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build
scripts/build.sh release >/dev/null
cmp=build/bin/imageupdater-cmp

echo "== validate examples/imageupdater.yaml"
$cmp validate -f examples/imageupdater.yaml

echo "== newest 1.25.x of examples/nginx-tags.txt (policy -c '~1.25' --explain)"
$cmp policy -c '~1.25' --explain <examples/nginx-tags.txt

echo "== newest release of any version, alpine variants ignored"
$cmp policy --ignore-tags '*-alpine,*-perl' <examples/nginx-tags.txt
