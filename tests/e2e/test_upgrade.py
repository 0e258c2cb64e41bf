#!/usr/bin/python3
"""thermocamd end to end: upgrade (manual 10.6).  A package made by
`thermocam package` from the build tree's own files, at a version above the
running one, is uploaded, checked, installed beside the running version and
the daemon execs it (same PID, same ports): it comes back with the new
version and the old configuration, and confirms its start.  Refused with
nothing changed: a package signed by another key, a flipped byte (in a file,
in the manifest), a truncated file, one larger than the bound, a downgrade
and the running version.  A new version that fails to start is rolled back
by the watchdog: the previous version runs again with its configuration."""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import BUILD, Daemon, Tap  # noqa: E402

SRC = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(BUILD, "appliance", "thermocam")
work = tempfile.mkdtemp(prefix="tc-upgrade-")
t = Tap()


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd}: {r.stderr}")
    return r.stdout


def keypair(name):
    key = os.path.join(work, name + ".pem")
    run("openssl", "genpkey", "-algorithm", "ed25519", "-out", key)
    run("openssl", "pkey", "-in", key, "-pubout", "-out", os.path.join(work, name + ".pub.pem"))
    return key


def tree(name, broken=False, hangs=False):
    """an installed prefix made of the build tree's files"""
    root = os.path.join(work, name)
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "lib", "gstreamer-1.0"))
    if broken or hangs:
        with open(os.path.join(root, "bin", "thermocamd"), "w") as f:
            f.write("#!/bin/sh\necho 'this version cannot start' >&2\nexit 3\n" if broken
                    else "#!/bin/sh\necho 'this version hangs' >&2\nexec sleep 600\n")
        os.chmod(os.path.join(root, "bin", "thermocamd"), 0o755)
    else:
        shutil.copy2(os.path.join(BUILD, "appliance", "thermocamd"), os.path.join(root, "bin"))
    gst = os.path.join(BUILD, "plugins", "gst")
    shutil.copyfile(os.path.join(gst, "libgstthermal.so"),
                    os.path.join(root, "lib", "gstreamer-1.0", "libgstthermal.so"))
    shutil.copyfile(os.path.realpath(os.path.join(gst, "libgstthermalmeta-1.0.so.0")),
                    os.path.join(root, "lib", "libgstthermalmeta-1.0.so.0"))
    for sub in ("pipelines", "schemas", "webui"):
        shutil.copytree(os.path.join(SRC, sub), os.path.join(root, "share", "thermocam", sub))
    return root


def package(root, version, key, name=None):
    out = os.path.join(work, name or f"thermocam-{version}.tcpkg")
    run(CLI, "package", "--tree", root, "--version", version, "--key", key, "-o", out)
    return out


def upload(path, force=False, data=None):
    if data is None:
        with open(path, "rb") as f:
            data = f.read()
    return d.curl("POST", "system/upgrade" + ("?force=true" if force else ""), raw=data,
                  headers=["Content-Type: application/octet-stream"], timeout=120)


def snapshot():
    """what an upgrade may change: the tree of versions, current, upgrade.json"""
    st = d.state_dir
    files = sorted(os.path.relpath(p, st) for p in glob.glob(os.path.join(st, "versions", "**"),
                                                              recursive=True))
    cur = os.readlink(os.path.join(st, "current")) if os.path.islink(os.path.join(st, "current")) \
        else None
    try:
        state = open(os.path.join(st, "upgrade.json")).read()
    except OSError:
        state = None
    return files, cur, state, open(os.path.join(st, "config.json")).read()


def cmdline(pid):
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return b""


def gone(pid):
    """no such process, or a zombie not yet reaped"""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def pids_of_state():
    """every process started with this test's state directory"""
    out = []
    for p in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            if d.state_dir.encode() in open(p, "rb").read():
                out.append(int(p.split("/")[2]))
        except OSError:
            pass
    return out


def wait_readies(n, timeout=60):
    end = time.time() + timeout
    while time.time() < end and d.readies < n:
        time.sleep(0.2)
    return d.readies >= n


def wait_state(want, timeout=40):
    end = time.time() + timeout
    j = None
    while time.time() < end:
        s, j, _ = d.get("system/upgrade")
        if s == 200 and (j.get("last") or {}).get("state") == want:
            return j
        time.sleep(0.3)
    return j


dev = keypair("dev")
other = keypair("other")
state = tempfile.mkdtemp(prefix="thermocamd-upgrade-")
os.makedirs(os.path.join(state, "keys"))
shutil.copy(os.path.join(work, "dev.pub.pem"), os.path.join(state, "keys", "dev.pem"))
d = Daemon(state_dir=state, extra=["--upgrade-confirm-s", "3", "--upgrade-deadline-s", "40",
                                   "--upgrade-max-bytes", str(40 * 1024 * 1024)])
