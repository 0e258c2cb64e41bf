/* thermocamd: the size-limited file store, and recording the simulated
 * sensor into split MP4 files (checked with ffprobe)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>
#include <sys/stat.h>

#include "tc-schema.h"
#include "tcd-config.h"
#include "tcd-pipeline.h"
#include "tcd-record.h"
#include "tcd-store.h"

#define MIB (1024 * 1024)

static gchar *
make_tmpdir (void)
{
  g_autoptr (GError) err = NULL;
  gchar *dir = g_dir_make_tmp ("test-store-XXXXXX", &err);

  g_assert_no_error (err);
  return dir;
}

static void
rm_rf (const gchar *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (!d)
    return;
  while ((name = g_dir_read_name (d))) {
    g_autofree gchar *path = g_build_filename (dir, name, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
      rm_rf (path);
    else
      g_unlink (path);
  }
  g_dir_close (d);
  g_rmdir (dir);
}

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* the names of the directory's entries, sorted */
static gchar *
dir_names (const gchar *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) a = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (a, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (a, cmp_str);
  g_ptr_array_add (a, NULL);
  return g_strjoinv (" ", (gchar **) a->pdata);
}

/* the names of tcd_store_list, in its order */
static gchar *
list_names (TcdStore *s)
{
  g_autoptr (JsonNode) list = tcd_store_list (s);
  JsonArray *a = json_node_get_array (list);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonObject *o = json_array_get_object_element (a, i);
    if (i)
      g_string_append_c (out, ' ');
    g_string_append (out, json_object_get_string_member (o, "name"));
  }
  return g_string_free (out, FALSE);
}

static void
usage (TcdStore *s, gint64 *files, gint64 *bytes, gint64 *limit)
{
  g_autoptr (JsonNode) u = tcd_store_usage (s);
  JsonObject *o = json_node_get_object (u);

  *files = json_object_get_int_member (o, "files");
  *bytes = json_object_get_int_member (o, "bytes");
  *limit = json_object_get_int_member (o, "limit");
}

static gchar *
add_str (TcdStore *s, const gchar *name, const gchar *text)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) data = g_bytes_new (text, strlen (text));
  gchar *used = tcd_store_add (s, name, data, &err);

  g_assert_no_error (err);
  g_assert_nonnull (used);
  /* distinct modification times, whatever the file system's granularity */
  g_usleep (20 * 1000);
  return used;
}

static void
test_store_add_list (void)
{
  g_autofree gchar *tmp = make_tmpdir ();
  g_autofree gchar *dir = g_build_filename (tmp, "sub", "captures", NULL);
  g_autoptr (GError) err = NULL;
  TcdStore *s = tcd_store_new (dir, 1000, &err);
  g_autofree gchar *a = NULL, *b = NULL, *c = NULL, *names = NULL, *path = NULL;
  g_autofree gchar *contents = NULL;
  g_autoptr (JsonNode) list = NULL;
  g_autoptr (GRegex) iso = g_regex_new ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$", 0, 0, NULL);
  JsonObject *o;
  struct stat st;
  gint64 files, bytes, limit;

  g_assert_no_error (err);
  g_assert_nonnull (s);
  g_assert_cmpstr (tcd_store_get_dir (s), ==, dir);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 0);
  g_assert_cmpint (bytes, ==, 0);
  g_assert_cmpint (limit, ==, 1000);
  names = list_names (s);
  g_assert_cmpstr (names, ==, "");
  g_clear_pointer (&names, g_free);

  a = add_str (s, "a.jpg", "hello");
  b = add_str (s, "b.jpg", "world!");
  c = add_str (s, "c.json", "{}");
  g_assert_cmpstr (a, ==, "a.jpg");
  g_assert_cmpstr (b, ==, "b.jpg");
  g_assert_cmpstr (c, ==, "c.json");
  names = list_names (s);
  g_assert_cmpstr (names, ==, "c.json b.jpg a.jpg");   /* newest first */
  g_clear_pointer (&names, g_free);
  names = dir_names (dir);
  g_assert_cmpstr (names, ==, "a.jpg b.jpg c.json");   /* no temporary file left */

  list = tcd_store_list (s);
  o = json_array_get_object_element (json_node_get_array (list), 1);
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "b.jpg");
  g_assert_cmpint (json_object_get_int_member (o, "size"), ==, 6);
  g_assert_true (g_regex_match (iso, json_object_get_string_member (o, "time"), 0, NULL));

  path = tcd_store_path (s, "b.jpg");
  g_assert_nonnull (path);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "world!");
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 3);
  g_assert_cmpint (bytes, ==, 5 + 6 + 2);

  tcd_store_free (s);
  rm_rf (tmp);
}

