/* thermocamd: HTTP routes of the configuration: its sections, the
 * measurement rules and the overlay picture
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"

#include <string.h>

#include "tc-json.h"
#include "tcd-json.h"

/* ---- sections ---- */

/* "rules[3].alarm.pre_alarm" -> "alarm.pre_alarm" for the routes of one rule */
static gchar *
strip_rule_prefix (const gchar *s)
{
  if (s && g_str_has_prefix (s, "rules[")) {
    const gchar *dot = strstr (s, "].");
    if (dot)
      return g_strdup (dot + 2);
  }
  return g_strdup (s);
}

/* @doc (taken) becomes the configuration; the answer is @answer (taken) with
 * @ok_status, or 204 without one */
void
http_change (TcdHttp *h, SoupServerMessage *msg, JsonNode *doc, const gchar *what,
    gboolean rule_route, guint ok_status, JsonNode *answer)
{
  g_autoptr (GError) err = NULL;
  TcdOrigin o = origin_of (msg, what);

  if (!tcd_change_commit (h->ctx->change, doc, &o, TCD_CHANGE_NONE, NULL, &err)) {
    if (rule_route) {
      /* the field and the message as seen from the one rule */
      g_autofree gchar *f = strip_rule_prefix (tcd_error_get_field (err));
      g_autofree gchar *m = strip_rule_prefix (err->message);
      send_gerror_message (msg, err, f, m);
    } else {
      send_gerror (msg, err, tcd_error_get_field (err), NULL);
    }
    if (answer)
      json_node_unref (answer);
    return;
  }
  if (answer) {
    send_json (msg, ok_status, answer);
    json_node_unref (answer);
  } else {
    soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
  }
}

static void
handle_config_get_all (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) shown = tcd_change_view (h->ctx->change, NULL);
  send_json (msg, SOUP_STATUS_OK, shown);
}

/* the section as the API shows it (secrets removed, read-only members added:
 * the section's policy on the change path) */
static void
send_section (TcdHttp *h, SoupServerMessage *msg, const gchar *section)
{
  g_autoptr (JsonNode) shown = tcd_change_view (h->ctx->change, section);
  send_json (msg, SOUP_STATUS_OK, shown);
}

/* the section of the path, or NULL with the 404 sent */
static const gchar *
section_of (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  /* {section}, or the last segment of a section's own row */
  const gchar *section = http_param (req, "section") ? http_param (req, "section")
      : req->match->n_segments ? req->match->segments[req->match->n_segments - 1] : NULL;

  if (!tcd_config_has_section (h->ctx->config, section)) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "section",
        "no configuration section \"%s\"", section);
    return NULL;
  }
  return section;
}

static void
handle_config_get (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  const gchar *section = section_of (h, msg, req);

  if (section)
    send_section (h, msg, section);
}

static void
handle_config_put (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  const gchar *section = section_of (h, msg, req);
  g_autoptr (JsonNode) patch = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *what = NULL;
  TcdOrigin o;

  if (!section || !(patch = read_body (msg)))
    return;
  what = g_strdup_printf ("config.%s", section);
  o = origin_of (msg, what);
  if (!tcd_change_commit (h->ctx->change, tcd_change_patched (h->ctx->change, section, patch),
          &o, TCD_CHANGE_NONE, NULL, &err)) {
    send_gerror (msg, err, tcd_error_get_field (err), NULL);
    return;
  }
  /* the answer is the section as it now is: computed after the change */
  send_section (h, msg, section);
}

/* ---- rules ---- */

static gint
find_rule (JsonArray *rules, gint64 id)
{
  for (guint i = 0; i < json_array_get_length (rules); i++) {
    JsonObject *r = tc_json_array_get_object (rules, i);
    if (r && tc_json_get_int (r, "id", -1) == id)
      return i;
  }
  return -1;
}

static JsonArray *
rules_of (TcdHttp *h)
{
  return json_node_get_array (tcd_config_get_section (h->ctx->config, "rules"));
}

/* the rule {id} of the path: its index, or -1 with the 404 sent */
static gint
rule_of (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req, gint64 *id)
{
  const gchar *id_str = http_param (req, "id");
  gchar *end;
  gint idx = -1;

  *id = g_ascii_strtoll (id_str, &end, 10);
  if (*end || *id <= 0 || (idx = find_rule (rules_of (h), *id)) < 0) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "id", "no rule %s", id_str);
    return -1;
  }
  return idx;
}

static void
handle_rules_list (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  send_json (msg, SOUP_STATUS_OK, tcd_config_get_section (h->ctx->config, "rules"));
}

static void
handle_rule_get (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  gint64 id;
  gint idx = rule_of (h, msg, req, &id);

  if (idx >= 0)
    send_json (msg, SOUP_STATUS_OK, json_array_get_element (rules_of (h), idx));
}

