/* thermocamd: what a service is given, what it offers, and the table of them
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A service is a protocol the camera speaks to the outside (HTTP, RTSP,
 * Modbus; next ONVIF, MQTT, SNMP, ...).  It is made from a TcdContext (the
 * layers below: core, media, linkage) and offers the TcdServiceClass
 * functions; the daemon keeps a table of them (daemon/thermocamd.c) and
 * starts, restarts, checks the ports of and asks the diagnostics of each by
 * walking it.  A service calls the layers below it, never another service;
 * what one must tell the others goes through the change path or the bus.
 */
#pragma once

#include "tcd-bus.h"
#include "tcd-change.h"
#include "tcd-commands.h"
#include "tcd-config.h"
#include "tcd-dpc.h"
#include "tcd-encoder.h"
#include "tcd-events.h"
#include "tcd-history.h"
#include "tcd-hw.h"
#include "tcd-logbuf.h"
#include "tcd-net.h"
#include "tcd-pipeline.h"
#include "tcd-rs232.h"
#include "tcd-security.h"
#include "tcd-syslog.h"
#include "tcd-timesync.h"
#include "tcd-upgrade.h"
#include "tcd-users.h"

G_BEGIN_DECLS

typedef struct _TcdServices TcdServices;

/* What every service is given (borrowed; lives as long as the daemon) */
typedef struct {
  /* the device */
  const gchar *state_dir, *data_dir, *source, *serial;
  gint64 started_us;            /* monotonic */
  /* core */
  TcdConfig *config;
  TcdUsers *users;
  TcdSecurity *security;
  TcdChange *change;
  TcdBus *bus;
  /* media */
  TcdPipeline *pipeline;
  TcdEncoders *encoders;        /* the H.264 of the streams main and sub (taps) */
  TcdDpc *dpc;                  /* the defective pixels corrected by hand (manual 7.5) */
  /* linkage */
  TcdEvents *events;
  TcdCommands *commands;
  TcdHistory *history;          /* the temperature and event history */
  TcdTimesync *timesync;        /* NTP: the device clock's status and Test */
  TcdNet *net;                  /* the network settings, their backend, DDNS */
  /* the table of services, for the diagnostics of all of them */
  TcdServices *services;
  /* upgrade (manual 10.6) and the running log (10.3) */
  TcdUpgrade *upgrade;
  TcdLogBuf *log;
  TcdSyslog *syslog;            /* the audit log to a log server (10.12.2) */
  TcdRs232 *rs232;              /* the RS-232 port (10.9): services/serial uses it */
  TcdHw *hardware;              /* lens, focus, light, wiper, video output (6.1.8-6.1.12, 7.2.9) */
} TcdContext;

/* What changed in security (for security_changed) */
typedef enum {
  TCD_SECURITY_FILTER = 1 << 0,       /* the IP filter, the authentication settings, a lock */
  TCD_SECURITY_USERS = 1 << 1,        /* accounts created, removed, passwords */
  TCD_SECURITY_FACTORY = 1 << 2,      /* the factory state: every session ends */
  TCD_SECURITY_CERTIFICATE = 1 << 3,  /* the HTTPS certificate was removed or replaced */
} TcdSecurityChange;

#define TCD_SERVICE_MAX_PORTS 5

typedef struct {
  const gchar *name;                    /* "http" */
  /* the ports it listens on: their names are ports.NAME in the configuration,
   * --NAME-port on the command line and NAME= in the ready line */
  const gchar *ports[TCD_SERVICE_MAX_PORTS + 1];
  const gchar *port_help[TCD_SERVICE_MAX_PORTS];   /* --NAME-port's help */
  gpointer (*create) (TcdContext *ctx);
  /* listen on @address (NULL: all) and @ports (as ports[]; 0: any free one,
   * or off where the service is off by configuration) */
  gboolean (*start) (gpointer self, const gchar *address, const guint *ports,
                     GError **error);
  /* the configuration changed (@doc current) */
  void     (*apply) (gpointer self, JsonNode *doc);
  void     (*security_changed) (gpointer self, TcdSecurityChange what);
  /* the port it listens on now for ports[@i] (0: off) */
  guint    (*get_port) (gpointer self, guint i);
  JsonNode *(*stats) (gpointer self);
  void     (*stop) (gpointer self);
  void     (*destroy) (gpointer self);
} TcdServiceClass;

/* What a service may ask of the table (the daemon fills and walks it with
 * tcd-service-table.h, which no service includes) */
/* The port named @port ("https") that its service listens on now; 0: off */
guint        tcd_services_port (TcdServices *s, const gchar *port);
/* Every service told, in the table's order */
void         tcd_services_apply (TcdServices *s, JsonNode *doc);
void         tcd_services_security_changed (TcdServices *s, TcdSecurityChange what);
/* {"http": {...}, "rtsp": {...}, ...} */
JsonNode    *tcd_services_stats (TcdServices *s);
/* How often the servers restarted in place */
guint        tcd_services_get_restarts (TcdServices *s);
void         tcd_services_count_restart (TcdServices *s);

G_END_DECLS
