/* thermocamd: the audit log to a log server (tcd-syslog.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A message (RFC 5424, 6):
 *   <PRI>1 TIMESTAMP HOSTNAME thermocamd PROCID TYPE [audit@32473 user="" address=""] BOM DETAIL
 * PRI = facility * 8 + severity (warning for failed logins and locks,
 * notice for the rest); TYPE is the audit record's type; 32473 is the
 * private enterprise number RFC 5612 sets aside for examples (no number of
 * ours is registered).  On the wire each message is "LEN SP MSG" (octet
 * counting, RFC 6587 3.4.1, as RFC 5425 has it over TLS).
 *
 * Syslog over TCP has no acknowledgement: a message written into a
 * connection the server has just closed may be lost.  Before each write the
 * connection is checked for the server's close (readable with nothing to
 * read), and a connection idle for a while is made again, which narrows
 * that window to a server that dies while the message is in flight.
 */
#include "tcd-syslog.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "tc-json.h"
#include "tcd-config.h"
#include "tcd-spool.h"

#define CHANNEL "syslog"
#define CONNECT_TIMEOUT_S 10
#define IDLE_RECONNECT_US (60 * G_USEC_PER_SEC)

typedef struct {
  gboolean enabled;
  gchar *server;
  guint port;
  gboolean tls, verify_hostname;
  gchar *ca;
  guint facility;
  guint generation;             /* bumped at each change: the connection is made again */
} Settings;

struct _TcdSyslog {
  TcdSecurity *security;
  TcdSpool *spool;
  gchar *hostname, *ca_path;
  gint pid;
  GMutex lock;
  Settings set;
  /* the worker's (the spool's channel thread) */
  GIOStream *conn;
  guint conn_generation;
  gint64 last_used;
  gboolean connected;           /* under lock, for the status */
  guint64 sent;
  gchar *last_error;
};

static void
settings_clear (Settings *s)
{
  g_clear_pointer (&s->server, g_free);
  g_clear_pointer (&s->ca, g_free);
}

/* ---- the message ---- */

static void
sd_escape (GString *out, const gchar *v)
{
  for (const gchar *p = v ? v : ""; *p; p++) {
    if (*p == '"' || *p == '\\' || *p == ']')
      g_string_append_c (out, '\\');
    g_string_append_c (out, *p);
  }
}

/* PRINTUSASCII only (33..126), at most @max, else "-" */
static void
header_field (GString *out, const gchar *v, gsize max)
{
  gsize n = 0;

  for (const gchar *p = v ? v : ""; *p && n < max; p++)
    if (*p >= 33 && *p <= 126) {
      g_string_append_c (out, *p);
      n++;
    }
  if (n == 0)
    g_string_append_c (out, '-');
}

gchar *
tcd_syslog_format (guint facility, gint64 time_us, const gchar *hostname, gint pid,
    const gchar *type, const gchar *user, const gchar *address, const gchar *detail)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (time_us / G_USEC_PER_SEC);
  g_autofree gchar *stamp = t ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%S") : NULL;
  gboolean warn = g_strcmp0 (type, "login_failed") == 0 || g_strcmp0 (type, "lock") == 0;
  GString *m = g_string_new (NULL);

  g_string_append_printf (m, "<%u>1 %s.%03dZ ", facility * 8 + (warn ? 4 : 5),
      stamp ? stamp : "1970-01-01T00:00:00", (gint) (time_us % G_USEC_PER_SEC / 1000));
  header_field (m, hostname, 255);
  g_string_append_printf (m, " thermocamd %d ", pid);
  header_field (m, type, 32);
  g_string_append (m, " [audit@32473 user=\"");
  sd_escape (m, user);
  g_string_append (m, "\" address=\"");
  sd_escape (m, address);
  g_string_append (m, "\"] \xEF\xBB\xBF");
  if (detail && g_utf8_validate (detail, -1, NULL))
    g_string_append (m, detail);
  return g_string_free (m, FALSE);
}

