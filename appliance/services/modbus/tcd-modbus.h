/* thermocamd: Modbus TCP and RTU (manual 9.2, 10.10) with libmodbus
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Temperatures, alarm states and parameters for PLCs; the register map is
 * schemas/modbus-registers.json (served at /api/v1/modbus/registers).
 */
#pragma once

#include "tcd-service.h"

G_BEGIN_DECLS

typedef struct _TcdModbus TcdModbus;

TcdModbus *tcd_modbus_new (TcdContext *ctx);
void       tcd_modbus_free (TcdModbus *m);
/* Starts the TCP server on @address (an IP address; NULL or "": all IPv4
 * addresses) and @port (0: a free one) when modbus.enabled, and
 * RTU on rs485.device when rs485.enabled, with the configuration @doc.  A
 * port that cannot be bound is not an error: it is retried every few
 * seconds (tcd_modbus_stats says why in tcp.error).  FALSE only when a
 * server cannot be set up at all. */
gboolean   tcd_modbus_start (TcdModbus *m, const gchar *address, guint port, JsonNode *doc,
                             GError **error);
void       tcd_modbus_stop (TcdModbus *m);
/* The TCP port listened on, 0 when not listening (off, or its port busy) */
guint      tcd_modbus_get_port (TcdModbus *m);
/* The configuration changed (main loop): word order, rate, RS-485 settings,
 * rule list...; the open TCP clients are checked against the IP filter */
void       tcd_modbus_apply (TcdModbus *m, JsonNode *doc);
/* The IP filter or the illegal-login lock changed outside a configuration
 * change (an address got locked): the open TCP clients are checked again */
void       tcd_modbus_security_changed (TcdModbus *m);
/* Statistics for diagnostics (JSON object) */
JsonNode  *tcd_modbus_stats (TcdModbus *m);

/* The service of the table (tcd-modbus-service.c) */
extern const TcdServiceClass tcd_modbus_service;

G_END_DECLS
