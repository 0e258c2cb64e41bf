/* thermocamd: the RS-232 port's console and transparent channel as a
 * service of the table (services/tcd-service.h); what they do: tcd-serial.h
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-serial.h"

#include <string.h>

#include "tcd-conns.h"

#define LOGIN_TIMEOUT_MS 20000
#define CHUNK 4096

typedef enum { ASK_USER, ASK_PASSWORD, BRIDGED } ClientState;

typedef struct {
  GSocketConnection *conn;
  GSocket *sock;
  GSocketAddress *remote;
  gchar *address, *user;
  ClientState state;
  gchar line[SERIAL_LINE_MAX + 1];
  gsize len;
  GSource *in_src, *out_src;
  GByteArray *out;              /* toward the client, bounded */
} Client;

typedef struct {
  TcdContext *ctx;
  TcdRs232 *port;
  SerialConsole *console;
  gchar *use;                   /* the use the port had at the last change */
  /* the transparent channel */
  TcdConns *conns;
  TcdListener *listener;
  gchar *address;
  guint want_port, port_num;
  gboolean started;
  Client *client;
  guint64 clients, busy, logins_failed, to_client, to_line, dropped_to_client;
} Service;

static void client_close (Service *s, const gchar *why);
static void client_update_sources (Service *s);

/* ---- the line ---- */

static void
on_line_read (const guint8 *data, gsize len, gpointer user_data)
{
  Service *s = user_data;
  Client *c = s->client;

  if (g_str_equal (tcd_rs232_use (s->port), "console")) {
    serial_console_input (s->console, data, len);
    return;
  }
  if (!c || c->state != BRIDGED) {
    tcd_rs232_count_dropped (s->port, len);
    return;
  }
  if (c->out->len + len > SERIAL_CLIENT_QUEUE) {
    gsize fit = SERIAL_CLIENT_QUEUE - c->out->len;
    s->dropped_to_client += len - fit;
    len = fit;
  }
  g_byte_array_append (c->out, data, len);
  client_update_sources (s);
}

static void
on_line_room (gpointer user_data)
{
  Service *s = user_data;

  if (s->client)
    client_update_sources (s);
}

static void listen_or_not (Service *s);

static void
on_line_state (gpointer user_data)
{
  Service *s = user_data;
  gboolean console = g_str_equal (tcd_rs232_use (s->port), "console");
  gboolean new_use = g_strcmp0 (s->use, tcd_rs232_use (s->port)) != 0;

  g_free (s->use);
  s->use = g_strdup (tcd_rs232_use (s->port));
  if (console)
    serial_console_reset (s->console, tcd_rs232_is_open (s->port));
  if (s->client && (new_use || !tcd_rs232_is_open (s->port)))
    client_close (s, "the serial port closed or its use changed");
  listen_or_not (s);
}

/* ---- the client of the transparent channel ---- */

static void
client_send (Client *c, const gchar *text)
{
  g_byte_array_append (c->out, (const guint8 *) text, strlen (text));
}

static void
client_close (Service *s, const gchar *why)
{
  Client *c = s->client;

  if (!c)
    return;
  s->client = NULL;
  g_message ("serial: channel client %s gone: %s", c->address, why);
  if (c->user)
    tcd_audit (s->ctx->security, "logout", c->user, c->address, "serial channel: %s", why);
  if (c->in_src) {
    g_source_destroy (c->in_src);
    g_source_unref (c->in_src);
  }
  if (c->out_src) {
    g_source_destroy (c->out_src);
    g_source_unref (c->out_src);
  }
  /* what is still queued gets one try */
  if (c->out->len)
    g_socket_send (c->sock, (const gchar *) c->out->data, c->out->len, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (c->conn), NULL, NULL);
  g_object_unref (c->conn);
  g_object_unref (c->remote);
  g_byte_array_unref (c->out);
  g_free (c->address);
  g_free (c->user);
  memset (c->line, 0, sizeof c->line);
  g_free (c);
}

