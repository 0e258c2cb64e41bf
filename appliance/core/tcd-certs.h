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
  TCD_CERTS_ERROR_IO,
  TCD_CERTS_ERROR_EXISTS,       /* the store has a certificate of that name */
  TCD_CERTS_ERROR_NOT_FOUND,    /* the store has none of that name */
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

/* The small store beside the HTTPS pair (<state>/tls/store/, tcd-certs-store.c):
 * named certificates for what the device authenticates with elsewhere
 * (IEEE 802.1X EAP-TLS).  A name is 1..32 of A-Z a-z 0-9 _ - (starting
 * with a letter or digit).  Kind "ca": one or more CA certificates, no key;
 * kind "client": a certificate (and its chain) with its unencrypted private
 * key (RSA 2048+ or EC), which must be the certificate's (MISMATCH).  An
 * existing name is EXISTS (delete it first). */
gboolean  tcd_certs_store_name_valid (const gchar *name);
gboolean  tcd_certs_store_add (const gchar *state_dir, const gchar *name, const gchar *kind,
                               const gchar *pem, gsize len, GError **error);
gboolean  tcd_certs_store_remove (const gchar *state_dir, const gchar *name, GError **error);
/* The entry @name: its kind ("ca", "client") and, each when asked, its
 * certificates and key as PEM; FALSE when there is none */
gboolean  tcd_certs_store_get (const gchar *state_dir, const gchar *name, gchar **kind,
                               gchar **cert_pem, gchar **key_pem);
/* [{name, kind, subject, issuer, not_before, not_after, sha256, expired}] by name */
JsonNode *tcd_certs_store_list (const gchar *state_dir);
/* A configuration of before the store kept the 802.1X certificates inline
 * (network.ieee8021x.ca_certificate, client_certificate and client_key as
 * PEM): they go to the store ("8021x-ca", "8021x-client") and the section
 * names them; TRUE when @root changed */
gboolean  tcd_certs_store_migrate_8021x (const gchar *state_dir, JsonNode *root);
/* For the configuration export: [{name, kind, pem}] (a client's pem with
 * its key); and back on import: entries the store lacks are added (checked
 * as tcd_certs_store_add), a name it has of the same kind is kept as it is,
 * of another kind is EXISTS */
JsonNode *tcd_certs_store_export (const gchar *state_dir);
gboolean  tcd_certs_store_import (const gchar *state_dir, JsonNode *entries, GError **error);

G_END_DECLS
