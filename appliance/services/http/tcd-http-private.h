/* thermocamd: the HTTP service's parts, shared between its files
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   tcd-http.c           server and transport: listeners, TLS, keep-alive,
 *                        body limits, security headers, request life cycle,
 *                        the dispatcher
 *   tcd-http-auth.c      who may ask: Digest and its nonces, sessions and
 *                        cookies, cross-site requests, the gate
 *   tcd-router.c         the route table's matching (GLib only)
 *   tcd-http-reply.c     answers: JSON, errors, bodies; GError -> status
 *   api-*.c              the routes of one group each, and their table
 *   web-static.c         the web page's files (webui/) at /, and their headers
 *   api-ws.c             the page's live WebSocket (api-ws-video.c: its video)
 *
 * A new group of routes: an api-NAME.c whose table (HTTP_ROUTE rows ending
 * with HTTP_ROUTES_END) is declared below and listed in http_router_new ()
 * (tcd-http.c), the file in appliance/meson.build, and its routes in
 * schemas/openapi.yaml (tests/appliance/test_openapi.py checks them against
 * thermocamd --print-routes).  A handler is called only for its method and
 * path, after the gate checked the row's level.
 */
#pragma once

#include <libsoup/soup.h>

#include "tcd-http.h"
#include "tcd-conns.h"
#include "tcd-router.h"

G_BEGIN_DECLS

#define MAX_BODY (256 * 1024)      /* a 128x128 BMP is 48 KiB */
#define API "/api/v1/"
#define SESSION_COOKIE "thermocam_session"
#define HTTP_ACTIVATE "/activate"     /* the one route before activation */

/* who is asking (set on the message before its body is read) */
typedef struct {
  gchar *user, *address;
  TcdLevel level;
  guint permissions;            /* TcdPermission bits */
  gboolean session;             /* by the session cookie */
  gchar *csrf;                  /* then its CSRF token (GET /session tells it again) */
  gchar *token;                 /* and the session's cookie (a live socket ends with it) */
} Who;

typedef struct {
  gchar *user, *csrf;
  gint64 expires;               /* monotonic us */
  gboolean tls;                 /* made over HTTPS: good only there */
} Session;

/* a client of a long answer (events, live view) */
typedef struct {
  SoupServerMessage *msg;
  gsize backlog;                /* queued, not yet written to the socket */
  gint64 stalled_since;         /* monotonic us the live view began skipping; 0 */
  gboolean dropped;             /* too slow: its connection is being shut */
} StreamClient;

typedef struct _WebFiles WebFiles;
typedef struct _Onvif Onvif;

struct _TcdHttp {
  TcdContext *ctx;
  WebFiles *web;                /* the page's files (web-static.c) */
  TcdRouter *router;            /* every group's routes */
  SoupServer *server, *tls_server;
  TcdConns *conns;              /* HTTP and HTTPS connections: bounds, deadlines */
  TcdListener *service, *tls_service;
  TcdListener *ws_service, *wss_service;      /* the live view socket only (manual 9.2) */
  TcdListener *srv_service;     /* the server port (manual 9.2): as the HTTP port */
  guint srv_port;
  GSocket *keepalive[2];        /* see keep_alive () */
  gboolean keep_alive;          /* connections stay open after an answer */
  guint port, tls_port;
  guint ws_port, wss_port;
  gchar *ws_address;                          /* where they listen, and the ports asked */
  guint ws_want, wss_want;
  GTlsCertificate *tls_cert;
  SoupAuthDomain *basic;
  GHashTable *sessions;         /* token -> Session */
  guint8 nonce_key[32];         /* HMAC key of our Digest nonces (new at each start) */
  GHashTable *nonces;           /* nonce -> the highest nc seen (GUINT_TO_POINTER) */
  gint64 nonce_floor;           /* nonces issued until then are stale (the table overflowed) */
  GList *sse;                   /* StreamClient */
  GList *mjpeg;                 /* StreamClient */
  guint keepalive_id;
  guint measurement_id;         /* the bus's readings, while the stream has listeners */
  guint64 event_id;
  GMutex jpeg_lock;
  GstSample *jpeg;
  guint jpeg_idle;
  guint64 requests, errors, refused, streams_dropped;
  guint64 challenges;           /* 401 answers that ask for credentials (not errors) */
  /* the page's live sockets (api-ws.c) */
  GList *ws;                    /* WsClient */
  guint ws_watch_id;
  GByteArray *radio_frame;      /* the newest radiometric frame's message, made once */
  GstClockTime radio_pts;       /* of that frame */
  gint64 radio_capture_us;
  struct libdeflate_compressor *radio_deflate;
  guint radio_tick_id;          /* the sockets' radiometric frames */
  guint64 radio_ticks;          /* counted while the timer runs */
  guint8 *radio_counts;         /* the frame's counts rounded to the step */
  gsize radio_counts_len;
  guint16 *radio_round;         /* count -> count rounded to the step */
  guint radio_round_step;       /* the step radio_round is for; 0: none */
  /* /metrics (api-metrics.c): the bus's alarms and exceptions counted */
  GHashTable *alarm_counts;     /* "source\nlevel" -> guint64 */
  GHashTable *exception_counts; /* type -> guint64 */
  Onvif *onvif;                 /* SOAP at /onvif/ (onvif-*.c) */
};

