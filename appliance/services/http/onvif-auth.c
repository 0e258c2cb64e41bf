/* thermocamd: who may ask ONVIF: its own users, HTTP Digest and WS-UsernameToken
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The ONVIF users are not the web accounts (manual 9.6 keeps a list of its
 * own): onvif.users in the configuration, {name, level (Administrator,
 * Operator, User), secret}.  A password comes in as "password" and is
 * sealed (core/tcd-secret.h) by the section's policy before anything keeps
 * it; the sealed text is never shown.  WS-UsernameToken PasswordDigest needs
 * the password itself, hence sealed, not hashed.
 *
 * onvif.authentication (manual 9.6): "digest" (HTTP Digest only) or
 * "digest/ws-username-token" (either).  A WS-UsernameToken must have a
 * fresh Created (at most ONVIF_CREATED_MAX_AGE old, at most
 * ONVIF_CREATED_SKEW ahead) and a nonce not seen within that window.
 * Every failure counts towards the illegal-login lock of the address, as on
 * the other ports; the ONVIF Core access classes decide what each level may
 * call (onvif_level_allows).
 */
#include "onvif-private.h"
#include "tcd-clock.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

#include "tc-json.h"
#include "tcd-secret.h"

#define CREATED_MAX_AGE_S 300         /* a UsernameToken's Created: at most 5 minutes old */
#define CREATED_SKEW_S 60             /* and at most a minute ahead of our clock */
#define MAX_TOKEN_NONCES 8192         /* UsernameToken nonces remembered (for replays) */
#define MAX_ONVIF_USERS 32

struct _OnvifAuth {
  TcdHttp *h;
  GHashTable *nonces;           /* base64 nonce -> unix time (s) seen */
};

/* ---- levels and classes ---- */

const gchar *
onvif_level_name (OnvifLevel level)
{
  switch (level) {
    case ONVIF_LEVEL_ADMINISTRATOR: return "Administrator";
    case ONVIF_LEVEL_OPERATOR: return "Operator";
    case ONVIF_LEVEL_USER: return "User";
    default: return "Anonymous";
  }
}

OnvifLevel
onvif_level_parse (const gchar *name)
{
  if (g_strcmp0 (name, "Administrator") == 0)
    return ONVIF_LEVEL_ADMINISTRATOR;
  if (g_strcmp0 (name, "Operator") == 0)
    return ONVIF_LEVEL_OPERATOR;
  if (g_strcmp0 (name, "User") == 0)
    return ONVIF_LEVEL_USER;
  return ONVIF_LEVEL_NONE;
}

/* ONVIF Core 5.9.4.3, the default access policy */
gboolean
onvif_level_allows (OnvifLevel level, OnvifClass access)
{
  switch (access) {
    case ONVIF_PRE_AUTH:
      return TRUE;
    case ONVIF_READ_SYSTEM:
    case ONVIF_READ_MEDIA:
      return level >= ONVIF_LEVEL_USER;
    case ONVIF_READ_SYSTEM_SENSITIVE:
    case ONVIF_ACTUATE:
      return level >= ONVIF_LEVEL_OPERATOR;
    case ONVIF_READ_SYSTEM_SECRET:
    case ONVIF_WRITE_SYSTEM:
    case ONVIF_UNRECOVERABLE:
      return level >= ONVIF_LEVEL_ADMINISTRATOR;
  }
  return FALSE;
}

/* ---- the users ---- */

static JsonArray *
users_array (TcdContext *ctx)
{
  JsonNode *u = tcd_config_node (tcd_config_get (ctx->config), "onvif.users");
  return u && JSON_NODE_HOLDS_ARRAY (u) ? json_node_get_array (u) : NULL;
}

guint
onvif_users_count (TcdContext *ctx)
{
  JsonArray *a = users_array (ctx);
  return a ? json_array_get_length (a) : 0;
}

static gchar *
secret_context (const gchar *name)
{
  return g_strconcat ("onvif:", name, NULL);
}

