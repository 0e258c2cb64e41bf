/* thermocamd: Modbus RTU and ASCII on the serial line (RS-485)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The serial server thread: the device opened by libmodbus, RTU frames by
 * length and silence (the CRC in either byte order), ASCII frames by ':'
 * and CR LF (their LRC), the echo of our own answers dropped, the answers
 * relayed from libmodbus's socketpair to the line.  How it fits with the
 * rest: the top of tcd-modbus.c.
 */
#include "tcd-modbus-server.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define ECHO_US 50000                           /* our last answer coming back this soon: an echo */
#define REOPEN_MS 5000                          /* retry a serial device that failed */
#define ASCII_TIMEOUT_US G_USEC_PER_SEC         /* ASCII: the specification's 1 s between characters */

/* ---- the line ---- */

/* the Modbus CRC-16 (polynomial 0xA001, initial 0xFFFF) */
static guint16
crc16 (const guint8 *p, gsize n)
{
  guint16 crc = 0xFFFF;

  for (gsize i = 0; i < n; i++) {
    crc ^= p[i];
    for (gint b = 0; b < 8; b++)
      crc = (crc & 1) ? (crc >> 1) ^ 0xA001 : crc >> 1;
  }
  return crc;
}

/* the frame's CRC, in either byte order */
static gboolean
crc_ok (const guint8 *f, gsize n)
{
  guint16 crc;

  if (n < 4)
    return FALSE;
  crc = crc16 (f, n - 2);
  return (f[n - 2] == (crc & 0xFF) && f[n - 1] == crc >> 8)
      || (f[n - 2] == crc >> 8 && f[n - 1] == (crc & 0xFF));
}

/* the serial line: all of @n bytes, or as much as it takes within 1 s */
static void
line_write (Server *s, const guint8 *p, gsize n)
{
  gsize off = 0;

  while (off < n) {
    ssize_t w = write (s->serial_fd, p + off, n - off);
    if (w > 0) {
      off += w;
    } else if (w < 0 && errno == EAGAIN) {
      struct pollfd pfd = { s->serial_fd, POLLOUT, 0 };
      if (poll (&pfd, 1, 1000) <= 0)
        break;
    } else if (w < 0 && errno != EINTR) {
      break;
    }
  }
}

/* the LRC of Modbus ASCII: the two's complement of the bytes' sum */
static guint8
lrc8 (const guint8 *p, gsize n)
{
  guint8 sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += p[i];
  return (guint8) - sum;
}

/* an answer went to the line (@wire as sent, @frame its address and PDU):
 * remembered to recognize its echo */
static void
line_sent (Server *s, const guint8 *wire, gsize wire_len, const guint8 *frame,
    gsize frame_len)
{
  gint64 now = g_get_monotonic_time ();

  /* write() returns when the kernel has it: it is on the line for its
   * length in characters at most */
  s->last_tx_end = now + (gint64) wire_len * s->char_us;
  s->echo_until = s->last_tx_end + s->t35_us;
  s->echo_len = MIN (wire_len, sizeof s->echo);
  s->echo_pos = 0;
  memcpy (s->echo, wire, s->echo_len);
  s->last_tx_len = MIN (frame_len, sizeof s->last_tx);
  memcpy (s->last_tx, frame, s->last_tx_len);
}

/* RTU and ASCII: the answer libmodbus wrote into the socketpair (an RTU
 * frame) goes to the line, its CRC in the configured order; in ASCII the
 * address and PDU as hex between ':' and CR LF, with their LRC */
void
mb_rtu_relay (Server *s)
{
  static const gchar hex[] = "0123456789ABCDEF";
  guint8 f[RTU_BUF + 8];
  gchar text[1 + 2 * (RTU_BUF + 8) + 4];
  ssize_t n = recv (s->pair[1], f, sizeof f, MSG_DONTWAIT);
  gsize len = 0;

  if (n < 4 || s->serial_fd < 0)
    return;                     /* nothing (a broadcast gets no answer) */
  if (s->serial.ascii) {
    f[n - 2] = lrc8 (f, n - 2);
    text[len++] = ':';
    for (gssize i = 0; i < n - 1; i++) {
      text[len++] = hex[f[i] >> 4];
      text[len++] = hex[f[i] & 0xF];
    }
    text[len++] = '\r';
    text[len++] = '\n';
    line_write (s, (const guint8 *) text, len);
    line_sent (s, (const guint8 *) text, len, f, n - 2);
    return;
  }
  if (s->snap.crc_high_first) {
    guint8 t = f[n - 2];
    f[n - 2] = f[n - 1];
    f[n - 1] = t;
  }
  line_write (s, f, n);
  line_sent (s, f, n, f, n - 2);
}

