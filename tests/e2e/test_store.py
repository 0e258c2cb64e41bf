#!/usr/bin/python3
"""thermocamd end to end: what is kept and how it is written. Temporary files
of a crashed save cleaned at start; numbers in each quantity's resolution (raw
bodies of the configuration, readings, rules and an event); rule overrides
removed with null, POST /rules with the README's id, the renamed
alarm_interval_s; Digest challenges are not errors in the diagnostics; factory
default wipes what the device was given; on a full disk (a small tmpfs, as
root) no audit record of N audited actions is lost and POST /captures answers
507 storing nothing."""
import glob
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon import Daemon, Events, PASSWORD, Tap, ffprobe, wait_for  # noqa: E402

t = Tap()


def raw(d, path, timeout=10):
    """the body of a GET as text (Digest)"""
    r = subprocess.run(["curl", "-s", "-S", "--digest", "-u", f"admin:{PASSWORD}", "-m",
                        str(timeout), d.url(path)], capture_output=True, text=True,
                       timeout=timeout + 5)
    return r.stdout


def raw_events(d, seconds=3):
    """what GET /events sends in a few seconds, as text"""
    r = subprocess.run(["curl", "-s", "-N", "--digest", "-u", f"admin:{PASSWORD}", "-m",
                        str(seconds), d.url("events")], capture_output=True, text=True,
                       timeout=seconds + 10)
    return r.stdout


# decimals of each quantity (the member that holds it)
DECIMALS = {"max": 2, "min": 2, "avg": 2, "value": 2, "threshold": 2, "pre_alarm": 2,
            "alarm": 2, "tolerance": 2, "emissivity": 3, "optical_transmissivity": 3,
            "relative_humidity": 3, "distance": 2, "max_at": 4, "min_at": 4, "at": 4,
            "points": 4}


def decimals_of(name):
    if name in DECIMALS:
        return DECIMALS[name]
    if name.endswith("_temperature"):
        return 2
    return None


def long_numbers(text):
    """numbers printed beyond their quantity's resolution (or beyond 6
    decimals where it is not known): [(member, number)]"""
    bad = []
    text = text.replace("\\\"", "")
    # numbers, after the member name that holds them (arrays: the array's member)
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"(?!\s*:)', '""', text)
    for m in re.finditer(r'"(\w+)"\s*:\s*(\[[\[\]\d\s.,eE+-]*\]|-?\d[\d.eE+-]*)', stripped):
        name, val = m.group(1), m.group(2)
        limit = decimals_of(name)
        for num in re.findall(r"-?\d+(?:\.(\d+))?(?:[eE][+-]?\d+)?", val):
            if num and len(num) > (limit if limit is not None else 6):
                bad.append((name, val[:60]))
    return bad


def bmp(w, h):
    row = (w * 3 + 3) & ~3
    head = b"BM" + struct.pack("<IHHI", 54 + row * h, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, row * h, 2835, 2835, 0, 0)
    return head + info + bytes([0, 0, 255] * w + [0] * (row - w * 3)) * h


# ---- a crash in the middle of a save left temporary files ----
state = tempfile.mkdtemp(prefix="thermocamd-store-")
os.makedirs(os.path.join(state, "tls"))
stale = ["config.json.AbC123", "users.json.x1Y2z3", "users.htdigest.QQQQQQ",
         os.path.join("tls", "cert.pem.Qw3rTy")]
kept = ["config.json.bak", "notes.txt.ABCDEF", "config.json.AB-123"]
for name in stale + kept:
    with open(os.path.join(state, name), "w") as f:
        f.write("{\"half\": ")
# and a configuration saved before alarm_interval was renamed alarm_interval_s
with open(os.path.join(state, "config.json"), "w") as f:
    json.dump({"thermometry": {"alarm_interval": 7, "emissivity": 0.93}}, f)
d = Daemon(state_dir=state).start()
t.ok(not [n for n in stale if os.path.exists(os.path.join(state, n))],
     "the NAME.XXXXXX files of saves that did not finish are removed at start",
     sorted(os.listdir(state)))
t.ok(all(os.path.exists(os.path.join(state, n)) for n in kept),
     "other files are left alone", sorted(os.listdir(state)))
s, _, _ = d.activate()
t.ok(s == 200, "activate", s)
d.wait_frames()
s, j, _ = d.get("config/thermometry")
t.ok(s == 200 and j.get("alarm_interval_s") == 7 and "alarm_interval" not in j
     and j["emissivity"] == 0.93, "an older config.json's alarm_interval is read as alarm_interval_s",
     (s, j))

