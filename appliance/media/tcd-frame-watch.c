/* thermocamd: a call on the main loop for each new frame of the pipeline
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A consumer that wants every frame (MQTT's readings at every frame) would
 * otherwise poll with a timer at twice the frame rate: twice the main
 * loop's wake-ups, each a walk over every descriptor it watches.  Here the
 * streaming thread sets the source's ready time (g_source_set_ready_time is
 * safe from any thread and wakes the context), only while someone listens.
 */
#include "tcd-frame-watch.h"

typedef struct {
  guint id;
  GSourceFunc func;
  gpointer data;
} Watcher;

typedef struct {
  GSource base;
  TcdFrameWatch *watch;
} FrameSource;

struct _TcdFrameWatch {
  GSource *source;
  GArray *watchers;             /* of Watcher, main thread only */
  guint next_id;
  gint listening;               /* atomic: watchers->len */
};

static gboolean
dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  TcdFrameWatch *w = ((FrameSource *) source)->watch;

  g_source_set_ready_time (source, -1);
  /* by id: a function may remove itself (or another) */
  for (guint i = 0; i < w->watchers->len; i++) {
    Watcher x = g_array_index (w->watchers, Watcher, i);
    x.func (x.data);
    if (i < w->watchers->len && g_array_index (w->watchers, Watcher, i).id != x.id)
      i--;
  }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs funcs = { NULL, NULL, dispatch, NULL, NULL, NULL };

TcdFrameWatch *
tcd_frame_watch_new (void)
{
  TcdFrameWatch *w = g_new0 (TcdFrameWatch, 1);

  w->watchers = g_array_new (FALSE, FALSE, sizeof (Watcher));
  w->source = g_source_new (&funcs, sizeof (FrameSource));
  ((FrameSource *) w->source)->watch = w;
  g_source_set_name (w->source, "tcd-frame-watch");
  g_source_attach (w->source, NULL);
  return w;
}

void
tcd_frame_watch_free (TcdFrameWatch *w)
{
  if (!w)
    return;
  g_source_destroy (w->source);
  g_source_unref (w->source);
  g_array_free (w->watchers, TRUE);
  g_free (w);
}

guint
tcd_frame_watch_add (TcdFrameWatch *w, GSourceFunc func, gpointer data)
{
  Watcher x = { ++w->next_id, func, data };

  g_array_append_val (w->watchers, x);
  g_atomic_int_set (&w->listening, w->watchers->len);
  return x.id;
}

void
tcd_frame_watch_remove (TcdFrameWatch *w, guint id)
{
  for (guint i = 0; i < w->watchers->len; i++)
    if (g_array_index (w->watchers, Watcher, i).id == id) {
      g_array_remove_index (w->watchers, i);
      break;
    }
  g_atomic_int_set (&w->listening, w->watchers->len);
}

void
tcd_frame_watch_notify (TcdFrameWatch *w)
{
  if (g_atomic_int_get (&w->listening) > 0)
    g_source_set_ready_time (w->source, 0);
}
