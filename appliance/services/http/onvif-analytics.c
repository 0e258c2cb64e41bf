/* thermocamd: ONVIF analytics (ver20, tan) with the radiometry types
 * (ttr, ver20/analytics/radiometry.xsd): the measurement rules as
 * measurement modules, their alarms as temperature rules
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The mapping (coordinates: ONVIF's normalized -1..1, y up; ours 0..1, y
 * down; temperatures in kelvin):
 *
 *   a rule of type point          module tt:SpotMeasurementModule,
 *                                 ttr:RadiometrySpotModuleConfig (ScreenCoords)
 *   a polygon that is an upright  module tt:BoxMeasurementModule,
 *   rectangle (4 points)          ttr:RadiometryBoxModuleConfig (ScreenCoords)
 *   a line, another polygon       module tcd:LineMeasurementModule or
 *                                 tcd:PolygonMeasurementModule (tt:Polyline,
 *                                 tt:Polygon): shown, not made or changed here
 *   the rule's emissivity, distance and reflected temperature overrides:
 *                                 RadiometryParameters of the module
 *   the scene (scene_alarm)       module Scene, a box of the whole picture
 *                                 (read-only), and its two rules
 *   its alarm                     two rules tt:RadiometryTemperatureRule,
 *                                 NAME/Alarm and NAME/PreAlarm
 *                                 (ttr:RadiometryTemperatureRuleConfig:
 *                                 TemperatureType max/min/avg, RuleCondition
 *                                 MoreThan/LessThan, ThresholdTemperature,
 *                                 ThresholdTime = filter_time,
 *                                 HysteresisTemperature = tolerance, Enabled)
 *
 * Create/Modify/DeleteAnalyticsModules make, change and delete spot and box
 * rules (a module's name is the rule's name, unique); ModifyRules changes
 * an alarm (the two levels share all but their threshold: a change of the
 * shared members must say the same for both, or it is refused).  A
 * temperature rule exists with its module, so CreateRules and DeleteRules
 * are refused (ModifyRules' Enabled switches the alarm).  Readings and
 * alarms are events (onvif-events.c).
 */
#include "onvif-ext.h"

#include "tc-json.h"

#include <math.h>
#include <string.h>

#include "tc-schema.h"

#define SPOT "tt:SpotMeasurementModule"
#define BOX "tt:BoxMeasurementModule"
#define TEMPERATURE_RULE "tt:RadiometryTemperatureRule"
#define MAX_NAME 32

/* ---- names and kinds (onvif-ext.h) ---- */

static JsonArray *
rules_of (JsonNode *doc)
{
  JsonNode *n = tcd_config_node (doc, "rules");

  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

gchar *
onvif_rule_name (JsonNode *doc, gint64 id)
{
  JsonArray *a = rules_of (doc);
  const gchar *name = NULL;
  guint same = 0;

  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonObject *r = tc_json_array_get_object (a, i);
    if (tc_json_get_int (r, "id", 0) == id)
      name = tc_json_get_string (r, "name", "");
  }
  if (!name)
    return g_strdup_printf ("rule#%" G_GINT64_FORMAT, id);
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    same += g_strcmp0 (tc_json_get_string (tc_json_array_get_object (a, i), "name", ""),
        name) == 0;
  /* the scene and the vendor prefixes are the events' own */
  if (same > 1 || !*name || g_str_equal (name, "Scene") || strchr (name, '#')
      || strchr (name, '/'))
    return g_strdup_printf ("%s#%" G_GINT64_FORMAT, name, id);
  return g_strdup (name);
}

JsonObject *
onvif_rule_by_name (JsonNode *doc, const gchar *name, gint64 *id)
{
  JsonArray *a = rules_of (doc);

  for (guint i = 0; a && name && i < json_array_get_length (a); i++) {
    JsonObject *r = tc_json_array_get_object (a, i);
    gint64 rid = tc_json_get_int (r, "id", 0);
    g_autofree gchar *n = onvif_rule_name (doc, rid);
    if (g_str_equal (n, name)) {
      if (id)
        *id = rid;
      return r;
    }
  }
  return NULL;
}

static gboolean
box_of (JsonObject *rule, gdouble *x0, gdouble *y0, gdouble *x1, gdouble *y1)
{
  JsonArray *p = tc_json_get_array (rule, "points");
  gdouble xs[4], ys[4];

  if (!p || json_array_get_length (p) != 4)
    return FALSE;
  for (guint i = 0; i < 4; i++) {
    JsonArray *pt = tc_json_array_get_array (p, i);
    if (!pt || json_array_get_length (pt) != 2)
      return FALSE;
    xs[i] = tc_json_array_get_double (pt, 0, 0);
    ys[i] = tc_json_array_get_double (pt, 1, 0);
  }
  *x0 = MIN (MIN (xs[0], xs[1]), MIN (xs[2], xs[3]));
  *x1 = MAX (MAX (xs[0], xs[1]), MAX (xs[2], xs[3]));
  *y0 = MIN (MIN (ys[0], ys[1]), MIN (ys[2], ys[3]));
  *y1 = MAX (MAX (ys[0], ys[1]), MAX (ys[2], ys[3]));
  /* every corner on the box's corners, consecutive ones sharing x or y */
  for (guint i = 0; i < 4; i++) {
    guint j = (i + 1) % 4;
    if ((xs[i] != *x0 && xs[i] != *x1) || (ys[i] != *y0 && ys[i] != *y1))
      return FALSE;
    if (xs[i] != xs[j] && ys[i] != ys[j])
      return FALSE;
  }
  return *x0 < *x1 && *y0 < *y1;
}

