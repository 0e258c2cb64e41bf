/* thermocamd: accounts
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * users.json keeps, per user, a salted PBKDF2-HMAC-SHA256 hash (to check a
 * password) and the Digest HA1 that HTTP and RTSP Digest authentication need;
 * users.htdigest is the same HA1 in the form gst-rtsp-server reads.  No
 * password is ever written anywhere.
 */
#include "tcd-users.h"
#include "tcd-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "tc-json.h"

/* the domain is defined with its field in tcd-error.c */

#define PBKDF2_ITERATIONS 200000
#define SALT_LEN 16
#define HASH_LEN 32

typedef struct {
  gchar *name, *level, *salt, *hash, *ha1;
  guint iterations;
  guint perms;                  /* TcdPermission bits (users.json "permissions") */
  /* the last password that passed the slow check, as an HMAC under a key
   * that lives only in this process: Basic authentication sends the password
   * with every request, and 200k PBKDF2 rounds each time would be a denial
   * of service */
  guint8 verified[HASH_LEN];
  gboolean has_verified;
} User;

struct _TcdUsers {
  gchar *path, *htdigest, *realm;
  GPtrArray *users;
  guint8 cache_key[32];
  guint generation;
};

static const gchar *level_names[] = { "none", "user", "operator", "administrator" };

const gchar *
tcd_level_to_string (TcdLevel level)
{
  return level <= TCD_LEVEL_ADMINISTRATOR ? level_names[level] : "none";
}

TcdLevel
tcd_level_from_string (const gchar *s)
{
  for (guint i = TCD_LEVEL_USER; i <= TCD_LEVEL_ADMINISTRATOR; i++)
    if (g_strcmp0 (s, level_names[i]) == 0)
      return i;
  return TCD_LEVEL_NONE;
}

static const gchar *perm_names[TCD_PERM_COUNT] = {
  "live_view", "playback", "parameters", "log_status", "maintenance", "capture",
  "alarm_output", "serial"
};

const gchar *
tcd_permission_to_string (guint permission)
{
  for (guint i = 0; i < TCD_PERM_COUNT; i++)
    if (permission == (1u << i))
      return perm_names[i];
  return NULL;
}

guint
tcd_permission_from_string (const gchar *s)
{
  for (guint i = 0; s && i < TCD_PERM_COUNT; i++)
    if (g_str_equal (s, perm_names[i]))
      return 1u << i;
  return TCD_PERM_NONE;
}

/* manual 10.13.1: a user may view live video (and change its own password,
 * which needs no permission); an operator may hold everything but the
 * accounts (which are the administrator's by level, not a permission) */
guint
tcd_level_permissions_allowed (TcdLevel level)
{
  switch (level) {
    case TCD_LEVEL_USER:
      return TCD_PERM_LIVE_VIEW;
    case TCD_LEVEL_OPERATOR:
    case TCD_LEVEL_ADMINISTRATOR:
      return TCD_PERM_ALL;
    default:
      return TCD_PERM_NONE;
  }
}

/* an operator made before permissions existed could do all an operator
 * could: it keeps that (and a new one starts there too) */
guint
tcd_level_permissions_default (TcdLevel level)
{
  return tcd_level_permissions_allowed (level);
}

gboolean
tcd_permissions_from_json (JsonNode *node, TcdLevel level, guint *out, GError **error)
{
  JsonArray *a = node && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  guint bits = 0, allowed = tcd_level_permissions_allowed (level);

  if (!a || json_array_get_length (a) > TCD_PERM_COUNT) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "permissions",
        "permissions: a list of at most %d names", TCD_PERM_COUNT);
    return FALSE;
  }
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    const gchar *name = JSON_NODE_HOLDS_VALUE (e)
        && json_node_get_value_type (e) == G_TYPE_STRING ? json_node_get_string (e) : NULL;
    guint bit = tcd_permission_from_string (name);

    if (!bit) {
      tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "permissions",
          "permissions: '%s' is not one of live_view, playback, parameters, log_status, "
          "maintenance, capture, alarm_output, serial", name ? name : "(not a string)");
      return FALSE;
    }
    if (bits & bit) {
      tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "permissions",
          "permissions: %s twice", name);
      return FALSE;
    }
    if (!(allowed & bit)) {
      tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "permissions",
          "permissions: a%s %s cannot hold %s%s", level == TCD_LEVEL_OPERATOR ? "n" : "",
          tcd_level_to_string (level), name,
          level == TCD_LEVEL_USER ? " (a user may hold live_view only)" : "");
      return FALSE;
    }
    bits |= bit;
  }
  if (level == TCD_LEVEL_ADMINISTRATOR && bits != TCD_PERM_ALL) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "permissions",
        "permissions: the administrator holds every permission, always");
    return FALSE;
  }
  *out = bits;
  return TRUE;
}

