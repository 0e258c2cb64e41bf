#!/usr/bin/python3
"""thermocamd media end to end: the video standard and the streams' frame
rates (PAL: 25 fps, a PUT above the sensor's rate refused, restore on PAL),
the H.264 profile really produced, the sub stream no larger than the
sensor; readings while burning prevention closes the shutter (not valid,
alarms held), comparisons and range flags in /temperatures."""
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Events, Tap, ffprobe, wait_for  # noqa: E402

t = Tap()
d = Daemon().start()
d.activate()
d.wait_frames()


def profile(path):
    cmd = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
           "stream=profile", "-of", "json", d.rtsp_url(path)]
    for attempt in range(2):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=25)
            return json.loads(r.stdout)["streams"][0]["profile"], r.stderr
        except subprocess.TimeoutExpired as e:
            # a viewer that joins just as the stream restarts has been seen
            # to wait for ever (twice in many runs, under load; the joins are
            # issue 23's): said here, and tried once more
            print(f"# {path}: ffprobe hung 25 s after a restart (attempt {attempt + 1})",
                  flush=True)
            err = str(e)
        except (ValueError, KeyError, IndexError) as e:
            return None, str(e)
    return None, err


def frames(path, seconds=4):
    """frames ffmpeg receives from /path in @seconds"""
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-rtsp_transport", "tcp",
                        "-i", d.rtsp_url(path), "-t", str(seconds), "-c", "copy", "-f", "null",
                        "-"], capture_output=True, text=True, timeout=60)
    m = re.findall(r"frame=\s*(\d+)", r.stderr)
    return int(m[-1]) if m else 0, r.stderr[-400:]


def modbus_inputs(count=10):
    """input registers 0..count-1 over Modbus TCP (FC04), or None"""
    try:
        with socket.create_connection(("127.0.0.1", d.modbus), timeout=3) as sk:
            sk.sendall(struct.pack(">HHHBBHH", 1, 0, 6, 1, 4, 0, count))
            buf = b""
            while len(buf) < 9 + 2 * count:
                c = sk.recv(512)
                if not c:
                    break
                buf += c
    except OSError:
        return None
    if len(buf) < 9 + 2 * count or buf[7] != 4:
        return None
    return struct.unpack(f">{count}H", buf[9:9 + 2 * count])


def field(e):
    return e.get("error", {}).get("field") if isinstance(e, dict) else None


# ---- 13: the H.264 profile is the one produced ----
for want, name in (("main", "Main"), ("high", "High"), ("baseline", "Constrained Baseline")):
    s, v, _ = d.put("config/video", {"main": {"profile": want}, "sub": {"profile": want}})
    got, err = profile("main")
    got_sub, err_sub = profile("sub")
    t.ok(s == 200 and got == name and got_sub == name,
         f"profile {want}: main gives {got}, sub gives {got_sub}", (s, v, err, err_sub))

# ---- 11: PAL takes the streams' frame rates along ----
s, img, _ = d.put("config/image", {"video_standard": "pal"})
s2, v, _ = d.get("config/video")
t.ok(s == 200 and img["video_standard"] == "pal" and v["main"]["frame_rate"] == 25
     and v["sub"]["frame_rate"] == 15,
     f"PAL: main brought down to {v['main']['frame_rate']} fps, sub stays at "
     f"{v['sub']['frame_rate']}", (img, v))
def plays(when, sub_fps):
    got, err = ffprobe(d.rtsp_url("main"), "tcp")
    t.ok(got == ("h264", 640, 512, "25/1"), f"{when}: /main plays: {got}", err)
    # the sub keeps 3 frames of 5: ffprobe guesses its rate from the spacing,
    # count them instead
    got, err = ffprobe(d.rtsp_url("sub"), "tcp")
    n, err2 = frames("sub")
    t.ok(got and got[:3] == ("h264", 320, 256) and abs(n - 4 * sub_fps) <= 8,
         f"{when}: /sub plays: {got}, {n} frames in 4 s", (err, err2))


