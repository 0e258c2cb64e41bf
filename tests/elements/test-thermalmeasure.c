/* thermocam: tests of thermalmeasure on the simulated scene
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "common.h"

#define W 320
#define H 256

/* The default scene (tc-sim.c): the motor, a rectangle at 85 C over
 * x 0.40-0.62, y 0.58-0.86; the heater at x 0.74-0.90, y 0.36-0.60, 40 C
 * rising to 90 C over 120 s and back; the cold pack at -10 C over x 0.74-0.90,
 * y 0.70-0.90. */
#define MOTOR "[[0.41,0.59],[0.61,0.59],[0.61,0.85],[0.41,0.85]]"
#define RULES \
  "[{\"id\": 1, \"name\": \"motor\", \"type\": \"polygon\", \"points\": " MOTOR "}," \
  " {\"id\": 2, \"name\": \"heater\", \"type\": \"point\", \"points\": [[0.82, 0.48]]," \
  "  \"alarm\": {\"condition\": \"above\", \"pre_alarm\": 60, \"alarm\": 70, \"tolerance\": 2}}," \
  " {\"id\": 3, \"name\": \"cold\", \"type\": \"line\", \"points\": [[0.70, 0.80], [0.95, 0.80]]}," \
  " {\"id\": 4, \"name\": \"motor e=0.5\", \"type\": \"polygon\", \"points\": " MOTOR "," \
  "  \"emissivity\": 0.5}]"

static GstHarness *
measure_harness (int frames, int fps, const gchar *extra, GstBus **bus)
{
  /* extra may make the source live (is-live=true): for tests that change
   * things while playing, so that frames are not all made ahead */
  gchar *desc = g_strdup_printf ("thermalsrc num-buffers=%d fpa-drift=0 %s "
      "! video/x-raw,width=%d,height=%d,framerate=%d/1 ! thermalnuc ! thermalradiometry "
      "! thermalmeasure name=m message-interval=0 %s", frames,
      strstr (extra, "is-live=true") ? "is-live=true" : "", W, H, fps,
      strstr (extra, "is-live=true") ? "" : extra);
  GstHarness *h = gst_harness_new_parse (desc);
  GstElement *m = gst_harness_find_element (h, "thermalmeasure");

  g_object_set (m, "rules", RULES, NULL);
  gst_object_unref (m);
  *bus = gst_bus_new ();
  gst_element_set_bus (h->element, *bus);
  gst_harness_use_systemclock (h);
  gst_harness_play (h);
  g_free (desc);
  return h;
}

/* the frame's own max over the rule's pixels, brute force */
static void
brute_max (GstBuffer *b, double x0, double y0, double x1, double y1, int *mx, int *my,
    guint16 *max)
{
  int x, y;

  *max = 0;
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++) {
      double cx = (x + 0.5) / W, cy = (y + 0.5) / H;
      guint16 v;

      if (cx < x0 || cx >= x1 || cy < y0 || cy >= y1)
        continue;
      v = pixel_at (b, W, x, y);
      if (v > *max) {
        *max = v;
        *mx = x;
        *my = y;
      }
    }
}

static const GstThermalRuleResult *
find_rule (const GstThermalMeasureMeta *m, gint id)
{
  guint i;

  for (i = 0; i < m->n_rules; i++)
    if (m->rules[i].id == id)
      return &m->rules[i];
  return NULL;
}

