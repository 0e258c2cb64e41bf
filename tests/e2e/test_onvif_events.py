#!/usr/bin/python3
"""thermocamd end to end: ONVIF events with real clients (python3-zeep built
from the ONVIF WSDLs, and the npm onvif client's pull point).

GetEventProperties lists the temperature alarm, the thermal radiometry
alarm, the alarm inputs and outputs, the readings, exceptions and burning
prevention (and validates against the schemas); a temperature alarm on the
simulated scene arrives as a pull-point message with its rule and level; an
alarm input as tns1:Device/Trigger/DigitalInput; the readings of a rule in
kelvin agree with GET /temperatures; PullMessages waits for its timeout when
nothing comes; Renew moves the termination time; SetSynchronizationPoint
sends the properties' states again; Unsubscribe ends it; a subscription
expires; at most 10 exist; another user cannot pull one; a bad filter or
termination time is a fault."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap, wait_for  # noqa: E402
from onvif_ext import (NS, ONVIF_PASSWORD, ONVIF_USER, Onvif, Validator,  # noqa: E402
                       fault_of, require_wsdl, set_onvif_users)

require_wsdl()
t = Tap()
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def topic_filter(expr):
    """a wsnt:Filter of one ConcreteSet topic expression (tns1 declared on it)"""
    from lxml import etree
    el = etree.Element("{%s}TopicExpression" % NS["wsnt"],
                       Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet",
                       nsmap={"wsnt": NS["wsnt"], "tns1": NS["tns1"],
                              "tcd": "http://www.thermocam.org/onvif/topics"})
    el.text = expr
    return {"_value_1": [el]}


def texts(msg, where):
    """{Name: Value} of a NotificationMessage's Source or Data items (lxml)"""
    out = {}
    for it in msg.iterfind(f".//tt:Message/tt:{where}/tt:SimpleItem", NS):
        out[it.get("Name")] = it.get("Value")
    return out


def topic(msg):
    tp = msg.find("wsnt:Topic", NS)
    return (tp.text or "").strip() if tp is not None else ""


def op_of(msg):
    m = msg.find(".//tt:Message", NS)
    return m.get("PropertyOperation") if m is not None else None


class Puller:
    """a pull point through zeep: its raw messages (lxml) as they come"""

    def __init__(self, ov, address):
        self.ov = ov
        self.svc = ov.service("events", "PullPointSubscriptionBinding", address)
        self.mgr = ov.service("events", "SubscriptionManagerBinding", address)
        self.msgs = []

    def pull(self, timeout="PT2S", limit=100):
        self.svc.PullMessages(Timeout=timeout, MessageLimit=limit)
        body = self.ov.last_body()
        got = body.findall("wsnt:NotificationMessage", NS)
        self.msgs += got
        return body, got

    def wait(self, pred, timeout):
        end = time.time() + timeout
        seen = [m for m in self.msgs if pred(m)]
        while not seen and time.time() < end:
            _, got = self.pull("PT2S")
            seen = [m for m in got if pred(m)]
        return seen[0] if seen else None


