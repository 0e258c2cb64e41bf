#!/usr/bin/python3
"""thermocamd as a systemd service, without systemd as PID 1: the unit's
ExecStart command (thermocamd.service as the build made it, the binary and
the data of the build tree, a temporary state directory, free ports on
loopback) runs against the sd_notify protocol of a notify socket made here
(an AF_UNIX datagram socket, NOTIFY_SOCKET and WATCHDOG_USEC in the
environment, as systemd gives them):

- READY=1 arrives once every server listens, and then the API answers;
- WATCHDOG=1 pings arrive at half the watchdog period;
- after SIGSTOP the pings stop (that is what makes systemd kill and restart
  the daemon: WatchdogSec= runs out); after SIGCONT they come again;
- SIGTERM: STOPPING=1, a clean exit;
- the events and the audit records reach the journal with the daemon's
  fields (THERMOCAM_EVENT, THERMOCAM_RULE, THERMOCAM_ADDRESS, THERMOCAM_AUDIT,
  THERMOCAM_USER): as root, the daemon runs in a mount
  namespace whose /run holds the journal's sockets made here, stderr
  connected to its stdout stream (as systemd connects a service's stderr);
- $STATE_DIRECTORY (StateDirectory=) is the state directory when no
  --state-dir is given;
- `systemd-analyze verify` finds nothing to say about the unit.
"""
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import BUILD, DAEMON, Daemon, Tap, wait_for  # noqa: E402

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(BUILD, "appliance", "thermocamd.service")
WATCHDOG_US = 3_000_000

t = Tap()
tmp = tempfile.mkdtemp(prefix="thermocam-systemd-")


def unit_exec_start(path):
    for line in open(path):
        if line.startswith("ExecStart="):
            return shlex.split(line[len("ExecStart="):])
    return None


def build_tree_command(argv, state_dir):
    """The unit's command with the build tree's binary and data, @state_dir
    (None: the option dropped), free ports on loopback"""
    out = []
    it = iter(argv)
    for a in it:
        if a.endswith("/thermocamd"):
            out.append(DAEMON)
        elif a == "--state-dir":
            next(it)
            if state_dir:
                out += [a, state_dir]
        elif a == "--data-dir":
            next(it)
            out += [a, SOURCE]
        else:
            out.append(a)
    return out + ["--http-port", "0", "--rtsp-port", "0", "--https-port", "0",
                  "--modbus-port", "0", "--server-port", "0", "--listen", "127.0.0.1"]


class Notify:
    """systemd's end of sd_notify: a datagram socket, what came and when"""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.msgs = []
        self.stop = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.monotonic()
            for line in data.decode(errors="replace").split("\n"):
                if line:
                    self.msgs.append((now, line))

    def times(self, what, since=0.0):
        return [ts for ts, m in list(self.msgs) if m == what and ts >= since]

    def first(self, prefix):
        for ts, m in list(self.msgs):
            if m.startswith(prefix):
                return ts, m
        return None

    def close(self):
        self.stop = True
        self.sock.close()


def parse_journal(data):
    """The journal's native protocol: KEY=VALUE lines, or KEY, a 64-bit
    little-endian length and the value (a value with a newline)"""
    fields = {}
    i = 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            break
        line = data[i:nl]
        if b"=" in line:
            k, _, v = line.partition(b"=")
            fields[k.decode()] = v.decode(errors="replace")
            i = nl + 1
        else:
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            fields[line.decode()] = data[nl + 9:nl + 9 + n].decode(errors="replace")
            i = nl + 9 + n + 1
    return fields


class Journal:
    def __init__(self, run_dir):
        os.makedirs(os.path.join(run_dir, "systemd", "journal"))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(os.path.join(run_dir, "systemd", "journal", "socket"))
        self.sock.settimeout(0.2)
        self.entries = []
        self.stop = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while not self.stop:
            try:
                data = self.sock.recv(1 << 17)
            except socket.timeout:
                continue
            except OSError:
                return
            self.entries.append(parse_journal(data))

    def find(self, pred):
        for e in list(self.entries):
            if pred(e):
                return e
        return None


