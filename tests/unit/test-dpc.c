/* thermocam: unit tests of defective pixel correction
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <string.h>

#include "tc-dpc.h"

static void
test_isolated_defect_takes_neighbour_mean (void)
{
  const int w = 5, h = 5;
  uint8_t bad[25] = { 0 };
  uint16_t frame[25];
  TcDpcMap map;
  int i;

  for (i = 0; i < 25; i++)
    frame[i] = 1000 + i;          /* a ramp: the mean of a 3x3 ring is the centre */
  bad[12] = 1;
  frame[12] = 65535;
  tc_dpc_map_init (&map);
  g_assert_true (tc_dpc_map_build (&map, bad, w, h));
  g_assert_cmpuint (map.n, ==, 1);
  g_assert_cmpuint (map.entries[0].n, ==, 8);
  tc_dpc_apply (&map, (uint8_t *) frame, w * 2);
  g_assert_cmpuint (frame[12], ==, 1012);
  g_assert_cmpuint (frame[11], ==, 1011);   /* neighbours untouched */
  tc_dpc_map_clear (&map);
}

static void
test_corner_and_cluster (void)
{
  const int w = 6, h = 4;
  uint8_t bad[24] = { 0 };
  uint16_t frame[24];
  TcDpcMap map;
  int i;

  for (i = 0; i < 24; i++)
    frame[i] = 500;
  /* a corner pixel, and a 3x3 cluster whose centre has no good 3x3 neighbour */
  bad[0] = 1;
  frame[0] = 0;
  for (i = 0; i < 24; i++) {
    int x = i % w, y = i / w;
    if (x >= 2 && x <= 4 && y >= 0 && y <= 2) {
      bad[i] = 1;
      frame[i] = 9;
    }
  }
  tc_dpc_map_init (&map);
  g_assert_true (tc_dpc_map_build (&map, bad, w, h));
  g_assert_cmpuint (map.n, ==, 10);
  g_assert_cmpuint (map.uncorrectable, ==, 0);
  tc_dpc_apply (&map, (uint8_t *) frame, w * 2);
  for (i = 0; i < 24; i++)
    g_assert_cmpuint (frame[i], ==, 500);
  tc_dpc_map_clear (&map);
}

static void
test_all_bad_is_uncorrectable (void)
{
  uint8_t bad[9];
  TcDpcMap map;

  memset (bad, 1, sizeof (bad));
  tc_dpc_map_init (&map);
  g_assert_true (tc_dpc_map_build (&map, bad, 3, 3));
  g_assert_cmpuint (map.n, ==, 0);
  g_assert_cmpuint (map.uncorrectable, ==, 9);
  tc_dpc_map_clear (&map);
}

static void
test_detect (void)
{
  const int w = 32, h = 24;
  uint32_t acc[32 * 24];
  uint8_t bad[32 * 24] = { 0 };
  float gain[32 * 24], offset[32 * 24];
  size_t found;
  int i;

  for (i = 0; i < w * h; i++) {
    /* 4 frames of a uniform 9000 with a little pattern the tables remove */
    gain[i] = 1.0f;
    offset[i] = -(float) (i % 5);
    acc[i] = 4 * (9000 + i % 5) + (i % 3);
  }
  acc[5 * w + 7] = 4 * 120;       /* dead */
  acc[10 * w + 20] = 4 * 62000;   /* hot */
  acc[20 * w + 3] = 4 * 9300;     /* 300 high: under a 400 threshold */
  found = tc_dpc_detect (acc, 4, gain, offset, w, h, 400.0, bad);
  g_assert_cmpuint (found, ==, 2);
  g_assert_true (bad[5 * w + 7]);
  g_assert_true (bad[10 * w + 20]);
  g_assert_false (bad[20 * w + 3]);
  /* a second pass finds nothing new */
  g_assert_cmpuint (tc_dpc_detect (acc, 4, gain, offset, w, h, 400.0, bad), ==, 0);
  /* a lower threshold finds the third */
  g_assert_cmpuint (tc_dpc_detect (acc, 4, gain, offset, w, h, 200.0, bad), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dpc/isolated-defect", test_isolated_defect_takes_neighbour_mean);
  g_test_add_func ("/dpc/corner-and-cluster", test_corner_and_cluster);
  g_test_add_func ("/dpc/all-bad", test_all_bad_is_uncorrectable);
  g_test_add_func ("/dpc/detect", test_detect);
  return g_test_run ();
}
