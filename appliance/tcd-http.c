/* thermocamd: the HTTP JSON API
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Routes under /api/v1 (schemas/openapi.yaml documents each).  Every error is
 * {"error": {"code", "message", "field"}} with a 4xx/5xx status.  Before
 * activation every route but POST /activate answers 401 with a hint; after
 * it, Digest authentication (realm "thermocam") guards everything.  Long
 * answers (events, live view) are chunked and written as data arrives; slow
 * readers of the live view skip frames instead of piling them up.
 */
#include "tcd-http.h"

#include <gst/video/video.h>
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "gstthermalmeta.h"
#include "tcd-snapshot.h"

#define MAX_BODY (256 * 1024)      /* a 128x128 BMP is 48 KiB */
#define MAX_SSE 32
#define MAX_MJPEG 16
#define MJPEG_BACKLOG (2 * 1024 * 1024)
#define BOUNDARY "thermocamframe"
#define API "/api/v1/"

typedef struct {
  SoupServerMessage *msg;
  gsize backlog;
} MjpegClient;

struct _TcdHttp {
  TcdApp *app;
  SoupServer *server;
  SoupAuthDomain *auth;
  GList *sse;                   /* SoupServerMessage */
  GList *mjpeg;                 /* MjpegClient */
  guint keepalive_id, measurement_id;
  guint64 event_id;
  GMutex jpeg_lock;
  GstSample *jpeg;
  guint jpeg_idle;
  guint64 requests, errors;
};

/* ---- answers ---- */

static void
send_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autofree gchar *text = tcd_json_to_string (node, TRUE);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
      text, strlen (text));
}

static void
send_error (SoupServerMessage *msg, guint status, const gchar *code, const gchar *field,
    const gchar *fmt, ...) G_GNUC_PRINTF (5, 6);

static void
send_error (SoupServerMessage *msg, guint status, const gchar *code, const gchar *field,
    const gchar *fmt, ...)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *message = NULL;
  va_list ap;

  va_start (ap, fmt);
  message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "field");
  if (field)
    json_builder_add_string_value (b, field);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, status, root);
}

static void
method_not_allowed (SoupServerMessage *msg, const gchar *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow);
  send_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", NULL,
      "%s is not allowed here; allowed: %s", soup_server_message_get_method (msg), allow);
}

/* the request's JSON body, or NULL with the error sent */
static JsonNode *
read_body (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) err = NULL;
  gsize len;
  const gchar *data = g_bytes_get_data (bytes, &len);

  if (len == 0) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "missing_body", NULL, "a JSON body is required");
    return NULL;
  }
  if (len > MAX_BODY) {
    send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL,
        "the body is larger than %d bytes", MAX_BODY);
    return NULL;
  }
  if (!g_utf8_validate (data, len, NULL)
      || !json_parser_load_from_data (parser, data, len, &err)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed_json", NULL,
        "the body is not JSON: %s", err ? err->message : "not UTF-8");
    return NULL;
  }
  if (!json_parser_get_root (parser)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed_json", NULL, "the body is empty");
    return NULL;
  }
  return json_node_ref (json_parser_get_root (parser));
}

static void
send_invalid (SoupServerMessage *msg, GError *err, const gchar *field)
{
  send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", field, "%s", err->message);
}

/* ---- readings ---- */

static void
add_at (JsonBuilder *b, const gchar *name, const gdouble at[2])
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  json_builder_add_double_value (b, round (at[0] * 10000) / 10000);
  json_builder_add_double_value (b, round (at[1] * 10000) / 10000);
  json_builder_end_array (b);
}

static void
add_temp (JsonBuilder *b, const gchar *name, gdouble v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, round (v * 100) / 100);
}

static const gchar *state_names[] = { "normal", "pre_alarm", "alarm" };

JsonNode *
tcd_reading_from_sample (GstSample *sample)
{
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstThermalMeasureMeta *mm = gst_buffer_get_thermal_measure_meta (buf);
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *time = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");

  if (!mm)
    return NULL;
  /* milliseconds are enough */
  if (strlen (time) > 24)
    memmove (time + 23, time + strlen (time) - 1, 2);
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "time");
  json_builder_add_string_value (b, time);
  json_builder_set_member_name (b, "scene");
  json_builder_begin_object (b);
  add_temp (b, "max", mm->max);
  add_temp (b, "min", mm->min);
  add_temp (b, "avg", mm->avg);
  add_at (b, "max_at", mm->max_at);
  add_at (b, "min_at", mm->min_at);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, state_names[mm->scene_state]);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "rules");
  json_builder_begin_array (b);
  for (guint i = 0; i < mm->n_rules; i++) {
    const GstThermalRuleResult *r = &mm->rules[i];
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, r->id);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, r->name);
    if (r->valid) {
      add_temp (b, "max", r->max);
      add_temp (b, "min", r->min);
      add_temp (b, "avg", r->avg);
      add_at (b, "max_at", r->max_at);
      add_at (b, "min_at", r->min_at);
    }
    json_builder_set_member_name (b, "state");
    json_builder_add_string_value (b, state_names[r->state]);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- server-sent events ---- */

