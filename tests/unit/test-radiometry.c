/* thermocam: unit tests of the radiometric chain
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tc-calib-json.h"
#include "tc-radiometry.h"

/* The chain written out term by term as Thermimage's raw2temp publishes it,
 * to check the reduced form against. */
static double
raw2temp_reference (double raw, const TcCalibration *c, const TcObjectParams *p)
{
  double E = p->emissivity, OD = p->distance, RTemp = p->reflected_temp;
  double ATemp = p->atmospheric_temp, IRWTemp = p->window_temp;
  double IRT = p->window_transmission, RH = p->relative_humidity;
  double emiss_wind = 1 - IRT, refl_wind = 0;
  double h2o = RH * exp (1.5587 + 0.06939 * ATemp - 0.00027816 * pow (ATemp, 2) +
      0.00000068455 * pow (ATemp, 3));
  double tau1 = c->atx * exp (-sqrt (OD / 2) * (c->ata1 + c->atb1 * sqrt (h2o))) +
      (1 - c->atx) * exp (-sqrt (OD / 2) * (c->ata2 + c->atb2 * sqrt (h2o)));
  double tau2 = tau1;
  double raw_refl1 = c->r1 / (c->r2 * (exp (c->b / (RTemp + 273.15)) - c->f)) - c->o;
  double raw_refl1_attn = (1 - E) / E * raw_refl1;
  double raw_atm1 = c->r1 / (c->r2 * (exp (c->b / (ATemp + 273.15)) - c->f)) - c->o;
  double raw_atm1_attn = (1 - tau1) / E / tau1 * raw_atm1;
  double raw_wind = c->r1 / (c->r2 * (exp (c->b / (IRWTemp + 273.15)) - c->f)) - c->o;
  double raw_wind_attn = emiss_wind / E / tau1 / IRT * raw_wind;
  double raw_refl2 = raw_refl1;
  double raw_refl2_attn = refl_wind / E / tau1 / IRT * raw_refl2;
  double raw_atm2 = raw_atm1;
  double raw_atm2_attn = (1 - tau2) / E / tau1 / IRT / tau2 * raw_atm2;
  double raw_obj = raw / E / tau1 / IRT / tau2 - raw_atm1_attn - raw_atm2_attn -
      raw_wind_attn - raw_refl1_attn - raw_refl2_attn;

  return c->b / log (c->r1 / (c->r2 * (raw_obj + c->o)) + c->f) - 273.15;
}

