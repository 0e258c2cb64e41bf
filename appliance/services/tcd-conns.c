/* thermocamd: listening TCP sockets that a crowd cannot take down
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-conns.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
#define ACCEPT_BURST 32               /* accepts per wake-up: others wait their turn */
#define WARN_EVERY_US (60 * G_USEC_PER_SEC)

typedef struct {
  TcdConns *c;
  GSocketConnection *conn;            /* weak */
  GSocketAddress *remote;             /* ours: the key of by_remote */
  gchar *key;                         /* the per-address bound's */
  gint64 deadline;                    /* monotonic us; 0: none */
} Conn;

struct _TcdConns {
  guint max_total, max_per_address;
  TcdConnsKeyFunc key_func;
  GHashTable *by_remote;              /* GSocketAddress * -> Conn * */
  GHashTable *per_key;                /* key -> open connections (GUINT_TO_POINTER) */
  GSList *listeners;
  gint reserve_fd;                    /* /dev/null, let go when descriptors run out */
  guint tick_id;
  TcdConnsStats stats;
  gint64 last_warning;
  guint64 warned_at;                  /* stats.no_descriptors at the last warning */
};

struct _TcdListener {
  TcdConns *c;
  GSocket *socket;
  GSource *source;
  guint pause_id;
  guint backoff_ms;
  TcdConnsAcceptFunc func;
  gpointer user_data;
};

static void conn_gone (gpointer data, GObject *where_the_object_was);

static void
conn_free (Conn *k)
{
  TcdConns *c = k->c;
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (c->per_key, k->key));

  if (n <= 1)
    g_hash_table_remove (c->per_key, k->key);
  else
    g_hash_table_insert (c->per_key, g_strdup (k->key), GUINT_TO_POINTER (n - 1));
  if (k->conn)
    g_object_weak_unref (G_OBJECT (k->conn), conn_gone, k);
  g_object_unref (k->remote);
  g_free (k->key);
  g_free (k);
}

/* the connection was finalized: whoever served it let it go */
static void
conn_gone (gpointer data, GObject *where_the_object_was)
{
  Conn *k = data;

  k->conn = NULL;
  g_hash_table_remove (k->c->by_remote, k->remote);
}

static void
shut (Conn *k)
{
  if (k->conn)
    g_socket_shutdown (g_socket_connection_get_socket (k->conn), TRUE, TRUE, NULL);
  k->deadline = 0;
}

static gboolean
tick (gpointer data)
{
  TcdConns *c = data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter it;
  Conn *k;

  g_hash_table_iter_init (&it, c->by_remote);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & k))
    if (k->deadline && now >= k->deadline) {
      c->stats.timed_out++;
      shut (k);
    }
  return G_SOURCE_CONTINUE;
}

static void
take_reserve (TcdConns *c)
{
  if (c->reserve_fd < 0)
    c->reserve_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
}

TcdConns *
tcd_conns_new (guint max_total, guint max_per_address, TcdConnsKeyFunc key_func)
{
  TcdConns *c = g_new0 (TcdConns, 1);

  c->max_total = MAX (max_total, 1);
  c->max_per_address = MAX (max_per_address, 1);
  c->key_func = key_func;
  c->by_remote = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
      (GDestroyNotify) conn_free);
  c->per_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  c->reserve_fd = -1;
  take_reserve (c);
  /* deadlines are checked every half second: near enough for timeouts of
   * seconds, and one timer whatever the number of connections */
  c->tick_id = g_timeout_add (500, tick, c);
  return c;
}

void
tcd_conns_free (TcdConns *c)
{
  GHashTableIter it;
  Conn *k;

  if (!c)
    return;
  while (c->listeners)
    tcd_listener_free (c->listeners->data);
  g_hash_table_iter_init (&it, c->by_remote);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & k))
    shut (k);
  g_hash_table_destroy (c->by_remote);
  g_hash_table_destroy (c->per_key);
  g_source_remove (c->tick_id);
  if (c->reserve_fd >= 0)
    close (c->reserve_fd);
  g_free (c);
}

