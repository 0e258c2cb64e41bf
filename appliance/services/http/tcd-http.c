/* thermocamd: the HTTP JSON API: the server and its transport
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Routes under /api/v1 (schemas/openapi.yaml documents each): one table per
 * group (api-*.c), {method, pattern, level, handler}, which the dispatcher
 * here and the gate (tcd-http-auth.c, where the order of the checks is told)
 * both read; `thermocamd --print-routes` prints it.  A path no route has is
 * 404, a path with another method 405 with Allow.
 *
 * This file: the listening sockets (the IP filter before anything is read,
 * the bounds of tcd-conns.h), TLS, keep-alive, the deadlines and size limit
 * of a request, the headers every answer carries, and the dispatch.
 */
#include "tcd-http-private.h"
#include "onvif-private.h"

#include <errno.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/socket.h>

#include "tcd-certs.h"
#include "tcd-dscp.h"
#include "tcd-json.h"

/* what one client may hold, and for how long (manual-independent: what
 * keeps the port up when clients misbehave) */
#define MAX_CONNECTIONS 256             /* HTTP and HTTPS together, at most */
#define MAX_CONNECTIONS_PER_ADDRESS 32  /* an IPv4 address, an IPv6 /64 */
#define REQUEST_TIMEOUT_MS 10000        /* a request's line and headers (and keep-alive idle) */
#define BODY_TIMEOUT_MS 30000           /* then its body */
#define ANSWER_TIMEOUT_MS 60000         /* an answer (not a stream) taken by the client */

static gboolean load_certificate (TcdHttp *h, GError **error);

/* ---- routes ---- */

TcdRouter *
http_router_new (void)
{
  static const TcdRoute *const groups[] = {
    tcd_http_system_routes, tcd_http_session_routes, tcd_http_users_routes,
    tcd_http_config_routes, tcd_http_live_routes, tcd_http_io_routes,
    tcd_http_files_routes, tcd_http_audit_routes, tcd_http_certificate_routes,
    tcd_http_ws_routes, tcd_http_history_routes, tcd_http_time_routes, tcd_http_about_routes,
    tcd_http_upnp_routes, tcd_http_network_routes, tcd_http_maint_routes,
    tcd_http_dpc_routes,
    tcd_http_serial_routes, tcd_http_hardware_routes,
  };
  /* A path no route has is answered (404) to who may see the
   * configuration, as before the table: an operator; the others get 401
   * or 403 as for a route they may not use. */
  TcdRouter *r = tcd_router_new (TCD_LEVEL_OPERATOR);

  for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
    tcd_router_add (r, groups[i]);
  return r;
}

/* the path below the API prefix, with its slash ("/config/image"), or NULL
 * for a path outside it */
static const gchar *
http_api_path (const gchar *path)
{
  return path && g_str_has_prefix (path, API) ? path + strlen (API) - 1 : NULL;
}

/* The servers keep the path as sent (raw-paths), so that an encoded slash
 * ("%2F") is told from a slash: it is refused, as are an encoded NUL, a bad
 * escape and a ".." segment (what libsoup would have refused with 400 after
 * decoding); the rest is decoded here, once per request. */
const gchar *
http_path_of (SoupServerMessage *msg)
{
  gchar *p = g_object_get_data (G_OBJECT (msg), "tcd-path");
  const gchar *raw;

  if (p)
    return *p ? p : NULL;
  raw = g_uri_get_path (soup_server_message_get_uri (msg));
  p = raw ? g_uri_unescape_string (raw, "/") : NULL;
  if (p && (strstr (p, "/../") || g_str_has_suffix (p, "/..") || !g_utf8_validate (p, -1, NULL)))
    g_clear_pointer (&p, g_free);
  g_object_set_data_full (G_OBJECT (msg), "tcd-path", p ? p : g_strdup (""), g_free);
  return p;
}

