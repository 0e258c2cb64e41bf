/* thermocam: GstHarness tests of thermalosd
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <glib/gstdio.h>
#include "common.h"
#include "tc-palette.h"

#define W 320
#define H 240
#define GREY 128

#define RED 0xffff0000u
#define GREEN 0xff00ff00u
#define YELLOW 0xffffff00u
#define BLUE 0xff0000ffu

static GstHarness *
osd_harness_full (const gchar * format, gint w, gint h, const gchar * features)
{
  GstHarness *hr = gst_harness_new ("thermalosd");
  gchar *src = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=25/1", format, w, h);
  gchar *sink = g_strdup_printf ("video/x-raw%s%s%s,format=%s,width=%d,"
      "height=%d,framerate=25/1", features ? "(" : "",
      features ? features : "", features ? ")" : "", format, w, h);

  gst_harness_set_src_caps_str (hr, src);
  gst_harness_set_sink_caps_str (hr, sink);
  g_free (src);
  g_free (sink);
  /* a quiet display unless a test asks for more */
  g_object_set (hr->element, "show-date", FALSE, "show-scene", FALSE,
      "readings-interval", 0, NULL);
  return hr;
}

static GstHarness *
osd_harness (const gchar * format, gint w, gint h)
{
  return osd_harness_full (format, w, h, NULL);
}

static gsize
frame_size (const gchar * format, gint w, gint h)
{
  GstVideoInfo info;

  g_assert_true (gst_video_info_set_format (&info,
          gst_video_format_from_string (format), w, h));
  return GST_VIDEO_INFO_SIZE (&info);
}

/* a uniform grey frame (Y = U = V = 128 in YUV) */
static GstBuffer *
grey_frame (const gchar * format, gint w, gint h, gint n)
{
  gsize size = frame_size (format, w, h);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_memset (buf, 0, GREY, size);
  GST_BUFFER_PTS (buf) = n * 40 * GST_MSECOND;
  GST_BUFFER_DURATION (buf) = 40 * GST_MSECOND;
  return buf;
}

static GstThermalRuleResult *
add_rule (GstThermalMeasureMeta * mm, gint id, const gchar * name,
    GstThermalRuleType type, GstThermalAlarmState state, guint n,
    const gdouble (*points)[2], gdouble max, gdouble min, gdouble avg)
{
  GstThermalRuleResult *r = &mm->rules[mm->n_rules++];
  guint i;

  memset (r, 0, sizeof (*r));
  r->id = id;
  g_strlcpy (r->name, name, sizeof (r->name));
  r->type = type;
  r->n_points = n;
  for (i = 0; i < n; i++) {
    r->points[i][0] = points[i][0];
    r->points[i][1] = points[i][1];
  }
  r->valid = TRUE;
  r->max = max;
  r->min = min;
  r->avg = avg;
  r->max_at[0] = r->min_at[0] = points[0][0];
  r->max_at[1] = r->min_at[1] = points[0][1];
  r->state = state;
  r->has_alarm = state != GST_THERMAL_STATE_NORMAL;
  return r;
}

static const gdouble alarm_line[][2] = { {0.2, 0.5}, {0.8, 0.5} };
static const gdouble normal_line[][2] = { {0.2, 0.7}, {0.8, 0.7} };
static const gdouble pre_polygon[][2] = {
  {0.1, 0.8}, {0.4, 0.8}, {0.4, 0.95}, {0.25, 0.88}, {0.1, 0.95}
};
static const gdouble point[][2] = { {0.8, 0.85} };

/* an alarm line across the middle, a normal line below it, a concave
 * pre-alarm polygon and a normal point at the bottom */
static GstThermalMeasureMeta *
add_rules (GstBuffer * buf)
{
  GstThermalMeasureMeta *mm = gst_buffer_add_thermal_measure_meta (buf);

  mm->max = 80.0;
  mm->min = 10.0;
  mm->avg = 30.0;
  mm->max_at[0] = 0.5;
  mm->max_at[1] = 0.5;
  mm->min_at[0] = 0.1;
  mm->min_at[1] = 0.1;
  add_rule (mm, 1, "hot", GST_THERMAL_RULE_LINE, GST_THERMAL_STATE_ALARM, 2,
      alarm_line, 80.0, 20.0, 50.0);
  add_rule (mm, 2, "ok", GST_THERMAL_RULE_LINE, GST_THERMAL_STATE_NORMAL, 2,
      normal_line, 30.0, 20.0, 25.0);
  add_rule (mm, 3, "warm", GST_THERMAL_RULE_POLYGON,
      GST_THERMAL_STATE_PRE_ALARM, 5, pre_polygon, 50.0, 20.0, 35.0);
  add_rule (mm, 4, "bearing", GST_THERMAL_RULE_POINT,
      GST_THERMAL_STATE_NORMAL, 1, point, 25.0, 25.0, 25.0);
  return mm;
}

static void
rgb_at (GstBuffer * buf, gint w, gint x, gint y, guint8 rgb[3])
{
  GstMapInfo map;

  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
  memcpy (rgb, map.data + ((gsize) y * w + x) * 4, 3);
  gst_buffer_unmap (buf, &map);
}

static gboolean
rgb_near (const guint8 rgb[3], guint32 argb, gint tol)
{
  return ABS (rgb[0] - (gint) ((argb >> 16) & 0xff)) <= tol &&
      ABS (rgb[1] - (gint) ((argb >> 8) & 0xff)) <= tol &&
      ABS (rgb[2] - (gint) (argb & 0xff)) <= tol;
}

#define assert_rgb(buf, x, y, argb, tol) G_STMT_START { \
  guint8 c_[3]; \
  rgb_at ((buf), W, (x), (y), c_); \
  if (!rgb_near (c_, (argb), (tol))) \
    g_error ("pixel %d,%d is %02x%02x%02x, expected %06x", (x), (y), \
        c_[0], c_[1], c_[2], (guint) ((argb) & 0xffffff)); \
} G_STMT_END

#define assert_grey(buf, x, y) \
  assert_rgb ((buf), (x), (y), 0xff000000u | GREY << 16 | GREY << 8 | GREY, 0)

/* pixels of an RGBx frame in a box that are not grey */
static guint
count_non_grey (GstBuffer * buf, gint w, gint x0, gint y0, gint x1, gint y1)
{
  GstMapInfo map;
  guint n = 0;
  gint x, y;

  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
  for (y = y0; y < y1; y++)
    for (x = x0; x < x1; x++) {
      const guint8 *p = map.data + ((gsize) y * w + x) * 4;

      if (p[0] != GREY || p[1] != GREY || p[2] != GREY)
        n++;
    }
  gst_buffer_unmap (buf, &map);
  return n;
}

/* with THERMALOSD_DUMP_DIR set, RGBx frames are written there as PPM, to
 * look at */
