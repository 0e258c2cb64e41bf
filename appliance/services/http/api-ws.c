/* thermocamd: the web page's live WebSocket, GET /api/v1/live/ws
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Admission, before the handshake (the route's handler: the gate has
 * settled who asks, at level user, with any credential the API takes): a
 * WebSocket upgrade (RFC 6455), else 400; one Origin, the Host's own
 * (scheme://host[:port]), else 403 and a log line; at most WS_MAX sockets,
 * an account WS_MAX / 4 of them (503, 429).  Then the 101, and the
 * connection, stolen from libsoup's server, is read through a guard
 * (api-ws-guard.c: the bytes, a message's fragments, pings bounded) by a
 * SoupWebsocketConnection (ws_upgrade ()).
 *
 * Client -> server: text, JSON, at most WS_MAX_TEXT bytes, one object with
 * a string "type": play {stream}, stop, radiometry {rate 0..8}; at most
 * WS_MAX_RATE a second.  Anything else is refused: an "error" message, then
 * the close (1003 binary, 1009 too big, 1008 the rest), a log line, and
 * nothing changed.
 *
 * Server -> client: "hello" at once; binary messages of a 16-byte header
 * (kind, 7 zero bytes, the capture time: int64 LE, us since the epoch) and
 * a payload: the video's fMP4 (api-ws-video.c), and radiometric frames
 * (kind 3: uint16 LE width, height, float32 LE kelvin per count, then the
 * counts, uint16 LE row-major, zlib-compressed), sent at the rate asked
 * from the core's newest temperature frame, never one frame twice; the
 * compressed frame is made once for every socket that wants it.
 *
 * A reader that does not keep up skips (bytes given to the connection and
 * not yet acknowledged by the peer, from TCP_INFO); one that stays behind
 * WS_STALL_US, or acknowledges nothing that long while something waits,
 * or answers no ping for WS_IDLE_US (an unsolicited pong is no answer), is
 * dropped.
 */
#include "api-ws.h"

#include <gst/video/video.h>
#include <libdeflate.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>

#include "gstthermalmeta.h"
#include "tc-json.h"
#include "tcd-json.h"

#define WS_MAX 16
#define WS_SHARE_DIV 4                        /* an account: a quarter of them */
#define WS_MAX_TEXT 1024
#define WS_MAX_RATE 20                        /* messages a second */
#define WS_MAX_RADIOMETRY_RATE 8
#define WS_RADIO_BACKLOG (512 * 1024)         /* above it a radiometric frame is skipped (before video) */
#define WS_KEEPALIVE_S 10                     /* a ping when idle that long */
#define WS_IDLE_US (35 * G_USEC_PER_SEC)      /* no message or pong that long: dropped */
#define WS_STALL_US (30 * G_USEC_PER_SEC)     /* behind that long: dropped */
#define WS_DEFLATE_LEVEL 1                    /* fast: the counts shrink little more */
/* the radiometric frames' resolution: the page reads one decimal of a
 * degree; the sensor's finer steps (0.01 K) are mostly its noise, which
 * does not compress: counts rounded to this step shrink to about a third
 * and cost deflate a third of the time */
#define WS_RADIO_STEP_K 0.05

/* ---- sending ---- */

/* the bytes the peer acknowledged (TCP_INFO), or @fallback */
static guint64
acked (WsClient *c, guint64 fallback)
{
  struct tcp_info ti;
  socklen_t len = sizeof ti;

  if (!c->socket || getsockopt (g_socket_get_fd (c->socket), IPPROTO_TCP, TCP_INFO, &ti,
          &len) != 0 || len < offsetof (struct tcp_info, tcpi_bytes_acked) + 8)
    return fallback;
  return ti.tcpi_bytes_acked;
}

/* Acknowledged bytes beyond those handed over are what was not counted
 * (the 101 answer's tail, TLS records, pings and pongs): the base moves on
 * so that they never stand for data taken */
guint64
ws_backlog (WsClient *c)
{
  guint64 a = acked (c, c->acked0 + c->handed) - c->acked0;

  if (a > c->handed) {
    c->acked0 += a - c->handed;
    return 0;
  }
  return c->handed - a;
}

