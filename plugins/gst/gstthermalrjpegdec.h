/* thermocam: thermalrjpegdec, radiometric JPEG/FFF files to raw frames
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstadapter.h>
#include "tc-radiometry.h"

G_BEGIN_DECLS

#define GST_TYPE_THERMAL_RJPEG_DEC (gst_thermal_rjpeg_dec_get_type ())
G_DECLARE_FINAL_TYPE (GstThermalRjpegDec, gst_thermal_rjpeg_dec, GST,
    THERMAL_RJPEG_DEC, GstElement)

struct _GstThermalRjpegDec
{
  GstElement parent;

  GstPad *sinkpad, *srcpad;
  GstAdapter *adapter;
  gboolean decoded;
  gboolean have_cal;             /* object lock */
  TcCalibration cal;
};

GST_ELEMENT_REGISTER_DECLARE (thermalrjpegdec);

G_END_DECLS
