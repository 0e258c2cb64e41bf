#!/usr/bin/python3
"""Range requests on the stored files (the web page asks for the first bytes
of a picture): every range answered with its bytes, one running past the end
(which once aborted the daemon) included. The thumbnails of the stored pictures (GET /captures/{name}/thumbnail, the
web page's file list): a radiometric JPEG, a JPEG and a BMP each give a JPEG
of at most 320 pixels on its longer side, a few KB, showing the same picture
(compared with ffmpeg's own scaling); a small picture stays as it is; damaged
or foreign files are refused with 422; a name not stored is 404; a user-level
account is refused."""
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap, jpeg_size  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="thermocam-thumb-")
state = tempfile.mkdtemp(prefix="thermocamd-")
# hostile files already in the store when the daemon starts
caps = os.path.join(state, "captures")
os.makedirs(caps)
BAD = {
    "20261124T100000.000Z-manual-1.jpg": b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + os.urandom(300),
    "20261124T100001.000Z-manual-1.jpg": b"not a picture at all",
    # a BMP header announcing 30000x30000 pixels
    "20261124T100002.000Z-manual-1.bmp": (b"BM" + struct.pack("<IHHI", 60, 0, 0, 54)
                                          + struct.pack("<IiiHHIIiiII", 40, 30000, 30000, 1, 24, 0, 0,
                                                        2835, 2835, 0, 0) + b"\0" * 6),
    # a BMP whose pixels are cut
    "20261124T100003.000Z-manual-1.bmp": (b"BM" + struct.pack("<IHHI", 64, 0, 0, 54)
                                          + struct.pack("<IiiHHIIiiII", 40, 64, 64, 1, 24, 0, 0,
                                                        2835, 2835, 0, 0) + b"\0" * 10),
}
for name, data in BAD.items():
    with open(os.path.join(caps, name), "wb") as f:
        f.write(data)

d = Daemon(state_dir=state).start()
d.activate()
d.wait_frames()


def get(path, **kw):
    out = os.path.join(tmp, "out")
    if os.path.exists(out):
        os.unlink(out)
    s, body, hdrs = d.get(path, out_file=out, **kw)
    data = open(out, "rb").read() if os.path.exists(out) else b""
    return s, data, hdrs


def grey(data, size):
    """the picture @data in 8-bit grey at @size, by ffmpeg"""
    f = os.path.join(tmp, "in")
    with open(f, "wb") as fh:
        fh.write(data)
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", f, "-vf", f"scale={size[0]}:{size[1]}:flags=area",
                        "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True)
    return r.stdout


for fmt, body in (("rjpeg", {"format": "rjpeg"}), ("jpeg", {"format": "jpeg"}), ("bmp", {"format": "bmp"})):
    s, r, _ = d.post("captures", body)
    name = r["name"] if s == 201 else ""
    s1, full, _ = get(f"captures/{name}")
    s2, thumb, hdrs = get(f"captures/{name}/thumbnail")
    size = jpeg_size(thumb)
    t.ok(s2 == 200 and "image/jpeg" in hdrs and size == (320, 256) and len(thumb) < 30000
         and len(thumb) * (2 if fmt == "jpeg" else 50) < len(full),
         f"{fmt}: a 320x256 JPEG thumbnail of {len(thumb)} bytes for a file of {len(full)}", (s2, size, hdrs))
    a, b = grey(thumb, (320, 256)), grey(full, (320, 256))
    diff = sum(abs(x - y) for x, y in zip(a, b)) / max(1, len(a))
    t.ok(len(a) == len(b) == 320 * 256 and diff < 8,
         f"{fmt}: it shows the picture (mean difference {diff:.1f} of 255 from ffmpeg's scaling)", (len(a), len(b)))

s, r, _ = d.post("captures", {"format": "jpeg", "resolution": "160x128"})
s, thumb, _ = get(f"captures/{r['name']}/thumbnail")
t.ok(s == 200 and jpeg_size(thumb) == (160, 128), "a picture smaller than a thumbnail keeps its size", jpeg_size(thumb))

for name in BAD:
    s, body, _ = d.get(f"captures/{name}/thumbnail")
    t.ok(s == 422 and body["error"]["code"] == "unreadable" and body["error"]["field"] == "name",
         f"a damaged {name[-3:].upper()} ({name}) is refused: 422", (s, body))
t.ok(d.alive(), "the daemon is still there")

s, body, _ = d.get("captures/20990101T000000.000Z-manual-1.jpg/thumbnail")
t.ok(s == 404 and body["error"]["code"] == "not_found", "a name not stored: 404", (s, body))
s, body, _ = d.get("captures/..%2fconfig.json/thumbnail")
t.ok(s == 404, "a name outside the store: 404", (s, body))
s, body, _ = d.post("captures/x.jpg/thumbnail")
t.ok(s == 405, "POST: 405", s)

# ---- ranges of a stored file
s, r, _ = d.post("captures", {"format": "jpeg"})
s, full, _ = get(f"captures/{r['name']}")
n = len(full)
for rng, want in ((f"0-{n - 1}", full), (f"0-{n}", full), (f"0-{n + 5000}", full), ("0-16383", full[:16384]),
                  (f"{n - 10}-", full[-10:]), ("100-199", full[100:200]), (f"{n - 5}-{n + 100}", full[-5:])):
    s, data, hdrs = get(f"captures/{r['name']}", headers=[f"Range: bytes={rng}"])
    t.ok(s == 206 and data == want and f"/{n}" in hdrs, f"Range bytes={rng} of {n}: 206 with those bytes", (s, len(data)))
for rng in (f"{n + 10}-{n + 20}", "abc", f"-{n + 5}"):
    s, data, hdrs = get(f"captures/{r['name']}", headers=[f"Range: bytes={rng}"])
    t.ok(s == 200 and data == full, f"Range bytes={rng} (past the end or unreadable): the whole file", (s, len(data)))
t.ok(d.alive(), "the daemon is still there after the ranges")

d.post("users", {"name": "watcher", "password": "Watch#2026pw", "level": "user"})
s, body, _ = d.get(f"captures/{r['name']}/thumbnail", user="watcher", password="Watch#2026pw")
t.ok(s == 403, "a user-level account is refused", s)
t.ok(d.stop() == 0, "clean exit")
t.done()
