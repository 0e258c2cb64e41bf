/* thermocamd: who may ask the HTTP API
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Who may ask is settled before the body is read, in this order:
 *  1. the IP address filter, when the connection is accepted (tcd-http.c:
 *     we own the listening sockets and hand accepted connections to libsoup);
 *  2. the illegal login lock of the client's address;
 *  3. for requests that change something: no cross-site request (Origin,
 *     Sec-Fetch-Site);
 *  4. credentials: the session cookie of POST /session (with the
 *     X-CSRF-Token header for a change), or Digest, or Basic where
 *     security.authentication.web allows it; a wrong one counts towards the
 *     lock;
 *  5. the route's level (user < operator < administrator): the level of its
 *     row in the route table (tcd-router.h), the one the dispatcher reads;
 *  6. the route's permission (manual 10.13.1: live_view, playback, ...),
 *     from the same row: an account without it gets 403, whatever its level
 *     (a section with needs of its own has its own rows: api-config.c).
 * /metrics (api-metrics.c, outside the API) goes through the same gate at the
 * level user, answers 404 while metrics.enabled is off, and also takes the
 * read-only bearer token of metrics.token (good for /metrics only).
 * Before activation every route but POST /activate answers 401 with a hint.
 */
#include "tcd-http-private.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#define NONCE_LIFE_US (300 * G_USEC_PER_SEC)   /* a Digest nonce is good for 5 minutes */
#define MAX_NONCES 4096                        /* nonces in use whose nc we remember */

/* ---- who asks ---- */

const gchar *
who_user (SoupServerMessage *msg)
{
  Who *w = who_of (msg);
  return w ? w->user : NULL;
}

static void
who_free (Who *w)
{
  g_free (w->user);
  g_free (w->address);
  g_free (w->csrf);
  g_free (w->token);
  g_free (w);
}

Who *
who_of (SoupServerMessage *msg)
{
  return g_object_get_data (G_OBJECT (msg), "tcd-who");
}

const gchar *
address_of (SoupServerMessage *msg)
{
  const gchar *a = soup_server_message_get_remote_host (msg);
  /* an IPv4 client on a dual-stack socket */
  if (a && g_str_has_prefix (a, "::ffff:") && strchr (a, '.'))
    a += 7;
  return a ? a : "unknown";
}

TcdOrigin
origin_of (SoupServerMessage *msg, const gchar *what)
{
  return (TcdOrigin) { what, who_user (msg), address_of (msg), "http" };
}

void
session_free (Session *s)
{
  g_free (s->user);
  g_free (s->csrf);
  g_free (s);
}

gchar *
random_token (void)
{
  guint8 r[24];
  gchar *s = g_malloc (2 * sizeof r + 1);

  RAND_bytes (r, sizeof r);
  for (guint i = 0; i < sizeof r; i++)
    g_snprintf (s + 2 * i, 3, "%02x", r[i]);
  return s;
}

/* ends a stream (events, live view): its answer is complete */
static void
end_stream (SoupServerMessage *msg)
{
  soup_message_body_complete (soup_server_message_get_response_body (msg));
  soup_server_message_unpause (msg);
}

/* Ends the streams opened by @user (all when @everyone) and, with
 * @filtered, those of addresses the IP filter now refuses: a stream is
 * not let go on once its account or its address may no longer see it. */
static void
end_streams (TcdHttp *h, const gchar *user, gboolean everyone, gboolean filtered)
{
  gboolean viewers = FALSE;

  for (guint k = 0; k < 2; k++) {
    GList *l = k ? h->mjpeg : h->sse;
    while (l) {
      GList *next = l->next;
      StreamClient *c = l->data;
      SoupServerMessage *msg = c->msg;
      Who *who = who_of (msg);
      if (everyone || (user && who && g_strcmp0 (who->user, user) == 0)
          || (filtered && !tcd_security_address_allowed_str (h->ctx->security,
                  address_of (msg)))) {
        /* off the list at once: nothing more is written to it */
        if (k) {
          h->mjpeg = g_list_delete_link (h->mjpeg, l);
          g_signal_handlers_disconnect_by_data (msg, c);
          g_signal_handlers_disconnect_by_func (msg, mjpeg_finished, h);
          g_free (c);
          viewers = TRUE;
        } else {
          h->sse = g_list_delete_link (h->sse, l);
          g_signal_handlers_disconnect_by_data (msg, c);
          g_signal_handlers_disconnect_by_func (msg, sse_finished, h);
          g_free (c);
        }
        end_stream (msg);
        g_object_unref (msg);
      }
      l = next;
    }
  }
  if (viewers)
    mjpeg_update_viewers (h);
  ws_end (h, user, everyone, filtered);
}

