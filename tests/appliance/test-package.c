/* thermocam: unit tests of the upgrade package (tcd-package, tcd-tar), the
 * upgrade's boot decisions (tcd-upgrade), the running log's bound
 * (tcd-logbuf) and the syslog message (tcd-syslog's format)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "tcd-logbuf.h"
#include "tcd-package.h"
#include "tcd-tar.h"
#include "tcd-upgrade.h"

static gchar *
tmpdir (void)
{
  gchar *d = g_dir_make_tmp ("tc-package-XXXXXX", NULL);
  g_assert_nonnull (d);
  return d;
}

static void
rm_rf (const gchar *path)
{
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", path);
  g_assert_cmpint (system (cmd), ==, 0);
}

static void
run (const gchar *cmd)
{
  gint status = 0;
  g_autoptr (GError) err = NULL;
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, &err));
  g_assert_no_error (err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

static void
test_versions (void)
{
  g_assert_true (tcd_version_valid ("1"));
  g_assert_true (tcd_version_valid ("1.2.3.4"));
  g_assert_false (tcd_version_valid ("1.2.3.4.5"));
  g_assert_false (tcd_version_valid ("1.2-rc1"));
  g_assert_false (tcd_version_valid (""));
  g_assert_false (tcd_version_valid ("../1"));
  g_assert_cmpint (tcd_version_compare ("1.2", "1.2.0"), ==, 0);
  g_assert_cmpint (tcd_version_compare ("1.10", "1.9"), >, 0);
  g_assert_cmpint (tcd_version_compare ("0.1.0", "99.1.0"), <, 0);
  g_assert_cmpint (tcd_version_compare ("2", "1.99.99"), >, 0);
}

static void
test_tar (void)
{
  g_autoptr (GByteArray) tar = g_byte_array_new ();
  g_autoptr (GInputStream) in = NULL;
  g_autofree gchar *longname = g_strnfill (120, 'a');
  g_autofree gchar *path = g_strconcat ("dir/", longname, "/file.txt", NULL);
  TcdTarEntry e;
  g_autoptr (GError) err = NULL;
  gchar buf[16];
  gsize got;

  g_assert_true (tcd_tar_add (tar, "a.txt", "hello", 5, 0644, 1000));
  g_assert_true (tcd_tar_add (tar, path, "x", 1, 0755, 1000));
  g_assert_false (tcd_tar_header (tar, "", 0, 0644, 0));
  tcd_tar_end (tar);
  g_assert_cmpuint (tar->len % TCD_TAR_BLOCK, ==, 0);
  in = g_memory_input_stream_new_from_data (tar->data, tar->len, NULL);
  g_assert_true (tcd_tar_next (in, &e, NULL, &err));
  g_assert_cmpstr (e.name, ==, "a.txt");
  g_assert_cmpuint (e.size, ==, 5);
  g_assert_true (g_input_stream_read_all (in, buf, 5, &got, NULL, NULL));
  g_assert_true (tcd_tar_skip_pad (in, 5, NULL, NULL));
  g_assert_true (tcd_tar_next (in, &e, NULL, &err));
  g_assert_cmpstr (e.name, ==, path);         /* through the prefix field */
  g_assert_cmpuint (e.mode, ==, 0755);
  g_assert_true (g_input_stream_skip (in, TCD_TAR_BLOCK, NULL, NULL) == TCD_TAR_BLOCK);
  g_assert_false (tcd_tar_next (in, &e, NULL, &err));
  g_assert_no_error (err);                    /* the end */
  /* a damaged header */
  tar->data[10] ^= 1;
  g_clear_object (&in);
  in = g_memory_input_stream_new_from_data (tar->data, tar->len, NULL);
  g_assert_false (tcd_tar_next (in, &e, NULL, &err));
  g_assert_error (err, TCD_TAR_ERROR, 2);
}

