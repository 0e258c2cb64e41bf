/* thermocamd: the signed upgrade package (appliance/README.md: upgrade)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A package is a ustar archive (tar tvf lists it) of, in this order:
 *   manifest.json  {"format": 1, "product": "thermocam", "version": "1.2.3",
 *                   "created": unix s, "key_id": "16 hex", "entry": "bin/thermocamd",
 *                   "files": [{"path", "size", "mode", "sha256"}, ...]}
 *   manifest.sig   the Ed25519 signature of manifest.json's bytes (64 bytes)
 *   tree/<path>    each file of "files", in that order
 * and nothing else.  The signature covers the manifest, the manifest the
 * hash of every file: checked whole, the package is what was signed.  The
 * tree is an installed prefix (bin/, lib/, share/thermocam/) of regular
 * files only; paths are relative, without "..", of [A-Za-z0-9._+@-/].
 *
 * key_id is the first 8 bytes, in hex, of the SHA-256 of the raw 32-byte
 * public key.  The device trusts the public keys (PEM, *.pem) in
 * DATA_DIR/keys/ (shipped with the software) and STATE_DIR/keys/ (put there
 * by whoever installs the device).
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TCD_PACKAGE_ERROR (tcd_package_error_quark ())
GQuark tcd_package_error_quark (void);

typedef enum {
  TCD_PACKAGE_ERROR_INVALID,      /* not a package, or a member out of place */
  TCD_PACKAGE_ERROR_TRUNCATED,
  TCD_PACKAGE_ERROR_TOO_LARGE,
  TCD_PACKAGE_ERROR_UNKNOWN_KEY,  /* signed by a key the device does not trust */
  TCD_PACKAGE_ERROR_SIGNATURE,    /* the signature does not match */
  TCD_PACKAGE_ERROR_HASH,         /* a file is not the one the manifest names */
  TCD_PACKAGE_ERROR_DOWNGRADE,    /* not newer than the running version */
  TCD_PACKAGE_ERROR_IO
} TcdPackageError;

/* "1.2.3" (1 to 4 numbers): valid?  compare: <0, 0, >0 */
gboolean tcd_version_valid (const gchar *v);
gint     tcd_version_compare (const gchar *a, const gchar *b);

/* Makes @out from the files under @tree, signed with the Ed25519 private
 * key in @key_path (PEM) */
gboolean tcd_package_make (const gchar *tree, const gchar *version, const gchar *key_path,
                           const gchar *out, GError **error);

typedef void (*TcdPackageProgress) (guint percent, gpointer user_data);

/* Checks the package @path (at most @max_bytes) against the public keys
 * in @key_dirs and, unless @force, that its version is above @running; the
 * files go into @dest (created; removed again on any failure).  Returns
 * the manifest. */
JsonNode *tcd_package_unpack (const gchar *path, const gchar *const *key_dirs,
                              const gchar *running, gboolean force, guint64 max_bytes,
                              const gchar *dest, TcdPackageProgress progress,
                              gpointer user_data, GError **error);

G_END_DECLS
