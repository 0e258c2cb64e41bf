/* thermocamd: HTTP routes of the linkage: alarm inputs and outputs, the
 * event state, arming schedules, and the tests of FTP, email and the
 * alarm center
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"

#include <string.h>

#include "tc-json.h"
#include "tcd-events.h"
#include "tcd-json.h"
#include "tcd-schedule.h"

static gboolean
parse_channel (SoupServerMessage *msg, const gchar *s, guint *id)
{
  gchar *end;
  guint64 v = g_ascii_strtoull (s, &end, 10);

  if (*end || v < 1 || v > TCD_IO_CHANNELS) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "id", "no channel %s (1..%d)", s,
        TCD_IO_CHANNELS);
    return FALSE;
  }
  *id = v;
  return TRUE;
}

static void
send_io (TcdHttp *h, SoupServerMessage *msg)
{
  g_autoptr (JsonNode) st = tcd_alarmio_status (tcd_events_get_io (h->ctx->events));
  send_json (msg, SOUP_STATUS_OK, st);
}

static void
handle_io_get (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  send_io (h, msg);
}

/* PUT /io/network {"link", "ip_conflict"}: the network exceptions, simulated */
static void
handle_io_network (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  static const gchar *const allowed[] = { "link", "ip_conflict", NULL };
  g_autoptr (JsonNode) body = NULL, st = NULL;
  g_autoptr (GList) members = NULL;
  gint link = -1, conflict = -1;
  JsonObject *o;

  if (!(body = read_body (msg)))
    return;
  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "expected a JSON object");
    return;
  }
  o = json_node_get_object (body);
  members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (allowed, l->data)) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: unknown field",
          (gchar *) l->data);
      return;
    }
  if (json_object_has_member (o, "link")) {
    const gchar *v = tc_json_get_string (o, "link", "");
    if (!g_str_equal (v, "up") && !g_str_equal (v, "down")) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "link", "link: \"up\" or \"down\"");
      return;
    }
    link = g_str_equal (v, "up");
  }
  if (json_object_has_member (o, "ip_conflict")) {
    JsonNode *v = json_object_get_member (o, "ip_conflict");
    if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_BOOLEAN) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "ip_conflict",
          "ip_conflict: true or false");
      return;
    }
    conflict = json_node_get_boolean (v);
  }
  tcd_events_simulate_network (h->ctx->events, link, conflict);
  st = tcd_events_state (h->ctx->events);
  send_json (msg, SOUP_STATUS_OK, tcd_config_node (st, "network"));
}

/* PUT /io/inputs/{id} {"contact": "open" | "closed"} (simulated inputs) */
static void
handle_io_input (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  const gchar *contact;
  guint id;

  if (!parse_channel (msg, http_param (req, "id"), &id) || !(body = read_body (msg)))
    return;
  contact = JSON_NODE_HOLDS_OBJECT (body) ? tc_json_get_string (
      json_node_get_object (body), "contact", NULL) : NULL;
  if (!contact || (!g_str_equal (contact, "open") && !g_str_equal (contact, "closed"))
      || json_object_get_size (json_node_get_object (body)) != 1) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "contact",
        "expected {\"contact\": \"open\" | \"closed\"}");
    return;
  }
  if (!tcd_alarmio_set_contact (tcd_events_get_io (h->ctx->events), id,
          g_str_equal (contact, "closed"), &err)) {
    send_gerror (msg, err, NULL, NULL);
    return;
  }
  send_io (h, msg);
}

static void
output_by_hand (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req, gboolean trigger)
{
  TcdOrigin o = origin_of (msg, "io");
  guint id;

  if (!parse_channel (msg, http_param (req, "id"), &id))
    return;
  tcd_commands_output (h->ctx->commands, id, trigger, FALSE, &o, NULL);
  send_io (h, msg);
}

static void
handle_output_trigger (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  output_by_hand (h, msg, req, TRUE);
}

static void
handle_output_clear (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  output_by_hand (h, msg, req, FALSE);
}

static void
handle_events_state (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) st = tcd_events_state (h->ctx->events);
  send_json (msg, SOUP_STATUS_OK, st);
}

/* POST /events/schedule-copy {"source", "from", "to": [...]} */
static const gchar *
schedule_path (const gchar *source, gchar **owned)
{
  static const gchar *const fixed[][2] = {
    {"scene", "events.scene"}, {"rules", "events.rules"},
    {"comparisons", "events.comparisons"}, {"environment", "environment_alarm"},
    {"timed_capture", "capture.timed"},
  };
  gchar *end;
  guint64 id;

  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    if (g_str_equal (source, fixed[i][0]))
      return fixed[i][1];
  if (g_str_has_prefix (source, "input-") || g_str_has_prefix (source, "output-")) {
    gboolean in = source[0] == 'i';
    id = g_ascii_strtoull (source + (in ? 6 : 7), &end, 10);
    if (!*end && id >= 1 && id <= TCD_IO_CHANNELS)
      return *owned = g_strdup_printf ("%s%" G_GUINT64_FORMAT, in ? "alarm_inputs.inputs#"
          : "alarm_outputs.outputs#", id);
  }
  return NULL;
}

