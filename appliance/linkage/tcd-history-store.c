/* thermocamd: the temperature and event history in SQLite (the store)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-history-store.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#define BATCH_US (2 * G_USEC_PER_SEC)   /* a batch is committed after this long */
#define BATCH_MAX 256                   /* or when it holds this many items */
#define MAINTAIN_S 60                   /* retention and size, every minute (of samples) */

G_DEFINE_QUARK (tcd-history-error-quark, tcd_history_error)
#define HISTORY_ERROR tcd_history_error_quark ()

typedef enum { ITEM_SAMPLES, ITEM_EVENT, ITEM_LIMITS, ITEM_FLUSH, ITEM_STOP } ItemKind;

typedef struct {
  ItemKind kind;
  gint64 t;                     /* seconds (samples), ms (event) */
  guint n;
  TcdHistorySample *samples;
  gchar *type, *json;
  TcdHistoryLimits limits;
  gboolean maintain;            /* FLUSH */
  gboolean *done;               /* FLUSH: set under the store's lock */
} Item;

struct _TcdHistoryStore {
  gchar *path;
  sqlite3 *db;                  /* the worker's */
  sqlite3_stmt *ins_raw, *up_minute, *up_hour, *ins_event;
  GThread *thread;
  GAsyncQueue *queue;
  GMutex lock;
  GCond cond;
  /* the worker's */
  TcdHistoryLimits limits;
  gint64 newest;                /* the newest sample's time */
  gint64 maintained;            /* the newest at the last maintenance */
  gint64 maintained_us;
  GArray *rules;                /* gint: every rule id in the raw table */
  /* statistics (atomic) */
  gint written_samples, written_events, dropped, batches, errors, last_write_us;
  gint64 size_bytes;            /* under lock */
};

static void
item_free (Item *it)
{
  g_free (it->samples);
  g_free (it->type);
  g_free (it->json);
  g_free (it);
}

/* ---- schema ---- */

static const gchar schema_sql[] =
  "CREATE TABLE IF NOT EXISTS raw (rule INTEGER NOT NULL, t INTEGER NOT NULL,"
  "  max REAL, min REAL, avg REAL, range INTEGER NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (rule, t)) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS minute (rule INTEGER NOT NULL, t INTEGER NOT NULL,"
  "  max REAL, min REAL, sum REAL, n INTEGER, range INTEGER NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (rule, t)) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS hour (rule INTEGER NOT NULL, t INTEGER NOT NULL,"
  "  max REAL, min REAL, sum REAL, n INTEGER, range INTEGER NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (rule, t)) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, t INTEGER NOT NULL,"
  "  type TEXT NOT NULL, body TEXT NOT NULL);"
  "CREATE INDEX IF NOT EXISTS events_t ON events (t);"
  "CREATE INDEX IF NOT EXISTS events_type_t ON events (type, t);";

#define UPSERT(table) \
  "INSERT INTO " table " (rule, t, max, min, sum, n, range) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6) " \
  "ON CONFLICT (rule, t) DO UPDATE SET max = MAX (max, excluded.max), " \
  "range = range | excluded.range, " \
  "min = MIN (min, excluded.min), sum = sum + excluded.sum, n = n + 1"

static gboolean
set_sql_error (GError **error, sqlite3 *db, const gchar *what)
{
  g_set_error (error, HISTORY_ERROR, 1, "history: %s: %s", what,
      db ? sqlite3_errmsg (db) : "out of memory");
  return FALSE;
}

static gboolean
exec (sqlite3 *db, const gchar *sql, GError **error)
{
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return set_sql_error (error, db, sql);
  return TRUE;
}

static gint64
query_int (sqlite3 *db, const gchar *sql)
{
  sqlite3_stmt *st = NULL;
  gint64 v = -1;

  /* -1 also for NULL (MIN or MAX of an empty table) */
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW
      && sqlite3_column_type (st, 0) != SQLITE_NULL)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

