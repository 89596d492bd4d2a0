#!/usr/bin/env bash
# kube.sh up DIR | down DIR | restart-apiserver DIR
#
# A real Kubernetes control plane for the Kubernetes-mode tests, on loopback only, started the
# way envtest starts one: etcd and kube-apiserver (built from their Go modules by
# scripts/get-kube.sh; $IU_KUBE_BIN overrides the directory), nothing else (no scheduler, no
# controller manager, no nodes). The API server authenticates with a static token file and
# client certificates, authorises with RBAC, signs service-account tokens with a key generated
# here (so `kubectl create token` works) and runs without the ServiceAccount admission plugin.
#
# up DIR   writes DIR/env (KEY=VALUE lines) and DIR/kubeconfig (the admin, by token):
#            KUBE_SERVER        https://127.0.0.1:<port>
#            KUBE_CA            the CA of the serving certificate (and of client certificates)
#            KUBE_ADMIN_TOKEN   a member of system:masters
#            KUBE_USER_TOKEN    user "iu-user", no rights until a test binds some
#            KUBE_CLIENT_CERT / KUBE_CLIENT_KEY   user "iu-cert-admin" in system:masters
#            KUBE_KUBECONFIG    DIR/kubeconfig
#            KUBECTL            kubectl v1.32 (.cache/tools/bin) when present
#            KUBE_VERSION       the API server's version
#          When the binaries are missing and cannot be built (no Go), DIR/env holds only
#          KUBE_SKIP=<why> and up succeeds: the tests skip, saying why.
# down DIR stops etcd and the API server and removes DIR.
# restart-apiserver DIR
#          kills the API server (SIGKILL) and starts it again on the same port with the same
#          flags (etcd keeps the data): for the tests of watches that survive a restart.
set -euo pipefail
umask 022
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
readonly here root
readonly MARKER=.iu-kube
readonly ADMIN_TOKEN=iu-admin-t0ken USER_TOKEN=iu-user-t0ken

log() { printf 'kube.sh: %s\n' "$*" >&2; }

alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# stop_pid PID MATCH: SIGTERM, then SIGKILL after 5 s; only when PID's command line holds MATCH
# (a path of ours), so a recycled PID is never signalled.
stop_pid() {
  local pid=$1 match=$2 i
  alive "$pid" || return 0
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$match" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 250; i++)); do alive "$pid" || return 0; sleep 0.02; done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do alive "$pid" || return 0; sleep 0.02; done
}

down() {
  [ -d "$DIR" ] || return 0
  if [ ! -e "$DIR/$MARKER" ]; then
    log "refusing to touch $DIR: no $MARKER marker (not made by kube.sh up)"
    return 1
  fi
  local pid match
  for f in apiserver.pid etcd.pid; do
    [ -s "$DIR/$f" ] && read -r pid match < "$DIR/$f" && stop_pid "$pid" "$match"
  done
  local data
  data=$(readlink "$DIR/etcd" 2>/dev/null || true)
  case $data in /dev/shm/iu-kube-etcd.*) rm -rf -- "$data" ;; esac
  rm -rf -- "$DIR"
}

# wait_ready URL: the API server's /readyz answers 200 (up to 90 s: the first start of a fresh
# etcd runs every post-start hook).
wait_ready() {
  local i
  for ((i = 0; i < 900; i++)); do
    if curl -sf --max-time 2 --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" \
      "https://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1; then
      return 0
    fi
    alive "$(cut -d' ' -f1 "$DIR/apiserver.pid")" || { log "kube-apiserver exited"; return 1; }
    sleep 0.1
  done
  log "kube-apiserver not ready within 90 s"
  return 1
}

start_apiserver() {
  setsid "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    --tls-cert-file="$DIR/pki/apiserver.crt" --tls-private-key-file="$DIR/pki/apiserver.key" \
    --client-ca-file="$DIR/pki/ca.crt" --token-auth-file="$DIR/pki/tokens.csv" \
    --authorization-mode=RBAC \
    --service-account-key-file="$DIR/pki/sa.pub" \
    --service-account-signing-key-file="$DIR/pki/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-cluster-ip-range=10.0.0.0/24 --endpoint-reconciler-type=none \
    --disable-admission-plugins=ServiceAccount \
    --cert-dir="$DIR/pki/generated" \
    --storage-media-type=application/json \
    >>"$DIR/logs/kube-apiserver.log" 2>&1 </dev/null &
  echo "$! $DIR/pki/tokens.csv" > "$DIR/apiserver.pid"
}

