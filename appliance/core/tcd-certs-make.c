/* thermocamd: HTTPS certificates: a new key with a self-signed certificate
 * or with a certificate request
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The parameters (country, host, validity, ...) checked, the subject name and
 * the extensions made, the key (EC P-256) made here; the files are written
 * by tcd-certs.c.
 */
#include "tcd-certs-private.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>

#define MAX_DAYS 3650
#define MAX_HOST 253            /* a DNS name in text form */
#define MAX_LABEL 63
#define MAX_FIELD 64            /* characters, within the X.520 upper bounds */
#define MAX_CN 64               /* ub-common-name */

static EVP_PKEY *
new_key (GError **error)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");

  if (!key)
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot create a key");
  return key;
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
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_INVALID,
        "cannot make the certificate's name");
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
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot make the certificate");
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
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO,
        "cannot make the certificate's extensions");
    goto out;
  }
  if (X509_sign (x, key, EVP_sha256 ()) <= 0) {
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot sign the certificate");
    goto out;
  }
  bio = BIO_new (BIO_s_mem ());
  if (!bio || !PEM_write_bio_X509 (bio, x)) {
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot encode the certificate");
    goto out;
  }
  pem = tcd_certs_bio_to_string (bio, &len);

  g_mutex_lock (&tcd_certs_lock);
  tcd_certs_recover (state_dir);
  ok = tcd_certs_install_pair (state_dir, key, pem, len, error);
  g_mutex_unlock (&tcd_certs_lock);

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
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot make the certificate request");
    goto out;
  }
  /* What we ask the CA for: the host name, and a TLS server's usage */
  X509V3_set_ctx (&ctx, NULL, NULL, req, NULL, 0);
  if (!push_ext (exts, X509V3_EXT_i2d (NID_subject_alt_name, 0, san))
      || !push_ext (exts, conf_ext (&ctx, NID_key_usage, "critical,digitalSignature"))
      || !push_ext (exts, conf_ext (&ctx, NID_ext_key_usage, "serverAuth"))
      || !X509_REQ_add_extensions (req, exts)) {
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot make the request's extensions");
    goto out;
  }
  if (X509_REQ_sign (req, key, EVP_sha256 ()) <= 0) {
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot sign the certificate request");
    goto out;
  }
  bio = BIO_new (BIO_s_mem ());
  if (!bio || !PEM_write_bio_X509_REQ (bio, req)) {
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO,
        "cannot encode the certificate request");
    goto out;
  }
  pem = tcd_certs_bio_to_string (bio, &len);

  g_mutex_lock (&tcd_certs_lock);
  {
    g_autofree gchar *req_path = tcd_certs_tls_path (state_dir, REQ_FILE);
    g_autofree gchar *key_path = tcd_certs_tls_path (state_dir, REQ_KEY_FILE);

    /* The request file says "pending": it goes first and comes last, so an
     * old request is never taken with the new key */
    if (!tcd_certs_ensure_dir (state_dir, error) || !tcd_certs_remove_file (req_path, error)
        || !tcd_certs_write_key (key_path, key, error)
        || !tcd_certs_write_file (req_path, pem, len, 0644, error))
      g_clear_pointer (&pem, g_free);
  }
  g_mutex_unlock (&tcd_certs_lock);

out:
  BIO_free (bio);
  sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
  GENERAL_NAMES_free (san);
  X509_NAME_free (name);
  X509_REQ_free (req);
  EVP_PKEY_free (key);
  return pem;
}
