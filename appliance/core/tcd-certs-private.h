/* thermocamd: HTTPS certificates (private): what the parts of the module share
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The module (API: tcd-certs.h) is one file per job:
 *   tcd-certs.c          the files of <state>/tls/ and the installed pair:
 *                        keys and certificates in and out of PEM, the pair
 *                        replaced atomically and recovered after a crash
 *   tcd-certs-make.c     a new key with a self-signed certificate or with a
 *                        certificate request (parameters, names, extensions)
 *   tcd-certs-install.c  a certificate installed from an upload (with its
 *                        chain, with or without its private key)
 *   tcd-certs-info.c     what the installed certificate and the pending
 *                        request say
 * The files are read and written with tcd_certs_lock held.
 */
#pragma once

#include "tcd-certs.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

#define TLS_DIR "tls"
#define KEY_FILE "key.pem"
#define CERT_FILE "cert.pem"
#define REQ_KEY_FILE "request-key.pem"
#define REQ_FILE "request.pem"
#define NEW_SUFFIX ".new"

/* The files are shared by whoever calls us (HTTP handlers, the HTTPS server
 * set-up), possibly from different threads: one lock for all of it, so that
 * no one sees a pair half replaced by this process. */
G_GNUC_INTERNAL extern GMutex tcd_certs_lock;

/* tcd-certs.c: errors and files */
G_GNUC_INTERNAL void      tcd_certs_set_ssl_error (GError **error, gint code,
                                                   const gchar *what);
G_GNUC_INTERNAL gchar    *tcd_certs_tls_path (const gchar *state_dir, const gchar *name);
G_GNUC_INTERNAL gboolean  tcd_certs_ensure_dir (const gchar *state_dir, GError **error);
G_GNUC_INTERNAL gboolean  tcd_certs_write_file (const gchar *path, const gchar *data, gsize len,
                                                int mode, GError **error);
G_GNUC_INTERNAL gboolean  tcd_certs_remove_file (const gchar *path, GError **error);
G_GNUC_INTERNAL int       tcd_certs_no_passphrase (char *buf, int size, int rwflag, void *u);

/* tcd-certs.c: keys, certificates, requests in and out of PEM */
G_GNUC_INTERNAL EVP_PKEY *tcd_certs_parse_key (const gchar *data, gsize len,
                                               gboolean *encrypted);
G_GNUC_INTERNAL EVP_PKEY *tcd_certs_read_key (const gchar *path);
G_GNUC_INTERNAL gboolean  tcd_certs_write_key (const gchar *path, EVP_PKEY *key,
                                               GError **error);
G_GNUC_INTERNAL gchar    *tcd_certs_bio_to_string (BIO *bio, gsize *len);
G_GNUC_INTERNAL X509     *tcd_certs_read_cert (const gchar *path);
G_GNUC_INTERNAL X509_REQ *tcd_certs_read_request (const gchar *path);

/* tcd-certs.c: the installed pair and the pending request */
G_GNUC_INTERNAL gboolean  tcd_certs_pair_matches_key (X509 *x, const gchar *key_path);
G_GNUC_INTERNAL gboolean  tcd_certs_pair_installed (const gchar *state_dir);
G_GNUC_INTERNAL gboolean  tcd_certs_request_pending (const gchar *state_dir);
G_GNUC_INTERNAL gboolean  tcd_certs_install_pair (const gchar *state_dir, EVP_PKEY *key,
                                                  const gchar *cert_pem, gsize cert_len,
                                                  GError **error);
G_GNUC_INTERNAL void      tcd_certs_recover (const gchar *state_dir);

/* tcd-certs-install.c: the certificates of a PEM text (or one DER) */
G_GNUC_INTERNAL STACK_OF (X509) *tcd_certs_parse_certs (const gchar *data, gsize len,
                                                        GError **error);

/* tcd-certs-info.c: a name as RFC 2253 text */
G_GNUC_INTERNAL gchar    *tcd_certs_name_string (const X509_NAME *name);
/* tcd-certs-info.c: ISO 8601 UTC, like "2026-01-31T12:00:00Z" */
G_GNUC_INTERNAL gchar    *tcd_certs_time_string (const ASN1_TIME *t);

G_END_DECLS
