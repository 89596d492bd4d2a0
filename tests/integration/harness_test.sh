#!/usr/bin/env bash
# harness_test.sh [ENV_FILE]
# Smoke test of the integration-test services (tests/harness/services.sh): proves that every
# endpoint in the env file answers as tests/harness/README.md documents. curl + jq only.
# ENV_FILE defaults to $IU_SERVICES_ENV (set by CTest, see tests/integration/CMakeLists.txt).
# Prints one line per check and "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
env_file=${1:-${IU_SERVICES_ENV:-}}
if [ -z "$env_file" ] || [ ! -r "$env_file" ]; then
  echo "harness_test.sh: no env file (argument or IU_SERVICES_ENV)" >&2
  exit 2
fi
# shellcheck disable=SC1090  # written by services.sh: KEY=value lines
. "$env_file"
# shellcheck disable=SC1090
. "$EXPECTED"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
me="smoke-$$"   # our own fault-server repository prefix: fresh counters even in parallel runs
pass=0 fail=0

check() {   # check NAME COMMAND...: runs the command, prints ok/FAIL
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name"; sed 's/^/     | /' "$work/out" | tail -n 8
  fi
}
eq() { [ "$1" = "$2" ] || { echo "expected [$2], got [$1]"; return 1; }; }
ge() { [ "$1" -ge "$2" ] || { echo "expected >= $2, got $1"; return 1; }; }

# Never the environment's proxy or CA bundle (SSL_CERT_FILE, CURL_CA_BUNDLE may be set).
c() { curl -sS --noproxy '*' --max-time 20 "$@"; }
code() { c -o /dev/null -w '%{http_code}' "$@"; }
hdr() {  # hdr NAME CURL-ARGS...: value of response header NAME (case-insensitive), HEAD/GET as given
  local name=$1; shift
  c -D - -o /dev/null "$@" | tr -d '\r' | awk -v n="$name" 'BEGIN { n = tolower(n) ":" }
    tolower(substr($0, 1, length(n))) == n { sub(/^[^:]*: */, ""); print; exit }'
}
ACCEPT="Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"

# ------------------------------------------------------------------------------ plain registry
check "plain: app has $APP_TAG_COUNT tags" \
  eq "$(c "$REGISTRY_PLAIN/v2/app/tags/list" | jq -c '.tags | sort')" "$(jq -Rsc 'split("\n") | map(select(length > 0)) | sort' "$APP_TAGS_FILE")"
check "plain: big has the generated $BIG_TAG_COUNT tags" \
  eq "$(c "$REGISTRY_PLAIN/v2/big/tags/list" | jq -r '.tags[]' | LC_ALL=C sort | sha256sum)" "$(sha256sum < "$BIG_TAGS_SORTED_FILE")"
check "plain: library/nginx tags" \
  eq "$(c "$REGISTRY_PLAIN/v2/library/nginx/tags/list" | jq -c '.tags | sort')" '["1.25.0","1.25.3","1.26.0","latest"]'
check "plain: HEAD multi:1.0 = OCI index digest" \
  eq "$(hdr Docker-Content-Digest -I -H "$ACCEPT" "$REGISTRY_PLAIN/v2/multi/manifests/1.0")" "$MULTI_INDEX_DIGEST"
check "plain: multi:1.0 is an OCI index of amd64 + arm64/v8" \
  eq "$(c -H "$ACCEPT" "$REGISTRY_PLAIN/v2/multi/manifests/1.0" | jq -c '[.mediaType, [.manifests[] | .platform.architecture + "/" + (.platform.variant // "") + "=" + .digest]]')" \
  "[\"application/vnd.oci.image.index.v1+json\",[\"amd64/=$MULTI_AMD64_DIGEST\",\"arm64/v8=$MULTI_ARM64_DIGEST\"]]"
check "plain: HEAD multi:1.0-docker = Docker manifest list digest" \
  eq "$(hdr Docker-Content-Digest -I -H "$ACCEPT" "$REGISTRY_PLAIN/v2/multi/manifests/1.0-docker")" "$MULTI_DOCKER_LIST_DIGEST"
