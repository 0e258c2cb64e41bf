/* thermocamd: the device clock kept by an NTP server (manual 10.8.2)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-timesync.h"

#include "tcd-clock.h"
#include "tcd-config.h"
#include "tcd-json.h"

#define SLEW_PPM 500            /* 0.5 ms per second, as ntpd's limit */
#define RETRY_S 30              /* after a failure, before the next try */

typedef enum { STATE_OFF, STATE_UNKNOWN, STATE_OK, STATE_FAILING } State;
static const gchar *state_names[] = { "off", "unknown", "ok", "failing" };

struct _TcdTimesync {
  TcdEvents *events;
  /* the settings */
  gboolean enabled;
  gchar *server, *policy;
  guint port, interval_s, step_ms, timeout_ms;
  /* the state */
  State state;
  GCancellable *cancel;         /* the query under way */
  guint timer, slew_end;
  gint64 last_sync_us;          /* device time of the last answer */
  gint64 last_offset_us, delay_us;
  guint stratum;
  gchar *error;
};

static void sync_now (TcdTimesync *t);

static gboolean
tick (gpointer data)
{
  TcdTimesync *t = data;
  t->timer = 0;
  sync_now (t);
  return G_SOURCE_REMOVE;
}

static void
schedule (TcdTimesync *t, guint seconds)
{
  g_clear_handle_id (&t->timer, g_source_remove);
  if (t->enabled)
    t->timer = g_timeout_add_seconds (seconds, tick, t);
}

static void
exception (TcdTimesync *t, const gchar *state, const gchar *message)
{
  g_autoptr (JsonNode) ev = tcd_event_exception_new ("time_sync_failed", message);
  JsonObject *o = json_node_get_object (ev);

  json_object_set_string_member (o, "state", state);
  json_object_set_string_member (o, "server", t->server);
  g_message ("exception time_sync_failed %s: %s", state, message);
  tcd_events_exception (t->events, "time_sync_failed", ev);
}

static gboolean
slew_done (gpointer data)
{
  TcdTimesync *t = data;

  t->slew_end = 0;
  /* the end value, and the watchers told */
  tcd_clock_set_offset (tcd_clock_get_offset () + tcd_clock_slew_remaining ());
  return G_SOURCE_REMOVE;
}

static void
correct (TcdTimesync *t, const TcdSntpResult *r)
{
  gint64 delta = r->offset_us - tcd_clock_get_offset ();
  gboolean step = g_strcmp0 (t->policy, "step") == 0
      || (g_strcmp0 (t->policy, "slew") != 0 && ABS (delta) > (gint64) t->step_ms * 1000);

  g_clear_handle_id (&t->slew_end, g_source_remove);
  t->last_offset_us = delta;
  if (step) {
    tcd_clock_set_offset (r->offset_us);
    g_message ("time: stepped %+.3f s from %s (stratum %u)", delta / 1e6, t->server,
        r->stratum);
    return;
  }
  tcd_clock_slew (delta, SLEW_PPM);
  /* the slew ends after |delta| / SLEW_PPM seconds */
  t->slew_end = g_timeout_add_seconds ((guint) MIN (ABS (delta) / SLEW_PPM + 1, G_MAXUINT / 2),
      slew_done, t);
  g_message ("time: slewing %+.3f s from %s (stratum %u)", delta / 1e6, t->server, r->stratum);
}

static void
on_answer (GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (TcdSntpResult) r = tcd_sntp_query_finish (res, &err);
  TcdTimesync *t = data;

  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;                     /* settings changed or the daemon stops: t may be gone */
  g_clear_object (&t->cancel);
  g_clear_pointer (&t->error, g_free);
  if (!r) {
    t->error = g_strdup (err->message);
    if (t->state != STATE_FAILING) {
      g_autofree gchar *m = g_strdup_printf ("NTP server %s:%u does not answer: %s",
          t->server, t->port, err->message);
      t->state = STATE_FAILING;
      exception (t, "start", m);
    }
    schedule (t, MIN (RETRY_S, t->interval_s));
    return;
  }
  if (t->state == STATE_FAILING) {
    g_autofree gchar *m = g_strdup_printf ("NTP server %s:%u answers again", t->server, t->port);
    exception (t, "stop", m);
  }
  t->state = STATE_OK;
  t->stratum = r->stratum;
  t->delay_us = r->delay_us;
  correct (t, r);
  t->last_sync_us = tcd_clock_now_utc ();
  schedule (t, t->interval_s);
}