static void
sse_finished (SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;
  h->sse = g_list_remove (h->sse, msg);
  g_object_unref (msg);
}

static void
sse_write (SoupServerMessage *msg, const gchar *text)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);

  soup_message_body_append (body, SOUP_MEMORY_COPY, text, strlen (text));
  soup_server_message_unpause (msg);
}

void
tcd_http_broadcast (TcdHttp *h, const gchar *type, JsonNode *data)
{
  g_autofree gchar *json = NULL, *text = NULL;

  if (!h || !h->sse) {
    if (data)
      json_node_unref (data);
    return;
  }
  json = tcd_json_to_string (data, FALSE);
  json_node_unref (data);
  text = g_strdup_printf ("id: %" G_GUINT64_FORMAT "\nevent: %s\ndata: %s\n\n",
      ++h->event_id, type, json);
  for (GList *l = h->sse; l; l = l->next)
    sse_write (l->data, text);
}

static gboolean
sse_keepalive (gpointer user_data)
{
  TcdHttp *h = user_data;

  for (GList *l = h->sse; l; l = l->next)
    sse_write (l->data, ": keepalive\n\n");
  return G_SOURCE_CONTINUE;
}

static gboolean
sse_measurement (gpointer user_data)
{
  TcdHttp *h = user_data;
  GstSample *s;
  JsonNode *r;

  if (!h->sse || !tcd_config_bool (h->app->config, "thermometry.enabled"))
    return G_SOURCE_CONTINUE;
  s = tcd_pipeline_get_temperature (h->app->pipeline);
  if (!s)
    return G_SOURCE_CONTINUE;
  r = tcd_reading_from_sample (s);
  gst_sample_unref (s);
  if (r)
    tcd_http_broadcast (h, "measurement", r);
  return G_SOURCE_CONTINUE;
}

static void
handle_events (TcdHttp *h, SoupServerMessage *msg)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);

  if (g_list_length (h->sse) >= MAX_SSE) {
    send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too_many_clients", NULL,
        "at most %d event listeners", MAX_SSE);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (hdrs, "text/event-stream", NULL);
  soup_message_headers_replace (hdrs, "Cache-Control", "no-cache");
  soup_message_headers_set_encoding (hdrs, SOUP_ENCODING_CHUNKED);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  h->sse = g_list_prepend (h->sse, g_object_ref (msg));
  g_signal_connect (msg, "finished", G_CALLBACK (sse_finished), h);
  sse_write (msg, ": thermocamd events: measurement, alarm, exception, config\n\n");
}

/* ---- live view: MJPEG ---- */

static void
mjpeg_update_viewers (TcdHttp *h)
{
  tcd_pipeline_set_mjpeg_viewers (h->app->pipeline, g_list_length (h->mjpeg));
}

static void
mjpeg_finished (SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;

  for (GList *l = h->mjpeg; l; l = l->next) {
    MjpegClient *c = l->data;
    if (c->msg == msg) {
      h->mjpeg = g_list_delete_link (h->mjpeg, l);
      g_object_unref (c->msg);
      g_free (c);
      break;
    }
  }
  mjpeg_update_viewers (h);
}

static void
mjpeg_wrote (SoupServerMessage *msg, guint size, gpointer user_data)
{
  MjpegClient *c = user_data;
  c->backlog = c->backlog > size ? c->backlog - size : 0;
}

static gboolean
mjpeg_send (gpointer user_data)
{
  TcdHttp *h = user_data;
  GstSample *s;
  GstMapInfo map;
  GstBuffer *buf;
  g_autofree gchar *head = NULL;

  g_mutex_lock (&h->jpeg_lock);
  s = h->jpeg;
  h->jpeg = NULL;
  h->jpeg_idle = 0;
  g_mutex_unlock (&h->jpeg_lock);
  if (!s)
    return G_SOURCE_REMOVE;
  buf = gst_sample_get_buffer (s);
  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    head = g_strdup_printf ("--" BOUNDARY "\r\nContent-Type: image/jpeg\r\n"
        "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n", map.size);
    for (GList *l = h->mjpeg; l; l = l->next) {
      MjpegClient *c = l->data;
      SoupMessageBody *body = soup_server_message_get_response_body (c->msg);
      if (c->backlog > MJPEG_BACKLOG)
        continue;               /* a slow reader skips this frame */
      soup_message_body_append (body, SOUP_MEMORY_COPY, head, strlen (head));
      soup_message_body_append (body, SOUP_MEMORY_COPY, map.data, map.size);
      soup_message_body_append (body, SOUP_MEMORY_STATIC, "\r\n", 2);
      c->backlog += strlen (head) + map.size + 2;
      soup_server_message_unpause (c->msg);
    }
    gst_buffer_unmap (buf, &map);
  }
  gst_sample_unref (s);
  return G_SOURCE_REMOVE;
}

