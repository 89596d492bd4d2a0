#!/usr/bin/env python3
"""Fault-injection registry for the integration tests (python3 stdlib only).

  faults.py PORT [--port-file F] [--other-host 127.0.0.2] [--other-log F] [--user U:P]
            [--max-stall SECONDS]

Speaks just enough of the registry API on 127.0.0.1:PORT (PORT 0 = kernel's choice; --port-file
gets "<port>\\n<other port>\\n" once both sockets listen):
  GET /v2/                                  200 {} (always; counted as "ping")
  GET|HEAD /v2/<name>/tags/list             {"name": <name>, "tags": ["1.0.0", "1.1.0", "2.0.0"]}
  GET|HEAD /v2/<name>/manifests/<ref>       a small OCI manifest + Docker-Content-Digest
  GET|HEAD /v2/<name>/blobs/<digest>        that manifest's config blob (created 2024-01-01)
when no fault fires. The LAST component of <name> selects the fault, optionally with a
numeric parameter "-N" ("ratelimited", "team-a/ratelimited-3"); all requests to one full
<name> share one counter, so a test that uses its own prefix ("mytest/flaky") gets fresh state
even while other tests run in parallel:
  ok               never fails
  ratelimited[-N]  first N (default 2) requests: 429, Retry-After: 1, TOOMANYREQUESTS; then 200
  flaky[-N]        first N (default 2) requests: 500 UNKNOWN; then 200
  denied           always 403 DENIED
  hang[-S]         reads the request, answers nothing for S s (default and cap: --max-stall,
                   60), then closes the connection
  stall[-S]        sends headers (full Content-Length) and half the body, stalls S s, closes
  trickle[-S]      sends headers, then one body byte every 0.5 s, for at most S s, then closes
                   (defeats a per-read timeout; only a whole-response deadline stops it)
  drip-head[-S]    sends the response's status line and headers one byte every 0.5 s, for at
                   most S s, then closes (the head itself defeats a per-read timeout)
  garbage          200 application/json whose body is not JSON
  huge             200 with Content-Length 64 MiB (far over 16 MiB), streamed in 64 KiB chunks
                   (never held in memory); the JSON is valid if read to the end
  huge-chunked     the same body with Transfer-Encoding: chunked and no Content-Length
  redirect         302 to http://<other-host>:<other port><same path and query>
  auth             HTTP Basic required (--user, default faultuser:faultpass): 401 with
                   WWW-Authenticate: Basic realm="faults" unless the credentials match
  auth-redirect    auth first, then (with good credentials) the redirect above
Any other name: 404 NAME_UNKNOWN.

The "other host" listener (--other-host, default 127.0.0.2; a second loopback address, so a
different host for a client's same-origin checks) answers every /v2/ request with 200
(tags/list: {"name": <name>, "tags": ["4.0.0", "4.1.0"]}) and RECORDS each request (method,
path, host, authorization header or null) in memory and, with --other-log, as one JSON object
per line in that file: tests assert that no credential ever reached it.

GET /_stats           {"ping": n, "repos": {<name>: {"fault", "count", "requests": [
                       {"t", "method", "path", "status", "authorization"}]}}, "other": [...]}
                       t = seconds since the server started (monotonic clock), so a test can
                       check that a client waited for Retry-After between two requests.
GET /_stats?repo=N    just {"fault", "count", "requests"} of N (count 0 if never requested)
POST /_reset          forgets all counters and records (prefer per-test names instead)

Bounded: no handler lives longer than --max-stall (+ a few seconds for socket writes), idle
keep-alive connections close after 30 s, and SIGTERM ends the process at once.
"""
import base64
import hashlib
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

sys.dont_write_bytecode = True  # never litter the source tree with __pycache__
from netutil import LoopbackServer, publish_port  # noqa: E402

TAGS = ["1.0.0", "1.1.0", "2.0.0"]
OTHER_TAGS = ["4.0.0", "4.1.0"]
HUGE_SIZE = 64 << 20
CHUNK = 64 << 10
FAULTS = {"ok", "ratelimited", "flaky", "denied", "hang", "stall", "trickle", "drip-head",
          "garbage", "huge", "huge-chunked", "redirect", "auth", "auth-redirect"}
DEFAULT_PARAM = {"ratelimited": 2, "flaky": 2}

CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                     "rootfs": {"type": "layers", "diff_ids": []}}, sort_keys=True).encode()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": CONFIG_DIGEST,
                                  "size": len(CONFIG)},
                       "layers": []}, sort_keys=True).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
