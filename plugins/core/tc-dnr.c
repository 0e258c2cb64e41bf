/* thermocam: digital noise reduction (temporal and spatial)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tc-dnr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* x86: the spatial filter in SSE2 (the x86-64 baseline), and both filters
 * again for AVX2, chosen once at run time.  Elsewhere the plain C below, which
 * the compiler vectorizes (and which the SIMD paths match bit for bit). */
#if !defined(TC_DNR_NO_SIMD) && defined(__GNUC__) && defined(__SSE2__) && \
    (defined(__x86_64__) || defined(__i386__))
#define TC_DNR_X86 1
#include <immintrin.h>
#endif

#define FRAC 6                     /* fractional bits of the temporal accumulator */
#define MAX_SPATIAL_T2 8190        /* 12 weights * t2 / 2 must fit 16 bits */

struct TcDnr {
  int width, height;
  int32_t *acc;                    /* width * height, counts << FRAC */
  uint16_t *rows;                  /* 3 rows of temporal output, the spatial input */
  bool primed;                     /* acc holds the past frames */
  TcDnrParams params;

  /* derived from params */
  bool temporal, spatial;
  int32_t t_weight;                /* new frame weight, 1/256 */
  int32_t t_lo, t_hi;              /* threshold and twice it, counts << FRAC */
  int32_t t_slope;                 /* weight rise per unit above t_lo, 16.16 */
  uint16_t s_t2;                   /* twice the spatial threshold, counts */
  uint16_t s_gain;                 /* strength * 16: (sum * gain) >> 16 = sum * strength / 4096 */

  int simd_max;                    /* the best kernels this CPU runs */
  int simd;                        /* the kernels in use (TC_DNR_SIMD_*) */
};

void
tc_dnr_params_for_levels (TcDnrParams *p, int spatial_level, int temporal_level,
                          double kelvin_per_count)
{
  double scale = kelvin_per_count > 0.0 ? kelvin_per_count : 0.01;
  int s = spatial_level < 0 ? 0 : spatial_level > 100 ? 100 : spatial_level;
  int t = temporal_level < 0 ? 0 : temporal_level > 100 ? 100 : temporal_level;

  if (t > 0) {
    p->temporal_weight = (int) lround (256.0 * exp2 (-(1.0 + 3.0 * t / 100.0)));
    p->temporal_threshold = (0.06 + 0.54 * t / 100.0) / scale;
  } else {
    p->temporal_weight = 256;
    p->temporal_threshold = 0.0;
  }
  if (s > 0) {
    double k = 0.25 + 0.75 * s / 50.0;

    p->spatial_strength = (int) lround (256.0 * (k < 1.0 ? k : 1.0));
    p->spatial_threshold = (0.05 + 0.45 * s / 100.0) / scale;
  } else {
    p->spatial_strength = 0;
    p->spatial_threshold = 0.0;
  }
}

TcDnr *
tc_dnr_new (void)
{
  TcDnr *d = calloc (1, sizeof (TcDnr));
  TcDnrParams p;

  if (!d)
    return NULL;
#ifdef TC_DNR_X86
  d->simd_max = TC_DNR_SIMD_BASELINE;
#ifndef TC_DNR_NO_AVX2
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx2"))
    d->simd_max = TC_DNR_SIMD_BEST;
#endif
#else
  d->simd_max = TC_DNR_SIMD_NONE;
#endif
  d->simd = d->simd_max;
  tc_dnr_params_for_levels (&p, 0, 0, 0.01);
  tc_dnr_set_params (d, &p);
  return d;
}

void
tc_dnr_free (TcDnr *d)
{
  if (!d)
    return;
  free (d->acc);
  free (d->rows);
  free (d);
}

