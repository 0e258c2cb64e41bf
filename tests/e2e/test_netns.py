#!/usr/bin/python3
"""thermocamd in a network namespace of its own (needs root and `ip netns`;
else every check is skipped, said in TAP):

- a management veth pair joins the namespace to the test (10.77.N.1 here,
  10.77.N.2 there; no default route over it), the daemon listens on
  10.77.N.2;
- without a default route the device is offline, like a machine whose only
  interface is loopback: the simulated link (PUT /io/network) still raises
  and ends the network_disconnected exception;
- an uplink (a second veth pair inside the namespace) with the default
  route: the device is online; taking that link down for real raises
  network_disconnected and its linkage, bringing it back ends it;
- RTSP multicast is received here, outside the namespace (a receiver on the
  daemon's own host cannot bind the stream's port): frames arrive; 20
  receivers cost the daemon no more than one (the group gets the stream
  once).

Names are unique per run; the namespace and the veth pairs are deleted at
the end, whatever happens."""
import os
import random
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Events, Tap, wait_for  # noqa: E402

t = Tap()
PLANNED = 13


def skip_all(reason):
    for n in range(1, PLANNED + 1):
        print(f"ok {n} # SKIP {reason}", flush=True)
    print(f"1..{PLANNED}", flush=True)
    sys.exit(0)