JsonNode *
tcd_permissions_to_json (guint permissions)
{
  JsonArray *a = json_array_new ();
  JsonNode *n = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < TCD_PERM_COUNT; i++)
    if (permissions & (1u << i))
      json_array_add_string_element (a, perm_names[i]);
  json_node_take_array (n, a);
  return n;
}

/* the stored "permissions" of an account record: missing (a file from
 * before permissions) or not a list, the level's defaults; names the level
 * cannot hold or unknown are dropped */
static guint
perms_of_record (JsonObject *o, const gchar *level)
{
  TcdLevel l = tcd_level_from_string (level);
  JsonNode *n = o ? json_object_get_member (o, "permissions") : NULL;
  JsonArray *a = n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  guint bits = 0;

  if (!a)
    return tcd_level_permissions_default (l);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
      bits |= tcd_permission_from_string (json_node_get_string (e));
  }
  return bits & tcd_level_permissions_allowed (l);
}

static void
user_free (User *u)
{
  g_free (u->name);
  g_free (u->level);
  g_free (u->salt);
  g_free (u->hash);
  g_free (u->ha1);
  g_free (u);
}

static gchar *
hex (const guint8 *b, gsize n)
{
  gchar *s = g_malloc (2 * n + 1);
  for (gsize i = 0; i < n; i++)
    g_snprintf (s + 2 * i, 3, "%02x", b[i]);
  return s;
}

static gchar *
pbkdf2 (const gchar *password, const gchar *salt_hex, guint iterations)
{
  guint8 out[HASH_LEN];

  if (!PKCS5_PBKDF2_HMAC (password, strlen (password), (const guint8 *) salt_hex,
          strlen (salt_hex), iterations, EVP_sha256 (), sizeof out, out))
    return NULL;
  return hex (out, sizeof out);
}

static gchar *
digest_ha1 (const gchar *user, const gchar *realm, const gchar *password)
{
  g_autofree gchar *s = g_strdup_printf ("%s:%s:%s", user, realm, password);
  return g_compute_checksum_for_string (G_CHECKSUM_MD5, s, -1);
}

static void
load (TcdUsers *u)
{
  g_autoptr (JsonNode) doc = NULL;
  g_autoptr (GError) err = NULL;
  JsonArray *arr;
  JsonObject *root;

  if (!g_file_test (u->path, G_FILE_TEST_EXISTS))
    return;
  if (!(doc = tc_json_parse_file (u->path, 1024 * 1024, TC_JSON_MAX_DEPTH, &err))
      || !JSON_NODE_HOLDS_OBJECT (doc)) {
    g_warning ("%s: %s: the device stays inactive", u->path, err ? err->message : "not an object");
    return;
  }
  root = json_node_get_object (doc);
  arr = tc_json_get_array (root, "users");
  for (guint i = 0; arr && i < json_array_get_length (arr); i++) {
    JsonObject *o = tc_json_array_get_object (arr, i);
    User *x = g_new0 (User, 1);
    x->name = g_strdup (tc_json_get_string (o, "name", ""));
    x->level = g_strdup (tc_json_get_string (o, "level", "user"));
    x->salt = g_strdup (tc_json_get_string (o, "salt", ""));
    x->hash = g_strdup (tc_json_get_string (o, "pbkdf2_sha256", ""));
    x->ha1 = g_strdup (tc_json_get_string (o, "digest_ha1", ""));
    x->iterations = tc_json_get_int (o, "iterations", PBKDF2_ITERATIONS);
    x->perms = perms_of_record (o, x->level);
    g_ptr_array_add (u->users, x);
  }
}

