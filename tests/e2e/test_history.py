#!/usr/bin/python3
"""thermocamd end to end: the history.  Readings of a short run are stored
and come back through GET /api/v1/history (raw, per minute, CSV) agreeing
with GET /temperatures; alarms and configuration changes come back from GET
/api/v1/events/history as the event stream sent them; every parameter is
checked; the settings apply live; a user may not read it; kill -9 while it
writes loses at most the last batch and the store opens again.  (The
downsampling over a simulated hour, retention and the size limit:
tests/appliance/test-history.c.)"""
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Events, Tap  # noqa: E402

t = Tap()
d = Daemon().start()
d.activate()
d.wait_frames()


def ts(iso):
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


# ---- a rule in alarm, readings for a few seconds ----
ev = Events(d)
motor = {"name": "motor", "type": "polygon",
         "points": [[0.45, 0.63], [0.57, 0.63], [0.57, 0.81], [0.45, 0.81]],
         "alarm": {"enabled": True, "on": "max", "condition": "above", "pre_alarm": 40.0,
                   "alarm": 50.0, "tolerance": 1.0, "filter_time": 0}}
s, r, _ = d.post("rules", motor)
motor_id = r["id"]
alarm = ev.wait(lambda e: e[0] == "alarm" and e[1].get("rule") == motor_id
                and e[1]["level"] == "alarm" and e[1]["state"] == "start", 20)
t.ok(alarm is not None, "the motor raises an alarm on the event stream", ev.events[-3:])
time.sleep(6)       # readings once a second, batches every 2 s
s, temps, _ = d.get("temperatures")
# held still while it is read (a batch landing between two queries would
# make the minute hold points the raw query did not see)
d.put("config/history", {"enabled": False})
time.sleep(2.5)

s, j, _ = d.get("history?rule=scene&step=raw")
t.ok(s == 200 and j["rule"] == "scene" and j["step"] == "raw" and not j["truncated"]
     and len(j["points"]) >= 4, "GET /history?rule=scene&step=raw: the run's readings",
     (s, j if s != 200 else len(j["points"])))
pts = j.get("points", []) if s == 200 else []
times = [ts(p["t"]) for p in pts]
t.ok(times == sorted(times) and len(set(times)) == len(times)
     and all(b - a >= 1 for a, b in zip(times, times[1:])),
     "oldest first, at most one a second", times)
t.ok(pts and all(abs(p["max"] - temps["scene"]["max"]) < 1.5 and abs(p["min"] - temps["scene"]["min"]) < 1.5
                 and abs(p["avg"] - temps["scene"]["avg"]) < 1.0 for p in pts),
     "the scene's stored max/min/avg agree with GET /temperatures", (pts[-3:], temps["scene"]))
rule_now = [x for x in temps["rules"] if x["id"] == motor_id][0]
s, j, _ = d.get(f"history?rule={motor_id}&step=raw")
rp = j.get("points", []) if s == 200 else []
t.ok(s == 200 and j["rule"] == motor_id and len(rp) >= 3
     and all(abs(p["avg"] - rule_now["avg"]) < 1.0 and abs(p["max"] - rule_now["max"]) < 1.5 for p in rp),
     "the rule's readings are stored and agree", (rp[-3:], rule_now))

# per minute: the minute's max of the maxima, min of the minima, mean of the averages
s, j, _ = d.get(f"history?rule={motor_id}&step=minute")
mp = j.get("points", []) if s == 200 else []
ok = s == 200 and 1 <= len(mp) <= 2
for m in mp:
    inside = [p for p in rp if ts(m["t"]) <= ts(p["t"]) < ts(m["t"]) + 60]
    if inside:
        ok &= abs(m["max"] - max(p["max"] for p in inside)) < 0.02
        ok &= abs(m["min"] - min(p["min"] for p in inside)) < 0.02
        ok &= abs(m["avg"] - sum(p["avg"] for p in inside) / len(inside)) < 0.02
    else:
        ok = False
