/* thermocam: thermalosd, rules, readings, ruler and text over the video
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_THERMAL_OSD (gst_thermal_osd_get_type ())
G_DECLARE_FINAL_TYPE (GstThermalOsd, gst_thermal_osd, GST, THERMAL_OSD,
    GstVideoFilter)

/* Where the readings of the rules go (manual §3.1, "Position of Thermometry
 * Info") */
typedef enum {
  GST_THERMAL_OSD_INFO_NEAR_TARGET,
  GST_THERMAL_OSD_INFO_TOP_LEFT,
} GstThermalOsdInfoPosition;

/* The unit temperatures are displayed in (the metas are always degrees C) */
typedef enum {
  GST_THERMAL_OSD_UNIT_CELSIUS,
  GST_THERMAL_OSD_UNIT_FAHRENHEIT,
  GST_THERMAL_OSD_UNIT_KELVIN,
} GstThermalOsdUnit;

typedef enum {
  GST_THERMAL_OSD_DATE_YYYY_MM_DD,
  GST_THERMAL_OSD_DATE_MM_DD_YYYY,
  GST_THERMAL_OSD_DATE_DD_MM_YYYY,
} GstThermalOsdDateFormat;

typedef enum {
  GST_THERMAL_OSD_TIME_24H,
  GST_THERMAL_OSD_TIME_12H,
} GstThermalOsdTimeFormat;

/* The corner of the camera name / date / text block */
typedef enum {
  GST_THERMAL_OSD_TOP_LEFT,
  GST_THERMAL_OSD_TOP_RIGHT,
  GST_THERMAL_OSD_BOTTOM_LEFT,
  GST_THERMAL_OSD_BOTTOM_RIGHT,
} GstThermalOsdPosition;

/* How the lines of that block align (auto: with the corner) */
typedef enum {
  GST_THERMAL_OSD_ALIGN_AUTO,
  GST_THERMAL_OSD_ALIGN_LEFT,
  GST_THERMAL_OSD_ALIGN_CENTER,
  GST_THERMAL_OSD_ALIGN_RIGHT,
} GstThermalOsdAlignment;

GST_ELEMENT_REGISTER_DECLARE (thermalosd);

G_END_DECLS
