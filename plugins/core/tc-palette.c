/* thermocam: temperature frames to colour pictures (range, AGC, DDE, palettes)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Per frame the work is four passes, none of which allocates:
 *   1. min/max over every pixel (a plain loop gcc vectorises);
 *   2. plateau AGC only: a histogram of a 2x2 subsample of the frame;
 *   3. a LUT from input count to palette index, filled only for the counts
 *      the frame holds ([frame min, frame max]), folding range and AGC;
 *   4. the output pass, out = table[lut[v]], where the 256-entry table is
 *      already in the output layout with brightness/contrast folded in.  When
 *      the frame spans fewer counts than half its pixels, table[lut[v]] is
 *      first composed into a 32-bit LUT for those counts (one load per pixel
 *      less).  I420 packs y | u << 10 | v << 20 in the table, so the four
 *      entries of a 2x2 block add up to the chroma sums in one go.
 *
 * Histogram: the range [lo, hi] is split into at most TC_HIST_MAX_BINS bins of
 * 2^shift counts each, the smallest shift that fits (so one bin per count
 * when the span is at most 1024 counts).  Pixels outside [lo, hi] are not
 * counted.  Every bin is clipped at plateau * (sampled pixels inside the
 * range); the clipped histogram is read as a piecewise linear cumulative
 * distribution F over [lo, hi + 1) and count v gets the index
 * 255 * F(x) / F(end), x = (v - lo) * span / (hi - lo), so lo maps to 0 and
 * hi to 255 exactly, as with linear AGC, and counts in between follow the
 * equalised curve (continuous inside a bin).
 *
 * Brightness/contrast: index' = (index - 128) * contrast + 128 + 128 *
 * brightness, rounded and clamped, folded into the output table.
 *
 * DDE: base = 5x5 box mean (edges replicated; running column sums kept in a
 * row buffer), index = AGC (base) + gain (base) * (pixel - base), with gain =
 * (1 + 0.05 * level) * the slope of the AGC mapping at base (palette steps
 * per count; at least the linear slope 255 / (hi - lo)): the first-order
 * expansion of AGC (pixel) around base, with the detail drawn 1.05x (level 1)
 * to 6x (level 100) steeper.  The detail term saturates at +-TC_DDE_LIMIT
 * steps to keep halos around hot edges in check.
 */
#include "tc-palette.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TC_HIST_MAX_BINS 1024
/* one spare bin collects the samples outside [lo, hi] */
#define TC_HIST_STRIDE (TC_HIST_MAX_BINS + 1)
#define TC_HIST_COPIES 4
#define TC_DDE_RADIUS 2
#define TC_DDE_TAPS ((2 * TC_DDE_RADIUS + 1) * (2 * TC_DDE_RADIUS + 1))
#define TC_DDE_LIMIT 96
#define TC_MAX_DIM 32768

struct TcColorizer
{
  /* configuration */
  int width, height;
  TcPixelFormat fmt;
  TcYuvMatrix matrix;
  bool configured;
  TcPaletteId palette;
  TcAgcMode agc;
  double plateau;
  bool automatic;
  uint16_t man_lo, man_hi;
  double damping;
  int dde;
  double brightness, contrast;

  /* damped automatic range */
  bool have_auto;
  double auto_lo, auto_hi;
  uint16_t last_lo, last_hi;

  /* palette index -> output pixel, balance folded in: the 4 (or first 3)
   * bytes in memory order for packed formats; y | u << 10 | v << 20 for I420
   * (so four entries add up without carries into a block's chroma sums) */
  uint32_t tab[256];

  /* per-frame working storage */
  uint8_t *lut;              /* 65536: input count -> palette index */
  uint32_t *lut32;           /* 65536: input count -> tab[lut[count]] */
  uint32_t *hist;            /* TC_HIST_COPIES * TC_HIST_STRIDE */
  float *bin_base, *bin_slope;  /* TC_HIST_MAX_BINS each */
  uint8_t *idx;              /* 2 rows of palette indices (DDE, I420) */
  uint32_t *colsum;          /* DDE: column sums, edges replicated */
  uint16_t *dde_base;        /* DDE: one row of box means */
  int32_t *dde_detail;       /* DDE: one row of pixel - base, counts */
  int32_t *dde_gain;         /* 65536: count -> detail gain, steps/count 16.16 */
  /* the plateau mapping of the last frame, for the DDE gains */
  bool plateau_ok;
  int hist_shift;
  unsigned hist_nb;
  float hist_xs;
};

/* ---------------------------------------------------------------- palettes */

typedef struct
{
  uint8_t pos, r, g, b;
} TcStop;