static void
note_rule (TcdHistoryStore *s, gint rule)
{
  for (guint i = 0; i < s->rules->len; i++)
    if (g_array_index (s->rules, gint, i) == rule)
      return;
  g_array_append_val (s->rules, rule);
}

/* every rule id of the three tables (a rule deleted long ago may be left
 * only in the hours), by skipping along their primary keys */
static void
load_rules (TcdHistoryStore *s)
{
  static const gchar *const tables[] = { "raw", "minute", "hour" };

  g_array_set_size (s->rules, 0);
  for (guint k = 0; k < G_N_ELEMENTS (tables); k++) {
    g_autofree gchar *sql = g_strdup_printf ("SELECT rule FROM %s WHERE rule > ? "
        "ORDER BY rule LIMIT 1", tables[k]);
    sqlite3_stmt *st = NULL;
    gint64 after = G_MININT64;

    if (sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL) != SQLITE_OK)
      continue;
    for (;;) {
      gint r;
      sqlite3_reset (st);
      sqlite3_bind_int64 (st, 1, after);
      if (sqlite3_step (st) != SQLITE_ROW)
        break;
      r = sqlite3_column_int (st, 0);
      note_rule (s, r);
      after = r;
    }
    sqlite3_finalize (st);
  }
}

/* a database of an older version: the range flags' column, 0 (in range) for
 * what it holds */
