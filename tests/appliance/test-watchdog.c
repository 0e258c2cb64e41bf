/* thermocamd: when the systemd watchdog is pinged (appliance/daemon/tcd-watchdog.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-watchdog.h"

#define S G_USEC_PER_SEC

/* Frames moving: a ping at every tick */
static void
test_frames (void)
{
  TcdWatchdog w;
  tcd_watchdog_init (&w, 60 * S, 0);
  for (gint64 t = 0; t < 600 * S; t += 30 * S)
    g_assert_true (tcd_watchdog_check (&w, t / 40000, 0, t));
}

/* The first frames have one period to come */
static void
test_start (void)
{
  TcdWatchdog w;
  tcd_watchdog_init (&w, 60 * S, 1000 * S);
  g_assert_true (tcd_watchdog_check (&w, 0, 0, 1000 * S));
  g_assert_true (tcd_watchdog_check (&w, 0, 0, 1030 * S));
  g_assert_false (tcd_watchdog_check (&w, 0, 0, 1060 * S));
}

/* The pipeline stops (no frame, no restart) while the main loop runs: the
 * pings stop once a period has gone by, and come back with the frames */
static void
test_stall (void)
{
  TcdWatchdog w;
  tcd_watchdog_init (&w, 60 * S, 0);
  g_assert_true (tcd_watchdog_check (&w, 100, 0, 10 * S));
  g_assert_true (tcd_watchdog_check (&w, 200, 0, 20 * S));
  g_assert_true (tcd_watchdog_check (&w, 200, 0, 50 * S));
  g_assert_true (tcd_watchdog_check (&w, 200, 0, 79 * S));
  g_assert_false (tcd_watchdog_check (&w, 200, 0, 80 * S));
  g_assert_false (tcd_watchdog_check (&w, 200, 0, 200 * S));
  g_assert_true (tcd_watchdog_check (&w, 201, 0, 210 * S));
}

/* The sensor is away and the pipeline restarts by itself (at most 35 s
 * apart): still alive; restarts that stop for a period: no ping */
static void
test_restarts (void)
{
  TcdWatchdog w;
  gint64 t = 0, r = 0;
  tcd_watchdog_init (&w, 60 * S, 0);
  g_assert_true (tcd_watchdog_check (&w, 500, r, t));
  for (t = 5 * S; t < 600 * S; t += 35 * S)
    g_assert_true (tcd_watchdog_check (&w, 500, ++r, t));
  g_assert_false (tcd_watchdog_check (&w, 500, r, t + 60 * S));
}

/* Counters that start again (a rebuilt pipeline counts from 0) are
 * progress too */
static void
test_reset (void)
{
  TcdWatchdog w;
  tcd_watchdog_init (&w, 60 * S, 0);
  g_assert_true (tcd_watchdog_check (&w, 9000, 3, 10 * S));
  g_assert_true (tcd_watchdog_check (&w, 0, 3, 65 * S));
  g_assert_true (tcd_watchdog_check (&w, 0, 3, 120 * S));
  g_assert_false (tcd_watchdog_check (&w, 0, 3, 125 * S));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/watchdog/frames", test_frames);
  g_test_add_func ("/watchdog/start", test_start);
  g_test_add_func ("/watchdog/stall", test_stall);
  g_test_add_func ("/watchdog/restarts", test_restarts);
  g_test_add_func ("/watchdog/reset", test_reset);
  return g_test_run ();
}
