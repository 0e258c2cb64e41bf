/* thermocamd: TEMPORARY bridge while the HTTP and Modbus services move onto
 * the service context (services/tcd-service.h), the change path
 * (core/tcd-change.h) and the commands (linkage/tcd-commands.h).  Defined in
 * daemon/thermocamd.c.  Goes away in this same step.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "tcd-service.h"

G_BEGIN_DECLS

typedef TcdContext TcdApp;
typedef struct _TcdHttp TcdHttp;

gboolean tcd_app_change_config (TcdApp *app, JsonNode *doc, const gchar *what,
                                const gchar *user, const gchar *address,
                                gchar **field, GError **error);
void     tcd_app_schedule_reboot (TcdApp *app);
void     tcd_app_users_changed (TcdApp *app);
void     tcd_app_emit (TcdApp *app, const gchar *type, JsonNode *data);
const gchar *tcd_app_listen_address (TcdApp *app);
void     tcd_app_describe_ports (TcdApp *app, JsonNode *ports);
void     tcd_app_ports_patch (JsonNode *patch);

G_END_DECLS
