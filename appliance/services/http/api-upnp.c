/* thermocamd: HTTP route of the port mapping's state (UPnP, manual 9.3)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The upnp service (services/upnp) keeps the state; it is read here through
 * the table's stats, as the diagnostics read it (a service never calls
 * another).  The settings are /config/upnp.
 */
#include "tcd-http-private.h"

static void
handle_port_mapping (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) all = tcd_services_stats (h->ctx->services);
  JsonObject *o = all && JSON_NODE_HOLDS_OBJECT (all) ? json_node_get_object (all) : NULL;
  JsonNode *upnp = o ? json_object_get_member (o, "upnp") : NULL;

  if (!upnp) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no port mapping here");
    return;
  }
  send_json (msg, SOUP_STATUS_OK, upnp);
}

const TcdRoute tcd_http_upnp_routes[] = {
  HTTP_ROUTE_P ("GET", "/network/port-mapping", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_port_mapping),
  HTTP_ROUTES_END
};
