/* thermocam: unit tests of the non-uniformity correction
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tc-nuc.h"

static void
test_apply_rounds_and_clamps (void)
{
  float gain[6] = { 1.0f, 2.0f, 0.5f, 1.0f, 1.0f, 1.1f };
  float offset[6] = { 0.0f, -10.0f, 0.25f, -100.0f, 70000.0f, 0.0f };
  uint16_t src[6] = { 1000, 1000, 1001, 50, 10, 60000 };
  uint16_t dst[6];

  tc_nuc_apply (gain, offset, (uint8_t *) src, sizeof (src), (uint8_t *) dst,
      sizeof (dst), 6, 1);
  g_assert_cmpuint (dst[0], ==, 1000);
  g_assert_cmpuint (dst[1], ==, 1990);
  g_assert_cmpuint (dst[2], ==, 501);     /* 500.75 rounds up */
  g_assert_cmpuint (dst[3], ==, 0);       /* clamped low */
  g_assert_cmpuint (dst[4], ==, 65535);   /* clamped high */
  g_assert_cmpuint (dst[5], ==, 65535);
}

static void
test_apply_with_strides (void)
{
  /* 3x2 frame in rows of 4 pixels */
  float gain[6] = { 1, 1, 1, 2, 2, 2 };
  float offset[6] = { 1, 2, 3, 0, 0, 0 };
  uint16_t src[8] = { 10, 20, 30, 999, 5, 6, 7, 999 };
  uint16_t dst[8] = { 0 };

  tc_nuc_apply (gain, offset, (uint8_t *) src, 8, (uint8_t *) dst, 8, 3, 2);
  g_assert_cmpuint (dst[0], ==, 11);
  g_assert_cmpuint (dst[2], ==, 33);
  g_assert_cmpuint (dst[3], ==, 0);    /* padding untouched */
  g_assert_cmpuint (dst[4], ==, 10);
  g_assert_cmpuint (dst[6], ==, 14);
}

static void
test_flat_field (void)
{
  const int w = 4, h = 2;
  float gain[8] = { 1, 1, 1, 1, 2, 1, 1, 1 };
  float offset[8] = { 0 };
  uint32_t acc[8] = { 0 };
  uint16_t frame[8] = { 100, 110, 90, 100, 50, 100, 100, 30000 };
  uint8_t bad[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
  uint16_t out[8];
  double target;
  int i;

  for (i = 0; i < 4; i++)
    tc_nuc_accumulate (acc, (uint8_t *) frame, w * 2, w, h);
  g_assert_cmpuint (acc[1], ==, 440);

  /* absolute: every good pixel reads the target */
  target = tc_nuc_flat_field (offset, gain, acc, 4, 500.0, bad, w, h);
  g_assert_cmpfloat (target, ==, 500.0);
  tc_nuc_apply (gain, offset, (uint8_t *) frame, w * 2, (uint8_t *) out, w * 2, w, h);
  for (i = 0; i < 7; i++)
    g_assert_cmpuint (out[i], ==, 500);
  g_assert_cmpfloat (offset[7], ==, 0.0f);   /* the bad pixel kept its offset */

  /* relative: the mean of the good pixels */
  memset (offset, 0, sizeof (offset));
  target = tc_nuc_flat_field (offset, gain, acc, 4, NAN, bad, w, h);
  g_assert_cmpfloat (fabs (target - 100.0), <, 1e-9);
  tc_nuc_apply (gain, offset, (uint8_t *) frame, w * 2, (uint8_t *) out, w * 2, w, h);
  for (i = 0; i < 7; i++)
    g_assert_cmpuint (out[i], ==, 100);
}

static void
test_file_round_trip_and_errors (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tcnuc-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "t.nuc", NULL);
  g_autofree gchar *bad = g_build_filename (dir, "bad.nuc", NULL);
  float gain[6] = { 1, 1.5f, 0.9f, 1, 1, 1 }, offset[6] = { -3, 4, 5, 6, 7, 8.25f };
  float *g = NULL, *o = NULL;
  int w = 0, h = 0;
  char err[256];
  gchar *data;
  gsize len;

  g_assert_true (tc_nuc_file_write (path, 3, 2, gain, offset, err, sizeof (err)));
  g_assert_true (tc_nuc_file_read (path, &w, &h, &g, &o, err, sizeof (err)));
  g_assert_cmpint (w, ==, 3);
  g_assert_cmpint (h, ==, 2);
  g_assert_cmpmem (g, sizeof (gain), gain, sizeof (gain));
  g_assert_cmpmem (o, sizeof (offset), offset, sizeof (offset));
  free (g);
  free (o);

  /* truncated */
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_true (g_file_set_contents (bad, data, len - 3, NULL));
  g_assert_false (tc_nuc_file_read (bad, &w, &h, &g, &o, err, sizeof (err)));
  g_assert_nonnull (strstr (err, "truncated"));
  /* trailing garbage */
  {
    gchar *more = g_malloc (len + 1);
    memcpy (more, data, len);
    more[len] = 'x';
    g_assert_true (g_file_set_contents (bad, more, len + 1, NULL));
    g_free (more);
  }
  g_assert_false (tc_nuc_file_read (bad, &w, &h, &g, &o, err, sizeof (err)));
  g_assert_nonnull (strstr (err, "trailing"));
  /* wrong magic */
  data[0] = 'X';
  g_assert_true (g_file_set_contents (bad, data, len, NULL));
  g_assert_false (tc_nuc_file_read (bad, &w, &h, &g, &o, err, sizeof (err)));
  g_assert_nonnull (strstr (err, "header"));
  /* a NaN in the tables */
  data[0] = 'T';
  memset (data + 16, 0xff, 4);
  g_assert_true (g_file_set_contents (bad, data, len, NULL));
  g_assert_false (tc_nuc_file_read (bad, &w, &h, &g, &o, err, sizeof (err)));
  /* missing */
  g_assert_false (tc_nuc_file_read ("/nonexistent/x.nuc", &w, &h, &g, &o, err, sizeof (err)));
  g_free (data);
  g_unlink (path);
  g_unlink (bad);
  g_rmdir (dir);
}

static void
test_speed (void)
{
  const int w = 640, h = 512;
  float *gain = g_new (float, w * h), *offset = g_new (float, w * h);
  uint16_t *src = g_new (uint16_t, w * h), *dst = g_new (uint16_t, w * h);
  gint64 t0;
  int i;

  for (i = 0; i < w * h; i++) {
    gain[i] = 1.0f + (i % 13) * 0.001f;
    offset[i] = (i % 7) * 3.0f;
    src[i] = 8000 + i % 1000;
  }
  t0 = g_get_monotonic_time ();
  for (i = 0; i < 100; i++)
    tc_nuc_apply (gain, offset, (uint8_t *) src, w * 2, (uint8_t *) dst, w * 2, w, h);
  g_test_message ("nuc apply 640x512: %.3f ms per frame",
      (g_get_monotonic_time () - t0) / 1000.0 / 100);
  g_assert_cmpuint (dst[0], ==, 8000);
  g_free (gain);
  g_free (offset);
  g_free (src);
  g_free (dst);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nuc/apply-rounds-and-clamps", test_apply_rounds_and_clamps);
  g_test_add_func ("/nuc/apply-with-strides", test_apply_with_strides);
  g_test_add_func ("/nuc/flat-field", test_flat_field);
  g_test_add_func ("/nuc/file-round-trip-and-errors", test_file_round_trip_and_errors);
  g_test_add_func ("/nuc/speed", test_speed);
  return g_test_run ();
}
