/* thermocamd: the small certificate store beside the HTTPS pair (the
 * certificates the device authenticates with elsewhere: IEEE 802.1X EAP-TLS)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * <state>/tls/store/NAME.pem holds an entry's certificates (PEM, re-encoded
 * from the upload: nothing else of it is kept), NAME.key (0600) a client
 * entry's private key; a CA entry has no key.  Read and written with
 * tcd_certs_lock held, like the rest of <state>/tls/.
 */
#include "tcd-certs-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

#include "tc-json.h"

#define STORE_DIR "store"
#define MAX_PEM (64 * 1024)
#define MAX_ENTRIES 32

gboolean
tcd_certs_store_name_valid (const gchar *name)
{
  gsize n = name ? strlen (name) : 0;

  if (n == 0 || n > 32 || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (const gchar *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

static gchar *
entry_path (const gchar *state_dir, const gchar *name, const gchar *ext)
{
  g_autofree gchar *file = g_strconcat (name, ext, NULL);
  return g_build_filename (state_dir, TLS_DIR, STORE_DIR, file, NULL);
}

static gboolean
ensure_store (const gchar *state_dir, GError **error)
{
  g_autofree gchar *dir = g_build_filename (state_dir, TLS_DIR, STORE_DIR, NULL);

  if (!tcd_certs_ensure_dir (state_dir, error))
    return FALSE;
  if (g_mkdir_with_parents (dir, 0700) != 0 || g_chmod (dir, 0700) != 0) {
    int e = errno;
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_IO, "cannot create %s: %s", dir,
        g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

/* the certificates of @certs as PEM */
static gchar *
certs_pem (STACK_OF (X509) *certs)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  gchar *s;
  gsize len = 0;

  if (!bio)
    return NULL;
  for (int i = 0; i < sk_X509_num (certs); i++)
    if (!PEM_write_bio_X509 (bio, sk_X509_value (certs, i))) {
      BIO_free (bio);
      return NULL;
    }
  s = tcd_certs_bio_to_string (bio, &len);
  BIO_free (bio);
  return s;
}

static guint
count_entries (const gchar *state_dir)
{
  g_autofree gchar *dir = g_build_filename (state_dir, TLS_DIR, STORE_DIR, NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *f;
  guint n = 0;

  while (d && (f = g_dir_read_name (d)))
    n += g_str_has_suffix (f, ".pem");
  return n;
}

static gboolean
add_locked (const gchar *state_dir, const gchar *name, const gchar *kind, const gchar *pem,
    gsize len, GError **error)
{
  gboolean client = g_strcmp0 (kind, "client") == 0;
  g_autofree gchar *cpath = entry_path (state_dir, name, ".pem");
  g_autofree gchar *kpath = entry_path (state_dir, name, ".key");
  g_autofree gchar *text = NULL, *out = NULL;
  STACK_OF (X509) *certs = NULL;
  EVP_PKEY *key = NULL;
  gboolean encrypted = FALSE, ok = FALSE;
  const gchar *which = NULL;

  if (g_file_test (cpath, G_FILE_TEST_EXISTS)) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_EXISTS,
        "the store has a certificate named %s already (delete it first)", name);
    return FALSE;
  }
  if (count_entries (state_dir) >= MAX_ENTRIES) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        "the store holds %d certificates at most", MAX_ENTRIES);
    return FALSE;
  }
  text = g_strndup (pem, len);
  if (!(certs = tcd_certs_parse_certs (text, len, error)))
    goto out;
  ERR_clear_error ();
  key = tcd_certs_parse_key (text, len, &encrypted);
  ERR_clear_error ();
  if (!client && (key || encrypted)) {
    g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        "a CA certificate comes without a private key");
    goto out;
  }
  /* the key's checks (encrypted, kind, the certificate's) are the client's
   * of a TLS connection */
  if (client && !tcd_certs_check_client (NULL, text, text, &which, error))
    goto out;
  if (client && !key) {
    g_set_error_literal (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        "a client certificate needs its private key (PEM) in the same text");
    goto out;
  }
  if (!client && !tcd_certs_check_client (text, NULL, NULL, &which, error))
    goto out;
  if (!(out = certs_pem (certs))) {
    tcd_certs_set_ssl_error (error, TCD_CERTS_ERROR_IO, "cannot encode the certificate");
    goto out;
  }
  if (!ensure_store (state_dir, error))
    goto out;
  /* the key first: a .pem without its .key is a CA entry */
  if (client && !tcd_certs_write_key (kpath, key, error))
    goto out;
  if (!tcd_certs_write_file (cpath, out, strlen (out), 0600, error)) {
    g_unlink (kpath);
    goto out;
  }
  ok = TRUE;
out:
  if (certs)
    sk_X509_pop_free (certs, X509_free);
  EVP_PKEY_free (key);
  return ok;
}

