/* thermocam: GstHarness tests of thermalsrc
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "common.h"

static GstHarness *
src_harness (const gchar *props, int w, int h, int fps)
{
  gchar *desc = g_strdup_printf ("thermalsrc %s", props);
  GstHarness *hr = gst_harness_new_parse (desc);
  gchar *caps = g_strdup_printf ("video/x-raw,format=GRAY16_LE,width=%d,height=%d,"
      "framerate=%d/1", w, h, fps);

  gst_harness_set_sink_caps_str (hr, caps);
  /* live sources wait on the clock: a real one, not the harness' test clock */
  gst_harness_use_systemclock (hr);
  gst_harness_play (hr);
  g_free (desc);
  g_free (caps);
  return hr;
}

static void
test_resolutions_and_rates (void)
{
  static const int sizes[][2] = { {160, 120}, {256, 192}, {384, 288}, {640, 512},
    {1280, 1024} };
  static const int rates[] = { 1, 25, 60 };
  guint i, j;

  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    for (j = 0; j < G_N_ELEMENTS (rates); j++) {
      int w = sizes[i][0], h = sizes[i][1];
      GstHarness *hr = src_harness ("num-buffers=2", w, h, rates[j]);
      GstBuffer *b0 = gst_harness_pull (hr), *b1 = gst_harness_pull (hr);
      GstThermalMeta *m = gst_buffer_get_thermal_meta (b0);
      GstCaps *caps = gst_pad_get_current_caps (hr->sinkpad);
      GstVideoInfo info;

      g_assert_true (gst_video_info_from_caps (&info, caps));
      g_assert_cmpint (GST_VIDEO_INFO_WIDTH (&info), ==, w);
      g_assert_cmpint (GST_VIDEO_INFO_HEIGHT (&info), ==, h);
      g_assert_cmpint (GST_VIDEO_INFO_FORMAT (&info), ==, GST_VIDEO_FORMAT_GRAY16_LE);
      g_assert_cmpuint (gst_buffer_get_size (b0), ==, (gsize) w * h * 2);
      g_assert_cmpuint (GST_BUFFER_PTS (b0), ==, 0);
      g_assert_cmpuint (GST_BUFFER_PTS (b1), ==, GST_SECOND / rates[j]);
      g_assert_cmpuint (GST_BUFFER_DURATION (b0), ==, GST_SECOND / rates[j]);
      g_assert_nonnull (m);
      g_assert_cmpint (m->kind, ==, GST_THERMAL_FRAME_RAW);
      g_assert_true (m->has_calibration);
      g_assert_false (m->has_params);
      g_assert_cmpfloat (fabs (m->fpa_temperature - 30.0), <, 0.1);
      g_assert_false (m->shutter_closed);
      gst_caps_unref (caps);
      gst_buffer_unref (b0);
      gst_buffer_unref (b1);
      gst_harness_teardown (hr);
    }
  }
}

static void
test_default_caps (void)
{
  GstHarness *hr = gst_harness_new_parse ("thermalsrc num-buffers=1");
  GstCaps *caps;
  GstVideoInfo info;
  GstBuffer *b;

  gst_harness_play (hr);
  b = gst_harness_pull (hr);
  caps = gst_pad_get_current_caps (hr->sinkpad);
  g_assert_true (gst_video_info_from_caps (&info, caps));
  g_assert_cmpint (GST_VIDEO_INFO_WIDTH (&info), ==, 640);
  g_assert_cmpint (GST_VIDEO_INFO_HEIGHT (&info), ==, 512);
  g_assert_cmpint (GST_VIDEO_INFO_FPS_N (&info), ==, 25);
  gst_caps_unref (caps);
  gst_buffer_unref (b);
  gst_harness_teardown (hr);
}

