/* thermocam: thermalrjpegdec and thermalrjpegenc
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "common.h"

static GstBuffer *
file_buffer (const gchar *name)
{
  g_autofree gchar *path = g_build_filename (g_getenv ("THERMOCAM_SAMPLES"), name, NULL);
  gchar *data;
  gsize len;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return gst_buffer_new_wrapped (data, len);
}

/* the file through the decoder and thermalradiometry: one temperature frame */
static GstBuffer *
decode (GstBuffer *file, GstBus *bus)
{
  GstHarness *h = gst_harness_new_parse ("thermalrjpegdec ! thermalradiometry");
  GstBuffer *out;

  if (bus)
    gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, "image/jpeg");
  g_assert_cmpint (gst_harness_push (h, file), ==, GST_FLOW_OK);
  gst_harness_push_event (h, gst_event_new_eos ());
  out = gst_harness_try_pull (h);
  gst_harness_teardown (h);
  return out;
}

static void
test_decode_ir2412 (void)
{
  GstBuffer *t = decode (file_buffer ("IR_2412.jpg"), NULL);
  GstThermalMeta *m;

  g_assert_nonnull (t);
  m = gst_buffer_get_thermal_meta (t);
  g_assert_nonnull (m);
  g_assert_true (m->has_params);
  g_assert_cmpfloat (fabs (m->calibration.r1 - 21106.77), <, 0.01);
  g_assert_cmpfloat (fabs (m->params.emissivity - 0.95), <, 1e-6);
  g_assert_cmpuint (gst_buffer_get_size (t), ==, 640 * 480 * 2);
  /* the published value at the first pixel, with the file's own parameters */
  g_assert_cmpfloat (fabs (pixel_at (t, 640, 0, 0) * m->scale - 273.15 - 23.7344), <,
      0.01);
  gst_buffer_unref (t);
}

static void
test_decode_every_sample (void)
{
  static const struct { const gchar *name; gint w, h; } s[] = {
    {"DJI_XT2.jpg", 640, 512}, {"FLIR.jpg", 320, 240}, {"FLIR_AX8.jpg", 80, 60},
    {"FLIR_E40.jpg", 160, 120}, {"FLIR_T640.jpg", 640, 480}, {"IR_6357.jpg", 160, 120},
    {"frame_000000.fff", 640, 512},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (s); i++) {
    GstBuffer *t = decode (file_buffer (s[i].name), NULL);
    GstThermalMeta *m;
    double mean, std;
    gint w;

    g_assert_nonnull (t);
    m = gst_buffer_get_thermal_meta (t);
    w = (gint) (gst_buffer_get_size (t) / 2 / s[i].h);
    /* FLIR.jpg is stored portrait (240x320) */
    if (w != s[i].w)
      w = s[i].h;
    frame_stats (t, w, (gint) (gst_buffer_get_size (t) / 2 / w), NULL, m->scale,
        &mean, &std);
    g_test_message ("%s: mean %.2f C", s[i].name, mean - 273.15);
    g_assert_cmpfloat (mean - 273.15, >, 0.0);
    g_assert_cmpfloat (mean - 273.15, <, 60.0);
    gst_buffer_unref (t);
  }
}

static void
test_not_radiometric (void)
{
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F',
    0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xd9 };
  GstBus *bus = gst_bus_new ();
  GstBuffer *t = decode (gst_buffer_new_memdup (jpeg, sizeof (jpeg)), bus);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  GError *err = NULL;

  g_assert_null (t);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &err, NULL);
  g_assert_nonnull (strstr (err->message, "radiometric"));
  g_error_free (err);
  gst_message_unref (msg);
  gst_object_unref (bus);
}

/* a frame of the simulated camera written and read back: the same temperatures */
static void
test_encode_round_trip (void)
{
  GstHarness *h = gst_harness_new_parse ("thermalsrc num-buffers=20 "
      "! video/x-raw,width=160,height=128 ! thermalnuc ! thermalradiometry ! tee name=t "
      "t. ! queue ! fakesink t. ! thermalrjpegenc");
  GstHarness *ht = gst_harness_new_parse ("thermalsrc num-buffers=20 "
      "! video/x-raw,width=160,height=128 ! thermalnuc ! thermalradiometry");
  GstBuffer *jpeg, *orig, *back;
  GstMapInfo map;
  gint x, y;
  double worst = 0;

  gst_harness_play (h);
  gst_harness_play (ht);
  jpeg = gst_harness_pull (h);
  orig = gst_harness_pull (ht);   /* the same deterministic frame */
  g_assert_true (gst_buffer_map (jpeg, &map, GST_MAP_READ));
  g_assert_cmpuint (map.data[0], ==, 0xff);
  g_assert_cmpuint (map.data[1], ==, 0xd8);
  gst_buffer_unmap (jpeg, &map);
  back = decode (jpeg, NULL);
  g_assert_nonnull (back);
  for (y = 0; y < 128; y += 3)
    for (x = 0; x < 160; x += 3)
      worst = MAX (worst, fabs ((double) pixel_at (back, 160, x, y) -
              pixel_at (orig, 160, x, y)) * 0.01);
  g_test_message ("round trip: worst difference %.3f K", worst);
  g_assert_cmpfloat (worst, <=, 0.02);
  gst_buffer_unref (back);
  gst_buffer_unref (orig);
  gst_harness_teardown (h);
  gst_harness_teardown (ht);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rjpeg/decode-ir2412", test_decode_ir2412);
  g_test_add_func ("/rjpeg/decode-every-sample", test_decode_every_sample);
  g_test_add_func ("/rjpeg/not-radiometric", test_not_radiometric);
  g_test_add_func ("/rjpeg/encode-round-trip", test_encode_round_trip);
  return g_test_run ();
}