gboolean
tcd_certs_store_add (const gchar *state_dir, const gchar *name, const gchar *kind,
    const gchar *pem, gsize len, GError **error)
{
  gboolean ok;

  if (!tcd_certs_store_name_valid (name)) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        "a name is 1 to 32 letters, digits, _ or - (first a letter or digit)");
    return FALSE;
  }
  if (g_strcmp0 (kind, "ca") != 0 && g_strcmp0 (kind, "client") != 0) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        "the kind is \"ca\" or \"client\"");
    return FALSE;
  }
  if (!pem || len == 0 || len > MAX_PEM) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        len ? "the PEM text is larger than %d bytes" : "the PEM text is empty", MAX_PEM);
    return FALSE;
  }
  g_mutex_lock (&tcd_certs_lock);
  ok = add_locked (state_dir, name, kind, pem, len, error);
  g_mutex_unlock (&tcd_certs_lock);
  return ok;
}

gboolean
tcd_certs_store_remove (const gchar *state_dir, const gchar *name, GError **error)
{
  g_autofree gchar *cpath = NULL, *kpath = NULL;
  gboolean ok;

  if (!tcd_certs_store_name_valid (name)) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_NOT_FOUND, "no such certificate");
    return FALSE;
  }
  cpath = entry_path (state_dir, name, ".pem");
  kpath = entry_path (state_dir, name, ".key");
  g_mutex_lock (&tcd_certs_lock);
  if (!g_file_test (cpath, G_FILE_TEST_EXISTS)) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_NOT_FOUND,
        "no certificate named %s", name);
    ok = FALSE;
  } else {
    ok = tcd_certs_remove_file (cpath, error) && tcd_certs_remove_file (kpath, error);
  }
  g_mutex_unlock (&tcd_certs_lock);
  return ok;
}

