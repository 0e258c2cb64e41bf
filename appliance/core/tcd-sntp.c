/* thermocamd: one SNTP query (RFC 4330)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-sntp.h"

#include <string.h>

#define NTP_PACKET 48
#define NTP_EPOCH_DELTA G_GINT64_CONSTANT (2208988800)    /* 1900 -> 1970, s */

typedef struct {
  GSocketClient *client;
  GSocketConnection *conn;
  GSource *timeout, *readable;
  GCancellable *cancel;         /* ours: the timeout and the caller's cancel it */
  gulong caller_cancel_id;
  GCancellable *caller;
  gboolean timed_out;
  guint8 request[NTP_PACKET];
  gint64 t1;                    /* host real time at sending */
} Query;

void
tcd_sntp_result_free (TcdSntpResult *r)
{
  if (r) {
    g_free (r->address);
    g_free (r);
  }
}

static void
query_free (Query *q)
{
  if (q->timeout) {
    g_source_destroy (q->timeout);
    g_source_unref (q->timeout);
  }
  if (q->readable) {
    g_source_destroy (q->readable);
    g_source_unref (q->readable);
  }
  if (q->caller && q->caller_cancel_id)
    g_cancellable_disconnect (q->caller, q->caller_cancel_id);
  g_clear_object (&q->caller);
  g_clear_object (&q->conn);
  g_clear_object (&q->client);
  g_clear_object (&q->cancel);
  g_free (q);
}

/* NTP 32.32 timestamp <-> µs since 1970 (RFC 4330 section 3: a clear top bit
 * means the era that starts in 2036) */
static gint64
ntp_to_us (const guint8 *p)
{
  guint32 s = ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
  guint32 f = ((guint32) p[4] << 24) | ((guint32) p[5] << 16) | ((guint32) p[6] << 8) | p[7];
  gint64 secs = (gint64) s + ((s & 0x80000000u) ? 0 : G_GINT64_CONSTANT (0x100000000));

  return (secs - NTP_EPOCH_DELTA) * G_USEC_PER_SEC + (gint64) (((guint64) f * 1000000) >> 32);
}

static void
us_to_ntp (gint64 us, guint8 *p)
{
  guint64 secs = (guint64) (us / G_USEC_PER_SEC + NTP_EPOCH_DELTA);
  guint32 s = (guint32) secs;
  guint32 f = (guint32) ((((guint64) (us % G_USEC_PER_SEC)) << 32) / 1000000);

  p[0] = s >> 24; p[1] = s >> 16; p[2] = s >> 8; p[3] = s;
  p[4] = f >> 24; p[5] = f >> 16; p[6] = f >> 8; p[7] = f;
}

static gboolean
on_timeout (gpointer data)
{
  GTask *task = data;
  Query *q = g_task_get_task_data (task);

  q->timed_out = TRUE;
  g_cancellable_cancel (q->cancel);
  return G_SOURCE_REMOVE;
}

static void
on_caller_cancelled (GCancellable *c, gpointer data)
{
  g_cancellable_cancel (data);
}

static gboolean
fail_cancelled (GTask *task)
{
  Query *q = g_task_get_task_data (task);

  if (q->timed_out)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "the NTP server did not answer in time");
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
  return G_SOURCE_REMOVE;
}

/* An answer that passes RFC 4330's checks, or FALSE (it is ignored: the
 * query goes on waiting until its time is up) */
static gboolean
parse_answer (Query *q, const guint8 *p, gssize n, gint64 t4, TcdSntpResult *r)
{
  guint li = p[0] >> 6, vn = (p[0] >> 3) & 7, mode = p[0] & 7;
  gint64 t2, t3;

  if (n < NTP_PACKET || (mode != 4 && mode != 5) || vn < 3 || vn > 4 || li == 3
      || p[1] < 1 || p[1] > 15)
    return FALSE;
  /* the originate timestamp must be our transmit timestamp */
  if (memcmp (p + 24, q->request + 40, 8) != 0)
    return FALSE;
  if (memcmp (p + 40, "\0\0\0\0\0\0\0\0", 8) == 0)
    return FALSE;
  t2 = ntp_to_us (p + 32);
  t3 = ntp_to_us (p + 40);
  r->offset_us = ((t2 - q->t1) + (t3 - t4)) / 2;
  r->delay_us = MAX ((t4 - q->t1) - (t3 - t2), 0);
  r->server_us = t3;
  r->stratum = p[1];
  r->version = vn;
  return TRUE;
}

