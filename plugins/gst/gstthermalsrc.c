/* thermocam: thermalsrc, a simulated radiometric thermal sensor
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-thermalsrc
 * @title: thermalsrc
 *
 * A simulated microbolometer with real physics, producing raw counts
 * (GRAY16_LE).  A scene of objects at known temperatures (scene=default: a
 * background, a warm and a hot body, one that moves, one that heats up slowly,
 * a cold one; scene=blackbody: one uniform target at blackbody-temperature) is
 * turned into counts with the inverse of the radiometric chain, then given
 * per-pixel gain and offset (fixed-pattern noise), temporal noise at the set
 * NETD, dead and hot pixels, and an offset drift that follows the simulated
 * sensor (FPA) temperature.  A shutter can close (the "shutter" property, or
 * the "thermal-shutter" upstream event thermalnuc sends).  Frame n of a given
 * seed is always the same.
 *
 * It answers the "thermal-calibration" query (and has a "calibration"
 * property) with its factory calibration: Planck constants, gain/offset
 * tables, bad pixel list.  Every frame carries a #GstThermalMeta with the
 * calibration, the FPA temperature and the shutter state.  For tests, the
 * "true-temperature" action signal gives the scene's true temperature at a
 * pixel and time, and "scene-defects" injects pixels that read hot in the
 * scene but normally on the closed shutter (a responsivity defect: no
 * flat-field correction finds it, an operator corrects it by hand, manual
 * DPC).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 thermalsrc ! video/x-raw,width=384,height=288,framerate=30/1 ! thermalnuc ! thermalradiometry ! thermalpalette palette=ironbow ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstthermalsrc.h"
#include "gstthermalmeta.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_thermal_src_debug);
#define GST_CAT_DEFAULT gst_thermal_src_debug

#define DEFAULT_PROP_SCENE TC_SCENE_DEFAULT
#define DEFAULT_PROP_BLACKBODY 35.0
#define DEFAULT_PROP_SEED 1
#define DEFAULT_PROP_IS_LIVE FALSE
#define DEFAULT_PROP_NETD 0.04
#define DEFAULT_PROP_FPA_TEMPERATURE 30.0
#define DEFAULT_PROP_FPA_DRIFT 4.0
#define DEFAULT_PROP_FPA_TAU 600.0
#define DEFAULT_PROP_FPN 1.0
#define DEFAULT_PROP_DEAD_PIXELS 12
#define DEFAULT_PROP_HOT_PIXELS 8
#define DEFAULT_PROP_NEW_DEFECTS 4

enum
{
  PROP_0,
  PROP_SCENE,
  PROP_BLACKBODY,
  PROP_SEED,
  PROP_IS_LIVE,
  PROP_NETD,
  PROP_FPA_TEMPERATURE,
  PROP_FPA_DRIFT,
  PROP_FPA_TAU,
  PROP_FPN,
  PROP_DEAD_PIXELS,
  PROP_HOT_PIXELS,
  PROP_NEW_DEFECTS,
  PROP_SHUTTER,
  PROP_EMISSIVITY,
  PROP_DISTANCE,
  PROP_REFLECTED,
  PROP_ATMOSPHERIC,
  PROP_HUMIDITY,
  PROP_WINDOW_TEMP,
  PROP_WINDOW_TRANSMISSION,
  PROP_CALIBRATION,
  PROP_CURRENT_FPA,
  PROP_DEFECT_LIST,
  PROP_SCENE_DEFECTS,
};

enum
{
  SIGNAL_TRUE_TEMPERATURE,
  LAST_SIGNAL
};

static guint gst_thermal_src_signals[LAST_SIGNAL] = { 0 };

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw, format=(string)GRAY16_LE, "
        "width=(int)[16, 8192], height=(int)[16, 8192], "
        "framerate=(fraction)[1/1, 60/1]"));

#define GST_TYPE_THERMAL_SRC_SCENE (gst_thermal_src_scene_get_type ())
static GType
gst_thermal_src_scene_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {TC_SCENE_DEFAULT, "Background, warm, hot, moving, heating and cold "
          "objects", "default"},
    {TC_SCENE_BLACKBODY, "One uniform target at blackbody-temperature",
        "blackbody"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstThermalSrcScene",
            values));
  return type;
}

#define gst_thermal_src_parent_class parent_class
G_DEFINE_TYPE (GstThermalSrc, gst_thermal_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (thermalsrc, "thermalsrc", GST_RANK_NONE,
    GST_TYPE_THERMAL_SRC);

static GstCaps *
gst_thermal_src_fixate (GstBaseSrc * bsrc, GstCaps * caps)
{
  GstStructure *s;

  caps = gst_caps_make_writable (caps);
  caps = gst_caps_truncate (caps);
  s = gst_caps_get_structure (caps, 0);
  gst_structure_fixate_field_nearest_int (s, "width", 640);
  gst_structure_fixate_field_nearest_int (s, "height", 512);
  gst_structure_fixate_field_nearest_fraction (s, "framerate", 25, 1);
  return GST_BASE_SRC_CLASS (parent_class)->fixate (bsrc, caps);
}

static gboolean
gst_thermal_src_set_caps (GstBaseSrc * bsrc, GstCaps * caps)
{
  GstThermalSrc *self = GST_THERMAL_SRC (bsrc);
  GstVideoInfo info;
  TcSim *sim, *old;
  TcSimConfig cfg;

  if (!gst_video_info_from_caps (&info, caps) ||
      GST_VIDEO_INFO_FPS_N (&info) <= 0) {
    GST_ERROR_OBJECT (self, "unusable caps %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  cfg = self->cfg;
  GST_OBJECT_UNLOCK (self);
  cfg.width = GST_VIDEO_INFO_WIDTH (&info);
  cfg.height = GST_VIDEO_INFO_HEIGHT (&info);
  sim = tc_sim_new (&cfg);
  if (!sim) {
    GST_ERROR_OBJECT (self, "cannot simulate %dx%d", cfg.width, cfg.height);
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  old = self->sim;
  self->sim = sim;
  self->info = info;
  self->cfg_changed = FALSE;
  GST_OBJECT_UNLOCK (self);
  if (old)
    tc_sim_free (old);
  gst_base_src_set_blocksize (bsrc, GST_VIDEO_INFO_SIZE (&info));
  GST_INFO_OBJECT (self, "simulating %dx%d at %d/%d fps, seed %" G_GUINT64_FORMAT,
      cfg.width, cfg.height, GST_VIDEO_INFO_FPS_N (&info),
      GST_VIDEO_INFO_FPS_D (&info), cfg.seed);
  return TRUE;
}

/* with the object lock */
static GstStructure *
gst_thermal_src_calibration_locked (GstThermalSrc * self)
{
  const float *gain, *offset;
  const guint32 *bad;
  gsize n_bad = 0;
  const TcSimConfig *cfg;

  if (!self->sim)
    return NULL;
  cfg = tc_sim_get_config (self->sim);
  gain = tc_sim_factory_gain (self->sim);
  offset = tc_sim_factory_offset (self->sim);
  bad = tc_sim_factory_bad_pixels (self->sim, &n_bad);
  return gst_thermal_calibration_structure_new (&cfg->cal, cfg->width,
      cfg->height, gain, offset, bad, n_bad);
}

