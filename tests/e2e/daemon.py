"""thermocam end-to-end tests: a thermocamd on loopback and real peers.

Shared by the e2e tests: start/stop the daemon, talk HTTP with curl (Digest),
RTSP with ffprobe/ffmpeg, print TAP.
"""
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

PASSWORD = "Therm0cam#2026"
BUILD = os.environ.get("THERMOCAM_BUILD", "")
DAEMON = os.path.join(BUILD, "appliance", "thermocamd")


class Tap:
    """TAP output; every check prints a line, failures do not stop the run"""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {desc}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {desc}", flush=True)
            # meson shows a failed test's stderr in its summary (CI reads that)
            print(f"FAILED {self.n} - {desc}", file=sys.stderr, flush=True)
            if detail is not None:
                for line in str(detail).splitlines()[:40]:
                    print(f"# {line}", flush=True)
                    print(f"# {line}", file=sys.stderr, flush=True)
        return cond

    def done(self):
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)


class Daemon:
    def __init__(self, state_dir=None, http_port=0, rtsp_port=0, https_port=0, modbus_port=0,
                 extra=(), listen="127.0.0.1"):
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="thermocamd-")
        # every server on loopback only (listen=None: the configuration's address)
        self.args = [DAEMON, "--state-dir", self.state_dir, "--http-port", str(http_port),
                     "--rtsp-port", str(rtsp_port), "--https-port", str(https_port),
                     "--modbus-port", str(modbus_port), "--server-port", "0",
                     *(["--listen", listen] if listen else []), *extra]
        self.proc = None
        self.lines = []
        self.http = self.rtsp = self.https = self.modbus = None
        self.ready = threading.Event()
        self.readies = 0

    def start(self, timeout=30):
        env = dict(os.environ)
        env.setdefault("GST_REGISTRY_1_0", os.path.join(self.state_dir, "registry.bin"))
        # a critical is a bug: it stops the daemon (and the test sees it)
        env.setdefault("G_DEBUG", "fatal-criticals")
        self.ready.clear()
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=env)
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        if not self.ready.wait(timeout):
            raise RuntimeError("no ready line:\n" + "\n".join(self.lines[-30:]))
        return self

    def _read(self, proc):
        for line in proc.stdout:
            self.lines.append(line.rstrip())
            m = re.match(r"thermocamd ready http=(\d+) rtsp=(\d+) https=(\d+) modbus=(\d+)",
                         line)
            if m:
                self.http, self.rtsp, self.https, self.modbus = map(int, m.groups())
                self.readies += 1
                self.ready.set()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode if self.proc else None

    def alive(self):
        return self.proc.poll() is None

    def url(self, path):
        return f"http://127.0.0.1:{self.http}/api/v1/{path}"

    def rtsp_url(self, path, user="admin", password=PASSWORD):
        cred = ""
        if user is not None:
            from urllib.parse import quote
            cred = f"{quote(user)}:{quote(password, safe='')}@"
        return f"rtsp://{cred}127.0.0.1:{self.rtsp}/{path}"

    def curl(self, method, path, body=None, auth=True, user="admin", password=PASSWORD,
             raw=None, headers=(), timeout=20, out_file=None, source=None, extra=()):
        """(status, parsed JSON or bytes, headers text); auth is True (Digest),
        "basic", or False; source binds the client to a local address"""
        cmd = ["curl", "-s", "-S", "-X", method, "-m", str(timeout), "-D", "-",
               "-o", out_file or "-", *extra]
        if source:
            cmd += ["--interface", source]
        if auth == "basic":
            cmd += ["--basic", "-u", f"{user}:{password}"]
        elif auth:
            cmd += ["--digest", "-u", f"{user}:{password}"]
        for h in headers:
            cmd += ["-H", h]
        data = None
        if body is not None:
            data = (json.dumps(body) if not isinstance(body, (bytes, str)) else body)
            if isinstance(data, str):
                data = data.encode()
            cmd += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        elif raw is not None:
            data = raw
            cmd += ["--data-binary", "@-"]
        cmd.append(path if "://" in path else self.url(path))
        r = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout + 10)
        out = r.stdout
        # the last header block (Digest answers 401 first, then the real one)
        blocks = []
        while out.startswith(b"HTTP/"):
            head, _, out = out.partition(b"\r\n\r\n")
            blocks.append(head.decode(errors="replace"))
        if not blocks:
            return 0, r.stderr.decode(errors="replace"), ""
        status = int(blocks[-1].split()[1])
        if "application/json" in blocks[-1]:
            try:
                return status, json.loads(out), blocks[-1]
            except ValueError:
                pass
        return status, out, blocks[-1]

    def get(self, path, **kw):
        return self.curl("GET", path, **kw)

    def put(self, path, body, **kw):
        return self.curl("PUT", path, body=body, **kw)

    def post(self, path, body=None, **kw):
        return self.curl("POST", path, body=body, **kw)

    def activate(self):
        return self.curl("POST", "activate", body={"password": PASSWORD}, auth=False)

    def wait_frames(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            s, j, _ = self.get("temperatures")
            if s == 200:
                return j
            time.sleep(0.2)
        return None


def ffprobe(url, transport, timeout=25):
    """(codec, width, height, rate) of the first stream or None, and stderr"""
    cmd = ["ffprobe", "-v", "error", "-rtsp_transport", transport,
           "-show_entries", "stream=codec_name,width,height,r_frame_rate",
           "-of", "json", url]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    try:
        s = json.loads(r.stdout)["streams"][0]
        return (s["codec_name"], s["width"], s["height"], s["r_frame_rate"]), r.stderr
    except (ValueError, KeyError, IndexError):
        return None, r.stderr


class Collector:
    """what a reader thread collects (self.events), waited on with a predicate"""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def add(self, item):
        with self.cond:
            self.events.append(item)
            self.cond.notify_all()

    def wait(self, pred, timeout, since=0):
        """the first item from @since on that @pred accepts, or None after @timeout s"""
        end = time.time() + timeout
        with self.cond:
            while True:
                for e in self.events[since:]:
                    if pred(e):
                        return e
                left = end - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def all(self, pred):
        with self.cond:
            return [e for e in self.events if pred(e)]


class Events(Collector):
    """GET /api/v1/events through curl -N, parsed as they arrive"""

    def __init__(self, d):
        super().__init__()
        self.proc = subprocess.Popen(
            ["curl", "-s", "-N", "--digest", "-u", f"admin:{PASSWORD}", d.url("events")],
            stdout=subprocess.PIPE, text=True)
        self.connected = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        # the stream opens with a comment line: until it came, an event
        # raised by the test's next request could be missed
        self.connected.wait(15)

    def _read(self):
        kind = None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.connected.set()
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind:
                self.add((kind, json.loads(line[6:]), time.time()))
                kind = None

    def close(self):
        self.proc.terminate()
        self.proc.wait()


PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers.py")


class Peer:
    """A real server of tests/e2e/peers.py (ftp, smtp, http, hang) on loopback"""

    def __init__(self, kind, *args, port=0):
        self.kind, self.args, self.port = kind, list(args), port
        self.proc = None

    def start(self, timeout=15):
        self.proc = subprocess.Popen(["/usr/bin/python3", PEERS, self.kind, *self.args,
                                      "--port", str(self.port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        end = time.time() + timeout
        while time.time() < end:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.match(r"ready (\d+)", line)
            if m:
                self.port = int(m.group(1))
                return self
        raise RuntimeError(f"peer {self.kind} did not start: {self.proc.stderr.read()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def self_signed(dirname, cn="127.0.0.1"):
    """a certificate and key for a TLS peer (openssl CLI)"""
    crt, key = os.path.join(dirname, "peer.crt"), os.path.join(dirname, "peer.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", f"/CN={cn}", "-addext", f"subjectAltName=IP:{cn}"],
                   check=True, capture_output=True)
    return crt, key


def read_answer(sock):
    """One HTTP or RTSP answer from @sock: (head bytes, body bytes); the body
    as long as Content-Length says, or b"" without one; short if the peer
    closes"""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"Content-Length: (\d+)", head, re.I)
    while m and len(body) < int(m.group(1)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


def wait_for(pred, timeout, step=0.1):
    """pred() until it is truthy or the time is up; its last value"""
    end = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() >= end:
            return v
        time.sleep(step)


def jpeg_size(data):
    """(width, height) from a JPEG's SOF marker"""
    i = 2
    while i < len(data) - 9:
        if data[i] != 0xFF:
            return None
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    return None
