/* thermocamd: Modbus TCP, the listener and its clients
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The TCP server thread: accepting (the IP filter, the illegal-login lock,
 * max_clients and eviction of an idle client), MBAP framing, idle and
 * half-frame timeouts; the listening socket and its retry on the main loop.
 * How it fits with the rest: the top of tcd-modbus.c.
 */
#include "tcd-modbus-server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcd-dscp.h"

#define PARTIAL_TIMEOUT_US (5 * G_USEC_PER_SEC) /* a half TCP frame older: the client goes */
#define EVICT_IDLE_US (3 * G_USEC_PER_SEC)      /* all slots taken: an idle client this long makes room */
#define TCP_RETRY_MS 2000                       /* retry a TCP port that could not be bound */

/* ---- clients (the TCP thread) ---- */

static Client *
find_client (Server *s, guint64 id)
{
  for (guint i = 0; i < MAX_CLIENTS; i++)
    if (s->clients[i].fd >= 0 && s->clients[i].id == id)
      return &s->clients[i];
  return NULL;
}

static void
client_close (Server *s, Client *c)
{
  close (c->fd);
  c->fd = -1;
  c->len = 0;
  c->pending = FALSE;
  c->partial_since = 0;
  g_clear_object (&c->addr);
  s->n_clients--;
  g_atomic_int_add (&s->m->clients, -1);
}

/* the IP filter and the illegal-login lock */
static gboolean
address_allowed (Server *s, GInetAddress *addr, const gchar *ip)
{
  TcdSecurity *sec = s->m->ctx->security;

  return tcd_security_address_allowed (sec, addr) && !tcd_security_is_locked (sec, ip, NULL);
}

/* FALSE when @c was closed: the filter or the lock refuse it now */
static gboolean
client_check (Server *s, Client *c)
{
  if (address_allowed (s, c->addr, c->ip))
    return TRUE;
  g_debug ("modbus: closing %s: refused by the IP filter or locked", c->ip);
  g_atomic_int_inc (&s->m->refused);
  client_close (s, c);
  return FALSE;
}

static void
client_drop (Server *s, Client *c, const gchar *why)
{
  g_atomic_int_inc (&s->m->dropped);
  g_debug ("modbus: dropping %s: %s", c->ip, why);
  client_close (s, c);
}

/* the whole frames in @c's buffer */
static void
client_process (Server *s, Client *c)
{
  gboolean progress = FALSE;

  while (c->fd >= 0 && !c->pending && c->len >= MBAP) {
    guint proto = u16_at (c->buf + 2), length = u16_at (c->buf + 4);
    gsize total = 6 + length;
    gboolean pending;

    /* not Modbus (or out of step): the stream cannot be resynchronized */
    if (proto != 0 || length < 2 || length > MODBUS_MAX_PDU_LENGTH + 1) {
      client_drop (s, c, "malformed MBAP header");
      return;
    }
    if (c->len < total)
      break;
    if (!client_check (s, c))
      return;
    modbus_set_socket (s->ctx, c->fd);
    if (!mb_handle_request (s, c->buf, total, MBAP, c->ip, c->id, &pending)) {
      client_close (s, c);
      return;
    }
    memmove (c->buf, c->buf + total, c->len - total);
    c->len -= total;
    c->pending = pending;
    progress = TRUE;
  }
  if (c->fd >= 0)
    c->partial_since = c->len == 0 || c->pending ? 0
        : progress || !c->partial_since ? g_get_monotonic_time () : c->partial_since;
}

static void
client_read (Server *s, Client *c)
{
  ssize_t n = recv (c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);

  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    client_close (s, c);
    return;
  }
  if (n > 0) {
    c->len += n;
    c->last_active = g_get_monotonic_time ();
    client_process (s, c);
  }
}

