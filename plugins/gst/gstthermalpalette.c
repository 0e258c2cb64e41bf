/* thermocam: thermalpalette, temperature to a coloured picture
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-thermalpalette
 * @title: thermalpalette
 *
 * Colours a temperature frame (GRAY16_LE linear in kelvin, as thermalradiometry
 * makes) into video, I420 or any packed RGB format, with no videoconvert:
 *
 * - range: auto (the scene's min/max, smoothed by `damping`) or manual
 *   (`range-min`/`range-max`, degrees C);
 * - AGC: linear, or plateau-equalized histogram (`plateau`);
 * - DDE (digital detail enhancement, `dde-level`), brightness and contrast;
 * - palettes: white hot, black hot, ironbow, rainbow, rainbow high contrast,
 *   lava, arctic, fusion, medical, red hot, green hot, sepia.
 *
 * Each output frame carries a #GstThermalPaletteMeta with the palette and the
 * range it was drawn with, for a colour-temperature ruler.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 thermalsrc ! thermalnuc ! thermalradiometry ! thermalpalette palette=ironbow range-mode=manual range-min=15 range-max=60 ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstthermalpalette.h"
#include "gstthermalmeta.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_thermal_palette_debug);
#define GST_CAT_DEFAULT gst_thermal_palette_debug

#define DEFAULT_PROP_PALETTE TC_PALETTE_WHITE_HOT
#define DEFAULT_PROP_RANGE_MODE GST_THERMAL_RANGE_AUTO
#define DEFAULT_PROP_RANGE_MIN 15.0
#define DEFAULT_PROP_RANGE_MAX 45.0
#define DEFAULT_PROP_DAMPING 0.8
#define DEFAULT_PROP_AGC TC_AGC_PLATEAU
#define DEFAULT_PROP_PLATEAU 0.02
#define DEFAULT_PROP_DDE 0
#define DEFAULT_PROP_BRIGHTNESS 0.0
#define DEFAULT_PROP_CONTRAST 1.0

enum
{
  PROP_0,
  PROP_PALETTE,
  PROP_RANGE_MODE,
  PROP_RANGE_MIN,
  PROP_RANGE_MAX,
  PROP_DAMPING,
  PROP_AGC,
  PROP_PLATEAU,
  PROP_DDE,
  PROP_BRIGHTNESS,
  PROP_CONTRAST,
};

#define OUTPUT_FORMATS "{ I420, RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY16_LE")));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OUTPUT_FORMATS)));

GType
gst_thermal_palette_id_get_type (void)
{
  static GType type = 0;

  if (g_once_init_enter (&type)) {
    static GEnumValue values[TC_PALETTE_N + 1];
    gint i;

    for (i = 0; i < TC_PALETTE_N; i++) {
      values[i].value = i;
      values[i].value_name = tc_palette_display_name (i);
      values[i].value_nick = tc_palette_nick (i);
    }
    g_once_init_leave (&type, g_enum_register_static ("GstThermalPaletteId",
            values));
  }
  return type;
}

#define GST_TYPE_THERMAL_RANGE_MODE (gst_thermal_range_mode_get_type ())
static GType
gst_thermal_range_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_THERMAL_RANGE_AUTO, "The scene's min and max, damped", "auto"},
    {GST_THERMAL_RANGE_MANUAL, "range-min to range-max", "manual"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstThermalRangeMode",
            values));
  return type;
}

#define GST_TYPE_THERMAL_AGC (gst_thermal_agc_get_type ())
static GType
gst_thermal_agc_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {TC_AGC_LINEAR, "Linear", "linear"},
    {TC_AGC_PLATEAU, "Plateau-equalized histogram", "plateau"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstThermalAgc", values));
  return type;
}

#define gst_thermal_palette_parent_class parent_class
G_DEFINE_TYPE (GstThermalPalette, gst_thermal_palette, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (thermalpalette, "thermalpalette", GST_RANK_NONE,
    GST_TYPE_THERMAL_PALETTE);

static GstCaps *
gst_thermal_palette_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstCaps *ret = gst_caps_new_empty ();
  guint i;

  for (i = 0; i < gst_caps_get_size (caps); i++) {
    GstStructure *s = gst_structure_copy (gst_caps_get_structure (caps, i));

    gst_structure_remove_fields (s, "format", "colorimetry", "chroma-site",
        GST_THERMAL_CAPS_SCALE, NULL);
    if (direction == GST_PAD_SINK) {
      GstCaps *tmpl = gst_static_pad_template_get_caps (&src_template);
      const GValue *formats =
          gst_structure_get_value (gst_caps_get_structure (tmpl, 0), "format");
      gint w = 0, h = 0;

      /* I420 subsamples chroma 2x2: offered for even sizes only */
      if (gst_structure_get_int (s, "width", &w) &&
          gst_structure_get_int (s, "height", &h) && ((w | h) & 1)) {
        GValue list = G_VALUE_INIT;
        guint k;

        g_value_init (&list, GST_TYPE_LIST);
        for (k = 0; k < gst_value_list_get_size (formats); k++) {
          const GValue *f = gst_value_list_get_value (formats, k);

          if (!g_str_equal (g_value_get_string (f), "I420"))
            gst_value_list_append_value (&list, f);
        }
        gst_structure_take_value (s, "format", &list);
      } else {
        gst_structure_set_value (s, "format", formats);
      }
      gst_caps_unref (tmpl);
    } else {
      gst_structure_set (s, "format", G_TYPE_STRING, "GRAY16_LE", NULL);
    }
    ret = gst_caps_merge_structure (ret, s);
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, ret,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (ret);
    ret = tmp;
  }
  return ret;
}

