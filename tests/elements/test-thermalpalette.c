/* thermocam: GstHarness tests of thermalpalette
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "common.h"
#include "tc-palette.h"

#define W 64
#define H 48

/* 10..40 C across the columns, in 0.01 K */
static guint16
fill_ramp (int x, int y)
{
  return (guint16) lrint ((10.0 + 30.0 * x / (W - 1) + 273.15) / 0.01);
}

static GstHarness *
pal_harness (const gchar *format)
{
  GstHarness *h = gst_harness_new ("thermalpalette");
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s", format);

  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY16_LE,width=64,"
      "height=48,framerate=25/1,temperature-scale=(double)0.01");
  gst_harness_set_sink_caps_str (h, caps);
  g_free (caps);
  return h;
}

static void
test_all_formats_negotiate (void)
{
  static const struct { const char *fmt; gsize size; } f[] = {
    {"I420", W * H * 3 / 2}, {"RGB", W * H * 3}, {"BGR", W * H * 3},
    {"RGBx", W * H * 4}, {"BGRx", W * H * 4}, {"xRGB", W * H * 4},
    {"xBGR", W * H * 4}, {"RGBA", W * H * 4}, {"BGRA", W * H * 4},
    {"ARGB", W * H * 4}, {"ABGR", W * H * 4},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (f); i++) {
    GstHarness *h = pal_harness (f[i].fmt);
    GstBuffer *out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_ramp));
    GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
    GstVideoInfo info;

    g_assert_nonnull (out);
    g_assert_true (gst_video_info_from_caps (&info, caps));
    g_assert_cmpstr (gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&info)), ==,
        f[i].fmt);
    g_assert_cmpuint (gst_buffer_get_size (out), ==, f[i].size);
    g_assert_false (gst_structure_has_field (gst_caps_get_structure (caps, 0),
            GST_THERMAL_CAPS_SCALE));
    gst_caps_unref (caps);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

static void
rgb_at (GstBuffer *b, int x, int y, guint8 rgb[3])
{
  GstMapInfo map;

  g_assert_true (gst_buffer_map (b, &map, GST_MAP_READ));
  memcpy (rgb, map.data + ((gsize) y * W + x) * 3, 3);
  gst_buffer_unmap (b, &map);
}

static void
test_manual_linear_values (void)
{
  GstHarness *h = pal_harness ("RGB");
  GstBuffer *out;
  GstThermalPaletteMeta *pm;
  guint8 c[3];
  const guint8 *iron = tc_palette_rgb (TC_PALETTE_IRONBOW);

  gst_util_set_object_arg (G_OBJECT (h->element), "palette", "white-hot");
  gst_util_set_object_arg (G_OBJECT (h->element), "range-mode", "manual");
  gst_util_set_object_arg (G_OBJECT (h->element), "agc", "linear");
  g_object_set (h->element, "range-min", 10.0, "range-max", 40.0, NULL);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_ramp));
  rgb_at (out, 0, 0, c);
  g_assert_cmpuint (c[0], ==, 0);
  g_assert_cmpuint (c[1], ==, 0);
  g_assert_cmpuint (c[2], ==, 0);
  rgb_at (out, W - 1, 0, c);
  g_assert_cmpuint (c[0], ==, 255);
  rgb_at (out, W / 2, 0, c);
  g_assert_cmpint (abs ((int) c[0] - 130), <=, 6);
  pm = gst_buffer_get_thermal_palette_meta (out);
  g_assert_nonnull (pm);
  g_assert_cmpint (pm->palette, ==, TC_PALETTE_WHITE_HOT);
  g_assert_cmpfloat (fabs (pm->range_min - 10.0), <, 0.01);
  g_assert_cmpfloat (fabs (pm->range_max - 40.0), <, 0.01);
  g_assert_false (pm->equalized);
  gst_buffer_unref (out);

  /* change the palette and the range mid-stream */
  gst_util_set_object_arg (G_OBJECT (h->element), "palette", "ironbow");
  g_object_set (h->element, "range-min", 25.0, NULL);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_ramp));
  rgb_at (out, 0, 0, c);       /* 10 C is below the range: the coldest colour */
  g_assert_cmpmem (c, 3, iron, 3);
  rgb_at (out, W - 1, 0, c);
  g_assert_cmpmem (c, 3, iron + 255 * 3, 3);
  g_assert_cmpfloat (fabs (gst_buffer_get_thermal_palette_meta (out)->range_min - 25.0),
      <, 0.01);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

static void
test_auto_range_follows_scene (void)
{
  GstHarness *h = pal_harness ("RGBx");
  GstBuffer *out;
  GstThermalPaletteMeta *pm;

  g_object_set (h->element, "damping", 0.0, NULL);
  out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_ramp));
  pm = gst_buffer_get_thermal_palette_meta (out);
  g_assert_cmpfloat (fabs (pm->range_min - 10.0), <, 0.02);
  g_assert_cmpfloat (fabs (pm->range_max - 40.0), <, 0.02);
  g_assert_true (pm->equalized);    /* plateau by default */
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

/* channel order of the packed formats, odd sizes, and no temperature meta on
 * the picture */
