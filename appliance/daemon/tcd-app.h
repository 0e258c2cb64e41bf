/* thermocamd: the daemon's parts, and the one path every change takes
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "tcd-config.h"
#include "tcd-pipeline.h"
#include "tcd-rtsp.h"
#include "tcd-security.h"
#include "tcd-users.h"

G_BEGIN_DECLS

typedef struct _TcdHttp TcdHttp;
typedef struct _TcdModbus TcdModbus;
typedef struct _TcdEvents TcdEvents;

typedef struct {
  /* flags */
  gchar *state_dir, *data_dir, *source;
  gint http_port, rtsp_port, https_port, modbus_port;  /* -1: from the configuration */
  gchar *listen;                /* --listen ADDRESS; NULL: ports.listen_address */

  TcdConfig *config;
  TcdUsers *users;
  TcdSecurity *security;
  TcdPipeline *pipeline;
  TcdRtsp *rtsp;
  TcdHttp *http;
  TcdModbus *modbus;
  TcdEvents *events;
  GMainLoop *loop;
  gint64 started_us;
  gchar *serial;
  guint reboot_id;
  guint reboots;
} TcdApp;

/* validate -> apply live -> persist -> audit -> event.  @doc is a whole new
 * document (taken); @user and @address (may be NULL) say who changed it for
 * the audit log; on failure nothing changed and *field names the culprit. */
gboolean tcd_app_change_config (TcdApp *app, JsonNode *doc, const gchar *what,
                                const gchar *user, const gchar *address,
                                gchar **field, GError **error);
/* Restart the pipelines and servers in place (from the main loop, soon) */
void     tcd_app_schedule_reboot (TcdApp *app);
/* The device is activated: RTSP and HTTP now want Digest credentials */
void     tcd_app_users_changed (TcdApp *app);
/* A server-sent event to every listener of /api/v1/events (data taken) */
void     tcd_app_emit (TcdApp *app, const gchar *type, JsonNode *data);
/* The address every server listens on (--listen, else ports.listen_address);
 * NULL: all addresses */
const gchar *tcd_app_listen_address (TcdApp *app);
/* GET /config/ports: the section @ports (an object, changed in place) gets
 * the read-only members "in_use" (the address and ports the servers listen
 * on now, 0: off) and "from_flags" (the fields the command line overrides) */
void     tcd_app_describe_ports (TcdApp *app, JsonNode *ports);
/* PUT /config/ports: a patch may carry back those read-only members: they
 * are dropped */
void     tcd_app_ports_patch (JsonNode *patch);

G_END_DECLS