OnvifModuleKind
onvif_rule_kind (JsonObject *rule)
{
  const gchar *type = tc_json_get_string (rule, "type", "");
  gdouble a, b, c, d;

  if (g_str_equal (type, "point"))
    return ONVIF_MODULE_SPOT;
  if (g_str_equal (type, "polygon") && box_of (rule, &a, &b, &c, &d))
    return ONVIF_MODULE_BOX;
  return ONVIF_MODULE_OTHER;
}

/* ---- writing ---- */

static gchar *
num (gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

static void
write_parameters (OnvifRequest *r, JsonObject *rule)
{
  static const struct { const gchar *member, *onvif; gboolean kelvin; } p[] = {
    { "reflected_temperature", "ReflectedAmbientTemperature", TRUE },
    { "emissivity", "Emissivity", FALSE },
    { "distance", "DistanceToObject", FALSE },
  };
  gboolean any = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (p); i++) {
    JsonNode *n = json_object_get_member (rule, p[i].member);
    g_autofree gchar *v = NULL;
    g_autofree gchar *tag = NULL;
    if (!n || JSON_NODE_HOLDS_NULL (n))
      continue;
    if (!any)
      onvif_open (r, "ttr:RadiometryParameters");
    any = TRUE;
    v = num (json_node_get_double (n) + (p[i].kelvin ? ONVIF_KELVIN : 0));
    tag = g_strdup_printf ("ttr:%s", p[i].onvif);
    onvif_elem (r, tag, v);
  }
  if (any)
    onvif_close (r, "ttr:RadiometryParameters");
}

static void
write_module (OnvifRequest *r, JsonNode *doc, JsonObject *rule)
{
  g_autofree gchar *name = onvif_rule_name (doc, tc_json_get_int (rule, "id", 0));
  g_autofree gchar *ename = g_markup_escape_text (name, -1);
  JsonArray *pts = tc_json_get_array (rule, "points");
  gboolean active = tc_json_get_bool (rule, "enabled", TRUE);
  OnvifModuleKind kind = onvif_rule_kind (rule);
  gdouble x0, y0, x1, y1;

  if (kind == ONVIF_MODULE_SPOT) {
    JsonArray *pt = tc_json_array_get_array (pts, 0);
    g_autofree gchar *x = num (2 * tc_json_array_get_double (pt, 0, 0) - 1);
    g_autofree gchar *y = num (1 - 2 * tc_json_array_get_double (pt, 1, 0));
    onvif_open_attrs (r, "tan:AnalyticsModule", "Name=\"%s\" Type=\"" SPOT "\"", ename);
    onvif_raw (r, "<tt:Parameters><tt:ElementItem Name=\"RadiometrySpotModuleConfig\">"
        "<ttr:RadiometrySpotModuleConfig ItemID=\"%s\" Active=\"%s\">"
        "<ttr:ScreenCoords x=\"%s\" y=\"%s\"/>", ename, active ? "true" : "false", x, y);
    write_parameters (r, rule);
    onvif_raw (r, "</ttr:RadiometrySpotModuleConfig></tt:ElementItem></tt:Parameters>");
  } else if (kind == ONVIF_MODULE_BOX && box_of (rule, &x0, &y0, &x1, &y1)) {
    g_autofree gchar *l = num (2 * x0 - 1), *rr = num (2 * x1 - 1);
    g_autofree gchar *t = num (1 - 2 * y0), *b = num (1 - 2 * y1);
    onvif_open_attrs (r, "tan:AnalyticsModule", "Name=\"%s\" Type=\"" BOX "\"", ename);
    onvif_raw (r, "<tt:Parameters><tt:ElementItem Name=\"RadiometryBoxModuleConfig\">"
        "<ttr:RadiometryBoxModuleConfig ItemID=\"%s\" Active=\"%s\">"
        "<ttr:ScreenCoords bottom=\"%s\" top=\"%s\" right=\"%s\" left=\"%s\"/>", ename,
        active ? "true" : "false", b, t, rr, l);
    write_parameters (r, rule);
    onvif_raw (r, "</ttr:RadiometryBoxModuleConfig></tt:ElementItem></tt:Parameters>");
  } else {
    gboolean line = g_strcmp0 (tc_json_get_string (rule, "type", ""),
        "line") == 0;
    onvif_open_attrs (r, "tan:AnalyticsModule", "xmlns:tcd=\"" ONVIF_NS_TCD_TOPICS "\" "
        "Name=\"%s\" Type=\"tcd:%sMeasurementModule\"", ename, line ? "Line" : "Polygon");
    onvif_raw (r, "<tt:Parameters><tt:SimpleItem Name=\"Active\" Value=\"%s\"/>"
        "<tt:ElementItem Name=\"%s\"><tt:%s>", active ? "true" : "false",
        line ? "Polyline" : "Polygon", line ? "Polyline" : "Polygon");
    for (guint i = 0; pts && i < json_array_get_length (pts); i++) {
      JsonArray *pt = tc_json_array_get_array (pts, i);
      g_autofree gchar *x = num (2 * tc_json_array_get_double (pt, 0, 0) - 1);
      g_autofree gchar *y = num (1 - 2 * tc_json_array_get_double (pt, 1, 0));
      onvif_raw (r, "<tt:Point x=\"%s\" y=\"%s\"/>", x, y);
    }
    onvif_raw (r, "</tt:%s></tt:ElementItem></tt:Parameters>", line ? "Polyline" : "Polygon");
  }
  onvif_close (r, "tan:AnalyticsModule");
}

