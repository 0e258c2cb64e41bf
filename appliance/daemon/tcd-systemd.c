/* thermocamd: the daemon as a systemd service: readiness, the watchdog and
 * the journal (tcd-systemd.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-systemd.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "tc-json.h"
#include "tcd-watchdog.h"
#include "tcd-config.h"

struct _TcdSystemd {
  TcdPipeline *pipeline;
  TcdBus *bus;
  guint bus_id;

  gboolean notify;              /* NOTIFY_SOCKET was given */
  gboolean ready_sent;

  TcdWatchdog watchdog;         /* period_us 0: no watchdog */
  guint watchdog_id;
  gboolean stalled;             /* said once per stall */
};

/* ---- the watchdog ---- */

/* On the main loop: that it runs is the first half of the check; the core
 * pipeline's counters moving is the second */
static gboolean
watchdog_tick (gpointer user_data)
{
  TcdSystemd *s = user_data;
  g_autoptr (JsonNode) stats = tcd_pipeline_stats (s->pipeline);
  JsonObject *o = json_node_get_object (stats);
  gint64 frames = tc_json_get_int (o, "frames", 0);
  gint64 restarts = tc_json_get_int (o, "restarts", 0);

  if (tcd_watchdog_check (&s->watchdog, frames, restarts, g_get_monotonic_time ())) {
    if (s->stalled)
      sd_notify (0, "STATUS=the core pipeline runs again");
    s->stalled = FALSE;
    sd_notify (0, "WATCHDOG=1");
  } else if (!s->stalled) {
    /* no ping: systemd restarts the daemon when WatchdogSec= runs out */
    s->stalled = TRUE;
    g_printerr ("thermocamd: the core pipeline made no progress for %" G_GUINT64_FORMAT
        " ms: the watchdog is no longer told all is well\n", s->watchdog.period_us / 1000);
    sd_notify (0, "STATUS=the core pipeline is stuck: the watchdog will restart the daemon");
  }
  return G_SOURCE_CONTINUE;
}

/* ---- the journal ---- */

static void
add_field (GLogField *f, guint *n, const gchar *key, const gchar *value)
{
  if (!value || !*value)
    return;
  f[*n].key = key;
  f[*n].value = value;
  f[*n].length = -1;
  (*n)++;
}

/* One journal entry per event, with the daemon's own fields:
 * THERMOCAM_EVENT (the type), THERMOCAM_SOURCE, THERMOCAM_RULE,
 * THERMOCAM_ADDRESS, THERMOCAM_LEVEL, THERMOCAM_STATE, THERMOCAM_JSON */
static void
on_event (TcdEventType type, JsonNode *event, gpointer user_data)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (event) ? json_node_get_object (event) : NULL;
  const gchar *source, *address, *level, *state, *name, *kind, *message, *change;
  g_autofree gchar *rule = NULL, *json = NULL;
  g_autoptr (GString) text = g_string_new (tcd_event_type_name (type));
  GLogField f[13];
  guint n = 0;
  GLogLevelFlags log_level = G_LOG_LEVEL_MESSAGE;

  if (!o)
    return;
  source = tc_json_get_string (o, "source", NULL);
  address = tc_json_get_string (o, "address", NULL);
  level = tc_json_get_string (o, "level", NULL);
  state = tc_json_get_string (o, "state", NULL);
  name = tc_json_get_string (o, "name", NULL);
  kind = type == TCD_EVENT_EXCEPTION ? tc_json_get_string (o, "type", NULL) : NULL;
  message = tc_json_get_string (o, "message", NULL);
  change = tc_json_get_string (o, "change", NULL);
  if (json_object_has_member (o, "rule")
      && JSON_NODE_HOLDS_VALUE (json_object_get_member (o, "rule")))
    rule = g_strdup_printf ("%" G_GINT64_FORMAT, tc_json_get_int (o, "rule", 0));
  json = tcd_json_to_string (event, FALSE);

  g_string_append (text, ":");
  if (source && g_strcmp0 (source, tcd_event_type_name (type)) != 0)
    g_string_append_printf (text, " %s", source);
  if (rule)
    g_string_append_printf (text, " %s", rule);
  if (name)
    g_string_append_printf (text, " \"%s\"", name);
  if (level)
    g_string_append_printf (text, " %s", level);
  if (state)
    g_string_append_printf (text, " %s", state);
  if (kind)
    g_string_append_printf (text, " %s", kind);
  if (change)
    g_string_append_printf (text, " %s", change);
  if (address)
    g_string_append_printf (text, " from %s", address);
  if (message)
    g_string_append_printf (text, ": %s", message);

  if ((type == TCD_EVENT_ALARM && g_strcmp0 (state, "start") == 0)
      || type == TCD_EVENT_EXCEPTION)
    log_level = G_LOG_LEVEL_WARNING;
  add_field (f, &n, "MESSAGE", text->str);
  /* g_log_structured_array() adds no priority: the journal's, by syslog's
   * numbers (warning 4, notice 5), as g_log_structured() would */
  add_field (f, &n, "PRIORITY", log_level == G_LOG_LEVEL_WARNING ? "4" : "5");
  add_field (f, &n, "GLIB_DOMAIN", "thermocamd");
  add_field (f, &n, "SYSLOG_IDENTIFIER", "thermocamd");
  add_field (f, &n, "THERMOCAM_EVENT", tcd_event_type_name (type));
  add_field (f, &n, "THERMOCAM_SOURCE", source);
  add_field (f, &n, "THERMOCAM_RULE", rule);
  add_field (f, &n, "THERMOCAM_ADDRESS", address);
  add_field (f, &n, "THERMOCAM_LEVEL", level);
  add_field (f, &n, "THERMOCAM_STATE", state);
  add_field (f, &n, "THERMOCAM_JSON", json);
  g_log_structured_array (log_level, f, n);
}

