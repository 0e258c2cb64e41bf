#!/usr/bin/python3
"""thermocamd's sockets end to end, with G_DEBUG=fatal-criticals: --listen and
ports.listen_address keep every TCP server on one address; GET /config/ports
says what is in use and what the flags override; the ready line gives the
Modbus port bound (--modbus-port 0: a free one); RTSP refuses a huge
Content-Length without reserving it, refuses filtered addresses cleanly (no
GStreamer-RTSP-CRITICAL), bounds the connections per address and closes the
ones that do not log in; the server port (manual 9.2) serves the API, ONVIF and
the page as the HTTP port, behind the same IP filter, moves live and refuses a
busy port."""
import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Tap, read_answer, wait_for  # noqa: E402

os.environ["G_DEBUG"] = "fatal-criticals"
t = Tap()


def status(r):
    return r[0]


def field(r):
    try:
        return r[1]["error"]["field"]
    except (TypeError, KeyError):
        return None


def listening(pid):
    """[(address, port)] of the TCP sockets @pid listens on (/proc)"""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            m = re.match(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if m:
            inodes.add(m.group(1))
    out = []
    for name, v6 in (("tcp", False), ("tcp6", True)):
        try:
            lines = open(f"/proc/net/{name}").read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[3] != "0A" or f[9] not in inodes:
                continue
            hexaddr, hexport = f[1].split(":")
            raw = bytes.fromhex(hexaddr)
            if v6:
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                addr = socket.inet_ntop(socket.AF_INET6, raw)
                if addr.startswith("::ffff:") and "." in addr:
                    addr = addr[7:]
            else:
                addr = socket.inet_ntop(socket.AF_INET, raw[::-1])
            out.append((addr, int(hexport, 16)))
    return out


def vm_data(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    return 0


def rtsp(sock, method, url, cseq, extra=()):
    sock.sendall(("\r\n".join([f"{method} {url} RTSP/1.0", f"CSeq: {cseq}", *extra])
                  + "\r\n\r\n").encode())
    head, body = read_answer(sock)
    return head.decode(errors="replace"), body.decode(errors="replace")


def digest(challenge, method, uri):
    realm = re.search(r'realm="([^"]*)"', challenge).group(1)
    nonce = re.search(r'nonce="([^"]*)"', challenge).group(1)
    ha1 = hashlib.md5(f"admin:{realm}:{PASSWORD}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
    return (f'Authorization: Digest username="admin", realm="{realm}", nonce="{nonce}", '
            f'uri="{uri}", response="{resp}"')


def connect_from(source, port, timeout=5):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed(sock, timeout=3):
    """the peer closed @sock (EOF or reset) within @timeout, nothing sent"""
    sock.settimeout(timeout)
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except OSError:
        return False


def critical_lines(d):
    return [x for x in d.lines if "CRITICAL" in x]


# ---- --listen 127.0.0.1 (daemon.py's default), --modbus-port 0 ----
d = Daemon().start()
t.ok(d.modbus and d.modbus > 0, f"--modbus-port 0: a free port, and the ready line gives it ({d.modbus})",
     d.lines[-3:])
d.activate()
d.wait_frames()

s, ports, _ = d.get("config/ports")
t.ok(s == 200 and ports.get("http") == 8080 and ports.get("listen_address") == ""
     and ports.get("in_use") == {"listen_address": "127.0.0.1", "http": d.http, "rtsp": d.rtsp,
                                 "https": 0, "modbus": d.modbus, "wsd": 0, "websocket": 0,
                                 "websockets": 0, "snmp": 0, "srtp": 0, "serial": 0,
                                 "server": ports.get("in_use", {}).get("server")}
     and ports["in_use"]["server"] > 0 and ports.get("server") == 8000
     and ports.get("from_flags") == ["http", "rtsp", "https", "modbus", "server", "listen_address"],
     "GET /config/ports: the configured ports, what is in use and what the flags override", ports)
r = d.put("config/ports", ports)
time.sleep(1)
t.ok(status(r) == 200 and r[1]["in_use"]["http"] == d.http and d.readies == 1,
     "PUT back what GET gave (in_use, from_flags dropped): 200, nothing restarts", r)
r = d.put("config/ports", {"listen_address": "203.0.113.77"})
t.ok(status(r) == 400 and field(r) == "ports.listen_address",
     "listen_address not on this machine: 400 ports.listen_address", r)
r = d.put("config/ports", {"listen_address": "::g"})
t.ok(status(r) == 400 and field(r) == "ports.listen_address", "listen_address not an IP: 400", r)
r = d.put("config/ports", {"in_use": {"http": 1}, "rtsp": 8555})
t.ok(status(r) == 200 and r[1]["rtsp"] == 8555 and r[1]["in_use"]["rtsp"] == d.rtsp,
     "a port changed in the configuration while --rtsp-port fixes it: saved, not in use", r)

r = d.put("config/security", {"https": {"enabled": True}})
t.ok(status(r) == 200 and wait_for(lambda: d.readies == 2, 20) and d.https > 0,
     f"HTTPS on: the servers restart (https={d.https})", (r, d.lines[-5:]))
socks = listening(d.proc.pid)
ports_seen = {p for _, p in socks}
t.ok(socks and all(a == "127.0.0.1" for a, _ in socks)
     and {d.http, d.https, d.rtsp, d.modbus} <= ports_seen,
     "--listen 127.0.0.1: HTTP, HTTPS, RTSP and Modbus TCP listen there, nothing on 0.0.0.0 or ::",
     (socks, d.http, d.https, d.rtsp, d.modbus))
s, ports, _ = d.get("config/ports")
t.ok(s == 200 and ports["in_use"]["https"] == d.https and ports["in_use"]["http"] == d.http,
     "in_use follows the restart", ports)

# ---- RTSP: a 2 GiB Content-Length without credentials ----
warm = socket.create_connection(("127.0.0.1", d.rtsp), timeout=5)
rtsp(warm, "OPTIONS", "*", 1)
time.sleep(0.5)
before = vm_data(d.proc.pid)
big = socket.create_connection(("127.0.0.1", d.rtsp), timeout=5)
big.sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 2147483648\r\n\r\nabc")
try:
    ans = big.recv(4096)
except OSError as e:
    ans = str(e).encode()
time.sleep(0.5)
grew = vm_data(d.proc.pid) - before
t.ok((ans.startswith(b"RTSP/1.0 413") or ans == b"") and grew < 8 << 20 and d.alive(),
     f"Content-Length 2 GiB: {ans[:30]!r}, VmData grew {grew >> 10} KiB", (ans, grew))
big.close()
warm.close()

# ---- RTSP from an address the IP filter refuses: no CRITICAL, the daemon stays ----
r = d.put("config/security", {"ip_filter": {"enabled": True, "mode": "deny",
                                             "addresses": ["127.0.0.7"]}})
refused = [connect_from("127.0.0.7", d.rtsp) for _ in range(3)]
for c in refused:
    try:
        c.sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
    except OSError:
        pass
t.ok(status(r) == 200 and all(closed(c) for c in refused), "3 RTSP connections from a denied address: closed unanswered")
time.sleep(0.5)
s, diag, _ = d.get("system/diagnostics")
t.ok(d.alive() and s == 200 and diag["rtsp"]["refused_connections"] >= 3 and not critical_lines(d),
     "under G_DEBUG=fatal-criticals the daemon is up, no CRITICAL logged, refusals counted",
     (critical_lines(d), diag.get("rtsp") if s == 200 else s))
d.put("config/security", {"ip_filter": {"enabled": False}})

# ---- RTSP connections per address, and the ones that never log in ----
# a viewer through the HTTP tunnel (two connections, merged by the server)
# lives longer than the login time
tunnel = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "info", "-rtsp_transport", "http",
                           "-i", d.rtsp_url("sub"), "-t", "120", "-c", "copy", "-f", "null", "-"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
tunnel_log = []


def follow_tunnel():
    """ffmpeg's log as it comes: its progress lines say how far the stream got"""
    while True:
        chunk = tunnel.stderr.read(512)
        if not chunk:
            break
        tunnel_log.append(chunk)


def tunnel_secs():
    times = re.findall(r"time=(\d+):(\d+):(\d+)", "".join(tunnel_log)[-4000:])
    return int(times[-1][1]) * 60 + int(times[-1][2]) if times else 0


threading.Thread(target=follow_tunnel, daemon=True).start()
idle = []
for i in range(32):
    c = connect_from("127.0.0.3", d.rtsp)
    idle.append(c)
opened = time.time()
answers = [rtsp(c, "OPTIONS", "*", 1)[0] for c in idle]
t.ok(all(a.startswith("RTSP/1.0 200") for a in answers), "32 connections from 127.0.0.3 are served",
     [a[:20] for a in answers])
extra = connect_from("127.0.0.3", d.rtsp)
try:
    extra.sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
except OSError:
    pass
t.ok(closed(extra), "the 33rd from the same address is closed unanswered")
url = f"rtsp://127.0.0.1:{d.rtsp}/main"
viewer = connect_from("127.0.0.4", d.rtsp, timeout=10)
head, _ = rtsp(viewer, "DESCRIBE", url, 1, ["Accept: application/sdp"])
chal = [x for x in head.split("\r\n") if x.lower().startswith("www-authenticate: digest")]
head, sdp = rtsp(viewer, "DESCRIBE", url, 2, ["Accept: application/sdp",
                                              digest(chal[0], "DESCRIBE", url)]) if chal else ("", "")
t.ok(head.startswith("RTSP/1.0 200") and "m=video" in sdp,
     "another address is served meanwhile, and logs in", head)
s, diag, _ = d.get("system/diagnostics")
t.ok(s == 200 and diag["rtsp"]["refused_busy"] >= 1, "diagnostics count the refusal", diag.get("rtsp"))

# ---- Modbus off is a setting: the port goes to 0 ----
r = d.put("config/modbus", {"enabled": False})
s, ports, _ = d.get("config/ports")
t.ok(status(r) == 200 and s == 200 and ports["in_use"]["modbus"] == 0,
     "modbus.enabled false: in_use.modbus is 0", ports)
d.put("config/modbus", {"enabled": True})
s, ports, _ = d.get("config/ports")
t.ok(s == 200 and ports["in_use"]["modbus"] == d.modbus, "on again: the same port", ports)

# after 30 s without a login, the 32 are closed; the logged-in one is not
time.sleep(max(0, opened + 33 - time.time()))
t.ok(all(closed(c, 2) for c in idle), "30 s without logging in: the 32 connections are closed")
head, _ = rtsp(viewer, "OPTIONS", "*", 3)
t.ok(head.startswith("RTSP/1.0 200"), "the logged-in connection stays", head)
s, diag, _ = d.get("system/diagnostics")
t.ok(s == 200 and diag["rtsp"]["login_timeouts"] >= 32, "diagnostics count them", diag.get("rtsp"))
# past the login time, the tunnel viewer (logged in) is still connected and
# its stream still advancing (how fast is not this test's business)
first = tunnel_secs()
time.sleep(3)
last = tunnel_secs()
t.ok(tunnel.poll() is None and last > first,
     f"the HTTP-tunnel viewer (logged in) stays past the login time: {first} s of stream, "
     f"{last} s 3 s later", "".join(tunnel_log)[-800:])
tunnel.terminate()
tunnel.wait(10)
again = connect_from("127.0.0.3", d.rtsp)
t.ok(rtsp(again, "OPTIONS", "*", 1)[0].startswith("RTSP/1.0 200"), "127.0.0.3 may connect again")
for c in idle + [extra, viewer, again] + refused:
    c.close()
t.ok(d.alive() and not critical_lines(d), "no CRITICAL in the whole run", critical_lines(d))
rc = d.stop()
t.ok(rc == 0, "clean exit", (rc, d.lines[-8:]))

# ---- ports.listen_address, without --listen ----
d2 = Daemon(listen=None).start()
d2.activate()
before = listening(d2.proc.pid)
s, ports, _ = d2.get("config/ports")
t.ok(any(a in ("0.0.0.0", "::") for a, _ in before) and s == 200
     and ports["in_use"]["listen_address"] == "" and "listen_address" not in ports["from_flags"],
     "no --listen, empty listen_address: all addresses", (before, ports))
r = d2.put("config/ports", {"listen_address": "127.0.0.1"})
t.ok(status(r) == 200 and wait_for(lambda: d2.readies == 2, 20), "PUT listen_address 127.0.0.1: the servers restart", r)
socks = listening(d2.proc.pid)
s, ports, _ = d2.get("config/ports")
t.ok(socks and all(a == "127.0.0.1" for a, _ in socks) and {d2.http, d2.rtsp, d2.modbus} <= {p for _, p in socks}
     and s == 200 and ports["in_use"]["listen_address"] == "127.0.0.1",
     "then every server listens on 127.0.0.1 only", (socks, ports))
rc = d2.stop()
t.ok(rc == 0 and not critical_lines(d2), "clean exit", (rc, d2.lines[-8:]))

# ---- the server port (manual 9.2): what the HTTP port serves, moved live ----
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SOAP_TIME = (b'<?xml version="1.0" encoding="UTF-8"?><s:Envelope '
             b'xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetSystemDateAndTime '
             b'xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>')
sp = free_port()
d4 = Daemon()
with open(os.path.join(d4.state_dir, "config.json"), "w") as f:
    f.write('{"ports": {"server": %d}}' % sp)
d4.args = [a for i, a in enumerate(d4.args)
           if a != "--server-port" and not (i and d4.args[i - 1] == "--server-port")]
busy = socket.socket()
try:
    d4.start()
    d4.activate()
    s, ports, _ = d4.get("config/ports")
    t.ok(s == 200 and ports["server"] == sp and ports["in_use"]["server"] == sp
         and "server" not in ports["from_flags"] and ("127.0.0.1", sp) in listening(d4.proc.pid),
         f"ports.server from the configuration: it listens on {sp}, in_use.server says so", ports)
    api = f"http://127.0.0.1:{sp}/api/v1/"
    r_http, r_srv = d4.get("device"), d4.get(api + "device")
    anon = d4.curl("GET", api + "device", auth=False)
    bad = d4.curl("GET", api + "device", password="not-the-password")
    t.ok(status(r_srv) == 200 and r_srv[1] == r_http[1] and status(anon) == 401
         and status(bad) == 401,
         "the server port serves the API as the HTTP port (the same answer; 401 without or "
         "with wrong credentials)", (r_srv[:2], anon[:1], bad[:1]))
    page = d4.curl("GET", f"http://127.0.0.1:{sp}/", auth=False)
    r = d4.put(api + "config/onvif", {"enabled": True})
    soap = d4.curl("POST", f"http://127.0.0.1:{sp}/onvif/device_service", auth=False,
                   raw=SOAP_TIME, headers=["Content-Type: application/soap+xml"])
    t.ok(status(page) == 200 and b"<html" in page[1].lower() and status(r) == 200
         and status(soap) == 200 and b"GetSystemDateAndTimeResponse" in soap[1],
         "and the page and ONVIF (GetSystemDateAndTime at /onvif/device_service)",
         (page[:1], r[:1], soap[:2]))
    r = d4.put("config/security", {"ip_filter": {"enabled": True, "mode": "deny",
                                                 "addresses": ["127.0.0.7"]}})
    c = connect_from("127.0.0.7", sp)
    try:
        c.sendall(b"GET /api/v1/device HTTP/1.1\r\nHost: x\r\n\r\n")
    except OSError:
        pass
    t.ok(status(r) == 200 and closed(c), "the IP filter holds there: a denied address is closed unanswered")
    c.close()
    d4.put("config/security", {"ip_filter": {"enabled": False}})

    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("", 0))
    busy.listen(1)
    r = d4.put("config/ports", {"server": busy.getsockname()[1]})
    s, ports, _ = d4.get("config/ports")
    time.sleep(0.5)
    t.ok(status(r) == 400 and field(r) == "ports.server" and ports["server"] == sp
         and ports["in_use"]["server"] == sp and d4.readies == 1,
         "a busy server port: 400 ports.server, nothing saved, nothing restarts", (r[:2], ports))
    r = d4.put("config/ports", {"server": 8080})
    t.ok(status(r) == 400 and field(r) in ("ports.server", "ports.http"),
         "the server port equal to ports.http: 400", r[:2])
    sp2 = free_port()
    r = d4.put("config/ports", {"server": sp2})
    t.ok(status(r) == 200 and wait_for(lambda: d4.readies == 2, 20), f"PUT server {sp2}: the servers restart", r[:2])
    s, ports, _ = d4.get("config/ports")
    moved = d4.get(f"http://127.0.0.1:{sp2}/api/v1/device")
    old = d4.curl("GET", f"http://127.0.0.1:{sp}/api/v1/device", auth=False, timeout=3)
    t.ok(s == 200 and ports["in_use"]["server"] == sp2 and status(moved) == 200 and status(old) == 0,
         "live: the API answers on the new server port, the old one is closed", (ports, moved[:1], old[:2]))
    s, diag, _ = d4.get("system/diagnostics")
    t.ok(s == 200 and diag["http"]["server_port"] == sp2, "diagnostics: http.server_port", diag.get("http"))
finally:
    busy.close()
    rc = d4.stop()
t.ok(rc == 0 and not critical_lines(d4), "clean exit", (rc, d4.lines[-8:]))

# ---- an older configuration whose ports include 8000: the server port moves on ----
d5 = Daemon()
hp = free_port()
with open(os.path.join(d5.state_dir, "config.json"), "w") as f:
    f.write('{"ports": {"http": %d, "rtsp": 8000, "modbus": 8001}}' % hp)
d5.args = [a for i, a in enumerate(d5.args)
           if a not in ("--server-port", "--http-port")
           and not (i and d5.args[i - 1] in ("--server-port", "--http-port"))]
try:
    d5.start()
    d5.activate()
    s, ports, _ = d5.get("config/ports")
    t.ok(s == 200 and d5.http == hp and ports["rtsp"] == 8000 and ports["server"] == 8002
         and not os.path.exists(os.path.join(d5.state_dir, "config.json.invalid")),
         "a file without ports.server whose rtsp is 8000: loaded, the server port is 8002", ports)
finally:
    rc = d5.stop()
t.ok(rc == 0 and not critical_lines(d5), "clean exit", (rc, d5.lines[-8:]))

# ---- --listen ::1: IPv6 as well ----
try:
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::1", 0))
    have_v6 = True
except OSError:
    have_v6 = False
if not have_v6:
    print(f"ok {t.n + 1} # SKIP no IPv6 loopback here", flush=True)
    t.n += 1
else:
    d3 = Daemon(listen="::1").start()
    socks = listening(d3.proc.pid)
    r = d3.curl("GET", f"http://[::1]:{d3.http}/api/v1/device", auth=False)
    with socket.create_connection(("::1", d3.rtsp), timeout=5) as c:
        head, _ = rtsp(c, "OPTIONS", "*", 1)
    t.ok(socks and all(a == "::1" for a, _ in socks) and {d3.http, d3.rtsp, d3.modbus} <= {p for _, p in socks}
         and status(r) == 401 and head.startswith("RTSP/1.0 200"),
         "--listen ::1: HTTP, RTSP and Modbus TCP listen there only, and answer", (socks, r[:2], head))
    t.ok(d3.stop() == 0 and not critical_lines(d3), "clean exit", d3.lines[-8:])
t.done()
