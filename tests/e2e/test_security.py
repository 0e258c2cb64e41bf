#!/usr/bin/env python3
"""thermocamd security, end to end on loopback (issue 6).

A real daemon; curl (Digest, Basic, cookies, HTTPS), ffprobe and hand-written
RTSP for the streams, openssl for certificates.  Several loopback addresses
(127.0.0.x, bound with curl --interface) stand for different clients.
"""
import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Events, Tap, ffprobe, read_answer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OP, OP_PW = "op1", "Operat0r#2026"
VW, VW_PW = "viewer1", "Vi3wer#2026"
LOCK_MINUTE = 2          # seconds in a "minute" of the lock duration (--lock-minute)

t = Tap()
d = Daemon(extra=("--lock-minute", str(LOCK_MINUTE))).start()
tmp = tempfile.mkdtemp(prefix="tc-security-")


def status(r):
    return r[0]


def code(r):
    body = r[1]
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


def rtsp_describe(path, source="127.0.0.1", user="admin", password=PASSWORD, basic=False):
    """A DESCRIBE from @source with Digest (answering the challenge) or Basic;
    the status line, or the connection's fate"""
    s = socket.socket()
    s.settimeout(5)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", d.rtsp))
        uri = f"rtsp://127.0.0.1:{d.rtsp}/{path}"
        if basic:
            cred = base64.b64encode(f"{user}:{password}".encode()).decode()
            s.sendall(f"DESCRIBE {uri} RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Basic {cred}\r\n\r\n"
                      .encode())
            return s.recv(4096).decode(errors="replace").split("\r\n")[0]
        s.sendall(f"DESCRIBE {uri} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
        head = s.recv(4096).decode(errors="replace")
        if not head:
            return "closed"
        m = re.search(r'Digest realm="([^"]+)", nonce="([^"]+)"', head)
        if not m:
            return head.split("\r\n")[0]
        realm, nonce = m.groups()
        ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"DESCRIBE:{uri}".encode()).hexdigest()
        resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
        s.sendall((f"DESCRIBE {uri} RTSP/1.0\r\nCSeq: 2\r\nAuthorization: Digest "
                   f'username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
                   f'response="{resp}"\r\n\r\n').encode())
        head = s.recv(4096).decode(errors="replace")
        return head.split("\r\n")[0] if head else "closed"
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    except socket.timeout:
        return "timeout"
    finally:
        s.close()


def wait_readies(n, timeout=30):
    end = time.time() + timeout
    while d.readies < n and time.time() < end:
        time.sleep(0.1)
    return d.readies >= n and d.wait_frames() is not None


t.ok(status(d.activate()) == 200, "activated")
t.ok(d.wait_frames() is not None, "frames flow")

# ---- accounts (manual 10.13) ----
r = d.post("users", {"name": OP, "password": OP_PW, "level": "operator"})
t.ok(status(r) == 201 and {k: v for k, v in r[1].items() if k != "permissions"}
     == {"name": OP, "level": "operator"}
     and f"Location: /api/v1/users/{OP}" in r[2], "admin adds an operator (201, Location)", r)
r = d.post("users", {"name": VW, "password": VW_PW, "level": "user"})
t.ok(status(r) == 201, "admin adds a user", r)
r = d.post("users", {"name": "weak1", "password": "password", "level": "user"})
t.ok(status(r) == 400 and code(r) == "weak_password" and r[1]["error"]["field"] == "password",
     "a weak password is refused", r)
r = d.post("users", {"name": "x2", "password": "Adm1n#pass", "level": "administrator"})
t.ok(status(r) == 400 and r[1]["error"]["field"] == "level",
     "there is one administrator: a new account is operator or user", r)
r = d.post("users", {"name": OP, "password": OP_PW, "level": "user"})
t.ok(status(r) == 409 and code(r) == "exists", "a name is unique", r)
r = d.curl("DELETE", "users/admin")
t.ok(status(r) == 409 and code(r) == "protected", "the administrator cannot be deleted", r)
r = d.get("users")
t.ok(status(r) == 200 and [u["name"] for u in r[1]] == ["admin", OP, VW]
     and all(set(u) == {"name", "level", "permissions"} for u in r[1]),
     "the list shows names, levels and permissions, never a hash", r)

# ---- the permission matrix: every documented route and method ----
api = yaml.safe_load(open(os.path.join(ROOT, "schemas", "openapi.yaml")))
rule = d.post("rules", {"name": "perm", "type": "point", "points": [[0.5, 0.5]]})
rule_id = rule[1]["id"] if status(rule) == 201 else 1
DESTRUCTIVE = {("post", "/system/default"), ("post", "/system/reboot")}
STREAMS = {"/events", "/live.mjpeg"}
who = {"none": None, "user": (VW, VW_PW), "operator": (OP, OP_PW),
       "administrator": ("admin", PASSWORD)}