static gboolean
buffers_equal (GstBuffer *a, GstBuffer *b)
{
  GstMapInfo ma, mb;
  gboolean eq;

  g_assert_true (gst_buffer_map (a, &ma, GST_MAP_READ));
  g_assert_true (gst_buffer_map (b, &mb, GST_MAP_READ));
  eq = ma.size == mb.size && memcmp (ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return eq;
}

static void
test_deterministic (void)
{
  GstHarness *a = src_harness ("num-buffers=3 seed=7", 256, 192, 30);
  GstHarness *b = src_harness ("num-buffers=3 seed=7", 256, 192, 30);
  GstHarness *c = src_harness ("num-buffers=3 seed=8", 256, 192, 30);
  int i;
  GstBuffer *prev = NULL;

  for (i = 0; i < 3; i++) {
    GstBuffer *ba = gst_harness_pull (a), *bb = gst_harness_pull (b);
    GstBuffer *bc = gst_harness_pull (c);

    g_assert_true (buffers_equal (ba, bb));
    g_assert_false (buffers_equal (ba, bc));
    if (prev) {
      g_assert_false (buffers_equal (prev, ba));   /* temporal noise */
      gst_buffer_unref (prev);
    }
    prev = ba;
    gst_buffer_unref (bb);
    gst_buffer_unref (bc);
  }
  gst_buffer_unref (prev);
  gst_harness_teardown (a);
  gst_harness_teardown (b);
  gst_harness_teardown (c);
}

static void
test_calibration_exposed (void)
{
  GstHarness *hr = src_harness ("num-buffers=1 dead-pixels=5 hot-pixels=3 "
      "new-defects=2", 160, 120, 25);
  GstElement *src = gst_harness_find_element (hr, "thermalsrc");
  GstBuffer *b = gst_harness_pull (hr);
  GstStructure *s = NULL;
  GBytes *gain = NULL, *bad = NULL;
  gdouble r1 = 0;
  GstQuery *q;
  gchar *defects = NULL;
  guint n_defects;
  guint8 *mask;

  g_object_get (src, "calibration", &s, "defect-list", &defects, NULL);
  g_assert_nonnull (s);
  g_assert_true (gst_structure_get (s, "gain", G_TYPE_BYTES, &gain, "bad-pixels",
          G_TYPE_BYTES, &bad, "PlanckR1", G_TYPE_DOUBLE, &r1, NULL));
  g_assert_cmpuint (g_bytes_get_size (gain), ==, 160 * 120 * sizeof (float));
  g_assert_cmpuint (g_bytes_get_size (bad), ==, 8 * sizeof (guint32));
  g_assert_cmpfloat (r1, >, 0);
  mask = mask_from_list (defects, 160, 120, &n_defects);
  g_assert_cmpuint (n_defects, ==, 10);
  g_free (mask);

  /* the same through the query elements downstream use */
  q = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty (GST_THERMAL_CALIBRATION_QUERY));
  g_assert_true (gst_pad_peer_query (hr->sinkpad, q));
  g_assert_true (gst_structure_has_field (gst_query_get_structure (q), "offset"));
  gst_query_unref (q);

  g_bytes_unref (gain);
  g_bytes_unref (bad);
  g_free (defects);
  gst_structure_free (s);
  gst_buffer_unref (b);
  gst_object_unref (src);
  gst_harness_teardown (hr);
}

static void
test_shutter_and_truth (void)
{
  GstHarness *hr = src_harness ("num-buffers=8 is-live=true scene=default", 320, 256, 30);
  GstElement *src = gst_harness_find_element (hr, "thermalsrc");
  GstBuffer *b;
  GstThermalMeta *m;
  gdouble hot = -1000, cold = 1000, t;
  guint x, y;
  int i;

  b = gst_harness_pull (hr);
  gst_buffer_unref (b);
  /* the scene has a hot body over 80 C and a cold one below 0 C */
  for (y = 0; y < 256; y += 4)
    for (x = 0; x < 320; x += 4) {
      g_signal_emit_by_name (src, "true-temperature", x, y, (guint64) 0, &t);
      hot = MAX (hot, t);
      cold = MIN (cold, t);
    }
  g_assert_cmpfloat (hot, >, 80.0);
  g_assert_cmpfloat (cold, <, 0.0);
  g_signal_emit_by_name (src, "true-temperature", 5000u, 0u, (guint64) 0, &t);
  g_assert_true (isnan (t));

  g_assert_true (gst_harness_push_upstream_event (hr,
          gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
              gst_structure_new (GST_THERMAL_SHUTTER_EVENT, "closed",
                  G_TYPE_BOOLEAN, TRUE, NULL))));
  /* frames already made may still show the scene; a closed one comes soon */
  for (i = 0; i < 5; i++) {
    b = gst_harness_pull (hr);
    m = gst_buffer_get_thermal_meta (b);
    if (m->shutter_closed) {
      double mean, std;

      /* the shutter is uniform apart from the fixed pattern and defects:
       * its spread is far below the scene's */
      frame_stats (b, 320, 256, NULL, 1.0, &mean, &std);
      g_assert_cmpfloat (mean, >, 5000);
      gst_buffer_unref (b);
      break;
    }
    gst_buffer_unref (b);
  }
  g_assert_cmpint (i, <, 5);
  gst_object_unref (src);
  gst_harness_teardown (hr);
}

/* scene-defects: those pixels read 4000 counts high in the scene only, the
 * same frame otherwise (a seed renders the same frame twice) */
