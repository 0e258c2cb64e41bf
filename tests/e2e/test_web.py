#!/usr/bin/python3
"""thermocamd end to end: the web page's files at / (HTTP and HTTPS) and the
page's live WebSocket (GET /api/v1/live/ws, with the small RFC 6455 client of
wsclient.py): admission (session, Origin), hello, the video's fMP4 (ffprobe
decodes it), radiometric frames against a point rule, refusals and their
close codes, what a peer may send (a message's fragments, pings, unasked
pongs), the backlog of a reader that keeps up, an account's share.

The files: a data directory of the test's own (pipelines/ and schemas/ of the
source tree, and a webui/ of every served type, a dot file, a symbolic link
out, a file of no served type, a secret beside webui/); content types, ETag
and 304, HEAD, the page's headers on HTTP and HTTPS, paths that try to leave
webui/ refused, the API still JSON with its own headers.  The tree's own
webui/ is served by a daemon run from the build tree.
"""
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Tap, wait_for  # noqa: E402
from wsclient import BINARY, CLOSE, TEXT, HandshakeRefused, WebSocket, client_frame  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECRET = b"SECRET-BESIDE-WEBUI"

# the test's webui/: served path -> (bytes, Content-Type)
FILES = {
    "/index.html": (b"<!DOCTYPE html><title>t</title><script type=module src=js/app.js></script>",
                    "text/html; charset=utf-8"),
    "/js/app.js": (b"export const x = 1;\n", "text/javascript; charset=utf-8"),
    "/js/lib/util.mjs": (b"export default 2;\n", "text/javascript; charset=utf-8"),
    "/css/site.css": (b"body { margin: 0 }\n", "text/css; charset=utf-8"),
    "/i18n/messages.json": (b'{"en": {"a": "A"}, "zh": {"a": "\xe7\x94\xb2"}}',
                            "application/json"),
    "/img/logo.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
    "/img/dot.png": (b"\x89PNG\r\n\x1a\n" + bytes(range(40)), "image/png"),
    "/favicon.ico": (b"\x00\x00\x01\x00" + bytes(30), "image/x-icon"),
    "/fonts/f.woff2": (b"wOF2" + bytes(60), "font/woff2"),
    "/sounds/alarm.wav": (b"RIFF" + bytes(60), "audio/wav"),
    "/sounds/alarm.ogg": (b"OggS" + bytes(60), "audio/ogg"),
}


def make_data_dir():
    top = tempfile.mkdtemp(prefix="tc-web-")
    for sub in ("pipelines", "schemas"):
        os.symlink(os.path.join(ROOT, sub), os.path.join(top, sub))
    web = os.path.join(top, "webui")
    for path, (data, _) in FILES.items():
        f = os.path.join(web, path[1:])
        os.makedirs(os.path.dirname(f), exist_ok=True)
        with open(f, "wb") as fh:
            fh.write(data)
    with open(os.path.join(top, "secret.html"), "wb") as fh:
        fh.write(SECRET)
    for name, data in ((".hidden.html", SECRET), ("js/.secret.js", SECRET),
                       ("notes.txt", SECRET), ("README", SECRET), (".git/config.json", SECRET)):
        os.makedirs(os.path.dirname(os.path.join(web, name)), exist_ok=True)
        with open(os.path.join(web, name), "wb") as fh:
            fh.write(data)
    os.symlink(os.path.join(top, "secret.html"), os.path.join(web, "link.html"))
    os.symlink(top, os.path.join(web, "up"))
    os.makedirs(os.path.join(web, "empty"))
    return top


def request(port, method, path, headers=None, tls=False, timeout=10):
    """(status, headers dict lower-case, body) with the path sent as it is"""
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=ctx)
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def page_headers_ok(h):
    return (h.get("content-security-policy") == CSP and h.get("x-content-type-options") == "nosniff"
            and h.get("x-frame-options") == "DENY" and h.get("referrer-policy") == "no-referrer"
            and h.get("cache-control") == "no-cache")


def backlog_drained(d, w):
    """the live sockets' largest backlog (diagnostics) once @w stopped and
    read everything (its reader kept up)"""
    w.send_text('{"type":"stop"}')
    w.send_text('{"type":"radiometry","rate":0}')
    while w.recv(0.7) is not None:
        pass
    time.sleep(0.3)
    return d.get("system/diagnostics")[1].get("http", {}).get("live_socket_backlog")


