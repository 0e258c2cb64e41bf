/* thermocamd: Prometheus metrics at /metrics (outside /api/v1)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The text exposition format (version 0.0.4): every family with its HELP and
 * TYPE, units in the names (celsius, seconds, bytes), counters ending in
 * _total, states as one series per state (1 for the current one), the
 * build as an _info gauge.  On the HTTP and HTTPS ports; the gate
 * (tcd-http-auth.c) lets it through only while metrics.enabled is on, to the
 * bearer token of metrics.token or to any account (level user).
 *
 * The temperatures are those of the newest frame, rounded as GET
 * /api/v1/temperatures rounds them; the counters of alarms and exceptions
 * count the bus's events since the daemon started.
 */
#include "tcd-http-private.h"

#include <math.h>
#include <string.h>

#include "gstthermalmeta.h"
#include "tc-json.h"
#include "tcd-json.h"

#define MAX_COUNTED 256         /* label sets of the event counters */

static const gchar *const state_names[] = { "normal", "pre_alarm", "alarm" };

/* ---- counting the bus's alarms and exceptions ---- */

static void
count (GHashTable *t, const gchar *key)
{
  guint64 *n = g_hash_table_lookup (t, key);

  if (!n) {
    if (g_hash_table_size (t) >= MAX_COUNTED)
      key = "other";            /* a bound on the label values */
    if (!(n = g_hash_table_lookup (t, key))) {
      n = g_new0 (guint64, 1);
      g_hash_table_insert (t, g_strdup (key), n);
    }
  }
  (*n)++;
}

/* a label value as it came: at most 64 bytes of printable ASCII */
static gchar *
label_value (const gchar *s)
{
  gchar *v = g_strndup (s ? s : "", 64);
  for (gchar *p = v; *p; p++)
    if (!g_ascii_isprint (*p))
      *p = '_';
  return v;
}

void
tcd_http_count_event (TcdHttp *h, TcdEventType type, JsonNode *event)
{
  JsonObject *o = event && JSON_NODE_HOLDS_OBJECT (event) ? json_node_get_object (event) : NULL;

  if (!o)
    return;
  if (!h->alarm_counts) {
    h->alarm_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    h->exception_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  }
  if (type == TCD_EVENT_ALARM
      && g_strcmp0 (tc_json_get_string (o, "state", "start"), "stop") != 0) {
    g_autofree gchar *source = label_value (tc_json_get_string (o, "source", ""));
    g_autofree gchar *level = label_value (tc_json_get_string (o, "level", "alarm"));
    g_autofree gchar *key = g_strdup_printf ("%s\n%s", source, level);
    count (h->alarm_counts, key);
  } else if (type == TCD_EVENT_EXCEPTION
      && g_strcmp0 (tc_json_get_string (o, "state", "start"), "stop") != 0) {
    g_autofree gchar *kind = label_value (tc_json_get_string (o, "type", ""));
    count (h->exception_counts, kind);
  }
}

/* ---- the text format ---- */

