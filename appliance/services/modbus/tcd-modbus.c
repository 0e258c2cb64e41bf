/* thermocamd: Modbus TCP and RTU (manual 9.2, 10.10) with libmodbus
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Temperatures, alarm states and parameters for PLCs.  The register map is
 * schemas/modbus-registers.json; the constants of tcd-modbus-map.h must
 * agree with it (the e2e test reads the file and checks addresses against
 * the wire).
 *
 * How it is built:
 *
 * - Two server threads, one for TCP and one for RTU, each a poll() loop over
 *   non-blocking descriptors plus an eventfd that wakes it (stop, new
 *   configuration, a write finished on the main loop).  Nothing in a loop
 *   blocks on a peer: a half frame just sits in that client's buffer (and is
 *   dropped with its client after PARTIAL_TIMEOUT), so garbage or a slow
 *   client never delays the others.
 * - TCP clients: the IP filter and the illegal-login lock are checked at
 *   accept, at each request and for every open client when the
 *   configuration changes (tcd_modbus_apply, tcd_modbus_security_changed); a
 *   client no longer allowed is closed without an answer.  A client silent
 *   for modbus.idle_timeout_s is closed, and when every slot is taken a new
 *   client replaces the one idle longest (if idle EVICT_IDLE_US at least).
 * - A TCP port that cannot be bound (another program holds it) is not
 *   fatal: the error shows in the statistics and the bind is retried every
 *   TCP_RETRY_MS on the main loop.
 * - Framing is ours (MBAP length for TCP, length-by-function plus silence for
 *   RTU), and libmodbus does the protocol: modbus_reply() on a
 *   modbus_mapping_t this thread owns builds and sends every answer,
 *   modbus_reply_exception() every exception.  We do not use modbus_receive()
 *   because it blocks for the byte timeout on a half frame and, for an
 *   unknown function, sleeps the response timeout and flushes the socket;
 *   requests are checked first by the map (function, quantities,
 *   addresses), so modbus_reply() only ever sees well-formed ones.
 * - RTU: libmodbus opens and sets up the serial device (modbus_connect with
 *   baud, parity, data and stop bits), we read frames from its descriptor.
 *   Replies are built by a second RTU context whose "serial port" is one end
 *   of a socketpair: we take the finished frame (with libmodbus's standard
 *   CRC, low byte first) from the other end and, when rs485.crc_order is
 *   high_first, swap its two CRC bytes before it goes out.  Requests are
 *   accepted with the CRC in either order (the manual's option is "CRC
 *   response transmission"): a master that computes the CRC one way always
 *   gets its answer in the configured order.
 * - Echoes (a 2-wire line whose receiver hears our own transmission): what
 *   comes back equal to our answer while it is being sent and for 3.5
 *   character times after is dropped (bytes that differ are a request: on a
 *   pseudo-terminal a master may answer at once), and, once the line has
 *   echoed, so is a frame identical to our last answer that begins within
 *   ECHO_US of its end; a
 *   frame with a function >= 0x80 (an answer's shape) is never answered on
 *   the serial line.
 * - Registers are filled from the newest temperature sample at a request
 *   (modbus.update_ms 0: every request sees the newest frame, i.e. "every
 *   frame" without per-frame work while no PLC asks; update_ms N: values
 *   change at most every N ms).  The sample is a reference: the pipeline is
 *   never locked beyond taking it, and nothing is allocated in that path.
 * - Writes are checked in the server thread (addresses, value shapes), then
 *   carried out on the main loop through tcd_change_commit, the one path
 *   of every change (validation, persistence, audit, event); the client's
 *   answer leaves when the change was committed (or refused: exception 03;
 *   an I/O error: 04).  Meanwhile that client is not read from, the others
 *   are served.  A write that would change nothing (the value configured, an
 *   alarm output already in that state) is answered but not carried out nor
 *   audited; a flat-field correction runs at most every TCD_FFC_MIN_US (tcd-commands.h).
 * - The server threads never read the configuration document (main-loop
 *   owned): tcd_modbus_apply() fills a snapshot under our lock.
 *
 * The files: tcd-modbus-map.c is the register map (pure: a request in, an
 * exception or a decoded write out; readings in, registers out); this file
 * the API, the servers' set-up, the requests and the writes carried out on
 * the main loop (execute()); tcd-modbus-tcp.c the TCP listener and clients;
 * tcd-modbus-serial.c RTU and ASCII on the serial line.
 */
