/* thermocamd: Modbus TCP and RTU (manual 9.2, 10.10) with libmodbus
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Temperatures, alarm states and parameters for PLCs.  The register map is
 * schemas/modbus-registers.json; the constants below must agree with it (the
 * e2e test reads the file and checks addresses against the wire).
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
 *   requests are checked here first (function, quantities, addresses), so
 *   modbus_reply() only ever sees well-formed ones.
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
 *   carried out on the main loop through tcd_app_change_config, the one path
 *   of every change (validation, persistence, audit, event); the client's
 *   answer leaves when the change was committed (or refused: exception 03;
 *   an I/O error: 04).  Meanwhile that client is not read from, the others
 *   are served.  A write that would change nothing (the value configured, an
 *   alarm output already in that state) is answered but not carried out nor
 *   audited; a flat-field correction runs at most every FFC_MIN_US.
 * - The server threads never read the configuration document (main-loop
 *   owned): tcd_modbus_apply() fills a snapshot under our lock.
 */
#include "tcd-modbus.h"
#include "tcd-events.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <modbus.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "gstthermalmeta.h"
#include "tc-json.h"

#define N_RULES GST_THERMAL_MAX_RULES           /* 40 */
#define MAX_CLIENTS 16                          /* schema: modbus.max_clients */
#define PARTIAL_TIMEOUT_US (5 * G_USEC_PER_SEC) /* a half TCP frame older: the client goes */
#define EVICT_IDLE_US (3 * G_USEC_PER_SEC)      /* all slots taken: an idle client this long makes room */
#define TCP_RETRY_MS 2000                       /* retry a TCP port that could not be bound */
#define FFC_MIN_US (5 * G_USEC_PER_SEC)         /* flat-field corrections from Modbus at most this often */
#define ECHO_US 50000                           /* our last answer coming back this soon: an echo */
#define FRESH_US G_USEC_PER_SEC                 /* status bit "frame fresh" */
#define REOPEN_MS 5000                          /* retry a serial device that failed */
#define RTU_BUF 256                             /* MODBUS_RTU_MAX_ADU_LENGTH */
#define ASCII_BUF (2 * RTU_BUF + 8)             /* a frame's text between ':' and CR LF */
#define ASCII_TIMEOUT_US G_USEC_PER_SEC         /* ASCII: the specification's 1 s between characters */
#define ASCII_TEXT (1 + 2 * (RTU_BUF + 8) + 4)  /* an ASCII answer on the line */
#define TCP_BUF (2 * MODBUS_TCP_MAX_ADU_LENGTH)
#define MBAP 7                                  /* MBAP header with the unit id */

/* ---- the register map (schemas/modbus-registers.json) ---- */

/* input registers (function 04) */
enum {
  IR_STATUS = 0,
  IR_FRAME_COUNTER = 1,         /* uint32: 1-2 */
  IR_FRAME_AGE = 3,
  IR_RULE_COUNT = 4,
  IR_DEVICE_T = 5,
  IR_SCENE_MAX = 6,
  IR_SCENE_MIN = 7,
  IR_SCENE_AVG = 8,
  IR_SCENE_STATE = 9,
  IR_RULE_ID = 10,              /* 40 */
  IR_RULE_FLAGS = 50,           /* 40 */
  IR_RULE = 100,                /* 40 x (max, min, avg, state) */
  IR_RULE_STRIDE = 4,
  IR_F_DEVICE_T = 300,          /* float32 pairs */
  IR_F_SCENE_MAX = 302,
  IR_F_SCENE_MIN = 304,
  IR_F_SCENE_AVG = 306,
  IR_F_RULE = 400,              /* 40 x (max, min, avg) float32 pairs */
  IR_F_RULE_STRIDE = 6,
  IR_SIZE = 640
};

/* discrete inputs (function 02) */
enum {
  DI_STATUS = 0,                /* 8 bits: status word bits 0-7 */
  DI_RULE_ALARM = 100,
  DI_RULE_PRE_ALARM = 200,
  DI_RULE_VALID = 300,
  DI_ALARM_INPUT = 400,         /* alarm inputs in alarm (tcd-alarmio) */
  N_ALARM_INPUTS = 4,
  DI_SIZE = 404
};

/* coils (functions 01, 05, 15) */
enum {
  CO_FFC = 0,
  CO_RULE_ENABLE = 100,
  CO_ALARM_OUTPUT = 200,        /* alarm outputs: read their state, write to trigger/clear */
  N_ALARM_OUTPUTS = 4,
  CO_SIZE = 204
};

/* holding registers (functions 03, 06, 16) */
enum {
  HR_EMISSIVITY = 0,            /* x0.01 */
  HR_DISTANCE = 1,              /* x0.1 m */
  HR_REFLECTED = 2,             /* int16 x0.1 C */
  HR_RULE_ENABLE = 10,          /* 40 */
  HR_F_EMISSIVITY = 100,        /* float32 pairs */
  HR_F_DISTANCE = 102,
  HR_F_REFLECTED = 104,
  HR_SIZE = 106
};

