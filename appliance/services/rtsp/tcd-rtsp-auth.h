/* thermocamd: who may watch over RTSP (the RTSP service's own header)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include "tcd-security.h"
#include "tcd-users.h"

G_BEGIN_DECLS

/* the role of the mounts' one permission */
#define TCD_RTSP_ROLE "viewer"

/* what a connection did: read by the login timer and the accounts' changes
 * (main context) and written by the client's thread */
typedef struct {
  gint authenticated;           /* atomic */
  const gchar *user;            /* atomic: the account logged in (interned), or NULL */
} TcdRtspClientInfo;

#define TCD_RTSP_CLIENT_INFO "tcd-client-info"   /* on a GstRTSPClient: TcdRtspClientInfo */
#define TCD_RTSP_CLIENT_CONN "tcd-client-conn"   /* and its GSocketConnection */

/* A new authentication: Digest by gst-rtsp-server of the accounts (their
 * HA1 file) and of the ONVIF users @extra (name -> password; an account of
 * the same name is the account), Basic checked against the accounts'
 * password hashes, wrong credentials fed to the illegal login lock, and the
 * remote permission live_view (manual 10.13.1): an account without it logs
 * in right and gets 403.  Made on the main loop at every change of the
 * accounts; the supported methods and realm are the caller's to set. */
GstRTSPAuth *tcd_rtsp_auth_new (TcdSecurity *security, TcdUsers *users, GHashTable *extra);
/* shuts the connections of @server whose account may not watch under @auth
 * (its live view taken away, or deleted) */
void         tcd_rtsp_auth_close_others (GstRTSPAuth *auth, GstRTSPServer *server);

G_END_DECLS
