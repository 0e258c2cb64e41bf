/* thermocamd: the device clock (appliance/core/tcd-clock.c): the offset and
 * its file, the slew, and the local time of a zone by its own DST rules
 * (GLib's zone data), with a custom DST rule and with none, on both sides of
 * each change
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "tcd-clock.h"

#define HOUR_US (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)

/* the local time of @utc ("2024-03-31T00:59:59Z") under @identifier, as
 * "YYYY-MM-DD HH:MM:SS +HHMM" */
static gchar *
local_at (const gchar *identifier, const gchar *utc)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (GDateTime) u = g_date_time_new_from_iso8601 (utc, NULL);
  g_autoptr (GDateTime) l = NULL;

  g_assert_nonnull (u);
  g_assert_true (tcd_clock_set_zone (identifier, &err));
  g_assert_no_error (err);
  l = tcd_clock_to_local (g_date_time_to_unix (u) * G_USEC_PER_SEC);
  return g_date_time_format (l, "%Y-%m-%d %H:%M:%S %z");
}

static void
expect (const gchar *identifier, const gchar *utc, const gchar *want)
{
  g_autofree gchar *got = local_at (identifier, utc);
  g_assert_cmpstr (got, ==, want);
}

static gchar *
zone_of (const gchar *zone, const TcdDstRule *rule)
{
  g_autoptr (GError) err = NULL;
  gchar *id = tcd_clock_zone_identifier (zone, rule, &err);
  g_assert_no_error (err);
  g_assert_nonnull (id);
  return id;
}

/* Europe/Paris by GLib's zone data: 2024-03-31 01:00 UTC (02:00 CET -> 03:00
 * CEST) and 2024-10-27 01:00 UTC (03:00 CEST -> 02:00 CET) */
static void
test_zone_rules (void)
{
  g_autofree gchar *id = zone_of ("Europe/Paris", NULL);

  g_assert_cmpstr (id, ==, "Europe/Paris");
  expect (id, "2024-03-31T00:59:59Z", "2024-03-31 01:59:59 +0100");
  expect (id, "2024-03-31T01:00:00Z", "2024-03-31 03:00:00 +0200");
  expect (id, "2024-10-27T00:59:59Z", "2024-10-27 02:59:59 +0200");
  expect (id, "2024-10-27T01:00:00Z", "2024-10-27 02:00:00 +0100");
  /* America/New_York: 2024-03-10 07:00 UTC and 2024-11-03 06:00 UTC */
  expect ("America/New_York", "2024-03-10T06:59:59Z", "2024-03-10 01:59:59 -0500");
  expect ("America/New_York", "2024-03-10T07:00:00Z", "2024-03-10 03:00:00 -0400");
  expect ("America/New_York", "2024-11-03T05:59:59Z", "2024-11-03 01:59:59 -0400");
  expect ("America/New_York", "2024-11-03T06:00:00Z", "2024-11-03 01:00:00 -0500");
}

/* The zone's standard offset with no DST: Paris stays +01:00 in summer */
static void
test_dst_off (void)
{
  TcdDstRule off = { .mode = TCD_DST_OFF };
  g_autofree gchar *paris = zone_of ("Europe/Paris", &off);
  g_autofree gchar *ny = zone_of ("America/New_York", &off);
  g_autofree gchar *india = zone_of ("+05:30", &off);

  expect (paris, "2024-07-01T12:00:00Z", "2024-07-01 13:00:00 +0100");
  expect (paris, "2024-01-01T12:00:00Z", "2024-01-01 13:00:00 +0100");
  expect (ny, "2024-07-01T12:00:00Z", "2024-07-01 07:00:00 -0500");
  expect (india, "2024-07-01T12:00:00Z", "2024-07-01 17:30:00 +0530");
}

/* A custom rule on Paris's standard offset: the second Sunday of April at
 * 04:00 to the first Saturday of September at 22:30, 90 minutes.  In 2024:
 * 2024-04-14 04:00 +01:00 = 03:00 UTC, and 2024-09-07 22:30 (DST, +02:30)
 * = 20:00 UTC */
