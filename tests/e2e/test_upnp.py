#!/usr/bin/python3
"""thermocamd end to end: UPnP port mapping against a real IGD, miniupnpd,
in a network namespace made here (needs root and `ip netns`; else every check
is skipped, said in TAP):

- a veth pair joins the namespace (the router's LAN side, 10.79.N.2) to the
  test (10.79.N.1, where the daemon runs); a second veth pair inside the
  namespace is the router's WAN side (5.6.7.8 as its external
  address); SSDP's multicast group is routed over the LAN pair;
- the nftables chains miniupnpd fills (as its nft_init.sh makes them) and
  miniupnpd (nftables) run in the namespace with a lease file;
- the daemon finds it (discovery from 10.79.N.1), maps HTTP and RTSP
  (TCP) and SNMP (UDP): the lease file shows them with the daemon's
  address and the description the friendly name gives, the API shows the
  router, the external address and each mapping;
- with a 30 s lease each is renewed at 15 s (its expiry moves on);
- mode manual with another external port: the old mapping goes, the new
  one comes; UPnP off: every mapping is removed.

The namespace, the veth pairs, the route and miniupnpd are removed at the
end, whatever happens."""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap, wait_for  # noqa: E402

t = Tap()
PLANNED = 12


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


MINIUPNPD = shutil.which("miniupnpd") or "/usr/sbin/miniupnpd"
NFT = shutil.which("nft") or "/usr/sbin/nft"
if os.geteuid() != 0:
    skip_all("not root: cannot make a network namespace")
if not shutil.which("ip") or not os.path.exists(MINIUPNPD) or not os.path.exists(NFT):
    skip_all("ip (iproute2), miniupnpd or nft (nftables) missing")
if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
    skip_all("no `ip netns` here")

tag = f"{os.getpid() % 100000:05d}{random.randrange(256):02x}"
NS = f"tcu-{tag}"
LR, LN = f"tcul{tag}", f"tcun{tag}"     # LAN: root end, namespace end
WA, WB = f"tcuw{tag}", f"tcux{tag}"     # WAN, both ends in the namespace
used = run("ip", "-4", "-o", "addr").stdout + run("ip", "-4", "route").stdout
free = [n for n in range(1, 255) if f"10.79.{n}." not in used]
N = random.choice(free)
# the WAN address must look public to miniupnpd (it refuses private and reserved
# ones); the namespace has no way out, so nothing goes anywhere
HERE, ROUTER, EXTERNAL = f"10.79.{N}.1", f"10.79.{N}.2", "5.6.7.8"
SSDP = "239.255.255.250/32"
tmp = tempfile.mkdtemp(prefix="thermocam-upnp-")
LEASES = os.path.join(tmp, "leases")
mu = None
d = None
made_route = False
code = None


def leases():
    """{(proto, external port): (internal address, internal port, expiry, description)}"""
    out = {}
    try:
        with open(LEASES) as f:
            for line in f:
                p = line.rstrip("\n").split(":", 5)
                if len(p) == 6:
                    out[(p[0], int(p[1]))] = (p[2], int(p[3]), int(p[4]), p[5])
    except FileNotFoundError:
        pass
    return out


def state():
    s, st, _ = d.get("network/port-mapping")
    return st if s == 200 else {}