rank = {"none": 0, "user": 1, "operator": 2, "administrator": 3}
wrong = []
checked = 0
allowed_codes = {}
for path, item in api["paths"].items():
    if "servers" in item:
        continue                # the web page, outside the API (its own servers; test_web.py)
    for method, op in item.items():
        if method not in ("get", "put", "post", "delete") or (method, path) in DESTRUCTIVE:
            continue
        need = op.get("x-permission")
        for level, cred in who.items():
            concrete = path.replace("{id}", str(rule_id)).replace("{section}", "device")
            # one's own account: the level "user" is enough for it
            concrete = concrete.replace("{name}", cred[0] if cred else VW)
            kw = {"auth": bool(cred), "timeout": 3 if path in STREAMS else 20}
            if cred:
                kw.update(user=cred[0], password=cred[1])
            # a body nothing accepts: an allowed request ends in 400, never in a change
            body = {"probe_unknown_field": 1} if method in ("put", "post") else None
            if method == "delete":
                concrete = {"/rules/{id}": "rules/999999"}.get(path, concrete)
                if path == "/users/{name}":
                    concrete = "users/nobody"
            r = d.curl(method.upper(), concrete.lstrip("/"), body=body, **kw)
            got = r[0]
            checked += 1
            if need is None:
                wrong.append(f"{method.upper()} {path}: no x-permission")
            elif need == "none":
                if got in (401, 403) and code(r) not in ("not_activated",):
                    wrong.append(f"{method.upper()} {path} as {level}: {got} (needs none)")
            elif cred is None:
                if got != 401:
                    wrong.append(f"{method.upper()} {path} without credentials: {got} (want 401)")
            elif rank[level] < rank[need]:
                if got != 403:
                    wrong.append(f"{method.upper()} {path} as {level}: {got} (want 403)")
            elif got in (401, 403):
                wrong.append(f"{method.upper()} {path} as {level}: {got} {code(r)} (allowed)")
            else:
                allowed_codes.setdefault(got, []).append(f"{method.upper()} {path}")
                # allowed means handled: a 2xx, a refused body (400), a thing
                # that is not there (404, never "no route"), a conflict (409)
                err = r[1].get("error") if isinstance(r[1], dict) else None
                msg = err.get("message", "") if isinstance(err, dict) else ""
                if got not in (200, 201, 202, 204, 400, 404, 409) or \
                        (got == 404 and msg.startswith("no route")):
                    wrong.append(f"{method.upper()} {path} as {level}: {got} {msg}"
                                 " (allowed, but not handled)")
print("# allowed answers:", {k: len(v) for k, v in sorted(allowed_codes.items())})
t.ok(checked > 150 and not wrong,
     f"permission matrix: {checked} requests (every documented operation x no credentials,"
     " user, operator, administrator) answer 401/403/allowed as openapi.yaml says",
     "\n".join(wrong))
r = d.get(f"users/{OP}", user=VW, password=VW_PW)
t.ok(status(r) == 403, "a user cannot see another account", r)
r = d.put(f"users/{VW}", {"level": "operator"}, user=VW, password=VW_PW)
t.ok(status(r) == 403, "a user cannot raise its own level", r)
r = d.put(f"users/{VW}", {"password": "N3w#viewer"}, user=VW, password=VW_PW)
t.ok(status(r) == 403 and code(r) == "wrong_password",
     "changing one's own password needs the current one", r)
r = d.put(f"users/{VW}", {"password": "N3w#viewer", "old_password": VW_PW}, user=VW,
          password=VW_PW)
t.ok(status(r) == 200, "a user changes its own password", r)
VW_PW = "N3w#viewer"
t.ok(status(d.get("device", user=VW, password=VW_PW)) == 200
     and status(d.get("device", user=VW, password="Vi3wer#2026")) == 401,
     "the new password works, the old one no longer")
code_, info = ffprobe(d.rtsp_url("main", user=VW, password=VW_PW), "tcp")
t.ok(code_ is not None and code_[0] == "h264", "a user watches the RTSP stream", info)

# ---- authentication modes (manual 10.12.1) ----
r = d.get("device", auth="basic")
t.ok(status(r) == 401 and "Digest" in r[2] and "Basic" not in r[2],
     "web digest mode: Basic refused, only a Digest challenge", r[2])
