/* thermocamd: DDNS (manual 9.5): the DynDNS and NO-IP update protocol
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-ddns.h"

#include <curl/curl.h>
#include <string.h>

#include "tc-json.h"
#include "tcd-dscp.h"

#define MAX_ANSWER 1024                 /* the answers are a line */
#define TIMEOUT_S 20
#define RETRY_LATER_S (30 * 60)         /* dnserr, 911: the services ask 30 min */
#define USER_AGENT "thermocam - thermocamd - " PACKAGE_VERSION

struct _TcdDdns {
  TcdDdnsFatalFunc fatal;
  gpointer user_data;
  /* the settings */
  gboolean enabled;
  gchar *type, *server, *domain, *user, *password, *address;
  gboolean https;
  guint interval_s, dscp;
  /* the state */
  const gchar *state;                   /* static */
  gchar *answer, *message, *sent_address;
  gint64 last_update, next_update;      /* real time, us; 0: none */
  guint updates;
  guint timer;
  GCancellable *running;                /* an update on its way */
  gboolean again;                       /* settings changed while it ran */
};

gchar *
tcd_ddns_answer_code (const gchar *body)
{
  const gchar *s = body ? body : "";
  gsize n;

  while (g_ascii_isspace (*s))
    s++;
  for (n = 0; s[n] && !g_ascii_isspace (s[n]) && n < 32; n++);
  return g_strndup (s, n);
}

TcdDdnsVerdict
tcd_ddns_verdict (const gchar *code)
{
  if (g_strcmp0 (code, "good") == 0 || g_strcmp0 (code, "nochg") == 0)
    return TCD_DDNS_OK;
  if (g_strcmp0 (code, "dnserr") == 0 || g_strcmp0 (code, "911") == 0)
    return TCD_DDNS_RETRY_LATER;
  /* badauth, !donator, notfqdn, nohost, numhost, abuse, badagent, !yours,
   * and whatever the protocol does not know: asking again as is would be
   * abuse */
  return TCD_DDNS_FATAL;
}

/* ---- one update, on a worker thread ---- */

typedef struct {
  gchar *url, *user, *password;
  guint dscp;
  GString *body;
  glong status;
  gchar errbuf[CURL_ERROR_SIZE];
} Update;

static void
update_free (Update *u)
{
  g_free (u->url);
  g_free (u->user);
  if (u->password)
    memset (u->password, 0, strlen (u->password));
  g_free (u->password);
  if (u->body)
    g_string_free (u->body, TRUE);
  g_free (u);
}

static size_t
write_cb (char *data, size_t size, size_t n, void *user_data)
{
  Update *u = user_data;
  gsize len = size * n;

  if (u->body->len + len > MAX_ANSWER)
    return 0;                   /* bounded: the transfer fails */
  g_string_append_len (u->body, data, len);
  return len;
}

static int
sockopt_cb (void *user_data, curl_socket_t fd, curlsocktype purpose)
{
  Update *u = user_data;
  if (u->dscp)
    tcd_dscp_set_fd (fd, u->dscp);
  return CURL_SOCKOPT_OK;
}

static void
update_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Update *u = task_data;
  CURL *curl = curl_easy_init ();
  CURLcode rc;

  if (!curl) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "no curl handle");
    return;
  }
  u->body = g_string_new (NULL);
  curl_easy_setopt (curl, CURLOPT_URL, u->url);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, u->errbuf);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, (long) TIMEOUT_S);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, (long) TIMEOUT_S);
  curl_easy_setopt (curl, CURLOPT_USERAGENT, USER_AGENT);
  curl_easy_setopt (curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
  curl_easy_setopt (curl, CURLOPT_USERNAME, u->user);
  curl_easy_setopt (curl, CURLOPT_PASSWORD, u->password);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, u);
  curl_easy_setopt (curl, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
  curl_easy_setopt (curl, CURLOPT_SOCKOPTDATA, u);
  curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  rc = curl_easy_perform (curl);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &u->status);
  curl_easy_cleanup (curl);
  if (rc != CURLE_OK) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
        *u->errbuf ? u->errbuf : curl_easy_strerror (rc));
    return;
  }
  g_task_return_boolean (task, TRUE);
}

/* ---- the schedule ---- */

static void start_update (TcdDdns *d);

static gboolean
timer_cb (gpointer data)
{
  TcdDdns *d = data;
  d->timer = 0;
  start_update (d);
  return G_SOURCE_REMOVE;
}