static void
sync_now (TcdTimesync *t)
{
  g_clear_handle_id (&t->timer, g_source_remove);
  if (t->cancel) {
    g_cancellable_cancel (t->cancel);
    g_clear_object (&t->cancel);
  }
  if (!t->enabled)
    return;
  t->cancel = g_cancellable_new ();
  tcd_sntp_query_async (t->server, t->port, t->timeout_ms, t->cancel, on_answer, t);
}

TcdTimesync *
tcd_timesync_new (TcdEvents *events)
{
  TcdTimesync *t = g_new0 (TcdTimesync, 1);
  t->events = events;
  t->state = STATE_OFF;
  t->port = 123;
  t->interval_s = 3600;
  t->step_ms = 128;
  t->timeout_ms = 2000;
  return t;
}

void
tcd_timesync_free (TcdTimesync *t)
{
  if (!t)
    return;
  if (t->cancel)
    g_cancellable_cancel (t->cancel);
  g_clear_object (&t->cancel);
  g_clear_handle_id (&t->timer, g_source_remove);
  g_clear_handle_id (&t->slew_end, g_source_remove);
  g_free (t->server);
  g_free (t->policy);
  g_free (t->error);
  g_free (t);
}

static gint64
int_at (JsonNode *doc, const gchar *path, gint64 fallback)
{
  JsonNode *n = tcd_config_node (doc, path);
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64
      ? json_node_get_int (n) : fallback;
}

static const gchar *
str_at (JsonNode *doc, const gchar *path)
{
  JsonNode *n = tcd_config_node (doc, path);
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
      ? json_node_get_string (n) : "";
}

void
tcd_timesync_apply (TcdTimesync *t, JsonNode *doc)
{
  JsonNode *en = tcd_config_node (doc, "time.ntp.enabled");
  gboolean enabled = en && JSON_NODE_HOLDS_VALUE (en) && json_node_get_boolean (en)
      && *str_at (doc, "time.ntp.server");
  const gchar *server = str_at (doc, "time.ntp.server");
  guint port = int_at (doc, "time.ntp.port", 123);
  guint interval = int_at (doc, "time.ntp.interval_s", 3600);
  const gchar *policy = str_at (doc, "time.ntp.policy");
  gboolean changed = enabled != t->enabled || g_strcmp0 (server, t->server) != 0
      || port != t->port || interval != t->interval_s;

  t->step_ms = int_at (doc, "time.ntp.step_threshold_ms", 128);
  t->timeout_ms = int_at (doc, "time.ntp.timeout_ms", 2000);
  g_free (t->policy);
  t->policy = g_strdup (policy);
  if (!changed)
    return;
  if (t->state == STATE_FAILING) {
    g_autofree gchar *m = g_strdup_printf ("NTP server %s:%u no longer used", t->server,
        t->port);
    exception (t, "stop", m);
  }
  t->enabled = enabled;
  g_free (t->server);
  t->server = g_strdup (server);
  t->port = port;
  t->interval_s = MAX (interval, 1);
  t->state = enabled ? STATE_UNKNOWN : STATE_OFF;
  g_clear_pointer (&t->error, g_free);
  g_clear_handle_id (&t->timer, g_source_remove);
  sync_now (t);
}

JsonNode *
tcd_timesync_status (TcdTimesync *t)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, t->enabled);
  json_builder_set_member_name (b, "server");
  json_builder_add_string_value (b, t->server ? t->server : "");
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, t->port);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, state_names[t->state]);
  if (t->last_sync_us) {
    g_autoptr (GDateTime) s = g_date_time_new_from_unix_utc (t->last_sync_us / G_USEC_PER_SEC);
    g_autofree gchar *iso = s ? g_date_time_format_iso8601 (s) : NULL;
    json_builder_set_member_name (b, "last_sync");
    json_builder_add_string_value (b, iso ? iso : "");
    json_builder_set_member_name (b, "last_offset_ms");
    json_builder_add_double_value (b, t->last_offset_us / 1000.0);
    json_builder_set_member_name (b, "delay_ms");
    json_builder_add_double_value (b, t->delay_us / 1000.0);
    json_builder_set_member_name (b, "stratum");
    json_builder_add_int_value (b, t->stratum);
  }
  json_builder_set_member_name (b, "slewing_ms");
  json_builder_add_double_value (b, tcd_clock_slew_remaining () / 1000.0);
  if (t->error) {
    json_builder_set_member_name (b, "error");
    json_builder_add_string_value (b, t->error);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
tcd_timesync_test_async (TcdTimesync *t, const gchar *host, guint port, guint timeout_ms,
    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  tcd_sntp_query_async (host, port, timeout_ms, cancellable, callback, user_data);
}

TcdSntpResult *
tcd_timesync_test_finish (GAsyncResult *result, GError **error)
{
  return tcd_sntp_query_finish (result, error);
}
