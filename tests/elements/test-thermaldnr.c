/* thermocam: GstHarness tests of thermaldnr
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "common.h"
#include "tc-dnr.h"

#define W 64
#define H 48
#define BG 30000.0                /* 26.85 C in 0.01 K */

/* a background with a rectangle of another temperature (none when rw = 0) */
typedef struct {
  double bg, hot;
  int rx, ry, rw, rh;
} Scene;

static double
scene_at (const Scene *s, int x, int y)
{
  if (x >= s->rx && x < s->rx + s->rw && y >= s->ry && y < s->ry + s->rh)
    return s->hot;
  return s->bg;
}

static double
gauss (GRand *r)
{
  double u = g_rand_double_range (r, 1e-12, 1.0), v = g_rand_double (r);

  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

/* A frame of @w x @h (rows with GstVideoInfo's stride) of @s plus Gaussian
 * noise of @sigma counts (@r may be NULL for none) */
static GstBuffer *
make_frame (int w, int h, const Scene *s, double sigma, GRand *r)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buf;
  int x, y;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY16_LE, w, h);
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  g_assert_true (gst_video_frame_map (&frame, &info, buf, GST_MAP_WRITE));
  for (y = 0; y < h; y++) {
    guint16 *row = (guint16 *) ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0));

    for (x = 0; x < w; x++) {
      double v = scene_at (s, x, y) + (r ? sigma * gauss (r) : 0.0);

      row[x] = (guint16) CLAMP (lrint (v), 0, 65535);
    }
  }
  gst_video_frame_unmap (&frame);
  return buf;
}

static GstBuffer *
flat_frame (int w, int h, double v)
{
  Scene s = { v, v, 0, 0, 0, 0 };

  return make_frame (w, h, &s, 0.0, NULL);
}

/* the pixels of @buf into @dst (dense rows) */
static void
read_frame (GstBuffer *buf, int w, int h, guint16 *dst)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  int y;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY16_LE, w, h);
  g_assert_cmpuint (gst_buffer_get_size (buf), ==, info.size);
  g_assert_true (gst_video_frame_map (&frame, &info, buf, GST_MAP_READ));
  for (y = 0; y < h; y++)
    memcpy (dst + (gsize) y * w, (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), (gsize) w * 2);
  gst_video_frame_unmap (&frame);
}

/* the mean of @buf over the rectangle x0 <= x < x1, y0 <= y < y1 */
static double
region_mean (GstBuffer *buf, int w, int h, int x0, int y0, int x1, int y1)
{
  guint16 *px = g_new (guint16, (gsize) w * h);
  double s = 0;
  int x, y;

  read_frame (buf, w, h, px);
  for (y = y0; y < y1; y++)
    for (x = x0; x < x1; x++)
      s += px[y * w + x];
  g_free (px);
  return s / ((x1 - x0) * (y1 - y0));
}

static double
frame_mean (GstBuffer *buf, int w, int h)
{
  return region_mean (buf, w, h, 0, 0, w, h);
}

/* whether every pixel of @buf is @v */
static gboolean
all_equal (GstBuffer *buf, int w, int h, guint16 v)
{
  guint16 *px = g_new (guint16, (gsize) w * h);
  gboolean ok = TRUE;
  int i;

  read_frame (buf, w, h, px);
  for (i = 0; i < w * h; i++)
    ok &= px[i] == v;
  g_free (px);
  return ok;
}

static void
set_caps (GstHarness *h, int w, int h_, const gchar *scale)
{
  gchar *caps = g_strdup_printf ("video/x-raw,format=GRAY16_LE,width=%d,"
      "height=%d,framerate=25/1%s%s", w, h_, scale ? ",temperature-scale=(double)" : "",
      scale ? scale : "");

  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
}

/* an element in @mode ("off", "normal", "expert"); the levels as given (-1:
 * the default) */