static void
dump (GstBuffer * buf, gint w, gint h, const gchar * name)
{
  const gchar *dir = g_getenv ("THERMALOSD_DUMP_DIR");
  GString *s;
  GstMapInfo map;
  gchar *path;
  gint i;

  if (!dir)
    return;
  s = g_string_new (NULL);
  g_string_append_printf (s, "P6\n%d %d\n255\n", w, h);
  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
  for (i = 0; i < w * h; i++)
    g_string_append_len (s, (const gchar *) map.data + i * 4, 3);
  gst_buffer_unmap (buf, &map);
  path = g_strdup_printf ("%s/%s.ppm", dir, name);
  g_assert_true (g_file_set_contents (path, s->str, s->len, NULL));
  g_free (path);
  g_string_free (s, TRUE);
}

static guint64
renders (GstHarness * hr)
{
  guint64 n;

  g_object_get (hr->element, "renders", &n, NULL);
  return n;
}

static void
test_formats (void)
{
  static const gchar *formats[] = {
    "I420", "YV12", "NV12", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA",
    "ARGB", "ABGR", "RGB", "BGR", "AYUV", "YUY2", "UYVY"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstHarness *hr = osd_harness (formats[i], W, H);
    GstBuffer *in = grey_frame (formats[i], W, H, 0), *out;
    gsize size = frame_size (formats[i], W, H);
    guint8 *grey = g_malloc (size);
    GstMapInfo map;

    add_rules (in);
    memset (grey, GREY, size);
    out = gst_harness_push_and_pull (hr, in);
    g_assert_nonnull (out);
    g_assert_cmpuint (gst_buffer_get_size (out), ==, size);
    g_assert_true (gst_buffer_map (out, &map, GST_MAP_READ));
    g_assert_true (memcmp (map.data, grey, size) != 0);
    gst_buffer_unmap (out, &map);
    g_assert_null (gst_buffer_get_video_overlay_composition_meta (out));
    gst_buffer_unref (out);
    g_free (grey);
    gst_harness_teardown (hr);
  }
}

static void
test_rule_colours (void)
{
  GstHarness *hr = osd_harness ("RGBx", W, H);
  GstBuffer *in, *out;

  /* readings in the top-left block, well above the shapes */
  gst_util_set_object_arg (G_OBJECT (hr->element), "info-position",
      "top-left");
  in = grey_frame ("RGBx", W, H, 0);
  add_rules (in);
  out = gst_harness_push_and_pull (hr, in);

  /* the alarm line at y = 120 is two pixels thick: rows 119 and 120 */
  assert_rgb (out, 160, 119, RED, 0);
  assert_rgb (out, 160, 120, RED, 0);
  assert_rgb (out, 100, 120, RED, 0);
  assert_grey (out, 160, 110);
  assert_grey (out, 160, 130);
  /* the normal line at y = 168 */
  assert_rgb (out, 160, 167, GREEN, 0);
  assert_rgb (out, 160, 168, GREEN, 0);
  /* the pre-alarm polygon's left edge at x = 32, its top at y = 192 */
  assert_rgb (out, 31, 210, YELLOW, 0);
  assert_rgb (out, 32, 210, YELLOW, 0);
  assert_rgb (out, 80, 191, YELLOW, 0);
  /* its inside is not filled */
  assert_grey (out, 60, 200);
  /* the point's cross on pixel 256,204 (its centre): arms 3 pixels wide,
   * rows 203-205 and columns 255-257 */
  assert_rgb (out, 261, 203, GREEN, 0);
  assert_rgb (out, 255, 199, GREEN, 0);
  assert_grey (out, 240, 190);
  gst_buffer_unref (out);

  /* colours are properties, effective on the next frame */
  g_object_set (hr->element, "alarm-color", BLUE, "normal-color", 0xff808000u,
      NULL);
  in = grey_frame ("RGBx", W, H, 1);
  add_rules (in);
  out = gst_harness_push_and_pull (hr, in);
  assert_rgb (out, 160, 120, BLUE, 0);
  assert_rgb (out, 160, 168, 0xff808000u, 0);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

static void
test_readings_top_left (void)
{
  GstHarness *hr = osd_harness ("RGBx", W, H);
  GstBuffer *in, *out;

  gst_util_set_object_arg (G_OBJECT (hr->element), "info-position",
      "top-left");
  in = grey_frame ("RGBx", W, H, 0);
  add_rules (in);
  out = gst_harness_push_and_pull (hr, in);
  /* four lines of text at the top left */
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, 120, 20), >, 50);
  g_assert_cmpuint (count_non_grey (out, W, 0, 60, 120, 80), >, 50);
  gst_buffer_unref (out);

  g_object_set (hr->element, "show-rules", FALSE, NULL);
  in = grey_frame ("RGBx", W, H, 1);
  add_rules (in);
  out = gst_harness_push_and_pull (hr, in);
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, W, H), ==, 0);
  gst_buffer_unref (out);

  /* the scene alone */
  g_object_set (hr->element, "show-scene", TRUE, NULL);
  in = grey_frame ("RGBx", W, H, 2);
  add_rules (in);
  out = gst_harness_push_and_pull (hr, in);
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, 120, 20), >, 50);
  g_assert_cmpuint (count_non_grey (out, W, 0, 60, 120, 80), ==, 0);
  /* and its max marker at 160,120 */
  assert_rgb (out, 160, 120, 0xffff3030u, 0);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

static void
test_readings_near_target (void)
{
  GstHarness *hr = osd_harness ("RGBx", W, H);
  GstBuffer *in, *out;

  in = grey_frame ("RGBx", W, H, 0);
  add_rules (in);
  out = gst_harness_push_and_pull (hr, in);
  dump (out, W, H, "near-target");
  /* nothing at the top left ... */
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, W, 40), ==, 0);
  /* ... but above the alarm line, from its left end (x = 64) */
  g_assert_cmpuint (count_non_grey (out, W, 64, 60, 160, 116), >, 100);
  /* and beside the point (256,204): on its left, no room on its right */
  g_assert_cmpuint (count_non_grey (out, W, 170, 195, 243, 214), >, 30);
  g_assert_cmpuint (count_non_grey (out, W, 269, 180, W, 230), ==, 0);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

