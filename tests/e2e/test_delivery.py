#!/usr/bin/python3
"""Linkage that leaves the camera (manual 5.2.2-5.2.4, 8.1), to real servers
on loopback (tests/e2e/peers.py): alarm pictures to an FTP server
(pyftpdlib) in the configured directory structure, email through aiosmtpd
with 3 pictures (plain, STARTTLS with authentication), the surveillance
center's HTTP receivers; the test routes; write-only passwords.  Faults: a
server down during the alarm gets it later, once; deliveries pending when
the daemon is killed arrive after the restart; a server that accepts and
never answers delays neither the other receivers nor the API; a full queue
says so."""
import email
import email.policy
import glob
import json
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Events, Peer, Tap, self_signed, wait_for  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="thermocam-delivery-")
peers = []


def peer(kind, *args, port=0):
    p = Peer(kind, *args, port=port).start()
    peers.append(p)
    return p


def status(r):
    return r[0]


def code(r):
    return r[1]["error"]["code"] if isinstance(r[1], dict) and "error" in r[1] else None


def received(dirname, ext=".json"):
    return sorted(f for f in glob.glob(os.path.join(dirname, "*" + ext))
                  if not f.endswith(".headers.json"))


def bodies(dirname):
    out = []
    for f in received(dirname):
        with open(f) as fh:
            out.append(json.load(fh))
    return out


def subdir(name):
    p = os.path.join(tmp, name)
    os.makedirs(p, exist_ok=True)
    return p


FAST = {"timeout_s": 3, "retry_initial_s": 1, "retry_max_s": 2}
d = Daemon().start()
d.activate()
d.wait_frames()
ev = Events(d)
d.put("config/delivery", FAST)
d.put("config/device", {"name": "Kiln 7"})


def trigger(n=1):
    """an alarm of input 1 (NO contact closed, then open)"""
    for _ in range(n):
        d.put("io/inputs/1", {"contact": "closed"})
        time.sleep(0.3)
        d.put("io/inputs/1", {"contact": "open"})
        time.sleep(0.3)


def link_input(**linkage):
    return d.put("config/alarm_inputs", {"inputs": [
        {"id": 1, "name": "Door", "enabled": True, "linkage": linkage},
        {"id": 2, "name": "B"}, {"id": 3, "name": "C"}, {"id": 4, "name": "D"}]})


# ---- notify surveillance center (manual 5.2.4) ----
rx = subdir("center")
http = peer("http", "--out", rx)
r = d.put("config/center", {"receivers": [{"url": f"http://127.0.0.1:{http.port}/alarms"}]})
t.ok(status(r) == 200, "a center receiver configured", r)
link_input(center=True)
trigger()
got = wait_for(lambda: len(received(rx)) >= 2 and bodies(rx), 10)
kinds = [(b["source"], b["state"]) for b in got or []]
t.ok(kinds == [("input", "start"), ("input", "stop")] and got[0]["name"] == "Door"
     and got[0]["device"] == "Kiln 7" and got[0]["serial"].startswith("TC640-"),
     "the center receives the input alarm's start and stop as JSON", got)
with open(received(rx)[0].replace(".json", ".headers.json")) as fh:
    hdrs = json.load(fh)
t.ok(hdrs["path"] == "/alarms" and "application/json" in json.dumps(hdrs["headers"]).lower(),
     "POSTed as application/json to the receiver's path", hdrs)
dl = ev.wait(lambda e: e[0] == "delivery" and e[1]["state"] == "delivered", 5)
t.ok(dl is not None and dl[1]["channel"] == "center-1", "a delivery event says it arrived", dl)
r = d.post("center/test")
t.ok(status(r) == 200 and wait_for(lambda: any(b["source"] == "test" for b in bodies(rx)), 5),
     "POST /center/test reaches the receiver", r)

# with authentication: the password is write-only and kept
rx2 = subdir("center-auth")
http2 = peer("http", "--out", rx2, "--user", "vms", "--password", "Vms#secret1")
r = d.put("config/center", {"receivers": [{"url": f"http://127.0.0.1:{http2.port}/in", "user": "vms",
                                           "password": "Vms#secret1"}]})
