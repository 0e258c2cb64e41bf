/* thermocamd: the live socket's video: the stream's own encoder (the one
 * RTSP uses: tcd-encoder.h) through a tap, written as fragmented MP4
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tap's callback runs in the encoder's streaming thread: it only queues
 * the access unit (a reference in a ring of VIDEO_QUEUE slots; when it is
 * full the ring is emptied and the socket waits for a key frame) and wakes
 * the main context (the sink's one source, made ready), where the AUs are
 * written: before the first, and whenever the
 * caps change, a "video" text message and the init segment; then one media
 * segment per AU, the first a key frame.  A socket whose peer has not taken
 * VIDEO_BACKLOG bytes skips until the next key frame (ws_watch () drops it
 * after 30 s behind).  The decode times follow the capture times (90 kHz
 * from the first AU), so skipped frames leave their gap.
 */
#include "api-ws.h"

#include <stdio.h>
#include <string.h>

#include "tcd-encoder.h"
#include "tcd-fmp4.h"

#define VIDEO_QUEUE 32                        /* AUs waiting for the main context */
#define VIDEO_BACKLOG (1024 * 1024)           /* not taken by the peer: skip to a key frame */

typedef struct {
  GstSample *au;
  gint64 capture_us;
} Au;

/* shared by the streaming thread and the main context */
typedef struct {
  gint ref;
  GMutex lock;
  WsClient *c;                  /* NULL once stopped */
  GSource *wake;                /* drain (), made ready by on_au () */
  Au ring[VIDEO_QUEUE];         /* from ring[first], n of them */
  guint first, n;
  gboolean overflow;            /* AUs were thrown away: wait for a key frame */
} Sink;

struct _WsVideo {
  gchar *stream;
  TcdEncoderTap *tap;
  Sink *sink;
  TcdFmp4 *fmp4;
  GstCaps *caps;                /* of fmp4 */
  gboolean want_key;
  gboolean started;
  gint64 base_us;               /* capture time of decode time 0 */
  guint64 last_dts;
  GByteArray *buf;              /* reused for every segment */
};

/* under the sink's lock */
static void
ring_clear (Sink *s)
{
  for (guint i = 0; i < s->n; i++)
    gst_sample_unref (s->ring[(s->first + i) % VIDEO_QUEUE].au);
  s->first = s->n = 0;
}

static Sink *
sink_ref (Sink *s)
{
  g_atomic_int_inc (&s->ref);
  return s;
}

static void
sink_unref (gpointer data)
{
  Sink *s = data;

  if (!g_atomic_int_dec_and_test (&s->ref))
    return;
  ring_clear (s);
  g_source_unref (s->wake);
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* ---- hello ---- */

void
ws_video_hello_streams (TcdHttp *h, JsonBuilder *b)
{
  static const gchar *const streams[] = { "main", "sub" };
  gint sw = 0, sh = 0, sfps = 0;

  tcd_pipeline_get_format (h->ctx->pipeline, &sw, &sh, &sfps);
  for (guint i = 0; i < G_N_ELEMENTS (streams); i++) {
    g_autofree gchar *res_path = g_strdup_printf ("video.%s.resolution", streams[i]);
    g_autofree gchar *fps_path = g_strdup_printf ("video.%s.frame_rate", streams[i]);
    const gchar *res = tcd_config_string (h->ctx->config, res_path);
    guint w = 0, hgt = 0;
    gint64 fps = tcd_config_int (h->ctx->config, fps_path);

    if (!tcd_encoders_has (h->ctx->encoders, streams[i]) || !res
        || sscanf (res, "%ux%u", &w, &hgt) != 2)
      continue;
    /* never above the sensor's rate */
    if (sfps > 0 && fps > sfps)
      fps = sfps;
    json_builder_set_member_name (b, streams[i]);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "width");
    json_builder_add_int_value (b, w);
    json_builder_set_member_name (b, "height");
    json_builder_add_int_value (b, hgt);
    json_builder_set_member_name (b, "fps");
    json_builder_add_int_value (b, fps);
    json_builder_end_object (b);
  }
}

