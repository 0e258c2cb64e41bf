/* thermocamd: HTTP routes of the history: temperatures over time and the
 * past events (linkage/tcd-history.h keeps them)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   GET /history?rule=<id|scene>&from=&to=&step=<raw|minute|hour|auto>&format=<json|csv>
 *   GET /events/history?type=&from=&to=&limit=&offset=
 *
 * Every parameter is checked and bounded: a query covers at most
 * MAX_SPAN_S and answers at most MAX_POINTS points (then "truncated": the
 * next query starts after the last point), at most MAX_EVENTS events.  The
 * queries run in a worker thread on their own read-only connection: the main
 * loop never waits on SQLite, nor on the answer's text: the thread makes it
 * (compact JSON, or CSV), the main loop only hands it to libsoup.
 */
#include "tcd-http-private.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "tc-json.h"
#include "tcd-clock.h"
#include "tcd-json.h"

#define MAX_POINTS 10000
#define MAX_SPAN_S (400 * 86400)          /* temperatures */
#define MAX_EVENTS_SPAN_S (3700 * 86400)   /* events: the longest retention */
#define DEFAULT_SPAN_S 3600
#define MAX_EVENTS 1000
#define DEFAULT_EVENTS 100
#define MAX_OFFSET 10000000

typedef struct {
  SoupServerMessage *msg;
  gchar *path;
  /* temperatures */
  gint rule;
  gint64 from, to;
  TcdHistoryStep step;
  gboolean csv;
  /* events */
  gchar *type;
  guint limit, offset;
  /* the answer */
  GArray *points;
  gboolean truncated;
  GPtrArray *events;
  guint64 total;
  GError *error;
  gchar *body;                  /* the answer's text, made in the thread */
  gchar *filename;              /* CSV: the attachment's name */
} Job;

static void
job_free (Job *j)
{
  g_object_unref (j->msg);
  g_free (j->path);
  g_free (j->type);
  g_clear_pointer (&j->points, g_array_unref);
  g_clear_pointer (&j->events, g_ptr_array_unref);
  g_clear_error (&j->error);
  g_free (j->body);
  g_free (j->filename);
  g_free (j);
}

/* ---- the parameters ---- */

/* unix seconds or an ISO 8601 time; @ms: in milliseconds */
static gboolean
parse_time (const gchar *s, gint64 *out, gboolean ms)
{
  gchar *end;
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) dt = NULL;
  gdouble v;

  v = g_ascii_strtod (s, &end);
  if (end != s && *end == '\0' && isfinite (v) && fabs (v) < 1e11) {
    *out = ms ? (gint64) (v * 1000) : (gint64) floor (v);
    return TRUE;
  }
  dt = g_date_time_new_from_iso8601 (s, utc);
  if (!dt)
    return FALSE;
  *out = ms ? g_date_time_to_unix (dt) * 1000 + g_date_time_get_microsecond (dt) / 1000
      : g_date_time_to_unix (dt);
  return TRUE;
}

static gboolean
parse_uint (const gchar *s, guint max, guint *out)
{
  guint64 v;
  if (!g_ascii_string_to_unsigned (s, 10, 0, max, &v, NULL))
    return FALSE;
  *out = v;
  return TRUE;
}

/* refuses a parameter not in @known */
static gboolean
known_params (SoupServerMessage *msg, GHashTable *query, const gchar *const *known)
{
  GHashTableIter it;
  gpointer k;

  if (!query)
    return TRUE;
  g_hash_table_iter_init (&it, query);
  while (g_hash_table_iter_next (&it, &k, NULL))
    if (!g_strv_contains (known, k)) {
      g_autofree gchar *all = g_strjoinv (", ", (gchar **) known);
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", k,
          "%.64s: not a parameter of this route (%s)", (const gchar *) k, all);
      return FALSE;
    }
  return TRUE;
}

static const gchar *
param (GHashTable *query, const gchar *name)
{
  const gchar *v = query ? g_hash_table_lookup (query, name) : NULL;
  return v && *v ? v : NULL;
}

/* from and to (seconds, or ms for the events), @from < @to, at most
 * MAX_SPAN_S (MAX_EVENTS_SPAN_S) apart; to defaults to now, from to an hour
 * (the longest span) before to */
static gboolean
time_span (SoupServerMessage *msg, GHashTable *query, gboolean ms, gint64 *from, gint64 *to)
{
  const gchar *f = param (query, "from"), *t = param (query, "to");
  gint64 unit = ms ? 1000 : 1;
  gint64 span = ms ? MAX_EVENTS_SPAN_S : MAX_SPAN_S;
  gint64 now = tcd_clock_now_utc () / (ms ? 1000 : G_USEC_PER_SEC);

  if (t && !parse_time (t, to, ms)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "to",
        "to: unix seconds or an ISO 8601 time (2026-11-24T08:00:00Z)");
    return FALSE;
  }
  if (!t)
    *to = now + unit;           /* what was just stored too */
  if (f && !parse_time (f, from, ms)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "from",
        "from: unix seconds or an ISO 8601 time (2026-11-24T08:00:00Z)");
    return FALSE;
  }
  if (!f)
    *from = *to - (ms ? span : DEFAULT_SPAN_S) * unit;
  if (*from >= *to) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "from", "from: must be before to");
    return FALSE;
  }
  if (*to - *from > span * unit) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "from",
        "from, to: at most %d days apart", (gint) (span / 86400));
    return FALSE;
  }
  return TRUE;
}

