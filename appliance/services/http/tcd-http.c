/* thermocamd: the HTTP JSON API
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Routes under /api/v1 (schemas/openapi.yaml documents each).  Every error is
 * {"error": {"code", "message", "field"}} with a 4xx/5xx status.  Before
 * activation every route but POST /activate answers 401 with a hint.
 *
 * Who may ask is settled before the body is read, in this order:
 *  1. the IP address filter, when the connection is accepted (we own the
 *     listening sockets and hand accepted connections to libsoup);
 *  2. the illegal login lock of the client's address;
 *  3. for requests that change something: no cross-site request (Origin,
 *     Sec-Fetch-Site);
 *  4. credentials: the session cookie of POST /session (with the
 *     X-CSRF-Token header for a change), or Digest, or Basic where
 *     security.authentication.web allows it (libsoup checks them); a wrong
 *     one counts towards the lock;
 *  5. the route's level (user < operator < administrator, route_level()).
 * Long answers (events, live view) are chunked and written as data arrives;
 * slow readers of the live view skip frames instead of piling them up.
 */
#include "tcd-http.h"

#include <gst/video/video.h>
#include <libsoup/soup.h>
#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gstthermalmeta.h"
#include "tc-json.h"
#include "tcd-certs.h"
#include "tcd-conns.h"
#include "tcd-crypt.h"
#include "tcd-events.h"
#include "tcd-json.h"
#include "tcd-schedule.h"
#include "tcd-snapshot.h"

#define MAX_BODY (256 * 1024)      /* a 128x128 BMP is 48 KiB */
#define MAX_SSE 32
#define MAX_MJPEG 16
#define MJPEG_BACKLOG (2 * 1024 * 1024)      /* above it a live view skips frames */
#define MJPEG_STALL_US (30 * G_USEC_PER_SEC)  /* skipping that long: it is dropped */
#define SSE_BACKLOG (256 * 1024)              /* an event listener that far behind is dropped */
#define STREAMS_PER_ACCOUNT_DIV 4             /* an account holds at most 1/4 of each kind */
#define BOUNDARY "thermocamframe"
#define API "/api/v1/"
#define SESSION_COOKIE "thermocam_session"
#define MAX_SESSIONS 64
#define NONCE_LIFE_US (300 * G_USEC_PER_SEC)   /* a Digest nonce is good for 5 minutes */
#define MAX_NONCES 4096                        /* nonces in use whose nc we remember */
/* what one client may hold, and for how long (manual-independent: what
 * keeps the port up when clients misbehave) */
#define MAX_CONNECTIONS 256             /* HTTP and HTTPS together, at most */
#define MAX_CONNECTIONS_PER_ADDRESS 32  /* an IPv4 address, an IPv6 /64 */
#define REQUEST_TIMEOUT_MS 10000        /* a request's line and headers (and keep-alive idle) */
#define BODY_TIMEOUT_MS 30000           /* then its body */
#define ANSWER_TIMEOUT_MS 60000         /* an answer (not a stream) taken by the client */

/* who is asking (set on the message before its body is read) */
typedef struct {
  gchar *user, *address;
  TcdLevel level;
  gboolean session;             /* by the session cookie */
} Who;

typedef struct {
  gchar *user, *csrf;
  gint64 expires;               /* monotonic us */
  gboolean tls;                 /* made over HTTPS: good only there */
} Session;

static Who *who_of (SoupServerMessage *msg);
static void drop_sessions (TcdHttp *h, const gchar *user);
static const gchar *address_of (SoupServerMessage *msg);
static gboolean is_tls (TcdHttp *h, SoupServerMessage *msg);

static const gchar *
who_user (SoupServerMessage *msg)
{
  Who *w = who_of (msg);
  return w ? w->user : NULL;
}

/* a client of a long answer (events, live view) */
typedef struct {
  SoupServerMessage *msg;
  gsize backlog;                /* queued, not yet written to the socket */
  gint64 stalled_since;         /* monotonic us the live view began skipping; 0 */
  gboolean dropped;             /* too slow: its connection is being shut */
} StreamClient;

struct _TcdHttp {
  TcdApp *app;
  SoupServer *server, *tls_server;
  TcdConns *conns;              /* HTTP and HTTPS connections: bounds, deadlines */
  TcdListener *service, *tls_service;
  GSocket *keepalive[2];        /* see keep_alive () */
  gboolean keep_alive;          /* connections stay open after an answer */
  guint port, tls_port;
  GTlsCertificate *tls_cert;
  SoupAuthDomain *basic;
  GHashTable *sessions;         /* token -> Session */
  guint8 nonce_key[32];         /* HMAC key of our Digest nonces (new at each start) */
  GHashTable *nonces;           /* nonce -> the highest nc seen (GUINT_TO_POINTER) */
  gint64 nonce_floor;           /* nonces issued until then are stale (the table overflowed) */
  GList *sse;                   /* StreamClient */
  GList *mjpeg;                 /* StreamClient */
  guint keepalive_id, measurement_id;
  guint64 event_id;
  GMutex jpeg_lock;
  GstSample *jpeg;
  guint jpeg_idle;
  guint64 requests, errors, refused, streams_dropped;
  guint64 challenges;           /* 401 answers that ask for credentials (not errors) */
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

/* {"error": {"code", "message", "field"}} */
static JsonNode *
error_node (const gchar *code, const gchar *field, const gchar *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

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
  return json_builder_get_root (b);
}

static void
send_error (SoupServerMessage *msg, guint status, const gchar *code, const gchar *field,
    const gchar *fmt, ...)
{
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *message = NULL;
  va_list ap;

  va_start (ap, fmt);
  message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  root = error_node (code, field, message);
  send_json (msg, status, root);
}

static void
method_not_allowed (SoupServerMessage *msg, const gchar *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow);
  send_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", NULL,
      "%s is not allowed here; allowed: %s", soup_server_message_get_method (msg), allow);
}

/* Content-Type: application/json (or any +json), with or without charset */
static gboolean
is_json_type (SoupServerMessage *msg)
{
  const gchar *type = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), NULL);

  return type && (g_ascii_strcasecmp (type, "application/json") == 0
      || (g_str_has_prefix (type, "application/") && g_str_has_suffix (type, "+json")));
}

/* the request's JSON body, or NULL with the error sent */
static JsonNode *
read_body (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (GError) err = NULL;
  JsonNode *root;
  gsize len = 0;
  const gchar *data = bytes ? g_bytes_get_data (bytes, &len) : NULL;

  if (len == 0) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "missing_body", NULL, "a JSON body is required");
    return NULL;
  }
  if (len > MAX_BODY) {
    send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL,
        "the body is larger than %d bytes", MAX_BODY);
    return NULL;
  }
  if (!is_json_type (msg)) {
    send_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", NULL,
        "the body must be sent as Content-Type: application/json");
    return NULL;
  }
  if (!(root = tc_json_parse (data, len, TC_JSON_MAX_DEPTH, &err))) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed_json", NULL,
        "the body is not JSON: %s", err->message);
    return NULL;
  }
  return root;
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
  /* the resolution of each quantity: tcd-json.c's table */
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  json_builder_add_double_value (b, tcd_json_round (name, at[0]));
  json_builder_add_double_value (b, tcd_json_round (name, at[1]));
  json_builder_end_array (b);
}

static void
add_temp (JsonBuilder *b, const gchar *name, gdouble v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, tcd_json_round (name, v));
}

static const gchar *state_names[] = { "normal", "pre_alarm", "alarm" };

/* min and max outside the measurement range: the sensor still gives a
 * number there, but not one the range's accuracy holds for */
static void
add_range_flags (JsonBuilder *b, gdouble min, gdouble max, gdouble lo, gdouble hi)
{
  json_builder_set_member_name (b, "below_range");
  json_builder_add_boolean_value (b, min < lo);
  json_builder_set_member_name (b, "above_range");
  json_builder_add_boolean_value (b, max > hi);
}

/* the measurement range of thermometry.temperature_range ("-20~150") */
static void
reading_range (TcdHttp *h, gdouble *lo, gdouble *hi)
{
  const gchar *r = tcd_config_string (h->app->config, "thermometry.temperature_range");
  gchar *end = NULL;

  *lo = -G_MAXDOUBLE;
  *hi = G_MAXDOUBLE;
  if (!r)
    return;
  *lo = g_ascii_strtod (r, &end);
  if (end && *end == '~')
    *hi = g_ascii_strtod (end + 1, NULL);
}

JsonNode *
tcd_reading_from_sample (GstSample *sample, gdouble range_lo, gdouble range_hi)
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
  /* FALSE while the shutter is closed (burning prevention): the numbers are
   * the shutter's, the states are held */
  json_builder_set_member_name (b, "valid");
  json_builder_add_boolean_value (b, mm->valid);
  json_builder_set_member_name (b, "scene");
  json_builder_begin_object (b);
  add_temp (b, "max", mm->max);
  add_temp (b, "min", mm->min);
  add_temp (b, "avg", mm->avg);
  add_at (b, "max_at", mm->max_at);
  add_at (b, "min_at", mm->min_at);
  add_range_flags (b, mm->min, mm->max, range_lo, range_hi);
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
    json_builder_set_member_name (b, "valid");
    json_builder_add_boolean_value (b, r->valid);
    if (r->valid) {
      add_temp (b, "max", r->max);
      add_temp (b, "min", r->min);
      add_temp (b, "avg", r->avg);
      add_at (b, "max_at", r->max_at);
      add_at (b, "min_at", r->min_at);
      add_range_flags (b, r->min, r->max, range_lo, range_hi);
    }
    json_builder_set_member_name (b, "state");
    json_builder_add_string_value (b, state_names[r->state]);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "comparisons");
  json_builder_begin_array (b);
  for (guint i = 0; i < mm->n_comparisons; i++) {
    const GstThermalComparisonResult *c = &mm->comparisons[i];
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, c->id);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, c->name);
    json_builder_set_member_name (b, "rules");
    json_builder_begin_array (b);
    json_builder_add_int_value (b, c->rule_a);
    json_builder_add_int_value (b, c->rule_b);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "valid");
    json_builder_add_boolean_value (b, c->valid);
    if (c->valid)
      add_temp (b, "value", c->value);
    json_builder_set_member_name (b, "state");
    json_builder_add_string_value (b, state_names[c->state]);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

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

static void
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

static gboolean
sse_keepalive (gpointer user_data)
{
  TcdHttp *h = user_data;

  for (GList *l = h->sse; l; l = l->next)
    sse_write (h, l->data, ": keepalive\n\n");
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
  {
    gdouble lo, hi;
    reading_range (h, &lo, &hi);
    r = tcd_reading_from_sample (s, lo, hi);
  }
  gst_sample_unref (s);
  if (r)
    tcd_http_broadcast (h, "measurement", r);
  return G_SOURCE_CONTINUE;
}

static void
handle_events (TcdHttp *h, SoupServerMessage *msg)
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
  g_signal_connect (msg, "finished", G_CALLBACK (sse_finished), h);
  g_signal_connect (msg, "wrote-body-data", G_CALLBACK (stream_wrote), c);
  /* a stream has no deadline: a slow reader is dropped by its backlog */
  tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg), 0);
  sse_write (h, c, ": thermocamd events: measurement, alarm, exception, config, output, "
      "burning, capture, delivery\n\n");
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
    head = g_strdup_printf ("--" BOUNDARY "\r\nContent-Type: image/jpeg\r\n"
        "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n", map.size);
    gint64 now = g_get_monotonic_time ();
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
handle_live (TcdHttp *h, SoupServerMessage *msg, GHashTable *query)
{
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

static JsonNode *redacted (JsonNode *node, const gchar *section);
static void keep_receiver_passwords (TcdConfig *cfg, JsonNode *patch);
static void bind_password (TcdConfig *cfg, const gchar *section, JsonNode *patch);

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

  if (!tcd_app_change_config (h->app, doc, what, who_user (msg), address_of (msg), &field,
          &err)) {
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
    g_autoptr (JsonNode) shown = redacted (tcd_config_get (cfg), NULL);
    send_json (msg, SOUP_STATUS_OK, shown);
    return;
  }
  if (!tcd_config_has_section (cfg, section)) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "section",
        "no configuration section \"%s\"", section);
    return;
  }
  if (g_str_equal (method, "GET")) {
    g_autoptr (JsonNode) shown = redacted (tcd_config_get_section (cfg, section), section);
    if (g_str_equal (section, "ports"))
      tcd_app_describe_ports (h->app, shown);
    send_json (msg, SOUP_STATUS_OK, shown);
    return;
  }
  if (!g_str_equal (method, "PUT"))
    return method_not_allowed (msg, "GET, PUT");
  if (!(patch = read_body (msg)))
    return;
  if (g_str_equal (section, "ports"))
    tcd_app_ports_patch (patch);
  if (g_str_equal (section, "center"))
    keep_receiver_passwords (cfg, patch);
  else if (g_str_equal (section, "ftp") || g_str_equal (section, "email"))
    bind_password (cfg, section, patch);
  doc = tcd_config_patched (cfg, section, patch);
  {
    g_autofree gchar *what = g_strdup_printf ("config.%s", section);
    /* the answer is the section as it now is: computed after the change */
    g_autoptr (GError) err = NULL;
    g_autofree gchar *field = NULL;
    if (!tcd_app_change_config (h->app, doc, what, who_user (msg), address_of (msg), &field,
            &err)) {
      if (g_error_matches (err, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_IO))
        send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
      else
        send_invalid (msg, err, field);
      return;
    }
    {
      g_autoptr (JsonNode) shown = redacted (tcd_config_get_section (cfg, section), section);
      if (g_str_equal (section, "ports"))
        tcd_app_describe_ports (h->app, shown);
      send_json (msg, SOUP_STATUS_OK, shown);
    }
  }
}