void
tcd_http_reset (TcdHttp *h)
{
  drop_sessions (h, NULL);
}

void
tcd_http_certificate_changed (TcdHttp *h)
{
  certificate_changed (h);
}

void
tcd_http_security_changed (TcdHttp *h)
{
  end_streams (h, NULL, FALSE, TRUE);
}

/* the sessions (and streams) of @user, or everyone's: its password or
 * level changed, it was deleted, the accounts were replaced */
void
drop_sessions (TcdHttp *h, const gchar *user)
{
  GHashTableIter it;
  Session *s;

  g_hash_table_iter_init (&it, h->sessions);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & s))
    if (!user || g_str_equal (s->user, user))
      g_hash_table_iter_remove (&it);
  end_streams (h, user, user == NULL, FALSE);
}

/* the session of the request's cookie; *@token its key in h->sessions */
static Session *
find_session (TcdHttp *h, SoupServerMessage *msg, const gchar **token)
{
  const gchar *cookie = soup_message_headers_get_list (
      soup_server_message_get_request_headers (msg), "Cookie");
  g_autoptr (GHashTable) params = NULL;
  const gchar *v;
  gpointer key = NULL, value = NULL;
  Session *s;

  if (!cookie)
    return NULL;
  params = soup_header_parse_semi_param_list (cookie);
  v = g_hash_table_lookup (params, SESSION_COOKIE);
  if (!v || !g_hash_table_lookup_extended (h->sessions, v, &key, &value))
    return NULL;
  s = value;
  /* a session made over HTTPS is not good over plain HTTP, where anyone on
   * the way could have read its cookie (and one made over HTTP not over
   * HTTPS: the page logs in again) */
  if (s->tls != is_tls (h, msg))
    return NULL;
  if (g_get_monotonic_time () > s->expires
      || tcd_users_get_level (h->ctx->users, s->user) == TCD_LEVEL_NONE) {
    g_hash_table_remove (h->sessions, v);
    return NULL;
  }
  *token = key;                 /* the table's own copy (@params goes now) */
  return s;
}

static gboolean
changes_state (const gchar *method)
{
  return !g_str_equal (method, "GET") && !g_str_equal (method, "HEAD")
      && !g_str_equal (method, "OPTIONS");
}

/* a browser sending a request for another site's page */
static gboolean
cross_site (SoupServerMessage *msg)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  const gchar *site = soup_message_headers_get_one (hdrs, "Sec-Fetch-Site");
  const gchar *origin = soup_message_headers_get_one (hdrs, "Origin");
  const gchar *host = soup_message_headers_get_one (hdrs, "Host");
  g_autoptr (GUri) o = NULL;
  g_autofree gchar *ohost = NULL;

  if (site && (g_str_equal (site, "cross-site") || g_str_equal (site, "same-site")))
    return TRUE;
  if (!origin)
    return FALSE;               /* not a browser, or a same-origin GET-like request */
  if (g_str_equal (origin, "null") || !host)
    return TRUE;
  o = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  if (!o || !g_uri_get_host (o))
    return TRUE;
  ohost = g_uri_get_port (o) > 0
      ? g_strdup_printf ("%s:%d", g_uri_get_host (o), g_uri_get_port (o))
      : g_strdup (g_uri_get_host (o));
  /* Host carries the port unless it is the scheme's default */
  if (g_ascii_strcasecmp (ohost, host) == 0)
    return FALSE;
  if (g_uri_get_port (o) <= 0) {
    const gchar *colon = strrchr (host, ':');
    if (colon && g_ascii_strncasecmp (host, ohost, colon - host) == 0
        && strlen (ohost) == (gsize) (colon - host))
      return FALSE;
  }
  return TRUE;
}

