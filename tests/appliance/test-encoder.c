/* thermocamd: the streams' encoders (media/tcd-encoder) on the core pipeline
 * of the simulated sensor: taps share one encoder, a late tap starts on a key
 * frame at once, a crowd of joins costs one key frame, the last untap stops
 * the encoder, new settings reach it
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <string.h>

#include "tc-json.h"
#include "tc-schema.h"
#include "tcd-config.h"
#include "tcd-encoder.h"
#include "tcd-pipeline.h"

/* what a tap received (written by the encoder's streaming thread) */
typedef struct {
  GMutex lock;
  guint n, keys;
  gboolean first_is_key;
  gint64 joined_us, first_us;   /* monotonic: tapped, first AU */
  gint width, height;
  gboolean avc;                 /* the caps as promised, codec_data too */
  gboolean capture_ok;          /* capture times in the recent past */
  gint notified;
  /* untaps itself from its callback after this many AUs (0: never) */
  guint untap_after;
  TcdEncoders *e;
  TcdEncoderTap *tap;           /* atomic */
} Rx;

static void
on_au (GstSample *au, gint64 capture_us, gpointer user_data)
{
  Rx *rx = user_data;
  GstBuffer *buf = gst_sample_get_buffer (au);
  GstStructure *s = gst_caps_get_structure (gst_sample_get_caps (au), 0);
  gboolean key = !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  gint64 now = g_get_real_time ();
  TcdEncoderTap *self = NULL;

  g_mutex_lock (&rx->lock);
  if (rx->n == 0) {
    rx->first_is_key = key;
    rx->first_us = g_get_monotonic_time ();
    rx->capture_ok = TRUE;
  }
  rx->n++;
  rx->keys += key;
  gst_structure_get_int (s, "width", &rx->width);
  gst_structure_get_int (s, "height", &rx->height);
  rx->avc = gst_structure_has_name (s, "video/x-h264")
      && g_strcmp0 (gst_structure_get_string (s, "stream-format"), "avc") == 0
      && g_strcmp0 (gst_structure_get_string (s, "alignment"), "au") == 0
      && gst_structure_has_field_typed (s, "codec_data", GST_TYPE_BUFFER);
  /* the sensor's capture: before now, and not long before */
  if (capture_us > now || now - capture_us > G_USEC_PER_SEC)
    rx->capture_ok = FALSE;
  if (rx->untap_after && rx->n == rx->untap_after)
    self = g_atomic_pointer_get (&rx->tap);
  g_mutex_unlock (&rx->lock);
  if (self)
    tcd_encoders_untap (rx->e, self);   /* from its own callback */
}

static void
rx_notify (gpointer user_data)
{
  Rx *rx = user_data;
  g_atomic_int_inc (&rx->notified);
}

static void
rx_tap (TcdEncoders *e, Rx *rx, const gchar *stream)
{
  memset (rx, 0, sizeof *rx);
  g_mutex_init (&rx->lock);
  rx->e = e;
  rx->joined_us = g_get_monotonic_time ();
  g_atomic_pointer_set (&rx->tap, tcd_encoders_tap (e, stream, on_au, rx, rx_notify));
  g_assert_nonnull (g_atomic_pointer_get (&rx->tap));
}

static void
rx_untap (Rx *rx)
{
  TcdEncoderTap *tap = g_atomic_pointer_get (&rx->tap);

  tcd_encoders_untap (rx->e, tap);
  g_assert_cmpint (g_atomic_int_get (&rx->notified), ==, 1);
}

static guint
rx_count (Rx *rx)
{
  guint n;

  g_mutex_lock (&rx->lock);
  n = rx->n;
  g_mutex_unlock (&rx->lock);
  return n;
}

/* runs the main context (the encoders stop on it) until @n AUs came or @ms */
static void
wait_count (Rx *rx, guint n, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (rx_count (rx) < n && g_get_monotonic_time () < end) {
    while (g_main_context_iteration (NULL, FALSE));
    g_usleep (2000);
  }
}

static void
run_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end) {
    while (g_main_context_iteration (NULL, FALSE));
    g_usleep (2000);
  }
}

static JsonObject *
stream_stats (TcdEncoders *e, const gchar *name, JsonNode **keep)
{
  *keep = tcd_encoders_stats (e);
  return tc_json_get_object (json_node_get_object (*keep), name);
}

static gint64
stat_int (TcdEncoders *e, const gchar *name, const gchar *member)
{
  g_autoptr (JsonNode) n = NULL;
  return tc_json_get_int (stream_stats (e, name, &n), member, -1);
}

static gboolean
stat_running (TcdEncoders *e, const gchar *name)
{
  g_autoptr (JsonNode) n = NULL;
  return tc_json_get_bool (stream_stats (e, name, &n), "running", FALSE);
}

