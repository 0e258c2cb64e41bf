#!/usr/bin/python3
"""thermocamd end to end: ONVIF Imaging's focus through the hardware backend
(manual 6.1.8 and 6.1.12), with python3-zeep built from the ONVIF WSDLs.

A daemon whose simulated backend has a motorized focus: GetMoveOptions offers
Continuous only (the backend has no positions); Move moves the focus far and
near (GetStatus: the position changes, MOVING), Stop stops it (IDLE, the
position holds); a Move turns the auto focus off; Absolute is a fault;
GetImagingSettings/SetImagingSettings carry Focus (AutoFocusMode AUTO/MANUAL
is hardware.focus.mode, DefaultSpeed hardware.focus.speed) through the change
path, audited as the ONVIF user's; an ONVIF User may read, not move; an
Operator may move.  A daemon without the focus: GetMoveOptions offers
nothing, Move/Stop/GetStatus are ter:ActionNotSupported/ter:NoImagingForSource,
Focus is not in the settings and setting it is a fault.  Answers validate
against the schemas."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap  # noqa: E402
from onvif_ext import (ONVIF_PASSWORD, ONVIF_USER, Onvif, Validator,  # noqa: E402
                       fault_of, require_wsdl, set_onvif_users)

require_wsdl()
t = Tap()
VS = "video_source"
USERS = [(ONVIF_USER, ONVIF_PASSWORD, "Administrator"), ("oper", "Oper#Pass3", "Operator"),
         ("viewer", "View#Pass2", "User")]


def focus_cfg(d):
    return d.get("config/hardware")[1]["focus"]


def status(im, val, ov):
    s = im.GetStatus(VideoSourceToken=VS)
    ok, errs = val.check(ov.last_body())
    f = s.FocusStatus20
    return (f.Position, f.MoveStatus), ok, errs


val = Validator()
d = Daemon(extra=["--hardware-backend", "simulated:focus"])
d2 = Daemon()
try:
    d.start()
    d.activate()
    r = set_onvif_users(d, USERS)
    t.ok(r[0] == 200, "ONVIF on, with an administrator, an operator and a user", r)
    ov = Onvif(d.http)
    im = ov.service("imaging", "ImagingBinding")

    # ---- options and settings
    mo = im.GetMoveOptions(VideoSourceToken=VS)
    ok, errs = val.check(ov.last_body())
    t.ok(ok and mo.Continuous is not None and mo.Continuous.Speed.Min == -1
         and mo.Continuous.Speed.Max == 1 and mo.Absolute is None and mo.Relative is None,
         "GetMoveOptions: Continuous (speed -1..1), no Absolute/Relative; validates",
         (mo, errs))
    o = im.GetOptions(VideoSourceToken=VS)
    ok, errs = val.check(ov.last_body())
    t.ok(ok and o.Focus is not None and set(o.Focus.AutoFocusModes) == {"AUTO", "MANUAL"}
         and o.Focus.DefaultSpeed.Min == 1 and o.Focus.DefaultSpeed.Max == 7,
         "GetOptions: Focus AUTO/MANUAL, DefaultSpeed 1..7; validates", (o, errs))
    s_ = im.GetImagingSettings(VideoSourceToken=VS)
    ok, errs = val.check(ov.last_body())
    t.ok(ok and s_.Focus.AutoFocusMode == "MANUAL" and s_.Focus.DefaultSpeed == 4,
         "GetImagingSettings: Focus MANUAL, DefaultSpeed 4 (the defaults); validates",
         (s_, errs))
    im.SetImagingSettings(VideoSourceToken=VS, ImagingSettings={
        "Focus": {"AutoFocusMode": "AUTO", "DefaultSpeed": 6}})
    fc = focus_cfg(d)
    s_ = im.GetImagingSettings(VideoSourceToken=VS)
    t.ok(fc["mode"] == "auto" and fc["speed"] == 6 and s_.Focus.AutoFocusMode == "AUTO"
         and s_.Focus.DefaultSpeed == 6,
         "SetImagingSettings Focus AUTO speed 6: hardware.focus.mode auto, speed 6", (fc, s_))
    im.SetImagingSettings(VideoSourceToken=VS, ImagingSettings={
        "Focus": {"AutoFocusMode": "MANUAL"}})
    fc = focus_cfg(d)
    t.ok(fc["mode"] == "manual" and fc["speed"] == 6
         and im.GetImagingSettings(VideoSourceToken=VS).Focus.AutoFocusMode == "MANUAL",
         "SetImagingSettings Focus MANUAL: back to manual, the speed kept", fc)
    f = fault_of(im.SetImagingSettings, VideoSourceToken=VS, ImagingSettings={
        "Focus": {"AutoFocusMode": "AUTO", "DefaultSpeed": 9}})
    f2 = fault_of(im.SetImagingSettings, VideoSourceToken=VS, ImagingSettings={
        "Focus": {"AutoFocusMode": "MANUAL", "NearLimit": 1.0}})
    fc = focus_cfg(d)
    t.ok(f and "InvalidArgVal" in f and f2 and "InvalidArgVal" in f2
         and fc == {"mode": "manual", "speed": 6},
         "a DefaultSpeed of 9, a NearLimit: faults (ter:InvalidArgVal), nothing changed",
         (f, f2, fc))
    r = d.get("system/audit-log?type=config")
    recs = r[1].get("records", []) if r[0] == 200 else []
    t.ok(any(x.get("user") == ONVIF_USER and "config.hardware" in x.get("detail", "")
             for x in recs),
         "audit: the focus settings changed by the ONVIF user (config.hardware)",
         [(x.get("user"), x.get("detail")) for x in recs[-6:]])

    # ---- moves
    st, ok, errs = status(im, val, ov)
    t.ok(ok and st == (0, "IDLE"), "GetStatus: position 0, IDLE; validates", (st, errs))
    viewer = Onvif(d.http, "viewer", "View#Pass2").service("imaging", "ImagingBinding")
    f = fault_of(viewer.Move, VideoSourceToken=VS, Focus={"Continuous": {"Speed": 0.5}})
    t.ok(f is not None and viewer.GetStatus(VideoSourceToken=VS).FocusStatus20.Position == 0,
         "an ONVIF User may read the status, not move the focus", f)
    im.SetImagingSettings(VideoSourceToken=VS, ImagingSettings={
        "Focus": {"AutoFocusMode": "AUTO"}})
    op = Onvif(d.http, "oper", "Oper#Pass3").service("imaging", "ImagingBinding")
    op.Move(VideoSourceToken=VS, Focus={"Continuous": {"Speed": 0.5}})
    time.sleep(0.8)
    st1, ok, errs = status(im, val, ov)
    t.ok(ok and st1[1] == "MOVING" and st1[0] > 50,
         "an Operator's Move Continuous +0.5: the focus moves far (MOVING); validates",
         (st1, errs))
    t.ok(focus_cfg(d)["mode"] == "manual", "the Move turned the auto focus off (manual)",
         focus_cfg(d))
    op.Stop(VideoSourceToken=VS)
    st2, _, _ = status(im, val, ov)
    time.sleep(0.4)
    st3, _, _ = status(im, val, ov)
    t.ok(st2[1] == "IDLE" and st3 == st2 and st2[0] >= st1[0],
         "Stop: IDLE, the position holds", (st2, st3))
    im.Move(VideoSourceToken=VS, Focus={"Continuous": {"Speed": -1}})
    time.sleep(0.5)
    st4, _, _ = status(im, val, ov)
    im.Move(VideoSourceToken=VS, Focus={"Continuous": {"Speed": 0}})
    st5, _, _ = status(im, val, ov)
    hw = d.get("hardware")[1]["focus"]
    t.ok(st4[1] == "MOVING" and st4[0] < st2[0] and st5[1] == "IDLE"
         and hw["position"] == st5[0] and hw["moving"] is None,
         "Move -1 moves near, Move 0 stops; GET /hardware agrees", (st4, st5, hw))
    f = fault_of(im.Move, VideoSourceToken=VS, Focus={"Absolute": {"Position": 100}})
    f2 = fault_of(im.Move, VideoSourceToken=VS, Focus={"Continuous": {"Speed": 3}})
    f3 = fault_of(im.Move, VideoSourceToken="nope", Focus={"Continuous": {"Speed": 1}})
    t.ok(f and "InvalidArgVal" in f and f2 and "InvalidArgVal" in f2
         and f3 and "NoSource" in f3 and status(im, val, ov)[0][1] == "IDLE",
         "Move Absolute, a speed of 3, another source: faults, nothing moves", (f, f2, f3))
    r = d.get("system/audit-log")
    recs = r[1].get("records", []) if r[0] == 200 else []
    t.ok(any(x.get("user") == "oper" and "focus far" in x.get("detail", "") for x in recs)
         and any(x.get("user") == "oper" and "focus stop" in x.get("detail", "")
                 for x in recs),
         "audit: the operator's focus moves",
         [(x.get("user"), x.get("detail")) for x in recs[-6:]])
    t.ok(d.alive(), "the daemon still serves")
    d.stop()

    # ---- without the focus
    d2.start()
    d2.activate()
    set_onvif_users(d2, USERS)
    ov2 = Onvif(d2.http)
    im2 = ov2.service("imaging", "ImagingBinding")
    mo = im2.GetMoveOptions(VideoSourceToken=VS)
    ok, errs = val.check(ov2.last_body())
    t.ok(ok and (mo is None or (mo.Continuous is None and mo.Absolute is None
                                and mo.Relative is None)),
         "without the focus: GetMoveOptions offers nothing; validates", (mo, errs))
    faults = [fault_of(im2.Move, VideoSourceToken=VS, Focus={"Continuous": {"Speed": 0.5}}),
              fault_of(im2.Stop, VideoSourceToken=VS),
              fault_of(im2.GetStatus, VideoSourceToken=VS)]
    t.ok(all(f and "Receiver" in f and "ActionNotSupported" in f and "NoImagingForSource" in f
             for f in faults),
         "without the focus: Move, Stop, GetStatus are env:Receiver ter:ActionNotSupported "
         "ter:NoImagingForSource", faults)
    s_ = im2.GetImagingSettings(VideoSourceToken=VS)
    ok, errs = val.check(ov2.last_body())
    o = im2.GetOptions(VideoSourceToken=VS)
    t.ok(ok and s_.Focus is None and o.Focus is None and s_.Brightness is not None,
         "without the focus: no Focus in GetImagingSettings and GetOptions; validates",
         (s_, o, errs))
    f = fault_of(im2.SetImagingSettings, VideoSourceToken=VS, ImagingSettings={
        "Focus": {"AutoFocusMode": "AUTO"}})
    t.ok(f and "InvalidArgVal" in f and d2.get("config/hardware")[1]["focus"]["mode"] == "manual",
         "without the focus: setting Focus is a fault (ter:InvalidArgVal), nothing changed", f)
    t.ok(d2.alive(), "the daemon without the focus still serves")
finally:
    for x in (d, d2):
        if x.proc and x.proc.poll() not in (None, 0):
            print("\n".join("# " + y for y in x.lines[-25:]), flush=True)
        x.stop()
t.done()
