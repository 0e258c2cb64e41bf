/* thermocam: what travels with thermal frames
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include "tc-radiometry.h"

G_BEGIN_DECLS

/* Raw counts or temperature (linear in kelvin). */
typedef enum {
  GST_THERMAL_FRAME_RAW,
  GST_THERMAL_FRAME_TEMPERATURE
} GstThermalFrameKind;

/**
 * GstThermalMeta:
 * @kind: raw counts or temperature
 * @has_calibration: whether @calibration is known
 * @calibration: the camera's calibration (Planck and atmospheric constants)
 * @has_params: whether @params are the object parameters the frame was taken or
 *   converted with (a radiometric file carries them; a sensor does not)
 * @params: emissivity, distance, reflected temperature, ...
 * @scale: kelvin per count of a temperature frame (0.01 or 0.1)
 * @fpa_temperature: sensor (focal plane) temperature, degrees C, NAN if unknown
 * @shutter_closed: the frame shows the closed shutter, not the scene
 * @clamped: pixels of this temperature frame whose counts were outside the chain's domain
 *
 * The radiometric parameters of one frame, set by the source and carried and
 * completed by each element of the chain.
 */
/* opaque to introspection (its calibration and parameters are plain C
 * types it cannot lay out): read it there with the functions below */
#ifdef __GI_SCANNER__
typedef struct _GstThermalMeta GstThermalMeta;
#else
typedef struct _GstThermalMeta {
  GstMeta meta;

  GstThermalFrameKind kind;
  gboolean has_calibration;
  TcCalibration calibration;
  gboolean has_params;
  TcObjectParams params;
  gdouble scale;
  gdouble fpa_temperature;
  gboolean shutter_closed;
  guint64 clamped;
} GstThermalMeta;
#endif

GType gst_thermal_meta_api_get_type (void);
#define GST_THERMAL_META_API_TYPE (gst_thermal_meta_api_get_type ())
const GstMetaInfo *gst_thermal_meta_get_info (void);
#define GST_THERMAL_META_INFO (gst_thermal_meta_get_info ())

GstThermalMeta *gst_buffer_add_thermal_meta (GstBuffer *buffer);
GstThermalMeta *gst_buffer_get_thermal_meta (GstBuffer *buffer);
/* The buffer's meta, added (with no calibration, no parameters) if it has none. */
GstThermalMeta *gst_buffer_ensure_thermal_meta (GstBuffer *buffer);

/* The caps field that carries the scale of temperature frames (kelvin per count). */
#define GST_THERMAL_CAPS_SCALE "temperature-scale"

/* Upstream event asking the sensor to close or open its shutter. */
#define GST_THERMAL_SHUTTER_EVENT "thermal-shutter"
GstEvent *gst_thermal_event_new_shutter (gboolean closed);
gboolean  gst_thermal_event_parse_shutter (GstEvent *event, gboolean *closed);

/* Upstream query for the sensor's factory calibration: answered with the
 * structure thermalsrc's "calibration" property holds. */
#define GST_THERMAL_CALIBRATION_QUERY "thermal-calibration"
GstQuery *gst_thermal_query_new_calibration (void);
gboolean  gst_thermal_query_is_calibration (GstQuery *query);
/* Answers a calibration query with @cal (taken); FALSE for a NULL @cal. */
gboolean  gst_thermal_query_set_calibration (GstQuery *query, GstStructure *cal);

/* The calibration structure: width, height, Planck and atmospheric constants
 * (exiftool names), "gain" and "offset" (GBytes of width*height float),
 * "bad-pixels" (GBytes of guint32 indices). */
GstStructure *gst_thermal_calibration_structure_new (const TcCalibration *cal,
    gint width, gint height, const float *gain, const float *offset,
    const guint32 *bad, gsize n_bad);
gboolean gst_thermal_calibration_structure_get (const GstStructure *s,
    TcCalibration *cal);

/**
 * GstThermalPaletteMeta:
 * @palette: the TcPaletteId the picture was drawn with
 * @range_min: temperature of palette index 0, degrees C
 * @range_max: temperature of palette index 255, degrees C
 * @equalized: the mapping between is histogram-equalized, not linear
 * @brightness, @contrast: the balance applied to the palette index
 *   (tc_palette_balance_index)
 *
 * Attached by thermalpalette so that an overlay can draw the palette's
 * colour-temperature ruler exactly as the frame was coloured.
 */
typedef struct {
  GstMeta meta;

  gint palette;
  gdouble range_min, range_max;
  gboolean equalized;
  gdouble brightness, contrast;
} GstThermalPaletteMeta;

GType gst_thermal_palette_meta_api_get_type (void);
#define GST_THERMAL_PALETTE_META_API_TYPE (gst_thermal_palette_meta_api_get_type ())
const GstMetaInfo *gst_thermal_palette_meta_get_info (void);
GstThermalPaletteMeta *gst_buffer_get_thermal_palette_meta (GstBuffer *buffer);
GstThermalPaletteMeta *gst_buffer_add_thermal_palette_meta (GstBuffer *buffer,
    gint palette, gdouble range_min, gdouble range_max, gboolean equalized);

#define GST_THERMAL_MAX_RULES 40
#define GST_THERMAL_MAX_POINTS 16
#define GST_THERMAL_NAME_LEN 64

typedef enum {
  GST_THERMAL_RULE_POINT,
  GST_THERMAL_RULE_LINE,
  GST_THERMAL_RULE_POLYGON
} GstThermalRuleType;

typedef enum {
  GST_THERMAL_STATE_NORMAL,
  GST_THERMAL_STATE_PRE_ALARM,
  GST_THERMAL_STATE_ALARM
} GstThermalAlarmState;

