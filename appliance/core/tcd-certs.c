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
 * install_pair() for the order and recover() for a crash in between.
 *
 * No private key is ever logged or put into an error message; key material
 * in memory is wiped (secure-memory BIOs, OPENSSL_cleanse) after use.
 */
#include "tcd-certs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

G_DEFINE_QUARK (tcd-certs-error-quark, tcd_certs_error)

#define TLS_DIR "tls"
#define KEY_FILE "key.pem"
#define CERT_FILE "cert.pem"
#define REQ_KEY_FILE "request-key.pem"
#define REQ_FILE "request.pem"
#define NEW_SUFFIX ".new"

#define MAX_DAYS 3650
#define MAX_HOST 253            /* a DNS name in text form */
#define MAX_LABEL 63
#define MAX_FIELD 64            /* characters, within the X.520 upper bounds */
#define MAX_CN 64               /* ub-common-name */
#define MAX_UPLOAD (1024 * 1024)

/* The files are shared by whoever calls us (HTTP handlers, the HTTPS server
 * set-up), possibly from different threads: one lock for all of it, so that
 * no one sees a pair half replaced by this process. */
static GMutex lock;

/* ---- errors and files ---- */

/* @what, then the reason of OpenSSL's last error; empties OpenSSL's queue */
static void
set_ssl_error (GError **error, gint code, const gchar *what)
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

static gchar *
tls_path (const gchar *state_dir, const gchar *name)
{
  return g_build_filename (state_dir, TLS_DIR, name, NULL);
}

static gboolean
ensure_dir (const gchar *state_dir, GError **error)
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
static gboolean
write_file (const gchar *path, const gchar *data, gsize len, int mode, GError **error)
{
  g_autoptr (GError) err = NULL;

  if (!g_file_set_contents_full (path, data, len,
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, mode, &err)) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO, "%s", err->message);
    return FALSE;
  }
  return TRUE;
}

static gboolean
remove_file (const gchar *path, GError **error)
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
static int
no_passphrase (char *buf, int size, int rwflag, void *u)
{
  if (u)
    *(gboolean *) u = TRUE;
  return -1;
}

/* ---- keys, certificates, requests in and out of PEM ---- */

static EVP_PKEY *
new_key (GError **error)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");

  if (!key)
    set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot create a key");
  return key;
}

/* The first private key of a PEM text (other blocks are skipped);
 * *encrypted set when it is encrypted.  OpenSSL's error queue is left as is. */
static EVP_PKEY *
parse_key (const gchar *data, gsize len, gboolean *encrypted)
{
  EVP_PKEY *key = NULL;
  BIO *bio;

  if (len <= G_MAXINT && (bio = BIO_new_mem_buf (data, (int) len))) {
    key = PEM_read_bio_PrivateKey (bio, NULL, no_passphrase, encrypted);
    BIO_free (bio);
  }
  return key;
}

static EVP_PKEY *
read_key (const gchar *path)
{
  gchar *text = NULL;
  gsize len = 0;
  EVP_PKEY *key;

  if (!g_file_get_contents (path, &text, &len, NULL))
    return NULL;
  key = parse_key (text, len, NULL);
  OPENSSL_cleanse (text, len);
  g_free (text);
  ERR_clear_error ();
  return key;
}

/* PKCS#8 PEM through a secure-memory BIO (wiped when freed), straight to disk */
static gboolean
write_key (const gchar *path, EVP_PKEY *key, GError **error)
{
  BIO *bio = BIO_new (BIO_s_secmem ());
  char *data = NULL;
  long len;
  gboolean ok;

  if (!bio || !PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL)
      || (len = BIO_get_mem_data (bio, &data)) <= 0) {
    set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot encode the key");
    BIO_free (bio);
    return FALSE;
  }
  ok = write_file (path, data, len, 0600, error);
  BIO_free (bio);
  return ok;
}

static gchar *
bio_to_string (BIO *bio, gsize *len)
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
static X509 *
read_cert (const gchar *path)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;
  X509 *x = NULL;
  BIO *bio;

  if (!g_file_get_contents (path, &text, &len, NULL))
    return NULL;
  if (len <= G_MAXINT && (bio = BIO_new_mem_buf (text, (int) len))) {
    x = PEM_read_bio_X509 (bio, NULL, no_passphrase, NULL);
    BIO_free (bio);
  }
  ERR_clear_error ();
  return x;
}

static X509_REQ *
read_request (const gchar *path)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;
  X509_REQ *req = NULL;
  BIO *bio;

  if (!g_file_get_contents (path, &text, &len, NULL))
    return NULL;
  if (len <= G_MAXINT && (bio = BIO_new_mem_buf (text, (int) len))) {
    req = PEM_read_bio_X509_REQ (bio, NULL, no_passphrase, NULL);
    BIO_free (bio);
  }
  ERR_clear_error ();
  return req;
}

