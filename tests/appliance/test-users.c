/* thermocam: unit tests of the daemon's accounts (tcd-users): the time a
 * wrong login takes does not tell whether the name exists; one
 * administrator, by any path (add, modify, import, an old users.json)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include "tcd-users.h"
#include "tcd-error.h"

#define ADMIN_PW "Secret-Pass1"

typedef struct {
  gchar *dir;
  TcdUsers *u;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("tc-users-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->u = tcd_users_new (f->dir, "thermocam");
  g_assert_true (tcd_users_activate (f->u, ADMIN_PW, NULL));
  g_assert_true (tcd_users_add (f->u, "op", "Other-Pass2", "operator", NULL));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autofree gchar *users = g_build_filename (f->dir, "users.json", NULL);
  g_autofree gchar *digest = g_build_filename (f->dir, "users.htdigest", NULL);

  tcd_users_free (f->u);
  g_unlink (users);
  g_unlink (digest);
  g_rmdir (f->dir);
  g_free (f->dir);
}

static gdouble
timed (TcdUsers *u, const gchar *name)
{
  gint64 t = g_get_monotonic_time ();

  for (guint i = 0; i < 4; i++)
    g_assert_false (tcd_users_check_password (u, name, "wrong-Pass9"));
  return (g_get_monotonic_time () - t) / 1e6;
}

static JsonNode *
parse (const gchar *json)
{
  g_autoptr (JsonParser) p = json_parser_new ();

  g_assert_true (json_parser_load_from_data (p, json, -1, NULL));
  return json_node_ref (json_parser_get_root (p));
}

static void
test_timing (Fixture *f, gconstpointer data)
{
  gdouble known, unknown;

  g_assert_true (tcd_users_check_password (f->u, "admin", ADMIN_PW));
  g_assert_false (tcd_users_check_password (f->u, "nobody", ADMIN_PW));
  g_assert_false (tcd_users_check_password (f->u, NULL, ADMIN_PW));
  known = timed (f->u, "admin");
  unknown = timed (f->u, "nobody");
  g_test_message ("4 wrong logins: known name %.3f s, unknown %.3f s (ratio %.2f)", known,
      unknown, unknown / known);
  g_assert_cmpfloat (unknown / known, >, 0.5);
  g_assert_cmpfloat (unknown / known, <, 2.0);
}

static void
test_one_administrator (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) err = NULL;

  g_assert_false (tcd_users_add (f->u, "boss", "Boss-Pass77", "administrator", &err));
  /* each refusal names its field in the error itself (tcd-error.h) */
  g_assert_cmpstr (tcd_error_get_field (err), ==, "level");
  g_clear_error (&err);
  g_assert_false (tcd_users_modify (f->u, "op", NULL, "administrator", &err));
  g_assert_cmpstr (tcd_error_get_field (err), ==, "level");
  g_clear_error (&err);
  g_assert_false (tcd_users_add (f->u, "op", "Other-Pass3", "user", &err));
  g_assert_error (err, TCD_USERS_ERROR, TCD_USERS_ERROR_EXISTS);
  g_assert_cmpstr (tcd_error_get_field (err), ==, "name");
  g_clear_error (&err);
  g_assert_false (tcd_users_add (f->u, "x y", "Other-Pass3", "user", &err));
  g_assert_cmpstr (tcd_error_get_field (err), ==, "name");
  g_clear_error (&err);
  g_assert_false (tcd_users_add (f->u, "weak", "short", "user", &err));
  g_assert_error (err, TCD_USERS_ERROR, TCD_USERS_ERROR_WEAK);
  g_assert_cmpstr (tcd_error_get_field (err), ==, "password");
  g_clear_error (&err);
  g_assert_false (tcd_users_delete (f->u, "admin", &err));
  g_assert_null (tcd_error_get_field (err));
  g_clear_error (&err);
  g_assert_true (tcd_users_modify (f->u, "admin", NULL, "administrator", NULL));
  g_assert_cmpint (tcd_users_get_level (f->u, "op"), ==, TCD_LEVEL_OPERATOR);
}