bool
tc_dnr_configure (TcDnr *d, int width, int height)
{
  int32_t *acc;
  uint16_t *rows;

  if (width <= 0 || height <= 0 || (size_t) width * height > (size_t) 1 << 28)
    return false;
  if (d->acc && width == d->width && height == d->height)
    return true;
  acc = malloc (sizeof (int32_t) * (size_t) width * height);
  rows = malloc (sizeof (uint16_t) * 3 * (size_t) width);
  if (!acc || !rows) {
    free (acc);
    free (rows);
    return false;
  }
  free (d->acc);
  free (d->rows);
  d->acc = acc;
  d->rows = rows;
  d->width = width;
  d->height = height;
  d->primed = false;
  return true;
}

void
tc_dnr_set_params (TcDnr *d, const TcDnrParams *p)
{
  bool temporal = p->temporal_weight > 0 && p->temporal_weight < 256 &&
      p->temporal_threshold > 0.0;
  double t0, t2;

  d->params = *p;
  if (!temporal || !d->temporal)
    d->primed = false;
  d->temporal = temporal;
  if (temporal) {
    t0 = p->temporal_threshold * (1 << FRAC);
    d->t_weight = p->temporal_weight;
    d->t_lo = t0 < 1.0 ? 1 : t0 > (1 << 24) ? 1 << 24 : (int32_t) lround (t0);
    d->t_hi = 2 * d->t_lo;
    /* rounded up, so that the weight reaches 256 at t_hi */
    d->t_slope = (int32_t) ((((int64_t) (256 - d->t_weight) << 16) + d->t_lo - 1) / d->t_lo);
  }

  t2 = 2.0 * p->spatial_threshold;
  d->spatial = p->spatial_strength > 0 && t2 >= 0.5;
  if (d->spatial) {
    int s = p->spatial_strength > 256 ? 256 : p->spatial_strength;

    d->s_t2 = t2 > MAX_SPATIAL_T2 ? MAX_SPATIAL_T2 : t2 < 2.0 ? 2 : (uint16_t) lround (t2);
    d->s_gain = (uint16_t) (s * 16);
  }
}

void
tc_dnr_get_params (const TcDnr *d, TcDnrParams *p)
{
  *p = d->params;
}

void
tc_dnr_reset (TcDnr *d)
{
  d->primed = false;
}

int
tc_dnr_set_simd (TcDnr *d, int simd)
{
  d->simd = simd < TC_DNR_SIMD_NONE ? TC_DNR_SIMD_NONE :
      simd > d->simd_max ? d->simd_max : simd;
  return d->simd;
}

static inline const uint16_t *
row_at (const uint8_t *base, size_t stride, int y)
{
  return (const uint16_t *) (base + (size_t) y * stride);
}

/* ---- temporal ---------------------------------------------------------- */

typedef struct {
  int32_t weight, lo, hi, slope;
} TemporalK;

/* The temporal filter over one row: @acc moves towards @in, @out gets the
 * result.  Unprimed, the row starts from @in. */
static inline __attribute__ ((always_inline)) void
temporal_row_body (int32_t *restrict acc, const uint16_t *restrict in,
    uint16_t *restrict out, int width, bool primed, TemporalK k)
{
  int x;

  if (!primed) {
    for (x = 0; x < width; x++) {
      acc[x] = (int32_t) in[x] << FRAC;
      out[x] = in[x];
    }
    return;
  }
  for (x = 0; x < width; x++) {
    int32_t a = acc[x];
    int32_t diff = ((int32_t) in[x] << FRAC) - a;
    int32_t mag = diff < 0 ? -diff : diff;
    int32_t e = (mag < k.hi ? mag : k.hi) - k.lo;
    int32_t wt;

    /* the weight: k.weight for noise, rising to 256 (the new value) at k.hi */
    e = e > 0 ? e : 0;
    wt = k.weight + ((e * k.slope) >> 16);
    wt = wt < 256 ? wt : 256;
    a += (diff * wt + 128) >> 8;
    acc[x] = a;
    out[x] = (uint16_t) ((a + (1 << (FRAC - 1))) >> FRAC);
  }
}

static void
temporal_row (int32_t *restrict acc, const uint16_t *restrict in,
    uint16_t *restrict out, int width, bool primed, TemporalK k)
{
  temporal_row_body (acc, in, out, width, primed, k);
}