/* All the certificates of an upload (PEM, or a single DER certificate as
 * some CAs hand out); anything else in a PEM text (a private key, comments)
 * is skipped and not kept (the key is upload_key()'s) */
static STACK_OF (X509) *
parse_certs (const gchar *data, gsize len, GError **error)
{
  STACK_OF (X509) *certs;
  X509 *x;
  BIO *bio;
  unsigned long e;

  if (len == 0 || len > MAX_UPLOAD) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        len ? "the certificate file is too large" : "the certificate is empty");
    return NULL;
  }
  certs = sk_X509_new_null ();
  ERR_clear_error ();

  if (!memmem (data, len, "-----BEGIN", 10)) {
    const unsigned char *p = (const unsigned char *) data;
    if ((x = d2i_X509 (NULL, &p, (long) len))) {
      sk_X509_push (certs, x);
      ERR_clear_error ();
      return certs;
    }
    set_ssl_error (error, TCD_CERTS_ERROR_INVALID, "not a certificate (PEM or DER)");
    sk_X509_free (certs);
    return NULL;
  }

  bio = BIO_new_mem_buf (data, (int) len);
  while (bio && (x = PEM_read_bio_X509 (bio, NULL, no_passphrase, NULL)))
    sk_X509_push (certs, x);
  BIO_free (bio);
  /* the loop ends at the end of the text ("no start line") or at a
   * certificate that cannot be read */
  e = ERR_peek_last_error ();
  if (sk_X509_num (certs) > 0
      && ERR_GET_LIB (e) == ERR_LIB_PEM && ERR_GET_REASON (e) == PEM_R_NO_START_LINE) {
    ERR_clear_error ();
    return certs;
  }
  if (sk_X509_num (certs) == 0 && ERR_GET_LIB (e) == ERR_LIB_PEM
      && ERR_GET_REASON (e) == PEM_R_NO_START_LINE) {
    ERR_clear_error ();
    g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        "no certificate in the text");
  } else {
    set_ssl_error (error, TCD_CERTS_ERROR_INVALID, "the certificate cannot be read");
  }
  sk_X509_pop_free (certs, X509_free);
  return NULL;
}

/* The "-----BEGIN ...PRIVATE KEY-----" lines of a PEM text (PKCS#8, plain
 * or encrypted, and the traditional RSA, EC, DSA ones) */
static guint
count_key_blocks (const gchar *data, gsize len)
{
  const gchar *end = data + len;
  const gchar *p = data;
  guint n = 0;

  while ((p = memmem (p, end - p, "-----BEGIN ", 11))) {
    const gchar *label = p + 11;
    const gchar *dash = memmem (label, end - label, "-----", 5);
    const gchar *nl = memchr (label, '\n', end - label);

    if (!dash)
      break;
    if ((!nl || dash < nl) && dash - label >= 11 && memcmp (dash - 11, "PRIVATE KEY", 11) == 0)
      n++;
    p = label;
  }
  return n;
}

/* What browsers and TLS libraries take: RSA of 2048 bits or more, or EC on
 * P-256 or P-384 (named curves only) */
static gboolean
check_key_type (EVP_PKEY *key, GError **error)
{
  char group[64];
  int nid;

  if (EVP_PKEY_is_a (key, "RSA")) {
    int bits = EVP_PKEY_get_bits (key);
    if (bits >= 2048)
      return TRUE;
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        "the private key is RSA of %d bits: at least 2048 are needed", bits);
    return FALSE;
  }
  if (EVP_PKEY_is_a (key, "EC")) {
    nid = EVP_PKEY_get_group_name (key, group, sizeof group, NULL) ? OBJ_sn2nid (group)
        : NID_undef;
    ERR_clear_error ();
    if (nid == NID_X9_62_prime256v1 || nid == NID_secp384r1)
      return TRUE;
    g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        "the private key is EC on a curve other than P-256 or P-384");
    return FALSE;
  }
  g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
      "the private key is %s: an RSA or EC key is needed",
      EVP_PKEY_get0_type_name (key) ? EVP_PKEY_get0_type_name (key) : "of an unknown type");
  return FALSE;
}

/* The private key of an upload (a certificate and its key made elsewhere),
 * checked: TRUE with *key NULL when the upload has none */
