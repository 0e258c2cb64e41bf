/* thermocam: blending drawn overlays into video frames
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tc-blend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define CLAMP(v, lo, hi) ((v) < (lo) ? (lo) : ((v) > (hi) ? (hi) : (v)))

static inline unsigned
div255 (unsigned v)
{
  return (v + 1 + (v >> 8)) >> 8;
}

void
tc_blender_clear (TcBlender *b)
{
  unsigned serial = b->serial;

  free (b->acc);
  memset (b, 0, sizeof (*b));
  b->serial = serial;
}

void
tc_blender_configure (TcBlender *b, const TcPixelLayout *l, double kr, double kb,
    bool full_range, int frame_width)
{
  unsigned serial = b->serial + 1, c;

  tc_blender_clear (b);
  /* (overlays converted for other coefficients convert again) */
  b->serial = serial ? serial : 1;
  if (l->n_components < 3 || l->n_components > 4)
    return;
  for (c = 0; c < l->n_components; c++) {
    if (l->pstride[c] == 0)
      return;
    b->plane[c] = l->plane[c];
    b->poffset[c] = l->poffset[c];
    b->pstride[c] = l->pstride[c];
    b->wsub[c] = l->wsub[c];
    b->hsub[c] = l->hsub[c];
  }
  b->yuv = l->yuv;
  b->alpha = l->n_components > 3;
  /* luma (or R, G, B) and alpha at full resolution; U and V alike */
  if (b->wsub[0] || b->hsub[0] || (b->alpha && (b->wsub[3] || b->hsub[3])))
    return;
  if (b->yuv) {
    double kg = 1.0 - kr - kb, ys, cs, fu, fv;
    int i;

    if (b->wsub[1] != b->wsub[2] || b->hsub[1] != b->hsub[2])
      return;
    if (full_range) {
      b->yoff = 0;
      ys = cs = 255.0;
    } else {
      b->yoff = 16;
      ys = 219.0;
      cs = 224.0;
    }
    fu = cs / 255.0 / (2.0 * (1.0 - kb));
    fv = cs / 255.0 / (2.0 * (1.0 - kr));
    {
      const double yk[3] = { kr * ys / 255.0, kg * ys / 255.0, kb * ys / 255.0 };
      const double uk[3] = { -kr * fu, -kg * fu, (1.0 - kb) * fu };
      const double vk[3] = { (1.0 - kr) * fv, -kg * fv, -kb * fv };

      for (i = 0; i < 3; i++) {
        b->yc[i] = (int) lrint (yk[i] * 65536.0);
        b->uc[i] = (int) lrint (uk[i] * 65536.0);
        b->vc[i] = (int) lrint (vk[i] * 65536.0);
      }
    }
    b->n_acc = ((unsigned) frame_width >> b->wsub[1]) + 2;
    b->acc = calloc (3 * (size_t) b->n_acc, sizeof (int32_t));
    if (!b->acc)
      return;
  } else if (b->wsub[1] || b->hsub[1] || b->wsub[2] || b->hsub[2]) {
    return;
  }
  b->ok = true;
}

bool
tc_blend_find_spans (const uint8_t *argb, size_t stride, int width, int height,
    TcBlendSpan **spans, size_t *n_spans, size_t *n_pixels)
{
  TcBlendSpan *out = NULL;
  size_t n = 0, cap = 0, pixels = 0;
  int x, y;

  *spans = NULL;
  *n_spans = *n_pixels = 0;
  if (width > 65535 || height > 65535)
    return false;
  for (y = 0; y < height; y++) {
    const uint32_t *row = (const uint32_t *) (const void *) (argb + (size_t) y * stride);

    for (x = 0; x < width;) {
      TcBlendSpan span;

      if (!(row[x] >> 24)) {
        x++;
        continue;
      }
      span.y = (uint16_t) y;
      span.x = (uint16_t) x;
      while (x < width && (row[x] >> 24))
        x++;
      span.n = (uint16_t) (x - span.x);
      if (n == cap) {
        size_t ncap = cap ? cap * 2 : 64;
        TcBlendSpan *s = realloc (out, ncap * sizeof (TcBlendSpan));

        if (!s) {
          free (out);
          return false;
        }
        out = s;
        cap = ncap;
      }
      out[n++] = span;
      pixels += span.n;
    }
  }
  *spans = out;
  *n_spans = n;
  *n_pixels = pixels;
  return true;
}

