/* thermocamd: pictures for capture and linkage (manual 8.3)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Three kinds of threads:
 *   - the main context (where tcd_capture_new was called): the timed
 *     capture's interval timer, tcd_capture_take and the callbacks;
 *   - the scheduler, a thread of our own running a private GMainContext: one
 *     GSource per series of pictures, dispatched at each picture's due time,
 *     takes a reference to the newest frame (cheap) and queues it;
 *   - the encoders, a GThreadPool of ENCODERS threads: the short encoding
 *     pipelines (tcd-snapshot) and the store's writes.
 * So series run side by side (a second event's pictures never wait behind
 * the first one's series), the main loop never encodes, and a frame is held
 * only from its grab to its encoding.
 *
 * A Series is reference-counted: its grab source holds one reference until
 * the last grab, each queued encoding one; whoever drops the last one hands
 * the pictures to the main context.
 */
#include "tcd-capture.h"

#include "tcd-clock.h"
#include "tcd-config.h"
#include "tcd-schedule.h"
#include "tcd-snapshot.h"

#include <stdio.h>

#define ENCODERS 2
#define MAX_COUNT 100
/* tcd_capture_free waits this long for the encodings in flight (an encoding
 * gives up after 5 s) */
#define FREE_WAIT_US (10 * G_USEC_PER_SEC)

typedef struct {
  TcdSnapshotFormat format;
  gint width, height;           /* 0: native */
  gint quality;
} PictureSpec;

typedef struct _Series Series;

struct _TcdCapture {
  TcdPipeline *pipeline;
  TcdStore *store;
  GMainContext *main_ctx;       /* callbacks and the timed capture's timer */

  /* the scheduler */
  GMainContext *ctx;
  GMainLoop *loop;
  GThread *thread;
  GThreadPool *encoders;

  GMutex lock;                  /* everything below */
  GCond cond;
  gboolean closing;             /* no more grabs nor callbacks */
  gboolean abandoned;           /* free gave up waiting: no more work */
  guint busy;                   /* series not yet handed over */
  GList *series;                /* with a grab source (the scheduler's) */
  GList *deliveries;            /* GSource on main_ctx, not yet dispatched */
  gchar *palette;               /* image.palette, as a nick */

  /* the timed capture (main context only) */
  GSource *timer;
  guint interval_s;
  PictureSpec timed_picture;
  JsonNode *schedule;
  TcdCaptureFunc timed_func;
  gpointer timed_data;
};

struct _Series {
  gint ref;
  TcdCapture *c;
  PictureSpec spec;
  gchar *palette;
  gchar *tag;
  gboolean store;
  TcdCaptureFunc func;
  gpointer user_data;
  guint count;
  guint interval_ms;
  guint next;                   /* index of the next grab */
  gint64 start_us;              /* monotonic time of the first grab */
  GSource *source;              /* the grab source, scheduler only */
  TcdPicture **pictures;        /* [count], NULL where none */
};

typedef struct {
  Series *series;
  guint index;
  GstSample *sample;
  gint64 time_us;
} Job;

typedef struct {
  TcdCapture *c;
  GSource *source;
  GPtrArray *pictures;
  TcdCaptureFunc func;
  gpointer user_data;
} Delivery;

void
tcd_picture_free (TcdPicture *p)
{
  if (!p)
    return;
  g_free (p->name);
  g_clear_pointer (&p->data, g_bytes_unref);
  g_clear_error (&p->store_error);
  g_free (p);
}

/* ---- picture settings ---- */

static gint64
member_int (JsonObject *o, const gchar *name, gint64 def)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_int (n) : def;
}

static const gchar *
member_string (JsonObject *o, const gchar *name, const gchar *def)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
      ? json_node_get_string (n) : def;
}

