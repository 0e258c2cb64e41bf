/* thermocamd: the signed upgrade package (tcd-package.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Ed25519 through OpenSSL 3 (EVP_DigestSign/Verify with no digest: Ed25519
 * signs the message itself), SHA-256 through EVP_Digest.  The reader
 * bounds everything before it trusts it: the file's size, the manifest's
 * size and depth, the number and size of the files, their paths; the tree
 * is written into a directory of its own that is removed on any failure.
 */
#include "tcd-package.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>
#include <unistd.h>

#include "tc-json.h"
#include "tcd-tar.h"

#define MANIFEST_MAX (1024 * 1024)
#define FILES_MAX 10000
#define SIG_LEN 64
#define CHUNK (64 * 1024)

G_DEFINE_QUARK (tcd-package-error-quark, tcd_package_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)

gboolean
tcd_version_valid (const gchar *v)
{
  return v && g_regex_match_simple ("^[0-9]{1,6}(\\.[0-9]{1,6}){0,3}$", v, 0, 0);
}

gint
tcd_version_compare (const gchar *a, const gchar *b)
{
  g_auto (GStrv) x = g_strsplit (a, ".", 4), y = g_strsplit (b, ".", 4);
  guint nx = g_strv_length (x), ny = g_strv_length (y);

  /* missing numbers are zeros: 1.2 == 1.2.0 */
  for (guint i = 0; i < 4; i++) {
    guint64 p = i < nx ? g_ascii_strtoull (x[i], NULL, 10) : 0;
    guint64 q = i < ny ? g_ascii_strtoull (y[i], NULL, 10) : 0;
    if (p != q)
      return p < q ? -1 : 1;
  }
  return 0;
}

static gboolean
path_ok (const gchar *p)
{
  g_auto (GStrv) parts = NULL;

  if (!p || !*p || strlen (p) > 200 || p[0] == '/'
      || !g_regex_match_simple ("^[A-Za-z0-9._+@/-]+$", p, 0, 0))
    return FALSE;
  parts = g_strsplit (p, "/", -1);
  for (guint i = 0; parts[i]; i++)
    if (!*parts[i] || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
      return FALSE;
  return TRUE;
}

static gchar *
hex (const guint8 *d, gsize n)
{
  GString *s = g_string_sized_new (n * 2);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", d[i]);
  return g_string_free (s, FALSE);
}

static gchar *
sha256_hex (const guint8 *d, gsize n)
{
  guint8 md[32];
  guint len = 0;

  EVP_Digest (d, n, md, &len, EVP_sha256 (), NULL);
  return hex (md, len);
}

/* the key's id: the first 8 bytes of the SHA-256 of its raw public key */
static gchar *
key_id (EVP_PKEY *key)
{
  guint8 raw[32], md[32];
  gsize len = sizeof raw;
  guint mdlen = 0;

  if (EVP_PKEY_get_raw_public_key (key, raw, &len) != 1 || len != 32)
    return NULL;
  EVP_Digest (raw, len, md, &mdlen, EVP_sha256 (), NULL);
  return hex (md, 8);
}

/* ---- making ---- */

static gint
name_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (*(gchar *const *) a, *(gchar *const *) b);
}

static gboolean
collect (const gchar *root, const gchar *rel, GPtrArray *out, GError **error)
{
  g_autofree gchar *dir = rel ? g_build_filename (root, rel, NULL) : g_strdup (root);
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const gchar *n;

  if (!d)
    return FALSE;
  while ((n = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, name_cmp);
  for (guint i = 0; i < names->len; i++) {
    g_autofree gchar *r = rel ? g_strconcat (rel, "/", names->pdata[i], NULL)
        : g_strdup (names->pdata[i]);
    g_autofree gchar *full = g_build_filename (root, r, NULL);
    GStatBuf st;

    if (g_stat (full, &st) != 0) {
      g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_IO, "%s: %s", full,
          g_strerror (errno));
      return FALSE;
    }
    if (S_ISDIR (st.st_mode)) {
      if (!collect (root, r, out, error))
        return FALSE;
    } else if (S_ISREG (st.st_mode)) {
      if (!path_ok (r)) {
        g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_INVALID,
            "%s: a path of a package is [A-Za-z0-9._+@/-], at most 200 bytes", r);
        return FALSE;
      }
      g_ptr_array_add (out, g_steal_pointer (&r));
    }
  }
  return TRUE;
}