static gboolean
gst_thermal_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  GstThermalSrc *self = GST_THERMAL_SRC (bsrc);

  if (gst_thermal_query_is_calibration (query)) {
    GstStructure *cal;

    GST_OBJECT_LOCK (self);
    cal = gst_thermal_src_calibration_locked (self);
    GST_OBJECT_UNLOCK (self);
    return gst_thermal_query_set_calibration (query, cal);
  }
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    /* live, a frame is ready one frame duration after it began */
    if (gst_base_src_is_live (bsrc) && GST_VIDEO_INFO_FPS_N (&self->info) > 0) {
      GstClockTime latency = gst_util_uint64_scale (GST_SECOND,
          GST_VIDEO_INFO_FPS_D (&self->info), GST_VIDEO_INFO_FPS_N (&self->info));

      gst_query_set_latency (query, TRUE, latency, latency);
      return TRUE;
    }
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (bsrc, query);
}

static gboolean
gst_thermal_src_event (GstBaseSrc * bsrc, GstEvent * event)
{
  GstThermalSrc *self = GST_THERMAL_SRC (bsrc);
  gboolean closed;

  if (gst_thermal_event_parse_shutter (event, &closed)) {
    GST_DEBUG_OBJECT (self, "shutter %s", closed ? "closes" : "opens");
    GST_OBJECT_LOCK (self);
    self->shutter_closed = closed;
    GST_OBJECT_UNLOCK (self);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->event (bsrc, event);
}

static void
gst_thermal_src_get_times (GstBaseSrc * bsrc, GstBuffer * buffer,
    GstClockTime * start, GstClockTime * end)
{
  /* a live source waits for each frame's time */
  if (gst_base_src_is_live (bsrc)) {
    GstClockTime ts = GST_BUFFER_PTS (buffer);

    if (GST_CLOCK_TIME_IS_VALID (ts)) {
      GstClockTime dur = GST_BUFFER_DURATION (buffer);

      *start = ts;
      if (GST_CLOCK_TIME_IS_VALID (dur))
        *end = ts + dur;
    }
  } else {
    *start = GST_CLOCK_TIME_NONE;
    *end = GST_CLOCK_TIME_NONE;
  }
}

static GstFlowReturn
gst_thermal_src_fill (GstPushSrc * psrc, GstBuffer * buffer)
{
  GstThermalSrc *self = GST_THERMAL_SRC (psrc);
  GstVideoFrame frame;
  GstThermalMeta *meta;
  gint fps_n = GST_VIDEO_INFO_FPS_N (&self->info);
  gint fps_d = GST_VIDEO_INFO_FPS_D (&self->info);
  GstClockTime pts, next;
  gboolean closed;
  gdouble t, fpa;
  guint16 scene_xy[GST_THERMAL_SRC_MAX_SCENE_DEFECTS][2];
  guint n_scene, i;

  if (G_UNLIKELY (!self->sim))
    return GST_FLOW_NOT_NEGOTIATED;

  t = (gdouble) self->n_frames * fps_d / fps_n;
  GST_OBJECT_LOCK (self);
  if (self->cfg_changed) {
    tc_sim_update (self->sim, &self->cfg);
    self->cfg_changed = FALSE;
  }
  closed = self->shutter_closed;
  n_scene = closed ? 0 : self->n_scene_defects;
  memcpy (scene_xy, self->scene_defect_xy, n_scene * sizeof (scene_xy[0]));
  GST_OBJECT_UNLOCK (self);

  if (!gst_video_frame_map (&frame, &self->info, buffer, GST_MAP_WRITE)) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, (NULL),
        ("could not map the output buffer"));
    return GST_FLOW_ERROR;
  }
  tc_sim_render (self->sim, self->n_frames, t, closed,
      GST_VIDEO_FRAME_PLANE_DATA (&frame, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0));
  for (i = 0; i < n_scene; i++) {
    guint x = scene_xy[i][0], y = scene_xy[i][1];

    if (x < (guint) GST_VIDEO_FRAME_WIDTH (&frame) &&
        y < (guint) GST_VIDEO_FRAME_HEIGHT (&frame)) {
      guint16 *px = (guint16 *) ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame,
              0) + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0)) + x;

      *px = (guint16) MIN (65535, *px + GST_THERMAL_SRC_SCENE_DEFECT_COUNTS);
    }
  }
  gst_video_frame_unmap (&frame);
  fpa = tc_sim_fpa_temperature (self->sim, t);

  meta = gst_buffer_add_thermal_meta (buffer);
  meta->kind = GST_THERMAL_FRAME_RAW;
  meta->has_calibration = TRUE;
  meta->calibration = tc_sim_get_config (self->sim)->cal;
  meta->fpa_temperature = fpa;
  meta->shutter_closed = closed;

  pts = gst_util_uint64_scale (self->n_frames, fps_d * GST_SECOND, fps_n);
  next = gst_util_uint64_scale (self->n_frames + 1, fps_d * GST_SECOND, fps_n);
  GST_BUFFER_PTS (buffer) = self->running_time + pts;
  GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buffer) = next - pts;
  GST_BUFFER_OFFSET (buffer) = self->n_frames;
  GST_BUFFER_OFFSET_END (buffer) = self->n_frames + 1;
  self->n_frames++;
  return GST_FLOW_OK;
}