#include "tcd-modbus-server.h"
#include "tcd-events.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gstthermalmeta.h"
#include "tc-json.h"


G_STATIC_ASSERT (N_RULES == GST_THERMAL_MAX_RULES);
G_STATIC_ASSERT ((gint) TCD_MODBUS_STATE_NORMAL == (gint) GST_THERMAL_STATE_NORMAL);
G_STATIC_ASSERT ((gint) TCD_MODBUS_STATE_PRE_ALARM == (gint) GST_THERMAL_STATE_PRE_ALARM);
G_STATIC_ASSERT ((gint) TCD_MODBUS_STATE_ALARM == (gint) GST_THERMAL_STATE_ALARM);

/* ---- small helpers ---- */

static JsonNode *
node_at (JsonNode *doc, const gchar *path)
{
  return doc ? tcd_config_node (doc, path) : NULL;
}

static gboolean
bool_at (JsonNode *doc, const gchar *path, gboolean def)
{
  JsonNode *n = node_at (doc, path);
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN
      ? json_node_get_boolean (n) : def;
}

static gint64
int_at (JsonNode *doc, const gchar *path, gint64 def)
{
  JsonNode *n = node_at (doc, path);
  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_int (n) : def;
}

static gdouble
dbl_at (JsonNode *doc, const gchar *path, gdouble def)
{
  JsonNode *n = node_at (doc, path);
  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_double (n) : def;
}

static const gchar *
str_at (JsonNode *doc, const gchar *path, const gchar *def)
{
  JsonNode *n = node_at (doc, path);
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
      ? json_node_get_string (n) : def;
}

void
mb_wake (Server *s)
{
  guint64 one = 1;
  ssize_t r G_GNUC_UNUSED = write (s->wake_fd, &one, sizeof one);
}

void
mb_drain (gint fd)
{
  guint64 v;
  ssize_t r G_GNUC_UNUSED = read (fd, &v, sizeof v);
}

/* ---- the configuration snapshot (main loop) ---- */

static void
read_snapshot (JsonNode *doc, Snapshot *snap)
{
  TcdModbusMapConfig *c = &snap->map;
  JsonNode *rules = node_at (doc, "rules");
  JsonArray *a = rules && JSON_NODE_HOLDS_ARRAY (rules) ? json_node_get_array (rules) : NULL;

  c->word_big = g_strcmp0 (str_at (doc, "modbus.word_order", "big"), "little") != 0;
  c->write_enabled = bool_at (doc, "modbus.write_enabled", FALSE);
  snap->update_ms = CLAMP (int_at (doc, "modbus.update_ms", 0), 0, 10000);
  snap->max_clients = CLAMP (int_at (doc, "modbus.max_clients", 4), 1, MAX_CLIENTS);
  snap->idle_timeout_s = CLAMP (int_at (doc, "modbus.idle_timeout_s", 60), 0, 3600);
  c->thermometry = bool_at (doc, "thermometry.enabled", TRUE);
  c->emissivity = dbl_at (doc, "thermometry.emissivity", 0.95);
  c->distance = dbl_at (doc, "thermometry.distance", 2.0);
  c->reflected = dbl_at (doc, "thermometry.reflected_temperature", 20.0);
  snap->rtu_address = CLAMP (int_at (doc, "rs485.address", 1), 1, 247);
  snap->crc_high_first =
      g_strcmp0 (str_at (doc, "rs485.crc_order", "low_first"), "high_first") == 0;
  c->n_rules = a ? MIN (json_array_get_length (a), N_RULES) : 0;
  for (guint i = 0; i < N_RULES; i++) {
    JsonObject *r = i < c->n_rules ? tc_json_array_get_object (a, i) : NULL;
    JsonObject *al = r && json_object_has_member (r, "alarm")
        ? tc_json_get_object (r, "alarm") : NULL;
    c->rule_id[i] = r ? tc_json_get_int (r, "id", 0) : 0;
    c->rule_enabled[i] = r && tc_json_get_bool (r, "enabled",
        TRUE);
    c->rule_alarm[i] = al && tc_json_get_bool (al, "enabled",
        FALSE);
  }
}

