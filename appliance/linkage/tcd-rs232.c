/* thermocamd: the RS-232 port (manual 10.9)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-rs232.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "tcd-clock.h"
#include "tcd-config.h"
#include "tc-json.h"

#define REOPEN_S 3
#define READ_CHUNK 4096

typedef struct {
  gchar *device;
  guint baud, data_bits, stop_bits;
  gchar *parity, *flow, *use;
} Settings;

struct _TcdRs232 {
  Settings want;
  gint fd;
  guint in_id, out_id, reopen_id;
  GByteArray *queue;
  gchar *error;
  gchar *line;                  /* what the driver took, read back */
  gint64 opened_us;             /* device time it opened (unix us); 0: closed */
  guint64 bytes_in, bytes_out, dropped;
  TcdRs232ReadFunc on_read;
  TcdRs232NotifyFunc on_room, on_state;
  gpointer user_data;
};

static void port_close (TcdRs232 *p);
static void port_open (TcdRs232 *p);

TcdRs232 *
tcd_rs232_new (void)
{
  TcdRs232 *p = g_new0 (TcdRs232, 1);

  p->fd = -1;
  p->queue = g_byte_array_new ();
  p->want.device = g_strdup ("");
  p->want.baud = 115200;
  p->want.data_bits = 8;
  p->want.stop_bits = 1;
  p->want.parity = g_strdup ("none");
  p->want.flow = g_strdup ("none");
  p->want.use = g_strdup ("console");
  return p;
}

void
tcd_rs232_free (TcdRs232 *p)
{
  if (!p)
    return;
  port_close (p);
  g_clear_handle_id (&p->reopen_id, g_source_remove);
  g_byte_array_unref (p->queue);
  g_free (p->want.device);
  g_free (p->want.parity);
  g_free (p->want.flow);
  g_free (p->want.use);
  g_free (p->error);
  g_free (p->line);
  g_free (p);
}

void
tcd_rs232_set_funcs (TcdRs232 *p, TcdRs232ReadFunc on_read, TcdRs232NotifyFunc on_room,
    TcdRs232NotifyFunc on_state, gpointer user_data)
{
  p->on_read = on_read;
  p->on_room = on_room;
  p->on_state = on_state;
  p->user_data = user_data;
}

/* ---- checks ---- */

static speed_t
speed_of (guint baud)
{
  switch (baud) {
    case 1200: return B1200;
    case 2400: return B2400;
    case 4800: return B4800;
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    default: return B0;
  }
}

/* a serial device that exists and is a terminal (@path not empty) */
static gboolean
device_ok (const gchar *path, GError **error)
{
  GStatBuf st;
  gint fd;
  gboolean tty;

  if (g_stat (path, &st) != 0) {
    tcd_change_refuse (error, "serial.device", "serial.device: %s: %s", path,
        g_strerror (errno));
    return FALSE;
  }
  if (!S_ISCHR (st.st_mode)) {
    tcd_change_refuse (error, "serial.device", "serial.device: %s is not a character device",
        path);
    return FALSE;
  }
  fd = open (path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    tcd_change_refuse (error, "serial.device", "serial.device: %s: %s", path,
        g_strerror (errno));
    return FALSE;
  }
  tty = isatty (fd);
  close (fd);
  if (!tty) {
    tcd_change_refuse (error, "serial.device", "serial.device: %s is not a terminal", path);
    return FALSE;
  }
  return TRUE;
}

gboolean
tcd_rs232_check (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
    gpointer user_data, GError **error)
{
  JsonNode *n = tcd_config_node (doc, "serial.device");
  JsonNode *rs485 = tcd_config_node (doc, "rs485.device");
  JsonNode *rs485_on = tcd_config_node (doc, "rs485.enabled");
  const gchar *dev = n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_string (n) : NULL;
  gboolean same;

  if (!dev || !*dev)
    return TRUE;
  same = tc_json_equal (n, tcd_config_node (current, "serial.device"));
  if (rs485 && JSON_NODE_HOLDS_VALUE (rs485) && g_strcmp0 (json_node_get_string (rs485), dev) == 0
      && rs485_on && JSON_NODE_HOLDS_VALUE (rs485_on) && json_node_get_boolean (rs485_on)) {
    tcd_change_refuse (error, "serial.device",
        "serial.device: %s is the RS-485 port's device (rs485.device)", dev);
    return FALSE;
  }
  /* a device already in use is checked again only when it is given again
   * (it may be away for a while: the port reopens it) */
  if (same)
    return TRUE;
  return device_ok (dev, error);
}

