/* thermocam: thermalrjpegdec, radiometric JPEG/FFF files to raw frames
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-thermalrjpegdec
 * @title: thermalrjpegdec
 *
 * Reads a FLIR-format radiometric file (a JPEG with FFF records in its APP1
 * segments, or a bare FFF file), whole, and outputs its raw sensor counts as
 * one GRAY16_LE frame.  The file's calibration (Planck and atmospheric
 * constants) and object parameters (emissivity, distance, reflected,
 * atmospheric and window temperatures, humidity) travel in the frame's
 * #GstThermalMeta, so thermalradiometry converts it with the file's own
 * values (params-source=auto) and thermalmeasure can measure it.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=FLIR_T640.jpg ! thermalrjpegdec ! thermalradiometry ! thermalpalette palette=ironbow ! pngenc ! filesink location=out.png
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstthermalrjpegdec.h"
#include "gstthermalmeta.h"
#include "tc-flir.h"

#include <gst/video/video.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_thermal_rjpeg_dec_debug);
#define GST_CAT_DEFAULT gst_thermal_rjpeg_dec_debug

/* a radiometric file is a few MB at most; refuse what cannot be one */
#define MAX_FILE_SIZE (256 * 1024 * 1024)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("image/jpeg; application/octet-stream; application/x-fff"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw, format=(string)GRAY16_LE, "
        "width=(int)[1, 65535], height=(int)[1, 65535], framerate=(fraction)0/1"));

#define gst_thermal_rjpeg_dec_parent_class parent_class
G_DEFINE_TYPE (GstThermalRjpegDec, gst_thermal_rjpeg_dec, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (thermalrjpegdec, "thermalrjpegdec", GST_RANK_NONE,
    GST_TYPE_THERMAL_RJPEG_DEC);

/* the whole file is in: decode it and push one frame */
static GstFlowReturn
gst_thermal_rjpeg_dec_decode (GstThermalRjpegDec * self)
{
  gsize size = gst_adapter_available (self->adapter);
  TcFlirImage img = { 0 };
  GError *err = NULL;
  GstBuffer *buf;
  GstThermalMeta *meta;
  GstCaps *caps;
  GstSegment segment;
  gboolean ok;

  self->decoded = TRUE;
  if (size == 0) {
    GST_ELEMENT_ERROR (self, STREAM, DECODE, ("Empty file"), (NULL));
    return GST_FLOW_ERROR;
  }
  {
    GstBuffer *whole = gst_adapter_take_buffer (self->adapter, size);
    GstMapInfo map;

    ok = gst_buffer_map (whole, &map, GST_MAP_READ);
    if (ok) {
      ok = tc_flir_read_data (map.data, map.size, &img, &err);
      gst_buffer_unmap (whole, &map);
    } else {
      g_set_error (&err, TC_FLIR_ERROR, TC_FLIR_ERROR_IO, "cannot map the data");
    }
    gst_buffer_unref (whole);
  }
  if (!ok) {
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        ("Not a readable radiometric file: %s", err->message), (NULL));
    g_error_free (err);
    return GST_FLOW_ERROR;
  }
  GST_INFO_OBJECT (self, "%dx%d %s raw, %s %s", img.width, img.height,
      img.raw_format, img.make, img.model);
  GST_OBJECT_LOCK (self);
  self->cal = img.cal;
  self->have_cal = TRUE;
  GST_OBJECT_UNLOCK (self);

  caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "GRAY16_LE",
      "width", G_TYPE_INT, img.width, "height", G_TYPE_INT, img.height,
      "framerate", GST_TYPE_FRACTION, 0, 1, NULL);
  ok = gst_pad_set_caps (self->srcpad, caps);
  gst_caps_unref (caps);
  if (!ok) {
    tc_flir_image_clear (&img);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (self->srcpad, gst_event_new_segment (&segment));

  /* GRAY16_LE rows of width * 2 bytes are 4-byte aligned only for even
   * widths: lay the frame out as GstVideoInfo says */
  {
    GstVideoInfo info;
    GstMapInfo map;
    gint y;

    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY16_LE, img.width,
        img.height);
    buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (y = 0; y < img.height; y++) {
      guint16 *row = (guint16 *) (map.data + GST_VIDEO_INFO_PLANE_OFFSET (&info, 0) +
          (gsize) y * GST_VIDEO_INFO_PLANE_STRIDE (&info, 0));
      gint x;

      for (x = 0; x < img.width; x++)
        row[x] = GUINT16_TO_LE (img.raw[(gsize) y * img.width + x]);
    }
    gst_buffer_unmap (buf, &map);
  }
  GST_BUFFER_PTS (buf) = 0;
  meta = gst_buffer_add_thermal_meta (buf);
  meta->kind = GST_THERMAL_FRAME_RAW;
  meta->has_calibration = TRUE;
  meta->calibration = img.cal;
  meta->has_params = TRUE;
  meta->params = img.params;
  tc_flir_image_clear (&img);
  return gst_pad_push (self->srcpad, buf);
}