static void
read_serial (JsonNode *doc, Serial *ser)
{
  const gchar *parity = str_at (doc, "rs485.parity", "none");

  memset (ser, 0, sizeof *ser);
  g_strlcpy (ser->device, str_at (doc, "rs485.device", ""), sizeof ser->device);
  ser->enabled = bool_at (doc, "rs485.enabled", FALSE) && ser->device[0];
  ser->baud = int_at (doc, "rs485.baud_rate", 9600);
  ser->data_bits = int_at (doc, "rs485.data_bits", 8);
  ser->stop_bits = int_at (doc, "rs485.stop_bits", 1);
  ser->parity = g_str_equal (parity, "even") ? 'E' : g_str_equal (parity, "odd") ? 'O' : 'N';
  ser->ascii = g_strcmp0 (str_at (doc, "rs485.protocol", "modbus-rtu"), "modbus-ascii") == 0;
}

/* ---- filling the registers (server threads) ---- */

void
mb_sync_snapshot (Server *s)
{
  TcdModbus *m = s->m;

  g_mutex_lock (&m->lock);
  if (m->snap.generation != s->snap.generation) {
    s->snap = m->snap;
    s->cfg_dirty = TRUE;
    s->refreshed = 0;
  }
  g_mutex_unlock (&m->lock);
}

/* the four tables of this thread's libmodbus mapping */
static TcdModbusTables
tables (Server *s)
{
  return (TcdModbusTables) {
    .coils = s->map->tab_bits,
    .discrete = s->map->tab_input_bits,
    .holding = s->map->tab_registers,
    .input = s->map->tab_input_registers,
  };
}

/* the registers that show the configuration: parameters, rule enables */
static void
fill_config (Server *s)
{
  TcdModbusTables t = tables (s);

  tcd_modbus_map_encode_config (&s->snap.map, &t);
  s->cfg_dirty = FALSE;
}

/* The newest temperature sample (a reference, or NULL) and its frame
 * counter: the sensor's frame number (the buffer offset thermalsrc and
 * v4l2src set), continued across pipeline restarts; without offsets, frames
 * seen.  Both threads come here: taking the sample under the same lock keeps
 * the offsets they see in order, so that only a real restart goes back. */
static GstSample *
take_sample (TcdModbus *m, guint32 *counter)
{
  GstSample *sample;
  GstBuffer *buf;
  guint64 n;

  g_mutex_lock (&m->frames_lock);
  sample = tcd_pipeline_get_temperature (m->ctx->pipeline);
  buf = sample ? gst_sample_get_buffer (sample) : NULL;
  if (!buf) {
    g_mutex_unlock (&m->frames_lock);
    *counter = 0;
    return sample;
  }
  if (GST_BUFFER_OFFSET_IS_VALID (buf)) {
    guint64 off = GST_BUFFER_OFFSET (buf);
    if (off < m->last_offset)
      m->frame_base += m->last_offset + 1;      /* the source restarted */
    m->last_offset = off;
    n = m->frame_base + off;
  } else {
    if (GST_BUFFER_PTS (buf) != m->last_pts)
      m->frame_base++;
    n = m->frame_base;
  }
  m->last_pts = GST_BUFFER_PTS (buf);
  g_mutex_unlock (&m->frames_lock);
  *counter = (guint32) n;
  return sample;
}

