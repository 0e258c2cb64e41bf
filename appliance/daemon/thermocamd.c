/* thermocamd: the camera.  Runs the thermal pipeline around the clock,
 * streams RTSP, answers the JSON HTTP API and keeps the configuration safe.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   thermocamd [--state-dir DIR] [--http-port N] [--rtsp-port N]
 *              [--https-port N] [--modbus-port N] [--listen ADDRESS]
 *              [--source sim|v4l2:DEVICE|file:PATH] [--data-dir DIR]
 *
 * A port given as a flag overrides the configuration's (ports.*), 0 picks a
 * free port; --listen keeps every server (HTTP, HTTPS, RTSP, Modbus TCP) on
 * one address (else ports.listen_address; empty: all).  When everything
 * listens it prints one line with the ports bound
 *   thermocamd ready http=PORT rtsp=PORT https=PORT modbus=PORT state=DIR
 * (https is 0 while off; modbus is 0 while modbus.enabled is off, or while
 * its port cannot be bound yet: a warning says why, it is retried)
 * SIGINT and SIGTERM stop it cleanly.
 */
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <errno.h>
#include <locale.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "tcd-app.h"
#include "tcd-http.h"
#include "tcd-modbus.h"
#include "tcd-events.h"
#include "tcd-snapshot.h"

#ifndef TCD_DATA_DIR
#define TCD_DATA_DIR "/usr/share/thermocam"
#endif

/* ---- the one path of a change ---- */

void
tcd_app_emit (TcdApp *app, const gchar *type, JsonNode *data)
{
  tcd_http_broadcast (app->http, type, data);
}

const gchar *
tcd_app_listen_address (TcdApp *app)
{
  const gchar *a = app->listen ? app->listen
      : tcd_config_string (app->config, "ports.listen_address");
  return a && *a ? a : NULL;
}

/* Can a server listen on @address (NULL: all addresses, as ours do) and
 * @port (0: any)? */
static gboolean
port_free (const gchar *address, guint port, GError **error)
{
  g_autoptr (GInetAddress) ia = address ? g_inet_address_new_from_string (address)
      : g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GSocketAddress) addr = NULL;

  if (!ia) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s is not an IP address", address);
    return FALSE;
  }
  sock = g_socket_new (g_inet_address_get_family (ia), G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  if (!sock)
    return TRUE;                /* no IPv6 here: the servers will say */
  addr = g_inet_socket_address_new (ia, port);
  return g_socket_bind (sock, addr, TRUE, error);
}

/* A port the change moves a server to must be free (else the servers'
 * restart would fail after the change was saved): the ports this device
 * listens on now count as free, as it lets them go first.  A new listen
 * address must be one of this machine's. */
static gboolean
check_ports (TcdApp *app, JsonNode *doc, gchar **field, GError **error)
{
  static const gchar *names[] = { "http", "rtsp", "https", "modbus" };
  const gint flags[] = { app->http_port, app->rtsp_port, app->https_port, app->modbus_port };
  guint ours[] = {
    app->http ? tcd_http_get_port (app->http) : 0, tcd_rtsp_get_port (app->rtsp),
    app->http ? tcd_http_get_https_port (app->http) : 0, tcd_modbus_get_port (app->modbus)
  };
  const gchar *address = json_node_get_string (tcd_config_node (doc, "ports.listen_address"));

  if (address && !*address)
    address = NULL;
  /* checked even while --listen overrides it: it is the address of a start
   * without the flag */
  if (g_strcmp0 (address ? address : "",
          tcd_config_string (app->config, "ports.listen_address")) != 0) {
    g_autoptr (GError) err = NULL;
    if (!port_free (address, 0, &err)) {
      if (field)
        *field = g_strdup ("ports.listen_address");
      g_set_error (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID,
          "ports.listen_address: cannot listen on %s: %s", address, err->message);
      return FALSE;
    }
  }
  if (app->listen)
    address = app->listen;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree gchar *path = g_strconcat ("ports.", names[i], NULL);
    guint port = json_node_get_int (tcd_config_node (doc, path));
    gboolean mine = FALSE;

    if (flags[i] >= 0 || port == (guint) tcd_config_int (app->config, path))
      continue;                 /* given as a flag, or not changed */
    for (guint j = 0; j < G_N_ELEMENTS (ours); j++)
      mine |= ours[j] == port;
    if (!mine && !port_free (address, port, NULL)) {
      if (field)
        *field = g_strdup (path);
      g_set_error (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID,
          "%s: port %u is in use by another program", path, port);
      return FALSE;
    }
  }
  return TRUE;
}

