#!/usr/bin/env bash
# The Flux source generator (`imageupdater-flux-source serve`'s reconciler), in process through
# build/bin/bench_flux (bench/flux_bench.cpp: the reconciler wired as serve wires it), against
# the harness's git daemon and registry on loopback:
#   A. one fluxcd ImageUpdater over a git repository of 2,000 manifests (bench/gen-manifests.sh
#      2000, one Deployment a file, 20 commits of history) where 10 images point at harness
#      repositories (3 semver tags each) and carry `$imagepolicy` markers; OCI push on. Cold
#      (empty git cache, registry cache and storage; 3 times), warm with the registry cache fresh
#      and warm at the next interval (cache expired: tags and digests fetched again, unchanged),
#      10 each, then a newer tag for one image (a new artifact and push), then warm again.
#      A10: the same over 10 manifests (no OCI), for what the tree's size costs a warm reconcile.
#   B. 200 fluxcd ImageUpdaters sharing 20 images (1-3 each), one monorepo with a directory per
#      updater, reconciled once by the controller with 4 workers (serve's start-up round), then
#      at the next interval with 4, 1 and 8 workers; tag-list requests counted by the harness's
#      pager.
#   bench/flux.sh [BUILD_DIR]       (needs BUILD_DIR/bin/bench_flux)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
driver=$(realpath "$build/bin/bench_flux")
work=$(mktemp -d /dev/shm/iu-flux.XXXXXX)
trap 'tests/harness/services.sh down "$work/svc" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
tests/harness/services.sh up "$work/svc" >/dev/null
# shellcheck disable=SC1091
source "$work/svc/env"
paged=${REGISTRY_PAGED#http://}
plain=${REGISTRY_PLAIN#http://}
stats="$REGISTRY_PAGED/_stats"

# ---- registry: 10 repositories for A, 20 for B, tags 1.0.0 1.1.0 1.2.0 ----
for k in $(seq 0 9); do
  python3 tests/harness/seed.py image "$REGISTRY_PLAIN" "bflux/a-$k" 2024-05-01T00:00:00Z \
    1.0.0 1.1.0 1.2.0 >/dev/null
done
for k in $(seq 0 19); do
  python3 tests/harness/seed.py image "$REGISTRY_PLAIN" "bflux/b-$k" 2024-05-01T00:00:00Z \
    1.0.0 1.1.0 1.2.0 >/dev/null
done

# ---- git: the two repositories, fixed authors and dates, pushed into GIT_REPOS ----
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench \
  GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
commit() { # DIR MESSAGE N [git commit flags]
  local date
  date="2024-05-01T00:00:$(printf %02d "$3")Z"
  GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date git -C "$1" commit -q -m "$2" "${@:4}"
}
split_manifests() { # N DIR: gen-manifests.sh N as a git working tree at DIR, one commit
  bench/gen-manifests.sh "$1" "$work/gen-$1" >/dev/null
  mkdir -p "$2"
  git -C "$2" init -q -b main
  python3 - "$work/gen-$1/images/deployments.yaml" "$2" "$paged" <<'PY'
# One Deployment a file, apps/<namespace>/<name>.yaml; ghcr.io/acme/svc-0..9 become the harness
# repositories bflux/a-0..9 at 1.0.0 with a setter marker ("bench:a<k>"); the other 10
# repositories of the generator stay as they are (not governed).
import os, re, sys
src, out, host = sys.argv[1:4]
image = re.compile(r"^(\s*image: )ghcr\.io/acme/svc-(\d+):\S+$")
docs = open(src).read().split("---\n")[1:]
for i, doc in enumerate(docs):
    lines = []
    for line in doc.splitlines():
        m = image.match(line)
        if m and int(m.group(2)) < 10:
            k = m.group(2)
            line = f'{m.group(1)}{host}/bflux/a-{k}:1.0.0 # {{"$imagepolicy": "bench:a{k}"}}'
        lines.append(line)
    ns = re.search(r"^  namespace: (\S+)$", doc, re.M).group(1)
    name = re.search(r"^  name: (\S+)$", doc, re.M).group(1)
    os.makedirs(f"{out}/apps/{ns}", exist_ok=True)
    with open(f"{out}/apps/{ns}/{name}.yaml", "w") as f:
        f.write("---\n" + "\n".join(lines) + "\n")
PY
  git -C "$2" add -A && commit "$2" "$1 deployments" 0
}
split_manifests 2000 "$work/a"
for step in $(seq 1 19); do # history: 19 commits changing ~105 files each
  python3 - "$work/gen-2000/images/deployments.yaml" "$work/a" "$step" <<'PY'
import re, sys
src, out, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
docs = open(src).read().split("---\n")[1:]
for i, doc in enumerate(docs):
    if i % 19 != step % 19:
        continue
    ns = re.search(r"^  namespace: (\S+)$", doc, re.M).group(1)
    name = re.search(r"^  name: (\S+)$", doc, re.M).group(1)
    path = f"{out}/apps/{ns}/{name}.yaml"
    text = open(path).read()
    text = re.sub(r"(?m)^  replicas: \d+$", f"  replicas: {step % 5 + 1}", text)
    open(path, "w").write(text)
PY
  commit "$work/a" "scale step $step" "$step" -a
done
git init -q --bare "$GIT_REPOS/bflux-a.git"
git -C "$work/a" push -q "$GIT_REPOS/bflux-a.git" main
git -C "$GIT_REPOS/bflux-a.git" gc -q
files=$(git -C "$work/a" ls-files apps | wc -l)
commits=$(git -C "$work/a" rev-list --count main)
size=$(du -sb "$work/a/apps" | cut -f1)
governed=$(grep -rc 'imagepolicy' "$work/a/apps" | awk -F: '{s += $2} END {print s}')

# A10: the same with 10 Deployments (how much of a warm reconcile is the size of the tree).
split_manifests 10 "$work/a10"
git init -q --bare "$GIT_REPOS/bflux-a10.git"
git -C "$work/a10" push -q "$GIT_REPOS/bflux-a10.git" main

# B: apps/app-NNN/deployment.yaml, one container per image of the updater.
mkdir -p "$work/b"
git -C "$work/b" init -q -b main
python3 - "$work/b" "$paged" "$GIT_DAEMON_URL/bflux-fleet.git" >"$work/fleet.json" <<'PY'
import json, os, sys
out, host, url = sys.argv[1:4]
specs = []
for i in range(200):
    ks = []
    for k in (i % 20, (i * 7 + 3) % 20, (i * 11 + 5) % 20)[: 1 + i % 3]:
        if k not in ks:
            ks.append(k)
    name = f"app-{i:03d}"
    d = f"{out}/apps/{name}"
    os.makedirs(d)
    containers = "".join(
        f"        - name: c{k}\n"
        f'          image: {host}/bflux/b-{k}:1.0.0 # {{"$imagepolicy": "fleet:b{k}"}}\n'
        for k in ks)
    open(f"{d}/deployment.yaml", "w").write(
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: fleet\n"
        f"spec:\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n"
        f"    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n"
        + containers)
    specs.append({"name": name, "spec": {
        "kind": "fluxcd",
        "images": [f"b{k}={host}/bflux/b-{k}" for k in ks],
        "fluxcd": {"interval": "5m", "policy": {"semver": {"range": ">=1.0.0"}},
                   "sourceRef": {"kind": "GitRepository", "name": "fleet", "url": url},
                   "git": {"checkout": {"ref": {"branch": "main"}}},
                   "update": {"path": f"apps/{name}"}}}})
json.dump(specs, sys.stdout)
PY
git -C "$work/b" add -A && commit "$work/b" "200 apps" 0
git init -q --bare "$GIT_REPOS/bflux-fleet.git"
git -C "$work/b" push -q "$GIT_REPOS/bflux-fleet.git" main

cat >"$work/a.json" <<JSON
{"kind": "fluxcd",
 "images": [$(for k in $(seq 0 9); do printf '%s"a%d=%s/bflux/a-%d"' "$([ "$k" = 0 ] || echo ,)" "$k" "$paged" "$k"; done)],
 "fluxcd": {"interval": "5m", "policy": {"semver": {"range": ">=1.0.0"}},
            "sourceRef": {"kind": "GitRepository", "name": "bench", "url": "$GIT_DAEMON_URL/bflux-a.git"},
            "git": {"checkout": {"ref": {"branch": "main"}}},
            "update": {"path": "apps"}}}
JSON

# ---- the runs ----
"$driver" single --work "$work/runs" --spec "$work/a.json" --stats "$stats" \
  --oci "$plain/bflux/a-manifests" --colds 3 --warm 10 \
  --new-tag-cmd "python3 tests/harness/seed.py image $REGISTRY_PLAIN bflux/a-0 2024-06-01T00:00:00Z 1.3.0 >/dev/null" \
  >"$work/a.jsonl"
sed "s#/bflux-a.git#/bflux-a10.git#" "$work/a.json" >"$work/a10.json"
"$driver" single --work "$work/runs10" --spec "$work/a10.json" --stats "$stats" --warm 10 \
  >"$work/a10.jsonl"
"$driver" fleet --work "$work/runs" --specs "$work/fleet.json" --stats "$stats" --workers 4 \
  --interval-workers 4,1,8 >"$work/b.jsonl"
# The same without the registry's rate limit (20 requests/s by default; 40 requests a round).
cat >"$work/unlimited.conf" <<YAML
registries:
- name: harness
  api_url: $REGISTRY_PAGED
  prefix: $paged
  insecure: yes
  limit: 0
YAML
"$driver" fleet --work "$work/runs" --name fleet-unlimited --specs "$work/fleet.json" \
  --stats "$stats" --registries-conf "$work/unlimited.conf" --workers 4 --interval-workers 4,1,8 |
  sed 's/"phase":"fleet-/"phase":"unlimited-fleet-/' >>"$work/b.jsonl"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$work/a.jsonl" "$work/b.jsonl" "$work/a10.jsonl" "$files" "$commits" "$size" \
  "$governed" "$load_before" "$load_after" <<'PY'
import json, statistics, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
a10 = [json.loads(l) for l in open(sys.argv[3])]
files, commits, size, governed, load_before, load_after = sys.argv[4:10]
prof = next(x for x in a if x["phase"] == "profile")
print(f"A: {files} files ({int(size)/1e6:.2f} MB), {commits} commits, {governed} governed image "
      f"values, 10 images; mirror packs {prof['mirror_pack_bytes']/1e6:.2f} MB; load {load_before} -> {load_after}")
print()
print("| reconcile | runs | median | min–max | resolve | git fetch | OCI push | rest (render, pack, store, status) | new artifact | OCI pushed | tag-list requests |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
labels = {"cold": "cold (empty git cache, registry cache, storage)",
          "warm-cached": "warm, registry cache fresh",
          "warm-expired": "warm, next interval (cache expired, tags unchanged)",
          "new-tag": "new tag (a-0 1.3.0 pushed)",
          "warm-after-new-tag": "warm after the new tag"}
med = lambda xs: statistics.median(xs)
for phase, label in labels.items():
    rs = [x for x in a if x["phase"] == phase]
    if not rs:
        continue
    ms = [x["ms"] for x in rs]
    f = lambda k: f"{med([x[k] for x in rs]):.1f} ms"
    yesno = lambda k: "/".join(sorted({("yes" if x[k] else "no") for x in rs}))
    pushed = "/".join(sorted({("yes" if x["pushed"] else ("no call" if x["push_calls"] == 0 else "no (same content)")) for x in rs}))
    reqs = "/".join(str(v) for v in sorted({x["tag_requests"] for x in rs}))
    print(f"| {label} | {len(rs)} | {med(ms):.1f} ms | {min(ms):.1f}–{max(ms):.1f} ms | {f('resolve_ms')} | "
          f"{f('fetch_ms')} | {f('push_ms')} | {f('rest_ms')} | {yesno('new_artifact')} | {pushed} | {reqs} |")
print()
m = lambda k: f"{med(prof[k]):.1f} ms"
print(f"one render, apart (median of {prof['reps']}): tree read from the mirror {m('read_tree_ms')} "
      f"({prof['files']} files, {prof['bytes']/1e6:.2f} MB); whole fetch, mirror current {m('fetch_warm_mirror_ms')}; "
      f"(sha256 of every file, as a file:// source's revision: {m('sha256_tree_ms')}); unknown_setters {m('unknown_setters_ms')}; "
      f"render {m('render_ms')} ({prof['changed_values']} values in {prof['changed_files']} files); "
      f"pack {m('pack_ms')} ({prof['targz_bytes']/1e6:.2f} MB tar.gz); storage put {m('storage_put_ms')}; "
      f"OCI artifact built for the push {m('build_flux_artifact_ms')} (of which the tar's diff_id, "
      f"gunzip + SHA-256: {m('tar_digest_ms')}); SHA-256 of the {prof['sha256_bytes']/1e6:.2f} MB of files: "
      f"image::sha256_digest {m('sha256_digest_ms')}, raw OpenSSL EVP {m('sha256_openssl_ms')}")
for x in a:
    if x["phase"] in ("cold", "new-tag"):
        print(f"  {x['phase']}: images {' '.join(x['images'])}; revision {x['revision']}; artifact {x['artifact_digest'][:19]}… {x['artifact_size']} B")
def summary(rs, phase):
    xs = [x for x in rs if x["phase"] == phase]
    ms = [x["ms"] for x in xs]
    return (f"{statistics.median(ms):.1f} ms ({min(ms):.1f}–{max(ms):.1f}; git fetch "
            f"{statistics.median([x['fetch_ms'] for x in xs]):.1f} ms)")
print(f"A10 (the same ImageUpdater over 10 Deployments, 1 commit, no OCI): cold {summary(a10, 'cold')}, "
      f"warm {summary(a10, 'warm-cached')}, next interval {summary(a10, 'warm-expired')}")
print()
x = b[0]
print(f"B: {x['updaters']} ImageUpdaters, {x['distinct_images']} distinct images, {x['image_refs']} image references")
print()
print("| round | rate limit | workers | wall time | tag-list requests | Ready | new artifacts | reconcile median (max) | resolve, summed | git fetch, summed |")
print("|---|---|---|---|---|---|---|---|---|---|")
for x in b:
    phase = x["phase"].removeprefix("unlimited-")
    label = {"fleet-cold": "first (cold: empty caches)", "fleet-next-interval": "next interval (cache expired)"}[phase]
    limit = "none" if x["phase"].startswith("unlimited-") else "20/s"
    print(f"| {label} | {limit} | {x['workers']} | {x['wall_ms']:.0f} ms | {x['tag_requests']} | {x['ready']} | "
          f"{x['new_artifacts']} | {x['reconcile_ms_median']:.1f} ms ({x['reconcile_ms_max']:.1f}) | "
          f"{x['resolve_ms_sum']:.0f} ms | {x['fetch_ms_sum']:.0f} ms |")
for x in b:
    print(f"  {x['phase']} x{x['workers']}: errors {x['errors']}, OCI push calls {x['push_calls']}, reconciles summed {x['reconcile_ms_sum']:.0f} ms")
PY
