#!/usr/bin/python3
"""thermocamd end to end: the security audit log sent to a log server
(manual 10.12.2).  A syslog receiver in this test (TCP, octet-counted frames,
RFC 6587; then TLS with a certificate made here, RFC 5425) gets one RFC 5424
message per audited change, with the record's type, user and address; while
the receiver is down the records wait on disk, across a restart of the
daemon, and arrive in order once it is back; a wrong CA delivers nothing
until the right one is set; a CA that is not PEM is refused."""
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap, self_signed, wait_for  # noqa: E402

RFC5424 = re.compile(
    r'^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) thermocamd (\d+) (\S+) '
    r'\[audit@32473 user="((?:[^"\\]|\\.)*)" address="((?:[^"\\]|\\.)*)"\] \ufeff(.*)$', re.S)


class Receiver:
    """a syslog server: octet-counted frames over TCP or TLS"""

    def __init__(self, port=0, tls=None):
        self.messages = []
        self.frames_bad = 0
        self.handshakes_failed = 0
        self.cond = threading.Condition()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.tls = tls
        self.conns = []
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.tls:
                try:
                    c.settimeout(10)
                    c = self.tls.wrap_socket(c, server_side=True)
                    c.settimeout(None)
                except (ssl.SSLError, OSError):
                    self.handshakes_failed += 1
                    c.close()
                    continue
            self.conns.append(c)
            threading.Thread(target=self._read, args=(c,), daemon=True).start()

    def _read(self, c):
        buf = b""
        while True:
            try:
                chunk = c.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while True:
                m = re.match(rb"(\d{1,6}) ", buf)
                if not m:
                    if len(buf) > 8 and not re.match(rb"\d{1,6}$", buf):
                        self.frames_bad += 1
                        buf = b""
                    break
                n = int(m.group(1))
                if len(buf) < m.end() + n:
                    break
                with self.cond:
                    self.messages.append(buf[m.end():m.end() + n].decode())
                    self.cond.notify_all()
                buf = buf[m.end() + n:]

    def wait(self, pred, timeout):
        end = time.time() + timeout
        with self.cond:
            while not pred(self.messages):
                left = end - time.time()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def close(self):
        self.running = False
        try:
            # shutdown wakes the accept() blocked in the other thread (a
            # close alone would leave the socket listening until it returns)
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass


def parsed(msgs):
    return [RFC5424.match(m) for m in msgs]


def with_detail(text):
    return lambda msgs: any(text in m for m in msgs)


