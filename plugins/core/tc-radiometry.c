/* thermocam: the radiometric chain
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tc-radiometry.h"

#include <math.h>
#include <string.h>

void
tc_calibration_init_default (TcCalibration *cal)
{
  /* The simulated sensor's calibration: a 16-bit core whose -20..150 C range
   * spans about 4000..37000 counts (about 130 counts per kelvin at 30 C). */
  cal->r1 = 12140.6;
  cal->r2 = 0.0125;
  cal->b = 1428.0;
  cal->f = 1.0;
  cal->o = -500.0;
  /* The atmospheric constants FLIR publishes for its cameras. */
  cal->ata1 = 0.006569;
  cal->ata2 = 0.01262;
  cal->atb1 = -0.002276;
  cal->atb2 = -0.00667;
  cal->atx = 1.9;
  cal->range_min = -20.0;
  cal->range_max = 150.0;
}

void
tc_object_params_init_default (TcObjectParams *p)
{
  p->emissivity = 0.95;
  p->distance = 1.0;
  p->reflected_temp = 20.0;
  p->atmospheric_temp = 20.0;
  p->relative_humidity = 0.5;
  p->window_temp = 20.0;
  p->window_transmission = 1.0;
}

const char *
tc_calibration_check (const TcCalibration *cal)
{
  if (!isfinite (cal->r1) || cal->r1 <= 0)
    return "PlanckR1";
  if (!isfinite (cal->r2) || cal->r2 <= 0)
    return "PlanckR2";
  if (!isfinite (cal->b) || cal->b <= 0)
    return "PlanckB";
  if (!isfinite (cal->f) || cal->f < 0)
    return "PlanckF";
  if (!isfinite (cal->o))
    return "PlanckO";
  if (!isfinite (cal->ata1))
    return "AtmosphericTransAlpha1";
  if (!isfinite (cal->ata2))
    return "AtmosphericTransAlpha2";
  if (!isfinite (cal->atb1))
    return "AtmosphericTransBeta1";
  if (!isfinite (cal->atb2))
    return "AtmosphericTransBeta2";
  if (!isfinite (cal->atx))
    return "AtmosphericTransX";
  if (!isfinite (cal->range_min) || !isfinite (cal->range_max) || cal->range_min >= cal->range_max)
    return "CameraTemperatureRangeMax";
  return NULL;
}

const char *
tc_object_params_check (const TcObjectParams *p)
{
  if (!(p->emissivity > 0.0 && p->emissivity <= 1.0))
    return "emissivity";
  if (!(p->distance >= 0.0 && p->distance <= 100000.0))
    return "distance";
  if (!(p->reflected_temp > -TC_KELVIN_OFFSET && p->reflected_temp < 5000.0))
    return "reflected-temperature";
  if (!(p->atmospheric_temp > -TC_KELVIN_OFFSET && p->atmospheric_temp < 1000.0))
    return "atmospheric-temperature";
  if (!(p->relative_humidity >= 0.0 && p->relative_humidity <= 1.0))
    return "relative-humidity";
  if (!(p->window_temp > -TC_KELVIN_OFFSET && p->window_temp < 5000.0))
    return "window-temperature";
  if (!(p->window_transmission > 0.0 && p->window_transmission <= 1.0))
    return "window-transmission";
  return NULL;
}

double
tc_planck_counts (const TcCalibration *cal, double kelvin)
{
  return cal->r1 / (cal->r2 * (exp (cal->b / kelvin) - cal->f)) - cal->o;
}

double
tc_planck_kelvin (const TcCalibration *cal, double counts)
{
  double x = counts + cal->o;
  double arg;

  if (!(x > 0.0))
    return NAN;
  arg = cal->r1 / (cal->r2 * x) + cal->f;
  if (!(arg > 1.0))
    return NAN;
  return cal->b / log (arg);
}

static double
atmospheric_tau (const TcCalibration *cal, double distance, double h2o)
{
  double d = sqrt (distance / 2.0);
  double s = sqrt (h2o);

  return cal->atx * exp (-d * (cal->ata1 + cal->atb1 * s)) +
      (1.0 - cal->atx) * exp (-d * (cal->ata2 + cal->atb2 * s));
}