def rss_kb(d):
    with open(f"/proc/{d.proc.pid}/status") as fh:
        return int([x for x in fh if x.startswith("VmRSS:")][0].split()[1])


def raw_frame(opcode, payload, fin=True):
    """a client's frame (masked with a zero key: the payload as it is)"""
    return client_frame(opcode, payload, fin)


t = Tap()
data_dir = make_data_dir()
d = Daemon(extra=("--data-dir", data_dir)).start()
d.activate()


def check_files(port, tls, label):
    bad = []
    for path, (data, ctype) in FILES.items():
        s, h, body = request(port, "GET", path, tls=tls)
        etag = h.get("etag", "")
        if not (s == 200 and body == data and h.get("content-type") == ctype
                and re.fullmatch(r'"[0-9a-f]{32}"', etag) and page_headers_ok(h)):
            bad.append((path, s, h, body[:60]))
    t.ok(not bad, f"{label}: every file with its type, a strong ETag and the page's headers "
         f"({len(FILES)} files)", bad)
    s, h, body = request(port, "GET", "/", tls=tls)
    t.ok(s == 200 and body == FILES["/index.html"][0] and h.get("content-type")
         == "text/html; charset=utf-8" and page_headers_ok(h), f"{label}: / is /index.html", (s, h))
    return h


# ---- 1. the files over HTTP ----
h = check_files(d.http, False, "HTTP")
t.ok("strict-transport-security" not in h, "HTTP: no HSTS", h)
etags = {p: request(d.http, "GET", p)[1].get("etag") for p in FILES}
t.ok(len(set(etags.values())) == len(FILES), "every file has its own ETag", etags)
t.ok(etags["/js/app.js"] == '"%s"' % hashlib.sha256(FILES["/js/app.js"][0]).hexdigest()[:32],
     "the ETag is the content's hash (the same after a restart)", etags["/js/app.js"])

# ---- 2. cache validators ----
tag = etags["/js/app.js"]
s, h, body = request(d.http, "GET", "/js/app.js", {"If-None-Match": tag})
t.ok(s == 304 and body == b"" and h.get("etag") == tag and page_headers_ok(h),
     "If-None-Match with the ETag: 304, no body, the ETag and the headers", (s, h, body))
s, h, body = request(d.http, "GET", "/js/app.js", {"If-None-Match": f'"x", W/{tag}'})
t.ok(s == 304, "If-None-Match: a list, and a weak form of the tag: 304", s)
s, h, body = request(d.http, "GET", "/js/app.js", {"If-None-Match": '"0123"'})
t.ok(s == 200 and body == FILES["/js/app.js"][0], "another ETag: 200 with the file", s)
s, h, body = request(d.http, "GET", "/js/app.js", {"If-None-Match": "*"})
t.ok(s == 304, "If-None-Match: *: 304", s)

# ---- 3. HEAD ----
s, h, body = request(d.http, "HEAD", "/css/site.css")
t.ok(s == 200 and body == b"" and h.get("content-length") == str(len(FILES["/css/site.css"][0]))
     and h.get("content-type") == "text/css; charset=utf-8" and h.get("etag") == etags["/css/site.css"]
     and page_headers_ok(h), "HEAD: the headers (length, type, ETag) and no body", (s, h, body))
s, h, body = request(d.http, "POST", "/index.html")
t.ok(s == 405 and "GET" in h.get("allow", "") and "HEAD" in h.get("allow", ""),
     "POST of a file: 405 with Allow: GET, HEAD", (s, h))

# ---- 4. nothing outside webui/, no dot file, no directory, no other type ----
bad = []
for path in ("/../secret.html", "/js/../../secret.html", "/%2e%2e/secret.html",
             "/%2E%2E/secret.html", "/%2e%2e%2fsecret.html", "/js/..%2f..%2fsecret.html",
             "/js%2f..%2f..%2fsecret.html", "/..%5csecret.html", "/%2e%2e%5csecret.html",
             "/js%2fapp.js", "/js%2Fapp.js", "/.hidden.html", "/%2ehidden.html",
             "/js/.secret.js", "/.git/config.json", "/js", "/js/", "/empty", "/empty/",
             "/link.html", "/up/secret.html", "/notes.txt", "/README", "//secret.html",
             "/index.html%00", "/index.html%00.js", "/%00", "/index.html/", "/index.html/.",
             "/js//app.js", "/%ff%fe", "/" + "a/" * 300):
    try:
        s, h, body = request(d.http, "GET", path)
    except (OSError, http.client.HTTPException) as e:
        s, h, body = 0, {}, repr(e).encode()
    if SECRET in body or s not in (400, 404):
        bad.append((path, s, body[:80]))