static JsonNode *
users_to_node (TcdUsers *u)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "users");
  json_builder_begin_array (b);
  for (guint i = 0; i < u->users->len; i++) {
    User *x = g_ptr_array_index (u->users, i);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, x->name);
    json_builder_set_member_name (b, "level");
    json_builder_add_string_value (b, x->level);
    json_builder_set_member_name (b, "salt");
    json_builder_add_string_value (b, x->salt);
    json_builder_set_member_name (b, "iterations");
    json_builder_add_int_value (b, x->iterations);
    json_builder_set_member_name (b, "pbkdf2_sha256");
    json_builder_add_string_value (b, x->hash);
    json_builder_set_member_name (b, "digest_ha1");
    json_builder_add_string_value (b, x->ha1);
    json_builder_set_member_name (b, "permissions");
    json_builder_add_value (b, tcd_permissions_to_json (x->perms));
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
save (TcdUsers *u, GError **error)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = users_to_node (u);
  g_autofree gchar *text = NULL, *htext = NULL;
  GString *ht = g_string_new (NULL);

  for (guint i = 0; i < u->users->len; i++) {
    User *x = g_ptr_array_index (u->users, i);
    g_string_append_printf (ht, "%s:%s:%s\n", x->name, u->realm, x->ha1);
  }
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  htext = g_string_free (ht, FALSE);
  if (!g_file_set_contents_full (u->htdigest, htext, -1,
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, error)
      || !g_file_set_contents_full (u->path, text, -1,
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, error))
    return FALSE;
  return TRUE;
}

TcdUsers *
tcd_users_new (const gchar *state_dir, const gchar *realm)
{
  TcdUsers *u = g_new0 (TcdUsers, 1);

  u->path = g_build_filename (state_dir, "users.json", NULL);
  u->htdigest = g_build_filename (state_dir, "users.htdigest", NULL);
  u->realm = g_strdup (realm);
  u->users = g_ptr_array_new_with_free_func ((GDestroyNotify) user_free);
  RAND_bytes (u->cache_key, sizeof u->cache_key);
  load (u);
  if (u->users->len) {
    g_autoptr (GError) err = NULL;
    /* the RTSP file follows users.json (a crash between the two writes) */
    if (!save (u, &err))
      g_warning ("%s: %s", u->htdigest, err->message);
  }
  return u;
}

void
tcd_users_free (TcdUsers *u)
{
  if (!u)
    return;
  g_ptr_array_free (u->users, TRUE);
  g_free (u->path);
  g_free (u->htdigest);
  g_free (u->realm);
  g_free (u);
}

gboolean
tcd_users_is_activated (TcdUsers *u)
{
  return u->users->len > 0;
}

gboolean
tcd_password_is_strong (const gchar *password, GError **error)
{
  gboolean upper = FALSE, lower = FALSE, digit = FALSE, special = FALSE;
  guint kinds;

  if (!g_utf8_validate (password, -1, NULL) || g_utf8_strlen (password, -1) < 8
      || strlen (password) > 64) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_WEAK, "password",
        "the password must be 8 to 64 characters long");
    return FALSE;
  }
  for (const gchar *c = password; *c; c++) {
    if (g_ascii_isupper (*c))
      upper = TRUE;
    else if (g_ascii_islower (*c))
      lower = TRUE;
    else if (g_ascii_isdigit (*c))
      digit = TRUE;
    else
      special = TRUE;
  }
  kinds = upper + lower + digit + special;
  if (kinds < 3) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_WEAK, "password",
        "the password must mix at least three of: upper case letters, lower case "
        "letters, digits, special characters");
    return FALSE;
  }
  return TRUE;
}

