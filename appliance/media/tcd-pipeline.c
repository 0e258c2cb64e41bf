/* thermocamd: the core pipeline, always running
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built from pipelines/core.pipeline with the source template the --source
 * flag picks.  Parameters are set live on the elements; only a change of the
 * caps (frame rate of the video standard, temperature scale) rebuilds it.  An
 * error or a stall restarts it with a growing backoff and raises an
 * exception.  The branches end in appsinks that keep only the newest frame;
 * the video frames are also pushed into the encoders' appsrcs (outlets).
 */
#include "tcd-pipeline.h"
#include "tcd-frame-watch.h"
#include "tcd-pipeline-desc.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <string.h>

#include "tcd-clock.h"
#include "tcd-config.h"
#include "tc-json.h"

GST_DEBUG_CATEGORY_STATIC (tcd_pipeline_debug);
#define GST_CAT_DEFAULT tcd_pipeline_debug

#define RING 64
#define STALL_SECONDS 5
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

typedef struct {
  GstClockTime pts;
  gint64 t;
} RingEntry;

typedef struct {
  guint64 n;
  gdouble last_ms, sum_ms, max_ms;
} LatencyStats;

struct _TcdVideoOutlet {
  TcdPipeline *p;
  GstAppSrc *src;
  gchar *name;
  GMutex lock;
  RingEntry ring[RING];
  guint pos;
  guint64 pushed;
  GstClockTimeDiff offset;      /* stream running time - core PTS */
  GstClockTime last_pts;
  LatencyStats latency;
};

struct _TcdPipeline {
  gchar *dir;
  gchar *source_kind, *source_arg;

  GstElement *pipeline;
  GstElement *src, *nuc, *radiometry, *mirror, *measure, *dnr, *palette, *osd, *valve;
  guint bus_watch, restart_id, watchdog_id, clock_watch;
  guint backoff_ms;
  gint64 started_us;
  JsonNode *doc;
  gint fps;
  gchar *scale;
  gchar *picture_path;
  gchar *defective_pixels;      /* thermalnuc's manual list, "x,y;x,y" (tcd-dpc) */

  TcdPipelineMessageFunc on_message;
  TcdPipelineExceptionFunc on_exception;
  gpointer user_data;
  TcdPipelineJpegFunc on_jpeg;
  gpointer jpeg_data;
  TcdFrameWatch *frame_watch;   /* made on the main thread, notified per frame */

  GMutex lock;                  /* everything below */
  GstSample *temperature, *video;
  GstCaps *video_caps;
  gint width, height;
  GPtrArray *outlets;
  RingEntry ring[RING];
  guint ring_pos;
  guint64 frames, video_frames, jpegs;
  guint64 dropped;              /* the sensor's frames that never came (offset gaps) */
  guint64 next_offset;          /* the sensor's next frame number; NONE: unknown */
  gint64 last_frame_us;
  guint restarts;
  gchar *last_error;
};

static void schedule_restart (TcdPipeline *p, const gchar *why);

static void on_clock_changed (TcdClockChange what, gpointer user_data);

TcdPipeline *
tcd_pipeline_new (const gchar *pipelines_dir, const gchar *source, GError **error)
{
  TcdPipeline *p;
  const gchar *colon = strchr (source, ':');
  g_autofree gchar *kind = colon ? g_strndup (source, colon - source) : g_strdup (source);

  GST_DEBUG_CATEGORY_INIT (tcd_pipeline_debug, "thermocamd-pipeline", 0,
      "thermocamd core pipeline");
  if (!tcd_pipeline_source_valid (kind, colon ? colon + 1 : NULL)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--source: \"%s\" is not sim, sim:WIDTHxHEIGHT (16-4096), v4l2:DEVICE or file:PATH",
        source);
    return NULL;
  }
  p = g_new0 (TcdPipeline, 1);
  p->dir = g_strdup (pipelines_dir);
  p->source_kind = g_steal_pointer (&kind);
  p->clock_watch = tcd_clock_watch (on_clock_changed, p);
  p->source_arg = colon ? g_strdup (colon + 1) : NULL;
  p->outlets = g_ptr_array_new ();
  p->frame_watch = tcd_frame_watch_new ();
  p->backoff_ms = BACKOFF_MIN_MS;
  p->next_offset = GST_BUFFER_OFFSET_NONE;
  g_mutex_init (&p->lock);
  return p;
}

void
tcd_pipeline_set_callbacks (TcdPipeline *p, TcdPipelineMessageFunc on_message,
    TcdPipelineExceptionFunc on_exception, gpointer user_data)
{
  p->on_message = on_message;
  p->on_exception = on_exception;
  p->user_data = user_data;
}