/* ---- the line ---- */

static void
set_error (TcdRs232 *p, const gchar *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
set_error (TcdRs232 *p, const gchar *fmt, ...)
{
  va_list ap;
  gchar *e;

  va_start (ap, fmt);
  e = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  /* the same failure again (the retries of a device that is away): said once */
  if (g_strcmp0 (e, p->error) != 0)
    g_warning ("serial: %s", e);
  g_free (p->error);
  p->error = e;
}

static gboolean
reopen_cb (gpointer user_data)
{
  TcdRs232 *p = user_data;

  p->reopen_id = 0;
  port_open (p);
  return G_SOURCE_REMOVE;
}

static void
failed (TcdRs232 *p)
{
  port_close (p);
  if (*p->want.device && !p->reopen_id)
    p->reopen_id = g_timeout_add_seconds (REOPEN_S, reopen_cb, p);
  if (p->on_state)
    p->on_state (p->user_data);
}

static gboolean
apply_termios (TcdRs232 *p, GError **error)
{
  struct termios t;
  speed_t sp = speed_of (p->want.baud);

  if (tcgetattr (p->fd, &t) != 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "tcgetattr: %s",
        g_strerror (errno));
    return FALSE;
  }
  cfmakeraw (&t);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cflag &= ~(CSIZE | CSTOPB | PARENB | PARODD | CRTSCTS);
  t.c_cflag |= p->want.data_bits == 5 ? CS5 : p->want.data_bits == 6 ? CS6
      : p->want.data_bits == 7 ? CS7 : CS8;
  if (p->want.stop_bits == 2)
    t.c_cflag |= CSTOPB;
  if (g_str_equal (p->want.parity, "odd"))
    t.c_cflag |= PARENB | PARODD;
  else if (g_str_equal (p->want.parity, "even"))
    t.c_cflag |= PARENB;
  t.c_iflag &= ~(IXON | IXOFF | IXANY | INPCK);
  if (!g_str_equal (p->want.parity, "none"))
    t.c_iflag |= INPCK;
  if (g_str_equal (p->want.flow, "hardware"))
    t.c_cflag |= CRTSCTS;
  else if (g_str_equal (p->want.flow, "software"))
    t.c_iflag |= IXON | IXOFF;
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  cfsetispeed (&t, sp);
  cfsetospeed (&t, sp);
  if (tcsetattr (p->fd, TCSANOW, &t) != 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "tcsetattr: %s",
        g_strerror (errno));
    return FALSE;
  }
  /* what the driver kept (a pty, for one, is always 8 bits without parity) */
  g_clear_pointer (&p->line, g_free);
  if (tcgetattr (p->fd, &t) == 0) {
    static const guint bauds[] = { 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400 };
    guint baud = 0;
    tcflag_t cs = t.c_cflag & CSIZE;
    for (guint i = 0; i < G_N_ELEMENTS (bauds); i++)
      if (speed_of (bauds[i]) == cfgetospeed (&t))
        baud = bauds[i];
    p->line = g_strdup_printf ("%u %c%c%c flow %s", baud,
        cs == CS5 ? '5' : cs == CS6 ? '6' : cs == CS7 ? '7' : '8',
        !(t.c_cflag & PARENB) ? 'N' : (t.c_cflag & PARODD) ? 'O' : 'E',
        (t.c_cflag & CSTOPB) ? '2' : '1',
        (t.c_cflag & CRTSCTS) ? "hardware" : (t.c_iflag & IXON) ? "software" : "none");
  }
  return TRUE;
}

static gboolean on_out (gint fd, GIOCondition cond, gpointer user_data);