stopped = False
d = Daemon().start()
try:
    d.activate()
    d.wait_frames()
    r = set_onvif_users(d, [(ONVIF_USER, ONVIF_PASSWORD, "Administrator"),
                            ("viewer", "View#Pass2", "User")])
    t.ok(r[0] == 200, "ONVIF on, with an administrator and a user", r)
    ov = Onvif(d.http)
    val = Validator()
    ev = ov.service("events", "EventBinding")

    caps = ev.GetServiceCapabilities()
    t.ok(caps.MaxPullPoints == 10 and caps.WSPausableSubscriptionManagerInterfaceSupport is False,
         "GetServiceCapabilities: at most 10 pull points", caps)

    ev.GetEventProperties()
    body = ov.last_body()
    ok, errs = val.check(body)
    t.ok(ok, "GetEventProperties validates against the schemas", errs)
    ts = body.find("wstop:TopicSet", NS)
    names = set()
    for el in ts.iter():
        if el.get("{%s}topic" % NS["wstop"]) == "true":
            path = []
            p = el
            while p is not ts:
                path.insert(0, p.tag.split("}")[1])
                p = p.getparent()
            names.add("/".join(path))
    want = {"RuleEngine/Radiometry/TemperatureAlarm", "VideoSource/RadiometryAlarm",
            "Device/Trigger/DigitalInput", "Device/Trigger/Relay",
            "VideoAnalytics/Radiometry/SpotTemperatureReading",
            "VideoAnalytics/Radiometry/BoxTemperatureReading", "Device/Exception",
            "Device/BurningPrevention"}
    t.ok(want <= names, "the topic set: temperature alarms, the radiometry alarm, inputs, "
         "outputs, readings, exceptions, burning prevention", sorted(names))

    anon = Onvif(d.http, user=None)
    f = fault_of(anon.service("events", "EventBinding").CreatePullPointSubscription,
                 InitialTerminationTime="PT10S")
    caps_anon = anon.service("events", "EventBinding").GetServiceCapabilities()
    t.ok(f is not None and caps_anon.MaxPullPoints == 10,
         "without credentials: GetServiceCapabilities answers (PRE_AUTH), "
         "CreatePullPointSubscription does not", f)

    # ---- a subscription to the temperature alarms
    sub = ev.CreatePullPointSubscription(
        Filter=topic_filter("tns1:RuleEngine/Radiometry/TemperatureAlarm"),
        InitialTerminationTime="PT60S")
    body = ov.last_body()
    ok, errs = val.check(body)
    addr = sub.SubscriptionReference.Address._value_1
    t.ok(ok and "/onvif/events_service?subscription=" in addr,
         "CreatePullPointSubscription: a manager address; the answer validates", (addr, errs))
    pp = Puller(ov, addr)

    t0 = time.time()
    body, got = pp.pull("PT2S")
    took = time.time() - t0
    ok, errs = val.check(body)
    t.ok(ok and 1.5 < took < 6 and not got,
         "PullMessages with nothing to say waits for its timeout (2 s), then answers empty; "
         "the answer validates", (took, len(got), errs))

    # a hot region of the simulated scene (the motor), with an alarm
    motor = {"name": "motor", "type": "polygon",
             "points": [[0.45, 0.63], [0.57, 0.63], [0.57, 0.81], [0.45, 0.81]],
             "alarm": {"enabled": True, "on": "max", "pre_alarm": 40, "alarm": 50}}
    s, rule, _ = d.post("rules", motor)
    rid = rule["id"] if isinstance(rule, dict) else None
    t.ok(s == 201, "a rule on the motor with an alarm (API)", rule)
    m = pp.wait(lambda m: topic(m) == "tns1:RuleEngine/Radiometry/TemperatureAlarm"
                and texts(m, "Source").get("Rule") == "motor"
                and texts(m, "Source").get("Level") == "Alarm"
                and texts(m, "Data").get("State") == "true" and op_of(m) == "Changed", 25)
    data = texts(m, "Data") if m is not None else {}
    t.ok(m is not None and abs(float(data.get("Threshold", 0)) - (50 + 273.15)) < 0.01
         and float(data.get("Value", 0)) > 50 + 273.15,
         "the temperature alarm arrives as a pull-point message with its rule (motor), level, "
         "state, value and threshold in kelvin", data if m is not None else
         [(topic(x), texts(x, "Source"), texts(x, "Data")) for x in pp.msgs])
    t.ok(m is not None and texts(m, "Source").get("VideoSourceConfigurationToken")
         and texts(m, "Source").get("VideoAnalyticsConfigurationToken"),
         "its source names the video source and analytics configurations",
         texts(m, "Source") if m is not None else None)
    others = [topic(x) for x in pp.msgs if topic(x) != "tns1:RuleEngine/Radiometry/TemperatureAlarm"]
    t.ok(not others, "the filter holds: only temperature alarms", others)

    # ---- Renew, SetSynchronizationPoint
    before = pp.svc.PullMessages(Timeout="PT0S", MessageLimit=1).TerminationTime
    rn = pp.mgr.Renew(TerminationTime="PT300S")
    ok, errs = val.check(ov.last_body())
    t.ok((rn.TerminationTime - before).total_seconds() > 200 and ok,
         "Renew moves the termination time (60 s -> 300 s); the answer validates",
         (before, rn.TerminationTime, errs))
    pp.msgs = []
    pp.svc.SetSynchronizationPoint()
    m = pp.wait(lambda m: op_of(m) == "Initialized" and texts(m, "Source").get("Rule") == "motor"
                and texts(m, "Source").get("Level") == "Alarm", 5)
    t.ok(m is not None and texts(m, "Data").get("State") == "true",
         "SetSynchronizationPoint: the alarm's current state again (Initialized, true)",
         [(op_of(x), texts(x, "Source"), texts(x, "Data")) for x in pp.msgs])

    # ---- another user cannot use it
    other = Onvif(d.http, "viewer", "View#Pass2")
    f = fault_of(Puller(other, addr).svc.PullMessages, Timeout="PT0S", MessageLimit=1)
    t.ok(f is not None and "ResourceUnknown" in f, "another ONVIF user cannot pull it", f)

    # ---- unsubscribe
    pp.mgr.Unsubscribe()
    f = fault_of(pp.svc.PullMessages, Timeout="PT0S", MessageLimit=1)
    t.ok(f is not None and "ResourceUnknown" in f, "after Unsubscribe: a fault, no such "
         "subscription", f)

    # ---- alarm inputs, and the readings
    sub2 = ev.CreatePullPointSubscription(InitialTerminationTime="PT60S")
    p2 = Puller(ov, sub2.SubscriptionReference.Address._value_1)
    _, first = p2.pull("PT1S")
    inits = [(topic(x), texts(x, "Source")) for x in first if op_of(x) == "Initialized"]
    t.ok(any(tp == "tns1:Device/Trigger/DigitalInput" for tp, _ in inits)
         and any(tp == "tns1:VideoSource/RadiometryAlarm" for tp, _ in inits)
         and any(tp == "tns1:RuleEngine/Radiometry/TemperatureAlarm" and src.get("Rule") == "motor"
                 for tp, src in inits),
         "a new subscription without a filter first gets every property's state "
         "(Initialized)", inits)
    d.put("config/alarm_inputs", {"inputs": [{"id": i, "name": f"In {i}", "enabled": i == 2}
                                             for i in (1, 2, 3, 4)]})
    d.put("io/inputs/2", {"contact": "closed"})
    m = p2.wait(lambda m: topic(m) == "tns1:Device/Trigger/DigitalInput"
                and texts(m, "Source").get("InputToken") == "AlarmIn_2"
                and texts(m, "Data").get("LogicalState") == "true", 10)
    d.put("io/inputs/2", {"contact": "open"})
    t.ok(m is not None, "an alarm input closed: tns1:Device/Trigger/DigitalInput, "
         "LogicalState true", [(topic(x), texts(x, "Source"), texts(x, "Data")) for x in p2.msgs])
    t.ok(not [x for x in p2.msgs if "TemperatureReading" in topic(x)],
         "no readings to a subscription that did not ask for them")
    p2.mgr.Unsubscribe()

    sub3 = ev.CreatePullPointSubscription(
        Filter=topic_filter("tns1:VideoAnalytics//."),
        InitialTerminationTime="PT30S")
    p3 = Puller(ov, sub3.SubscriptionReference.Address._value_1)
    m = p3.wait(lambda m: topic(m) == "tns1:VideoAnalytics/Radiometry/BoxTemperatureReading"
                and m.find(".//ttr:BoxTemperatureReading[@ItemID='motor']", NS) is not None, 8)
    s, temps, _ = d.get("temperatures")
    api = [x for x in temps.get("rules", []) if x.get("id") == rid]
    ok, errs = val.check(m) if m is not None else (False, "no reading")
    rd = m.find(".//ttr:BoxTemperatureReading", NS) if m is not None else None
    t.ok(rd is not None and api and abs(float(rd.get("MaxTemperature")) - 273.15
                                        - api[0]["max"]) < 3.0 and ok,
         "the motor's readings as BoxTemperatureReading, in kelvin, agree with GET "
         "/temperatures; the message validates",
         (dict(rd.attrib) if rd is not None else None, api, errs))
    p3.mgr.Unsubscribe()

    # ---- bounds: expiry and count
    short = ev.CreatePullPointSubscription(InitialTerminationTime="PT2S")
    ps = Puller(ov, short.SubscriptionReference.Address._value_1)
    time.sleep(3.5)
    f = fault_of(ps.svc.PullMessages, Timeout="PT0S", MessageLimit=1)
    t.ok(f is not None and "ResourceUnknown" in f, "a subscription expires at its termination "
         "time (2 s)", f)
    made = []
    f = None
    for i in range(11):
        f = fault_of(lambda: made.append(ev.CreatePullPointSubscription(
            InitialTerminationTime="PT60S")))
        if f:
            break
    t.ok(len(made) == 10 and f is not None and "MaxPullPoints" in f,
         "at most 10 subscriptions: the 11th is a fault (ter:MaxPullPoints)", (len(made), f))
    for s_ in made:
        Puller(ov, s_.SubscriptionReference.Address._value_1).mgr.Unsubscribe()
    again = fault_of(ev.CreatePullPointSubscription, InitialTerminationTime="PT10S")
    t.ok(again is None, "after Unsubscribe there is room again", again)

    # ---- bad input: a fault
    f = fault_of(ev.CreatePullPointSubscription,
                 Filter=topic_filter("tns1:NoSuch/Topic"))
    t.ok(f is not None and "InvalidArgVal" in f, "a filter on a topic the camera has not: a "
         "fault (ter:InvalidArgVal)", f)
    f = fault_of(ev.CreatePullPointSubscription, InitialTerminationTime="yesterday")
    t.ok(f is not None and "InvalidArgVal" in f, "a termination time that is none: a fault", f)

    # ---- hostile addresses and values: faults, the daemon serves on
    base = f"http://127.0.0.1:{d.http}/onvif/events_service"
    fs = [fault_of(Puller(ov, base + q).svc.PullMessages, Timeout="PT0S", MessageLimit=1)
          for q in ("", "?subscription=" + "a" * 300, "?subscription=%00%ff&subscription=x",
                    "?subscription=../../etc")]
    live = ev.CreatePullPointSubscription(InitialTerminationTime="PT30S")
    pl = Puller(ov, live.SubscriptionReference.Address._value_1)
    fs += [fault_of(pl.svc.PullMessages, Timeout="PT99999999S", MessageLimit=1),
           fault_of(pl.svc.PullMessages, Timeout="PT1S", MessageLimit=0),
           fault_of(pl.mgr.Renew, TerminationTime="2001-01-01T00:00:00Z")]
    pl.mgr.Unsubscribe()
    t.ok(all(f is not None and "InvalidArgVal" in f for f in fs) and d.alive(),
         "no, a huge or a malformed subscription id, a timeout beyond a year, a limit of 0, a "
         "past termination time: faults (ter:InvalidArgVal), the daemon serves on", fs)

    # ---- the npm onvif client's pull point
    node = shutil.which("node")
    if node and os.path.isdir(os.path.join(REPO, "node_modules", "onvif")):
        script = os.path.join(os.path.dirname(__file__), "onvif_pull.cjs")
        r = subprocess.run([node, script, str(d.http), ONVIF_USER, ONVIF_PASSWORD], cwd=REPO,
                           capture_output=True, text=True, timeout=60)
        try:
            out = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            out = {}
        t.ok(out.get("subscribed") and any("TemperatureAlarm" in x for x in out.get("topics", [])),
             "the npm onvif client: createPullPointSubscription and pullMessages get the "
             "temperature alarm's state", (r.stdout[-800:], r.stderr[-800:]))
    else:
        t.ok(False, "node and node_modules/onvif are there (scripts/setup.sh installs them)")

    # ---- burning prevention (a vendor topic): the shutter closed by hand
    sub4 = ev.CreatePullPointSubscription(
        Filter=topic_filter("tcd:Device/BurningPrevention"), InitialTerminationTime="PT60S")
    p4 = Puller(ov, sub4.SubscriptionReference.Address._value_1)
    _, first = p4.pull("PT1S")
    d.put("config/burning_prevention", {"mode": "manual", "shutter": "closed"})
    m = p4.wait(lambda m: op_of(m) == "Changed"
                and texts(m, "Data").get("ShutterClosed") == "true", 8)
    d.put("config/burning_prevention", {"mode": "auto", "shutter": "open"})
    m2 = p4.wait(lambda m: op_of(m) == "Changed"
                 and texts(m, "Data").get("ShutterClosed") == "false", 8)
    t.ok([texts(x, "Data").get("ShutterClosed") for x in first] == ["false"]
         and m is not None and texts(m, "Data").get("Reason") == "manual" and m2 is not None,
         "burning prevention (tcd:Device/BurningPrevention): open at first, closed by hand, "
         "open again", [(op_of(x), texts(x, "Data")) for x in p4.msgs])
    p4.mgr.Unsubscribe()

    # ---- an exception (a vendor topic): the simulated link down and up
    sub6 = ev.CreatePullPointSubscription(
        Filter=topic_filter("tcd:Device/Exception"), InitialTerminationTime="PT60S")
    p6 = Puller(ov, sub6.SubscriptionReference.Address._value_1)
    d.put("io/network", {"link": "up"})
    p6.pull("PT1S")
    d.put("io/network", {"link": "down"})
    m = p6.wait(lambda m: texts(m, "Data").get("Type") == "network_disconnected"
                and texts(m, "Data").get("State") == "start", 8)
    d.put("io/network", {"link": "up"})
    m2 = p6.wait(lambda m: texts(m, "Data").get("Type") == "network_disconnected"
                 and texts(m, "Data").get("State") == "stop", 8)
    t.ok(m is not None and m2 is not None and op_of(m) is None,
         "an exception (tcd:Device/Exception): the network disconnected, then back",
         [texts(x, "Data") for x in p6.msgs])
    p6.mgr.Unsubscribe()

    # ---- a rule deleted while in alarm: the radiometry alarm ends
    sub5 = ev.CreatePullPointSubscription(
        Filter=topic_filter("tns1:VideoSource/RadiometryAlarm"), InitialTerminationTime="PT60S")
    p5 = Puller(ov, sub5.SubscriptionReference.Address._value_1)
    _, first = p5.pull("PT1S")
    on = [texts(x, "Data").get("State") for x in first]
    d.curl("DELETE", f"rules/{rid}")
    m = p5.wait(lambda m: op_of(m) == "Changed" and texts(m, "Data").get("State") == "false", 8)
    t.ok(on == ["true"] and m is not None,
         "tns1:VideoSource/RadiometryAlarm is true while the motor is in alarm, and false once "
         "its rule is deleted", (on, [(op_of(x), texts(x, "Data")) for x in p5.msgs]))

    # ---- over HTTPS: the manager's address is https, a pull waits and answers there too
    n = d.readies
    d.put("config/security", {"https": {"enabled": True}})
    if wait_for(lambda: d.readies > n and d.https, 30):
        ovs = Onvif(d.https, scheme="https")
        evs = ovs.service("events", "EventBinding")
        subs = evs.CreatePullPointSubscription(InitialTerminationTime="PT30S")
        addr_s = subs.SubscriptionReference.Address._value_1
        ps_ = Puller(ovs, addr_s)
        ps_.pull("PT1S")
        t0 = time.time()
        _, got = ps_.pull("PT2S")
        took = time.time() - t0
        t.ok(addr_s.startswith(f"https://127.0.0.1:{d.https}/onvif/events_service?subscription=")
             and 1.5 < took < 6, "over HTTPS: an https manager address, PullMessages waits "
             "(2 s) and answers", (addr_s, took))
        p5 = ps_
    else:
        t.ok(False, "HTTPS on: the servers restart with an HTTPS port", d.lines[-5:])

    # ---- a PullMessages waiting while the daemon stops: it ends cleanly
    import threading
    waiting = {}

    def long_pull():
        try:
            waiting["f"] = fault_of(p5.svc.PullMessages, Timeout="PT40S", MessageLimit=10)
        except Exception as e:  # noqa: BLE001 (the connection closed by the stop)
            waiting["closed"] = type(e).__name__

    th = threading.Thread(target=long_pull, daemon=True)
    th.start()
    time.sleep(1)
    t.ok(d.alive(), "the daemon still serves")
    t0 = time.time()
    rc = d.stop()
    stopped = True
    th.join(15)
    t.ok(rc == 0 and time.time() - t0 < 15 and not th.is_alive(),
         "a PullMessages still waiting: the daemon stops cleanly (exit 0) and the client is "
         "answered or disconnected", (rc, waiting, d.lines[-5:]))
finally:
    if not d.alive() and not stopped:
        print("\n".join("# " + x for x in d.lines[-25:]), flush=True)
    d.stop()
t.done()
