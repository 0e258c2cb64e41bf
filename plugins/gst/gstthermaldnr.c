/* thermocam: thermaldnr, digital noise reduction of the video branch
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-thermaldnr
 * @title: thermaldnr
 *
 * Digital noise reduction (DNR) of temperature frames (GRAY16_LE, linear in
 * kelvin) on their way to a picture: it sits before thermalpalette, on the
 * video branch, never in the measurement path (the temperatures it outputs
 * are smoothed).  Two filters:
 *
 * - temporal: a recursive filter per pixel; where a pixel changes by more
 *   than a threshold (a moving hot object, a step), the new value is taken at
 *   once instead of being averaged in, so nothing smears;
 * - spatial: an edge-preserving 3x3 filter that averages each pixel with the
 *   neighbours close to it in temperature and leaves out those across an
 *   edge, so edges stay sharp.
 *
 * `mode`: off (passthrough), normal (`level` sets both filters) or expert
 * (`spatial-level` and `temporal-level` apart; 0 turns one off).  Higher
 * levels reduce more noise: from level 1 to 100 the temporal filter moves
 * each pixel 1/2 to 1/16 of the way towards each new frame while the change
 * is below 0.06 K to 0.6 K (and all the way from twice that); the spatial
 * filter averages each pixel with the neighbours within 0.05 K to 0.5 K of
 * it.  The thresholds are in kelvin, read through the stream's
 * `temperature-scale` (caps, or the frames' #GstThermalMeta; 0.01 K per
 * count when neither says).
 *
 * The temporal filter starts afresh on a discontinuity (a buffer flagged
 * DISCONT, a flush, a new stream), a new frame size, and when it is turned
 * back on.  Properties change while playing.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 thermalsrc ! thermalnuc ! thermalradiometry ! thermaldnr mode=expert spatial-level=40 temporal-level=70 ! thermalpalette ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstthermaldnr.h"
#include "gstthermalmeta.h"

GST_DEBUG_CATEGORY_STATIC (gst_thermal_dnr_debug);
#define GST_CAT_DEFAULT gst_thermal_dnr_debug

#define DEFAULT_PROP_MODE GST_THERMAL_DNR_NORMAL
#define DEFAULT_PROP_LEVEL 50
#define DEFAULT_PROP_SPATIAL_LEVEL 50
#define DEFAULT_PROP_TEMPORAL_LEVEL 50

enum
{
  PROP_0,
  PROP_MODE,
  PROP_LEVEL,
  PROP_SPATIAL_LEVEL,
  PROP_TEMPORAL_LEVEL,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY16_LE")));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY16_LE")));

GType
gst_thermal_dnr_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_THERMAL_DNR_OFF, "Off (passthrough)", "off"},
    {GST_THERMAL_DNR_NORMAL, "One level for the spatial and the temporal filter",
        "normal"},
    {GST_THERMAL_DNR_EXPERT, "Spatial and temporal levels apart", "expert"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstThermalDnrMode",
            values));
  return type;
}

#define gst_thermal_dnr_parent_class parent_class
G_DEFINE_TYPE (GstThermalDnr, gst_thermal_dnr, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (thermaldnr, "thermaldnr", GST_RANK_NONE,
    GST_TYPE_THERMAL_DNR);

/* with the object lock: the levels the mode puts into effect */
static void
gst_thermal_dnr_levels (GstThermalDnr * self, gint * spatial, gint * temporal)
{
  switch (self->mode) {
    case GST_THERMAL_DNR_NORMAL:
      *spatial = *temporal = self->level;
      break;
    case GST_THERMAL_DNR_EXPERT:
      *spatial = self->spatial_level;
      *temporal = self->temporal_level;
      break;
    default:
      *spatial = *temporal = 0;
      break;
  }
}

/* with the object lock */
static gboolean
gst_thermal_dnr_is_passthrough (GstThermalDnr * self)
{
  gint spatial, temporal;

  gst_thermal_dnr_levels (self, &spatial, &temporal);
  return spatial == 0 && temporal == 0;
}

