/* thermocamd: HTTP routes of the device and the system: what the device is,
 * its activation, diagnostics, reboot, flat-field correction, restore and
 * factory default, and the documents it serves (the API, the schemas)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"

#include <string.h>
#include <unistd.h>

#include "tcd-certs.h"
#include "tcd-events.h"
#include "tcd-modbus.h"

static void
handle_device (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdApp *app = h->app;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  gint w, hh, fps;
  g_autofree gchar *gst = gst_version_string ();

  tcd_pipeline_get_format (app->pipeline, &w, &hh, &fps);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "device_name");
  json_builder_add_string_value (b, tcd_config_string (app->config, "device.name"));
  json_builder_set_member_name (b, "device_number");
  json_builder_add_int_value (b, tcd_config_int (app->config, "device.number"));
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, g_str_has_prefix (app->source, "sim")
      ? "thermocam TC-640 (simulated sensor)" : "thermocam TC-640");
  json_builder_set_member_name (b, "serial_number");
  json_builder_add_string_value (b, app->serial);
  json_builder_set_member_name (b, "firmware_version");
  json_builder_add_string_value (b, PACKAGE_VERSION);
  json_builder_set_member_name (b, "firmware_build");
  json_builder_add_string_value (b, __DATE__);
  json_builder_set_member_name (b, "gstreamer");
  json_builder_add_string_value (b, gst);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, app->source);
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
  json_builder_add_int_value (b, (g_get_monotonic_time () - app->started_us) / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "activated");
  json_builder_add_boolean_value (b, tcd_users_is_activated (app->users));
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

  if (tcd_users_is_activated (h->app->users)) {
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
  if (!tcd_users_activate (h->app->users, json_node_get_string (pw), &err)) {
    send_gerror (msg, err, "password", "password: ");
    return;
  }
  tcd_app_users_changed (h->app);
  tcd_audit (h->app->security, "user", "admin", address_of (msg),
      "activated: the account admin was created");
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

static void
handle_diagnostics (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdApp *app = h->app;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *stat = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "uptime_seconds");
  json_builder_add_int_value (b, (g_get_monotonic_time () - app->started_us) / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "reboots");
  json_builder_add_int_value (b, app->reboots);
  json_builder_set_member_name (b, "pipeline");
  json_builder_add_value (b, tcd_pipeline_stats (app->pipeline));
  json_builder_set_member_name (b, "rtsp");
  json_builder_add_value (b, tcd_rtsp_stats (app->rtsp));
  json_builder_set_member_name (b, "modbus");
  json_builder_add_value (b, tcd_modbus_stats (app->modbus));
  json_builder_set_member_name (b, "http");
  json_builder_add_value (b, tcd_http_stats (h));
  json_builder_set_member_name (b, "events");
  json_builder_add_value (b, tcd_events_state (app->events));
  {
    guint queued;
    guint64 lost;
    gsize reserve;

    tcd_audit_status (app->security, &queued, &lost, &reserve);
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
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

static void
handle_reboot (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdApp *app = h->app;

  tcd_audit (app->security, "reboot", who_user (msg), address_of (msg), "reboot requested");
  tcd_app_schedule_reboot (app);
  soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
      "{\"rebooting\": true}", 19);
}

static void
handle_ffc (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdApp *app = h->app;

  tcd_audit (app->security, "system", who_user (msg), address_of (msg),
      "flat-field correction");
  tcd_pipeline_ffc (app->pipeline);
  soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
      "{\"correcting\": true}", 20);
}

/* POST /system/restore (ports, security and users kept) and
 * /system/default (factory state) */
static void
defaults (TcdHttp *h, SoupServerMessage *msg, gboolean restore)
{
  TcdApp *app = h->app;
  const gchar *what = restore ? "restore" : "default";
  JsonNode *doc = tcd_config_defaults (app->config, restore);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *field = NULL;

  if (!tcd_app_change_config (app, doc, what, who_user (msg), address_of (msg), &field,
          &err)) {
    send_gerror (msg, err, field, NULL);
    return;
  }
  if (!restore) {
    g_autofree gchar *picture = g_build_filename (app->state_dir, "overlay.bmp", NULL);
    guint captures, recordings;

    drop_sessions (h, NULL);
    if (!tcd_users_reset (app->users, &err)) {
      send_gerror (msg, err, NULL, NULL);
      return;
    }
    tcd_app_users_changed (app);
    /* factory state (manual 10.5): what the device was given or made goes
     * too; the audit log, the serial number and the calibration stay */
    if (tcd_record_is_recording (tcd_events_get_record (app->events)))
      tcd_record_stop (tcd_events_get_record (app->events));
    captures = tcd_store_clear (tcd_events_get_captures (app->events));
    recordings = tcd_store_clear (tcd_events_get_recordings (app->events));
    if (!tcd_certs_delete (app->state_dir, &err)) {
      send_gerror (msg, err, NULL, NULL);
      return;
    }
    certificate_changed (h);
    if (unlink (picture) == 0)
      tcd_pipeline_reload_picture (app->pipeline);
    tcd_audit (app->security, "system", who_user (msg), address_of (msg),
        "factory default: everything reset, users, certificate, overlay picture, %u"
        " captures and %u recordings removed", captures, recordings);
  } else {
    tcd_audit (app->security, "system", who_user (msg), address_of (msg),
        "restored the defaults (ports, security and users kept)");
  }
  {
    g_autoptr (JsonNode) shown = redacted (tcd_config_get (app->config), NULL);
    send_json (msg, SOUP_STATUS_OK, shown);
  }
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
  g_autofree gchar *p = g_build_filename (h->app->data_dir, "schemas", name, NULL);
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
  HTTP_ROUTE ("POST", HTTP_ACTIVATE, TCD_LEVEL_NONE, handle_activate),
  HTTP_ROUTE ("GET", "/device", TCD_LEVEL_USER, handle_device),
  HTTP_ROUTE ("GET", "/system/diagnostics", TCD_LEVEL_OPERATOR, handle_diagnostics),
  HTTP_ROUTE ("POST", "/system/reboot", TCD_LEVEL_OPERATOR, handle_reboot),
  HTTP_ROUTE ("POST", "/system/ffc", TCD_LEVEL_OPERATOR, handle_ffc),
  HTTP_ROUTE ("POST", "/system/restore", TCD_LEVEL_OPERATOR, handle_restore),
  HTTP_ROUTE ("POST", "/system/default", TCD_LEVEL_ADMINISTRATOR, handle_default),
  HTTP_ROUTE ("GET", "/modbus/registers", TCD_LEVEL_OPERATOR, handle_modbus_registers),
  HTTP_ROUTE ("GET", "/openapi.yaml", TCD_LEVEL_USER, handle_openapi),
  HTTP_ROUTE ("GET", "/schema/config", TCD_LEVEL_USER, handle_config_schema),
  HTTP_ROUTES_END
};