#ifdef TC_DNR_X86
/* the same C, vectorized by the compiler for AVX2 */
__attribute__ ((target ("avx2"))) static void
temporal_row_avx2 (int32_t *restrict acc, const uint16_t *restrict in,
    uint16_t *restrict out, int width, bool primed, TemporalK k)
{
  temporal_row_body (acc, in, out, width, primed, k);
}
#endif

/* ---- spatial ----------------------------------------------------------- */

/* a - b, 0 if negative (written with a min, which vectorizes) */
static inline uint16_t
sat_sub (uint16_t a, uint16_t b)
{
  return (uint16_t) (a - (a < b ? a : b));
}

/* min (a, t2 - a) clamped at 0: the tent, peak t2 / 2 at a = t2 / 2 */
static inline uint16_t
tent (uint16_t a, uint16_t t2)
{
  return sat_sub (a, sat_sub (a, sat_sub (t2, a)));
}

/* One output pixel of the 3x3 filter: each neighbour's difference from the
 * centre through the tent, positive and negative parts apart, with the 1-2-1
 * weights.  u, m, b: the rows above, at and below; xl, x, xr: the columns.
 * (Straight-line code, so that the compiler vectorizes it where there is no
 * SIMD version below.) */
#define NEIGHBOUR(v, pos, neg) do { \
    const uint16_t v_ = (v); \
    pos = (uint16_t) (pos + tent (sat_sub (v_, c), t2)); \
    neg = (uint16_t) (neg + tent (sat_sub (c, v_), t2)); \
  } while (0)

static inline __attribute__ ((always_inline)) uint16_t
spatial_px (const uint16_t *u, const uint16_t *m, const uint16_t *b,
    int xl, int x, int xr, uint16_t t2, uint16_t gain)
{
  const uint16_t c = m[x];
  uint16_t p1 = 0, n1 = 0, p2 = 0, n2 = 0;

  NEIGHBOUR (u[xl], p1, n1);
  NEIGHBOUR (u[xr], p1, n1);
  NEIGHBOUR (b[xl], p1, n1);
  NEIGHBOUR (b[xr], p1, n1);
  NEIGHBOUR (u[x], p2, n2);
  NEIGHBOUR (m[xl], p2, n2);
  NEIGHBOUR (m[xr], p2, n2);
  NEIGHBOUR (b[x], p2, n2);
  /* |tent| <= t2 / 2 <= 4095 and the weights add up to 12: no overflow.  The
   * result lies between c and its neighbours. */
  p1 = (uint16_t) (p1 + 2 * p2);
  n1 = (uint16_t) (n1 + 2 * n2);
  return (uint16_t) (c + (uint16_t) (((uint32_t) p1 * gain) >> 16) -
      (uint16_t) (((uint32_t) n1 * gain) >> 16));
}

#undef NEIGHBOUR

#ifdef TC_DNR_X86
/* spatial_px for 8 (SSE2) or 16 (AVX2) pixels at once, the same arithmetic:
 * tent (a) = a -sat (a -sat (t2 -sat a)).  Each covers the columns x0..x1 - 1
 * (1 <= x0, x1 <= width - 1) as far as whole vectors go, and returns where it
 * stopped. */
static inline __m128i
tent_sse2 (__m128i a, __m128i t2)
{
  return _mm_subs_epu16 (a, _mm_subs_epu16 (a, _mm_subs_epu16 (t2, a)));
}

static inline void
neighbour_sse2 (const uint16_t *p, __m128i c, __m128i t2, __m128i *pos, __m128i *neg)
{
  __m128i v = _mm_loadu_si128 ((const __m128i *) (const void *) p);

  *pos = _mm_add_epi16 (*pos, tent_sse2 (_mm_subs_epu16 (v, c), t2));
  *neg = _mm_add_epi16 (*neg, tent_sse2 (_mm_subs_epu16 (c, v), t2));
}