static void
test_scene_defects (void)
{
  GstHarness *a = src_harness ("num-buffers=2 is-live=true seed=3 dead-pixels=0 "
      "hot-pixels=0 new-defects=0", 64, 48, 30);
  GstHarness *b = src_harness ("num-buffers=30 is-live=true seed=3 dead-pixels=0 "
      "hot-pixels=0 new-defects=0 scene-defects=\"5,6;63,47;70,3\"", 64, 48, 30);
  GstElement *src = gst_harness_find_element (b, "thermalsrc");
  GstBuffer *ba = gst_harness_pull (a), *bb = gst_harness_pull (b);
  gchar *list = NULL;
  int x, y, i, differ = 0;

  for (y = 0; y < 48; y++)
    for (x = 0; x < 64; x++)
      differ += pixel_at (ba, 64, x, y) != pixel_at (bb, 64, x, y);
  g_assert_cmpint (differ, ==, 2);        /* 70,3 lies outside: ignored */
  g_assert_cmpint (pixel_at (bb, 64, 5, 6) - pixel_at (ba, 64, 5, 6), ==, 4000);
  g_assert_cmpint (pixel_at (bb, 64, 63, 47) - pixel_at (ba, 64, 63, 47), ==, 4000);
  gst_buffer_unref (ba);
  gst_buffer_unref (bb);
  /* the closed shutter shows nothing of them: the pixel is within the fixed
   * pattern of its neighbours, not 4000 counts above */
  g_assert_true (gst_harness_push_upstream_event (b,
          gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
              gst_structure_new (GST_THERMAL_SHUTTER_EVENT, "closed",
                  G_TYPE_BOOLEAN, TRUE, NULL))));
  for (i = 0; i < 20; i++) {
    bb = gst_harness_pull (b);
    if (gst_buffer_get_thermal_meta (bb)->shutter_closed) {
      double around = 0;
      for (y = 5; y <= 7; y++)
        for (x = 4; x <= 6; x++)
          if (x != 5 || y != 6)
            around += pixel_at (bb, 64, x, y) / 8.0;
      g_assert_cmpfloat (fabs (pixel_at (bb, 64, 5, 6) - around), <, 1500);
      gst_buffer_unref (bb);
      break;
    }
    gst_buffer_unref (bb);
  }
  g_assert_cmpint (i, <, 20);
  /* a malformed list is refused, the old one kept */
  g_object_set (src, "scene-defects", "5;x", NULL);
  g_object_get (src, "scene-defects", &list, NULL);
  g_assert_cmpstr (list, ==, "5,6;63,47;70,3");
  g_free (list);
  gst_object_unref (src);
  gst_harness_teardown (a);
  gst_harness_teardown (b);
}

static void
test_live_timestamps (void)
{
  GstHarness *hr = src_harness ("num-buffers=3 is-live=true", 160, 120, 50);
  GstElement *src = gst_harness_find_element (hr, "thermalsrc");
  gboolean live = FALSE;
  GstBuffer *b;
  int i;

  g_object_get (src, "is-live", &live, NULL);
  g_assert_true (live);
  GstClockTime first = GST_CLOCK_TIME_NONE;
  gint64 t0 = g_get_monotonic_time ();

  for (i = 0; i < 3; i++) {
    b = gst_harness_pull (hr);
    /* basesrc moves a live source's timestamps onto the running time */
    if (i == 0)
      first = GST_BUFFER_PTS (b);
    g_assert_cmpuint (GST_BUFFER_PTS (b) - first, ==, i * GST_SECOND / 50);
    g_assert_cmpuint (GST_BUFFER_OFFSET (b), ==, i);
    gst_buffer_unref (b);
  }
  {
    GstQuery *q = gst_query_new_latency ();
    gboolean is_live = FALSE;
    GstClockTime min = 0, max = 0;

    g_assert_true (gst_pad_peer_query (hr->sinkpad, q));
    gst_query_parse_latency (q, &is_live, &min, &max);
    g_assert_true (is_live);
    g_assert_cmpuint (min, ==, GST_SECOND / 50);
    gst_query_unref (q);
  }
  /* at the frame rate, not as fast as it can */
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 35000);
  gst_object_unref (src);
  gst_harness_teardown (hr);
}

static void
test_property_stress (void)
{
  GstHarness *hr = src_harness ("num-buffers=60", 160, 120, 60);
  GstElement *src = gst_harness_find_element (hr, "thermalsrc");
  int i;

  for (i = 0; i < 60; i++) {
    GstBuffer *b;

    g_object_set (src, "scene", i % 2, "blackbody-temperature", 20.0 + i,
        "netd", 0.01 * (i % 5), "emissivity", 0.5 + 0.008 * i, "shutter",
        (i % 7) == 0, NULL);
    b = gst_harness_pull (hr);
    g_assert_cmpuint (gst_buffer_get_size (b), ==, 160 * 120 * 2);
    gst_buffer_unref (b);
  }
  gst_object_unref (src);
  gst_harness_teardown (hr);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/thermalsrc/scene-defects", test_scene_defects);
  g_test_add_func ("/thermalsrc/resolutions-and-rates", test_resolutions_and_rates);
  g_test_add_func ("/thermalsrc/default-caps", test_default_caps);
  g_test_add_func ("/thermalsrc/deterministic", test_deterministic);
  g_test_add_func ("/thermalsrc/calibration-exposed", test_calibration_exposed);
  g_test_add_func ("/thermalsrc/shutter-and-truth", test_shutter_and_truth);
  g_test_add_func ("/thermalsrc/live-timestamps", test_live_timestamps);
  g_test_add_func ("/thermalsrc/property-stress", test_property_stress);
  return g_test_run ();
}
