#!/usr/bin/env bash
# imageupdater-flux-source serve --kubernetes against a real kube-apiserver (tests/harness/
# kube.sh) and the harness's registry, driven by the real kubectl:
#   1. two replicas run with only the ServiceAccount rights of kustomize/flux-source/rbac.yaml;
#   2. an ImageUpdater applied with kubectl gets its status (images from the registry, kstatus
#      conditions, observedGeneration), printer columns and an Event; a spec change is followed;
#   3. spec.suspend and the reconcile.fluxcd.io/requestedAt annotation are honoured;
#   4. the REST API reads and writes the same objects as its caller (401 without a token, the
#      API server's 403 for a caller without rights, its 409 for a stale resourceVersion);
#   5. the API server restarts: the watch comes back and changes are still followed;
#   6. kill -9 of the leader: the standby takes the Lease over and reconciles (takeover time
#      printed).
#   kube_service_test.sh IT_KUBE_DIR IT_SERVICES_ENV SOURCE_DIR FLUX_SOURCE_BINARY
set -euo pipefail
kdir=${1:?} services_env=${2:?} src=${3:?} bin=${4:?}
# shellcheck disable=SC1090,SC1091
source "$kdir/env"
if [ -n "${KUBE_SKIP:-}" ]; then echo "SKIPPED: $KUBE_SKIP"; exit 0; fi
[ -x "${KUBECTL:-}" ] || { echo "SKIPPED: no kubectl (scripts/get-tools.sh)"; exit 0; }
# shellcheck disable=SC1090
source "$services_env"
# shellcheck disable=SC1090
source "$EXPECTED"
k() { "$KUBECTL" --kubeconfig "$KUBE_KUBECONFIG" "$@"; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if [ -n "${KEEP_TMP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) < deadline)) || return 1
    sleep 0.1
  done
}
ns=team-$$
sys=flux-system

# ---- 1. the CRD, the service account and its RBAC (nothing more)
k apply -k "$src/kustomize/crd" >/dev/null
k wait --for=condition=Established --timeout=60s crd/imageupdaters.gitops.kubesphere.io >/dev/null
for n in "$ns" "$sys"; do k create namespace "$n" --dry-run=client -o yaml | k apply -f - >/dev/null; done
k -n "$sys" create serviceaccount imageupdater-flux-source --dry-run=client -o yaml | k apply -f - >/dev/null
k apply -n "$sys" -f "$src/kustomize/flux-source/rbac.yaml" >/dev/null
token=$(k -n "$sys" create token imageupdater-flux-source --duration=1h)
cat >"$tmp/sa.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$KUBE_SERVER", certificate-authority: "$KUBE_CA"}}]
users: [{name: sa, user: {token: "$token"}}]
contexts: [{name: sa, context: {cluster: c, user: sa, namespace: $sys}}]
current-context: sa
YAML
# The service account may not do what it was not given (a check of the RBAC itself).
can_i() { k --kubeconfig "$tmp/sa.kubeconfig" auth can-i "$@" 2>/dev/null || true; }
[ "$(can_i create imageupdaters.gitops.kubesphere.io -n "$ns")" = no ] ||
  fail "the service account may create ImageUpdaters"
[ "$(can_i get secrets -n "$ns")" = no ] || fail "the service account may read secrets"
[ "$(can_i update imageupdaters.gitops.kubesphere.io --subresource=status -n "$ns")" = yes ] ||
  fail "the service account may not write status"

