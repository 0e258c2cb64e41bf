/* thermocamd: WS-Discovery as a service of the table (services/tcd-service.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-wsd.h"

static gpointer
create (TcdContext *ctx)
{
  return tcd_wsd_new (ctx);
}

static gboolean
start (gpointer self, const gchar *address, const guint *ports, GError **error)
{
  return tcd_wsd_start (self, ports[0], error);
}

static void
apply (gpointer self, JsonNode *doc)
{
  tcd_wsd_apply (self, doc);
}

static guint
get_port (gpointer self, guint i)
{
  return tcd_wsd_get_port (self);
}

static JsonNode *
stats (gpointer self)
{
  return tcd_wsd_stats (self);
}

static void
stop (gpointer self)
{
  tcd_wsd_stop (self);
}

static void
destroy (gpointer self)
{
  tcd_wsd_free (self);
}

const TcdServiceClass tcd_wsd_service = {
  .name = "wsd",
  .ports = { "wsd", NULL },
  .port_help = { "WS-Discovery UDP port while onvif.enabled (0: a free one; default: the "
      "configuration's, 3702)" },
  .create = create,
  .start = start,
  .apply = apply,
  .get_port = get_port,
  .stats = stats,
  .stop = stop,
  .destroy = destroy,
};
