/* thermocamd: secrets kept at rest that must be read back (see tcd-secret.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-secret.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <unistd.h>

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define MAX_SECRET 1024
#define PREFIX "v1:"

/* the device's key: read, or made (O_EXCL: two makers agree on one) */
static gboolean
device_key (const gchar *state_dir, gboolean create, guint8 key[KEY_LEN], GError **error)
{
  g_autofree gchar *path = g_build_filename (state_dir, "secret.key", NULL);
  g_autofree gchar *data = NULL;
  gsize len = 0;
  int fd;

  if (g_file_get_contents (path, &data, &len, NULL) && len == KEY_LEN) {
    memcpy (key, data, KEY_LEN);
    OPENSSL_cleanse (data, len);
    return TRUE;
  }
  if (!create) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no device key");
    return FALSE;
  }
  if (RAND_bytes (key, KEY_LEN) != 1) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "no random bytes");
    return FALSE;
  }
  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      return device_key (state_dir, FALSE, key, error);
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", path,
        g_strerror (errno));
    return FALSE;
  }
  if (write (fd, key, KEY_LEN) != KEY_LEN || fsync (fd) != 0) {
    int e = errno;
    close (fd);
    g_unlink (path);
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: %s", path,
        g_strerror (e));
    return FALSE;
  }
  close (fd);
  return TRUE;
}

gchar *
tcd_secret_seal (const gchar *state_dir, const gchar *context, const gchar *secret,
    GError **error)
{
  guint8 key[KEY_LEN], buf[NONCE_LEN + MAX_SECRET + TAG_LEN];
  gsize len = strlen (secret);
  EVP_CIPHER_CTX *c;
  int out = 0, fin = 0;
  gboolean ok;
  gchar *b64, *sealed;

  if (len > MAX_SECRET) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "the secret is too long");
    return NULL;
  }
  if (!device_key (state_dir, TRUE, key, error))
    return NULL;
  if (RAND_bytes (buf, NONCE_LEN) != 1) {
    OPENSSL_cleanse (key, sizeof key);
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "no random bytes");
    return NULL;
  }
  c = EVP_CIPHER_CTX_new ();
  ok = c && EVP_EncryptInit_ex (c, EVP_aes_256_gcm (), NULL, key, buf) == 1
      && EVP_EncryptUpdate (c, NULL, &out, (const guint8 *) context, strlen (context)) == 1
      && EVP_EncryptUpdate (c, buf + NONCE_LEN, &out, (const guint8 *) secret, len) == 1
      && EVP_EncryptFinal_ex (c, buf + NONCE_LEN + out, &fin) == 1
      && EVP_CIPHER_CTX_ctrl (c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, buf + NONCE_LEN + len) == 1;
  EVP_CIPHER_CTX_free (c);
  OPENSSL_cleanse (key, sizeof key);
  if (!ok) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "encryption failed");
    return NULL;
  }
  b64 = g_base64_encode (buf, NONCE_LEN + len + TAG_LEN);
  sealed = g_strconcat (PREFIX, b64, NULL);
  g_free (b64);
  OPENSSL_cleanse (buf, sizeof buf);
  return sealed;
}

gchar *
tcd_secret_open (const gchar *state_dir, const gchar *context, const gchar *sealed)
{
  guint8 key[KEY_LEN];
  g_autofree guint8 *raw = NULL;
  gsize len = 0, n;
  EVP_CIPHER_CTX *c;
  int out = 0, fin = 0;
  gboolean ok;
  gchar *plain;

  if (!sealed || !g_str_has_prefix (sealed, PREFIX)
      || strlen (sealed) > 4 * (NONCE_LEN + MAX_SECRET + TAG_LEN) / 3 + 8)
    return NULL;
  raw = g_base64_decode (sealed + strlen (PREFIX), &len);
  if (!raw || len < NONCE_LEN + TAG_LEN)
    return NULL;
  if (!device_key (state_dir, FALSE, key, NULL))
    return NULL;
  n = len - NONCE_LEN - TAG_LEN;
  plain = g_malloc0 (n + 1);
  c = EVP_CIPHER_CTX_new ();
  ok = c && EVP_DecryptInit_ex (c, EVP_aes_256_gcm (), NULL, key, raw) == 1
      && EVP_DecryptUpdate (c, NULL, &out, (const guint8 *) context, strlen (context)) == 1
      && EVP_DecryptUpdate (c, (guint8 *) plain, &out, raw + NONCE_LEN, n) == 1
      && EVP_CIPHER_CTX_ctrl (c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, raw + NONCE_LEN + n) == 1
      && EVP_DecryptFinal_ex (c, (guint8 *) plain + out, &fin) == 1;
  EVP_CIPHER_CTX_free (c);
  OPENSSL_cleanse (key, sizeof key);
  if (!ok || memchr (plain, '\0', n)) {
    OPENSSL_cleanse (plain, n);
    g_free (plain);
    return NULL;
  }
  return plain;
}
