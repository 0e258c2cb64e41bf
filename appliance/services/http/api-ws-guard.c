/* thermocamd: what a live socket's peer may send, bounded before libsoup
 * reads it
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libsoup 3.2 joins a message's fragments without a bound on their total
 * (each frame is bounded alone) and answers every ping with a pong queued
 * at once.  So the connection libsoup reads after the upgrade is this
 * stream over the stolen one: its input follows the peer's frames
 * (RFC 6455 5.2) and bounds, before libsoup sees a byte,
 *   - the bytes read: GUARD_RATE a second, GUARD_BURST at once;
 *   - a message: GUARD_MESSAGE bytes in all its fragments;
 *   - pings and pongs: GUARD_CONTROL_RATE a second (GUARD_CONTROL_BURST at
 *     once), of at most 125 bytes, never fragmented.
 * Past a bound the owner is told (WS_GUARD_REFUSED, with a close code)
 * and everything the peer sends after it is read and thrown away: libsoup
 * sees no more of it (and closes the connection GUARD_DISCARD_MAX bytes
 * later, or 5 s after its close frame).  The owner is told of each ping too (WS_GUARD_PING),
 * whose pong libsoup will send.
 */
#include "api-ws.h"

#include <string.h>

#define GUARD_RATE (16 * 1024)                /* bytes a second */
#define GUARD_BURST (64 * 1024)
#define GUARD_MESSAGE (64 * 1024)             /* a message's fragments together */
#define GUARD_CONTROL_RATE 2                  /* pings and pongs a second */
#define GUARD_CONTROL_BURST 6
#define GUARD_DISCARD 16384                   /* read and dropped at once, once refused */
#define GUARD_DISCARD_MAX (256 * 1024)        /* then the connection is cut */

/* ---- the input ---- */

#define WS_TYPE_GUARD_INPUT (ws_guard_input_get_type ())
G_DECLARE_FINAL_TYPE (WsGuardInput, ws_guard_input, WS, GUARD_INPUT, GFilterInputStream)

struct _WsGuardInput {
  GFilterInputStream parent;
  WsGuardFunc func;
  gpointer data;
  gboolean refused;             /* past a bound: what comes is dropped */
  gdouble bytes, controls;      /* the buckets */
  gint64 filled_us;             /* monotonic us they were filled last */
  guint8 head[14];              /* a frame's header so far */
  guint head_len;
  guint64 left;                 /* payload bytes of the frame not read yet */
  guint64 message;              /* payload bytes of the message so far */
  guint64 read;                 /* in all */
  guint64 dropped;              /* read after it was refused */
};

static void ws_guard_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE (WsGuardInput, ws_guard_input, G_TYPE_FILTER_INPUT_STREAM,
    G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM, ws_guard_input_pollable_init))

static GInputStream *
base_of (WsGuardInput *g)
{
  return g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (g));
}

static void
refuse (WsGuardInput *g, gushort code, const gchar *why)
{
  if (g->refused)
    return;
  g->refused = TRUE;
  if (g->func)
    g->func (WS_GUARD_REFUSED, code, why, g->data);
}

static void
fill (WsGuardInput *g)
{
  gint64 now = g_get_monotonic_time ();
  gdouble s = (now - g->filled_us) / (gdouble) G_USEC_PER_SEC;

  g->filled_us = now;
  g->bytes = MIN (g->bytes + s * GUARD_RATE, GUARD_BURST);
  g->controls = MIN (g->controls + s * GUARD_CONTROL_RATE, GUARD_CONTROL_BURST);
}

/* a frame's header, whole: FALSE when refused */
static gboolean
frame_start (WsGuardInput *g, guint64 len)
{
  guint8 opcode = g->head[0] & 0x0f;
  gboolean fin = (g->head[0] & 0x80) != 0;

  if (opcode & 0x08) {          /* control */
    if (len > 125 || !fin) {
      refuse (g, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR,
          "a control frame is of at most 125 bytes, never fragmented");
      return FALSE;
    }
    if (opcode == 0x9 || opcode == 0xA) {
      if (g->controls < 1) {
        refuse (g, WS_CLOSE_POLICY, "more than " G_STRINGIFY (GUARD_CONTROL_RATE)
            " pings a second");
        return FALSE;
      }
      g->controls -= 1;
      if (opcode == 0x9 && g->func)
        g->func (WS_GUARD_PING, (gushort) len, NULL, g->data);
    }
    return TRUE;
  }
  if (len > GUARD_MESSAGE - g->message) {   /* (no overflow: message <= GUARD_MESSAGE) */
    refuse (g, WS_CLOSE_TOO_BIG, "a message of more than 64 KiB (in its fragments)");
    return FALSE;
  }
  g->message = fin ? 0 : g->message + len;
  return TRUE;
}