void
tc_blend_to_yuv (const TcBlender *b, const uint8_t *argb, size_t stride,
    const TcBlendSpan *spans, size_t n_spans, uint32_t *out)
{
  size_t i;

  for (i = 0; i < n_spans; i++) {
    const TcBlendSpan *sp = &spans[i];
    const uint32_t *src = (const uint32_t *) (const void *) (argb +
        (size_t) sp->y * stride) + sp->x;
    unsigned k;

    for (k = 0; k < sp->n; k++) {
      uint32_t px = src[k];
      int a = px >> 24, r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, bl = px & 0xff;
      int y = (b->yc[0] * r + b->yc[1] * g + b->yc[2] * bl + b->yoff * 257 * a +
          32768) >> 16;
      int u = (b->uc[0] * r + b->uc[1] * g + b->uc[2] * bl + 32768) >> 16;
      int v = (b->vc[0] * r + b->vc[1] * g + b->vc[2] * bl + 32768) >> 16;

      *out++ = (uint32_t) CLAMP (y, 0, 255) |
          ((uint32_t) (uint8_t) (int8_t) CLAMP (u, -128, 127) << 8) |
          ((uint32_t) (uint8_t) (int8_t) CLAMP (v, -128, 127) << 16) |
          ((uint32_t) a << 24);
    }
  }
}

static inline uint8_t *
comp_ptr (const TcBlender *b, const TcFrame *f, unsigned c, int x, int y)
{
  return f->data[b->plane[c]] + (size_t) (y >> b->hsub[c]) * f->stride[b->plane[c]] +
      b->poffset[c] + (size_t) (x >> b->wsub[c]) * b->pstride[c];
}

/* @a over a destination alpha component */
static inline void
blend_alpha (uint8_t *d, unsigned a)
{
  *d = a + div255 (*d * (255 - a));
}

/* premultiplied @v with alpha @a over the colour component @d whose pixel
 * has alpha @da (before this blend) */
static inline void
blend_comp (uint8_t *d, unsigned v, unsigned a, unsigned da)
{
  if (da == 255) {
    *d = v + div255 (*d * (255 - a));
  } else {
    unsigned rest = div255 (da * (255 - a));
    unsigned out = a + rest;

    *d = out ? MIN (255, (v * 255 + *d * rest + out / 2) / out) : 0;
  }
}

/* the chroma samples of one row of chroma, accumulated from the pixels
 * they cover */
static void
flush_chroma (TcBlender *b, const TcFrame *f, int cy, int cx0, int cx1)
{
  int sub = b->wsub[1] + b->hsub[1], cx;
  uint8_t *pu = comp_ptr (b, f, 1, cx0 << b->wsub[1], cy << b->hsub[1]);
  uint8_t *pv = comp_ptr (b, f, 2, cx0 << b->wsub[2], cy << b->hsub[2]);
  int32_t *e = b->acc + 3 * cx0;

  for (cx = cx0; cx <= cx1; cx++, e += 3, pu += b->pstride[1], pv += b->pstride[2]) {
    int rest, u, v;

    if (!e[0])
      continue;
    /* 255 - the mean alpha of the pixels of this sample */
    rest = 255 - ((e[0] + (1 << sub >> 1)) >> sub);
    u = 128 + ((e[1] + (1 << sub >> 1)) >> sub) + ((int) *pu - 128) * rest / 255;
    v = 128 + ((e[2] + (1 << sub >> 1)) >> sub) + ((int) *pv - 128) * rest / 255;
    *pu = (uint8_t) CLAMP (u, 0, 255);
    *pv = (uint8_t) CLAMP (v, 0, 255);
    e[0] = e[1] = e[2] = 0;
  }
}