static gboolean
upload_key (const gchar *data, gsize len, EVP_PKEY **key, GError **error)
{
  gboolean encrypted = FALSE;
  EVP_PKEY_CTX *ctx;
  guint n;
  int ok;

  *key = NULL;
  /* too large: parse_certs says so */
  if (len > MAX_UPLOAD || (n = count_key_blocks (data, len)) == 0)
    return TRUE;
  if (n > 1) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        "the upload holds %u private keys: include only the certificate's", n);
    return FALSE;
  }
  ERR_clear_error ();
  if (!(*key = parse_key (data, len, &encrypted))) {
    if (encrypted) {
      ERR_clear_error ();
      g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
          "the private key is encrypted: upload it without a passphrase "
          "(openssl pkey -in key.pem -out plain-key.pem)");
    } else {
      set_ssl_error (error, TCD_CERTS_ERROR_INVALID, "the private key cannot be read");
    }
    return FALSE;
  }
  ERR_clear_error ();
  if (!check_key_type (*key, error))
    goto fail;
  /* the private half fits the public half (which is all the certificate's
   * match compares): a damaged key is refused here, not by the TLS server */
  ctx = EVP_PKEY_CTX_new_from_pkey (NULL, *key, NULL);
  ok = ctx ? EVP_PKEY_pairwise_check (ctx) : 0;
  EVP_PKEY_CTX_free (ctx);
  if (ok != 1) {
    set_ssl_error (error, TCD_CERTS_ERROR_INVALID, "the private key is not valid");
    goto fail;
  }
  return TRUE;

fail:
  g_clear_pointer (key, EVP_PKEY_free);
  return FALSE;
}

/* ---- the installed pair ---- */

/* @x is for the key in @key_path */
static gboolean
pair_matches_key (X509 *x, const gchar *key_path)
{
  EVP_PKEY *key = read_key (key_path);
  gboolean ok = key && X509_check_private_key (x, key) == 1;

  ERR_clear_error ();
  EVP_PKEY_free (key);
  return ok;
}

static gboolean
pair_matches (const gchar *cert_path, const gchar *key_path)
{
  X509 *x = read_cert (cert_path);
  gboolean ok = x && pair_matches_key (x, key_path);

  X509_free (x);
  return ok;
}

static gboolean
pair_installed (const gchar *state_dir)
{
  g_autofree gchar *cert = tls_path (state_dir, CERT_FILE);
  g_autofree gchar *key = tls_path (state_dir, KEY_FILE);

  return pair_matches (cert, key);
}

static gboolean
request_pending (const gchar *state_dir)
{
  g_autofree gchar *req = tls_path (state_dir, REQ_FILE);
  g_autofree gchar *key = tls_path (state_dir, REQ_KEY_FILE);

  return g_file_test (req, G_FILE_TEST_IS_REGULAR) && g_file_test (key, G_FILE_TEST_IS_REGULAR);
}

/* Replaces the installed pair.  Both new files are written in full first
 * (key.pem.new, cert.pem.new), then renamed: the key, then the certificate.
 * Between the two renames (microseconds) a reader that does not hold our
 * lock (the TLS library loading the files by path) may see the new key with
 * the old certificate; they do not match, tcd_certs_installed() says there
 * is no pair, and the reader fails instead of serving a wrong pair.  A crash
 * there leaves key.pem new, cert.pem old and cert.pem.new: recover()
 * finishes the job. */
static gboolean
install_pair (const gchar *state_dir, EVP_PKEY *key, const gchar *cert_pem, gsize cert_len,
              GError **error)
{
  g_autofree gchar *key_path = tls_path (state_dir, KEY_FILE);
  g_autofree gchar *cert_path = tls_path (state_dir, CERT_FILE);
  g_autofree gchar *key_new = tls_path (state_dir, KEY_FILE NEW_SUFFIX);
  g_autofree gchar *cert_new = tls_path (state_dir, CERT_FILE NEW_SUFFIX);

  if (!ensure_dir (state_dir, error))
    return FALSE;
  /* key first: while key.pem.new exists, the swap has not begun (recover) */
  if (!write_key (key_new, key, error)
      || !write_file (cert_new, cert_pem, cert_len, 0644, error)) {
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
    /* the old certificate's key is gone: recover() retries the rename */
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO, "cannot rename %s: %s",
        cert_new, g_strerror (e));
    return FALSE;
  }
  sync_dir (state_dir);
  return TRUE;
}

/* After a crash (or a failed rename) in install_pair(): before the key's
 * rename the old pair is intact and the new files go; after it the new
 * certificate is put in place (if it is the new key's) */
