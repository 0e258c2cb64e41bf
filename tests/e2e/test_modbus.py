#!/usr/bin/python3
"""thermocamd end to end: Modbus TCP and RTU with real masters.

mbpoll reads the temperatures over TCP and they agree with GET /temperatures;
the register map (schemas/modbus-registers.json, served by the API) gives the
addresses; holding registers and coils write through the configuration path;
exception codes for bad requests (raw frames for the functions mbpoll cannot
send); garbage, half frames, too many clients, the IP filter; RTU over a socat
pseudo-terminal pair with both CRC byte orders, broadcasts and echoes; ASCII
on the same pair with pymodbus as the master and hand-built frames; idle
clients, the filter on open connections, a busy port retried, writes off by
default and writes that change nothing."""
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import tty

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap, wait_for  # noqa: E402

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(SRC, "schemas", "modbus-registers.json")) as f:
    MAP_TEXT = f.read()
MAP = json.loads(MAP_TEXT)
START = time.time()


def block(table, name):
    for b in MAP["blocks"]:
        if b["table"] == table and b["name"] == name:
            return b
    raise KeyError(f"{table}/{name} is not in the register map")


def size_of(b):
    return 2 if b["type"] in ("float32", "uint32") else 1


def addr(table, name, i=0):
    """the PDU address of item i of a block of the map"""
    b = block(table, name)
    assert i < b["count"]
    return b["address"] + i * b.get("stride", size_of(b))


def parse_value(tok):
    # mbpoll prints "65434 (-102)" for a negative 16-bit register
    m = re.match(r"(\S+)(?:\s+\((-?\d+)\))?", tok)
    v = m.group(2) or m.group(1)
    try:
        return int(v)
    except ValueError:
        return float(v)


def mbpoll(args, values=None, timeout=10):
    """(ok, {address: value}, output); addresses are 0-based (-0)"""
    cmd = ["mbpoll", "-0", "-1", *args]
    if values is not None:
        cmd += ["--"] + [str(v) for v in values]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, {}, "timeout"
    vals = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\[(\d+)\]:\s+(.*)$", line)
        if m:
            vals[int(m.group(1))] = parse_value(m.group(2).strip())
    out = r.stdout + r.stderr
    ok = r.returncode == 0 and "failed" not in out
    return ok, vals, out


def tcp(d, kind, ref, count=1, values=None, big=True, port=None):
    args = ["-m", "tcp", "-a", "1", "-p", str(port or d.modbus), "-t", kind, "-r", str(ref),
            "-o", "2"]
    if values is None:
        args += ["-c", str(count)]
    if big:
        args.append("-B")
    return mbpoll(args + ["127.0.0.1"], values)


def mbap(tid, pdu, unit=1):
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


PENDING = {}   # socket -> bytes received beyond the last frame


def recv_frame(sock, timeout=2.0):
    """one Modbus TCP answer, b"" when the server closed, None on timeout"""
    sock.settimeout(timeout)
    buf = PENDING.pop(sock, b"")
    try:
        while len(buf) < 6 or len(buf) < 6 + struct.unpack(">H", buf[4:6])[0]:
            chunk = sock.recv(300)
            if not chunk:
                return buf
            buf += chunk
    except socket.timeout:
        return None
    except ConnectionResetError:
        return b""
    n = 6 + struct.unpack(">H", buf[4:6])[0]
    if len(buf) > n:
        PENDING[sock] = buf[n:]
    return buf[:n]


def raw_request(sock, pdu, tid=1, unit=1):
    sock.sendall(mbap(tid, pdu, unit))
    return recv_frame(sock)


def closed_without_answer(sock, timeout=2.0):
    sock.settimeout(timeout)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def read_ir_pdu(address, count):
    return struct.pack(">BHH", 4, address, count)


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def closed_now(sock, pdu, tid=99, timeout=2.0):
    """sends a request: True when the server closed without answering it"""
    try:
        sock.sendall(mbap(tid, pdu))
    except OSError:
        return True
    return closed_without_answer(sock, timeout)


def audit_records(kind, needle):
    s, a, _ = d.get(f"system/audit-log?type={kind}")
    recs = a.get("records", []) if s == 200 and isinstance(a, dict) else []
    return [r for r in recs if needle in r.get("detail", "")]


t = Tap()
d = Daemon()
# writes are off by default (checked on a fresh daemon below): on here
with open(os.path.join(d.state_dir, "config.json"), "w") as f:
    json.dump({"modbus": {"write_enabled": True}}, f)
d.start()
# an inactive device (no administrator yet) takes no change from anyone
with socket.create_connection(("127.0.0.1", d.modbus), timeout=5) as sk:
    ans = raw_request(sk, struct.pack(">BHH", 6, 0, 80))
t.ok(ans is not None and len(ans) >= 9 and ans[7] == 0x86 and ans[8] == 1,
     "before activation a write gets exception 01", ans)
s, j, _ = d.activate()
t.ok(s == 200, "activated", (s, j))
t.ok(d.modbus and d.modbus > 0, f"the ready line names the Modbus TCP port ({d.modbus})", d.lines[-3:])
t.ok(d.wait_frames() is not None, "readings arrive")

# ---- the register map: in the repository and served by the API ----
s, served, _ = d.get("modbus/registers")
t.ok(s == 200 and served == MAP, "GET /modbus/registers serves schemas/modbus-registers.json", s)
problems = []
used = {}
for b in MAP["blocks"]:
    size = MAP["tables"][b["table"]]["size"]
    n = size_of(b) if b["type"] != "bit" else 1
    for i in range(b["count"]):
        a = b["address"] + i * b.get("stride", n)
        for k in range(n):
            if a + k >= size:
                problems.append(f"{b['name']}[{i}] at {a + k} is beyond the {b['table']} table")
            if (b["table"], a + k) in used:
                problems.append(f"{b['name']}[{i}] overlaps {used[(b['table'], a + k)]} at {a + k}")
            used[(b["table"], a + k)] = b["name"]
t.ok(not problems, f"the map's {len(MAP['blocks'])} blocks lie in their tables and do not overlap",
     "\n".join(problems))

# ---- a rule over the simulated scene's hot motor ----
motor = {"name": "motor", "type": "polygon",
         "points": [[0.45, 0.63], [0.57, 0.63], [0.57, 0.81], [0.45, 0.81]]}
s, r, _ = d.post("rules", motor)
t.ok(s == 201, "a rule over the motor", (s, r))
motor_id = r["id"] if s == 201 else None
time.sleep(1.0)


