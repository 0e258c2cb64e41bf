/* thermocam: the whole chain against the simulated scene's truth
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * thermalsrc (blackbody) -> thermalnuc -> thermalradiometry must read the
 * blackbody within 0.2 C (mean), with a spatial noise under twice the NETD
 * after correction, and every injected defective pixel corrected.
 */
#include <string.h>
#include "common.h"

#define W 320
#define H 256
#define NETD 0.04

static GstHarness *
chain_harness (double temp, const gchar *extra_src, const gchar *extra_nuc, int fps,
    int frames)
{
  gchar *desc = g_strdup_printf ("thermalsrc num-buffers=%d scene=blackbody "
      "blackbody-temperature=%g netd=%g %s ! video/x-raw,width=%d,height=%d,"
      "framerate=%d/1 ! thermalnuc %s ! thermalradiometry", frames + 30, temp, NETD,
      extra_src, W, H, fps, extra_nuc);
  GstHarness *h = gst_harness_new_parse (desc);

  g_free (desc);
  gst_harness_play (h);
  return h;
}

static void
check_blackbody (double temp)
{
  GstHarness *h = chain_harness (temp, "fpa-drift=0", "", 25, 40);
  GstElement *src = gst_harness_find_element (h, "thermalsrc");
  GstElement *nuc = gst_harness_find_element (h, "thermalnuc");
  gchar *defects = NULL;
  guint8 *mask;
  guint n_defects, ffc = 0;
  double mean, std, sum_mean = 0;
  int f;

  /* the first frame out comes after the FFC at start */
  for (f = 0; f < 10; f++) {
    GstBuffer *b = gst_harness_pull (h);
    GstThermalMeta *m = gst_buffer_get_thermal_meta (b);

    g_assert_cmpint (m->kind, ==, GST_THERMAL_FRAME_TEMPERATURE);
    frame_stats (b, W, H, NULL, m->scale, &mean, &std);
    mean -= 273.15;
    sum_mean += mean;
    g_assert_cmpfloat (std, <, 2 * NETD);
    if (f == 0) {
      g_object_get (nuc, "ffc-count", &ffc, NULL);
      g_assert_cmpuint (ffc, ==, 1);
    }
    if (f == 9) {
      /* listed and new defects, all corrected */
      g_object_get (src, "defect-list", &defects, NULL);
      mask = mask_from_list (defects, W, H, &n_defects);
      g_assert_cmpuint (n_defects, ==, 24);
      for (guint i = 0; i < (guint) (W * H); i++)
        if (mask[i])
          g_assert_cmpfloat (fabs (pixel_at (b, W, i % W, i / W) * m->scale - 273.15 -
                  temp), <, 0.3);
      g_test_message ("%.0f C: frame mean %.4f C, spatial std %.4f K", temp, mean, std);
      g_free (mask);
      g_free (defects);
    }
    gst_buffer_unref (b);
  }
  g_assert_cmpfloat (fabs (sum_mean / 10 - temp), <, 0.2);
  gst_object_unref (nuc);
  gst_object_unref (src);
  gst_harness_teardown (h);
}

static void test_blackbody_20 (void) { check_blackbody (20.0); }
static void test_blackbody_50 (void) { check_blackbody (50.0); }
static void test_blackbody_100 (void) { check_blackbody (100.0); }

/* The sensor warms 6 K; drift-triggered FFCs keep every frame right, and the
 * defects that appear after calibration are found and corrected. */
