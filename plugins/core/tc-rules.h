/* thermocam: measurement rules (point, line, polygon) and alarm state machines
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A rule's geometry (normalized coordinates, origin top left) is compiled for
 * one frame size into spans (row, first column, length): a point is one pixel,
 * a line its Bresenham pixels, a polygon the pixel centres inside it (even-odd,
 * so concave shapes work).  Statistics then walk the spans only.  Compile when
 * rules or the frame size change, never per frame.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TC_RULE_MAX_POINTS 16

typedef enum {
  TC_RULE_POINT,
  TC_RULE_LINE,
  TC_RULE_POLYGON
} TcRuleType;

typedef struct {
  uint16_t y, x, len;
} TcSpan;

typedef struct {
  TcSpan *spans;
  size_t n, cap;
  size_t pixels;
} TcSpanList;

/* Compiles the geometry for a width x height frame (replaces the spans).
 * False if a point count does not suit the type or memory runs out. */
bool tc_rule_rasterize (TcRuleType type, const double (*points)[2], unsigned n_points,
                        int width, int height, TcSpanList *out);
void tc_span_list_clear (TcSpanList *list);

typedef struct {
  uint16_t max, min;
  uint32_t max_x, max_y, min_x, min_y;
  uint64_t sum;
  uint64_t count;
} TcStats;

/* Max, min (with the first pixel where each is found) and sum over the spans
 * of a uint16 frame (stride in bytes).  count = 0 for no pixels. */
void tc_stats_spans (const TcSpanList *spans, const uint8_t *frame, size_t stride,
                     TcStats *st);
/* The same over the whole frame. */
void tc_stats_frame (const uint8_t *frame, size_t stride, int width, int height,
                     TcStats *st);
/* The mean of lut[v] over the spans (for rules with their own emissivity). */
double tc_mean_spans_lut (const TcSpanList *spans, const uint8_t *frame, size_t stride,
                          const uint16_t *lut);

/* --- alarms --- */

typedef enum { TC_ON_MAX, TC_ON_MIN, TC_ON_AVG } TcAlarmOn;
typedef enum { TC_ABOVE, TC_BELOW } TcAlarmCondition;
typedef enum { TC_LEVEL_NONE = 0, TC_LEVEL_PRE_ALARM = 1, TC_LEVEL_ALARM = 2 } TcAlarmLevel;

typedef struct {
  bool enabled;
  TcAlarmOn on;
  TcAlarmCondition condition;
  bool has_pre_alarm;
  double pre_alarm;      /* threshold of the pre-alarm */
  double alarm;          /* threshold of the alarm */
  double tolerance;      /* hysteresis: an above-alarm ends below alarm - tolerance */
  double filter_time;    /* seconds the condition must hold before it starts */
  double interval;       /* seconds between repeated notifications (0 = none) */
} TcAlarmConfig;

typedef struct {
  bool active[3];        /* by level: is it on */
  double since[3];       /* when its condition began to hold (NAN = not holding) */
  double notified[3];    /* when it was last notified */
} TcAlarmState;

typedef enum { TC_EVENT_START, TC_EVENT_STOP, TC_EVENT_REPEAT } TcAlarmEventKind;

typedef struct {
  TcAlarmLevel level;
  TcAlarmEventKind kind;
  double value;
  double threshold;
} TcAlarmEvent;

void tc_alarm_state_reset (TcAlarmState *st);
/* Feeds one reading at time @t (seconds); writes up to 4 events (in order:
 * pre-alarm before alarm when rising, alarm before pre-alarm when falling) and
 * returns how many. */
unsigned tc_alarm_update (const TcAlarmConfig *cfg, TcAlarmState *st, double value,
                          double t, TcAlarmEvent *events);
/* The highest active level. */
TcAlarmLevel tc_alarm_level (const TcAlarmState *st);
/* Checks thresholds are in order for the condition; NULL or the bad field. */
const char *tc_alarm_config_check (const TcAlarmConfig *cfg);

#ifdef __cplusplus
}
#endif
