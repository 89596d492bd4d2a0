#!/usr/bin/env python3
"""Registry bearer-token server (the Docker Hub / GHCR / Quay flow) for the integration tests.
python3 stdlib + the openssl CLI (for RS256 signing).

  token_server.py init DIR
      makes DIR/key.pem + DIR/cert.pem (RSA 2048, self-signed, CN test-token-issuer)
  token_server.py serve DIR --user U:P [--user U:P ...] [--port 0] [--port-file F] [--log F]

Pair a registry with it (config `auth.token`): realm http://127.0.0.1:PORT/token (or /anon/token),
service "test-registry", issuer "test-issuer", rootcertbundle DIR/cert.pem.

Endpoints (GET with HTTP Basic credentials, or the OAuth2 form POST grant_type=password with
username/password; both as in the distribution token spec):
  /token       credentials REQUIRED: a known user gets every action asked for; no or bad
               credentials -> 401.
  /anon/token  anonymous pull allowed: no credentials -> a token granting only "pull"; a known
               user -> every action asked for; bad credentials -> 401 (never silently anonymous).
Both require service=test-registry (a client must echo the challenge's service; else 400) and
take any number of scope=type:name:actions parameters (several space-separated scopes in one
parameter are accepted too). The answer is {"token", "access_token", "expires_in": 300,
"issued_at"}.

--log F appends one JSON object per request (path, account, user, service, scopes, status,
granted) so tests can assert the scopes a client asked for and that it authenticated.

Token: an RS256 JWT whose header carries the certificate in x5c (what distribution 2.8 checks
against rootcertbundle); claims iss, sub, aud (a string, as 2.8 wants), exp, nbf, iat, jti and
access [{type, name, actions}], one entry per requested scope (2.8 has no wildcards).
"""
import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

sys.dont_write_bytecode = True  # never litter the source tree with __pycache__
from netutil import LoopbackServer, publish_port  # noqa: E402

SERVICE, ISSUER, LIFETIME = "test-registry", "test-issuer", 300


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def init(directory):
    os.makedirs(directory, exist_ok=True)
    if not os.path.exists(os.path.join(directory, "cert.pem")):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                        "-subj", "/CN=test-token-issuer",
                        "-keyout", os.path.join(directory, "key.pem"),
                        "-out", os.path.join(directory, "cert.pem")],
                       check=True, capture_output=True)


class Minter:
    """Signs JWTs with DIR/key.pem through `openssl dgst` (no crypto in the python stdlib)."""

    def __init__(self, directory):
        self.key = os.path.join(directory, "key.pem")
        der = subprocess.run(["openssl", "x509", "-in", os.path.join(directory, "cert.pem"),
                              "-outform", "DER"], check=True, capture_output=True).stdout
        self.header = b64url(json.dumps({"typ": "JWT", "alg": "RS256",
                                         "x5c": [base64.b64encode(der).decode()]}).encode())

    def mint(self, subject, access):
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + LIFETIME,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = self.header + "." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key],
                             input=signing_input.encode(), check=True, capture_output=True).stdout
        return signing_input + "." + b64url(sig), now


def parse_scopes(values):
    """scope=repository:library/nginx:pull,push -> [(type, name, [actions])]. The name may hold
    ':' only in theory; type is before the first ':', actions after the last."""
    out = []
    for value in values:
        for one in value.split(" "):
            parts = one.split(":")
            if len(parts) >= 3:
                out.append((parts[0], ":".join(parts[1:-1]), [a for a in parts[-1].split(",") if a]))
    return out


def make_handler(users, minter, log_path):
    log_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30  # idle keep-alive connections end, so no thread lingers

        def log_message(self, fmt, *args):
            sys.stderr.write("token_server: " + (fmt % args) + "\n")

        def record(self, entry):
            if log_path:
                with log_lock, open(log_path, "a") as f:
                    f.write(json.dumps(entry, sort_keys=True) + "\n")

        def reply(self, code, obj, challenge=False):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if challenge:
                self.send_header("WWW-Authenticate", 'Basic realm="test-token"')
            self.end_headers()
            self.wfile.write(body)

        def issue(self, query, user, password):
            path = urlparse(self.path).path
            entry = {"method": self.command, "path": path, "user": user,
                     "account": query.get("account", [None])[0],
                     "service": query.get("service", [None])[0],
                     "scopes": query.get("scope", [])}
            anonymous_ok = path == "/anon/token"

            def fail(code, err, message, challenge=False):
                entry.update(status=code, granted=[])
                self.record(entry)
                self.reply(code, {"errors": [{"code": err, "message": message}]}, challenge)

            if path not in ("/token", "/anon/token"):
                return fail(404, "NOT_FOUND", "no such endpoint")
            if entry["service"] != SERVICE:
                return fail(400, "UNSUPPORTED", "service must be %s" % SERVICE)
            if user is not None and users.get(user) != password:
                return fail(401, "UNAUTHORIZED", "bad credentials", True)
            if user is None and not anonymous_ok:
                return fail(401, "UNAUTHORIZED", "login required", True)
            access = []
            for typ, name, actions in parse_scopes(entry["scopes"]):
                if user is None:
                    actions = [a for a in actions if a == "pull"]
                access.append({"type": typ, "name": name, "actions": actions})
            token, now = minter.mint(user or "", access)
            entry.update(status=200, granted=access)
            self.record(entry)
            self.reply(200, {"token": token, "access_token": token, "expires_in": LIFETIME,
                             "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})

        def do_GET(self):
            user = password = None
            auth = self.headers.get("Authorization", "")
            if auth[:6].lower() == "basic ":
                try:
                    user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
                except ValueError:
                    user, password = "", None  # malformed: treated as bad credentials
            self.issue(parse_qs(urlparse(self.path).query), user, password)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode(errors="replace"))
            query = parse_qs(urlparse(self.path).query)
            query.update(form)
            self.issue(query, form.get("username", [None])[0], form.get("password", [None])[0])

    return Handler


def main(argv):
    if len(argv) == 2 and argv[0] == "init":
        init(argv[1])
        return 0
    if len(argv) < 2 or argv[0] != "serve":
        sys.stderr.write(__doc__)
        return 2
    directory, args = argv[1], argv[2:]
    users, port, port_file, log_path = {}, 0, None, None
    while args:
        opt = args.pop(0)
        if opt == "--user":
            u, _, p = args.pop(0).partition(":")
            users[u] = p
        elif opt == "--port":
            port = int(args.pop(0))
        elif opt == "--port-file":
            port_file = args.pop(0)
        elif opt == "--log":
            log_path = args.pop(0)
        else:
            sys.stderr.write("token_server: unknown option %s\n" % opt)
            return 2
    init(directory)
    server = LoopbackServer("127.0.0.1", port, make_handler(users, Minter(directory), log_path))
    if port_file:
        publish_port(port_file, [server.server_address[1]])
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