static GstHarness *
dnr_harness (const gchar *mode, int level, int spatial, int temporal)
{
  GstHarness *h = gst_harness_new ("thermaldnr");

  gst_util_set_object_arg (G_OBJECT (h->element), "mode", mode);
  if (level >= 0)
    g_object_set (h->element, "level", level, NULL);
  if (spatial >= 0)
    g_object_set (h->element, "spatial-level", spatial, NULL);
  if (temporal >= 0)
    g_object_set (h->element, "temporal-level", temporal, NULL);
  set_caps (h, W, H, "0.01");
  return h;
}

static void
test_off_is_passthrough (void)
{
  const struct { const gchar *mode; int level, spatial, temporal; } c[] = {
    {"off", -1, -1, -1}, {"normal", 0, 100, 100}, {"expert", 100, 0, 0},
  };
  GRand *r = g_rand_new_with_seed (1);
  Scene s = { BG, BG + 1000, 20, 12, 24, 24 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (c); i++) {
    GstHarness *h = dnr_harness (c[i].mode, c[i].level, c[i].spatial, c[i].temporal);
    GstBuffer *in = make_frame (W, H, &s, 5.0, r), *out;
    GstMapInfo a, b;
    GstCaps *caps;

    out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    g_assert_true (out == in);            /* the same buffer, untouched */
    g_assert_true (gst_buffer_map (in, &a, GST_MAP_READ));
    g_assert_true (gst_buffer_map (out, &b, GST_MAP_READ));
    g_assert_cmpmem (a.data, a.size, b.data, b.size);
    gst_buffer_unmap (in, &a);
    gst_buffer_unmap (out, &b);
    gst_buffer_unref (out);
    gst_buffer_unref (in);

    /* the scale travels on */
    caps = gst_pad_get_current_caps (h->sinkpad);
    g_assert_true (gst_structure_has_field (gst_caps_get_structure (caps, 0),
            GST_THERMAL_CAPS_SCALE));
    gst_caps_unref (caps);
    gst_harness_teardown (h);
  }
  g_rand_free (r);
}

/* Per-pixel temporal std (rms over the pixels) and the mean of frames
 * @skip..@n - 1 of a flat noisy scene, in and out. */
static void
temporal_stats (GstHarness *h, int n, int skip, double sigma, guint32 seed,
    double *std_in, double *std_out, double *mean_in, double *mean_out)
{
  GRand *r = g_rand_new_with_seed (seed);
  Scene s = { BG, BG, 0, 0, 0, 0 };
  double *si = g_new0 (double, W * H), *si2 = g_new0 (double, W * H);
  double *so = g_new0 (double, W * H), *so2 = g_new0 (double, W * H);
  guint16 *pi = g_new (guint16, W * H), *po = g_new (guint16, W * H);
  double vi = 0, vo = 0, mi = 0, mo = 0;
  int f, i, m = n - skip;

  for (f = 0; f < n; f++) {
    GstBuffer *in = make_frame (W, H, &s, sigma, r);
    GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_ref (in));

    if (f >= skip) {
      read_frame (in, W, H, pi);
      read_frame (out, W, H, po);
      for (i = 0; i < W * H; i++) {
        si[i] += pi[i];
        si2[i] += (double) pi[i] * pi[i];
        so[i] += po[i];
        so2[i] += (double) po[i] * po[i];
      }
    }
    gst_buffer_unref (in);
    gst_buffer_unref (out);
  }
  for (i = 0; i < W * H; i++) {
    vi += si2[i] / m - (si[i] / m) * (si[i] / m);
    vo += so2[i] / m - (so[i] / m) * (so[i] / m);
    mi += si[i] / m;
    mo += so[i] / m;
  }
  *std_in = sqrt (vi / (W * H));
  *std_out = sqrt (vo / (W * H));
  *mean_in = mi / (W * H);
  *mean_out = mo / (W * H);
  g_free (si);
  g_free (si2);
  g_free (so);
  g_free (so2);
  g_free (pi);
  g_free (po);
  g_rand_free (r);
}