/* all slots taken: the client idle longest makes room, if idle a while */
static Client *
client_evict (Server *s, gint64 now)
{
  Client *idle = NULL;

  for (guint i = 0; i < MAX_CLIENTS; i++) {
    Client *c = &s->clients[i];
    if (c->fd >= 0 && !c->pending && (!idle || c->last_active < idle->last_active))
      idle = c;
  }
  if (!idle || now - idle->last_active < EVICT_IDLE_US)
    return NULL;
  g_debug ("modbus: closing %s (idle %" G_GINT64_FORMAT " s) for a new client", idle->ip,
      (now - idle->last_active) / G_USEC_PER_SEC);
  client_close (s, idle);
  return idle;
}

static void
client_accept (Server *s)
{
  struct sockaddr_storage sa;
  socklen_t sl = sizeof sa;
  gchar ip[INET6_ADDRSTRLEN] = "";
  gint fd = accept4 (s->listen_fd, (struct sockaddr *) &sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
  gint one = 1, idle = 60, intvl = 10, cnt = 3;
  g_autoptr (GInetAddress) addr = NULL;
  gint64 now = g_get_monotonic_time ();
  Client *c = NULL;

  if (fd < 0) {
    /* out of descriptors: the connection stays in the backlog and poll()
     * would wake us at once, for ever; pause accepting, growing the pause */
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      s->accept_backoff_ms = s->accept_backoff_ms ? MIN (s->accept_backoff_ms * 2, 2000) : 50;
      s->accept_paused_until = now + (gint64) s->accept_backoff_ms * 1000;
      if (!s->accept_warned || now - s->accept_warned > 60 * G_USEC_PER_SEC) {
        g_warning ("Modbus TCP: out of file descriptors (%s); accepting slows down",
            g_strerror (errno));
        s->accept_warned = now;
      }
    }
    return;
  }
  s->accept_backoff_ms = 0;
  if (sa.ss_family == AF_INET)
    inet_ntop (AF_INET, &((struct sockaddr_in *) &sa)->sin_addr, ip, sizeof ip);
  else if (sa.ss_family == AF_INET6)
    inet_ntop (AF_INET6, &((struct sockaddr_in6 *) &sa)->sin6_addr, ip, sizeof ip);
  addr = g_inet_address_new_from_string (ip);
  /* the IP filter and the illegal-login lock, before reading anything */
  if (!address_allowed (s, addr, ip)) {
    g_debug ("modbus: %s refused by the IP filter or locked", ip);
    g_atomic_int_inc (&s->m->refused);
    close (fd);
    return;
  }
  if (s->n_clients < s->snap.max_clients)
    for (guint i = 0; i < MAX_CLIENTS && !c; i++)
      if (s->clients[i].fd < 0)
        c = &s->clients[i];
  if (!c && s->n_clients >= s->snap.max_clients)
    c = client_evict (s, now);
  if (!c) {
    g_debug ("modbus: %s refused: already %u clients", ip, s->n_clients);
    g_atomic_int_inc (&s->m->refused);
    close (fd);
    return;
  }
  /* QoS (manual 10.12.6): management traffic */
  tcd_dscp_apply (fd, TCD_DSCP_MANAGEMENT, TRUE);
  /* a PLC that vanished (power, cable) must not hold its slot for ever */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt (fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
  c->fd = fd;
  c->id = ++s->next_id;
  c->len = 0;
  c->pending = FALSE;
  c->partial_since = 0;
  c->last_active = now;
  c->addr = g_steal_pointer (&addr);
  g_strlcpy (c->ip, ip, sizeof c->ip);
  s->n_clients++;
  g_atomic_int_inc (&s->m->clients);
}

/* max_clients was lowered: the newest clients go, the older keep working */
static void
trim_clients (Server *s)
{
  while (s->n_clients > s->snap.max_clients) {
    Client *newest = NULL;
    for (guint i = 0; i < MAX_CLIENTS; i++)
      if (s->clients[i].fd >= 0 && (!newest || s->clients[i].id > newest->id))
        newest = &s->clients[i];
    client_close (s, newest);
  }
}

static void
tcp_finish (Server *s, Job *j)
{
  Client *c = find_client (s, j->client_id);

  if (!c)
    return;                     /* it went away; the change stands */
  c->pending = FALSE;
  c->last_active = g_get_monotonic_time ();
  modbus_set_socket (s->ctx, c->fd);
  if (j->exception ? !mb_send_exception (s, j->req, j->exception)
      : (g_atomic_int_inc (&s->m->writes), !mb_send_reply (s, j->req, j->req_len))) {
    client_close (s, c);
    return;
  }
  s->cfg_dirty = TRUE;
  /* requests that came in behind the write */
  client_process (s, c);
}

static gpointer
tcp_thread (gpointer data)
{
  Server *s = data;
  struct pollfd fds[2 + MAX_CLIENTS];
  guint slot[MAX_CLIENTS];

  while (!g_atomic_int_get (&s->quit)) {
    gint64 now = g_get_monotonic_time ();
    gint64 idle_us;
    gboolean recheck = g_atomic_int_compare_and_exchange (&s->recheck, TRUE, FALSE);
    gint timeout = -1, n = 0, rc;
    Job *j;

    mb_sync_snapshot (s);
    trim_clients (s);
    idle_us = (gint64) s->snap.idle_timeout_s * G_USEC_PER_SEC;
    fds[n++] = (struct pollfd) { s->wake_fd, POLLIN, 0 };
    fds[n++] = (struct pollfd) { s->listen_fd,
      now < s->accept_paused_until ? 0 : POLLIN, 0 };
    if (now < s->accept_paused_until)
      timeout = (gint) ((s->accept_paused_until - now) / 1000 + 1);
    for (guint i = 0; i < MAX_CLIENTS; i++) {
      Client *c = &s->clients[i];
      gint64 left = -1;
      if (c->fd < 0 || (recheck && !client_check (s, c)))
        continue;
      if (c->partial_since) {
        left = c->partial_since + PARTIAL_TIMEOUT_US - now;
        if (left <= 0) {
          client_drop (s, c, "half a frame for too long");
          continue;
        }
      }
      /* silent for too long (a write on the main loop is not silence) */
      if (idle_us && !c->pending) {
        gint64 idle_left = c->last_active + idle_us - now;
        if (idle_left <= 0) {
          g_debug ("modbus: closing %s: idle for %u s", c->ip, s->snap.idle_timeout_s);
          client_close (s, c);
          continue;
        }
        left = left < 0 ? idle_left : MIN (left, idle_left);
      }
      if (left > 0)
        timeout = timeout < 0 ? (gint) (left / 1000 + 1) : MIN (timeout, (gint) (left / 1000 + 1));
      slot[n - 2] = i;
      fds[n++] = (struct pollfd) { c->fd, c->pending ? 0 : POLLIN, 0 };
    }
    rc = poll (fds, n, timeout);
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      g_warning ("Modbus TCP: poll: %s", g_strerror (errno));
      break;
    }
    if (fds[0].revents & POLLIN) {
      mb_drain (s->wake_fd);
      mb_sync_snapshot (s);
      while ((j = g_async_queue_try_pop (s->done))) {
        tcp_finish (s, j);
        mb_job_free (j);
      }
    }
    if (fds[1].revents & POLLIN)
      client_accept (s);
    for (gint k = 2; k < n; k++) {
      Client *c = &s->clients[slot[k - 2]];
      if (c->fd == fds[k].fd && (fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
        client_read (s, c);
    }
  }
  for (guint i = 0; i < MAX_CLIENTS; i++)
    if (s->clients[i].fd >= 0)
      client_close (s, &s->clients[i]);
  return NULL;
}

/* ---- the listening socket (main loop) ---- */

/* A listening socket on @address (an IP address; NULL: all IPv4 addresses)
 * and @port (0: a free one) */
static gint
listen_on (const gchar *address, guint port, guint *bound, GError **error)
{
  struct sockaddr_storage sa = { 0 };
  socklen_t sl = sizeof sa;
  gint one = 1, e = EINVAL, fd = -1;
  g_autoptr (GInetAddress) ia = address ? g_inet_address_new_from_string (address)
      : g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) ga = ia ? g_inet_socket_address_new (ia, port) : NULL;

  if (!ga || !g_socket_address_to_native (ga, &sa, sizeof sa, NULL))
    goto fail;
  sl = g_socket_address_get_native_size (ga);
  fd = socket (sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    goto fail_errno;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &sa, sl) < 0 || listen (fd, 16) < 0)
    goto fail_errno;
  sl = sizeof sa;
  if (getsockname (fd, (struct sockaddr *) &sa, &sl) < 0)
    goto fail_errno;
  *bound = ntohs (sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &sa)->sin6_port
      : ((struct sockaddr_in *) &sa)->sin_port);
  return fd;

