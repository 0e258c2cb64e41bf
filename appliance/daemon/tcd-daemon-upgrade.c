/* thermocamd: the daemon's side of an upgrade (tcd-daemon-upgrade.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The restart into a new version: the servers and the pipeline have
 * stopped (the main loop ended); this program is started again as the
 * watchdog (a new process, so nothing of this one's threads is carried
 * over a fork), then this process execs the new version, keeping its PID
 * (a service manager sees the same main process) and its standard output.
 * The watchdog is the new version's child: it is reaped when it ends.
 */
#include "tcd-daemon-upgrade.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "tc-json.h"

#define WATCHDOG_ENV "THERMOCAMD_WATCHDOG_PID"

gboolean
tcd_daemon_watchdog_main (gint argc, gchar **argv, gint *status)
{
  gchar **rest;

  if (argc < 2 || !g_str_equal (argv[1], "--upgrade-watchdog"))
    return FALSE;
  if (argc < 6) {
    g_printerr ("thermocamd: --upgrade-watchdog PID STATE_DIR DEADLINE_S ARGV...\n");
    *status = 2;
    return TRUE;
  }
  rest = g_strdupv (argv + 5);
  *status = tcd_upgrade_watchdog (argv[3], atoi (argv[2]), atoi (argv[4]), rest);
  g_strfreev (rest);
  return TRUE;
}

static gboolean
takes_value (const gchar *a, const gchar *const *names, gboolean *drop)
{
  *drop = FALSE;
  if (g_str_equal (a, "--data-dir")) {
    *drop = TRUE;
    return TRUE;
  }
  if (g_str_has_prefix (a, "--data-dir=")) {
    *drop = TRUE;
    return FALSE;
  }
  for (guint i = 0; names[i]; i++) {
    g_autofree gchar *opt = g_strdup_printf ("--%s-port", names[i]);
    if (g_str_equal (a, opt)) {
      *drop = TRUE;
      return TRUE;
    }
    if (g_str_has_prefix (a, opt) && a[strlen (opt)] == '=') {
      *drop = TRUE;
      return FALSE;
    }
  }
  return FALSE;
}

gchar **
tcd_daemon_exec_argv (gint argc, gchar **argv, const gchar *const *names, const gint *ports)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (out, g_strdup (argv[0]));
  for (gint i = 1; i < argc; i++) {
    gboolean drop;
    gboolean value = takes_value (argv[i], names, &drop);

    if (!drop)
      g_ptr_array_add (out, g_strdup (argv[i]));
    if (value)
      i++;
  }
  for (guint i = 0; names[i]; i++)
    if (ports[i] >= 0)
      g_ptr_array_add (out, g_strdup_printf ("--%s-port=%d", names[i], ports[i]));
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

void
tcd_daemon_upgrade_exec (const gchar *self, const gchar *state_dir, guint deadline_s,
    const gchar *exe, gchar **argv)
{
  g_autoptr (GPtrArray) wargv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) err = NULL;
  GPid pid = 0;

  g_ptr_array_add (wargv, g_strdup (self));
  g_ptr_array_add (wargv, g_strdup ("--upgrade-watchdog"));
  g_ptr_array_add (wargv, g_strdup_printf ("%d", (gint) getpid ()));
  g_ptr_array_add (wargv, g_strdup (state_dir));
  g_ptr_array_add (wargv, g_strdup_printf ("%u", deadline_s));
  for (guint i = 0; argv[i]; i++)
    g_ptr_array_add (wargv, g_strdup (argv[i]));
  g_ptr_array_add (wargv, NULL);
  /* not reaped here (no double fork): it stays this PID's child */
  if (!g_spawn_async (NULL, (gchar **) wargv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
          NULL, &pid, &err))
    g_warning ("upgrade: no watchdog (%s): a failed start is rolled back at the next start",
        err->message);
  else {
    g_autofree gchar *p = g_strdup_printf ("%d", (gint) pid);
    g_setenv (WATCHDOG_ENV, p, TRUE);
  }
  g_message ("upgrade: starting %s", exe);
  tcd_upgrade_exec (exe, argv);
}

/* ---- the trial's confirmation ---- */

typedef struct {
  TcdContext *ctx;
  gchar *address;
  guint port, confirm_s, ticks;
  gint64 frames_at_start;
} Confirm;

static gint64
frames (TcdContext *ctx)
{
  g_autoptr (JsonNode) s = tcd_pipeline_stats (ctx->pipeline);
  return s && JSON_NODE_HOLDS_OBJECT (s)
      ? tc_json_get_int (json_node_get_object (s), "frames", 0) : 0;
}

static gboolean
http_answers (Confirm *c)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;

  g_socket_client_set_timeout (client, 2);
  conn = g_socket_client_connect_to_host (client, c->address, c->port, NULL, NULL);
  return conn != NULL;
}

/* the configuration as this version reads it (fields added since get
 * their defaults, renamed ones their new names), written once in its form */
static void
save_migrated (TcdContext *ctx)
{
  g_autofree gchar *path = g_build_filename (ctx->state_dir, "config.json", NULL);
  g_autofree gchar *text = tcd_json_to_string (tcd_config_get (ctx->config), TRUE);
  g_autoptr (GError) err = NULL;

  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT
          | G_FILE_SET_CONTENTS_DURABLE, 0600, &err))
    g_warning ("upgrade: %s", err->message);
}

static gboolean
confirm_tick (gpointer data)
{
  Confirm *c = data;

  if (++c->ticks < c->confirm_s)
    return G_SOURCE_CONTINUE;
  if (frames (c->ctx) <= c->frames_at_start || !http_answers (c)) {
    g_message ("upgrade: not confirmed yet (the pipeline or HTTP does not answer)");
    return G_SOURCE_CONTINUE;   /* the watchdog's deadline decides */
  }
  save_migrated (c->ctx);
  tcd_upgrade_confirm (c->ctx->upgrade);
  tcd_audit (c->ctx->security, "system", NULL, NULL, "upgrade to version %s confirmed",
      tcd_upgrade_version (c->ctx->upgrade));
  return G_SOURCE_REMOVE;
}

static void
confirm_free (gpointer data)
{
  Confirm *c = data;
  g_free (c->address);
  g_free (c);
}

static void
watchdog_ended (GPid pid, gint status, gpointer user_data)
{
  g_spawn_close_pid (pid);
}

void
tcd_daemon_confirm_start (TcdContext *ctx, const gchar *address, guint http_port,
    guint confirm_s)
{
  const gchar *w = g_getenv (WATCHDOG_ENV);
  Confirm *c;

  /* the watchdog the previous version left is this process's child */
  if (w) {
    GPid pid = atoi (w);
    if (pid > 0)
      g_child_watch_add (pid, watchdog_ended, NULL);
    g_unsetenv (WATCHDOG_ENV);
  }
  if (!tcd_upgrade_is_trial (ctx->upgrade))
    return;
  c = g_new0 (Confirm, 1);
  c->ctx = ctx;
  c->address = g_strdup (address && !g_str_equal (address, "::") && !g_str_equal (address,
          "0.0.0.0") ? address : "127.0.0.1");
  c->port = http_port;
  c->confirm_s = MAX (1, confirm_s);
  c->frames_at_start = frames (ctx);
  g_message ("upgrade: trial start of version %s, confirmed after %u s",
      tcd_upgrade_version (ctx->upgrade), c->confirm_s);
  g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, 1, confirm_tick, c, confirm_free);
}