/* follows the frames in what was read: FALSE when refused */
static gboolean
follow (WsGuardInput *g, const guint8 *p, gsize n)
{
  while (n > 0) {
    guint len7, need;
    guint64 len = 0;

    if (g->left > 0) {
      gsize k = MIN ((guint64) n, g->left);
      g->left -= k;
      p += k;
      n -= k;
      continue;
    }
    g->head[g->head_len++] = *p++;
    n--;
    if (g->head_len < 2)
      continue;
    len7 = g->head[1] & 0x7f;
    need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((g->head[1] & 0x80) ? 4 : 0);
    if (g->head_len < need)
      continue;
    if (len7 < 126)
      len = len7;
    else
      for (guint i = 0; i < (len7 == 126 ? 2u : 8u); i++)
        len = len << 8 | g->head[2 + i];
    g->head_len = 0;
    if (!frame_start (g, len))
      return FALSE;
    g->left = len;
  }
  return TRUE;
}

/* what was read from the base (@n > 0): counted, followed; FALSE when refused */
static gboolean
take (WsGuardInput *g, const void *buf, gssize n)
{
  g->bytes -= n;
  g->read += n;
  return follow (g, buf, n);
}

/* how much may be read now: 0 when refused */
static gsize
allowed (WsGuardInput *g, gsize count)
{
  fill (g);
  if (g->bytes < 1) {
    refuse (g, WS_CLOSE_POLICY, "more than " G_STRINGIFY (GUARD_RATE) " bytes a second");
    return 0;
  }
  return MIN (count, (gsize) g->bytes);
}

static gssize
discard (WsGuardInput *g, gboolean blocking, GCancellable *cancellable, GError **error)
{
  guint8 scratch[GUARD_DISCARD];
  gssize n;

  if (blocking)
    n = g_input_stream_read (base_of (g), scratch, sizeof scratch, cancellable, error);
  else
    n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (base_of (g)),
        scratch, sizeof scratch, cancellable, error);
  if (n <= 0)
    return n;
  /* a peer that goes on sending after its close: cut (libsoup closes the
   * connection on a read error) */
  if ((g->dropped += n) > GUARD_DISCARD_MAX) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
        "it went on sending after it was refused: cut");
    return -1;
  }
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "dropped");
  return -1;
}

static gssize
guard_read (WsGuardInput *g, void *buf, gsize count, gboolean blocking,
    GCancellable *cancellable, GError **error)
{
  gssize n;

  if (!g->refused && count > 0 && (count = allowed (g, count)) > 0) {
    if (blocking)
      n = g_input_stream_read (base_of (g), buf, count, cancellable, error);
    else
      n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (base_of (g)),
          buf, count, cancellable, error);
    if (n <= 0 || take (g, buf, n))
      return n;
  }
  if (!g->refused && count == 0)
    return 0;
  return discard (g, blocking, cancellable, error);
}

static gssize
ws_guard_input_read (GInputStream *stream, void *buf, gsize count, GCancellable *cancellable,
    GError **error)
{
  return guard_read (WS_GUARD_INPUT (stream), buf, count, TRUE, cancellable, error);
}

static gssize
ws_guard_input_read_nonblocking (GPollableInputStream *stream, void *buf, gsize count,
    GError **error)
{
  return guard_read (WS_GUARD_INPUT (stream), buf, count, FALSE, NULL, error);
}

static gboolean
ws_guard_input_can_poll (GPollableInputStream *stream)
{
  GInputStream *base = base_of (WS_GUARD_INPUT (stream));
  return G_IS_POLLABLE_INPUT_STREAM (base)
      && g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (base));
}

static gboolean
ws_guard_input_is_readable (GPollableInputStream *stream)
{
  return g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (base_of
          (WS_GUARD_INPUT (stream))));
}

