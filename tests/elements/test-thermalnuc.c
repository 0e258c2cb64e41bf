/* thermocam: GstHarness tests of thermalnuc
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib/gstdio.h>
#include <string.h>
#include "common.h"
#include "tc-nuc.h"

#define W 32
#define H 24

static guint16 fill_spike (int x, int y) { return (x == 3 && y == 4) ? 60000 : 1000 + x; }
static guint16 fill_pattern (int x, int y) { return 5000 + ((x * 7 + y * 13) % 50); }
static guint16 fill_flat (int x, int y) { return 5000; }

static GstHarness *
nuc_harness (void)
{
  GstHarness *h = gst_harness_new ("thermalnuc");

  /* the harness takes the shutter event without a shutter behind it */
  g_object_set (h->element, "ffc-on-start", FALSE, NULL);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY16_LE,width=32,"
      "height=24,framerate=25/1");
  return h;
}

static void
test_no_source_tables_is_identity (void)
{
  GstHarness *h = nuc_harness ();
  GstBuffer *in = gray16_buffer (W, H, fill_pattern);
  GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  GstMapInfo a, b;

  g_assert_true (gst_buffer_map (in, &a, GST_MAP_READ));
  g_assert_true (gst_buffer_map (out, &b, GST_MAP_READ));
  g_assert_cmpmem (a.data, a.size, b.data, b.size);
  gst_buffer_unmap (in, &a);
  gst_buffer_unmap (out, &b);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

static void
test_manual_defective_pixels (void)
{
  GstHarness *h = nuc_harness ();
  GstBuffer *out;
  gchar *list = NULL;
  guint count = 0;

  g_object_set (h->element, "defective-pixels", "3,4", NULL);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_spike));
  g_assert_cmpuint (pixel_at (out, W, 3, 4), ==, 1003);   /* neighbours' mean */
  g_object_get (h->element, "defective-count", &count, NULL);
  g_assert_cmpuint (count, ==, 1);
  gst_buffer_unref (out);

  /* a malformed list is refused and the old one kept */
  g_object_set (h->element, "defective-pixels", "3;x", NULL);
  g_object_get (h->element, "defective-pixels", &list, NULL);
  g_assert_cmpstr (list, ==, "3,4");
  g_free (list);

  /* cancel: the spike is back */
  g_object_set (h->element, "defective-pixels", "", NULL);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_spike));
  g_assert_cmpuint (pixel_at (out, W, 3, 4), ==, 60000);
  gst_buffer_unref (out);

  /* DPC off leaves listed pixels alone */
  g_object_set (h->element, "defective-pixels", "3,4", "dpc", FALSE, NULL);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_spike));
  g_assert_cmpuint (pixel_at (out, W, 3, 4), ==, 60000);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

static void
test_background_correction (void)
{
  GstHarness *h = nuc_harness ();
  GstBuffer *out;
  double mean, std;
  guint n = 0;
  int i;

  g_object_set (h->element, "ffc-frames", 3, NULL);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_pattern));
  frame_stats (out, W, H, NULL, 1.0, &mean, &std);
  g_assert_cmpfloat (std, >, 5.0);
  gst_buffer_unref (out);

  g_signal_emit_by_name (h->element, "background-correction");
  /* the frame that starts it, then 3 collected (frozen), then corrected */
  for (i = 0; i < 4; i++)
    gst_buffer_unref (gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_pattern)));
  g_object_get (h->element, "ffc-count", &n, NULL);
  g_assert_cmpuint (n, ==, 1);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_pattern));
  frame_stats (out, W, H, NULL, 1.0, &mean, &std);
  g_assert_cmpfloat (std, <, 0.6);
  g_assert_cmpfloat (fabs (mean - 5024.5), <, 2.0);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

static void
test_ffc_without_shutter_is_abandoned (void)
{
  GstHarness *h = nuc_harness ();
  GstBuffer *out;
  guint n = 99;
  int i;

  g_signal_emit_by_name (h->element, "ffc");
  /* the picture freezes while it waits for a shutter that never closes */
  gst_buffer_unref (gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_flat)));
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_spike));
  g_assert_cmpuint (pixel_at (out, W, 3, 4), ==, 5000);
  gst_buffer_unref (out);
  for (i = 0; i < 70; i++)
    gst_buffer_unref (gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_flat)));
  /* then gives up, asks to reopen, and the picture lives again */
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_spike));
  g_assert_cmpuint (pixel_at (out, W, 3, 4), ==, 60000);
  gst_buffer_unref (out);
  g_object_get (h->element, "ffc-count", &n, NULL);
  g_assert_cmpuint (n, ==, 0);
  gst_harness_teardown (h);
}