static const gchar *
temperature_type (const gchar *on)
{
  return g_strcmp0 (on, "min") == 0 ? "MinTemp" : g_strcmp0 (on, "avg") == 0 ? "AverageTemp"
      : "MaxTemp";
}

static void
write_rule (OnvifRequest *r, const gchar *module, JsonObject *alarm, gboolean pre)
{
  g_autofree gchar *ename = g_markup_escape_text (module, -1);
  g_autofree gchar *th = num (tc_json_get_double (alarm,
      pre ? "pre_alarm" : "alarm", pre ? 50 : 55) + ONVIF_KELVIN);
  g_autofree gchar *hy = num (tc_json_get_double (alarm,
      "tolerance", 3));
  g_autofree gchar *time = onvif_duration (tc_json_get_int (alarm,
      "filter_time", 0));

  onvif_open_attrs (r, "tan:Rule", "Name=\"%s/%s\" Type=\"" TEMPERATURE_RULE "\"", ename,
      pre ? "PreAlarm" : "Alarm");
  onvif_raw (r, "<tt:Parameters><tt:ElementItem Name=\"RadiometryTemperatureRuleConfig\">"
      "<ttr:RadiometryTemperatureRuleConfig RadiometryModuleID=\"%s\" Enabled=\"%s\">"
      "<ttr:TemperatureType>%s</ttr:TemperatureType><ttr:RuleCondition>%s</ttr:RuleCondition>"
      "<ttr:ThresholdTemperature>%s</ttr:ThresholdTemperature>"
      "<ttr:ThresholdTime>%s</ttr:ThresholdTime>"
      "<ttr:HysteresisTemperature>%s</ttr:HysteresisTemperature>"
      "</ttr:RadiometryTemperatureRuleConfig></tt:ElementItem></tt:Parameters>", ename,
      tc_json_get_bool (alarm, "enabled", FALSE) ? "true" : "false",
      temperature_type (tc_json_get_string (alarm, "on", "max")),
      g_strcmp0 (tc_json_get_string (alarm, "condition", "above"),
          "below") == 0 ? "LessThan" : "MoreThan", th, time, hy);
  onvif_close (r, "tan:Rule");
}

static gboolean
check_config (OnvifRequest *r)
{
  g_autofree gchar *token = onvif_child_text (r->op, "ConfigurationToken");

  if (!token || !g_str_equal (token, ONVIF_ANALYTICS_CONFIG_TOKEN))
    return onvif_invalid_arg (r, "ter:NoConfig", "no analytics configuration %s (the one is "
        "%s)", token ? token : "(none)", ONVIF_ANALYTICS_CONFIG_TOKEN);
  return TRUE;
}

/* ---- operations ---- */

static void
write_capabilities (OnvifRequest *r)
{
  onvif_raw (r, "<tan:Capabilities RuleSupport=\"true\" AnalyticsModuleSupport=\"true\" "
      "CellBasedSceneDescriptionSupported=\"false\"/>");
}

static gboolean
get_capabilities (OnvifRequest *r)
{
  onvif_open (r, "tan:GetServiceCapabilitiesResponse");
  write_capabilities (r);
  onvif_close (r, "tan:GetServiceCapabilitiesResponse");
  return TRUE;
}

#define READING_MESSAGES(type) \
  "<tt:Messages IsProperty=\"false\"><tt:Source>" \
  "<tt:SimpleItemDescription Name=\"VideoSourceConfigurationToken\" Type=\"tt:ReferenceToken\"/>" \
  "<tt:SimpleItemDescription Name=\"VideoAnalyticsConfigurationToken\" Type=\"tt:ReferenceToken\"/>" \
  "</tt:Source><tt:Data><tt:ElementItemDescription Name=\"Reading\" Type=\"ttr:" type "\"/>" \
  "</tt:Data><tt:ParentTopic>tns1:VideoAnalytics/Radiometry/" type "</tt:ParentTopic></tt:Messages>"

