#!/usr/bin/python3
"""thermocam e2e: ONVIF (issue 17) against a real thermocamd, with real clients.

- python3-zeep built from the WSDLs in ../shared/onvif (device, media), local
  files only, WS-UsernameToken (PasswordDigest): device information, services,
  scopes, discovery mode, date and time, the ONVIF users; profiles, encoder
  options, SetVideoEncoderConfiguration through the change path; the stream
  URI plays in ffprobe with the ONVIF user's credentials, the snapshot URI
  gives a JPEG;
- the npm `onvif` client (onvif_client.mjs): connect, device information,
  profiles, stream and snapshot URIs, with WS-UsernameToken and with HTTP
  Digest only;
- answers validate against the ONVIF schemas (lxml, the WSDLs' own schemas);
- security: only the pre-authentication operations answer without
  credentials; a wrong digest, a replayed nonce, an old Created are refused;
  a User cannot call an Administrator operation; a web account is not an
  ONVIF user; the illegal-login lock applies;
- bad input: malformed XML, a huge body, deep nesting, XXE, billion laughs,
  an unknown operation, a wrong namespace, SOAP 1.1: a SOAP fault, the
  configuration unchanged, the daemon still serving;
- WS-Discovery: a directed probe on loopback gets a ProbeMatch naming the
  device service; a probe for another type or while non-discoverable, none
  (multicast and the npm client's discovery: test_onvif_discovery.py).
"""
import base64
import datetime
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Tap, ffprobe, jpeg_size  # noqa: E402

import requests  # noqa: E402
import urllib3  # noqa: E402
from requests.auth import HTTPDigestAuth  # noqa: E402
from lxml import etree  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# the WSDLs in the tree (tests/onvif), else the reference set next to it
WSDL = os.environ.get("ONVIF_WSDL_DIR", os.path.join(HERE, "..", "onvif", "ver10", "schema"))
if not os.path.isdir(WSDL):
    WSDL = os.path.join(HERE, "..", "..", "..", "shared", "onvif", "ver10", "schema")
ADM, ADM_PW = "onvifadmin", "Onv1f#Admin"
USR, USR_PW = "viewer", "V1ewer#pass"
OPR, OPR_PW = "operator1", "Op3rator#pass"
NS = {"s": "http://www.w3.org/2003/05/soap-envelope", "tds": "http://www.onvif.org/ver10/device/wsdl",
      "trt": "http://www.onvif.org/ver10/media/wsdl", "tt": "http://www.onvif.org/ver10/schema",
      "ter": "http://www.onvif.org/ver10/error"}

t = Tap()
urllib3.disable_warnings()


def token_header(user, password, created=None, nonce=None):
    nonce = nonce or os.urandom(16)
    created = created or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest())
    return ("<s:Header><wsse:Security xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/"
            "oasis-200401-wss-wssecurity-secext-1.0.xsd\" xmlns:wsu=\"http://docs.oasis-open.org/wss/"
            "2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\"><wsse:UsernameToken>"
            f"<wsse:Username>{user}</wsse:Username><wsse:Password Type=\"http://docs.oasis-open.org/"
            "wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest\">"
            f"{digest.decode()}</wsse:Password><wsse:Nonce EncodingType=\"http://docs.oasis-open.org/"
            "wss/2004/01/oasis-200401-soap-message-security-1.0#Base64Binary\">"
            f"{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created}</wsu:Created>"
            "</wsse:UsernameToken></wsse:Security></s:Header>")


def envelope(op, ns="http://www.onvif.org/ver10/device/wsdl", body="", header=""):
    return (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{NS["s"]}">{header}'
            f'<s:Body><{op} xmlns="{ns}">{body}</{op}></s:Body></s:Envelope>')


def soap(d, data, service="device_service", auth=None, timeout=15):
    """(status, parsed root or None, text)"""
    r = requests.post(f"http://127.0.0.1:{d.http}/onvif/{service}", data=data, auth=auth,
                      headers={"Content-Type": "application/soap+xml; charset=utf-8"},
                      timeout=timeout)
    try:
        root = etree.fromstring(r.content)
    except etree.XMLSyntaxError:
        root = None
    return r.status_code, root, r.text


def fault_codes(root):
    if root is None:
        return []
    return [v.text for v in root.iterfind(".//s:Fault/s:Code//s:Value", NS)]


def body_child(root):
    b = root.find("s:Body", NS) if root is not None else None
    return b[0] if b is not None and len(b) else None


def subs(fault):
    """a zeep Fault's subcodes as "ter:Name" texts"""
    return " ".join(f"ter:{q.localname}" for q in (fault.subcodes or []))