const TcdRouteMatch *
http_route_of (TcdHttp *h, SoupServerMessage *msg)
{
  TcdRouteMatch *m = g_object_get_data (G_OBJECT (msg), "tcd-route");
  const gchar *path;

  if (m)
    return m;
  if (!(path = http_api_path (http_path_of (msg))))
    return NULL;
  m = tcd_router_match (h->router, soup_server_message_get_method (msg), path);
  /* the API's root: a hint to the routes for anyone logged in */
  if (m->result == TCD_ROUTE_NO_PATH && m->n_segments == 0)
    m->level = TCD_LEVEL_USER;
  g_object_set_data_full (G_OBJECT (msg), "tcd-route", m,
      (GDestroyNotify) tcd_route_match_free);
  return m;
}

JsonNode *
tcd_http_routes (void)
{
  g_autoptr (TcdRouter) r = http_router_new ();
  g_autofree gchar *prefix = g_strndup (API, strlen (API) - 1);
  JsonArray *a = json_array_new ();
  JsonNode *root = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < tcd_router_get_size (r); i++) {
    const TcdRoute *t = tcd_router_get (r, i);
    JsonObject *o = json_object_new ();
    g_autofree gchar *path = g_strconcat (prefix, t->pattern, NULL);
    json_object_set_string_member (o, "method", t->method);
    json_object_set_string_member (o, "path", path);
    json_object_set_string_member (o, "level", tcd_level_to_string (t->level));
    /* the permission beside the level (manual 10.13.1): "none", a name, or
     * "unset" for a row that says none (the gate: administrator only) */
    json_object_set_string_member (o, "permission", t->permission == TCD_ROUTE_UNSET ? "unset"
        : t->permission == TCD_PERM_NONE ? "none" : tcd_permission_to_string (t->permission));
    json_array_add_object_element (a, o);
  }
  json_node_take_array (root, a);
  return root;
}

/* the connection came to a WebSocket(s) port: the live socket only */
gboolean
http_ws_only (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  return remote && g_object_get_data (G_OBJECT (remote), "tcd-ws-only") != NULL;
}

static void
api_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  TcdHttp *h = user_data;
  const TcdRouteMatch *route;
  TcdHttpRequest req = { 0 };

  h->requests++;
  /* a body cut at MAX_BODY that still came whole (got_chunk) */
  if (g_object_get_data (G_OBJECT (msg), "tcd-cut")) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
        "Connection", "close");
    send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL,
        "the body is larger than %d bytes", MAX_BODY);
    return;
  }
  if (!(route = http_route_of (h, msg)) || (http_ws_only (msg)
          && g_strcmp0 (route->pattern, "/live/ws") != 0)) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no route %s", path);
    return;
  }
  path = http_path_of (msg);
  /* before activation only activation (the gate answered the rest) */
  if (g_strcmp0 (route->pattern, HTTP_ACTIVATE) != 0
      && !tcd_users_is_activated (h->ctx->users)) {
    send_not_activated (msg);
    return;
  }
  /* gate() set who asks for every route that needs someone */
  if (route->level > TCD_LEVEL_NONE && !who_of (msg)) {
    send_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", NULL, "log in first");
    return;
  }
  switch (route->result) {
    case TCD_ROUTE_NO_PATH:
      if (route->n_segments == 0)
        send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL,
            "see " API "openapi.yaml for the routes");
      else
        send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no route %s", path);
      return;
    case TCD_ROUTE_NO_METHOD:
      method_not_allowed (msg, route->allow);
      return;
    case TCD_ROUTE_FOUND:
      req.method = soup_server_message_get_method (msg);
      req.path = path;
      req.query = query;
      req.match = route;
      ((TcdHttpHandler) route->route->handler) (h, msg, &req);
      return;
  }
}

/* ---- statistics ---- */