/* a server frame of @len bytes: its header (RFC 6455 5.2, no mask) too */
static guint64
framed (gsize len)
{
  return 2 + (len > 125 ? (len > 65535 ? 8 : 2) : 0) + (guint64) len;
}

static gboolean
ws_open (WsClient *c)
{
  return !c->closing
      && soup_websocket_connection_get_state (c->conn) == SOUP_WEBSOCKET_STATE_OPEN;
}

void
ws_send_binary (WsClient *c, guint8 kind, gint64 capture_us, GByteArray *buf)
{
  guint64 t = (guint64) capture_us;

  if (!ws_open (c))
    return;
  memset (buf->data, 0, WS_HEADER);
  buf->data[0] = kind;
  for (guint i = 0; i < 8; i++)
    buf->data[8 + i] = t >> (8 * i);
  soup_websocket_connection_send_binary (c->conn, buf->data, buf->len);
  c->handed += framed (buf->len);
}

void
ws_send_text_node (WsClient *c, JsonNode *node)
{
  g_autofree gchar *text = NULL;

  if (!ws_open (c))
    return;
  text = tcd_json_to_string (node, FALSE);
  soup_websocket_connection_send_text (c->conn, text);
  c->handed += framed (strlen (text));
}

static void
ws_close (WsClient *c, gushort code, const gchar *reason)
{
  if (!ws_open (c))
    return;
  c->closing = TRUE;
  soup_websocket_connection_close (c->conn, code, reason);
}

void
ws_send_error (WsClient *c, const gchar *code, const gchar *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "error");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  ws_send_text_node (c, node);
}

void
ws_refuse (WsClient *c, gushort close_code, const gchar *code, const gchar *fmt, ...)
{
  g_autofree gchar *message = NULL;
  va_list ap;

  if (!ws_open (c))
    return;
  va_start (ap, fmt);
  message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_message ("HTTP: the live socket of %s (%s) refused a message and closes (%u): %s",
      c->user, c->address, close_code, message);
  ws_send_error (c, code, message);
  ws_close (c, close_code, code);
}

void
ws_drop (WsClient *c, const gchar *why)
{
  if (c->closing)
    return;
  c->closing = TRUE;
  c->h->streams_dropped++;
  g_message ("HTTP: dropped the live socket of %s (%s): %s (%" G_GUINT64_FORMAT
      " bytes not taken)", c->user, c->address, why, ws_backlog (c));
  tcd_conns_close (c->h->conns, c->remote);
}

/* ---- radiometric frames ---- */

/* the newest temperature frame as a kind-3 message, made once per frame
 * for every socket; NULL before the first (or for a frame without a scale) */