gboolean
tcd_certs_store_get (const gchar *state_dir, const gchar *name, gchar **kind,
    gchar **cert_pem, gchar **key_pem)
{
  g_autofree gchar *cpath = NULL, *kpath = NULL, *c = NULL, *k = NULL;
  gboolean ok;

  if (!tcd_certs_store_name_valid (name))
    return FALSE;
  cpath = entry_path (state_dir, name, ".pem");
  kpath = entry_path (state_dir, name, ".key");
  g_mutex_lock (&tcd_certs_lock);
  ok = g_file_get_contents (cpath, &c, NULL, NULL);
  if (ok && !g_file_get_contents (kpath, &k, NULL, NULL))
    k = NULL;
  g_mutex_unlock (&tcd_certs_lock);
  if (!ok)
    return FALSE;
  if (kind)
    *kind = g_strdup (k ? "client" : "ca");
  if (cert_pem)
    *cert_pem = g_steal_pointer (&c);
  if (key_pem)
    *key_pem = g_steal_pointer (&k);
  return TRUE;
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

JsonNode *
tcd_certs_store_list (const gchar *state_dir)
{
  g_autofree gchar *dir = g_build_filename (state_dir, TLS_DIR, STORE_DIR, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  GDir *d;
  const gchar *f;

  g_mutex_lock (&tcd_certs_lock);
  if ((d = g_dir_open (dir, 0, NULL))) {
    while ((f = g_dir_read_name (d)))
      if (g_str_has_suffix (f, ".pem")) {
        gchar *n = g_strndup (f, strlen (f) - 4);
        if (tcd_certs_store_name_valid (n))
          g_ptr_array_add (names, n);
        else
          g_free (n);
      }
    g_dir_close (d);
  }
  g_mutex_unlock (&tcd_certs_lock);
  g_ptr_array_sort (names, by_name);
  json_builder_begin_array (b);
  for (guint i = 0; i < names->len; i++) {
    g_autofree gchar *kind = NULL, *pem = NULL;
    STACK_OF (X509) *certs = NULL;
    X509 *x;

    if (!tcd_certs_store_get (state_dir, names->pdata[i], &kind, &pem, NULL)
        || !(certs = tcd_certs_parse_certs (pem, strlen (pem), NULL)))
      continue;
    x = sk_X509_value (certs, 0);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, names->pdata[i]);
    json_builder_set_member_name (b, "kind");
    json_builder_add_string_value (b, kind);
    {
      g_autofree gchar *subject = tcd_certs_name_string (X509_get_subject_name (x));
      g_autofree gchar *issuer = tcd_certs_name_string (X509_get_issuer_name (x));
      g_autofree gchar *nb = tcd_certs_time_string (X509_get0_notBefore (x));
      g_autofree gchar *na = tcd_certs_time_string (X509_get0_notAfter (x));
      guint8 md[EVP_MAX_MD_SIZE];
      unsigned int mdlen = 0;
      g_autoptr (GString) fp = g_string_new (NULL);

      if (X509_digest (x, EVP_sha256 (), md, &mdlen) == 1)
        for (unsigned int k = 0; k < mdlen; k++)
          g_string_append_printf (fp, k ? ":%02X" : "%02X", md[k]);
      json_builder_set_member_name (b, "subject");
      json_builder_add_string_value (b, subject);
      json_builder_set_member_name (b, "issuer");
      json_builder_add_string_value (b, issuer);
      json_builder_set_member_name (b, "not_before");
      json_builder_add_string_value (b, nb);
      json_builder_set_member_name (b, "not_after");
      json_builder_add_string_value (b, na);
      json_builder_set_member_name (b, "sha256");
      json_builder_add_string_value (b, fp->str);
      json_builder_set_member_name (b, "expired");
      json_builder_add_boolean_value (b, X509_cmp_current_time (X509_get0_notAfter (x)) < 0);
      json_builder_set_member_name (b, "certificates");
      json_builder_add_int_value (b, sk_X509_num (certs));
    }
    json_builder_end_object (b);
    sk_X509_pop_free (certs, X509_free);
  }
  json_builder_end_array (b);
  ERR_clear_error ();
  return json_builder_get_root (b);
}

/* one inline PEM of an older configuration into the store under @name; the
 * name when it is there (now or from an earlier start), else "" */
static const gchar *
migrate_one (const gchar *state_dir, const gchar *name, const gchar *kind, const gchar *pem)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *have = NULL;

  if (tcd_certs_store_add (state_dir, name, kind, pem, strlen (pem), &err))
    return name;
  if (g_error_matches (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_EXISTS)
      && tcd_certs_store_get (state_dir, name, &have, NULL, NULL) && g_str_equal (have, kind))
    return name;
  g_warning ("802.1X: the %s certificate of the configuration cannot go to the store: %s",
      kind, err->message);
  return "";
}