JsonNode *
tcd_http_stats (TcdHttp *h)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, tcd_http_get_port (h));
  json_builder_set_member_name (b, "requests");
  json_builder_add_int_value (b, h->requests);
  json_builder_set_member_name (b, "errors");
  json_builder_add_int_value (b, h->errors);
  json_builder_set_member_name (b, "challenges");
  json_builder_add_int_value (b, h->challenges);
  json_builder_set_member_name (b, "https_port");
  json_builder_add_int_value (b, h->tls_port);
  json_builder_set_member_name (b, "server_port");
  json_builder_add_int_value (b, h->srv_port);
  json_builder_set_member_name (b, "refused_connections");
  json_builder_add_int_value (b, h->refused);
  json_builder_set_member_name (b, "sessions");
  json_builder_add_int_value (b, g_hash_table_size (h->sessions));
  json_builder_set_member_name (b, "event_listeners");
  json_builder_add_int_value (b, g_list_length (h->sse));
  json_builder_set_member_name (b, "live_views");
  json_builder_add_int_value (b, g_list_length (h->mjpeg));
  json_builder_set_member_name (b, "live_sockets");
  json_builder_add_int_value (b, ws_count (h));
  json_builder_set_member_name (b, "live_socket_backlog");
  json_builder_add_int_value (b, ws_max_backlog (h));
  json_builder_set_member_name (b, "streams_dropped");
  json_builder_add_int_value (b, h->streams_dropped);
  json_builder_set_member_name (b, "onvif");
  json_builder_add_value (b, onvif_stats (h->onvif));
  {
    TcdConnsStats st;
    tcd_conns_get_stats (h->conns, &st);
    json_builder_set_member_name (b, "connections");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "open");
    json_builder_add_int_value (b, st.open);
    json_builder_set_member_name (b, "accepted");
    json_builder_add_int_value (b, st.accepted);
    json_builder_set_member_name (b, "over_limit");
    json_builder_add_int_value (b, st.over_limit);
    json_builder_set_member_name (b, "timed_out");
    json_builder_add_int_value (b, st.timed_out);
    json_builder_set_member_name (b, "no_descriptors");
    json_builder_add_int_value (b, st.no_descriptors);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Outside the API: the web page's files; /onvif/ is kept for ONVIF */
static void
root_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  TcdHttp *h = user_data;

  h->requests++;
  if (http_ws_only (msg)) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL,
        "this port serves the live view socket only (/api/v1/live/ws)");
    return;
  }
  if (!(path = http_path_of (msg))) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL,
        "no such file: an encoded slash, NUL or \"..\" is never one");
    return;
  }
  if (http_is_metrics (msg)) {
    http_metrics (h, msg);
    return;
  }
  if (g_str_equal (path, "/onvif") || g_str_has_prefix (path, "/onvif/")) {
    onvif_serve (h, msg, path, query);
    return;
  }
  web_files_serve (h, msg, path);
}

/* A body longer than MAX_BODY (chunked, or a Content-Length refused while
 * the client sends it anyway) is not read to its end: its connection is
 * taken from libsoup, answered 413 and closed.  Out of the signal
 * emission, as libsoup is in the middle of reading. */
static gboolean
cut_body (gpointer data)
{
  SoupServerMessage *msg = data;
  g_autoptr (GIOStream) io = NULL;
  g_autofree gchar *message = NULL, *body = NULL, *answer = NULL;
  g_autoptr (JsonNode) error = NULL;

  /* the whole body came before this ran: the handler answers 413
   * (api_handler), and the connection may already serve another request */
  if (g_object_get_data (G_OBJECT (msg), "tcd-got-body")
      || !(io = soup_server_message_steal_connection (msg)))
    return G_SOURCE_REMOVE;
  message = g_strdup_printf ("the body is larger than %d bytes", MAX_BODY);
  error = error_node ("too_large", NULL, message);
  body = tcd_json_to_string (error, FALSE);
  answer = g_strdup_printf ("HTTP/1.1 413 Request Entity Too Large\r\n"
      "Content-Type: application/json\r\nConnection: close\r\n"
      "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n"
      "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s", strlen (body), body);
  /* best effort on the non-blocking socket: the answer is small */
  if (G_IS_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (io)))
    g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM
        (g_io_stream_get_output_stream (io)), answer, strlen (answer), NULL, NULL);
  g_io_stream_close (io, NULL, NULL);
  return G_SOURCE_REMOVE;
}

