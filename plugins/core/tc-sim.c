/* thermocam: the simulated thermal sensor
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Per pixel i of frame n at scene time t:
 *
 *   ideal_i = counts of the scene (through the radiometric chain), or of a
 *             blackbody at the FPA temperature when the shutter is closed
 *   raw_i   = g_i * ideal_i + o_i + k_i * (T_fpa (t) - fpa_start) + noise_i (n)
 *
 * then the defects are stuck low or high, and the result is clamped to 16 bits.
 * The fixed pattern (g, o, k) and the defect positions come from the seed; the
 * temporal noise of a row comes from (seed, n, row) only, so any frame can be
 * rendered again, in any order, and comes out the same.
 *
 * Rendering does no transcendental math per pixel: the counts of each object
 * are computed once a frame, those of the background gradient once per
 * configuration, each row is filled from the x-spans of the shapes it crosses,
 * and the noise is drawn from a precomputed table of Gaussian values.
 */
#include "tc-sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#ifndef M_SQRT2
#define M_SQRT2 1.41421356237309504880
#endif

#define SIM_MIN_SIZE 16
#define SIM_MAX_SIZE 8192

/* Fixed pattern at fpn = 1. */
#define FPN_GAIN_SIGMA      0.03    /* relative pixel gain spread */
#define FPN_OFFSET_SIGMA    200.0   /* counts, pixel offsets */
#define FPN_COLUMN_SIGMA    50.0    /* counts, column offsets (readout pattern) */
#define FPN_DRIFT_SIGMA     6.0     /* counts per kelvin of FPA drift, per pixel */
/* Offset drift common to every pixel, counts per kelvin of FPA warm-up (not FPN). */
#define FPA_DRIFT_GLOBAL    30.0

#define DEAD_MAX_VALUE      200     /* dead pixels read 0..200 */
#define HOT_MIN_VALUE       60000   /* hot pixels read 60000..65535 */

#define NOISE_TABLE_BITS    16
#define NOISE_TABLE_SIZE    (1 << NOISE_TABLE_BITS)

/* Salts that give each use of the seed its own stream. */
#define SALT_FPN     0x6a09e667f3bcc908ULL
#define SALT_DEFECTS 0xbb67ae8584caa73bULL
#define SALT_NOISE   0x3c6ef372fe94f82bULL

#define MAX_SHAPES 8

typedef enum {
  SHAPE_RECT,
  SHAPE_ELLIPSE
} ShapeKind;

typedef struct {
  ShapeKind kind;
  /* SHAPE_RECT: pixels x0 <= x < x1, y0 <= y < y1 */
  int x0, x1, y0, y1;
  /* SHAPE_ELLIPSE: pixel centres within the ellipse (pixel units) */
  double cx, cy, rx, ry;
  double temp;          /* degrees C */
  float ideal;          /* counts */
} Shape;

typedef struct {
  uint32_t index;
  uint16_t value;
  bool listed;
} Defect;

struct TcSim {
  TcSimConfig cfg;
  TcChain chain;
  size_t n;

  float *gain;          /* g_i */
  float *offset;        /* o_i */
  float *drift;         /* k_global + k_i */
  float *factory_gain;
  float *factory_offset;

  uint32_t *defects;    /* sorted */
  uint16_t *defect_values;
  size_t n_defects;
  uint32_t *bad_pixels; /* sorted, the listed subset */
  size_t n_bad;

  float *noise_table;   /* unit Gaussian, NOISE_TABLE_SIZE entries */
  float *bg_ideal;      /* background counts per row */
  float *row_ideal;     /* scratch: one row of scene counts */
  float *row_noise;     /* scratch: one row of noise */

  float sigma;          /* temporal noise, counts */
};

/* ---- random numbers ---- */

