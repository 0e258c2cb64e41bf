/* thermocamd: the camera.  Runs the thermal pipeline around the clock,
 * streams RTSP, answers the JSON HTTP API and keeps the configuration safe.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   thermocamd [--state-dir DIR] [--http-port N] [--rtsp-port N]
 *              [--https-port N] [--modbus-port N] [--listen ADDRESS]
 *              [--source sim[:WxH]|v4l2:DEVICE|file:PATH] [--data-dir DIR]
 *   thermocamd --print-routes | --print-events
 *
 * The --NAME-port options are those of the services in service_table[]
 * (appliance/README.md: adding a service).
 * A port given as a flag overrides the configuration's (ports.*), 0 picks a
 * free port; --listen keeps every server (HTTP, HTTPS, RTSP, Modbus TCP) on
 * one address (else ports.listen_address; empty: all).  When everything
 * listens it prints one line with the ports bound
 *   thermocamd ready http=PORT rtsp=PORT https=PORT modbus=PORT state=DIR
 * (https is 0 while off; modbus is 0 while modbus.enabled is off, or while
 * its port cannot be bound yet: a warning says why, it is retried)
 * SIGINT and SIGTERM stop it cleanly.
 *
 * An upgrade (core/tcd-upgrade.h, appliance/README.md) ends the main loop and
 * execs the new version in this process; thermocamd --upgrade-watchdog is
 * the entry of the watchdog that rolls a failed start back.  The hidden
 * --upgrade-confirm-s, --upgrade-deadline-s and --upgrade-max-bytes are
 * for tests.
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

#include "tcd-bus.h"
#include "tcd-change.h"
#include "tcd-clock.h"
#include "tcd-commands.h"
#include "tcd-daemon-upgrade.h"
#include "tcd-dpc.h"
#include "tcd-encoder.h"
#include "tcd-events.h"
#include "tcd-history.h"
#include "tcd-http.h"
#include "tcd-modbus.h"
#include "tcd-mqtt.h"
#include "tcd-snmp.h"
#include "tcd-upnp.h"
#include "tcd-rtsp.h"
#include "tcd-wsd.h"
#include "tcd-serial.h"
#include "tcd-service-table.h"
#include "tcd-snapshot.h"
#include "tcd-units.h"
#include "tcd-systemd.h"
#include "tc-json.h"

#ifndef TCD_DATA_DIR
#define TCD_DATA_DIR "/usr/share/thermocam"
#endif

/* ---- the table of services: a new protocol is a line here ---- */

static const TcdServiceClass *const service_table[] = {
  &tcd_rtsp_service,
  &tcd_http_service,
  &tcd_modbus_service,
  &tcd_mqtt_service,
  &tcd_wsd_service,
  &tcd_snmp_service,
  &tcd_rtsps_service,
  &tcd_upnp_service,
  &tcd_serial_service,
};

/* The ports are listed in this order (then the others in the table's):
 * the ready line, --help and GET /config/ports.in_use (scripts read the
 * ready line by position) */
static const gchar *const port_order[] = { "http", "rtsp", "https", "modbus", NULL };

#define MAX_PORTS (G_N_ELEMENTS (service_table) * TCD_SERVICE_MAX_PORTS)

typedef struct {
  /* flags */
  gchar *listen;                /* --listen ADDRESS; NULL: ports.listen_address */
  const gchar *port_names[MAX_PORTS + 1];   /* every service's, in port_order */
  const gchar *port_help[MAX_PORTS];
  gint port_flags[MAX_PORTS];   /* --NAME-port; -1: from the configuration */

  TcdContext ctx;
  TcdServices *services;
  GMainLoop *loop;
  guint reboot_id;
  TcdSystemd *systemd;          /* readiness, watchdog, journal (tcd-systemd.h) */
  /* an upgrade: the main loop ends, then the new version is exec'd with
   * the ports the flags gave as they are bound (-1: not a flag) */
  gboolean upgrade_exec;
  gint exec_ports[MAX_PORTS];
} Daemon;

static gint
port_index (Daemon *d, const gchar *name)
{
  for (guint i = 0; d->port_names[i]; i++)
    if (g_str_equal (d->port_names[i], name))
      return i;
  return -1;
}

/* The address every server listens on (--listen, else
 * ports.listen_address); NULL: all addresses */
