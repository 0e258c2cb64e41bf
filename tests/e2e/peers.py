#!/usr/bin/python3
# thermocam tests: real servers on loopback for the appliance's transfers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real FTP, SMTP and HTTP servers (and a silent one) on 127.0.0.1.

Each prints one line "ready PORT" on stdout once it listens and runs until
it is killed (SIGTERM: a clean exit).  --port N listens on N (default 0: a
free port), so a test can restart a server on the same port.

  peers.py ftp  --root DIR [--user U --password P]
  peers.py smtp --out DIR [--auth USER:PASS] [--starttls CERT KEY] [--tls CERT KEY]
  peers.py http --out DIR [--tls CERT KEY] [--status N] [--user U --password P]
  peers.py hang

The SMTP server saves each message as DIR/NNNN.eml (the raw bytes) with
DIR/NNNN.json ({"mail_from", "rcpt_tos", "tls", "auth_user"}); the HTTP
server saves each POST body as DIR/NNNN.json with DIR/NNNN.headers.json
({"path", "headers"}).  The metadata is written first and every file
appears under its name complete (written to a temporary name, renamed).
"""

import argparse
import base64
import json
import logging
import os
import signal
import socket
import ssl
import sys
import threading
import warnings

HOST = "127.0.0.1"


def ready(port):
    print(f"ready {port}", flush=True)


def exit_on_sigterm():
    def handler(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, handler)


def server_tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


class Saver:
    """Numbered files in a directory: 0001, 0002, ... (after any already there)"""

    def __init__(self, out, suffix):
        os.makedirs(out, exist_ok=True)
        self.out = out
        self.lock = threading.Lock()
        self.count = sum(1 for n in os.listdir(out) if n.endswith(suffix)
                         and not n.endswith(".headers.json"))

    def next(self):
        with self.lock:
            self.count += 1
            return os.path.join(self.out, f"{self.count:04d}")

    @staticmethod
    def write(path, data):
        tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, path)


# ---- FTP (pyftpdlib) ----

def run_ftp(args):
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

    authorizer = DummyAuthorizer()
    root = os.path.abspath(args.root)
    os.makedirs(root, exist_ok=True)
    if args.user:
        authorizer.add_user(args.user, args.password or "", root, perm="elradfmw")
    else:
        with warnings.catch_warnings():
            # pyftpdlib warns about an anonymous user that may write
            warnings.simplefilter("ignore")
            authorizer.add_anonymous(root, perm="elradfmw")

    class Handler(FTPHandler):
        auth_failed_timeout = 0         # answer a wrong password at once

    Handler.authorizer = authorizer
    server = FTPServer((HOST, args.port), Handler)
    exit_on_sigterm()
    ready(server.address[1])
    try:
        server.serve_forever(handle_exit=False)
    finally:
        server.close_all()


# ---- SMTP (aiosmtpd) ----

def run_smtp(args):
    import asyncio
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    # a client that gives up the TLS handshake is no news (nor a traceback)
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")     # AUTH without TLS is what we want here
    saver = Saver(args.out, ".eml")
    implicit = args.tls is not None
    user = password = None
    if args.auth:
        user, _, password = args.auth.partition(":")

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            base = saver.next()
            auth = session.auth_data
            meta = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "tls": implicit or session.ssl is not None,
                "auth_user": auth.login.decode("utf-8", "replace")
                if isinstance(auth, LoginPassword) else None,
            }
            Saver.write(base + ".json", json.dumps(meta).encode())
            Saver.write(base + ".eml", envelope.original_content)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, data):
        ok = (isinstance(data, LoginPassword) and mechanism in ("PLAIN", "LOGIN")
              and data.login == user.encode() and data.password == password.encode())
        # handled=False: aiosmtpd answers 535 itself
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def factory():
        kwargs = {}
        if args.starttls:
            kwargs["tls_context"] = server_tls_context(*args.starttls)
            kwargs["require_starttls"] = False
        if args.auth:
            kwargs.update(authenticator=authenticator, auth_required=True,
                          auth_require_tls=False)
        return SMTP(Handler(), hostname="peers.test", loop=loop, **kwargs)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ssl_ctx = server_tls_context(*args.tls) if implicit else None
    server = loop.run_until_complete(
        loop.create_server(factory, HOST, args.port, ssl=ssl_ctx))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    ready(server.sockets[0].getsockname()[1])
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


# ---- HTTP (http.server) ----

def run_http(args):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    saver = Saver(args.out, ".json")
    expected = None
    if args.user:
        creds = f"{args.user}:{args.password or ''}".encode()
        expected = "Basic " + base64.b64encode(creds).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, extra=()):
            body = json.dumps({"status": status}).encode()
            self.send_response(status)
            for name, value in extra:
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if expected and self.headers.get("Authorization") != expected:
                self.answer(401, [("WWW-Authenticate", 'Basic realm="peers"')])
                return
            base = saver.next()
            meta = {"path": self.path, "headers": dict(self.headers.items())}
            Saver.write(base + ".headers.json", json.dumps(meta).encode())
            Saver.write(base + ".json", body)
            self.answer(args.status)

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            # a client that gives up the TLS handshake: one line, no traceback
            print(f"peers http: {sys.exc_info()[1]!r}", file=sys.stderr)

    server = Server((HOST, args.port), Handler)
    if args.tls:
        # the handshake happens in the request's thread, not in accept()
        server.socket = server_tls_context(*args.tls).wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False)
    exit_on_sigterm()
    ready(server.server_address[1])
    try:
        server.serve_forever()
    finally:
        server.server_close()


# ---- a server that never answers ----

def run_hang(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, args.port))
    sock.listen(64)
    exit_on_sigterm()
    ready(sock.getsockname()[1])
    held = []
    try:
        while True:
            conn, _ = sock.accept()
            held.append(conn)           # neither read, answered nor closed
    finally:
        for conn in held:
            conn.close()
        sock.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="kind", required=True)

    def add(name, func):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, default=0)
        p.set_defaults(func=func)
        return p

    p = add("ftp", run_ftp)
    p.add_argument("--root", required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    p = add("smtp", run_smtp)
    p.add_argument("--out", required=True)
    p.add_argument("--auth", metavar="USER:PASS")
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p = add("http", run_http)
    p.add_argument("--out", required=True)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--status", type=int, default=200)
    p.add_argument("--user")
    p.add_argument("--password")
    add("hang", run_hang)

    args = parser.parse_args()
    # warnings and errors only (pyftpdlib logs every command otherwise)
    logging.basicConfig(level=logging.WARNING, format="peers %(name)s: %(message)s")
    if getattr(args, "user", None) is not None and args.password is None:
        parser.error("--user needs --password")
    args.func(args)


if __name__ == "__main__":
    main()