def run(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r


if os.geteuid() != 0:
    skip_all("not root: cannot make a network namespace")
if not shutil.which("ip") or not shutil.which("ffmpeg") or not shutil.which("gst-launch-1.0"):
    skip_all("ip (iproute2), ffmpeg or gst-launch-1.0 missing")
if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
    skip_all("no `ip netns` here")

tag = f"{os.getpid() % 100000:05d}{random.randrange(256):02x}"
NS = f"tcm-{tag}"
VR, VN = f"tcmr{tag}", f"tcmn{tag}"      # management: root end, namespace end
UA, UB = f"tcma{tag}", f"tcmb{tag}"      # the uplink, both ends in the namespace
used = run("ip", "-4", "-o", "addr").stdout + run("ip", "-4", "route").stdout
free = [n for n in range(1, 255) if f"10.77.{n}." not in used]
N = random.choice(free)
HERE, THERE = f"10.77.{N}.1", f"10.77.{N}.2"
GROUPS = "239.255.42.0/24"               # the daemon's multicast pool


class NsDaemon(Daemon):
    """a thermocamd in NS, reached at THERE"""

    def __init__(self, **kw):
        super().__init__(listen=THERE, **kw)
        self.args = ["ip", "netns", "exec", NS, *self.args]

    def url(self, path):
        return f"http://{THERE}:{self.http}/api/v1/{path}"

    def rtsp_url(self, path, user="admin", password=None):
        from daemon import PASSWORD
        from urllib.parse import quote
        return f"rtsp://{user}:{quote(password or PASSWORD, safe='')}@{THERE}:{self.rtsp}/{path}"


def status(r):
    return r[0]


def in_mcast():
    """multicast IP packets received in this namespace (IpExt InMcastPkts)"""
    lines = [x.split() for x in open("/proc/net/netstat") if x.startswith("IpExt:")]
    return int(lines[1][lines[0].index("InMcastPkts")])


def output_on(d, n):
    s, io, _ = d.get("io")
    return s == 200 and io["outputs"][n - 1]["on"]


daemons = []
try:
    run("ip", "netns", "add", NS)
    run("ip", "link", "add", VR, "type", "veth", "peer", "name", VN, "netns", NS)
    run("ip", "addr", "add", f"{HERE}/24", "dev", VR)
    run("ip", "link", "set", VR, "up")
    run("ip", "-n", NS, "link", "set", "lo", "up")
    run("ip", "-n", NS, "addr", "add", f"{THERE}/24", "dev", VN)
    run("ip", "-n", NS, "link", "set", VN, "up")
    # multicast to and from the test goes over the management pair
    run("ip", "-n", NS, "route", "add", GROUPS, "dev", VN)
    run("ip", "route", "add", GROUPS, "dev", VR)
    env_monitor = os.environ.get("GIO_USE_NETWORK_MONITOR")
    # the kernel's view of the namespace (routes), not a desktop's network manager
    os.environ["GIO_USE_NETWORK_MONITOR"] = "netlink"

    # ---- offline (no default route), as on a loopback-only machine ----
    d = NsDaemon()
    daemons.append(d)
    d.start()
    d.activate()
    s, st, _ = d.get("events/state")
    t.ok(s == 200 and st["network"]["available"] is False,
         "no default route in the namespace: the device starts offline", st.get("network") if s == 200 else st)
    d.put("config/exceptions", {"network_disconnected": {"linkage": {"alarm_outputs": [1]}}})
    ev = Events(d)
    time.sleep(0.5)
    t0 = time.time()
    d.put("io/network", {"link": "up"})
    e = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "network_disconnected"
                and e[1].get("state") == "stop" and e[2] >= t0, 5)
    t.ok(e is not None, "offline machine: a simulated link up ends the exception", e)
    t1 = time.time()
    d.put("io/network", {"link": "down"})
    e = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "network_disconnected"
                and e[1].get("state") == "start" and e[2] >= t1, 5)
    t.ok(e is not None and wait_for(lambda: output_on(d, 1), 3),
         "offline machine: a simulated link down raises it, output 1 on", e)
    ev.close()
    t.ok(d.stop() == 0, "clean exit")

    # ---- online: an uplink with the default route ----
    run("ip", "-n", NS, "link", "add", UA, "type", "veth", "peer", "name", UB)
    run("ip", "-n", NS, "link", "set", UB, "up")
    run("ip", "-n", NS, "link", "set", UA, "up")
    run("ip", "-n", NS, "route", "add", "default", "dev", UA)
    d = NsDaemon()
    daemons.append(d)
    d.start()
    d.activate()
    d.wait_frames()
    s, st, _ = d.get("events/state")
    t.ok(s == 200 and st["network"]["available"] is True and not st["network"]["simulated"],
         "a default route: the device is online (not simulated)", st.get("network") if s == 200 else st)
    d.put("config/exceptions", {"network_disconnected": {"linkage": {"alarm_outputs": [2]}}})
    ev = Events(d)
    time.sleep(0.5)
    t0 = time.time()
    run("ip", "-n", NS, "link", "set", UA, "down")
    e = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "network_disconnected"
                and e[1].get("state") == "start" and e[2] >= t0, 10)
    t.ok(e is not None and wait_for(lambda: output_on(d, 2), 3),
         "the uplink taken down: network_disconnected starts, linked output 2 on", e)
    s, st, _ = d.get("events/state")
    t.ok(s == 200 and st["network"]["available"] is False, "events/state: offline", st.get("network"))
    t1 = time.time()
    run("ip", "-n", NS, "link", "set", UA, "up")
    run("ip", "-n", NS, "route", "replace", "default", "dev", UA)
    e = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "network_disconnected"
                and e[1].get("state") == "stop" and e[2] >= t1, 10)
    s, st, _ = d.get("events/state")
    t.ok(e is not None and s == 200 and st["network"]["available"] is True,
         "the uplink back with its route: the exception ends, online again", e)
    ev.close()

    # ---- RTSP multicast, received outside the namespace ----
    mc0 = in_mcast()
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-rtsp_transport", "udp_multicast",
                        "-i", d.rtsp_url("main"), "-frames:v", "30", "-c", "copy", "-f", "null", "-"],
                       capture_output=True, text=True, timeout=60)
    frames = re.findall(r"frame=\s*(\d+)", r.stderr)
    t.ok(r.returncode == 0 and frames and int(frames[-1]) >= 30,
         f"ffmpeg udp_multicast from outside the namespace: {frames[-1] if frames else 0} frames",
         r.stderr[-1500:])
    mc = in_mcast() - mc0
    t.ok(mc >= 30, f"they came as multicast: {mc} multicast IP packets received here", mc)
    # 20 frames, then EOS; what rtspsrc does after that is its own: the
    # server answers TEARDOWN and closes the connection (it holds no other
    # session), and rtspsrc, tearing down, sometimes sends a PAUSE after its
    # TEARDOWN and reports the closed connection as an error (seen in the
    # daemon's log: TEARDOWN, "sending close message", then rtspsrc's
    # "Could not send message (Received end-of-file)" in gst_rtspsrc_pause).
    # The frames are what counts: EOS reached after them.
    gst = subprocess.run(["gst-launch-1.0", "rtspsrc", f"location={d.rtsp_url('sub')}",
                          "protocols=udp-mcast", "latency=0", "!", "rtph264depay", "!",
                          "fakesink", "num-buffers=20"],
                         capture_output=True, text=True, timeout=60)
    got_eos = "Got EOS from element" in gst.stdout
    print(f"# gst-launch exit {gst.returncode}, EOS reached: {got_eos}", flush=True)
    t.ok(gst.returncode == 0 or got_eos,
         "gst-launch rtspsrc protocols=udp-mcast: 20 frames of the sub stream, then EOS",
         (gst.stdout + gst.stderr)[-1500:])

    # ---- 20 multicast receivers cost the daemon no more than one: the
    # stream goes once to its group whatever the number of receivers ----
    def receivers(n):
        return [subprocess.Popen(["gst-launch-1.0", "-q", "rtspsrc", f"location={d.rtsp_url('main')}",
                                  "protocols=udp-mcast", "latency=0", "!", "rtph264depay", "!",
                                  "fakesink"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(n)]

    def daemon_cpu(seconds):
        def cpu():
            with open(f"/proc/{d.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        c0, m0, t0 = cpu(), in_mcast(), time.time()
        time.sleep(seconds)
        dt = time.time() - t0
        return 100 * (cpu() - c0) / dt, (in_mcast() - m0) / dt

    crowd = receivers(1)
    try:
        time.sleep(4)
        cpu1, pps1 = daemon_cpu(6)
        crowd += receivers(19)
        time.sleep(8)
        s, diag, _ = d.get("system/diagnostics")
        cpu20, pps20 = daemon_cpu(6)
        alive = sum(p.poll() is None for p in crowd)
    finally:
        for p in crowd:
            p.kill()
            p.wait()
    clients = diag.get("rtsp", {}).get("clients", 0) if isinstance(diag, dict) else 0
    # one group, one copy: the packets on the wire do not grow with the
    # receivers (the real check), and the daemon's CPU stays within the noise
    # of two 6 s samples taken while other tests run (CI once saw 13.3 % against
    # 10.3 % with the copy count unchanged)
    t.ok(alive == 20 and clients >= 20 and pps20 < 1.3 * pps1 + 20 and cpu20 <= 1.25 * cpu1 + 3.0,
         f"20 multicast receivers: the daemon's CPU {cpu20:.1f} % against {cpu1:.1f} % with one, "
         f"{pps20:.0f} multicast packets/s here against {pps1:.0f} ({clients} RTSP clients, "
         f"{alive} receivers running)", (cpu1, cpu20, pps1, pps20, clients, alive))
    rc = d.stop()
    t.ok(rc == 0 and not [x for x in d.lines if "CRITICAL" in x], "clean exit", (rc, d.lines[-8:]))
    if env_monitor is None:
        del os.environ["GIO_USE_NETWORK_MONITOR"]
finally:
    for d in daemons:
        try:
            d.stop()
        except Exception:
            pass
    # the veth pairs go with their ends: VR here, UA/UB and VN with the namespace
    subprocess.run(["ip", "link", "del", VR], capture_output=True)
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    t.ok(NS not in left and VR not in links, f"namespace {NS} and its veth pairs deleted")
t.done()
