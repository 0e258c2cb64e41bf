#!/usr/bin/env python3
"""thermocamd against hostile and careless clients, end to end (issue 14).

A real daemon (under G_DEBUG=fatal-criticals, as every e2e test) on loopback:
raw sockets and curl from several loopback addresses (127.0.0.x).  Covers:
JSON nested past any sane depth, members of the wrong type, idle, slow and
too many connections, the descriptor limit, streams that are not read or
that one account hogs, Digest on percent-encoded and dot-segment URLs,
an IP filter that would shut out its author, IPv6 in the filter, the
headers of every answer and the session cookie's scheme.
"""
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Tap, read_answer, wait_for  # noqa: E402

VW, VW_PW = "viewer1", "Vi3wer#2026"

t = Tap()


def raw(port, data, source="127.0.0.1", timeout=10, host="127.0.0.1"):
    """@data sent on a new connection; (status, head text, body bytes), 0 when
    closed without an answer"""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.settimeout(timeout)
    try:
        if ":" not in host:
            s.bind((source, 0))
        s.connect((host, port))
        s.sendall(data)
        head, body = read_answer(s)
    except (socket.timeout, ConnectionResetError, BrokenPipeError, OSError):
        return 0, "", b""
    finally:
        s.close()
    if not head.startswith(b"HTTP/"):
        return 0, "", b""
    return int(head.split()[1]), head.decode(errors="replace"), body


def request(method, path, body=b"", headers=(), ctype="application/json"):
    h = "".join(f"{x}\r\n" for x in headers)
    if body:
        h += f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{h}Connection: close\r\n\r\n"
            .encode() + body)


def diag(d):
    return d.get("system/diagnostics")[1].get("http", {})


def cpu_seconds(pid, stat=None):
    with open(stat or f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def is_open(s):
    """whether the daemon has not closed @s (nothing is read that matters)"""
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


def no_listen(d):
    """every address (IPv6 too) rather than the loopback daemon.py asks for"""
    if "--listen" in d.args:
        i = d.args.index("--listen")
        del d.args[i:i + 2]
    return d


def closed_by_peer(s, timeout):
    """whether the daemon closes @s within @timeout (reading what it sends)"""
    s.settimeout(0.5)
    end = time.time() + timeout
    while time.time() < end:
        try:
            if s.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, OSError):
            return True
    return False


deep = b"[" * 75000 + b"]" * 75000

# ---- 1. nesting, before activation: no credentials needed to try ----
d = no_listen(Daemon()).start()
for method, path in (("POST", "/api/v1/activate"), ("POST", "/api/v1/session")):
    st, head, body = raw(d.http, request(method, path, deep))
    t.ok(d.alive(), f"inactive: 75,000 nested '[' to {method} {path}: the daemon lives",
         d.lines[-10:])
    # activation parses it (and refuses it); a session is refused before the
    # body is read at all
    t.ok(st == 400 and b"nested deeper" in body if "activate" in path else st == 401,
         f"  and answers {st}", body[:200])
objs = b'{"a":' * 20000 + b"1" + b"}" * 20000
st, _, body = raw(d.http, request("POST", "/api/v1/activate", objs))
t.ok(d.alive() and st == 400, "inactive: 20,000 nested objects refused", (st, body[:200]))
t.ok(d.activate()[0] == 200, "activation")
d.post("users", {"name": VW, "password": VW_PW, "level": "user"})
for method, path in (("POST", "session"), ("PUT", "config/image"), ("POST", "rules"),
                     ("PUT", "io/network"), ("POST", "users")):
    s, j, _ = d.curl(method, path, raw=deep, headers=["Content-Type: application/json"],
                     auth=path != "session")
    t.ok(d.alive() and s == 400 and j["error"]["code"] == "malformed_json",
         f"active: 75,000 nested '[' to {method} {path}: 400", (s, str(j)[:200]))
s, j, _ = d.curl("PUT", "config/image", raw=b"[" * 33 + b"]" * 33,
                 headers=["Content-Type: application/json"])
t.ok(s == 400 and "32" in j["error"]["message"], "33 levels refused, the limit named", (s, j))

