/* thermocamd: ONVIF Imaging (ver20, timg): the display's brightness and
 * contrast (image.brightness, image.contrast, manual 7.2) and the focus of
 * the hardware backend (hardware.focus, manual 6.1.8 and 6.1.12)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one video source's settings: GetImagingSettings, GetOptions and
 * SetImagingSettings for Brightness and Contrast (0..100, the
 * configuration's own scale and range) and, when the backend has a
 * motorized focus, Focus: AutoFocusMode AUTO/MANUAL is hardware.focus.mode
 * auto/manual, DefaultSpeed hardware.focus.speed (1..7).  A setting this
 * camera has not (exposure, white balance, focus without the hardware...)
 * or a value out of range is a fault (ter:InvalidArgVal/ter:SettingsInvalid)
 * and nothing changes.  A change goes through the change path (audited as
 * from ONVIF, applied live by the pipeline and the backend).
 *
 * The focus moves (GetMoveOptions, Move, Stop, GetStatus) go to the
 * backend (linkage/tcd-hw.h): Continuous only, since the backend's focus
 * takes near/far/stop and no position; the speed's sign is the direction
 * (negative: near, positive: far, 0: stop) and the rate the configured
 * DefaultSpeed.  Absolute and Relative are not offered (GetMoveOptions) and
 * are a fault.  Without the hardware GetMoveOptions offers nothing and Move,
 * Stop and GetStatus are env:Receiver/ter:ActionNotSupported/
 * ter:NoImagingForSource.  A Move turns auto focus off (hardware.focus.mode
 * manual), as the Imaging WSDL says a focus adjustment does.
 */
#include "onvif-ext.h"
#include "tc-json.h"

#include <math.h>

static gboolean
check_source (OnvifRequest *r)
{
  g_autofree gchar *token = onvif_child_text (r->op, "VideoSourceToken");

  if (!token)
    return onvif_invalid_arg (r, "ter:NoSource", "VideoSourceToken is missing");
  if (!g_str_equal (token, ONVIF_VIDEO_SOURCE_TOKEN))
    return onvif_invalid_arg (r, "ter:NoSource", "no video source %s (the one is %s)", token,
        ONVIF_VIDEO_SOURCE_TOKEN);
  return TRUE;
}

/* whether the backend has a motorized focus */
static gboolean
focus_present (OnvifRequest *r)
{
  g_autoptr (JsonNode) p = tcd_hw_presence (r->ctx->hardware);

  return p && JSON_NODE_HOLDS_OBJECT (p)
      && tc_json_get_bool (json_node_get_object (p), "focus", FALSE);
}

static gboolean
no_focus (OnvifRequest *r)
{
  return onvif_fault (r, TRUE, "ter:ActionNotSupported", "ter:NoImagingForSource",
      "this camera has no motorized focus (GetMoveOptions)");
}

static gboolean
get_capabilities (OnvifRequest *r)
{
  onvif_open (r, "timg:GetServiceCapabilitiesResponse");
  onvif_raw (r, "<timg:Capabilities ImageStabilization=\"false\" Presets=\"false\" "
      "AdaptablePreset=\"false\"/>");
  onvif_close (r, "timg:GetServiceCapabilitiesResponse");
  return TRUE;
}

static void
write_capabilities (OnvifRequest *r)
{
  onvif_raw (r, "<timg:Capabilities ImageStabilization=\"false\" Presets=\"false\" "
      "AdaptablePreset=\"false\"/>");
}

static gboolean
get_settings (OnvifRequest *r)
{
  TcdConfig *cfg = r->ctx->config;

  if (!check_source (r))
    return FALSE;
  onvif_open (r, "timg:GetImagingSettingsResponse");
  onvif_open (r, "timg:ImagingSettings");
  onvif_elemf (r, "tt:Brightness", "%" G_GINT64_FORMAT, tcd_config_int (cfg, "image.brightness"));
  onvif_elemf (r, "tt:Contrast", "%" G_GINT64_FORMAT, tcd_config_int (cfg, "image.contrast"));
  if (focus_present (r)) {
    const gchar *mode = tcd_config_string (cfg, "hardware.focus.mode");
    onvif_open (r, "tt:Focus");
    onvif_elem (r, "tt:AutoFocusMode", g_strcmp0 (mode, "auto") == 0 ? "AUTO" : "MANUAL");
    onvif_elemf (r, "tt:DefaultSpeed", "%" G_GINT64_FORMAT,
        tcd_config_int (cfg, "hardware.focus.speed"));
    onvif_close (r, "tt:Focus");
  }
  onvif_close (r, "timg:ImagingSettings");
  onvif_close (r, "timg:GetImagingSettingsResponse");
  return TRUE;
}