static gboolean
on_readable (GSocket *sock, GIOCondition cond, gpointer data)
{
  GTask *task = data;
  Query *q = g_task_get_task_data (task);
  guint8 buf[1024];
  g_autoptr (GError) err = NULL;
  gssize n;
  gint64 t4;
  TcdSntpResult r = { 0 };

  if (g_cancellable_is_cancelled (q->cancel))
    return fail_cancelled (task);
  n = g_socket_receive (sock, (gchar *) buf, sizeof buf, NULL, &err);
  t4 = g_get_real_time ();
  if (n < 0) {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      return G_SOURCE_CONTINUE;
    /* ICMP port unreachable comes back as a refused connection */
    g_task_return_new_error (task, G_IO_ERROR, err->code, "%s", err->message);
    return G_SOURCE_REMOVE;
  }
  if (!parse_answer (q, buf, n, t4, &r))
    return G_SOURCE_CONTINUE;
  {
    TcdSntpResult *res = g_new0 (TcdSntpResult, 1);
    g_autoptr (GSocketAddress) peer = g_socket_get_remote_address (sock, NULL);
    *res = r;
    if (peer && G_IS_INET_SOCKET_ADDRESS (peer))
      res->address = g_inet_address_to_string (g_inet_socket_address_get_address (
              G_INET_SOCKET_ADDRESS (peer)));
    g_task_return_pointer (task, res, (GDestroyNotify) tcd_sntp_result_free);
  }
  return G_SOURCE_REMOVE;
}

static void
on_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr (GTask) task = data;
  Query *q = g_task_get_task_data (task);
  g_autoptr (GError) err = NULL;
  GSocket *sock;

  q->conn = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (src), res, &err);
  if (!q->conn) {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      fail_cancelled (task);
    else
      g_task_return_error (task, g_steal_pointer (&err));
    return;
  }
  sock = g_socket_connection_get_socket (q->conn);
  memset (q->request, 0, sizeof q->request);
  q->request[0] = (0 << 6) | (4 << 3) | 3;       /* LI 0, version 4, client */
  q->t1 = g_get_real_time ();
  us_to_ntp (q->t1, q->request + 40);
  if (g_socket_send (sock, (const gchar *) q->request, sizeof q->request, NULL, &err)
      != (gssize) sizeof q->request) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot send: %s",
        err ? err->message : "short write");
    return;
  }
  q->readable = g_socket_create_source (sock, G_IO_IN | G_IO_ERR | G_IO_HUP, q->cancel);
  g_source_set_callback (q->readable, (GSourceFunc) (GCallback) on_readable,
      g_object_ref (task), g_object_unref);
  g_source_attach (q->readable, g_task_get_context (task));
}

void
tcd_sntp_query_async (const gchar *host, guint port, guint timeout_ms,
    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Query *q = g_new0 (Query, 1);

  g_task_set_source_tag (task, tcd_sntp_query_async);
  g_task_set_task_data (task, q, (GDestroyNotify) query_free);
  g_task_set_check_cancellable (task, FALSE);
  q->cancel = g_cancellable_new ();
  if (cancellable) {
    q->caller = g_object_ref (cancellable);
    q->caller_cancel_id = g_cancellable_connect (cancellable,
        G_CALLBACK (on_caller_cancelled), q->cancel, NULL);
  }
  if (!host || !*host || strlen (host) > 253 || port < 1 || port > 65535) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "no NTP server");
    g_object_unref (task);
    return;
  }
  q->timeout = g_timeout_source_new (CLAMP (timeout_ms, 10, 60000));
  g_source_set_callback (q->timeout, on_timeout, task, NULL);
  g_source_attach (q->timeout, g_task_get_context (task));
  q->client = g_socket_client_new ();
  g_socket_client_set_socket_type (q->client, G_SOCKET_TYPE_DATAGRAM);
  g_socket_client_set_protocol (q->client, G_SOCKET_PROTOCOL_UDP);
  g_socket_client_connect_to_host_async (q->client, host, port, q->cancel, on_connected,
      task);
}

TcdSntpResult *
tcd_sntp_query_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