static void
login_line (Service *s, Client *c)
{
  c->line[c->len] = '\0';
  g_strstrip (c->line);
  if (c->state == ASK_USER) {
    g_free (c->user);
    c->user = g_strndup (c->line, 32);
    c->state = ASK_PASSWORD;
    client_send (c, "password: ");
  } else {
    TcdLevel level = tcd_users_get_level (s->ctx->users, c->user);
    if (tcd_users_check_password (s->ctx->users, c->user, c->line)
        && level >= TCD_LEVEL_OPERATOR
        && (tcd_users_get_permissions (s->ctx->users, c->user) & TCD_PERM_SERIAL)) {
      g_autofree gchar *d = tcd_rs232_describe (s->port);
      g_autofree gchar *ok = g_strdup_printf ("OK %s %s\r\n", tcd_rs232_device (s->port), d);
      c->state = BRIDGED;
      tcd_security_login_succeeded (s->ctx->security, c->address, "serial", c->user, TRUE);
      tcd_conns_set_deadline (s->conns, c->remote, 0);
      client_send (c, ok);
      g_message ("serial: channel open to %s (%s)", c->address, c->user);
    } else {
      g_autofree gchar *user = g_steal_pointer (&c->user);
      g_autofree gchar *address = g_strdup (c->address);

      s->logins_failed++;
      client_send (c, "login incorrect\r\n");
      /* a lock this failure brings ends the client at once (security_changed,
       * called from within): @c is gone then */
      tcd_security_login_failed (s->ctx->security, address, "serial", user);
      if (s->client == c)
        client_close (s, "login incorrect");
      return;
    }
  }
  memset (c->line, 0, sizeof c->line);
  c->len = 0;
}

static gboolean
client_readable (GSocket *sock, GIOCondition cond, gpointer user_data)
{
  Service *s = user_data;
  Client *c = s->client;
  guint8 buf[CHUNK];
  gssize n, i;
  gsize want;
  g_autoptr (GError) err = NULL;

  if (!c)
    return G_SOURCE_REMOVE;
  want = c->state == BRIDGED ? MIN (sizeof buf, tcd_rs232_room (s->port)) : sizeof buf;
  if (want == 0) {
    client_update_sources (s);
    return G_SOURCE_CONTINUE;
  }
  n = g_socket_receive (sock, (gchar *) buf, want, NULL, &err);
  if (n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n <= 0) {
    client_close (s, n == 0 ? "closed by the client" : err->message);
    return G_SOURCE_CONTINUE;   /* the source was destroyed with the client */
  }
  if (c->state == BRIDGED) {
    s->to_line += tcd_rs232_write (s->port, buf, n);
    client_update_sources (s);
    return G_SOURCE_CONTINUE;
  }
  for (i = 0; i < n && s->client == c && c->state != BRIDGED; i++) {
    if (buf[i] == '\n' || buf[i] == '\r') {
      /* CR LF and empty lines: nothing (no account has an empty name or password) */
      if (c->len > 0)
        login_line (s, c);
    } else if (c->len < SERIAL_LINE_MAX) {
      c->line[c->len++] = buf[i];
    } else {
      client_send (c, "line too long\r\n");
      client_close (s, "login line too long");
      return G_SOURCE_CONTINUE;
    }
  }
  /* what followed the password in the same read (a client that does not
   * wait for "OK") belongs to the line: @want was the whole buffer then, so
   * what the line has no room for is dropped and counted by the port */
  if (s->client == c && c->state == BRIDGED && i < n) {
    /* the LF of the password's CR LF is not data */
    if (buf[i - 1] == '\r' && buf[i] == '\n')
      i++;
    if (i < n)
      s->to_line += tcd_rs232_write (s->port, buf + i, n - i);
  }
  if (s->client == c)
    client_update_sources (s);
  return G_SOURCE_CONTINUE;
}

