/* thermocam: unit tests for tc-palette (palettes, range, AGC, DDE, outputs)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tc-palette.h"

static const TcPixelFormat packed_formats[] = {
  TC_PIXFMT_RGB, TC_PIXFMT_BGR, TC_PIXFMT_RGBX, TC_PIXFMT_BGRX, TC_PIXFMT_XRGB,
  TC_PIXFMT_XBGR, TC_PIXFMT_RGBA, TC_PIXFMT_BGRA, TC_PIXFMT_ARGB, TC_PIXFMT_ABGR,
};

/* A frame of uint16 counts and a packed output picture, both with padded rows
 * so the strides are exercised. */
typedef struct {
  int w, h;
  guint16 *src;
  gsize src_stride;   /* bytes */
  guint8 *out;
  gsize out_stride;
  int bpp;
} Pic;

static Pic *
pic_new (int w, int h, int bpp)
{
  Pic *p = g_new0 (Pic, 1);

  p->w = w;
  p->h = h;
  p->bpp = bpp;
  p->src_stride = (gsize) (w + 3) * 2;
  p->src = g_malloc0 (p->src_stride * h);
  p->out_stride = (gsize) w * bpp + 12;
  p->out = g_malloc0 (p->out_stride * h);
  return p;
}

static void
pic_free (Pic *p)
{
  g_free (p->src);
  g_free (p->out);
  g_free (p);
}

static void
pic_set (Pic *p, int x, int y, guint16 v)
{
  p->src[y * (p->src_stride / 2) + x] = v;
}

static const guint8 *
pic_px (Pic *p, int x, int y)
{
  return p->out + y * p->out_stride + x * p->bpp;
}

static void
pic_process (TcColorizer *c, Pic *p)
{
  TcPlanes planes = { { p->out, NULL, NULL }, { p->out_stride, 0, 0 } };

  tc_colorizer_process (c, (const guint8 *) p->src, p->src_stride, &planes);
}

/* A colorizer for packed RGB, white-hot (so R is the palette index), linear,
 * manual range. */
static TcColorizer *
rgb_colorizer (int w, int h, guint16 lo, guint16 hi)
{
  TcColorizer *c = tc_colorizer_new ();

  g_assert_nonnull (c);
  g_assert_true (tc_colorizer_configure (c, w, h, TC_PIXFMT_RGB, TC_YUV_BT601));
  tc_colorizer_set_palette (c, TC_PALETTE_WHITE_HOT);
  tc_colorizer_set_agc (c, TC_AGC_LINEAR, 1.0);
  tc_colorizer_set_range (c, FALSE, lo, hi, 0.0);
  return c;
}

/* ------------------------------------------------------------------ tables */

static void
test_palette_tables (void)
{
  for (int p = 0; p < TC_PALETTE_N; p++) {
    const char *nick = tc_palette_nick (p);
    const guint8 *rgb = tc_palette_rgb (p);

    g_assert_nonnull (nick);
    g_assert_nonnull (tc_palette_display_name (p));
    g_assert_nonnull (rgb);
    g_assert_cmpint (tc_palette_from_nick (nick), ==, p);
    /* 256 entries: the last one is readable and the table is not flat */
    int distinct = 0;
    for (int i = 1; i < 256; i++)
      distinct += memcmp (rgb + 3 * i, rgb + 3 * (i - 1), 3) != 0;
    g_assert_cmpint (distinct, >=, 8);
  }
  g_assert_cmpint (tc_palette_from_nick ("no-such"), ==, -1);
  g_assert_cmpint (tc_palette_from_nick (NULL), ==, -1);
  g_assert_null (tc_palette_nick (TC_PALETTE_N));

  static const char *const nicks[] = {
    "white-hot", "black-hot", "ironbow", "rainbow", "rainbow-hc", "lava", "arctic",
    "fusion", "medical", "red-hot", "green-hot", "sepia",
  };
  G_STATIC_ASSERT (G_N_ELEMENTS (nicks) == TC_PALETTE_N);
  for (int p = 0; p < TC_PALETTE_N; p++)
    g_assert_cmpstr (tc_palette_nick (p), ==, nicks[p]);

  const guint8 *wh = tc_palette_rgb (TC_PALETTE_WHITE_HOT);
  const guint8 *bh = tc_palette_rgb (TC_PALETTE_BLACK_HOT);
  for (int i = 0; i < 256; i++) {
    g_assert_cmpint (wh[3 * i], ==, i);
    g_assert_cmpint (wh[3 * i + 1], ==, i);
    g_assert_cmpint (wh[3 * i + 2], ==, i);
    g_assert_cmpint (bh[3 * i], ==, 255 - i);
  }

  /* ironbow: black to near white, through a red-dominated middle */
  const guint8 *ib = tc_palette_rgb (TC_PALETTE_IRONBOW);
  g_assert_cmpint (ib[0] + ib[1] + ib[2], ==, 0);
  g_assert_cmpint (ib[765], >=, 240);
  g_assert_cmpint (ib[766], >=, 220);
  g_assert_cmpint (ib[767], >=, 180);
  g_assert_cmpint (ib[3 * 40 + 2], >, ib[3 * 40]);        /* cold: blue/purple */
  g_assert_cmpint (ib[3 * 170], >, ib[3 * 170 + 2]);      /* warm: red/orange */

  /* rainbow: blue at the cold end, red at the hot end */
  const guint8 *rb = tc_palette_rgb (TC_PALETTE_RAINBOW);
  g_assert_cmpint (rb[2], >, rb[0]);
  g_assert_cmpint (rb[765], >, rb[767] + 100);

  /* red-hot: grey up to three quarters, red above */
  const guint8 *rh = tc_palette_rgb (TC_PALETTE_RED_HOT);
  for (int i = 0; i < 180; i++) {
    g_assert_cmpint (rh[3 * i], ==, rh[3 * i + 1]);
    g_assert_cmpint (rh[3 * i], ==, rh[3 * i + 2]);
  }
  for (int i = 200; i < 256; i++)
    g_assert_cmpint (rh[3 * i], >, rh[3 * i + 1] + 100);

  /* green-hot: green dominates in the middle */
  const guint8 *gh = tc_palette_rgb (TC_PALETTE_GREEN_HOT);
  g_assert_cmpint (gh[3 * 128 + 1], >, 2 * gh[3 * 128]);
  g_assert_cmpint (gh[3 * 128 + 1], >, 2 * gh[3 * 128 + 2]);

  /* medical: flat bands */
  const guint8 *md = tc_palette_rgb (TC_PALETTE_MEDICAL);
  int steps = 0;
  for (int i = 1; i < 256; i++)
    steps += memcmp (md + 3 * i, md + 3 * (i - 1), 3) != 0;
  g_assert_cmpint (steps, >=, 6);
  g_assert_cmpint (steps, <=, 16);
}

