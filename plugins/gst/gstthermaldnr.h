/* thermocam: thermaldnr, digital noise reduction of the video branch
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>
#include "tc-dnr.h"

G_BEGIN_DECLS

#define GST_TYPE_THERMAL_DNR (gst_thermal_dnr_get_type ())
G_DECLARE_FINAL_TYPE (GstThermalDnr, gst_thermal_dnr, GST, THERMAL_DNR,
    GstVideoFilter)

typedef enum {
  GST_THERMAL_DNR_OFF,
  GST_THERMAL_DNR_NORMAL,
  GST_THERMAL_DNR_EXPERT,
} GstThermalDnrMode;

struct _GstThermalDnr
{
  GstVideoFilter parent;

  /* properties (object lock) */
  GstThermalDnrMode mode;
  gint level;                     /* normal: both filters */
  gint spatial_level, temporal_level;   /* expert */
  gboolean dirty;                 /* push the levels into the kernel */
  gboolean reset;                 /* restart the temporal filter */
  gdouble scale;                  /* kelvin per count (caps, then the meta) */

  /* streaming thread */
  TcDnr *dnr;
  gboolean passthrough;           /* what the last frame saw */
};

GST_ELEMENT_REGISTER_DECLARE (thermaldnr);

GType gst_thermal_dnr_mode_get_type (void);
#define GST_TYPE_THERMAL_DNR_MODE (gst_thermal_dnr_mode_get_type ())

G_END_DECLS