t.ok(rtsp_describe("main", basic=True).startswith("RTSP/1.0 401"),
     "rtsp digest mode: Basic refused")
t.ok(rtsp_describe("main").startswith("RTSP/1.0 200"), "rtsp digest mode: Digest accepted")
r = d.put("config/security", {"authentication": {"web": "digest/basic", "rtsp": "digest/basic"}})
t.ok(status(r) == 200, "authentication: digest/basic for web and RTSP", r)
r = d.get("device", auth="basic")
t.ok(status(r) == 200, "web digest/basic: curl --basic accepted", r)
r = d.get("device", auth="basic", password="Wrong#pass1")
t.ok(status(r) == 401 and "Basic realm=" in r[2] and "Digest" in r[2],
     "web digest/basic: a wrong Basic password gets both challenges", r[2])
t.ok(status(d.get("device")) == 200, "web digest/basic: Digest still accepted")
t.ok(rtsp_describe("main", basic=True).startswith("RTSP/1.0 200"),
     "rtsp digest/basic: Basic accepted (checked against the password hash)")
t.ok(rtsp_describe("main", basic=True, password="Wrong#pass1").startswith("RTSP/1.0 401"),
     "rtsp digest/basic: a wrong Basic password refused")
code_, info = ffprobe(d.rtsp_url("main", password="Wrong#pass1"), "tcp")
t.ok(code_ is None and "401" in info, "ffprobe with a wrong password: 401", info)
d.put("config/security", {"authentication": {"web": "digest", "rtsp": "digest"}})

# ---- browser sessions ----
jar = os.path.join(tmp, "cookies")
r = d.post("session", {"name": OP, "password": OP_PW}, auth=False, extra=("-c", jar))
csrf = r[1].get("csrf_token") if isinstance(r[1], dict) else None
setc = [l for l in r[2].splitlines() if l.lower().startswith("set-cookie:")]
t.ok(status(r) == 200 and csrf and setc and "HttpOnly" in setc[0]
     and "SameSite=Strict" in setc[0] and "Max-Age=1800" in setc[0]
     and "domain" not in setc[0].lower() and "Secure" not in setc[0]
     and r[1]["level"] == "operator",
     "login: a session cookie HttpOnly, SameSite=Strict, with an expiry", r)
r = d.get("session", auth=False, extra=("-b", jar))
t.ok(status(r) == 200 and r[1] == {"name": OP, "level": "operator", "session": True,
                                    "csrf_token": csrf, "permissions": r[1].get("permissions")}
     and len(r[1]["permissions"]) == 8,
     "the cookie authenticates (and GET /session tells the session's CSRF token again)", r)
r = d.put("config/device", {"name": "by cookie"}, auth=False, extra=("-b", jar))
t.ok(status(r) == 403 and code(r) == "csrf", "a change without X-CSRF-Token is refused", r)
r = d.put("config/device", {"name": "by cookie"}, auth=False, extra=("-b", jar),
          headers=(f"X-CSRF-Token: {csrf}",))
t.ok(status(r) == 200 and r[1]["name"] == "by cookie", "with the token it is accepted", r)
r = d.put("config/device", {"name": "evil"}, auth=False, extra=("-b", jar),
          headers=(f"X-CSRF-Token: {csrf}", "Origin: http://attacker.example"))
t.ok(status(r) == 403 and code(r) == "cross_site",
     "a request from another site's page is refused (Origin)", r)
r = d.put("config/device", {"name": "evil"},
          headers=("Sec-Fetch-Site: cross-site",))
t.ok(status(r) == 403 and code(r) == "cross_site",
     "cross-site even with Digest credentials is refused (Sec-Fetch-Site)", r)
r = d.put("config/device", {"name": "same origin"},
          headers=(f"Origin: http://127.0.0.1:{d.http}",))
t.ok(status(r) == 200, "a same-origin change is accepted", r)
r = d.post("session", {"name": OP, "password": "Wrong#pass1"}, auth=False)
t.ok(status(r) == 401 and "WWW-Authenticate" not in r[2],
     "a wrong login: 401 without a browser dialog", r)
r = d.get("device", auth=False, headers=("Sec-Fetch-Mode: cors",))
t.ok(status(r) == 401 and code(r) == "unauthorized" and "WWW-Authenticate" not in r[2],
     "the page's script request without a session: 401 without a browser dialog", r)
r = d.get("device", auth=False, headers=("Sec-Fetch-Mode: navigate",))
t.ok(status(r) == 401 and "WWW-Authenticate: Digest" in r[2],
     "a person opening an API address gets the Digest challenge", r)
r = d.curl("DELETE", "session", auth=False, extra=("-b", jar),
           headers=(f"X-CSRF-Token: {csrf}",))