/* Does the change from @old to @doc move a server (a port or the address
 * the command line does not fix)? */
static gboolean
servers_move (TcdApp *app, JsonNode *old, JsonNode *doc)
{
  static const gchar *names[] = { "http", "rtsp", "https", "modbus" };
  const gint flags[] = { app->http_port, app->rtsp_port, app->https_port, app->modbus_port };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree gchar *path = g_strconcat ("ports.", names[i], NULL);
    if (flags[i] < 0 && !tc_json_equal (tcd_config_node (old, path), tcd_config_node (doc, path)))
      return TRUE;
  }
  return !app->listen && !tc_json_equal (tcd_config_node (old, "ports.listen_address"),
      tcd_config_node (doc, "ports.listen_address"));
}

void
tcd_app_describe_ports (TcdApp *app, JsonNode *ports)
{
  static const gchar *names[] = { "http", "rtsp", "https", "modbus" };
  const gint flags[] = { app->http_port, app->rtsp_port, app->https_port, app->modbus_port };
  const guint in_use[] = {
    app->http ? tcd_http_get_port (app->http) : 0, tcd_rtsp_get_port (app->rtsp),
    app->http ? tcd_http_get_https_port (app->http) : 0, tcd_modbus_get_port (app->modbus)
  };
  const gchar *address = tcd_app_listen_address (app);
  JsonObject *o, *use;
  JsonArray *from;

  if (!ports || !JSON_NODE_HOLDS_OBJECT (ports))
    return;
  o = json_node_get_object (ports);
  use = json_object_new ();
  from = json_array_new ();
  json_object_set_string_member (use, "listen_address", address ? address : "");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    json_object_set_int_member (use, names[i], in_use[i]);
    if (flags[i] >= 0)
      json_array_add_string_element (from, names[i]);
  }
  if (app->listen)
    json_array_add_string_element (from, "listen_address");
  json_object_set_object_member (o, "in_use", use);
  json_object_set_array_member (o, "from_flags", from);
}

void
tcd_app_ports_patch (JsonNode *patch)
{
  if (patch && JSON_NODE_HOLDS_OBJECT (patch)) {
    json_object_remove_member (json_node_get_object (patch), "in_use");
    json_object_remove_member (json_node_get_object (patch), "from_flags");
  }
}

/* An IP filter that would shut out the address making the change is
 * refused (the administrator would lock themselves out for good) */
static gboolean
check_filter (JsonNode *doc, const gchar *address, gchar **field, GError **error)
{
  if (!address || tcd_ip_filter_allows (tcd_config_node (doc, "security.ip_filter"), address))
    return TRUE;
  *field = g_strdup ("security.ip_filter");
  g_set_error (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID,
      "security.ip_filter: this filter would shut out %s, the address making the change; "
      "add it to the list first", address);
  return FALSE;
}

/* The sub stream is the smaller one: a new resolution above the sensor's is
 * refused (it would only blow up the sensor's pixels at more bits) */
static gboolean
check_streams (TcdApp *app, JsonNode *doc, gchar **field, GError **error)
{
  const gchar *path = "video.sub.resolution";
  JsonNode *n = tcd_config_node (doc, path);
  const gchar *res = json_node_get_string (n);
  gint w, h, fps;
  guint rw = 0, rh = 0;

  if (tc_json_equal (n, tcd_config_node (tcd_config_get (app->config), path)))
    return TRUE;                /* not changed */
  tcd_pipeline_get_format (app->pipeline, &w, &h, &fps);
  if (sscanf (res, "%ux%u", &rw, &rh) == 2 && (rw > (guint) w || rh > (guint) h)) {
    if (field)
      *field = g_strdup (path);
    g_set_error (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID,
        "%s: %s is above the sensor's %dx%d", path, res, w, h);
    return FALSE;
  }
  return TRUE;
}