static void
test_store_uniquify (void)
{
  g_autofree gchar *dir = make_tmpdir ();
  g_autoptr (GError) err = NULL;
  TcdStore *s = tcd_store_new (dir, 1000, &err);
  g_autofree gchar *n1 = NULL, *n2 = NULL, *n3 = NULL, *n4 = NULL, *n5 = NULL;
  g_autofree gchar *n6 = NULL, *names = NULL, *contents = NULL, *path = NULL;
  g_autofree gchar *long_name = NULL, *n7 = NULL, *n8 = NULL;

  g_assert_no_error (err);
  n1 = add_str (s, "snap.jpg", "1");
  n2 = add_str (s, "snap.jpg", "2");
  n3 = add_str (s, "snap.jpg", "3");
  n4 = add_str (s, "noext", "4");
  n5 = add_str (s, "noext", "5");
  n6 = add_str (s, "a.tar.gz", "6");
  g_assert_cmpstr (n1, ==, "snap.jpg");
  g_assert_cmpstr (n2, ==, "snap-1.jpg");
  g_assert_cmpstr (n3, ==, "snap-2.jpg");
  g_assert_cmpstr (n4, ==, "noext");
  g_assert_cmpstr (n5, ==, "noext-1");
  g_assert_cmpstr (n6, ==, "a.tar.gz");
  path = tcd_store_path (s, "snap-1.jpg");
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "2");

  /* a file someone else put there (not in the store) is not overwritten */
  g_clear_pointer (&path, g_free);
  path = g_build_filename (dir, "other.txt", NULL);
  g_assert_true (g_file_set_contents (path, "theirs", -1, NULL));
  n7 = add_str (s, "other.txt", "ours");
  g_assert_cmpstr (n7, ==, "other-1.txt");
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "theirs");

  /* the longest name: still a valid name with its suffix */
  long_name = g_strnfill (128, 'x');
  memcpy (long_name + 124, ".jpg", 4);
  g_free (add_str (s, long_name, "l"));
  n8 = add_str (s, long_name, "m");
  g_assert_cmpint (strlen (n8), ==, 128);
  g_assert_true (g_str_has_suffix (n8, "-1.jpg"));
  g_assert_true (tcd_store_name_ok (n8));

  names = list_names (s);
  g_assert_nonnull (strstr (names, "a.tar.gz noext-1 noext snap-2.jpg snap-1.jpg snap.jpg"));
  tcd_store_free (s);
  rm_rf (dir);
}

static void
test_store_evict (void)
{
  g_autofree gchar *dir = make_tmpdir ();
  g_autoptr (GError) err = NULL;
  TcdStore *s = tcd_store_new (dir, 25, &err);
  g_autofree gchar *names = NULL, *big = NULL;
  gint64 files, bytes, limit;

  g_assert_no_error (err);
  g_free (add_str (s, "a", "0123456789"));
  g_free (add_str (s, "b", "0123456789"));
  names = list_names (s);
  g_assert_cmpstr (names, ==, "b a");
  g_clear_pointer (&names, g_free);
  /* 30 > 25: the oldest goes */
  g_free (add_str (s, "c", "0123456789"));
  names = list_names (s);
  g_assert_cmpstr (names, ==, "c b");
  g_clear_pointer (&names, g_free);
  names = dir_names (dir);
  g_assert_cmpstr (names, ==, "b c");
  g_clear_pointer (&names, g_free);
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 2);
  g_assert_cmpint (bytes, ==, 20);
  g_assert_cmpint (limit, ==, 25);

  /* larger than the limit alone: kept, everything else goes */
  big = g_strnfill (40, 'z');
  g_free (add_str (s, "big", big));
  names = list_names (s);
  g_assert_cmpstr (names, ==, "big");
  g_clear_pointer (&names, g_free);
  names = dir_names (dir);
  g_assert_cmpstr (names, ==, "big");
  g_clear_pointer (&names, g_free);
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 1);
  g_assert_cmpint (bytes, ==, 40);

  /* and it goes for the next one */
  g_free (add_str (s, "d", "0123456789"));
  names = list_names (s);
  g_assert_cmpstr (names, ==, "d");
  g_clear_pointer (&names, g_free);

  /* the same modification time: the smaller name is the older */
  tcd_store_set_limit (s, 1000);
  g_free (add_str (s, "e", "0123456789"));
  g_free (add_str (s, "f", "0123456789"));
  {
    g_autofree gchar *pe = tcd_store_path (s, "e"), *pf = tcd_store_path (s, "f");
    g_autofree gchar *pd = tcd_store_path (s, "d");
    GFile *files3[] = { g_file_new_for_path (pd), g_file_new_for_path (pe),
        g_file_new_for_path (pf) };
    for (guint i = 0; i < 3; i++) {
      g_assert_true (g_file_set_attribute_uint64 (files3[i], G_FILE_ATTRIBUTE_TIME_MODIFIED,
              1700000000, G_FILE_QUERY_INFO_NONE, NULL, NULL));
      g_assert_true (g_file_set_attribute_uint32 (files3[i],
              G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC, 0, G_FILE_QUERY_INFO_NONE, NULL, NULL));
      g_object_unref (files3[i]);
    }
  }
  /* the store knows the files by what it saw; a new store reads them again */
  tcd_store_free (s);
  s = tcd_store_new (dir, 25, &err);
  g_assert_no_error (err);
  names = list_names (s);
  g_assert_cmpstr (names, ==, "f e");
  g_clear_pointer (&names, g_free);
  {
    g_autoptr (JsonNode) list = tcd_store_list (s);
    JsonObject *o = json_array_get_object_element (json_node_get_array (list), 0);
    g_assert_cmpstr (json_object_get_string_member (o, "time"), ==, "2023-11-14T22:13:20Z");
  }

  tcd_store_free (s);
  rm_rf (dir);
}