static const gchar *
listen_address (Daemon *d)
{
  const gchar *a = d->listen ? d->listen
      : tcd_config_string (d->ctx.config, "ports.listen_address");
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

/* ---- what the daemon adds to the change path ---- */

/* A port the change moves a server to must be free (else the servers'
 * restart would fail after the change was saved): the ports this device
 * listens on now count as free, as it lets them go first.  A new listen
 * address must be one of this machine's. */
static gboolean
check_ports (JsonNode *doc, JsonNode *current, const TcdOrigin *origin, gpointer user_data,
    GError **error)
{
  Daemon *d = user_data;
  const gchar *address = json_node_get_string (tcd_config_node (doc, "ports.listen_address"));

  if (address && !*address)
    address = NULL;
  /* checked even while --listen overrides it: it is the address of a start
   * without the flag */
  if (g_strcmp0 (address ? address : "",
          tcd_config_string (d->ctx.config, "ports.listen_address")) != 0) {
    g_autoptr (GError) err = NULL;
    if (!port_free (address, 0, &err)) {
      tcd_change_refuse (error, "ports.listen_address",
          "ports.listen_address: cannot listen on %s: %s", address, err->message);
      return FALSE;
    }
  }
  if (d->listen)
    address = d->listen;
  for (guint i = 0; d->port_names[i]; i++) {
    g_autofree gchar *path = g_strconcat ("ports.", d->port_names[i], NULL);
    guint port = json_node_get_int (tcd_config_node (doc, path));
    gboolean mine = FALSE;

    if (d->port_flags[i] >= 0 || port == (guint) tcd_config_int (d->ctx.config, path))
      continue;                 /* given as a flag, or not changed */
    for (guint j = 0; d->port_names[j]; j++)
      mine |= tcd_services_port (d->services, d->port_names[j]) == port;
    if (!mine && !port_free (address, port, NULL)) {
      tcd_change_refuse (error, path, "%s: port %u is in use by another program", path, port);
      return FALSE;
    }
  }
  return TRUE;
}

/* The sub stream is the smaller one: a new resolution above the sensor's is
 * refused (it would only blow up the sensor's pixels at more bits) */
static gboolean
check_streams (JsonNode *doc, JsonNode *current, const TcdOrigin *origin, gpointer user_data,
    GError **error)
{
  Daemon *d = user_data;
  const gchar *path = "video.sub.resolution";
  JsonNode *n = tcd_config_node (doc, path);
  const gchar *res = json_node_get_string (n);
  gint w, h, fps;
  guint rw = 0, rh = 0;

  if (tc_json_equal (n, tcd_config_node (current, path)))
    return TRUE;                /* not changed */
  tcd_pipeline_get_format (d->ctx.pipeline, &w, &h, &fps);
  if (sscanf (res, "%ux%u", &rw, &rh) == 2 && (rw > (guint) w || rh > (guint) h)) {
    tcd_change_refuse (error, path, "%s: %s is above the sensor's %dx%d", path, res, w, h);
    return FALSE;
  }
  return TRUE;
}

/* GET /config/ports: the read-only members "in_use" (the address and ports
 * the servers listen on now, 0: off) and "from_flags" (the fields the
 * command line overrides) */
static void
ports_view (JsonNode *ports, gboolean whole, gpointer user_data)
{
  Daemon *d = user_data;
  const gchar *address = listen_address (d);
  JsonObject *o, *use;
  JsonArray *from;

  if (whole || !ports || !JSON_NODE_HOLDS_OBJECT (ports))
    return;
  o = json_node_get_object (ports);
  use = json_object_new ();
  from = json_array_new ();
  json_object_set_string_member (use, "listen_address", address ? address : "");
  for (guint i = 0; d->port_names[i]; i++) {
    json_object_set_int_member (use, d->port_names[i],
        tcd_services_port (d->services, d->port_names[i]));
    if (d->port_flags[i] >= 0)
      json_array_add_string_element (from, d->port_names[i]);
  }
  if (d->listen)
    json_array_add_string_element (from, "listen_address");
  json_object_set_object_member (o, "in_use", use);
  json_object_set_array_member (o, "from_flags", from);
}

/* PUT /config/ports: a patch may carry back those read-only members: they
 * are dropped */
static void
ports_incoming (TcdConfig *config, JsonNode *patch, gpointer user_data)
{
  if (patch && JSON_NODE_HOLDS_OBJECT (patch)) {
    json_object_remove_member (json_node_get_object (patch), "in_use");
    json_object_remove_member (json_node_get_object (patch), "from_flags");
  }
}

static void schedule_reboot (Daemon *d);

/* Does the change from @old to @doc move a server (a port or the address
 * the command line does not fix)? */
static gboolean
servers_move (Daemon *d, JsonNode *old, JsonNode *doc)
{
  for (guint i = 0; d->port_names[i]; i++) {
    g_autofree gchar *path = g_strconcat ("ports.", d->port_names[i], NULL);
    if (d->port_flags[i] < 0
        && !tc_json_equal (tcd_config_node (old, path), tcd_config_node (doc, path)))
      return TRUE;
  }
  return !d->listen && !tc_json_equal (tcd_config_node (old, "ports.listen_address"),
      tcd_config_node (doc, "ports.listen_address"));
}

static void
pipeline_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  tcd_pipeline_apply (user_data, doc);
}

