#!/usr/bin/python3
"""thermocam web benchmark (figures, not a test): glass-to-glass latency of the
web page's live view, from the sensor's capture of a frame (the daemon states
it in each fMP4 segment and each MJPEG part) to its presentation in headless
Chromium (requestVideoFrameCallback; for MJPEG, the animation frame after the
part is drawn), both on this machine's clock; the daemon's CPU with one RTSP
client alone, then with 1 and 10 page viewers beside it (10 in three rounds,
each between two windows of the client alone); the radiometric
frames' rate and bandwidth per viewer at the rates a page may ask.  Prints JSON.

  THERMOCAM_BUILD=build /usr/bin/python3 tests/bench/bench-web.py [seconds]

Needs what scripts/setup.sh installs (chromium, node, npm ci's puppeteer-core).
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import time
import urllib.request
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from daemon import PASSWORD, Daemon  # noqa: E402
from wsclient import BINARY, CLOSE, WebSocket  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 15.0
ROUNDS = 3                      # of 10 pages, each between two windows alone
HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def cpu_percent(pid, seconds):
    c0, t0 = cpu_seconds(pid), time.time()
    time.sleep(seconds)
    return round(100 * (cpu_seconds(pid) - c0) / (time.time() - t0), 1)


class Browser:
    def __init__(self, d):
        env = dict(os.environ, WEB_BASE=f"http://127.0.0.1:{d.http}/", WEB_ACCOUNTS=json.dumps(ACCOUNTS),
                   CHROMIUM=os.environ.get("CHROMIUM") or shutil.which("chromium"),
                   NODE_PATH=os.path.join(ROOT, "node_modules"))
        self.proc = subprocess.Popen(["node", os.path.join(HERE, "bench-web.mjs")], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        answer = json.loads(line) if line else {"ok": False, "error": "the browser is gone"}
        if not answer.get("ok"):
            raise RuntimeError(f"{cmd}: {answer}")
        return answer

    def quit(self):
        try:
            self.proc.stdin.write('{"cmd":"quit"}\n')
            self.proc.stdin.flush()
            self.proc.wait(20)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


def radiometry(d, rate, seconds):
    """frames per second and bytes per second of the radiometric frames at @rate"""
    req = urllib.request.Request(f"http://127.0.0.1:{d.http}/api/v1/session", method="POST",
                                 data=json.dumps({"name": "meter", "password": "Gauge#2026xq"}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        cookie = r.headers["Set-Cookie"].split(";")[0]
    ws = WebSocket(d.http, headers=["Cookie: " + cookie])
    ws.send_text(json.dumps({"type": "radiometry", "rate": rate}))
    frames, size, raw = 0, 0, 0
    end = time.time() + seconds
    while time.time() < end:
        got = ws.recv(timeout=2)
        if not got or got[0] == CLOSE:
            break
        op, data = got
        if op == BINARY and data and data[0] == 3:
            frames += 1
            size += len(data)
            w, h = struct.unpack_from("<HH", data, 16)
            raw = 2 * w * h
            zlib.decompress(data[24:])
    ws.close()
    return {"asked_per_s": rate, "frames_per_s": round(frames / seconds, 2),
            "kbytes_per_s": round(size / seconds / 1024, 1),
            "compressed_to_percent": round(100 * size / max(frames, 1) / max(raw, 1), 1)}


d = Daemon().start()
d.activate()
d.wait_frames()
ACCOUNTS = [["admin", PASSWORD]] + [[f"viewer{i}", f"Watch#2026v{i}"] for i in (1, 2)]
for name, password in ACCOUNTS[1:] + [["meter", "Gauge#2026xq"]]:
    d.post("users", {"name": name, "password": password, "level": "user"})
result = {"resolution": "640x512", "fps": 30, "seconds": SECONDS}
browser = None
client = None
try:
    client = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp",
                               "-i", d.rtsp_url("main"), "-c", "copy", "-f", "null", "-"])
    time.sleep(3)
    # the RTSP client alone between rounds of pages: the figure drifts by a
    # point or two over a run (this machine's other work, its clock), so each
    # round of pages is compared with the mean of the windows alone just
    # before and just after it, and the rounds' median is the figure
    alone = [cpu_percent(d.proc.pid, SECONDS)]
    ten = []

    browser = Browser(d)
    browser.ask(cmd="open", n=1)
    time.sleep(2)
    # the daemon's CPU (the browser's own work is on the other core)
    one = cpu_percent(d.proc.pid, SECONDS)
    a = browser.ask(cmd="latency", seconds=SECONDS)
    result["glass_to_glass_mse_ms"] = a["latency"]
    result["mse_frames"] = a["dropped"]

    browser.ask(cmd="open", n=9)
    time.sleep(3)
    ten.append(cpu_percent(d.proc.pid, SECONDS))
    s, diag, _ = d.get("system/diagnostics")
    result["encoders"] = diag.get("encoders") or diag.get("rtsp", {}).get("encoders")
    browser.ask(cmd="close")

    a = browser.ask(cmd="mjpeg", seconds=SECONDS)
    result["glass_to_glass_mjpeg_ms"] = a["latency"]
    browser.ask(cmd="closeall")
    for _ in range(ROUNDS - 1):
        time.sleep(3)
        alone.append(cpu_percent(d.proc.pid, SECONDS))
        browser.ask(cmd="open", n=10)
        time.sleep(3)
        ten.append(cpu_percent(d.proc.pid, SECONDS))
        browser.ask(cmd="closeall")
    browser.quit()
    browser = None
    time.sleep(3)
    alone.append(cpu_percent(d.proc.pid, SECONDS))
    above = [round(t - (alone[i] + alone[i + 1]) / 2, 1) for i, t in enumerate(ten)]
    result["cpu_percent_of_one_core"] = {
        "rtsp_client_alone": alone, "rtsp_and_1_page": one, "rtsp_and_10_pages": ten,
        "1_page_above_alone": round(one - (alone[0] + alone[1]) / 2, 1),
        "10_pages_above_alone_per_round": above,
        "10_pages_above_alone": sorted(above)[len(above) // 2]}

    result["radiometry"] = [radiometry(d, r, min(SECONDS, 10)) for r in (4, 8)]
finally:
    if browser:
        browser.quit()
    if client:
        client.terminate()
        client.wait(10)
    d.stop()
    print(json.dumps(result, indent=2))
