/* thermocamd: HTTP routes of the image's corrections: manual defective pixel
 * correction (manual 7.5, media/tcd-dpc.h) and the background correction
 * (manual 7.2.2; its manual correction is POST /system/ffc, api-system.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"


#include "tcd-dpc.h"

static void
send_state (TcdHttp *h, SoupServerMessage *msg)
{
  g_autoptr (JsonNode) state = tcd_dpc_state (h->ctx->dpc,
      tcd_config_string (h->ctx->config, "image.mirror"));

  send_json (msg, SOUP_STATUS_OK, state);
}

/* GET /image/dpc */
static void
handle_dpc_get (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  send_state (h, msg);
}

/* {"pixels": [{"x", "y"}, ...]}: the array, or NULL with the error sent */
static JsonNode *
pixels_of (SoupServerMessage *msg, JsonNode *body)
{
  JsonObject *o;
  g_autoptr (GList) members = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "expected a JSON object");
    return NULL;
  }
  o = json_node_get_object (body);
  members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_str_equal (l->data, "pixels")) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: unknown field",
          (gchar *) l->data);
      return NULL;
    }
  if (!json_object_has_member (o, "pixels")) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "pixels",
        "pixels: an array of {\"x\", \"y\"} is required");
    return NULL;
  }
  return json_object_get_member (o, "pixels");
}

static void
add_or_remove (TcdHttp *h, SoupServerMessage *msg, gboolean add)
{
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  TcdOrigin o = origin_of (msg, "dpc");
  JsonNode *pixels;
  gboolean ok;

  if (!(body = read_body (msg)) || !(pixels = pixels_of (msg, body)))
    return;
  ok = add ? tcd_dpc_add (h->ctx->dpc, pixels, &o, &err)
      : tcd_dpc_remove (h->ctx->dpc, pixels, &o, &err);
  if (!ok) {
    send_gerror (msg, err, tcd_error_get_field (err), NULL);
    return;
  }
  send_state (h, msg);
}

/* POST /image/dpc/add */
static void
handle_dpc_add (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  add_or_remove (h, msg, TRUE);
}

/* POST /image/dpc/remove */
static void
handle_dpc_remove (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  add_or_remove (h, msg, FALSE);
}

/* POST /image/dpc/correct and /image/dpc/cancel (no body) */
static void
correct_or_cancel (TcdHttp *h, SoupServerMessage *msg, gboolean correct)
{
  g_autoptr (GError) err = NULL;
  TcdOrigin o = origin_of (msg, "dpc");

  if (!(correct ? tcd_dpc_correct (h->ctx->dpc, &o, &err)
          : tcd_dpc_cancel (h->ctx->dpc, &o, &err))) {
    send_gerror (msg, err, tcd_error_get_field (err), NULL);
    return;
  }
  send_state (h, msg);
}

static void
handle_dpc_correct (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  correct_or_cancel (h, msg, TRUE);
}

static void
handle_dpc_cancel (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  correct_or_cancel (h, msg, FALSE);
}

/* POST /system/background-correction: as POST /system/ffc, one rate limit */
static void
handle_background (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdOrigin o = origin_of (msg, "background_correction");
  gint64 wait_us = 0;
  gboolean started = tcd_commands_background (h->ctx->commands, &o, &wait_us);

  send_correction (msg, started, wait_us);
}

const TcdRoute tcd_http_dpc_routes[] = {
  HTTP_ROUTE_P ("GET", "/image/dpc", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_dpc_get),
  HTTP_ROUTE_P ("POST", "/image/dpc/add", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_dpc_add),
  HTTP_ROUTE_P ("POST", "/image/dpc/remove", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_dpc_remove),
  HTTP_ROUTE_P ("POST", "/image/dpc/correct", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_dpc_correct),
  HTTP_ROUTE_P ("POST", "/image/dpc/cancel", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_dpc_cancel),
  HTTP_ROUTE_P ("POST", "/system/background-correction", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_background),
  HTTP_ROUTES_END
};