static void
test_table_file (void)
{
  gchar *dir = g_dir_make_tmp ("tcnuc-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "t.nuc", NULL);
  gchar *small = g_build_filename (dir, "small.nuc", NULL);
  float gain[W * H], offset[W * H];
  GstHarness *h;
  GstBuffer *out;
  char err[256];
  int i;

  for (i = 0; i < W * H; i++) {
    gain[i] = 2.0f;
    offset[i] = 1.0f;
  }
  g_assert_true (tc_nuc_file_write (file, W, H, gain, offset, err, sizeof (err)));
  g_assert_true (tc_nuc_file_write (small, 4, 4, gain, offset, err, sizeof (err)));

  h = nuc_harness ();
  g_object_set (h->element, "tables", 1, "table-file", file, NULL);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_flat));
  g_assert_cmpuint (pixel_at (out, W, 7, 7), ==, 10001);
  gst_buffer_unref (out);

  /* tables of another size are refused: no tables rather than wrong ones */
  g_object_set (h->element, "table-file", small, NULL);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_flat));
  g_assert_cmpuint (pixel_at (out, W, 7, 7), ==, 5000);
  gst_buffer_unref (out);

  /* save-tables writes what is in use */
  g_object_set (h->element, "table-file", file, NULL);
  gst_buffer_unref (gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_flat)));
  {
    gboolean ok = FALSE;
    gchar *saved = g_build_filename (dir, "saved.nuc", NULL);
    float *g, *o;
    int w, hh;

    g_signal_emit_by_name (h->element, "save-tables", saved, &ok);
    g_assert_true (ok);
    g_assert_true (tc_nuc_file_read (saved, &w, &hh, &g, &o, err, sizeof (err)));
    g_assert_cmpfloat (g[5], ==, 2.0f);
    free (g);
    free (o);
    g_unlink (saved);
    g_free (saved);
  }
  gst_harness_teardown (h);
  g_unlink (file);
  g_unlink (small);
  g_rmdir (dir);
  g_free (file);
  g_free (small);
  g_free (dir);
}

/* with the simulated sensor upstream: its tables, its shutter */
static void
test_ffc_with_shutter (void)
{
  GstHarness *h = gst_harness_new_parse ("thermalsrc is-live=true num-buffers=60 "
      "scene=blackbody blackbody-temperature=40 fpa-drift=0 "
      "! video/x-raw,width=160,height=120,framerate=60/1 ! thermalnuc name=nuc");
  GstElement *nuc = gst_harness_find_element (h, "thermalnuc");
  guint n = 0, defective = 0, detected = 0;
  int i;

  gst_harness_use_systemclock (h);
  gst_harness_play (h);
  gst_buffer_unref (gst_harness_pull (h));
  g_signal_emit_by_name (nuc, "ffc");
  for (i = 0; i < 30; i++) {
    GstBuffer *b = gst_harness_pull (h);

    g_assert_false (gst_buffer_get_thermal_meta (b)->shutter_closed);
    gst_buffer_unref (b);
  }
  g_object_get (nuc, "ffc-count", &n, "defective-count", &defective,
      "detected-count", &detected, NULL);
  g_assert_cmpuint (n, ==, 2);    /* the one at start and the one asked for */
  /* the factory list (12 dead + 8 hot) and the 4 new ones found at the FFC */
  g_assert_cmpuint (detected, ==, 4);
  g_assert_cmpuint (defective, ==, 24);
  gst_object_unref (nuc);
  gst_harness_teardown (h);
}

/* every ffc-interval seconds of stream time */
static void
test_ffc_on_timer (void)
{
  GstHarness *h = gst_harness_new_parse ("thermalsrc num-buffers=140 fpa-drift=0 "
      "! video/x-raw,width=80,height=64,framerate=25/1 "
      "! thermalnuc ffc-on-start=false ffc-drift=0 ffc-interval=1");
  GstElement *nuc = gst_harness_find_element (h, "thermalnuc");
  guint n = 0;
  int i;

  gst_harness_play (h);
  for (i = 0; i < 120; i++)
    gst_buffer_unref (gst_harness_pull (h));
  g_object_get (nuc, "ffc-count", &n, NULL);
  /* 120 frames = 4.8 s: at 1, 2, 3 and 4 s (each takes a few frames) */
  g_assert_cmpuint (n, >=, 3);
  g_assert_cmpuint (n, <=, 4);
  gst_object_unref (nuc);
  gst_harness_teardown (h);
}