static GByteArray *
radio_frame (TcdHttp *h, GstClockTime *pts)
{
  g_autoptr (GstSample) s = tcd_pipeline_get_temperature (h->ctx->pipeline);
  GstBuffer *buf;
  GstVideoInfo info;
  GstVideoFrame vf;
  GstThermalMeta *meta;
  gdouble scale = 0;
  gint64 mono;
  guint w, hgt, stride;
  GByteArray *o;
  gfloat fscale;
  guint32 bits, step;
  gsize at, bound, made;

  if (!s || !(buf = gst_sample_get_buffer (s)))
    return NULL;
  *pts = GST_BUFFER_PTS (buf);
  if (h->radio_frame && h->radio_pts == *pts)
    return h->radio_frame;
  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (s))
      || GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_GRAY16_LE)
    return NULL;
  if ((meta = gst_buffer_get_thermal_meta (buf)) && meta->scale > 0)
    scale = meta->scale;
  else
    gst_structure_get_double (gst_caps_get_structure (gst_sample_get_caps (s), 0),
        GST_THERMAL_CAPS_SCALE, &scale);
  if (!(scale > 0) || !gst_video_frame_map (&vf, &info, buf, GST_MAP_READ))
    return NULL;
  w = GST_VIDEO_FRAME_WIDTH (&vf);
  hgt = GST_VIDEO_FRAME_HEIGHT (&vf);
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0);
  if (!h->radio_frame)
    h->radio_frame = g_byte_array_new ();
  if (!h->radio_deflate
      && !(h->radio_deflate = libdeflate_alloc_compressor (WS_DEFLATE_LEVEL))) {
    gst_video_frame_unmap (&vf);
    return NULL;
  }
  o = h->radio_frame;
  /* header (filled by ws_send_binary's caller below), size, scale */
  g_byte_array_set_size (o, WS_HEADER + 8);
  o->data[WS_HEADER] = w;
  o->data[WS_HEADER + 1] = w >> 8;
  o->data[WS_HEADER + 2] = hgt;
  o->data[WS_HEADER + 3] = hgt >> 8;
  step = MAX (1, (guint) floor (WS_RADIO_STEP_K / scale + 1e-9));
  fscale = scale * step;
  memcpy (&bits, &fscale, 4);
  for (guint i = 0; i < 4; i++)
    o->data[WS_HEADER + 4 + i] = bits >> (8 * i);
  at = o->len;
  /* the counts rounded to the step (a table made when the step changes:
   * a division per pixel cost more than the compression's matching) */
  if (h->radio_round_step != step) {
    if (!h->radio_round)
      h->radio_round = g_new (guint16, 65536);
    for (guint v = 0; v < 65536; v++)
      h->radio_round[v] = (v + step / 2) / step;
    h->radio_round_step = step;
  }
  /* the counts rounded to the step, little-endian, in one buffer kept
   * while the size stays (a row's stride may be wider than its pixels) */
  if (h->radio_counts_len != (gsize) w * hgt * 2) {
    g_free (h->radio_counts);
    h->radio_counts_len = (gsize) w * hgt * 2;
    h->radio_counts = g_malloc (h->radio_counts_len);
  }
  for (guint y = 0; y < hgt; y++) {
    const guint16 *in = (const guint16 *) ((const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 0)
        + (gsize) y * stride);
    guint8 *row = h->radio_counts + (gsize) y * w * 2;

    for (guint x = 0; x < w; x++) {
      guint16 q = h->radio_round[GUINT16_FROM_LE (in[x])];
      row[2 * x] = q;
      row[2 * x + 1] = q >> 8;
    }
  }
  gst_video_frame_unmap (&vf);
  /* zlib's format (what the page's DecompressionStream("deflate") reads),
   * made by libdeflate: a whole buffer in one call, at level 1 two and a
   * half times as fast as zlib's deflate and smaller */
  bound = libdeflate_zlib_compress_bound (h->radio_deflate, h->radio_counts_len);
  g_byte_array_set_size (o, at + bound);
  made = libdeflate_zlib_compress (h->radio_deflate, h->radio_counts, h->radio_counts_len,
      o->data + at, bound);
  if (!made) {
    g_warning ("HTTP: radiometric frame: it does not fit its bound");
    g_byte_array_set_size (o, 0);
    h->radio_pts = GST_CLOCK_TIME_NONE;
    return NULL;
  }
  at += made;
  g_byte_array_set_size (o, at);
  /* the capture time, in the clock of the epoch */
  mono = tcd_pipeline_capture_time (h->ctx->pipeline, *pts);
  h->radio_capture_us = mono > 0 ? g_get_real_time () - (g_get_monotonic_time () - mono)
      : g_get_real_time ();
  h->radio_pts = *pts;
  return o;
}

/* one timer for every socket, at the highest rate a socket may ask: a
 * frame is compressed at most once a tick whatever the number of sockets.
 * The sockets' phases are the timer's: a socket at rate R sends on the
 * ticks where ticks * R / WS_MAX_RADIOMETRY_RATE steps, so that sockets at
 * one rate (and at rates that divide each other) send on the same ticks and
 * share one compressed frame (on phases of their own, ten pages at one a
 * second made up to eight frames a second where one does) */
static gboolean
radio_due (guint64 tick, guint rate)
{
  return tick * rate / WS_MAX_RADIOMETRY_RATE != (tick - 1) * rate / WS_MAX_RADIOMETRY_RATE;
}

