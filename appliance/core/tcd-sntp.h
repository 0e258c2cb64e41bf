/* thermocamd: one SNTP query (RFC 4330)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One 48-byte client request over UDP through GIO, on the caller's main
 * context, bounded by a timeout; the answer is checked (a server's mode,
 * version 3 or 4, a stratum 1..15, not "unsynchronised", our own transmit
 * time echoed, from the server asked) before it is believed.  The offset
 * is measured against the host's real time (g_get_real_time), so that the
 * device clock's offset can be set from it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  gint64 offset_us;     /* server time - host real time */
  gint64 delay_us;      /* round trip less the server's own time */
  gint64 server_us;     /* the server's transmit time, µs since the epoch */
  guint stratum;
  guint version;
  gchar *address;       /* the address that answered */
} TcdSntpResult;

void tcd_sntp_result_free (TcdSntpResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcdSntpResult, tcd_sntp_result_free)

/* Ask @host (a name or an address) on @port; @timeout_ms bounds the whole
 * query (resolving included).  G_IO_ERROR_TIMED_OUT when nothing came. */
void           tcd_sntp_query_async (const gchar *host, guint port, guint timeout_ms,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
TcdSntpResult *tcd_sntp_query_finish (GAsyncResult *result, GError **error);

G_END_DECLS