# ---- POST /rules takes the README's rules as they are ----
readme = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                           "README.md")).read()
m = re.search(r"RULES='(\[.*\])'", readme)
readme_rules = json.loads(m.group(1)) if m else []
t.ok(len(readme_rules) >= 2 and all("id" in r for r in readme_rules),
     "the README's example rules carry ids", readme_rules)
for r in readme_rules:
    s, j, h = d.post("rules", r)
    t.ok(s == 201 and j["id"] == r["id"] and f"rules/{r['id']}" in h,
         f"POST /rules with the README's rule {r['id']} ({r['name']}): 201, its id kept", (s, j))
s, j, _ = d.post("rules", readme_rules[0] if readme_rules else {})
t.ok(s == 409 and j["error"]["code"] == "exists" and j["error"]["field"] == "id",
     "the same id again: 409 exists", (s, j))
s, j, _ = d.post("rules", {"name": "auto", "type": "point", "points": [[0.2, 0.2]]})
t.ok(s == 201 and j["id"] == max(r["id"] for r in readme_rules) + 1,
     "without an id: the next one", (s, j))
auto_id = j.get("id") if isinstance(j, dict) else None

# ---- a rule's override is removed with null ----
rid = readme_rules[0]["id"] if readme_rules else 1
s, j, _ = d.put(f"rules/{rid}", {"emissivity": 0.5, "distance": 3.0, "reflected_temperature": 30})
t.ok(s == 200 and j["emissivity"] == 0.5 and j["distance"] == 3.0, "overrides set", (s, j))
time.sleep(1.0)
s, temps, _ = d.get("temperatures")
over = [x for x in temps["rules"] if x["id"] == rid]
s, j, _ = d.put(f"rules/{rid}", {"emissivity": None, "reflected_temperature": None})
t.ok(s == 200 and "emissivity" not in j and "reflected_temperature" not in j
     and j["distance"] == 3.0, "PUT /rules/{id} with null removes those overrides, keeps the rest",
     (s, j))
s, j, _ = d.get(f"rules/{rid}")
t.ok(s == 200 and "emissivity" not in j, "and the stored rule has none", j)
time.sleep(1.0)
s, temps2, _ = d.get("temperatures")
back = [x for x in temps2["rules"] if x["id"] == rid]
t.ok(over and back and back[0]["avg"] < over[0]["avg"] - 3,
     "the rule measures with the global emissivity again (0.5 read hotter than 0.95)",
     (over, back))
s, rules, _ = d.get("config/rules")
rules = [dict(r, distance=None) if r["id"] == rid else r for r in rules]
s, j, _ = d.put("config/rules", rules)
t.ok(s == 200 and all("distance" not in r for r in j if r["id"] == rid),
     "PUT /config/rules with a null distance: the override is gone", (s, j))
s, j, _ = d.put(f"rules/{rid}", {"emissivity": "low"})
t.ok(s == 400 and j["error"]["field"] == "emissivity", "a wrong type is still refused", (s, j))

# ---- times in seconds are *_s; the old name is accepted ----
s, j, _ = d.put("config/thermometry", {"alarm_interval": 12})
t.ok(s == 200 and j.get("alarm_interval_s") == 12 and "alarm_interval" not in j,
     "thermometry.alarm_interval (old name) sets alarm_interval_s", (s, j))
s, j, _ = d.put("config/thermometry", {"alarm_interval_s": 15})
t.ok(s == 200 and j["alarm_interval_s"] == 15, "alarm_interval_s", (s, j))
schema = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                     "schemas", "config.schema.json")))


def interval_names(node, path=""):
    out = []
    if isinstance(node, dict):
        for k, v in node.get("properties", {}).items():
            if "interval" in k and isinstance(v, dict) and v.get("type") == "integer" \
                    and "I-frames" not in v.get("description", "") and k != "iframe_interval":
                out.append(path + k)
            out += interval_names(v, path + k + ".")
        for k in ("$defs",):
            for n, v in node.get(k, {}).items():
                out += interval_names(v, n + ".")
    return out


names = interval_names(schema)
t.ok(names and all(n.endswith(("_s", "_ms")) for n in names),
     "every interval in the schema says its unit in its name (*_s, *_ms)", names)