/* $defs/picture; anything missing or odd takes the schema's default */
static void
parse_picture (JsonNode *node, PictureSpec *spec)
{
  JsonObject *o = node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const gchar *res = member_string (o, "resolution", "native");

  if (!tcd_snapshot_format_parse (member_string (o, "format", "jpeg"), &spec->format))
    spec->format = TCD_SNAPSHOT_JPEG;
  spec->quality = CLAMP (member_int (o, "quality", 90), 1, 100);
  spec->width = spec->height = 0;
  if (g_strcmp0 (res, "native") != 0
      && (sscanf (res, "%dx%d", &spec->width, &spec->height) != 2
          || spec->width <= 0 || spec->height <= 0 || spec->width > 8192
          || spec->height > 8192)) {
    g_warning ("capture: resolution \"%s\": taking the native one", res);
    spec->width = spec->height = 0;
  }
}

/* ---- series ---- */

static Series *
series_ref (Series *s)
{
  g_atomic_int_inc (&s->ref);
  return s;
}

static void
series_free (Series *s)
{
  for (guint i = 0; i < s->count; i++)
    tcd_picture_free (s->pictures[i]);
  g_free (s->pictures);
  g_free (s->palette);
  g_free (s->tag);
  g_free (s);
}

static void
delivery_free (gpointer data)
{
  Delivery *d = data;

  g_ptr_array_unref (d->pictures);
  g_free (d);
}

static gboolean
delivery_dispatch (gpointer data)
{
  Delivery *d = data;
  TcdCapture *c = d->c;

  g_mutex_lock (&c->lock);
  c->deliveries = g_list_remove (c->deliveries, d->source);
  g_mutex_unlock (&c->lock);
  g_source_unref (d->source);   /* the list's; the context keeps its own */
  if (d->func)
    d->func (d->pictures, d->user_data);
  return G_SOURCE_REMOVE;
}

/* The last reference: hand the pictures over (unless closing) */
static void
series_unref (Series *s)
{
  TcdCapture *c = s->c;
  Delivery *d;

  if (!g_atomic_int_dec_and_test (&s->ref))
    return;

  d = g_new0 (Delivery, 1);
  d->c = c;
  d->func = s->func;
  d->user_data = s->user_data;
  d->pictures = g_ptr_array_new_with_free_func ((GDestroyNotify) tcd_picture_free);
  for (guint i = 0; i < s->count; i++)
    if (s->pictures[i])
      g_ptr_array_add (d->pictures, g_steal_pointer (&s->pictures[i]));
  series_free (s);

  g_mutex_lock (&c->lock);
  if (!c->closing) {
    d->source = g_idle_source_new ();
    g_source_set_priority (d->source, G_PRIORITY_DEFAULT);
    g_source_set_static_name (d->source, "tcd-capture delivery");
    g_source_set_callback (d->source, delivery_dispatch, d, delivery_free);
    c->deliveries = g_list_prepend (c->deliveries, d->source);
    g_source_attach (d->source, c->main_ctx);
    d = NULL;
  }
  c->busy--;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  if (d)
    delivery_free (d);
}

static gchar *
picture_name (gint64 time_us, const gchar *tag, guint n, TcdSnapshotFormat format)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (time_us / G_USEC_PER_SEC);
  g_autofree gchar *stamp = t ? g_date_time_format (t, "%Y%m%dT%H%M%S") : g_strdup ("0");

  return g_strdup_printf ("%s.%03dZ-%s-%u.%s", stamp,
      (gint) ((time_us % G_USEC_PER_SEC) / 1000), tag, n, tcd_snapshot_extension (format));
}