t.ok(status(r) == 204 and status(d.get("session", auth=False, extra=("-b", jar))) == 401,
     "logout ends the session", r)

# ---- illegal login lock (manual 2.3.2) ----
r = d.put("config/security", {"illegal_login_lock": {"enabled": True, "attempts": 3,
                                                      "duration_min": 2}})
t.ok(status(r) == 200, "lock: 3 attempts, 2 minutes", r)
ev = Events(d)
time.sleep(0.5)
got = [status(d.get("device", password="Wrong#pass1", source="127.0.0.5")) for _ in range(3)]
t.ok(got == [401, 401, 403], "3 wrong passwords from 127.0.0.5: 401, 401, then locked (403)", got)
r = d.get("device", source="127.0.0.5")
t.ok(status(r) == 403 and code(r) == "locked" and "Retry-After" in r[2],
     "locked: even the right password is refused, with Retry-After", r)
t.ok(rtsp_describe("main", source="127.0.0.5") == "RTSP/1.0 401 Unauthorized",
     "the lock holds on the RTSP port too")
t.ok(status(d.get("device", source="127.0.0.4")) == 200, "another address is not locked")
e = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "illegal_login", 5)
t.ok(e is not None and e[1].get("address") == "127.0.0.5",
     "an exception event illegal_login names the address", e)
ev.close()
time.sleep(2 * LOCK_MINUTE + 0.5)
t.ok(status(d.get("device", source="127.0.0.5")) == 200, "the lock releases after its duration")
# failures on RTSP lock the HTTP side as well
for _ in range(3):
    rtsp_describe("main", source="127.0.0.6", password="Wrong#pass1")
r = d.get("device", source="127.0.0.6")
t.ok(status(r) == 403 and code(r) == "locked", "the 3rd wrong RTSP login locks HTTP too", r)

# ---- IP address filter (manual 10.12.3) ----
r = d.put("config/security", {"ip_filter": {"enabled": True, "mode": "deny",
                                             "addresses": ["127.0.0.7", "127.0.1.0/24"]}})
t.ok(status(r) == 200, "deny list 127.0.0.7 and 127.0.1.0/24", r)
r = d.get("device", source="127.0.0.7")
t.ok(r[0] == 0 and ("reset" in r[1].lower() or "empty reply" in r[1].lower()
                    or "recv failure" in r[1].lower()),
     "HTTP from 127.0.0.7: the connection is closed, nothing answered", r)
t.ok(status(d.get("device", source="127.0.1.9")) == 0, "HTTP from 127.0.1.9 (in the /24) closed")
t.ok(status(d.get("device", source="127.0.0.8")) == 200, "HTTP from 127.0.0.8 answered")
t.ok(rtsp_describe("main", source="127.0.0.7") in ("closed", "timeout"),
     "RTSP from 127.0.0.7: closed before any answer")
t.ok(rtsp_describe("main", source="127.0.0.8").startswith("RTSP/1.0 200"),
     "RTSP from 127.0.0.8 answered")
r = d.put("config/security", {"ip_filter": {"enabled": True, "mode": "allow",
                                             "addresses": ["127.0.0.1", "127.0.0.8-127.0.0.9"]}})
t.ok(status(r) == 200, "allow list 127.0.0.1 and the range 127.0.0.8-127.0.0.9", r)
t.ok(status(d.get("device", source="127.0.0.9")) == 200
     and status(d.get("device", source="127.0.0.10")) == 0,
     "allow mode: 127.0.0.9 in, 127.0.0.10 out")
for bad, field in ((["300.1.1.1"], "security.ip_filter.addresses[0]"),
                   (["10.0.0.1", "10.0.0.9-10.0.0.2"], "security.ip_filter.addresses[1]"),
                   (["10.0.0.0/33"], None)):
    r = d.put("config/security", {"ip_filter": {"enabled": True, "mode": "deny",
                                                 "addresses": bad}})
    t.ok(status(r) == 400 and (field is None or r[1]["error"]["field"] == field),
         f"a bad filter entry {bad} is refused and names the field", r)
r = d.put("config/security", {"ip_filter": {"enabled": False}})
t.ok(status(r) == 200 and status(d.get("device", source="127.0.0.10")) == 200,
     "filter off: everyone may connect again")

