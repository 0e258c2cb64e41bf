#!/usr/bin/python3
"""thermocamd end to end: RTSP over TLS with SRTP media on the SRTP port.

Off while HTTPS is off; with HTTPS on, rtsps:// on ports.srtp serves the
HTTPS certificate (openssl s_client sees the same one on both ports);
rtspsrc (GStreamer's own client, TLS validated against that certificate's
CA file, then without validation from gst-launch) plays the main and sub
streams, the SDP offers RTP/SAVP with a MIKEY key and the packets on the
wire are SRTP (no H.264 NAL header readable where RTP would carry it);
a wrong password is refused; plain RTSP on that port gets nothing; ffprobe
(which has no MIKEY) is tried and its outcome reported; HTTPS off closes
the port."""
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Tap, ffprobe, wait_for  # noqa: E402

import gi  # noqa: E402
gi.require_version("Gst", "1.0")
gi.require_version("Gio", "2.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import Gio, Gst, GstSdp  # noqa: E402,F401 (GstSdp: the SDP's as_text)

Gst.init(None)
t = Tap()


def server_certificate(port):
    """the PEM certificate the server at @port presents"""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-showcerts"],
                       input="", capture_output=True, text=True, timeout=20)
    out = r.stdout
    a = out.find("-----BEGIN CERTIFICATE-----")
    b = out.find("-----END CERTIFICATE-----")
    return out[a:b + 25] if a >= 0 and b > a else None


def play(url, ca_file=None, protocols="udp", frames=20, timeout=20, password=PASSWORD):
    """(frames out of the depayloader, the SDP text, an error text) of rtspsrc"""
    p = Gst.parse_launch(f"rtspsrc name=src location={url} latency=0 protocols={protocols} "
                         "! rtph264depay ! appsink name=sink sync=false")
    src = p.get_by_name("src")
    src.set_property("user-id", "admin")
    src.set_property("user-pw", password)
    if ca_file:
        src.set_property("tls-database", Gio.TlsFileDatabase.new(ca_file))
    else:
        src.set_property("tls-validation-flags", Gio.TlsCertificateFlags(0))
    sdp = []
    src.connect("on-sdp", lambda s, msg: sdp.append(msg.as_text()))
    sink = p.get_by_name("sink")
    bus = p.get_bus()
    p.set_state(Gst.State.PLAYING)
    n, err, t0 = 0, None, time.monotonic()
    while n < frames and time.monotonic() - t0 < timeout and err is None:
        s = sink.emit("try-pull-sample", 100 * Gst.MSECOND)
        if s:
            n += 1
        m = bus.pop_filtered(Gst.MessageType.ERROR)
        if m:
            err = m.parse_error()[0].message
    p.set_state(Gst.State.NULL)
    return n, "".join(sdp), err


class UdpWatch:
    """the first UDP payloads to the client's ports, seen with a raw socket
    (as root) or not at all"""

    def __init__(self):
        self.payloads = []
        try:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        except PermissionError:
            self.sock = None
            return
        self.sock.settimeout(0.2)
        self.stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stop:
            try:
                data = self.sock.recv(65535)
            except OSError:
                continue
            ihl = (data[0] & 0x0F) * 4
            sport = int.from_bytes(data[ihl:ihl + 2], "big")
            self.payloads.append((sport, data[ihl + 8:]))

    def close(self):
        if self.sock:
            self.stop = True
            time.sleep(0.3)
            self.sock.close()