static gboolean
add_range_column (sqlite3 *db, GError **error)
{
  static const gchar *const tables[] = { "raw", "minute", "hour" };

  for (guint k = 0; k < G_N_ELEMENTS (tables); k++) {
    g_autofree gchar *probe = g_strdup_printf ("SELECT range FROM %s LIMIT 0", tables[k]);
    g_autofree gchar *alter = NULL;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2 (db, probe, -1, &st, NULL) == SQLITE_OK) {
      sqlite3_finalize (st);
      continue;
    }
    alter = g_strdup_printf ("ALTER TABLE %s ADD COLUMN range INTEGER NOT NULL DEFAULT 0",
        tables[k]);
    if (!exec (db, alter, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
open_db (TcdHistoryStore *s, GError **error)
{
  if (sqlite3_open_v2 (s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
          | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    return set_sql_error (error, s->db, s->path);
  sqlite3_busy_timeout (s->db, 5000);
  /* incremental auto-vacuum gives the freed pages back (the size limit is
   * the file's); only takes effect on a new database */
  if (!exec (s->db, "PRAGMA auto_vacuum = INCREMENTAL", error)
      || !exec (s->db, "PRAGMA journal_mode = WAL", error)
      /* a commit is durable at the next checkpoint; a crash loses at most
       * the last batch and never corrupts (WAL with synchronous NORMAL) */
      || !exec (s->db, "PRAGMA synchronous = NORMAL", error)
      || !exec (s->db, "PRAGMA journal_size_limit = 4194304", error)
      || !exec (s->db, schema_sql, error)
      || !add_range_column (s->db, error))
    return FALSE;
  if (sqlite3_prepare_v2 (s->db, "INSERT OR REPLACE INTO raw (rule, t, max, min, avg, range) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &s->ins_raw, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (s->db, UPSERT ("minute"), -1, &s->up_minute, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (s->db, UPSERT ("hour"), -1, &s->up_hour, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (s->db, "INSERT INTO events (t, type, body) VALUES (?1, ?2, ?3)",
          -1, &s->ins_event, NULL) != SQLITE_OK)
    return set_sql_error (error, s->db, "prepare");
  s->newest = MAX (query_int (s->db, "SELECT MAX (t) FROM hour"), 0);
  load_rules (s);
  return TRUE;
}

/* ---- the worker ---- */

static gboolean
step_done (sqlite3 *db, sqlite3_stmt *st)
{
  gint rc = sqlite3_step (st);
  sqlite3_reset (st);
  if (rc != SQLITE_DONE) {
    g_warning ("history: %s", sqlite3_errmsg (db));
    return FALSE;
  }
  return TRUE;
}

static gboolean
write_samples (TcdHistoryStore *s, Item *it)
{
  for (guint i = 0; i < it->n; i++) {
    const TcdHistorySample *x = &it->samples[i];
    sqlite3_stmt *up[2] = { s->up_minute, s->up_hour };
    gint64 bucket[2] = { it->t - it->t % 60, it->t - it->t % 3600 };

    sqlite3_bind_int (s->ins_raw, 1, x->rule);
    sqlite3_bind_int64 (s->ins_raw, 2, it->t);
    sqlite3_bind_double (s->ins_raw, 3, x->max);
    sqlite3_bind_double (s->ins_raw, 4, x->min);
    sqlite3_bind_double (s->ins_raw, 5, x->avg);
    sqlite3_bind_int (s->ins_raw, 6, (gint) x->range);
    if (!step_done (s->db, s->ins_raw))
      return FALSE;
    for (guint k = 0; k < 2; k++) {
      sqlite3_bind_int (up[k], 1, x->rule);
      sqlite3_bind_int64 (up[k], 2, bucket[k]);
      sqlite3_bind_double (up[k], 3, x->max);
      sqlite3_bind_double (up[k], 4, x->min);
      sqlite3_bind_double (up[k], 5, x->avg);
      sqlite3_bind_int (up[k], 6, (gint) x->range);
      if (!step_done (s->db, up[k]))
        return FALSE;
    }
    note_rule (s, x->rule);
  }
  s->newest = MAX (s->newest, it->t);
  return TRUE;
}

static gboolean
write_event (TcdHistoryStore *s, Item *it)
{
  sqlite3_bind_int64 (s->ins_event, 1, it->t);
  sqlite3_bind_text (s->ins_event, 2, it->type, -1, SQLITE_STATIC);
  sqlite3_bind_text (s->ins_event, 3, it->json, -1, SQLITE_STATIC);
  return step_done (s->db, s->ins_event);
}

static void
write_batch (TcdHistoryStore *s, GPtrArray *batch)
{
  guint samples = 0, events = 0;
  gboolean ok;

  if (batch->len == 0)
    return;
  ok = exec (s->db, "BEGIN", NULL);
  for (guint i = 0; ok && i < batch->len; i++) {
    Item *it = batch->pdata[i];
    if (it->kind == ITEM_SAMPLES) {
      ok = write_samples (s, it);
      samples += it->n;
    } else {
      ok = write_event (s, it);
      events++;
    }
  }
  if (ok && exec (s->db, "COMMIT", NULL)) {
    g_atomic_int_add (&s->written_samples, samples);
    g_atomic_int_add (&s->written_events, events);
    g_atomic_int_inc (&s->batches);
    g_atomic_int_set (&s->last_write_us, (gint) (g_get_monotonic_time () / 1000));
  } else {
    exec (s->db, "ROLLBACK", NULL);
    g_atomic_int_inc (&s->errors);
    g_warning ("history: a batch of %u items was not written: %s", batch->len,
        sqlite3_errmsg (s->db));
  }
  g_ptr_array_set_size (batch, 0);
}

static gint64
db_size (TcdHistoryStore *s)
{
  gint64 pages = query_int (s->db, "PRAGMA page_count");
  gint64 freed = query_int (s->db, "PRAGMA freelist_count");
  gint64 size = query_int (s->db, "PRAGMA page_size");
  return (pages - MAX (freed, 0)) * size;
}

/* deletes what is in @table before @cutoff (per rule: along the key) */
static void
delete_before (TcdHistoryStore *s, const gchar *table, gint64 cutoff)
{
  g_autofree gchar *sql = g_strdup_printf ("DELETE FROM %s WHERE rule = ? AND t < ?", table);
  sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL) != SQLITE_OK)
    return;
  for (guint i = 0; i < s->rules->len; i++) {
    sqlite3_bind_int (st, 1, g_array_index (s->rules, gint, i));
    sqlite3_bind_int64 (st, 2, cutoff);
    step_done (s->db, st);
  }
  sqlite3_finalize (st);
}

static gint64
oldest (TcdHistoryStore *s, const gchar *table)
{
  g_autofree gchar *sql = g_strdup_printf ("SELECT MIN (t) FROM %s WHERE rule = ?", table);
  sqlite3_stmt *st = NULL;
  gint64 o = G_MAXINT64;

  if (g_str_equal (table, "events"))
    return query_int (s->db, "SELECT MIN (t) FROM events");
  if (sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL) != SQLITE_OK)
    return -1;
  for (guint i = 0; i < s->rules->len; i++) {
    sqlite3_bind_int (st, 1, g_array_index (s->rules, gint, i));
    if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_type (st, 0) != SQLITE_NULL)
      o = MIN (o, sqlite3_column_int64 (st, 0));
    sqlite3_reset (st);
  }
  sqlite3_finalize (st);
  return o == G_MAXINT64 ? -1 : o;
}

/* Over the size limit: the oldest tenth of the raw samples go, then of the
 * minutes, the events, the hours, until it fits */
static void
enforce_size (TcdHistoryStore *s)
{
  static const gchar *const order[] = { "raw", "minute", "events", "hour" };
  guint rounds = 0;

  while (db_size (s) > (gint64) s->limits.size_limit && rounds++ < 200) {
    gboolean dropped = FALSE;
    for (guint k = 0; k < G_N_ELEMENTS (order) && !dropped; k++) {
      gboolean ev = g_str_equal (order[k], "events");
      gint64 o = oldest (s, order[k]);
      gint64 newest = ev ? query_int (s->db, "SELECT MAX (t) FROM events") : s->newest;
      gint64 span, cutoff;
      if (o < 0 || newest < o)
        continue;
      span = newest - o;
      cutoff = o + MAX (span / 10, ev ? 1000 : 60);
      if (ev) {
        g_autofree gchar *sql = g_strdup_printf ("DELETE FROM events WHERE t < %"
            G_GINT64_FORMAT, cutoff);
        exec (s->db, sql, NULL);
      } else {
        delete_before (s, order[k], cutoff);
      }
      dropped = TRUE;
    }
    if (!dropped)
      break;
    exec (s->db, "PRAGMA incremental_vacuum", NULL);
  }
  if (rounds > 0)
    exec (s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL);
}

static void
maintain (TcdHistoryStore *s)
{
  /* the clock: the newest sample, or the newest event (while no readings
   * come: measurement off) */
  gint64 now = MAX (s->newest, query_int (s->db, "SELECT MAX (t) FROM events") / 1000);
  g_autofree gchar *sql = NULL;

  if (now > 0) {
    exec (s->db, "BEGIN", NULL);
    delete_before (s, "raw", now - s->limits.raw_s);
    delete_before (s, "minute", now - s->limits.minute_s);
    delete_before (s, "hour", now - s->limits.hour_s);
    sql = g_strdup_printf ("DELETE FROM events WHERE t < %" G_GINT64_FORMAT,
        (now - s->limits.events_s) * 1000);
    exec (s->db, sql, NULL);
    exec (s->db, "COMMIT", NULL);
    exec (s->db, "PRAGMA incremental_vacuum", NULL);
  }
  enforce_size (s);
  s->maintained = s->newest;
  s->maintained_us = g_get_monotonic_time ();
  g_mutex_lock (&s->lock);
  s->size_bytes = db_size (s);
  g_mutex_unlock (&s->lock);
}

static gpointer
worker (gpointer data)
{
  TcdHistoryStore *s = data;
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  gint64 first = 0;
  gboolean running = TRUE;

  while (running) {
    gint64 wait = batch->len ? MAX (first + BATCH_US - g_get_monotonic_time (), 0) : BATCH_US;
    Item *it = g_async_queue_timeout_pop (s->queue, wait);

    if (it) {
      switch (it->kind) {
        case ITEM_SAMPLES:
        case ITEM_EVENT:
          if (batch->len == 0)
            first = g_get_monotonic_time ();
          g_ptr_array_add (batch, it);
          it = NULL;
          break;
        case ITEM_LIMITS:
          s->limits = it->limits;
          break;
        case ITEM_FLUSH:
          write_batch (s, batch);
          if (it->maintain)
            maintain (s);
          g_mutex_lock (&s->lock);
          *it->done = TRUE;
          g_cond_broadcast (&s->cond);
          g_mutex_unlock (&s->lock);
          break;
        case ITEM_STOP:
          running = FALSE;
          break;
      }
      if (it)
        item_free (it);
    }
    if (batch->len && (!running || batch->len >= BATCH_MAX
            || g_get_monotonic_time () - first >= BATCH_US))
      write_batch (s, batch);
    if (s->newest - s->maintained >= MAINTAIN_S
        || g_get_monotonic_time () - s->maintained_us >= MAINTAIN_S * G_USEC_PER_SEC)
      maintain (s);
  }
  return NULL;
}

/* ---- the store ---- */

TcdHistoryStore *
tcd_history_store_open (const gchar *path, const TcdHistoryLimits *limits, GError **error)
{
  TcdHistoryStore *s = g_new0 (TcdHistoryStore, 1);

  s->path = g_strdup (path);
  s->limits = *limits;
  s->rules = g_array_new (FALSE, FALSE, sizeof (gint));
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  if (!open_db (s, error)) {
    tcd_history_store_close (s);
    return NULL;
  }
  s->maintained = s->newest;
  s->maintained_us = g_get_monotonic_time ();
  s->size_bytes = db_size (s);
  s->queue = g_async_queue_new_full ((GDestroyNotify) item_free);
  s->thread = g_thread_new ("history", worker, s);
  return s;
}

static void
push (TcdHistoryStore *s, Item *it)
{
  g_async_queue_push (s->queue, it);
}

void
tcd_history_store_close (TcdHistoryStore *s)
{
  if (!s)
    return;
  if (s->thread) {
    Item *it = g_new0 (Item, 1);
    it->kind = ITEM_STOP;
    push (s, it);
    g_thread_join (s->thread);
  }
  g_clear_pointer (&s->queue, g_async_queue_unref);
  sqlite3_finalize (s->ins_raw);
  sqlite3_finalize (s->up_minute);
  sqlite3_finalize (s->up_hour);
  sqlite3_finalize (s->ins_event);
  if (s->db)
    sqlite3_close (s->db);
  g_array_unref (s->rules);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s->path);
  g_free (s);
}

