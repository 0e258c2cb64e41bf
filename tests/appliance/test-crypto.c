/* thermocam: unit tests of the daemon's password-encrypted configuration
 * files (tcd-crypt) and its HTTPS certificates (tcd-certs)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The certificates are checked by someone else than their maker: the
 * openssl command (parse, verify, sign as an outside CA) and curl (a
 * self-signed certificate as the trust anchor of a real TLS connection).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcd-certs.h"
#include "tcd-crypt.h"

/* The file layout of tcd-crypt.c */
#define HEADER_LEN 39
#define TAG_LEN 16
#define OFF_VERSION 6
#define OFF_KDF 7
#define OFF_LOG2_N 8
#define OFF_R 9
#define OFF_P 10
#define OFF_SALT 11
#define OFF_NONCE 27

/* ---- helpers ---- */

/* A configuration-like JSON document of at least @size bytes */
static GBytes *
make_document (gsize size)
{
  GString *s = g_string_new ("{\"version\": 1, \"rules\": [");

  for (guint i = 0; s->len < size; i++)
    g_string_append_printf (s, "%s{\"id\": %u, \"name\": \"rule-%u\", \"type\": \"polygon\", "
        "\"points\": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.%u]], \"alarm\": {\"enabled\": true, "
        "\"alarm\": %u.5}}", i ? ", " : "", i + 1, i, i % 10, 40 + i % 60);
  g_string_append (s, "]}");
  return g_string_free_to_bytes (s);
}

static GBytes *
modified (GBytes *b, gsize pos, guint8 xor)
{
  gsize len;
  guint8 *d = g_memdup2 (g_bytes_get_data (b, &len), g_bytes_get_size (b));

  g_assert_cmpuint (pos, <, len);
  d[pos] ^= xor;
  return g_bytes_new_take (d, len);
}

static GBytes *
truncated (GBytes *b, gsize len)
{
  g_assert_cmpuint (len, <=, g_bytes_get_size (b));
  return g_bytes_new (g_bytes_get_data (b, NULL), len);
}

/* Runs a command (argv NULL-terminated); its exit status, -1 when killed */
static gint G_GNUC_NULL_TERMINATED
run (gchar **out, const gchar *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree gchar *o = NULL, *e = NULL, *cmd = NULL;
  g_autoptr (GError) err = NULL;
  gint status = 0;
  va_list ap;

  va_start (ap, first);
  for (const gchar *a = first; a; a = va_arg (ap, const gchar *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  cmd = g_strjoinv (" ", (gchar **) argv->pdata);
  g_test_message ("$ %s", cmd);
  g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
      &o, &e, &status, &err);
  g_assert_no_error (err);
  if (e && *e)
    g_test_message ("  %s", g_strstrip (g_strdelimit (e, "\n", ' ')));
  if (out)
    *out = g_steal_pointer (&o);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static gchar *
make_tmp_dir (void)
{
  g_autoptr (GError) err = NULL;
  gchar *dir = g_dir_make_tmp ("tcd-crypto-XXXXXX", &err);

  g_assert_no_error (err);
  return dir;
}

static void
rm_rf (const gchar *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);

  if (dir) {
    const gchar *name;
    while ((name = g_dir_read_name (dir))) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);
      rm_rf (child);
    }
    g_dir_close (dir);
    g_assert_cmpint (g_rmdir (path), ==, 0);
  } else {
    g_assert_cmpint (g_unlink (path), ==, 0);
  }
}

static gchar *
tls_file (const gchar *state, const gchar *name)
{
  return g_build_filename (state, "tls", name, NULL);
}

static guint
file_mode (const gchar *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static void
write_text (const gchar *path, const gchar *text)
{
  g_autoptr (GError) err = NULL;

  g_file_set_contents (path, text, -1, &err);
  g_assert_no_error (err);
}

static gchar *
read_text (const gchar *path)
{
  g_autoptr (GError) err = NULL;
  gchar *text = NULL;

  g_file_get_contents (path, &text, NULL, &err);
  g_assert_no_error (err);
  return text;
}

static guint
count (const gchar *haystack, const gchar *needle)
{
  guint n = 0;

  for (const gchar *p = haystack; (p = strstr (p, needle)); p += strlen (needle))
    n++;
  return n;
}

static gboolean
install (const gchar *state, const gchar *path, GError **error)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  return tcd_certs_install (state, text, len, error);
}

/* tcd_certs_info's hosts as "a,b" */
static gchar *
hosts_string (JsonObject *o)
{
  JsonArray *a = json_object_get_array_member (o, "hosts");
  g_autoptr (GPtrArray) s = g_ptr_array_new ();

  g_assert_nonnull (a);
  for (guint i = 0; i < json_array_get_length (a); i++)
    g_ptr_array_add (s, (gpointer) json_array_get_string_element (a, i));
  g_ptr_array_add (s, NULL);
  return g_strjoinv (",", (gchar **) s->pdata);
}

static gint64
iso_to_unix (const gchar *iso)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (iso, NULL);

  g_assert_nonnull (dt);
  return g_date_time_to_unix (dt);
}

/* "sha256 Fingerprint=AB:..." from the openssl command */
static gchar *
openssl_fingerprint (const gchar *cert)
{
  g_autofree gchar *out = NULL;
  const gchar *eq;

  g_assert_cmpint (run (&out, "openssl", "x509", "-in", cert, "-noout", "-fingerprint",
      "-sha256", NULL), ==, 0);
  eq = strchr (out, '=');
  g_assert_nonnull (eq);
  return g_strstrip (g_strdup (eq + 1));
}

/* ---- tcd-crypt ---- */