/* the measurement registers and inputs from the newest temperature frame */
static void
fill_measurements (Server *s, gint64 now)
{
  TcdModbus *m = s->m;
  TcdModbusTables t = tables (s);
  TcdModbusReading r = { .age_us = -1, .device_t = NAN };
  GstSample *sample = take_sample (m, &r.frame_counter);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstThermalMeasureMeta *mm = buf ? gst_buffer_get_thermal_measure_meta (buf) : NULL;
  GstThermalMeta *tm = buf ? gst_buffer_get_thermal_meta (buf) : NULL;
  TcdAlarmIo *io = tcd_events_get_io (m->ctx->events);

  if (buf) {
    GstClockTime pts = GST_BUFFER_PTS (buf);
    gint64 captured = tcd_pipeline_capture_time (m->ctx->pipeline, pts);
    if (!captured) {
      /* unknown to the pipeline's ring: age from when we first saw it */
      if (pts != s->seen_pts || !s->seen_at) {
        s->seen_pts = pts;
        s->seen_at = now;
      }
      captured = s->seen_at;
    }
    r.age_us = MAX (now - captured, 0);
  }
  if (mm) {
    r.measured = TRUE;
    r.valid = mm->valid;
    r.max = mm->max;
    r.min = mm->min;
    r.avg = mm->avg;
    r.scene_state = mm->scene_state;
    r.below_range = mm->below_range;
    r.above_range = mm->above_range;
    r.n_rules = MIN (mm->n_rules, N_RULES);
    for (guint k = 0; k < r.n_rules; k++) {
      const GstThermalRuleResult *rr = &mm->rules[k];
      r.rules[k] = (TcdModbusRuleReading) { rr->id, rr->valid, rr->max, rr->min, rr->avg,
        rr->state, rr->below_range, rr->above_range };
    }
  }
  if (tm) {
    r.device_t = tm->fpa_temperature;
    r.shutter_closed = tm->shutter_closed;
  }
  r.alarm_inputs = tcd_alarmio_input_bits (io);
  r.alarm_outputs = tcd_alarmio_output_bits (io);
  tcd_modbus_map_encode_reading (&s->snap.map, &r, &t);

  if (sample)
    gst_sample_unref (sample);
  s->refreshed = now;
}

/* ---- requests (server threads) ---- */

static void
server_ref (Server *s)
{
  g_atomic_int_inc (&s->ref);
}

static void
server_unref (Server *s)
{
  if (!g_atomic_int_dec_and_test (&s->ref))
    return;
  if (s->wake_fd >= 0)
    close (s->wake_fd);
  if (s->pair[0] >= 0)
    close (s->pair[0]);
  if (s->pair[1] >= 0)
    close (s->pair[1]);
  if (s->ctx)
    modbus_free (s->ctx);       /* never modbus_close: its socket is not its own */
  if (s->map)
    modbus_mapping_free (s->map);
  if (s->done)
    g_async_queue_unref (s->done);
  g_free (s);
}

void
mb_job_free (Job *j)
{
  server_unref (j->server);
  g_free (j);
}

/* FALSE when the link failed (TCP: close the client) */
gboolean
mb_send_exception (Server *s, const guint8 *req, gint code)
{
  g_atomic_int_inc (&s->m->exceptions);
  if (s->rtu) {
    if (req[0] == 0)
      return TRUE;              /* never answer a broadcast */
    modbus_reply_exception (s->ctx, req, code);
    mb_rtu_relay (s);
    return TRUE;
  }
  return modbus_reply_exception (s->ctx, req, code) > 0;
}

/* TCP: exception @code for a request whose function already has its high
 * bit (modbus_reply_exception would add 0x80 and wrap) */
