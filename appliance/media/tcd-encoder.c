/* thermocamd: the H.264 encoders of the two streams
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One encoder per stream (main, sub), whatever the number of consumers: a
 * pipeline of its own built from pipelines/stream.pipeline (appsrc -> rate
 * and scale -> x264enc -> appsink), fed by a video outlet of the core, and
 * run only while it has a tap.  Each access unit goes to every tap from the
 * encoder's streaming thread, with the sensor's capture time of its frame.
 *
 * A new tap wants a key frame: it gets none of the AUs before one, and asks
 * the encoder for one at once (an upstream force-key-unit event, all
 * headers).  The requests are rate-limited: while one is pending (no key
 * frame since) nothing more is asked, and within KEY_INTERVAL of the last
 * one the request waits for the interval's end (the streaming thread sends
 * it), so that a crowd of joins costs one key frame.
 *
 * Locks: state_lock (per stream) orders starting, stopping and rebuilding;
 * lock (recursive) guards the taps and counters and is the only one the
 * streaming thread takes, so stopping (which waits for that thread) never
 * holds it.  A callback runs under lock: an untap from another thread waits
 * for it, and one from the callback itself is finished after the dispatch.
 */
#include "tcd-encoder.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <string.h>

#include "tcd-config.h"
#include "tc-json.h"

GST_DEBUG_CATEGORY_STATIC (tcd_encoder_debug);
#define GST_CAT_DEFAULT tcd_encoder_debug

#define KEY_INTERVAL_US (TCD_ENCODER_KEY_INTERVAL_MS * 1000)
#define RESTART_MS 1000         /* after an encoder's error */

typedef struct _Stream Stream;

struct _TcdEncoderTap {
  Stream *st;
  TcdEncodedFunc func;
  gpointer user_data;
  GDestroyNotify notify;
  gboolean waiting_key;         /* no AU given yet: the first is a key frame */
  gboolean dead;                /* untapped from a callback: freed after the dispatch */
};

struct _Stream {
  TcdEncoders *e;
  const gchar *name;            /* "main", "sub" */
  const gchar *path;            /* "video.main" */

  GMutex state_lock;            /* the pipeline's life; taken before lock */
  GstElement *pipeline;
  guint bus_watch;
  guint restart_id;             /* main context */

  GRecMutex lock;               /* all below; the streaming thread's */
  GPtrArray *taps;
  TcdVideoOutlet *outlet;       /* while the pipeline runs */
  guint stop_id;                /* main context */
  gboolean dispatching;
  GstElement *enc;              /* while the pipeline runs */
  GstPad *enc_src;
  gchar *launch;
  JsonNode *settings;
  gint sensor_fps;
  gboolean key_pending;         /* asked for (or starting): no key frame since */
  gboolean key_wanted;          /* asked within the interval: sent at its end */
  gint64 last_forced_us;        /* monotonic */
  guint64 frames, key_frames, forced, starts, bytes;
};

struct _TcdEncoders {
  TcdPipeline *core;
  gchar *dir;
  Stream streams[2];
};

static const gchar *stream_names[] = { "main", "sub" };
static const gchar *stream_paths[] = { "video.main", "video.sub" };

static Stream *
find_stream (TcdEncoders *e, const gchar *name)
{
  for (guint i = 0; name && i < G_N_ELEMENTS (e->streams); i++)
    if (g_str_equal (e->streams[i].name, name))
      return &e->streams[i];
  return NULL;
}

gboolean
tcd_encoders_has (TcdEncoders *e, const gchar *stream)
{
  return find_stream (e, stream) != NULL;
}

/* ---- the pipeline's description ---- */

static gchar *
subst (gchar *text, const gchar *key, const gchar *value)
{
  g_auto (GStrv) parts = g_strsplit (text, key, -1);

  g_free (text);
  return g_strjoinv (value, parts);
}