static gboolean
get_supported_modules (OnvifRequest *r)
{
  if (!check_config (r))
    return FALSE;
  onvif_open (r, "tan:GetSupportedAnalyticsModulesResponse");
  onvif_open (r, "tan:SupportedAnalyticsModules");
  onvif_elem (r, "tt:AnalyticsModuleContentSchemaLocation",
      "http://www.onvif.org/ver20/analytics/radiometry.xsd");
  onvif_raw (r, "<tt:AnalyticsModuleDescription Name=\"" SPOT "\"><tt:Parameters>"
      "<tt:ElementItemDescription Name=\"RadiometrySpotModuleConfig\" "
      "Type=\"ttr:RadiometrySpotModuleConfig\"/></tt:Parameters>"
      READING_MESSAGES ("SpotTemperatureReading") "</tt:AnalyticsModuleDescription>");
  onvif_raw (r, "<tt:AnalyticsModuleDescription Name=\"" BOX "\"><tt:Parameters>"
      "<tt:ElementItemDescription Name=\"RadiometryBoxModuleConfig\" "
      "Type=\"ttr:RadiometryBoxModuleConfig\"/></tt:Parameters>"
      READING_MESSAGES ("BoxTemperatureReading") "</tt:AnalyticsModuleDescription>");
  onvif_close (r, "tan:SupportedAnalyticsModules");
  onvif_close (r, "tan:GetSupportedAnalyticsModulesResponse");
  return TRUE;
}

static gboolean
get_supported_rules (OnvifRequest *r)
{
  if (!check_config (r))
    return FALSE;
  onvif_open (r, "tan:GetSupportedRulesResponse");
  onvif_open (r, "tan:SupportedRules");
  onvif_elem (r, "tt:RuleContentSchemaLocation",
      "http://www.onvif.org/ver20/analytics/radiometry.xsd");
  onvif_raw (r, "<tt:RuleDescription Name=\"" TEMPERATURE_RULE "\"><tt:Parameters>"
      "<tt:ElementItemDescription Name=\"RadiometryTemperatureRuleConfig\" "
      "Type=\"ttr:RadiometryTemperatureRuleConfig\"/></tt:Parameters>"
      "<tt:Messages IsProperty=\"true\"><tt:Source>"
      "<tt:SimpleItemDescription Name=\"VideoSourceConfigurationToken\" Type=\"tt:ReferenceToken\"/>"
      "<tt:SimpleItemDescription Name=\"VideoAnalyticsConfigurationToken\" Type=\"tt:ReferenceToken\"/>"
      "<tt:SimpleItemDescription Name=\"Rule\" Type=\"xs:string\"/>"
      "<tt:SimpleItemDescription Name=\"Level\" Type=\"xs:string\"/></tt:Source><tt:Data>"
      "<tt:SimpleItemDescription Name=\"State\" Type=\"xs:boolean\"/>"
      "<tt:SimpleItemDescription Name=\"Value\" Type=\"xs:float\"/>"
      "<tt:SimpleItemDescription Name=\"Threshold\" Type=\"xs:float\"/></tt:Data>"
      "<tt:ParentTopic>tns1:RuleEngine/Radiometry/TemperatureAlarm</tt:ParentTopic>"
      "</tt:Messages></tt:RuleDescription>");
  onvif_close (r, "tan:SupportedRules");
  onvif_close (r, "tan:GetSupportedRulesResponse");
  return TRUE;
}

static gboolean
get_modules (OnvifRequest *r)
{
  JsonNode *doc = tcd_config_get (r->ctx->config);
  JsonArray *a = rules_of (doc);

  if (!check_config (r))
    return FALSE;
  onvif_open (r, "tan:GetAnalyticsModulesResponse");
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    write_module (r, doc, tc_json_array_get_object (a, i));
  /* the scene: the whole picture, its readings and alarm (scene_alarm) */
  onvif_raw (r, "<tan:AnalyticsModule Name=\"Scene\" Type=\"" BOX "\"><tt:Parameters>"
      "<tt:ElementItem Name=\"RadiometryBoxModuleConfig\">"
      "<ttr:RadiometryBoxModuleConfig ItemID=\"Scene\" Active=\"%s\">"
      "<ttr:ScreenCoords bottom=\"-1\" top=\"1\" right=\"1\" left=\"-1\"/>"
      "</ttr:RadiometryBoxModuleConfig></tt:ElementItem></tt:Parameters></tan:AnalyticsModule>",
      tcd_config_bool (r->ctx->config, "thermometry.enabled") ? "true" : "false");
  onvif_close (r, "tan:GetAnalyticsModulesResponse");
  return TRUE;
}

static gboolean
get_rules (OnvifRequest *r)
{
  JsonNode *doc = tcd_config_get (r->ctx->config);
  JsonArray *a = rules_of (doc);

  if (!check_config (r))
    return FALSE;
  onvif_open (r, "tan:GetRulesResponse");
  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonObject *rule = tc_json_array_get_object (a, i);
    JsonObject *alarm = tc_json_get_object (rule, "alarm");
    g_autofree gchar *name = onvif_rule_name (doc, tc_json_get_int (rule, "id", 0));
    g_autoptr (JsonObject) none = json_object_new ();
    write_rule (r, name, alarm ? alarm : none, FALSE);
    write_rule (r, name, alarm ? alarm : none, TRUE);
  }
  {
    JsonObject *scene = tc_json_get_object (json_node_get_object (doc), "scene_alarm");
    g_autoptr (JsonObject) none = json_object_new ();
    write_rule (r, "Scene", scene ? scene : none, FALSE);
    write_rule (r, "Scene", scene ? scene : none, TRUE);
  }
  onvif_close (r, "tan:GetRulesResponse");
  return TRUE;
}

/* ---- changes ---- */

