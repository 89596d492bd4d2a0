#!/usr/bin/env bash
# Packaging checks: plugin.yaml, kustomize/, examples/apps, Dockerfile (tests/packaging/
# CMakeLists.txt registers one CTest test per part).
#   packaging_test.sh plugin|kustomize|examples|dockerfile|all
# Environment: IU_SOURCE_DIR (default: two levels up), IU_CMP (the built imageupdater-cmp;
# optional checks are skipped with a message when it does not exist).
# Exit 0 pass, 1 fail (every problem printed), 77 skipped (a needed tool is missing).
set -euo pipefail

src=${IU_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cmp=${IU_CMP:-}
[[ -n "$cmp" && -x "$cmp" ]] || cmp=""
part=${1:-all}
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
note() { echo "note: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# YAML (one or more documents) -> JSON on stdout: kubectl (offline, --local) or PyYAML.
yaml_to_json() {
  if have kubectl; then
    # One JSON object per document, concatenated: gather them into a List when several.
    kubectl label --local -o json -f "$1" imageupdater-test=1 >"$tmp/label.json" || return 1
    python3 -c 'import json, sys
text, docs, i, dec = open(sys.argv[1]).read(), [], 0, json.JSONDecoder()
while True:
    while i < len(text) and text[i].isspace(): i += 1
    if i >= len(text): break
    d, i = dec.raw_decode(text, i); docs.append(d)
print(json.dumps(docs[0] if len(docs) == 1 else {"kind": "List", "items": docs}))' "$tmp/label.json"
  elif python3 -c 'import yaml' 2>/dev/null; then
    python3 -c 'import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
print(json.dumps(docs[0] if len(docs) == 1 else {"kind": "List", "items": docs}))' "$1"
  else
    return 77
  fi
}

check_plugin() {
  local json=$tmp/plugin.json rc=0
  yaml_to_json "$src/plugin.yaml" >"$json" || rc=$?
  if ((rc == 77)); then echo "SKIP: neither kubectl nor python3 yaml to read plugin.yaml" >&2; return 77; fi
  if ((rc != 0)); then fail "plugin.yaml does not parse as YAML"; return 0; fi
  local help=""
  if [[ -n "$cmp" ]] && "$cmp" generate --help >"$tmp/help.txt" 2>&1 &&
     grep -q 'Usage:.*generate' "$tmp/help.txt"; then help=$tmp/help.txt
  else note "imageupdater-cmp generate --help not available: announced names not checked against it"; fi
  python3 - "$json" "$help" "$src/common/render/settings.cpp" <<'EOF' || failures=$((failures + 1))
import os, re
import json, sys
p = json.load(open(sys.argv[1]))
errors = []
def want(cond, msg):
    if not cond: errors.append(msg)
spec = p.get("spec", {})
want(p.get("apiVersion") == "argoproj.io/v1alpha1", "apiVersion must be argoproj.io/v1alpha1")
want(p.get("kind") == "ConfigManagementPlugin", "kind must be ConfigManagementPlugin")
want(p.get("metadata", {}).get("name") == "imageupdater", "metadata.name must be imageupdater")
want(spec.get("version") == "v0.1.0", "spec.version must be v0.1.0")
want(spec.get("generate", {}).get("command") == ["imageupdater-cmp", "generate"], "spec.generate.command")
disc = spec.get("discover", {})
want(disc.get("find", {}).get("command") == ["imageupdater-cmp", "discover"], "spec.discover.find.command")
want("fileName" not in disc and "glob" not in disc.get("find", {}),
     "discover: only find.command (Argo CD evaluates only the first configured method)")
static = spec.get("parameters", {}).get("static", [])
expected = {  # name -> collectionType
    "specs": "array", "keep-specs": "string", "render": "string", "include": "string",
    "exclude": "string", "recurse": "string", "helm-release-name": "string",
    "helm-namespace": "string", "helm-values-files": "array", "helm-parameters": "map",
    "kube-version": "string", "kube-api-versions": "array", "pin-digests": "string",
    "helm-string-parameters": "map", "helm-skip-crds": "string", "jsonnet-ext-vars": "map",
    "jsonnet-ext-code": "map", "jsonnet-tlas": "map", "jsonnet-tla-code": "map",
    "jsonnet-libs": "array", "allow-empty": "string", "strict": "string", "log-level": "string"}
operator_only = {"registries-conf", "secrets-dir", "cache-dir", "cache-ttl", "timeout", "parallel",
                 "argocd-namespace", "kustomize-build-options", "render-timeout"}
names = [a.get("name") for a in static]
want(len(names) == len(set(names)), "parameter names repeat: %s" % names)
want(set(names) == set(expected), "announced %s, expected %s" % (sorted(names), sorted(expected)))
want(not operator_only & set(names), "sidecar-only settings announced: %s" % (operator_only & set(names)))
for a in static:
    n = a.get("name")
    for k in ("title", "tooltip"):
        want(isinstance(a.get(k), str) and a[k].strip(), "%s: %s missing" % (n, k))
    ct = a.get("collectionType", "string") or "string"
    want(ct == expected.get(n, ct), "%s: collectionType %s, expected %s" % (n, ct, expected.get(n)))
    defaults = [k for k in ("string", "array", "map") if k in a]
    want(all(k == ct for k in defaults), "%s: default given as %s for collectionType %s" % (n, defaults, ct))
    if n in ("keep-specs", "recurse", "pin-digests", "helm-skip-crds", "allow-empty", "strict"):
        want(a.get("string") in ("true", "false"), "%s: default must be \"true\" or \"false\"" % n)
# The plugin's own table of settings (common/render/settings.cpp): every setting but the
# operator's is announced, with the matching collection type.
if os.path.exists(sys.argv[3]):
    source = open(sys.argv[3]).read()
    table = re.findall(r'SettingInfo\{"([a-z-]+)",\s*SettingKind::(\w+)((?:[^{}]|"[^"]*")*)\}', source)
    if table:
        kinds = {"string": "string", "boolean": "string", "array": "array", "map": "map"}
        plugin = {n: kinds.get(k, k) for n, k, rest in table if "k_operator" not in rest}
        scoped = {n for n, k, rest in table if "k_operator" in rest}
        want(scoped == operator_only, "settings.cpp operator settings %s, expected %s"
             % (sorted(scoped), sorted(operator_only)))
        want(plugin == expected, "settings.cpp table %s differs from the announcements %s"
             % (sorted(plugin.items()), sorted(expected.items())))
if sys.argv[2]:
    text = open(sys.argv[2]).read()
    for n in names:
        env = "IMAGEUPDATER_" + n.upper().replace("-", "_")
        want(n in text or env in text, "%s (%s) is not in `imageupdater-cmp generate --help`" % (n, env))
for e in errors:
    print("FAIL: plugin.yaml: " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
}

check_kustomize() {
  have kubectl || { echo "SKIP: kubectl not installed: kustomize/ not built" >&2; return 77; }
  local dir n=0
  while IFS= read -r dir; do
    n=$((n + 1))
    kubectl kustomize "$dir" >"$tmp/out.yaml" 2>"$tmp/err.txt" ||
      fail "kubectl kustomize ${dir#"$src"/}: $(cat "$tmp/err.txt")"
  done < <(find "$src/kustomize" -type f \( -name kustomization.yaml -o -name kustomization.yml \
             -o -name Kustomization \) -printf '%h\n' | sort -u)
  ((n >= 4)) || fail "expected at least 4 kustomize folders (sidecar, install, argocd-standin, examples), found $n"

  # The install overlay: the sidecar as Argo CD wires CMP v2 sidecars.
  kubectl kustomize "$src/kustomize/install" >"$tmp/install.yaml" || { fail "install does not build"; return 0; }
  yaml_to_json "$tmp/install.yaml" >"$tmp/install.json" || { fail "install output unreadable"; return 0; }
  python3 - "$tmp/install.json" "$src/plugin.yaml" <<'EOF' || failures=$((failures + 1))
import json, sys
doc = json.load(open(sys.argv[1]))
items = doc["items"] if doc.get("kind") == "List" else [doc]
errors = []
def want(cond, msg):
    if not cond: errors.append(msg)
deps = [i for i in items if i["kind"] == "Deployment" and i["metadata"]["name"] == "argocd-repo-server"]
want(len(deps) == 1, "one Deployment argocd-repo-server")
pod = deps[0]["spec"]["template"]["spec"] if deps else {}
volumes = {v["name"]: v for v in pod.get("volumes", [])}
cs = [c for c in pod.get("containers", []) if c["name"] == "imageupdater"]
want(len(cs) == 1, "one container imageupdater")
want(any(c["name"] == "argocd-repo-server" for c in pod.get("containers", [])), "repo-server container kept")
c = cs[0] if cs else {}
want(c.get("command") == ["/var/run/argocd/argocd-cmp-server"], "command is argocd-cmp-server")
want(c.get("image", "").startswith("registry.example.com/"), "overlay sets the image")
sc = c.get("securityContext", {})
want(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 999, "runAsNonRoot, user 999")
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
want(mounts.get("/var/run/argocd", {}).get("name") == "var-files", "var-files at /var/run/argocd")
want(mounts.get("/home/argocd/cmp-server/plugins", {}).get("name") == "plugins", "plugins volume")
tmpm = mounts.get("/tmp", {}).get("name")
want(tmpm and tmpm != "tmp" and "emptyDir" in volumes.get(tmpm, {}), "own /tmp emptyDir (not repo-server's)")
env = {e["name"]: e.get("value") for e in c.get("env", [])}
sd = env.get("IMAGEUPDATER_SECRETS_DIR")
want(sd == "/var/run/secrets/imageupdater", "IMAGEUPDATER_SECRETS_DIR")
sm = mounts.get(sd or "", {})
want(sm.get("readOnly") is True and "projected" in volumes.get(sm.get("name"), {}),
     "pull secrets: a read-only projected volume at IMAGEUPDATER_SECRETS_DIR")
for s in volumes.get(sm.get("name"), {}).get("projected", {}).get("sources", []):
    sec = s.get("secret", {})
    want(sec.get("optional") is True, "pull secret %s: optional" % sec.get("name"))
    for it in sec.get("items", []):
        want(it.get("key") != ".dockerconfigjson" or it.get("path", "").endswith("/.dockerconfigjson"),
             "pull secret %s: path <name>/.dockerconfigjson or <ns>/<name>/.dockerconfigjson" % sec.get("name"))
cd = env.get("IMAGEUPDATER_CACHE_DIR") or ""
parents = [p for p in mounts if cd.startswith(p.rstrip("/") + "/")]
want(parents and "emptyDir" in volumes.get(mounts[parents[0]]["name"], {}),
     "IMAGEUPDATER_CACHE_DIR strictly inside an emptyDir mount (the plugin creates it 0700)")
for k in ("IMAGEUPDATER_CACHE_TTL", "IMAGEUPDATER_TIMEOUT", "IMAGEUPDATER_PARALLEL",
          "IMAGEUPDATER_REGISTRIES_CONF"):
    want(k in env, "env %s" % k)
rc = env.get("IMAGEUPDATER_REGISTRIES_CONF") or ""
want(any(rc.startswith(p.rstrip("/") + "/") for p in mounts), "registries.conf under a mount")
want(all(m["name"] in volumes for m in c.get("volumeMounts", [])), "every mount has a volume")
want("limits" in c.get("resources", {}) and "requests" in c.get("resources", {}), "resources")
for e in errors:
    print("FAIL: kustomize/install: " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
  return 0
}

check_examples() {
  local app name rendered=0
  # Every example app: a spec for the Argo CD Application of the same name in kustomize/examples.
  for app in plain kustomize helm; do
    local spec=$src/examples/apps/$app/imageupdater.yaml
    [[ -f $spec ]] || { fail "examples/apps/$app/imageupdater.yaml missing"; continue; }
    name=demo-$app
    grep -q "name: $name\$" "$spec" || fail "examples/apps/$app: spec.argocd.app.name is not $name"
    grep -rq "path: examples/apps/$app\$" "$src/kustomize/examples" ||
      fail "kustomize/examples: no Application with path examples/apps/$app"
    grep -q "127.0.0.1:5000/demo/" "$spec" || fail "examples/apps/$app: images not on 127.0.0.1:5000/demo/"
    if [[ -n "$cmp" ]]; then
      "$cmp" validate -f "$spec" >/dev/null 2>"$tmp/err.txt" ||
        fail "imageupdater-cmp validate examples/apps/$app: $(cat "$tmp/err.txt")"
    fi
  done
  [[ -n "$cmp" ]] || note "imageupdater-cmp not built: specs not validated"
  grep -rq "name: imageupdater-v0.1.0\$" "$src/kustomize/examples" ||
    fail "kustomize/examples: no Application names the plugin imageupdater-v0.1.0"
  local f
  while IFS= read -r f; do
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$f" 2>/dev/null || fail "${f#"$src"/}: not JSON"
  done < <(find "$src/examples/apps" -name '*.json')
  find "$src/examples/apps/plain" -mindepth 2 -name '*.yaml' | grep -q . ||
    fail "examples/apps/plain: no nested directory with manifests"

  if have kubectl; then
    rendered=1
    kubectl kustomize "$src/examples/apps/kustomize" >"$tmp/k.yaml" 2>"$tmp/err.txt" ||
      fail "kubectl kustomize examples/apps/kustomize: $(cat "$tmp/err.txt")"
    for k in Deployment Service CronJob; do
      grep -q "^kind: $k\$" "$tmp/k.yaml" || fail "examples/apps/kustomize renders no $k"
    done
    grep -q "kind: ImageUpdater" "$tmp/k.yaml" && fail "examples/apps/kustomize renders its ImageUpdater"
  else
    note "kubectl not installed: examples/apps/kustomize not built"
  fi
  if have helm; then
    rendered=1
    helm template demo-helm "$src/examples/apps/helm" >"$tmp/h.yaml" 2>"$tmp/err.txt" ||
      fail "helm template examples/apps/helm: $(cat "$tmp/err.txt")"
    grep -q 'image: "127.0.0.1:5000/demo/web:1.2.0"' "$tmp/h.yaml" ||
      fail "examples/apps/helm: the chart does not render image.repository:image.tag"
  else
    note "helm not installed: examples/apps/helm not rendered"
  fi
  if ((rendered == 0 && failures == 0)); then
    echo "SKIP: neither kubectl nor helm installed: example apps not rendered" >&2; return 77
  fi
  return 0
}

check_dockerfile() {
  local df=$src/Dockerfile line
  [[ -f $df ]] || { fail "Dockerfile missing"; return 0; }
  # Sources of COPY without --from, relative to the build context (the repository).
  local srcs=()
  while IFS= read -r line; do
    read -r -a words <<<"$line"
    local args=() w
    for w in "${words[@]:1}"; do [[ $w == --* ]] || args+=("$w"); done
    [[ $line == *--from=* ]] && continue
    srcs+=("${args[@]:0:${#args[@]}-1}")
  done < <(grep -E '^COPY ' "$df")
  ((${#srcs[@]} > 0)) || fail "Dockerfile copies nothing from the context"
  local s
  for s in "${srcs[@]}"; do
    [[ -e "$src/$s" ]] || fail "Dockerfile copies $s, which does not exist"
    if [[ -f "$src/.dockerignore" && $s != . ]] &&
       grep -vE '^\s*(#|$)' "$src/.dockerignore" | grep -qxF "$s"; then
      fail "Dockerfile copies $s, which .dockerignore excludes"
    fi
  done
  grep -qx 'COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml' "$df" ||
    fail "Dockerfile does not bake plugin.yaml at /home/argocd/cmp-server/config/plugin.yaml"
  grep -q 'scripts/install-deps.sh' "$df" || fail "Dockerfile does not use scripts/install-deps.sh"
  grep -q 'cmake --install build --prefix /opt/imageupdater' "$df" || fail "Dockerfile: cmake --install"
  grep -qE '^USER 999' "$df" || fail "Dockerfile: USER 999"
  grep -q 'HOME=/home/argocd' "$df" || fail "Dockerfile: HOME=/home/argocd"
  grep -q 'PATH=/opt/imageupdater/bin' "$df" || fail "Dockerfile: PATH with /opt/imageupdater/bin"
  grep -qE '^FROM debian:\$\{DEBIAN_VERSION\}-slim$|^FROM debian:12-slim$' "$df" ||
    fail "Dockerfile: runtime stage is not debian 12 slim"
  grep -q 'ARG DEBIAN_VERSION=12' "$df" || fail "Dockerfile: Debian 12"

  # The packages of the libraries the built executables need directly must be installed.
  if [[ -n "$cmp" ]] && have readelf && have dpkg; then
    local tls lib path pkg
    tls=$(dirname "$cmp")/imageupdater-tls.so
    local flux
    flux=$(dirname "$cmp")/imageupdater-flux-source
    for lib in $( { readelf -d "$cmp"; [[ -f $tls ]] && readelf -d "$tls";
                    [[ -f $flux ]] && readelf -d "$flux"; } |
                  sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort -u); do
      path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
      [[ -n $path ]] || { fail "$lib: not found on this machine"; continue; }
      pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) ||
        pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
      case "$lib" in
        libasan.so.* | libubsan.so.* | liblsan.so.* | libtsan.so.*) continue ;; # sanitizer builds
      esac
      case "$pkg" in
        libc6 | libgcc-s1 | libstdc++6 | "") ;;  # in debian:12-slim
        *) grep -qw -- "$pkg" "$df" || fail "Dockerfile: runtime package $pkg (for $lib) not installed" ;;
      esac
    done
  else
    note "built imageupdater-cmp, readelf or dpkg missing: runtime packages not checked"
  fi
  return 0
}

run() {
  local rc=0
  "check_$1" || rc=$?
  if ((rc == 77)); then return 77; fi
  return 0
}

skipped=0
case "$part" in
  plugin | kustomize | examples | dockerfile) run "$part" || skipped=1 ;;
  all) for p in plugin kustomize examples dockerfile; do run "$p" || true; done ;;
  *) echo "usage: $0 plugin|kustomize|examples|dockerfile|all" >&2; exit 2 ;;
esac
if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
if ((skipped)); then exit 77; fi
echo "ok: $part"
