#!/usr/bin/python3
"""thermocamd end to end: the device's time (manual 10.8).  A real NTP server
on loopback: chronyd -x (it serves without touching the clock) with a local
reference, run under faketime one hour ahead.  The Test action reports its
stratum and the hour; with NTP on, the device's time (GET /time, the events'
times, the audit) moves by the hour within 50 ms; the offset survives a
restart; manual set and the computer's time; the time zone with its own and
a custom DST; a server that stops answering raises the exception
time_sync_failed, and its return ends it."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Events, Tap  # noqa: E402

HOUR_MS = 3600 * 1000
TOL_MS = 50


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Chrony:
    """chronyd -x on 127.0.0.1:port, its files in a temporary directory,
    shifted by @shift (a faketime offset such as "+1h") or not"""

    def __init__(self, port, shift=None):
        self.dir = tempfile.mkdtemp(prefix="tc-chrony-")
        self.port = port
        conf = os.path.join(self.dir, "chrony.conf")
        with open(conf, "w") as f:
            f.write(f"port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\n"
                    "local stratum 3\ncmdport 0\n"
                    f"pidfile {self.dir}/chronyd.pid\ndriftfile {self.dir}/drift\n")
        cmd = ["chronyd", "-x", "-d", "-f", conf]
        if os.geteuid() == 0:
            cmd += ["-u", "root"]
        if shift:
            cmd = ["faketime", "-f", shift] + cmd
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def query(self, timeout=0.5):
        """(stratum, offset s) by one SNTP request of our own, or None"""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(timeout)
        try:
            pkt = bytearray(48)
            pkt[0] = 0x23
            t1 = time.time()
            s.sendto(bytes(pkt), ("127.0.0.1", self.port))
            data, _ = s.recvfrom(1024)
            t4 = time.time()
        except OSError:
            return None
        finally:
            s.close()
        if len(data) < 48 or data[1] == 0:
            return None
        sec, frac = struct.unpack("!II", data[40:48])
        return data[1], sec - 2208988800 + frac / 2**32 - (t1 + t4) / 2

    def wait(self, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                return None
            r = self.query()
            if r:
                return r
            time.sleep(0.2)
        return None

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def parse_iso(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


class Clock:
    """GET /time on one kept-alive connection with a session cookie: one
    round trip, so that the midpoint of the request is close to the moment the
    device read its clock"""

    def __init__(self, d):
        self.d = d
        s, j, h = d.post("session", {"name": "admin", "password": PASSWORD}, auth=False)
        m = re.search(r"thermocam_session=([^;\s]+)", h)
        self.cookie = m.group(1) if m else ""
        self.csrf = j.get("csrf_token", "") if isinstance(j, dict) else ""
        self.conn = None

    def set_ahead(self, ms):
        """PUT /time: the device's time this machine's + @ms, in one round
        trip (the session's cookie and CSRF token); (status, answer)"""
        conn = http.client.HTTPConnection("127.0.0.1", self.d.http, timeout=10)
        try:
            body = json.dumps({"epoch_ms": int(time.time() * 1000 + ms)})
            conn.request("PUT", "/api/v1/time", body=body,
                         headers={"Cookie": "thermocam_session=" + self.cookie,
                                  "X-CSRF-Token": self.csrf,
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            conn.close()

    def skew_ms(self):
        """(device time - this machine's in ms, the answer), the best of 3"""
        best = None
        for _ in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.d.http, timeout=10)
            try:
                t0 = time.time()
                self.conn.request("GET", "/api/v1/time",
                                  headers={"Cookie": "thermocam_session=" + self.cookie})
                r = self.conn.getresponse()
                body = r.read()
                t1 = time.time()
            except (OSError, http.client.HTTPException):
                self.conn = None
                continue
            if r.status != 200:
                return None, body
            j = json.loads(body)
            if best is None or t1 - t0 < best[0]:
                best = (t1 - t0, j["epoch_ms"] - (t0 + t1) / 2 * 1000, j)
        return (best[1], best[2]) if best else (None, None)


CLOCK = None


def device_skew_ms(d):
    global CLOCK
    if CLOCK is None or CLOCK.d is not d:
        CLOCK = Clock(d)
    return CLOCK.skew_ms()


def osd_dates(d, since):
    """[(date text, clock offset µs)] the OSD element logged from line @since
    on (its debug line, once a second)"""
    out = []
    for line in d.lines[since:]:
        m = re.search(r'osd_update_date:.*date "([^"]*)" \(clock offset (-?\d+) us\)', line)
        if m:
            out.append((m.group(1), int(m.group(2))))
    return out


def osd_check(d, want_offset_ms, timeout=5):
    """waits for an OSD date drawn with the device's offset: (its skew to this
    machine's clock + the offset in s, its offset in ms), or None"""
    since = len(d.lines)
    end = time.time() + timeout
    while time.time() < end:
        for text, off in osd_dates(d, since):
            if abs(off / 1000 - want_offset_ms) < TOL_MS:
                shown = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(
                    tzinfo=timezone.utc).timestamp()
                return shown - (time.time() + want_offset_ms / 1000), off / 1000
        time.sleep(0.2)
    return None


# the OSD element says (debug) what date it draws, and with which offset
os.environ["GST_DEBUG"] = "*:1,thermalosd:5"
os.environ["GST_DEBUG_NO_COLOR"] = "1"
t = Tap()
state = tempfile.mkdtemp(prefix="tc-time-")
d = Daemon(state_dir=state).start()
chrony = None
events = None
try:
    d.activate()
    port = free_udp_port()

    # ---- the device's own clock ----
    skew, j = device_skew_ms(d)
    t.ok(skew is not None and abs(skew) < TOL_MS and j["offset_ms"] == 0
         and j["timezone"] == "UTC" and j["ntp"]["state"] == "off",
         "GET /time: the host's time (offset 0), UTC, NTP off", (skew, j))

    # ---- the NTP server: chronyd under faketime, one hour ahead ----
    chrony = Chrony(port, "+1h")
    r = chrony.wait()
    t.ok(r is not None and r[0] == 3 and abs(r[1] - 3600) < 0.05,
         "chronyd -x under faketime +1h answers on loopback: stratum 3, one hour ahead", r)

    s, j, _ = d.post("time/ntp/test", {"server": "127.0.0.1", "port": port})
    t.ok(s == 200 and j["stratum"] == 3 and abs(j["offset_ms"] - HOUR_MS) < TOL_MS
         and j["address"] == "127.0.0.1",
         "the Test action reports stratum 3 and the hour's offset", j)
    skew, _ = device_skew_ms(d)
    t.ok(abs(skew) < TOL_MS, "the Test leaves the clock as it was", skew)

    s, j, _ = d.post("time/ntp/test", {"server": "127.0.0.1", "port": 70000})
    t.ok(s == 400 and j["error"]["field"] == "port", "Test: a port out of range: 400 at port", j)
    s, j, _ = d.post("time/ntp/test", {"server": "bad host!"})
    t.ok(s == 400 and j["error"]["field"] == "server", "Test: a bad server: 400 at server", j)

    # ---- a hostile server: every wrong answer is ignored, the right one taken ----
    hostile = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hostile.bind(("127.0.0.1", 0))
    hostile.settimeout(5)
    good_too = threading.Event()

    def answer(req, **kw):
        li, vn, mode, stratum = kw.get("li", 0), kw.get("vn", 4), kw.get("mode", 4), kw.get("st", 2)
        now = time.time() + 10
        ts = struct.pack("!II", int(now) + 2208988800, int((now % 1) * 2**32))
        origin = kw.get("origin", req[40:48])
        tx = kw.get("tx", ts)
        pkt = bytes([li << 6 | vn << 3 | mode, stratum, 6, 0xEC]) + bytes(20) + origin + ts + tx
        return pkt[:kw["cut"]] if "cut" in kw else pkt + bytes(kw.get("pad", 0))

    def serve_hostile():
        while True:
            try:
                req, peer = hostile.recvfrom(2048)
            except OSError:
                return
            for kw in ({"cut": 20}, {"origin": bytes(8)}, {"st": 0}, {"li": 3}, {"mode": 3},
                       {"vn": 1}, {"tx": bytes(8)}, {"st": 16}, {"origin": b"x" * 8, "pad": 1500}):
                hostile.sendto(answer(req, **kw), peer)
            if good_too.is_set():
                hostile.sendto(answer(req, pad=100), peer)

    threading.Thread(target=serve_hostile, daemon=True).start()
    hport = hostile.getsockname()[1]
    s, j, _ = d.put("config/time", {"ntp": {"timeout_ms": 500}})
    s, j, _ = d.post("time/ntp/test", {"server": "127.0.0.1", "port": hport})
    t.ok(s == 504 and j["error"]["code"] == "ntp_failed",
         "a server that answers only wrongly (short, another origin, stratum 0 or 16, "
         "unsynchronised, a client's mode, version 1, no time, oversized): ignored, 504", (s, j))
    good_too.set()
    s, j, _ = d.post("time/ntp/test", {"server": "127.0.0.1", "port": hport})
    t.ok(s == 200 and j["stratum"] == 2 and abs(j["offset_ms"] - 10000) < TOL_MS,
         "after the wrong answers, the right one is taken (stratum 2, +10 s)", (s, j))
    good_too.clear()
    # at most four Tests at once
    results = []

    def one_test():
        results.append(d.post("time/ntp/test", {"server": "127.0.0.1", "port": hport})[0])

    threads = [threading.Thread(target=one_test) for _ in range(7)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.ok(results.count(503) >= 1 and results.count(504) >= 4 and len(results) == 7,
         "at most four Tests at once: the others 503", sorted(results))
    hostile.close()
    s, j, _ = d.put("config/time", {"ntp": {"timeout_ms": 2000}})

    events = Events(d)
    time.sleep(0.5)
    s, j, _ = d.put("config/time", {"ntp": {"enabled": True, "server": "127.0.0.1",
                                            "port": port, "interval_s": 60}})
    t.ok(s == 200 and j["ntp"]["enabled"] is True, "NTP switched on through PUT /config/time", j)
    end = time.time() + 5
    skew = None
    while time.time() < end:
        skew, j = device_skew_ms(d)
        if skew is not None and abs(skew - HOUR_MS) < 1000:
            break
        time.sleep(0.1)
    skew, j = device_skew_ms(d)
    t.ok(abs(skew - HOUR_MS) < TOL_MS,
         "the device's time moved by the hour within 50 ms (GET /time)", (skew, j))
    t.ok(j["ntp"]["state"] == "ok" and j["ntp"]["stratum"] == 3
         and abs(j["ntp"]["last_offset_ms"] - HOUR_MS) < TOL_MS,
         "GET /time's ntp: ok, stratum 3, the last correction one hour (a step)", j["ntp"])
    r = osd_check(d, j["offset_ms"])
    t.ok(r is not None and -2.5 < r[0] < 1.5 and abs(r[1] - j["offset_ms"]) < TOL_MS,
         "the OSD draws the device's date: its offset is the clock's within 50 ms, "
         "its text one hour ahead (to the second)", (r, j["offset_ms"]))

    # an event stamped now carries the device's time
    n = len(events.events)
    before = time.time()
    s, _, _ = d.put("config/device", {"name": "Clock Test"})
    ev = events.wait(lambda e: e[0] == "config", 5, since=n)
    after = ev[2] if ev else time.time()
    if ev:
        et = parse_iso(ev[1]["time"])
        ok = before + 3600 - TOL_MS / 1000 <= et <= after + 3600 + TOL_MS / 1000
    else:
        et, ok = None, False
    t.ok(ok, "an event's time is the device's: one hour ahead (within 50 ms)",
         (before, et, after))

    s, j, _ = d.get("system/audit-log")
    last = None
    if s == 200:
        recs = j.get("records") or []
        times = [parse_iso(r["time"]) for r in recs if isinstance(r, dict) and "time" in r]
        last = max(times) if times else None
    t.ok(last is not None and abs(last - (time.time() + 3600)) < 30,
         "the audit log stamps the device's time", (last, time.time() + 3600, j))

    s, j, _ = d.put("time", {"utc": "2030-01-01T00:00:00Z"})
    t.ok(s == 409 and j["error"]["field"] == "time.ntp.enabled",
         "a manual set while NTP is on: 409 naming time.ntp.enabled", j)

    # ---- the server stops answering ----
    chrony.stop()
    chrony = None
    n = len(events.events)
    s, j, _ = d.put("config/time", {"ntp": {"interval_s": 120, "timeout_ms": 300}})
    ev = events.wait(lambda e: e[0] == "exception" and e[1].get("type") == "time_sync_failed"
                     and e[1].get("state") == "start", 5, since=n)
    t.ok(ev is not None, "a dead server raises the exception time_sync_failed (start)",
         ev and ev[1])
    s, j, _ = d.get("time")
    t.ok(j["ntp"]["state"] == "failing" and "error" in j["ntp"]
         and abs(j["offset_ms"] - HOUR_MS) < 1000,
         "GET /time: failing, with the error; the clock keeps its hour", j)
    s, j, _ = d.post("time/ntp/test", {})
    t.ok(s in (502, 504) and j["error"]["code"] == "ntp_failed",
         "Test against the dead server: 502/504 ntp_failed", (s, j))
    # it comes back (now without the shift): the next sync ends the exception
    chrony = Chrony(port)
    t.ok(chrony.wait() is not None, "chronyd back on the same port, unshifted")
    n = len(events.events)
    s, j, _ = d.put("config/time", {"ntp": {"interval_s": 60}})
    ev = events.wait(lambda e: e[0] == "exception" and e[1].get("type") == "time_sync_failed"
                     and e[1].get("state") == "stop", 5, since=n)
    t.ok(ev is not None, "the server's return ends the exception (stop)", ev and ev[1])
    end = time.time() + 5
    while time.time() < end:
        skew, j = device_skew_ms(d)
        if abs(skew) < 1000:
            break
        time.sleep(0.1)
    t.ok(abs(skew) < TOL_MS, "the device's time follows the server back (step)", skew)
    s, j = device_skew_ms(d)
    r = osd_check(d, j["offset_ms"])
    t.ok(r is not None and -2.5 < r[0] < 1.5, "and the OSD's date with it", (r, j["offset_ms"]))

    # ---- a small offset is slewed, not stepped ----
    s, j, _ = d.put("config/time", {"ntp": {"enabled": False}})
    # 0.2 s ahead, set in one round trip
    device_skew_ms(d)
    s, j = CLOCK.set_ahead(200)
    skew0, _ = device_skew_ms(d)
    t.ok(s == 200 and 100 < skew0 < 400, "the device ahead by a fraction of a second (set by hand)",
         skew0)
    s, j, _ = d.put("config/time", {"ntp": {"enabled": True, "policy": "auto",
                                            "step_threshold_ms": 500}})
    end = time.time() + 5
    while time.time() < end:
        s, j = device_skew_ms(d)
        if j and j["ntp"]["state"] == "ok":
            break
        time.sleep(0.1)
    skew1, j = device_skew_ms(d)
    left = j["ntp"]["slewing_ms"]
    t.ok(j["ntp"]["state"] == "ok" and abs(left + skew0) < 20 and abs(skew1 - skew0) < 20,
         "under step_threshold_ms the correction slews: the time does not jump, "
         "the whole correction is left to do", (skew0, skew1, j["ntp"]))
    time.sleep(2)
    skew2, j2 = device_skew_ms(d)
    left2 = j2["ntp"]["slewing_ms"]
    t.ok(0.5 <= left2 - left <= 2.5 and skew2 < skew1 + 5,
         "the slew moves at 0.5 ms per second, never forward", (left, left2, skew1, skew2))

    # ---- manual set, kept across a restart ----
    s, j, _ = d.put("config/time", {"ntp": {"enabled": False}})
    t.ok(s == 200, "NTP off", j)
    target = time.time() + 2 * 86400 + 0.25
    t0 = time.time()
    s, j, _ = d.put("time", {"epoch_ms": int(target * 1000)})
    want = (target + (time.time() - t0) / 2) * 1000
    t.ok(s == 200 and abs(j["epoch_ms"] - want) < TOL_MS + (time.time() - t0) * 1000,
         "PUT /time (the computer's time, epoch_ms) sets the device's time", (j, want))
    d.stop()
    d = Daemon(state_dir=state).start()
    skew, j = device_skew_ms(d)
    t.ok(abs(skew - 2 * 86400 * 1000) < TOL_MS + 300,
         "the offset survives a restart", (skew, j.get("offset_ms")))
    t0 = time.time()
    s, j, _ = d.put("time", {"utc": "2031-06-15T12:00:00+02:00"})
    took_ms = (time.time() - t0) * 1000
    # the answer reads the clock after setting it (and writing the audit)
    skew_ms = j["epoch_ms"] - parse_iso("2031-06-15T10:00:00Z") * 1000 if s == 200 else None
    t.ok(s == 200 and 0 <= skew_ms < took_ms and j["utc"].startswith("2031-06-15T10:00:00"),
         "PUT /time with an ISO 8601 time and zone", (j, took_ms))
    skew, j = device_skew_ms(d)
    want = (parse_iso("2031-06-15T10:00:00Z") - t0) * 1000
    # set at some moment of the request: device - host within [want - took, want]
    t.ok(want - took_ms - TOL_MS < skew < want + TOL_MS,
         "GET /time then reads that time on", (skew, want, took_ms))
    for body, field in (({"utc": "yesterday"}, "utc"), ({"epoch_ms": "1"}, "epoch_ms"),
                        ({"utc": "1990-01-01T00:00:00Z"}, "utc"), ({"when": 1}, "when"),
                        ({}, "utc")):
        s, j, _ = d.put("time", body)
        t.ok(s == 400 and j["error"]["field"] == field, f"PUT /time {body}: 400 at {field}", j)

    # ---- zone and DST ----
    s, j, _ = d.put("config/time", {"timezone": "Europe/Paris", "dst": {"mode": "zone"}})
    s, j, _ = d.get("time")
    t.ok(j["zone"] == "Europe/Paris" and j["utc_offset_s"] == 7200 and j["dst"] is True
         and j["local"].endswith("+02:00") and j["local"][11:13] == "12",
         "Europe/Paris by its own rules: June 2031 is summer time, +02:00", j)
    s, j, _ = d.put("config/time", {"dst": {"mode": "off"}})
    s, j, _ = d.get("time")
    t.ok(j["utc_offset_s"] == 3600 and j["dst"] is False,
         "DST off: the zone's standard offset, +01:00", j)
    s, j, _ = d.put("config/time", {"dst": {"mode": "custom", "bias_min": 30,
                                            "start": {"month": 6, "week": 1, "weekday": 0,
                                                      "hour": 2},
                                            "end": {"month": 7, "week": 1, "weekday": 0,
                                                    "hour": 3}}})
    s, j, _ = d.get("time")
    t.ok(j["utc_offset_s"] == 3600 + 1800 and j["dst"] is True
         and j["local"].endswith("+01:30"),
         "a custom DST (first Sunday of June to first Sunday of July, 30 min): +01:30", j)
    s, j, _ = d.put("config/time", {"dst": {"start": {"month": 7, "week": 1},
                                            "end": {"month": 7, "week": 1}}})
    t.ok(s == 400 and j["error"]["field"] == "time.dst.end",
         "a DST that starts and ends in the same week: 400 at time.dst.end", j)
    s, j, _ = d.put("config/time", {"dst": {"bias_min": 45}})
    t.ok(s == 400 and j["error"]["field"] == "time.dst.bias_min",
         "a bias other than 30, 60, 90, 120: 400 at time.dst.bias_min", j)
    s, j, _ = d.get("config/time")
    t.ok(j["dst"]["bias_min"] == 30 and j["timezone"] == "Europe/Paris",
         "the refused changes changed nothing", j)
finally:
    if events:
        events.close()
    if chrony:
        chrony.stop()
    d.stop()
    shutil.rmtree(state, ignore_errors=True)
t.done()