static void
test_channel_order_and_odd_sizes (void)
{
  static const struct { const char *fmt; int r, g, b, bpp; } f[] = {
    {"RGB", 0, 1, 2, 3}, {"BGR", 2, 1, 0, 3}, {"RGBx", 0, 1, 2, 4}, {"BGRx", 2, 1, 0, 4},
    {"xRGB", 1, 2, 3, 4}, {"ABGR", 3, 2, 1, 4},
  };
  const guint8 *iron = tc_palette_rgb (TC_PALETTE_IRONBOW);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (f); i++) {
    GstHarness *h = pal_harness (f[i].fmt);
    GstBuffer *in = gray16_buffer (W, H, fill_ramp), *out;
    GstMapInfo map;

    gst_util_set_object_arg (G_OBJECT (h->element), "palette", "ironbow");
    gst_util_set_object_arg (G_OBJECT (h->element), "range-mode", "manual");
    gst_util_set_object_arg (G_OBJECT (h->element), "agc", "linear");
    g_object_set (h->element, "range-min", 10.0, "range-max", 40.0, NULL);
    gst_buffer_add_thermal_meta (in)->kind = GST_THERMAL_FRAME_TEMPERATURE;
    out = gst_harness_push_and_pull (h, in);
    g_assert_null (gst_buffer_get_thermal_meta (out));
    g_assert_nonnull (gst_buffer_get_thermal_palette_meta (out));
    g_assert_true (gst_buffer_map (out, &map, GST_MAP_READ));
    /* the last column is index 255 */
    g_assert_cmpuint (map.data[(W - 1) * f[i].bpp + f[i].r], ==, iron[255 * 3]);
    g_assert_cmpuint (map.data[(W - 1) * f[i].bpp + f[i].g], ==, iron[255 * 3 + 1]);
    g_assert_cmpuint (map.data[(W - 1) * f[i].bpp + f[i].b], ==, iron[255 * 3 + 2]);
    gst_buffer_unmap (out, &map);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }

  /* an odd size cannot be I420: something else is chosen */
  {
    GstHarness *h = gst_harness_new ("thermalpalette");
    GstCaps *caps;
    GstVideoInfo info;

    gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY16_LE,width=61,"
        "height=47,framerate=25/1");
    gst_buffer_unref (gst_harness_push_and_pull (h,
            gst_buffer_new_allocate (NULL, 61 * 47 * 2, NULL)));
    caps = gst_pad_get_current_caps (h->sinkpad);
    g_assert_true (gst_video_info_from_caps (&info, caps));
    g_assert_cmpint (GST_VIDEO_INFO_FORMAT (&info), !=, GST_VIDEO_FORMAT_I420);
    g_assert_cmpint (GST_VIDEO_INFO_WIDTH (&info), ==, 61);
    gst_caps_unref (caps);
    gst_harness_teardown (h);
  }
}

static gpointer
poke (gpointer data)
{
  GstElement *e = data;
  int i;

  for (i = 0; i < 300; i++)
    g_object_set (e, "palette", i % TC_PALETTE_N, "agc", i % 2, "dde-level", (i * 7) % 101,
        "brightness", ((i % 21) - 10) / 10.0, "contrast", (i % 20) / 10.0,
        "range-mode", (i / 3) % 2, "range-min", (double) (i % 30),
        "range-max", 30.0 + (i % 40), "plateau", 0.001 + (i % 10) * 0.05, NULL);
  return NULL;
}

static void
test_property_stress (void)
{
  GstHarness *h = pal_harness ("I420");
  GThread *t = g_thread_new ("poke", poke, h->element);
  int i;

  for (i = 0; i < 200; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h, gray16_buffer (W, H, fill_ramp));

    g_assert_cmpuint (gst_buffer_get_size (out), ==, W * H * 3 / 2);
    gst_buffer_unref (out);
  }
  g_thread_join (t);
  gst_harness_teardown (h);
}

/* raw sensor counts (no thermalradiometry before it): a picture, and one
 * warning on the bus that says so */
static void
test_raw_counts_warn (void)
{
  GstHarness *h = pal_harness ("RGB");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  guint warnings = 0;

  gst_element_set_bus (h->element, bus);
  for (int i = 0; i < 3; i++) {
    GstBuffer *in = gray16_buffer (W, H, fill_ramp);
    GstBuffer *out;
    gst_buffer_add_thermal_meta (in)->kind = GST_THERMAL_FRAME_RAW;
    out = gst_harness_push_and_pull (h, in);
    g_assert_nonnull (out);
    gst_buffer_unref (out);
  }
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    GError *err = NULL;
    gst_message_parse_warning (msg, &err, NULL);
    g_assert_nonnull (strstr (err->message, "raw sensor counts"));
    g_error_free (err);
    gst_message_unref (msg);
    warnings++;
  }
  g_assert_cmpuint (warnings, ==, 1);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/thermalpalette/all-formats-negotiate", test_all_formats_negotiate);
  g_test_add_func ("/thermalpalette/manual-linear-values", test_manual_linear_values);
  g_test_add_func ("/thermalpalette/auto-range-follows-scene", test_auto_range_follows_scene);
  g_test_add_func ("/thermalpalette/channel-order-and-odd-sizes",
      test_channel_order_and_odd_sizes);
  g_test_add_func ("/thermalpalette/property-stress", test_property_stress);
  g_test_add_func ("/thermalpalette/raw-counts-warn", test_raw_counts_warn);
  return g_test_run ();
}