static void
recover (const gchar *state_dir)
{
  g_autofree gchar *key_path = tls_path (state_dir, KEY_FILE);
  g_autofree gchar *cert_path = tls_path (state_dir, CERT_FILE);
  g_autofree gchar *key_new = tls_path (state_dir, KEY_FILE NEW_SUFFIX);
  g_autofree gchar *cert_new = tls_path (state_dir, CERT_FILE NEW_SUFFIX);

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

/* ---- parameters, names, extensions ---- */

/* An IP address literal as the 4 or 16 bytes of an iPAddress name; NULL for
 * anything else (IPv6 zone ids too: they mean nothing in a certificate) */
static ASN1_OCTET_STRING *
host_ip (const gchar *host)
{
  ASN1_OCTET_STRING *ip;

  if (!g_hostname_is_ip_address (host))
    return NULL;
  ip = a2i_IPADDRESS (host);
  ERR_clear_error ();
  return ip;
}

/* RFC 1123 host name: labels of letters, digits and inner hyphens; the last
 * one not all digits (that would be a mistyped IPv4 address) */
static gboolean
is_dns_name (const gchar *host)
{
  g_auto (GStrv) labels = g_strsplit (host, ".", -1);
  gboolean digits = TRUE;

  for (guint i = 0; labels[i]; i++) {
    const gchar *l = labels[i];
    gsize n = strlen (l);

    if (n < 1 || n > MAX_LABEL || l[0] == '-' || l[n - 1] == '-')
      return FALSE;
    digits = TRUE;
    for (const gchar *c = l; *c; c++) {
      if (!g_ascii_isalnum (*c) && *c != '-')
        return FALSE;
      if (!g_ascii_isdigit (*c))
        digits = FALSE;
    }
  }
  return !digits;
}

/* Optional text for the subject: at most MAX_FIELD printable characters */
static gboolean
is_text_ok (const gchar *s)
{
  if (!g_utf8_validate (s, -1, NULL) || g_utf8_strlen (s, -1) > MAX_FIELD)
    return FALSE;
  for (const gchar *c = s; *c; c = g_utf8_next_char (c))
    if (!g_unichar_isprint (g_utf8_get_char (c)))
      return FALSE;
  return TRUE;
}

/* emailAddress is an IA5String: ASCII, and something that looks like an address */
static gboolean
is_email_ok (const gchar *s)
{
  const gchar *at = strchr (s, '@');

  if (strlen (s) > MAX_FIELD || !at || at == s || !at[1] || strchr (at + 1, '@'))
    return FALSE;
  for (const gchar *c = s; *c; c++)
    if (!g_ascii_isgraph (*c))
      return FALSE;
  return TRUE;
}

static gboolean
param_error (const gchar **field, const gchar *name, GError **error, const gchar *message)
{
  if (field)
    *field = name;
  g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID, message);
  return FALSE;
}

static gboolean
is_set (const gchar *s)
{
  return s && *s;
}

gboolean
tcd_cert_params_check (const TcdCertParams *p, gboolean need_days, const gchar **field,
                       GError **error)
{
  ASN1_OCTET_STRING *ip;

  g_return_val_if_fail (p != NULL, FALSE);
  if (field)
    *field = NULL;
  if (!p->country || strlen (p->country) != 2
      || !g_ascii_isalpha (p->country[0]) || !g_ascii_isalpha (p->country[1]))
    return param_error (field, "country", error,
        "the country must be a two-letter code (ISO 3166), like DE");
  if (!is_set (p->host))
    return param_error (field, "host", error, "the host name or IP address is missing");
  if (strlen (p->host) > MAX_HOST)
    return param_error (field, "host", error,
        "the host name is too long (at most 253 characters)");
  if ((ip = host_ip (p->host)))
    ASN1_OCTET_STRING_free (ip);
  else if (!is_dns_name (p->host))
    return param_error (field, "host", error,
        "the host must be an IP address or a host name (letters, digits, hyphens, "
        "dots; labels of 1 to 63 characters)");
  if (need_days && (p->days < 1 || p->days > MAX_DAYS))
    return param_error (field, "days", error,
        "the validity must be 1 to 3650 days");
  if (is_set (p->organization) && !is_text_ok (p->organization))
    return param_error (field, "organization", error,
        "the organization must be at most 64 printable characters");
  if (is_set (p->state) && !is_text_ok (p->state))
    return param_error (field, "state", error,
        "the state or province must be at most 64 printable characters");
  if (is_set (p->locality) && !is_text_ok (p->locality))
    return param_error (field, "locality", error,
        "the locality must be at most 64 printable characters");
  if (is_set (p->email) && !is_email_ok (p->email))
    return param_error (field, "email", error,
        "the e-mail address must be an ASCII address of at most 64 characters");
  return TRUE;
}

static gboolean
add_name_entry (X509_NAME *name, const gchar *field, const gchar *value)
{
  if (!is_set (value))
    return TRUE;
  return X509_NAME_add_entry_by_txt (name, field, MBSTRING_UTF8,
      (const unsigned char *) value, -1, -1, 0) == 1;
}

/* C, ST, L, O, CN, emailAddress.  The CN is the host, unless longer than
 * X.520 allows for a CN (64): then the subjectAltName alone names the host,
 * which is all TLS clients look at anyway. */
static X509_NAME *
make_name (const TcdCertParams *p, GError **error)
{
  X509_NAME *name = X509_NAME_new ();
  g_autofree gchar *country = g_ascii_strup (p->country, -1);

  if (!name || !add_name_entry (name, "C", country)
      || !add_name_entry (name, "ST", p->state)
      || !add_name_entry (name, "L", p->locality)
      || !add_name_entry (name, "O", p->organization)
      || (strlen (p->host) <= MAX_CN && !add_name_entry (name, "CN", p->host))
      || !add_name_entry (name, "emailAddress", p->email)) {
    set_ssl_error (error, TCD_CERTS_ERROR_INVALID, "cannot make the certificate's name");
    X509_NAME_free (name);
    return NULL;
  }
  return name;
}

