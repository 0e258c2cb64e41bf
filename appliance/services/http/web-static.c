/* thermocamd: the web page's files (webui/), served at / over HTTP and HTTPS
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The files of DATA_DIR/webui are read once, at start, into memory: at most
 * WEB_MAX_FILES files and WEB_MAX_BYTES in all, regular files only (no
 * symbolic link, nothing whose name begins with a dot, no other type than
 * those of web_types[]).  A request is answered only from that table, by
 * its exact path: nothing under webui/ is ever opened for a request, so no
 * path can lead outside it, and a directory is never listed.  ("/" is
 * "/index.html"; libsoup answers 400 to a path whose decoding makes a "..".)
 *
 * Each answer carries a strong ETag (a hash of the content; If-None-Match
 * gives 304), Cache-Control: no-cache (the browser asks again, and gets 304
 * while the file is the same), and the page's security policy: no inline
 * script or style, nothing from elsewhere, never framed.
 */
#include "tcd-http-private.h"

#include <string.h>
#include <sys/stat.h>

#define WEB_MAX_FILES 64
#define WEB_MAX_BYTES (4 * 1024 * 1024)
#define WEB_MAX_DEPTH 8

/* the page's policy (the API's answers keep their stricter one, default-src
 * 'none': JSON and pictures run nothing) */
#define WEB_CSP_HEAD "default-src 'self'; script-src 'self'; style-src 'self'; " \
  "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'"
#define WEB_CSP_TAIL "; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; " \
  "form-action 'self'; frame-ancestors 'none'"
#define WEB_CSP WEB_CSP_HEAD WEB_CSP_TAIL

static const struct {
  const gchar *ext, *type;
} web_types[] = {
  { "html", "text/html; charset=utf-8" },
  { "js", "text/javascript; charset=utf-8" },
  { "mjs", "text/javascript; charset=utf-8" },
  { "css", "text/css; charset=utf-8" },
  { "json", "application/json" },
  { "svg", "image/svg+xml" },
  { "png", "image/png" },
  { "ico", "image/x-icon" },
  { "woff2", "font/woff2" },
  { "wav", "audio/wav" },
  { "ogg", "audio/ogg" },
};

typedef struct {
  GBytes *data;
  const gchar *type;            /* static */
  gchar *etag;                  /* "\"hex\"" */
} WebFile;

struct _WebFiles {
  GHashTable *files;            /* "/index.html" -> WebFile */
  gsize bytes;
};

static void
web_file_free (WebFile *f)
{
  g_bytes_unref (f->data);
  g_free (f->etag);
  g_free (f);
}

static const gchar *
web_type_of (const gchar *name)
{
  const gchar *dot = strrchr (name, '.');

  if (!dot)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (web_types); i++)
    if (g_ascii_strcasecmp (dot + 1, web_types[i].ext) == 0)
      return web_types[i].type;
  return NULL;
}

/* @dir on disk is @prefix ("" or "/js") of the served paths */
static void
web_load_dir (WebFiles *w, const gchar *dir, const gchar *prefix, guint depth)
{
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;

  if (depth > WEB_MAX_DEPTH || !(d = g_dir_open (dir, 0, NULL)))
    return;
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  /* the same files whatever order the directory lists them in */
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++) {
    const gchar *n = names->pdata[i];
    g_autofree gchar *path = g_build_filename (dir, n, NULL);
    g_autofree gchar *served = g_strconcat (prefix, "/", n, NULL);
    struct stat st;

    if (n[0] == '.' || !g_utf8_validate (n, -1, NULL) || strpbrk (n, "\\%?#")
        || lstat (path, &st) != 0)
      continue;
    if (S_ISDIR (st.st_mode)) {
      web_load_dir (w, path, served, depth + 1);
      continue;
    }
    if (!S_ISREG (st.st_mode) || !web_type_of (n))
      continue;
    if (g_hash_table_size (w->files) >= WEB_MAX_FILES
        || w->bytes + (gsize) st.st_size > WEB_MAX_BYTES) {
      g_warning ("web page: %s left out: more than %d files or %d bytes", path,
          WEB_MAX_FILES, WEB_MAX_BYTES);
      continue;
    }
    {
      g_autoptr (GError) err = NULL;
      gchar *data;
      gsize len;
      WebFile *f;
      g_autofree gchar *hash = NULL;

      if (!g_file_get_contents (path, &data, &len, &err)) {
        g_warning ("web page: %s", err->message);
        continue;
      }
      if (w->bytes + len > WEB_MAX_BYTES) {
        g_free (data);
        continue;
      }
      f = g_new0 (WebFile, 1);
      f->data = g_bytes_new_take (data, len);
      f->type = web_type_of (n);
      hash = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
      f->etag = g_strdup_printf ("\"%.32s\"", hash);
      w->bytes += len;
      g_hash_table_replace (w->files, g_steal_pointer (&served), f);
    }
  }
}