t = Tap()
work = tempfile.mkdtemp(prefix="tc-syslog-")
rx = Receiver()
d = Daemon()
tls_rx = None
try:
    d.start()
    d.activate()
    s, j, _ = d.get("config/log_server")
    t.ok(s == 200 and j["enabled"] is False and j["transport"] == "tls" and j["port"] == 6514,
         "GET /config/log_server: off by default, TLS on 6514", j)
    s, j, _ = d.put("config/log_server", {"enabled": True, "server": "127.0.0.1",
                                          "port": rx.port, "transport": "tcp"})
    t.ok(s == 200, "the log server set: TCP, the test's receiver", (s, j))
    s, _, _ = d.put("config/device", {"name": "syslog-one"})
    t.ok(rx.wait(with_detail("config.device"), 15),
         "an audited change arrives at the log server", rx.messages)
    good = [p for p in parsed(rx.messages) if p]
    t.ok(rx.messages and len(good) == len(rx.messages) and rx.frames_bad == 0,
         "every frame is octet-counted and every message RFC 5424", rx.messages[:3])
    cfg = [p for p in good if p.group(5) == "config"]
    t.ok(cfg and cfg[-1].group(1) == str(10 * 8 + 5) and cfg[-1].group(6) == "admin"
         and cfg[-1].group(7) == "127.0.0.1" and cfg[-1].group(3).startswith("TC640-")
         and "device" in cfg[-1].group(8),
         "the change: <85> (authpriv.notice), type config, user admin, address, the serial as "
         "HOSTNAME, the detail", cfg[-1].groups() if cfg else rx.messages)

    # a failed login: warning
    d.get("device", password="wrong-Password1")
    t.ok(rx.wait(lambda ms: any(p and p.group(5) == "login_failed" for p in parsed(ms)), 15),
         "a failed login arrives")
    lf = [p for p in parsed(rx.messages) if p and p.group(5) == "login_failed"]
    t.ok(lf and lf[0].group(1) == str(10 * 8 + 4), "a failed login is <84> (authpriv.warning)",
         lf[0].groups() if lf else None)
    s, j, _ = d.put("config/log_server", {"facility": 16})
    d.put("config/device", {"name": "local0"})
    t.ok(rx.wait(lambda ms: any(p and p.group(1) == str(16 * 8 + 5) for p in parsed(ms)), 15),
         "facility 16 (local0): <133>")

    # ---- the receiver down: the records wait, across a restart ----
    port = rx.port
    rx.close()
    time.sleep(0.5)
    # accounts added: the records name them
    for name in ("queued-a", "queued-b"):
        d.post("users", {"name": name, "password": "Qu3ued#Secret", "level": "user"})
    s, j, _ = d.get("system/diagnostics")
    pending = j.get("log_server", {}).get("queue", {}).get("pending", 0) if s == 200 else 0
    t.ok(pending >= 1, f"the receiver down: records wait ({pending} pending)",
         j.get("log_server") if s == 200 else j)
    d.stop()
    spool = os.path.join(d.state_dir, "syslog-spool")
    t.ok(os.path.isdir(spool) and len([n for n in os.listdir(spool) if not n.startswith(".")]) >= 2,
         "they are on disk when the daemon stops", os.listdir(spool) if os.path.isdir(spool) else None)
    d.start()
    d.post("users", {"name": "queued-c", "password": "Qu3ued#Secret", "level": "user"})
    rx = Receiver(port)
    ok = rx.wait(lambda ms: all(any(n in m for m in ms) for n in ("queued-a", "queued-b", "queued-c")),
                 75)
    t.ok(ok, "the receiver back: every waiting record arrives (those from before the restart too)",
         rx.messages)
    order = [n for m in rx.messages for n in ("queued-a", "queued-b", "queued-c") if n in m]
    t.ok(order == ["queued-a", "queued-b", "queued-c"], "in the order they were made", order)
    t.ok(wait_for(lambda: d.get("system/diagnostics")[1].get("log_server", {}).get("queue", {})
                  .get("pending", 1) == 0, 10), "nothing left waiting")

    # ---- TLS (RFC 5425), a certificate made here ----
    crt, key = self_signed(work)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    tls_rx = Receiver(tls=ctx)
    other_dir = os.path.join(work, "other")
    os.makedirs(other_dir)
    other_crt, _ = self_signed(other_dir)
    s, j, _ = d.put("config/log_server", {"ca": "not a certificate"})
    t.ok(s == 400 and j["error"]["field"] == "log_server.ca",
         "a CA that is not PEM: 400 at log_server.ca", (s, j))
    s, j, _ = d.put("config/log_server", {"transport": "tls", "port": tls_rx.port,
                                          "ca": open(other_crt).read()})
    t.ok(s == 200, "TLS to the receiver with the wrong CA", (s, j))
    d.post("users", {"name": "tls-wrong-ca", "password": "Qu3ued#Secret", "level": "user"})
    time.sleep(3)
    t.ok(not any("tls-wrong-ca" in m for m in tls_rx.messages) and tls_rx.handshakes_failed >= 1,
         "the wrong CA: the server's certificate is refused, nothing sent",
         (tls_rx.handshakes_failed, tls_rx.messages))
    s, j, _ = d.put("config/log_server", {"ca": open(crt).read()})
    t.ok(s == 200, "the right CA")
    d.post("users", {"name": "over-tls", "password": "Qu3ued#Secret", "level": "user"})
    t.ok(tls_rx.wait(lambda ms: any("over-tls" in m for m in ms)
                     and any("tls-wrong-ca" in m for m in ms), 40),
         "over TLS: the waiting record and the new one arrive", tls_rx.messages)
    t.ok(all(parsed(tls_rx.messages)), "RFC 5424 over TLS", tls_rx.messages[:2])
    s, j, _ = d.get("system/diagnostics")
    ls = j.get("log_server", {})
    t.ok(ls.get("connected") is True and ls.get("sent", 0) >= 2 and ls.get("enabled") is True,
         "diagnostics: log_server connected, messages sent", ls)
    s, j, _ = d.put("config/log_server", {"enabled": False})
    n = len(tls_rx.messages)
    d.post("users", {"name": "while-off", "password": "Qu3ued#Secret", "level": "user"})
    time.sleep(2)
    t.ok(not any("while-off" in m for m in tls_rx.messages[n:]), "off: nothing sent")
finally:
    d.stop()
    rx.close()
    if tls_rx:
        tls_rx.close()
    subprocess.run(["rm", "-rf", work])
t.done()