/* ---- routes ---- */

/* a request as its handler sees it */
typedef struct {
  const gchar *method;
  const gchar *path;            /* as asked, "/api/v1/rules/3" */
  GHashTable *query;            /* may be NULL */
  const TcdRouteMatch *match;
} TcdHttpRequest;

typedef void (*TcdHttpHandler) (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req);

/* a row of a group's table: the level is a TcdLevel, the permission the
 * TcdPermission (manual 10.13) the account needs beside the level, or
 * TCD_PERM_NONE (any account of the level).  The gate checks both, before
 * the handler.  A row of HTTP_ROUTE (no permission said) is the
 * administrator's only, and test_openapi.py refuses it (--print-routes shows
 * its permission "unset"); tests/e2e/test_permissions.py asks every row as an
 * account of each single permission. */
#define HTTP_ROUTE_P(method, pattern, level, permission, handler) \
  { (method), (pattern), (level), (TcdRouteHandler) (handler), (permission) }
#define HTTP_ROUTE(method, pattern, level, handler) \
  { (method), (pattern), (level), (TcdRouteHandler) (handler), TCD_ROUTE_UNSET }
#define HTTP_ROUTES_END { NULL, NULL, 0, NULL, 0 }


/* the value of the named segment {@name} of the route */
#define http_param(req, name) tcd_route_match_param ((req)->match, (name))

/* the groups' tables (each ends with HTTP_ROUTES_END) */
extern const TcdRoute tcd_http_session_routes[];
extern const TcdRoute tcd_http_users_routes[];
extern const TcdRoute tcd_http_system_routes[];
extern const TcdRoute tcd_http_config_routes[];
extern const TcdRoute tcd_http_live_routes[];
extern const TcdRoute tcd_http_io_routes[];
extern const TcdRoute tcd_http_files_routes[];
extern const TcdRoute tcd_http_audit_routes[];
extern const TcdRoute tcd_http_certificate_routes[];
extern const TcdRoute tcd_http_ws_routes[];
extern const TcdRoute tcd_http_history_routes[];
extern const TcdRoute tcd_http_upnp_routes[];
extern const TcdRoute tcd_http_time_routes[];
extern const TcdRoute tcd_http_about_routes[];
/* api-about.c: the versions and addresses GET /device adds */
void about_device_members (TcdHttp *h, JsonBuilder *b);
extern const TcdRoute tcd_http_network_routes[];
extern const TcdRoute tcd_http_maint_routes[];
extern const TcdRoute tcd_http_dpc_routes[];
extern const TcdRoute tcd_http_serial_routes[];
extern const TcdRoute tcd_http_hardware_routes[];
/* api-hardware.c: which hardware GET /device says is present */
void hardware_device_members (TcdHttp *h, JsonBuilder *b);

/* the request's path decoded, or NULL for one with an encoded slash or
 * NUL, a bad escape or a ".." segment (kept on the message) */
const gchar *http_path_of (SoupServerMessage *msg);
/* a router of every group's routes */
TcdRouter *http_router_new (void);
/* the route of @msg (matched once, kept on the message) */
const TcdRouteMatch *http_route_of (TcdHttp *h, SoupServerMessage *msg);
/* the request came to the WebSocket or WebSockets port (the live socket only) */
gboolean   http_ws_only (SoupServerMessage *msg);

/* ---- answers (tcd-http-reply.c) ---- */

void      send_json (SoupServerMessage *msg, guint status, JsonNode *node);
/* 202 {"correcting": true}, or {"correcting": false, "retry_after_s"} for a
 * correction (FFC, background) refused by the shared rate limit */
void      send_correction (SoupServerMessage *msg, gboolean started, gint64 wait_us);
/* the counters of GET /system/diagnostics (api-system.c) */
JsonNode *http_diagnostics (TcdHttp *h);
/* POST /system/upgrade: its body goes to a file, bounded (api-maint.c) */
gboolean  upgrade_is_upload (SoupServerMessage *msg);
void      upgrade_upload_begin (TcdHttp *h, SoupServerMessage *msg);
void      send_error (SoupServerMessage *msg, guint status, const gchar *code,
                      const gchar *field, const gchar *fmt, ...) G_GNUC_PRINTF (5, 6);
JsonNode *error_node (const gchar *code, const gchar *field, const gchar *message);
void      method_not_allowed (SoupServerMessage *msg, const gchar *allow);
/* the request's JSON body, or NULL with the error sent */
JsonNode *read_body (SoupServerMessage *msg);
/* the members of a JSON object body, refusing any but @allowed (strings) */
JsonObject *body_object (SoupServerMessage *msg, JsonNode *body,
                         const gchar * const *allowed);
