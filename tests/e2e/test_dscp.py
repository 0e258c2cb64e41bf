#!/usr/bin/python3
"""QoS (manual 10.12.6) on the wire and the WebSocket ports (manual 9.2),
with G_DEBUG=fatal-criticals.  A packet socket on loopback (root; the test
is skipped without it) sees the DSCP set in network.qos: video on RTP (UDP)
and on the RTSP answers, alarm on a delivery to a center receiver, management
on an HTTP answer and on Modbus TCP, IPv6 (traffic class) and IPv4 through a
dual-stack socket; a change applies to new connections.
The WebSocket port serves the live view socket (101) and nothing else (404);
ports.websocket moves without a restart and a busy port is refused."""
import base64
import http.server
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap, wait_for  # noqa: E402

os.environ["G_DEBUG"] = "fatal-criticals"
t = Tap()

ETH_P_ALL = 3


class Sniffer:
    """IPv4 packets on lo: (tos, proto, src port, dst port, payload)"""

    def __init__(self):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.bind(("lo", 0))
        self.s.settimeout(0.2)
        self.packets = []
        self.stop = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while not self.stop:
            try:
                frame = self.s.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(frame) < 14 + 40:
                continue
            ip = frame[14:]
            if frame[12:14] == b"\x08\x00":
                ihl = (ip[0] & 0x0F) * 4
                tos, proto, fam = ip[1], ip[9], 4
            elif frame[12:14] == b"\x86\xdd":
                # the traffic class straddles the first two bytes
                ihl = 40
                tos, proto, fam = ((ip[0] & 0x0F) << 4) | (ip[1] >> 4), ip[6], 6
            else:
                continue
            if proto not in (6, 17) or len(ip) < ihl + 4:
                continue
            sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
            if proto == 6:
                off = ((ip[ihl + 12] >> 4) * 4) if len(ip) > ihl + 12 else 20
                payload = ip[ihl + off:]
            else:
                payload = ip[ihl + 8:]
            self.packets.append((tos >> 2, proto, sport, dport, bytes(payload[:16]), fam))

    def mark(self):
        return len(self.packets)

    def since(self, n, pred, timeout=3):
        """the packets from mark @n on that @pred takes (waits for the first)"""
        wait_for(lambda: any(pred(p) for p in self.packets[n:]), timeout, 0.05)
        time.sleep(0.2)
        return [p for p in self.packets[n:] if pred(p)]

    def close(self):
        self.stop = True
        self.s.close()


def ws_handshake(port, page, path="/api/v1/live/ws", user="admin"):
    """the status of a WebSocket handshake (Digest through curl) from the
    page of port @page (Origin)"""
    from daemon import PASSWORD
    key = base64.b64encode(os.urandom(16)).decode()
    r = subprocess.run(["curl", "-s", "-i", "-N", "-m", "3", "--digest", "-u", f"{user}:{PASSWORD}",
                        "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
                        "-H", f"Sec-WebSocket-Key: {key}", "-H", "Sec-WebSocket-Version: 13",
                        "-H", f"Origin: http://127.0.0.1:{page}",
                        f"http://127.0.0.1:{port}{path}"], capture_output=True, timeout=15)
    codes = [int(line.split()[1]) for line in r.stdout.decode(errors="replace").splitlines()
             if line.startswith("HTTP/1.1 ")]
    return codes[-1] if codes else 0


def udp_ports(pid):
    """the local ports of the UDP sockets of process @pid (/proc)"""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for name in ("udp", "udp6"):
        try:
            lines = open(f"/proc/net/{name}").read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[9] in inodes:
                ports.add(int(f[1].split(":")[1], 16))
    return ports


def in_use(d, name):
    """the port in use now, or None while the servers restart"""
    r = d.get("config/ports")
    return r[1].get("in_use", {}).get(name) if r[0] == 200 else None


