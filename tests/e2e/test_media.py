#!/usr/bin/python3
"""thermocamd media end to end: the video standard and the streams' frame
rates (PAL: 25 fps, a PUT above the sensor's rate refused, restore on PAL),
the H.264 profile really produced, the sub stream no larger than the
sensor."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap, ffprobe  # noqa: E402

t = Tap()
d = Daemon().start()
d.activate()
d.wait_frames()


def profile(path):
    cmd = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
           "stream=profile", "-of", "json", d.rtsp_url(path)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=25)
        return json.loads(r.stdout)["streams"][0]["profile"], r.stderr
    except (subprocess.TimeoutExpired, ValueError, KeyError, IndexError) as e:
        return None, str(e)


def frames(path, seconds=4):
    """frames ffmpeg receives from /path in @seconds"""
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-rtsp_transport", "tcp",
                        "-i", d.rtsp_url(path), "-t", str(seconds), "-c", "copy", "-f", "null",
                        "-"], capture_output=True, text=True, timeout=60)
    m = re.findall(r"frame=\s*(\d+)", r.stderr)
    return int(m[-1]) if m else 0, r.stderr[-400:]


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

rc = d.stop()
t.ok(rc == 0, "clean exit", (rc, d.lines[-8:]))
t.done()