static gint
find_rule (JsonArray *rules, gint64 id)
{
  for (guint i = 0; i < json_array_get_length (rules); i++) {
    JsonObject *r = tc_json_array_get_object (rules, i);
    if (r && tc_json_get_int (r, "id", -1) == id)
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
      JsonArray *pair = tc_json_get_array (tc_json_array_get_object (cmps, i),
          "rules");
      for (guint k = 0; pair && k < json_array_get_length (pair); k++)
        if (tc_json_array_get_int (pair, k, 0) == id) {
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
    JsonNode *given = json_object_get_member (o, "id");
    gint64 new_id;

    for (guint i = 0; i < json_array_get_length (rules); i++)
      max = MAX (max, tc_json_get_int
          (tc_json_array_get_object (rules, i), "id", 0));
    new_id = max + 1;
    rule = tcd_json_deep_copy (body);
    if (given && JSON_NODE_HOLDS_VALUE (given)
        && json_node_get_value_type (given) == G_TYPE_INT64) {
      /* a free id is kept (a rule written as the README's); the schema
       * checks its range */
      new_id = json_node_get_int (given);
      if (find_rule (rules, new_id) >= 0) {
        json_node_unref (doc);
        json_node_unref (rule);
        send_error (msg, SOUP_STATUS_CONFLICT, "exists", "id", "id: rule %" G_GINT64_FORMAT
            " exists (PUT /api/v1/rules/%" G_GINT64_FORMAT " changes it; leave id out for a"
            " new one)", new_id, new_id);
        return;
      }
    } else if (!given) {
      json_object_set_int_member (json_node_get_object (rule), "id", new_id);
    }
    /* else a wrong id stays for the schema to name */
    if (!json_object_has_member (json_node_get_object (rule), "enabled"))
      json_object_set_boolean_member (json_node_get_object (rule), "enabled", TRUE);
    json_array_add_element (new_rules, json_node_ref (rule));
    {
      g_autofree gchar *loc = g_strdup_printf (API "rules/%" G_GINT64_FORMAT, new_id);
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
            || tc_json_get_int (o, "id", 0) != id)) {
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

/* a 24-bit uncompressed BMP of at most 128x128 (the manual's limits) */
static gboolean
picture_ok (const guint8 *d, gsize len, GError **error)
{
  gint32 w, hh;

  if (len < 54 || d[0] != 'B' || d[1] != 'M') {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the picture is not a BMP file");
    return FALSE;
  }
  w = (gint32) GST_READ_UINT32_LE (d + 18);
  hh = (gint32) GST_READ_UINT32_LE (d + 22);
  if (GST_READ_UINT16_LE (d + 28) != 24 || GST_READ_UINT32_LE (d + 30) != 0) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the picture must be a 24-bit uncompressed BMP");
    return FALSE;
  }
  if (w < 1 || w > 128 || ABS (hh) < 1 || ABS (hh) > 128
      || GST_READ_UINT32_LE (d + 10) + (gsize) ((w * 3 + 3) & ~3) * ABS (hh) > len) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the picture must be 1x1 to 128x128 pixels and complete (got %dx%d)", w, ABS (hh));
    return FALSE;
  }
  return TRUE;
}

static void
handle_picture (TcdHttp *h, SoupServerMessage *msg, const gchar *method)
{
  g_autofree gchar *path = g_build_filename (h->app->state_dir, "overlay.bmp", NULL);
  SoupMessageBody *body;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) err = NULL;
  const guint8 *d;
  gsize len;

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
  if (!picture_ok (d, len, &err)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "picture", "%s", err->message);
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
    gdouble lo, hi;
    reading_range (h, &lo, &hi);
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
  json_builder_add_int_value (b, TCD_IO_CHANNELS);
  json_builder_set_member_name (b, "alarm_outputs");
  json_builder_add_int_value (b, TCD_IO_CHANNELS);
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
  tcd_audit (h->app->security, "user", "admin", address_of (msg),
      "activated: the account admin was created");
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
  json_builder_set_member_name (b, "challenges");
  json_builder_add_int_value (b, h->challenges);
  json_builder_set_member_name (b, "https_port");
  json_builder_add_int_value (b, h->tls_port);
  json_builder_set_member_name (b, "refused_connections");
  json_builder_add_int_value (b, h->refused);
  json_builder_set_member_name (b, "sessions");
  json_builder_add_int_value (b, g_hash_table_size (h->sessions));
  json_builder_set_member_name (b, "event_listeners");
  json_builder_add_int_value (b, g_list_length (h->sse));
  json_builder_set_member_name (b, "live_views");
  json_builder_add_int_value (b, g_list_length (h->mjpeg));
  json_builder_set_member_name (b, "streams_dropped");
  json_builder_add_int_value (b, h->streams_dropped);
  {
    TcdConnsStats st;
    tcd_conns_get_stats (h->conns, &st);
    json_builder_set_member_name (b, "connections");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "open");
    json_builder_add_int_value (b, st.open);
    json_builder_set_member_name (b, "accepted");
    json_builder_add_int_value (b, st.accepted);
    json_builder_set_member_name (b, "over_limit");
    json_builder_add_int_value (b, st.over_limit);
    json_builder_set_member_name (b, "timed_out");
    json_builder_add_int_value (b, st.timed_out);
    json_builder_set_member_name (b, "no_descriptors");
    json_builder_add_int_value (b, st.no_descriptors);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void certificate_changed (TcdHttp *h);

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
    json_builder_add_int_value (b, tcd_services_get_restarts (app->services));
    json_builder_set_member_name (b, "pipeline");
    json_builder_add_value (b, tcd_pipeline_stats (app->pipeline));
    {
      /* every service of the table: "rtsp", "http", "modbus", ... */
      g_autoptr (JsonNode) services = tcd_services_stats (app->services);
      JsonObject *so = json_node_get_object (services);
      g_autoptr (GList) names = json_object_get_members (so);
      for (GList *l = names; l; l = l->next) {
        json_builder_set_member_name (b, l->data);
        json_builder_add_value (b, json_node_ref (json_object_get_member (so, l->data)));
      }
    }
    json_builder_set_member_name (b, "events");
    json_builder_add_value (b, tcd_events_state (app->events));
    {
      guint queued;
      guint64 lost;
      gsize reserve;

      tcd_audit_status (app->security, &queued, &lost, &reserve);
      json_builder_set_member_name (b, "audit");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "queued");
      json_builder_add_int_value (b, queued);
      json_builder_set_member_name (b, "lost");
      json_builder_add_int_value (b, lost);
      json_builder_set_member_name (b, "reserve_bytes");
      json_builder_add_int_value (b, reserve);
      json_builder_end_object (b);
    }
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
    tcd_audit (app->security, "reboot", who_user (msg), address_of (msg), "reboot requested");
    tcd_app_schedule_reboot (app);
    soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
        "{\"rebooting\": true}", 19);
  } else if (g_strcmp0 (what, "ffc") == 0) {
    tcd_audit (app->security, "system", who_user (msg), address_of (msg),
        "flat-field correction");
    tcd_pipeline_ffc (app->pipeline);
    soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
        "{\"correcting\": true}", 20);
  } else if (g_strcmp0 (what, "restore") == 0 || g_strcmp0 (what, "default") == 0) {
    gboolean restore = g_str_equal (what, "restore");
    JsonNode *doc = tcd_config_defaults (app->config, restore);
    g_autoptr (GError) err = NULL;
    g_autofree gchar *field = NULL;

    if (!tcd_app_change_config (app, doc, what, who_user (msg), address_of (msg), &field,
            &err)) {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", field, "%s", err->message);
      return;
    }
    if (!restore) {
      g_autofree gchar *picture = g_build_filename (app->state_dir, "overlay.bmp", NULL);
      guint captures, recordings;

      drop_sessions (h, NULL);
      if (!tcd_users_reset (app->users, &err)) {
        send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
        return;
      }
      tcd_app_users_changed (app);
      /* factory state (manual 10.5): what the device was given or made goes
       * too; the audit log, the serial number and the calibration stay */
      if (tcd_record_is_recording (tcd_events_get_record (app->events)))
        tcd_record_stop (tcd_events_get_record (app->events));
      captures = tcd_store_clear (tcd_events_get_captures (app->events));
      recordings = tcd_store_clear (tcd_events_get_recordings (app->events));
      if (!tcd_certs_delete (app->state_dir, &err)) {
        send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
        return;
      }
      certificate_changed (h);
      if (unlink (picture) == 0)
        tcd_pipeline_reload_picture (app->pipeline);
      tcd_audit (app->security, "system", who_user (msg), address_of (msg),
          "factory default: everything reset, users, certificate, overlay picture, %u"
          " captures and %u recordings removed", captures, recordings);
    } else {
      tcd_audit (app->security, "system", who_user (msg), address_of (msg),
          "restored the defaults (ports, security and users kept)");
    }
    {
      g_autoptr (JsonNode) shown = redacted (tcd_config_get (app->config), NULL);
      send_json (msg, SOUP_STATUS_OK, shown);
    }
  } else {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no such route");
  }
}

/* ---- who may ask ---- */

static void
who_free (Who *w)
{
  g_free (w->user);
  g_free (w->address);
  g_free (w);
}

static Who *
who_of (SoupServerMessage *msg)
{
  return g_object_get_data (G_OBJECT (msg), "tcd-who");
}

static const gchar *
address_of (SoupServerMessage *msg)
{
  const gchar *a = soup_server_message_get_remote_host (msg);
  /* an IPv4 client on a dual-stack socket */
  if (a && g_str_has_prefix (a, "::ffff:") && strchr (a, '.'))
    a += 7;
  return a ? a : "unknown";
}

static void
session_free (Session *s)
{
  g_free (s->user);
  g_free (s->csrf);
  g_free (s);
}

static gchar *
random_token (void)
{
  guint8 r[24];
  gchar *s = g_malloc (2 * sizeof r + 1);

  RAND_bytes (r, sizeof r);
  for (guint i = 0; i < sizeof r; i++)
    g_snprintf (s + 2 * i, 3, "%02x", r[i]);
  return s;
}

/* ends a stream (events, live view): its answer is complete */
static void
end_stream (SoupServerMessage *msg)
{
  soup_message_body_complete (soup_server_message_get_response_body (msg));
  soup_server_message_unpause (msg);
}

/* Ends the streams opened by @user (all when @everyone) and, with
 * @filtered, those of addresses the IP filter now refuses: a stream is
 * not let go on once its account or its address may no longer see it. */
static void
end_streams (TcdHttp *h, const gchar *user, gboolean everyone, gboolean filtered)
{
  gboolean viewers = FALSE;

  for (guint k = 0; k < 2; k++) {
    GList *l = k ? h->mjpeg : h->sse;
    while (l) {
      GList *next = l->next;
      StreamClient *c = l->data;
      SoupServerMessage *msg = c->msg;
      Who *who = who_of (msg);
      if (everyone || (user && who && g_strcmp0 (who->user, user) == 0)
          || (filtered && !tcd_security_address_allowed_str (h->app->security,
                  address_of (msg)))) {
        /* off the list at once: nothing more is written to it */
        if (k) {
          h->mjpeg = g_list_delete_link (h->mjpeg, l);
          g_signal_handlers_disconnect_by_data (msg, c);
          g_signal_handlers_disconnect_by_func (msg, mjpeg_finished, h);
          g_free (c);
          viewers = TRUE;
        } else {
          h->sse = g_list_delete_link (h->sse, l);
          g_signal_handlers_disconnect_by_data (msg, c);
          g_signal_handlers_disconnect_by_func (msg, sse_finished, h);
          g_free (c);
        }
        end_stream (msg);
        g_object_unref (msg);
      }
      l = next;
    }
  }
  if (viewers)
    mjpeg_update_viewers (h);
}

void
tcd_http_security_changed (TcdHttp *h)
{
  end_streams (h, NULL, FALSE, TRUE);
}

/* the sessions (and streams) of @user, or everyone's: its password or
 * level changed, it was deleted, the accounts were replaced */
static void
drop_sessions (TcdHttp *h, const gchar *user)
{
  GHashTableIter it;
  Session *s;

  g_hash_table_iter_init (&it, h->sessions);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & s))
    if (!user || g_str_equal (s->user, user))
      g_hash_table_iter_remove (&it);
  end_streams (h, user, user == NULL, FALSE);
}

void
tcd_http_reset (TcdHttp *h)
{
  drop_sessions (h, NULL);
  certificate_changed (h);
}

static Session *
find_session (TcdHttp *h, SoupServerMessage *msg)
{
  const gchar *cookie = soup_message_headers_get_list (
      soup_server_message_get_request_headers (msg), "Cookie");
  g_autoptr (GHashTable) params = NULL;
  const gchar *v;
  Session *s;

  if (!cookie)
    return NULL;
  params = soup_header_parse_semi_param_list (cookie);
  v = g_hash_table_lookup (params, SESSION_COOKIE);
  if (!v || !(s = g_hash_table_lookup (h->sessions, v)))
    return NULL;
  /* a session made over HTTPS is not good over plain HTTP, where anyone on
   * the way could have read its cookie (and one made over HTTP not over
   * HTTPS: the page logs in again) */
  if (s->tls != is_tls (h, msg))
    return NULL;
  if (g_get_monotonic_time () > s->expires
      || tcd_users_get_level (h->app->users, s->user) == TCD_LEVEL_NONE) {
    g_hash_table_remove (h->sessions, v);
    return NULL;
  }
  return s;
}

/* ---- linkage: alarm I/O, event state, tests, captures, recordings ---- */

/* Secrets are write-only: a configuration as the API shows it */
static JsonNode *
redacted (JsonNode *node, const gchar *section)
{
  JsonNode *copy = tcd_json_deep_copy (node);
  static const gchar *const secret[] = { "ftp", "email", NULL };

  for (guint i = 0; secret[i]; i++) {
    JsonNode *s = section ? (g_str_equal (section, secret[i]) ? copy : NULL)
        : tcd_config_node (copy, secret[i]);
    if (s && JSON_NODE_HOLDS_OBJECT (s))
      json_object_remove_member (json_node_get_object (s), "password");
  }
  {
    JsonNode *c = section ? (g_str_equal (section, "center") ? copy : NULL)
        : tcd_config_node (copy, "center");
    JsonNode *rs = c && JSON_NODE_HOLDS_OBJECT (c)
        ? json_object_get_member (json_node_get_object (c), "receivers") : NULL;
    for (guint i = 0; rs && JSON_NODE_HOLDS_ARRAY (rs)
        && i < json_array_get_length (json_node_get_array (rs)); i++) {
      JsonNode *r = json_array_get_element (json_node_get_array (rs), i);
      if (JSON_NODE_HOLDS_OBJECT (r))
        json_object_remove_member (json_node_get_object (r), "password");
    }
  }
  return copy;
}

