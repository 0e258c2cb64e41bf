#!/usr/bin/python3
"""thermocam e2e: WS-Discovery multicast (issue 17, item 9), in a network
namespace of its own (needs root and `ip netns`; else every check is skipped,
said in TAP). This machine's loopback carries no multicast (no MULTICAST
flag), so the daemon runs in a namespace joined to the test by a veth pair
(10.78.N.1 here, 10.78.N.2 there: its API), as test_netns.py does, and to a
client namespace by another (10.79.N.1 the daemon's, 10.79.N.2 the
client's): the multicast client (its sockets made in that namespace by a
thread that entered it, the npm client run there by `ip netns exec`) sees
only that link, so nothing of this machine's own routes is touched:

- the daemon says Hello on 239.255.255.250:3702 when ONVIF is switched on,
  with its device service at 10.78.N.2 as XAddrs;
- a multicast Probe for NetworkVideoTransmitter gets a ProbeMatch;
- the npm onvif client's discovery (Discovery.probe on the pair) finds it;
- non-discoverable: Bye, and a probe gets no answer; discoverable: Hello;
- Bye on stop.

Names are unique per run; the namespace, the veth pair and the route are
deleted at the end, whatever happens."""
import ctypes
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap, wait_for  # noqa: E402

HERE_DIR = os.path.dirname(os.path.abspath(__file__))
GROUP, PORT = "239.255.255.250", 3702
PLANNED = 11
t = Tap()


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
if not shutil.which("ip") or subprocess.run(["ip", "netns", "list"], capture_output=True).returncode:
    skip_all("no `ip netns` here")

tag = f"{os.getpid() % 100000:05d}{random.randrange(256):02x}"
NS, VR, VN = f"tcw-{tag}", f"tcwr{tag}", f"tcwn{tag}"
CNS, VD, VC = f"tcc-{tag}", f"tcwd{tag}", f"tcwc{tag}"
used = run("ip", "-4", "-o", "addr").stdout + run("ip", "-4", "route").stdout
N = random.choice([n for n in range(1, 255) if f"10.78.{n}." not in used and f"10.79.{n}." not in used])
API_HERE, API_THERE = f"10.78.{N}.1", f"10.78.{N}.2"
THERE, HERE = f"10.79.{N}.1", f"10.79.{N}.2"       # the daemon's and the client's on the discovery link
libc = ctypes.CDLL(None, use_errno=True)


def in_client_ns(fn, *args):
    """fn (*args) run by a thread that entered the client namespace (the
    sockets it makes live there)"""
    out = {}

    def body():
        fd = os.open(f"/run/netns/{CNS}", os.O_RDONLY)
        try:
            if libc.setns(fd, 0x40000000) != 0:      # CLONE_NEWNET
                raise OSError(ctypes.get_errno(), "setns")
            out["value"] = fn(*args)
        except Exception as e:                       # noqa: BLE001
            out["error"] = e
        finally:
            os.close(fd)
    th = threading.Thread(target=body)
    th.start()
    th.join()
    if "error" in out:
        raise out["error"]
    return out["value"]
W = {"a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
     "d": "http://schemas.xmlsoap.org/ws/2005/04/discovery"}


class NsDaemon(Daemon):
    def __init__(self, **kw):
        super().__init__(listen=None, **kw)
        self.args = ["ip", "netns", "exec", NS, *self.args]

    def url(self, path):
        return f"http://{API_THERE}:{self.http}/api/v1/{path}"


class Listener:
    """what arrives at 239.255.255.250:3702 on the pair: (time, action, xaddrs, from)"""

    def __init__(self):
        from lxml import etree
        self.etree = etree
        self.got = []
        self.sock = in_client_ns(self._socket)
        self.sock.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _socket():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", PORT))
        mreq = struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton(HERE))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        return s

    def _run(self):
        while not self.stop:
            try:
                data, src = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                root = self.etree.fromstring(data)
            except self.etree.XMLSyntaxError:
                continue
            action = (root.findtext(".//a:Action", namespaces=W) or "").rsplit("/", 1)[-1]
            self.got.append((time.time(), action, root.findtext(".//d:XAddrs", namespaces=W), src[0]))

    def seen(self, action, since, timeout):
        return wait_for(lambda: any(g[1] == action and g[0] >= since and g[3] == THERE
                                    for g in self.got), timeout)

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def multicast_probe(timeout=2.0):
    """a Probe to the group out of the pair: the ProbeMatch's XAddrs or None"""
    from lxml import etree
    mid = f"urn:uuid:{uuid.uuid4()}"
    msg = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
           f'xmlns:a="{W["a"]}" xmlns:d="{W["d"]}" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
           f'<s:Header><a:MessageID>{mid}</a:MessageID><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery'
           '</a:To><a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>'
           '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>')
    def make():
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(HERE))
        sock.bind((HERE, 0))
        return sock
    s = in_client_ns(make)
    try:
        s.settimeout(0.3)
        s.sendto(msg.encode(), (GROUP, PORT))
        end = time.time() + timeout
        while time.time() < end:
            try:
                data, _ = s.recvfrom(65536)
            except socket.timeout:
                continue
            root = etree.fromstring(data)
            if root.findtext(".//a:RelatesTo", namespaces=W) == mid:
                return root.findtext(".//d:XAddrs", namespaces=W)
        return None
    finally:
        s.close()


