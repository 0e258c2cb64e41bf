/* thermocamd: the maintenance console on the RS-232 line (manual 10.9)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What it answers: tcd-serial.h.
 */
#include "tcd-serial.h"

#include <string.h>

#include "tcd-clock.h"
#include "tcd-readings.h"
#include "tc-json.h"

#define LOGIN_IDLE_US (5 * 60 * G_USEC_PER_SEC)
#define ADDRESS "serial"

typedef enum { READ_COMMAND, READ_USER, READ_PASSWORD } Mode;

struct _SerialConsole {
  TcdContext *ctx;
  TcdRs232 *port;
  Mode mode;
  gchar line[SERIAL_LINE_MAX + 1];
  gsize len;
  gboolean overlong;
  gboolean last_cr;             /* CR LF is one end of line */
  gchar *user;                  /* logged in */
  gchar *login_name;            /* asked for */
  gint64 last_input_us;
  guint64 commands, logins_failed;
};

static void
say (SerialConsole *c, const gchar *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
say (SerialConsole *c, const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *s = NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  va_start (ap, fmt);
  s = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  /* the line's ends as a terminal wants them */
  for (const gchar *p = s; *p; p++) {
    if (*p == '\n')
      g_string_append_c (out, '\r');
    g_string_append_c (out, *p);
  }
  tcd_rs232_write (c->port, (const guint8 *) out->str, out->len);
}

static void
prompt (SerialConsole *c)
{
  switch (c->mode) {
    case READ_USER:
      say (c, "user: ");
      break;
    case READ_PASSWORD:
      say (c, "password: ");
      break;
    default:
      say (c, "%s> ", c->user ? c->user : "thermocam");
  }
}

SerialConsole *
serial_console_new (TcdContext *ctx, TcdRs232 *port)
{
  SerialConsole *c = g_new0 (SerialConsole, 1);

  c->ctx = ctx;
  c->port = port;
  return c;
}

void
serial_console_free (SerialConsole *c)
{
  if (!c)
    return;
  g_free (c->user);
  g_free (c->login_name);
  memset (c->line, 0, sizeof c->line);
  g_free (c);
}

static void
logout (SerialConsole *c, const gchar *why)
{
  if (c->user) {
    tcd_audit (c->ctx->security, "logout", c->user, ADDRESS, "serial console: %s", why);
    g_clear_pointer (&c->user, g_free);
  }
}

void
serial_console_reset (SerialConsole *c, gboolean banner)
{
  logout (c, "the port was reset");
  g_clear_pointer (&c->login_name, g_free);
  c->mode = READ_COMMAND;
  memset (c->line, 0, sizeof c->line);
  c->len = 0;
  c->overlong = FALSE;
  if (banner && tcd_rs232_is_open (c->port)) {
    say (c, "\nthermocam %s maintenance console; type help\n",
        tcd_upgrade_version (c->ctx->upgrade));
    prompt (c);
  }
}

/* ---- commands ---- */

static void
cmd_help (SerialConsole *c, gchar **argv)
{
  say (c, "help          this list\n"
      "version       firmware, model and serial number\n"
      "status        device, uptime, pipeline, ports\n"
      "time          the device's time\n"
      "temperatures  the scene's and the rules' readings\n"
      "port          this serial port's settings and counters\n"
      "login         log in with an account of the device (for what follows)\n"
      "ffc           a flat-field correction (logged in)\n"
      "reboot        restart the servers (logged in)\n"
      "logout        end the login\n");
}

static void
cmd_version (SerialConsole *c, gchar **argv)
{
  say (c, "firmware %s\nmodel thermocam TC-640\nserial %s\n",
      tcd_upgrade_version (c->ctx->upgrade), c->ctx->serial ? c->ctx->serial : "");
}

static void
cmd_time (SerialConsole *c, gchar **argv)
{
  g_autoptr (GDateTime) now = tcd_clock_now_local ();
  g_autofree gchar *s = g_date_time_format (now, "%Y-%m-%d %H:%M:%S %z");
  say (c, "%s\n", s);
}

static void
cmd_status (SerialConsole *c, gchar **argv)
{
  gint64 up = (g_get_monotonic_time () - c->ctx->started_us) / G_USEC_PER_SEC;
  g_autoptr (JsonNode) ps = tcd_pipeline_stats (c->ctx->pipeline);
  JsonObject *po = ps && JSON_NODE_HOLDS_OBJECT (ps) ? json_node_get_object (ps) : NULL;

  say (c, "name %s (number %" G_GINT64_FORMAT ")\n",
      tcd_config_string (c->ctx->config, "device.name"),
      tcd_config_int (c->ctx->config, "device.number"));
  say (c, "uptime %" G_GINT64_FORMAT "d %02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT
      ":%02" G_GINT64_FORMAT "\n", up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
  if (po)
    say (c, "pipeline %s (%s, %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "), %" G_GINT64_FORMAT
        " frames\n", tc_json_get_bool (po, "running", FALSE) ? "running" : "stopped",
        tc_json_get_string (po, "source", "?"), (gint64) tc_json_get_int (po, "width", 0),
        (gint64) tc_json_get_int (po, "height", 0), (gint64) tc_json_get_int (po, "frames", 0));
  say (c, "http port %u, rtsp port %u\n", tcd_services_port (c->ctx->services, "http"),
      tcd_services_port (c->ctx->services, "rtsp"));
  say (c, "activated %s\n", tcd_users_is_activated (c->ctx->users) ? "yes" : "no");
}

static void
print_temp (SerialConsole *c, const gchar *name, JsonObject *o)
{
  if (!tc_json_get_bool (o, "valid", TRUE) || !json_object_has_member (o, "max")) {
    say (c, "%-16s no reading\n", name);
    return;
  }
  say (c, "%-16s max %7.2f  min %7.2f  avg %7.2f C  %s%s\n", name,
      tc_json_get_double (o, "max", 0), tc_json_get_double (o, "min", 0),
      tc_json_get_double (o, "avg", 0), tc_json_get_string (o, "state", ""),
      tc_json_get_bool (o, "above_range", FALSE) ? " (above the range)"
      : tc_json_get_bool (o, "below_range", FALSE) ? " (below the range)" : "");
}

static void
cmd_temperatures (SerialConsole *c, gchar **argv)
{
  GstSample *s;
  g_autoptr (JsonNode) r = NULL;
  JsonObject *o, *scene;
  JsonArray *rules;

  if (!tcd_config_bool (c->ctx->config, "thermometry.enabled")) {
    say (c, "temperature measurement is off (thermometry.enabled)\n");
    return;
  }
  s = tcd_pipeline_get_temperature (c->ctx->pipeline);
  if (s) {
    gdouble lo, hi;
    tcd_reading_range (c->ctx->config, &lo, &hi);
    r = tcd_reading_from_sample (s, lo, hi);
    gst_sample_unref (s);
  }
  if (!r || !JSON_NODE_HOLDS_OBJECT (r)) {
    say (c, "no measurement yet: the sensor is starting\n");
    return;
  }
  o = json_node_get_object (r);
  say (c, "%s%s\n", tc_json_get_string (o, "time", ""),
      tc_json_get_bool (o, "valid", TRUE) ? "" : " (shutter closed)");
  scene = tc_json_get_object (o, "scene");
  if (scene)
    print_temp (c, "scene", scene);
  rules = tc_json_get_array (o, "rules");
  for (guint i = 0; rules && i < json_array_get_length (rules); i++) {
    JsonObject *rule = tc_json_array_get_object (rules, i);
    g_autofree gchar *name = NULL;
    if (!rule)
      continue;
    name = g_strdup_printf ("%" G_GINT64_FORMAT " %s", (gint64) tc_json_get_int (rule, "id", 0),
        tc_json_get_string (rule, "name", ""));
    print_temp (c, name, rule);
  }
}

static void
cmd_port (SerialConsole *c, gchar **argv)
{
  g_autoptr (JsonNode) st = tcd_rs232_status (c->port);
  JsonObject *o = json_node_get_object (st);

  say (c, "%s %s, use %s\nbytes in %" G_GINT64_FORMAT ", out %" G_GINT64_FORMAT
      ", dropped %" G_GINT64_FORMAT "\n",
      tc_json_get_string (o, "device", ""), tc_json_get_string (o, "settings", ""),
      tc_json_get_string (o, "use", ""), (gint64) tc_json_get_int (o, "bytes_in", 0),
      (gint64) tc_json_get_int (o, "bytes_out", 0), (gint64) tc_json_get_int (o, "dropped", 0));
}

static TcdOrigin
origin (SerialConsole *c, const gchar *what)
{
  TcdOrigin o = { what, c->user, ADDRESS, "serial" };
  return o;
}

static gboolean
need_login (SerialConsole *c)
{
  serial_console_security_changed (c);
  if (c->user && g_get_monotonic_time () - c->last_input_us <= LOGIN_IDLE_US)
    return TRUE;
  say (c, "log in first (login): this command acts on the device\n");
  return FALSE;
}

static void
cmd_ffc (SerialConsole *c, gchar **argv)
{
  TcdOrigin o = origin (c, "ffc");
  gint64 wait_us = 0;

  if (!need_login (c))
    return;
  if (tcd_commands_ffc (c->ctx->commands, &o, &wait_us))
    say (c, "flat-field correction done\n");
  else
    say (c, "too soon: again in %.1f s\n", wait_us / 1e6);
}

static void
cmd_reboot (SerialConsole *c, gchar **argv)
{
  TcdOrigin o = origin (c, "reboot");

  if (!need_login (c))
    return;
  say (c, "the servers restart\n");
  tcd_commands_reboot (c->ctx->commands, &o);
}

static void
cmd_login (SerialConsole *c, gchar **argv)
{
  gint64 remaining = 0;

  if (tcd_security_is_locked (c->ctx->security, ADDRESS, &remaining)) {
    say (c, "locked after failed logins: %" G_GINT64_FORMAT " s more\n", remaining);
    return;
  }
  logout (c, "a new login");
  g_clear_pointer (&c->login_name, g_free);
  if (argv[1]) {
    c->login_name = g_strndup (argv[1], 32);
    c->mode = READ_PASSWORD;
  } else {
    c->mode = READ_USER;
  }
}

static void
cmd_logout (SerialConsole *c, gchar **argv)
{
  if (!c->user) {
    say (c, "not logged in\n");
    return;
  }
  say (c, "%s logged out\n", c->user);
  logout (c, "logout");
}

static const struct {
  const gchar *name;
  void (*func) (SerialConsole *c, gchar **argv);
} commands[] = {
  { "help", cmd_help }, { "?", cmd_help },
  { "version", cmd_version },
  { "status", cmd_status },
  { "time", cmd_time },
  { "temperatures", cmd_temperatures }, { "temp", cmd_temperatures },
  { "port", cmd_port },
  { "login", cmd_login },
  { "logout", cmd_logout }, { "exit", cmd_logout },
  { "ffc", cmd_ffc },
  { "reboot", cmd_reboot },
};

static void
password_given (SerialConsole *c, const gchar *password)
{
  const gchar *name = c->login_name ? c->login_name : "";
  TcdLevel level = tcd_users_get_level (c->ctx->users, name);

  if (tcd_users_check_password (c->ctx->users, name, password) && level >= TCD_LEVEL_OPERATOR
      && (tcd_users_get_permissions (c->ctx->users, name) & TCD_PERM_SERIAL)) {
    c->user = g_strdup (name);
    tcd_security_login_succeeded (c->ctx->security, ADDRESS, "serial", name, TRUE);
    say (c, "logged in as %s (%s)\n", name, tcd_level_to_string (level));
  } else {
    c->logins_failed++;
    tcd_security_login_failed (c->ctx->security, ADDRESS, "serial", name);
    say (c, "login incorrect (an operator or administrator account with the serial port permission)\n");
  }
  g_clear_pointer (&c->login_name, g_free);
}

static void
line_done (SerialConsole *c)
{
  g_auto (GStrv) argv = NULL;
  Mode mode = c->mode;

  c->line[c->len] = '\0';
  if (c->overlong) {
    say (c, "line too long (at most %d characters)\n", SERIAL_LINE_MAX);
    c->mode = READ_COMMAND;
    goto done;
  }
  c->mode = READ_COMMAND;
  if (mode == READ_USER) {
    g_strstrip (c->line);
    if (*c->line) {
      c->login_name = g_strndup (c->line, 32);
      c->mode = READ_PASSWORD;
    }
    goto done;
  }
  if (mode == READ_PASSWORD) {
    password_given (c, c->line);
    goto done;
  }
  argv = g_strsplit_set (g_strstrip (c->line), " \t", 4);
  if (!argv[0] || !*argv[0])
    goto done;
  c->commands++;
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_ascii_strcasecmp (argv[0], commands[i].name) == 0) {
      commands[i].func (c, argv);
      goto done;
    }
  say (c, "unknown command '%.32s' (help lists them)\n", argv[0]);
done:
  memset (c->line, 0, sizeof c->line);
  c->len = 0;
  c->overlong = FALSE;
  prompt (c);
}

