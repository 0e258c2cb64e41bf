/* thermocamd: HTTPS certificates (manual 10.12.5) with OpenSSL
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Three ways to a certificate for the web server: a self-signed one made
 * here; a certificate request (PKCS#10) that an outside CA signs and that is
 * then installed; or a certificate uploaded together with its private key
 * (made elsewhere).  The keys made here are EC P-256 and never leave the
 * camera: a request carries only the public key, and the installed
 * certificate must match the request's key.  An uploaded key must be RSA
 * (2048 bits or more) or EC P-256/P-384, unencrypted, and match its
 * certificate.
 *
 * <state>/tls/ (0700):
 *   key.pem, cert.pem            the installed pair (cert.pem: leaf + chain)
 *   request-key.pem, request.pem a pending request (pending = both exist)
 *   key.pem.new, cert.pem.new    only while a pair is being replaced
 *
 * Every file is written atomically (temporary file, fsync, rename).  A pair
 * is two files, and there is no atomic rename of two files: see
 * tcd_certs_install_pair() for the order and tcd_certs_recover() for a
 * crash in between.
 *
 * No private key is ever logged or put into an error message; key material
 * in memory is wiped (secure-memory BIOs, OPENSSL_cleanse) after use.
 *
 * The parts of the module: tcd-certs-private.h.
 */
#include "tcd-certs-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <unistd.h>

G_DEFINE_QUARK (tcd-certs-error-quark, tcd_certs_error)

GMutex tcd_certs_lock;

/* ---- errors and files ---- */

/* @what, then the reason of OpenSSL's last error; empties OpenSSL's queue */
void
tcd_certs_set_ssl_error (GError **error, gint code, const gchar *what)
{
  unsigned long e = ERR_peek_last_error ();
  gchar reason[256];

  if (e) {
    ERR_error_string_n (e, reason, sizeof reason);
    g_set_error (error, TCD_CERTS_ERROR, code, "%s: %s", what, reason);
  } else {
    g_set_error_literal (error, TCD_CERTS_ERROR, code, what);
  }
  ERR_clear_error ();
}

gchar *
tcd_certs_tls_path (const gchar *state_dir, const gchar *name)
{
  return g_build_filename (state_dir, TLS_DIR, name, NULL);
}

gboolean
tcd_certs_ensure_dir (const gchar *state_dir, GError **error)
{
  g_autofree gchar *dir = g_build_filename (state_dir, TLS_DIR, NULL);

  /* the chmod for a directory made by someone else (a restored backup) */
  if (g_mkdir_with_parents (dir, 0700) != 0 || g_chmod (dir, 0700) != 0) {
    int e = errno;
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO, "cannot create %s: %s",
        dir, g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

/* Atomic and durable: a temporary file in the same directory, created with
 * @mode, fsync'ed, renamed over @path */
gboolean
tcd_certs_write_file (const gchar *path, const gchar *data, gsize len, int mode, GError **error)
{
  g_autoptr (GError) err = NULL;

  if (!g_file_set_contents_full (path, data, len,
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, mode, &err)) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO, "%s", err->message);
    return FALSE;
  }
  return TRUE;
}

gboolean
tcd_certs_remove_file (const gchar *path, GError **error)
{
  if (g_unlink (path) != 0 && errno != ENOENT) {
    int e = errno;
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO, "cannot remove %s: %s",
        path, g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

/* The renames made durable (best effort: the data itself is already synced) */
static void
sync_dir (const gchar *state_dir)
{
  g_autofree gchar *dir = g_build_filename (state_dir, TLS_DIR, NULL);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd >= 0) {
    fsync (fd);
    close (fd);
  }
}

/* Our keys are never encrypted, and we take no encrypted key: OpenSSL must
 * not ask on a terminal.  @u, when set, is a gboolean set when asked. */
int
tcd_certs_no_passphrase (char *buf, int size, int rwflag, void *u)
{
  if (u)
    *(gboolean *) u = TRUE;
  return -1;
}

/* ---- keys, certificates, requests in and out of PEM ---- */

/* The first private key of a PEM text (other blocks are skipped);
 * *encrypted set when it is encrypted.  OpenSSL's error queue is left as is. */
EVP_PKEY *
tcd_certs_parse_key (const gchar *data, gsize len, gboolean *encrypted)
{
  EVP_PKEY *key = NULL;
  BIO *bio;

  if (len <= G_MAXINT && (bio = BIO_new_mem_buf (data, (int) len))) {
    key = PEM_read_bio_PrivateKey (bio, NULL, tcd_certs_no_passphrase, encrypted);
    BIO_free (bio);
  }
  return key;
}

EVP_PKEY *
tcd_certs_read_key (const gchar *path)
{
  gchar *text = NULL;
  gsize len = 0;
  EVP_PKEY *key;

  if (!g_file_get_contents (path, &text, &len, NULL))
    return NULL;
  key = tcd_certs_parse_key (text, len, NULL);
  OPENSSL_cleanse (text, len);
  g_free (text);
  ERR_clear_error ();
  return key;
}

/* PKCS#8 PEM through a secure-memory BIO (wiped when freed), straight to disk */
gboolean
tcd_certs_write_key (const gchar *path, EVP_PKEY *key, GError **error)
{
  BIO *bio = BIO_new (BIO_s_secmem ());
  char *data = NULL;
  long len;
  gboolean ok;

  if (!bio || !PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL)
      || (len = BIO_get_mem_data (bio, &data)) <= 0) {
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot encode the key");
    BIO_free (bio);
    return FALSE;
  }
  ok = tcd_certs_write_file (path, data, len, 0600, error);
  BIO_free (bio);
  return ok;
}