static gchar *
stream_launch (TcdEncoders *e, JsonNode *s, GError **error)
{
  g_autofree gchar *path = g_build_filename (e->dir, "stream.pipeline", NULL);
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_auto (GStrv) wh = NULL;
  GString *out = g_string_new (NULL);
  JsonObject *o = json_node_get_object (s);
  const gchar *res = tc_json_get_string (o, "resolution", "640x512");
  gboolean cbr = g_strcmp0 (tc_json_get_string (o, "bitrate_type", NULL), "cbr") == 0;
  const gchar *quality = tc_json_get_string (o, "quality", NULL);
  const gchar *profile = tc_json_get_string (o, "profile", "main");
  static const gchar *qualities[] = { "lowest", "lower", "low", "medium", "higher", "highest" };
  /* constant-quality factors of x264 for the manual's six levels */
  static const gint crf[] = { 36, 32, 28, 25, 22, 19 };
  gint q = 3, smoothing = tc_json_get_int (o, "smoothing", 0);
  g_autofree gchar *rc = NULL, *fps = NULL, *gop = NULL, *br = NULL;
  gchar *d;

  if (!g_file_get_contents (path, &text, NULL, error)) {
    g_string_free (out, TRUE);
    return NULL;
  }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    const gchar *l = lines[i] + strspn (lines[i], " \t");
    if (*l == '#' || !*l)
      continue;
    g_string_append (out, l);
    g_string_append_c (out, ' ');
  }
  for (guint i = 0; i < G_N_ELEMENTS (qualities); i++)
    if (g_strcmp0 (quality, qualities[i]) == 0)
      q = i;
  /* smoothing: the rate control's buffer, 100 ms (sharp, jumpy) to 3 s */
  rc = cbr ? g_strdup_printf ("pass=cbr vbv-buf-capacity=%d", 100 + smoothing * 29)
      : g_strdup_printf ("pass=qual quantizer=%d vbv-buf-capacity=%d", crf[q],
          100 + smoothing * 29);
  wh = g_strsplit (res, "x", 2);
  fps = g_strdup_printf ("%" G_GINT64_FORMAT, tc_json_get_int (o, "frame_rate", 0));
  gop = g_strdup_printf ("%" G_GINT64_FORMAT, tc_json_get_int (o, "iframe_interval", 0));
  br = g_strdup_printf ("%" G_GINT64_FORMAT, tc_json_get_int (o, "max_bitrate", 0));
  d = g_string_free (out, FALSE);
  d = subst (d, "@WIDTH@", wh[0]);
  d = subst (d, "@HEIGHT@", wh[1] ? wh[1] : "0");
  d = subst (d, "@FPS@", fps);
  d = subst (d, "@GOP@", gop);
  d = subst (d, "@BITRATE@", br);
  d = subst (d, "@RC@", rc);
  d = subst (d, "@PROFILE@", profile);
  d = subst (d, "@TOOLS@", g_str_equal (profile, "high") ? "cabac=true dct8x8=true"
      : g_str_equal (profile, "main") ? "cabac=true" : "cabac=false dct8x8=false");
  return g_strchomp (d);
}

/* ---- key frames ---- */

/* sends the request if the rate allows; under lock; returns the pad to send
 * it on (the caller sends it without the lock) */
static GstPad *
key_request_locked (Stream *st, gint64 now)
{
  if (!st->enc_src || st->key_pending)
    return NULL;                /* not running (its first AU is a key frame), or asked */
  if (st->last_forced_us && now - st->last_forced_us < KEY_INTERVAL_US) {
    st->key_wanted = TRUE;      /* at the interval's end */
    return NULL;
  }
  st->key_wanted = FALSE;
  st->key_pending = TRUE;
  st->last_forced_us = now;
  st->forced++;
  return gst_object_ref (st->enc_src);
}

static void
key_send (GstPad *pad)
{
  if (!pad)
    return;
  GST_DEBUG_OBJECT (pad, "asking for a key frame");
  gst_pad_send_event (pad, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
          TRUE, 0));
  gst_object_unref (pad);
}

void
tcd_encoders_request_key_frame (TcdEncoders *e, const gchar *stream)
{
  Stream *st = find_stream (e, stream);
  GstPad *pad;

  if (!st)
    return;
  g_rec_mutex_lock (&st->lock);
  pad = key_request_locked (st, g_get_monotonic_time ());
  g_rec_mutex_unlock (&st->lock);
  key_send (pad);
}

/* ---- the streaming thread ---- */

static void
tap_free (gpointer data, gpointer unused)
{
  TcdEncoderTap *tap = data;

  if (tap->notify)
    tap->notify (tap->user_data);
  g_free (tap);
}

static void schedule_stop (Stream *st);