/* subjectAltName: DNS:host or IP:host */
static GENERAL_NAMES *
make_san (const gchar *host)
{
  GENERAL_NAMES *names = sk_GENERAL_NAME_new_null ();
  GENERAL_NAME *gn = GENERAL_NAME_new ();
  ASN1_OCTET_STRING *ip = host_ip (host);

  if (!names || !gn)
    goto fail;
  if (ip) {
    GENERAL_NAME_set0_value (gn, GEN_IPADD, ip);
  } else {
    ASN1_IA5STRING *dns = ASN1_IA5STRING_new ();
    if (!dns || !ASN1_STRING_set (dns, host, -1)) {
      ASN1_IA5STRING_free (dns);
      goto fail;
    }
    GENERAL_NAME_set0_value (gn, GEN_DNS, dns);
  }
  if (!sk_GENERAL_NAME_push (names, gn))
    goto fail;
  return names;

fail:
  GENERAL_NAME_free (gn);
  GENERAL_NAMES_free (names);
  return NULL;
}

/* An extension from its openssl.cnf text (constant texts only) */
static X509_EXTENSION *
conf_ext (X509V3_CTX *ctx, int nid, const char *value)
{
  return X509V3_EXT_conf_nid (NULL, ctx, nid, value);
}

static gboolean
add_cert_ext (X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
  X509_EXTENSION *ext = conf_ext (ctx, nid, value);
  gboolean ok = ext && X509_add_ext (x, ext, -1) == 1;

  X509_EXTENSION_free (ext);
  return ok;
}

static gboolean
push_ext (STACK_OF (X509_EXTENSION) *exts, X509_EXTENSION *ext)
{
  if (ext && sk_X509_EXTENSION_push (exts, ext) > 0)
    return TRUE;
  X509_EXTENSION_free (ext);
  return FALSE;
}

/* A positive 128-bit random serial (RFC 5280: unique per CA, at most 20
 * octets; random, so that two self-signed certificates of this camera never
 * share one) */
static gboolean
set_random_serial (X509 *x)
{
  guint8 b[16];
  BIGNUM *bn = NULL;
  gboolean ok;

  do {
    BN_free (bn);
    if (RAND_bytes (b, sizeof b) != 1)
      return FALSE;
    bn = BN_bin2bn (b, sizeof b, NULL);
  } while (bn && BN_is_zero (bn));
  ok = bn && BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (x)) != NULL;
  BN_free (bn);
  return ok;
}

/* ---- what a certificate says (info) ---- */

/* "C=DE, O=Acme, CN=cam.example" in UTF-8 */
static gchar *
name_string (const X509_NAME *name)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | ASN1_STRFLGS_ESC_QUOTE
      | (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  g_autofree gchar *s = NULL;
  gsize len = 0;

  if (!bio)
    return g_strdup ("");
  X509_NAME_print_ex (bio, name, 0, flags);
  s = bio_to_string (bio, &len);
  BIO_free (bio);
  return g_utf8_make_valid (s, len);
}

/* ISO 8601 UTC, like "2026-01-31T12:00:00Z" */
static gchar *
time_string (const ASN1_TIME *t)
{
  struct tm tm;
  g_autoptr (GDateTime) dt = NULL;

  if (!t || !ASN1_TIME_to_tm (t, &tm))
    return NULL;
  dt = g_date_time_new_utc (tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
      tm.tm_hour, tm.tm_min, tm.tm_sec);
  return dt ? g_date_time_format_iso8601 (dt) : NULL;
}

