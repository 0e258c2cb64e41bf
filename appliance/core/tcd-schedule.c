/* thermocamd: arming schedules (manual 5.1)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-schedule.h"

#include "tcd-config.h"
#include "tc-json.h"

const gchar *const tcd_weekdays[8] = {
  "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", NULL
};

/* "HH:MM" -> minutes of the day; -1 if malformed */
static gint
minutes_of (const gchar *s)
{
  if (!s || !g_ascii_isdigit (s[0]) || !g_ascii_isdigit (s[1]) || s[2] != ':'
      || !g_ascii_isdigit (s[3]) || !g_ascii_isdigit (s[4]) || s[5])
    return -1;
  return ((s[0] - '0') * 10 + (s[1] - '0')) * 60 + (s[3] - '0') * 10 + (s[4] - '0');
}

static gboolean
period_of (JsonNode *n, gint *start, gint *end)
{
  JsonObject *o;

  if (!n || !JSON_NODE_HOLDS_OBJECT (n))
    return FALSE;
  o = json_node_get_object (n);
  *start = minutes_of (tc_json_get_string (o, "start", NULL));
  *end = minutes_of (tc_json_get_string (o, "end", NULL));
  return *start >= 0 && *end >= 0 && *start < 24 * 60 && *end <= 24 * 60;
}

gboolean
tcd_schedule_contains (JsonNode *schedule, GDateTime *when)
{
  JsonNode *day;
  JsonArray *periods;
  gint now, start, end;

  if (!schedule || !JSON_NODE_HOLDS_OBJECT (schedule))
    return TRUE;
  day = json_object_get_member (json_node_get_object (schedule),
      tcd_weekdays[g_date_time_get_day_of_week (when) - 1]);
  if (!day || !JSON_NODE_HOLDS_ARRAY (day))
    return TRUE;
  periods = json_node_get_array (day);
  now = g_date_time_get_hour (when) * 60 + g_date_time_get_minute (when);
  for (guint i = 0; i < json_array_get_length (periods); i++)
    if (period_of (json_array_get_element (periods, i), &start, &end)
        && now >= start && now < end)
      return TRUE;
  return FALSE;
}

gboolean
tcd_schedule_check (JsonNode *schedule, gchar **field, GError **error)
{
  if (!schedule || !JSON_NODE_HOLDS_OBJECT (schedule))
    return TRUE;
  for (guint d = 0; tcd_weekdays[d]; d++) {
    JsonNode *day = json_object_get_member (json_node_get_object (schedule), tcd_weekdays[d]);
    JsonArray *periods;
    guint n;

    if (!day || !JSON_NODE_HOLDS_ARRAY (day))
      continue;
    periods = json_node_get_array (day);
    n = json_array_get_length (periods);
    for (guint i = 0; i < n; i++) {
      gint s1, e1;

      if (!period_of (json_array_get_element (periods, i), &s1, &e1) || e1 <= s1) {
        *field = g_strdup_printf ("%s[%u]", tcd_weekdays[d], i);
        g_set_error (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID,
            "%s: a period must end after it starts", *field);
        return FALSE;
      }
      for (guint j = 0; j < i; j++) {
        gint s2, e2;

        if (period_of (json_array_get_element (periods, j), &s2, &e2)
            && s1 < e2 && s2 < e1) {
          *field = g_strdup_printf ("%s[%u]", tcd_weekdays[d], i);
          g_set_error (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID,
              "%s: overlaps %s[%u]", *field, tcd_weekdays[d], j);
          return FALSE;
        }
      }
    }
  }
  return TRUE;
}

static gboolean
check_at (JsonNode *doc, const gchar *path, gchar **field, GError **error)
{
  g_autofree gchar *rel = NULL;
  g_autoptr (GError) e = NULL;

  if (tcd_schedule_check (tcd_config_node (doc, path), &rel, &e))
    return TRUE;
  *field = g_strdup_printf ("%s.%s", path, rel);
  g_set_error (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, "%s.%s", path, e->message);
  return FALSE;
}

static gboolean
check_items (JsonNode *doc, const gchar *path, gchar **field, GError **error)
{
  JsonNode *arr = tcd_config_node (doc, path);

  if (!arr || !JSON_NODE_HOLDS_ARRAY (arr))
    return TRUE;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (arr)); i++) {
    JsonNode *item = json_array_get_element (json_node_get_array (arr), i);
    g_autofree gchar *rel = NULL;
    g_autoptr (GError) e = NULL;

    if (!JSON_NODE_HOLDS_OBJECT (item))
      continue;
    if (!tcd_schedule_check (json_object_get_member (json_node_get_object (item), "schedule"),
            &rel, &e)) {
      *field = g_strdup_printf ("%s[%u].schedule.%s", path, i, rel);
      g_set_error (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, "%s[%u].schedule.%s",
          path, i, e->message);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
tcd_schedule_check_config (JsonNode *doc, gchar **field, GError **error)
{
  static const gchar *const paths[] = {
    "events.scene.schedule", "events.rules.schedule", "events.comparisons.schedule",
    "environment_alarm.schedule", "capture.timed.schedule", NULL
  };

  for (guint i = 0; paths[i]; i++)
    if (!check_at (doc, paths[i], field, error))
      return FALSE;
  return check_items (doc, "alarm_inputs.inputs", field, error)
      && check_items (doc, "alarm_outputs.outputs", field, error);
}

JsonNode *
tcd_schedule_copy_day (JsonNode *schedule, const gchar *from, const gchar *const *to,
    GError **error)
{
  g_autoptr (JsonNode) copy = NULL;
  JsonObject *o;
  JsonNode *src;

  if (!g_strv_contains (tcd_weekdays, from)) {
    tcd_set_error_field (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, "from",
        "from: \"%s\" is not a weekday (monday .. sunday)", from);
    return NULL;
  }
  for (guint i = 0; to && to[i]; i++)
    if (!g_strv_contains (tcd_weekdays, to[i])) {
      tcd_set_error_field (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, "to",
          "to: \"%s\" is not a weekday (monday .. sunday)", to[i]);
      return NULL;
    }
  if (schedule && JSON_NODE_HOLDS_OBJECT (schedule)) {
    copy = tcd_json_deep_copy (schedule);
  } else {
    copy = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (copy, json_object_new ());
  }
  o = json_node_get_object (copy);
  src = json_object_get_member (o, from);
  for (guint i = 0; to && to[i]; i++) {
    if (g_str_equal (to[i], from))
      continue;
    if (src)
      json_object_set_member (o, to[i], tcd_json_deep_copy (src));
    else
      json_object_remove_member (o, to[i]);
  }
  return g_steal_pointer (&copy);
}
