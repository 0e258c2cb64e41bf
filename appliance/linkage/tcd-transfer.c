/* thermocamd: FTP upload, email and HTTP(S) push with libcurl
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One easy handle per call, driven through a private multi handle so that
 * a cancellation wakes the transfer at once (curl_multi_wakeup from the
 * GCancellable's signal) instead of at the next progress tick; the
 * progress callback aborts too, as a second line.  Credentials go through
 * CURLOPT_USERNAME / CURLOPT_PASSWORD, never into a URL, and error
 * messages name the server as host:port only (a receiver URL may carry
 * user:password@).  As a last guard, a message that would contain the
 * password has it masked.
 *
 * FTP: the file is stored as ".NAME.part" in its directory (created when
 * missing) and renamed to NAME by RNFR/RNTO after the transfer, so NAME
 * only ever refers to a complete file.  Passive mode (EPSV, then PASV).
 *
 * Email: one multipart/mixed message (a text/plain UTF-8 body in
 * quoted-printable, the attachments in base64) to all the receivers.
 * "starttls" requires STARTTLS (CURLUSESSL_ALL): a server that does not
 * offer it fails the call rather than getting the mail in clear.
 */
#include "tcd-transfer.h"

#include <curl/curl.h>
#include <string.h>

#include "tcd-clock.h"
#include "tcd-dscp.h"

G_DEFINE_QUARK (tcd-transfer-error-quark, tcd_transfer_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURL, curl_easy_cleanup)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURLU, curl_url_cleanup)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (curl_mime, curl_mime_free)
typedef struct curl_slist CurlSlist;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CurlSlist, curl_slist_free_all)

#define ANONYMOUS_USER "anonymous"
#define ANONYMOUS_PASSWORD "thermocam@"
#define USER_AGENT "thermocamd"
#define MAX_DIRNAME 64
#define MAX_ENCODED_BYTES 39    /* 52 base64 characters: 64 per encoded word,
                                 * which fit after "Subject: " in 78 */
#define MAX_LINE 78             /* header lines are folded to this length */
#define POLL_MS 1000

/* ---- settings ---- */

static JsonObject *
as_object (JsonNode *node)
{
  return node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonNode *
member (JsonObject *o, const gchar *name)
{
  return o ? json_object_get_member (o, name) : NULL;
}

static const gchar *
get_string (JsonObject *o, const gchar *name, const gchar *def)
{
  JsonNode *n = member (o, name);

  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return def;
}

static gint64
get_int (JsonObject *o, const gchar *name, gint64 def)
{
  JsonNode *n = member (o, name);

  if (n && JSON_NODE_HOLDS_VALUE (n)) {
    GType t = json_node_get_value_type (n);
    if (t == G_TYPE_INT64)
      return json_node_get_int (n);
    if (t == G_TYPE_DOUBLE)
      return (gint64) json_node_get_double (n);
  }
  return def;
}

static gboolean
get_bool (JsonObject *o, const gchar *name, gboolean def)
{
  JsonNode *n = member (o, name);

  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN)
    return json_node_get_boolean (n);
  return def;
}

static gboolean
has_text (const gchar *s)
{
  return s && *s;
}

/* "host:port", with an IPv6 address in brackets (for URLs and messages) */
static gchar *
host_port (const gchar *host, gint64 port)
{
  if (!has_text (host))
    return g_strdup ("(no server)");
  if (strchr (host, ':') && host[0] != '[')
    return g_strdup_printf ("[%s]:%" G_GINT64_FORMAT, host, port);
  return g_strdup_printf ("%s:%" G_GINT64_FORMAT, host, port);
}

/* ---- one transfer ---- */

typedef struct {
  CURL *curl;
  GCancellable *cancellable;
  const gchar *what;            /* "FTP upload", for messages */
  gchar *target;                /* "host:port", for messages */
  const gchar *password;        /* masked in messages */
  gchar *url_password;          /* the same, from user:password@ in a URL */
  gchar errbuf[CURL_ERROR_SIZE];
} Transfer;