gboolean
tcd_app_change_config (TcdApp *app, JsonNode *doc, const gchar *what,
    const gchar *user, const gchar *address, gchar **field, GError **error)
{
  g_autoptr (JsonNode) old = NULL;
  JsonNode *ev;

  /* a new video standard takes the streams' frame rates along (PAL: at most
   * 25); a stream asking for more than the standard's rate is refused */
  if (!tc_json_equal (tcd_config_node (doc, "image.video_standard"),
          tcd_config_node (tcd_config_get (app->config), "image.video_standard")))
    tcd_config_fit_frame_rates (doc);
  if (!tcd_config_check (app->config, doc, field, error)
      || !check_ports (app, doc, field, error)
      || !check_filter (doc, address, field, error)
      || !check_streams (app, doc, field, error)) {
    json_node_unref (doc);
    return FALSE;
  }
  old = tcd_json_deep_copy (tcd_config_get (app->config));
  if (!tcd_config_commit (app->config, json_node_ref (doc), error)) {
    json_node_unref (doc);
    return FALSE;
  }
  tcd_security_configure (app->security, tcd_config_node (doc, "security"));
  if (app->http)
    tcd_http_security_changed (app->http);
  tcd_pipeline_apply (app->pipeline, doc);
  tcd_rtsp_apply (app->rtsp, doc);
  tcd_modbus_apply (app->modbus, doc);
  tcd_events_apply (app->events, doc);
  /* new ports or address, or HTTPS switched on or off: the servers restart
   * in place (what the flags give stays as it is; redirect_http is read live) */
  if (servers_move (app, old, doc)
      || !tc_json_equal (tcd_config_node (old, "security.https.enabled"),
          tcd_config_node (doc, "security.https.enabled")))
    tcd_app_schedule_reboot (app);
  json_node_unref (doc);
  g_message ("configuration changed: %s", what);
  tcd_audit (app->security, "config", user, address, "changed %s", what);
  ev = tcd_event_new ("config");
  json_object_set_string_member (json_node_get_object (ev), "change", what);
  tcd_app_emit (app, "config", ev);
  return TRUE;
}

void
tcd_app_users_changed (TcdApp *app)
{
  tcd_rtsp_set_users (app->rtsp, app->users);
}

/* ---- pipeline callbacks ---- */

static void
on_message (const GstStructure *s, gpointer user_data)
{
  TcdApp *app = user_data;
  const gchar *source = gst_structure_get_string (s, "source");
  JsonNode *ev;
  JsonObject *o;
  gint id = 0;
  gdouble v = 0, th = 0, x = 0, y = 0;
  gboolean repeat = FALSE;
  JsonArray *at;

  if (!gst_structure_has_name (s, "thermal-alarm"))
    return;
  ev = tcd_event_new (source ? source : "rule");
  o = json_node_get_object (ev);
  gst_structure_get_int (s, "id", &id);
  if (g_strcmp0 (source, "rule") == 0)
    json_object_set_int_member (o, "rule", id);
  else if (g_strcmp0 (source, "comparison") == 0)
    json_object_set_int_member (o, "comparison", id);
  json_object_set_string_member (o, "name", gst_structure_get_string (s, "name"));
  json_object_set_string_member (o, "level", gst_structure_get_string (s, "level"));
  json_object_set_string_member (o, "state", gst_structure_get_string (s, "state"));
  gst_structure_get_boolean (s, "repeat", &repeat);
  json_object_set_boolean_member (o, "repeat", repeat);
  gst_structure_get_double (s, "value", &v);
  gst_structure_get_double (s, "threshold", &th);
  gst_structure_get_double (s, "x", &x);
  gst_structure_get_double (s, "y", &y);
  json_object_set_double_member (o, "value", round (v * 100) / 100);
  json_object_set_double_member (o, "threshold", th);
  at = json_array_new ();
  json_array_add_double_element (at, round (x * 10000) / 10000);
  json_array_add_double_element (at, round (y * 10000) / 10000);
  json_object_set_array_member (o, "at", at);
  {
    /* how long from the frame leaving the sensor to this event */
    guint64 ts = GST_CLOCK_TIME_NONE;
    gint64 t0;
    if (gst_structure_get_uint64 (s, "timestamp", &ts)
        && (t0 = tcd_pipeline_capture_time (app->pipeline, ts)))
      json_object_set_double_member (o, "delay_ms",
          round ((g_get_monotonic_time () - t0) / 100.0) / 10.0);
  }
  g_message ("alarm: %s %d %s %s %s %.2f", source, id, gst_structure_get_string (s, "name"),
      gst_structure_get_string (s, "level"), gst_structure_get_string (s, "state"), v);
  tcd_app_emit (app, "alarm", json_node_ref (ev));
  tcd_events_measurement (app->events, ev);
  json_node_unref (ev);
}