static void
flush_queue (TcdRs232 *p)
{
  gsize before = p->queue->len;

  while (p->fd >= 0 && p->queue->len > 0) {
    ssize_t w = write (p->fd, p->queue->data, p->queue->len);
    if (w > 0) {
      p->bytes_out += w;
      g_byte_array_remove_range (p->queue, 0, w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && errno == EAGAIN) {
      break;
    } else {
      set_error (p, "%s: write: %s", p->want.device, g_strerror (errno));
      failed (p);
      return;
    }
  }
  if (p->queue->len > 0 && !p->out_id)
    p->out_id = g_unix_fd_add (p->fd, G_IO_OUT, on_out, p);
  else if (p->queue->len == 0 && p->out_id)
    g_clear_handle_id (&p->out_id, g_source_remove);
  if (p->queue->len < before && p->on_room)
    p->on_room (p->user_data);
}

static gboolean
on_out (gint fd, GIOCondition cond, gpointer user_data)
{
  TcdRs232 *p = user_data;

  p->out_id = 0;
  flush_queue (p);
  return G_SOURCE_REMOVE;
}

static gboolean
on_in (gint fd, GIOCondition cond, gpointer user_data)
{
  TcdRs232 *p = user_data;
  guint8 buf[READ_CHUNK];
  ssize_t r;

  /* a few reads at most per turn of the loop */
  for (gint i = 0; i < 4; i++) {
    r = read (fd, buf, sizeof buf);
    if (r > 0) {
      p->bytes_in += r;
      if (p->on_read)
        p->on_read (buf, r, p->user_data);
      else
        p->dropped += r;
      if (p->fd < 0)            /* closed by the reader */
        return G_SOURCE_REMOVE;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
      return G_SOURCE_CONTINUE;
    /* VMIN 0, VTIME 0: 0 is "nothing more" unless the line hung up */
    if (r == 0 && !(cond & (G_IO_HUP | G_IO_ERR)))
      return G_SOURCE_CONTINUE;
    /* EIO or a hang-up: the other end went away (a pty's master closed) */
    p->in_id = 0;
    set_error (p, "%s: %s", p->want.device, r == 0 ? "hung up" : g_strerror (errno));
    failed (p);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static void
port_close (TcdRs232 *p)
{
  g_clear_handle_id (&p->in_id, g_source_remove);
  g_clear_handle_id (&p->out_id, g_source_remove);
  if (p->fd >= 0) {
    close (p->fd);
    p->fd = -1;
    g_message ("serial: %s closed", p->want.device);
  }
  p->opened_us = 0;
  g_clear_pointer (&p->line, g_free);
  g_byte_array_set_size (p->queue, 0);
}

static void
port_open (TcdRs232 *p)
{
  g_autoptr (GError) err = NULL;

  port_close (p);
  g_clear_handle_id (&p->reopen_id, g_source_remove);
  if (!*p->want.device) {
    g_clear_pointer (&p->error, g_free);
    if (p->on_state)
      p->on_state (p->user_data);
    return;
  }
  p->fd = open (p->want.device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (p->fd < 0) {
    set_error (p, "%s: %s", p->want.device, g_strerror (errno));
    failed (p);
    return;
  }
  if (!isatty (p->fd)) {
    set_error (p, "%s: not a terminal", p->want.device);
    failed (p);
    return;
  }
  if (!apply_termios (p, &err)) {
    set_error (p, "%s: %s", p->want.device, err->message);
    failed (p);
    return;
  }
  g_clear_pointer (&p->error, g_free);
  p->opened_us = tcd_clock_now_utc ();
  p->in_id = g_unix_fd_add (p->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_in, p);
  {
    g_autofree gchar *d = tcd_rs232_describe (p);
    g_message ("serial: %s open, %s, %s", p->want.device, d, p->want.use);
  }
  if (p->on_state)
    p->on_state (p->user_data);
}

void
tcd_rs232_apply (TcdRs232 *p, JsonNode *doc)
{
  JsonNode *sec = tcd_config_node (doc, "serial");
  JsonObject *o = sec && JSON_NODE_HOLDS_OBJECT (sec) ? json_node_get_object (sec) : NULL;
  const gchar *dev = o ? tc_json_get_string (o, "device", "") : "";
  const gchar *use = o ? tc_json_get_string (o, "use", "console") : "console";
  gboolean new_device = g_strcmp0 (dev, p->want.device) != 0;
  gboolean new_use = g_strcmp0 (use, p->want.use) != 0;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *before = NULL, *after = NULL;

  if (!o)
    return;
  before = tcd_rs232_describe (p);
  g_free (p->want.device);
  p->want.device = g_strdup (dev);
  g_free (p->want.use);
  p->want.use = g_strdup (use);
  p->want.baud = tc_json_get_int (o, "baud_rate", 115200);
  p->want.data_bits = tc_json_get_int (o, "data_bits", 8);
  p->want.stop_bits = tc_json_get_int (o, "stop_bits", 1);
  g_free (p->want.parity);
  p->want.parity = g_strdup (tc_json_get_string (o, "parity", "none"));
  g_free (p->want.flow);
  p->want.flow = g_strdup (tc_json_get_string (o, "flow_control", "none"));
  if (new_device || (p->fd < 0 && !p->reopen_id && *dev)) {
    port_open (p);
    return;
  }
  /* another section changed, or a device away is retried by itself */
  after = tcd_rs232_describe (p);
  if (p->fd < 0 || (g_str_equal (before, after) && !new_use))
    return;
  /* the same device: the line's settings change in place */
  if (!g_str_equal (before, after) && !apply_termios (p, &err)) {
    set_error (p, "%s: %s", p->want.device, err->message);
    failed (p);
    return;
  } else {
    g_autofree gchar *d = tcd_rs232_describe (p);
    g_message ("serial: %s now %s, %s", p->want.device, d, p->want.use);
  }
  if (new_use && p->on_state)
    p->on_state (p->user_data);
}

gboolean
tcd_rs232_is_open (TcdRs232 *p)
{
  return p && p->fd >= 0;
}

const gchar *
tcd_rs232_use (TcdRs232 *p)
{
  return p->want.use;
}

const gchar *
tcd_rs232_device (TcdRs232 *p)
{
  return p->want.device;
}

gchar *
tcd_rs232_describe (TcdRs232 *p)
{
  return g_strdup_printf ("%u %u%c%u flow %s", p->want.baud, p->want.data_bits,
      g_ascii_toupper (p->want.parity[0]), p->want.stop_bits, p->want.flow);
}

gsize
tcd_rs232_room (TcdRs232 *p)
{
  return p->fd < 0 || p->queue->len >= TCD_RS232_QUEUE ? 0 : TCD_RS232_QUEUE - p->queue->len;
}

gsize
tcd_rs232_write (TcdRs232 *p, const guint8 *data, gsize len)
{
  gsize n = MIN (len, tcd_rs232_room (p));

  if (n < len)
    p->dropped += len - n;
  if (n == 0)
    return 0;
  g_byte_array_append (p->queue, data, n);
  flush_queue (p);
  return n;
}

void
tcd_rs232_count_dropped (TcdRs232 *p, gsize n)
{
  p->dropped += n;
}

JsonNode *
tcd_rs232_status (TcdRs232 *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *d = tcd_rs232_describe (p);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "device");
  json_builder_add_string_value (b, p->want.device);
  json_builder_set_member_name (b, "open");
  json_builder_add_boolean_value (b, p->fd >= 0);
  json_builder_set_member_name (b, "error");
  if (p->error)
    json_builder_add_string_value (b, p->error);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "use");
  json_builder_add_string_value (b, p->want.use);
  json_builder_set_member_name (b, "settings");
  json_builder_add_string_value (b, d);
  json_builder_set_member_name (b, "line");
  if (p->line)
    json_builder_add_string_value (b, p->line);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "bytes_in");
  json_builder_add_int_value (b, p->bytes_in);
  json_builder_set_member_name (b, "bytes_out");
  json_builder_add_int_value (b, p->bytes_out);
  json_builder_set_member_name (b, "dropped");
  json_builder_add_int_value (b, p->dropped);
  json_builder_set_member_name (b, "queued");
  json_builder_add_int_value (b, p->queue->len);
  json_builder_set_member_name (b, "opened");
  if (p->opened_us) {
    g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (p->opened_us / G_USEC_PER_SEC);
    g_autofree gchar *s = g_date_time_format_iso8601 (t);
    json_builder_add_string_value (b, s);
  } else {
    json_builder_add_null_value (b);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