const gchar *
tcd_history_store_path (TcdHistoryStore *s)
{
  return s->path;
}

static gboolean
room (TcdHistoryStore *s)
{
  if (g_async_queue_length (s->queue) >= TCD_HISTORY_MAX_QUEUE) {
    if (g_atomic_int_add (&s->dropped, 1) % 100 == 0)
      g_warning ("history: the writer is behind: dropped what came (queue full)");
    return FALSE;
  }
  return TRUE;
}

gboolean
tcd_history_store_add (TcdHistoryStore *s, gint64 t, const TcdHistorySample *samples, guint n)
{
  Item *it;

  if (!room (s))
    return FALSE;
  it = g_new0 (Item, 1);
  it->kind = ITEM_SAMPLES;
  it->t = t;
  it->n = n;
  it->samples = g_memdup2 (samples, n * sizeof *samples);
  push (s, it);
  return TRUE;
}

gboolean
tcd_history_store_add_event (TcdHistoryStore *s, gint64 t_ms, const gchar *type,
    const gchar *json)
{
  Item *it;

  if (!room (s))
    return FALSE;
  it = g_new0 (Item, 1);
  it->kind = ITEM_EVENT;
  it->t = t_ms;
  it->type = g_strdup (type);
  it->json = g_strdup (json);
  push (s, it);
  return TRUE;
}