# ---- hardening: Digest nonces, bodies, activation, open streams ----
def raw_http(port, parts, source="127.0.0.1", timeout=5, pause=0.0):
    """Sends @parts (bytes, @pause s before the last) on one connection;
    (status, headers text, body bytes), status 0 when closed unanswered"""
    s = socket.socket()
    s.settimeout(timeout)
    head, body = b"", b""
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        for i, part in enumerate(parts):
            if pause and i == len(parts) - 1:
                time.sleep(pause)
            try:
                s.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        head, body = read_answer(s)
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        s.close()
    if not head.startswith(b"HTTP/"):
        return 0, "", b""
    return int(head.split()[1]), head.decode(errors="replace"), body


def digest_header(method, uri, nonce, nc, user="admin", password=PASSWORD):
    md5 = lambda x: hashlib.md5(x.encode()).hexdigest()  # noqa: E731
    cnonce = "0a4f113b"
    ha1 = md5(f"{user}:thermocam:{password}")
    resp = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{md5(f'{method}:{uri}')}")
    return (f'Authorization: Digest username="{user}", realm="thermocam", nonce="{nonce}", '
            f'uri="{uri}", qop=auth, nc={nc}, cnonce="{cnonce}", response="{resp}", '
            'algorithm=MD5')


def put_device(port, name, auth_header):
    body = json.dumps({"name": name}).encode()
    return raw_http(port, [(f"PUT /api/v1/config/device HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            f"{auth_header}\r\nContent-Type: application/json\r\n"
                            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
                           .encode() + body])


name0 = d.get("config/device")[1]["name"]
st, head, _ = put_device(d.http, "Forged", digest_header("PUT", "/api/v1/config/device",
                                                         "sniffed", "00000001"))
t.ok(st == 401 and "stale=true" in head and d.get("config/device")[1]["name"] == name0,
     "Digest with a nonce the device did not make: 401 stale=true, nothing changed", head)
st, head, _ = raw_http(d.http, [b"GET /api/v1/device HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                b"Connection: close\r\n\r\n"])
nonce = re.search(r'nonce="([^"]+)"', head).group(1) if st == 401 else ""
hdr = digest_header("PUT", "/api/v1/config/device", nonce, "00000001")
st1, _, _ = put_device(d.http, "Replay A", hdr)
st2, head2, _ = put_device(d.http, "Replay B", hdr)
st3, _, _ = put_device(d.http, "Replay C", digest_header("PUT", "/api/v1/config/device",
                                                          nonce, "00000002"))
name = d.get("config/device")[1]["name"]
t.ok(st1 == 200 and st2 == 401 and "stale=true" in head2 and st3 == 200
     and name == "Replay C",
     "a captured Digest header sent again (same nc, another body) is refused; nc+1 works",
     (st1, st2, st3, name))
d.put("config/device", {"name": name0})


def rss_kb():
    with open(f"/proc/{d.proc.pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


rss0 = rss_kb()
chunk = b"x" * 65536
chunked = [b"POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
           b"Content-Type: application/json\r\n\r\n"] + \
    [b"10000\r\n" + chunk + b"\r\n"] * 256          # 16 MiB, no credentials
start = time.time()
st, head, body = raw_http(d.http, chunked, timeout=10)
took = time.time() - start
grew = rss_kb() - rss0
t.ok(st in (0, 401, 413) and took < 8 and grew < 8 * 1024,
     f"16 MiB chunked body without credentials: not kept (RSS +{grew} kB, {took:.1f} s, "
     f"answer {st})", head)
st, head, _ = raw_http(d.http, [b"GET /api/v1/device HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                b"Connection: close\r\n\r\n"])
nonce = re.search(r'nonce="([^"]+)"', head).group(1)
auth = digest_header("POST", "/api/v1/rules", nonce, "00000001")
chunked = [(f"POST /api/v1/rules HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n"
            "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n").encode()] + \
    [b"10000\r\n" + chunk + b"\r\n"] * 64            # 4 MiB, as admin
st, head, body = raw_http(d.http, chunked, timeout=10)
t.ok(st in (0, 413) and rss_kb() - rss0 < 8 * 1024 and d.alive(),
     f"4 MiB chunked body as admin: cut at 256 KiB (answer {st})", (head, body[:200]))
st, head, body = raw_http(d.http, [b"PUT /api/v1/config/device HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   b"Content-Length: 100000000\r\n\r\n"] + [chunk] * 16,
                          timeout=5)
t.ok(st in (0, 413) and rss_kb() - rss0 < 8 * 1024,
     f"Content-Length 100 MB: refused after at most 256 KiB are read (answer {st})", head)
# the bytes over the limit come with the end of the body, after a pause:
# the whole body is in before the cut can run
st, head, body = raw_http(d.http, [b"POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   b"Transfer-Encoding: chunked\r\nContent-Type: application/json"
                                   b"\r\n\r\n" + (b"10000\r\n" + chunk + b"\r\n") * 4,
                                   b"10000\r\n" + chunk + b"\r\n0\r\n\r\n"], pause=0.5)
t.ok(st == 413 and d.alive(), f"a body crossing 256 KiB with its last bytes: 413 (answer {st})",
     head)
t.ok(status(d.get("device")) == 200, "the API still answers")

# a request whose headers came before activation gets no way in afterwards
d2 = Daemon().start()
body = json.dumps({"name": "sneaked in"}).encode()
s2 = socket.create_connection(("127.0.0.1", d2.http), timeout=5)
s2.sendall((f"PUT /api/v1/config/device HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            f"application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
           .encode())
time.sleep(0.3)
r = d2.activate()
s2.sendall(body)
answer = b""
try:
    while True:
        c = s2.recv(4096)
        if not c:
            break
        answer += c
except socket.timeout:
    pass
s2.close()
name2 = d2.get("config/device")[1].get("name")
t.ok(status(r) == 200 and answer.startswith(b"HTTP/1.1 401") and name2 != "sneaked in"
     and d2.alive(),
     "headers sent before activation, body after: 401 not_activated, nothing changed",
     (answer[:300], name2))
d2.stop()


def stream(user, password, source="127.0.0.1"):
    return subprocess.Popen(["curl", "-s", "-N", "--digest", "-u", f"{user}:{password}",
                             "--interface", source, d.url("events")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ended(proc, timeout):
    try:
        proc.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


d.post("users", {"name": "streamer", "password": "Str3am#user", "level": "user"})
sv = stream("streamer", "Str3am#user")
sa = stream("admin", PASSWORD, source="127.0.0.9")
time.sleep(1.5)
alive_before = sv.poll() is None and sa.poll() is None
d.curl("DELETE", "users/streamer")
t.ok(alive_before and ended(sv, 3) and sa.poll() is None,
     "deleting an account ends its event stream (others go on)")
d.put("config/security", {"ip_filter": {"enabled": True, "mode": "deny",
                                         "addresses": ["127.0.0.9"]}})
t.ok(ended(sa, 3), "a deny rule ends the open event stream of that address")
d.put("config/security", {"ip_filter": {"enabled": False}})

# ---- the audit log (manual 10.12.2) ----
r = d.get("system/audit-log?type=lock")
locks = r[1].get("records", []) if status(r) == 200 else []
t.ok(len(locks) == 2 and locks[0]["address"] == "127.0.0.5" and locks[1]["address"] == "127.0.0.6"
     and "after 3 failed logins (rtsp)" in locks[1]["detail"],
     "audit: both locks are recorded with their addresses (RTSP failures counted once each)",
     r)
r = d.get("system/audit-log?type=user")
t.ok(status(r) == 200 and any(f"added {OP}" in x["detail"] for x in r[1]["records"])
     and any(x["user"] == VW and "password" in x["detail"] for x in r[1]["records"]),
     "audit: account changes, with who made them", r)
r = d.get("system/audit-log?type=config")
t.ok(status(r) == 200 and any(x["user"] == OP and "config.device" in x["detail"]
                              for x in r[1]["records"]),
     "audit: configuration changes, with the user", r)
r = d.get("system/audit-log?type=login_failed")
t.ok(status(r) == 200 and len(r[1]["records"]) >= 6, "audit: failed logins", len(r[1]))
future = d.get("system/audit-log?from=2100-01-01T00:00:00Z")
past = d.get(f"system/audit-log?to={int(time.time()) - 3600}")
t.ok(future[1] == {"records": []} and past[1] == {"records": []},
     "audit: search by time (from, to)", (future, past))
r = d.get("system/audit-log?type=bogus")
t.ok(status(r) == 400 and r[1]["error"]["field"] == "type", "audit: an unknown type is refused")
r = d.get("system/audit-log/export?format=csv")
lines = r[1].decode().splitlines() if status(r) == 200 else []
t.ok(lines and lines[0] == "time,type,user,address,detail" and len(lines) > 20
     and "attachment" in r[2], "audit: CSV export", r[2])

# ---- HTTPS (manual 10.12.5) ----
r = d.post("security/certificate/self-signed", {"country": "DE", "host": "127.0.0.1",
                                                 "days": 30})
t.ok(status(r) == 201 and r[1]["self_signed"] and "CN=127.0.0.1" in r[1]["subject"]
     and "BEGIN CERTIFICATE" in r[1].get("pem", ""),
     "a self-signed certificate for 127.0.0.1 (country, host, validity)", r)
ca1 = os.path.join(tmp, "self.pem")
open(ca1, "w").write(r[1].get("pem", ""))
r = d.post("security/certificate/self-signed", {"country": "Germany", "host": "127.0.0.1",
                                                 "days": 30})
t.ok(status(r) == 400 and r[1]["error"]["field"] == "country", "a bad country is refused", r)
n = d.readies
r = d.put("config/security", {"https": {"enabled": True}})
t.ok(status(r) == 200 and wait_readies(n + 1) and d.https, "HTTPS on: the servers restart "
     "in place and listen on the HTTPS port", d.lines[-3:])
r = d.get(f"https://127.0.0.1:{d.https}/api/v1/device", extra=("--cacert", ca1))
t.ok(status(r) == 200, "curl --cacert verifies the self-signed certificate", r)
r = d.get(f"https://127.0.0.1:{d.https}/api/v1/device", auth=False, extra=("--cacert", ca1))
t.ok(status(r) == 401, "HTTPS wants credentials too", r)
# a certificate request, signed by our own CA, installed
r = d.post("security/certificate/request", {"country": "DE", "host": "127.0.0.1",
                                             "organization": "Plant 7"})
csr = os.path.join(tmp, "req.csr")
open(csr, "wb").write(r[1] if isinstance(r[1], bytes) else b"")
p = subprocess.run(["openssl", "req", "-in", csr, "-noout", "-verify", "-subject"],
                   capture_output=True, text=True)
t.ok(status(r) == 201 and p.returncode == 0 and "CN = 127.0.0.1" in p.stdout
     and "Plant 7" in p.stdout, "the certificate request parses and verifies (openssl req)",
     p.stdout + p.stderr)
t.ok(status(d.get("security/certificate/request")) == 200, "the request can be downloaded again")
cakey, cacrt, signed = (os.path.join(tmp, n) for n in ("ca.key", "ca.pem", "signed.pem"))
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", cakey, "-out", cacrt,
                "-days", "2", "-subj", "/CN=Test Plant CA"], capture_output=True, check=True)
ext = os.path.join(tmp, "ext.cnf")
open(ext, "w").write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
p = subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", cacrt, "-CAkey", cakey,
                    "-CAcreateserial", "-out", signed, "-days", "2", "-extfile", ext],
                   capture_output=True, text=True)
other = os.path.join(tmp, "other.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", os.path.join(tmp, "o.key"),
                "-out", other, "-days", "2", "-subj", "/CN=127.0.0.1"], capture_output=True)
r = d.curl("PUT", "security/certificate", raw=open(other, "rb").read())
t.ok(status(r) == 400 and code(r) == "mismatch", "a certificate for another key is refused", r)
r = d.curl("PUT", "security/certificate", raw=b"not a certificate")
t.ok(status(r) == 400, "garbage is refused", r)
r = d.curl("PUT", "security/certificate", raw=open(signed, "rb").read())
t.ok(p.returncode == 0 and status(r) == 200 and not r[1]["self_signed"]
     and "Test Plant CA" in r[1]["issuer"], "the signed certificate is installed", r)
r = d.get(f"https://127.0.0.1:{d.https}/api/v1/device", extra=("--cacert", cacrt))
t.ok(status(r) == 200, "the installed certificate is served: curl trusts it through the CA", r)
r = d.get(f"https://127.0.0.1:{d.https}/api/v1/device", extra=("--cacert", ca1))
t.ok(status(r) == 0, "the old self-signed one is no longer served", r)
# a certificate and its key made elsewhere, installed together (no request)
own_key, own_req, own_crt = (os.path.join(tmp, n) for n in ("own.key", "own.csr", "own.pem"))
subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", own_key,
                "-out", own_req, "-subj", "/CN=127.0.0.1"], capture_output=True, check=True)
subprocess.run(["openssl", "x509", "-req", "-in", own_req, "-CA", cacrt, "-CAkey", cakey,
                "-CAcreateserial", "-out", own_crt, "-days", "2", "-extfile", ext],
               capture_output=True, check=True)
pair = open(own_key, "rb").read() + open(own_crt, "rb").read()
r = d.curl("PUT", "security/certificate", raw=open(own_key, "rb").read() + open(other, "rb").read())
t.ok(status(r) == 400 and code(r) == "mismatch", "a certificate with a key not its own is refused", r)
r = d.curl("PUT", "security/certificate", raw=pair)
fp = subprocess.run(["openssl", "x509", "-in", own_crt, "-noout", "-fingerprint", "-sha256"],
                    capture_output=True, text=True).stdout.split("=")[-1].strip()
t.ok(status(r) == 200 and r[1]["sha256"].replace(":", "").lower() == fp.replace(":", "").lower()
     and b"PRIVATE KEY" not in json.dumps(r[1]).encode(),
     "a certificate with its own RSA key (no request) is installed; the key is not shown", r)
r = d.get(f"https://127.0.0.1:{d.https}/api/v1/device", extra=("--cacert", cacrt))
t.ok(status(r) == 200, "and served: curl trusts it through the CA", r)
n = d.readies
r = d.put("config/security", {"https": {"enabled": True, "redirect_http": True}})
r2 = d.get("device", auth=False)
t.ok(status(r) == 200 and r2[0] == 308
     and f"Location: https://127.0.0.1:{d.https}/api/v1/device" in r2[2],
     "redirect_http: plain HTTP answers 308 to the HTTPS port", r2)
n = d.readies
r = d.put(f"https://127.0.0.1:{d.https}/api/v1/config/security",
          {"https": {"enabled": True, "redirect_http": False}}, extra=("--cacert", cacrt))
r2 = d.get("device", auth=True)
t.ok(status(r) == 200 and status(r2) == 200 and d.readies == n,
     "redirect_http off again (over HTTPS): applied live, no restart", (r, r2, d.readies, n))

# ---- configuration export and import (manual 10.2) ----
EXPORT_PW = "Exp0rt#secret"
before = d.get("config")[1]
expf = os.path.join(tmp, "config.bin")
r = d.post("system/config-export", {"password": EXPORT_PW}, out_file=expf)
blob = open(expf, "rb").read() if os.path.exists(expf) else b""
t.ok(status(r) == 200 and len(blob) > 100 and b"thermometry" not in blob
     and EXPORT_PW.encode() not in blob, "export: an encrypted file (no clear text)", r[2])
r = d.post("system/config-export", {"password": "short"})
t.ok(status(r) == 400 and code(r) == "weak_password", "export needs a strong password", r)
d.put("config/thermometry", {"emissivity": 0.5})
d.put("config/device", {"name": "changed after export"})
d.post("users", {"name": "later", "password": "L4ter#user", "level": "user"})
d.put(f"users/{OP}", {"password": "Chang3d#op1"})
changed = d.get("config")[1]


def do_import(data, password):
    f = os.path.join(tmp, "import.bin")
    open(f, "wb").write(data)
    return d.curl("POST", "system/config-import",
                  extra=("-F", f"file=@{f};type=application/octet-stream",
                         "-F", f"password={password}"))


r = do_import(blob, "Wrong#passw0rd")
t.ok(status(r) == 400 and code(r) == "wrong_password" and d.get("config")[1] == changed,
     "import with a wrong password: refused, nothing changed", r)
flipped = bytearray(blob)
flipped[len(flipped) // 2] ^= 0x01
r = do_import(bytes(flipped), EXPORT_PW)
t.ok(status(r) == 400 and d.get("config")[1] == changed,
     "import of a file with one flipped bit: refused, nothing changed", r)
r = do_import(b"hello", EXPORT_PW)
t.ok(status(r) == 400 and code(r) == "invalid", "import of something else: refused", r)
r = do_import(blob, EXPORT_PW)
after = d.get("config")[1]
t.ok(status(r) == 200 and after == before, "import restores every setting", r)
users = d.get("users")[1]
t.ok([u["name"] for u in users] == ["admin", OP, VW], "import restores the accounts", users)
t.ok(status(d.get("device", user=OP, password=OP_PW)) == 200
     and status(d.get("device", user=OP, password="Chang3d#op1")) == 401,
     "and their passwords: the operator's exported password works again, the later one not")

# ---- no secret anywhere ----
time.sleep(0.3)
secrets = [PASSWORD, OP_PW, VW_PW, EXPORT_PW,
           hashlib.md5(f"admin:thermocam:{PASSWORD}".encode()).hexdigest()]
diag = json.dumps(d.get("system/diagnostics")[1])
audit = json.dumps(d.get("system/audit-log")[1])
everything = "\n".join(d.lines) + diag + audit + json.dumps(d.get("config")[1])
found = [s for s in secrets if s in everything]
t.ok(not found, "no password or HA1 in the log, diagnostics, audit log or configuration",
     found)
found = [s for s in secrets if s.encode() in blob]
t.ok(not found, "no password or HA1 in clear in the export", found)

# ---- the administrator's last word: factory default ----
r = d.post("system/default", user=OP, password=OP_PW)
t.ok(status(r) == 403, "an operator may not reset to factory default", r)
rc = d.stop()
t.ok(rc == 0, "clean exit", rc)
t.done()