# In the daemon's mount namespace: /run is the test's directory; stderr a
# stream socket whose listening end is bound as /run/systemd/journal/stdout
# there (GLib knows the journal by the peer's name, as systemd connects a
# service's stderr); a child copies that stream to the test's stderr
JOURNAL_WRAPPER = """
import os, socket, subprocess, sys
subprocess.run(["mount", "--bind", sys.argv[1], "/run"], check=True)
path = "/run/systemd/journal/stdout"
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
client.connect(path)
if os.fork() == 0:
    client.close()
    conn, _ = server.accept()
    server.close()
    for line in conn.makefile("rb"):
        os.write(2, b"thermocamd stderr: " + line)
    os._exit(0)
server.close()
os.dup2(client.fileno(), 2)
client.close()
os.execv(sys.argv[2], sys.argv[2:])
"""


class Run(Daemon):
    """thermocamd started from the unit's command line with the notify socket
    (and, as root, the journal)"""

    def __init__(self, argv, env_extra, journal_run=None):
        super().__init__(state_dir=tmp)
        self.args = argv
        self.env_extra = env_extra
        self.journal_run = journal_run

    def start(self, timeout=30):
        env = dict(os.environ)
        env.setdefault("GST_REGISTRY_1_0", os.path.join(tmp, "registry.bin"))
        env.setdefault("G_DEBUG", "fatal-criticals")
        env.update(self.env_extra)
        argv = self.args
        stderr = subprocess.STDOUT
        if self.journal_run:
            # /run of its own (the wrapper execs: the pid is the daemon's)
            argv = ["unshare", "--mount", "--propagation", "private", "--",
                    sys.executable, "-c", JOURNAL_WRAPPER, self.journal_run, *argv]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr,
                                     text=True, env=env)
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        if not self.ready.wait(timeout):
            raise RuntimeError("no ready line:\n" + "\n".join(self.lines[-30:]))
        return self


def max_gap(times):
    return max((b - a for a, b in zip(times, times[1:])), default=None)


