/* thermocamd: the temperature and event history (settings `history`)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-history.h"

#include <glib/gstdio.h>

#include "gstthermalmeta.h"
#include "tcd-clock.h"

struct _TcdHistory {
  TcdConfig *config;
  TcdBus *bus;
  TcdPipeline *pipeline;
  TcdHistoryStore *store;
  guint bus_id, tick_id;
  gboolean enabled;
  guint interval_s;
  gint64 last_t;                /* the last sample's second */
};

static gint64
node_int (JsonNode *doc, const gchar *path, gint64 fallback)
{
  JsonNode *n = tcd_config_node (doc, path);
  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_int (n) : fallback;
}

static void
limits_of (JsonNode *doc, TcdHistoryLimits *l)
{
  l->raw_s = node_int (doc, "history.raw_retention_h", 24) * 3600;
  l->minute_s = node_int (doc, "history.minute_retention_d", 31) * 86400;
  l->hour_s = node_int (doc, "history.hour_retention_d", 366) * 86400;
  l->events_s = node_int (doc, "history.events_retention_d", 366) * 86400;
  l->size_limit = (guint64) node_int (doc, "history.size_limit_mb", 256) << 20;
}

static guint
range_flags (gboolean below, gboolean above)
{
  return (below ? TCD_HISTORY_BELOW_RANGE : 0) | (above ? TCD_HISTORY_ABOVE_RANGE : 0);
}

/* the newest frame's readings, at most once a second */
static gboolean
tick (gpointer user_data)
{
  TcdHistory *h = user_data;
  g_autoptr (GstSample) s = NULL;
  GstThermalMeasureMeta *mm;
  TcdHistorySample samples[1 + GST_THERMAL_MAX_RULES];
  gint64 t = tcd_clock_now_utc () / G_USEC_PER_SEC;
  guint n = 0;

  if (t == h->last_t || !tcd_config_bool (h->config, "thermometry.enabled"))
    return G_SOURCE_CONTINUE;
  s = tcd_pipeline_get_temperature (h->pipeline);
  mm = s ? gst_buffer_get_thermal_measure_meta (gst_sample_get_buffer (s)) : NULL;
  /* none while the shutter is closed: those are the shutter's numbers */
  if (!mm || !mm->valid)
    return G_SOURCE_CONTINUE;
  samples[n++] = (TcdHistorySample) { TCD_HISTORY_SCENE, mm->max, mm->min, mm->avg,
    range_flags (mm->below_range, mm->above_range) };
  for (guint i = 0; i < mm->n_rules && n < G_N_ELEMENTS (samples); i++)
    if (mm->rules[i].valid)
      samples[n++] = (TcdHistorySample) { mm->rules[i].id, mm->rules[i].max, mm->rules[i].min,
          mm->rules[i].avg, range_flags (mm->rules[i].below_range, mm->rules[i].above_range) };
  h->last_t = t;
  tcd_history_store_add (h->store, t, samples, n);
  return G_SOURCE_CONTINUE;
}

static void
on_event (TcdEventType type, JsonNode *event, gpointer user_data)
{
  TcdHistory *h = user_data;
  g_autofree gchar *json = NULL;

  if (!h->enabled)
    return;
  json = tcd_json_to_string (event, FALSE);
  tcd_history_store_add_event (h->store, tcd_clock_now_utc () / 1000, tcd_event_type_name (type),
      json);
}

TcdHistory *
tcd_history_new (TcdConfig *config, TcdBus *bus, TcdPipeline *pipeline,
    const gchar *state_dir, GError **error)
{
  TcdHistory *h = g_new0 (TcdHistory, 1);
  g_autofree gchar *path = g_build_filename (state_dir, "history.db", NULL);
  TcdHistoryLimits limits;

  h->config = config;
  h->bus = bus;
  h->pipeline = pipeline;
  limits_of (tcd_config_get (config), &limits);
  h->store = tcd_history_store_open (path, &limits, error);
  if (!h->store && error && *error) {
    /* a database that does not open (not one, damaged) must not keep the
     * camera from starting: it is put aside and a new one begins */
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
    g_autofree gchar *stamp = g_date_time_format (now, "%Y%m%dT%H%M%S");
    g_autofree gchar *aside = g_strdup_printf ("%s.broken-%s", path, stamp);
    g_warning ("%s; kept as %s, a new history begins", (*error)->message, aside);
    g_clear_error (error);
    if (g_rename (path, aside) == 0) {
      g_autofree gchar *wal = g_strconcat (path, "-wal", NULL);
      g_autofree gchar *shm = g_strconcat (path, "-shm", NULL);
      g_unlink (wal);
      g_unlink (shm);
      h->store = tcd_history_store_open (path, &limits, error);
    }
  }
  if (!h->store) {
    g_free (h);
    return NULL;
  }
  h->bus_id = tcd_bus_subscribe (bus, TCD_EVENT_ALL & ~TCD_EVENT_MASK (TCD_EVENT_MEASUREMENT),
      on_event, h);
  tcd_history_apply (h, tcd_config_get (config));
  return h;
}

void
tcd_history_apply (TcdHistory *h, JsonNode *doc)
{
  TcdHistoryLimits limits;
  JsonNode *en = tcd_config_node (doc, "history.enabled");
  gboolean enabled = en && JSON_NODE_HOLDS_VALUE (en) ? json_node_get_boolean (en) : TRUE;
  guint interval = CLAMP (node_int (doc, "history.interval_s", 1), 1, 3600);

  limits_of (doc, &limits);
  tcd_history_store_set_limits (h->store, &limits);
  if (enabled != h->enabled || interval != h->interval_s) {
    g_clear_handle_id (&h->tick_id, g_source_remove);
    if (enabled)
      h->tick_id = interval == 1 ? g_timeout_add (1000, tick, h)
          : g_timeout_add_seconds (interval, tick, h);
  }
  h->enabled = enabled;
  h->interval_s = interval;
}

void
tcd_history_free (TcdHistory *h)
{
  if (!h)
    return;
  g_clear_handle_id (&h->tick_id, g_source_remove);
  tcd_bus_unsubscribe (h->bus, h->bus_id);
  tcd_history_store_close (h->store);
  g_free (h);
}

const gchar *
tcd_history_path (TcdHistory *h)
{
  return tcd_history_store_path (h->store);
}

gboolean
tcd_history_enabled (TcdHistory *h)
{
  return h->enabled;
}

JsonNode *
tcd_history_stats (TcdHistory *h)
{
  JsonNode *n = tcd_history_store_stats (h->store);
  JsonObject *o = json_node_get_object (n);

  json_object_set_boolean_member (o, "enabled", h->enabled);
  json_object_set_int_member (o, "interval_s", h->interval_s);
  return n;
}

void
tcd_history_flush (TcdHistory *h)
{
  tcd_history_store_flush (h->store, FALSE);
}