typedef struct
{
  const char *nick;
  const char *name;
  const TcStop *stops;
  int n_stops;
  bool banded;   /* medical: one flat band per stop, positions ignored */
} TcPaletteDef;

static const TcStop stops_white_hot[] = {
  { 0, 0, 0, 0 }, { 255, 255, 255, 255 },
};

static const TcStop stops_black_hot[] = {
  { 0, 255, 255, 255 }, { 255, 0, 0, 0 },
};

static const TcStop stops_ironbow[] = {
  { 0, 0, 0, 0 },
  { 36, 24, 0, 82 },
  { 80, 104, 0, 148 },
  { 122, 186, 18, 122 },
  { 160, 226, 62, 44 },
  { 196, 246, 136, 6 },
  { 228, 254, 208, 30 },
  { 255, 255, 250, 214 },
};

static const TcStop stops_rainbow[] = {
  { 0, 0, 0, 160 },
  { 28, 0, 16, 255 },
  { 80, 0, 232, 255 },
  { 128, 0, 224, 24 },
  { 176, 248, 240, 0 },
  { 224, 255, 96, 0 },
  { 255, 224, 0, 0 },
};

/* three rainbow cycles, each brighter than the one before, with a hard step
 * back to blue between cycles so the isotherms stand out */
static const TcStop stops_rainbow_hc[] = {
  { 0, 0, 0, 0 },
  { 16, 0, 0, 176 },
  { 34, 0, 176, 208 },
  { 52, 0, 176, 0 },
  { 70, 208, 200, 0 },
  { 86, 200, 0, 0 },
  { 87, 40, 48, 224 },
  { 104, 40, 208, 240 },
  { 122, 40, 208, 40 },
  { 140, 240, 232, 40 },
  { 170, 240, 40, 40 },
  { 171, 112, 120, 255 },
  { 188, 112, 248, 255 },
  { 206, 112, 248, 112 },
  { 224, 255, 255, 120 },
  { 244, 255, 112, 112 },
  { 255, 255, 255, 255 },
};

static const TcStop stops_lava[] = {
  { 0, 8, 10, 26 },
  { 56, 38, 52, 92 },
  { 104, 112, 44, 70 },
  { 148, 196, 38, 22 },
  { 190, 238, 108, 8 },
  { 226, 255, 196, 44 },
  { 255, 255, 250, 206 },
};

static const TcStop stops_arctic[] = {
  { 0, 0, 4, 36 },
  { 64, 0, 42, 132 },
  { 124, 30, 120, 206 },
  { 168, 132, 200, 240 },
  { 196, 236, 240, 246 },
  { 226, 255, 224, 128 },
  { 255, 255, 186, 30 },
};

static const TcStop stops_fusion[] = {
  { 0, 16, 0, 36 },
  { 56, 70, 0, 136 },
  { 110, 170, 0, 160 },
  { 158, 236, 48, 70 },
  { 204, 255, 140, 10 },
  { 255, 255, 242, 130 },
};

static const TcStop stops_medical[] = {
  { 0, 0, 0, 0 },
  { 0, 56, 16, 96 },
  { 0, 0, 40, 200 },
  { 0, 0, 140, 230 },
  { 0, 0, 190, 140 },
  { 0, 70, 200, 20 },
  { 0, 232, 232, 0 },
  { 0, 255, 150, 0 },
  { 0, 228, 36, 0 },
  { 0, 255, 255, 255 },
};

static const TcStop stops_red_hot[] = {
  { 0, 0, 0, 0 },
  { 191, 210, 210, 210 },
  { 192, 150, 16, 12 },
  { 255, 255, 40, 0 },
};

static const TcStop stops_green_hot[] = {
  { 0, 0, 0, 0 },
  { 176, 24, 196, 40 },
  { 255, 196, 255, 170 },
};

static const TcStop stops_sepia[] = {
  { 0, 18, 10, 4 },
  { 96, 110, 66, 26 },
  { 192, 214, 178, 124 },
  { 255, 255, 244, 222 },
};

#define DEF(nick, name, stops, banded) \
  { nick, name, stops, (int) (sizeof (stops) / sizeof (stops[0])), banded }

