/* thermocamd: Modbus TCP and RTU -- not served yet (issue 8 builds it)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-modbus.h"

struct _TcdModbus {
  TcdApp *app;
};

TcdModbus *
tcd_modbus_new (TcdApp *app)
{
  TcdModbus *m = g_new0 (TcdModbus, 1);
  m->app = app;
  return m;
}

void
tcd_modbus_free (TcdModbus *m)
{
  g_free (m);
}

gboolean
tcd_modbus_start (TcdModbus *m, guint port, JsonNode *doc, GError **error)
{
  return TRUE;
}

void
tcd_modbus_stop (TcdModbus *m)
{
}

guint
tcd_modbus_get_port (TcdModbus *m)
{
  return 0;
}

void
tcd_modbus_apply (TcdModbus *m, JsonNode *doc)
{
}

JsonNode *
tcd_modbus_stats (TcdModbus *m)
{
  return json_node_new (JSON_NODE_NULL);
}