# ---- TCP reads agree with GET /temperatures ----
def compare(read_fn, tol=0.1, tries=8):
    """reads the API, then Modbus, then the API again: the Modbus value must lie
    within tol of the readings around it (the scene is live)"""
    worst = None
    for _ in range(tries):
        s1, a1, _ = d.get("temperatures")
        mb = read_fn()
        s2, a2, _ = d.get("temperatures")
        if s1 != 200 or s2 != 200 or mb is None:
            continue
        worst = []
        for key, val in mb.items():
            lo = min(key(a1), key(a2)) - tol
            hi = max(key(a1), key(a2)) + tol
            worst.append((key.__name__, val, key(a1), key(a2), lo <= val <= hi))
        if all(w[-1] for w in worst):
            return True, worst
        time.sleep(0.2)
    return False, worst


def scene(field):
    def f(j):
        return j["scene"][field]
    f.__name__ = "scene." + field
    return f


def rule(field):
    def f(j):
        return [x for x in j["rules"] if x["id"] == motor_id][0][field]
    f.__name__ = "motor." + field
    return f


def read_scene_int16():
    ok, v, _ = read_tcp("3", addr("input", "scene_max"), 3)
    if not ok:
        return None
    a = addr("input", "scene_max")
    return {scene("max"): v[a] / 10, scene("min"): v[a + 1] / 10, scene("avg"): v[a + 2] / 10}


def read_scene_float(big=True):
    a = addr("input", "scene_max_float")
    ok, v, _ = read_tcp("3:float", a, 3, big=big)
    if not ok:
        return None
    return {scene("max"): v[a], scene("min"): v[a + 2], scene("avg"): v[a + 4]}


def read_rule_values():
    a = addr("input", "rule_max", 0)
    ok, v, _ = read_tcp("3", a, 3)
    fa = addr("input", "rule_max_float", 0)
    ok2, fv, _ = read_tcp("3:float", fa, 3)
    if not ok or not ok2:
        return None
    ints = {rule("max"): v[a] / 10, rule("min"): v[a + 1] / 10, rule("avg"): v[a + 2] / 10}
    return ints, fv, fa


def read_tcp(kind, ref, count, big=True):
    return tcp(d, kind, ref, count, big=big)


t0 = time.time()
ok, v, out = read_tcp("3", 0, 10)
rtt = time.time() - t0
t.ok(ok and len(v) == 10, f"mbpoll reads input registers 0-9 over TCP ({rtt * 1000:.0f} ms with process start)", out)
good, detail = compare(read_scene_int16)
t.ok(good, "scene max/min/avg as int16 x0.1 C agree with GET /temperatures within 0.1 C", detail)
good, detail = compare(read_scene_float)
t.ok(good, "scene max/min/avg as float32 (word order big, mbpoll -B) agree within 0.1 C", detail)
a = addr("input", "scene_min")
ok, v, out = read_tcp("3", a, 1)
t.ok(ok and v[a] < 0 and f"{65536 + v[a]} ({v[a]})" in out,
     f"the scene minimum (the -10 C object) is two's complement: {out.strip().splitlines()[-1]}", out)


def rule_int16():
    r = read_rule_values()
    return r[0] if r else None


def rule_float():
    r = read_rule_values()
    if not r:
        return None
    _, fv, fa = r
    return {rule("max"): fv[fa], rule("min"): fv[fa + 2], rule("avg"): fv[fa + 4]}


ok, v, out = read_tcp("3", addr("input", "rule_id"), 2)
t.ok(ok and v.get(addr("input", "rule_id")) == motor_id and v.get(addr("input", "rule_id") + 1) == 0,
     f"rule slot 0 holds the motor (id {motor_id}), slot 1 is empty", out)
good, detail = compare(rule_int16)
t.ok(good, "the motor rule's max/min/avg (int16) agree with GET /temperatures", detail)
good, detail = compare(rule_float)
t.ok(good, "the motor rule's max/min/avg (float32) agree with GET /temperatures", detail)
ok, v, out = read_tcp("3", addr("input", "rule_flags"), 2)
t.ok(ok and v.get(addr("input", "rule_flags")) == 0b0111 and v.get(addr("input", "rule_flags") + 1) == 0,
     "rule flags: slot 0 exists, enabled, valid; slot 1 empty", out)
a = addr("input", "rule_max", 1)
ok, v, out = read_tcp("3", a, 1)
t.ok(ok and v.get(a) == -32768, "an empty slot reads the invalid sentinel -32768 (0x8000)", out)
a = addr("input", "rule_max_float", 1)
ok, v, out = read_tcp("3:float", a, 1)
t.ok(ok and "nan" in out.lower(), "and NaN as a float", out)

ok, v, out = read_tcp("3", addr("input", "status"), 1)
st = v.get(addr("input", "status"), 0)
bits = {b["name"]: b["bit"] for b in MAP["status_bits"]}
t.ok(ok and st & (1 << bits["measurement_valid"]) and st & (1 << bits["frame_fresh"])
     and st & (1 << bits["writes_enabled"]) and st & (1 << bits["thermometry_enabled"])
     and not st & (1 << bits["any_alarm"]), f"status word {st:#06x}: valid, fresh, writable, no alarm", out)
a = addr("discrete", "measurement_valid")
for _ in range(3):
    ok, v, out = read_tcp("3", addr("input", "status"), 1)
    st = v.get(addr("input", "status"), 0)
    ok2, dv, out2 = tcp(d, "1", a, 8)
    if ok and ok2 and all(dv.get(a + b) == (st >> b) & 1 for b in range(8)):
        break
t.ok(ok and ok2 and all(dv.get(a + b) == (st >> b) & 1 for b in range(8)),
     "discrete inputs 0-7 mirror the status word", out + out2)
fc = addr("input", "frame_counter")
ok1, v1, out1 = read_tcp("3:int", fc, 1)
time.sleep(0.5)
ok2, v2, out2 = read_tcp("3:int", fc, 1)
t.ok(ok1 and ok2 and v2[fc] - v1[fc] >= 5, f"the frame counter advances ({v1.get(fc)} -> {v2.get(fc)} in 0.5 s)",
     out1 + out2)
s, m, _ = d.put("config/modbus", {"update_ms": 3000})
t.ok(s == 200 and m["update_ms"] == 3000, "PUT modbus update_ms=3000", (s, m))
ok1, v1, out1 = read_tcp("3:int", fc, 1)
time.sleep(0.5)
ok2, v2, out2 = read_tcp("3:int", fc, 1)
t.ok(ok1 and ok2 and v1[fc] == v2[fc], f"update_ms=3000: the registers hold one frame ({v1.get(fc)}, {v2.get(fc)})",
     out1 + out2)
d.put("config/modbus", {"update_ms": 0})
ok, v, out = read_tcp("3", addr("input", "device_temperature"), 1)
ok2, fv, out2 = read_tcp("3:float", addr("input", "device_temperature_float"), 1)
dt = v.get(addr("input", "device_temperature"), -32768) / 10
dtf = fv.get(addr("input", "device_temperature_float"), float("nan"))
t.ok(ok and ok2 and -40 < dt < 120 and abs(dt - dtf) < 0.1,
     f"device temperature {dt} C (float {dtf})", out + out2)