typedef struct {
  TcdPipeline *core;
  TcdEncoders *enc;
  JsonNode *doc;
  TcSchema *schema;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree gchar *schema_path = g_build_filename (PIPELINES_DIR, "..", "schemas",
      "config.schema.json", NULL);
  g_autoptr (GError) err = NULL;
  GstSample *s = NULL;

  f->schema = tc_schema_new_from_file (schema_path, &err);
  g_assert_no_error (err);
  f->doc = tc_schema_defaults (f->schema, NULL);
  /* a long GOP (3 s at 30 fps): a key frame soon after a join is the one
   * it asked for */
  json_object_set_int_member (json_node_get_object (tcd_config_node (f->doc, "video.main")),
      "iframe_interval", 90);
  g_assert_true (tc_schema_validate (f->schema, NULL, f->doc, NULL, NULL));
  f->core = tcd_pipeline_new (PIPELINES_DIR, "sim", &err);
  g_assert_no_error (err);
  g_assert_true (tcd_pipeline_start (f->core, f->doc, &err));
  g_assert_no_error (err);
  for (guint i = 0; i < 200 && !(s = tcd_pipeline_get_video (f->core)); i++)
    run_for (50);
  g_assert_nonnull (s);
  gst_sample_unref (s);
  f->enc = tcd_encoders_new (f->core, PIPELINES_DIR, f->doc);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  tcd_encoders_free (f->enc);
  tcd_pipeline_free (f->core);
  json_node_unref (f->doc);
  tc_schema_free (f->schema);
}

static void
test_streams (Fixture *f, gconstpointer data)
{
  g_assert_true (tcd_encoders_has (f->enc, "main"));
  g_assert_true (tcd_encoders_has (f->enc, "sub"));
  g_assert_false (tcd_encoders_has (f->enc, "third"));
  g_assert_null (tcd_encoders_tap (f->enc, "third", on_au, NULL, NULL));
  /* nothing runs without a tap */
  run_for (200);
  g_assert_false (stat_running (f->enc, "main"));
  g_assert_false (stat_running (f->enc, "sub"));
  g_assert_cmpint (tcd_encoders_running (f->enc, "main"), ==, 0);
}

static void
test_share (Fixture *f, gconstpointer data)
{
  Rx a, b, crowd[3];
  gint64 forced, keys_a;

  /* the first tap starts the encoder; its first AU is a key frame */
  rx_tap (f->enc, &a, "main");
  wait_count (&a, 30, 5000);
  g_assert_cmpuint (rx_count (&a), >=, 30);
  g_assert_true (a.first_is_key);
  g_assert_true (a.avc);
  g_assert_true (a.capture_ok);
  g_assert_cmpint (a.width, ==, 640);
  g_assert_cmpint (a.height, ==, 512);
  g_assert_true (stat_running (f->enc, "main"));
  g_assert_cmpint (tcd_encoders_running (f->enc, "main"), ==, 1);
  g_assert_cmpint (stat_int (f->enc, "main", "starts"), ==, 1);
  g_assert_cmpint (stat_int (f->enc, "main", "taps"), ==, 1);
  g_assert_false (stat_running (f->enc, "sub"));

  /* a late tap, in the middle of a 3 s GOP: its first AU is a key frame,
   * asked for at once, and it comes fast; one encoder for both */
  keys_a = a.keys;
  forced = stat_int (f->enc, "main", "forced_key_frames");
  rx_tap (f->enc, &b, "main");
  wait_count (&b, 10, 5000);
  g_assert_cmpuint (rx_count (&b), >=, 10);
  g_assert_true (b.first_is_key);
  g_test_message ("late tap: its first AU (a key frame) %.1f ms after the tap",
      (b.first_us - b.joined_us) / 1000.0);
  /* (well within the 3 s GOP, even on a loaded machine; ~35 ms idle) */
  g_assert_cmpint (b.first_us - b.joined_us, <, 1000 * 1000);
  g_assert_cmpint (stat_int (f->enc, "main", "starts"), ==, 1);
  g_assert_cmpint (stat_int (f->enc, "main", "taps"), ==, 2);
  g_assert_cmpint (stat_int (f->enc, "main", "forced_key_frames"), ==, forced + 1);
  g_assert_cmpint (a.keys, >, keys_a);  /* the first tap saw that key frame too */
  g_assert_cmpint (tcd_encoders_running (f->enc, "main"), ==, 1);

  /* a crowd joining at once costs one key frame; each starts on it */
  run_for (600);
  forced = stat_int (f->enc, "main", "forced_key_frames");
  for (guint i = 0; i < G_N_ELEMENTS (crowd); i++)
    rx_tap (f->enc, &crowd[i], "main");
  crowd[2].untap_after = 3;     /* this one leaves from its own callback */
  for (guint i = 0; i < G_N_ELEMENTS (crowd); i++)
    wait_count (&crowd[i], 3, 5000);
  run_for (300);
  g_assert_cmpint (stat_int (f->enc, "main", "forced_key_frames"), ==, forced + 1);
  for (guint i = 0; i < G_N_ELEMENTS (crowd); i++) {
    g_assert_cmpuint (rx_count (&crowd[i]), >=, 3);
    g_assert_true (crowd[i].first_is_key);
    g_assert_cmpint (crowd[i].first_us - crowd[i].joined_us, <, 1000 * 1000);
  }
  /* the one that untapped itself: notified, nothing after */
  g_assert_cmpint (g_atomic_int_get (&crowd[2].notified), ==, 1);
  g_assert_cmpuint (rx_count (&crowd[2]), ==, 3);
  g_assert_cmpint (stat_int (f->enc, "main", "taps"), ==, 4);

  /* the last tap gone, the encoder stops: no more AUs, no CPU */
  rx_untap (&crowd[0]);
  rx_untap (&crowd[1]);
  rx_untap (&b);
  run_for (200);
  g_assert_true (stat_running (f->enc, "main"));        /* a still watches */
  rx_untap (&a);
  run_for (300);
  g_assert_false (stat_running (f->enc, "main"));
  g_assert_cmpint (tcd_encoders_running (f->enc, "main"), ==, 0);
  g_assert_cmpint (stat_int (f->enc, "main", "taps"), ==, 0);
  {
    gint64 frames = stat_int (f->enc, "main", "frames");
    run_for (300);
    g_assert_cmpint (stat_int (f->enc, "main", "frames"), ==, frames);
  }

  /* a new tap starts it again, on a key frame */
  rx_tap (f->enc, &a, "main");
  wait_count (&a, 5, 5000);
  g_assert_true (a.first_is_key);
  g_assert_cmpint (stat_int (f->enc, "main", "starts"), ==, 2);
  rx_untap (&a);
  run_for (200);
  g_assert_false (stat_running (f->enc, "main"));
}

