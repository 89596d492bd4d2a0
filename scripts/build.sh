#!/usr/bin/env bash
# Configure and build one flavour of the project.
#   scripts/build.sh [release|asan|fuzz] [TARGET...]   (default release, all targets)
# Build trees: build/ (release), build-asan/ (ASan+UBSan), build-fuzz/ (clang-19 + libFuzzer).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=${IU_JOBS:-2}
case "$flavour" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan)    dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DIU_SANITIZE=ON -DIU_BENCH=OFF) ;;
  fuzz)    dir=build-fuzz
           args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-19 -DIU_FUZZ=ON
                 -DIU_TESTS=OFF -DIU_BENCH=OFF) ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
shift || true
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$dir" -j "$jobs" "${targets[@]}"