# word order little: the floats follow, without -B
s, m, _ = d.put("config/modbus", {"word_order": "little"})
t.ok(s == 200 and m["word_order"] == "little", "PUT modbus word_order=little", (s, m))
good, detail = compare(lambda: read_scene_float(big=False))
t.ok(good, "word order little (CDAB): the floats read right without -B", detail)
vals = read_scene_float(big=True)
s, now, _ = d.get("temperatures")
far = vals and [(k.__name__, v, k(now)) for k, v in vals.items() if not abs(v - k(now)) < 5]
t.ok(vals is not None and len(far) == 3, "and wrong with -B (the words really swapped)", (vals, now))
d.put("config/modbus", {"word_order": "big"})

# ---- writes: the same path as the API ----
ok, _, out = tcp(d, "4", addr("holding", "emissivity"), values=[80])
s, th, _ = d.get("config/thermometry")
t.ok(ok and s == 200 and th["emissivity"] == 0.8, f"holding register emissivity=80 -> API emissivity {th.get('emissivity')}", out)
ok, v, out = tcp(d, "4:float", addr("holding", "emissivity_float"), 3)
ea = addr("holding", "emissivity_float")
t.ok(ok and abs(v[ea] - 0.8) < 1e-6 and v[ea + 2] == 2.0 and v[ea + 4] == 20.0,
     "the float registers show emissivity 0.8, distance 2, reflected 20", out)
ok, _, out = tcp(d, "4:float", ea, values=[0.9])
s, th, _ = d.get("config/thermometry")
t.ok(ok and th["emissivity"] == 0.9, f"float write 0.9 -> API emissivity {th['emissivity']} (no float noise)", out)
# mbpoll writes 16-bit registers unsigned: -155 is 0xFF65
ok, _, out = tcp(d, "4", addr("holding", "reflected_temperature"), values=[0x10000 - 155])
s, th, _ = d.get("config/thermometry")
t.ok(ok and th["reflected_temperature"] == -15.5, "a two's complement write (0xFF65): reflected temperature -15.5 C", out)
ok, v, out = tcp(d, "4", addr("holding", "reflected_temperature"), 1)
t.ok(ok and v[addr("holding", "reflected_temperature")] == -155, "and it reads back as -155", out)
d.put("config/thermometry", {"reflected_temperature": 20.0})
s, audit, _ = d.get("system/audit-log?type=config")
recs = audit.get("records", []) if s == 200 and isinstance(audit, dict) else []
t.ok(any(r.get("user") == "modbus" and r.get("address") == "127.0.0.1" and "thermometry.emissivity" in r.get("detail", "")
         for r in recs), "the change is in the audit log as user modbus from 127.0.0.1",
     (s, recs[-3:]))

s, before, _ = d.get("config")
for value, kind, what in ((0, "4", "emissivity 0"), (150, "4", "emissivity 1.50"), (1.5, "4:float", "float emissivity 1.5")):
    a = addr("holding", "emissivity" if kind == "4" else "emissivity_float")
    ok, _, out = tcp(d, kind, a, values=[value])
    t.ok(not ok and "Illegal data value" in out, f"{what}: exception 03 illegal data value", out)
ok, _, out = tcp(d, "4", addr("holding", "rule_enabled", 0), values=[2])
t.ok(not ok and "Illegal data value" in out, "rule enable 2: illegal data value", out)
ok, _, out = tcp(d, "0", addr("coil", "rule_enabled", 5), values=[1])
t.ok(not ok and "Illegal data value" in out, "enabling an empty rule slot: illegal data value", out)
s, after, _ = d.get("config")
t.ok(before == after, "after the refused writes the configuration is unchanged")

# rule enable through a coil
ok, _, out = tcp(d, "0", addr("coil", "rule_enabled", 0), values=[0])
s, rr, _ = d.get(f"rules/{motor_id}")
t.ok(ok and s == 200 and rr.get("enabled") is False, "coil rule_enabled[0]=0 disables the motor rule", (out, rr))
time.sleep(0.3)
ok, v, out = read_tcp("3", addr("input", "rule_flags"), 1)
ok2, v2, out2 = read_tcp("3", addr("input", "rule_max", 0), 1)
t.ok(ok and v[addr("input", "rule_flags")] == 0b0001 and v2[addr("input", "rule_max", 0)] == -32768,
     "a disabled rule: flags say exists only, readings are the sentinel", out + out2)
ok, _, out = tcp(d, "4", addr("holding", "rule_enabled", 0), values=[1])
s, rr, _ = d.get(f"rules/{motor_id}")
t.ok(ok and rr.get("enabled") is True, "holding rule_enabled[0]=1 enables it again", (out, rr))
ok, v, out = tcp(d, "0", addr("coil", "rule_enabled", 0), 1)
t.ok(ok and v[addr("coil", "rule_enabled", 0)] == 1, "and the coil reads 1", out)
# a PLC writing the whole block: 0 for an empty slot is accepted, changes nothing
ok, _, out = tcp(d, "4", addr("holding", "rule_enabled", 0), values=[0] * 40)
s, rr, _ = d.get(f"rules/{motor_id}")
t.ok(ok and rr.get("enabled") is False,
     "all 40 holding rule_enabled written, 0 for the empty slots: accepted, the motor disabled", (out, rr))
ca = addr("coil", "rule_enabled", 0)
with socket.create_connection(("127.0.0.1", d.modbus), timeout=3) as sk:
    ans = raw_request(sk, struct.pack(">BHHB", 15, ca, 40, 5) + b"\x01\x00\x00\x00\x00", tid=15)
s, rr, _ = d.get(f"rules/{motor_id}")
t.ok(ans is not None and ans[7:] == struct.pack(">BHH", 15, ca, 40) and rr.get("enabled") is True,
     "write multiple coils (FC15) over the 40 rule_enabled coils: the motor enabled again", (ans, rr))

# ---- exceptions ----
for kind, table in (("3", "input"), ("4", "holding"), ("0", "coil"), ("1", "discrete")):
    size = MAP["tables"][table]["size"]
    ok_last, _, out1 = tcp(d, kind, size - 1)
    ok, _, out = tcp(d, kind, size)
    t.ok(ok_last and not ok and "Illegal data address" in out,
         f"{table}: the last address {size - 1} reads, {size} is an illegal data address", out1 + out)