gboolean
tcd_users_activate (TcdUsers *u, const gchar *password, GError **error)
{
  guint8 salt[SALT_LEN];
  User *x;

  if (tcd_users_is_activated (u)) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_ACTIVATED, NULL,
        "the device is already activated");
    return FALSE;
  }
  if (!tcd_password_is_strong (password, error))
    return FALSE;
  if (RAND_bytes (salt, sizeof salt) != 1) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_IO, NULL,
        "no random bytes");
    return FALSE;
  }
  x = g_new0 (User, 1);
  x->name = g_strdup ("admin");
  x->level = g_strdup ("administrator");
  x->salt = hex (salt, sizeof salt);
  x->iterations = PBKDF2_ITERATIONS;
  x->hash = pbkdf2 (password, x->salt, x->iterations);
  x->ha1 = digest_ha1 (x->name, u->realm, password);
  x->perms = TCD_PERM_ALL;
  g_ptr_array_add (u->users, x);
  if (!save (u, error)) {
    g_ptr_array_set_size (u->users, 0);
    return FALSE;
  }
  return TRUE;
}

static User *
find (TcdUsers *u, const gchar *name)
{
  for (guint i = 0; name && i < u->users->len; i++) {
    User *x = g_ptr_array_index (u->users, i);
    if (g_str_equal (x->name, name))
      return x;
  }
  return NULL;
}

const gchar *
tcd_users_get_ha1 (TcdUsers *u, const gchar *name)
{
  User *x = find (u, name);
  return x ? x->ha1 : NULL;
}

static void
password_mac (TcdUsers *u, const gchar *password, guint8 out[HASH_LEN])
{
  guint len = HASH_LEN;
  HMAC (EVP_sha256 (), u->cache_key, sizeof u->cache_key, (const guint8 *) password,
      strlen (password), out, &len);
}

/* what an unknown name is checked against, so that it takes the time a
 * known one does (no telling which names exist) */
static const gchar dummy_salt[] = "5468726d43616d2d64756d6d792d7330";
static const gchar dummy_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

gboolean
tcd_users_check_password (TcdUsers *u, const gchar *name, const gchar *password)
{
  User *x = find (u, name);
  const gchar *salt = x ? x->salt : dummy_salt, *hash = x ? x->hash : dummy_hash;
  g_autofree gchar *h = NULL;
  guint8 mac[HASH_LEN];
  guint diff = 0;

  if (!password)
    return FALSE;
  password_mac (u, password, mac);
  if (x && x->has_verified && CRYPTO_memcmp (mac, x->verified, HASH_LEN) == 0)
    return TRUE;
  h = pbkdf2 (password, salt, x ? x->iterations : PBKDF2_ITERATIONS);
  if (!h || strlen (h) != strlen (hash))
    return FALSE;
  for (gsize i = 0; h[i]; i++)
    diff |= (guint8) (h[i] ^ hash[i]);
  if (!x)
    return FALSE;
  if (diff == 0) {
    memcpy (x->verified, mac, HASH_LEN);
    x->has_verified = TRUE;
  }
  return diff == 0;
}

TcdLevel
tcd_users_get_level (TcdUsers *u, const gchar *name)
{
  User *x = find (u, name);
  if (!x)
    return TCD_LEVEL_NONE;
  /* admin is the administrator, whatever a file says, and nobody else is
   * (a file from before imports were checked: the least level) */
  if (g_str_equal (x->name, "admin"))
    return TCD_LEVEL_ADMINISTRATOR;
  if (tcd_level_from_string (x->level) == TCD_LEVEL_ADMINISTRATOR)
    return TCD_LEVEL_USER;
  return tcd_level_from_string (x->level);
}

guint
tcd_users_get_permissions (TcdUsers *u, const gchar *name)
{
  TcdLevel level = tcd_users_get_level (u, name);
  User *x = find (u, name);

  if (level == TCD_LEVEL_ADMINISTRATOR)
    return TCD_PERM_ALL;
  return x ? x->perms & tcd_level_permissions_allowed (level) : TCD_PERM_NONE;
}

guint
tcd_users_generation (TcdUsers *u)
{
  return u->generation;
}