t.ok(not bad, "paths out of webui/, encoded slashes and dots, dot files, directories, links and "
     "other types: 400 or 404, never served", bad)
s, h, body = request(d.http, "GET", "/index.html?x=../secret.html")
t.ok(s == 200 and body == FILES["/index.html"][0], "a query is not a part of the path", s)
s, h, body = request(d.http, "GET", "/nosuch.js")
t.ok(s == 404 and h.get("content-type") == "application/json"
     and json.loads(body)["error"]["code"] == "not_found" and page_headers_ok(h),
     "an unknown file: 404 (JSON) with the page's headers", (s, h, body))
t.ok(d.alive(), "the daemon is fine")

# ---- 5. the API stays JSON, with its own headers ----
s, j, head = d.get("device")
hl = head.lower()
t.ok(s == 200 and isinstance(j, dict) and "content-type: application/json" in hl,
     "GET /api/v1/device: JSON", head)
for want in ("x-content-type-options: nosniff", "x-frame-options: deny",
             "content-security-policy: default-src 'none'", "frame-ancestors 'none'",
             "referrer-policy: no-referrer", "cache-control: no-store"):
    t.ok(want in hl, f"an API answer carries {want}", head)
s, h, body = request(d.http, "GET", "/api/v1/nosuch")
t.ok(s in (401, 404) and h.get("content-type") == "application/json"
     and h.get("x-frame-options") == "DENY", "an unknown API path: JSON, not the page", (s, h))
s, h, body = request(d.http, "GET", "/api/v1/../../secret.html")
t.ok(s in (400, 404) and SECRET not in body, "a path from the API out: refused", (s, body[:80]))
s, h, body = request(d.http, "GET", "/onvif/device_service")
t.ok(s == 404 and h.get("content-type") == "application/json", "/onvif/ is not the page's", s)

# ---- 6. GET /session tells a session's CSRF token again (a page that was reloaded) ----
s, j, head = d.post("session", {"name": "admin", "password": PASSWORD}, auth=False)
cookie = re.search(r"thermocam_session=([0-9a-f]+)", head).group(1) if s == 200 else ""
csrf = j.get("csrf_token") if s == 200 else None
s, j, _ = d.get("session", auth=False, headers=[f"Cookie: thermocam_session={cookie}"])
t.ok(s == 200 and j.get("session") is True and j.get("csrf_token") == csrf and csrf,
     "GET /session with the cookie: the session's csrf_token", (s, j, csrf))
s, j, _ = d.get("session")
t.ok(s == 200 and j.get("session") is False and "csrf_token" not in j,
     "GET /session with Digest: no csrf_token", j)
s, _, _ = d.put("config/device", {"name": "web-test"}, auth=False,
                headers=[f"Cookie: thermocam_session={cookie}", f"X-CSRF-Token: {csrf}"])
t.ok(s == 200, "the token told again works for a change", s)

# ---- 7. over HTTPS ----
n = d.readies
d.put("config/security", {"https": {"enabled": True}})
wait_for(lambda: d.readies > n and d.https, 30)
h = check_files(d.https, True, "HTTPS")
t.ok(h.get("strict-transport-security", "").startswith("max-age="), "HTTPS: HSTS", h)
s, h, body = request(d.https, "GET", "/js/app.js", {"If-None-Match": tag}, tls=True)
t.ok(s == 304 and h.get("etag") == tag, "HTTPS: the same ETag, 304", (s, h))
s, h, body = request(d.https, "GET", "/%2e%2e/secret.html", tls=True)
t.ok(s in (400, 404) and SECRET not in body, "HTTPS: out of webui/ refused", s)
r = d.post(f"https://127.0.0.1:{d.https}/api/v1/session", {"name": "admin", "password": PASSWORD},
           auth=False, extra=("-k",))