ok, _, out = tcp(d, "3:float", addr("input", "rule_max_float", 39), count=3)
t.ok(ok, "the last rule slot's floats read", out)
ok, _, out = tcp(d, "4", 3, values=[1])
t.ok(not ok and "Illegal data address" in out, "writing a reserved holding register: illegal data address", out)
ok, _, out = tcp(d, "4", addr("holding", "emissivity_float"), values=[1])
t.ok(not ok and "Illegal data address" in out, "writing half a float pair: illegal data address", out)
ok, _, out = tcp(d, "0", addr("coil", "alarm_output") + 1, values=[1])
s_, io, _ = d.get("io")
on = [o["on"] for o in io["outputs"]] if s_ == 200 else None
base = addr("coil", "alarm_output")
ok2, vals, out2 = tcp(d, "0", base, count=4)
t.ok(ok and on == [False, True, False, False] and [vals.get(base + i) for i in range(4)] == [0, 1, 0, 0],
     "coil alarm_output 2 = 1 triggers output 2 (GET /io and the coils agree)", (out, io, out2))
ok, _, out = tcp(d, "0", addr("coil", "alarm_output") + 1, values=[0])
s_, io, _ = d.get("io")
t.ok(ok and not any(o["on"] for o in io["outputs"]), "coil alarm_output 2 = 0 clears it", (out, io))
# a PLC writing its output image every cycle: the same state does nothing
oa = addr("coil", "alarm_output")
n0 = len(audit_records("system", "alarm output 1 "))
with socket.create_connection(("127.0.0.1", d.modbus), timeout=3) as sk:
    ans = [raw_request(sk, struct.pack(">BHH", 5, oa, 0xFF00), tid=200 + i) for i in range(20)]
    n1 = len(audit_records("system", "alarm output 1 "))
    ans += [raw_request(sk, struct.pack(">BHH", 5, oa, 0), tid=300 + i) for i in range(20)]
    n2 = len(audit_records("system", "alarm output 1 "))
    ans += [raw_request(sk, struct.pack(">BHH", 5, oa, 0), tid=400 + i) for i in range(20)]
    n3 = len(audit_records("system", "alarm output 1 "))
s_, io, _ = d.get("io")
t.ok(all(a is not None and a[7] == 5 for a in ans) and (n1 - n0, n2 - n1, n3 - n2) == (1, 1, 0)
     and not io["outputs"][0]["on"],
     f"20 writes of 1, 20 of 0, 20 more of 0 to alarm output 1: audit records {n1 - n0}, {n2 - n1}, {n3 - n2}",
     (ans[-1], n0, n1, n2, n3))
d.put("io/inputs/3", {"contact": "closed"})
d.put("config/alarm_inputs", {"inputs": [{"id": 1, "name": "Door"}, {"id": 2, "name": "Gate"},
                                         {"id": 3, "name": "Valve", "enabled": True},
                                         {"id": 4, "name": "Pump"}]})
time.sleep(0.3)
base = addr("discrete", "alarm_input")
ok, vals, out = tcp(d, "1", base, count=4)
t.ok(ok and [vals.get(base + i) for i in range(4)] == [0, 0, 1, 0], "discrete alarm_input 3 reads 1 once its NO contact closes", (out, vals))
# a PLC switching on an output an alarm holds: it stays on after the alarm
d.put("io/inputs/3", {"contact": "open"})
d.put("config/alarm_outputs", {"outputs": [{"id": 1}, {"id": 2}, {"id": 3, "delay": 1}, {"id": 4}]})
d.put("config/alarm_inputs", {"inputs": [{"id": 1, "name": "Door"}, {"id": 2, "name": "Gate"},
                                         {"id": 3, "name": "Valve", "enabled": True,
                                          "linkage": {"alarm_outputs": [3]}},
                                         {"id": 4, "name": "Pump"}]})
d.put("io/inputs/3", {"contact": "closed"})
held = wait_for(lambda: d.get("io")[1]["outputs"][2]["on"], 3)
ok, _, out = tcp(d, "0", oa + 2, values=[1])
d.put("io/inputs/3", {"contact": "open"})
time.sleep(2.0)
o3 = d.get("io")[1]["outputs"][2]
ok2, _, out2 = tcp(d, "0", oa + 2, values=[0])
t.ok(held and ok and o3["on"] and o3["manual"] and ok2 and not d.get("io")[1]["outputs"][2]["on"],
     "coil 1 to an output an alarm holds: still on 2 s after the alarm (hold 1 s), 0 clears it",
     (held, out, o3, out2))

sock = socket.create_connection(("127.0.0.1", d.modbus), timeout=3)
for fn, name in ((0x2B, "encapsulated interface (0x2B)"), (0x11, "report server id (0x11)"),
                 (0x07, "read exception status (0x07)"), (0x16, "mask write register (0x16)")):
    ans = raw_request(sock, bytes([fn]) + (b"\x0e\x01\x00" if fn == 0x2B else b""), tid=fn)
    t.ok(ans is not None and len(ans) == 9 and ans[:2] == struct.pack(">H", fn) and ans[7] == fn | 0x80 and ans[8] == 1,
         f"unknown function {name}: exception 01, same transaction id", ans)
ans = raw_request(sock, struct.pack(">BHH", 0x81, 0, 1), tid=0x81)
t.ok(ans is not None and len(ans) == 9 and ans[:2] == b"\x00\x81" and ans[7] == 0x81 and ans[8] == 1,
     "function 0x81 (an answer's shape): exception 01 with function 0x81 (not wrapped to 0x01)", ans)
ans = raw_request(sock, struct.pack(">BHH", 3, 0, 0), tid=40)
t.ok(ans and ans[7:] == b"\x83\x03", "reading 0 registers: exception 03", ans)
ans = raw_request(sock, struct.pack(">BHH", 4, 0, 126), tid=41)
t.ok(ans and ans[7:] == b"\x84\x03", "reading 126 registers: exception 03", ans)
ans = raw_request(sock, struct.pack(">BHH", 4, 60000, 2), tid=42)
t.ok(ans and ans[7:] == b"\x84\x02", "reading at 60000: exception 02", ans)
ans = raw_request(sock, struct.pack(">BHH", 5, 0, 0x1234), tid=43)
t.ok(ans and ans[7:] == b"\x85\x03", "coil value 0x1234: exception 03", ans)
ans = raw_request(sock, struct.pack(">BHHB", 16, 0, 1, 2) + b"\x00\x50\x00", tid=44)
t.ok(ans and ans[7:] == b"\x90\x03", "write multiple with a wrong byte count: exception 03", ans)
# two requests in one segment: two answers, in order
sock.sendall(mbap(50, read_ir_pdu(6, 1)) + mbap(51, read_ir_pdu(7, 1)))
a1, a2 = recv_frame(sock), recv_frame(sock)
t.ok(a1 and a2 and a1[:2] == b"\x00\x32" and a2[:2] == b"\x00\x33" and a1[7] == 4 and a2[7] == 4,
     "pipelined requests are answered in order", (a1, a2))
ans = raw_request(sock, read_ir_pdu(6, 1), tid=52, unit=0xFF)
t.ok(ans and ans[6] == 0xFF and ans[7] == 4, "any unit id is served and echoed over TCP", ans)