/* ---- the audit's tap: every record queued ---- */

static void
on_record (gint64 time_us, const gchar *type, const gchar *user, const gchar *address,
    const gchar *detail, gpointer user_data)
{
  TcdSyslog *s = user_data;
  g_autofree gchar *msg = NULL;
  g_autoptr (JsonNode) job = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *id = NULL;
  guint facility;
  gboolean enabled;

  g_mutex_lock (&s->lock);
  enabled = s->set.enabled;
  facility = s->set.facility;
  g_mutex_unlock (&s->lock);
  if (!enabled)
    return;
  msg = tcd_syslog_format (facility, time_us, s->hostname, s->pid, type, user, address,
      detail);
  job = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (job, json_object_new ());
  json_object_set_string_member (json_node_get_object (job), "message", msg);
  if (!(id = tcd_spool_add (s->spool, CHANNEL, job, NULL, 0, &err)))
    g_warning ("log server: a record could not be queued: %s", err->message);
}

/* ---- the worker: one connection, messages in order ---- */

static gboolean
accept_any_name (GTlsConnection *conn, GTlsCertificate *cert, GTlsCertificateFlags errors,
    gpointer user_data)
{
  /* verify_hostname off: a certificate that is right but for another name */
  return errors == G_TLS_CERTIFICATE_BAD_IDENTITY;
}

static void
disconnect (TcdSyslog *s)
{
  if (s->conn) {
    g_io_stream_close (s->conn, NULL, NULL);
    g_clear_object (&s->conn);
  }
  g_mutex_lock (&s->lock);
  s->connected = FALSE;
  g_mutex_unlock (&s->lock);
}

static gboolean
connect_server (TcdSyslog *s, const Settings *set, GCancellable *cancel, GError **error)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) tcp = NULL;

  g_socket_client_set_timeout (client, CONNECT_TIMEOUT_S);
  tcp = g_socket_client_connect_to_host (client, set->server, set->port, cancel, error);
  if (!tcp)
    return FALSE;
  g_socket_set_timeout (g_socket_connection_get_socket (tcp), CONNECT_TIMEOUT_S);
  if (set->tls) {
    g_autoptr (GSocketConnectable) id = g_network_address_new (set->server, set->port);
    g_autoptr (GIOStream) tls = g_tls_client_connection_new (G_IO_STREAM (tcp), id, error);

    if (!tls)
      return FALSE;
    if (set->ca && *set->ca) {
      g_autoptr (GTlsDatabase) db = g_tls_file_database_new (s->ca_path, error);
      if (!db)
        return FALSE;
      g_tls_connection_set_database (G_TLS_CONNECTION (tls), db);
    }
    if (!set->verify_hostname)
      g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_any_name), NULL);
    if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), cancel, error))
      return FALSE;
    s->conn = g_steal_pointer (&tls);
  } else {
    s->conn = G_IO_STREAM (g_steal_pointer (&tcp));
  }
  g_mutex_lock (&s->lock);
  s->connected = TRUE;
  g_mutex_unlock (&s->lock);
  return TRUE;
}

/* Has the server closed its side (or sent something we do not read)? */
static gboolean
peer_closed (TcdSyslog *s)
{
  GSocket *sock;
  GIOStream *base = s->conn;
  guint8 b[256];

  if (G_IS_TLS_CONNECTION (base))
    g_object_get (base, "base-io-stream", &base, NULL);
  else
    g_object_ref (base);
  sock = g_socket_connection_get_socket (G_SOCKET_CONNECTION (base));
  g_object_unref (base);
  if (!(g_socket_condition_check (sock, G_IO_IN | G_IO_HUP | G_IO_ERR)))
    return FALSE;
  /* readable: the server's close (0) or an error; a server says nothing */
  return g_socket_receive_with_blocking (sock, (gchar *) b, sizeof b, FALSE, NULL, NULL) <= 0;
}

