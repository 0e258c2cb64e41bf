#!/usr/bin/python3
"""thermocamd end to end: the ONVIF Thermal, Imaging and analytics
(radiometry) services with python3-zeep built from the ONVIF WSDLs.

Thermal: the palette, polarity and NUC table map onto image.palette and
thermometry.temperature_range both ways; SetRadiometryConfiguration changes
the readings of GET /api/v1/temperatures and an API change shows in
GetRadiometryConfiguration; the options are the schema's ranges in kelvin.
Imaging: SetImagingSettings changes image.brightness and contrast.
Analytics: the rules as spot and box measurement modules and temperature
rules; a module made, changed and deleted; a temperature rule's threshold
changed.  Out-of-range values, unknown tokens and settings the camera has
not: a SOAP fault (ter:InvalidArgVal), nothing changed.  Answers validate
against the schemas."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap  # noqa: E402
from onvif_ext import (NS, ONVIF_PASSWORD, ONVIF_USER, Onvif, Validator,  # noqa: E402
                       fault_of, require_wsdl, set_onvif_users)

require_wsdl()
t = Tap()
K = 273.15
VS = "video_source"
VAC = "video_analytics"


def cfg(d, section):
    return d.get(f"config/{section}")[1]


def mean_rule(d, rid, n=4):
    vals = []
    for _ in range(n):
        s, j, _ = d.get("temperatures")
        r = [x for x in j.get("rules", []) if x.get("id") == rid and x.get("valid")]
        if r:
            vals.append(r[0]["avg"])
        time.sleep(0.3)
    return sum(vals) / len(vals) if vals else None


d = Daemon().start()
try:
    d.activate()
    d.wait_frames()
    r = set_onvif_users(d, [(ONVIF_USER, ONVIF_PASSWORD, "Administrator"),
                            ("viewer", "View#Pass2", "User")])
    t.ok(r[0] == 200, "ONVIF on, with an administrator and a user", r)
    ov = Onvif(d.http)
    val = Validator()
    th = ov.service("thermal", "ThermalBinding")
    im = ov.service("imaging", "ImagingBinding")
    an = ov.service("analytics", "AnalyticsEngineBinding")
    re_ = ov.service("analytics", "RuleEngineBinding")

    # ---- the device service lists these services, with their capabilities
    dev = ov.service("device", "DeviceBinding")
    dev.GetServices(IncludeCapability=True)
    mine = {NS["tev"]: "events_service", NS["tth"]: "thermal_service",
            NS["timg"]: "imaging_service", NS["tan"]: "analytics_service"}
    found, bad = {}, []
    for sv in ov.last_body().findall("{http://www.onvif.org/ver10/device/wsdl}Service"):
        ns = sv.findtext("{http://www.onvif.org/ver10/device/wsdl}Namespace")
        if ns in mine:
            found[ns] = sv.findtext("{http://www.onvif.org/ver10/device/wsdl}XAddr")
            caps = sv.find("{http://www.onvif.org/ver10/device/wsdl}Capabilities")
            ok, errs = val.check(caps[0]) if caps is not None and len(caps) else (False, "none")
            if not ok:
                bad.append((ns, errs))
    t.ok(len(found) == 4 and all(found[ns].endswith("/onvif/" + p) for ns, p in mine.items())
         and not bad, "GetServices lists events, thermal, imaging and analytics at their "
         "addresses, their capabilities valid", (found, bad))

    # ---- thermal: configuration
    caps = th.GetServiceCapabilities()
    t.ok(caps.Radiometry is True, "thermal capabilities: Radiometry", caps)
    confs = th.GetConfigurations()
    ok, errs = val.check(ov.last_body())
    t.ok(ok and confs[0].token == VS and confs[0].Configuration.ColorPalette.token
         == cfg(d, "image")["palette"],
         "GetConfigurations: the video source's palette (image.palette); validates", errs)
    opts = th.GetConfigurationOptions(VideoSourceToken=VS)
    ok, errs = val.check(ov.last_body())
    pal = {p.token: p.Type for p in opts.ColorPalette}
    nucs = {n.token: (n.LowTemperature, n.HighTemperature) for n in opts.NUCTable}
    t.ok(ok and pal.get("ironbow") == "Iron" and len(pal) == 12
         and abs(nucs["0~550"][1] - (550 + K)) < 0.01,
         "GetConfigurationOptions: the 12 palettes and the two NUC tables (ranges, kelvin); "
         "validates", (pal, nucs, errs))
    c = th.GetConfiguration(VideoSourceToken=VS)
    th.SetConfiguration(VideoSourceToken=VS, Configuration={
        "ColorPalette": {"token": "ironbow", "Type": "Iron", "Name": "Ironbow"},
        "Polarity": "WhiteHot", "NUCTable": {"token": "0~550", "Name": "0~550"}})
    t.ok(cfg(d, "image")["palette"] == "ironbow"
         and cfg(d, "thermometry")["temperature_range"] == "0~550",
         "SetConfiguration: the palette ironbow and the NUC table 0~550 (image.palette, "
         "thermometry.temperature_range)", (cfg(d, "image")["palette"],
                                            cfg(d, "thermometry")["temperature_range"]))
    th.SetConfiguration(VideoSourceToken=VS, Configuration={
        "ColorPalette": {"token": "white_hot", "Type": "WhiteHot", "Name": "x"},
        "Polarity": "BlackHot", "NUCTable": {"token": "-20~150", "Name": "x"}})
    c = th.GetConfiguration(VideoSourceToken=VS)
    t.ok(cfg(d, "image")["palette"] == "black_hot" and c.Polarity == "BlackHot"
         and c.ColorPalette.token == "black_hot",
         "the grey palette with polarity BlackHot is black_hot, and reads back so", c)
    f = fault_of(th.SetConfiguration, VideoSourceToken=VS, Configuration={
        "ColorPalette": {"token": "ironbow", "Type": "Iron", "Name": "x"},
        "Polarity": "BlackHot"})
    f2 = fault_of(th.SetConfiguration, VideoSourceToken=VS, Configuration={
        "ColorPalette": {"token": "plasma", "Type": "Custom", "Name": "x"},
        "Polarity": "WhiteHot"})
    f3 = fault_of(th.GetConfiguration, VideoSourceToken="nosuch")
    t.ok(f and "InvalidArgVal" in f and f2 and "InvalidArgVal" in f2 and f3 and "NoSource" in f3
         and cfg(d, "image")["palette"] == "black_hot",
         "a colour palette BlackHot, an unknown palette, an unknown source: faults, nothing "
         "changed", (f, f2, f3))

    # ---- radiometry
    ro = th.GetRadiometryConfigurationOptions(VideoSourceToken=VS)
    ok, errs = val.check(ov.last_body())
    g = ro.RadiometryGlobalParameterOptions
    t.ok(ok and abs(g.Emissivity.Min - 0.01) < 1e-6 and g.Emissivity.Max == 1
         and abs(g.ReflectedAmbientTemperature.Min - (-100 + K)) < 0.01
         and g.ExtOpticsTransmittance is not None,
         "GetRadiometryConfigurationOptions: the schema's ranges (temperatures in kelvin); "
         "validates", (g, errs))
    rc = th.GetRadiometryConfiguration(VideoSourceToken=VS)
    ok, errs = val.check(ov.last_body())
    tm = cfg(d, "thermometry")
    gp = rc.RadiometryGlobalParameters
    t.ok(ok and abs(gp.Emissivity - tm["emissivity"]) < 1e-6
         and abs(gp.ReflectedAmbientTemperature - K - tm["reflected_temperature"]) < 0.01
         and abs(gp.DistanceToObject - tm["distance"]) < 1e-6,
         "GetRadiometryConfiguration: thermometry's emissivity, distance, reflected "
         "temperature (kelvin); validates", (gp, tm, errs))

    box = {"name": "motor", "type": "polygon",
           "points": [[0.45, 0.63], [0.57, 0.63], [0.57, 0.81], [0.45, 0.81]]}
    s, rule, _ = d.post("rules", box)
    rid = rule["id"]
    time.sleep(1.5)
    before = mean_rule(d, rid)
    th.SetRadiometryConfiguration(VideoSourceToken=VS, Configuration={
        "RadiometryGlobalParameters": {"ReflectedAmbientTemperature": 20 + K,
                                       "Emissivity": 0.5, "DistanceToObject": 2.0}})
    tm = cfg(d, "thermometry")
    time.sleep(1.5)
    after = mean_rule(d, rid)
    t.ok(abs(tm["emissivity"] - 0.5) < 1e-6 and abs(tm["reflected_temperature"] - 20) < 0.01
         and before is not None and after is not None and after - before > 3,
         "SetRadiometryConfiguration (emissivity 0.95 -> 0.5): thermometry changed and the "
         "readings of GET /temperatures rose", (before, after, tm))
    d.put("config/thermometry", {"emissivity": 0.8, "distance": 5.5})
    gp = th.GetRadiometryConfiguration(VideoSourceToken=VS).RadiometryGlobalParameters
    t.ok(abs(gp.Emissivity - 0.8) < 1e-6 and abs(gp.DistanceToObject - 5.5) < 1e-6,
         "an API change shows in GetRadiometryConfiguration", gp)
    tau_near = gp.AtmosphericTransmittance
    d.put("config/thermometry", {"distance": 800})
    gp2 = th.GetRadiometryConfiguration(VideoSourceToken=VS).RadiometryGlobalParameters
    t.ok(tau_near is not None and 0 < gp2.AtmosphericTransmittance < tau_near <= 1,
         "AtmosphericTransmittance: computed by the camera, lower at 800 m than at 5.5 m",
         (tau_near, gp2.AtmosphericTransmittance))
    # a client's read-modify-write: everything as read, the emissivity changed
    rw = {k: getattr(gp2, k) for k in ("ReflectedAmbientTemperature", "Emissivity",
                                       "DistanceToObject", "RelativeHumidity",
                                       "AtmosphericTemperature", "AtmosphericTransmittance",
                                       "ExtOpticsTemperature", "ExtOpticsTransmittance")}
    rw["Emissivity"] = 0.8
    f = fault_of(th.SetRadiometryConfiguration, VideoSourceToken=VS,
                 Configuration={"RadiometryGlobalParameters": rw})
    t.ok(f is None and abs(cfg(d, "thermometry")["distance"] - 800) < 1e-6,
         "a read-modify-write of the radiometry (the computed transmittance given back as "
         "read) is taken", f)
    d.put("config/thermometry", {"distance": 5.5})
    f = fault_of(th.SetRadiometryConfiguration, VideoSourceToken=VS, Configuration={
        "RadiometryGlobalParameters": {"ReflectedAmbientTemperature": 20 + K,
                                       "Emissivity": 1.5, "DistanceToObject": 2.0}})
    f2 = fault_of(th.SetRadiometryConfiguration, VideoSourceToken=VS, Configuration={
        "RadiometryGlobalParameters": {"ReflectedAmbientTemperature": 20 + K,
                                       "Emissivity": 0.7, "DistanceToObject": 2.0,
                                       "AtmosphericTransmittance": 0.9}})
    tm = cfg(d, "thermometry")
    t.ok(f and "InvalidArgVal" in f and f2 and "InvalidArgVal" in f2
         and abs(tm["emissivity"] - 0.8) < 1e-6 and abs(tm["reflected_temperature"] - 20) < 0.01,
         "an emissivity of 1.5, a transmittance that is computed: faults (ter:InvalidArgVal), "
         "nothing changed", (f, f2, tm))

    anon = Onvif(d.http, user=None)
    f = fault_of(anon.service("thermal", "ThermalBinding").SetRadiometryConfiguration,
                 VideoSourceToken=VS, Configuration={"RadiometryGlobalParameters": {
                     "ReflectedAmbientTemperature": 20 + K, "Emissivity": 0.3,
                     "DistanceToObject": 2.0}})
    t.ok(f is not None and abs(cfg(d, "thermometry")["emissivity"] - 0.8) < 1e-6,
         "without credentials SetRadiometryConfiguration is refused, nothing changed", f)

    # ---- imaging
    s_ = im.GetImagingSettings(VideoSourceToken=VS)
    ok, errs = val.check(ov.last_body())
    img = cfg(d, "image")
    t.ok(ok and s_.Brightness == img["brightness"] and s_.Contrast == img["contrast"],
         "GetImagingSettings: image.brightness and contrast; validates", (s_, errs))
    o = im.GetOptions(VideoSourceToken=VS)
    ok, errs = val.check(ov.last_body())
    t.ok(ok and o.Brightness.Min == 0 and o.Brightness.Max == 100 and o.Contrast.Max == 100,
         "GetOptions: brightness and contrast 0..100; validates", (o, errs))
    im.SetImagingSettings(VideoSourceToken=VS, ImagingSettings={"Brightness": 70, "Contrast": 35})
    img = cfg(d, "image")
    t.ok(img["brightness"] == 70 and img["contrast"] == 35,
         "SetImagingSettings changes image.brightness and image.contrast", img)
    f = fault_of(im.SetImagingSettings, VideoSourceToken=VS,
                 ImagingSettings={"Brightness": 150, "Contrast": 10})
    f2 = fault_of(im.SetImagingSettings, VideoSourceToken=VS,
                  ImagingSettings={"Sharpness": 10})
    img = cfg(d, "image")
    t.ok(f and "InvalidArgVal" in f and f2 and "InvalidArgVal" in f2
         and img["brightness"] == 70 and img["contrast"] == 35,
         "a brightness of 150, a setting the camera has not: faults (ter:InvalidArgVal), "
         "nothing changed", (f, f2, img))
    viewer = Onvif(d.http, "viewer", "View#Pass2")
    f = fault_of(viewer.service("imaging", "ImagingBinding").SetImagingSettings,
                 VideoSourceToken=VS, ImagingSettings={"Brightness": 10})
    t.ok(f is not None and cfg(d, "image")["brightness"] == 70,
         "an ONVIF User may not set the imaging settings", f)

    # ---- analytics
    profiles = ov.service("media", "MediaBinding").GetProfiles()
    vacs = {p.token: p.VideoAnalyticsConfiguration.token if p.VideoAnalyticsConfiguration
            else None for p in profiles}
    t.ok(vacs and all(v == VAC for v in vacs.values()),
         "the media profiles carry the analytics configuration (video_analytics) that the "
         "analytics service answers to", vacs)
    d.put(f"rules/{rid}", dict(box, alarm={"enabled": True, "on": "max", "pre_alarm": 40,
                                             "alarm": 50, "tolerance": 2, "filter_time": 3}))
    d.post("rules", {"name": "spot1", "type": "point", "points": [[0.5, 0.5]], "emissivity": 0.9})
    d.post("rules", {"name": "line1", "type": "line", "points": [[0.1, 0.1], [0.3, 0.2]]})
    mods = an.GetAnalyticsModules(ConfigurationToken=VAC)
    ok, errs = val.check(ov.last_body())
    types = {m.Name: m.Type for m in mods}
    t.ok(ok and types.get("motor", "").endswith("BoxMeasurementModule")
         and types.get("spot1", "").endswith("SpotMeasurementModule") and "line1" in types,
         "GetAnalyticsModules: the box, the spot (and the line, as the camera's own type); "
         "validates", (types, errs))
    body = ov.last_body()
    bx = body.find(".//ttr:RadiometryBoxModuleConfig[@ItemID='motor']/ttr:ScreenCoords", NS)
    t.ok(bx is not None and abs(float(bx.get("left")) - (2 * 0.45 - 1)) < 1e-4
         and abs(float(bx.get("top")) - (1 - 2 * 0.63)) < 1e-4,
         "the box's ScreenCoords in ONVIF's normalized -1..1 (y up)",
         dict(bx.attrib) if bx is not None else None)
    sp = body.find(".//ttr:RadiometrySpotModuleConfig[@ItemID='spot1']/ttr:RadiometryParameters/"
                   "ttr:Emissivity", NS)
    t.ok(sp is not None and abs(float(sp.text) - 0.9) < 1e-6,
         "the spot's emissivity override as its RadiometryParameters", sp)
    sm = an.GetSupportedAnalyticsModules(ConfigurationToken=VAC)
    ok, errs = val.check(ov.last_body())
    t.ok(ok and len(sm.AnalyticsModuleDescription) == 2, "GetSupportedAnalyticsModules: spot "
         "and box; validates", errs)
    sr = re_.GetSupportedRules(ConfigurationToken=VAC)
    ok, errs = val.check(ov.last_body())
    t.ok(ok and sr.RuleDescription, "GetSupportedRules: the temperature rule; validates", errs)
    rules = re_.GetRules(ConfigurationToken=VAC)
    ok, errs = val.check(ov.last_body())
    body = ov.last_body()
    rc_ = body.find(".//tan:Rule[@Name='motor/Alarm']//ttr:RadiometryTemperatureRuleConfig", NS)
    t.ok(ok and rc_ is not None and rc_.get("Enabled") == "true"
         and abs(float(rc_.find("ttr:ThresholdTemperature", NS).text) - (50 + K)) < 0.01
         and rc_.find("ttr:RuleCondition", NS).text == "MoreThan"
         and rc_.find("ttr:ThresholdTime", NS).text == "PT3S",
         "GetRules: the motor's alarm as a temperature rule (MoreThan 323.15 K, 3 s); "
         "validates", errs)

    def module(name, kind, coords, **extra):
        el = ov.client("analytics").get_type("{http://www.onvif.org/ver10/schema}ItemList")
        from lxml import etree
        tag = "RadiometrySpotModuleConfig" if kind == "spot" else "RadiometryBoxModuleConfig"
        conf = etree.Element("{%s}%s" % (NS["ttr"], tag), nsmap={"ttr": NS["ttr"],
                                                                 "tt": NS["tt"]})
        etree.SubElement(conf, "{%s}ScreenCoords" % NS["ttr"], {k: str(v) for k, v in
                                                                 coords.items()})
        item = {"Name": tag, "_value_1": conf}
        return {"Name": name, "Type": "tt:%sMeasurementModule" % ("Spot" if kind == "spot"
                                                                  else "Box"),
                "Parameters": el(ElementItem=[item])}

    an.CreateAnalyticsModules(ConfigurationToken=VAC, AnalyticsModule=[
        module("inlet", "box", {"left": -0.5, "right": 0.0, "top": 0.5, "bottom": 0.0})])
    s, all_rules, _ = d.get("rules")
    inlet = [x for x in all_rules if x["name"] == "inlet"]
    t.ok(inlet and inlet[0]["type"] == "polygon"
         and inlet[0]["points"] == [[0.25, 0.25], [0.5, 0.25], [0.5, 0.5], [0.25, 0.5]],
         "CreateAnalyticsModules: a box module is a rule (polygon in 0..1)", inlet)
    an.ModifyAnalyticsModules(ConfigurationToken=VAC, AnalyticsModule=[
        module("inlet", "spot", {"x": 0.0, "y": 0.0})])
    s, all_rules, _ = d.get("rules")
    inlet = [x for x in all_rules if x["name"] == "inlet"]
    t.ok(inlet and inlet[0]["type"] == "point" and inlet[0]["points"] == [[0.5, 0.5]],
         "ModifyAnalyticsModules: it becomes a spot in the middle", inlet)
    n_before = len(all_rules)
    f = fault_of(an.CreateAnalyticsModules, ConfigurationToken=VAC, AnalyticsModule=[
        module("inlet", "spot", {"x": 0.0, "y": 0.0})])
    f2 = fault_of(an.CreateAnalyticsModules, ConfigurationToken=VAC, AnalyticsModule=[
        module("far", "spot", {"x": 3.0, "y": 0.0})])
    t.ok(f and f2 and "InvalidArgVal" in f2 and len(d.get("rules")[1]) == n_before,
         "a module's name twice, a spot outside the picture: faults, nothing changed", (f, f2))
    an.DeleteAnalyticsModules(ConfigurationToken=VAC, AnalyticsModuleName=["inlet"])
    t.ok(not [x for x in d.get("rules")[1] if x["name"] == "inlet"],
         "DeleteAnalyticsModules deletes the rule")

    def trule(name, th_k, cond="MoreThan", ttype="MaxTemp", hyst=2, tm_="PT3S", en=True):
        from lxml import etree
        el = ov.client("analytics").get_type("{http://www.onvif.org/ver10/schema}ItemList")
        conf = etree.Element("{%s}RadiometryTemperatureRuleConfig" % NS["ttr"],
                             {"RadiometryModuleID": name.split("/")[0],
                              "Enabled": "true" if en else "false"}, nsmap={"ttr": NS["ttr"]})
        for tag, v in (("TemperatureType", ttype), ("RuleCondition", cond),
                       ("ThresholdTemperature", th_k), ("ThresholdTime", tm_),
                       ("HysteresisTemperature", hyst)):
            etree.SubElement(conf, "{%s}%s" % (NS["ttr"], tag)).text = str(v)
        return {"Name": name, "Type": "tt:RadiometryTemperatureRule",
                "Parameters": el(ElementItem=[{"Name": "RadiometryTemperatureRuleConfig",
                                               "_value_1": conf}])}

    re_.ModifyRules(ConfigurationToken=VAC, Rule=[trule("motor/Alarm", 60 + K),
                                                  trule("motor/PreAlarm", 45 + K)])
    a = [x for x in d.get("rules")[1] if x["id"] == rid][0]["alarm"]
    t.ok(abs(a["alarm"] - 60) < 0.01 and abs(a["pre_alarm"] - 45) < 0.01,
         "ModifyRules: the alarm and pre-alarm thresholds (kelvin -> 60 and 45 C)", a)
    f = fault_of(re_.ModifyRules, ConfigurationToken=VAC,
                 Rule=[trule("motor/Alarm", 60 + K, cond="LessThan")])
    a2 = [x for x in d.get("rules")[1] if x["id"] == rid][0]["alarm"]
    t.ok(f and "InvalidArgVal" in f and a2 == a,
         "a shared member (the condition) changed on one level only: a fault, nothing changed",
         (f, a2))
    re_.ModifyRules(ConfigurationToken=VAC, Rule=[
        trule("Scene/Alarm", 90 + K, ttype="MaxTemp", hyst=1, tm_="PT0S"),
        trule("Scene/PreAlarm", 80 + K, ttype="MaxTemp", hyst=1, tm_="PT0S")])
    sa = cfg(d, "scene_alarm")
    t.ok(abs(sa["alarm"] - 90) < 0.01 and abs(sa["pre_alarm"] - 80) < 0.01 and sa["enabled"]
         and "Scene" in {m.Name for m in an.GetAnalyticsModules(ConfigurationToken=VAC)},
         "the Scene module (the whole picture) and its rules: ModifyRules sets scene_alarm", sa)
    d.put("config/scene_alarm", {"enabled": False})
    f = fault_of(re_.CreateRules, ConfigurationToken=VAC, Rule=[trule("motor/Alarm", 60 + K)])
    t.ok(f is not None, "CreateRules: a fault (the rules exist with their module)", f)
    r = d.get("system/audit-log?type=config")
    recs = r[1].get("records", []) if r[0] == 200 else []
    mine = [x for x in recs if x.get("user") == ONVIF_USER]
    t.ok(any("config.image" in x["detail"] for x in mine)
         and any("config.thermometry" in x["detail"] for x in mine)
         and any("rules" in x["detail"] for x in mine),
         "audit: the ONVIF changes (image, thermometry, rules) with the ONVIF user",
         [(x.get("user"), x.get("detail")) for x in recs[-12:]])
    t.ok(d.alive(), "the daemon still serves")
finally:
    if not d.alive():
        print("\n".join("# " + x for x in d.lines[-25:]), flush=True)
    d.stop()
t.done()