static void
test_store_set_limit (void)
{
  g_autofree gchar *dir = make_tmpdir ();
  g_autoptr (GError) err = NULL;
  TcdStore *s = tcd_store_new (dir, 1000, &err);
  g_autofree gchar *names = NULL;
  gint64 files, bytes, limit;

  g_assert_no_error (err);
  for (guint i = 0; i < 5; i++) {
    g_autofree gchar *name = g_strdup_printf ("f%u.bin", i);
    g_free (add_str (s, name, "0123456789"));
  }
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 5);
  g_assert_cmpint (bytes, ==, 50);
  tcd_store_set_limit (s, 25);
  names = list_names (s);
  g_assert_cmpstr (names, ==, "f4.bin f3.bin");
  g_clear_pointer (&names, g_free);
  names = dir_names (dir);
  g_assert_cmpstr (names, ==, "f3.bin f4.bin");
  g_clear_pointer (&names, g_free);
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 2);
  g_assert_cmpint (bytes, ==, 20);
  g_assert_cmpint (limit, ==, 25);
  /* growing removes nothing */
  tcd_store_set_limit (s, 100000);
  names = list_names (s);
  g_assert_cmpstr (names, ==, "f4.bin f3.bin");
  g_clear_pointer (&names, g_free);
  /* down to nothing: everything goes */
  tcd_store_set_limit (s, 0);
  names = list_names (s);
  g_assert_cmpstr (names, ==, "");
  g_clear_pointer (&names, g_free);
  names = dir_names (dir);
  g_assert_cmpstr (names, ==, "");
  tcd_store_free (s);
  rm_rf (dir);
}

static void
test_store_names (void)
{
  g_autofree gchar *dir = make_tmpdir ();
  g_autoptr (GError) err = NULL;
  TcdStore *s = tcd_store_new (dir, 1000, &err);
  g_autoptr (GBytes) data = g_bytes_new_static ("x", 1);
  static const gchar *bad[] = { "../x", ".hidden", "a/b", "", "..", ".", "a b", "a\\b",
    "caf\xc3\xa9", "x\n", "/etc/passwd" };
  g_autofree gchar *n128 = g_strnfill (128, 'n'), *n129 = g_strnfill (129, 'n');
  g_autofree gchar *names = NULL;

  g_assert_no_error (err);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) e = NULL;
    gchar *used = tcd_store_add (s, bad[i], data, &e);
    g_assert_null (used);
    g_assert_error (e, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME);
    g_assert_false (tcd_store_name_ok (bad[i]));
    g_assert_null (tcd_store_path (s, bad[i]));
    g_clear_error (&e);
    g_assert_false (tcd_store_delete (s, bad[i], &e));
    g_assert_nonnull (e);
  }
  g_assert_false (tcd_store_name_ok (NULL));
  g_assert_true (tcd_store_name_ok ("a"));
  g_assert_true (tcd_store_name_ok ("rec-20240101-120000-001.mp4"));
  g_assert_true (tcd_store_name_ok ("A_b-c.D"));
  g_assert_true (tcd_store_name_ok (n128));
  g_assert_false (tcd_store_name_ok (n129));
  /* nothing was written, not even outside */
  names = dir_names (dir);
  g_assert_cmpstr (names, ==, "");
  tcd_store_free (s);
  rm_rf (dir);
}