static GstFlowReturn
gst_thermal_rjpeg_dec_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstThermalRjpegDec *self = GST_THERMAL_RJPEG_DEC (parent);

  if (self->decoded) {
    gst_buffer_unref (buf);
    return GST_FLOW_EOS;
  }
  if (gst_adapter_available (self->adapter) + gst_buffer_get_size (buf) >
      MAX_FILE_SIZE) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (self, STREAM, DECODE, ("File too large to be a "
            "radiometric image"), (NULL));
    return GST_FLOW_ERROR;
  }
  gst_adapter_push (self->adapter, buf);
  return GST_FLOW_OK;
}

static gboolean
gst_thermal_rjpeg_dec_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstThermalRjpegDec *self = GST_THERMAL_RJPEG_DEC (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:
    case GST_EVENT_SEGMENT:
      /* ours come with the frame */
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_EOS:
      if (!self->decoded) {
        GstFlowReturn ret = gst_thermal_rjpeg_dec_decode (self);

        if (ret != GST_FLOW_OK && ret != GST_FLOW_EOS && ret != GST_FLOW_FLUSHING)
          GST_DEBUG_OBJECT (self, "decode: %s", gst_flow_get_name (ret));
      }
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_adapter_clear (self->adapter);
      self->decoded = FALSE;
      break;
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

/* the file's calibration, for thermalradiometry to pick its scale at caps time */
static gboolean
gst_thermal_rjpeg_dec_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  GstThermalRjpegDec *self = GST_THERMAL_RJPEG_DEC (parent);

  if (gst_thermal_query_is_calibration (query)) {
    GstStructure *cal = NULL;

    GST_OBJECT_LOCK (self);
    if (self->have_cal)
      cal = gst_thermal_calibration_structure_new (&self->cal, 0, 0, NULL,
          NULL, NULL, 0);
    GST_OBJECT_UNLOCK (self);
    return gst_thermal_query_set_calibration (query, cal);
  }
  return gst_pad_query_default (pad, parent, query);
}

static GstStateChangeReturn
gst_thermal_rjpeg_dec_change_state (GstElement * element,
    GstStateChange transition)
{
  GstThermalRjpegDec *self = GST_THERMAL_RJPEG_DEC (element);

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    gst_adapter_clear (self->adapter);
    self->decoded = FALSE;
    GST_OBJECT_LOCK (self);
    self->have_cal = FALSE;
    GST_OBJECT_UNLOCK (self);
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static void
gst_thermal_rjpeg_dec_finalize (GObject * object)
{
  GstThermalRjpegDec *self = GST_THERMAL_RJPEG_DEC (object);

  g_object_unref (self->adapter);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_thermal_rjpeg_dec_class_init (GstThermalRjpegDecClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_thermal_rjpeg_dec_debug, "thermalrjpegdec", 0,
      "Radiometric JPEG/FFF reader");
  gobject_class->finalize = gst_thermal_rjpeg_dec_finalize;
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_thermal_rjpeg_dec_change_state);
  gst_element_class_set_static_metadata (element_class,
      "Radiometric JPEG decoder", "Codec/Decoder/Image",
      "Reads FLIR-format radiometric files (R-JPEG, FFF) into raw thermal "
      "frames with their calibration", "thermocam developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
}

static void
gst_thermal_rjpeg_dec_init (GstThermalRjpegDec * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_thermal_rjpeg_dec_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_thermal_rjpeg_dec_sink_event));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_use_fixed_caps (self->srcpad);
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_thermal_rjpeg_dec_src_query));
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
  self->adapter = gst_adapter_new ();
}