static void
family (GString *out, const gchar *name, const gchar *type, const gchar *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
append_escaped (GString *out, const gchar *v)
{
  for (const gchar *p = v; *p; p++) {
    if (*p == '\\')
      g_string_append (out, "\\\\");
    else if (*p == '"')
      g_string_append (out, "\\\"");
    else if (*p == '\n')
      g_string_append (out, "\\n");
    else
      g_string_append_c (out, *p);
  }
}

/* name{k="v",...} value; @labels: NULL-terminated pairs */
static void
sample_v (GString *out, const gchar *name, gdouble value, const gchar *const *labels)
{
  gchar num[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, name);
  if (labels && labels[0]) {
    g_string_append_c (out, '{');
    for (guint i = 0; labels[i] && labels[i + 1]; i += 2) {
      g_string_append_printf (out, "%s%s=\"", i ? "," : "", labels[i]);
      append_escaped (out, labels[i + 1]);
      g_string_append_c (out, '"');
    }
    g_string_append_c (out, '}');
  }
  if (isnan (value))
    g_string_append (out, " NaN\n");
  else if (isinf (value))
    g_string_append (out, value > 0 ? " +Inf\n" : " -Inf\n");
  else if (value == floor (value) && fabs (value) < 1e15)
    g_string_append_printf (out, " %" G_GINT64_FORMAT "\n", (gint64) value);
  else
    g_string_append_printf (out, " %s\n", g_ascii_formatd (num, sizeof num, "%.12g", value));
}

#define sample(out, name, value, ...) \
  sample_v ((out), (name), (value), (const gchar *const[]) { __VA_ARGS__, NULL })

static gint64
stat_int (JsonObject *o, const gchar *name)
{
  return o ? tc_json_get_int (o, name, 0) : 0;
}

/* ---- the families ---- */

static void
add_build (TcdHttp *h, GString *out)
{
  g_autofree gchar *gst = gst_version_string ();
  gint64 start = g_get_real_time () - (g_get_monotonic_time () - h->ctx->started_us);

  family (out, "thermocam_build_info", "gauge",
      "The software's version, GStreamer's and the source of frames (always 1)");
  sample (out, "thermocam_build_info", 1, "version", PACKAGE_VERSION, "gstreamer", gst,
      "source", h->ctx->source);
  family (out, "thermocam_start_time_seconds", "gauge",
      "When the daemon started, unix seconds");
  sample (out, "thermocam_start_time_seconds", (gdouble) (start / G_USEC_PER_SEC), NULL);
}

static void
add_states (GString *out, const gchar *name, guint state, const gchar *rule, const gchar *rname)
{
  for (guint s = 0; s < G_N_ELEMENTS (state_names); s++) {
    if (rule)
      sample (out, name, s == state, "rule", rule, "name", rname, "state", state_names[s]);
    else
      sample (out, name, s == state, "state", state_names[s]);
  }
}

static void
add_readings (TcdHttp *h, GString *out)
{
  g_autoptr (GstSample) s = tcd_pipeline_get_temperature (h->ctx->pipeline);
  GstBuffer *buf = s ? gst_sample_get_buffer (s) : NULL;
  GstThermalMeta *tm = buf ? gst_buffer_get_thermal_meta (buf) : NULL;
  GstThermalMeasureMeta *mm = buf ? gst_buffer_get_thermal_measure_meta (buf) : NULL;
  gboolean on = tcd_config_bool (h->ctx->config, "thermometry.enabled");

  family (out, "thermocam_measurement_valid", "gauge",
      "1 while the readings are the scene's (0: measurement off, no frame yet, or the "
      "shutter closed)");
  sample (out, "thermocam_measurement_valid", on && mm && mm->valid, NULL);
  if (tm && isfinite (tm->fpa_temperature)) {
    family (out, "thermocam_sensor_fpa_temperature_celsius", "gauge",
        "The sensor's focal plane array temperature");
    sample (out, "thermocam_sensor_fpa_temperature_celsius",
        tcd_json_round ("max", tm->fpa_temperature), NULL);
  }
  if (!on || !mm)
    return;
  family (out, "thermocam_scene_temperature_celsius", "gauge",
      "The whole scene's maximum, minimum and average temperature (newest frame)");
  sample (out, "thermocam_scene_temperature_celsius", tcd_json_round ("max", mm->max),
      "stat", "max");
  sample (out, "thermocam_scene_temperature_celsius", tcd_json_round ("min", mm->min),
      "stat", "min");
  sample (out, "thermocam_scene_temperature_celsius", tcd_json_round ("avg", mm->avg),
      "stat", "avg");
  family (out, "thermocam_scene_alarm_state", "gauge",
      "The scene alarm's state: 1 for the current one of normal, pre_alarm, alarm");
  add_states (out, "thermocam_scene_alarm_state", MIN (mm->scene_state, 2), NULL, NULL);
  family (out, "thermocam_scene_out_of_range", "gauge",
      "1 while the scene's minimum is below (side=below) or its maximum above "
      "(side=above) the measurement range (thermometry.temperature_range)");
  sample (out, "thermocam_scene_out_of_range", mm->below_range, "side", "below");
  sample (out, "thermocam_scene_out_of_range", mm->above_range, "side", "above");
  if (mm->n_rules == 0)
    return;
  family (out, "thermocam_rule_temperature_celsius", "gauge",
      "Each measurement rule's maximum, minimum and average temperature (newest frame)");
  for (guint i = 0; i < mm->n_rules; i++) {
    const GstThermalRuleResult *r = &mm->rules[i];
    gchar id[16];
    if (!r->valid)
      continue;
    g_snprintf (id, sizeof id, "%d", r->id);
    sample (out, "thermocam_rule_temperature_celsius", tcd_json_round ("max", r->max),
        "rule", id, "name", r->name, "stat", "max");
    sample (out, "thermocam_rule_temperature_celsius", tcd_json_round ("min", r->min),
        "rule", id, "name", r->name, "stat", "min");
    sample (out, "thermocam_rule_temperature_celsius", tcd_json_round ("avg", r->avg),
        "rule", id, "name", r->name, "stat", "avg");
  }
  family (out, "thermocam_rule_out_of_range", "gauge",
      "1 while a rule's minimum is below (side=below) or its maximum above (side=above) "
      "the measurement range");
  for (guint i = 0; i < mm->n_rules; i++) {
    const GstThermalRuleResult *r = &mm->rules[i];
    gchar id[16];
    if (!r->valid)
      continue;
    g_snprintf (id, sizeof id, "%d", r->id);
    sample (out, "thermocam_rule_out_of_range", r->below_range,
        "rule", id, "name", r->name, "side", "below");
    sample (out, "thermocam_rule_out_of_range", r->above_range,
        "rule", id, "name", r->name, "side", "above");
  }
  family (out, "thermocam_rule_alarm_state", "gauge",
      "Each rule's alarm state: 1 for the current one of normal, pre_alarm, alarm");
  for (guint i = 0; i < mm->n_rules; i++) {
    gchar id[16];
    g_snprintf (id, sizeof id, "%d", mm->rules[i].id);
    add_states (out, "thermocam_rule_alarm_state", MIN (mm->rules[i].state, 2), id,
        mm->rules[i].name);
  }
}

static gint
compare_keys (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar **) a, *(const gchar **) b);
}

