/* thermocam: unit tests of rules (rasterization, statistics) and alarms
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "tc-rules.h"
#include "tc-rules-json.h"

static void
test_point_and_line (void)
{
  TcSpanList l = { 0 };
  const double pt[1][2] = { {0.5, 0.25} };
  const double ln[2][2] = { {0.0, 0.0}, {1.0, 1.0} };
  const double hl[2][2] = { {0.1, 0.5}, {0.9, 0.5} };

  g_assert_true (tc_rule_rasterize (TC_RULE_POINT, pt, 1, 100, 80, &l));
  g_assert_cmpuint (l.pixels, ==, 1);
  g_assert_cmpuint (l.spans[0].x, ==, 50);
  g_assert_cmpuint (l.spans[0].y, ==, 20);
  /* the diagonal of a 100x80 frame: 100 pixels, one per column */
  g_assert_true (tc_rule_rasterize (TC_RULE_LINE, ln, 2, 100, 80, &l));
  g_assert_cmpuint (l.pixels, ==, 100);
  /* a horizontal line is one span */
  g_assert_true (tc_rule_rasterize (TC_RULE_LINE, hl, 2, 100, 80, &l));
  g_assert_cmpuint (l.n, ==, 1);
  g_assert_cmpuint (l.pixels, ==, 81);
  /* wrong point counts */
  g_assert_false (tc_rule_rasterize (TC_RULE_POINT, ln, 2, 100, 80, &l));
  g_assert_false (tc_rule_rasterize (TC_RULE_POLYGON, ln, 2, 100, 80, &l));
  tc_span_list_clear (&l);
}

static void
test_polygons (void)
{
  TcSpanList l = { 0 };
  const double quarter[4][2] = { {0, 0}, {0.5, 0}, {0.5, 0.5}, {0, 0.5} };
  /* an L: the square minus its top-right quarter (concave) */
  const double ell[6][2] = { {0, 0}, {0.5, 0}, {0.5, 0.5}, {1, 0.5}, {1, 1}, {0, 1} };
  const double tiny[3][2] = { {0.501, 0.501}, {0.502, 0.501}, {0.502, 0.502} };

  g_assert_true (tc_rule_rasterize (TC_RULE_POLYGON, quarter, 4, 640, 512, &l));
  g_assert_cmpuint (l.pixels, ==, 320 * 256);
  g_assert_cmpuint (l.n, ==, 256);     /* one span per row */
  g_assert_true (tc_rule_rasterize (TC_RULE_POLYGON, ell, 6, 64, 64, &l));
  g_assert_cmpuint (l.pixels, ==, 64 * 64 * 3 / 4);
  /* smaller than a pixel: the pixel under it */
  g_assert_true (tc_rule_rasterize (TC_RULE_POLYGON, tiny, 3, 64, 64, &l));
  g_assert_cmpuint (l.pixels, ==, 1);
  tc_span_list_clear (&l);
}

static void
test_stats (void)
{
  const int w = 40, h = 30;
  guint16 frame[40 * 30];
  const double quarter[4][2] = { {0, 0}, {0.5, 0}, {0.5, 0.5}, {0, 0.5} };
  TcSpanList l = { 0 };
  TcStats st;
  int i;

  for (i = 0; i < w * h; i++)
    frame[i] = 1000 + (i % 7);
  frame[5 * w + 7] = 5000;      /* inside the quarter */
  frame[3 * w + 2] = 10;
  frame[25 * w + 35] = 9000;    /* outside */
  g_assert_true (tc_rule_rasterize (TC_RULE_POLYGON, quarter, 4, w, h, &l));
  tc_stats_spans (&l, (guint8 *) frame, w * 2, &st);
  g_assert_cmpuint (st.max, ==, 5000);
  g_assert_cmpuint (st.max_x, ==, 7);
  g_assert_cmpuint (st.max_y, ==, 5);
  g_assert_cmpuint (st.min, ==, 10);
  g_assert_cmpuint (st.min_x, ==, 2);
  g_assert_cmpuint (st.min_y, ==, 3);
  g_assert_cmpuint (st.count, ==, 20 * 15);
  tc_stats_frame ((guint8 *) frame, w * 2, w, h, &st);
  g_assert_cmpuint (st.max, ==, 9000);
  g_assert_cmpuint (st.max_x, ==, 35);
  g_assert_cmpuint (st.max_y, ==, 25);
  g_assert_cmpuint (st.count, ==, w * h);
  {
    guint64 sum = 0;
    for (i = 0; i < w * h; i++)
      sum += frame[i];
    g_assert_cmpuint (st.sum, ==, sum);
  }
  tc_span_list_clear (&l);
}

