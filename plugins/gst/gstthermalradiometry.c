/* thermocam: thermalradiometry, raw counts to temperature
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-thermalradiometry
 * @title: thermalradiometry
 *
 * Turns a thermal sensor's raw counts (GRAY16_LE) into temperature: GRAY16_LE
 * linear in kelvin, 0.01 K per count (0.1 K when the camera's range goes above
 * 382 C), the scale given by the `temperature-scale` caps field and the
 * frame's #GstThermalMeta.  The conversion is the FLIR/Thermimage chain (Planck
 * R1, R2, B, F, O; emissivity; distance with atmospheric temperature and
 * humidity; reflected apparent temperature; external window temperature and
 * transmission), compiled into a 65536-entry table rebuilt only when a
 * parameter or the calibration changes.  Counts outside the chain's domain
 * are clamped to the nearest valid temperature and counted, never NaN.
 *
 * The calibration comes from a JSON file (`calibration-file`, exiftool's
 * names, so `exiftool -j -n photo.jpg` output works), else from the source
 * (a calibration query, then each frame's meta), else the simulated sensor's.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 thermalsrc ! thermalnuc ! thermalradiometry emissivity=0.9 distance=5 ! thermalpalette ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstthermalradiometry.h"
#include "gstthermalmeta.h"
#include "gstthermalwarn.h"
#include "tc-calib-json.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_thermal_radiometry_debug);
#define GST_CAT_DEFAULT gst_thermal_radiometry_debug

#define DEFAULT_PROP_EMISSIVITY 0.95
#define DEFAULT_PROP_DISTANCE 1.0
#define DEFAULT_PROP_REFLECTED 20.0
#define DEFAULT_PROP_ATMOSPHERIC 20.0
#define DEFAULT_PROP_HUMIDITY 0.5
#define DEFAULT_PROP_WINDOW_TEMP 20.0
#define DEFAULT_PROP_WINDOW_TRANSMISSION 1.0
#define DEFAULT_PROP_PARAMS_SOURCE GST_THERMAL_PARAMS_AUTO
#define DEFAULT_PROP_SCALE GST_THERMAL_SCALE_AUTO

enum
{
  PROP_0,
  PROP_EMISSIVITY,
  PROP_DISTANCE,
  PROP_REFLECTED,
  PROP_ATMOSPHERIC,
  PROP_HUMIDITY,
  PROP_WINDOW_TEMP,
  PROP_WINDOW_TRANSMISSION,
  PROP_CALIBRATION_FILE,
  PROP_PARAMS_SOURCE,
  PROP_SCALE,
  PROP_CLAMPED,
  PROP_CLAMPED_TOTAL,
  PROP_CALIBRATION,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY16_LE")));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY16_LE")));

#define GST_TYPE_THERMAL_PARAMS_SOURCE (gst_thermal_params_source_get_type ())
static GType
gst_thermal_params_source_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_THERMAL_PARAMS_AUTO,
        "The frame's own object parameters when it carries them (a radiometric file), else the properties",
        "auto"},
    {GST_THERMAL_PARAMS_PROPERTIES, "Always the element's properties",
        "properties"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstThermalParamsSource", values));
  return type;
}

#define GST_TYPE_THERMAL_SCALE (gst_thermal_scale_get_type ())
static GType
gst_thermal_scale_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_THERMAL_SCALE_AUTO,
        "0.01 K, or 0.1 K when the calibrated range goes above 382 C", "auto"},
    {GST_THERMAL_SCALE_CENTIKELVIN, "0.01 K per count (up to 382.2 C)",
        "centikelvin"},
    {GST_THERMAL_SCALE_DECIKELVIN, "0.1 K per count (up to 6280 C)",
        "decikelvin"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstThermalScale",
            values));
  return type;
}

#define gst_thermal_radiometry_parent_class parent_class
G_DEFINE_TYPE (GstThermalRadiometry, gst_thermal_radiometry,
    GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (thermalradiometry, "thermalradiometry",
    GST_RANK_NONE, GST_TYPE_THERMAL_RADIOMETRY);

/* with the object lock */
static gdouble
gst_thermal_radiometry_pick_scale (GstThermalRadiometry * self)
{
  switch (self->scale_mode) {
    case GST_THERMAL_SCALE_CENTIKELVIN:
      return 0.01;
    case GST_THERMAL_SCALE_DECIKELVIN:
      return 0.1;
    default:
      return tc_scale_for_range (self->cal.range_max);
  }
}