static void
add_events (TcdHttp *h, GString *out)
{
  g_autoptr (JsonNode) bus = tcd_bus_stats (h->ctx->bus);
  JsonObject *bo = json_node_get_object (bus);

  family (out, "thermocam_alarms_total", "counter",
      "Alarms and pre-alarms that started, by source (rule, scene, comparison, input, ...)");
  if (h->alarm_counts) {
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array (h->alarm_counts, NULL);
    guint n = g_hash_table_size (h->alarm_counts);
    qsort (keys, n, sizeof *keys, compare_keys);
    for (guint i = 0; i < n; i++) {
      g_auto (GStrv) parts = g_strsplit (keys[i], "\n", 2);
      guint64 *v = g_hash_table_lookup (h->alarm_counts, keys[i]);
      sample (out, "thermocam_alarms_total", (gdouble) *v, "source", parts[0],
          "level", parts[1] ? parts[1] : "");
    }
  }
  family (out, "thermocam_exceptions_total", "counter",
      "Device exceptions that started, by type (manual 4.2)");
  if (h->exception_counts) {
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array (h->exception_counts, NULL);
    guint n = g_hash_table_size (h->exception_counts);
    qsort (keys, n, sizeof *keys, compare_keys);
    for (guint i = 0; i < n; i++)
      sample (out, "thermocam_exceptions_total",
          (gdouble) *(guint64 *) g_hash_table_lookup (h->exception_counts, keys[i]),
          "type", keys[i]);
  }
  family (out, "thermocam_events_total", "counter", "Events of the event bus, by type");
  for (guint t = 0; t < TCD_EVENT_N_TYPES; t++)
    sample (out, "thermocam_events_total", (gdouble) stat_int (bo, tcd_event_type_name (t)),
        "type", tcd_event_type_name (t));
}

static void
add_pipeline (TcdHttp *h, GString *out)
{
  g_autoptr (JsonNode) st = tcd_pipeline_stats (h->ctx->pipeline);
  JsonObject *o = json_node_get_object (st);

  family (out, "thermocam_sensor_frames_total", "counter",
      "Frames of the sensor that entered the core pipeline");
  sample (out, "thermocam_sensor_frames_total", (gdouble) stat_int (o, "frames"), NULL);
  family (out, "thermocam_sensor_frames_dropped_total", "counter",
      "Frames of the sensor lost before the core pipeline (gaps in their numbers)");
  sample (out, "thermocam_sensor_frames_dropped_total", (gdouble) stat_int (o, "dropped_frames"),
      NULL);
  family (out, "thermocam_video_frames_total", "counter",
      "Video frames (palette and overlay) the core made for the streams and snapshots");
  sample (out, "thermocam_video_frames_total", (gdouble) stat_int (o, "video_frames"), NULL);
  family (out, "thermocam_sensor_frame_rate_hertz", "gauge", "The sensor's frame rate");
  sample (out, "thermocam_sensor_frame_rate_hertz", (gdouble) stat_int (o, "fps"), NULL);
  family (out, "thermocam_pipeline_restarts_total", "counter",
      "Restarts of the core pipeline after an error");
  sample (out, "thermocam_pipeline_restarts_total", (gdouble) stat_int (o, "restarts"), NULL);
}