API_PATH = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>tags/list|manifests/[^/]+|blobs/[^/]+)$")


def parse_fault(name):
    """Last name component -> (fault, parameter or None), or (None, None) if unknown."""
    last = name.rsplit("/", 1)[-1]
    if last in FAULTS:
        return last, DEFAULT_PARAM.get(last)
    base, _, num = last.rpartition("-")
    if base in FAULTS and num.isdigit():
        return base, int(num)
    return None, None


def errors(code, message):
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


class State:
    """Counters and records, shared by all handler threads."""

    def __init__(self, other_log):
        self.lock = threading.Lock()
        self.start = time.monotonic()
        self.other_log = other_log
        self.reset()

    def reset(self):
        with self.lock:
            self.ping, self.repos, self.other = 0, {}, []

    def now(self):
        return round(time.monotonic() - self.start, 3)

    def count(self, name, fault, request):
        """Records a request; returns its 1-based number for this repository."""
        with self.lock:
            repo = self.repos.setdefault(name, {"fault": fault, "count": 0, "requests": []})
            repo["count"] += 1
            repo["requests"].append(request)
            return repo["count"]

    def record_other(self, request):
        with self.lock:
            self.other.append(request)
            if self.other_log:
                with open(self.other_log, "a") as f:
                    f.write(json.dumps(request, sort_keys=True) + "\n")

    def snapshot(self, repo=None):
        with self.lock:
            if repo is not None:
                return json.loads(json.dumps(self.repos.get(repo, {"fault": parse_fault(repo)[0],
                                                                   "count": 0, "requests": []})))
            return json.loads(json.dumps({"ping": self.ping, "repos": self.repos,
                                          "other": self.other}))


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections end, so no thread lingers

    current = None  # this request's record in State (Faults only)

    def log_message(self, fmt, *args):
        sys.stderr.write("faults: %s\n" % (fmt % args))

    def send_response(self, code, message=None):
        # The status lands in the record before the client can see the answer, so a test that
        # reads /_stats right after its request always finds it.
        if self.current is not None:
            self.current["status"] = code
        super().send_response(code, message)

    def reply(self, status, body=b"", headers=(), content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve_ok(self, name, kind, tags):
        if kind == "tags/list":
            return self.reply(200, json.dumps({"name": name, "tags": tags}).encode())
        if kind.startswith("manifests/"):
            return self.reply(200, MANIFEST, [("Docker-Content-Digest", MANIFEST_DIGEST)],
                              "application/vnd.oci.image.manifest.v1+json")
        if kind == "blobs/" + CONFIG_DIGEST:
            return self.reply(200, CONFIG, content_type="application/octet-stream")
        return self.reply(404, errors("BLOB_UNKNOWN", "blob unknown to registry"))


def make_handlers(state, credentials, other_base, max_stall):
    expected_auth = "Basic " + base64.b64encode(credentials.encode()).decode()

    class Faults(BaseHandler):
        def do_POST(self):
            if urlparse(self.path).path == "/_reset":
                state.reset()
                return self.reply(200, b"{}")
            self.reply(405, errors("UNSUPPORTED", "read-only"))

        do_PUT = do_PATCH = do_DELETE = do_POST

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            url = urlparse(self.path)
            if url.path == "/_stats":
                repo = parse_qs(url.query).get("repo", [None])[0]
                return self.reply(200, json.dumps(state.snapshot(repo), sort_keys=True).encode())
            if url.path in ("/v2", "/v2/"):
                with state.lock:
                    state.ping += 1
                return self.reply(200, b"{}")
            m = API_PATH.match(url.path)
            fault, param = parse_fault(m.group("name")) if m else (None, None)
            if fault is None:
                return self.reply(404, errors("NAME_UNKNOWN", "repository name not known to registry"))
            name, kind = m.group("name"), m.group("kind")
            # status stays null for a hang (nothing is ever sent)
            self.current = {"t": state.now(), "method": self.command, "path": self.path,
                            "status": None, "authorization": self.headers.get("Authorization")}
            number = state.count(name, fault, self.current)
            try:
                self.fault(fault, param, number, name, kind)
            finally:
                self.current = None  # a keep-alive connection's next request gets its own

        def fault(self, fault, param, number, name, kind):
            """Answers one request according to the fault."""
            stall = min(param if param is not None else max_stall, max_stall)
            if fault in ("auth", "auth-redirect"):
                if self.headers.get("Authorization") != expected_auth:
                    self.reply(401, errors("UNAUTHORIZED", "authentication required"),
                               [("WWW-Authenticate", 'Basic realm="faults"')])
                    return
                fault = "redirect" if fault == "auth-redirect" else "ok"
            if fault == "ratelimited" and number <= param:
                self.reply(429, errors("TOOMANYREQUESTS", "rate limited"), [("Retry-After", "1")])
                return
            if fault == "flaky" and number <= param:
                self.reply(500, errors("UNKNOWN", "flaky failure %d" % number))
                return
            if fault == "denied":
                self.reply(403, errors("DENIED", "requested access to the resource is denied"))
                return
            if fault == "redirect":
                self.reply(302, b"", [("Location", other_base + self.path)])
                return
            if fault == "garbage":
                self.reply(200, b'{"name": "garbage", "tags": [\x00\xff not json <html>')
                return
            if fault == "hang":
                self.close_connection = True
                time.sleep(stall)
                return
            if fault in ("stall", "trickle"):
                self.stream_slowly(fault, stall)
                return
            if fault == "drip-head":
                self.drip_head(stall)
                return
            if fault in ("huge", "huge-chunked"):
                self.stream_huge(chunked=fault == "huge-chunked")
                return
            self.serve_ok(name, kind, TAGS)

        def stream_slowly(self, fault, seconds):
            body = json.dumps({"name": fault, "tags": TAGS}).encode()
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "HEAD":
                return
            deadline = time.monotonic() + seconds
            try:
                if fault == "stall":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    time.sleep(seconds)
                    return
                for i in range(len(body)):
                    if time.monotonic() >= deadline:
                        return
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                return  # the client gave up: that is the point

        def drip_head(self, seconds):
            self.close_connection = True
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"X-Padding: " + b"x" * 200 + b"\r\nContent-Length: 2\r\n\r\n{}")
            deadline = time.monotonic() + seconds
            try:
                for i in range(len(head)):
                    if time.monotonic() >= deadline:
                        return
                    self.wfile.write(head[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                return  # the client gave up: that is the point

        def stream_huge(self, chunked):
            head = b'{"name":"huge","tags":['
            tail = b'"end"]}'
            filler = b'"0123456789abcdef",' * (CHUNK // 19)
            count = (HUGE_SIZE - len(head) - len(tail)) // len(filler)
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(head) + count * len(filler) + len(tail)))
            self.end_headers()
            if self.command == "HEAD":
                return
            self.connection.settimeout(max_stall)  # a reader that stops reading cannot pin us

            def put(data):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)

            try:
                put(head)
                for _ in range(count):
                    put(filler)
                put(tail)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
            except OSError:
                return  # the client stopped reading: expected

    class Other(BaseHandler):
        def handle_any(self):
            url = urlparse(self.path)
            state.record_other({"t": state.now(), "method": self.command, "path": self.path,
                                "host": self.headers.get("Host"),
                                "authorization": self.headers.get("Authorization")})
            m = API_PATH.match(url.path)
            if url.path in ("/v2", "/v2/"):
                return self.reply(200, b"{}")
            if not m:
                return self.reply(404, errors("NAME_UNKNOWN", "unknown"))
            self.serve_ok(m.group("name"), m.group("kind"), OTHER_TAGS)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    return Faults, Other


