#!/usr/bin/env python3
"""Paginating reverse proxy in front of a plain-HTTP distribution 2.8 registry (python3 stdlib).

  tags_pager.py --upstream 127.0.0.1:PORT --page-size N --listen STYLE [--listen STYLE ...]
                [--port-file F]

distribution 2.8 ignores ?n= and ?last= on /v2/<name>/tags/list and never sends a Link header.
Each listener (one per --listen, all in this one process, each on a kernel-chosen loopback port;
--port-file gets their ports one per line in --listen order) paginates that endpoint the way the
OCI distribution spec says: tags in lexical order, `n` and `last` honoured, the page size capped
at --page-size even when the client asks for more or sends no n (as Docker Hub, GHCR, Harbor,
Quay do in some form), and while more tags follow a header
    Link: <URL>; rel="next"
where URL is, by STYLE:
  relative        /v2/<name>/tags/list?n=N&last=T                 (what registries usually send)
  absolute        http://127.0.0.1:<this port>/v2/<name>/tags/list?n=N&last=T
  foreign=BASE    BASE/v2/<name>/tags/list?n=N&last=T, e.g. BASE=http://127.0.0.2:PORT: a link
                  to ANOTHER host, which a client must refuse to follow (it would leak
                  credentials and let a registry steer the client anywhere).
Every other request passes through unchanged (any method; body by Content-Length; all headers
including Host and Authorization, so basic and token auth keep working upstream).

GET /_stats on a listener answers {"style": ..., "tags_requests": {"<name>": count}} (cumulative,
so tests take a before/after delta: the fixture is shared).
"""
import http.client
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlencode, urlparse

sys.dont_write_bytecode = True  # never litter the source tree with __pycache__
from netutil import LoopbackServer, publish_port  # noqa: E402

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
              "upgrade", "content-length"}


def make_handler(style, upstream_host, upstream_port, page_size):
    stats = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30  # idle keep-alive connections end, so no thread lingers

        def log_message(self, fmt, *args):
            sys.stderr.write("tags_pager[%s]: %s\n" % (style, fmt % args))

        def forward(self, method, path, body):
            conn = http.client.HTTPConnection(upstream_host, upstream_port, timeout=30)
            try:
                conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    if k.lower() not in HOP_BY_HOP:
                        conn.putheader(k, v)
                if body is not None:
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                resp = conn.getresponse()
                return resp.status, resp.getheaders(), resp.read()
            finally:
                conn.close()

        def send(self, status, headers, body):
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def next_link(self, path, n, last):
            rel = "%s?%s" % (path, urlencode({"n": n, "last": last}, quote_via=quote))
            if style == "relative":
                return rel
            if style == "absolute":
                return "http://127.0.0.1:%d%s" % (self.server.server_address[1], rel)
            return style.split("=", 1)[1].rstrip("/") + rel  # foreign=BASE

        def tags(self, url, body):
            name = url.path[len("/v2/"):-len("/tags/list")]
            with lock:
                stats[name] = stats.get(name, 0) + 1
            status, headers, data = self.forward("GET", url.path, body)
            if status != 200:
                return self.send(status, headers, data)
            doc = json.loads(data)
            tags = sorted(doc.get("tags") or [])
            query = parse_qs(url.query)
            if "last" in query:
                tags = [t for t in tags if t > query["last"][0]]
            n = page_size
            if "n" in query and query["n"][0].isdigit():
                n = min(int(query["n"][0]), page_size)
            headers = [(k, v) for k, v in headers if k.lower() != "link"]
            page = tags[:n]
            if len(tags) > n and page:
                headers.append(("Link", '<%s>; rel="next"' % self.next_link(url.path, n, page[-1])))
            self.send(200, headers, json.dumps({"name": doc.get("name"), "tags": page}).encode())

        def any_method(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if body is None and self.command in ("POST", "PUT", "PATCH"):
                body = b""
            url = urlparse(self.path)
            try:
                if self.command == "GET" and url.path == "/_stats":
                    with lock:
                        doc = {"style": style, "tags_requests": dict(sorted(stats.items()))}
                    return self.send(200, [("Content-Type", "application/json")],
                                     json.dumps(doc).encode())
                if (self.command in ("GET", "HEAD") and url.path.startswith("/v2/")
                        and url.path.endswith("/tags/list")):
                    return self.tags(url, body)
                self.send(*self.forward(self.command, self.path, body))
            except (OSError, http.client.HTTPException, ValueError) as e:
                self.send(502, [("Content-Type", "text/plain")], ("upstream: %s\n" % e).encode())

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = any_method

    return Handler


def main(argv):
    upstream, page_size, styles, port_file = None, None, [], None
    args = list(argv)
    while args:
        opt = args.pop(0)
        if opt == "--upstream":
            upstream = args.pop(0)
        elif opt == "--page-size":
            page_size = int(args.pop(0))
        elif opt == "--listen":
            styles.append(args.pop(0))
        elif opt == "--port-file":
            port_file = args.pop(0)
        else:
            sys.stderr.write("tags_pager: unknown option %s\n%s" % (opt, __doc__))
            return 2
    bad = [s for s in styles if s not in ("relative", "absolute") and not s.startswith("foreign=")]
    if not upstream or not page_size or page_size < 1 or not styles or bad:
        sys.stderr.write(__doc__)
        return 2
    host, _, port = upstream.rpartition(":")
    if not host.startswith("127."):
        sys.stderr.write("tags_pager: upstream must be on loopback\n")
        return 2
    servers = [LoopbackServer("127.0.0.1", 0, make_handler(s, host, int(port), page_size))
               for s in styles]
    if port_file:
        publish_port(port_file, [s.server_address[1] for s in servers])
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    servers[0].serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