static void
test_temporal_reduces_noise (void)
{
  const int levels[] = { 10, 50, 100 };
  double prev = 1.0;
  guint i;

  /* 50 mK NETD: sigma 5 counts at 0.01 K */
  for (i = 0; i < G_N_ELEMENTS (levels); i++) {
    GstHarness *h = dnr_harness ("expert", -1, 0, levels[i]);
    double std_in, std_out, mean_in, mean_out, factor;

    temporal_stats (h, 200, 30, 5.0, 7, &std_in, &std_out, &mean_in, &mean_out);
    factor = std_in / std_out;
    g_test_message ("temporal level %d: temporal std %.3f -> %.3f counts "
        "(%.2fx), mean %.3f -> %.3f", levels[i], std_in, std_out, factor,
        mean_in, mean_out);
    g_assert_cmpfloat (fabs (mean_out - mean_in), <, 0.5);
    g_assert_cmpfloat (factor, >, prev);        /* stronger with the level */
    if (levels[i] == 50)
      g_assert_cmpfloat (factor, >, 2.0);
    if (levels[i] == 100)
      g_assert_cmpfloat (factor, >, 4.0);
    prev = factor;
    gst_harness_teardown (h);
  }

  /* normal mode: the spatial filter on top */
  {
    GstHarness *h = dnr_harness ("normal", 50, -1, -1);
    double std_in, std_out, mean_in, mean_out;

    temporal_stats (h, 200, 30, 5.0, 8, &std_in, &std_out, &mean_in, &mean_out);
    g_test_message ("normal level 50: temporal std %.3f -> %.3f counts (%.2fx), "
        "mean %.3f -> %.3f", std_in, std_out, std_in / std_out, mean_in, mean_out);
    g_assert_cmpfloat (fabs (mean_out - mean_in), <, 0.5);
    g_assert_cmpfloat (std_in / std_out, >, 4.0);
    gst_harness_teardown (h);
  }
}

/* a 5 K step passes at once; a 0.1 K change (noise-sized) is smoothed */
static void
test_step_passes_through (void)
{
  GstHarness *h = dnr_harness ("normal", 50, -1, -1);
  GRand *r = g_rand_new_with_seed (11);
  Scene s = { BG, BG, 0, 0, 0, 0 };
  GstBuffer *out;
  double m;
  int f;

  for (f = 0; f < 30; f++)
    gst_buffer_unref (gst_harness_push_and_pull (h, make_frame (W, H, &s, 5.0, r)));
  s.bg = s.hot = BG + 500;
  for (f = 0; f < 3; f++) {
    out = gst_harness_push_and_pull (h, make_frame (W, H, &s, 5.0, r));
    m = frame_mean (out, W, H);
    g_test_message ("frame %d after a 500-count step: mean %.2f", f + 1, m - BG);
    g_assert_cmpfloat (fabs (m - (BG + 500)), <, 2.0);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);

  /* noise-free, temporal only: a 10-count change moves by the filter's weight */
  h = dnr_harness ("expert", -1, 0, 50);
  for (f = 0; f < 3; f++)
    gst_buffer_unref (gst_harness_push_and_pull (h, flat_frame (W, H, BG)));
  out = gst_harness_push_and_pull (h, flat_frame (W, H, BG + 10));
  m = frame_mean (out, W, H) - BG;
  g_test_message ("a 10-count change: %.2f after one frame", m);
  g_assert_cmpfloat (m, >, 0.5);
  g_assert_cmpfloat (m, <, 4.0);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_rand_free (r);
}

