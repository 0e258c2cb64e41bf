#!/usr/bin/python3
"""thermocamd end to end: SNMP with net-snmp's own tools on loopback.

snmpwalk and snmpget v2c and v3 (authPriv, SHA/AES) read the device and a
rule's maximum temperature, which agrees with GET /temperatures within
0.1 degrees; a wrong community, a wrong v3 key, a v3 request below the
user's level, v1 while it is off: no answer; snmpset with the write
community renames the device through the change path (audited), with the
read community it is refused; snmptrapd (started here on a free port with
its own configuration) receives a v2c trap and a v3 inform when a rule's
alarm starts and when it stops (the linkage's snmp_trap); the secrets are
write-only; switched off, the agent answers no more."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap, wait_for  # noqa: E402

t = Tap()
for tool in ("snmpget", "snmpwalk", "snmpset", "snmptrapd"):
    if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
        t.ok(False, f"{tool} is installed (scripts/setup.sh installs snmp and snmptrapd)")
        t.done()

ROOT = ".1.3.6.1.4.1.32473.42"
READ, WRITE, TRAPC = "camRead#1", "camWrite#2", "trapComm"
AUTH, PRIV = "AuthPass#123", "PrivPass#456"
tmp = tempfile.mkdtemp(prefix="thermocam-snmp-")
# the tools read no host configuration and load no MIB (they answer by OID)
ENV = dict(os.environ, MIBS="", SNMPCONFPATH=tmp, SNMP_PERSISTENT_DIR=tmp, MIBDIRS=tmp)


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def snmp(tool, port, *args, version="2c", community=READ, user=None, level="authPriv",
         auth=AUTH, priv=PRIV):
    """(returncode, stdout) of a net-snmp tool, 1 s and one retry at most"""
    cmd = [tool, "-On", "-t", "1", "-r", "1"]
    if version == "3":
        cmd += ["-v3", "-u", user, "-l", level, "-a", "SHA", "-A", auth]
        if level == "authPriv":
            cmd += ["-x", "AES", "-X", priv]
    else:
        cmd += [f"-v{version}", "-c", community]
    cmd += [f"127.0.0.1:{port}", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=30)
    return r.returncode, r.stdout + r.stderr


def value(out, oid):
    """the value printed for @oid ('.1.3...' = TYPE: v)"""
    for line in out.splitlines():
        if line.startswith(oid + " = "):
            v = line.split(" = ", 1)[1]
            v = v.split(": ", 1)[1] if ": " in v else v
            return v.strip('"')
    return None


def mib_objects():
    """{OID: (name, MAX-ACCESS)} of schemas/THERMOCAM-MIB.txt's OBJECT-TYPEs, their
    OIDs worked out from its own assignments (no SMI parser needed)"""
    import re
    src = open(os.path.join(os.path.dirname(__file__), "..", "..", "schemas",
                            "THERMOCAM-MIB.txt")).read()
    src = re.sub(r"--[^\n]*", "", src)
    src = src[src.index(";", src.index("IMPORTS")) + 1:]     # the definitions
    oids = {"enterprises": ".1.3.6.1.4.1"}
    found = {}
    for m in re.finditer(r"(\w+)\s+(OBJECT IDENTIFIER|OBJECT-TYPE|MODULE-IDENTITY|"
                         r"NOTIFICATION-TYPE|OBJECT-GROUP|NOTIFICATION-GROUP|MODULE-COMPLIANCE)"
                         r"(.*?)::=\s*\{\s*(\w+)\s+([\d\s]+)\}", src, re.S):
        name, kind, body, parent, arcs = m.groups()
        if parent in oids:
            oids[name] = oids[parent] + "".join("." + a for a in arcs.split())
            if kind == "OBJECT-TYPE":
                acc = re.search(r"MAX-ACCESS\s+([\w-]+)", body)
                found[oids[name]] = (name, acc.group(1) if acc else None)
    return oids, found


class TrapReceiver:
    """snmptrapd in the foreground on a free port; v2c community TRAPC, v3 user ops
    (informs: the receiver is the authoritative engine)"""

    def __init__(self):
        self.port = free_udp_port()
        self.lines = []
        conf = os.path.join(tmp, "snmptrapd.conf")
        with open(conf, "w") as f:
            f.write(f"authCommunity log {TRAPC}\n"
                    f"createUser ops SHA {AUTH} AES {PRIV}\n"
                    "authUser log ops priv\n")
        self.proc = subprocess.Popen(
            [shutil.which("snmptrapd") or "/usr/sbin/snmptrapd", "-f", "-Lo", "-On", "-C",
             "-F", "NOTIFICATION %P: %v\n",
             "-c", conf, "-p", os.path.join(tmp, "snmptrapd.pid"), f"udp:127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
        threading.Thread(target=self._read, daemon=True).start()
        wait_for(lambda: any("NET-SNMP version" in x for x in self.lines), 10)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def count(self, text):
        return sum(text in x for x in self.lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


d = Daemon(extra=["--snmp-port", "0"])
trapd = None
try:
    d.start()
    d.activate()
    d.wait_frames()
    trapd = TrapReceiver()
    t.ok(trapd.proc.poll() is None and any("NET-SNMP version" in x for x in trapd.lines),
         f"snmptrapd runs on UDP port {trapd.port}", trapd.lines[-5:])

    motor = {"name": "motor", "type": "polygon",
             "points": [[0.45, 0.63], [0.57, 0.63], [0.57, 0.81], [0.45, 0.81]],
             "alarm": {"enabled": True, "on": "max", "pre_alarm": 150, "alarm": 200}}
    s, rule, _ = d.post("rules", motor)
    rid = rule["id"]

    # ---- settings: refusals name the field, nothing changed
    s, bad, _ = d.put("config/snmp", {"v3": True, "users": [{"name": "ops", "auth_password": "short"}]})
    s2, bad2, _ = d.put("config/snmp", {"v3": True, "users": [
        {"name": "ops", "auth_password": AUTH}]})
    s3, bad3, _ = d.put("config/snmp", {"v2c": True, "trap_receivers": [
        {"address": "127.0.0.1", "version": "v3", "user": "nobody"}]})
    fields = [(x or {}).get("error", {}).get("field") for x in (bad, bad2, bad3)]
    t.ok([s, s2, s3] == [400, 400, 400] and fields[1] == "snmp.users.0"
         and fields[2] == "snmp.trap_receivers.0" and (fields[0] or "").startswith("snmp.users")
         and d.get("config/snmp")[1]["v3"] is False,
         "a short password, auth_priv without a privacy password, a v3 receiver naming no "
         "user: 400 at their fields, nothing changed", (s, s2, s3, fields))

    s, view, _ = d.put("config/snmp", {
        "v1": True, "v2c": True, "v3": True, "read_community": READ, "write_community": WRITE,
        "contact": "ops@plant", "location": "hall 3",
        "users": [{"name": "ops", "access": "read", "level": "auth_priv", "auth_protocol": "SHA",
                   "auth_password": AUTH, "priv_protocol": "AES", "priv_password": PRIV}],
        "trap_receivers": [
            {"address": "127.0.0.1", "port": trapd.port, "version": "v2c", "community": TRAPC},
            {"address": "127.0.0.1", "port": trapd.port, "version": "v1", "community": TRAPC},
            {"address": "127.0.0.1", "port": trapd.port, "version": "v3", "user": "ops",
             "inform": True}]})
    text = str(view)
    t.ok(s == 200 and READ not in text and WRITE not in text and AUTH not in text
         and PRIV not in text and TRAPC not in text and view["users"][0]["name"] == "ops",
         "SNMP v2c and v3 on; the answer shows no community and no password", view)
    s, ports, _ = d.get("config/ports")
    port = ports["in_use"]["snmp"]
    t.ok(s == 200 and port > 0, f"the agent listens on UDP port {port} (ports.in_use.snmp)", ports)

    # ---- reads
    rc, out = snmp("snmpwalk", port, ".1.3.6.1")
    serial = value(out, ROOT + ".1.1.3.0")
    t.ok(rc == 0 and value(out, ".1.3.6.1.2.1.1.5.0") == "Thermal Camera"
         and value(out, ".1.3.6.1.2.1.1.2.0") == ROOT and value(out, ".1.3.6.1.2.1.1.6.0") == "hall 3"
         and value(out, ".1.3.6.1.2.1.1.4.0") == "ops@plant" and serial and serial.startswith("TC")
         and value(out, ROOT + f".1.3.1.1.2.{rid}") == "motor"
         and value(out, ROOT + f".1.3.1.1.3.{rid}") == "1",
         "snmpwalk v2c: the system group (sysName the device's name, sysObjectID the MIB's, "
         "contact and location) and THERMOCAM-MIB (serial, the rule's row)", out)

    oids, objects = mib_objects()
    served = [line.split(" = ")[0] for line in out.splitlines() if line.startswith(ROOT + ".")]
    unknown = [o for o in served if not any(
        o.startswith(k + ".") and acc in ("read-only", "read-write")
        and (o[len(k) + 1:] == "0" or k.rsplit(".", 1)[0].endswith(".1.3.1.1"))
        for k, (n, acc) in objects.items())]
    t.ok(oids.get("thermocamMIB") == ROOT and len(served) > 15 and not unknown,
         f"every one of the {len(served)} objects served is an object of schemas/THERMOCAM-MIB.txt "
         "(scalars .0, rule columns by id)", unknown)
    if os.path.exists("/usr/share/snmp/mibs/ietf/SNMPv2-SMI") or os.path.exists(
            "/usr/share/snmp/mibs/SNMPv2-SMI.txt"):
        r = subprocess.run(["snmptranslate", "-M", "+" + os.path.join(os.path.dirname(__file__), "..",
                            "..", "schemas"), "-m", "+THERMOCAM-MIB", "-On",
                            "THERMOCAM-MIB::tcRuleMax"], capture_output=True, text=True,
                           env=dict(os.environ, MIBS="", SNMPCONFPATH=tmp), timeout=20)
        t.ok(r.stdout.strip() == ROOT + ".1.3.1.1.4", "snmptranslate -m +THERMOCAM-MIB loads it",
             r.stdout + r.stderr)
    else:
        print("# snmptranslate not tried: SNMPv2-SMI is not installed (Debian ships the IETF MIBs "
              "in snmp-mibs-downloader, non-free)")

    def agree(args):
        """a rule's max over SNMP between two API readings (within 0.1 degrees)"""
        a = d.get("temperatures")[1]
        rc, out = snmp("snmpget", port, ROOT + f".1.3.1.1.4.{rid}", ROOT + ".1.2.1.0", **args)
        b = d.get("temperatures")[1]
        got = value(out, ROOT + f".1.3.1.1.4.{rid}")
        scene = value(out, ROOT + ".1.2.1.0")

        def rmax(x):
            return next(r["max"] for r in x["rules"] if r["id"] == rid)
        ok = (rc == 0 and got is not None and scene is not None
              and min(rmax(a), rmax(b)) - 0.1 <= int(got) / 10 <= max(rmax(a), rmax(b)) + 0.1
              and min(a["scene"]["max"], b["scene"]["max"]) - 0.1 <= int(scene) / 10
              <= max(a["scene"]["max"], b["scene"]["max"]) + 0.1)
        return ok, (rc, out, rmax(a), rmax(b), a["scene"], b["scene"])

    ok, detail = agree({})
    t.ok(ok, "snmpget v2c: the rule's and the scene's max agree with GET /temperatures "
         "(tenths of a degree, within 0.1)", detail)
    ok, detail = agree({"version": "3", "user": "ops"})
    t.ok(ok, "snmpget v3 authPriv (SHA, AES): the same", detail)

    # ---- what gets nothing
    rc, out = snmp("snmpget", port, ".1.3.6.1.2.1.1.5.0", community="wrong")
    t.ok(rc != 0 and "Timeout" in out, "a wrong community: no answer", out)
    rc, out = snmp("snmpget", port, ".1.3.6.1.2.1.1.5.0", version="3", user="ops", priv="WrongKey#99")
    t.ok(rc != 0 and "Thermal Camera" not in out, "a wrong v3 privacy key: nothing", out)
    rc, out = snmp("snmpget", port, ".1.3.6.1.2.1.1.5.0", version="3", user="ops", auth="WrongKey#99")
    t.ok(rc != 0 and "Thermal Camera" not in out, "a wrong v3 authentication key: nothing", out)
    rc, out = snmp("snmpget", port, ".1.3.6.1.2.1.1.5.0", version="3", user="ops",
                   level="authNoPriv")
    t.ok(rc != 0 and "Thermal Camera" not in out,
         "v3 without privacy for a user at auth_priv: refused", out)
    rc, out = snmp("snmpget", port, ".1.3.6.1.2.1.1.5.0", version="1")
    t.ok(rc == 0 and "Thermal Camera" in out, "v1 (on) with the read community: answered", out)

    # ---- writes
    rc, out = snmp("snmpset", port, ROOT + ".1.1.1.0", "s", "Kiln 2", community=READ)
    t.ok(rc != 0 and d.get("config/device")[1]["name"] == "Thermal Camera",
         "snmpset with the read community: refused, nothing changed", out)
    rc, out = snmp("snmpset", port, ROOT + ".1.1.1.0", "s", "Kiln 2", community=WRITE)
    t.ok(rc == 0 and d.get("config/device")[1]["name"] == "Kiln 2",
         "snmpset with the write community: the device's name changes (the change path)", out)
    rc, out = snmp("snmpset", port, ROOT + f".1.3.1.1.3.{rid}", "i", "7", community=WRITE)
    t.ok(rc != 0 and d.get(f"rules/{rid}")[1].get("enabled", True) is True,
         "tcRuleEnabled 7 (not a TruthValue): refused, the rule unchanged", out)
    rc, out = snmp("snmpset", port, ROOT + f".1.3.1.1.3.{rid}", "i", "2", community=WRITE)
    t.ok(rc == 0 and d.get(f"rules/{rid}")[1].get("enabled") is False,
         "tcRuleEnabled false(2): the rule is switched off", out)
    snmp("snmpset", port, ROOT + f".1.3.1.1.3.{rid}", "i", "1", community=WRITE)
    s, audit, _ = d.get("system/audit-log")
    t.ok(s == 200 and "snmp" in str(audit) and "config.device" in str(audit),
         "the SET is in the audit log as from snmp", str(audit)[:2000])

    # ---- traps on a rule's alarm, through the linkage
    s, ev, _ = d.put("config/events", {"rules": {"linkage": {"snmp_trap": True}}})
    t.ok(s == 200 and ev["rules"]["linkage"]["snmp_trap"] is True,
         "the rules' linkage: snmp_trap on", ev)
    start_oid, stop_oid = ROOT + ".0.1", ROOT + ".0.2"
    d.put(f"rules/{rid}", dict(motor, alarm={"enabled": True, "on": "max", "pre_alarm": 40,
                                             "alarm": 50}))
    got = wait_for(lambda: trapd.count(start_oid) >= 2, 20)
    got = got and wait_for(lambda: any("SNMP v1" in x and "motor" in x for x in trapd.lines), 5)
    t.ok(got and any("TRAP2" in x and f"community {TRAPC}" in x and start_oid in x
                     for x in trapd.lines)
         and any("INFORM" in x and "user ops" in x and start_oid in x for x in trapd.lines)
         and any("SNMP v1" in x and f"community {TRAPC}" in x and "motor" in x
                 for x in trapd.lines),
         "the alarm's start: a v2c trap, a v3 inform (tcAlarmStart) and a v1 trap (enterprise "
         "specific 1) reach snmptrapd",
         "\n".join(trapd.lines[-20:]))
    t.ok(any("motor" in x and start_oid in x for x in trapd.lines)
         and any(ROOT + f".1.5.2.0 = INTEGER: {rid}" in x for x in trapd.lines),
         "the trap names the rule (tcEventName, tcEventId)", "\n".join(trapd.lines[-10:]))
    d.put(f"rules/{rid}", motor)
    got = wait_for(lambda: trapd.count(stop_oid) >= 2, 20)
    t.ok(got and any("TRAP2" in x and stop_oid in x for x in trapd.lines)
         and any("INFORM" in x and stop_oid in x for x in trapd.lines),
         "the alarm's stop: tcAlarmStop, as a trap and as an inform",
         "\n".join(trapd.lines[-20:]))
    # ---- an exception linked to snmp_trap: tcExceptionStart and tcExceptionStop
    d.put("config/exceptions", {"ip_conflict": {"enabled": True, "linkage": {"snmp_trap": True}}})
    d.put("io/network", {"ip_conflict": True})
    got = wait_for(lambda: any(ROOT + ".0.3" in x and "ip_conflict" in x for x in trapd.lines), 15)
    d.put("io/network", {"ip_conflict": False})
    got2 = wait_for(lambda: any(ROOT + ".0.4" in x and "ip_conflict" in x for x in trapd.lines), 15)
    t.ok(got and got2, "an exception (ip_conflict): tcExceptionStart and tcExceptionStop",
         "\n".join(trapd.lines[-6:]))
    rc, out = snmp("snmpwalk", port, ROOT + ".1.4")
    t.ok(rc == 0 and int(value(out, ROOT + ".1.4.1.0") or 0) >= 1
         and value(out, ROOT + ".1.4.2.0") == "ip_conflict",
         "tcExceptionCount and tcLastExceptionType tell it", out)
    s, stats, _ = d.get("system/diagnostics")
    snmp_stats = stats.get("snmp", {}) if isinstance(stats, dict) else {}
    t.ok(s == 200 and snmp_stats.get("traps", 0) >= 2 and snmp_stats.get("requests", 0) > 0
         and snmp_stats.get("refused", 0) > 0,
         "the diagnostics count the traps, the requests and the refused ones", snmp_stats)

    # ---- a secret left out is kept; switched off: no answer
    s, view, _ = d.put("config/snmp", {"users": [{"name": "ops", "level": "auth_priv"}]})
    rc, out = snmp("snmpget", port, ".1.3.6.1.2.1.1.5.0", version="3", user="ops")
    t.ok(s == 200 and rc == 0 and value(out, ".1.3.6.1.2.1.1.5.0") == "Kiln 2",
         "a user sent back without its passwords keeps them", (s, view, out))
    s, view, _ = d.put("config/snmp", {"v1": False})
    rc, out = snmp("snmpget", port, ".1.3.6.1.2.1.1.5.0", version="1")
    rc2, out2 = snmp("snmpget", port, ".1.3.6.1.2.1.1.5.0")
    t.ok(s == 200 and rc != 0 and "Kiln 2" not in out and rc2 == 0,
         "v1 switched off (v2c still on): v1 gets no answer, v2c does", (out, out2))
    s, view, _ = d.put("config/snmp", {"v2c": False, "v3": False})
    rc, out = snmp("snmpget", port, ".1.3.6.1.2.1.1.5.0")
    s2, ports, _ = d.get("config/ports")
    t.ok(s == 200 and rc != 0 and ports["in_use"]["snmp"] == 0,
         "SNMP off: the port is closed, no answer", (out, ports))
    t.ok(d.alive(), "the daemon still runs")
