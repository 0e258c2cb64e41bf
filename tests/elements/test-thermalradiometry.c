/* thermocam: GstHarness tests of thermalradiometry
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib/gstdio.h>
#include <string.h>
#include "common.h"
#include "tc-calib-json.h"

#define W 64
#define H 48

static guint16 fill_18090 (int x, int y) { return 18090; }
static guint16 fill_20000 (int x, int y) { return 20000; }
static guint16 fill_mixed (int x, int y) { return x == 0 ? 0 : (x == 1 ? 65535 : 20000); }

static GstHarness *
rad_harness (const gchar *props)
{
  GstHarness *h = gst_harness_new ("thermalradiometry");

  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY16_LE,width=64,"
      "height=48,framerate=25/1");
  return h;
}

static double
push_and_read_c (GstHarness *h, GstBuffer *in, int x, int y, double *scale_out)
{
  GstBuffer *out = gst_harness_push_and_pull (h, in);
  GstThermalMeta *m = gst_buffer_get_thermal_meta (out);
  double v;

  g_assert_nonnull (m);
  g_assert_cmpint (m->kind, ==, GST_THERMAL_FRAME_TEMPERATURE);
  v = pixel_at (out, W, x, y) * m->scale - 273.15;
  if (scale_out)
    *scale_out = m->scale;
  gst_buffer_unref (out);
  return v;
}

static void
test_caps_carry_scale (void)
{
  GstHarness *h = rad_harness (NULL);
  GstCaps *caps;
  gdouble scale = 0;
  GstBuffer *out;

  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_20000));
  caps = gst_pad_get_current_caps (h->sinkpad);
  g_assert_true (gst_structure_get_double (gst_caps_get_structure (caps, 0),
          GST_THERMAL_CAPS_SCALE, &scale));
  g_assert_cmpfloat (scale, ==, 0.01);
  gst_caps_unref (caps);
  gst_buffer_unref (out);

  /* decikelvin renegotiates */
  g_object_set (h->element, "scale", 2, NULL);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_20000));
  caps = gst_pad_get_current_caps (h->sinkpad);
  g_assert_true (gst_structure_get_double (gst_caps_get_structure (caps, 0),
          GST_THERMAL_CAPS_SCALE, &scale));
  g_assert_cmpfloat (scale, ==, 0.1);
  g_assert_cmpfloat (gst_buffer_get_thermal_meta (out)->scale, ==, 0.1);
  gst_caps_unref (caps);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

static gchar *
exiftool_json_file (const gchar *sample, gchar **dir_out)
{
  gchar *path = g_build_filename (g_getenv ("THERMOCAM_SAMPLES"), sample, NULL);
  gchar *argv[] = { (gchar *) "exiftool", (gchar *) "-j", (gchar *) "-n", path, NULL };
  gchar *out = NULL, *dir = g_dir_make_tmp ("tcrad-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "cal.json", NULL);
  gint status;

  g_assert_true (g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
          G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (g_file_set_contents (file, out, -1, NULL));
  g_free (out);
  g_free (path);
  *dir_out = dir;
  return file;
}

static void
test_ir2412_through_element (void)
{
  gchar *dir, *file = exiftool_json_file ("IR_2412.jpg", &dir);
  TcCalibration cal;
  TcObjectParams obj;
  GstHarness *h;
  double t;

  tc_object_params_init_default (&obj);
  g_assert_true (tc_calibration_load_json (file, &cal, &obj, NULL, NULL));
  h = rad_harness (NULL);
  g_object_set (h->element, "calibration-file", file,
      "emissivity", obj.emissivity, "distance", obj.distance,
      "reflected-temperature", obj.reflected_temp,
      "atmospheric-temperature", obj.atmospheric_temp,
      "relative-humidity", obj.relative_humidity,
      "window-temperature", obj.window_temp,
      "window-transmission", obj.window_transmission, NULL);
  t = push_and_read_c (h, gray16_buffer (W, H, fill_18090), 10, 10, NULL);
  g_test_message ("IR_2412 raw 18090 through thermalradiometry: %.4f C", t);
  g_assert_cmpfloat (fabs (t - 23.7344), <, 0.01);
  gst_harness_teardown (h);
  g_unlink (file);
  g_rmdir (dir);
  g_free (file);
  g_free (dir);
}

static void
test_params_live_and_from_meta (void)
{
  GstHarness *h = rad_harness (NULL);
  GstBuffer *in;
  GstThermalMeta *m;
  double t95, t50, tmeta, tprops;

  t95 = push_and_read_c (h, gray16_buffer (W, H, fill_20000), 5, 5, NULL);
  g_object_set (h->element, "emissivity", 0.5, NULL);
  t50 = push_and_read_c (h, gray16_buffer (W, H, fill_20000), 5, 5, NULL);
  g_assert_cmpfloat (t50, >, t95 + 5.0);   /* lower emissivity, hotter reading */

  /* a frame carrying its own parameters (a radiometric file) wins in auto */
  in = gray16_buffer (W, H, fill_20000);
  m = gst_buffer_add_thermal_meta (in);
  m->has_params = TRUE;
  tc_object_params_init_default (&m->params);
  m->params.emissivity = 0.95;
  tmeta = push_and_read_c (h, in, 5, 5, NULL);
  g_assert_cmpfloat (fabs (tmeta - t95), <, 0.011);

  g_object_set (h->element, "params-source", 1, NULL);
  in = gray16_buffer (W, H, fill_20000);
  m = gst_buffer_add_thermal_meta (in);
  m->has_params = TRUE;
  tc_object_params_init_default (&m->params);
  tprops = push_and_read_c (h, in, 5, 5, NULL);
  g_assert_cmpfloat (fabs (tprops - t50), <, 0.011);
  gst_harness_teardown (h);
}

static void
test_clamped_counted (void)
{
  GstHarness *h = rad_harness (NULL);
  GstBuffer *out;
  guint64 clamped = 0, total = 0;

  /* at emissivity 0.2 the top counts mean more than 0.01 K can hold */
  g_object_set (h->element, "emissivity", 0.2, NULL);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_mixed));

  g_object_get (h->element, "clamped", &clamped, "clamped-total", &total, NULL);
  /* column 0 (raw 0: no temperature) and column 1 (65535: above 382 C) */
  g_assert_cmpuint (clamped, ==, 2 * H);
  g_assert_cmpuint (gst_buffer_get_thermal_meta (out)->clamped, ==, 2 * H);
  g_assert_cmpuint (pixel_at (out, W, 0, 0), >, 0);          /* not 0 K, not NaN */
  g_assert_cmpuint (pixel_at (out, W, 0, 0), <, pixel_at (out, W, 5, 0));
  g_assert_cmpuint (pixel_at (out, W, 1, 0), >, pixel_at (out, W, 5, 0));
  gst_buffer_unref (out);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_20000));
  g_object_get (h->element, "clamped", &clamped, "clamped-total", &total, NULL);
  g_assert_cmpuint (clamped, ==, 0);
  g_assert_cmpuint (total, ==, 2 * H);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

