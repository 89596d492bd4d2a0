#!/usr/bin/env bash
# Smoke test of tests/harness/kube.sh: the admin (token and client certificate) can read, the
# unprivileged user is refused, and a restarted API server answers again.
set -euo pipefail
dir=${1:?usage: kube_harness_test.sh IT_KUBE_DIR}
env_file=$dir/env
# shellcheck disable=SC1090
source "$env_file"
if [ -n "${KUBE_SKIP:-}" ]; then
  echo "SKIPPED: $KUBE_SKIP"
  exit 0
fi
[ -x "$KUBECTL" ] || { echo "SKIPPED: no kubectl (scripts/get-tools.sh)"; exit 0; }
k() { "$KUBECTL" --kubeconfig "$KUBE_KUBECONFIG" "$@"; }
k get namespace default -o name | grep -qx namespace/default
k --context cert-admin auth whoami -o jsonpath='{.status.userInfo.username}' | grep -qx iu-cert-admin
if k --context user get configmaps -n default >/dev/null 2>&1; then
  echo "FAIL: iu-user may list configmaps" >&2
  exit 1
fi
curl -sf --cacert "$KUBE_CA" -H "Authorization: Bearer $KUBE_ADMIN_TOKEN" "$KUBE_SERVER/version" |
  grep -q "\"gitVersion\": \"$KUBE_VERSION\""
echo "kube harness: ok ($KUBE_VERSION at $KUBE_SERVER)"
