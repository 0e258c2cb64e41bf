/* thermocam: thermalrjpegenc, temperature frames to radiometric JPEGs
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-thermalrjpegenc
 * @title: thermalrjpegenc
 *
 * Writes each temperature frame (GRAY16_LE in kelvin, from thermalradiometry,
 * with its #GstThermalMeta) as a radiometric JPEG in the FLIR format that
 * exiftool and thermography tools read: the picture in a palette, and FFF
 * records with the calibration and object parameters used and the raw
 * counts (the temperatures taken back through the inverse of the chain).
 * Reading the file back (thermalrjpegdec, `thermocam measure`, or the
 * published formula on what exiftool prints) gives the same temperatures.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 thermalsrc num-buffers=10 ! thermalnuc ! thermalradiometry ! thermalrjpegenc palette=ironbow ! multifilesink location=snap-%02d.jpg
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstthermalrjpegenc.h"
#include "gstthermalmeta.h"
#include "gstthermalpalette.h"
#include "tc-flir.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_thermal_rjpeg_enc_debug);
#define GST_CAT_DEFAULT gst_thermal_rjpeg_enc_debug

#define DEFAULT_PROP_PALETTE TC_PALETTE_IRONBOW
#define DEFAULT_PROP_QUALITY 90
#define DEFAULT_PROP_MODEL "thermocam"

enum
{
  PROP_0,
  PROP_PALETTE,
  PROP_QUALITY,
  PROP_MODEL,
  PROP_SERIAL,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY16_LE")));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("image/jpeg"));

#define gst_thermal_rjpeg_enc_parent_class parent_class
G_DEFINE_TYPE (GstThermalRjpegEnc, gst_thermal_rjpeg_enc, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (thermalrjpegenc, "thermalrjpegenc", GST_RANK_NONE,
    GST_TYPE_THERMAL_RJPEG_ENC);

static gboolean
gst_thermal_rjpeg_enc_set_caps (GstThermalRjpegEnc * self, GstCaps * caps)
{
  GstVideoInfo info;
  GstCaps *out;
  gdouble scale;
  gboolean ok;

  if (!gst_video_info_from_caps (&info, caps))
    return FALSE;
  if (!gst_structure_get_double (gst_caps_get_structure (caps, 0),
          GST_THERMAL_CAPS_SCALE, &scale) || !(scale > 0))
    scale = 0.01;
  if (!tc_colorizer_configure (self->colorizer, GST_VIDEO_INFO_WIDTH (&info),
          GST_VIDEO_INFO_HEIGHT (&info), TC_PIXFMT_RGB, TC_YUV_BT601))
    return FALSE;
  self->info = info;
  self->caps_scale = scale;
  out = gst_caps_new_simple ("image/jpeg", "width", G_TYPE_INT,
      GST_VIDEO_INFO_WIDTH (&info), "height", G_TYPE_INT,
      GST_VIDEO_INFO_HEIGHT (&info), "framerate", GST_TYPE_FRACTION,
      GST_VIDEO_INFO_FPS_N (&info), GST_VIDEO_INFO_FPS_D (&info), NULL);
  ok = gst_pad_set_caps (self->srcpad, out);
  gst_caps_unref (out);
  return ok;
}

static GstFlowReturn
gst_thermal_rjpeg_enc_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstThermalRjpegEnc *self = GST_THERMAL_RJPEG_ENC (parent);
  GstThermalMeta *meta = gst_buffer_get_thermal_meta (buf);
  gint w = GST_VIDEO_INFO_WIDTH (&self->info), h = GST_VIDEO_INFO_HEIGHT (&self->info);
  gsize n = (gsize) w * h, stride;
  TcFlirImage img = { 0 };
  GstVideoFrame frame;
  GByteArray *jpeg;
  GError *err = NULL;
  TcChain chain;
  guint8 *rgb;
  TcPlanes planes = { {NULL}, {0} };
  gdouble scale;
  gint quality, y;
  GstBuffer *out;

  if (!meta || meta->kind != GST_THERMAL_FRAME_TEMPERATURE || !meta->has_calibration) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("thermalrjpegenc needs temperature frames with their calibration"),
        ("put thermalradiometry before it"));
    return GST_FLOW_ERROR;
  }
  if (!gst_video_frame_map (&frame, &self->info, buf, GST_MAP_READ)) {
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  scale = meta->scale > 0 ? meta->scale : self->caps_scale;
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

  /* the raw counts a camera with this calibration would have seen */
  img.width = w;
  img.height = h;
  img.cal = meta->calibration;
  img.params = meta->has_params ? meta->params : img.params;
  if (!meta->has_params)
    tc_object_params_init_default (&img.params);
  img.raw = g_new (guint16, n);
  tc_chain_init (&chain, &img.cal, &img.params);
  for (y = 0; y < h; y++) {
    const guint16 *row = (const guint16 *) ((const guint8 *)
        GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) + (gsize) y * stride);
    gint x;

    for (x = 0; x < w; x++) {
      gdouble raw = tc_chain_kelvin_to_raw (&chain, row[x] * scale);

      img.raw[(gsize) y * w + x] = isfinite (raw) ?
          (guint16) CLAMP (lrint (raw), 0, 65535) : 0;
    }
  }

  /* the picture */
  rgb = g_malloc (n * 3);
  planes.data[0] = rgb;
  planes.stride[0] = (gsize) w * 3;
  GST_OBJECT_LOCK (self);
  tc_colorizer_set_palette (self->colorizer, self->palette);
  quality = self->quality;
  g_strlcpy (img.model, self->model ? self->model : "", sizeof (img.model));
  g_strlcpy (img.serial, self->serial ? self->serial : "", sizeof (img.serial));
  GST_OBJECT_UNLOCK (self);
  tc_colorizer_process (self->colorizer, GST_VIDEO_FRAME_PLANE_DATA (&frame, 0),
      stride, &planes);
  gst_video_frame_unmap (&frame);

  jpeg = g_byte_array_new ();
  if (!tc_flir_write_jpeg (&img, rgb, w, h, quality, jpeg, &err)) {
    GST_ELEMENT_ERROR (self, STREAM, ENCODE, ("Could not write the radiometric "
            "JPEG: %s", err->message), (NULL));
    g_error_free (err);
    g_byte_array_unref (jpeg);
    g_free (rgb);
    tc_flir_image_clear (&img);
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  g_free (rgb);
  tc_flir_image_clear (&img);
  {
    gsize len = jpeg->len;

    out = gst_buffer_new_wrapped (g_byte_array_free (jpeg, FALSE), len);
  }
  gst_buffer_copy_into (out, buf, GST_BUFFER_COPY_TIMESTAMPS, 0, -1);
  gst_buffer_unref (buf);
  return gst_pad_push (self->srcpad, out);
}

