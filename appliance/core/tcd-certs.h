/* thermocamd: HTTPS certificates (manual 10.12.5) with OpenSSL
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Files in <state>/tls/: key.pem + cert.pem (the installed pair, 0600 key),
 * request-key.pem + request.pem (a pending certificate request).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TCD_CERTS_ERROR (tcd_certs_error_quark ())
GQuark tcd_certs_error_quark (void);

typedef enum {
  TCD_CERTS_ERROR_INVALID,      /* bad parameters or an unreadable certificate */
  TCD_CERTS_ERROR_MISMATCH,     /* the certificate is not for our key */
  TCD_CERTS_ERROR_NO_REQUEST,   /* no pending certificate request */
  TCD_CERTS_ERROR_IO
} TcdCertsError;

/* What a certificate or request is made for (manual: Country/Region,
 * Hostname/IP, Validity and other parameters) */
typedef struct {
  const gchar *country;         /* two letters, e.g. "DE" */
  const gchar *host;            /* a host name or an IPv4/IPv6 address (CN and SAN) */
  guint days;                   /* 1..3650 (self-signed only) */
  const gchar *organization;    /* optional */
  const gchar *state;           /* optional */
  const gchar *locality;        /* optional */
  const gchar *email;           /* optional */
} TcdCertParams;

/* Checks the parameters (the names of the JSON fields in *field on failure) */
gboolean  tcd_cert_params_check (const TcdCertParams *p, gboolean need_days,
                                 const gchar **field, GError **error);
/* Creates a new key (EC P-256) and a self-signed certificate and installs
 * them (atomically, replacing any installed pair) */
gboolean  tcd_certs_create_self_signed (const gchar *state_dir, const TcdCertParams *p,
                                        GError **error);
/* Creates a new key and a certificate request (PKCS#10), kept until a
 * signed certificate is installed; returns the request as PEM */
gchar    *tcd_certs_create_request (const gchar *state_dir, const TcdCertParams *p,
                                    GError **error);
/* The pending request as PEM, or NULL */
gchar    *tcd_certs_get_request (const gchar *state_dir);
/* Installs a signed certificate (PEM, optionally followed by its chain; or
 * DER) for the pending request's key; the pair replaces the installed one
 * and the request is done (removed).  NO_REQUEST when none is pending.
 * Or, when the PEM text also holds a private key (one unencrypted "PRIVATE
 * KEY", "EC PRIVATE KEY" or "RSA PRIVATE KEY" block, before or after the
 * certificates): installs the first certificate with that key, no request
 * needed; a pending request is left alone (its signed certificate can still
 * be installed).  The key must be RSA of 2048 bits or more or EC P-256 or
 * P-384 (INVALID otherwise, encrypted ones too) and the certificate's
 * (MISMATCH).  Expired certificates are INVALID. */
gboolean  tcd_certs_install (const gchar *state_dir, const gchar *pem, gsize len,
                             GError **error);
/* The PEM texts a TLS client is given (each may be NULL or empty): @ca one
 * or more certificates, @cert a certificate, @key its unencrypted private
 * key (which needs @cert, and must be its key).  FALSE with *@which the one
 * refused ("ca", "certificate", "key") */
gboolean  tcd_certs_check_client (const gchar *ca, const gchar *cert, const gchar *key,
                                  const gchar **which, GError **error);
/* Removes the installed pair (and any request) */
gboolean  tcd_certs_delete (const gchar *state_dir, GError **error);
/* Paths of the installed pair, or FALSE when none (a key and a certificate
 * that do not match are none) */
gboolean  tcd_certs_installed (const gchar *state_dir, gchar **cert_path, gchar **key_path);
/* The installed certificate: {subject, issuer, not_before, not_after,
 * self_signed, serial, sha256, hosts[]} or NULL (and the pending request:
 * {request: {subject, hosts[]}}) */
JsonNode *tcd_certs_info (const gchar *state_dir);

G_END_DECLS
