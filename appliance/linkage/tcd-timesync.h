/* thermocamd: the device clock kept by an NTP server (manual 10.8.2)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * With time.ntp.enabled, the server is asked (SNTP, core/tcd-sntp.h) when
 * the settings change and every interval_s minutes; the device clock's
 * offset (core/tcd-clock.h) is stepped or slewed to the server's time by
 * time.ntp.policy.  When the server stops answering, the exception
 * "time_sync_failed" starts (once); its next answer stops it.
 */
#pragma once

#include "tcd-events.h"
#include "tcd-sntp.h"

G_BEGIN_DECLS

typedef struct _TcdTimesync TcdTimesync;

TcdTimesync *tcd_timesync_new (TcdEvents *events);
void         tcd_timesync_free (TcdTimesync *t);
/* The configuration changed: a change of time.ntp syncs at once */
void         tcd_timesync_apply (TcdTimesync *t, JsonNode *doc);
/* {"enabled", "server", "port", "state": "off"|"unknown"|"ok"|"failing",
 *  "last_sync", "last_offset_ms", "stratum", "delay_ms", "error", "slewing_ms"} */
JsonNode    *tcd_timesync_status (TcdTimesync *t);
/* The Test action: ask @host:@port once, the clock untouched; the result's
 * offset is against the host: less tcd_clock_get_offset () is the device's */
void           tcd_timesync_test_async (TcdTimesync *t, const gchar *host, guint port,
                                        guint timeout_ms, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
TcdSntpResult *tcd_timesync_test_finish (GAsyncResult *result, GError **error);

G_END_DECLS
