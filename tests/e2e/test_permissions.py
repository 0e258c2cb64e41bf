#!/usr/bin/env python3
"""Remote permissions per account (manual 10.13.1; issue 19 item 6, issue 18's
network settings), end to end: a real thermocamd on loopback, curl (Digest),
hand-written RTSP DESCRIBE with Digest, ffprobe.

- the users API: permissions stored, read, validated (400 naming the field,
  nothing changed), the levels' defaults and limits, the administrator's
  fixed, audited;
- the route table against every permission: an operator account per
  permission (and one with none) asks every route of `thermocamd
  --print-routes`; each gets 403 where the route needs another permission
  (or a higher level) and is let through where it holds the route's one:
  each permission opens exactly its routes;
- a user may hold live view only; one without it gets 403 on the live view;
- the network chapter's settings: read with parameters, changed by the
  administrator only;
- RTSP: DESCRIBE (and ffprobe) refused to an account without live view;
- /metrics needs log_status;
- a live stream ends when its account loses live view;
- a restore by an operator keeps the network chapter (the administrator's);
- users.json from before permissions: the levels' defaults after a restart.
Modbus TCP has no accounts (the protocol carries no credentials): its writes
are governed by modbus.write_enabled and the IP filter (documented in
openapi.yaml); ONVIF keeps its own users (onvif.users), apart from these.
"""
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import DAEMON, PASSWORD, Daemon, Tap, ffprobe  # noqa: E402

PERMS = ["live_view", "playback", "parameters", "log_status", "maintenance", "capture",
         "alarm_output", "serial"]
PW = "Perm1ssion#26"
RANK = {"none": 0, "user": 1, "operator": 2, "administrator": 3}
# not asked in the matrix: they end the device's state or this test's daemon
DESTRUCTIVE = {("POST", "/system/default"), ("POST", "/system/reboot"),
               ("POST", "/system/restore"), ("POST", "/system/config-import")}
STREAMS = {"/events", "/live.mjpeg"}

t = Tap()
d = Daemon()


def status(r):
    return r[0]


def field(r):
    body = r[1]
    err = body.get("error") if isinstance(body, dict) else None
    return err.get("field") if isinstance(err, dict) else None


def message(r):
    body = r[1]
    err = body.get("error") if isinstance(body, dict) else None
    return err.get("message", "") if isinstance(err, dict) else ""


def rtsp_describe(path, user, password):
    """A DESCRIBE with Digest (answering the challenge): the status line"""
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", d.rtsp))
        uri = f"rtsp://127.0.0.1:{d.rtsp}/{path}"
        s.sendall(f"DESCRIBE {uri} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
        head = s.recv(4096).decode(errors="replace")
        m = re.search(r'Digest realm="([^"]+)", nonce="([^"]+)"', head)
        if not m:
            return head.split("\r\n")[0]
        realm, nonce = m.groups()
        ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"DESCRIBE:{uri}".encode()).hexdigest()
        resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
        s.sendall((f"DESCRIBE {uri} RTSP/1.0\r\nCSeq: 2\r\nAuthorization: Digest "
                   f'username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
                   f'response="{resp}"\r\n\r\n').encode())
        head = s.recv(4096).decode(errors="replace")
        return head.split("\r\n")[0] if head else "closed"
    except OSError as e:
        return f"error {e}"
    finally:
        s.close()