d = Daemon(https_port=0, extra=["--srtp-port", "0"])
try:
    d.start()
    d.activate()
    d.wait_frames()
    s, ports, _ = d.get("config/ports")
    t.ok(s == 200 and ports["in_use"]["srtp"] == 0, "HTTPS off: no RTSPS (in_use.srtp 0)", ports)
    n = d.readies
    # the wrong password below is tried by rtspsrc more than once: no lock-out here
    s, _, _ = d.put("config/security", {"https": {"enabled": True},
                                        "illegal_login_lock": {"enabled": False}})
    wait_for(lambda: d.readies > n, 20)
    s, ports, _ = d.get("config/ports")
    port = ports["in_use"]["srtp"]
    t.ok(s == 200 and port > 0 and d.https, f"HTTPS on: RTSPS on port {port}", ports)

    first = server_certificate(port)
    # a certificate for 127.0.0.1 (the device's own self-signed one names its host
    # name): the running RTSPS server takes it for its next connections
    s, made, _ = d.post("security/certificate/self-signed",
                        {"country": "DE", "host": "127.0.0.1", "days": 2})
    https_cert = server_certificate(d.https)
    rtsps_cert = server_certificate(port)
    t.ok(s == 201 and first and rtsps_cert and rtsps_cert == https_cert and rtsps_cert != first,
         "the RTSPS port presents the HTTPS certificate, and a new one once it is replaced",
         (s, made, (rtsps_cert or "")[:200]))
    ca = os.path.join(d.state_dir, "test-ca.pem")
    with open(ca, "w") as f:
        f.write(https_cert or "")

    watch = UdpWatch()
    got, sdp, err = play(f"rtsps://127.0.0.1:{port}/main", ca_file=ca)
    watch.close()
    t.ok(got >= 20, f"rtspsrc plays rtsps:///main (TLS checked against the certificate): {got} "
         "frames", err)
    t.ok("RTP/SAVP" in sdp and "a=key-mgmt:mikey" in sdp and "RTP/AVP " not in sdp,
         "the SDP offers SRTP only (RTP/SAVP, the key by MIKEY)", sdp)
    if watch.sock:
        media = [p for sp, p in watch.payloads if len(p) > 12 and p[0] >> 6 == 2
                 and (p[1] & 0x7F) == 96]
        # RTP's payload begins with the NAL header (forbidden bit 0, types 1-28);
        # SRTP's is ciphertext: many have the forbidden bit set
        forbidden = sum(1 for p in media if p[12] & 0x80)
        t.ok(len(media) >= 20 and forbidden > len(media) // 8,
             f"on the wire: {len(media)} packets of payload type 96, {forbidden} with the "
             "NAL header's forbidden bit set: encrypted (SRTP)", len(media))
    got, sdp, err = play(f"rtsps://127.0.0.1:{port}/sub", protocols="tcp")
    t.ok(got >= 20, f"rtspsrc plays rtsps:///sub over TCP (interleaved SRTP): {got} frames", err)
    r = subprocess.run(["gst-launch-1.0", "-q", "rtspsrc",
                        f"location=rtsps://admin:{PASSWORD}@127.0.0.1:{port}/Streaming/Channels/101",
                        "tls-validation-flags=0", "latency=0", "!", "rtph264depay", "!",
                        "h264parse", "!", "fakesink", "num-buffers=20"],
                       capture_output=True, text=True, timeout=40)
    t.ok(r.returncode == 0, "gst-launch-1.0 rtspsrc rtsps://.../Streaming/Channels/101 "
         "tls-validation-flags=0: 20 buffers", r.stderr[-1500:])
    got, sdp, err = play(f"rtsps://127.0.0.1:{port}/main", ca_file=ca, password="Wrong#Pass1",
                         timeout=8)
    t.ok(got == 0 and err and "Unauthorized" in err, "a wrong password is refused", err)
    got, sdp, err = play(f"rtsp://127.0.0.1:{port}/main", timeout=8)
    t.ok(got == 0 and not sdp, "plain RTSP on the SRTP port: nothing", err)
    code, perr = ffprobe(f"rtsps://admin:{PASSWORD}@127.0.0.1:{port}/main", "tcp")
    print(f"# ffprobe rtsps:// (TLS; SRTP keys by MIKEY, which ffmpeg does not take): "
          f"{code or 'does not play'}")
    t.ok(d.alive(), "the daemon still runs after ffprobe's attempt", perr[-500:] if perr else "")
    s, _, _ = d.put("config/security", {"https": {"enabled": False}})
    def srtp_in_use():
        s, p, _ = d.get("config/ports")
        return p["in_use"]["srtp"] if s == 200 else None
    wait_for(lambda: srtp_in_use() == 0, 20)
    s, ports, _ = d.get("config/ports")
    got, sdp, err = play(f"rtsps://127.0.0.1:{port}/main", timeout=5)
    t.ok(s == 200 and ports["in_use"]["srtp"] == 0 and got == 0, "HTTPS off: RTSPS off", (s, ports))
finally:
    code = d.stop()
t.ok(code == 0, "the daemon stops cleanly", "\n".join(d.lines[-20:]))

# ---- the SRTP port held by another program: the daemon goes on, RTSPS comes when it is free
held = socket.socket()
held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
held.bind(("127.0.0.1", 0))
held.listen(1)
busy = held.getsockname()[1]
d2 = Daemon(https_port=0, extra=["--srtp-port", str(busy)])
try:
    d2.start()
    d2.activate()
    n = d2.readies
    d2.put("config/security", {"https": {"enabled": True}})
    wait_for(lambda: d2.readies > n, 20)
    s, p2, _ = d2.get("config/ports")
    t.ok(s == 200 and d2.alive() and d2.https and p2["in_use"]["srtp"] == 0,
         f"port {busy} held: HTTPS and the rest start, RTSPS waits", p2)
    held.close()
    up = wait_for(lambda: d2.get("config/ports")[1].get("in_use", {}).get("srtp") == busy, 15)
    t.ok(up, "once the port is free RTSPS listens on it (tried every 5 s)")
finally:
    held.close()
    code = d2.stop()
t.ok(code == 0, "that daemon stops cleanly", "\n".join(d2.lines[-10:]))
t.done()