/* sign, check, refuse: with the openssl command's keys */
static void
test_package (void)
{
  g_autofree gchar *dir = tmpdir ();
  g_autofree gchar *tree = g_build_filename (dir, "tree", NULL);
  g_autofree gchar *bin = g_build_filename (tree, "bin", NULL);
  g_autofree gchar *exe = g_build_filename (bin, "thermocamd", NULL);
  g_autofree gchar *key = g_build_filename (dir, "k.pem", NULL);
  g_autofree gchar *keys = g_build_filename (dir, "keys", NULL);
  g_autofree gchar *pub = g_build_filename (keys, "k.pem", NULL);
  g_autofree gchar *pkg = g_build_filename (dir, "p.tcpkg", NULL);
  g_autofree gchar *dest = g_build_filename (dir, "out", NULL);
  g_autofree gchar *cmd1 = g_strdup_printf ("openssl genpkey -algorithm ed25519 -out %s", key);
  g_autofree gchar *cmd2 = g_strdup_printf ("openssl pkey -in %s -pubout -out %s", key, pub);
  const gchar *dirs[] = { keys, NULL };
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) m = NULL;
  g_autofree gchar *data = NULL;
  gsize len;

  g_mkdir_with_parents (bin, 0755);
  g_mkdir_with_parents (keys, 0755);
  run (cmd1);
  run (cmd2);
  g_assert_true (g_file_set_contents (exe, "#!/bin/sh\nexit 0\n", -1, NULL));
  g_chmod (exe, 0755);
  g_assert_true (tcd_package_make (tree, "2.0.0", key, pkg, &err));
  g_assert_no_error (err);

  m = tcd_package_unpack (pkg, dirs, "1.0.0", FALSE, 1 << 20, dest, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (m);
  g_assert_true (g_file_test (dest, G_FILE_TEST_IS_DIR));
  g_clear_pointer (&m, json_node_unref);
  rm_rf (dest);

  /* not newer */
  m = tcd_package_unpack (pkg, dirs, "2.0", FALSE, 1 << 20, dest, NULL, NULL, &err);
  g_assert_null (m);
  g_assert_error (err, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_DOWNGRADE);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  g_clear_error (&err);
  /* too large for the bound */
  m = tcd_package_unpack (pkg, dirs, "1", FALSE, 1000, dest, NULL, NULL, &err);
  g_assert_error (err, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_TOO_LARGE);
  g_clear_error (&err);
  /* no trusted key */
  m = tcd_package_unpack (pkg, (const gchar *[]) { dir, NULL }, "1", FALSE, 1 << 20, dest,
      NULL, NULL, &err);
  g_assert_error (err, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_UNKNOWN_KEY);
  g_clear_error (&err);
  /* the program's text changed after signing */
  g_assert_true (g_file_get_contents (pkg, &data, &len, NULL));
  {
    gchar *p = memmem (data, len, "exit 0", 6);
    g_assert_nonnull (p);
    p[5] = '1';
    g_assert_true (g_file_set_contents (pkg, data, len, NULL));
  }
  m = tcd_package_unpack (pkg, dirs, "1", FALSE, 1 << 20, dest, NULL, NULL, &err);
  g_assert_error (err, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_HASH);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  g_clear_error (&err);
  /* cut */
  g_assert_true (g_file_set_contents (pkg, data, len / 2, NULL));
  m = tcd_package_unpack (pkg, dirs, "1", FALSE, 1 << 20, dest, NULL, NULL, &err);
  g_assert_error (err, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_TRUNCATED);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  g_clear_error (&err);
  rm_rf (dir);
}

/* the boot: a trial started once and never confirmed goes back */
static void
test_boot_rollback (void)
{
  g_autofree gchar *dir = tmpdir ();
  g_autofree gchar *vbin = g_build_filename (dir, "versions", "2.0.0", "bin", NULL);
  g_autofree gchar *vexe = g_build_filename (vbin, "thermocamd", NULL);
  g_autofree gchar *mf = g_build_filename (dir, "versions", "2.0.0", ".manifest.json", NULL);
  g_autofree gchar *state = g_build_filename (dir, "upgrade.json", NULL);
  g_autofree gchar *cur = g_build_filename (dir, "current", NULL);
  g_autofree gchar *base = g_build_filename (dir, "base-thermocamd", NULL);
  g_autofree gchar *text = g_strdup_printf ("{\"state\": \"trial\", \"version\": \"2.0.0\", "
      "\"from\": \"1.0.0\", \"from_target\": \"\", \"base_exe\": \"%s\", \"attempts\": 0}", base);
  g_autofree gchar *exe = NULL;
  g_autofree gchar *after = NULL;

  g_mkdir_with_parents (vbin, 0755);
  g_assert_true (g_file_set_contents (vexe, "", 0, NULL));
  g_assert_true (g_file_set_contents (base, "", 0, NULL));
  g_assert_true (g_file_set_contents (mf, "{\"version\": \"2.0.0\"}", -1, NULL));
  g_assert_true (g_file_set_contents (state, text, -1, NULL));
  g_assert_cmpint (symlink ("versions/2.0.0", cur), ==, 0);
  /* the system's program finds a trial not yet started: it starts it */
  g_assert_cmpint (tcd_upgrade_boot (dir, base, "1.0.0", &exe), ==, TCD_UPGRADE_BOOT_EXEC);
  g_assert_true (g_str_has_suffix (exe, "versions/2.0.0/bin/thermocamd"));
  g_clear_pointer (&exe, g_free);
  /* the trial's first start is counted, and runs */
  g_assert_cmpint (tcd_upgrade_boot (dir, vexe, "2.0.0", &exe), ==, TCD_UPGRADE_BOOT_RUN);
  /* started again without confirming: back to the system's program */
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING, "upgrade: rolling back from 2.0.0 to 1.0.0*");
  g_assert_cmpint (tcd_upgrade_boot (dir, vexe, "2.0.0", &exe), ==, TCD_UPGRADE_BOOT_EXEC);
  g_test_assert_expected_messages ();
  g_assert_cmpstr (exe, ==, base);
  g_assert_false (g_file_test (cur, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (vexe, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (state, &after, NULL, NULL));
  g_assert_nonnull (strstr (after, "rolled_back"));
  rm_rf (dir);
}

static void
test_logbuf (void)
{
  TcdLogBuf *l = tcd_logbuf_install (3, 1 << 20);
  g_autofree gchar *text = NULL;

  for (guint i = 0; i < 10; i++)
    g_message ("line %u", i);
  text = tcd_logbuf_text (l, NULL);
  g_assert_null (strstr (text, "line 6"));
  g_assert_nonnull (strstr (text, "MESSAGE"));
  g_assert_nonnull (strstr (text, "line 9"));
  g_assert_cmpuint (tcd_logbuf_dropped (l), ==, 7);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/package/versions", test_versions);
  g_test_add_func ("/package/tar", test_tar);
  g_test_add_func ("/package/sign-check-refuse", test_package);
  g_test_add_func ("/upgrade/boot-rollback", test_boot_rollback);
  g_test_add_func ("/logbuf/bound", test_logbuf);
  return g_test_run ();
}
