#!/usr/bin/python3
"""The Debian packages of thermocam, built, checked, installed, run and
purged on this machine (as root; CI runs as root).

scripts/build-deb.sh builds them (dpkg-buildpackage, dh with meson, the
project's tests not run again) and runs lintian: no error or warning may be
left (the informational tags are printed).  They are installed with dpkg -i;
the files are where Debian expects them (the daemon in /usr/sbin, the tool in
/usr/bin, the plugin in GStreamer's directory, the data in
/usr/share/thermocam, the unit in systemd's directory), GStreamer finds the
plugin and Python the typelib; systemd-analyze verify finds nothing in the
installed unit.  Then the installed daemon runs from its unit's command line
as the unit's user would (a user of its own, as DynamicUser= makes one; the
one capability CAP_NET_BIND_SERVICE, no new privileges; the state directory
systemd would make; the notify socket and the watchdog's period in the
environment): READY=1, WATCHDOG=1, GET /api/v1/device on a port below 1024.
Finally dpkg --purge removes every file it installed and the state.

Without systemd as PID 1 (this container) the unit is not started by
systemd: its command runs as above.  Skipped (TAP) when not root or when
dpkg-buildpackage is missing.  THERMOCAM_DEB_REUSE=1 takes the packages of
the last build (build/deb/) as they are."""
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))
from daemon import Daemon, Tap, wait_for  # noqa: E402

if os.geteuid() != 0:
    print("1..0 # SKIP installing a package needs root")
    sys.exit(0)
if not shutil.which("dpkg-buildpackage") or not shutil.which("dh"):
    print("1..0 # SKIP dpkg-buildpackage or debhelper is missing")
    sys.exit(0)

PACKAGES = ["thermocam", "gstreamer1.0-thermocam", "libgstthermalmeta-1.0-0",
            "gir1.2-gstthermal-1.0", "libgstthermalmeta-1.0-dev"]
UNIT = "/lib/systemd/system/thermocamd.service"
WATCHDOG_US = 2_000_000
# a user of its own, known to the system as systemd's dynamic users are
# (nss-systemd): nobody stands for it
UID = pwd.getpwnam("nobody").pw_uid

t = Tap()
BUILD = os.environ.get("THERMOCAM_BUILD", os.path.join(SOURCE, "build"))
out = os.path.join(BUILD, "deb")
tmp = tempfile.mkdtemp(prefix="thermocam-deb-")
os.chmod(tmp, 0o755)


def run(cmd, timeout=600, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def purge():
    return run(["dpkg", "--purge", *PACKAGES], timeout=300)


def unit_lines(path, key):
    return [line[len(key) + 1:].strip() for line in open(path)
            if line.startswith(key + "=")]


def free_low_port():
    for port in range(990, 900, -1):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    return None


class Notify:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)            # the unit's user sends to it
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
            for line in data.decode(errors="replace").split("\n"):
                if line:
                    self.msgs.append((time.monotonic(), line))

    def has(self, what):
        return any(m == what for _, m in list(self.msgs))