t.ok(status(r) == 200 and "password" not in r[1]["receivers"][0], "the answer does not show the password", r)
shown = d.get("config/center")[1]
r = d.put("config/center", shown)
t.ok(status(r) == 200 and status(d.post("center/test")) == 200,
     "PUT back what GET shows: the receiver keeps its password (the test still authenticates)", r)
r = d.post("center/test", {"receivers": [{"url": f"http://127.0.0.1:{http2.port}/in", "user": "vms",
                                          "password": "nope"}]})
t.ok(status(r) == 502 and code(r) == "transfer_failed" and "nope" not in json.dumps(r[1]),
     "a test with a wrong password: 502 transfer_failed, the password not echoed", r)
t.ok("Vms#secret1" not in json.dumps(d.get("config")[1]), "GET /config shows no password")
d.put("config/center", {"receivers": [{"url": f"http://127.0.0.1:{http.port}/alarms"}]})

# ---- FTP (manual 8.1, 5.2.2) ----
root = subdir("ftp")
ftp = peer("ftp", "--root", root, "--user", "cam", "--password", "Ftp#secret1")
r = d.put("config/ftp", {"server": "127.0.0.1", "port": ftp.port, "user": "cam", "password": "Ftp#secret1",
                         "directory": {"structure": "parent_child", "parent": "device_name",
                                       "child": "event"}})
t.ok(status(r) == 200 and "password" not in r[1], "FTP configured (password write-only)", r)
r = d.post("ftp/test")
t.ok(status(r) == 200 and glob.glob(os.path.join(root, "Kiln 7", "test", "thermocam-test.txt")),
     "POST /ftp/test uploads a test file into Kiln 7/test/", (r, os.listdir(root)))
r = d.post("ftp/test", {"password": "Wrong#one1"})
t.ok(status(r) == 502 and code(r) == "transfer_failed", "a test with a wrong password: 502", r)
# the password belongs to its server: pointing the settings elsewhere without a new
# password does not send the stored one there
root2 = subdir("ftp2")
ftp2 = peer("ftp", "--root", root2, "--user", "cam", "--password", "Ftp#secret1")
r = d.post("ftp/test", {"port": ftp2.port})
t.ok(status(r) == 502 and not glob.glob(os.path.join(root2, "**", "*.txt"), recursive=True),
     "a test against another server without a password: the stored password is not sent (502)", r)
r = d.post("ftp/test", {"port": ftp2.port, "password": "Ftp#secret1"})
t.ok(status(r) == 200, "with the password given, the other server works", r)
r = d.put("config/ftp", {"port": ftp2.port})
r2 = d.post("ftp/test")
t.ok(status(r) == 200 and status(r2) == 502, "a PUT of another port without the password empties it", (r, r2))
d.put("config/ftp", {"port": ftp.port, "password": "Ftp#secret1"})
d.put("config/capture", {"event": {"count": 2, "interval_s": 1, "picture": {"format": "jpeg"}}})
link_input(ftp=True)
trigger()


def whole_jpegs(d):
    """the JPEGs in @d, once at least two are there and written whole (the
    first upload may be seen while the second is still on its way)"""
    p = sorted(glob.glob(os.path.join(d, "*.jpg")))
    return p if len(p) >= 2 and all(open(x, "rb").read()[-2:] == b"\xff\xd9" for x in p) else None


pics = wait_for(lambda: whole_jpegs(os.path.join(root, "Kiln 7", "input-1")), 15) or \
    sorted(glob.glob(os.path.join(root, "Kiln 7", "input-1", "*.jpg")))
data = [open(p, "rb").read() for p in pics or []]
t.ok(len(pics) == 2 and all(x[:2] == b"\xff\xd8" and x[-2:] == b"\xff\xd9" for x in data)
     and data[0] != data[1], "the alarm's 2 pictures (1 s apart) arrive as JPEGs in Kiln 7/input-1/",
     pics)
t.ok(not glob.glob(os.path.join(root, "**", ".*"), recursive=True),
     "no temporary file left on the server")
d.put("config/ftp", {"directory": {"structure": "parent", "parent": "custom", "custom_parent": "plant-a"}})
d.put("config/capture", {"event": {"count": 1}})
trigger()
t.ok(wait_for(lambda: glob.glob(os.path.join(root, "plant-a", "*.jpg")), 15),
     "directory structure: a custom parent directory")