static void
test_apply (Fixture *f, gconstpointer data)
{
  JsonObject *sub = json_node_get_object (tcd_config_node (f->doc, "video.sub"));
  Rx a;
  guint n, keys;

  rx_tap (f->enc, &a, "sub");
  wait_count (&a, 10, 5000);
  g_assert_cmpint (a.width, ==, 320);
  g_assert_cmpint (stat_int (f->enc, "sub", "starts"), ==, 1);

  /* a new bitrate: live, the same encoder */
  json_object_set_int_member (sub, "max_bitrate", 256);
  tcd_encoders_apply (f->enc, f->doc);
  n = rx_count (&a);
  wait_count (&a, n + 10, 5000);
  g_assert_cmpint (stat_int (f->enc, "sub", "starts"), ==, 1);
  g_assert_cmpint (a.width, ==, 320);

  /* a new resolution: a new encoder, the tap goes on from its key frame
   * with the new caps */
  json_object_set_string_member (sub, "resolution", "160x128");
  g_assert_true (tc_schema_validate (f->schema, NULL, f->doc, NULL, NULL));
  keys = a.keys;
  tcd_encoders_apply (f->enc, f->doc);
  n = rx_count (&a);
  wait_count (&a, n + 10, 5000);
  g_assert_cmpint (stat_int (f->enc, "sub", "starts"), ==, 2);
  g_assert_cmpint (a.width, ==, 160);
  g_assert_cmpint (a.height, ==, 128);
  g_assert_cmpint (a.keys, >, keys);
  g_assert_true (a.avc);
  rx_untap (&a);
  run_for (200);
  g_assert_false (stat_running (f->enc, "sub"));
}

static void
test_free_with_taps (Fixture *f, gconstpointer data)
{
  Rx a;

  /* the encoders go with a tap left: it is notified */
  rx_tap (f->enc, &a, "main");
  wait_count (&a, 3, 5000);
  tcd_encoders_free (f->enc);
  g_assert_cmpint (g_atomic_int_get (&a.notified), ==, 1);
  f->enc = NULL;
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  gst_registry_scan_path (gst_registry_get (), PLUGIN_DIR);

  g_test_add ("/encoder/streams", Fixture, NULL, setup, test_streams, teardown);
  g_test_add ("/encoder/share", Fixture, NULL, setup, test_share, teardown);
  g_test_add ("/encoder/apply", Fixture, NULL, setup, test_apply, teardown);
  g_test_add ("/encoder/free-with-taps", Fixture, NULL, setup, test_free_with_taps, teardown);
  return g_test_run ();
}