static gboolean
gst_thermal_dnr_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstThermalDnr *self = GST_THERMAL_DNR (filter);
  const GstStructure *s = gst_caps_get_structure (incaps, 0);
  gint width = GST_VIDEO_INFO_WIDTH (in_info);
  gint height = GST_VIDEO_INFO_HEIGHT (in_info);
  gdouble scale;

  if (!gst_structure_get_double (s, GST_THERMAL_CAPS_SCALE, &scale) ||
      !(scale > 0.0))
    scale = 0.01;
  /* the state for this size (kept when the size stays: a new framerate is no
   * reason to start again) */
  if (!tc_dnr_configure (self->dnr, width, height)) {
    GST_ERROR_OBJECT (self, "cannot filter %dx%d frames", width, height);
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  if (scale != self->scale) {
    self->scale = scale;
    self->dirty = TRUE;
  }
  GST_OBJECT_UNLOCK (self);
  GST_DEBUG_OBJECT (self, "%dx%d, %g K per count", width, height, scale);
  return TRUE;
}

/* with the object lock: the levels into the kernel's parameters */
static void
gst_thermal_dnr_apply_properties (GstThermalDnr * self)
{
  TcDnrParams p;
  gint spatial, temporal;

  gst_thermal_dnr_levels (self, &spatial, &temporal);
  tc_dnr_params_for_levels (&p, spatial, temporal, self->scale);
  tc_dnr_set_params (self->dnr, &p);
  self->dirty = FALSE;
  GST_DEBUG_OBJECT (self, "spatial level %d (strength %d/256, threshold %.2f "
      "counts), temporal level %d (weight %d/256, threshold %.2f counts)",
      spatial, p.spatial_strength, p.spatial_threshold, temporal,
      p.temporal_weight, p.temporal_threshold);
}