static gboolean
radio_tick (gpointer data)
{
  TcdHttp *h = data;
  g_autoptr (GList) all = g_list_copy (h->ws);
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GByteArray *f = NULL;
  gboolean any = FALSE, made = FALSE;

  h->radio_ticks++;
  for (GList *l = all; l; l = l->next) {
    WsClient *c = l->data;

    if (!c->rate)
      continue;
    any = TRUE;
    if (!c->radio_first && !radio_due (h->radio_ticks, c->rate))
      continue;
    if (!ws_open (c))
      continue;
    if (ws_backlog (c) > WS_RADIO_BACKLOG) {
      if (!c->behind_since)
        c->behind_since = g_get_monotonic_time ();
      continue;
    }
    if (!made) {
      made = TRUE;
      f = radio_frame (h, &pts);
    }
    /* never faster than the sensor: a frame is sent once */
    if (!f || pts == c->radio_pts)
      continue;
    c->radio_first = FALSE;
    c->radio_pts = pts;
    ws_send_binary (c, WS_KIND_RADIOMETRY, h->radio_capture_us, f);
  }
  if (!any)
    h->radio_tick_id = 0;
  return any ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
radio_set_rate (WsClient *c, guint rate)
{
  TcdHttp *h = c->h;

  c->rate = rate;
  c->radio_first = rate > 0;    /* the first at the next tick */
  if (rate && !h->radio_tick_id) {
    h->radio_ticks = 0;
    h->radio_tick_id = g_timeout_add (1000 / WS_MAX_RADIOMETRY_RATE, radio_tick, h);
  }
}

/* ---- messages from the page ---- */

/* FALSE (refused) when @o has a member not in @allowed */
static gboolean
only_members (WsClient *c, JsonObject *o, const gchar *type, const gchar * const *allowed)
{
  g_autoptr (GList) names = json_object_get_members (o);

  for (GList *l = names; l; l = l->next)
    if (!g_strv_contains (allowed, l->data)) {
      ws_refuse (c, WS_CLOSE_POLICY, "invalid", "%s: unknown member \"%.64s\"", type,
          (const gchar *) l->data);
      return FALSE;
    }
  return TRUE;
}

/* TRUE when a string of the JSON text @data holds "\u0000": json-glib
 * would keep its prefix only */
static gboolean
has_nul (const gchar *data, gsize len)
{
  gboolean in = FALSE;

  for (gsize i = 0; i < len; i++) {
    if (data[i] == '"')
      in = !in;
    else if (in && data[i] == '\\' && i + 1 < len) {
      if (data[i + 1] == 'u' && i + 5 < len && memcmp (data + i + 2, "0000", 4) == 0)
        return TRUE;
      i++;                      /* the escaped character */
    }
  }
  return FALSE;
}

static void
on_text (WsClient *c, const gchar *data, gsize len)
{
  static const gchar *play[] = { "type", "stream", NULL };
  static const gchar *stop[] = { "type", NULL };
  static const gchar *radio[] = { "type", "rate", NULL };
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = tc_json_parse (data, len, 4, &err);
  JsonObject *o;
  const gchar *type;

  if (!root) {
    ws_refuse (c, WS_CLOSE_POLICY, "invalid", "not JSON: %s", err->message);
    return;
  }
  if (has_nul (data, len)) {
    ws_refuse (c, WS_CLOSE_POLICY, "invalid", "a string holds a NUL (\\u0000)");
    return;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root)
      || !(type = tc_json_get_string ((o = json_node_get_object (root)), "type", NULL))) {
    ws_refuse (c, WS_CLOSE_POLICY, "invalid", "a message is an object with a string \"type\"");
    return;
  }
  if (g_str_equal (type, "play")) {
    const gchar *stream = tc_json_get_string (o, "stream", NULL);
    if (!only_members (c, o, type, play))
      return;
    if (!stream || !ws_video_has (c->h, stream)) {
      ws_refuse (c, WS_CLOSE_POLICY, "invalid", "play: \"stream\" is \"main\" or \"sub\"");
      return;
    }
    ws_video_play (c, stream);
  } else if (g_str_equal (type, "stop")) {
    if (!only_members (c, o, type, stop))
      return;
    ws_video_stop (c);
  } else if (g_str_equal (type, "radiometry")) {
    gint64 rate = tc_json_get_int (o, "rate", -1);
    if (!only_members (c, o, type, radio))
      return;
    if (rate < 0 || rate > WS_MAX_RADIOMETRY_RATE) {
      ws_refuse (c, WS_CLOSE_POLICY, "invalid",
          "radiometry: \"rate\" is an integer of 0 to %d (frames a second)",
          WS_MAX_RADIOMETRY_RATE);
      return;
    }
    radio_set_rate (c, rate);
  } else {
    ws_refuse (c, WS_CLOSE_POLICY, "invalid", "unknown type \"%.32s\"", type);
  }
}

