#!/usr/bin/env bash
# Injection benchmark, whole processes: `imageupdater-cmp inject` (stream mode, stdin -> stdout)
# on N generated Deployments (bench/gen-manifests.sh: 2 containers + 1 initContainer each,
# images from 20 repositories, 5 of them governed), beside `sed -E` doing the same 5 rewrites
# as blind text substitutions and `kubectl kustomize` with the equivalent `images:` transformer,
# in the same run. Checks that the three produce the same multiset of image values, and
# measures peak RSS.
#   bench/inject.sh [BUILD_DIR] [N...]   (default: build 500 5000)
# KUSTOMIZE_RUNS (default 1 at N >= 2000, else 5): kubectl kustomize takes minutes at 5,000.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(500 5000)
bin=$(realpath "$build/bin/imageupdater-cmp")
work=$(mktemp -d /dev/shm/iu-inject.XXXXXX)
trap 'rm -rf "$work"' EXIT

digest=sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
inject_args=(--image ghcr.io/acme/svc-0=:1.2.3
             --image "ghcr.io/acme/svc-1=@$digest"
             --image ghcr.io/acme/svc-2=registry.acme.example/mirror/svc-2:2.0.0
             --image docker.io/library/nginx=:1.27.0
             --image 127.0.0.1:5000/tools/busybox=:1.37)
# The same five as text substitutions on `image:` lines (what a careful sed user would write).
cat >"$work/rewrites.sed" <<SED
s#^( *image: )ghcr\.io/acme/svc-0:[^ ]*\$#\1ghcr.io/acme/svc-0:1.2.3#
s#^( *image: )ghcr\.io/acme/svc-1(:[^@ ]*)?(@[^ ]*)?\$#\1ghcr.io/acme/svc-1@$digest#
s#^( *image: )ghcr\.io/acme/svc-2(:[^@ ]*)?\$#\1registry.acme.example/mirror/svc-2:2.0.0#
s#^( *image: )docker\.io/library/nginx:[^ ]*\$#\1docker.io/library/nginx:1.27.0#
s#^( *image: )127\.0\.0\.1:5000/tools/busybox:[^ ]*\$#\1127.0.0.1:5000/tools/busybox:1.37#
SED

images() { grep -E '^ *image: ' "$1" | sed -E 's/^ *image: //; s/^"(.*)"$/\1/' | sort; }

for n in "${sizes[@]}"; do
  dir="$work/n$n"
  bench/gen-manifests.sh "$n" "$dir" >/dev/null
  input="$dir/images/deployments.yaml"
  bytes=$(stat -c %s "$input")
  "$bin" inject "${inject_args[@]}" <"$input" >"$dir/ours.yaml" 2>/dev/null
  sed -E -f "$work/rewrites.sed" "$input" >"$dir/sed.yaml"
  kruns=${KUSTOMIZE_RUNS:-$([ "$n" -ge 2000 ] && echo 1 || echo 5)}
  kubectl kustomize "$dir/images" >"$dir/kustomize.yaml"
  same_sed=$(cmp -s <(images "$dir/ours.yaml") <(images "$dir/sed.yaml") && echo yes || echo NO)
  same_kust=$(cmp -s <(images "$dir/ours.yaml") <(images "$dir/kustomize.yaml") && echo yes || echo NO)
  changed=$(diff <(grep -E '^ *image: ' "$input") <(grep -E '^ *image: ' "$dir/ours.yaml") | grep -c '^>' || true)
  rss_ours=$( (/usr/bin/time -f %M "$bin" inject "${inject_args[@]}" <"$input" >/dev/null) 2>&1 | tail -1)
  # Both read stdin under sh -c (hyperfine 1.15 has no --input): the same ~1 ms for each.
  hyperfine --shell=sh --warmup 2 --runs 20 --export-json "$dir/fast.json" \
    "$bin inject ${inject_args[*]} <$input >/dev/null 2>&1" \
    "sed -E -f $work/rewrites.sed <$input >/dev/null" >/dev/null 2>&1
  hyperfine -N --warmup 0 --runs "$kruns" --export-json "$dir/kust.json" \
    "kubectl kustomize $dir/images" >/dev/null 2>&1
  python3 - "$dir/fast.json" "$dir/kust.json" "$n" "$bytes" "$rss_ours" "$changed" \
    "$same_sed" "$same_kust" <<'PY'
import json, sys
fast = json.load(open(sys.argv[1]))["results"]
kust = json.load(open(sys.argv[2]))["results"][0]
n, size, rss, changed, same_sed, same_kust = sys.argv[3:9]
ours, sed = fast
ms = lambda x: f"{x*1000:.1f} ms"
print(f"N={n}: {int(size)/1e6:.2f} MB, {changed} image values changed; same images as sed: {same_sed}, as kustomize: {same_kust}")
print("| command | median | min–max | vs ours |")
print("|---|---|---|---|")
for name, r in (("`imageupdater-cmp inject` (stream)", ours), ("`sed -E` (5 substitutions)", sed), (f"`kubectl kustomize` with `images:` ({len(kust['times'])} run(s))", kust)):
    print(f"| {name} | {ms(r['median'])} | {ms(r['min'])}–{ms(r['max'])} | {r['median']/ours['median']:.1f}× |")
print(f"peak RSS of inject: {int(rss)/1024:.1f} MiB ({int(rss)*1024/int(size):.2f}× the input)")
print()
PY
done