static void
test_drift_ffc_and_defects (void)
{
  const int frames = 900;     /* 15 s at 60 fps, the sensor drifting with tau 10 s */
  GstHarness *h = chain_harness (50.0, "is-live=false fpa-drift=6 fpa-tau=10",
      "ffc-drift=0.5", 60, frames);
  GstElement *src = gst_harness_find_element (h, "thermalsrc");
  GstElement *nuc = gst_harness_find_element (h, "thermalnuc");
  double worst = 0, mean, std, last_std = 0;
  guint ffc = 0, detected = 0, n_defects, i;
  gchar *defects = NULL;
  guint8 *mask;
  GstBuffer *last = NULL;
  int f;

  for (f = 0; f < frames; f++) {
    GstBuffer *b = gst_harness_pull (h);
    GstThermalMeta *m = gst_buffer_get_thermal_meta (b);

    frame_stats (b, W, H, NULL, m->scale, &mean, &std);
    worst = MAX (worst, fabs (mean - 273.15 - 50.0));
    last_std = std;
    if (last)
      gst_buffer_unref (last);
    last = b;
  }
  g_object_get (nuc, "ffc-count", &ffc, "detected-count", &detected, NULL);
  g_test_message ("drift: %u FFCs, worst frame mean error %.4f K, last spatial std %.4f K, "
      "%u defects found", ffc, worst, last_std, detected);
  g_assert_cmpuint (ffc, >=, 5);
  g_assert_cmpfloat (worst, <, 0.2);
  g_assert_cmpfloat (last_std, <, 2 * NETD);
  g_assert_cmpuint (detected, ==, 4);

  /* every injected defect, listed or new, reads like its neighbours */
  g_object_get (src, "defect-list", &defects, NULL);
  mask = mask_from_list (defects, W, H, &n_defects);
  g_assert_cmpuint (n_defects, ==, 24);
  for (i = 0; i < (guint) (W * H); i++) {
    if (!mask[i])
      continue;
    g_assert_cmpfloat (fabs (pixel_at (last, W, i % W, i / W) * 0.01 - 273.15 - 50.0),
        <, 0.3);
  }
  g_free (mask);
  g_free (defects);
  gst_buffer_unref (last);
  gst_object_unref (src);
  gst_object_unref (nuc);
  gst_harness_teardown (h);
}

/* the default scene: every object reads its true temperature */
static void
test_scene_truth (void)
{
  GstHarness *h = gst_harness_new_parse ("thermalsrc num-buffers=20 fpa-drift=0 "
      "! video/x-raw,width=320,height=256,framerate=25/1 ! thermalnuc ! thermalradiometry");
  GstElement *src;
  GstBuffer *b;
  int x, y, checked = 0;
  double worst = 0;

  gst_harness_play (h);
  src = gst_harness_find_element (h, "thermalsrc");
  b = gst_harness_pull (h);
  for (y = 8; y < H - 8; y += 16)
    for (x = 8; x < W - 8; x += 16) {
      double truth, got;
      gboolean uniform = TRUE;
      int dx, dy;

      /* away from edges, where the true temperature is uniform around */
      g_signal_emit_by_name (src, "true-temperature", (guint) x, (guint) y,
          GST_BUFFER_PTS (b), &truth);
      for (dy = -2; dy <= 2; dy++)
        for (dx = -2; dx <= 2; dx++) {
          double t2;

          g_signal_emit_by_name (src, "true-temperature", (guint) (x + dx),
              (guint) (y + dy), GST_BUFFER_PTS (b), &t2);
          if (fabs (t2 - truth) > 0.3)
            uniform = FALSE;
        }
      if (!uniform)
        continue;
      got = pixel_at (b, W, x, y) * 0.01 - 273.15;
      worst = MAX (worst, fabs (got - truth));
      checked++;
    }
  g_test_message ("scene: %d points, worst error %.3f K", checked, worst);
  g_assert_cmpint (checked, >, 200);
  g_assert_cmpfloat (worst, <, 0.3);   /* single pixels: truth +- noise */
  gst_buffer_unref (b);
  gst_object_unref (src);
  gst_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/accuracy/blackbody-20", test_blackbody_20);
  g_test_add_func ("/accuracy/blackbody-50", test_blackbody_50);
  g_test_add_func ("/accuracy/blackbody-100", test_blackbody_100);
  g_test_add_func ("/accuracy/drift-ffc-and-defects", test_drift_ffc_and_defects);
  g_test_add_func ("/accuracy/scene-truth", test_scene_truth);
  return g_test_run ();
}