static void
test_crypt_roundtrip (void)
{
  g_autoptr (GBytes) doc = make_document (20 * 1024);
  g_autoptr (GBytes) sealed = NULL, opened = NULL, empty = NULL, sealed_empty = NULL,
      opened_empty = NULL;
  g_autoptr (GError) err = NULL;
  const gchar *password = "Export-Pässwort 1€";
  const guint8 *f;
  gsize len;

  g_assert_cmpuint (g_bytes_get_size (doc), >=, 20 * 1024);
  sealed = tcd_crypt_seal (doc, password, &err);
  g_assert_no_error (err);
  g_assert_nonnull (sealed);

  /* the documented layout: header, as much cipher text as plain text, tag */
  f = g_bytes_get_data (sealed, &len);
  g_assert_cmpuint (len, ==, HEADER_LEN + g_bytes_get_size (doc) + TAG_LEN);
  g_assert_cmpmem (f, 6, "TCDCFG", 6);
  g_assert_cmpuint (f[OFF_VERSION], ==, 1);
  g_assert_cmpuint (f[OFF_KDF], ==, 1);
  g_assert_cmpuint (f[OFF_LOG2_N], ==, 15);
  g_assert_cmpuint (f[OFF_R], ==, 8);
  g_assert_cmpuint (f[OFF_P], ==, 1);
  /* nothing of the plain text shows */
  g_assert_null (memmem (f, len, "rule-1", 6));
  g_assert_null (memmem (f, len, "polygon", 7));

  opened = tcd_crypt_open (sealed, password, &err);
  g_assert_no_error (err);
  g_assert_nonnull (opened);
  g_assert_true (g_bytes_equal (opened, doc));

  /* an empty document is a document too */
  empty = g_bytes_new_static ("", 0);
  sealed_empty = tcd_crypt_seal (empty, password, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (g_bytes_get_size (sealed_empty), ==, HEADER_LEN + TAG_LEN);
  opened_empty = tcd_crypt_open (sealed_empty, password, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (g_bytes_get_size (opened_empty), ==, 0);
}

static void
test_crypt_wrong_password (void)
{
  g_autoptr (GBytes) doc = make_document (1000);
  g_autoptr (GBytes) sealed = tcd_crypt_seal (doc, "correct horse", NULL);
  const gchar *wrong[] = { "correct hors", "Correct horse", "correct horse ", "x" };

  g_assert_nonnull (sealed);
  for (guint i = 0; i < G_N_ELEMENTS (wrong); i++) {
    g_autoptr (GError) err = NULL;
    g_autoptr (GBytes) opened = tcd_crypt_open (sealed, wrong[i], &err);

    g_assert_null (opened);
    g_assert_error (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_AUTH);
    g_assert_nonnull (strstr (err->message, "wrong password, or the file was changed"));
  }
}

/* One bit changed anywhere: header (fixed part, salt, nonce), cipher text,
 * tag.  Never accepted; a change of the magic, version or KDF id, or of a KDF
 * parameter to an unacceptable value, is FORMAT; anything else fails the tag.
 * Sampled, because every open of a well-formed file costs an scrypt. */
static void
test_crypt_tamper (void)
{
  g_autoptr (GBytes) doc = make_document (64);
  g_autoptr (GBytes) small = g_bytes_new (g_bytes_get_data (doc, NULL), 64);
  g_autoptr (GBytes) sealed = tcd_crypt_seal (small, "tamper", NULL);
  g_autoptr (GArray) positions = g_array_new (FALSE, FALSE, sizeof (guint));
  gsize len;
  guint n_format = 0, n_auth = 0;

  g_assert_nonnull (sealed);
  len = g_bytes_get_size (sealed);
  g_assert_cmpuint (len, ==, HEADER_LEN + 64 + TAG_LEN);
  for (guint p = 0; p < OFF_SALT; p++)                          /* magic .. p */
    g_array_append_val (positions, p);
  for (guint p = OFF_SALT; p < OFF_NONCE; p += 7)               /* salt */
    g_array_append_val (positions, p);
  for (guint p = OFF_NONCE; p < HEADER_LEN; p += 5)             /* nonce */
    g_array_append_val (positions, p);
  for (guint p = HEADER_LEN; p < len - TAG_LEN; p += 8)         /* cipher text */
    g_array_append_val (positions, p);
  for (guint p = len - TAG_LEN; p < len; p += 2)                /* tag */
    g_array_append_val (positions, p);
  {
    guint last = len - 1;
    g_array_append_val (positions, last);
  }
  g_assert_cmpuint (positions->len, >=, 34);

  for (guint i = 0; i < positions->len; i++) {
    guint pos = g_array_index (positions, guint, i);
    g_autoptr (GBytes) bad = modified (sealed, pos, 0x01);
    g_autoptr (GError) err = NULL;
    g_autoptr (GBytes) opened = tcd_crypt_open (bad, "tamper", &err);

    g_test_message ("bit 0 of byte %u: %s", pos, err ? err->message : "accepted");
    g_assert_null (opened);
    g_assert_nonnull (err);
    g_assert_true (g_error_matches (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FORMAT)
                   || g_error_matches (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_AUTH));
    if (pos < OFF_LOG2_N || pos == OFF_P) {
      /* magic, version, KDF id; p 1 -> 0 */
      g_assert_error (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FORMAT);
    } else {
      /* log2 N 15 -> 14 and r 8 -> 9 are acceptable parameters: the header
       * is authenticated, so the tag catches them */
      g_assert_error (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_AUTH);
    }
    if (err->code == TCD_CRYPT_ERROR_FORMAT)
      n_format++;
    else
      n_auth++;
  }
  g_test_message ("%u changes: %u FORMAT, %u AUTH", positions->len, n_format, n_auth);

  /* and one byte more at the end */
  {
    gsize n;
    const guint8 *d = g_bytes_get_data (sealed, &n);
    g_autoptr (GByteArray) longer = g_byte_array_new ();
    g_autoptr (GBytes) b = NULL, opened = NULL;
    g_autoptr (GError) err = NULL;

    g_byte_array_append (longer, d, n);
    g_byte_array_append (longer, (const guint8 *) "x", 1);
    b = g_byte_array_free_to_bytes (g_steal_pointer (&longer));
    opened = tcd_crypt_open (b, "tamper", &err);
    g_assert_null (opened);
    g_assert_error (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_AUTH);
  }
}

static void
test_crypt_truncated (void)
{
  g_autoptr (GBytes) doc = make_document (200);
  g_autoptr (GBytes) sealed = tcd_crypt_seal (doc, "truncate", NULL);
  gsize len;
  struct {
    gssize len;               /* < 0: from the end */
    gint code;
  } cases[] = {
    { 0, TCD_CRYPT_ERROR_FORMAT },
    { 5, TCD_CRYPT_ERROR_FORMAT },
    { HEADER_LEN, TCD_CRYPT_ERROR_FORMAT },
    { HEADER_LEN + TAG_LEN - 1, TCD_CRYPT_ERROR_FORMAT },
    /* long enough to be a file: the tag is wrong */
    { HEADER_LEN + TAG_LEN, TCD_CRYPT_ERROR_AUTH },
    { -TAG_LEN, TCD_CRYPT_ERROR_AUTH },
    { -1, TCD_CRYPT_ERROR_AUTH },
  };

  g_assert_nonnull (sealed);
  len = g_bytes_get_size (sealed);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gsize n = cases[i].len >= 0 ? (gsize) cases[i].len : len + cases[i].len;
    g_autoptr (GBytes) cut = truncated (sealed, n);
    g_autoptr (GError) err = NULL;
    g_autoptr (GBytes) opened = tcd_crypt_open (cut, "truncate", &err);

    g_test_message ("%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes: %s", n, len,
        err ? err->message : "accepted");
    g_assert_null (opened);
    g_assert_error (err, TCD_CRYPT_ERROR, cases[i].code);
    if (cases[i].code == TCD_CRYPT_ERROR_FORMAT)
      g_assert_nonnull (strstr (err->message, "not a thermocam configuration file"));
  }
}

static void
test_crypt_empty_password (void)
{
  g_autoptr (GBytes) doc = make_document (100);
  g_autoptr (GBytes) sealed = NULL, opened = NULL, good = NULL;
  g_autoptr (GError) err = NULL;

  sealed = tcd_crypt_seal (doc, "", &err);
  g_assert_null (sealed);
  g_assert_error (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FAILED);
  g_assert_nonnull (strstr (err->message, "password"));
  g_clear_error (&err);

  good = tcd_crypt_seal (doc, "p", &err);
  g_assert_no_error (err);
  opened = tcd_crypt_open (good, "", &err);
  g_assert_null (opened);
  g_assert_error (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FAILED);
}

/* Random salt and nonce: the same data and password never give the same file */
static void
test_crypt_random (void)
{
  g_autoptr (GBytes) doc = make_document (500);
  g_autoptr (GBytes) a = tcd_crypt_seal (doc, "same", NULL);
  g_autoptr (GBytes) b = tcd_crypt_seal (doc, "same", NULL);
  g_autoptr (GBytes) oa = NULL, ob = NULL;
  const guint8 *da, *db;

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpuint (g_bytes_get_size (a), ==, g_bytes_get_size (b));
  g_assert_false (g_bytes_equal (a, b));
  da = g_bytes_get_data (a, NULL);
  db = g_bytes_get_data (b, NULL);
  g_assert_cmpmem (da, OFF_SALT, db, OFF_SALT);
  g_assert_true (memcmp (da + OFF_SALT, db + OFF_SALT, 16) != 0);
  g_assert_true (memcmp (da + OFF_NONCE, db + OFF_NONCE, 12) != 0);
  g_assert_true (memcmp (da + HEADER_LEN, db + HEADER_LEN, 500) != 0);

  oa = tcd_crypt_open (a, "same", NULL);
  ob = tcd_crypt_open (b, "same", NULL);
  g_assert_true (oa && g_bytes_equal (oa, doc));
  g_assert_true (ob && g_bytes_equal (ob, doc));
}

/* A forged header must not make us run scrypt with absurd parameters (these
 * are refused before any key derivation: the test would take minutes or
 * gigabytes otherwise), nor with unknown versions */
static void
test_crypt_header (void)
{
  g_autoptr (GBytes) doc = make_document (100);
  g_autoptr (GBytes) sealed = tcd_crypt_seal (doc, "header", NULL);
  struct {
    guint pos;
    guint8 value;
  } cases[] = {
    { 0, 'X' },                 /* magic */
    { 5, 'H' },
    { OFF_VERSION, 2 },
    { OFF_VERSION, 0 },
    { OFF_KDF, 2 },             /* not scrypt */
    { OFF_LOG2_N, 30 },
    { OFF_LOG2_N, 9 },
    { OFF_LOG2_N, 21 },
    { OFF_LOG2_N, 255 },
    { OFF_R, 0 },
    { OFF_R, 17 },
    { OFF_P, 0 },
    { OFF_P, 5 },
  };

  g_assert_nonnull (sealed);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gsize len;
    guint8 *d = g_memdup2 (g_bytes_get_data (sealed, &len), g_bytes_get_size (sealed));
    g_autoptr (GBytes) bad = NULL, opened = NULL;
    g_autoptr (GError) err = NULL;

    d[cases[i].pos] = cases[i].value;
    bad = g_bytes_new_take (d, len);
    opened = tcd_crypt_open (bad, "header", &err);
    g_test_message ("byte %u = %u: %s", cases[i].pos, cases[i].value,
        err ? err->message : "accepted");
    g_assert_null (opened);
    g_assert_error (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FORMAT);
    g_assert_nonnull (strstr (err->message, "not a thermocam configuration file"));
  }

  /* within each range, but 2^20 * 16 * 128 bytes = 2 GiB together: refused */
  {
    gsize len;
    guint8 *d = g_memdup2 (g_bytes_get_data (sealed, &len), g_bytes_get_size (sealed));
    g_autoptr (GBytes) bad = NULL, opened = NULL;
    g_autoptr (GError) err = NULL;

    d[OFF_LOG2_N] = 20;
    d[OFF_R] = 16;
    bad = g_bytes_new_take (d, len);
    opened = tcd_crypt_open (bad, "header", &err);
    g_assert_null (opened);
    g_assert_error (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FORMAT);
  }
}