static gboolean
send_job (const gchar *channel, JsonNode *job, const gchar *job_dir, GCancellable *cancel,
    gpointer user_data, GError **error)
{
  TcdSyslog *s = user_data;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (job) ? json_node_get_object (job) : NULL;
  const gchar *msg = o ? tc_json_get_string (o, "message", NULL) : NULL;
  g_autofree gchar *frame = NULL;
  Settings set = { 0 };
  gsize written = 0;

  if (!msg)
    return TRUE;                /* nothing to send: done with it */
  g_mutex_lock (&s->lock);
  set = s->set;
  set.server = g_strdup (s->set.server);
  set.ca = g_strdup (s->set.ca);
  g_mutex_unlock (&s->lock);
  if (!set.enabled || !set.server || !*set.server) {
    settings_clear (&set);
    disconnect (s);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "the log server is off");
    return FALSE;
  }
  if (s->conn && (s->conn_generation != set.generation || peer_closed (s)
          || g_get_monotonic_time () - s->last_used > IDLE_RECONNECT_US))
    disconnect (s);
  if (!s->conn && !connect_server (s, &set, cancel, error)) {
    g_prefix_error (error, "%s:%u: ", set.server, set.port);
    settings_clear (&set);
    disconnect (s);
    return FALSE;
  }
  s->conn_generation = set.generation;
  settings_clear (&set);
  frame = g_strdup_printf ("%zu %s", strlen (msg), msg);
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (s->conn), frame,
          strlen (frame), &written, cancel, error)
      || !g_output_stream_flush (g_io_stream_get_output_stream (s->conn), cancel, error)) {
    disconnect (s);
    return FALSE;
  }
  s->last_used = g_get_monotonic_time ();
  g_mutex_lock (&s->lock);
  s->sent++;
  g_mutex_unlock (&s->lock);
  return TRUE;
}

static void
on_note (const gchar *id, const gchar *channel, JsonNode *job, const gchar *state,
    const gchar *reason, guint attempts, gpointer user_data)
{
  TcdSyslog *s = user_data;

  if (g_str_equal (state, "dropped"))
    g_warning ("log server: an audit record was dropped (%s)", reason);
  if (g_str_equal (state, "retry") && attempts == 1)
    g_message ("log server: %s (the records wait)", reason);
  g_mutex_lock (&s->lock);
  if (g_str_equal (state, "delivered"))
    g_clear_pointer (&s->last_error, g_free);
  else if (reason) {
    g_free (s->last_error);
    s->last_error = g_strdup (reason);
  }
  g_mutex_unlock (&s->lock);
}

TcdSyslog *
tcd_syslog_new (TcdSecurity *security, const gchar *state_dir, const gchar *hostname,
    GError **error)
{
  TcdSyslog *s = g_new0 (TcdSyslog, 1);
  g_autofree gchar *dir = g_build_filename (state_dir, "syslog-spool", NULL);

  g_mutex_init (&s->lock);
  s->security = security;
  s->hostname = g_strdup (hostname);
  s->pid = getpid ();
  s->ca_path = g_build_filename (state_dir, "log-server-ca.pem", NULL);
  s->set.facility = 10;
  if (!(s->spool = tcd_spool_new (dir, send_job, on_note, s, error))) {
    tcd_syslog_free (s);
    return NULL;
  }
  tcd_spool_configure (s->spool, 2, 60, 1000, 24 * 30);
  tcd_security_set_audit_tap (security, on_record, s);
  return s;
}

void
tcd_syslog_free (TcdSyslog *s)
{
  if (!s)
    return;
  /* no record comes here any more, then the workers stop: none uses the
   * connection after */
  tcd_security_set_audit_tap (s->security, NULL, NULL);
  if (s->spool)
    tcd_spool_free (s->spool);
  if (s->conn)
    disconnect (s);
  settings_clear (&s->set);
  g_mutex_clear (&s->lock);
  g_free (s->hostname);
  g_free (s->ca_path);
  g_free (s->last_error);
  g_free (s);
}