/* ---- RTU ---- */

static void
rtu_set_error (Server *s, const gchar *error)
{
  TcdModbus *m = s->m;
  gboolean changed;

  g_mutex_lock (&m->lock);
  changed = g_strcmp0 (m->rtu_error, error) != 0;
  g_free (m->rtu_error);
  m->rtu_error = g_strdup (error);
  m->rtu_open = error == NULL;
  g_mutex_unlock (&m->lock);
  /* once per new error, not at every retry */
  if (changed && error)
    g_warning ("Modbus RTU: %s: %s", s->serial.device, error);
}

static gboolean
rtu_open (Server *s)
{
  const Serial *ser = &s->serial;
  gint bits = 1 + ser->data_bits + (ser->parity != 'N') + ser->stop_bits;

  s->port = modbus_new_rtu (ser->device, ser->baud, ser->parity, ser->data_bits,
      ser->stop_bits);
  if (!s->port || modbus_connect (s->port) < 0) {
    rtu_set_error (s, modbus_strerror (errno));
    if (s->port)
      modbus_free (s->port);
    s->port = NULL;
    return FALSE;
  }
  /* the kernel drives the transceiver's direction where the UART can (not
   * on a plain RS-232 port or a pseudo-terminal: no harm) */
  modbus_rtu_set_serial_mode (s->port, MODBUS_RTU_RS485);
  s->serial_fd = modbus_get_socket (s->port);
  tcflush (s->serial_fd, TCIOFLUSH);
  /* 3.5 character times end a frame; 1.75 ms above 19200 Bd (the
   * specification's fixed value) */
  s->t35_us = ser->baud > 19200 ? 1750 : (gint64) (3.5 * bits * 1e6 / ser->baud);
  s->char_us = MAX ((gint64) (bits * 1e6 / ser->baud), 1);
  s->echo_len = 0;
  s->last_tx_len = 0;
  s->rx_len = 0;
  s->rx_overflow = FALSE;
  s->arx_len = 0;
  s->arx_open = FALSE;
  s->echo_seen = FALSE;
  rtu_set_error (s, NULL);
  g_message ("Modbus %s on %s (%d Bd, %d%c%d)", ser->ascii ? "ASCII" : "RTU", ser->device,
      ser->baud, ser->data_bits, ser->parity, ser->stop_bits);
  return TRUE;
}

static void
rtu_close (Server *s)
{
  if (!s->port)
    return;
  modbus_close (s->port);
  modbus_free (s->port);
  s->port = NULL;
  s->serial_fd = -1;
}

/* the length of a request addressed to us, from its function; 0: not
 * known (yet) */
static gsize
rtu_expected (const guint8 *f, gsize n)
{
  if (n < 2)
    return 0;
  switch (f[1]) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_READ_DISCRETE_INPUTS:
    case MODBUS_FC_READ_HOLDING_REGISTERS:
    case MODBUS_FC_READ_INPUT_REGISTERS:
    case MODBUS_FC_WRITE_SINGLE_COIL:
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
      return 8;
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
      return n >= 7 ? 9u + f[6] : 0;
    default:
      return 0;
  }
}

static gboolean
rtu_for_us (Server *s)
{
  return s->rx_len >= 1 && (s->rx[0] == s->snap.rtu_address || s->rx[0] == 0);
}

static void
rtu_frame (Server *s)
{
  gboolean pending = FALSE;

  /* on a line that echoes, our last answer coming back later than its echo
   * could (through a USB adapter's buffers): dropped, once.  Not on a line
   * that never echoed: an FC05/06 answer is its request, and a master may
   * well repeat a write at once */
  if (s->echo_seen && s->last_tx_len && s->rx_len == s->last_tx_len + 2
      && memcmp (s->rx, s->last_tx, s->last_tx_len) == 0
      && s->rx_first - s->last_tx_end < ECHO_US) {
    g_atomic_int_inc (&s->m->dropped);
    s->last_tx_len = 0;
    s->rx_len = 0;
    return;
  }
  s->last_tx_len = 0;
  mb_handle_request (s, s->rx, s->rx_len, 1, NULL, 0, &pending);
  s->pending = pending;
  s->rx_len = 0;
}

/* after bytes came: a complete request for us goes at once (no need to
 * wait for the silence when its length and CRC say it is whole) */
static void
rtu_received (Server *s)
{
  gsize need;

  if (s->rx_overflow || !rtu_for_us (s))
    return;
  need = rtu_expected (s->rx, s->rx_len);
  if (need && s->rx_len == need && crc_ok (s->rx, s->rx_len))
    rtu_frame (s);
}