void
tcd_pipeline_set_jpeg_callback (TcdPipeline *p, TcdPipelineJpegFunc on_jpeg, gpointer user_data)
{
  /* the streaming thread reads both under the lock */
  g_mutex_lock (&p->lock);
  p->on_jpeg = on_jpeg;
  p->jpeg_data = user_data;
  g_mutex_unlock (&p->lock);
}

/* ---- streaming threads ---- */

static GstPadProbeReturn
capture_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  TcdPipeline *p = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&p->lock);
  p->ring[p->ring_pos].pts = GST_BUFFER_PTS (buf);
  p->ring[p->ring_pos].t = now;
  p->ring_pos = (p->ring_pos + 1) % RING;
  p->frames++;
  /* the source numbers its frames (thermalsrc, v4l2src): a gap is frames
   * lost before the core; a number going back is a new start */
  if (GST_BUFFER_OFFSET_IS_VALID (buf)) {
    if (p->next_offset != GST_BUFFER_OFFSET_NONE && GST_BUFFER_OFFSET (buf) > p->next_offset)
      p->dropped += GST_BUFFER_OFFSET (buf) - p->next_offset;
    p->next_offset = GST_BUFFER_OFFSET (buf) + 1;
  }
  p->last_frame_us = now;
  g_mutex_unlock (&p->lock);
  return GST_PAD_PROBE_OK;
}

static gint64
ring_lookup (const RingEntry *ring, GstClockTime pts)
{
  for (guint i = 0; i < RING; i++)
    if (ring[i].t && ring[i].pts == pts)
      return ring[i].t;
  return 0;
}

gint64
tcd_pipeline_capture_time (TcdPipeline *p, GstClockTime pts)
{
  gint64 t;

  g_mutex_lock (&p->lock);
  t = ring_lookup (p->ring, pts);
  g_mutex_unlock (&p->lock);
  return t;
}

static GstFlowReturn
on_temperature (GstAppSink *sink, gpointer user_data)
{
  TcdPipeline *p = user_data;
  GstSample *s = gst_app_sink_pull_sample (sink), *old;

  if (!s)
    return GST_FLOW_EOS;
  g_mutex_lock (&p->lock);
  old = p->temperature;
  p->temperature = s;
  g_mutex_unlock (&p->lock);
  if (old)
    gst_sample_unref (old);
  tcd_frame_watch_notify (p->frame_watch);
  return GST_FLOW_OK;
}

static void
outlet_push (TcdVideoOutlet *o, GstBuffer *buf, gint64 captured)
{
  GstElement *e = GST_ELEMENT (o->src);
  GstClock *clock = gst_element_get_clock (e);
  GstClockTime now, pts, core_pts = GST_BUFFER_PTS (buf);
  GstBuffer *copy;

  if (!clock || !GST_CLOCK_TIME_IS_VALID (core_pts)) {
    if (clock)
      gst_object_unref (clock);
    return;                     /* not playing yet */
  }
  now = gst_clock_get_time (clock) - gst_element_get_base_time (e);
  gst_object_unref (clock);
  /* the stream's timestamps follow the sensor's (regular, not the jitter of
   * this thread), shifted once into the stream's running time; again when
   * the core restarted (its timestamps went back) or drifted away */
  pts = core_pts + o->offset;
  if (!o->pushed || (GstClockTimeDiff) core_pts + o->offset <= (GstClockTimeDiff) o->last_pts
      || GST_CLOCK_DIFF (now, pts) > GST_SECOND || GST_CLOCK_DIFF (pts, now) > GST_SECOND) {
    o->offset = GST_CLOCK_DIFF (core_pts, now);
    pts = now;
  }
  o->last_pts = pts;
  /* the frame's memory is shared, not copied: only the buffer's header is
   * new, for this stream's timestamps */
  copy = gst_buffer_new ();
  gst_buffer_copy_into (copy, buf, GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_MEMORY, 0, -1);
  GST_BUFFER_PTS (copy) = pts;
  GST_BUFFER_DTS (copy) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (copy) = GST_BUFFER_DURATION (buf);
  g_mutex_lock (&o->lock);
  o->ring[o->pos].pts = pts;
  o->ring[o->pos].t = captured;
  o->pos = (o->pos + 1) % RING;
  o->pushed++;
  g_mutex_unlock (&o->lock);
  gst_app_src_push_buffer (o->src, copy);
}

gint64
tcd_outlet_capture_time (TcdVideoOutlet *o, GstClockTime pts)
{
  GstClockTimeDiff best = 10 * GST_MSECOND;
  gint64 t = 0;

  /* videorate re-stamps the frames it keeps on its own grid: the nearest
   * frame pushed, within 10 ms */
  g_mutex_lock (&o->lock);
  for (guint i = 0; i < RING; i++) {
    GstClockTimeDiff d = ABS (GST_CLOCK_DIFF (o->ring[i].pts, pts));
    if (o->ring[i].t && d <= best) {
      best = d;
      t = o->ring[i].t;
    }
  }
  g_mutex_unlock (&o->lock);
  return t;
}

