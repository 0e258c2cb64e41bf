/* thermocamd: ONVIF media (trt, ver10/media/wsdl) and media2 (tr2,
 * ver20/media/wsdl): the profiles of the main and the sub stream, the one
 * video source, the encoder configurations (video.main and video.sub, set
 * through the change path) and their options, stream and snapshot addresses
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Tokens: profiles "profile_main" and "profile_sub", the video source
 * "video_source" and its configuration "video_source_config", encoder
 * configurations "encoder_main" and "encoder_sub".  The streams are the RTSP
 * service's (/Streaming/Channels/101 and 102, which the ONVIF users may
 * watch with their own credentials); the snapshot is /onvif/snapshot here,
 * with the ONVIF users' HTTP Digest.
 */
#include "onvif-private.h"

#include <math.h>
#include <string.h>

#include "tc-json.h"
#include "tcd-snapshot.h"

static const gchar *const qualities[] = {
  "lowest", "lower", "low", "medium", "higher", "highest", NULL
};
static const gchar *const resolutions[] = {
  "1280x1024", "640x512", "384x288", "320x256", "160x128", NULL
};

typedef struct {
  const gchar *stream;          /* "main", "sub" */
  const gchar *profile, *encoder, *name, *path;
} Stream;

static const Stream streams[] = {
  { "main", "profile_main", "encoder_main", "MainStream", "/Streaming/Channels/101" },
  { "sub", "profile_sub", "encoder_sub", "SubStream", "/Streaming/Channels/102" },
};

static const Stream *
stream_by_profile (const gchar *token)
{
  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    if (g_strcmp0 (token, streams[i].profile) == 0)
      return &streams[i];
  return NULL;
}

static const Stream *
stream_by_encoder (const gchar *token)
{
  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    if (g_strcmp0 (token, streams[i].encoder) == 0)
      return &streams[i];
  return NULL;
}

/* the profile of the request's ProfileToken, or a fault ter:NoProfile */
static const Stream *
profile_arg (OnvifRequest *r)
{
  g_autofree gchar *token = onvif_child_text (r->op, "ProfileToken");
  const Stream *s = stream_by_profile (token);

  if (!s)
    onvif_invalid_arg (r, "ter:NoProfile", "no profile %s (profile_main, profile_sub)",
        token ? token : "(none)");
  return s;
}

