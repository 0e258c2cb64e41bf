#!/usr/bin/python3
"""Events and their linkage inside thermocamd (manual 4, 5): arming
schedules (validation, copy to other days, inside and outside), alarm inputs
(NO/NC through the simulated backend), alarm outputs (hold delay, manual
trigger and clear), exceptions (network, IP conflict, illegal login),
environment temperature alarm, burning prevention (auto, manual, recovery)
and the measurement alarms' linkage.  Deliveries to real servers are
test_delivery.py's."""
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Events, Tap, wait_for  # noqa: E402

t = Tap()
d = Daemon(extra=["--lock-minute", "1"]).start()
d.activate()
first = d.wait_frames()
ev = Events(d)


def status(r):
    return r[0]


def code(r):
    return r[1]["error"]["code"] if isinstance(r[1], dict) and "error" in r[1] else None


def field(r):
    return r[1]["error"]["field"] if isinstance(r[1], dict) and "error" in r[1] else None


def io():
    return d.get("io")[1]


def output_on(i):
    return io()["outputs"][i - 1]["on"]


ALWAYS = {day: [{"start": "00:00", "end": "24:00"}] for day in
          ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}
NEVER = {day: [] for day in ALWAYS}

# ---- arming schedules (manual 5.1) ----
s, evs, _ = d.get("config/events")
t.ok(s == 200 and evs["scene"]["schedule"] == ALWAYS and evs["rules"]["linkage"]["alarm_outputs"] == []
     and evs["rules"]["pre_alarm"] is False,
     "factory: every event source armed all week, no linkage", evs)
