/* thermocamd: the commands several protocols offer, in one place
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The flat-field correction, alarm outputs by hand, restore and factory
 * default, reboot and activation: whoever asks (HTTP, Modbus, next ONVIF and
 * MQTT), each does the same thing, with one audit text and one rate limit.
 * What happens after (the servers restart, sessions end) is the daemon's:
 * it gives the hooks.
 */
#pragma once

#include "tcd-change.h"
#include "tcd-events.h"
#include "tcd-pipeline.h"
#include "tcd-users.h"

G_BEGIN_DECLS

/* A flat-field correction runs at most this often, whoever asks */
#define TCD_FFC_MIN_US (5 * G_USEC_PER_SEC)

typedef struct _TcdCommands TcdCommands;

typedef struct {
  /* restart the pipelines and servers in place, soon (from the main loop) */
  void (*reboot) (gpointer user_data);
  /* the accounts were reset to the factory state: every session ends */
  void (*factory_reset) (gpointer user_data);
  /* the HTTPS certificate was removed (or replaced) */
  void (*certificate_changed) (gpointer user_data);
  gpointer user_data;
} TcdCommandsHooks;

TcdCommands *tcd_commands_new (TcdChange *change, TcdSecurity *security, TcdUsers *users,
                               TcdPipeline *pipeline, TcdEvents *events,
                               const gchar *state_dir);
void         tcd_commands_free (TcdCommands *c);
void         tcd_commands_set_hooks (TcdCommands *c, const TcdCommandsHooks *hooks);

/* A flat-field correction; FALSE: the last one ran less than TCD_FFC_MIN_US
 * ago, this one is not repeated (nor audited), and *@wait_us (may be NULL)
 * says how long until one may run */
gboolean tcd_commands_ffc (TcdCommands *c, const TcdOrigin *origin, gint64 *wait_us);
/* Background correction (manual 7.2.2, a uniform object in front of the
 * lens): the same rate limit as the flat-field correction (both freeze the
 * picture), FALSE and *@wait_us as there */
gboolean tcd_commands_background (TcdCommands *c, const TcdOrigin *origin, gint64 *wait_us);
/* Alarm output @id (1..) on (triggered by hand) or off (cleared).  With
 * @if_changes, a request that changes nothing does nothing (a PLC writing
 * its output image every cycle): FALSE then, nothing audited. */
gboolean tcd_commands_output (TcdCommands *c, guint id, gboolean on, gboolean if_changes,
                              const TcdOrigin *origin, GError **error);
/* Restore the defaults (@factory FALSE: ports, security and users kept,
 * manual 10.5) or the factory state (everything: users, certificate,
 * overlay picture, captures and recordings; the audit log, the serial and
 * the calibration stay) */
gboolean tcd_commands_restore (TcdCommands *c, gboolean factory, const TcdOrigin *origin,
                               GError **error);
/* Restore the defaults as tcd_commands_restore (@factory FALSE) does, the
 * sections named in @keep (NULL-terminated) left as they are too: those a
 * caller below the administrator may not change (the network chapter's) */
gboolean tcd_commands_restore_keeping (TcdCommands *c, const gchar * const *keep,
                                       const TcdOrigin *origin, GError **error);
/* The servers restart in place soon */
void     tcd_commands_reboot (TcdCommands *c, const TcdOrigin *origin);
/* The first administrator's password (manual 2.2); TCD_USERS_ERROR */
gboolean tcd_commands_activate (TcdCommands *c, const gchar *password,
                                const TcdOrigin *origin, GError **error);

G_END_DECLS