JsonNode *
tcd_users_list (TcdUsers *u)
{
  JsonArray *a = json_array_new ();
  JsonNode *n = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < u->users->len; i++) {
    User *x = g_ptr_array_index (u->users, i);
    JsonObject *o = json_object_new ();
    json_object_set_string_member (o, "name", x->name);
    json_object_set_string_member (o, "level",
        tcd_level_to_string (tcd_users_get_level (u, x->name)));
    json_object_set_member (o, "permissions",
        tcd_permissions_to_json (tcd_users_get_permissions (u, x->name)));
    json_array_add_object_element (a, o);
  }
  json_node_take_array (n, a);
  return n;
}

static gboolean
name_ok (const gchar *name, GError **error)
{
  gsize len = name ? strlen (name) : 0;

  if (len < 1 || len > 32) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "name",
        "name: 1 to 32 characters");
    return FALSE;
  }
  for (const gchar *c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '.' && *c != '_' && *c != '-') {
      tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "name",
          "name: only letters, digits, '.', '_' and '-'");
      return FALSE;
    }
  return TRUE;
}

static gboolean
level_ok (const gchar *level, GError **error)
{
  TcdLevel l = tcd_level_from_string (level);

  if (l == TCD_LEVEL_USER || l == TCD_LEVEL_OPERATOR)
    return TRUE;
  tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "level",
      l == TCD_LEVEL_ADMINISTRATOR
      ? "level: admin is the only administrator; accounts are operator or user"
      : "level: one of operator, user");
  return FALSE;
}

/* the strong-password rule, and not the name in it */
static gboolean
password_ok (const gchar *name, const gchar *password, GError **error)
{
  g_autofree gchar *lp = NULL, *ln = NULL;

  if (!password) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_WEAK, "password",
        "a password is needed");
    return FALSE;
  }
  if (!tcd_password_is_strong (password, error))
    return FALSE;
  lp = g_ascii_strdown (password, -1);
  ln = g_ascii_strdown (name, -1);
  if (strstr (lp, ln)) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_WEAK, "password",
        "the password must not contain the user name");
    return FALSE;
  }
  return TRUE;
}

static void
set_password (TcdUsers *u, User *x, const gchar *password)
{
  guint8 salt[SALT_LEN];

  RAND_bytes (salt, sizeof salt);
  g_free (x->salt);
  g_free (x->hash);
  g_free (x->ha1);
  x->salt = hex (salt, sizeof salt);
  x->iterations = PBKDF2_ITERATIONS;
  x->hash = pbkdf2 (password, x->salt, x->iterations);
  x->ha1 = digest_ha1 (x->name, u->realm, password);
  x->has_verified = FALSE;
}

static User *
user_copy (const User *x)
{
  User *c = g_memdup2 (x, sizeof *x);
  c->name = g_strdup (x->name);
  c->level = g_strdup (x->level);
  c->salt = g_strdup (x->salt);
  c->hash = g_strdup (x->hash);
  c->ha1 = g_strdup (x->ha1);
  return c;
}

/* @perms (bits, or -1: the level's defaults) that @level may hold */
static gboolean
perms_ok (const gchar *level, gint perms, GError **error)
{
  TcdLevel l = tcd_level_from_string (level);
  guint extra;

  if (perms < 0)
    return TRUE;
  if ((extra = (guint) perms & ~tcd_level_permissions_allowed (l))) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "permissions",
        "permissions: a%s %s cannot hold %s", l == TCD_LEVEL_OPERATOR ? "n" : "",
        tcd_level_to_string (l), tcd_permission_to_string (extra & -extra)
        ? tcd_permission_to_string (extra & -extra) : "an unknown permission");
    return FALSE;
  }
  return TRUE;
}

gboolean
tcd_users_add (TcdUsers *u, const gchar *name, const gchar *password, const gchar *level,
    GError **error)
{
  return tcd_users_add_full (u, name, password, level, -1, error);
}

