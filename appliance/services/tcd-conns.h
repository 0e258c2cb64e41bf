/* thermocamd: listening TCP sockets that a crowd cannot take down
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A table of connections shared by one or more listening sockets (HTTP and
 * HTTPS share one), bounding what a client may hold:
 *  - connections open at once, in all and per address (an IPv4 address, an
 *    IPv6 /64): a connection over either bound is closed as soon as it is
 *    accepted, before anything is read;
 *  - time: each connection may carry a deadline (the protocol above sets it:
 *    a request must arrive whole within so long, an answer be taken within
 *    so long); at its deadline the socket is shut down, which its reader
 *    sees as the peer closing;
 *  - descriptors: when accept() fails for want of descriptors (EMFILE,
 *    ENFILE), a descriptor held in reserve is let go to take the waiting
 *    connection and close it, and accepting pauses with a growing backoff
 *    (instead of a loop that spins at 100 % CPU), with one warning a minute.
 * Everything runs on the thread-default main context of the creator.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TcdConns TcdConns;
typedef struct _TcdListener TcdListener;

/* A new connection that passed the bounds; @remote is the object that
 * stands for it in tcd_conns_set_deadline() (hand this very object to
 * whoever serves it: libsoup gives it back with each message) */
typedef void (*TcdConnsAcceptFunc) (TcdListener *listener, GSocketConnection *conn,
                                    GSocketAddress *remote, gpointer user_data);

/* @max_total connections at once, @max_per_address of them from one
 * address (its tracking key: @key_func, or the address itself) */
typedef gchar *(*TcdConnsKeyFunc) (const gchar *address);

TcdConns    *tcd_conns_new (guint max_total, guint max_per_address, TcdConnsKeyFunc key_func);
/* Closes every open connection's socket and forgets them */
void         tcd_conns_free (TcdConns *c);

/* Listens on @address (NULL: every address, IPv6 and IPv4) and @port (0: a
 * free one, *got says which) */
TcdListener *tcd_conns_listen (TcdConns *c, const gchar *address, guint port,
                               TcdConnsAcceptFunc func, gpointer user_data, guint *got,
                               GError **error);
/* Stops listening (open connections go on) */
void         tcd_listener_free (TcdListener *l);

/* The connection of @remote is shut down @timeout_ms from now unless this
 * is called again (0: no deadline) */
void         tcd_conns_set_deadline (TcdConns *c, GSocketAddress *remote, guint timeout_ms);
/* Shuts the connection of @remote down now */
void         tcd_conns_close (TcdConns *c, GSocketAddress *remote);

typedef struct {
  guint open;                   /* connections open now */
  guint64 accepted;             /* accepted and handed on */
  guint64 over_limit;           /* closed at once: over a bound */
  guint64 timed_out;            /* shut down at their deadline */
  guint64 no_descriptors;       /* accept() failed for want of descriptors */
} TcdConnsStats;

void         tcd_conns_get_stats (TcdConns *c, TcdConnsStats *stats);

/* Raises the soft limit of open descriptors to the hard one; the new soft
 * limit */
guint        tcd_raise_fd_limit (void);

G_END_DECLS