void
tcd_http_push_jpeg (TcdHttp *h, GstSample *jpeg)
{
  GstSample *old;

  g_mutex_lock (&h->jpeg_lock);
  old = h->jpeg;
  h->jpeg = gst_sample_ref (jpeg);
  if (!h->jpeg_idle)
    h->jpeg_idle = g_idle_add (mjpeg_send, h);
  g_mutex_unlock (&h->jpeg_lock);
  if (old)
    gst_sample_unref (old);
}

static void
handle_live (TcdHttp *h, SoupServerMessage *msg)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  MjpegClient *c;

  if (g_list_length (h->mjpeg) >= MAX_MJPEG) {
    send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too_many_clients", NULL,
        "at most %d live views", MAX_MJPEG);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (hdrs,
      "multipart/x-mixed-replace;boundary=" BOUNDARY, NULL);
  soup_message_headers_replace (hdrs, "Cache-Control", "no-cache");
  soup_message_headers_set_encoding (hdrs, SOUP_ENCODING_CHUNKED);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  c = g_new0 (MjpegClient, 1);
  c->msg = g_object_ref (msg);
  h->mjpeg = g_list_prepend (h->mjpeg, c);
  g_signal_connect (msg, "finished", G_CALLBACK (mjpeg_finished), h);
  g_signal_connect (msg, "wrote-body-data", G_CALLBACK (mjpeg_wrote), c);
  mjpeg_update_viewers (h);
  soup_server_message_pause (msg);
}

/* ---- snapshots ---- */

typedef struct {
  TcdHttp *h;
  SoupServerMessage *msg;
  GstSample *sample;
  TcdSnapshotFormat format;
  gchar *palette;
  GBytes *bytes;
  GError *error;
} SnapJob;

static void
snap_thread (GTask *task, gpointer source, gpointer data, GCancellable *c)
{
  SnapJob *j = data;
  j->bytes = tcd_snapshot_encode (j->sample, j->format, j->palette, &j->error);
  g_task_return_boolean (task, TRUE);
}

static void
snap_done (GObject *source, GAsyncResult *res, gpointer data)
{
  SnapJob *j = data;

  if (j->bytes) {
    gsize len;
    gconstpointer d = g_bytes_get_data (j->bytes, &len);
    const gchar *ext = j->format == TCD_SNAPSHOT_BMP ? "bmp" : "jpg";
    g_autofree gchar *disp = g_strdup_printf ("inline; filename=\"snapshot%s.%s\"",
        j->format == TCD_SNAPSHOT_RJPEG ? "-radiometric" : "", ext);
    soup_server_message_set_status (j->msg, SOUP_STATUS_OK, NULL);
    soup_message_headers_replace (soup_server_message_get_response_headers (j->msg),
        "Content-Disposition", disp);
    soup_server_message_set_response (j->msg, tcd_snapshot_content_type (j->format),
        SOUP_MEMORY_COPY, d, len);
  } else {
    send_error (j->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "snapshot_failed", NULL,
        "could not make the picture: %s", j->error ? j->error->message : "unknown");
  }
  soup_server_message_unpause (j->msg);
  g_object_unref (j->msg);
  gst_sample_unref (j->sample);
  g_free (j->palette);
  g_clear_pointer (&j->bytes, g_bytes_unref);
  g_clear_error (&j->error);
  g_free (j);
}

static void
handle_snapshot (TcdHttp *h, SoupServerMessage *msg, GHashTable *query)
{
  const gchar *fmt = query ? g_hash_table_lookup (query, "format") : NULL;
  TcdSnapshotFormat format;
  GstSample *s;
  SnapJob *j;
  GTask *task;

  if (!fmt || g_str_equal (fmt, "jpeg") || g_str_equal (fmt, "jpg"))
    format = TCD_SNAPSHOT_JPEG;
  else if (g_str_equal (fmt, "bmp"))
    format = TCD_SNAPSHOT_BMP;
  else if (g_str_equal (fmt, "rjpeg"))
    format = TCD_SNAPSHOT_RJPEG;
  else {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "format",
        "format: \"%s\" is not one of jpeg, bmp, rjpeg", fmt);
    return;
  }
  s = format == TCD_SNAPSHOT_RJPEG ? tcd_pipeline_get_temperature (h->app->pipeline)
      : tcd_pipeline_get_video (h->app->pipeline);
  if (!s) {
    send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no_frame", NULL,
        "no frame yet: the sensor is starting");
    return;
  }
  j = g_new0 (SnapJob, 1);
  j->h = h;
  j->msg = g_object_ref (msg);
  j->sample = s;
  j->format = format;
  j->palette = g_strdelimit (g_strdup (tcd_config_string (h->app->config, "image.palette")),
      "_", '-');
  soup_server_message_pause (msg);
  task = g_task_new (NULL, NULL, snap_done, j);
  g_task_set_task_data (task, j, NULL);
  g_task_run_in_thread (task, snap_thread);
  g_object_unref (task);
}