/* a hot object moving across a noisy scene leaves no trail and does not lag */
static void
test_moving_object_does_not_smear (void)
{
  GstHarness *h = dnr_harness ("normal", 100, -1, -1);
  GRand *r = g_rand_new_with_seed (12);
  Scene s = { BG, BG + 500, 0, 20, 8, 8 };
  int f;

  for (f = 0; f < 20; f++) {
    Scene still = { BG, BG, 0, 0, 0, 0 };

    gst_buffer_unref (gst_harness_push_and_pull (h, make_frame (W, H, &still, 5.0, r)));
  }
  for (f = 0; f < 7; f++) {
    GstBuffer *out;
    double now, trail;

    s.rx = f * 8;
    out = gst_harness_push_and_pull (h, make_frame (W, H, &s, 5.0, r));
    now = region_mean (out, W, H, s.rx + 1, s.ry + 1, s.rx + 7, s.ry + 7) - BG;
    g_assert_cmpfloat (now, >, 495.0);
    if (f > 0) {
      trail = region_mean (out, W, H, s.rx - 7, s.ry + 1, s.rx - 1, s.ry + 7) - BG;
      g_assert_cmpfloat (fabs (trail), <, 3.0);
      if (f == 1)
        g_test_message ("moving object: %.1f counts where it is, %.2f where it was",
            now, trail);
    }
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
  g_rand_free (r);
}

static void
test_spatial_keeps_edges (void)
{
  GstHarness *h = dnr_harness ("expert", -1, 50, 0);
  GRand *r = g_rand_new_with_seed (21);
  /* a rectangle 10 K hotter, x 20..43, y 12..35 */
  Scene s = { BG, BG + 1000, 20, 12, 24, 24 };
  guint16 *pi = g_new (guint16, W * H), *po = g_new (guint16, W * H);
  double si = 0, si2 = 0, so = 0, so2 = 0, contrast[4] = { 0 }, noise_factor;
  int n = 0, f, x, y, k;
  const int frames = 8;

  for (f = 0; f < frames; f++) {
    GstBuffer *in = make_frame (W, H, &s, 5.0, r);
    GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_ref (in));

    read_frame (in, W, H, pi);
    read_frame (out, W, H, po);
    /* noise: the background 2 pixels or more away from the rectangle */
    for (y = 0; y < H; y++)
      for (x = 0; x < W; x++) {
        if (x >= s.rx - 2 && x < s.rx + s.rw + 2 && y >= s.ry - 2 &&
            y < s.ry + s.rh + 2)
          continue;
        si += pi[y * W + x];
        si2 += (double) pi[y * W + x] * pi[y * W + x];
        so += po[y * W + x];
        so2 += (double) po[y * W + x] * po[y * W + x];
        n++;
      }
    /* edges: the step between the last pixel in and the first out, along
     * each side (corners left out) */
    for (k = 2; k < s.rh - 2; k++) {
      int yy = s.ry + k, xx = s.rx + k;

      contrast[0] += po[yy * W + s.rx] - po[yy * W + s.rx - 1];
      contrast[1] += po[yy * W + s.rx + s.rw - 1] - po[yy * W + s.rx + s.rw];
      contrast[2] += po[s.ry * W + xx] - po[(s.ry - 1) * W + xx];
      contrast[3] += po[(s.ry + s.rh - 1) * W + xx] - po[(s.ry + s.rh) * W + xx];
    }
    gst_buffer_unref (in);
    gst_buffer_unref (out);
  }
  noise_factor = sqrt (si2 / n - (si / n) * (si / n)) /
      sqrt (so2 / n - (so / n) * (so / n));
  for (k = 0; k < 4; k++)
    contrast[k] /= (s.rh - 4) * frames * (s.hot - s.bg);
  g_test_message ("spatial level 50: spatial noise %.2fx lower, edge contrast "
      "%.1f%% %.1f%% %.1f%% %.1f%%, mean %.3f -> %.3f", noise_factor,
      100 * contrast[0], 100 * contrast[1], 100 * contrast[2], 100 * contrast[3],
      si / n, so / n);
  g_assert_cmpfloat (noise_factor, >, 2.0);
  g_assert_cmpfloat (fabs (so / n - si / n), <, 0.5);
  for (k = 0; k < 4; k++)
    g_assert_cmpfloat (contrast[k], >, 0.9);
  g_free (pi);
  g_free (po);
  gst_harness_teardown (h);
  g_rand_free (r);
}