static void
on_message (SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  WsClient *c = data;
  gint64 now = g_get_monotonic_time ();
  gsize len;
  const gchar *text = g_bytes_get_data (message, &len);

  c->last_seen = now;
  if (!ws_open (c))
    return;
  if (now - c->window_start >= G_USEC_PER_SEC) {
    c->window_start = now;
    c->window_count = 0;
  }
  if (++c->window_count > WS_MAX_RATE) {
    ws_refuse (c, WS_CLOSE_POLICY, "too_fast", "more than %d messages a second", WS_MAX_RATE);
    return;
  }
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    ws_refuse (c, WS_CLOSE_UNSUPPORTED, "binary", "only text messages (JSON) are taken");
    return;
  }
  if (len > WS_MAX_TEXT) {
    ws_refuse (c, WS_CLOSE_TOO_BIG, "too_large", "a message is at most %d bytes (%"
        G_GSIZE_FORMAT ")", WS_MAX_TEXT, len);
    return;
  }
  on_text (c, text, len);
}

/* libsoup pings every WS_KEEPALIVE_S from the upgrade ("libsoup"): a pong
 * is an answer when there is a ping it answers, else (unsolicited) it
 * keeps nothing alive */
static void
on_pong (SoupWebsocketConnection *conn, GBytes *message, gpointer data)
{
  WsClient *c = data;
  gint64 now = g_get_monotonic_time ();
  gint64 pings = (now - c->upgraded_at) / (WS_KEEPALIVE_S * G_USEC_PER_SEC);
  gsize len;
  const gchar *p = g_bytes_get_data (message, &len);

  if (len == 7 && memcmp (p, "libsoup", 7) == 0 && c->pongs < pings) {
    c->pongs++;
    c->last_seen = now;
  }
}

static void
on_error (SoupWebsocketConnection *conn, GError *error, gpointer data)
{
  WsClient *c = data;

  g_message ("HTTP: the live socket of %s (%s): %s", c->user, c->address, error->message);
}

/* the guard's word (api-ws-guard.c), from within libsoup's read */
static void
on_guard (WsGuardEvent event, gushort value, const gchar *why, gpointer data)
{
  WsClient *c = data;

  if (event == WS_GUARD_PING) {
    c->handed += framed (value);        /* its pong */
    return;
  }
  ws_refuse (c, value, value == WS_CLOSE_TOO_BIG ? "too_large"
      : value == WS_CLOSE_POLICY ? "too_fast" : "invalid", "%s", why);
}

/* ---- life ---- */

static void
ws_free (WsClient *c)
{
  ws_video_stop (c);
  g_signal_handlers_disconnect_by_data (c->conn, c);
  ws_guard_detach (soup_websocket_connection_get_io_stream (c->conn));
  g_object_unref (c->conn);
  g_clear_object (&c->remote);
  g_clear_object (&c->socket);
  g_free (c->user);
  g_free (c->address);
  g_free (c->token);
  g_free (c);
}

static gboolean
ws_free_idle (gpointer data)
{
  ws_free (data);
  return G_SOURCE_REMOVE;
}

/* off the list at once; freed out of the connection's own signal */
static void
on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  WsClient *c = data;
  TcdHttp *h = c->h;

  h->ws = g_list_remove (h->ws, c);
  c->closing = TRUE;
  ws_video_stop (c);
  c->rate = 0;
  g_signal_handlers_disconnect_by_data (conn, c);
  ws_guard_detach (soup_websocket_connection_get_io_stream (conn));
  g_idle_add (ws_free_idle, c);
}