static void
handle_schedule_copy (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) body = NULL, copied = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *owned = NULL;
  g_autofree const gchar **to = NULL;
  const gchar *source, *from, *path;
  JsonObject *o, *owner = NULL;
  JsonArray *ta;
  JsonNode *doc;

  if (!(body = read_body (msg)))
    return;
  o = JSON_NODE_HOLDS_OBJECT (body) ? json_node_get_object (body) : NULL;
  source = o ? tc_json_get_string (o, "source", NULL) : NULL;
  from = o ? tc_json_get_string (o, "from", NULL) : NULL;
  ta = o && json_object_has_member (o, "to")
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "to"))
      ? tc_json_get_array (o, "to") : NULL;
  if (!source || !(path = schedule_path (source, &owned))) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "source", "source: one of scene, "
        "rules, comparisons, environment, timed_capture, input-N, output-N");
    return;
  }
  if (!from || !ta) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", from ? "to" : "from",
        "expected {\"source\": ..., \"from\": \"monday\", \"to\": [\"tuesday\", ...]}");
    return;
  }
  to = g_new0 (const gchar *, json_array_get_length (ta) + 1);
  for (guint i = 0; i < json_array_get_length (ta); i++) {
    JsonNode *v = json_array_get_element (ta, i);
    if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "to", "to: weekday names");
      return;
    }
    to[i] = json_node_get_string (v);
  }
  doc = tcd_json_deep_copy (tcd_config_get (h->ctx->config));
  if (strchr (path, '#')) {
    g_auto (GStrv) parts = g_strsplit (path, "#", 2);
    JsonArray *a = json_node_get_array (tcd_config_node (doc, parts[0]));
    for (guint i = 0; i < json_array_get_length (a); i++)
      if (tc_json_get_int (tc_json_array_get_object (a, i), "id", 0)
          == g_ascii_strtoll (parts[1], NULL, 10))
        owner = tc_json_array_get_object (a, i);
  } else {
    owner = json_node_get_object (tcd_config_node (doc, path));
  }
  if (!owner) {
    json_node_unref (doc);
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "from", "no such source");
    return;
  }
  if (!(copied = tcd_schedule_copy_day (json_object_get_member (owner, "schedule"), from, to,
              &err))) {
    json_node_unref (doc);
    send_gerror (msg, err, tcd_error_get_field (err), NULL);
    return;
  }
  json_object_set_member (owner, "schedule", json_node_ref (copied));
  {
    g_autofree gchar *what = g_strdup_printf ("schedule of %s: %s copied", source, from);
    http_change (h, msg, doc, what, FALSE, SOUP_STATUS_OK, json_node_ref (copied));
  }
}

typedef struct {
  SoupServerMessage *msg;
  gchar *what;
} TestReq;

static void
settings_tested (GError *error, gpointer user_data)
{
  TestReq *t = user_data;

  if (error) {
    send_error (t->msg, SOUP_STATUS_BAD_GATEWAY, "transfer_failed", NULL, "%s",
        error->message);
  } else {
    g_autoptr (JsonNode) ok = tc_json_parse ("{\"ok\": true}", -1, 0, NULL);
    send_json (t->msg, SOUP_STATUS_OK, ok);
  }
  soup_server_message_unpause (t->msg);
  g_object_unref (t->msg);
  g_free (t->what);
  g_free (t);
}

/* POST /ftp/test, /email/test, /center/test: the saved settings, or the
 * body (a patch of the section, as a PUT would send) before saving them */
static void
settings_test (TcdHttp *h, SoupServerMessage *msg, const gchar *what)
{
  SoupMessageBody *rb = soup_server_message_get_request_body (msg);
  g_autoptr (JsonNode) body = NULL, doc = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *field = NULL;
  TestReq *t;

  if (rb->length > 0) {
    if (!(body = read_body (msg)))
      return;
    /* as a PUT would take it: the section's policy (passwords) first */
    doc = tcd_change_patched (h->ctx->change, what, body);
    if (!tcd_config_check (h->ctx->config, doc, &field, &err)) {
      send_gerror (msg, err, field, NULL);
      return;
    }
  }
  t = g_new0 (TestReq, 1);
  t->msg = g_object_ref (msg);
  t->what = g_strdup (what);
  soup_server_message_pause (msg);
  tcd_events_test (h->ctx->events, what, doc ? tcd_config_node (doc, what) : NULL,
      settings_tested, t);
}

static void
handle_ftp_test (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  settings_test (h, msg, "ftp");
}

static void
handle_email_test (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  settings_test (h, msg, "email");
}

static void
handle_center_test (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  settings_test (h, msg, "center");
}

const TcdRoute tcd_http_io_routes[] = {
  HTTP_ROUTE_P ("GET", "/io", TCD_LEVEL_OPERATOR, TCD_PERM_ALARM_OUTPUT, handle_io_get),
  HTTP_ROUTE_P ("PUT", "/io/network", TCD_LEVEL_OPERATOR, TCD_PERM_ALARM_OUTPUT, handle_io_network),
  HTTP_ROUTE_P ("PUT", "/io/inputs/{id}", TCD_LEVEL_OPERATOR, TCD_PERM_ALARM_OUTPUT, handle_io_input),
  HTTP_ROUTE_P ("POST", "/io/outputs/{id}/trigger", TCD_LEVEL_OPERATOR, TCD_PERM_ALARM_OUTPUT, handle_output_trigger),
  HTTP_ROUTE_P ("POST", "/io/outputs/{id}/clear", TCD_LEVEL_OPERATOR, TCD_PERM_ALARM_OUTPUT, handle_output_clear),
  HTTP_ROUTE_P ("GET", "/events/state", TCD_LEVEL_OPERATOR, TCD_PERM_LOG_STATUS, handle_events_state),
  HTTP_ROUTE_P ("POST", "/events/schedule-copy", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_schedule_copy),
  HTTP_ROUTE_P ("POST", "/ftp/test", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_ftp_test),
  HTTP_ROUTE_P ("POST", "/email/test", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_email_test),
  HTTP_ROUTE_P ("POST", "/center/test", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_center_test),
  HTTP_ROUTES_END
};