static GstFlowReturn
on_au (GstAppSink *sink, gpointer user_data)
{
  Stream *st = user_data;
  GstSample *s = gst_app_sink_pull_sample (sink);
  GstBuffer *buf;
  const GstSegment *seg;
  gint64 now = g_get_monotonic_time (), captured = 0, capture_us;
  gboolean key, empty = FALSE;
  GstPad *pad = NULL;
  GPtrArray *dead = NULL;

  if (!s)
    return GST_FLOW_EOS;
  buf = gst_sample_get_buffer (s);
  seg = gst_sample_get_segment (s);
  key = !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  /* the capture time of the frame: its running time in this pipeline is the
   * one the outlet pushed it with (the encoder's offset is in the segment) */
  g_rec_mutex_lock (&st->lock);
  if (st->outlet && GST_BUFFER_PTS_IS_VALID (buf))
    captured = tcd_outlet_capture_time (st->outlet, gst_segment_to_running_time (seg,
            GST_FORMAT_TIME, GST_BUFFER_PTS (buf)));
  capture_us = g_get_real_time () - (captured ? now - captured : 0);
  st->frames++;
  GST_LOG ("encoder %s: AU %" GST_TIME_FORMAT " key %d", st->name,
      GST_TIME_ARGS (GST_BUFFER_PTS (buf)), key);
  st->bytes += gst_buffer_get_size (buf);
  if (key) {
    st->key_frames++;
    st->key_pending = FALSE;
  } else if (st->key_wanted && now - st->last_forced_us >= KEY_INTERVAL_US) {
    pad = key_request_locked (st, now);
  }
  st->dispatching = TRUE;
  for (guint i = 0; i < st->taps->len; i++) {
    TcdEncoderTap *tap = g_ptr_array_index (st->taps, i);
    if (tap->dead || (tap->waiting_key && !key))
      continue;
    tap->waiting_key = FALSE;
    tap->func (s, capture_us, tap->user_data);
  }
  st->dispatching = FALSE;
  for (guint i = 0; i < st->taps->len;) {
    TcdEncoderTap *tap = g_ptr_array_index (st->taps, i);
    if (tap->dead) {
      if (!dead)
        dead = g_ptr_array_new ();
      g_ptr_array_add (dead, g_ptr_array_steal_index (st->taps, i));
    } else {
      i++;
    }
  }
  empty = dead && st->taps->len == 0;
  g_rec_mutex_unlock (&st->lock);
  gst_sample_unref (s);
  key_send (pad);
  if (dead) {
    g_ptr_array_foreach (dead, tap_free, NULL);
    g_ptr_array_free (dead, TRUE);
  }
  if (empty)
    schedule_stop (st);
  return GST_FLOW_OK;
}

/* ---- starting and stopping (state_lock held) ---- */

static gboolean restart_cb (gpointer data);

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  Stream *st = user_data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *dbg = NULL;
    gst_message_parse_error (msg, &err, &dbg);
    g_warning ("encoder %s: %s (%s); restarting", st->name, err->message, dbg ? dbg : "");
    g_mutex_lock (&st->state_lock);
    if (!st->restart_id)
      st->restart_id = g_timeout_add (RESTART_MS, restart_cb, st);
    g_mutex_unlock (&st->state_lock);
  }
  return G_SOURCE_CONTINUE;
}

static void
stop_locked (Stream *st)
{
  TcdVideoOutlet *o;
  GstElement *pl = st->pipeline;

  if (!pl)
    return;
  /* no frame is pushed once the outlet is gone; the streaming thread ends
   * with the pipeline (it takes only lock, which is not held meanwhile) */
  g_rec_mutex_lock (&st->lock);
  o = st->outlet;
  st->outlet = NULL;
  g_rec_mutex_unlock (&st->lock);
  if (o)
    tcd_pipeline_remove_outlet (st->e->core, o);
  if (st->bus_watch) {
    g_source_remove (st->bus_watch);
    st->bus_watch = 0;
  }
  gst_element_set_state (pl, GST_STATE_NULL);
  g_rec_mutex_lock (&st->lock);
  gst_clear_object (&st->enc);
  gst_clear_object (&st->enc_src);
  st->pipeline = NULL;
  st->key_pending = st->key_wanted = FALSE;
  g_rec_mutex_unlock (&st->lock);
  gst_object_unref (pl);
  GST_INFO ("encoder %s stopped", st->name);
}