static void
encoders_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  tcd_encoders_apply (user_data, doc);
}

static void
events_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  tcd_events_apply (user_data, doc);
}

static void
history_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  tcd_history_apply (user_data, doc);
}

static void
syslog_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  tcd_syslog_apply (user_data, doc);
}

static void
rs232_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  tcd_rs232_apply (user_data, doc);
}

static void
hw_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  tcd_hw_apply (user_data, doc);
}

static void
services_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  Daemon *d = user_data;

  tcd_services_security_changed (d->services, TCD_SECURITY_FILTER);
  tcd_services_apply (d->services, doc);
}

static void
services_users (gpointer user_data)
{
  Daemon *d = user_data;
  tcd_services_security_changed (d->services, TCD_SECURITY_USERS);
}

/* time.timezone and time.dst make the clock's zone (told before the media
 * and the linkage, which read local times); time.ntp its server */
static void
clock_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  g_autofree gchar *zone = NULL, *id = NULL;
  g_autoptr (GError) err = NULL;
  TcdDstRule rule;

  if (!tcd_clock_rule_from_config (tcd_config_node (doc, "time"), &zone, &rule, &err)
      || !(id = tcd_clock_zone_identifier (zone, &rule, &err))
      || !tcd_clock_set_zone (id, &err))
    g_warning ("time: %s", err->message);
}

static void
time_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  TcdContext *ctx = user_data;
  if (ctx->timesync)
    tcd_timesync_apply (ctx->timesync, doc);
}

/* new ports or address, or HTTPS switched on or off: the servers restart
 * in place (what the flags give stays as it is; redirect_http is read live) */
static void
daemon_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  Daemon *d = user_data;

  if (servers_move (d, old, doc)
      || !tc_json_equal (tcd_config_node (old, "security.https.enabled"),
          tcd_config_node (doc, "security.https.enabled")))
    schedule_reboot (d);
}

/* ---- hooks ---- */

static void
on_lock (const gchar *address, const gchar *service, const gchar *user, guint minutes,
    gpointer user_data)
{
  Daemon *d = user_data;

  tcd_events_illegal_login (d->ctx.events, address, service, user, minutes);
  /* an open connection from there goes now, not at its next request */
  tcd_services_security_changed (d->services, TCD_SECURITY_FILTER);
}

static void
on_factory_reset (gpointer user_data)
{
  Daemon *d = user_data;
  tcd_services_security_changed (d->services, TCD_SECURITY_FACTORY);
}

static void
on_certificate_changed (gpointer user_data)
{
  Daemon *d = user_data;
  tcd_services_security_changed (d->services, TCD_SECURITY_CERTIFICATE);
}

static void
on_reboot (gpointer user_data)
{
  schedule_reboot (user_data);
}

/* ---- start, reboot, stop ---- */

static gboolean
start_servers (Daemon *d, GError **error)
{
  const gchar *address = listen_address (d);

  if (!tcd_pipeline_start (d->ctx.pipeline, tcd_config_get (d->ctx.config), error))
    return FALSE;
  for (guint i = 0; i < tcd_services_count (d->services); i++) {
    const TcdServiceClass *k = tcd_services_class (d->services, i);
    guint ports[TCD_SERVICE_MAX_PORTS] = { 0 };

    for (guint p = 0; k->ports[p]; p++) {
      gint idx = port_index (d, k->ports[p]);
      g_autofree gchar *path = g_strconcat ("ports.", k->ports[p], NULL);
      ports[p] = d->port_flags[idx] >= 0 ? (guint) d->port_flags[idx]
          : (guint) tcd_config_int (d->ctx.config, path);
    }
    if (!k->start (tcd_services_instance (d->services, i), address, ports, error))
      return FALSE;
  }
  return TRUE;
}

static void
print_ready (Daemon *d)
{
  g_autoptr (GString) line = g_string_new ("thermocamd ready");

  for (guint i = 0; d->port_names[i]; i++)
    g_string_append_printf (line, " %s=%u", d->port_names[i],
        tcd_services_port (d->services, d->port_names[i]));
  g_print ("%s state=%s\n", line->str, d->ctx.state_dir);
  fflush (stdout);
  tcd_systemd_ready (d->systemd, line->str + strlen ("thermocamd "));
}

