/* thermocamd: pictures of the newest frame (JPEG, BMP, radiometric JPEG)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum {
  TCD_SNAPSHOT_JPEG,
  TCD_SNAPSHOT_BMP,
  TCD_SNAPSHOT_RJPEG
} TcdSnapshotFormat;

/* Encodes @sample (video frames for JPEG and BMP, temperature frames for the
 * radiometric JPEG).  Blocking (a short pipeline): call it from a worker. */
GBytes *tcd_snapshot_encode (GstSample *sample, TcdSnapshotFormat format,
                             const gchar *palette, GError **error);
/* The same with a size (@width and @height 0: as is; ignored for the
 * radiometric JPEG, always at the sensor's resolution) and a JPEG @quality
 * (1..100).  @palette: a palette nick ("white-hot" or the config's
 * "white_hot"), NULL for the encoder's default. */
GBytes *tcd_snapshot_encode_full (GstSample *sample, TcdSnapshotFormat format,
                                  const gchar *palette, gint width, gint height,
                                  gint quality, GError **error);
/* The device's model and serial number, written into every radiometric JPEG
 * (thermalrjpegenc's model and serial: FLIR CameraInfo and Exif).  Call once
 * at start, before any picture is made. */
void    tcd_snapshot_set_identity (const gchar *model, const gchar *serial);
const gchar *tcd_snapshot_content_type (TcdSnapshotFormat format);
/* "jpg" or "bmp" */
const gchar *tcd_snapshot_extension (TcdSnapshotFormat format);
/* "jpeg" (or "jpg"), "bmp", "rjpeg"; FALSE for anything else */
gboolean     tcd_snapshot_format_parse (const gchar *s, TcdSnapshotFormat *format);

G_END_DECLS