static const TcPaletteDef palette_defs[TC_PALETTE_N] = {
  [TC_PALETTE_WHITE_HOT] = DEF ("white-hot", "White hot", stops_white_hot, false),
  [TC_PALETTE_BLACK_HOT] = DEF ("black-hot", "Black hot", stops_black_hot, false),
  [TC_PALETTE_IRONBOW] = DEF ("ironbow", "Ironbow", stops_ironbow, false),
  [TC_PALETTE_RAINBOW] = DEF ("rainbow", "Rainbow", stops_rainbow, false),
  [TC_PALETTE_RAINBOW_HC] = DEF ("rainbow-hc", "Rainbow HC", stops_rainbow_hc, false),
  [TC_PALETTE_LAVA] = DEF ("lava", "Lava", stops_lava, false),
  [TC_PALETTE_ARCTIC] = DEF ("arctic", "Arctic", stops_arctic, false),
  [TC_PALETTE_FUSION] = DEF ("fusion", "Fusion", stops_fusion, false),
  [TC_PALETTE_MEDICAL] = DEF ("medical", "Medical", stops_medical, true),
  [TC_PALETTE_RED_HOT] = DEF ("red-hot", "Red hot", stops_red_hot, false),
  [TC_PALETTE_GREEN_HOT] = DEF ("green-hot", "Green hot", stops_green_hot, false),
  [TC_PALETTE_SEPIA] = DEF ("sepia", "Sepia", stops_sepia, false),
};

#undef DEF

static uint8_t palette_tables[TC_PALETTE_N][256 * 3];
static pthread_once_t palette_once = PTHREAD_ONCE_INIT;

static void
build_palette (const TcPaletteDef *def, uint8_t *rgb)
{
  if (def->banded) {
    for (int i = 0; i < 256; i++) {
      const TcStop *s = &def->stops[i * def->n_stops / 256];
      rgb[3 * i] = s->r;
      rgb[3 * i + 1] = s->g;
      rgb[3 * i + 2] = s->b;
    }
    return;
  }

  for (int k = 0; k + 1 < def->n_stops; k++) {
    const TcStop *a = &def->stops[k], *b = &def->stops[k + 1];
    int n = b->pos - a->pos;

    for (int i = a->pos; i <= b->pos; i++) {
      int t = i - a->pos;

      /* rounded a + (b - a) * t / n */
      rgb[3 * i] = (uint8_t) ((a->r * (n - t) + b->r * t + n / 2) / n);
      rgb[3 * i + 1] = (uint8_t) ((a->g * (n - t) + b->g * t + n / 2) / n);
      rgb[3 * i + 2] = (uint8_t) ((a->b * (n - t) + b->b * t + n / 2) / n);
    }
  }
}

static void
build_palettes (void)
{
  for (int p = 0; p < TC_PALETTE_N; p++)
    build_palette (&palette_defs[p], palette_tables[p]);
}

const char *
tc_palette_nick (TcPaletteId id)
{
  if ((unsigned) id >= TC_PALETTE_N)
    return NULL;
  return palette_defs[id].nick;
}

const char *
tc_palette_display_name (TcPaletteId id)
{
  if ((unsigned) id >= TC_PALETTE_N)
    return NULL;
  return palette_defs[id].name;
}

const uint8_t *
tc_palette_rgb (TcPaletteId id)
{
  if ((unsigned) id >= TC_PALETTE_N)
    return NULL;
  pthread_once (&palette_once, build_palettes);
  return palette_tables[id];
}

int
tc_palette_from_nick (const char *nick)
{
  if (!nick)
    return -1;
  for (int p = 0; p < TC_PALETTE_N; p++)
    if (strcmp (nick, palette_defs[p].nick) == 0)
      return p;
  return -1;
}

/* ----------------------------------------------------------- output tables */

static uint8_t
clamp_u8 (double v)
{
  if (v <= 0.0)
    return 0;
  if (v >= 255.0)
    return 255;
  return (uint8_t) (v + 0.5);
}

/* palette index -> palette index after contrast (about 128), then brightness */
uint8_t
tc_palette_balance_index (int i, double brightness, double contrast)
{
  return clamp_u8 ((i - 128) * contrast + 128.0 + brightness * 128.0);
}

static uint8_t
balance_index (const TcColorizer *c, int i)
{
  return tc_palette_balance_index (i, c->brightness, c->contrast);
}