static gboolean
get_options (OnvifRequest *r)
{
  if (!check_source (r))
    return FALSE;
  onvif_open (r, "timg:GetOptionsResponse");
  onvif_open (r, "timg:ImagingOptions");
  onvif_raw (r, "<tt:Brightness><tt:Min>0</tt:Min><tt:Max>100</tt:Max></tt:Brightness>"
      "<tt:Contrast><tt:Min>0</tt:Min><tt:Max>100</tt:Max></tt:Contrast>");
  if (focus_present (r))
    onvif_raw (r, "<tt:Focus><tt:AutoFocusModes>AUTO</tt:AutoFocusModes>"
        "<tt:AutoFocusModes>MANUAL</tt:AutoFocusModes>"
        "<tt:DefaultSpeed><tt:Min>1</tt:Min><tt:Max>7</tt:Max></tt:DefaultSpeed></tt:Focus>");
  onvif_close (r, "timg:ImagingOptions");
  onvif_close (r, "timg:GetOptionsResponse");
  return TRUE;
}

/* a 0..100 setting: a whole number after rounding, in range */
static gboolean
level_of (OnvifRequest *r, xmlNodePtr settings, const gchar *name, JsonObject *patch,
          const gchar *member)
{
  gdouble v = 0;
  gboolean found = FALSE;

  if (!onvif_child_double (r, settings, name, &v, &found))
    return FALSE;
  if (!found)
    return TRUE;
  if (v < 0 || v > 100)
    return onvif_invalid_arg (r, "ter:SettingsInvalid", "%s %g is outside 0..100 "
        "(GetOptions)", name, v);
  json_object_set_int_member (patch, member, (gint64) lround (v));
  return TRUE;
}

/* Focus (FocusConfiguration20) -> the patch of hardware.focus: AutoFocusMode
 * (required by the schema) and DefaultSpeed; the limits are not settable */
static gboolean
focus_of (OnvifRequest *r, xmlNodePtr focus, JsonObject *patch)
{
  g_autofree gchar *mode = onvif_child_text (focus, "AutoFocusMode");
  gdouble speed = 0;
  gboolean found = FALSE;

  for (xmlNodePtr n = onvif_child (focus, NULL); n; n = onvif_next (n, NULL))
    if (!g_str_equal ((const gchar *) n->name, "AutoFocusMode")
        && !g_str_equal ((const gchar *) n->name, "DefaultSpeed"))
      return onvif_invalid_arg (r, "ter:SettingsInvalid", "Focus/%s: this camera sets only "
          "AutoFocusMode and DefaultSpeed (GetOptions)", (const gchar *) n->name);
  if (!mode || (!g_str_equal (mode, "AUTO") && !g_str_equal (mode, "MANUAL")))
    return onvif_invalid_arg (r, "ter:SettingsInvalid", "Focus/AutoFocusMode is AUTO or "
        "MANUAL");
  json_object_set_string_member (patch, "mode", g_str_equal (mode, "AUTO") ? "auto" : "manual");
  if (!onvif_child_double (r, focus, "DefaultSpeed", &speed, &found))
    return FALSE;
  if (found) {
    if (!(speed >= 1 && speed <= 7))
      return onvif_invalid_arg (r, "ter:SettingsInvalid", "Focus/DefaultSpeed %g is outside "
          "1..7 (GetOptions)", speed);
    json_object_set_int_member (patch, "speed", (gint64) lround (speed));
  }
  return TRUE;
}

