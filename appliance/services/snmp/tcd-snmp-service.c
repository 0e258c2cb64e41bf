/* thermocamd: SNMP as a service of the table (services/tcd-service.h): its
 * agent on ports.snmp (UDP)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-snmp.h"

typedef struct {
  TcdContext *ctx;
  TcdSnmp *m;
} Service;

#define M(self) (((Service *) (self))->m)

static gpointer
create (TcdContext *ctx)
{
  Service *s = g_new0 (Service, 1);

  s->ctx = ctx;
  s->m = tcd_snmp_new (ctx);
  return s;
}

static gboolean
start (gpointer self, const gchar *address, const guint *ports, GError **error)
{
  Service *s = self;

  return tcd_snmp_start (s->m, address, ports[0], error);
}

static void
apply (gpointer self, JsonNode *doc)
{
  tcd_snmp_apply (M (self), doc);
}

static guint
get_port (gpointer self, guint i)
{
  return tcd_snmp_get_port (M (self));
}

static JsonNode *
stats (gpointer self)
{
  return tcd_snmp_stats (M (self));
}

static void
stop (gpointer self)
{
  tcd_snmp_stop (M (self));
}

static void
destroy (gpointer self)
{
  tcd_snmp_free (M (self));
  g_free (self);
}

const TcdServiceClass tcd_snmp_service = {
  .name = "snmp",
  .ports = { "snmp", NULL },
  .port_help = { "SNMP agent's UDP port while snmp.v1, v2c or v3 is on (0: a free one; "
        "default: the configuration's, 161)" },
  .create = create,
  .start = start,
  .apply = apply,
  .get_port = get_port,
  .stats = stats,
  .stop = stop,
  .destroy = destroy,
};
