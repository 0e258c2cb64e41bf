#!/usr/bin/python3
"""thermocamd end to end: the diagnose information (manual 10.3).
GET /system/diagnostics/archive is one tar archive that `tar` opens, with the
running log (the daemon's own, kept in memory), system and hardware
information, the pipeline's state and its graph (Graphviz dot), the
counters, the configuration, the accounts and the upgrade state; no
password, token, key, password hash or Digest HA1 is found anywhere in it.
The operator may take it; a user may not."""
import hashlib
import io
import json
import os
import re
import sys
import tarfile

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Tap  # noqa: E402

t = Tap()
d = Daemon().start()
OP, OP_PW = "diagop", "Op3rator#Secret"
VW, VW_PW = "diagview", "V1ewer#Secret9"
SECRETS = {
    "ftp.password": "FtpSecret-0815",
    "email.password": "MailSecret-4242",
    "mqtt.password": "MqttSecret-4711",
    "metrics.token": "prometheus-Scrape-Token-2026x",
}
try:
    d.activate()
    d.wait_frames()
    r = d.post("users", {"name": OP, "password": OP_PW, "level": "operator"})
    t.ok(r[0] == 201, "an operator account", r[:2])
    r = d.post("users", {"name": VW, "password": VW_PW, "level": "user"})
    t.ok(r[0] == 201, "a user account", r[:2])
    for put in (("ftp", {"server": "127.0.0.1", "user": "cam", "password": SECRETS["ftp.password"]}),
                ("email", {"server": "127.0.0.1", "authentication": True, "user": "cam",
                           "password": SECRETS["email.password"]}),
                ("mqtt", {"server": "127.0.0.1", "user": "cam",
                          "password": SECRETS["mqtt.password"]}),
                ("metrics", {"token": SECRETS["metrics.token"]})):
        s, j, _ = d.put("config/" + put[0], put[1])
        t.ok(s == 200, f"a secret set in {put[0]}", (s, j))

    s, body, head = d.get("system/diagnostics/archive", user=OP, password=OP_PW, timeout=60)
    t.ok(s == 200 and "application/x-tar" in head and "attachment" in head
         and ".tar" in head, "the operator downloads it: 200, application/x-tar, an attachment",
         head)
    members = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            for m in tar.getmembers():
                members[m.name.split("/", 1)[1]] = tar.extractfile(m).read()
            top = {m.name.split("/")[0] for m in tar.getmembers()}
        t.ok(len(top) == 1 and next(iter(top)).startswith("thermocam-diagnose-"),
             "tar opens it: one folder thermocam-diagnose-SERIAL-TIME/", top)
    except tarfile.TarError as e:
        t.ok(False, "tar opens it", e)
    want = {"log.txt", "system.json", "hardware.json", "pipeline-state.txt", "pipeline.dot",
            "pipeline.json", "counters.json", "config.json", "users.json", "upgrade.json"}
    t.ok(want <= set(members), "it holds the log, system, hardware, pipeline (state, graph, "
         "counters), counters, configuration, accounts, upgrade", sorted(members))
    log = members.get("log.txt", b"").decode()
    t.ok(re.search(r"MESSAGE thermocamd: version \S+ started", log) is not None,
         "log.txt: the daemon's own log (its start line)", log[-600:])
    dot = members.get("pipeline.dot", b"").decode()
    t.ok(dot.startswith("digraph") and "radiometry" in dot and "measure" in dot and "GstAppSink" in dot,
         "pipeline.dot: the pipeline's graph with its elements", dot[:200])
    state = members.get("pipeline-state.txt", b"").decode()
    t.ok("PLAYING" in state, "pipeline-state.txt: the pipeline plays", state[:300])
    try:
        system = json.loads(members["system.json"])
        hw = json.loads(members["hardware.json"])
        counters = json.loads(members["counters.json"])
        config = json.loads(members["config.json"])
        users = json.loads(members["users.json"])
        t.ok(system.get("firmware_version") and system.get("kernel") and system.get("cpus", 0) > 0,
             "system.json: versions, kernel, CPUs", system)
        t.ok(hw["sensor"]["width"] > 0 and hw["serial_number"], "hardware.json: sensor, serial",
             hw)
        t.ok(counters["pipeline"]["frames"] > 0 and "http" in counters,
             "counters.json: the pipeline's and the services' counters", list(counters))
        t.ok(config["ftp"]["server"] == "127.0.0.1" and config["mqtt"]["user"] == "cam",
             "config.json: the configuration (what is not secret is there)", config["ftp"])
        t.ok({u.get("name") for u in (users if isinstance(users, list) else users.get("users", []))}
             >= {"admin", OP, VW}, "users.json: the accounts", users)
    except (KeyError, ValueError, TypeError) as e:
        t.ok(False, "the JSON members read", e)

    # no secret anywhere: the passwords, tokens, the accounts' hashes and HA1s
    with open(os.path.join(d.state_dir, "users.json")) as f:
        stored = f.read()
    hashes = [v for v in re.findall(r'"([^"]{20,})"', stored)]
    ha1 = [hashlib.md5(f"{u}:thermocam:{p}".encode()).hexdigest()
           for u, p in (("admin", PASSWORD), (OP, OP_PW), (VW, VW_PW))]
    needles = list(SECRETS.values()) + [PASSWORD, OP_PW, VW_PW] + ha1 + hashes
    with open(os.path.join(d.state_dir, "users.htdigest")) as f:
        needles += [line.rsplit(":", 1)[1].strip() for line in f if line.count(":") >= 2]
    found = [(name, n) for name, data in members.items() for n in needles
             if n.encode() in data]
    t.ok(not found and len(needles) >= 10,
         f"no password, token, password hash or HA1 in any member ({len(needles)} looked for)",
         found)

    s, _, _ = d.get("system/diagnostics/archive", user=VW, password=VW_PW)
    t.ok(s == 403, "a user may not take it: 403", s)
    s, _, _ = d.get("system/diagnostics/archive", auth=False)
    t.ok(s == 401, "without credentials: 401", s)
    s, j, _ = d.get("system/audit-log?type=export")
    t.ok(s == 200 and any("diagnose" in r.get("detail", "") for r in j["records"]),
         "the export is in the audit log", j)
finally:
    d.stop()
t.done()