static void
test_rules_read_the_scene (void)
{
  GstBus *bus;
  GstHarness *h = measure_harness (10, 25, "", &bus);
  GstElement *src = gst_harness_find_element (h, "thermalsrc");
  GstBuffer *b;
  const GstThermalMeasureMeta *m;
  const GstThermalRuleResult *motor, *heater, *cold, *motor_e;
  guint16 max;
  int mx = -1, my = -1;
  double truth;

  b = gst_harness_pull (h);
  m = gst_buffer_get_thermal_measure_meta (b);
  g_assert_nonnull (m);
  g_assert_cmpuint (m->n_rules, ==, 4);
  motor = find_rule (m, 1);
  heater = find_rule (m, 2);
  cold = find_rule (m, 3);
  motor_e = find_rule (m, 4);
  g_assert_cmpstr (motor->name, ==, "motor");
  g_assert_true (motor->valid);

  /* the motor's max is the truth (85 C) within 0.3 C, found where the frame has it */
  g_test_message ("motor max %.3f min %.3f avg %.3f", motor->max, motor->min, motor->avg);
  g_assert_cmpfloat (fabs (motor->max - 85.0), <, 0.3);
  g_assert_cmpfloat (fabs (motor->avg - 85.0), <, 0.05);
  brute_max (b, 0.41, 0.59, 0.61, 0.85, &mx, &my, &max);
  g_assert_cmpfloat (fabs (max * 0.01 - 273.15 - motor->max), <, 1e-6);
  g_assert_cmpint (abs ((int) (motor->max_at[0] * W) - mx), <=, 1);
  g_assert_cmpint (abs ((int) (motor->max_at[1] * H) - my), <=, 1);
  g_signal_emit_by_name (src, "true-temperature", (guint) mx, (guint) my,
      GST_BUFFER_PTS (b), &truth);
  g_assert_cmpfloat (truth, ==, 85.0);

  /* the heater point starts at 40 C, the cold line reaches -10 C */
  g_assert_cmpfloat (fabs (heater->max - 40.0), <, 0.3);
  g_assert_cmpfloat (heater->max, ==, heater->min);
  g_assert_cmpfloat (fabs (cold->min + 10.0), <, 0.3);
  g_assert_cmpfloat (cold->max, >, 15.0);     /* the line crosses the background */
  /* a rule with its own lower emissivity reads the same pixels hotter */
  g_assert_cmpfloat (motor_e->avg, >, motor->avg + 20.0);
  /* the scene */
  g_assert_cmpfloat (fabs (m->max - 85.0), <, 0.5);
  g_assert_cmpfloat (fabs (m->min + 10.0), <, 0.5);
  gst_buffer_unref (b);
  gst_object_unref (src);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

/* the first frame's meta of the motor read twice, once at its own 3000 m */
static void
distance_and_range (gboolean rule_distance, gdouble *near, gdouble *far,
    GstThermalMeasureMeta *out)
{
  gchar *desc = g_strdup_printf ("thermalsrc num-buffers=10 fpa-drift=0 "
      "! video/x-raw,width=%d,height=%d,framerate=25/1 ! thermalnuc ! thermalradiometry "
      "! thermalmeasure name=m message-interval=0 rule-distance=%s range-min=0 range-max=80",
      W, H, rule_distance ? "true" : "false");
  GstHarness *h = gst_harness_new_parse (desc);
  GstElement *m = gst_harness_find_element (h, "thermalmeasure");
  GstBus *bus = gst_bus_new ();
  GstBuffer *b;
  const GstThermalMeasureMeta *mm;

  g_object_set (m, "rules", "[{\"id\": 1, \"type\": \"polygon\", \"points\": " MOTOR "},"
      " {\"id\": 2, \"type\": \"polygon\", \"distance\": 3000, \"points\": " MOTOR "}]", NULL);
  gst_element_set_bus (h->element, bus);
  gst_harness_use_systemclock (h);
  gst_harness_play (h);
  b = gst_harness_pull (h);
  g_assert_nonnull (b);
  mm = gst_buffer_get_thermal_measure_meta (b);
  g_assert_nonnull (mm);
  g_assert_cmpuint (mm->n_rules, ==, 2);
  *near = find_rule (mm, 1)->max;
  *far = find_rule (mm, 2)->max;
  *out = *mm;
  gst_buffer_unref (b);
  gst_object_unref (m);
  gst_harness_teardown (h);
  gst_object_unref (bus);
  g_free (desc);
}

/* the distance mode (rule-distance) and the range flags */
static void
test_distance_mode_and_range (void)
{
  static GstThermalMeasureMeta mm;
  gdouble near, far;

  distance_and_range (TRUE, &near, &far, &mm);
  g_test_message ("self-adaption: %.2f at the frame's distance, %.2f at 3000 m", near, far);
  g_assert_cmpfloat (far, >, near + 5.0);
  distance_and_range (FALSE, &near, &far, &mm);
  g_test_message ("fixed: %.2f and %.2f", near, far);
  g_assert_cmpfloat (fabs (far - near), <, 1e-9);
  /* 0..80 C: the cold pack (-10 C) below, the motor (85 C) above */
  g_assert_cmpfloat (mm.range_min, ==, 0.0);
  g_assert_cmpfloat (mm.range_max, ==, 80.0);
  g_assert_true (mm.below_range);
  g_assert_true (mm.above_range);
  g_assert_true (find_rule (&mm, 1)->above_range);
  g_assert_false (find_rule (&mm, 1)->below_range);
}

typedef struct {
  gchar *level, *state;
  gdouble value, t;
} Alarm;

static void
test_heater_fires_and_clears (void)
{
  GstBus *bus;
  /* 240 s of scene at 4 fps: the heater goes 40 -> 90 -> 40 C */
  const int frames = 960;
  GstHarness *h = measure_harness (frames + 20, 4, "", &bus);
  GArray *alarms = g_array_new (FALSE, TRUE, sizeof (Alarm));
  GstMessage *msg;
  GstThermalAlarmState max_state = GST_THERMAL_STATE_NORMAL;
  int f;
  guint i;

  for (f = 0; f < frames; f++) {
    GstBuffer *b = gst_harness_pull (h);
    const GstThermalRuleResult *r = find_rule (gst_buffer_get_thermal_measure_meta (b), 2);

    max_state = MAX (max_state, r->state);
    gst_buffer_unref (b);
  }
  g_assert_cmpint (max_state, ==, GST_THERMAL_STATE_ALARM);
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (gst_structure_has_name (s, "thermal-alarm")) {
      Alarm a;
      gint id;
      guint64 ts;

      g_assert_true (gst_structure_get_int (s, "id", &id));
      g_assert_cmpint (id, ==, 2);
      g_assert_cmpstr (gst_structure_get_string (s, "source"), ==, "rule");
      g_assert_cmpstr (gst_structure_get_string (s, "name"), ==, "heater");
      a.level = g_strdup (gst_structure_get_string (s, "level"));
      a.state = g_strdup (gst_structure_get_string (s, "state"));
      gst_structure_get_double (s, "value", &a.value);
      gst_structure_get_uint64 (s, "timestamp", &ts);
      a.t = (double) ts / GST_SECOND;
      g_assert_nonnull (gst_structure_get_string (s, "time"));
      g_array_append_val (alarms, a);
    }
    gst_message_unref (msg);
  }
  for (i = 0; i < alarms->len; i++) {
    Alarm *a = &g_array_index (alarms, Alarm, i);
    g_test_message ("t=%.2f s %s %s at %.2f C", a->t, a->level, a->state, a->value);
  }
  /* pre-alarm, alarm, then the alarm ends below 68 and the pre-alarm below 58 */
  g_assert_cmpuint (alarms->len, ==, 4);
  g_assert_cmpstr (g_array_index (alarms, Alarm, 0).level, ==, "pre_alarm");
  g_assert_cmpstr (g_array_index (alarms, Alarm, 0).state, ==, "start");
  g_assert_cmpfloat (g_array_index (alarms, Alarm, 0).value, >=, 60.0);
  g_assert_cmpstr (g_array_index (alarms, Alarm, 1).level, ==, "alarm");
  g_assert_cmpstr (g_array_index (alarms, Alarm, 1).state, ==, "start");
  g_assert_cmpstr (g_array_index (alarms, Alarm, 2).level, ==, "alarm");
  g_assert_cmpstr (g_array_index (alarms, Alarm, 2).state, ==, "stop");
  g_assert_cmpfloat (g_array_index (alarms, Alarm, 2).value, <, 68.0);
  g_assert_cmpfloat (g_array_index (alarms, Alarm, 2).value, >, 67.0);
  g_assert_cmpstr (g_array_index (alarms, Alarm, 3).level, ==, "pre_alarm");
  g_assert_cmpstr (g_array_index (alarms, Alarm, 3).state, ==, "stop");
  g_assert_cmpfloat (g_array_index (alarms, Alarm, 3).value, <, 58.0);
  /* when: the heater rises 50 C in 120 s */
  g_assert_cmpfloat (fabs (g_array_index (alarms, Alarm, 0).t - 48.0), <, 1.0);
  g_assert_cmpfloat (fabs (g_array_index (alarms, Alarm, 1).t - 72.0), <, 1.0);
  for (i = 0; i < alarms->len; i++) {
    g_free (g_array_index (alarms, Alarm, i).level);
    g_free (g_array_index (alarms, Alarm, i).state);
  }
  g_array_free (alarms, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

static void
test_scene_alarm_comparison_and_messages (void)
{
  GstBus *bus;
  GstHarness *h = measure_harness (30, 10,
      /* set at construction: frames are made ahead, a later set would race */
      "message-interval=500 scene-alarm=\"{\\\"on\\\": \\\"min\\\", \\\"condition\\\": \\\"below\\\", \\\"alarm\\\": 0}\" "
      "comparisons=\"[{\\\"id\\\": 7, \\\"name\\\": \\\"motor-cold\\\", \\\"rules\\\": [1, 3], "
      "\\\"alarm\\\": {\\\"on\\\": \\\"max\\\", \\\"alarm\\\": 50}}]\"", &bus);
  GstElement *m = gst_harness_find_element (h, "thermalmeasure");
  GstMessage *msg;
  gboolean scene = FALSE, comparison = FALSE;
  guint measurements = 0;
  GstClockTime first = GST_CLOCK_TIME_NONE, last = 0;
  int f;

  for (f = 0; f < 11; f++) {
    GstBuffer *b = gst_harness_pull (h);
    const GstThermalMeasureMeta *mm = gst_buffer_get_thermal_measure_meta (b);

    if (f == 0)
      first = GST_BUFFER_PTS (b);
    last = GST_BUFFER_PTS (b);

    g_assert_cmpint (mm->scene_state, ==, GST_THERMAL_STATE_ALARM);
    gst_buffer_unref (b);
  }
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (gst_structure_has_name (s, "thermal-alarm")) {
      const gchar *source = gst_structure_get_string (s, "source");

      if (g_str_equal (source, "scene"))
        scene = TRUE;
      if (g_str_equal (source, "comparison")) {
        gdouble v;
        gst_structure_get_double (s, "value", &v);
        /* motor max 85 - cold line max ~ background */
        g_assert_cmpfloat (v, >, 50.0);
        g_assert_cmpstr (gst_structure_get_string (s, "name"), ==, "motor-cold");
        comparison = TRUE;
      }
    } else if (gst_structure_has_name (s, "thermal-measurement")) {
      const GValue *rules = gst_structure_get_value (s, "rules");

      guint64 ts = 0;

      g_assert_cmpuint (gst_value_list_get_size (rules), ==, 4);
      /* the source runs ahead of what was pulled: count the pulled span */
      gst_structure_get_uint64 (s, "timestamp", &ts);
      if (ts >= first && ts <= last)
        measurements++;
    }
    gst_message_unref (msg);
  }
  g_assert_true (scene);
  g_assert_true (comparison);
  /* 11 frames over 1.0 s at one per 0.5 s: at 0, 0.5 and 1.0 s of them */
  g_assert_cmpuint (measurements, ==, 3);
  gst_object_unref (m);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

static void
test_rules_change_while_playing (void)
{
  GstBus *bus;
  GstHarness *h = measure_harness (60, 30, "is-live=true", &bus);
  GstElement *m = gst_harness_find_element (h, "thermalmeasure");
  GstBuffer *b;
  GstMessage *msg;
  gchar *rules = NULL;
  gboolean warned = FALSE, changed = FALSE;
  int f;

  gst_buffer_unref (gst_harness_pull (h));
  g_object_set (m, "rules", "[{\"id\": 9, \"type\": \"point\", \"points\": [[0.5, 0.7]]}]", NULL);
  /* frames made before the change may still be queued: the change shows soon */
  for (f = 0; f < 20; f++) {
    const GstThermalMeasureMeta *mm;

    b = gst_harness_pull (h);
    mm = gst_buffer_get_thermal_measure_meta (b);
    changed = mm->n_rules == 1 && mm->rules[0].id == 9;
    gst_buffer_unref (b);
    if (changed)
      break;
  }
  g_assert_true (changed);

  /* a bad rule set is refused whole, with a warning naming the field */
  g_object_set (m, "rules", "[{\"id\": 1, \"type\": \"polygon\", \"points\": [[0, 0]]}]", NULL);
  g_object_get (m, "rules", &rules, NULL);
  g_assert_nonnull (strstr (rules, "\"id\": 9"));
  g_free (rules);
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    GError *err = NULL;

    gst_message_parse_warning (msg, &err, NULL);
    g_assert_nonnull (strstr (err->message, "rules[0].points"));
    warned = TRUE;
    g_error_free (err);
    gst_message_unref (msg);
  }
  g_assert_true (warned);
  b = gst_harness_pull (h);
  g_assert_cmpuint (gst_buffer_get_thermal_measure_meta (b)->n_rules, ==, 1);
  gst_buffer_unref (b);
  gst_object_unref (m);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

static guint16 fill_60c (int x, int y) { return (guint16) lrint ((60.0 + 273.15) / 0.01); }
static guint16 fill_20c (int x, int y) { return (guint16) lrint ((20.0 + 273.15) / 0.01); }

static guint
count_alarms (GstBus *bus, const gchar *state)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (gst_structure_has_name (s, "thermal-alarm") &&
        (!state || g_str_equal (gst_structure_get_string (s, "state"), state)))
      n++;
    gst_message_unref (msg);
  }
  return n;
}