/* "Digest username="x", ..." or "Basic base64" -> x, for the audit log */
static gchar *
claimed_user (const gchar *authorization)
{
  if (g_ascii_strncasecmp (authorization, "Basic ", 6) == 0) {
    gsize len;
    g_autofree guchar *dec = g_base64_decode (authorization + 6, &len);
    g_autofree gchar *s = g_strndup ((gchar *) dec, len);
    gchar *colon = strchr (s, ':');
    if (colon)
      *colon = '\0';
    return g_utf8_make_valid (s, -1);
  }
  if (g_ascii_strncasecmp (authorization, "Digest ", 7) == 0) {
    g_autoptr (GHashTable) p = soup_header_parse_param_list (authorization + 7);
    const gchar *u = g_hash_table_lookup (p, "username");
    return u ? g_utf8_make_valid (u, -1) : NULL;
  }
  return NULL;
}

/* ---- Digest nonces ----
 * libsoup checks a Digest response against the HA1 but not its nonce, so
 * the nonces are ours: the issue time and an HMAC of it under a key made at
 * start, good for NONCE_LIFE_US; each use must carry a higher nc than the
 * last (RFC 7616 3.3), so a captured Authorization header cannot be sent
 * again with another body.  A nonce we did not make, an old one or a
 * replayed nc gets a new challenge with stale=true (clients retry without
 * asking the user) and does not count as a failed login. */

static void
nonce_mac (TcdHttp *h, guint64 issued, gchar out[33])
{
  guint8 md[EVP_MAX_MD_SIZE];
  guint md_len = 0;
  guint8 t[8];

  for (guint i = 0; i < 8; i++)
    t[i] = issued >> (56 - 8 * i);
  HMAC (EVP_sha256 (), h->nonce_key, sizeof h->nonce_key, t, sizeof t, md, &md_len);
  for (guint i = 0; i < 16; i++)
    g_snprintf (out + 2 * i, 3, "%02x", md[i]);
}

gchar *
nonce_new (TcdHttp *h)
{
  guint64 now = g_get_monotonic_time ();
  gchar mac[33];

  nonce_mac (h, now, mac);
  return g_strdup_printf ("%016" G_GINT64_MODIFIER "x%s", now, mac);
}

/* TRUE when @nonce is ours and fresh, and @nc_text is above every nc it
 * was used with before; *nc is that nc */
gboolean
nonce_check (TcdHttp *h, const gchar *nonce, const gchar *nc_text, guint *nc)
{
  gint64 now = g_get_monotonic_time ();
  gchar mac[33], head[17], *end = NULL;
  guint64 issued, v;
  gpointer last;

  if (!nonce || strlen (nonce) != 48 || !nc_text)
    return FALSE;
  g_strlcpy (head, nonce, sizeof head);
  issued = g_ascii_strtoull (head, &end, 16);
  if (end != head + 16 || (gint64) issued > now || now - (gint64) issued > NONCE_LIFE_US
      || (gint64) issued <= h->nonce_floor)
    return FALSE;
  nonce_mac (h, issued, mac);
  if (CRYPTO_memcmp (mac, nonce + 16, 32) != 0)
    return FALSE;
  v = g_ascii_strtoull (nc_text, &end, 16);
  if (*end || end == nc_text || v == 0 || v > G_MAXUINT32)
    return FALSE;
  if (g_hash_table_lookup_extended (h->nonces, nonce, NULL, &last)
      && v <= GPOINTER_TO_UINT (last))
    return FALSE;               /* a replay */
  *nc = v;
  return TRUE;
}

