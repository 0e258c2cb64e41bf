/* thermocamd: HTTP routes of the device and the system: what the device is,
 * its activation, diagnostics, reboot, flat-field correction, restore and
 * factory default, and the documents it serves (the API, the schemas)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"

#include <string.h>
#include <unistd.h>

#include "tcd-events.h"
#include "tcd-readings.h"

/* what the live view shows and in which units (manual 3.1 Local, 10.11),
 * for every account: a user reads no configuration */
static void
device_display (TcdContext *ctx, JsonBuilder *b)
{
  gdouble lo, hi;
  gboolean same = tcd_config_bool (ctx->config, "units.same_unit");

  tcd_reading_range (ctx->config, &lo, &hi);
  json_builder_set_member_name (b, "display");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "temperature_unit");
  json_builder_add_string_value (b, tcd_config_string (ctx->config,
          same ? "units.temperature" : "thermometry.unit"));
  json_builder_set_member_name (b, "distance_unit");
  json_builder_add_string_value (b, same
      ? tcd_config_string (ctx->config, "units.distance") : "metre");
  json_builder_set_member_name (b, "temperature_info");
  json_builder_add_boolean_value (b, tcd_config_bool (ctx->config,
          "thermometry.live_temperature_info"));
  json_builder_set_member_name (b, "rules");
  json_builder_add_boolean_value (b, tcd_config_bool (ctx->config, "thermometry.live_rules"));
  json_builder_set_member_name (b, "temperature_range");
  json_builder_begin_array (b);
  json_builder_add_double_value (b, lo);
  json_builder_add_double_value (b, hi);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static void
handle_device (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdContext *ctx = h->ctx;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  gint w, hh, fps;
  g_autofree gchar *gst = gst_version_string ();

  tcd_pipeline_get_format (ctx->pipeline, &w, &hh, &fps);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "device_name");
  json_builder_add_string_value (b, tcd_config_string (ctx->config, "device.name"));
  json_builder_set_member_name (b, "device_number");
  json_builder_add_int_value (b, tcd_config_int (ctx->config, "device.number"));
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, g_str_has_prefix (ctx->source, "sim")
      ? "thermocam TC-640 (simulated sensor)" : "thermocam TC-640");
  json_builder_set_member_name (b, "serial_number");
  json_builder_add_string_value (b, ctx->serial);
  json_builder_set_member_name (b, "firmware_version");
  json_builder_add_string_value (b, tcd_upgrade_version (ctx->upgrade));
  json_builder_set_member_name (b, "firmware_build");
  json_builder_add_string_value (b, __DATE__);
  json_builder_set_member_name (b, "gstreamer");
  json_builder_add_string_value (b, gst);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, ctx->source);
  json_builder_set_member_name (b, "sensor");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, hh);
  json_builder_set_member_name (b, "frame_rate");
  json_builder_add_int_value (b, fps);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "channels");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "alarm_inputs");
  json_builder_add_int_value (b, TCD_IO_CHANNELS);
  json_builder_set_member_name (b, "alarm_outputs");
  json_builder_add_int_value (b, TCD_IO_CHANNELS);
  json_builder_set_member_name (b, "uptime_seconds");
  json_builder_add_int_value (b, (g_get_monotonic_time () - ctx->started_us) / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "activated");
  json_builder_add_boolean_value (b, tcd_users_is_activated (ctx->users));
  about_device_members (h, b);
  device_display (ctx, b);
  hardware_device_members (h, b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

/* POST /activate: the only route before activation (the gate lets it
 * through), with no credentials */
static void
handle_activate (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  JsonObject *o;
  JsonNode *pw;
  g_autoptr (GList) members = NULL;

  if (tcd_users_is_activated (h->ctx->users)) {
    send_error (msg, SOUP_STATUS_CONFLICT, "already_activated", NULL,
        "the device is already activated");
    return;
  }
  if (!(body = read_body (msg)))
    return;
  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL,
        "expected an object {\"password\": \"...\"}");
    return;
  }
  o = json_node_get_object (body);
  members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_str_equal (l->data, "password")) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: unknown field",
          (gchar *) l->data);
      return;
    }
  pw = json_object_get_member (o, "password");
  if (!pw || !JSON_NODE_HOLDS_VALUE (pw) || json_node_get_value_type (pw) != G_TYPE_STRING) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "password",
        "password: a string is required");
    return;
  }
  {
    TcdOrigin origin = origin_of (msg, "activate");
    if (!tcd_commands_activate (h->ctx->commands, json_node_get_string (pw), &origin, &err)) {
      send_gerror (msg, err, "password", "password: ");
      return;
    }
  }
  {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "activated");
    json_builder_add_boolean_value (b, TRUE);
    json_builder_set_member_name (b, "user");
    json_builder_add_string_value (b, "admin");
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    send_json (msg, SOUP_STATUS_OK, root);
  }
}