void
serial_console_input (SerialConsole *c, const guint8 *data, gsize len)
{
  gint64 now = g_get_monotonic_time ();

  if (c->user && now - c->last_input_us > LOGIN_IDLE_US)
    logout (c, "5 minutes without input");
  c->last_input_us = now;
  for (gsize i = 0; i < len; i++) {
    guint8 ch = data[i];
    gboolean was_cr = c->last_cr;

    c->last_cr = ch == '\r';
    if (ch == '\n' && was_cr)
      continue;
    if (ch == '\r' || ch == '\n') {
      say (c, "\n");
      line_done (c);
    } else if (ch == 0x7f || ch == 0x08) {
      if (c->len > 0) {
        c->len--;
        if (c->mode != READ_PASSWORD)
          say (c, "\b \b");
      }
    } else if (ch == 0x03) {          /* ^C: the line is dropped */
      say (c, "^C\n");
      c->mode = READ_COMMAND;
      c->len = 0;
      c->overlong = FALSE;
      prompt (c);
    } else if (ch >= 0x20 && ch < 0x7f) {
      if (c->len < SERIAL_LINE_MAX) {
        c->line[c->len++] = ch;
        if (c->mode != READ_PASSWORD) {
          gchar e = ch;
          tcd_rs232_write (c->port, (const guint8 *) &e, 1);
        }
      } else {
        c->overlong = TRUE;
      }
    }
  }
}

void
serial_console_security_changed (SerialConsole *c)
{
  if (c->user && (tcd_users_get_level (c->ctx->users, c->user) < TCD_LEVEL_OPERATOR
          || !(tcd_users_get_permissions (c->ctx->users, c->user) & TCD_PERM_SERIAL)))
    logout (c, "the account was removed or lowered");
}

JsonNode *
serial_console_stats (SerialConsole *c)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  if (c->user)
    json_builder_add_string_value (b, c->user);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "commands");
  json_builder_add_int_value (b, c->commands);
  json_builder_set_member_name (b, "logins_failed");
  json_builder_add_int_value (b, c->logins_failed);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