static gpointer
palette_thread (gpointer data)
{
  guint8 *copy = data;

  for (int p = 0; p < TC_PALETTE_N; p++)
    memcpy (copy + p * 768, tc_palette_rgb (p), 768);
  return NULL;
}

static void
test_palette_threads (void)
{
  /* Runs first in its own process so the lazy build races here. */
  if (g_test_subprocess ()) {
    GThread *t[4];
    guint8 *copies = g_malloc0 (4 * TC_PALETTE_N * 768);

    for (int i = 0; i < 4; i++)
      t[i] = g_thread_new ("palette", palette_thread, copies + i * TC_PALETTE_N * 768);
    for (int i = 0; i < 4; i++)
      g_thread_join (t[i]);
    for (int i = 1; i < 4; i++)
      g_assert_cmpmem (copies, TC_PALETTE_N * 768, copies + i * TC_PALETTE_N * 768,
                       TC_PALETTE_N * 768);
    g_assert_cmpmem (copies, 768, tc_palette_rgb (TC_PALETTE_WHITE_HOT), 768);
    g_free (copies);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* ------------------------------------------------------------- range / AGC */

static void
test_linear_manual (void)
{
  TcColorizer *c = rgb_colorizer (8, 2, 1000, 2000);
  Pic *p = pic_new (8, 2, 3);
  const guint16 vals[8] = { 1000, 2000, 1500, 500, 2500, 1250, 0, 65535 };
  const int want[8] = { 0, 255, 128, 0, 255, 64, 0, 255 };
  guint16 lo, hi;

  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 8; x++)
      pic_set (p, x, y, vals[x]);
  pic_process (c, p);
  tc_colorizer_last_range (c, &lo, &hi);
  g_assert_cmpint (lo, ==, 1000);
  g_assert_cmpint (hi, ==, 2000);
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 8; x++) {
      const guint8 *px = pic_px (p, x, y);
      g_assert_cmpint (px[0], ==, want[x]);
      g_assert_cmpint (px[1], ==, want[x]);
      g_assert_cmpint (px[2], ==, want[x]);
    }

  /* a coloured palette: lo and hi give the end colours */
  const guint8 *ib = tc_palette_rgb (TC_PALETTE_IRONBOW);
  tc_colorizer_set_palette (c, TC_PALETTE_IRONBOW);
  pic_process (c, p);
  g_assert_cmpmem (pic_px (p, 0, 0), 3, ib, 3);
  g_assert_cmpmem (pic_px (p, 1, 0), 3, ib + 765, 3);
  g_assert_cmpmem (pic_px (p, 2, 1), 3, ib + 3 * 128, 3);

  /* hi <= lo: the span becomes one count */
  tc_colorizer_set_range (c, FALSE, 1500, 1500, 0.0);
  pic_process (c, p);
  tc_colorizer_last_range (c, &lo, &hi);
  g_assert_cmpint (lo, ==, 1500);
  g_assert_cmpint (hi, ==, 1501);
  g_assert_cmpmem (pic_px (p, 0, 0), 3, ib, 3);
  g_assert_cmpmem (pic_px (p, 1, 0), 3, ib + 765, 3);
  tc_colorizer_set_range (c, FALSE, 65535, 100, 0.0);
  pic_process (c, p);
  tc_colorizer_last_range (c, &lo, &hi);
  g_assert_cmpint (lo, ==, 65534);
  g_assert_cmpint (hi, ==, 65535);

  pic_free (p);
  tc_colorizer_free (c);
}