static void
on_exception (const gchar *kind, const gchar *message, gpointer user_data)
{
  TcdApp *app = user_data;
  JsonNode *ev = tcd_event_new ("exception");

  json_object_set_string_member (json_node_get_object (ev), "type", kind);
  json_object_set_string_member (json_node_get_object (ev), "message", message);
  tcd_events_exception (app->events, kind, ev);
  json_node_unref (ev);
}

static void
on_lock (const gchar *address, const gchar *service, const gchar *user, guint minutes,
    gpointer user_data)
{
  TcdApp *app = user_data;
  JsonNode *ev = tcd_event_new ("exception");
  JsonObject *o = json_node_get_object (ev);
  g_autofree gchar *m = g_strdup_printf ("%s locked for %u min after failed logins on %s",
      address, minutes, service);

  json_object_set_string_member (o, "type", "illegal_login");
  json_object_set_string_member (o, "message", m);
  json_object_set_string_member (o, "address", address);
  json_object_set_string_member (o, "service", service);
  if (user)
    json_object_set_string_member (o, "user", user);
  g_message ("illegal login: %s", m);
  tcd_events_exception (app->events, "illegal_login", ev);
  json_node_unref (ev);
  /* an open Modbus connection from there goes now, not at its next request */
  tcd_modbus_security_changed (app->modbus);
}

static void
on_jpeg (GstSample *jpeg, gpointer user_data)
{
  TcdApp *app = user_data;
  if (app->http)
    tcd_http_push_jpeg (app->http, jpeg);
}

/* ---- start, reboot, stop ---- */

static gboolean
start_servers (TcdApp *app, GError **error)
{
  JsonNode *doc = tcd_config_get (app->config);
  guint http = app->http_port >= 0 ? (guint) app->http_port
      : (guint) tcd_config_int (app->config, "ports.http");
  guint rtsp = app->rtsp_port >= 0 ? (guint) app->rtsp_port
      : (guint) tcd_config_int (app->config, "ports.rtsp");
  guint https = app->https_port >= 0 ? (guint) app->https_port
      : (guint) tcd_config_int (app->config, "ports.https");
  guint modbus = app->modbus_port >= 0 ? (guint) app->modbus_port
      : (guint) tcd_config_int (app->config, "ports.modbus");
  const gchar *address = tcd_app_listen_address (app);

  if (!tcd_pipeline_start (app->pipeline, doc, error))
    return FALSE;
  if (!tcd_rtsp_start (app->rtsp, address, rtsp, doc, error))
    return FALSE;
  tcd_app_users_changed (app);
  if (!app->http)
    app->http = tcd_http_new (app);
  if (!tcd_http_listen (app->http, address, http, https, error))
    return FALSE;
  if (!tcd_modbus_start (app->modbus, address, modbus, doc, error))
    return FALSE;
  return TRUE;
}

static void
print_ready (TcdApp *app)
{
  g_print ("thermocamd ready http=%u rtsp=%u https=%u modbus=%u state=%s\n",
      tcd_http_get_port (app->http), tcd_rtsp_get_port (app->rtsp),
      tcd_http_get_https_port (app->http), tcd_modbus_get_port (app->modbus),
      app->state_dir);
  fflush (stdout);
}

static gboolean
reboot_cb (gpointer user_data)
{
  TcdApp *app = user_data;
  g_autoptr (GError) err = NULL;
  guint old_http = tcd_http_get_port (app->http), old_rtsp = tcd_rtsp_get_port (app->rtsp);
  guint old_https = tcd_http_get_https_port (app->http);
  guint old_modbus = tcd_modbus_get_port (app->modbus);

  app->reboot_id = 0;
  app->reboots++;
  g_message ("rebooting in place");
  tcd_audit (app->security, "reboot", NULL, NULL, "the servers restart in place");
  tcd_http_disconnect (app->http);
  tcd_modbus_stop (app->modbus);
  tcd_rtsp_stop (app->rtsp);
  tcd_pipeline_stop (app->pipeline);
  /* a port given as 0 keeps the port it got */
  if (app->http_port == 0)
    app->http_port = old_http;
  if (app->rtsp_port == 0)
    app->rtsp_port = old_rtsp;
  if (app->https_port == 0 && old_https)
    app->https_port = old_https;
  if (app->modbus_port == 0 && old_modbus)
    app->modbus_port = old_modbus;
  if (!start_servers (app, &err)) {
    g_printerr ("thermocamd: reboot failed: %s\n", err->message);
    g_main_loop_quit (app->loop);
    return G_SOURCE_REMOVE;
  }
  print_ready (app);
  return G_SOURCE_REMOVE;
}

