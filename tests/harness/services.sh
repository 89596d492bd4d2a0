#!/usr/bin/env bash
# services.sh up DIR | down DIR
#
# Starts (up) or stops (down) every service the integration tests talk to, on loopback only:
#   five distribution 2.8 registries sharing one seeded storage (plain, htpasswd basic auth,
#   bearer-token auth with and without anonymous pull, TLS), the bearer-token server, the
#   paginating proxy (relative, absolute and foreign-host Link headers), the fault-injection
#   server, and three git servers of the seeded bare repository deploy.git: `git daemon`
#   (git://), lighttpd running git-http-backend (anonymous, basic-auth and bearer-token paths,
#   over http and https) and ssh_git_server.py (ssh, public keys). Every port is chosen free at
#   run time (never a fixed one: parallel runs and the packaged docker-registry service on
#   :5000 cannot collide with us).
#
# up DIR   writes DIR/env (KEY=VALUE lines: endpoints, credentials, CA paths, PIDS) and
#          DIR/expected (seeded content and the answers tests check); see README.md here.
#          Registry storage and run files go to a fresh /dev/shm/iu-services.XXXXXX when DIR is
#          not on tmpfs and /dev/shm is writable (seeding is ~3x faster there); DIR/run points
#          at it. Logs stay in DIR/logs. A DIR left by an earlier run is torn down first.
#          Exits non-zero, with the tail of every log, if anything fails to come up.
# down DIR stops every process up started (by PID, checked against its command line) and
#          removes DIR and the storage. Safe to call twice, or after a failed up.
#
# Needs: docker-registry, htpasswd (apache2-utils), openssl, curl, python3, git, lighttpd with
# mod_openssl, ssh-keygen, python3-paramiko for /usr/bin/python3 (scripts/install-deps.sh).
set -euo pipefail
umask 022
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here
readonly MARKER=.iu-services   # marks a DIR as ours: down deletes nothing else
readonly REGISTRY_BIN=/usr/bin/docker-registry

# Fixed test-only credentials (the registries are reachable from loopback only).
readonly BASIC_USER=alice BASIC_PASS=basic-s3cret
readonly TOKEN_USER=carol TOKEN_PASS=token-s3cret
readonly FAULTS_USER=faultuser FAULTS_PASS=faultpass
readonly GIT_USER=gitbot GIT_PASSWORD=git-s3cret GIT_BEARER_TOKEN=git-bearer-t0ken
readonly GIT_SSH_PASSPHRASE=ssh-key-s3cret
readonly PAGE_SIZE=100

log() { printf 'services.sh: %s\n' "$*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# mark WHAT: appends "<ms since up started> WHAT" to DIR/logs/timing.log (where the time goes)
mark() { echo "$(( $(now_ms) - START_MS )) ms: $*" >> "$LOGS/timing.log"; }
py() { python3 -B "$@"; }   # -B: no __pycache__ in the source tree

# alive PID: running and not a zombie. Daemons outlive `up`, so they are reparented to PID 1,
# which may reap them only seconds after they exit: a <defunct> entry counts as gone.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }             # the command name may hold spaces and ')'
  [ "${stat%% *}" != Z ]
}