static void
test_ruler (void)
{
  const guint8 *iron = tc_palette_rgb (TC_PALETTE_IRONBOW);
  GstHarness *hr = osd_harness ("RGBx", W, H);
  GstBuffer *in, *out;
  /* 8 pixels wide at x 308..315, rows 48..191 (index 255 on row 48) */
  gint x = 311, top = 48, bottom = 191, y;

  g_object_set (hr->element, "show-ruler", TRUE, NULL);
  in = grey_frame ("RGBx", W, H, 0);
  gst_buffer_add_thermal_palette_meta (in, TC_PALETTE_IRONBOW, 20.0, 40.0,
      FALSE);
  out = gst_harness_push_and_pull (hr, in);
  for (y = top; y <= bottom; y += 13) {
    gint idx = (gint) lrint (255.0 * (bottom - y) / (bottom - top));
    guint32 c = 0xff000000u | iron[3 * idx] << 16 | iron[3 * idx + 1] << 8 |
        iron[3 * idx + 2];

    assert_rgb (out, x, y, c, 0);
  }
  assert_rgb (out, x, top, 0xff000000u | iron[765] << 16 | iron[766] << 8 |
      iron[767], 0);
  assert_rgb (out, x, bottom, 0xff000000u | iron[0] << 16 | iron[1] << 8 |
      iron[2], 0);
  /* labels on its left, top and bottom */
  g_assert_cmpuint (count_non_grey (out, W, 240, 38, 300, 58), >, 30);
  g_assert_cmpuint (count_non_grey (out, W, 240, 182, 300, 202), >, 30);
  /* nothing above or below */
  g_assert_cmpuint (count_non_grey (out, W, 240, 0, W, 30), ==, 0);
  g_assert_cmpuint (count_non_grey (out, W, 240, 210, W, H), ==, 0);
  gst_buffer_unref (out);

  /* the picture's brightness and contrast move the colours: so does the bar */
  in = grey_frame ("RGBx", W, H, 3);
  {
    GstThermalPaletteMeta *pm = gst_buffer_add_thermal_palette_meta (in,
        TC_PALETTE_IRONBOW, 20.0, 40.0, FALSE);
    gint bot = tc_palette_balance_index (0, 0.5, 0.8);
    gint mid = tc_palette_balance_index (128, 0.5, 0.8);

    pm->brightness = 0.5;
    pm->contrast = 0.8;
    out = gst_harness_push_and_pull (hr, in);
    g_assert_cmpint (bot, >, 0);
    assert_rgb (out, x, bottom, 0xff000000u | iron[3 * bot] << 16 |
        iron[3 * bot + 1] << 8 | iron[3 * bot + 2], 0);
    y = bottom - (gint) lrint ((bottom - top) * 128 / 255.0);
    assert_rgb (out, x, y, 0xff000000u | iron[3 * mid] << 16 |
        iron[3 * mid + 1] << 8 | iron[3 * mid + 2], 0);
    gst_buffer_unref (out);
  }

  /* no palette meta, no ruler */
  in = grey_frame ("RGBx", W, H, 1);
  out = gst_harness_push_and_pull (hr, in);
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, W, H), ==, 0);
  gst_buffer_unref (out);

  /* another palette */
  in = grey_frame ("RGBx", W, H, 2);
  gst_buffer_add_thermal_palette_meta (in, TC_PALETTE_RAINBOW, 20.0, 40.0,
      TRUE);
  out = gst_harness_push_and_pull (hr, in);
  {
    const guint8 *rb = tc_palette_rgb (TC_PALETTE_RAINBOW);

    assert_rgb (out, x, top, 0xff000000u | rb[765] << 16 | rb[766] << 8 |
        rb[767], 0);
    assert_rgb (out, x, bottom, 0xff000000u | rb[0] << 16 | rb[1] << 8 |
        rb[2], 0);
  }
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

/* A BMP with the given header fields and pixels from @fill (x, y from the
 * top), rows stored bottom-up unless @top_down. */
static gchar *
write_bmp (const gchar * name, gint w, gint h, guint bpp, guint compression,
    gboolean top_down, guint32 (*fill) (gint x, gint y), gsize truncate)
{
  guint bytes = bpp / 8;
  guint stride = (w * bytes + 3) & ~3u;
  gsize size = 54 + (gsize) stride * h;
  guint8 *d = g_malloc0 (size);
  gchar *path = g_build_filename (g_get_tmp_dir (), name, NULL);
  gint x, y;

#define PUT32(o, v) G_STMT_START { guint32 v_ = (v); d[o] = v_ & 0xff; \
    d[o + 1] = (v_ >> 8) & 0xff; d[o + 2] = (v_ >> 16) & 0xff; \
    d[o + 3] = v_ >> 24; } G_STMT_END
  d[0] = 'B';
  d[1] = 'M';
  PUT32 (2, (guint32) size);
  PUT32 (10, 54);
  PUT32 (14, 40);
  PUT32 (18, (guint32) w);
  PUT32 (22, (guint32) (top_down ? -h : h));
  d[26] = 1;
  d[28] = bpp;
  PUT32 (30, compression);
  PUT32 (34, stride * h);
#undef PUT32
  for (y = 0; y < h; y++) {
    guint8 *row = d + 54 + (gsize) stride * (top_down ? y : h - 1 - y);

    for (x = 0; x < w; x++) {
      guint32 c = fill (x, y);

      row[x * bytes] = c & 0xff;
      row[x * bytes + 1] = (c >> 8) & 0xff;
      row[x * bytes + 2] = (c >> 16) & 0xff;
      if (bytes == 4)
        row[x * bytes + 3] = 0xff;
    }
  }
  g_assert_true (g_file_set_contents (path, (const gchar *) d,
          truncate ? (gssize) truncate : (gssize) size, NULL));
  g_free (d);
  return path;
}

/* red with a blue top row */
static guint32
fill_red (gint x, gint y)
{
  return y == 0 ? 0x0000ff : 0xff0000;
}

static void
check_picture (GstBuffer * out, gint px, gint py)
{
  assert_rgb (out, px, py, BLUE, 0);
  assert_rgb (out, px + 15, py, BLUE, 0);
  assert_rgb (out, px, py + 1, RED, 0);
  assert_rgb (out, px + 15, py + 7, RED, 0);
  assert_grey (out, px - 1, py + 1);
  if (px + 16 < W)
    assert_grey (out, px + 16, py + 1);
  assert_grey (out, px, py - 1);
  if (py + 8 < H)
    assert_grey (out, px, py + 8);
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, W, H), ==, 16 * 8);
}

static void
test_picture (void)
{
  gchar *up = write_bmp ("thermalosd-up.bmp", 16, 8, 24, 0, FALSE, fill_red, 0);
  gchar *down = write_bmp ("thermalosd-down.bmp", 16, 8, 24, 0, TRUE,
      fill_red, 0);
  GstHarness *hr = osd_harness ("RGBx", W, H);
  GstBuffer *out;
  gchar *file;

  g_object_set (hr->element, "picture-file", up, "picture-x", 40,
      "picture-y", 30, NULL);
  g_object_get (hr->element, "picture-file", &file, NULL);
  g_assert_cmpstr (file, ==, up);
  g_free (file);
  out = gst_harness_push_and_pull (hr, grey_frame ("RGBx", W, H, 0));
  check_picture (out, 40, 30);
  gst_buffer_unref (out);

  /* top-down rows, moved */
  g_object_set (hr->element, "picture-file", down, "picture-x", 101,
      "picture-y", 77, NULL);
  out = gst_harness_push_and_pull (hr, grey_frame ("RGBx", W, H, 1));
  check_picture (out, 101, 77);
  gst_buffer_unref (out);

  /* kept inside the frame */
  g_object_set (hr->element, "picture-x", 1000, "picture-y", 1000, NULL);
  out = gst_harness_push_and_pull (hr, grey_frame ("RGBx", W, H, 2));
  check_picture (out, W - 16, H - 8);
  gst_buffer_unref (out);

  /* none */
  g_object_set (hr->element, "picture-file", NULL, NULL);
  out = gst_harness_push_and_pull (hr, grey_frame ("RGBx", W, H, 3));
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, W, H), ==, 0);
  gst_buffer_unref (out);

  gst_harness_teardown (hr);
  g_unlink (up);
  g_unlink (down);
  g_free (up);
  g_free (down);
}