static void
test_linear_monotonic_full_range (void)
{
  /* every count 0..65535 once, automatic range: 0 -> 0, 65535 -> 255, and the
   * mapping never decreases, for both AGC modes */
  TcColorizer *c = rgb_colorizer (256, 256, 0, 0);
  Pic *p = pic_new (256, 256, 3);

  for (int i = 0; i < 65536; i++)
    pic_set (p, i % 256, i / 256, (guint16) i);
  tc_colorizer_set_range (c, TRUE, 0, 0, 0.0);
  for (int mode = 0; mode < 2; mode++) {
    tc_colorizer_set_agc (c, mode ? TC_AGC_PLATEAU : TC_AGC_LINEAR, 0.01);
    pic_process (c, p);
    int prev = 0;
    for (int i = 0; i < 65536; i++) {
      int v = pic_px (p, i % 256, i / 256)[0];
      g_assert_cmpint (v, >=, prev);
      prev = v;
    }
    g_assert_cmpint (pic_px (p, 0, 0)[0], ==, 0);
    g_assert_cmpint (pic_px (p, 255, 255)[0], ==, 255);
    /* uniform histogram: equalisation is (close to) linear */
    g_assert_cmpint (abs (pic_px (p, 0, 128)[0] - 128), <=, 2);
  }
  pic_free (p);
  tc_colorizer_free (c);
}

static int
count_distinct (Pic *p, int y0, int y1)
{
  gboolean seen[256] = { FALSE };
  int n = 0;

  for (int y = y0; y < y1; y++)
    for (int x = 0; x < p->w; x++) {
      int v = pic_px (p, x, y)[0];
      n += !seen[v];
      seen[v] = TRUE;
    }
  return n;
}

static void
test_plateau (void)
{
  /* 85% background, 10% a gentle gradient, 5% a hot object */
  const int w = 200, h = 100;
  TcColorizer *c = rgb_colorizer (w, h, 0, 0);
  Pic *p = pic_new (w, h, 3);
  guint16 lo, hi;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint16 v = 30000;
      if (y >= 85 && y < 95)
        v = (guint16) (30000 + (x * 200) / (w - 1));
      else if (y >= 95)
        v = 40000;
      pic_set (p, x, y, v);
    }
  tc_colorizer_set_range (c, TRUE, 0, 0, 0.0);

  tc_colorizer_set_agc (c, TC_AGC_LINEAR, 1.0);
  pic_process (c, p);
  int n_linear = count_distinct (p, 85, 95);

  tc_colorizer_set_agc (c, TC_AGC_PLATEAU, 0.05);
  pic_process (c, p);
  int n_plateau = count_distinct (p, 85, 95);
  tc_colorizer_last_range (c, &lo, &hi);
  g_assert_cmpint (lo, ==, 30000);
  g_assert_cmpint (hi, ==, 40000);
  g_test_message ("gradient levels: linear %d, plateau %d", n_linear, n_plateau);
  g_assert_cmpint (n_linear, <=, 8);
  g_assert_cmpint (n_plateau, >=, 4 * n_linear);
  /* the range ends keep the palette ends */
  g_assert_cmpint (pic_px (p, 0, 0)[0], ==, 0);
  g_assert_cmpint (pic_px (p, 0, 99)[0], ==, 255);
  /* the gradient is still monotonic */
  for (int x = 1; x < w; x++)
    g_assert_cmpint (pic_px (p, x, 90)[0], >=, pic_px (p, x - 1, 90)[0]);

  /* plateau = 1 is plain equalisation: the dominant background takes most
   * of the index range, leaving the gradient fewer levels */
  tc_colorizer_set_agc (c, TC_AGC_PLATEAU, 1.0);
  pic_process (c, p);
  int n_full = count_distinct (p, 85, 95);
  g_assert_cmpint (n_full, <, n_plateau);

  /* manual range below the scene: everything clamps to the top */
  tc_colorizer_set_agc (c, TC_AGC_PLATEAU, 0.05);
  tc_colorizer_set_range (c, FALSE, 100, 200, 0.0);
  pic_process (c, p);
  g_assert_cmpint (count_distinct (p, 0, h), ==, 1);
  g_assert_cmpint (pic_px (p, 5, 5)[0], ==, 255);

  pic_free (p);
  tc_colorizer_free (c);
}