static void
build_output_tables (TcColorizer *c)
{
  const uint8_t *pal = tc_palette_rgb (c->palette);
  double kr, kb;

  if (c->matrix == TC_YUV_BT709) {
    kr = 0.2126;
    kb = 0.0722;
  } else {
    kr = 0.299;
    kb = 0.114;
  }

  for (int i = 0; i < 256; i++) {
    const uint8_t *rgb = pal + 3 * balance_index (c, i);
    uint8_t r = rgb[0], g = rgb[1], b = rgb[2];
    uint8_t px[4];

    switch (c->fmt) {
      case TC_PIXFMT_RGBX:
      case TC_PIXFMT_RGBA:
        px[0] = r, px[1] = g, px[2] = b, px[3] = 255;
        break;
      case TC_PIXFMT_BGRX:
      case TC_PIXFMT_BGRA:
        px[0] = b, px[1] = g, px[2] = r, px[3] = 255;
        break;
      case TC_PIXFMT_XRGB:
      case TC_PIXFMT_ARGB:
        px[0] = 255, px[1] = r, px[2] = g, px[3] = b;
        break;
      case TC_PIXFMT_XBGR:
      case TC_PIXFMT_ABGR:
        px[0] = 255, px[1] = b, px[2] = g, px[3] = r;
        break;
      case TC_PIXFMT_BGR:
        px[0] = b, px[1] = g, px[2] = r, px[3] = 255;
        break;
      default:
        px[0] = r, px[1] = g, px[2] = b, px[3] = 255;
        break;
    }
    if (c->fmt != TC_PIXFMT_I420) {
      memcpy (&c->tab[i], px, 4);
    } else {
      double rf = r / 255.0, gf = g / 255.0, bf = b / 255.0;
      double y = kr * rf + (1.0 - kr - kb) * gf + kb * bf;
      uint32_t yy = clamp_u8 (16.0 + 219.0 * y);
      uint32_t u = clamp_u8 (128.0 + 224.0 * (bf - y) / (2.0 * (1.0 - kb)));
      uint32_t v = clamp_u8 (128.0 + 224.0 * (rf - y) / (2.0 * (1.0 - kr)));
      c->tab[i] = yy | u << 10 | v << 20;
    }
  }
}

/* ------------------------------------------------------------ construction */

TcColorizer *
tc_colorizer_new (void)
{
  TcColorizer *c = calloc (1, sizeof (*c));

  if (!c)
    return NULL;
  c->lut = malloc (65536);
  c->lut32 = malloc (sizeof (uint32_t) * 65536);
  c->dde_gain = malloc (sizeof (int32_t) * 65536);
  c->hist = malloc (sizeof (uint32_t) * TC_HIST_COPIES * TC_HIST_STRIDE);
  c->bin_base = malloc (sizeof (float) * TC_HIST_MAX_BINS);
  c->bin_slope = malloc (sizeof (float) * TC_HIST_MAX_BINS);
  if (!c->lut || !c->lut32 || !c->dde_gain || !c->hist || !c->bin_base || !c->bin_slope) {
    tc_colorizer_free (c);
    return NULL;
  }
  c->fmt = TC_PIXFMT_RGBX;
  c->matrix = TC_YUV_BT601;
  c->palette = TC_PALETTE_WHITE_HOT;
  c->agc = TC_AGC_PLATEAU;
  c->plateau = 0.05;
  c->automatic = true;
  c->man_lo = 0;
  c->man_hi = 65535;
  c->damping = 0.0;
  c->contrast = 1.0;
  build_output_tables (c);
  return c;
}

void
tc_colorizer_free (TcColorizer *c)
{
  if (!c)
    return;
  free (c->lut);
  free (c->lut32);
  free (c->dde_gain);
  free (c->hist);
  free (c->bin_base);
  free (c->bin_slope);
  free (c->idx);
  free (c->colsum);
  free (c->dde_base);
  free (c->dde_detail);
  free (c);
}

bool
tc_colorizer_configure (TcColorizer *c, int width, int height, TcPixelFormat fmt,
                        TcYuvMatrix matrix)
{
  uint8_t *idx;
  uint32_t *colsum;
  uint16_t *base;
  int32_t *detail;

  if (width <= 0 || height <= 0 || width > TC_MAX_DIM || height > TC_MAX_DIM)
    return false;
  if ((unsigned) fmt > TC_PIXFMT_ABGR || (unsigned) matrix > TC_YUV_BT709)
    return false;
  if (fmt == TC_PIXFMT_I420 && ((width & 1) || (height & 1)))
    return false;

  idx = malloc ((size_t) width * 2);
  colsum = malloc (sizeof (uint32_t) * ((size_t) width + 2 * TC_DDE_RADIUS));
  base = malloc (sizeof (uint16_t) * (size_t) width);
  detail = malloc (sizeof (int32_t) * (size_t) width);
  if (!idx || !colsum || !base || !detail) {
    free (idx);
    free (colsum);
    free (base);
    free (detail);
    return false;
  }
  free (c->idx);
  free (c->colsum);
  free (c->dde_base);
  free (c->dde_detail);
  c->idx = idx;
  c->colsum = colsum;
  c->dde_base = base;
  c->dde_detail = detail;

  c->width = width;
  c->height = height;
  c->fmt = fmt;
  c->matrix = matrix;
  c->configured = true;
  c->have_auto = false;
  build_output_tables (c);
  return true;
}

void
tc_colorizer_set_palette (TcColorizer *c, TcPaletteId id)
{
  if ((unsigned) id >= TC_PALETTE_N)
    return;
  c->palette = id;
  build_output_tables (c);
}

