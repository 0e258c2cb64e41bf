/* thermocamd: the device clock (manual 10.8)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-clock.h"

#include <string.h>

#include <gio/gio.h>

typedef struct {
  guint id;
  TcdClockFunc func;
  gpointer data;
} Watch;

static GMutex lock;
static gint64 offset_us;
/* a slew: from base at the monotonic time start, delta at ppm */
static gint64 slew_start, slew_delta;
static guint slew_ppm;
static GTimeZone *zone;                 /* NULL: UTC */
static gchar *zone_id;
static gchar *state_file;
static GArray *watches;
static guint last_watch;

/* ---- device time ---- */

/* the offset now and what is left of the slew (lock held) */
static gint64
offset_locked (gint64 *left)
{
  gint64 moved, elapsed;

  if (left)
    *left = 0;
  if (slew_delta == 0)
    return offset_us;
  elapsed = MAX (g_get_monotonic_time () - slew_start, 0);
  moved = MIN (elapsed * (gint64) slew_ppm / 1000000, ABS (slew_delta));
  if (left)
    *left = slew_delta > 0 ? slew_delta - moved : slew_delta + moved;
  return offset_us + (slew_delta > 0 ? moved : -moved);
}

gint64
tcd_clock_get_offset (void)
{
  gint64 o;
  g_mutex_lock (&lock);
  o = offset_locked (NULL);
  g_mutex_unlock (&lock);
  return o;
}

gint64
tcd_clock_slew_remaining (void)
{
  gint64 left;
  g_mutex_lock (&lock);
  offset_locked (&left);
  g_mutex_unlock (&lock);
  return left;
}

gint64
tcd_clock_now_utc (void)
{
  return g_get_real_time () + tcd_clock_get_offset ();
}

gint64
tcd_clock_from_host (gint64 host_us)
{
  return host_us + tcd_clock_get_offset ();
}

gint64
tcd_clock_to_host (gint64 device_us)
{
  return device_us - tcd_clock_get_offset ();
}

GDateTime *
tcd_clock_now_utc_dt (void)
{
  gint64 now = tcd_clock_now_utc ();
  g_autoptr (GDateTime) s = g_date_time_new_from_unix_utc (now / G_USEC_PER_SEC);
  return g_date_time_add (s, now % G_USEC_PER_SEC);
}

GTimeZone *
tcd_clock_get_zone (void)
{
  GTimeZone *z;
  g_mutex_lock (&lock);
  z = zone ? g_time_zone_ref (zone) : g_time_zone_new_utc ();
  g_mutex_unlock (&lock);
  return z;
}

gchar *
tcd_clock_get_zone_identifier (void)
{
  gchar *s;
  g_mutex_lock (&lock);
  s = g_strdup (zone_id ? zone_id : "UTC");
  g_mutex_unlock (&lock);
  return s;
}

GDateTime *
tcd_clock_to_local (gint64 utc_us)
{
  g_autoptr (GTimeZone) z = tcd_clock_get_zone ();
  g_autoptr (GDateTime) s = g_date_time_new_from_unix_utc (utc_us / G_USEC_PER_SEC);
  g_autoptr (GDateTime) u = s ? g_date_time_add (s, utc_us % G_USEC_PER_SEC) : NULL;
  return u ? g_date_time_to_timezone (u, z) : NULL;
}

GDateTime *
tcd_clock_now_local (void)
{
  return tcd_clock_to_local (tcd_clock_now_utc ());
}

/* ---- watchers ---- */

static void
notify (TcdClockChange what)
{
  g_autoptr (GArray) copy = NULL;

  g_mutex_lock (&lock);
  if (watches)
    copy = g_array_copy (watches);
  g_mutex_unlock (&lock);
  for (guint i = 0; copy && i < copy->len; i++) {
    Watch *w = &g_array_index (copy, Watch, i);
    w->func (what, w->data);
  }
}

guint
tcd_clock_watch (TcdClockFunc func, gpointer user_data)
{
  Watch w = { 0, func, user_data };

  g_mutex_lock (&lock);
  if (!watches)
    watches = g_array_new (FALSE, FALSE, sizeof (Watch));
  w.id = ++last_watch;
  g_array_append_val (watches, w);
  g_mutex_unlock (&lock);
  return w.id;
}