static gboolean
gst_thermal_palette_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstThermalPalette *self = GST_THERMAL_PALETTE (filter);
  const GstStructure *s = gst_caps_get_structure (incaps, 0);
  TcPixelFormat fmt;
  TcYuvMatrix matrix = TC_YUV_BT601;
  gdouble scale;

  switch (GST_VIDEO_INFO_FORMAT (out_info)) {
    case GST_VIDEO_FORMAT_I420:
      fmt = TC_PIXFMT_I420;
      if (out_info->colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_BT709)
        matrix = TC_YUV_BT709;
      break;
    case GST_VIDEO_FORMAT_RGB:
      fmt = TC_PIXFMT_RGB;
      break;
    case GST_VIDEO_FORMAT_BGR:
      fmt = TC_PIXFMT_BGR;
      break;
    case GST_VIDEO_FORMAT_RGBx:
      fmt = TC_PIXFMT_RGBX;
      break;
    case GST_VIDEO_FORMAT_BGRx:
      fmt = TC_PIXFMT_BGRX;
      break;
    case GST_VIDEO_FORMAT_xRGB:
      fmt = TC_PIXFMT_XRGB;
      break;
    case GST_VIDEO_FORMAT_xBGR:
      fmt = TC_PIXFMT_XBGR;
      break;
    case GST_VIDEO_FORMAT_RGBA:
      fmt = TC_PIXFMT_RGBA;
      break;
    case GST_VIDEO_FORMAT_BGRA:
      fmt = TC_PIXFMT_BGRA;
      break;
    case GST_VIDEO_FORMAT_ARGB:
      fmt = TC_PIXFMT_ARGB;
      break;
    case GST_VIDEO_FORMAT_ABGR:
      fmt = TC_PIXFMT_ABGR;
      break;
    default:
      GST_ERROR_OBJECT (self, "unsupported output %" GST_PTR_FORMAT, outcaps);
      return FALSE;
  }
  if (!gst_structure_get_double (s, GST_THERMAL_CAPS_SCALE, &scale) ||
      !(scale > 0.0))
    scale = 0.01;

  if (!tc_colorizer_configure (self->colorizer, GST_VIDEO_INFO_WIDTH (in_info),
          GST_VIDEO_INFO_HEIGHT (in_info), fmt, matrix)) {
    GST_ERROR_OBJECT (self, "cannot colour %dx%d frames in %s",
        GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info),
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (out_info)));
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  self->scale = scale;
  self->dirty = TRUE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static guint16