void
tc_chain_init (TcChain *chain, const TcCalibration *cal, const TcObjectParams *p)
{
  double e = p->emissivity;
  double irt = p->window_transmission;
  double t_atm = p->atmospheric_temp;
  double h2o, tau1, tau2;
  double raw_refl, raw_atm, raw_win;
  double emiss_win = 1.0 - irt;
  double refl_win = 0.0;

  chain->cal = *cal;

  /* Water vapour content from relative humidity and air temperature. */
  h2o = p->relative_humidity * exp (1.5587 + 0.06939 * t_atm - 0.00027816 * t_atm * t_atm +
      0.00000068455 * t_atm * t_atm * t_atm);
  /* The window, if any, sits half way: the path is split in two. */
  tau1 = atmospheric_tau (cal, p->distance, h2o);
  tau2 = tau1;

  raw_refl = tc_planck_counts (cal, p->reflected_temp + TC_KELVIN_OFFSET);
  raw_atm = tc_planck_counts (cal, t_atm + TC_KELVIN_OFFSET);
  raw_win = tc_planck_counts (cal, p->window_temp + TC_KELVIN_OFFSET);

  chain->tau1 = tau1;
  chain->tau2 = tau2;
  chain->gain = 1.0 / (e * tau1 * irt * tau2);
  chain->offset =
      (1.0 - e) / e * raw_refl +                    /* reflected, before the window */
      (1.0 - tau1) / e / tau1 * raw_atm +           /* atmosphere, object side */
      emiss_win / e / tau1 / irt * raw_win +        /* window emission */
      refl_win / e / tau1 / irt * raw_refl +        /* reflection off the window */
      (1.0 - tau2) / e / tau1 / irt / tau2 * raw_atm; /* atmosphere, camera side */
}

double
tc_chain_raw_to_kelvin (const TcChain *chain, double raw)
{
  return tc_planck_kelvin (&chain->cal, raw * chain->gain - chain->offset);
}

double
tc_chain_kelvin_to_raw (const TcChain *chain, double kelvin)
{
  return (tc_planck_counts (&chain->cal, kelvin) + chain->offset) / chain->gain;
}

double
tc_chain_responsivity (const TcChain *chain, double kelvin)
{
  double ex = exp (chain->cal.b / kelvin);
  double den = ex - chain->cal.f;
  double d = chain->cal.r1 / chain->cal.r2 * ex * chain->cal.b / (kelvin * kelvin * den * den);

  return d / chain->gain;
}

double
tc_scale_for_range (double range_max_c)
{
  /* 0.01 K holds up to 655.35 K (382.2 C); hotter ranges need 0.1 K. */
  return (range_max_c + TC_KELVIN_OFFSET) <= 655.35 ? 0.01 : 0.1;
}

bool
tc_radiometry_lut_build (uint16_t *lut, const TcChain *chain, double scale,
    uint16_t *valid_lo, uint16_t *valid_hi)
{
  long lo = -1, hi = -1;
  long i;

  for (i = 0; i < 65536; i++) {
    double k = tc_chain_raw_to_kelvin (chain, (double) i);
    double v = k / scale;

    if (isfinite (v) && v >= 0.0 && v <= 65535.0) {
      lut[i] = (uint16_t) lrint (v);
      if (lo < 0)
        lo = i;
      hi = i;
    } else {
      lut[i] = 0;
    }
  }

  if (lo < 0) {
    memset (lut, 0, 65536 * sizeof (uint16_t));
    *valid_lo = 1;
    *valid_hi = 0;
    return false;
  }
  /* The chain is monotonic in raw, so the valid counts are one interval;
   * clamp both sides to its ends. */
  for (i = 0; i < lo; i++)
    lut[i] = lut[lo];
  for (i = hi + 1; i < 65536; i++)
    lut[i] = lut[hi];
  *valid_lo = (uint16_t) lo;
  *valid_hi = (uint16_t) hi;
  return true;
}

uint64_t
tc_radiometry_lut_apply (const uint16_t *lut, uint16_t valid_lo, uint16_t valid_hi,
    const uint8_t *src, size_t src_stride, uint8_t *dst, size_t dst_stride,
    int width, int height)
{
  uint64_t clamped = 0;
  const uint32_t span = (uint32_t) (uint16_t) (valid_hi - valid_lo);
  int x, y;

  for (y = 0; y < height; y++) {
    const uint16_t *s = (const uint16_t *) (src + (size_t) y * src_stride);
    uint16_t *d = (uint16_t *) (dst + (size_t) y * dst_stride);
    uint32_t n = 0;

    for (x = 0; x + 4 <= width; x += 4) {
      uint16_t a = s[x], b = s[x + 1], c = s[x + 2], e = s[x + 3];
      d[x] = lut[a];
      d[x + 1] = lut[b];
      d[x + 2] = lut[c];
      d[x + 3] = lut[e];
      n += ((uint32_t) (uint16_t) (a - valid_lo) > span) +
          ((uint32_t) (uint16_t) (b - valid_lo) > span) +
          ((uint32_t) (uint16_t) (c - valid_lo) > span) +
          ((uint32_t) (uint16_t) (e - valid_lo) > span);
    }
    for (; x < width; x++) {
      uint16_t a = s[x];
      d[x] = lut[a];
      n += (uint32_t) (uint16_t) (a - valid_lo) > span;
    }
    clamped += n;
  }
  return clamped;
}