static void
got_body (SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;

  g_object_set_data (G_OBJECT (msg), "tcd-got-body", GINT_TO_POINTER (1));
  /* the answer must be taken within its time (streams lift it) */
  tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg),
      ANSWER_TIMEOUT_MS);
}

static void
got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  gsize got = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (msg), "tcd-body"));

  if (g_object_get_data (G_OBJECT (msg), "tcd-upload"))
    return;                     /* an upgrade package: bounded by its own size */
  got += g_bytes_get_size (chunk);
  g_object_set_data (G_OBJECT (msg), "tcd-body", GSIZE_TO_POINTER (got));
  if (got > MAX_BODY && !g_object_get_data (G_OBJECT (msg), "tcd-cut")) {
    g_object_set_data (G_OBJECT (msg), "tcd-cut", GINT_TO_POINTER (1));
    soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
    g_idle_add_full (G_PRIORITY_HIGH, cut_body, g_object_ref (msg), g_object_unref);
  }
}

/* What every answer of the API carries: nothing of it is cached (settings,
 * accounts, logs, pictures), sniffed, framed or sent on as a referrer; no
 * content runs from it; HTTPS is remembered.  The web page's files set
 * their own caching and policy. */
static void
security_headers (TcdHttp *h, SoupServerMessage *msg)
{
  SoupMessageHeaders *r = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (r, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (r, "X-Frame-Options", "DENY");
  soup_message_headers_replace (r, "Content-Security-Policy",
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  soup_message_headers_replace (r, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (r, "Cache-Control", "no-store");
  soup_message_headers_replace (r, "Cross-Origin-Resource-Policy", "same-origin");
  if (is_tls (h, msg))
    soup_message_headers_replace (r, "Strict-Transport-Security", "max-age=31536000");
  if (!h->keep_alive)
    soup_message_headers_replace (r, "Connection", "close");
}

/* refuse a body too large before reading it; then the gate */
static void
got_headers (SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  goffset len = soup_message_headers_get_content_length (hdrs);

  security_headers (h, msg);

  g_signal_connect (msg, "got-chunk", G_CALLBACK (got_chunk), h);
  g_signal_connect (msg, "got-body", G_CALLBACK (got_body), h);
  /* the headers came in time; a body has its own time */
  if (soup_message_headers_get_encoding (hdrs) == SOUP_ENCODING_CHUNKED || len > 0)
    tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg),
        BODY_TIMEOUT_MS);
  if (soup_message_headers_get_encoding (hdrs) == SOUP_ENCODING_CONTENT_LENGTH
      && len > MAX_BODY && !upgrade_is_upload (msg)) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
        "Connection", "close");
    send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL,
        "the body (%" G_GOFFSET_FORMAT " bytes) is larger than %d bytes", len, MAX_BODY);
    soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
    return;
  }
  if (!is_tls (h, msg) && h->tls_port
      && tcd_config_bool (h->ctx->config, "security.https.redirect_http")) {
    GUri *uri = soup_server_message_get_uri (msg);
    const gchar *host = soup_message_headers_get_one (hdrs, "Host");
    g_autofree gchar *name = g_strdup (host ? host : g_uri_get_host (uri));
    g_autofree gchar *to = NULL;
    gchar *colon = name[0] == '[' ? strstr (name, "]:") : strrchr (name, ':');
    if (colon)
      colon[name[0] == '[' ? 1 : 0] = '\0';
    to = g_strdup_printf ("https://%s:%u%s%s%s", name, h->tls_port, g_uri_get_path (uri),
        g_uri_get_query (uri) ? "?" : "", g_uri_get_query (uri) ? g_uri_get_query (uri) : "");
    soup_server_message_set_redirect (msg, SOUP_STATUS_PERMANENT_REDIRECT, to);
    soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
    return;
  }
  /* refused: whatever body follows is read and dropped, not kept */
  if (!gate (h, msg))
    soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  else if (upgrade_is_upload (msg))
    upgrade_upload_begin (h, msg);
}