static GSource *
ws_guard_input_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  GSource *base = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (base_of
          (WS_GUARD_INPUT (stream))), NULL);
  GSource *s = g_pollable_source_new_full (stream, base, cancellable);

  g_source_unref (base);
  return s;
}

static void
ws_guard_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = ws_guard_input_can_poll;
  iface->is_readable = ws_guard_input_is_readable;
  iface->create_source = ws_guard_input_create_source;
  iface->read_nonblocking = ws_guard_input_read_nonblocking;
}

static void
ws_guard_input_class_init (WsGuardInputClass *klass)
{
  G_INPUT_STREAM_CLASS (klass)->read_fn = ws_guard_input_read;
}

static void
ws_guard_input_init (WsGuardInput *g)
{
  g->bytes = GUARD_BURST;
  g->controls = GUARD_CONTROL_BURST;
  g->filled_us = g_get_monotonic_time ();
}

/* ---- the stream: the guarded input, the base's output ---- */

#define WS_TYPE_GUARD (ws_guard_get_type ())
G_DECLARE_FINAL_TYPE (WsGuard, ws_guard, WS, GUARD, GIOStream)

struct _WsGuard {
  GIOStream parent;
  GIOStream *base;
  WsGuardInput *in;
};

G_DEFINE_TYPE (WsGuard, ws_guard, G_TYPE_IO_STREAM)

static GInputStream *
ws_guard_get_input_stream (GIOStream *stream)
{
  return G_INPUT_STREAM (WS_GUARD (stream)->in);
}

static GOutputStream *
ws_guard_get_output_stream (GIOStream *stream)
{
  return g_io_stream_get_output_stream (WS_GUARD (stream)->base);
}

/* closing it closes the connection under it (the input's base is the
 * base's: closed with it) */
static gboolean
ws_guard_close (GIOStream *stream, GCancellable *cancellable, GError **error)
{
  return g_io_stream_close (WS_GUARD (stream)->base, cancellable, error);
}

static void
base_closed (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr (GTask) task = data;
  GError *err = NULL;

  if (g_io_stream_close_finish (G_IO_STREAM (source), res, &err))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, err);
}

static void
ws_guard_close_async (GIOStream *stream, int priority, GCancellable *cancellable,
    GAsyncReadyCallback callback, gpointer data)
{
  GTask *task = g_task_new (stream, cancellable, callback, data);

  g_io_stream_close_async (WS_GUARD (stream)->base, priority, cancellable, base_closed, task);
}

static gboolean
ws_guard_close_finish (GIOStream *stream, GAsyncResult *res, GError **error)
{
  return g_task_propagate_boolean (G_TASK (res), error);
}

static void
ws_guard_finalize (GObject *object)
{
  WsGuard *g = WS_GUARD (object);

  g_clear_object (&g->in);
  g_clear_object (&g->base);
  G_OBJECT_CLASS (ws_guard_parent_class)->finalize (object);
}

static void
ws_guard_class_init (WsGuardClass *klass)
{
  GIOStreamClass *io = G_IO_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = ws_guard_finalize;
  io->get_input_stream = ws_guard_get_input_stream;
  io->get_output_stream = ws_guard_get_output_stream;
  io->close_fn = ws_guard_close;
  io->close_async = ws_guard_close_async;
  io->close_finish = ws_guard_close_finish;
}

static void
ws_guard_init (WsGuard *g)
{
}

GIOStream *
ws_guard_new (GIOStream *base, WsGuardFunc func, gpointer data)
{
  WsGuard *g = g_object_new (WS_TYPE_GUARD, NULL);

  g->base = g_object_ref (base);
  g->in = g_object_new (WS_TYPE_GUARD_INPUT, "base-stream", g_io_stream_get_input_stream (base),
      "close-base-stream", FALSE, NULL);
  g->in->func = func;
  g->in->data = data;
  return G_IO_STREAM (g);
}

void
ws_guard_detach (GIOStream *stream)
{
  if (WS_IS_GUARD (stream)) {
    WS_GUARD (stream)->in->func = NULL;
    WS_GUARD (stream)->in->data = NULL;
  }
}

guint64
ws_guard_get_read (GIOStream *stream)
{
  return WS_IS_GUARD (stream) ? WS_GUARD (stream)->in->read : 0;
}