# ---- email (manual 5.2.3): STARTTLS with authentication, 3 pictures ----
crt, key = self_signed(tmp)
mails = subdir("mail")
smtp = peer("smtp", "--out", mails, "--starttls", crt, key, "--auth", "cam@plant:Mail#secret1")
r = d.put("config/email", {"sender_name": "Kiln 7", "sender_address": "kiln7@plant.example",
                           "server": "127.0.0.1", "port": smtp.port, "authentication": True,
                           "user": "cam@plant", "password": "Mail#secret1", "encryption": "starttls",
                           "verify_certificate": False,
                           "receivers": [{"name": "Ops", "address": "ops@plant.example"},
                                         {"address": "boss@plant.example"}],
                           "attach_pictures": True, "picture_interval_s": 1})
t.ok(status(r) == 200, "email configured", r)
r = d.post("email/test")
t.ok(status(r) == 200 and wait_for(lambda: received(mails, ".eml"), 5), "POST /email/test sends a mail", r)
d.put("config/email", {"receivers": []})
link_input(email=True)
trigger()
time.sleep(0.5)
t.ok(d.get("events/state")[1]["delivery"]["channels"].get("email", {}).get("pending", 0) == 0
     and any("linked to email, but" in x for x in d.lines),
     "email linked but no receivers: nothing queued, a log line says why")
d.put("config/email", {"receivers": [{"name": "Ops", "address": "ops@plant.example"},
                                     {"address": "boss@plant.example"}]})
t0 = time.time()
trigger()
emls = wait_for(lambda: len(received(mails, ".eml")) >= 2 and received(mails, ".eml"), 20)
msg = email.message_from_bytes(open(emls[-1], "rb").read(), policy=email.policy.default) if emls else None
meta = json.load(open(emls[-1].replace(".eml", ".json"))) if emls else {}
atts = [p for p in msg.iter_attachments()] if msg else []
t.ok(msg is not None and "Kiln 7" in msg["Subject"] and "input" in msg["Subject"]
     and len(atts) == 3 and all(a.get_content_type() == "image/jpeg" for a in atts)
     and all(a.get_content()[:2] == b"\xff\xd8" for a in atts),
     "the alarm mail has the event in its subject and 3 JPEG pictures", msg and (msg["Subject"], [a.get_content_type() for a in atts]))
t.ok(meta.get("tls") is True and meta.get("auth_user") == "cam@plant"
     and sorted(meta.get("rcpt_tos", [])) == ["boss@plant.example", "ops@plant.example"],
     "sent over STARTTLS, authenticated, to both receivers", meta)
body = msg.get_body(("plain",)).get_content() if msg else ""
t.ok("Door" in body and "input" in body, "the text says what happened", body)
d.put("config/email", {"password": "Wrong#mail1"})
r = d.post("email/test")
t.ok(status(r) == 502 and code(r) == "transfer_failed" and "Wrong#mail1" not in json.dumps(r[1]),
     "a wrong SMTP password: 502, not echoed", r)
plain_dir = subdir("mail-plain")
smtp2 = peer("smtp", "--out", plain_dir)
r = d.put("config/email", {"port": smtp2.port, "authentication": False, "encryption": "none",
                           "attach_pictures": False})
r = d.post("email/test")
t.ok(status(r) == 200 and wait_for(lambda: received(plain_dir, ".eml"), 5),
     "plain SMTP without authentication", r)
r = d.put("config/email", {"encryption": "starttls"})
r = d.post("email/test")
t.ok(status(r) == 502 and len(received(plain_dir, ".eml")) == 1,
     "STARTTLS required but not offered: refused, nothing sent in clear", r)
d.put("config/email", {"encryption": "none"})
link_input()

# ---- faults: a server down during the alarm gets it later, once ----
link_input(center=True)
http.stop()
n0 = len(received(rx))
trigger()
retry = ev.wait(lambda e: e[0] == "delivery" and e[1]["state"] == "retry", 10)
t.ok(retry is not None and retry[1]["channel"] == "center-1", "the receiver is down: the delivery waits and retries",
     retry)
