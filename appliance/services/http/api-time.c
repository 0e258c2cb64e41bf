/* thermocamd: HTTP routes of the device's time (manual 10.8): what time it
 * is, setting it by hand or from the computer's clock, and the NTP Test
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"

#include <string.h>

#include "tcd-clock.h"
#include "tcd-timesync.h"

/* 2000-01-01 .. 2099-12-31: a time outside is a mistake, not a setting */
#define MIN_SET_US (G_GINT64_CONSTANT (946684800) * G_USEC_PER_SEC)
#define MAX_SET_US (G_GINT64_CONSTANT (4102444799) * G_USEC_PER_SEC)

static gchar *
iso_ms (GDateTime *dt)
{
  g_autofree gchar *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  g_autofree gchar *zone = g_date_time_format (dt, "%:z");
  return g_strdup_printf ("%s.%03d%s", base, g_date_time_get_microsecond (dt) / 1000,
      g_str_equal (zone, "+00:00") && g_time_zone_get_offset (g_date_time_get_timezone (dt),
          0) == 0 ? "Z" : zone);
}

/* GET /time */
static void
handle_time (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  gint64 now = tcd_clock_now_utc ();
  g_autoptr (GDateTime) local = tcd_clock_to_local (now);
  g_autoptr (GDateTime) utc = g_date_time_to_utc (local);
  g_autofree gchar *zone = tcd_clock_get_zone_identifier ();
  g_autofree gchar *u = iso_ms (utc), *l = iso_ms (local);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "utc");
  json_builder_add_string_value (b, u);
  json_builder_set_member_name (b, "local");
  json_builder_add_string_value (b, l);
  json_builder_set_member_name (b, "epoch_ms");
  json_builder_add_int_value (b, now / 1000);
  json_builder_set_member_name (b, "offset_ms");
  json_builder_add_double_value (b, tcd_clock_get_offset () / 1000.0);
  json_builder_set_member_name (b, "timezone");
  json_builder_add_string_value (b, tcd_config_string (h->ctx->config, "time.timezone"));
  json_builder_set_member_name (b, "zone");
  json_builder_add_string_value (b, zone);
  json_builder_set_member_name (b, "utc_offset_s");
  json_builder_add_int_value (b, g_date_time_get_utc_offset (local) / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "dst");
  json_builder_add_boolean_value (b, g_date_time_is_daylight_savings (local));
  json_builder_set_member_name (b, "ntp");
  json_builder_add_value (b, tcd_timesync_status (h->ctx->timesync));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

/* PUT /time {"utc": ISO 8601 with a zone} or {"epoch_ms": N}: manual set,
 * or the computer's time the page sends */
static void
handle_time_set (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GList) members = NULL;
  JsonObject *o;
  JsonNode *utc, *ms;
  gint64 want, before = tcd_clock_now_utc ();

  if (!(body = read_body (msg)))
    return;
  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "expected a JSON object");
    return;
  }
  o = json_node_get_object (body);
  members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_str_equal (l->data, "utc") && !g_str_equal (l->data, "epoch_ms")) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: unknown field",
          (gchar *) l->data);
      return;
    }
  utc = json_object_get_member (o, "utc");
  ms = json_object_get_member (o, "epoch_ms");
  if ((utc != NULL) == (ms != NULL)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "utc",
        "utc: give the time as utc (ISO 8601) or epoch_ms");
    return;
  }
  if (utc) {
    g_autoptr (GDateTime) dt = NULL;
    if (!JSON_NODE_HOLDS_VALUE (utc) || json_node_get_value_type (utc) != G_TYPE_STRING
        || strlen (json_node_get_string (utc)) > 40
        || !(dt = g_date_time_new_from_iso8601 (json_node_get_string (utc), NULL))) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "utc",
          "utc: an ISO 8601 date and time with its zone, e.g. 2026-03-01T12:00:00Z");
      return;
    }
    want = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
  } else {
    if (!JSON_NODE_HOLDS_VALUE (ms) || json_node_get_value_type (ms) != G_TYPE_INT64) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "epoch_ms",
          "epoch_ms: an integer is required");
      return;
    }
    want = json_node_get_int (ms);
    if (want < MIN_SET_US / 1000 || want > MAX_SET_US / 1000) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "epoch_ms",
          "epoch_ms: between 2000 and 2099");
      return;
    }
    want *= 1000;
  }
  if (want < MIN_SET_US || want > MAX_SET_US) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", utc ? "utc" : "epoch_ms",
        "%s: between 2000 and 2099", utc ? "utc" : "epoch_ms");
    return;
  }
  if (tcd_config_bool (h->ctx->config, "time.ntp.enabled")) {
    send_error (msg, SOUP_STATUS_CONFLICT, "ntp_enabled", "time.ntp.enabled",
        "the time comes from the NTP server: switch time.ntp.enabled off to set it by hand");
    return;
  }
  tcd_clock_set_now (want);
  {
    g_autoptr (GDateTime) a = g_date_time_new_from_unix_utc (before / G_USEC_PER_SEC);
    g_autoptr (GDateTime) z = g_date_time_new_from_unix_utc (want / G_USEC_PER_SEC);
    g_autofree gchar *as = g_date_time_format_iso8601 (a), *zs = g_date_time_format_iso8601 (z);
    tcd_audit (h->ctx->security, "system", who_user (msg), address_of (msg),
        "set the time to %s (was %s)", zs, as);
  }
  handle_time (h, msg, req);
}