static void
request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;
  if (server == h->tls_server)
    g_object_set_data (G_OBJECT (msg), "tcd-tls", GINT_TO_POINTER (1));
  /* a request (the next one on a kept-alive connection) must come whole
   * in time: an idle or a slow-loris connection is closed at this deadline */
  tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg),
      REQUEST_TIMEOUT_MS);
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers), user_data);
}

/* A Digest client's first request meets a 401 that tells it the nonce (and
 * later ones a stale=true when its nonce ran out): the protocol, not an
 * error.  A 401 to credentials that were wrong stays an error. */
static gboolean
is_challenge (SoupServerMessage *msg)
{
  const gchar *asked = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");
  const gchar *www = soup_message_headers_get_list (soup_server_message_get_response_headers
      (msg), "WWW-Authenticate");

  if (soup_server_message_get_status (msg) != SOUP_STATUS_UNAUTHORIZED || !www)
    return FALSE;
  return !asked || strstr (www, "stale=true") != NULL;
}

static void
request_finished (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  TcdHttp *h = user_data;

  /* kept alive: the next request is due within the request timeout */
  tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg),
      REQUEST_TIMEOUT_MS);
  if (is_challenge (msg))
    h->challenges++;
  else if (soup_server_message_get_status (msg) >= 400)
    h->errors++;
}

static gboolean
basic_check (SoupAuthDomain *domain, SoupServerMessage *msg, const char *username,
    const char *password, gpointer user_data)
{
  TcdHttp *h = user_data;
  return tcd_users_check_password (h->ctx->users, username, password);
}

/* ---- the sockets: the IP filter before anything is read ---- */

static void
incoming (TcdListener *listener, GSocketConnection *conn, GSocketAddress *remote,
    gpointer user_data)
{
  TcdHttp *h = user_data;
  gboolean tls = listener == h->tls_service || listener == h->wss_service;
  gboolean live_only = listener == h->ws_service || listener == h->wss_service;
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (conn, NULL);
  GInetAddress *ia = G_IS_INET_SOCKET_ADDRESS (remote)
      ? g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)) : NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (GIOStream) stream = NULL;

  if (!tcd_security_address_allowed (h->ctx->security, ia)) {
    g_autofree gchar *a = ia ? g_inet_address_to_string (ia) : g_strdup ("?");
    h->refused++;
    g_debug ("HTTP%s: %s is filtered out", tls ? "S" : "", a);
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    return;
  }
  if (!local) {
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    return;
  }
  /* QoS (manual 10.12.6): management traffic */
  tcd_dscp_apply (g_socket_get_fd (g_socket_connection_get_socket (conn)), TCD_DSCP_MANAGEMENT,
      TRUE);
  if (tls) {
    if (!h->tls_cert) {
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
      return;
    }
    stream = (GIOStream *) g_tls_server_connection_new (G_IO_STREAM (conn), h->tls_cert,
        &err);
    if (!stream) {
      g_warning ("HTTPS: %s", err->message);
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
      return;
    }
  } else {
    stream = g_object_ref (G_IO_STREAM (conn));
  }
  /* its socket, for a live socket's backlog (api-ws.c): alive while its
   * connection is served */
  g_object_set_data (G_OBJECT (remote), "tcd-socket", g_socket_connection_get_socket (conn));
  if (live_only)
    g_object_set_data (G_OBJECT (remote), "tcd-ws-only", GINT_TO_POINTER (1));
  /* the handshake and the first request line are due within the request
   * timeout (request_started () sets it again for each request) */
  tcd_conns_set_deadline (h->conns, remote, REQUEST_TIMEOUT_MS);
  /* @remote is the very object libsoup hands back with each message
   * (soup_server_message_get_remote_address): the deadlines' key */
  if (!soup_server_accept_iostream (tls ? h->tls_server : h->server, stream, local, remote,
          &err))
    g_warning ("HTTP: %s", err->message);
}

/* @address: an IP address, or NULL for all of them (IPv4 and IPv6) */
static TcdListener *
listen_on (TcdHttp *h, const gchar *address, guint port, guint *got, GError **error)
{
  return tcd_conns_listen (h->conns, address, port, incoming, h, got, error);
}