static void
add_clients (TcdHttp *h, GString *out)
{
  g_autoptr (JsonNode) services = h->ctx->services ? tcd_services_stats (h->ctx->services)
      : NULL;
  JsonObject *so = services ? json_node_get_object (services) : NULL;
  JsonObject *rtsp = so ? tc_json_get_object (so, "rtsp") : NULL;
  JsonObject *modbus = so ? tc_json_get_object (so, "modbus") : NULL;
  JsonObject *mtcp = modbus ? tc_json_get_object (modbus, "tcp") : NULL;

  family (out, "thermocam_stream_clients", "gauge",
      "Clients connected now, by protocol (RTSP sessions, HTTP event streams, MJPEG live "
      "views, the page's live sockets, Modbus TCP)");
  sample (out, "thermocam_stream_clients", (gdouble) stat_int (rtsp, "clients"),
      "protocol", "rtsp");
  sample (out, "thermocam_stream_clients", g_list_length (h->sse), "protocol", "http_events");
  sample (out, "thermocam_stream_clients", g_list_length (h->mjpeg), "protocol", "http_mjpeg");
  sample (out, "thermocam_stream_clients", ws_count (h), "protocol", "http_live_socket");
  sample (out, "thermocam_stream_clients", (gdouble) stat_int (mtcp, "clients"),
      "protocol", "modbus_tcp");
  family (out, "thermocam_http_requests_total", "counter",
      "HTTP requests answered (API, page, metrics; HTTP and HTTPS)");
  sample (out, "thermocam_http_requests_total", (gdouble) h->requests, NULL);
}

static void
add_queues (TcdHttp *h, GString *out)
{
  g_autoptr (JsonNode) ev = tcd_events_state (h->ctx->events);
  JsonObject *d = tc_json_get_object (json_node_get_object (ev), "delivery");
  g_autoptr (JsonNode) hist = h->ctx->history ? tcd_history_stats (h->ctx->history) : NULL;
  JsonObject *ho = hist ? json_node_get_object (hist) : NULL;

  family (out, "thermocam_delivery_queue_jobs", "gauge",
      "Deliveries (FTP, email, center) waiting in the spool");
  sample (out, "thermocam_delivery_queue_jobs", (gdouble) stat_int (d, "pending"), NULL);
  family (out, "thermocam_deliveries_total", "counter",
      "Deliveries that ended, by outcome (delivered, dropped)");
  sample (out, "thermocam_deliveries_total", (gdouble) stat_int (d, "delivered"),
      "outcome", "delivered");
  sample (out, "thermocam_deliveries_total", (gdouble) stat_int (d, "dropped"),
      "outcome", "dropped");
  family (out, "thermocam_delivery_failed_attempts_total", "counter",
      "Delivery attempts that failed (each is retried with backoff)");
  sample (out, "thermocam_delivery_failed_attempts_total",
      (gdouble) stat_int (d, "failed_attempts"), NULL);

  family (out, "thermocam_history_enabled", "gauge", "1 while the history stores readings");
  sample (out, "thermocam_history_enabled", ho && tc_json_get_bool (ho, "enabled", FALSE), NULL);
  family (out, "thermocam_history_queue_items", "gauge",
      "Readings and events waiting for the history's writer");
  sample (out, "thermocam_history_queue_items", (gdouble) stat_int (ho, "queued"), NULL);
  family (out, "thermocam_history_samples_written_total", "counter",
      "Readings (one per rule and the scene) written to the history");
  sample (out, "thermocam_history_samples_written_total",
      (gdouble) stat_int (ho, "written_samples"), NULL);
  family (out, "thermocam_history_events_written_total", "counter",
      "Events written to the history");
  sample (out, "thermocam_history_events_written_total",
      (gdouble) stat_int (ho, "written_events"), NULL);
  family (out, "thermocam_history_dropped_total", "counter",
      "Readings or events the history dropped (its writer's queue was full)");
  sample (out, "thermocam_history_dropped_total", (gdouble) stat_int (ho, "dropped"), NULL);
  family (out, "thermocam_history_size_bytes", "gauge", "The history database's size");
  sample (out, "thermocam_history_size_bytes", (gdouble) stat_int (ho, "size_bytes"), NULL);
}

void
http_metrics (TcdHttp *h, SoupServerMessage *msg)
{
  const gchar *method = soup_server_message_get_method (msg);
  GString *out;

  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD")) {
    method_not_allowed (msg, "GET, HEAD");
    return;
  }
  out = g_string_sized_new (8192);
  add_build (h, out);
  add_readings (h, out);
  add_events (h, out);
  add_pipeline (h, out);
  add_clients (h, out);
  add_queues (h, out);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4; charset=utf-8",
      SOUP_MEMORY_TAKE, out->str, out->len);
  g_string_free (out, FALSE);
}