# ---- 2. members of another type than expected ----
before = d.get("io")[1]
for path, body in (("io/network", {"link": 1}), ("io/network", {"link": None}),
                   ("io/network", {"ip_conflict": "yes"}), ("io/inputs/1", {"contact": [1]}),
                   ("io/inputs/1", {"contact": {"a": 1}}), ("io/inputs/1", [1]),
                   ("io/network", ["up"])):
    s, j, _ = d.put(path, body)
    t.ok(d.alive() and s == 400 and j["error"]["code"] == "invalid",
         f"PUT {path} {json.dumps(body)}: 400 invalid, no crash", (s, j, d.lines[-5:]))
t.ok(d.get("io")[1] == before, "the I/O state is unchanged")
for path, body in (("session", {"name": 1, "password": 2}), ("users", {"name": ["x"]}),
                   ("events/schedule-copy", {"source": 5, "from": [], "to": "x"}),
                   ("security/certificate/self-signed", {"country": 1, "days": "x"})):
    s, j, _ = d.post(path, body)
    t.ok(d.alive() and 400 <= s < 500, f"POST {path} {json.dumps(body)}: {s}", (s, j))

# ---- 9. the headers of every answer ----
s, j, head = d.get("device")
hl = head.lower()
for want in ("x-content-type-options: nosniff", "x-frame-options: deny",
             "frame-ancestors 'none'", "referrer-policy: no-referrer", "cache-control: no-store"):
    t.ok(want in hl, f"an answer carries {want}", head)
t.ok(re.search(r"^server: thermocamd\r?$", hl, re.M) and "libsoup" not in hl,
     "Server names no library or version", head)
t.ok("strict-transport-security" not in hl, "no HSTS over plain HTTP", head)
s, _, head = d.get("nosuch")
t.ok(s == 404 and "x-content-type-options: nosniff" in head.lower(),
     "a 404 carries them too", head)

# ---- 10. a login logs no warning ----
n = len(d.lines)
r = d.post("session", {"name": VW, "password": VW_PW}, auth=False)
time.sleep(0.3)
t.ok(r[0] == 200 and not [x for x in d.lines[n:] if "WARNING" in x or "CRITICAL" in x],
     "POST /session: no warning in the log", d.lines[n:])

# ---- 9. over HTTPS: HSTS, and a session made there is good only there ----
n = d.readies
d.put("config/security", {"https": {"enabled": True}})
wait_for(lambda: d.readies > n and d.https, 30)
jar = os.path.join(tempfile.mkdtemp(prefix="tc-hostile-"), "jar")
r = d.post(f"https://127.0.0.1:{d.https}/api/v1/session", {"name": VW, "password": VW_PW},
           auth=False, extra=("-k", "-c", jar))
setc = [x for x in r[2].splitlines() if x.lower().startswith("set-cookie:")]
t.ok(r[0] == 200 and setc and "Secure" in setc[0] and "strict-transport-security: max-age="
     in r[2].lower(), "HTTPS: HSTS, and the session cookie is Secure", r[2])
cookie = re.search(r"thermocam_session=([0-9a-f]+)", setc[0]).group(1) if setc else ""
r1 = d.get(f"https://127.0.0.1:{d.https}/api/v1/session", auth=False,
           extra=("-k", "-H", f"Cookie: thermocam_session={cookie}"))
r2 = d.get("session", auth=False, headers=[f"Cookie: thermocam_session={cookie}"])
t.ok(r1[0] == 200 and r2[0] == 401,
     "the session made over HTTPS works there and not over plain HTTP", (r1[0], r2[0]))
n = d.readies
d.put("config/security", {"https": {"enabled": False}})
wait_for(lambda: d.readies > n, 30)

# ---- 6. Digest on the URLs a monitoring client uses ----
d.put("config/security", {"illegal_login_lock": {"enabled": True, "attempts": 3,
                                                 "duration_min": 30}})
okays = []
for path in ("system/audit-log?from=2026-12-03T00%3A00%3A00Z",
             "system/audit-log?type=config&from=2026-01-01T00%3A00%3A00Z",
             "./device", "device?x=%2F%3F%23", "system/audit-log?from=2026-12-03T00:00:00Z",
             "device?a=b%00c"):
    s, j, _ = d.curl("GET", d.url(path), source="127.0.0.3", extra=("--path-as-is",))
    okays.append((path, s))
t.ok(all(s == 200 for _, s in okays),
     "Digest with the right password works on encoded queries and dot segments", okays)