static gboolean
gst_thermal_rjpeg_enc_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstThermalRjpegEnc *self = GST_THERMAL_RJPEG_ENC (parent);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;
    gboolean ok;

    gst_event_parse_caps (event, &caps);
    ok = gst_thermal_rjpeg_enc_set_caps (self, caps);
    gst_event_unref (event);
    return ok;
  }
  return gst_pad_event_default (pad, parent, event);
}

static void
gst_thermal_rjpeg_enc_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstThermalRjpegEnc *self = GST_THERMAL_RJPEG_ENC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PALETTE:
      self->palette = g_value_get_enum (value);
      break;
    case PROP_QUALITY:
      self->quality = g_value_get_int (value);
      break;
    case PROP_MODEL:
      g_free (self->model);
      self->model = g_value_dup_string (value);
      break;
    case PROP_SERIAL:
      g_free (self->serial);
      self->serial = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_rjpeg_enc_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstThermalRjpegEnc *self = GST_THERMAL_RJPEG_ENC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PALETTE:
      g_value_set_enum (value, self->palette);
      break;
    case PROP_QUALITY:
      g_value_set_int (value, self->quality);
      break;
    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;
    case PROP_SERIAL:
      g_value_set_string (value, self->serial);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_rjpeg_enc_finalize (GObject * object)
{
  GstThermalRjpegEnc *self = GST_THERMAL_RJPEG_ENC (object);

  tc_colorizer_free (self->colorizer);
  g_free (self->model);
  g_free (self->serial);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_thermal_rjpeg_enc_class_init (GstThermalRjpegEncClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (gst_thermal_rjpeg_enc_debug, "thermalrjpegenc", 0,
      "Radiometric JPEG writer");
  gobject_class->set_property = gst_thermal_rjpeg_enc_set_property;
  gobject_class->get_property = gst_thermal_rjpeg_enc_get_property;
  gobject_class->finalize = gst_thermal_rjpeg_enc_finalize;

  g_object_class_install_property (gobject_class, PROP_PALETTE,
      g_param_spec_enum ("palette", "Palette", "Palette of the picture",
          GST_TYPE_THERMAL_PALETTE_ID, DEFAULT_PROP_PALETTE, rw));
  g_object_class_install_property (gobject_class, PROP_QUALITY,
      g_param_spec_int ("quality", "Quality", "JPEG quality of the picture (no unit: 1 = smallest, 100 = best)",
          1, 100, DEFAULT_PROP_QUALITY, rw));
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model", "Camera model written in the file",
          DEFAULT_PROP_MODEL, rw));
  g_object_class_install_property (gobject_class, PROP_SERIAL,
      g_param_spec_string ("serial", "Serial number",
          "Camera serial number written in the file: Exif SerialNumber; "
          "FLIR CameraSerialNumber holds 15 characters (a longer "
          "PREFIX-NUMBER gives its NUMBER)", NULL, rw));

  gst_element_class_set_static_metadata (element_class,
      "Radiometric JPEG encoder", "Codec/Encoder/Image",
      "Writes temperature frames as FLIR-format radiometric JPEGs",
      "thermocam developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
}

static void
gst_thermal_rjpeg_enc_init (GstThermalRjpegEnc * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_thermal_rjpeg_enc_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_thermal_rjpeg_enc_sink_event));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->palette = DEFAULT_PROP_PALETTE;
  self->quality = DEFAULT_PROP_QUALITY;
  self->model = g_strdup (DEFAULT_PROP_MODEL);
  self->caps_scale = 0.01;
  self->colorizer = tc_colorizer_new ();
  tc_colorizer_set_agc (self->colorizer, TC_AGC_PLATEAU, 0.02);
  tc_colorizer_set_range (self->colorizer, TRUE, 0, 0, 0.0);
}