/* ---- tcd-certs ---- */

static void
test_cert_params (void)
{
  g_autofree gchar *long_label = g_strnfill (64, 'a');
  g_autofree gchar *label63 = g_strnfill (63, 'b');
  /* 4 * 63 + 3 dots = 255; 3 * 63 + 3 dots + 61 = 253 */
  g_autofree gchar *host253 = g_strdup_printf ("%s.%s.%s.%.61s", label63, label63, label63, label63);
  g_autofree gchar *host255 = g_strdup_printf ("%s.%s.%s.%s", label63, label63, label63, label63);
  g_autofree gchar *host_long_label = g_strdup_printf ("%s.example.com", long_label);
  g_autofree gchar *text65 = g_strnfill (65, 'x');
  g_autofree gchar *text64 = g_strnfill (64, 'x');
  g_autofree gchar *email65 = g_strdup_printf ("%.57s@example", text65);
  struct {
    const gchar *country, *host;
    guint days;
    const gchar *organization, *state, *locality, *email;
    gboolean need_days;
    const gchar *field;         /* NULL: fine */
  } cases[] = {
    { "DE", "cam.example.com", 365, NULL, NULL, NULL, NULL, TRUE, NULL },
    { "de", "cam", 1, "", "", "", "", TRUE, NULL },
    { "US", "192.168.1.64", 3650, "Acme", "CA", "San José", "ops@example.com", TRUE, NULL },
    { "FR", "::1", 30, "Müller & Söhne GmbH", NULL, NULL, NULL, TRUE, NULL },
    { "FR", "2001:db8::42", 30, text64, text64, text64, NULL, TRUE, NULL },
    { "DE", host253, 30, NULL, NULL, NULL, NULL, TRUE, NULL },
    { "DE", "cam-1.example.com", 0, NULL, NULL, NULL, NULL, FALSE, NULL },  /* a request */
    { "D", "cam", 30, NULL, NULL, NULL, NULL, TRUE, "country" },
    { "DEU", "cam", 30, NULL, NULL, NULL, NULL, TRUE, "country" },
    { "D1", "cam", 30, NULL, NULL, NULL, NULL, TRUE, "country" },
    { "", "cam", 30, NULL, NULL, NULL, NULL, TRUE, "country" },
    { NULL, "cam", 30, NULL, NULL, NULL, NULL, TRUE, "country" },
    { "DE", "bad host!", 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", "", 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", NULL, 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", "-cam.example.com", 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", "cam-.example.com", 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", "cam..example.com", 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", "cam.example.com.", 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", "cam_1.example.com", 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", "*.example.com", 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", host_long_label, 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", host255, 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", "192.168.1.999", 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", "fe80::1%eth0", 30, NULL, NULL, NULL, NULL, TRUE, "host" },
    { "DE", "cam", 0, NULL, NULL, NULL, NULL, TRUE, "days" },
    { "DE", "cam", 4000, NULL, NULL, NULL, NULL, TRUE, "days" },
    { "DE", "cam", 3651, NULL, NULL, NULL, NULL, TRUE, "days" },
    { "DE", "cam", 30, text65, NULL, NULL, NULL, TRUE, "organization" },
    { "DE", "cam", 30, "Acme\nInc", NULL, NULL, NULL, TRUE, "organization" },
    { "DE", "cam", 30, "Acme \xff", NULL, NULL, NULL, TRUE, "organization" },
    { "DE", "cam", 30, NULL, "Bay\tern", NULL, NULL, TRUE, "state" },
    { "DE", "cam", 30, NULL, NULL, text65, NULL, TRUE, "locality" },
    { "DE", "cam", 30, NULL, NULL, NULL, "nobody", TRUE, "email" },
    { "DE", "cam", 30, NULL, NULL, NULL, "a@b@c", TRUE, "email" },
    { "DE", "cam", 30, NULL, NULL, NULL, "jürgen@example.com", TRUE, "email" },
    { "DE", "cam", 30, NULL, NULL, NULL, email65, TRUE, "email" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    TcdCertParams p = {
      .country = cases[i].country, .host = cases[i].host, .days = cases[i].days,
      .organization = cases[i].organization, .state = cases[i].state,
      .locality = cases[i].locality, .email = cases[i].email,
    };
    const gchar *field = "unset";
    g_autoptr (GError) err = NULL;
    gboolean ok = tcd_cert_params_check (&p, cases[i].need_days, &field, &err);

    g_test_message ("%u: country %s host %.20s days %u: %s", i, cases[i].country,
        cases[i].host, cases[i].days, err ? err->message : "fine");
    if (cases[i].field) {
      g_assert_false (ok);
      g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID);
      g_assert_cmpstr (field, ==, cases[i].field);
    } else {
      g_assert_no_error (err);
      g_assert_true (ok);
      g_assert_null (field);
    }
  }
}

