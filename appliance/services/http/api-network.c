/* thermocamd: HTTP routes of the network (manual 9.1, 9.5): what the
 * backend holds, the confirmation of new IP settings, the test of an
 * address, a DDNS update now.  The settings are config.network.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"

#include "tc-json.h"
#include "tcd-net.h"

static void
handle_network_status (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) st = tcd_net_status (h->ctx->net);
  send_json (msg, SOUP_STATUS_OK, st);
}

/* the address the request came to */
static gchar *
local_address (SoupServerMessage *msg)
{
  GSocketAddress *l = soup_server_message_get_local_address (msg);
  GInetAddress *a;

  if (!l || !G_IS_INET_SOCKET_ADDRESS (l))
    return NULL;
  a = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (l));
  if (g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV6) {
    /* ::ffff:192.0.2.1 is 192.0.2.1 */
    const guint8 *b = g_inet_address_to_bytes (a);
    static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp (b, mapped, 12) == 0) {
      g_autoptr (GInetAddress) v4 = g_inet_address_new_from_bytes (b + 12,
          G_SOCKET_FAMILY_IPV4);
      return g_inet_address_to_string (v4);
    }
  }
  return g_inet_address_to_string (a);
}

static void
handle_network_confirm (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *local = local_address (msg);
  TcdOrigin o = origin_of (msg, "network confirm");

  if (!tcd_net_confirm (h->ctx->net, local, &o, &err)) {
    send_gerror (msg, err, NULL, NULL);
    return;
  }
  handle_network_status (h, msg, req);
}

static void
address_tested (GObject *source, GAsyncResult *res, gpointer user_data)
{
  SoupServerMessage *msg = user_data;
  TcdHttp *h = g_object_get_data (G_OBJECT (msg), "tcd-http");
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) answer = tcd_net_test_address_finish (h->ctx->net, res, &err);

  if (answer)
    send_json (msg, SOUP_STATUS_OK, answer);
  else
    send_gerror (msg, err, "address", NULL);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

/* POST /network/test-address {"address": "192.168.1.64"} */
static void
handle_network_test_address (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  static const gchar *const allowed[] = { "address", NULL };
  g_autoptr (JsonNode) body = read_body (msg);
  JsonObject *o;
  const gchar *address;

  if (!body || !(o = body_object (msg, body, allowed)))
    return;
  if (!(address = member (o, "address"))) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "address",
        "address: a string is expected");
    return;
  }
  g_object_set_data (G_OBJECT (msg), "tcd-http", h);
  soup_server_message_pause (msg);
  tcd_net_test_address_async (h->ctx->net, address, NULL, address_tested,
      g_object_ref (msg));
}

static void
handle_network_ddns_update (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (GError) err = NULL;

  if (!tcd_net_ddns_update (h->ctx->net, &err)) {
    send_error (msg, SOUP_STATUS_CONFLICT, "ddns", NULL, "%s", err->message);
    return;
  }
  handle_network_status (h, msg, req);
}

const TcdRoute tcd_http_network_routes[] = {
  HTTP_ROUTE_P ("GET", "/network/status", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_network_status),
  HTTP_ROUTE_P ("POST", "/network/confirm", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_PARAMETERS, handle_network_confirm),
  HTTP_ROUTE_P ("POST", "/network/test-address", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_network_test_address),
  HTTP_ROUTE_P ("POST", "/network/ddns/update", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_network_ddns_update),
  HTTP_ROUTES_END
};