/* the password and level of @name, or NULL */
static gchar *
user_password (TcdContext *ctx, const gchar *name, OnvifLevel *level)
{
  JsonArray *a = users_array (ctx);

  for (guint i = 0; a && name && i < json_array_get_length (a); i++) {
    JsonObject *o = tc_json_array_get_object (a, i);
    g_autofree gchar *context = NULL;
    if (!o || g_strcmp0 (tc_json_get_string (o, "name", NULL), name) != 0)
      continue;
    *level = onvif_level_parse (tc_json_get_string (o, "level", NULL));
    context = secret_context (name);
    return tcd_secret_open (ctx->state_dir, context, tc_json_get_string (o, "secret", NULL));
  }
  return NULL;
}

static void
free_password (gchar *p)
{
  if (p) {
    OPENSSL_cleanse (p, strlen (p));
    g_free (p);
  }
}

/* The section's policy: a user that comes with a "password" gets it
 * sealed; one without keeps the secret of the user of its name; a
 * "secret" sent from outside is never taken.  A password that cannot be
 * sealed stays as "password", which the check below refuses. */
static void
users_incoming (TcdConfig *config, JsonNode *patch, gpointer user_data)
{
  TcdContext *ctx = user_data;
  JsonNode *users = patch && JSON_NODE_HOLDS_OBJECT (patch)
      ? json_object_get_member (json_node_get_object (patch), "users") : NULL;
  JsonArray *old = users_array (ctx);

  if (!users || !JSON_NODE_HOLDS_ARRAY (users))
    return;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (users)); i++) {
    JsonObject *u = tc_json_array_get_object (json_node_get_array (users), i);
    const gchar *name, *password;
    if (!u)
      continue;
    json_object_remove_member (u, "secret");
    name = tc_json_get_string (u, "name", NULL);
    if (!name)
      continue;
    password = tc_json_get_string (u, "password", NULL);
    if (password) {
      g_autofree gchar *context = secret_context (name);
      g_autofree gchar *sealed = NULL;
      if (!tcd_password_is_strong (password, NULL)
          || !(sealed = tcd_secret_seal (ctx->state_dir, context, password, NULL)))
        continue;
      json_object_remove_member (u, "password");
      json_object_set_string_member (u, "secret", sealed);
      continue;
    }
    for (guint k = 0; old && k < json_array_get_length (old); k++) {
      JsonObject *o = tc_json_array_get_object (old, k);
      if (o && g_strcmp0 (tc_json_get_string (o, "name", NULL), name) == 0
          && tc_json_get_string (o, "secret", NULL)) {
        json_object_set_string_member (u, "secret", tc_json_get_string (o, "secret", NULL));
        break;
      }
    }
  }
}

/* as shown: no secret, ever */
static void
users_view (JsonNode *section, gboolean whole, gpointer user_data)
{
  JsonNode *users = section && JSON_NODE_HOLDS_OBJECT (section)
      ? json_object_get_member (json_node_get_object (section), "users") : NULL;

  for (guint i = 0; users && JSON_NODE_HOLDS_ARRAY (users)
      && i < json_array_get_length (json_node_get_array (users)); i++) {
    JsonObject *u = tc_json_array_get_object (json_node_get_array (users), i);
    if (u) {
      json_object_remove_member (u, "secret");
      json_object_remove_member (u, "password");
    }
  }
}

/* every user has a sealed password (a new one came with a strong one), and
 * the names are unique */