static gboolean
client_writable (GSocket *sock, GIOCondition cond, gpointer user_data)
{
  Service *s = user_data;
  Client *c = s->client;
  gssize n;
  g_autoptr (GError) err = NULL;

  if (!c)
    return G_SOURCE_REMOVE;
  n = g_socket_send (sock, (const gchar *) c->out->data, c->out->len, NULL, &err);
  if (n < 0 && !g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
    client_close (s, err->message);
    return G_SOURCE_CONTINUE;
  }
  if (n > 0) {
    if (c->state == BRIDGED)
      s->to_client += n;
    g_byte_array_remove_range (c->out, 0, n);
  }
  client_update_sources (s);
  return G_SOURCE_CONTINUE;
}

/* reads while the line has room, writes while something waits */
static void
client_update_sources (Service *s)
{
  Client *c = s->client;
  gboolean want_in = c->state != BRIDGED || tcd_rs232_room (s->port) > 0;
  gboolean want_out = c->out->len > 0;

  if (want_in && !c->in_src) {
    c->in_src = g_socket_create_source (c->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback (c->in_src, (GSourceFunc) (void (*) (void)) client_readable, s, NULL);
    g_source_attach (c->in_src, NULL);
  } else if (!want_in && c->in_src) {
    g_source_destroy (c->in_src);
    g_clear_pointer (&c->in_src, g_source_unref);
  }
  if (want_out && !c->out_src) {
    c->out_src = g_socket_create_source (c->sock, G_IO_OUT, NULL);
    g_source_set_callback (c->out_src, (GSourceFunc) (void (*) (void)) client_writable, s,
        NULL);
    g_source_attach (c->out_src, NULL);
  } else if (!want_out && c->out_src) {
    g_source_destroy (c->out_src);
    g_clear_pointer (&c->out_src, g_source_unref);
  }
}

static void
on_accept (TcdListener *listener, GSocketConnection *conn, GSocketAddress *remote,
    gpointer user_data)
{
  Service *s = user_data;
  GInetAddress *ia = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
  g_autofree gchar *ip = g_inet_address_to_string (ia);
  GSocket *sock = g_socket_connection_get_socket (conn);
  Client *c;

  if (!tcd_security_address_allowed (s->ctx->security, ia)
      || tcd_security_is_locked (s->ctx->security, ip, NULL)) {
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    return;
  }
  if (s->client) {
    s->busy++;
    g_socket_set_blocking (sock, FALSE);
    g_socket_send (sock, "busy: one client at a time\r\n", 28, NULL, NULL);
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    return;
  }
  s->clients++;
  c = g_new0 (Client, 1);
  c->conn = g_object_ref (conn);
  c->sock = sock;
  c->remote = g_object_ref (remote);
  c->address = g_steal_pointer (&ip);
  c->out = g_byte_array_new ();
  g_socket_set_blocking (sock, FALSE);
  s->client = c;
  tcd_conns_set_deadline (s->conns, remote, LOGIN_TIMEOUT_MS);
  client_send (c, "thermocam serial channel\r\nlogin: ");
  client_update_sources (s);
}

/* ---- listening ---- */

static void
listen_or_not (Service *s)
{
  gboolean want = s->started && g_str_equal (tcd_rs232_use (s->port), "transparent")
      && *tcd_rs232_device (s->port);
  g_autoptr (GError) err = NULL;

  if (!want) {
    client_close (s, "the transparent channel is off");
    g_clear_pointer (&s->listener, tcd_listener_free);
    /* no descriptor held (the table's reserve) while the channel is off */
    g_clear_pointer (&s->conns, tcd_conns_free);
    s->port_num = 0;
    return;
  }
  if (s->listener)
    return;
  if (!s->conns)
    s->conns = tcd_conns_new (4, 2, tcd_address_key);
  s->listener = tcd_conns_listen (s->conns, s->address, s->want_port, on_accept, s,
      &s->port_num, &err);
  if (!s->listener) {
    g_warning ("serial: the transparent channel cannot listen on port %u: %s", s->want_port,
        err->message);
    s->port_num = 0;
    return;
  }
  /* a free port picked once stays the channel's while the daemon runs */
  if (!s->want_port)
    s->want_port = s->port_num;
  g_message ("serial: transparent channel on TCP port %u", s->port_num);
}

/* ---- the service ---- */

static gpointer
create (TcdContext *ctx)
{
  Service *s = g_new0 (Service, 1);

  s->ctx = ctx;
  s->port = ctx->rs232;
  s->console = serial_console_new (ctx, s->port);
  s->use = g_strdup (tcd_rs232_use (s->port));
  tcd_rs232_set_funcs (s->port, on_line_read, on_line_room, on_line_state, s);
  return s;
}

static gboolean
start (gpointer self, const gchar *address, const guint *ports, GError **error)
{
  Service *s = self;

  g_free (s->address);
  s->address = g_strdup (address);
  s->want_port = ports[0];
  s->started = TRUE;
  listen_or_not (s);
  return TRUE;
}

static void
apply (gpointer self, JsonNode *doc)
{
  listen_or_not (self);
}

/* the IP filter, a lock, an account removed or lowered, the factory state:
 * a client that would not be let in now goes */
static void
security_changed (gpointer self, TcdSecurityChange what)
{
  Service *s = self;
  Client *c = s->client;
  GInetAddress *ia;

  serial_console_security_changed (s->console);
  if (!c)
    return;
  ia = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (c->remote));
  if ((what & TCD_SECURITY_FACTORY) || !tcd_security_address_allowed (s->ctx->security, ia)
      || tcd_security_is_locked (s->ctx->security, c->address, NULL)
      || (c->state == BRIDGED
          && (tcd_users_get_level (s->ctx->users, c->user) < TCD_LEVEL_OPERATOR
              || !(tcd_users_get_permissions (s->ctx->users, c->user) & TCD_PERM_SERIAL))))
    client_close (s, "no longer allowed");
}