/* the status word (input register 0; discrete inputs 0-7 mirror bits 0-7) */
enum {
  ST_VALID = 1 << 0,            /* readings of a measured frame */
  ST_FRESH = 1 << 1,            /* the newest frame is less than 1 s old */
  ST_ALARM = 1 << 2,            /* the scene or a rule is in alarm */
  ST_PRE_ALARM = 1 << 3,        /* the scene or a rule is in pre-alarm */
  ST_SHUTTER = 1 << 4,          /* the frame shows the closed shutter (burning prevention): not valid */
  ST_DEVICE_T = 1 << 5,         /* the device temperature is known */
  ST_WRITABLE = 1 << 6,         /* modbus.write_enabled */
  ST_THERMOMETRY = 1 << 7       /* thermometry.enabled */
};

/* rule flags (input registers 50-89) */
enum {
  RF_EXISTS = 1 << 0,
  RF_ENABLED = 1 << 1,
  RF_VALID = 1 << 2,
  RF_ALARM = 1 << 3             /* an alarm is configured */
};

#define INVALID_I16 0x8000      /* -32768: no reading */

/* ---- state shared with the server threads ---- */

/* what the threads need of the configuration, copied under TcdModbus.lock */
typedef struct {
  guint generation;
  gboolean word_big, write_enabled, thermometry;
  guint update_ms, max_clients, idle_timeout_s;
  gdouble emissivity, distance, reflected;
  guint n_rules;
  gint rule_id[N_RULES];
  gboolean rule_enabled[N_RULES], rule_alarm[N_RULES];
  guint rtu_address;
  gboolean crc_high_first;
} Snapshot;

typedef struct {
  gboolean enabled;
  gchar device[132];
  gint baud, data_bits, stop_bits;
  gchar parity;
  gboolean ascii;               /* modbus-ascii: ':' hex LRC CR LF frames */
} Serial;

typedef struct {
  gint fd;                      /* -1: a free slot */
  guint64 id;
  gchar ip[INET6_ADDRSTRLEN];
  GInetAddress *addr;           /* ip, for the IP filter */
  gint64 last_active;           /* monotonic us: accepted, or its last bytes */
  guint8 buf[TCP_BUF];
  gsize len;
  gint64 partial_since;         /* monotonic us; 0: no partial frame */
  gboolean pending;             /* a write of it is on the main loop */
} Client;

typedef struct _Server Server;
struct _Server {
  gint ref;
  TcdModbus *m;
  gboolean rtu;
  GThread *thread;
  gint wake_fd;
  gint quit;                    /* atomic */
  gint recheck;                 /* atomic: check the open clients against the filter */
  gboolean stopped;             /* main loop only */
  GAsyncQueue *done;            /* finished writes */
  modbus_t *ctx;                /* builds and sends the answers */
  modbus_mapping_t *map;
  Snapshot snap;                /* this thread's copy */
  gboolean cfg_dirty;
  gint64 refreshed;             /* measurement registers, monotonic us */
  GstClockTime seen_pts;
  gint64 seen_at;

  /* TCP */
  gint listen_fd;               /* borrowed from TcdModbus */
  gint64 accept_paused_until;   /* monotonic us: out of descriptors, accept waits */
  guint accept_backoff_ms;
  gint64 accept_warned;         /* monotonic us of the last such warning */
  Client clients[MAX_CLIENTS];
  guint n_clients;
  guint64 next_id;

  /* RTU */
  Serial serial;
  modbus_t *port;               /* owns the serial device */
  gint serial_fd;
  gint pair[2];                 /* ctx writes into [0], we read [1] */
  guint8 rx[RTU_BUF];
  gsize rx_len;
  gboolean rx_overflow;
  gint64 rx_last;
  gint64 t35_us;                /* 3.5 character times */
  gint64 char_us;               /* one character time */
  gint64 rx_first;              /* when the frame in rx (or arx) began */
  /* echo suppression: our last answer as it went on the line */
  guint8 echo[ASCII_TEXT];
  gsize echo_len, echo_pos;     /* echo_pos: how much of it came back */
  gint64 echo_until;            /* on the line until then, plus 3.5 characters */
  gint64 echo_last;
  gboolean echo_seen;           /* this line has echoed an answer whole */
  guint8 last_tx[RTU_BUF];      /* our last answer: address and PDU */
  gsize last_tx_len;
  gint64 last_tx_end;           /* monotonic us: when it had left */
  gboolean pending;
  /* ASCII: the text of the frame being received (after its ':') */
  gchar arx[ASCII_BUF];
  gsize arx_len;
  gboolean arx_open;
};

/* a write request on its way to the main loop and back */
typedef struct {
  Server *server;               /* a reference */
  guint64 client_id;
  gchar address[INET6_ADDRSTRLEN];      /* "" on RTU */
  guint8 req[MODBUS_TCP_MAX_ADU_LENGTH];
  gint req_len;
  gboolean set_emissivity, set_distance, set_reflected, ffc;
  gdouble emissivity, distance, reflected;
  gint8 rule_enable[N_RULES];   /* -1: unchanged */
  gint rule_id[N_RULES];        /* the rule the server thread saw in the slot */
  gint8 output[N_ALARM_OUTPUTS];        /* -1: unchanged, 1: trigger, 0: clear */
  gint exception;               /* the answer: 0 or an exception code */
} Job;