# ---- numbers in each quantity's resolution ----
s, j, _ = d.put("config/thermometry", {"emissivity": 0.95123, "relative_humidity": 0.45,
                                       "distance": 2.35, "reflected_temperature": 20.1,
                                       "window_temperature": 19.99,
                                       "optical_transmissivity": 0.97})
t.ok(s == 200 and j["emissivity"] == 0.951, "emissivity is kept at 0.001", (s, j))
d.put("config/thermometry", {"emissivity": 0.95})
s, j, _ = d.put("config/image", {"range": {"min": 10.001, "max": 10.004}})
t.ok(s == 400 and j["error"]["field"] == "image.range.max",
     "a range that is empty at 0.01 °C is refused (checked as it would be kept)", (s, j))
d.put(f"rules/{rid}", {"points": [[0.41, 0.59], [0.61, 0.59], [0.61, 0.85], [0.41, 0.85]],
                       "alarm": {"enabled": True, "condition": "above", "pre_alarm": 60.1,
                                 "alarm": 70.3, "tolerance": 2.2}})
bodies = {p: raw(d, p) for p in ("config/thermometry", "config", "rules", "temperatures",
                                  f"rules/{rid}", "system/diagnostics")}
bodies["events"] = raw_events(d, 3)
t.ok('"emissivity" : 0.95,' in bodies["config/thermometry"]
     or '"emissivity":0.95' in bodies["config/thermometry"].replace(" ", ""),
     "emissivity 0.95 reads 0.95", bodies["config/thermometry"][:400])
t.ok("measurement" in bodies["events"] and '"max"' in bodies["events"],
     "an event with readings arrived", bodies["events"][:300])
for path, body in bodies.items():
    t.ok(body and not long_numbers(body) and "0.94999999999999996" not in body,
         f"{path}: every number at its quantity's resolution", long_numbers(body)[:10])

# ---- Digest challenges are not errors ----
s, diag, _ = d.get("system/diagnostics")
e0, c0 = diag["http"]["errors"], diag["http"]["challenges"]
for _ in range(5):
    d.get("device")
s, j, _ = d.get("device", password="wrong password")
s, diag, _ = d.get("system/diagnostics")
t.ok(diag["http"]["errors"] == e0 + 1,
     "5 Digest logins add no error; a wrong password one", (e0, diag["http"]))
t.ok(diag["http"]["challenges"] >= c0 + 7, "the challenges are counted apart", (c0, diag["http"]))
t.ok(diag["audit"] == {"queued": 0, "lost": 0, "reserve_bytes": 256 * 1024},
     "diagnostics.audit: nothing waiting, nothing lost, the reserve held", diag.get("audit"))

# ---- factory default: the device as it left the factory ----
s, _, _ = d.curl("PUT", "osd/picture", raw=bmp(16, 16), headers=["Content-Type: image/bmp"])
t.ok(s in (200, 204), "an overlay picture", s)
s, cert, _ = d.post("security/certificate/self-signed", {"host": "camera.example", "days": 30, "country": "DE"})
t.ok(s == 201, "a certificate installed", (s, cert))
s, cap, _ = d.post("captures")
t.ok(s == 201, "a capture", (s, cap))
t.ok(os.path.exists(os.path.join(state, "overlay.bmp"))
     and os.path.exists(os.path.join(state, "tls", "cert.pem"))
     and os.listdir(os.path.join(state, "captures")), "all on the disk")
s, j, _ = d.post("system/default")
t.ok(s == 200, "POST /system/default", (s, j))
t.ok(not os.path.exists(os.path.join(state, "overlay.bmp")), "the overlay picture is gone")
t.ok(not glob.glob(os.path.join(state, "tls", "*.pem")), "the certificate and key are gone",
     os.listdir(os.path.join(state, "tls")))
t.ok(not os.listdir(os.path.join(state, "captures")), "the captures are gone",
     os.listdir(os.path.join(state, "captures")))
audit = open(os.path.join(state, "audit.log")).read()
t.ok("factory default" in audit and "flat" not in audit and "login" in audit,
     "the audit log stays, with the reset in it", audit[-300:])
s, j, _ = d.get("device")
t.ok(s == 401 and j["error"]["code"] == "not_activated", "the device is inactive", (s, j))
t.ok(d.stop() == 0, "clean exit")
shutil.rmtree(state, ignore_errors=True)