static gboolean
send_exception_high (Server *s, const guint8 *adu, gint code)
{
  guint8 rsp[MBAP + 2];

  g_atomic_int_inc (&s->m->exceptions);
  memcpy (rsp, adu, 4);         /* transaction and protocol ids */
  rsp[4] = 0;
  rsp[5] = 3;
  rsp[6] = adu[6];              /* unit id */
  rsp[7] = adu[MBAP] | 0x80;
  rsp[8] = code;
  return send (modbus_get_socket (s->ctx), rsp, sizeof rsp, MSG_NOSIGNAL) == sizeof rsp;
}

gboolean
mb_send_reply (Server *s, const guint8 *req, gint len)
{
  gint rc = modbus_reply (s->ctx, req, len, s->map);

  if (s->rtu) {
    mb_rtu_relay (s);
    return TRUE;
  }
  return rc > 0;
}

static gboolean job_run (gpointer data);

/* One whole request: an ADU with @header bytes before the PDU (TCP: MBAP,
 * RTU: the address; RTU's ends with its 2-byte CRC).  FALSE when the link
 * failed.  *pending: a write went to the main loop; its answer comes later. */
gboolean
mb_handle_request (Server *s, const guint8 *adu, gsize len, gsize header,
    const gchar *address, guint64 client_id, gboolean *pending)
{
  const guint8 *pdu = adu + header;
  gsize pdu_len = len - header - (s->rtu ? 2 : 0);
  guint fc = pdu[0];
  TcdModbusWrite w;
  gint exc;
  Job *j;

  *pending = FALSE;
  /* an answer's shape (exception responses have the high bit): on a serial
   * line most likely an echo, never answered; over TCP exception 01 */
  if (fc >= 0x80 && s->rtu) {
    g_atomic_int_inc (&s->m->dropped);
    return TRUE;
  }
  g_atomic_int_inc (&s->m->requests);
  mb_sync_snapshot (s);
  if (fc >= 0x80)
    return send_exception_high (s, adu, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
  /* the function, the quantities, the range, writes off, the addresses and
   * values written: the map says */
  if ((exc = tcd_modbus_map_decode (&s->snap.map, pdu, pdu_len, &w)))
    return mb_send_exception (s, adu, exc);

  if (!w.write) {
    gint64 now = g_get_monotonic_time ();
    if (s->cfg_dirty)
      fill_config (s);
    if (!s->refreshed || s->snap.update_ms == 0
        || now - s->refreshed >= (gint64) s->snap.update_ms * 1000)
      fill_measurements (s, now);
    return mb_send_reply (s, adu, len);
  }

  /* carried out on the main loop (job_run); the answer leaves after */
  j = g_new0 (Job, 1);
  j->w = w;
  server_ref (s);
  j->server = s;
  j->client_id = client_id;
  g_strlcpy (j->address, address ? address : "", sizeof j->address);
  memcpy (j->req, adu, len);
  j->req_len = len;
  *pending = TRUE;
  g_idle_add_full (G_PRIORITY_DEFAULT, job_run, j, NULL);
  return TRUE;
}

/* ---- writes on the main loop ---- */

static void
what_add (GString *what, const gchar *field)
{
  if (what->str[what->len - 1] != ' ')
    g_string_append (what, ", ");
  g_string_append (what, field);
}

/* A refused change as a Modbus exception: the one table of this protocol
 * (the field is in the log, a PLC has nowhere to show it) */
static const struct {
  GQuark (*domain) (void);
  gint code;                    /* -1: any code of the domain */
  gint exception;
} error_exceptions[] = {
  { tcd_config_error_quark, TCD_CONFIG_ERROR_IO, MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE },
  { tcd_config_error_quark, -1, MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE },
};

static gint
exception_of (const GError *err)
{
  for (guint i = 0; i < G_N_ELEMENTS (error_exceptions); i++)
    if (err->domain == error_exceptions[i].domain ()
        && (error_exceptions[i].code < 0 || err->code == error_exceptions[i].code))
      return error_exceptions[i].exception;
  return MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE;
}

/* A decoded write carried out: the configuration through the change path,
 * the alarm outputs and the flat-field correction through the commands.
 * 0 or the exception code */
static gint
execute (TcdModbus *m, Job *j)
{
  TcdContext *ctx = m->ctx;
  const gchar *address = j->address[0] ? j->address : NULL;
  g_autoptr (GString) what = g_string_new (!j->server->rtu ? "modbus: "
      : j->server->serial.ascii ? "modbus-ascii: " : "modbus-rtu: ");
  TcdOrigin origin = { NULL, "modbus", address, "modbus" };
  g_autoptr (GError) err = NULL;
  JsonNode *doc, *rules;
  JsonArray *a;

  /* an inactive device (no administrator yet) takes no change from anyone,
   * as on its other ports */
  if (!tcd_users_is_activated (ctx->users)) {
    g_message ("%swrite refused: the device is not activated", what->str);
    return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
  }
  if (j->w.set_emissivity || j->w.set_distance || j->w.set_reflected) {
    g_autoptr (JsonNode) patch = json_node_new (JSON_NODE_OBJECT);
    JsonObject *p = json_object_new ();
    if (j->w.set_emissivity) {
      json_object_set_double_member (p, "emissivity", j->w.emissivity);
      what_add (what, "thermometry.emissivity");
    }
    if (j->w.set_distance) {
      json_object_set_double_member (p, "distance", j->w.distance);
      what_add (what, "thermometry.distance");
    }
    if (j->w.set_reflected) {
      json_object_set_double_member (p, "reflected_temperature", j->w.reflected);
      what_add (what, "thermometry.reflected_temperature");
    }
    json_node_take_object (patch, p);
    doc = tcd_change_patched (ctx->change, "thermometry", patch);
  } else {
    doc = tcd_json_deep_copy (tcd_config_get (ctx->config));
  }

  rules = node_at (doc, "rules");
  a = rules && JSON_NODE_HOLDS_ARRAY (rules) ? json_node_get_array (rules) : NULL;
  for (guint i = 0; i < N_RULES; i++) {
    JsonObject *r;
    if (j->w.rule_enable[i] < 0)
      continue;
    /* the slot may have emptied, or another rule taken it (a deletion or a
     * new order through the API), since the thread looked */
    if (!a || i >= json_array_get_length (a)
        || !(r = tc_json_array_get_object (a, i))
        || tc_json_get_int (r, "id", 0) != j->w.rule_id[i]) {
      json_node_unref (doc);
      return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    }
    json_object_set_boolean_member (r, "enabled", j->w.rule_enable[i]);
    {
      g_autofree gchar *f = g_strdup_printf ("rules[%u].enabled", i);
      what_add (what, f);
    }
  }

  /* a PLC writing the same value every cycle changes nothing (no fsync, no
   * audit record, no event) */
  origin.what = what->str;
  if (!tcd_change_commit (ctx->change, doc, &origin, TCD_CHANGE_SKIP_UNCHANGED, NULL, &err)) {
    g_message ("%s refused (%s): %s", what->str,
        tcd_error_get_field (err) ? tcd_error_get_field (err) : "-", err->message);
    return exception_of (err);
  }
  /* a write that changes nothing does nothing (a PLC writing its output
   * image every cycle neither floods the audit log nor clears what the
   * alarm linkage holds) */
  for (guint i = 0; i < N_ALARM_OUTPUTS; i++)
    if (j->w.output[i] >= 0)
      tcd_commands_output (ctx->commands, i + 1, j->w.output[i], TRUE, &origin, NULL);
  /* one that follows the last too soon is answered but not repeated */
  if (j->w.ffc)
    tcd_commands_ffc (ctx->commands, &origin, NULL);
  return 0;
}

static gboolean
job_run (gpointer data)
{
  Job *j = data;
  Server *s = j->server;

  if (!s->stopped)
    j->exception = execute (s->m, j);
  /* stopped before or during the change (which may have restarted it) */
  if (s->stopped) {
    mb_job_free (j);
    return G_SOURCE_REMOVE;
  }
  g_async_queue_push (s->done, j);
  mb_wake (s);
  return G_SOURCE_REMOVE;
}

/* ---- servers (main loop) ---- */

Server *
mb_server_new (TcdModbus *m, gboolean rtu)
{
  Server *s = g_new0 (Server, 1);

  s->ref = 1;
  s->m = m;
  s->rtu = rtu;
  s->pair[0] = s->pair[1] = s->serial_fd = s->listen_fd = -1;
  s->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  s->done = g_async_queue_new ();
  s->map = modbus_mapping_new (CO_SIZE, DI_SIZE, HR_SIZE, IR_SIZE);
  s->seen_pts = GST_CLOCK_TIME_NONE;
  for (guint i = 0; i < MAX_CLIENTS; i++)
    s->clients[i].fd = -1;
  if (rtu) {
    s->ctx = modbus_new_rtu ("/dev/null", 9600, 'N', 8, 1);
    if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s->pair) < 0)
      s->pair[0] = s->pair[1] = -1;
    else if (s->ctx)
      modbus_set_socket (s->ctx, s->pair[0]);
  } else {
    s->ctx = modbus_new_tcp ("0.0.0.0", MODBUS_TCP_DEFAULT_PORT);
  }
  if (s->ctx)
    /* never used for waiting (we do not call modbus_receive), but were
     * libmodbus ever to flush, it would not sleep half a second */
    modbus_set_response_timeout (s->ctx, 0, 1000);
  if (s->wake_fd < 0 || !s->map || !s->ctx || (rtu && s->pair[0] < 0)) {
    g_warning ("Modbus: cannot set up a server: %s", g_strerror (errno));
    server_unref (s);
    return NULL;
  }
  g_mutex_lock (&m->lock);
  s->snap = m->snap;
  g_mutex_unlock (&m->lock);
  s->cfg_dirty = TRUE;
  s->refreshed = 0;
  return s;
}