static void
stop_service (TcdListener **s)
{
  g_clear_pointer (s, tcd_listener_free);
}

/* Keep-alive.  libsoup keeps a connection open after an answer only for a
 * server with a listener of its own (soup-server.c, request_finished ():
 * "priv->listeners"), and we accept the connections ourselves (the IP
 * filter and the bounds act before anything is read).  So each server gets
 * a listener on one end of a socket pair, whose other end we keep and
 * never write to: nothing can connect through it, and with it keep-alive
 * works.
 *
 * But libsoup before 3.3.0 never lets go of a kept-alive connection that
 * its client closes while idle (fixed upstream by "server: do not leak idle
 * connections closed by the client", d20c6601): one descriptor lost per
 * such client.  With those versions (Debian 12 has 3.2) every answer says
 * Connection: close instead (security_headers ()), and the connection is
 * closed after it, as the client was told. */
static gboolean
keep_alive_safe (void)
{
  return soup_get_major_version () > 3
      || (soup_get_major_version () == 3 && soup_get_minor_version () >= 3);
}

static void
keep_alive (TcdHttp *h)
{
  gint fds[2];
  g_autoptr (GError) err = NULL;
  SoupServer *servers[2] = { h->server, h->tls_server };

  h->keep_alive = keep_alive_safe ();
  if (!h->keep_alive)
    return;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    g_warning ("HTTP: no socket pair (%s): every connection closes after one answer",
        g_strerror (errno));
    return;
  }
  h->keepalive[0] = g_socket_new_from_fd (fds[0], NULL);
  h->keepalive[1] = g_socket_new_from_fd (fds[1], NULL);
  for (guint i = 0; i < 2; i++)
    if (!h->keepalive[0] || !soup_server_listen_socket (servers[i], h->keepalive[0], 0, &err)) {
      g_warning ("HTTP: %s: every connection closes after one answer",
          err ? err->message : "no socket");
      g_clear_error (&err);
    }
}

/* The installed certificate; a self-signed one is made when there is none
 * (manual 10.12.5: the device installs a self-signed certificate by default) */
static gboolean
load_certificate (TcdHttp *h, GError **error)
{
  g_autofree gchar *cert = NULL, *key = NULL;
  GTlsCertificate *c;

  if (!tcd_certs_installed (h->ctx->state_dir, &cert, &key)) {
    TcdCertParams p = { .country = "ZZ", .host = g_get_host_name (), .days = 3650 };
    if (!tcd_cert_params_check (&p, TRUE, NULL, NULL))
      p.host = "thermocam.local";
    if (!tcd_certs_create_self_signed (h->ctx->state_dir, &p, error)
        || !tcd_certs_installed (h->ctx->state_dir, &cert, &key))
      return FALSE;
    tcd_audit (h->ctx->security, "certificate", NULL, NULL,
        "created a self-signed certificate for %s", p.host);
  }
  c = g_tls_certificate_new_from_files (cert, key, error);
  if (!c)
    return FALSE;
  g_clear_object (&h->tls_cert);
  h->tls_cert = c;
  return TRUE;
}

/* the served certificate follows the installed one */
void
certificate_changed (TcdHttp *h)
{
  g_autoptr (GError) err = NULL;
  if (h->tls_service && !load_certificate (h, &err))
    g_warning ("HTTPS: %s", err->message);
}