static gchar *
pop_warning (GstBus * bus)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  GError *err = NULL;
  gchar *text;

  g_assert_nonnull (msg);
  gst_message_parse_warning (msg, &err, NULL);
  text = g_strdup (err->message);
  g_error_free (err);
  gst_message_unref (msg);
  return text;
}

static void
test_picture_refused (void)
{
  gchar *good = write_bmp ("thermalosd-good.bmp", 16, 8, 24, 0, FALSE,
      fill_red, 0);
  struct
  {
    gchar *path;
    const gchar *reason;
  } bad[] = {
    {write_bmp ("thermalosd-32.bmp", 16, 8, 32, 0, FALSE, fill_red, 0),
        "32 bits per pixel"},
    {write_bmp ("thermalosd-big.bmp", 200, 200, 24, 0, FALSE, fill_red, 0),
        "200x200"},
    {write_bmp ("thermalosd-129.bmp", 129, 4, 24, 0, TRUE, fill_red, 0),
        "129x4"},
    {write_bmp ("thermalosd-rle.bmp", 16, 8, 24, 1, FALSE, fill_red, 0),
        "compressed"},
    {write_bmp ("thermalosd-cut.bmp", 16, 8, 24, 0, FALSE, fill_red, 200),
        "truncated"},
    {write_bmp ("thermalosd-hdr.bmp", 16, 8, 24, 0, FALSE, fill_red, 30),
        "truncated"},
    {g_build_filename (g_get_tmp_dir (), "thermalosd-text.bmp", NULL),
        "not a BMP"},
    {g_build_filename (g_get_tmp_dir (), "thermalosd-missing.bmp", NULL),
        "cannot open"},
  };
  GstHarness *hr = osd_harness ("RGBx", W, H);
  GstBus *bus = gst_bus_new ();
  GstBuffer *out;
  guint i;

  g_assert_true (g_file_set_contents (bad[6].path, "hello, world\n", -1,
          NULL));
  g_unlink (bad[7].path);
  gst_element_set_bus (hr->element, bus);

  /* on a fresh element: refused, nothing drawn */
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    gchar *file, *warning;

    g_object_set (hr->element, "picture-file", bad[i].path, NULL);
    warning = pop_warning (bus);
    g_test_message ("%s: %s", bad[i].path, warning);
    g_assert_nonnull (strstr (warning, bad[i].reason));
    g_free (warning);
    g_object_get (hr->element, "picture-file", &file, NULL);
    g_assert_null (file);
  }
  out = gst_harness_push_and_pull (hr, grey_frame ("RGBx", W, H, 0));
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, W, H), ==, 0);
  gst_buffer_unref (out);

  /* with a picture: it stays */
  g_object_set (hr->element, "picture-file", good, "picture-x", 40,
      "picture-y", 30, NULL);
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING));
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    gchar *file;

    g_object_set (hr->element, "picture-file", bad[i].path, NULL);
    g_free (pop_warning (bus));
    g_object_get (hr->element, "picture-file", &file, NULL);
    g_assert_cmpstr (file, ==, good);
    g_free (file);
    out = gst_harness_push_and_pull (hr, grey_frame ("RGBx", W, H, 1 + i));
    check_picture (out, 40, 30);
    gst_buffer_unref (out);
  }

  gst_element_set_bus (hr->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (hr);
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_unlink (bad[i].path);
    g_free (bad[i].path);
  }
  g_unlink (good);
  g_free (good);
}

static GstBuffer *
cache_frame (gint n, gdouble hot_max, gdouble range_max)
{
  GstBuffer *in = grey_frame ("RGBx", W, H, n);
  GstThermalMeasureMeta *mm = add_rules (in);

  mm->rules[0].max = hot_max;
  gst_buffer_add_thermal_palette_meta (in, TC_PALETTE_IRONBOW, 20.0,
      range_max, FALSE);
  return in;
}

static void
test_cache (void)
{
  GstHarness *hr = osd_harness ("RGBx", W, H);
  GstBuffer *out, *first;
  guint64 r0, r1;

  g_object_set (hr->element, "show-ruler", TRUE, "camera-name", "Line 3",
      "text-lines", "Hall B\nConveyor 2", "show-scene", TRUE, NULL);
  first = gst_harness_push_and_pull (hr, cache_frame (0, 80.0, 40.0));
  r0 = renders (hr);
  /* 4 shapes, 2 scene markers, 4 + 2 labels, the ruler, 3 lines */
  g_assert_cmpuint (r0, ==, 16);

  /* the same again: nothing drawn, the same picture */
  out = gst_harness_push_and_pull (hr, cache_frame (1, 80.0, 40.0));
  g_assert_cmpuint (renders (hr), ==, r0);
  {
    GstMapInfo a, b;

    g_assert_true (gst_buffer_map (first, &a, GST_MAP_READ));
    g_assert_true (gst_buffer_map (out, &b, GST_MAP_READ));
    g_assert_true (memcmp (a.data, b.data, a.size) == 0);
    gst_buffer_unmap (first, &a);
    gst_buffer_unmap (out, &b);
  }
  gst_buffer_unref (out);

  /* one reading changes: its label only */
  out = gst_harness_push_and_pull (hr, cache_frame (2, 81.0, 40.0));
  r1 = renders (hr);
  g_assert_cmpuint (r1, ==, r0 + 1);
  gst_buffer_unref (out);

  /* the palette range changes: the ruler only */
  out = gst_harness_push_and_pull (hr, cache_frame (3, 81.0, 45.0));
  g_assert_cmpuint (renders (hr), ==, r1 + 1);
  gst_buffer_unref (out);

  /* the camera name changes: that line only */
  g_object_set (hr->element, "camera-name", "Line 4", NULL);
  out = gst_harness_push_and_pull (hr, cache_frame (4, 81.0, 45.0));
  g_assert_cmpuint (renders (hr), ==, r1 + 2);
  gst_buffer_unref (out);

  /* a state change recolours its shape and label */
  {
    GstBuffer *in = cache_frame (5, 81.0, 45.0);

    gst_buffer_get_thermal_measure_meta (in)->rules[1].state =
        GST_THERMAL_STATE_ALARM;
    out = gst_harness_push_and_pull (hr, in);
    g_assert_cmpuint (renders (hr), ==, r1 + 4);
    assert_rgb (out, 160, 168, RED, 0);
    gst_buffer_unref (out);
  }

  gst_buffer_unref (first);
  gst_harness_teardown (hr);
}

static void
test_readings_interval (void)
{
  GstHarness *hr = osd_harness ("RGBx", W, H);
  guint64 r0;
  gint i;

  g_object_set (hr->element, "readings-interval", 1000, NULL);
  gst_buffer_unref (gst_harness_push_and_pull (hr, cache_frame (0, 80.0,
              40.0)));
  r0 = renders (hr);
  /* readings that change on every frame: redrawn once a second */
  for (i = 1; i < 50; i++)
    gst_buffer_unref (gst_harness_push_and_pull (hr, cache_frame (i,
                80.0 + 0.1 * i, 40.0)));
  /* at 1.00 s (frame 25) */
  g_assert_cmpuint (renders (hr), ==, r0 + 1);
  gst_harness_teardown (hr);
}

