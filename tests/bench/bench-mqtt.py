#!/usr/bin/python3
"""thermocamd MQTT benchmark (figures, not a test): the daemon's CPU with 40
rules at 640x512, 30 fps: without MQTT and without the history writing, then
with the history writing, then with it and MQTT publishing the readings of
the scene and of every rule on every frame to a real mosquitto on loopback (a
mosquitto_sub taking everything), then without both again (the figure
drifts: the others are compared with the mean of the windows without); the
messages a second the subscriber got.  Prints JSON.

  THERMOCAM_BUILD=build /usr/bin/python3 tests/bench/bench-mqtt.py [seconds]
"""
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from daemon import Daemon, wait_for  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
HZ = os.sysconf("SC_CLK_TCK")


def cpu_percent(pid, seconds):
    def cpu():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / HZ
    c0, t0 = cpu(), time.time()
    time.sleep(seconds)
    return round(100 * (cpu() - c0) / (time.time() - t0), 1)


tmp = tempfile.mkdtemp(prefix="thermocam-bench-mqtt-")
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
conf = os.path.join(tmp, "mosquitto.conf")
with open(conf, "w") as f:
    f.write(f"user {pwd.getpwuid(os.getuid()).pw_name}\nallow_anonymous true\n"
            f"listener {port} 127.0.0.1\nmax_queued_messages 100000\n")
broker = subprocess.Popen(["mosquitto", "-c", conf], stderr=subprocess.DEVNULL)
count = [0]


def take(proc):
    for _ in proc.stdout:
        count[0] += 1


d = Daemon().start()
sub = None
result = {"resolution": "640x512", "fps": 30, "rules": 40, "seconds": SECONDS}
try:
    d.activate()
    d.wait_frames()
    # 40 rectangles over the picture, in a grid of 8 x 5, each with an alarm
    for i in range(40):
        x, y = (i % 8) / 8, (i // 8) / 5
        d.post("rules", {"name": f"r{i + 1}", "type": "polygon",
                         "points": [[x + 0.01, y + 0.01], [x + 0.11, y + 0.01],
                                    [x + 0.11, y + 0.18], [x + 0.01, y + 0.18]],
                         "alarm": {"enabled": True, "on": "max", "pre_alarm": 500, "alarm": 600}})
    wait_for(lambda: socket.create_connection(("127.0.0.1", port), 0.5), 10)
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", "#"],
                           stdout=subprocess.PIPE, text=True)
    threading.Thread(target=take, args=(sub,), daemon=True).start()
    time.sleep(2)
    # without: no MQTT, no history writing
    d.put("config/history", {"enabled": False})
    time.sleep(3)
    off = [cpu_percent(d.proc.pid, SECONDS)]
    d.put("config/history", {"enabled": True})
    time.sleep(3)
    history = cpu_percent(d.proc.pid, SECONDS)
    d.put("config/mqtt", {"enabled": True, "server": "127.0.0.1", "port": port,
                          "readings_interval_ms": 0, "discovery": {"enabled": False}})
    time.sleep(3)
    n0, t0 = count[0], time.time()
    on = cpu_percent(d.proc.pid, SECONDS)
    rate = (count[0] - n0) / (time.time() - t0)
    s, diag, _ = d.get("system/diagnostics")
    d.put("config/mqtt", {"enabled": False})
    d.put("config/history", {"enabled": False})
    time.sleep(3)
    off.append(cpu_percent(d.proc.pid, SECONDS))
    base = sum(off) / 2
    result["cpu_percent_of_one_core"] = {
        "without": off, "history_writing": history, "history_and_mqtt_every_frame": on,
        "history_above_without": round(history - base, 1),
        "mqtt_above_history": round(on - history, 1),
        "both_above_without": round(on - base, 1)}
    result["messages_per_s_received"] = round(rate, 1)
    result["mqtt"] = diag.get("mqtt")
finally:
    if sub:
        sub.terminate()
    d.stop()
    broker.terminate()
    broker.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))