static void
fill (Pic *p, guint16 lo, guint16 hi)
{
  for (int y = 0; y < p->h; y++)
    for (int x = 0; x < p->w; x++)
      pic_set (p, x, y, (x + y) % 2 ? hi : lo);
}

static void
test_auto_range (void)
{
  TcColorizer *c = rgb_colorizer (8, 8, 0, 0);
  Pic *p = pic_new (8, 8, 3);
  guint16 lo, hi;

  tc_colorizer_set_range (c, TRUE, 0, 0, 0.0);
  fill (p, 1000, 2000);
  pic_process (c, p);
  tc_colorizer_last_range (c, &lo, &hi);
  g_assert_cmpint (lo, ==, 1000);
  g_assert_cmpint (hi, ==, 2000);
  fill (p, 3000, 5000);
  pic_process (c, p);
  tc_colorizer_last_range (c, &lo, &hi);
  g_assert_cmpint (lo, ==, 3000);
  g_assert_cmpint (hi, ==, 5000);

  /* damping 0.5: halfway each frame */
  tc_colorizer_set_range (c, TRUE, 0, 0, 0.5);
  fill (p, 1000, 3000);
  pic_process (c, p);
  tc_colorizer_last_range (c, &lo, &hi);
  g_assert_cmpint (lo, ==, 2000);
  g_assert_cmpint (hi, ==, 4000);
  pic_process (c, p);
  tc_colorizer_last_range (c, &lo, &hi);
  g_assert_cmpint (lo, ==, 1500);
  g_assert_cmpint (hi, ==, 3500);
  for (int i = 0; i < 30; i++)
    pic_process (c, p);
  tc_colorizer_last_range (c, &lo, &hi);
  g_assert_cmpint (lo, ==, 1000);
  g_assert_cmpint (hi, ==, 3000);

  /* reset: the next frame is taken as it is */
  fill (p, 20000, 21000);
  tc_colorizer_reset (c);
  pic_process (c, p);
  tc_colorizer_last_range (c, &lo, &hi);
  g_assert_cmpint (lo, ==, 20000);
  g_assert_cmpint (hi, ==, 21000);

  /* damping 0.9 moves slowly and monotonically towards the new scene */
  tc_colorizer_set_range (c, TRUE, 0, 0, 0.9);
  fill (p, 10000, 11000);
  int prev = 20000;
  for (int i = 0; i < 10; i++) {
    pic_process (c, p);
    tc_colorizer_last_range (c, &lo, &hi);
    g_assert_cmpint (lo, <, prev);
    g_assert_cmpint (lo, >, 10000);
    prev = lo;
  }
  /* a damped range narrower than the frame: the frame's extremes clamp */
  g_assert_cmpint (pic_px (p, 0, 0)[0], ==, 0);

  /* configure forgets the damped range too */
  g_assert_true (tc_colorizer_configure (c, 8, 8, TC_PIXFMT_RGB, TC_YUV_BT601));
  pic_process (c, p);
  tc_colorizer_last_range (c, &lo, &hi);
  g_assert_cmpint (lo, ==, 10000);
  g_assert_cmpint (hi, ==, 11000);

  /* a flat frame: the span is still one count, nothing divides by zero */
  tc_colorizer_set_range (c, TRUE, 0, 0, 0.0);
  fill (p, 7000, 7000);
  for (int mode = 0; mode < 2; mode++) {
    tc_colorizer_set_agc (c, mode ? TC_AGC_PLATEAU : TC_AGC_LINEAR, 0.1);
    pic_process (c, p);
    tc_colorizer_last_range (c, &lo, &hi);
    g_assert_cmpint (lo, ==, 7000);
    g_assert_cmpint (hi, ==, 7001);
    g_assert_cmpint (pic_px (p, 3, 3)[0], ==, 0);
  }

  pic_free (p);
  tc_colorizer_free (c);
}

/* ----------------------------------------------------------------- outputs */