static void
schedule (TcdDdns *d, guint seconds)
{
  g_clear_handle_id (&d->timer, g_source_remove);
  if (!d->enabled || g_str_equal (d->state, "stopped")) {
    d->next_update = 0;
    return;
  }
  d->timer = g_timeout_add_seconds (seconds, timer_cb, d);
  d->next_update = g_get_real_time () + (gint64) seconds * G_USEC_PER_SEC;
}

static void
set_message (TcdDdns *d, const gchar *state, const gchar *answer, const gchar *message)
{
  d->state = state;
  g_free (d->answer);
  d->answer = g_strdup (answer);
  g_free (d->message);
  d->message = g_strdup (message);
}

static void
update_done (GObject *source, GAsyncResult *res, gpointer data)
{
  GTask *task = G_TASK (res);
  Update *u = g_task_get_task_data (task);
  g_autoptr (GError) err = NULL;
  TcdDdns *d;
  g_autofree gchar *code = NULL, *line = NULL;

  if (!g_task_propagate_boolean (task, &err)
      && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;                     /* freed */
  d = data;
  g_clear_object (&d->running);
  d->last_update = g_get_real_time ();
  d->updates++;
  if (err) {
    g_message ("DDNS: update failed: %s", err->message);
    set_message (d, "retry", NULL, err->message);
  } else if (u->status != 200) {
    g_autofree gchar *m = g_strdup_printf ("HTTP status %ld", u->status);
    g_message ("DDNS: %s", m);
    /* 401 is a badauth said in HTTP */
    if (u->status == 401 || u->status == 403) {
      set_message (d, "stopped", "badauth", m);
    } else {
      set_message (d, "retry", NULL, m);
    }
  } else {
    line = g_strndup (u->body->str, strcspn (u->body->str, "\r\n"));
    code = tcd_ddns_answer_code (line);
    g_message ("DDNS: %s answered \"%s\"", d->domain, line);
    switch (tcd_ddns_verdict (code)) {
      case TCD_DDNS_OK:
        set_message (d, "ok", code, line);
        g_free (d->sent_address);
        d->sent_address = g_strdup (d->address);
        break;
      case TCD_DDNS_RETRY_LATER:
        set_message (d, "retry", code, line);
        schedule (d, RETRY_LATER_S);
        goto done;
      case TCD_DDNS_FATAL:
        set_message (d, "stopped", code, line);
        break;
    }
  }
  if (g_str_equal (d->state, "stopped")) {
    g_clear_handle_id (&d->timer, g_source_remove);
    d->next_update = 0;
    if (d->fatal)
      d->fatal (d->answer, d->message, d->user_data);
    return;
  }
  schedule (d, d->interval_s);
done:
  if (d->again) {
    d->again = FALSE;
    start_update (d);
  }
}

static gchar *
update_url (TcdDdns *d)
{
  const gchar *server = *d->server ? d->server
      : g_str_equal (d->type, "noip") ? "dynupdate.no-ip.com" : "members.dyndns.org";
  g_autofree gchar *host = g_uri_escape_string (d->domain, NULL, FALSE);
  g_autofree gchar *ip = d->address ? g_uri_escape_string (d->address, NULL, FALSE) : NULL;

  return g_strdup_printf ("%s://%s/nic/update?hostname=%s%s%s", d->https ? "https" : "http",
      server, host, ip ? "&myip=" : "", ip ? ip : "");
}

static void
start_update (TcdDdns *d)
{
  Update *u;
  g_autoptr (GTask) task = NULL;

  if (!d->enabled || g_str_equal (d->state, "stopped"))
    return;
  if (d->running) {
    d->again = TRUE;
    return;
  }
  u = g_new0 (Update, 1);
  u->url = update_url (d);
  u->user = g_strdup (d->user);
  u->password = g_strdup (d->password);
  u->dscp = d->dscp;
  d->running = g_cancellable_new ();
  d->state = "updating";
  task = g_task_new (NULL, d->running, update_done, d);
  g_task_set_task_data (task, u, (GDestroyNotify) update_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, update_thread);
}

/* ---- the object ---- */

TcdDdns *
tcd_ddns_new (TcdDdnsFatalFunc fatal, gpointer user_data)
{
  TcdDdns *d = g_new0 (TcdDdns, 1);

  d->fatal = fatal;
  d->user_data = user_data;
  d->state = "off";
  d->type = g_strdup ("dyndns");
  d->server = g_strdup ("");
  d->domain = g_strdup ("");
  d->user = g_strdup ("");
  d->password = g_strdup ("");
  return d;
}

static gboolean
replace (gchar **slot, const gchar *value)
{
  if (g_strcmp0 (*slot, value) == 0)
    return FALSE;
  g_free (*slot);
  *slot = g_strdup (value);
  return TRUE;
}

void
tcd_ddns_configure (TcdDdns *d, JsonNode *ddns, const gchar *address, guint dscp)
{
  JsonObject *o = ddns && JSON_NODE_HOLDS_OBJECT (ddns) ? json_node_get_object (ddns) : NULL;
  gboolean enabled = o && tc_json_get_bool (o, "enabled", FALSE);
  gboolean settings = FALSE, moved;
  guint interval = o ? (guint) tc_json_get_int (o, "interval_s", 600) : 600;

  d->dscp = dscp;
  if (o) {
    settings |= replace (&d->type, tc_json_get_string (o, "type", "dyndns"));
    settings |= replace (&d->server, tc_json_get_string (o, "server", ""));
    settings |= replace (&d->domain, tc_json_get_string (o, "domain", ""));
    settings |= replace (&d->user, tc_json_get_string (o, "user", ""));
    settings |= replace (&d->password, tc_json_get_string (o, "password", ""));
    if (d->https != tc_json_get_bool (o, "https", TRUE)) {
      d->https = !d->https;
      settings = TRUE;
    }
  }
  settings |= enabled != d->enabled;
  settings |= interval != d->interval_s;
  moved = replace (&d->address, address);
  d->enabled = enabled;
  d->interval_s = MAX (interval, 1);
  if (!enabled) {
    if (d->running)
      g_cancellable_cancel (d->running);
    g_clear_object (&d->running);
    g_clear_handle_id (&d->timer, g_source_remove);
    set_message (d, "off", NULL, NULL);
    d->next_update = 0;
    return;
  }
  if (settings) {
    /* new settings lift a stop and are sent now */
    if (g_str_equal (d->state, "stopped") || g_str_equal (d->state, "off"))
      set_message (d, "idle", NULL, NULL);
    start_update (d);
  } else if (moved) {
    start_update (d);
  }
}

gboolean
tcd_ddns_update_now (TcdDdns *d, GError **error)
{
  if (!d->enabled) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, "DDNS is off");
    return FALSE;
  }
  if (g_str_equal (d->state, "stopped")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
        "DDNS stopped after \"%s\": change the settings first", d->answer ? d->answer : "?");
    return FALSE;
  }
  start_update (d);
  return TRUE;
}

