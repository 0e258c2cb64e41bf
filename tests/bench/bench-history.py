#!/usr/bin/python3
"""thermocamd benchmark: the history.  A day of 40 rules and the scene at one
reading a second (bench-history, through the store's own path) put under a
real daemon, then GET /api/v1/history over that day for each rule timed as a
client sees it (auto: per minute, 1440 points; raw capped at 10000 points;
CSV), target 50 ms; then the daemon's CPU with 40 rules measured with the
history writing on and off (alternated, so that drift of the machine falls
on both).  Prints JSON (figures, not a test).

  THERMOCAM_BUILD=build /usr/bin/python3 tests/bench/bench-history.py [cpu-seconds]
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from daemon import BUILD, PASSWORD, Daemon  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


result = {}
work = tempfile.mkdtemp(prefix="bench-history-")
db = os.path.join(work, "day.db")
r = subprocess.run([os.path.join(BUILD, "tests", "bench", "bench-history"), db, "24"],
                   capture_output=True, text=True, check=True)
result["store"] = json.loads(r.stdout)

# the day under a daemon that keeps it (raw for 48 h, 4 GiB)
d = Daemon().start()
d.activate()
d.put("config/history", {"raw_retention_h": 48, "size_limit_mb": 4096})
d.stop()
for ext in ("", "-wal", "-shm"):
    p = os.path.join(d.state_dir, "history.db" + ext)
    if os.path.exists(p):
        os.unlink(p)
shutil.copy(db, os.path.join(d.state_dir, "history.db"))
d.start()
d.wait_frames()
jar = os.path.join(work, "jar")
d.post("session", {"name": "admin", "password": PASSWORD}, auth=False, extra=("-c", jar))
now = int(time.time())
day = f"from={now - 86400}&to={now}"


def timed(query):
    """ms of each rule's GET (a kept session: one round trip each)"""
    ms, size = [], 0
    for rule in ["scene"] + [str(i) for i in range(1, 41)]:
        r = subprocess.run(["curl", "-s", "-b", jar, "-o", os.path.join(work, "out"), "-w",
                            "%{http_code} %{time_total} %{size_download}",
                            d.url(f"history?rule={rule}&{day}{query}")],
                           capture_output=True, text=True)
        code, t, n = r.stdout.split()
        if code != "200":
            raise RuntimeError(f"history answered {code}")
        ms.append(float(t) * 1000)
        size = int(n)
    return {"median_ms": round(statistics.median(ms), 2), "max_ms": round(max(ms), 2),
            "all_41_ms": round(sum(ms), 1), "bytes_per_rule": size}


timed("")                                   # warm the page cache once
result["http_day_auto_minute_json"] = timed("")
result["http_day_raw_capped_json"] = timed("&step=raw")
result["http_day_auto_minute_csv"] = timed("&format=csv")
result["http_day_hour_json"] = timed("&step=hour")
result["target_ms"] = 50

# CPU with 40 rules: history writing on against off
for i in range(40):
    x, y = 0.05 + (i % 8) * 0.11, 0.05 + (i // 8) * 0.18
    d.post("rules", {"name": f"r{i}", "type": "polygon",
                     "points": [[x, y], [x + 0.08, y], [x + 0.08, y + 0.12], [x, y + 0.12]]})
on, off = [], []
for rnd in range(2):
    for enabled, into in ((True, on), (False, off)):
        d.put("config/history", {"enabled": enabled})
        time.sleep(2)
        c0, t0 = cpu_seconds(d.proc.pid), time.time()
        time.sleep(SECONDS / 4)
        into.append(100 * (cpu_seconds(d.proc.pid) - c0) / (time.time() - t0))
s, diag, _ = d.get("system/diagnostics")
result["cpu_40_rules_history_on_percent_of_one_core"] = round(statistics.mean(on), 1)
result["cpu_40_rules_history_off_percent_of_one_core"] = round(statistics.mean(off), 1)
result["cpu_history_cost_points"] = round(statistics.mean(on) - statistics.mean(off), 1)
result["cpu_rounds"] = {"on": [round(x, 1) for x in on], "off": [round(x, 1) for x in off]}
d.stop()
shutil.rmtree(work, ignore_errors=True)
shutil.rmtree(d.state_dir, ignore_errors=True)
print(json.dumps(result, indent=1))
