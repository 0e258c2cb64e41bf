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
const gchar *tcd_snapshot_content_type (TcdSnapshotFormat format);

G_END_DECLS