try:
    d.start()
    d.activate()
    d.wait_frames()
    first_pid = d.proc.pid
    s, before, _ = d.get("system/upgrade")
    running = before["version"]
    t.ok(s == 200 and before["state"] == "idle" and before["installed"] == []
         and before["max_bytes"] == 40 * 1024 * 1024,
         f"GET /system/upgrade: version {running}, idle, nothing installed", before)
    s, _, _ = d.put("config/device", {"name": "kept-across-upgrade"})
    t.ok(s == 200, "a setting changed before the upgrade")
    http_port = d.http

    good = tree("good")
    pkg = package(good, "99.1.0", dev)
    listing = run("tar", "tvf", pkg)
    t.ok("manifest.json" in listing and "manifest.sig" in listing
         and "tree/bin/thermocamd" in listing,
         "the package is a tar archive: manifest.json, manifest.sig, tree/...", listing[:400])

    # ---- the upgrade ----
    s, j, _ = upload(pkg)
    t.ok(s == 202 and j.get("version") == "99.1.0" and j.get("restarting") is True,
         "POST /system/upgrade: 202, version 99.1.0, restarting", (s, j))
    t.ok(wait_readies(2), "the daemon came back (a second ready line)", d.lines[-20:])
    t.ok(d.http == http_port and d.alive() and d.proc.pid == first_pid,
         "same process (exec), same HTTP port", (d.http, http_port))
    j = wait_state("confirmed")
    t.ok(j and j["version"] == "99.1.0" and j["last"]["state"] == "confirmed"
         and j["current"] == "versions/99.1.0" and j["installed"] == ["99.1.0"],
         "the new version runs and confirmed its start; current is versions/99.1.0", j)
    s, dev_info, _ = d.get("device")
    t.ok(s == 200 and dev_info["firmware_version"] == "99.1.0",
         "GET /device: firmware_version 99.1.0", dev_info.get("firmware_version"))
    s, j, _ = d.get("config/device")
    t.ok(s == 200 and j["name"] == "kept-across-upgrade",
         "the configuration came through the upgrade", j)
    t.ok(os.path.isfile(os.path.join(state, "versions", "99.1.0", "bin", "thermocamd"))
         and os.path.islink(os.path.join(state, "current")),
         "installed beside: versions/99.1.0/ and the current symlink")
    s, audit, _ = d.get("system/audit-log?type=system")
    audit = audit.get("records", []) if s == 200 else audit
    t.ok(s == 200 and any("upgrade" in r.get("detail", "") and "99.1.0" in r.get("detail", "")
                          for r in audit),
         "the upgrade is in the audit log", audit[-3:] if isinstance(audit, list) else audit)

    # ---- refused, nothing changed ----
    newer = package(good, "99.2.0", dev, "newer.tcpkg")
    raw = open(newer, "rb").read()
    readies = d.readies

    def refused(desc, data, status, code):
        snap = snapshot()
        s, j, _ = upload(None, data=data)
        got = j["error"]["code"] if isinstance(j, dict) and "error" in j else j
        t.ok(s == status and got == code, f"{desc}: {status} {code}", (s, got))
        time.sleep(0.3)
        s2, st, _ = d.get("system/upgrade")
        t.ok(snapshot() == snap and d.readies == readies and st["version"] == "99.1.0"
             and st["state"] == "failed" and not glob.glob(os.path.join(state, "upgrade",
                                                                         "package.*"))
             and not glob.glob(os.path.join(state, "versions", ".tmp-*")),
             f"{desc}: nothing changed (versions, current, upgrade.json, configuration), "
             "no upload left", st)

    refused("signed by another key", open(package(good, "99.2.0", other, "other.tcpkg"),
                                          "rb").read(), 400, "unknown_key")
    # a byte of the program (far into the archive) flipped
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0x01
    refused("a flipped byte in a file", bytes(flipped), 400, "bad_hash")
    # a byte of the manifest's text flipped (its version: 99.2.0 -> 99.3.0)
    m = raw.index(b'"99.2.0"')
    flipped = bytearray(raw)
    flipped[m + 4] = ord("3")
    refused("a flipped byte in the manifest", bytes(flipped), 400, "bad_signature")
    refused("a truncated package", raw[: len(raw) * 2 // 3], 400, "truncated")
    refused("a package cut at its end", raw[:-1024], 400, "truncated")
    refused("the manifest alone", raw[:1024], 400, "truncated")
    refused("not a package", b"hello" * 1000, 400, "invalid_package")
    refused("a downgrade", open(package(good, "50.0.0", dev), "rb").read(), 400, "downgrade")
    refused("the running version again", open(package(good, "99.1.0", dev, "same.tcpkg"),
                                              "rb").read(), 400, "downgrade")
    # larger than the bound: refused by its Content-Length, before it is read
    snap = snapshot()
    s, j, _ = upload(None, data=raw + b"\0" * (41 * 1024 * 1024 - len(raw)))
    t.ok(s == 413 and j["error"]["code"] == "too_large",
         "larger than max_bytes: 413 too_large", (s, j))
    t.ok(snapshot() == snap and d.readies == readies, "too large: nothing changed")
    # and sent in chunks (no Content-Length): cut at the bound
    big = os.path.join(work, "big.bin")
    with open(big, "wb") as f:
        f.write(raw + b"\0" * (41 * 1024 * 1024 - len(raw)))
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest", "-u",
                        f"admin:{__import__('daemon').PASSWORD}", "-H",
                        "Transfer-Encoding: chunked", "--data-binary", f"@{big}",
                        d.url("system/upgrade")], capture_output=True, text=True, timeout=120)
    t.ok(r.stdout == "413" and snapshot() == snap and d.readies == readies,
         "larger than max_bytes in chunks: 413, nothing changed", r.stdout)
    s, j, _ = d.get("system/upgrade")
    s2, _, _ = d.get("device")
    t.ok(s == 200 and s2 == 200 and j["version"] == "99.1.0" and d.alive(),
         "the daemon still runs 99.1.0 and answers", j)
    s, j, _ = d.curl("POST", "system/upgrade", raw=raw, auth=False,
                     headers=["Content-Type: application/octet-stream"])
    t.ok(s == 401, "without credentials: 401", s)

    # ---- a new version that fails to start: rolled back ----
    broken = package(tree("broken", broken=True), "99.3.0", dev)
    s, j, _ = upload(broken)
    t.ok(s == 202 and j.get("version") == "99.3.0", "a version that cannot start: accepted (202)",
         (s, j))
    t.ok(wait_readies(readies + 1, 60), "the previous version came back by itself (watchdog)",
         d.lines[-20:])
    j = wait_state("rolled_back", 20)
    t.ok(j and j["version"] == "99.1.0" and j["last"]["state"] == "rolled_back"
         and j["current"] == "versions/99.1.0" and "99.3.0" not in j["installed"],
         "rolled back: 99.1.0 runs, current is versions/99.1.0, 99.3.0 removed", j)
    t.ok(any("this version cannot start" in line for line in d.lines),
         "(the broken version did run and fail)")
    s, j, _ = d.get("config/device")
    t.ok(s == 200 and j["name"] == "kept-across-upgrade",
         "the configuration is the one before the failed upgrade", j)
    s, dev_info, _ = d.get("device")
    t.ok(s == 200 and dev_info["firmware_version"] == "99.1.0", "GET /device: 99.1.0 again")

    # ---- a new version that hangs (never confirms): killed at the deadline, rolled back ----
    readies = d.readies
    running_pids = [p for p in pids_of_state() if b"--upgrade-watchdog" not in cmdline(p)]
    t0 = time.time()
    s, j, _ = upload(package(tree("hangs", hangs=True), "99.4.0", dev))
    t.ok(s == 202 and j.get("version") == "99.4.0", "a version that never confirms: accepted",
         (s, j))
    t.ok(wait_readies(readies + 1, 90), "the previous version came back after the deadline",
         d.lines[-20:])
    j = wait_state("rolled_back", 20)
    t.ok(j and j["version"] == "99.1.0" and "in time" in j["last"]["message"]
         and time.time() - t0 >= 35 and "99.4.0" not in j["installed"],
         f"rolled back at the deadline ({time.time() - t0:.0f} s), 99.4.0 removed", j)
    t.ok(len(running_pids) == 1 and gone(running_pids[0]),
         "the hung version was killed (its process is gone)", running_pids)

    # ---- forced downgrade ----
    s, j, _ = upload(package(good, "98.0.0", dev), force=True)
    t.ok(s == 202 and j.get("version") == "98.0.0", "a downgrade with force=true: accepted",
         (s, j))
    n = d.readies
    t.ok(wait_readies(n + 1, 60), "the daemon came back")
    j = wait_state("confirmed")
    t.ok(j and j["version"] == "98.0.0" and sorted(j["installed"]) == ["98.0.0", "99.1.0"],
         "98.0.0 runs; the previous version (99.1.0) is kept", j)
finally:
    for pid in pids_of_state():
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    end = time.time() + 15
    while pids_of_state() and time.time() < end:
        time.sleep(0.2)
    for pid in pids_of_state():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    d.stop()
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
t.done()