static void
test_custom (void)
{
  TcdDstRule r = {
    .mode = TCD_DST_CUSTOM,
    .start = { .month = 4, .week = 2, .weekday = 0, .hour = 4, .minute = 0 },
    .end = { .month = 9, .week = 1, .weekday = 6, .hour = 22, .minute = 30 },
    .bias_min = 90,
  };
  g_autofree gchar *id = zone_of ("Europe/Paris", &r);

  expect (id, "2024-04-14T02:59:59Z", "2024-04-14 03:59:59 +0100");
  expect (id, "2024-04-14T03:00:00Z", "2024-04-14 05:30:00 +0230");
  expect (id, "2024-09-07T19:59:59Z", "2024-09-07 22:29:59 +0230");
  expect (id, "2024-09-07T20:00:00Z", "2024-09-07 21:00:00 +0100");
  /* the zone's own change dates no longer count */
  expect (id, "2024-03-31T01:00:00Z", "2024-03-31 02:00:00 +0100");
  expect (id, "2024-10-27T01:00:00Z", "2024-10-27 02:00:00 +0100");
}

/* The southern hemisphere: DST across the new year, on an offset zone.
 * +10:00, from the first Sunday of October 02:00 to the first Sunday of
 * April 03:00, 60 minutes: 2024-10-06 02:00 +10 = 2024-10-05 16:00 UTC;
 * 2024-04-07 03:00 +11 = 2024-04-06 16:00 UTC */
static void
test_custom_south (void)
{
  TcdDstRule r = {
    .mode = TCD_DST_CUSTOM,
    .start = { .month = 10, .week = 1, .weekday = 0, .hour = 2 },
    .end = { .month = 4, .week = 1, .weekday = 0, .hour = 3 },
    .bias_min = 60,
  };
  g_autofree gchar *id = zone_of ("+10:00", &r);

  expect (id, "2024-04-06T15:59:59Z", "2024-04-07 02:59:59 +1100");
  expect (id, "2024-04-06T16:00:00Z", "2024-04-07 02:00:00 +1000");
  expect (id, "2024-10-05T15:59:59Z", "2024-10-06 01:59:59 +1000");
  expect (id, "2024-10-05T16:00:00Z", "2024-10-06 03:00:00 +1100");
  expect (id, "2025-01-01T00:00:00Z", "2025-01-01 11:00:00 +1100");
}