static void
test_size_change (void)
{
  GstHarness *h = dnr_harness ("normal", 50, -1, -1);
  const int sizes[][2] = { {32, 24}, {7, 5}, {1, 1}, {2, 3}, {W, H} };
  GRand *r = g_rand_new_with_seed (31);
  Scene s = { BG, BG, 0, 0, 0, 0 };
  guint i;
  int f;

  for (f = 0; f < 5; f++)
    gst_buffer_unref (gst_harness_push_and_pull (h, make_frame (W, H, &s, 5.0, r)));
  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    int w = sizes[i][0], hh = sizes[i][1];
    guint16 v = (guint16) (20000 + 1000 * i);
    GstBuffer *out;

    set_caps (h, w, hh, "0.01");
    /* a new size starts afresh: the first frame comes out as it went in */
    out = gst_harness_push_and_pull (h, flat_frame (w, hh, v));
    g_assert_true (all_equal (out, w, hh, v));
    gst_buffer_unref (out);
    /* and then filters */
    for (f = 0; f < 3; f++)
      gst_buffer_unref (gst_harness_push_and_pull (h, make_frame (w, hh, &s, 5.0, r)));
    gst_buffer_unref (gst_harness_push_and_pull (h, flat_frame (w, hh, v)));
  }
  gst_harness_teardown (h);
  g_rand_free (r);
}

static void
push_segment (GstHarness *h)
{
  GstSegment seg;

  gst_segment_init (&seg, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (h, gst_event_new_segment (&seg)));
}

/* temporal only, noise-free: a 20-count change is smoothed unless the
 * filter starts afresh */
static void
test_discont_and_flush_reset (void)
{
  GstHarness *h = dnr_harness ("expert", -1, 0, 50);
  GstBuffer *in, *out;
  int f;

  for (f = 0; f < 3; f++)
    gst_buffer_unref (gst_harness_push_and_pull (h, flat_frame (W, H, BG)));
  out = gst_harness_push_and_pull (h, flat_frame (W, H, BG + 20));
  g_assert_cmpfloat (frame_mean (out, W, H), <, BG + 10);
  gst_buffer_unref (out);

  /* a discontinuity */
  in = flat_frame (W, H, BG + 20);
  GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT);
  out = gst_harness_push_and_pull (h, in);
  g_assert_true (all_equal (out, W, H, BG + 20));
  gst_buffer_unref (out);
  out = gst_harness_push_and_pull (h, flat_frame (W, H, BG + 40));
  g_assert_cmpfloat (frame_mean (out, W, H), <, BG + 30);
  gst_buffer_unref (out);

  /* a flush */
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  push_segment (h);
  out = gst_harness_push_and_pull (h, flat_frame (W, H, BG + 60));
  g_assert_true (all_equal (out, W, H, BG + 60));
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

