/* thermocamd: ONVIF users of the device service (GetUsers, CreateUsers,
 * DeleteUsers, SetUser): onvif.users through the change path, whose policy
 * (onvif-auth.c) seals each password as it comes in
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "onvif-private.h"

#include <string.h>

#include "tc-json.h"

#define MAX_USERS 32
#define MAX_NAME 32
#define MAX_PASSWORD 64

/* a copy of onvif.users */
static JsonArray *
users_copy (OnvifRequest *r)
{
  JsonNode *u = tcd_config_node (tcd_config_get (r->ctx->config), "onvif.users");
  g_autoptr (JsonNode) copy = u && JSON_NODE_HOLDS_ARRAY (u) ? tcd_json_deep_copy (u) : NULL;
  JsonArray *a = json_array_new ();

  /* only name and level: a user without password keeps its own secret
   * (the section's policy) */
  for (guint i = 0; copy && i < json_array_get_length (json_node_get_array (copy)); i++) {
    JsonObject *o = tc_json_array_get_object (json_node_get_array (copy), i);
    JsonObject *n = json_object_new ();
    if (!o)
      continue;
    json_object_set_string_member (n, "name", tc_json_get_string (o, "name", ""));
    json_object_set_string_member (n, "level", tc_json_get_string (o, "level", "User"));
    json_array_add_object_element (a, n);
  }
  return a;
}

static gint
find (JsonArray *a, const gchar *name)
{
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (g_strcmp0 (tc_json_get_string (tc_json_array_get_object (a, i), "name", NULL), name) == 0)
      return i;
  return -1;
}

static gboolean
commit (OnvifRequest *r, JsonArray *users)
{
  JsonNode *patch = onvif_object_new ();

  json_object_set_array_member (json_node_get_object (patch), "users", users);
  return onvif_change (r, "onvif", patch);
}

gboolean
onvif_get_users (OnvifRequest *r)
{
  g_autoptr (JsonArray) a = users_copy (r);

  onvif_open (r, "tds:GetUsersResponse");
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonObject *o = tc_json_array_get_object (a, i);
    onvif_open (r, "tds:User");
    onvif_elem (r, "tt:Username", tc_json_get_string (o, "name", ""));
    onvif_elem (r, "tt:UserLevel", tc_json_get_string (o, "level", "User"));
    onvif_close (r, "tds:User");
  }
  onvif_close (r, "tds:GetUsersResponse");
  return TRUE;
}

/* a User element's name, password (may be NULL when @need_password is
 * FALSE) and level, checked with the subcodes of ONVIF Core 8.4 */
static gboolean
read_user (OnvifRequest *r, xmlNodePtr u, gboolean need_password, gchar **name,
    gchar **password, const gchar **level)
{
  g_autofree gchar *n = onvif_child_text (u, "Username");
  g_autofree gchar *p = onvif_child_text (u, "Password");
  g_autofree gchar *l = onvif_child_text (u, "UserLevel");
  g_autoptr (GError) weak = NULL;

  if (!n || !*n)
    return onvif_fault (r, FALSE, "ter:OperationProhibited", "ter:UsernameTooShort",
        "a user needs a Username");
  if (strlen (n) > MAX_NAME)
    return onvif_fault (r, FALSE, "ter:OperationProhibited", "ter:UsernameTooLong",
        "Username: at most %d characters", MAX_NAME);
  for (const gchar *c = n; *c; c++)
    if (!g_ascii_isalnum (*c) && !strchr ("._-", *c))
      return onvif_invalid_arg (r, NULL, "Username: letters, digits, '.', '_' and '-' only");
  if (g_strcmp0 (l, "Anonymous") == 0)
    return onvif_fault (r, FALSE, "ter:OperationProhibited", "ter:AnonymousNotAllowed",
        "no user may be Anonymous");
  if (onvif_level_parse (l) == ONVIF_LEVEL_NONE)
    return onvif_invalid_arg (r, NULL, "UserLevel: Administrator, Operator or User");
  if (p && strlen (p) > MAX_PASSWORD)
    return onvif_fault (r, FALSE, "ter:OperationProhibited", "ter:PasswordTooLong",
        "Password: at most %d characters", MAX_PASSWORD);
  if (p && !tcd_password_is_strong (p, &weak))
    return onvif_fault (r, FALSE, "ter:OperationProhibited", "ter:PasswordTooWeak",
        "Password: %s", weak->message);
  if (!p && need_password)
    return onvif_fault (r, FALSE, "ter:OperationProhibited", "ter:PasswordTooWeak",
        "a new user needs a Password");
  *name = g_steal_pointer (&n);
  *password = g_steal_pointer (&p);
  *level = onvif_level_name (onvif_level_parse (l));
  return TRUE;
}