static void
test_import (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) good = tcd_users_export (f->u);
  g_autofree gchar *text = json_to_string (good, FALSE);
  g_autoptr (JsonNode) second = parse (text);
  g_autoptr (JsonNode) demoted = parse (text);
  g_autoptr (GError) err = NULL;

  g_assert_true (tcd_users_import_check (f->u, good, NULL));
  /* another account as administrator: refused, naming it */
  json_object_set_string_member (json_array_get_object_element (json_object_get_array_member
          (json_node_get_object (second), "users"), 1), "level", "administrator");
  g_assert_false (tcd_users_import_check (f->u, second, &err));
  g_assert_nonnull (strstr (err->message, "'op'"));
  g_assert_cmpstr (tcd_error_get_field (err), ==, "users[1]");
  g_clear_error (&err);
  g_assert_false (tcd_users_import (f->u, second, &err));
  g_clear_error (&err);
  /* admin below administrator: refused */
  json_object_set_string_member (json_array_get_object_element (json_object_get_array_member
          (json_node_get_object (demoted), "users"), 0), "level", "operator");
  g_assert_false (tcd_users_import_check (f->u, demoted, &err));
  g_clear_error (&err);
  g_assert_true (tcd_users_import (f->u, good, NULL));
  g_assert_cmpint (tcd_users_get_level (f->u, "op"), ==, TCD_LEVEL_OPERATOR);
}

/* a users.json of an older version with a second administrator: that
 * account gets the least level and can be deleted */
static void
test_old_file (Fixture *f, gconstpointer data)
{
  g_autofree gchar *path = g_build_filename (f->dir, "users.json", NULL);
  g_autofree gchar *text = NULL;
  g_autoptr (GString) t = NULL;
  TcdUsers *v;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  t = g_string_new (text);
  g_assert_cmpuint (g_string_replace (t, "\"operator\"", "\"administrator\"", 0), ==, 1);
  g_assert_true (g_file_set_contents (path, t->str, -1, NULL));
  v = tcd_users_new (f->dir, "thermocam");
  g_assert_cmpint (tcd_users_get_level (v, "op"), ==, TCD_LEVEL_USER);
  g_assert_cmpint (tcd_users_get_level (v, "admin"), ==, TCD_LEVEL_ADMINISTRATOR);
  g_assert_true (tcd_users_delete (v, "op", NULL));
  tcd_users_free (v);
}

/* remote permissions (manual 10.13.1): the levels' defaults and limits,
 * refusals naming the field with nothing changed, a level change, the file,
 * a users.json from before permissions, an import */