/* ---- configuration and rules ---- */

/* "rules[3].alarm.pre_alarm" -> "alarm.pre_alarm" for the routes of one rule */
static gchar *
strip_rule_prefix (const gchar *s)
{
  if (s && g_str_has_prefix (s, "rules[")) {
    const gchar *dot = strstr (s, "].");
    if (dot)
      return g_strdup (dot + 2);
  }
  return g_strdup (s);
}

static void
change (TcdHttp *h, SoupServerMessage *msg, JsonNode *doc, const gchar *what,
    gboolean rule_route, guint ok_status, JsonNode *answer)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *field = NULL;

  if (!tcd_app_change_config (h->app, doc, what, &field, &err)) {
    if (g_error_matches (err, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_IO)) {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
    } else if (rule_route) {
      g_autofree gchar *f = strip_rule_prefix (field);
      g_autofree gchar *m = strip_rule_prefix (err->message);
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", f, "%s", m);
    } else {
      send_invalid (msg, err, field);
    }
    if (answer)
      json_node_unref (answer);
    return;
  }
  if (answer) {
    send_json (msg, ok_status, answer);
    json_node_unref (answer);
  } else {
    soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
  }
}

static void
handle_config (TcdHttp *h, SoupServerMessage *msg, const gchar *method, const gchar *section)
{
  TcdConfig *cfg = h->app->config;
  g_autoptr (JsonNode) patch = NULL;
  JsonNode *doc;

  if (!section) {
    if (!g_str_equal (method, "GET"))
      return method_not_allowed (msg, "GET");
    send_json (msg, SOUP_STATUS_OK, tcd_config_get (cfg));
    return;
  }
  if (!tcd_config_has_section (cfg, section)) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "section",
        "no configuration section \"%s\"", section);
    return;
  }
  if (g_str_equal (method, "GET")) {
    send_json (msg, SOUP_STATUS_OK, tcd_config_get_section (cfg, section));
    return;
  }
  if (!g_str_equal (method, "PUT"))
    return method_not_allowed (msg, "GET, PUT");
  if (!(patch = read_body (msg)))
    return;
  doc = tcd_config_patched (cfg, section, patch);
  {
    g_autofree gchar *what = g_strdup_printf ("config.%s", section);
    /* the answer is the section as it now is: computed after the change */
    g_autoptr (GError) err = NULL;
    g_autofree gchar *field = NULL;
    if (!tcd_app_change_config (h->app, doc, what, &field, &err)) {
      if (g_error_matches (err, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_IO))
        send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
      else
        send_invalid (msg, err, field);
      return;
    }
    send_json (msg, SOUP_STATUS_OK, tcd_config_get_section (cfg, section));
  }
}

static gint
find_rule (JsonArray *rules, gint64 id)
{
  for (guint i = 0; i < json_array_get_length (rules); i++) {
    JsonObject *r = json_array_get_object_element (rules, i);
    if (r && json_object_get_int_member_with_default (r, "id", -1) == id)
      return i;
  }
  return -1;
}