installed = False
d = None
notify = None
try:
    # ---- build and lintian ----
    t0 = time.monotonic()
    if os.environ.get("THERMOCAM_DEB_REUSE") and os.path.exists(os.path.join(out, "lintian.txt")):
        # the packages of the last build, as they are (to work on the rest)
        r = subprocess.CompletedProcess([], 0, "", "")
    else:
        r = run([os.path.join(SOURCE, "scripts", "build-deb.sh"), out], timeout=3000)
    debs = sorted(f for f in os.listdir(out) if f.endswith(".deb") and "-dbgsym_" not in f) \
        if os.path.isdir(out) else []
    t.ok(r.returncode == 0 and len(debs) == len(PACKAGES),
         f"scripts/build-deb.sh builds {len(PACKAGES)} packages "
         f"({time.monotonic() - t0:.0f} s)", r.stdout[-3000:] + r.stderr[-3000:])
    if r.returncode != 0 or len(debs) != len(PACKAGES):
        print("Bail out! the packages were not built", flush=True)
        sys.exit(1)
    lint = open(os.path.join(out, "lintian.txt")).read()
    tags = sorted({line for line in lint.splitlines() if line[:2] in ("E:", "W:", "I:")})
    bad = [x for x in tags if x[:2] in ("E:", "W:")]
    t.ok(debs and not bad, "lintian: no error and no warning", "\n".join(bad))
    for tag in tags:
        print(f"# lintian: {tag}", flush=True)

    # ---- install ----
    purge()
    r = run(["dpkg", "-i", *[os.path.join(out, f) for f in debs]], timeout=600)
    installed = r.returncode == 0
    t.ok(installed, "dpkg -i installs them", r.stdout[-2000:] + r.stderr[-2000:])
    arch = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()
    for path in ["/usr/sbin/thermocamd", "/usr/bin/thermocam",
                 f"/usr/lib/{arch}/gstreamer-1.0/libgstthermal.so",
                 f"/usr/lib/{arch}/libgstthermalmeta-1.0.so.0",
                 f"/usr/lib/{arch}/girepository-1.0/GstThermal-1.0.typelib",
                 f"/usr/lib/{arch}/pkgconfig/gstthermalmeta-1.0.pc",
                 "/usr/share/gir-1.0/GstThermal-1.0.gir",
                 "/usr/include/gstreamer-1.0/gst/thermal/gstthermalmeta.h",
                 "/usr/share/thermocam/webui/index.html",
                 "/usr/share/thermocam/pipelines/core.pipeline",
                 "/usr/share/thermocam/schemas/config.schema.json",
                 "/usr/share/man/man8/thermocamd.8.gz", "/usr/share/man/man1/thermocam.1.gz",
                 UNIT]:
        t.ok(os.path.exists(path), f"installed: {path}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GST_", "THERMOCAM"))}
    env["GST_REGISTRY_1_0"] = os.path.join(tmp, "registry.bin")
    r = run(["gst-inspect-1.0", "thermalsrc"], env=env, timeout=120)
    t.ok(r.returncode == 0 and "thermalsrc" in r.stdout,
         "GStreamer finds the installed plugin (gst-inspect-1.0 thermalsrc)", r.stderr[-1000:])
    r = run(["/usr/bin/python3", "-c", "import gi; gi.require_version('GstThermal', '1.0'); "
             "from gi.repository import GstThermal; print(GstThermal.Meta)"], env=env)
    t.ok(r.returncode == 0, "Python imports GstThermal from the installed typelib", r.stderr)
    if shutil.which("systemd-analyze"):
        r = run(["systemd-analyze", "verify", UNIT], timeout=120)
        t.ok(r.returncode == 0 and "thermocamd" not in r.stderr,
             "systemd-analyze verify: the installed unit is clean", r.stderr)

    # ---- the installed daemon as the unit runs it ----
    if os.path.isdir("/run/systemd/system"):
        # systemd is PID 1: dpkg started the unit; this run takes its state
        r = run(["systemctl", "stop", "thermocamd.service"], timeout=60)
        print(f"# systemd runs here: the unit stopped ({r.returncode}) for the run below",
              flush=True)
    argv = shlex.split(unit_lines(UNIT, "ExecStart")[0])
    state = "/var/lib/thermocam"
    cache = "/var/cache/thermocam"
    # what systemd makes for StateDirectory= and CacheDirectory= (with
    # DynamicUser= it keeps them under private/ and mounts them in the
    # service's namespace; here plain directories of the user)
    for p in (state, cache, "/var/lib/private/thermocam", "/var/cache/private/thermocam"):
        if os.path.islink(p):
            os.unlink(p)
        elif os.path.exists(p):
            shutil.rmtree(p)
    for p in (state, cache):
        os.makedirs(p, mode=0o700)
        os.chown(p, UID, UID)
    uenv = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/",
            "STATE_DIRECTORY": "/var/lib/thermocam", "CACHE_DIRECTORY": "/var/cache/thermocam",
            "G_DEBUG": "fatal-criticals", "GST_DEBUG": "*:1"}
    for e in unit_lines(UNIT, "Environment"):
        k, _, v = e.partition("=")
        uenv[k] = v.replace("%C", "/var/cache")
    notify = Notify(os.path.join(tmp, "notify"))
    uenv.update({"NOTIFY_SOCKET": os.path.join(tmp, "notify"),
                 "WATCHDOG_USEC": str(WATCHDOG_US)})
    low = free_low_port()
    caps = "+net_bind_service"
    cmd = ["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups",
           f"--inh-caps=-all,{caps}", f"--ambient-caps=-all,{caps}",
           f"--bounding-set=-all,{caps}", "--no-new-privs", "--",
           *argv, "--http-port", str(low), "--rtsp-port", "0", "--https-port", "0",
           "--modbus-port", "0", "--server-port", "0", "--listen", "127.0.0.1"]
    d = Daemon(state_dir=tmp)
    d.args = cmd
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(uenv)
    try:
        d.start(timeout=60)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    t.ok(d.http == low and "state=/var/lib/thermocam" in "\n".join(d.lines),
         f"the installed thermocamd runs as its own user with only CAP_NET_BIND_SERVICE and "
         f"listens on port {low}", d.lines[-5:])
    t.ok(wait_for(lambda: notify.has("READY=1"), 10), "READY=1")
    t.ok(wait_for(lambda: notify.has("WATCHDOG=1"), 5), "WATCHDOG=1")
    t.ok(d.activate()[0] in (200, 201, 204), "activated")
    s, dev, _ = d.get("device")
    t.ok(s == 200 and isinstance(dev, dict) and dev.get("serial_number"),
         "GET /api/v1/device from the installed daemon", (s, dev))
    owners = {os.stat(os.path.join(state, f)).st_uid for f in os.listdir(state)}
    t.ok(owners == {UID}, "its state in /var/lib/thermocam belongs to its user", owners)
    t.ok(os.path.exists(os.path.join(cache, "gstreamer-registry.bin")),
         "GStreamer's registry in its CacheDirectory (/var/cache/thermocam)")
    t.ok(d.stop() == 0, "SIGTERM: a clean exit", d.lines[-5:])
    d = None

    # ---- an upgrade (the same packages again) keeps the state ----
    serial = open(os.path.join(state, "serial")).read()
    r = run(["dpkg", "-i", *[os.path.join(out, f) for f in debs]], timeout=600)
    t.ok(r.returncode == 0 and open(os.path.join(state, "serial")).read() == serial,
         "installed again (an upgrade): the camera's state stays", r.stderr[-2000:])

    # ---- purge ----
    files = run(["dpkg", "-L", *PACKAGES]).stdout.split("\n")
    files = [f for f in files if f and os.path.isfile(f)]
    r = purge()
    installed = r.returncode != 0
    t.ok(r.returncode == 0, "dpkg --purge removes them", r.stderr[-2000:])
    left = [f for f in files if os.path.lexists(f)]
    for p in ("/usr/share/thermocam", state, cache, "/var/lib/private/thermocam",
              "/var/cache/private/thermocam",
              "/etc/systemd/system/multi-user.target.wants/thermocamd.service",
              "/var/lib/systemd/deb-systemd-helper-enabled/thermocamd.service.dsh-also"):
        if os.path.lexists(p):
            left.append(p)
    t.ok(not left, f"nothing left of the {len(files)} files and the state", left[:20])
finally:
    if d:
        d.stop(signal.SIGKILL)
    if notify:
        notify.stop = True
        notify.sock.close()
    if installed:
        purge()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
