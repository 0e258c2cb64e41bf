/* thermocamd: HTTPS certificates: installing an uploaded certificate
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A certificate signed for the pending request's key, or a certificate
 * uploaded together with its private key (made elsewhere); its chain kept
 * after it.  The pair is put in place by tcd-certs.c.
 */
#include "tcd-certs-private.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

#define MAX_UPLOAD (1024 * 1024)

/* ---- the upload ---- */

/* All the certificates of an upload (PEM, or a single DER certificate as
 * some CAs hand out); anything else in a PEM text (a private key, comments)
 * is skipped and not kept (the key is upload_key()'s) */
STACK_OF (X509) *
tcd_certs_parse_certs (const gchar *data, gsize len, GError **error)
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
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_INVALID, "not a certificate (PEM or DER)");
    sk_X509_free (certs);
    return NULL;
  }

  bio = BIO_new_mem_buf (data, (int) len);
  while (bio && (x = PEM_read_bio_X509 (bio, NULL, tcd_certs_no_passphrase, NULL)))
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
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_INVALID, "the certificate cannot be read");
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
  if (!(*key = tcd_certs_parse_key (data, len, &encrypted))) {
    if (encrypted) {
      ERR_clear_error ();
      g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
          "the private key is encrypted: upload it without a passphrase "
          "(openssl pkey -in key.pem -out plain-key.pem)");
    } else {
      tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_INVALID,
          "the private key cannot be read");
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
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_INVALID, "the private key is not valid");
    goto fail;
  }
  return TRUE;

fail:
  g_clear_pointer (key, EVP_PKEY_free);
  return FALSE;
}

/* ---- the API ---- */

gboolean
tcd_certs_install (const gchar *state_dir, const gchar *pem, gsize len, GError **error)
{
  g_autofree gchar *req_path = tcd_certs_tls_path (state_dir, REQ_FILE);
  g_autofree gchar *req_key_path = tcd_certs_tls_path (state_dir, REQ_KEY_FILE);
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

  g_mutex_lock (&tcd_certs_lock);
  tcd_certs_recover (state_dir);
  if (!with_key && !tcd_certs_request_pending (state_dir)) {
    g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_NO_REQUEST,
        "there is no pending certificate request: create one, have it signed, "
        "then install the certificate; or upload the certificate together with "
        "its private key");
    goto out;
  }
  if (!with_key && !(key = tcd_certs_read_key (req_key_path))) {
    g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO,
        "the key of the certificate request cannot be read");
    goto out;
  }
  if (!(certs = tcd_certs_parse_certs (pem, len, error)))
    goto out;

  /* the first certificate is ours, the others its chain to the CA */
  leaf = sk_X509_value (certs, 0);
  if (X509_check_private_key (leaf, key) != 1) {
    ERR_clear_error ();
    if (!with_key) {
      g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_MISMATCH,
          "the certificate is not for the key of the pending request (signed from "
          "another request?)");
    } else if (tcd_certs_request_pending (state_dir)
               && tcd_certs_pair_matches_key (leaf, req_key_path)) {
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
    g_autofree gchar *when = tcd_certs_time_string (X509_get0_notAfter (leaf));
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
      tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot encode the certificate");
      goto out;
    }
  if (!bio) {
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO, "out of memory");
    goto out;
  }
  text = tcd_certs_bio_to_string (bio, &text_len);
  if (!tcd_certs_install_pair (state_dir, key, text, text_len, error))
    goto out;

  /* the request is done; the pair is in place whatever happens here.  An
   * uploaded key leaves a pending request alone (its CA may still answer). */
  if (!with_key) {
    g_autoptr (GError) err = NULL;
    if (!tcd_certs_remove_file (req_path, &err) || !tcd_certs_remove_file (req_key_path, &err))
      g_warning ("%s", err->message);
  }
  ok = TRUE;

out:
  g_mutex_unlock (&tcd_certs_lock);
  BIO_free (bio);
  sk_X509_pop_free (certs, X509_free);
  EVP_PKEY_free (key);
  return ok;
}

/* ---- the PEM texts a TLS client is given (MQTT) ---- */

gboolean
tcd_certs_check_client (const gchar *ca, const gchar *cert, const gchar *key,
    const gchar **which, GError **error)
{
  STACK_OF (X509) *cas = NULL, *certs = NULL;
  EVP_PKEY *pkey = NULL;
  gboolean encrypted = FALSE, ok = FALSE;

  *which = "ca";
  if (ca && *ca && !(cas = tcd_certs_parse_certs (ca, strlen (ca), error)))
    goto out;
  *which = "certificate";
  if (cert && *cert && !(certs = tcd_certs_parse_certs (cert, strlen (cert), error)))
    goto out;
  *which = "key";
  if (key && *key) {
    ERR_clear_error ();
    if (!(pkey = tcd_certs_parse_key (key, strlen (key), &encrypted))) {
      g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID, encrypted
          ? "the private key is encrypted: give it without a passphrase"
          : "not a private key (PEM)");
      ERR_clear_error ();
      goto out;
    }
    if (!certs) {
      g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
          "a private key without its certificate");
      goto out;
    }
    if (X509_check_private_key (sk_X509_value (certs, 0), pkey) != 1) {
      ERR_clear_error ();
      g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_MISMATCH,
          "the private key is not the certificate's");
      goto out;
    }
  }
  *which = NULL;
  ok = TRUE;
out:
  if (cas)
    sk_X509_pop_free (cas, X509_free);
  if (certs)
    sk_X509_pop_free (certs, X509_free);
  EVP_PKEY_free (pkey);
  return ok;
}