static gboolean
users_check (JsonNode *doc, JsonNode *current, const TcdOrigin *origin, gpointer user_data,
    GError **error)
{
  JsonNode *users = tcd_config_node (doc, "onvif.users");
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; users && JSON_NODE_HOLDS_ARRAY (users)
      && i < json_array_get_length (json_node_get_array (users)); i++) {
    JsonObject *u = tc_json_array_get_object (json_node_get_array (users), i);
    const gchar *name = u ? tc_json_get_string (u, "name", NULL) : NULL;
    g_autofree gchar *field = g_strdup_printf ("onvif.users[%u].password", i);
    g_autofree gchar *name_field = g_strdup_printf ("onvif.users[%u].name", i);
    if (!name)
      continue;                 /* the schema says */
    if (!g_hash_table_add (names, (gpointer) name)) {
      tcd_change_refuse (error, name_field, "%s: the ONVIF user %s is there already",
          name_field, name);
      return FALSE;
    }
    if (json_object_has_member (u, "password")) {
      g_autoptr (GError) weak = NULL;
      if (!tcd_password_is_strong (tc_json_get_string (u, "password", ""), &weak))
        tcd_change_refuse (error, field, "%s: %s", field, weak->message);
      else
        tcd_change_refuse (error, field, "%s: the password cannot be kept", field);
      return FALSE;
    }
    if (!tc_json_get_string (u, "secret", NULL)) {
      tcd_change_refuse (error, field, "%s: a new ONVIF user needs a password", field);
      return FALSE;
    }
  }
  return TRUE;
}

/* ---- Digest ---- */

static void
md5_hex (const gchar *text, gchar out[33])
{
  g_autofree gchar *s = g_compute_checksum_for_string (G_CHECKSUM_MD5, text, -1);
  g_strlcpy (out, s, 33);
}

static void
challenge (OnvifRequest *r, gboolean stale, const gchar *why)
{
  g_autofree gchar *nonce = nonce_new (r->h);
  g_autofree gchar *digest = g_strdup_printf ("Digest realm=\"" TCD_REALM "\", "
      "nonce=\"%s\", qop=\"auth\", algorithm=MD5%s", nonce, stale ? ", stale=true" : "");

  soup_message_headers_append (soup_server_message_get_response_headers (r->msg),
      "WWW-Authenticate", digest);
  r->http_status = SOUP_STATUS_UNAUTHORIZED;
  onvif_fault (r, FALSE, "ter:NotAuthorized", NULL, "%s", why);
}

/* a failed login: counted; the lock when it locks */
static gboolean
failed (OnvifRequest *r, const gchar *user, gboolean digest, const gchar *why)
{
  gint64 remaining = 0;

  if (tcd_security_login_failed (r->ctx->security, r->address, "onvif", user)) {
    tcd_security_is_locked (r->ctx->security, r->address, &remaining);
    r->http_status = SOUP_STATUS_FORBIDDEN;
    return onvif_fault (r, FALSE, "ter:NotAuthorized", NULL, "too many failed logins from "
        "this address: locked for %" G_GINT64_FORMAT " more seconds", MAX (remaining, 1));
  }
  if (digest)
    challenge (r, FALSE, why);
  else
    onvif_fault (r, FALSE, "ter:NotAuthorized", NULL, "%s", why);
  return FALSE;
}

