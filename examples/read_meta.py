#!/usr/bin/python3
"""An application of the thermal elements from Python: a pipeline of the
simulated sensor through the correction, radiometry and measurement; the
readings of each frame read from the buffer itself (GstThermal, the metas'
introspection data), a rule changed while it runs, and its alarm heard on the
bus; a pixel's count turned into °C with the library's own conversion.

  GST_PLUGIN_PATH=build/plugins/gst GI_TYPELIB_PATH=build/plugins/gst \\
  LD_LIBRARY_PATH=build/plugins/gst python3 examples/read_meta.py

It prints what it reads and exits 0 when the motor of the simulated scene
reads 85 °C within 0.5 from the meta, and its alarm came once its threshold
was lowered below that."""
import json
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstThermal", "1.0")
from gi.repository import GLib, Gst, GstThermal  # noqa: E402

Gst.init(None)

# the simulated scene has a motor at 85 °C (x 0.40-0.62, y 0.58-0.86)
MOTOR = {"id": 1, "name": "motor", "type": "polygon",
         "points": [[0.45, 0.63], [0.57, 0.63], [0.57, 0.81], [0.45, 0.81]]}

pipeline = Gst.parse_launch(
    "thermalsrc is-live=true num-buffers=90 ! video/x-raw,format=GRAY16_LE,framerate=30/1 "
    "! thermalnuc ! thermalradiometry ! thermalmeasure name=measure "
    "! appsink name=sink emit-signals=true sync=false max-buffers=2 drop=true")
measure = pipeline.get_by_name("measure")
measure.set_property("rules", json.dumps([MOTOR]))
sink = pipeline.get_by_name("sink")

seen = {"frames": 0, "motor": [], "alarm": None, "pixel": None, "params": None}


def on_sample(appsink):
    sample = appsink.emit("pull-sample")
    buf = sample.get_buffer()
    mm = GstThermal.buffer_get_thermal_measure_meta(buf)
    tm = GstThermal.buffer_get_thermal_meta(buf)
    if mm is None or tm is None:
        return Gst.FlowReturn.OK
    seen["frames"] += 1
    rule = mm.find_rule(1)
    if rule is not None and rule.valid:
        seen["motor"].append(rule.max)
        x, y = rule.get_max_position()
        if seen["frames"] == 10:
            print(f"frame {seen['frames']}: {rule.get_name()} max {rule.max:.2f} °C at "
                  f"({x:.3f}, {y:.3f}), min {rule.min:.2f}, avg {rule.avg:.2f}, "
                  f"state {GstThermal.AlarmState(rule.state).value_nick}")
            # the pixel at the rule's max, converted by the library itself
            caps = sample.get_caps().get_structure(0)
            w, h = caps.get_value("width"), caps.get_value("height")
            ok, info = buf.map(Gst.MapFlags.READ)
            px, py = min(int(x * w), w - 1), min(int(y * h), h - 1)
            i = 2 * (py * w + px)
            count = info.data[i] | (info.data[i + 1] << 8)
            buf.unmap(info)
            seen["pixel"] = tm.to_celsius(count)
            p = tm.get_parameters()
            seen["params"] = {k: p.get_value(k) for k in ("kind", "scale", "emissivity")}
            print(f"pixel ({px}, {py}): count {count} = {seen['pixel']:.2f} °C; "
                  f"frame {seen['params']}")
    if seen["frames"] == 30:
        # the rule changed live: an alarm above 60 °C
        MOTOR["alarm"] = {"enabled": True, "on": "max", "pre_alarm": 55, "alarm": 60}
        measure.set_property("rules", json.dumps([MOTOR]))
    return Gst.FlowReturn.OK


def on_message(bus, msg, loop):
    if msg.type == Gst.MessageType.ELEMENT and msg.get_structure().get_name() == "thermal-alarm":
        s = msg.get_structure()
        if s.get_value("state") == "start" and seen["alarm"] is None:
            seen["alarm"] = (s.get_value("name"), s.get_value("level"), s.get_value("value"))
            print(f"alarm: {seen['alarm']}")
    elif msg.type in (Gst.MessageType.EOS, Gst.MessageType.ERROR):
        if msg.type == Gst.MessageType.ERROR:
            print("error:", msg.parse_error())
        loop.quit()


sink.connect("new-sample", on_sample)
loop = GLib.MainLoop()
bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message, loop)
pipeline.set_state(Gst.State.PLAYING)
GLib.timeout_add_seconds(20, loop.quit)
loop.run()
pipeline.set_state(Gst.State.NULL)

motor = seen["motor"][5:] or [0]
avg = sum(motor) / len(motor)
ok = (abs(avg - 85) <= 0.5 and seen["alarm"] is not None
      and seen["pixel"] is not None and abs(seen["pixel"] - max(motor)) < 3)
print(f"{seen['frames']} frames; motor max {avg:.2f} °C on average; "
      f"{'ok' if ok else 'NOT as expected'}")
sys.exit(0 if ok else 1)
