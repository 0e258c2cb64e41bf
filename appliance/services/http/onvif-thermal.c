/* thermocamd: the ONVIF Thermal service (tth, ver10): the palette, its
 * polarity and the NUC table of the video source; the radiometry's global
 * parameters
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The mapping onto the configuration, exact both ways:
 *
 *   ColorPalette (token)      image.palette (the token is the palette's name;
 *                             its Type the nearest ONVIF class, else Custom)
 *   Polarity                  WhiteHot/BlackHot: with the grey palette it
 *                             picks white_hot or black_hot; the colour
 *                             palettes are WhiteHot only
 *   NUCTable (token)          thermometry.temperature_range ("-20~150",
 *                             "0~550": the two calibrated tables, with their
 *                             limits in kelvin)
 *   RadiometryGlobalParameters (kelvin on the ONVIF side):
 *     ReflectedAmbientTemperature  thermometry.reflected_temperature
 *     Emissivity                   thermometry.emissivity
 *     DistanceToObject (m)         thermometry.distance
 *     RelativeHumidity (0..1)      thermometry.relative_humidity
 *     AtmosphericTemperature       thermometry.atmospheric_temperature
 *     ExtOpticsTemperature         thermometry.window_temperature
 *     ExtOpticsTransmittance       thermometry.optical_transmissivity
 *   AtmosphericTransmittance is not a setting: the camera computes it from
 *   the distance, humidity and atmospheric temperature with its calibration
 *   (the radiometric chain's two half paths); it is shown, and a Set that
 *   gives it back unchanged (a client's read-modify-write) is taken, any
 *   other value is a fault.
 *
 * The ranges of the options are the configuration schema's own.  Every
 * change goes through the change path (validated, audited, applied live);
 * a refused one is a fault (ter:InvalidArgVal) and nothing changes.
 */
#include "onvif-ext.h"

#include "tc-json.h"

#include <math.h>

#include "gstthermalmeta.h"
#include "tc-radiometry.h"
#include "tc-schema.h"

typedef struct {
  const gchar *name, *type, *label;
} Palette;

static const Palette palettes[] = {
  { "white_hot", "WhiteHot", "White hot" },
  { "black_hot", "BlackHot", "Black hot" },
  { "ironbow", "Iron", "Ironbow" },
  { "rainbow", "Rainbow", "Rainbow" },
  { "rainbow_hc", "Rain", "Rainbow high contrast" },
  { "lava", "Custom", "Lava" },
  { "arctic", "Custom", "Arctic" },
  { "fusion", "Custom", "Fusion" },
  { "medical", "Custom", "Medical" },
  { "red_hot", "Red", "Red hot" },
  { "green_hot", "Custom", "Green hot" },
  { "sepia", "Sepia", "Sepia" },
};

typedef struct {
  const gchar *name;            /* thermometry.temperature_range */
  gdouble lo, hi;               /* degrees C */
} Nuc;

static const Nuc nucs[] = {
  { "-20~150", -20, 150 },
  { "0~550", 0, 550 },
};

/* the radiometry parameters: ONVIF's name, the member of thermometry, kelvin */
typedef struct {
  const gchar *onvif, *member;
  gboolean kelvin;
} Param;

static const Param params[] = {
  { "ReflectedAmbientTemperature", "reflected_temperature", TRUE },
  { "Emissivity", "emissivity", FALSE },
  { "DistanceToObject", "distance", FALSE },
  { "RelativeHumidity", "relative_humidity", FALSE },
  { "AtmosphericTemperature", "atmospheric_temperature", TRUE },
  { "ExtOpticsTemperature", "window_temperature", TRUE },
  { "ExtOpticsTransmittance", "optical_transmissivity", FALSE },
};

static const Palette *
palette_of (const gchar *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (palettes); i++)
    if (!g_strcmp0 (palettes[i].name, name))
      return &palettes[i];
  return NULL;
}

static const Nuc *
nuc_of (const gchar *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (nucs); i++)
    if (!g_strcmp0 (nucs[i].name, name))
      return &nucs[i];
  return NULL;
}