static guint
get_port (gpointer self, guint i)
{
  return ((Service *) self)->port_num;
}

static JsonNode *
stats (gpointer self)
{
  Service *s = self;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "console");
  json_builder_add_value (b, serial_console_stats (s->console));
  json_builder_set_member_name (b, "channel");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, s->port_num);
  json_builder_set_member_name (b, "client");
  if (s->client) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "address");
    json_builder_add_string_value (b, s->client->address);
    json_builder_set_member_name (b, "user");
    json_builder_add_string_value (b, s->client->state == BRIDGED ? s->client->user : "");
    json_builder_set_member_name (b, "bridged");
    json_builder_add_boolean_value (b, s->client->state == BRIDGED);
    json_builder_end_object (b);
  } else {
    json_builder_add_null_value (b);
  }
  json_builder_set_member_name (b, "clients");
  json_builder_add_int_value (b, s->clients);
  json_builder_set_member_name (b, "busy_refused");
  json_builder_add_int_value (b, s->busy);
  json_builder_set_member_name (b, "logins_failed");
  json_builder_add_int_value (b, s->logins_failed);
  json_builder_set_member_name (b, "bytes_to_client");
  json_builder_add_int_value (b, s->to_client);
  json_builder_set_member_name (b, "bytes_to_line");
  json_builder_add_int_value (b, s->to_line);
  json_builder_set_member_name (b, "dropped_to_client");
  json_builder_add_int_value (b, s->dropped_to_client);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
stop (gpointer self)
{
  Service *s = self;

  s->started = FALSE;
  listen_or_not (s);
}

static void
destroy (gpointer self)
{
  Service *s = self;

  stop (s);
  tcd_rs232_set_funcs (s->port, NULL, NULL, NULL, NULL);
  g_clear_pointer (&s->conns, tcd_conns_free);
  serial_console_free (s->console);
  g_free (s->address);
  g_free (s->use);
  g_free (s);
}

const TcdServiceClass tcd_serial_service = {
  .name = "serial",
  .ports = { "serial", NULL },
  .port_help = { "TCP port of the RS-232 transparent channel while serial.use is transparent "
      "(0: a free one; default: the configuration's, 4001)" },
  .create = create,
  .start = start,
  .apply = apply,
  .security_changed = security_changed,
  .get_port = get_port,
  .stats = stats,
  .stop = stop,
  .destroy = destroy,
};