s, _, _ = d.get("device", source="127.0.0.3")
t.ok(s == 200, "and none of them counted towards the lock (3 attempts)", s)

# a right response signed for another URI: not this request, not a failed login
st, head, _ = raw(d.http, request("GET", "/api/v1/device"), source="127.0.0.4")
nonce = re.search(r'nonce="([^"]+)"', head).group(1)


def digest(method, uri, nonce, nc, user="admin", password=PASSWORD):
    md5 = lambda x: hashlib.md5(x.encode()).hexdigest()  # noqa: E731
    ha1 = md5(f"{user}:thermocam:{password}")
    resp = md5(f"{ha1}:{nonce}:{nc}:c0ffee:auth:{md5(f'{method}:{uri}')}")
    return (f'Authorization: Digest username="{user}", realm="thermocam", nonce="{nonce}", '
            f'uri="{uri}", qop=auth, nc={nc}, cnonce="c0ffee", response="{resp}"')


codes = []
for i in range(1, 6):
    st, head, body = raw(d.http, request("GET", "/api/v1/device", headers=[
        digest("GET", "/api/v1/temperatures", nonce, f"{i:08x}")]), source="127.0.0.4")
    codes.append(st)
st, _, _ = raw(d.http, request("GET", "/api/v1/device", headers=[
    digest("GET", "/api/v1/device", nonce, "00000009")]), source="127.0.0.4")
t.ok(codes == [400] * 5 and st == 200,
     "the right password signed for another URI: 400 five times, never a lock", (codes, st))
st, _, _ = raw(d.http, request("GET", "/api/v1/device", headers=[
    digest("GET", "/api/v1/device", nonce, "0000000a", password="Wrong#Pass1")]),
    source="127.0.0.4")
t.ok(st == 401, "a wrong password is still a failed login (401)", st)
d.put("config/security", {"illegal_login_lock": {"enabled": True, "attempts": 5,
                                                 "duration_min": 30}})

# ---- 7. an IP filter that would shut out its author; IPv6 ----
sec0 = d.get("config/security")[1]
s, j, _ = d.put("config/security", {"ip_filter": {"enabled": True, "mode": "allow",
                                                  "addresses": ["127.0.0.5"]}})
t.ok(s == 400 and j["error"]["field"] == "security.ip_filter" and "127.0.0.1" in
     j["error"]["message"], "an allow list without the author's address is refused", (s, j))
s, j, _ = d.put("config/security", {"ip_filter": {"enabled": True, "mode": "deny",
                                                  "addresses": ["127.0.0.0/8"]}})
t.ok(s == 400 and j["error"]["field"] == "security.ip_filter",
     "a deny list that covers the author's address is refused", (s, j))
t.ok(d.get("config/security")[1] == sec0 and d.get("device")[0] == 200,
     "nothing changed, the administrator still gets in")
s, j, _ = d.put("config/security", {"ip_filter": {"enabled": True, "mode": "allow",
                                                  "addresses": ["127.0.0.1", "::1/128"]}})
t.ok(s == 200, "an allow list with the author's IPv4 address and ::1", (s, j))
st6, _, _ = raw(d.http, request("GET", "/nosuch"), host="::1")
t.ok(st6 == 404, "an IPv6 client on the allow list gets in ([::1])", st6)
s, j, _ = d.put("config/security", {"ip_filter": {"enabled": True, "mode": "allow",
                                                  "addresses": ["127.0.0.1", "2001:db8::/32"]}})
st6, _, _ = raw(d.http, request("GET", "/nosuch"), host="::1")
t.ok(s == 200 and st6 == 0, "an IPv6 client not on the allow list is kept out", (s, st6))
s, j, _ = d.put("config/security", {"ip_filter": {"enabled": True, "mode": "allow",
                                                  "addresses": ["127.0.0.1", "2001:db8::/129"]}})
t.ok(s == 400 and j["error"]["field"] == "security.ip_filter.addresses[1]",
     "an IPv6 network with /129 is refused", (s, j))
d.put("config/security", {"ip_filter": {"enabled": False, "addresses": []}})

# ---- 5. streams: slots shared per account, a stream nobody reads dropped ----
procs = []
for i in range(5):
    procs.append(subprocess.Popen(["curl", "-s", "-N", "-o", "/dev/null", "-w", "%{http_code}",
                                   "--digest", "-u", f"{VW}:{VW_PW}", d.url("live.mjpeg")],
                                  stdout=subprocess.PIPE, text=True))
    time.sleep(0.3)