static void
test_packed_formats (void)
{
  const guint16 vals[8] = { 0, 37, 100, 128, 200, 255, 17, 90 };
  const guint8 *pal = tc_palette_rgb (TC_PALETTE_IRONBOW);

  for (guint f = 0; f < G_N_ELEMENTS (packed_formats); f++) {
    TcPixelFormat fmt = packed_formats[f];
    int bpp = fmt == TC_PIXFMT_RGB || fmt == TC_PIXFMT_BGR ? 3 : 4;
    TcColorizer *c = tc_colorizer_new ();
    Pic *p = pic_new (8, 3, bpp);

    g_assert_true (tc_colorizer_configure (c, 8, 3, fmt, TC_YUV_BT601));
    tc_colorizer_set_palette (c, TC_PALETTE_IRONBOW);
    tc_colorizer_set_agc (c, TC_AGC_LINEAR, 1.0);
    /* [0, 255]: the count is the palette index */
    tc_colorizer_set_range (c, FALSE, 0, 255, 0.0);
    for (int y = 0; y < 3; y++)
      for (int x = 0; x < 8; x++)
        pic_set (p, x, y, vals[(x + y) % 8]);
    memset (p->out, 0x5a, p->out_stride * 3);
    pic_process (c, p);

    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 8; x++) {
        const guint8 *rgb = pal + 3 * vals[(x + y) % 8];
        const guint8 *px = pic_px (p, x, y);
        int r, g, b, a = -1;

        switch (fmt) {
          case TC_PIXFMT_RGB: r = 0, g = 1, b = 2; break;
          case TC_PIXFMT_BGR: b = 0, g = 1, r = 2; break;
          case TC_PIXFMT_RGBX: case TC_PIXFMT_RGBA: r = 0, g = 1, b = 2, a = 3; break;
          case TC_PIXFMT_BGRX: case TC_PIXFMT_BGRA: b = 0, g = 1, r = 2, a = 3; break;
          case TC_PIXFMT_XRGB: case TC_PIXFMT_ARGB: a = 0, r = 1, g = 2, b = 3; break;
          case TC_PIXFMT_XBGR: case TC_PIXFMT_ABGR: a = 0, b = 1, g = 2, r = 3; break;
          default: g_assert_not_reached ();
        }
        g_assert_cmpint (px[r], ==, rgb[0]);
        g_assert_cmpint (px[g], ==, rgb[1]);
        g_assert_cmpint (px[b], ==, rgb[2]);
        if (a >= 0)
          g_assert_cmpint (px[a], ==, 255);
      }
      /* the row padding is left alone */
      g_assert_cmpint (p->out[y * p->out_stride + 8 * bpp], ==, 0x5a);
    }
    pic_free (p);
    tc_colorizer_free (c);
  }
}

typedef struct {
  int w, h;
  guint16 *src;
  guint8 *y, *u, *v;
  TcPlanes planes;
} Yuv;

static Yuv *
yuv_new (int w, int h)
{
  Yuv *f = g_new0 (Yuv, 1);

  f->w = w;
  f->h = h;
  f->src = g_new0 (guint16, w * h);
  /* padded strides */
  f->y = g_malloc0 ((gsize) (w + 8) * h);
  f->u = g_malloc0 ((gsize) (w / 2 + 4) * (h / 2));
  f->v = g_malloc0 ((gsize) (w / 2 + 4) * (h / 2));
  f->planes = (TcPlanes) { { f->y, f->u, f->v },
                           { w + 8, w / 2 + 4, w / 2 + 4 } };
  return f;
}

static void
yuv_free (Yuv *f)
{
  g_free (f->src);
  g_free (f->y);
  g_free (f->u);
  g_free (f->v);
  g_free (f);
}

static void
yuv_process (TcColorizer *c, Yuv *f)
{
  tc_colorizer_process (c, (const guint8 *) f->src, f->w * 2, &f->planes);
}

static void
expected_yuv (const guint8 *rgb, double kr, double kb, double *y, double *u, double *v)
{
  double r = rgb[0] / 255.0, g = rgb[1] / 255.0, b = rgb[2] / 255.0;
  double l = kr * r + (1 - kr - kb) * g + kb * b;

  *y = 16 + 219 * l;
  *u = 128 + 112 * (b - l) / (1 - kb);
  *v = 128 + 112 * (r - l) / (1 - kr);
}

static TcColorizer *
yuv_colorizer (int w, int h, TcYuvMatrix m)
{
  TcColorizer *c = tc_colorizer_new ();

  g_assert_true (tc_colorizer_configure (c, w, h, TC_PIXFMT_I420, m));
  tc_colorizer_set_palette (c, TC_PALETTE_IRONBOW);
  tc_colorizer_set_agc (c, TC_AGC_LINEAR, 1.0);
  tc_colorizer_set_range (c, FALSE, 0, 255, 0.0);
  return c;
}