def main(argv):
    if not argv:
        sys.stderr.write(__doc__)
        return 2
    port, args = int(argv[0]), list(argv[1:])
    port_file, other_host, other_log = None, "127.0.0.2", None
    credentials, max_stall = "faultuser:faultpass", 60
    while args:
        opt = args.pop(0)
        if opt == "--port-file":
            port_file = args.pop(0)
        elif opt == "--other-host":
            other_host = args.pop(0)
        elif opt == "--other-log":
            other_log = args.pop(0)
        elif opt == "--user":
            credentials = args.pop(0)
        elif opt == "--max-stall":
            max_stall = int(args.pop(0))
        else:
            sys.stderr.write("faults: unknown option %s\n" % opt)
            return 2
    state = State(other_log)
    other = LoopbackServer(other_host, 0, None)
    other_base = "http://%s:%d" % (other_host, other.server_address[1])
    faults_handler, other_handler = make_handlers(state, credentials, other_base, max_stall)
    other.RequestHandlerClass = other_handler
    main_server = LoopbackServer("127.0.0.1", port, faults_handler)
    if port_file:
        publish_port(port_file, [main_server.server_address[1], other.server_address[1]])
    threading.Thread(target=other.serve_forever, daemon=True).start()
    main_server.serve_forever()
    return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