static gboolean
reboot_cb (gpointer user_data)
{
  Daemon *d = user_data;
  g_autoptr (GError) err = NULL;
  guint old[MAX_PORTS] = { 0 };

  d->reboot_id = 0;
  tcd_services_count_restart (d->services);
  g_message ("rebooting in place");
  tcd_audit (d->ctx.security, "reboot", NULL, NULL, "the servers restart in place");
  for (guint i = 0; d->port_names[i]; i++)
    old[i] = tcd_services_port (d->services, d->port_names[i]);
  for (guint i = tcd_services_count (d->services); i-- > 0;)
    tcd_services_class (d->services, i)->stop (tcd_services_instance (d->services, i));
  tcd_pipeline_stop (d->ctx.pipeline);
  /* a port given as 0 keeps the port it got */
  for (guint i = 0; d->port_names[i]; i++)
    if (d->port_flags[i] == 0 && old[i])
      d->port_flags[i] = old[i];
  if (!start_servers (d, &err)) {
    g_printerr ("thermocamd: reboot failed: %s\n", err->message);
    g_main_loop_quit (d->loop);
    return G_SOURCE_REMOVE;
  }
  print_ready (d);
  return G_SOURCE_REMOVE;
}

static void
schedule_reboot (Daemon *d)
{
  /* after the answer has left */
  if (!d->reboot_id)
    d->reboot_id = g_timeout_add (200, reboot_cb, d);
}

static gboolean
upgrade_quit (gpointer user_data)
{
  Daemon *d = user_data;
  g_main_loop_quit (d->loop);
  return G_SOURCE_REMOVE;
}

/* a new version is installed and current: stop, then exec it (main) */
static void
upgrade_restart (gpointer user_data)
{
  Daemon *d = user_data;

  for (guint i = 0; d->port_names[i]; i++)
    d->exec_ports[i] = d->port_flags[i] < 0 ? -1 : d->port_flags[i] > 0 ? d->port_flags[i]
        : (gint) tcd_services_port (d->services, d->port_names[i]);
  d->upgrade_exec = TRUE;
  g_message ("upgrade: restarting into the new version");
  /* after the answer has left */
  g_timeout_add (300, upgrade_quit, d);
}

static gboolean
on_signal (gpointer user_data)
{
  Daemon *d = user_data;
  g_message ("stopping");
  tcd_systemd_stopping (d->systemd);
  g_main_loop_quit (d->loop);
  return G_SOURCE_CONTINUE;
}