static void
test_properties_mid_stream (void)
{
  GstHarness *h = dnr_harness ("expert", -1, 0, 50);
  GstBuffer *in, *out;
  TcDnrParams p50, p100;
  int f;

  for (f = 0; f < 3; f++)
    gst_buffer_unref (gst_harness_push_and_pull (h, flat_frame (W, H, BG)));

  /* off: the same buffer */
  gst_util_set_object_arg (G_OBJECT (h->element), "mode", "off");
  in = flat_frame (W, H, BG + 20);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  g_assert_true (out == in);
  gst_buffer_unref (out);
  gst_buffer_unref (in);

  /* back on: the frames that went by unfiltered make the state stale, so it
   * starts afresh */
  gst_util_set_object_arg (G_OBJECT (h->element), "mode", "expert");
  out = gst_harness_push_and_pull (h, flat_frame (W, H, BG + 20));
  g_assert_true (all_equal (out, W, H, BG + 20));
  gst_buffer_unref (out);

  /* a new level takes effect at the next frame, keeping the state: level 100
   * moves by less than level 50 */
  tc_dnr_params_for_levels (&p50, 0, 50, 0.01);
  tc_dnr_params_for_levels (&p100, 0, 100, 0.01);
  g_assert_cmpint (p100.temporal_weight, <, p50.temporal_weight);
  g_object_set (h->element, "temporal-level", 100, NULL);
  out = gst_harness_push_and_pull (h, flat_frame (W, H, BG + 40));
  g_assert_cmpfloat (frame_mean (out, W, H), >, BG + 20);
  g_assert_cmpfloat (frame_mean (out, W, H), <, BG + 20 + 20 * 0.1);
  gst_buffer_unref (out);

  /* normal mode: level drives both; level 0 is passthrough */
  gst_util_set_object_arg (G_OBJECT (h->element), "mode", "normal");
  g_object_set (h->element, "level", 0, NULL);
  in = flat_frame (W, H, BG);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  g_assert_true (out == in);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  g_object_set (h->element, "level", 30, NULL);
  out = gst_harness_push_and_pull (h, flat_frame (W, H, BG + 5));
  g_assert_true (all_equal (out, W, H, BG + 5));       /* afresh again */
  gst_buffer_unref (out);
  out = gst_harness_push_and_pull (h, flat_frame (W, H, BG + 15));
  g_assert_cmpfloat (frame_mean (out, W, H), <, BG + 12);
  gst_buffer_unref (out);

  /* expert: spatial only, on a frame with a single hot-ish pixel of noise
   * size: it is smoothed */
  gst_util_set_object_arg (G_OBJECT (h->element), "mode", "expert");
  g_object_set (h->element, "spatial-level", 100, "temporal-level", 0, NULL);
  {
    Scene s = { BG, BG + 20, 10, 10, 1, 1 };

    out = gst_harness_push_and_pull (h, make_frame (W, H, &s, 0.0, NULL));
    g_assert_cmpuint (pixel_at (out, W, 10, 10), <, BG + 20);
    g_assert_cmpuint (pixel_at (out, W, 11, 10), >, BG);
    g_assert_cmpuint (pixel_at (out, W, 30, 30), ==, BG);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

/* thresholds are in kelvin: a 50-count step is 5 K at 0.1 K per count (taken
 * at once) but 0.5 K at 0.01 K (partly smoothed); the frame's meta wins over
 * the caps */
static void
test_scale (void)
{
  const struct { const gchar *caps_scale; double meta_scale; gboolean at_once; } c[] = {
    {"0.1", 0.0, TRUE}, {"0.01", 0.0, FALSE}, {NULL, 0.0, FALSE},
    {"0.01", 0.1, TRUE},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (c); i++) {
    GstHarness *h = dnr_harness ("expert", -1, 0, 50);
    GstBuffer *in, *out;
    double m;
    int f;

    set_caps (h, W, H, c[i].caps_scale);
    for (f = 0; f < 4; f++) {
      in = flat_frame (W, H, f < 3 ? 3000 : 3050);
      if (c[i].meta_scale > 0.0) {
        GstThermalMeta *meta = gst_buffer_add_thermal_meta (in);

        meta->kind = GST_THERMAL_FRAME_TEMPERATURE;
        meta->scale = c[i].meta_scale;
      }
      out = gst_harness_push_and_pull (h, in);
      if (c[i].meta_scale > 0.0) {
        g_assert_nonnull (gst_buffer_get_thermal_meta (out));
        g_assert_cmpfloat (gst_buffer_get_thermal_meta (out)->scale, ==,
            c[i].meta_scale);
      }
      if (f == 3) {
        m = frame_mean (out, W, H);
        if (c[i].at_once)
          g_assert_cmpfloat (m, ==, 3050.0);
        else
          g_assert_cmpfloat (m, <, 3045.0);
      }
      gst_buffer_unref (out);
    }
    gst_harness_teardown (h);
  }
}

static gpointer
poke (gpointer data)
{
  GstElement *e = data;
  int i;

  for (i = 0; i < 400; i++)
    g_object_set (e, "mode", i % 3, "level", (i * 7) % 101,
        "spatial-level", (i * 13) % 101, "temporal-level", (i * 17) % 101, NULL);
  return NULL;
}

static void
test_property_stress (void)
{
  GstHarness *h = dnr_harness ("normal", 50, -1, -1);
  GThread *t = g_thread_new ("poke", poke, h->element);
  GRand *r = g_rand_new_with_seed (41);
  Scene s = { BG, BG + 1000, 20, 12, 24, 24 };
  GstVideoInfo info;
  int i;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY16_LE, W, H);
  for (i = 0; i < 200; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h, make_frame (W, H, &s, 5.0, r));
    double m = region_mean (out, W, H, 24, 16, 40, 32);

    g_assert_cmpuint (gst_buffer_get_size (out), ==, info.size);
    g_assert_cmpfloat (fabs (m - s.hot), <, 5.0);
    gst_buffer_unref (out);
  }
  g_thread_join (t);
  g_rand_free (r);
  gst_harness_teardown (h);
}