static void
test_i420 (void)
{
  const int w = 8, h = 6;
  const guint8 *pal = tc_palette_rgb (TC_PALETTE_IRONBOW);
  const int index = 170;
  guint8 y601, u601, v601;
  double ey, eu, ev;

  /* BT.601 on a uniform frame */
  TcColorizer *c = yuv_colorizer (w, h, TC_YUV_BT601);
  Yuv *f = yuv_new (w, h);
  for (int i = 0; i < w * h; i++)
    f->src[i] = index;
  yuv_process (c, f);
  expected_yuv (pal + 3 * index, 0.299, 0.114, &ey, &eu, &ev);
  for (int yy = 0; yy < h; yy++)
    for (int x = 0; x < w; x++)
      g_assert_cmpfloat_with_epsilon (f->y[yy * (w + 8) + x], ey, 1.0);
  for (int yy = 0; yy < h / 2; yy++)
    for (int x = 0; x < w / 2; x++) {
      g_assert_cmpfloat_with_epsilon (f->u[yy * (w / 2 + 4) + x], eu, 1.0);
      g_assert_cmpfloat_with_epsilon (f->v[yy * (w / 2 + 4) + x], ev, 1.0);
    }
  y601 = f->y[0];
  u601 = f->u[0];
  v601 = f->v[0];
  /* the ranges are the limited ones */
  g_assert_cmpint (y601, >=, 16);
  g_assert_cmpint (y601, <=, 235);

  /* white-hot: 0 and 255 land on 16 and 235 with neutral chroma */
  tc_colorizer_set_palette (c, TC_PALETTE_WHITE_HOT);
  for (int i = 0; i < w * h; i++)
    f->src[i] = (i / w) < 2 ? 0 : 255;
  yuv_process (c, f);
  g_assert_cmpint (f->y[0], ==, 16);
  g_assert_cmpint (f->y[5 * (w + 8)], ==, 235);
  g_assert_cmpint (f->u[0], ==, 128);
  g_assert_cmpint (f->v[2 * (w / 2 + 4)], ==, 128);
  tc_colorizer_free (c);

  /* BT.709 gives a different answer for a coloured pixel */
  c = yuv_colorizer (w, h, TC_YUV_BT709);
  for (int i = 0; i < w * h; i++)
    f->src[i] = index;
  yuv_process (c, f);
  expected_yuv (pal + 3 * index, 0.2126, 0.0722, &ey, &eu, &ev);
  g_assert_cmpfloat_with_epsilon (f->y[0], ey, 1.0);
  g_assert_cmpfloat_with_epsilon (f->u[0], eu, 1.0);
  g_assert_cmpfloat_with_epsilon (f->v[0], ev, 1.0);
  g_assert_cmpint (abs (f->y[0] - y601) + abs (f->u[0] - u601) + abs (f->v[0] - v601), >=, 4);
  tc_colorizer_free (c);

  /* chroma of a 2x2 block is the mean of its four pixels' chroma */
  c = yuv_colorizer (w, h, TC_YUV_BT601);
  const int ia = 40, ib = 220;
  for (int yy = 0; yy < h; yy++)
    for (int x = 0; x < w; x++)
      f->src[yy * w + x] = (x + yy) % 2 ? ib : ia;
  yuv_process (c, f);
  double ua, va, ub, vb, dummy;
  expected_yuv (pal + 3 * ia, 0.299, 0.114, &dummy, &ua, &va);
  expected_yuv (pal + 3 * ib, 0.299, 0.114, &dummy, &ub, &vb);
  g_assert_cmpfloat_with_epsilon (f->u[w / 2 + 4 + 1], (ua + ub) / 2, 1.5);
  g_assert_cmpfloat_with_epsilon (f->v[w / 2 + 4 + 1], (va + vb) / 2, 1.5);
  tc_colorizer_free (c);
  yuv_free (f);
}

static void
test_configure (void)
{
  TcColorizer *c = tc_colorizer_new ();

  g_assert_false (tc_colorizer_configure (c, 15, 8, TC_PIXFMT_I420, TC_YUV_BT601));
  g_assert_false (tc_colorizer_configure (c, 16, 9, TC_PIXFMT_I420, TC_YUV_BT601));
  g_assert_false (tc_colorizer_configure (c, 0, 8, TC_PIXFMT_RGBX, TC_YUV_BT601));
  g_assert_false (tc_colorizer_configure (c, 8, -2, TC_PIXFMT_RGBX, TC_YUV_BT601));
  g_assert_true (tc_colorizer_configure (c, 16, 8, TC_PIXFMT_I420, TC_YUV_BT601));
  g_assert_true (tc_colorizer_configure (c, 15, 9, TC_PIXFMT_RGBX, TC_YUV_BT601));
  g_assert_true (tc_colorizer_configure (c, 1, 1, TC_PIXFMT_BGR, TC_YUV_BT709));

  /* a 1x1 frame in every mode, DDE included */
  guint16 v = 1234;
  guint8 out[4] = { 0 };
  TcPlanes planes = { { out }, { 4 } };
  for (int dde = 0; dde <= 100; dde += 100)
    for (int mode = 0; mode < 2; mode++) {
      tc_colorizer_set_dde (c, dde);
      tc_colorizer_set_agc (c, mode ? TC_AGC_PLATEAU : TC_AGC_LINEAR, 0.5);
      tc_colorizer_process (c, (const guint8 *) &v, 2, &planes);
    }
  tc_colorizer_free (c);
  tc_colorizer_free (NULL);
}