static gboolean
check_source (OnvifRequest *r)
{
  g_autofree gchar *token = onvif_child_text (r->op, "VideoSourceToken");

  if (!token || !g_str_equal (token, ONVIF_VIDEO_SOURCE_TOKEN))
    return onvif_invalid_arg (r, "ter:NoSource", "no video source %s (the one is %s)",
        token ? token : "(none)", ONVIF_VIDEO_SOURCE_TOKEN);
  return TRUE;
}

/* a number with 2 to 6 significant decimals, no exponent for everyday values */
static void
number (OnvifRequest *r, const gchar *tag, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  onvif_elem (r, tag, g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

static void
write_palette (OnvifRequest *r, const Palette *p)
{
  onvif_open_attrs (r, "tth:ColorPalette", "token=\"%s\" Type=\"%s\"", p->name, p->type);
  onvif_elem (r, "tth:Name", p->label);
  onvif_close (r, "tth:ColorPalette");
}

static void
write_nuc (OnvifRequest *r, const Nuc *n)
{
  gchar lo[G_ASCII_DTOSTR_BUF_SIZE], hi[G_ASCII_DTOSTR_BUF_SIZE];

  onvif_open_attrs (r, "tth:NUCTable", "token=\"%s\" LowTemperature=\"%s\" "
      "HighTemperature=\"%s\"", n->name,
      g_ascii_formatd (lo, sizeof lo, "%.2f", n->lo + ONVIF_KELVIN),
      g_ascii_formatd (hi, sizeof hi, "%.2f", n->hi + ONVIF_KELVIN));
  onvif_elemf (r, "tth:Name", "%s \xc2\xb0" "C", n->name);
  onvif_close (r, "tth:NUCTable");
}

static void
write_configuration (OnvifRequest *r, const gchar *tag)
{
  TcdConfig *cfg = r->ctx->config;
  const gchar *name = tcd_config_string (cfg, "image.palette");
  const Palette *p = palette_of (name) ? palette_of (name) : &palettes[0];
  const Nuc *n = nuc_of (tcd_config_string (cfg, "thermometry.temperature_range"));

  onvif_open (r, tag);
  write_palette (r, p);
  onvif_elem (r, "tth:Polarity", g_str_equal (p->name, "black_hot") ? "BlackHot" : "WhiteHot");
  if (n)
    write_nuc (r, n);
  onvif_close (r, tag);
}

static void
write_capabilities (OnvifRequest *r)
{
  onvif_raw (r, "<tth:Capabilities Radiometry=\"true\"/>");
}

static gboolean
get_capabilities (OnvifRequest *r)
{
  onvif_open (r, "tth:GetServiceCapabilitiesResponse");
  write_capabilities (r);
  onvif_close (r, "tth:GetServiceCapabilitiesResponse");
  return TRUE;
}

static gboolean
get_configurations (OnvifRequest *r)
{
  onvif_open (r, "tth:GetConfigurationsResponse");
  onvif_open_attrs (r, "tth:Configurations", "token=\"%s\"", ONVIF_VIDEO_SOURCE_TOKEN);
  write_configuration (r, "tth:Configuration");
  onvif_close (r, "tth:Configurations");
  onvif_close (r, "tth:GetConfigurationsResponse");
  return TRUE;
}

static gboolean
get_configuration (OnvifRequest *r)
{
  if (!check_source (r))
    return FALSE;
  onvif_open (r, "tth:GetConfigurationResponse");
  write_configuration (r, "tth:Configuration");
  onvif_close (r, "tth:GetConfigurationResponse");
  return TRUE;
}

static gboolean
get_configuration_options (OnvifRequest *r)
{
  if (!check_source (r))
    return FALSE;
  onvif_open (r, "tth:GetConfigurationOptionsResponse");
  onvif_open (r, "tth:ConfigurationOptions");
  for (guint i = 0; i < G_N_ELEMENTS (palettes); i++)
    write_palette (r, &palettes[i]);
  for (guint i = 0; i < G_N_ELEMENTS (nucs); i++)
    write_nuc (r, &nucs[i]);
  onvif_close (r, "tth:ConfigurationOptions");
  onvif_close (r, "tth:GetConfigurationOptionsResponse");
  return TRUE;
}

static gboolean
set_configuration (OnvifRequest *r)
{
  xmlNodePtr conf = onvif_child (r->op, "Configuration");
  xmlNodePtr pal = conf ? onvif_child (conf, "ColorPalette") : NULL;
  xmlNodePtr nucn = conf ? onvif_child (conf, "NUCTable") : NULL;
  g_autofree gchar *token = pal ? onvif_attr (pal, "token") : NULL;
  g_autofree gchar *polarity = conf ? onvif_child_text (conf, "Polarity") : NULL;
  g_autofree gchar *nuc_token = nucn ? onvif_attr (nucn, "token") : NULL;
  g_autoptr (JsonNode) image = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) thermo = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) doc = NULL;
  JsonObject *io = json_object_new (), *to = json_object_new ();
  const Palette *p;
  const gchar *name;

  json_node_take_object (image, io);
  json_node_take_object (thermo, to);
  if (!check_source (r))
    return FALSE;
  if (!conf || !token || !polarity)
    return onvif_invalid_arg (r, "ter:InvalidConfiguration", "Configuration with its "
        "ColorPalette (token) and Polarity is required");
  if (!(p = palette_of (token)))
    return onvif_invalid_arg (r, "ter:InvalidConfiguration", "no colour palette %s "
        "(GetConfigurationOptions)", token);
  if (!g_str_equal (polarity, "WhiteHot") && !g_str_equal (polarity, "BlackHot"))
    return onvif_invalid_arg (r, "ter:InvalidConfiguration", "Polarity %s: WhiteHot or "
        "BlackHot", polarity);
  name = p->name;
  if (g_str_equal (name, "white_hot") || g_str_equal (name, "black_hot"))
    name = g_str_equal (polarity, "BlackHot") ? "black_hot" : "white_hot";
  else if (g_str_equal (polarity, "BlackHot"))
    return onvif_invalid_arg (r, "ter:InvalidConfiguration", "the colour palette %s is "
        "WhiteHot only; BlackHot is the grey palette black_hot", token);
  if (onvif_child (conf, "Cooler"))
    return onvif_invalid_arg (r, "ter:InvalidConfiguration", "this camera is uncooled: it has "
        "no Cooler");
  json_object_set_string_member (io, "palette", name);
  if (nucn) {
    if (!nuc_token || !nuc_of (nuc_token))
      return onvif_invalid_arg (r, "ter:InvalidConfiguration", "no NUC table %s "
          "(GetConfigurationOptions)", nuc_token ? nuc_token : "(no token)");
    json_object_set_string_member (to, "temperature_range", nuc_token);
  }
  /* both sections in one change: all or nothing */
  doc = tcd_change_patched (r->ctx->change, "image", image);
  if (json_object_get_size (to)) {
    g_autoptr (JsonNode) other = tcd_change_patched (r->ctx->change, "thermometry", thermo);
    JsonObject *oo = json_node_get_object (other);
    json_object_set_member (json_node_get_object (doc), "thermometry",
        json_node_copy (json_object_get_member (oo, "thermometry")));
  }
  if (!onvif_change_doc (r, g_steal_pointer (&doc), "config.image"))
    return FALSE;
  onvif_empty (r, "tth:SetConfigurationResponse");
  return TRUE;
}

