/* thermocamd: HTTP (the API, the event stream, the live view) as a service
 * of the table (services/tcd-service.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http.h"

typedef struct {
  TcdContext *ctx;
  TcdHttp *http;
  guint bus_id;
} Service;

/* every event of the bus goes to the listeners of GET /events */
static void
on_event (TcdEventType type, JsonNode *event, gpointer user_data)
{
  Service *s = user_data;
  tcd_http_count_event (s->http, type, event);
  tcd_http_broadcast (s->http, tcd_event_type_name (type), json_node_ref (event));
}

static void
on_jpeg (GstSample *jpeg, gpointer user_data)
{
  tcd_http_push_jpeg (user_data, jpeg);
}

static gpointer
create (TcdContext *ctx)
{
  Service *s = g_new0 (Service, 1);

  s->ctx = ctx;
  s->http = tcd_http_new (ctx);
  /* the readings only while someone listens (api-live.c) */
  s->bus_id = tcd_bus_subscribe (ctx->bus, TCD_EVENT_ALL & ~TCD_EVENT_MASK (TCD_EVENT_MEASUREMENT),
      on_event, s);
  tcd_pipeline_set_jpeg_callback (ctx->pipeline, on_jpeg, s->http);
  tcd_change_add_check (ctx->change, "websocket", tcd_http_check_ws, s->http);
  return s;
}

static gboolean
start (gpointer self, const gchar *address, const guint *ports, GError **error)
{
  Service *s = self;

  if (!tcd_http_listen (s->http, address, ports[0], ports[1], error))
    return FALSE;
  tcd_http_listen_ws (s->http, address, ports[2], ports[3]);
  tcd_http_listen_server (s->http, address, ports[4]);
  return TRUE;
}

/* the WebSocket(s) ports switched on or off, live */
static void
apply (gpointer self, JsonNode *doc)
{
  tcd_http_apply_ws (((Service *) self)->http);
}

static void
security_changed (gpointer self, TcdSecurityChange what)
{
  Service *s = self;

  if (what & TCD_SECURITY_FACTORY)
    tcd_http_reset (s->http);
  if (what & TCD_SECURITY_CERTIFICATE)
    tcd_http_certificate_changed (s->http);
  if (what & TCD_SECURITY_FILTER)
    tcd_http_security_changed (s->http);
}

static guint
get_port (gpointer self, guint i)
{
  Service *s = self;
  switch (i) {
    case 0:
      return tcd_http_get_port (s->http);
    case 1:
      return tcd_http_get_https_port (s->http);
    case 2:
      return tcd_http_get_ws_port (s->http);
    case 4:
      return tcd_http_get_server_port (s->http);
    default:
      return tcd_http_get_wss_port (s->http);
  }
}

static JsonNode *
stats (gpointer self)
{
  return tcd_http_stats (((Service *) self)->http);
}

static void
stop (gpointer self)
{
  tcd_http_disconnect (((Service *) self)->http);
}

static void
destroy (gpointer self)
{
  Service *s = self;

  tcd_pipeline_set_jpeg_callback (s->ctx->pipeline, NULL, NULL);
  tcd_bus_unsubscribe (s->ctx->bus, s->bus_id);
  tcd_http_free (s->http);
  g_free (s);
}

const TcdServiceClass tcd_http_service = {
  .name = "http",
  .ports = { "http", "https", "websocket", "websockets", "server", NULL },
  .port_help = {
    "HTTP port (0: a free one; default: the configuration's, 8080)",
    "HTTPS port when security.https is enabled (0: a free one; default: the "
        "configuration's, 8443)",
    "WebSocket port: the live view socket only (0: a free one; default: the "
        "configuration's, 7681)",
    "WebSockets port: the live view socket over TLS while HTTPS is on (0: a free one; "
        "default: the configuration's, 7682)",
    "Server port (manual 9.2: the port client software adds the camera by): the HTTP "
        "API, ONVIF and the page as on the HTTP port (0: a free one; default: the "
        "configuration's, 8000)",
  },
  .create = create,
  .start = start,
  .apply = apply,
  .security_changed = security_changed,
  .get_port = get_port,
  .stats = stats,
  .stop = stop,
  .destroy = destroy,
};