guint
tcd_history_store_queued (TcdHistoryStore *s)
{
  return MAX (g_async_queue_length (s->queue), 0);
}

void
tcd_history_store_set_limits (TcdHistoryStore *s, const TcdHistoryLimits *limits)
{
  Item *it = g_new0 (Item, 1);
  it->kind = ITEM_LIMITS;
  it->limits = *limits;
  push (s, it);
}

void
tcd_history_store_flush (TcdHistoryStore *s, gboolean maintain)
{
  gboolean done = FALSE;
  Item *it = g_new0 (Item, 1);

  it->kind = ITEM_FLUSH;
  it->maintain = maintain;
  it->done = &done;
  push (s, it);
  g_mutex_lock (&s->lock);
  while (!done)
    g_cond_wait (&s->cond, &s->lock);
  g_mutex_unlock (&s->lock);
}

JsonNode *
tcd_history_store_stats (TcdHistoryStore *s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gint64 size;

  g_mutex_lock (&s->lock);
  size = s->size_bytes;
  g_mutex_unlock (&s->lock);
  json_builder_begin_object (b);
#define MEMBER(name, value) \
  json_builder_set_member_name (b, name); json_builder_add_int_value (b, value)
  MEMBER ("queued", tcd_history_store_queued (s));
  MEMBER ("written_samples", (guint) g_atomic_int_get (&s->written_samples));
  MEMBER ("written_events", (guint) g_atomic_int_get (&s->written_events));
  MEMBER ("dropped", (guint) g_atomic_int_get (&s->dropped));
  MEMBER ("batches", (guint) g_atomic_int_get (&s->batches));
  MEMBER ("errors", (guint) g_atomic_int_get (&s->errors));
  MEMBER ("size_bytes", size);
#undef MEMBER
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- queries ---- */

static const gchar *const step_names[] = { "raw", "minute", "hour", "auto" };

gboolean
tcd_history_step_parse (const gchar *text, TcdHistoryStep *step)
{
  for (guint i = 0; i < G_N_ELEMENTS (step_names); i++)
    if (g_strcmp0 (text, step_names[i]) == 0) {
      *step = i;
      return TRUE;
    }
  return FALSE;
}

const gchar *
tcd_history_step_name (TcdHistoryStep step)
{
  return step_names[MIN ((guint) step, G_N_ELEMENTS (step_names) - 1)];
}

TcdHistoryStep
tcd_history_step_auto (gint64 from, gint64 to, guint max_points)
{
  gint64 span = MAX (to - from, 0);
  if (span <= (gint64) max_points)
    return TCD_HISTORY_STEP_RAW;
  if (span / 60 <= (gint64) max_points)
    return TCD_HISTORY_STEP_MINUTE;
  return TCD_HISTORY_STEP_HOUR;
}

static sqlite3 *
open_reader (const gchar *path, GError **error)
{
  sqlite3 *db = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, HISTORY_ERROR, 2, "history: no history stored yet");
    return NULL;
  }
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL)
      != SQLITE_OK) {
    set_sql_error (error, db, path);
    sqlite3_close (db);
    return NULL;
  }
  sqlite3_busy_timeout (db, 2000);
  return db;
}

