#!/usr/bin/python3
"""A git-over-ssh server on loopback for the integration tests (Debian's python3-paramiko; run
it with /usr/bin/python3, which has it, not a python3 earlier on PATH).

  ssh_git_server.py --root REPOS --host-key KEY --authorized-keys FILE --port-file FILE
                    [--user git] [--log FILE]

Binds 127.0.0.1 on a port the kernel picks and writes it to --port-file once it listens (the
harness waits for the file). Accepts public-key authentication only, for --user only, with the
keys of --authorized-keys (OpenSSH "type base64 [comment]" lines). The only command it runs is
`git-upload-pack '<path>'` (what git and libgit2 send to fetch), for a repository under --root:
`<path>` is taken relative to --root and may not leave it. --log gets one JSON line per
authentication attempt and per command: {"event", "user", "key" (sha256 of the key, base64),
"ok"} / {"event": "exec", "command", "status"}. No system sshd, no system user, no PAM: nothing
outside the run directory is touched.
"""
import argparse
import base64
import hashlib
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time

import paramiko

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netutil import publish_port  # noqa: E402

LOG_LOCK = threading.Lock()


def log_event(path, **fields):
    if not path:
        return
    with LOG_LOCK, open(path, "a") as f:
        f.write(json.dumps(fields, sort_keys=True) + "\n")


def load_host_key(path):
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key_file(path)
        except (paramiko.SSHException, ValueError):
            continue
    raise SystemExit("cannot read host key %s" % path)


def load_authorized(path):
    keys = set()
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and not line.startswith("#"):
                keys.add((parts[0], parts[1]))
    return keys


class Server(paramiko.ServerInterface):
    def __init__(self, args, authorized):
        self.args = args
        self.authorized = authorized
        self.command = None
        self.event = threading.Event()

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        ok = username == self.args.user and (key.get_name(), key.get_base64()) in self.authorized
        digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
        log_event(self.args.log, event="auth", user=username, key="SHA256:" + digest, ok=ok)
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        self.command = command.decode("utf-8", "replace")
        self.event.set()
        return True


def repo_path(root, command):
    """git-upload-pack '<path>' -> the repository's directory under root, else None."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if len(argv) != 2 or argv[0] not in ("git-upload-pack", "git upload-pack"):
        return None
    path = os.path.realpath(os.path.join(root, argv[1].lstrip("/")))
    if not path.startswith(os.path.realpath(root) + os.sep) or not os.path.isdir(path):
        return None
    return path


def pump_in(channel, stdin):
    try:
        while True:
            data = channel.recv(65536)
            if not data:
                break
            stdin.write(data)
            stdin.flush()
    except (OSError, EOFError):
        pass
    finally:
        try:
            stdin.close()
        except OSError:
            pass


def serve_exec(args, channel, command):
    path = repo_path(args.root, command)
    if path is None:
        # git's own wording, which clients recognise as "no such repository"
        channel.sendall_stderr(("fatal: %r does not appear to be a git repository\n"
                                % command).encode())
        log_event(args.log, event="exec", command=command, status=128)
        channel.send_exit_status(128)
        return
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    proc = subprocess.Popen(["git", "upload-pack", path], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    feeder = threading.Thread(target=pump_in, args=(channel, proc.stdin), daemon=True)
    feeder.start()
    while True:
        data = proc.stdout.read1(65536)
        if not data:
            break
        channel.sendall(data)
    err = proc.stderr.read()
    if err:
        channel.sendall_stderr(err)
    status = proc.wait()
    log_event(args.log, event="exec", command=command, status=status)
    channel.send_exit_status(status)


def handle(args, host_key, authorized, sock):
    transport = paramiko.Transport(sock)
    try:
        transport.add_server_key(host_key)
        server = Server(args, authorized)
        transport.start_server(server=server)
        channel = transport.accept(30)
        if channel is None:
            return
        if server.event.wait(30):
            serve_exec(args, channel, server.command)
        channel.close()
        # As sshd does, let the client read the exit status and stderr and hang up first: closing
        # the transport at once raced the client's last channel read ("transport read" instead of
        # the server's message). Bounded: 5 s.
        deadline = time.monotonic() + 5
        while transport.is_active() and time.monotonic() < deadline:
            time.sleep(0.02)
    except (paramiko.SSHException, EOFError, OSError) as e:
        print("connection ended: %r" % (e,), file=sys.stderr, flush=True)
    finally:
        transport.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--host-key", required=True)
    p.add_argument("--authorized-keys", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--user", default="git")
    p.add_argument("--log", default="")
    args = p.parse_args()
    host_key = load_host_key(args.host_key)
    authorized = load_authorized(args.authorized_keys)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    publish_port(args.port_file, [listener.getsockname()[1]])
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=handle, args=(args, host_key, authorized, sock),
                         daemon=True).start()


if __name__ == "__main__":
    main()