/* An FTP or SMTP password belongs to its server and user: a change of
 * those without a new password empties it, so that a stored password is
 * never sent to another server (a test route or a PUT could otherwise send
 * the administrator's password wherever an operator points it) */
static void
bind_password (TcdConfig *cfg, const gchar *section, JsonNode *patch)
{
  static const gchar *const keys[] = { "server", "port", "user", NULL };
  JsonNode *cur = tcd_config_get_section (cfg, section);
  JsonObject *p, *c;

  if (!JSON_NODE_HOLDS_OBJECT (patch) || !cur || !JSON_NODE_HOLDS_OBJECT (cur))
    return;
  p = json_node_get_object (patch);
  c = json_node_get_object (cur);
  if (json_object_has_member (p, "password"))
    return;
  for (guint i = 0; keys[i]; i++)
    if (json_object_has_member (p, keys[i])
        && !tc_json_equal (json_object_get_member (p, keys[i]),
            json_object_get_member (c, keys[i]))) {
      json_object_set_string_member (p, "password", "");
      return;
    }
}

/* A center receiver sent back without its (write-only) password keeps the
 * one it had, if it is the same receiver (URL and user) */
static void
keep_receiver_passwords (TcdConfig *cfg, JsonNode *patch)
{
  JsonNode *old = tcd_config_node (tcd_config_get (cfg), "center.receivers");
  JsonNode *rs = JSON_NODE_HOLDS_OBJECT (patch)
      ? json_object_get_member (json_node_get_object (patch), "receivers") : NULL;

  if (!old || !rs || !JSON_NODE_HOLDS_ARRAY (rs))
    return;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (rs)); i++) {
    JsonNode *r = json_array_get_element (json_node_get_array (rs), i);
    JsonObject *ro;
    if (!JSON_NODE_HOLDS_OBJECT (r) || json_object_has_member (ro = json_node_get_object (r),
            "password"))
      continue;
    for (guint k = 0; k < json_array_get_length (json_node_get_array (old)); k++) {
      JsonObject *o = tc_json_array_get_object (json_node_get_array (old), k);
      if (g_strcmp0 (tc_json_get_string (o, "url", ""),
              tc_json_get_string (ro, "url", "")) == 0
          && g_strcmp0 (tc_json_get_string (o, "user", ""),
              tc_json_get_string (ro, "user", "")) == 0
          && json_object_has_member (o, "password")) {
        json_object_set_string_member (ro, "password",
            tc_json_get_string (o, "password", NULL));
        break;
      }
    }
  }
}

static gboolean
parse_channel (SoupServerMessage *msg, const gchar *s, guint *id)
{
  gchar *end;
  guint64 v = g_ascii_strtoull (s, &end, 10);

  if (*end || v < 1 || v > TCD_IO_CHANNELS) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "id", "no channel %s (1..%d)", s,
        TCD_IO_CHANNELS);
    return FALSE;
  }
  *id = v;
  return TRUE;
}

static void
send_io (TcdHttp *h, SoupServerMessage *msg)
{
  g_autoptr (JsonNode) st = tcd_alarmio_status (tcd_events_get_io (h->app->events));
  send_json (msg, SOUP_STATUS_OK, st);
}

static void
handle_io (TcdHttp *h, SoupServerMessage *msg, const gchar *method, gchar **seg, guint n)
{
  TcdAlarmIo *io = tcd_events_get_io (h->app->events);
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) body = NULL;
  guint id;

  if (n == 1) {
    if (!g_str_equal (method, "GET"))
      return method_not_allowed (msg, "GET");
    return send_io (h, msg);
  }
  if (n == 2 && g_str_equal (seg[1], "network")) {
    static const gchar *const allowed[] = { "link", "ip_conflict", NULL };
    JsonObject *o;
    gint link = -1, conflict = -1;
    g_autoptr (GList) members = NULL;

    if (!g_str_equal (method, "PUT"))
      return method_not_allowed (msg, "PUT");
    if (!(body = read_body (msg)))
      return;
    if (!JSON_NODE_HOLDS_OBJECT (body)) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "expected a JSON object");
      return;
    }
    o = json_node_get_object (body);
    members = json_object_get_members (o);
    for (GList *l = members; l; l = l->next)
      if (!g_strv_contains (allowed, l->data)) {
        send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: unknown field",
            (gchar *) l->data);
        return;
      }
    if (json_object_has_member (o, "link")) {
      const gchar *v = tc_json_get_string (o, "link", "");
      if (!g_str_equal (v, "up") && !g_str_equal (v, "down")) {
        send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "link",
            "link: \"up\" or \"down\"");
        return;
      }
      link = g_str_equal (v, "up");
    }
    if (json_object_has_member (o, "ip_conflict")) {
      JsonNode *v = json_object_get_member (o, "ip_conflict");
      if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_BOOLEAN) {
        send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "ip_conflict",
            "ip_conflict: true or false");
        return;
      }
      conflict = json_node_get_boolean (v);
    }
    tcd_events_simulate_network (h->app->events, link, conflict);
    {
      g_autoptr (JsonNode) st = tcd_events_state (h->app->events);
      send_json (msg, SOUP_STATUS_OK, tcd_config_node (st, "network"));
    }
    return;
  }
  if (n == 3 && g_str_equal (seg[1], "inputs")) {
    const gchar *contact;

    if (!parse_channel (msg, seg[2], &id))
      return;
    if (!g_str_equal (method, "PUT"))
      return method_not_allowed (msg, "PUT");
    if (!(body = read_body (msg)))
      return;
    contact = JSON_NODE_HOLDS_OBJECT (body) ? tc_json_get_string (
        json_node_get_object (body), "contact", NULL) : NULL;
    if (!contact || (!g_str_equal (contact, "open") && !g_str_equal (contact, "closed"))
        || json_object_get_size (json_node_get_object (body)) != 1) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "contact",
          "expected {\"contact\": \"open\" | \"closed\"}");
      return;
    }
    if (!tcd_alarmio_set_contact (io, id, g_str_equal (contact, "closed"), &err)) {
      send_error (msg, SOUP_STATUS_CONFLICT, "not_simulated", NULL, "%s", err->message);
      return;
    }
    return send_io (h, msg);
  }
  if (n == 4 && g_str_equal (seg[1], "outputs")
      && (g_str_equal (seg[3], "trigger") || g_str_equal (seg[3], "clear"))) {
    gboolean trigger = g_str_equal (seg[3], "trigger");

    if (!parse_channel (msg, seg[2], &id))
      return;
    if (!g_str_equal (method, "POST"))
      return method_not_allowed (msg, "POST");
    if (trigger)
      tcd_alarmio_trigger (io, id, NULL);
    else
      tcd_alarmio_clear (io, id, NULL);
    tcd_audit (h->app->security, "system", who_user (msg), address_of (msg),
        "alarm output %u %s by hand", id, trigger ? "triggered" : "cleared");
    return send_io (h, msg);
  }
  send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no such I/O route");
}

/* POST /events/schedule-copy {"source", "from", "to": [...]} */
static const gchar *
schedule_path (const gchar *source, gchar **owned)
{
  static const gchar *const fixed[][2] = {
    {"scene", "events.scene"}, {"rules", "events.rules"},
    {"comparisons", "events.comparisons"}, {"environment", "environment_alarm"},
    {"timed_capture", "capture.timed"},
  };
  gchar *end;
  guint64 id;

  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    if (g_str_equal (source, fixed[i][0]))
      return fixed[i][1];
  if (g_str_has_prefix (source, "input-") || g_str_has_prefix (source, "output-")) {
    gboolean in = source[0] == 'i';
    id = g_ascii_strtoull (source + (in ? 6 : 7), &end, 10);
    if (!*end && id >= 1 && id <= TCD_IO_CHANNELS)
      return *owned = g_strdup_printf ("%s%" G_GUINT64_FORMAT, in ? "alarm_inputs.inputs#"
          : "alarm_outputs.outputs#", id);
  }
  return NULL;
}

static void
handle_schedule_copy (TcdHttp *h, SoupServerMessage *msg, const gchar *method)
{
  g_autoptr (JsonNode) body = NULL, copied = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *owned = NULL, *field = NULL;
  g_autofree const gchar **to = NULL;
  const gchar *source, *from, *path;
  JsonObject *o, *owner = NULL;
  JsonArray *ta;
  JsonNode *doc;

  if (!g_str_equal (method, "POST"))
    return method_not_allowed (msg, "POST");
  if (!(body = read_body (msg)))
    return;
  o = JSON_NODE_HOLDS_OBJECT (body) ? json_node_get_object (body) : NULL;
  source = o ? tc_json_get_string (o, "source", NULL) : NULL;
  from = o ? tc_json_get_string (o, "from", NULL) : NULL;
  ta = o && json_object_has_member (o, "to")
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "to"))
      ? tc_json_get_array (o, "to") : NULL;
  if (!source || !(path = schedule_path (source, &owned))) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "source", "source: one of scene, "
        "rules, comparisons, environment, timed_capture, input-N, output-N");
    return;
  }
  if (!from || !ta) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", from ? "to" : "from",
        "expected {\"source\": ..., \"from\": \"monday\", \"to\": [\"tuesday\", ...]}");
    return;
  }
  to = g_new0 (const gchar *, json_array_get_length (ta) + 1);
  for (guint i = 0; i < json_array_get_length (ta); i++) {
    JsonNode *v = json_array_get_element (ta, i);
    if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "to", "to: weekday names");
      return;
    }
    to[i] = json_node_get_string (v);
  }
  doc = tcd_json_deep_copy (tcd_config_get (h->app->config));
  if (strchr (path, '#')) {
    g_auto (GStrv) parts = g_strsplit (path, "#", 2);
    JsonArray *a = json_node_get_array (tcd_config_node (doc, parts[0]));
    for (guint i = 0; i < json_array_get_length (a); i++)
      if (tc_json_get_int (tc_json_array_get_object (a, i), "id", 0)
          == g_ascii_strtoll (parts[1], NULL, 10))
        owner = tc_json_array_get_object (a, i);
  } else {
    owner = json_node_get_object (tcd_config_node (doc, path));
  }
  if (!owner || !(copied = tcd_schedule_copy_day (json_object_get_member (owner, "schedule"),
              from, to, &err))) {
    json_node_unref (doc);
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", err && strstr (err->message, "to:")
        == err->message ? "to" : "from", "%s", err ? err->message : "no such source");
    return;
  }
  json_object_set_member (owner, "schedule", json_node_ref (copied));
  {
    g_autofree gchar *what = g_strdup_printf ("schedule of %s: %s copied", source, from);
    if (!tcd_app_change_config (h->app, doc, what, who_user (msg), address_of (msg), &field,
            &err)) {
      send_invalid (msg, err, field);
      return;
    }
  }
  send_json (msg, SOUP_STATUS_OK, copied);
}

typedef struct {
  SoupServerMessage *msg;
  gchar *what;
} TestReq;

static void
settings_tested (GError *error, gpointer user_data)
{
  TestReq *t = user_data;

  if (error) {
    send_error (t->msg, SOUP_STATUS_BAD_GATEWAY, "transfer_failed", NULL, "%s",
        error->message);
  } else {
    g_autoptr (JsonNode) ok = tc_json_parse ("{\"ok\": true}", -1, 0, NULL);
    send_json (t->msg, SOUP_STATUS_OK, ok);
  }
  soup_server_message_unpause (t->msg);
  g_object_unref (t->msg);
  g_free (t->what);
  g_free (t);
}

/* POST /ftp/test, /email/test, /center/test: the saved settings, or the
 * body (a patch of the section, as a PUT would send) before saving them */
static void
handle_test (TcdHttp *h, SoupServerMessage *msg, const gchar *method, const gchar *what)
{
  SoupMessageBody *rb = soup_server_message_get_request_body (msg);
  g_autoptr (JsonNode) body = NULL, doc = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *field = NULL;
  TestReq *t;

  if (!g_str_equal (method, "POST"))
    return method_not_allowed (msg, "POST");
  if (rb->length > 0) {
    if (!(body = read_body (msg)))
      return;
    if (g_str_equal (what, "center"))
      keep_receiver_passwords (h->app->config, body);
    else
      bind_password (h->app->config, what, body);
    doc = tcd_config_patched (h->app->config, what, body);
    if (!tcd_config_check (h->app->config, doc, &field, &err)) {
      send_invalid (msg, err, field);
      return;
    }
  }
  t = g_new0 (TestReq, 1);
  t->msg = g_object_ref (msg);
  t->what = g_strdup (what);
  soup_server_message_pause (msg);
  tcd_events_test (h->app->events, what, doc ? tcd_config_node (doc, what) : NULL,
      settings_tested, t);
}

/* a stored file, mapped rather than read */
static void
send_stored (SoupServerMessage *msg, TcdStore *store, const gchar *name)
{
  g_autofree gchar *path = tcd_store_path (store, name);
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree gchar *disp = NULL;
  const gchar *type = g_str_has_suffix (name, ".mp4") ? "video/mp4"
      : g_str_has_suffix (name, ".bmp") ? "image/bmp" : "image/jpeg";

  if (!path || !(map = g_mapped_file_new (path, FALSE, NULL))) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "name", "no file \"%s\"", name);
    return;
  }
  bytes = g_mapped_file_get_bytes (map);
  disp = g_strdup_printf ("attachment; filename=\"%s\"", name);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Content-Disposition", disp);
  soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg), type,
      NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), bytes);
}