TcdHttp *
tcd_http_new (TcdContext *ctx)
{
  TcdHttp *h = g_new0 (TcdHttp, 1);
  SoupServer *servers[2];

  h->ctx = ctx;
  h->router = http_router_new ();
  h->radio_pts = GST_CLOCK_TIME_NONE;
  {
    g_autofree gchar *webui = g_build_filename (ctx->data_dir, "webui", NULL);
    h->web = web_files_load (webui);
  }
  g_mutex_init (&h->jpeg_lock);
  h->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) session_free);
  h->nonces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  h->conns = tcd_conns_new (MIN (MAX_CONNECTIONS, MAX ((gint) tcd_raise_fd_limit () - 128, 64)
          / 4), MAX_CONNECTIONS_PER_ADDRESS, tcd_address_key);
  if (RAND_bytes (h->nonce_key, sizeof h->nonce_key) != 1)
    g_error ("no random bytes for the Digest nonces");
  /* the checks are ours (gate()); this one only speaks Basic */
  h->basic = soup_auth_domain_basic_new ("realm", TCD_REALM, NULL);
  soup_auth_domain_basic_set_auth_callback (h->basic, basic_check, h, NULL);
  h->server = soup_server_new ("server-header", "thermocamd", "raw-paths", TRUE, NULL);
  h->tls_server = soup_server_new ("server-header", "thermocamd", "raw-paths", TRUE, NULL);
  servers[0] = h->server;
  servers[1] = h->tls_server;
  for (guint i = 0; i < 2; i++) {
    soup_server_add_handler (servers[i], "/api", api_handler, h, NULL);
    soup_server_add_handler (servers[i], NULL, root_handler, h, NULL);
    g_signal_connect (servers[i], "request-started", G_CALLBACK (request_started), h);
    g_signal_connect (servers[i], "request-finished", G_CALLBACK (request_finished), h);
    ws_setup (h, servers[i]);
  }
  keep_alive (h);
  h->onvif = onvif_new (h);
  h->keepalive_id = g_timeout_add_seconds (15, sse_keepalive, h);
  return h;
}

gboolean
tcd_http_listen (TcdHttp *h, const gchar *address, guint port, guint https_port,
    GError **error)
{
  g_autoptr (GError) err = NULL;

  if (address && !*address)
    address = NULL;
  if (!(h->service = listen_on (h, address, port, &h->port, error)))
    return FALSE;
  if (!tcd_config_bool (h->ctx->config, "security.https.enabled"))
    return TRUE;
  if (!load_certificate (h, &err)) {
    /* HTTPS cannot start: plain HTTP still serves, and says why */
    g_warning ("HTTPS stays off: %s", err->message);
    return TRUE;
  }
  if (!(h->tls_service = listen_on (h, address, https_port, &h->tls_port, error)))
    return FALSE;
  return TRUE;
}

void
tcd_http_apply_ws (TcdHttp *h)
{
  g_autoptr (GError) err = NULL;
  gboolean ws = tcd_config_bool (h->ctx->config, "ports.websocket_enabled");
  gboolean wss = tcd_config_bool (h->ctx->config, "ports.websockets_enabled") && h->tls_cert
      && h->tls_service;

  if (!ws && h->ws_service) {
    stop_service (&h->ws_service);
    h->ws_port = 0;
  } else if (ws && !h->ws_service && h->service) {
    if (!(h->ws_service = listen_on (h, h->ws_address, h->ws_want, &h->ws_port, &err))) {
      g_warning ("WebSocket port %u stays off: %s", h->ws_want, err->message);
      g_clear_error (&err);
    }
  }
  if (!wss && h->wss_service) {
    stop_service (&h->wss_service);
    h->wss_port = 0;
  } else if (wss && !h->wss_service) {
    if (!(h->wss_service = listen_on (h, h->ws_address, h->wss_want, &h->wss_port, &err)))
      g_warning ("WebSockets port %u stays off: %s", h->wss_want, err->message);
  }
}