/* The rule as the configuration's "time" section says it */
static void
test_from_config (void)
{
  g_autoptr (JsonNode) t = json_from_string ("{\"timezone\": \"Europe/Paris\", \"dst\": "
      "{\"mode\": \"custom\", \"bias_min\": 30, \"start\": {\"month\": 4, \"week\": 2, "
      "\"weekday\": 0, \"hour\": 4, \"minute\": 0}, \"end\": {\"month\": 9, \"week\": 1, "
      "\"weekday\": 6, \"hour\": 22, \"minute\": 30}}}", NULL);
  g_autoptr (JsonNode) same_week = json_from_string ("{\"timezone\": \"UTC\", \"dst\": "
      "{\"mode\": \"custom\", \"bias_min\": 60, \"start\": {\"month\": 4, \"week\": 2, "
      "\"weekday\": 0, \"hour\": 4}, \"end\": {\"month\": 4, \"week\": 2, \"weekday\": 3, "
      "\"hour\": 4}}}", NULL);
  g_autoptr (JsonNode) zone_only = json_from_string ("{\"timezone\": \"Asia/Tokyo\"}", NULL);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *zone = NULL, *id = NULL, *zone2 = NULL, *id2 = NULL, *zone3 = NULL;
  TcdDstRule r;

  g_assert_true (tcd_clock_rule_from_config (t, &zone, &r, &err));
  g_assert_cmpint (r.mode, ==, TCD_DST_CUSTOM);
  g_assert_cmpuint (r.bias_min, ==, 30);
  g_assert_cmpuint (r.end.minute, ==, 30);
  id = zone_of (zone, &r);
  g_assert_cmpstr (id, ==, "<+0100>-01:00<+0130>-01:30,M4.2.0/04:00,M9.1.6/22:30");
  expect (id, "2024-04-14T03:00:00Z", "2024-04-14 04:30:00 +0130");

  g_assert_true (tcd_clock_rule_from_config (same_week, &zone2, &r, &err));
  id2 = tcd_clock_zone_identifier (zone2, &r, &err);
  g_assert_null (id2);
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);

  g_assert_true (tcd_clock_rule_from_config (zone_only, &zone3, &r, &err));
  g_assert_cmpint (r.mode, ==, TCD_DST_ZONE);
  g_assert_null (tcd_clock_zone_identifier ("No/Such_Zone", &r, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static guint notified;

static void
on_change (TcdClockChange what, gpointer data)
{
  notified |= what;
}

/* The offset: set, kept in the state directory, read back, a broken file
 * ignored; a slew moves the time at its rate and never jumps */
static void
test_offset (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tc-clock-XXXXXX", NULL);
  g_autofree gchar *file = g_build_filename (dir, "clock", NULL);
  guint id = tcd_clock_watch (on_change, NULL);
  gint64 host, dev, o1, o2;

  tcd_clock_init (dir);
  g_assert_cmpint (tcd_clock_get_offset (), ==, 0);
  notified = 0;
  tcd_clock_set_offset (HOUR_US);
  g_assert_cmpuint (notified, ==, TCD_CLOCK_CHANGED_OFFSET);
  host = g_get_real_time ();
  dev = tcd_clock_now_utc ();
  g_assert_cmpint (dev - host, >=, HOUR_US);
  g_assert_cmpint (dev - host, <, HOUR_US + G_USEC_PER_SEC / 10);
  g_assert_cmpint (tcd_clock_from_host (1000), ==, 1000 + HOUR_US);
  g_assert_cmpint (tcd_clock_to_host (tcd_clock_from_host (1000)), ==, 1000);

  /* a restart reads it back */
  tcd_clock_init (NULL);
  g_assert_cmpint (tcd_clock_get_offset (), ==, 0);
  tcd_clock_init (dir);
  g_assert_cmpint (tcd_clock_get_offset (), ==, HOUR_US);

  /* set_now: the device's time becomes what was asked */
  tcd_clock_set_now (G_GINT64_CONSTANT (1900000000) * G_USEC_PER_SEC);
  g_assert_cmpint (ABS (tcd_clock_now_utc () - G_GINT64_CONSTANT (1900000000) * G_USEC_PER_SEC),
      <, G_USEC_PER_SEC / 10);

  /* a slew of +100 ms at 500 ppm takes 200 s: after 100 ms it has moved
   * by about 50 µs, and the file already holds the end value */
  tcd_clock_set_offset (0);
  tcd_clock_slew (100000, 500);
  o1 = tcd_clock_get_offset ();
  g_usleep (100000);
  o2 = tcd_clock_get_offset ();
  g_assert_cmpint (o1, >=, 0);
  g_assert_cmpint (o2 - o1, >, 20);
  g_assert_cmpint (o2 - o1, <, 500);
  g_assert_cmpint (tcd_clock_slew_remaining (), >, 99000);
  tcd_clock_init (dir);
  g_assert_cmpint (tcd_clock_get_offset (), ==, 100000);
  g_assert_cmpint (tcd_clock_slew_remaining (), ==, 0);

  /* a broken file: offset 0 */
  g_assert_true (g_file_set_contents (file, "12x\n", -1, NULL));
  tcd_clock_init (dir);
  g_assert_cmpint (tcd_clock_get_offset (), ==, 0);
  g_assert_true (g_file_set_contents (file, "99999999999999999999999\n", -1, NULL));
  tcd_clock_init (dir);
  g_assert_cmpint (tcd_clock_get_offset (), ==, 0);

  tcd_clock_unwatch (id);
  tcd_clock_init (NULL);
  g_unlink (file);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/clock/zone-rules", test_zone_rules);
  g_test_add_func ("/clock/dst-off", test_dst_off);
  g_test_add_func ("/clock/custom", test_custom);
  g_test_add_func ("/clock/custom-south", test_custom_south);
  g_test_add_func ("/clock/from-config", test_from_config);
  g_test_add_func ("/clock/offset", test_offset);
  return g_test_run ();
}
