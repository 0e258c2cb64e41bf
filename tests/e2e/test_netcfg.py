#!/usr/bin/python3
"""The network chapter end to end (issue 18), with G_DEBUG=fatal-criticals:
config.network reaches the simulated backend (GET /network/status); bad
addresses, masks, a gateway outside the subnet, MTU 1279, the same DNS twice
are refused with the field named and nothing changed; a change of the IP
settings is rolled back on time unless confirmed; the address test; DDNS
against a DynDNS receiver in this test (Basic auth, hostname and myip; good,
nochg; badauth stops the updates and raises the "ddns" exception); the
secrets are write-only; export and import carry the section; restore keeps
the IP settings (manual 10.5); the systemd-networkd backend writes its files
under a root of the test's (never the host's) and takes a confirmation only
through the new address; 802.1X EAP-TLS certificates in the certificate store
(added, listed, refused, named, written for wpa_supplicant, deleted) and an
older configuration's inline ones moved there."""
import base64
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Events, Tap, wait_for  # noqa: E402

os.environ["G_DEBUG"] = "fatal-criticals"
t = Tap()


def field(r):
    try:
        return r[1]["error"]["field"]
    except (TypeError, KeyError):
        return None


class DynDns:
    """A DynDNS update server: GET /nic/update?hostname=&myip= with Basic auth;
    answers from self.answers (the last one repeats)"""

    def __init__(self, user, password):
        self.requests = []
        self.answers = ["good"]
        self.user, self.password = user, password
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                u = urlparse(self.path)
                q = parse_qs(u.query)
                auth = self.headers.get("Authorization", "")
                ok = auth == "Basic " + base64.b64encode(
                    f"{outer.user}:{outer.password}".encode()).decode()
                outer.requests.append({"path": u.path, "q": q, "auth": ok,
                                       "agent": self.headers.get("User-Agent", ""),
                                       "time": time.time()})
                if not ok:
                    body = "badauth"
                else:
                    body = outer.answers[0] if len(outer.answers) == 1 else outer.answers.pop(0)
                    if body in ("good", "nochg"):
                        body += " " + q.get("myip", ["?"])[0]
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