check "plain: nginx latest = 1.26.0" eq "$NGINX_LATEST_DIGEST" "$NGINX_1_26_0_DIGEST"
nb_created() {  # config.created of nb:TAG, via manifest -> config blob
  local cfg
  cfg=$(c -H "$ACCEPT" "$REGISTRY_PLAIN/v2/nb/manifests/$1" | jq -r .config.digest)
  c "$REGISTRY_PLAIN/v2/nb/blobs/$cfg" | jq -r .created
}
check "plain: nb created dates" \
  eq "$(nb_created v1) $(nb_created v2) $(nb_created v3)" "$NB_V1_CREATED $NB_V2_CREATED $NB_V3_CREATED"

# ------------------------------------------------------------------------------ basic auth
check "basic: anonymous -> 401 Basic challenge" \
  eq "$(code "$REGISTRY_BASIC/v2/app/tags/list") $(hdr WWW-Authenticate "$REGISTRY_BASIC/v2/app/tags/list")" '401 Basic realm="test-realm"'
check "basic: wrong password -> 401" eq "$(code -u "$BASIC_USER:nope" "$REGISTRY_BASIC/v2/app/tags/list")" 401
check "basic: credentials -> 200, same content" \
  eq "$(c -u "$BASIC_USER:$BASIC_PASS" "$REGISTRY_BASIC/v2/app/tags/list" | jq '.tags | length')" "$APP_TAG_COUNT"

# ------------------------------------------------------------------------------ bearer token
check "token: anonymous -> 401 Bearer challenge naming realm, service, scope" \
  eq "$(hdr WWW-Authenticate "$REGISTRY_TOKEN/v2/app/tags/list")" \
  "Bearer realm=\"$TOKEN_REALM\",service=\"$TOKEN_SERVICE\",scope=\"repository:app:pull\""
token() {  # token REALM [curl auth args]: the token for pull on repository $scope_repo
  local realm=$1; shift
  c "$@" "$realm?service=$TOKEN_SERVICE&scope=repository:$scope_repo:pull" | jq -r '.token // empty'
}
scope_repo=app
tok=$(token "$TOKEN_REALM" -u "$TOKEN_USER:$TOKEN_PASS")
check "token: token server issues a token for $TOKEN_USER" test -n "$tok"
check "token: bearer token -> 200" \
  eq "$(c -H "Authorization: Bearer $tok" "$REGISTRY_TOKEN/v2/app/tags/list" | jq '.tags | length')" "$APP_TAG_COUNT"
check "token: token for app does not open big (scoped)" \
  eq "$(code -H "Authorization: Bearer $tok" "$REGISTRY_TOKEN/v2/big/tags/list")" 401
check "token: bad password -> 401 from the token server" \
  eq "$(code -u "$TOKEN_USER:nope" "$TOKEN_REALM?service=$TOKEN_SERVICE&scope=repository:app:pull")" 401
check "token: anonymous -> 401 from the strict realm" \
  eq "$(code "$TOKEN_REALM?service=$TOKEN_SERVICE&scope=repository:app:pull")" 401
check "token: wrong service -> 400" \
  eq "$(code -u "$TOKEN_USER:$TOKEN_PASS" "$TOKEN_REALM?service=other&scope=repository:app:pull")" 400
# The log is shared with every other test of this run: look for our request, not the first one.
check "token: the request log records user and scope" \
  eq "$(jq -sc 'any(.[]; .user == "carol" and .status == 200 and .scopes == ["repository:app:pull"])' "$TOKEN_LOG")" true
check "token-anon: challenge names the anonymous realm" \
  eq "$(hdr WWW-Authenticate "$REGISTRY_TOKEN_ANON/v2/nb/tags/list")" \
  "Bearer realm=\"$TOKEN_REALM_ANON\",service=\"$TOKEN_SERVICE\",scope=\"repository:nb:pull\""
scope_repo=nb
atok=$(token "$TOKEN_REALM_ANON")
check "token-anon: anonymous pull token -> 200" \
  eq "$(c -H "Authorization: Bearer $atok" "$REGISTRY_TOKEN_ANON/v2/nb/tags/list" | jq -c '.tags | sort')" '["v1","v2","v3"]'