gchar *
tcd_certs_bio_to_string (BIO *bio, gsize *len)
{
  char *data = NULL;
  long n = BIO_get_mem_data (bio, &data);

  if (n < 0)
    n = 0;
  if (len)
    *len = n;
  return g_strndup (data, n);
}

/* The first certificate of a PEM file */
X509 *
tcd_certs_read_cert (const gchar *path)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;
  X509 *x = NULL;
  BIO *bio;

  if (!g_file_get_contents (path, &text, &len, NULL))
    return NULL;
  if (len <= G_MAXINT && (bio = BIO_new_mem_buf (text, (int) len))) {
    x = PEM_read_bio_X509 (bio, NULL, tcd_certs_no_passphrase, NULL);
    BIO_free (bio);
  }
  ERR_clear_error ();
  return x;
}

X509_REQ *
tcd_certs_read_request (const gchar *path)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;
  X509_REQ *req = NULL;
  BIO *bio;

  if (!g_file_get_contents (path, &text, &len, NULL))
    return NULL;
  if (len <= G_MAXINT && (bio = BIO_new_mem_buf (text, (int) len))) {
    req = PEM_read_bio_X509_REQ (bio, NULL, tcd_certs_no_passphrase, NULL);
    BIO_free (bio);
  }
  ERR_clear_error ();
  return req;
}

/* ---- the installed pair ---- */

/* @x is for the key in @key_path */
gboolean
tcd_certs_pair_matches_key (X509 *x, const gchar *key_path)
{
  EVP_PKEY *key = tcd_certs_read_key (key_path);
  gboolean ok = key && X509_check_private_key (x, key) == 1;

  ERR_clear_error ();
  EVP_PKEY_free (key);
  return ok;
}

static gboolean
pair_matches (const gchar *cert_path, const gchar *key_path)
{
  X509 *x = tcd_certs_read_cert (cert_path);
  gboolean ok = x && tcd_certs_pair_matches_key (x, key_path);

  X509_free (x);
  return ok;
}

gboolean
tcd_certs_pair_installed (const gchar *state_dir)
{
  g_autofree gchar *cert = tcd_certs_tls_path (state_dir, CERT_FILE);
  g_autofree gchar *key = tcd_certs_tls_path (state_dir, KEY_FILE);

  return pair_matches (cert, key);
}

gboolean
tcd_certs_request_pending (const gchar *state_dir)
{
  g_autofree gchar *req = tcd_certs_tls_path (state_dir, REQ_FILE);
  g_autofree gchar *key = tcd_certs_tls_path (state_dir, REQ_KEY_FILE);

  return g_file_test (req, G_FILE_TEST_IS_REGULAR) && g_file_test (key, G_FILE_TEST_IS_REGULAR);
}

/* Replaces the installed pair.  Both new files are written in full first
 * (key.pem.new, cert.pem.new), then renamed: the key, then the certificate.
 * Between the two renames (microseconds) a reader that does not hold our
 * lock (the TLS library loading the files by path) may see the new key with
 * the old certificate; they do not match, tcd_certs_installed() says there
 * is no pair, and the reader fails instead of serving a wrong pair.  A crash
 * there leaves key.pem new, cert.pem old and cert.pem.new:
 * tcd_certs_recover() finishes the job. */