/* the counters of GET /system/diagnostics (and of the archive, api-maint.c) */
JsonNode *
http_diagnostics (TcdHttp *h)
{
  TcdContext *ctx = h->ctx;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *stat = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "uptime_seconds");
  json_builder_add_int_value (b, (g_get_monotonic_time () - ctx->started_us) / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "reboots");
  json_builder_add_int_value (b, tcd_services_get_restarts (ctx->services));
  json_builder_set_member_name (b, "pipeline");
  json_builder_add_value (b, tcd_pipeline_stats (ctx->pipeline));
  {
    /* every service of the table: "rtsp", "http", "modbus", ... */
    g_autoptr (JsonNode) services = tcd_services_stats (ctx->services);
    JsonObject *so = json_node_get_object (services);
    g_autoptr (GList) names = json_object_get_members (so);
    for (GList *l = names; l; l = l->next) {
      json_builder_set_member_name (b, l->data);
      json_builder_add_value (b, json_node_ref (json_object_get_member (so, l->data)));
    }
  }
  json_builder_set_member_name (b, "bus");
  json_builder_add_value (b, tcd_bus_stats (ctx->bus));
  if (ctx->syslog) {
    json_builder_set_member_name (b, "log_server");
    json_builder_add_value (b, tcd_syslog_status (ctx->syslog));
  }
  json_builder_set_member_name (b, "events");
  json_builder_add_value (b, tcd_events_state (ctx->events));
  if (ctx->history) {
    json_builder_set_member_name (b, "history");
    json_builder_add_value (b, tcd_history_stats (ctx->history));
  }
  {
    guint queued;
    guint64 lost;
    gsize reserve;

    tcd_audit_status (ctx->security, &queued, &lost, &reserve);
    json_builder_set_member_name (b, "audit");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "queued");
    json_builder_add_int_value (b, queued);
    json_builder_set_member_name (b, "lost");
    json_builder_add_int_value (b, lost);
    json_builder_set_member_name (b, "reserve_bytes");
    json_builder_add_int_value (b, reserve);
    json_builder_end_object (b);
  }
  if (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL)) {
    /* utime and stime: fields 14 and 15, after the ")" of the name */
    const gchar *p = strrchr (stat, ')');
    g_auto (GStrv) f = p ? g_strsplit (p + 2, " ", -1) : NULL;
    if (f && g_strv_length (f) > 13) {
      gdouble hz = sysconf (_SC_CLK_TCK);
      json_builder_set_member_name (b, "cpu_seconds");
      json_builder_add_double_value (b, (g_ascii_strtod (f[11], NULL)
              + g_ascii_strtod (f[12], NULL)) / hz);
    }
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
handle_diagnostics (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) root = http_diagnostics (h);
  send_json (msg, SOUP_STATUS_OK, root);
}

static void
handle_reboot (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdOrigin o = origin_of (msg, "reboot");

  tcd_commands_reboot (h->ctx->commands, &o);
  soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
      "{\"rebooting\": true}", 19);
}