static void
handle_files (TcdHttp *h, SoupServerMessage *msg, const gchar *method, TcdStore *store,
    const gchar *name)
{
  g_autoptr (GError) err = NULL;

  if (!name) {
    g_autoptr (JsonNode) list = tcd_store_list (store);
    if (!g_str_equal (method, "GET"))
      return method_not_allowed (msg, "GET");
    send_json (msg, SOUP_STATUS_OK, list);
    return;
  }
  if (g_str_equal (method, "GET"))
    return send_stored (msg, store, name);
  if (!g_str_equal (method, "DELETE"))
    return method_not_allowed (msg, "GET, DELETE");
  if (!tcd_store_delete (store, name, &err)) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "name", "%s", err->message);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
captured (GPtrArray *pictures, gpointer user_data)
{
  SoupServerMessage *msg = user_data;
  TcdPicture *first = pictures->len ? g_ptr_array_index (pictures, 0) : NULL;

  if (!first) {
    send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no_frame", NULL,
        "no picture could be taken: the sensor is starting");
  } else if (!first->stored) {
    /* nothing was kept (the store leaves no part of it): no 201 */
    GError *e = first->store_error;
    if (e && g_error_matches (e, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
      send_error (msg, SOUP_STATUS_INSUFFICIENT_STORAGE, "storage_full", NULL,
          "the picture could not be stored: the disk is full (%s)", e->message);
    else
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "storage_error", NULL,
          "the picture could not be stored: %s",
          e ? e->message : "the store is not available");
  } else {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    TcdPicture *p = g_ptr_array_index (pictures, 0);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, p->name);
    json_builder_set_member_name (b, "size");
    json_builder_add_int_value (b, g_bytes_get_size (p->data));
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    send_json (msg, SOUP_STATUS_CREATED, root);
  }
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

/* GET /captures, POST /captures (a manual capture with capture.event's
 * picture settings, or the body's {"format", "resolution", "quality"}) */
static void
handle_captures (TcdHttp *h, SoupServerMessage *msg, const gchar *method, const gchar *name)
{
  TcdStore *store = tcd_events_get_captures (h->app->events);
  g_autoptr (JsonNode) body = NULL, picture = NULL;

  if (name)
    return handle_files (h, msg, method, store, name);
  if (g_str_equal (method, "GET"))
    return handle_files (h, msg, method, store, NULL);
  if (!g_str_equal (method, "POST"))
    return method_not_allowed (msg, "GET, POST");
  picture = tcd_json_deep_copy (tcd_config_node (tcd_config_get (h->app->config),
          "capture.event.picture"));
  if (soup_server_message_get_request_body (msg)->length > 0) {
    g_autoptr (JsonNode) merged = NULL, patch = NULL, doc = NULL;
    g_autoptr (GError) err = NULL;
    g_autofree gchar *field = NULL;
    if (!(body = read_body (msg)))
      return;
    /* checked as capture.event.picture would be */
    patch = tc_json_parse ("{\"event\": {}}", -1, 0, NULL);
    json_object_set_member (json_node_get_object (json_object_get_member (
                json_node_get_object (patch), "event")), "picture", json_node_ref (body));
    doc = tcd_config_patched (h->app->config, "capture", patch);
    if (!tcd_config_check (h->app->config, doc, &field, &err)) {
      send_invalid (msg, err, field);
      return;
    }
    merged = tcd_json_deep_copy (tcd_config_node (doc, "capture.event.picture"));
    json_node_unref (picture);
    picture = g_steal_pointer (&merged);
  }
  soup_server_message_pause (msg);
  tcd_capture_take (tcd_events_get_capture (h->app->events), picture, 1, 0, "manual", TRUE,
      captured, g_object_ref (msg));
}

static void
handle_recording (TcdHttp *h, SoupServerMessage *msg, const gchar *method, const gchar *action)
{
  TcdRecord *r = tcd_events_get_record (h->app->events);
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) st = NULL;

  if (!action) {
    if (!g_str_equal (method, "GET"))
      return method_not_allowed (msg, "GET");
  } else if (!g_str_equal (method, "POST")) {
    return method_not_allowed (msg, "POST");
  } else if (g_str_equal (action, "start")) {
    if (!tcd_record_start (r, tcd_config_get (h->app->config), &err)) {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "recording_failed", NULL, "%s",
          err->message);
      return;
    }
    tcd_audit (h->app->security, "system", who_user (msg), address_of (msg),
        "recording started");
  } else if (g_str_equal (action, "stop")) {
    tcd_record_stop (r);
    tcd_audit (h->app->security, "system", who_user (msg), address_of (msg),
        "recording stopped");
  } else {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no route recording/%s", action);
    return;
  }
  st = tcd_record_status (r);
  send_json (msg, SOUP_STATUS_OK, st);
}

/* The level a route needs (schemas/openapi.yaml says the same with
 * x-permission; tests/appliance/test_openapi.py keeps them in step) */
static TcdLevel
route_level (const gchar *method, gchar **seg, guint n)
{
  gboolean get = g_str_equal (method, "GET");

  if (n == 0)
    return TCD_LEVEL_USER;
  if (n == 1 && g_str_equal (seg[0], "activate"))
    return TCD_LEVEL_NONE;
  if (n == 1 && g_str_equal (seg[0], "session"))
    return g_str_equal (method, "POST") ? TCD_LEVEL_NONE : TCD_LEVEL_USER;
  /* live view: what a user may do */
  if (n == 1 && (g_str_equal (seg[0], "device") || g_str_equal (seg[0], "temperatures")
          || g_str_equal (seg[0], "snapshot") || g_str_equal (seg[0], "events")
          || g_str_equal (seg[0], "live.mjpeg") || g_str_equal (seg[0], "openapi.yaml")))
    return TCD_LEVEL_USER;
  if (g_str_equal (seg[0], "schema"))
    return TCD_LEVEL_USER;
  if (g_str_equal (seg[0], "users"))
    /* one's own account: the handler checks it is one's own */
    return n == 2 && (get || g_str_equal (method, "PUT"))
        ? TCD_LEVEL_USER : TCD_LEVEL_ADMINISTRATOR;
  if (g_str_equal (seg[0], "config") && n == 1 && !get)
    return TCD_LEVEL_ADMINISTRATOR;
  /* what touches the accounts (manual 10.13: an operator may do all but
   * operations on the administrator and the accounts): the factory default
   * removes them, an export carries their hashes, an import replaces them */
  if (g_str_equal (seg[0], "system") && n >= 2
      && (g_str_equal (seg[1], "default") || g_str_equal (seg[1], "config-export")
          || g_str_equal (seg[1], "config-import")))
    return TCD_LEVEL_ADMINISTRATOR;
  return TCD_LEVEL_OPERATOR;
}

static gboolean
changes_state (const gchar *method)
{
  return !g_str_equal (method, "GET") && !g_str_equal (method, "HEAD")
      && !g_str_equal (method, "OPTIONS");
}

/* a browser sending a request for another site's page */
static gboolean
cross_site (SoupServerMessage *msg)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  const gchar *site = soup_message_headers_get_one (hdrs, "Sec-Fetch-Site");
  const gchar *origin = soup_message_headers_get_one (hdrs, "Origin");
  const gchar *host = soup_message_headers_get_one (hdrs, "Host");
  g_autoptr (GUri) o = NULL;
  g_autofree gchar *ohost = NULL;

  if (site && (g_str_equal (site, "cross-site") || g_str_equal (site, "same-site")))
    return TRUE;
  if (!origin)
    return FALSE;               /* not a browser, or a same-origin GET-like request */
  if (g_str_equal (origin, "null") || !host)
    return TRUE;
  o = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  if (!o || !g_uri_get_host (o))
    return TRUE;
  ohost = g_uri_get_port (o) > 0
      ? g_strdup_printf ("%s:%d", g_uri_get_host (o), g_uri_get_port (o))
      : g_strdup (g_uri_get_host (o));
  /* Host carries the port unless it is the scheme's default */
  if (g_ascii_strcasecmp (ohost, host) == 0)
    return FALSE;
  if (g_uri_get_port (o) <= 0) {
    const gchar *colon = strrchr (host, ':');
    if (colon && g_ascii_strncasecmp (host, ohost, colon - host) == 0
        && strlen (ohost) == (gsize) (colon - host))
      return FALSE;
  }
  return TRUE;
}

/* "Digest username="x", ..." or "Basic base64" -> x, for the audit log */
static gchar *
claimed_user (const gchar *authorization)
{
  if (g_ascii_strncasecmp (authorization, "Basic ", 6) == 0) {
    gsize len;
    g_autofree guchar *dec = g_base64_decode (authorization + 6, &len);
    g_autofree gchar *s = g_strndup ((gchar *) dec, len);
    gchar *colon = strchr (s, ':');
    if (colon)
      *colon = '\0';
    return g_utf8_make_valid (s, -1);
  }
  if (g_ascii_strncasecmp (authorization, "Digest ", 7) == 0) {
    g_autoptr (GHashTable) p = soup_header_parse_param_list (authorization + 7);
    const gchar *u = g_hash_table_lookup (p, "username");
    return u ? g_utf8_make_valid (u, -1) : NULL;
  }
  return NULL;
}

/* ---- Digest nonces ----
 * libsoup checks a Digest response against the HA1 but not its nonce, so
 * the nonces are ours: the issue time and an HMAC of it under a key made at
 * start, good for NONCE_LIFE_US; each use must carry a higher nc than the
 * last (RFC 7616 3.3), so a captured Authorization header cannot be sent
 * again with another body.  A nonce we did not make, an old one or a
 * replayed nc gets a new challenge with stale=true (clients retry without
 * asking the user) and does not count as a failed login. */

static void
nonce_mac (TcdHttp *h, guint64 issued, gchar out[33])
{
  guint8 md[EVP_MAX_MD_SIZE];
  guint md_len = 0;
  guint8 t[8];

  for (guint i = 0; i < 8; i++)
    t[i] = issued >> (56 - 8 * i);
  HMAC (EVP_sha256 (), h->nonce_key, sizeof h->nonce_key, t, sizeof t, md, &md_len);
  for (guint i = 0; i < 16; i++)
    g_snprintf (out + 2 * i, 3, "%02x", md[i]);
}

static gchar *
nonce_new (TcdHttp *h)
{
  guint64 now = g_get_monotonic_time ();
  gchar mac[33];

  nonce_mac (h, now, mac);
  return g_strdup_printf ("%016" G_GINT64_MODIFIER "x%s", now, mac);
}

/* TRUE when @nonce is ours and fresh, and @nc_text is above every nc it
 * was used with before; *nc is that nc */
static gboolean
nonce_check (TcdHttp *h, const gchar *nonce, const gchar *nc_text, guint *nc)
{
  gint64 now = g_get_monotonic_time ();
  gchar mac[33], head[17], *end = NULL;
  guint64 issued, v;
  gpointer last;

  if (!nonce || strlen (nonce) != 48 || !nc_text)
    return FALSE;
  g_strlcpy (head, nonce, sizeof head);
  issued = g_ascii_strtoull (head, &end, 16);
  if (end != head + 16 || (gint64) issued > now || now - (gint64) issued > NONCE_LIFE_US
      || (gint64) issued <= h->nonce_floor)
    return FALSE;
  nonce_mac (h, issued, mac);
  if (CRYPTO_memcmp (mac, nonce + 16, 32) != 0)
    return FALSE;
  v = g_ascii_strtoull (nc_text, &end, 16);
  if (*end || end == nc_text || v == 0 || v > G_MAXUINT32)
    return FALSE;
  if (g_hash_table_lookup_extended (h->nonces, nonce, NULL, &last)
      && v <= GPOINTER_TO_UINT (last))
    return FALSE;               /* a replay */
  *nc = v;
  return TRUE;
}

/* after a good login: @nc is the highest of @nonce now */
static void
nonce_record (TcdHttp *h, const gchar *nonce, guint nc)
{
  gint64 now = g_get_monotonic_time ();

  if (!g_hash_table_contains (h->nonces, nonce)
      && g_hash_table_size (h->nonces) >= MAX_NONCES) {
    GHashTableIter it;
    const gchar *k;
    gchar head[17];
    gint64 newest = 0;
    /* forget the expired ones; failing that, all, and refuse (stale)
     * every nonce issued before now, so that none can be replayed */
    g_hash_table_iter_init (&it, h->nonces);
    while (g_hash_table_iter_next (&it, (gpointer *) & k, NULL)) {
      gint64 issued;
      g_strlcpy (head, k, sizeof head);
      issued = g_ascii_strtoull (head, NULL, 16);
      if (now - issued > NONCE_LIFE_US)
        g_hash_table_iter_remove (&it);
      else
        newest = MAX (newest, issued);
    }
    if (g_hash_table_size (h->nonces) >= MAX_NONCES) {
      g_hash_table_remove_all (h->nonces);
      h->nonce_floor = MAX (newest, now);
      return;
    }
  }
  g_hash_table_replace (h->nonces, g_strdup (nonce), GUINT_TO_POINTER (nc));
}

/* ---- Digest responses ----
 * Checked here rather than by libsoup's SoupAuthDomainDigest, which compares
 * the "uri" parameter unescaped with the request's path still escaped, so
 * that a good password fails on any percent-encoded query
 * (?from=2026-12-03T00%3A00%3A00Z) or dot segment, and counts towards the
 * lock.  RFC 7616 3.4.6: the uri is the request-target as sent; it is
 * resolved the way libsoup resolved the request line, so the two compare
 * equal exactly when the client signed this request's target. */

typedef enum {
  DIGEST_OK,
  DIGEST_WRONG,                 /* not these credentials: a failed login */
  DIGEST_OTHER_URI,             /* the right credentials, signed for another target */
} DigestResult;

static void
md5_hex (GString *text, gchar out[33])
{
  g_autoptr (GChecksum) c = g_checksum_new (G_CHECKSUM_MD5);

  g_checksum_update (c, (const guchar *) text->str, text->len);
  g_strlcpy (out, g_checksum_get_string (c), 33);
}

static gboolean
digest_uri_matches (SoupServerMessage *msg, const gchar *uri)
{
  GUri *req = soup_server_message_get_uri (msg);
  g_autoptr (GUri) base = NULL, dig = NULL;

  base = g_uri_build (SOUP_HTTP_URI_FLAGS, g_uri_get_scheme (req), NULL,
      g_uri_get_host (req) ? g_uri_get_host (req) : "localhost", -1, "/", NULL, NULL);
  dig = g_uri_parse_relative (base, uri, SOUP_HTTP_URI_FLAGS, NULL);
  return dig && g_strcmp0 (g_uri_get_path (dig), g_uri_get_path (req)) == 0
      && g_strcmp0 (g_uri_get_query (dig), g_uri_get_query (req)) == 0;
}