gboolean
tcd_package_make (const gchar *tree, const gchar *version, const gchar *key_path,
    const gchar *out, GError **error)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) manifest = NULL;
  g_autofree gchar *text = NULL, *id = NULL, *tmp = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (EVP_MD_CTX) md = NULL;
  g_autoptr (GByteArray) tar = g_byte_array_new ();
  guint8 sig[SIG_LEN];
  gsize siglen = sizeof sig;
  FILE *f;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (!tcd_version_valid (version)) {
    g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_INVALID,
        "%s: a version is 1 to 4 numbers: 1.2.3", version);
    return FALSE;
  }
  if (!(f = fopen (key_path, "r"))) {
    g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_IO, "%s: %s", key_path,
        g_strerror (errno));
    return FALSE;
  }
  key = PEM_read_PrivateKey (f, NULL, NULL, NULL);
  fclose (f);
  if (!key || EVP_PKEY_get_base_id (key) != EVP_PKEY_ED25519 || !(id = key_id (key))) {
    g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_INVALID,
        "%s: not an Ed25519 private key (PEM)", key_path);
    return FALSE;
  }
  if (!collect (tree, NULL, files, error))
    return FALSE;
  if (files->len == 0 || files->len > FILES_MAX) {
    g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_INVALID,
        "%s: a package holds 1 to %d files", tree, FILES_MAX);
    return FALSE;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "product");
  json_builder_add_string_value (b, "thermocam");
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, version);
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, now);
  json_builder_set_member_name (b, "key_id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "entry");
  json_builder_add_string_value (b, "bin/thermocamd");
  json_builder_set_member_name (b, "files");
  json_builder_begin_array (b);
  for (guint i = 0; i < files->len; i++) {
    g_autofree gchar *full = g_build_filename (tree, files->pdata[i], NULL);
    g_autofree gchar *data = NULL, *sum = NULL;
    gsize len = 0;

    if (!g_file_get_contents (full, &data, &len, error))
      return FALSE;
    sum = sha256_hex ((guint8 *) data, len);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "path");
    json_builder_add_string_value (b, files->pdata[i]);
    json_builder_set_member_name (b, "size");
    json_builder_add_int_value (b, len);
    json_builder_set_member_name (b, "mode");
    json_builder_add_int_value (b, g_file_test (full, G_FILE_TEST_IS_EXECUTABLE) ? 0755 : 0644);
    json_builder_set_member_name (b, "sha256");
    json_builder_add_string_value (b, sum);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  manifest = json_builder_get_root (b);
  text = json_to_string (manifest, TRUE);

  md = EVP_MD_CTX_new ();
  if (EVP_DigestSignInit (md, NULL, NULL, NULL, key) != 1
      || EVP_DigestSign (md, sig, &siglen, (guint8 *) text, strlen (text)) != 1
      || siglen != SIG_LEN) {
    g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_INVALID, "signing failed");
    return FALSE;
  }
  tcd_tar_add (tar, "manifest.json", text, strlen (text), 0644, now);
  tcd_tar_add (tar, "manifest.sig", sig, siglen, 0644, now);
  for (guint i = 0; i < files->len; i++) {
    g_autofree gchar *full = g_build_filename (tree, files->pdata[i], NULL);
    g_autofree gchar *name = g_strconcat ("tree/", files->pdata[i], NULL);
    g_autofree gchar *data = NULL;
    gsize len = 0;

    if (!g_file_get_contents (full, &data, &len, error))
      return FALSE;
    tcd_tar_add (tar, name, data, len,
        g_file_test (full, G_FILE_TEST_IS_EXECUTABLE) ? 0755 : 0644, now);
  }
  tcd_tar_end (tar);
  tmp = g_strconcat (out, ".tmp", NULL);
  if (!g_file_set_contents (tmp, (gchar *) tar->data, tar->len, error))
    return FALSE;
  if (g_rename (tmp, out) != 0) {
    g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_IO, "%s: %s", out,
        g_strerror (errno));
    g_unlink (tmp);
    return FALSE;
  }
  return TRUE;
}

/* ---- checking and unpacking ---- */