gboolean
ws_video_has (TcdHttp *h, const gchar *stream)
{
  return (g_str_equal (stream, "main") || g_str_equal (stream, "sub"))
      && tcd_encoders_has (h->ctx->encoders, stream);
}

/* ---- writing ---- */

static void
send_video_message (WsClient *c, WsVideo *v)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autofree gchar *mime = g_strdup_printf ("video/mp4; codecs=\"%s\"",
      tcd_fmp4_codecs (v->fmp4));

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "video");
  json_builder_set_member_name (b, "stream");
  json_builder_add_string_value (b, v->stream);
  json_builder_set_member_name (b, "mime");
  json_builder_add_string_value (b, mime);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, tcd_fmp4_get_width (v->fmp4));
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, tcd_fmp4_get_height (v->fmp4));
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  ws_send_text_node (c, node);
}

/* a new writer for @caps: the "video" message and the init segment */
static gboolean
video_init (WsClient *c, WsVideo *v, GstCaps *caps)
{
  g_autoptr (GError) err = NULL;
  TcdFmp4 *f = tcd_fmp4_new_from_caps (caps, &err);

  if (!f) {
    g_warning ("HTTP: live socket video of %s: %s", v->stream, err->message);
    return FALSE;
  }
  g_clear_pointer (&v->fmp4, tcd_fmp4_free);
  gst_caps_replace (&v->caps, caps);
  v->fmp4 = f;
  send_video_message (c, v);
  g_byte_array_set_size (v->buf, WS_HEADER);
  tcd_fmp4_write_init (f, v->buf);
  ws_send_binary (c, WS_KIND_INIT, 0, v->buf);
  /* the first media segment after an init is a key frame */
  v->want_key = TRUE;
  return TRUE;
}

static void
video_au (WsClient *c, WsVideo *v, GstSample *s, gint64 capture_us)
{
  GstBuffer *buf = gst_sample_get_buffer (s);
  GstCaps *caps = gst_sample_get_caps (s);
  gboolean key = buf && !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  GstMapInfo map;
  guint64 dts;
  gint32 cts = 0;

  if (!buf || !caps)
    return;
  if (ws_backlog (c) > VIDEO_BACKLOG) {
    /* behind: nothing until a key frame finds the peer caught up */
    v->want_key = TRUE;
    if (!c->behind_since)
      c->behind_since = g_get_monotonic_time ();
    return;
  }
  c->behind_since = 0;
  if ((!v->caps || !gst_caps_is_equal (caps, v->caps)) && !video_init (c, v, caps))
    return;
  if (v->want_key && !key)
    return;
  v->want_key = FALSE;
  if (!v->started) {
    v->started = TRUE;
    v->base_us = capture_us;
    v->last_dts = 0;
    dts = 0;
  } else {
    gint64 d = capture_us - v->base_us;
    dts = d > 0 ? gst_util_uint64_scale (d, TCD_FMP4_TIMESCALE, G_USEC_PER_SEC) : 0;
    /* strictly increasing, whatever the clock did */
    if (dts <= v->last_dts)
      dts = v->last_dts + 1;
  }
  v->last_dts = dts;
  if (GST_BUFFER_PTS_IS_VALID (buf) && GST_BUFFER_DTS_IS_VALID (buf))
    cts = gst_util_uint64_scale (GST_BUFFER_PTS (buf) - MIN (GST_BUFFER_DTS (buf),
            GST_BUFFER_PTS (buf)), TCD_FMP4_TIMESCALE, GST_SECOND);
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return;
  g_byte_array_set_size (v->buf, WS_HEADER);
  tcd_fmp4_write_segment (v->fmp4, v->buf, map.data, map.size, dts,
      tcd_fmp4_default_duration (v->fmp4), cts, key);
  gst_buffer_unmap (buf, &map);
  ws_send_binary (c, WS_KIND_MEDIA, capture_us, v->buf);
}