static gchar *
sample_path (const gchar *name)
{
  const gchar *dir = g_getenv ("THERMOCAM_SAMPLES");

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

/* exiftool -j -n on the real file, as a user would */
static gchar *
exiftool_json (const gchar *file)
{
  gchar *argv[] = { (gchar *) "exiftool", (gchar *) "-j", (gchar *) "-n",
    (gchar *) file, NULL };
  gchar *out = NULL;
  gint status = 0;
  GError *err = NULL;

  g_assert_true (g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
          G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, &err));
  g_assert_no_error (err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return out;
}

static void
test_ir2412_published_value (void)
{
  g_autofree gchar *path = sample_path ("IR_2412.jpg");
  g_autofree gchar *json = exiftool_json (path);
  TcCalibration cal;
  TcObjectParams obj;
  gboolean has_obj = FALSE;
  GError *err = NULL;
  TcChain chain;
  double t, ref;
  uint16_t *lut = g_new (uint16_t, 65536);
  uint16_t lo, hi;

  tc_object_params_init_default (&obj);
  g_assert_true (tc_calibration_parse_json (json, -1, &cal, &obj, &has_obj, &err));
  g_assert_no_error (err);
  g_assert_true (has_obj);
  g_assert_cmpfloat_with_epsilon (cal.r1, 21106.76953125, 1e-6);
  g_assert_cmpfloat_with_epsilon (cal.o, -7340, 1e-9);
  /* the string-valued constants exiftool prints were read */
  g_assert_cmpfloat_with_epsilon (cal.atb1, -0.00227600010111928, 1e-12);
  g_assert_cmpfloat_with_epsilon (obj.emissivity, 0.95, 1e-6);
  g_assert_cmpfloat_with_epsilon (obj.relative_humidity, 0.5, 1e-9);

  tc_chain_init (&chain, &cal, &obj);
  t = tc_chain_raw_to_kelvin (&chain, 18090) - TC_KELVIN_OFFSET;
  ref = raw2temp_reference (18090, &cal, &obj);
  g_test_message ("IR_2412 raw 18090: %.4f C (reference form %.4f, published 23.7344)",
      t, ref);
  g_assert_cmpfloat (fabs (t - 23.7344), <, 0.01);
  g_assert_cmpfloat (fabs (t - ref), <, 1e-9);

  /* the table gives the same within its 0.01 K step */
  g_assert_true (tc_radiometry_lut_build (lut, &chain, 0.01, &lo, &hi));
  g_assert_cmpfloat (fabs (lut[18090] * 0.01 - TC_KELVIN_OFFSET - 23.7344), <, 0.01);
  g_free (lut);
}

static void
test_matches_reference_form (void)
{
  TcCalibration cal;
  TcObjectParams p;
  TcChain chain;
  const double emiss[] = { 1.0, 0.95, 0.6, 0.1 };
  const double dist[] = { 0.0, 1.0, 25.0, 500.0 };
  const double win[] = { 1.0, 0.8 };
  guint i, j, k;

  tc_calibration_init_default (&cal);
  for (i = 0; i < G_N_ELEMENTS (emiss); i++)
    for (j = 0; j < G_N_ELEMENTS (dist); j++)
      for (k = 0; k < G_N_ELEMENTS (win); k++) {
        double raw;

        tc_object_params_init_default (&p);
        p.emissivity = emiss[i];
        p.distance = dist[j];
        p.window_transmission = win[k];
        p.window_temp = 35.0;
        p.reflected_temp = 10.0;
        p.atmospheric_temp = 28.0;
        p.relative_humidity = 0.8;
        tc_chain_init (&chain, &cal, &p);
        for (raw = 9000; raw < 40000; raw += 2500) {
          double a = tc_chain_raw_to_kelvin (&chain, raw) - TC_KELVIN_OFFSET;
          double b = raw2temp_reference (raw, &cal, &p);

          if (isnan (b)) {
            g_assert_true (isnan (a));
            continue;
          }
          g_assert_cmpfloat (fabs (a - b), <, 1e-9);
        }
      }
}

static void
test_inverse_round_trip (void)
{
  TcCalibration cal;
  TcObjectParams p;
  TcChain chain;
  double c;

  tc_calibration_init_default (&cal);
  tc_object_params_init_default (&p);
  p.emissivity = 0.7;
  p.distance = 12.0;
  p.window_transmission = 0.9;
  tc_chain_init (&chain, &cal, &p);
  for (c = -20; c <= 150; c += 5) {
    double raw = tc_chain_kelvin_to_raw (&chain, c + TC_KELVIN_OFFSET);
    double back = tc_chain_raw_to_kelvin (&chain, raw) - TC_KELVIN_OFFSET;

    g_assert_cmpfloat (fabs (back - c), <, 1e-9);
    /* responsivity is the slope */
    g_assert_cmpfloat (fabs (tc_chain_responsivity (&chain, c + TC_KELVIN_OFFSET) -
            (tc_chain_kelvin_to_raw (&chain, c + TC_KELVIN_OFFSET + 0.001) -
                tc_chain_kelvin_to_raw (&chain, c + TC_KELVIN_OFFSET - 0.001)) / 0.002),
        <, 1e-3);
  }
  /* more emissivity, fewer counts for the same temperature... and a hotter
   * reading for the same counts when the user lowers emissivity */
  {
    TcChain c1, c2;
    TcObjectParams p1 = p, p2 = p;

    p1.emissivity = 0.95;
    p2.emissivity = 0.5;
    tc_chain_init (&c1, &cal, &p1);
    tc_chain_init (&c2, &cal, &p2);
    g_assert_cmpfloat (tc_chain_raw_to_kelvin (&c2, 20000), >,
        tc_chain_raw_to_kelvin (&c1, 20000));
  }
}

static void
test_domain_and_clamping (void)
{
  TcCalibration cal;
  TcObjectParams p;
  TcChain chain;
  uint16_t *lut = g_new (uint16_t, 65536);
  uint16_t lo, hi, src[8], dst[8];
  guint64 clamped;
  int i;

  tc_calibration_init_default (&cal);
  tc_object_params_init_default (&p);
  tc_chain_init (&chain, &cal, &p);
  /* object counts at or below -O have no temperature */
  g_assert_true (isnan (tc_planck_kelvin (&cal, -cal.o)));
  g_assert_true (isnan (tc_planck_kelvin (&cal, -cal.o - 100)));
  g_assert_true (isnan (tc_chain_raw_to_kelvin (&chain, 0)));

  /* a low emissivity puts the top raw counts above what 0.01 K holds (382 C) */
  p.emissivity = 0.2;
  tc_chain_init (&chain, &cal, &p);
  g_assert_true (tc_radiometry_lut_build (lut, &chain, 0.01, &lo, &hi));
  g_assert_cmpuint (lo, >, 0);
  g_assert_cmpuint (hi, <, 65535);
  g_assert_cmpfloat (tc_chain_raw_to_kelvin (&chain, hi + 1), >, 655.35);
  for (i = 0; i < 65536; i++)
    g_assert_cmpuint (lut[i], >=, lut[i > 0 ? i - 1 : 0]);   /* monotonic */
  g_assert_cmpuint (lut[0], ==, lut[lo]);
  g_assert_cmpuint (lut[65535], ==, lut[hi]);

  src[0] = 0;
  src[1] = lo - 1;
  src[2] = lo;
  src[3] = 12000;
  src[4] = hi;
  src[5] = hi + 1;
  src[6] = 65535;
  src[7] = 9000;
  clamped = tc_radiometry_lut_apply (lut, lo, hi, (uint8_t *) src, sizeof (src),
      (uint8_t *) dst, sizeof (dst), 8, 1);
  g_assert_cmpuint (clamped, ==, 4);
  g_assert_cmpuint (dst[0], ==, lut[lo]);
  g_assert_cmpuint (dst[6], ==, lut[hi]);
  g_assert_cmpuint (dst[3], ==, lut[12000]);

  /* with 0.1 K the whole raw range fits */
  g_assert_true (tc_radiometry_lut_build (lut, &chain, 0.1, &lo, &hi));
  g_assert_cmpuint (hi, ==, 65535);

  g_assert_cmpfloat (tc_scale_for_range (150), ==, 0.01);
  g_assert_cmpfloat (tc_scale_for_range (382), ==, 0.01);
  g_assert_cmpfloat (tc_scale_for_range (550), ==, 0.1);
  g_free (lut);
}

static void
test_calibration_json_errors (void)
{
  TcCalibration cal, before;
  TcObjectParams obj, obj_before;
  GError *err = NULL;
  gboolean has = TRUE;

  tc_calibration_init_default (&cal);
  before = cal;
  tc_object_params_init_default (&obj);
  obj_before = obj;

  g_assert_false (tc_calibration_parse_json ("{not json", -1, &cal, &obj, &has, &err));
  g_assert_error (err, TC_CALIB_ERROR, TC_CALIB_ERROR_PARSE);
  g_clear_error (&err);

  g_assert_false (tc_calibration_parse_json ("[1,2]", -1, &cal, NULL, NULL, &err));
  g_assert_error (err, TC_CALIB_ERROR, TC_CALIB_ERROR_PARSE);
  g_clear_error (&err);

  g_assert_false (tc_calibration_parse_json
      ("{\"PlanckR2\":0.01,\"PlanckB\":1400,\"PlanckF\":1,\"PlanckO\":-7000}",
          -1, &cal, &obj, &has, &err));
  g_assert_error (err, TC_CALIB_ERROR, TC_CALIB_ERROR_MISSING);
  g_assert_nonnull (strstr (err->message, "PlanckR1"));
  g_clear_error (&err);

  g_assert_false (tc_calibration_parse_json
      ("{\"PlanckR1\":\"abc\",\"PlanckR2\":0.01,\"PlanckB\":1400,\"PlanckF\":1,\"PlanckO\":-7000}",
          -1, &cal, &obj, &has, &err));
  g_assert_error (err, TC_CALIB_ERROR, TC_CALIB_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "PlanckR1"));
  g_clear_error (&err);

  g_assert_false (tc_calibration_parse_json
      ("{\"PlanckR1\":20000,\"PlanckR2\":0.01,\"PlanckB\":1400,\"PlanckF\":1,\"PlanckO\":-7000,"
          "\"Emissivity\":1.5}", -1, &cal, &obj, &has, &err));
  g_assert_error (err, TC_CALIB_ERROR, TC_CALIB_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "emissivity"));
  g_clear_error (&err);

  g_assert_false (tc_calibration_parse_json
      ("{\"PlanckR1\":-1,\"PlanckR2\":0.01,\"PlanckB\":1400,\"PlanckF\":1,\"PlanckO\":-7000}",
          -1, &cal, &obj, &has, &err));
  g_assert_error (err, TC_CALIB_ERROR, TC_CALIB_ERROR_INVALID);
  g_clear_error (&err);

  /* nothing changed by any of those */
  g_assert_cmpmem (&cal, sizeof (cal), &before, sizeof (before));
  g_assert_cmpmem (&obj, sizeof (obj), &obj_before, sizeof (obj_before));
  g_assert_true (has);

  /* a minimal valid one: defaults for the rest, no object parameters */
  g_assert_true (tc_calibration_parse_json
      ("[{\"PlanckR1\":20000,\"PlanckR2\":0.01,\"PlanckB\":1400,\"PlanckF\":1.3,\"PlanckO\":-7000}]",
          -1, &cal, &obj, &has, &err));
  g_assert_no_error (err);
  g_assert_false (has);
  g_assert_cmpfloat (cal.f, ==, 1.3);
  g_assert_cmpfloat (cal.atx, ==, 1.9);
}