/* ---- radiometry ---- */

static void
range_of (TcdConfig *cfg, const gchar *member, gdouble *lo, gdouble *hi)
{
  g_autofree gchar *path = g_strdup_printf ("thermometry.%s", member);
  JsonNode *s = tc_schema_get_subschema (tcd_config_get_schema (cfg), path);
  JsonObject *o = s && JSON_NODE_HOLDS_OBJECT (s) ? json_node_get_object (s) : NULL;

  *lo = o ? tc_json_get_double (o, "minimum", 0) : 0;
  *hi = o ? tc_json_get_double (o, "maximum", 0) : 0;
}

/* the atmosphere's transmittance over the whole path, by the camera's
 * calibration (a frame's) and the configuration's parameters; FALSE
 * without a calibrated frame */
static gboolean
atmospheric_transmittance (OnvifRequest *r, gdouble *tau)
{
  TcdConfig *cfg = r->ctx->config;
  g_autoptr (GstSample) s = r->ctx->pipeline ? tcd_pipeline_get_temperature (r->ctx->pipeline)
      : NULL;
  GstBuffer *buf = s ? gst_sample_get_buffer (s) : NULL;
  GstThermalMeta *tm = buf ? gst_buffer_get_thermal_meta (buf) : NULL;
  TcObjectParams p;
  TcChain chain;

  if (!tm || !tm->has_calibration)
    return FALSE;
  p.emissivity = tcd_config_double (cfg, "thermometry.emissivity");
  p.distance = tcd_config_double (cfg, "thermometry.distance");
  p.reflected_temp = tcd_config_double (cfg, "thermometry.reflected_temperature");
  p.atmospheric_temp = tcd_config_double (cfg, "thermometry.atmospheric_temperature");
  p.relative_humidity = tcd_config_double (cfg, "thermometry.relative_humidity");
  p.window_temp = tcd_config_double (cfg, "thermometry.window_temperature");
  p.window_transmission = tcd_config_double (cfg, "thermometry.optical_transmissivity");
  if (tc_object_params_check (&p))
    return FALSE;
  tc_chain_init (&chain, &tm->calibration, &p);
  *tau = chain.tau1 * chain.tau2;
  return isfinite (*tau) && *tau > 0 && *tau <= 1;
}