gboolean
tcd_users_add_full (TcdUsers *u, const gchar *name, const gchar *password,
    const gchar *level, gint perms, GError **error)
{
  User *x;

  if (!name_ok (name, error) || !level_ok (level, error) || !perms_ok (level, perms, error))
    return FALSE;
  if (find (u, name)) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_EXISTS, "name",
        "name: '%s' exists", name);
    return FALSE;
  }
  if (u->users->len >= TCD_USERS_MAX) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_FULL, NULL,
        "admin and %d accounts exist already", TCD_USERS_MAX - 1);
    return FALSE;
  }
  if (!password_ok (name, password, error))
    return FALSE;
  x = g_new0 (User, 1);
  x->name = g_strdup (name);
  x->level = g_strdup (level);
  x->perms = perms >= 0 ? (guint) perms
      : tcd_level_permissions_default (tcd_level_from_string (level));
  set_password (u, x, password);
  g_ptr_array_add (u->users, x);
  if (!save (u, error)) {
    g_ptr_array_remove (u->users, x);
    return FALSE;
  }
  u->generation++;
  return TRUE;
}

gboolean
tcd_users_modify (TcdUsers *u, const gchar *name, const gchar *password, const gchar *level,
    GError **error)
{
  return tcd_users_modify_full (u, name, password, level, -1, error);
}

gboolean
tcd_users_modify_full (TcdUsers *u, const gchar *name, const gchar *password,
    const gchar *level, gint perms, GError **error)
{
  User *x = find (u, name), *old;
  gboolean level_changes;
  guint i;

  if (!x) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_NOT_FOUND, "name",
        "no user '%s'", name);
    return FALSE;
  }
  if (level && g_str_equal (name, "admin")) {
    if (g_str_equal (level, "administrator"))
      level = NULL;
    else {
      tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_PROTECTED, "level",
          "level: admin stays the administrator");
      return FALSE;
    }
  }
  if (perms >= 0 && g_str_equal (name, "admin")) {
    if ((guint) perms != TCD_PERM_ALL) {
      tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "permissions",
          "permissions: the administrator holds every permission, always");
      return FALSE;
    }
    perms = -1;
  }
  if ((level && !level_ok (level, error)) || (password && !password_ok (name, password, error))
      || !perms_ok (level ? level : x->level, perms, error))
    return FALSE;
  level_changes = level && !g_str_equal (level, x->level);
  /* change a copy; the old record comes back if the file cannot be written */
  old = user_copy (x);
  if (level) {
    g_free (x->level);
    x->level = g_strdup (level);
  }
  if (perms >= 0)
    x->perms = (guint) perms;
  else if (level_changes)
    x->perms = tcd_level_permissions_default (tcd_level_from_string (level));
  if (password)
    set_password (u, x, password);
  if (!save (u, error)) {
    g_ptr_array_find (u->users, x, &i);
    u->users->pdata[i] = old;
    user_free (x);
    return FALSE;
  }
  user_free (old);
  u->generation++;
  return TRUE;
}

gboolean
tcd_users_delete (TcdUsers *u, const gchar *name, GError **error)
{
  User *x = find (u, name);
  guint i;

  if (!x) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_NOT_FOUND, "name",
        "no user '%s'", name);
    return FALSE;
  }
  if (tcd_users_get_level (u, name) == TCD_LEVEL_ADMINISTRATOR) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_PROTECTED, NULL,
        "the administrator cannot be deleted");
    return FALSE;
  }
  g_ptr_array_find (u->users, x, &i);
  g_ptr_array_steal_index (u->users, i);
  if (!save (u, error)) {
    g_ptr_array_insert (u->users, i, x);
    return FALSE;
  }
  user_free (x);
  u->generation++;
  return TRUE;
}

JsonNode *
tcd_users_export (TcdUsers *u)
{
  return users_to_node (u);
}

static gboolean
is_hex (const gchar *s, gsize len)
{
  if (!s || (len && strlen (s) != len) || !*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isxdigit (*s))
      return FALSE;
  return TRUE;
}

