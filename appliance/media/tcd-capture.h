/* thermocamd: pictures for capture and linkage (manual 8.3): timed captures
 * within their schedule, event pictures, manual captures
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Frames come from the core pipeline (tcd_pipeline_get_video for JPEG and
 * BMP, tcd_pipeline_get_temperature for the radiometric JPEG); encoding runs
 * in a worker thread, never on the main loop.  Callbacks run on the main
 * context the TcdCapture was created on.
 */
#pragma once

#include "tcd-pipeline.h"
#include "tcd-store.h"

G_BEGIN_DECLS

typedef struct _TcdCapture TcdCapture;

typedef struct {
  gchar *name;                  /* "20261124T100000.123Z-rule-3-1.jpg" */
  const gchar *content_type;    /* "image/jpeg" or "image/bmp" */
  GBytes *data;
  gint64 time_us;               /* real time of the frame */
  gboolean stored;              /* kept in the store under name */
  GError *store_error;          /* why it could not be stored (when asked to) */
} TcdPicture;

/* @pictures (TcdPicture, freed after the call) in the order taken; empty
 * when nothing could be taken (no frame yet; the reason is logged) */
typedef void (*TcdCaptureFunc) (GPtrArray *pictures, gpointer user_data);

TcdCapture *tcd_capture_new (TcdPipeline *pipeline, TcdStore *store);
void        tcd_capture_free (TcdCapture *c);
/* capture.timed: (re)arms the interval timer (an unchanged interval keeps
 * its phase), its schedule in the device clock's local time (time.timezone, time.dst); capture.storage_mb:
 * the store's limit; image.palette: the radiometric JPEG's palette */
void        tcd_capture_apply (TcdCapture *c, JsonNode *doc);
/* Each timed picture (after it is stored), e.g. to upload it */
void        tcd_capture_set_timed_func (TcdCapture *c, TcdCaptureFunc func, gpointer user_data);
/* Takes @count pictures @interval_ms apart as @picture ($defs/picture:
 * format, resolution, quality) says, names them after @tag
 * ("rule-3"), stores them when @store, then calls @func once with all. */
void        tcd_capture_take (TcdCapture *c, JsonNode *picture, guint count,
                              guint interval_ms, const gchar *tag, gboolean store,
                              TcdCaptureFunc func, gpointer user_data);
void        tcd_picture_free (TcdPicture *p);

G_END_DECLS
