/* thermocam: unit tests of the daemon's accounts (tcd-users): the time a
 * wrong login takes does not tell whether the name exists; one
 * administrator, by any path (add, modify, import, an old users.json)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib/gstdio.h>

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/users/timing", Fixture, NULL, setup, test_timing, teardown);
  g_test_add ("/users/one-administrator", Fixture, NULL, setup, test_one_administrator,
      teardown);
  g_test_add ("/users/import", Fixture, NULL, setup, test_import, teardown);
  g_test_add ("/users/old-file", Fixture, NULL, setup, test_old_file, teardown);
  return g_test_run ();
}