static EVP_PKEY *
find_key (const gchar *const *dirs, const gchar *id)
{
  for (guint i = 0; dirs && dirs[i]; i++) {
    g_autoptr (GDir) d = g_dir_open (dirs[i], 0, NULL);
    const gchar *n;

    while (d && (n = g_dir_read_name (d))) {
      g_autofree gchar *p = g_build_filename (dirs[i], n, NULL);
      g_autofree gchar *kid = NULL;
      EVP_PKEY *k;
      FILE *f;

      if (!g_str_has_suffix (n, ".pem") || !(f = fopen (p, "r")))
        continue;
      k = PEM_read_PUBKEY (f, NULL, NULL, NULL);
      fclose (f);
      if (k && EVP_PKEY_get_base_id (k) == EVP_PKEY_ED25519 && (kid = key_id (k))
          && g_str_equal (kid, id))
        return k;
      EVP_PKEY_free (k);
    }
  }
  return NULL;
}

static gboolean
fail (GError **error, TcdPackageError code, const gchar *fmt, ...) G_GNUC_PRINTF (3, 4);
static gboolean
fail (GError **error, TcdPackageError code, const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *m = NULL;

  va_start (ap, fmt);
  m = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, TCD_PACKAGE_ERROR, code, m);
  return FALSE;
}

/* a tar error as a package error */
static gboolean
tar_fail (GError **error, GError *err)
{
  return fail (error, err->domain == TCD_TAR_ERROR && err->code == 1
      ? TCD_PACKAGE_ERROR_TRUNCATED : err->domain == TCD_TAR_ERROR
      ? TCD_PACKAGE_ERROR_INVALID : TCD_PACKAGE_ERROR_IO, "%s", err->message);
}

static gboolean
read_member (GInputStream *in, const gchar *name, gsize max, GBytes **out, GError **error)
{
  TcdTarEntry e;
  g_autoptr (GError) err = NULL;
  g_autofree guint8 *data = NULL;
  gsize got = 0;

  if (!tcd_tar_next (in, &e, NULL, &err))
    return err ? tar_fail (error, err)
        : fail (error, TCD_PACKAGE_ERROR_TRUNCATED, "the package ends before %s", name);
  if (!g_str_equal (e.name, name) || e.size > max)
    return fail (error, TCD_PACKAGE_ERROR_INVALID, "not a thermocam package: %s expected",
        name);
  data = g_malloc (e.size + 1);
  if (!g_input_stream_read_all (in, data, e.size, &got, NULL, &err))
    return tar_fail (error, err);
  if (got != e.size)
    return fail (error, TCD_PACKAGE_ERROR_TRUNCATED, "the package is truncated");
  if (!tcd_tar_skip_pad (in, e.size, NULL, &err))
    return tar_fail (error, err);
  *out = g_bytes_new_take (g_steal_pointer (&data), e.size);
  return TRUE;
}

static void
remove_tree (const gchar *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const gchar *n;

  while (d && (n = g_dir_read_name (d))) {
    g_autofree gchar *p = g_build_filename (path, n, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
      remove_tree (p);
    else
      g_unlink (p);
  }
  g_rmdir (path);
}

/* the manifest's members, checked: the files' list */
static JsonArray *
check_manifest (JsonNode *m, const gchar *running, gboolean force, guint64 size,
    GError **error)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (m) ? json_node_get_object (m) : NULL;
  const gchar *v;
  JsonArray *files;
  guint64 total = 0;

  if (!o || tc_json_get_int (o, "format", 0) != 1
      || g_strcmp0 (tc_json_get_string (o, "product", NULL), "thermocam") != 0)
    return fail (error, TCD_PACKAGE_ERROR_INVALID, "not a thermocam package (format 1)"),
        NULL;
  v = tc_json_get_string (o, "version", NULL);
  if (!tcd_version_valid (v))
    return fail (error, TCD_PACKAGE_ERROR_INVALID, "the manifest's version is not valid"),
        NULL;
  if (g_strcmp0 (tc_json_get_string (o, "entry", NULL), "bin/thermocamd") != 0)
    return fail (error, TCD_PACKAGE_ERROR_INVALID, "the manifest's entry is not bin/thermocamd"),
        NULL;
  files = tc_json_get_array (o, "files");
  if (!files || json_array_get_length (files) == 0 || json_array_get_length (files) > FILES_MAX)
    return fail (error, TCD_PACKAGE_ERROR_INVALID, "the manifest lists 1 to %d files",
        FILES_MAX), NULL;
  for (guint i = 0; i < json_array_get_length (files); i++) {
    JsonObject *f = tc_json_array_get_object (files, i);
    const gchar *p = f ? tc_json_get_string (f, "path", NULL) : NULL;
    const gchar *sum = f ? tc_json_get_string (f, "sha256", NULL) : NULL;
    gint64 n = f ? tc_json_get_int (f, "size", -1) : -1;
    gint64 mode = f ? tc_json_get_int (f, "mode", -1) : -1;

    if (!path_ok (p) || n < 0 || (mode != 0644 && mode != 0755) || !sum
        || !g_regex_match_simple ("^[0-9a-f]{64}$", sum, 0, 0))
      return fail (error, TCD_PACKAGE_ERROR_INVALID, "the manifest's file %u is not valid", i),
          NULL;
    total += n;
    if (total > size)
      return fail (error, TCD_PACKAGE_ERROR_TRUNCATED,
          "the manifest's files are larger than the package"), NULL;
  }
  if (!force && tcd_version_compare (v, running) <= 0)
    return fail (error, TCD_PACKAGE_ERROR_DOWNGRADE,
        "version %s is not newer than the running %s (force to install it)", v, running), NULL;
  return files;
}