static void
test_store_path_delete (void)
{
  g_autofree gchar *dir = make_tmpdir ();
  g_autoptr (GError) err = NULL;
  TcdStore *s = tcd_store_new (dir, 1000, &err);
  g_autofree gchar *path = NULL, *expected = NULL, *names = NULL, *outside = NULL;
  gint64 files, bytes, limit;

  g_assert_no_error (err);
  g_free (add_str (s, "one.jpg", "12345"));
  g_free (add_str (s, "two.jpg", "1234567"));
  g_assert_null (tcd_store_path (s, "three.jpg"));
  path = tcd_store_path (s, "one.jpg");
  expected = g_build_filename (dir, "one.jpg", NULL);
  g_assert_cmpstr (path, ==, expected);

  /* a file in the directory the store does not know is not its to serve */
  outside = g_build_filename (dir, "stray.bin", NULL);
  g_assert_true (g_file_set_contents (outside, "x", -1, NULL));
  g_assert_null (tcd_store_path (s, "stray.bin"));

  g_assert_true (tcd_store_delete (s, "one.jpg", &err));
  g_assert_no_error (err);
  g_assert_false (g_file_test (expected, G_FILE_TEST_EXISTS));
  g_assert_null (tcd_store_path (s, "one.jpg"));
  g_assert_false (tcd_store_delete (s, "one.jpg", &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&err);
  g_assert_false (tcd_store_delete (s, "nothing.jpg", &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&err);
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 1);
  g_assert_cmpint (bytes, ==, 7);
  names = list_names (s);
  g_assert_cmpstr (names, ==, "two.jpg");
  g_clear_pointer (&names, g_free);

  /* removed behind the store's back: no path, and no longer counted */
  g_clear_pointer (&path, g_free);
  path = g_build_filename (dir, "two.jpg", NULL);
  g_unlink (path);
  g_assert_null (tcd_store_path (s, "two.jpg"));
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 0);
  g_assert_cmpint (bytes, ==, 0);

  tcd_store_free (s);
  rm_rf (dir);
}

static void
test_store_leftovers (void)
{
  g_autofree gchar *dir = make_tmpdir ();
  g_autofree gchar *sub = g_build_filename (dir, "subdir", NULL);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *names = NULL;
  TcdStore *s;
  gint64 files, bytes, limit;
  static const gchar *create[][2] = {
    { ".tmp-AbC123", "torn write" },
    { ".tmp-x", "another" },
    { "keep.jpg", "1234" },
    { "old.mp4", "123456" },
    { ".hidden", "not ours" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (create); i++) {
    g_autofree gchar *p = g_build_filename (dir, create[i][0], NULL);
    g_assert_true (g_file_set_contents (p, create[i][1], -1, NULL));
  }
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  s = tcd_store_new (dir, 1000, &err);
  g_assert_no_error (err);
  names = dir_names (dir);
  g_assert_cmpstr (names, ==, ".hidden keep.jpg old.mp4 subdir");
  g_clear_pointer (&names, g_free);
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 2);
  g_assert_cmpint (bytes, ==, 10);
  {
    g_autofree gchar *p = tcd_store_path (s, "keep.jpg");
    g_assert_nonnull (p);
  }
  g_assert_null (tcd_store_path (s, "subdir"));
  tcd_store_free (s);

  /* over the limit from the start: the oldest go at once */
  {
    g_autofree gchar *p = g_build_filename (dir, "keep.jpg", NULL);
    GFile *f = g_file_new_for_path (p);
    g_assert_true (g_file_set_attribute_uint64 (f, G_FILE_ATTRIBUTE_TIME_MODIFIED,
            1000000000, G_FILE_QUERY_INFO_NONE, NULL, NULL));
    g_object_unref (f);
  }
  s = tcd_store_new (dir, 8, &err);
  g_assert_no_error (err);
  names = list_names (s);
  g_assert_cmpstr (names, ==, "old.mp4");
  g_clear_pointer (&names, g_free);
  tcd_store_free (s);

  /* a file where the directory should be */
  {
    g_autofree gchar *p = g_build_filename (dir, "old.mp4", NULL);
    g_assert_null (tcd_store_new (p, 8, &err));
    g_assert_nonnull (err);
    g_clear_error (&err);
  }
  rm_rf (dir);
}

