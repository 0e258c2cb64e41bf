/* thermocamd: HTTP routes of the live picture and readings: the event
 * stream (server-sent events), the MJPEG live view, snapshots, temperatures
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Long answers (events, live view) are chunked and written as data arrives;
 * slow readers of the live view skip frames instead of piling them up.
 */
#include "tcd-http-private.h"

#include <string.h>

#include "tcd-json.h"
#include "tcd-readings.h"
#include "tcd-snapshot.h"

#define MAX_SSE 32
#define MAX_MJPEG 16
#define MJPEG_BACKLOG (2 * 1024 * 1024)      /* above it a live view skips frames */
#define MJPEG_STALL_US (30 * G_USEC_PER_SEC)  /* skipping that long: it is dropped */
#define SSE_BACKLOG (256 * 1024)              /* an event listener that far behind is dropped */
#define STREAMS_PER_ACCOUNT_DIV 4             /* an account holds at most 1/4 of each kind */
#define BOUNDARY "thermocamframe"

/* ---- server-sent events ---- */

static StreamClient *
stream_find (GList *list, SoupServerMessage *msg)
{
  for (GList *l = list; l; l = l->next)
    if (((StreamClient *) l->data)->msg == msg)
      return l->data;
  return NULL;
}

static void
stream_wrote (SoupServerMessage *msg, guint size, gpointer user_data)
{
  StreamClient *c = user_data;
  c->backlog = c->backlog > size ? c->backlog - size : 0;
}

/* a client that does not read: nothing more is queued for it, and its
 * connection is shut (what was queued goes with the message) */
static void
stream_drop (TcdHttp *h, StreamClient *c, const gchar *why)
{
  if (c->dropped)
    return;
  c->dropped = TRUE;
  h->streams_dropped++;
  g_debug ("HTTP: %s: dropped a stream (%s, %" G_GSIZE_FORMAT " bytes queued)",
      address_of (c->msg), why, c->backlog);
  tcd_conns_close (h->conns, soup_server_message_get_remote_address (c->msg));
}

/* the streams of @list held by the account asking (fair shares: one
 * account, a user-level one too, cannot take every slot) */
static guint
streams_of (GList *list, const gchar *user)
{
  guint n = 0;

  for (GList *l = list; l; l = l->next) {
    Who *w = who_of (((StreamClient *) l->data)->msg);
    if (w && g_strcmp0 (w->user, user) == 0)
      n++;
  }
  return n;
}

/* FALSE (with the answer sent) when there is no slot for this client */
static gboolean
stream_slot (SoupServerMessage *msg, GList *list, guint max, const gchar *what)
{
  guint share = MAX (max / STREAMS_PER_ACCOUNT_DIV, 1);
  const gchar *user = who_user (msg);

  if (g_list_length (list) >= max) {
    send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too_many_clients", NULL,
        "at most %u %s at once", max, what);
    return FALSE;
  }
  if (user && streams_of (list, user) >= share) {
    send_error (msg, 429, "too_many_clients", NULL,
        "%s holds %u %s already, its share of %u", user, share, what, max);
    return FALSE;
  }
  return TRUE;
}

void
sse_finished (SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;
  StreamClient *c = stream_find (h->sse, msg);

  if (!c)
    return;
  h->sse = g_list_remove (h->sse, c);
  g_object_unref (c->msg);
  g_free (c);
}

static void
sse_write (TcdHttp *h, StreamClient *c, const gchar *text)
{
  SoupMessageBody *body = soup_server_message_get_response_body (c->msg);
  gsize len = strlen (text);

  if (c->dropped)
    return;
  if (c->backlog + len > SSE_BACKLOG) {
    stream_drop (h, c, "events not read");
    return;
  }
  soup_message_body_append (body, SOUP_MEMORY_COPY, text, len);
  c->backlog += len;
  soup_server_message_unpause (c->msg);
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
    sse_write (h, l->data, text);
}

gboolean
sse_keepalive (gpointer user_data)
{
  TcdHttp *h = user_data;

  for (GList *l = h->sse; l; l = l->next)
    sse_write (h, l->data, ": keepalive\n\n");
  return G_SOURCE_CONTINUE;
}

/* the readings of the bus (TCD_EVENT_MEASUREMENT), subscribed while the
 * event stream has listeners: the last one gone, the next reading ends it */
static void
sse_measurement (TcdEventType type, JsonNode *event, gpointer user_data)
{
  TcdHttp *h = user_data;

  if (!h->sse) {
    tcd_bus_unsubscribe (h->ctx->bus, h->measurement_id);
    h->measurement_id = 0;
    return;
  }
  tcd_http_broadcast (h, tcd_event_type_name (type), json_node_ref (event));
}

static void
handle_events (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  StreamClient *c;

  if (!stream_slot (msg, h->sse, MAX_SSE, "event listeners"))
    return;
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (hdrs, "text/event-stream", NULL);
  soup_message_headers_replace (hdrs, "Cache-Control", "no-cache");
  soup_message_headers_set_encoding (hdrs, SOUP_ENCODING_CHUNKED);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  c = g_new0 (StreamClient, 1);
  c->msg = g_object_ref (msg);
  h->sse = g_list_prepend (h->sse, c);
  if (!h->measurement_id)
    h->measurement_id = tcd_bus_subscribe (h->ctx->bus, TCD_EVENT_MASK (TCD_EVENT_MEASUREMENT),
        sse_measurement, h);
  g_signal_connect (msg, "finished", G_CALLBACK (sse_finished), h);
  g_signal_connect (msg, "wrote-body-data", G_CALLBACK (stream_wrote), c);
  /* a stream has no deadline: a slow reader is dropped by its backlog */
  tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg), 0);
  {
    /* the list of event types (core/tcd-bus.c) */
    g_autofree gchar *hello = g_strdup_printf (": thermocamd events: %s\n\n",
        tcd_event_type_list ());
    sse_write (h, c, hello);
  }
}