static gboolean
unpack_file (GInputStream *in, JsonObject *f, const gchar *dest, guint64 *done,
    guint64 size, TcdPackageProgress progress, gpointer user_data, GError **error)
{
  const gchar *p = tc_json_get_string (f, "path", NULL);
  guint64 n = tc_json_get_int (f, "size", 0);
  g_autofree gchar *name = g_strconcat ("tree/", p, NULL);
  g_autofree gchar *out = g_build_filename (dest, p, NULL);
  g_autofree gchar *dir = g_path_get_dirname (out);
  g_autofree guint8 *buf = g_malloc (CHUNK);
  g_autoptr (EVP_MD_CTX) md = EVP_MD_CTX_new ();
  g_autoptr (GError) err = NULL;
  guint8 sum[32];
  guint sumlen = 0;
  g_autofree gchar *got = NULL;
  TcdTarEntry e;
  gint fd;

  if (!tcd_tar_next (in, &e, NULL, &err))
    return err ? tar_fail (error, err)
        : fail (error, TCD_PACKAGE_ERROR_TRUNCATED, "the package ends before %s", p);
  if (!g_str_equal (e.name, name) || e.size != n)
    return fail (error, TCD_PACKAGE_ERROR_INVALID, "%s is not where the manifest has it", p);
  if (g_mkdir_with_parents (dir, 0755) != 0
      || (fd = g_open (out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
              tc_json_get_int (f, "mode", 0644))) < 0)
    return fail (error, TCD_PACKAGE_ERROR_IO, "%s: %s", out, g_strerror (errno));
  EVP_DigestInit_ex (md, EVP_sha256 (), NULL);
  for (guint64 left = n; left > 0;) {
    gsize want = MIN (left, CHUNK), r = 0;
    if (!g_input_stream_read_all (in, buf, want, &r, NULL, &err) || r != want) {
      close (fd);
      return err ? tar_fail (error, err)
          : fail (error, TCD_PACKAGE_ERROR_TRUNCATED, "the package is truncated in %s", p);
    }
    EVP_DigestUpdate (md, buf, r);
    if (write (fd, buf, r) != (gssize) r) {
      close (fd);
      return fail (error, TCD_PACKAGE_ERROR_IO, "%s: %s", out, g_strerror (errno));
    }
    left -= r;
    *done += r;
    if (progress)
      progress (MIN (99, *done * 100 / MAX (size, 1)), user_data);
  }
  if (fsync (fd) != 0) {
    close (fd);
    return fail (error, TCD_PACKAGE_ERROR_IO, "%s: %s", out, g_strerror (errno));
  }
  close (fd);
  EVP_DigestFinal_ex (md, sum, &sumlen);
  got = hex (sum, sumlen);
  if (!g_str_equal (got, tc_json_get_string (f, "sha256", "")))
    return fail (error, TCD_PACKAGE_ERROR_HASH, "%s is not the file that was signed", p);
  if (!tcd_tar_skip_pad (in, n, NULL, &err))
    return tar_fail (error, err);
  return TRUE;
}

