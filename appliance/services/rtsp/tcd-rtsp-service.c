/* thermocamd: RTSP as a service of the table (services/tcd-service.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-rtsp.h"

typedef struct {
  TcdContext *ctx;
  TcdRtsp *rtsp;
} Service;

static gpointer
create (TcdContext *ctx)
{
  Service *s = g_new0 (Service, 1);

  s->ctx = ctx;
  s->rtsp = tcd_rtsp_new (ctx->encoders, ctx->security);
  return s;
}

static gboolean
start (gpointer self, const gchar *address, const guint *ports, GError **error)
{
  Service *s = self;

  if (!tcd_rtsp_start (s->rtsp, address, ports[0], tcd_config_get (s->ctx->config), error))
    return FALSE;
  tcd_rtsp_set_users (s->rtsp, s->ctx->users);
  return TRUE;
}

static void
apply (gpointer self, JsonNode *doc)
{
  tcd_rtsp_apply (((Service *) self)->rtsp, doc);
}

static void
security_changed (gpointer self, TcdSecurityChange what)
{
  Service *s = self;

  /* the credentials file is read again (the activation, a new password) */
  if (what & (TCD_SECURITY_USERS | TCD_SECURITY_FACTORY))
    tcd_rtsp_set_users (s->rtsp, s->ctx->users);
}

static guint
get_port (gpointer self, guint i)
{
  return tcd_rtsp_get_port (((Service *) self)->rtsp);
}

static JsonNode *
stats (gpointer self)
{
  return tcd_rtsp_stats (((Service *) self)->rtsp);
}

static void
stop (gpointer self)
{
  tcd_rtsp_stop (((Service *) self)->rtsp);
}

static void
destroy (gpointer self)
{
  Service *s = self;
  tcd_rtsp_free (s->rtsp);
  g_free (s);
}

const TcdServiceClass tcd_rtsp_service = {
  .name = "rtsp",
  .ports = { "rtsp", NULL },
  .port_help = { "RTSP port (0: a free one; default: the configuration's, 8554)" },
  .create = create,
  .start = start,
  .apply = apply,
  .security_changed = security_changed,
  .get_port = get_port,
  .stats = stats,
  .stop = stop,
  .destroy = destroy,
};
