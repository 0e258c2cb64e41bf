/* thermocamd: the temperature and event history (settings `history`)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Started by the daemon: every history.interval_s seconds (at most once a
 * second) it takes the newest temperature frame's readings (the scene and
 * every rule's max/min/avg) to the store (tcd-history-store.h), and every
 * event of the bus but the readings (alarms, exceptions, ...) as the event
 * stream sends it.  Everything here runs on the main loop and never waits on
 * SQLite: the store's worker writes.  The services read it with the store's
 * queries (from a worker thread) on tcd_history_path ().
 */
#pragma once

#include "tcd-bus.h"
#include "tcd-config.h"
#include "tcd-history-store.h"
#include "tcd-pipeline.h"

G_BEGIN_DECLS

typedef struct _TcdHistory TcdHistory;

TcdHistory  *tcd_history_new (TcdConfig *config, TcdBus *bus, TcdPipeline *pipeline,
                              const gchar *state_dir, GError **error);
void         tcd_history_free (TcdHistory *h);
/* the configuration changed (history.*): applied live */
void         tcd_history_apply (TcdHistory *h, JsonNode *doc);
/* the database file, for the queries */
const gchar *tcd_history_path (TcdHistory *h);
gboolean     tcd_history_enabled (TcdHistory *h);
/* the store's statistics, and "enabled", "interval_s" */
JsonNode    *tcd_history_stats (TcdHistory *h);
/* Waits for the store to have written what was queued (tests, export) */
void         tcd_history_flush (TcdHistory *h);

G_END_DECLS
