/* thermocamd: password-encrypted files (configuration export, manual 10.2)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Authenticated encryption (AES-256-GCM) with a key derived from the
 * password by a slow KDF (scrypt); the header (magic, version, KDF
 * parameters, salt, nonce) is authenticated too.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TCD_CRYPT_ERROR (tcd_crypt_error_quark ())
GQuark tcd_crypt_error_quark (void);

typedef enum {
  TCD_CRYPT_ERROR_FORMAT,       /* not one of our files, or a version we do not know */
  TCD_CRYPT_ERROR_AUTH,         /* wrong password, or the file was changed */
  TCD_CRYPT_ERROR_FAILED
} TcdCryptError;

/* The encrypted file for @data with @password (non-empty) */
GBytes *tcd_crypt_seal (GBytes *data, const gchar *password, GError **error);
/* The data back; TCD_CRYPT_ERROR_AUTH for a wrong password or any change */
GBytes *tcd_crypt_open (GBytes *file, const gchar *password, GError **error);

G_END_DECLS