static void
send_hello (WsClient *c)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;
  gint w = 0, hgt = 0, fps = 0;

  tcd_pipeline_get_format (c->h->ctx->pipeline, &w, &hgt, &fps);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "hello");
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, c->user);
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, tcd_level_to_string (c->level));
  json_builder_set_member_name (b, "streams");
  json_builder_begin_object (b);
  ws_video_hello_streams (c->h, b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "radiometry");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, hgt);
  json_builder_end_object (b);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  ws_send_text_node (c, node);
}

/* the 101 was written: the connection is the socket's, read through the
 * guard (api-ws-guard.c) */
static void
ws_upgrade (SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;
  g_autoptr (SoupServerMessage) keep = g_object_ref (msg);
  Who *who = who_of (msg);
  g_autoptr (GIOStream) base = NULL;
  g_autoptr (GIOStream) guard = NULL;
  SoupWebsocketConnection *conn;
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  WsClient *c;
  gpointer sock;
  guint all = g_list_length (h->ws), mine = 0;

  g_signal_handlers_disconnect_by_func (msg, ws_upgrade, user_data);
  if (!who || !remote || !(base = soup_server_message_steal_connection (msg)))
    return;
  c = g_new0 (WsClient, 1);
  c->h = h;
  c->remote = g_object_ref (remote);
  guard = ws_guard_new (base, on_guard, c);
  conn = soup_websocket_connection_new (guard, soup_server_message_get_uri (msg),
      SOUP_WEBSOCKET_CONNECTION_SERVER, soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "Origin"), NULL, NULL);
  c->conn = conn;
  /* the TCP socket under the stolen stream (set by incoming (), tcd-http.c),
   * for what its peer acknowledged (ws_backlog ()) */
  sock = g_object_get_data (G_OBJECT (c->remote), "tcd-socket");
  c->socket = G_IS_SOCKET (sock) ? g_object_ref (sock) : NULL;
  c->user = g_strdup (who->user);
  c->address = g_strdup (who->address);
  c->token = g_strdup (who->token);
  c->level = who->level;
  c->upgraded_at = c->last_seen = c->progress_at = g_get_monotonic_time ();
  c->radio_pts = GST_CLOCK_TIME_NONE;
  c->acked0 = c->last_acked = acked (c, 0);
  h->ws = g_list_prepend (h->ws, c);
  /* a socket has no deadline: a slow or silent one is dropped (ws_watch) */
  tcd_conns_set_deadline (h->conns, c->remote, 0);
  /* the messages' bound is ours (WS_MAX_TEXT, answered); the guard's and
   * libsoup's, above it, keep a huge message from being read into memory */
  soup_websocket_connection_set_max_incoming_payload_size (conn, 64 * 1024);
  soup_websocket_connection_set_keepalive_interval (conn, WS_KEEPALIVE_S);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), c);
  g_signal_connect (conn, "pong", G_CALLBACK (on_pong), c);
  g_signal_connect (conn, "error", G_CALLBACK (on_error), c);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), c);
  /* handshakes admitted together may pass the bounds: the late ones go */
  for (GList *l = h->ws; l; l = l->next)
    if (g_strcmp0 (((WsClient *) l->data)->user, c->user) == 0)
      mine++;
  if (all >= WS_MAX || mine > MAX (WS_MAX / WS_SHARE_DIV, 1))
    ws_refuse (c, WS_CLOSE_TRY_LATER, "too_many_clients", "at most %u live sockets at once, "
        "%u an account", WS_MAX, MAX (WS_MAX / WS_SHARE_DIV, 1));
  else
    send_hello (c);
}

/* the page's own origin: Origin is scheme://Host (the default port the
 * same written or not) */