static gboolean
gst_thermal_src_start (GstBaseSrc * bsrc)
{
  GstThermalSrc *self = GST_THERMAL_SRC (bsrc);

  self->n_frames = 0;
  self->running_time = 0;
  GST_OBJECT_LOCK (self);
  self->shutter_closed = FALSE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_thermal_src_stop (GstBaseSrc * bsrc)
{
  GstThermalSrc *self = GST_THERMAL_SRC (bsrc);
  TcSim *sim;

  GST_OBJECT_LOCK (self);
  sim = self->sim;
  self->sim = NULL;
  GST_OBJECT_UNLOCK (self);
  if (sim)
    tc_sim_free (sim);
  return TRUE;
}

static gdouble
gst_thermal_src_true_temperature (GstThermalSrc * self, guint x, guint y,
    guint64 timestamp)
{
  gdouble t = (gdouble) timestamp / GST_SECOND;
  gdouble v = NAN;

  GST_OBJECT_LOCK (self);
  if (self->sim) {
    const TcSimConfig *cfg = tc_sim_get_config (self->sim);

    if (x < (guint) cfg->width && y < (guint) cfg->height)
      v = tc_sim_true_temperature (self->sim, t, (int) x, (int) y);
  }
  GST_OBJECT_UNLOCK (self);
  return v;
}

/* "x,y;x,y" (at most GST_THERMAL_SRC_MAX_SCENE_DEFECTS, each 0-8191) into
 * @xy; FALSE when malformed */
static gboolean
parse_scene_defects (const gchar * str, guint16 xy[][2], guint * n)
{
  g_auto (GStrv) items = g_strsplit_set (str ? str : "", "; ", -1);
  guint i, k = 0;

  for (i = 0; items[i]; i++) {
    guint64 x, y;
    gchar *end;

    if (!*items[i])
      continue;
    if (k >= GST_THERMAL_SRC_MAX_SCENE_DEFECTS)
      return FALSE;
    x = g_ascii_strtoull (items[i], &end, 10);
    if (end == items[i] || *end != ',' || x > 8191)
      return FALSE;
    y = g_ascii_strtoull (end + 1, &end, 10);
    if (*end != '\0' || y > 8191 || end == strchr (items[i], ',') + 1)
      return FALSE;
    xy[k][0] = (guint16) x;
    xy[k][1] = (guint16) y;
    k++;
  }
  *n = k;
  return TRUE;
}

static void
gst_thermal_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstThermalSrc *self = GST_THERMAL_SRC (object);
  gboolean live = FALSE, set_live = FALSE;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SCENE:
      self->cfg.scene = g_value_get_enum (value);
      break;
    case PROP_BLACKBODY:
      self->cfg.blackbody_temp = g_value_get_double (value);
      break;
    case PROP_SEED:
      self->cfg.seed = g_value_get_uint64 (value);
      break;
    case PROP_IS_LIVE:
      live = g_value_get_boolean (value);
      set_live = TRUE;
      break;
    case PROP_NETD:
      self->cfg.netd = g_value_get_double (value);
      break;
    case PROP_FPA_TEMPERATURE:
      self->cfg.fpa_start = g_value_get_double (value);
      break;
    case PROP_FPA_DRIFT:
      self->cfg.fpa_drift = g_value_get_double (value);
      break;
    case PROP_FPA_TAU:
      self->cfg.fpa_tau = g_value_get_double (value);
      break;
    case PROP_FPN:
      self->cfg.fpn = g_value_get_double (value);
      break;
    case PROP_DEAD_PIXELS:
      self->cfg.dead_pixels = g_value_get_uint (value);
      break;
    case PROP_HOT_PIXELS:
      self->cfg.hot_pixels = g_value_get_uint (value);
      break;
    case PROP_NEW_DEFECTS:
      self->cfg.new_defects = g_value_get_uint (value);
      break;
    case PROP_SHUTTER:
      self->shutter_closed = g_value_get_boolean (value);
      break;
    case PROP_EMISSIVITY:
      self->cfg.obj.emissivity = g_value_get_double (value);
      break;
    case PROP_DISTANCE:
      self->cfg.obj.distance = g_value_get_double (value);
      break;
    case PROP_REFLECTED:
      self->cfg.obj.reflected_temp = g_value_get_double (value);
      break;
    case PROP_ATMOSPHERIC:
      self->cfg.obj.atmospheric_temp = g_value_get_double (value);
      break;
    case PROP_HUMIDITY:
      self->cfg.obj.relative_humidity = g_value_get_double (value);
      break;
    case PROP_WINDOW_TEMP:
      self->cfg.obj.window_temp = g_value_get_double (value);
      break;
    case PROP_WINDOW_TRANSMISSION:
      self->cfg.obj.window_transmission = g_value_get_double (value);
      break;
    case PROP_SCENE_DEFECTS:{
      const gchar *str = g_value_get_string (value);
      guint16 xy[GST_THERMAL_SRC_MAX_SCENE_DEFECTS][2];
      guint n = 0;

      if (!parse_scene_defects (str, xy, &n)) {
        GST_WARNING_OBJECT (self, "scene-defects \"%s\" is not at most %d "
            "x,y pairs separated by ';': kept \"%s\"", str,
            GST_THERMAL_SRC_MAX_SCENE_DEFECTS, GST_STR_NULL (self->scene_defects));
        break;
      }
      memcpy (self->scene_defect_xy, xy, sizeof (xy));
      self->n_scene_defects = n;
      g_free (self->scene_defects);
      self->scene_defects = g_strdup (str);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  self->cfg_changed = TRUE;
  GST_OBJECT_UNLOCK (self);

  if (set_live)
    gst_base_src_set_live (GST_BASE_SRC (self), live);
}

static void
gst_thermal_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstThermalSrc *self = GST_THERMAL_SRC (object);

  if (prop_id == PROP_IS_LIVE) {
    g_value_set_boolean (value, gst_base_src_is_live (GST_BASE_SRC (self)));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SCENE:
      g_value_set_enum (value, self->cfg.scene);
      break;
    case PROP_BLACKBODY:
      g_value_set_double (value, self->cfg.blackbody_temp);
      break;
    case PROP_SEED:
      g_value_set_uint64 (value, self->cfg.seed);
      break;
    case PROP_NETD:
      g_value_set_double (value, self->cfg.netd);
      break;
    case PROP_FPA_TEMPERATURE:
      g_value_set_double (value, self->cfg.fpa_start);
      break;
    case PROP_FPA_DRIFT:
      g_value_set_double (value, self->cfg.fpa_drift);
      break;
    case PROP_FPA_TAU:
      g_value_set_double (value, self->cfg.fpa_tau);
      break;
    case PROP_FPN:
      g_value_set_double (value, self->cfg.fpn);
      break;
    case PROP_DEAD_PIXELS:
      g_value_set_uint (value, self->cfg.dead_pixels);
      break;
    case PROP_HOT_PIXELS:
      g_value_set_uint (value, self->cfg.hot_pixels);
      break;
    case PROP_NEW_DEFECTS:
      g_value_set_uint (value, self->cfg.new_defects);
      break;
    case PROP_SHUTTER:
      g_value_set_boolean (value, self->shutter_closed);
      break;
    case PROP_EMISSIVITY:
      g_value_set_double (value, self->cfg.obj.emissivity);
      break;
    case PROP_DISTANCE:
      g_value_set_double (value, self->cfg.obj.distance);
      break;
    case PROP_REFLECTED:
      g_value_set_double (value, self->cfg.obj.reflected_temp);
      break;
    case PROP_ATMOSPHERIC:
      g_value_set_double (value, self->cfg.obj.atmospheric_temp);
      break;
    case PROP_HUMIDITY:
      g_value_set_double (value, self->cfg.obj.relative_humidity);
      break;
    case PROP_WINDOW_TEMP:
      g_value_set_double (value, self->cfg.obj.window_temp);
      break;
    case PROP_WINDOW_TRANSMISSION:
      g_value_set_double (value, self->cfg.obj.window_transmission);
      break;
    case PROP_CALIBRATION:
      g_value_take_boxed (value, gst_thermal_src_calibration_locked (self));
      break;
    case PROP_DEFECT_LIST:
      if (self->sim) {
        gsize n = 0, i;
        const guint32 *d = tc_sim_defects (self->sim, &n);
        gint w = tc_sim_get_config (self->sim)->width;
        GString *str = g_string_new (NULL);

        for (i = 0; i < n; i++)
          g_string_append_printf (str, "%s%u,%u", i ? ";" : "", d[i] % w,
              d[i] / w);
        g_value_take_string (value, g_string_free (str, FALSE));
      } else {
        g_value_set_string (value, NULL);
      }
      break;
    case PROP_SCENE_DEFECTS:
      g_value_set_string (value, self->scene_defects);
      break;
    case PROP_CURRENT_FPA:
      g_value_set_double (value, self->sim ?
          tc_sim_fpa_temperature (self->sim, (gdouble) self->n_frames *
              GST_VIDEO_INFO_FPS_D (&self->info) /
              MAX (1, GST_VIDEO_INFO_FPS_N (&self->info))) : NAN);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_src_finalize (GObject * object)
{
  GstThermalSrc *self = GST_THERMAL_SRC (object);

  if (self->sim)
    tc_sim_free (self->sim);
  g_free (self->scene_defects);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_thermal_src_class_init (GstThermalSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *bsrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *psrc_class = GST_PUSH_SRC_CLASS (klass);
  const GParamFlags live = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;
  const GParamFlags ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (gst_thermal_src_debug, "thermalsrc", 0,
      "Simulated thermal sensor");

  gobject_class->set_property = gst_thermal_src_set_property;
  gobject_class->get_property = gst_thermal_src_get_property;
  gobject_class->finalize = gst_thermal_src_finalize;

  g_object_class_install_property (gobject_class, PROP_SCENE,
      g_param_spec_enum ("scene", "Scene", "What the sensor looks at",
          GST_TYPE_THERMAL_SRC_SCENE, DEFAULT_PROP_SCENE, live));
  g_object_class_install_property (gobject_class, PROP_BLACKBODY,
      g_param_spec_double ("blackbody-temperature", "Blackbody temperature",
          "Temperature of the blackbody scene, degrees Celsius", -40.0, 500.0,
          DEFAULT_PROP_BLACKBODY, live));
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed",
          "Seed of the fixed pattern, defects and noise (a number, no unit)", 0, G_MAXUINT64,
          DEFAULT_PROP_SEED, ready));
  g_object_class_install_property (gobject_class, PROP_IS_LIVE,
      g_param_spec_boolean ("is-live", "Is live",
          "Produce frames at the frame rate, as a camera does",
          DEFAULT_PROP_IS_LIVE, ready));
  g_object_class_install_property (gobject_class, PROP_NETD,
      g_param_spec_double ("netd", "NETD",
          "Temporal noise: noise equivalent temperature difference at 30 C, "
          "kelvin", 0.0, 2.0, DEFAULT_PROP_NETD, live));
  g_object_class_install_property (gobject_class, PROP_FPA_TEMPERATURE,
      g_param_spec_double ("fpa-temperature", "FPA temperature",
          "Sensor temperature at start (the factory calibration's), degrees C",
          -40.0, 85.0, DEFAULT_PROP_FPA_TEMPERATURE, ready));
  g_object_class_install_property (gobject_class, PROP_FPA_DRIFT,
      g_param_spec_double ("fpa-drift", "FPA drift",
          "Sensor warm-up in kelvin after start", -20.0, 40.0,
          DEFAULT_PROP_FPA_DRIFT, live));
  g_object_class_install_property (gobject_class, PROP_FPA_TAU,
      g_param_spec_double ("fpa-tau", "FPA time constant",
          "Time constant of the warm-up, seconds (0 = none)", 0.0, 1e6,
          DEFAULT_PROP_FPA_TAU, live));
  g_object_class_install_property (gobject_class, PROP_FPN,
      g_param_spec_double ("fpn", "Fixed pattern",
          "Strength of the per-pixel gain/offset spread (a factor, no unit: 1 = typical, 0 = none)",
          0.0, 4.0, DEFAULT_PROP_FPN, ready));
  g_object_class_install_property (gobject_class, PROP_DEAD_PIXELS,
      g_param_spec_uint ("dead-pixels", "Dead pixels",
          "Pixels stuck low (in the factory list)", 0, 10000,
          DEFAULT_PROP_DEAD_PIXELS, ready));
  g_object_class_install_property (gobject_class, PROP_HOT_PIXELS,
      g_param_spec_uint ("hot-pixels", "Hot pixels",
          "Pixels stuck high (in the factory list)", 0, 10000,
          DEFAULT_PROP_HOT_PIXELS, ready));
  g_object_class_install_property (gobject_class, PROP_NEW_DEFECTS,
      g_param_spec_uint ("new-defects", "New defects",
          "Defective pixels not in the factory list", 0, 10000,
          DEFAULT_PROP_NEW_DEFECTS, ready));
  g_object_class_install_property (gobject_class, PROP_SHUTTER,
      g_param_spec_boolean ("shutter", "Shutter", "The shutter is closed",
          FALSE, live));
  g_object_class_install_property (gobject_class, PROP_EMISSIVITY,
      g_param_spec_double ("emissivity", "Emissivity",
          "True emissivity of the scene (a fraction)", 0.01, 1.0, 0.95, live));
  g_object_class_install_property (gobject_class, PROP_DISTANCE,
      g_param_spec_double ("distance", "Distance",
          "True distance to the scene, metres", 0.0, 10000.0, 1.0, live));
  g_object_class_install_property (gobject_class, PROP_REFLECTED,
      g_param_spec_double ("reflected-temperature", "Reflected temperature",
          "True reflected apparent temperature, degrees C", -100.0, 2000.0,
          20.0, live));
  g_object_class_install_property (gobject_class, PROP_ATMOSPHERIC,
      g_param_spec_double ("atmospheric-temperature",
          "Atmospheric temperature", "True air temperature, degrees C",
          -100.0, 200.0, 20.0, live));
  g_object_class_install_property (gobject_class, PROP_HUMIDITY,
      g_param_spec_double ("relative-humidity", "Relative humidity",
          "True relative humidity (fraction)", 0.0, 1.0, 0.5, live));
  g_object_class_install_property (gobject_class, PROP_WINDOW_TEMP,
      g_param_spec_double ("window-temperature", "Window temperature",
          "True temperature of the external window, degrees C", -100.0, 2000.0,
          20.0, live));
  g_object_class_install_property (gobject_class, PROP_WINDOW_TRANSMISSION,
      g_param_spec_double ("window-transmission", "Window transmission",
          "True transmissivity of the external window (a fraction: 1 = none)", 0.01, 1.0,
          1.0, live));
  g_object_class_install_property (gobject_class, PROP_CALIBRATION,
      g_param_spec_boxed ("calibration", "Calibration",
          "Factory calibration: Planck and atmospheric constants, gain and "
          "offset tables (GBytes of float), bad-pixels (GBytes of guint32); "
          "NULL until negotiated", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_CURRENT_FPA,
      g_param_spec_double ("current-fpa-temperature", "Current FPA temperature",
          "The simulated sensor temperature now, degrees C", -G_MAXDOUBLE,
          G_MAXDOUBLE, 0.0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_property (gobject_class, PROP_DEFECT_LIST,
      g_param_spec_string ("defect-list", "Defect list",
          "For tests: every injected defective pixel, listed or not, "
          "\"x,y;x,y;...\" (NULL until negotiated)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_SCENE_DEFECTS,
      g_param_spec_string ("scene-defects", "Scene defects",
          "For tests: pixels \"x,y;x,y\" (at most 64) whose response to the "
          "scene is wrong: they read 4000 counts high while the shutter is open "
          "and normally on the closed shutter, so no flat-field correction finds "
          "them (what manual defective pixel correction is for)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstThermalSrc::true-temperature:
   * @x: column
   * @y: row
   * @timestamp: scene time, nanoseconds: a frame's GST_BUFFER_OFFSET times its
   *   duration (its PTS too when not live)
   *
   * Returns: the scene's true temperature there, degrees C (NaN before
   * negotiation or outside the frame).
   */
  gst_thermal_src_signals[SIGNAL_TRUE_TEMPERATURE] =
      g_signal_new_class_handler ("true-temperature", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_thermal_src_true_temperature), NULL, NULL, NULL,
      G_TYPE_DOUBLE, 3, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_UINT64);

  gst_element_class_set_static_metadata (element_class,
      "Thermal sensor simulator", "Source/Video",
      "Simulated radiometric thermal sensor producing raw counts",
      "thermocam developers");
  gst_element_class_add_static_pad_template (element_class, &src_template);

  bsrc_class->fixate = GST_DEBUG_FUNCPTR (gst_thermal_src_fixate);
  bsrc_class->set_caps = GST_DEBUG_FUNCPTR (gst_thermal_src_set_caps);
  bsrc_class->query = GST_DEBUG_FUNCPTR (gst_thermal_src_query);
  bsrc_class->event = GST_DEBUG_FUNCPTR (gst_thermal_src_event);
  bsrc_class->get_times = GST_DEBUG_FUNCPTR (gst_thermal_src_get_times);
  bsrc_class->start = GST_DEBUG_FUNCPTR (gst_thermal_src_start);
  bsrc_class->stop = GST_DEBUG_FUNCPTR (gst_thermal_src_stop);
  psrc_class->fill = GST_DEBUG_FUNCPTR (gst_thermal_src_fill);

  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_SRC_SCENE, 0);
}

static void
gst_thermal_src_init (GstThermalSrc * self)
{
  TcSimConfig *c = &self->cfg;

  tc_sim_config_init_default (c);
  c->scene = DEFAULT_PROP_SCENE;
  c->blackbody_temp = DEFAULT_PROP_BLACKBODY;
  c->seed = DEFAULT_PROP_SEED;
  c->netd = DEFAULT_PROP_NETD;
  c->fpa_start = DEFAULT_PROP_FPA_TEMPERATURE;
  c->fpa_drift = DEFAULT_PROP_FPA_DRIFT;
  c->fpa_tau = DEFAULT_PROP_FPA_TAU;
  c->fpn = DEFAULT_PROP_FPN;
  c->dead_pixels = DEFAULT_PROP_DEAD_PIXELS;
  c->hot_pixels = DEFAULT_PROP_HOT_PIXELS;
  c->new_defects = DEFAULT_PROP_NEW_DEFECTS;
  tc_calibration_init_default (&c->cal);
  tc_object_params_init_default (&c->obj);

  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_live (GST_BASE_SRC (self), DEFAULT_PROP_IS_LIVE);
}