celsius_to_counts (gdouble c, gdouble scale)
{
  gdouble v = (c + 273.15) / scale;

  return (guint16) CLAMP (lrint (v), 0, 65535);
}

/* with the object lock */
static void
gst_thermal_palette_apply_properties (GstThermalPalette * self)
{
  TcColorizer *c = self->colorizer;

  tc_colorizer_set_palette (c, self->palette);
  tc_colorizer_set_agc (c, self->agc, self->plateau);
  tc_colorizer_set_range (c, self->range_mode == GST_THERMAL_RANGE_AUTO,
      celsius_to_counts (self->range_min, self->scale),
      celsius_to_counts (self->range_max, self->scale), self->damping);
  tc_colorizer_set_dde (c, self->dde_level);
  tc_colorizer_set_balance (c, self->brightness, self->contrast);
  self->dirty = FALSE;
}

static GstFlowReturn
gst_thermal_palette_transform_frame (GstVideoFilter * filter,
    GstVideoFrame * in_frame, GstVideoFrame * out_frame)
{
  GstThermalPalette *self = GST_THERMAL_PALETTE (filter);
  GstThermalMeta *meta = gst_buffer_get_thermal_meta (in_frame->buffer);
  TcPlanes planes;
  guint16 lo, hi;
  guint i;
  gint palette;
  gboolean equalized;
  gdouble scale, brightness, contrast;
  GstThermalPaletteMeta *pm;

  if (meta && meta->kind == GST_THERMAL_FRAME_RAW && !self->warned_raw) {
    /* a picture can be made of raw counts, but no temperature holds in it */
    self->warned_raw = TRUE;
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("thermalpalette got raw sensor counts, not temperatures: the picture spans the "
            "counts, and a manual range (range-min, range-max, degrees C) cannot apply"),
        ("put thermalnuc ! thermalradiometry before it"));
  }
  GST_OBJECT_LOCK (self);
  if (meta && meta->kind == GST_THERMAL_FRAME_TEMPERATURE &&
      meta->scale > 0.0 && meta->scale != self->scale) {
    self->scale = meta->scale;
    self->dirty = TRUE;
  }
  if (self->dirty)
    gst_thermal_palette_apply_properties (self);
  palette = self->palette;
  equalized = self->agc == TC_AGC_PLATEAU;
  scale = self->scale;
  brightness = self->brightness;
  contrast = self->contrast;
  GST_OBJECT_UNLOCK (self);

  for (i = 0; i < 3; i++) {
    planes.data[i] = i < GST_VIDEO_FRAME_N_PLANES (out_frame) ?
        GST_VIDEO_FRAME_PLANE_DATA (out_frame, i) : NULL;
    planes.stride[i] = i < GST_VIDEO_FRAME_N_PLANES (out_frame) ?
        (gsize) GST_VIDEO_FRAME_PLANE_STRIDE (out_frame, i) : 0;
  }
  tc_colorizer_process (self->colorizer,
      GST_VIDEO_FRAME_PLANE_DATA (in_frame, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (in_frame, 0), &planes);
  tc_colorizer_last_range (self->colorizer, &lo, &hi);
  pm = gst_buffer_add_thermal_palette_meta (out_frame->buffer, palette,
      lo * scale - 273.15, hi * scale - 273.15, equalized);
  if (pm) {
    pm->brightness = brightness;
    pm->contrast = contrast;
  }

  return GST_FLOW_OK;
}

/* a picture is no temperature frame: its GstThermalMeta stays behind */
static gboolean
gst_thermal_palette_transform_meta (GstBaseTransform * trans, GstBuffer * outbuf,
    GstMeta * meta, GstBuffer * inbuf)
{
  if (meta->info->api == GST_THERMAL_META_API_TYPE)
    return FALSE;
  return GST_BASE_TRANSFORM_CLASS (parent_class)->transform_meta (trans, outbuf,
      meta, inbuf);
}