static void
test_store_note (void)
{
  g_autofree gchar *dir = make_tmpdir ();
  g_autoptr (GError) err = NULL;
  TcdStore *s = tcd_store_new (dir, 30, &err);
  g_autofree gchar *names = NULL, *ext = NULL, *ext2 = NULL;
  gint64 files, bytes, limit;

  g_assert_no_error (err);
  g_free (add_str (s, "a.jpg", "0123456789"));
  g_free (add_str (s, "b.jpg", "0123456789"));

  /* written by someone else: not counted until noted */
  ext = g_build_filename (dir, "rec-1.mp4", NULL);
  g_assert_true (g_file_set_contents (ext, "0123456789", -1, NULL));
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 2);
  g_assert_cmpint (bytes, ==, 20);
  tcd_store_note (s, "rec-1.mp4");
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 3);
  g_assert_cmpint (bytes, ==, 30);
  names = list_names (s);
  g_assert_cmpstr (names, ==, "rec-1.mp4 b.jpg a.jpg");
  g_clear_pointer (&names, g_free);

  /* noted again after it grew: counted once, at its new size, and the
   * oldest go */
  g_usleep (20 * 1000);
  g_assert_true (g_file_set_contents (ext, "0123456789ABCDE", -1, NULL));
  tcd_store_note (s, "rec-1.mp4");
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 2);
  g_assert_cmpint (bytes, ==, 25);
  names = list_names (s);
  g_assert_cmpstr (names, ==, "rec-1.mp4 b.jpg");
  g_clear_pointer (&names, g_free);

  /* a noted file larger than the limit stays, alone */
  g_usleep (20 * 1000);
  ext2 = g_build_filename (dir, "rec-2.mp4", NULL);
  g_assert_true (g_file_set_contents (ext2, "0123456789012345678901234567890123456789", -1,
          NULL));
  tcd_store_note (s, "rec-2.mp4");
  names = list_names (s);
  g_assert_cmpstr (names, ==, "rec-2.mp4");
  g_clear_pointer (&names, g_free);
  names = dir_names (dir);
  g_assert_cmpstr (names, ==, "rec-2.mp4");
  g_clear_pointer (&names, g_free);

  /* a note for something that is not there, or not a name: nothing */
  tcd_store_note (s, "missing.mp4");
  tcd_store_note (s, "../rec-2.mp4");
  tcd_store_note (s, "");
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 1);
  g_assert_cmpint (bytes, ==, 40);
  /* gone and noted: no longer counted */
  g_unlink (ext2);
  tcd_store_note (s, "rec-2.mp4");
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 0);
  g_assert_cmpint (bytes, ==, 0);

  tcd_store_free (s);
  rm_rf (dir);
}

typedef struct {
  TcdStore *s;
  guint id;
} ThreadData;

static gpointer
adder_thread (gpointer user_data)
{
  ThreadData *t = user_data;

  for (guint i = 0; i < 50; i++) {
    g_autofree gchar *name = g_strdup_printf ("t%u.bin", t->id);
    g_autoptr (GBytes) data = g_bytes_new_static ("0123456789", 10);
    g_autofree gchar *used = tcd_store_add (t->s, name, data, NULL);
    g_autoptr (JsonNode) list = NULL;
    g_assert_nonnull (used);
    list = tcd_store_list (t->s);
  }
  return NULL;
}

static void
test_store_threads (void)
{
  g_autofree gchar *dir = make_tmpdir ();
  g_autoptr (GError) err = NULL;
  TcdStore *s = tcd_store_new (dir, 205, &err);
  ThreadData t[4];
  GThread *th[4];
  gint64 files, bytes, limit;
  g_autofree gchar *names = NULL;
  g_auto (GStrv) split = NULL;

  g_assert_no_error (err);
  for (guint i = 0; i < 4; i++) {
    t[i].s = s;
    t[i].id = i;
    th[i] = g_thread_new ("adder", adder_thread, &t[i]);
  }
  for (guint i = 0; i < 4; i++)
    g_thread_join (th[i]);
  usage (s, &files, &bytes, &limit);
  g_assert_cmpint (files, ==, 20);
  g_assert_cmpint (bytes, ==, 200);
  names = dir_names (dir);
  split = g_strsplit (names, " ", -1);
  g_assert_cmpuint (g_strv_length (split), ==, 20);
  tcd_store_free (s);
  rm_rf (dir);
}