void
tcd_app_schedule_reboot (TcdApp *app)
{
  /* after the answer has left */
  if (!app->reboot_id)
    app->reboot_id = g_timeout_add (200, reboot_cb, app);
}

static gboolean
on_signal (gpointer user_data)
{
  TcdApp *app = user_data;
  g_message ("stopping");
  g_main_loop_quit (app->loop);
  return G_SOURCE_CONTINUE;
}

static gchar *
default_state_dir (void)
{
  const gchar *env = g_getenv ("THERMOCAM_STATE_DIR");
  if (env && *env)
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "thermocam", NULL);
}

/* Run from the build tree: the source tree's data, the plugin built next
 * door.  Installed: the installed ones. */
static gboolean
in_build_tree (void)
{
  g_autofree gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree gchar *dir = exe ? g_path_get_dirname (exe) : NULL;
  return dir && g_str_equal (dir, TCD_BUILD_DIR);
}

static gchar *
load_serial (const gchar *state_dir)
{
  g_autofree gchar *path = g_build_filename (state_dir, "serial", NULL);
  gchar *serial = NULL;
  guint8 r[6];

  if (g_file_get_contents (path, &serial, NULL, NULL) && strlen (g_strstrip (serial)) > 0)
    return serial;
  g_free (serial);
  RAND_bytes (r, sizeof r);
  serial = g_strdup_printf ("TC640-%02X%02X%02X%02X%02X%02X", r[0], r[1], r[2], r[3], r[4],
      r[5]);
  g_file_set_contents (path, serial, -1, NULL);
  return serial;
}