time.sleep(2)
http = peer("http", "--out", rx, port=http.port)
arrived = wait_for(lambda: len(received(rx)) >= n0 + 2, 15)
time.sleep(3)
late = bodies(rx)[n0:]
t.ok(arrived and [(b["source"], b["state"]) for b in late] == [("input", "start"), ("input", "stop")],
     "the receiver is back: the start and the stop arrive, once each", late)

# ---- a hung receiver delays neither the other receiver nor the API ----
hang = peer("hang")
d.put("config/center", {"receivers": [{"url": f"http://127.0.0.1:{hang.port}/x"},
                                      {"url": f"http://127.0.0.1:{http.port}/alarms"}]})
n0 = len(received(rx))
t0 = time.time()
d.put("io/inputs/1", {"contact": "closed"})
fast = wait_for(lambda: len(received(rx)) > n0, 5, step=0.02)
t_fast = time.time() - t0
times = []
for _ in range(10):
    t1 = time.time()
    s, _, _ = d.get("device")
    times.append(time.time() - t1)
t.ok(fast and t_fast < 2.0, f"receiver 2 has it in {t_fast:.2f} s while receiver 1 hangs", t_fast)
t.ok(max(times) < 1.0, f"the API answers meanwhile (slowest of 10: {max(times) * 1000:.0f} ms)", times)
to = ev.wait(lambda e: e[0] == "delivery" and e[1]["channel"] == "center-1" and e[1]["state"] == "retry"
             and e[2] > t0, 8)
t.ok(to is not None and 2.5 <= to[2] - t0 <= 6, f"the hung one gives up after its 3 s timeout and retries later "
     f"({to and round(to[2] - t0, 1)} s)", to)
d.put("io/inputs/1", {"contact": "open"})

# ---- a bounded queue says when it drops ----
d.put("config/delivery", {"max_pending": 2})
d.put("config/center", {"receivers": [{"url": f"http://127.0.0.1:{hang.port}/x"}]})
trigger(3)
drop = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "delivery_dropped", 15)
t.ok(drop is not None and any("dropped" in x for x in d.lines), "the queue is full: the oldest is dropped, "
     "with an exception event and a log line", drop)
st = d.get("events/state")[1]["delivery"]
t.ok(st["pending"] <= 2 and st["dropped"] >= 1, "events/state counts pending and dropped deliveries", st)
d.put("config/delivery", {"max_pending": 500})
# what waits for the hung receiver goes to a working one instead
d.put("config/center", {"receivers": [{"url": f"http://127.0.0.1:{http.port}/alarms"}]})
drained = wait_for(lambda: d.get("events/state")[1]["delivery"]["pending"] == 0, 20)
t.ok(drained, "new receiver settings: the waiting deliveries go at once", d.get("events/state")[1]["delivery"])

# ---- killed with deliveries pending: they arrive after the restart ----
http.stop()
time.sleep(0.5)
n0 = len(received(rx))
trigger(2)
wait_for(lambda: d.get("events/state")[1]["delivery"]["channels"].get("center-1", {}).get("pending", 0) >= 4, 10)
pending = d.get("events/state")[1]["delivery"]
ev.close()
d.stop(sig=signal.SIGKILL)
spool = glob.glob(os.path.join(d.state_dir, "spool", "*", "job.json"))
t.ok(len(spool) >= 4, f"killed with {len(spool)} deliveries on disk", pending)
http = peer("http", "--out", rx, port=http.port)
d.start()
arrived = wait_for(lambda: len(received(rx)) >= n0 + 4, 20)
time.sleep(3)
late = [(b["source"], b["state"]) for b in bodies(rx)[n0:]]
t.ok(arrived and late == [("input", "start"), ("input", "stop")] * 2,
     "after the restart the 4 pending deliveries arrive, once each, in order", late)
t.ok(not glob.glob(os.path.join(d.state_dir, "spool", "*", "job.json")), "the spool is empty again")

# ---- no secret in the log ----
logs = "\n".join(d.lines)
t.ok(not any(s in logs for s in ("Ftp#secret1", "Mail#secret1", "Vms#secret1")), "no password in the log")
t.ok(d.stop() == 0, "clean exit")
for p in peers:
    p.stop()
t.done()