static void
warn_descriptors (TcdConns *c)
{
  gint64 now = g_get_monotonic_time ();

  if (c->last_warning && now - c->last_warning < WARN_EVERY_US)
    return;
  g_warning ("out of file descriptors: %" G_GUINT64_FORMAT " connection(s) refused "
      "since the last warning; accepting slows down until descriptors are free",
      c->stats.no_descriptors - c->warned_at);
  c->last_warning = now;
  c->warned_at = c->stats.no_descriptors;
}

static gboolean listener_ready (GSocket *socket, GIOCondition cond, gpointer data);

static void
listener_watch (TcdListener *l)
{
  l->source = g_socket_create_source (l->socket, G_IO_IN, NULL);
  g_source_set_callback (l->source, (GSourceFunc) (void (*)(void)) listener_ready, l, NULL);
  g_source_attach (l->source, g_main_context_get_thread_default ());
}

static gboolean
listener_resume (gpointer data)
{
  TcdListener *l = data;

  l->pause_id = 0;
  listener_watch (l);
  return G_SOURCE_REMOVE;
}

/* no descriptor for the waiting connection: take it with the reserve and
 * close it (else it stays in the backlog and wakes us again at once), then
 * pause */
static void
out_of_descriptors (TcdListener *l)
{
  TcdConns *c = l->c;

  c->stats.no_descriptors++;
  if (c->reserve_fd >= 0) {
    gint fd;
    close (c->reserve_fd);
    c->reserve_fd = -1;
    fd = accept4 (g_socket_get_fd (l->socket), NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
      close (fd);
    take_reserve (c);
  }
  warn_descriptors (c);
  l->backoff_ms = l->backoff_ms ? MIN (l->backoff_ms * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
  g_source_destroy (l->source);
  g_source_unref (l->source);
  l->source = NULL;
  l->pause_id = g_timeout_add (l->backoff_ms, listener_resume, l);
}

static gchar *
address_text (GSocketAddress *remote)
{
  if (!G_IS_INET_SOCKET_ADDRESS (remote))
    return g_strdup ("?");
  return g_inet_address_to_string (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (remote)));
}

static gboolean
listener_ready (GSocket *socket, GIOCondition cond, gpointer data)
{
  TcdListener *l = data;
  TcdConns *c = l->c;

  for (guint i = 0; i < ACCEPT_BURST; i++) {
    g_autoptr (GError) err = NULL;
    g_autoptr (GSocket) s = g_socket_accept (l->socket, NULL, &err);
    g_autoptr (GSocketConnection) conn = NULL;
    g_autoptr (GSocketAddress) remote = NULL;
    g_autofree gchar *text = NULL, *key = NULL;
    guint n;
    Conn *k;

    if (!s) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES)
          || g_error_matches (err, G_IO_ERROR, G_IO_ERROR_NO_SPACE)
          || errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        out_of_descriptors (l);
        return G_SOURCE_REMOVE;
      }
      continue;                 /* ECONNABORTED and the like: that one only */
    }
    l->backoff_ms = 0;
    remote = g_socket_get_remote_address (s, NULL);
    if (!remote) {
      g_socket_close (s, NULL);
      continue;
    }
    text = address_text (remote);
    key = c->key_func ? c->key_func (text) : g_strdup (text);
    n = GPOINTER_TO_UINT (g_hash_table_lookup (c->per_key, key));
    if (g_hash_table_size (c->by_remote) >= c->max_total || n >= c->max_per_address) {
      c->stats.over_limit++;
      g_debug ("%s: over the connection bounds (%u from it, %u in all)", text, n,
          g_hash_table_size (c->by_remote));
      g_socket_close (s, NULL);
      continue;
    }
    conn = g_socket_connection_factory_create_connection (s);
    k = g_new0 (Conn, 1);
    k->c = c;
    k->conn = conn;
    k->remote = g_object_ref (remote);
    k->key = g_steal_pointer (&key);
    g_object_weak_ref (G_OBJECT (conn), conn_gone, k);
    g_hash_table_insert (c->by_remote, k->remote, k);
    g_hash_table_insert (c->per_key, g_strdup (k->key), GUINT_TO_POINTER (n + 1));
    c->stats.accepted++;
    l->func (l, conn, k->remote, l->user_data);
  }
  return G_SOURCE_CONTINUE;
}