static void
handle_rules (TcdHttp *h, SoupServerMessage *msg, const gchar *method, const gchar *id_str)
{
  TcdConfig *cfg = h->app->config;
  JsonArray *rules = json_node_get_array (tcd_config_get_section (cfg, "rules"));
  g_autoptr (JsonNode) body = NULL;
  JsonNode *doc;
  JsonArray *new_rules;
  gint64 id = 0;
  gint idx = -1;

  if (id_str) {
    gchar *end;
    id = g_ascii_strtoll (id_str, &end, 10);
    if (*end || id <= 0 || (idx = find_rule (rules, id)) < 0) {
      send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "id", "no rule %s", id_str);
      return;
    }
  }
  if (g_str_equal (method, "GET")) {
    send_json (msg, SOUP_STATUS_OK, id_str ? json_array_get_element (rules, idx)
        : tcd_config_get_section (cfg, "rules"));
    return;
  }
  if (!id_str && !g_str_equal (method, "POST"))
    return method_not_allowed (msg, "GET, POST");
  if (id_str && !g_str_equal (method, "PUT") && !g_str_equal (method, "DELETE"))
    return method_not_allowed (msg, "GET, PUT, DELETE");

  if (g_str_equal (method, "DELETE")) {
    JsonArray *cmps = json_node_get_array (tcd_config_get_section (cfg, "comparisons"));
    for (guint i = 0; i < json_array_get_length (cmps); i++) {
      JsonArray *pair = json_object_get_array_member (json_array_get_object_element (cmps, i),
          "rules");
      for (guint k = 0; pair && k < json_array_get_length (pair); k++)
        if (json_array_get_int_element (pair, k) == id) {
          g_autofree gchar *f = g_strdup_printf ("comparisons[%u].rules", i);
          send_error (msg, SOUP_STATUS_CONFLICT, "in_use", f,
              "rule %" G_GINT64_FORMAT " is used by a comparison: delete or change it first", id);
          return;
        }
    }
    doc = tcd_json_deep_copy (tcd_config_get (cfg));
    json_array_remove_element (json_node_get_array (tcd_config_node (doc, "rules")), idx);
    change (h, msg, doc, "rules.delete", TRUE, SOUP_STATUS_NO_CONTENT, NULL);
    return;
  }

  if (!(body = read_body (msg)))
    return;
  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "a rule is a JSON object");
    return;
  }
  doc = tcd_json_deep_copy (tcd_config_get (cfg));
  new_rules = json_node_get_array (tcd_config_node (doc, "rules"));
  if (!id_str) {
    JsonObject *o = json_node_get_object (body);
    JsonNode *rule;
    gint64 max = 0;
    if (json_object_has_member (o, "id")) {
      json_node_unref (doc);
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "id",
          "id: the device assigns the id; leave it out (PUT /api/v1/rules/{id} changes a rule)");
      return;
    }
    for (guint i = 0; i < json_array_get_length (rules); i++)
      max = MAX (max, json_object_get_int_member_with_default
          (json_array_get_object_element (rules, i), "id", 0));
    rule = tcd_json_deep_copy (body);
    json_object_set_int_member (json_node_get_object (rule), "id", max + 1);
    if (!json_object_has_member (json_node_get_object (rule), "enabled"))
      json_object_set_boolean_member (json_node_get_object (rule), "enabled", TRUE);
    json_array_add_element (new_rules, json_node_ref (rule));
    {
      g_autofree gchar *loc = g_strdup_printf (API "rules/%" G_GINT64_FORMAT, max + 1);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
          "Location", loc);
    }
    change (h, msg, doc, "rules.create", TRUE, SOUP_STATUS_CREATED, rule);
    return;
  }
  /* PUT: the fields named change, the rest stays */
  {
    JsonObject *o = json_node_get_object (body);
    JsonNode *merged;
    if (json_object_has_member (o, "id")
        && (!JSON_NODE_HOLDS_VALUE (json_object_get_member (o, "id"))
            || json_object_get_int_member (o, "id") != id)) {
      json_node_unref (doc);
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "id",
          "id: the id of a rule cannot change");
      return;
    }
    merged = tc_json_merge (json_array_get_element (new_rules, idx), body);
    json_array_remove_element (new_rules, idx);
    /* json-glib has no insert: rebuild the array in order */
    {
      JsonArray *rebuilt = json_array_new ();
      for (guint i = 0; i < json_array_get_length (new_rules) + 1; i++) {
        if ((gint) i == idx)
          json_array_add_element (rebuilt, json_node_ref (merged));
        else
          json_array_add_element (rebuilt,
              tcd_json_deep_copy (json_array_get_element (new_rules, (gint) i > idx ? i - 1 : i)));
      }
      json_object_set_array_member (json_node_get_object (doc), "rules", rebuilt);
    }
    change (h, msg, doc, "rules.update", TRUE, SOUP_STATUS_OK, merged);
  }
}

/* ---- the overlay picture (manual 7.4) ---- */

static void
handle_picture (TcdHttp *h, SoupServerMessage *msg, const gchar *method)
{
  g_autofree gchar *path = g_build_filename (h->app->state_dir, "overlay.bmp", NULL);
  SoupMessageBody *body;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) err = NULL;
  const guint8 *d;
  gsize len;
  gint32 w, hh;

  if (g_str_equal (method, "GET")) {
    g_autofree gchar *data = NULL;
    if (!g_file_get_contents (path, &data, &len, NULL)) {
      send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no picture uploaded");
      return;
    }
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, "image/bmp", SOUP_MEMORY_TAKE,
        g_steal_pointer (&data), len);
    return;
  }
  if (!g_str_equal (method, "PUT"))
    return method_not_allowed (msg, "GET, PUT");
  body = soup_server_message_get_request_body (msg);
  bytes = soup_message_body_flatten (body);
  d = g_bytes_get_data (bytes, &len);
  /* a 24-bit uncompressed BMP of at most 128x128 (the manual's limits) */
  if (len < 54 || d[0] != 'B' || d[1] != 'M') {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "picture", "the body is not a BMP file");
    return;
  }
  w = (gint32) GST_READ_UINT32_LE (d + 18);
  hh = (gint32) GST_READ_UINT32_LE (d + 22);
  if (GST_READ_UINT16_LE (d + 28) != 24 || GST_READ_UINT32_LE (d + 30) != 0) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "picture",
        "the picture must be a 24-bit uncompressed BMP");
    return;
  }
  if (w < 1 || w > 128 || ABS (hh) < 1 || ABS (hh) > 128
      || GST_READ_UINT32_LE (d + 10) + (gsize) ((w * 3 + 3) & ~3) * ABS (hh) > len) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "picture",
        "the picture must be 1x1 to 128x128 pixels and complete (got %dx%d)", w, ABS (hh));
    return;
  }
  if (!g_file_set_contents_full (path, (const gchar *) d, len,
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, &err)) {
    send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
    return;
  }
  /* the OSD reads the file again when it is set again */
  tcd_pipeline_reload_picture (h->app->pipeline);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* ---- the rest ---- */