static gboolean
gst_thermal_palette_start (GstBaseTransform * trans)
{
  GstThermalPalette *self = GST_THERMAL_PALETTE (trans);

  GST_OBJECT_LOCK (self);
  tc_colorizer_reset (self->colorizer);
  self->dirty = TRUE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static void
gst_thermal_palette_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstThermalPalette *self = GST_THERMAL_PALETTE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PALETTE:
      self->palette = g_value_get_enum (value);
      break;
    case PROP_RANGE_MODE:
      self->range_mode = g_value_get_enum (value);
      break;
    case PROP_RANGE_MIN:
      self->range_min = g_value_get_double (value);
      break;
    case PROP_RANGE_MAX:
      self->range_max = g_value_get_double (value);
      break;
    case PROP_DAMPING:
      self->damping = g_value_get_double (value);
      break;
    case PROP_AGC:
      self->agc = g_value_get_enum (value);
      break;
    case PROP_PLATEAU:
      self->plateau = g_value_get_double (value);
      break;
    case PROP_DDE:
      self->dde_level = g_value_get_int (value);
      break;
    case PROP_BRIGHTNESS:
      self->brightness = g_value_get_double (value);
      break;
    case PROP_CONTRAST:
      self->contrast = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  if (self->range_max <= self->range_min)
    GST_WARNING_OBJECT (self, "range-max %.2f is not above range-min %.2f: "
        "the manual range will be one count wide", self->range_max,
        self->range_min);
  self->dirty = TRUE;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_palette_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstThermalPalette *self = GST_THERMAL_PALETTE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PALETTE:
      g_value_set_enum (value, self->palette);
      break;
    case PROP_RANGE_MODE:
      g_value_set_enum (value, self->range_mode);
      break;
    case PROP_RANGE_MIN:
      g_value_set_double (value, self->range_min);
      break;
    case PROP_RANGE_MAX:
      g_value_set_double (value, self->range_max);
      break;
    case PROP_DAMPING:
      g_value_set_double (value, self->damping);
      break;
    case PROP_AGC:
      g_value_set_enum (value, self->agc);
      break;
    case PROP_PLATEAU:
      g_value_set_double (value, self->plateau);
      break;
    case PROP_DDE:
      g_value_set_int (value, self->dde_level);
      break;
    case PROP_BRIGHTNESS:
      g_value_set_double (value, self->brightness);
      break;
    case PROP_CONTRAST:
      g_value_set_double (value, self->contrast);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_palette_finalize (GObject * object)
{
  GstThermalPalette *self = GST_THERMAL_PALETTE (object);

  tc_colorizer_free (self->colorizer);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* controlled properties follow the stream time */
static void
gst_thermal_palette_before_transform (GstBaseTransform * trans, GstBuffer * buf)
{
  GstClockTime ts = gst_segment_to_stream_time (&trans->segment,
      GST_FORMAT_TIME, GST_BUFFER_PTS (buf));

  if (GST_CLOCK_TIME_IS_VALID (ts))
    gst_object_sync_values (GST_OBJECT (trans), ts);
}

static void
gst_thermal_palette_class_init (GstThermalPaletteClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE;

  GST_DEBUG_CATEGORY_INIT (gst_thermal_palette_debug, "thermalpalette", 0,
      "Thermal palettes and AGC");

  gobject_class->set_property = gst_thermal_palette_set_property;
  gobject_class->get_property = gst_thermal_palette_get_property;
  gobject_class->finalize = gst_thermal_palette_finalize;

  g_object_class_install_property (gobject_class, PROP_PALETTE,
      g_param_spec_enum ("palette", "Palette", "Colour palette",
          GST_TYPE_THERMAL_PALETTE_ID, DEFAULT_PROP_PALETTE, rw));
  g_object_class_install_property (gobject_class, PROP_RANGE_MODE,
      g_param_spec_enum ("range-mode", "Range mode",
          "Temperature range the palette spans", GST_TYPE_THERMAL_RANGE_MODE,
          DEFAULT_PROP_RANGE_MODE, rw));
  g_object_class_install_property (gobject_class, PROP_RANGE_MIN,
      g_param_spec_double ("range-min", "Range min",
          "Lower end of the manual range, degrees C", -273.0, 6000.0,
          DEFAULT_PROP_RANGE_MIN, rw));
  g_object_class_install_property (gobject_class, PROP_RANGE_MAX,
      g_param_spec_double ("range-max", "Range max",
          "Upper end of the manual range, degrees C", -273.0, 6000.0,
          DEFAULT_PROP_RANGE_MAX, rw));
  g_object_class_install_property (gobject_class, PROP_DAMPING,
      g_param_spec_double ("damping", "Damping",
          "How slowly the automatic range follows the scene: the fraction of the old range kept at each frame (0 = at once)",
          0.0, 0.99, DEFAULT_PROP_DAMPING, rw));
  g_object_class_install_property (gobject_class, PROP_AGC,
      g_param_spec_enum ("agc", "AGC", "How temperatures map to palette "
          "colours within the range", GST_TYPE_THERMAL_AGC, DEFAULT_PROP_AGC,
          rw));
  g_object_class_install_property (gobject_class, PROP_PLATEAU,
      g_param_spec_double ("plateau", "Plateau",
          "Plateau AGC: the largest fraction of the pixels one histogram bin may "
          "weigh (1 = plain histogram equalization)", 0.0001, 1.0,
          DEFAULT_PROP_PLATEAU, rw));
  g_object_class_install_property (gobject_class, PROP_DDE,
      g_param_spec_int ("dde-level", "DDE level",
          "Digital detail enhancement (no unit: 0 = off, 1-100)", 0, 100,
          DEFAULT_PROP_DDE, rw));
  g_object_class_install_property (gobject_class, PROP_BRIGHTNESS,
      g_param_spec_double ("brightness", "Brightness",
          "Shifts every colour along the palette: -1 (half the palette darker) to 1 "
          "(half the palette brighter), a fraction of the palette; 0 = as the range maps it", -1.0, 1.0,
          DEFAULT_PROP_BRIGHTNESS, rw));
  g_object_class_install_property (gobject_class, PROP_CONTRAST,
      g_param_spec_double ("contrast", "Contrast",
          "Stretches the palette around its middle colour: 0 (one colour) to 2 (twice "
          "as steep), a factor, no unit; 1 = as the range maps it", 0.0, 2.0,
          DEFAULT_PROP_CONTRAST, rw));

  gst_element_class_set_static_metadata (element_class,
      "Thermal palette", "Filter/Converter/Video",
      "Colours temperature frames with automatic gain control, detail "
      "enhancement and palettes", "thermocam developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_thermal_palette_transform_caps);
  trans_class->before_transform = GST_DEBUG_FUNCPTR (gst_thermal_palette_before_transform);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_thermal_palette_start);
  trans_class->transform_meta =
      GST_DEBUG_FUNCPTR (gst_thermal_palette_transform_meta);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_thermal_palette_set_info);
  filter_class->transform_frame =
      GST_DEBUG_FUNCPTR (gst_thermal_palette_transform_frame);

  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_PALETTE_ID, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_RANGE_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_AGC, 0);
}

static void
gst_thermal_palette_init (GstThermalPalette * self)
{
  self->palette = DEFAULT_PROP_PALETTE;
  self->range_mode = DEFAULT_PROP_RANGE_MODE;
  self->range_min = DEFAULT_PROP_RANGE_MIN;
  self->range_max = DEFAULT_PROP_RANGE_MAX;
  self->damping = DEFAULT_PROP_DAMPING;
  self->agc = DEFAULT_PROP_AGC;
  self->plateau = DEFAULT_PROP_PLATEAU;
  self->dde_level = DEFAULT_PROP_DDE;
  self->brightness = DEFAULT_PROP_BRIGHTNESS;
  self->contrast = DEFAULT_PROP_CONTRAST;
  self->scale = 0.01;
  self->colorizer = tc_colorizer_new ();
  self->dirty = TRUE;
}
