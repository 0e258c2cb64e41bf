/* thermocam: thermalmeasure, temperature rules and alarms
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>
#include "tc-radiometry.h"
#include "tc-rules-json.h"

G_BEGIN_DECLS

#define GST_TYPE_THERMAL_MEASURE (gst_thermal_measure_get_type ())
G_DECLARE_FINAL_TYPE (GstThermalMeasure, gst_thermal_measure, GST, THERMAL_MEASURE,
    GstVideoFilter)

/* A rule compiled for the current frame size */
typedef struct {
  TcRuleDef def;
  TcSpanList spans;
  TcAlarmState alarm;
  guint16 *lut;                  /* own emissivity etc.: frame count -> rule count */
  gboolean lut_valid;
  TcCalibration lut_cal;
  TcObjectParams lut_params;
  gdouble lut_scale;
  gdouble max, min, avg;         /* last readings, degrees C */
  gdouble max_at[2], min_at[2];
  gboolean valid;
} GstThermalMeasureRule;

typedef struct {
  TcComparisonDef def;
  TcAlarmState alarm;
} GstThermalMeasureComparison;

struct _GstThermalMeasure
{
  GstVideoFilter parent;

  /* properties (object lock) */
  gchar *rules_json, *comparisons_json, *scene_alarm_json;
  TcRuleDef *defs;
  guint n_defs;
  TcComparisonDef *cmp_defs;
  guint n_cmp_defs;
  TcAlarmConfig scene_cfg;
  gboolean scene_has_interval;
  gdouble alarm_interval;
  guint message_interval;        /* ms */
  gboolean rule_distance;        /* self-adaption: a rule's own distance counts */
  gdouble range_min, range_max;  /* the measurement range, degrees C */
  gboolean dirty;

  /* streaming */
  gint width, height;
  gdouble caps_scale;
  GstThermalMeasureRule *rules;
  guint n_rules;
  GstThermalMeasureComparison *cmps;
  guint n_cmps;
  TcAlarmState scene_alarm;
  TcAlarmConfig scene_alarm_cfg; /* compiled copy */
  GstClockTime last_message;
  guint64 frames;
};

GST_ELEMENT_REGISTER_DECLARE (thermalmeasure);

G_END_DECLS