static gboolean
set_settings (OnvifRequest *r)
{
  xmlNodePtr s = onvif_child (r->op, "ImagingSettings");
  xmlNodePtr focus = s ? onvif_child (s, "Focus") : NULL;
  g_autoptr (JsonNode) patch = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) hw_patch = NULL;
  JsonObject *p = json_object_new ();
  gboolean has_focus = focus_present (r);

  json_node_take_object (patch, p);
  if (!check_source (r))
    return FALSE;
  if (!s)
    return onvif_invalid_arg (r, "ter:SettingsInvalid", "ImagingSettings is missing");
  for (xmlNodePtr n = onvif_child (s, NULL); n; n = onvif_next (n, NULL))
    if (!g_str_equal ((const gchar *) n->name, "Brightness")
        && !g_str_equal ((const gchar *) n->name, "Contrast")
        && !(has_focus && g_str_equal ((const gchar *) n->name, "Focus")))
      return onvif_invalid_arg (r, "ter:SettingsInvalid", "%s: this camera sets only "
          "Brightness, Contrast%s (GetOptions)", (const gchar *) n->name,
          has_focus ? " and Focus" : "");
  if (!level_of (r, s, "Brightness", p, "brightness")
      || !level_of (r, s, "Contrast", p, "contrast"))
    return FALSE;
  if (focus) {
    JsonObject *f = json_object_new ();
    JsonObject *h = json_object_new ();
    hw_patch = json_node_new (JSON_NODE_OBJECT);
    json_object_set_object_member (h, "focus", f);
    json_node_take_object (hw_patch, h);
    if (!focus_of (r, focus, f))
      return FALSE;
  }
  /* every value checked above: the two sections' changes are not refused
   * for these members */
  if (json_object_get_size (p) && !onvif_change (r, "image", g_steal_pointer (&patch)))
    return FALSE;
  if (hw_patch && !onvif_change (r, "hardware", g_steal_pointer (&hw_patch)))
    return FALSE;
  onvif_empty (r, "timg:SetImagingSettingsResponse");
  return TRUE;
}

/* ---- the focus moves ---- */

static gboolean
get_move_options (OnvifRequest *r)
{
  if (!check_source (r))
    return FALSE;
  onvif_open (r, "timg:GetMoveOptionsResponse");
  if (focus_present (r))
    onvif_raw (r, "<timg:MoveOptions><tt:Continuous><tt:Speed><tt:Min>-1</tt:Min>"
        "<tt:Max>1</tt:Max></tt:Speed></tt:Continuous></timg:MoveOptions>");
  else
    onvif_empty (r, "timg:MoveOptions");
  onvif_close (r, "timg:GetMoveOptionsResponse");
  return TRUE;
}

/* @action of the focus, audited as the ONVIF user's */
static gboolean
focus_action (OnvifRequest *r, const gchar *action)
{
  g_autoptr (GError) err = NULL;

  if (!tcd_hw_action (r->ctx->hardware, "focus", action, &err)) {
    if (g_error_matches (err, TCD_HW_ERROR, TCD_HW_ERROR_ABSENT))
      return no_focus (r);
    return onvif_fault (r, TRUE, "ter:Action", NULL, "focus %s: %s", action, err->message);
  }
  tcd_audit (r->ctx->security, "system", r->user, r->address, "hardware focus %s (ONVIF)",
      action);
  return TRUE;
}