/* "2026-11-24T08:00:00Z" into @buf (a point's time: made thousands of times) */
static const gchar *
iso_time_buf (gint64 t, gchar buf[32])
{
  time_t tt = (time_t) t;
  struct tm tm;

  if (!gmtime_r (&tt, &tm) || strftime (buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    buf[0] = '\0';
  return buf;
}

static gchar *
iso_time (gint64 t)
{
  gchar buf[32];
  return g_strdup (iso_time_buf (t, buf));
}

/* ---- GET /history ---- */

static gchar *
points_csv (Job *j)
{
  GString *csv = g_string_sized_new (64 + 40 * j->points->len);

  g_string_append (csv, "time,max,min,avg,below_range,above_range\r\n");
  for (guint i = 0; i < j->points->len; i++) {
    const TcdHistoryPoint *p = &g_array_index (j->points, TcdHistoryPoint, i);
    gchar t[32];
    gchar mx[G_ASCII_DTOSTR_BUF_SIZE], mn[G_ASCII_DTOSTR_BUF_SIZE], av[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append_printf (csv, "%s,%s,%s,%s,%d,%d\r\n", iso_time_buf (p->t, t),
        g_ascii_formatd (mx, sizeof mx, "%.2f", p->max),
        g_ascii_formatd (mn, sizeof mn, "%.2f", p->min),
        g_ascii_formatd (av, sizeof av, "%.2f", p->avg),
        (p->range & TCD_HISTORY_BELOW_RANGE) != 0, (p->range & TCD_HISTORY_ABOVE_RANGE) != 0);
  }
  if (j->rule == TCD_HISTORY_SCENE)
    j->filename = g_strdup ("history-scene.csv");
  else
    j->filename = g_strdup_printf ("history-rule-%d.csv", j->rule);
  return g_string_free (csv, FALSE);
}

static gchar *
points_json (Job *j)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *from = iso_time (j->from), *to = iso_time (j->to);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "rule");
  if (j->rule == TCD_HISTORY_SCENE)
    json_builder_add_string_value (b, "scene");
  else
    json_builder_add_int_value (b, j->rule);
  json_builder_set_member_name (b, "step");
  json_builder_add_string_value (b, tcd_history_step_name (j->step));
  json_builder_set_member_name (b, "from");
  json_builder_add_string_value (b, from);
  json_builder_set_member_name (b, "to");
  json_builder_add_string_value (b, to);
  json_builder_set_member_name (b, "truncated");
  json_builder_add_boolean_value (b, j->truncated);
  json_builder_set_member_name (b, "points");
  json_builder_begin_array (b);
  for (guint i = 0; i < j->points->len; i++) {
    const TcdHistoryPoint *p = &g_array_index (j->points, TcdHistoryPoint, i);
    gchar t[32];
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "t");
    json_builder_add_string_value (b, iso_time_buf (p->t, t));
    json_builder_set_member_name (b, "max");
    json_builder_add_double_value (b, tcd_json_round ("max", p->max));
    json_builder_set_member_name (b, "min");
    json_builder_add_double_value (b, tcd_json_round ("min", p->min));
    json_builder_set_member_name (b, "avg");
    json_builder_add_double_value (b, tcd_json_round ("avg", p->avg));
    json_builder_set_member_name (b, "below_range");
    json_builder_add_boolean_value (b, (p->range & TCD_HISTORY_BELOW_RANGE) != 0);
    json_builder_set_member_name (b, "above_range");
    json_builder_add_boolean_value (b, (p->range & TCD_HISTORY_ABOVE_RANGE) != 0);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return tcd_json_to_string (root, FALSE);
}

static void
points_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  Job *j = data;
  j->points = tcd_history_query (j->path, j->rule, j->from, j->to, j->step, MAX_POINTS,
      &j->truncated, &j->error);
  if (j->points)
    j->body = j->csv ? points_csv (j) : points_json (j);
}

/* on the main loop: the text made in the thread goes out */
static void
job_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Job *j = data;

  if (!j->body)
    send_error (j->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s",
        j->error ? j->error->message : "the history cannot be read");
  else if (j->filename)
    send_pem (j->msg, g_steal_pointer (&j->body), "text/csv", j->filename, SOUP_STATUS_OK);
  else {
    gsize len = strlen (j->body);
    soup_server_message_set_status (j->msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (j->msg, "application/json", SOUP_MEMORY_TAKE,
        g_steal_pointer (&j->body), len);
  }
  soup_server_message_unpause (j->msg);
  job_free (j);
}