/* one that follows the last (from anyone) too soon is answered but not
 * repeated (tcd-commands.h) */
static void
handle_ffc (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdOrigin o = origin_of (msg, "ffc");
  gint64 wait_us = 0;
  gboolean started = tcd_commands_ffc (h->ctx->commands, &o, &wait_us);

  send_correction (msg, started, wait_us);
}

/* POST /system/restore (ports, security and users kept) and
 * /system/default (factory state) */
static void
defaults (TcdHttp *h, SoupServerMessage *msg, gboolean restore)
{
  /* the sections whose PUT is the administrator's (api-config.c): a
   * restore by anyone below leaves them as they are */
  static const gchar * const admin_sections[] = { "network", "ports", "snmp", "upnp", "onvif",
    NULL };
  TcdOrigin o = origin_of (msg, restore ? "restore" : "default");
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) shown = NULL;
  gboolean ok;

  if (restore && who_of (msg)->level < TCD_LEVEL_ADMINISTRATOR)
    ok = tcd_commands_restore_keeping (h->ctx->commands, admin_sections, &o, &err);
  else
    ok = tcd_commands_restore (h->ctx->commands, !restore, &o, &err);
  if (!ok) {
    send_gerror (msg, err, tcd_error_get_field (err), NULL);
    return;
  }
  shown = tcd_change_view (h->ctx->change, NULL);
  send_json (msg, SOUP_STATUS_OK, shown);
}

static void
handle_restore (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  defaults (h, msg, TRUE);
}

static void
handle_default (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  defaults (h, msg, FALSE);
}

/* ---- documents ---- */

static void
send_document (TcdHttp *h, SoupServerMessage *msg, const gchar *name, const gchar *type)
{
  g_autofree gchar *p = g_build_filename (h->ctx->data_dir, "schemas", name, NULL);
  send_file (msg, p, type);
}

static void
handle_modbus_registers (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  send_document (h, msg, "modbus-registers.json", "application/json");
}

static void
handle_openapi (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  send_document (h, msg, "openapi.yaml", "application/yaml");
}

static void
handle_config_schema (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  send_document (h, msg, "config.schema.json", "application/schema+json");
}

/* What touches the accounts is the administrator's (manual 10.13: an
 * operator may do all but operations on the administrator and the
 * accounts): the factory default removes them */
const TcdRoute tcd_http_system_routes[] = {
  HTTP_ROUTE_P ("POST", HTTP_ACTIVATE, TCD_LEVEL_NONE, TCD_PERM_NONE, handle_activate),
  HTTP_ROUTE_P ("GET", "/device", TCD_LEVEL_USER, TCD_PERM_NONE, handle_device),
  HTTP_ROUTE_P ("GET", "/system/diagnostics", TCD_LEVEL_OPERATOR, TCD_PERM_LOG_STATUS, handle_diagnostics),
  HTTP_ROUTE_P ("POST", "/system/reboot", TCD_LEVEL_OPERATOR, TCD_PERM_MAINTENANCE, handle_reboot),
  HTTP_ROUTE_P ("POST", "/system/ffc", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_ffc),
  HTTP_ROUTE_P ("POST", "/system/restore", TCD_LEVEL_OPERATOR, TCD_PERM_MAINTENANCE, handle_restore),
  HTTP_ROUTE_P ("POST", "/system/default", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_MAINTENANCE, handle_default),
  HTTP_ROUTE_P ("GET", "/modbus/registers", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_modbus_registers),
  HTTP_ROUTE_P ("GET", "/openapi.yaml", TCD_LEVEL_USER, TCD_PERM_NONE, handle_openapi),
  HTTP_ROUTE_P ("GET", "/schema/config", TCD_LEVEL_USER, TCD_PERM_NONE, handle_config_schema),
  HTTP_ROUTES_END
};
