/* thermocamd: SNMP v1, v2c and v3 (manual 9.4), net-snmp's agent library
 * inside the daemon, on the main loop
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The daemon is its own SNMP agent (a master agent with its own UDP port,
 * ports.snmp), not an AgentX subagent of the host's snmpd: the camera's
 * communities, v3 users, access and trap receivers are its configuration
 * (the snmp section, changed live through the change path), which an
 * AgentX subagent could not apply (they would be snmpd.conf's), and it
 * does not need an snmpd set up on the host.
 *
 * It serves schemas/THERMOCAM-MIB.txt (tcd-snmp-mib.c) and the system group
 * of SNMPv2-MIB; access is checked here, not by VACM: v1 and v2c by the
 * read and write communities, v3 by the USM users and the least level each
 * must use.  net-snmp's sockets and timers run in a GSource on the main
 * loop (nothing blocks).  Traps and informs go to snmp.trap_receivers for
 * the events whose linkage has snmp_trap (tcd_events_add_method).
 */
#pragma once

#include "tcd-service.h"

G_BEGIN_DECLS

typedef struct _TcdSnmp TcdSnmp;

/* the service (tcd-snmp-service.c) */
extern const TcdServiceClass tcd_snmp_service;

TcdSnmp  *tcd_snmp_new (TcdContext *ctx);
void      tcd_snmp_free (TcdSnmp *s);
/* Listens on @address (NULL: all) and @port (0: a free one) while one of
 * snmp.v1, v2c, v3 is on */
gboolean  tcd_snmp_start (TcdSnmp *s, const gchar *address, guint port, GError **error);
void      tcd_snmp_apply (TcdSnmp *s, JsonNode *doc);
guint     tcd_snmp_get_port (TcdSnmp *s);
JsonNode *tcd_snmp_stats (TcdSnmp *s);
void      tcd_snmp_stop (TcdSnmp *s);

G_END_DECLS
