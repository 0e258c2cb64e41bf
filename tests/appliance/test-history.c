/* thermocamd's history store (appliance/linkage/tcd-history-store.c): a
 * simulated hour and more fed through the same path as the daemon's (its
 * clock is the samples' times), downsampling per minute and hour, retention,
 * the size limit, the events and their paging, and a kill -9 while writing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcd-history-store.h"

#define T0 1795507200           /* 2026-11-24T08:00:00Z: an hour's start */

typedef struct {
  gchar *dir, *path;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("test-history-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "history.db", NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  const gchar *name;
  GDir *d = g_dir_open (f->dir, 0, NULL);

  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *p = g_build_filename (f->dir, name, NULL);
    g_unlink (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static TcdHistoryLimits
limits (gint64 raw_s, guint64 size)
{
  TcdHistoryLimits l = { raw_s, 31 * 86400, 366 * 86400, 366 * 86400, size };
  return l;
}

/* the value a rule has at second @i: a saw, so that a minute's max, min and
 * mean are known */
static void
values_at (gint rule, gint64 i, TcdHistorySample *x)
{
  gdouble base = rule == TCD_HISTORY_SCENE ? 20.0 : 30.0 + rule;
  x->rule = rule;
  x->avg = base + (i % 60) * 0.1;       /* 0 .. 5.9 above base in a minute */
  x->max = x->avg + 10 + (i % 3600) / 600.0;    /* rises by 1 every 10 minutes */
  x->min = x->avg - 5 - (i % 7);
}

static void
feed (TcdHistoryStore *s, gint64 from, gint64 n, const gint *rules, guint n_rules)
{
  TcdHistorySample x[64];

  for (gint64 i = 0; i < n; i++) {
    for (guint r = 0; r < n_rules; r++)
      values_at (rules[r], from - T0 + i, &x[r]);
    /* the queue is bounded: a producer faster than the worker waits here */
    while (tcd_history_store_queued (s) >= TCD_HISTORY_MAX_QUEUE - 8)
      g_usleep (500);
    g_assert_true (tcd_history_store_add (s, from + i, x, n_rules));
  }
}

static void
test_downsample (Fixture *f, gconstpointer data)
{
  static const gint rules[] = { TCD_HISTORY_SCENE, 3, 7 };
  TcdHistoryLimits l = limits (86400, 1 << 30);
  TcdHistoryStore *s = tcd_history_store_open (f->path, &l, NULL);
  g_autoptr (GArray) raw = NULL, minutes = NULL, hours = NULL, autos = NULL;
  g_autoptr (GError) err = NULL;
  gboolean trunc;

  g_assert_nonnull (s);
  /* two simulated hours, one reading a second */
  feed (s, T0, 7200, rules, G_N_ELEMENTS (rules));
  tcd_history_store_flush (s, TRUE);

  raw = tcd_history_query (f->path, 3, T0, T0 + 7200, TCD_HISTORY_STEP_RAW, 10000, &trunc,
      &err);
  g_assert_no_error (err);
  g_assert_cmpuint (raw->len, ==, 7200);
  g_assert_false (trunc);
  for (guint i = 0; i < raw->len; i += 997) {
    TcdHistoryPoint *p = &g_array_index (raw, TcdHistoryPoint, i);
    TcdHistorySample x;
    values_at (3, i, &x);
    g_assert_cmpint (p->t, ==, T0 + i);
    g_assert_cmpfloat_with_epsilon (p->max, x.max, 1e-9);
    g_assert_cmpfloat_with_epsilon (p->min, x.min, 1e-9);
    g_assert_cmpfloat_with_epsilon (p->avg, x.avg, 1e-9);
  }

  minutes = tcd_history_query (f->path, 7, T0, T0 + 7200, TCD_HISTORY_STEP_MINUTE, 10000,
      &trunc, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (minutes->len, ==, 120);
  for (guint m = 0; m < minutes->len; m++) {
    TcdHistoryPoint *p = &g_array_index (minutes, TcdHistoryPoint, m);
    gdouble mx = -G_MAXDOUBLE, mn = G_MAXDOUBLE, sum = 0;
    for (guint i = m * 60; i < m * 60 + 60; i++) {
      TcdHistorySample x;
      values_at (7, i, &x);
      mx = MAX (mx, x.max);
      mn = MIN (mn, x.min);
      sum += x.avg;
    }
    g_assert_cmpint (p->t, ==, T0 + m * 60);
    g_assert_cmpfloat_with_epsilon (p->max, mx, 1e-9);
    g_assert_cmpfloat_with_epsilon (p->min, mn, 1e-9);
    g_assert_cmpfloat_with_epsilon (p->avg, sum / 60, 1e-9);
  }

  hours = tcd_history_query (f->path, TCD_HISTORY_SCENE, T0, T0 + 7200, TCD_HISTORY_STEP_HOUR,
      10000, &trunc, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (hours->len, ==, 2);
  for (guint h = 0; h < 2; h++) {
    TcdHistoryPoint *p = &g_array_index (hours, TcdHistoryPoint, h);
    gdouble mx = -G_MAXDOUBLE, mn = G_MAXDOUBLE, sum = 0;
    for (guint i = h * 3600; i < h * 3600 + 3600; i++) {
      TcdHistorySample x;
      values_at (TCD_HISTORY_SCENE, i, &x);
      mx = MAX (mx, x.max);
      mn = MIN (mn, x.min);
      sum += x.avg;
    }
    g_assert_cmpint (p->t, ==, T0 + h * 3600);
    g_assert_cmpfloat_with_epsilon (p->max, mx, 1e-9);
    g_assert_cmpfloat_with_epsilon (p->min, mn, 1e-9);
    g_assert_cmpfloat_with_epsilon (p->avg, sum / 3600, 1e-9);
  }

  /* a query starting inside a minute gets that minute (its bucket) */
  g_clear_pointer (&minutes, g_array_unref);
  minutes = tcd_history_query (f->path, 7, T0 + 90, T0 + 300, TCD_HISTORY_STEP_MINUTE, 10000,
      &trunc, &err);
  g_assert_cmpuint (minutes->len, ==, 4);
  g_assert_cmpint (g_array_index (minutes, TcdHistoryPoint, 0).t, ==, T0 + 60);

  /* the cap: at most max_points, and it says so */
  g_clear_pointer (&raw, g_array_unref);
  raw = tcd_history_query (f->path, 3, T0, T0 + 7200, TCD_HISTORY_STEP_RAW, 500, &trunc, &err);
  g_assert_cmpuint (raw->len, ==, 500);
  g_assert_true (trunc);

  /* auto: the finest step within the cap */
  g_assert_cmpint (tcd_history_step_auto (T0, T0 + 7200, 10000), ==, TCD_HISTORY_STEP_RAW);
  g_assert_cmpint (tcd_history_step_auto (T0, T0 + 86400, 10000), ==, TCD_HISTORY_STEP_MINUTE);
  g_assert_cmpint (tcd_history_step_auto (T0, T0 + 30 * 86400, 10000), ==,
      TCD_HISTORY_STEP_HOUR);
  autos = tcd_history_query (f->path, 3, T0, T0 + 7200, TCD_HISTORY_STEP_AUTO, 100, &trunc,
      &err);
  g_assert_cmpuint (autos->len, ==, 2);     /* 7200 s over 100 points: hours */

  /* an unknown rule: no points */
  g_clear_pointer (&raw, g_array_unref);
  raw = tcd_history_query (f->path, 99, T0, T0 + 7200, TCD_HISTORY_STEP_RAW, 10, &trunc, &err);
  g_assert_cmpuint (raw->len, ==, 0);
  tcd_history_store_close (s);
}

static void
test_retention (Fixture *f, gconstpointer data)
{
  static const gint rules[] = { TCD_HISTORY_SCENE, 1 };
  TcdHistoryLimits l = limits (600, 1 << 30);
  TcdHistoryStore *s = tcd_history_store_open (f->path, &l, NULL);
  g_autoptr (GArray) raw = NULL, minutes = NULL;
  gboolean trunc;

  feed (s, T0, 3600, rules, G_N_ELEMENTS (rules));
  tcd_history_store_flush (s, TRUE);
  raw = tcd_history_query (f->path, 1, T0, T0 + 3600, TCD_HISTORY_STEP_RAW, 10000, &trunc,
      NULL);
  /* only the last 10 minutes at full resolution; the minutes all there */
  g_assert_cmpuint (raw->len, <=, 601);
  g_assert_cmpuint (raw->len, >=, 600);
  g_assert_cmpint (g_array_index (raw, TcdHistoryPoint, raw->len - 1).t, ==, T0 + 3599);
  minutes = tcd_history_query (f->path, 1, T0, T0 + 3600, TCD_HISTORY_STEP_MINUTE, 10000,
      &trunc, NULL);
  g_assert_cmpuint (minutes->len, ==, 60);

  /* the limits change live: a shorter minute retention drops old minutes */
  l.minute_s = 1200;
  tcd_history_store_set_limits (s, &l);
  tcd_history_store_flush (s, TRUE);
  g_clear_pointer (&minutes, g_array_unref);
  minutes = tcd_history_query (f->path, 1, T0, T0 + 3600, TCD_HISTORY_STEP_MINUTE, 10000,
      &trunc, NULL);
  g_assert_cmpuint (minutes->len, <=, 21);
  tcd_history_store_close (s);
}

/* a rule deleted long ago, left only in the minutes and hours: after a
 * restart its minutes still expire */
static void
test_old_rule (Fixture *f, gconstpointer data)
{
  static const gint old[] = { 9 }, now[] = { TCD_HISTORY_SCENE };
  TcdHistoryLimits l = limits (600, 1 << 30);
  TcdHistoryStore *s = tcd_history_store_open (f->path, &l, NULL);
  g_autoptr (GArray) raw = NULL, minutes = NULL;
  gboolean trunc;

  feed (s, T0, 120, old, 1);
  feed (s, T0 + 120, 3600, now, 1);
  tcd_history_store_flush (s, TRUE);
  tcd_history_store_close (s);
  raw = tcd_history_query (f->path, 9, T0, T0 + 7200, TCD_HISTORY_STEP_RAW, 100, &trunc, NULL);
  g_assert_cmpuint (raw->len, ==, 0);       /* gone from the raw samples */
  minutes = tcd_history_query (f->path, 9, T0, T0 + 7200, TCD_HISTORY_STEP_MINUTE, 100, &trunc,
      NULL);
  g_assert_cmpuint (minutes->len, ==, 2);   /* still in the minutes */
  /* a restart with a shorter minute retention: they go too */
  l.minute_s = 1800;
  s = tcd_history_store_open (f->path, &l, NULL);
  tcd_history_store_flush (s, TRUE);
  g_clear_pointer (&minutes, g_array_unref);
  minutes = tcd_history_query (f->path, 9, T0, T0 + 7200, TCD_HISTORY_STEP_MINUTE, 100, &trunc,
      NULL);
  g_assert_cmpuint (minutes->len, ==, 0);
  tcd_history_store_close (s);
}

/* the range flags: kept per sample, ORed over a minute; a database of the
 * version before them gets their column (its samples in range) */
static void
test_range_flags (Fixture *f, gconstpointer data)
{
  TcdHistoryLimits l = limits (3600, 1 << 30);
  TcdHistoryStore *s;
  sqlite3 *db = NULL;
  g_autoptr (GArray) raw = NULL, minutes = NULL;
  gboolean trunc;
  GError *err = NULL;

  /* the old tables, with a sample in them */
  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
          "CREATE TABLE raw (rule INTEGER NOT NULL, t INTEGER NOT NULL, max REAL, min REAL,"
          " avg REAL, PRIMARY KEY (rule, t)) WITHOUT ROWID;"
          "CREATE TABLE minute (rule INTEGER NOT NULL, t INTEGER NOT NULL, max REAL, min REAL,"
          " sum REAL, n INTEGER, PRIMARY KEY (rule, t)) WITHOUT ROWID;"
          "CREATE TABLE hour (rule INTEGER NOT NULL, t INTEGER NOT NULL, max REAL, min REAL,"
          " sum REAL, n INTEGER, PRIMARY KEY (rule, t)) WITHOUT ROWID;"
          "INSERT INTO raw VALUES (5, 1795507200, 30, 20, 25);"
          "INSERT INTO minute VALUES (5, 1795507200, 30, 20, 25, 1);", NULL, NULL, NULL),
      ==, SQLITE_OK);
  sqlite3_close (db);

  s = tcd_history_store_open (f->path, &l, &err);
  g_assert_no_error (err);
  for (gint i = 1; i < 120; i++) {
    TcdHistorySample x = { 5, 200.0 + i, 10.0, 100.0,
      i == 30 ? TCD_HISTORY_ABOVE_RANGE : i == 90 ? TCD_HISTORY_BELOW_RANGE : 0 };
    tcd_history_store_add (s, T0 + i, &x, 1);
  }
  tcd_history_store_flush (s, FALSE);
  tcd_history_store_close (s);

  raw = tcd_history_query (f->path, 5, T0, T0 + 120, TCD_HISTORY_STEP_RAW, 1000, &trunc, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (raw->len, ==, 120);
  g_assert_cmpuint (g_array_index (raw, TcdHistoryPoint, 0).range, ==, 0);   /* the old one */
  g_assert_cmpuint (g_array_index (raw, TcdHistoryPoint, 29).range, ==, 0);
  g_assert_cmpuint (g_array_index (raw, TcdHistoryPoint, 30).range, ==, TCD_HISTORY_ABOVE_RANGE);
  g_assert_cmpuint (g_array_index (raw, TcdHistoryPoint, 90).range, ==, TCD_HISTORY_BELOW_RANGE);
  minutes = tcd_history_query (f->path, 5, T0, T0 + 120, TCD_HISTORY_STEP_MINUTE, 1000, &trunc,
      &err);
  g_assert_no_error (err);
  g_assert_cmpuint (minutes->len, ==, 2);
  g_assert_cmpuint (g_array_index (minutes, TcdHistoryPoint, 0).range, ==, TCD_HISTORY_ABOVE_RANGE);
  g_assert_cmpuint (g_array_index (minutes, TcdHistoryPoint, 1).range, ==, TCD_HISTORY_BELOW_RANGE);
}

static gint64
file_size (const gchar *path)
{
  GStatBuf st;
  return g_stat (path, &st) == 0 ? st.st_size : 0;
}

static void
test_size_limit (Fixture *f, gconstpointer data)
{
  gint rules[41];
  guint64 limit = 2 << 20;
  TcdHistoryLimits l = limits (86400, limit);
  TcdHistoryStore *s = tcd_history_store_open (f->path, &l, NULL);
  g_autoptr (GArray) raw = NULL, hours = NULL;
  gboolean trunc;
  gint64 size = 0, max_size = 0;

  rules[0] = TCD_HISTORY_SCENE;
  for (guint i = 1; i < G_N_ELEMENTS (rules); i++)
    rules[i] = i;
  /* 40 rules and the scene for 3 simulated hours: far more than 2 MiB */
  for (guint h = 0; h < 6; h++) {
    feed (s, T0 + h * 1800, 1800, rules, G_N_ELEMENTS (rules));
    tcd_history_store_flush (s, TRUE);
    size = file_size (f->path);
    max_size = MAX (max_size, size);
    g_test_message ("after %u half-hours: %" G_GINT64_FORMAT " bytes", h + 1, size);
  }
  g_assert_cmpint (max_size, <=, (gint64) limit);
  g_assert_cmpint (size, >, (gint64) limit / 4);        /* not all dropped either */
  /* the oldest raw samples went first; the newest are there, and the hours */
  raw = tcd_history_query (f->path, 40, T0, T0 + 3 * 3600, TCD_HISTORY_STEP_RAW, 20000, &trunc,
      NULL);
  g_assert_cmpuint (raw->len, >, 0);
  g_assert_cmpuint (raw->len, <, 3 * 3600);
  g_assert_cmpint (g_array_index (raw, TcdHistoryPoint, raw->len - 1).t, ==, T0 + 3 * 3600 - 1);
  g_assert_cmpint (g_array_index (raw, TcdHistoryPoint, 0).t, >, T0);
  hours = tcd_history_query (f->path, 40, T0, T0 + 3 * 3600, TCD_HISTORY_STEP_HOUR, 100, &trunc,
      NULL);
  g_assert_cmpuint (hours->len, ==, 3);
  tcd_history_store_close (s);
  /* WAL: checkpointed and truncated on close */
  g_assert_cmpint (file_size (f->path), <=, (gint64) limit);
}

static void
test_events (Fixture *f, gconstpointer data)
{
  TcdHistoryLimits l = limits (86400, 1 << 30);
  TcdHistoryStore *s = tcd_history_store_open (f->path, &l, NULL);
  g_autoptr (GPtrArray) all = NULL, alarms = NULL, page = NULL;
  guint64 total;

  for (guint i = 0; i < 30; i++) {
    g_autofree gchar *json = g_strdup_printf ("{\"time\":\"x\",\"source\":\"%s\",\"n\":%u}",
        i % 3 ? "rule" : "exception", i);
    tcd_history_store_add_event (s, (gint64) T0 * 1000 + i * 10, i % 3 ? "alarm" : "exception",
        json);
  }
  tcd_history_store_flush (s, FALSE);
  all = tcd_history_query_events (f->path, NULL, 0, G_MAXINT64, 100, 0, &total, NULL);
  g_assert_cmpuint (total, ==, 30);
  g_assert_cmpuint (all->len, ==, 30);
  g_assert_cmpstr (all->pdata[0], ==, "{\"time\":\"x\",\"source\":\"exception\",\"n\":0}");
  alarms = tcd_history_query_events (f->path, "alarm", 0, G_MAXINT64, 5, 3, &total, NULL);
  g_assert_cmpuint (total, ==, 20);
  g_assert_cmpuint (alarms->len, ==, 5);
  g_assert_nonnull (strstr (alarms->pdata[0], "\"n\":5"));    /* the 4th alarm: 1 2 4 5 */
  page = tcd_history_query_events (f->path, NULL, (gint64) T0 * 1000 + 100,
      (gint64) T0 * 1000 + 200, 100, 0, &total, NULL);
  g_assert_cmpuint (total, ==, 10);
  g_clear_pointer (&page, g_ptr_array_unref);

  /* with no readings at all, the events' own clock expires them */
  l.events_s = 1;
  tcd_history_store_set_limits (s, &l);
  tcd_history_store_add_event (s, (gint64) T0 * 1000 + 10000, "alarm", "{\"n\":30}");
  tcd_history_store_flush (s, TRUE);
  page = tcd_history_query_events (f->path, NULL, 0, G_MAXINT64, 100, 0, &total, NULL);
  g_assert_cmpuint (total, ==, 1);
  tcd_history_store_close (s);
}

/* A writer killed (SIGKILL) while it writes: the store opens again, passes
 * SQLite's integrity check, and holds every batch the writer saw committed */
static void
test_kill (Fixture *f, gconstpointer data)
{
  static const gint rules[] = { TCD_HISTORY_SCENE, 1, 2, 3 };
  gint fds[2];
  pid_t pid;
  gint64 acked = 0, got;
  TcdHistoryLimits l = limits (86400, 1 << 30);
  TcdHistoryStore *s;
  g_autoptr (GArray) raw = NULL;
  gboolean trunc;
  sqlite3 *db;
  sqlite3_stmt *st;

  g_assert_cmpint (pipe (fds), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0) {
    /* the writer: batches of 60 s, each acknowledged once committed, and
     * more queued behind it while it dies */
    TcdHistoryStore *w = tcd_history_store_open (f->path, &l, NULL);
    close (fds[0]);
    for (gint64 t = T0;; t += 60) {
      feed (w, t, 60, rules, G_N_ELEMENTS (rules));
      tcd_history_store_flush (w, FALSE);
      gint64 last = t + 59;
      if (write (fds[1], &last, sizeof last) != sizeof last)
        _exit (1);
    }
  }
  close (fds[1]);
  /* let it write a while, then kill it in the middle of it */
  for (guint i = 0; i < 40; i++)
    g_assert_cmpint (read (fds[0], &acked, sizeof acked), ==, sizeof acked);
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  while (read (fds[0], &got, sizeof got) == sizeof got)
    acked = got;
  close (fds[0]);
  g_test_message ("killed after %" G_GINT64_FORMAT " s acknowledged", acked - T0 + 1);

  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &st, NULL), ==,
      SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpstr ((const gchar *) sqlite3_column_text (st, 0), ==, "ok");
  sqlite3_finalize (st);
  sqlite3_close (db);

  s = tcd_history_store_open (f->path, &l, NULL);
  g_assert_nonnull (s);
  raw = tcd_history_query (f->path, 3, T0, acked + 1, TCD_HISTORY_STEP_RAW, 100000, &trunc,
      NULL);
  g_assert_cmpint (raw->len, ==, acked - T0 + 1);
  /* and it goes on writing */
  feed (s, acked + 1000, 10, rules, G_N_ELEMENTS (rules));
  tcd_history_store_flush (s, FALSE);
  g_clear_pointer (&raw, g_array_unref);
  raw = tcd_history_query (f->path, 3, acked + 1000, acked + 1010, TCD_HISTORY_STEP_RAW, 100,
      &trunc, NULL);
  g_assert_cmpuint (raw->len, ==, 10);
  tcd_history_store_close (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add (name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/history/downsample", test_downsample);
  ADD ("/history/retention", test_retention);
  ADD ("/history/size-limit", test_size_limit);
  ADD ("/history/old-rule", test_old_rule);
  ADD ("/history/range-flags", test_range_flags);
  ADD ("/history/events", test_events);
  ADD ("/history/kill", test_kill);
  return g_test_run ();
}
