/* thermocamd: HTTP routes of the accounts (manual 10.13)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The list and new accounts are the administrator's; one account is its
 * owner's too (a user sees and changes its own, its level stays).  Each
 * account has its remote permissions (manual 10.13.1, "permissions": a list
 * of names, tcd-users.h), within what its level may hold; only the
 * administrator sets them; the gate enforces them on every route.
 */
#include "tcd-http-private.h"

#include <string.h>

static void
send_users_error (SoupServerMessage *msg, GError *err)
{
  send_gerror (msg, err, tcd_error_get_field (err),
      g_error_matches (err, TCD_USERS_ERROR, TCD_USERS_ERROR_WEAK) ? "password: " : NULL);
}

static void
send_user (SoupServerMessage *msg, TcdUsers *users, const gchar *name, guint status)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, tcd_level_to_string (tcd_users_get_level (users, name)));
  json_builder_set_member_name (b, "permissions");
  json_builder_add_value (b, tcd_permissions_to_json (tcd_users_get_permissions (users, name)));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, status, root);
}

/* takes "permissions" (not a string: body_object would refuse it) out of
 * the body's object; NULL when absent or the body is not an object */
static JsonNode *
take_permissions (JsonNode *body)
{
  JsonObject *o = body && JSON_NODE_HOLDS_OBJECT (body) ? json_node_get_object (body) : NULL;
  JsonNode *p = o ? json_object_dup_member (o, "permissions") : NULL;

  if (p)
    json_object_remove_member (o, "permissions");
  return p;
}

/* the bits of @perms for @level of the account @name (-1: not given, or a
 * level the account cannot have: the level's own refusal follows), or FALSE
 * with 400 sent */
static gboolean
permissions_of (SoupServerMessage *msg, JsonNode *perms, const gchar *name, const gchar *level,
    gint *out)
{
  g_autoptr (GError) err = NULL;
  TcdLevel l = tcd_level_from_string (level);
  guint bits;

  *out = -1;
  if (!perms || (l == TCD_LEVEL_ADMINISTRATOR && g_strcmp0 (name, "admin") != 0))
    return TRUE;
  if (l == TCD_LEVEL_NONE) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "level", "level: one of operator, user");
    return FALSE;
  }
  if (!tcd_permissions_from_json (perms, l, &bits, &err)) {
    send_users_error (msg, err);
    return FALSE;
  }
  *out = (gint) bits;
  return TRUE;
}

/* "live_view, playback" for the audit */
static gchar *
permissions_text (guint bits)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < TCD_PERM_COUNT; i++)
    if (bits & (1u << i))
      g_string_append_printf (s, "%s%s", s->len ? "," : "", tcd_permission_to_string (1u << i));
  return g_string_free (s, FALSE);
}

static void
handle_users_list (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) list = tcd_users_list (h->ctx->users);
  send_json (msg, SOUP_STATUS_OK, list);
}

static void
handle_user_add (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  static const gchar *fields[] = { "name", "password", "level", NULL };
  TcdContext *ctx = h->ctx;
  Who *who = who_of (msg);
  g_autoptr (JsonNode) body = NULL, perms_node = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *location = NULL, *perms_text = NULL;
  JsonObject *o;
  gint perms;

  if (!(body = read_body (msg)))
    return;
  perms_node = take_permissions (body);
  if (!(o = body_object (msg, body, fields)))
    return;
  if (!permissions_of (msg, perms_node, member (o, "name"),
          member (o, "level") ? member (o, "level") : "user", &perms))
    return;
  if (!tcd_users_add_full (ctx->users, member (o, "name"), member (o, "password"),
          member (o, "level") ? member (o, "level") : "user", perms, &err))
    return send_users_error (msg, err);
  perms_text = permissions_text (tcd_users_get_permissions (ctx->users, member (o, "name")));
  {
    TcdOrigin origin = origin_of (msg, "users");
    tcd_change_users_changed (ctx->change, &origin);
  }
  tcd_audit (ctx->security, "user", who->user, who->address, "added %s (%s; permissions: %s)",
      member (o, "name"), member (o, "level") ? member (o, "level") : "user",
      *perms_text ? perms_text : "none");
  location = g_strdup_printf (API "users/%s", member (o, "name"));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Location", location);
  send_user (msg, ctx->users, member (o, "name"), SOUP_STATUS_CREATED);
}

/* the account {name} of the path, when the one asking may see it; else
 * NULL with the answer sent: an administrator any, the others their own */
static const gchar *
account_of (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  const gchar *name = http_param (req, "name");
  Who *who = who_of (msg);

  if (who->level < TCD_LEVEL_ADMINISTRATOR && g_strcmp0 (who->user, name) != 0) {
    send_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
        "%s may only see and change its own account", who->user);
    return NULL;
  }
  if (tcd_users_get_level (h->ctx->users, name) == TCD_LEVEL_NONE) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "name", "no user '%s'", name);
    return NULL;
  }
  return name;
}