static void
test_bad_calibration_file_changes_nothing (void)
{
  GstHarness *h = rad_harness (NULL);
  gchar *dir = g_dir_make_tmp ("tcrad-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "bad.json", NULL);
  gchar *got = NULL;
  double before, after;

  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;

  before = push_and_read_c (h, gray16_buffer (W, H, fill_20000), 1, 1, NULL);
  g_assert_true (g_file_set_contents (file, "{\"PlanckR1\": 1}", -1, NULL));
  /* no bus (as in gst-launch, where properties are set before the element
   * is in the pipeline): said with g_warning, not lost */
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING,
      "*Could not use calibration file*PlanckR2*");
  g_object_set (h->element, "calibration-file", file, NULL);
  g_test_assert_expected_messages ();
  g_object_get (h->element, "calibration-file", &got, NULL);
  g_assert_null (got);
  /* with a bus: a warning message naming the file */
  bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  g_object_set (h->element, "calibration-file", "/nonexistent/cal.json", NULL);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  g_assert_nonnull (msg);
  gst_message_parse_warning (msg, &err, NULL);
  g_assert_nonnull (strstr (err->message, "/nonexistent/cal.json"));
  g_clear_error (&err);
  gst_message_unref (msg);
  g_object_get (h->element, "calibration-file", &got, NULL);
  g_assert_null (got);
  after = push_and_read_c (h, gray16_buffer (W, H, fill_20000), 1, 1, NULL);
  g_assert_cmpfloat (before, ==, after);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_unlink (file);
  g_rmdir (dir);
  g_free (file);
  g_free (dir);
}

static gpointer
poke_properties (gpointer data)
{
  GstElement *e = data;
  int i;

  for (i = 0; i < 300; i++)
    g_object_set (e, "emissivity", 0.3 + (i % 70) * 0.01, "distance", (double) (i % 50),
        "relative-humidity", (i % 10) * 0.1, "window-transmission", 0.5 + (i % 5) * 0.1,
        NULL);
  return NULL;
}

static void
test_property_stress (void)
{
  GstHarness *h = rad_harness (NULL);
  GThread *t = g_thread_new ("poke", poke_properties, h->element);
  int i;

  for (i = 0; i < 200; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_20000));
    guint16 v = pixel_at (out, W, 3, 3);

    /* whatever the parameters, a sane temperature */
    g_assert_cmpfloat (v * 0.01 - 273.15, >, -50.0);
    g_assert_cmpfloat (v * 0.01 - 273.15, <, 382.0);
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
  g_test_add_func ("/thermalradiometry/caps-carry-scale", test_caps_carry_scale);
  g_test_add_func ("/thermalradiometry/ir2412-through-element", test_ir2412_through_element);
  g_test_add_func ("/thermalradiometry/params-live-and-from-meta", test_params_live_and_from_meta);
  g_test_add_func ("/thermalradiometry/clamped-counted", test_clamped_counted);
  g_test_add_func ("/thermalradiometry/bad-calibration-file", test_bad_calibration_file_changes_nothing);
  g_test_add_func ("/thermalradiometry/property-stress", test_property_stress);
  return g_test_run ();
}