static void
test_unit (void)
{
  GstHarness *hr = osd_harness ("RGBx", W, H);
  GstBuffer *c, *f, *k;
  GstMapInfo a, b;
  guint64 r0;

  g_object_set (hr->element, "show-ruler", TRUE, NULL);
  c = gst_harness_push_and_pull (hr, cache_frame (0, 80.0, 40.0));
  r0 = renders (hr);
  gst_util_set_object_arg (G_OBJECT (hr->element), "unit", "fahrenheit");
  f = gst_harness_push_and_pull (hr, cache_frame (1, 80.0, 40.0));
  /* the 4 labels and the ruler; not the shapes */
  g_assert_cmpuint (renders (hr), ==, r0 + 5);
  gst_util_set_object_arg (G_OBJECT (hr->element), "unit", "kelvin");
  k = gst_harness_push_and_pull (hr, cache_frame (2, 80.0, 40.0));

  g_assert_true (gst_buffer_map (c, &a, GST_MAP_READ));
  g_assert_true (gst_buffer_map (f, &b, GST_MAP_READ));
  g_assert_true (memcmp (a.data, b.data, a.size) != 0);
  gst_buffer_unmap (f, &b);
  g_assert_true (gst_buffer_map (k, &b, GST_MAP_READ));
  g_assert_true (memcmp (a.data, b.data, a.size) != 0);
  gst_buffer_unmap (k, &b);
  gst_buffer_unmap (c, &a);
  /* the text changed, the shapes did not */
  assert_rgb (f, 31, 210, YELLOW, 0);
  g_assert_cmpuint (count_non_grey (f, W, 64, 60, 160, 116), >, 100);

  gst_buffer_unref (c);
  gst_buffer_unref (f);
  gst_buffer_unref (k);
  gst_harness_teardown (hr);
}

/* what an overlay upstream would attach: a blue 8x8 square at 296,0 */
static void
add_upstream_composition (GstBuffer * buf)
{
  GstBuffer *pixels = gst_buffer_new_allocate (NULL, 8 * 8 * 4, NULL);
  GstVideoOverlayRectangle *rect;
  GstVideoOverlayComposition *comp;
  GstMapInfo map;
  gint i;

  g_assert_true (gst_buffer_map (pixels, &map, GST_MAP_WRITE));
  for (i = 0; i < 64; i++)
    ((guint32 *) map.data)[i] = BLUE;   /* native ARGB = BGRA bytes */
  gst_buffer_unmap (pixels, &map);
  gst_buffer_add_video_meta (pixels, GST_VIDEO_FRAME_FLAG_NONE,
      G_BYTE_ORDER == G_LITTLE_ENDIAN ? GST_VIDEO_FORMAT_BGRA :
      GST_VIDEO_FORMAT_ARGB, 8, 8);
  rect = gst_video_overlay_rectangle_new_raw (pixels, 296, 0, 8, 8,
      GST_VIDEO_OVERLAY_FORMAT_FLAG_NONE);
  comp = gst_video_overlay_composition_new (rect);
  gst_buffer_add_video_overlay_composition_meta (buf, comp);
  gst_video_overlay_composition_unref (comp);
  gst_video_overlay_rectangle_unref (rect);
  gst_buffer_unref (pixels);
}

static void
test_composition_meta (void)
{
  GstHarness *hr = osd_harness_full ("RGBx", W, H,
      "memory:SystemMemory, meta:GstVideoOverlayComposition");
  GstVideoOverlayCompositionMeta *meta;
  GstVideoOverlayComposition *comp;
  GstBuffer *in, *out, *out2, *blended;
  GstCaps *caps;
  GstVideoInfo info;
  GstVideoFrame frame;

  gst_harness_add_propose_allocation_meta (hr,
      GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  g_object_set (hr->element, "show-ruler", TRUE, NULL);
  gst_util_set_object_arg (G_OBJECT (hr->element), "info-position",
      "top-left");
  out = gst_harness_push_and_pull (hr, cache_frame (0, 80.0, 40.0));
  caps = gst_pad_get_current_caps (hr->sinkpad);
  g_assert_true (gst_caps_features_contains (gst_caps_get_features (caps, 0),
          GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION));

  /* attached, not blended */
  meta = gst_buffer_get_video_overlay_composition_meta (out);
  g_assert_nonnull (meta);
  g_assert_cmpuint (gst_video_overlay_composition_n_rectangles
      (meta->overlay), ==, 4 + 4 + 1);
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, W, H), ==, 0);
  comp = meta->overlay;

  /* the same frame again: the same composition */
  out2 = gst_harness_push_and_pull (hr, cache_frame (1, 80.0, 40.0));
  meta = gst_buffer_get_video_overlay_composition_meta (out2);
  g_assert_nonnull (meta);
  g_assert_true (meta->overlay == comp);

  /* what downstream would show */
  blended = gst_buffer_copy_deep (out);
  g_assert_true (gst_video_info_from_caps (&info, caps));
  g_assert_true (gst_video_frame_map (&frame, &info, blended,
          GST_MAP_READWRITE));
  g_assert_true (gst_video_overlay_composition_blend (comp, &frame));
  gst_video_frame_unmap (&frame);
  assert_rgb (blended, 160, 120, RED, 0);
  assert_rgb (blended, 160, 168, GREEN, 0);
  assert_rgb (blended, 311, 48, 0xff000000u |
      tc_palette_rgb (TC_PALETTE_IRONBOW)[765] << 16 |
      tc_palette_rgb (TC_PALETTE_IRONBOW)[766] << 8 |
      tc_palette_rgb (TC_PALETTE_IRONBOW)[767], 0);

  gst_buffer_unref (blended);
  gst_buffer_unref (out);
  gst_buffer_unref (out2);
  gst_caps_unref (caps);

  /* an upstream composition: ours is added to it */
  in = cache_frame (2, 80.0, 40.0);
  add_upstream_composition (in);
  out = gst_harness_push_and_pull (hr, in);
  meta = gst_buffer_get_video_overlay_composition_meta (out);
  g_assert_nonnull (meta);
  g_assert_cmpuint (gst_video_overlay_composition_n_rectangles
      (meta->overlay), ==, 1 + 4 + 4 + 1);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);

  /* downstream takes the caps feature but not the meta: blended, with an
   * upstream composition too */
  hr = osd_harness_full ("RGBx", W, H,
      "memory:SystemMemory, meta:GstVideoOverlayComposition");
  gst_util_set_object_arg (G_OBJECT (hr->element), "info-position",
      "top-left");
  in = cache_frame (0, 80.0, 40.0);
  add_upstream_composition (in);
  out = gst_harness_push_and_pull (hr, in);
  g_assert_null (gst_buffer_get_video_overlay_composition_meta (out));
  assert_rgb (out, 160, 120, RED, 0);
  assert_rgb (out, 300, 5, BLUE, 0);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

