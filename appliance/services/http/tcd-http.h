/* thermocamd: the HTTP JSON API (libsoup 3)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "tcd-service.h"

G_BEGIN_DECLS

typedef struct _TcdHttp TcdHttp;

TcdHttp *tcd_http_new (TcdContext *ctx);
void     tcd_http_free (TcdHttp *h);
/* HTTP on @port, and HTTPS on @https_port when security.https.enabled
 * (0: a free port), on @address (an IP address; NULL or "": all of them) */
gboolean tcd_http_listen (TcdHttp *h, const gchar *address, guint port, guint https_port,
                          GError **error);
void     tcd_http_disconnect (TcdHttp *h);
guint    tcd_http_get_port (TcdHttp *h);
/* The WebSocket and WebSockets ports (manual 9.2): the live view socket
 * (/api/v1/live/ws) and nothing else, while ports.websocket(s)_enabled
 * (WebSockets while HTTPS is on too).  A port that cannot be bound stays
 * off with a warning (0).  Again with the same arguments when the switches
 * change (tcd_http_apply_ws) */
void     tcd_http_listen_ws (TcdHttp *h, const gchar *address, guint ws_port, guint wss_port);
void     tcd_http_apply_ws (TcdHttp *h);
/* A TcdChangeCheck (@user_data the TcdHttp): a WebSocket(s) port switched
 * on must be free (else 400 at ports.websocket(s), nothing saved) */
gboolean tcd_http_check_ws (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
                            gpointer user_data, GError **error);
/* The server port (manual 9.2: the port the client software adds the
 * device by): plain HTTP serving what the HTTP port serves (the API, ONVIF,
 * the page, one router, authentication, IP filter and lock), so that
 * software given the server port reaches the camera.  A port that cannot
 * be bound stays off with a warning (0) */
void     tcd_http_listen_server (TcdHttp *h, const gchar *address, guint port);
guint    tcd_http_get_server_port (TcdHttp *h);
guint    tcd_http_get_ws_port (TcdHttp *h);
guint    tcd_http_get_wss_port (TcdHttp *h);
guint    tcd_http_get_https_port (TcdHttp *h);   /* 0 while HTTPS is off */
/* server-sent events (main loop); data taken */
void     tcd_http_broadcast (TcdHttp *h, const gchar *type, JsonNode *data);
/* a live-view JPEG (any thread) */
void     tcd_http_push_jpeg (TcdHttp *h, GstSample *jpeg);
/* The security settings changed: streams of addresses the IP filter now
 * refuses are ended */
void     tcd_http_security_changed (TcdHttp *h);
/* The factory state: every session ends */
void     tcd_http_reset (TcdHttp *h);
/* The installed certificate changed (removed): HTTPS serves what is there */
void     tcd_http_certificate_changed (TcdHttp *h);
JsonNode *tcd_http_stats (TcdHttp *h);
/* an event of the bus, counted for /metrics (alarms, exceptions) */
void     tcd_http_count_event (TcdHttp *h, TcdEventType type, JsonNode *event);

/* Every route of the API: [{"method", "path" ("/api/v1/rules/{id}"),
 * "level" ("none", "user", "operator", "administrator")}] (thermocamd
 * --print-routes; the OpenAPI test checks the document against it) */
JsonNode *tcd_http_routes (void);

/* The service of the table (tcd-http-service.c) */
extern const TcdServiceClass tcd_http_service;

G_END_DECLS
