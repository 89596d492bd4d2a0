#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-19) and runs each for a short time.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 15)
# Seeds come from fuzz/corpus/<target>/; findings are written to build-fuzz/findings/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
targets=(version constraint reference spec yamlscan manifest api unpack http1)
scripts/build.sh fuzz "${targets[@]/#/fuzz_}"
mkdir -p build-fuzz/findings
status=0
for target in "${targets[@]}"; do
  work=$(mktemp -d)
  [[ -d fuzz/corpus/$target ]] && cp -r "fuzz/corpus/$target/." "$work/"
  echo "fuzz: $target for ${seconds}s" >&2
  if ! "build-fuzz/bin/fuzz_$target" "$work" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -max_len=65536 -artifact_prefix="build-fuzz/findings/$target-" -print_final_stats=0 \
        >"build-fuzz/findings/$target.log" 2>&1; then
    echo "fuzz: $target FAILED, see build-fuzz/findings/$target.log" >&2
    tail -40 "build-fuzz/findings/$target.log" >&2
    status=1
  fi
  rm -rf "$work"
done
exit $status