static void
test_i420 (void)
{
  gchar *bmp = write_bmp ("thermalosd-i420.bmp", 16, 8, 24, 0, FALSE,
      fill_red, 0);
  GstHarness *hr = osd_harness ("I420", W, H);
  GstBuffer *in = grey_frame ("I420", W, H, 0), *out;
  GstVideoInfo info;
  GstMapInfo map;
  const guint8 *y, *u, *v;

  g_object_set (hr->element, "picture-file", bmp, "picture-x", 200,
      "picture-y", 30, "show-rule-names", FALSE, "show-max-min-avg", FALSE,
      NULL);
  gst_util_set_object_arg (G_OBJECT (hr->element), "info-position",
      "top-left");
  add_rules (in);
  out = gst_harness_push_and_pull (hr, in);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, W, H);
  g_assert_true (gst_buffer_map (out, &map, GST_MAP_READ));
  y = map.data + GST_VIDEO_INFO_PLANE_OFFSET (&info, 0);
  u = map.data + GST_VIDEO_INFO_PLANE_OFFSET (&info, 1);
  v = map.data + GST_VIDEO_INFO_PLANE_OFFSET (&info, 2);
#define Y(x_, y_) y[(y_) * GST_VIDEO_INFO_PLANE_STRIDE (&info, 0) + (x_)]
#define U(x_, y_) \
  u[(y_) / 2 * GST_VIDEO_INFO_PLANE_STRIDE (&info, 1) + (x_) / 2]
#define V(x_, y_) \
  v[(y_) / 2 * GST_VIDEO_INFO_PLANE_STRIDE (&info, 2) + (x_) / 2]
  /* red in the frame's colorimetry (BT.601 limited range for this size):
   * Y 81, U 90, V 240 */
  g_assert_cmpint (ABS (Y (204, 34) - 81), <=, 2);
  g_assert_cmpint (ABS (U (204, 34) - 90), <=, 2);
  g_assert_cmpint (ABS (V (204, 34) - 240), <=, 2);
  /* the alarm line's luma */
  g_assert_cmpint (ABS (Y (160, 119) - 81), <=, 2);
  g_assert_cmpint (ABS (Y (160, 120) - 81), <=, 2);
  /* grey around */
  g_assert_cmpint (Y (190, 34), ==, GREY);
  g_assert_cmpint (U (190, 34), ==, GREY);
  g_assert_cmpint (Y (160, 100), ==, GREY);
#undef Y
#undef U
#undef V
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
  g_unlink (bmp);
  g_free (bmp);
}

static void
test_osd_text (void)
{
  GstHarness *hr = osd_harness ("RGBx", W, H);
  GstBus *bus = gst_bus_new ();
  GstBuffer *out;
  gchar *tz;

  gst_element_set_bus (hr->element, bus);
  g_object_set (hr->element, "camera-name", "L\303\255nea 3 \346\270\251\345"
      "\272\246", "text-lines", "Hall B\\nConveyor 2", "show-date", TRUE,
      "show-week", TRUE, "timezone", "Europe/Paris", NULL);
  gst_util_set_object_arg (G_OBJECT (hr->element), "osd-position",
      "bottom-right");
  out = gst_harness_push_and_pull (hr, grey_frame ("RGBx", W, H, 0));
  /* four lines at the bottom right, nothing elsewhere */
  g_assert_cmpuint (count_non_grey (out, W, W / 2, H - 20, W, H), >, 50);
  g_assert_cmpuint (count_non_grey (out, W, W / 2, H - 80, W, H - 60), >, 50);
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, W, H - 90), ==, 0);
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, W / 4, H), ==, 0);
  gst_buffer_unref (out);

  gst_util_set_object_arg (G_OBJECT (hr->element), "osd-position", "top-left");
  gst_util_set_object_arg (G_OBJECT (hr->element), "time-format", "12h");
  gst_util_set_object_arg (G_OBJECT (hr->element), "date-format",
      "dd-mm-yyyy");
  out = gst_harness_push_and_pull (hr, grey_frame ("RGBx", W, H, 1));
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, W / 2, 20), >, 50);
  /* four lines (their height depends on the fonts: the CJK one that draws
   * the camera name, fonts-noto-cjk for the page, is taller) */
  g_assert_cmpuint (count_non_grey (out, W, 0, 100, W, H), ==, 0);
  gst_buffer_unref (out);

  /* time zones */
  g_object_set (hr->element, "timezone", "+05:30", NULL);
  g_object_set (hr->element, "timezone", "UTC", NULL);
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING));
  g_object_set (hr->element, "timezone", "Mars/Olympus_Mons", NULL);
  g_free (pop_warning (bus));
  g_object_get (hr->element, "timezone", &tz, NULL);
  g_assert_cmpstr (tz, ==, "UTC");
  g_free (tz);
  out = gst_harness_push_and_pull (hr, grey_frame ("RGBx", W, H, 2));
  g_assert_cmpuint (count_non_grey (out, W, 0, 0, W / 2, 20), >, 50);
  gst_buffer_unref (out);

  gst_element_set_bus (hr->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (hr);
}

