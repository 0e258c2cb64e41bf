#!/usr/bin/python3
"""thermocamd end to end: the web page's files at / (HTTP and HTTPS) and the
page's live WebSocket (GET /api/v1/live/ws).

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
import ssl
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Tap, wait_for  # noqa: E402

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
d.stop()

t.done()