static void
add_string (JsonBuilder *b, const gchar *member, const gchar *value)
{
  json_builder_set_member_name (b, member);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

/* The DNS names and IP addresses of a subjectAltName */
static void
add_hosts (JsonBuilder *b, const GENERAL_NAMES *names)
{
  json_builder_set_member_name (b, "hosts");
  json_builder_begin_array (b);
  for (int i = 0; names && i < sk_GENERAL_NAME_num (names); i++) {
    const GENERAL_NAME *gn = sk_GENERAL_NAME_value (names, i);
    int type;
    const ASN1_STRING *s = GENERAL_NAME_get0_value (gn, &type);
    const guint8 *d = ASN1_STRING_get0_data (s);
    int n = ASN1_STRING_length (s);
    gchar addr[INET6_ADDRSTRLEN];

    if (type == GEN_DNS) {
      g_autofree gchar *dns = g_utf8_make_valid ((const gchar *) d, n);
      json_builder_add_string_value (b, dns);
    } else if (type == GEN_IPADD && (n == 4 || n == 16)
               && inet_ntop (n == 4 ? AF_INET : AF_INET6, d, addr, sizeof addr)) {
      json_builder_add_string_value (b, addr);
    }
  }
  json_builder_end_array (b);
}

static void
add_cert_info (JsonBuilder *b, X509 *x)
{
  g_autofree gchar *subject = name_string (X509_get_subject_name (x));
  g_autofree gchar *issuer = name_string (X509_get_issuer_name (x));
  g_autofree gchar *not_before = time_string (X509_get0_notBefore (x));
  g_autofree gchar *not_after = time_string (X509_get0_notAfter (x));
  BIGNUM *bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (x), NULL);
  char *serial = bn ? BN_bn2hex (bn) : NULL;
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  GString *fp = g_string_new (NULL);
  GENERAL_NAMES *names = X509_get_ext_d2i (x, NID_subject_alt_name, NULL, NULL);

  if (X509_digest (x, EVP_sha256 (), md, &mdlen) == 1)
    for (unsigned int i = 0; i < mdlen; i++)
      g_string_append_printf (fp, i ? ":%02X" : "%02X", md[i]);

  add_string (b, "subject", subject);
  add_string (b, "issuer", issuer);
  add_string (b, "not_before", not_before);
  add_string (b, "not_after", not_after);
  json_builder_set_member_name (b, "self_signed");
  /* issuer = subject, and its own key verifies the signature */
  json_builder_add_boolean_value (b, X509_self_signed (x, 1) == 1);
  add_string (b, "serial", serial);
  add_string (b, "sha256", fp->str);
  add_hosts (b, names);

  GENERAL_NAMES_free (names);
  OPENSSL_free (serial);
  BN_free (bn);
  g_string_free (fp, TRUE);
  ERR_clear_error ();
}

static void
add_request_info (JsonBuilder *b, X509_REQ *req)
{
  g_autofree gchar *subject = name_string (X509_REQ_get_subject_name (req));
  STACK_OF (X509_EXTENSION) *exts = X509_REQ_get_extensions (req);
  GENERAL_NAMES *names = exts ? X509V3_get_d2i (exts, NID_subject_alt_name, NULL, NULL) : NULL;

  add_string (b, "subject", subject);
  add_hosts (b, names);
  GENERAL_NAMES_free (names);
  sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
  ERR_clear_error ();
}

/* ---- the API ---- */

gboolean
tcd_certs_create_self_signed (const gchar *state_dir, const TcdCertParams *p, GError **error)
{
  EVP_PKEY *key = NULL;
  X509 *x = NULL;
  X509_NAME *name = NULL;
  GENERAL_NAMES *san = NULL;
  BIO *bio = NULL;
  X509V3_CTX ctx;
  g_autofree gchar *pem = NULL;
  gsize len = 0;
  gboolean ok = FALSE;

  if (!tcd_cert_params_check (p, TRUE, NULL, error) || !(key = new_key (error))
      || !(name = make_name (p, error)))
    goto out;

  x = X509_new ();
  san = make_san (p->host);
  if (!x || !san
      || !X509_set_version (x, X509_VERSION_3)
      || !set_random_serial (x)
      || !X509_set_subject_name (x, name)
      || !X509_set_issuer_name (x, name)
      /* a minute back: a client whose clock is slightly behind */
      || !X509_gmtime_adj (X509_getm_notBefore (x), -60)
      || !X509_time_adj_ex (X509_getm_notAfter (x), p->days, 0, NULL)
      || !X509_set_pubkey (x, key)) {
    set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot make the certificate");
    goto out;
  }

  /* A server certificate, not a CA: CA:FALSE.  OpenSSL (so curl, wget,
   * Python) still takes a self-signed CA:FALSE certificate as a trust anchor
   * (curl --cacert cert.pem), and browsers refuse a CA certificate used as a
   * server's ("CA cert used as end-entity").  keyUsage: digitalSignature
   * only, what TLS does with an ECDSA key (keyEncipherment is for RSA key
   * transport and not to be set for EC keys, RFC 5480 as clarified by
   * RFC 8813). */
  X509V3_set_ctx (&ctx, x, x, NULL, NULL, 0);
  if (!add_cert_ext (x, &ctx, NID_basic_constraints, "critical,CA:FALSE")
      || !add_cert_ext (x, &ctx, NID_key_usage, "critical,digitalSignature")
      || !add_cert_ext (x, &ctx, NID_ext_key_usage, "serverAuth")
      || X509_add1_ext_i2d (x, NID_subject_alt_name, san, 0, X509V3_ADD_DEFAULT) != 1
      || !add_cert_ext (x, &ctx, NID_subject_key_identifier, "hash")
      /* after the subjectKeyIdentifier: the issuer's (our own) is copied */
      || !add_cert_ext (x, &ctx, NID_authority_key_identifier, "keyid:always")) {
    set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot make the certificate's extensions");
    goto out;
  }
  if (X509_sign (x, key, EVP_sha256 ()) <= 0) {
    set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot sign the certificate");
    goto out;
  }
  bio = BIO_new (BIO_s_mem ());
  if (!bio || !PEM_write_bio_X509 (bio, x)) {
    set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot encode the certificate");
    goto out;
  }
  pem = bio_to_string (bio, &len);

  g_mutex_lock (&lock);
  recover (state_dir);
  ok = install_pair (state_dir, key, pem, len, error);
  g_mutex_unlock (&lock);

out:
  BIO_free (bio);
  GENERAL_NAMES_free (san);
  X509_NAME_free (name);
  X509_free (x);
  EVP_PKEY_free (key);
  return ok;
}