static void
handle_temperatures (TcdHttp *h, SoupServerMessage *msg)
{
  GstSample *s;
  g_autoptr (JsonNode) r = NULL;

  if (!tcd_config_bool (h->app->config, "thermometry.enabled")) {
    send_error (msg, SOUP_STATUS_CONFLICT, "measurement_off", "thermometry.enabled",
        "temperature measurement is off (thermometry.enabled)");
    return;
  }
  s = tcd_pipeline_get_temperature (h->app->pipeline);
  if (s) {
    r = tcd_reading_from_sample (s);
    gst_sample_unref (s);
  }
  if (!r) {
    send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no_frame", NULL,
        "no measurement yet: the sensor is starting");
    return;
  }
  send_json (msg, SOUP_STATUS_OK, r);
}

static void
handle_device (TcdHttp *h, SoupServerMessage *msg)
{
  TcdApp *app = h->app;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  gint w, hh, fps;
  g_autofree gchar *gst = gst_version_string ();

  tcd_pipeline_get_format (app->pipeline, &w, &hh, &fps);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "device_name");
  json_builder_add_string_value (b, tcd_config_string (app->config, "device.name"));
  json_builder_set_member_name (b, "device_number");
  json_builder_add_int_value (b, tcd_config_int (app->config, "device.number"));
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, g_str_has_prefix (app->source, "sim")
      ? "thermocam TC-640 (simulated sensor)" : "thermocam TC-640");
  json_builder_set_member_name (b, "serial_number");
  json_builder_add_string_value (b, app->serial);
  json_builder_set_member_name (b, "firmware_version");
  json_builder_add_string_value (b, PACKAGE_VERSION);
  json_builder_set_member_name (b, "firmware_build");
  json_builder_add_string_value (b, __DATE__);
  json_builder_set_member_name (b, "gstreamer");
  json_builder_add_string_value (b, gst);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, app->source);
  json_builder_set_member_name (b, "sensor");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, hh);
  json_builder_set_member_name (b, "frame_rate");
  json_builder_add_int_value (b, fps);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "channels");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "alarm_inputs");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "alarm_outputs");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "uptime_seconds");
  json_builder_add_int_value (b, (g_get_monotonic_time () - app->started_us) / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "activated");
  json_builder_add_boolean_value (b, tcd_users_is_activated (app->users));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

static void
handle_activate (TcdHttp *h, SoupServerMessage *msg, const gchar *method)
{
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  JsonObject *o;
  JsonNode *pw;
  g_autoptr (GList) members = NULL;

  if (!g_str_equal (method, "POST"))
    return method_not_allowed (msg, "POST");
  if (tcd_users_is_activated (h->app->users)) {
    send_error (msg, SOUP_STATUS_CONFLICT, "already_activated", NULL,
        "the device is already activated");
    return;
  }
  if (!(body = read_body (msg)))
    return;
  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL,
        "expected an object {\"password\": \"...\"}");
    return;
  }
  o = json_node_get_object (body);
  members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_str_equal (l->data, "password")) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: unknown field",
          (gchar *) l->data);
      return;
    }
  pw = json_object_get_member (o, "password");
  if (!pw || !JSON_NODE_HOLDS_VALUE (pw) || json_node_get_value_type (pw) != G_TYPE_STRING) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "password",
        "password: a string is required");
    return;
  }
  if (!tcd_users_activate (h->app->users, json_node_get_string (pw), &err)) {
    send_error (msg, g_error_matches (err, TCD_USERS_ERROR, TCD_USERS_ERROR_IO)
        ? SOUP_STATUS_INTERNAL_SERVER_ERROR : SOUP_STATUS_BAD_REQUEST,
        g_error_matches (err, TCD_USERS_ERROR, TCD_USERS_ERROR_WEAK) ? "weak_password" :
        g_error_matches (err, TCD_USERS_ERROR, TCD_USERS_ERROR_IO) ? "io" : "invalid",
        "password", "password: %s", err->message);
    return;
  }
  tcd_app_users_changed (h->app);
  {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "activated");
    json_builder_add_boolean_value (b, TRUE);
    json_builder_set_member_name (b, "user");
    json_builder_add_string_value (b, "admin");
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    send_json (msg, SOUP_STATUS_OK, root);
  }
}

static void
send_file (SoupServerMessage *msg, const gchar *path, const gchar *type)
{
  g_autofree gchar *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, NULL)) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "%s is missing", path);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_TAKE, g_steal_pointer (&data), len);
}

JsonNode *
tcd_http_stats (TcdHttp *h)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, tcd_http_get_port (h));
  json_builder_set_member_name (b, "requests");
  json_builder_add_int_value (b, h->requests);
  json_builder_set_member_name (b, "errors");
  json_builder_add_int_value (b, h->errors);
  json_builder_set_member_name (b, "event_listeners");
  json_builder_add_int_value (b, g_list_length (h->sse));
  json_builder_set_member_name (b, "live_views");
  json_builder_add_int_value (b, g_list_length (h->mjpeg));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