/* The kernel's SIMD paths (SSE2, AVX2 on x86) give what the plain C gives,
 * bit for bit: odd sizes and strides, extreme values, every level, thresholds
 * at their caps, resets */
static void
test_kernel_paths_agree (void)
{
  const int widths[] = { 1, 2, 3, 5, 8, 9, 15, 16, 17, 18, 31, 33, 40, 100 };
  GRand *r = g_rand_new_with_seed (51);
  int iter, simd, paths = 0;

  for (iter = 0; iter < 300; iter++) {
    int w = widths[g_rand_int_range (r, 0, G_N_ELEMENTS (widths))];
    int h = g_rand_int_range (r, 1, 13), kind = g_rand_int_range (r, 0, 3);
    gsize ss = (gsize) w * 2 + 2 * g_rand_int_range (r, 0, 3);
    gsize ds = (gsize) w * 2 + 2 * g_rand_int_range (r, 0, 3);
    const double scales[] = { 0.1, 0.01, 0.0001 };
    guint32 seed = g_rand_int (r);
    TcDnr *d[3];
    TcDnrParams p;
    guint8 *src = g_malloc (ss * h), *dst[3];
    int f, x, y;

    tc_dnr_params_for_levels (&p, g_rand_int_range (r, 0, 101),
        g_rand_int_range (r, 0, 101), scales[g_rand_int_range (r, 0, 3)]);
    for (simd = 0; simd < 3; simd++) {
      d[simd] = tc_dnr_new ();
      g_assert_true (tc_dnr_configure (d[simd], w, h));
      g_assert_cmpint (tc_dnr_set_simd (d[simd], simd), <=, simd);
      tc_dnr_set_params (d[simd], &p);
      dst[simd] = g_malloc (ds * h);
    }
    paths = MAX (paths, tc_dnr_set_simd (d[2], TC_DNR_SIMD_BEST) + 1);
    for (f = 0; f < 6; f++) {
      GRand *fr = g_rand_new_with_seed (seed + f);

      for (y = 0; y < h; y++)
        for (x = 0; x < w; x++) {
          guint16 v;

          if (kind == 0)
            v = (guint16) g_rand_int_range (fr, 0, 65536);
          else if (kind == 1)
            v = g_rand_boolean (fr) ? 65535 : 0;
          else
            v = (guint16) (30000 + g_rand_int_range (fr, -20, 21) + (x > w / 2 ? f * 300 : 0));
          ((guint16 *) (src + y * ss))[x] = v;
        }
      g_rand_free (fr);
      for (simd = 0; simd < 3; simd++) {
        memset (dst[simd], 0, ds * h);
        tc_dnr_process (d[simd], src, ss, dst[simd], ds);
        if (f == 3)
          tc_dnr_reset (d[simd]);
      }
      for (y = 0; y < h; y++) {
        g_assert_cmpmem (dst[0] + y * ds, w * 2, dst[1] + y * ds, w * 2);
        g_assert_cmpmem (dst[0] + y * ds, w * 2, dst[2] + y * ds, w * 2);
      }
    }
    for (simd = 0; simd < 3; simd++) {
      tc_dnr_free (d[simd]);
      g_free (dst[simd]);
    }
    g_free (src);
  }
  g_test_message ("%d kernel paths on this CPU", paths);
  g_rand_free (r);
}