fail_errno:
  e = errno;
fail:
  if (fd >= 0)
    close (fd);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
      "Modbus TCP: cannot listen on %s%sport %u: %s", address ? address : "",
      address ? " " : "", port, g_strerror (e));
  return -1;
}

static void
tcp_set_error (TcdModbus *m, const gchar *error)
{
  gboolean changed;

  g_mutex_lock (&m->lock);
  changed = g_strcmp0 (m->tcp_error, error) != 0;
  g_free (m->tcp_error);
  m->tcp_error = g_strdup (error);
  g_mutex_unlock (&m->lock);
  /* once per new error, not at every retry */
  if (changed && error)
    g_warning ("%s; retrying every %u s", error, TCP_RETRY_MS / 1000);
}

static gboolean tcp_retry (gpointer data);

/* FALSE only when the server cannot be set up at all; a port that cannot
 * be bound (another program holds it) is retried until it can */
gboolean
mb_tcp_start (TcdModbus *m, guint port, GError **error)
{
  g_autoptr (GError) err = NULL;
  Server *s;

  m->listen_fd = listen_on (m->address, port, &m->port, &err);
  if (m->listen_fd < 0) {
    m->port = 0;
    m->tcp_retry_port = port;
    tcp_set_error (m, err->message);
    if (!m->tcp_retry_id)
      m->tcp_retry_id = g_timeout_add (TCP_RETRY_MS, tcp_retry, m);
    return TRUE;
  }
  g_clear_handle_id (&m->tcp_retry_id, g_source_remove);
  tcp_set_error (m, NULL);
  if (!(s = mb_server_new (m, FALSE))) {
    close (m->listen_fd);
    m->listen_fd = -1;
    m->port = 0;
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Modbus TCP: cannot start");
    return FALSE;
  }
  s->listen_fd = m->listen_fd;
  m->last_port = m->port;
  m->tcp = s;
  s->thread = g_thread_new ("modbus-tcp", tcp_thread, s);
  g_message ("Modbus TCP on port %u", m->port);
  return TRUE;
}

static gboolean
tcp_retry (gpointer data)
{
  TcdModbus *m = data;
  g_autoptr (GError) err = NULL;

  m->tcp_retry_id = 0;
  if (!mb_tcp_start (m, m->tcp_retry_port, &err)) {
    tcp_set_error (m, err->message);
    m->tcp_retry_id = g_timeout_add (TCP_RETRY_MS, tcp_retry, m);
  }
  return G_SOURCE_REMOVE;
}

void
mb_tcp_stop (TcdModbus *m)
{
  g_clear_handle_id (&m->tcp_retry_id, g_source_remove);
  tcp_set_error (m, NULL);
  if (!m->tcp)
    return;
  mb_server_stop (m->tcp);
  m->tcp = NULL;
  close (m->listen_fd);
  m->listen_fd = -1;
  m->port = 0;
}