def wait_ok(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if pred():
                return True
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return False


def alive(d):
    s, root, _ = soap(d, envelope("GetSystemDateAndTime"))
    return s == 200 and d.alive()


# ---- the schemas the answers must follow (the WSDLs' own, with onvif.xsd) ----
def wsdl_schema(name):
    doc = etree.parse(os.path.join(WSDL, name))
    old = doc.find(".//{http://www.w3.org/2001/XMLSchema}schema")
    # the WSDL's namespace declarations, which its schema relies on
    nsmap = {k: v for k, v in {**doc.getroot().nsmap, **old.nsmap}.items() if k}
    xs = etree.Element(old.tag, nsmap=nsmap, attrib=dict(old.attrib))
    xs.extend(list(old))
    for imp in xs.iter("{http://www.w3.org/2001/XMLSchema}import"):
        loc = imp.get("schemaLocation")
        if loc and not loc.startswith("/"):
            imp.set("schemaLocation", "file://" + os.path.abspath(os.path.join(WSDL, loc)))
    return etree.XMLSchema(etree.ElementTree(xs))


def valid(schema, element):
    doc = etree.ElementTree(etree.fromstring(etree.tostring(element)))
    ok = schema.validate(doc)
    return ok, str(schema.error_log.last_error) if not ok else ""


if not os.path.isdir(WSDL):
    print("1..0 # SKIP no ONVIF WSDLs (../shared/onvif)")
    sys.exit(0)

d = Daemon(extra=["--wsd-port", "0"])
try:
    d.start()
    d.activate()
    d.wait_frames()
    s, _, _ = d.put("config/security", {"illegal_login_lock": {"attempts": 20}})
    before_off = soap(d, envelope("GetSystemDateAndTime"))[0]
    t.ok(before_off == 404, "ONVIF off (the default): /onvif/device_service is not there", before_off)
    s, body, _ = d.put("config/onvif", {"enabled": True, "users": [
        {"name": ADM, "level": "Administrator", "password": ADM_PW},
        {"name": USR, "level": "User", "password": USR_PW},
        {"name": OPR, "level": "Operator", "password": OPR_PW}]})
    t.ok(s == 200 and [u["name"] for u in body["users"]] == [ADM, USR, OPR]
         and all(set(u) == {"name", "level"} for u in body["users"]),
         "onvif.users set through the API; no password or secret is shown", body)
    cfg = open(os.path.join(d.state_dir, "config.json")).read() \
        if os.path.exists(os.path.join(d.state_dir, "config.json")) else ""
    t.ok(ADM_PW not in cfg and "secret" in cfg, "the ONVIF passwords are kept sealed, not in clear")
    s, body, _ = d.put("config/onvif", {"users": [{"name": "weak", "level": "User", "password": "password1"}]})
    t.ok(s == 400 and body["error"]["field"] == "onvif.users[0].password",
         "a weak ONVIF password: 400 naming its field", body)

    # ---- zeep: device ----
    from zeep import Client, Settings
    from zeep.exceptions import Fault
    from zeep.wsse.username import UsernameToken
    settings = Settings(strict=True)

    def service(wsdl, binding, path, user=ADM, password=ADM_PW):
        c = Client(os.path.join(WSDL, wsdl), settings=settings,
                   wsse=UsernameToken(user, password, use_digest=True) if user else None)
        return c.create_service(binding, f"http://127.0.0.1:{d.http}/onvif/{path}")

    dev = service("devicemgmt.wsdl", "{http://www.onvif.org/ver10/device/wsdl}DeviceBinding",
                  "device_service")
    anon = service("devicemgmt.wsdl", "{http://www.onvif.org/ver10/device/wsdl}DeviceBinding",
                   "device_service", user=None)
    st = anon.GetSystemDateAndTime()
    now = datetime.datetime.now(datetime.timezone.utc)
    got = datetime.datetime(st.UTCDateTime.Date.Year, st.UTCDateTime.Date.Month,
                            st.UTCDateTime.Date.Day, st.UTCDateTime.Time.Hour,
                            st.UTCDateTime.Time.Minute, st.UTCDateTime.Time.Second,
                            tzinfo=datetime.timezone.utc)
    t.ok(abs((got - now).total_seconds()) < 5, "zeep: GetSystemDateAndTime without credentials", st)
    _, device, _ = d.get("device")
    info = dev.GetDeviceInformation()
    t.ok(info.SerialNumber == device["serial_number"] and info.Manufacturer == "thermocam",
         "zeep: GetDeviceInformation (WS-UsernameToken) tells the serial number", info)
    svcs = anon.GetServices(True)
    names = {x.Namespace: x.XAddr for x in svcs}
    t.ok(names.get("http://www.onvif.org/ver10/device/wsdl", "").endswith("/onvif/device_service")
         and names.get("http://www.onvif.org/ver10/media/wsdl", "").endswith("/onvif/media_service")
         and "http://www.onvif.org/ver20/media/wsdl" in names,
         "zeep: GetServices lists device, media and media2 with their addresses", names)
    caps = anon.GetCapabilities("All")
    t.ok(caps.Media.XAddr.endswith("/onvif/media_service") and caps.Device.IO.RelayOutputs == 4,
         "zeep: GetCapabilities", caps.Media)
    t.ok(anon.GetHostname().Name == socket.gethostname(), "zeep: GetHostname (pre-auth)")
    ifs = dev.GetNetworkInterfaces()
    t.ok(len(ifs) >= 1 and ifs[0].Info.Name, "zeep: GetNetworkInterfaces", ifs)
    dns, ntp = dev.GetDNS(), dev.GetNTP()
    t.ok(dns.FromDHCP is False and ntp.FromDHCP is False, "zeep: GetDNS and GetNTP")
    dev.SetScopes(["onvif://www.onvif.org/name/Kiln%20Camera", "onvif://www.onvif.org/location/Hall%207",
                   "onvif://www.onvif.org/plant/line2"])
    items = [x.ScopeItem for x in dev.GetScopes()]
    _, onvif_cfg, _ = d.get("config/onvif")
    _, dev_cfg, _ = d.get("config/device")
    t.ok("onvif://www.onvif.org/name/Kiln%20Camera" in items and dev_cfg["name"] == "Kiln Camera"
         and onvif_cfg["location"] == "Hall 7" and onvif_cfg["scopes"] == ["onvif://www.onvif.org/plant/line2"],
         "zeep: SetScopes changes device.name, onvif.location and onvif.scopes (GetScopes shows them)",
         (items, onvif_cfg))
    try:
        dev.SetScopes(["onvif://www.onvif.org/type/Other"])
        t.ok(False, "a fixed scope cannot be set")
    except Fault as e:
        t.ok("ScopeOverwrite" in subs(e) or "OperationProhibited" in subs(e),
             "SetScopes of a fixed scope: a fault (ter:ScopeOverwrite)", subs(e))
    dev.SetDiscoveryMode("NonDiscoverable")
    m1 = dev.GetDiscoveryMode()
    _, oc, _ = d.get("config/onvif")
    dev.SetDiscoveryMode("Discoverable")
    t.ok(m1 == "NonDiscoverable" and oc["discovery"] == "non-discoverable"
         and dev.GetDiscoveryMode() == "Discoverable", "zeep: Set/GetDiscoveryMode through the configuration")
    n = datetime.datetime.now(datetime.timezone.utc)
    try:
        dev.SetSystemDateAndTime("Manual", False, {"TZ": "CST-8"},
                                 {"Date": {"Year": n.year, "Month": 13, "Day": n.day},
                                  "Time": {"Hour": n.hour, "Minute": n.minute, "Second": n.second}})
        bad_date = None
    except Fault as e:
        bad_date = subs(e)
    _, tcfg, _ = d.get("config/time")
    t.ok(bad_date and "InvalidDateTime" in bad_date and tcfg["timezone"] != "+08:00",
         "SetSystemDateAndTime with month 13: ter:InvalidDateTime, nothing changed", (bad_date, tcfg))
    # the device clock (an offset of the daemon's own: the host's clock is
    # never set): an hour ahead through ONVIF, seen by the API, then back
    ahead = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    dev.SetSystemDateAndTime("Manual", False, None,
                             {"Date": {"Year": ahead.year, "Month": ahead.month, "Day": ahead.day},
                              "Time": {"Hour": ahead.hour, "Minute": ahead.minute,
                                       "Second": ahead.second}})
    _, tnow, _ = d.get("time")
    st = anon.GetSystemDateAndTime()
    u = st.UTCDateTime
    seen = datetime.datetime(u.Date.Year, u.Date.Month, u.Date.Day, u.Time.Hour, u.Time.Minute,
                             u.Time.Second, tzinfo=datetime.timezone.utc)
    host_ok = abs(time.time() - (ahead.timestamp() - 3600)) < 10    # the host's stayed
    t.ok(abs(tnow.get("offset_ms", 0) - 3600000) < 3000 and abs((seen - ahead).total_seconds()) < 5
         and host_ok,
         f"SetSystemDateAndTime an hour ahead: the device clock's offset {tnow.get('offset_ms')} ms "
         "(GET /time), GetSystemDateAndTime says it, the host clock untouched", (tnow, u))
    # back through the API (a WS-UsernameToken made from the host's clock is
    # now an hour old to the device, and refused: clients take the device's
    # time from GetSystemDateAndTime, as ONVIF asks)
    d.put("time", {"epoch_ms": int(time.time() * 1000)})
    _, tnow, _ = d.get("time")
    t.ok(abs(tnow.get("offset_ms", 0)) < 3000, f"and back: offset {tnow.get('offset_ms')} ms", tnow)
    dev.SetSystemDateAndTime("Manual", False, {"TZ": "CST-8"})
    _, tcfg, _ = d.get("config/time")
    st = anon.GetSystemDateAndTime()
    t.ok(tcfg["timezone"] == "+08:00" and st.TimeZone.TZ == "UTC-8"
         and (st.LocalDateTime.Time.Hour - st.UTCDateTime.Time.Hour) % 24 == 8,
         "zeep: SetSystemDateAndTime (Manual, TZ CST-8 -> time.timezone +08:00; GetSystemDateAndTime tells it)",
         (tcfg, st.TimeZone))
    dev.SetSystemDateAndTime("Manual", False, {"TZ": "UTC0"})
    try:
        dev.SetSystemDateAndTime("Manual", False, {"TZ": "CET-1CEST,M3.5.0,M10.5.0/3"})
        t.ok(False, "a time zone with DST rules is refused")
    except Fault as e:
        t.ok("InvalidTimeZone" in subs(e), "a TZ with daylight-saving rules: ter:InvalidTimeZone",
             e.subcodes)

    # users
    dev.CreateUsers([{"Username": "newbie", "Password": "N3wbie#pass", "UserLevel": "Operator"}])
    users = {u.Username: u.UserLevel for u in dev.GetUsers()}
    t.ok(users.get("newbie") == "Operator" and all(u.Password is None for u in dev.GetUsers()),
         "zeep: CreateUsers, GetUsers (no password shown)", users)
    nb = service("devicemgmt.wsdl", "{http://www.onvif.org/ver10/device/wsdl}DeviceBinding",
                 "device_service", user="newbie", password="N3wbie#pass")
    t.ok(nb.GetDeviceInformation().SerialNumber == device["serial_number"], "the new user logs in")
    dev.SetUser([{"Username": "newbie", "Password": "N3wer#pass2", "UserLevel": "User"}])
    nb2 = service("devicemgmt.wsdl", "{http://www.onvif.org/ver10/device/wsdl}DeviceBinding",
                  "device_service", user="newbie", password="N3wer#pass2")
    try:
        nb.GetDeviceInformation()
        old_refused = False
    except Fault:
        old_refused = True
    t.ok(old_refused and nb2.GetDeviceInformation() is not None
         and {u.Username: u.UserLevel for u in dev.GetUsers()}["newbie"] == "User",
         "zeep: SetUser changes the password and the level")
    for bad, code in ((("admin2", "short", "User"), "PasswordTooWeak"),
                      ((ADM, "An0ther#pass", "User"), "UsernameClash"),
                      (("anon", "An0ther#pass", "Anonymous"), "AnonymousNotAllowed")):
        try:
            dev.CreateUsers([{"Username": bad[0], "Password": bad[1], "UserLevel": bad[2]}])
            t.ok(False, f"CreateUsers refused: {code}")
        except Fault as e:
            t.ok(code in subs(e), f"CreateUsers refused with ter:{code}", subs(e))
    dev.DeleteUsers(["newbie"])
    t.ok("newbie" not in {u.Username for u in dev.GetUsers()}, "zeep: DeleteUsers")
    _, audit, _ = d.get("system/audit-log")
    text = json.dumps(audit)
    t.ok("ONVIF users created: newbie" in text and "ONVIF users deleted: newbie" in text
         and "config.onvif" in text, "user changes and configuration changes are audited",
         text[-800:])

    # ---- zeep: media ----
    med = service("media.wsdl", "{http://www.onvif.org/ver10/media/wsdl}MediaBinding", "media_service")
    profiles = med.GetProfiles()
    t.ok([p.token for p in profiles] == ["profile_main", "profile_sub"]
         and profiles[0].VideoEncoderConfiguration.Encoding == "H264",
         "zeep: GetProfiles: the main and the sub stream", [p.token for p in profiles])
    srcs = med.GetVideoSources()
    t.ok(len(srcs) == 1 and srcs[0].Resolution.Width == device["sensor"]["width"],
         "zeep: GetVideoSources: the sensor", srcs)
    opts = med.GetVideoEncoderConfigurationOptions(ConfigurationToken="encoder_sub")
    t.ok(opts.H264 and any(r.Width == 160 for r in opts.H264.ResolutionsAvailable),
         "zeep: GetVideoEncoderConfigurationOptions", opts.QualityRange)
    c = med.GetVideoEncoderConfiguration("encoder_sub")
    c.Resolution.Width, c.Resolution.Height = 160, 128
    c.RateControl.BitrateLimit = 300
    c.H264.GovLength = 20
    med.SetVideoEncoderConfiguration(c, True)
    _, video, _ = d.get("config/video")
    t.ok(video["sub"]["resolution"] == "160x128" and video["sub"]["max_bitrate"] == 300
         and video["sub"]["iframe_interval"] == 20,
         "zeep: SetVideoEncoderConfiguration goes through the change path (video.sub)", video["sub"])
    c.RateControl.BitrateLimit = 5
    try:
        med.SetVideoEncoderConfiguration(c, True)
        t.ok(False, "a bitrate below the range is refused")
    except Fault as e:
        _, video2, _ = d.get("config/video")
        t.ok("ConfigModify" in subs(e) and video2 == video,
             "an out-of-range bitrate: ter:ConfigModify naming the field, nothing changed",
             (e.message, subs(e)))
    uri = med.GetStreamUri({"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                           "profile_main").Uri
    from urllib.parse import quote
    cred = uri.replace("rtsp://", f"rtsp://{ADM}:{quote(ADM_PW, safe='')}@")
    got, err = ffprobe(cred, "tcp")
    t.ok(got is not None and got[0] == "h264" and got[1] == video["main"]["resolution"].split("x")[0]
         and True or (got is not None and got[0] == "h264" and str(got[1]) == video["main"]["resolution"].split("x")[0]),
         "zeep: GetStreamUri plays in ffprobe with the ONVIF user's credentials (TCP)", (uri, got, err[-300:]))
    got_udp, err = ffprobe(cred, "udp")
    t.ok(got_udp is not None and got_udp[0] == "h264", "... and over UDP", err[-300:])
    snap = med.GetSnapshotUri("profile_main").Uri
    r = requests.get(snap, auth=HTTPDigestAuth(ADM, ADM_PW), timeout=20)
    t.ok(r.status_code == 200 and r.headers.get("Content-Type") == "image/jpeg"
         and jpeg_size(r.content) == (device["sensor"]["width"], device["sensor"]["height"]),
         "zeep: GetSnapshotUri gives a JPEG (the ONVIF user's Digest)", (snap, r.status_code))
    r = requests.get(snap, auth=HTTPDigestAuth("admin", PASSWORD), timeout=20)
    t.ok(r.status_code == 401, "the snapshot refuses a web account", r.status_code)

    # ---- the npm onvif client ----
    if shutil.which("node"):
        for mode in ("digest/ws-username-token", "digest"):
            d.put("config/onvif", {"authentication": mode})
            r = subprocess.run(["node", os.path.join(HERE, "onvif_client.mjs"), "connect", "127.0.0.1",
                                str(d.http), USR, USR_PW], capture_output=True, text=True, timeout=60)
            try:
                o = json.loads(r.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                o = {"ok": False, "error": r.stdout + r.stderr}
            t.ok(o.get("ok") and o["info"]["serialNumber"] == device["serial_number"]
                 and [p["token"] for p in o["profiles"]] == ["profile_main", "profile_sub"]
                 and o["stream"].startswith("rtsp://") and "/onvif/snapshot" in o["snapshot"],
                 f"npm onvif ({mode}): connect, device information, profiles, stream and snapshot URIs", o)
        got, err = ffprobe(o["stream"].replace("rtsp://", f"rtsp://{USR}:{quote(USR_PW, safe='')}@"), "tcp") \
            if o.get("ok") else (None, "")
        t.ok(got is not None and got[0] == "h264", "npm onvif: the stream URI plays (a User)", err[-300:])
        r = requests.get(o["snapshot"], auth=HTTPDigestAuth(USR, USR_PW), timeout=20) if o.get("ok") else None
        t.ok(r is not None and r.status_code == 200 and r.content[:2] == b"\xff\xd8",
             "npm onvif: the snapshot URI gives a JPEG")
        d.put("config/onvif", {"authentication": "digest/ws-username-token"})
    else:
        for _ in range(4):
            t.ok(True, "# SKIP no node")

    # ---- the answers follow the schemas ----
    dschema, mschema = wsdl_schema("devicemgmt.wsdl"), wsdl_schema("media.wsdl")
    hdr = lambda: token_header(ADM, ADM_PW)  # noqa: E731
    checks = [(dschema, "GetDeviceInformation", "device_service", NS["tds"], ""),
              (dschema, "GetCapabilities", "device_service", NS["tds"], "<Category>All</Category>"),
              (dschema, "GetServices", "device_service", NS["tds"],
               "<IncludeCapability>true</IncludeCapability>"),
              (dschema, "GetSystemDateAndTime", "device_service", NS["tds"], ""),
              (dschema, "GetScopes", "device_service", NS["tds"], ""),
              (dschema, "GetNetworkInterfaces", "device_service", NS["tds"], ""),
              (dschema, "GetUsers", "device_service", NS["tds"], ""),
              (mschema, "GetProfiles", "media_service", NS["trt"], ""),
              (mschema, "GetVideoEncoderConfigurationOptions", "media_service", NS["trt"],
               "<ProfileToken>profile_main</ProfileToken>"),
              (mschema, "GetStreamUri", "media_service", NS["trt"],
               "<StreamSetup><Stream xmlns=\"http://www.onvif.org/ver10/schema\">RTP-Unicast</Stream>"
               "<Transport xmlns=\"http://www.onvif.org/ver10/schema\"><Protocol>UDP</Protocol></Transport>"
               "</StreamSetup><ProfileToken>profile_main</ProfileToken>"),
              (mschema, "GetSnapshotUri", "media_service", NS["trt"], "<ProfileToken>profile_sub</ProfileToken>")]
    for schema, op, path, ns, body in checks:
        s, root, text = soap(d, envelope(op, ns, body, hdr()), path)
        el = body_child(root)
        ok, why = valid(schema, el) if s == 200 and el is not None else (False, text[:300])
        t.ok(ok, f"{op}Response validates against the ONVIF schema", why)

    # ---- security ----
    for op in ("GetSystemDateAndTime", "GetCapabilities", "GetServices", "GetHostname"):
        body = "<IncludeCapability>false</IncludeCapability>" if op == "GetServices" else ""
        s, root, _ = soap(d, envelope(op, body=body))
        t.ok(s == 200 and not fault_codes(root), f"{op} answers without credentials (PRE_AUTH)", s)
    for op, ns, path in (("GetDeviceInformation", NS["tds"], "device_service"),
                         ("GetUsers", NS["tds"], "device_service"),
                         ("GetNetworkInterfaces", NS["tds"], "device_service"),
                         ("GetProfiles", NS["trt"], "media_service"),
                         ("GetStreamUri", NS["trt"], "media_service")):
        s, root, _ = soap(d, envelope(op, ns), path)
        t.ok(s == 401 and "ter:NotAuthorized" in fault_codes(root),
             f"{op} without credentials: 401, ter:NotAuthorized", (s, fault_codes(root)))
    s, root, _ = soap(d, envelope("GetDeviceInformation"), auth=HTTPDigestAuth(ADM, "Wr0ng#pass"))
    t.ok(s == 401 and "ter:NotAuthorized" in fault_codes(root), "a wrong HTTP Digest password: refused", s)
    s, root, _ = soap(d, envelope("GetDeviceInformation"), auth=HTTPDigestAuth(ADM, ADM_PW))
    t.ok(s == 200, "the right HTTP Digest: answered", s)
    s, root, _ = soap(d, envelope("GetDeviceInformation", header=token_header(ADM, "Wr0ng#pass")))
    t.ok(s == 400 and "ter:NotAuthorized" in fault_codes(root), "a wrong UsernameToken digest: refused",
         (s, fault_codes(root)))
    once = token_header(ADM, ADM_PW)
    s1, _, _ = soap(d, envelope("GetDeviceInformation", header=once))
    s2, root, text = soap(d, envelope("GetDeviceInformation", header=once))
    t.ok(s1 == 200 and s2 == 400 and "replay" in text, "a replayed UsernameToken nonce: refused", (s1, s2))
    # an HTTP Digest Authorization sent again as it was (same nonce and nc)
    r = requests.post(f"http://127.0.0.1:{d.http}/onvif/device_service", data=envelope("GetDeviceInformation"),
                      timeout=10)
    ch = requests.utils.parse_dict_header(r.headers.get("WWW-Authenticate", "Digest x=1")[7:])

    def md5(x):
        return hashlib.md5(x.encode()).hexdigest()
    ha1, ha2 = md5(f"{ADM}:{ch.get('realm')}:{ADM_PW}"), md5("POST:/onvif/device_service")
    resp = md5(f"{ha1}:{ch.get('nonce')}:00000001:abcdef:auth:{ha2}")
    authz = (f'Digest username="{ADM}", realm="{ch.get("realm")}", nonce="{ch.get("nonce")}", '
             f'uri="/onvif/device_service", qop=auth, nc=00000001, cnonce="abcdef", response="{resp}", '
             'algorithm=MD5')
    got = [requests.post(f"http://127.0.0.1:{d.http}/onvif/device_service", data=envelope("GetDeviceInformation"),
                         headers={"Authorization": authz}, timeout=10) for _ in range(2)]
    t.ok(got[0].status_code == 200 and got[1].status_code == 401
         and "stale=true" in got[1].headers.get("WWW-Authenticate", ""),
         "an HTTP Digest answer sent again (same nonce and nc): refused, stale", [g.status_code for g in got])
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")
    s, root, text = soap(d, envelope("GetDeviceInformation", header=token_header(ADM, ADM_PW, created=old)))
    t.ok(s == 400 and "too old" in text, "a UsernameToken created 10 minutes ago: refused", s)
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")
    s, _, _ = soap(d, envelope("GetDeviceInformation", header=token_header(ADM, ADM_PW, created=future)))
    t.ok(s == 400, "a UsernameToken created in the future: refused", s)
    s, root, _ = soap(d, envelope("CreateUsers", body="<User><Username xmlns=\"http://www.onvif.org/ver10/schema\">"
                                  "x1</Username></User>", header=token_header(USR, USR_PW)))
    t.ok(s == 400 and "ter:NotAuthorized" in fault_codes(root), "a User cannot call CreateUsers (WRITE_SYSTEM)",
         (s, fault_codes(root)))
    s, root, _ = soap(d, envelope("GetUsers", header=token_header(OPR, OPR_PW)))
    t.ok(s == 400 and "ter:NotAuthorized" in fault_codes(root),
         "an Operator cannot call GetUsers (READ_SYSTEM_SECRET)", s)
    s, root, _ = soap(d, envelope("GetProfiles", NS["trt"], header=token_header(USR, USR_PW)), "media_service")
    t.ok(s == 200, "a User may call GetProfiles (READ_MEDIA)", s)
    s, root, _ = soap(d, envelope("GetDeviceInformation", header=token_header("admin", PASSWORD)))
    s2, _, _ = soap(d, envelope("GetDeviceInformation"), auth=HTTPDigestAuth("admin", PASSWORD))
    t.ok(s == 400 and s2 == 401, "a web account is not an ONVIF user (token and Digest refused)", (s, s2))
    d.put("config/onvif", {"authentication": "digest"})
    s, _, _ = soap(d, envelope("GetDeviceInformation", header=token_header(ADM, ADM_PW)))
    s2, _, _ = soap(d, envelope("GetDeviceInformation"), auth=HTTPDigestAuth(ADM, ADM_PW))
    t.ok(s == 401 and s2 == 200, "authentication digest: a UsernameToken is not enough, Digest is", (s, s2))
    d.put("config/onvif", {"authentication": "digest/ws-username-token"})

    # ---- bad input ----
    _, cfg_before, _ = d.get("config")

    def bad(desc, data, expect_status=(400,), code=None, service_path="device_service"):
        t0 = time.time()
        try:
            s, root, text = soap(d, data, service_path, timeout=20)
        except requests.RequestException as e:
            s, root, text = 0, None, str(e)
        codes = fault_codes(root)
        t.ok(s in expect_status and codes and (code is None or code in codes) and time.time() - t0 < 10
             and alive(d), f"{desc}: a SOAP fault ({s}), the daemon keeps serving", (s, codes, text[:200]))

    bad("malformed XML", b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body><Get")
    bad("not XML at all", b"\x00\x01\x02garbage")
    bad("a body over 64 KiB", envelope("GetDeviceInformation", body="<x>" + "A" * 100000 + "</x>"),
        expect_status=(413,))
    deep = "<a>" * 200 + "</a>" * 200
    bad("200 levels of nesting", envelope("GetDeviceInformation", body=deep))
    xxe = ('<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           f'<s:Envelope xmlns:s="{NS["s"]}"><s:Body><GetDeviceInformation xmlns="{NS["tds"]}">&xxe;'
           '</GetDeviceInformation></s:Body></s:Envelope>')
    s, root, text = soap(d, xxe)
    t.ok(s == 400 and "root:" not in text and fault_codes(root), "XXE: a fault, no file read", text[:200])
    laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)) + \
        f']><s:Envelope xmlns:s="{NS["s"]}"><s:Body><GetScopes xmlns="{NS["tds"]}">&lol9;</GetScopes>' \
        '</s:Body></s:Envelope>'
    bad("billion laughs", laughs)
    bad("an unknown operation", envelope("GetTeapot", header=token_header(ADM, ADM_PW)),
        expect_status=(500,), code="ter:ActionNotSupported")
    bad("a wrong namespace", envelope("GetDeviceInformation", "http://example.com/not-onvif",
                                      header=token_header(ADM, ADM_PW)),
        expect_status=(500,), code="ter:ActionNotSupported")
    bad("a media operation at the device service", envelope("GetProfiles", NS["trt"],
                                                              header=token_header(ADM, ADM_PW)),
        expect_status=(500,), code="ter:ActionNotSupported")
    bad("SOAP 1.1", '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
        f'<GetSystemDateAndTime xmlns="{NS["tds"]}"/></e:Body></e:Envelope>', code="soap:VersionMismatch")
    bad("no Body", f'<s:Envelope xmlns:s="{NS["s"]}"/>')
    bad("a bad argument", envelope("GetProfile", NS["trt"], "<ProfileToken>nope</ProfileToken>",
                                   token_header(ADM, ADM_PW)), code="ter:NoProfile", service_path="media_service")
    bad("a bad boolean", envelope("GetServices", body="<IncludeCapability>maybe</IncludeCapability>"),
        code="ter:InvalidArgVal")
    # random damage to a valid request: always an answer, never a crash
    import random
    rnd = random.Random(17)
    good = envelope("GetServices", body="<IncludeCapability>true</IncludeCapability>",
                    header=token_header(ADM, ADM_PW)).encode()
    statuses = set()
    for i in range(150):
        b = bytearray(good)
        for _ in range(rnd.randint(1, 8)):
            k = rnd.randrange(len(b))
            op = rnd.random()
            if op < 0.4:
                b[k] = rnd.randrange(256)
            elif op < 0.7:
                del b[k:k + rnd.randint(1, 20)]
            else:
                b[k:k] = bytes(rnd.choice([b"<", b">", b"&", b"\x00", b"<!--", b"]]>", b"\xff\xfe", b"&amp;"]))
        try:
            statuses.add(soap(d, bytes(b), timeout=10)[0])
        except requests.RequestException:
            statuses.add(0)
    t.ok(0 not in statuses and statuses <= {200, 400, 401, 413, 500} and alive(d),
         "150 randomly damaged requests: each answered (200 or a fault), the daemon serves on", statuses)
    _, cfg_after, _ = d.get("config")
    t.ok(cfg_after == cfg_before, "after the bad input the configuration is unchanged")
    r = requests.get(f"http://127.0.0.1:{d.http}/onvif/device_service", timeout=10)
    t.ok(r.status_code == 405, "GET of a SOAP service: 405", r.status_code)

    # ---- WS-Discovery: a directed probe ----
    _, ports, _ = d.get("config/ports")
    wsd = ports["in_use"]["wsd"]

    def probe(types="dn:NetworkVideoTransmitter", scopes=""):
        mid = f"urn:uuid:{uuid.uuid4()}"
        msg = (f'<?xml version="1.0"?><s:Envelope xmlns:s="{NS["s"]}" '
               'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
               'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
               'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header>'
               f'<a:MessageID>{mid}</a:MessageID><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>'
               '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>'
               f'<s:Body><d:Probe><d:Types>{types}</d:Types>'
               + (f'<d:Scopes>{scopes}</d:Scopes>' if scopes else '') + '</d:Probe></s:Body></s:Envelope>')
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(1.5)
        try:
            sock.sendto(msg.encode(), ("127.0.0.1", wsd))
            data = sock.recvfrom(65536)[0]
            return mid, etree.fromstring(data)
        except (socket.timeout, etree.XMLSyntaxError):
            return mid, None
        finally:
            sock.close()

    W = {"a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
         "d": "http://schemas.xmlsoap.org/ws/2005/04/discovery"}
    mid, root = probe()
    xaddrs = root.findtext(".//d:XAddrs", namespaces=W) if root is not None else None
    t.ok(root is not None and root.findtext(".//a:RelatesTo", namespaces=W) == mid
         and xaddrs == f"http://127.0.0.1:{d.http}/onvif/device_service"
         and "onvif://www.onvif.org/name/Kiln%20Camera" in root.findtext(".//d:Scopes", namespaces=W),
         "WS-Discovery: a directed probe gets a ProbeMatch with the device service and the scopes", xaddrs)
    _, root = probe(scopes="onvif://www.onvif.org/location/Hall%207")
    t.ok(root is not None, "a probe for our location scope matches")
    _, root = probe(scopes="onvif://www.onvif.org/location/Elsewhere")
    t.ok(root is None, "a probe for another location: no answer")
    _, root = probe(types="dn:SomethingElse")
    t.ok(root is None, "a probe for another type: no answer")
    dev.SetDiscoveryMode("NonDiscoverable")
    _, root = probe()
    dev.SetDiscoveryMode("Discoverable")
    t.ok(root is None, "non-discoverable: no answer")
    _, root = probe()
    t.ok(root is not None, "discoverable again: answered")
    epr = anon.GetEndpointReference().GUID
    _, diag, _ = d.get("system/diagnostics")
    t.ok(root.findtext(".//a:Address", namespaces=W) == epr == diag["wsd"]["endpoint"],
         "the ProbeMatch's endpoint is GetEndpointReference's (and the diagnostics')", epr)

    # ---- SystemReboot: the servers restart, ONVIF answers again ----
    n = d.readies
    msg = dev.SystemReboot()
    end = time.time() + 30
    while d.readies <= n and time.time() < end:
        time.sleep(0.1)
    t.ok(msg and d.readies > n and wait_ok(lambda: alive(d), 20), "SystemReboot: the servers restart in "
         "place and ONVIF answers again", msg)

    # ---- SetSystemFactoryDefault Soft: the defaults, ONVIF and its users kept ----
    _, video_before, _ = d.get("config/video")
    r = requests.post(f"http://127.0.0.1:{d.http}/onvif/device_service", timeout=30,
                      data=envelope("SetSystemFactoryDefault", body="<FactoryDefault>Soft</FactoryDefault>",
                                    header=token_header(ADM, ADM_PW)))
    _, video_after, _ = d.get("config/video")
    _, oc, _ = d.get("config/onvif")
    s2, _, _ = soap(d, envelope("GetDeviceInformation", header=token_header(USR, USR_PW)))
    t.ok(r.status_code == 200 and video_before["sub"]["resolution"] == "160x128"
         and video_after["sub"]["resolution"] == "320x256" and oc["enabled"]
         and [u["name"] for u in oc["users"]] == [ADM, USR, OPR] and s2 == 200,
         "SetSystemFactoryDefault Soft: the defaults back (video.sub), ONVIF and its users kept",
         (r.status_code, video_after["sub"], oc))
    s3, root, _ = soap(d, envelope("SetSystemFactoryDefault", body="<FactoryDefault>Hard</FactoryDefault>",
                                   header=token_header(OPR, OPR_PW)))
    t.ok(s3 == 400 and "ter:NotAuthorized" in fault_codes(root),
         "an Operator may not call SetSystemFactoryDefault (UNRECOVERABLE)", s3)

    # ---- SOAP on the HTTPS port too ----
    n = d.readies
    d.put("config/security", {"https": {"enabled": True}})
    end = time.time() + 30
    while d.readies <= n and time.time() < end:
        time.sleep(0.1)
    ok = False
    if d.https:
        r = requests.post(f"https://127.0.0.1:{d.https}/onvif/device_service", verify=False, timeout=15,
                          data=envelope("GetDeviceInformation", header=token_header(ADM, ADM_PW)),
                          headers={"Content-Type": "application/soap+xml"})
        ok = r.status_code == 200 and device["serial_number"] in r.text
        r = requests.post(f"https://127.0.0.1:{d.https}/onvif/device_service", verify=False, timeout=15,
                          data=envelope("GetServices", body="<IncludeCapability>false</IncludeCapability>"),
                          headers={"Content-Type": "application/soap+xml"})
        ok = ok and f"https://127.0.0.1:{d.https}/onvif/device_service" in r.text
    t.ok(ok, "SOAP over HTTPS: answered, and the addresses it gives are https ones", d.https)

    # ---- the illegal-login lock applies to ONVIF too (last: it locks us out) ----
    d.put("config/security", {"illegal_login_lock": {"attempts": 3, "duration_min": 1}})
    codes = [soap(d, envelope("GetDeviceInformation", header=token_header(ADM, f"Wr0ng#{i}")))[0]
             for i in range(4)]
    s, _, _ = soap(d, envelope("GetDeviceInformation", header=token_header(ADM, ADM_PW)))
    t.ok(codes[:2] == [400, 400] and 403 in codes and s == 403,
         "three wrong UsernameTokens lock the address: even the right one is refused", (codes, s))
    t.ok(d.stop() == 0, "clean exit")
finally:
    if d.alive():
        d.stop()
t.done()