void
mb_server_stop (Server *s)
{
  Job *j;

  s->stopped = TRUE;
  g_atomic_int_set (&s->quit, 1);
  mb_wake (s);
  g_thread_join (s->thread);
  while ((j = g_async_queue_try_pop (s->done)))
    mb_job_free (j);
  server_unref (s);
}

/* ---- the API ---- */

TcdModbus *
tcd_modbus_new (TcdContext *ctx)
{
  TcdModbus *m = g_new0 (TcdModbus, 1);

  m->ctx = ctx;
  m->listen_fd = -1;
  m->last_pts = GST_CLOCK_TIME_NONE;
  g_mutex_init (&m->lock);
  g_mutex_init (&m->frames_lock);
  return m;
}

void
tcd_modbus_free (TcdModbus *m)
{
  if (!m)
    return;
  tcd_modbus_stop (m);
  g_mutex_clear (&m->lock);
  g_mutex_clear (&m->frames_lock);
  g_free (m->rtu_error);
  g_free (m->tcp_error);
  g_free (m->address);
  g_free (m);
}

static void
update_snapshot (TcdModbus *m, JsonNode *doc)
{
  Snapshot snap = { 0 };

  read_snapshot (doc, &snap);
  g_mutex_lock (&m->lock);
  snap.generation = m->snap.generation + 1;
  m->snap = snap;
  g_mutex_unlock (&m->lock);
  if (m->tcp)
    mb_wake (m->tcp);
  if (m->rtu)
    mb_wake (m->rtu);
}