/* ---- recording ---- */

static gboolean
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
run_for (guint ms)
{
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);

  g_timeout_add (ms, quit_loop, loop);
  g_main_loop_run (loop);
  g_main_loop_unref (loop);
}

static JsonNode *
record_doc (gint64 file_size_mb)
{
  g_autofree gchar *schema_path = g_build_filename (PIPELINES_DIR, "..", "schemas",
      "config.schema.json", NULL);
  g_autoptr (GError) err = NULL;
  g_autoptr (TcSchema) schema = tc_schema_new_from_file (schema_path, &err);
  JsonNode *doc;
  JsonObject *main_s, *rec;

  g_assert_no_error (err);
  doc = tc_schema_defaults (schema, NULL);
  main_s = json_node_get_object (tcd_config_node (doc, "video.main"));
  /* about 4 Mbit/s and a keyframe every half second: ~8 s make 3-4 files of
   * 1 MiB at most */
  json_object_set_string_member (main_s, "bitrate_type", "cbr");
  json_object_set_int_member (main_s, "max_bitrate", 4096);
  json_object_set_int_member (main_s, "iframe_interval", 15);
  rec = json_node_get_object (tcd_config_node (doc, "recording"));
  json_object_set_int_member (rec, "file_size_mb", file_size_mb);
  g_assert_true (tc_schema_validate (schema, NULL, doc, NULL, NULL));
  return doc;
}

typedef struct {
  gchar *codec;
  gint64 width, height;
  gdouble duration, start;
} Probe;

static gboolean
ffprobe (const gchar *path, Probe *p)
{
  const gchar *argv[] = { "ffprobe", "-v", "error", "-show_entries",
    "format=duration,start_time:stream=codec_name,width,height", "-of", "json", path, NULL };
  g_autofree gchar *out = NULL, *errout = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root, *stream, *format;
  JsonArray *streams;
  gint status;

  if (!g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
          &out, &errout, &status, &err)) {
    g_test_message ("ffprobe: %s", err->message);
    return FALSE;
  }
  if (!g_spawn_check_wait_status (status, NULL) || (errout && *errout)) {
    g_test_message ("ffprobe %s: %s", path, errout);
    return FALSE;
  }
  if (!json_parser_load_from_data (parser, out, -1, NULL))
    return FALSE;
  root = json_node_get_object (json_parser_get_root (parser));
  streams = json_object_get_array_member (root, "streams");
  format = json_object_get_object_member (root, "format");
  if (!streams || json_array_get_length (streams) != 1 || !format)
    return FALSE;
  stream = json_array_get_object_element (streams, 0);
  p->codec = g_strdup (json_object_get_string_member (stream, "codec_name"));
  p->width = json_object_get_int_member (stream, "width");
  p->height = json_object_get_int_member (stream, "height");
  p->duration = g_ascii_strtod (json_object_get_string_member_with_default (format,
          "duration", "0"), NULL);
  p->start = g_ascii_strtod (json_object_get_string_member_with_default (format,
          "start_time", "-1"), NULL);
  return TRUE;
}

typedef struct {
  TcdPipeline *pipeline;
  gchar *dir;
} RecordFixture;

static void
record_setup (RecordFixture *f, gconstpointer data)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) doc = record_doc (1);
  g_autofree gchar *ffprobe_path = g_find_program_in_path ("ffprobe");
  GstSample *s = NULL;

  if (!ffprobe_path) {
    g_test_skip ("no ffprobe");
    return;
  }
  f->dir = make_tmpdir ();
  f->pipeline = tcd_pipeline_new (PIPELINES_DIR, "sim", &err);
  g_assert_no_error (err);
  g_assert_true (tcd_pipeline_start (f->pipeline, doc, &err));
  g_assert_no_error (err);
  /* the first frames */
  for (guint i = 0; i < 100 && !(s = tcd_pipeline_get_video (f->pipeline)); i++)
    run_for (100);
  g_assert_nonnull (s);
  gst_sample_unref (s);
}

static void
record_teardown (RecordFixture *f, gconstpointer data)
{
  if (f->pipeline)
    tcd_pipeline_free (f->pipeline);
  if (f->dir)
    rm_rf (f->dir);
  g_free (f->dir);
}