# ours PID RUNDIR: the process is one we started (its command line names our run dir), so a
# recycled PID is never signalled.
ours() {
  local cmdline
  cmdline=$(tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$2"* ]]
}

# stop_pids RUNDIR PID...: SIGTERM, up to 5 s grace, then SIGKILL. Every service here exits on
# SIGTERM at once (no drain timeout configured).
stop_pids() {
  local rundir=$1 pid i; shift
  local live=()
  for pid in "$@"; do
    if alive "$pid" && ours "$pid" "$rundir"; then
      kill -TERM "$pid" 2>/dev/null && live+=("$pid")
    fi
  done
  for pid in "${live[@]}"; do
    for ((i = 0; i < 250; i++)); do alive "$pid" || break; sleep 0.02; done
    if alive "$pid"; then
      log "pid $pid ignored SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.02; done
    fi
    wait "$pid" 2>/dev/null || true   # reaps it at once when it is our own child (failed up)
  done
}

# down DIR (also the cleanup of a failed or stale up)
down() {
  local dir=$1 rundir pids=() pid _
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  if [ ! -e "$dir/$MARKER" ]; then
    log "refusing to touch $dir: no $MARKER marker (not made by services.sh up)"
    return 1
  fi
  rundir=$(cat "$dir/$MARKER")
  if [ -s "$dir/pids" ]; then
    while read -r pid _; do pids+=("$pid"); done < "$dir/pids"
  fi
  if ((${#pids[@]})); then stop_pids "$rundir" "${pids[@]}"; fi
  # the run dir is either DIR/run itself or a /dev/shm/iu-services.* dir that DIR/run links to
  case $rundir in
    "$dir/run" | /dev/shm/iu-services.*) rm -rf -- "$rundir" ;;
    *) log "not removing unexpected run dir '$rundir'" ;;
  esac
  rm -rf -- "$dir"
}

# ---------------------------------------------------------------------------------------- up

# spawn NAME CMD...: starts CMD in its own session (so no terminal or test-runner signal
# reaches it), stdio away from our caller's pipes (else ctest would wait for them to close),
# and records its PID at once so a failing up still stops it. PID in SPAWNED_PID.
spawn() {
  local name=$1; shift
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  SPAWNED_PID=$!
  echo "$SPAWNED_PID $name" >> "$DIR/pids"
}

# wait_port_file FILE PID NAME: a python service writes its bound port(s) to FILE once it
# listens. Up to 10 s.
wait_port_file() {
  local i
  for ((i = 0; i < 500; i++)); do
    [ -s "$1" ] && return 0
    alive "$2" || { log "$3 exited during startup"; return 1; }
    sleep 0.02
  done
  log "$3 did not start listening within 10 s"
  return 1
}

# listens PID PORT: PID owns the LISTEN socket on 127.0.0.1:PORT (its fds against the inode in
# /proc/net/tcp: local address as little-endian hex IPv4 + hex port, state 0A = LISTEN).
listens() {
  local inode
  while read -r inode; do
    [ -n "$(find "/proc/$1/fd" -maxdepth 1 -lname "socket:?$inode?" -print -quit 2>/dev/null)" ] && return 0
  done < <(awk -v addr="$(printf '0100007F:%04X' "$2")" '$2 == addr && $4 == "0A" { print $10 }' /proc/net/tcp)
  return 1
}

# curl for probes: never via a proxy, never the environment's CA bundle (SSL_CERT_FILE,
# CURL_CA_BUNDLE may point at the system bundle): our CA is passed explicitly.
probe() {
  curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 2 --cacert "$RUN/tls/ca.pem" "$@" || true
}

# yaml_quote STRING: a single-quoted YAML scalar
yaml_quote() { printf "'%s'" "${1//\'/\'\'}"; }

# Registries. launch_registry NAME SCHEME AUTH_YAML writes RUN/NAME.yml and starts
# docker-registry on a free port without waiting; await_registry NAME waits until it is ready.
# Launching all before awaiting any overlaps their start-up (70 ms each on an idle machine,
# several hundred ms on a busy one).
declare -A REG_SCHEME REG_AUTH REG_PORT REG_PID
FREE_PORTS=()

# take_port: a free port in TAKEN_PORT (one python run fetches several; see netutil.py for the
# race this leaves, which the callers' readiness checks cover).
take_port() {
  ((${#FREE_PORTS[@]})) || mapfile -t FREE_PORTS < <(py "$here/netutil.py" free-ports 6)
  TAKEN_PORT=${FREE_PORTS[0]:?no free port}
  FREE_PORTS=("${FREE_PORTS[@]:1}")
}

launch_registry() {
  local name=$1 scheme=$2 auth=$3 cfg="$RUN/$1.yml" port
  REG_SCHEME[$name]=$scheme REG_AUTH[$name]=$auth
  take_port
  port=$TAKEN_PORT
  {
    cat <<YAML
# written by tests/harness/services.sh; storage shared by all the harness's registries
version: 0.1
log:
  level: warn
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $(yaml_quote "$RUN/storage")
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: ci-only-not-a-secret
YAML
    if [ "$scheme" = https ]; then
      printf '  tls:\n    certificate: %s\n    key: %s\n' \
        "$(yaml_quote "$RUN/tls/server.pem")" "$(yaml_quote "$RUN/tls/server.key")"
    fi
    printf '%s' "$auth"
  } > "$cfg"
  spawn "$name" "$REGISTRY_BIN" serve "$cfg"
  REG_PID[$name]=$SPAWNED_PID REG_PORT[$name]=$port
}

# await_registry NAME: ready = GET /v2/ answers 200/401 AND the listener on the port is our PID
# (else the probe may have talked to whoever took the port between netutil.py and the
# registry's bind; the registry then dies with "address already in use"). In that case, or if
# it dies, relaunch on a fresh port: three tries, 10 s each.
await_registry() {
  local name=$1 attempt i pid port code
  for attempt in 1 2 3; do
    pid=${REG_PID[$name]} port=${REG_PORT[$name]}
    for ((i = 0; i < 500; i++)); do
      alive "$pid" || break
      code=$(probe "${REG_SCHEME[$name]}://127.0.0.1:$port/v2/")
      if [ "$code" = 200 ] || [ "$code" = 401 ]; then
        listens "$pid" "$port" && return 0
        break
      fi
      sleep 0.02
    done
    stop_pids "$RUN" "$pid"
    [ "$attempt" = 3 ] && break
    log "$name: try $attempt on port $port failed (port taken, or the registry died); retrying"
    launch_registry "$name" "${REG_SCHEME[$name]}" "${REG_AUTH[$name]}"
  done
  log "$name did not come up"
  return 1
}

# ------------------------------------------------------------------------------ git servers
# The bare repositories under RUN/git/repos (deploy.git, seeded by git-seed.sh; tests may add
# their own there) are served by two processes:
#   git daemon   git://127.0.0.1:P/<repo>        anonymous fetch and push
#   lighttpd     http://127.0.0.1:H/git/<repo>     anonymous fetch (git-http-backend as CGI)
#                http://127.0.0.1:H/auth/<repo>    basic auth GIT_USER/GIT_PASSWORD (fetch+push)
#                http://127.0.0.1:H/bearer/<repo>  "Authorization: Bearer GIT_BEARER_TOKEN"
#                                                  required, else 403 (fetch only)
#                http://127.0.0.1:H/moved/<repo>   301 to /auth/<repo> (same origin)
#                http://127.0.0.1:H/elsewhere/<r>  301 to http://localhost:H/auth/<r> (another
#                                                  origin)
#                https://localhost:S/...           the same three paths over TLS (the harness's
#                                                  server cert: SAN DNS:localhost, IP:127.0.0.1)
#   ssh_git_server.py  ssh://git@127.0.0.1:Q/<repo>  public-key auth (RUN/ssh/authorized_keys),
#                                                  fetch only; paramiko, no system sshd
# Both are relaunched on fresh ports when they die at start (a port taken between netutil.py
# and their bind), like the registries.

# await_listening PID PORT...: PID is alive and owns a LISTEN socket on every PORT (10 s).
await_listening() {
  local pid=$1 i port ok; shift
  for ((i = 0; i < 500; i++)); do
    alive "$pid" || return 1
    ok=1
    for port in "$@"; do listens "$pid" "$port" || { ok=0; break; }; done
    [ "$ok" = 1 ] && return 0
    sleep 0.02
  done
  return 1
}

launch_git_daemon() {
  take_port
  GIT_DAEMON_PORT=$TAKEN_PORT
  spawn git-daemon "$(git --exec-path)/git-daemon" --reuseaddr --listen=127.0.0.1 --port="$GIT_DAEMON_PORT" \
    --base-path="$RUN/git/repos" --export-all --enable=receive-pack --informative-errors \
    "$RUN/git/repos"
  GIT_DAEMON_PID=$SPAWNED_PID
}

# write_lighttpd_conf: RUN/git/lighttpd.conf for GIT_HTTP_PORT and GIT_HTTPS_PORT
write_lighttpd_conf() {
  local g="$RUN/git" backend=/usr/lib/git-core/git-http-backend
  cat > "$g/lighttpd.conf" <<CONF
# written by tests/harness/services.sh
server.modules = ( "mod_auth", "mod_authn_file", "mod_access", "mod_alias", "mod_setenv",
                   "mod_redirect", "mod_cgi", "mod_openssl", "mod_accesslog" )
server.bind = "127.0.0.1"
server.port = $GIT_HTTP_PORT
server.document-root = "$g/www"
server.errorlog = "$LOGS/lighttpd-error.log"
accesslog.filename = "$g/access.log"
accesslog.format = "%h %t \"%r\" %>s host=%V user=%u authorization=\"%{Authorization}i\""
server.max-request-size = 0
\$HTTP["url"] =~ "^/git/" {
  alias.url = ( "/git/" => "$backend/" )
  cgi.assign = ( "" => "" )
  setenv.set-environment = ( "GIT_PROJECT_ROOT" => "$g/repos", "GIT_HTTP_EXPORT_ALL" => "1" )
}
\$HTTP["url"] =~ "^/auth/" {
  alias.url = ( "/auth/" => "$backend/" )
  cgi.assign = ( "" => "" )
  setenv.set-environment = ( "GIT_PROJECT_ROOT" => "$g/repos", "GIT_HTTP_EXPORT_ALL" => "1" )
  auth.backend = "htpasswd"
  auth.backend.htpasswd.userfile = "$g/htpasswd"
  auth.require = ( "" => ( "method" => "basic", "realm" => "git", "require" => "valid-user" ) )
}
\$HTTP["url"] =~ "^/bearer/" {
  \$REQUEST_HEADER["Authorization"] == "Bearer $GIT_BEARER_TOKEN" {
    alias.url = ( "/bearer/" => "$backend/" )
    cgi.assign = ( "" => "" )
    setenv.set-environment = ( "GIT_PROJECT_ROOT" => "$g/repos", "GIT_HTTP_EXPORT_ALL" => "1" )
  } else {
    url.access-deny = ( "" )
  }
}
# redirects: /moved/ to /auth/ on the same origin, /elsewhere/ to /auth/ on another origin
# (localhost instead of 127.0.0.1: same server, another origin for a client)
url.redirect = ( "^/moved/(.*)\$" => "/auth/\$1",
                 "^/elsewhere/(.*)\$" => "http://localhost:$GIT_HTTP_PORT/auth/\$1" )
url.redirect-code = 301
\$SERVER["socket"] == "127.0.0.1:$GIT_HTTPS_PORT" {
  ssl.engine = "enable"
  ssl.pemfile = "$RUN/tls/server.pem"
  ssl.privkey = "$RUN/tls/server.key"
}
CONF
}

launch_lighttpd() {
  take_port
  GIT_HTTP_PORT=$TAKEN_PORT
  take_port
  GIT_HTTPS_PORT=$TAKEN_PORT
  write_lighttpd_conf
  lighttpd -tt -f "$RUN/git/lighttpd.conf" >>"$LOGS/lighttpd.log" 2>&1 || {
    log "lighttpd rejects $RUN/git/lighttpd.conf"; return 1; }
  spawn lighttpd lighttpd -D -f "$RUN/git/lighttpd.conf"
  GIT_HTTP_PID=$SPAWNED_PID
}

# make_ssh_keys: RUN/ssh/: the server's host key and four client keys, three of them in
# authorized_keys: ed25519 in OpenSSH format, RSA in PEM format, ed25519 with a passphrase;
# "other" is not authorized.
make_ssh_keys() {
  local s="$RUN/ssh"
  mkdir -p "$s"
  ssh-keygen -q -t ed25519 -N '' -C harness-host -f "$s/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C harness-client -f "$s/client_ed25519"
  ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -C harness-client-rsa -f "$s/client_rsa.pem"
  ssh-keygen -q -t ed25519 -N "$GIT_SSH_PASSPHRASE" -C harness-client-enc -f "$s/client_encrypted"
  ssh-keygen -q -t ed25519 -N '' -C harness-other -f "$s/other_ed25519"
  cat "$s/client_ed25519.pub" "$s/client_rsa.pem.pub" "$s/client_encrypted.pub" > "$s/authorized_keys"
}

launch_ssh_server() {
  rm -f "$RUN/ssh/port"
  spawn ssh-git-server /usr/bin/python3 -B "$here/ssh_git_server.py" --root "$RUN/git/repos" \
    --host-key "$RUN/ssh/host_ed25519" --authorized-keys "$RUN/ssh/authorized_keys" \
    --port-file "$RUN/ssh/port" --log "$RUN/ssh/auth.jsonl"
  GIT_SSH_PID=$SPAWNED_PID
}

# start_git_servers: seeds deploy.git, launches the servers without waiting (await_git_servers)
start_git_servers() {
  mkdir -p "$RUN/git/repos" "$RUN/git/www"
  bash "$here/git-seed.sh" "$RUN/git/repos" > "$RUN/expected.git" 2>>"$LOGS/git-seed.log"
  htpasswd -B -b -c "$RUN/git/htpasswd" "$GIT_USER" "$GIT_PASSWORD" 2>>"$LOGS/openssl.log"
  make_ssh_keys 2>>"$LOGS/openssl.log"
  launch_git_daemon
  launch_lighttpd
  launch_ssh_server
}

await_git_servers() {
  local attempt
  for attempt in 1 2 3; do
    await_listening "$GIT_DAEMON_PID" "$GIT_DAEMON_PORT" && break
    stop_pids "$RUN" "$GIT_DAEMON_PID"
    [ "$attempt" = 3 ] && { log "git daemon did not come up"; return 1; }
    log "git daemon: try $attempt on port $GIT_DAEMON_PORT failed; retrying"
    launch_git_daemon
  done
  for attempt in 1 2 3; do
    await_listening "$GIT_HTTP_PID" "$GIT_HTTP_PORT" "$GIT_HTTPS_PORT" && break
    stop_pids "$RUN" "$GIT_HTTP_PID"
    [ "$attempt" = 3 ] && { log "lighttpd did not come up"; return 1; }
    log "lighttpd: try $attempt on ports $GIT_HTTP_PORT/$GIT_HTTPS_PORT failed; retrying"
    launch_lighttpd
  done
  wait_port_file "$RUN/ssh/port" "$GIT_SSH_PID" ssh-git-server
  GIT_SSH_PORT=$(cat "$RUN/ssh/port")
  printf '[127.0.0.1]:%s %s\n' "$GIT_SSH_PORT" "$(cut -d' ' -f1,2 "$RUN/ssh/host_ed25519.pub")" \
    > "$RUN/ssh/known_hosts"
}

# make_tls_certs: an EC P-256 CA and a server cert it signs (SAN IP:127.0.0.1, DNS:localhost),
# plus an unrelated CA for "wrong CA must fail" tests. EC keys: milliseconds, not RSA's 0.3 s.
make_tls_certs() {
  local t="$RUN/tls" ca
  mkdir -p "$t"
  for ca in ca other-ca; do
    printf '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = imageupdater test %s\n[ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n' \
      "$ca" > "$t/$ca.cnf"
    openssl req -x509 -config "$t/$ca.cnf" -extensions ext -newkey ec \
      -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -keyout "$t/$ca.key" -out "$t/$ca.pem" 2>>"$LOGS/openssl.log"
  done
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
    -keyout "$t/server.key" -out "$t/server.csr" 2>>"$LOGS/openssl.log"
  printf 'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1,DNS:localhost\nauthorityKeyIdentifier = keyid\n' \
    > "$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 3650 -extfile "$t/server.ext" \
    -out "$t/server.pem" 2>>"$LOGS/openssl.log"
}

# kv KEY VALUE: one line of DIR/env or DIR/expected. Bare when VALUE is plain, else in single
# quotes (no escapes inside, so a reader strips one pair of quotes; a ' in a path is refused).
kv() {
  if [[ $2 =~ ^[A-Za-z0-9_./:,@%+=-]*$ ]]; then
    printf '%s=%s\n' "$1" "$2"
  elif [[ $2 == *"'"* ]]; then
    log "value of $1 contains a single quote: $2"; return 1
  else
    printf "%s='%s'\n" "$1" "$2"
  fi
}

on_up_exit() {
  local rc=$?
  [ "$rc" = 0 ] && return 0
  log "FAILED (exit $rc); tail of each log in $LOGS:"
  local f
  for f in "$LOGS"/*.log; do
    [ -s "$f" ] || continue
    printf '==> %s <==\n' "$f" >&2
    tail -n 15 "$f" >&2
  done
  # stop what was started and free the storage; keep DIR (logs, marker) for a post-mortem:
  # the next up or down removes it
  local pids=() pid _
  if [ -n "${SEED_PID:-}" ]; then kill "$SEED_PID" 2>/dev/null; wait "$SEED_PID" 2>/dev/null; fi
  if [ -n "${KEY_PID:-}" ]; then wait "$KEY_PID" 2>/dev/null; fi
  if [ -n "${CERT_PID:-}" ]; then wait "$CERT_PID" 2>/dev/null; fi
  if [ -s "$DIR/pids" ]; then
    while read -r pid _; do pids+=("$pid"); done < "$DIR/pids"
  fi
  if ((${#pids[@]})); then stop_pids "$RUN" "${pids[@]}"; fi
  : > "$DIR/pids"
  [ "$RUN" = "$DIR/run" ] || rm -rf -- "$RUN"
  exit "$rc"
}

up() {
  DIR=$1
  local tool p seed_rc
  START_MS=$(now_ms)
  for tool in "$REGISTRY_BIN" htpasswd openssl curl python3 setsid git lighttpd ssh-keygen; do
    command -v "$tool" >/dev/null || { log "missing $tool: run scripts/install-deps.sh"; exit 1; }
  done

  # DIR: fresh, or an earlier run's (torn down first); never someone else's non-empty dir
  if [ -e "$DIR/$MARKER" ]; then
    log "tearing down the previous run in $DIR"
    down "$DIR"
  elif [ -d "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then
    log "$DIR exists, is not empty and was not made by services.sh: refusing to use it"
    exit 1
  fi
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  LOGS="$DIR/logs"
  mkdir -p "$LOGS"
  if [ "$(stat -f -c %T "$DIR")" != tmpfs ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    RUN=$(mktemp -d /dev/shm/iu-services.XXXXXX)
    ln -s "$RUN" "$DIR/run"
  else
    RUN="$DIR/run"
    mkdir -p "$RUN"
  fi
  echo "$RUN" > "$DIR/$MARKER"
  : > "$DIR/pids"
  trap on_up_exit EXIT
  trap 'exit 143' TERM INT HUP   # so that a killed up (ctest timeout, Ctrl-C) still cleans up

  /usr/bin/python3 -c 'import paramiko' 2>/dev/null || {
    log "missing python3-paramiko for /usr/bin/python3: run scripts/install-deps.sh"; exit 1; }

  # Keys and certificates in the background: the RSA token key alone takes about 0.3 s.
  py "$here/token_server.py" init "$RUN/token" 2>>"$LOGS/openssl.log" &
  KEY_PID=$!
  make_tls_certs &
  CERT_PID=$!
  htpasswd -B -b -c "$RUN/htpasswd" "$BASIC_USER" "$BASIC_PASS" 2>>"$LOGS/openssl.log"

  # The plain registry first: seeding runs in the background while everything else starts.
  launch_registry registry-plain http ''
  launch_registry registry-basic http "$(printf 'auth:\n  htpasswd:\n    realm: test-realm\n    path: %s\n' "$(yaml_quote "$RUN/htpasswd")")"
  await_registry registry-plain
  mark "registry-plain up"
  local plain_port=${REG_PORT[registry-plain]}
  python3 -B "$here/seed.py" all "http://127.0.0.1:$plain_port" "$RUN/storage" "$RUN" "$PAGE_SIZE" \
    > "$RUN/expected.seed" 2>>"$LOGS/seed.log" &
  SEED_PID=$!

  # Fault server (+ its recorder on 127.0.0.2) and token server bind port 0 themselves and
  # publish the port in a file: no race at all.
  spawn faults python3 -B "$here/faults.py" 0 --port-file "$RUN/faults.port" \
    --other-log "$RUN/faults-other.jsonl" --user "$FAULTS_USER:$FAULTS_PASS"
  local faults_pid=$SPAWNED_PID
  wait "$CERT_PID"
  CERT_PID=
  launch_registry registry-tls https ''
  start_git_servers
  wait "$KEY_PID"
  KEY_PID=
  mark "keys and certs"
  spawn token-server python3 -B "$here/token_server.py" serve "$RUN/token" --port-file "$RUN/token.port" \
    --log "$RUN/token-requests.jsonl" --user "$TOKEN_USER:$TOKEN_PASS"
  wait_port_file "$RUN/token.port" "$SPAWNED_PID" token-server
  local token_port realm realm_anon
  token_port=$(cat "$RUN/token.port")
  realm="http://127.0.0.1:$token_port/token"
  realm_anon="http://127.0.0.1:$token_port/anon/token"
  mark "token server up"
  local token_yaml='auth:\n  token:\n    realm: %s\n    service: test-registry\n    issuer: test-issuer\n    rootcertbundle: %s\n'
  # shellcheck disable=SC2059  # the format is ours
  launch_registry registry-token http "$(printf "$token_yaml" "$realm" "$(yaml_quote "$RUN/token/cert.pem")")"
  # shellcheck disable=SC2059
  launch_registry registry-token-anon http "$(printf "$token_yaml" "$realm_anon" "$(yaml_quote "$RUN/token/cert.pem")")"
  local r
  for r in registry-basic registry-tls registry-token registry-token-anon; do await_registry "$r"; done
  local basic_port=${REG_PORT[registry-basic]} tls_port=${REG_PORT[registry-tls]}
  local token_reg_port=${REG_PORT[registry-token]} token_anon_port=${REG_PORT[registry-token-anon]}
  mark "all registries up"
  await_git_servers
  mark "git servers up"

  wait_port_file "$RUN/faults.port" "$faults_pid" faults
  local faults_port other_port
  { read -r faults_port; read -r other_port; } < "$RUN/faults.port"

  spawn tags-pager python3 -B "$here/tags_pager.py" --upstream "127.0.0.1:$plain_port" \
    --page-size "$PAGE_SIZE" --listen relative --listen absolute \
    --listen "foreign=http://127.0.0.2:$other_port" --port-file "$RUN/pager.port"
  wait_port_file "$RUN/pager.port" "$SPAWNED_PID" tags-pager
  local paged_rel paged_abs paged_foreign
  { read -r paged_rel; read -r paged_abs; read -r paged_foreign; } < "$RUN/pager.port"
  mark "pager up"

  seed_rc=0
  wait "$SEED_PID" || seed_rc=$?
  SEED_PID=
  if [ "$seed_rc" != 0 ]; then log "seeding failed (exit $seed_rc)"; exit 1; fi
  if grep -E '^[A-Z0-9_]+=$' "$RUN/expected.seed" >&2; then log "seeding left empty answers"; exit 1; fi
  mark "seeding done"

  # Last check that everything answers as the env file will claim.
  local url want code
  for p in "http://127.0.0.1:$plain_port 200" "http://127.0.0.1:$basic_port 401" \
           "http://127.0.0.1:$token_reg_port 401" "http://127.0.0.1:$token_anon_port 401" \
           "https://127.0.0.1:$tls_port 200" "http://127.0.0.1:$paged_rel 200" \
           "http://127.0.0.1:$paged_abs 200" "http://127.0.0.1:$paged_foreign 200" \
           "http://127.0.0.1:$faults_port 200" "http://127.0.0.2:$other_port 200"; do
    url=${p% *} want=${p#* }
    code=$(probe "$url/v2/")
    [ "$code" = "$want" ] || { log "$url/v2/ answered '$code', expected $want"; exit 1; }
  done
  local refs="deploy.git/info/refs?service=git-upload-pack"
  for p in "http://127.0.0.1:$GIT_HTTP_PORT/git/$refs 200" "http://127.0.0.1:$GIT_HTTP_PORT/auth/$refs 401" \
           "http://127.0.0.1:$GIT_HTTP_PORT/bearer/$refs 403" "https://localhost:$GIT_HTTPS_PORT/git/$refs 200"; do
    url=${p% *} want=${p#* }
    code=$(probe "$url")
    [ "$code" = "$want" ] || { log "$url answered '$code', expected $want"; exit 1; }
  done
  code=$(probe -H "Authorization: Bearer $GIT_BEARER_TOKEN" "http://127.0.0.1:$GIT_HTTP_PORT/bearer/$refs")
  [ "$code" = 200 ] || { log "bearer path answered '$code' to the token, expected 200"; exit 1; }
  GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git ls-remote "git://127.0.0.1:$GIT_DAEMON_PORT/deploy.git" \
    2>>"$LOGS/git-daemon.log" | grep -q 'refs/heads/main$' || { log "git ls-remote of the git daemon failed"; exit 1; }
  GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null \
    GIT_SSH_COMMAND="ssh -F /dev/null -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$RUN/ssh/known_hosts -i $RUN/ssh/client_ed25519" \
    git ls-remote "ssh://git@127.0.0.1:$GIT_SSH_PORT/deploy.git" 2>>"$LOGS/ssh-git-server.log" |
    grep -q 'refs/heads/main$' || { log "git ls-remote over ssh failed"; exit 1; }
  mark "git servers answer"

  {
    kv EXPECTED "$DIR/expected"
    kv PAGE_SIZE "$PAGE_SIZE"
    kv APP_HIGHEST_SEMVER 1.0.49
    kv APP_HIGHEST_SEMVER_WITH_PRERELEASE 1.1.0-rc.1
    kv NGINX_HIGHEST_SEMVER 1.26.0
    kv NGINX_HIGHEST_1_25 1.25.3
    kv FAULT_TAGS 1.0.0,1.1.0,2.0.0
    kv FAULT_OTHER_TAGS 4.0.0,4.1.0
    while IFS='=' read -r k v; do kv "$k" "$v"; done < "$RUN/expected.seed"
    while IFS='=' read -r k v; do kv "$k" "$v"; done < "$RUN/expected.git"
  } > "$DIR/expected.tmp"
  mv "$DIR/expected.tmp" "$DIR/expected"

  local pids=() pid _
  while read -r pid _; do pids+=("$pid"); done < "$DIR/pids"
  {
    echo "# written by tests/harness/services.sh up; see tests/harness/README.md"
    kv SERVICES_DIR "$DIR"
    kv SERVICES_RUN "$RUN"
    kv EXPECTED "$DIR/expected"
    kv REGISTRY_PLAIN "http://127.0.0.1:$plain_port"
    kv REGISTRY_PLAIN_HOST "127.0.0.1:$plain_port"
    kv REGISTRY_BASIC "http://127.0.0.1:$basic_port"
    kv REGISTRY_BASIC_HOST "127.0.0.1:$basic_port"
    kv BASIC_USER "$BASIC_USER"
    kv BASIC_PASS "$BASIC_PASS"
    kv REGISTRY_TOKEN "http://127.0.0.1:$token_reg_port"
    kv REGISTRY_TOKEN_HOST "127.0.0.1:$token_reg_port"
    kv REGISTRY_TOKEN_ANON "http://127.0.0.1:$token_anon_port"
    kv REGISTRY_TOKEN_ANON_HOST "127.0.0.1:$token_anon_port"
    kv TOKEN_REALM "$realm"
    kv TOKEN_REALM_ANON "$realm_anon"
    kv TOKEN_SERVICE test-registry
    kv TOKEN_USER "$TOKEN_USER"
    kv TOKEN_PASS "$TOKEN_PASS"
    kv TOKEN_LOG "$RUN/token-requests.jsonl"
    kv REGISTRY_TLS "https://127.0.0.1:$tls_port"
    kv REGISTRY_TLS_HOST "127.0.0.1:$tls_port"
    kv TLS_CA "$RUN/tls/ca.pem"
    kv TLS_CERT "$RUN/tls/server.pem"
    kv TLS_OTHER_CA "$RUN/tls/other-ca.pem"
    kv REGISTRY_PAGED "http://127.0.0.1:$paged_rel"
    kv REGISTRY_PAGED_ABSOLUTE "http://127.0.0.1:$paged_abs"
    kv REGISTRY_PAGED_FOREIGN "http://127.0.0.1:$paged_foreign"
    kv PAGE_SIZE "$PAGE_SIZE"
    kv REGISTRY_FAULTS "http://127.0.0.1:$faults_port"
    kv REGISTRY_FAULTS_HOST "127.0.0.1:$faults_port"
    kv FAULTS_OTHER "http://127.0.0.2:$other_port"
    kv FAULTS_OTHER_LOG "$RUN/faults-other.jsonl"
    kv FAULTS_USER "$FAULTS_USER"
    kv FAULTS_PASS "$FAULTS_PASS"
    kv GIT_REPOS "$RUN/git/repos"
    kv GIT_DAEMON_URL "git://127.0.0.1:$GIT_DAEMON_PORT"
    kv GIT_HTTP_URL "http://127.0.0.1:$GIT_HTTP_PORT/git"
    kv GIT_HTTP_AUTH_URL "http://127.0.0.1:$GIT_HTTP_PORT/auth"
    kv GIT_HTTP_BEARER_URL "http://127.0.0.1:$GIT_HTTP_PORT/bearer"
    kv GIT_HTTP_MOVED_URL "http://127.0.0.1:$GIT_HTTP_PORT/moved"
    kv GIT_HTTP_ELSEWHERE_URL "http://127.0.0.1:$GIT_HTTP_PORT/elsewhere"
    kv GIT_HTTPS_URL "https://localhost:$GIT_HTTPS_PORT/git"
    kv GIT_HTTPS_AUTH_URL "https://localhost:$GIT_HTTPS_PORT/auth"
    kv GIT_HTTPS_BEARER_URL "https://localhost:$GIT_HTTPS_PORT/bearer"
    kv GIT_USER "$GIT_USER"
    kv GIT_PASSWORD "$GIT_PASSWORD"
    kv GIT_BEARER_TOKEN "$GIT_BEARER_TOKEN"
    kv GIT_CA "$RUN/tls/ca.pem"
    kv GIT_HTTP_LOG "$RUN/git/access.log"
    kv GIT_SSH_URL "ssh://git@127.0.0.1:$GIT_SSH_PORT"
    kv GIT_SSH_KNOWN_HOSTS "$RUN/ssh/known_hosts"
    kv GIT_SSH_KEY "$RUN/ssh/client_ed25519"
    kv GIT_SSH_KEY_RSA "$RUN/ssh/client_rsa.pem"
    kv GIT_SSH_KEY_ENCRYPTED "$RUN/ssh/client_encrypted"
    kv GIT_SSH_PASSPHRASE "$GIT_SSH_PASSPHRASE"
    kv GIT_SSH_OTHER_KEY "$RUN/ssh/other_ed25519"
    kv GIT_SSH_LOG "$RUN/ssh/auth.jsonl"
    kv PIDS "${pids[*]}"
  } > "$DIR/env.tmp"
  mv "$DIR/env.tmp" "$DIR/env"   # atomic: a reader never sees half a file
  mark "env written"
  log "up in $(( $(now_ms) - START_MS )) ms: $DIR/env (storage in $RUN)"
}

case ${1:-} in
  up | down)
    if [ $# != 2 ] || [ -z "$2" ]; then echo "usage: services.sh up|down DIR" >&2; exit 2; fi
    case $2 in /*) "$1" "$2" ;; *) "$1" "$PWD/$2" ;; esac
    ;;
  *) echo "usage: services.sh up|down DIR" >&2; exit 2 ;;
esac
