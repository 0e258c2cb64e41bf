#!/usr/bin/python3
"""thermocamd end to end: MQTT against a real mosquitto broker on loopback
(a password, and a TLS listener with a CA of the test's own), watched with
mosquitto_sub and driven with mosquitto_pub.

Home Assistant discovery with the shape its documentation gives; readings that
agree with GET /temperatures; an alarm's start and stop as events and as a
retained state; a command that sets the emissivity (audited as from MQTT) and
a refused one answered on the result topic with nothing changed; a deleted
rule's entities removed; discovery again when Home Assistant comes online;
the will after kill -9; the broker stopped while alarms happen: each arrives
once, in order, when it is back; a wrong password: an exception event and
retries with backoff; TLS, and TLS with a client certificate; the secrets
write-only."""
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Collector, Daemon, Events, Tap, self_signed, wait_for  # noqa: E402

t = Tap()
if not shutil.which("mosquitto") or not shutil.which("mosquitto_sub"):
    t.ok(False, "mosquitto and mosquitto_sub are installed (scripts/setup.sh installs them)")
    t.done()

USER, PW = "camera", "Broker#pw1"
WATCHER, WPW = "watcher", "Watch#pw2"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def client_certificate(tmp):
    """a CA of the test's own and a client certificate it signed (openssl CLI)"""
    ca_key, ca_crt = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.crt")
    key, csr, crt = (os.path.join(tmp, f"client.{x}") for x in ("key", "csr", "crt"))
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", "/CN=test client CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=camera")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
        "-CAcreateserial", "-out", crt, "-days", "2")
    return crt, key, ca_crt


class Broker:
    """mosquitto on loopback: a plain listener and a TLS one, accounts by
    password, persistence (a subscriber's session outlives a restart)"""

    def __init__(self, tmp):
        self.dir = tmp
        self.port, self.tls_port, self.mtls_port = free_port(), free_port(), free_port()
        self.crt, self.key = self_signed(tmp)
        self.client_crt, self.client_key, client_ca = client_certificate(tmp)
        pwfile = os.path.join(tmp, "passwd")
        subprocess.run(["mosquitto_passwd", "-b", "-c", pwfile, USER, PW], check=True)
        subprocess.run(["mosquitto_passwd", "-b", pwfile, WATCHER, WPW], check=True)
        self.conf = os.path.join(tmp, "mosquitto.conf")
        with open(self.conf, "w") as f:
            # as root mosquitto would become the user mosquitto, who cannot read tmp
            f.write(f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
                    f"per_listener_settings false\nallow_anonymous false\npassword_file {pwfile}\n"
                    f"persistence true\npersistence_location {tmp}/\nautosave_interval 1\n"
                    f"log_dest stderr\nlog_type error\nlog_type warning\n"
                    f"listener {self.port} 127.0.0.1\n"
                    f"listener {self.tls_port} 127.0.0.1\ncertfile {self.crt}\nkeyfile {self.key}\n"
                    # this one wants a client certificate of the test's CA
                    f"listener {self.mtls_port} 127.0.0.1\ncertfile {self.crt}\nkeyfile {self.key}\n"
                    f"cafile {client_ca}\nrequire_certificate true\n")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stderr=subprocess.PIPE,
                                     text=True)
        ok = wait_for(lambda: self._listening(), 10)
        if not ok:
            raise RuntimeError("mosquitto did not start: " + (self.proc.stderr.read() or ""))
        return self

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.5).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Sub(Collector):
    """mosquitto_sub on '#': (topic, retained, payload, time) as they arrive"""

    def __init__(self, broker, client_id=None):
        super().__init__()
        args = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-u", WATCHER,
                "-P", WPW, "-t", "#", "-q", "1", "-F", "%t\t%r\t%p"]
        if client_id:
            args += ["-c", "-i", client_id]      # a session the broker keeps
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def msgs(self):
        return self.events

    def _read(self):
        for line in self.proc.stdout:
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) == 3:
                self.add((parts[0], parts[1] == "1", parts[2], time.time()))

    def wait(self, pred, timeout=10, since=0):
        return super().wait(pred, timeout, since)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def pub(broker, topic, payload):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-u", WATCHER,
                    "-P", WPW, "-q", "1", "-t", topic, "-m", payload], check=True, timeout=10)


def status(r):
    return r[0]


