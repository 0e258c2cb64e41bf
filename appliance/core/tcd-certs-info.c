/* thermocamd: HTTPS certificates: what the installed certificate and the
 * pending request say (tcd_certs_info)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-certs-private.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

/* "C=DE, O=Acme, CN=cam.example" in UTF-8 */
gchar *
tcd_certs_name_string (const X509_NAME *name)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | ASN1_STRFLGS_ESC_QUOTE
      | (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  g_autofree gchar *s = NULL;
  gsize len = 0;

  if (!bio)
    return g_strdup ("");
  X509_NAME_print_ex (bio, name, 0, flags);
  s = tcd_certs_bio_to_string (bio, &len);
  BIO_free (bio);
  return g_utf8_make_valid (s, len);
}

/* ISO 8601 UTC, like "2026-01-31T12:00:00Z" */
gchar *
tcd_certs_time_string (const ASN1_TIME *t)
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
  g_autofree gchar *subject = tcd_certs_name_string (X509_get_subject_name (x));
  g_autofree gchar *issuer = tcd_certs_name_string (X509_get_issuer_name (x));
  g_autofree gchar *not_before = tcd_certs_time_string (X509_get0_notBefore (x));
  g_autofree gchar *not_after = tcd_certs_time_string (X509_get0_notAfter (x));
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
  g_autofree gchar *subject = tcd_certs_name_string (X509_REQ_get_subject_name (req));
  STACK_OF (X509_EXTENSION) *exts = X509_REQ_get_extensions (req);
  GENERAL_NAMES *names = exts ? X509V3_get_d2i (exts, NID_subject_alt_name, NULL, NULL) : NULL;

  add_string (b, "subject", subject);
  add_hosts (b, names);
  GENERAL_NAMES_free (names);
  sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
  ERR_clear_error ();
}

/* ---- the API ---- */

JsonNode *
tcd_certs_info (const gchar *state_dir)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *cert_path = tcd_certs_tls_path (state_dir, CERT_FILE);
  g_autofree gchar *req_path = tcd_certs_tls_path (state_dir, REQ_FILE);
  X509 *x = NULL;
  X509_REQ *req = NULL;
  JsonNode *node = NULL;

  g_mutex_lock (&tcd_certs_lock);
  tcd_certs_recover (state_dir);
  if (tcd_certs_pair_installed (state_dir))
    x = tcd_certs_read_cert (cert_path);
  if (tcd_certs_request_pending (state_dir))
    req = tcd_certs_read_request (req_path);
  g_mutex_unlock (&tcd_certs_lock);

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
