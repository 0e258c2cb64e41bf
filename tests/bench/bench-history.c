/* thermocamd benchmark: the history store (appliance/linkage/tcd-history-store.c).
 * Fills a day of 40 rules and the scene at one reading a second (3.5 million
 * readings, through the daemon's path: the bounded queue, the worker's
 * batches), then times the queries a trend view makes: each rule over the
 * day at step auto (per minute: 1440 points), raw (capped at 10000 points)
 * and per hour.  Prints JSON (figures, not a test).
 *
 *   bench-history DB [hours]        (DB: a new file; kept for bench-history.py)
 */
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>

#include "tcd-history-store.h"

#define RULES 40
#define MAX_POINTS 10000

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

/* every rule's query at @step over [from, to): median and max ms */
static void
time_queries (const gchar *path, gint64 from, gint64 to, TcdHistoryStep step, GString *out,
    const gchar *name)
{
  gdouble ms[RULES + 1], total = 0;
  guint points = 0;

  for (gint r = 0; r <= RULES; r++) {
    gint rule = r == 0 ? TCD_HISTORY_SCENE : r;
    gboolean trunc;
    gint64 t0 = g_get_monotonic_time ();
    g_autoptr (GArray) p = tcd_history_query (path, rule, from, to, step, MAX_POINTS, &trunc,
        NULL);
    ms[r] = (g_get_monotonic_time () - t0) / 1000.0;
    total += ms[r];
    points = p ? p->len : 0;
  }
  qsort (ms, RULES + 1, sizeof ms[0], cmp_double);
  g_string_append_printf (out, "  \"%s\": {\"points_per_rule\": %u, \"median_ms\": %.2f, "
      "\"max_ms\": %.2f, \"all_41_ms\": %.1f},\n", name, points, ms[RULES / 2], ms[RULES], total);
}

int
main (int argc, char **argv)
{
  const gchar *path = argc > 1 ? argv[1] : "bench-history.db";
  gint64 hours = argc > 2 ? g_ascii_strtoll (argv[2], NULL, 10) : 24;
  gint64 span = hours * 3600;
  TcdHistoryLimits l = { span + 3600, 31 * 86400, 366 * 86400, 366 * 86400, (guint64) 4 << 30 };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC, from = now - span;
  TcdHistorySample x[RULES + 1];
  TcdHistoryStore *s;
  g_autoptr (GError) err = NULL;
  g_autoptr (GString) out = g_string_new ("{\n");
  gint64 t0;
  GStatBuf st;

  g_unlink (path);
  s = tcd_history_store_open (path, &l, &err);
  if (!s) {
    g_printerr ("%s\n", err->message);
    return 1;
  }
  t0 = g_get_monotonic_time ();
  for (gint64 t = from; t < now; t++) {
    for (gint r = 0; r <= RULES; r++) {
      gdouble v = 20 + r + 5 * sin ((t - from) / 600.0 + r);
      x[r] = (TcdHistorySample) { r == 0 ? TCD_HISTORY_SCENE : r, v + 3, v - 2, v };
    }
    while (tcd_history_store_queued (s) >= TCD_HISTORY_MAX_QUEUE - 8)
      g_usleep (200);
    tcd_history_store_add (s, t, x, RULES + 1);
  }
  tcd_history_store_flush (s, TRUE);
  g_string_append_printf (out, "  \"filled\": {\"hours\": %" G_GINT64_FORMAT ", \"rules\": %d, "
      "\"readings\": %" G_GINT64_FORMAT ", \"seconds\": %.1f, \"readings_per_second\": %.0f},\n",
      hours, RULES + 1, span * (RULES + 1), (g_get_monotonic_time () - t0) / 1e6,
      span * (RULES + 1) / ((g_get_monotonic_time () - t0) / 1e6));
  tcd_history_store_close (s);
  if (g_stat (path, &st) == 0)
    g_string_append_printf (out, "  \"file_bytes\": %" G_GINT64_FORMAT ",\n", (gint64) st.st_size);

  /* a cold first query, then the trend view's */
  time_queries (path, from, now, TCD_HISTORY_STEP_AUTO, out, "day_auto_minute");
  time_queries (path, from, now, TCD_HISTORY_STEP_AUTO, out, "day_auto_minute_again");
  time_queries (path, from, now, TCD_HISTORY_STEP_HOUR, out, "day_hour");
  time_queries (path, from, now, TCD_HISTORY_STEP_RAW, out, "day_raw_capped");
  time_queries (path, now - 3600, now, TCD_HISTORY_STEP_RAW, out, "last_hour_raw");
  g_string_append (out, "  \"target_ms\": 50\n}\n");
  fputs (out->str, stdout);
  return 0;
}