GArray *
tcd_history_query (const gchar *path, gint rule, gint64 from, gint64 to, TcdHistoryStep step,
    guint max_points, gboolean *truncated, GError **error)
{
  static const gchar *const sql[] = {
    "SELECT t, max, min, avg, range FROM raw WHERE rule = ?1 AND t >= ?2 AND t < ?3 "
        "ORDER BY t LIMIT ?4",
    "SELECT t, max, min, sum / n, range FROM minute WHERE rule = ?1 AND t >= ?2 AND t < ?3 "
        "ORDER BY t LIMIT ?4",
    "SELECT t, max, min, sum / n, range FROM hour WHERE rule = ?1 AND t >= ?2 AND t < ?3 "
        "ORDER BY t LIMIT ?4",
  };
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  GArray *points;
  gint rc;

  *truncated = FALSE;
  if (step == TCD_HISTORY_STEP_AUTO)
    step = tcd_history_step_auto (from, to, max_points);
  if (!(db = open_reader (path, error)))
    return NULL;
  if (sqlite3_prepare_v2 (db, sql[step], -1, &st, NULL) != SQLITE_OK) {
    set_sql_error (error, db, "query");
    sqlite3_close (db);
    return NULL;
  }
  /* a minute or an hour counts from its start: the bucket that holds @from */
  if (step == TCD_HISTORY_STEP_MINUTE)
    from -= ((from % 60) + 60) % 60;
  else if (step == TCD_HISTORY_STEP_HOUR)
    from -= ((from % 3600) + 3600) % 3600;
  sqlite3_bind_int (st, 1, rule);
  sqlite3_bind_int64 (st, 2, from);
  sqlite3_bind_int64 (st, 3, to);
  sqlite3_bind_int64 (st, 4, (gint64) max_points + 1);
  points = g_array_new (FALSE, FALSE, sizeof (TcdHistoryPoint));
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    TcdHistoryPoint p = { sqlite3_column_int64 (st, 0), sqlite3_column_double (st, 1),
        sqlite3_column_double (st, 2), sqlite3_column_double (st, 3),
        (guint) sqlite3_column_int (st, 4) };
    if (points->len == max_points) {
      *truncated = TRUE;
      break;
    }
    g_array_append_val (points, p);
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    set_sql_error (error, db, "query");
    g_clear_pointer (&points, g_array_unref);
  }
  sqlite3_finalize (st);
  sqlite3_close (db);
  return points;
}