static gboolean
get_radiometry (OnvifRequest *r)
{
  TcdConfig *cfg = r->ctx->config;

  if (!check_source (r))
    return FALSE;
  onvif_open (r, "tth:GetRadiometryConfigurationResponse");
  onvif_open (r, "tth:Configuration");
  onvif_open (r, "tth:RadiometryGlobalParameters");
  for (guint i = 0; i < G_N_ELEMENTS (params); i++) {
    g_autofree gchar *path = g_strdup_printf ("thermometry.%s", params[i].member);
    g_autofree gchar *tag = g_strdup_printf ("tth:%s", params[i].onvif);
    gdouble tau;
    number (r, tag, tcd_config_double (cfg, path) + (params[i].kelvin ? ONVIF_KELVIN : 0));
    /* in the schema's order: after AtmosphericTemperature */
    if (g_str_equal (params[i].onvif, "AtmosphericTemperature")
        && atmospheric_transmittance (r, &tau))
      number (r, "tth:AtmosphericTransmittance", tau);
  }
  onvif_close (r, "tth:RadiometryGlobalParameters");
  onvif_close (r, "tth:Configuration");
  onvif_close (r, "tth:GetRadiometryConfigurationResponse");
  return TRUE;
}

static gboolean
get_radiometry_options (OnvifRequest *r)
{
  TcdConfig *cfg = r->ctx->config;

  if (!check_source (r))
    return FALSE;
  onvif_open (r, "tth:GetRadiometryConfigurationOptionsResponse");
  onvif_open (r, "tth:ConfigurationOptions");
  onvif_open (r, "tth:RadiometryGlobalParameterOptions");
  for (guint i = 0; i < G_N_ELEMENTS (params); i++) {
    g_autofree gchar *tag = g_strdup_printf ("tth:%s", params[i].onvif);
    gdouble lo, hi, k = params[i].kelvin ? ONVIF_KELVIN : 0;
    range_of (cfg, params[i].member, &lo, &hi);
    onvif_open (r, tag);
    number (r, "tt:Min", lo + k);
    number (r, "tt:Max", hi + k);
    onvif_close (r, tag);
  }
  onvif_close (r, "tth:RadiometryGlobalParameterOptions");
  onvif_close (r, "tth:ConfigurationOptions");
  onvif_close (r, "tth:GetRadiometryConfigurationOptionsResponse");
  return TRUE;
}