# ---- garbage on one connection does not disturb another ----
keep = socket.create_connection(("127.0.0.1", d.modbus), timeout=3)
t.ok(raw_request(keep, read_ir_pdu(0, 4), tid=60)[7] == 4, "a second client is served")
bad = socket.create_connection(("127.0.0.1", d.modbus), timeout=3)
bad.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
t.ok(closed_without_answer(bad), "HTTP on the Modbus port: closed without an answer")
bad.close()
bad = socket.create_connection(("127.0.0.1", d.modbus), timeout=3)
bad.sendall(os.urandom(8192))
t.ok(closed_without_answer(bad), "8 KiB of random bytes: closed")
bad.close()
half = socket.create_connection(("127.0.0.1", d.modbus), timeout=3)
half.sendall(mbap(70, read_ir_pdu(0, 4))[:9])    # a half frame, held
t0 = time.time()
ok, v, out = read_tcp("3", 6, 3)
t.ok(ok and time.time() - t0 < 1.0, f"a half frame on another connection does not delay mbpoll ({(time.time() - t0) * 1000:.0f} ms)", out)
ans = raw_request(keep, read_ir_pdu(6, 3), tid=61)
t.ok(ans and ans[7] == 4 and len(ans) == 9 + 6, "the kept client is still served", ans)
half.sendall(mbap(70, read_ir_pdu(0, 4))[9:])     # the rest: answered
ans = recv_frame(half)
t.ok(ans and ans[:2] == b"\x00\x46" and ans[7] == 4, "the half frame completed later is answered", ans)
half.close()
t.ok(d.alive(), "the daemon survived the garbage")

# ---- a bounded number of clients ----
keep.close()
sock.close()
time.sleep(0.2)
s, m, _ = d.put("config/modbus", {"max_clients": 2})
t.ok(s == 200 and m["max_clients"] == 2, "PUT modbus max_clients=2", (s, m))
c1 = socket.create_connection(("127.0.0.1", d.modbus), timeout=3)
c2 = socket.create_connection(("127.0.0.1", d.modbus), timeout=3)
r1, r2 = raw_request(c1, read_ir_pdu(0, 1), tid=1), raw_request(c2, read_ir_pdu(0, 1), tid=2)
t.ok(r1 and r2 and r1[7] == 4 and r2[7] == 4, "two clients are served", (r1, r2))
c3 = socket.create_connection(("127.0.0.1", d.modbus), timeout=3)
try:
    c3.sendall(mbap(3, read_ir_pdu(0, 1)))
except OSError:
    pass
t.ok(closed_without_answer(c3), "a third client is refused (closed without an answer)")
c3.close()
ok, _, out = read_tcp("3", 0, 1)
t.ok(not ok, "mbpoll as a third client fails too", out)
r1, r2 = raw_request(c1, read_ir_pdu(0, 1), tid=4), raw_request(c2, read_ir_pdu(0, 1), tid=5)
t.ok(r1 and r2 and r1[7] == 4 and r2[7] == 4, "the first two still work", (r1, r2))
# idle clients make room: c1 silent 3.3 s, c2 asked 1.3 s ago
time.sleep(2.0)
r2 = raw_request(c2, read_ir_pdu(0, 1), tid=6)
time.sleep(1.3)
c3 = socket.create_connection(("127.0.0.1", d.modbus), timeout=3)
r3 = raw_request(c3, read_ir_pdu(0, 1), tid=7)
t.ok(r2 and r3 and r3[7] == 4, "all slots taken: a new client replaces the one idle 3 s and more", (r2, r3))
t.ok(closed_now(c1, read_ir_pdu(0, 1)), "the idle one was closed")
r2 = raw_request(c2, read_ir_pdu(0, 1), tid=8)
t.ok(r2 and r2[7] == 4, "the active one is still served", r2)
c1.close()
c2.close()
time.sleep(0.2)
ok, _, out = read_tcp("3", 0, 1)
t.ok(ok, "a slot freed: mbpoll is served again", out)
c3.close()
s, m, _ = d.put("config/modbus", {"idle_timeout_s": 2})
t.ok(s == 200 and m["idle_timeout_s"] == 2, "PUT modbus idle_timeout_s=2", (s, m))
c4 = socket.create_connection(("127.0.0.1", d.modbus), timeout=3)
r4 = raw_request(c4, read_ir_pdu(0, 1), tid=9)
t0 = time.time()
gone = closed_without_answer(c4, timeout=4)
t.ok(r4 and gone and 1.5 < time.time() - t0 < 3.5,
     f"a client silent for 2 s is closed ({time.time() - t0:.1f} s)", r4)
c4.close()
d.put("config/modbus", {"max_clients": 4, "idle_timeout_s": 60})

# ---- the IP filter ----
def from_2():
    sk = socket.socket()
    sk.bind(("127.0.0.2", 0))
    sk.settimeout(3)
    sk.connect(("127.0.0.1", d.modbus))
    return sk


early = from_2()
ans = raw_request(early, read_ir_pdu(0, 1), tid=10)
t.ok(ans and ans[7] == 4, "a client from 127.0.0.2 reads", ans)
s, th0, _ = d.get("config/thermometry")
s, sec, _ = d.put("config/security", {"ip_filter": {"enabled": True, "mode": "deny", "addresses": ["127.0.0.2"]}})
t.ok(s == 200, "PUT security ip_filter deny 127.0.0.2", (s, sec))
e = addr("holding", "emissivity")
gone = closed_now(early, struct.pack(">BHH", 6, e, 70 if th0["emissivity"] != 0.7 else 71))
s, th1, _ = d.get("config/thermometry")
t.ok(gone and th1["emissivity"] == th0["emissivity"],
     "its open connection is closed without an answer to its next request (a write), nothing changed",
     (gone, th0["emissivity"], th1["emissivity"]))
early.close()
denied = socket.socket()
denied.bind(("127.0.0.2", 0))
denied.settimeout(3)
denied.connect(("127.0.0.1", d.modbus))
try:
    denied.sendall(mbap(9, read_ir_pdu(0, 1)))
except OSError:
    pass
t.ok(closed_without_answer(denied), "a client from 127.0.0.2 is closed without an answer")
denied.close()
ok, _, out = read_tcp("3", 0, 1)
t.ok(ok, "127.0.0.1 is still served", out)
s, sec, _ = d.put("config/security", {"ip_filter": {"enabled": False, "addresses": []}})
t.ok(s == 200, "the filter off again", (s, sec))
# the illegal-login lock engaging (failed web logins) closes at the next request
late = from_2()
ans = raw_request(late, read_ir_pdu(0, 1), tid=11)
for _ in range(6):
    d.get("system/diagnostics", password="wrong", source="127.0.0.2")
t.ok(ans and ans[7] == 4 and closed_now(late, read_ir_pdu(0, 1)),
     "a client from 127.0.0.2 reads; once web logins from there lock it, its next request closes it", ans)