static DigestResult
digest_verify (TcdHttp *h, SoupServerMessage *msg, GHashTable *params, gchar **user)
{
  const gchar *name = g_hash_table_lookup (params, "username");
  const gchar *uri = g_hash_table_lookup (params, "uri");
  const gchar *realm = g_hash_table_lookup (params, "realm");
  const gchar *qop = g_hash_table_lookup (params, "qop");
  const gchar *algorithm = g_hash_table_lookup (params, "algorithm");
  const gchar *nonce = g_hash_table_lookup (params, "nonce");
  const gchar *nc = g_hash_table_lookup (params, "nc");
  const gchar *cnonce = g_hash_table_lookup (params, "cnonce");
  const gchar *response = g_hash_table_lookup (params, "response");
  const gchar *ha1 = name ? tcd_users_get_ha1 (h->app->users, name) : NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  gchar ha2[33], expected[33];
  gboolean good;

  if (!name || !uri || !realm || !nonce || !nc || !cnonce || !response
      || g_strcmp0 (qop, "auth") != 0 || !g_str_equal (realm, TCD_REALM)
      || (algorithm && g_ascii_strcasecmp (algorithm, "MD5") != 0) || strlen (response) != 32)
    return DIGEST_WRONG;
  g_string_printf (text, "%s:%s", soup_server_message_get_method (msg), uri);
  md5_hex (text, ha2);
  /* an unknown name costs the same as a known one */
  g_string_printf (text, "%s:%s:%s:%s:auth:%s", ha1 ? ha1 : "00000000000000000000000000000000",
      nonce, nc, cnonce, ha2);
  md5_hex (text, expected);
  good = CRYPTO_memcmp (expected, response, 32) == 0;
  if (!good) {
    /* hex digits in upper case are the same response */
    g_autofree gchar *lower = g_ascii_strdown (response, 32);
    good = CRYPTO_memcmp (expected, lower, 32) == 0;
  }
  if (!good || !ha1)
    return DIGEST_WRONG;
  if (!digest_uri_matches (msg, uri))
    return DIGEST_OTHER_URI;
  *user = g_strdup (name);
  return DIGEST_OK;
}

static void
challenge_full (TcdHttp *h, SoupServerMessage *msg, const gchar *code, const gchar *message,
    gboolean stale)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  g_autofree gchar *nonce = nonce_new (h);
  g_autofree gchar *digest = g_strdup_printf ("Digest realm=\"" TCD_REALM "\", "
      "nonce=\"%s\", qop=\"auth\", algorithm=MD5%s", nonce, stale ? ", stale=true" : "");

  send_error (msg, SOUP_STATUS_UNAUTHORIZED, code, NULL, "%s", message);
  soup_message_headers_append (hdrs, "WWW-Authenticate", digest);
  if (tcd_security_basic_allowed (h->app->security, "web"))
    soup_auth_domain_challenge (h->basic, msg);
}

static void
challenge (TcdHttp *h, SoupServerMessage *msg, const gchar *code, const gchar *message)
{
  challenge_full (h, msg, code, message, FALSE);
}

static void
send_locked (SoupServerMessage *msg, gint64 remaining)
{
  g_autofree gchar *ra = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (remaining, 1));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Retry-After", ra);
  send_error (msg, SOUP_STATUS_FORBIDDEN, "locked", NULL,
      "too many failed logins from this address: locked for %" G_GINT64_FORMAT " more seconds",
      MAX (remaining, 1));
}

static void
send_not_activated (SoupServerMessage *msg)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "X-Activation-Required", "POST " API "activate");
  send_error (msg, SOUP_STATUS_UNAUTHORIZED, "not_activated", NULL,
      "the device is not activated: POST " API "activate with {\"password\": \"...\"} "
      "(at least 8 characters mixing three of upper case, lower case, digits, specials) "
      "creates the user admin");
}

static gboolean
is_tls (TcdHttp *h, SoupServerMessage *msg)
{
  return GPOINTER_TO_INT (g_object_get_data (G_OBJECT (msg), "tcd-tls"));
}

/* steps 2-5 of the header comment (and the filter again, for connections
 * accepted before it changed); FALSE when the answer is already set */
static gboolean
gate (TcdHttp *h, SoupServerMessage *msg)
{
  TcdApp *app = h->app;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *path = g_uri_get_path (soup_server_message_get_uri (msg));
  const gchar *address = address_of (msg);
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  const gchar *authorization = soup_message_headers_get_one (hdrs, "Authorization");
  g_auto (GStrv) seg = NULL;
  guint n;
  TcdLevel need;
  Who *who;
  Session *session;
  gint64 remaining = 0;
  g_autofree gchar *user = NULL;

  if (!g_str_has_prefix (path, API))
    return TRUE;                /* 404s and the web page's files */
  seg = g_strsplit (path + strlen (API), "/", -1);
  n = g_strv_length (seg);
  if (n > 0 && *seg[n - 1] == '\0')
    n--;
  need = route_level (method, seg, n);
  /* a connection accepted before the filter changed */
  if (!tcd_security_address_allowed_str (app->security, address)) {
    h->refused++;
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
        "Connection", "close");
    send_error (msg, SOUP_STATUS_FORBIDDEN, "filtered", NULL,
        "this address may not use the device (IP address filter)");
    return FALSE;
  }
  if (tcd_security_is_locked (app->security, address, &remaining)) {
    send_locked (msg, remaining);
    return FALSE;
  }
  if (changes_state (method) && cross_site (msg)) {
    send_error (msg, SOUP_STATUS_FORBIDDEN, "cross_site", NULL,
        "a request from another site's page may not change anything here");
    return FALSE;
  }
  if (!tcd_users_is_activated (app->users)) {
    /* only activation; answered here, as a request let through now could
     * otherwise reach its handler after the device was activated, without
     * credentials */
    if (n == 1 && g_str_equal (seg[0], "activate"))
      return TRUE;
    send_not_activated (msg);
    return FALSE;
  }
  if (need == TCD_LEVEL_NONE)
    return TRUE;

  who = g_new0 (Who, 1);
  who->address = g_strdup (address);
  if ((session = find_session (h, msg))) {
    if (changes_state (method)) {
      const gchar *token = soup_message_headers_get_one (hdrs, "X-CSRF-Token");
      if (!token || strlen (token) != strlen (session->csrf)
          || CRYPTO_memcmp (token, session->csrf, strlen (token)) != 0) {
        who_free (who);
        send_error (msg, SOUP_STATUS_FORBIDDEN, "csrf", NULL,
            "a change in a browser session needs the X-CSRF-Token header "
            "(csrf_token of POST " API "session)");
        return FALSE;
      }
    }
    who->user = g_strdup (session->user);
    who->session = TRUE;
  } else if (authorization) {
    gboolean basic = g_ascii_strncasecmp (authorization, "Basic ", 6) == 0;

    if (basic && !tcd_security_basic_allowed (app->security, "web")) {
      who_free (who);
      challenge (h, msg, "unauthorized", "Basic authentication is off: use Digest");
      return FALSE;
    }
    g_autoptr (GHashTable) params = !basic
        && g_ascii_strncasecmp (authorization, "Digest ", 7) == 0
        ? soup_header_parse_param_list (authorization + 7) : NULL;
    const gchar *nonce = params ? g_hash_table_lookup (params, "nonce") : NULL;
    guint nc = 0;

    if (!basic) {
      /* our nonce, fresh: else a new one (not a failed login: the
       * password was not even looked at) */
      if (!nonce_check (h, nonce, params ? g_hash_table_lookup (params, "nc") : NULL, &nc)) {
        who_free (who);
        challenge_full (h, msg, "unauthorized", "the Digest nonce is unknown, old or "
            "replayed: log in again with the new one", TRUE);
        return FALSE;
      }
    }
    if (!basic && params) {
      DigestResult r = digest_verify (h, msg, params, &user);
      if (r == DIGEST_OTHER_URI) {
        /* the password was right: not a failed login */
        who_free (who);
        send_error (msg, SOUP_STATUS_BAD_REQUEST, "digest_uri", NULL,
            "the Digest uri is not this request's target (RFC 7616: the request-target "
            "as sent)");
        return FALSE;
      }
    } else if (basic) {
      user = soup_auth_domain_accepts (h->basic, msg);
    }
    if (!user) {
      g_autofree gchar *claimed = claimed_user (authorization);
      who_free (who);
      if (tcd_security_login_failed (app->security, address, "http", claimed)) {
        tcd_security_is_locked (app->security, address, &remaining);
        send_locked (msg, remaining);
      } else {
        challenge (h, msg, "unauthorized", "wrong user name or password");
      }
      return FALSE;
    }
    if (!basic)
      nonce_record (h, nonce, nc);
    tcd_security_login_succeeded (app->security, address, is_tls (h, msg) ? "https" : "http",
        user, FALSE);
    who->user = g_steal_pointer (&user);
  } else {
    who_free (who);
    challenge (h, msg, "unauthorized", "log in: Digest"
        " (or Basic where security.authentication.web allows it), or POST " API "session");
    return FALSE;
  }
  who->level = tcd_users_get_level (app->users, who->user);
  g_object_set_data_full (G_OBJECT (msg), "tcd-who", who, (GDestroyNotify) who_free);
  if (who->level < need) {
    send_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
        "%s (%s) may not do this: it needs %s", who->user, tcd_level_to_string (who->level),
        tcd_level_to_string (need));
    return FALSE;
  }
  return TRUE;
}

static gboolean load_certificate (TcdHttp *h, GError **error);

/* ---- sessions for the web page ---- */

/* the members of a JSON object body, refusing any but @allowed */
static JsonObject *
body_object (SoupServerMessage *msg, JsonNode *body, const gchar * const *allowed)
{
  JsonObject *o;
  g_autoptr (GList) members = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "expected a JSON object");
    return NULL;
  }
  o = json_node_get_object (body);
  members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next) {
    JsonNode *v = json_object_get_member (o, l->data);
    if (!g_strv_contains (allowed, l->data)) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: unknown field",
          (gchar *) l->data);
      return NULL;
    }
    if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: a string is required",
          (gchar *) l->data);
      return NULL;
    }
  }
  return o;
}

static const gchar *
member (JsonObject *o, const gchar *name)
{
  return tc_json_get_string (o, name, NULL);
}

/* a host-only cookie (no Domain: SoupCookie wants one), for the page's
 * scripts out of reach (HttpOnly), never sent by another site's page
 * (SameSite=Strict), over HTTPS only when made there (Secure); @value is
 * our hex token or empty */
static void
set_session_cookie (TcdHttp *h, SoupServerMessage *msg, const gchar *value, gint max_age)
{
  g_autofree gchar *header = g_strdup_printf ("%s=%s; Path=/; Max-Age=%d; HttpOnly; "
      "SameSite=Strict%s", SESSION_COOKIE, value, max_age, is_tls (h, msg) ? "; Secure" : "");

  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie",
      header);
}

static void
handle_session (TcdHttp *h, SoupServerMessage *msg, const gchar *method)
{
  TcdApp *app = h->app;
  static const gchar *fields[] = { "name", "password", NULL };
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  Who *who = who_of (msg);
  JsonObject *o;
  const gchar *name, *password;

  if (g_str_equal (method, "GET")) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, who->user);
    json_builder_set_member_name (b, "level");
    json_builder_add_string_value (b, tcd_level_to_string (who->level));
    json_builder_set_member_name (b, "session");
    json_builder_add_boolean_value (b, who->session);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    send_json (msg, SOUP_STATUS_OK, root);
    return;
  }
  if (g_str_equal (method, "DELETE")) {
    const gchar *cookie = soup_message_headers_get_list (
        soup_server_message_get_request_headers (msg), "Cookie");
    g_autoptr (GHashTable) params = cookie ? soup_header_parse_semi_param_list (cookie) : NULL;
    const gchar *v = params ? g_hash_table_lookup (params, SESSION_COOKIE) : NULL;
    if (v)
      g_hash_table_remove (h->sessions, v);
    set_session_cookie (h, msg, "", 0);
    tcd_audit (app->security, "logout", who->user, who->address, "logout");
    soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
    return;
  }
  if (!g_str_equal (method, "POST"))
    return method_not_allowed (msg, "GET, POST, DELETE");
  if (!(body = read_body (msg)) || !(o = body_object (msg, body, fields)))
    return;
  name = member (o, "name");
  password = member (o, "password");
  if (!name || !password) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", name ? "password" : "name",
        "name and password are required");
    return;
  }
  if (!tcd_users_check_password (app->users, name, password)) {
    gint64 remaining = 0;
    if (tcd_security_login_failed (app->security, address_of (msg), "web", name)) {
      tcd_security_is_locked (app->security, address_of (msg), &remaining);
      send_locked (msg, remaining);
    } else {
      /* no WWW-Authenticate: a page's login form, not a browser dialog */
      send_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", NULL,
          "wrong user name or password");
    }
    return;
  }
  {
    gint64 minutes = tcd_config_int (app->config, "security.session_timeout_min");
    Session *s = g_new0 (Session, 1);
    gchar *token = random_token ();

    {
      /* an account holds at most a quarter of the sessions: past that its
       * own oldest goes, so that one account logging in again and again
       * cannot end the others' sessions; a full table loses its oldest */
      GHashTableIter it;
      gpointer k, v, oldest = NULL, own_oldest = NULL;
      gint64 t = G_MAXINT64, own_t = G_MAXINT64;
      guint own = 0;
      g_hash_table_iter_init (&it, h->sessions);
      while (g_hash_table_iter_next (&it, &k, &v)) {
        Session *x = v;
        if (x->expires < t) {
          t = x->expires;
          oldest = k;
        }
        if (g_str_equal (x->user, name)) {
          own++;
          if (x->expires < own_t) {
            own_t = x->expires;
            own_oldest = k;
          }
        }
      }
      if (own >= MAX_SESSIONS / 4)
        g_hash_table_remove (h->sessions, own_oldest);
      else if (g_hash_table_size (h->sessions) >= MAX_SESSIONS)
        g_hash_table_remove (h->sessions, oldest);
    }
    s->user = g_strdup (name);
    s->csrf = random_token ();
    s->tls = is_tls (h, msg);
    s->expires = g_get_monotonic_time () + minutes * 60 * G_USEC_PER_SEC;
    g_hash_table_insert (h->sessions, token, s);
    set_session_cookie (h, msg, token, minutes * 60);
    tcd_security_login_succeeded (app->security, address_of (msg), "web", name, TRUE);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, name);
    json_builder_set_member_name (b, "level");
    json_builder_add_string_value (b,
        tcd_level_to_string (tcd_users_get_level (app->users, name)));
    json_builder_set_member_name (b, "csrf_token");
    json_builder_add_string_value (b, s->csrf);
    json_builder_set_member_name (b, "expires_in");
    json_builder_add_int_value (b, minutes * 60);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    send_json (msg, SOUP_STATUS_OK, root);
  }
}