static void
test_cert_self_signed (void)
{
  g_autofree gchar *state = make_tmp_dir ();
  g_autofree gchar *dir = g_build_filename (state, "tls", NULL);
  g_autofree gchar *cert = tls_file (state, "cert.pem");
  g_autofree gchar *key = tls_file (state, "key.pem");
  g_autofree gchar *cert_path = NULL, *key_path = NULL, *text = NULL, *keytext = NULL;
  g_autofree gchar *fp = NULL, *hosts = NULL, *first_fp = NULL;
  g_autoptr (JsonNode) info = NULL, info2 = NULL;
  g_autoptr (GError) err = NULL;
  TcdCertParams p = {
    .country = "de", .host = "127.0.0.1", .days = 30, .organization = "Thermocam Test",
    .locality = "Berlin", .email = "admin@example.com",
  };
  JsonObject *o;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_null (tcd_certs_info (state));
  g_assert_false (tcd_certs_installed (state, &cert_path, &key_path));
  g_assert_null (cert_path);

  g_assert_true (tcd_certs_create_self_signed (state, &p, &err));
  g_assert_no_error (err);
  g_assert_cmphex (file_mode (dir), ==, 0700);
  g_assert_cmphex (file_mode (key), ==, 0600);
  g_assert_true (tcd_certs_installed (state, &cert_path, &key_path));
  g_assert_cmpstr (cert_path, ==, cert);
  g_assert_cmpstr (key_path, ==, key);

  info = tcd_certs_info (state);
  g_assert_nonnull (info);
  o = json_node_get_object (info);
  g_assert_cmpstr (json_object_get_string_member (o, "subject"), ==,
      "C=DE, L=Berlin, O=Thermocam Test, CN=127.0.0.1, emailAddress=admin@example.com");
  g_assert_cmpstr (json_object_get_string_member (o, "issuer"), ==,
      json_object_get_string_member (o, "subject"));
  g_assert_true (json_object_get_boolean_member (o, "self_signed"));
  hosts = hosts_string (o);
  g_assert_cmpstr (hosts, ==, "127.0.0.1");
  g_assert_false (json_object_has_member (o, "request"));
  /* valid from a minute ago, for 30 days */
  g_assert_cmpint (iso_to_unix (json_object_get_string_member (o, "not_before")), <=, now);
  g_assert_cmpint (iso_to_unix (json_object_get_string_member (o, "not_before")), >=, now - 120);
  g_assert_cmpint (ABS (iso_to_unix (json_object_get_string_member (o, "not_after"))
      - (now + 30 * 86400)), <=, 60);
  /* 128 random bits: 31 or 32 hex digits mostly */
  g_assert_cmpuint (strlen (json_object_get_string_member (o, "serial")), >=, 20);
  /* the same fingerprint as openssl computes */
  fp = openssl_fingerprint (cert);
  g_assert_cmpstr (json_object_get_string_member (o, "sha256"), ==, fp);

  /* openssl reads it as what we meant */
  g_assert_cmpint (run (&text, "openssl", "x509", "-in", cert, "-noout", "-text", NULL), ==, 0);
  g_assert_nonnull (strstr (text, "Version: 3 (0x2)"));
  g_assert_nonnull (strstr (text, "ecdsa-with-SHA256"));
  g_assert_nonnull (strstr (text, "NIST CURVE: P-256"));
  g_assert_nonnull (strstr (text, "CA:FALSE"));
  g_assert_nonnull (strstr (text, "Digital Signature"));
  g_assert_null (strstr (text, "Key Encipherment"));
  g_assert_nonnull (strstr (text, "TLS Web Server Authentication"));
  g_assert_nonnull (strstr (text, "IP Address:127.0.0.1"));
  g_assert_nonnull (strstr (text, "Subject Key Identifier"));
  g_assert_nonnull (strstr (text, "Authority Key Identifier"));
  /* the key is the certificate's (and a plain PKCS#8 EC key) */
  g_assert_cmpint (run (&keytext, "openssl", "pkey", "-in", key, "-noout", "-text", NULL), ==, 0);
  g_assert_nonnull (strstr (keytext, "prime256v1"));
  /* a self-signed server certificate that OpenSSL accepts as its own anchor */
  g_assert_cmpint (run (NULL, "openssl", "verify", "-purpose", "sslserver", "-CAfile", cert,
      cert, NULL), ==, 0);

  /* again: a new key, a new serial, replacing the pair */
  first_fp = g_strdup (fp);
  p.host = "cam.example.com";
  g_assert_true (tcd_certs_create_self_signed (state, &p, &err));
  g_assert_no_error (err);
  info2 = tcd_certs_info (state);
  o = json_node_get_object (info2);
  g_assert_cmpstr (json_object_get_string_member (o, "sha256"), !=, first_fp);
  g_clear_pointer (&hosts, g_free);
  hosts = hosts_string (o);
  g_assert_cmpstr (hosts, ==, "cam.example.com");
  g_assert_true (tcd_certs_installed (state, NULL, NULL));
  g_assert_cmphex (file_mode (key), ==, 0600);
  /* no temporary files left behind */
  {
    g_autofree gchar *key_new = tls_file (state, "key.pem.new");
    g_autofree gchar *cert_new = tls_file (state, "cert.pem.new");
    g_assert_false (g_file_test (key_new, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (cert_new, G_FILE_TEST_EXISTS));
  }

  rm_rf (state);
}

/* IPv6 in the SAN, and a host longer than a CN may be (SAN only) */
static void
test_cert_hosts (void)
{
  g_autofree gchar *state = make_tmp_dir ();
  g_autofree gchar *cert = tls_file (state, "cert.pem");
  g_autofree gchar *label = g_strnfill (40, 'c');
  g_autofree gchar *long_host = g_strdup_printf ("%s.%s.example.com", label, label);
  g_autofree gchar *long_dns = g_strdup_printf ("DNS:%s", long_host);
  /* openssl 3.0 writes IPv6 addresses in full */
  struct {
    const gchar *host, *hosts, *subject, *openssl;
  } cases[] = {
    { "::1", "::1", "C=SE, CN=::1", "IP Address:0:0:0:0:0:0:0:1" },
    { "2001:db8::42", "2001:db8::42", "C=SE, CN=2001:db8::42", "IP Address:2001:DB8:0:0:0:0:0:42" },
    { "Camera-7", "Camera-7", "C=SE, CN=Camera-7", "DNS:Camera-7" },
    { long_host, long_host, "C=SE", long_dns },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    TcdCertParams p = { .country = "SE", .host = cases[i].host, .days = 1 };
    g_autoptr (GError) err = NULL;
    g_autoptr (JsonNode) info = NULL;
    g_autofree gchar *hosts = NULL, *text = NULL;
    JsonObject *o;

    g_assert_true (tcd_certs_create_self_signed (state, &p, &err));
    g_assert_no_error (err);
    info = tcd_certs_info (state);
    o = json_node_get_object (info);
    hosts = hosts_string (o);
    g_assert_cmpstr (hosts, ==, cases[i].hosts);
    g_assert_cmpstr (json_object_get_string_member (o, "subject"), ==, cases[i].subject);
    g_assert_cmpint (run (&text, "openssl", "x509", "-in", cert, "-noout", "-ext",
        "subjectAltName", NULL), ==, 0);
    g_assert_nonnull (strstr (text, cases[i].openssl));
  }
  rm_rf (state);
}

static guint16
free_port (void)
{
  struct sockaddr_in sa = { .sin_family = AF_INET };
  socklen_t len = sizeof sa;
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  g_assert_cmpint (fd, >=, 0);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &sa, &len), ==, 0);
  close (fd);
  return ntohs (sa.sin_port);
}

/* curl (OpenSSL underneath) takes the self-signed certificate as the trust
 * anchor of a real TLS connection: --cacert cert.pem is enough, CA:FALSE
 * notwithstanding; and the certificate is for 127.0.0.1 only */