int
main (int argc, char **argv)
{
  TcdApp app = { 0 };
  g_autofree gchar *state_dir = NULL, *data_dir = NULL, *source = NULL, *listen = NULL;
  gint http_port = -1, rtsp_port = -1, https_port = -1, modbus_port = -1, lock_minute = 60;
  g_autoptr (GError) err = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autofree gchar *schema = NULL, *pipelines = NULL, *picture = NULL;
  gboolean print_routes = FALSE;
  GOptionEntry entries[] = {
    {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
        "Where the configuration, users and files live (default: "
        "$THERMOCAM_STATE_DIR or ~/.local/share/thermocam)", "DIR"},
    {"http-port", 0, 0, G_OPTION_ARG_INT, &http_port,
        "HTTP port (0: a free one; default: the configuration's, 8080)", "PORT"},
    {"rtsp-port", 0, 0, G_OPTION_ARG_INT, &rtsp_port,
        "RTSP port (0: a free one; default: the configuration's, 8554)", "PORT"},
    {"https-port", 0, 0, G_OPTION_ARG_INT, &https_port,
        "HTTPS port when security.https is enabled (0: a free one; default: the "
        "configuration's, 8443)", "PORT"},
    {"modbus-port", 0, 0, G_OPTION_ARG_INT, &modbus_port,
        "Modbus TCP port when modbus is enabled (0: a free one; default: the "
        "configuration's, 502)", "PORT"},
    {"listen", 0, 0, G_OPTION_ARG_STRING, &listen,
        "Listen only on this IP address, every server (HTTP, HTTPS, RTSP, Modbus TCP) "
        "(default: the configuration's ports.listen_address; empty: all addresses)",
        "ADDRESS"},
    {"lock-minute", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &lock_minute,
        "Seconds in a minute of the illegal login lock's duration (for tests)", "S"},
    {"source", 0, 0, G_OPTION_ARG_STRING, &source,
        "The sensor: sim (default), v4l2:DEVICE or file:PATH", "SOURCE"},
    {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
        "Where pipelines/ and schemas/ are (default: " TCD_DATA_DIR ")", "DIR"},
    {"print-routes", 0, 0, G_OPTION_ARG_NONE, &print_routes,
        "Print the HTTP API's routes as JSON ([{\"method\", \"path\", \"level\"}]) and exit",
        NULL},
    {NULL}
  };

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("- the thermocam camera daemon");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 2;
  }
  if (print_routes) {
    g_autoptr (JsonNode) routes = tcd_http_routes ();
    g_autofree gchar *text = tcd_json_to_string (routes, TRUE);
    g_print ("%s\n", text);
    return 0;
  }
  if (http_port < -1 || http_port > 65535 || rtsp_port < -1 || rtsp_port > 65535
      || https_port < -1 || https_port > 65535 || modbus_port < -1 || modbus_port > 65535) {
    g_printerr ("thermocamd: ports are 0..65535\n");
    return 2;
  }
  if (listen && *listen) {
    g_autoptr (GInetAddress) ia = g_inet_address_new_from_string (listen);
    if (!ia) {
      g_printerr ("thermocamd: --listen: %s is not an IP address\n", listen);
      return 2;
    }
    app.listen = g_inet_address_to_string (ia);
  }
  app.state_dir = state_dir ? g_strdup (state_dir) : default_state_dir ();
  app.data_dir = g_strdup (data_dir ? data_dir
      : in_build_tree () ? TCD_SOURCE_DATA_DIR : TCD_DATA_DIR);
  gst_registry_scan_path (gst_registry_get (),
      in_build_tree () ? TCD_BUILD_PLUGIN_DIR : TCD_PLUGIN_DIR);
  app.source = g_strdup (source ? source : "sim");
  app.http_port = http_port;
  app.rtsp_port = rtsp_port;
  app.https_port = https_port;
  app.modbus_port = modbus_port;
  app.started_us = g_get_monotonic_time ();
  if (g_mkdir_with_parents (app.state_dir, 0700) != 0) {
    g_printerr ("thermocamd: cannot create %s: %s\n", app.state_dir, g_strerror (errno));
    return 1;
  }
  schema = g_build_filename (app.data_dir, "schemas", "config.schema.json", NULL);
  pipelines = g_build_filename (app.data_dir, "pipelines", NULL);
  app.config = tcd_config_new (app.state_dir, schema, &err);
  if (!app.config) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 1;
  }
  app.users = tcd_users_new (app.state_dir, TCD_REALM);
  app.security = tcd_security_new (app.state_dir);
  tcd_security_set_minute (app.security, MAX (1, lock_minute));
  tcd_security_set_lock_callback (app.security, on_lock, &app);
  tcd_security_configure (app.security, tcd_config_get_section (app.config, "security"));
  app.serial = load_serial (app.state_dir);
  /* the model of GET /device, without the note on a simulated sensor */
  tcd_snapshot_set_identity ("thermocam TC-640", app.serial);
  app.pipeline = tcd_pipeline_new (pipelines, app.source, &err);
  if (!app.pipeline) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 2;
  }
  picture = g_build_filename (app.state_dir, "overlay.bmp", NULL);
  tcd_pipeline_set_picture_path (app.pipeline, picture);
  tcd_pipeline_set_callbacks (app.pipeline, on_message, on_exception, on_jpeg, &app);
  app.rtsp = tcd_rtsp_new (app.pipeline, pipelines, app.security);
  app.modbus = tcd_modbus_new (&app);
  app.events = tcd_events_new (&app, &err);
  if (!app.events) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 1;
  }
  app.loop = g_main_loop_new (NULL, FALSE);
  if (!start_servers (&app, &err)) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 1;
  }
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);
  print_ready (&app);
  if (!tcd_users_is_activated (app.users))
    g_print ("thermocamd: the device is not activated: POST /api/v1/activate "
        "{\"password\": \"...\"}\n");
  fflush (stdout);
  g_main_loop_run (app.loop);

  if (app.reboot_id)
    g_source_remove (app.reboot_id);
  tcd_http_free (app.http);
  tcd_modbus_free (app.modbus);
  tcd_events_free (app.events);
  tcd_rtsp_free (app.rtsp);
  tcd_pipeline_free (app.pipeline);
  tcd_users_free (app.users);
  tcd_security_free (app.security);
  tcd_config_free (app.config);
  g_main_loop_unref (app.loop);
  g_free (app.state_dir);
  g_free (app.data_dir);
  g_free (app.source);
  g_free (app.serial);
  g_free (app.listen);
  gst_deinit ();
  return 0;
}
