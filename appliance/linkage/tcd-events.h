/* thermocamd: events and their linkage (manual 4, 5, 8)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every event the camera sees comes here: measurement alarms and pre-alarms
 * (thermalmeasure), alarm inputs, exceptions, the environment temperature
 * alarm and burning prevention.  Each is streamed (GET /api/v1/events) and,
 * inside its arming schedule, linked: alarm outputs, pictures into the
 * device's storage, FTP upload, email, the surveillance center.  Deliveries
 * go through the spool (tcd-spool.h) and workers; nothing here blocks the
 * main loop.
 */
#pragma once

#include "tcd-alarmio.h"
#include "tcd-bus.h"
#include "tcd-config.h"
#include "tcd-security.h"
#include "tcd-capture.h"
#include "tcd-record.h"
#include "tcd-spool.h"
#include "tcd-store.h"

G_BEGIN_DECLS

typedef struct _TcdEvents TcdEvents;

/* Events are emitted on @bus; the pipeline's alarms and exceptions come in
 * through tcd_events_pipeline_message / tcd_events_pipeline_exception */
TcdEvents *tcd_events_new (TcdConfig *config, TcdSecurity *security, TcdBus *bus,
                           TcdPipeline *pipeline, const gchar *state_dir,
                           const gchar *serial, GError **error);
void       tcd_events_free (TcdEvents *e);
/* The configuration changed (or at start) */
void       tcd_events_apply (TcdEvents *e, JsonNode *doc);

/* A thermal-alarm message of thermalmeasure (a TcdPipelineMessageFunc):
 * streamed as an "alarm" event and linked */
void       tcd_events_pipeline_message (const GstStructure *s, gpointer events);
/* A pipeline exception (a TcdPipelineExceptionFunc) */
void       tcd_events_pipeline_exception (const gchar *kind, const gchar *message,
                                          gpointer events);
/* The illegal login lock shut @address out (a TcdSecurityLockFunc) */
void       tcd_events_illegal_login (TcdEvents *e, const gchar *address, const gchar *service,
                                     const gchar *user, guint minutes);
/* The "alarm" event @ev (borrowed) of a measurement alarm: linked */
void       tcd_events_measurement (TcdEvents *e, JsonNode *ev);
/* An exception (@type: network_disconnected, ip_conflict, illegal_login,
 * calibration_changed, or a pipeline exception) as the "exception" event
 * @ev (borrowed) */
void       tcd_events_exception (TcdEvents *e, const gchar *type, JsonNode *ev);

TcdAlarmIo *tcd_events_get_io (TcdEvents *e);
TcdStore   *tcd_events_get_captures (TcdEvents *e);
TcdStore   *tcd_events_get_recordings (TcdEvents *e);
TcdCapture *tcd_events_get_capture (TcdEvents *e);
TcdRecord  *tcd_events_get_record (TcdEvents *e);
TcdSpool   *tcd_events_get_spool (TcdEvents *e);

/* The state of everything: io, burning prevention, environment, network,
 * delivery, recording, storage */
JsonNode  *tcd_events_state (TcdEvents *e);

/* A test of the FTP, email or center settings @section (a whole section,
 * borrowed; the current one when NULL), run in a worker: @done is called on
 * the main loop with NULL on success or the error */
typedef void (*TcdEventsTestFunc) (GError *error, gpointer user_data);
void       tcd_events_test (TcdEvents *e, const gchar *what, JsonNode *section,
                            TcdEventsTestFunc done, gpointer user_data);

/* A linkage method a service offers (the SNMP trap): @func is called on
 * the main loop for each linked event whose linkage has the member @name
 * true, when it starts (not its repeats), stops or happens (momentary);
 * @tag names its source ("rule-3", "scene", an exception's type) */
typedef void (*TcdEventsMethodFunc) (JsonNode *ev, const gchar *tag, gpointer user_data);
void       tcd_events_add_method (TcdEvents *e, const gchar *name, TcdEventsMethodFunc func,
                                  gpointer user_data);
void       tcd_events_remove_method (TcdEvents *e, const gchar *name);

/* Simulated network backend (tests, demos): the link and an IP conflict */
void       tcd_events_simulate_network (TcdEvents *e, gint link_up, gint ip_conflict);

G_END_DECLS
