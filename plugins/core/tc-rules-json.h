/* thermocam: measurement rules, comparisons and alarms from JSON
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rule shape everything shares (DESIGN.md):
 *   {"id": 3, "name": "bearing", "enabled": true, "type": "point|line|polygon",
 *    "points": [[x, y], ...], "emissivity": 0.95, "distance": 2.0,
 *    "reflected_temperature": 20.0,
 *    "alarm": {"enabled": true, "on": "max|min|avg", "condition": "above|below",
 *              "pre_alarm": 50.0, "alarm": 55.0, "tolerance": 3.0,
 *              "filter_time": 0, "interval": 30}}
 * Coordinates are normalized (0..1, origin top left); temperatures degrees C;
 * times seconds.  A comparison: {"id", "name", "enabled", "rules": [a, b],
 * "alarm": {...}} alarms on reading(a) - reading(b).  Errors name the field
 * ("rules[2].points") and nothing is returned.
 */
#pragma once

#include <glib.h>
#include "tc-rules.h"

G_BEGIN_DECLS

#define TC_RULES_ERROR (tc_rules_error_quark ())
GQuark tc_rules_error_quark (void);

typedef enum {
  TC_RULES_ERROR_PARSE,
  TC_RULES_ERROR_INVALID
} TcRulesError;

#define TC_MAX_RULES 40
#define TC_RULE_NAME_LEN 64

typedef struct {
  gint id;
  gchar name[TC_RULE_NAME_LEN];
  gboolean enabled;
  TcRuleType type;
  guint n_points;
  gdouble points[TC_RULE_MAX_POINTS][2];
  gboolean has_emissivity, has_distance, has_reflected;
  gdouble emissivity, distance, reflected_temp;
  gboolean has_interval;        /* the alarm's own interval, else the element's */
  TcAlarmConfig alarm;
} TcRuleDef;

typedef struct {
  gint id;
  gchar name[TC_RULE_NAME_LEN];
  gboolean enabled;
  gint rule_a, rule_b;
  gboolean has_interval;
  TcAlarmConfig alarm;
} TcComparisonDef;

/* A JSON array of rules (empty string or NULL = none).  Ids missing get the
 * next free number; ids must be unique. */
gboolean tc_rules_parse_json (const gchar *json, TcRuleDef **rules, guint *n_rules,
                              GError **error);
/* A JSON array of comparisons, checked against the rules' ids (when @rules
 * is NULL, ids only need to be positive). */
gboolean tc_comparisons_parse_json (const gchar *json, const TcRuleDef *rules,
                                    guint n_rules, TcComparisonDef **cmps, guint *n_cmps,
                                    GError **error);
/* One alarm object (the scene alarm); NULL or "" = disabled. */
gboolean tc_alarm_parse_json (const gchar *json, TcAlarmConfig *cfg, gboolean *has_interval,
                              GError **error);

G_END_DECLS