void
tcd_clock_unwatch (guint id)
{
  g_mutex_lock (&lock);
  for (guint i = 0; watches && i < watches->len; i++)
    if (g_array_index (watches, Watch, i).id == id) {
      g_array_remove_index (watches, i);
      break;
    }
  g_mutex_unlock (&lock);
}

/* ---- the offset, persisted ---- */

static void
save (const gchar *path, gint64 o)
{
  if (path) {
    g_autofree gchar *text = g_strdup_printf ("%" G_GINT64_FORMAT "\n", o);
    g_autoptr (GError) err = NULL;
    if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &err))
      g_warning ("clock: cannot keep the offset: %s", err->message);
  }
}

void
tcd_clock_set_offset (gint64 o)
{
  g_autofree gchar *path = NULL;

  g_mutex_lock (&lock);
  offset_us = o;
  slew_delta = 0;
  path = g_strdup (state_file);
  g_mutex_unlock (&lock);
  save (path, o);
  notify (TCD_CLOCK_CHANGED_OFFSET);
}

void
tcd_clock_slew (gint64 delta_us, guint ppm)
{
  g_autofree gchar *path = NULL;
  gint64 target;

  g_mutex_lock (&lock);
  offset_us = offset_locked (NULL);
  slew_start = g_get_monotonic_time ();
  slew_delta = ppm ? delta_us : 0;
  slew_ppm = ppm;
  if (!ppm)
    offset_us += delta_us;
  target = offset_us + slew_delta;
  path = g_strdup (state_file);
  g_mutex_unlock (&lock);
  save (path, target);
  notify (TCD_CLOCK_CHANGED_OFFSET);
}

void
tcd_clock_set_now (gint64 utc_us)
{
  tcd_clock_set_offset (utc_us - g_get_real_time ());
}

void
tcd_clock_init (const gchar *state_dir)
{
  g_autofree gchar *text = NULL;
  gint64 o = 0;

  g_mutex_lock (&lock);
  g_clear_pointer (&state_file, g_free);
  if (state_dir)
    state_file = g_build_filename (state_dir, "clock", NULL);
  if (state_file && g_file_get_contents (state_file, &text, NULL, NULL)) {
    gchar *end = NULL;
    gint64 v = g_ascii_strtoll (g_strstrip (text), &end, 10);
    /* at most ~100 years either way: anything else is a broken file */
    if (end && *end == '\0' && end != text && ABS (v) < (gint64) 3155760000 * G_USEC_PER_SEC)
      o = v;
  }
  offset_us = o;
  slew_delta = 0;
  g_mutex_unlock (&lock);
}

/* ---- the zone ---- */

/* The zone's standard (non-DST) offset in seconds, looked at in January and
 * July of this year */
static gint32
standard_offset (GTimeZone *tz)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  gint year = g_date_time_get_year (now);
  gint32 best = G_MAXINT32;

  for (gint m = 1; m <= 7; m += 6) {
    g_autoptr (GDateTime) d = g_date_time_new_utc (year, m, 15, 12, 0, 0);
    gint interval = g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL,
        g_date_time_to_unix (d));
    gint32 off = g_time_zone_get_offset (tz, interval);
    if (!g_time_zone_is_dst (tz, interval))
      return off;
    best = MIN (best, off);
  }
  return best;
}

/* "<+0530>-05:30": a POSIX name and offset (POSIX counts west positive) */
static void
append_posix_offset (GString *s, gint32 east)
{
  guint a = ABS (east);
  g_string_append_printf (s, "<%c%02u%02u>%c%02u:%02u", east < 0 ? '-' : '+', a / 3600,
      a / 60 % 60, east <= 0 ? '+' : '-', a / 3600, a / 60 % 60);
}

static gboolean
point_ok (const TcdDstPoint *p)
{
  return p->month >= 1 && p->month <= 12 && p->week >= 1 && p->week <= 5 && p->weekday <= 6
      && p->hour <= 23 && p->minute <= 59;
}