try:
    run("ip", "netns", "add", NS)
    run("ip", "link", "add", LR, "type", "veth", "peer", "name", LN)
    run("ip", "link", "set", LN, "netns", NS)
    run("ip", "addr", "add", f"{HERE}/24", "dev", LR)
    run("ip", "link", "set", LR, "up")
    run("ip", "-n", NS, "addr", "add", f"{ROUTER}/24", "dev", LN)
    run("ip", "-n", NS, "link", "set", LN, "up")
    run("ip", "-n", NS, "link", "set", "lo", "up")
    run("ip", "-n", NS, "link", "add", WA, "type", "veth", "peer", "name", WB)
    run("ip", "-n", NS, "addr", "add", f"{EXTERNAL}/24", "dev", WA)
    run("ip", "-n", NS, "link", "set", WA, "up")
    run("ip", "-n", NS, "link", "set", WB, "up")
    run("ip", "-n", NS, "route", "add", "default", "via", "5.6.7.1", "dev", WA)
    run("ip", "route", "add", SSDP, "dev", LR)
    made_route = True
    rules = os.path.join(tmp, "miniupnpd.nft")
    with open(rules, "w") as f:
        f.write("table inet filter {\n"
                " chain forward { type filter hook forward priority 0; policy drop; jump miniupnpd; }\n"
                " chain miniupnpd { }\n"
                " chain prerouting { type nat hook prerouting priority -100; policy accept;"
                " jump prerouting_miniupnpd; }\n"
                " chain postrouting { type nat hook postrouting priority 100; policy accept;"
                " jump postrouting_miniupnpd; }\n"
                " chain prerouting_miniupnpd { }\n chain postrouting_miniupnpd { }\n}\n")
    run("ip", "netns", "exec", NS, NFT, "-f", rules)
    conf = os.path.join(tmp, "miniupnpd.conf")
    with open(conf, "w") as f:
        f.write(f"ext_ifname={WA}\nlistening_ip={LN}\nhttp_port=0\nenable_upnp=yes\n"
                "enable_natpmp=no\nsecure_mode=yes\nsystem_uptime=yes\n"
                "upnp_table_name=filter\nupnp_nat_table_name=filter\n"
                "upnp_forward_chain=miniupnpd\nupnp_nat_chain=prerouting_miniupnpd\n"
                "upnp_nat_postrouting_chain=postrouting_miniupnpd\n"
                f"lease_file={LEASES}\nuuid=3d2a5b21-0000-4000-8000-{random.randrange(1 << 48):012x}\n"
                f"allow 1-65535 10.79.{N}.0/24 1-65535\ndeny 0-65535 0.0.0.0/0 0-65535\n")
    mulog = open(os.path.join(tmp, "miniupnpd.log"), "w")
    mu = subprocess.Popen(["ip", "netns", "exec", NS, MINIUPNPD, "-d", "-f", conf,
                           "-P", os.path.join(tmp, "miniupnpd.pid")],
                          stdout=mulog, stderr=subprocess.STDOUT)
    time.sleep(1)
    t.ok(mu.poll() is None, f"miniupnpd runs in {NS} (LAN {ROUTER}, WAN {EXTERNAL})",
         open(os.path.join(tmp, "miniupnpd.log")).read()[-1500:])

    d = Daemon(extra=["--snmp-port", "0"]).start()
    d.activate()
    d.put("config/snmp", {"v2c": True, "read_community": "pm-read"})
    s, cfg, _ = d.put("config/upnp", {
        "enabled": True, "friendly_name": "Kiln camera", "discovery_address": HERE,
        "lease_s": 30, "mappings": [{"port": "http"}, {"port": "rtsp"}, {"port": "snmp"},
                                     {"port": "server"}]})
    t.ok(s == 200 and cfg["enabled"] and cfg["mode"] == "auto", "UPnP on, mode auto", cfg)
    ok = wait_for(lambda: state().get("state") == "mapped", 20)
    st = state()
    t.ok(ok and st.get("external_address") == EXTERNAL and st.get("local_address") == HERE
         and ROUTER in (st.get("igd") or "")
         and [(m["port"], m["protocol"], m["internal_port"] == m["external_port"], m["state"])
              for m in st.get("mappings", [])]
         == [("http", "TCP", True, "mapped"), ("rtsp", "TCP", True, "mapped"),
             ("snmp", "UDP", True, "mapped"), ("server", "TCP", True, "mapped")],
         "GET /network/port-mapping: the router found, the external address, four mappings "
         "(the server port's too)",
         st)
    ls = leases()
    t.ok(ls.get(("TCP", d.http), (None,))[0] == HERE and ls[("TCP", d.http)][1] == d.http
         and ("TCP", d.rtsp) in ls and any(k[0] == "UDP" for k in ls)
         and all(v[3].startswith("Kiln camera") for v in ls.values()),
         "the router's table (its lease file): HTTP, RTSP (TCP) and SNMP (UDP) to this "
         "device's address, described by the friendly name", ls)

    # ---- renewal at half the lease
    first = ls.get(("TCP", d.http), (0, 0, 0))[2]
    renewed = wait_for(lambda: state().get("renewals", 0) >= 1
                       and leases().get(("TCP", d.http), (0, 0, 0))[2] > first, 25)
    t.ok(renewed, "renewed at half its 30 s lease: the router's expiry moves on",
         (first, leases(), state()))

    # ---- a change: mode manual, HTTP on another external port
    ext = 20000 + random.randrange(20000)
    s, cfg, _ = d.put("config/upnp", {"mode": "manual", "mappings": [
        {"port": "http", "external_port": ext}, {"port": "rtsp"}]})
    moved = wait_for(lambda: ("TCP", ext) in leases() and ("TCP", d.http) not in leases()
                     and not any(k[0] == "UDP" for k in leases()), 15)
    t.ok(s == 200 and moved and leases()[("TCP", ext)][1] == d.http,
         f"mode manual: HTTP now external {ext} to internal {d.http}; the old HTTP mapping and "
         "the SNMP one (no longer listed) are removed", leases())
    want = [("http", ext, "mapped"), ("rtsp", d.rtsp, "mapped")]
    wait_for(lambda: [(m["port"], m["external_port"], m["state"])
                      for m in state().get("mappings", [])] == want, 10)
    st = state()
    t.ok([(m["port"], m["external_port"], m["state"]) for m in st.get("mappings", [])]
         == [("http", ext, "mapped"), ("rtsp", d.rtsp, "mapped")], "the API shows the mappings now",
         st)

    s, bad, _ = d.put("config/upnp", {"mappings": [{"port": "ftp"}]})
    t.ok(s == 400 and (bad or {}).get("error", {}).get("field", "").startswith("upnp.mappings"),
         "an unknown port: 400 at upnp.mappings, nothing changed", bad)

    # ---- off: every mapping removed
    s, cfg, _ = d.put("config/upnp", {"enabled": False})
    gone = wait_for(lambda: not leases(), 15)
    t.ok(s == 200 and gone and state().get("state") == "off",
         "UPnP off: the router's table is empty, the state off", (leases(), state()))
    t.ok(d.alive(), "the daemon still runs")

    # ---- the daemon stopping removes what it mapped
    d.put("config/upnp", {"enabled": True})
    wait_for(lambda: ("TCP", ext) in leases(), 15)
    had = dict(leases())
    code = d.stop()
    t.ok(had and not leases(), "the daemon stopping removes its mappings", (had, leases()))
finally:
    code = d.stop() if d and d.alive() else (code if d else None)
    if mu and mu.poll() is None:
        mu.send_signal(signal.SIGTERM)
        try:
            mu.wait(10)
        except subprocess.TimeoutExpired:
            mu.kill()
    if made_route:
        run("ip", "route", "del", SSDP, "dev", LR, check=False)
    run("ip", "link", "del", LR, check=False)
    run("ip", "netns", "del", NS, check=False)
    if os.environ.get("KEEP"):
        print("# kept", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
t.ok(code == 0, "the daemon stops cleanly", "\n".join(d.lines[-20:]) if d else "")
t.done()