void
tc_colorizer_set_agc (TcColorizer *c, TcAgcMode mode, double plateau)
{
  c->agc = mode == TC_AGC_PLATEAU ? TC_AGC_PLATEAU : TC_AGC_LINEAR;
  if (!(plateau > 0.0))
    plateau = 1e-6;
  else if (plateau > 1.0)
    plateau = 1.0;
  c->plateau = plateau;
}

void
tc_colorizer_set_range (TcColorizer *c, bool automatic, uint16_t lo, uint16_t hi,
                        double damping)
{
  if (automatic && !c->automatic)
    c->have_auto = false;
  c->automatic = automatic;
  c->man_lo = lo;
  c->man_hi = hi;
  if (!(damping >= 0.0))
    damping = 0.0;
  else if (damping > 0.999)
    damping = 0.999;
  c->damping = damping;
}

void
tc_colorizer_set_dde (TcColorizer *c, int level)
{
  c->dde = level < 0 ? 0 : level > 100 ? 100 : level;
}

void
tc_colorizer_set_balance (TcColorizer *c, double brightness, double contrast)
{
  if (!(brightness >= -1.0))
    brightness = -1.0;
  else if (brightness > 1.0)
    brightness = 1.0;
  if (!(contrast >= 0.0))
    contrast = 0.0;
  else if (contrast > 2.0)
    contrast = 2.0;
  c->brightness = brightness;
  c->contrast = contrast;
  build_output_tables (c);
}

void
tc_colorizer_reset (TcColorizer *c)
{
  c->have_auto = false;
}

void
tc_colorizer_last_range (const TcColorizer *c, uint16_t *lo, uint16_t *hi)
{
  if (lo)
    *lo = c->last_lo;
  if (hi)
    *hi = c->last_hi;
}

/* -------------------------------------------------------------- the passes */

static inline const uint16_t *
src_row (const uint8_t *src, size_t stride, int y)
{
  return (const uint16_t *) (const void *) (src + (size_t) y * stride);
}

static void
frame_minmax (const TcColorizer *c, const uint8_t *src, size_t stride,
              uint16_t *pmin, uint16_t *pmax)
{
  const int w = c->width;
  int16_t mn = INT16_MAX, mx = INT16_MIN;

  /* SSE2 has only signed 16-bit min/max: flip the sign bit, compare signed */
  for (int y = 0; y < c->height; y++) {
    const uint16_t *restrict row = src_row (src, stride, y);
    int16_t rmn = INT16_MAX, rmx = INT16_MIN;

    for (int x = 0; x < w; x++) {
      int16_t v = (int16_t) (row[x] ^ 0x8000);
      rmn = v < rmn ? v : rmn;
      rmx = v > rmx ? v : rmx;
    }
    mn = rmn < mn ? rmn : mn;
    mx = rmx > mx ? rmx : mx;
  }
  *pmin = (uint16_t) mn ^ 0x8000;
  *pmax = (uint16_t) mx ^ 0x8000;
}

static void
update_range (TcColorizer *c, uint16_t fmin, uint16_t fmax)
{
  long lo, hi;

  if (c->automatic) {
    if (!c->have_auto) {
      c->auto_lo = fmin;
      c->auto_hi = fmax;
      c->have_auto = true;
    } else {
      double d = c->damping;
      c->auto_lo = c->auto_lo * d + fmin * (1.0 - d);
      c->auto_hi = c->auto_hi * d + fmax * (1.0 - d);
    }
    lo = lround (c->auto_lo);
    hi = lround (c->auto_hi);
  } else {
    lo = c->man_lo;
    hi = c->man_hi;
  }
  if (hi <= lo) {
    hi = lo + 1;
    if (hi > 65535) {
      hi = 65535;
      lo = 65534;
    }
  }
  c->last_lo = (uint16_t) lo;
  c->last_hi = (uint16_t) hi;
}

static inline unsigned
hist_bin (unsigned v, unsigned lo, unsigned last, int shift, unsigned outside)
{
  unsigned d = v - lo;  /* wraps below lo */
  return d <= last ? d >> shift : outside;
}

/* Plateau-equalised LUT for the counts [fmin, fmax]; false when no sample
 * fell inside [lo, hi] (the caller then uses the linear mapping). */
