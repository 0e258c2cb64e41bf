/* thermocamd: secrets kept at rest that must be read back (ONVIF passwords)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A password a protocol needs in clear to check a digest of it (WS-Security
 * UsernameToken PasswordDigest is SHA-1 of nonce, time and the password
 * itself) cannot be kept as a slow hash.  It is kept sealed instead:
 * AES-256-GCM under the device's own random key (secret.key in the state
 * directory, 0600, made at first use), as "v1:" and base64 of nonce,
 * ciphertext and tag; @context (e.g. "onvif:NAME") is the additional data,
 * so a sealed value moved to another name does not open.  The configuration
 * keeps only the sealed text and never shows it (a section policy drops it).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* the sealed text of @secret, or NULL with @error (the key cannot be made) */
gchar *tcd_secret_seal (const gchar *state_dir, const gchar *context, const gchar *secret,
                        GError **error);
/* the secret back, or NULL (malformed, another device's key, another context) */
gchar *tcd_secret_open (const gchar *state_dir, const gchar *context, const gchar *sealed);

G_END_DECLS