struct _TcdModbus {
  TcdApp *app;
  gboolean started;
  guint port_wanted, port, last_port;
  gchar *address;               /* to listen on; NULL: all IPv4 addresses */
  gint listen_fd;
  Server *tcp, *rtu;
  Serial serial;                /* what the RTU server was started with */
  guint tcp_retry_id;           /* the TCP port could not be bound: retrying */
  guint tcp_retry_port;
  gint64 last_ffc;              /* main loop: monotonic us */

  GMutex lock;                  /* snap, rtu_open, rtu_error, tcp_error */
  Snapshot snap;
  gboolean rtu_open;
  gchar *rtu_error, *tcp_error;

  GMutex frames_lock;           /* the frame counter */
  guint64 frame_base, last_offset;
  GstClockTime last_pts;

  /* statistics (atomic) */
  gint clients, requests, exceptions, writes, dropped, refused;
};

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

static guint
u16_at (const guint8 *p)
{
  return ((guint) p[0] << 8) | p[1];
}

static void
wake (Server *s)
{
  guint64 one = 1;
  ssize_t r G_GNUC_UNUSED = write (s->wake_fd, &one, sizeof one);
}

static void
drain (gint fd)
{
  guint64 v;
  ssize_t r G_GNUC_UNUSED = read (fd, &v, sizeof v);
}

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

/* ---- register encoding ---- */

/* 0.1 C, two's complement; INVALID_I16 when there is no reading */
static guint16
enc_i16 (gdouble celsius, gboolean valid)
{
  gdouble v;

  if (!valid || !isfinite (celsius))
    return INVALID_I16;
  v = CLAMP (round (celsius * 10.0), -32767.0, 32767.0);
  return (guint16) (gint16) v;
}

static void
put_u32 (guint16 *tab, guint32 v, gboolean big)
{
  tab[big ? 0 : 1] = v >> 16;
  tab[big ? 1 : 0] = v & 0xFFFF;
}

/* IEEE 754 single in two registers; NaN when there is no reading */
static void
put_f32 (guint16 *tab, gdouble v, gboolean valid, gboolean big)
{
  gfloat f = valid && isfinite (v) ? (gfloat) v : NAN;
  guint32 u;

  memcpy (&u, &f, sizeof u);
  put_u32 (tab, u, big);
}

static gdouble
get_f32 (const guint8 *p, gboolean big)
{
  guint hi = u16_at (big ? p : p + 2), lo = u16_at (big ? p + 2 : p);
  guint32 u = ((guint32) hi << 16) | lo;
  gfloat f;

  memcpy (&f, &u, sizeof f);
  return f;
}

/* a float a PLC wrote, as the decimal it meant (0.85f -> 0.85, not
 * 0.85000002384...) */
static gdouble
float_as_decimal (gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_ascii_strtod (g_ascii_formatd (buf, sizeof buf, "%.7g", v), NULL);
}

/* ---- the configuration snapshot (main loop) ---- */