m = re.search(r"thermocam_session=([0-9a-f]+)", r[2])
try:
    w = WebSocket(d.https, tls=True, headers=["Cookie: thermocam_session=" + (m.group(1) if m
                                                                              else "")])
    hello = w.recv()
    w.send_text('{"type":"radiometry","rate":4}')
    frame = w.recv()
    # a reader that keeps up: nothing is left behind once it read all
    w.send_text('{"type":"play","stream":"main"}')
    n_msgs, end = 0, time.time() + 2.5
    while time.time() < end and w.recv(2) is not None:
        n_msgs += 1
    tls_backlog = backlog_drained(d, w)
    w.close()
except (HandshakeRefused, OSError) as e:
    hello = frame = tls_backlog = repr(e)
    n_msgs = 0
t.ok(hello and hello[0] == TEXT and frame and frame[0] == BINARY and frame[1][0] == 3,
     "HTTPS: the live socket (wss) with the session made there: hello, a radiometric frame",
     (hello, frame and frame[0]))
t.ok(n_msgs > 20 and isinstance(tls_backlog, int) and 0 <= tls_backlog <= 300,
     f"HTTPS: after {n_msgs} messages read as they came, the socket's backlog is ~0 "
     f"(http.live_socket_backlog {tls_backlog})", tls_backlog)
try:
    WebSocket(d.https, tls=True, origin=f"http://127.0.0.1:{d.https}",
              headers=["Cookie: thermocam_session=" + (m.group(1) if m else "")]).close()
    st = 101
except HandshakeRefused as e:
    st = e.status
t.ok(st == 403, "HTTPS: an http:// Origin is another origin: 403", st)
n = d.readies
d.put("config/security", {"https": {"enabled": False}})
wait_for(lambda: d.readies > n, 30)
d.stop()
shutil.rmtree(data_dir, ignore_errors=True)

# ---- 8. the tree's own webui/ (a daemon run from the build tree) ----
d = Daemon().start()
s, h, body = request(d.http, "GET", "/")
with open(os.path.join(ROOT, "webui", "index.html"), "rb") as fh:
    mine = fh.read()
t.ok(s == 200 and body == mine and h.get("content-type") == "text/html; charset=utf-8"
     and page_headers_ok(h), "the build tree's daemon serves webui/index.html at /", (s, h))

# ---- 9. the live socket: admission ----
d.activate()
s, j, head = d.post("session", {"name": "admin", "password": PASSWORD}, auth=False)
cookie = "Cookie: thermocam_session=" + (
    re.search(r"thermocam_session=([0-9a-f]+)", head).group(1) if s == 200 else "")
reading = d.wait_frames()


def refused(**kw):
    try:
        WebSocket(d.http, **kw).close()
        return 101, None
    except HandshakeRefused as e:
        try:
            code = json.loads(e.body)["error"]["code"]
        except ValueError:
            code = None
        return e.status, code


t.ok(refused()[0] == 401, "no session: 401", refused())
t.ok(refused(headers=["Cookie: thermocam_session=00ff"])[0] == 401, "a made-up session: 401")
n = len(d.lines)
r = refused(headers=[cookie], origin="http://evil.example")
time.sleep(0.2)
t.ok(r == (403, "cross_site") and any("evil.example" in x and "refused" in x for x in d.lines[n:]),
     "another Origin: 403 cross_site, and a log line", (r, d.lines[n:]))
for origin in (False, f"https://127.0.0.1:{d.http}", f"http://127.0.0.1:{d.http + 1}",
               "http://127.0.0.1", "null", f"http://127.0.0.1:{d.http}/x"):
    r = refused(headers=[cookie], origin=origin)
    t.ok(r == (403, "cross_site"), f"Origin {origin or '(none)'}: 403", r)
r = refused(headers=[cookie, "Origin: http://evil.example"])
t.ok(r == (403, "cross_site"), "two Origin headers (the page's and another): 403", r)
r = refused(headers=[cookie, f"Origin: http://127.0.0.1:{d.http}"])
t.ok(r == (403, "cross_site"), "the page's Origin twice: 403 as well", r)
n = len(d.lines)
r = refused(headers=[cookie], origin='http://evil.example/"\\' + "x" * 3000)
time.sleep(0.2)
logged = [x for x in d.lines[n:] if "refused" in x and "evil.example" in x]
t.ok(r == (403, "cross_site") and logged and all(len(x) < 700 for x in logged)
     and '/\\"\\\\x' in logged[0],
     "a 3 KB Origin with a quote and a backslash: logged cut to 200 bytes, escaped",
     (r, logged))