static void
handle_rule_delete (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdConfig *cfg = h->ctx->config;
  JsonArray *cmps;
  JsonNode *doc;
  gint64 id;
  gint idx = rule_of (h, msg, req, &id);

  if (idx < 0)
    return;
  cmps = json_node_get_array (tcd_config_get_section (cfg, "comparisons"));
  for (guint i = 0; i < json_array_get_length (cmps); i++) {
    JsonArray *pair = tc_json_get_array (tc_json_array_get_object (cmps, i), "rules");
    for (guint k = 0; pair && k < json_array_get_length (pair); k++)
      if (tc_json_array_get_int (pair, k, 0) == id) {
        g_autofree gchar *f = g_strdup_printf ("comparisons[%u].rules", i);
        send_error (msg, SOUP_STATUS_CONFLICT, "in_use", f,
            "rule %" G_GINT64_FORMAT " is used by a comparison: delete or change it first", id);
        return;
      }
  }
  doc = tcd_json_deep_copy (tcd_config_get (cfg));
  json_array_remove_element (json_node_get_array (tcd_config_node (doc, "rules")), idx);
  http_change (h, msg, doc, "rules.delete", TRUE, SOUP_STATUS_NO_CONTENT, NULL);
}

/* the body of POST and PUT: a JSON object, or NULL with the error sent */
static JsonNode *
rule_body (SoupServerMessage *msg)
{
  JsonNode *body = read_body (msg);

  if (body && !JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "a rule is a JSON object");
    json_node_unref (body);
    return NULL;
  }
  return body;
}

static void
handle_rule_create (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  JsonArray *rules = rules_of (h);
  g_autoptr (JsonNode) body = rule_body (msg);
  g_autofree gchar *loc = NULL;
  JsonNode *doc, *rule, *given;
  JsonObject *o;
  gint64 max = 0, new_id;

  if (!body)
    return;
  o = json_node_get_object (body);
  given = json_object_get_member (o, "id");
  for (guint i = 0; i < json_array_get_length (rules); i++)
    max = MAX (max, tc_json_get_int (tc_json_array_get_object (rules, i), "id", 0));
  new_id = max + 1;
  if (given && JSON_NODE_HOLDS_VALUE (given)
      && json_node_get_value_type (given) == G_TYPE_INT64) {
    /* a free id is kept (a rule written as the README's); the schema
     * checks its range */
    new_id = json_node_get_int (given);
    if (find_rule (rules, new_id) >= 0) {
      send_error (msg, SOUP_STATUS_CONFLICT, "exists", "id", "id: rule %" G_GINT64_FORMAT
          " exists (PUT /api/v1/rules/%" G_GINT64_FORMAT " changes it; leave id out for a"
          " new one)", new_id, new_id);
      return;
    }
  }
  rule = tcd_json_deep_copy (body);
  if (!given)
    json_object_set_int_member (json_node_get_object (rule), "id", new_id);
  /* else a wrong id stays for the schema to name */
  if (!json_object_has_member (json_node_get_object (rule), "enabled"))
    json_object_set_boolean_member (json_node_get_object (rule), "enabled", TRUE);
  doc = tcd_json_deep_copy (tcd_config_get (h->ctx->config));
  json_array_add_element (json_node_get_array (tcd_config_node (doc, "rules")),
      json_node_ref (rule));
  loc = g_strdup_printf (API "rules/%" G_GINT64_FORMAT, new_id);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
      loc);
  http_change (h, msg, doc, "rules.create", TRUE, SOUP_STATUS_CREATED, rule);
}

/* PUT: the fields named change, the rest stays */
static void
handle_rule_update (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) body = NULL;
  JsonArray *new_rules, *rebuilt;
  JsonNode *doc, *merged;
  JsonObject *o;
  gint64 id;
  gint idx = rule_of (h, msg, req, &id);

  if (idx < 0 || !(body = rule_body (msg)))
    return;
  o = json_node_get_object (body);
  if (json_object_has_member (o, "id")
      && (!JSON_NODE_HOLDS_VALUE (json_object_get_member (o, "id"))
          || tc_json_get_int (o, "id", 0) != id)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "id",
        "id: the id of a rule cannot change");
    return;
  }
  doc = tcd_json_deep_copy (tcd_config_get (h->ctx->config));
  new_rules = json_node_get_array (tcd_config_node (doc, "rules"));
  merged = tc_json_merge (json_array_get_element (new_rules, idx), body);
  /* json-glib has no insert or replace: rebuild the array in order */
  rebuilt = json_array_new ();
  for (guint i = 0; i < json_array_get_length (new_rules); i++)
    json_array_add_element (rebuilt, (gint) i == idx ? json_node_ref (merged)
        : tcd_json_deep_copy (json_array_get_element (new_rules, i)));
  json_object_set_array_member (json_node_get_object (doc), "rules", rebuilt);
  http_change (h, msg, doc, "rules.update", TRUE, SOUP_STATUS_OK, merged);
}

/* ---- the overlay picture (manual 7.4) ---- */