static void
read_snapshot (JsonNode *doc, Snapshot *snap)
{
  JsonNode *rules = node_at (doc, "rules");
  JsonArray *a = rules && JSON_NODE_HOLDS_ARRAY (rules) ? json_node_get_array (rules) : NULL;

  snap->word_big = g_strcmp0 (str_at (doc, "modbus.word_order", "big"), "little") != 0;
  snap->write_enabled = bool_at (doc, "modbus.write_enabled", FALSE);
  snap->update_ms = CLAMP (int_at (doc, "modbus.update_ms", 0), 0, 10000);
  snap->max_clients = CLAMP (int_at (doc, "modbus.max_clients", 4), 1, MAX_CLIENTS);
  snap->idle_timeout_s = CLAMP (int_at (doc, "modbus.idle_timeout_s", 60), 0, 3600);
  snap->thermometry = bool_at (doc, "thermometry.enabled", TRUE);
  snap->emissivity = dbl_at (doc, "thermometry.emissivity", 0.95);
  snap->distance = dbl_at (doc, "thermometry.distance", 2.0);
  snap->reflected = dbl_at (doc, "thermometry.reflected_temperature", 20.0);
  snap->rtu_address = CLAMP (int_at (doc, "rs485.address", 1), 1, 247);
  snap->crc_high_first =
      g_strcmp0 (str_at (doc, "rs485.crc_order", "low_first"), "high_first") == 0;
  snap->n_rules = a ? MIN (json_array_get_length (a), N_RULES) : 0;
  for (guint i = 0; i < N_RULES; i++) {
    JsonObject *r = i < snap->n_rules ? tc_json_array_get_object (a, i) : NULL;
    JsonObject *al = r && json_object_has_member (r, "alarm")
        ? tc_json_get_object (r, "alarm") : NULL;
    snap->rule_id[i] = r ? tc_json_get_int (r, "id", 0) : 0;
    snap->rule_enabled[i] = r && tc_json_get_bool (r, "enabled",
        TRUE);
    snap->rule_alarm[i] = al && tc_json_get_bool (al, "enabled",
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

static void
sync_snapshot (Server *s)
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

/* the registers that show the configuration: parameters, rule enables */
static void
fill_config (Server *s)
{
  const Snapshot *c = &s->snap;
  modbus_mapping_t *map = s->map;
  guint16 *hr = map->tab_registers;

  hr[HR_EMISSIVITY] = (guint16) CLAMP (round (c->emissivity * 100.0), 0.0, 65535.0);
  hr[HR_DISTANCE] = (guint16) CLAMP (round (c->distance * 10.0), 0.0, 65535.0);
  hr[HR_REFLECTED] = enc_i16 (c->reflected, TRUE);
  put_f32 (hr + HR_F_EMISSIVITY, c->emissivity, TRUE, c->word_big);
  put_f32 (hr + HR_F_DISTANCE, c->distance, TRUE, c->word_big);
  put_f32 (hr + HR_F_REFLECTED, c->reflected, TRUE, c->word_big);
  map->tab_bits[CO_FFC] = 0;
  for (guint i = 0; i < N_RULES; i++) {
    gboolean on = i < c->n_rules && c->rule_enabled[i];
    hr[HR_RULE_ENABLE + i] = on;
    map->tab_bits[CO_RULE_ENABLE + i] = on;
  }
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
  sample = tcd_pipeline_get_temperature (m->app->pipeline);
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
  const Snapshot *c = &s->snap;
  modbus_mapping_t *map = s->map;
  guint16 *ir = map->tab_input_registers;
  guint8 *di = map->tab_input_bits;
  guint32 counter;
  GstSample *sample = take_sample (m, &counter);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstThermalMeasureMeta *mm = buf ? gst_buffer_get_thermal_measure_meta (buf) : NULL;
  GstThermalMeta *tm = buf ? gst_buffer_get_thermal_meta (buf) : NULL;
  /* states are held while the shutter is closed; its readings are not valid */
  gboolean have = mm && c->thermometry;
  gboolean valid = have && mm->valid;
  gboolean dev_valid = tm && isfinite (tm->fpa_temperature);
  gboolean any_alarm = FALSE, any_pre = FALSE;
  guint16 status = 0;
  gint64 age = -1;

  if (buf) {
    GstClockTime pts = GST_BUFFER_PTS (buf);
    gint64 captured = tcd_pipeline_capture_time (m->app->pipeline, pts);
    if (!captured) {
      /* unknown to the pipeline's ring: age from when we first saw it */
      if (pts != s->seen_pts || !s->seen_at) {
        s->seen_pts = pts;
        s->seen_at = now;
      }
      captured = s->seen_at;
    }
    age = MAX (now - captured, 0);
  }
  put_u32 (ir + IR_FRAME_COUNTER, counter, c->word_big);
  ir[IR_FRAME_AGE] = age < 0 ? 0xFFFF : (guint16) MIN (age / 1000, 0xFFFF);
  ir[IR_RULE_COUNT] = c->n_rules;
  ir[IR_DEVICE_T] = enc_i16 (dev_valid ? tm->fpa_temperature : 0, dev_valid);
  put_f32 (ir + IR_F_DEVICE_T, dev_valid ? tm->fpa_temperature : 0, dev_valid, c->word_big);
  ir[IR_SCENE_MAX] = enc_i16 (valid ? mm->max : 0, valid);
  ir[IR_SCENE_MIN] = enc_i16 (valid ? mm->min : 0, valid);
  ir[IR_SCENE_AVG] = enc_i16 (valid ? mm->avg : 0, valid);
  ir[IR_SCENE_STATE] = have ? mm->scene_state : 0;
  put_f32 (ir + IR_F_SCENE_MAX, valid ? mm->max : 0, valid, c->word_big);
  put_f32 (ir + IR_F_SCENE_MIN, valid ? mm->min : 0, valid, c->word_big);
  put_f32 (ir + IR_F_SCENE_AVG, valid ? mm->avg : 0, valid, c->word_big);
  if (have) {
    any_alarm = mm->scene_state == GST_THERMAL_STATE_ALARM;
    any_pre = mm->scene_state == GST_THERMAL_STATE_PRE_ALARM;
  }

  for (guint i = 0; i < N_RULES; i++) {
    const GstThermalRuleResult *r = NULL;
    gboolean exists = i < c->n_rules, rv;
    guint16 flags = 0;
    GstThermalAlarmState state = GST_THERMAL_STATE_NORMAL;

    /* the meta lists the enabled rules only: find this slot's by id */
    if (exists && have)
      for (guint k = 0; k < mm->n_rules && !r; k++)
        if (mm->rules[k].id == c->rule_id[i])
          r = &mm->rules[k];
    rv = r && r->valid;
    if (r)
      state = r->state;
    if (exists)
      flags |= RF_EXISTS;
    if (exists && c->rule_enabled[i])
      flags |= RF_ENABLED;
    if (rv)
      flags |= RF_VALID;
    if (exists && c->rule_alarm[i])
      flags |= RF_ALARM;
    ir[IR_RULE_ID + i] = exists ? c->rule_id[i] : 0;
    ir[IR_RULE_FLAGS + i] = flags;
    ir[IR_RULE + i * IR_RULE_STRIDE + 0] = enc_i16 (rv ? r->max : 0, rv);
    ir[IR_RULE + i * IR_RULE_STRIDE + 1] = enc_i16 (rv ? r->min : 0, rv);
    ir[IR_RULE + i * IR_RULE_STRIDE + 2] = enc_i16 (rv ? r->avg : 0, rv);
    ir[IR_RULE + i * IR_RULE_STRIDE + 3] = state;
    put_f32 (ir + IR_F_RULE + i * IR_F_RULE_STRIDE + 0, rv ? r->max : 0, rv, c->word_big);
    put_f32 (ir + IR_F_RULE + i * IR_F_RULE_STRIDE + 2, rv ? r->min : 0, rv, c->word_big);
    put_f32 (ir + IR_F_RULE + i * IR_F_RULE_STRIDE + 4, rv ? r->avg : 0, rv, c->word_big);
    di[DI_RULE_ALARM + i] = state == GST_THERMAL_STATE_ALARM;
    di[DI_RULE_PRE_ALARM + i] = state == GST_THERMAL_STATE_PRE_ALARM;
    di[DI_RULE_VALID + i] = rv;
    any_alarm |= state == GST_THERMAL_STATE_ALARM;
    any_pre |= state == GST_THERMAL_STATE_PRE_ALARM;
  }
  {
    TcdAlarmIo *io = tcd_events_get_io (m->app->events);
    guint in = tcd_alarmio_input_bits (io), out = tcd_alarmio_output_bits (io);
    for (guint i = 0; i < N_ALARM_INPUTS; i++)
      di[DI_ALARM_INPUT + i] = (in >> i) & 1;
    for (guint i = 0; i < N_ALARM_OUTPUTS; i++)
      map->tab_bits[CO_ALARM_OUTPUT + i] = (out >> i) & 1;
  }

  if (valid)
    status |= ST_VALID;
  if (age >= 0 && age < FRESH_US)
    status |= ST_FRESH;
  if (any_alarm)
    status |= ST_ALARM;
  if (any_pre)
    status |= ST_PRE_ALARM;
  if (tm && tm->shutter_closed)
    status |= ST_SHUTTER;
  if (dev_valid)
    status |= ST_DEVICE_T;
  if (c->write_enabled)
    status |= ST_WRITABLE;
  if (c->thermometry)
    status |= ST_THERMOMETRY;
  ir[IR_STATUS] = status;
  for (guint b = 0; b < 8; b++)
    di[DI_STATUS + b] = (status >> b) & 1;

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

static void
job_free (Job *j)
{
  server_unref (j->server);
  g_free (j);
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
static void
rtu_relay (Server *s)
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

/* FALSE when the link failed (TCP: close the client) */
static gboolean
send_exception (Server *s, const guint8 *req, gint code)
{
  g_atomic_int_inc (&s->m->exceptions);
  if (s->rtu) {
    if (req[0] == 0)
      return TRUE;              /* never answer a broadcast */
    modbus_reply_exception (s->ctx, req, code);
    rtu_relay (s);
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

static gboolean
send_reply (Server *s, const guint8 *req, gint len)
{
  gint rc = modbus_reply (s->ctx, req, len, s->map);

  if (s->rtu) {
    rtu_relay (s);
    return TRUE;
  }
  return rc > 0;
}

/* 0, or the exception for a request's shape: the function, the quantities,
 * the byte counts (Modbus application protocol, 6.x: exceptions 01 and 03) */
static gint
check_shape (const guint8 *pdu, gsize len)
{
  guint nb;

  switch (pdu[0]) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_READ_DISCRETE_INPUTS:
    case MODBUS_FC_READ_HOLDING_REGISTERS:
    case MODBUS_FC_READ_INPUT_REGISTERS:
      if (len != 5)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      nb = u16_at (pdu + 3);
      if (nb < 1 || nb > (pdu[0] <= MODBUS_FC_READ_DISCRETE_INPUTS
              ? MODBUS_MAX_READ_BITS : MODBUS_MAX_READ_REGISTERS))
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      return 0;
    case MODBUS_FC_WRITE_SINGLE_COIL:
      if (len != 5 || (u16_at (pdu + 3) != 0xFF00 && u16_at (pdu + 3) != 0))
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      return 0;
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
      return len == 5 ? 0 : MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
      if (len < 6)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      nb = u16_at (pdu + 3);
      if (nb < 1 || nb > MODBUS_MAX_WRITE_BITS || pdu[5] != (nb + 7) / 8
          || len != 6u + pdu[5])
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      return 0;
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
      if (len < 6)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      nb = u16_at (pdu + 3);
      if (nb < 1 || nb > MODBUS_MAX_WRITE_REGISTERS || pdu[5] != nb * 2
          || len != 6u + pdu[5])
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      return 0;
    default:
      /* 07, 08, 11, 16, 17, 2B...: not served */
      return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
  }
}

static gboolean
is_write (guint fc)
{
  return fc == MODBUS_FC_WRITE_SINGLE_COIL || fc == MODBUS_FC_WRITE_SINGLE_REGISTER
      || fc == MODBUS_FC_WRITE_MULTIPLE_COILS || fc == MODBUS_FC_WRITE_MULTIPLE_REGISTERS;
}

static guint
table_size (guint fc)
{
  switch (fc) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_WRITE_SINGLE_COIL:
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
      return CO_SIZE;
    case MODBUS_FC_READ_DISCRETE_INPUTS:
      return DI_SIZE;
    case MODBUS_FC_READ_INPUT_REGISTERS:
      return IR_SIZE;
    default:
      return HR_SIZE;
  }
}

static gboolean
coil_writable (guint a)
{
  return a == CO_FFC || (a >= CO_RULE_ENABLE && a < CO_RULE_ENABLE + N_RULES)
      || (a >= CO_ALARM_OUTPUT && a < CO_ALARM_OUTPUT + N_ALARM_OUTPUTS);
}

static gboolean
register_writable (guint a)
{
  return a == HR_EMISSIVITY || a == HR_DISTANCE || a == HR_REFLECTED
      || (a >= HR_RULE_ENABLE && a < HR_RULE_ENABLE + N_RULES)
      || (a >= HR_F_EMISSIVITY && a < HR_F_REFLECTED + 2);
}

/* a rule slot's enable into @j: 0 or an exception; 0 for an empty slot
 * changes nothing (a PLC writing its whole image), 1 is refused */
static gint
decode_rule_enable (const Snapshot *c, guint slot, guint v, Job *j)
{
  if (v > 1 || (slot >= c->n_rules && v))
    return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
  if (slot < c->n_rules) {
    j->rule_enable[slot] = v;
    j->rule_id[slot] = c->rule_id[slot];
  }
  return 0;
}

/* A write's addresses and values into @j: 0 or an exception (02 for an
 * address that is not writable or half a float pair, 03 for a value that
 * cannot be one).  The range was checked against the table. */
static gint
decode_write (Server *s, const guint8 *pdu, Job *j)
{
  const Snapshot *c = &s->snap;
  guint fc = pdu[0], addr = u16_at (pdu + 1), nb;
  const guint8 *data;
  gint exc;

  if (fc == MODBUS_FC_WRITE_SINGLE_COIL || fc == MODBUS_FC_WRITE_SINGLE_REGISTER) {
    nb = 1;
    data = pdu + 3;
  } else {
    nb = u16_at (pdu + 3);
    data = pdu + 6;
  }

  if (fc == MODBUS_FC_WRITE_SINGLE_COIL || fc == MODBUS_FC_WRITE_MULTIPLE_COILS) {
    for (guint i = 0; i < nb; i++)
      if (!coil_writable (addr + i))
        return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
    for (guint i = 0; i < nb; i++) {
      guint a = addr + i;
      gboolean on = fc == MODBUS_FC_WRITE_SINGLE_COIL ? data[0] == 0xFF
          : (data[i / 8] >> (i % 8)) & 1;
      if (a == CO_FFC) {
        j->ffc |= on;
      } else if (a >= CO_ALARM_OUTPUT && a < CO_ALARM_OUTPUT + N_ALARM_OUTPUTS) {
        j->output[a - CO_ALARM_OUTPUT] = on;
      } else if ((exc = decode_rule_enable (c, a - CO_RULE_ENABLE, on, j))) {
        return exc;
      }
    }
    return 0;
  }

  for (guint i = 0; i < nb; i++) {
    guint a = addr + i;
    if (!register_writable (a))
      return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
    /* a float pair is written whole */
    if (a >= HR_F_EMISSIVITY) {
      guint first = a - (a - HR_F_EMISSIVITY) % 2;
      if (first < addr || first + 1 >= addr + nb)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
    }
  }
  for (guint i = 0; i < nb; i++) {
    guint a = addr + i, v = u16_at (data + 2 * i);
    if (a == HR_EMISSIVITY) {
      j->set_emissivity = TRUE;
      j->emissivity = v / 100.0;
    } else if (a == HR_DISTANCE) {
      j->set_distance = TRUE;
      j->distance = v / 10.0;
    } else if (a == HR_REFLECTED) {
      j->set_reflected = TRUE;
      j->reflected = (gint16) v / 10.0;
    } else if (a >= HR_RULE_ENABLE && a < HR_RULE_ENABLE + N_RULES) {
      if ((exc = decode_rule_enable (c, a - HR_RULE_ENABLE, v, j)))
        return exc;
    } else if ((a - HR_F_EMISSIVITY) % 2 == 0) {
      gdouble f = get_f32 (data + 2 * i, c->word_big);
      if (!isfinite (f))
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      f = float_as_decimal (f);
      if (a == HR_F_EMISSIVITY) {
        j->set_emissivity = TRUE;
        j->emissivity = f;
      } else if (a == HR_F_DISTANCE) {
        j->set_distance = TRUE;
        j->distance = f;
      } else {
        j->set_reflected = TRUE;
        j->reflected = f;
      }
    }
  }
  return 0;
}

static gboolean job_run (gpointer data);

/* One whole request: an ADU with @header bytes before the PDU (TCP: MBAP,
 * RTU: the address; RTU's ends with its 2-byte CRC).  FALSE when the link
 * failed.  *pending: a write went to the main loop; its answer comes later. */
static gboolean
handle_request (Server *s, const guint8 *adu, gsize len, gsize header,
    const gchar *address, guint64 client_id, gboolean *pending)
{
  const guint8 *pdu = adu + header;
  gsize pdu_len = len - header - (s->rtu ? 2 : 0);
  guint fc = pdu[0];
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
  sync_snapshot (s);
  if (fc >= 0x80)
    return send_exception_high (s, adu, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
  if ((exc = check_shape (pdu, pdu_len)))
    return send_exception (s, adu, exc);
  if (u16_at (pdu + 1) + (fc == MODBUS_FC_WRITE_SINGLE_COIL
          || fc == MODBUS_FC_WRITE_SINGLE_REGISTER ? 1 : u16_at (pdu + 3)) > table_size (fc))
    return send_exception (s, adu, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);

  if (!is_write (fc)) {
    gint64 now = g_get_monotonic_time ();
    if (s->cfg_dirty)
      fill_config (s);
    if (!s->refreshed || s->snap.update_ms == 0
        || now - s->refreshed >= (gint64) s->snap.update_ms * 1000)
      fill_measurements (s, now);
    return send_reply (s, adu, len);
  }

  /* writable only when configured so: "not an allowable action" (01) */
  if (!s->snap.write_enabled)
    return send_exception (s, adu, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
  j = g_new0 (Job, 1);
  memset (j->rule_enable, -1, sizeof j->rule_enable);
  memset (j->output, -1, sizeof j->output);
  if ((exc = decode_write (s, pdu, j))) {
    g_free (j);
    return send_exception (s, adu, exc);
  }
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

/* 0 or the exception code */
static gint
execute (TcdModbus *m, Job *j)
{
  TcdApp *app = m->app;
  const gchar *address = j->address[0] ? j->address : NULL;
  g_autoptr (GString) what = g_string_new (!j->server->rtu ? "modbus: "
      : j->server->serial.ascii ? "modbus-ascii: " : "modbus-rtu: ");
  g_autoptr (GError) err = NULL;
  g_autofree gchar *field = NULL;
  TcdAlarmIo *io = tcd_events_get_io (app->events);
  JsonNode *doc, *rules;
  JsonArray *a;
  gboolean change = FALSE;
  guint out;
  gint64 now;

  /* an inactive device (no administrator yet) takes no change from anyone,
   * as on its other ports */
  if (!tcd_users_is_activated (app->users)) {
    g_message ("%swrite refused: the device is not activated", what->str);
    return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
  }
  if (j->set_emissivity || j->set_distance || j->set_reflected) {
    g_autoptr (JsonNode) patch = json_node_new (JSON_NODE_OBJECT);
    JsonObject *p = json_object_new ();
    if (j->set_emissivity) {
      json_object_set_double_member (p, "emissivity", j->emissivity);
      what_add (what, "thermometry.emissivity");
    }
    if (j->set_distance) {
      json_object_set_double_member (p, "distance", j->distance);
      what_add (what, "thermometry.distance");
    }
    if (j->set_reflected) {
      json_object_set_double_member (p, "reflected_temperature", j->reflected);
      what_add (what, "thermometry.reflected_temperature");
    }
    json_node_take_object (patch, p);
    doc = tcd_config_patched (app->config, "thermometry", patch);
  } else {
    doc = tcd_json_deep_copy (tcd_config_get (app->config));
  }

  rules = node_at (doc, "rules");
  a = rules && JSON_NODE_HOLDS_ARRAY (rules) ? json_node_get_array (rules) : NULL;
  for (guint i = 0; i < N_RULES; i++) {
    JsonObject *r;
    if (j->rule_enable[i] < 0)
      continue;
    /* the slot may have emptied, or another rule taken it (a deletion or a
     * new order through the API), since the thread looked */
    if (!a || i >= json_array_get_length (a)
        || !(r = tc_json_array_get_object (a, i))
        || tc_json_get_int (r, "id", 0) != j->rule_id[i]) {
      json_node_unref (doc);
      return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    }
    json_object_set_boolean_member (r, "enabled", j->rule_enable[i]);
    {
      g_autofree gchar *f = g_strdup_printf ("rules[%u].enabled", i);
      what_add (what, f);
    }
  }

  /* a PLC writing the same value every cycle changes nothing (no fsync, no
   * audit record, no event) */
  change = !tc_json_equal (doc, tcd_config_get (app->config));
  if (change && !tcd_app_change_config (app, doc, what->str, "modbus", address, &field,
          &err)) {
    g_message ("%s refused (%s): %s", what->str, field ? field : "-", err->message);
    return g_error_matches (err, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_IO)
        ? MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE : MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
  }
  if (!change)
    json_node_unref (doc);
  /* a write that changes nothing does nothing (a PLC writing its output
   * image every cycle neither floods the audit log nor clears what the
   * alarm linkage holds): 1 to an output already triggered by hand, 0 to
   * one that is off.  1 to one an alarm holds on does trigger it, so that
   * it stays on when the alarm ends. */
  out = tcd_alarmio_output_bits (io);
  for (guint i = 0; i < N_ALARM_OUTPUTS; i++) {
    if (j->output[i] < 0 || (j->output[i] ? tcd_alarmio_is_manual (io, i + 1)
            : !((out >> i) & 1)))
      continue;
    if (j->output[i])
      tcd_alarmio_trigger (io, i + 1, NULL);
    else
      tcd_alarmio_clear (io, i + 1, NULL);
    tcd_audit (app->security, "system", "modbus", address, "alarm output %u %s", i + 1,
        j->output[i] ? "triggered" : "cleared");
  }
  /* one that follows the last too soon is answered but not repeated */
  now = g_get_monotonic_time ();
  if (j->ffc && (!m->last_ffc || now - m->last_ffc >= FFC_MIN_US)) {
    m->last_ffc = now;
    tcd_pipeline_ffc (app->pipeline);
    tcd_audit (app->security, "system", "modbus", address, "flat-field correction");
  }
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
    job_free (j);
    return G_SOURCE_REMOVE;
  }
  g_async_queue_push (s->done, j);
  wake (s);
  return G_SOURCE_REMOVE;
}

/* ---- TCP ---- */

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
  TcdSecurity *sec = s->m->app->security;

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
    if (!handle_request (s, c->buf, total, MBAP, c->ip, c->id, &pending)) {
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
  if (j->exception ? !send_exception (s, j->req, j->exception)
      : (g_atomic_int_inc (&s->m->writes), !send_reply (s, j->req, j->req_len))) {
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

    sync_snapshot (s);
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
      drain (s->wake_fd);
      sync_snapshot (s);
      while ((j = g_async_queue_try_pop (s->done))) {
        tcp_finish (s, j);
        job_free (j);
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
  handle_request (s, s->rx, s->rx_len, 1, NULL, 0, &pending);
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
 * answer is encoded back by rtu_relay(). ---- */

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
    send_exception (s, j->req, j->exception);
  } else {
    g_atomic_int_inc (&s->m->writes);
    send_reply (s, j->req, j->req_len);
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
        drain (s->wake_fd);
      continue;
    }
    sync_snapshot (s);
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
      drain (s->wake_fd);
      sync_snapshot (s);
      while ((j = g_async_queue_try_pop (s->done))) {
        rtu_finish (s, j);
        job_free (j);
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

/* ---- servers (main loop) ---- */

static Server *
server_new (TcdModbus *m, gboolean rtu)
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

static void
server_stop (Server *s)
{
  Job *j;

  s->stopped = TRUE;
  g_atomic_int_set (&s->quit, 1);
  wake (s);
  g_thread_join (s->thread);
  while ((j = g_async_queue_try_pop (s->done)))
    job_free (j);
  server_unref (s);
}

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
static gboolean
tcp_start (TcdModbus *m, guint port, GError **error)
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
  if (!(s = server_new (m, FALSE))) {
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
  if (!tcp_start (m, m->tcp_retry_port, &err)) {
    tcp_set_error (m, err->message);
    m->tcp_retry_id = g_timeout_add (TCP_RETRY_MS, tcp_retry, m);
  }
  return G_SOURCE_REMOVE;
}

static void
tcp_stop (TcdModbus *m)
{
  g_clear_handle_id (&m->tcp_retry_id, g_source_remove);
  tcp_set_error (m, NULL);
  if (!m->tcp)
    return;
  server_stop (m->tcp);
  m->tcp = NULL;
  close (m->listen_fd);
  m->listen_fd = -1;
  m->port = 0;
}

static void
rtu_start (TcdModbus *m)
{
  Server *s;

  if (!m->serial.enabled || !(s = server_new (m, TRUE)))
    return;
  s->serial = m->serial;
  m->rtu = s;
  s->thread = g_thread_new ("modbus-rtu", rtu_thread, s);
}

static void
rtu_stop (TcdModbus *m)
{
  if (!m->rtu)
    return;
  server_stop (m->rtu);
  m->rtu = NULL;
  g_mutex_lock (&m->lock);
  m->rtu_open = FALSE;
  g_clear_pointer (&m->rtu_error, g_free);
  g_mutex_unlock (&m->lock);
}

/* ---- the API ---- */

TcdModbus *
tcd_modbus_new (TcdApp *app)
{
  TcdModbus *m = g_new0 (TcdModbus, 1);

  m->app = app;
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
    wake (m->tcp);
  if (m->rtu)
    wake (m->rtu);
}

void
tcd_modbus_security_changed (TcdModbus *m)
{
  if (!m->tcp)
    return;
  g_atomic_int_set (&m->tcp->recheck, TRUE);
  wake (m->tcp);
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
  if (bool_at (doc, "modbus.enabled", TRUE) && !tcp_start (m, port, error))
    return FALSE;
  read_serial (doc, &m->serial);
  rtu_start (m);
  m->started = TRUE;
  return TRUE;
}

void
tcd_modbus_stop (TcdModbus *m)
{
  tcp_stop (m);
  rtu_stop (m);
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
    if (!tcp_start (m, port, &err))
      g_warning ("%s", err->message);
  } else if (!enabled && (m->tcp || m->tcp_retry_id)) {
    tcp_stop (m);
    g_message ("Modbus TCP off");
  }

  /* the serial line's settings: reopen in place */
  read_serial (doc, &ser);
  if (memcmp (&ser, &m->serial, sizeof ser) != 0) {
    rtu_stop (m);
    m->serial = ser;
    rtu_start (m);
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
