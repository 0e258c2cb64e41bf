/* thermocamd: RTSP as a service of the table (services/tcd-service.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-rtsp.h"

#include "tc-json.h"
#include "tcd-secret.h"

typedef struct {
  TcdContext *ctx;
  TcdRtsp *rtsp;
  gchar *onvif_users;           /* onvif.users as last applied (JSON) */
} Service;

/* The ONVIF users watch the streams GetStreamUri tells them of with their
 * own credentials (onvif.users, while ONVIF is on; their sealed passwords
 * opened here, core/tcd-secret.h) */
static void
onvif_users (Service *s, JsonNode *doc, gboolean force)
{
  JsonNode *u = tcd_config_node (doc, "onvif.users");
  JsonNode *on = tcd_config_node (doc, "onvif.enabled");
  gboolean enabled = on && JSON_NODE_HOLDS_VALUE (on) && json_node_get_boolean (on);
  g_autofree gchar *text = enabled && u ? tcd_json_to_string (u, FALSE) : g_strdup ("");
  g_autoptr (GHashTable) users = NULL;

  if (!force && g_strcmp0 (text, s->onvif_users) == 0)
    return;
  g_free (s->onvif_users);
  s->onvif_users = g_steal_pointer (&text);
  users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; enabled && u && JSON_NODE_HOLDS_ARRAY (u)
      && i < json_array_get_length (json_node_get_array (u)); i++) {
    JsonObject *o = tc_json_array_get_object (json_node_get_array (u), i);
    const gchar *name = o ? tc_json_get_string (o, "name", NULL) : NULL;
    g_autofree gchar *context = name ? g_strconcat ("onvif:", name, NULL) : NULL;
    gchar *password = name ? tcd_secret_open (s->ctx->state_dir, context,
        tc_json_get_string (o, "secret", NULL)) : NULL;
    if (password)
      g_hash_table_replace (users, g_strdup (name), password);
  }
  tcd_rtsp_set_extra_users (s->rtsp, g_hash_table_size (users) ? users : NULL);
}

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
  onvif_users (s, tcd_config_get (s->ctx->config), TRUE);
  return TRUE;
}

static void
apply (gpointer self, JsonNode *doc)
{
  tcd_rtsp_apply (((Service *) self)->rtsp, doc);
  onvif_users (self, doc, FALSE);
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
  g_free (s->onvif_users);
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