static bool
build_lut_plateau (TcColorizer *c, const uint8_t *src, size_t stride,
                   unsigned fmin, unsigned fmax)
{
  const unsigned lo = c->last_lo, hi = c->last_hi;
  const unsigned span = hi - lo + 1, last = hi - lo;
  const int w = c->width;
  int shift = 0;

  while (((span - 1) >> shift) >= TC_HIST_MAX_BINS)
    shift++;
  const unsigned nb = ((span - 1) >> shift) + 1;

  /* several copies so runs of equal values do not serialise on one counter */
  uint32_t *h0 = c->hist, *h1 = h0 + TC_HIST_STRIDE, *h2 = h1 + TC_HIST_STRIDE,
      *h3 = h2 + TC_HIST_STRIDE;
  memset (c->hist, 0, sizeof (uint32_t) * TC_HIST_COPIES * TC_HIST_STRIDE);

  for (int y = 0; y < c->height; y += 2) {
    const uint16_t *restrict row = src_row (src, stride, y);
    int x = 0;

    for (; x + 6 < w; x += 8) {
      h0[hist_bin (row[x], lo, last, shift, nb)]++;
      h1[hist_bin (row[x + 2], lo, last, shift, nb)]++;
      h2[hist_bin (row[x + 4], lo, last, shift, nb)]++;
      h3[hist_bin (row[x + 6], lo, last, shift, nb)]++;
    }
    for (; x < w; x += 2)
      h0[hist_bin (row[x], lo, last, shift, nb)]++;
  }

  double n_in = 0.0;
  for (unsigned b = 0; b < nb; b++) {
    h0[b] += h1[b] + h2[b] + h3[b];
    n_in += h0[b];
  }
  if (n_in <= 0.0)
    return false;

  /* clip, then the cumulative distribution per bin as base + slope * offset */
  const double limit = c->plateau * n_in;
  double total = 0.0;
  for (unsigned b = 0; b < nb; b++)
    total += h0[b] < limit ? h0[b] : limit;

  const double scale = 255.0 / total;
  double cum = 0.0;
  for (unsigned b = 0; b < nb; b++) {
    double hc = h0[b] < limit ? h0[b] : limit;
    unsigned start = b << shift;
    unsigned width = span - start < (1u << shift) ? span - start : (1u << shift);

    c->bin_base[b] = (float) (cum * scale);
    c->bin_slope[b] = (float) (hc * scale / width);
    cum += hc;
  }

  uint8_t *restrict lut = c->lut;
  const float *restrict bin_base = c->bin_base, *restrict bin_slope = c->bin_slope;
  const unsigned a = fmin > lo ? fmin : lo, z = fmax < hi ? fmax : hi;
  const float xs = (float) ((double) span / (double) (hi - lo));

  c->hist_shift = shift;
  c->hist_nb = nb;
  c->hist_xs = xs;

  if (fmin < lo)
    memset (lut + fmin, 0, (fmax < lo ? fmax + 1 : lo) - fmin);
  if (fmax > hi) {
    unsigned from = fmin > hi ? fmin : hi + 1;
    memset (lut + from, 255, fmax + 1 - from);
  }
  for (unsigned v = a; v <= z && a <= z; v++) {
    float xf = (float) (v - lo) * xs;
    unsigned b = (unsigned) xf >> shift;
    if (b >= nb)
      b = nb - 1;
    float f = bin_base[b] + bin_slope[b] * (xf - (float) (b << shift)) + 0.5f;
    lut[v] = f >= 255.0f ? 255 : f <= 0.0f ? 0 : (uint8_t) f;
  }
  return true;
}

static void
build_lut_linear (TcColorizer *c, unsigned fmin, unsigned fmax)
{
  const unsigned lo = c->last_lo, hi = c->last_hi, d2 = 2 * (hi - lo);
  uint8_t *lut = c->lut;
  unsigned v = fmin;

  for (; v <= fmax && v <= lo; v++)
    lut[v] = 0;
  if (v <= fmax && v < hi) {
    /* index = floor (((v - lo) * 510 + d) / 2d), exactly, stepped */
    unsigned num = (v - lo) * 510 + d2 / 2;
    unsigned q = num / d2, rem = num % d2;

    for (; v <= fmax && v < hi; v++) {
      lut[v] = (uint8_t) q;
      rem += 510;
      while (rem >= d2) {
        rem -= d2;
        q++;
      }
    }
  }
  for (; v <= fmax; v++)
    lut[v] = 255;
}

/* DDE detail gain for the counts [fmin, fmax]: (1 + 0.05 * level) times the
 * local slope of the AGC mapping (palette steps per count), the slope being
 * at least the linear one, 255 / (hi - lo), so detail the equalisation
 * squeezes (sparse parts of the histogram) is still drawn. */