gboolean
tcd_certs_install_pair (const gchar *state_dir, EVP_PKEY *key, const gchar *cert_pem,
                        gsize cert_len, GError **error)
{
  g_autofree gchar *key_path = tcd_certs_tls_path (state_dir, KEY_FILE);
  g_autofree gchar *cert_path = tcd_certs_tls_path (state_dir, CERT_FILE);
  g_autofree gchar *key_new = tcd_certs_tls_path (state_dir, KEY_FILE NEW_SUFFIX);
  g_autofree gchar *cert_new = tcd_certs_tls_path (state_dir, CERT_FILE NEW_SUFFIX);

  if (!tcd_certs_ensure_dir (state_dir, error))
    return FALSE;
  /* key first: while key.pem.new exists, the swap has not begun
   * (tcd_certs_recover) */
  if (!tcd_certs_write_key (key_new, key, error)
      || !tcd_certs_write_file (cert_new, cert_pem, cert_len, 0644, error)) {
    g_unlink (cert_new);
    g_unlink (key_new);
    return FALSE;
  }
  if (g_rename (key_new, key_path) != 0) {
    int e = errno;
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO, "cannot rename %s: %s",
        key_new, g_strerror (e));
    g_unlink (cert_new);
    g_unlink (key_new);
    return FALSE;
  }
  if (g_rename (cert_new, cert_path) != 0) {
    int e = errno;
    /* the old certificate's key is gone: tcd_certs_recover() retries the rename */
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO, "cannot rename %s: %s",
        cert_new, g_strerror (e));
    return FALSE;
  }
  sync_dir (state_dir);
  return TRUE;
}

/* After a crash (or a failed rename) in tcd_certs_install_pair(): before
 * the key's rename the old pair is intact and the new files go; after it the
 * new certificate is put in place (if it is the new key's) */
void
tcd_certs_recover (const gchar *state_dir)
{
  g_autofree gchar *key_path = tcd_certs_tls_path (state_dir, KEY_FILE);
  g_autofree gchar *cert_path = tcd_certs_tls_path (state_dir, CERT_FILE);
  g_autofree gchar *key_new = tcd_certs_tls_path (state_dir, KEY_FILE NEW_SUFFIX);
  g_autofree gchar *cert_new = tcd_certs_tls_path (state_dir, CERT_FILE NEW_SUFFIX);

  if (g_file_test (key_new, G_FILE_TEST_EXISTS)) {
    g_unlink (key_new);
    g_unlink (cert_new);
  } else if (g_file_test (cert_new, G_FILE_TEST_EXISTS)) {
    if (pair_matches (cert_new, key_path) && g_rename (cert_new, cert_path) == 0) {
      g_message ("%s: completed an interrupted certificate installation", cert_path);
      sync_dir (state_dir);
    } else {
      g_unlink (cert_new);
    }
  }
}

/* ---- the API ---- */

gchar *
tcd_certs_get_request (const gchar *state_dir)
{
  g_autofree gchar *path = tcd_certs_tls_path (state_dir, REQ_FILE);
  gchar *pem = NULL;

  g_mutex_lock (&tcd_certs_lock);
  if (tcd_certs_request_pending (state_dir) && !g_file_get_contents (path, &pem, NULL, NULL))
    pem = NULL;
  g_mutex_unlock (&tcd_certs_lock);
  return pem;
}

gboolean
tcd_certs_delete (const gchar *state_dir, GError **error)
{
  static const gchar *const files[] = {
    CERT_FILE, KEY_FILE, REQ_FILE, REQ_KEY_FILE, CERT_FILE NEW_SUFFIX, KEY_FILE NEW_SUFFIX,
  };
  gboolean ok = TRUE;

  g_mutex_lock (&tcd_certs_lock);
  /* all of them, even after a failure; the first failure is reported */
  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    g_autofree gchar *path = tcd_certs_tls_path (state_dir, files[i]);
    if (!tcd_certs_remove_file (path, ok ? error : NULL))
      ok = FALSE;
  }
  g_mutex_unlock (&tcd_certs_lock);
  return ok;
}

gboolean
tcd_certs_installed (const gchar *state_dir, gchar **cert_path, gchar **key_path)
{
  gboolean ok;

  g_mutex_lock (&tcd_certs_lock);
  tcd_certs_recover (state_dir);
  ok = tcd_certs_pair_installed (state_dir);
  g_mutex_unlock (&tcd_certs_lock);
  if (cert_path)
    *cert_path = ok ? tcd_certs_tls_path (state_dir, CERT_FILE) : NULL;
  if (key_path)
    *key_path = ok ? tcd_certs_tls_path (state_dir, KEY_FILE) : NULL;
  return ok;
}