gboolean
tcd_systemd_journal (void)
{
  return g_log_writer_is_journald (fileno (stderr));
}

/* Any thread: the journald writer of GLib is thread-safe */
void
tcd_systemd_audit (const gchar *type, const gchar *user, const gchar *address,
    const gchar *detail, gpointer user_data)
{
  g_autofree gchar *text = g_strdup_printf ("audit: %s%s%s%s%s: %s", type,
      user ? " by " : "", user ? user : "", address ? " from " : "", address ? address : "",
      detail ? detail : "");
  GLogField f[8];
  guint n = 0;

  add_field (f, &n, "MESSAGE", text);
  /* failed logins and locks: warning (4); the rest: notice (5) */
  add_field (f, &n, "PRIORITY", g_str_has_prefix (type, "login_failed")
      || g_str_equal (type, "lock") ? "4" : "5");
  add_field (f, &n, "GLIB_DOMAIN", "thermocamd");
  add_field (f, &n, "SYSLOG_IDENTIFIER", "thermocamd");
  add_field (f, &n, "THERMOCAM_AUDIT", type);
  add_field (f, &n, "THERMOCAM_USER", user);
  add_field (f, &n, "THERMOCAM_ADDRESS", address);
  g_log_structured_array (G_LOG_LEVEL_MESSAGE, f, n);
}

/* ---- the service ---- */

TcdSystemd *
tcd_systemd_new (TcdPipeline *pipeline, TcdBus *bus)
{
  TcdSystemd *s = g_new0 (TcdSystemd, 1);
  const gchar *socket = g_getenv ("NOTIFY_SOCKET");
  uint64_t usec = 0;

  s->pipeline = pipeline;
  s->bus = bus;
  s->notify = socket && *socket;
  if (s->notify && sd_watchdog_enabled (0, &usec) > 0 && usec > 0) {
    tcd_watchdog_init (&s->watchdog, usec, g_get_monotonic_time ());
    /* twice per period, as sd_watchdog_enabled(3) advises */
    s->watchdog_id = g_timeout_add (MAX (usec / 2000, 1), watchdog_tick, s);
  }
  /* stderr is the journal: the events go there with their fields (the
   * journald writer of GLib; elsewhere they are not printed) */
  if (tcd_systemd_journal ())
    s->bus_id = tcd_bus_subscribe (bus, TCD_EVENT_ALL & ~TCD_EVENT_MASK (TCD_EVENT_MEASUREMENT),
        on_event, s);
  return s;
}

void
tcd_systemd_free (TcdSystemd *s)
{
  if (!s)
    return;
  if (s->watchdog_id)
    g_source_remove (s->watchdog_id);
  if (s->bus_id)
    tcd_bus_unsubscribe (s->bus, s->bus_id);
  g_free (s);
}

void
tcd_systemd_ready (TcdSystemd *s, const gchar *status)
{
  if (!s->notify)
    return;
  if (!s->ready_sent)
    sd_notifyf (0, "READY=1\nSTATUS=%s", status);
  else
    sd_notifyf (0, "STATUS=%s", status);
  s->ready_sent = TRUE;
}

void
tcd_systemd_stopping (TcdSystemd *s)
{
  if (s && s->notify)
    sd_notify (0, "STOPPING=1\nSTATUS=stopping");
}

gchar *
tcd_systemd_state_directory (void)
{
  const gchar *env = g_getenv ("STATE_DIRECTORY");
  g_auto (GStrv) dirs = NULL;

  if (!env || !*env)
    return NULL;
  dirs = g_strsplit (env, ":", 2);
  return g_strdup (dirs[0]);
}