void
tcd_outlet_note_delay (TcdVideoOutlet *o, gdouble ms)
{
  g_mutex_lock (&o->lock);
  o->latency.n++;
  o->latency.last_ms = ms;
  o->latency.sum_ms += ms;
  o->latency.max_ms = MAX (o->latency.max_ms, ms);
  g_mutex_unlock (&o->lock);
}

static GstFlowReturn
on_video (GstAppSink *sink, gpointer user_data)
{
  TcdPipeline *p = user_data;
  GstSample *s = gst_app_sink_pull_sample (sink), *old;
  GstBuffer *buf;
  gint64 captured;

  if (!s)
    return GST_FLOW_EOS;
  buf = gst_sample_get_buffer (s);
  g_mutex_lock (&p->lock);
  captured = ring_lookup (p->ring, GST_BUFFER_PTS (buf));
  old = p->video;
  p->video = s;
  p->video_frames++;
  if (!p->video_caps || !gst_caps_is_equal (p->video_caps, gst_sample_get_caps (s))) {
    GstVideoInfo info;
    gst_caps_replace (&p->video_caps, gst_sample_get_caps (s));
    if (gst_video_info_from_caps (&info, p->video_caps)) {
      p->width = GST_VIDEO_INFO_WIDTH (&info);
      p->height = GST_VIDEO_INFO_HEIGHT (&info);
    }
  }
  for (guint i = 0; i < p->outlets->len; i++)
    outlet_push (g_ptr_array_index (p->outlets, i), buf, captured);
  g_mutex_unlock (&p->lock);
  if (old)
    gst_sample_unref (old);
  return GST_FLOW_OK;
}

static GstFlowReturn
on_mjpeg (GstAppSink *sink, gpointer user_data)
{
  TcdPipeline *p = user_data;
  GstSample *s = gst_app_sink_pull_sample (sink);
  TcdPipelineJpegFunc on_jpeg;
  gpointer data;

  if (!s)
    return GST_FLOW_EOS;
  g_mutex_lock (&p->lock);
  p->jpegs++;
  on_jpeg = p->on_jpeg;
  data = p->jpeg_data;
  g_mutex_unlock (&p->lock);
  if (on_jpeg)
    on_jpeg (s, data);
  gst_sample_unref (s);
  return GST_FLOW_OK;
}

/* ---- configuration ---- */

/* Sets a property from its string form (enum nick, number, boolean or
 * string), only when the value changes: elements rebuild their tables on a
 * set, so an unchanged parameter must not cost anything */
static void
set_prop (GstElement *e, const gchar *name, const gchar *value)
{
  GParamSpec *ps;
  GValue cur = G_VALUE_INIT, want = G_VALUE_INIT;

  if (!e)
    return;
  ps = g_object_class_find_property (G_OBJECT_GET_CLASS (e), name);
  if (!ps) {
    GST_WARNING_OBJECT (e, "no property %s", name);
    return;
  }
  g_value_init (&cur, ps->value_type);
  g_value_init (&want, ps->value_type);
  g_object_get_property (G_OBJECT (e), name, &cur);
  if (ps->value_type == G_TYPE_STRING)
    g_value_set_string (&want, value);
  else if (!gst_value_deserialize (&want, value)) {
    GST_WARNING_OBJECT (e, "bad value %s for %s", value, name);
    goto out;
  }
  if (ps->value_type == G_TYPE_STRING
      ? g_strcmp0 (g_value_get_string (&cur), value) != 0
      : gst_value_compare (&cur, &want) != GST_VALUE_EQUAL) {
    GST_DEBUG_OBJECT (e, "%s = %s", name, value);
    g_object_set_property (G_OBJECT (e), name, &want);
  }
out:
  g_value_unset (&cur);
  g_value_unset (&want);
}

static void
set_double (GstElement *e, const gchar *name, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  set_prop (e, name, g_ascii_dtostr (buf, sizeof buf, v));
}

static void
set_int (GstElement *e, const gchar *name, gint64 v)
{
  g_autofree gchar *s = g_strdup_printf ("%" G_GINT64_FORMAT, v);
  set_prop (e, name, s);
}

/* The OSD's date: the device clock's zone (with its DST rule) and offset */
static void
osd_clock (TcdPipeline *p)
{
  g_autofree gchar *zone = tcd_clock_get_zone_identifier ();

  if (!p->osd)
    return;
  set_prop (p->osd, "timezone", zone);
  g_object_set (p->osd, "clock-offset", tcd_clock_get_offset (), NULL);
}

static void
on_clock_changed (TcdClockChange what, gpointer user_data)
{
  osd_clock (user_data);
}

static const gchar *
str_at (JsonNode *doc, const gchar *path)
{
  JsonNode *n = tcd_config_node (doc, path);
  return n ? json_node_get_string (n) : "";
}