pki() {
  local p=$DIR/pki
  mkdir -p "$p/generated"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=iu-test-kube-ca \
    -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
  # The serving certificate: 127.0.0.1 and localhost, and the in-cluster names.
  openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout "$p/apiserver.key" \
    -out "$p/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' > "$p/san.ext"
  openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
    -days 2 -extfile "$p/san.ext" -out "$p/apiserver.crt" 2>/dev/null
  # A client certificate: CN is the user name, O the groups.
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=iu-cert-admin" \
    -keyout "$p/client.key" -out "$p/client.csr" 2>/dev/null
  openssl x509 -req -in "$p/client.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
    -days 2 -out "$p/client.crt" 2>/dev/null
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  {
    echo "$ADMIN_TOKEN,iu-admin,iu-admin-uid,\"system:masters\""
    echo "$USER_TOKEN,iu-user,iu-user-uid"
  } > "$p/tokens.csv"
  chmod 0600 "$p"/*.key "$p/tokens.csv"
}

kubeconfig() {
  cat > "$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $DIR/pki/ca.crt
users:
- name: admin
  user:
    token: $ADMIN_TOKEN
- name: cert-admin
  user:
    client-certificate: $DIR/pki/client.crt
    client-key: $DIR/pki/client.key
- name: user
  user:
    token: $USER_TOKEN
contexts:
- name: admin
  context: {cluster: test, user: admin, namespace: default}
- name: cert-admin
  context: {cluster: test, user: cert-admin, namespace: default}
- name: user
  context: {cluster: test, user: user, namespace: default}
current-context: admin
EOF
  chmod 0600 "$DIR/kubeconfig"
}

up() {
  [ -d "$DIR" ] && { down || return 1; }
  mkdir -p "$DIR/logs"
  DIR=$(cd "$DIR" && pwd)
  echo up > "$DIR/$MARKER"
  BIN=${IU_KUBE_BIN:-}
  if [ -z "$BIN" ]; then
    BIN=$root/.cache/kube/$(sed -n 's/^k8s_version=\([^ ]*\).*/\1/p' "$root/scripts/get-kube.sh")/bin
    if [[ ! -x $BIN/kube-apiserver || ! -x $BIN/etcd ]]; then
      if ! command -v go >/dev/null; then
        echo "KUBE_SKIP=kube-apiserver and etcd are not built and Go is missing (scripts/get-kube.sh)" > "$DIR/env"
        log "Go missing: the Kubernetes tests will skip"
        return 0
      fi
      "$root/scripts/get-kube.sh" >&2
    fi
  fi
  pki
  local ports
  ports=$(python3 -B "$here/netutil.py" free-ports 3)
  read -r ETCD_PORT PEER_PORT API_PORT <<<"$(echo $ports)"
  # etcd's data on tmpfs when there is one: fsync on a disk makes every write ~10 ms slower.
  local data=$DIR/etcd
  if [ -w /dev/shm ]; then
    data=$(mktemp -d /dev/shm/iu-kube-etcd.XXXXXX)
    ln -s "$data" "$DIR/etcd"
  fi
  setsid "$BIN/etcd" --name iu-test --data-dir "$data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-cluster "iu-test=http://127.0.0.1:$PEER_PORT" \
    --unsafe-no-fsync --log-level warn \
    >>"$DIR/logs/etcd.log" 2>&1 </dev/null &
  echo "$! $data" > "$DIR/etcd.pid"
  start_apiserver
  echo "$ETCD_PORT $API_PORT" > "$DIR/ports"
  if ! wait_ready; then
    tail -n 30 "$DIR/logs/etcd.log" "$DIR/logs/kube-apiserver.log" >&2 || true
    down
    return 1
  fi
  kubeconfig
  local kubectl=$root/.cache/tools/bin/kubectl
  [ -x "$kubectl" ] || kubectl=$(command -v kubectl || true)
  {
    echo "KUBE_SERVER=https://127.0.0.1:$API_PORT"
    echo "KUBE_CA=$DIR/pki/ca.crt"
    echo "KUBE_ADMIN_TOKEN=$ADMIN_TOKEN"
    echo "KUBE_USER_TOKEN=$USER_TOKEN"
    echo "KUBE_CLIENT_CERT=$DIR/pki/client.crt"
    echo "KUBE_CLIENT_KEY=$DIR/pki/client.key"
    echo "KUBE_KUBECONFIG=$DIR/kubeconfig"
    echo "KUBECTL=$kubectl"
    echo "KUBE_VERSION=$("$BIN/kube-apiserver" --version | cut -d' ' -f2)"
  } > "$DIR/env"
  echo "$BIN" > "$DIR/bin"
  log "kube-apiserver $(cut -d' ' -f2 <<<"$("$BIN/kube-apiserver" --version)") ready on https://127.0.0.1:$API_PORT"
}

restart_apiserver() {
  [ -e "$DIR/$MARKER" ] || { log "no kube.sh up in $DIR"; return 1; }
  DIR=$(cd "$DIR" && pwd)
  BIN=$(cat "$DIR/bin")
  read -r ETCD_PORT API_PORT < "$DIR/ports"
  local pid _
  read -r pid _ < "$DIR/apiserver.pid"
  if alive "$pid"; then
    kill -KILL "$pid"
    for ((i = 0; i < 250; i++)); do alive "$pid" || break; sleep 0.02; done
  fi
  # The port is free once nothing accepts on it any more (a dying process may hold it a moment).
  for ((i = 0; i < 250; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$API_PORT") 2>/dev/null || break
    sleep 0.02
  done
  start_apiserver
  wait_ready
}

DIR=${2:-}
[ -n "$DIR" ] || { echo "usage: kube.sh up|down|restart-apiserver DIR" >&2; exit 2; }
case ${1:-} in
  up) up ;;
  down) down ;;
  restart-apiserver) restart_apiserver ;;
  *) echo "usage: kube.sh up|down|restart-apiserver DIR" >&2; exit 2 ;;
esac