/* after a good login: @nc is the highest of @nonce now */
void
nonce_record (TcdHttp *h, const gchar *nonce, guint nc)
{
  gint64 now = g_get_monotonic_time ();

  if (!g_hash_table_contains (h->nonces, nonce)
      && g_hash_table_size (h->nonces) >= MAX_NONCES) {
    GHashTableIter it;
    const gchar *k;
    gchar head[17];
    gint64 newest = 0;
    /* forget the expired ones; failing that, all, and refuse (stale)
     * every nonce issued before now, so that none can be replayed */
    g_hash_table_iter_init (&it, h->nonces);
    while (g_hash_table_iter_next (&it, (gpointer *) & k, NULL)) {
      gint64 issued;
      g_strlcpy (head, k, sizeof head);
      issued = g_ascii_strtoull (head, NULL, 16);
      if (now - issued > NONCE_LIFE_US)
        g_hash_table_iter_remove (&it);
      else
        newest = MAX (newest, issued);
    }
    if (g_hash_table_size (h->nonces) >= MAX_NONCES) {
      g_hash_table_remove_all (h->nonces);
      h->nonce_floor = MAX (newest, now);
      return;
    }
  }
  g_hash_table_replace (h->nonces, g_strdup (nonce), GUINT_TO_POINTER (nc));
}

/* ---- Digest responses ----
 * Checked here rather than by libsoup's SoupAuthDomainDigest, which compares
 * the "uri" parameter unescaped with the request's path still escaped, so
 * that a good password fails on any percent-encoded query
 * (?from=2026-12-03T00%3A00%3A00Z) or dot segment, and counts towards the
 * lock.  RFC 7616 3.4.6: the uri is the request-target as sent; it is
 * resolved the way libsoup resolved the request line, so the two compare
 * equal exactly when the client signed this request's target. */

typedef enum {
  DIGEST_OK,
  DIGEST_WRONG,                 /* not these credentials: a failed login */
  DIGEST_OTHER_URI,             /* the right credentials, signed for another target */
} DigestResult;

static void
md5_hex (GString *text, gchar out[33])
{
  g_autoptr (GChecksum) c = g_checksum_new (G_CHECKSUM_MD5);

  g_checksum_update (c, (const guchar *) text->str, text->len);
  g_strlcpy (out, g_checksum_get_string (c), 33);
}

gboolean
digest_uri_matches (SoupServerMessage *msg, const gchar *uri)
{
  GUri *req = soup_server_message_get_uri (msg);
  g_autoptr (GUri) base = NULL, dig = NULL;

  base = g_uri_build (SOUP_HTTP_URI_FLAGS, g_uri_get_scheme (req), NULL,
      g_uri_get_host (req) ? g_uri_get_host (req) : "localhost", -1, "/", NULL, NULL);
  dig = g_uri_parse_relative (base, uri, SOUP_HTTP_URI_FLAGS, NULL);
  return dig && g_strcmp0 (g_uri_get_path (dig), g_uri_get_path (req)) == 0
      && g_strcmp0 (g_uri_get_query (dig), g_uri_get_query (req)) == 0;
}

static DigestResult
digest_verify (TcdHttp *h, SoupServerMessage *msg, GHashTable *params, gchar **user)
{
  const gchar *name = g_hash_table_lookup (params, "username");
  const gchar *uri = g_hash_table_lookup (params, "uri");
  const gchar *realm = g_hash_table_lookup (params, "realm");
  const gchar *qop = g_hash_table_lookup (params, "qop");
  const gchar *algorithm = g_hash_table_lookup (params, "algorithm");
  const gchar *nonce = g_hash_table_lookup (params, "nonce");
  const gchar *nc = g_hash_table_lookup (params, "nc");
  const gchar *cnonce = g_hash_table_lookup (params, "cnonce");
  const gchar *response = g_hash_table_lookup (params, "response");
  const gchar *ha1 = name ? tcd_users_get_ha1 (h->ctx->users, name) : NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  gchar ha2[33], expected[33];
  gboolean good;

  if (!name || !uri || !realm || !nonce || !nc || !cnonce || !response
      || g_strcmp0 (qop, "auth") != 0 || !g_str_equal (realm, TCD_REALM)
      || (algorithm && g_ascii_strcasecmp (algorithm, "MD5") != 0) || strlen (response) != 32)
    return DIGEST_WRONG;
  g_string_printf (text, "%s:%s", soup_server_message_get_method (msg), uri);
  md5_hex (text, ha2);
  /* an unknown name costs the same as a known one */
  g_string_printf (text, "%s:%s:%s:%s:auth:%s", ha1 ? ha1 : "00000000000000000000000000000000",
      nonce, nc, cnonce, ha2);
  md5_hex (text, expected);
  good = CRYPTO_memcmp (expected, response, 32) == 0;
  if (!good) {
    /* hex digits in upper case are the same response */
    g_autofree gchar *lower = g_ascii_strdown (response, 32);
    good = CRYPTO_memcmp (expected, lower, 32) == 0;
  }
  if (!good || !ha1)
    return DIGEST_WRONG;
  if (!digest_uri_matches (msg, uri))
    return DIGEST_OTHER_URI;
  *user = g_strdup (name);
  return DIGEST_OK;
}

