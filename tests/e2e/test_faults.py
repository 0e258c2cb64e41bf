#!/usr/bin/python3
"""thermocamd when things go wrong: a sensor that is not there (the servers
run, the pipeline is retried with a growing backoff, exceptions on the event
stream); a real radiometric file as the sensor; the overlay picture upload
with its limits."""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Events, Tap  # noqa: E402

t = Tap()
d = Daemon(extra=["--source", "file:/nonexistent/sensor.jpg"]).start()
s, j, _ = d.activate()
t.ok(s == 200, "no sensor: the daemon still serves and activates", (s, j))
ev = Events(d)
exc = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "pipeline_error", 10)
t.ok(exc is not None and "does not start" in exc[1]["message"], "an exception event says the pipeline fails", exc)
time.sleep(3)
s, diag, _ = d.get("system/diagnostics")
r = diag["pipeline"]["restarts"]
t.ok(3 <= r <= 6 and not diag["pipeline"]["running"],
     f"it retries with a growing backoff ({r} restarts in about 4 s: 0.5, 1, 2, 4 s)", diag["pipeline"])
s, j, _ = d.get("temperatures")
t.ok(s == 503 and j["error"]["code"] == "no_frame", "readings: 503 no_frame while there is no sensor", (s, j))
ev.close()
t.ok(d.stop() == 0, "clean exit")

samples = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "samples")
t640 = os.path.abspath(os.path.join(samples, "FLIR_T640.jpg"))
d = Daemon(extra=["--source", f"file:{t640}"]).start()
d.activate()
j = d.wait_frames()
t.ok(j is not None and 20 < j["scene"]["avg"] < 60 and j["scene"]["max"] > j["scene"]["avg"],
     f"a FLIR T640 file as the sensor: scene avg {j['scene']['avg'] if j else None} C", j)


def bmp(w, h, bits=24):
    row = (w * bits // 8 + 3) & ~3
    head = b"BM" + struct.pack("<IHHI", 54 + row * h, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, bits, 0, row * h, 2835, 2835, 0, 0)
    pixels = bytes([0, 0, 255] * w + [0] * (row - w * 3)) * h if bits == 24 else bytes(row * h)
    return head + info + pixels


s, j, _ = d.curl("PUT", "osd/picture", raw=bmp(32, 24), headers=["Content-Type: image/bmp"])
t.ok(s == 204, "PUT a 32x24 24-bit BMP", (s, j))
s, j, _ = d.put("config/osd", {"picture": {"enabled": True, "x": 10, "y": 10}})
t.ok(s == 200 and j["picture"]["enabled"], "enable the picture overlay", j)
s, body, _ = d.get("osd/picture")
t.ok(s == 200 and body == bmp(32, 24), "GET the picture back", s)
for desc, data in (("a 32-bit BMP", bmp(16, 16, 32)), ("a 200x10 BMP", bmp(200, 10)),
                   ("a PNG", b"\x89PNG\r\n\x1a\n" + bytes(100)), ("a truncated BMP", bmp(64, 64)[:500])):
    s, j, _ = d.curl("PUT", "osd/picture", raw=data, headers=["Content-Type: image/bmp"])
    t.ok(s == 400 and j["error"]["field"] == "picture", f"{desc} is refused", (s, j))
s, body, _ = d.get("osd/picture")
t.ok(body == bmp(32, 24), "and the picture stays the good one")
s, bmpshot, _ = d.get("snapshot?format=bmp")
t.ok(s == 200 and bmpshot[:2] == b"BM", "snapshots still work with the overlay", s)
t.ok(d.stop() == 0, "clean exit")

# ---- ports from the configuration: a busy one is refused before it is saved ----
import json  # noqa: E402
import socket  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


ports = {"http": free_port(), "rtsp": free_port(), "https": free_port(), "modbus": free_port(),
         "server": free_port()}
d = Daemon()
with open(os.path.join(d.state_dir, "config.json"), "w") as f:
    json.dump({"ports": ports}, f)
d.args = [a for i, a in enumerate(d.args)
          if not (a.endswith("-port") or (i and d.args[i - 1].endswith("-port")))]
d.start()
t.ok((d.http, d.rtsp, d.modbus) == (ports["http"], ports["rtsp"], ports["modbus"]),
     "without port flags the daemon listens on the configured ports", (d.http, d.rtsp, ports))
d.activate()
busy = socket.socket()
busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
busy.bind(("", 0))
busy.listen(1)
s, j, _ = d.put("config/ports", {"http": busy.getsockname()[1]})
s2, cur, _ = d.get("config/ports")
t.ok(s == 400 and j["error"]["field"] == "ports.http" and "in use" in j["error"]["message"]
     and {k: cur.get(k) for k in ports} == ports and d.alive(),
     "a port another program holds is refused (field named), nothing saved, still serving", j)
new_rtsp = free_port()
readies = d.readies
s, j, _ = d.put("config/ports", {"rtsp": new_rtsp})
end = time.time() + 20
while d.readies == readies and time.time() < end:
    time.sleep(0.1)
t.ok(s == 200 and d.readies > readies and d.rtsp == new_rtsp and d.http == ports["http"],
     f"a free port is taken: the servers restart in place on rtsp {new_rtsp}", (s, j, d.rtsp))
busy.close()
t.ok(d.stop() == 0, "clean exit")
t.done()
