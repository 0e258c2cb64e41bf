/* thermocamd: ONVIF Imaging (ver20, timg): the display's brightness and
 * contrast (image.brightness, image.contrast, manual 7.2)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one video source's settings: GetImagingSettings, GetOptions and
 * SetImagingSettings for Brightness and Contrast (0..100, the
 * configuration's own scale and range); a setting this camera has not
 * (exposure, focus, white balance...) or a value out of range is a fault
 * (ter:InvalidArgVal/ter:SettingsInvalid) and nothing changes.  A change
 * goes through the change path (audited, applied live by the pipeline).
 */
#include "onvif-ext.h"

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

static gboolean
set_settings (OnvifRequest *r)
{
  xmlNodePtr s = onvif_child (r->op, "ImagingSettings");
  g_autoptr (JsonNode) patch = json_node_new (JSON_NODE_OBJECT);
  JsonObject *p = json_object_new ();

  json_node_take_object (patch, p);
  if (!check_source (r))
    return FALSE;
  if (!s)
    return onvif_invalid_arg (r, "ter:SettingsInvalid", "ImagingSettings is missing");
  for (xmlNodePtr n = onvif_child (s, NULL); n; n = onvif_next (n, NULL))
    if (!g_str_equal ((const gchar *) n->name, "Brightness")
        && !g_str_equal ((const gchar *) n->name, "Contrast"))
      return onvif_invalid_arg (r, "ter:SettingsInvalid", "%s: this camera sets only "
          "Brightness and Contrast (GetOptions)", (const gchar *) n->name);
  if (!level_of (r, s, "Brightness", p, "brightness")
      || !level_of (r, s, "Contrast", p, "contrast"))
    return FALSE;
  if (json_object_get_size (p) && !onvif_change (r, "image", g_steal_pointer (&patch)))
    return FALSE;
  onvif_empty (r, "timg:SetImagingSettingsResponse");
  return TRUE;
}

static const OnvifOperation ops[] = {
  ONVIF_OP ("GetServiceCapabilities", ONVIF_PRE_AUTH, get_capabilities),
  ONVIF_OP ("GetImagingSettings", ONVIF_READ_MEDIA, get_settings),
  ONVIF_OP ("GetOptions", ONVIF_READ_MEDIA, get_options),
  ONVIF_OP ("SetImagingSettings", ONVIF_ACTUATE, set_settings),
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