GPtrArray *
tcd_history_query_events (const gchar *path, const gchar *type, gint64 from_ms, gint64 to_ms,
    guint limit, guint offset, guint64 *total, GError **error)
{
  const gchar *where = type ? "WHERE type = ?1 AND t >= ?2 AND t < ?3"
      : "WHERE ?1 IS NULL AND t >= ?2 AND t < ?3";
  g_autofree gchar *count_sql = g_strdup_printf ("SELECT COUNT (*) FROM events %s", where);
  g_autofree gchar *rows_sql = g_strdup_printf ("SELECT body FROM events %s "
      "ORDER BY t, id LIMIT ?4 OFFSET ?5", where);
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  GPtrArray *events = NULL;

  *total = 0;
  if (!(db = open_reader (path, error)))
    return NULL;
  for (guint pass = 0; pass < 2; pass++) {
    gint rc;
    if (sqlite3_prepare_v2 (db, pass ? rows_sql : count_sql, -1, &st, NULL) != SQLITE_OK) {
      set_sql_error (error, db, "query");
      g_clear_pointer (&events, g_ptr_array_unref);
      break;
    }
    if (type)
      sqlite3_bind_text (st, 1, type, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null (st, 1);
    sqlite3_bind_int64 (st, 2, from_ms);
    sqlite3_bind_int64 (st, 3, to_ms);
    if (pass) {
      sqlite3_bind_int64 (st, 4, limit);
      sqlite3_bind_int64 (st, 5, offset);
      events = g_ptr_array_new_with_free_func (g_free);
    }
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
      if (pass)
        g_ptr_array_add (events, g_strdup ((const gchar *) sqlite3_column_text (st, 0)));
      else
        *total = sqlite3_column_int64 (st, 0);
    }
    if (rc != SQLITE_DONE) {
      set_sql_error (error, db, "query");
      g_clear_pointer (&events, g_ptr_array_unref);
      sqlite3_finalize (st);
      break;
    }
    sqlite3_finalize (st);
    st = NULL;
  }
  sqlite3_close (db);
  return events;
}