static gdouble
dbl_at (JsonNode *doc, const gchar *path)
{
  JsonNode *n = tcd_config_node (doc, path);
  return n ? json_node_get_double (n) : 0;
}

static gboolean
bool_at (JsonNode *doc, const gchar *path)
{
  JsonNode *n = tcd_config_node (doc, path);
  return n ? json_node_get_boolean (n) : FALSE;
}

/* underscores of the JSON enums to the dashes of the enum nicks */
static void
set_nick (GstElement *e, const gchar *name, const gchar *value)
{
  g_autofree gchar *nick = g_strdelimit (g_strdup (value), "_", '-');
  set_prop (e, name, nick);
}

static gchar *
argb (const gchar *hex)
{
  return g_strdup_printf ("%u", 0xff000000u | (guint) g_ascii_strtoull (hex + 1, NULL, 16));
}

static gint
fps_of (JsonNode *doc)
{
  return tcd_config_sensor_fps (doc);
}

static const gchar *
scale_of (JsonNode *doc)
{
  return g_str_equal (str_at (doc, "thermometry.temperature_range"), "0~550")
      ? "decikelvin" : "centikelvin";
}

static void
apply_elements (TcdPipeline *p, JsonNode *doc)
{
  gboolean on = bool_at (doc, "thermometry.enabled");
  gboolean info = on && bool_at (doc, "thermometry.info_on_stream");
  const gchar *dnr = str_at (doc, "image.dnr.mode");
  const gchar *mirror = str_at (doc, "image.mirror");
  g_autofree gchar *rules = NULL, *cmps = NULL, *scene = NULL, *text = NULL;
  g_autofree gchar *fc = NULL, *nc = NULL, *pc = NULL, *ac = NULL;
  JsonArray *lines;
  GString *t = g_string_new (NULL);

  /* thermometry: the global object parameters */
  set_double (p->radiometry, "emissivity", dbl_at (doc, "thermometry.emissivity"));
  set_double (p->radiometry, "distance", dbl_at (doc, "thermometry.distance"));
  set_double (p->radiometry, "reflected-temperature",
      dbl_at (doc, "thermometry.reflected_temperature"));
  set_double (p->radiometry, "atmospheric-temperature",
      dbl_at (doc, "thermometry.atmospheric_temperature"));
  set_double (p->radiometry, "relative-humidity",
      dbl_at (doc, "thermometry.relative_humidity"));
  set_double (p->radiometry, "window-transmission",
      dbl_at (doc, "thermometry.optical_transmissivity"));
  /* the calibration coefficient: the window's temperature worked out as the
   * air's plus the coefficient (schema: thermometry.calibration_coefficient) */
  set_double (p->radiometry, "window-temperature",
      bool_at (doc, "thermometry.calibration_coefficient_enabled")
      ? dbl_at (doc, "thermometry.atmospheric_temperature")
        + dbl_at (doc, "thermometry.calibration_coefficient")
      : dbl_at (doc, "thermometry.window_temperature"));

  /* rules and alarms: none while measurement is off */
  rules = on ? tcd_json_to_string (tcd_config_node (doc, "rules"), FALSE) : g_strdup ("[]");
  cmps = on ? tcd_json_to_string (tcd_config_node (doc, "comparisons"), FALSE)
      : g_strdup ("[]");
  scene = on ? tcd_json_to_string (tcd_config_node (doc, "scene_alarm"), FALSE)
      : g_strdup ("");
  /* comparisons refer to rules: clear them first so that neither is ever
   * set against the other's old value */
  set_prop (p->measure, "comparisons", "[]");
  set_prop (p->measure, "rules", rules);
  set_prop (p->measure, "comparisons", cmps);
  set_prop (p->measure, "scene-alarm", scene);
  set_double (p->measure, "alarm-interval", dbl_at (doc, "thermometry.alarm_interval_s"));
  /* the distance mode and the measurement range the readings are flagged against */
  set_prop (p->measure, "rule-distance",
      g_str_equal (str_at (doc, "thermometry.distance_mode"), "fixed") ? "false" : "true");
  {
    const gchar *range = str_at (doc, "thermometry.temperature_range");
    gchar *end = NULL;
    gdouble lo = g_ascii_strtod (range, &end);

    if (end && end != range && *end == '~') {
      set_double (p->measure, "range-min", lo);
      set_double (p->measure, "range-max", g_ascii_strtod (end + 1, NULL));
    }
  }

  /* image */
  set_nick (p->dnr, "mode", dnr);
  set_int (p->dnr, "level", (gint64) dbl_at (doc, "image.dnr.level"));
  set_int (p->dnr, "spatial-level", (gint64) dbl_at (doc, "image.dnr.spatial_level"));
  set_int (p->dnr, "temporal-level", (gint64) dbl_at (doc, "image.dnr.temporal_level"));
  set_nick (p->palette, "palette", str_at (doc, "image.palette"));
  set_nick (p->palette, "range-mode", str_at (doc, "image.range.mode"));
  set_double (p->palette, "range-min", dbl_at (doc, "image.range.min"));
  set_double (p->palette, "range-max", dbl_at (doc, "image.range.max"));
  set_nick (p->palette, "agc", str_at (doc, "image.agc"));
  set_double (p->palette, "brightness", (dbl_at (doc, "image.brightness") - 50.0) / 50.0);
  set_double (p->palette, "contrast", dbl_at (doc, "image.contrast") / 50.0);
  set_int (p->palette, "dde-level", g_str_equal (str_at (doc, "image.dde.mode"), "off")
      ? 0 : (gint64) dbl_at (doc, "image.dde.level"));
  set_prop (p->mirror, "video-direction",
      g_str_equal (mirror, "horizontal") ? "horiz" :
      g_str_equal (mirror, "vertical") ? "vert" :
      g_str_equal (mirror, "both") ? "180" : "identity");

  /* OSD */
  set_prop (p->osd, "camera-name", bool_at (doc, "osd.show_name")
      ? str_at (doc, "device.name") : "");
  set_prop (p->osd, "show-date", bool_at (doc, "osd.show_date") ? "true" : "false");
  set_prop (p->osd, "show-week", bool_at (doc, "osd.show_week") ? "true" : "false");
  set_prop (p->osd, "date-format", str_at (doc, "osd.date_format"));
  set_prop (p->osd, "time-format", str_at (doc, "osd.time_format"));
  lines = json_node_get_array (tcd_config_node (doc, "osd.text"));
  for (guint i = 0; i < json_array_get_length (lines); i++)
    g_string_append_printf (t, "%s%s", i ? "\n" : "",
        tc_json_array_get_string (lines, i));
  text = g_string_free (t, FALSE);
  set_prop (p->osd, "text-lines", text);
  set_int (p->osd, "font-size", (gint64) dbl_at (doc, "osd.font_size"));
  fc = argb (str_at (doc, "osd.font_color"));
  nc = argb (str_at (doc, "osd.normal_color"));
  pc = argb (str_at (doc, "osd.pre_alarm_color"));
  ac = argb (str_at (doc, "osd.alarm_color"));
  set_prop (p->osd, "font-color", fc);
  set_prop (p->osd, "normal-color", nc);
  set_prop (p->osd, "pre-alarm-color", pc);
  set_prop (p->osd, "alarm-color", ac);
  set_nick (p->osd, "alignment", str_at (doc, "osd.alignment"));
  set_nick (p->osd, "osd-position", str_at (doc, "osd.position"));
  set_nick (p->osd, "unit", str_at (doc, "thermometry.unit"));
  set_prop (p->osd, "show-ruler", bool_at (doc, "thermometry.color_ruler") ? "true" : "false");
  set_prop (p->osd, "show-rules", info ? "true" : "false");
  set_prop (p->osd, "show-scene", info && bool_at (doc, "thermometry.show_scene")
      ? "true" : "false");
  set_prop (p->osd, "show-max-min-avg",
      bool_at (doc, "thermometry.show_max_min_avg") ? "true" : "false");
  set_nick (p->osd, "info-position", str_at (doc, "thermometry.info_position"));
  set_prop (p->osd, "show-rule-names",
      bool_at (doc, "thermometry.show_rule_name") ? "true" : "false");
  osd_clock (p);
  {
    gboolean pic = bool_at (doc, "osd.picture.enabled") && p->picture_path
        && g_file_test (p->picture_path, G_FILE_TEST_EXISTS);
    set_prop (p->osd, "picture-file", pic ? p->picture_path : "");
    set_int (p->osd, "picture-x", (gint64) dbl_at (doc, "osd.picture.x"));
    set_int (p->osd, "picture-y", (gint64) dbl_at (doc, "osd.picture.y"));
  }
}

