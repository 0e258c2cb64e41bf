/* thermocamd: password-encrypted files (configuration export, manual 10.2)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The file:
 *
 *   offset  size
 *        0     6  magic "TCDCFG"
 *        6     1  format version (1)
 *        7     1  KDF (1 = scrypt)
 *        8     3  scrypt log2 N, r, p
 *       11    16  salt (random)
 *       27    12  AES-256-GCM nonce (random)
 *       39     n  ciphertext
 *     39+n    16  GCM tag
 *
 * The key is scrypt (password, salt, N, r, p) with 32 bytes out.  The whole
 * header (bytes 0..38) is the GCM additional data: changing the KDF
 * parameters, the salt or the nonce breaks the tag like any other change.
 * A fresh salt per file means a fresh key per file, so the random 96-bit
 * nonce is never reused with the same key.
 */
#include "tcd-crypt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

G_DEFINE_QUARK (tcd-crypt-error-quark, tcd_crypt_error)

#define MAGIC "TCDCFG"
#define MAGIC_LEN 6
#define VERSION 1
#define KDF_SCRYPT 1
#define SALT_LEN 16
#define NONCE_LEN 12
#define TAG_LEN 16
#define KEY_LEN 32
#define HEADER_LEN (MAGIC_LEN + 2 + 3 + SALT_LEN + NONCE_LEN)

/* What we write: about 32 MiB and some 50-100 ms on a PC, a few hundred ms
 * on the camera; the export is rare, a guess costs the attacker the same */
#define SCRYPT_LOG2_N 15
#define SCRYPT_R 8
#define SCRYPT_P 1
/* What we accept when reading: a forged header must not make us allocate
 * gigabytes or spin for minutes (the tag is only checked after the KDF) */
#define SCRYPT_LOG2_N_MIN 10
#define SCRYPT_LOG2_N_MAX 20
#define SCRYPT_R_MAX 16
#define SCRYPT_P_MAX 4
#define SCRYPT_MAXMEM (64 * 1024 * 1024)

/* EVP_*Update take an int length: feed large buffers in pieces */
#define CHUNK (1 << 20)

G_STATIC_ASSERT (HEADER_LEN == 39);

/* The memory scrypt needs with these parameters, as OpenSSL counts it
 * (the V array of N + 2 blocks and the p B blocks, 128 r bytes each) */
static guint64
scrypt_memory (guint log2_n, guint r, guint p)
{
  return 128 * (guint64) r * (((guint64) 1 << log2_n) + 2) + 128 * (guint64) r * p;
}

static gboolean
derive_key (const gchar *password, const guint8 *salt, guint log2_n, guint r, guint p,
            guint8 key[KEY_LEN])
{
  return EVP_PBE_scrypt (password, strlen (password), salt, SALT_LEN,
      (guint64) 1 << log2_n, r, p, SCRYPT_MAXMEM, key, KEY_LEN) == 1;
}

/* In-place-safe AES-256-GCM over @len bytes (@out may be @in) */
static gboolean
gcm_update (EVP_CIPHER_CTX *ctx, gboolean encrypt, const guint8 *in, gsize len, guint8 *out)
{
  for (gsize done = 0; done < len;) {
    int n = (int) MIN (len - done, (gsize) CHUNK), outl = 0;
    int ok = encrypt ? EVP_EncryptUpdate (ctx, out + done, &outl, in + done, n)
                     : EVP_DecryptUpdate (ctx, out + done, &outl, in + done, n);
    /* GCM is a stream mode: what goes in comes out at once */
    if (ok != 1 || outl != n)
      return FALSE;
    done += n;
  }
  return TRUE;
}

GBytes *
tcd_crypt_seal (GBytes *data, const gchar *password, GError **error)
{
  const guint8 *in;
  gsize len;
  guint8 key[KEY_LEN];
  guint8 *out, *hdr;
  EVP_CIPHER_CTX *ctx = NULL;
  gboolean ok = FALSE;
  int outl = 0;

  if (!password || !*password) {
    g_set_error_literal (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FAILED,
        "a password is needed to encrypt the file");
    return NULL;
  }
  in = g_bytes_get_data (data, &len);
  if (len > G_MAXSIZE - HEADER_LEN - TAG_LEN) {
    g_set_error_literal (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FAILED, "too much data");
    return NULL;
  }

  out = g_malloc (HEADER_LEN + len + TAG_LEN);
  hdr = out;
  memcpy (hdr, MAGIC, MAGIC_LEN);
  hdr[6] = VERSION;
  hdr[7] = KDF_SCRYPT;
  hdr[8] = SCRYPT_LOG2_N;
  hdr[9] = SCRYPT_R;
  hdr[10] = SCRYPT_P;
  if (RAND_bytes (hdr + 11, SALT_LEN + NONCE_LEN) != 1) {
    g_set_error_literal (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FAILED, "no random bytes");
    g_free (out);
    return NULL;
  }

  if (!derive_key (password, hdr + 11, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, key)) {
    g_set_error_literal (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FAILED,
        "cannot derive the key from the password");
    goto out;
  }
  ctx = EVP_CIPHER_CTX_new ();
  if (!ctx
      || EVP_EncryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, NULL, NULL) != 1
      || EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) != 1
      || EVP_EncryptInit_ex (ctx, NULL, NULL, key, hdr + 11 + SALT_LEN) != 1
      /* the header as additional authenticated data */
      || EVP_EncryptUpdate (ctx, NULL, &outl, hdr, HEADER_LEN) != 1
      || !gcm_update (ctx, TRUE, in, len, out + HEADER_LEN)
      || EVP_EncryptFinal_ex (ctx, out + HEADER_LEN + len, &outl) != 1
      || EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, out + HEADER_LEN + len) != 1) {
    g_set_error_literal (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FAILED, "encryption failed");
    goto out;
  }
  ok = TRUE;

