/* thermocamd: UPnP port mapping as a service of the table (services/tcd-service.h): a
 * client of the router, with no port of its own
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-upnp.h"

typedef struct {
  TcdContext *ctx;
  TcdUpnp *m;
} Service;

#define M(self) (((Service *) (self))->m)

static gpointer
create (TcdContext *ctx)
{
  Service *s = g_new0 (Service, 1);

  s->ctx = ctx;
  s->m = tcd_upnp_new (ctx);
  return s;
}

static gboolean
start (gpointer self, const gchar *address, const guint *ports, GError **error)
{
  Service *s = self;

  /* it listens on nothing; the ports in use may be new: a sync */
  tcd_upnp_apply (s->m, tcd_config_get (s->ctx->config));
  return TRUE;
}

static void
apply (gpointer self, JsonNode *doc)
{
  tcd_upnp_apply (M (self), doc);
}

static guint
get_port (gpointer self, guint i)
{
  return 0;
}

static JsonNode *
stats (gpointer self)
{
  return tcd_upnp_stats (M (self));
}

static void
stop (gpointer self)
{
  tcd_upnp_stop (M (self));
}

static void
destroy (gpointer self)
{
  tcd_upnp_free (M (self));
  g_free (self);
}

const TcdServiceClass tcd_upnp_service = {
  .name = "upnp",
  .ports = { NULL },
  .create = create,
  .start = start,
  .apply = apply,
  .get_port = get_port,
  .stats = stats,
  .stop = stop,
  .destroy = destroy,
};