bad = [
    ({"monday": [{"start": "08:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]},
     "events.scene.schedule.monday[1]", "overlapping periods"),
    ({"friday": [{"start": "12:00", "end": "08:00"}]}, "events.scene.schedule.friday[0]",
     "a period that ends before it starts"),
    ({"sunday": [{"start": "24:00", "end": "24:00"}]}, "events.scene.schedule.sunday[0].start",
     "24:00 as a start"),
    ({"tuesday": [{"start": f"{h:02d}:00", "end": f"{h:02d}:30"} for h in range(9)]},
     "events.scene.schedule.tuesday", "9 periods in a day"),
    ({"funday": []}, "events.scene.schedule.funday", "an unknown day"),
]
before = d.get("config")[1]
for sched, fld, what in bad:
    r = d.put("config/events", {"scene": {"schedule": sched}})
    t.ok(status(r) == 400 and code(r) == "invalid" and field(r) == fld,
         f"schedule with {what}: 400 naming {fld}", r)
t.ok(d.get("config")[1] == before, "the refused schedules changed nothing")

week = dict(ALWAYS, monday=[{"start": "06:00", "end": "09:30"}, {"start": "17:00", "end": "24:00"}])
r = d.put("config/events", {"scene": {"schedule": week}})
t.ok(status(r) == 200 and r[1]["scene"]["schedule"]["monday"] == week["monday"],
     "8 periods a day at most; two periods on Monday accepted", r)
r = d.post("events/schedule-copy", {"source": "scene", "from": "monday",
                                    "to": ["tuesday", "wednesday", "sunday"]})
sched = d.get("config/events")[1]["scene"]["schedule"]
t.ok(status(r) == 200 and all(sched[x] == week["monday"] for x in ("tuesday", "wednesday", "sunday"))
     and sched["thursday"] == ALWAYS["thursday"], "copy to other days: Monday's periods on Tue, Wed, Sun", sched)
r = d.post("events/schedule-copy", {"source": "output-2", "from": "monday", "to": ["friday"]})
t.ok(status(r) == 200, "copy works for an alarm output's schedule too", r)
r = d.post("events/schedule-copy", {"source": "scene", "from": "moonday", "to": ["friday"]})
t.ok(status(r) == 400 and field(r) == "from", "copy from an unknown day: 400 from", r)
r = d.post("events/schedule-copy", {"source": "input-9", "from": "monday", "to": ["friday"]})
t.ok(status(r) == 400 and field(r) == "source", "copy for an unknown source: 400 source", r)
d.put("config/events", {"scene": {"schedule": ALWAYS}})

# ---- alarm outputs by hand (manual 5.2.1) ----
s, j, _ = d.get("io")
t.ok(s == 200 and j["backend"] == "simulated" and len(j["inputs"]) == 4 and len(j["outputs"]) == 4
     and not any(o["on"] for o in j["outputs"]), "GET /io: the simulated backend, 4 inputs, 4 outputs, all off", j)
r = d.post("io/outputs/1/trigger")
t.ok(status(r) == 200 and r[1]["outputs"][0]["on"] and r[1]["outputs"][0]["manual"],
     "manual alarm: output 1 on", r)
e = ev.wait(lambda e: e[0] == "output" and e[1]["output"] == 1 and e[1]["on"], 5)
t.ok(e is not None, "an output event on the stream", ev.events[-3:])
time.sleep(1.5)
t.ok(output_on(1), "a manual alarm stays on")
r = d.post("io/outputs/1/clear")
t.ok(status(r) == 200 and not r[1]["outputs"][0]["on"], "clear alarm: output 1 off", r)
r = d.post("io/outputs/5/trigger")
t.ok(status(r) == 404, "output 5 does not exist: 404", r)

# ---- alarm inputs (manual 4.1) linked to an output with a hold delay ----
inputs = [
    {"id": 1, "name": "Door", "enabled": True, "type": "NO", "linkage": {"alarm_outputs": [2]}},
    {"id": 2, "name": "Fence", "enabled": True, "type": "NC", "linkage": {"alarm_outputs": [3]}},
    {"id": 3, "name": "Night only", "enabled": True, "type": "NO", "schedule": NEVER,
     "linkage": {"alarm_outputs": [4]}},
    {"id": 4, "name": "Spare"},
]
outputs = [{"id": 1, "name": "Siren", "delay": 0}, {"id": 2, "name": "Lamp", "delay": 2},
           {"id": 3, "name": "Relay 3", "delay": 1}, {"id": 4, "name": "Relay 4", "delay": 1}]
r1 = d.put("config/alarm_outputs", {"outputs": outputs})
r2 = d.put("config/alarm_inputs", {"inputs": inputs})
t.ok(status(r1) == 200 and status(r2) == 200, "inputs and outputs configured", (r1, r2))
r = d.put("config/alarm_inputs", {"inputs": inputs[:3] + [{"id": 1, "name": "twice"}]})
t.ok(status(r) == 400 and field(r) == "alarm_inputs.inputs[3].id", "an input listed twice: 400", r)
r = d.put("config/alarm_inputs", {"inputs": inputs[:3]})
t.ok(status(r) == 400, "3 inputs where there are 4: 400", r)
fence = ev.wait(lambda e: e[0] == "alarm" and e[1]["source"] == "input" and e[1]["input"] == 2
                and e[1]["state"] == "start", 5)
t.ok(fence is not None and wait_for(lambda: output_on(3), 3),
     "an NC input with its contact open is in alarm at once (and links its output)", fence)
r = d.put("io/inputs/2", {"contact": "closed"})
t.ok(status(r) == 200 and not r[1]["inputs"][1]["alarm"], "NC contact closed: normal", r)

t0 = time.time()
r = d.put("io/inputs/1", {"contact": "closed"})
a = ev.wait(lambda e: e[0] == "alarm" and e[1]["source"] == "input" and e[1]["input"] == 1
            and e[1]["state"] == "start", 5)
t.ok(status(r) == 200 and r[1]["inputs"][0]["alarm"] and a is not None and a[1]["name"] == "Door",
     "NO contact closed: an input alarm on the stream", (r, a))
t.ok(wait_for(lambda: output_on(2), 3), "the linked output 2 is on")
time.sleep(1.0)
t.ok(output_on(2), "it stays on while the input is in alarm")
d.put("io/inputs/1", {"contact": "open"})
t_open = time.time()
stop = ev.wait(lambda e: e[0] == "alarm" and e[1]["source"] == "input" and e[1]["input"] == 1
               and e[1]["state"] == "stop", 5)
off = ev.wait(lambda e: e[0] == "output" and e[1]["output"] == 2 and not e[1]["on"], 6)
held = off[2] - t_open if off else None
t.ok(stop is not None and off is not None and 1.6 <= held <= 3.0,
     f"after the input ends, output 2 holds for its 2 s delay ({held and round(held, 2)} s), then clears",
     (stop, off))
# a link removed while the event lasts: the output lets go (after its delay)
d.put("io/inputs/1", {"contact": "closed"})
t.ok(wait_for(lambda: output_on(2), 3), "input 1 in alarm again: output 2 on")
unlinked = [dict(inputs[0], linkage={"alarm_outputs": []})] + inputs[1:]
d.put("config/alarm_inputs", {"inputs": unlinked})
t_cut = time.time()
off = ev.wait(lambda e: e[0] == "output" and e[1]["output"] == 2 and not e[1]["on"] and e[2] > t_cut, 6)
t.ok(off is not None and 1.6 <= off[2] - t_cut <= 3.0,
     "the input's link to output 2 removed mid-alarm: output 2 holds its delay, then clears", off)
d.put("io/inputs/1", {"contact": "open"})
d.put("config/alarm_inputs", {"inputs": inputs})
r = d.put("io/inputs/7", {"contact": "closed"})
t.ok(status(r) == 404, "input 7 does not exist: 404", r)
r = d.put("io/inputs/1", {"contact": "ajar"})
t.ok(status(r) == 400 and field(r) == "contact", "a contact is open or closed: 400", r)

# outside the schedule: streamed, not linked
d.put("io/inputs/3", {"contact": "closed"})
a = ev.wait(lambda e: e[0] == "alarm" and e[1]["source"] == "input" and e[1]["input"] == 3, 5)
time.sleep(1.0)
t.ok(a is not None and not output_on(4) and any("input-3: outside its arming schedule" in x for x in d.lines),
     "an input alarm outside its schedule is streamed and logged, not linked", (a, io()["outputs"][3]))
d.put("io/inputs/3", {"contact": "open"})
now = datetime.datetime.now(datetime.timezone.utc)
today = now.strftime("%A").lower()
here = f"{now.hour:02d}:00"
there = f"{(now.hour + 1) % 24:02d}:00" if now.hour < 23 else "24:00"
inside = dict(NEVER, **{today: [{"start": here, "end": there}]})
inputs[2]["schedule"] = inside
d.put("config/alarm_inputs", {"inputs": inputs})
d.put("io/inputs/3", {"contact": "closed"})
t.ok(wait_for(lambda: output_on(4), 3), f"inside today's period {here}-{there} UTC it is linked")
d.put("io/inputs/3", {"contact": "open"})
# the schedule is read in the configured time zone
off_zone = "+05:00" if now.hour < 19 else "-05:00"
d.put("config/time", {"timezone": off_zone})
wait_for(lambda: not output_on(4), 4)
d.put("io/inputs/3", {"contact": "closed"})
time.sleep(1.0)
t.ok(not output_on(4), f"in time zone {off_zone} the same period is not now: not linked", io()["outputs"][3])
d.put("io/inputs/3", {"contact": "open"})
d.put("config/time", {"timezone": "UTC"})

# alarm input handling off
d.put("config/alarm_inputs", {"enabled": False})
d.put("io/inputs/1", {"contact": "closed"})
time.sleep(0.5)
t.ok(not io()["inputs"][0]["alarm"], "alarm input handling disabled: a closed contact raises nothing")
d.put("io/inputs/1", {"contact": "open"})
d.put("config/alarm_inputs", {"enabled": True})

# ---- exceptions (manual 4.2) ----
d.put("config/exceptions", {"network_disconnected": {"linkage": {"alarm_outputs": [1]}},
                            "illegal_login": {"linkage": {"alarm_outputs": [4]}}})
# the simulated link starts up whatever the host's network (a machine whose
# only interface is loopback is offline: its daemon starts disconnected);
# tests/e2e/test_netns.py takes a real link down in a namespace
d.put("io/network", {"link": "up"})
time.sleep(0.5)
t_down = time.time()
r = d.put("io/network", {"link": "down"})
e = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "network_disconnected"
            and e[1].get("state") == "start" and e[2] >= t_down, 5)
t.ok(status(r) == 200 and e is not None and wait_for(lambda: output_on(1), 3),
     "network disconnected (simulated link down): exception, linked output 1 on", (r, e))
t_back = time.time()
d.put("io/network", {"link": "up"})
e = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "network_disconnected"
            and e[1].get("state") == "stop" and e[2] >= t_back, 5)
time.sleep(0.5)
t.ok(e is not None and output_on(1), "back up: a stop event; output 1 (delay 0: manual) stays on until cleared", e)
d.post("io/outputs/1/clear")
d.put("io/network", {"ip_conflict": True})
e = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "ip_conflict"
            and e[1].get("state") == "start", 5)