static void
test_cert_curl (void)
{
  g_autofree gchar *openssl = g_find_program_in_path ("openssl");
  g_autofree gchar *curl = g_find_program_in_path ("curl");
  g_autofree gchar *state = NULL, *cert = NULL, *key = NULL, *accept = NULL, *url = NULL;
  g_autofree gchar *out = NULL, *resolve = NULL, *url_name = NULL;
  g_autoptr (GError) err = NULL;
  TcdCertParams p = { .country = "DE", .host = "127.0.0.1", .days = 2 };
  gint64 deadline;
  GPid pid = 0;
  gint status = -1, other_status, name_status, st;
  g_autofree gchar *other = NULL, *other_cert = NULL;
  guint16 port;

  if (!openssl || !curl) {
    g_test_skip ("needs openssl and curl");
    return;
  }
  state = make_tmp_dir ();
  cert = tls_file (state, "cert.pem");
  key = tls_file (state, "key.pem");
  g_assert_true (tcd_certs_create_self_signed (state, &p, &err));
  g_assert_no_error (err);
  other = g_build_filename (state, "other", NULL);
  other_cert = tls_file (other, "cert.pem");
  g_assert_true (tcd_certs_create_self_signed (other, &p, &err));
  g_assert_no_error (err);

  port = free_port ();
  accept = g_strdup_printf ("127.0.0.1:%u", port);
  url = g_strdup_printf ("https://127.0.0.1:%u/", port);
  {
    const gchar *argv[] = { openssl, "s_server", "-cert", cert, "-key", key,
      "-accept", accept, "-www", "-quiet", NULL };
    g_spawn_async (NULL, (gchar **) argv, NULL,
        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
        NULL, NULL, &pid, &err);
    g_assert_no_error (err);
  }

  /* until the server listens (curl: 7 = cannot connect), 10 s at most */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  do {
    g_clear_pointer (&out, g_free);
    status = run (&out, curl, "-sS", "--max-time", "3", "-o", "/dev/null", "-w", "%{http_code}",
        "--cacert", cert, url, NULL);
    if (status != 7)
      break;
    g_usleep (100 * 1000);
  } while (g_get_monotonic_time () < deadline);
  /* another self-signed certificate (another key) as the anchor: not
   * trusted (60: the peer certificate cannot be authenticated) */
  other_status = run (NULL, curl, "-sS", "--max-time", "3", "-o", "/dev/null",
      "--cacert", other_cert, url, NULL);
  /* the name is checked too: the certificate is for 127.0.0.1, not localhost */
  resolve = g_strdup_printf ("localhost:%u:127.0.0.1", port);
  url_name = g_strdup_printf ("https://localhost:%u/", port);
  name_status = run (NULL, curl, "-sS", "--max-time", "3", "-o", "/dev/null",
      "--resolve", resolve, "--cacert", cert, url_name, NULL);

  /* the server goes before any assertion can fail */
  kill (pid, SIGTERM);
  g_assert_cmpint (waitpid (pid, &st, 0), ==, pid);
  g_spawn_close_pid (pid);

  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "200");
  g_assert_cmpint (other_status, ==, 60);
  g_assert_cmpint (name_status, ==, 60);
  rm_rf (state);
}

