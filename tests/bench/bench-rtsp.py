#!/usr/bin/python3
"""thermocamd RTSP benchmark (figures, not a test):

1. viewers at once: 1, 10, 50 and 100 viewers (TCP and UDP mixed, real RTSP
   sessions from tests/e2e/rtspload.py) connect at the same instant to the
   main stream nobody watches; the daemon's CPU while they watch, frames per
   viewer (min, median) and the time from PLAY to the first key frame;
   the CPU each viewer adds.
2. joins: while one viewer watches, viewers join one by one, on main and on
   sub: the time from PLAY to their first key frame (target: 150 ms median).
3. the sensor's size: the whole daemon (core chain, 40 rules, DNR, palette,
   OSD, main at the sensor's size and sub encoders, one viewer each) with the
   simulated sensor at 320x256, 640x512 and 1280x1024, 30 fps: CPU and the
   core's frame rate (targets: 640x512 at most 20 % of a core, 1280x1024 at
   most one core).

Prints JSON.

  THERMOCAM_BUILD=build /usr/bin/python3 tests/bench/bench-rtsp.py [seconds]
"""
import asyncio
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
import rtspload  # noqa: E402
from daemon import PASSWORD, Daemon  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 8.0
HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def watch(d, path, n, seconds, transports=("tcp", "udp")):
    """n viewers at once; the daemon's CPU from 2 s after they start to the
    end (their start, one key frame, is apart)"""
    out = {}

    def run():
        out["v"] = asyncio.run(rtspload.run_viewers("127.0.0.1", d.rtsp, path, "admin",
                                                    PASSWORD, n, seconds, transports))
    th = threading.Thread(target=run)
    th.start()
    time.sleep(2.5)
    c0, t0 = cpu_seconds(d.proc.pid), time.time()
    s, diag0, _ = d.get("system/diagnostics")
    time.sleep(max(seconds - 3.5, 1))
    c1, t1 = cpu_seconds(d.proc.pid), time.time()
    s, diag1, _ = d.get("system/diagnostics")
    th.join(120)
    fps = (diag1["pipeline"]["frames"] - diag0["pipeline"]["frames"]) / (t1 - t0)
    r = rtspload.summary(out.get("v", []), 30 if path == "main" else 15, seconds)
    r["cpu_percent"] = round(100 * (c1 - c0) / (t1 - t0), 1)
    r["core_fps"] = round(fps, 1)
    return r


def add_rules(d, n=40):
    for i in range(n):
        x, y = (i % 8) / 8, (i // 8) / 5
        d.post("rules", {"name": f"r{i + 1}", "type": "polygon",
                         "points": [[x + 0.01, y + 0.01], [x + 0.11, y + 0.01],
                                    [x + 0.11, y + 0.18], [x + 0.01, y + 0.18]],
                         "alarm": {"enabled": True, "on": "max", "pre_alarm": 500, "alarm": 600}})


result = {"seconds": SECONDS}

# ---- 1. viewers at once ----
d = Daemon().start()
try:
    d.activate()
    d.wait_frames()
    time.sleep(2)
    c0, t0 = cpu_seconds(d.proc.pid), time.time()
    time.sleep(4)
    idle = round(100 * (cpu_seconds(d.proc.pid) - c0) / (time.time() - t0), 1)
    crowd = {}
    for n in (1, 10, 50, 100):
        crowd[str(n)] = watch(d, "main", n, SECONDS)
        time.sleep(4)           # unwatched again: the encoder stops
    per = (crowd["100"]["cpu_percent"] - crowd["1"]["cpu_percent"]) / 99
    result["viewers_at_once"] = {"no_viewer_cpu_percent": idle, **crowd,
                                 "cpu_points_per_extra_viewer": round(per, 3)}

    # ---- 2. joins while another viewer watches ----
    joins = {}
    for path in ("main", "sub"):
        async def joined(path=path):
            w = asyncio.ensure_future(rtspload.Viewer("127.0.0.1", d.rtsp, path, "admin",
                                                      PASSWORD).run(14))
            await asyncio.sleep(2)
            ms = []
            for i in range(10):
                v = await rtspload.Viewer("127.0.0.1", d.rtsp, path, "admin", PASSWORD,
                                          "tcp" if i % 2 else "udp").run(0.8)
                if v.first_key is not None:
                    ms.append(round(1000 * v.first_key))
                await asyncio.sleep(0.3)
            await w
            return ms
        ms = asyncio.run(joined())
        joins[path] = {"first_key_frame_ms": ms,
                       "median": sorted(ms)[len(ms) // 2] if ms else None}
    result["joins_while_watched"] = joins
finally:
    d.stop()

# ---- 3. the sensor's size ----
sizes = {}
for size, sub in (("320x256", "160x128"), ("640x512", "320x256"), ("1280x1024", "320x256")):
    d = Daemon(extra=["--source", f"sim:{size}"]).start()
    try:
        d.activate()
        d.wait_frames()
        add_rules(d)
        d.put("config/video", {"main": {"resolution": size}, "sub": {"resolution": sub}})
        time.sleep(3)
        out = {}

        def one(path):
            out[path] = asyncio.run(rtspload.run_viewers("127.0.0.1", d.rtsp, path, "admin",
                                                         PASSWORD, 1, SECONDS + 4))
        ths = [threading.Thread(target=one, args=(p,)) for p in ("main", "sub")]
        for th in ths:
            th.start()
        time.sleep(3)
        s, diag0, _ = d.get("system/diagnostics")
        c0, t0 = cpu_seconds(d.proc.pid), time.time()
        time.sleep(SECONDS)
        c1, t1 = cpu_seconds(d.proc.pid), time.time()
        s, diag1, _ = d.get("system/diagnostics")
        for th in ths:
            th.join(60)
        sizes[size] = {
            "cpu_percent": round(100 * (c1 - c0) / (t1 - t0), 1),
            "core_fps": round((diag1["pipeline"]["frames"] - diag0["pipeline"]["frames"])
                              / (t1 - t0), 1),
            "main_frames": out["main"][0].frames if out.get("main") else None,
            "sub_frames": out["sub"][0].frames if out.get("sub") else None,
            "sub": sub,
        }
    finally:
        d.stop()
result["sensor_sizes_everything_on_one_viewer_each"] = sizes
result["targets"] = {"joins_median_ms": 150, "cpu_points_per_extra_viewer": 0.2,
                     "640x512_cpu_percent": 20, "1280x1024_cpu_percent": 100}
print(json.dumps(result, indent=2))