t.ok(ok, "step=minute: each minute's max, min and mean of the raw points in it", (mp, rp))
s, j, _ = d.get(f"history?rule={motor_id}&step=hour")
t.ok(s == 200 and len(j["points"]) in (1, 2), "step=hour: this hour", j)
s, j, _ = d.get(f"history?rule={motor_id}")
t.ok(s == 200 and j["step"] == "raw", "step=auto over the default hour: raw", j.get("step"))
s, j, _ = d.get("history?rule=scene&from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z")
t.ok(s == 200 and j["step"] == "hour" and j["points"] == [], "step=auto over five months: hours (none then)", j)

s, body, h = d.get(f"history?rule={motor_id}&step=raw&format=csv")
lines = body.decode().split("\r\n") if s == 200 else []
t.ok(s == 200 and "text/csv" in h and lines[0] == "time,max,min,avg,below_range,above_range"
     and len([x for x in lines[1:] if x]) >= len(rp) and lines[1].count(",") == 5,
     "format=csv: a header line and a line per point", (s, lines[:3]))

d.put("config/history", {"enabled": True})

# ---- the events ----
time.sleep(2.5)
s, j, _ = d.get("events/history?type=alarm")
alarms = j.get("events", []) if s == 200 else []
t.ok(s == 200 and j["total"] == len(alarms) >= 2,
     "GET /events/history?type=alarm: the pre-alarm and the alarm", j)
t.ok(alarm is not None and alarm[1] in alarms,
     "the alarm is stored as the event stream sent it", (alarm and alarm[1], alarms))
s, j, _ = d.get("events/history?type=config")
t.ok(s == 200 and j["total"] >= 1 and all(e["source"] == "config" for e in j["events"]),
     "configuration changes are in it too", j)
s, j, _ = d.get("events/history?limit=1&offset=1")
s2, all_ev, _ = d.get("events/history?limit=1000")
t.ok(s == 200 and len(j["events"]) == 1 and j["total"] == all_ev["total"] >= 3
     and j["events"][0] == all_ev["events"][1], "limit and offset page through them", (j, all_ev))
ev.close()

# ---- every parameter checked ----
bad = [("history", "rule"), ("history?rule=-1", "rule"), ("history?rule=abc", "rule"),
       ("history?rule=scene&step=second", "step"), ("history?rule=scene&format=xml", "format"),
       ("history?rule=scene&from=yesterday", "from"),
       ("history?rule=scene&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"),
       ("history?rule=scene&from=1000&to=99999999", "from"),
       ("history?rule=scene&limit=5", "limit"), ("history?rule=1e400", "rule"),
       ("events/history?type=measurement", "type"), ("events/history?type=nope", "type"),
       ("events/history?limit=0", "limit"), ("events/history?limit=1001", "limit"),
       ("events/history?offset=-1", "offset"), ("events/history?offset=99999999999", "offset"),
       ("events/history?to=1e300", "to")]
wrong = []
for path, field in bad:
    s, j, _ = d.get(path)
    if s != 400 or not isinstance(j, dict) or j["error"]["field"] != field:
        wrong.append((path, s, j))
t.ok(not wrong, f"{len(bad)} bad queries answer 400 naming the parameter", wrong)
s, j, _ = d.get("history?rule=scene&from=0&to=34560000&step=raw")
t.ok(s == 200 and len(j["points"]) <= 10000, "a 400-day raw query is bounded (at most 10000 points)",
     (s, j if s != 200 else len(j["points"])))
s, j, _ = d.curl("DELETE", "history?rule=scene")
t.ok(s == 405, "DELETE /history: 405", s)

# ---- levels: operator ----
d.post("users", {"name": "viewer", "password": "View#er2026x", "level": "user"})
s, j, _ = d.get("history?rule=scene", user="viewer", password="View#er2026x")
t.ok(s == 403, "a user (level user) may not read the history", (s, j))