static void
test_cert_request (void)
{
  g_autofree gchar *state = make_tmp_dir ();
  g_autofree gchar *cert = tls_file (state, "cert.pem");
  g_autofree gchar *key = tls_file (state, "key.pem");
  g_autofree gchar *req_file = tls_file (state, "request.pem");
  g_autofree gchar *req_key = tls_file (state, "request-key.pem");
  g_autofree gchar *csr = g_build_filename (state, "upload.csr", NULL);
  g_autofree gchar *ca_key = g_build_filename (state, "ca.key", NULL);
  g_autofree gchar *ca = g_build_filename (state, "ca.pem", NULL);
  g_autofree gchar *signed_pem = g_build_filename (state, "signed.pem", NULL);
  g_autofree gchar *expired = g_build_filename (state, "expired.pem", NULL);
  g_autofree gchar *chain = g_build_filename (state, "chain.pem", NULL);
  g_autofree gchar *garbage = g_build_filename (state, "garbage.pem", NULL);
  g_autofree gchar *pem = NULL, *again = NULL, *text = NULL, *self_fp = NULL, *hosts = NULL;
  g_autofree gchar *installed = NULL, *signed_text = NULL, *ca_text = NULL, *chain_text = NULL;
  g_autoptr (JsonNode) info = NULL;
  g_autoptr (GError) err = NULL;
  TcdCertParams p = { .country = "DE", .host = "cam.example.com", .organization = "Acme" };
  TcdCertParams self = { .country = "DE", .host = "cam.example.com", .days = 10 };
  JsonObject *o, *r;

  /* a request alone */
  pem = tcd_certs_create_request (state, &p, &err);
  g_assert_no_error (err);
  g_assert_nonnull (pem);
  g_assert_true (g_str_has_prefix (pem, "-----BEGIN CERTIFICATE REQUEST-----\n"));
  again = tcd_certs_get_request (state);
  g_assert_cmpstr (again, ==, pem);
  g_assert_cmphex (file_mode (req_key), ==, 0600);
  g_assert_false (tcd_certs_installed (state, NULL, NULL));
  info = tcd_certs_info (state);
  g_assert_nonnull (info);
  o = json_node_get_object (info);
  g_assert_cmpuint (json_object_get_size (o), ==, 1);
  r = json_object_get_object_member (o, "request");
  g_assert_nonnull (r);
  g_assert_cmpstr (json_object_get_string_member (r, "subject"), ==,
      "C=DE, O=Acme, CN=cam.example.com");
  hosts = hosts_string (r);
  g_assert_cmpstr (hosts, ==, "cam.example.com");
  g_clear_pointer (&info, json_node_unref);

  /* what we hand out verifies, and asks for the name */
  write_text (csr, pem);
  g_assert_cmpint (run (&text, "openssl", "req", "-in", csr, "-noout", "-verify", "-text", NULL),
      ==, 0);
  g_assert_nonnull (strstr (text, "Requested Extensions"));
  g_assert_nonnull (strstr (text, "DNS:cam.example.com"));
  g_assert_nonnull (strstr (text, "TLS Web Server Authentication"));

  /* with an installed self-signed pair, the request still pending */
  g_assert_true (tcd_certs_create_self_signed (state, &self, &err));
  g_assert_no_error (err);
  self_fp = openssl_fingerprint (cert);
  info = tcd_certs_info (state);
  o = json_node_get_object (info);
  g_assert_true (json_object_get_boolean_member (o, "self_signed"));
  g_assert_true (json_object_has_member (o, "request"));
  g_clear_pointer (&info, json_node_unref);
  g_clear_pointer (&again, g_free);
  again = tcd_certs_get_request (state);
  g_assert_cmpstr (again, ==, pem);

  /* an outside CA signs it (and an expired one) */
  g_assert_cmpint (run (NULL, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
      "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "30",
      "-subj", "/C=DE/O=Test CA/CN=Thermocam Test CA", NULL), ==, 0);
  g_assert_cmpint (run (NULL, "openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
      "-set_serial", "4242", "-days", "10", "-copy_extensions", "copy", "-out", signed_pem,
      NULL), ==, 0);
  g_assert_cmpint (run (NULL, "openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
      "-set_serial", "4243", "-days", "-1", "-copy_extensions", "copy", "-out", expired,
      NULL), ==, 0);

  /* what is refused leaves everything as it was */
  write_text (garbage, "hello, I am not a certificate\n");
  g_assert_false (install (state, garbage, &err));
  g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID);
  g_test_message ("garbage: %s", err->message);
  g_clear_error (&err);
  write_text (garbage, "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n");
  g_assert_false (install (state, garbage, &err));
  g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID);
  g_test_message ("bad PEM: %s", err->message);
  g_clear_error (&err);
  g_assert_false (tcd_certs_install (state, "", 0, &err));
  g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID);
  g_clear_error (&err);
  /* the CA's own certificate: not for our key */
  g_assert_false (install (state, ca, &err));
  g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_MISMATCH);
  g_clear_error (&err);
  g_assert_false (install (state, expired, &err));
  g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "expired"));
  g_test_message ("expired: %s", err->message);
  g_clear_error (&err);
  {
    g_autofree gchar *fp = openssl_fingerprint (cert);
    g_assert_cmpstr (fp, ==, self_fp);
    g_assert_true (tcd_certs_installed (state, NULL, NULL));
    g_assert_true (g_file_test (req_key, G_FILE_TEST_EXISTS));
  }

  /* a key in the upload is the key: a stray one (the CA's) is refused, with
   * a hint, and nothing changes */
  signed_text = read_text (signed_pem);
  ca_text = read_text (ca);
  {
    g_autofree gchar *ca_key_text = read_text (ca_key);
    g_autofree gchar *stray = g_strconcat (signed_text, ca_key_text, ca_text, NULL);
    g_autofree gchar *fp = NULL;

    g_assert_false (tcd_certs_install (state, stray, strlen (stray), &err));
    g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_MISMATCH);
    g_assert_nonnull (strstr (err->message, "upload the certificate without a key"));
    g_test_message ("stray key: %s", err->message);
    g_clear_error (&err);
    fp = openssl_fingerprint (cert);
    g_assert_cmpstr (fp, ==, self_fp);
    g_assert_true (g_file_test (req_key, G_FILE_TEST_EXISTS));
  }

  /* the signed certificate with its chain (and a comment) */
  chain_text = g_strconcat ("Certificate for cam.example.com\n", signed_text, ca_text, NULL);
  write_text (chain, chain_text);
  g_assert_true (install (state, chain, &err));
  g_assert_no_error (err);

  g_assert_true (tcd_certs_installed (state, NULL, NULL));
  g_assert_null (tcd_certs_get_request (state));
  g_assert_false (g_file_test (req_file, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (req_key, G_FILE_TEST_EXISTS));
  g_assert_cmphex (file_mode (key), ==, 0600);
  installed = read_text (cert);
  g_assert_cmpuint (count (installed, "-----BEGIN CERTIFICATE-----"), ==, 2);
  g_assert_null (strstr (installed, "PRIVATE KEY"));
  info = tcd_certs_info (state);
  o = json_node_get_object (info);
  g_assert_cmpstr (json_object_get_string_member (o, "issuer"), ==,
      "C=DE, O=Test CA, CN=Thermocam Test CA");
  g_assert_cmpstr (json_object_get_string_member (o, "subject"), ==,
      "C=DE, O=Acme, CN=cam.example.com");
  g_assert_false (json_object_get_boolean_member (o, "self_signed"));
  g_assert_cmpstr (json_object_get_string_member (o, "serial"), ==, "1092");     /* 4242 */
  g_clear_pointer (&hosts, g_free);
  hosts = hosts_string (o);
  g_assert_cmpstr (hosts, ==, "cam.example.com");
  g_assert_false (json_object_has_member (o, "request"));
  /* the installed chain verifies up to the CA */
  g_assert_cmpint (run (NULL, "openssl", "verify", "-purpose", "sslserver", "-CAfile", ca, cert,
      NULL), ==, 0);

  /* the request is used up */
  g_assert_false (install (state, signed_pem, &err));
  g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_NO_REQUEST);
  g_clear_error (&err);

  /* a second round with a DER certificate, as some CAs return it */
  {
    g_autofree gchar *pem2 = tcd_certs_create_request (state, &p, &err);
    g_autofree gchar *der = g_build_filename (state, "signed.der", NULL);
    g_autofree gchar *before = openssl_fingerprint (cert);
    g_autofree gchar *after = NULL;

    g_assert_no_error (err);
    g_assert_cmpstr (pem2, !=, pem);
    write_text (csr, pem2);
    g_assert_cmpint (run (NULL, "openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey",
        ca_key, "-set_serial", "4244", "-days", "10", "-outform", "DER", "-out", der, NULL), ==, 0);
    /* the previous certificate is for the previous key */
    g_assert_false (install (state, signed_pem, &err));
    g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_MISMATCH);
    g_clear_error (&err);
    g_assert_true (install (state, der, &err));
    g_assert_no_error (err);
    after = openssl_fingerprint (cert);
    g_assert_cmpstr (after, !=, before);
    g_assert_cmpint (run (NULL, "openssl", "verify", "-CAfile", ca, cert, NULL), ==, 0);
  }

  /* delete: everything gone, and deleting nothing is fine */
  {
    g_autofree gchar *pem3 = tcd_certs_create_request (state, &p, NULL);
    g_assert_nonnull (pem3);
  }
  g_clear_pointer (&info, json_node_unref);
  g_assert_true (tcd_certs_delete (state, &err));
  g_assert_no_error (err);
  g_assert_false (g_file_test (cert, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (req_file, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (req_key, G_FILE_TEST_EXISTS));
  g_assert_null (tcd_certs_info (state));
  g_assert_false (tcd_certs_installed (state, NULL, NULL));
  g_assert_null (tcd_certs_get_request (state));
  g_assert_true (tcd_certs_delete (state, &err));
  g_assert_no_error (err);

  rm_rf (state);
}

/* ---- a certificate uploaded with its key ---- */

/* A key and a self-signed certificate for cam.example.com, made by the
 * openssl command; @curve for an EC key */
static void
make_outside_pair (const gchar *dir, const gchar *name, const gchar *newkey, const gchar *curve,
                   gchar **key, gchar **cert)
{
  g_autofree gchar *k = g_strdup_printf ("%s/%s.key", dir, name);
  g_autofree gchar *c = g_strdup_printf ("%s/%s.pem", dir, name);
  g_autofree gchar *opt = curve ? g_strdup_printf ("ec_paramgen_curve:%s", curve) : NULL;

  if (curve)
    g_assert_cmpint (run (NULL, "openssl", "req", "-x509", "-newkey", newkey, "-pkeyopt", opt,
        "-nodes", "-keyout", k, "-out", c, "-days", "30", "-subj", "/CN=cam.example.com",
        "-addext", "subjectAltName=DNS:cam.example.com", NULL), ==, 0);
  else
    g_assert_cmpint (run (NULL, "openssl", "req", "-x509", "-newkey", newkey,
        "-nodes", "-keyout", k, "-out", c, "-days", "30", "-subj", "/CN=cam.example.com",
        "-addext", "subjectAltName=DNS:cam.example.com", NULL), ==, 0);
  *key = g_steal_pointer (&k);
  *cert = g_steal_pointer (&c);
}

/* The public key (PEM) of a certificate or of a private key, as the openssl
 * command sees it */
static gchar *
openssl_pubkey (const gchar *path, gboolean is_cert)
{
  gchar *out = NULL;

  if (is_cert)
    g_assert_cmpint (run (&out, "openssl", "x509", "-in", path, "-noout", "-pubkey", NULL),
        ==, 0);
  else
    g_assert_cmpint (run (&out, "openssl", "pkey", "-in", path, "-pubout", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "-----BEGIN PUBLIC KEY-----"));
  return out;
}

static gboolean
install_text (const gchar *state, const gchar *text, GError **error)
{
  return tcd_certs_install (state, text, strlen (text), error);
}

/* No line of a key's PEM text (base64) in an error message */
static void
assert_no_key_material (const gchar *message, const gchar *key_path)
{
  g_autofree gchar *text = read_text (key_path);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  g_assert_null (strstr (message, "PRIVATE KEY-----"));
  for (guint i = 0; lines[i]; i++)
    if (strlen (lines[i]) >= 16 && !g_str_has_prefix (lines[i], "-----"))
      g_assert_null (strstr (message, lines[i]));
}

/* The installed pair is byte for byte @cert_text and @key_text */
static void
assert_pair_is (const gchar *state, const gchar *cert_text, const gchar *key_text)
{
  g_autofree gchar *cert = tls_file (state, "cert.pem");
  g_autofree gchar *key = tls_file (state, "key.pem");
  g_autofree gchar *c = read_text (cert);
  g_autofree gchar *k = read_text (key);

  g_assert_cmpstr (c, ==, cert_text);
  g_assert_cmpstr (k, ==, key_text);
  g_assert_true (tcd_certs_installed (state, NULL, NULL));
}

static void
test_cert_with_key (void)
{
  g_autofree gchar *state = make_tmp_dir ();
  g_autofree gchar *cert = tls_file (state, "cert.pem");
  g_autofree gchar *key = tls_file (state, "key.pem");
  g_autofree gchar *req = NULL, *cert_text = NULL, *key_text = NULL;
  g_autoptr (GError) err = NULL;
  TcdCertParams p = { .country = "DE", .host = "cam.example.com" };
  struct {
    const gchar *name, *newkey, *curve;
    gboolean traditional;       /* "RSA/EC PRIVATE KEY" rather than PKCS#8 */
  } kinds[] = {
    { "rsa", "rsa:2048", NULL, FALSE },
    { "rsa-trad", "rsa:2048", NULL, TRUE },
    { "ec", "ec", "P-256", FALSE },
    { "ec-trad", "ec", "P-256", TRUE },
    { "p384", "ec", "P-384", FALSE },
  };

  /* a certificate alone, with no request: its key is missing */
  {
    g_autofree gchar *k = NULL, *c = NULL;
    make_outside_pair (state, "alone", "ec", "P-256", &k, &c);
    g_assert_false (install (state, c, &err));
    g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_NO_REQUEST);
    g_assert_nonnull (strstr (err->message, "together with its private key"));
    g_test_message ("no request: %s", err->message);
    g_clear_error (&err);
    g_assert_false (tcd_certs_installed (state, NULL, NULL));
  }

  /* RSA and EC keys, PKCS#8 and traditional, before or after the
   * certificate; no request */
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++) {
    for (guint key_first = 0; key_first < 2; key_first++) {
      g_autofree gchar *name = g_strdup_printf ("%s-%u", kinds[i].name, key_first);
      g_autofree gchar *k = NULL, *c = NULL, *kt = NULL, *ct = NULL, *upload = NULL;
      g_autofree gchar *cert_path = NULL, *key_path = NULL, *installed = NULL;
      g_autofree gchar *want = NULL, *pub_cert = NULL, *pub_key = NULL, *fp = NULL, *up_fp = NULL;

      make_outside_pair (state, name, kinds[i].newkey, kinds[i].curve, &k, &c);
      if (kinds[i].traditional) {
        g_autofree gchar *pkcs8 = g_strconcat (k, ".pkcs8", NULL);
        g_assert_cmpint (g_rename (k, pkcs8), ==, 0);
        g_assert_cmpint (run (NULL, "openssl", "pkey", "-in", pkcs8, "-traditional", "-out", k,
            NULL), ==, 0);
      }
      kt = read_text (k);
      ct = read_text (c);
      g_assert_true (g_str_has_prefix (kt, kinds[i].traditional
              ? (kinds[i].curve ? "-----BEGIN EC PRIVATE KEY-----" : "-----BEGIN RSA PRIVATE KEY-----")
              : "-----BEGIN PRIVATE KEY-----"));
      upload = key_first ? g_strconcat ("my key and certificate\n", kt, ct, NULL)
          : g_strconcat (ct, kt, NULL);
      g_test_message ("%s, key %s", kinds[i].name, key_first ? "first" : "last");
      g_assert_true (install_text (state, upload, &err));
      g_assert_no_error (err);

      g_assert_true (tcd_certs_installed (state, &cert_path, &key_path));
      g_assert_cmpstr (cert_path, ==, cert);
      g_assert_cmpstr (key_path, ==, key);
      g_assert_cmphex (file_mode (key), ==, 0600);
      /* the uploaded certificate, and no key in cert.pem */
      fp = openssl_fingerprint (cert);
      up_fp = openssl_fingerprint (c);
      g_assert_cmpstr (fp, ==, up_fp);
      installed = read_text (cert);
      g_assert_cmpuint (count (installed, "-----BEGIN CERTIFICATE-----"), ==, 1);
      g_assert_null (strstr (installed, "PRIVATE KEY"));
      /* the openssl command agrees: the installed key is the certificate's
       * and the uploaded one */
      pub_cert = openssl_pubkey (cert, TRUE);
      pub_key = openssl_pubkey (key, FALSE);
      want = openssl_pubkey (k, FALSE);
      g_assert_cmpstr (pub_key, ==, pub_cert);
      g_assert_cmpstr (pub_key, ==, want);
    }
  }
  g_assert_null (tcd_certs_get_request (state));

  /* a pending request stays pending through an install with a key */
  req = tcd_certs_create_request (state, &p, &err);
  g_assert_no_error (err);

  /* a key of "openssl ecparam -genkey": EC PARAMETERS before the key */
  {
    g_autofree gchar *k = g_build_filename (state, "ecparam.key", NULL);
    g_autofree gchar *c = g_build_filename (state, "ecparam.pem", NULL);
    g_autofree gchar *kt = NULL, *ct = NULL, *upload = NULL, *fp = NULL, *up_fp = NULL;

    g_assert_cmpint (run (NULL, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-out", k,
        NULL), ==, 0);
    g_assert_cmpint (run (NULL, "openssl", "req", "-x509", "-key", k, "-out", c, "-days", "30",
        "-subj", "/CN=cam.example.com", NULL), ==, 0);
    kt = read_text (k);
    ct = read_text (c);
    g_assert_true (g_str_has_prefix (kt, "-----BEGIN EC PARAMETERS-----"));
    upload = g_strconcat (kt, ct, NULL);
    g_assert_true (install_text (state, upload, &err));
    g_assert_no_error (err);
    fp = openssl_fingerprint (cert);
    up_fp = openssl_fingerprint (c);
    g_assert_cmpstr (fp, ==, up_fp);
  }
  {
    g_autofree gchar *again = tcd_certs_get_request (state);
    g_assert_cmpstr (again, ==, req);
  }

  /* with a chain: the key, then the leaf a CA signed, then the CA */
  {
    g_autofree gchar *ca_key = g_build_filename (state, "ca.key", NULL);
    g_autofree gchar *ca = g_build_filename (state, "ca.pem", NULL);
    g_autofree gchar *k = g_build_filename (state, "leaf.key", NULL);
    g_autofree gchar *csr = g_build_filename (state, "leaf.csr", NULL);
    g_autofree gchar *c = g_build_filename (state, "leaf.pem", NULL);
    g_autofree gchar *kt = NULL, *ct = NULL, *cat = NULL, *upload = NULL, *installed = NULL;

    g_assert_cmpint (run (NULL, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "30",
        "-subj", "/CN=Thermocam Test CA", NULL), ==, 0);
    g_assert_cmpint (run (NULL, "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", k,
        "-out", csr, "-subj", "/CN=cam.example.com", "-addext",
        "subjectAltName=DNS:cam.example.com", NULL), ==, 0);
    g_assert_cmpint (run (NULL, "openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-set_serial", "77", "-days", "10", "-copy_extensions", "copy", "-out", c, NULL), ==, 0);
    kt = read_text (k);
    ct = read_text (c);
    cat = read_text (ca);
    upload = g_strconcat (kt, ct, cat, NULL);
    g_assert_true (install_text (state, upload, &err));
    g_assert_no_error (err);
    installed = read_text (cert);
    g_assert_cmpuint (count (installed, "-----BEGIN CERTIFICATE-----"), ==, 2);
    g_assert_cmpint (run (NULL, "openssl", "verify", "-purpose", "sslserver", "-CAfile", ca, cert,
        NULL), ==, 0);

    /* the chain first: the CA's certificate is not for the key */
    g_clear_pointer (&upload, g_free);
    upload = g_strconcat (cat, ct, kt, NULL);
    g_assert_false (install_text (state, upload, &err));
    g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_MISMATCH);
    g_clear_error (&err);
  }

  /* what is refused leaves the installed pair byte for byte as it was */
  cert_text = read_text (cert);
  key_text = read_text (key);
  {
    g_autofree gchar *k1 = NULL, *c1 = NULL, *k2 = NULL, *c2 = NULL, *upload = NULL;
    g_autofree gchar *kt = NULL, *ct = NULL, *kt2 = NULL;

    /* a certificate with another key */
    make_outside_pair (state, "one", "ec", "P-256", &k1, &c1);
    make_outside_pair (state, "two", "ec", "P-256", &k2, &c2);
    kt = read_text (k2);
    ct = read_text (c1);
    upload = g_strconcat (ct, kt, NULL);
    g_assert_false (install_text (state, upload, &err));
    g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_MISMATCH);
    g_assert_nonnull (strstr (err->message, "not for the private key in the upload"));
    g_test_message ("mismatch: %s", err->message);
    assert_no_key_material (err->message, k2);
    g_clear_error (&err);
    assert_pair_is (state, cert_text, key_text);

    /* two keys */
    kt2 = read_text (k1);
    g_clear_pointer (&upload, g_free);
    upload = g_strconcat (kt2, ct, kt, NULL);
    g_assert_false (install_text (state, upload, &err));
    g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID);
    g_test_message ("two keys: %s", err->message);
    g_clear_error (&err);
    assert_pair_is (state, cert_text, key_text);

    /* a key alone */
    g_assert_false (install_text (state, kt, &err));
    g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID);
    g_test_message ("key alone: %s", err->message);
    assert_no_key_material (err->message, k2);
    g_clear_error (&err);
    assert_pair_is (state, cert_text, key_text);
  }

  /* encrypted keys (PKCS#8 and traditional), and weak or unusual ones */
  {
    struct {
      const gchar *name;
      const gchar *what;        /* in the message */
    } bad[] = {
      { "enc", "encrypted" },
      { "enc-trad", "encrypted" },
      { "rsa1024", "at least 2048" },
      { "k256", "P-256 or P-384" },
      { "ed25519", "RSA or EC" },
      { "damaged", "not valid" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_autofree gchar *k = g_strdup_printf ("%s/%s.key", state, bad[i].name);
      g_autofree gchar *c = g_strdup_printf ("%s/%s.pem", state, bad[i].name);
      g_autofree gchar *kt = NULL, *ct = NULL, *upload = NULL;

      if (g_str_has_prefix (bad[i].name, "enc")) {
        g_assert_cmpint (run (NULL, "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:x", "-out", k, NULL), ==, 0);
        g_assert_cmpint (run (NULL, "openssl", "req", "-x509", "-key", k, "-passin", "pass:x",
            "-out", c, "-days", "30", "-subj", "/CN=cam.example.com", NULL), ==, 0);
        if (g_str_equal (bad[i].name, "enc-trad")) {
          g_autofree gchar *pkcs8 = g_strconcat (k, ".pkcs8", NULL);
          g_assert_cmpint (g_rename (k, pkcs8), ==, 0);
          g_assert_cmpint (run (NULL, "openssl", "pkey", "-in", pkcs8, "-passin", "pass:x",
              "-traditional", "-aes256", "-passout", "pass:x", "-out", k, NULL), ==, 0);
        }
      } else {
        g_autofree gchar *k0 = NULL, *c0 = NULL;
        if (g_str_equal (bad[i].name, "rsa1024"))
          make_outside_pair (state, bad[i].name, "rsa:1024", NULL, &k0, &c0);
        else if (g_str_equal (bad[i].name, "k256"))
          make_outside_pair (state, bad[i].name, "ec", "secp256k1", &k0, &c0);
        else if (g_str_equal (bad[i].name, "ed25519"))
          make_outside_pair (state, bad[i].name, "ed25519", NULL, &k0, &c0);
        else
          make_outside_pair (state, bad[i].name, "rsa:2048", NULL, &k0, &c0);
      }
      /* one bit of the private exponent changed: the public half (all that
       * the match with the certificate compares) is intact */
      if (g_str_equal (bad[i].name, "damaged")) {
        g_autofree gchar *der = g_strconcat (k, ".der", NULL);
        g_autofree gchar *d = NULL;
        gsize n = 0;

        g_assert_cmpint (run (NULL, "openssl", "pkey", "-in", k, "-outform", "DER", "-out", der,
            NULL), ==, 0);
        g_assert_true (g_file_get_contents (der, &d, &n, NULL));
        g_assert_cmpuint (n, >, 1000);
        d[400] ^= 0x01;
        g_assert_true (g_file_set_contents (der, d, n, NULL));
        g_assert_cmpint (run (NULL, "openssl", "pkey", "-inform", "DER", "-in", der, "-out", k,
            NULL), ==, 0);
      }
      kt = read_text (k);
      ct = read_text (c);
      if (g_str_equal (bad[i].name, "enc"))
        g_assert_true (g_str_has_prefix (kt, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
      if (g_str_equal (bad[i].name, "enc-trad"))
        g_assert_nonnull (strstr (kt, "Proc-Type: 4,ENCRYPTED"));
      upload = g_strconcat (ct, kt, NULL);
      g_assert_false (install_text (state, upload, &err));
      g_assert_error (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID);
      g_test_message ("%s: %s", bad[i].name, err->message);
      g_assert_nonnull (strstr (err->message, bad[i].what));
      assert_no_key_material (err->message, k);
      g_clear_error (&err);
      assert_pair_is (state, cert_text, key_text);
    }
  }

  /* the request is still there */
  {
    g_autofree gchar *again = tcd_certs_get_request (state);
    g_assert_cmpstr (again, ==, req);
  }

  rm_rf (state);
}

static void
copy_file (const gchar *from, const gchar *to)
{
  g_autofree gchar *text = read_text (from);
  write_text (to, text);
}

/* A crash while a pair is replaced (install_pair's two renames) */
static void
test_cert_recover (void)
{
  g_autofree gchar *old_state = make_tmp_dir ();
  g_autofree gchar *new_state = make_tmp_dir ();
  g_autofree gchar *old_cert = tls_file (old_state, "cert.pem");
  g_autofree gchar *old_key = tls_file (old_state, "key.pem");
  g_autofree gchar *new_cert = tls_file (new_state, "cert.pem");
  g_autofree gchar *new_key = tls_file (new_state, "key.pem");
  g_autofree gchar *key_tmp = tls_file (old_state, "key.pem.new");
  g_autofree gchar *cert_tmp = tls_file (old_state, "cert.pem.new");
  g_autofree gchar *old_fp = NULL, *new_fp = NULL, *fp = NULL, *cert_path = NULL;
  TcdCertParams p = { .country = "DE", .host = "cam", .days = 5 };

  g_assert_true (tcd_certs_create_self_signed (old_state, &p, NULL));
  g_assert_true (tcd_certs_create_self_signed (new_state, &p, NULL));
  old_fp = openssl_fingerprint (old_cert);
  new_fp = openssl_fingerprint (new_cert);
  g_assert_cmpstr (old_fp, !=, new_fp);

  /* before the key's rename: the new files go, the old pair stays */
  copy_file (new_key, key_tmp);
  copy_file (new_cert, cert_tmp);
  g_assert_true (tcd_certs_installed (old_state, &cert_path, NULL));
  g_assert_false (g_file_test (key_tmp, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (cert_tmp, G_FILE_TEST_EXISTS));
  fp = openssl_fingerprint (old_cert);
  g_assert_cmpstr (fp, ==, old_fp);

  /* after it: the new key in place, the old certificate does not match it;
   * the new certificate is put in place */
  copy_file (new_key, old_key);
  copy_file (new_cert, cert_tmp);
  g_assert_true (tcd_certs_installed (old_state, NULL, NULL));
  g_assert_false (g_file_test (cert_tmp, G_FILE_TEST_EXISTS));
  g_clear_pointer (&fp, g_free);
  fp = openssl_fingerprint (old_cert);
  g_assert_cmpstr (fp, ==, new_fp);

  /* a key and a certificate that do not match are no pair */
  {
    g_autoptr (JsonNode) info = NULL;
    TcdCertParams q = { .country = "DE", .host = "other", .days = 5 };
    g_autofree gchar *third = make_tmp_dir ();
    g_autofree gchar *third_key = tls_file (third, "key.pem");

    g_assert_true (tcd_certs_create_self_signed (third, &q, NULL));
    copy_file (third_key, old_key);
    g_assert_false (tcd_certs_installed (old_state, NULL, NULL));
    info = tcd_certs_info (old_state);
    g_assert_null (info);
    rm_rf (third);
  }

  rm_rf (old_state);
  rm_rf (new_state);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/crypt/roundtrip", test_crypt_roundtrip);
  g_test_add_func ("/crypt/wrong-password", test_crypt_wrong_password);
  g_test_add_func ("/crypt/tamper", test_crypt_tamper);
  g_test_add_func ("/crypt/truncated", test_crypt_truncated);
  g_test_add_func ("/crypt/empty-password", test_crypt_empty_password);
  g_test_add_func ("/crypt/random", test_crypt_random);
  g_test_add_func ("/crypt/header", test_crypt_header);
  g_test_add_func ("/certs/params", test_cert_params);
  g_test_add_func ("/certs/self-signed", test_cert_self_signed);
  g_test_add_func ("/certs/hosts", test_cert_hosts);
  g_test_add_func ("/certs/curl", test_cert_curl);
  g_test_add_func ("/certs/request", test_cert_request);
  g_test_add_func ("/certs/with-key", test_cert_with_key);
  g_test_add_func ("/certs/recover", test_cert_recover);
  return g_test_run ();
}
