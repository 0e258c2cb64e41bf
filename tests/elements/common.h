/* thermocam: helpers shared by the element tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>

#include "gstthermalmeta.h"

/* Mean and standard deviation of a GRAY16 buffer (dense rows of @width),
 * over pixels not flagged in @skip (may be NULL), times @scale. */
static inline void
frame_stats (GstBuffer *buf, int width, int height, const guint8 *skip,
    double scale, double *mean, double *std)
{
  GstMapInfo map;
  const guint16 *p;
  double s = 0, s2 = 0;
  gsize n = 0, i;

  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
  g_assert_cmpuint (map.size, >=, (gsize) width * height * 2);
  p = (const guint16 *) map.data;
  for (i = 0; i < (gsize) width * height; i++) {
    double v;

    if (skip && skip[i])
      continue;
    v = p[i] * scale;
    s += v;
    s2 += v * v;
    n++;
  }
  gst_buffer_unmap (buf, &map);
  *mean = s / n;
  *std = sqrt (MAX (0.0, s2 / n - (s / n) * (s / n)));
}

static inline guint16
pixel_at (GstBuffer *buf, int width, int x, int y)
{
  GstMapInfo map;
  guint16 v;

  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
  v = ((const guint16 *) map.data)[(gsize) y * width + x];
  gst_buffer_unmap (buf, &map);
  return v;
}

/* A GRAY16 buffer of @width x @height filled by @fill (x, y) */
static inline GstBuffer *
gray16_buffer (int width, int height, guint16 (*fill) (int x, int y))
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, (gsize) width * height * 2, NULL);
  GstMapInfo map;
  int x, y;

  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++)
      ((guint16 *) map.data)[(gsize) y * width + x] = fill (x, y);
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* "x,y;x,y" into a mask of width * height */
static inline guint8 *
mask_from_list (const gchar *list, int width, int height, guint *count)
{
  guint8 *mask = g_new0 (guint8, (gsize) width * height);
  gchar **items = g_strsplit (list ? list : "", ";", -1);
  guint i, n = 0;

  for (i = 0; items[i]; i++) {
    int x, y;

    if (sscanf (items[i], "%d,%d", &x, &y) == 2 && x >= 0 && y >= 0 &&
        x < width && y < height) {
      mask[(gsize) y * width + x] = 1;
      n++;
    }
  }
  g_strfreev (items);
  if (count)
    *count = n;
  return mask;
}