static gboolean
start_locked (Stream *st, GError **error)
{
  g_autofree gchar *launch = NULL;
  GstElement *pl, *src, *enc, *sink;
  GstAppSinkCallbacks cb = { 0 };
  GstCaps *caps;
  g_autoptr (GstBus) bus = NULL;

  if (st->pipeline)
    return TRUE;
  g_rec_mutex_lock (&st->lock);
  launch = g_strdup (st->launch);
  g_rec_mutex_unlock (&st->lock);
  if (!launch) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "encoder %s: no description", st->name);
    return FALSE;
  }
  pl = gst_parse_launch_full (launch, NULL, GST_PARSE_FLAG_FATAL_ERRORS, error);
  if (!pl)
    return FALSE;
  src = gst_bin_get_by_name (GST_BIN (pl), "src");
  enc = gst_bin_get_by_name (GST_BIN (pl), "enc");
  sink = gst_bin_get_by_name (GST_BIN (pl), "sink");
  if (!src || !enc || !sink || !GST_IS_APP_SRC (src) || !GST_IS_APP_SINK (sink)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "encoder %s: stream.pipeline needs an appsrc src, an encoder enc and an appsink sink",
        st->name);
    gst_clear_object (&src);
    gst_clear_object (&enc);
    gst_clear_object (&sink);
    gst_object_unref (pl);
    return FALSE;
  }
  caps = tcd_pipeline_get_video_caps (st->e->core);
  if (!caps) {
    gint w, h, fps;
    tcd_pipeline_get_format (st->e->core, &w, &h, &fps);
    caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
        "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
        "framerate", GST_TYPE_FRACTION, fps, 1, NULL);
  }
  g_object_set (src, "caps", caps, NULL);
  gst_caps_unref (caps);
  cb.new_sample = on_au;
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cb, st, NULL);
  g_rec_mutex_lock (&st->lock);
  st->enc = enc;
  st->enc_src = gst_element_get_static_pad (enc, "src");
  st->key_pending = TRUE;       /* its first AU is one */
  st->key_wanted = FALSE;
  st->starts++;
  g_rec_mutex_unlock (&st->lock);
  st->pipeline = pl;
  bus = gst_element_get_bus (pl);
  st->bus_watch = gst_bus_add_watch (bus, on_bus, st);
  if (gst_element_set_state (pl, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "encoder %s does not start", st->name);
    stop_locked (st);
    gst_object_unref (src);
    gst_object_unref (sink);
    return FALSE;
  }
  /* the outlet pushes once the appsrc has the pipeline's clock */
  {
    TcdVideoOutlet *o = tcd_pipeline_add_outlet (st->e->core, GST_APP_SRC (src), st->name);
    g_rec_mutex_lock (&st->lock);
    st->outlet = o;
    g_rec_mutex_unlock (&st->lock);
  }
  GST_INFO ("encoder %s started: %s", st->name, launch);
  gst_object_unref (src);
  gst_object_unref (sink);
  return TRUE;
}

static gboolean
stop_cb (gpointer data)
{
  Stream *st = data;

  g_mutex_lock (&st->state_lock);
  g_rec_mutex_lock (&st->lock);
  st->stop_id = 0;
  if (st->taps->len == 0) {
    g_rec_mutex_unlock (&st->lock);
    stop_locked (st);
  } else {
    g_rec_mutex_unlock (&st->lock);
  }
  g_mutex_unlock (&st->state_lock);
  return G_SOURCE_REMOVE;
}

/* the last tap went: stop on the main context (never from a streaming
 * thread of the encoder, which stopping waits for; so not state_lock here) */
static void
schedule_stop (Stream *st)
{
  g_rec_mutex_lock (&st->lock);
  if (!st->stop_id && st->enc)
    st->stop_id = g_idle_add (stop_cb, st);
  g_rec_mutex_unlock (&st->lock);
}

/* rebuilds a running encoder (an error, new settings); its taps go on
 * from the new one's first key frame */
static void
restart_locked (Stream *st)
{
  g_autoptr (GError) err = NULL;
  gboolean wanted;

  stop_locked (st);
  g_rec_mutex_lock (&st->lock);
  for (guint i = 0; i < st->taps->len; i++)
    ((TcdEncoderTap *) g_ptr_array_index (st->taps, i))->waiting_key = TRUE;
  wanted = st->taps->len > 0;
  g_rec_mutex_unlock (&st->lock);
  if (wanted && !start_locked (st, &err))
    g_warning ("%s", err->message);
}