static void
set_time (JsonObject *o, const gchar *name, gint64 us)
{
  g_autoptr (GDateTime) t = us ? g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC) : NULL;
  g_autofree gchar *s = t ? g_date_time_format_iso8601 (t) : NULL;

  if (s)
    json_object_set_string_member (o, name, s);
  else
    json_object_set_null_member (o, name);
}

JsonNode *
tcd_ddns_status (TcdDdns *d)
{
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();

  json_node_take_object (n, o);
  json_object_set_boolean_member (o, "enabled", d->enabled);
  json_object_set_string_member (o, "state", d->state);
  if (d->answer)
    json_object_set_string_member (o, "answer", d->answer);
  else
    json_object_set_null_member (o, "answer");
  if (d->message)
    json_object_set_string_member (o, "message", d->message);
  else
    json_object_set_null_member (o, "message");
  if (d->sent_address)
    json_object_set_string_member (o, "address", d->sent_address);
  else
    json_object_set_null_member (o, "address");
  set_time (o, "last_update", d->last_update);
  set_time (o, "next_update", d->next_update);
  json_object_set_int_member (o, "updates", d->updates);
  return n;
}

void
tcd_ddns_free (TcdDdns *d)
{
  if (!d)
    return;
  g_clear_handle_id (&d->timer, g_source_remove);
  if (d->running) {
    /* the thread's answer finds it cancelled and does not touch @d */
    g_cancellable_cancel (d->running);
    g_clear_object (&d->running);
  }
  g_free (d->type);
  g_free (d->server);
  g_free (d->domain);
  g_free (d->user);
  if (d->password)
    memset (d->password, 0, strlen (d->password));
  g_free (d->password);
  g_free (d->address);
  g_free (d->answer);
  g_free (d->message);
  g_free (d->sent_address);
  g_free (d);
}