static gboolean
same_origin (TcdHttp *h, SoupServerMessage *msg, const gchar *origin)
{
  const gchar *host = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Host");
  const gchar *scheme = is_tls (h, msg) ? "https" : "http";
  g_autofree gchar *want = NULL;
  g_autoptr (GUri) o = NULL, w = NULL;
  gint op, wp, def = is_tls (h, msg) ? 443 : 80;

  if (!origin || !host || strlen (origin) > 512 || strlen (host) > 512)
    return FALSE;
  want = g_strdup_printf ("%s://%s", scheme, host);
  o = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  w = g_uri_parse (want, G_URI_FLAGS_NONE, NULL);
  if (!o || !w || !g_uri_get_host (o) || !g_uri_get_host (w) || g_uri_get_userinfo (o)
      || (g_uri_get_path (o)[0] && !g_str_equal (g_uri_get_path (o), "/"))
      || g_uri_get_query (o) || g_uri_get_fragment (o))
    return FALSE;
  op = g_uri_get_port (o) > 0 ? g_uri_get_port (o) : def;
  wp = g_uri_get_port (w) > 0 ? g_uri_get_port (w) : def;
  /* on the WebSocket(s) port the page is the one of the HTTP(S) port (or
   * of the server port, which serves it too) */
  if (op != wp && http_ws_only (msg))
    wp = (gint) (is_tls (h, msg) ? h->tls_port
        : h->srv_port && op == (gint) h->srv_port ? h->srv_port : h->port);
  return g_ascii_strcasecmp (g_uri_get_scheme (o), scheme) == 0
      && g_ascii_strcasecmp (g_uri_get_host (o), g_uri_get_host (w)) == 0 && op == wp;
}

/* before the handshake: FALSE when answered */
static gboolean
ws_admit (TcdHttp *h, SoupServerMessage *msg)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  /* every Origin sent, joined: more than one is refused */
  const gchar *origin = soup_message_headers_get_list (hdrs, "Origin");
  const gchar *user = who_user (msg);
  g_autoptr (GError) err = NULL;
  guint mine = 0, share = MAX (WS_MAX / WS_SHARE_DIV, 1);

  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &err)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL,
        "a WebSocket handshake (RFC 6455) is needed here: %s", err->message);
    return FALSE;
  }
  if ((origin && strchr (origin, ',')) || !same_origin (h, msg, origin)) {
    const gchar *host = soup_message_headers_get_one (hdrs, "Host");
    g_autofree gchar *o = g_strescape (origin ? origin : "(none)", NULL);
    g_autofree gchar *hs = g_strescape (host ? host : "?", NULL);
    g_message ("HTTP: %s (%s): a live socket from the origin %.200s refused (the page's is "
        "%s://%.200s)", address_of (msg), user ? user : "?", o, is_tls (h, msg) ? "https"
        : "http", hs);
    send_error (msg, SOUP_STATUS_FORBIDDEN, "cross_site", "Origin",
        "a live socket is opened by this device's own page only (Origin)");
    return FALSE;
  }
  for (GList *l = h->ws; l; l = l->next)
    if (g_strcmp0 (((WsClient *) l->data)->user, user) == 0)
      mine++;
  if (g_list_length (h->ws) >= WS_MAX) {
    send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too_many_clients", NULL,
        "at most %u live sockets at once", WS_MAX);
    return FALSE;
  }
  if (mine >= share) {
    send_error (msg, 429, "too_many_clients", NULL,
        "%s holds %u live sockets already, its share of %u", user, share, WS_MAX);
    return FALSE;
  }
  return TRUE;
}

/* the route's handler (the gate and the dispatcher let the request
 * through: someone of level user at least): admission, then the handshake
 * (no extension: the payloads are H.264 and zlib already; no subprotocol;
 * the Origin is checked here) */
static void
handle_live_ws (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  if (!ws_admit (h, msg)
      || !soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    return;
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (ws_upgrade), h);
}

/* the session a socket was opened with is over (logged out, timed out) */
static gboolean
session_over (TcdHttp *h, WsClient *c)
{
  Session *s;

  if (!c->token)
    return FALSE;
  s = g_hash_table_lookup (h->sessions, c->token);
  return !s || g_get_monotonic_time () > s->expires;
}

/* every few seconds: the silent and the stalled go, and the sockets of a
 * session that is over */