/* a browser's script request (fetch, EventSource, WebSocket, a picture of
 * the page): Sec-Fetch-Mode other than navigate. It gets no challenge, so
 * that a session that ended shows the page's login form, not the browser's
 * password dialog; a person opening an API address still gets the dialog */
static gboolean
from_page_script (SoupServerMessage *msg)
{
  const gchar *mode = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Sec-Fetch-Mode");

  return mode && g_ascii_strcasecmp (mode, "navigate") != 0;
}

static void
challenge_full (TcdHttp *h, SoupServerMessage *msg, const gchar *code, const gchar *message,
    gboolean stale)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  g_autofree gchar *nonce = NULL;
  g_autofree gchar *digest = NULL;

  send_error (msg, SOUP_STATUS_UNAUTHORIZED, code, NULL, "%s", message);
  if (from_page_script (msg))
    return;
  nonce = nonce_new (h);
  digest = g_strdup_printf ("Digest realm=\"" TCD_REALM "\", "
      "nonce=\"%s\", qop=\"auth\", algorithm=MD5%s", nonce, stale ? ", stale=true" : "");
  soup_message_headers_append (hdrs, "WWW-Authenticate", digest);
  if (tcd_security_basic_allowed (h->ctx->security, "web"))
    soup_auth_domain_challenge (h->basic, msg);
}

static void
challenge (TcdHttp *h, SoupServerMessage *msg, const gchar *code, const gchar *message)
{
  challenge_full (h, msg, code, message, FALSE);
}

void
send_locked (SoupServerMessage *msg, gint64 remaining)
{
  g_autofree gchar *ra = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (remaining, 1));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Retry-After", ra);
  send_error (msg, SOUP_STATUS_FORBIDDEN, "locked", NULL,
      "too many failed logins from this address: locked for %" G_GINT64_FORMAT " more seconds",
      MAX (remaining, 1));
}

void
send_not_activated (SoupServerMessage *msg)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "X-Activation-Required", "POST " API "activate");
  send_error (msg, SOUP_STATUS_UNAUTHORIZED, "not_activated", NULL,
      "the device is not activated: POST " API "activate with {\"password\": \"...\"} "
      "(at least 8 characters mixing three of upper case, lower case, digits, specials) "
      "creates the user admin");
}

gboolean
is_tls (TcdHttp *h, SoupServerMessage *msg)
{
  return GPOINTER_TO_INT (g_object_get_data (G_OBJECT (msg), "tcd-tls"));
}

/* steps 2-5 of the header comment (and the filter again, for connections
 * accepted before it changed); FALSE when the answer is already set */
gboolean
http_is_metrics (SoupServerMessage *msg)
{
  return g_strcmp0 (http_path_of (msg), "/metrics") == 0;
}

/* /metrics with "Authorization: Bearer @given": the token of metrics.token
 * (compared in constant time); a wrong one counts towards the lock */