static gboolean
restart_cb (gpointer data)
{
  Stream *st = data;

  g_mutex_lock (&st->state_lock);
  st->restart_id = 0;
  if (st->pipeline)
    restart_locked (st);
  g_mutex_unlock (&st->state_lock);
  return G_SOURCE_REMOVE;
}

/* ---- taps ---- */

TcdEncoderTap *
tcd_encoders_tap (TcdEncoders *e, const gchar *stream, TcdEncodedFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  Stream *st = find_stream (e, stream);
  TcdEncoderTap *tap;
  g_autoptr (GError) err = NULL;
  GstPad *pad = NULL;

  g_return_val_if_fail (func != NULL, NULL);
  if (!st)
    return NULL;
  g_mutex_lock (&st->state_lock);
  if (!st->pipeline && !start_locked (st, &err)) {
    g_mutex_unlock (&st->state_lock);
    g_warning ("%s", err->message);
    return NULL;
  }
  tap = g_new0 (TcdEncoderTap, 1);
  tap->st = st;
  tap->func = func;
  tap->user_data = user_data;
  tap->notify = notify;
  tap->waiting_key = TRUE;
  g_rec_mutex_lock (&st->lock);
  g_ptr_array_add (st->taps, tap);
  pad = key_request_locked (st, g_get_monotonic_time ());
  g_rec_mutex_unlock (&st->lock);
  g_mutex_unlock (&st->state_lock);
  key_send (pad);
  GST_INFO ("encoder %s: a new tap", st->name);
  return tap;
}

void
tcd_encoders_untap (TcdEncoders *e, TcdEncoderTap *tap)
{
  Stream *st;
  gboolean empty;

  if (!tap)
    return;
  st = tap->st;
  g_rec_mutex_lock (&st->lock);
  if (st->dispatching) {
    /* from a callback (the only thread that can hold lock now): the
     * dispatch frees it once it is done */
    tap->dead = TRUE;
    g_rec_mutex_unlock (&st->lock);
    return;
  }
  g_ptr_array_remove (st->taps, tap);
  empty = st->taps->len == 0;
  g_rec_mutex_unlock (&st->lock);
  tap_free (tap, NULL);
  if (empty)
    schedule_stop (st);
}

void
tcd_encoders_note_sent (TcdEncoders *e, const gchar *stream, gint64 capture_us)
{
  Stream *st = find_stream (e, stream);
  TcdVideoOutlet *o;

  if (!st || capture_us <= 0)
    return;
  g_rec_mutex_lock (&st->lock);
  o = st->outlet;
  if (o)
    tcd_outlet_note_delay (o, (g_get_real_time () - capture_us) / 1000.0);
  g_rec_mutex_unlock (&st->lock);
}

/* ---- life ---- */

TcdEncoders *
tcd_encoders_new (TcdPipeline *core, const gchar *pipelines_dir, JsonNode *doc)
{
  TcdEncoders *e = g_new0 (TcdEncoders, 1);

  GST_DEBUG_CATEGORY_INIT (tcd_encoder_debug, "thermocamd-encoder", 0, "thermocamd encoders");
  e->core = core;
  e->dir = g_strdup (pipelines_dir);
  for (guint i = 0; i < G_N_ELEMENTS (e->streams); i++) {
    Stream *st = &e->streams[i];
    st->e = e;
    st->name = stream_names[i];
    st->path = stream_paths[i];
    st->taps = g_ptr_array_new ();
    g_mutex_init (&st->state_lock);
    g_rec_mutex_init (&st->lock);
  }
  tcd_encoders_apply (e, doc);
  return e;
}

gboolean
tcd_encoders_only_bitrate_differs (JsonNode *a, JsonNode *b)
{
  JsonObject *oa = json_node_get_object (a), *ob = json_node_get_object (b);
  g_autoptr (GList) members = json_object_get_members (oa);

  if (json_object_get_size (oa) != json_object_get_size (ob))
    return FALSE;
  for (GList *l = members; l; l = l->next) {
    const gchar *k = l->data;
    if (g_str_equal (k, "max_bitrate"))
      continue;
    if (!json_object_has_member (ob, k)
        || !tc_json_equal (json_object_get_member (oa, k), json_object_get_member (ob, k)))
      return FALSE;
  }
  return TRUE;
}