static GstBuffer *
stamped (guint16 (*fill) (int, int), int i)
{
  GstBuffer *b = gray16_buffer (64, 48, fill);

  GST_BUFFER_PTS (b) = i * GST_SECOND / 10;
  return b;
}

/* a standing alarm goes on through a change of its repeat interval, an
 * unrelated rule change, and ends with a new run */
static void
test_alarm_continuity (void)
{
  GstHarness *h = gst_harness_new ("thermalmeasure");
  GstBus *bus = gst_bus_new ();
  const gchar *rule = "[{\"id\": 5, \"type\": \"point\", \"points\": [[0.5, 0.5]],"
      " \"alarm\": {\"pre_alarm\": 50, \"alarm\": 55}}]";
  const gchar *rules2 = "[{\"id\": 5, \"type\": \"point\", \"points\": [[0.5, 0.5]],"
      " \"alarm\": {\"pre_alarm\": 50, \"alarm\": 55}},"
      " {\"id\": 6, \"type\": \"point\", \"points\": [[0.1, 0.1]]}]";
  int i = 0;

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY16_LE,width=64,height=48,"
      "framerate=10/1");
  g_object_set (h->element, "rules", rule, "message-interval", 0, NULL);
  gst_buffer_unref (gst_harness_push_and_pull (h, stamped (fill_60c, i++)));
  g_assert_cmpuint (count_alarms (bus, "start"), ==, 2);     /* pre-alarm, alarm */

  g_object_set (h->element, "alarm-interval", 30.0, NULL);
  gst_buffer_unref (gst_harness_push_and_pull (h, stamped (fill_60c, i++)));
  g_object_set (h->element, "rules", rules2, NULL);
  gst_buffer_unref (gst_harness_push_and_pull (h, stamped (fill_60c, i++)));
  g_assert_cmpuint (count_alarms (bus, NULL), ==, 0);        /* nothing restarted */

  gst_buffer_unref (gst_harness_push_and_pull (h, stamped (fill_20c, i++)));
  g_assert_cmpuint (count_alarms (bus, "stop"), ==, 2);

  /* hot again, then a stop and a new run: it starts afresh, no stale stop */
  gst_buffer_unref (gst_harness_push_and_pull (h, stamped (fill_60c, i++)));
  g_assert_cmpuint (count_alarms (bus, "start"), ==, 2);
  /* the same element stopped and started again */
  gst_element_set_state (h->element, GST_STATE_NULL);
  gst_harness_play (h);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY16_LE,width=64,height=48,"
      "framerate=10/1");
  gst_buffer_unref (gst_harness_push_and_pull (h, stamped (fill_20c, 0)));
  g_assert_cmpuint (count_alarms (bus, NULL), ==, 0);
  gst_buffer_unref (gst_harness_push_and_pull (h, stamped (fill_60c, 1)));
  g_assert_cmpuint (count_alarms (bus, "start"), ==, 2);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

