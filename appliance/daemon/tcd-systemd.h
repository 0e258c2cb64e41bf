/* thermocamd: the daemon as a systemd service (thermocamd.service)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Readiness, status and the watchdog through sd_notify (libsystemd), and the
 * events to the journal with the daemon's own fields.  Outside systemd (no
 * NOTIFY_SOCKET, stderr not the journal) all of it does nothing.
 */
#pragma once

#include "tcd-bus.h"
#include "tcd-pipeline.h"

G_BEGIN_DECLS

typedef struct _TcdSystemd TcdSystemd;

/* Starts the watchdog pings when systemd asked for them (WATCHDOG_USEC): a
 * ping goes out from the main loop only while the core pipeline makes
 * progress (new frames, or its own restarts while the sensor is away), so
 * that a main loop or a pipeline stuck for longer than the watchdog's time is
 * restarted by systemd.  Events of @bus go to the journal when stderr is the
 * journal (JOURNAL_STREAM) */
TcdSystemd *tcd_systemd_new (TcdPipeline *pipeline, TcdBus *bus);
void        tcd_systemd_free (TcdSystemd *s);

/* An audit record to the journal (a TcdAuditFunc: THERMOCAM_AUDIT, the
 * user and THERMOCAM_ADDRESS), when stderr is the journal */
void        tcd_systemd_audit (const gchar *type, const gchar *user, const gchar *address,
                               const gchar *detail, gpointer user_data);
/* Whether stderr is the journal */
gboolean    tcd_systemd_journal (void);

/* Every server listens: READY=1 (the first time) and STATUS=@status */
void        tcd_systemd_ready (TcdSystemd *s, const gchar *status);
/* STOPPING=1 */
void        tcd_systemd_stopping (TcdSystemd *s);

/* The environment's state directory ($STATE_DIRECTORY, systemd's
 * StateDirectory=; the first of a list), or NULL */
gchar      *tcd_systemd_state_directory (void);

G_END_DECLS