/* an encoder thread */
static void
encode_job (gpointer data, gpointer user_data)
{
  Job *j = data;
  Series *s = j->series;
  TcdCapture *c = user_data;
  g_autoptr (GError) error = NULL;
  GBytes *bytes = NULL;
  gboolean abandoned;

  /* a frame taken is a picture kept, even when closing (free waits) */
  g_mutex_lock (&c->lock);
  abandoned = c->abandoned;
  g_mutex_unlock (&c->lock);
  if (!abandoned)
    bytes = tcd_snapshot_encode_full (j->sample, s->spec.format, s->palette,
        s->spec.width, s->spec.height, s->spec.quality, &error);
  gst_sample_unref (j->sample);
  if (bytes) {
    TcdPicture *p = g_new0 (TcdPicture, 1);

    p->name = picture_name (j->time_us, s->tag, j->index + 1, s->spec.format);
    p->content_type = tcd_snapshot_content_type (s->spec.format);
    p->data = bytes;
    p->time_us = j->time_us;
    g_mutex_lock (&c->lock);
    abandoned = c->abandoned;
    g_mutex_unlock (&c->lock);
    /* once abandoned, the store may be gone: leave it alone */
    if (s->store && c->store && !abandoned) {
      g_autoptr (GError) serr = NULL;
      gchar *used = tcd_store_add (c->store, p->name, bytes, &serr);

      if (used) {
        g_free (p->name);
        p->name = used;
        p->stored = TRUE;
      } else {
        g_warning ("capture: cannot store %s: %s", p->name, serr->message);
        p->store_error = g_steal_pointer (&serr);
      }
    }
    s->pictures[j->index] = p;
  } else if (error) {
    g_warning ("capture: picture %u of \"%s\": %s", j->index + 1, s->tag, error->message);
  }
  series_unref (s);
  g_free (j);
}

/* the real time of a frame: when it left the sensor, else now */
static gint64
frame_time (TcdCapture *c, GstSample *sample)
{
  GstBuffer *buf = gst_sample_get_buffer (sample);
  gint64 now_real = tcd_clock_now_utc ();
  gint64 captured = 0;

  if (buf && GST_BUFFER_PTS_IS_VALID (buf))
    captured = tcd_pipeline_capture_time (c->pipeline, GST_BUFFER_PTS (buf));
  if (captured)
    return now_real - (g_get_monotonic_time () - captured);
  return now_real;
}

static void
series_remove_source (Series *s)
{
  TcdCapture *c = s->c;

  g_mutex_lock (&c->lock);
  c->series = g_list_remove (c->series, s);
  g_mutex_unlock (&c->lock);
  g_source_destroy (s->source);
  g_source_unref (s->source);
  s->source = NULL;
}

/* the scheduler: one grab of a series */
static gboolean
series_grab (gpointer data)
{
  Series *s = data;
  TcdCapture *c = s->c;
  GstSample *sample;
  gboolean closing;

  g_mutex_lock (&c->lock);
  closing = c->closing;
  g_mutex_unlock (&c->lock);
  if (closing) {
    series_remove_source (s);
    series_unref (s);
    return G_SOURCE_REMOVE;
  }

  if (s->next == 0)
    s->start_us = g_get_monotonic_time ();
  sample = s->spec.format == TCD_SNAPSHOT_RJPEG ? tcd_pipeline_get_temperature (c->pipeline)
      : tcd_pipeline_get_video (c->pipeline);
  if (sample) {
    Job *j = g_new0 (Job, 1);

    j->series = series_ref (s);
    j->index = s->next;
    j->sample = sample;
    j->time_us = frame_time (c, sample);
    g_thread_pool_push (c->encoders, j, NULL);
  } else {
    g_message ("capture: no frame yet (the sensor is starting): no picture %u of \"%s\"",
        s->next + 1, s->tag);
  }

  if (++s->next >= s->count) {
    series_remove_source (s);
    series_unref (s);
    return G_SOURCE_REMOVE;
  }
  /* due times from the first grab: no drift */
  g_source_set_ready_time (s->source,
      s->start_us + (gint64) s->next * s->interval_ms * 1000);
  return G_SOURCE_CONTINUE;
}

static gboolean
ready_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  return callback ? callback (user_data) : G_SOURCE_REMOVE;
}

/* a source dispatched at its ready time, nothing else */
static GSourceFuncs ready_funcs = { NULL, NULL, ready_dispatch, NULL, NULL, NULL };

static gpointer
scheduler_thread (gpointer data)
{
  TcdCapture *c = data;

  g_main_context_push_thread_default (c->ctx);
  g_main_loop_run (c->loop);
  g_main_context_pop_thread_default (c->ctx);
  return NULL;
}