s, h, body = request(d.http, "GET", "/api/v1/live/ws", {"Cookie": cookie.split(": ", 1)[1],
                                                      "Origin": f"http://127.0.0.1:{d.http}"})
t.ok(s == 400 and json.loads(body)["error"]["code"] == "invalid",
     "a GET that is no WebSocket handshake: 400", (s, body))
s, h, body = request(d.http, "POST", "/api/v1/live/ws", {"Cookie": cookie.split(": ", 1)[1]})
t.ok(s in (403, 405), "POST: refused", s)

w = WebSocket(d.http, headers=[cookie, "Sec-WebSocket-Extensions: permessage-deflate; "
                                      "client_max_window_bits"])
t.ok("sec-websocket-extensions" not in w.head.lower() and w.recv()[0] == TEXT,
     "a browser's offer of permessage-deflate: accepted, the extension declined", w.head)
w.close()

# a user-level account's socket that never reads (so never answers a ping):
# dropped after 35 s (checked in 15)
VW, VW_PW = "viewer1", "Vi3wer#2026"
d.post("users", {"name": VW, "password": VW_PW, "level": "user"})
s, j, head = d.post("session", {"name": VW, "password": VW_PW}, auth=False)
vw_cookie = "Cookie: thermocam_session=" + re.search(r"thermocam_session=([0-9a-f]+)",
                                                    head).group(1)
silent = WebSocket(d.http, headers=[vw_cookie])
silent_at = time.time()
# and one that never reads but sends a pong every 3 s, unasked: no answer
# to a ping either
ponger = WebSocket(d.http, headers=[vw_cookie])
ponger_stop = threading.Event()


def unsolicited_pongs():
    while not ponger_stop.wait(3):
        try:
            ponger.sock.sendall(raw_frame(10, b"pong"))
        except OSError:
            return


threading.Thread(target=unsolicited_pongs, daemon=True).start()

# ---- 10. hello, video ----
ws = WebSocket(d.http, headers=[cookie])
m = ws.recv()
hello = json.loads(m[1]) if m and m[0] == TEXT else {}
t.ok(hello.get("type") == "hello" and hello.get("user") == "admin"
     and hello.get("level") == "administrator"
     and hello.get("streams", {}).get("main", {}).get("width") == 640
     and hello["streams"]["main"].get("height") == 512 and hello["streams"]["main"].get("fps")
     and "sub" in hello["streams"] and hello.get("radiometry") == {"width": 640, "height": 512},
     "hello: the user, the level, the streams and the radiometric frame's size", m)
ws.send_text(json.dumps({"type": "play", "stream": "main"}))
msgs, end = [], time.time() + 4
while time.time() < end:
    m = ws.recv(5)
    if m is None or m[0] == CLOSE:
        break
    msgs.append((time.time(), m))
texts = [json.loads(m[1]) for _, m in msgs if m[0] == TEXT]
bins = [(at, m[1]) for at, m in msgs if m[0] == BINARY]
t.ok(texts and texts[0].get("type") == "video" and texts[0].get("stream") == "main"
     and re.fullmatch(r'video/mp4; codecs="avc1\.[0-9a-f]{6}"', texts[0].get("mime", "")),
     "play main: a video message with the MIME type and codecs", texts)
kinds = [b[0] for _, b in bins]
t.ok(kinds and kinds[0] == 1 and all(k == 2 for k in kinds[1:]) and len(kinds) > 30,
     f"the init segment (kind 1), then media segments (kind 2): {len(kinds)} in 4 s", kinds[:10])