static GstCaps *
gst_thermal_radiometry_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstThermalRadiometry *self = GST_THERMAL_RADIOMETRY (trans);
  GstCaps *ret = gst_caps_copy (caps);
  gdouble scale;
  guint i;

  GST_OBJECT_LOCK (self);
  scale = gst_thermal_radiometry_pick_scale (self);
  GST_OBJECT_UNLOCK (self);

  for (i = 0; i < gst_caps_get_size (ret); i++) {
    GstStructure *s = gst_caps_get_structure (ret, i);

    if (direction == GST_PAD_SINK)
      gst_structure_set (s, GST_THERMAL_CAPS_SCALE, G_TYPE_DOUBLE, scale, NULL);
    else
      gst_structure_remove_field (s, GST_THERMAL_CAPS_SCALE);
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, ret,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (ret);
    ret = tmp;
  }
  GST_DEBUG_OBJECT (self, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, ret);
  return ret;
}

/* Asks upstream for the sensor's calibration (thermalsrc answers). */
static void
gst_thermal_radiometry_query_calibration (GstThermalRadiometry * self)
{
  GstQuery *q = gst_thermal_query_new_calibration ();
  TcCalibration cal;

  if (gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (self), q) &&
      gst_thermal_calibration_structure_get (gst_query_get_structure (q),
          &cal)) {
    GST_OBJECT_LOCK (self);
    if (!self->have_file_cal) {
      self->cal = cal;
      self->dirty = TRUE;
    }
    self->have_upstream_cal = TRUE;
    GST_OBJECT_UNLOCK (self);
    GST_DEBUG_OBJECT (self, "calibration from upstream: R1 %g B %g",
        cal.r1, cal.b);
  }
  gst_query_unref (q);
}

static gboolean
gst_thermal_radiometry_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS)
    gst_thermal_radiometry_query_calibration (GST_THERMAL_RADIOMETRY (trans));
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_thermal_radiometry_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstThermalRadiometry *self = GST_THERMAL_RADIOMETRY (filter);
  const GstStructure *s = gst_caps_get_structure (outcaps, 0);
  gdouble scale = 0.01;

  if (!gst_structure_get_double (s, GST_THERMAL_CAPS_SCALE, &scale) ||
      !(scale > 0.0))
    scale = 0.01;
  GST_OBJECT_LOCK (self);
  self->scale = scale;
  self->dirty = TRUE;
  GST_OBJECT_UNLOCK (self);
  GST_DEBUG_OBJECT (self, "output scale %g K per count", scale);
  return TRUE;
}

/* with the object lock: the table for the current calibration/parameters */
static void
gst_thermal_radiometry_rebuild (GstThermalRadiometry * self,
    const TcObjectParams * params)
{
  TcChain chain;

  tc_chain_init (&chain, &self->cal, params);
  if (!tc_radiometry_lut_build (self->lut, &chain, self->scale,
          &self->valid_lo, &self->valid_hi))
    GST_WARNING_OBJECT (self, "no raw count has a temperature with this "
        "calibration: every pixel will be clamped");
  self->lut_cal = self->cal;
  self->lut_params = *params;
  self->dirty = FALSE;
  self->rebuilds++;
  GST_DEBUG_OBJECT (self, "table rebuilt: valid raw %u..%u, %g..%g K",
      self->valid_lo, self->valid_hi, self->lut[self->valid_lo] * self->scale,
      self->lut[self->valid_hi] * self->scale);
}

