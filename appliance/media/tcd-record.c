/* thermocamd: manual recording (manual 8.2)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A pipeline of its own, fed by a video outlet of the core ("record"):
 *
 *   appsrc ! videorate ! videoscale ! I420 at video.main's size and rate
 *     ! x264enc (video.main's bitrate, rate control, GOP, profile)
 *     ! h264parse ! splitmuxsink (mp4mux, recording.file_size_mb per file)
 *
 * Files go straight into the store's directory as
 * rec-YYYYmmdd-HHMMSS-NNN.mp4; each one is noted in the store when
 * splitmuxsink closes it (from the bus's sync handler, in the streaming
 * thread), so the store's limit holds while recording.  The outlet stamps
 * the frames with this pipeline's running time; a probe on the appsrc
 * rebases them so that the first frame is at 0.  Stopping sends EOS through the muxer so
 * that the last file is finished too.  An error on the bus stops the
 * recording (the main loop's bus watch) and is kept for the status.
 */
#include "tcd-record.h"

#include <sys/stat.h>

#include "tcd-clock.h"
#include "tcd-config.h"
#include "tc-json.h"

#define STOP_TIMEOUT (5 * GST_SECOND)
#define MIB (1024 * 1024)

struct _TcdRecord {
  TcdPipeline *pipeline;
  TcdStore *store;

  /* main loop only */
  GstElement *bin, *src;
  TcdVideoOutlet *outlet;
  guint bus_watch;

  GMutex lock;                  /* everything below (streaming threads) */
  GDateTime *since;             /* NULL: not recording */
  gchar *stamp;                 /* "YYYYmmdd-HHMMSS" of since */
  guint part;                   /* the last part number used */
  gchar *current;               /* the file being written */
  guint files;                  /* files made by the (last) recording */
  gchar *error;                 /* why the last recording stopped, if it failed */
};

TcdRecord *
tcd_record_new (TcdPipeline *pipeline, TcdStore *store)
{
  TcdRecord *r = g_new0 (TcdRecord, 1);

  r->pipeline = pipeline;
  r->store = store;
  g_mutex_init (&r->lock);
  return r;
}

void
tcd_record_free (TcdRecord *r)
{
  if (!r)
    return;
  tcd_record_stop (r);
  g_mutex_clear (&r->lock);
  g_clear_pointer (&r->since, g_date_time_unref);
  g_free (r->stamp);
  g_free (r->current);
  g_free (r->error);
  g_free (r);
}

static gchar *
record_launch (JsonNode *doc)
{
  JsonObject *o = json_node_get_object (tcd_config_node (doc, "video.main"));
  JsonNode *size = tcd_config_node (doc, "recording.file_size_mb");
  g_auto (GStrv) wh = g_strsplit (tc_json_get_string (o,
          "resolution", "640x512"), "x", 2);
  gboolean cbr = g_strcmp0 (tc_json_get_string (o,
          "bitrate_type", NULL), "cbr") == 0;
  const gchar *quality = tc_json_get_string (o, "quality", NULL);
  /* as the main stream (tcd-rtsp.c): x264's constant-quality factors for
   * the manual's six levels, the rate control's buffer from smoothing */
  static const gchar *qualities[] = { "lowest", "lower", "low", "medium", "higher", "highest" };
  static const gint crf[] = { 36, 32, 28, 25, 22, 19 };
  gint q = 3, vbv = 100 + tc_json_get_int (o, "smoothing", 50) * 29;
  guint64 max_bytes = (guint64) (size ? json_node_get_int (size) : 256) * MIB;
  g_autofree gchar *rc = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (qualities); i++)
    if (g_strcmp0 (quality, qualities[i]) == 0)
      q = i;
  rc = cbr ? g_strdup_printf ("pass=cbr vbv-buf-capacity=%d", vbv)
      : g_strdup_printf ("pass=qual quantizer=%d vbv-buf-capacity=%d", crf[q], vbv);
  return g_strdup_printf ("appsrc name=src is-live=true format=time max-buffers=4"
      " leaky-type=downstream"
      " ! videorate drop-only=true ! videoscale"
      " ! video/x-raw,format=I420,width=%s,height=%s,framerate=%" G_GINT64_FORMAT "/1"
      " ! x264enc tune=zerolatency speed-preset=ultrafast threads=1"
      " key-int-max=%" G_GINT64_FORMAT " bitrate=%" G_GINT64_FORMAT " %s"
      " ! video/x-h264,profile=%s"
      " ! h264parse"
      " ! splitmuxsink name=sink start-index=1 max-size-bytes=%" G_GUINT64_FORMAT,
      wh[0], wh[1] ? wh[1] : "512",
      tc_json_get_int (o, "frame_rate", 30),
      tc_json_get_int (o, "iframe_interval", 50),
      tc_json_get_int (o, "max_bitrate", 2048), rc,
      tc_json_get_string (o, "profile", "main"), max_bytes);
}