/* ---- accounts (manual 10.13) ---- */

static void
send_users_error (SoupServerMessage *msg, GError *err)
{
  /* messages of tcd-users.c start with the field: "level: ..." */
  const gchar *colon = strchr (err->message, ':');
  g_autofree gchar *field = colon && colon - err->message < 16
      && !memchr (err->message, ' ', colon - err->message)
      ? g_strndup (err->message, colon - err->message) : NULL;

  if (g_error_matches (err, TCD_USERS_ERROR, TCD_USERS_ERROR_WEAK))
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "weak_password", "password", "password: %s",
        err->message);
  else if (g_error_matches (err, TCD_USERS_ERROR, TCD_USERS_ERROR_NOT_FOUND))
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "name", "%s", err->message);
  else if (g_error_matches (err, TCD_USERS_ERROR, TCD_USERS_ERROR_EXISTS))
    send_error (msg, SOUP_STATUS_CONFLICT, "exists", "name", "%s", err->message);
  else if (g_error_matches (err, TCD_USERS_ERROR, TCD_USERS_ERROR_FULL))
    send_error (msg, SOUP_STATUS_CONFLICT, "full", NULL, "%s", err->message);
  else if (g_error_matches (err, TCD_USERS_ERROR, TCD_USERS_ERROR_PROTECTED))
    send_error (msg, SOUP_STATUS_CONFLICT, "protected", field, "%s", err->message);
  else if (g_error_matches (err, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID))
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", field, "%s", err->message);
  else
    send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
}

static void
send_user (SoupServerMessage *msg, TcdUsers *users, const gchar *name, guint status)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, tcd_level_to_string (tcd_users_get_level (users, name)));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, status, root);
}

static void
handle_users (TcdHttp *h, SoupServerMessage *msg, const gchar *method, const gchar *name)
{
  TcdApp *app = h->app;
  Who *who = who_of (msg);
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  JsonObject *o;

  if (!name) {
    if (g_str_equal (method, "GET")) {
      g_autoptr (JsonNode) list = tcd_users_list (app->users);
      send_json (msg, SOUP_STATUS_OK, list);
      return;
    }
    if (!g_str_equal (method, "POST"))
      return method_not_allowed (msg, "GET, POST");
    {
      static const gchar *fields[] = { "name", "password", "level", NULL };
      g_autofree gchar *location = NULL;
      if (!(body = read_body (msg)) || !(o = body_object (msg, body, fields)))
        return;
      if (!tcd_users_add (app->users, member (o, "name"), member (o, "password"),
              member (o, "level") ? member (o, "level") : "user", &err))
        return send_users_error (msg, err);
      tcd_app_users_changed (app);
      tcd_audit (app->security, "user", who->user, who->address, "added %s (%s)",
          member (o, "name"), member (o, "level") ? member (o, "level") : "user");
      location = g_strdup_printf (API "users/%s", member (o, "name"));
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
          "Location", location);
      send_user (msg, app->users, member (o, "name"), SOUP_STATUS_CREATED);
    }
    return;
  }
  /* one account: an administrator any, the others their own */
  if (who->level < TCD_LEVEL_ADMINISTRATOR && g_strcmp0 (who->user, name) != 0) {
    send_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
        "%s may only see and change its own account", who->user);
    return;
  }
  if (tcd_users_get_level (app->users, name) == TCD_LEVEL_NONE) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "name", "no user '%s'", name);
    return;
  }
  if (g_str_equal (method, "GET"))
    return send_user (msg, app->users, name, SOUP_STATUS_OK);
  if (g_str_equal (method, "DELETE")) {
    if (!tcd_users_delete (app->users, name, &err))
      return send_users_error (msg, err);
    drop_sessions (h, name);
    tcd_app_users_changed (app);
    tcd_audit (app->security, "user", who->user, who->address, "deleted %s", name);
    soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
    return;
  }
  if (!g_str_equal (method, "PUT"))
    return method_not_allowed (msg, "GET, PUT, DELETE");
  {
    static const gchar *fields[] = { "name", "password", "level", "old_password", NULL };
    const gchar *level, *password;
    gboolean own = g_strcmp0 (who->user, name) == 0;

    if (!(body = read_body (msg)) || !(o = body_object (msg, body, fields)))
      return;
    level = member (o, "level");
    password = member (o, "password");
    if (member (o, "name") && !g_str_equal (member (o, "name"), name)) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "name",
          "name: an account cannot be renamed");
      return;
    }
    if (level && who->level < TCD_LEVEL_ADMINISTRATOR
        && tcd_level_from_string (level) != who->level) {
      send_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", "level",
          "level: only the administrator changes levels");
      return;
    }
    if (level && who->level < TCD_LEVEL_ADMINISTRATOR)
      level = NULL;
    /* one's own password: prove it is oneself, not a borrowed session */
    if (password && own
        && !tcd_users_check_password (app->users, name, member (o, "old_password"))) {
      gint64 remaining = 0;
      if (tcd_security_login_failed (app->security, who->address, "web", name)) {
        tcd_security_is_locked (app->security, who->address, &remaining);
        return send_locked (msg, remaining);
      }
      send_error (msg, SOUP_STATUS_FORBIDDEN, "wrong_password", "old_password",
          "old_password: the current password is needed to change one's own");
      return;
    }
    if (!tcd_users_modify (app->users, name, password, level, &err))
      return send_users_error (msg, err);
    if (password)
      drop_sessions (h, name);
    tcd_app_users_changed (app);
    tcd_audit (app->security, "user", who->user, who->address, "changed %s:%s%s", name,
        password ? " password" : "", level ? " level" : "");
    send_user (msg, app->users, name, SOUP_STATUS_OK);
  }
}

/* ---- certificates (manual 10.12.5) ---- */

static gboolean
cert_params (SoupServerMessage *msg, JsonNode *body, gboolean need_days, TcdCertParams *p)
{
  static const gchar *fields[] = { "country", "host", "days", "organization", "state",
    "locality", "email", NULL
  };
  static const gchar *strings[] = { "country", "host", "organization", "state", "locality",
    "email", NULL
  };
  JsonObject *o;
  g_autoptr (GList) members = NULL;
  g_autoptr (GError) err = NULL;
  const gchar *field = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "expected a JSON object");
    return FALSE;
  }
  o = json_node_get_object (body);
  members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next) {
    JsonNode *v = json_object_get_member (o, l->data);
    GType type = JSON_NODE_HOLDS_VALUE (v) ? json_node_get_value_type (v) : G_TYPE_NONE;
    if (!g_strv_contains (fields, l->data)
        || (g_strv_contains (strings, l->data) && type != G_TYPE_STRING)
        || (g_str_equal (l->data, "days") && type != G_TYPE_INT64)) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: %s",
          (gchar *) l->data, g_strv_contains (fields, l->data) ? "wrong type" : "unknown field");
      return FALSE;
    }
  }
  p->country = member (o, "country");
  p->host = member (o, "host");
  p->days = CLAMP (tc_json_get_int (o, "days", need_days ? 0 : 365),
      0, G_MAXUINT);
  p->organization = member (o, "organization");
  p->state = member (o, "state");
  p->locality = member (o, "locality");
  p->email = member (o, "email");
  if (!tcd_cert_params_check (p, need_days, &field, &err)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", field, "%s", err->message);
    return FALSE;
  }
  return TRUE;
}

static void
send_certificate (TcdHttp *h, SoupServerMessage *msg, guint status)
{
  g_autoptr (JsonNode) info = tcd_certs_info (h->app->state_dir);

  g_autofree gchar *cert = NULL, *key = NULL, *pem = NULL;

  if (!info) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no certificate is installed");
    return;
  }
  /* the certificate itself (public), for clients to trust it */
  if (tcd_certs_installed (h->app->state_dir, &cert, &key)
      && g_file_get_contents (cert, &pem, NULL, NULL))
    json_object_set_string_member (json_node_get_object (info), "pem", pem);
  send_json (msg, status, info);
}

/* the served certificate follows the installed one */
static void
certificate_changed (TcdHttp *h)
{
  g_autoptr (GError) err = NULL;
  if (h->tls_service && !load_certificate (h, &err))
    g_warning ("HTTPS: %s", err->message);
}

static void
send_pem (SoupServerMessage *msg, gchar *pem, const gchar *type, const gchar *filename,
    guint status)
{
  g_autofree gchar *disposition = g_strdup_printf ("attachment; filename=\"%s\"", filename);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Content-Disposition", disposition);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_TAKE, pem, strlen (pem));
}

static void
handle_certificate (TcdHttp *h, SoupServerMessage *msg, const gchar *method,
    const gchar *what)
{
  TcdApp *app = h->app;
  Who *who = who_of (msg);
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  TcdCertParams p = { 0 };

  if (!what) {
    if (g_str_equal (method, "GET"))
      return send_certificate (h, msg, SOUP_STATUS_OK);
    if (g_str_equal (method, "DELETE")) {
      if (!tcd_certs_delete (app->state_dir, &err)) {
        send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
        return;
      }
      tcd_audit (app->security, "certificate", who->user, who->address,
          "deleted the certificate");
      /* HTTPS on: a new self-signed one is made */
      certificate_changed (h);
      soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
      return;
    }
    if (g_str_equal (method, "PUT")) {
      SoupMessageBody *req = soup_server_message_get_request_body (msg);
      g_autoptr (GBytes) bytes = soup_message_body_flatten (req);
      gsize len = 0;
      const gchar *pem = g_bytes_get_data (bytes, &len);
      gboolean ok = tcd_certs_install (app->state_dir, pem, len, &err);
      GBytes *chunk;
      /* the body may hold a private key: not left in freed memory, neither
       * the copy nor the chunks it was received in */
      OPENSSL_cleanse ((gpointer) pem, len);
      for (goffset off = 0; (chunk = soup_message_body_get_chunk (req, off)); ) {
        gsize n;
        gconstpointer piece = g_bytes_get_data (chunk, &n);
        if (n)
          OPENSSL_cleanse ((gpointer) piece, n);
        off += n;
        g_bytes_unref (chunk);
        if (!n)
          break;
      }
      if (!ok) {
        send_error (msg, g_error_matches (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO)
            ? SOUP_STATUS_INTERNAL_SERVER_ERROR
            : g_error_matches (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_NO_REQUEST)
            ? SOUP_STATUS_CONFLICT : SOUP_STATUS_BAD_REQUEST,
            g_error_matches (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_MISMATCH) ? "mismatch"
            : g_error_matches (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_NO_REQUEST) ? "no_request"
            : g_error_matches (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO) ? "io" : "invalid",
            "certificate", "%s", err->message);
        return;
      }
      tcd_audit (app->security, "certificate", who->user, who->address,
          "installed a certificate");
      certificate_changed (h);
      return send_certificate (h, msg, SOUP_STATUS_OK);
    }
    return method_not_allowed (msg, "GET, PUT, DELETE");
  }
  if (g_str_equal (what, "self-signed")) {
    if (!g_str_equal (method, "POST"))
      return method_not_allowed (msg, "POST");
    if (!(body = read_body (msg)) || !cert_params (msg, body, TRUE, &p))
      return;
    if (!tcd_certs_create_self_signed (app->state_dir, &p, &err)) {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
      return;
    }
    tcd_audit (app->security, "certificate", who->user, who->address,
        "created a self-signed certificate for %s, %u days", p.host, p.days);
    certificate_changed (h);
    return send_certificate (h, msg, SOUP_STATUS_CREATED);
  }
  if (g_str_equal (what, "request")) {
    gchar *pem;
    if (g_str_equal (method, "GET")) {
      if (!(pem = tcd_certs_get_request (app->state_dir))) {
        send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL,
            "no certificate request: POST one first");
        return;
      }
      return send_pem (msg, pem, "application/pkcs10", "thermocam.csr", SOUP_STATUS_OK);
    }
    if (!g_str_equal (method, "POST"))
      return method_not_allowed (msg, "GET, POST");
    if (!(body = read_body (msg)) || !cert_params (msg, body, FALSE, &p))
      return;
    if (!(pem = tcd_certs_create_request (app->state_dir, &p, &err))) {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
      return;
    }
    tcd_audit (app->security, "certificate", who->user, who->address,
        "created a certificate request for %s", p.host);
    return send_pem (msg, pem, "application/pkcs10", "thermocam.csr", SOUP_STATUS_CREATED);
  }
  send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no such route");
}

/* ---- the audit log (manual 10.12.2) ---- */