static GstFlowReturn
gst_thermal_radiometry_transform_frame (GstVideoFilter * filter,
    GstVideoFrame * in_frame, GstVideoFrame * out_frame)
{
  GstThermalRadiometry *self = GST_THERMAL_RADIOMETRY (filter);
  GstThermalMeta *in_meta = gst_buffer_get_thermal_meta (in_frame->buffer);
  GstThermalMeta *out_meta;
  TcObjectParams params;
  gboolean rescale = FALSE;
  guint64 clamped;

  GST_OBJECT_LOCK (self);
  if (in_meta && in_meta->has_calibration && !self->have_file_cal &&
      memcmp (&in_meta->calibration, &self->cal, sizeof (TcCalibration)) != 0) {
    gdouble old_scale = gst_thermal_radiometry_pick_scale (self);

    self->cal = in_meta->calibration;
    self->dirty = TRUE;
    rescale = gst_thermal_radiometry_pick_scale (self) != old_scale;
  }
  if (in_meta && in_meta->has_params &&
      self->params_source == GST_THERMAL_PARAMS_AUTO)
    params = in_meta->params;
  else
    params = self->params;
  if (self->dirty || memcmp (&params, &self->lut_params, sizeof (params)) != 0)
    gst_thermal_radiometry_rebuild (self, &params);
  GST_OBJECT_UNLOCK (self);

  /* the table is only written on this thread: use it unlocked */
  clamped = tc_radiometry_lut_apply (self->lut, self->valid_lo, self->valid_hi,
      GST_VIDEO_FRAME_PLANE_DATA (in_frame, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (in_frame, 0),
      GST_VIDEO_FRAME_PLANE_DATA (out_frame, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (out_frame, 0),
      GST_VIDEO_FRAME_WIDTH (in_frame), GST_VIDEO_FRAME_HEIGHT (in_frame));

  out_meta = gst_buffer_ensure_thermal_meta (out_frame->buffer);
  out_meta->kind = GST_THERMAL_FRAME_TEMPERATURE;
  out_meta->has_calibration = TRUE;
  out_meta->calibration = self->lut_cal;
  out_meta->has_params = TRUE;
  out_meta->params = self->lut_params;
  out_meta->scale = self->scale;
  out_meta->clamped = clamped;

  GST_OBJECT_LOCK (self);
  self->clamped_last = clamped;
  self->clamped_total += clamped;
  GST_OBJECT_UNLOCK (self);

  if (clamped)
    GST_LOG_OBJECT (self, "%" G_GUINT64_FORMAT " pixels clamped", clamped);
  if (rescale) {
    GST_INFO_OBJECT (self, "calibration range needs another scale: "
        "renegotiating");
    gst_base_transform_reconfigure_src (GST_BASE_TRANSFORM (self));
  }
  return GST_FLOW_OK;
}

/* Loads @path (outside the object lock: it may post a warning); on failure
 * nothing changes. */
static void
gst_thermal_radiometry_set_calibration_file (GstThermalRadiometry * self,
    const gchar * path)
{
  TcCalibration cal;
  GError *err = NULL;
  gdouble old_scale, new_scale;

  if (path && *path && !tc_calibration_load_json (path, &cal, NULL, NULL, &err)) {
    GST_THERMAL_WARN_SETTING (self, RESOURCE, READ,
        ("Could not use calibration file \"%s\"", path), ("%s", err->message));
    g_error_free (err);
    return;
  }
  GST_OBJECT_LOCK (self);
  old_scale = gst_thermal_radiometry_pick_scale (self);
  g_free (self->calibration_file);
  if (path && *path) {
    self->calibration_file = g_strdup (path);
    self->cal = cal;
    self->have_file_cal = TRUE;
  } else {
    self->calibration_file = NULL;
    self->have_file_cal = FALSE;
    if (!self->have_upstream_cal)
      tc_calibration_init_default (&self->cal);
  }
  self->dirty = TRUE;
  new_scale = gst_thermal_radiometry_pick_scale (self);
  GST_OBJECT_UNLOCK (self);
  if (new_scale != old_scale)
    gst_base_transform_reconfigure_src (GST_BASE_TRANSFORM (self));
}

static void
gst_thermal_radiometry_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstThermalRadiometry *self = GST_THERMAL_RADIOMETRY (object);
  gboolean reconfigure = FALSE;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_EMISSIVITY:
      self->params.emissivity = g_value_get_double (value);
      break;
    case PROP_DISTANCE:
      self->params.distance = g_value_get_double (value);
      break;
    case PROP_REFLECTED:
      self->params.reflected_temp = g_value_get_double (value);
      break;
    case PROP_ATMOSPHERIC:
      self->params.atmospheric_temp = g_value_get_double (value);
      break;
    case PROP_HUMIDITY:
      self->params.relative_humidity = g_value_get_double (value);
      break;
    case PROP_WINDOW_TEMP:
      self->params.window_temp = g_value_get_double (value);
      break;
    case PROP_WINDOW_TRANSMISSION:
      self->params.window_transmission = g_value_get_double (value);
      break;
    case PROP_CALIBRATION_FILE:
      GST_OBJECT_UNLOCK (self);
      gst_thermal_radiometry_set_calibration_file (self,
          g_value_get_string (value));
      GST_OBJECT_LOCK (self);
      break;
    case PROP_PARAMS_SOURCE:
      self->params_source = g_value_get_enum (value);
      break;
    case PROP_SCALE:
      self->scale_mode = g_value_get_enum (value);
      reconfigure = TRUE;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);

  if (reconfigure)
    gst_base_transform_reconfigure_src (GST_BASE_TRANSFORM (self));
}

