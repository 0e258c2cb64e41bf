/* thermocamd: HTTP route of the RS-232 port's state (manual 10.9)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The port (linkage/tcd-rs232) says whether it is open, its error and its
 * counters; the service serial (its console and transparent channel) says
 * its own through the table's stats, as the diagnostics read it (a service
 * never calls another).  The settings are /config/serial.
 */
#include "tcd-http-private.h"

static void
handle_serial (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) port = tcd_rs232_status (h->ctx->rs232);
  g_autoptr (JsonNode) all = tcd_services_stats (h->ctx->services);
  JsonObject *o = all && JSON_NODE_HOLDS_OBJECT (all) ? json_node_get_object (all) : NULL;
  JsonNode *svc = o ? json_object_get_member (o, "serial") : NULL;
  JsonObject *out = json_node_get_object (port);

  if (svc && JSON_NODE_HOLDS_OBJECT (svc)) {
    JsonObject *so = json_node_get_object (svc);
    JsonNode *console = json_object_get_member (so, "console");
    JsonNode *channel = json_object_get_member (so, "channel");
    if (console)
      json_object_set_member (out, "console", json_node_copy (console));
    if (channel)
      json_object_set_member (out, "channel", json_node_copy (channel));
  }
  send_json (msg, SOUP_STATUS_OK, port);
}

const TcdRoute tcd_http_serial_routes[] = {
  HTTP_ROUTE_P ("GET", "/serial", TCD_LEVEL_OPERATOR, TCD_PERM_SERIAL, handle_serial),
  HTTP_ROUTES_END
};