/* ---- life cycle ---- */

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  TcdPipeline *p = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      g_autoptr (GError) err = NULL;
      g_autofree gchar *dbg = NULL;
      g_autofree gchar *what = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      what = g_strdup_printf ("%s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      g_warning ("pipeline error: %s (%s)", what, dbg ? dbg : "");
      schedule_restart (p, what);
      break;
    }
    case GST_MESSAGE_EOS:
      schedule_restart (p, "the source ended");
      break;
    case GST_MESSAGE_WARNING:{
      g_autoptr (GError) err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      g_message ("pipeline warning: %s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)),
          err->message);
      break;
    }
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);
      if (s && p->on_message
          && (gst_structure_has_name (s, "thermal-alarm")
              || gst_structure_has_name (s, "thermal-measurement")))
        p->on_message (s, p->user_data);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static GstElement *
by_name (GstElement *bin, const gchar *name)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (bin), name);

  if (e)
    gst_object_unref (e);       /* the bin keeps it */
  return e;
}

static gboolean
watchdog (gpointer user_data)
{
  TcdPipeline *p = user_data;
  gint64 last;

  g_mutex_lock (&p->lock);
  last = p->last_frame_us;
  g_mutex_unlock (&p->lock);
  if (p->pipeline && last && g_get_monotonic_time () - last > STALL_SECONDS * G_USEC_PER_SEC) {
    schedule_restart (p, "no frame from the sensor for 5 s");
  } else if (p->pipeline && p->started_us
      && g_get_monotonic_time () - p->started_us > 30 * G_USEC_PER_SEC) {
    p->backoff_ms = BACKOFF_MIN_MS;     /* it has run well for a while */
  }
  return G_SOURCE_CONTINUE;
}

