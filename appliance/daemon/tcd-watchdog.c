/* thermocamd: when the systemd watchdog is told all is well (tcd-watchdog.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-watchdog.h"

void
tcd_watchdog_init (TcdWatchdog *w, guint64 period_us, gint64 now_us)
{
  w->period_us = period_us;
  w->frames = w->restarts = -1;
  /* the start counts as progress: the first frames have one period to come */
  w->progress_us = now_us;
}

gboolean
tcd_watchdog_check (TcdWatchdog *w, gint64 frames, gint64 restarts, gint64 now_us)
{
  if (frames != w->frames || restarts != w->restarts) {
    w->frames = frames;
    w->restarts = restarts;
    w->progress_us = now_us;
  }
  return now_us - w->progress_us < (gint64) w->period_us;
}
