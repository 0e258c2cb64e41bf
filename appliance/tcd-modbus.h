/* thermocamd: Modbus TCP and RTU (manual 9.2, 10.10) with libmodbus
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Temperatures, alarm states and parameters for PLCs; the register map is
 * schemas/modbus-registers.json (served at /api/v1/modbus/registers).
 */
#pragma once

#include "tcd-app.h"

G_BEGIN_DECLS

TcdModbus *tcd_modbus_new (TcdApp *app);
void       tcd_modbus_free (TcdModbus *m);
/* Starts the TCP server on @port (0: a free one) when modbus.enabled, and
 * RTU on rs485.device when rs485.enabled, with the configuration @doc */
gboolean   tcd_modbus_start (TcdModbus *m, guint port, JsonNode *doc, GError **error);
void       tcd_modbus_stop (TcdModbus *m);
/* The TCP port listened on, 0 when not listening */
guint      tcd_modbus_get_port (TcdModbus *m);
/* The configuration changed (main loop): word order, rate, RS-485 settings,
 * rule list... */
void       tcd_modbus_apply (TcdModbus *m, JsonNode *doc);
/* Statistics for diagnostics (JSON object) */
JsonNode  *tcd_modbus_stats (TcdModbus *m);

G_END_DECLS