static void
gst_thermal_radiometry_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstThermalRadiometry *self = GST_THERMAL_RADIOMETRY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_EMISSIVITY:
      g_value_set_double (value, self->params.emissivity);
      break;
    case PROP_DISTANCE:
      g_value_set_double (value, self->params.distance);
      break;
    case PROP_REFLECTED:
      g_value_set_double (value, self->params.reflected_temp);
      break;
    case PROP_ATMOSPHERIC:
      g_value_set_double (value, self->params.atmospheric_temp);
      break;
    case PROP_HUMIDITY:
      g_value_set_double (value, self->params.relative_humidity);
      break;
    case PROP_WINDOW_TEMP:
      g_value_set_double (value, self->params.window_temp);
      break;
    case PROP_WINDOW_TRANSMISSION:
      g_value_set_double (value, self->params.window_transmission);
      break;
    case PROP_CALIBRATION_FILE:
      g_value_set_string (value, self->calibration_file);
      break;
    case PROP_PARAMS_SOURCE:
      g_value_set_enum (value, self->params_source);
      break;
    case PROP_SCALE:
      g_value_set_enum (value, self->scale_mode);
      break;
    case PROP_CLAMPED:
      g_value_set_uint64 (value, self->clamped_last);
      break;
    case PROP_CLAMPED_TOTAL:
      g_value_set_uint64 (value, self->clamped_total);
      break;
    case PROP_CALIBRATION:
      g_value_take_boxed (value, gst_thermal_calibration_structure_new
          (&self->cal, 0, 0, NULL, NULL, NULL, 0));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_thermal_radiometry_start (GstBaseTransform * trans)
{
  GstThermalRadiometry *self = GST_THERMAL_RADIOMETRY (trans);

  GST_OBJECT_LOCK (self);
  self->clamped_last = 0;
  self->clamped_total = 0;
  self->have_upstream_cal = FALSE;
  self->dirty = TRUE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static void
gst_thermal_radiometry_finalize (GObject * object)
{
  GstThermalRadiometry *self = GST_THERMAL_RADIOMETRY (object);

  g_free (self->lut);
  g_free (self->calibration_file);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* controlled properties follow the stream time */
static void
gst_thermal_radiometry_before_transform (GstBaseTransform * trans, GstBuffer * buf)
{
  GstClockTime ts = gst_segment_to_stream_time (&trans->segment,
      GST_FORMAT_TIME, GST_BUFFER_PTS (buf));

  if (GST_CLOCK_TIME_IS_VALID (ts))
    gst_object_sync_values (GST_OBJECT (trans), ts);
}

static void
gst_thermal_radiometry_class_init (GstThermalRadiometryClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE;

  GST_DEBUG_CATEGORY_INIT (gst_thermal_radiometry_debug, "thermalradiometry",
      0, "Thermal raw counts to temperature");

  gobject_class->set_property = gst_thermal_radiometry_set_property;
  gobject_class->get_property = gst_thermal_radiometry_get_property;
  gobject_class->finalize = gst_thermal_radiometry_finalize;

  g_object_class_install_property (gobject_class, PROP_EMISSIVITY,
      g_param_spec_double ("emissivity", "Emissivity",
          "Emissivity of the target (a fraction: 1 = a blackbody)", 0.01, 1.0,
          DEFAULT_PROP_EMISSIVITY, rw));
  g_object_class_install_property (gobject_class, PROP_DISTANCE,
      g_param_spec_double ("distance", "Distance",
          "Distance to the target in metres", 0.0, 10000.0,
          DEFAULT_PROP_DISTANCE, rw));
  g_object_class_install_property (gobject_class, PROP_REFLECTED,
      g_param_spec_double ("reflected-temperature", "Reflected temperature",
          "Reflected apparent temperature in degrees Celsius", -100.0, 2000.0,
          DEFAULT_PROP_REFLECTED, rw));
  g_object_class_install_property (gobject_class, PROP_ATMOSPHERIC,
      g_param_spec_double ("atmospheric-temperature",
          "Atmospheric temperature",
          "Temperature of the air between camera and target, degrees Celsius",
          -100.0, 200.0, DEFAULT_PROP_ATMOSPHERIC, rw));
  g_object_class_install_property (gobject_class, PROP_HUMIDITY,
      g_param_spec_double ("relative-humidity", "Relative humidity",
          "Relative humidity of the air (fraction)", 0.0, 1.0,
          DEFAULT_PROP_HUMIDITY, rw));
  g_object_class_install_property (gobject_class, PROP_WINDOW_TEMP,
      g_param_spec_double ("window-temperature", "Window temperature",
          "Temperature of the external window or optics, degrees Celsius",
          -100.0, 2000.0, DEFAULT_PROP_WINDOW_TEMP, rw));
  g_object_class_install_property (gobject_class, PROP_WINDOW_TRANSMISSION,
      g_param_spec_double ("window-transmission", "Window transmission",
          "Optical transmissivity of the external window or optics (a fraction: 1 = none)",
          0.01, 1.0, DEFAULT_PROP_WINDOW_TRANSMISSION, rw));
  g_object_class_install_property (gobject_class, PROP_CALIBRATION_FILE,
      g_param_spec_string ("calibration-file", "Calibration file",
          "JSON file with the camera's Planck and atmospheric constants "
          "(exiftool names, e.g. the output of exiftool -j -n); "
          "empty = from the source", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_PARAMS_SOURCE,
      g_param_spec_enum ("params-source", "Parameters source",
          "Where the object parameters come from", GST_TYPE_THERMAL_PARAMS_SOURCE,
          DEFAULT_PROP_PARAMS_SOURCE, rw));
  g_object_class_install_property (gobject_class, PROP_SCALE,
      g_param_spec_enum ("scale", "Scale", "Kelvin per output count",
          GST_TYPE_THERMAL_SCALE, DEFAULT_PROP_SCALE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_CLAMPED,
      g_param_spec_uint64 ("clamped", "Clamped",
          "Pixels of the last frame outside the chain's domain (clamped)", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_CLAMPED_TOTAL,
      g_param_spec_uint64 ("clamped-total", "Clamped total",
          "Pixels clamped since the element started", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_CALIBRATION,
      g_param_spec_boxed ("calibration", "Calibration",
          "The calibration in use (Planck and atmospheric constants)",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_set_static_metadata (element_class,
      "Thermal radiometry", "Filter/Converter/Video",
      "Converts raw thermal sensor counts into temperature (kelvin) with the "
      "FLIR radiometric chain", "thermocam developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_thermal_radiometry_transform_caps);
  trans_class->before_transform = GST_DEBUG_FUNCPTR (gst_thermal_radiometry_before_transform);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_thermal_radiometry_sink_event);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_thermal_radiometry_start);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_thermal_radiometry_set_info);
  filter_class->transform_frame =
      GST_DEBUG_FUNCPTR (gst_thermal_radiometry_transform_frame);

  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_PARAMS_SOURCE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_SCALE, 0);
}

static void
gst_thermal_radiometry_init (GstThermalRadiometry * self)
{
  tc_object_params_init_default (&self->params);
  tc_calibration_init_default (&self->cal);
  self->params_source = DEFAULT_PROP_PARAMS_SOURCE;
  self->scale_mode = DEFAULT_PROP_SCALE;
  self->scale = 0.01;
  self->lut = g_new0 (uint16_t, 65536);
  self->dirty = TRUE;
  /* temperatures must not depend on how fast a display downstream is */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}