/* ---- live view: MJPEG ---- */

void
mjpeg_update_viewers (TcdHttp *h)
{
  tcd_pipeline_set_mjpeg_viewers (h->ctx->pipeline, g_list_length (h->mjpeg));
}

void
mjpeg_finished (SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;

  for (GList *l = h->mjpeg; l; l = l->next) {
    StreamClient *c = l->data;
    if (c->msg == msg) {
      h->mjpeg = g_list_delete_link (h->mjpeg, l);
      g_object_unref (c->msg);
      g_free (c);
      break;
    }
  }
  mjpeg_update_viewers (h);
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
    gint64 now = g_get_monotonic_time ();
    gint64 captured = tcd_pipeline_capture_time (h->ctx->pipeline, GST_BUFFER_PTS (buf));
    /* each part says when the sensor captured its frame (us since the
     * epoch, this machine's clock): a viewer can tell how late it is */
    head = g_strdup_printf ("--" BOUNDARY "\r\nContent-Type: image/jpeg\r\n"
        "Content-Length: %" G_GSIZE_FORMAT "\r\nX-Capture-Time: %" G_GINT64_FORMAT "\r\n\r\n",
        map.size, captured > 0 ? g_get_real_time () - (now - captured) : (gint64) 0);
    for (GList *l = h->mjpeg; l; l = l->next) {
      StreamClient *c = l->data;
      SoupMessageBody *body = soup_server_message_get_response_body (c->msg);
      if (c->dropped)
        continue;
      if (c->backlog > MJPEG_BACKLOG) {
        /* a slow reader skips this frame; one that reads nothing goes */
        if (!c->stalled_since)
          c->stalled_since = now;
        else if (now - c->stalled_since > MJPEG_STALL_US)
          stream_drop (h, c, "live view not read");
        continue;
      }
      c->stalled_since = 0;
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
handle_live (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  GHashTable *query = req->query;
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  const gchar *stream = query ? g_hash_table_lookup (query, "stream") : NULL;
  StreamClient *c;

  /* one live view, the main stream's picture at the sensor's size: a sub
   * stream is asked over RTSP (/Streaming/Channels/102), never ignored here */
  if (stream && !g_str_equal (stream, "main")) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "stream",
        "stream: the live view is the main stream only (\"%s\" is RTSP's: "
        "/Streaming/Channels/102)", stream);
    return;
  }
  if (!stream_slot (msg, h->mjpeg, MAX_MJPEG, "live views"))
    return;
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (hdrs,
      "multipart/x-mixed-replace;boundary=" BOUNDARY, NULL);
  soup_message_headers_replace (hdrs, "Cache-Control", "no-cache");
  soup_message_headers_set_encoding (hdrs, SOUP_ENCODING_CHUNKED);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  c = g_new0 (StreamClient, 1);
  c->msg = g_object_ref (msg);
  h->mjpeg = g_list_prepend (h->mjpeg, c);
  g_signal_connect (msg, "finished", G_CALLBACK (mjpeg_finished), h);
  g_signal_connect (msg, "wrote-body-data", G_CALLBACK (stream_wrote), c);
  tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg), 0);
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
handle_snapshot (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  GHashTable *query = req->query;
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
  s = format == TCD_SNAPSHOT_RJPEG ? tcd_pipeline_get_temperature (h->ctx->pipeline)
      : tcd_pipeline_get_video (h->ctx->pipeline);
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
  j->palette = g_strdelimit (g_strdup (tcd_config_string (h->ctx->config, "image.palette")),
      "_", '-');
  soup_server_message_pause (msg);
  task = g_task_new (NULL, NULL, snap_done, j);
  g_task_set_task_data (task, j, NULL);
  g_task_run_in_thread (task, snap_thread);
  g_object_unref (task);
}

/* ---- temperatures ---- */

static void
handle_temperatures (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  GstSample *s;
  g_autoptr (JsonNode) r = NULL;

  if (!tcd_config_bool (h->ctx->config, "thermometry.enabled")) {
    send_error (msg, SOUP_STATUS_CONFLICT, "measurement_off", "thermometry.enabled",
        "temperature measurement is off (thermometry.enabled)");
    return;
  }
  s = tcd_pipeline_get_temperature (h->ctx->pipeline);
  if (s) {
    gdouble lo, hi;
    tcd_reading_range (h->ctx->config, &lo, &hi);
    r = tcd_reading_from_sample (s, lo, hi);
    gst_sample_unref (s);
  }
  if (!r) {
    send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no_frame", NULL,
        "no measurement yet: the sensor is starting");
    return;
  }
  send_json (msg, SOUP_STATUS_OK, r);
}

const TcdRoute tcd_http_live_routes[] = {
  HTTP_ROUTE_P ("GET", "/temperatures", TCD_LEVEL_USER, TCD_PERM_LIVE_VIEW, handle_temperatures),
  HTTP_ROUTE_P ("GET", "/snapshot", TCD_LEVEL_USER, TCD_PERM_LIVE_VIEW, handle_snapshot),
  HTTP_ROUTE_P ("GET", "/events", TCD_LEVEL_USER, TCD_PERM_LIVE_VIEW, handle_events),
  HTTP_ROUTE_P ("GET", "/live.mjpeg", TCD_LEVEL_USER, TCD_PERM_LIVE_VIEW, handle_live),
  HTTP_ROUTES_END
};
