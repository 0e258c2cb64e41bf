/* thermocam: tests of the simulated thermal sensor
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tc-sim.h"

/* What tc-sim.c promises about its model. */
#define K_GLOBAL 30.0           /* counts per kelvin of FPA drift */
#define DEAD_MAX 200
#define HOT_MIN 60000

static TcSimConfig
small_config (int w, int h)
{
  TcSimConfig cfg;

  tc_sim_config_init_default (&cfg);
  cfg.width = w;
  cfg.height = h;
  return cfg;
}

static uint16_t *
render_new (TcSim *sim, uint64_t index, double t, bool shutter)
{
  const TcSimConfig *cfg = tc_sim_get_config (sim);
  uint16_t *f = g_new (uint16_t, (size_t) cfg->width * cfg->height);

  tc_sim_render (sim, index, t, shutter, (uint8_t *) f, (size_t) cfg->width * 2);
  return f;
}

static gboolean
is_defect (const uint32_t *list, size_t n, uint32_t i)
{
  size_t lo = 0, hi = n;

  while (lo < hi) {
    size_t mid = (lo + hi) / 2;

    if (list[mid] == i)
      return TRUE;
    if (list[mid] < i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return FALSE;
}

static void
test_new (void)
{
  TcSimConfig cfg = small_config (15, 64);
  const TcSimConfig *got;
  TcSim *sim;

  g_assert_null (tc_sim_new (&cfg));
  cfg.width = 8193;
  g_assert_null (tc_sim_new (&cfg));
  cfg.width = 64;
  cfg.height = 15;
  g_assert_null (tc_sim_new (&cfg));
  cfg.height = 8193;
  g_assert_null (tc_sim_new (&cfg));
  cfg.height = 16;
  cfg.width = 16;
  cfg.seed = 1234;
  cfg.netd = 0.07;
  sim = tc_sim_new (&cfg);
  g_assert_nonnull (sim);
  got = tc_sim_get_config (sim);
  g_assert_true (got != &cfg);
  g_assert_cmpint (got->width, ==, 16);
  g_assert_cmpint (got->height, ==, 16);
  g_assert_cmpuint (got->seed, ==, 1234);
  g_assert_cmpfloat (got->netd, ==, 0.07);
  cfg.netd = 1.0;                       /* a copy: the caller's struct is free */
  g_assert_cmpfloat (got->netd, ==, 0.07);
  tc_sim_free (sim);
  tc_sim_free (NULL);
}

static void
test_deterministic (void)
{
  TcSimConfig cfg = small_config (96, 64);
  TcSim *a = tc_sim_new (&cfg), *b = tc_sim_new (&cfg), *c;
  size_t n = 96 * 64, i, diff = 0;
  uint16_t *a5 = render_new (a, 5, 1.0, false);
  uint16_t *b5 = render_new (b, 5, 1.0, false);
  uint16_t *a6 = render_new (a, 6, 1.0, false);
  uint16_t *a5again = render_new (a, 5, 1.0, false);
  const float *ga, *gc;

  g_assert_cmpmem (a5, n * 2, b5, n * 2);
  g_assert_cmpmem (a5, n * 2, a5again, n * 2);
  for (i = 0; i < n; i++)
    diff += a5[i] != a6[i];
  g_assert_cmpuint (diff, >, n / 2);

  /* Another seed: another fixed pattern and other defects. */
  cfg.seed = 99;
  c = tc_sim_new (&cfg);
  ga = tc_sim_factory_gain (a);
  gc = tc_sim_factory_gain (c);
  diff = 0;
  for (i = 0; i < n; i++)
    diff += ga[i] != gc[i];
  g_assert_cmpuint (diff, >, n / 2);
  {
    size_t na, nc;
    const uint32_t *da = tc_sim_defects (a, &na), *dc = tc_sim_defects (c, &nc);

    g_assert_false (na == nc && memcmp (da, dc, na * sizeof (uint32_t)) == 0);
  }

  g_free (a5);
  g_free (b5);
  g_free (a6);
  g_free (a5again);
  tc_sim_free (a);
  tc_sim_free (b);
  tc_sim_free (c);
}

static void
test_stride (void)
{
  TcSimConfig cfg = small_config (40, 20);
  TcSim *sim = tc_sim_new (&cfg);
  size_t stride = 40 * 2 + 16;
  uint8_t *buf = g_malloc (stride * 20);
  uint16_t *ref = render_new (sim, 3, 2.0, false);
  int x, y;

  memset (buf, 0xab, stride * 20);
  tc_sim_render (sim, 3, 2.0, false, buf, stride);
  for (y = 0; y < 20; y++) {
    const uint16_t *row = (const uint16_t *) (buf + y * stride);

    for (x = 0; x < 40; x++)
      g_assert_cmpuint (row[x], ==, ref[y * 40 + x]);
    for (x = 80; x < 96; x++)
      g_assert_cmpuint (buf[y * stride + x], ==, 0xab);
  }
  g_free (buf);
  g_free (ref);
  tc_sim_free (sim);
}

static void
test_blackbody_exact (void)
{
  static const double temps[] = { -15.0, 0.0, 20.0, 35.0, 100.0, 145.0 };
  TcSimConfig cfg = small_config (80, 60);
  TcSim *sim;
  size_t nd, i, k;
  const uint32_t *defects;
  uint16_t *f = g_new (uint16_t, 80 * 60);
  TcChain chain;

  cfg.scene = TC_SCENE_BLACKBODY;
  cfg.fpn = 0.0;
  cfg.netd = 0.0;
  cfg.fpa_drift = 0.0;
  cfg.obj.emissivity = 0.9;
  cfg.obj.distance = 10.0;
  sim = tc_sim_new (&cfg);
  defects = tc_sim_defects (sim, &nd);
  g_assert_cmpuint (nd, >, 0);

  for (k = 0; k < G_N_ELEMENTS (temps); k++) {
    double expect;

    cfg.blackbody_temp = temps[k];
    tc_sim_update (sim, &cfg);
    tc_chain_init (&chain, &cfg.cal, &cfg.obj);
    expect = tc_chain_kelvin_to_raw (&chain, temps[k] + TC_KELVIN_OFFSET);
    tc_sim_render (sim, k, 50.0 * k, false, (uint8_t *) f, 160);
    for (i = 0; i < 80 * 60; i++) {
      if (is_defect (defects, nd, i))
        continue;
      g_assert_cmpfloat_with_epsilon (f[i], expect, 0.5 + 1e-6);
    }
  }
  /* The default calibration: about 8000 counts at 20 C; the responsivity
   * at 30 C sets the noise (about 130 counts/K with these constants). */
  {
    TcObjectParams p;

    tc_object_params_init_default (&p);
    p.emissivity = 1.0;
    tc_chain_init (&chain, &cfg.cal, &p);
    g_assert_cmpfloat (fabs (tc_chain_kelvin_to_raw (&chain, 293.15) - 8000.0), <, 800.0);
    g_test_message ("default calibration: %.1f counts at 20 C, %.1f counts/K at 30 C",
        tc_chain_kelvin_to_raw (&chain, 293.15), tc_chain_responsivity (&chain, 303.15));
    g_assert_cmpfloat (tc_chain_responsivity (&chain, 303.15), >, 50.0);
    g_assert_cmpfloat (tc_chain_responsivity (&chain, 303.15), <, 200.0);
  }
  g_free (f);
  tc_sim_free (sim);
}

/* The default scene, noise-free, is exactly the true temperature through the chain. */
static void
test_scene_matches_truth (void)
{
  TcSimConfig cfg = small_config (160, 128);
  TcSim *sim;
  TcChain chain;
  size_t nd;
  const uint32_t *defects;
  uint16_t *f = g_new (uint16_t, 160 * 128);
  static const double times[] = { 0.0, 3.3, 61.0, 200.0 };
  int x, y;
  size_t k;

  cfg.fpn = 0.0;
  cfg.netd = 0.0;
  cfg.fpa_drift = 0.0;
  sim = tc_sim_new (&cfg);
  defects = tc_sim_defects (sim, &nd);
  tc_chain_init (&chain, &cfg.cal, &cfg.obj);
  for (k = 0; k < G_N_ELEMENTS (times); k++) {
    tc_sim_render (sim, k, times[k], false, (uint8_t *) f, 320);
    for (y = 0; y < 128; y++)
      for (x = 0; x < 160; x++) {
        double tt = tc_sim_true_temperature (sim, times[k], x, y);
        double expect = tc_chain_kelvin_to_raw (&chain, tt + TC_KELVIN_OFFSET);

        if (is_defect (defects, nd, y * 160 + x))
          continue;
        g_assert_cmpfloat_with_epsilon (f[y * 160 + x], expect, 0.5 + 1e-3);
      }
  }
  g_free (f);
  tc_sim_free (sim);
}

static void
test_factory_correction (void)
{
  const int w = 64, h = 48, frames = 100;
  const size_t n = (size_t) w * h;
  TcSimConfig cfg = small_config (w, h);
  TcSim *sim;
  TcChain chain;
  double *sum = g_new0 (double, n);
  uint16_t *f = g_new (uint16_t, n);
  const float *gain, *offset;
  const uint32_t *bad;
  size_t nb, i;
  double truth_k = 35.0 + TC_KELVIN_OFFSET;
  double raw_var = 0, raw_mean = 0, cor_var = 0, cor_mean = 0;
  int k, counted = 0;

  cfg.scene = TC_SCENE_BLACKBODY;
  cfg.blackbody_temp = 35.0;
  cfg.fpn = 1.0;
  cfg.netd = 0.04;
  sim = tc_sim_new (&cfg);
  tc_chain_init (&chain, &cfg.cal, &cfg.obj);
  gain = tc_sim_factory_gain (sim);
  offset = tc_sim_factory_offset (sim);
  /* Listed defects and new ones alike are stuck: leave them all out. */
  bad = tc_sim_defects (sim, &nb);

  for (k = 0; k < frames; k++) {
    tc_sim_render (sim, k, 0.0, false, (uint8_t *) f, w * 2);
    for (i = 0; i < n; i++)
      sum[i] += gain[i] * f[i] + offset[i];
  }
  for (i = 0; i < n; i++) {
    double kelvin;

    if (is_defect (bad, nb, i))
      continue;
    kelvin = tc_chain_raw_to_kelvin (&chain, sum[i] / frames);
    g_assert_cmpfloat_with_epsilon (kelvin, truth_k, 0.05);
  }

  /* One frame: the fixed pattern is far above the noise, the corrected frame
   * has only the noise left. */
  for (i = 0; i < n; i++) {
    double c = gain[i] * f[i] + offset[i];

    if (is_defect (bad, nb, i))
      continue;
    raw_mean += f[i];
    raw_var += (double) f[i] * f[i];
    cor_mean += c;
    cor_var += c * c;
    counted++;
  }
  raw_mean /= counted;
  cor_mean /= counted;
  raw_var = raw_var / counted - raw_mean * raw_mean;
  cor_var = cor_var / counted - cor_mean * cor_mean;
  g_assert_cmpfloat (sqrt (raw_var), >, 100.0);
  g_assert_cmpfloat (sqrt (cor_var), <, 1.3 * cfg.netd * tc_chain_responsivity (&chain, 303.15));

  g_free (sum);
  g_free (f);
  tc_sim_free (sim);
}

static void
test_noise (void)
{
  const int w = 32, h = 32, frames = 200;
  const size_t n = (size_t) w * h;
  TcSimConfig cfg = small_config (w, h);
  TcSim *sim;
  TcChain chain;
  double *s1 = g_new0 (double, n), *s2 = g_new0 (double, n);
  uint16_t *f = g_new (uint16_t, n);
  const uint32_t *defects;
  size_t nd, i;
  double sigma, mean_sd = 0, sd, m;
  int k, counted = 0;

  cfg.scene = TC_SCENE_BLACKBODY;
  cfg.blackbody_temp = 30.0;
  cfg.netd = 0.05;
  cfg.fpa_drift = 0.0;
  sim = tc_sim_new (&cfg);
  defects = tc_sim_defects (sim, &nd);
  tc_chain_init (&chain, &cfg.cal, &cfg.obj);
  sigma = cfg.netd * tc_chain_responsivity (&chain, 303.15);

  for (k = 0; k < frames; k++) {
    tc_sim_render (sim, 1000 + k, k / 30.0, false, (uint8_t *) f, w * 2);
    for (i = 0; i < n; i++) {
      s1[i] += f[i];
      s2[i] += (double) f[i] * f[i];
    }
  }
  for (i = 0; i < n; i++) {
    if (is_defect (defects, nd, i))
      continue;
    m = s1[i] / frames;
    sd = sqrt ((s2[i] - frames * m * m) / (frames - 1));
    mean_sd += sd;
    counted++;
    /* Every pixel within 25 % (the 200-frame estimate itself varies by 5 %). */
    g_assert_cmpfloat (fabs (sd / sigma - 1.0), <, 0.25);
  }
  mean_sd /= counted;
  g_test_message ("noise: expected %.3f counts, measured %.3f", sigma, mean_sd);
  g_assert_cmpfloat (fabs (mean_sd / sigma - 1.0), <, 0.03);
  /* The centre pixel alone within 15 %. */
  i = (h / 2) * w + w / 2;
  if (!is_defect (defects, nd, i)) {
    m = s1[i] / frames;
    sd = sqrt ((s2[i] - frames * m * m) / (frames - 1));
    g_assert_cmpfloat (fabs (sd / sigma - 1.0), <, 0.15);
  }

  /* netd = 0: frames no longer vary. */
  cfg.netd = 0.0;
  tc_sim_update (sim, &cfg);
  {
    uint16_t *a = render_new (sim, 1, 0.0, false), *b = render_new (sim, 2, 0.0, false);

    g_assert_cmpmem (a, n * 2, b, n * 2);
    g_free (a);
    g_free (b);
  }

  g_free (s1);
  g_free (s2);
  g_free (f);
  tc_sim_free (sim);
}

static void
check_defects (const TcSimConfig *cfg, gboolean exact)
{
  TcSim *sim = tc_sim_new (cfg);
  const int w = cfg->width, h = cfg->height;
  size_t nd, nb, i, j, low = 0, high = 0;
  const uint32_t *defects = tc_sim_defects (sim, &nd);
  const uint32_t *bad = tc_sim_factory_bad_pixels (sim, &nb);
  const float *gain = tc_sim_factory_gain (sim), *offset = tc_sim_factory_offset (sim);
  uint16_t *a = render_new (sim, 0, 0.0, false);
  uint16_t *b = render_new (sim, 7, 100.0, true);

  if (exact) {
    g_assert_cmpuint (nb, ==, (size_t) (cfg->dead_pixels + cfg->hot_pixels));
    g_assert_cmpuint (nd, ==, nb + cfg->new_defects);
  } else {
    g_assert_cmpuint (nb, <=, (size_t) (cfg->dead_pixels + cfg->hot_pixels));
    g_assert_cmpuint (nd, <=, (size_t) (cfg->dead_pixels + cfg->hot_pixels + cfg->new_defects));
    g_assert_cmpuint (nd, >, 0);
  }
  for (i = 1; i < nd; i++)
    g_assert_cmpuint (defects[i - 1], <, defects[i]);
  for (i = 1; i < nb; i++)
    g_assert_cmpuint (bad[i - 1], <, bad[i]);
  for (i = 0; i < nb; i++)
    g_assert_true (is_defect (defects, nd, bad[i]));

  for (i = 0; i < nd; i++) {
    int x = defects[i] % w, y = defects[i] / w;

    /* Off the border, and isolated. */
    g_assert_cmpint (x, >=, 1);
    g_assert_cmpint (x, <=, w - 2);
    g_assert_cmpint (y, >=, 1);
    g_assert_cmpint (y, <=, h - 2);
    for (j = i + 1; j < nd; j++) {
      int x2 = defects[j] % w, y2 = defects[j] / w;

      g_assert_false (abs (x2 - x) <= 1 && abs (y2 - y) <= 1);
    }
    /* Stuck: the same value whatever the frame, scene or shutter. */
    g_assert_cmpuint (a[defects[i]], ==, b[defects[i]]);
    g_assert_true (a[defects[i]] <= DEAD_MAX || a[defects[i]] >= HOT_MIN);
    if (a[defects[i]] <= DEAD_MAX)
      low++;
    else
      high++;
    /* A new defect has an ordinary factory correction. */
    if (!is_defect (bad, nb, defects[i])) {
      g_assert_cmpfloat (gain[defects[i]], >, 0.5);
      g_assert_cmpfloat (gain[defects[i]], <, 1.5);
    } else {
      g_assert_cmpfloat (gain[defects[i]], ==, 1.0f);
      g_assert_cmpfloat (offset[defects[i]], ==, 0.0f);
    }
  }
  if (exact) {
    g_assert_cmpuint (low, ==, (size_t) (cfg->dead_pixels + cfg->new_defects / 2));
    g_assert_cmpuint (high, ==, (size_t) (cfg->hot_pixels + cfg->new_defects - cfg->new_defects / 2));
  }
  /* No other pixel is stuck. */
  for (i = 0; i < (size_t) w * h; i++)
    if (!is_defect (defects, nd, i))
      g_assert_true (a[i] > DEAD_MAX + 100 && a[i] < HOT_MIN - 1000);

  g_free (a);
  g_free (b);
  tc_sim_free (sim);
}

static void
test_defects (void)
{
  TcSimConfig cfg = small_config (640, 512);

  check_defects (&cfg, TRUE);
  cfg.dead_pixels = 7;
  cfg.hot_pixels = 3;
  cfg.new_defects = 5;
  cfg.width = 100;
  cfg.height = 80;
  check_defects (&cfg, TRUE);
  cfg.new_defects = 0;
  check_defects (&cfg, TRUE);
  /* More than fits: no crash, still isolated. */
  cfg.width = 16;
  cfg.height = 16;
  cfg.dead_pixels = 100;
  cfg.hot_pixels = 100;
  cfg.new_defects = 10;
  check_defects (&cfg, FALSE);
}

static double
corrected_mean (TcSim *sim, const uint16_t *f)
{
  const TcSimConfig *cfg = tc_sim_get_config (sim);
  const float *gain = tc_sim_factory_gain (sim), *offset = tc_sim_factory_offset (sim);
  size_t nd, i, n = (size_t) cfg->width * cfg->height;
  const uint32_t *defects = tc_sim_defects (sim, &nd);
  double sum = 0;
  size_t counted = 0;

  for (i = 0; i < n; i++) {
    if (is_defect (defects, nd, i))
      continue;
    sum += gain[i] * f[i] + offset[i];
    counted++;
  }
  return sum / counted;
}

static void
test_shutter (void)
{
  TcSimConfig cfg = small_config (128, 96);
  TcSim *sim;
  uint16_t *f;
  double expect, tfpa, m;

  cfg.fpa_start = 32.0;
  cfg.fpa_drift = 5.0;
  cfg.fpa_tau = 100.0;
  sim = tc_sim_new (&cfg);

  /* t = 0: no drift yet, the corrected shutter reads the FPA blackbody. */
  f = render_new (sim, 0, 0.0, true);
  expect = tc_planck_counts (&cfg.cal, 32.0 + TC_KELVIN_OFFSET);
  m = corrected_mean (sim, f);
  g_test_message ("shutter at t=0: %.2f counts, expected %.2f", m, expect);
  g_assert_cmpfloat_with_epsilon (m, expect, 0.5);
  g_free (f);

  /* Later: the blackbody follows the FPA, plus the offset drift. */
  tfpa = tc_sim_fpa_temperature (sim, 300.0);
  f = render_new (sim, 1, 300.0, true);
  expect = tc_planck_counts (&cfg.cal, tfpa + TC_KELVIN_OFFSET) + K_GLOBAL * (tfpa - 32.0);
  m = corrected_mean (sim, f);
  g_test_message ("shutter at t=300 (FPA %.2f C): %.2f counts, expected %.2f", tfpa, m, expect);
  g_assert_cmpfloat_with_epsilon (m, expect, 0.1 * K_GLOBAL * (tfpa - 32.0));
  g_free (f);

  /* The shutter hides the scene. */
  {
    uint16_t *a = render_new (sim, 4, 10.0, true);
    uint16_t *b;

    cfg.scene = TC_SCENE_BLACKBODY;
    cfg.blackbody_temp = 120.0;
    tc_sim_update (sim, &cfg);
    b = render_new (sim, 4, 10.0, true);
    g_assert_cmpmem (a, 128 * 96 * 2, b, 128 * 96 * 2);
    g_free (a);
    g_free (b);
  }
  tc_sim_free (sim);
}

static void
test_fpa_drift (void)
{
  TcSimConfig cfg = small_config (128, 96);
  TcSim *sim;
  uint16_t *a, *b;
  size_t i, n = 128 * 96, nd;
  const uint32_t *defects;
  double sum = 0, rise;
  size_t counted = 0;

  cfg.scene = TC_SCENE_BLACKBODY;
  cfg.netd = 0.0;
  cfg.fpa_start = 25.0;
  cfg.fpa_drift = 4.0;
  cfg.fpa_tau = 60.0;
  sim = tc_sim_new (&cfg);
  defects = tc_sim_defects (sim, &nd);

  g_assert_cmpfloat (tc_sim_fpa_temperature (sim, 0.0), ==, 25.0);
  g_assert_cmpfloat_with_epsilon (tc_sim_fpa_temperature (sim, 60.0), 25.0 + 4.0 * (1.0 - exp (-1.0)), 1e-9);
  g_assert_cmpfloat_with_epsilon (tc_sim_fpa_temperature (sim, 1e6), 29.0, 1e-9);

  a = render_new (sim, 0, 0.0, false);
  b = render_new (sim, 0, 1e6, false);
  for (i = 0; i < n; i++) {
    if (is_defect (defects, nd, i))
      continue;
    sum += (double) b[i] - a[i];
    counted++;
  }
  rise = sum / counted;
  g_test_message ("FPA drift of 4 K raised the raw mean by %.1f counts", rise);
  g_assert_cmpfloat_with_epsilon (rise, K_GLOBAL * 4.0, 0.15 * K_GLOBAL * 4.0);
  g_free (b);

  /* No time constant, no drift. */
  cfg.fpa_tau = 0.0;
  tc_sim_update (sim, &cfg);
  g_assert_cmpfloat (tc_sim_fpa_temperature (sim, 1e6), ==, 25.0);
  b = render_new (sim, 0, 1e6, false);
  g_assert_cmpmem (a, n * 2, b, n * 2);
  g_free (a);
  g_free (b);
  tc_sim_free (sim);
}

typedef struct {
  double tmin, tmax;
  double c45x;                  /* centroid x of the 45 C pixels, relative */
  int n45;
} SceneStats;

static SceneStats
scene_stats (TcSim *sim, double t)
{
  const TcSimConfig *cfg = tc_sim_get_config (sim);
  SceneStats s = { INFINITY, -INFINITY, 0, 0 };
  double sx = 0;
  int x, y;

  for (y = 0; y < cfg->height; y++)
    for (x = 0; x < cfg->width; x++) {
      double tt = tc_sim_true_temperature (sim, t, x, y);

      s.tmin = MIN (s.tmin, tt);
      s.tmax = MAX (s.tmax, tt);
      if (tt == 45.0) {
        sx += (x + 0.5) / cfg->width;
        s.n45++;
      }
    }
  s.c45x = s.n45 ? sx / s.n45 : NAN;
  return s;
}

static void
test_true_temperature (void)
{
  TcSimConfig cfg = small_config (160, 128);
  TcSim *sim = tc_sim_new (&cfg);
  SceneStats s0, s5;
  int x, y, heating = 0;

  s0 = scene_stats (sim, 0.0);
  s5 = scene_stats (sim, 5.0);
  g_test_message ("scene at t=0: %.1f..%.1f C, moving disc at x=%.3f; t=5: x=%.3f",
      s0.tmin, s0.tmax, s0.c45x, s5.c45x);
  g_assert_cmpfloat (s0.tmax, >, 80.0);
  g_assert_cmpfloat (s0.tmin, <, 0.0);
  g_assert_cmpint (s0.n45, >, 50);
  g_assert_cmpint (s5.n45, >, 50);
  g_assert_cmpfloat (fabs (s5.c45x - s0.c45x), >, 0.1);

  /* The heating object: 40 C at t=0, warmer at 60, 90 at 120, back at 240. */
  for (y = 0; y < 128; y++)
    for (x = 0; x < 160; x++)
      if (tc_sim_true_temperature (sim, 0.0, x, y) == 40.0) {
        heating++;
        g_assert_cmpfloat (tc_sim_true_temperature (sim, 60.0, x, y), >, 60.0);
        g_assert_cmpfloat_with_epsilon (tc_sim_true_temperature (sim, 120.0, x, y), 90.0, 1e-9);
        g_assert_cmpfloat_with_epsilon (tc_sim_true_temperature (sim, 240.0, x, y), 40.0, 1e-9);
      }
  g_assert_cmpint (heating, >, 100);
  g_assert_cmpfloat (scene_stats (sim, 120.0).tmax, >=, 90.0);

  /* Background gradient, warmer at the bottom. */
  g_assert_cmpfloat (tc_sim_true_temperature (sim, 0.0, 2, 0), <, 19.1);
  g_assert_cmpfloat (tc_sim_true_temperature (sim, 0.0, 2, 127), >, 22.9);

  /* Out of the frame. */
  g_assert_true (isnan (tc_sim_true_temperature (sim, 0.0, -1, 0)));
  g_assert_true (isnan (tc_sim_true_temperature (sim, 0.0, 160, 0)));
  g_assert_true (isnan (tc_sim_true_temperature (sim, 0.0, 0, 128)));

  /* The same scene at another resolution. */
  {
    TcSimConfig big = small_config (320, 256);
    TcSim *sim2 = tc_sim_new (&big);
    int same = 0;

    for (y = 0; y < 128; y++)
      for (x = 0; x < 160; x++)
        same += tc_sim_true_temperature (sim, 7.0, x, y) ==
            tc_sim_true_temperature (sim2, 7.0, 2 * x + 1, 2 * y + 1) ||
            fabs (tc_sim_true_temperature (sim, 7.0, x, y) -
            tc_sim_true_temperature (sim2, 7.0, 2 * x + 1, 2 * y + 1)) < 0.05;
    g_assert_cmpint (same, >, 160 * 128 * 95 / 100);
    tc_sim_free (sim2);
  }

  /* The blackbody scene is uniform. */
  cfg.scene = TC_SCENE_BLACKBODY;
  cfg.blackbody_temp = 55.5;
  tc_sim_update (sim, &cfg);
  for (y = 0; y < 128; y += 7)
    for (x = 0; x < 160; x += 5)
      g_assert_cmpfloat (tc_sim_true_temperature (sim, 3.0, x, y), ==, 55.5);
  tc_sim_free (sim);
}

static void
test_update (void)
{
  TcSimConfig cfg = small_config (64, 48);
  TcSim *sim = tc_sim_new (&cfg);
  TcSimConfig other = cfg;
  const TcSimConfig *got;
  float g0 = tc_sim_factory_gain (sim)[100];
  size_t nd0, nd1;

  tc_sim_defects (sim, &nd0);
  other.width = 128;
  other.seed = 77;
  other.fpn = 0.0;
  other.dead_pixels = 0;
  other.netd = 0.1;
  other.fpa_start = 40.0;
  other.obj.emissivity = 0.7;
  tc_sim_update (sim, &other);
  got = tc_sim_get_config (sim);
  g_assert_cmpint (got->width, ==, 64);
  g_assert_cmpuint (got->seed, ==, cfg.seed);
  g_assert_cmpfloat (got->fpn, ==, cfg.fpn);
  g_assert_cmpint (got->dead_pixels, ==, cfg.dead_pixels);
  g_assert_cmpfloat (got->netd, ==, 0.1);
  g_assert_cmpfloat (got->fpa_start, ==, 40.0);
  g_assert_cmpfloat (got->obj.emissivity, ==, 0.7);
  g_assert_cmpfloat (tc_sim_factory_gain (sim)[100], ==, g0);
  tc_sim_defects (sim, &nd1);
  g_assert_cmpuint (nd0, ==, nd1);
  g_assert_cmpfloat (tc_sim_fpa_temperature (sim, 0.0), ==, 40.0);
  tc_sim_free (sim);
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static void
time_render (int w, int h)
{
  TcSimConfig cfg = small_config (w, h);
  TcSim *sim = tc_sim_new (&cfg);
  uint16_t *f = g_new (uint16_t, (size_t) w * h);
  double times[20];
  int k;

  tc_sim_render (sim, 0, 0.0, false, (uint8_t *) f, (size_t) w * 2);
  for (k = 0; k < 20; k++) {
    gint64 t0 = g_get_monotonic_time ();

    tc_sim_render (sim, k + 1, k / 30.0, false, (uint8_t *) f, (size_t) w * 2);
    times[k] = (g_get_monotonic_time () - t0) / 1000.0;
  }
  qsort (times, 20, sizeof (double), compare_double);
  g_test_message ("render %dx%d: median %.2f ms (min %.2f, max %.2f)", w, h,
      (times[9] + times[10]) / 2, times[0], times[19]);
  g_free (f);
  tc_sim_free (sim);
}

static void
test_performance (void)
{
  time_render (640, 512);
  time_render (1280, 1024);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/new", test_new);
  g_test_add_func ("/sim/deterministic", test_deterministic);
  g_test_add_func ("/sim/stride", test_stride);
  g_test_add_func ("/sim/blackbody-exact", test_blackbody_exact);
  g_test_add_func ("/sim/scene-matches-truth", test_scene_matches_truth);
  g_test_add_func ("/sim/factory-correction", test_factory_correction);
  g_test_add_func ("/sim/noise", test_noise);
  g_test_add_func ("/sim/defects", test_defects);
  g_test_add_func ("/sim/shutter", test_shutter);
  g_test_add_func ("/sim/fpa-drift", test_fpa_drift);
  g_test_add_func ("/sim/true-temperature", test_true_temperature);
  g_test_add_func ("/sim/update", test_update);
  g_test_add_func ("/sim/performance", test_performance);
  return g_test_run ();
}