gboolean
tcd_pipeline_start (TcdPipeline *p, JsonNode *doc, GError **error)
{
  g_autofree gchar *desc = NULL;
  g_autoptr (GstBus) bus = NULL;
  GstAppSinkCallbacks tcb = { 0 }, vcb = { 0 }, jcb = { 0 };
  GstElement *pl;
  GstPad *pad;

  if (doc != p->doc) {
    JsonNode *copy = tcd_json_deep_copy (doc);
    if (p->doc)
      json_node_unref (p->doc);
    p->doc = copy;
  }
  tcd_pipeline_stop (p);
  desc = tcd_pipeline_describe (p->dir, p->source_kind, p->source_arg, fps_of (p->doc), error);
  if (!desc)
    return FALSE;
  GST_INFO ("core pipeline: %s", desc);
  pl = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, error);
  if (!pl)
    return FALSE;
  p->pipeline = pl;
  p->src = by_name (pl, "src");
  p->nuc = by_name (pl, "nuc");
  p->radiometry = by_name (pl, "radiometry");
  p->mirror = by_name (pl, "mirror");
  p->measure = by_name (pl, "measure");
  p->dnr = by_name (pl, "dnr");
  p->palette = by_name (pl, "palette");
  p->osd = by_name (pl, "osd");
  p->valve = by_name (pl, "mjpeg_valve");
  p->fps = fps_of (p->doc);
  /* the last pipeline's caps are not this one's (a new video standard): a
   * stream prepared before the first frame takes the size it had and the
   * new rate (tcd_pipeline_get_format) */
  g_mutex_lock (&p->lock);
  gst_clear_caps (&p->video_caps);
  p->next_offset = GST_BUFFER_OFFSET_NONE;      /* a new start numbers from 0 */
  g_mutex_unlock (&p->lock);
  g_free (p->scale);
  p->scale = g_strdup (scale_of (p->doc));
  set_nick (p->radiometry, "scale", p->scale);

  tcb.new_sample = on_temperature;
  gst_app_sink_set_callbacks (GST_APP_SINK (by_name (pl, "temperature")), &tcb, p, NULL);
  vcb.new_sample = on_video;
  gst_app_sink_set_callbacks (GST_APP_SINK (by_name (pl, "video")), &vcb, p, NULL);
  jcb.new_sample = on_mjpeg;
  gst_app_sink_set_callbacks (GST_APP_SINK (by_name (pl, "mjpeg")), &jcb, p, NULL);

  /* the moment a frame leaves the sensor: the start of every delay */
  pad = gst_element_get_static_pad (p->nuc, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, capture_probe, p, NULL);
  gst_object_unref (pad);

  apply_elements (p, p->doc);
  g_object_set (p->nuc, "defective-pixels", p->defective_pixels, NULL);
  bus = gst_element_get_bus (pl);
  p->bus_watch = gst_bus_add_watch (bus, on_bus, p);
  g_mutex_lock (&p->lock);
  p->last_frame_us = g_get_monotonic_time ();
  g_mutex_unlock (&p->lock);
  if (!p->watchdog_id)
    p->watchdog_id = g_timeout_add_seconds (1, watchdog, p);
  if (gst_element_set_state (pl, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    /* the sensor is not there (yet): keep trying, the servers run anyway */
    g_autofree gchar *why = g_strdup_printf ("the core pipeline does not start (source %s%s%s)",
        p->source_kind, p->source_arg ? ":" : "", p->source_arg ? p->source_arg : "");
    schedule_restart (p, why);
    return TRUE;
  }
  p->started_us = g_get_monotonic_time ();
  return TRUE;
}

void
tcd_pipeline_stop (TcdPipeline *p)
{
  if (p->bus_watch) {
    g_source_remove (p->bus_watch);
    p->bus_watch = 0;
  }
  if (p->pipeline) {
    gst_element_set_state (p->pipeline, GST_STATE_NULL);
    gst_clear_object (&p->pipeline);
  }
  p->src = p->nuc = p->radiometry = p->mirror = p->measure = NULL;
  p->dnr = p->palette = p->osd = p->valve = NULL;
}

