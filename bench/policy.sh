#!/usr/bin/env bash
# Tag-selection benchmark, whole processes (start-up included), beside GNU `sort -V | tail -1`
# in the same run. Workload: tests/harness/gen-tags.sh (the list the peers were measured on).
#   bench/policy.sh [BUILD_DIR]      (default build; needs hyperfine: scripts/install-deps.sh)
# Prints a Markdown table (median ms, tags/s, ratio to sort -V) for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$(realpath "$build/bin/imageupdater-cmp")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "bench: hyperfine missing: run scripts/install-deps.sh" >&2; exit 2; }

printf '| tags | constraint | chosen | imageupdater-cmp median (min–max) | tags/s | `sort -V \\| tail -1` median | ratio |\n'
printf '|---|---|---|---|---|---|---|\n'
for n in 1000 10000 100000; do
  tests/harness/gen-tags.sh "$n" 42 >"$work/tags-$n.txt"
  for c in '^1.2' '>=1.0 <3.0 || ~5.1' '*'; do
    chosen=$("$bin" policy -c "$c" <"$work/tags-$n.txt")
    # Both commands run under sh -c so they pay the same shell start-up.
    hyperfine -N --warmup 3 --runs 30 --export-json "$work/r.json" \
      "sh -c '$bin policy -c \"$c\" < $work/tags-$n.txt'" \
      "sh -c 'sort -V $work/tags-$n.txt | tail -1'" >/dev/null 2>&1
    python3 - "$work/r.json" "$n" "$c" "$chosen" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
n, c, chosen = int(sys.argv[2]), sys.argv[3], sys.argv[4]
ours, peer = r[0], r[1]
med = lambda x: x["median"] * 1000
c_md = c.replace("|", "\\|")
print(f"| {n:,} | `{c_md}` | `{chosen}` | {med(ours):.2f} ms ({ours['min']*1000:.2f}–{ours['max']*1000:.2f}) "
      f"| {n / ours['median']:,.0f} | {med(peer):.1f} ms | {peer['median'] / ours['median']:.1f}× |")
PY
  done
done