static gboolean
parse_time (const gchar *s, gint64 *out)
{
  gchar *end;
  g_autoptr (GDateTime) dt = NULL;

  if (!s || !*s) {
    *out = 0;
    return TRUE;
  }
  *out = g_ascii_strtoll (s, &end, 10);
  if (*end == '\0' && end != s)
    return TRUE;
  dt = g_date_time_new_from_iso8601 (s, g_time_zone_new_utc ());
  if (!dt)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

static const gchar *audit_types[] = { "login", "login_failed", "lock", "logout", "config",
  "user", "reboot", "system", "certificate", "import", "export", NULL
};

static void
handle_audit (TcdHttp *h, SoupServerMessage *msg, const gchar *method, GHashTable *query,
    gboolean export)
{
  const gchar *type = query ? g_hash_table_lookup (query, "type") : NULL;
  const gchar *format = query ? g_hash_table_lookup (query, "format") : NULL;
  g_autoptr (JsonNode) records = NULL;
  gint64 from, to;

  if (!g_str_equal (method, "GET"))
    return method_not_allowed (msg, "GET");
  if (type && *type && !g_strv_contains (audit_types, type)) {
    g_autofree gchar *all = g_strjoinv (", ", (gchar **) audit_types);
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "type", "type: one of %s", all);
    return;
  }
  if (!parse_time (query ? g_hash_table_lookup (query, "from") : NULL, &from)
      || !parse_time (query ? g_hash_table_lookup (query, "to") : NULL, &to)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "from",
        "from, to: unix seconds or ISO 8601 times (2026-11-24T08:00:00Z)");
    return;
  }
  records = tcd_audit_query (h->app->security, type && *type ? type : NULL, from, to);
  if (!export) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "records");
    json_builder_add_value (b, json_node_ref (records));
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    send_json (msg, SOUP_STATUS_OK, root);
    return;
  }
  if (format && g_str_equal (format, "json")) {
    gchar *text = tcd_json_to_string (records, TRUE);
    return send_pem (msg, text, "application/json", "audit-log.json", SOUP_STATUS_OK);
  }
  if (format && !g_str_equal (format, "csv")) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "format", "format: csv or json");
    return;
  }
  {
    GString *csv = g_string_new ("time,type,user,address,detail\r\n");
    JsonArray *a = json_node_get_array (records);
    for (guint i = 0; i < json_array_get_length (a); i++) {
      JsonObject *o = tc_json_array_get_object (a, i);
      static const gchar *cols[] = { "time", "type", "user", "address", "detail" };
      for (guint c = 0; c < G_N_ELEMENTS (cols); c++) {
        JsonNode *vn = json_object_get_member (o, cols[c]);
        const gchar *v = vn && JSON_NODE_HOLDS_VALUE (vn) ? json_node_get_string (vn) : "";
        g_auto (GStrv) parts = g_strsplit (v, "\"", -1);
        g_autofree gchar *q = g_strjoinv ("\"\"", parts);
        /* RFC 4180 quoting; a leading = + - @ would be a formula in a
         * spreadsheet: prefix it */
        g_string_append_printf (csv, "%s\"%s%s\"", c ? "," : "",
            *v && strchr ("=+-@", *v) ? "'" : "", q);
      }
      g_string_append (csv, "\r\n");
    }
    send_pem (msg, g_string_free (csv, FALSE), "text/csv", "audit-log.csv", SOUP_STATUS_OK);
  }
}

/* ---- configuration export and import (manual 10.2) ---- */

#define EXPORT_FORMAT "thermocam-configuration"

static void
handle_export (TcdHttp *h, SoupServerMessage *msg, const gchar *method)
{
  static const gchar *fields[] = { "password", NULL };
  TcdApp *app = h->app;
  Who *who = who_of (msg);
  g_autoptr (JsonNode) body = NULL, users = NULL, doc = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GBytes) plain = NULL, sealed = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *picture = NULL, *text = NULL;
  g_autofree gchar *pic_path = g_build_filename (app->state_dir, "overlay.bmp", NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *time = g_date_time_format_iso8601 (now);
  JsonObject *o;
  gsize len;

  if (!g_str_equal (method, "POST"))
    return method_not_allowed (msg, "POST");
  if (!(body = read_body (msg)) || !(o = body_object (msg, body, fields)))
    return;
  if (!member (o, "password") || !tcd_password_is_strong (member (o, "password"), &err)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "weak_password", "password",
        "password: %s", err ? err->message : "required");
    return;
  }
  users = tcd_users_export (app->users);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, EXPORT_FORMAT);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "exported");
  json_builder_add_string_value (b, time);
  json_builder_set_member_name (b, "serial");
  json_builder_add_string_value (b, app->serial);
  json_builder_set_member_name (b, "config");
  json_builder_add_value (b, tcd_json_deep_copy (tcd_config_get (app->config)));
  json_builder_set_member_name (b, "users");
  json_builder_add_value (b, json_node_ref (users));
  json_builder_set_member_name (b, "osd_picture");
  if (g_file_get_contents (pic_path, &picture, &len, NULL)) {
    g_autofree gchar *b64 = g_base64_encode ((guchar *) picture, len);
    json_builder_add_string_value (b, b64);
  } else {
    json_builder_add_null_value (b);
  }
  json_builder_end_object (b);
  doc = json_builder_get_root (b);
  text = tcd_json_to_string (doc, FALSE);
  len = strlen (text);
  plain = g_bytes_new_take (g_steal_pointer (&text), len);
  sealed = tcd_crypt_seal (plain, member (o, "password"), &err);
  if (!sealed) {
    send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
    return;
  }
  tcd_audit (app->security, "export", who->user, who->address, "exported the configuration");
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Content-Disposition", "attachment; filename=\"thermocam-configuration.bin\"");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
      g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed));
}

/* the parts of a multipart/form-data body by name */
static GBytes *
form_part (SoupMultipart *mp, const gchar *name)
{
  for (gint i = 0; mp && i < soup_multipart_get_length (mp); i++) {
    SoupMessageHeaders *hdrs;
    GBytes *body;
    g_autoptr (GHashTable) params = NULL;
    if (!soup_multipart_get_part (mp, i, &hdrs, &body))
      continue;
    if (soup_message_headers_get_content_disposition (hdrs, NULL, &params)
        && g_strcmp0 (g_hash_table_lookup (params, "name"), name) == 0)
      return body;
  }
  return NULL;
}

static void
handle_import (TcdHttp *h, SoupServerMessage *msg, const gchar *method)
{
  TcdApp *app = h->app;
  Who *who = who_of (msg);
  g_autoptr (GBytes) whole = NULL, plain = NULL;
  g_autoptr (SoupMultipart) mp = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) doc = NULL;
  g_autoptr (JsonNode) defaults = NULL;
  g_autofree gchar *password = NULL, *field = NULL;
  g_autofree guchar *picture = NULL;
  gsize picture_len = 0;
  GBytes *file, *pw;
  JsonObject *root;
  JsonNode *config, *users, *pic;

  if (!g_str_equal (method, "POST"))
    return method_not_allowed (msg, "POST");
  whole = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  mp = soup_multipart_new_from_message (soup_server_message_get_request_headers (msg), whole);
  file = form_part (mp, "file");
  pw = form_part (mp, "password");
  if (!file || !pw) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", file ? "password" : "file",
        "a multipart/form-data body with the parts file and password is required");
    return;
  }
  password = g_strndup (g_bytes_get_data (pw, NULL), g_bytes_get_size (pw));
  if (!(plain = tcd_crypt_open (file, password, &err))) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST,
        g_error_matches (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_AUTH) ? "wrong_password"
        : "invalid", g_error_matches (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_AUTH)
        ? "password" : "file", "%s", err->message);
    tcd_audit (app->security, "import", who->user, who->address,
        "refused a configuration file: %s", err->message);
    return;
  }
  /* everything is checked before anything changes */
  if (!(doc = tc_json_parse (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain),
              TC_JSON_MAX_DEPTH, NULL))
      || !JSON_NODE_HOLDS_OBJECT (doc)
      || g_strcmp0 (tc_json_get_string (root =
              json_node_get_object (doc), "format", ""),
          EXPORT_FORMAT) != 0
      || tc_json_get_int (root, "version", 0) != 1
      || !(config = json_object_get_member (root, "config"))
      || !(users = json_object_get_member (root, "users"))) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "file",
        "the file is not a thermocam configuration of a version this device knows");
    return;
  }
  /* sections added since the export get their defaults */
  defaults = tc_schema_defaults (tcd_config_get_schema (app->config), NULL);
  tcd_config_rename_aliases (config, NULL);
  config = tc_json_merge (defaults, config);
  if (!tcd_config_check (app->config, config, &field, &err)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", field, "config: %s", err->message);
    json_node_unref (config);
    return;
  }
  if (!tcd_users_import_check (app->users, users, &err)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "users", "%s", err->message);
    json_node_unref (config);
    return;
  }
  pic = json_object_get_member (root, "osd_picture");
  if (pic && JSON_NODE_HOLDS_VALUE (pic)) {
    picture = g_base64_decode (json_node_get_string (pic), &picture_len);
    if (!picture_ok (picture, picture_len, &err)) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "osd_picture", "%s", err->message);
      json_node_unref (config);
      return;
    }
  }
  if (!tcd_app_change_config (app, config, "import", who->user, who->address, &field, &err)) {
    send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", field, "%s", err->message);
    return;
  }
  if (!tcd_users_import (app->users, users, &err)) {
    send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "%s", err->message);
    return;
  }
  drop_sessions (h, NULL);
  tcd_app_users_changed (app);
  if (picture) {
    g_autofree gchar *path = g_build_filename (app->state_dir, "overlay.bmp", NULL);
    if (g_file_set_contents_full (path, (gchar *) picture, picture_len,
            G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, NULL))
      tcd_pipeline_reload_picture (app->pipeline);
  }
  tcd_audit (app->security, "import", who->user, who->address,
      "imported a configuration exported %s from %s",
      tc_json_get_string (root, "exported", "?"),
      tc_json_get_string (root, "serial", "?"));
  {
    g_autoptr (JsonNode) shown = redacted (tcd_config_get (app->config), NULL);
    send_json (msg, SOUP_STATUS_OK, shown);
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
  /* a body cut at MAX_BODY that still came whole (got_chunk) */
  if (g_object_get_data (G_OBJECT (msg), "tcd-cut")) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
        "Connection", "close");
    send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL,
        "the body is larger than %d bytes", MAX_BODY);
    return;
  }
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
    send_not_activated (msg);
    return;
  }
  /* gate() set who asks for every route that needs someone */
  if (route_level (method, seg, n) > TCD_LEVEL_NONE && !who_of (msg)) {
    send_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", NULL, "log in first");
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
    return handle_live (h, msg, query);
  }
  if (g_str_equal (seg[0], "session") && n == 1)
    return handle_session (h, msg, method);
  if (g_str_equal (seg[0], "users") && n <= 2)
    return handle_users (h, msg, method, n == 2 ? seg[1] : NULL);
  if (g_str_equal (seg[0], "security") && n >= 2 && n <= 3
      && g_str_equal (seg[1], "certificate"))
    return handle_certificate (h, msg, method, n == 3 ? seg[2] : NULL);
  if (g_str_equal (seg[0], "system") && n == 2 && g_str_equal (seg[1], "audit-log"))
    return handle_audit (h, msg, method, query, FALSE);
  if (g_str_equal (seg[0], "system") && n == 3 && g_str_equal (seg[1], "audit-log")
      && g_str_equal (seg[2], "export"))
    return handle_audit (h, msg, method, query, TRUE);
  if (g_str_equal (seg[0], "system") && n == 2 && g_str_equal (seg[1], "config-export"))
    return handle_export (h, msg, method);
  if (g_str_equal (seg[0], "system") && n == 2 && g_str_equal (seg[1], "config-import"))
    return handle_import (h, msg, method);
  if (g_str_equal (seg[0], "system") && n == 2)
    return handle_system (h, msg, method, seg[1]);
  if (g_str_equal (seg[0], "io") && n >= 1 && n <= 4)
    return handle_io (h, msg, method, seg, n);
  if (g_str_equal (seg[0], "events") && n == 2 && g_str_equal (seg[1], "state")) {
    g_autoptr (JsonNode) st = tcd_events_state (app->events);
    GET_ONLY ();
    return send_json (msg, SOUP_STATUS_OK, st);
  }
  if (g_str_equal (seg[0], "events") && n == 2 && g_str_equal (seg[1], "schedule-copy"))
    return handle_schedule_copy (h, msg, method);
  if (g_str_equal (seg[0], "ftp") && n == 2 && g_str_equal (seg[1], "test"))
    return handle_test (h, msg, method, "ftp");
  if (g_str_equal (seg[0], "email") && n == 2 && g_str_equal (seg[1], "test"))
    return handle_test (h, msg, method, "email");
  if (g_str_equal (seg[0], "center") && n == 2 && g_str_equal (seg[1], "test"))
    return handle_test (h, msg, method, "center");
  if (g_str_equal (seg[0], "captures") && n <= 2)
    return handle_captures (h, msg, method, n == 2 ? seg[1] : NULL);
  if (g_str_equal (seg[0], "recordings") && n <= 2)
    return handle_files (h, msg, method, tcd_events_get_recordings (app->events),
        n == 2 ? seg[1] : NULL);
  if (g_str_equal (seg[0], "recording") && n <= 2)
    return handle_recording (h, msg, method, n == 2 ? seg[1] : NULL);
  if (g_str_equal (seg[0], "modbus") && n == 2 && g_str_equal (seg[1], "registers")) {
    g_autofree gchar *p = g_build_filename (app->data_dir, "schemas", "modbus-registers.json",
        NULL);
    GET_ONLY ();
    return send_file (msg, p, "application/json");
  }
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

/* A body longer than MAX_BODY (chunked, or a Content-Length refused while
 * the client sends it anyway) is not read to its end: its connection is
 * taken from libsoup, answered 413 and closed.  Out of the signal
 * emission, as libsoup is in the middle of reading. */