plays("PAL", 15)
s, e, _ = d.put("config/video", {"main": {"frame_rate": 30}})
s2, v2, _ = d.get("config/video")
t.ok(s == 400 and field(e) == "video.main.frame_rate" and v2 == v,
     f"PAL: main.frame_rate 30 refused ({s}, {field(e)}), nothing changed", (e, v2))
s, e, _ = d.put("config/video", {"sub": {"frame_rate": 26}})
t.ok(s == 400 and field(e) == "video.sub.frame_rate",
     f"PAL: sub.frame_rate 26 refused ({s})", e)
s, v3, _ = d.put("config/video", {"sub": {"frame_rate": 25}})
t.ok(s == 200 and v3["sub"]["frame_rate"] == 25, "PAL: sub.frame_rate 25 taken", v3)

# restore on a PAL device keeps PAL and fits the default 30 fps to 25
s, doc, _ = d.post("system/restore")
t.ok(s == 200 and doc["image"]["video_standard"] == "pal"
     and doc["video"]["main"]["frame_rate"] == 25,
     f"restore on PAL: standard {doc['image']['video_standard'] if s == 200 else s}, main "
     f"{doc['video']['main']['frame_rate'] if s == 200 else '?'} fps", doc)
plays("after restore on PAL", 15)

# back to NTSC: rates stay (25 is within 30); 30 is allowed again
s, img, _ = d.put("config/image", {"video_standard": "ntsc"})
s2, v, _ = d.put("config/video", {"main": {"frame_rate": 30}})
got, err = ffprobe(d.rtsp_url("main"), "tcp")
t.ok(s == 200 and s2 == 200 and got == ("h264", 640, 512, "30/1"),
     f"NTSC again: main at 30 fps plays: {got}", (img, v, err))

# ---- 16: the sub stream no larger than the sensor ----
s, e, _ = d.put("config/video", {"sub": {"resolution": "1280x1024"}})
s2, v2, _ = d.get("config/video")
t.ok(s == 400 and field(e) == "video.sub.resolution"
     and v2["sub"]["resolution"] == "320x256",
     f"sub resolution above the sensor's refused ({s})", e)
s, v, _ = d.put("config/video", {"sub": {"resolution": "640x512"}})
t.ok(s == 200 and v["sub"]["resolution"] == "640x512", "sub at the sensor's size taken", v)

# ---- 16: comparisons in /temperatures ----
rules = [{"id": 1, "name": "left", "type": "polygon",
          "points": [[0.05, 0.05], [0.45, 0.05], [0.45, 0.95], [0.05, 0.95]]},
         {"id": 2, "name": "corner", "type": "polygon",
          "points": [[0.9, 0.9], [0.98, 0.9], [0.98, 0.98], [0.9, 0.98]]}]
s, _, _ = d.put("config/rules", rules)
s2, _, _ = d.put("config/comparisons", [{"id": 5, "name": "left-right", "rules": [1, 2],
                                          "alarm": {"enabled": True, "on": "max", "alarm": 500,
                                                    "pre_alarm": 400}}])
time.sleep(0.5)
r = d.wait_frames()
cmps = r.get("comparisons") if r else None
rd = {x["id"]: x for x in r["rules"]} if r else {}
ok = (s == 200 and s2 == 200 and cmps and len(cmps) == 1 and cmps[0]["id"] == 5
      and cmps[0]["rules"] == [1, 2] and cmps[0]["valid"] is True and cmps[0]["state"] == "normal"
      and abs(cmps[0]["value"] - (rd[1]["max"] - rd[2]["max"])) < 0.5)
t.ok(ok, f"GET /temperatures has the comparison's value: {cmps}", r)
t.ok(r and r["valid"] is True and all(x["valid"] is True for x in r["rules"])
     and r["scene"]["below_range"] is False and r["scene"]["above_range"] is False,
     "a reading of the scene: valid, within the -20~150 range", r)