static GstHarness *
matching_harness (const gchar * format, const gchar * extra,
    const gchar * features)
{
  GstHarness *hr = gst_harness_new ("thermalosd");
  gchar *src = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=25/1%s", format, W, H, extra);
  gchar *sink = g_strdup_printf ("video/x-raw%s%s%s,format=%s,width=%d,"
      "height=%d,framerate=25/1%s", features ? "(" : "",
      features ? features : "", features ? ")" : "", format, W, H, extra);

  gst_harness_set_src_caps_str (hr, src);
  gst_harness_set_sink_caps_str (hr, sink);
  g_free (src);
  g_free (sink);
  if (features)
    gst_harness_add_propose_allocation_meta (hr,
        GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  g_object_set (hr->element, "show-date", FALSE, "show-ruler", TRUE,
      "camera-name", "Line 3", "text-lines", "\346\270\251\345\272\246", NULL);
  return hr;
}

/* The element blends its pieces itself (only where they are not
 * transparent); it must give what gst_video_overlay_composition_blend()
 * gives with the same composition. */
static void
test_blend_matches_gst (void)
{
  static const gchar *formats[] = {
    "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA", "ARGB", "ABGR", "RGB",
    "BGR", "I420", "YV12", "NV12", "NV21", "Y41B", "Y42B", "Y444", "NV16",
    "NV24", "AYUV", "YUY2", "UYVY", "YVYU", "v308", "RGB16", "GRAY8"
  };
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    GstVideoFormat fmt = gst_video_format_from_string (formats[f]);
    const GstVideoFormatInfo *finfo = gst_video_format_get_info (fmt);
    gboolean yuv = GST_VIDEO_FORMAT_INFO_IS_YUV (finfo);
    /* the overlay's YUV pixels are BT.709 (what GStreamer converts to) */
    const gchar *extra = yuv ? ",colorimetry=bt709" : "";
    GstHarness *ha = matching_harness (formats[f], extra,
        "memory:SystemMemory, meta:GstVideoOverlayComposition");
    GstHarness *hb = matching_harness (formats[f], extra, NULL);
    GstBuffer *attached, *ref, *in, *out;
    GstVideoOverlayCompositionMeta *meta;
    GstCaps *caps;
    GstVideoInfo info;
    GstVideoFrame fa, fb;
    guint8 *la = g_malloc (W * 8), *lb = g_malloc (W * 8);
    gint x, y, c, max_diff[4] = { 0, }, n_diff[4] = { 0, };
    gdouble sum_diff[4] = { 0, };

    attached = gst_harness_push_and_pull (ha, cache_frame (0, 80.0, 40.0));
    meta = gst_buffer_get_video_overlay_composition_meta (attached);
    g_assert_nonnull (meta);
    caps = gst_pad_get_current_caps (hb->srcpad);
    g_assert_true (gst_video_info_from_caps (&info, caps));
    gst_caps_unref (caps);
    ref = grey_frame (formats[f], W, H, 0);
    g_assert_true (gst_video_frame_map (&fa, &info, ref, GST_MAP_READWRITE));
    /* grey, opaque, or half transparent in formats with alpha */
    for (x = 0; x < W; x++) {
      la[4 * x] = GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo) ? 128 : 255;
      la[4 * x + 1] = la[4 * x + 2] = la[4 * x + 3] = GREY;
    }
    for (y = 0; y < H; y++)
      finfo->pack_func (finfo, 0, la, W * 4, fa.data, fa.info.stride,
          fa.info.chroma_site, y, W);
    gst_video_frame_unmap (&fa);
    in = gst_buffer_copy_deep (ref);
    g_assert_true (gst_video_frame_map (&fa, &info, ref, GST_MAP_READWRITE));
    g_assert_true (gst_video_overlay_composition_blend (meta->overlay, &fa));

    add_rules (in);
    gst_buffer_add_thermal_palette_meta (in, TC_PALETTE_IRONBOW, 20.0, 40.0,
        FALSE);
    out = gst_harness_push_and_pull (hb, in);
    g_assert_true (gst_video_frame_map (&fb, &info, out, GST_MAP_READ));
    for (y = 0; y < H; y++) {
      finfo->unpack_func (finfo, 0, la, fa.data, fa.info.stride, 0, y, W);
      finfo->unpack_func (finfo, 0, lb, fb.data, fb.info.stride, 0, y, W);
      for (x = 0; x < W; x++)
        for (c = 0; c < 4; c++) {
          gint d = ABS (la[4 * x + c] - lb[4 * x + c]);

          max_diff[c] = MAX (max_diff[c], d);
          sum_diff[c] += d;
          n_diff[c] += d > 8;
        }
    }
    gst_video_frame_unmap (&fa);
    gst_video_frame_unmap (&fb);
    g_test_message ("%s: max (mean) difference A %d (%.3f) %s %d (%.3f) "
        "%s %d (%.3f) %s %d (%.3f)", formats[f], max_diff[0],
        sum_diff[0] / (W * H), yuv ? "Y" : "R", max_diff[1],
        sum_diff[1] / (W * H), yuv ? "U" : "G", max_diff[2],
        sum_diff[2] / (W * H), yuv ? "V" : "B", max_diff[3],
        sum_diff[3] / (W * H));
    /* (subsampled chroma differs: GStreamer keeps the blend of one pixel of
     * each block, the element the blend of the block's mean) */
    for (c = GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo) ? 0 : 1; c < 4; c++) {
      if (c >= 2 && (GST_VIDEO_FORMAT_INFO_W_SUB (finfo, 1) ||
              GST_VIDEO_FORMAT_INFO_H_SUB (finfo, 1)))
        continue;
      g_assert_cmpfloat (sum_diff[c] / (W * H), <, 0.5);
      g_assert_cmpint (n_diff[c], <, 20);
    }

    g_free (la);
    g_free (lb);
    gst_buffer_unref (attached);
    gst_buffer_unref (ref);
    gst_buffer_unref (out);
    gst_harness_teardown (ha);
    gst_harness_teardown (hb);
  }
}

/* 640x512, a typical display: four rules (two of them polygons), scene
 * markers, readings near the rules, the ruler, name, date and a text line;
 * the readings change once a second (every 25 frames) */