finally:
    if trapd:
        trapd.stop()
    code = d.stop()
    shutil.rmtree(tmp, ignore_errors=True)
t.ok(code == 0, "the daemon stops cleanly", "\n".join(d.lines[-20:]))

# ---- a port held by another program: the daemon goes on, the agent comes when it is free
held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
held.bind(("127.0.0.1", 0))
busy = held.getsockname()[1]
d2 = Daemon(extra=["--snmp-port", str(busy)])
try:
    d2.start()
    d2.activate()
    s, _, _ = d2.put("config/snmp", {"v2c": True, "read_community": READ})
    s2, diag, _ = d2.get("system/diagnostics")
    t.ok(s == 200 and d2.alive() and diag["snmp"]["port"] == 0 and diag["snmp"]["last_error"],
         f"UDP port {busy} held by another program: the daemon goes on, the diagnostics say why",
         diag.get("snmp"))
    held.close()
    answered = wait_for(lambda: snmp("snmpget", busy, ".1.3.6.1.2.1.1.5.0")[0] == 0, 15)
    t.ok(answered, "once the port is free the agent listens on it (tried every 5 s)")
finally:
    held.close()
    code = d2.stop()
t.ok(code == 0, "that daemon stops cleanly", "\n".join(d2.lines[-10:]))
t.done()
