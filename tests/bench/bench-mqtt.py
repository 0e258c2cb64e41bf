#!/usr/bin/python3
"""thermocamd MQTT benchmark (figures, not a test): the daemon's CPU with 40
rules at 640x512, 30 fps: without MQTT and without the history writing, then
with the history writing, and with it and MQTT publishing the readings of
the scene and of every rule on every frame to a real mosquitto on loopback (a
mosquitto_sub taking everything): the three in turn, several cycles, each
cycle's differences apart and their median as the figure (the machine's
drift between windows a minute apart is larger than the figure); the
messages a second the subscriber got.  Prints JSON.

  THERMOCAM_BUILD=build /usr/bin/python3 tests/bench/bench-mqtt.py [seconds [cycles]]
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

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
CYCLES = int(sys.argv[2]) if len(sys.argv) > 2 else 6
HZ = os.sysconf("SC_CLK_TCK")


def cpu_percent(pid, seconds):
    """the process's CPU and its main thread's (the main loop, where MQTT's
    work is done) over @seconds, in % of one core"""
    def cpu(path):
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / HZ
    whole, main = f"/proc/{pid}/stat", f"/proc/{pid}/task/{pid}/stat"
    c0, m0, t0 = cpu(whole), cpu(main), time.time()
    time.sleep(seconds)
    dt = time.time() - t0
    return (round(100 * (cpu(whole) - c0) / dt, 1), round(100 * (cpu(main) - m0) / dt, 1))


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
    mqtt_on = {"enabled": True, "server": "127.0.0.1", "port": port,
               "readings_interval_ms": 0, "discovery": {"enabled": False}}
    states = {
        "without": ({"enabled": False}, {"enabled": False}),
        "history": ({"enabled": True}, {"enabled": False}),
        "both": ({"enabled": True}, mqtt_on),
    }
    windows = {k: [] for k in states}
    main_thread = {k: [] for k in states}
    rates = []
    # the three states in turn, CYCLES times: the machine's drift (up to
    # 4 points between windows a minute apart) is shared by the windows of
    # one cycle, so each cycle gives its own differences and the median of
    # them is the figure
    for cycle in range(CYCLES):
        for name, (history, mqtt) in states.items():
            d.put("config/history", history)
            d.put("config/mqtt", mqtt)
            time.sleep(2)
            n0, t0 = count[0], time.time()
            whole, main = cpu_percent(d.proc.pid, SECONDS)
            windows[name].append(whole)
            main_thread[name].append(main)
            if name == "both":
                rates.append((count[0] - n0) / (time.time() - t0))
    s, diag, _ = d.get("system/diagnostics")
    d.put("config/mqtt", {"enabled": False})
    d.put("config/history", {"enabled": False})

    def med(xs):
        xs = sorted(xs)
        n = len(xs)
        return round((xs[n // 2] + xs[(n - 1) // 2]) / 2, 2)

    both = [b - w for b, w in zip(windows["both"], windows["without"])]
    mqtt = [b - h for b, h in zip(windows["both"], windows["history"])]
    hist = [h - w for h, w in zip(windows["history"], windows["without"])]
    result["cycles"] = CYCLES
    result["cpu_percent_of_one_core"] = windows
    result["main_thread_cpu_percent"] = main_thread
    mboth = [b - w for b, w in zip(main_thread["both"], main_thread["without"])]
    result["points_above"] = {
        "both_above_without": {"median": med(both), "each": [round(x, 1) for x in both]},
        "mqtt_above_history": {"median": med(mqtt), "each": [round(x, 1) for x in mqtt]},
        "history_above_without": {"median": med(hist), "each": [round(x, 1) for x in hist]},
        "main_thread_both_above_without": {"median": med(mboth),
                                           "each": [round(x, 1) for x in mboth]},
    }
    result["target"] = "both_above_without under 2 points"
    result["messages_per_s_received"] = round(sum(rates) / len(rates), 1)
    result["mqtt"] = diag.get("mqtt")
finally:
    if sub:
        sub.terminate()
    d.stop()
    broker.terminate()
    broker.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))