static inline uint64_t
mix64 (uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t
splitmix64 (uint64_t *state)
{
  *state += 0x9e3779b97f4a7c15ULL;
  return mix64 (*state);
}

static inline uint32_t
uniform_below (uint64_t *state, uint32_t n)
{
  return (uint32_t) (((splitmix64 (state) >> 32) * (uint64_t) n) >> 32);
}

/* Inverse of the standard normal CDF (Acklam), one Newton step of refinement. */
static double
normal_quantile (double p)
{
  static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
    -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
    2.506628277459239e+00 };
  static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
    -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01 };
  static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
    -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
    2.938163982698783e+00 };
  static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
    2.445134137142996e+00, 3.754408661907416e+00 };
  const double plow = 0.02425;
  double q, r, x, e;

  if (p < plow) {
    q = sqrt (-2.0 * log (p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else if (p <= 1.0 - plow) {
    q = p - 0.5;
    r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  } else {
    q = sqrt (-2.0 * log (1.0 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  e = 0.5 * erfc (-x / M_SQRT2) - p;
  x -= e * sqrt (2.0 * M_PI) * exp (x * x / 2.0) / (1.0 + x * e * sqrt (2.0 * M_PI) *
      exp (x * x / 2.0) / 2.0);
  return x;
}

static void
build_noise_table (float *table)
{
  double sum2 = 0.0;
  double scale;
  int i;

  /* Symmetric quantiles, so the mean is zero; scaled to unit variance. */
  for (i = 0; i < NOISE_TABLE_SIZE / 2; i++) {
    double v = normal_quantile ((i + 0.5) / NOISE_TABLE_SIZE);

    table[i] = (float) v;
    table[NOISE_TABLE_SIZE - 1 - i] = (float) -v;
    sum2 += 2.0 * v * v;
  }
  scale = 1.0 / sqrt (sum2 / NOISE_TABLE_SIZE);
  for (i = 0; i < NOISE_TABLE_SIZE; i++)
    table[i] = (float) (table[i] * scale);
}

/* ---- configuration ---- */

void
tc_sim_config_init_default (TcSimConfig *cfg)
{
  memset (cfg, 0, sizeof (*cfg));
  cfg->width = 640;
  cfg->height = 512;
  cfg->seed = 1;
  cfg->scene = TC_SCENE_DEFAULT;
  cfg->blackbody_temp = 35.0;
  cfg->netd = 0.05;
  cfg->fpa_start = 30.0;
  cfg->fpa_drift = 4.0;
  cfg->fpa_tau = 600.0;
  cfg->fpn = 1.0;
  cfg->dead_pixels = 40;
  cfg->hot_pixels = 20;
  cfg->new_defects = 4;
  tc_calibration_init_default (&cfg->cal);
  tc_object_params_init_default (&cfg->obj);
}

const TcSimConfig *
tc_sim_get_config (const TcSim *sim)
{
  return &sim->cfg;
}

/* Everything that follows from the changeable part of the configuration. */
static void
sim_derive (TcSim *sim)
{
  const TcSimConfig *cfg = &sim->cfg;
  double netd = cfg->netd > 0.0 ? cfg->netd : 0.0;
  int y;

  tc_chain_init (&sim->chain, &cfg->cal, &cfg->obj);
  sim->sigma = (float) (netd * tc_chain_responsivity (&sim->chain, 30.0 + TC_KELVIN_OFFSET));
  if (!isfinite (sim->sigma) || sim->sigma < 0.0f)
    sim->sigma = 0.0f;

  /* The background: 19 C at the top to 23 C at the bottom. */
  for (y = 0; y < cfg->height; y++) {
    double v = (y + 0.5) / cfg->height;

    sim->bg_ideal[y] = (float) tc_chain_kelvin_to_raw (&sim->chain,
        19.0 + 4.0 * v + TC_KELVIN_OFFSET);
  }
}

void
tc_sim_update (TcSim *sim, const TcSimConfig *cfg)
{
  TcSimConfig *c = &sim->cfg;

  c->scene = cfg->scene;
  c->blackbody_temp = cfg->blackbody_temp;
  c->netd = cfg->netd;
  c->fpa_start = cfg->fpa_start;
  c->fpa_drift = cfg->fpa_drift;
  c->fpa_tau = cfg->fpa_tau;
  c->cal = cfg->cal;
  c->obj = cfg->obj;
  sim_derive (sim);
}

/* ---- creation ---- */

static void
make_fpn (TcSim *sim)
{
  const int w = sim->cfg.width, h = sim->cfg.height;
  const double fpn = sim->cfg.fpn > 0.0 ? sim->cfg.fpn : 0.0;
  const float *tab = sim->noise_table;  /* Gaussian quantiles: draw by index */
  uint64_t rng = mix64 (sim->cfg.seed ^ SALT_FPN);
  float *column = sim->row_ideal;       /* free until the first render */
  int x, y;

  for (x = 0; x < w; x++)
    column[x] = (float) (fpn * FPN_COLUMN_SIGMA * tab[splitmix64 (&rng) >> 48]);

  for (y = 0; y < h; y++) {
    size_t row = (size_t) y * w;

    for (x = 0; x < w; x++) {
      size_t i = row + x;
      uint64_t r = splitmix64 (&rng);
      double zg = tab[r & 0xffff];
      double zo = tab[(r >> 16) & 0xffff];
      double zk = tab[(r >> 32) & 0xffff];
      double g;

      if (fpn > 0.0) {
        g = 1.0 + fpn * FPN_GAIN_SIGMA * zg;
        if (g < 0.1)
          g = 0.1;
        sim->gain[i] = (float) g;
        sim->offset[i] = (float) (fpn * FPN_OFFSET_SIGMA * zo) + column[x];
        sim->drift[i] = (float) (FPA_DRIFT_GLOBAL + fpn * FPN_DRIFT_SIGMA * zk);
      } else {
        sim->gain[i] = 1.0f;
        sim->offset[i] = 0.0f;
        sim->drift[i] = (float) FPA_DRIFT_GLOBAL;
      }
      /* The factory calibration measured g and o exactly. */
      sim->factory_gain[i] = 1.0f / sim->gain[i];
      sim->factory_offset[i] = (float) (-(double) sim->offset[i] / sim->gain[i]);
    }
  }
}

static int
compare_defects (const void *a, const void *b)
{
  const Defect *da = a, *db = b;

  return (da->index > db->index) - (da->index < db->index);
}

static bool
defect_fits (const uint8_t *taken, int w, int x, int y)
{
  int dx, dy;

  for (dy = -1; dy <= 1; dy++)
    for (dx = -1; dx <= 1; dx++)
      if (taken[(size_t) (y + dy) * w + (x + dx)])
        return false;
  return true;
}

/* Finds a free position: random tries, then a scan from a random start.
 * Returns false when the sensor is full. */
static bool
place_defect (uint8_t *taken, int w, int h, uint64_t *rng, int *px, int *py)
{
  const uint32_t iw = (uint32_t) (w - 2), ih = (uint32_t) (h - 2);
  const size_t total = (size_t) iw * ih;
  size_t start, k;
  int tries;

  for (tries = 0; tries < 64; tries++) {
    int x = 1 + (int) uniform_below (rng, iw);
    int y = 1 + (int) uniform_below (rng, ih);

    if (defect_fits (taken, w, x, y)) {
      *px = x;
      *py = y;
      return true;
    }
  }
  start = (size_t) (splitmix64 (rng) % total);
  for (k = 0; k < total; k++) {
    size_t j = (start + k) % total;
    int x = 1 + (int) (j % iw);
    int y = 1 + (int) (j / iw);

    if (defect_fits (taken, w, x, y)) {
      *px = x;
      *py = y;
      return true;
    }
  }
  return false;
}

static bool
make_defects (TcSim *sim)
{
  const int w = sim->cfg.width, h = sim->cfg.height;
  const int n_dead = sim->cfg.dead_pixels > 0 ? sim->cfg.dead_pixels : 0;
  const int n_hot = sim->cfg.hot_pixels > 0 ? sim->cfg.hot_pixels : 0;
  const int n_new = sim->cfg.new_defects > 0 ? sim->cfg.new_defects : 0;
  /* No more isolated pixels than this fit in the interior. */
  const size_t cap = (size_t) ((w - 1) / 2) * (size_t) ((h - 1) / 2);
  size_t wanted = (size_t) n_dead + (size_t) n_hot + (size_t) n_new;
  uint64_t rng = mix64 (sim->cfg.seed ^ SALT_DEFECTS);
  uint8_t *taken;
  Defect *list;
  size_t count = 0, i, nb = 0;
  int k;

  if (wanted > cap)
    wanted = cap;
  taken = calloc (sim->n, 1);
  list = calloc (wanted + 1, sizeof (Defect));
  sim->defects = calloc (wanted + 1, sizeof (uint32_t));
  sim->defect_values = calloc (wanted + 1, sizeof (uint16_t));
  sim->bad_pixels = calloc (wanted + 1, sizeof (uint32_t));
  if (!taken || !list || !sim->defects || !sim->defect_values || !sim->bad_pixels) {
    free (taken);
    free (list);
    return false;
  }

  /* Listed dead, listed hot, then the new ones (half dead, half hot). */
  for (k = 0; k < n_dead + n_hot + n_new && count < wanted; k++) {
    bool listed = k < n_dead + n_hot;
    bool dead = k < n_dead || (!listed && k - n_dead - n_hot < n_new / 2);
    int x, y;

    if (!place_defect (taken, w, h, &rng, &x, &y))
      break;
    taken[(size_t) y * w + x] = 1;
    list[count].index = (uint32_t) ((size_t) y * w + x);
    list[count].listed = listed;
    if (dead)
      list[count].value = (uint16_t) uniform_below (&rng, DEAD_MAX_VALUE + 1);
    else
      list[count].value = (uint16_t) (HOT_MIN_VALUE +
          uniform_below (&rng, 65535 - HOT_MIN_VALUE + 1));
    count++;
  }
  free (taken);

  qsort (list, count, sizeof (Defect), compare_defects);
  for (i = 0; i < count; i++) {
    sim->defects[i] = list[i].index;
    sim->defect_values[i] = list[i].value;
    if (list[i].listed) {
      sim->bad_pixels[nb++] = list[i].index;
      /* The factory table leaves listed defects alone; the bad pixel
       * list is what handles them. */
      sim->factory_gain[list[i].index] = 1.0f;
      sim->factory_offset[list[i].index] = 0.0f;
    }
  }
  sim->n_defects = count;
  sim->n_bad = nb;
  free (list);
  return true;
}

TcSim *
tc_sim_new (const TcSimConfig *cfg)
{
  TcSim *sim;
  size_t n;

  if (cfg == NULL || cfg->width < SIM_MIN_SIZE || cfg->width > SIM_MAX_SIZE ||
      cfg->height < SIM_MIN_SIZE || cfg->height > SIM_MAX_SIZE)
    return NULL;

  sim = calloc (1, sizeof (TcSim));
  if (sim == NULL)
    return NULL;
  sim->cfg = *cfg;
  n = sim->n = (size_t) cfg->width * (size_t) cfg->height;

  sim->gain = malloc (n * sizeof (float));
  sim->offset = malloc (n * sizeof (float));
  sim->drift = malloc (n * sizeof (float));
  sim->factory_gain = malloc (n * sizeof (float));
  sim->factory_offset = malloc (n * sizeof (float));
  sim->noise_table = malloc (NOISE_TABLE_SIZE * sizeof (float));
  sim->bg_ideal = malloc ((size_t) cfg->height * sizeof (float));
  sim->row_ideal = malloc ((size_t) cfg->width * sizeof (float));
  sim->row_noise = malloc ((size_t) cfg->width * sizeof (float));
  if (!sim->gain || !sim->offset || !sim->drift || !sim->factory_gain ||
      !sim->factory_offset || !sim->noise_table || !sim->bg_ideal ||
      !sim->row_ideal || !sim->row_noise) {
    tc_sim_free (sim);
    return NULL;
  }

  build_noise_table (sim->noise_table);
  make_fpn (sim);
  if (!make_defects (sim)) {
    tc_sim_free (sim);
    return NULL;
  }
  sim_derive (sim);
  return sim;
}

void
tc_sim_free (TcSim *sim)
{
  if (sim == NULL)
    return;
  free (sim->gain);
  free (sim->offset);
  free (sim->drift);
  free (sim->factory_gain);
  free (sim->factory_offset);
  free (sim->defects);
  free (sim->defect_values);
  free (sim->bad_pixels);
  free (sim->noise_table);
  free (sim->bg_ideal);
  free (sim->row_ideal);
  free (sim->row_noise);
  free (sim);
}

/* ---- the scene ---- */

double
tc_sim_fpa_temperature (const TcSim *sim, double t)
{
  const TcSimConfig *cfg = &sim->cfg;

  if (!(cfg->fpa_tau > 0.0) || !(t > 0.0))
    return cfg->fpa_start;
  return cfg->fpa_start + cfg->fpa_drift * (1.0 - exp (-t / cfg->fpa_tau));
}

static void
shape_rect (Shape *s, int w, int h, double x0, double y0, double x1, double y1, double temp)
{
  s->kind = SHAPE_RECT;
  s->x0 = (int) lround (x0 * w);
  s->x1 = (int) lround (x1 * w);
  s->y0 = (int) lround (y0 * h);
  s->y1 = (int) lround (y1 * h);
  s->temp = temp;
}

/* Centre in relative coordinates, radii in pixels. */
static void
shape_ellipse (Shape *s, int w, int h, double cx, double cy, double rx, double ry, double temp)
{
  s->kind = SHAPE_ELLIPSE;
  s->cx = cx * w;
  s->cy = cy * h;
  s->rx = rx;
  s->ry = ry;
  s->temp = temp;
}

/* The pixels [*x0, *x1) of row y that the shape covers; false if none. */
static bool
shape_span (const Shape *s, int w, int y, int *x0, int *x1)
{
  int a, b;

  if (s->kind == SHAPE_RECT) {
    if (y < s->y0 || y >= s->y1)
      return false;
    a = s->x0;
    b = s->x1;
  } else {
    double dy = (y + 0.5 - s->cy) / s->ry;
    double half;

    if (!(dy * dy < 1.0))
      return false;
    half = s->rx * sqrt (1.0 - dy * dy);
    a = (int) ceil (s->cx - half - 0.5);
    b = (int) floor (s->cx + half - 0.5) + 1;
  }
  if (a < 0)
    a = 0;
  if (b > w)
    b = w;
  if (a >= b)
    return false;
  *x0 = a;
  *x1 = b;
  return true;
}

/* The objects of the default scene at time t, in drawing order. */
static int
scene_shapes (const TcSim *sim, double t, Shape *shapes)
{
  const int w = sim->cfg.width, h = sim->cfg.height;
  double phase, heat;
  int n = 0;

  /* A person: body and head. */
  shape_ellipse (&shapes[n++], w, h, 0.22, 0.58, 0.08 * w, 0.27 * h, 34.0);
  shape_ellipse (&shapes[n++], w, h, 0.22, 0.24, 0.055 * h, 0.065 * h, 35.0);
  /* A running motor. */
  shape_rect (&shapes[n++], w, h, 0.40, 0.58, 0.62, 0.86, 85.0);
  /* Something heating up 40 -> 90 C over 120 s and cooling back (period 240 s). */
  phase = fmod (t, 240.0);
  if (phase < 0.0)
    phase += 240.0;
  heat = phase <= 120.0 ? phase / 120.0 : (240.0 - phase) / 120.0;
  shape_rect (&shapes[n++], w, h, 0.74, 0.36, 0.90, 0.60, 40.0 + 50.0 * heat);
  /* A cold pack. */
  shape_rect (&shapes[n++], w, h, 0.74, 0.70, 0.90, 0.90, -10.0);
  /* A warm disc going back and forth (period 20 s). */
  shape_ellipse (&shapes[n++], w, h, 0.60 + 0.25 * sin (2.0 * M_PI * t / 20.0), 0.14,
      0.07 * h, 0.07 * h, 45.0);
  return n;
}

double
tc_sim_true_temperature (const TcSim *sim, double t, int x, int y)
{
  const TcSimConfig *cfg = &sim->cfg;
  Shape shapes[MAX_SHAPES];
  double temp;
  int n, k;

  if (x < 0 || y < 0 || x >= cfg->width || y >= cfg->height)
    return NAN;
  if (cfg->scene == TC_SCENE_BLACKBODY)
    return cfg->blackbody_temp;

  temp = 19.0 + 4.0 * ((y + 0.5) / cfg->height);
  n = scene_shapes (sim, t, shapes);
  for (k = 0; k < n; k++) {
    int x0, x1;

    if (shape_span (&shapes[k], cfg->width, y, &x0, &x1) && x >= x0 && x < x1)
      temp = shapes[k].temp;
  }
  return temp;
}

/* ---- rendering ---- */

static void
fill_noise (const TcSim *sim, uint64_t key, float *nz, int w)
{
  const float *tab = sim->noise_table;
  const float sigma = sim->sigma;
  uint64_t s = key;
  int x = 0;

  for (; x + 4 <= w; x += 4) {
    uint64_t r = splitmix64 (&s);

    nz[x] = sigma * tab[r & 0xffff];
    nz[x + 1] = sigma * tab[(r >> 16) & 0xffff];
    nz[x + 2] = sigma * tab[(r >> 32) & 0xffff];
    nz[x + 3] = sigma * tab[r >> 48];
  }
  if (x < w) {
    uint64_t r = splitmix64 (&s);

    for (; x < w; x++, r >>= 16)
      nz[x] = sigma * tab[r & 0xffff];
  }
}

static void
finish_row (const float *restrict g, const float *restrict o, const float *restrict k,
    const float *restrict ideal, const float *restrict nz, float dt,
    uint16_t *restrict d, int w)
{
  int x;

  for (x = 0; x < w; x++) {
    float v = g[x] * ideal[x] + o[x] + k[x] * dt + nz[x];

    /* Also maps NaN (a broken chain) to 0. */
    v = v > 0.0f ? v : 0.0f;
    v = v < 65535.0f ? v : 65535.0f;
    d[x] = (uint16_t) (v + 0.5f);
  }
}

void
tc_sim_render (TcSim *sim, uint64_t index, double t, bool shutter_closed,
    uint8_t *dst, size_t stride)
{
  const TcSimConfig *cfg = &sim->cfg;
  const int w = cfg->width, h = cfg->height;
  const float dt = (float) (tc_sim_fpa_temperature (sim, t) - cfg->fpa_start);
  const uint64_t frame_key = mix64 (mix64 (cfg->seed ^ SALT_NOISE) +
      index * 0x9e3779b97f4a7c15ULL);
  float *ideal = sim->row_ideal;
  float *nz = sim->row_noise;
  Shape shapes[MAX_SHAPES];
  int n_shapes = 0;
  float uniform = 0.0f;
  bool is_uniform = true;
  size_t next_defect = 0;
  int x, y, k;

  if (shutter_closed) {
    uniform = (float) tc_planck_counts (&cfg->cal,
        tc_sim_fpa_temperature (sim, t) + TC_KELVIN_OFFSET);
  } else if (cfg->scene == TC_SCENE_BLACKBODY) {
    uniform = (float) tc_chain_kelvin_to_raw (&sim->chain,
        cfg->blackbody_temp + TC_KELVIN_OFFSET);
  } else {
    is_uniform = false;
    n_shapes = scene_shapes (sim, t, shapes);
    for (k = 0; k < n_shapes; k++)
      shapes[k].ideal = (float) tc_chain_kelvin_to_raw (&sim->chain,
          shapes[k].temp + TC_KELVIN_OFFSET);
  }
  if (is_uniform)
    for (x = 0; x < w; x++)
      ideal[x] = uniform;
  if (sim->sigma == 0.0f)
    memset (nz, 0, (size_t) w * sizeof (float));

  for (y = 0; y < h; y++) {
    const size_t row = (size_t) y * w;
    uint16_t *d = (uint16_t *) (dst + (size_t) y * stride);

    if (!is_uniform) {
      float bg = sim->bg_ideal[y];

      for (x = 0; x < w; x++)
        ideal[x] = bg;
      for (k = 0; k < n_shapes; k++) {
        int x0, x1;

        if (shape_span (&shapes[k], w, y, &x0, &x1)) {
          float v = shapes[k].ideal;

          for (x = x0; x < x1; x++)
            ideal[x] = v;
        }
      }
    }
    if (sim->sigma != 0.0f)
      fill_noise (sim, mix64 (frame_key ^ ((uint64_t) y * 0xd1b54a32d192ed03ULL)), nz, w);

    finish_row (sim->gain + row, sim->offset + row, sim->drift + row, ideal, nz, dt, d, w);

    /* The defects of this row: stuck whatever the scene. */
    while (next_defect < sim->n_defects && sim->defects[next_defect] < row + (size_t) w) {
      d[sim->defects[next_defect] - row] = sim->defect_values[next_defect];
      next_defect++;
    }
  }
}

/* ---- the factory calibration ---- */

const float *
tc_sim_factory_gain (const TcSim *sim)
{
  return sim->factory_gain;
}

const float *
tc_sim_factory_offset (const TcSim *sim)
{
  return sim->factory_offset;
}

const uint32_t *
tc_sim_factory_bad_pixels (const TcSim *sim, size_t *n)
{
  if (n)
    *n = sim->n_bad;
  return sim->bad_pixels;
}

const uint32_t *
tc_sim_defects (const TcSim *sim, size_t *n)
{
  if (n)
    *n = sim->n_defects;
  return sim->defects;
}
