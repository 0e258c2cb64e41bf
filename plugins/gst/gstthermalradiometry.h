/* thermocam: thermalradiometry, raw counts to temperature
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>
#include "tc-radiometry.h"

G_BEGIN_DECLS

#define GST_TYPE_THERMAL_RADIOMETRY (gst_thermal_radiometry_get_type ())
G_DECLARE_FINAL_TYPE (GstThermalRadiometry, gst_thermal_radiometry, GST,
    THERMAL_RADIOMETRY, GstVideoFilter)

typedef enum {
  GST_THERMAL_PARAMS_AUTO,        /* the frame's own parameters when it has them */
  GST_THERMAL_PARAMS_PROPERTIES,  /* always the element's properties */
} GstThermalParamsSource;

typedef enum {
  GST_THERMAL_SCALE_AUTO,
  GST_THERMAL_SCALE_CENTIKELVIN,
  GST_THERMAL_SCALE_DECIKELVIN,
} GstThermalScale;

struct _GstThermalRadiometry
{
  GstVideoFilter parent;

  /* properties (object lock) */
  TcObjectParams params;
  gchar *calibration_file;
  GstThermalParamsSource params_source;
  GstThermalScale scale_mode;

  /* state (object lock for what properties read) */
  TcCalibration cal;
  gboolean have_file_cal;
  gboolean have_upstream_cal;
  gdouble scale;                 /* negotiated kelvin per count */
  gboolean dirty;                /* rebuild the table before the next frame */
  TcCalibration lut_cal;         /* what the table was built from */
  TcObjectParams lut_params;
  uint16_t *lut;                 /* 65536 entries */
  uint16_t valid_lo, valid_hi;
  guint64 clamped_last, clamped_total;
  guint64 rebuilds;
};

GST_ELEMENT_REGISTER_DECLARE (thermalradiometry);

G_END_DECLS