t.ok(e is not None, "IP address conflict: an exception event", e)
d.put("io/network", {"ip_conflict": False})
s, st, _ = d.get("events/state")
t.ok(s == 200 and st["network"]["available"] and not st["network"]["ip_conflict"]
     and st["network"]["simulated"], "events/state shows the network", st.get("network"))
r = d.put("io/network", {"link": "sideways"})
t.ok(status(r) == 400 and field(r) == "link", "link is up or down: 400", r)
for i in range(5):
    d.get("device", password="Wrong#pass1", source="127.0.0.9")
e = ev.wait(lambda e: e[0] == "exception" and e[1].get("type") == "illegal_login", 5)
t.ok(e is not None and wait_for(lambda: output_on(4), 3),
     "illegal login: exception event and its linkage (output 4)", e)

# ---- environment temperature alarm (manual 4.4) ----
fpa = wait_for(lambda: d.get("events/state")[1]["environment"].get("device_temperature"), 5)
r = d.put("config/environment_alarm", {"enabled": True, "threshold": round(fpa - 5, 1),
                                       "interval_s": 2, "linkage": {"alarm_outputs": [3]}})
e = ev.wait(lambda e: e[0] == "alarm" and e[1]["source"] == "environment" and e[1]["state"] == "start"
            and not e[1]["repeat"], 5)