late.close()

# ---- FFC coil ----
ok, _, out = tcp(d, "0", addr("coil", "ffc"), values=[1])
s, audit, _ = d.get("system/audit-log?type=system")
recs = audit.get("records", []) if s == 200 and isinstance(audit, dict) else []
t.ok(ok and any(r.get("user") == "modbus" and "flat-field" in r.get("detail", "") for r in recs),
     "coil ffc=1 runs a flat-field correction (audit log: system, modbus)", (out, s, recs[-3:]))
ok, v, out = tcp(d, "0", addr("coil", "ffc"), 1)
t.ok(ok and v[addr("coil", "ffc")] == 0, "the ffc coil reads 0 again", out)
n0 = len(audit_records("system", "flat-field"))
ok, _, out = tcp(d, "0", addr("coil", "ffc"), values=[1])
t.ok(ok and len(audit_records("system", "flat-field")) == n0,
     "a second ffc=1 within 5 s is answered but not repeated (no audit record)", out)
# one rate limit whoever asks (the commands are shared): the web's request
# right after is answered but not repeated either; after 5 s it runs
s, j, _ = d.post("system/ffc")
t.ok(s == 202 and j.get("correcting") is False and 0 < j.get("retry_after_s", 0) <= 5
     and len(audit_records("system", "flat-field")) == n0,
     "POST /system/ffc within 5 s of Modbus's: 202, correcting false with retry_after_s, "
     "not repeated", (s, j))
time.sleep(5.2)
s, j, _ = d.post("system/ffc")
recs = audit_records("system", "flat-field")
t.ok(s == 202 and j.get("correcting") is True and len(recs) == n0 + 1
     and recs[-1].get("user") == "admin",
     "5 s later it runs, audited with the same text as the web's user", (s, recs[-2:]))

# ---- writes disabled ----
d.put("config/modbus", {"write_enabled": False})
ok, _, out = tcp(d, "4", addr("holding", "emissivity"), values=[90])
t.ok(not ok and "Illegal function" in out, "write_enabled=false: writes answer exception 01", out)
ok, v, out = read_tcp("3", 0, 1)
t.ok(ok and not v[0] & (1 << bits["writes_enabled"]), "and the status word says so", out)
d.put("config/modbus", {"write_enabled": True})