void
tcd_syslog_apply (TcdSyslog *s, JsonNode *doc)
{
  JsonNode *sec = tcd_config_node (doc, "log_server");
  JsonObject *o = sec && JSON_NODE_HOLDS_OBJECT (sec) ? json_node_get_object (sec) : NULL;
  const gchar *ca;
  gboolean changed;

  if (!o)
    return;
  ca = tc_json_get_string (o, "ca", "");
  g_mutex_lock (&s->lock);
  changed = s->set.enabled != tc_json_get_bool (o, "enabled", FALSE)
      || g_strcmp0 (s->set.server, tc_json_get_string (o, "server", "")) != 0
      || s->set.port != tc_json_get_int (o, "port", 6514)
      || s->set.tls != g_str_equal (tc_json_get_string (o, "transport", "tls"), "tls")
      || s->set.verify_hostname != tc_json_get_bool (o, "verify_hostname", TRUE)
      || g_strcmp0 (s->set.ca, ca) != 0;
  settings_clear (&s->set);
  s->set.enabled = tc_json_get_bool (o, "enabled", FALSE);
  s->set.server = g_strdup (tc_json_get_string (o, "server", ""));
  s->set.port = tc_json_get_int (o, "port", 6514);
  s->set.tls = g_str_equal (tc_json_get_string (o, "transport", "tls"), "tls");
  s->set.verify_hostname = tc_json_get_bool (o, "verify_hostname", TRUE);
  s->set.ca = g_strdup (ca);
  s->set.facility = tc_json_get_int (o, "facility", 10);
  if (changed)
    s->set.generation++;
  if (*ca && changed && !g_file_set_contents (s->ca_path, ca, -1, NULL))
    g_warning ("log server: %s cannot be written", s->ca_path);
  g_mutex_unlock (&s->lock);
  tcd_spool_configure (s->spool, 2, 60, tc_json_get_int (o, "queue_max", 1000), 24 * 30);
  if (changed)
    tcd_spool_kick (s->spool, CHANNEL);
}

gboolean
tcd_syslog_check (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
    gpointer user_data, GError **error)
{
  JsonNode *n = tcd_config_node (doc, "log_server.ca");
  const gchar *ca = n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_string (n) : NULL;
  g_autoptr (GError) err = NULL;
  GList *certs;

  if (!ca || !*ca || tc_json_equal (n, tcd_config_node (current, "log_server.ca")))
    return TRUE;
  /* certificates only: g_tls_certificate_list_new_from_file reads a file */
  {
    g_autofree gchar *tmp = NULL;
    gint fd = g_file_open_tmp ("tcd-ca-XXXXXX.pem", &tmp, &err);
    if (fd < 0) {
      tcd_change_refuse (error, "log_server.ca", "log_server.ca: %s", err->message);
      return FALSE;
    }
    close (fd);
    g_file_set_contents (tmp, ca, -1, NULL);
    certs = g_tls_certificate_list_new_from_file (tmp, &err);
    g_unlink (tmp);
  }
  if (!certs) {
    tcd_change_refuse (error, "log_server.ca", "log_server.ca: not PEM certificates%s%s",
        err ? ": " : "", err ? err->message : "");
    return FALSE;
  }
  g_list_free_full (certs, g_object_unref);
  return TRUE;
}

JsonNode *
tcd_syslog_status (TcdSyslog *s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  g_mutex_lock (&s->lock);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, s->set.enabled);
  json_builder_set_member_name (b, "connected");
  json_builder_add_boolean_value (b, s->connected);
  json_builder_set_member_name (b, "sent");
  json_builder_add_int_value (b, s->sent);
  json_builder_set_member_name (b, "last_error");
  json_builder_add_string_value (b, s->last_error ? s->last_error : "");
  g_mutex_unlock (&s->lock);
  json_builder_set_member_name (b, "queue");
  json_builder_add_value (b, tcd_spool_status (s->spool));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
