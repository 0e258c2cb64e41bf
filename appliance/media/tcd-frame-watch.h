/* thermocamd: a call on the main loop for each new frame of the pipeline
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One GSource on the main context, made ready from the streaming thread
 * when a frame arrives (no allocation per frame); it calls every function
 * added, in the order added.  Frames that arrive while the main loop is
 * busy are seen once: a function reads the newest frame, as
 * tcd_pipeline_get_temperature gives it. */
typedef struct _TcdFrameWatch TcdFrameWatch;

TcdFrameWatch *tcd_frame_watch_new (void);
void           tcd_frame_watch_free (TcdFrameWatch *w);
/* main thread: @func (@data) per frame until removed (its return value is
 * ignored); returns an id > 0 */
guint          tcd_frame_watch_add (TcdFrameWatch *w, GSourceFunc func, gpointer data);
void           tcd_frame_watch_remove (TcdFrameWatch *w, guint id);
/* any thread: a frame arrived */
void           tcd_frame_watch_notify (TcdFrameWatch *w);

G_END_DECLS
