#!/usr/bin/python3
"""thermocamd benchmark: CPU use of the daemon at 640x512, 30 fps alone, with
a Modbus master polling at 100 Hz and with one RTSP client; the Modbus round
trip; the delay from capture to the RTP packet leaving; the delay from a
threshold crossing to the alarm event.  Prints JSON (figures, not a test).

  THERMOCAM_BUILD=build /usr/bin/python3 tests/bench/bench-daemon.py [seconds]
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from daemon import Daemon, Events  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


d = Daemon().start()
d.activate()
d.wait_frames()
result = {"resolution": "640x512", "fps": 30}

# idle: the core alone (measurement, palette, OSD, no viewer)
time.sleep(2)
c0, t0 = cpu_seconds(d.proc.pid), time.time()
time.sleep(SECONDS / 2)
result["cpu_core_only_percent_of_one_core"] = round(100 * (cpu_seconds(d.proc.pid) - c0) / (time.time() - t0), 1)

# a PLC on Modbus TCP: every 10 ms, the scene (input registers 6-8) and all
# 40 rules (100-259), over one connection; the round trip of each
sock = socket.create_connection(("127.0.0.1", d.modbus), timeout=2)
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def modbus_read(tid, addr, count):
    sock.sendall(struct.pack(">HHHBBHH", tid & 0xFFFF, 0, 6, 1, 4, addr, count))
    want, got = 9 + 2 * count, b""
    while len(got) < want:
        got += sock.recv(want - len(got))
    return got


rtts, n = [], 0
c0, t0 = cpu_seconds(d.proc.pid), time.time()
while time.time() - t0 < SECONDS / 2:
    for addr, count in ((6, 3), (100, 125), (225, 35)):
        start = time.perf_counter()
        modbus_read(n, addr, count)
        rtts.append((time.perf_counter() - start) * 1000)
        n += 1
    time.sleep(0.01)
result["cpu_modbus_100hz_percent_of_one_core"] = round(
    100 * (cpu_seconds(d.proc.pid) - c0) / (time.time() - t0), 1)
sock.close()
rtts.sort()
result["modbus_round_trip_ms"] = {"n": len(rtts), "mean": round(sum(rtts) / len(rtts), 3),
                                  "p99": round(rtts[int(len(rtts) * 0.99)], 3),
                                  "max": round(rtts[-1], 3)}

# one RTSP client (the main stream, H.264 640x512 30 fps)
client = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp",
                           "-i", d.rtsp_url("main"), "-t", str(SECONDS + 6), "-c", "copy", "-f", "null", "-"])
time.sleep(3)
s, diag0, _ = d.get("system/diagnostics")
c0, t0 = cpu_seconds(d.proc.pid), time.time()
time.sleep(SECONDS)
c1, t1 = cpu_seconds(d.proc.pid), time.time()
s, diag1, _ = d.get("system/diagnostics")
client.wait()
result["cpu_one_rtsp_client_percent_of_one_core"] = round(100 * (c1 - c0) / (t1 - t0), 1)
result["core_fps"] = round((diag1["pipeline"]["frames"] - diag0["pipeline"]["frames"]) / (t1 - t0), 1)
main = [o for o in diag1["pipeline"]["outlets"] if o["stream"] == "main"]
if main:
    result["capture_to_rtp_ms"] = {k: round(v, 2) for k, v in main[0]["latency_ms"].items()}

# alarm delay: a rule on the heating object (40 -> 90 C over 120 s) with its
# threshold just above the present reading; each event says how long after
# the frame's capture it was sent, and the client sees it at its arrival
ev = Events(d)
delays, arrivals = [], []
rule = {"name": "heater", "type": "polygon",
        "points": [[0.77, 0.40], [0.87, 0.40], [0.87, 0.56], [0.77, 0.56]]}
s, r, _ = d.post("rules", rule)
rid = r["id"]
for i in range(5):
    time.sleep(0.5)
    s, j, _ = d.get("temperatures")
    now = [x for x in j["rules"] if x["id"] == rid][0]["max"]
    alarm = {"enabled": True, "on": "max", "condition": "above", "pre_alarm": round(now + 0.3, 2),
             "alarm": round(now + 0.6, 2), "tolerance": 0.1, "filter_time": 0}
    d.put(f"rules/{rid}", {"alarm": alarm})
    e = ev.wait(lambda x: x[0] == "alarm" and x[1].get("rule") == rid and x[1]["level"] == "alarm"
                and x[1]["state"] == "start" and x[1]["threshold"] == alarm["alarm"], 20)
    if e and "delay_ms" in e[1]:
        delays.append(e[1]["delay_ms"])
ev.close()
if delays:
    result["capture_to_alarm_event_ms"] = {"n": len(delays), "mean": round(sum(delays) / len(delays), 2),
                                           "max": max(delays)}
d.stop()
print(json.dumps(result, indent=2))