static void
test_lut_speed (void)
{
  TcCalibration cal;
  TcObjectParams p;
  TcChain chain;
  uint16_t *lut = g_new (uint16_t, 65536), lo, hi;
  int w = 640, h = 512, i;
  uint16_t *src = g_new (uint16_t, w * h), *dst = g_new (uint16_t, w * h);
  gint64 t0;

  tc_calibration_init_default (&cal);
  tc_object_params_init_default (&p);
  tc_chain_init (&chain, &cal, &p);
  t0 = g_get_monotonic_time ();
  tc_radiometry_lut_build (lut, &chain, 0.01, &lo, &hi);
  g_test_message ("table build: %.2f ms", (g_get_monotonic_time () - t0) / 1000.0);
  for (i = 0; i < w * h; i++)
    src[i] = (uint16_t) (8000 + ((unsigned) i * 7919u) % 9000u);
  t0 = g_get_monotonic_time ();
  for (i = 0; i < 50; i++)
    tc_radiometry_lut_apply (lut, lo, hi, (uint8_t *) src, w * 2, (uint8_t *) dst,
        w * 2, w, h);
  g_test_message ("table apply 640x512: %.3f ms per frame",
      (g_get_monotonic_time () - t0) / 1000.0 / 50);
  g_assert_cmpuint (dst[123], ==, lut[src[123]]);
  g_free (lut);
  g_free (src);
  g_free (dst);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/radiometry/ir2412-published-value", test_ir2412_published_value);
  g_test_add_func ("/radiometry/matches-reference-form", test_matches_reference_form);
  g_test_add_func ("/radiometry/inverse-round-trip", test_inverse_round_trip);
  g_test_add_func ("/radiometry/domain-and-clamping", test_domain_and_clamping);
  g_test_add_func ("/radiometry/calibration-json-errors", test_calibration_json_errors);
  g_test_add_func ("/radiometry/lut-speed", test_lut_speed);
  return g_test_run ();
}