# ---- settings, live ----
s, j, _ = d.put("config/history", {"size_limit_mb": 0})
t.ok(s == 400 and j["error"]["field"] == "history.size_limit_mb", "size_limit_mb 0 is refused", j)
s, j, _ = d.put("config/history", {"enabled": False})
t.ok(s == 200 and j["enabled"] is False, "history off", j)
time.sleep(2.5)
n0 = len(d.get("history?rule=scene&step=raw")[1]["points"])
time.sleep(4)
n1 = len(d.get("history?rule=scene&step=raw")[1]["points"])
t.ok(n1 == n0 and n0 > 0, f"off: nothing more is stored, what was is still read ({n0} -> {n1})")
s, j, _ = d.put("config/history", {"enabled": True, "raw_retention_h": 48})
time.sleep(4.5)
n2 = len(d.get("history?rule=scene&step=raw")[1]["points"])
t.ok(s == 200 and n2 > n1, f"on again: stored again ({n1} -> {n2})", j)

# ---- in the configuration's export and import ----
EXPORT_PW = "Exp0rt#secret"
exported = d.get("config/history")[1]
expf = os.path.join(d.state_dir, "export.bin")
r = d.post("system/config-export", {"password": EXPORT_PW}, out_file=expf)
d.put("config/history", {"enabled": False, "raw_retention_h": 5, "size_limit_mb": 64})
r = d.curl("POST", "system/config-import",
           extra=("-F", f"file=@{expf};type=application/octet-stream", "-F", f"password={EXPORT_PW}"))
s, j, _ = d.get("config/history")
t.ok(r[0] == 200 and j == exported and j["raw_retention_h"] == 48,
     "the history settings go out with the export and come back with the import", (r[:2], j, exported))
n3 = len(d.get("history?rule=scene&step=raw")[1]["points"])
time.sleep(4.5)
n4 = len(d.get("history?rule=scene&step=raw")[1]["points"])
t.ok(n4 > n3, f"and apply at once (stored again: {n3} -> {n4})")

# ---- kill -9 while writing ----
time.sleep(2.5)
s, j, _ = d.get("history?rule=scene&step=raw")
before = j["points"]
d.proc.send_signal(signal.SIGKILL)
d.proc.wait()
killed_at = time.time()
db = os.path.join(d.state_dir, "history.db")
r = subprocess.run(["sqlite3", db, "PRAGMA integrity_check"], capture_output=True, text=True)
t.ok(r.stdout.strip() == "ok", "after kill -9 the database passes the integrity check", r.stdout + r.stderr)
d.start()
s, j, _ = d.get("history?rule=scene&step=raw")
after = j.get("points", []) if s == 200 else []
t.ok(s == 200 and all(p in after for p in before),
     f"every point read before the kill is still there ({len(before)} of {len(after)})",
     [p for p in before if p not in after])
last = max(ts(p["t"]) for p in after if ts(p["t"]) < killed_at) if after else 0
t.ok(killed_at - last <= 4.5, f"at most the last batch is lost (the newest kept: {killed_at - last:.1f} s before the kill)")
time.sleep(4)
s, j, _ = d.get("history?rule=scene&step=raw")
t.ok(s == 200 and len(j["points"]) > len(after), "the restarted daemon writes on", (len(after), len(j["points"])))

s, j, _ = d.get("system/diagnostics")
hs = j.get("history", {}) if s == 200 else {}
t.ok(hs.get("enabled") is True and hs.get("written_samples", 0) > 0 and hs.get("errors") == 0
     and hs.get("dropped") == 0, "GET /system/diagnostics shows the history's writer", hs)

# ---- a database that is not one does not keep the camera from starting ----
d.stop()
for ext in ("-wal", "-shm"):
    if os.path.exists(db + ext):
        os.unlink(db + ext)
with open(db, "wb") as f:
    f.write(b"this is not a database" * 1000)
d.start()
s, j, _ = d.get("history?rule=scene&step=raw")
t.ok(s == 200 and any("kept as" in ln and ".broken-" in ln for ln in d.lines)
     and any(n.startswith("history.db.broken-") for n in os.listdir(d.state_dir)),
     "a damaged history.db is put aside (with a warning) and a new one begins", (s, d.lines[-5:]))
d.stop()
t.ok(not [ln for ln in d.lines if "CRITICAL" in ln], "no critical in the daemon's log",
     [ln for ln in d.lines if "CRITICAL" in ln])
t.done()
