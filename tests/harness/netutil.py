#!/usr/bin/env python3
"""Loopback helpers for the harness (python3 stdlib only): a CLI for services.sh and a tiny
library the harness's python servers import (LoopbackServer, publish_port).

  netutil.py free-ports N [HOST]     print N distinct free TCP ports on HOST (default 127.0.0.1)

free-ports lets the kernel choose (bind to port 0) and holds all N sockets open until every one
is bound, so the N ports are distinct. Between our close() and a service's bind() another
process may still take a port: services.sh therefore checks in /proc that the listener on the
port is really the process it started (a readiness probe alone would happily talk to whoever
got the port) and retries on a fresh port otherwise. The python servers avoid the race
altogether: they bind port 0 themselves and publish the port (publish_port).
"""
import os
import socket
import sys
from http.server import ThreadingHTTPServer


class LoopbackServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that refuses anything but 127.0.0.0/8 and lets handler threads die
    with the process (daemon threads), so SIGTERM ends it at once. Port 0 = kernel's choice; the
    bound port is then server_address[1]. The socket listens when the constructor returns."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, host, port, handler):
        if not host.startswith("127."):
            raise SystemExit("refusing to bind %s: loopback (127.0.0.0/8) only" % host)
        super().__init__((host, port), handler)


def publish_port(path, ports):
    """Atomically writes the bound port(s) to `path`, one per line. services.sh waits for the file,
    so its appearance means "listening": no polling, and no race for a pre-picked port."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("".join("%d\n" % p for p in ports))
    os.rename(tmp, path)


def free_ports(count, host):
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def main(argv):
    if len(argv) >= 2 and argv[0] == "free-ports":
        for p in free_ports(int(argv[1]), argv[2] if len(argv) > 2 else "127.0.0.1"):
            print(p)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