static gboolean
restart_cb (gpointer user_data)
{
  TcdPipeline *p = user_data;
  g_autoptr (GError) err = NULL;

  p->restart_id = 0;
  if (tcd_pipeline_start (p, p->doc, &err)) {
    g_message ("core pipeline restarted");
    return G_SOURCE_REMOVE;
  }
  schedule_restart (p, err->message);
  return G_SOURCE_REMOVE;
}

static void
schedule_restart (TcdPipeline *p, const gchar *why)
{
  if (p->restart_id)
    return;
  tcd_pipeline_stop (p);
  g_mutex_lock (&p->lock);
  p->restarts++;
  g_free (p->last_error);
  p->last_error = g_strdup (why);
  p->last_frame_us = 0;
  g_mutex_unlock (&p->lock);
  g_warning ("core pipeline stopped (%s); restarting in %u ms", why, p->backoff_ms);
  if (p->on_exception)
    p->on_exception ("pipeline_error", why, p->user_data);
  p->restart_id = g_timeout_add (p->backoff_ms, restart_cb, p);
  p->backoff_ms = MIN (p->backoff_ms * 2, BACKOFF_MAX_MS);
}

void
tcd_pipeline_apply (TcdPipeline *p, JsonNode *doc)
{
  JsonNode *copy = tcd_json_deep_copy (doc);

  if (p->doc)
    json_node_unref (p->doc);
  p->doc = copy;
  if (!p->pipeline)
    return;                     /* a restart is pending: it takes the new doc */
  if (fps_of (doc) != p->fps || g_strcmp0 (scale_of (doc), p->scale) != 0) {
    g_autoptr (GError) err = NULL;
    /* the caps change: a new pipeline (the RTSP streams keep their clients
     * and get the new frames) */
    if (!tcd_pipeline_start (p, p->doc, &err))
      schedule_restart (p, err->message);
    return;
  }
  apply_elements (p, doc);
}

void
tcd_pipeline_free (TcdPipeline *p)
{
  if (!p)
    return;
  if (p->clock_watch)
    tcd_clock_unwatch (p->clock_watch);
  if (p->restart_id)
    g_source_remove (p->restart_id);
  if (p->watchdog_id)
    g_source_remove (p->watchdog_id);
  tcd_pipeline_stop (p);
  g_clear_pointer (&p->temperature, gst_sample_unref);
  g_clear_pointer (&p->video, gst_sample_unref);
  gst_clear_caps (&p->video_caps);
  if (p->doc)
    json_node_unref (p->doc);
  g_ptr_array_free (p->outlets, TRUE);
  tcd_frame_watch_free (p->frame_watch);
  g_mutex_clear (&p->lock);
  g_free (p->dir);
  g_free (p->source_kind);
  g_free (p->source_arg);
  g_free (p->scale);
  g_free (p->picture_path);
  g_free (p->defective_pixels);
  g_free (p->last_error);
  g_free (p);
}

/* ---- accessors ---- */

guint
tcd_pipeline_add_frame_func (TcdPipeline *p, GSourceFunc func, gpointer data)
{
  return tcd_frame_watch_add (p->frame_watch, func, data);
}

void
tcd_pipeline_remove_frame_func (TcdPipeline *p, guint id)
{
  tcd_frame_watch_remove (p->frame_watch, id);
}

GstSample *
tcd_pipeline_get_temperature (TcdPipeline *p)
{
  GstSample *s;

  g_mutex_lock (&p->lock);
  s = p->temperature ? gst_sample_ref (p->temperature) : NULL;
  g_mutex_unlock (&p->lock);
  return s;
}

gboolean
tcd_pipeline_set_shutter (TcdPipeline *p, gboolean closed)
{
  gboolean now;

  if (!p->src || !g_object_class_find_property (G_OBJECT_GET_CLASS (p->src), "shutter"))
    return FALSE;
  g_object_get (p->src, "shutter", &now, NULL);
  if (now != closed)
    g_object_set (p->src, "shutter", closed, NULL);
  return TRUE;
}

GstSample *
tcd_pipeline_get_video (TcdPipeline *p)
{
  GstSample *s;

  g_mutex_lock (&p->lock);
  s = p->video ? gst_sample_ref (p->video) : NULL;
  g_mutex_unlock (&p->lock);
  return s;
}

GstCaps *
tcd_pipeline_get_video_caps (TcdPipeline *p)
{
  GstCaps *c;

  g_mutex_lock (&p->lock);
  c = p->video_caps ? gst_caps_ref (p->video_caps) : NULL;
  g_mutex_unlock (&p->lock);
  return c;
}

