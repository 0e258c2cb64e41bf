#!/usr/bin/python3
"""thermocamd end to end: the hardware this appliance may lack (manual
6.1.8-6.1.12 lens, focus, light, wiper, lens initialization, auxiliary
focus; 7.2.9 local video output) through the simulated backend.

A daemon whose backend simulates lens, focus, light and wiper (not the video
output): GET /device says which are present; the settings are validated
(400 naming the member, nothing changed), persisted across a restart and
applied live (GET /hardware); the actions move the simulated lens and focus,
initialize the lens, wipe once; the video output's settings are kept but it
has no actions, an unknown action is 404; a user may read, not act.  A
daemon with the default backend (nothing present): every action is 409
not_present, the settings are still kept."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Tap, wait_for  # noqa: E402

t = Tap()
d = Daemon(extra=["--hardware-backend", "simulated:lens,focus,light,wiper"])
d2 = None


def hw():
    return d.get("hardware")[1]


try:
    d.start()
    d.activate()

    # ---- presence ----
    s, j, _ = d.get("device")
    t.ok(s == 200 and j.get("hardware") == {"lens": True, "focus": True, "light": True,
                                            "wiper": True, "video_output": False}
         and j.get("hardware_backend") == "simulated",
         "device: the hardware present (lens, focus, light, wiper; no video output)",
         j.get("hardware"))
    j = hw()
    t.ok(j.get("backend") == "simulated" and j.get("simulated") is True
         and j["present"]["lens"] and not j["present"]["video_output"]
         and j["lens"]["zoom"] == 0 and j["video_output"] is None
         and "init" in j["actions"]["lens"] and j["actions"]["video_output"] == [],
         "hardware: GET /hardware, the simulated state of what is present", j)

    # ---- settings: validated, applied live ----
    s, j, _ = d.get("config/hardware")
    t.ok(s == 200 and j["lens"]["zoom_speed"] == 4 and j["light"]["enabled"] is False
         and j["video_output"]["enabled"] is False, "config: the defaults", j)
    for body, field in (({"lens": {"zoom_speed": 8}}, "hardware.lens.zoom_speed"),
                        ({"light": {"brightness": -1}}, "hardware.light.brightness"),
                        ({"focus": {"mode": "sometimes"}}, "hardware.focus.mode"),
                        ({"wiper": {"interval_s": 90000}}, "hardware.wiper.interval_s"),
                        ({"video_output": {"enabled": "yes"}}, "hardware.video_output.enabled"),
                        ({"lens": {"colour": 1}}, "hardware.lens")):
        s, j, _ = d.put("config/hardware", body)
        t.ok(s == 400 and (j.get("error", {}).get("field") or "").startswith(field),
             f"config: {body} refused, 400 naming {field}", (s, j))
    s, j, _ = d.get("config/hardware")
    t.ok(j["lens"]["zoom_speed"] == 4 and j["light"]["brightness"] == 100,
         "config: nothing changed", j)
    s, j, _ = d.put("config/hardware", {"lens": {"zoom_speed": 7, "iris_mode": "manual"},
                                        "focus": {"speed": 2, "mode": "auto"},
                                        "light": {"enabled": True, "brightness": 40},
                                        "wiper": {"interval_s": 0},
                                        "video_output": {"enabled": True}})
    t.ok(s == 200, "config: new settings", (s, j))
    j = hw()
    t.ok(j["lens"]["zoom_speed"] == 7 and j["lens"]["iris_mode"] == "manual"
         and j["focus"]["speed"] == 2 and j["focus"]["mode"] == "auto"
         and j["light"] == {"on": True, "brightness": 40} and j["wiper"]["interval_s"] == 0,
         "hardware: the settings applied live", j)

    # ---- actions ----
    s, j, _ = d.post("hardware/lens/zoom_in")
    t.ok(s == 200 and j["lens"]["zooming"] == "in", "lens: zoom in", (s, j.get("lens")))
    time.sleep(1.0)
    s, j, _ = d.post("hardware/lens/zoom_stop")
    z = j["lens"]["zoom"]
    # 7 x 50 steps a second
    t.ok(s == 200 and j["lens"]["zooming"] is None and 250 <= z <= 500,
         f"lens: zoom stopped at {z} (about 350 steps a second at speed 7)", j.get("lens"))
    t.ok(j["focus"]["auto_focusing"] is True, "focus: mode auto focuses after a zoom",
         j.get("focus"))
    wait_for(lambda: not hw()["focus"]["auto_focusing"], 5)
    j = hw()
    t.ok(j["focus"]["position"] == 620 and j["focus"]["auto_focus_runs"] == 1,
         "focus: the auxiliary focus ended where the scene is sharp", j["focus"])
    s, j, _ = d.post("hardware/focus/near")
    time.sleep(0.5)
    s, j, _ = d.post("hardware/focus/stop")
    p = j["focus"]["position"]
    t.ok(s == 200 and 520 <= p < 620 and j["focus"]["moving"] is None,
         f"focus: near for 0.5 s at speed 2 moved to {p}", j["focus"])
    s, j, _ = d.post("hardware/focus/auto")
    t.ok(s == 200 and j["focus"]["auto_focusing"], "focus: auxiliary focus (6.1.12)", j["focus"])
    s, j, _ = d.post("hardware/lens/iris_open")
    time.sleep(0.3)
    s, j, _ = d.post("hardware/lens/iris_stop")
    t.ok(s == 200 and j["lens"]["iris"] > 50, "lens: iris opened", j["lens"])
    s, j, _ = d.post("hardware/wiper/once")
    t.ok(s == 200 and j["wiper"]["wiping"] is True, "wiper: one wipe (6.1.10)", j["wiper"])
    s, j, _ = d.post("hardware/wiper/once")
    t.ok(s == 409 and j["error"]["code"] == "busy", "wiper: busy while wiping", (s, j))
    wait_for(lambda: hw()["wiper"]["wipes"] == 1, 5)
    j = hw()
    t.ok(j["wiper"]["wipes"] == 1 and j["wiper"]["last_wipe"], "wiper: the wipe counted",
         j["wiper"])
    s, j, _ = d.put("config/hardware", {"wiper": {"interval_s": 1}})
    ok = wait_for(lambda: hw()["wiper"]["wipes"] >= 3, 10)
    t.ok(s == 200 and ok, "wiper: wipes on its period (interval_s)", hw()["wiper"])
    d.put("config/hardware", {"wiper": {"interval_s": 0}})
    n = hw()["wiper"]["wipes"]
    time.sleep(2.5)
    t.ok(hw()["wiper"]["wipes"] <= n + 1, "wiper: interval 0, by hand only again", hw()["wiper"])
    s, j, _ = d.post("hardware/lens/init")
    t.ok(s == 200 and j["lens"]["initializing"] is True, "lens: initialization (6.1.11)",
         j["lens"])
    s, j, _ = d.post("hardware/focus/far")
    t.ok(s == 409 and j["error"]["code"] == "busy", "focus: refused while the lens initializes",
         (s, j))
    wait_for(lambda: not hw()["lens"]["initializing"], 5)
    j = hw()
    t.ok(j["lens"]["zoom"] == 0 and j["focus"]["position"] == 0
         and j["lens"]["initializations"] == 1, "lens: initialized (zoom and focus home)",
         j["lens"])

    # ---- refusals ----
    s, j, _ = d.post("hardware/video_output/on")
    t.ok(s == 404 and j["error"]["field"] == "action",
         "video output: no actions (404 naming action)", (s, j))
    s, j, _ = d.post("hardware/lens/explode")
    t.ok(s == 404 and j["error"]["field"] == "action" and "zoom_in" in j["error"]["message"],
         "lens: an unknown action 404, the actions listed", (s, j))
    s, j, _ = d.post("hardware/periscope/up")
    t.ok(s == 404 and j["error"]["field"] == "function", "an unknown function 404", (s, j))
    s, j, _ = d.post("users", {"name": "viewer", "password": "View3r#Pass2026",
                               "level": "user"})
    s, j, _ = d.get("hardware", user="viewer", password="View3r#Pass2026")
    t.ok(s == 200, "a user reads GET /hardware", s)
    s, j, _ = d.post("hardware/wiper/once", user="viewer", password="View3r#Pass2026")
    t.ok(s == 403, "a user may not act", s)
    s, j, _ = d.get("system/audit-log")
    t.ok("hardware lens init" in str(j), "the actions are audited", str(j)[-400:])

    # ---- persisted ----
    d.stop()
    d.start()
    s, j, _ = d.get("config/hardware")
    t.ok(s == 200 and j["lens"]["zoom_speed"] == 7 and j["light"]["brightness"] == 40
         and j["video_output"]["enabled"] is True, "config: kept across a restart", j)
    j = hw()
    t.ok(j["light"] == {"on": True, "brightness": 40} and j["focus"]["mode"] == "auto",
         "hardware: applied at start", j)
    d.stop()

    # ---- the default backend: nothing present ----
    d2 = Daemon(state_dir=d.state_dir).start()
    s, j, _ = d2.get("device")
    t.ok(s == 200 and not any(j.get("hardware", {"x": True}).values()),
         "default backend: GET /device says nothing is present", j.get("hardware"))
    for fn, action in (("lens", "zoom_in"), ("lens", "init"), ("focus", "auto"),
                       ("wiper", "once")):
        s, j, _ = d2.post(f"hardware/{fn}/{action}")
        t.ok(s == 409 and j["error"]["code"] == "not_present" and "no " in j["error"]["message"],
             f"default backend: {fn} {action} 409 not_present", (s, j))
    s, j, _ = d2.get("hardware")
    t.ok(s == 200 and j["lens"] is None and not j["present"]["wiper"] and j["actions"]["lens"] == [],
         "default backend: GET /hardware has no state", j)
    s, j, _ = d2.put("config/hardware", {"wiper": {"interval_s": 5}})
    s2, j2, _ = d2.get("config/hardware")
    t.ok(s == 200 and j2["wiper"]["interval_s"] == 5 and j2["lens"]["zoom_speed"] == 7,
         "default backend: the settings are still kept", j2)
    t.ok(d2.alive(), "daemon alive")
finally:
    d.stop()
    if d2:
        d2.stop()
t.done()
