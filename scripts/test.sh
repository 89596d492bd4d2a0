#!/usr/bin/env bash
# The project's test command (the README's and CI's): installs what it needs, then builds and
# runs every test. Steps:
#   1. scripts/install-deps.sh            Debian packages, only the missing ones;
#      scripts/get-tools.sh               helm and kubectl (pinned, checksummed) for e2e tests
#      scripts/get-kube.sh                kube-apiserver and etcd built from their Go modules
#                                         (pinned; cached in .cache/kube) for the cluster tests
#   2. libFuzzer smoke run of each target (build-fuzz/, clang-19, 15 s each)
#   3. ASan+UBSan build + all tests       (build-asan/)
#   4. Release build + all tests          (build/, CMAKE_BUILD_TYPE=Release: what packagers type; GCC
#                                         12 at -O3 warns differently), last, so the run closes on
#                                         ctest's summary
# IU_SKIP_FUZZ=1 / IU_SKIP_ASAN=1 skip a step locally; CI runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
export CTEST_OUTPUT_ON_FAILURE=1
jobs=${IU_JOBS:-2}

scripts/install-deps.sh
# helm and kubectl for the plugin's end-to-end tests (not Debian packages); the tests that need
# them skip, saying so, when they cannot be had.
scripts/get-tools.sh || echo "test.sh: warning: helm/kubectl not fetched; their tests will skip" >&2
# kube-apiserver and etcd for the Kubernetes-mode tests (the first build takes minutes; later runs
# find them in .cache/kube). Without Go the tests that need them skip, saying so.
if command -v go >/dev/null; then
  scripts/get-kube.sh
else
  echo "test.sh: warning: Go is missing; the Kubernetes-mode tests will skip" >&2
fi

if [[ "${IU_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== libFuzzer smoke run" >&2
  scripts/fuzz.sh "${IU_FUZZ_SECONDS:-15}"
fi

if [[ "${IU_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== ASan+UBSan build and tests" >&2
  scripts/build.sh asan
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j "$jobs" --timeout 600
fi

echo "== release build and tests" >&2
scripts/build.sh release
ctest --test-dir build -j "$jobs" --timeout 300