static gboolean
cut_body (gpointer data)
{
  SoupServerMessage *msg = data;
  g_autoptr (GIOStream) io = NULL;
  g_autofree gchar *message = NULL, *body = NULL, *answer = NULL;
  g_autoptr (JsonNode) error = NULL;

  /* the whole body came before this ran: the handler answers 413
   * (api_handler), and the connection may already serve another request */
  if (g_object_get_data (G_OBJECT (msg), "tcd-got-body")
      || !(io = soup_server_message_steal_connection (msg)))
    return G_SOURCE_REMOVE;
  message = g_strdup_printf ("the body is larger than %d bytes", MAX_BODY);
  error = error_node ("too_large", NULL, message);
  body = tcd_json_to_string (error, FALSE);
  answer = g_strdup_printf ("HTTP/1.1 413 Request Entity Too Large\r\n"
      "Content-Type: application/json\r\nConnection: close\r\n"
      "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n"
      "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s", strlen (body), body);
  /* best effort on the non-blocking socket: the answer is small */
  if (G_IS_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (io)))
    g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM
        (g_io_stream_get_output_stream (io)), answer, strlen (answer), NULL, NULL);
  g_io_stream_close (io, NULL, NULL);
  return G_SOURCE_REMOVE;
}

static void
got_body (SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;

  g_object_set_data (G_OBJECT (msg), "tcd-got-body", GINT_TO_POINTER (1));
  /* the answer must be taken within its time (streams lift it) */
  tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg),
      ANSWER_TIMEOUT_MS);
}

static void
got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  gsize got = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (msg), "tcd-body"));

  got += g_bytes_get_size (chunk);
  g_object_set_data (G_OBJECT (msg), "tcd-body", GSIZE_TO_POINTER (got));
  if (got > MAX_BODY && !g_object_get_data (G_OBJECT (msg), "tcd-cut")) {
    g_object_set_data (G_OBJECT (msg), "tcd-cut", GINT_TO_POINTER (1));
    soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
    g_idle_add_full (G_PRIORITY_HIGH, cut_body, g_object_ref (msg), g_object_unref);
  }
}

/* What every answer of the API carries: nothing of it is cached (settings,
 * accounts, logs, pictures), sniffed, framed or sent on as a referrer; no
 * content runs from it; HTTPS is remembered.  The web page's files set
 * their own caching and policy. */
static void
security_headers (TcdHttp *h, SoupServerMessage *msg)
{
  SoupMessageHeaders *r = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (r, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (r, "X-Frame-Options", "DENY");
  soup_message_headers_replace (r, "Content-Security-Policy",
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  soup_message_headers_replace (r, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (r, "Cache-Control", "no-store");
  soup_message_headers_replace (r, "Cross-Origin-Resource-Policy", "same-origin");
  if (is_tls (h, msg))
    soup_message_headers_replace (r, "Strict-Transport-Security", "max-age=31536000");
  if (!h->keep_alive)
    soup_message_headers_replace (r, "Connection", "close");
}

/* refuse a body too large before reading it; then the gate */
static void
got_headers (SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  goffset len = soup_message_headers_get_content_length (hdrs);

  security_headers (h, msg);

  g_signal_connect (msg, "got-chunk", G_CALLBACK (got_chunk), h);
  g_signal_connect (msg, "got-body", G_CALLBACK (got_body), h);
  /* the headers came in time; a body has its own time */
  if (soup_message_headers_get_encoding (hdrs) == SOUP_ENCODING_CHUNKED || len > 0)
    tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg),
        BODY_TIMEOUT_MS);
  if (soup_message_headers_get_encoding (hdrs) == SOUP_ENCODING_CONTENT_LENGTH
      && len > MAX_BODY) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
        "Connection", "close");
    send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL,
        "the body (%" G_GOFFSET_FORMAT " bytes) is larger than %d bytes", len, MAX_BODY);
    soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
    return;
  }
  if (!is_tls (h, msg) && h->tls_port
      && tcd_config_bool (h->app->config, "security.https.redirect_http")) {
    GUri *uri = soup_server_message_get_uri (msg);
    const gchar *host = soup_message_headers_get_one (hdrs, "Host");
    g_autofree gchar *name = g_strdup (host ? host : g_uri_get_host (uri));
    g_autofree gchar *to = NULL;
    gchar *colon = name[0] == '[' ? strstr (name, "]:") : strrchr (name, ':');
    if (colon)
      colon[name[0] == '[' ? 1 : 0] = '\0';
    to = g_strdup_printf ("https://%s:%u%s%s%s", name, h->tls_port, g_uri_get_path (uri),
        g_uri_get_query (uri) ? "?" : "", g_uri_get_query (uri) ? g_uri_get_query (uri) : "");
    soup_server_message_set_redirect (msg, SOUP_STATUS_PERMANENT_REDIRECT, to);
    soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
    return;
  }
  /* refused: whatever body follows is read and dropped, not kept */
  if (!gate (h, msg))
    soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
}

static void
request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;
  if (server == h->tls_server)
    g_object_set_data (G_OBJECT (msg), "tcd-tls", GINT_TO_POINTER (1));
  /* a request (the next one on a kept-alive connection) must come whole
   * in time: an idle or a slow-loris connection is closed at this deadline */
  tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg),
      REQUEST_TIMEOUT_MS);
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers), user_data);
}

/* A Digest client's first request meets a 401 that tells it the nonce (and
 * later ones a stale=true when its nonce ran out): the protocol, not an
 * error.  A 401 to credentials that were wrong stays an error. */
static gboolean
is_challenge (SoupServerMessage *msg)
{
  const gchar *asked = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");
  const gchar *www = soup_message_headers_get_list (soup_server_message_get_response_headers
      (msg), "WWW-Authenticate");

  if (soup_server_message_get_status (msg) != SOUP_STATUS_UNAUTHORIZED || !www)
    return FALSE;
  return !asked || strstr (www, "stale=true") != NULL;
}

static void
request_finished (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;

  /* kept alive: the next request is due within the request timeout */
  tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg),
      REQUEST_TIMEOUT_MS);
  if (is_challenge (msg))
    h->challenges++;
  else if (soup_server_message_get_status (msg) >= 400)
    h->errors++;
}

static gboolean
basic_check (SoupAuthDomain *domain, SoupServerMessage *msg, const char *username,
    const char *password, gpointer user_data)
{
  TcdHttp *h = user_data;
  return tcd_users_check_password (h->app->users, username, password);
}

/* ---- the sockets: the IP filter before anything is read ---- */

static void
incoming (TcdListener *listener, GSocketConnection *conn, GSocketAddress *remote,
    gpointer user_data)
{
  TcdHttp *h = user_data;
  gboolean tls = listener == h->tls_service;
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (conn, NULL);
  GInetAddress *ia = G_IS_INET_SOCKET_ADDRESS (remote)
      ? g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)) : NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (GIOStream) stream = NULL;

  if (!tcd_security_address_allowed (h->app->security, ia)) {
    g_autofree gchar *a = ia ? g_inet_address_to_string (ia) : g_strdup ("?");
    h->refused++;
    g_debug ("HTTP%s: %s is filtered out", tls ? "S" : "", a);
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    return;
  }
  if (!local) {
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    return;
  }
  if (tls) {
    if (!h->tls_cert) {
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
      return;
    }
    stream = (GIOStream *) g_tls_server_connection_new (G_IO_STREAM (conn), h->tls_cert,
        &err);
    if (!stream) {
      g_warning ("HTTPS: %s", err->message);
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
      return;
    }
  } else {
    stream = g_object_ref (G_IO_STREAM (conn));
  }
  /* the handshake and the first request line are due within the request
   * timeout (request_started () sets it again for each request) */
  tcd_conns_set_deadline (h->conns, remote, REQUEST_TIMEOUT_MS);
  /* @remote is the very object libsoup hands back with each message
   * (soup_server_message_get_remote_address): the deadlines' key */
  if (!soup_server_accept_iostream (tls ? h->tls_server : h->server, stream, local, remote,
          &err))
    g_warning ("HTTP: %s", err->message);
}

/* @address: an IP address, or NULL for all of them (IPv4 and IPv6) */
static TcdListener *
listen_on (TcdHttp *h, const gchar *address, guint port, guint *got, GError **error)
{
  return tcd_conns_listen (h->conns, address, port, incoming, h, got, error);
}

static void
stop_service (TcdListener **s)
{
  g_clear_pointer (s, tcd_listener_free);
}

/* Keep-alive.  libsoup keeps a connection open after an answer only for a
 * server with a listener of its own (soup-server.c, request_finished ():
 * "priv->listeners"), and we accept the connections ourselves (the IP
 * filter and the bounds act before anything is read).  So each server gets
 * a listener on one end of a socket pair, whose other end we keep and
 * never write to: nothing can connect through it, and with it keep-alive
 * works.
 *
 * But libsoup before 3.3.0 never lets go of a kept-alive connection that
 * its client closes while idle (fixed upstream by "server: do not leak idle
 * connections closed by the client", d20c6601): one descriptor lost per
 * such client.  With those versions (Debian 12 has 3.2) every answer says
 * Connection: close instead (security_headers ()), and the connection is
 * closed after it, as the client was told. */
static gboolean
keep_alive_safe (void)
{
  return soup_get_major_version () > 3
      || (soup_get_major_version () == 3 && soup_get_minor_version () >= 3);
}

static void
keep_alive (TcdHttp *h)
{
  gint fds[2];
  g_autoptr (GError) err = NULL;
  SoupServer *servers[2] = { h->server, h->tls_server };

  h->keep_alive = keep_alive_safe ();
  if (!h->keep_alive)
    return;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    g_warning ("HTTP: no socket pair (%s): every connection closes after one answer",
        g_strerror (errno));
    return;
  }
  h->keepalive[0] = g_socket_new_from_fd (fds[0], NULL);
  h->keepalive[1] = g_socket_new_from_fd (fds[1], NULL);
  for (guint i = 0; i < 2; i++)
    if (!h->keepalive[0] || !soup_server_listen_socket (servers[i], h->keepalive[0], 0, &err)) {
      g_warning ("HTTP: %s: every connection closes after one answer",
          err ? err->message : "no socket");
      g_clear_error (&err);
    }
}

/* The installed certificate; a self-signed one is made when there is none
 * (manual 10.12.5: the device installs a self-signed certificate by default) */
static gboolean
load_certificate (TcdHttp *h, GError **error)
{
  g_autofree gchar *cert = NULL, *key = NULL;
  GTlsCertificate *c;

  if (!tcd_certs_installed (h->app->state_dir, &cert, &key)) {
    TcdCertParams p = { .country = "ZZ", .host = g_get_host_name (), .days = 3650 };
    if (!tcd_cert_params_check (&p, TRUE, NULL, NULL))
      p.host = "thermocam.local";
    if (!tcd_certs_create_self_signed (h->app->state_dir, &p, error)
        || !tcd_certs_installed (h->app->state_dir, &cert, &key))
      return FALSE;
    tcd_audit (h->app->security, "certificate", NULL, NULL,
        "created a self-signed certificate for %s", p.host);
  }
  c = g_tls_certificate_new_from_files (cert, key, error);
  if (!c)
    return FALSE;
  g_clear_object (&h->tls_cert);
  h->tls_cert = c;
  return TRUE;
}

TcdHttp *
tcd_http_new (TcdApp *app)
{
  TcdHttp *h = g_new0 (TcdHttp, 1);
  SoupServer *servers[2];

  h->app = app;
  g_mutex_init (&h->jpeg_lock);
  h->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) session_free);
  h->nonces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  h->conns = tcd_conns_new (MIN (MAX_CONNECTIONS, MAX ((gint) tcd_raise_fd_limit () - 128, 64)
          / 4), MAX_CONNECTIONS_PER_ADDRESS, tcd_address_key);
  if (RAND_bytes (h->nonce_key, sizeof h->nonce_key) != 1)
    g_error ("no random bytes for the Digest nonces");
  /* the checks are ours (gate()); this one only speaks Basic */
  h->basic = soup_auth_domain_basic_new ("realm", TCD_REALM, NULL);
  soup_auth_domain_basic_set_auth_callback (h->basic, basic_check, h, NULL);
  h->server = soup_server_new ("server-header", "thermocamd", NULL);
  h->tls_server = soup_server_new ("server-header", "thermocamd", NULL);
  servers[0] = h->server;
  servers[1] = h->tls_server;
  for (guint i = 0; i < 2; i++) {
    soup_server_add_handler (servers[i], "/api", api_handler, h, NULL);
    soup_server_add_handler (servers[i], NULL, root_handler, h, NULL);
    g_signal_connect (servers[i], "request-started", G_CALLBACK (request_started), h);
    g_signal_connect (servers[i], "request-finished", G_CALLBACK (request_finished), h);
  }
  keep_alive (h);
  h->keepalive_id = g_timeout_add_seconds (15, sse_keepalive, h);
  h->measurement_id = g_timeout_add_seconds (1, sse_measurement, h);
  return h;
}

gboolean
tcd_http_listen (TcdHttp *h, const gchar *address, guint port, guint https_port,
    GError **error)
{
  g_autoptr (GError) err = NULL;

  if (address && !*address)
    address = NULL;
  if (!(h->service = listen_on (h, address, port, &h->port, error)))
    return FALSE;
  if (!tcd_config_bool (h->app->config, "security.https.enabled"))
    return TRUE;
  if (!load_certificate (h, &err)) {
    /* HTTPS cannot start: plain HTTP still serves, and says why */
    g_warning ("HTTPS stays off: %s", err->message);
    return TRUE;
  }
  if (!(h->tls_service = listen_on (h, address, https_port, &h->tls_port, error)))
    return FALSE;
  return TRUE;
}

void
tcd_http_disconnect (TcdHttp *h)
{
  stop_service (&h->service);
  stop_service (&h->tls_service);
  h->port = h->tls_port = 0;
}

guint
tcd_http_get_port (TcdHttp *h)
{
  return h->port;
}

guint
tcd_http_get_https_port (TcdHttp *h)
{
  return h->tls_port;
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
  tcd_http_disconnect (h);
  soup_server_disconnect (h->server);
  soup_server_disconnect (h->tls_server);
  tcd_conns_free (h->conns);
  g_clear_object (&h->keepalive[0]);
  g_clear_object (&h->keepalive[1]);
  g_clear_object (&h->basic);
  g_clear_object (&h->server);
  g_clear_object (&h->tls_server);
  g_clear_object (&h->tls_cert);
  g_hash_table_unref (h->sessions);
  g_hash_table_unref (h->nonces);
  g_clear_pointer (&h->jpeg, gst_sample_unref);
  g_mutex_clear (&h->jpeg_lock);
  g_free (h);
}