gchar *
tcd_certs_create_request (const gchar *state_dir, const TcdCertParams *p, GError **error)
{
  EVP_PKEY *key = NULL;
  X509_REQ *req = NULL;
  X509_NAME *name = NULL;
  GENERAL_NAMES *san = NULL;
  STACK_OF (X509_EXTENSION) *exts = NULL;
  BIO *bio = NULL;
  X509V3_CTX ctx;
  gchar *pem = NULL;
  gsize len = 0;

  if (!tcd_cert_params_check (p, FALSE, NULL, error) || !(key = new_key (error))
      || !(name = make_name (p, error)))
    goto out;

  req = X509_REQ_new ();
  san = make_san (p->host);
  exts = sk_X509_EXTENSION_new_null ();
  if (!req || !san || !exts
      || !X509_REQ_set_version (req, X509_REQ_VERSION_1)
      || !X509_REQ_set_subject_name (req, name)
      || !X509_REQ_set_pubkey (req, key)) {
    set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot make the certificate request");
    goto out;
  }
  /* What we ask the CA for: the host name, and a TLS server's usage */
  X509V3_set_ctx (&ctx, NULL, NULL, req, NULL, 0);
  if (!push_ext (exts, X509V3_EXT_i2d (NID_subject_alt_name, 0, san))
      || !push_ext (exts, conf_ext (&ctx, NID_key_usage, "critical,digitalSignature"))
      || !push_ext (exts, conf_ext (&ctx, NID_ext_key_usage, "serverAuth"))
      || !X509_REQ_add_extensions (req, exts)) {
    set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot make the request's extensions");
    goto out;
  }
  if (X509_REQ_sign (req, key, EVP_sha256 ()) <= 0) {
    set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot sign the certificate request");
    goto out;
  }
  bio = BIO_new (BIO_s_mem ());
  if (!bio || !PEM_write_bio_X509_REQ (bio, req)) {
    set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot encode the certificate request");
    goto out;
  }
  pem = bio_to_string (bio, &len);

  g_mutex_lock (&lock);
  {
    g_autofree gchar *req_path = tls_path (state_dir, REQ_FILE);
    g_autofree gchar *key_path = tls_path (state_dir, REQ_KEY_FILE);

    /* The request file says "pending": it goes first and comes last, so an
     * old request is never taken with the new key */
    if (!ensure_dir (state_dir, error) || !remove_file (req_path, error)
        || !write_key (key_path, key, error)
        || !write_file (req_path, pem, len, 0644, error))
      g_clear_pointer (&pem, g_free);
  }
  g_mutex_unlock (&lock);

out:
  BIO_free (bio);
  sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
  GENERAL_NAMES_free (san);
  X509_NAME_free (name);
  X509_REQ_free (req);
  EVP_PKEY_free (key);
  return pem;
}

gchar *
tcd_certs_get_request (const gchar *state_dir)
{
  g_autofree gchar *path = tls_path (state_dir, REQ_FILE);
  gchar *pem = NULL;

  g_mutex_lock (&lock);
  if (request_pending (state_dir) && !g_file_get_contents (path, &pem, NULL, NULL))
    pem = NULL;
  g_mutex_unlock (&lock);
  return pem;
}