d = Daemon()
ddns = DynDns("camuser", "s3cret-ddns")
events = None
try:
    d.start()
    t.ok(d.activate()[0] in (200, 204), "activated")
    s, net, _ = d.get("config/network")
    t.ok(s == 200 and net["ipv4"]["mode"] == "dhcp" and net["mtu"] == 1500
         and net["ssh"]["enabled"] is False, "GET /config/network: the defaults (DHCP, MTU 1500, "
         "SSH off)", net)
    s, st, _ = d.get("network/status")
    t.ok(s == 200 and st["backend"] == "simulated" and st["simulated"] is True
         and st["state"]["applied"]["ipv4"]["mode"] == "dhcp" and st["pending"] is None,
         "GET /network/status: the simulated backend holds the configuration's settings", st)

    # ---- refusals: the field named, nothing changed ----
    bad = [
        ({"ipv4": {"mode": "manual", "address": "192.168.1.300", "netmask": "255.255.255.0",
                   "gateway": ""}}, "network.ipv4.address", "an octet over 255"),
        ({"ipv4": {"mode": "manual", "address": "127.0.0.5", "netmask": "255.0.0.0",
                   "gateway": ""}}, "network.ipv4.address", "a loopback address"),
        ({"ipv4": {"mode": "manual", "address": "192.168.1.255", "netmask": "255.255.255.0",
                   "gateway": ""}}, "network.ipv4.address", "the broadcast address"),
        ({"ipv4": {"mode": "manual", "address": "192.168.1.20", "netmask": "255.0.255.0",
                   "gateway": ""}}, "network.ipv4.netmask", "a mask that is not contiguous"),
        ({"ipv4": {"mode": "manual", "address": "192.168.1.20", "netmask": "255.255.255.0",
                   "gateway": "192.168.2.1"}}, "network.ipv4.gateway",
         "a gateway outside the subnet"),
        ({"ipv6": {"mode": "manual", "address": "2001:db8::zz", "prefix_length": 64}},
         "network.ipv6.address", "an IPv6 address that does not parse"),
        ({"ipv6": {"mode": "manual", "address": "2001:db8::20", "prefix_length": 64,
                   "gateway": "2001:db9::1"}}, "network.ipv6.gateway",
         "an IPv6 gateway outside the prefix"),
        ({"mtu": 1279}, "network.mtu", "MTU 1279"),
        ({"mtu": 1501}, "network.mtu", "MTU 1501"),
        ({"dns": {"preferred": "192.168.1.1", "alternate": "192.168.1.1"}},
         "network.dns.alternate", "the same DNS server twice"),
        ({"dns": {"preferred": "1.2.3"}}, "network.dns.preferred", "a DNS server that is no address"),
        ({"ddns": {"enabled": True, "domain": "", "user": "x"}}, "network.ddns.domain",
         "DDNS without a host name"),
        ({"ieee8021x": {"enabled": True, "protocol": "peap", "user": "cam", "password": ""}},
         "network.ieee8021x.password", "PEAP without a password"),
        ({"ieee8021x": {"enabled": True, "protocol": "eap-tls", "user": "cam",
                        "ca_certificate": "no-such-ca", "client_certificate": "x"}},
         "network.ieee8021x.ca_certificate", "EAP-TLS naming a CA the certificate store has not"),
        ({"ieee8021x": {"enabled": True, "protocol": "eap-tls", "user": "cam",
                        "ca_certificate": "-----BEGIN CERTIFICATE-----"}},
         "network.ieee8021x.ca_certificate", "a PEM text where a name of the store goes"),
    ]
    for patch, f, what in bad:
        r = d.put("config/network", patch)
        t.ok(r[0] == 400 and field(r) == f, f"refused: {what} (400 at {f})", r[:2])
    s, after, _ = d.get("config/network")
    s2, st2, _ = d.get("network/status")
    t.ok(after == net and st2["state"]["applies"] == st["state"]["applies"]
         and st2["pending"] is None, "after the refusals nothing changed (section, backend)",
         (after, st2))

    # ---- a change of the IP settings, confirmed ----
    manual = {"ipv4": {"mode": "manual", "address": "192.168.10.64",
                       "netmask": "255.255.255.0", "gateway": "192.168.10.1"},
              "mtu": 1400, "nic_type": "100m_full", "confirm_timeout_s": 5,
              "dns": {"preferred": "192.168.10.1", "alternate": "2001:db8::53"},
              "ipv6": {"mode": "manual", "address": "2001:db8::64", "prefix_length": 64,
                       "gateway": "fe80::1"},
              "dynamic_domain_name": {"enabled": True, "name": "thermocam-7"},
              "ssh": {"enabled": True}}
    r = d.put("config/network", manual)
    t.ok(r[0] == 200 and r[1]["ipv4"]["address"] == "192.168.10.64" and r[1]["mtu"] == 1400,
         "PUT /config/network: manual IPv4, IPv6, MTU 1400, DNS, NIC, SSH taken", r[:2])
    s, st, _ = d.get("network/status")
    ap = st["state"]["applied"]
    t.ok(ap["ipv4"]["address"] == "192.168.10.64" and ap["mtu"] == 1400
         and ap["nic_type"] == "100m_full" and ap["ipv6"]["address"] == "2001:db8::64"
         and ap["dns"]["alternate"] == "2001:db8::53" and ap["ssh"]["enabled"] is True
         and ap["dynamic_domain_name"]["name"] == "thermocam-7",
         "the simulated backend holds the new settings", st)
    t.ok(st["pending"] is not None and 3 <= st["pending"]["seconds_left"] <= 5
         and st["pending"]["previous"]["ipv4"]["mode"] == "dhcp",
         "the change waits for a confirmation (seconds left, the former settings)", st["pending"])
    r = d.post("network/confirm")
    t.ok(r[0] == 200 and r[1]["pending"] is None and r[1]["confirms"] == 1,
         "POST /network/confirm keeps it", r[:2])
    time.sleep(6)
    s, cur, _ = d.get("config/network")
    t.ok(cur["ipv4"]["address"] == "192.168.10.64", "confirmed: still there after the timeout",
         cur["ipv4"])
    r = d.post("network/confirm")
    t.ok(r[0] == 409 and r[1]["error"]["code"] == "nothing_pending",
         "a confirmation with nothing waiting: 409", r[:2])

    # ---- a change not confirmed: rolled back on time ----
    t0 = time.time()
    r = d.put("config/network", {"ipv4": {"address": "192.168.10.99"}, "mtu": 1300,
                                 "dns": {"alternate": ""}})
    t.ok(r[0] == 200, "another address, not confirmed", r[:2])
    rolled = wait_for(lambda: d.get("config/network")[1]["ipv4"]["address"] == "192.168.10.64",
                      12, 0.25)
    took = time.time() - t0
    t.ok(rolled and 4.0 <= took <= 8.0, f"rolled back by itself after {took:.1f} s "
         "(confirm_timeout_s 5)")
    s, cur, _ = d.get("config/network")
    s, st, _ = d.get("network/status")
    t.ok(cur["mtu"] == 1400 and cur["dns"]["alternate"] == "" and st["pending"] is None
         and st["rollbacks"] == 1 and st["state"]["applied"]["ipv4"]["address"] == "192.168.10.64"
         and st["state"]["applied"]["mtu"] == 1400,
         "the IP settings went back (and reached the backend); DNS, not an IP setting, kept",
         (cur, st))
    s, audit, _ = d.get("system/audit-log?type=system")
    t.ok(s == 200 and "not confirmed" in str(audit), "the rollback is in the audit log",
         str(audit)[:400])

    # ---- the address test ----
    r = d.post("network/test-address", {"address": "127.0.0.1"})
    t.ok(r[0] == 200 and r[1]["free"] is False, "test-address: 127.0.0.1 is in use", r[:2])
    r = d.post("network/test-address", {"address": "not-an-ip"})
    t.ok(r[0] == 400 and field(r) == "address", "test-address: a bad address is refused", r[:2])

    # ---- secrets are write-only ----
    events = Events(d)
    time.sleep(0.5)
    r = d.put("config/network", {"ddns": {
        "enabled": True, "type": "dyndns", "server": f"127.0.0.1:{ddns.port}", "https": False,
        "domain": "cam7.example.org", "user": "camuser", "password": "s3cret-ddns",
        "interval_s": 5}})
    t.ok(r[0] == 200 and "password" not in r[1]["ddns"] and r[1]["ddns"]["password_set"] is True,
         "the DDNS password is write-only (password_set)", r[:2])
    s, whole, _ = d.get("config")
    t.ok("s3cret-ddns" not in str(whole), "GET /config does not show it")

    # ---- DDNS ----
    first = wait_for(lambda: len(ddns.requests) >= 1, 10)
    q = ddns.requests[0] if ddns.requests else {}
    t.ok(first and q["path"] == "/nic/update" and q["auth"]
         and q["q"].get("hostname") == ["cam7.example.org"]
         and q["q"].get("myip") == ["192.168.10.64"] and "thermocam" in q["agent"],
         "DDNS: GET /nic/update with Basic auth, hostname and myip (the device's address)", q)
    ok = wait_for(lambda: d.get("network/status")[1]["ddns"]["answer"] == "good", 5)
    t.ok(ok, "DDNS: the answer good is shown", d.get("network/status")[1]["ddns"])
    ddns.answers = ["nochg"]
    again = wait_for(lambda: len(ddns.requests) >= 2, 10)
    t.ok(again and ddns.requests[1]["time"] - ddns.requests[0]["time"] >= 4,
         "DDNS: updated again at the interval (5 s)")
    ok = wait_for(lambda: d.get("network/status")[1]["ddns"]["answer"] == "nochg", 5)
    t.ok(ok, "DDNS: nochg is a success too", d.get("network/status")[1]["ddns"])
    n = len(ddns.requests)
    r = d.put("config/network", {"ipv4": {"address": "192.168.10.65"}})
    moved = wait_for(lambda: any(x["q"].get("myip") == ["192.168.10.65"]
                                 for x in ddns.requests[n:]), 4)
    t.ok(moved, "DDNS: an address change is sent at once", ddns.requests[n:])
    d.post("network/confirm")
    # badauth: stops, raises the exception
    ddns.password = "changed-at-the-service"
    d.post("network/ddns/update")
    ev = events.wait(lambda e: e[0] == "exception" and e[1].get("type") == "ddns", 10)
    t.ok(ev is not None and ev[1].get("answer") == "badauth",
         "DDNS: badauth raises the ddns exception event", ev)
    s, st, _ = d.get("network/status")
    t.ok(st["ddns"]["state"] == "stopped" and st["ddns"]["answer"] == "badauth",
         "DDNS: stopped after badauth", st["ddns"])
    n = len(ddns.requests)
    time.sleep(7)
    r = d.post("network/ddns/update")
    t.ok(len(ddns.requests) == n and r[0] == 409,
         "DDNS: no update after badauth, neither at the interval nor asked", (n, ddns.requests[n:], r[:2]))
    # a new password lifts the stop
    r = d.put("config/network", {"ddns": {"password": "changed-at-the-service"}})
    ok = wait_for(lambda: d.get("network/status")[1]["ddns"]["state"] == "ok", 10)
    t.ok(r[0] == 200 and ok and ddns.requests[-1]["auth"],
         "DDNS: new credentials lift the stop", d.get("network/status")[1]["ddns"])
    # 911: trouble at the service, asked again in 30 minutes, not before
    ddns.answers = ["911"]
    d.post("network/ddns/update")
    ok = wait_for(lambda: d.get("network/status")[1]["ddns"]["answer"] == "911", 10)
    st = d.get("network/status")[1]["ddns"]
    left = (time.mktime(time.strptime(st["next_update"][:19], "%Y-%m-%dT%H:%M:%S"))
            - time.mktime(time.gmtime())) if st.get("next_update") else 0
    t.ok(ok and st["state"] == "retry" and 25 * 60 < left <= 30 * 60 + 5,
         f"DDNS: 911 waits 30 minutes ({left:.0f} s)", st)
    # NO-IP: the same update protocol, its own server by default
    ddns.answers = ["good"]
    n = len(ddns.requests)
    r = d.put("config/network", {"ddns": {"type": "noip", "password": "changed-at-the-service"}})
    ok = wait_for(lambda: len(ddns.requests) > n
                  and d.get("network/status")[1]["ddns"]["answer"] == "good", 10)
    q = ddns.requests[n] if len(ddns.requests) > n else {}
    t.ok(r[0] == 200 and ok and q["path"] == "/nic/update" and q["auth"]
         and q["q"].get("hostname") == ["cam7.example.org"],
         "DDNS: NO-IP, updated at once with Basic auth and the host name", q)
    # a change of user without a password empties it (it belongs to its account)
    r = d.put("config/network", {"ddns": {"user": "other"}})
    t.ok(r[0] == 200 and r[1]["ddns"]["password_set"] is False,
         "DDNS: another user without a password empties the password", r[:2])
    d.put("config/network", {"ddns": {"enabled": False}})

    # ---- export and import carry the section, secrets included ----
    d.post("network/confirm")
    d.put("config/network", {"ieee8021x": {"enabled": True, "protocol": "peap", "user": "cam-7",
                                           "password": "p3ap-secret"}})
    d.post("network/confirm")
    expf = os.path.join(d.state_dir, "export.bin")
    r = d.post("system/config-export", {"password": "Exp0rt#secret"}, out_file=expf)
    d.put("config/network", {"dns": {"preferred": "192.168.10.254"}, "qos": {"video_dscp": 10},
                             "ieee8021x": {"enabled": False, "password": ""}})
    imp = d.curl("POST", "system/config-import",
                 extra=("-F", f"file=@{expf};type=application/octet-stream",
                        "-F", "password=Exp0rt#secret"))
    s, cur, _ = d.get("config/network")
    s2, st, _ = d.get("network/status")
    t.ok(r[0] == 200 and imp[0] == 200 and cur["dns"]["preferred"] == "192.168.10.1"
         and cur["qos"]["video_dscp"] == 0 and cur["ieee8021x"]["enabled"] is True
         and cur["ieee8021x"]["password_set"] is True
         and st["state"]["applied"]["ieee8021x"]["enabled"] is True,
         "export, then import: the network section back (the 802.1X password too), applied",
         (r[0], imp[:2], cur, st.get("state")))

    # ---- restore keeps the IP settings (manual 10.5) ----
    d.post("network/confirm")
    r = d.post("system/restore")
    s, cur, _ = d.get("config/network")
    t.ok(r[0] in (200, 204) and cur["ipv4"]["address"] == "192.168.10.65"
         and cur["ipv4"]["mode"] == "manual" and cur["mtu"] == 1400,
         "restore keeps the IP settings", (r[0], cur))
    t.ok(d.alive(), "the daemon is alive")