static int
spatial_span_sse2 (const uint16_t *u, const uint16_t *m, const uint16_t *b,
    uint16_t *out, int x0, int x1, uint16_t t2, uint16_t gain)
{
  const __m128i vt2 = _mm_set1_epi16 ((short) t2), vg = _mm_set1_epi16 ((short) gain);
  int x;

  for (x = x0; x + 8 <= x1; x += 8) {
    const __m128i c = _mm_loadu_si128 ((const __m128i *) (const void *) (m + x));
    __m128i p1 = _mm_setzero_si128 (), n1 = p1, p2 = p1, n2 = p1;

    neighbour_sse2 (u + x - 1, c, vt2, &p1, &n1);
    neighbour_sse2 (u + x + 1, c, vt2, &p1, &n1);
    neighbour_sse2 (b + x - 1, c, vt2, &p1, &n1);
    neighbour_sse2 (b + x + 1, c, vt2, &p1, &n1);
    neighbour_sse2 (u + x, c, vt2, &p2, &n2);
    neighbour_sse2 (m + x - 1, c, vt2, &p2, &n2);
    neighbour_sse2 (m + x + 1, c, vt2, &p2, &n2);
    neighbour_sse2 (b + x, c, vt2, &p2, &n2);
    p1 = _mm_add_epi16 (p1, _mm_slli_epi16 (p2, 1));
    n1 = _mm_add_epi16 (n1, _mm_slli_epi16 (n2, 1));
    _mm_storeu_si128 ((__m128i *) (void *) (out + x),
        _mm_sub_epi16 (_mm_add_epi16 (c, _mm_mulhi_epu16 (p1, vg)),
            _mm_mulhi_epu16 (n1, vg)));
  }
  return x;
}

__attribute__ ((target ("avx2"))) static inline __m256i
tent_avx2 (__m256i a, __m256i t2)
{
  return _mm256_subs_epu16 (a, _mm256_subs_epu16 (a, _mm256_subs_epu16 (t2, a)));
}

__attribute__ ((target ("avx2"))) static inline void
neighbour_avx2 (const uint16_t *p, __m256i c, __m256i t2, __m256i *pos, __m256i *neg)
{
  __m256i v = _mm256_loadu_si256 ((const __m256i *) (const void *) p);

  *pos = _mm256_add_epi16 (*pos, tent_avx2 (_mm256_subs_epu16 (v, c), t2));
  *neg = _mm256_add_epi16 (*neg, tent_avx2 (_mm256_subs_epu16 (c, v), t2));
}

__attribute__ ((target ("avx2"))) static int
spatial_span_avx2 (const uint16_t *u, const uint16_t *m, const uint16_t *b,
    uint16_t *out, int x0, int x1, uint16_t t2, uint16_t gain)
{
  const __m256i vt2 = _mm256_set1_epi16 ((short) t2);
  const __m256i vg = _mm256_set1_epi16 ((short) gain);
  int x;

  for (x = x0; x + 16 <= x1; x += 16) {
    const __m256i c = _mm256_loadu_si256 ((const __m256i *) (const void *) (m + x));
    __m256i p1 = _mm256_setzero_si256 (), n1 = p1, p2 = p1, n2 = p1;

    neighbour_avx2 (u + x - 1, c, vt2, &p1, &n1);
    neighbour_avx2 (u + x + 1, c, vt2, &p1, &n1);
    neighbour_avx2 (b + x - 1, c, vt2, &p1, &n1);
    neighbour_avx2 (b + x + 1, c, vt2, &p1, &n1);
    neighbour_avx2 (u + x, c, vt2, &p2, &n2);
    neighbour_avx2 (m + x - 1, c, vt2, &p2, &n2);
    neighbour_avx2 (m + x + 1, c, vt2, &p2, &n2);
    neighbour_avx2 (b + x, c, vt2, &p2, &n2);
    p1 = _mm256_add_epi16 (p1, _mm256_slli_epi16 (p2, 1));
    n1 = _mm256_add_epi16 (n1, _mm256_slli_epi16 (n2, 1));
    _mm256_storeu_si256 ((__m256i *) (void *) (out + x),
        _mm256_sub_epi16 (_mm256_add_epi16 (c, _mm256_mulhi_epu16 (p1, vg)),
            _mm256_mulhi_epu16 (n1, vg)));
  }
  return x;
}
#endif