/* --- the alarm state machine, table-driven --- */

typedef struct {
  double t, value;
  const char *expect;     /* events, e.g. "pre+ al+", "al- pre-", "" */
  TcAlarmLevel level;     /* level after */
} Step;

static void
run_steps (const TcAlarmConfig *cfg, const Step *steps, guint n)
{
  TcAlarmState st;
  guint i, k;

  tc_alarm_state_reset (&st);
  for (i = 0; i < n; i++) {
    TcAlarmEvent ev[4];
    guint m = tc_alarm_update (cfg, &st, steps[i].value, steps[i].t, ev);
    GString *got = g_string_new (NULL);

    for (k = 0; k < m; k++)
      g_string_append_printf (got, "%s%s%s", k ? " " : "",
          ev[k].level == TC_LEVEL_ALARM ? "al" : "pre",
          ev[k].kind == TC_EVENT_START ? "+" : (ev[k].kind == TC_EVENT_STOP ? "-" : "*"));
    if (g_strcmp0 (got->str, steps[i].expect) != 0)
      g_error ("step %u (t=%g value=%g): events \"%s\", expected \"%s\"", i,
          steps[i].t, steps[i].value, got->str, steps[i].expect);
    g_assert_cmpint (tc_alarm_level (&st), ==, steps[i].level);
    g_string_free (got, TRUE);
  }
}

static void
test_alarm_above_with_tolerance (void)
{
  /* the manual's example: alarm at 55, tolerance 3: ends below 52 */
  TcAlarmConfig cfg = { .enabled = true, .condition = TC_ABOVE, .has_pre_alarm = true,
    .pre_alarm = 50, .alarm = 55, .tolerance = 3 };
  const Step steps[] = {
    {0, 40, "", TC_LEVEL_NONE},
    {1, 49.99, "", TC_LEVEL_NONE},
    {2, 50, "pre+", TC_LEVEL_PRE_ALARM},
    {3, 54.9, "", TC_LEVEL_PRE_ALARM},
    {4, 55, "al+", TC_LEVEL_ALARM},
    {5, 53, "", TC_LEVEL_ALARM},
    {6, 52, "", TC_LEVEL_ALARM},            /* not below 52 yet */
    {7, 51.99, "al-", TC_LEVEL_PRE_ALARM},
    {8, 47.5, "", TC_LEVEL_PRE_ALARM},       /* pre-alarm ends below 47 */
    {9, 46.9, "pre-", TC_LEVEL_NONE},
    {10, 80, "pre+ al+", TC_LEVEL_ALARM},    /* straight up: both, pre first */
    {11, 20, "al- pre-", TC_LEVEL_NONE},     /* straight down: alarm first */
  };

  run_steps (&cfg, steps, G_N_ELEMENTS (steps));
}

static void
test_alarm_below (void)
{
  TcAlarmConfig cfg = { .enabled = true, .condition = TC_BELOW, .has_pre_alarm = true,
    .pre_alarm = 5, .alarm = 0, .tolerance = 1 };
  const Step steps[] = {
    {0, 10, "", TC_LEVEL_NONE},
    {1, 5, "pre+", TC_LEVEL_PRE_ALARM},
    {2, -0.5, "al+", TC_LEVEL_ALARM},
    {3, 1.0, "", TC_LEVEL_ALARM},
    {4, 1.01, "al-", TC_LEVEL_PRE_ALARM},
    {5, 6.5, "pre-", TC_LEVEL_NONE},
  };

  run_steps (&cfg, steps, G_N_ELEMENTS (steps));
}

static void
test_alarm_filter_time (void)
{
  TcAlarmConfig cfg = { .enabled = true, .condition = TC_ABOVE, .alarm = 100,
    .filter_time = 2.0 };
  const Step steps[] = {
    {0, 101, "", TC_LEVEL_NONE},
    {1, 101, "", TC_LEVEL_NONE},
    {1.5, 99, "", TC_LEVEL_NONE},            /* broken: starts over */
    {2, 101, "", TC_LEVEL_NONE},
    {3.9, 101, "", TC_LEVEL_NONE},
    {4, 101, "al+", TC_LEVEL_ALARM},         /* held 2 s */
    {5, 99.9, "al-", TC_LEVEL_NONE},         /* no tolerance */
  };

  run_steps (&cfg, steps, G_N_ELEMENTS (steps));
}