/* splitmuxsink, streaming thread: the next file's path */
static gchar *
format_location (GstElement *sink, guint fragment_id, gpointer user_data)
{
  TcdRecord *r = user_data;
  const gchar *dir = tcd_store_get_dir (r->store);
  gchar *path = NULL;

  g_mutex_lock (&r->lock);
  /* a name nobody has: another recording may have started in this second */
  for (;;) {
    struct stat st;
    g_autofree gchar *name = g_strdup_printf ("rec-%s-%03u.mp4", r->stamp, ++r->part);

    g_free (path);
    path = g_build_filename (dir, name, NULL);
    if (lstat (path, &st) != 0) {
      g_free (r->current);
      r->current = g_steal_pointer (&name);
      break;
    }
  }
  r->files++;
  g_mutex_unlock (&r->lock);
  return path;
}

static void
fragment_closed (TcdRecord *r, const GstStructure *s)
{
  const gchar *location = gst_structure_get_string (s, "location");
  g_autofree gchar *name = NULL;

  if (!location)
    return;
  name = g_path_get_basename (location);
  tcd_store_note (r->store, name);
  g_mutex_lock (&r->lock);
  if (g_strcmp0 (r->current, name) == 0)
    g_clear_pointer (&r->current, g_free);
  g_mutex_unlock (&r->lock);
}

/* any thread: the files splitmuxsink finishes go into the store at once */
static GstBusSyncReply
bus_sync (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  const GstStructure *s;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
      && (s = gst_message_get_structure (msg))
      && gst_structure_has_name (s, "splitmuxsink-fragment-closed"))
    fragment_closed (user_data, s);
  return GST_BUS_PASS;
}

/* The frames rebased so that the first is at 0, whenever it comes: the MP4
 * starts at 0 (the outlet stamps them with this pipeline's running time) */
static GstPadProbeReturn
rebase_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstClockTime *first = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (!GST_BUFFER_PTS_IS_VALID (buf))
    return GST_PAD_PROBE_OK;
  if (!GST_CLOCK_TIME_IS_VALID (*first))
    *first = GST_BUFFER_PTS (buf);
  buf = gst_buffer_make_writable (buf);
  GST_BUFFER_PTS (buf) = GST_BUFFER_PTS (buf) > *first ? GST_BUFFER_PTS (buf) - *first : 0;
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

/* with the recording's files as they are: stop everything; @wait: send EOS
 * and wait for it so that the last file is finished */
static void
teardown (TcdRecord *r, gboolean wait, const gchar *error)
{
  GstBus *bus = gst_element_get_bus (r->bin);
  g_autofree gchar *last = NULL;

  if (r->outlet) {
    tcd_pipeline_remove_outlet (r->pipeline, r->outlet);
    r->outlet = NULL;
  }
  if (r->bus_watch) {
    g_source_remove (r->bus_watch);
    r->bus_watch = 0;
  }
  if (wait) {
    GstClockTime deadline = gst_util_get_timestamp () + STOP_TIMEOUT;
    gst_app_src_end_of_stream (GST_APP_SRC (r->src));
    for (;;) {
      GstClockTime now = gst_util_get_timestamp ();
      GstMessage *msg;

      if (now >= deadline) {
        g_warning ("recording: the last file was not finished in time");
        break;
      }
      msg = gst_bus_timed_pop_filtered (bus, deadline - now,
          GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
      if (!msg)
        continue;
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
        g_autoptr (GError) err = NULL;
        gst_message_parse_error (msg, &err, NULL);
        g_warning ("recording: %s", err->message);
        gst_message_unref (msg);
        g_mutex_lock (&r->lock);
        g_free (r->error);
        r->error = g_strdup (err->message);
        g_mutex_unlock (&r->lock);
        break;
      }
      gst_message_unref (msg);
      break;                    /* EOS */
    }
  }
  gst_element_set_state (r->bin, GST_STATE_NULL);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_clear_object (&r->src);
  gst_clear_object (&r->bin);

  g_mutex_lock (&r->lock);
  last = g_steal_pointer (&r->current);
  g_clear_pointer (&r->since, g_date_time_unref);
  if (error) {
    g_free (r->error);
    r->error = g_strdup (error);
  }
  g_mutex_unlock (&r->lock);
  /* the last file (finished, or as far as it got) counts too */
  if (last)
    tcd_store_note (r->store, last);
}