/* the ttr:... config element inside a Config's Parameters/ElementItem */
static xmlNodePtr
config_element (xmlNodePtr config, const gchar *item)
{
  xmlNodePtr params = onvif_child (config, "Parameters");

  for (xmlNodePtr e = onvif_child (params, "ElementItem"); e; e = onvif_next (e, "ElementItem")) {
    g_autofree gchar *name = onvif_attr (e, "Name");
    if (g_strcmp0 (name, item) == 0)
      return onvif_child (e, NULL);
  }
  return NULL;
}

static gboolean
attr_double (OnvifRequest *r, xmlNodePtr n, const gchar *name, gdouble lo, gdouble hi,
             gdouble *v)
{
  g_autofree gchar *t = onvif_attr (n, name);
  gchar *end = NULL;

  if (!t)
    return onvif_invalid_arg (r, "ter:InvalidModule", "ScreenCoords: %s is missing", name);
  *v = g_ascii_strtod (t, &end);
  if (!*t || *end || !isfinite (*v) || *v < lo || *v > hi)
    return onvif_invalid_arg (r, "ter:InvalidModule", "ScreenCoords %s=%s: a number in "
        "-1..1", name, t);
  return TRUE;
}

static JsonArray *
point (gdouble x, gdouble y)
{
  JsonArray *p = json_array_new ();

  /* -1..1 (y up) to 0..1 (y down), at the configuration's resolution */
  json_array_add_double_element (p, round ((x + 1) / 2 * 10000) / 10000);
  json_array_add_double_element (p, round ((1 - y) / 2 * 10000) / 10000);
  return p;
}

/* a module's Config -> the members of a rule (type, points, overrides,
 * enabled) set on @rule */
static gboolean
module_to_rule (OnvifRequest *r, xmlNodePtr m, JsonObject *rule)
{
  g_autofree gchar *type = onvif_attr (m, "Type");
  const gchar *local = type ? (strchr (type, ':') ? strchr (type, ':') + 1 : type) : "";
  gboolean spot = g_str_equal (local, "SpotMeasurementModule");
  xmlNodePtr conf, coords, params;
  JsonArray *pts = json_array_new ();
  g_autofree gchar *active = NULL;

  if (!spot && !g_str_equal (local, "BoxMeasurementModule")) {
    json_array_unref (pts);
    return onvif_invalid_arg (r, "ter:InvalidModule", "module type %s: " SPOT " or " BOX
        " (GetSupportedAnalyticsModules)", type ? type : "(none)");
  }
  conf = config_element (m, spot ? "RadiometrySpotModuleConfig" : "RadiometryBoxModuleConfig");
  coords = conf ? onvif_child (conf, "ScreenCoords") : NULL;
  if (!coords) {
    json_array_unref (pts);
    return onvif_invalid_arg (r, "ter:InvalidModule", "the module's Parameters need an "
        "ElementItem %s with its ScreenCoords", spot ? "RadiometrySpotModuleConfig"
        : "RadiometryBoxModuleConfig");
  }
  if (spot) {
    gdouble x, y;
    if (!attr_double (r, coords, "x", -1, 1, &x) || !attr_double (r, coords, "y", -1, 1, &y)) {
      json_array_unref (pts);
      return FALSE;
    }
    json_array_add_array_element (pts, point (x, y));
    json_object_set_string_member (rule, "type", "point");
  } else {
    gdouble b, t, rr, l;
    if (!attr_double (r, coords, "bottom", -1, 1, &b) || !attr_double (r, coords, "top", -1, 1, &t)
        || !attr_double (r, coords, "right", -1, 1, &rr)
        || !attr_double (r, coords, "left", -1, 1, &l)) {
      json_array_unref (pts);
      return FALSE;
    }
    if (l >= rr || b >= t) {
      json_array_unref (pts);
      return onvif_invalid_arg (r, "ter:InvalidModule", "ScreenCoords: left < right and "
          "bottom < top");
    }
    json_array_add_array_element (pts, point (l, t));
    json_array_add_array_element (pts, point (rr, t));
    json_array_add_array_element (pts, point (rr, b));
    json_array_add_array_element (pts, point (l, b));
    json_object_set_string_member (rule, "type", "polygon");
  }
  json_object_set_array_member (rule, "points", pts);
  if ((active = onvif_attr (conf, "Active")))
    json_object_set_boolean_member (rule, "enabled", g_str_equal (active, "true")
        || g_str_equal (active, "1"));
  /* the overrides this camera has per rule; none given: the global ones */
  json_object_remove_member (rule, "emissivity");
  json_object_remove_member (rule, "distance");
  json_object_remove_member (rule, "reflected_temperature");
  if ((params = onvif_child (conf, "RadiometryParameters"))) {
    for (xmlNodePtr n = onvif_child (params, NULL); n; n = onvif_next (n, NULL)) {
      const gchar *e = (const gchar *) n->name;
      const gchar *member = g_str_equal (e, "Emissivity") ? "emissivity"
          : g_str_equal (e, "DistanceToObject") ? "distance"
          : g_str_equal (e, "ReflectedAmbientTemperature") ? "reflected_temperature" : NULL;
      gdouble v = 0;
      if (!member)
        return onvif_invalid_arg (r, "ter:InvalidModule", "%s: a rule of this camera overrides "
            "only Emissivity, DistanceToObject and ReflectedAmbientTemperature (the others are "
            "the Thermal service's global ones)", e);
      if (!onvif_child_double (r, params, e, &v, NULL))
        return FALSE;
      if (g_str_equal (member, "reflected_temperature"))
        v = round ((v - ONVIF_KELVIN) * 1000) / 1000;
      json_object_set_double_member (rule, member, v);
    }
  }
  return TRUE;
}

