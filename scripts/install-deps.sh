#!/usr/bin/env bash
# The single source of the project's system dependencies (Debian 12 packages only).
# Used by the README's commands, by scripts/test.sh and so by .ci/run.
#   scripts/install-deps.sh           build + test dependencies
#   scripts/install-deps.sh --build   build dependencies only
# Idempotent: packages already installed are not fetched again; apt-get update runs only when
# something is missing.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config ccache
  libpoco-dev nlohmann-json3-dev libyaml-cpp-dev libgit2-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libre2-dev libcli11-dev libarchive-dev libsqlite3-dev
  libbenchmark-dev libjsonnet-dev
)
test_pkgs=(
  clang-19 libclang-rt-19-dev         # libFuzzer (clang 14-16 cannot compile libstdc++ 12 std::expected)
  python3 curl jq hyperfine wrk       # wrk: load runs of the REST API (bench/api.sh)
  docker-registry skopeo apache2-utils openssl   # integration tests: tests/harness (htpasswd = apache2-utils)
  git lighttpd lighttpd-mod-openssl python3-paramiko openssh-client  # tests/harness git servers
  jsonnet                             # the Jsonnet CLI: reference output for the plugin's Jsonnet tests
)

want=("${build_pkgs[@]}")
if [[ "${1:-}" != "--build" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
# Installing docker-registry (or lighttpd) would start the packaged service on :5000 (:80) on
# every interface on a machine without a policy-rc.d; the tests start their own servers on
# loopback, so forbid service starts for the duration of the install.
guard=""
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$guard" >/dev/null
  $SUDO chmod 755 "$guard"
  trap '$SUDO rm -f "$guard"' EXIT
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