start_replica() { # NAME [serve flags]
  mkdir -p "$tmp/$1"
  POD_NAME=$1 "$bin" serve --kubernetes --kubeconfig "$tmp/sa.kubeconfig" "${@:2}" \
    --listen 127.0.0.1:0 --port-file "$tmp/$1/port" --metrics-listen 127.0.0.1:0 \
    --data "$tmp/$1/data" --interval 1h --workers 2 --log-level debug \
    --leader-election-lease-duration 4s --leader-election-renew-deadline 3s \
    --leader-election-retry-period 500ms >"$tmp/$1/log" 2>&1 &
  pids+=($!)
  eval "pid_$1=$!"
  wait_for 20 test -s "$tmp/$1/port" || { fail "replica $1 did not start: $(tail -5 "$tmp/$1/log")"; exit 1; }
}
# Replica a serves TLS (the harness's serving certificate for 127.0.0.1), so kubectl sends it
# a bearer token.
start_replica a --tls-cert "$kdir/pki/apiserver.crt" --tls-key "$kdir/pki/apiserver.key"
start_replica b
port_a=$(cat "$tmp/a/port")
holder() { k -n "$sys" get lease imageupdater-flux-source -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
wait_for 20 sh -c "test -n \"\$($KUBECTL --kubeconfig $KUBE_KUBECONFIG -n $sys get lease imageupdater-flux-source -o jsonpath='{.spec.holderIdentity}')\"" ||
  fail "no replica took the Lease"
leader=$(holder)
echo "leader: $leader"

# ---- 2. status from the registry, columns, events, a spec change
apply_web() { # CONSTRAINT [EXTRA_SPEC_LINE]
  cat <<YAML | k apply -f - >/dev/null
apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata: {name: web, namespace: $ns}
spec:
  kind: argocd
  ${2:-suspend: false}
  images: ["web=$REGISTRY_PLAIN_HOST/demo/web:$1", "worker=$REGISTRY_PLAIN_HOST/demo/worker"]
  argocd: {app: {name: web}, update-strategy: {worker: newest-build}}
YAML
}
jp() { k -n "$ns" get imageupdater.gitops.kubesphere.io web -o jsonpath="$1"; }
observed_is() { [ "$(jp '{.status.observedGeneration}')" = "$1" ]; }
apply_web '~1.2'
wait_for 30 observed_is 1 || fail "no status after 30 s: $(jp '{.status}')"
[ "$(jp '{.status.images[0].tag}')" = "$DEMO_WEB_NEWEST_1_2" ] || fail "web tag: $(jp '{.status.images}')"
[ "$(jp '{.status.images[1].tag}')" = "$DEMO_WORKER_NEWEST_BUILD" ] || fail "worker tag: $(jp '{.status.images}')"
[ "$(jp '{.status.conditions[?(@.type=="Ready")].status}')" = True ] || fail "Ready: $(jp '{.status.conditions}')"
k -n "$ns" wait --for=condition=Ready imageupdater.gitops.kubesphere.io/web --timeout=5s >/dev/null ||
  fail "kubectl wait --for=condition=Ready"
row=$(k -n "$ns" get imageupdaters.gitops.kubesphere.io web --no-headers)
[[ $row == *argocd*True* ]] || fail "printer columns: $row"
wait_for 10 sh -c "$KUBECTL --kubeconfig $KUBE_KUBECONFIG -n $ns get events --field-selector involvedObject.name=web -o name | grep -q ." ||
  fail "no Event for web"
apply_web '^1.0'
wait_for 30 observed_is 2 || fail "spec change not followed: $(jp '{.status}')"
[ "$(jp '{.status.images[0].tag}')" = 1.3.0 ] || fail "after ^1.0: $(jp '{.status.images}')"

# ---- 3. suspend, then requestedAt
apply_web '~1.2' 'suspend: true'
sleep 2
observed_is 2 || fail "a suspended object was reconciled: $(jp '{.status.observedGeneration}')"
apply_web '~1.2' 'suspend: false'
wait_for 30 observed_is 4 || fail "resume not followed: $(jp '{.status}')"
before=$(jp '{.status.lastCheckTime}')
sleep 1.1 # lastCheckTime has seconds
k -n "$ns" annotate --overwrite imageupdater.gitops.kubesphere.io web \
  reconcile.fluxcd.io/requestedAt="$(date -u +%FT%TZ)" >/dev/null
asked=$(k -n "$ns" get imageupdater.gitops.kubesphere.io web \
  -o jsonpath='{.metadata.annotations.reconcile\.fluxcd\.io/requestedAt}')
changed() { [ "$(jp '{.status.lastCheckTime}')" != "$before" ]; }
wait_for 30 changed || fail "requestedAt did not trigger a reconcile"
handled() { [ "$(jp '{.status.lastHandledReconcileAt}')" = "$asked" ]; }
wait_for 10 handled || fail "status.lastHandledReconcileAt: '$(jp '{.status.lastHandledReconcileAt}')', want '$asked'"

# ---- 4. the REST API as its caller
api=https://127.0.0.1:$port_a/kapis/gitops.kubesphere.io/v1alpha1/namespaces/$ns/imageupdaters
code() { curl -s --cacert "$KUBE_CA" -o "$tmp/body" -w '%{http_code}' "$@"; }
[ "$(code "$api/web")" = 401 ] || fail "no token: $(cat "$tmp/body")"
[ "$(code -H "Authorization: Bearer $KUBE_USER_TOKEN" "$api/web")" = 403 ] ||
  fail "a caller without rights: $(cat "$tmp/body")"
[ "$(code -H "Authorization: Bearer $KUBE_ADMIN_TOKEN" "$api/web")" = 200 ] ||
  fail "admin read: $(cat "$tmp/body")"
rv=$(jq -r .metadata.resourceVersion "$tmp/body")
jq '.metadata.resourceVersion = "1"' "$tmp/body" >"$tmp/stale.json"
[ "$(code -X PUT -H "Authorization: Bearer $KUBE_ADMIN_TOKEN" -H 'Content-Type: application/json' \
  --data-binary @"$tmp/stale.json" "$api/web")" = 409 ] || fail "stale PUT: $(cat "$tmp/body")"
cat >"$tmp/new.json" <<JSON
{"apiVersion":"gitops.kubesphere.io/v1alpha1","kind":"ImageUpdater","metadata":{"name":"api-made"},
 "spec":{"kind":"argocd","images":["web=$REGISTRY_PLAIN_HOST/demo/web:~1.2"],"argocd":{"app":{"name":"x"}}}}
JSON
[ "$(code -X POST -H "Authorization: Bearer $KUBE_ADMIN_TOKEN" -H 'Content-Type: application/json' \
  --data-binary @"$tmp/new.json" "$api")" = 201 ] || fail "create through the API: $(cat "$tmp/body")"
k -n "$ns" get imageupdater.gitops.kubesphere.io api-made >/dev/null || fail "the API's object is not in the cluster"
[ "$rv" != "" ] || fail "no resourceVersion"
# kubectl against the service, as the admin and as a user without rights
kk() { "$KUBECTL" --server "https://127.0.0.1:$port_a" --certificate-authority "$KUBE_CA" "$@"; }
kk --token "$KUBE_ADMIN_TOKEN" -n "$ns" get imageupdaters >"$tmp/out" 2>&1 || fail "kubectl get via the service: $(cat "$tmp/out")"
grep -q '^web ' "$tmp/out" || fail "kubectl get via the service does not list web: $(cat "$tmp/out")"
kk --token "$KUBE_ADMIN_TOKEN" -n "$ns" delete imageupdater api-made >/dev/null 2>&1 ||
  fail "kubectl delete via the service"
if kk --token "$KUBE_USER_TOKEN" -n "$ns" get imageupdaters >"$tmp/out" 2>&1; then
  fail "kubectl as a user without rights could list"
fi
grep -q Forbidden "$tmp/out" || fail "no Forbidden for a user without rights: $(cat "$tmp/out")"

# ---- 5. the API server restarts; the watch comes back
"$src/tests/harness/kube.sh" restart-apiserver "$kdir" >/dev/null 2>&1 || fail "restart-apiserver"
apply_web '^1.0'
wait_for 60 observed_is 5 || fail "after an API server restart: $(jp '{.status.observedGeneration}')"

# ---- 6. kill -9 the leader; the standby takes over
leader=$(holder)
case $leader in a*) victim=$pid_a; survivor=b ;; b*) victim=$pid_b; survivor=a ;; *) fail "holder '$leader'"; victim= ;; esac
if [ -n "$victim" ]; then
  killed_at=$(now_ms)
  kill -9 "$victim"
  took_over() { [[ $(holder) == $survivor* ]]; }
  wait_for 30 took_over || fail "the standby did not take over: holder $(holder)"
  echo "takeover: $(($(now_ms) - killed_at)) ms (lease duration 4 s)"
  apply_web '~1.2'
  wait_for 30 observed_is 6 || fail "the new leader does not reconcile: $(jp '{.status.observedGeneration}')"
fi

if ((failures)); then
  for r in a b; do echo "--- replica $r" >&2; tail -n 40 "$tmp/$r/log" >&2; done
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "serve --kubernetes: ok"