static gboolean
valid_name (OnvifRequest *r, const gchar *name)
{
  if (!name || !*name || g_utf8_strlen (name, -1) > MAX_NAME || strchr (name, '#')
      || strchr (name, '/') || g_str_equal (name, "Scene") || !g_utf8_validate (name, -1, NULL))
    return onvif_invalid_arg (r, "ter:InvalidModule", "module name %s: 1 to %d characters, "
        "no # or /, not Scene", name ? name : "(none)", MAX_NAME);
  return TRUE;
}

static gboolean
create_modules (OnvifRequest *r)
{
  g_autoptr (JsonNode) doc = NULL;
  JsonArray *rules;
  gint64 max = 0;

  if (!check_config (r))
    return FALSE;
  doc = tcd_json_deep_copy (tcd_config_get (r->ctx->config));
  rules = rules_of (doc);
  for (guint i = 0; i < json_array_get_length (rules); i++)
    max = MAX (max, tc_json_get_int (tc_json_array_get_object (rules, i), "id", 0));
  for (xmlNodePtr m = onvif_child (r->op, "AnalyticsModule"); m;
       m = onvif_next (m, "AnalyticsModule")) {
    g_autofree gchar *name = onvif_attr (m, "Name");
    JsonObject *rule;
    if (!valid_name (r, name))
      return FALSE;
    if (onvif_rule_by_name (doc, name, NULL))
      return onvif_invalid_arg (r, "ter:InvalidModule", "a module %s exists "
          "(ModifyAnalyticsModules changes it)", name);
    rule = json_object_new ();
    json_object_set_int_member (rule, "id", ++max);
    json_object_set_string_member (rule, "name", name);
    json_object_set_boolean_member (rule, "enabled", TRUE);
    if (!module_to_rule (r, m, rule)) {
      json_object_unref (rule);
      return FALSE;
    }
    json_array_add_object_element (rules, rule);
  }
  if (!onvif_change_doc (r, g_steal_pointer (&doc), "rules.create"))
    return FALSE;
  onvif_empty (r, "tan:CreateAnalyticsModulesResponse");
  return TRUE;
}

static gboolean
modify_modules (OnvifRequest *r)
{
  g_autoptr (JsonNode) doc = NULL;

  if (!check_config (r))
    return FALSE;
  doc = tcd_json_deep_copy (tcd_config_get (r->ctx->config));
  for (xmlNodePtr m = onvif_child (r->op, "AnalyticsModule"); m;
       m = onvif_next (m, "AnalyticsModule")) {
    g_autofree gchar *name = onvif_attr (m, "Name");
    JsonObject *rule = onvif_rule_by_name (doc, name, NULL);
    if (g_strcmp0 (name, "Scene") == 0)
      return onvif_invalid_arg (r, "ter:InvalidModule", "the Scene module is the whole "
          "picture: it is not changed (its rules, Scene/Alarm and Scene/PreAlarm, are)");
    if (!rule)
      return onvif_invalid_arg (r, "ter:InvalidModule", "no module %s (GetAnalyticsModules)",
          name ? name : "(none)");
    if (onvif_rule_kind (rule) == ONVIF_MODULE_OTHER)
      return onvif_invalid_arg (r, "ter:InvalidModule", "%s is a line or polygon: change it "
          "on the camera's page or API", name);
    if (!module_to_rule (r, m, rule))
      return FALSE;
  }
  if (!onvif_change_doc (r, g_steal_pointer (&doc), "rules.update"))
    return FALSE;
  onvif_empty (r, "tan:ModifyAnalyticsModulesResponse");
  return TRUE;
}

static gboolean
delete_modules (OnvifRequest *r)
{
  g_autoptr (JsonNode) doc = NULL;
  JsonNode *cmps;
  JsonArray *rules;

  if (!check_config (r))
    return FALSE;
  doc = tcd_json_deep_copy (tcd_config_get (r->ctx->config));
  rules = rules_of (doc);
  cmps = tcd_config_node (doc, "comparisons");
  for (xmlNodePtr m = onvif_child (r->op, "AnalyticsModuleName"); m;
       m = onvif_next (m, "AnalyticsModuleName")) {
    g_autofree gchar *name = onvif_text (m);
    gint64 id = 0;
    if (!onvif_rule_by_name (doc, name, &id))
      return onvif_invalid_arg (r, "ter:InvalidModule", "no module %s (GetAnalyticsModules)",
          name ? name : "(none)");
    for (guint i = 0; cmps && JSON_NODE_HOLDS_ARRAY (cmps)
         && i < json_array_get_length (json_node_get_array (cmps)); i++) {
      JsonObject *c = tc_json_array_get_object (json_node_get_array (cmps), i);
      JsonArray *pair = tc_json_get_array (c, "rules");
      for (guint k = 0; pair && k < json_array_get_length (pair); k++)
        if (tc_json_array_get_int (pair, k, 0) == id)
          return onvif_invalid_arg (r, "ter:InvalidModule", "%s is compared by the comparison "
              "%s: delete or change that first", name,
              tc_json_get_string (c, "name", ""));
    }
    for (guint i = 0; i < json_array_get_length (rules); i++)
      if (tc_json_get_int (tc_json_array_get_object (rules, i),
          "id", 0) == id) {
        json_array_remove_element (rules, i);
        break;
      }
  }
  if (!onvif_change_doc (r, g_steal_pointer (&doc), "rules.delete"))
    return FALSE;
  onvif_empty (r, "tan:DeleteAnalyticsModulesResponse");
  return TRUE;
}