/* the line went silent: what we have is a frame */
static void
rtu_silence (Server *s)
{
  if (s->rx_overflow || rtu_for_us (s)) {
    if (!s->rx_overflow && s->rx_len >= 4 && crc_ok (s->rx, s->rx_len)) {
      rtu_frame (s);
      return;
    }
    g_atomic_int_inc (&s->m->dropped);
  }
  /* another slave's traffic, noise, a bad CRC: dropped */
  s->rx_len = 0;
  s->rx_overflow = FALSE;
}

/* how long the line must be quiet before a partial buffer is a frame: a
 * request of ours whose length we know gets more slack, as USB adapters
 * deliver in bursts */
static gint64
rtu_gap (Server *s)
{
  gsize need = rtu_for_us (s) && !s->rx_overflow ? rtu_expected (s->rx, s->rx_len) : 0;

  return need > s->rx_len ? MAX (s->t35_us, 50000) : s->t35_us;
}

/* ---- ASCII (Modbus over serial line, 2.5.2): ':', the address, PDU and
 * LRC as hex pairs, CR LF.  A frame is decoded into the RTU frame it
 * stands for (its LRC replaced by a CRC) and takes the RTU path; the
 * answer is encoded back by mb_rtu_relay(). ---- */

static void
ascii_drop (Server *s)
{
  g_atomic_int_inc (&s->m->dropped);
  s->arx_len = 0;
  s->arx_open = FALSE;
}