static void
spatial_row (const uint16_t *restrict u, const uint16_t *restrict m,
    const uint16_t *restrict b, uint16_t *restrict out, int width, uint16_t t2,
    uint16_t gain, int simd)
{
  int x;

  if (width < 3) {
    for (x = 0; x < width; x++)
      out[x] = spatial_px (u, m, b, x > 0 ? x - 1 : 0, x, x + 1 < width ? x + 1 : x,
          t2, gain);
    return;
  }
  out[0] = spatial_px (u, m, b, 0, 0, 1, t2, gain);
  x = 1;
#ifdef TC_DNR_X86
  if (simd >= TC_DNR_SIMD_BEST)
    x = spatial_span_avx2 (u, m, b, out, x, width - 1, t2, gain);
  else if (simd >= TC_DNR_SIMD_BASELINE)
    x = spatial_span_sse2 (u, m, b, out, x, width - 1, t2, gain);
#else
  (void) simd;
#endif
  for (; x < width - 1; x++)
    out[x] = spatial_px (u, m, b, x - 1, x, x + 1, t2, gain);
  out[width - 1] = spatial_px (u, m, b, width - 2, width - 1, width - 1, t2, gain);
}

/* ---- frames ------------------------------------------------------------ */

void
tc_dnr_process (TcDnr *d, const uint8_t *src, size_t src_stride,
                uint8_t *dst, size_t dst_stride)
{
  const int w = d->width, h = d->height;
  const TemporalK k = { d->t_weight, d->t_lo, d->t_hi, d->t_slope };
  void (*trow) (int32_t *restrict, const uint16_t *restrict, uint16_t *restrict,
      int, bool, TemporalK) = temporal_row;
  int y;

  if (!d->acc)
    return;
#ifdef TC_DNR_X86
  if (d->simd >= TC_DNR_SIMD_BEST)
    trow = temporal_row_avx2;
#endif

  if (!d->temporal && !d->spatial) {
    for (y = 0; y < h; y++)
      memcpy (dst + (size_t) y * dst_stride, src + (size_t) y * src_stride,
          (size_t) w * 2);
    return;
  }

  if (!d->spatial) {
    for (y = 0; y < h; y++)
      trow (d->acc + (size_t) y * w, row_at (src, src_stride, y),
          (uint16_t *) (dst + (size_t) y * dst_stride), w, d->primed, k);
    d->primed = true;
    return;
  }

  if (!d->temporal) {
    for (y = 0; y < h; y++)
      spatial_row (row_at (src, src_stride, y > 0 ? y - 1 : 0),
          row_at (src, src_stride, y),
          row_at (src, src_stride, y + 1 < h ? y + 1 : y),
          (uint16_t *) (dst + (size_t) y * dst_stride), w, d->s_t2, d->s_gain,
          d->simd);
    return;
  }

  /* both, fused: the temporal filter runs two rows ahead into a ring of
   * three rows that the spatial filter reads, so its output never goes
   * through memory as a frame */
  {
    uint16_t *ring[3] = { d->rows, d->rows + w, d->rows + 2 * (size_t) w };

    for (y = 0; y < 2 && y < h; y++)
      trow (d->acc + (size_t) y * w, row_at (src, src_stride, y), ring[y], w,
          d->primed, k);
    for (y = 0; y < h; y++) {
      const uint16_t *u = ring[(y > 0 ? y - 1 : 0) % 3];
      const uint16_t *b = ring[(y + 1 < h ? y + 1 : y) % 3];

      spatial_row (u, ring[y % 3], b, (uint16_t *) (dst + (size_t) y * dst_stride),
          w, d->s_t2, d->s_gain, d->simd);
      /* row y - 1 is done with: its slot takes row y + 2 */
      if (y + 2 < h)
        trow (d->acc + (size_t) (y + 2) * w, row_at (src, src_stride, y + 2),
            ring[(y + 2) % 3], w, d->primed, k);
    }
    d->primed = true;
  }
}