gboolean
onvif_create_users (OnvifRequest *r)
{
  JsonArray *a = users_copy (r);
  g_autoptr (GString) names = g_string_new (NULL);

  for (xmlNodePtr u = onvif_child (r->op, "User"); u; u = onvif_next (u, "User")) {
    g_autofree gchar *name = NULL, *password = NULL;
    const gchar *level;
    JsonObject *o;
    if (!read_user (r, u, TRUE, &name, &password, &level)) {
      json_array_unref (a);
      return FALSE;
    }
    if (find (a, name) >= 0) {
      json_array_unref (a);
      return onvif_fault (r, FALSE, "ter:OperationProhibited", "ter:UsernameClash",
          "the user %s exists", name);
    }
    if (json_array_get_length (a) >= MAX_USERS) {
      json_array_unref (a);
      return onvif_fault (r, TRUE, "ter:Action", "ter:TooManyUsers",
          "at most %d ONVIF users", MAX_USERS);
    }
    o = json_object_new ();
    json_object_set_string_member (o, "name", name);
    json_object_set_string_member (o, "level", level);
    json_object_set_string_member (o, "password", password);
    json_array_add_object_element (a, o);
    g_string_append_printf (names, "%s%s (%s)", names->len ? ", " : "", name, level);
  }
  if (!commit (r, a))
    return FALSE;
  tcd_audit (r->ctx->security, "user", r->user, r->address, "ONVIF users created: %s",
      names->str);
  onvif_empty (r, "tds:CreateUsersResponse");
  return TRUE;
}

gboolean
onvif_delete_users (OnvifRequest *r)
{
  JsonArray *a = users_copy (r);
  g_autoptr (GString) names = g_string_new (NULL);

  for (xmlNodePtr u = onvif_child (r->op, "Username"); u; u = onvif_next (u, "Username")) {
    g_autofree gchar *name = onvif_text (u);
    gint i = find (a, name);
    if (i < 0) {
      json_array_unref (a);
      return onvif_invalid_arg (r, "ter:UsernameMissing", "no ONVIF user %s", name);
    }
    json_array_remove_element (a, i);
    g_string_append_printf (names, "%s%s", names->len ? ", " : "", name);
  }
  if (!commit (r, a))
    return FALSE;
  tcd_audit (r->ctx->security, "user", r->user, r->address, "ONVIF users deleted: %s",
      names->str);
  onvif_empty (r, "tds:DeleteUsersResponse");
  return TRUE;
}

gboolean
onvif_set_user (OnvifRequest *r)
{
  JsonArray *a = users_copy (r);
  g_autoptr (GString) names = g_string_new (NULL);

  for (xmlNodePtr u = onvif_child (r->op, "User"); u; u = onvif_next (u, "User")) {
    g_autofree gchar *name = NULL, *password = NULL;
    const gchar *level;
    JsonObject *o;
    gint i;
    if (!read_user (r, u, FALSE, &name, &password, &level)) {
      json_array_unref (a);
      return FALSE;
    }
    if ((i = find (a, name)) < 0) {
      json_array_unref (a);
      return onvif_invalid_arg (r, "ter:UsernameMissing", "no ONVIF user %s", name);
    }
    o = tc_json_array_get_object (a, i);
    json_object_set_string_member (o, "level", level);
    if (password)
      json_object_set_string_member (o, "password", password);
    g_string_append_printf (names, "%s%s (%s%s)", names->len ? ", " : "", name, level,
        password ? ", new password" : "");
  }
  if (!commit (r, a))
    return FALSE;
  tcd_audit (r->ctx->security, "user", r->user, r->address, "ONVIF users changed: %s",
      names->str);
  onvif_empty (r, "tds:SetUserResponse");
  return TRUE;
}