t.ok(status(r) == 200 and e is not None and e[1]["value"] > e[1]["threshold"]
     and wait_for(lambda: output_on(3), 3),
     f"device temperature {fpa} C above {round(fpa - 5, 1)}: environment alarm, output 3 on", e)
rep = ev.wait(lambda e: e[0] == "alarm" and e[1]["source"] == "environment" and e[1].get("repeat"), 5)
t.ok(rep is not None and 1.5 <= rep[2] - e[2] <= 3.5, "repeated at its 2 s interval",
     rep and round(rep[2] - e[2], 2))
d.put("config/environment_alarm", {"threshold": 149})
e = ev.wait(lambda e: e[0] == "alarm" and e[1]["source"] == "environment" and e[1]["state"] == "stop", 5)
t.ok(e is not None, "threshold raised above it: the alarm stops", e)
d.put("config/environment_alarm", {"enabled": False})

# ---- burning prevention (manual 4.3) ----
hot = d.wait_frames()["scene"]["max"]
r = d.put("config/burning_prevention", {"enabled": True, "mode": "auto", "threshold": 50 if hot > 55 else hot - 5,
                                        "duration_s": 2, "recovery": True})
closed = ev.wait(lambda e: e[0] == "burning" and e[1]["shutter"] == "closed", 5)
t.ok(status(r) == 200 and closed is not None and closed[1]["reason"] == "auto",
     f"auto: a hot target (scene max {hot} C) closes the shutter", closed)
time.sleep(0.6)
shut = d.wait_frames()["scene"]
st = d.get("events/state")[1]["burning_prevention"]
t.ok(shut["max"] - shut["min"] < 3 and st["shutter"] == "closed" and st["remaining_s"] > 0,
     f"the sensor sees the closed shutter (scene {shut['min']}..{shut['max']} C)", (shut, st))