/* without tables the fixed pattern is large: only the real defects are found */
static void
test_auto_dpc_without_tables (void)
{
  GstHarness *h = gst_harness_new_parse ("thermalsrc num-buffers=30 scene=blackbody "
      "fpa-drift=0 ! video/x-raw,width=160,height=128,framerate=25/1 "
      "! thermalnuc tables=none");
  GstElement *nuc = gst_harness_find_element (h, "thermalnuc");
  guint detected = 0, defective = 0;

  gst_harness_play (h);
  gst_buffer_unref (gst_harness_pull (h));
  g_object_get (nuc, "detected-count", &detected, "defective-count", &defective, NULL);
  /* 12 dead + 8 hot + 4 new, none of them known without the factory list */
  g_assert_cmpuint (detected, ==, 24);
  g_assert_cmpuint (defective, ==, 24);
  gst_object_unref (nuc);
  gst_harness_teardown (h);
}

/* a background correction after a shutter FFC keeps the absolute level */
static void
test_background_keeps_level (void)
{
  /* live: the signals act on the frames that follow, not on frames made ahead */
  GstHarness *h = gst_harness_new_parse ("thermalsrc is-live=true num-buffers=200 "
      "scene=blackbody blackbody-temperature=50 fpa-drift=6 fpa-tau=0.2 "
      "! video/x-raw,width=96,height=64,framerate=60/1 "
      "! thermalnuc ffc-drift=0 ! thermalradiometry");
  GstElement *nuc = gst_harness_find_element (h, "thermalnuc");
  GstBuffer *b;
  double before, after, std;
  guint n = 0;
  int i;

  gst_harness_use_systemclock (h);
  gst_harness_play (h);
  for (i = 0; i < 90; i++)      /* the sensor drifts 6 K away from its last FFC */
    gst_buffer_unref (gst_harness_pull (h));
  g_signal_emit_by_name (nuc, "ffc");
  for (i = 0; i < 10; i++)
    gst_buffer_unref (gst_harness_pull (h));
  b = gst_harness_pull (h);
  frame_stats (b, 96, 64, NULL, 0.01, &before, &std);
  gst_buffer_unref (b);
  g_assert_cmpfloat (fabs (before - 273.15 - 50.0), <, 0.1);
  g_signal_emit_by_name (nuc, "background-correction");
  for (i = 0; i < 8; i++)
    gst_buffer_unref (gst_harness_pull (h));
  g_object_get (nuc, "ffc-count", &n, NULL);
  g_assert_cmpuint (n, ==, 3);   /* start, shutter, background */
  b = gst_harness_pull (h);
  frame_stats (b, 96, 64, NULL, 0.01, &after, &std);
  gst_buffer_unref (b);
  g_assert_cmpfloat (fabs (after - before), <, 0.1);
  gst_object_unref (nuc);
  gst_harness_teardown (h);
}

static gpointer
poke (gpointer data)
{
  GstElement *e = data;
  int i;

  for (i = 0; i < 300; i++) {
    g_object_set (e, "ffc-interval", i % 3, "ffc-drift", (i % 4) * 0.5,
        "dpc", i % 2, "defective-pixels", (i % 3) ? "1,1;5,5" : "", NULL);
    if (i % 50 == 0)
      g_signal_emit_by_name (e, "background-correction");
  }
  return NULL;
}

static void
test_property_stress (void)
{
  GstHarness *h = nuc_harness ();
  GThread *t = g_thread_new ("poke", poke, h->element);
  int i;

  for (i = 0; i < 200; i++) {
    GstBuffer *b = gray16_buffer (W, H, fill_pattern), *out;

    GST_BUFFER_PTS (b) = i * GST_SECOND / 25;
    out = gst_harness_push_and_pull (h, b);
    /* whatever the settings: a frame of the same size, no wild values */
    g_assert_cmpuint (gst_buffer_get_size (out), ==, W * H * 2);
    g_assert_cmpuint (pixel_at (out, W, 10, 10), >=, 4900);
    g_assert_cmpuint (pixel_at (out, W, 10, 10), <=, 5100);
    gst_buffer_unref (out);
  }
  g_thread_join (t);
  gst_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/thermalnuc/no-source-tables-is-identity", test_no_source_tables_is_identity);
  g_test_add_func ("/thermalnuc/manual-defective-pixels", test_manual_defective_pixels);
  g_test_add_func ("/thermalnuc/background-correction", test_background_correction);
  g_test_add_func ("/thermalnuc/ffc-without-shutter", test_ffc_without_shutter_is_abandoned);
  g_test_add_func ("/thermalnuc/table-file", test_table_file);
  g_test_add_func ("/thermalnuc/ffc-with-shutter", test_ffc_with_shutter);
  g_test_add_func ("/thermalnuc/ffc-on-timer", test_ffc_on_timer);
  g_test_add_func ("/thermalnuc/auto-dpc-without-tables", test_auto_dpc_without_tables);
  g_test_add_func ("/thermalnuc/background-keeps-level", test_background_keeps_level);
  g_test_add_func ("/thermalnuc/property-stress", test_property_stress);
  return g_test_run ();
}
