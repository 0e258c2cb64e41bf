/* thermocamd: the core pipeline (pipelines/core.pipeline), always running
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _TcdPipeline TcdPipeline;

/* Called on the main loop for each thermal-alarm / thermal-measurement
 * message and for exceptions (pipeline errors, restarts) */
typedef void (*TcdPipelineMessageFunc) (const GstStructure *s, gpointer user_data);
typedef void (*TcdPipelineExceptionFunc) (const gchar *kind, const gchar *message,
                                          gpointer user_data);
/* Called in a streaming thread with every JPEG of the live view (while at
 * least one viewer is registered with tcd_pipeline_set_mjpeg_viewers) */
typedef void (*TcdPipelineJpegFunc) (GstSample *jpeg, gpointer user_data);

/* A consumer of the core's video frames (an encoder's or the recorder's appsrc) */
typedef struct _TcdVideoOutlet TcdVideoOutlet;

TcdPipeline *tcd_pipeline_new (const gchar *pipelines_dir, const gchar *source,
                               GError **error);
void         tcd_pipeline_free (TcdPipeline *p);

/* The alarms and exceptions (the linkage) */
void tcd_pipeline_set_callbacks (TcdPipeline *p, TcdPipelineMessageFunc on_message,
                                 TcdPipelineExceptionFunc on_exception, gpointer user_data);
/* The live view's JPEGs (the HTTP service) */
void tcd_pipeline_set_jpeg_callback (TcdPipeline *p, TcdPipelineJpegFunc on_jpeg,
                                     gpointer user_data);

/* Builds (or rebuilds) and starts the pipeline with the configuration @doc */
gboolean tcd_pipeline_start (TcdPipeline *p, JsonNode *doc, GError **error);
void     tcd_pipeline_stop (TcdPipeline *p);
/* Applies a configuration live; rebuilds the pipeline only when the caps must
 * change (the frame rate of the video standard) */
void     tcd_pipeline_apply (TcdPipeline *p, JsonNode *doc);

/* The newest frames, or NULL before the first: temperature (GRAY16_LE with
 * GstThermalMeta and GstThermalMeasureMeta) and video (I420 with the OSD) */
GstSample *tcd_pipeline_get_temperature (TcdPipeline *p);
/* Main thread: @func (@data) on the main loop after each new temperature
 * frame (several that come while the loop is busy: one call), until
 * removed by its id */
guint tcd_pipeline_add_frame_func (TcdPipeline *p, GSourceFunc func, gpointer data);
void  tcd_pipeline_remove_frame_func (TcdPipeline *p, guint id);
GstSample *tcd_pipeline_get_video (TcdPipeline *p);
/* The video caps (NULL until negotiated) and the sensor's size and rate */
GstCaps  *tcd_pipeline_get_video_caps (TcdPipeline *p);
void      tcd_pipeline_get_format (TcdPipeline *p, gint *width, gint *height, gint *fps);

/* The overlay picture (osd.picture) lives in this file */
void tcd_pipeline_set_picture_path (TcdPipeline *p, const gchar *path);
/* The overlay picture file changed */
void tcd_pipeline_reload_picture (TcdPipeline *p);
void tcd_pipeline_set_mjpeg_viewers (TcdPipeline *p, guint n);
/* Flat-field correction now (manual correction, manual 7.2.2) */
void tcd_pipeline_ffc (TcdPipeline *p);
/* Background correction (manual 7.2.2): a uniform object in front of the
 * lens is taken as the reference, a few frames averaged */
void tcd_pipeline_background_correction (TcdPipeline *p);
/* The defective pixels corrected by hand, "x,y;x,y" (NULL: none), kept for
 * every start of the pipeline (tcd-dpc.h) */
void tcd_pipeline_set_defective_pixels (TcdPipeline *p, const gchar *list);
/* Closes or opens the sensor's shutter (burning prevention); FALSE when the
 * source has none */
gboolean tcd_pipeline_set_shutter (TcdPipeline *p, gboolean closed);

/* Video outlets: every frame of the core's video branch is pushed into each
 * registered appsrc (newest wins: the appsrc leaks).  Thread-safe. */
TcdVideoOutlet *tcd_pipeline_add_outlet (TcdPipeline *p, GstAppSrc *src, const gchar *name);
void            tcd_pipeline_remove_outlet (TcdPipeline *p, TcdVideoOutlet *o);
/* The monotonic capture time (us) of the frame pushed with running time
 * @pts (within 10 ms: videorate re-stamps), 0 if unknown */
gint64          tcd_outlet_capture_time (TcdVideoOutlet *o, GstClockTime pts);
/* Counts a capture-to-delivery delay in the outlet's latency_ms statistics
 * (for the "main" outlet: capture to the first RTP packet) */
void            tcd_outlet_note_delay (TcdVideoOutlet *o, gdouble ms);

/* Statistics for diagnostics and benchmarks (JSON object) */
JsonNode *tcd_pipeline_stats (TcdPipeline *p);
/* The running pipeline (a new reference; NULL while stopped), for its graph
 * in the diagnostics */
GstElement *tcd_pipeline_element (TcdPipeline *p);
/* Monotonic capture time (us) of the core frame with this PTS, 0 if unknown */
gint64    tcd_pipeline_capture_time (TcdPipeline *p, GstClockTime pts);

G_END_DECLS