opened = ev.wait(lambda e: e[0] == "burning" and e[1]["shutter"] == "open" and e[2] > closed[2], 5)
t.ok(opened is not None and 1.6 <= opened[2] - closed[2] <= 3.0,
     f"it opens after its 2 s duration ({opened and round(opened[2] - closed[2], 2)} s)", opened)
t.ok(wait_for(lambda: any("burning recovery: flat-field correction" in x for x in d.lines), 3),
     "burning recovery: a flat-field correction when it opens")
again = ev.wait(lambda e: e[0] == "burning" and e[1]["shutter"] == "closed" and e[2] > opened[2], 6)
t.ok(again is not None, "the target is still there: it closes again", again)
d.put("config/burning_prevention", {"threshold": 500})
reopen = ev.wait(lambda e: e[0] == "burning" and e[1]["shutter"] == "open" and e[2] > again[2], 6)
time.sleep(2.5)
t.ok(reopen is not None and d.get("events/state")[1]["burning_prevention"]["shutter"] == "open",
     "threshold above the scene: open after the duration, and stays open", reopen)
r = d.put("config/burning_prevention", {"mode": "manual", "shutter": "closed"})
e = ev.wait(lambda e: e[0] == "burning" and e[1]["shutter"] == "closed" and e[1]["reason"] == "manual", 5)
t.ok(status(r) == 200 and e is not None, "manual: closed", e)
closed_at = e[2] if e else time.time()
d.put("config/burning_prevention", {"shutter": "open"})
e = ev.wait(lambda e: e[0] == "burning" and e[1]["shutter"] == "open" and e[2] > closed_at
            and e[1]["reason"] == "manual", 5)
t.ok(e is not None and d.get("events/state")[1]["burning_prevention"]["shutter"] == "open",
     "manual: open again", e)
r = d.put("config/burning_prevention", {"threshold": 20})
t.ok(status(r) == 400 and field(r) == "burning_prevention.threshold", "a threshold below 50 C: 400", r)
d.put("config/burning_prevention", {"mode": "auto"})

# ---- measurement alarms and their linkage (manual 3, 5) ----
scene = d.wait_frames()["scene"]
d.put("config/events", {"scene": {"linkage": {"alarm_outputs": [2]}, "pre_alarm": False}})
d.put("config/alarm_outputs", {"outputs": [outputs[0], dict(outputs[1], delay=1), outputs[2], outputs[3]]})
d.post("io/outputs/4/clear")
thr = round(scene["max"] - 3, 1)
d.put("config/scene_alarm", {"enabled": True, "on": "max", "condition": "above", "pre_alarm": thr - 2,
                             "alarm": thr, "tolerance": 1, "filter_time": 0})
a = ev.wait(lambda e: e[0] == "alarm" and e[1]["source"] == "scene" and e[1]["level"] == "alarm"
            and e[1]["state"] == "start", 10)
t.ok(a is not None and wait_for(lambda: output_on(2), 3), "a scene alarm links output 2", a)
d.put("config/scene_alarm", {"enabled": False})
t.ok(wait_for(lambda: not output_on(2), 5), "scene alarm off: output 2 clears after its 1 s delay")
d.put("config/events", {"scene": {"schedule": NEVER}})
d.put("config/scene_alarm", {"enabled": True})
a = ev.wait(lambda e: e[0] == "alarm" and e[1]["source"] == "scene" and e[1]["state"] == "start"
            and e[2] > time.time() - 0.5, 10)
time.sleep(1.0)
t.ok(a is not None and not output_on(2), "outside the scene's schedule: streamed, not linked", a)
d.put("config/scene_alarm", {"enabled": False})

# ---- persisted across a restart ----
cfg_before = d.get("config")[1]
ev.close()
t.ok(d.stop() == 0, "clean exit")
d.start()
t.ok(d.get("config")[1] == cfg_before, "schedules, inputs, outputs, exceptions, environment and "
     "burning prevention survive a restart")
t.ok(d.stop() == 0, "clean exit after the restart")
t.done()
