/* thermocamd: SNMP, what its files share (tcd-snmp.c: the agent, access,
 * users, traps; tcd-snmp-mib.c: the objects)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>
#include <net-snmp/library/large_fd_set.h>

#include "tcd-snmp.h"

G_BEGIN_DECLS

struct _TcdSnmp {
  TcdContext *ctx;
  JsonNode *cfg;                /* the snmp section in use (a copy) */
  gboolean on;                  /* one version is on */
  gchar *address;               /* NULL: all */
  guint want_port, port;
  guint retry_id;               /* the port could not be opened: tried again */
  gint nsap[2];                 /* the agent's transports (-1: none) */
  GSource *source;
  guint bus_id;
  gboolean method;
  GPtrArray *users;             /* the v3 users created (names) */
  /* exceptions (THERMOCAM-MIB tcExceptions) */
  guint32 exceptions;
  gchar *last_exception_type, *last_exception_message, *last_exception_time;
  /* diagnostics */
  guint64 requests, refused, sets, traps, trap_errors;
  gchar *last_error;
};

/* ---- tcd-snmp-mib.c ---- */
/* Registers the objects' handlers (once) */
void snmp_mib_register (TcdSnmp *s);
void snmp_mib_unregister (void);
/* THERMOCAM-MIB's root and its length */
extern const oid snmp_mib_root[];
extern const gsize snmp_mib_root_len;
/* The origin of a SET (tcd-snmp.c) */
void snmp_origin (netsnmp_pdu *pdu, TcdOrigin *o, gchar *user, gsize user_len);

G_END_DECLS
