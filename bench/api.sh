#!/usr/bin/env bash
# REST API load run with wrk on loopback: `imageupdater-flux-source serve` on a fresh data
# directory (SQLite, WAL, synchronous=FULL) seeded with 1,000 objects, then wrk with 2 threads
# for D seconds (default 15) at each number of connections (default 64, then 16) on, in this
# order:
#   get     GET of one object
#   list    GET of the list of the 1,000 objects (limit=1000; checked once with curl + jq)
#   mixed   creates and updates (bench/api/mixed.lua: POSTs of new names, PUTs of the wrk
#           thread's own objects with their current resourceVersion, so no 409 can happen)
# Half-way through each run it also counts serve's connections whose request is still unread
# or queued (waiting for one of serve's workers) and times a GET of one object on a new
# connection (how long a new client waits).
# Prints a Markdown table for docs/benchmarks.md, wrk's own reports on stderr. Fails when a run
# had a socket error or a response that is not 2xx, or when serve does not exit 0 on SIGTERM.
#   bench/api.sh [BUILD_DIR]      (default build; needs wrk, curl, jq: scripts/install-deps.sh)
#   env: IU_BENCH_DURATION=15 (seconds)  IU_BENCH_CONNECTIONS="64 16"  IU_BENCH_THREADS=2
#        IU_BENCH_PUT_SHARE=0.5 (share of PUTs in mixed)
#        IU_BENCH_SERVE_ARGS="" (more serve flags, e.g. "--max-threads 16")
#        IU_BENCH_TIMEOUT=60s (wrk counts a response slower than this as a timeout error; its
#        default, 2 s, is shorter than the wait of a connection queued behind the busy threads)
# The data directory is under TMPDIR (default /tmp: a disk, so the fsyncs are real).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$(realpath "$build/bin/imageupdater-flux-source")
duration=${IU_BENCH_DURATION:-15}
duration=${duration%s}
connection_counts=${IU_BENCH_CONNECTIONS:-64 16}
threads=${IU_BENCH_THREADS:-2}
put_share=${IU_BENCH_PUT_SHARE:-0.5}
timeout=${IU_BENCH_TIMEOUT:-60s}
read -r -a serve_args <<<"${IU_BENCH_SERVE_ARGS:-}"
for tool in wrk curl jq python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool missing: run scripts/install-deps.sh" >&2; exit 2; }
done
[[ "$duration" =~ ^[1-9][0-9]*$ ]] || { echo "bench: IU_BENCH_DURATION must be whole seconds" >&2; exit 2; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "bench: load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$bin" serve --listen 127.0.0.1:0 --data "$work/data" --port-file "$work/port" "${serve_args[@]}" \
  2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.05; done
[[ -s "$work/port" ]] || { echo "bench: serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
port=$(cat "$work/port")
root="http://127.0.0.1:$port"
base="$root/kapis/gitops.kubesphere.io/v1alpha1"

# Seed: 1,000 objects bench-0000..bench-0999 in namespace bench, over 8 keep-alive connections.
python3 - "$base/namespaces/bench/imageupdaters" <<'PY'
import http.client, json, sys, urllib.parse
from concurrent.futures import ThreadPoolExecutor
url = urllib.parse.urlsplit(sys.argv[1])
def seed(first):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    for i in range(first, 1000, 8):
        body = json.dumps({"apiVersion": "gitops.kubesphere.io/v1alpha1", "kind": "ImageUpdater",
                           "metadata": {"name": f"bench-{i:04d}", "labels": {"team": f"t{i % 10}"}},
                           "spec": {"kind": "argocd",
                                    "images": [f"app=127.0.0.1:9/demo/app{i % 20}:^1.{i % 7}"],
                                    "argocd": {"app": {"name": f"web-{i}"}}}})
        conn.request("POST", url.path, body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        text = r.read()
        if r.status != 201:
            sys.exit(f"bench: seeding bench-{i:04d}: HTTP {r.status}: {text[:300]!r}")
with ThreadPoolExecutor(8) as pool:
    list(pool.map(seed, range(8)))
PY
one="$base/namespaces/bench/imageupdaters/bench-0500"
list="$base/namespaces/bench/imageupdaters?limit=1000"
curl -sf "$one" | jq -e '.metadata.name == "bench-0500"' >/dev/null
curl -sf "$list" -o "$work/list.json"
count=$(jq '.items | length' "$work/list.json")
more=$(jq -r '.metadata.continue // ""' "$work/list.json")
if [[ "$count" != 1000 || -n "$more" ]]; then
  echo "bench: the list has $count items (continue '$more'), expected 1000 and no continue" >&2
  exit 1
fi
echo "bench: seeded 1000 objects; one object is $(curl -s "$one" | wc -c) bytes," \
  "the list $(wc -c <"$work/list.json") bytes" >&2

# serve's established connections and those with unread bytes (a request no thread has read yet).
waiting_connections() {
  local hex
  hex=$(printf '%04X' "$port")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    awk -v p=":$hex" '$4 == "01" && substr($2, length($2) - 4) == p {
      n++; split($5, q, ":"); if (q[2] != "00000000") w++ } END { print n + 0, w + 0 }'
}

# Scenario by scenario, so that both list runs see the same 1,000 objects (the mixed runs add
# tens of thousands in other namespaces).
declare -A script=([get]=bench/api/get.lua [list]=bench/api/get.lua [mixed]=bench/api/mixed.lua)
for s in get list mixed; do
  for c in $connection_counts; do
    declare -A url=([get]="$one" [list]="$list" [mixed]="$base/namespaces/mixed-c$c/imageupdaters")
    echo "bench: $s: wrk -t$threads -c$c -d${duration}s --timeout $timeout --latency ${url[$s]}" >&2
    wrk -t"$threads" -c"$c" -d"${duration}s" --timeout "$timeout" --latency \
      -s "${script[$s]}" "${url[$s]}" -- "$put_share" >"$work/$s-$c.out" &
    wrk_pid=$!
    sleep "$(( duration / 2 ))"
    read -r established waiting < <(waiting_connections)
    ( curl -s -o /dev/null --max-time 300 -w '%{http_code} %{time_starttransfer}' "$one"
      echo " $(date +%s.%N)" ) >"$work/probe" &
    probe_pid=$!
    wait "$wrk_pid"
    wrk_end=$(date +%s.%N)
    wait "$probe_pid"
    grep -v '^wrk-result' "$work/$s-$c.out" >&2 || true
    line=$(grep '^wrk-result' "$work/$s-$c.out") ||
      { echo "bench: $s: wrk printed no result line" >&2; exit 1; }
    if [[ $s == mixed ]]; then
      echo "bench: mixed at $c connections sent $(sed -E 's/.* posts=([0-9]+) puts=([0-9]+).*/\1 POSTs, \2 PUTs/' <<<"$line")" >&2
    fi
    echo "$s $c ${line#wrk-result } established=$established waiting=$waiting" \
      "probe=$(cut -d' ' -f1,2 --output-delimiter=, "$work/probe") probe_end=$(cut -d' ' -f3 "$work/probe")" \
      "wrk_end=$wrk_end" >>"$work/results"
    # Drain: wrk exits with requests in flight and connections still queued in serve; those are
    # served, to nobody, after wrk is gone, and a next run started at once would find the queue
    # (64) full and its connections reset. /readyz is answered after every connection queued
    # before it.
    curl -sf --max-time 120 "$root/readyz" >/dev/null
    sleep 1
  done
  unset url
done
writes=$(curl -sf "$base/namespaces/bench/imageupdaters?limit=1" | jq -r '.metadata.resourceVersion')

kill -TERM "$server_pid"
serve_rc=0
wait "$server_pid" || serve_rc=$?
server_pid=""
echo "bench: load average at end: $(cut -d' ' -f1-3 /proc/loadavg); writes in all: $writes" >&2
if ((serve_rc != 0)); then
  echo "bench: serve exited $serve_rc on SIGTERM:" >&2
  cat "$work/serve.log" >&2
fi

python3 - "$work/results" "$put_share" "$serve_rc" <<'PY'
import sys
put = float(sys.argv[2])
labels = {"get": "GET one object", "list": "GET list of 1,000 (limit=1000)",
          "mixed": f"mixed: {1 - put:.0%} POST new / {put:.0%} PUT own"}
print("| scenario | connections | requests | req/s | p50 | p99 | max | connections with an unread "
      "request (mid-run) | a new connection's wait (mid-run) | errors (socket / non-2xx) |")
print("|---|---|---|---|---|---|---|---|---|---|")
failed = sys.argv[3] != "0"
for line in open(sys.argv[1]):
    name, connections, *kvs = line.split()
    r = dict(kv.split("=") for kv in kvs)
    n = {k: float(v) for k, v in r.items() if k not in ("probe",)}
    socket = int(n["connect"] + n["read"] + n["write"] + n["timeout"])
    status, wait = r["probe"].split(",")
    failed |= socket > 0 or n["non2xx"] > 0 or status != "200"
    # A probe answered only after wrk had stopped waited at least that long, maybe more.
    wait_text = f"{float(wait) * 1000:,.0f} ms"
    if n["probe_end"] > n["wrk_end"]:
        wait_text = "≥ " + wait_text + " (outlasted the run)"
    if status != "200":
        wait_text = f"HTTP {status}"
    print(f"| {labels[name]} | {connections} | {int(n['requests']):,} | {n['rps']:,.0f} "
          f"| {n['p50_ms']:,.2f} ms | {n['p99_ms']:,.2f} ms | {n['max_ms']:,.1f} ms "
          f"| {int(n['waiting'])} of {int(n['established'])} | {wait_text} "
          f"| {socket} / {int(n['non2xx'])} |")
if failed:
    sys.exit("bench: FAILED: socket errors or non-2xx responses above, or serve did not exit 0")
PY
