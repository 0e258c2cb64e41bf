#!/usr/bin/python3
"""thermocamd end to end: Prometheus metrics at /metrics.  Off by default
(404), 401 without credentials, the read-only bearer token (and only for
/metrics), an account by Digest or a session, `promtool check metrics` finds
no problem, the values agree with GET /api/v1/temperatures, an alarm shows
in the state and the counter, the token is write-only."""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Events, Tap  # noqa: E402

TOKEN = "prometheus-scrape-Token.2026"

t = Tap()
d = Daemon().start()
d.activate()
d.wait_frames()
METRICS = f"http://127.0.0.1:{d.http}/metrics"


def scrape(**kw):
    return d.get(METRICS, **kw)


def parse(text):
    """{(name, frozenset(labels)): value}"""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        if not m:
            out[("unparsed", line)] = None
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(series, name, **labels):
    want = set(labels.items())
    for (n, ls), v in series.items():
        if n == name and want <= set(ls):
            return v
    return None


# ---- off unless enabled ----
s, j, _ = scrape()
t.ok(s == 404 and j["error"]["field"] == "metrics.enabled",
     "off by default: /metrics answers 404 naming metrics.enabled (even to the administrator)",
     (s, j))
s, j, _ = d.get("config/metrics")
t.ok(s == 200 and j == {"enabled": False, "token_set": False}, "GET /config/metrics: off, no token", j)

s, j, _ = d.put("config/metrics", {"token": "short"})
t.ok(s == 400 and j["error"]["field"] == "metrics.token", "a token under 16 characters is refused", j)
s, j, _ = d.put("config/metrics", {"enabled": True, "token": TOKEN})
t.ok(s == 200 and j == {"enabled": True, "token_set": True},
     "enabled with a token; the token is not shown back", j)
s, j, _ = d.get("config")
t.ok(s == 200 and "metrics" in j and "token" not in j["metrics"] and "history" in j,
     "GET /config has the sections metrics (without its token) and history", j.get("metrics"))

# ---- who may scrape ----
s, j, h = scrape(auth=False)
t.ok(s == 401 and "Digest" in h and "Bearer" in h,
     "no credentials: 401 offering Digest and Bearer", (s, h))
s, j, h = scrape(auth=False, headers=["Authorization: Bearer " + "x" * len(TOKEN)])
t.ok(s == 401 and 'error="invalid_token"' in h, "a wrong bearer token: 401", (s, j))
s, body, h = scrape(auth=False, headers=["Authorization: Bearer " + TOKEN])
t.ok(s == 200 and "text/plain; version=0.0.4" in h, "the bearer token scrapes: 200, text format 0.0.4",
     (s, h))
s, j, _ = d.get("device", auth=False, headers=["Authorization: Bearer " + TOKEN])
t.ok(s == 401, "the token opens /metrics only, not the API", (s, j))
s, _, _ = scrape()
t.ok(s == 200, "an account by Digest scrapes too", s)
jar = tempfile.mktemp(prefix="metrics-jar-")
d.post("session", {"name": "admin", "password": PASSWORD}, auth=False, extra=("-c", jar))
s, _, _ = scrape(auth=False, extra=("-b", jar))
t.ok(s == 200, "and a session of the web page", s)
s, _, _ = scrape(auth="basic")
t.ok(s == 401, "Basic while security.authentication.web is digest only: 401", s)
d.put("config/security", {"authentication": {"web": "digest/basic"}})
s, _, _ = scrape(auth="basic")
t.ok(s == 200, "Basic where security.authentication.web allows it", s)
d.put("config/security", {"authentication": {"web": "digest"}})
s, j, h = d.curl("POST", METRICS)
t.ok(s == 405 and "GET" in h, "POST /metrics: 405 with Allow", (s, h))

# ---- the format ----
r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
t.ok(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
     "promtool check metrics finds no problem", (r.returncode, r.stdout, r.stderr))
series = parse(body.decode())
t.ok(not [k for k in series if k[0] == "unparsed"], "every line parses",
     [k for k in series if k[0] == "unparsed"])
text = body.decode()
for fam, typ in [("thermocam_build_info", "gauge"), ("thermocam_scene_temperature_celsius", "gauge"),
                 ("thermocam_alarms_total", "counter"), ("thermocam_exceptions_total", "counter"),
                 ("thermocam_sensor_frames_total", "counter"),
                 ("thermocam_sensor_frames_dropped_total", "counter"),
                 ("thermocam_sensor_fpa_temperature_celsius", "gauge"),
                 ("thermocam_stream_clients", "gauge"), ("thermocam_delivery_queue_jobs", "gauge"),
                 ("thermocam_history_samples_written_total", "counter")]:
    t.ok(f"# TYPE {fam} {typ}\n" in text and f"# HELP {fam} " in text,
         f"{fam}: HELP and TYPE {typ}")
