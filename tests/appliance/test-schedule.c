/* thermocamd: arming schedules (appliance/tcd-schedule.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <json-glib/json-glib.h>

#include "tcd-config.h"
#include "tcd-schedule.h"

static JsonNode *
parse (const gchar *json)
{
  g_autoptr (GError) err = NULL;
  JsonNode *n = json_from_string (json, &err);
  g_assert_no_error (err);
  return n;
}

/* 2026-11-23 is a Monday */
static GDateTime *
at (gint day, gint h, gint m, const gchar *zone)
{
  g_autoptr (GTimeZone) tz = g_time_zone_new_identifier (zone);
  return g_date_time_new (tz, 2026, 11, 23 + day, h, m, 0);
}

static gboolean
inside (JsonNode *s, gint day, gint h, gint m)
{
  g_autoptr (GDateTime) t = at (day, h, m, "UTC");
  return tcd_schedule_contains (s, t);
}

static void
test_contains (void)
{
  g_autoptr (JsonNode) s = parse ("{\"monday\": [{\"start\": \"08:00\", \"end\": \"12:30\"},"
      " {\"start\": \"22:00\", \"end\": \"24:00\"}], \"tuesday\": []}");
  g_autoptr (GDateTime) paris = at (0, 7, 30, "Europe/Paris");

  g_assert_true (inside (s, 0, 8, 0));          /* start inclusive */
  g_assert_true (inside (s, 0, 12, 29));
  g_assert_false (inside (s, 0, 12, 30));       /* end exclusive */
  g_assert_false (inside (s, 0, 7, 59));
  g_assert_true (inside (s, 0, 23, 59));        /* up to 24:00 */
  g_assert_false (inside (s, 1, 9, 0));         /* an empty day: never */
  g_assert_true (inside (s, 2, 3, 0));          /* a missing day: always */
  g_assert_true (tcd_schedule_contains (NULL, paris));  /* no schedule: always */
  /* local time of the date-time's own zone: 07:30 in Paris is not inside */
  g_assert_false (tcd_schedule_contains (s, paris));
  {
    g_autoptr (GDateTime) p2 = at (0, 8, 30, "Europe/Paris");
    g_assert_true (tcd_schedule_contains (s, p2));
  }
  {
    g_autoptr (GDateTime) sunday = at (6, 23, 0, "UTC");
    g_autoptr (JsonNode) sun = parse ("{\"sunday\": [{\"start\": \"00:00\", \"end\": \"01:00\"}]}");
    g_assert_false (tcd_schedule_contains (sun, sunday));
  }
}

static void
check_fails (const gchar *json, const gchar *want_field)
{
  g_autoptr (JsonNode) s = parse (json);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *field = NULL;

  g_assert_false (tcd_schedule_check (s, &field, &err));
  g_assert_error (err, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID);
  g_assert_cmpstr (field, ==, want_field);
}

static void
test_check (void)
{
  g_autoptr (JsonNode) ok = parse ("{\"monday\": [{\"start\": \"08:00\", \"end\": \"12:00\"},"
      " {\"start\": \"12:00\", \"end\": \"13:00\"}, {\"start\": \"00:00\", \"end\": \"01:00\"}]}");
  g_autoptr (GError) err = NULL;
  g_autofree gchar *field = NULL;

  /* touching periods are fine, the order does not matter */
  g_assert_true (tcd_schedule_check (ok, &field, &err));
  g_assert_no_error (err);
  check_fails ("{\"friday\": [{\"start\": \"08:00\", \"end\": \"08:00\"}]}", "friday[0]");
  check_fails ("{\"friday\": [{\"start\": \"09:00\", \"end\": \"08:00\"}]}", "friday[0]");
  check_fails ("{\"sunday\": [{\"start\": \"08:00\", \"end\": \"12:00\"},"
      " {\"start\": \"13:00\", \"end\": \"14:00\"}, {\"start\": \"11:59\", \"end\": \"12:30\"}]}",
      "sunday[2]");
  check_fails ("{\"sunday\": [{\"start\": \"00:00\", \"end\": \"24:00\"},"
      " {\"start\": \"23:00\", \"end\": \"24:00\"}]}", "sunday[1]");
}

static void
test_check_config (void)
{
  g_autoptr (JsonNode) doc = parse ("{\"events\": {\"scene\": {}, \"rules\": {\"schedule\": {}}},"
      " \"alarm_inputs\": {\"inputs\": [{\"id\": 1}, {\"id\": 2, \"schedule\": {\"tuesday\":"
      " [{\"start\": \"10:00\", \"end\": \"11:00\"}, {\"start\": \"10:30\", \"end\": \"12:00\"}]}}]}}");
  g_autoptr (GError) err = NULL;
  g_autofree gchar *field = NULL;

  g_assert_false (tcd_schedule_check_config (doc, &field, &err));
  g_assert_cmpstr (field, ==, "alarm_inputs.inputs[1].schedule.tuesday[1]");
  g_assert_true (g_str_has_prefix (err->message, "alarm_inputs.inputs[1].schedule.tuesday[1]: "));
}

static void
test_copy (void)
{
  g_autoptr (JsonNode) s = parse ("{\"monday\": [{\"start\": \"06:00\", \"end\": \"09:00\"}],"
      " \"tuesday\": [], \"friday\": [{\"start\": \"00:00\", \"end\": \"24:00\"}]}");
  const gchar *to[] = { "tuesday", "friday", "monday", NULL };
  const gchar *bad[] = { "tuesday", "someday", NULL };
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) c = tcd_schedule_copy_day (s, "monday", to, &err);
  g_autofree gchar *text = NULL;

  g_assert_no_error (err);
  text = tcd_json_to_string (c, FALSE);
  g_assert_cmpstr (text, ==, "{\"monday\":[{\"start\":\"06:00\",\"end\":\"09:00\"}],"
      "\"tuesday\":[{\"start\":\"06:00\",\"end\":\"09:00\"}],"
      "\"friday\":[{\"start\":\"06:00\",\"end\":\"09:00\"}]}");
  /* the original is untouched */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
              json_node_get_object (s), "tuesday")), ==, 0);
  g_assert_null (tcd_schedule_copy_day (s, "monday", bad, &err));
  g_assert_error (err, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID);
  g_clear_error (&err);
  g_assert_null (tcd_schedule_copy_day (s, "mon", to, &err));
  g_assert_error (err, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID);
  g_clear_error (&err);
  {
    /* copying a missing day (always armed) makes the targets always armed too */
    const gchar *t2[] = { "tuesday", NULL };
    g_autoptr (JsonNode) c2 = tcd_schedule_copy_day (s, "sunday", t2, &err);
    g_assert_no_error (err);
    g_assert_false (json_object_has_member (json_node_get_object (c2), "tuesday"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/schedule/contains", test_contains);
  g_test_add_func ("/schedule/check", test_check);
  g_test_add_func ("/schedule/check-config", test_check_config);
  g_test_add_func ("/schedule/copy", test_copy);
  return g_test_run ();
}
