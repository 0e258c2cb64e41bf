#!/usr/bin/python3
"""thermocamd end to end: what the device says about itself.  Device
information (manual 10.1, 3.1 Version): number, model, serial, MAC,
firmware, encoding, web, algorithm and calibration versions, uptime; the
radiometric JPEG carries the serial.  The open source licenses (10.7) of the
build's dependencies.  The emissivity table (11.1).  Same unit (10.11):
thermometry.unit follows units.temperature and cannot be set apart."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap  # noqa: E402

t = Tap()
d = Daemon().start()
try:
    d.activate()
    d.wait_frames()

    # ---- device information ----
    s, j, _ = d.get("device")
    t.ok(s == 200 and j["device_number"] == 88 and j["model"].startswith("thermocam TC-640")
         and re.match(r"^TC640-[0-9A-F]{12}$", j["serial_number"]) and j["firmware_version"],
         "GET /device: number, model, serial, firmware", j)
    mac = ""
    for name in sorted(os.listdir("/sys/class/net")):
        if name == "lo":
            continue
        try:
            with open(f"/sys/class/net/{name}/address") as f:
                a = f.read().strip()
        except OSError:
            continue
        if len(a) == 17 and a != "00:00:00:00:00:00":
            mac = a.upper()
            break
    t.ok(j.get("mac_address") == mac, "the MAC address is the first interface's, as /sys says",
         (j.get("mac_address"), mac))
    t.ok(j.get("encoding_version", "").startswith("x264enc 1.")
         and j.get("web_version") == j["firmware_version"]
         and j.get("algorithm_version") == "thermalcore " + j["firmware_version"],
         "encoding, web and algorithm versions", j)
    end = time.time() + 10
    while time.time() < end and not j.get("calibration_version"):
        time.sleep(0.3)
        s, j, _ = d.get("device")
    cal_file = os.path.join(d.state_dir, "calibration.sha256")
    want = ""
    if os.path.exists(cal_file):
        with open(cal_file) as f:
            want = "sha256:" + f.read().strip()[:12]
    t.ok(re.match(r"^sha256:[0-9a-f]{12}$", j.get("calibration_version", ""))
         and j["calibration_version"] == want,
         "the calibration data version: the digest of the calibration in use", (j, want))
    u1 = j["uptime_seconds"]
    time.sleep(1.1)
    s, j, _ = d.get("device")
    t.ok(j["uptime_seconds"] >= u1 + 1, "uptime counts", (u1, j["uptime_seconds"]))

    # the radiometric JPEG carries the serial (exiftool reads it)
    tmp = tempfile.mkdtemp(prefix="tc-about-")
    try:
        path = os.path.join(tmp, "r.jpg")
        s, r, _ = d.post("captures", {"format": "rjpeg"})
        s2 = None
        if s == 201:
            s2, _, _ = d.get("captures/" + r["name"], out_file=path)
        out = subprocess.run(["exiftool", "-s", "-a", "-EXIF:SerialNumber", "-CameraSerialNumber",
                              path], capture_output=True, text=True, timeout=30).stdout
        ser = j["serial_number"]
        t.ok(s == 201 and s2 == 200
             and re.search(r"^SerialNumber\s*: " + re.escape(ser) + "$", out, re.M)
             and re.search(r"^CameraSerialNumber\s*: " + re.escape(ser.split("-")[-1]) + "$",
                           out, re.M),
             "the radiometric JPEG carries the serial number (Exif; FLIR's field its number)",
             (s, r, out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # ---- licenses ----
    s, j, _ = d.get("system/licenses")
    comps = {c["name"]: c for c in j.get("components", [])} if s == 200 else {}
    t.ok(s == 200 and j["project"]["license"] == "LGPL-2.1-or-later",
         "GET /system/licenses: the project's own license", j.get("project") if s == 200 else j)
    need = ["glib-2.0", "gstreamer-1.0", "json-glib-1.0", "libsoup-3.0", "libcrypto", "libcurl",
            "sqlite3", "libmosquitto"]
    t.ok(all(n in comps and comps[n]["license"] and comps[n]["version"] for n in need),
         "the build's libraries, each with a version and a license",
         {n: comps.get(n) for n in need})
    t.ok(comps.get("libcrypto", {}).get("license") == "Apache-2.0"
         and "LGPL" in comps.get("glib-2.0", {}).get("license", ""),
         "licenses read from the packages' copyright files (OpenSSL Apache-2.0, GLib LGPL)",
         (comps.get("libcrypto"), comps.get("glib-2.0")))
    plugins = [c for c in j.get("components", []) if c.get("kind") == "gstreamer-plugin"]
    t.ok(any("x264enc" in c.get("elements", []) for c in plugins)
         and any("rtph264pay" in c.get("elements", []) for c in plugins),
         "the GStreamer plugins the pipelines use (x264enc, rtph264pay)",
         [c["name"] for c in plugins])
    t.ok("gstreamer-check-1.0" not in comps, "test-only dependencies are left out", list(comps))
    s, j, _ = d.get("system/licenses", auth=False)
    t.ok(s == 401, "licenses: 401 without credentials", s)

    # ---- the emissivity table ----
    s, j, _ = d.get("materials")
    mats = {m["id"]: m for m in j.get("materials", [])} if s == 200 else {}
    t.ok(s == 200 and len(mats) == 15 and mats["human_skin"]["emissivity"] == 0.98
         and mats["wood"]["emissivity"] == 0.85 and mats["water"]["name"] == "Water",
         "GET /materials: the 15 materials of manual 11.1", j)
    t.ok(all(0 < m["emissivity"] <= 1 for m in mats.values()), "every emissivity in (0, 1]")

    # ---- same unit ----
    s, j, _ = d.put("config/units", {"same_unit": True, "temperature": "fahrenheit",
                                     "distance": "foot"})
    t.ok(s == 200 and j == {"same_unit": True, "temperature": "fahrenheit", "distance": "foot"},
         "PUT /config/units: same unit on, Fahrenheit and feet", j)
    s, j, _ = d.get("config/thermometry")
    t.ok(j["unit"] == "fahrenheit", "thermometry.unit follows units.temperature", j["unit"])
    s, j, _ = d.put("config/thermometry", {"unit": "kelvin"})
    t.ok(s == 400 and j["error"]["field"] == "thermometry.unit",
         "while on, thermometry.unit cannot be set apart: 400 at thermometry.unit", j)
    s, j, _ = d.get("config/thermometry")
    t.ok(j["unit"] == "fahrenheit", "the refusal changed nothing", j["unit"])
    s, j, _ = d.put("config/thermometry", {"unit": "fahrenheit", "emissivity": 0.9})
    t.ok(s == 200, "a change that keeps the unit passes", j)
    s, j, _ = d.put("config/units", {"temperature": "kelvin"})
    s2, j2, _ = d.get("config/thermometry")
    t.ok(s == 200 and j2["unit"] == "kelvin", "a new units.temperature is carried over", j2)
    s, j, _ = d.put("config/units", {"same_unit": False})
    s, j, _ = d.put("config/thermometry", {"unit": "celsius"})
    t.ok(s == 200 and j["unit"] == "celsius", "same unit off: thermometry.unit free again", j)
    s, j, _ = d.put("config/units", {"distance": "mile"})
    t.ok(s == 400 and j["error"]["field"] == "units.distance", "an unknown unit: 400 at units.distance", j)
    d.stop()
    d = Daemon(state_dir=d.state_dir).start()
    s, j, _ = d.get("config/units")
    t.ok(j == {"same_unit": False, "temperature": "kelvin", "distance": "foot"},
         "the units survive a restart", j)
finally:
    d.stop()
t.done()