static gboolean
ws_watch (gpointer user_data)
{
  TcdHttp *h = user_data;
  gint64 now = g_get_monotonic_time ();
  /* a copy: a socket closing leaves the list (its client is freed later) */
  g_autoptr (GList) all = g_list_copy (h->ws);

  for (GList *l = all; l; l = l->next) {
    WsClient *c = l->data;
    guint64 a;
    if (c->closing)
      continue;
    /* progress: the peer acknowledged more */
    if ((a = acked (c, c->last_acked)) != c->last_acked) {
      c->last_acked = a;
      c->progress_at = now;
    }
    if (session_over (h, c))
      ws_close (c, WS_CLOSE_POLICY, "the session ended");
    else if (now - c->last_seen > WS_IDLE_US)
      ws_drop (c, "no answer to pings");
    else if (ws_backlog (c) > 0 && now - c->progress_at > WS_STALL_US)
      ws_drop (c, "took nothing for 30 s");
    else if (c->behind_since && ws_backlog (c) < WS_RADIO_BACKLOG / 4 && !c->video)
      c->behind_since = 0;
    else if (c->behind_since && now - c->behind_since > WS_STALL_US)
      ws_drop (c, "behind for 30 s");
  }
  return G_SOURCE_CONTINUE;
}

void
ws_setup (TcdHttp *h, SoupServer *server)
{
  if (!h->ws_watch_id)
    h->ws_watch_id = g_timeout_add_seconds (5, ws_watch, h);
}

void
ws_shutdown (TcdHttp *h)
{
  if (h->ws_watch_id)
    g_source_remove (h->ws_watch_id);
  h->ws_watch_id = 0;
  while (h->ws) {
    WsClient *c = h->ws->data;
    h->ws = g_list_delete_link (h->ws, h->ws);
    ws_close (c, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "stopping");
    ws_free (c);
  }
  g_clear_pointer (&h->radio_frame, g_byte_array_unref);
  g_clear_pointer (&h->radio_deflate, libdeflate_free_compressor);
  if (h->radio_tick_id)
    g_source_remove (h->radio_tick_id);
  h->radio_tick_id = 0;
  g_clear_pointer (&h->radio_counts, g_free);
  h->radio_counts_len = 0;
  g_clear_pointer (&h->radio_round, g_free);
  h->radio_round_step = 0;
}

void
ws_end (TcdHttp *h, const gchar *user, gboolean everyone, gboolean filtered)
{
  g_autoptr (GList) all = g_list_copy (h->ws);

  for (GList *l = all; l; l = l->next) {
    WsClient *c = l->data;
    if (everyone || (user && g_strcmp0 (c->user, user) == 0))
      ws_close (c, WS_CLOSE_POLICY, "the session ended");
    else if (filtered && !tcd_security_address_allowed_str (h->ctx->security, c->address))
      ws_drop (c, "the IP filter refuses its address");
  }
}

guint
ws_count (TcdHttp *h)
{
  return g_list_length (h->ws);
}

guint64
ws_max_backlog (TcdHttp *h)
{
  guint64 most = 0;

  for (GList *l = h->ws; l; l = l->next)
    most = MAX (most, ws_backlog (l->data));
  return most;
}

/* GET /live/endpoints: where the page opens its live socket (the
 * WebSocket(s) ports while they listen, manual 9.2), readable by whoever may
 * open it (GET /config/ports is an operator's) */
static void
handle_live_endpoints (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  const gchar *names[] = { "websocket", "websockets" };
  guint ports[] = { h->ws_port, h->wss_port };

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, API "live/ws");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree gchar *on = g_strdup_printf ("ports.%s_enabled", names[i]);
    json_builder_set_member_name (b, names[i]);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "enabled");
    json_builder_add_boolean_value (b, tcd_config_bool (h->ctx->config, on));
    json_builder_set_member_name (b, "port");
    json_builder_add_int_value (b, ports[i]);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

const TcdRoute tcd_http_ws_routes[] = {
  HTTP_ROUTE_P ("GET", "/live/ws", TCD_LEVEL_USER, TCD_PERM_LIVE_VIEW, handle_live_ws),
  HTTP_ROUTE_P ("GET", "/live/endpoints", TCD_LEVEL_USER, TCD_PERM_LIVE_VIEW, handle_live_endpoints),
  HTTP_ROUTES_END
};
