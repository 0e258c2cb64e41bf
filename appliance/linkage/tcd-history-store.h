/* thermocamd: the temperature and event history in SQLite (the store)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One file (WAL mode) with every rule's and the scene's max/min/avg at full
 * resolution ("raw", at most one a second), per minute and per hour (each a
 * running aggregate: max of the maxima, min of the minima, mean of the
 * averages), and the events beside them.  Writes go through a bounded queue
 * to one worker thread that commits them in batches (about every 2 s): the
 * caller never waits on SQLite, and a crash loses at most the batch being
 * gathered.  The clock is the caller's: the samples carry their times, and
 * retention is counted back from the newest sample (so a test may feed a
 * simulated hour in a second through the same path).  Over the size limit,
 * the oldest is dropped first: raw samples, then minutes, events, hours.
 *
 * Queries open their own read-only connection (WAL lets them read while the
 * worker writes): call them from a worker thread, never the main loop.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TCD_HISTORY_SCENE (-1)          /* the scene's "rule" id */
#define TCD_HISTORY_MAX_QUEUE 1024      /* batches waiting for the worker */

/* range flags: the reading's minimum below / maximum above the measurement range */
#define TCD_HISTORY_BELOW_RANGE 1
#define TCD_HISTORY_ABOVE_RANGE 2

typedef struct {
  gint rule;                            /* TCD_HISTORY_SCENE for the scene */
  gdouble max, min, avg;
  guint range;                          /* TCD_HISTORY_*_RANGE */
} TcdHistorySample;

typedef struct {
  gint64 raw_s, minute_s, hour_s, events_s;     /* retention, seconds */
  guint64 size_limit;                           /* bytes of the database file */
} TcdHistoryLimits;

typedef enum {
  TCD_HISTORY_STEP_RAW,
  TCD_HISTORY_STEP_MINUTE,
  TCD_HISTORY_STEP_HOUR,
  TCD_HISTORY_STEP_AUTO,
} TcdHistoryStep;

typedef struct {
  gint64 t;                             /* unix seconds (the bucket's start) */
  gdouble max, min, avg;
  guint range;                          /* TCD_HISTORY_*_RANGE: of any sample in it */
} TcdHistoryPoint;

typedef struct _TcdHistoryStore TcdHistoryStore;

/* Opens (creates) the database at @path and starts its worker */
TcdHistoryStore *tcd_history_store_open (const gchar *path, const TcdHistoryLimits *limits,
                                         GError **error);
/* Writes what is queued, stops the worker, closes */
void     tcd_history_store_close (TcdHistoryStore *s);
const gchar *tcd_history_store_path (TcdHistoryStore *s);

/* Queue the samples of time @t (unix seconds) / an event (@json: its text);
 * never blocks: FALSE (and counted) when the queue is full */
gboolean tcd_history_store_add (TcdHistoryStore *s, gint64 t, const TcdHistorySample *samples,
                                guint n);
gboolean tcd_history_store_add_event (TcdHistoryStore *s, gint64 t_ms, const gchar *type,
                                      const gchar *json);
/* How many items wait for the worker */
guint    tcd_history_store_queued (TcdHistoryStore *s);
void     tcd_history_store_set_limits (TcdHistoryStore *s, const TcdHistoryLimits *limits);
/* Waits until everything queued so far is committed (tests, benchmarks,
 * export); the maintenance (retention, size) runs first when @maintain */
void     tcd_history_store_flush (TcdHistoryStore *s, gboolean maintain);
/* {"queued", "written_samples", "written_events", "dropped", "batches",
 *  "errors", "size_bytes", "last_write_ms"} */
JsonNode *tcd_history_store_stats (TcdHistoryStore *s);

/* ---- queries: any thread but the main loop; @path as opened ---- */

/* "raw", "minute", "hour", "auto" */
gboolean     tcd_history_step_parse (const gchar *text, TcdHistoryStep *step);
const gchar *tcd_history_step_name (TcdHistoryStep step);
/* The step AUTO picks for the span @from..@to to give at most @max_points */
TcdHistoryStep tcd_history_step_auto (gint64 from, gint64 to, guint max_points);

/* The points of @rule with @from <= t < @to, oldest first, at most
 * @max_points (*truncated set when there were more) */
GArray  *tcd_history_query (const gchar *path, gint rule, gint64 from, gint64 to,
                            TcdHistoryStep step, guint max_points, gboolean *truncated,
                            GError **error);
/* The events (their JSON texts, oldest first) of @type (NULL: all) with
 * @from_ms <= t < @to_ms: @limit of them from @offset, and how many match */
GPtrArray *tcd_history_query_events (const gchar *path, const gchar *type, gint64 from_ms,
                                     gint64 to_ms, guint limit, guint offset, guint64 *total,
                                     GError **error);

G_END_DECLS
