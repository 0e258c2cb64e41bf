/* thermocamd: Modbus (TCP, RTU and ASCII) as a service of the table
 * (services/tcd-service.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-modbus.h"

typedef struct {
  TcdContext *ctx;
  TcdModbus *m;
} Service;

#define M(self) (((Service *) (self))->m)

static gpointer
create (TcdContext *ctx)
{
  Service *s = g_new0 (Service, 1);

  s->ctx = ctx;
  s->m = tcd_modbus_new (ctx);
  return s;
}

static gboolean
start (gpointer self, const gchar *address, const guint *ports, GError **error)
{
  Service *s = self;
  return tcd_modbus_start (s->m, address, ports[0], tcd_config_get (s->ctx->config), error);
}

static void
apply (gpointer self, JsonNode *doc)
{
  tcd_modbus_apply (M (self), doc);
}

static void
security_changed (gpointer self, TcdSecurityChange what)
{
  /* an open connection from an address now refused goes now, not at its
   * next request */
  if (what & TCD_SECURITY_FILTER)
    tcd_modbus_security_changed (M (self));
}

static guint
get_port (gpointer self, guint i)
{
  return tcd_modbus_get_port (M (self));
}

static JsonNode *
stats (gpointer self)
{
  return tcd_modbus_stats (M (self));
}

static void
stop (gpointer self)
{
  tcd_modbus_stop (M (self));
}

static void
destroy (gpointer self)
{
  tcd_modbus_free (M (self));
  g_free (self);
}

const TcdServiceClass tcd_modbus_service = {
  .name = "modbus",
  .ports = { "modbus", NULL },
  .port_help = { "Modbus TCP port when modbus is enabled (0: a free one; default: the "
        "configuration's, 502)" },
  .create = create,
  .start = start,
  .apply = apply,
  .security_changed = security_changed,
  .get_port = get_port,
  .stats = stats,
  .stop = stop,
  .destroy = destroy,
};