/* main context: the AUs the streaming thread queued */
static gboolean
drain (gpointer data)
{
  Sink *s = data;
  Au got[VIDEO_QUEUE];
  guint n;
  gboolean overflow;
  WsClient *c;

  g_mutex_lock (&s->lock);
  g_source_set_ready_time (s->wake, -1);
  n = s->n;
  for (guint i = 0; i < n; i++)
    got[i] = s->ring[(s->first + i) % VIDEO_QUEUE];
  s->first = s->n = 0;
  overflow = s->overflow;
  s->overflow = FALSE;
  c = s->c;
  g_mutex_unlock (&s->lock);
  /* c->video is this sink's while s->c is set (both cleared in the main
   * context by ws_video_stop ()) */
  if (c && c->video && overflow)
    c->video->want_key = TRUE;
  for (guint i = 0; i < n; i++) {
    if (c && c->video && c->video->sink == s)
      video_au (c, c->video, got[i].au, got[i].capture_us);
    gst_sample_unref (got[i].au);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
wake_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  return callback (data);
}

static GSourceFuncs wake_funcs = { NULL, NULL, wake_dispatch, NULL, NULL, NULL };

/* the encoder's streaming thread */
static void
on_au (GstSample *au, gint64 capture_us, gpointer data)
{
  Sink *s = data;
  Au *a;

  g_mutex_lock (&s->lock);
  if (!s->c) {
    g_mutex_unlock (&s->lock);
    return;
  }
  if (s->n == VIDEO_QUEUE) {
    ring_clear (s);
    s->overflow = TRUE;
  }
  a = &s->ring[(s->first + s->n++) % VIDEO_QUEUE];
  a->au = gst_sample_ref (au);
  a->capture_us = capture_us;
  g_source_set_ready_time (s->wake, 0);
  g_mutex_unlock (&s->lock);
}

/* ---- play, stop ---- */

void
ws_video_stop (WsClient *c)
{
  WsVideo *v = c->video;

  if (!v)
    return;
  c->video = NULL;
  g_mutex_lock (&v->sink->lock);
  v->sink->c = NULL;
  ring_clear (v->sink);
  g_mutex_unlock (&v->sink->lock);
  /* its reference of the sink goes with it */
  g_source_destroy (v->sink->wake);
  /* outside the sink's lock: untap waits for a callback under way */
  if (v->tap)
    tcd_encoders_untap (c->h->ctx->encoders, v->tap);
  sink_unref (v->sink);
  tcd_fmp4_free (v->fmp4);
  gst_caps_replace (&v->caps, NULL);
  g_byte_array_unref (v->buf);
  g_free (v->stream);
  g_free (v);
  c->behind_since = 0;
}

void
ws_video_play (WsClient *c, const gchar *stream)
{
  WsVideo *v;

  ws_video_stop (c);
  v = g_new0 (WsVideo, 1);
  v->stream = g_strdup (stream);
  v->buf = g_byte_array_sized_new (64 * 1024);
  v->want_key = TRUE;
  v->sink = g_new0 (Sink, 1);
  v->sink->ref = 1;
  g_mutex_init (&v->sink->lock);
  v->sink->c = c;
  v->sink->wake = g_source_new (&wake_funcs, sizeof (GSource));
  g_source_set_priority (v->sink->wake, G_PRIORITY_HIGH_IDLE);
  g_source_set_callback (v->sink->wake, drain, sink_ref (v->sink), sink_unref);
  g_source_attach (v->sink->wake, g_main_context_get_thread_default ());
  c->video = v;
  v->tap = tcd_encoders_tap (c->h->ctx->encoders, stream, on_au, sink_ref (v->sink),
      sink_unref);
  if (!v->tap) {
    /* refused: it did not take its reference (no notify) */
    sink_unref (v->sink);
    ws_video_stop (c);
    ws_send_error (c, "unavailable", "the encoder of this stream cannot run now");
  }
}