void
tcd_pipeline_get_format (TcdPipeline *p, gint *width, gint *height, gint *fps)
{
  g_mutex_lock (&p->lock);
  *width = p->width ? p->width : 640;
  *height = p->height ? p->height : 512;
  g_mutex_unlock (&p->lock);
  *fps = p->doc ? fps_of (p->doc) : 30;
}

void
tcd_pipeline_set_picture_path (TcdPipeline *p, const gchar *path)
{
  g_free (p->picture_path);
  p->picture_path = g_strdup (path);
}

void
tcd_pipeline_reload_picture (TcdPipeline *p)
{
  if (p->osd) {
    g_object_set (p->osd, "picture-file", "", NULL);
    if (p->doc)
      apply_elements (p, p->doc);
  }
}

void
tcd_pipeline_set_mjpeg_viewers (TcdPipeline *p, guint n)
{
  if (p->valve)
    g_object_set (p->valve, "drop", n == 0, NULL);
}

void
tcd_pipeline_ffc (TcdPipeline *p)
{
  if (p->nuc)
    g_signal_emit_by_name (p->nuc, "ffc");
}

void
tcd_pipeline_background_correction (TcdPipeline *p)
{
  if (p->nuc)
    g_signal_emit_by_name (p->nuc, "background-correction");
}

void
tcd_pipeline_set_defective_pixels (TcdPipeline *p, const gchar *list)
{
  g_free (p->defective_pixels);
  p->defective_pixels = g_strdup (list);
  if (p->nuc)                   /* the element rebuilds its map before its next frame */
    g_object_set (p->nuc, "defective-pixels", list, NULL);
}

TcdVideoOutlet *
tcd_pipeline_add_outlet (TcdPipeline *p, GstAppSrc *src, const gchar *name)
{
  TcdVideoOutlet *o = g_new0 (TcdVideoOutlet, 1);

  o->p = p;
  o->src = gst_object_ref (src);
  o->name = g_strdup (name);
  g_mutex_init (&o->lock);
  g_mutex_lock (&p->lock);
  g_ptr_array_add (p->outlets, o);
  g_mutex_unlock (&p->lock);
  return o;
}

void
tcd_pipeline_remove_outlet (TcdPipeline *p, TcdVideoOutlet *o)
{
  g_mutex_lock (&p->lock);
  g_ptr_array_remove (p->outlets, o);
  g_mutex_unlock (&p->lock);
  gst_object_unref (o->src);
  g_mutex_clear (&o->lock);
  g_free (o->name);
  g_free (o);
}

GstElement *
tcd_pipeline_element (TcdPipeline *p)
{
  return p->pipeline ? gst_object_ref (p->pipeline) : NULL;
}

JsonNode *
tcd_pipeline_stats (TcdPipeline *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  guint64 clamped = 0;

  if (p->radiometry)
    g_object_get (p->radiometry, "clamped-total", &clamped, NULL);
  g_mutex_lock (&p->lock);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "running");
  json_builder_add_boolean_value (b, p->pipeline != NULL);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, p->source_kind);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, p->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, p->height);
  json_builder_set_member_name (b, "fps");
  json_builder_add_int_value (b, p->fps);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, p->frames);
  json_builder_set_member_name (b, "dropped_frames");
  json_builder_add_int_value (b, p->dropped);
  json_builder_set_member_name (b, "video_frames");
  json_builder_add_int_value (b, p->video_frames);
  json_builder_set_member_name (b, "live_view_jpegs");
  json_builder_add_int_value (b, p->jpegs);
  json_builder_set_member_name (b, "clamped_pixels");
  json_builder_add_int_value (b, clamped);
  json_builder_set_member_name (b, "restarts");
  json_builder_add_int_value (b, p->restarts);
  json_builder_set_member_name (b, "last_error");
  if (p->last_error)
    json_builder_add_string_value (b, p->last_error);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "outlets");
  json_builder_begin_array (b);
  for (guint i = 0; i < p->outlets->len; i++) {
    TcdVideoOutlet *o = g_ptr_array_index (p->outlets, i);
    g_mutex_lock (&o->lock);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "stream");
    json_builder_add_string_value (b, o->name);
    json_builder_set_member_name (b, "frames");
    json_builder_add_int_value (b, o->pushed);
    json_builder_set_member_name (b, "latency_ms");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "count");
    json_builder_add_int_value (b, o->latency.n);
    json_builder_set_member_name (b, "last");
    json_builder_add_double_value (b, o->latency.last_ms);
    json_builder_set_member_name (b, "mean");
    json_builder_add_double_value (b, o->latency.n ? o->latency.sum_ms / o->latency.n : 0);
    json_builder_set_member_name (b, "max");
    json_builder_add_double_value (b, o->latency.max_ms);
    json_builder_end_object (b);
    json_builder_end_object (b);
    g_mutex_unlock (&o->lock);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_mutex_unlock (&p->lock);
  return json_builder_get_root (b);
}