/* one temperature rule's Config into the alarm of its module's rule; the
 * members the two levels share are checked against @shared (the first
 * level's, or the current ones) */
static gboolean
rule_to_alarm (OnvifRequest *r, xmlNodePtr rule, JsonNode *doc, GHashTable *seen)
{
  g_autofree gchar *name = onvif_attr (rule, "Name");
  g_autofree gchar *module = NULL;
  xmlNodePtr conf = config_element (rule, "RadiometryTemperatureRuleConfig");
  gchar *slash = name ? strrchr (name, '/') : NULL;
  JsonObject *target, *alarm;
  gboolean pre;
  g_autofree gchar *type = NULL, *cond = NULL, *time = NULL, *enabled = NULL, *mod = NULL;
  gdouble th = 0, hy = 0;
  gboolean found_th = FALSE, found_hy = FALSE;
  JsonObject *before;

  if (!slash || (!g_str_equal (slash, "/Alarm") && !g_str_equal (slash, "/PreAlarm")))
    return onvif_invalid_arg (r, "ter:InvalidRule", "rule %s: MODULE/Alarm or "
        "MODULE/PreAlarm (GetRules)", name ? name : "(none)");
  pre = g_str_equal (slash, "/PreAlarm");
  module = g_strndup (name, slash - name);
  {
    g_autofree gchar *lk = g_strdup_printf ("%s\n%s", module, pre ? "pre" : "alarm");
    g_hash_table_insert (seen, g_steal_pointer (&lk), json_object_new ());
  }
  target = g_str_equal (module, "Scene") ? json_node_get_object (doc)
      : onvif_rule_by_name (doc, module, NULL);
  if (!target)
    return onvif_invalid_arg (r, "ter:InvalidRule", "rule %s: no module %s", name, module);
  if (!conf)
    return onvif_invalid_arg (r, "ter:InvalidRule", "rule %s: its Parameters need an "
        "ElementItem RadiometryTemperatureRuleConfig", name);
  if ((mod = onvif_attr (conf, "RadiometryModuleID")) && !g_str_equal (mod, module))
    return onvif_invalid_arg (r, "ter:InvalidRule", "rule %s belongs to the module %s, "
        "not %s", name, module, mod);
  /* the scene's alarm is scene_alarm; a rule's, its alarm */
  {
    const gchar *member = g_str_equal (module, "Scene") ? "scene_alarm" : "alarm";
    if (!tc_json_get_object (target, member))
      json_object_set_object_member (target, member, json_object_new ());
    alarm = tc_json_get_object (target, member);
  }
  type = onvif_child_text (conf, "TemperatureType");
  cond = onvif_child_text (conf, "RuleCondition");
  time = onvif_child_text (conf, "ThresholdTime");
  enabled = onvif_attr (conf, "Enabled");
  if (!onvif_child_double (r, conf, "ThresholdTemperature", &th, &found_th)
      || !onvif_child_double (r, conf, "HysteresisTemperature", &hy, &found_hy))
    return FALSE;
  if (!found_th)
    return onvif_invalid_arg (r, "ter:InvalidRule", "rule %s: ThresholdTemperature is "
        "missing", name);
  json_object_set_double_member (alarm, pre ? "pre_alarm" : "alarm",
      round ((th - ONVIF_KELVIN) * 100) / 100);
  /* the members both levels share: as the other level says, if it came too */
  before = g_hash_table_lookup (seen, module);
  if (!before) {
    before = json_object_new ();
    g_hash_table_insert (seen, g_strdup (module), before);
  }
#define SHARED(member, node_setter, value, text) G_STMT_START { \
    JsonObject *tmp = json_object_new (); \
    node_setter (tmp, member, value); \
    if (json_object_has_member (before, member) \
        && !json_node_equal (json_object_get_member (before, member), \
                             json_object_get_member (tmp, member))) { \
      json_object_unref (tmp); \
      return onvif_invalid_arg (r, "ter:InvalidRule", "%s/Alarm and %s/PreAlarm share %s: " \
          "they must say the same", module, module, text); \
    } \
    node_setter (before, member, value); \
    node_setter (alarm, member, value); \
    json_object_unref (tmp); \
  } G_STMT_END
  if (type) {
    const gchar *on = g_str_equal (type, "MaxTemp") ? "max" : g_str_equal (type, "MinTemp")
        ? "min" : g_str_equal (type, "AverageTemp") ? "avg" : NULL;
    if (!on)
      return onvif_invalid_arg (r, "ter:InvalidRule", "TemperatureType %s: MaxTemp, MinTemp "
          "or AverageTemp", type);
    SHARED ("on", json_object_set_string_member, on, "TemperatureType");
  }
  if (cond) {
    const gchar *c = g_str_equal (cond, "MoreThan") ? "above" : g_str_equal (cond, "LessThan")
        ? "below" : NULL;
    if (!c)
      return onvif_invalid_arg (r, "ter:InvalidRule", "RuleCondition %s: MoreThan or "
          "LessThan", cond);
    SHARED ("condition", json_object_set_string_member, c, "RuleCondition");
  }
  if (time) {
    gint64 s = onvif_parse_duration (time);
    if (s < 0)
      return onvif_invalid_arg (r, "ter:InvalidRule", "ThresholdTime %s: a duration", time);
    SHARED ("filter_time", json_object_set_int_member, s, "ThresholdTime");
  }
  if (found_hy)
    SHARED ("tolerance", json_object_set_double_member, round (hy * 100) / 100,
        "HysteresisTemperature");
  if (enabled)
    SHARED ("enabled", json_object_set_boolean_member, g_str_equal (enabled, "true")
        || g_str_equal (enabled, "1"), "Enabled");