void
tc_blend_spans (TcBlender *b, const TcFrame *f, const uint8_t *argb, size_t stride,
    const uint32_t *yuv, const TcBlendSpan *spans, size_t n_spans, int px, int py)
{
  const unsigned ps0 = b->pstride[0], ps1 = b->pstride[1], ps2 = b->pstride[2];
  const unsigned ps3 = b->pstride[3], cw = b->wsub[1];
  int cy = -1, cx0 = 0x7fffffff, cx1 = -1;
  size_t first = 0;             /* index of the span's first pixel */
  size_t i;

  if (!b->ok)
    return;
  for (i = 0; i < n_spans; first += spans[i].n, i++) {
    const TcBlendSpan *sp = &spans[i];
    int y = py + sp->y, x0 = px + sp->x, x1 = x0 + sp->n, x, k;
    int skip;                   /* pixels of the span left of the frame */
    uint8_t *pa;

    if (y < 0 || y >= f->height)
      continue;
    skip = MAX (0, -x0);
    x0 = MAX (x0, 0);
    x1 = MIN (x1, f->width);
    if (x1 <= x0)
      continue;
    pa = b->alpha ? comp_ptr (b, f, 3, x0, y) : NULL;

    if (!b->yuv) {
      /* from the span's first pixel in the frame */
      const uint32_t *src = (const uint32_t *) (const void *) (argb +
          (size_t) sp->y * stride) + sp->x + skip;
      uint8_t *pr = comp_ptr (b, f, 0, x0, y);
      uint8_t *pg = comp_ptr (b, f, 1, x0, y);
      uint8_t *pb = comp_ptr (b, f, 2, x0, y);

      for (k = 0; k < x1 - x0; k++, pr += ps0, pg += ps1, pb += ps2) {
        uint32_t p = src[k];
        unsigned a = p >> 24;

        if (a == 255) {
          *pr = (p >> 16) & 0xff;
          *pg = (p >> 8) & 0xff;
          *pb = p & 0xff;
          if (pa)
            *pa = 255;
        } else {
          unsigned da = pa ? *pa : 255;

          blend_comp (pr, (p >> 16) & 0xff, a, da);
          blend_comp (pg, (p >> 8) & 0xff, a, da);
          blend_comp (pb, p & 0xff, a, da);
          if (pa)
            blend_alpha (pa, a);
        }
        if (pa)
          pa += ps3;
      }
      continue;
    }

    if ((y >> b->hsub[1]) != cy) {
      if (cx1 >= 0)
        flush_chroma (b, f, cy, cx0, cx1);
      cy = y >> b->hsub[1];
      cx0 = 0x7fffffff;
      cx1 = -1;
    }
    {
      const uint32_t *pix = yuv + first + skip;
      int32_t *const acc = b->acc;
      uint8_t *pY = comp_ptr (b, f, 0, x0, y);

      for (x = x0, k = 0; x < x1; x++, k++, pY += ps0) {
        uint32_t v = pix[k];
        unsigned a = v >> 24;
        int32_t *e = acc + 3 * (x >> cw);

        if (a == 255)
          *pY = v & 0xff;
        else
          blend_comp (pY, v & 0xff, a, pa ? *pa : 255);
        if (pa) {
          blend_alpha (pa, a);
          pa += ps3;
        }
        e[0] += a;
        e[1] += (int8_t) ((v >> 8) & 0xff);
        e[2] += (int8_t) ((v >> 16) & 0xff);
      }
      cx0 = MIN (cx0, x0 >> (int) cw);
      cx1 = MAX (cx1, (x1 - 1) >> (int) cw);
    }
  }
  if (b->yuv && cx1 >= 0)
    flush_chroma (b, f, cy, cx0, cx1);
}