gboolean
tcd_users_import_check (TcdUsers *u, JsonNode *node, GError **error)
{
  JsonObject *root = node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  JsonNode *an = root ? json_object_get_member (root, "users") : NULL;
  JsonArray *a = an && JSON_NODE_HOLDS_ARRAY (an) ? json_node_get_array (an) : NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean admin = FALSE;

  if (!a || json_array_get_length (a) > TCD_USERS_MAX) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "users",
        "users: a list of at most 32 accounts");
    return FALSE;
  }
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *en = json_array_get_element (a, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (en) ? json_node_get_object (en) : NULL;
    const gchar *name = o ? tc_json_get_string (o, "name", NULL) : NULL;
    const gchar *level = o ? tc_json_get_string (o, "level", "") : "";
    gint64 it = o ? tc_json_get_int (o, "iterations", 0) : 0;

    if (!name_ok (name, error) || g_hash_table_contains (seen, name)
        || tcd_level_from_string (level) == TCD_LEVEL_NONE
        || !is_hex (tc_json_get_string (o, "salt", NULL), 0)
        || !is_hex (tc_json_get_string (o, "pbkdf2_sha256", NULL),
            2 * HASH_LEN)
        || !is_hex (tc_json_get_string (o, "digest_ha1", NULL), 32)
        || it < 10000 || it > 10000000) {
      g_autofree gchar *field = g_strdup_printf ("users[%u]", i);
      g_clear_error (error);
      tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, field,
          "%s: not a valid account record", field);
      return FALSE;
    }
    /* admin is the administrator, and the only one */
    if (g_str_equal (name, "admin")
        != (tcd_level_from_string (level) == TCD_LEVEL_ADMINISTRATOR)) {
      g_autofree gchar *field = g_strdup_printf ("users[%u]", i);
      tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, field,
        g_str_equal (name, "admin")
          ? "users[%u]: the account '%s' must be the administrator"
          : "users[%u]: the account '%s' cannot be an administrator (only admin is); "
          "accounts are operator or user", i, name);
      return FALSE;
    }
    /* permissions: an export from before them has none (the defaults) */
    if (json_object_has_member (o, "permissions")) {
      guint bits;
      g_autoptr (GError) perr = NULL;
      if (!tcd_permissions_from_json (json_object_get_member (o, "permissions"),
              tcd_level_from_string (level), &bits, &perr)) {
        g_autofree gchar *field = g_strdup_printf ("users[%u].permissions", i);
        tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, field,
            "users[%u].%s", i, perr->message);
        return FALSE;
      }
    }
    g_hash_table_add (seen, (gpointer) name);
    admin |= g_str_equal (name, "admin");
  }
  if (!admin) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_INVALID, "users",
        "users: the account admin is missing");
    return FALSE;
  }
  return TRUE;
}

gboolean
tcd_users_import (TcdUsers *u, JsonNode *node, GError **error)
{
  g_autoptr (GPtrArray) old = NULL;
  JsonArray *a;

  if (!tcd_users_import_check (u, node, error))
    return FALSE;
  a = tc_json_get_array (json_node_get_object (node), "users");
  old = u->users;
  u->users = g_ptr_array_new_with_free_func ((GDestroyNotify) user_free);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonObject *o = tc_json_array_get_object (a, i);
    User *x = g_new0 (User, 1);
    x->name = g_strdup (tc_json_get_string (o, "name", NULL));
    x->level = g_strdup (tc_json_get_string (o, "level", NULL));
    x->salt = g_strdup (tc_json_get_string (o, "salt", NULL));
    x->hash = g_strdup (tc_json_get_string (o, "pbkdf2_sha256", NULL));
    x->ha1 = g_strdup (tc_json_get_string (o, "digest_ha1", NULL));
    x->iterations = tc_json_get_int (o, "iterations", 0);
    x->perms = perms_of_record (o, x->level);
    g_ptr_array_add (u->users, x);
  }
  if (!save (u, error)) {
    g_ptr_array_unref (u->users);
    u->users = g_steal_pointer (&old);
    return FALSE;
  }
  u->generation++;
  return TRUE;
}

const gchar *
tcd_users_htdigest_path (TcdUsers *u)
{
  return u->users->len ? u->htdigest : NULL;
}

gboolean
tcd_users_reset (TcdUsers *u, GError **error)
{
  g_ptr_array_set_size (u->users, 0);
  u->generation++;
  if ((g_unlink (u->path) != 0 && errno != ENOENT)) {
    tcd_set_error_field (error, TCD_USERS_ERROR, TCD_USERS_ERROR_IO, NULL,
        "cannot remove %s", u->path);
    return FALSE;
  }
  g_unlink (u->htdigest);
  return TRUE;
}