class Receiver:
    """a center receiver: takes the POSTs"""

    def __init__(self):
        self.bodies = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                outer.bodies.append(self.rfile.read(min(n, 65536)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


if os.geteuid() != 0:
    print("1..0 # SKIP a packet socket needs root")
    sys.exit(0)

VIDEO, ALARM, MGMT = 46, 34, 18
d = Daemon(extra=["--websocket-port", "0", "--websockets-port", "0"])
sn = Sniffer()
rx = Receiver()
ff = None
try:
    d.start()
    d.activate()
    d.wait_frames()
    s, ports, _ = d.get("config/ports")
    t.ok(s == 200 and ports["in_use"]["websocket"] == 0 and ports["websocket_enabled"] is False,
         "the WebSocket port is off by default", ports)
    r = d.put("config/ports", {"websocket_enabled": True})
    ws = in_use(d, "websocket")
    t.ok(r[0] == 200 and ws and ws > 0, "ports.websocket_enabled: it listens at once", r[:2])
    r = d.put("config/network", {"qos": {"video_dscp": VIDEO, "alarm_dscp": ALARM,
                                         "management_dscp": MGMT}})
    t.ok(r[0] == 200 and r[1]["qos"]["video_dscp"] == VIDEO, "network.qos set", r[:2])

    # ---- management: an HTTP answer ----
    n = sn.mark()
    d.get("device")
    got = sn.since(n, lambda p: p[1] == 6 and p[2] == d.http and p[4][:5] == b"HTTP/")
    t.ok(got and all(p[0] == MGMT for p in got),
         f"an HTTP answer carries DSCP {MGMT} (management)", got[:4])
    # Modbus TCP answers
    n = sn.mark()
    with socket.create_connection(("127.0.0.1", d.modbus), timeout=5) as m:
        m.sendall(struct.pack(">HHHBBHH", 1, 0, 6, 1, 4, 0, 2))
        m.recv(256)
    got = sn.since(n, lambda p: p[1] == 6 and p[2] == d.modbus and len(p[4]) > 0)
    t.ok(got and all(p[0] == MGMT for p in got),
         f"a Modbus TCP answer carries DSCP {MGMT} (management)", got[:4])

    # ---- video: RTP over UDP and the RTSP answers ----
    n = sn.mark()
    ff = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "udp", "-i",
                           d.rtsp_url("main"), "-t", "3", "-f", "null", "-"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # the daemon's own UDP ports (other tests stream on lo too)
    mine = set()
    wait_for(lambda: mine.update(udp_ports(d.proc.pid)) or len(mine) >= 2, 15, 0.2)
    err = ff.communicate(timeout=60)[1]
    rtp = sn.since(n, lambda p: p[1] == 17 and p[2] in mine and len(p[4]) >= 12
                   and (p[4][0] & 0xC0) == 0x80)
    media = [p for p in rtp if (p[4][1] & 0x7F) == 96]
    t.ok(len(media) > 10 and all(p[0] == VIDEO for p in media),
         f"RTP over UDP ({len(media)} packets from the daemon's ports {sorted(mine)}) carries "
         f"DSCP {VIDEO} (video)", (err[-400:], [p for p in media if p[0] != VIDEO][:6], rtp[:4]))
    rtsp = sn.since(n, lambda p: p[1] == 6 and p[2] == d.rtsp and p[4][:5] == b"RTSP/")
    t.ok(rtsp and all(p[0] == VIDEO for p in rtsp),
         f"the RTSP answers carry DSCP {VIDEO}", rtsp[:4])

    # ---- alarm: a delivery to the center ----
    d.put("config/delivery", {"timeout_s": 3, "retry_initial_s": 1, "retry_max_s": 2})
    d.put("config/center", {"receivers": [{"url": f"http://127.0.0.1:{rx.port}/alarms"}]})
    d.put("config/alarm_inputs", {"inputs": [
        {"id": 1, "name": "Door", "enabled": True, "linkage": {"center": True}},
        {"id": 2, "name": "B"}, {"id": 3, "name": "C"}, {"id": 4, "name": "D"}]})
    n = sn.mark()
    d.put("io/inputs/1", {"contact": "closed"})
    time.sleep(0.3)
    d.put("io/inputs/1", {"contact": "open"})
    wait_for(lambda: len(rx.bodies) >= 2, 10)
    got = sn.since(n, lambda p: p[1] == 6 and p[3] == rx.port and p[4][:5] == b"POST ")
    t.ok(len(rx.bodies) >= 2 and got and all(p[0] == ALARM for p in got),
         f"an alarm delivery to the center carries DSCP {ALARM} (alarm)", (rx.bodies, got[:4]))

    # ---- a change applies to new connections; 0 is best effort ----
    d.put("config/network", {"qos": {"management_dscp": 0}})
    n = sn.mark()
    d.get("device")
    got = sn.since(n, lambda p: p[1] == 6 and p[2] == d.http and p[4][:5] == b"HTTP/")
    t.ok(got and all(p[0] == 0 for p in got), "management DSCP 0: the next answer is best effort",
         got[:4])

    # ---- the WebSocket port ----
    t.ok(ws_handshake(ws, d.http) == 101, "the WebSocket port serves the live view socket to "
         "the page of the HTTP port (101)")
    t.ok(ws_handshake(ws, 1) == 403, "... and refuses another origin (403)")
    t.ok(ws_handshake(d.http, d.http) == 101, "the live view socket is still on the HTTP port")
    r = d.get(f"http://127.0.0.1:{ws}/api/v1/device")
    t.ok(r[0] == 404, "the WebSocket port serves nothing else (404)", r[:2])
    r = d.get(f"http://127.0.0.1:{ws}/")
    t.ok(r[0] == 404, "... not the web page either", r[:2])
    r = d.put("config/ports", {"websocket_enabled": False})
    t.ok(r[0] == 200 and in_use(d, "websocket") == 0 and ws_handshake(ws, d.http) == 0,
         "switched off: the port closes", r[:2])
    # moved without a restart of the process; a busy port refused (a
    # second daemon whose WebSocket port is the configuration's, free ports)
    d2 = Daemon(listen=None)   # every address: IPv6, and IPv4 mapped
    try:
        free = [socket.socket() for _ in range(3)]
        for f in free:
            f.bind(("127.0.0.1", 0))
        p1, p2, p3 = (f.getsockname()[1] for f in free)
        for f in free:
            f.close()
        with open(os.path.join(d2.state_dir, "config.json"), "w") as fh:
            json.dump({"ports": {"websocket": p1, "websockets": p2,
                                 "websocket_enabled": True}}, fh)
        d2.start()
        d2.activate()
        s, ports, _ = d2.get("config/ports")
        t.ok(ports["in_use"]["websocket"] == p1, "the configuration's WebSocket port in use",
             ports)
        pid = d2.proc.pid
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        r = d2.put("config/ports", {"websocket": busy.getsockname()[1]})
        t.ok(r[0] == 400 and r[1]["error"]["field"] == "ports.websocket",
             "a busy WebSocket port is refused (400 at ports.websocket)", r[:2])
        busy.close()
        t.ok(d2.get("config/ports")[1]["websocket"] == p1, "... nothing changed")
        r = d2.put("config/ports", {"websocket": p3})
        ok = wait_for(lambda: in_use(d2, "websocket") == p3, 10)
        t.ok(r[0] == 200 and ok and ws_handshake(p3, d2.http) == 101,
             "ports.websocket moved: the live socket on the new port", r[:2])
        t.ok(d2.proc.pid == pid and d2.alive(), "without a restart of the process")
        d2.put("config/ports", {"websocket_enabled": False})
        busy = socket.socket()
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # TIME_WAIT of its connections
        busy.bind(("127.0.0.1", p3))
        busy.listen(1)
        r = d2.put("config/ports", {"websocket_enabled": True})
        t.ok(r[0] == 400 and r[1]["error"]["field"] == "ports.websocket"
             and d2.get("config/ports")[1]["websocket_enabled"] is False,
             "switched on while its port is busy: refused at ports.websocket, nothing saved",
             r[:2])
        busy.close()
        # IPv6: the traffic class; IPv4 through the same dual-stack socket
        d2.put("config/network", {"qos": {"management_dscp": MGMT}})
        for host, fam in (("[::1]", 6), ("127.0.0.1", 4)):
            n = sn.mark()
            r = d2.get(f"http://{host}:{d2.http}/api/v1/device")
            got = sn.since(n, lambda p: p[1] == 6 and p[2] == d2.http and p[5] == fam
                           and p[4][:5] == b"HTTP/")
            t.ok(r[0] == 200 and got and all(p[0] == MGMT for p in got),
                 f"IPv{fam}: an HTTP answer of a dual-stack server carries DSCP {MGMT}",
                 (r[0], got[:4]))
    finally:
        d2.stop()
finally:
    sn.close()
    rx.close()
    d.stop()
t.done()