try:
    d.start()
    t.ok(status(d.activate()) == 200, "activated")
    t.ok(d.wait_frames() is not None, "frames flow")

    # ---- the users API ----
    r = d.get("users/admin")
    t.ok(status(r) == 200 and r[1].get("permissions") == PERMS,
         "the administrator holds every permission", r[:2])
    r = d.post("users", {"name": "viewer", "password": PW, "level": "user"})
    t.ok(status(r) == 201 and r[1].get("permissions") == ["live_view"],
         "a new user gets live_view (its level's default)", r[:2])
    r = d.post("users", {"name": "oper", "password": PW, "level": "operator"})
    t.ok(status(r) == 201 and r[1].get("permissions") == PERMS,
         "a new operator gets every permission (its level's default)", r[:2])
    r = d.post("users", {"name": "viewer2", "password": PW, "level": "user",
                         "permissions": ["live_view", "parameters"]})
    t.ok(status(r) == 400 and field(r) == "permissions" and "parameters" in message(r),
         "a user given parameters: 400 naming the field and the permission", r[:2])
    t.ok(status(d.get("users/viewer2")) == 404, "... and nothing was made")
    for bad in (["ptz"], ["live_view", "live_view"], "live_view", [1], list(PERMS) + ["x"]):
        r = d.post("users", {"name": "viewer2", "password": PW, "level": "operator",
                             "permissions": bad})
        t.ok(status(r) == 400 and field(r) == "permissions",
             f"permissions {json.dumps(bad)}: 400 naming the field", r[:2])
    r = d.post("users", {"name": "boss", "password": PW, "level": "administrator",
                         "permissions": ["live_view"]})
    t.ok(status(r) == 400 and field(r) == "level",
         "a second administrator is refused for its level, permissions or not", r[:2])
    r = d.put("users/viewer", {"permissions": ["capture"]})
    t.ok(status(r) == 400 and field(r) == "permissions", "a user cannot be given capture", r[:2])
    t.ok(d.get("users/viewer")[1].get("permissions") == ["live_view"], "... nothing changed")
    r = d.put("users/admin", {"permissions": ["live_view"]})
    t.ok(status(r) == 400 and field(r) == "permissions",
         "the administrator's permissions are fixed", r[:2])
    r = d.put("users/oper", {"permissions": ["live_view"]}, user="oper", password=PW)
    t.ok(status(r) == 403 and field(r) == "permissions",
         "an operator cannot change its own permissions", r[:2])
    r = d.put("users/oper", {"level": "user"})
    t.ok(status(r) == 200 and r[1].get("permissions") == ["live_view"],
         "a level change without permissions: the new level's defaults", r[:2])
    r = d.put("users/oper", {"level": "operator", "permissions": ["capture", "playback"]})
    t.ok(status(r) == 200 and r[1].get("permissions") == ["playback", "capture"],
         "level and permissions together", r[:2])
    r = d.get("users")
    t.ok(status(r) == 200 and all(set(u) == {"name", "level", "permissions"} for u in r[1]),
         "the list shows names, levels and permissions, never a hash", r[:2])
    r = d.get("system/audit-log")
    text = json.dumps(r[1])
    t.ok(status(r) == 200 and "permissions (playback,capture)" in text
         and "permissions: live_view" in text, "the changes are in the audit log",
         text[-1500:])
    r = d.put("users/viewer", {"password": "Vi3w-new#pass", "old_password": PW},
              user="viewer", password=PW)
    t.ok(status(r) == 200, "a user changes its own password (no permission needed)", r[:2])
    d.put("users/viewer", {"password": PW})

    # ---- an operator per permission, one with none ----
    accounts = {}
    for p in PERMS + [None]:
        name = f"p_{p or 'nothing'}"
        r = d.post("users", {"name": name, "password": PW, "level": "operator",
                             "permissions": [p] if p else []})
        accounts[name] = {p} if p else set()
        if status(r) != 201:
            t.ok(False, f"account {name}", r[:2])
    t.ok(len(d.get("users")[1]) == 3 + len(accounts), "an operator account per permission")
    d.post("users", {"name": "u_none", "password": PW, "level": "user", "permissions": []})

    out = subprocess.run([DAEMON, "--print-routes"], capture_output=True, text=True, timeout=60)
    routes = json.loads(out.stdout)
    t.ok(routes and all(r["permission"] in ["none"] + PERMS for r in routes),
         f"{len(routes)} routes, each names its permission", out.stdout[:400])

    rule = d.post("rules", {"name": "perm", "type": "point", "points": [[0.5, 0.5]]})
    rule_id = rule[1]["id"] if status(rule) == 201 else 1
    wrong, checked, opened = [], 0, {n: set() for n in accounts}
    for row in routes:
        method, path = row["method"], row["path"][len("/api/v1"):]
        if (method, path) in DESTRUCTIVE or row["level"] == "none":
            continue
        concrete = (path.replace("{id}", str(rule_id) if path.startswith("/rules") else "1")
                    .replace("{section}", "device").replace("{name}", "nothing.jpg"))
        if method == "DELETE":
            concrete = concrete.replace(f"rules/{rule_id}", "rules/999999")
        body = {"probe_unknown_field": 1} if method in ("PUT", "POST") else None
        for name, held in accounts.items():
            c = concrete.replace("users/nothing.jpg", f"users/{name}")
            r = d.curl(method, c.lstrip("/"), body=body, user=name, password=PW,
                       timeout=3 if path in STREAMS else 20)
            checked += 1
            need = row["permission"]
            may = RANK[row["level"]] <= RANK["operator"] and (need == "none" or need in held)
            if may:
                opened[name].add((method, path))
                if status(r) in (401, 403, 0):
                    wrong.append(f"{method} {path} as {name}: {status(r)} {message(r)} (allowed)")
            elif status(r) != 403:
                wrong.append(f"{method} {path} as {name}: {status(r)} (want 403)")
            elif RANK[row["level"]] <= RANK["operator"] and "permission" not in message(r):
                wrong.append(f"{method} {path} as {name}: 403 but not for the permission: "
                             f"{message(r)}")
    t.ok(checked > 500 and not wrong,
         f"route table x permissions: {checked} requests, 403 exactly where the account "
         "lacks the route's permission (or level)", "\n".join(wrong))
    # each permission opens exactly its routes (beyond those every account has)
    common = opened["p_nothing"]
    for p in PERMS:
        own = opened[f"p_{p}"] - common
        want = {(r["method"], r["path"][len("/api/v1"):]) for r in routes
                if r["permission"] == p and RANK[r["level"]] <= RANK["operator"]
                and (r["method"], r["path"][len("/api/v1"):]) not in DESTRUCTIVE}
        t.ok(own == want and (own or p == "serial"),
             f"{p} opens exactly its {len(want)} routes", sorted(own ^ want))
    t.ok(all(r["permission"] == "none" for r in routes
             if (r["method"], r["path"][len("/api/v1"):]) in common),
         f"an operator with no permission reaches only the {len(common)} routes that need none",
         sorted(common))

    # ---- a user: live view or nothing ----
    for path in ("live.mjpeg", "snapshot", "temperatures", "events"):
        r = d.get(path, user="u_none", password=PW, timeout=3)
        t.ok(status(r) == 403, f"GET /{path}: 403 for a user without live view", r[0])
    r = d.get("snapshot", user="viewer", password=PW)
    t.ok(status(r) == 200, "GET /snapshot: 200 for a user with live view", r[0])
    r = d.get("live/ws", user="u_none", password=PW,
              headers=("Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="), timeout=3)
    t.ok(status(r) == 403, "the live WebSocket: 403 for a user without live view", r[0])
    r = d.get("device", user="u_none", password=PW)
    t.ok(status(r) == 200, "GET /device (needs no permission): 200", r[0])

    # ---- the network chapter: read with parameters, changed by the administrator ----
    for section in ("network", "ports", "snmp", "upnp", "onvif"):
        r = d.get(f"config/{section}", user="p_parameters", password=PW)
        t.ok(status(r) == 200, f"GET /config/{section}: an operator with parameters reads it",
             r[:2])
        r = d.put(f"config/{section}", {}, user="p_parameters", password=PW)
        t.ok(status(r) == 403, f"PUT /config/{section}: 403 for an operator", r[:2])
        r = d.put(f"config/{section}", {})
        t.ok(status(r) == 200, f"PUT /config/{section}: the administrator changes it", r[:2])
    r = d.post("network/confirm", {}, user="p_parameters", password=PW)
    t.ok(status(r) == 403, "POST /network/confirm: 403 for an operator", r[:2])
    r = d.put("config/rs485", {}, user="p_parameters", password=PW)
    t.ok(status(r) == 403 and "serial" in message(r),
         "PUT /config/rs485 needs serial, not parameters", r[:2])
    r = d.put("config/rs485", {}, user="p_serial", password=PW)
    t.ok(status(r) == 200, "PUT /config/rs485: an operator with serial changes it", r[:2])
    r = d.put("config/device", {}, user="p_serial", password=PW)
    t.ok(status(r) == 403, "... and nothing else of the configuration", r[:2])

    # ---- RTSP: the streams are live view ----
    line = rtsp_describe("main", "p_live_view", PW)
    t.ok(line.startswith("RTSP/1.0 200"), "RTSP DESCRIBE: 200 with live view", line)
    for name in ("p_parameters", "u_none", "p_nothing"):
        line = rtsp_describe("main", name, PW)
        t.ok(line.startswith("RTSP/1.0 403"),
             f"RTSP DESCRIBE as {name} (no live view): 403, not a login failure ({line})", line)
    got, err = ffprobe(d.rtsp_url("main", user="viewer", password=PW), "tcp")
    t.ok(got is not None, "ffprobe plays rtsp://main as a user with live view", err)
    got, err = ffprobe(d.rtsp_url("Streaming/Channels/102", user="p_capture", password=PW),
                       "tcp")
    t.ok(got is None, "ffprobe refused for an operator without live view", got)

    # an RTSP viewer whose account loses live view is cut off
    d.post("users", {"name": "rtsp_viewer", "password": PW, "level": "operator",
                     "permissions": ["live_view"]})
    play = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp",
                             "-i", d.rtsp_url("main", user="rtsp_viewer", password=PW),
                             "-t", "60", "-f", "null", "-"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(4)
        t.ok(play.poll() is None, "an RTSP viewer (ffmpeg over TCP) plays", play.poll())
        start = time.time()
        d.put("users/rtsp_viewer", {"permissions": ["parameters"]})
        try:
            play.wait(timeout=15)
            t.ok(True, f"... and is cut off once its account loses live view "
                 f"({time.time() - start:.1f} s)")
        except subprocess.TimeoutExpired:
            t.ok(False, "... and is cut off once its account loses live view")
        line = rtsp_describe("main", "rtsp_viewer", PW)
        t.ok(line.startswith("RTSP/1.0 403"), f"... and is refused from then on ({line})", line)
    finally:
        if play.poll() is None:
            play.kill()
        play.communicate()

    # ---- /metrics: log and status ----
    d.put("config/metrics", {"enabled": True})
    r = d.curl("GET", f"http://127.0.0.1:{d.http}/metrics", user="p_log_status", password=PW)
    t.ok(status(r) == 200, "GET /metrics: 200 with log_status", r[0])
    r = d.curl("GET", f"http://127.0.0.1:{d.http}/metrics", user="p_live_view", password=PW)
    t.ok(status(r) == 403, "GET /metrics: 403 without log_status", r[0])

    # ---- a live stream ends when its account loses live view ----
    proc = subprocess.Popen(["curl", "-s", "-N", "--digest", "-u", f"p_live_view:{PW}",
                             "-o", os.devnull, "-w", "%{http_code}", "-m", "30",
                             d.url("live.mjpeg")], stdout=subprocess.PIPE, text=True)
    time.sleep(2)
    t.ok(proc.poll() is None, "an MJPEG live view is open")
    d.put("users/p_live_view", {"permissions": []})
    try:
        code = proc.communicate(timeout=10)[0]
        t.ok(True, f"... and ends once its account loses live view ({code})")
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        t.ok(False, "... and ends once its account loses live view")
    r = d.get("live.mjpeg", user="p_live_view", password=PW, timeout=3)
    t.ok(status(r) == 403, "... and cannot open it again", r[0])

    # ---- ONVIF keeps its own users (manual 9.6): a web account, whatever its
    # permissions, is not one of them and gets ter:NotAuthorized ----
    body = ('<?xml version="1.0" encoding="UTF-8"?><s:Envelope '
            'xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
            '<GetProfiles xmlns="http://www.onvif.org/ver10/media/wsdl"/></s:Body></s:Envelope>')
    s_on = d.put("config/onvif", {"enabled": True})
    t.ok(status(s_on) == 200, "ONVIF switched on", s_on[0])
    for name in ("p_live_view", "p_parameters"):
        r = subprocess.run(["curl", "-s", "--max-time", "10", "--digest", "-u", f"{name}:{PW}",
                            "-H", "Content-Type: application/soap+xml; charset=utf-8",
                            "--data-binary", body, "-w", "\n%{http_code}",
                            f"http://127.0.0.1:{d.http}/onvif/media_service"],
                           capture_output=True, text=True)
        code = r.stdout.rsplit("\n", 1)[-1]
        t.ok(code == "401" and "NotAuthorized" in r.stdout,
             f"ONVIF GetProfiles with the web account {name}: 401 ter:NotAuthorized", r.stdout[-300:])

    # ---- a restore by an operator leaves the administrator's sections alone ----
    d.put("config/snmp", {"contact": "noc@example.org"})
    d.put("config/network", {"qos": {"video_dscp": 10}})
    d.put("config/device", {"name": "restored-away"})
    r = d.post("system/restore", user="p_maintenance", password=PW)
    t.ok(status(r) == 200, "POST /system/restore: an operator with maintenance restores", r[:2])
    dev, snmp, net = (d.get(f"config/{s}")[1] for s in ("device", "snmp", "network"))
    t.ok(dev.get("name") != "restored-away"
         and snmp.get("contact") == "noc@example.org"
         and net.get("qos", {}).get("video_dscp") == 10,
         "... its defaults, but snmp and network (the administrator's) as they were",
         (dev.get("name"), snmp.get("contact"), net.get("qos")))
    r = d.post("system/restore")
    t.ok(status(r) == 200 and d.get("config/snmp")[1].get("contact") == ""
         and d.get("config/network")[1].get("qos", {}).get("video_dscp") == 0,
         "... the administrator's restore resets them (manual 10.5: IP parameters kept)",
         d.get("config/snmp")[1])

    # ---- users.json from before permissions: the levels' defaults ----
    d.stop()
    path = os.path.join(d.state_dir, "users.json")
    doc = json.load(open(path))
    for u in doc["users"]:
        u.pop("permissions", None)
    json.dump(doc, open(path, "w"))
    d.start()
    users = {u["name"]: u["permissions"] for u in d.get("users")[1]}
    t.ok(users.get("u_none") == ["live_view"] and users.get("p_capture") == PERMS
         and users.get("admin") == PERMS,
         "an older users.json: each account gets its level's defaults", users)
    t.ok("permissions" in open(path).read(), "... written back with them")
finally:
    d.stop()
t.done()