static gboolean
set_radiometry (OnvifRequest *r)
{
  xmlNodePtr conf = onvif_child (r->op, "Configuration");
  xmlNodePtr g = conf ? onvif_child (conf, "RadiometryGlobalParameters") : NULL;
  g_autoptr (JsonNode) patch = json_node_new (JSON_NODE_OBJECT);
  JsonObject *p = json_object_new ();

  json_node_take_object (patch, p);
  if (!check_source (r))
    return FALSE;
  if (!conf)
    return onvif_invalid_arg (r, "ter:InvalidConfiguration", "Configuration is missing");
  if (!g)       /* nothing to set */
    goto done;
  for (xmlNodePtr n = onvif_child (g, NULL); n; n = onvif_next (n, NULL)) {
    const Param *pp = NULL;
    for (guint i = 0; i < G_N_ELEMENTS (params); i++)
      if (g_str_equal ((const gchar *) n->name, params[i].onvif))
        pp = &params[i];
    if (!pp && g_str_equal ((const gchar *) n->name, "AtmosphericTransmittance")) {
      gdouble given = 0, tau = -1;
      g_autofree gchar *t = onvif_text (n);
      gchar *end = NULL;
      given = t ? g_ascii_strtod (t, &end) : -1;
      /* given back as read: taken (and nothing to set) */
      if (t && *t && end && !*end && atmospheric_transmittance (r, &tau)
          && fabs (given - tau) < 0.0005)
        continue;
      return onvif_invalid_arg (r, "ter:InvalidConfiguration", "AtmosphericTransmittance is "
          "computed from DistanceToObject, RelativeHumidity and AtmosphericTemperature; it is "
          "not a setting (GetRadiometryConfigurationOptions)");
    }
    if (!pp)
      return onvif_invalid_arg (r, "ter:InvalidConfiguration", "%s is not a radiometry "
          "parameter of this camera", (const gchar *) n->name);
  }
  for (guint i = 0; i < G_N_ELEMENTS (params); i++) {
    gdouble v = 0, lo, hi, k = params[i].kelvin ? ONVIF_KELVIN : 0;
    gboolean found = FALSE;
    if (!onvif_child_double (r, g, params[i].onvif, &v, &found))
      return FALSE;
    if (!found)
      continue;
    /* the schema's range, said in ONVIF's units (the change path would
     * refuse it too, in degrees C) */
    range_of (r->ctx->config, params[i].member, &lo, &hi);
    if (v - k < lo - 1e-9 || v - k > hi + 1e-9)
      return onvif_invalid_arg (r, "ter:InvalidConfiguration", "%s %g is outside %g..%g "
          "(GetRadiometryConfigurationOptions)", params[i].onvif, v, lo + k, hi + k);
    /* kelvin to degrees C at the configuration's resolution */
    json_object_set_double_member (p, params[i].member,
        k ? round ((v - k) * 1000) / 1000 : v);
  }
  if (json_object_get_size (p) && !onvif_change (r, "thermometry", g_steal_pointer (&patch)))
    return FALSE;
done:
  onvif_empty (r, "tth:SetRadiometryConfigurationResponse");
  return TRUE;
}

static const OnvifOperation ops[] = {
  ONVIF_OP ("GetServiceCapabilities", ONVIF_PRE_AUTH, get_capabilities),
  ONVIF_OP ("GetConfigurations", ONVIF_READ_MEDIA, get_configurations),
  ONVIF_OP ("GetConfiguration", ONVIF_READ_MEDIA, get_configuration),
  ONVIF_OP ("GetConfigurationOptions", ONVIF_READ_MEDIA, get_configuration_options),
  ONVIF_OP ("SetConfiguration", ONVIF_ACTUATE, set_configuration),
  ONVIF_OP ("GetRadiometryConfiguration", ONVIF_READ_MEDIA, get_radiometry),
  ONVIF_OP ("GetRadiometryConfigurationOptions", ONVIF_READ_MEDIA, get_radiometry_options),
  ONVIF_OP ("SetRadiometryConfiguration", ONVIF_ACTUATE, set_radiometry),
  ONVIF_OPS_END
};

const OnvifService onvif_thermal_service = {
  .path = "/onvif/thermal_service",
  .ns = ONVIF_NS_TTH,
  .prefix = "tth",
  .major = 1, .minor = 0,
  .ops = ops,
  .capabilities = write_capabilities,
};
