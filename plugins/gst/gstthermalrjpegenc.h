/* thermocam: thermalrjpegenc, temperature frames to radiometric JPEGs
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include "tc-palette.h"

G_BEGIN_DECLS

#define GST_TYPE_THERMAL_RJPEG_ENC (gst_thermal_rjpeg_enc_get_type ())
G_DECLARE_FINAL_TYPE (GstThermalRjpegEnc, gst_thermal_rjpeg_enc, GST,
    THERMAL_RJPEG_ENC, GstElement)

struct _GstThermalRjpegEnc
{
  GstElement parent;

  GstPad *sinkpad, *srcpad;
  GstVideoInfo info;
  gdouble caps_scale;

  /* properties (object lock) */
  TcPaletteId palette;
  gint quality;
  gchar *model;
  gchar *serial;

  /* streaming */
  TcColorizer *colorizer;
  gboolean sent_caps;
};

GST_ELEMENT_REGISTER_DECLARE (thermalrjpegenc);

G_END_DECLS