gboolean
tcd_certs_install (const gchar *state_dir, const gchar *pem, gsize len, GError **error)
{
  g_autofree gchar *req_path = tls_path (state_dir, REQ_FILE);
  g_autofree gchar *req_key_path = tls_path (state_dir, REQ_KEY_FILE);
  STACK_OF (X509) *certs = NULL;
  EVP_PKEY *key = NULL;
  BIO *bio = NULL;
  X509 *leaf;
  g_autofree gchar *text = NULL;
  gsize text_len = 0;
  gboolean with_key;
  int expired;
  gboolean ok = FALSE;

  /* a key in the upload is the key; none: the pending request's */
  if (!upload_key (pem, len, &key, error))
    return FALSE;
  with_key = key != NULL;

  g_mutex_lock (&lock);
  recover (state_dir);
  if (!with_key && !request_pending (state_dir)) {
    g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_NO_REQUEST,
        "there is no pending certificate request: create one, have it signed, "
        "then install the certificate; or upload the certificate together with "
        "its private key");
    goto out;
  }
  if (!with_key && !(key = read_key (req_key_path))) {
    g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO,
        "the key of the certificate request cannot be read");
    goto out;
  }
  if (!(certs = parse_certs (pem, len, error)))
    goto out;

  /* the first certificate is ours, the others its chain to the CA */
  leaf = sk_X509_value (certs, 0);
  if (X509_check_private_key (leaf, key) != 1) {
    ERR_clear_error ();
    if (!with_key) {
      g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_MISMATCH,
          "the certificate is not for the key of the pending request (signed from "
          "another request?)");
    } else if (request_pending (state_dir) && pair_matches_key (leaf, req_key_path)) {
      g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_MISMATCH,
          "the certificate is not for the private key in the upload (it is for the "
          "pending request's key: upload the certificate without a key)");
    } else {
      g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_MISMATCH,
          "the certificate is not for the private key in the upload (the first "
          "certificate must be the server's own, its chain after it)");
    }
    goto out;
  }
  /* Expired: refused.  Not yet valid: taken (the camera's clock may be
   * behind, and the certificate will become valid by itself). */
  expired = X509_cmp_current_time (X509_get0_notAfter (leaf));
  if (expired <= 0) {
    g_autofree gchar *when = time_string (X509_get0_notAfter (leaf));
    if (expired == 0 || !when)
      g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
          "the certificate's validity cannot be read");
    else
      g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
          "the certificate has expired (valid until %s)", when);
    ERR_clear_error ();
    goto out;
  }

  /* cert.pem: the certificates only, re-encoded (whatever else the upload
   * held stays out) */
  bio = BIO_new (BIO_s_mem ());
  for (int i = 0; bio && i < sk_X509_num (certs); i++)
    if (!PEM_write_bio_X509 (bio, sk_X509_value (certs, i))) {
      set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot encode the certificate");
      goto out;
    }
  if (!bio) {
    set_ssl_error (error, TCD_CERTS_ERROR_IO, "out of memory");
    goto out;
  }
  text = bio_to_string (bio, &text_len);
  if (!install_pair (state_dir, key, text, text_len, error))
    goto out;

  /* the request is done; the pair is in place whatever happens here.  An
   * uploaded key leaves a pending request alone (its CA may still answer). */
  if (!with_key) {
    g_autoptr (GError) err = NULL;
    if (!remove_file (req_path, &err) || !remove_file (req_key_path, &err))
      g_warning ("%s", err->message);
  }
  ok = TRUE;

out:
  g_mutex_unlock (&lock);
  BIO_free (bio);
  sk_X509_pop_free (certs, X509_free);
  EVP_PKEY_free (key);
  return ok;
}

gboolean
tcd_certs_delete (const gchar *state_dir, GError **error)
{
  static const gchar *const files[] = {
    CERT_FILE, KEY_FILE, REQ_FILE, REQ_KEY_FILE, CERT_FILE NEW_SUFFIX, KEY_FILE NEW_SUFFIX,
  };
  gboolean ok = TRUE;

  g_mutex_lock (&lock);
  /* all of them, even after a failure; the first failure is reported */
  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    g_autofree gchar *path = tls_path (state_dir, files[i]);
    if (!remove_file (path, ok ? error : NULL))
      ok = FALSE;
  }
  g_mutex_unlock (&lock);
  return ok;
}

gboolean
tcd_certs_installed (const gchar *state_dir, gchar **cert_path, gchar **key_path)
{
  gboolean ok;

  g_mutex_lock (&lock);
  recover (state_dir);
  ok = pair_installed (state_dir);
  g_mutex_unlock (&lock);
  if (cert_path)
    *cert_path = ok ? tls_path (state_dir, CERT_FILE) : NULL;
  if (key_path)
    *key_path = ok ? tls_path (state_dir, KEY_FILE) : NULL;
  return ok;
}

JsonNode *
tcd_certs_info (const gchar *state_dir)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *cert_path = tls_path (state_dir, CERT_FILE);
  g_autofree gchar *req_path = tls_path (state_dir, REQ_FILE);
  X509 *x = NULL;
  X509_REQ *req = NULL;
  JsonNode *node = NULL;

  g_mutex_lock (&lock);
  recover (state_dir);
  if (pair_installed (state_dir))
    x = read_cert (cert_path);
  if (request_pending (state_dir))
    req = read_request (req_path);
  g_mutex_unlock (&lock);

  if (x || req) {
    json_builder_begin_object (b);
    if (x)
      add_cert_info (b, x);
    if (req) {
      json_builder_set_member_name (b, "request");
      json_builder_begin_object (b);
      add_request_info (b, req);
      json_builder_end_object (b);
    }
    json_builder_end_object (b);
    node = json_builder_get_root (b);
  }
  X509_free (x);
  X509_REQ_free (req);
  return node;
}