listener = None
d = None
try:
    run("ip", "netns", "add", NS)
    run("ip", "netns", "add", CNS)
    # the API: here <-> the daemon
    run("ip", "link", "add", VR, "type", "veth", "peer", "name", VN, "netns", NS)
    run("ip", "addr", "add", f"{API_HERE}/24", "dev", VR)
    run("ip", "link", "set", VR, "up")
    run("ip", "-n", NS, "link", "set", "lo", "up")
    run("ip", "-n", NS, "addr", "add", f"{API_THERE}/24", "dev", VN)
    run("ip", "-n", NS, "link", "set", VN, "up")
    # discovery: the client namespace <-> the daemon
    run("ip", "-n", NS, "link", "add", VD, "type", "veth", "peer", "name", VC, "netns", CNS)
    run("ip", "-n", NS, "addr", "add", f"{THERE}/24", "dev", VD)
    run("ip", "-n", NS, "link", "set", VD, "up")
    run("ip", "-n", CNS, "link", "set", "lo", "up")
    run("ip", "-n", CNS, "addr", "add", f"{HERE}/24", "dev", VC)
    run("ip", "-n", CNS, "link", "set", VC, "up")
    run("ip", "-n", CNS, "route", "add", "224.0.0.0/4", "dev", VC)
    listener = Listener()

    d = NsDaemon(extra=["--wsd-port", str(PORT)])
    d.start()
    d.activate()
    t0 = time.time()
    s, _, _ = d.put("config/onvif", {"enabled": True, "location": "Furnace hall",
                                     "users": [{"name": "vms", "level": "Operator", "password": "Vms#pass123"}]})
    device = f"http://{THERE}:{d.http}/onvif/device_service"
    t.ok(s == 200 and listener.seen("Hello", t0, 8), "Hello on 239.255.255.250:3702 when ONVIF goes on",
         listener.got[-5:])
    hello = [g for g in listener.got if g[1] == "Hello" and g[3] == THERE]
    t.ok(hello and hello[-1][2] == device, "the Hello's XAddrs is the device service", hello[-1:])
    x = multicast_probe()
    t.ok(x == device, "a multicast Probe gets a ProbeMatch (unicast back)", x)

    if shutil.which("node"):
        r = subprocess.run(["ip", "netns", "exec", CNS, "node", os.path.join(HERE_DIR, "onvif_client.mjs"),
                            "discover", VC, "3000"],
                           capture_output=True, text=True, timeout=60)
        try:
            o = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            o = {"ok": False, "error": r.stdout + r.stderr}
        found = [f for f in o.get("found", []) if isinstance(f, dict) and device in str(f.get("xaddrs"))]
        t.ok(o.get("ok") and found and "Furnace%20hall" in str(found[0].get("scopes")),
             "the npm onvif client's discovery finds the camera (with its location scope)", o)
        r = subprocess.run(["ip", "netns", "exec", CNS, "node", os.path.join(HERE_DIR, "onvif_client.mjs"),
                            "connect", THERE,
                            str(d.http), "vms", "Vms#pass123"], capture_output=True, text=True, timeout=60)
        t.ok('"ok":true' in r.stdout, "... and connects to the address it found", r.stdout[-300:] + r.stderr[-300:])
    else:
        t.ok(True, "# SKIP no node")
        t.ok(True, "# SKIP no node")

    t1 = time.time()
    d.put("config/onvif", {"discovery": "non-discoverable"})
    t.ok(listener.seen("Bye", t1, 5), "non-discoverable: Bye")
    t.ok(multicast_probe(1.5) is None, "non-discoverable: a probe gets no answer")
    t2 = time.time()
    d.put("config/onvif", {"discovery": "discoverable"})
    t.ok(listener.seen("Hello", t2, 5) and multicast_probe() == device,
         "discoverable again: Hello, and probes are answered")
    # the IP filter: the client's address is kept out of discovery and SOAP
    s, _, _ = d.put("config/security", {"ip_filter": {"enabled": True, "mode": "deny", "addresses": [HERE]}})
    filtered = multicast_probe(1.5) is None
    r = subprocess.run(["ip", "netns", "exec", CNS, "curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                        "-d", "<x/>", f"http://{THERE}:{d.http}/onvif/device_service"], capture_output=True, text=True)
    d.put("config/security", {"ip_filter": {"enabled": False}})
    t.ok(s == 200 and filtered and r.stdout in ("000", "403") and multicast_probe() == device,
         "the IP filter keeps a denied address from probes and SOAP (and lets it in again)", (s, filtered, r.stdout))
    t3 = time.time()
    code = d.stop()
    t.ok(listener.seen("Bye", t3, 5), "Bye on stop", listener.got[-3:])
    t.ok(code == 0, "clean exit")
finally:
    if d is not None and d.alive():
        d.stop()
    if listener:
        listener.close()
    run("ip", "link", "del", VR, check=False)
    run("ip", "-n", NS, "link", "del", VD, check=False)
    run("ip", "netns", "del", NS, check=False)
    run("ip", "netns", "del", CNS, check=False)
t.done()