t.ok(all(b[1:8] == bytes(7) for _, b in bins), "bytes 1..7 of the header are zero")
t.ok(bins and struct.unpack("<q", bins[0][1][8:16])[0] == 0, "an init segment's capture time is 0")
ages = [at - struct.unpack("<q", b[8:16])[0] / 1e6 for at, b in bins[1:]]
t.ok(ages and all(-0.05 < a < 2 for a in ages),
     "the capture times are within 2 s of now (%.0f ms median)" % (
         1000 * sorted(ages)[len(ages) // 2] if ages else 0), ages[:5])


def trun_flags(seg):
    i = seg.find(b"trun")
    return struct.unpack(">I", seg[i + 24:i + 28])[0] if i > 0 else None


t.ok(len(bins) > 1 and trun_flags(bins[1][1][16:]) == 0x02000000,
     "the first media segment is a key frame", trun_flags(bins[1][1][16:]) if len(bins) > 1 else 0)
seqs = []
for _, b in bins[1:]:
    i = b.find(b"mfhd")
    seqs.append(struct.unpack(">I", b[i + 8:i + 12])[0])
t.ok(seqs == list(range(1, len(seqs) + 1)), "their sequence numbers count from 1", seqs[:5])
tmp = tempfile.mkdtemp(prefix="tc-web-ws-")
mp4 = os.path.join(tmp, "live.mp4")
with open(mp4, "wb") as fh:
    for _, b in bins:
        fh.write(b[16:])
probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                        "-show_entries", "stream=codec_name,width,height,nb_read_frames",
                        "-of", "json", mp4], capture_output=True, text=True, timeout=60)
try:
    st = json.loads(probe.stdout)["streams"][0]
except (ValueError, KeyError, IndexError):
    st = {}
t.ok(st.get("codec_name") == "h264" and st.get("width") == 640 and st.get("height") == 512
     and int(st.get("nb_read_frames", 0)) == len(bins) - 1 and not probe.stderr.strip(),
     f"ffprobe decodes every frame of what came ({len(bins) - 1})", (st, probe.stderr[-500:]))

# ---- 11. radiometric frames ----
point = {"name": "spot", "type": "point", "points": [[0.51, 0.72]]}
s, rule, _ = d.post("rules", point)
ws.send_text(json.dumps({"type": "stop"}))
time.sleep(0.3)
while ws.recv(0.3) is not None:
    pass
ws.send_text(json.dumps({"type": "radiometry", "rate": 2}))
frames, end = [], time.time() + 3.2
while time.time() < end:
    m = ws.recv(3)
    if m is None or m[0] == CLOSE:
        break
    if m[0] == BINARY:
        frames.append((time.time(), m[1]))
kinds = [b[0] for _, b in frames]
t.ok(kinds and all(k == 3 for k in kinds) and 4 <= len(kinds) <= 8,
     f"stop ends the video; radiometry at 2/s: {len(kinds)} kind-3 frames in 3.2 s", kinds)
ok_frames, temps = 0, []
s, reading, _ = d.get("temperatures")
spot = [x for x in reading.get("rules", []) if x["id"] == rule.get("id")] if s == 200 else []
for at, b in frames:
    w, hh, scale = struct.unpack("<HHf", b[16:24])
    counts = zlib.decompress(b[24:])
    if w == 640 and hh == 512 and len(counts) == w * hh * 2 and 0.001 <= scale <= 0.0501:
        ok_frames += 1
    x, y = int(0.51 * w), int(0.72 * hh)
    c = struct.unpack_from("<H", counts, 2 * (y * w + x))[0]
    temps.append(c * scale - 273.15)
t.ok(frames and ok_frames == len(frames), "each frame: 640x512, a scale of at most 0.05 K, zlib (RFC 1950) of "
     "640*512 uint16", ok_frames)
ages = [at - struct.unpack("<q", b[8:16])[0] / 1e6 for at, b in frames]
t.ok(ages and all(-0.05 < a < 2 for a in ages), "their capture times are within 2 s of now", ages)
t.ok(spot and temps and abs(temps[-1] - spot[0]["max"]) <= 0.3,
     "the temperature at the point rule's pixel agrees with GET /temperatures within 0.3 C",
     (temps, spot))
ws.send_text(json.dumps({"type": "radiometry", "rate": 0}))
time.sleep(0.3)
while ws.recv(0.3) is not None:
    pass
t.ok(ws.recv(1.2) is None, "radiometry rate 0: no more frames")
b = backlog_drained(d, ws)
t.ok(isinstance(b, int) and 0 <= b <= 300,
     f"after {len(bins) + len(frames)} binary messages read as they came, the socket's backlog "
     f"is ~0 (http.live_socket_backlog {b})", b)

# ---- 12. a reader that stops reading skips, then goes on from a key frame ----
w = WebSocket(d.http, headers=[cookie], rcvbuf=32768)
w.recv()
w.send_text('{"type":"play","stream":"main"}')
w.send_text('{"type":"radiometry","rate":8}')
time.sleep(12)
got, end = [], time.time() + 5
while time.time() < end:
    m = w.recv(2)
    if m is None or m[0] == CLOSE:
        break
    if m[0] == BINARY and m[1][0] == 2:
        got.append((struct.unpack("<q", m[1][8:16])[0], trun_flags(m[1][16:])))
w.close()
gaps = [(got[i][0] - got[i - 1][0], got[i][1]) for i in range(1, len(got))]
big = [g for g in gaps if g[0] > 2e6]
t.ok(got and got[0][1] == 0x02000000 and big and all(f == 0x02000000 for _, f in big)
     and got[-1][0] / 1e6 > time.time() - 2,
     "12 s without reading: the video skipped (a gap of %.1f s) and went on from a key frame, "
     "live again" % (max(g for g, _ in big) / 1e6 if big else 0), (len(got), big[:3]))
t.ok(d.alive() and (d.get("system/diagnostics")[1].get("http", {}).get("streams_dropped") == 0),
     "and it was not dropped (behind for less than 30 s)")

# ---- 13. refusals close with their codes; the daemon is fine ----
cases = [
    ("an unknown type", lambda w: w.send_text('{"type":"zoom"}'), 1008),
    ("a member play does not have", lambda w: w.send_text('{"type":"play","stream":"main","x":1}'),
     1008),
    ("an unknown stream", lambda w: w.send_text('{"type":"play","stream":"third"}'), 1008),
    ("a rate of 9", lambda w: w.send_text('{"type":"radiometry","rate":9}'), 1008),
    ("a rate as a string", lambda w: w.send_text('{"type":"radiometry","rate":"2"}'), 1008),
    ("a rate of 2.5", lambda w: w.send_text('{"type":"radiometry","rate":2.5}'), 1008),
    ("not JSON", lambda w: w.send_text("{type: play"), 1008),
    ("an array", lambda w: w.send_text('[{"type":"stop"}]'), 1008),
    ("no type", lambda w: w.send_text('{"stream":"main"}'), 1008),
    ("a type with a NUL", lambda w: w.send_text('{"type":"stop\\u0000junk"}'), 1008),
    ("a stream with a NUL",
     lambda w: w.send_text('{"type":"play","stream":"main\\u0000x"}'), 1008),
    ("a binary message", lambda w: w.send_binary(b'{"type":"stop"}'), 1003),
    ("a 2 KB text", lambda w: w.send_text('{"type":"stop","x":"' + "a" * 2048 + '"}'), 1009),
    ("a flood of 50 messages", lambda w: [w.send_text('{"type":"stop"}') for _ in range(50)],
     1008),
]
for name, send, want in cases:
    n = len(d.lines)
    w = WebSocket(d.http, headers=[cookie])
    w.recv()
    send(w)
    got, code = w.until_closed(5)
    w.close()
    errs = [json.loads(m[1]) for m in got if m[0] == TEXT]
    time.sleep(0.1)
    t.ok(code == want and errs and errs[-1].get("type") == "error" and errs[-1].get("code")
         and any("refused" in x for x in d.lines[n:]),
         f"{name}: an error message, closed with {want}, logged", (code, got, d.lines[n:]))
t.ok(d.alive() and d.get("device")[0] == 200, "the daemon is fine")

# ---- 13b. what a peer sends is bounded before libsoup reads it ----
# a message in fragments that never ends: cut at 64 KiB, the rest not kept
rss0 = rss_kb(d)
n = len(d.lines)
w = WebSocket(d.http, headers=[cookie])
w.recv()
w.sock.sendall(raw_frame(1, b"a" * 60000, fin=False) + raw_frame(0, b"a" * 60000, fin=False))
got, code = w.until_closed(5)
sent = 120000
try:
    w.sock.settimeout(5)
    chunk = raw_frame(0, b"a" * 60000, fin=False)
    for _ in range(100):        # 6 MB more
        w.sock.sendall(chunk)
        sent += len(chunk)
except OSError:
    pass
w.close()
time.sleep(0.5)
grew = (rss_kb(d) - rss0) // 1024
t.ok(code == 1009 and any(m[0] == TEXT and "too_large" in m[1] for m in got)
     and any("refused" in x and "64 KiB" in x for x in d.lines[n:]) and grew < 20,
     f"a fragmented message: closed 1009 after 120 KB, {sent // 1000} KB sent in all, the "
     f"daemon grew {grew} MB", (code, got, d.lines[n:], grew))

# a flood of pings from a peer that never reads: closed within seconds, the
# daemon answers meanwhile
rss0 = rss_kb(d)
n = len(d.lines)
flood = WebSocket(d.http, headers=[cookie], rcvbuf=4096)
flood_end = {}


def ping_flood():
    blob = raw_frame(9, b"x" * 125) * 200
    start = time.time()
    flood.sock.settimeout(1)
    while time.time() - start < 8:
        try:
            flood.sock.sendall(blob)
        except socket.timeout:
            continue
        except OSError:
            flood_end["closed"] = time.time() - start
            return
    flood_end["closed"] = None


th = threading.Thread(target=ping_flood)
th.start()
slowest, end = 0, time.time() + 5
while time.time() < end:
    t0 = time.time()
    s = request(d.http, "GET", "/api/v1/system/diagnostics", {"Cookie": cookie.split(": ", 1)[1]})[0]
    slowest = max(slowest, time.time() - t0 if s == 200 else 99)
    time.sleep(0.1)
th.join()
flood.sock.close()
t.ok(flood_end.get("closed") is not None and flood_end["closed"] < 3
     and any("refused" in x and "pings a second" in x for x in d.lines[n:]),
     "a ping flood: refused (1008) and the connection closed after %.1f s"
     % (flood_end.get("closed") or 0), (flood_end, d.lines[n:]))
t.ok(slowest < 0.5 and (rss_kb(d) - rss0) < 20 * 1024,
     f"meanwhile GET /system/diagnostics answers within {slowest * 1000:.0f} ms, the daemon "
     f"grew {(rss_kb(d) - rss0) // 1024} MB", slowest)
ws.send_text(json.dumps({"type": "radiometry", "rate": 1}))
m = ws.recv(3)
t.ok(m and m[0] == BINARY and m[1][0] == 3, "and the first socket still works", m and m[0])
ws.close()

# ---- 14. a socket ends with its session ----
s, j, head = d.post("session", {"name": "admin", "password": PASSWORD}, auth=False)
cookie2 = "Cookie: thermocam_session=" + re.search(r"thermocam_session=([0-9a-f]+)", head).group(1)
w = WebSocket(d.http, headers=[cookie2])
w.recv()
s, _, _ = d.curl("DELETE", "session", auth=False, headers=[cookie2, "X-CSRF-Token: "
                                                          + j["csrf_token"]])
got, code = w.until_closed(12)
w.close()
t.ok(s == 204 and code == 1008, "logging out closes the session's socket (1008)", (s, code))

# ---- 15. bounds: an account's share of the sockets ----


def live_sockets():
    return d.get("system/diagnostics")[1].get("http", {}).get("live_sockets")


dropped = wait_for(lambda: len([x for x in d.lines if "no answer to pings" in x and VW in x])
                   >= 2, max(50 - (time.time() - silent_at), 1))
ponger_stop.set()
ponger.sock.close()
got, code = silent.until_closed(5)
silent.close()
t.ok(dropped and 34 < time.time() - silent_at and code in (None, 1006)
     and any(m[0] == TEXT and '"hello"' in m[1] for m in got),
     "a socket that answers no ping (and one that sends pongs unasked) is dropped after 35 s "
     "(%.0f s)" % (time.time() - silent_at),
     (dropped, code, got[:2]))
t.ok(wait_for(lambda: live_sockets() == 0, 15), "every socket closed is gone (http.live_sockets 0)",
     live_sockets())
socks = []
try:
    for _ in range(4):
        socks.append(WebSocket(d.http, headers=[cookie]))
    r = refused(headers=[cookie])
    try:
        WebSocket(d.http, headers=[cookie]).close()
        line = "101"
    except HandshakeRefused as e:
        line = e.head.split("\r\n")[0]
    t.ok(r == (429, "too_many_clients") and line == "HTTP/1.1 429 Too Many Requests",
         "an account holds at most 4 of the 16 sockets: 429 Too Many Requests", (r, line))
finally:
    for w in socks:
        w.close()
n_open = wait_for(lambda: live_sockets() == 0, 15)
t.ok(d.alive() and n_open, "the daemon is fine after all of them, and none is left open "
     "(diagnostics: http.live_sockets 0)", d.get("system/diagnostics")[1].get("http"))
d.stop()

t.done()