handle_system (TcdHttp *h, SoupServerMessage *msg, const gchar *method, const gchar *what)
{
  TcdApp *app = h->app;

  if (g_strcmp0 (what, "diagnostics") == 0) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    g_autofree gchar *stat = NULL;
    if (!g_str_equal (method, "GET"))
      return method_not_allowed (msg, "GET");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "uptime_seconds");
    json_builder_add_int_value (b, (g_get_monotonic_time () - app->started_us) / G_USEC_PER_SEC);
    json_builder_set_member_name (b, "reboots");
    json_builder_add_int_value (b, app->reboots);
    json_builder_set_member_name (b, "pipeline");
    json_builder_add_value (b, tcd_pipeline_stats (app->pipeline));
    json_builder_set_member_name (b, "rtsp");
    json_builder_add_value (b, tcd_rtsp_stats (app->rtsp));
    json_builder_set_member_name (b, "http");
    json_builder_add_value (b, tcd_http_stats (h));
    if (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL)) {
      /* utime and stime: fields 14 and 15, after the ")" of the name */
      const gchar *p = strrchr (stat, ')');
      g_auto (GStrv) f = p ? g_strsplit (p + 2, " ", -1) : NULL;
      if (f && g_strv_length (f) > 13) {
        gdouble hz = sysconf (_SC_CLK_TCK);
        json_builder_set_member_name (b, "cpu_seconds");
        json_builder_add_double_value (b, (g_ascii_strtod (f[11], NULL)
                + g_ascii_strtod (f[12], NULL)) / hz);
      }
    }
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    send_json (msg, SOUP_STATUS_OK, root);
    return;
  }
  if (!g_str_equal (method, "POST")) {
    if (g_strcmp0 (what, "reboot") == 0 || g_strcmp0 (what, "restore") == 0
        || g_strcmp0 (what, "default") == 0 || g_strcmp0 (what, "ffc") == 0)
      return method_not_allowed (msg, "POST");
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no such route");
    return;
  }
  if (g_strcmp0 (what, "reboot") == 0) {
    tcd_app_schedule_reboot (app);
    soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
        "{\"rebooting\": true}", 19);
  } else if (g_strcmp0 (what, "ffc") == 0) {
    tcd_pipeline_ffc (app->pipeline);
    soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
        "{\"correcting\": true}", 20);
  } else if (g_strcmp0 (what, "restore") == 0 || g_strcmp0 (what, "default") == 0) {
    gboolean restore = g_str_equal (what, "restore");
    JsonNode *doc = tcd_config_defaults (app->config, restore);
    g_autoptr (GError) err = NULL;
    g_autofree gchar *field = NULL;

    if (!tcd_app_change_config (app, doc, what, &field, &err)) {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", field, "%s", err->message);
      return;
    }
    if (!restore) {
      if (!tcd_users_reset (app->users, &err)) {
        send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
        return;
      }
      tcd_app_users_changed (app);
    }
    send_json (msg, SOUP_STATUS_OK, tcd_config_get (app->config));
  } else {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no such route");
  }
}

static void
api_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  TcdHttp *h = user_data;
  TcdApp *app = h->app;
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (GStrv) seg = NULL;
  guint n;

  h->requests++;
  if (!g_str_has_prefix (path, API)) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no route %s", path);
    return;
  }
  seg = g_strsplit (path + strlen (API), "/", -1);
  n = g_strv_length (seg);
  if (n > 0 && *seg[n - 1] == '\0')
    n--;                        /* a trailing slash */
  if (n == 1 && g_str_equal (seg[0], "activate"))
    return handle_activate (h, msg, method);
  if (!tcd_users_is_activated (app->users)) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
        "X-Activation-Required", "POST " API "activate");
    send_error (msg, SOUP_STATUS_UNAUTHORIZED, "not_activated", NULL,
        "the device is not activated: POST " API "activate with {\"password\": \"...\"} "
        "(at least 8 characters mixing three of upper case, lower case, digits, specials) "
        "creates the user admin");
    return;
  }
  if (n == 0) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL,
        "see " API "openapi.yaml for the routes");
    return;
  }
