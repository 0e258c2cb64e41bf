/* thermocamd: accounts
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * users.json keeps, per user, a salted PBKDF2-HMAC-SHA256 hash (to check a
 * password) and the Digest HA1 that HTTP and RTSP Digest authentication need;
 * users.htdigest is the same HA1 in the form gst-rtsp-server reads.  No
 * password is ever written anywhere.
 */
#include "tcd-users.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

G_DEFINE_QUARK (tcd-users-error-quark, tcd_users_error)

#define PBKDF2_ITERATIONS 200000
#define SALT_LEN 16
#define HASH_LEN 32

typedef struct {
  gchar *name, *level, *salt, *hash, *ha1;
  guint iterations;
} User;

struct _TcdUsers {
  gchar *path, *htdigest, *realm;
  GPtrArray *users;
};

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
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) err = NULL;
  JsonArray *arr;
  JsonObject *root;

  if (!g_file_test (u->path, G_FILE_TEST_EXISTS))
    return;
  if (!json_parser_load_from_file (parser, u->path, &err)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_warning ("%s: %s: the device stays inactive", u->path, err ? err->message : "not an object");
    return;
  }
  root = json_node_get_object (json_parser_get_root (parser));
  arr = json_object_get_array_member (root, "users");
  for (guint i = 0; arr && i < json_array_get_length (arr); i++) {
    JsonObject *o = json_array_get_object_element (arr, i);
    User *x = g_new0 (User, 1);
    x->name = g_strdup (json_object_get_string_member_with_default (o, "name", ""));
    x->level = g_strdup (json_object_get_string_member_with_default (o, "level", "user"));
    x->salt = g_strdup (json_object_get_string_member_with_default (o, "salt", ""));
    x->hash = g_strdup (json_object_get_string_member_with_default (o, "pbkdf2_sha256", ""));
    x->ha1 = g_strdup (json_object_get_string_member_with_default (o, "digest_ha1", ""));
    x->iterations = json_object_get_int_member_with_default (o, "iterations", PBKDF2_ITERATIONS);
    g_ptr_array_add (u->users, x);
  }
}

static gboolean
save (TcdUsers *u, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *text = NULL;
  GString *ht = g_string_new (NULL);
  g_autofree gchar *htext = NULL;

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
    json_builder_end_object (b);
    g_string_append_printf (ht, "%s:%s:%s\n", x->name, u->realm, x->ha1);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
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
    g_set_error_literal (error, TCD_USERS_ERROR, TCD_USERS_ERROR_WEAK,
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
    g_set_error_literal (error, TCD_USERS_ERROR, TCD_USERS_ERROR_WEAK,
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
    g_set_error_literal (error, TCD_USERS_ERROR, TCD_USERS_ERROR_ACTIVATED,
        "the device is already activated");
    return FALSE;
  }
  if (!tcd_password_is_strong (password, error))
    return FALSE;
  if (RAND_bytes (salt, sizeof salt) != 1) {
    g_set_error_literal (error, TCD_USERS_ERROR, TCD_USERS_ERROR_IO, "no random bytes");
    return FALSE;
  }
  x = g_new0 (User, 1);
  x->name = g_strdup ("admin");
  x->level = g_strdup ("administrator");
  x->salt = hex (salt, sizeof salt);
  x->iterations = PBKDF2_ITERATIONS;
  x->hash = pbkdf2 (password, x->salt, x->iterations);
  x->ha1 = digest_ha1 (x->name, u->realm, password);
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

gboolean
tcd_users_check_password (TcdUsers *u, const gchar *name, const gchar *password)
{
  User *x = find (u, name);
  g_autofree gchar *h = NULL;
  guint diff = 0;

  if (!x || !password)
    return FALSE;
  h = pbkdf2 (password, x->salt, x->iterations);
  if (!h || strlen (h) != strlen (x->hash))
    return FALSE;
  for (gsize i = 0; h[i]; i++)
    diff |= (guint8) (h[i] ^ x->hash[i]);
  return diff == 0;
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
  if ((g_unlink (u->path) != 0 && errno != ENOENT)) {
    g_set_error (error, TCD_USERS_ERROR, TCD_USERS_ERROR_IO, "cannot remove %s", u->path);
    return FALSE;
  }
  g_unlink (u->htdigest);
  return TRUE;
}