static void
test_balance (void)
{
  const int w = 6;
  const guint16 vals[6] = { 0, 64, 100, 128, 200, 255 };
  TcColorizer *c = rgb_colorizer (w, 1, 0, 255);
  Pic *p = pic_new (w, 1, 3);

  for (int x = 0; x < w; x++)
    pic_set (p, x, 0, vals[x]);

  struct { double b, k; } cases[] = {
    { 0.0, 1.0 }, { 0.25, 1.0 }, { -0.5, 1.0 }, { 0.0, 2.0 }, { 0.0, 0.5 },
    { 0.0, 0.0 }, { 0.1, 1.5 }, { 1.0, 1.0 }, { -1.0, 2.0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    tc_colorizer_set_balance (c, cases[i].b, cases[i].k);
    pic_process (c, p);
    for (int x = 0; x < w; x++) {
      double e = (vals[x] - 128) * cases[i].k + 128 + cases[i].b * 128;
      e = CLAMP (e, 0, 255);
      g_assert_cmpfloat_with_epsilon (pic_px (p, x, 0)[0], e, 1.0);
    }
  }
  /* contrast 0: one grey, whatever the scene */
  tc_colorizer_set_balance (c, 0.0, 0.0);
  pic_process (c, p);
  for (int x = 0; x < w; x++)
    g_assert_cmpint (pic_px (p, x, 0)[0], ==, 128);

  pic_free (p);
  tc_colorizer_free (c);
}

/* ---------------------------------------------------------------------- DDE */

static void
test_dde (void)
{
  const int w = 32, h = 16;
  TcColorizer *c = rgb_colorizer (w, h, 29000, 31000);
  Pic *off = pic_new (w, h, 3), *on = pic_new (w, h, 3);

  /* flat, with a 10-count step at x = 16 */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      pic_set (off, x, y, x < 16 ? 30000 : 30010);
      pic_set (on, x, y, x < 16 ? 30000 : 30010);
    }
  pic_process (c, off);
  tc_colorizer_set_dde (c, 50);
  pic_process (c, on);

  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++)
      if (x <= 12 || x >= 19)
        g_assert_cmpmem (pic_px (on, x, y), 3, pic_px (off, x, y), 3);
    int before = pic_px (off, 16, y)[0] - pic_px (off, 15, y)[0];
    int after = pic_px (on, 16, y)[0] - pic_px (on, 15, y)[0];
    g_assert_cmpint (before, >=, 1);
    g_assert_cmpint (after, >=, 3 * before);
    /* the edge overshoots on both sides */
    g_assert_cmpint (pic_px (on, 15, y)[0], <, pic_px (off, 15, y)[0]);
    g_assert_cmpint (pic_px (on, 16, y)[0], >, pic_px (off, 16, y)[0]);
  }

  /* stronger DDE, stronger edge */
  tc_colorizer_set_dde (c, 100);
  pic_process (c, on);
  int strong = pic_px (on, 16, 8)[0] - pic_px (on, 15, 8)[0];
  tc_colorizer_set_dde (c, 10);
  pic_process (c, on);
  int weak = pic_px (on, 16, 8)[0] - pic_px (on, 15, 8)[0];
  g_assert_cmpint (strong, >, weak);

  /* a flat frame is left as it is, with plateau AGC too */
  tc_colorizer_set_agc (c, TC_AGC_PLATEAU, 0.1);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      pic_set (off, x, y, 30000);
      pic_set (on, x, y, 30000);
    }
  tc_colorizer_set_dde (c, 0);
  pic_process (c, off);
  tc_colorizer_set_dde (c, 80);
  pic_process (c, on);
  g_assert_cmpmem (on->out, on->out_stride * h, off->out, off->out_stride * h);

  /* a horizontal step too (the vertical running sums) */
  tc_colorizer_set_agc (c, TC_AGC_LINEAR, 1.0);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      pic_set (on, x, y, y < 8 ? 30000 : 30010);
  pic_process (c, on);
  g_assert_cmpint (pic_px (on, 5, 7)[0], <, pic_px (on, 5, 0)[0]);
  g_assert_cmpint (pic_px (on, 5, 8)[0], >, pic_px (on, 5, 15)[0]);
  g_assert_cmpmem (pic_px (on, 5, 0), 3, pic_px (on, 5, 3), 3);
  g_assert_cmpmem (pic_px (on, 5, 12), 3, pic_px (on, 5, 15), 3);

  pic_free (off);
  pic_free (on);
  tc_colorizer_free (c);

  /* I420 with DDE: a flat frame gives the same picture as without */
  Yuv *f = yuv_new (w, h), *g = yuv_new (w, h);
  TcColorizer *cy = yuv_colorizer (w, h, TC_YUV_BT601);
  for (int i = 0; i < w * h; i++)
    f->src[i] = g->src[i] = 100;
  yuv_process (cy, f);
  tc_colorizer_set_dde (cy, 60);
  yuv_process (cy, g);
  g_assert_cmpmem (f->y, (gsize) (w + 8) * h, g->y, (gsize) (w + 8) * h);
  g_assert_cmpmem (f->u, (gsize) (w / 2 + 4) * h / 2, g->u, (gsize) (w / 2 + 4) * h / 2);
  tc_colorizer_free (cy);
  yuv_free (f);
  yuv_free (g);
}

/* ------------------------------------------------------------------- timing */