#define GET_ONLY() do { if (!g_str_equal (method, "GET")) return method_not_allowed (msg, "GET"); } while (0)
  if (g_str_equal (seg[0], "device") && n == 1) {
    GET_ONLY ();
    return handle_device (h, msg);
  }
  if (g_str_equal (seg[0], "config") && n <= 2)
    return handle_config (h, msg, method, n == 2 ? seg[1] : NULL);
  if (g_str_equal (seg[0], "rules") && n <= 2)
    return handle_rules (h, msg, method, n == 2 ? seg[1] : NULL);
  if (g_str_equal (seg[0], "temperatures") && n == 1) {
    GET_ONLY ();
    return handle_temperatures (h, msg);
  }
  if (g_str_equal (seg[0], "osd") && n == 2 && g_str_equal (seg[1], "picture"))
    return handle_picture (h, msg, method);
  if (g_str_equal (seg[0], "snapshot") && n == 1) {
    GET_ONLY ();
    return handle_snapshot (h, msg, query);
  }
  if (g_str_equal (seg[0], "events") && n == 1) {
    GET_ONLY ();
    return handle_events (h, msg);
  }
  if (g_str_equal (seg[0], "live.mjpeg") && n == 1) {
    GET_ONLY ();
    return handle_live (h, msg);
  }
  if (g_str_equal (seg[0], "system") && n == 2)
    return handle_system (h, msg, method, seg[1]);
  if (g_str_equal (seg[0], "openapi.yaml") && n == 1) {
    g_autofree gchar *p = g_build_filename (app->data_dir, "schemas", "openapi.yaml", NULL);
    GET_ONLY ();
    return send_file (msg, p, "application/yaml");
  }
  if (g_str_equal (seg[0], "schema") && n == 2 && g_str_equal (seg[1], "config")) {
    g_autofree gchar *p = g_build_filename (app->data_dir, "schemas", "config.schema.json",
        NULL);
    GET_ONLY ();
    return send_file (msg, p, "application/schema+json");
  }
#undef GET_ONLY
  send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no route %s", path);
}

static void
root_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL,
      "no route %s: the API is under " API " (" API "openapi.yaml)", path);
}

/* refuse a body too large before reading it */
static void
got_headers (SoupServerMessage *msg, gpointer user_data)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  goffset len = soup_message_headers_get_content_length (hdrs);

  if (soup_message_headers_get_encoding (hdrs) == SOUP_ENCODING_CONTENT_LENGTH
      && len > MAX_BODY) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
        "Connection", "close");
    send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL,
        "the body (%" G_GOFFSET_FORMAT " bytes) is larger than %d bytes", len, MAX_BODY);
  }
}

static void
request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers), user_data);
}

static void
request_finished (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;
  if (soup_server_message_get_status (msg) >= 400)
    h->errors++;
}

static gboolean
auth_filter (SoupAuthDomain *domain, SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;
  const gchar *path = g_uri_get_path (soup_server_message_get_uri (msg));

  /* inactive: the handler says how to activate; activation needs no login */
  if (!tcd_users_is_activated (h->app->users))
    return FALSE;
  return g_strcmp0 (path, API "activate") != 0;
}

static char *
digest_ha1 (SoupAuthDomain *domain, SoupServerMessage *msg, const char *username,
    gpointer user_data)
{
  TcdHttp *h = user_data;
  return g_strdup (tcd_users_get_ha1 (h->app->users, username));
}

TcdHttp *
tcd_http_new (TcdApp *app)
{
  TcdHttp *h = g_new0 (TcdHttp, 1);

  h->app = app;
  g_mutex_init (&h->jpeg_lock);
  h->server = soup_server_new ("server-header", "thermocamd/" PACKAGE_VERSION " ", NULL);
  h->auth = soup_auth_domain_digest_new ("realm", TCD_REALM, NULL);
  soup_auth_domain_add_path (h->auth, "/api");
  soup_auth_domain_set_filter (h->auth, auth_filter, h, NULL);
  soup_auth_domain_digest_set_auth_callback (h->auth, digest_ha1, h, NULL);
  soup_server_add_auth_domain (h->server, h->auth);
  soup_server_add_handler (h->server, "/api", api_handler, h, NULL);
  soup_server_add_handler (h->server, NULL, root_handler, h, NULL);
  g_signal_connect (h->server, "request-started", G_CALLBACK (request_started), h);
  g_signal_connect (h->server, "request-finished", G_CALLBACK (request_finished), h);
  h->keepalive_id = g_timeout_add_seconds (15, sse_keepalive, h);
  h->measurement_id = g_timeout_add_seconds (1, sse_measurement, h);
  return h;
}

gboolean
tcd_http_listen (TcdHttp *h, guint port, GError **error)
{
  return soup_server_listen_all (h->server, port, 0, error);
}

void
tcd_http_disconnect (TcdHttp *h)
{
  soup_server_disconnect (h->server);
}

guint
tcd_http_get_port (TcdHttp *h)
{
  GSList *uris = soup_server_get_uris (h->server);
  guint port = uris ? g_uri_get_port (uris->data) : 0;

  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return port;
}

void
tcd_http_free (TcdHttp *h)
{
  if (!h)
    return;
  g_source_remove (h->keepalive_id);
  g_source_remove (h->measurement_id);
  if (h->jpeg_idle)
    g_source_remove (h->jpeg_idle);
  soup_server_disconnect (h->server);
  g_clear_object (&h->auth);
  g_clear_object (&h->server);
  g_clear_pointer (&h->jpeg, gst_sample_unref);
  g_mutex_clear (&h->jpeg_lock);
  g_free (h);
}