static gboolean
metrics_token (TcdHttp *h, SoupServerMessage *msg, const gchar *given)
{
  TcdContext *ctx = h->ctx;
  const gchar *token = tcd_config_string (ctx->config, "metrics.token");
  const gchar *address = address_of (msg);
  gint64 remaining = 0;
  Who *who;

  while (*given == ' ')
    given++;
  if (!token || !*token || strlen (given) != strlen (token)
      || CRYPTO_memcmp (given, token, strlen (token)) != 0) {
    if (tcd_security_login_failed (ctx->security, address, "http", "metrics-token")) {
      tcd_security_is_locked (ctx->security, address, &remaining);
      send_locked (msg, remaining);
    } else {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
          "WWW-Authenticate", "Bearer realm=\"" TCD_REALM "\", error=\"invalid_token\"");
      send_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", NULL,
          "the bearer token is not metrics.token");
    }
    return FALSE;
  }
  who = g_new0 (Who, 1);
  who->address = g_strdup (address);
  who->user = g_strdup ("metrics-token");
  who->level = TCD_LEVEL_USER;
  g_object_set_data_full (G_OBJECT (msg), "tcd-who", who, (GDestroyNotify) who_free);
  return TRUE;
}

gboolean
gate (TcdHttp *h, SoupServerMessage *msg)
{
  TcdContext *ctx = h->ctx;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *address = address_of (msg);
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  const gchar *authorization = soup_message_headers_get_one (hdrs, "Authorization");
  const TcdRouteMatch *route = http_route_of (h, msg);
  TcdLevel need;
  guint need_perm = TCD_PERM_NONE;
  Who *who;
  Session *session;
  const gchar *token_of_session = NULL;
  gint64 remaining = 0;
  g_autofree gchar *user = NULL;

  gboolean metrics = !route && http_is_metrics (msg);

  if (!route && !metrics)
    return TRUE;                /* 404s and the web page's files */
  need = metrics ? TCD_LEVEL_USER : route->level;
  /* the permission of the row (a metrics scrape is status); a row that
   * says none is the administrator's */
  if (metrics)
    need_perm = TCD_PERM_LOG_STATUS;
  else if (route->result == TCD_ROUTE_FOUND) {
    need_perm = route->route->permission;
    if (need_perm == TCD_ROUTE_UNSET) {
      need_perm = TCD_PERM_NONE;
      need = TCD_LEVEL_ADMINISTRATOR;
    }
  }
  /* a connection accepted before the filter changed */
  if (!tcd_security_address_allowed_str (ctx->security, address)) {
    h->refused++;
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
        "Connection", "close");
    send_error (msg, SOUP_STATUS_FORBIDDEN, "filtered", NULL,
        "this address may not use the device (IP address filter)");
    return FALSE;
  }
  if (tcd_security_is_locked (ctx->security, address, &remaining)) {
    send_locked (msg, remaining);
    return FALSE;
  }
  if (changes_state (method) && cross_site (msg)) {
    send_error (msg, SOUP_STATUS_FORBIDDEN, "cross_site", NULL,
        "a request from another site's page may not change anything here");
    return FALSE;
  }
  /* off: as if it were not there (a scraper sees its target down with 404,
   * not a credentials problem); the message says why */
  if (metrics && !tcd_config_bool (ctx->config, "metrics.enabled")) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "metrics.enabled",
        "the Prometheus metrics are off (metrics.enabled)");
    return FALSE;
  }
  if (!tcd_users_is_activated (ctx->users)) {
    /* only activation; answered here, as a request let through now could
     * otherwise reach its handler after the device was activated, without
     * credentials */
    if (route && g_strcmp0 (route->pattern, HTTP_ACTIVATE) == 0)
      return TRUE;
    send_not_activated (msg);
    return FALSE;
  }
  if (need == TCD_LEVEL_NONE)
    return TRUE;

  if (metrics && authorization && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    return metrics_token (h, msg, authorization + 7);

  who = g_new0 (Who, 1);
  who->address = g_strdup (address);
  if ((session = find_session (h, msg, &token_of_session))) {
    if (changes_state (method)) {
      const gchar *token = soup_message_headers_get_one (hdrs, "X-CSRF-Token");
      if (!token || strlen (token) != strlen (session->csrf)
          || CRYPTO_memcmp (token, session->csrf, strlen (token)) != 0) {
        who_free (who);
        send_error (msg, SOUP_STATUS_FORBIDDEN, "csrf", NULL,
            "a change in a browser session needs the X-CSRF-Token header "
            "(csrf_token of POST " API "session)");
        return FALSE;
      }
    }
    who->user = g_strdup (session->user);
    who->session = TRUE;
    who->csrf = g_strdup (session->csrf);
    who->token = g_strdup (token_of_session);
  } else if (authorization) {
    gboolean basic = g_ascii_strncasecmp (authorization, "Basic ", 6) == 0;

    if (basic && !tcd_security_basic_allowed (ctx->security, "web")) {
      who_free (who);
      challenge (h, msg, "unauthorized", "Basic authentication is off: use Digest");
      return FALSE;
    }
    g_autoptr (GHashTable) params = !basic
        && g_ascii_strncasecmp (authorization, "Digest ", 7) == 0
        ? soup_header_parse_param_list (authorization + 7) : NULL;
    const gchar *nonce = params ? g_hash_table_lookup (params, "nonce") : NULL;
    guint nc = 0;

    if (!basic) {
      /* our nonce, fresh: else a new one (not a failed login: the
       * password was not even looked at) */
      if (!nonce_check (h, nonce, params ? g_hash_table_lookup (params, "nc") : NULL, &nc)) {
        who_free (who);
        challenge_full (h, msg, "unauthorized", "the Digest nonce is unknown, old or "
            "replayed: log in again with the new one", TRUE);
        return FALSE;
      }
    }
    if (!basic && params) {
      DigestResult r = digest_verify (h, msg, params, &user);
      if (r == DIGEST_OTHER_URI) {
        /* the password was right: not a failed login */
        who_free (who);
        send_error (msg, SOUP_STATUS_BAD_REQUEST, "digest_uri", NULL,
            "the Digest uri is not this request's target (RFC 7616: the request-target "
            "as sent)");
        return FALSE;
      }
    } else if (basic) {
      user = soup_auth_domain_accepts (h->basic, msg);
    }
    if (!user) {
      g_autofree gchar *claimed = claimed_user (authorization);
      who_free (who);
      if (tcd_security_login_failed (ctx->security, address, "http", claimed)) {
        tcd_security_is_locked (ctx->security, address, &remaining);
        send_locked (msg, remaining);
      } else {
        challenge (h, msg, "unauthorized", "wrong user name or password");
      }
      return FALSE;
    }
    if (!basic)
      nonce_record (h, nonce, nc);
    tcd_security_login_succeeded (ctx->security, address, is_tls (h, msg) ? "https" : "http",
        user, FALSE);
    who->user = g_steal_pointer (&user);
  } else {
    who_free (who);
    challenge (h, msg, "unauthorized", "log in: Digest"
        " (or Basic where security.authentication.web allows it), or POST " API "session");
    if (metrics)
      soup_message_headers_append (soup_server_message_get_response_headers (msg),
          "WWW-Authenticate", "Bearer realm=\"" TCD_REALM "\"");
    return FALSE;
  }
  who->level = tcd_users_get_level (ctx->users, who->user);
  who->permissions = tcd_users_get_permissions (ctx->users, who->user);
  g_object_set_data_full (G_OBJECT (msg), "tcd-who", who, (GDestroyNotify) who_free);
  if (who->level < need) {
    send_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
        "%s (%s) may not do this: it needs %s", who->user, tcd_level_to_string (who->level),
        tcd_level_to_string (need));
    return FALSE;
  }
  if ((who->permissions & need_perm) != need_perm) {
    send_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
        "%s may not do this: it needs the permission %s", who->user,
        tcd_permission_to_string (need_perm));
    return FALSE;
  }
  return TRUE;
}

/* a host-only cookie (no Domain: SoupCookie wants one), for the page's
 * scripts out of reach (HttpOnly), never sent by another site's page
 * (SameSite=Strict), over HTTPS only when made there (Secure); @value is
 * our hex token or empty */
void
set_session_cookie (TcdHttp *h, SoupServerMessage *msg, const gchar *value, gint max_age)
{
  g_autofree gchar *header = g_strdup_printf ("%s=%s; Path=/; Max-Age=%d; HttpOnly; "
      "SameSite=Strict%s", SESSION_COOKIE, value, max_age, is_tls (h, msg) ? "; Secure" : "");

  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie",
      header);
}