const gchar *member (JsonObject *o, const gchar *name);
void      send_file (SoupServerMessage *msg, const gchar *path, const gchar *type);
/* an attachment (@data taken) */
void      send_pem (SoupServerMessage *msg, gchar *data, const gchar *type,
                    const gchar *filename, guint status);
/* The status and error code of @err, from the one table of tcd-http-reply.c
 * (an error it does not know is 500 "io") */
void      http_error_status (const GError *err, guint *status, const gchar **code);
/* Answers @err by that table: @field (may be NULL) names the culprit, the
 * message is @prefix (may be NULL) and @err's */
void      send_gerror (SoupServerMessage *msg, const GError *err, const gchar *field,
                       const gchar *prefix);
/* the same with a message of one's own */
void      send_gerror_message (SoupServerMessage *msg, const GError *err,
                               const gchar *field, const gchar *message);

/* ---- who asks (tcd-http-auth.c) ---- */

Who         *who_of (SoupServerMessage *msg);
const gchar *who_user (SoupServerMessage *msg);
const gchar *address_of (SoupServerMessage *msg);
/* who asks, as the change path and the commands see it (borrowed strings:
 * valid while @msg is) */
TcdOrigin    origin_of (SoupServerMessage *msg, const gchar *what);
gboolean     is_tls (TcdHttp *h, SoupServerMessage *msg);
/* steps 2-5 of the gate (tcd-http-auth.c's header); FALSE when answered */
gboolean     gate (TcdHttp *h, SoupServerMessage *msg);
/* the request is for /metrics (outside the API: api-metrics.c) */
gboolean     http_is_metrics (SoupServerMessage *msg);
/* answers /metrics (the gate let it through) */
void         http_metrics (TcdHttp *h, SoupServerMessage *msg);
void         send_locked (SoupServerMessage *msg, gint64 remaining);
/* our Digest nonces (also ONVIF's, onvif-auth.c): a new one; whether one is
 * ours, fresh and @nc_text above its last nc (*nc); a good login's nc */
gchar       *nonce_new (TcdHttp *h);
gboolean     nonce_check (TcdHttp *h, const gchar *nonce, const gchar *nc_text, guint *nc);
void         nonce_record (TcdHttp *h, const gchar *nonce, guint nc);
/* whether a Digest uri parameter is this request's target */
gboolean     digest_uri_matches (SoupServerMessage *msg, const gchar *uri);
void         send_not_activated (SoupServerMessage *msg);
void         session_free (Session *s);
gchar       *random_token (void);
void         set_session_cookie (TcdHttp *h, SoupServerMessage *msg, const gchar *value,
                                 gint max_age);
/* the sessions (and streams) of @user, or everyone's */
void         drop_sessions (TcdHttp *h, const gchar *user);

/* ---- shared by the groups ---- */

/* the served certificate follows the installed one (tcd-http.c) */
void      certificate_changed (TcdHttp *h);
/* a change through the change path, answered: @doc taken; @answer (taken,
 * may be NULL: 204) is sent with @ok_status on success; on a rule's route the
 * field and message lose their "rules[N]." (api-config.c) */
void      http_change (TcdHttp *h, SoupServerMessage *msg, JsonNode *doc, const gchar *what,
                       gboolean rule_route, guint ok_status, JsonNode *answer);
/* a 24-bit uncompressed BMP of at most 128x128 (api-config.c) */
gboolean  picture_ok (const guint8 *d, gsize len, GError **error);
/* live streams (api-live.c) */
void      sse_finished (SoupServerMessage *msg, gpointer user_data);
void      mjpeg_finished (SoupServerMessage *msg, gpointer user_data);
void      mjpeg_update_viewers (TcdHttp *h);
gboolean  sse_keepalive (gpointer user_data);
/* the page's live sockets (api-ws.c): the handler and admission on @server;
 * all closed; those of @user (or everyone's, or those the IP filter now
 * refuses) closed; how many */
void      ws_setup (TcdHttp *h, SoupServer *server);
void      ws_shutdown (TcdHttp *h);
void      ws_end (TcdHttp *h, const gchar *user, gboolean everyone, gboolean filtered);
guint     ws_count (TcdHttp *h);
/* the largest backlog of the live sockets, bytes (diagnostics) */
guint64   ws_max_backlog (TcdHttp *h);

/* the web page's files (web-static.c): read from @dir at start; a GET or
 * HEAD of a path outside the API answered from them */
WebFiles *web_files_load (const gchar *dir);
void      web_files_free (WebFiles *w);
guint     web_files_count (WebFiles *w);
void      web_files_serve (TcdHttp *h, SoupServerMessage *msg, const gchar *path);

G_END_DECLS