WebFiles *
web_files_load (const gchar *dir)
{
  WebFiles *w = g_new0 (WebFiles, 1);

  w->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) web_file_free);
  web_load_dir (w, dir, "", 0);
  if (!g_hash_table_contains (w->files, "/index.html"))
    g_message ("web page: no %s/index.html: / answers 404", dir);
  g_debug ("web page: %u files, %" G_GSIZE_FORMAT " bytes from %s",
      g_hash_table_size (w->files), w->bytes, dir);
  return w;
}

void
web_files_free (WebFiles *w)
{
  if (!w)
    return;
  g_hash_table_unref (w->files);
  g_free (w);
}

guint
web_files_count (WebFiles *w)
{
  return w ? g_hash_table_size (w->files) : 0;
}

/* The page's live socket may go to the WebSocket port (ws://, a page over
 * HTTP) or the WebSockets port (wss://, over HTTPS) while it listens
 * (manual 9.2, player.js): the policy lets it connect there, on the host
 * the page was asked by (Host, without its port; checked so that nothing
 * but a host name or address goes into the header) */
static gchar *
web_csp (TcdHttp *h, SoupServerMessage *msg)
{
  gboolean tls = is_tls (h, msg);
  guint port = tls ? h->wss_port : h->ws_port;
  const gchar *host = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Host");
  g_autofree gchar *name = NULL;
  gchar *end;

  if (!port || !host || !*host || strlen (host) > 255)
    return g_strdup (WEB_CSP);
  for (const gchar *p = host; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("-.:[]", *p))
      return g_strdup (WEB_CSP);
  name = g_strdup (host);
  /* [v6]:port, [v6], name:port, name */
  if (name[0] == '[') {
    if (!(end = strchr (name, ']')))
      return g_strdup (WEB_CSP);
    end[1] = '\0';
  } else if ((end = strchr (name, ':'))) {
    *end = '\0';
  }
  if (!*name)
    return g_strdup (WEB_CSP);
  return g_strdup_printf (WEB_CSP_HEAD " %s://%s:%u" WEB_CSP_TAIL, tls ? "wss" : "ws", name,
      port);
}

/* what every answer of the page carries */
static void
web_headers (TcdHttp *h, SoupServerMessage *msg)
{
  SoupMessageHeaders *r = soup_server_message_get_response_headers (msg);
  g_autofree gchar *csp = web_csp (h, msg);

  soup_message_headers_replace (r, "Content-Security-Policy", csp);
  soup_message_headers_replace (r, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (r, "X-Frame-Options", "DENY");
  soup_message_headers_replace (r, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (r, "Cache-Control", "no-cache");
}

/* If-None-Match names @etag (or is "*"); a weak tag compares by its value */
static gboolean
etag_matches (SoupServerMessage *msg, const gchar *etag)
{
  const gchar *inm = soup_message_headers_get_list (soup_server_message_get_request_headers
      (msg), "If-None-Match");
  g_auto (GStrv) tags = NULL;

  if (!inm || strlen (inm) > 4096)
    return FALSE;
  tags = g_strsplit (inm, ",", 64);
  for (guint i = 0; tags[i]; i++) {
    gchar *t = g_strstrip (tags[i]);
    if (g_str_has_prefix (t, "W/"))
      t += 2;
    if (g_str_equal (t, "*") || g_str_equal (t, etag))
      return TRUE;
  }
  return FALSE;
}

/* the file of @path ("/" -> "/index.html"), or NULL: a path with a
 * segment that is empty or begins with a dot is none */
static WebFile *
web_lookup (WebFiles *w, const gchar *path)
{
  g_auto (GStrv) segs = NULL;

  if (!w || !path || path[0] != '/' || strlen (path) > 512)
    return NULL;
  if (g_str_equal (path, "/"))
    path = "/index.html";
  segs = g_strsplit (path + 1, "/", WEB_MAX_DEPTH + 3);
  for (guint i = 0; segs[i]; i++)
    if (!segs[i][0] || segs[i][0] == '.')
      return NULL;
  return g_hash_table_lookup (w->files, path);
}

void
web_files_serve (TcdHttp *h, SoupServerMessage *msg, const gchar *path)
{
  const gchar *method = soup_server_message_get_method (msg);
  WebFile *f;

  web_headers (h, msg);
  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD")) {
    method_not_allowed (msg, "GET, HEAD");
    return;
  }
  if (!(f = web_lookup (h->web, path))) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL,
        "no file %s: the API is under " API " (" API "openapi.yaml)", path);
    return;
  }
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "ETag",
      f->etag);
  if (etag_matches (msg, f->etag)) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_MODIFIED, NULL);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg),
      f->type, NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), f->data);
}