gchar *
tcd_clock_zone_identifier (const gchar *name, const TcdDstRule *rule, GError **error)
{
  g_autoptr (GTimeZone) tz = NULL;
  g_autoptr (GString) s = NULL;
  gint32 std;

  if (!name || !*name || strlen (name) > 64
      || !(tz = g_time_zone_new_identifier (name))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "unknown time zone \"%.64s\"", name ? name : "");
    return NULL;
  }
  if (!rule || rule->mode == TCD_DST_ZONE)
    return g_strdup (name);
  std = standard_offset (tz);
  s = g_string_new (NULL);
  append_posix_offset (s, std);
  if (rule->mode == TCD_DST_OFF)
    return g_string_free (g_steal_pointer (&s), FALSE);
  if (!point_ok (&rule->start) || !point_ok (&rule->end)
      || rule->bias_min < 1 || rule->bias_min > 180) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "invalid DST rule");
    return NULL;
  }
  if (rule->start.month == rule->end.month && rule->start.week == rule->end.week) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "DST must start and end in different weeks");
    return NULL;
  }
  append_posix_offset (s, std + (gint32) rule->bias_min * 60);
  g_string_append_printf (s, ",M%u.%u.%u/%02u:%02u,M%u.%u.%u/%02u:%02u",
      rule->start.month, rule->start.week, rule->start.weekday, rule->start.hour,
      rule->start.minute, rule->end.month, rule->end.week, rule->end.weekday,
      rule->end.hour, rule->end.minute);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static gboolean
get_uint (JsonObject *o, const gchar *name, guint *out)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64
      || json_node_get_int (n) < 0 || json_node_get_int (n) > 10000)
    return FALSE;
  *out = (guint) json_node_get_int (n);
  return TRUE;
}

static gboolean
get_point (JsonObject *dst, const gchar *name, TcdDstPoint *p)
{
  JsonNode *n = dst ? json_object_get_member (dst, name) : NULL;
  JsonObject *o = n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;

  if (!o)
    return FALSE;
  p->minute = 0;
  get_uint (o, "minute", &p->minute);
  return get_uint (o, "month", &p->month) && get_uint (o, "week", &p->week)
      && get_uint (o, "weekday", &p->weekday) && get_uint (o, "hour", &p->hour);
}

gboolean
tcd_clock_rule_from_config (JsonNode *time_section, gchar **zone_out, TcdDstRule *rule,
    GError **error)
{
  JsonObject *t = time_section && JSON_NODE_HOLDS_OBJECT (time_section)
      ? json_node_get_object (time_section) : NULL;
  JsonNode *tzn = t ? json_object_get_member (t, "timezone") : NULL;
  JsonNode *dn = t ? json_object_get_member (t, "dst") : NULL;
  JsonObject *d = dn && JSON_NODE_HOLDS_OBJECT (dn) ? json_node_get_object (dn) : NULL;
  JsonNode *mn = d ? json_object_get_member (d, "mode") : NULL;
  const gchar *mode = mn && JSON_NODE_HOLDS_VALUE (mn)
      && json_node_get_value_type (mn) == G_TYPE_STRING ? json_node_get_string (mn) : "zone";

  memset (rule, 0, sizeof *rule);
  *zone_out = g_strdup (tzn && JSON_NODE_HOLDS_VALUE (tzn)
      && json_node_get_value_type (tzn) == G_TYPE_STRING ? json_node_get_string (tzn) : "UTC");
  if (g_str_equal (mode, "off")) {
    rule->mode = TCD_DST_OFF;
    return TRUE;
  }
  if (!g_str_equal (mode, "custom")) {
    rule->mode = TCD_DST_ZONE;
    return TRUE;
  }
  rule->mode = TCD_DST_CUSTOM;
  rule->bias_min = 60;
  get_uint (d, "bias_min", &rule->bias_min);
  if (!get_point (d, "start", &rule->start) || !get_point (d, "end", &rule->end)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "a custom DST needs its start and end");
    return FALSE;
  }
  return TRUE;
}

gboolean
tcd_clock_set_zone (const gchar *identifier, GError **error)
{
  GTimeZone *tz = identifier ? g_time_zone_new_identifier (identifier) : NULL;
  gboolean changed;

  if (!tz) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "unknown time zone \"%.80s\"", identifier ? identifier : "");
    return FALSE;
  }
  g_mutex_lock (&lock);
  changed = g_strcmp0 (zone_id, identifier) != 0;
  g_clear_pointer (&zone, g_time_zone_unref);
  zone = tz;
  g_free (zone_id);
  zone_id = g_strdup (identifier);
  g_mutex_unlock (&lock);
  if (changed)
    notify (TCD_CLOCK_CHANGED_ZONE);
  return TRUE;
}