static void
check_status (TcdRecord *r, gboolean recording, gint64 *files)
{
  g_autoptr (JsonNode) st = tcd_record_status (r);
  JsonObject *o = json_node_get_object (st);

  g_assert_cmpint (json_object_get_boolean_member (o, "recording"), ==, recording);
  g_assert_true (json_object_has_member (o, "since"));
  g_assert_true (json_object_has_member (o, "file"));
  if (recording) {
    g_assert_nonnull (json_object_get_string_member (o, "since"));
  } else {
    g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (o, "since")));
    g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (o, "file")));
  }
  g_assert_false (json_object_has_member (o, "error"));
  if (files)
    *files = json_object_get_int_member (o, "files");
}

/* the recorded files: all in the store, all in the directory, all playable
 * H.264 MP4 at @width x @height within the file size (+ a margin); returns
 * how many */
static guint
check_files (TcdStore *store, const gchar *dir, gint64 width, gint64 height)
{
  g_autoptr (JsonNode) list = tcd_store_list (store);
  JsonArray *a = json_node_get_array (list);
  g_autoptr (GRegex) re = g_regex_new ("^rec-\\d{8}-\\d{6}-\\d{3}\\.mp4$", 0, 0, NULL);
  g_autofree gchar *on_disk = dir_names (dir);
  g_auto (GStrv) disk = g_strsplit (on_disk, " ", -1);
  guint n = json_array_get_length (a);

  g_assert_cmpuint (g_strv_length (disk), ==, n);
  for (guint i = 0; i < n; i++) {
    JsonObject *o = json_array_get_object_element (a, i);
    const gchar *name = json_object_get_string_member (o, "name");
    gint64 size = json_object_get_int_member (o, "size");
    g_autofree gchar *path = tcd_store_path (store, name);
    Probe p = { 0 };
    struct stat st;

    g_assert_true (g_regex_match (re, name, 0, NULL));
    g_assert_true (g_strv_contains ((const gchar * const *) disk, name));
    g_assert_nonnull (path);
    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpint (st.st_size, ==, size);
    g_test_message ("%s: %" G_GINT64_FORMAT " bytes", name, size);
    g_assert_cmpint (size, <=, MIB + 64 * 1024);
    g_assert_true (ffprobe (path, &p));
    g_test_message ("%s: %s %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " %.3f s from %.3f",
        name, p.codec, p.width, p.height, p.duration, p.start);
    g_assert_cmpstr (p.codec, ==, "h264");
    g_assert_cmpint (p.width, ==, width);
    g_assert_cmpint (p.height, ==, height);
    g_assert_cmpfloat (p.duration, >, 0.0);
    g_assert_cmpfloat (p.start, >=, 0.0);
    g_assert_cmpfloat (p.start, <, 0.1);
    g_free (p.codec);
  }
  return n;
}

static void
test_record (RecordFixture *f, gconstpointer data)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) doc = record_doc (1);
  TcdStore *store;
  TcdRecord *r;
  gint64 files = 0;
  guint n;

  if (g_test_failed () || !f->pipeline)
    return;
  store = tcd_store_new (f->dir, 1000 * MIB, &err);
  g_assert_no_error (err);
  r = tcd_record_new (f->pipeline, store);
  g_assert_false (tcd_record_is_recording (r));
  tcd_record_stop (r);          /* not recording: nothing */
  check_status (r, FALSE, &files);
  g_assert_cmpint (files, ==, 0);

  g_assert_true (tcd_record_start (r, doc, &err));
  g_assert_no_error (err);
  g_assert_true (tcd_record_is_recording (r));
  g_assert_true (tcd_record_start (r, doc, &err));      /* again: no error */
  g_assert_no_error (err);
  /* the first file is there with the first frame */
  for (guint i = 0; i < 80; i++) {
    g_autoptr (JsonNode) st = tcd_record_status (r);
    JsonObject *o = json_node_get_object (st);
    const gchar *file = json_object_get_string_member (o, "file");

    g_assert_true (json_object_get_boolean_member (o, "recording"));
    if (file) {
      g_assert_true (g_str_has_prefix (file, "rec-"));
      break;
    }
    g_assert_cmpuint (i, <, 79);
    run_for (100);
  }
  run_for (8000);
  check_status (r, TRUE, NULL);
  tcd_record_stop (r);
  g_assert_false (tcd_record_is_recording (r));
  tcd_record_stop (r);          /* again: nothing */
  check_status (r, FALSE, &files);

  n = check_files (store, f->dir, 640, 512);
  g_assert_cmpuint (n, >=, 2);
  g_assert_cmpint (files, ==, n);
  {
    g_autoptr (JsonNode) u = tcd_store_usage (store);
    gint64 total = 0;
    g_autoptr (JsonNode) list = tcd_store_list (store);
    JsonArray *a = json_node_get_array (list);
    for (guint i = 0; i < json_array_get_length (a); i++)
      total += json_object_get_int_member (json_array_get_object_element (a, i), "size");
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (u), "files"), ==, n);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (u), "bytes"), ==,
        total);
    /* ~8 s at 4 Mbit/s */
    g_assert_cmpint (total, >, 2 * MIB);
  }
  tcd_record_free (r);
  tcd_store_free (store);
}