static gboolean
bus_watch (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  TcdRecord *r = user_data;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;

  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR)
    return G_SOURCE_CONTINUE;
  gst_message_parse_error (msg, &err, &debug);
  g_warning ("recording: %s (%s): recording stops", err->message, debug ? debug : "");
  r->bus_watch = 0;             /* removed by returning G_SOURCE_REMOVE */
  teardown (r, FALSE, err->message);
  return G_SOURCE_REMOVE;
}

gboolean
tcd_record_start (TcdRecord *r, JsonNode *doc, GError **error)
{
  g_autofree gchar *launch = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (GDateTime) now = NULL;
  GstElement *sink;
  GstCaps *caps;
  GstBus *bus;
  GstPad *pad;

  if (r->bin)
    return TRUE;
  if (!tcd_config_node (doc, "video.main")
      || !JSON_NODE_HOLDS_OBJECT (tcd_config_node (doc, "video.main"))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "recording: no video.main in the configuration");
    return FALSE;
  }
  launch = record_launch (doc);
  r->bin = gst_parse_launch_full (launch, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (!r->bin) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "recording: cannot build the pipeline: %s", err->message);
    return FALSE;
  }
  gst_object_ref_sink (r->bin);
  r->src = gst_bin_get_by_name (GST_BIN (r->bin), "src");
  sink = gst_bin_get_by_name (GST_BIN (r->bin), "sink");
  g_object_set (sink, "muxer", gst_element_factory_make ("mp4mux", NULL), NULL);
  g_signal_connect (sink, "format-location", G_CALLBACK (format_location), r);
  gst_object_unref (sink);

  caps = tcd_pipeline_get_video_caps (r->pipeline);
  if (!caps) {
    gint w, h, fps;
    tcd_pipeline_get_format (r->pipeline, &w, &h, &fps);
    caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
        "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
        "framerate", GST_TYPE_FRACTION, fps, 1, NULL);
  }
  g_object_set (r->src, "caps", caps, NULL);
  gst_caps_unref (caps);
  pad = gst_element_get_static_pad (r->src, "src");
  {
    GstClockTime *first = g_new (GstClockTime, 1);
    *first = GST_CLOCK_TIME_NONE;
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, rebase_probe, first, g_free);
  }
  gst_object_unref (pad);

  now = tcd_clock_now_utc_dt ();
  g_mutex_lock (&r->lock);
  g_clear_pointer (&r->since, g_date_time_unref);
  r->since = g_date_time_ref (now);
  g_free (r->stamp);
  r->stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  r->part = 0;
  r->files = 0;
  g_clear_pointer (&r->current, g_free);
  g_clear_pointer (&r->error, g_free);
  g_mutex_unlock (&r->lock);

  bus = gst_element_get_bus (r->bin);
  gst_bus_set_sync_handler (bus, bus_sync, r, NULL);
  r->bus_watch = gst_bus_add_watch (bus, bus_watch, r);
  gst_object_unref (bus);
  if (gst_element_set_state (r->bin, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "recording: the pipeline does not start");
    teardown (r, FALSE, "the pipeline does not start");
    return FALSE;
  }
  /* the outlet pushes once the appsrc has the pipeline's clock */
  r->outlet = tcd_pipeline_add_outlet (r->pipeline, GST_APP_SRC (r->src), "record");
  g_message ("recording started: rec-%s-*.mp4 in %s", r->stamp,
      tcd_store_get_dir (r->store));
  return TRUE;
}

void
tcd_record_stop (TcdRecord *r)
{
  if (!r->bin)
    return;
  teardown (r, TRUE, NULL);
  g_message ("recording stopped");
}

gboolean
tcd_record_is_recording (TcdRecord *r)
{
  return r->bin != NULL;
}

JsonNode *
tcd_record_status (TcdRecord *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  g_mutex_lock (&r->lock);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "recording");
  json_builder_add_boolean_value (b, r->since != NULL);
  json_builder_set_member_name (b, "since");
  if (r->since) {
    g_autofree gchar *t = g_date_time_format (r->since, "%Y-%m-%dT%H:%M:%SZ");
    json_builder_add_string_value (b, t);
  } else {
    json_builder_add_null_value (b);
  }
  json_builder_set_member_name (b, "file");
  if (r->current)
    json_builder_add_string_value (b, r->current);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "files");
  json_builder_add_int_value (b, r->files);
  if (r->error) {
    json_builder_set_member_name (b, "error");
    json_builder_add_string_value (b, r->error);
  }
  json_builder_end_object (b);
  g_mutex_unlock (&r->lock);
  return json_builder_get_root (b);
}