static void
test_alarm_interval (void)
{
  TcAlarmConfig cfg = { .enabled = true, .condition = TC_ABOVE, .alarm = 10,
    .interval = 5 };
  const Step steps[] = {
    {0, 20, "al+", TC_LEVEL_ALARM},
    {2, 20, "", TC_LEVEL_ALARM},
    {5, 20, "al*", TC_LEVEL_ALARM},          /* standing: notified again */
    {7, 20, "", TC_LEVEL_ALARM},
    {10, 20, "al*", TC_LEVEL_ALARM},
    {11, 5, "al-", TC_LEVEL_NONE},
  };

  run_steps (&cfg, steps, G_N_ELEMENTS (steps));
}

static void
test_alarm_interval_highest_level_only (void)
{
  TcAlarmConfig cfg = { .enabled = true, .condition = TC_ABOVE, .has_pre_alarm = true,
    .pre_alarm = 50, .alarm = 55, .interval = 5 };
  const Step steps[] = {
    {0, 52, "pre+", TC_LEVEL_PRE_ALARM},
    {5, 52, "pre*", TC_LEVEL_PRE_ALARM},     /* only a pre-alarm: it repeats */
    {6, 60, "al+", TC_LEVEL_ALARM},
    {10, 60, "", TC_LEVEL_ALARM},
    {11, 60, "al*", TC_LEVEL_ALARM},         /* both on: the alarm alone repeats */
    {16, 60, "al*", TC_LEVEL_ALARM},
  };

  run_steps (&cfg, steps, G_N_ELEMENTS (steps));
}

static void
test_alarm_disable_and_nan (void)
{
  TcAlarmConfig cfg = { .enabled = true, .condition = TC_ABOVE, .alarm = 10 };
  TcAlarmState st;
  TcAlarmEvent ev[4];

  tc_alarm_state_reset (&st);
  g_assert_cmpuint (tc_alarm_update (&cfg, &st, 20, 0, ev), ==, 1);
  /* no reading: the alarm stops rather than stays on forever */
  g_assert_cmpuint (tc_alarm_update (&cfg, &st, NAN, 1, ev), ==, 1);
  g_assert_cmpint (ev[0].kind, ==, TC_EVENT_STOP);
  g_assert_cmpuint (tc_alarm_update (&cfg, &st, 20, 2, ev), ==, 1);
  cfg.enabled = false;
  g_assert_cmpuint (tc_alarm_update (&cfg, &st, 20, 3, ev), ==, 1);
  g_assert_cmpint (ev[0].kind, ==, TC_EVENT_STOP);
  g_assert_cmpuint (tc_alarm_update (&cfg, &st, 20, 4, ev), ==, 0);
}