static gboolean
digest_login (OnvifAuth *a, OnvifRequest *r, const gchar *authorization)
{
  g_autoptr (GHashTable) p = soup_header_parse_param_list (authorization + 7);
  const gchar *name = g_hash_table_lookup (p, "username");
  const gchar *uri = g_hash_table_lookup (p, "uri");
  const gchar *realm = g_hash_table_lookup (p, "realm");
  const gchar *qop = g_hash_table_lookup (p, "qop");
  const gchar *algorithm = g_hash_table_lookup (p, "algorithm");
  const gchar *nonce = g_hash_table_lookup (p, "nonce");
  const gchar *nc_text = g_hash_table_lookup (p, "nc");
  const gchar *cnonce = g_hash_table_lookup (p, "cnonce");
  const gchar *response = g_hash_table_lookup (p, "response");
  OnvifLevel level = ONVIF_LEVEL_NONE;
  gchar *password;
  gchar ha1[33], ha2[33], expected[33];
  g_autofree gchar *t1 = NULL, *t2 = NULL, *t3 = NULL, *lower = NULL;
  guint nc = 0;
  gboolean good;

  if (!nonce_check (r->h, nonce, nc_text, &nc)) {
    challenge (r, TRUE, "the Digest nonce is unknown, old or replayed: use the new one");
    return FALSE;
  }
  if (!name || !uri || !realm || !cnonce || !response || g_strcmp0 (qop, "auth") != 0
      || !g_str_equal (realm, TCD_REALM)
      || (algorithm && g_ascii_strcasecmp (algorithm, "MD5") != 0) || strlen (response) != 32)
    return failed (r, name, TRUE, "malformed Digest credentials");
  password = user_password (r->ctx, name, &level);
  t1 = g_strdup_printf ("%s:" TCD_REALM ":%s", name, password ? password : "");
  free_password (password);
  md5_hex (t1, ha1);
  OPENSSL_cleanse (t1, strlen (t1));
  t2 = g_strdup_printf ("%s:%s", soup_server_message_get_method (r->msg), uri);
  md5_hex (t2, ha2);
  t3 = g_strdup_printf ("%s:%s:%s:%s:auth:%s", ha1, nonce, nc_text, cnonce, ha2);
  md5_hex (t3, expected);
  lower = g_ascii_strdown (response, 32);
  good = CRYPTO_memcmp (expected, lower, 32) == 0 && level != ONVIF_LEVEL_NONE;
  if (!good)
    return failed (r, name, TRUE, "wrong ONVIF user name or password");
  if (!digest_uri_matches (r->msg, uri)) {
    r->http_status = SOUP_STATUS_BAD_REQUEST;
    return onvif_fault (r, FALSE, "ter:NotAuthorized", NULL,
        "the Digest uri is not this request's target");
  }
  nonce_record (r->h, nonce, nc);
  r->user = g_strdup (name);
  r->level = level;
  return TRUE;
}

/* ---- WS-UsernameToken (OASIS WSS UsernameToken Profile 1.0) ---- */

static void
forget_old_nonces (OnvifAuth *a, gint64 now)
{
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, a->nonces);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (now - GPOINTER_TO_SIZE (v) > CREATED_MAX_AGE_S + CREATED_SKEW_S)
      g_hash_table_iter_remove (&it);
}

static gboolean
token_login (OnvifAuth *a, OnvifRequest *r, xmlNodePtr token)
{
  g_autofree gchar *name = onvif_child_text (token, "Username");
  g_autofree gchar *digest = onvif_child_text (token, "Password");
  g_autofree gchar *nonce = onvif_child_text (token, "Nonce");
  g_autofree gchar *created = onvif_child_text (token, "Created");
  g_autofree gchar *type = onvif_attr (onvif_child (token, "Password"), "Type");
  g_autofree guchar *nonce_raw = NULL, *given = NULL;
  g_autoptr (GDateTime) when = NULL;
  gsize nonce_len = 0, given_len = 0;
  gint64 now = tcd_clock_now_utc () / G_USEC_PER_SEC, t;
  OnvifLevel level = ONVIF_LEVEL_NONE;
  guint8 md[SHA_DIGEST_LENGTH];
  gchar *password;
  g_autoptr (GChecksum) sha = g_checksum_new (G_CHECKSUM_SHA1);
  gsize md_len = sizeof md;
  gboolean good;

  if (!name || !digest || !nonce || !created
      || !type || !g_str_has_suffix (type, "#PasswordDigest"))
    return failed (r, name, FALSE, "a UsernameToken needs Username, a PasswordDigest, "
        "Nonce and Created (a PasswordText is not accepted)");
  if (strlen (nonce) > 256 || strlen (digest) > 64 || strlen (created) > 64)
    return failed (r, name, FALSE, "malformed UsernameToken");
  when = g_date_time_new_from_iso8601 (created, NULL);
  if (!when)
    return failed (r, name, FALSE, "the UsernameToken's Created is not an xs:dateTime in UTC");
  t = g_date_time_to_unix (when);
  if (now - t > CREATED_MAX_AGE_S || t - now > CREATED_SKEW_S)
    return failed (r, name, FALSE, "the UsernameToken's Created is too old or in the future "
        "(GetSystemDateAndTime tells the device's clock)");
  nonce_raw = g_base64_decode (nonce, &nonce_len);
  given = g_base64_decode (digest, &given_len);
  if (nonce_len < 8 || given_len != SHA_DIGEST_LENGTH)
    return failed (r, name, FALSE, "malformed UsernameToken nonce or digest");
  if (g_hash_table_contains (a->nonces, nonce))
    return failed (r, name, FALSE, "the UsernameToken's nonce was used before (a replay)");
  password = user_password (r->ctx, name, &level);
  g_checksum_update (sha, nonce_raw, nonce_len);
  g_checksum_update (sha, (const guchar *) created, strlen (created));
  if (password)
    g_checksum_update (sha, (const guchar *) password, strlen (password));
  g_checksum_get_digest (sha, md, &md_len);
  free_password (password);
  good = CRYPTO_memcmp (md, given, SHA_DIGEST_LENGTH) == 0 && level != ONVIF_LEVEL_NONE;
  if (!good)
    return failed (r, name, FALSE, "wrong ONVIF user name or password");
  if (g_hash_table_size (a->nonces) >= MAX_TOKEN_NONCES)
    forget_old_nonces (a, now);
  if (g_hash_table_size (a->nonces) >= MAX_TOKEN_NONCES) {
    r->http_status = SOUP_STATUS_SERVICE_UNAVAILABLE;
    return onvif_fault (r, TRUE, "ter:NotAuthorized", NULL,
        "too many logins in the last minutes: try again later");
  }
  g_hash_table_insert (a->nonces, g_strdup (nonce), GSIZE_TO_POINTER ((gsize) now));
  r->user = g_strdup (name);
  r->level = level;
  return TRUE;
}