def mqtt_diag(d):
    s, diag, _ = d.get("system/diagnostics")
    return diag.get("mqtt", {}) if s == 200 and isinstance(diag, dict) else {}


tmp = tempfile.mkdtemp(prefix="thermocam-mqtt-")
broker = Broker(tmp).start()
state = os.path.join(tmp, "state")
d = Daemon(state_dir=state).start()
sub = Sub(broker)
try:
    d.activate()
    d.wait_frames()
    s, dev, _ = d.get("device")
    serial = dev["serial_number"]
    base = f"thermocam/{serial}"
    node = "thermocam_" + "".join(c if c.isalnum() or c in "_-" else "_" for c in serial)
    ev = Events(d)
    time.sleep(1)

    # ---- settings: validated, secrets write-only
    r = d.put("config/mqtt", {"enabled": True, "server": "127.0.0.1", "port": broker.port,
                              "keepalive_s": 0})
    t.ok(status(r) == 400 and r[1]["error"].get("field") == "mqtt.keepalive_s",
         "a keepalive below its minimum: 400 at mqtt.keepalive_s, nothing changed", r)
    r = d.put("config/mqtt", {"topic_prefix": "a/#"})
    t.ok(status(r) == 400, "a topic prefix with a wildcard: 400", r)
    r = d.put("config/mqtt", {"tls": {"ca": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"}})
    r2 = d.put("config/mqtt", {"tls": {"key": open(broker.key).read()}})
    with open(broker.crt) as f:
        r3 = d.put("config/mqtt", {"tls": {"certificate": f.read(), "key": open(broker.client_key).read()}})
    fields = [r[1].get("error", {}).get("field") if isinstance(r[1], dict) else None for r in (r, r2, r3)]
    t.ok([status(x) for x in (r, r2, r3)] == [400, 400, 400]
         and fields == ["mqtt.tls.ca", "mqtt.tls.key", "mqtt.tls.key"]
         and d.get("config/mqtt")[1]["tls"].get("ca") == "",
         "TLS texts checked before they are kept: a CA that is not one, a key without its "
         "certificate, a key of another certificate (400 at their fields, nothing changed)",
         (fields, r, r2, r3))
    motor = {"name": "motor", "type": "polygon",
             "points": [[0.45, 0.63], [0.57, 0.63], [0.57, 0.81], [0.45, 0.81]],
             "alarm": {"enabled": True, "on": "max", "pre_alarm": 150, "alarm": 200}}
    s, rule, _ = d.post("rules", motor)
    rid = rule["id"]
    r = d.put("config/mqtt", {"enabled": True, "server": "127.0.0.1", "port": broker.port,
                              "user": USER, "password": PW, "commands": True,
                              "keepalive_s": 5, "readings_interval_ms": 200})
    t.ok(status(r) == 200 and "password" not in r[1] and "key" not in r[1].get("tls", {}),
         "MQTT set; the answer shows no password and no TLS key", r)

    # ---- connected: online, discovery, readings
    online = sub.wait(lambda m: m[0] == f"{base}/status" and m[2] == "online", 15)
    cfg_topic = f"homeassistant/sensor/{node}/scene_max/config"
    m = sub.wait(lambda m: m[0] == cfg_topic, 10)
    # a late subscriber gets what was retained
    late = Sub(broker)
    kept = wait_for(lambda: late.all(lambda m: m[1] and m[0] in (f"{base}/status", cfg_topic)
                                     and m[2] != ""), 5)
    late.close()
    t.ok(online is not None and len({m[0] for m in kept or []}) == 2,
         "the camera says online; its status and discovery are retained for a late subscriber",
         kept)
    c = json.loads(m[2]) if m else {}
    dv = c.get("device", {})
    t.ok(m is not None and c.get("state_topic") == f"{base}/scene"
         and c.get("device_class") == "temperature" and c.get("unit_of_measurement") == "°C"
         and c.get("unique_id") and c.get("availability_topic") == f"{base}/status"
         and c.get("value_template") == "{{ value_json.max if value_json.valid else None }}"
         and c.get("default_entity_id") == f"sensor.{c.get('unique_id')}"
         and dv.get("identifiers") == [node] and dv.get("manufacturer") and dv.get("model")
         and dv.get("sw_version") and dv.get("serial_number") == serial
         and dv.get("configuration_url") == f"http://127.0.0.1:{d.http}/",
         "Home Assistant discovery: the scene's max is a temperature sensor of the camera's "
         "device (model, serial, firmware, link to its page)", c)
    kinds = {m[0].split("/")[1] for m in sub.all(lambda m: m[0].startswith("homeassistant/"))}
    rule_topics = [f"homeassistant/sensor/{node}/rule_{rid}_{k}/config" for k in ("max", "min", "avg")]
    t.ok(kinds >= {"sensor", "binary_sensor", "button", "switch", "number"}
         and wait_for(lambda: all(sub.all(lambda m, x=x: m[0] == x) for x in rule_topics), 5)
         and sub.all(lambda m: m[0] == f"homeassistant/binary_sensor/{node}/rule_{rid}_alarm/config")
         and sub.all(lambda m: m[0] == f"homeassistant/binary_sensor/{node}/input_1/config")
         and sub.all(lambda m: m[0] == f"homeassistant/switch/{node}/rule_{rid}_enabled/config"),
         "discovery: sensors per rule value, a binary sensor per rule alarm and alarm input, "
         "a switch per rule, the FFC button, the emissivity number", sorted(kinds))
    n0 = len(sub.msgs)
    m = sub.wait(lambda m: m[0] == f"{base}/rule/{rid}", 5, since=n0)
    s, temps, _ = d.get("temperatures")
    api = [x for x in temps.get("rules", []) if x["id"] == rid]
    got = json.loads(m[2]) if m else {}
    t.ok(m is not None and api and abs(got.get("max", 0) - api[0]["max"]) < 1.0
         and got.get("id") == rid and got.get("time"),
         "a rule's readings agree with GET /temperatures", (got, api))
    sc = sub.wait(lambda m: m[0] == f"{base}/scene", 5, since=n0)
    sj = json.loads(sc[2]) if sc else {}
    t.ok(sc is not None and abs(sj.get("max", 0) - temps["scene"]["max"]) < 1.0,
         "the scene's readings agree with GET /temperatures", (sj, temps.get("scene")))
    t1 = time.time()
    n1 = len(sub.msgs)
    time.sleep(2)
    rate = len(sub.all(lambda m: m[0] == f"{base}/scene" and m[3] > t1)) / (time.time() - t1)
    t.ok(3 <= rate <= 6.5, f"readings every 200 ms ({rate:.1f}/s)", rate)

    # ---- an alarm: the event and the retained state
    n0 = len(sub.msgs)
    r = d.put(f"rules/{rid}", dict(motor, alarm={"enabled": True, "on": "max", "pre_alarm": 40,
                                                  "alarm": 50}))
    start = sub.wait(lambda m: m[0] == f"{base}/event" and json.loads(m[2]).get("state") == "start"
                     and json.loads(m[2]).get("rule") == rid, 10, since=n0)
    on = sub.wait(lambda m: m[0] == f"{base}/alarm/rule/{rid}" and m[2] == "ON", 5, since=n0)
    late = Sub(broker)
    kept = late.wait(lambda m: m[0] == f"{base}/alarm/rule/{rid}", 5)
    late.close()
    t.ok(start is not None and on is not None and kept is not None and kept[1] and kept[2] == "ON",
         "a rule's alarm: its start on the event topic, ON on its state topic (retained)",
         (start, on, kept))
    r = d.put(f"rules/{rid}", motor)
    off = sub.wait(lambda m: m[0] == f"{base}/alarm/rule/{rid}" and m[2] == "OFF", 10, since=n0)
    stop = sub.wait(lambda m: m[0] == f"{base}/event" and json.loads(m[2]).get("state") == "stop"
                    and json.loads(m[2]).get("rule") == rid, 5, since=n0)
    t.ok(off is not None and stop is not None, "its stop: the event and OFF", (off, stop))

    # ---- commands
    n0 = len(sub.msgs)
    pub(broker, f"{base}/emissivity/set", "0.9")
    res = sub.wait(lambda m: m[0] == f"{base}/result", 5, since=n0)
    s, th, _ = d.get("config/thermometry")
    st = sub.wait(lambda m: m[0] == f"{base}/emissivity" and m[2] == "0.90", 5, since=n0)
    t.ok(res is not None and json.loads(res[2]).get("ok") is True and th["emissivity"] == 0.9
         and st is not None, "emissivity 0.9 from the broker: set, answered, its state published",
         (res, th.get("emissivity"), st))
    s, audit, _ = d.get("system/audit-log?type=config")
    recs = audit.get("records", []) if s == 200 and isinstance(audit, dict) else []
    t.ok(any(r.get("user") == "mqtt" and r.get("address") == "127.0.0.1"
             and "thermometry" in r.get("detail", "") for r in recs),
         "the change is audited as user mqtt from the broker's address", recs[-3:])
    n0 = len(sub.msgs)
    pub(broker, f"{base}/emissivity/set", "5")
    res = sub.wait(lambda m: m[0] == f"{base}/result", 5, since=n0)
    rj = json.loads(res[2]) if res else {}
    s, th, _ = d.get("config/thermometry")
    t.ok(rj.get("ok") is False and rj.get("field") == "thermometry.emissivity" and rj.get("error")
         and th["emissivity"] == 0.9,
         "emissivity 5 refused: the error on the result topic, nothing changed", (rj, th))
    pub(broker, f"{base}/emissivity/set", "x" * 500)
    time.sleep(0.5)
    t.ok(d.alive() and d.get("config/thermometry")[1]["emissivity"] == 0.9,
         "an oversized command is ignored")
    n0 = len(sub.msgs)
    pub(broker, f"{base}/rule/{rid}/enabled/set", "OFF")
    res = sub.wait(lambda m: m[0] == f"{base}/result", 5, since=n0)
    s, rr, _ = d.get(f"rules/{rid}")
    t.ok(res is not None and json.loads(res[2]).get("ok") is True and rr.get("enabled") is False,
         "a rule switched off from the broker", (res, rr))
    pub(broker, f"{base}/rule/{rid}/enabled/set", "ON")
    n0 = len(sub.msgs)
    pub(broker, f"{base}/ffc/set", "PRESS")
    res = sub.wait(lambda m: m[0] == f"{base}/result" and '"ffc"' in m[2], 5, since=n0)
    t.ok(res is not None and json.loads(res[2]).get("ok") is True,
         "a flat-field correction from the broker", res)

    # ---- Home Assistant comes online: discovery again; a deleted rule's entities go
    before = len(sub.all(lambda m: m[0] == cfg_topic))
    pub(broker, "homeassistant/status", "online")
    t.ok(wait_for(lambda: len(sub.all(lambda m: m[0] == cfg_topic)) > before, 5),
         "Home Assistant online: discovery published again")
    n0 = len(sub.msgs)
    d.curl("DELETE", f"rules/{rid}")
    gone = sub.wait(lambda m: m[0] == rule_topics[0] and m[2] == "", 5, since=n0)
    states = [sub.wait(lambda m, x=x: m[0] == f"{base}/{x}" and m[2] == "", 5, since=n0)
              for x in (f"rule/{rid}/enabled", f"alarm/rule/{rid}")]
    t.ok(gone is not None and all(states),
         "a deleted rule's entities and retained states are removed (empty retained messages)",
         (gone, states))

    # ---- the broker away while alarms happen: every one arrives once, in order
    late = Sub(broker, client_id="late-watcher")
    wait_for(lambda: late.all(lambda m: m[0] == f"{base}/status"), 5)
    late.close()
    broker.stop()
    ex = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "mqtt_broker"
                 and e[1].get("state") == "start", 15)
    t.ok(ex is not None, "the broker gone: an mqtt_broker exception", ex)
    d.put("config/alarm_inputs", {"inputs": [{"id": i, "name": f"In {i}", "enabled": True}
                                             for i in (1, 2, 3, 4)]})
    for i in range(3):
        d.put("io/inputs/1", {"contact": "closed"})
        time.sleep(0.3)
        d.put("io/inputs/1", {"contact": "open"})
        time.sleep(0.3)
    mq = mqtt_diag(d)
    t.ok(mq.get("events_waiting", 0) >= 6, "the alarms wait on the camera's disk", mq)
    broker.start()
    late = Sub(broker, client_id="late-watcher")
    got = wait_for(lambda: len([m for m in late.all(lambda m: m[0] == f"{base}/event")
                                if json.loads(m[2]).get("source") == "input"]) >= 6, 40)
    ins = [json.loads(m[2]) for m in late.all(lambda m: m[0] == f"{base}/event")]
    ins = [e for e in ins if e.get("source") == "input"]
    states = [e["state"] for e in ins]
    times = [e["time"] for e in ins]
    t.ok(got and states == ["start", "stop"] * 3 and times == sorted(times) and len(set(times)) == 6,
         "after the broker is back: the 6 input alarm events, each once, in order", states)
    ex = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "mqtt_broker"
                 and e[1].get("state") == "stop", 15)
    t.ok(ex is not None, "the broker back: the exception stops", ex)
    late.close()

    # ---- the will: kill -9
    n0 = len(sub.msgs)
    sub.close()
    sub = Sub(broker)
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    off = sub.wait(lambda m: m[0] == f"{base}/status" and m[2] == "offline", 15)
    t.ok(off is not None, "kill -9: the will says offline", off)
    d = Daemon(state_dir=state).start()
    on = sub.wait(lambda m: m[0] == f"{base}/status" and m[2] == "online" and m[3] > off[3], 15) \
        if off else None
    t.ok(on is not None, "started again: online", on)

    # ---- a wrong password: an exception, retries with backoff
    ev.close()
    ev = Events(d)
    time.sleep(1)                   # the event stream is open
    r = d.put("config/mqtt", {"password": "wrong"})
    ex = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "mqtt_broker"
                 and e[1].get("state") == "start", 10)
    t.ok(ex is not None and "refused" in ex[1].get("message", ""),
         "a wrong password: an mqtt_broker exception saying the broker refused", ex)
    time.sleep(4)
    mq = mqtt_diag(d)
    t.ok(mq.get("state") in ("waiting", "connecting") and mq.get("retry_in_s", 0) >= 2
         and "refused" in (mq.get("last_error") or ""),
         "it retries with a growing wait", mq)

    # ---- TLS, verified against the test's CA
    with open(broker.crt) as f:
        ca = f.read()
    n0 = len(sub.msgs)
    r = d.put("config/mqtt", {"port": broker.tls_port, "password": PW,
                              "tls": {"enabled": True, "ca": ca}})
    on = sub.wait(lambda m: m[0] == f"{base}/status" and m[2] == "online", 15, since=n0)
    mq = mqtt_diag(d)
    t.ok(status(r) == 200 and on is not None and mq.get("state") == "connected",
         "over TLS with the CA given: connected", (r, mq))

    # ---- TLS with a client certificate, where the broker asks for one
    with open(broker.client_crt) as f:
        ccrt = f.read()
    with open(broker.client_key) as f:
        ckey = f.read()
    n0 = len(sub.msgs)
    r = d.put("config/mqtt", {"port": broker.mtls_port, "password": PW,
                              "tls": {"enabled": True, "ca": ca, "certificate": ccrt, "key": ckey}})
    on = sub.wait(lambda m: m[0] == f"{base}/status" and m[2] == "online", 15, since=n0)
    mq = mqtt_diag(d)
    t.ok(status(r) == 200 and on is not None and mq.get("state") == "connected",
         "a broker that asks for a client certificate: connected with the one given", (r, mq))
    s, view, _ = d.get("config/mqtt")
    t.ok("password" not in view and view["tls"]["ca"] == ca and "key" not in view["tls"]
         and view["tls"]["certificate"] == ccrt,
         "GET shows the CA and the certificate, not the password or the key", view)
    ev.close()
    # ---- export and import carry the section, secrets included
    expf = os.path.join(tmp, "config.bin")
    r = d.post("system/config-export", {"password": "Exp0rt#secret"}, out_file=expf)
    d.put("config/mqtt", {"topic_prefix": "elsewhere", "password": "wrong",
                          "tls": {"key": ""}})
    imp = d.curl("POST", "system/config-import",
                 extra=("-F", f"file=@{expf};type=application/octet-stream",
                        "-F", "password=Exp0rt#secret"))
    n0 = len(sub.msgs)
    on = sub.wait(lambda m: m[0] == f"{base}/status" and m[2] == "online", 15, since=n0)
    s, view, _ = d.get("config/mqtt")
    t.ok(status(r) == 200 and status(imp) == 200 and view.get("topic_prefix") == "thermocam"
         and on is not None and mqtt_diag(d).get("state") == "connected",
         "export, then import: the MQTT settings back (its password and key too: connected)",
         (status(r), imp, view.get("topic_prefix"), mqtt_diag(d)))

    n0 = len(sub.msgs)
    rc = d.stop()
    off = sub.wait(lambda m: m[0] == f"{base}/status" and m[2] == "offline", 5, since=n0)
    t.ok(rc == 0 and off is not None, "a clean stop: offline published before it goes", (rc, off))
finally:
    sub.close()
    d.stop()
    broker.stop()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