# ---- 12: burning prevention: the shutter frames are not valid, alarms hold ----
ev = Events(d)
hot = d.wait_frames()["scene"]["max"]
thr = round(hot - 3, 1)
d.put("config/scene_alarm", {"enabled": True, "on": "max", "condition": "above", "pre_alarm": thr - 2,
                             "alarm": thr, "tolerance": 1, "filter_time": 0})
start = ev.wait(lambda e: e[0] == "alarm" and e[1]["source"] == "scene" and e[1]["level"] == "alarm"
                and e[1]["state"] == "start", 10)
t.ok(start is not None, f"a scene alarm (max {hot} C above {thr} C) starts", start)
s, _, _ = d.put("config/burning_prevention", {"enabled": True, "mode": "auto",
                                              "threshold": 50 if hot > 55 else hot - 5,
                                              "duration_s": 1, "recovery": False})
t0 = time.time()
invalid = []
mb_closed = []
while time.time() - t0 < 9:
    st, rr, _ = d.get("temperatures")
    if st == 200 and rr["valid"] is False:
        invalid.append(rr)
    regs = modbus_inputs()
    if regs and regs[0] & (1 << 4):
        mb_closed.append(regs)
    time.sleep(0.1)
cycles = [e for e in ev.events if e[0] == "burning" and e[1]["shutter"] == "closed" and e[2] >= t0]
scene_events = [e for e in ev.events if e[0] == "alarm" and e[1]["source"] == "scene" and e[2] > start[2]]
meas_invalid = [e for e in ev.events if e[0] == "measurement" and e[1]["valid"] is False]
t.ok(len(cycles) >= 3, f"the shutter closed {len(cycles)} times in 9 s", [e[1] for e in cycles])
t.ok(not scene_events, f"no scene alarm stop/start over the shutter cycles ({len(scene_events)})",
     [e[1] for e in scene_events])
t.ok(invalid and all(x["scene"]["state"] == "alarm" and all(r["valid"] is False and "max" not in r
                                                           for r in x["rules"])
                     and all(c["valid"] is False and "value" not in c for c in x["comparisons"])
                     for x in invalid),
     f"GET /temperatures while closed: valid false, rules and comparisons not valid, the scene "
     f"alarm held ({len(invalid)} readings)", invalid[:2])
t.ok(meas_invalid, f"measurement events while closed: valid false ({len(meas_invalid)})")
# Modbus: status bit 4 (shutter) with bit 0 (valid) clear, the scene max
# marked invalid (-32768), the scene state and bit 2 (any alarm) held
t.ok(mb_closed and all(not r[0] & 1 and r[0] & (1 << 2) and r[6] == 0x8000 and r[9] == 2
                       for r in mb_closed),
     f"Modbus while closed: not valid, alarm held ({len(mb_closed)} reads)",
     [(hex(r[0]), r[6], r[9]) for r in mb_closed[:5]])
# the recovery FFC after each opening (the default) must not open a shutter
# that closed again, nor show its frozen shutter as the scene; nor may a
# manual FFC while the shutter is held closed
t1 = time.time()
d.put("config/burning_prevention", {"recovery": True})
time.sleep(9)
recov = [e for e in ev.events if e[0] == "burning" and e[1]["shutter"] == "closed" and e[2] >= t1]
scene_events = [e for e in ev.events if e[0] == "alarm" and e[1]["source"] == "scene" and e[2] > start[2]]
t.ok(len(recov) >= 3 and not scene_events,
     f"with the recovery FFC: {len(recov)} closures, no scene alarm stop/start "
     f"({len(scene_events)})", [e[1] for e in scene_events])