TcdListener *
tcd_conns_listen (TcdConns *c, const gchar *address, guint port, TcdConnsAcceptFunc func,
    gpointer user_data, guint *got, GError **error)
{
  g_autoptr (GInetAddress) ia = NULL;
  g_autoptr (GSocketAddress) sa = NULL, bound = NULL;
  g_autoptr (GSocket) s = NULL;
  TcdListener *l;

  if (address && *address) {
    if (!(ia = g_inet_address_new_from_string (address))) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "%s is not an IP address", address);
      return NULL;
    }
  } else {
    /* IPv6 and IPv4 on one socket where the host has IPv6 */
    ia = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
  }
  s = g_socket_new (g_inet_address_get_family (ia), G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  if (!s && !(address && *address)) {
    g_clear_object (&ia);
    ia = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
    s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
        error);
  }
  if (!s)
    return NULL;
  if (g_inet_address_get_family (ia) == G_SOCKET_FAMILY_IPV6 && !(address && *address))
    g_socket_set_option (s, IPPROTO_IPV6, IPV6_V6ONLY, 0, NULL);
  sa = g_inet_socket_address_new (ia, port);
  if (!g_socket_bind (s, sa, TRUE, error))
    return NULL;
  g_socket_set_listen_backlog (s, 256);
  if (!g_socket_listen (s, error))
    return NULL;
  g_socket_set_blocking (s, FALSE);
  bound = g_socket_get_local_address (s, error);
  if (!bound)
    return NULL;
  if (got)
    *got = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  l = g_new0 (TcdListener, 1);
  l->c = c;
  l->socket = g_steal_pointer (&s);
  l->func = func;
  l->user_data = user_data;
  listener_watch (l);
  c->listeners = g_slist_prepend (c->listeners, l);
  return l;
}

void
tcd_listener_free (TcdListener *l)
{
  if (!l)
    return;
  l->c->listeners = g_slist_remove (l->c->listeners, l);
  if (l->source) {
    g_source_destroy (l->source);
    g_source_unref (l->source);
  }
  if (l->pause_id)
    g_source_remove (l->pause_id);
  g_socket_close (l->socket, NULL);
  g_object_unref (l->socket);
  g_free (l);
}

void
tcd_conns_set_deadline (TcdConns *c, GSocketAddress *remote, guint timeout_ms)
{
  Conn *k = remote ? g_hash_table_lookup (c->by_remote, remote) : NULL;

  if (k)
    k->deadline = timeout_ms ? g_get_monotonic_time () + (gint64) timeout_ms * 1000 : 0;
}

void
tcd_conns_close (TcdConns *c, GSocketAddress *remote)
{
  Conn *k = remote ? g_hash_table_lookup (c->by_remote, remote) : NULL;

  if (k)
    shut (k);
}

void
tcd_conns_get_stats (TcdConns *c, TcdConnsStats *stats)
{
  *stats = c->stats;
  stats->open = g_hash_table_size (c->by_remote);
}

guint
tcd_raise_fd_limit (void)
{
  struct rlimit r;

  if (getrlimit (RLIMIT_NOFILE, &r) != 0)
    return 1024;
  if (r.rlim_cur < r.rlim_max) {
    rlim_t want = r.rlim_max == RLIM_INFINITY ? 65536 : r.rlim_max;
    struct rlimit n = { want, r.rlim_max };
    if (setrlimit (RLIMIT_NOFILE, &n) == 0)
      r.rlim_cur = want;
  }
  return r.rlim_cur == RLIM_INFINITY ? 65536 : (guint) MIN (r.rlim_cur, G_MAXUINT);
}