static gdouble
time_frames (const gchar * format, const gchar * features, guint64 * n_renders)
{
  static const gdouble poly_a[][2] = {
    {0.05, 0.1}, {0.45, 0.1}, {0.45, 0.45}, {0.05, 0.45}
  };
  static const gdouble poly_b[][2] = {
    {0.5, 0.55}, {0.85, 0.5}, {0.9, 0.9}, {0.7, 0.7}, {0.55, 0.95}
  };
  static const gdouble line[][2] = { {0.1, 0.6}, {0.45, 0.9} };
  static const gdouble spot[][2] = { {0.7, 0.2} };
  GstHarness *hr = osd_harness_full (format, 640, 512, features);
  gint64 total = 0;
  guint64 r0;
  gint i, n = 250;

  if (features)
    gst_harness_add_propose_allocation_meta (hr,
        GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  g_object_set (hr->element, "show-ruler", TRUE, "show-scene", TRUE,
      "show-date", TRUE, "camera-name", "Line 3", "text-lines", "Kiln 2",
      "readings-interval", 1000, NULL);
  for (i = 0; i < n + 1; i++) {
    GstBuffer *in = grey_frame (format, 640, 512, i), *out;
    GstThermalMeasureMeta *mm = gst_buffer_add_thermal_measure_meta (in);
    gdouble t = 40.0 + (i / 25) * 0.3;
    gint64 t0;

    mm->max = t + 20;
    mm->min = 15.0;
    mm->max_at[0] = mm->max_at[1] = 0.3;
    mm->min_at[0] = mm->min_at[1] = 0.8;
    add_rule (mm, 1, "kiln", GST_THERMAL_RULE_POLYGON,
        GST_THERMAL_STATE_NORMAL, 4, poly_a, t + 10, t - 10, t);
    add_rule (mm, 2, "belt", GST_THERMAL_RULE_POLYGON,
        GST_THERMAL_STATE_PRE_ALARM, 5, poly_b, t + 5, t - 5, t);
    add_rule (mm, 3, "pipe", GST_THERMAL_RULE_LINE,
        GST_THERMAL_STATE_NORMAL, 2, line, t + 2, t - 2, t);
    add_rule (mm, 4, "motor", GST_THERMAL_RULE_POINT,
        GST_THERMAL_STATE_ALARM, 1, spot, t + 20, t + 20, t + 20);
    gst_buffer_add_thermal_palette_meta (in, TC_PALETTE_IRONBOW, 15.0, 80.0,
        FALSE);
    t0 = g_get_monotonic_time ();
    out = gst_harness_push_and_pull (hr, in);
    /* the first frame sets everything up */
    if (i == 0)
      r0 = renders (hr);
    if (i == 30 && !features && g_str_equal (format, "RGBx"))
      dump (out, 640, 512, "timing");
    else
      total += g_get_monotonic_time () - t0;
    gst_buffer_unref (out);
  }
  *n_renders = renders (hr) - r0;
  gst_harness_teardown (hr);
  return total / 1000.0 / n;
}

static void
test_timing (void)
{
  static const struct
  {
    const gchar *format, *features, *what;
  } cases[] = {
    {"RGBx", NULL, "RGBx, blended"},
    {"I420", NULL, "I420, blended"},
    {"RGBx", "memory:SystemMemory, meta:GstVideoOverlayComposition",
        "RGBx, attached as a meta"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    guint64 n;
    gdouble ms = time_frames (cases[i].format, cases[i].features, &n);

    g_test_message ("thermalosd 640x512 %s: %.3f ms per frame "
        "(%" G_GUINT64_FORMAT " pieces redrawn in 250 frames = 10 s)",
        cases[i].what, ms, n);
  }
}

static gpointer
poke (gpointer data)
{
  GstElement *e = data;
  gint i;

  for (i = 0; i < 300; i++) {
    g_object_set (e, "unit", i % 3, "info-position", (i / 3) % 2,
        "show-ruler", i % 2, "show-rules", (i / 7) % 2 == 0,
        "show-rule-names", (i / 5) % 2, "font-size", 8 + i % 20,
        "camera-name", i % 4 ? "cam" : NULL, "text-lines", "a\nb\n\nc",
        "osd-position", i % 4, "alignment", i % 4, "show-scene", i % 3 == 0,
        "show-date", i % 2, "picture-x", i, "readings-interval", i % 3 * 10,
        NULL);
    g_object_set (e, "timezone", i % 2 ? "UTC" : NULL, NULL);
  }
  return NULL;
}

static void
test_property_stress (void)
{
  const gchar *formats[] = { "I420", "RGBx" };
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    GstHarness *hr = osd_harness (formats[f], W, H);
    GThread *t = g_thread_new ("poke", poke, hr->element);
    gint i;

    for (i = 0; i < 200; i++) {
      GstBuffer *in = grey_frame (formats[f], W, H, i);
      GstBuffer *out;

      add_rules (in)->rules[0].max = i;
      gst_buffer_add_thermal_palette_meta (in, i % TC_PALETTE_N, 10.0 + i % 7,
          50.0, i % 2);
      out = gst_harness_push_and_pull (hr, in);
      g_assert_cmpuint (gst_buffer_get_size (out), ==,
          frame_size (formats[f], W, H));
      gst_buffer_unref (out);
    }
    g_thread_join (t);
    gst_harness_teardown (hr);
  }
}

/* labels of rules close together do not cover each other: two lines 8
 * pixels apart (their labels would be placed above each, overlapping), three
 * points side by side (beside each); every label stays in the frame */
static void
test_labels_apart (void)
{
  static const gdouble line_a[][2] = { {0.20, 0.50}, {0.60, 0.50} };
  static const gdouble line_b[][2] = { {0.22, 0.533}, {0.62, 0.533} };
  static const gdouble pt_a[][2] = { {0.30, 0.20} };
  static const gdouble pt_b[][2] = { {0.30, 0.24} };
  static const gdouble pt_c[][2] = { {0.31, 0.28} };
  GstHarness *hr = osd_harness_full ("RGBx", W, H,
      "memory:SystemMemory, meta:GstVideoOverlayComposition");
  GstVideoOverlayCompositionMeta *meta;
  GstBuffer *in, *out;
  GstThermalMeasureMeta *mm;
  gint bx[16], by[16];
  guint bw[16], bh[16], n, i, j, labels = 0;

  gst_harness_add_propose_allocation_meta (hr,
      GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  in = grey_frame ("RGBx", W, H, 0);
  mm = gst_buffer_add_thermal_measure_meta (in);
  add_rule (mm, 1, "upper", GST_THERMAL_RULE_LINE, GST_THERMAL_STATE_ALARM, 2,
      line_a, 80.0, 20.0, 50.0);
  add_rule (mm, 2, "lower", GST_THERMAL_RULE_LINE, GST_THERMAL_STATE_NORMAL, 2,
      line_b, 30.0, 20.0, 25.0);
  add_rule (mm, 3, "p1", GST_THERMAL_RULE_POINT, GST_THERMAL_STATE_NORMAL, 1,
      pt_a, 25.0, 25.0, 25.0);
  add_rule (mm, 4, "p2", GST_THERMAL_RULE_POINT, GST_THERMAL_STATE_NORMAL, 1,
      pt_b, 26.0, 26.0, 26.0);
  add_rule (mm, 5, "p3", GST_THERMAL_RULE_POINT, GST_THERMAL_STATE_NORMAL, 1,
      pt_c, 27.0, 27.0, 27.0);
  out = gst_harness_push_and_pull (hr, in);
  meta = gst_buffer_get_video_overlay_composition_meta (out);
  g_assert_nonnull (meta);
  n = gst_video_overlay_composition_n_rectangles (meta->overlay);
  g_assert_cmpuint (n, <=, G_N_ELEMENTS (bx));
  /* the pieces are the 5 shapes then the 5 labels (layout order) */
  g_assert_cmpuint (n, ==, 10);
  for (i = 0; i < n; i++) {
    gst_video_overlay_rectangle_get_render_rectangle
        (gst_video_overlay_composition_get_rectangle (meta->overlay, i),
        &bx[i], &by[i], &bw[i], &bh[i]);
    g_test_message ("rectangle %u: %d,%d %ux%u", i, bx[i], by[i], bw[i], bh[i]);
    g_assert_cmpint (bx[i], >=, 0);
    g_assert_cmpint (by[i], >=, 0);
    g_assert_cmpint (bx[i] + (gint) bw[i], <=, W);
    g_assert_cmpint (by[i] + (gint) bh[i], <=, H);
  }
  for (i = 5; i < n; i++) {
    labels++;
    for (j = 5; j < i; j++) {
      gboolean hit = bx[i] < bx[j] + (gint) bw[j] && bx[j] < bx[i] + (gint) bw[i] &&
          by[i] < by[j] + (gint) bh[j] && by[j] < by[i] + (gint) bh[i];

      if (hit)
        g_error ("label %u (%d,%d %ux%u) covers label %u (%d,%d %ux%u)", i, bx[i],
            by[i], bw[i], bh[i], j, bx[j], by[j], bw[j], bh[j]);
    }
  }
  g_assert_cmpuint (labels, ==, 5);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/thermalosd/formats", test_formats);
  g_test_add_func ("/thermalosd/rule-colours", test_rule_colours);
  g_test_add_func ("/thermalosd/readings-top-left", test_readings_top_left);
  g_test_add_func ("/thermalosd/readings-near-target",
      test_readings_near_target);
  g_test_add_func ("/thermalosd/ruler", test_ruler);
  g_test_add_func ("/thermalosd/picture", test_picture);
  g_test_add_func ("/thermalosd/picture-refused", test_picture_refused);
  g_test_add_func ("/thermalosd/cache", test_cache);
  g_test_add_func ("/thermalosd/readings-interval", test_readings_interval);
  g_test_add_func ("/thermalosd/unit", test_unit);
  g_test_add_func ("/thermalosd/composition-meta", test_composition_meta);
  g_test_add_func ("/thermalosd/i420", test_i420);
  g_test_add_func ("/thermalosd/blend-matches-gst", test_blend_matches_gst);
  g_test_add_func ("/thermalosd/osd-text", test_osd_text);
  g_test_add_func ("/thermalosd/timing", test_timing);
  g_test_add_func ("/thermalosd/property-stress", test_property_stress);
  g_test_add_func ("/thermalosd/labels-apart", test_labels_apart);
  return g_test_run ();
}
