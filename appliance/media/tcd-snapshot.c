/* thermocamd: pictures of the newest frame
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The core pipeline keeps the newest video and temperature frames; a picture
 * is made on request by a short pipeline (appsrc -> encoder -> appsink) in a
 * worker thread, so the core never pays for pictures nobody asked for.
 */
#include "tcd-snapshot.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <string.h>

#define TIMEOUT (5 * GST_SECOND)
static gchar *identity_model, *identity_serial;

void
tcd_snapshot_set_identity (const gchar *model, const gchar *serial)
{
  g_free (identity_model);
  g_free (identity_serial);
  identity_model = g_strdup (model);
  identity_serial = g_strdup (serial);
}

static GstSample *
run_chain (GstSample *in, const gchar *chain, GError **error)
{
  g_autofree gchar *desc = g_strdup_printf ("appsrc name=src format=time ! %s "
      "! appsink name=sink sync=false", chain);
  GstElement *pl = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, error);
  GstElement *src, *sink;
  GstSample *out = NULL;
  GstBuffer *buf;

  if (!pl)
    return NULL;
  src = gst_bin_get_by_name (GST_BIN (pl), "src");
  sink = gst_bin_get_by_name (GST_BIN (pl), "sink");
  g_object_set (src, "caps", gst_sample_get_caps (in), NULL);
  {
    GstElement *rjpeg = gst_bin_get_by_name (GST_BIN (pl), "rjpeg");
    if (rjpeg) {
      if (identity_model)
        g_object_set (rjpeg, "model", identity_model, NULL);
      if (identity_serial)
        g_object_set (rjpeg, "serial", identity_serial, NULL);
      gst_object_unref (rjpeg);
    }
  }
  gst_element_set_state (pl, GST_STATE_PLAYING);
  buf = gst_buffer_ref (gst_sample_get_buffer (in));
  gst_app_src_push_buffer (GST_APP_SRC (src), buf);
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  out = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), TIMEOUT);
  if (!out) {
    g_autoptr (GstBus) bus = gst_element_get_bus (pl);
    g_autoptr (GstMessage) m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (m)
      gst_message_parse_error (m, error, NULL);
    else
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
          "the encoder gave no picture");
  }
  gst_element_set_state (pl, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pl);
  return out;
}

static void
put16 (guint8 *p, guint v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
}

static void
put32 (guint8 *p, guint32 v)
{
  put16 (p, v & 0xffff);
  put16 (p + 2, v >> 16);
}

/* a 24-bit bottom-up BMP from BGR rows */
static GBytes *
bmp_from_sample (GstSample *s, GError **error)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buf = gst_sample_get_buffer (s);
  guint w, h, row, size;
  guint8 *out;

  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (s))
      || !gst_video_frame_map (&frame, &info, buf, GST_MAP_READ)) {
    g_set_error_literal (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "cannot read the converted picture");
    return NULL;
  }
  w = GST_VIDEO_INFO_WIDTH (&info);
  h = GST_VIDEO_INFO_HEIGHT (&info);
  row = (w * 3 + 3) & ~3u;
  size = 54 + row * h;
  out = g_malloc0 (size);
  out[0] = 'B';
  out[1] = 'M';
  put32 (out + 2, size);
  put32 (out + 10, 54);
  put32 (out + 14, 40);
  put32 (out + 18, w);
  put32 (out + 22, h);
  put16 (out + 26, 1);
  put16 (out + 28, 24);
  put32 (out + 34, row * h);
  put32 (out + 38, 2835);       /* 72 dpi */
  put32 (out + 42, 2835);
  for (guint y = 0; y < h; y++)
    memcpy (out + 54 + (gsize) (h - 1 - y) * row,
        (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), w * 3);
  gst_video_frame_unmap (&frame);
  return g_bytes_new_take (out, size);
}

GBytes *
tcd_snapshot_encode (GstSample *sample, TcdSnapshotFormat format, const gchar *palette,
    GError **error)
{
  return tcd_snapshot_encode_full (sample, format, palette, 0, 0, 90, error);
}

GBytes *
tcd_snapshot_encode_full (GstSample *sample, TcdSnapshotFormat format,
    const gchar *palette, gint width, gint height, gint quality, GError **error)
{
  g_autofree gchar *chain = NULL;
  g_autofree gchar *scale = NULL;
  g_autofree gchar *nick = NULL;
  GstSample *out;
  GBytes *bytes = NULL;

  g_return_val_if_fail (sample != NULL, NULL);

  quality = CLAMP (quality, 1, 100);
  /* scale first: I420 is half the work of BGR */
  if (width > 0 && height > 0)
    scale = g_strdup_printf ("videoscale ! video/x-raw,width=%d,height=%d,"
        "pixel-aspect-ratio=1/1 ! ", width, height);
  switch (format) {
    case TCD_SNAPSHOT_JPEG:
      chain = g_strdup_printf ("%svideoconvert ! jpegenc quality=%d",
          scale ? scale : "", quality);
      break;
    case TCD_SNAPSHOT_BMP:
      chain = g_strdup_printf ("%svideoconvert ! video/x-raw,format=BGR",
          scale ? scale : "");
      break;
    case TCD_SNAPSHOT_RJPEG:
      if (palette) {
        nick = g_strdelimit (g_strdup (palette), "_", '-');
        chain = g_strdup_printf ("thermalrjpegenc name=rjpeg palette=%s quality=%d", nick,
            quality);
      } else {
        chain = g_strdup_printf ("thermalrjpegenc name=rjpeg quality=%d", quality);
      }
      break;
    default:
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NOT_IMPLEMENTED,
          "unknown picture format %d", format);
      return NULL;
  }
  out = run_chain (sample, chain, error);
  if (!out)
    return NULL;
  if (format == TCD_SNAPSHOT_BMP) {
    bytes = bmp_from_sample (out, error);
  } else {
    GstMapInfo map;
    GstBuffer *buf = gst_sample_get_buffer (out);
    if (buf && gst_buffer_map (buf, &map, GST_MAP_READ)) {
      bytes = g_bytes_new (map.data, map.size);
      gst_buffer_unmap (buf, &map);
    } else {
      g_set_error_literal (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
          "cannot read the encoded picture");
    }
  }
  gst_sample_unref (out);
  return bytes;
}

const gchar *
tcd_snapshot_content_type (TcdSnapshotFormat format)
{
  return format == TCD_SNAPSHOT_BMP ? "image/bmp" : "image/jpeg";
}

const gchar *
tcd_snapshot_extension (TcdSnapshotFormat format)
{
  return format == TCD_SNAPSHOT_BMP ? "bmp" : "jpg";
}

gboolean
tcd_snapshot_format_parse (const gchar *s, TcdSnapshotFormat *format)
{
  if (!g_strcmp0 (s, "jpeg") || !g_strcmp0 (s, "jpg"))
    *format = TCD_SNAPSHOT_JPEG;
  else if (!g_strcmp0 (s, "bmp"))
    *format = TCD_SNAPSHOT_BMP;
  else if (!g_strcmp0 (s, "rjpeg"))
    *format = TCD_SNAPSHOT_RJPEG;
  else
    return FALSE;
  return TRUE;
}