/* the results survive thermalpalette, for the overlay */
static void
test_meta_survives_palette (void)
{
  GstHarness *h = gst_harness_new_parse ("thermalsrc num-buffers=20 "
      "! video/x-raw,width=160,height=128 ! thermalnuc ! thermalradiometry "
      "! thermalmeasure ! thermalpalette ! capsfilter caps=video/x-raw,format=RGBx");
  GstElement *m = gst_harness_find_element (h, "thermalmeasure");
  GstBuffer *b;

  g_object_set (m, "rules", "[{\"type\": \"point\", \"points\": [[0.5, 0.5]]}]", NULL);
  gst_object_unref (m);
  gst_harness_play (h);
  b = gst_harness_pull (h);
  g_assert_nonnull (gst_buffer_get_thermal_measure_meta (b));
  g_assert_cmpuint (gst_buffer_get_thermal_measure_meta (b)->n_rules, ==, 1);
  g_assert_nonnull (gst_buffer_get_thermal_palette_meta (b));
  gst_buffer_unref (b);
  gst_harness_teardown (h);
}

/* frames of the closed shutter (burning prevention): not valid, rules and
 * comparisons not valid, the scene alarm holds (no stop, no new start) */
static void
test_shutter_frames_hold_alarms (void)
{
  GstBus *bus;
  GstHarness *h = measure_harness (150, 30, "is-live=true", &bus);
  GstElement *m = gst_harness_find_element (h, "thermalmeasure");
  GstElement *src = gst_harness_find_element (h, "thermalsrc");
  GstMessage *msg;
  guint starts = 0, stops = 0, invalid = 0, i;
  gint f;
  gboolean alarm = FALSE, closed_seen = FALSE, open_again = FALSE;

  g_object_set (m, "scene-alarm", "{\"on\": \"max\", \"condition\": \"above\", "
      "\"pre_alarm\": 75, \"alarm\": 80}", "comparisons", "[{\"id\": 7, \"name\": "
      "\"motor-cold\", \"rules\": [1, 3], \"alarm\": {\"on\": \"max\", \"alarm\": 50}}]",
      NULL);
  for (f = 0; f < 40 && !alarm; f++) {
    GstBuffer *b = gst_harness_pull (h);
    const GstThermalMeasureMeta *mm = gst_buffer_get_thermal_measure_meta (b);

    alarm = mm->valid && mm->scene_state == GST_THERMAL_STATE_ALARM &&
        mm->n_comparisons == 1 && mm->comparisons[0].state == GST_THERMAL_STATE_ALARM;
    if (alarm) {
      g_assert_true (mm->comparisons[0].valid);
      g_assert_cmpint (mm->comparisons[0].id, ==, 7);
      g_assert_cmpint (mm->comparisons[0].rule_a, ==, 1);
      g_assert_cmpint (mm->comparisons[0].rule_b, ==, 3);
      g_assert_cmpfloat (mm->comparisons[0].value, >, 50.0);
    }
    gst_buffer_unref (b);
  }
  g_assert_true (alarm);

  g_object_set (src, "shutter", TRUE, NULL);
  for (f = 0; f < 40; f++) {
    GstBuffer *b = gst_harness_pull (h);
    const GstThermalMeasureMeta *mm = gst_buffer_get_thermal_measure_meta (b);

    if (!mm->valid) {
      closed_seen = TRUE;
      invalid++;
      /* the shutter is not the 85 C motor: only held states say alarm */
      g_assert_cmpfloat (mm->max, <, 75.0);
      g_assert_cmpint (mm->scene_state, ==, GST_THERMAL_STATE_ALARM);
      g_assert_cmpuint (mm->n_rules, ==, 4);
      for (i = 0; i < mm->n_rules; i++)
        g_assert_false (mm->rules[i].valid);
      g_assert_cmpuint (mm->n_comparisons, ==, 1);
      g_assert_false (mm->comparisons[0].valid);
      g_assert_cmpint (mm->comparisons[0].state, ==, GST_THERMAL_STATE_ALARM);
    } else {
      g_assert_false (closed_seen);     /* valid again only once it opens */
    }
    gst_buffer_unref (b);
  }
  g_assert_cmpuint (invalid, >=, 20);
  g_object_set (src, "shutter", FALSE, NULL);
  for (f = 0; f < 40 && !open_again; f++) {
    GstBuffer *b = gst_harness_pull (h);
    const GstThermalMeasureMeta *mm = gst_buffer_get_thermal_measure_meta (b);

    open_again = mm->valid;
    if (open_again) {
      g_assert_cmpint (mm->scene_state, ==, GST_THERMAL_STATE_ALARM);
      g_assert_true (mm->rules[0].valid);
    }
    gst_buffer_unref (b);
  }
  g_assert_true (open_again);

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (gst_structure_has_name (s, "thermal-alarm") &&
        g_str_equal (gst_structure_get_string (s, "level"), "alarm")) {
      if (g_str_equal (gst_structure_get_string (s, "state"), "start"))
        starts++;
      else
        stops++;
    }
    gst_message_unref (msg);
  }
  /* the scene's and the comparison's start, nothing more */
  g_assert_cmpuint (starts, ==, 2);
  g_assert_cmpuint (stops, ==, 0);
  gst_object_unref (src);
  gst_object_unref (m);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