time.sleep(1)
fifth = procs[-1].communicate(timeout=10)[0] if procs[-1].poll() is not None else "running"
s, j, _ = d.get("live.mjpeg", timeout=2)
admin_ok = s == 200 or s == 0         # curl's time limit cut the endless answer
t.ok(fifth == "429" and admin_ok,
     "a user-level account gets 4 of the 16 live views, the 5th is 429; admin still gets one",
     (fifth, s))
for p in procs:
    p.terminate()
    p.wait()

vw_events = []
for i in range(9):
    vw_events.append(subprocess.Popen(["curl", "-s", "-N", "-o", "/dev/null", "-w", "%{http_code}",
                                       "--digest", "-u", f"{VW}:{VW_PW}", d.url("events")],
                                      stdout=subprocess.PIPE, text=True))
    time.sleep(0.2)
time.sleep(1)
done = [p.communicate(timeout=10)[0] for p in vw_events if p.poll() is not None]
t.ok(done == ["429"] and diag(d).get("event_listeners") == 8,
     "event listeners: 8 of 32 for one account, the 9th is 429", (done, diag(d)))
for p in vw_events:
    p.terminate()
    p.wait()

# a live view that is never read: the daemon stops queueing and drops it
st, head, _ = raw(d.http, request("GET", "/nosuch"))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", d.http))
s.sendall(f"GET /api/v1/live.mjpeg HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          f"{digest('GET', '/api/v1/live.mjpeg', nonce, '00000020')}\r\n\r\n".encode())
rss0 = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{d.proc.pid}/status").read()).group(1))
dropped = wait_for(lambda: diag(d).get("streams_dropped", 0) >= 1, 75, step=2)
rss1 = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{d.proc.pid}/status").read()).group(1))
t.ok(dropped and closed_by_peer(s, 10),
     "a live view that is never read is dropped (30 s skipping frames) and its connection closed",
     diag(d))
t.ok(rss1 - rss0 < 20000, f"  and the daemon did not pile it up ({rss1 - rss0} KiB)")
s.close()

# ---- 3. idle, slow and too many connections ----
idle = []
for i in range(40):
    c = socket.socket()
    c.bind(("127.0.0.6", 0))
    c.connect(("127.0.0.1", d.http))
    idle.append(c)
time.sleep(0.5)
kept = sum(1 for c in idle if is_open(c))
t.ok(kept == 32, f"40 idle connections from one address: 32 kept, the others closed ({kept})")
st, _, _ = raw(d.http, request("GET", "/nosuch"), source="127.0.0.7")
t.ok(st == 404, "another address is served meanwhile", st)
t0 = time.time()
closed = [closed_by_peer(c, 14) for c in idle]
t.ok(all(closed) and time.time() - t0 < 14,
     f"idle connections are closed after about 10 s ({time.time() - t0:.1f} s)")
for c in idle:
    c.close()

slow = socket.socket()
slow.bind(("127.0.0.8", 0))
slow.connect(("127.0.0.1", d.http))
slow.sendall(b"GET /api/v1/device HTTP/1.1\r\n")
t0 = time.time()
gone = False
while time.time() - t0 < 20 and not gone:
    try:
        slow.sendall(b"X-Slow: 1\r\n")
    except OSError:
        gone = True
        break
    gone = closed_by_peer(slow, 2)
t.ok(gone and time.time() - t0 < 14,
     f"slow loris (a header line every 2 s) is closed within the request time "
     f"({time.time() - t0:.1f} s)")
slow.close()
st = diag(d).get("connections", {})
t.ok(st.get("over_limit", 0) >= 8 and st.get("timed_out", 0) >= 32,
     "diagnostics count them", st)

# ---- RTSP: a request whose header lines never end, past the login time ----
# (closing the client from the main thread while its own thread read it was
# a critical, then a thread spinning on a freed stream)
flood = socket.socket()
flood.bind(("127.0.0.9", 0))
flood.connect(("127.0.0.1", d.rtsp))
flood.settimeout(1)
flood.sendall(b"OPTIONS rtsp://127.0.0.1/main RTSP/1.0\r\nCSeq: 1\r\n")
line = b"X-aaaaaaaa: bbbbbbbbbbbbbbbbbbbbbbbb\r\n" * 2000
t0 = time.time()
cut = None
while time.time() - t0 < 40:
    try:
        flood.sendall(line)
    except socket.timeout:
        continue
    except OSError:
        cut = time.time() - t0
        break
flood.close()
time.sleep(1)
rt = d.get("system/diagnostics")[1].get("rtsp", {}) if d.alive() else {}
t.ok(d.alive() and not [x for x in d.lines if "CRITICAL" in x]
     and rt.get("login_timeouts", 0) >= 1,
     f"an endless RTSP header from a client that never logs in: shut at the login time "
     f"(login_timeouts {rt.get('login_timeouts')}; the sender "
     f"{'was cut at %.1f s' % cut if cut else 'was not refused: its bytes are dropped'}), "
     f"no critical, the daemon lives", d.lines[-5:])
d.stop()

# ---- 3. the descriptor limit ----
# HTTP from many addresses under 320 descriptors: the bounds keep most of
# them for the rest of the daemon
d = Daemon()
d.args = ["prlimit", "--nofile=320:320", "--"] + d.args   # prlimit execs the daemon
d.start()
d.activate()
pid = d.proc.pid
flood = []
for i in range(400):
    c = socket.socket()
    c.bind((f"127.0.1.{i % 200 + 1}", 0))
    try:
        c.connect(("127.0.0.1", d.http))
    except OSError:
        c.close()
        continue
    flood.append(c)
time.sleep(1)
fds = len(os.listdir(f"/proc/{pid}/fd"))
held = sum(1 for c in flood if is_open(c))
r = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                    "stream=codec_name", "-of", "csv=p=0",
                    f"rtsp://admin:{PASSWORD.replace('#', '%23')}@127.0.0.1:{d.rtsp}/main"],
                   capture_output=True, text=True, timeout=30)