static void
take (TcdCapture *c, const PictureSpec *spec, guint count, guint interval_ms,
    const gchar *tag, gboolean store, TcdCaptureFunc func, gpointer user_data)
{
  Series *s = g_new0 (Series, 1);

  s->ref = 1;
  s->c = c;
  s->spec = *spec;
  s->tag = g_strdup (tag && *tag ? tag : "capture");
  if (!tcd_store_name_ok (s->tag)) {
    g_warning ("capture: tag \"%s\" is not fit for a file name", s->tag);
    g_free (s->tag);
    s->tag = g_strdup ("capture");
  }
  s->store = store;
  s->func = func;
  s->user_data = user_data;
  s->count = CLAMP (count, 1, MAX_COUNT);
  s->interval_ms = interval_ms;
  s->pictures = g_new0 (TcdPicture *, s->count);
  s->source = g_source_new (&ready_funcs, sizeof (GSource));
  g_source_set_static_name (s->source, "tcd-capture grab");
  g_source_set_callback (s->source, series_grab, s, NULL);
  g_source_set_ready_time (s->source, 0);

  g_mutex_lock (&c->lock);
  s->palette = g_strdup (c->palette);
  if (c->closing) {
    g_mutex_unlock (&c->lock);
    g_source_unref (s->source);
    series_free (s);
    return;
  }
  c->busy++;
  c->series = g_list_prepend (c->series, s);
  g_source_attach (s->source, c->ctx);
  g_mutex_unlock (&c->lock);
}

void
tcd_capture_take (TcdCapture *c, JsonNode *picture, guint count, guint interval_ms,
    const gchar *tag, gboolean store, TcdCaptureFunc func, gpointer user_data)
{
  PictureSpec spec;

  g_return_if_fail (c != NULL);

  parse_picture (picture, &spec);
  take (c, &spec, count, interval_ms, tag, store, func, user_data);
}

/* ---- timed capture ---- */

static void
timed_done (GPtrArray *pictures, gpointer user_data)
{
  TcdCapture *c = user_data;

  if (c->timed_func)
    c->timed_func (pictures, c->timed_data);
}

static gboolean
timed_tick (gpointer data)
{
  TcdCapture *c = data;
  g_autoptr (GDateTime) now = tcd_clock_now_local ();

  if (tcd_schedule_contains (c->schedule, now))
    take (c, &c->timed_picture, 1, 0, "timed", TRUE, timed_done, c);
  return G_SOURCE_CONTINUE;
}

static void
timed_stop (TcdCapture *c)
{
  if (c->timer) {
    g_source_destroy (c->timer);
    g_source_unref (c->timer);
    c->timer = NULL;
  }
  c->interval_s = 0;
}

void
tcd_capture_apply (TcdCapture *c, JsonNode *doc)
{
  JsonNode *timed = tcd_config_node (doc, "capture.timed");
  JsonObject *to = timed && JSON_NODE_HOLDS_OBJECT (timed) ? json_node_get_object (timed) : NULL;
  JsonNode *n;
  const gchar *palette;
  gboolean enabled;
  guint interval;

  g_return_if_fail (c != NULL);

  /* the store's limit */
  n = tcd_config_node (doc, "capture.storage_mb");
  if (c->store && n && JSON_NODE_HOLDS_VALUE (n))
    tcd_store_set_limit (c->store, (guint64) MAX (json_node_get_int (n), 1) << 20);

  /* the radiometric JPEG's palette */
  n = tcd_config_node (doc, "image.palette");
  palette = n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_string (n) : NULL;
  g_mutex_lock (&c->lock);
  g_free (c->palette);
  c->palette = palette ? g_strdelimit (g_strdup (palette), "_", '-') : NULL;
  g_mutex_unlock (&c->lock);

  /* the schedule's time zone is the device clock's (tcd-clock.h) */

  /* the timed capture */
  parse_picture (to ? json_object_get_member (to, "picture") : NULL, &c->timed_picture);
  g_clear_pointer (&c->schedule, json_node_unref);
  n = to ? json_object_get_member (to, "schedule") : NULL;
  if (n)
    c->schedule = tcd_json_deep_copy (n);
  n = to ? json_object_get_member (to, "enabled") : NULL;
  enabled = n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_boolean (n);
  interval = CLAMP (member_int (to, "interval_s", 60), 1, 604800);
  if (!enabled) {
    timed_stop (c);
  } else if (!c->timer || c->interval_s != interval) {
    /* a new or changed interval re-arms; the same one keeps its phase */
    timed_stop (c);
    c->interval_s = interval;
    c->timer = g_timeout_source_new (interval * 1000);
    g_source_set_static_name (c->timer, "tcd-capture timed");
    g_source_set_callback (c->timer, timed_tick, c, NULL);
    g_source_attach (c->timer, c->main_ctx);
  }
}