finally:
    if events:
        events.close()
    ddns.close()
    d.stop()

# ---- the systemd-networkd backend, its files under a root of the test's ----
root = tempfile.mkdtemp(prefix="thermocam-netroot-")
d3 = Daemon(extra=["--network-backend", f"networkd:{root}"])
netfile = os.path.join(root, "etc/systemd/network/10-thermocam.network")
sshflag = os.path.join(root, "etc/ssh/sshd_not_to_be_run")


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True,
                          check=True, timeout=30).stdout


def make_certs(dirname):
    """a CA, a client certificate it signed with its key (EC P-256), and a
    key of nobody's: PEM texts"""
    p = lambda n: os.path.join(dirname, n)  # noqa: E731
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "30", "-subj", "/CN=Corp CA")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", p("cam.key"), "-out", p("cam.csr"), "-subj", "/CN=cam-7")
    openssl("x509", "-req", "-in", p("cam.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
            "-CAcreateserial", "-out", p("cam.pem"), "-days", "30")
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", p("other.key"))
    return {n: open(p(n)).read() for n in ("ca.pem", "cam.pem", "cam.key", "other.key", "ca.key")}


def netfile_text():
    try:
        with open(netfile) as fh:
            return fh.read()
    except OSError:
        return ""


try:
    d3.start()
    d3.activate()
    s, st, _ = d3.get("network/status")
    t.ok(s == 200 and st["backend"] == "networkd" and st["simulated"] is False
         and st["state"]["root"] == root and "DHCP=ipv4" in netfile_text()
         and os.path.exists(sshflag),
         "networkd backend: the settings written under its root at start (DHCP, SSH off)", st)
    r = d3.put("config/network", {"ipv4": {"mode": "manual", "address": "192.168.10.64",
                                           "netmask": "255.255.255.0",
                                           "gateway": "192.168.10.1"},
                                  "confirm_timeout_s": 5, "ssh": {"enabled": True}})
    text = netfile_text()
    t.ok(r[0] == 200 and "Address=192.168.10.64/24" in text and "Gateway=192.168.10.1" in text
         and not os.path.exists(sshflag),
         "networkd backend: a manual address written, SSH on", text)
    r = d3.post("network/confirm")
    t.ok(r[0] == 409 and r[1]["error"]["code"] == "wrong_address",
         "a real backend takes the confirmation only through the new address", r[:2])
    back = wait_for(lambda: "DHCP=ipv4" in netfile_text(), 10, 0.25)
    s, cur, _ = d3.get("config/network")
    t.ok(back and cur["ipv4"]["mode"] == "dhcp" and cur["ssh"]["enabled"] is True,
         "not confirmed: the file went back to DHCP (SSH, not an IP setting, kept)",
         netfile_text())

    # ---- 802.1X EAP-TLS from the certificate store ----
    certs = make_certs(root)
    add = lambda name, kind, pem: d3.post("security/certificates",  # noqa: E731
                                          {"name": name, "kind": kind, "pem": pem})
    r1 = add("corp-ca", "ca", certs["ca.pem"])
    r2 = add("cam", "client", certs["cam.pem"] + certs["cam.key"])
    t.ok(r1[0] == 201 and r1[1]["kind"] == "ca" and r1[1]["subject"] == "CN=Corp CA"
         and r2[0] == 201 and r2[1]["kind"] == "client" and r2[1]["issuer"] == "CN=Corp CA",
         "the store takes a CA and a client certificate with its key (201)", (r1[:2], r2[:2]))
    bad = [
        (add("wrong", "client", certs["cam.pem"] + certs["other.key"]), 400, "pem",
         "a client certificate with another key (mismatch)"),
        (add("nokey", "client", certs["cam.pem"]), 400, "pem", "a client certificate without its key"),
        (add("ca2", "ca", certs["ca.pem"] + certs["ca.key"]), 400, "pem", "a CA with a private key"),
        (add("corp-ca", "ca", certs["ca.pem"]), 409, "name", "a name the store has (exists)"),
        (add("../x", "ca", certs["ca.pem"]), 400, "name", "a name with a path in it"),
        (add("junk", "ca", "not a certificate"), 400, "pem", "text that is no certificate"),
    ]
    for r, status, f, what in bad:
        t.ok(r[0] == status and field(r) == f, f"the store refuses {what} ({status} at {f})", r[:2])
    s, lst, _ = d3.get("security/certificates")
    t.ok(s == 200 and [c["name"] for c in lst["certificates"]] == ["cam", "corp-ca"]
         and "PRIVATE" not in str(lst) and all(c["expired"] is False for c in lst["certificates"]),
         "GET /security/certificates: the two, no key shown", lst)
    x = {"enabled": True, "protocol": "eap-tls", "user": "cam-7"}
    for patch, f, what in [
            ({"ca_certificate": "cam", "client_certificate": "cam"}, "ca_certificate",
             "a client certificate as the CA"),
            ({"ca_certificate": "corp-ca", "client_certificate": "corp-ca"}, "client_certificate",
             "a CA as the client certificate"),
            ({"ca_certificate": "corp-ca", "client_certificate": "nobody"}, "client_certificate",
             "a client certificate the store has not")]:
        r = d3.put("config/network", {"ieee8021x": {**x, **patch}})
        t.ok(r[0] == 400 and field(r) == "network.ieee8021x." + f,
             f"802.1X refused: {what} (400 at network.ieee8021x.{f})", r[:2])
    r = d3.put("config/network", {"ieee8021x": {**x, "ca_certificate": "corp-ca",
                                                "client_certificate": "cam"}})
    wdir = os.path.join(root, "etc/wpa_supplicant")
    iface = r[1].get("interface", "eth0") if r[0] == 200 else "eth0"
    conf = os.path.join(wdir, f"wpa_supplicant-wired-{iface}.conf")
    files = {n: os.path.join(wdir, "thermocam", n)
             for n in ("8021x-ca.pem", "8021x-client.pem", "8021x-client.key")}
    have = {n: open(p).read() if os.path.exists(p) else "" for n, p in files.items()}
    wpa = open(conf).read() if os.path.exists(conf) else ""
    pub_cert = openssl("x509", "-noout", "-pubkey", stdin=have["8021x-client.pem"]) \
        if have["8021x-client.pem"] else "?"
    pub_key = openssl("pkey", "-pubout", stdin=have["8021x-client.key"]) \
        if have["8021x-client.key"] else "!"
    t.ok(r[0] == 200 and r[1]["ieee8021x"]["ca_certificate"] == "corp-ca"
         and "eap=TLS" in wpa and f'ca_cert="{files["8021x-ca.pem"]}"' in wpa
         and f'private_key="{files["8021x-client.key"]}"' in wpa
         and openssl("x509", "-noout", "-fingerprint", stdin=have["8021x-ca.pem"])
         == openssl("x509", "-noout", "-fingerprint", stdin=certs["ca.pem"])
         and pub_cert == pub_key and "PRIVATE KEY" not in have["8021x-client.pem"]
         and (os.stat(files["8021x-client.key"]).st_mode & 0o777) == 0o600,
         "EAP-TLS by name: wpa_supplicant's file and the CA, the certificate and its key (0600) "
         "written by the backend from the store", (r[:2], wpa, {k: v[:40] for k, v in have.items()}))
    s, cur, _ = d3.get("config/network")
    s2, st, _ = d3.get("network/status")
    t.ok(s == 200 and "BEGIN" not in str(cur) and "BEGIN" not in str(st)
         and cur["ieee8021x"]["client_certificate"] == "cam" and st["state"]["error"] is None,
         "the section names the certificates, no PEM in it or the backend's status", (cur, st))
    expf = os.path.join(root, "export.bin")
    ex = d3.post("system/config-export", {"password": "Exp0rt#secret"}, out_file=expf)
    r = d3.curl("DELETE", "security/certificates/corp-ca")
    t.ok(r[0] == 409 and r[1]["error"]["code"] == "in_use"
         and field(r) == "network.ieee8021x.ca_certificate",
         "a certificate the 802.1X settings name cannot be deleted (409 in_use)", r[:2])
    d3.put("config/network", {"ieee8021x": {"enabled": False, "ca_certificate": "",
                                            "client_certificate": ""}})
    r = d3.curl("DELETE", "security/certificates/corp-ca")
    r2 = d3.curl("DELETE", "security/certificates/corp-ca")
    s, lst, _ = d3.get("security/certificates")
    t.ok(r[0] == 204 and r2[0] == 404 and [c["name"] for c in lst["certificates"]] == ["cam"]
         and not os.path.exists(conf),
         "named no more: deleted (204; again 404), 802.1X off: wpa_supplicant's file gone",
         (r[:2], r2[:2], lst))
    imp = d3.curl("POST", "system/config-import",
                  extra=("-F", f"file=@{expf};type=application/octet-stream",
                         "-F", "password=Exp0rt#secret"))
    s, lst, _ = d3.get("security/certificates")
    s2, cur, _ = d3.get("config/network")
    t.ok(ex[0] == 200 and imp[0] == 200
         and {c["name"]: c["kind"] for c in lst["certificates"]} == {"cam": "client", "corp-ca": "ca"}
         and cur["ieee8021x"]["enabled"] is True and cur["ieee8021x"]["ca_certificate"] == "corp-ca"
         and os.path.exists(conf) and open(files["8021x-ca.pem"]).read() == have["8021x-ca.pem"],
         "the export carries the store: imported, the CA is back, EAP-TLS on again and written",
         (ex[:1], imp[:2], lst, cur.get("ieee8021x")))
finally:
    d3.stop()
    shutil.rmtree(root, ignore_errors=True)

# ---- a configuration of before the store: the inline PEM texts move there ----
tmp = tempfile.mkdtemp(prefix="thermocam-8021x-")
try:
    certs = make_certs(tmp)
    d4 = Daemon()
    with open(os.path.join(d4.state_dir, "config.json"), "w") as fh:
        json.dump({"network": {"ieee8021x": {
            "enabled": True, "protocol": "eap-tls", "user": "cam-7",
            "ca_certificate": certs["ca.pem"], "client_certificate": certs["cam.pem"],
            "client_key": certs["cam.key"]}}}, fh)
    d4.start()
    d4.activate()
    s, cur, _ = d4.get("config/network")
    s2, lst, _ = d4.get("security/certificates")
    s3, st, _ = d4.get("network/status")
    kinds = {c["name"]: c["kind"] for c in lst.get("certificates", [])}
    t.ok(s == 200 and cur["ieee8021x"]["enabled"] is True
         and cur["ieee8021x"]["ca_certificate"] == "8021x-ca"
         and cur["ieee8021x"]["client_certificate"] == "8021x-client"
         and "client_key" not in cur["ieee8021x"] and "client_key_set" not in cur["ieee8021x"]
         and kinds == {"8021x-ca": "ca", "8021x-client": "client"}
         and st["state"]["applied"]["ieee8021x"]["client_certificate"] == "8021x-client"
         and not os.path.exists(os.path.join(d4.state_dir, "config.json.invalid")),
         "an older config.json with the PEM texts inline: they move to the store (8021x-ca, "
         "8021x-client), the section names them, 802.1X stays on", (cur, lst, st.get("state")))
    d4.stop()
    d4.start()
    s, cur, _ = d4.get("config/network")
    t.ok(s == 200 and cur["ieee8021x"]["client_certificate"] == "8021x-client"
         and cur["ieee8021x"]["enabled"] is True, "and again at the next start", cur)
finally:
    d4.stop()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