# ------------------------------------------------------------------------------ TLS
tls_port=${REGISTRY_TLS##*:}
check "tls: https://127.0.0.1 with --cacert TLS_CA -> 200" eq "$(code --cacert "$TLS_CA" "$REGISTRY_TLS/v2/")" 200
check "tls: https://localhost with --cacert TLS_CA -> 200" eq "$(code --cacert "$TLS_CA" "https://localhost:$tls_port/v2/")" 200
check "tls: content served over TLS" \
  eq "$(c --cacert "$TLS_CA" "$REGISTRY_TLS/v2/library/nginx/tags/list" | jq '.tags | length')" 4
tls_rc() { c --cacert "$1" -o /dev/null "$REGISTRY_TLS/v2/"; echo $?; }
check "tls: an unrelated CA fails verification (curl rc 60)" eq "$(tls_rc "$TLS_OTHER_CA" 2>/dev/null)" 60
check "tls: the system bundle fails verification (curl rc 60)" eq "$(tls_rc /etc/ssl/certs/ca-certificates.crt 2>/dev/null)" 60

# ------------------------------------------------------------------------------ paginating proxy
check "paged: first page = $PAGE_SIZE tags + relative Link" \
  eq "$(c "$REGISTRY_PAGED/v2/big/tags/list" | jq '.tags | length') $(hdr Link "$REGISTRY_PAGED/v2/big/tags/list")" \
  "$PAGE_SIZE </v2/big/tags/list?n=$PAGE_SIZE&last=$BIG_FIRST_PAGE_LAST>; rel=\"next\""
follow() {  # follow BASE PATH: walks the Link headers (relative or same-origin); prints "tags pages"
  local base=$1 next=$2 pages=0 line
  rm -rf "$work/pages" && mkdir "$work/pages"
  while [ -n "$next" ] && [ "$pages" -lt 1000 ]; do
    pages=$((pages + 1))
    c -D "$work/h" -o "$work/pages/$(printf %04d "$pages")" "$base$next" || return 1
    next=
    while IFS= read -r line; do   # Link: <URL>; rel="next"
      line=${line%$'\r'}
      case ${line,,} in link:*) next=${line#*<}; next=${next%%>*}; next=${next#"$base"} ;; esac
    done < "$work/h"
  done
  jq -r '.tags[]' "$work/pages"/* > "$work/all"   # page order (zero-padded names)
  echo "$(sort -u "$work/all" | wc -l) $pages"
}
check "paged: following the Link headers gives all $BIG_TAG_COUNT tags in $BIG_PAGE_COUNT pages" \
  eq "$(follow "$REGISTRY_PAGED" /v2/big/tags/list)" "$BIG_TAG_COUNT $BIG_PAGE_COUNT"
check "paged: pages are in lexical order" \
  eq "$(LC_ALL=C sort -c "$work/all" && echo sorted)" sorted
check "paged: ?n=3&last= honoured" \
  eq "$(c "$REGISTRY_PAGED/v2/big/tags/list?n=3&last=$BIG_FIRST_PAGE_LAST" | jq -c .tags)" \
  "$(sed -n "$((PAGE_SIZE + 1)),$((PAGE_SIZE + 3))p" "$BIG_TAGS_SORTED_FILE" | jq -Rsc 'split("\n") | map(select(length > 0))')"
check "paged: app fits one page: no Link" eq "$(hdr Link "$REGISTRY_PAGED/v2/app/tags/list")" ""
check "paged-absolute: Link is an absolute URL to the same proxy" \
  eq "$(hdr Link "$REGISTRY_PAGED_ABSOLUTE/v2/big/tags/list")" \
  "<$REGISTRY_PAGED_ABSOLUTE/v2/big/tags/list?n=$PAGE_SIZE&last=$BIG_FIRST_PAGE_LAST>; rel=\"next\""
check "paged-foreign: Link points at another host" \
  eq "$(hdr Link "$REGISTRY_PAGED_FOREIGN/v2/big/tags/list")" \
  "<$FAULTS_OTHER/v2/big/tags/list?n=$PAGE_SIZE&last=$BIG_FIRST_PAGE_LAST>; rel=\"next\""
check "paged: /_stats counts tag-list requests" ge "$(c "$REGISTRY_PAGED/_stats" | jq '.tags_requests.big')" "$BIG_PAGE_COUNT"

# ------------------------------------------------------------------------------ fault server
F=$REGISTRY_FAULTS
stats() { c "$F/_stats?repo=$1"; }
check "faults: ok repo serves the fault tags" \
  eq "$(c "$F/v2/$me/ok/tags/list" | jq -r '.tags | join(",")')" "$FAULT_TAGS"
check "faults: ratelimited -> 429, 429 (Retry-After: 1), then 200" \
  eq "$(for _ in 1 2 3; do code "$F/v2/$me/ratelimited/tags/list"; echo -n " "; done; hdr Retry-After "$F/v2/$me/ratelimited-1/tags/list")" "429 429 200 1"
check "faults: /_stats counts requests and statuses per repository" \
  eq "$(stats "$me/ratelimited" | jq -c '[.fault, .count, [.requests[].status]]')" '["ratelimited",3,[429,429,200]]'
check "faults: flaky -> 500, 500, then 200" \
  eq "$(for _ in 1 2 3; do code "$F/v2/$me/flaky/tags/list"; echo -n " "; done)" "500 500 200 "
check "faults: garbage -> 200 with a body that is not JSON" \
  eq "$(code "$F/v2/$me/garbage/tags/list") $(c "$F/v2/$me/garbage/tags/list" | jq . >/dev/null 2>&1; echo $?)" "200 4"
huge_rc() { c --max-filesize $((16 << 20)) -o /dev/null "$F/v2/$me/$1/tags/list"; echo $?; }
check "faults: huge announces > 16 MiB (curl --max-filesize: rc 63)" eq "$(huge_rc huge 2>/dev/null)" 63
# curl 7.88 applies --max-filesize to announced sizes only: count what arrives instead
check "faults: huge-chunked streams > 16 MiB without Content-Length" \
  eq "$(hdr Transfer-Encoding -r 0-0 "$F/v2/$me/huge-chunked/tags/list" 2>/dev/null; c "$F/v2/$me/huge-chunked/tags/list" 2>/dev/null | head -c $(((16 << 20) + 1)) | wc -c)" \
  "chunked
$(((16 << 20) + 1))"
hang_rc() { c --max-time 1 -o /dev/null "$F/v2/$me/$1/tags/list"; echo $?; }
check "faults: hang never answers (curl timeout rc 28)" eq "$(hang_rc hang 2>/dev/null)" 28
check "faults: trickle never completes in time (rc 28)" eq "$(hang_rc trickle 2>/dev/null)" 28
check "faults: redirect -> 302 to the other host" \
  eq "$(code "$F/v2/$me/redirect/tags/list") $(hdr Location "$F/v2/$me/redirect/tags/list")" \
  "302 $FAULTS_OTHER/v2/$me/redirect/tags/list"
check "faults: the other host serves its own tags and records the request" \
  eq "$(c "$FAULTS_OTHER/v2/$me/redirect/tags/list" | jq -r '.tags | join(",")') $(jq -sc "[.[] | select(.path | contains(\"$me/\"))] | length" "$FAULTS_OTHER_LOG")" \
  "$FAULT_OTHER_TAGS 1"
check "faults: auth -> 401 Basic challenge, then 200 with credentials" \
  eq "$(code "$F/v2/$me/auth/tags/list") $(code -u "$FAULTS_USER:$FAULTS_PASS" "$F/v2/$me/auth/tags/list")" "401 200"
check "faults: auth records the Authorization headers seen" \
  eq "$(stats "$me/auth" | jq -c '[.requests[] | .authorization != null]')" '[false,true]'
check "faults: unknown repository -> 404" eq "$(code "$F/v2/$me/nosuchfault/tags/list")" 404
check "faults: manifest endpoint answers with a digest" \
  test -n "$(hdr Docker-Content-Digest -I "$F/v2/$me/ok/manifests/1.0.0")"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