static void
test_json (void)
{
  TcRuleDef *rules = NULL;
  TcComparisonDef *cmps = NULL;
  guint n = 0, nc = 0;
  GError *err = NULL;
  TcAlarmConfig scene;
  gboolean hi;

  g_assert_true (tc_rules_parse_json ("[{\"id\": 3, \"name\": \"bearing\", \"type\": \"polygon\","
          "\"points\": [[0.42, 0.31], [0.50, 0.31], [0.50, 0.40]], \"emissivity\": 0.9,"
          "\"alarm\": {\"enabled\": true, \"on\": \"avg\", \"condition\": \"above\","
          "\"pre_alarm\": 50, \"alarm\": 55, \"tolerance\": 3, \"filter_time\": 1}},"
          "{\"type\": \"point\", \"points\": [[0.1, 0.2]]}]", &rules, &n, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (rules[0].id, ==, 3);
  g_assert_cmpint (rules[1].id, ==, 4);        /* the next free id */
  g_assert_cmpstr (rules[0].name, ==, "bearing");
  g_assert_true (rules[0].has_emissivity);
  g_assert_false (rules[0].has_distance);
  g_assert_cmpint (rules[0].alarm.on, ==, TC_ON_AVG);
  g_assert_cmpfloat (rules[0].alarm.tolerance, ==, 3);
  g_assert_false (rules[1].alarm.enabled);

  g_assert_true (tc_comparisons_parse_json ("[{\"rules\": [3, 4], \"alarm\": {\"alarm\": 10}}]",
          rules, n, &cmps, &nc, &err));
  g_assert_cmpuint (nc, ==, 1);
  g_assert_cmpint (cmps[0].rule_b, ==, 4);
  g_free (cmps);
  g_assert_false (tc_comparisons_parse_json ("[{\"rules\": [3, 9], \"alarm\": {\"alarm\": 10}}]",
          rules, n, &cmps, &nc, &err));
  g_assert_nonnull (strstr (err->message, "comparisons[0].rules"));
  g_clear_error (&err);
  g_free (rules);

  /* errors name the field */
  {
    static const struct { const char *json, *field; } bad[] = {
      {"[{\"type\": \"circle\", \"points\": [[0,0]]}]", "rules[0].type"},
      {"[{\"type\": \"point\"}]", "rules[0].points"},
      {"[{\"type\": \"line\", \"points\": [[0,0]]}]", "rules[0].points"},
      {"[{\"type\": \"point\", \"points\": [[1.5, 0]]}]", "rules[0].points"},
      {"[{\"type\": \"point\", \"points\": [[0.5, 0]], \"colour\": 1}]", "rules[0].colour"},
      {"[{\"type\": \"point\", \"points\": [[0.5, 0]], \"emissivity\": 2}]", "rules[0].emissivity"},
      {"[{\"type\": \"point\", \"points\": [[0.5, 0]]}, {\"type\": \"point\", \"points\": [[0.5, 0]], \"alarm\": {\"pre_alarm\": 60, \"alarm\": 55}}]",
          "rules[1].alarm.pre_alarm"},
      {"[{\"type\": \"point\", \"points\": [[0.5, 0]], \"alarm\": {\"on\": \"median\", \"alarm\": 5}}]",
          "rules[0].alarm.on"},
      {"[{\"type\": \"point\", \"points\": [[0.5, 0]], \"alarm\": {\"enabled\": true}}]",
          "rules[0].alarm.alarm"},
      {"[{\"id\": 2, \"type\": \"point\", \"points\": [[0.5, 0]]}, {\"id\": 2, \"type\": \"point\", \"points\": [[0.5, 0]]}]",
          "rules[1].id"},
      {"{\"type\": \"point\"}", "array"},
      {"[{", "JSON"},
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_assert_false (tc_rules_parse_json (bad[i].json, &rules, &n, &err));
      g_assert_nonnull (err);
      if (!strstr (err->message, bad[i].field))
        g_error ("%s: message \"%s\" does not name %s", bad[i].json, err->message,
            bad[i].field);
      g_assert_null (rules);
      g_clear_error (&err);
    }
  }
  /* 41 rules are too many */
  {
    GString *s = g_string_new ("[");
    int i;

    for (i = 0; i < 41; i++)
      g_string_append_printf (s, "%s{\"type\": \"point\", \"points\": [[0.5, 0.5]]}",
          i ? "," : "");
    g_string_append (s, "]");
    g_assert_false (tc_rules_parse_json (s->str, &rules, &n, &err));
    g_clear_error (&err);
    g_string_free (s, TRUE);
  }
  g_assert_true (tc_alarm_parse_json ("{\"on\": \"max\", \"pre_alarm\": 70, \"alarm\": 80, \"tolerance\": 2}",
          &scene, &hi, &err));
  g_assert_true (scene.enabled);
  g_assert_true (scene.has_pre_alarm);
  g_assert_false (hi);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rules/point-and-line", test_point_and_line);
  g_test_add_func ("/rules/polygons", test_polygons);
  g_test_add_func ("/rules/stats", test_stats);
  g_test_add_func ("/alarm/above-with-tolerance", test_alarm_above_with_tolerance);
  g_test_add_func ("/alarm/below", test_alarm_below);
  g_test_add_func ("/alarm/filter-time", test_alarm_filter_time);
  g_test_add_func ("/alarm/interval", test_alarm_interval);
  g_test_add_func ("/alarm/interval-highest-level-only", test_alarm_interval_highest_level_only);
  g_test_add_func ("/alarm/disable-and-nan", test_alarm_disable_and_nan);
  g_test_add_func ("/rules/json", test_json);
  return g_test_run ();
}