static void
handle_user_get (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  const gchar *name = account_of (h, msg, req);

  if (name)
    send_user (msg, h->ctx->users, name, SOUP_STATUS_OK);
}

static void
handle_user_delete (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdContext *ctx = h->ctx;
  Who *who = who_of (msg);
  g_autoptr (GError) err = NULL;
  const gchar *name = account_of (h, msg, req);

  if (!name)
    return;
  if (!tcd_users_delete (ctx->users, name, &err))
    return send_users_error (msg, err);
  drop_sessions (h, name);
  {
    TcdOrigin origin = origin_of (msg, "users");
    tcd_change_users_changed (ctx->change, &origin);
  }
  tcd_audit (ctx->security, "user", who->user, who->address, "deleted %s", name);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
handle_user_modify (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  static const gchar *fields[] = { "name", "password", "level", "old_password", NULL };
  TcdContext *ctx = h->ctx;
  Who *who = who_of (msg);
  g_autoptr (JsonNode) body = NULL, perms_node = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *perms_text = NULL;
  const gchar *name = account_of (h, msg, req);
  const gchar *level, *password;
  gboolean own, level_changed;
  guint perms_before;
  gint perms;
  JsonObject *o;

  if (!name || !(body = read_body (msg)))
    return;
  perms_node = take_permissions (body);
  if (!(o = body_object (msg, body, fields)))
    return;
  own = g_strcmp0 (who->user, name) == 0;
  level = member (o, "level");
  password = member (o, "password");
  if (member (o, "name") && !g_str_equal (member (o, "name"), name)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "name",
        "name: an account cannot be renamed");
    return;
  }
  if (level && who->level < TCD_LEVEL_ADMINISTRATOR
      && tcd_level_from_string (level) != who->level) {
    send_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", "level",
        "level: only the administrator changes levels");
    return;
  }
  if (level && who->level < TCD_LEVEL_ADMINISTRATOR)
    level = NULL;
  /* one's own permissions stay as the administrator set them */
  if (perms_node && who->level < TCD_LEVEL_ADMINISTRATOR) {
    send_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", "permissions",
        "permissions: only the administrator assigns permissions");
    return;
  }
  perms_before = tcd_users_get_permissions (ctx->users, name);
  level_changed = level && tcd_level_from_string (level) != tcd_users_get_level (ctx->users, name);
  if (!permissions_of (msg, perms_node, name, level ? level
          : tcd_level_to_string (tcd_users_get_level (ctx->users, name)), &perms))
    return;
  /* one's own password: prove it is oneself, not a borrowed session */
  if (password && own
      && !tcd_users_check_password (ctx->users, name, member (o, "old_password"))) {
    gint64 remaining = 0;
    if (tcd_security_login_failed (ctx->security, who->address, "web", name)) {
      tcd_security_is_locked (ctx->security, who->address, &remaining);
      return send_locked (msg, remaining);
    }
    send_error (msg, SOUP_STATUS_FORBIDDEN, "wrong_password", "old_password",
        "old_password: the current password is needed to change one's own");
    return;
  }
  if (!tcd_users_modify_full (ctx->users, name, password, level, perms, &err))
    return send_users_error (msg, err);
  /* what it may do changed: its sessions and streams (a live view it may no
   * longer have) end, as at a new password */
  if (password || level_changed || perms_before != tcd_users_get_permissions (ctx->users, name))
    drop_sessions (h, name);
  if (perms_before != tcd_users_get_permissions (ctx->users, name))
    perms_text = permissions_text (tcd_users_get_permissions (ctx->users, name));
  {
    TcdOrigin origin = origin_of (msg, "users");
    tcd_change_users_changed (ctx->change, &origin);
  }
  tcd_audit (ctx->security, "user", who->user, who->address, "changed %s:%s%s%s%s%s", name,
      password ? " password" : "", level ? " level" : "",
      perms_text ? " permissions (" : "", perms_text ? (*perms_text ? perms_text : "none") : "",
      perms_text ? ")" : "");
  send_user (msg, ctx->users, name, SOUP_STATUS_OK);
}

/* one's own account is "user": the handler checks it is one's own */
const TcdRoute tcd_http_users_routes[] = {
  HTTP_ROUTE_P ("GET", "/users", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_NONE, handle_users_list),
  HTTP_ROUTE_P ("POST", "/users", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_NONE, handle_user_add),
  HTTP_ROUTE_P ("GET", "/users/{name}", TCD_LEVEL_USER, TCD_PERM_NONE, handle_user_get),
  HTTP_ROUTE_P ("PUT", "/users/{name}", TCD_LEVEL_USER, TCD_PERM_NONE, handle_user_modify),
  HTTP_ROUTE_P ("DELETE", "/users/{name}", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_NONE, handle_user_delete),
  HTTP_ROUTES_END
};
