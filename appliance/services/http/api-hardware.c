/* thermocamd: HTTP routes of the hardware this appliance may lack: lens,
 * focus, light, wiper, local video output (manual 6.1.8-6.1.12, 7.2.9)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The settings are /config/hardware; the state and the actions of what is
 * present go through the backend (linkage/tcd-hw.h).  An action of absent
 * hardware is 409 not_present.
 */
#include "tcd-http-private.h"

static void
handle_hardware (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) st = tcd_hw_status (h->ctx->hardware);
  send_json (msg, SOUP_STATUS_OK, st);
}

/* POST /hardware/{function}/{action}: no body */
static void
handle_action (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  const gchar *fn = http_param (req, "function");
  const gchar *action = http_param (req, "action");
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) st = NULL;
  TcdOrigin o = origin_of (msg, "hardware");

  if (!tcd_hw_action (h->ctx->hardware, fn, action, &err)) {
    send_gerror (msg, err, g_error_matches (err, TCD_HW_ERROR, TCD_HW_ERROR_UNKNOWN)
        ? (tcd_hw_function_from_string (fn) ? "action" : "function") : NULL, NULL);
    return;
  }
  tcd_audit (h->ctx->security, "system", o.user, o.address, "hardware %s %s", fn, action);
  st = tcd_hw_status (h->ctx->hardware);
  send_json (msg, SOUP_STATUS_OK, st);
}

void
hardware_device_members (TcdHttp *h, JsonBuilder *b)
{
  json_builder_set_member_name (b, "hardware");
  json_builder_add_value (b, tcd_hw_presence (h->ctx->hardware));
  json_builder_set_member_name (b, "hardware_backend");
  json_builder_add_string_value (b, tcd_hw_backend_name (h->ctx->hardware));
}

const TcdRoute tcd_http_hardware_routes[] = {
  HTTP_ROUTE_P ("GET", "/hardware", TCD_LEVEL_USER, TCD_PERM_LIVE_VIEW, handle_hardware),
  HTTP_ROUTE_P ("POST", "/hardware/{function}/{action}", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_action),
  HTTP_ROUTES_END
};