out:
  OPENSSL_cleanse (key, sizeof key);
  EVP_CIPHER_CTX_free (ctx);
  if (!ok) {
    /* may hold part of the plain text */
    OPENSSL_cleanse (out, HEADER_LEN + len + TAG_LEN);
    g_free (out);
    return NULL;
  }
  return g_bytes_new_take (out, HEADER_LEN + len + TAG_LEN);
}

GBytes *
tcd_crypt_open (GBytes *file, const gchar *password, GError **error)
{
  const guint8 *f;
  gsize flen, len;
  guint log2_n, r, p;
  guint8 key[KEY_LEN];
  guint8 *out = NULL;
  EVP_CIPHER_CTX *ctx = NULL;
  GBytes *result = NULL;
  int outl = 0;

  if (!password || !*password) {
    g_set_error_literal (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FAILED,
        "a password is needed to decrypt the file");
    return NULL;
  }
  f = g_bytes_get_data (file, &flen);
  if (flen < HEADER_LEN + TAG_LEN || memcmp (f, MAGIC, MAGIC_LEN) != 0) {
    g_set_error_literal (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FORMAT,
        "not a thermocam configuration file");
    return NULL;
  }
  if (f[6] != VERSION || f[7] != KDF_SCRYPT) {
    g_set_error (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FORMAT,
        "not a thermocam configuration file (unknown version %u/%u)", f[6], f[7]);
    return NULL;
  }
  log2_n = f[8];
  r = f[9];
  p = f[10];
  if (log2_n < SCRYPT_LOG2_N_MIN || log2_n > SCRYPT_LOG2_N_MAX
      || r < 1 || r > SCRYPT_R_MAX || p < 1 || p > SCRYPT_P_MAX
      || scrypt_memory (log2_n, r, p) > SCRYPT_MAXMEM) {
    g_set_error (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FORMAT,
        "not a thermocam configuration file (unsupported key derivation parameters "
        "N=2^%u, r=%u, p=%u)", log2_n, r, p);
    return NULL;
  }
  len = flen - HEADER_LEN - TAG_LEN;

  if (!derive_key (password, f + 11, log2_n, r, p, key)) {
    g_set_error_literal (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FAILED,
        "cannot derive the key from the password");
    goto out;
  }
  /* +1: g_malloc (0) is NULL, and a GBytes of an empty configuration is fine */
  out = g_malloc (len + 1);
  ctx = EVP_CIPHER_CTX_new ();
  if (!ctx
      || EVP_DecryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, NULL, NULL) != 1
      || EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) != 1
      || EVP_DecryptInit_ex (ctx, NULL, NULL, key, f + 11 + SALT_LEN) != 1
      || EVP_DecryptUpdate (ctx, NULL, &outl, f, HEADER_LEN) != 1
      || !gcm_update (ctx, FALSE, f + HEADER_LEN, len, out)
      || EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
             (void *) (f + HEADER_LEN + len)) != 1) {
    g_set_error_literal (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_FAILED, "decryption failed");
    goto out;
  }
  /* the tag is checked here, and only here: nothing decrypted is used before */
  if (EVP_DecryptFinal_ex (ctx, out + len, &outl) != 1) {
    g_set_error_literal (error, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_AUTH,
        "cannot decrypt the configuration file: wrong password, or the file was changed");
    goto out;
  }
  result = g_bytes_new_take (out, len);
  out = NULL;

out:
  OPENSSL_cleanse (key, sizeof key);
  EVP_CIPHER_CTX_free (ctx);
  if (out) {
    /* unauthenticated plain text: gone */
    OPENSSL_cleanse (out, len + 1);
    g_free (out);
  }
  return result;
}