/* a smaller size (the sub stream's resolution) and a storage limit smaller
 * than two files: only the newest file is left */
static void
test_record_limit (RecordFixture *f, gconstpointer data)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) doc = record_doc (1);
  JsonObject *main_s = json_node_get_object (tcd_config_node (doc, "video.main"));
  TcdStore *store;
  TcdRecord *r;
  g_autoptr (JsonNode) list = NULL;
  const gchar *newest;

  if (g_test_failed () || !f->pipeline)
    return;
  json_object_set_string_member (main_s, "resolution", "320x256");
  json_object_set_int_member (main_s, "frame_rate", 15);
  json_object_set_int_member (main_s, "iframe_interval", 8);
  store = tcd_store_new (f->dir, 200 * 1024, &err);
  g_assert_no_error (err);
  r = tcd_record_new (f->pipeline, store);
  g_assert_true (tcd_record_start (r, doc, &err));
  g_assert_no_error (err);
  run_for (6000);
  tcd_record_free (r);          /* stops first */

  list = tcd_store_list (store);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
  g_assert_cmpuint (check_files (store, f->dir, 320, 256), ==, 1);
  newest = json_object_get_string_member (json_array_get_object_element (
          json_node_get_array (list), 0), "name");
  /* the last part of several */
  g_assert_false (g_str_has_suffix (newest, "-001.mp4"));
  tcd_store_free (store);
}

/* the directory goes away while recording: the next file cannot be opened,
 * the recording stops with the error in its status */
static void
test_record_error (RecordFixture *f, gconstpointer data)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) doc = record_doc (1);
  TcdStore *store;
  TcdRecord *r;
  g_autoptr (JsonNode) st = NULL;
  JsonObject *o;

  if (g_test_failed () || !f->pipeline)
    return;
  store = tcd_store_new (f->dir, 1000 * MIB, &err);
  g_assert_no_error (err);
  r = tcd_record_new (f->pipeline, store);
  g_assert_true (tcd_record_start (r, doc, &err));
  g_assert_no_error (err);
  run_for (500);
  rm_rf (f->dir);
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING, "recording: *recording stops");
  for (guint i = 0; i < 100 && tcd_record_is_recording (r); i++)
    run_for (100);
  g_test_assert_expected_messages ();
  g_assert_false (tcd_record_is_recording (r));
  st = tcd_record_status (r);
  o = json_node_get_object (st);
  g_assert_false (json_object_get_boolean_member (o, "recording"));
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (o, "file")));
  g_assert_true (json_object_has_member (o, "error"));
  g_test_message ("error: %s", json_object_get_string_member (o, "error"));
  g_assert_cmpstr (json_object_get_string_member (o, "error"), !=, "");
  tcd_record_stop (r);          /* no-op */
  tcd_record_free (r);
  tcd_store_free (store);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  gst_registry_scan_path (gst_registry_get (), PLUGIN_DIR);

  g_test_add_func ("/store/add-list", test_store_add_list);
  g_test_add_func ("/store/uniquify", test_store_uniquify);
  g_test_add_func ("/store/evict", test_store_evict);
  g_test_add_func ("/store/set-limit", test_store_set_limit);
  g_test_add_func ("/store/names", test_store_names);
  g_test_add_func ("/store/path-delete", test_store_path_delete);
  g_test_add_func ("/store/leftovers", test_store_leftovers);
  g_test_add_func ("/store/note", test_store_note);
  g_test_add_func ("/store/threads", test_store_threads);
  g_test_add ("/record/split", RecordFixture, NULL, record_setup, test_record,
      record_teardown);
  g_test_add ("/record/limit", RecordFixture, NULL, record_setup, test_record_limit,
      record_teardown);
  g_test_add ("/record/error", RecordFixture, NULL, record_setup, test_record_error,
      record_teardown);
  return g_test_run ();
}