void
tcd_capture_set_timed_func (TcdCapture *c, TcdCaptureFunc func, gpointer user_data)
{
  c->timed_func = func;
  c->timed_data = user_data;
}

/* ---- life ---- */

TcdCapture *
tcd_capture_new (TcdPipeline *pipeline, TcdStore *store)
{
  TcdCapture *c = g_new0 (TcdCapture, 1);

  c->pipeline = pipeline;
  c->store = store;
  c->main_ctx = g_main_context_ref_thread_default ();
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->encoders = g_thread_pool_new (encode_job, c, ENCODERS, FALSE, NULL);
  c->ctx = g_main_context_new ();
  c->loop = g_main_loop_new (c->ctx, FALSE);
  c->thread = g_thread_new ("tcd-capture", scheduler_thread, c);
  return c;
}

/* the scheduler: drop the series still grabbing */
static gboolean
scheduler_stop (gpointer data)
{
  TcdCapture *c = data;
  GList *l;

  g_mutex_lock (&c->lock);
  l = g_steal_pointer (&c->series);
  g_mutex_unlock (&c->lock);
  for (GList *i = l; i; i = i->next) {
    Series *s = i->data;

    g_source_destroy (s->source);
    g_source_unref (s->source);
    s->source = NULL;
    series_unref (s);
  }
  g_list_free (l);
  g_main_loop_quit (c->loop);
  return G_SOURCE_REMOVE;
}

void
tcd_capture_free (TcdCapture *c)
{
  gint64 deadline = g_get_monotonic_time () + FREE_WAIT_US;
  gboolean done;
  GList *deliveries;
  GSource *stop;

  if (!c)
    return;
  timed_stop (c);
  g_mutex_lock (&c->lock);
  c->closing = TRUE;
  g_mutex_unlock (&c->lock);

  /* no more grabs (the frames taken are still encoded and stored).  A
   * source of its own: the loop may not be running yet */
  stop = g_idle_source_new ();
  g_source_set_callback (stop, scheduler_stop, c, NULL);
  g_source_attach (stop, c->ctx);
  g_source_unref (stop);
  g_thread_join (c->thread);
  g_mutex_lock (&c->lock);
  while (c->busy > 0 && g_cond_wait_until (&c->cond, &c->lock, deadline))
    ;
  done = c->busy == 0;
  c->abandoned = !done;
  deliveries = g_steal_pointer (&c->deliveries);
  g_mutex_unlock (&c->lock);

  /* no callback after free */
  for (GList *l = deliveries; l; l = l->next) {
    g_source_destroy (l->data);
    g_source_unref (l->data);
  }
  g_list_free (deliveries);

  if (!done) {
    /* an encoder is stuck: it still holds @c, so leave it all behind; the
     * queued ones are skipped */
    g_warning ("capture: an encoding is still running; leaving it behind");
    return;
  }
  g_thread_pool_free (c->encoders, FALSE, TRUE);
  g_main_loop_unref (c->loop);
  g_main_context_unref (c->ctx);
  g_main_context_unref (c->main_ctx);
  g_clear_pointer (&c->schedule, json_node_unref);
  g_free (c->palette);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}