t.ok(value(series, "thermocam_build_info") == 1 and value(series, "thermocam_sensor_frames_total") > 0,
     "build info and frames", [k for k in series if "build" in k[0]])

# ---- the values agree with GET /temperatures ----
motor = {"name": 'motor "A"', "type": "polygon",
         "points": [[0.45, 0.63], [0.57, 0.63], [0.57, 0.81], [0.45, 0.81]],
         "alarm": {"enabled": True, "on": "max", "condition": "above", "pre_alarm": 40.0,
                   "alarm": 50.0, "tolerance": 1.0, "filter_time": 0}}
ev = Events(d)
s, r, _ = d.post("rules", motor)
motor_id = r["id"]
alarm = ev.wait(lambda e: e[0] == "alarm" and e[1].get("rule") == motor_id
                and e[1]["level"] == "alarm" and e[1]["state"] == "start", 20)
t.ok(alarm is not None, "the motor (85 C over an alarm at 50) raises an alarm", ev.events[-5:])
time.sleep(0.5)
s, temps, _ = d.get("temperatures")
s2, body, _ = scrape(auth=False, headers=["Authorization: Bearer " + TOKEN])
series = parse(body.decode())
ok = True
detail = []
for stat in ("max", "min", "avg"):
    m = value(series, "thermocam_scene_temperature_celsius", stat=stat)
    detail.append((stat, m, temps["scene"][stat]))
    ok &= m is not None and abs(m - temps["scene"][stat]) < 1.0
t.ok(ok, "the scene's max, min and avg agree with GET /temperatures (within 1 C: frames apart)",
     detail)
rule = [x for x in temps["rules"] if x["id"] == motor_id][0]
detail = []
ok = True
for stat in ("max", "min", "avg"):
    m = value(series, "thermocam_rule_temperature_celsius", rule=str(motor_id), stat=stat)
    detail.append((stat, m, rule[stat]))
    ok &= m is not None and abs(m - rule[stat]) < 1.0
t.ok(ok, "the rule's max, min and avg agree with GET /temperatures", detail)
t.ok(f'name="motor \\"A\\""' in body.decode(), "the rule's name is a label, its quotes escaped",
     [line for line in body.decode().splitlines() if "rule=" in line][:3])
t.ok(value(series, "thermocam_rule_alarm_state", rule=str(motor_id), state="alarm") == 1
     and value(series, "thermocam_rule_alarm_state", rule=str(motor_id), state="normal") == 0,
     "the rule's alarm state: alarm 1, normal 0", [k for k in series if k[0] == "thermocam_rule_alarm_state"])
t.ok((value(series, "thermocam_alarms_total", source="rule", level="alarm") or 0) >= 1
     and (value(series, "thermocam_alarms_total", source="rule", level="pre_alarm") or 0) >= 1,
     "the alarms counter counted the pre-alarm and the alarm",
     [k for k in series if k[0] == "thermocam_alarms_total"])
t.ok(value(series, "thermocam_stream_clients", protocol="http_events") == 1,
     "the event stream is a client", [k for k in series if k[0] == "thermocam_stream_clients"])
r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
t.ok(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
     "promtool still finds no problem with rules and alarms", (r.stdout, r.stderr))
ev.close()

# ---- HEAD, and the HTTPS port ----
s, _, h = d.curl("HEAD", METRICS, auth=False, headers=["Authorization: Bearer " + TOKEN],
                 extra=("-I",))
t.ok(s == 200 and "text/plain" in h, "HEAD /metrics: 200", (s, h))
r = d.post("security/certificate/self-signed", {"country": "DE", "host": "127.0.0.1", "days": 30})
ca = os.path.join(d.state_dir, "metrics-ca.pem")
open(ca, "w").write(r[1].get("pem", "") if isinstance(r[1], dict) else "")
n = d.readies
d.put("config/security", {"https": {"enabled": True}})
end = time.time() + 30
while d.readies <= n and time.time() < end:
    time.sleep(0.1)
d.wait_frames()
s, body, h = d.get(f"https://127.0.0.1:{d.https}/metrics", auth=False,
                   headers=["Authorization: Bearer " + TOKEN], extra=("--cacert", ca))
t.ok(s == 200 and b"thermocam_scene_temperature_celsius" in body,
     "over HTTPS too (the HTTPS port's root)", (s, h))
s, _, _ = d.get(f"https://127.0.0.1:{d.https}/metrics", auth=False, extra=("--cacert", ca))
t.ok(s == 401, "and 401 there without credentials", s)

# ---- off again ----
s, j, _ = d.put("config/metrics", {"enabled": False})
s, j, _ = scrape(auth=False, headers=["Authorization: Bearer " + TOKEN])
t.ok(s == 404, "switched off live: 404 again", s)

d.stop()
t.ok(not [ln for ln in d.lines if "CRITICAL" in ln], "no critical in the daemon's log",
     [ln for ln in d.lines if "CRITICAL" in ln])
t.done()