/* a 24-bit uncompressed BMP of at most 128x128 (the manual's limits) */
gboolean
picture_ok (const guint8 *d, gsize len, GError **error)
{
  gint32 w, hh;

  if (len < 54 || d[0] != 'B' || d[1] != 'M') {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the picture is not a BMP file");
    return FALSE;
  }
  w = (gint32) GST_READ_UINT32_LE (d + 18);
  hh = (gint32) GST_READ_UINT32_LE (d + 22);
  if (GST_READ_UINT16_LE (d + 28) != 24 || GST_READ_UINT32_LE (d + 30) != 0) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the picture must be a 24-bit uncompressed BMP");
    return FALSE;
  }
  if (w < 1 || w > 128 || ABS (hh) < 1 || ABS (hh) > 128
      || GST_READ_UINT32_LE (d + 10) + (gsize) ((w * 3 + 3) & ~3) * ABS (hh) > len) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the picture must be 1x1 to 128x128 pixels and complete (got %dx%d)", w, ABS (hh));
    return FALSE;
  }
  return TRUE;
}

static gchar *
picture_path (TcdHttp *h)
{
  return g_build_filename (h->ctx->state_dir, "overlay.bmp", NULL);
}

static void
handle_picture_get (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autofree gchar *path = picture_path (h);
  g_autofree gchar *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, NULL)) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no picture uploaded");
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "image/bmp", SOUP_MEMORY_TAKE,
      g_steal_pointer (&data), len);
}

static void
handle_picture_put (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autofree gchar *path = picture_path (h);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body
      (msg));
  g_autoptr (GError) err = NULL;
  gsize len;
  const guint8 *d = g_bytes_get_data (bytes, &len);

  if (!picture_ok (d, len, &err)) {
    send_gerror (msg, err, "picture", NULL);
    return;
  }
  if (!g_file_set_contents_full (path, (const gchar *) d, len,
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, &err)) {
    send_gerror (msg, err, NULL, NULL);
    return;
  }
  /* the OSD reads the file again when it is set again */
  tcd_pipeline_reload_picture (h->ctx->pipeline);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

const TcdRoute tcd_http_config_routes[] = {
  HTTP_ROUTE_P ("GET", "/config", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_config_get_all),
  HTTP_ROUTE_P ("GET", "/config/{section}", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_config_get),
  HTTP_ROUTE_P ("PUT", "/config/{section}", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_config_put),
  /* sections that need more than the rows above (a literal path wins over
   * {section}): the serial port's settings are the serial permission's; the
   * network chapter (TCP/IP with DDNS, QoS, 802.1X and SSH; the ports; SNMP;
   * UPnP; ONVIF with its own users) is read with parameters and changed by
   * the administrator only: a change there can cut the camera off (issue 18) */
  HTTP_ROUTE_P ("GET", "/config/rs485", TCD_LEVEL_OPERATOR, TCD_PERM_SERIAL, handle_config_get),
  HTTP_ROUTE_P ("PUT", "/config/rs485", TCD_LEVEL_OPERATOR, TCD_PERM_SERIAL, handle_config_put),
  HTTP_ROUTE_P ("GET", "/config/serial", TCD_LEVEL_OPERATOR, TCD_PERM_SERIAL, handle_config_get),
  HTTP_ROUTE_P ("PUT", "/config/serial", TCD_LEVEL_OPERATOR, TCD_PERM_SERIAL, handle_config_put),
  HTTP_ROUTE_P ("GET", "/config/network", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_config_get),
  HTTP_ROUTE_P ("PUT", "/config/network", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_PARAMETERS, handle_config_put),
  HTTP_ROUTE_P ("GET", "/config/ports", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_config_get),
  HTTP_ROUTE_P ("PUT", "/config/ports", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_PARAMETERS, handle_config_put),
  HTTP_ROUTE_P ("GET", "/config/snmp", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_config_get),
  HTTP_ROUTE_P ("PUT", "/config/snmp", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_PARAMETERS, handle_config_put),
  HTTP_ROUTE_P ("GET", "/config/upnp", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_config_get),
  HTTP_ROUTE_P ("PUT", "/config/upnp", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_PARAMETERS, handle_config_put),
  HTTP_ROUTE_P ("GET", "/config/onvif", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_config_get),
  HTTP_ROUTE_P ("PUT", "/config/onvif", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_PARAMETERS, handle_config_put),
  HTTP_ROUTE_P ("GET", "/rules", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_rules_list),
  HTTP_ROUTE_P ("POST", "/rules", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_rule_create),
  HTTP_ROUTE_P ("GET", "/rules/{id}", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_rule_get),
  HTTP_ROUTE_P ("PUT", "/rules/{id}", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_rule_update),
  HTTP_ROUTE_P ("DELETE", "/rules/{id}", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_rule_delete),
  HTTP_ROUTE_P ("GET", "/osd/picture", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_picture_get),
  HTTP_ROUTE_P ("PUT", "/osd/picture", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_picture_put),
  HTTP_ROUTES_END
};