typedef struct {
  SoupServerMessage *msg;
  gchar *server;
  guint port;
} TestReq;

/* Tests under way, all clients together: each holds a socket for at most
 * time.ntp.timeout_ms */
#define MAX_TESTS 4
static guint tests_running;

static void
ntp_tested (GObject *src, GAsyncResult *res, gpointer data)
{
  TestReq *t = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (TcdSntpResult) r = tcd_timesync_test_finish (res, &err);

  if (!r) {
    send_error (t->msg, g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
        ? SOUP_STATUS_GATEWAY_TIMEOUT : SOUP_STATUS_BAD_GATEWAY, "ntp_failed", NULL,
        "%s:%u: %s", t->server, t->port, err->message);
  } else {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    g_autoptr (GDateTime) s = g_date_time_new_from_unix_utc (r->server_us / G_USEC_PER_SEC);
    g_autoptr (GDateTime) sm = s ? g_date_time_add (s, r->server_us % G_USEC_PER_SEC) : NULL;
    g_autofree gchar *st = sm ? iso_ms (sm) : g_strdup ("");

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "ok");
    json_builder_add_boolean_value (b, TRUE);
    json_builder_set_member_name (b, "server");
    json_builder_add_string_value (b, t->server);
    json_builder_set_member_name (b, "port");
    json_builder_add_int_value (b, t->port);
    json_builder_set_member_name (b, "address");
    json_builder_add_string_value (b, r->address ? r->address : "");
    json_builder_set_member_name (b, "stratum");
    json_builder_add_int_value (b, r->stratum);
    json_builder_set_member_name (b, "version");
    json_builder_add_int_value (b, r->version);
    /* the server's time less the device's */
    json_builder_set_member_name (b, "offset_ms");
    json_builder_add_double_value (b, (r->offset_us - tcd_clock_get_offset ()) / 1000.0);
    json_builder_set_member_name (b, "delay_ms");
    json_builder_add_double_value (b, r->delay_us / 1000.0);
    json_builder_set_member_name (b, "server_time");
    json_builder_add_string_value (b, st);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    send_json (t->msg, SOUP_STATUS_OK, root);
  }
  soup_server_message_unpause (t->msg);
  g_object_unref (t->msg);
  g_free (t->server);
  g_free (t);
  tests_running--;
}

static gboolean
server_ok (const gchar *s)
{
  if (!s || !*s || strlen (s) > 253)
    return FALSE;
  for (const gchar *p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("._-:", *p))
      return FALSE;
  return TRUE;
}

/* POST /time/ntp/test: the saved server, or {"server", "port"} before
 * saving them; the clock is not touched */
static void
handle_ntp_test (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  SoupMessageBody *rb = soup_server_message_get_request_body (msg);
  const gchar *server = tcd_config_string (h->ctx->config, "time.ntp.server");
  gint64 port = tcd_config_int (h->ctx->config, "time.ntp.port");
  guint timeout = tcd_config_int (h->ctx->config, "time.ntp.timeout_ms");
  g_autoptr (JsonNode) body = NULL;
  TestReq *t;

  if (rb->length > 0) {
    JsonObject *o;
    g_autoptr (GList) members = NULL;
    JsonNode *n;

    if (!(body = read_body (msg)))
      return;
    if (!JSON_NODE_HOLDS_OBJECT (body)) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "expected a JSON object");
      return;
    }
    o = json_node_get_object (body);
    members = json_object_get_members (o);
    for (GList *l = members; l; l = l->next)
      if (!g_str_equal (l->data, "server") && !g_str_equal (l->data, "port")) {
        send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: unknown field",
            (gchar *) l->data);
        return;
      }
    if ((n = json_object_get_member (o, "server"))) {
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING
          || !server_ok (json_node_get_string (n))) {
        send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "server",
            "server: an IP address or a host name");
        return;
      }
      server = json_node_get_string (n);
    }
    if ((n = json_object_get_member (o, "port"))) {
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64
          || json_node_get_int (n) < 1 || json_node_get_int (n) > 65535) {
        send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "port", "port: 1..65535");
        return;
      }
      port = json_node_get_int (n);
    }
  }
  if (!server_ok (server)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "server",
        "server: no NTP server is set");
    return;
  }
  if (tests_running >= MAX_TESTS) {
    send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too_many_clients", NULL,
        "%u NTP tests are under way: try again in a moment", tests_running);
    return;
  }
  tests_running++;
  t = g_new0 (TestReq, 1);
  t->msg = g_object_ref (msg);
  t->server = g_strdup (server);
  t->port = port;
  soup_server_message_pause (msg);
  tcd_timesync_test_async (h->ctx->timesync, server, port, timeout, NULL, ntp_tested, t);
}

const TcdRoute tcd_http_time_routes[] = {
  HTTP_ROUTE_P ("GET", "/time", TCD_LEVEL_USER, TCD_PERM_NONE, handle_time),
  HTTP_ROUTE_P ("PUT", "/time", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_time_set),
  HTTP_ROUTE_P ("POST", "/time/ntp/test", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_ntp_test),
  HTTP_ROUTES_END
};
