/* thermocamd: the RTSP server (main and sub stream, shared media)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>
#include "tcd-encoder.h"
#include "tcd-security.h"
#include "tcd-users.h"
#include "tcd-service.h"

G_BEGIN_DECLS


typedef struct _TcdRtsp TcdRtsp;

/* @encoders: the streams' H.264 (borrowed; outlives the server) */
TcdRtsp  *tcd_rtsp_new (TcdEncoders *encoders, TcdSecurity *security);
void      tcd_rtsp_free (TcdRtsp *r);
/* Listens on @address (an IP address; NULL or "": all of them) and @port (0:
 * a free one) on the default main context */
gboolean  tcd_rtsp_start (TcdRtsp *r, const gchar *address, guint port, JsonNode *doc,
                          GError **error);
void      tcd_rtsp_stop (TcdRtsp *r);
guint     tcd_rtsp_get_port (TcdRtsp *r);
/* New video settings (the encoders took them first, tcd_encoders_apply): a
 * new bitrate keeps the viewers; anything that changes the caps (resolution,
 * frame rate, profile, I-frame interval, the sensor's rate) restarts the
 * stream, whose clients then reconnect */
void      tcd_rtsp_apply (TcdRtsp *r, JsonNode *doc);
/* The secure server (the rtsps service, tcd-rtsps-service.c): RTSP over TLS
 * with @cert (the HTTPS certificate) and SRTP media (RTP/SAVP, keys by
 * MIKEY in the SDP and the SETUP); set before tcd_rtsp_start, and again
 * when the certificate changes (the next connections get the new one) */
void      tcd_rtsp_set_tls (TcdRtsp *r, GTlsCertificate *cert);
/* Who may watch: every account (NULL or none: nobody) */
void      tcd_rtsp_set_users (TcdRtsp *r, TcdUsers *users);
/* Who else may watch (Digest): @users name -> password (ONVIF's), or NULL */
void      tcd_rtsp_set_extra_users (TcdRtsp *r, GHashTable *users);
JsonNode *tcd_rtsp_stats (TcdRtsp *r);

/* The services of the table (tcd-rtsp-service.c, tcd-rtsps-service.c) */
extern const TcdServiceClass tcd_rtsp_service;
extern const TcdServiceClass tcd_rtsps_service;

G_END_DECLS