void
tcd_modbus_security_changed (TcdModbus *m)
{
  if (!m->tcp)
    return;
  g_atomic_int_set (&m->tcp->recheck, TRUE);
  mb_wake (m->tcp);
}

gboolean
tcd_modbus_start (TcdModbus *m, const gchar *address, guint port, JsonNode *doc,
    GError **error)
{
  g_return_val_if_fail (!m->started, FALSE);

  g_free (m->address);
  m->address = address && *address ? g_strdup (address) : NULL;
  m->port_wanted = port;
  update_snapshot (m, doc);
  if (bool_at (doc, "modbus.enabled", TRUE) && !mb_tcp_start (m, port, error))
    return FALSE;
  read_serial (doc, &m->serial);
  mb_rtu_start (m);
  m->started = TRUE;
  return TRUE;
}

void
tcd_modbus_stop (TcdModbus *m)
{
  mb_tcp_stop (m);
  mb_rtu_stop (m);
  m->started = FALSE;
}

guint
tcd_modbus_get_port (TcdModbus *m)
{
  return m->port;
}

void
tcd_modbus_apply (TcdModbus *m, JsonNode *doc)
{
  gboolean enabled = bool_at (doc, "modbus.enabled", TRUE);
  Serial ser;

  /* word order, rate, writes, max_clients, idle timeout, rules, RTU
   * address and CRC order: live, through the snapshot; the open clients
   * are checked again against the IP filter */
  update_snapshot (m, doc);
  tcd_modbus_security_changed (m);
  if (!m->started)
    return;

  if (enabled && !m->tcp && !m->tcp_retry_id) {
    g_autoptr (GError) err = NULL;
    /* port 0 (tests): the port it had before, if any */
    guint port = m->port_wanted ? m->port_wanted : m->last_port;
    if (!mb_tcp_start (m, port, &err))
      g_warning ("%s", err->message);
  } else if (!enabled && (m->tcp || m->tcp_retry_id)) {
    mb_tcp_stop (m);
    g_message ("Modbus TCP off");
  }

  /* the serial line's settings: reopen in place */
  read_serial (doc, &ser);
  if (memcmp (&ser, &m->serial, sizeof ser) != 0) {
    mb_rtu_stop (m);
    m->serial = ser;
    mb_rtu_start (m);
    if (!ser.enabled)
      g_message ("Modbus RTU off");
  }
}