static void
test_permissions (Fixture *f, gconstpointer data)
{
  g_autofree gchar *path = g_build_filename (f->dir, "users.json", NULL);
  g_autofree gchar *text = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) names = NULL, bad = NULL;
  g_autoptr (GRegex) re = NULL;
  g_autofree gchar *old = NULL;
  guint bits = 0;
  TcdUsers *v;

  /* every name is a bit and back */
  for (guint i = 0; i < TCD_PERM_COUNT; i++)
    g_assert_cmpuint (tcd_permission_from_string (tcd_permission_to_string (1u << i)), ==,
        1u << i);
  g_assert_cmpuint (tcd_permission_from_string ("ptz"), ==, TCD_PERM_NONE);
  /* defaults: admin all, an operator all it may hold, a user live view */
  g_assert_cmpuint (tcd_users_get_permissions (f->u, "admin"), ==, TCD_PERM_ALL);
  g_assert_cmpuint (tcd_users_get_permissions (f->u, "op"), ==, TCD_PERM_ALL);
  g_assert_true (tcd_users_add (f->u, "viewer", "View-Pass33", "user", NULL));
  g_assert_cmpuint (tcd_users_get_permissions (f->u, "viewer"), ==, TCD_PERM_LIVE_VIEW);
  g_assert_cmpuint (tcd_users_get_permissions (f->u, "nobody"), ==, TCD_PERM_NONE);
  /* a user can hold live view only: refused, naming the field, nothing made */
  g_assert_false (tcd_users_add_full (f->u, "v2", "View-Pass34", "user",
          TCD_PERM_LIVE_VIEW | TCD_PERM_PLAYBACK, &err));
  g_assert_cmpstr (tcd_error_get_field (err), ==, "permissions");
  g_assert_nonnull (strstr (err->message, "playback"));
  g_clear_error (&err);
  g_assert_cmpint (tcd_users_get_level (f->u, "v2"), ==, TCD_LEVEL_NONE);
  g_assert_true (tcd_users_add_full (f->u, "v2", "View-Pass34", "user", 0, NULL));
  g_assert_cmpuint (tcd_users_get_permissions (f->u, "v2"), ==, TCD_PERM_NONE);
  /* the same through the JSON of the API */
  names = parse ("[\"live_view\", \"parameters\"]");
  g_assert_false (tcd_permissions_from_json (names, TCD_LEVEL_USER, &bits, &err));
  g_assert_cmpstr (tcd_error_get_field (err), ==, "permissions");
  g_clear_error (&err);
  g_assert_true (tcd_permissions_from_json (names, TCD_LEVEL_OPERATOR, &bits, NULL));
  g_assert_cmpuint (bits, ==, TCD_PERM_LIVE_VIEW | TCD_PERM_PARAMETERS);
  bad = parse ("[\"live_view\", \"live_view\"]");
  g_assert_false (tcd_permissions_from_json (bad, TCD_LEVEL_OPERATOR, &bits, &err));
  g_clear_error (&err);
  g_assert_false (tcd_permissions_from_json (names, TCD_LEVEL_ADMINISTRATOR, &bits, &err));
  g_clear_error (&err);
  /* an operator: any set; a modify that the level refuses changes nothing */
  g_assert_true (tcd_users_modify_full (f->u, "op", NULL, NULL, TCD_PERM_CAPTURE, NULL));
  g_assert_cmpuint (tcd_users_get_permissions (f->u, "op"), ==, TCD_PERM_CAPTURE);
  g_assert_false (tcd_users_modify_full (f->u, "op", NULL, "user", TCD_PERM_CAPTURE, &err));
  g_assert_cmpstr (tcd_error_get_field (err), ==, "permissions");
  g_clear_error (&err);
  g_assert_cmpint (tcd_users_get_level (f->u, "op"), ==, TCD_LEVEL_OPERATOR);
  g_assert_cmpuint (tcd_users_get_permissions (f->u, "op"), ==, TCD_PERM_CAPTURE);
  /* a level change without permissions: the new level's defaults */
  g_assert_true (tcd_users_modify_full (f->u, "op", NULL, "user", -1, NULL));
  g_assert_cmpuint (tcd_users_get_permissions (f->u, "op"), ==, TCD_PERM_LIVE_VIEW);
  g_assert_true (tcd_users_modify_full (f->u, "op", NULL, "operator", TCD_PERM_SERIAL, NULL));
  /* the administrator's are fixed */
  g_assert_false (tcd_users_modify_full (f->u, "admin", NULL, NULL, TCD_PERM_LIVE_VIEW, &err));
  g_assert_cmpstr (tcd_error_get_field (err), ==, "permissions");
  g_clear_error (&err);
  g_assert_true (tcd_users_modify_full (f->u, "admin", NULL, NULL, TCD_PERM_ALL, NULL));
  /* kept in the file */
  v = tcd_users_new (f->dir, "thermocam");
  g_assert_cmpuint (tcd_users_get_permissions (v, "op"), ==, TCD_PERM_SERIAL);
  g_assert_cmpuint (tcd_users_get_permissions (v, "v2"), ==, TCD_PERM_NONE);
  tcd_users_free (v);
  /* a file from before permissions: each account gets its level's defaults */
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  re = g_regex_new (",?\\s*\"permissions\"\\s*:\\s*\\[[^\\]]*\\]", 0, 0, NULL);
  old = g_regex_replace_literal (re, text, -1, 0, "", 0, NULL);
  g_assert_null (strstr (old, "permissions"));
  g_assert_true (g_file_set_contents (path, old, -1, NULL));
  v = tcd_users_new (f->dir, "thermocam");
  g_assert_cmpuint (tcd_users_get_permissions (v, "op"), ==, TCD_PERM_ALL);
  g_assert_cmpuint (tcd_users_get_permissions (v, "v2"), ==, TCD_PERM_LIVE_VIEW);
  g_assert_cmpuint (tcd_users_get_permissions (v, "admin"), ==, TCD_PERM_ALL);
  {
    /* and an export of it imports (a missing list is the defaults), one
     * with a permission the level cannot hold is refused, naming it */
    g_autoptr (JsonNode) exp = tcd_users_export (v);
    g_autofree gchar *etext = json_to_string (exp, FALSE);
    g_autoptr (GString) e2 = g_string_new (etext);
    g_autoptr (JsonNode) wrong = NULL;
    g_assert_true (tcd_users_import_check (v, exp, NULL));
    g_assert_cmpuint (g_string_replace (e2, "\"permissions\":[\"live_view\"]",
            "\"permissions\":[\"maintenance\"]", 0), ==, 2);
    wrong = parse (e2->str);
    g_assert_false (tcd_users_import_check (v, wrong, &err));
    g_assert_nonnull (strstr (tcd_error_get_field (err), "].permissions"));
  }
  tcd_users_free (v);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/users/timing", Fixture, NULL, setup, test_timing, teardown);
  g_test_add ("/users/one-administrator", Fixture, NULL, setup, test_one_administrator,
      teardown);
  g_test_add ("/users/import", Fixture, NULL, setup, test_import, teardown);
  g_test_add ("/users/old-file", Fixture, NULL, setup, test_old_file, teardown);
  g_test_add ("/users/permissions", Fixture, NULL, setup, test_permissions, teardown);
  return g_test_run ();
}