t.ok(d.alive() and held <= 48 and fds < 200,
     f"400 HTTP connections from 200 addresses under 320 descriptors: {held} held, "
     f"{fds} descriptors in use", d.lines[-5:])
t.ok(r.stdout.strip() == "h264", "  RTSP still streams meanwhile", r.stderr[-300:])
for c in flood:
    c.close()
t.ok(wait_for(lambda: d.get("device")[0] == 200, 15), "  and the API answers once they go")
d.stop()

# descriptors taken by something else (idle RTSP connections, at most 32
# from one address and 64 in all: from 4 addresses under 80 descriptors) : the
# HTTP accept loop takes and closes what it cannot serve, backs off, does
# not spin, warns once, and serves again when descriptors come back
d = Daemon()
d.args = ["prlimit", "--nofile=80:80", "--"] + d.args
d.start()
d.activate()
pid = d.proc.pid
hog = []
for i in range(200):
    c = socket.socket()
    c.bind((f"127.0.3.{i % 4 + 1}", 0))
    try:
        c.connect(("127.0.0.1", d.rtsp))
    except OSError:
        c.close()
        break
    hog.append(c)
time.sleep(1)
# the main thread's CPU, where the HTTP and RTSP accept loops run (the
# pipeline's threads have troubles of their own without descriptors)
main_stat = f"/proc/{pid}/task/{pid}/stat"
cpu0 = cpu_seconds(pid, main_stat)
answers = [raw(d.http, request("GET", "/nosuch"), timeout=2)[0] for _ in range(20)]
time.sleep(3)
cpu = cpu_seconds(pid, main_stat) - cpu0
warnings = [x for x in d.lines if "descriptors" in x]
t.ok(d.alive() and cpu < 2.0,
     f"out of descriptors: 20 HTTP clients closed, {cpu:.2f} s of main-thread CPU in 3 s (no spinning)",
     (answers, d.lines[-5:]))
t.ok(1 <= len(warnings) <= 2, f"  one warning (HTTP's, RTSP's), not thousands ({len(warnings)})",
     warnings[-3:])
for c in hog:
    c.close()
t.ok(wait_for(lambda: raw(d.http, request("GET", "/nosuch"), timeout=2)[0] == 404, 20),
     "  descriptors back: HTTP answers again")
st = diag(d).get("connections", {})
t.ok(st.get("no_descriptors", 0) >= 1, "  diagnostics count the refusals", st)
d.stop()
t.done()