void
tcd_encoders_apply (TcdEncoders *e, JsonNode *doc)
{
  gint fps = tcd_config_sensor_fps (doc);

  for (guint i = 0; i < G_N_ELEMENTS (e->streams); i++) {
    Stream *st = &e->streams[i];
    JsonNode *s = tcd_config_node (doc, st->path);
    g_autoptr (GError) err = NULL;
    g_autofree gchar *launch = NULL;
    gboolean same_rate = fps == st->sensor_fps, live_bitrate;

    if (!s || !JSON_NODE_HOLDS_OBJECT (s))
      continue;
    if (same_rate && st->settings && tc_json_equal (s, st->settings))
      continue;
    launch = stream_launch (e, s, &err);
    if (!launch) {
      g_warning ("encoder %s: %s", st->name, err->message);
      continue;
    }
    g_mutex_lock (&st->state_lock);
    g_rec_mutex_lock (&st->lock);
    live_bitrate = same_rate && st->settings && st->enc && tcd_encoders_only_bitrate_differs (s, st->settings);
    if (live_bitrate)
      /* x264enc takes a new bitrate while playing: the taps see nothing */
      g_object_set (st->enc, "bitrate",
          (guint) tc_json_get_int (json_node_get_object (s), "max_bitrate", 0), NULL);
    g_free (st->launch);
    st->launch = g_steal_pointer (&launch);
    if (st->settings)
      json_node_unref (st->settings);
    st->settings = tcd_json_deep_copy (s);
    st->sensor_fps = fps;
    g_rec_mutex_unlock (&st->lock);
    /* new caps (or the core's new rate in the appsrc's caps): a new encoder */
    if (st->pipeline && !live_bitrate)
      restart_locked (st);
    g_mutex_unlock (&st->state_lock);
  }
}

void
tcd_encoders_free (TcdEncoders *e)
{
  if (!e)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (e->streams); i++) {
    Stream *st = &e->streams[i];
    g_mutex_lock (&st->state_lock);
    if (st->stop_id)
      g_source_remove (st->stop_id);
    st->stop_id = 0;
    if (st->restart_id)
      g_source_remove (st->restart_id);
    stop_locked (st);
    g_mutex_unlock (&st->state_lock);
    g_ptr_array_foreach (st->taps, tap_free, NULL);
    g_ptr_array_free (st->taps, TRUE);
    g_free (st->launch);
    if (st->settings)
      json_node_unref (st->settings);
    g_mutex_clear (&st->state_lock);
    g_rec_mutex_clear (&st->lock);
  }
  g_free (e->dir);
  g_free (e);
}

/* ---- statistics ---- */

guint
tcd_encoders_running (TcdEncoders *e, const gchar *stream)
{
  Stream *st = find_stream (e, stream);
  guint n;

  if (!st)
    return 0;
  g_rec_mutex_lock (&st->lock);
  n = st->enc != NULL;
  g_rec_mutex_unlock (&st->lock);
  return n;
}

JsonNode *
tcd_encoders_stats (TcdEncoders *e)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  for (guint i = 0; i < G_N_ELEMENTS (e->streams); i++) {
    Stream *st = &e->streams[i];
    g_rec_mutex_lock (&st->lock);
    json_builder_set_member_name (b, st->name);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "running");
    json_builder_add_boolean_value (b, st->enc != NULL);
    json_builder_set_member_name (b, "taps");
    json_builder_add_int_value (b, st->taps->len);
    json_builder_set_member_name (b, "frames");
    json_builder_add_int_value (b, st->frames);
    json_builder_set_member_name (b, "bytes");
    json_builder_add_int_value (b, st->bytes);
    json_builder_set_member_name (b, "key_frames");
    json_builder_add_int_value (b, st->key_frames);
    json_builder_set_member_name (b, "forced_key_frames");
    json_builder_add_int_value (b, st->forced);
    json_builder_set_member_name (b, "starts");
    json_builder_add_int_value (b, st->starts);
    json_builder_set_member_name (b, "pipeline");
    json_builder_add_string_value (b, st->launch ? st->launch : "");
    json_builder_end_object (b);
    g_rec_mutex_unlock (&st->lock);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