gboolean
tcd_http_check_ws (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
    gpointer user_data, GError **error)
{
  TcdHttp *h = user_data;
  static const gchar *const names[] = { "websocket", "websockets" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree gchar *on = g_strdup_printf ("ports.%s_enabled", names[i]);
    g_autofree gchar *path = g_strdup_printf ("ports.%s", names[i]);
    JsonNode *now = tcd_config_node (doc, on), *was = tcd_config_node (current, on);
    JsonNode *port = tcd_config_node (doc, path);
    guint want;
    g_autoptr (GInetAddress) ia = NULL;
    g_autoptr (GSocket) sock = NULL;
    g_autoptr (GSocketAddress) sa = NULL;
    g_autoptr (GError) err = NULL;

    if (!now || !json_node_get_boolean (now) || (was && json_node_get_boolean (was)) || !port)
      continue;                 /* not switched on now */
    /* the port it will listen on: the one asked at start (a flag, or the
     * configuration's) unless this change moves it too */
    want = tc_json_equal (port, tcd_config_node (current, path)) ? (i ? h->wss_want : h->ws_want)
        : (guint) json_node_get_int (port);
    if (want == 0)
      continue;
    ia = h->ws_address ? g_inet_address_new_from_string (h->ws_address)
        : g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
    if (!ia || !(sock = g_socket_new (g_inet_address_get_family (ia), G_SOCKET_TYPE_STREAM,
                G_SOCKET_PROTOCOL_TCP, NULL)))
      continue;
    sa = g_inet_socket_address_new (ia, want);
    if (!g_socket_bind (sock, sa, TRUE, &err)) {
      tcd_change_refuse (error, path, "%s: port %u is in use by another program", path, want);
      return FALSE;
    }
  }
  return TRUE;
}

void
tcd_http_listen_ws (TcdHttp *h, const gchar *address, guint ws_port, guint wss_port)
{
  g_free (h->ws_address);
  h->ws_address = g_strdup (address && *address ? address : NULL);
  h->ws_want = ws_port;
  h->wss_want = wss_port;
  tcd_http_apply_ws (h);
}

void
tcd_http_listen_server (TcdHttp *h, const gchar *address, guint port)
{
  g_autoptr (GError) err = NULL;

  stop_service (&h->srv_service);
  h->srv_port = 0;
  if (!h->service)
    return;
  if (!(h->srv_service = listen_on (h, address && *address ? address : NULL, port,
              &h->srv_port, &err)))
    g_warning ("server port %u stays off: %s", port, err->message);
}

guint
tcd_http_get_server_port (TcdHttp *h)
{
  return h->srv_port;
}

guint
tcd_http_get_ws_port (TcdHttp *h)
{
  return h->ws_port;
}

guint
tcd_http_get_wss_port (TcdHttp *h)
{
  return h->wss_port;
}

void
tcd_http_disconnect (TcdHttp *h)
{
  stop_service (&h->service);
  stop_service (&h->tls_service);
  stop_service (&h->ws_service);
  stop_service (&h->wss_service);
  stop_service (&h->srv_service);
  h->port = h->tls_port = h->ws_port = h->wss_port = h->srv_port = 0;
}

guint
tcd_http_get_port (TcdHttp *h)
{
  return h->port;
}

guint
tcd_http_get_https_port (TcdHttp *h)
{
  return h->tls_port;
}

void
tcd_http_free (TcdHttp *h)
{
  if (!h)
    return;
  g_source_remove (h->keepalive_id);
  if (h->measurement_id)
    tcd_bus_unsubscribe (h->ctx->bus, h->measurement_id);
  if (h->jpeg_idle)
    g_source_remove (h->jpeg_idle);
  tcd_http_disconnect (h);
  ws_shutdown (h);
  onvif_free (h->onvif);
  soup_server_disconnect (h->server);
  soup_server_disconnect (h->tls_server);
  tcd_conns_free (h->conns);
  g_clear_object (&h->keepalive[0]);
  g_clear_object (&h->keepalive[1]);
  g_clear_object (&h->basic);
  g_clear_object (&h->server);
  g_clear_object (&h->tls_server);
  g_clear_object (&h->tls_cert);
  g_free (h->ws_address);
  g_hash_table_unref (h->sessions);
  g_clear_pointer (&h->alarm_counts, g_hash_table_unref);
  g_clear_pointer (&h->exception_counts, g_hash_table_unref);
  g_hash_table_unref (h->nonces);
  tcd_router_free (h->router);
  web_files_free (h->web);
  g_clear_pointer (&h->jpeg, gst_sample_unref);
  g_mutex_clear (&h->jpeg_lock);
  g_free (h);
}
