/* thermocamd: the H.264 encoders of the two streams (main, sub), shared by
 * every consumer (RTSP, the web page) through taps
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "tcd-pipeline.h"

G_BEGIN_DECLS

typedef struct _TcdEncoders TcdEncoders;      /* the two streams, "main" and "sub" */
typedef struct _TcdEncoderTap TcdEncoderTap;

/* Called in a streaming thread with each access unit: caps
 * video/x-h264,stream-format=avc,alignment=au (codec_data = avcC, width,
 * height, framerate); one AU per buffer, DELTA_UNIT unset on key frames;
 * @capture_us is the sensor's capture time of the frame, g_get_real_time ()
 * clock (us since the epoch).  The sample is borrowed: ref it to keep it.
 * The callback may untap its own tap (or another). */
typedef void (*TcdEncodedFunc) (GstSample *au, gint64 capture_us, gpointer user_data);

/* @doc: the configuration (video.main, video.sub); @pipelines_dir holds
 * stream.pipeline.  Nothing runs until the first tap. */
TcdEncoders   *tcd_encoders_new (TcdPipeline *core, const gchar *pipelines_dir, JsonNode *doc);
/* Stops the encoders; the taps left are freed (their notify called) */
void           tcd_encoders_free (TcdEncoders *e);
/* The configuration changed: a new bitrate reaches a running encoder live;
 * anything else (resolution, frame rate, profile, GOP, rate control, the
 * sensor's rate) restarts it, and its taps go on from its first key frame
 * with the new caps.  Main context. */
void           tcd_encoders_apply (TcdEncoders *e, JsonNode *doc);
/* "main" or "sub" */
gboolean       tcd_encoders_has (TcdEncoders *e, const gchar *stream);

/* The first tap starts that stream's encoder, the last one gone stops it
 * (on the main context, soon after); every new tap asks for a key frame at
 * once (with SPS/PPS), rate-limited so that a crowd of joins within
 * TCD_ENCODER_KEY_INTERVAL_MS costs one key frame; the first AU a tap gets is
 * a key frame.  NULL for an unknown stream or an encoder that cannot be
 * built.  Thread-safe. */
TcdEncoderTap *tcd_encoders_tap (TcdEncoders *e, const gchar *stream, TcdEncodedFunc func,
                                 gpointer user_data, GDestroyNotify notify);
/* Thread-safe; once it returns (outside the tap's own callback) the callback
 * is not called again and @notify has run */
void           tcd_encoders_untap (TcdEncoders *e, TcdEncoderTap *tap);

#define TCD_ENCODER_KEY_INTERVAL_MS 250
/* A key frame (with SPS/PPS) as soon as possible on @stream, if it runs:
 * for a consumer that shares one tap among several viewers (an RTSP client
 * joining a shared media).  Rate-limited as the taps' requests (one every
 * TCD_ENCODER_KEY_INTERVAL_MS; a request within it is served at its end).
 * Thread-safe. */
void           tcd_encoders_request_key_frame (TcdEncoders *e, const gchar *stream);
/* A consumer sent out (the first packet of) the AU captured at @capture_us
 * (g_get_real_time clock): counted as the stream's capture-to-RTP delay
 * (the core's outlet statistics, pipeline.outlets[].latency_ms).
 * Thread-safe. */
void           tcd_encoders_note_sent (TcdEncoders *e, const gchar *stream, gint64 capture_us);

/* Whether the stream's encoder runs now (0 or 1, for the RTSP diagnostics) */
guint          tcd_encoders_running (TcdEncoders *e, const gchar *stream);
/* Per stream: running, taps, frames, key frames (and those forced), starts,
 * the pipeline's description */
/* two stream settings (stream.main or stream.sub) differ in their bitrate
 * at most: what an encoder takes while playing */
gboolean       tcd_encoders_only_bitrate_differs (JsonNode *a, JsonNode *b);
JsonNode      *tcd_encoders_stats (TcdEncoders *e);

G_END_DECLS