/**
 * GstThermalRuleResult:
 * @id: the rule's id
 * @name: its name (UTF-8, NUL-terminated)
 * @type: point, line or polygon
 * @n_points: points of the geometry
 * @points: normalized coordinates (x, y in 0..1, origin top left)
 * @valid: the rule covers at least one pixel and has readings
 * @max, @min, @avg: degrees C (with the rule's own emissivity etc. if set)
 * @max_at, @min_at: normalized positions of max and min
 * @state: its alarm state (normal when it has no alarm)
 * @has_alarm: the rule has an alarm enabled
 * @below_range, @above_range: @min is below, @max above the measurement range
 *   thermalmeasure was given (`range-min`, `range-max`): the numbers are the
 *   sensor's, but not ones the range's accuracy holds for
 */
typedef struct {
  gint id;
  gchar name[GST_THERMAL_NAME_LEN];
  GstThermalRuleType type;
  guint n_points;
  gdouble points[GST_THERMAL_MAX_POINTS][2];
  gboolean valid;
  gdouble max, min, avg;
  gdouble max_at[2], min_at[2];
  GstThermalAlarmState state;
  gboolean has_alarm;
  gboolean below_range, above_range;
} GstThermalRuleResult;

#define GST_THERMAL_MAX_COMPARISONS 40

/**
 * GstThermalComparisonResult:
 * @id: the comparison's id
 * @name: its name (UTF-8, NUL-terminated)
 * @rule_a, @rule_b: the ids of the rules it compares
 * @valid: both rules have readings on this frame
 * @value: reading(a) - reading(b) of the alarm's quantity (max, min or avg), K
 * @state: its alarm state
 * @has_alarm: the comparison has an alarm enabled
 */
typedef struct {
  gint id;
  gchar name[GST_THERMAL_NAME_LEN];
  gint rule_a, rule_b;
  gboolean valid;
  gdouble value;
  GstThermalAlarmState state;
  gboolean has_alarm;
} GstThermalComparisonResult;

/**
 * GstThermalMeasureMeta:
 * @max, @min, @avg: the whole scene, degrees C
 * @max_at, @min_at: normalized positions of the scene's max and min
 * @scene_state: the scene alarm's state
 * @n_rules: enabled rules in @rules, in the order they were given
 * @rules: per rule geometry and readings
 * @valid: the frame shows the scene; FALSE while the shutter is closed
 *   (burning prevention): the readings are the shutter's, every rule and
 *   comparison is marked not valid and the alarms hold their states
 * @n_comparisons: enabled comparisons in @comparisons
 * @comparisons: their values and states
 * @range_min, @range_max: the measurement range, degrees C (thermalmeasure's
 *   `range-min` and `range-max`)
 * @below_range, @above_range: the scene's @min is below, its @max above it
 *
 * Attached by thermalmeasure to every frame; it survives thermalpalette, so an
 * overlay (thermalosd) can draw the rules with their readings.
 */
typedef struct {
  GstMeta meta;

  gdouble max, min, avg;
  gdouble max_at[2], min_at[2];
  GstThermalAlarmState scene_state;
  guint n_rules;
  GstThermalRuleResult rules[GST_THERMAL_MAX_RULES];
  gboolean valid;
  guint n_comparisons;
  GstThermalComparisonResult comparisons[GST_THERMAL_MAX_COMPARISONS];
  gdouble range_min, range_max;
  gboolean below_range, above_range;
} GstThermalMeasureMeta;

GType gst_thermal_measure_meta_api_get_type (void);
#define GST_THERMAL_MEASURE_META_API_TYPE (gst_thermal_measure_meta_api_get_type ())
const GstMetaInfo *gst_thermal_measure_meta_get_info (void);
GstThermalMeasureMeta *gst_buffer_get_thermal_measure_meta (GstBuffer *buffer);
/* Adds an empty one (n_rules 0) */
GstThermalMeasureMeta *gst_buffer_add_thermal_measure_meta (GstBuffer *buffer);

/* ---- for applications (and GObject introspection: GstThermal-1.0) ---- */

gdouble        gst_thermal_meta_to_celsius (const GstThermalMeta *meta, guint count);
GstThermalFrameKind gst_thermal_meta_get_kind (const GstThermalMeta *meta);
gdouble        gst_thermal_meta_get_scale (const GstThermalMeta *meta);
GstStructure  *gst_thermal_meta_get_parameters (const GstThermalMeta *meta);

guint                 gst_thermal_measure_meta_get_n_rules (const GstThermalMeasureMeta *meta);
GstThermalRuleResult *gst_thermal_measure_meta_get_rule (GstThermalMeasureMeta *meta, guint index);
GstThermalRuleResult *gst_thermal_measure_meta_find_rule (GstThermalMeasureMeta *meta, gint id);
void                  gst_thermal_measure_meta_get_max_position (const GstThermalMeasureMeta *meta,
                                                                 gdouble *x, gdouble *y);
void                  gst_thermal_measure_meta_get_min_position (const GstThermalMeasureMeta *meta,
                                                                 gdouble *x, gdouble *y);

const gchar *gst_thermal_rule_result_get_name (const GstThermalRuleResult *result);
void         gst_thermal_rule_result_get_max_position (const GstThermalRuleResult *result,
                                                       gdouble *x, gdouble *y);
void         gst_thermal_rule_result_get_min_position (const GstThermalRuleResult *result,
                                                       gdouble *x, gdouble *y);
gboolean     gst_thermal_rule_result_get_point (const GstThermalRuleResult *result, guint index,
                                                gdouble *x, gdouble *y);

G_END_DECLS