static JsonObject *
stream_settings (OnvifRequest *r, const Stream *s)
{
  g_autofree gchar *path = g_strconcat ("video.", s->stream, NULL);
  JsonNode *n = tcd_config_node (tcd_config_get (r->ctx->config), path);
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static void
parse_resolution (const gchar *text, gint *w, gint *h)
{
  *w = *h = 0;
  if (text)
    sscanf (text, "%dx%d", w, h);
}

static gint
quality_index (const gchar *q)
{
  for (gint i = 0; qualities[i]; i++)
    if (g_strcmp0 (q, qualities[i]) == 0)
      return i;
  return 3;
}

static const gchar *
h264_profile_name (const gchar *p)
{
  return g_strcmp0 (p, "baseline") == 0 ? "Baseline" : g_strcmp0 (p, "high") == 0
      ? "High" : "Main";
}

/* ---- the video source ---- */

static void
video_source_config (OnvifRequest *r, const gchar *tag)
{
  gint w, h, fps;

  tcd_pipeline_get_format (r->ctx->pipeline, &w, &h, &fps);
  onvif_open_attrs (r, tag, "token=\"video_source_config\"");
  onvif_elem (r, "tt:Name", "VideoSourceConfig");
  onvif_elem (r, "tt:UseCount", "2");
  onvif_elem (r, "tt:SourceToken", "video_source");
  onvif_raw (r, "<tt:Bounds x=\"0\" y=\"0\" width=\"%d\" height=\"%d\"/>", w, h);
  onvif_close (r, tag);
}

static gboolean
get_video_sources (OnvifRequest *r)
{
  gint w, h, fps;

  tcd_pipeline_get_format (r->ctx->pipeline, &w, &h, &fps);
  onvif_open (r, "trt:GetVideoSourcesResponse");
  onvif_open_attrs (r, "trt:VideoSources", "token=\"video_source\"");
  onvif_elemf (r, "tt:Framerate", "%d", fps);
  onvif_raw (r, "<tt:Resolution><tt:Width>%d</tt:Width><tt:Height>%d</tt:Height>"
      "</tt:Resolution>", w, h);
  onvif_close (r, "trt:VideoSources");
  onvif_close (r, "trt:GetVideoSourcesResponse");
  return TRUE;
}

static gboolean
get_video_source_configurations (OnvifRequest *r)
{
  onvif_open (r, "trt:GetVideoSourceConfigurationsResponse");
  video_source_config (r, "trt:Configurations");
  onvif_close (r, "trt:GetVideoSourceConfigurationsResponse");
  return TRUE;
}

static gboolean
get_compatible_video_source_configurations (OnvifRequest *r)
{
  if (!profile_arg (r))
    return FALSE;
  onvif_open (r, "trt:GetCompatibleVideoSourceConfigurationsResponse");
  video_source_config (r, "trt:Configurations");
  onvif_close (r, "trt:GetCompatibleVideoSourceConfigurationsResponse");
  return TRUE;
}

static gboolean
get_video_source_configuration (OnvifRequest *r)
{
  g_autofree gchar *token = onvif_child_text (r->op, "ConfigurationToken");

  if (g_strcmp0 (token, "video_source_config") != 0)
    return onvif_invalid_arg (r, "ter:NoConfig", "no video source configuration %s",
        token ? token : "(none)");
  onvif_open (r, "trt:GetVideoSourceConfigurationResponse");
  video_source_config (r, "trt:Configuration");
  onvif_close (r, "trt:GetVideoSourceConfigurationResponse");
  return TRUE;
}

static gboolean
get_video_source_configuration_options (OnvifRequest *r)
{
  gint w, h, fps;

  tcd_pipeline_get_format (r->ctx->pipeline, &w, &h, &fps);
  onvif_open (r, "trt:GetVideoSourceConfigurationOptionsResponse");
  onvif_open (r, "trt:Options");
  onvif_raw (r, "<tt:BoundsRange><tt:XRange><tt:Min>0</tt:Min><tt:Max>0</tt:Max></tt:XRange>"
      "<tt:YRange><tt:Min>0</tt:Min><tt:Max>0</tt:Max></tt:YRange>"
      "<tt:WidthRange><tt:Min>%d</tt:Min><tt:Max>%d</tt:Max></tt:WidthRange>"
      "<tt:HeightRange><tt:Min>%d</tt:Min><tt:Max>%d</tt:Max></tt:HeightRange>"
      "</tt:BoundsRange><tt:VideoSourceTokensAvailable>video_source"
      "</tt:VideoSourceTokensAvailable>", w, w, h, h);
  onvif_close (r, "trt:Options");
  onvif_close (r, "trt:GetVideoSourceConfigurationOptionsResponse");
  return TRUE;
}

/* ---- encoders ---- */

static void
encoder_config (OnvifRequest *r, const Stream *s, const gchar *tag)
{
  JsonObject *o = stream_settings (r, s);
  gint w, h;

  parse_resolution (tc_json_get_string (o, "resolution", ""), &w, &h);
  onvif_open_attrs (r, tag, "token=\"%s\"", s->encoder);
  onvif_elem (r, "tt:Name", s->name);
  onvif_elem (r, "tt:UseCount", "1");
  onvif_elem (r, "tt:Encoding", "H264");
  onvif_raw (r, "<tt:Resolution><tt:Width>%d</tt:Width><tt:Height>%d</tt:Height>"
      "</tt:Resolution>", w, h);
  onvif_elemf (r, "tt:Quality", "%d", quality_index (tc_json_get_string (o, "quality", "")));
  onvif_raw (r, "<tt:RateControl><tt:FrameRateLimit>%" G_GINT64_FORMAT "</tt:FrameRateLimit>"
      "<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>%" G_GINT64_FORMAT
      "</tt:BitrateLimit></tt:RateControl>", tc_json_get_int (o, "frame_rate", 25),
      tc_json_get_int (o, "max_bitrate", 2048));
  onvif_raw (r, "<tt:H264><tt:GovLength>%" G_GINT64_FORMAT "</tt:GovLength>"
      "<tt:H264Profile>%s</tt:H264Profile></tt:H264>", tc_json_get_int (o, "iframe_interval", 50),
      h264_profile_name (tc_json_get_string (o, "profile", "main")));
  onvif_raw (r, "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0"
      "</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL>"
      "<tt:AutoStart>false</tt:AutoStart></tt:Multicast>");
  onvif_elem (r, "tt:SessionTimeout", "PT60S");
  onvif_close (r, tag);
}

static gboolean
get_video_encoder_configurations (OnvifRequest *r)
{
  onvif_open (r, "trt:GetVideoEncoderConfigurationsResponse");
  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    encoder_config (r, &streams[i], "trt:Configurations");
  onvif_close (r, "trt:GetVideoEncoderConfigurationsResponse");
  return TRUE;
}

static gboolean
get_compatible_video_encoder_configurations (OnvifRequest *r)
{
  const Stream *s = profile_arg (r);

  if (!s)
    return FALSE;
  onvif_open (r, "trt:GetCompatibleVideoEncoderConfigurationsResponse");
  encoder_config (r, s, "trt:Configurations");
  onvif_close (r, "trt:GetCompatibleVideoEncoderConfigurationsResponse");
  return TRUE;
}

static gboolean
get_video_encoder_configuration (OnvifRequest *r)
{
  g_autofree gchar *token = onvif_child_text (r->op, "ConfigurationToken");
  const Stream *s = stream_by_encoder (token);

  if (!s)
    return onvif_invalid_arg (r, "ter:NoConfig", "no encoder configuration %s "
        "(encoder_main, encoder_sub)", token ? token : "(none)");
  onvif_open (r, "trt:GetVideoEncoderConfigurationResponse");
  encoder_config (r, s, "trt:Configuration");
  onvif_close (r, "trt:GetVideoEncoderConfigurationResponse");
  return TRUE;
}

/* the resolutions a stream may have: the sensor's and below */
static void
resolutions_available (OnvifRequest *r)
{
  gint sw, sh, fps;

  tcd_pipeline_get_format (r->ctx->pipeline, &sw, &sh, &fps);
  for (guint i = 0; resolutions[i]; i++) {
    gint w, h;
    parse_resolution (resolutions[i], &w, &h);
    if (w <= sw && h <= sh)
      onvif_raw (r, "<tt:ResolutionsAvailable><tt:Width>%d</tt:Width><tt:Height>%d</tt:Height>"
          "</tt:ResolutionsAvailable>", w, h);
  }
}

static gboolean
get_video_encoder_configuration_options (OnvifRequest *r)
{
  g_autofree gchar *token = onvif_child_text (r->op, "ConfigurationToken");
  g_autofree gchar *profile = onvif_child_text (r->op, "ProfileToken");
  gint w, h, fps;

  if ((token && !stream_by_encoder (token)) || (profile && !stream_by_profile (profile)))
    return onvif_invalid_arg (r, "ter:NoConfig", "no such configuration or profile");
  tcd_pipeline_get_format (r->ctx->pipeline, &w, &h, &fps);
  onvif_open (r, "trt:GetVideoEncoderConfigurationOptionsResponse");
  onvif_open (r, "trt:Options");
  onvif_raw (r, "<tt:QualityRange><tt:Min>0</tt:Min><tt:Max>5</tt:Max></tt:QualityRange>");
  onvif_open (r, "tt:H264");
  resolutions_available (r);
  onvif_raw (r, "<tt:GovLengthRange><tt:Min>1</tt:Min><tt:Max>400</tt:Max></tt:GovLengthRange>"
      "<tt:FrameRateRange><tt:Min>1</tt:Min><tt:Max>%d</tt:Max></tt:FrameRateRange>"
      "<tt:EncodingIntervalRange><tt:Min>1</tt:Min><tt:Max>1</tt:Max></tt:EncodingIntervalRange>"
      "<tt:H264ProfilesSupported>Baseline</tt:H264ProfilesSupported>"
      "<tt:H264ProfilesSupported>Main</tt:H264ProfilesSupported>"
      "<tt:H264ProfilesSupported>High</tt:H264ProfilesSupported>", MAX (fps, 1));
  onvif_close (r, "tt:H264");
  onvif_open (r, "tt:Extension");
  onvif_open (r, "tt:H264");
  resolutions_available (r);
  onvif_raw (r, "<tt:GovLengthRange><tt:Min>1</tt:Min><tt:Max>400</tt:Max></tt:GovLengthRange>"
      "<tt:FrameRateRange><tt:Min>1</tt:Min><tt:Max>%d</tt:Max></tt:FrameRateRange>"
      "<tt:EncodingIntervalRange><tt:Min>1</tt:Min><tt:Max>1</tt:Max></tt:EncodingIntervalRange>"
      "<tt:H264ProfilesSupported>Baseline</tt:H264ProfilesSupported>"
      "<tt:H264ProfilesSupported>Main</tt:H264ProfilesSupported>"
      "<tt:H264ProfilesSupported>High</tt:H264ProfilesSupported>"
      "<tt:BitrateRange><tt:Min>32</tt:Min><tt:Max>16384</tt:Max></tt:BitrateRange>",
      MAX (fps, 1));
  onvif_close (r, "tt:H264");
  onvif_close (r, "tt:Extension");
  onvif_close (r, "trt:Options");
  onvif_close (r, "trt:GetVideoEncoderConfigurationOptionsResponse");
  return TRUE;
}

/* the patch of video.STREAM an encoder configuration element asks for;
 * NULL with the fault set */
static JsonNode *
encoder_patch (OnvifRequest *r, xmlNodePtr c, const Stream *s, gboolean v2)
{
  g_autoptr (JsonNode) patch = onvif_object_new ();
  JsonObject *p = json_node_get_object (patch);
  g_autofree gchar *encoding = onvif_child_text (c, "Encoding");
  xmlNodePtr res = onvif_child (c, "Resolution");
  xmlNodePtr rate = onvif_child (c, "RateControl");
  gint64 w = 0, h = 0, v = 0;
  gdouble q = 0;
  gboolean found = FALSE, fw = FALSE, fh = FALSE;
  g_autofree gchar *prof = NULL;

  if (encoding && g_ascii_strcasecmp (encoding, "H264") != 0)
    return onvif_invalid_arg (r, "ter:ConfigModify", "Encoding: only H264"), NULL;
  if (res) {
    if (!onvif_child_int (r, res, "Width", 1, 10000, &w, &fw)
        || !onvif_child_int (r, res, "Height", 1, 10000, &h, &fh))
      return NULL;
    if (fw && fh) {
      g_autofree gchar *text = g_strdup_printf ("%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT, w, h);
      if (!g_strv_contains (resolutions, text))
        return onvif_invalid_arg (r, "ter:ConfigModify", "Resolution %s: not one of the "
            "options", text), NULL;
      json_object_set_string_member (p, "resolution", text);
    }
  }
  if (!onvif_child_double (r, c, "Quality", &q, &found))
    return NULL;
  if (found) {
    gint i = (gint) lround (q);
    if (i < 0 || i > 5)
      return onvif_invalid_arg (r, "ter:ConfigModify", "Quality: 0 to 5"), NULL;
    json_object_set_string_member (p, "quality", qualities[i]);
  }
  if (rate) {
    if (!onvif_child_int (r, rate, "FrameRateLimit", 1, 1000, &v, &found))
      return NULL;
    if (found)
      json_object_set_int_member (p, "frame_rate", v);
    if (!onvif_child_int (r, rate, "BitrateLimit", 1, 1000000, &v, &found))
      return NULL;
    if (found)
      json_object_set_int_member (p, "max_bitrate", v);
    if (v2) {
      g_autofree gchar *cbr = onvif_attr (rate, "ConstantBitRate");
      if (cbr)
        json_object_set_string_member (p, "bitrate_type",
            g_str_equal (cbr, "true") || g_str_equal (cbr, "1") ? "cbr" : "vbr");
    }
  }
  if (v2) {
    g_autofree gchar *gov = onvif_attr (c, "GovLength");
    prof = onvif_attr (c, "Profile");
    if (gov) {
      if (!g_ascii_string_to_signed (gov, 10, 1, 400, &v, NULL))
        return onvif_invalid_arg (r, "ter:ConfigModify", "GovLength: 1 to 400"), NULL;
      json_object_set_int_member (p, "iframe_interval", v);
    }
  } else {
    xmlNodePtr h264 = onvif_child (c, "H264");
    if (!onvif_child_int (r, h264, "GovLength", 1, 400, &v, &found))
      return NULL;
    if (found)
      json_object_set_int_member (p, "iframe_interval", v);
    prof = onvif_child_text (h264, "H264Profile");
  }
  if (prof) {
    if (!g_str_equal (prof, "Baseline") && !g_str_equal (prof, "Main")
        && !g_str_equal (prof, "High"))
      return onvif_invalid_arg (r, "ter:ConfigModify", "H264 profile %s: Baseline, Main or "
          "High", prof), NULL;
    json_object_set_string_member (p, "profile", g_ascii_strdown (prof, -1));
  }
  {
    JsonNode *wrap = onvif_object_new ();
    json_object_set_member (json_node_get_object (wrap), s->stream, g_steal_pointer (&patch));
    return wrap;
  }
}

static gboolean
set_video_encoder_configuration (OnvifRequest *r)
{
  xmlNodePtr c = onvif_child (r->op, "Configuration");
  g_autofree gchar *token = onvif_attr (c, "token");
  const Stream *s = stream_by_encoder (token);
  JsonNode *patch;

  if (!s)
    return onvif_invalid_arg (r, "ter:NoConfig", "no encoder configuration %s",
        token ? token : "(none)");
  if (!(patch = encoder_patch (r, c, s, FALSE)) || !onvif_change (r, "video", patch))
    return FALSE;
  onvif_empty (r, "trt:SetVideoEncoderConfigurationResponse");
  return TRUE;
}

/* ---- profiles ---- */

static void
profile (OnvifRequest *r, const Stream *s, const gchar *tag)
{
  onvif_open_attrs (r, tag, "token=\"%s\" fixed=\"true\"", s->profile);
  onvif_elem (r, "tt:Name", s->name);
  video_source_config (r, "tt:VideoSourceConfiguration");
  encoder_config (r, s, "tt:VideoEncoderConfiguration");
  /* where the analytics service is there: the configuration its modules
   * and rules belong to (GetAnalyticsModules, GetRules take its token) */
  if (onvif_service_by_ns (ONVIF_NS_TAN))
    onvif_raw (r, "<tt:VideoAnalyticsConfiguration token=\"video_analytics\">"
        "<tt:Name>Radiometry</tt:Name><tt:UseCount>2</tt:UseCount>"
        "<tt:AnalyticsEngineConfiguration/><tt:RuleEngineConfiguration/>"
        "</tt:VideoAnalyticsConfiguration>");
  onvif_close (r, tag);
}

static gboolean
get_profiles (OnvifRequest *r)
{
  onvif_open (r, "trt:GetProfilesResponse");
  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    profile (r, &streams[i], "trt:Profiles");
  onvif_close (r, "trt:GetProfilesResponse");
  return TRUE;
}

static gboolean
get_profile (OnvifRequest *r)
{
  const Stream *s = profile_arg (r);

  if (!s)
    return FALSE;
  onvif_open (r, "trt:GetProfileResponse");
  profile (r, s, "trt:Profile");
  onvif_close (r, "trt:GetProfileResponse");
  return TRUE;
}

/* ---- addresses ---- */

static gchar *
stream_uri (OnvifRequest *r, const Stream *s)
{
  g_autofree gchar *host = onvif_request_host (r);
  guint port = tcd_services_port (r->ctx->services, "rtsp");

  return g_strdup_printf ("rtsp://%s:%u%s", host, port, s->path);
}

static gchar *
snapshot_uri (OnvifRequest *r, const Stream *s)
{
  return g_strdup_printf ("%s://%s/onvif/snapshot?profile=%s", r->tls ? "https" : "http",
      r->host, s->profile);
}

static void
media_uri (OnvifRequest *r, const gchar *uri)
{
  onvif_open (r, "trt:MediaUri");
  onvif_elem (r, "tt:Uri", uri);
  onvif_elem (r, "tt:InvalidAfterConnect", "false");
  onvif_elem (r, "tt:InvalidAfterReboot", "false");
  onvif_elem (r, "tt:Timeout", "PT0S");
  onvif_close (r, "trt:MediaUri");
}

static gboolean
get_stream_uri (OnvifRequest *r)
{
  const Stream *s = profile_arg (r);
  xmlNodePtr setup = onvif_child (r->op, "StreamSetup");
  g_autofree gchar *kind = onvif_child_text (setup, "Stream");
  g_autofree gchar *proto = onvif_child_text (onvif_child (setup, "Transport"), "Protocol");
  g_autofree gchar *uri = NULL;

  if (!s)
    return FALSE;
  if (kind && !g_str_equal (kind, "RTP-Unicast"))
    return onvif_invalid_arg (r, "ter:InvalidStreamSetup", "Stream %s: RTP-Unicast only", kind);
  /* UDP, TCP (interleaved), RTSP and HTTP (tunnelled) all start at the one
   * RTSP address */
  if (proto && !g_str_equal (proto, "UDP") && !g_str_equal (proto, "TCP")
      && !g_str_equal (proto, "RTSP") && !g_str_equal (proto, "HTTP"))
    return onvif_invalid_arg (r, "ter:InvalidStreamSetup", "Protocol %s: UDP, TCP, RTSP or "
        "HTTP", proto);
  if (!tcd_services_port (r->ctx->services, "rtsp"))
    return onvif_fault (r, TRUE, "ter:Action", NULL, "RTSP is not serving");
  uri = stream_uri (r, s);
  onvif_open (r, "trt:GetStreamUriResponse");
  media_uri (r, uri);
  onvif_close (r, "trt:GetStreamUriResponse");
  return TRUE;
}

static gboolean
get_snapshot_uri (OnvifRequest *r)
{
  const Stream *s = profile_arg (r);
  g_autofree gchar *uri = NULL;

  if (!s)
    return FALSE;
  uri = snapshot_uri (r, s);
  onvif_open (r, "trt:GetSnapshotUriResponse");
  media_uri (r, uri);
  onvif_close (r, "trt:GetSnapshotUriResponse");
  return TRUE;
}

/* no audio on this camera: empty lists */
static gboolean
get_audio_sources (OnvifRequest *r)
{
  onvif_empty (r, "trt:GetAudioSourcesResponse");
  return TRUE;
}

static void
media_capabilities (OnvifRequest *r)
{
  onvif_raw (r, "<trt:Capabilities SnapshotUri=\"true\" Rotation=\"false\" "
      "VideoSourceMode=\"false\" OSD=\"false\" EXICompression=\"false\">"
      "<trt:ProfileCapabilities MaximumNumberOfProfiles=\"2\"/>"
      "<trt:StreamingCapabilities RTPMulticast=\"false\" RTP_TCP=\"true\" "
      "RTP_RTSP_TCP=\"true\" NonAggregateControl=\"false\" NoRTSPStreaming=\"false\"/>"
      "</trt:Capabilities>");
}

static gboolean
get_service_capabilities (OnvifRequest *r)
{
  onvif_open (r, "trt:GetServiceCapabilitiesResponse");
  media_capabilities (r);
  onvif_close (r, "trt:GetServiceCapabilitiesResponse");
  return TRUE;
}

static const OnvifOperation ops[] = {
  ONVIF_OP ("GetServiceCapabilities", ONVIF_PRE_AUTH, get_service_capabilities),
  ONVIF_OP ("GetProfiles", ONVIF_READ_MEDIA, get_profiles),
  ONVIF_OP ("GetProfile", ONVIF_READ_MEDIA, get_profile),
  ONVIF_OP ("GetVideoSources", ONVIF_READ_MEDIA, get_video_sources),
  ONVIF_OP ("GetVideoSourceConfigurations", ONVIF_READ_MEDIA, get_video_source_configurations),
  ONVIF_OP ("GetVideoSourceConfiguration", ONVIF_READ_MEDIA, get_video_source_configuration),
  ONVIF_OP ("GetCompatibleVideoSourceConfigurations", ONVIF_READ_MEDIA,
      get_compatible_video_source_configurations),
  ONVIF_OP ("GetVideoSourceConfigurationOptions", ONVIF_READ_MEDIA,
      get_video_source_configuration_options),
  ONVIF_OP ("GetVideoEncoderConfigurations", ONVIF_READ_MEDIA, get_video_encoder_configurations),
  ONVIF_OP ("GetVideoEncoderConfiguration", ONVIF_READ_MEDIA, get_video_encoder_configuration),
  ONVIF_OP ("GetCompatibleVideoEncoderConfigurations", ONVIF_READ_MEDIA,
      get_compatible_video_encoder_configurations),
  ONVIF_OP ("GetVideoEncoderConfigurationOptions", ONVIF_READ_MEDIA,
      get_video_encoder_configuration_options),
  ONVIF_OP ("SetVideoEncoderConfiguration", ONVIF_ACTUATE, set_video_encoder_configuration),
  ONVIF_OP ("GetStreamUri", ONVIF_READ_MEDIA, get_stream_uri),
  ONVIF_OP ("GetSnapshotUri", ONVIF_READ_MEDIA, get_snapshot_uri),
  ONVIF_OP ("GetAudioSources", ONVIF_READ_MEDIA, get_audio_sources),
  ONVIF_OPS_END
};

const OnvifService onvif_media_service = {
  .path = "/onvif/media_service",
  .ns = ONVIF_NS_TRT,
  .prefix = "trt",
  .major = 2,
  .minor = 60,
  .ops = ops,
  .capabilities = media_capabilities,
};

/* ---- Media2 ---- */

static void
encoder2_config (OnvifRequest *r, const Stream *s, const gchar *tag)
{
  JsonObject *o = stream_settings (r, s);
  gint w, h;

  parse_resolution (tc_json_get_string (o, "resolution", ""), &w, &h);
  onvif_open_attrs (r, tag, "token=\"%s\" GovLength=\"%" G_GINT64_FORMAT "\" Profile=\"%s\"",
      s->encoder, tc_json_get_int (o, "iframe_interval", 50),
      h264_profile_name (tc_json_get_string (o, "profile", "main")));
  onvif_elem (r, "tt:Name", s->name);
  onvif_elem (r, "tt:UseCount", "1");
  onvif_elem (r, "tt:Encoding", "H264");
  onvif_raw (r, "<tt:Resolution><tt:Width>%d</tt:Width><tt:Height>%d</tt:Height>"
      "</tt:Resolution>", w, h);
  onvif_raw (r, "<tt:RateControl ConstantBitRate=\"%s\"><tt:FrameRateLimit>%" G_GINT64_FORMAT
      "</tt:FrameRateLimit><tt:BitrateLimit>%" G_GINT64_FORMAT "</tt:BitrateLimit>"
      "</tt:RateControl>", g_strcmp0 (tc_json_get_string (o, "bitrate_type", ""), "cbr") == 0
      ? "true" : "false", tc_json_get_int (o, "frame_rate", 25),
      tc_json_get_int (o, "max_bitrate", 2048));
  onvif_elemf (r, "tt:Quality", "%d", quality_index (tc_json_get_string (o, "quality", "")));
  onvif_close (r, tag);
}

static gboolean
get_profiles2 (OnvifRequest *r)
{
  g_autofree gchar *token = onvif_child_text (r->op, "Token");

  if (token && !stream_by_profile (token))
    return onvif_invalid_arg (r, "ter:NoProfile", "no profile %s", token);
  onvif_open (r, "tr2:GetProfilesResponse");
  for (guint i = 0; i < G_N_ELEMENTS (streams); i++) {
    if (token && !g_str_equal (token, streams[i].profile))
      continue;
    onvif_open_attrs (r, "tr2:Profiles", "token=\"%s\" fixed=\"true\"", streams[i].profile);
    onvif_elem (r, "tr2:Name", streams[i].name);
    onvif_open (r, "tr2:Configurations");
    video_source_config (r, "tr2:VideoSource");
    encoder2_config (r, &streams[i], "tr2:VideoEncoder");
    onvif_close (r, "tr2:Configurations");
    onvif_close (r, "tr2:Profiles");
  }
  onvif_close (r, "tr2:GetProfilesResponse");
  return TRUE;
}

static gboolean
get_video_encoder_configurations2 (OnvifRequest *r)
{
  g_autofree gchar *token = onvif_child_text (r->op, "ConfigurationToken");

  if (token && !stream_by_encoder (token))
    return onvif_invalid_arg (r, "ter:NoConfig", "no encoder configuration %s", token);
  onvif_open (r, "tr2:GetVideoEncoderConfigurationsResponse");
  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    if (!token || g_str_equal (token, streams[i].encoder))
      encoder2_config (r, &streams[i], "tr2:Configurations");
  onvif_close (r, "tr2:GetVideoEncoderConfigurationsResponse");
  return TRUE;
}

static gboolean
set_video_encoder_configuration2 (OnvifRequest *r)
{
  xmlNodePtr c = onvif_child (r->op, "Configuration");
  g_autofree gchar *token = onvif_attr (c, "token");
  const Stream *s = stream_by_encoder (token);
  JsonNode *patch;

  if (!s)
    return onvif_invalid_arg (r, "ter:NoConfig", "no encoder configuration %s",
        token ? token : "(none)");
  if (!(patch = encoder_patch (r, c, s, TRUE)) || !onvif_change (r, "video", patch))
    return FALSE;
  onvif_empty (r, "tr2:SetVideoEncoderConfigurationResponse");
  return TRUE;
}

static gboolean
get_video_sources2 (OnvifRequest *r)
{
  onvif_open (r, "tr2:GetVideoSourceConfigurationsResponse");
  video_source_config (r, "tr2:Configurations");
  onvif_close (r, "tr2:GetVideoSourceConfigurationsResponse");
  return TRUE;
}

static gboolean
get_stream_uri2 (OnvifRequest *r)
{
  g_autofree gchar *token = onvif_child_text (r->op, "ProfileToken");
  g_autofree gchar *proto = onvif_child_text (r->op, "Protocol");
  const Stream *s = stream_by_profile (token);
  g_autofree gchar *uri = NULL;

  if (!s)
    return onvif_invalid_arg (r, "ter:NoProfile", "no profile %s", token ? token : "(none)");
  if (proto && !g_str_equal (proto, "RtspUnicast") && !g_str_equal (proto, "RTSP")
      && !g_str_equal (proto, "RtspOverHttp"))
    return onvif_invalid_arg (r, "ter:InvalidStreamSetup", "Protocol %s: RtspUnicast, RTSP "
        "or RtspOverHttp", proto);
  uri = stream_uri (r, s);
  onvif_open (r, "tr2:GetStreamUriResponse");
  onvif_elem (r, "tr2:Uri", uri);
  onvif_close (r, "tr2:GetStreamUriResponse");
  return TRUE;
}

static gboolean
get_snapshot_uri2 (OnvifRequest *r)
{
  g_autofree gchar *token = onvif_child_text (r->op, "ProfileToken");
  const Stream *s = stream_by_profile (token);
  g_autofree gchar *uri = NULL;

  if (!s)
    return onvif_invalid_arg (r, "ter:NoProfile", "no profile %s", token ? token : "(none)");
  uri = snapshot_uri (r, s);
  onvif_open (r, "tr2:GetSnapshotUriResponse");
  onvif_elem (r, "tr2:Uri", uri);
  onvif_close (r, "tr2:GetSnapshotUriResponse");
  return TRUE;
}

static void
media2_capabilities (OnvifRequest *r)
{
  onvif_raw (r, "<tr2:Capabilities SnapshotUri=\"true\" Rotation=\"false\" "
      "VideoSourceMode=\"false\" OSD=\"false\" Mask=\"false\" SourceMask=\"false\">"
      "<tr2:ProfileCapabilities MaximumNumberOfProfiles=\"2\" "
      "ConfigurationsSupported=\"VideoSource VideoEncoder\"/>"
      "<tr2:StreamingCapabilities RTSPStreaming=\"true\" RTPMulticast=\"false\" "
      "RTP_RTSP_TCP=\"true\" NonAggregateControl=\"false\" AutoStartMulticast=\"false\"/>"
      "</tr2:Capabilities>");
}

static gboolean
get_service_capabilities2 (OnvifRequest *r)
{
  onvif_open (r, "tr2:GetServiceCapabilitiesResponse");
  media2_capabilities (r);
  onvif_close (r, "tr2:GetServiceCapabilitiesResponse");
  return TRUE;
}

static const OnvifOperation ops2[] = {
  ONVIF_OP ("GetServiceCapabilities", ONVIF_PRE_AUTH, get_service_capabilities2),
  ONVIF_OP ("GetProfiles", ONVIF_READ_MEDIA, get_profiles2),
  ONVIF_OP ("GetVideoSourceConfigurations", ONVIF_READ_MEDIA, get_video_sources2),
  ONVIF_OP ("GetVideoEncoderConfigurations", ONVIF_READ_MEDIA,
      get_video_encoder_configurations2),
  ONVIF_OP ("SetVideoEncoderConfiguration", ONVIF_ACTUATE, set_video_encoder_configuration2),
  ONVIF_OP ("GetStreamUri", ONVIF_READ_MEDIA, get_stream_uri2),
  ONVIF_OP ("GetSnapshotUri", ONVIF_READ_MEDIA, get_snapshot_uri2),
  ONVIF_OPS_END
};

const OnvifService onvif_media2_service = {
  .path = "/onvif/media2_service",
  .ns = ONVIF_NS_TR2,
  .prefix = "tr2",
  .major = 2,
  .minor = 60,
  .ops = ops2,
  .capabilities = media2_capabilities,
};

/* ---- the snapshot (GET /onvif/snapshot?profile=...) ---- */

typedef struct {
  SoupServerMessage *msg;
  GstSample *sample;
  gchar *palette;
  GBytes *bytes;
  GError *error;
} Snap;

static void
snap_thread (GTask *task, gpointer source, gpointer data, GCancellable *c)
{
  Snap *j = data;
  j->bytes = tcd_snapshot_encode (j->sample, TCD_SNAPSHOT_JPEG, j->palette, &j->error);
  g_task_return_boolean (task, TRUE);
}

static void
snap_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Snap *j = data;

  if (j->bytes) {
    gsize len;
    gconstpointer d = g_bytes_get_data (j->bytes, &len);
    soup_server_message_set_status (j->msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (j->msg, "image/jpeg", SOUP_MEMORY_COPY, d, len);
  } else {
    send_error (j->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "snapshot_failed", NULL,
        "could not make the picture: %s", j->error ? j->error->message : "unknown");
  }
  soup_server_message_unpause (j->msg);
  g_object_unref (j->msg);
  gst_sample_unref (j->sample);
  g_free (j->palette);
  g_clear_pointer (&j->bytes, g_bytes_unref);
  g_clear_error (&j->error);
  g_free (j);
}

gboolean
onvif_snapshot (OnvifRequest *r, GHashTable *query)
{
  const gchar *p = query ? g_hash_table_lookup (query, "profile") : NULL;
  GstSample *sample;
  Snap *j;
  GTask *task;

  if (p && !stream_by_profile (p))
    return onvif_invalid_arg (r, "ter:NoProfile", "no profile %s", p);
  if (!(sample = tcd_pipeline_get_video (r->ctx->pipeline))) {
    r->http_status = SOUP_STATUS_SERVICE_UNAVAILABLE;
    return onvif_fault (r, TRUE, "ter:Action", NULL, "no frame yet: the sensor is starting");
  }
  j = g_new0 (Snap, 1);
  j->msg = g_object_ref (r->msg);
  j->sample = sample;
  j->palette = g_strdelimit (g_strdup (tcd_config_string (r->ctx->config, "image.palette")),
      "_", '-');
  soup_server_message_pause (r->msg);
  task = g_task_new (NULL, NULL, snap_done, j);
  g_task_set_task_data (task, j, NULL);
  g_task_run_in_thread (task, snap_thread);
  g_object_unref (task);
  return TRUE;
}