JsonNode *
tcd_modbus_stats (TcdModbus *m)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "tcp");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, m->tcp || m->tcp_retry_id);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, m->port);
  json_builder_set_member_name (b, "clients");
  json_builder_add_int_value (b, g_atomic_int_get (&m->clients));
  g_mutex_lock (&m->lock);
  json_builder_set_member_name (b, "max_clients");
  json_builder_add_int_value (b, m->snap.max_clients);
  json_builder_set_member_name (b, "error");
  if (m->tcp_error)
    json_builder_add_string_value (b, m->tcp_error);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "rtu");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, m->rtu != NULL);
  json_builder_set_member_name (b, "protocol");
  json_builder_add_string_value (b, m->serial.ascii ? "modbus-ascii" : "modbus-rtu");
  json_builder_set_member_name (b, "device");
  json_builder_add_string_value (b, m->serial.device);
  json_builder_set_member_name (b, "open");
  json_builder_add_boolean_value (b, m->rtu && m->rtu_open);
  json_builder_set_member_name (b, "error");
  if (m->rtu_error)
    json_builder_add_string_value (b, m->rtu_error);
  else
    json_builder_add_null_value (b);
  g_mutex_unlock (&m->lock);
  json_builder_end_object (b);
#define COUNTER(name, field) \
  json_builder_set_member_name (b, name); \
  json_builder_add_int_value (b, (guint) g_atomic_int_get (&m->field))
  COUNTER ("requests", requests);
  COUNTER ("exceptions", exceptions);
  COUNTER ("writes", writes);
  COUNTER ("dropped_frames", dropped);
  COUNTER ("refused_connections", refused);
#undef COUNTER
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