/* the text between ':' and CR LF */
static void
ascii_frame (Server *s)
{
  gsize n = s->arx_len / 2;
  guint16 crc;

  /* address, function, LRC at least; whole hex pairs; a binary frame
   * (with a CRC in place of the LRC) fits RTU_BUF */
  if (s->arx_len % 2 || n < 3 || n + 1 > sizeof s->rx) {
    ascii_drop (s);
    return;
  }
  for (gsize i = 0; i < n; i++) {
    gint hi = g_ascii_xdigit_value (s->arx[2 * i]);
    gint lo = g_ascii_xdigit_value (s->arx[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      ascii_drop (s);
      return;
    }
    s->rx[i] = hi << 4 | lo;
  }
  s->arx_len = 0;
  s->arx_open = FALSE;
  if (lrc8 (s->rx, n - 1) != s->rx[n - 1]) {
    g_atomic_int_inc (&s->m->dropped);
    return;
  }
  if (s->rx[0] != s->snap.rtu_address && s->rx[0] != 0)
    return;                     /* another slave's */
  crc = crc16 (s->rx, n - 1);
  s->rx[n - 1] = crc & 0xFF;
  s->rx[n] = crc >> 8;
  s->rx_len = n + 1;
  rtu_frame (s);
}

/* characters from the line; a ':' always starts a new frame */
static void
ascii_received (Server *s, const guint8 *p, gsize n)
{
  for (gsize i = 0; i < n && !s->pending; i++) {
    guint8 c = p[i];
    if (c == ':') {
      if (s->arx_open && s->arx_len)
        g_atomic_int_inc (&s->m->dropped);      /* a frame cut short */
      s->arx_len = 0;
      s->arx_open = TRUE;
      s->rx_first = s->rx_last;
    } else if (!s->arx_open) {
      continue;                 /* between frames: noise */
    } else if (c == '\n' && s->arx_len && s->arx[s->arx_len - 1] == '\r') {
      s->arx_len--;
      ascii_frame (s);
    } else if (s->arx_len == sizeof s->arx) {
      ascii_drop (s);           /* longer than any frame */
    } else {
      s->arx[s->arx_len++] = c;
    }
  }
}

/* bytes from the line, the echo taken out */
static void
line_input (Server *s, const guint8 *p, gsize n, gint64 now)
{
  if (!n)
    return;
  s->rx_last = now;
  if (s->serial.ascii) {
    ascii_received (s, p, n);
    return;
  }
  if (!s->rx_len && !s->rx_overflow)
    s->rx_first = now;
  if (s->rx_overflow || n > sizeof s->rx - s->rx_len) {
    /* longer than any frame: noise, until the line is quiet */
    s->rx_overflow = TRUE;
    s->rx_len = 0;
  } else {
    memcpy (s->rx + s->rx_len, p, n);
    s->rx_len += n;
  }
  rtu_received (s);
}

/* Bytes read from the line.  While our answer is on it and for 3.5
 * characters after, what comes back equal to it is its echo (a 2-wire
 * line whose receiver hears us), dropped; the first byte that differs ends
 * the echo and what matched so far is input after all (a master that
 * answers fast starts with the same address and function, and on a
 * pseudo-terminal "fast" is at once). */
static void
line_received (Server *s, const guint8 *p, gsize n, gint64 now)
{
  gsize i = 0, matched;

  /* a partial echo, then silence: that was all of it */
  if (s->echo_len && s->echo_pos && now - s->echo_last > s->t35_us)
    s->echo_len = 0;
  if (s->echo_len && (s->echo_pos || now < s->echo_until)) {
    while (i < n && s->echo_pos < s->echo_len && p[i] == s->echo[s->echo_pos]) {
      i++;
      s->echo_pos++;
    }
    s->echo_last = now;
    if (s->echo_pos == s->echo_len) {
      s->echo_len = 0;          /* all of it came back */
      s->echo_seen = TRUE;
    } else if (i < n) {
      matched = s->echo_pos;
      s->echo_len = 0;
      line_input (s, s->echo, matched, now);
    } else {
      return;                   /* so far the echo */
    }
  } else {
    s->echo_len = 0;
  }
  line_input (s, p + i, n - i, now);
}

static void
rtu_finish (Server *s, Job *j)
{
  s->pending = FALSE;
  if (j->exception) {
    mb_send_exception (s, j->req, j->exception);
  } else {
    g_atomic_int_inc (&s->m->writes);
    mb_send_reply (s, j->req, j->req_len);
  }
  s->cfg_dirty = TRUE;
}

static gpointer
rtu_thread (gpointer data)
{
  Server *s = data;

  while (!g_atomic_int_get (&s->quit)) {
    struct pollfd fds[2];
    struct timespec ts, *tp = NULL;
    gint n = 1, rc;
    Job *j;

    if (!s->port && !rtu_open (s)) {
      /* the device may come (a USB adapter plugged in): try again later */
      fds[0] = (struct pollfd) { s->wake_fd, POLLIN, 0 };
      if (poll (fds, 1, REOPEN_MS) > 0)
        mb_drain (s->wake_fd);
      continue;
    }
    mb_sync_snapshot (s);
    fds[0] = (struct pollfd) { s->wake_fd, POLLIN, 0 };
    fds[1] = (struct pollfd) { s->serial_fd, s->pending ? 0 : POLLIN, 0 };
    n = 2;
    if (s->serial.ascii ? s->arx_open && !s->pending
        : (s->rx_len > 0 || s->rx_overflow) && !s->pending) {
      gint64 gap = s->serial.ascii ? ASCII_TIMEOUT_US : rtu_gap (s);
      gint64 left = MAX (s->rx_last + gap - g_get_monotonic_time (), 0);
      ts.tv_sec = left / G_USEC_PER_SEC;
      ts.tv_nsec = (left % G_USEC_PER_SEC) * 1000;
      tp = &ts;
    }
    rc = ppoll (fds, n, tp, NULL);
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      g_warning ("Modbus RTU: poll: %s", g_strerror (errno));
      break;
    }
    if (fds[0].revents & POLLIN) {
      mb_drain (s->wake_fd);
      mb_sync_snapshot (s);
      while ((j = g_async_queue_try_pop (s->done))) {
        rtu_finish (s, j);
        mb_job_free (j);
      }
    }
    if (fds[1].revents & POLLIN) {
      guint8 tmp[RTU_BUF];
      ssize_t r = read (s->serial_fd, tmp, sizeof tmp);
      if (r > 0) {
        line_received (s, tmp, r, g_get_monotonic_time ());
        continue;
      }
      if (r < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
      /* the device went away (unplugged, the other end of a pty closed) */
      rtu_close (s);
      rtu_set_error (s, "the device hung up");
      s->rx_len = 0;
      s->arx_len = 0;
      s->arx_open = FALSE;
      continue;
    }
    if (rc == 0 && s->serial.ascii) {
      /* a frame not finished within the timeout is dropped */
      if (s->arx_open && g_get_monotonic_time () - s->rx_last >= ASCII_TIMEOUT_US)
        ascii_drop (s);
      continue;
    }
    if (rc == 0 && (s->rx_len > 0 || s->rx_overflow)
        && g_get_monotonic_time () - s->rx_last >= rtu_gap (s))
      rtu_silence (s);
  }
  rtu_close (s);
  return NULL;
}

/* ---- the server (main loop) ---- */

void
mb_rtu_start (TcdModbus *m)
{
  Server *s;

  if (!m->serial.enabled || !(s = mb_server_new (m, TRUE)))
    return;
  s->serial = m->serial;
  m->rtu = s;
  s->thread = g_thread_new ("modbus-rtu", rtu_thread, s);
}

void
mb_rtu_stop (TcdModbus *m)
{
  if (!m->rtu)
    return;
  mb_server_stop (m->rtu);
  m->rtu = NULL;
  g_mutex_lock (&m->lock);
  m->rtu_open = FALSE;
  g_clear_pointer (&m->rtu_error, g_free);
  g_mutex_unlock (&m->lock);
}