/* the kernel on extreme values: no overflow */
static void
test_kernel_extremes (void)
{
  const int w = 37, h = 11;
  TcDnr *d = tc_dnr_new ();
  TcDnrParams p;
  guint16 *src = g_new (guint16, w * h), *dst = g_new (guint16, w * h);
  int i;

  g_assert_true (tc_dnr_configure (d, w, h));
  g_assert_false (tc_dnr_configure (d, 0, h));
  tc_dnr_params_for_levels (&p, 100, 100, 0.0001);    /* thresholds at their caps */
  tc_dnr_set_params (d, &p);
  for (i = 0; i < w * h; i++)
    src[i] = 65535;
  tc_dnr_process (d, (const guint8 *) src, w * 2, (guint8 *) dst, w * 2);
  tc_dnr_process (d, (const guint8 *) src, w * 2, (guint8 *) dst, w * 2);
  for (i = 0; i < w * h; i++)
    g_assert_cmpuint (dst[i], ==, 65535);
  /* a checkerboard of the extremes: a 65535-count edge is no noise */
  for (i = 0; i < w * h; i++)
    src[i] = (i % w + i / w) % 2 ? 65535 : 0;
  tc_dnr_reset (d);
  tc_dnr_process (d, (const guint8 *) src, w * 2, (guint8 *) dst, w * 2);
  g_assert_cmpmem (src, w * h * 2, dst, w * h * 2);
  for (i = 0; i < w * h; i++)
    src[i] = (i % w + i / w) % 2 ? 0 : 65535;
  tc_dnr_process (d, (const guint8 *) src, w * 2, (guint8 *) dst, w * 2);
  g_assert_cmpmem (src, w * h * 2, dst, w * h * 2);
  g_free (src);
  g_free (dst);
  tc_dnr_free (d);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/thermaldnr/off-is-passthrough", test_off_is_passthrough);
  g_test_add_func ("/thermaldnr/temporal-reduces-noise", test_temporal_reduces_noise);
  g_test_add_func ("/thermaldnr/step-passes-through", test_step_passes_through);
  g_test_add_func ("/thermaldnr/moving-object-does-not-smear",
      test_moving_object_does_not_smear);
  g_test_add_func ("/thermaldnr/spatial-keeps-edges", test_spatial_keeps_edges);
  g_test_add_func ("/thermaldnr/size-change", test_size_change);
  g_test_add_func ("/thermaldnr/discont-and-flush-reset", test_discont_and_flush_reset);
  g_test_add_func ("/thermaldnr/properties-mid-stream", test_properties_mid_stream);
  g_test_add_func ("/thermaldnr/scale", test_scale);
  g_test_add_func ("/thermaldnr/property-stress", test_property_stress);
  g_test_add_func ("/thermaldnr/kernel-paths-agree", test_kernel_paths_agree);
  g_test_add_func ("/thermaldnr/kernel-extremes", test_kernel_extremes);
  return g_test_run ();
}