static gchar *
default_state_dir (void)
{
  const gchar *env = g_getenv ("THERMOCAM_STATE_DIR");
  gchar *dir;
  if (env && *env)
    return g_strdup (env);
  /* systemd's StateDirectory= (thermocamd.service: /var/lib/thermocam) */
  if ((dir = tcd_systemd_state_directory ()))
    return dir;
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

static void
add_port (Daemon *d, guint *n, const TcdServiceClass *k, guint p)
{
  d->port_names[*n] = k->ports[p];
  d->port_help[*n] = k->port_help[p];
  d->port_flags[(*n)++] = -1;
}

/* Every service's ports: those of port_order in its order, then the others
 * in the table's */
static void
collect_ports (Daemon *d)
{
  guint n = 0;

  for (guint o = 0; port_order[o]; o++)
    for (guint i = 0; i < G_N_ELEMENTS (service_table); i++)
      for (guint p = 0; service_table[i]->ports[p]; p++)
        if (g_str_equal (service_table[i]->ports[p], port_order[o]))
          add_port (d, &n, service_table[i], p);
  for (guint i = 0; i < G_N_ELEMENTS (service_table); i++)
    for (guint p = 0; service_table[i]->ports[p]; p++)
      if (!g_strv_contains (port_order, service_table[i]->ports[p]))
        add_port (d, &n, service_table[i], p);
}

/* --NAME-port for every port of the table (@names: the long names, to free) */
static GOptionEntry *
port_options (Daemon *d, GPtrArray *names)
{
  GOptionEntry *e = g_new0 (GOptionEntry, MAX_PORTS + 1);

  for (guint i = 0; d->port_names[i]; i++) {
    gchar *long_name = g_strdup_printf ("%s-port", d->port_names[i]);
    g_ptr_array_add (names, long_name);
    e[i] = (GOptionEntry) { long_name, 0, 0, G_OPTION_ARG_INT, &d->port_flags[i],
        d->port_help[i], "PORT" };
  }
  return e;
}

int
main (int argc, char **argv)
{
  Daemon d = { 0 };
  TcdContext *ctx = &d.ctx;
  g_autofree gchar *state_dir = NULL, *data_dir = NULL, *source = NULL, *listen = NULL;
  g_autofree gchar *network_backend = NULL;
  g_autofree gchar *hardware_backend = NULL;
  gint lock_minute = 60;
  gint upgrade_confirm_s = 10, upgrade_deadline_s = 120;
  gint64 upgrade_max_bytes = 0;
  g_autofree gchar *self = NULL, *self_version = NULL, *tree = NULL;
  g_auto (GStrv) orig_argv = NULL;
  gint orig_argc = argc, watchdog_status = 0;
  g_autoptr (GPtrArray) option_names = g_ptr_array_new_with_free_func (g_free);
  g_autofree GOptionEntry *ports_entries = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (GOptionContext) octx = NULL;
  g_autofree gchar *schema = NULL, *pipelines = NULL, *picture = NULL;
  TcdCommandsHooks hooks = { on_reboot, on_factory_reset, on_certificate_changed, &d };
  gint ret = 0;
  gboolean print_routes = FALSE, print_events = FALSE;
  GOptionEntry entries[] = {
    {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
        "Where the configuration, users and files live (default: "
        "$THERMOCAM_STATE_DIR, $STATE_DIRECTORY or ~/.local/share/thermocam)", "DIR"},
    {"listen", 0, 0, G_OPTION_ARG_STRING, &listen,
        "Listen only on this IP address, every server (HTTP, HTTPS, RTSP, Modbus TCP) "
        "(default: the configuration's ports.listen_address; empty: all addresses)",
        "ADDRESS"},
    {"lock-minute", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &lock_minute,
        "Seconds in a minute of the illegal login lock's duration (for tests)", "S"},
    {"network-backend", 0, 0, G_OPTION_ARG_STRING, &network_backend,
        "How the network settings reach the host: simulated (the default), networkd "
        "(systemd-networkd, wpa_supplicant, ssh of this host) or networkd:/ROOT (the files "
        "under ROOT only)", "BACKEND"},
    {"hardware-backend", 0, 0, G_OPTION_ARG_STRING, &hardware_backend,
        "The lens, focus, light, wiper and video output: simulated (the default: none of "
        "them) or simulated:LIST (those of lens,focus,light,wiper,video_output, or all)",
        "BACKEND"},
    {"upgrade-confirm-s", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &upgrade_confirm_s,
        "Seconds a new version runs before it confirms its start (10)", "S"},
    {"upgrade-deadline-s", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &upgrade_deadline_s,
        "Seconds a new version has to confirm its start, else it is rolled back (120)", "S"},
    {"upgrade-max-bytes", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT64, &upgrade_max_bytes,
        "The largest upgrade package taken (256 MiB)", "BYTES"},
    {"source", 0, 0, G_OPTION_ARG_STRING, &source,
        "The sensor: sim (default, 640x512), sim:WIDTHxHEIGHT, v4l2:DEVICE or file:PATH", "SOURCE"},
    {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
        "Where pipelines/ and schemas/ are (default: " TCD_DATA_DIR ")", "DIR"},
    {"print-routes", 0, 0, G_OPTION_ARG_NONE, &print_routes,
        "Print the HTTP API's routes as JSON ([{\"method\", \"path\", \"level\"}]) and exit",
        NULL},
    {"print-events", 0, 0, G_OPTION_ARG_NONE, &print_events,
        "Print the event types of GET /api/v1/events as JSON ([{\"type\", \"doc\"}]) and exit",
        NULL},
    {NULL}
  };

  /* the watchdog of an upgrade's trial start (tcd-daemon-upgrade.h) */
  if (tcd_daemon_watchdog_main (argc, argv, &watchdog_status))
    return watchdog_status;
  /* the running log of the diagnostics: the last lines, still to stderr */
  ctx->log = tcd_logbuf_install (2000, 1024 * 1024);
  orig_argv = g_strdupv (argv);
  setlocale (LC_ALL, "");
  /* the ports of the services of the table: --http-port and the others */
  collect_ports (&d);
  ports_entries = port_options (&d, option_names);
  octx = g_option_context_new ("- the thermocam camera daemon");
  g_option_context_add_main_entries (octx, ports_entries, NULL);
  g_option_context_add_main_entries (octx, entries, NULL);
  g_option_context_add_group (octx, gst_init_get_option_group ());
  if (!g_option_context_parse (octx, &argc, &argv, &err)) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 2;
  }
  if (print_events) {
    g_autoptr (JsonArray) types = json_array_new ();
    g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);
    g_autofree gchar *text = NULL;

    for (guint i = 0; i < TCD_EVENT_N_TYPES; i++) {
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "type", tcd_event_type_name (i));
      json_object_set_string_member (o, "doc", tcd_event_type_doc (i));
      json_array_add_object_element (types, o);
    }
    json_node_set_array (node, types);
    text = tcd_json_to_string (node, TRUE);
    g_print ("%s\n", text);
    return 0;
  }
  if (print_routes) {
    g_autoptr (JsonNode) routes = tcd_http_routes ();
    g_autofree gchar *text = tcd_json_to_string (routes, TRUE);
    g_print ("%s\n", text);
    return 0;
  }
  for (guint i = 0; d.port_names[i]; i++)
    if (d.port_flags[i] < -1 || d.port_flags[i] > 65535) {
      g_printerr ("thermocamd: ports are 0..65535\n");
      return 2;
    }
  if (listen && *listen) {
    g_autoptr (GInetAddress) ia = g_inet_address_new_from_string (listen);
    if (!ia) {
      g_printerr ("thermocamd: --listen: %s is not an IP address\n", listen);
      return 2;
    }
    d.listen = g_inet_address_to_string (ia);
  }

  ctx->state_dir = state_dir ? g_strdup (state_dir) : default_state_dir ();
  /* an installed version (STATE/versions/<v>/) runs with its own data and
   * plugin; an upgrade's trial, rollback or hand-over happens here */
  self = g_file_read_link ("/proc/self/exe", NULL);
  tree = tcd_upgrade_tree_of (self, &self_version);
  {
    g_autofree gchar *exe = NULL;
    const gchar *none[] = { NULL };
    if (tcd_upgrade_boot (ctx->state_dir, self, self_version ? self_version : PACKAGE_VERSION,
            &exe) == TCD_UPGRADE_BOOT_EXEC) {
      g_auto (GStrv) next = tcd_daemon_exec_argv (orig_argc, orig_argv, none, NULL);
      tcd_upgrade_exec (exe, next);     /* returns only if it failed: this one runs */
    }
  }
  if (tree) {
    g_autofree gchar *lib = g_build_filename (tree, "lib", NULL);
    g_autofree gchar *plugins = g_build_filename (lib, "gstreamer-1.0", NULL);
    g_autoptr (GDir) dir = g_dir_open (lib, 0, NULL);
    const gchar *n;

    ctx->data_dir = data_dir ? g_strdup (data_dir)
        : g_build_filename (tree, "share", "thermocam", NULL);
    gst_registry_scan_path (gst_registry_get (), plugins);
    while (dir && (n = g_dir_read_name (dir))) {
      g_autofree gchar *more = g_build_filename (lib, n, "gstreamer-1.0", NULL);
      if (g_str_has_suffix (n, "-linux-gnu"))
        gst_registry_scan_path (gst_registry_get (), more);
    }
  } else {
    ctx->data_dir = g_strdup (data_dir ? data_dir
        : in_build_tree () ? TCD_SOURCE_DATA_DIR : TCD_DATA_DIR);
    gst_registry_scan_path (gst_registry_get (),
        in_build_tree () ? TCD_BUILD_PLUGIN_DIR : TCD_PLUGIN_DIR);
  }
  ctx->source = g_strdup (source ? source : "sim");
  ctx->started_us = g_get_monotonic_time ();
  if (g_mkdir_with_parents (ctx->state_dir, 0700) != 0) {
    g_printerr ("thermocamd: cannot create %s: %s\n", ctx->state_dir, g_strerror (errno));
    return 1;
  }
  schema = g_build_filename (ctx->data_dir, "schemas", "config.schema.json", NULL);
  pipelines = g_build_filename (ctx->data_dir, "pipelines", NULL);

  /* core */
  ctx->config = tcd_config_new (ctx->state_dir, schema, &err);
  if (!ctx->config) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 1;
  }
  ctx->users = tcd_users_new (ctx->state_dir, TCD_REALM);
  ctx->security = tcd_security_new (ctx->state_dir);
  tcd_security_set_minute (ctx->security, MAX (1, lock_minute));
  tcd_security_set_lock_callback (ctx->security, on_lock, &d);
  if (tcd_systemd_journal ())
    tcd_security_set_audit_callback (ctx->security, tcd_systemd_audit, NULL);
  tcd_security_configure (ctx->security, tcd_config_get_section (ctx->config, "security"));
  ctx->serial = load_serial (ctx->state_dir);
  ctx->bus = tcd_bus_new ();
  ctx->upgrade = tcd_upgrade_new (ctx->state_dir, ctx->data_dir, self,
      self_version ? self_version : PACKAGE_VERSION);
  if (upgrade_max_bytes > 0)
    tcd_upgrade_set_max_bytes (ctx->upgrade, upgrade_max_bytes);
  tcd_upgrade_set_restart (ctx->upgrade, upgrade_restart, &d);
  ctx->change = tcd_change_new (ctx->config, ctx->security, ctx->bus);
  /* the device clock: its offset kept in the state, its zone from the configuration */
  tcd_clock_init (ctx->state_dir);
  clock_apply (tcd_config_get (ctx->config), NULL, NULL);
  /* the model of GET /device, without the note on a simulated sensor */
  tcd_snapshot_set_identity ("thermocam TC-640", ctx->serial);

  /* media */
  ctx->pipeline = tcd_pipeline_new (pipelines, ctx->source, &err);
  if (!ctx->pipeline) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 2;
  }
  picture = g_build_filename (ctx->state_dir, "overlay.bmp", NULL);
  tcd_pipeline_set_picture_path (ctx->pipeline, picture);
  /* the streams' encoders: they run while someone takes their H.264 */
  ctx->encoders = tcd_encoders_new (ctx->pipeline, pipelines, tcd_config_get (ctx->config));
  /* the defective pixels corrected by hand, kept with the calibration */
  ctx->dpc = tcd_dpc_new (ctx->pipeline, ctx->security, ctx->state_dir);

  /* linkage */
  ctx->events = tcd_events_new (ctx->config, ctx->security, ctx->bus, ctx->pipeline,
      ctx->state_dir, ctx->serial, &err);
  if (!ctx->events) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 1;
  }
  tcd_pipeline_set_callbacks (ctx->pipeline, tcd_events_pipeline_message,
      tcd_events_pipeline_exception, ctx->events);
  ctx->commands = tcd_commands_new (ctx->change, ctx->security, ctx->users, ctx->pipeline,
      ctx->events, ctx->state_dir);
  tcd_commands_set_hooks (ctx->commands, &hooks);
  /* the history: readings and events to SQLite (its own thread writes) */
  ctx->history = tcd_history_new (ctx->config, ctx->bus, ctx->pipeline, ctx->state_dir, &err);
  if (!ctx->history) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 1;
  }

  ctx->timesync = tcd_timesync_new (ctx->events);
  tcd_timesync_apply (ctx->timesync, tcd_config_get (ctx->config));
  /* the network settings and their backend (they add to the change path) */
  ctx->net = tcd_net_new (ctx->change, ctx->events, ctx->bus, ctx->security, network_backend,
      ctx->state_dir, &err);
  if (!ctx->net) {
    g_printerr ("thermocamd: --network-backend: %s\n", err->message);
    return 1;
  }
  /* the audit log to a log server: every record queued while it is on */
  ctx->syslog = tcd_syslog_new (ctx->security, ctx->state_dir, ctx->serial, &err);
  if (!ctx->syslog) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 1;
  }
  tcd_syslog_apply (ctx->syslog, tcd_config_get (ctx->config));
  /* the RS-232 port (its uses are the service serial) and the hardware
   * this appliance may lack, through their backend */
  ctx->rs232 = tcd_rs232_new ();
  tcd_rs232_apply (ctx->rs232, tcd_config_get (ctx->config));
  ctx->hardware = tcd_hw_new (hardware_backend, &err);
  if (!ctx->hardware) {
    g_printerr ("thermocamd: --hardware-backend: %s\n", err->message);
    return 1;
  }
  tcd_hw_apply (ctx->hardware, tcd_config_get (ctx->config));

  /* services */
  d.services = ctx->services = tcd_services_new ();
  for (guint i = 0; i < G_N_ELEMENTS (service_table); i++)
    tcd_services_add (d.services, service_table[i], service_table[i]->create (ctx));

  /* the change path: checks, views, and who is told, in order */
  tcd_change_add_check (ctx->change, "ports", check_ports, &d);
  tcd_change_add_check (ctx->change, "ip_filter", tcd_change_check_ip_filter, NULL);
  tcd_change_add_check (ctx->change, "streams", check_streams, &d);
  tcd_change_add_check (ctx->change, "units", tcd_units_check, NULL);
  tcd_change_add_check (ctx->change, "log_server", tcd_syslog_check, NULL);
  tcd_change_add_check (ctx->change, "serial", tcd_rs232_check, NULL);
  tcd_change_add_policy (ctx->change, "ports", ports_incoming, ports_view, &d);
  tcd_change_subscribe (ctx->change, TCD_CHANGE_ORDER_MEDIA, "pipeline", pipeline_apply, NULL,
      ctx->pipeline);
  tcd_change_subscribe (ctx->change, TCD_CHANGE_ORDER_MEDIA, "encoders", encoders_apply, NULL,
      ctx->encoders);
  tcd_change_subscribe (ctx->change, TCD_CHANGE_ORDER_LINKAGE, "events", events_apply, NULL,
      ctx->events);
  tcd_change_subscribe (ctx->change, TCD_CHANGE_ORDER_LINKAGE, "history", history_apply, NULL,
      ctx->history);
  tcd_change_subscribe (ctx->change, TCD_CHANGE_ORDER_LINKAGE, "time", time_apply, NULL, ctx);
  tcd_change_subscribe (ctx->change, TCD_CHANGE_ORDER_SECURITY, "clock", clock_apply, NULL, NULL);
  tcd_change_subscribe (ctx->change, TCD_CHANGE_ORDER_LINKAGE, "log_server", syslog_apply, NULL,
      ctx->syslog);
  tcd_change_subscribe (ctx->change, TCD_CHANGE_ORDER_LINKAGE, "serial", rs232_apply, NULL,
      ctx->rs232);
  tcd_change_subscribe (ctx->change, TCD_CHANGE_ORDER_LINKAGE, "hardware", hw_apply, NULL,
      ctx->hardware);
  tcd_change_subscribe (ctx->change, TCD_CHANGE_ORDER_SERVICES, "services", services_apply,
      services_users, &d);
  tcd_change_subscribe (ctx->change, TCD_CHANGE_ORDER_DAEMON, "daemon", daemon_apply, NULL, &d);

  d.loop = g_main_loop_new (NULL, FALSE);
  d.systemd = tcd_systemd_new (ctx->pipeline, ctx->bus);
  if (!start_servers (&d, &err)) {
    g_printerr ("thermocamd: %s\n", err->message);
    return 1;
  }
  g_unix_signal_add (SIGINT, on_signal, &d);
  g_unix_signal_add (SIGTERM, on_signal, &d);
  print_ready (&d);
  if (!tcd_users_is_activated (ctx->users))
    g_print ("thermocamd: the device is not activated: POST /api/v1/activate "
        "{\"password\": \"...\"}\n");
  g_message ("version %s started (state in %s)", tcd_upgrade_version (ctx->upgrade),
      ctx->state_dir);
  fflush (stdout);
  tcd_daemon_confirm_start (ctx, listen_address (&d), tcd_services_port (d.services, "http"),
      upgrade_confirm_s);
  g_main_loop_run (d.loop);

  if (d.reboot_id)
    g_source_remove (d.reboot_id);
  /* no streaming thread calls a service while it goes */
  tcd_pipeline_stop (ctx->pipeline);
  tcd_systemd_free (d.systemd);
  tcd_services_free (d.services);
  tcd_encoders_free (ctx->encoders);
  tcd_dpc_free (ctx->dpc);
  tcd_commands_free (ctx->commands);
  tcd_history_free (ctx->history);
  tcd_timesync_free (ctx->timesync);
  tcd_net_free (ctx->net);
  tcd_syslog_free (ctx->syslog);
  tcd_rs232_free (ctx->rs232);
  tcd_hw_free (ctx->hardware);
  tcd_events_free (ctx->events);
  tcd_pipeline_free (ctx->pipeline);
  tcd_change_free (ctx->change);
  tcd_bus_free (ctx->bus);
  tcd_users_free (ctx->users);
  tcd_security_free (ctx->security);
  tcd_config_free (ctx->config);
  if (d.upgrade_exec) {
    g_autofree gchar *next_exe = g_build_filename (ctx->state_dir, "current", "bin",
        "thermocamd", NULL);
    g_auto (GStrv) next = tcd_daemon_exec_argv (orig_argc, orig_argv, d.port_names,
        d.exec_ports);
    tcd_daemon_upgrade_exec (self, ctx->state_dir, MAX (5, upgrade_deadline_s), next_exe,
        next);
    ret = 1;                    /* the exec failed: the watchdog rolls back */
  }
  tcd_upgrade_free (ctx->upgrade);
  g_main_loop_unref (d.loop);
  g_free ((gchar *) ctx->state_dir);
  g_free ((gchar *) ctx->data_dir);
  g_free ((gchar *) ctx->source);
  g_free ((gchar *) ctx->serial);
  g_free (d.listen);
  gst_deinit ();
  return ret;
}