static GstFlowReturn
gst_thermal_dnr_transform_frame (GstVideoFilter * filter,
    GstVideoFrame * in_frame, GstVideoFrame * out_frame)
{
  GstThermalDnr *self = GST_THERMAL_DNR (filter);
  GstThermalMeta *meta = gst_buffer_get_thermal_meta (in_frame->buffer);

  GST_OBJECT_LOCK (self);
  if (meta && meta->kind == GST_THERMAL_FRAME_TEMPERATURE &&
      meta->scale > 0.0 && meta->scale != self->scale) {
    self->scale = meta->scale;
    self->dirty = TRUE;
  }
  if (self->dirty)
    gst_thermal_dnr_apply_properties (self);
  if (self->reset || GST_BUFFER_IS_DISCONT (in_frame->buffer)) {
    GST_LOG_OBJECT (self, "temporal filter starts afresh");
    tc_dnr_reset (self->dnr);
    self->reset = FALSE;
  }
  GST_OBJECT_UNLOCK (self);

  /* the kernel is only used on this thread: unlocked */
  tc_dnr_process (self->dnr, GST_VIDEO_FRAME_PLANE_DATA (in_frame, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (in_frame, 0),
      GST_VIDEO_FRAME_PLANE_DATA (out_frame, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (out_frame, 0));
  return GST_FLOW_OK;
}

/* controlled properties follow the stream time; the passthrough state
 * follows the properties.  Only here, on the streaming thread, before the
 * base class looks at it: it reads it twice per buffer (to allocate the
 * output, then to transform), and a change from another thread in between
 * would push an unwritten buffer or write into the input. */
static void
gst_thermal_dnr_before_transform (GstBaseTransform * trans, GstBuffer * buf)
{
  GstThermalDnr *self = GST_THERMAL_DNR (trans);
  GstClockTime ts = gst_segment_to_stream_time (&trans->segment,
      GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  gboolean passthrough, changed;

  if (GST_CLOCK_TIME_IS_VALID (ts))
    gst_object_sync_values (GST_OBJECT (trans), ts);

  GST_OBJECT_LOCK (self);
  passthrough = gst_thermal_dnr_is_passthrough (self);
  changed = passthrough != self->passthrough;
  /* frames went by unfiltered: the temporal state is stale */
  if (changed && !passthrough)
    self->reset = TRUE;
  self->passthrough = passthrough;
  GST_OBJECT_UNLOCK (self);

  gst_base_transform_set_passthrough (trans, passthrough);
  if (changed) {
    GST_DEBUG_OBJECT (self, "passthrough %d", passthrough);
    /* out of passthrough, the output needs a buffer pool */
    gst_base_transform_reconfigure_src (trans);
  }
}

static gboolean
gst_thermal_dnr_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstThermalDnr *self = GST_THERMAL_DNR (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      GST_OBJECT_LOCK (self);
      self->reset = TRUE;
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_thermal_dnr_start (GstBaseTransform * trans)
{
  GstThermalDnr *self = GST_THERMAL_DNR (trans);

  GST_OBJECT_LOCK (self);
  self->reset = TRUE;
  self->dirty = TRUE;
  self->passthrough = gst_thermal_dnr_is_passthrough (self);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static void
gst_thermal_dnr_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstThermalDnr *self = GST_THERMAL_DNR (object);

  /* the passthrough state follows at the next frame (before_transform) */
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_LEVEL:
      self->level = g_value_get_int (value);
      break;
    case PROP_SPATIAL_LEVEL:
      self->spatial_level = g_value_get_int (value);
      break;
    case PROP_TEMPORAL_LEVEL:
      self->temporal_level = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  self->dirty = TRUE;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_dnr_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstThermalDnr *self = GST_THERMAL_DNR (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_LEVEL:
      g_value_set_int (value, self->level);
      break;
    case PROP_SPATIAL_LEVEL:
      g_value_set_int (value, self->spatial_level);
      break;
    case PROP_TEMPORAL_LEVEL:
      g_value_set_int (value, self->temporal_level);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_dnr_finalize (GObject * object)
{
  GstThermalDnr *self = GST_THERMAL_DNR (object);

  tc_dnr_free (self->dnr);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_thermal_dnr_class_init (GstThermalDnrClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE;

  GST_DEBUG_CATEGORY_INIT (gst_thermal_dnr_debug, "thermaldnr", 0,
      "Thermal digital noise reduction");

  gobject_class->set_property = gst_thermal_dnr_set_property;
  gobject_class->get_property = gst_thermal_dnr_get_property;
  gobject_class->finalize = gst_thermal_dnr_finalize;

  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "Off (passthrough), normal (one level) or expert (spatial and "
          "temporal levels apart)", GST_TYPE_THERMAL_DNR_MODE,
          DEFAULT_PROP_MODE, rw));
  g_object_class_install_property (gobject_class, PROP_LEVEL,
      g_param_spec_int ("level", "Level",
          "Normal mode: the strength of both the spatial and the temporal "
          "noise reduction (no unit: 0 = none, 100 = strongest)", 0, 100,
          DEFAULT_PROP_LEVEL, rw));
  g_object_class_install_property (gobject_class, PROP_SPATIAL_LEVEL,
      g_param_spec_int ("spatial-level", "Spatial level",
          "Expert mode: the strength of the spatial (edge-preserving) noise "
          "reduction (no unit: 0 = off, 100 = strongest)", 0, 100,
          DEFAULT_PROP_SPATIAL_LEVEL, rw));
  g_object_class_install_property (gobject_class, PROP_TEMPORAL_LEVEL,
      g_param_spec_int ("temporal-level", "Temporal level",
          "Expert mode: the strength of the temporal (frame to frame) noise "
          "reduction (no unit: 0 = off, 100 = strongest)", 0, 100,
          DEFAULT_PROP_TEMPORAL_LEVEL, rw));

  gst_element_class_set_static_metadata (element_class,
      "Thermal noise reduction", "Filter/Effect/Video",
      "Reduces the temporal and spatial noise of temperature frames for "
      "display, keeping edges and moving objects sharp",
      "thermocam developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->before_transform =
      GST_DEBUG_FUNCPTR (gst_thermal_dnr_before_transform);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_thermal_dnr_sink_event);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_thermal_dnr_start);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_thermal_dnr_set_info);
  filter_class->transform_frame =
      GST_DEBUG_FUNCPTR (gst_thermal_dnr_transform_frame);

  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_DNR_MODE, 0);
}

static void
gst_thermal_dnr_init (GstThermalDnr * self)
{
  self->mode = DEFAULT_PROP_MODE;
  self->level = DEFAULT_PROP_LEVEL;
  self->spatial_level = DEFAULT_PROP_SPATIAL_LEVEL;
  self->temporal_level = DEFAULT_PROP_TEMPORAL_LEVEL;
  self->scale = 0.01;
  self->dirty = TRUE;
  self->reset = TRUE;
  self->dnr = tc_dnr_new ();
  self->passthrough = gst_thermal_dnr_is_passthrough (self);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self),
      self->passthrough);
}