#undef SHARED
  return TRUE;
}

static gboolean
modify_rules (OnvifRequest *r)
{
  g_autoptr (JsonNode) doc = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) json_object_unref);
  GHashTableIter it;
  const gchar *module;
  JsonObject *shared;

  if (!check_config (r))
    return FALSE;
  doc = tcd_json_deep_copy (tcd_config_get (r->ctx->config));
  for (xmlNodePtr n = onvif_child (r->op, "Rule"); n; n = onvif_next (n, "Rule"))
    if (!rule_to_alarm (r, n, doc, seen))
      return FALSE;
  /* a shared member changed through one level only would change the other
   * too: refused (say it for both) */
  g_hash_table_iter_init (&it, seen);
  while (g_hash_table_iter_next (&it, (gpointer *) &module, (gpointer *) &shared)) {
    g_autofree gchar *ka = g_strdup_printf ("%s\nalarm", module);
    g_autofree gchar *kp = g_strdup_printf ("%s\npre", module);
    JsonObject *cur;
    GList *members;
    if (strchr (module, '\n') || (g_hash_table_contains (seen, ka)
        && g_hash_table_contains (seen, kp)))
      continue;
    if (g_str_equal (module, "Scene"))
      cur = tc_json_get_object (json_node_get_object (tcd_config_get (r->ctx->config)),
          "scene_alarm");
    else {
      cur = onvif_rule_by_name (tcd_config_get (r->ctx->config), module, NULL);
      cur = cur ? tc_json_get_object (cur, "alarm") : NULL;
    }
    members = json_object_get_members (shared);
    for (GList *l = members; l; l = l->next)
      if (!cur || !json_object_has_member (cur, l->data)
          || !json_node_equal (json_object_get_member (cur, l->data),
                               json_object_get_member (shared, l->data))) {
        g_list_free (members);
        return onvif_invalid_arg (r, "ter:InvalidRule", "%s/Alarm and %s/PreAlarm share "
            "type, condition, time, hysteresis and Enabled: change them in both in one "
            "ModifyRules", module, module);
      }
    g_list_free (members);
  }
  if (!onvif_change_doc (r, g_steal_pointer (&doc), "rules.update"))
    return FALSE;
  onvif_empty (r, "tan:ModifyRulesResponse");
  return TRUE;
}

static gboolean
create_or_delete_rules (OnvifRequest *r)
{
  if (!check_config (r))
    return FALSE;
  return onvif_fault (r, TRUE, "ter:ActionNotSupported", "ter:RuleNotSupported",
      "a module's two temperature rules (MODULE/Alarm, MODULE/PreAlarm) exist with it: "
      "ModifyRules changes them, its Enabled switches the alarm on or off");
}

static const OnvifOperation ops[] = {
  ONVIF_OP ("GetServiceCapabilities", ONVIF_PRE_AUTH, get_capabilities),
  ONVIF_OP ("GetSupportedAnalyticsModules", ONVIF_READ_MEDIA, get_supported_modules),
  ONVIF_OP ("GetAnalyticsModules", ONVIF_READ_MEDIA, get_modules),
  ONVIF_OP ("CreateAnalyticsModules", ONVIF_ACTUATE, create_modules),
  ONVIF_OP ("ModifyAnalyticsModules", ONVIF_ACTUATE, modify_modules),
  ONVIF_OP ("DeleteAnalyticsModules", ONVIF_ACTUATE, delete_modules),
  ONVIF_OP ("GetSupportedRules", ONVIF_READ_MEDIA, get_supported_rules),
  ONVIF_OP ("GetRules", ONVIF_READ_MEDIA, get_rules),
  ONVIF_OP ("ModifyRules", ONVIF_ACTUATE, modify_rules),
  ONVIF_OP ("CreateRules", ONVIF_ACTUATE, create_or_delete_rules),
  ONVIF_OP ("DeleteRules", ONVIF_ACTUATE, create_or_delete_rules),
  ONVIF_OPS_END
};

const OnvifService onvif_analytics_service = {
  .path = "/onvif/analytics_service",
  .ns = ONVIF_NS_TAN,
  .prefix = "tan",
  .major = 2, .minor = 0,
  .ops = ops,
  .capabilities = write_capabilities,
};