static void
scene (guint16 *src, int w, int h)
{
  /* a warm background gradient, a few hot and cold objects, sensor noise:
   * about 28 .. 45 C at 0.01 K per count */
  guint32 seed = 12345;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      double t = 30100 + 300.0 * x / w + 150.0 * y / h;
      double dx = x - 200, dy = y - 250, dx2 = x - 480, dy2 = y - 120;
      if (dx * dx + dy * dy < 80 * 80)
        t = 31800 + 1000 * (1 - (dx * dx + dy * dy) / 6400.0);
      if (dx2 * dx2 + dy2 * dy2 < 40 * 40)
        t = 30000 - 500;
      seed = seed * 1664525u + 1013904223u;
      t += (int) (seed >> 28) - 8;
      src[y * w + x] = (guint16) t;
    }
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median_ms (TcColorizer *c, const guint16 *src, int w, const TcPlanes *planes)
{
  enum { N = 100 };
  double t[N];

  for (int i = 0; i < 5; i++)
    tc_colorizer_process (c, (const guint8 *) src, (gsize) w * 2, planes);
  for (int i = 0; i < N; i++) {
    gint64 t0 = g_get_monotonic_time ();
    tc_colorizer_process (c, (const guint8 *) src, (gsize) w * 2, planes);
    t[i] = (g_get_monotonic_time () - t0) / 1000.0;
  }
  qsort (t, N, sizeof (double), cmp_double);
  return (t[N / 2 - 1] + t[N / 2]) / 2;
}

static void
test_timing (void)
{
  const int w = 640, h = 512;
  guint16 *src = g_new (guint16, w * h);
  guint8 *rgbx = g_malloc ((gsize) w * h * 4);
  guint8 *yuv = g_malloc ((gsize) w * h * 3 / 2);
  TcPlanes p_rgbx = { { rgbx }, { (gsize) w * 4 } };
  TcPlanes p_i420 = { { yuv, yuv + w * h, yuv + w * h * 5 / 4 }, { w, w / 2, w / 2 } };
  TcColorizer *c = tc_colorizer_new ();
  double ms;

  scene (src, w, h);
  tc_colorizer_set_palette (c, TC_PALETTE_IRONBOW);
  tc_colorizer_set_range (c, TRUE, 0, 0, 0.9);

  g_assert_true (tc_colorizer_configure (c, w, h, TC_PIXFMT_RGBX, TC_YUV_BT601));
  tc_colorizer_set_agc (c, TC_AGC_PLATEAU, 0.05);
  ms = median_ms (c, src, w, &p_rgbx);
  g_test_message ("640x512 plateau, RGBx: %.3f ms/frame (median of 100)", ms);
  tc_colorizer_set_agc (c, TC_AGC_LINEAR, 1.0);
  ms = median_ms (c, src, w, &p_rgbx);
  g_test_message ("640x512 linear, RGBx: %.3f ms/frame", ms);
  tc_colorizer_set_agc (c, TC_AGC_PLATEAU, 0.05);
  tc_colorizer_set_dde (c, 50);
  ms = median_ms (c, src, w, &p_rgbx);
  g_test_message ("640x512 plateau + DDE 50, RGBx: %.3f ms/frame", ms);
  tc_colorizer_set_dde (c, 0);

  g_assert_true (tc_colorizer_configure (c, w, h, TC_PIXFMT_I420, TC_YUV_BT601));
  tc_colorizer_set_agc (c, TC_AGC_LINEAR, 1.0);
  ms = median_ms (c, src, w, &p_i420);
  g_test_message ("640x512 linear, I420: %.3f ms/frame", ms);
  tc_colorizer_set_agc (c, TC_AGC_PLATEAU, 0.05);
  ms = median_ms (c, src, w, &p_i420);
  g_test_message ("640x512 plateau, I420: %.3f ms/frame", ms);

  /* sanity: the hot object is brighter than the cold one */
  g_assert_cmpint (yuv[250 * w + 200], >, yuv[120 * w + 480]);

  tc_colorizer_free (c);
  g_free (src);
  g_free (rgbx);
  g_free (yuv);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/palette/threads", test_palette_threads);
  g_test_add_func ("/palette/tables", test_palette_tables);
  g_test_add_func ("/palette/linear-manual", test_linear_manual);
  g_test_add_func ("/palette/monotonic-full-range", test_linear_monotonic_full_range);
  g_test_add_func ("/palette/plateau", test_plateau);
  g_test_add_func ("/palette/auto-range", test_auto_range);
  g_test_add_func ("/palette/packed-formats", test_packed_formats);
  g_test_add_func ("/palette/i420", test_i420);
  g_test_add_func ("/palette/configure", test_configure);
  g_test_add_func ("/palette/balance", test_balance);
  g_test_add_func ("/palette/dde", test_dde);
  g_test_add_func ("/palette/timing", test_timing);
  return g_test_run ();
}