gboolean
onvif_authenticate (OnvifAuth *a, OnvifRequest *r, xmlNodePtr header, OnvifClass needed)
{
  const gchar *authorization = soup_message_headers_get_one (
      soup_server_message_get_request_headers (r->msg), "Authorization");
  gboolean tokens_too = g_strcmp0 (tcd_config_string (r->ctx->config, "onvif.authentication"),
      "digest/ws-username-token") == 0;
  xmlNodePtr security = onvif_child (header, "Security");
  xmlNodePtr token = onvif_child (security, "UsernameToken");
  gboolean ok;

  r->user = NULL;
  r->level = ONVIF_LEVEL_NONE;
  /* before authentication: whatever credentials come along are not looked
   * at (a client may ask the time before its token can be fresh) */
  if (needed == ONVIF_PRE_AUTH)
    return TRUE;
  if (!tcd_users_is_activated (r->ctx->users)) {
    r->http_status = SOUP_STATUS_UNAUTHORIZED;
    return onvif_fault (r, FALSE, "ter:NotAuthorized", NULL,
        "the device is not activated (POST /api/v1/activate)");
  }
  if (authorization && g_ascii_strncasecmp (authorization, "Digest ", 7) == 0)
    ok = digest_login (a, r, authorization);
  else if (token && tokens_too)
    ok = token_login (a, r, token);
  else {
    challenge (r, FALSE, tokens_too ? "log in: HTTP Digest or a WS-UsernameToken "
        "(PasswordDigest) of an ONVIF user" : "log in: HTTP Digest of an ONVIF user "
        "(onvif.authentication is digest)");
    return FALSE;
  }
  if (ok)
    tcd_security_login_succeeded (r->ctx->security, r->address, "onvif", r->user, FALSE);
  return ok;
}

/* the policy and check are the change path's, registered once for it */
OnvifAuth *
onvif_auth_new (TcdHttp *h)
{
  static TcdChange *registered;
  OnvifAuth *a = g_new0 (OnvifAuth, 1);

  a->h = h;
  a->nonces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (registered != h->ctx->change) {
    registered = h->ctx->change;
    tcd_change_add_policy (h->ctx->change, "onvif", users_incoming, users_view, h->ctx);
    tcd_change_add_check (h->ctx->change, "onvif-users", users_check, h->ctx);
  }
  return a;
}

void
onvif_auth_free (OnvifAuth *a)
{
  if (!a)
    return;
  g_hash_table_unref (a->nonces);
  g_free (a);
}