d.put("config/burning_prevention", {"mode": "manual", "shutter": "closed"})
wait_for(lambda: d.get("temperatures")[1]["valid"] is False, 5)
t2 = time.time()
s_ffc, _, _ = d.post("system/ffc")
states = []
while time.time() - t2 < 4:
    states.append(d.get("temperatures")[1]["valid"])
    time.sleep(0.1)
scene_events = [e for e in ev.events if e[0] == "alarm" and e[1]["source"] == "scene" and e[2] > start[2]]
opened = [e for e in ev.events if e[0] == "burning" and e[1]["shutter"] == "open" and e[2] >= t2]
t.ok(s_ffc == 202 and not any(states) and not scene_events and not opened,
     "a manual FFC while the shutter is held closed: readings stay not valid, no alarm "
     "transition, the shutter stays closed", (s_ffc, states.count(True), len(scene_events),
                                              len(opened)))
d.put("config/burning_prevention", {"mode": "auto", "threshold": 500, "recovery": False})
t.ok(wait_for(lambda: d.get("temperatures")[1]["valid"] is True, 5), "the shutter open again: valid")
d.put("config/scene_alarm", {"enabled": False})
ev.close()

# ---- 16: readings below the measurement range are flagged ----
s, _, _ = d.put("config/thermometry", {"temperature_range": "0~550"})
time.sleep(1.5)
r = wait_for(lambda: (lambda x: x if x[0] == 200 and x[1]["valid"] else None)(d.get("temperatures")), 10)
r = r[1] if r else {}
sc = r.get("scene", {})
t.ok(s == 200 and sc.get("min", 0) < 0 and sc.get("below_range") is True
     and sc.get("above_range") is False,
     f"0~550: a scene minimum of {sc.get('min')} C is flagged below_range", sc)
low = [x for x in r.get("rules", []) if x.get("valid") and x["min"] < 0]
t.ok(all(x["below_range"] is True for x in low)
     and all(x["below_range"] is False for x in r.get("rules", []) if x.get("valid") and x["min"] >= 0),
     f"0~550: rules flagged the same way ({[(x['id'], x['min'], x['below_range']) for x in r.get('rules', []) if x.get('valid')]})",
     r)

# ---- 16: the live view refuses a stream it does not give ----
s, e, _ = d.get("live.mjpeg?stream=sub", timeout=5)
t.ok(s == 400 and field(e) == "stream", f"live.mjpeg?stream=sub: {s}", e)
s, body, hdrs = d.get("live.mjpeg?stream=main", timeout=3, extra=["--max-filesize", "200000"])
t.ok("multipart/x-mixed-replace" in hdrs and s == 200, "live.mjpeg?stream=main: the live view", hdrs)

# ---- 16: the R-JPEG snapshot carries the device's model and serial ----
s, dev, _ = d.get("device")
jpg = os.path.join(d.state_dir, "snap-r.jpg")
s, _, _ = d.get("snapshot?format=rjpeg", out_file=jpg)
x = subprocess.run(["exiftool", "-s", "-CameraModel", "-CameraSerialNumber", "-Model",
                    "-SerialNumber", jpg],
                   capture_output=True, text=True)
# "Tag   : value" lines (text: a serial of digits keeps its leading zeros)
info = dict((a.strip(), b.strip()) for a, _, b in
            (line.partition(":") for line in x.stdout.splitlines()))
serial = dev["serial_number"]
t.ok(s == 200 and info.get("CameraModel") == "thermocam TC-640"
     and info.get("CameraSerialNumber") == serial.split("-")[-1]
     and info.get("Model") == "thermocam TC-640" and info.get("SerialNumber") == serial,
     f"R-JPEG: exiftool reads model {info.get('CameraModel')!r}, serial "
     f"{info.get('SerialNumber')!r} (CameraInfo {info.get('CameraSerialNumber')!r})",
     (info, x.stderr))

rc = d.stop()
t.ok(rc == 0, "clean exit", (rc, d.lines[-8:]))
t.done()