/* a bad rules, comparisons or scene-alarm value keeps the old one and is
 * said: g_warning without a bus (gst-launch sets properties before the
 * element is in a pipeline), a warning message with one */
static void
test_bad_property_said (void)
{
  GstElement *m = gst_element_factory_make ("thermalmeasure", NULL);
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  gchar *rules = NULL;

  g_assert_nonnull (m);
  g_object_set (m, "rules", "[{\"id\": 1, \"name\": \"a\", \"type\": \"point\", "
      "\"points\": [[0.5, 0.5]]}]", NULL);
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING, "*Invalid rules*");
  g_object_set (m, "rules", "[{bad", NULL);
  g_test_assert_expected_messages ();
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING, "*Invalid scene-alarm*");
  g_object_set (m, "scene-alarm", "{\"pre_alarm\": 60, \"alarm\": 50}", NULL);
  g_test_assert_expected_messages ();
  g_object_get (m, "rules", &rules, NULL);
  g_assert_nonnull (strstr (rules, "\"a\""));
  g_free (rules);

  bus = gst_bus_new ();
  gst_element_set_bus (m, bus);
  g_object_set (m, "comparisons", "[{\"id\": 1, \"rules\": [1]}]", NULL);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  g_assert_nonnull (msg);
  gst_message_parse_warning (msg, &err, NULL);
  g_assert_nonnull (strstr (err->message, "Invalid comparisons"));
  g_clear_error (&err);
  gst_message_unref (msg);
  gst_element_set_bus (m, NULL);
  gst_object_unref (bus);
  gst_object_unref (m);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/thermalmeasure/rules-read-the-scene", test_rules_read_the_scene);
  g_test_add_func ("/thermalmeasure/heater-fires-and-clears", test_heater_fires_and_clears);
  g_test_add_func ("/thermalmeasure/scene-alarm-comparison-and-messages",
      test_scene_alarm_comparison_and_messages);
  g_test_add_func ("/thermalmeasure/rules-change-while-playing", test_rules_change_while_playing);
  g_test_add_func ("/thermalmeasure/meta-survives-palette", test_meta_survives_palette);
  g_test_add_func ("/thermalmeasure/alarm-continuity", test_alarm_continuity);
  g_test_add_func ("/thermalmeasure/bad-property-said", test_bad_property_said);
  g_test_add_func ("/thermalmeasure/distance-mode-and-range", test_distance_mode_and_range);
  g_test_add_func ("/thermalmeasure/shutter-frames-hold-alarms",
      test_shutter_frames_hold_alarms);
  return g_test_run ();
}