static gboolean
move (OnvifRequest *r)
{
  xmlNodePtr focus = onvif_child (r->op, "Focus");
  xmlNodePtr cont = focus ? onvif_child (focus, "Continuous") : NULL;
  gdouble speed = 0;
  gboolean found = FALSE;
  const gchar *action;

  if (!check_source (r))
    return FALSE;
  if (!focus_present (r))
    return no_focus (r);
  if (!focus)
    return onvif_invalid_arg (r, "ter:SettingsInvalid", "Focus is missing");
  if (onvif_child (focus, "Absolute") || onvif_child (focus, "Relative"))
    return onvif_invalid_arg (r, "ter:SettingsInvalid", "this focus moves only continuously "
        "(GetMoveOptions): it has no positions");
  if (!cont)
    return onvif_invalid_arg (r, "ter:SettingsInvalid", "Focus/Continuous is missing");
  if (!onvif_child_double (r, cont, "Speed", &speed, &found))
    return FALSE;
  if (!found || !(speed >= -1 && speed <= 1))
    return onvif_invalid_arg (r, "ter:SettingsInvalid", "Focus/Continuous/Speed is -1..1 "
        "(GetMoveOptions)");
  action = speed < 0 ? "near" : speed > 0 ? "far" : "stop";
  /* a focus adjustment turns the auto focus off (Imaging WSDL, Move) */
  if (speed != 0 && g_strcmp0 (tcd_config_string (r->ctx->config, "hardware.focus.mode"),
          "manual") != 0) {
    g_autoptr (JsonNode) patch = json_node_new (JSON_NODE_OBJECT);
    JsonObject *h = json_object_new ();
    JsonObject *f = json_object_new ();
    json_object_set_string_member (f, "mode", "manual");
    json_object_set_object_member (h, "focus", f);
    json_node_take_object (patch, h);
    if (!onvif_change (r, "hardware", g_steal_pointer (&patch)))
      return FALSE;
  }
  if (!focus_action (r, action))
    return FALSE;
  onvif_empty (r, "timg:MoveResponse");
  return TRUE;
}

static gboolean
stop (OnvifRequest *r)
{
  if (!check_source (r))
    return FALSE;
  if (!focus_present (r))
    return no_focus (r);
  if (!focus_action (r, "stop"))
    return FALSE;
  onvif_empty (r, "timg:StopResponse");
  return TRUE;
}

static gboolean
get_status (OnvifRequest *r)
{
  g_autoptr (JsonNode) st = NULL;
  JsonObject *f = NULL;
  const gchar *moving;

  if (!check_source (r))
    return FALSE;
  if (!focus_present (r))
    return no_focus (r);
  st = tcd_hw_status (r->ctx->hardware);
  if (st && JSON_NODE_HOLDS_OBJECT (st))
    f = tc_json_get_object (json_node_get_object (st), "focus");
  onvif_open (r, "timg:GetStatusResponse");
  onvif_open (r, "timg:Status");
  onvif_open (r, "tt:FocusStatus20");
  /* "moving": "near", "far", "auto" or null */
  moving = tc_json_member_kind (f, "moving");
  if (g_strcmp0 (tc_json_member_kind (f, "position"), "integer") == 0 && moving) {
    onvif_elemf (r, "tt:Position", "%" G_GINT64_FORMAT, tc_json_get_int (f, "position", 0));
    onvif_elem (r, "tt:MoveStatus", g_str_equal (moving, "string") ? "MOVING" : "IDLE");
  } else {
    onvif_elem (r, "tt:Position", "0");
    onvif_elem (r, "tt:MoveStatus", "UNKNOWN");
    onvif_elem (r, "tt:Error", "the backend tells no focus state");
  }
  onvif_close (r, "tt:FocusStatus20");
  onvif_close (r, "timg:Status");
  onvif_close (r, "timg:GetStatusResponse");
  return TRUE;
}

static const OnvifOperation ops[] = {
  ONVIF_OP ("GetServiceCapabilities", ONVIF_PRE_AUTH, get_capabilities),
  ONVIF_OP ("GetImagingSettings", ONVIF_READ_MEDIA, get_settings),
  ONVIF_OP ("GetOptions", ONVIF_READ_MEDIA, get_options),
  ONVIF_OP ("SetImagingSettings", ONVIF_ACTUATE, set_settings),
  ONVIF_OP ("GetMoveOptions", ONVIF_READ_MEDIA, get_move_options),
  ONVIF_OP ("Move", ONVIF_ACTUATE, move),
  ONVIF_OP ("Stop", ONVIF_ACTUATE, stop),
  ONVIF_OP ("GetStatus", ONVIF_READ_MEDIA, get_status),
  ONVIF_OPS_END
};

const OnvifService onvif_imaging_service = {
  .path = "/onvif/imaging_service",
  .ns = ONVIF_NS_TIMG,
  .prefix = "timg",
  .major = 2, .minor = 0,
  .ops = ops,
  .capabilities = write_capabilities,
};
