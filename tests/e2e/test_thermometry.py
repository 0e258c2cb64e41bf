#!/usr/bin/python3
"""thermocamd end to end: the thermometry fields of manual 3.1 (issue 19 item
10).  Distance mode: self-adaption reads a rule at its own distance, fixed at
the global one; the calibration coefficient sets the external window's
temperature (the air's + the coefficient) and moves the readings; the
temperature range: readings outside it flagged in GET /temperatures, the SSE
measurement event, MQTT (a mosquitto of the test's on loopback), Prometheus,
Modbus, SNMP and the history; the live view's
display settings and units in GET /device; refusals name their field."""
import json
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Collector, Daemon, Events, Tap, wait_for  # noqa: E402


def free_port():
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


class Mqtt(Collector):
    """a mosquitto on loopback (anonymous) and a mosquitto_sub on '#':
    (topic, payload as JSON, time) as they arrive"""

    def __init__(self, tmp):
        super().__init__()
        self.port = free_port()
        conf = os.path.join(tmp, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"user {pwd.getpwuid(os.getuid()).pw_name}\nallow_anonymous true\n"
                    f"log_dest stderr\nlog_type error\nlistener {self.port} 127.0.0.1\n")
        self.broker = subprocess.Popen(["mosquitto", "-c", conf], stderr=subprocess.DEVNULL)
        self.sub = None

    def listen(self):
        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return True
            except OSError:
                return False
        if not wait_for(up, 10):
            return False
        self.sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port),
                                     "-t", "#", "-F", "%t\t%p"], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        return True

    def _read(self):
        for line in self.sub.stdout:
            topic, _, payload = line.rstrip("\n").partition("\t")
            try:
                self.add((topic, json.loads(payload), time.time()))
            except ValueError:
                pass

    def close(self):
        for p in (self.sub, self.broker):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

