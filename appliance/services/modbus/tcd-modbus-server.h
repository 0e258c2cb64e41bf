/* thermocamd: the Modbus server's internals (private to services/modbus)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by tcd-modbus.c (the API, the requests, the writes on the main
 * loop), tcd-modbus-tcp.c (TCP) and tcd-modbus-serial.c (RTU and ASCII);
 * how it works is told at the top of tcd-modbus.c.
 */
#pragma once

#include "tcd-modbus.h"
#include "tcd-modbus-map.h"

#include <arpa/inet.h>
#include <modbus.h>

G_BEGIN_DECLS

#define MAX_CLIENTS 16                          /* schema: modbus.max_clients */
#define RTU_BUF 256                             /* MODBUS_RTU_MAX_ADU_LENGTH */
#define ASCII_BUF (2 * RTU_BUF + 8)             /* a frame's text between ':' and CR LF */
#define ASCII_TEXT (1 + 2 * (RTU_BUF + 8) + 4)  /* an ASCII answer on the line */
#define TCP_BUF (2 * MODBUS_TCP_MAX_ADU_LENGTH)
#define MBAP 7                                  /* MBAP header with the unit id */

/* ---- state shared with the server threads ---- */

/* what the threads need of the configuration, copied under TcdModbus.lock */
typedef struct {
  guint generation;
  TcdModbusMapConfig map;       /* what the register map needs */
  guint update_ms, max_clients, idle_timeout_s;
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
  TcdModbusWrite w;             /* what to change */
  gint exception;               /* the answer: 0 or an exception code */
} Job;

struct _TcdModbus {
  TcdContext *ctx;
  gboolean started;
  guint port_wanted, port, last_port;
  gchar *address;               /* to listen on; NULL: all IPv4 addresses */
  gint listen_fd;
  Server *tcp, *rtu;
  Serial serial;                /* what the RTU server was started with */
  guint tcp_retry_id;           /* the TCP port could not be bound: retrying */
  guint tcp_retry_port;

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

static inline guint
u16_at (const guint8 *p)
{
  return ((guint) p[0] << 8) | p[1];
}

/* tcd-modbus.c: the servers and their requests */
Server   *mb_server_new (TcdModbus *m, gboolean rtu);
void      mb_server_stop (Server *s);
void      mb_wake (Server *s);
void      mb_drain (gint fd);
/* the newest configuration snapshot into the thread's copy */
void      mb_sync_snapshot (Server *s);
gboolean  mb_handle_request (Server *s, const guint8 *adu, gsize len, gsize header,
                             const gchar *address, guint64 client_id, gboolean *pending);
gboolean  mb_send_exception (Server *s, const guint8 *req, gint code);
gboolean  mb_send_reply (Server *s, const guint8 *req, gint len);
void      mb_job_free (Job *j);

/* tcd-modbus-tcp.c */
gboolean  mb_tcp_start (TcdModbus *m, guint port, GError **error);
void      mb_tcp_stop (TcdModbus *m);

/* tcd-modbus-serial.c */
void      mb_rtu_start (TcdModbus *m);
void      mb_rtu_stop (TcdModbus *m);
/* RTU and ASCII: the answer libmodbus built goes to the line */
void      mb_rtu_relay (Server *s);

G_END_DECLS