gboolean
tcd_certs_store_migrate_8021x (const gchar *state_dir, JsonNode *root)
{
  JsonNode *net = root && JSON_NODE_HOLDS_OBJECT (root)
      ? json_object_get_member (json_node_get_object (root), "network") : NULL;
  JsonObject *x = net && JSON_NODE_HOLDS_OBJECT (net)
      ? tc_json_get_object (json_node_get_object (net), "ieee8021x") : NULL;
  const gchar *ca, *cert, *key;
  gboolean changed = FALSE;

  if (!x)
    return FALSE;
  ca = tc_json_get_string (x, "ca_certificate", "");
  cert = tc_json_get_string (x, "client_certificate", "");
  key = tc_json_get_string (x, "client_key", "");
  if (strstr (ca, "-----BEGIN")) {
    json_object_set_string_member (x, "ca_certificate",
        migrate_one (state_dir, "8021x-ca", "ca", ca));
    changed = TRUE;
  }
  if (strstr (cert, "-----BEGIN")) {
    g_autofree gchar *both = g_strconcat (cert, "\n", key, NULL);
    json_object_set_string_member (x, "client_certificate",
        migrate_one (state_dir, "8021x-client", "client", both));
    changed = TRUE;
  }
  if (json_object_has_member (x, "client_key")) {
    json_object_remove_member (x, "client_key");
    changed = TRUE;
  }
  /* EAP-TLS without what it needs would set the whole file aside: off */
  if (changed && tc_json_get_bool (x, "enabled", FALSE)
      && g_strcmp0 (tc_json_get_string (x, "protocol", ""), "eap-tls") == 0
      && (!*tc_json_get_string (x, "ca_certificate", "")
          || !*tc_json_get_string (x, "client_certificate", ""))) {
    g_warning ("802.1X: EAP-TLS switched off, its certificates could not be kept");
    json_object_set_boolean_member (x, "enabled", FALSE);
  }
  return changed;
}

JsonNode *
tcd_certs_store_export (const gchar *state_dir)
{
  g_autoptr (JsonNode) list = tcd_certs_store_list (state_dir);
  JsonArray *a = json_node_get_array (list);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    const gchar *name = JSON_NODE_HOLDS_OBJECT (e)
        ? tc_json_get_string (json_node_get_object (e), "name", "") : "";
    g_autofree gchar *kind = NULL, *cert = NULL, *key = NULL, *pem = NULL;

    if (!tcd_certs_store_get (state_dir, name, &kind, &cert, &key))
      continue;
    pem = g_strconcat (cert, key ? key : "", NULL);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, name);
    json_builder_set_member_name (b, "kind");
    json_builder_add_string_value (b, kind);
    json_builder_set_member_name (b, "pem");
    json_builder_add_string_value (b, pem);
    json_builder_end_object (b);
    if (key)
      memset (pem, 0, strlen (pem));
  }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

gboolean
tcd_certs_store_import (const gchar *state_dir, JsonNode *entries, GError **error)
{
  JsonArray *a;

  if (!entries || JSON_NODE_HOLDS_NULL (entries))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (entries)
      || json_array_get_length (a = json_node_get_array (entries)) > MAX_ENTRIES) {
    g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
        "certificates: a list of at most %d {name, kind, pem}", MAX_ENTRIES);
    return FALSE;
  }
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
    const gchar *name = o ? tc_json_get_string (o, "name", NULL) : NULL;
    const gchar *kind = o ? tc_json_get_string (o, "kind", NULL) : NULL;
    const gchar *pem = o ? tc_json_get_string (o, "pem", NULL) : NULL;
    g_autofree gchar *have = NULL;
    g_autoptr (GError) err = NULL;

    if (!name || !kind || !pem) {
      g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_INVALID,
          "certificates[%u]: {name, kind, pem}, strings", i);
      return FALSE;
    }
    /* the device's own entry of that name stays (if of the same kind) */
    if (tcd_certs_store_get (state_dir, name, &have, NULL, NULL)) {
      if (g_str_equal (have, kind))
        continue;
      g_set_error (error, TCD_CERTS_ERROR, TCD_CERTS_ERROR_EXISTS,
          "certificates[%u]: the store has %s as a %s certificate", i, name, have);
      return FALSE;
    }
    if (!tcd_certs_store_add (state_dir, name, kind, pem, strlen (pem), &err)) {
      g_set_error (error, err->domain, err->code, "certificates[%u] (%s): %s", i, name,
          err->message);
      return FALSE;
    }
  }
  return TRUE;
}