static void
build_dde_gain (TcColorizer *c, unsigned fmin, unsigned fmax)
{
  const unsigned lo = c->last_lo, hi = c->last_hi;
  const float k = (float) (1.0 + 0.05 * c->dde) * 65536.0f;
  const float linear = 255.0f / (float) (hi - lo);
  int32_t *restrict gain = c->dde_gain;

  if (!c->plateau_ok) {
    int32_t g = (int32_t) (linear * k + 0.5f);
    for (unsigned v = fmin; v <= fmax; v++)
      gain[v] = g;
    return;
  }

  const float *restrict bin_slope = c->bin_slope;
  const float xs = c->hist_xs;
  const int shift = c->hist_shift;
  const unsigned nb = c->hist_nb;
  for (unsigned v = fmin; v <= fmax; v++) {
    float slope = linear;
    if (v >= lo && v <= hi) {
      unsigned b = (unsigned) ((float) (v - lo) * xs) >> shift;
      b = b < nb ? b : nb - 1;
      float local = bin_slope[b] * xs;
      slope = local > slope ? local : slope;
    }
    /* at most 510 steps per count (a one-count range) * 6 * 65536 < 2^31 */
    gain[v] = (int32_t) (slope * k + 0.5f);
  }
}

/* DDE: palette indices of row y into idx; colsum holds the vertical box sums
 * of the previous row (or is initialised when y == 0). */
static void
dde_row (TcColorizer *c, const uint8_t *src, size_t stride, int y, uint8_t *restrict idx)
{
  const int w = c->width, h = c->height, r = TC_DDE_RADIUS;
  uint32_t *restrict cs = c->colsum + r;
  const uint16_t *restrict row = src_row (src, stride, y);
  const uint8_t *restrict lut = c->lut;

  if (y == 0) {
    for (int x = 0; x < w; x++)
      cs[x] = 0;
    for (int k = -r; k <= r; k++) {
      const uint16_t *restrict rk = src_row (src, stride, k < 0 ? 0 : k >= h ? h - 1 : k);
      for (int x = 0; x < w; x++)
        cs[x] += rk[x];
    }
  } else {
    int yin = y + r >= h ? h - 1 : y + r, yout = y - r - 1 < 0 ? 0 : y - r - 1;
    const uint16_t *restrict rin = src_row (src, stride, yin);
    const uint16_t *restrict rout = src_row (src, stride, yout);
    for (int x = 0; x < w; x++)
      cs[x] += (uint32_t) rin[x] - rout[x];
  }
  for (int k = 1; k <= r; k++)
    cs[-k] = cs[0];
  for (int k = 1; k <= r; k++)
    cs[w - 1 + k] = cs[w - 1];

  /* base and detail first (integer only, so gcc vectorises it), then the
   * LUT lookups */
  uint16_t *restrict base = c->dde_base;
  int32_t *restrict detail = c->dde_detail;
  const int32_t *restrict gain = c->dde_gain;
  for (int x = 0; x < w; x++) {
    uint32_t sum = 0;
    for (int k = -r; k <= r; k++)
      sum += cs[x + k];
    /* sums stay below 2^24, exact in float; the rounded mean is a count in
     * [frame min, frame max], where the LUT is filled */
    int b = (int) ((float) sum * (1.0f / TC_DDE_TAPS) + 0.5f);
    base[x] = (uint16_t) b;
    detail[x] = row[x] - b;
  }
  /* the clamps are written to become cmovs: noise would mispredict branches */
  const int lim = TC_DDE_LIMIT;
  for (int x = 0; x < w; x++) {
    unsigned b = base[x];
    int d = (int) (((int64_t) detail[x] * gain[b] + 32768) >> 16);
    d = d < lim ? d : lim;
    d = d > -lim ? d : -lim;
    int i = lut[b] + d;
    i &= ~(i >> 31);
    idx[x] = (uint8_t) (i < 255 ? i : 255);
  }
}

/* The output rows.  fused: pixels come from lut32 (count -> pixel) rather
 * than tab[lut[count]]; idx: palette indices already computed (DDE). */
typedef struct
{
  const uint32_t *restrict tab;
  const uint8_t *restrict lut;
  const uint32_t *restrict lut32;
  int width;
  TcPixelFormat fmt;
} TcEmit;

static inline uint32_t
pixel (const TcEmit e, const uint16_t *restrict s, const uint8_t *restrict idx, int x,
       bool fused)
{
  if (idx)
    return e.tab[idx[x]];
  if (fused)
    return e.lut32[s[x]];
  return e.tab[e.lut[s[x]]];
}

static TcEmit
emit_state (const TcColorizer *c)
{
  return (TcEmit) { c->tab, c->lut, c->lut32, c->width, c->fmt };
}

static inline __attribute__ ((always_inline)) void
emit_packed_row (const TcEmit e, const uint16_t *restrict s,
                 const uint8_t *restrict idx, uint8_t *restrict d, bool fused)
{
  const int w = e.width;

  if (e.fmt == TC_PIXFMT_RGB || e.fmt == TC_PIXFMT_BGR) {
    int x = 0;
    /* 4-byte stores overlapping the next pixel, 3 bytes for the last one */
    for (; x < w - 1; x++) {
      uint32_t p = pixel (e, s, idx, x, fused);
      memcpy (d + 3 * x, &p, 4);
    }
    uint32_t p = pixel (e, s, idx, x, fused);
    memcpy (d + 3 * x, &p, 3);
  } else {
    for (int x = 0; x < w; x++) {
      uint32_t p = pixel (e, s, idx, x, fused);
      memcpy (d + 4 * x, &p, 4);
    }
  }
}