static void
run_job (TcdHttp *h, SoupServerMessage *msg, Job *j, GTaskThreadFunc func,
    GAsyncReadyCallback done)
{
  GTask *task;

  j->msg = g_object_ref (msg);
  if (!h->ctx->history) {
    send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL,
        "this daemon keeps no history");
    job_free (j);
    return;
  }
  j->path = g_strdup (tcd_history_path (h->ctx->history));
  soup_server_message_pause (msg);
  task = g_task_new (NULL, NULL, done, j);
  g_task_set_task_data (task, j, NULL);
  g_task_run_in_thread (task, func);
  g_object_unref (task);
}

static void
handle_history (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  static const gchar *const known[] = { "rule", "from", "to", "step", "format", NULL };
  GHashTable *q = req->query;
  const gchar *rule = param (q, "rule"), *step = param (q, "step"), *format = param (q, "format");
  Job *j;
  gint64 from, to;
  guint id = 0;
  TcdHistoryStep st = TCD_HISTORY_STEP_AUTO;

  if (!known_params (msg, q, known))
    return;
  if (!rule) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "rule",
        "rule: a rule's id or \"scene\"");
    return;
  }
  if (!g_str_equal (rule, "scene") && !parse_uint (rule, 1000000, &id)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "rule",
        "rule: a rule's id (0..1000000) or \"scene\"");
    return;
  }
  if (step && !tcd_history_step_parse (step, &st)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "step",
        "step: raw, minute, hour or auto");
    return;
  }
  if (format && !g_str_equal (format, "json") && !g_str_equal (format, "csv")) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "format", "format: json or csv");
    return;
  }
  if (!time_span (msg, q, FALSE, &from, &to))
    return;
  j = g_new0 (Job, 1);
  j->rule = g_str_equal (rule, "scene") ? TCD_HISTORY_SCENE : (gint) id;
  j->from = from;
  j->to = to;
  j->step = st == TCD_HISTORY_STEP_AUTO ? tcd_history_step_auto (from, to, MAX_POINTS) : st;
  j->csv = format && g_str_equal (format, "csv");
  run_job (h, msg, j, points_thread, job_done);
}

/* ---- GET /events/history ---- */

static void
events_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  Job *j = data;
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonNode) root = NULL;

  j->events = tcd_history_query_events (j->path, j->type, j->from, j->to, j->limit,
      j->offset, &j->total, &j->error);
  if (!j->events)
    return;
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "total");
  json_builder_add_int_value (b, j->total);
  json_builder_set_member_name (b, "events");
  json_builder_begin_array (b);
  for (guint i = 0; i < j->events->len; i++) {
    /* written by us, but read as anything from the disk is */
    JsonNode *e = tc_json_parse (j->events->pdata[i], -1, 64, NULL);
    if (e)
      json_builder_add_value (b, e);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  j->body = tcd_json_to_string (root, FALSE);
}

static void
handle_events_history (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  static const gchar *const known[] = { "type", "from", "to", "limit", "offset", NULL };
  GHashTable *q = req->query;
  const gchar *type = param (q, "type"), *limit = param (q, "limit"),
      *offset = param (q, "offset");
  gint t = type ? tcd_event_type_from_name (type) : -2;
  guint lim = DEFAULT_EVENTS, off = 0;
  gint64 from, to;
  Job *j;

  if (!known_params (msg, q, known))
    return;
  if (t == -1 || t == TCD_EVENT_MEASUREMENT) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "type",
        "type: one of the event types but measurement (%s)", tcd_event_type_list ());
    return;
  }
  if (limit && (!parse_uint (limit, MAX_EVENTS, &lim) || lim == 0)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "limit", "limit: 1..%d", MAX_EVENTS);
    return;
  }
  if (offset && !parse_uint (offset, MAX_OFFSET, &off)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "offset", "offset: 0..%d",
        MAX_OFFSET);
    return;
  }
  if (!time_span (msg, q, TRUE, &from, &to))
    return;
  j = g_new0 (Job, 1);
  j->type = g_strdup (type);
  j->from = from;
  j->to = to;
  j->limit = lim;
  j->offset = off;
  run_job (h, msg, j, events_thread, job_done);
}

const TcdRoute tcd_http_history_routes[] = {
  HTTP_ROUTE_P ("GET", "/history", TCD_LEVEL_OPERATOR, TCD_PERM_LOG_STATUS, handle_history),
  HTTP_ROUTE_P ("GET", "/events/history", TCD_LEVEL_OPERATOR, TCD_PERM_LOG_STATUS, handle_events_history),
  HTTP_ROUTES_END
};
