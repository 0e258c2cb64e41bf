/* thermocamd: HTTP routes of the web page's sessions: log in (a cookie and a
 * CSRF token), who one is, log out
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"

#define MAX_SESSIONS 64

static void
handle_session_get (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  Who *who = who_of (msg);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, who->user);
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, tcd_level_to_string (who->level));
  json_builder_set_member_name (b, "permissions");
  json_builder_add_value (b, tcd_permissions_to_json (who->permissions));
  json_builder_set_member_name (b, "session");
  json_builder_add_boolean_value (b, who->session);
  /* a page that was reloaded has lost the token of its login: the cookie
   * (HttpOnly, SameSite=Strict; no CORS ever) gets it again, and only the
   * page of this origin can read the answer */
  if (who->session && who->csrf) {
    json_builder_set_member_name (b, "csrf_token");
    json_builder_add_string_value (b, who->csrf);
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

static void
handle_session_delete (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  Who *who = who_of (msg);
  const gchar *cookie = soup_message_headers_get_list (
      soup_server_message_get_request_headers (msg), "Cookie");
  g_autoptr (GHashTable) params = cookie ? soup_header_parse_semi_param_list (cookie) : NULL;
  const gchar *v = params ? g_hash_table_lookup (params, SESSION_COOKIE) : NULL;

  if (v)
    g_hash_table_remove (h->sessions, v);
  set_session_cookie (h, msg, "", 0);
  tcd_audit (h->ctx->security, "logout", who->user, who->address, "logout");
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* An account holds at most a quarter of the sessions: past that its own
 * oldest goes, so that one account logging in again and again cannot end
 * the others' sessions; a full table loses its oldest */
static void
make_room (TcdHttp *h, const gchar *name)
{
  GHashTableIter it;
  gpointer k, v, oldest = NULL, own_oldest = NULL;
  gint64 t = G_MAXINT64, own_t = G_MAXINT64;
  guint own = 0;

  g_hash_table_iter_init (&it, h->sessions);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    Session *x = v;
    if (x->expires < t) {
      t = x->expires;
      oldest = k;
    }
    if (g_str_equal (x->user, name)) {
      own++;
      if (x->expires < own_t) {
        own_t = x->expires;
        own_oldest = k;
      }
    }
  }
  if (own >= MAX_SESSIONS / 4)
    g_hash_table_remove (h->sessions, own_oldest);
  else if (g_hash_table_size (h->sessions) >= MAX_SESSIONS)
    g_hash_table_remove (h->sessions, oldest);
}

/* POST /session {"name", "password"}: no credentials needed (it is the login) */
static void
handle_session_login (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdContext *ctx = h->ctx;
  static const gchar *fields[] = { "name", "password", NULL };
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o;
  const gchar *name, *password;
  gint64 minutes;
  Session *s;
  gchar *token;

  if (!(body = read_body (msg)) || !(o = body_object (msg, body, fields)))
    return;
  name = member (o, "name");
  password = member (o, "password");
  if (!name || !password) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", name ? "password" : "name",
        "name and password are required");
    return;
  }
  if (!tcd_users_check_password (ctx->users, name, password)) {
    gint64 remaining = 0;
    if (tcd_security_login_failed (ctx->security, address_of (msg), "web", name)) {
      tcd_security_is_locked (ctx->security, address_of (msg), &remaining);
      send_locked (msg, remaining);
    } else {
      /* no WWW-Authenticate: a page's login form, not a browser dialog */
      send_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", NULL,
          "wrong user name or password");
    }
    return;
  }
  minutes = tcd_config_int (ctx->config, "security.session_timeout_min");
  s = g_new0 (Session, 1);
  token = random_token ();
  make_room (h, name);
  s->user = g_strdup (name);
  s->csrf = random_token ();
  s->tls = is_tls (h, msg);
  s->expires = g_get_monotonic_time () + minutes * 60 * G_USEC_PER_SEC;
  g_hash_table_insert (h->sessions, token, s);
  set_session_cookie (h, msg, token, minutes * 60);
  tcd_security_login_succeeded (ctx->security, address_of (msg), "web", name, TRUE);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b,
      tcd_level_to_string (tcd_users_get_level (ctx->users, name)));
  json_builder_set_member_name (b, "permissions");
  json_builder_add_value (b, tcd_permissions_to_json (tcd_users_get_permissions (ctx->users, name)));
  json_builder_set_member_name (b, "csrf_token");
  json_builder_add_string_value (b, s->csrf);
  json_builder_set_member_name (b, "expires_in");
  json_builder_add_int_value (b, minutes * 60);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

const TcdRoute tcd_http_session_routes[] = {
  HTTP_ROUTE_P ("GET", "/session", TCD_LEVEL_USER, TCD_PERM_NONE, handle_session_get),
  HTTP_ROUTE_P ("POST", "/session", TCD_LEVEL_NONE, TCD_PERM_NONE, handle_session_login),
  HTTP_ROUTE_P ("DELETE", "/session", TCD_LEVEL_USER, TCD_PERM_NONE, handle_session_delete),
  HTTP_ROUTES_END
};