static gpointer
global_init (gpointer data)
{
  return GINT_TO_POINTER (curl_global_init (CURL_GLOBAL_DEFAULT));
}

static int
xferinfo_cb (void *user_data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
             curl_off_t ulnow)
{
  return g_cancellable_is_cancelled (user_data) ? 1 : 0;
}

static size_t
discard_cb (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  return size * nmemb;
}

static void
transfer_clear (Transfer *t)
{
  g_clear_pointer (&t->curl, curl_easy_cleanup);
  g_clear_pointer (&t->target, g_free);
  g_clear_pointer (&t->url_password, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Transfer, transfer_clear)

static void
set_error (Transfer *t, GError **error, TcdTransferError code, const gchar *detail)
{
  g_autoptr (GString) msg = g_string_new (NULL);

  g_string_printf (msg, "%s to %s %s", t->what, t->target,
      code == TCD_TRANSFER_ERROR_CANCELLED ? "cancelled" : "failed");
  /* a cancellation needs no detail ("Callback aborted") */
  if (has_text (detail) && code != TCD_TRANSFER_ERROR_CANCELLED)
    g_string_append_printf (msg, ": %s", detail);
  if (has_text (t->password))
    g_string_replace (msg, t->password, "***", 0);
  if (has_text (t->url_password))
    g_string_replace (msg, t->url_password, "***", 0);
  g_set_error_literal (error, TCD_TRANSFER_ERROR, code, msg->str);
}

static CURLcode
global_init_once (void)
{
  static GOnce once = G_ONCE_INIT;

  return GPOINTER_TO_INT (g_once (&once, global_init, NULL));
}

/* QoS (manual 10.12.6): a delivery's socket carries alarm traffic */
static int
alarm_dscp_cb (void *data, curl_socket_t fd, curlsocktype purpose)
{
  tcd_dscp_apply (fd, TCD_DSCP_ALARM, TRUE);
  return CURL_SOCKOPT_OK;
}

/* The easy handle with what every transfer has; FALSE when cancelled
 * already (@error set) */
static gboolean
transfer_init (Transfer *t, const gchar *what, gchar *target, guint timeout_s,
               GCancellable *cancellable, GError **error)
{
  CURLcode init_res = global_init_once ();

  memset (t, 0, sizeof *t);
  t->what = what;
  t->target = target;
  t->cancellable = cancellable;
  if (g_cancellable_is_cancelled (cancellable)) {
    set_error (t, error, TCD_TRANSFER_ERROR_CANCELLED, NULL);
    return FALSE;
  }
  if (init_res != CURLE_OK || !(t->curl = curl_easy_init ())) {
    set_error (t, error, TCD_TRANSFER_ERROR_FAILED, "cannot initialise libcurl");
    return FALSE;
  }
  curl_easy_setopt (t->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (t->curl, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt (t->curl, CURLOPT_CONNECTTIMEOUT, (long) timeout_s);
  curl_easy_setopt (t->curl, CURLOPT_TIMEOUT, (long) timeout_s);
  curl_easy_setopt (t->curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (t->curl, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
  curl_easy_setopt (t->curl, CURLOPT_XFERINFODATA, cancellable);
  curl_easy_setopt (t->curl, CURLOPT_WRITEFUNCTION, discard_cb);
  curl_easy_setopt (t->curl, CURLOPT_USERAGENT, USER_AGENT);
  /* QoS: deliveries are alarm traffic (manual 10.12.6) */
  curl_easy_setopt (t->curl, CURLOPT_SOCKOPTFUNCTION, alarm_dscp_cb);
  return TRUE;
}

static void
wake_multi (GCancellable *cancellable, gpointer multi)
{
  curl_multi_wakeup (multi);
}

/* curl_easy_perform, but woken up by @t->cancellable */
static CURLcode
transfer_run (Transfer *t)
{
  CURLM *multi = curl_multi_init ();
  CURLcode res = CURLE_FAILED_INIT;
  gboolean done = FALSE;
  gulong handler = 0;

  if (!multi)
    return CURLE_OUT_OF_MEMORY;
  if (curl_multi_add_handle (multi, t->curl) != CURLM_OK) {
    curl_multi_cleanup (multi);
    return CURLE_OUT_OF_MEMORY;
  }
  if (t->cancellable)
    handler = g_cancellable_connect (t->cancellable, G_CALLBACK (wake_multi), multi, NULL);

  while (!done) {
    CURLMsg *msg;
    int running = 0, left;

    if (curl_multi_perform (multi, &running) != CURLM_OK)
      break;
    while ((msg = curl_multi_info_read (multi, &left)))
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == t->curl) {
        res = msg->data.result;
        done = TRUE;
      }
    if (done)
      break;
    if (g_cancellable_is_cancelled (t->cancellable)) {
      res = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    if (curl_multi_poll (multi, NULL, 0, POLL_MS, NULL) != CURLM_OK)
      break;
  }

  if (handler)
    g_cancellable_disconnect (t->cancellable, handler);
  curl_multi_remove_handle (multi, t->curl);
  curl_multi_cleanup (multi);
  return res;
}

static TcdTransferError
map_error (CURLcode res, glong response, gboolean cancelled)
{
  switch (res) {
  case CURLE_ABORTED_BY_CALLBACK:
    return cancelled ? TCD_TRANSFER_ERROR_CANCELLED : TCD_TRANSFER_ERROR_FAILED;
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
    return TCD_TRANSFER_ERROR_CONNECT;
  case CURLE_LOGIN_DENIED:
  case CURLE_AUTH_ERROR:
    return TCD_TRANSFER_ERROR_AUTH;
  case CURLE_OPERATION_TIMEDOUT:
    return TCD_TRANSFER_ERROR_TIMEOUT;
  case CURLE_USE_SSL_FAILED:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CLIENTCERT:
    return TCD_TRANSFER_ERROR_TLS;
  case CURLE_REMOTE_ACCESS_DENIED:
  case CURLE_UPLOAD_FAILED:
  case CURLE_QUOTE_ERROR:
  case CURLE_REMOTE_DISK_FULL:
  case CURLE_REMOTE_FILE_EXISTS:
  case CURLE_HTTP_RETURNED_ERROR:
    return TCD_TRANSFER_ERROR_REFUSED;
  default:
    /* FTP and SMTP: the last reply; 530 "not logged in", 535 "bad
     * credentials"; any other 4xx/5xx is a refusal */
    if (response == 530 || response == 535)
      return TCD_TRANSFER_ERROR_AUTH;
    if (response >= 400)
      return TCD_TRANSFER_ERROR_REFUSED;
    return TCD_TRANSFER_ERROR_FAILED;
  }
}

/* Runs the transfer; FALSE with @error set when it failed */
static gboolean
transfer_perform (Transfer *t, GError **error)
{
  CURLcode res = transfer_run (t);
  glong response = 0;

  if (res == CURLE_OK)
    return TRUE;
  curl_easy_getinfo (t->curl, CURLINFO_RESPONSE_CODE, &response);
  set_error (t, error, map_error (res, response, g_cancellable_is_cancelled (t->cancellable)),
      t->errbuf[0] ? t->errbuf : curl_easy_strerror (res));
  return FALSE;
}

static void
set_credentials (Transfer *t, const gchar *user, const gchar *password)
{
  curl_easy_setopt (t->curl, CURLOPT_USERNAME, user);
  curl_easy_setopt (t->curl, CURLOPT_PASSWORD, password ? password : "");
  t->password = password;
}

static void
set_verify (Transfer *t, gboolean verify)
{
  curl_easy_setopt (t->curl, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
  curl_easy_setopt (t->curl, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
}

/* ---- FTP ---- */

typedef struct {
  const guint8 *data;
  gsize size, pos;
} Source;

static size_t
read_cb (char *buffer, size_t size, size_t nitems, void *user_data)
{
  Source *s = user_data;
  gsize n = MIN (size * nitems, s->size - s->pos);

  memcpy (buffer, s->data + s->pos, n);
  s->pos += n;
  return n;
}

static gboolean
valid_segment (const gchar *s)
{
  if (!has_text (s) || g_str_equal (s, ".") || g_str_equal (s, ".."))
    return FALSE;
  for (; *s; s++)
    if (*s == '/' || (guchar) *s < 0x20 || *s == 0x7f)
      return FALSE;
  return TRUE;
}

gboolean
tcd_transfer_ftp_put (JsonNode *ftp, const gchar *dir, const gchar *name,
                      GBytes *data, guint timeout_s, GCancellable *cancellable,
                      GError **error)
{
  JsonObject *o = as_object (ftp);
  const gchar *server = get_string (o, "server", "");
  const gchar *user = get_string (o, "user", "");
  const gchar *password = get_string (o, "password", "");
  gint64 port = get_int (o, "port", 21);
  g_auto (Transfer) t = { 0 };
  g_autoptr (CurlSlist) quote = NULL;
  g_autoptr (GString) url = NULL;
  g_auto (GStrv) segments = NULL;
  g_autofree gchar *tmp_name = NULL, *rnfr = NULL, *rnto = NULL, *escaped = NULL;
  Source source = { 0 };

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (data != NULL, FALSE);

  if (!transfer_init (&t, "FTP upload", host_port (server, port), timeout_s, cancellable, error))
    return FALSE;
  if (!has_text (server)) {
    set_error (&t, error, TCD_TRANSFER_ERROR_CONFIG, "no FTP server");
    return FALSE;
  }
  if (!valid_segment (name)) {
    set_error (&t, error, TCD_TRANSFER_ERROR_FAILED, "invalid file name");
    return FALSE;
  }

  url = g_string_new ("ftp://");
  g_string_append_printf (url, "%s/", t.target);
  segments = g_strsplit (dir ? dir : "", "/", -1);
  for (guint i = 0; segments[i]; i++) {
    g_autofree gchar *seg = NULL;
    if (!*segments[i])
      continue;
    if (!valid_segment (segments[i])) {
      set_error (&t, error, TCD_TRANSFER_ERROR_FAILED, "invalid directory");
      return FALSE;
    }
    seg = g_uri_escape_string (segments[i], NULL, FALSE);
    g_string_append_printf (url, "%s/", seg);
  }
  tmp_name = g_strdup_printf (".%s.part", name);
  escaped = g_uri_escape_string (tmp_name, NULL, FALSE);
  g_string_append (url, escaped);

  rnfr = g_strdup_printf ("RNFR %s", tmp_name);
  rnto = g_strdup_printf ("RNTO %s", name);
  quote = curl_slist_append (quote, rnfr);
  quote = curl_slist_append (quote, rnto);

  if (get_bool (o, "anonymous", FALSE) || !has_text (user))
    set_credentials (&t, ANONYMOUS_USER, ANONYMOUS_PASSWORD);
  else
    set_credentials (&t, user, password);

  source.data = g_bytes_get_data (data, &source.size);
  curl_easy_setopt (t.curl, CURLOPT_URL, url->str);
  curl_easy_setopt (t.curl, CURLOPT_PROTOCOLS_STR, "ftp");
  curl_easy_setopt (t.curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt (t.curl, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt (t.curl, CURLOPT_READDATA, &source);
  curl_easy_setopt (t.curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) source.size);
  curl_easy_setopt (t.curl, CURLOPT_FTP_CREATE_MISSING_DIRS, (long) CURLFTP_CREATE_DIR_RETRY);
  curl_easy_setopt (t.curl, CURLOPT_FTPPORT, NULL);     /* passive */
  curl_easy_setopt (t.curl, CURLOPT_POSTQUOTE, quote);
  return transfer_perform (&t, error);
}

/* A directory name out of free text: [A-Za-z0-9._ -] kept, any other
 * character (UTF-8 or not) becomes '_'; no leading dot, no surrounding
 * spaces, at most MAX_DIRNAME bytes; @fallback when nothing is left */
static gchar *
safe_dirname (const gchar *text, const gchar *fallback)
{
  g_autofree gchar *valid = g_utf8_make_valid (text ? text : "", -1);
  g_autoptr (GString) s = g_string_new (NULL);

  for (const gchar *p = valid; *p && s->len < MAX_DIRNAME; p = g_utf8_next_char (p)) {
    gchar c = *p;
    gboolean ok = g_ascii_isalnum (c) || c == '.' || c == '_' || c == ' ' || c == '-';
    g_string_append_c (s, ok ? c : '_');
  }
  g_strstrip (s->str);
  s->len = strlen (s->str);
  for (gsize i = 0; i < s->len && s->str[i] == '.'; i++)
    s->str[i] = '_';
  if (s->len == 0)
    return g_strdup (fallback);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

gchar *
tcd_transfer_ftp_dir (JsonNode *ftp, JsonNode *device, const gchar *serial,
                      const gchar *event_key, GDateTime *when)
{
  JsonObject *d = as_object (member (as_object (ftp), "directory"));
  JsonObject *dev = as_object (device);
  const gchar *structure = get_string (d, "structure", "root");
  const gchar *parent = get_string (d, "parent", "device_name");
  const gchar *child = get_string (d, "child", "date");
  g_autofree gchar *p = NULL, *c = NULL;

  if (!g_str_equal (structure, "parent") && !g_str_equal (structure, "parent_child"))
    return g_strdup ("");

  if (g_str_equal (parent, "device_number")) {
    g_autofree gchar *number = g_strdup_printf ("%" G_GINT64_FORMAT, get_int (dev, "number", 88));
    p = safe_dirname (number, "0");
  } else if (g_str_equal (parent, "serial")) {
    p = safe_dirname (serial, "unknown");
  } else if (g_str_equal (parent, "custom")) {
    p = safe_dirname (get_string (d, "custom_parent", "thermocam"), "thermocam");
  } else {
    p = safe_dirname (get_string (dev, "name", "Thermal Camera"), "thermocam");
  }
  if (g_str_equal (structure, "parent"))
    return g_steal_pointer (&p);

  if (g_str_equal (child, "event")) {
    c = safe_dirname (event_key, "event");
  } else if (g_str_equal (child, "custom")) {
    c = safe_dirname (get_string (d, "custom_child", "pictures"), "pictures");
  } else {
    g_autoptr (GDateTime) now = when ? g_date_time_ref (when) : tcd_clock_now_local ();
    c = g_date_time_format (now, "%Y-%m-%d");
  }
  return g_strdup_printf ("%s/%s", p, c);
}

/* ---- email ---- */

/* RFC 5322 date-time, in English whatever the locale */
static gchar *
mail_date (GDateTime *dt)
{
  static const gchar *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const gchar *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autofree gchar *zone = g_date_time_format (dt, "%z");

  return g_strdup_printf ("%s, %02d %s %04d %02d:%02d:%02d %s",
      days[g_date_time_get_day_of_week (dt) - 1], g_date_time_get_day_of_month (dt),
      months[g_date_time_get_month (dt) - 1], g_date_time_get_year (dt),
      g_date_time_get_hour (dt), g_date_time_get_minute (dt), g_date_time_get_second (dt), zone);
}

/* Header text: valid UTF-8 with no control characters (no header
 * injection through a name or a subject) */
static gchar *
header_text (const gchar *text)
{
  gchar *s = g_utf8_make_valid (text ? text : "", -1);

  for (gchar *p = s; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      *p = ' ';
  return s;
}

static gboolean
is_ascii (const gchar *s)
{
  for (; *s; s++)
    if ((guchar) *s >= 0x80)
      return FALSE;
  return TRUE;
}

/* A header field being written, folded at a space where a line would
 * pass MAX_LINE characters (RFC 5322 2.1.1, 2.2.3) */
typedef struct {
  GString *s;
  gsize line;                   /* characters on the current line */
} Field;

static void
field_init (Field *f, const gchar *name)
{
  f->s = g_string_new (name);
  g_string_append (f->s, ": ");
  f->line = f->s->len;
}

static void
field_clear (Field *f)
{
  if (f->s)
    g_string_free (f->s, TRUE);
  f->s = NULL;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Field, field_clear)

/* @sep ("", " " or ", ") then @token; the fold replaces @sep's space.
 * One character is kept free for the comma of a ", " that may follow. */
static void
field_add (Field *f, const gchar *sep, const gchar *token)
{
  gsize sep_len = strlen (sep), len = strlen (token);

  if (sep_len && sep[sep_len - 1] == ' ' && f->line + sep_len + len > MAX_LINE - 1) {
    g_string_append_len (f->s, sep, sep_len - 1);
    g_string_append (f->s, "\r\n ");
    f->line = 1;
  } else {
    g_string_append (f->s, sep);
    f->line += sep_len;
  }
  g_string_append (f->s, token);
  f->line += len;
}

/* RFC 2047 "B" encoded words of at most 75 characters, split between
 * UTF-8 characters; the first one after @sep */
static void
field_add_encoded (Field *f, const gchar *sep, const gchar *utf8)
{
  for (const gchar *p = utf8; *p;) {
    const gchar *end = p;
    g_autofree gchar *b64 = NULL, *word = NULL;

    while (*end) {
      const gchar *next = g_utf8_next_char (end);
      if (next - p > MAX_ENCODED_BYTES)
        break;
      end = next;
    }
    b64 = g_base64_encode ((const guchar *) p, end - p);
    word = g_strdup_printf ("=?UTF-8?B?%s?=", b64);
    field_add (f, p == utf8 ? sep : " ", word);
    p = end;
  }
}

/* Unstructured text (Subject) */
static void
field_add_text (Field *f, const gchar *text)
{
  g_autofree gchar *s = header_text (text);

  if (is_ascii (s)) {
    g_auto (GStrv) words = g_strsplit (s, " ", -1);
    for (guint i = 0; words[i]; i++)
      field_add (f, i ? " " : "", words[i]);
  } else {
    field_add_encoded (f, "", s);
  }
}

/* "Name" <address>, or <address> without a name; the first one after @sep */
static void
field_add_mailbox (Field *f, const gchar *sep, const gchar *name, const gchar *address)
{
  g_autofree gchar *s = header_text (name);
  g_autofree gchar *angle = g_strdup_printf ("<%s>", address);

  g_strstrip (s);
  if (!*s) {
    field_add (f, sep, angle);
    return;
  }
  if (is_ascii (s)) {
    g_autoptr (GString) quoted = g_string_new ("\"");
    for (const gchar *p = s; *p; p++) {
      if (*p == '"' || *p == '\\')
        g_string_append_c (quoted, '\\');
      g_string_append_c (quoted, *p);
    }
    g_string_append_c (quoted, '"');
    field_add (f, sep, quoted->str);
  } else {
    field_add_encoded (f, sep, s);
  }
  field_add (f, " ", angle);
}

/* Appends the field to @list and frees it */
static struct curl_slist *
field_end (struct curl_slist *list, Field *f)
{
  list = curl_slist_append (list, f->s->str);
  field_clear (f);
  return list;
}

/* @text with every line ending (LF, CRLF or a lone CR) as CRLF */
static gchar *
crlf_lines (const gchar *text)
{
  GString *s = g_string_new (NULL);

  for (const gchar *p = text ? text : ""; *p; p++) {
    if (*p == '\r' || *p == '\n') {
      g_string_append (s, "\r\n");
      if (p[0] == '\r' && p[1] == '\n')
        p++;
    } else {
      g_string_append_c (s, *p);
    }
  }
  return g_string_free (s, FALSE);
}

static gboolean
valid_address (const gchar *a)
{
  const gchar *at = a ? strchr (a, '@') : NULL;

  if (!at || at == a || !at[1] || strchr (at + 1, '@'))
    return FALSE;
  for (; *a; a++)
    if ((guchar) *a <= 0x20 || *a == 0x7f || strchr ("<>()[]\\,;:\"", *a))
      return FALSE;
  return TRUE;
}

gboolean
tcd_transfer_email (JsonNode *email, const gchar *subject, const gchar *body,
                    const TcdAttachment *attachments, guint n_attachments,
                    guint timeout_s, GCancellable *cancellable, GError **error)
{
  JsonObject *o = as_object (email);
  const gchar *server = get_string (o, "server", "");
  const gchar *sender = get_string (o, "sender_address", "");
  const gchar *encryption = get_string (o, "encryption", "none");
  gboolean implicit_tls = g_strcmp0 (encryption, "ssl_tls") == 0;
  gboolean starttls = g_strcmp0 (encryption, "starttls") == 0;
  JsonNode *receivers_node = member (o, "receivers");
  JsonArray *receivers = receivers_node && JSON_NODE_HOLDS_ARRAY (receivers_node)
      ? json_node_get_array (receivers_node) : NULL;
  g_auto (Transfer) t = { 0 };
  g_autoptr (CurlSlist) rcpt = NULL, headers = NULL;
  g_autoptr (curl_mime) mime = NULL;
  g_auto (Field) to = { 0 }, field = { 0 };
  g_autoptr (GDateTime) now = tcd_clock_now_local ();
  g_autofree gchar *url = NULL, *date = NULL, *message_id = NULL, *uuid = NULL;
  g_autofree gchar *mail_from = NULL, *text = NULL;
  const gchar *domain;
  curl_mimepart *part;

  if (!transfer_init (&t, "Email", host_port (server, get_int (o, "port", 25)), timeout_s,
          cancellable, error))
    return FALSE;
  if (!has_text (server)) {
    set_error (&t, error, TCD_TRANSFER_ERROR_CONFIG, "no SMTP server");
    return FALSE;
  }
  if (!receivers || json_array_get_length (receivers) == 0) {
    set_error (&t, error, TCD_TRANSFER_ERROR_CONFIG, "no receivers");
    return FALSE;
  }
  if (!valid_address (sender)) {
    set_error (&t, error, TCD_TRANSFER_ERROR_CONFIG, "no valid sender address");
    return FALSE;
  }

  field_init (&to, "To");
  for (guint i = 0; i < json_array_get_length (receivers); i++) {
    JsonObject *r = as_object (json_array_get_element (receivers, i));
    const gchar *address = get_string (r, "address", "");
    g_autofree gchar *rcpt_to = NULL;

    if (!valid_address (address)) {
      set_error (&t, error, TCD_TRANSFER_ERROR_CONFIG, "invalid receiver address");
      return FALSE;
    }
    rcpt_to = g_strdup_printf ("<%s>", address);
    rcpt = curl_slist_append (rcpt, rcpt_to);
    field_add_mailbox (&to, i ? ", " : "", get_string (r, "name", ""), address);
  }

  date = mail_date (now);
  domain = strchr (sender, '@') + 1;
  uuid = g_uuid_string_random ();
  message_id = g_strdup_printf ("<%s@%s>", uuid, domain);
  field_init (&field, "Date");
  field_add (&field, "", date);
  headers = field_end (headers, &field);
  field_init (&field, "From");
  field_add_mailbox (&field, "", get_string (o, "sender_name", "thermocam"), sender);
  headers = field_end (headers, &field);
  headers = field_end (headers, &to);
  field_init (&field, "Subject");
  field_add_text (&field, subject);
  headers = field_end (headers, &field);
  field_init (&field, "Message-ID");
  field_add (&field, "", message_id);
  headers = field_end (headers, &field);

  /* CRLF line ends: hard line breaks in quoted-printable, not "=0A" */
  text = crlf_lines (body);
  mime = curl_mime_init (t.curl);
  part = curl_mime_addpart (mime);
  curl_mime_data (part, text, CURL_ZERO_TERMINATED);
  curl_mime_type (part, "text/plain; charset=UTF-8");
  curl_mime_encoder (part, "quoted-printable");
  for (guint i = 0; i < n_attachments; i++) {
    const TcdAttachment *a = &attachments[i];
    g_autofree gchar *fallback = g_strdup_printf ("attachment-%u", i + 1);
    g_autofree gchar *filename = header_text (has_text (a->name) ? a->name : fallback);
    gsize size = 0;
    const gchar *bytes = a->data ? g_bytes_get_data (a->data, &size) : NULL;

    part = curl_mime_addpart (mime);
    curl_mime_data (part, bytes ? bytes : "", size);
    curl_mime_type (part, has_text (a->content_type) ? a->content_type
                                                     : "application/octet-stream");
    curl_mime_filename (part, filename);
    curl_mime_encoder (part, "base64");
  }

  url = g_strdup_printf ("%s://%s", implicit_tls ? "smtps" : "smtp", t.target);
  mail_from = g_strdup_printf ("<%s>", sender);
  curl_easy_setopt (t.curl, CURLOPT_URL, url);
  curl_easy_setopt (t.curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt (t.curl, CURLOPT_USE_SSL, (long) (starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  set_verify (&t, get_bool (o, "verify_certificate", TRUE));
  if (get_bool (o, "authentication", FALSE))
    set_credentials (&t, get_string (o, "user", ""), get_string (o, "password", ""));
  curl_easy_setopt (t.curl, CURLOPT_MAIL_FROM, mail_from);
  curl_easy_setopt (t.curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt (t.curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (t.curl, CURLOPT_MIMEPOST, mime);
  return transfer_perform (&t, error);
}

/* ---- HTTP ---- */

gboolean
tcd_transfer_http_post (JsonNode *receiver, const gchar *json, guint timeout_s,
                        GCancellable *cancellable, GError **error)
{
  JsonObject *o = as_object (receiver);
  const gchar *url = get_string (o, "url", "");
  const gchar *user = get_string (o, "user", "");
  g_auto (Transfer) t = { 0 };
  g_autoptr (CURLU) cu = NULL;
  g_autoptr (CurlSlist) headers = NULL;
  g_autofree gchar *target = NULL;
  gchar *host = NULL, *port = NULL, *url_password = NULL;
  glong status = 0;
  gboolean parsed;

  g_return_val_if_fail (json != NULL, FALSE);

  /* the receiver as host:port: the URL may have credentials in it */
  global_init_once ();
  cu = curl_url ();
  parsed = cu && has_text (url)
      && curl_url_set (cu, CURLUPART_URL, url, 0) == CURLUE_OK
      && curl_url_get (cu, CURLUPART_HOST, &host, 0) == CURLUE_OK
      && curl_url_get (cu, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;
  if (parsed)
    target = g_strdup_printf ("%s:%s", host, port);
  else
    target = g_strdup (has_text (url) ? "(invalid URL)" : "(no URL)");
  if (parsed && curl_url_get (cu, CURLUPART_PASSWORD, &url_password, 0) != CURLUE_OK)
    url_password = NULL;
  curl_free (host);
  curl_free (port);

  if (!transfer_init (&t, "HTTP POST", g_steal_pointer (&target), timeout_s, cancellable, error))
    return FALSE;
  t.url_password = g_strdup (url_password);
  curl_free (url_password);
  if (!parsed) {
    set_error (&t, error, TCD_TRANSFER_ERROR_CONFIG, NULL);
    return FALSE;
  }

  headers = curl_slist_append (headers, "Content-Type: application/json");
  headers = curl_slist_append (headers, "Expect:");     /* no 100-continue wait */
  curl_easy_setopt (t.curl, CURLOPT_URL, url);
  curl_easy_setopt (t.curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (t.curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (t.curl, CURLOPT_POSTFIELDS, json);
  curl_easy_setopt (t.curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen (json));
  set_verify (&t, get_bool (o, "verify_certificate", TRUE));
  if (has_text (user)) {
    set_credentials (&t, user, get_string (o, "password", ""));
    curl_easy_setopt (t.curl, CURLOPT_HTTPAUTH, (long) (CURLAUTH_BASIC | CURLAUTH_DIGEST));
  }
  if (!transfer_perform (&t, error))
    return FALSE;

  curl_easy_getinfo (t.curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    g_autofree gchar *detail = g_strdup_printf ("the server answered %ld", status);
    set_error (&t, error, status == 401 || status == 407 ? TCD_TRANSFER_ERROR_AUTH
                                                       : TCD_TRANSFER_ERROR_REFUSED, detail);
    return FALSE;
  }
  return TRUE;
}