# ---- a factory default that fails half way: the old accounts are gone for good ----
d = Daemon().start()
d.activate()
d.wait_frames()
ev = Events(d)
time.sleep(1)
# a directory where the certificate request's key would be: removing it fails
os.makedirs(os.path.join(d.state_dir, "tls", "request-key.pem", "x"), exist_ok=True)
s, j, _ = d.post("system/default")
t.ok(s == 500, "POST /system/default with a certificate file that cannot go: 500", (s, j))
s, j, _ = d.get("device")
t.ok(s == 401 and j["error"]["code"] == "not_activated",
     "the accounts were reset all the same: the device is inactive", (s, j))
r, err = ffprobe(d.rtsp_url("Streaming/Channels/101"), "tcp", timeout=10)
t.ok(r is None, "RTSP with the old administrator's password is refused", (r, err[-200:]))
t.ok(wait_for(lambda: ev.proc.poll() is not None, 5),
     "the open event stream of the old session was closed")
ev.close()
t.ok(d.stop() == 0, "clean exit")

# ---- a full disk ----
if os.geteuid() != 0 or not shutil.which("mount"):
    t.n += 1
    print(f"ok {t.n} # SKIP a full disk needs root to mount a small tmpfs", flush=True)
    t.done()
mnt = tempfile.mkdtemp(prefix="thermocamd-full-")
r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", mnt],
                   capture_output=True, text=True)
if r.returncode != 0:
    t.n += 1
    print(f"ok {t.n} # SKIP cannot mount a tmpfs: {r.stderr.strip()}", flush=True)
    t.done()
registry = tempfile.mkdtemp(prefix="thermocamd-registry-")
os.environ["GST_REGISTRY_1_0"] = os.path.join(registry, "registry.bin")
d = None
try:
    d = Daemon(state_dir=mnt).start()
    d.activate()
    d.wait_frames()
    s, before, _ = d.get("captures")
    filler = os.path.join(mnt, "filler")

    def fill():
        with open(filler, "ab", buffering=0) as f:
            size = 1 << 20
            while size:
                try:
                    f.write(b"f" * size)
                except OSError:
                    size //= 2
    fill()
    st = os.statvfs(mnt)
    t.ok(st.f_bavail == 0, "the state directory's disk is full", st.f_bavail)
    N = 80
    # alarm output 1 triggered and cleared by hand, each audited (a flat-field
    # correction, audited too, runs at most every 5 s whoever asks)
    statuses = [d.post("io/outputs/1/" + ("trigger", "clear")[i % 2])[0] for i in range(N)]
    t.ok(all(s == 200 for s in statuses), f"{N} audited actions (alarm output by hand)",
         statuses)
    s, log, _ = d.get("system/audit-log?type=system")
    n = sum(1 for r in log["records"] if r["detail"].startswith("alarm output 1 ")
            and r["detail"].endswith(" by hand"))
    t.ok(n == N, f"none of the {N} records is lost ({n} in the log)", n)
    s, diag, _ = d.get("system/diagnostics")
    t.ok(diag["audit"]["lost"] == 0 and diag["audit"]["reserve_bytes"] < 256 * 1024,
         "the reserve was used, nothing lost", diag["audit"])
    on_disk = open(os.path.join(mnt, "audit.log")).read().count(" by hand")
    t.ok(on_disk == N, f"and all {N} are on the disk already ({on_disk})", on_disk)

    fill()      # what the log gave back of its reserve
    s, j, _ = d.post("captures")
    t.ok(s == 507 and j["error"]["code"] == "storage_full",
         "POST /captures on the full disk: 507 storage_full", (s, j))
    s, after, _ = d.get("captures")
    t.ok(after == before and not [n for n in os.listdir(os.path.join(mnt, "captures"))
                                  if n.startswith(".tmp")],
         "nothing stored, no partial file", (before, after))

    os.unlink(filler)
    s, j, _ = d.post("captures")
    t.ok(s == 201, "with space again a capture is stored", (s, j))
    s, diag, _ = d.get("system/diagnostics")
    t.ok(diag["audit"]["queued"] == 0 and diag["audit"]["lost"] == 0,
         "nothing waiting", diag["audit"])
    t.ok(d.stop() == 0, "clean exit")
    text = open(os.path.join(mnt, "audit.log")).read()
    t.ok(text.count(" by hand") == N and all(
        json.loads(line) for line in text.splitlines() if line),
        "the log on the disk: every record, whole lines")
finally:
    if d and d.proc and d.proc.poll() is None:
        d.stop()
    subprocess.run(["umount", "-l", mnt])
    shutil.rmtree(mnt, ignore_errors=True)
    shutil.rmtree(registry, ignore_errors=True)
t.done()