static JsonNode *
unpack (const gchar *path, const gchar *const *key_dirs, const gchar *running,
    gboolean force, guint64 max_bytes, const gchar *dest, TcdPackageProgress progress,
    gpointer user_data, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GInputStream) raw = NULL, in = NULL;
  g_autoptr (GBytes) mtext = NULL, sig = NULL;
  g_autoptr (JsonNode) manifest = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (EVP_MD_CTX) md = NULL;
  g_autoptr (GError) err = NULL;
  JsonArray *files;
  const gchar *id;
  GStatBuf st;
  guint64 done = 0;
  TcdTarEntry e;
  guint8 rest[TCD_TAR_BLOCK];
  gsize got;

  if (g_stat (path, &st) != 0)
    return fail (error, TCD_PACKAGE_ERROR_IO, "%s: %s", path, g_strerror (errno)), NULL;
  if ((guint64) st.st_size > max_bytes)
    return fail (error, TCD_PACKAGE_ERROR_TOO_LARGE,
        "the package is larger than %" G_GUINT64_FORMAT " bytes", max_bytes), NULL;
  if (!(raw = G_INPUT_STREAM (g_file_read (file, NULL, &err))))
    return fail (error, TCD_PACKAGE_ERROR_IO, "%s", err->message), NULL;
  in = g_buffered_input_stream_new_sized (raw, CHUNK);
  if (!read_member (in, "manifest.json", MANIFEST_MAX, &mtext, error)
      || !read_member (in, "manifest.sig", SIG_LEN, &sig, error))
    return NULL;
  manifest = tc_json_parse (g_bytes_get_data (mtext, NULL), g_bytes_get_size (mtext), 16, NULL);
  if (!manifest || !JSON_NODE_HOLDS_OBJECT (manifest))
    return fail (error, TCD_PACKAGE_ERROR_SIGNATURE, "the manifest is damaged"), NULL;
  id = tc_json_get_string (json_node_get_object (manifest), "key_id", "");
  if (!(key = find_key (key_dirs, id)))
    return fail (error, TCD_PACKAGE_ERROR_UNKNOWN_KEY,
        "the package is signed by a key this device does not trust (%.16s)", id), NULL;
  md = EVP_MD_CTX_new ();
  if (g_bytes_get_size (sig) != SIG_LEN || EVP_DigestVerifyInit (md, NULL, NULL, NULL, key) != 1
      || EVP_DigestVerify (md, g_bytes_get_data (sig, NULL), SIG_LEN,
          g_bytes_get_data (mtext, NULL), g_bytes_get_size (mtext)) != 1)
    return fail (error, TCD_PACKAGE_ERROR_SIGNATURE, "the package's signature is not valid"),
        NULL;
  /* signed: now its contents may be read */
  if (!(files = check_manifest (manifest, running, force, st.st_size, error)))
    return NULL;
  if (g_mkdir (dest, 0755) != 0)
    return fail (error, TCD_PACKAGE_ERROR_IO, "%s: %s", dest, g_strerror (errno)), NULL;
  for (guint i = 0; i < json_array_get_length (files); i++)
    if (!unpack_file (in, tc_json_array_get_object (files, i), dest, &done, st.st_size,
            progress, user_data, error))
      return NULL;
  if (tcd_tar_next (in, &e, NULL, &err))
    return fail (error, TCD_PACKAGE_ERROR_INVALID, "the package holds more than its manifest"),
        NULL;
  if (err)
    return tar_fail (error, err), NULL;
  /* the second zero block, then nothing but zeros */
  if (!g_input_stream_read_all (in, rest, sizeof rest, &got, NULL, NULL) || got != sizeof rest)
    return fail (error, TCD_PACKAGE_ERROR_TRUNCATED, "the package is truncated at its end"),
        NULL;
  do {
    for (gsize i = 0; i < got; i++)
      if (rest[i])
        return fail (error, TCD_PACKAGE_ERROR_INVALID, "the package has data after its end"),
            NULL;
  } while (g_input_stream_read_all (in, rest, sizeof rest, &got, NULL, NULL) && got > 0);
  return g_steal_pointer (&manifest);
}

JsonNode *
tcd_package_unpack (const gchar *path, const gchar *const *key_dirs, const gchar *running,
    gboolean force, guint64 max_bytes, const gchar *dest, TcdPackageProgress progress,
    gpointer user_data, GError **error)
{
  JsonNode *m;

  if (g_file_test (dest, G_FILE_TEST_EXISTS)) {
    fail (error, TCD_PACKAGE_ERROR_IO, "%s exists already", dest);
    return NULL;
  }
  m = unpack (path, key_dirs, running, force, max_bytes, dest, progress, user_data, error);
  if (!m && g_file_test (dest, G_FILE_TEST_IS_DIR))
    remove_tree (dest);
  return m;
}
