/* thermocamd: when the systemd watchdog is told all is well (tcd-systemd.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The ping goes out from the main loop (so a main loop that stops sends
 * none) and only while the core pipeline makes progress: its frame counter,
 * or its restart counter while it recovers by itself (a sensor away), moved
 * within the watchdog's period.  A pipeline that neither delivers nor
 * restarts for that long stops the pings: systemd restarts the daemon.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 period_us;            /* WATCHDOG_USEC */
  gint64 frames, restarts;      /* the counters at the last look; -1: none yet */
  gint64 progress_us;           /* monotonic time they last moved */
} TcdWatchdog;

void     tcd_watchdog_init (TcdWatchdog *w, guint64 period_us, gint64 now_us);
/* At each tick with the pipeline's counters: TRUE to ping */
gboolean tcd_watchdog_check (TcdWatchdog *w, gint64 frames, gint64 restarts, gint64 now_us);

G_END_DECLS