static inline __attribute__ ((always_inline)) void
emit_i420_rows (const TcEmit e, const uint16_t *restrict s0,
                const uint16_t *restrict s1, const uint8_t *restrict i0,
                const uint8_t *restrict i1, const TcPlanes *out, int y, bool fused)
{
  const int w = e.width;
  uint8_t *restrict y0 = out->data[0] + (size_t) y * out->stride[0];
  uint8_t *restrict y1 = y0 + out->stride[0];
  uint8_t *restrict u = out->data[1] + (size_t) (y / 2) * out->stride[1];
  uint8_t *restrict v = out->data[2] + (size_t) (y / 2) * out->stride[2];

  for (int x = 0; x < w / 2; x++) {
    uint32_t a = pixel (e, s0, i0, 2 * x, fused), b = pixel (e, s0, i0, 2 * x + 1, fused);
    uint32_t p = pixel (e, s1, i1, 2 * x, fused), q = pixel (e, s1, i1, 2 * x + 1, fused);
    uint32_t sum = a + b + p + q;

    y0[2 * x] = (uint8_t) a;
    y0[2 * x + 1] = (uint8_t) b;
    y1[2 * x] = (uint8_t) p;
    y1[2 * x + 1] = (uint8_t) q;
    u[x] = (uint8_t) ((((sum >> 10) & 0x3ff) + 2) >> 2);
    v[x] = (uint8_t) (((sum >> 20) + 2) >> 2);
  }
}

static inline __attribute__ ((always_inline)) void
emit_frame (const TcColorizer *c, const uint8_t *src, size_t stride,
            const TcPlanes *out, bool fused)
{
  const TcEmit e = emit_state (c);

  if (c->fmt == TC_PIXFMT_I420) {
    for (int y = 0; y < c->height; y += 2)
      emit_i420_rows (e, src_row (src, stride, y), src_row (src, stride, y + 1),
                      NULL, NULL, out, y, fused);
  } else {
    for (int y = 0; y < c->height; y++)
      emit_packed_row (e, src_row (src, stride, y), NULL,
                       out->data[0] + (size_t) y * out->stride[0], fused);
  }
}

static void
emit_frame_dde (TcColorizer *c, const uint8_t *src, size_t stride,
                const TcPlanes *out)
{
  uint8_t *i0 = c->idx, *i1 = c->idx + c->width;
  const TcEmit e = emit_state (c);

  if (c->fmt == TC_PIXFMT_I420) {
    for (int y = 0; y < c->height; y += 2) {
      dde_row (c, src, stride, y, i0);
      dde_row (c, src, stride, y + 1, i1);
      emit_i420_rows (e, NULL, NULL, i0, i1, out, y, false);
    }
  } else {
    for (int y = 0; y < c->height; y++) {
      dde_row (c, src, stride, y, i0);
      emit_packed_row (e, NULL, i0, out->data[0] + (size_t) y * out->stride[0], false);
    }
  }
}

void
tc_colorizer_process (TcColorizer *c, const uint8_t *src, size_t src_stride,
                      const TcPlanes *out)
{
  uint16_t fmin, fmax;

  if (!c || !c->configured || !src || !out)
    return;

  frame_minmax (c, src, src_stride, &fmin, &fmax);
  update_range (c, fmin, fmax);
  c->plateau_ok = c->agc == TC_AGC_PLATEAU
      && build_lut_plateau (c, src, src_stride, fmin, fmax);
  if (!c->plateau_ok)
    build_lut_linear (c, fmin, fmax);

  if (c->dde > 0) {
    build_dde_gain (c, fmin, fmax);
    emit_frame_dde (c, src, src_stride, out);
    return;
  }

  /* Folding the output table into the LUT saves a dependent load per pixel;
   * worth it unless the frame spans many more counts than it has pixels. */
  const unsigned n = (unsigned) fmax - fmin + 1;
  if (n <= (size_t) c->width * c->height / 2) {
    const uint8_t *restrict lut = c->lut;
    uint32_t *restrict lut32 = c->lut32;
    for (unsigned v = fmin; v <= fmax; v++)
      lut32[v] = c->tab[lut[v]];
    emit_frame (c, src, src_stride, out, true);
  } else {
    emit_frame (c, src, src_stride, out, false);
  }
}
