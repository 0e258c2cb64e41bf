#!/usr/bin/python3
"""Temperature frames from an appsink as numpy arrays of °C: the simulated
sensor through the correction and radiometry, each frame's counts turned into
degrees with the scale its meta states (GstThermal), without a copy of the
buffer's memory beyond numpy's own.

  GST_PLUGIN_PATH=build/plugins/gst GI_TYPELIB_PATH=build/plugins/gst \\
  LD_LIBRARY_PATH=build/plugins/gst python3 examples/frames_numpy.py

Exits 0 when the hottest region of the simulated scene (its motor, 85 °C)
is where and as hot as the scene says."""
import sys

import gi
import numpy as np

gi.require_version("Gst", "1.0")
gi.require_version("GstThermal", "1.0")
from gi.repository import Gst, GstThermal  # noqa: E402

Gst.init(None)
pipeline = Gst.parse_launch(
    "thermalsrc num-buffers=20 ! video/x-raw,format=GRAY16_LE,framerate=30/1 "
    "! thermalnuc ! thermalradiometry ! appsink name=sink sync=false")
sink = pipeline.get_by_name("sink")
pipeline.set_state(Gst.State.PLAYING)

frames = []
while True:
    sample = sink.emit("pull-sample")
    if sample is None:
        break
    buf = sample.get_buffer()
    meta = GstThermal.buffer_get_thermal_meta(buf)
    s = sample.get_caps().get_structure(0)
    w, h = s.get_value("width"), s.get_value("height")
    ok, info = buf.map(Gst.MapFlags.READ)
    counts = np.frombuffer(info.data, dtype="<u2", count=w * h).reshape(h, w)
    # kelvin per count from the meta; the same as meta.to_celsius(count)
    celsius = counts * meta.get_scale() - 273.15
    buf.unmap(info)
    frames.append(celsius)
pipeline.set_state(Gst.State.NULL)

last = frames[-1]
h, w = last.shape
# the motor: x 0.40-0.62, y 0.58-0.86 of the picture
motor = last[int(0.63 * h):int(0.81 * h), int(0.45 * w):int(0.57 * w)]
y, x = np.unravel_index(np.argmax(last), last.shape)
# the library's own conversion agrees with numpy's
meta_check = abs(meta.to_celsius(int(round((last[0, 0] + 273.15) / meta.get_scale())))
                 - last[0, 0]) < 0.01
print(f"{len(frames)} frames of {w}x{h} as numpy arrays of °C; scene {last.min():.2f} to "
      f"{last.max():.2f}; motor mean {motor.mean():.2f} °C; hottest pixel at ({x}, {y})")
ok = (len(frames) >= 10 and abs(motor.mean() - 85) < 1.0 and 0.38 * w <= x <= 0.64 * w
      and 0.56 * h <= y <= 0.88 * h and meta_check)
print("ok" if ok else "NOT as expected")
sys.exit(0 if ok else 1)