d = None
notify = None
journal = None
try:
    argv = unit_exec_start(UNIT)
    t.ok(argv and argv[0].endswith("/thermocamd") and "--state-dir" in argv
         and "/var/lib/thermocam" in argv, "the unit's ExecStart runs thermocamd on /var/lib/thermocam",
         argv)

    # ---- the unit itself ----
    analyze = shutil.which("systemd-analyze")
    if analyze:
        # as installed: ExecStart must name an existing file; here the build's
        unit_copy = os.path.join(tmp, "thermocamd.service")
        text = open(UNIT).read().replace(argv[0], DAEMON, 1)
        open(unit_copy, "w").write(text)
        r = subprocess.run([analyze, "verify", unit_copy], capture_output=True, text=True,
                           timeout=60)
        t.ok(r.returncode == 0 and "thermocamd" not in r.stderr,
             "systemd-analyze verify: the unit is clean", r.stderr)
        # systemd's own measure of the sandbox (0 safest, 10 none; 1.7 now)
        r = subprocess.run([analyze, "security", "--offline=yes", unit_copy],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
        t.ok(m and float(m.group(1)) <= 2.0,
             f"systemd-analyze security: exposure {m.group(1) if m else '?'} (at most 2.0)",
             r.stdout[-2000:] + r.stderr[-500:])
    else:
        print("ok - systemd-analyze verify # SKIP systemd-analyze is not installed", flush=True)
    text = open(UNIT).read()
    for key in ("Type=notify", "WatchdogSec=", "DynamicUser=yes", "StateDirectory=thermocam",
                "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes",
                "AmbientCapabilities=CAP_NET_BIND_SERVICE\n",
                "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n", "RestrictAddressFamilies=",
                "SystemCallFilter=@system-service"):
        t.ok(key in text, f"the unit has {key.strip()}")

    # ---- readiness, the watchdog, the journal ----
    notify = Notify(os.path.join(tmp, "notify"))
    root = os.geteuid() == 0 and shutil.which("unshare")
    journal_run = None
    if root:
        journal_run = os.path.join(tmp, "run")
        journal = Journal(journal_run)
    state = os.path.join(tmp, "state")
    d = Run(build_tree_command(argv, state),
            {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": str(WATCHDOG_US)},
            journal_run)
    t0 = time.monotonic()
    d.start()
    t.ok(d.http and any(f"state={state}" in l for l in d.lines), "the daemon starts from the unit's command",
         d.lines[-5:])
    ready = None
    wait_for(lambda: notify.first("READY=1"), 10)
    ready = notify.first("READY=1")
    t.ok(ready is not None, "READY=1 arrives", notify.msgs[:10])
    s, _, _ = d.get("device", auth=False)
    t.ok(s in (200, 401), "when READY=1 has come the API answers", s)
    status = notify.first("STATUS=")
    t.ok(status and f"http={d.http}" in status[1], "STATUS= says the ports", status)
    t.ok(d.activate()[0] in (200, 201, 204), "activated")
    s, dev, _ = d.get("device")
    t.ok(s == 200 and dev.get("serial_number"), "GET /api/v1/device", (s, dev))

    # pings at half the period (1 s), while frames come
    time.sleep(6.5)
    pings = notify.times("WATCHDOG=1", since=ready[0] if ready else t0)
    recent = [p for p in pings if p >= time.monotonic() - 6.0]
    t.ok(3 <= len(recent) <= 6, f"WATCHDOG=1 about every {WATCHDOG_US / 2e6:g} s "
         f"({len(recent)} in 6 s)", pings)
    gap = max_gap(pings)
    t.ok(gap is not None and gap < WATCHDOG_US / 1e6, "no gap between pings as long as the "
         "watchdog period", gap)

    # the journal: an alarm of a rule, an illegal login with its address
    if journal:
        motor = {"name": "motor", "type": "polygon",
                 "points": [[0.45, 0.63], [0.57, 0.63], [0.57, 0.81], [0.45, 0.81]]}
        s, r, _ = d.post("rules", motor)
        rule_id = r.get("id") if isinstance(r, dict) else None
        s, r, _ = d.put(f"rules/{rule_id}", {"alarm": {
            "enabled": True, "on": "max", "condition": "above", "pre_alarm": 40.0,
            "alarm": 50.0, "tolerance": 1.0, "filter_time": 0}})
        t.ok(s == 200, "a rule over the motor (85 C) with its alarm at 50 C", r)
        e = None
        if wait_for(lambda: journal.find(lambda e: e.get("THERMOCAM_EVENT") == "alarm"
                                         and e.get("THERMOCAM_RULE") == str(rule_id)
                                         and e.get("THERMOCAM_LEVEL") == "alarm"), 10):
            e = journal.find(lambda e: e.get("THERMOCAM_EVENT") == "alarm"
                             and e.get("THERMOCAM_RULE") == str(rule_id)
                             and e.get("THERMOCAM_LEVEL") == "alarm")
        t.ok(e and e.get("THERMOCAM_STATE") == "start" and e.get("PRIORITY") == "4"
             and "motor" in e.get("MESSAGE", "") and e.get("SYSLOG_IDENTIFIER") == "thermocamd"
             and '"rule"' in e.get("THERMOCAM_JSON", ""),
             "journal: the alarm with THERMOCAM_EVENT=alarm, THERMOCAM_RULE, its level and "
             "state, priority warning", e or journal.entries[-5:])
        s, _, _ = d.put("config/security", {"illegal_login_lock": {
            "enabled": True, "attempts": 3, "duration_min": 2}})
        for _ in range(3):
            d.get("device", password="Wrong#pass1", source="127.0.0.7")
        e = None
        def illegal(e):
            return e.get("THERMOCAM_EVENT") == "exception" and e.get("THERMOCAM_ADDRESS")
        if wait_for(lambda: journal.find(illegal), 10):
            e = journal.find(illegal)
        t.ok(e and e.get("THERMOCAM_EVENT") == "exception"
             and e.get("THERMOCAM_ADDRESS", "").startswith("127.0.0.7"),
             "journal: the illegal login with THERMOCAM_ADDRESS", e)
        a = None
        if wait_for(lambda: journal.find(lambda e: e.get("THERMOCAM_AUDIT") == "lock"), 10):
            a = journal.find(lambda e: e.get("THERMOCAM_AUDIT") == "lock")
        t.ok(a and a.get("THERMOCAM_ADDRESS", "").startswith("127.0.0.7")
             and a.get("PRIORITY") == "4",
             "journal: the audit record of the lock with THERMOCAM_AUDIT and THERMOCAM_ADDRESS",
             a or [e for e in journal.entries if "THERMOCAM_AUDIT" in e][-5:])
        a = journal.find(lambda e: e.get("THERMOCAM_AUDIT") == "config")
        t.ok(a and a.get("THERMOCAM_USER") == "admin" and a.get("THERMOCAM_ADDRESS"),
             "journal: a configuration change audited with its user and address", a)
        c = journal.find(lambda e: e.get("THERMOCAM_EVENT") == "config")
        t.ok(c and c.get("PRIORITY") == "5", "journal: a configuration change (notice)", c)
        t.ok(not journal.find(lambda e: e.get("THERMOCAM_EVENT") == "measurement"),
             "journal: no entry per reading")
    else:
        print("ok - journal fields # SKIP needs root and unshare (a /run of its own)",
              flush=True)

    # SIGSTOP: the main loop and the pipeline stop; no ping for longer than
    # the watchdog's period is what makes systemd restart the unit
    os.kill(d.proc.pid, signal.SIGSTOP)
    stopped = time.monotonic()
    time.sleep(2 * WATCHDOG_US / 1e6 + 1)
    late = notify.times("WATCHDOG=1", since=stopped + 0.1)
    t.ok(late == [], f"SIGSTOP: no WATCHDOG=1 for {2 * WATCHDOG_US / 1e6 + 1:g} s "
         "(systemd restarts it after "
         f"{WATCHDOG_US / 1e6:g} s)", late)
    os.kill(d.proc.pid, signal.SIGCONT)
    cont = time.monotonic()
    wait_for(lambda: len(notify.times("WATCHDOG=1", since=cont)) >= 2, 6)
    t.ok(len(notify.times("WATCHDOG=1", since=cont)) >= 2,
         "SIGCONT: the frames move again and the pings come back")

    rc = d.stop()
    t.ok(rc == 0, "SIGTERM: a clean exit", (rc, d.lines[-5:]))
    t.ok(notify.first("STOPPING=1") is not None, "STOPPING=1 before it goes")
    d = None

    # ---- StateDirectory= without --state-dir ----
    n2 = Notify(os.path.join(tmp, "notify2"))
    sd = os.path.join(tmp, "statedirectory")
    d = Run(build_tree_command(argv, None), {"NOTIFY_SOCKET": n2.path,
                                             "STATE_DIRECTORY": sd})
    d.start()
    t.ok(any(f"state={sd}" in l for l in d.lines) and os.path.exists(os.path.join(sd, "serial")),
         "$STATE_DIRECTORY is the state directory without --state-dir", d.lines[-3:])
    t.ok(wait_for(lambda: n2.first("READY=1"), 5) and not n2.times("WATCHDOG=1"),
         "READY=1, and no pings when systemd asks for none")
    t.ok(d.stop() == 0, "stops")
    d = None
    n2.close()
finally:
    if d:
        d.stop(signal.SIGKILL)
    if notify:
        notify.close()
    if journal:
        journal.stop = True
        journal.sock.close()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