t = Tap()
d = Daemon(extra=["--snmp-port", "0"]).start()
tmp = tempfile.mkdtemp(prefix="thermocam-thermo-")
ROOT = ".1.3.6.1.4.1.32473.42"
COMMUNITY = "thermoRead#1"
SNMP_ENV = dict(os.environ, MIBS="", SNMPCONFPATH=tmp, SNMP_PERSISTENT_DIR=tmp, MIBDIRS=tmp)
ev = None
mq = Mqtt(tmp) if shutil.which("mosquitto") and shutil.which("mosquitto_sub") else None
try:
    d.activate()
    first = d.wait_frames()

    def field(e):
        return e.get("error", {}).get("field") if isinstance(e, dict) else None

    def rules_now():
        s, r, _ = d.get("temperatures")
        return {x["id"]: x for x in r.get("rules", []) if x.get("valid")} if s == 200 else {}

    def settled(pred, timeout=8):
        """the readings once @pred holds on three frames in a row (a change is applied
        by the pipeline a frame or two after the answer)"""
        end, hits, last = time.time() + timeout, 0, None
        while time.time() < end:
            last = rules_now()
            hits = hits + 1 if last and pred(last) else 0
            if hits >= 3:
                return last
            time.sleep(0.15)
        return None

    def mean(rule, key="avg", n=6):
        vals = []
        for _ in range(n):
            r = rules_now().get(rule)
            if r:
                vals.append(r[key])
            time.sleep(0.12)
        return sum(vals) / len(vals) if vals else None

    # ---- the fields, their defaults and their refusals
    s, th, _ = d.get("config/thermometry")
    t.ok(s == 200 and th.get("distance_mode") == "self_adaption"
         and th.get("calibration_coefficient_enabled") is False
         and th.get("calibration_coefficient") == 0 and th.get("live_temperature_info") is True
         and th.get("live_rules") is True,
         "defaults: self_adaption, the calibration coefficient off (0), temperature info and "
         "rules on the live view", th)
    for bad, name in (({"distance_mode": "auto"}, "distance_mode"),
                      ({"calibration_coefficient": 30.5}, "calibration_coefficient"),
                      ({"calibration_coefficient": -1}, "calibration_coefficient"),
                      ({"calibration_coefficient_enabled": "yes"}, "calibration_coefficient_enabled"),
                      ({"live_rules": 1}, "live_rules")):
        s, e, _ = d.put("config/thermometry", bad)
        t.ok(s == 400 and field(e) == "thermometry." + name and d.get("config/thermometry")[1] == th,
             f"{bad} refused (400 naming thermometry.{name}), nothing changed", (s, e))

    # ---- distance mode: two rules on the same area, one with its own distance
    area = [[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.3, 0.7]]
    s1, a, _ = d.post("rules", {"name": "near", "type": "polygon", "points": area})
    s2, b, _ = d.post("rules", {"name": "far", "type": "polygon", "points": area, "distance": 3000})
    A, B = a.get("id"), b.get("id")
    r = settled(lambda x: A in x and B in x)
    t.ok(s1 == 201 and s2 == 201 and r and r[B]["max"] - r[A]["max"] > 5,
         "self-adaption: the rule at its own 3000 m reads hotter than its twin at the global "
         f"2 m ({r and r[B]['max']} against {r and r[A]['max']} C)", r)
    s, _, _ = d.put("config/thermometry", {"distance_mode": "fixed"})
    r = settled(lambda x: A in x and B in x and abs(x[B]["max"] - x[A]["max"]) < 0.2
                and abs(x[B]["avg"] - x[A]["avg"]) < 0.2)
    t.ok(s == 200 and r is not None,
         "fixed: both rules read at the global distance (the same max and avg)", r or rules_now())
    s, _, _ = d.put("config/thermometry", {"distance": 3000})
    r = settled(lambda x: A in x and B in x and x[A]["max"] > 100
                and abs(x[B]["max"] - x[A]["max"]) < 0.2)
    t.ok(s == 200 and r is not None,
         "fixed with the global distance at 3000 m: both read the far value", r or rules_now())
    d.put("config/thermometry", {"distance": 2, "distance_mode": "self_adaption"})
    r = settled(lambda x: A in x and B in x and x[B]["max"] - x[A]["max"] > 5)
    t.ok(r is not None, "self-adaption again: the rule's own distance counts live", r or rules_now())

    # ---- the calibration coefficient: the window's temperature worked out
    s, _, _ = d.put("config/thermometry", {"optical_transmissivity": 0.5, "window_temperature": 20,
                                           "atmospheric_temperature": 20})
    time.sleep(0.6)
    base = mean(A)
    s2, _, _ = d.put("config/thermometry", {"calibration_coefficient_enabled": True,
                                            "calibration_coefficient": 30})
    time.sleep(0.6)
    on = mean(A)
    t.ok(s == 200 and s2 == 200 and base is not None and on is not None and base - on > 5,
         f"coefficient 30 on (window at 20 + 30 C behind a 0.5 window): the area's average "
         f"{base:.2f} -> {on:.2f} C", (base, on))
    d.put("config/thermometry", {"window_temperature": 50})
    time.sleep(0.6)
    still = mean(A)
    t.ok(still is not None and abs(still - on) < 0.3,
         f"while it is on, window_temperature is not used ({still:.2f} C)", (on, still))
    d.put("config/thermometry", {"calibration_coefficient_enabled": False})
    time.sleep(0.6)
    off = mean(A)
    t.ok(off is not None and abs(off - on) < 0.3,
         f"off again with window_temperature 50 = air + 30: the same reading ({off:.2f} C)",
         (on, off))
    d.put("config/thermometry", {"calibration_coefficient": 10, "calibration_coefficient_enabled": True,
                                 "window_temperature": 20})
    time.sleep(0.6)
    ten = mean(A)
    t.ok(ten is not None and on < ten < base,
         f"coefficient 10: between ({ten:.2f} C)", (base, ten, on))
    d.put("config/thermometry", {"calibration_coefficient_enabled": False, "calibration_coefficient": 0,
                                 "optical_transmissivity": 1})

    # ---- the temperature range flagged in every output
    s_m, _, _ = d.put("config/metrics", {"enabled": True})
    s_s, _, _ = d.put("config/snmp", {"v2c": True, "read_community": COMMUNITY})
    snmp_port = d.get("config/ports")[1]["in_use"].get("snmp", 0)
    s, c, _ = d.post("rules", {"name": "hot", "type": "point", "emissivity": 0.1,
                               "points": [first["scene"]["max_at"]]})
    C = c.get("id")
    rules = d.get("config/rules")[1]
    slot_c = [i for i, x in enumerate(rules) if x["id"] == C]
    slot_c = slot_c[0] if slot_c else 0

    def modbus_inputs(addr, count):
        try:
            with socket.create_connection(("127.0.0.1", d.modbus), timeout=3) as sk:
                sk.sendall(struct.pack(">HHHBBHH", 1, 0, 6, 1, 4, addr, count))
                buf = b""
                while len(buf) < 9 + 2 * count:
                    chunk = sk.recv(512)
                    if not chunk:
                        break
                    buf += chunk
        except OSError:
            return None
        if len(buf) < 9 + 2 * count or buf[7] != 4:
            return None
        return struct.unpack(f">{count}H", buf[9:9 + 2 * count])

    def metrics():
        s, body, _ = d.get(f"http://127.0.0.1:{d.http}/metrics")
        text = body.decode() if isinstance(body, bytes) else str(body)
        return s, text

    def snmpget(*oids):
        if not snmp_port or not shutil.which("snmpget"):
            return None
        r = subprocess.run(["snmpget", "-On", "-t", "1", "-r", "1", "-v2c", "-c", COMMUNITY,
                            f"127.0.0.1:{snmp_port}", *oids],
                           capture_output=True, text=True, env=SNMP_ENV, timeout=20)
        out = {}
        for line in r.stdout.splitlines():
            if " = " in line:
                k, v = line.split(" = ", 1)
                out[k] = v.split(": ", 1)[1] if ": " in v else v
        return out

    def outputs(label, scene_below, rule_above):
        """every output agrees: the scene's below flag, the hot rule's above flag"""
        s, r, _ = d.get("temperatures")
        rc = {x["id"]: x for x in r.get("rules", [])}.get(C, {})
        t.ok(s == 200 and r["scene"]["below_range"] is scene_below
             and r["scene"]["above_range"] is False and rc.get("above_range") is rule_above,
             f"{label}: GET /temperatures scene below_range {scene_below}, the hot rule "
             f"above_range {rule_above} ({rc.get('max')} C)", (r["scene"], rc))
        since = time.time()
        meas = ev.wait(lambda e: e[0] == "measurement" and e[2] >= since, 5)
        m = meas[1] if meas else {}
        mc = {x["id"]: x for x in m.get("rules", [])}.get(C, {})
        t.ok(meas and m["scene"]["below_range"] is scene_below and mc.get("above_range") is rule_above,
             f"{label}: the SSE measurement event flags the same", m.get("scene"))
        s, text = metrics()
        want_b = f'thermocam_scene_out_of_range{{side="below"}} {int(scene_below)}'
        want_r = (f'thermocam_rule_out_of_range{{rule="{C}",name="hot",side="above"}} '
                  f'{int(rule_above)}')
        t.ok(s == 200 and want_b in text and want_r in text,
             f"{label}: Prometheus {want_b}, {want_r}",
             [x for x in text.splitlines() if "out_of_range" in x])
        st = modbus_inputs(0, 1)
        fl = modbus_inputs(50 + slot_c, 1)
        t.ok(st is not None and fl is not None and bool(st[0] & (1 << 8)) is scene_below
             and not st[0] & (1 << 9) and bool(fl[0] & (1 << 5)) is rule_above,
             f"{label}: Modbus status bit 8 (scene below) and the rule's flag bit 5 (above)",
             (st, fl))
        since = time.time()
        ms = mq.wait(lambda e: e[0] == f"{base}/scene" and e[2] >= since, 5) if mq else None
        mr = mq.wait(lambda e: e[0] == f"{base}/rule/{C}" and e[2] >= since, 5) if mq else None
        t.ok(ms and mr and ms[1].get("below_range") is scene_below
             and mr[1].get("above_range") is rule_above,
             f"{label}: MQTT {base}/scene and /rule/{C} flag the same",
             (ms and ms[1], mr and mr[1]))
        sn = snmpget(ROOT + ".1.2.5.0", ROOT + f".1.3.1.1.8.{C}")
        t.ok(sn is not None and sn.get(ROOT + ".1.2.5.0") == ("2" if scene_below else "1")
             and sn.get(ROOT + f".1.3.1.1.8.{C}") == ("3" if rule_above else "1"),
             f"{label}: SNMP tcSceneRangeState, tcRuleRangeState", sn)

    ev = Events(d)
    base = "thermocam/" + d.get("device")[1]["serial_number"]
    s_q = 0
    if mq and mq.listen():
        s_q = d.put("config/mqtt", {"enabled": True, "server": "127.0.0.1", "port": mq.port,
                                    "readings_interval_ms": 200})[0]
    t.ok(s_q == 200 and mq.wait(lambda e: e[0] == f"{base}/scene", 10),
         f"MQTT to a mosquitto on loopback (port {mq.port if mq else '-'}): the readings come",
         s_q)
    t.ok(s == 201 and s_m == 200 and s_s == 200 and snmp_port > 0,
         f"a rule on the hot spot at emissivity 0.1; metrics and SNMP (UDP {snmp_port}) on",
         (s, s_m, s_s, snmp_port))
    r = settled(lambda x: C in x and x[C]["max"] > 150)
    outputs("-20~150", False, True)
    since = time.time()
    s_a, _, _ = d.put(f"rules/{C}", {"alarm": {"enabled": True, "on": "max", "condition": "above",
                                                "pre_alarm": 190, "alarm": 200, "tolerance": 2}})
    al = ev.wait(lambda e: e[0] == "alarm" and e[1].get("rule") == C and e[1]["state"] == "start"
                 and e[2] >= since, 8)
    a = al[1] if al else {}
    t.ok(s_a == 200 and a.get("above_range") is True and a.get("below_range") is False
         and a.get("value", 0) > 150,
         f"the hot rule's alarm event: its value {a.get('value')} C flagged above_range", a)
    d.put(f"rules/{C}", {"alarm": {"enabled": False}})
    history_from = time.time()
    s, _, _ = d.put("config/thermometry", {"temperature_range": "0~550"})
    wait_for(lambda: d.get("temperatures")[1]["scene"]["below_range"] is True, 5)
    time.sleep(1.2)   # the pipeline applied it: the meta's flags follow
    outputs("0~550", True, False)
    time.sleep(2.2)   # the history samples once a second
    s_h, hist, _ = d.get("history?rule=scene&step=raw&from="
                         + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(history_from - 1)))
    pts = hist.get("points", []) if s_h == 200 else []
    t.ok(s_h == 200 and pts and pts[-1]["below_range"] is True and pts[-1]["above_range"] is False
         and all("below_range" in p for p in pts),
         f"the history flags the scene's points below the range ({len(pts)} points)", pts[-3:])
    s_h, hist, _ = d.get(f"history?rule={C}&step=raw&from="
                         + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(history_from - 5)))
    pts = hist.get("points", []) if s_h == 200 else []
    t.ok(s_h == 200 and any(p["above_range"] for p in pts) and pts[-1]["above_range"] is False,
         "and the hot rule's: above -20~150, not above 0~550", pts[-4:])
    d.put("config/thermometry", {"temperature_range": "-20~150"})

    # ---- the live view's display settings and units, for every account
    s, dev, _ = d.get("device")
    disp = dev.get("display", {})
    t.ok(s == 200 and disp == {"temperature_unit": "celsius", "distance_unit": "metre",
                               "temperature_info": True, "rules": True,
                               "temperature_range": [-20, 150]},
         "GET /device display: the defaults", disp)
    d.put("config/thermometry", {"live_temperature_info": False, "live_rules": False})
    d.put("config/units", {"same_unit": True, "temperature": "fahrenheit", "distance": "foot"})
    s, dev, _ = d.get("device")
    disp = dev.get("display", {})
    t.ok(s == 200 and disp.get("temperature_info") is False and disp.get("rules") is False
         and disp.get("temperature_unit") == "fahrenheit" and disp.get("distance_unit") == "foot",
         "after the changes: no temperature info, no rules, Fahrenheit and feet", disp)
finally:
    if ev:
        ev.close()
    if mq:
        mq.close()
    d.stop()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