# ---- RTU over a pseudo-terminal pair ----
tmp = tempfile.mkdtemp(prefix="tcd-rtu-")
socat = subprocess.Popen(["socat", "-d", "-d", f"pty,raw,echo=0,link={tmp}/a",
                          f"pty,raw,echo=0,link={tmp}/b"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(50):
    if os.path.exists(f"{tmp}/a") and os.path.exists(f"{tmp}/b"):
        break
    time.sleep(0.1)
# the schema wants a /dev path: the pty itself, not the link
dev_a, dev_b = os.path.realpath(f"{tmp}/a"), os.path.realpath(f"{tmp}/b")
t.ok(dev_a.startswith("/dev/pts/"), f"socat made a pty pair {dev_a} <-> {dev_b}")
SLAVE = 17
s, rs, _ = d.put("config/rs485", {"enabled": True, "device": dev_a, "baud_rate": 19200,
                                  "parity": "even", "data_bits": 8, "stop_bits": 1,
                                  "address": SLAVE, "crc_order": "low_first"})
t.ok(s == 200 and rs["device"] == dev_a, "PUT rs485: enabled on the daemon's pty, 19200 8E1, address 17", (s, rs))
time.sleep(0.3)


def rtu(kind, ref, count=1, values=None, slave=SLAVE, big=True, timeout="1"):
    args = ["-m", "rtu", "-b", "19200", "-P", "even", "-a", str(slave), "-t", kind,
            "-r", str(ref), "-o", timeout]
    if values is None:
        args += ["-c", str(count)]
    if big:
        args.append("-B")
    return mbpoll(args + [dev_b], values)


def rtu_scene():
    a = addr("input", "scene_max")
    ok, v, out = rtu("3", a, 3)
    if not ok:
        return None
    return {scene("max"): v[a] / 10, scene("min"): v[a + 1] / 10, scene("avg"): v[a + 2] / 10}


good, detail = compare(rtu_scene)
t.ok(good, "RTU: mbpoll reads the scene max/min/avg, in agreement with the API", detail)
ok, v, out = rtu("3:float", addr("input", "scene_max_float"), 1)
t.ok(ok and 80 < v.get(addr("input", "scene_max_float"), 0) < 95, "RTU: the scene max as a float", out)
ok, _, out = rtu("4", addr("holding", "emissivity"), values=[85])
s, th, _ = d.get("config/thermometry")
t.ok(ok and th["emissivity"] == 0.85, "RTU: a holding register write sets emissivity 0.85", (out, th))
t.ok(audit_records("config", "modbus-rtu: thermometry.emissivity"), "RTU: audited as modbus-rtu")
ok, _, out = rtu("4", addr("holding", "emissivity"), values=[0])
s, th, _ = d.get("config/thermometry")
t.ok(not ok and "Illegal data value" in out and th["emissivity"] == 0.85,
     "RTU: emissivity 0: exception 03, nothing changed", (out, th))
ok, _, out = rtu("3", MAP["tables"]["input"]["size"])
t.ok(not ok and "Illegal data address" in out, "RTU: beyond the map: illegal data address", out)
ok, _, out = rtu("3", 0, slave=SLAVE + 1, timeout="0.3")
t.ok(not ok and "Illegal" not in out, "RTU: another slave address gets no answer", out)


def rtu_raw(frame, wait=1.0):
    fd = os.open(dev_b, os.O_RDWR | os.O_NOCTTY)
    try:
        tty.setraw(fd)
        os.write(fd, frame)
        buf = b""
        end = time.time() + wait
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                buf += os.read(fd, 256)
            elif buf:
                break
        return buf
    finally:
        os.close(fd)


def with_crc(pdu, high_first):
    c = crc16(pdu)
    return pdu + (bytes([c >> 8, c & 0xFF]) if high_first else bytes([c & 0xFF, c >> 8]))


req = bytes([SLAVE]) + read_ir_pdu(addr("input", "scene_max"), 1)
ans = rtu_raw(with_crc(req, False))
t.ok(len(ans) == 7 and ans == with_crc(ans[:-2], False), "RTU low_first: a hand-built frame is answered with the standard CRC", ans.hex())
ans = rtu_raw(with_crc(bytes([SLAVE, 0x2B, 0x0E, 0x01, 0x00]), False))
t.ok(ans[:3] == bytes([SLAVE, 0xAB, 0x01]), "RTU: an unknown function gets exception 01", ans.hex())
ans = rtu_raw(b"\x11\x04\x00\x06\x00\x01\x00\x00")
t.ok(ans == b"", "RTU: a frame with a bad CRC is dropped (no answer)", ans.hex())
ea = addr("holding", "emissivity")
ans = rtu_raw(with_crc(bytes([0, 6]) + struct.pack(">HH", ea, 88), False), wait=0.5)
s, th, _ = d.get("config/thermometry")
t.ok(ans == b"" and th["emissivity"] == 0.88, "RTU: a broadcast (address 0) FC06 emissivity=88: no answer, carried out",
     (ans.hex(), th))


def diag_dropped():
    return d.get("system/diagnostics")[1]["modbus"]["dropped_frames"]


def rtu_echo(frame, delay=0.01, then=None, size=None):
    """sends frame, reads its answer (size bytes), sends then (default: the
    answer, as an echo) after delay: (answer, what came after)"""
    fd = os.open(dev_b, os.O_RDWR | os.O_NOCTTY)
    try:
        tty.setraw(fd)
        os.write(fd, frame)
        ans, end = b"", time.time() + 1.0
        while len(ans) < (size or len(frame)) and time.time() < end:
            if select.select([fd], [], [], 0.05)[0]:
                ans += os.read(fd, 256)
        time.sleep(delay)
        os.write(fd, ans if then is None else then)
        more, end = b"", time.time() + 0.5
        while time.time() < end:
            if select.select([fd], [], [], 0.05)[0]:
                more += os.read(fd, 256)
        return ans, more
    finally:
        os.close(fd)


# a 2-wire line that hears our own answer: a write's answer is the request
wreq = with_crc(bytes([SLAVE, 6]) + struct.pack(">HH", ea, 86), False)
ans, more = rtu_echo(wreq)
t.ok(ans == wreq and more == wreq,
     "RTU: on a line that never echoed, the same FC06 write again 10 ms after its answer is a "
     "request and answered", (ans.hex(), more.hex()))
ans, more = rtu_echo(wreq, delay=0)
t.ok(ans == wreq and more == b"", "RTU: the echo right away (while our answer is on the line) is dropped",
     (ans.hex(), more.hex()))
n0 = diag_dropped()
ans, more = rtu_echo(wreq)
t.ok(ans == wreq and more == b"" and diag_dropped() == n0 + 1,
     "RTU: on a line that has echoed, our own answer (an FC06 echo) sent back 10 ms later is "
     "dropped, not answered", (ans.hex(), more.hex()))
ans = rtu_raw(wreq)
t.ok(ans == wreq, "RTU: the same write 0.5 s later is a request and answered", ans.hex())
rreq = with_crc(bytes([SLAVE]) + read_ir_pdu(addr("input", "scene_max"), 1), False)
ans, more = rtu_echo(rreq, delay=0, then=rreq, size=7)
t.ok(len(ans) == 7 and len(more) == 7 and more[:3] == bytes([SLAVE, 4, 2]),
     "RTU: a master's next request right after our answer (same address and function) is served",
     (ans.hex(), more.hex()))
n0 = diag_dropped()
ans = rtu_raw(with_crc(bytes([SLAVE, 0x84, 0x02]), False), wait=0.5)
t.ok(ans == b"" and diag_dropped() == n0 + 1, "RTU: a function >= 0x80 (an exception's shape) is dropped, no answer",
     ans.hex())
ans = rtu_raw(os.urandom(300) + b"", wait=0.5)
ok, _, out = rtu("3", 0, 1)
t.ok(ok, "RTU: after 300 bytes of noise the next request is served", out)

s, rs, _ = d.put("config/rs485", {"crc_order": "high_first"})
t.ok(s == 200 and rs["crc_order"] == "high_first", "PUT rs485 crc_order=high_first", (s, rs))
time.sleep(0.2)
ok, _, out = rtu("3", addr("input", "scene_max"), 1)
t.ok(not ok and "Invalid CRC" in out, "high_first: standard mbpoll now fails with a CRC error", out)
ans = rtu_raw(with_crc(req, True))
val = struct.unpack(">h", ans[3:5])[0] / 10 if len(ans) == 7 else None
s, temps, _ = d.get("temperatures")
t.ok(len(ans) == 7 and ans == with_crc(ans[:-2], True) and ans[:3] == bytes([SLAVE, 4, 2])
     and abs(val - temps["scene"]["max"]) < 0.5,
     f"high_first: a frame with swapped CRC gets the scene max ({val}) with the CRC high byte first", ans.hex())
ans = rtu_raw(with_crc(req, False))
t.ok(len(ans) == 7 and ans == with_crc(ans[:-2], True), "high_first: a standard-CRC request is answered in the configured order", ans.hex())

# ---- ASCII on the same line: pymodbus as the master ----
s, rs, _ = d.put("config/rs485", {"protocol": "modbus-rtu", "data_bits": 7})
s2, rs2, _ = d.get("config/rs485")
t.ok(s == 400 and rs["error"].get("field") == "rs485.data_bits" and rs2["data_bits"] == 8,
     "modbus-rtu with 7 data bits is refused (field named), nothing changed", (s, rs, rs2))
s, rs, _ = d.put("config/rs485", {"protocol": "modbus-ascii", "data_bits": 7,
                                  "baud_rate": 9600, "parity": "even"})
t.ok(s == 200 and rs["protocol"] == "modbus-ascii", "PUT rs485 protocol=modbus-ascii, 9600 7E1", (s, rs))
time.sleep(0.3)
s, diag, _ = d.get("system/diagnostics")
t.ok(s == 200 and diag["modbus"]["rtu"]["protocol"] == "modbus-ascii" and diag["modbus"]["rtu"]["open"],
     "diagnostics: the serial line is open in ASCII", diag.get("modbus") if s == 200 else s)

from pymodbus.client import ModbusSerialClient  # noqa: E402
from pymodbus.framer.ascii_framer import ModbusAsciiFramer  # noqa: E402

master = ModbusSerialClient(port=dev_b, framer=ModbusAsciiFramer, baudrate=9600, bytesize=7,
                            parity="E", stopbits=1, timeout=1, retries=0)
t.ok(master.connect(), "pymodbus ASCII master opens the other end of the pty")


def ascii_scene():
    a = addr("input", "scene_max")
    r = master.read_input_registers(a, 3, slave=SLAVE)
    if r.isError():
        return None
    v = [struct.unpack(">h", struct.pack(">H", x))[0] / 10 for x in r.registers]
    return {scene("max"): v[0], scene("min"): v[1], scene("avg"): v[2]}


good, detail = compare(ascii_scene)
t.ok(good, "ASCII: pymodbus reads the scene max/min/avg, in agreement with the API", detail)
r = master.read_input_registers(addr("input", "scene_max_float"), 2, slave=SLAVE)
fv = struct.unpack(">f", struct.pack(">HH", *r.registers))[0] if not r.isError() else None
t.ok(fv is not None and 80 < fv < 95, f"ASCII: the scene max as a float ({fv})", r)
r = master.write_register(addr("holding", "emissivity"), 92, slave=SLAVE)
s, th, _ = d.get("config/thermometry")
t.ok(not r.isError() and th["emissivity"] == 0.92, "ASCII: a holding register write sets emissivity 0.92", (r, th))
t.ok(audit_records("config", "modbus-ascii: thermometry.emissivity"), "ASCII: audited as modbus-ascii (not modbus-rtu)")
r = master.write_register(addr("holding", "emissivity"), 0, slave=SLAVE)
s, th, _ = d.get("config/thermometry")
t.ok(r.isError() and getattr(r, "exception_code", None) == 3 and th["emissivity"] == 0.92,
     "ASCII: emissivity 0 gets exception 03, nothing changed", (r, th))
r = master.read_input_registers(MAP["tables"]["input"]["size"], 1, slave=SLAVE)
t.ok(r.isError() and getattr(r, "exception_code", None) == 2, "ASCII: beyond the map: exception 02", r)
master.close()


def lrc(data):
    return (-sum(data)) & 0xFF


def ascii_frame(body, lower=False):
    text = (body + bytes([lrc(body)])).hex()
    return b":" + (text if lower else text.upper()).encode() + b"\r\n"


def parse_ascii(ans):
    """the bytes of an ASCII answer whose LRC is right, else None"""
    m = re.fullmatch(rb":([0-9A-F]+)\r\n", ans)
    if not m or len(m.group(1)) % 2:
        return None
    b = bytes.fromhex(m.group(1).decode())
    return b[:-1] if lrc(b[:-1]) == b[-1] else None


def dropped():
    return d.get("system/diagnostics")[1]["modbus"]["dropped_frames"]


req = bytes([SLAVE]) + read_ir_pdu(addr("input", "scene_max"), 2)
ans = rtu_raw(ascii_frame(req, lower=True))
body = parse_ascii(ans)
t.ok(body is not None and body[:3] == bytes([SLAVE, 4, 4]),
     "ASCII: a lower-case frame is answered in upper case with a correct LRC", ans)
n0 = dropped()
bad = bytearray(ascii_frame(req))
bad[-3:-2] = b"0" if bad[-3:-2] != b"0" else b"1"
ans = rtu_raw(bytes(bad), wait=0.6)
t.ok(ans == b"" and dropped() == n0 + 1, "ASCII: a bad LRC is dropped and counted, no answer", (ans, dropped()))
ans = rtu_raw(ascii_frame(bytes([SLAVE + 1]) + read_ir_pdu(0, 1)), wait=0.6)
t.ok(ans == b"", "ASCII: another slave's frame gets no answer", ans)
ans = rtu_raw(b":" + req.hex().upper().encode()[:6], wait=1.5)
n1 = dropped()
ans2 = rtu_raw(ascii_frame(req))
t.ok(ans == b"" and n1 == n0 + 2 and parse_ascii(ans2) is not None,
     "ASCII: a half frame is dropped after 1 s, the next frame is served", (ans, n1, ans2))
ans = rtu_raw(b":11zz\r\n" + os.urandom(200) + ascii_frame(req), wait=1.0)
t.ok(parse_ascii(ans) is not None, "ASCII: after bad hex and noise, a frame that starts with ':' is served", ans)
ans = rtu_raw(ascii_frame(bytes([SLAVE, 0x2B, 0x0E, 0x01, 0x00])))
t.ok(parse_ascii(ans) == bytes([SLAVE, 0xAB, 0x01]), "ASCII: an unknown function gets exception 01", ans)
s, rs, _ = d.put("config/rs485", {"protocol": "modbus-rtu", "data_bits": 8, "baud_rate": 19200,
                                  "crc_order": "low_first"})
time.sleep(0.3)
ok, _, out = rtu("3", addr("input", "scene_max"), 1)
t.ok(s == 200 and ok, "back to RTU: mbpoll is served again", (s, rs, out))

s, rs, _ = d.put("config/rs485", {"enabled": False})
t.ok(s == 200, "RTU off", (s, rs))
ok, _, out = rtu("3", 0, 1, timeout="0.3")
t.ok(not ok, "and nothing answers on the line", out)

# ---- a busy port: the daemon starts all the same and retries the bind ----
busy = socket.socket()
busy.bind(("0.0.0.0", 0))
busy.listen(1)
bport = busy.getsockname()[1]
d2 = Daemon(modbus_port=bport).start()
t.ok(d2.modbus == 0, f"a second daemon on a busy Modbus port ({bport}) starts (ready, modbus=0)", d2.lines[-3:])
s, _, _ = d2.activate()
s, diag, _ = d2.get("system/diagnostics")
terr = diag["modbus"]["tcp"].get("error") if s == 200 else None
t.ok(s == 200 and terr and str(bport) in terr, f"its HTTP works; diagnostics modbus.tcp.error: {terr}",
     diag.get("modbus") if s == 200 else s)
s, mc, _ = d2.get("config/modbus")
t.ok(s == 200 and mc["write_enabled"] is False and mc["idle_timeout_s"] == 60,
     "defaults: write_enabled false, idle_timeout_s 60", mc)
busy.close()
t0 = time.time()
while True:
    ok, _, out = tcp(d2, "3", 0, 1, port=bport)
    if ok or time.time() - t0 > 6:
        break
    time.sleep(0.3)
t.ok(ok, f"the port freed: mbpoll reads over it {time.time() - t0:.1f} s later", out)
s, diag, _ = d2.get("system/diagnostics")
t.ok(s == 200 and diag["modbus"]["tcp"]["port"] == bport and diag["modbus"]["tcp"]["error"] is None,
     "diagnostics: listening on it, no error", diag.get("modbus") if s == 200 else s)
ok, _, out = tcp(d2, "4", addr("holding", "emissivity"), values=[90], port=bport)
ok2, v, out2 = tcp(d2, "3", addr("input", "status"), 1, port=bport)
t.ok(not ok and "Illegal function" in out and ok2 and not v[0] & (1 << bits["writes_enabled"]),
     "writes are off by default: exception 01, the status word says so", out + out2)
t.ok(d2.stop() == 0, "the second daemon stops cleanly")

# ---- the end ----
ok, _, out = read_tcp("3", 0, 1)
t.ok(ok, "TCP still serves after all of it", out)
rc = d.stop()
socat.terminate()
socat.wait()
shutil.rmtree(tmp, ignore_errors=True)
crit = [l for l in d.lines if "CRITICAL" in l or "WARNING" in l]
t.ok(rc == 0, "SIGTERM: clean exit", (rc, d.lines[-5:]))
t.ok(not crit, "no GLib warnings or criticals", "\n".join(crit))
t.ok(time.time() - START < 90, f"the test took {time.time() - START:.1f} s")
t.done()
