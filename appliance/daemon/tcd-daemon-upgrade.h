/* thermocamd: the daemon's side of an upgrade (core/tcd-upgrade.h): the
 * watchdog's entry, the command line a new version is started with, the
 * exec, and the trial's confirmation
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "tcd-service.h"
#include "tcd-upgrade.h"

G_BEGIN_DECLS

/* thermocamd --upgrade-watchdog PID STATE_DIR DEADLINE_S ARGV...: TRUE
 * when @argv asks for the watchdog (it ran; *status is the exit status) */
gboolean tcd_daemon_watchdog_main (gint argc, gchar **argv, gint *status);

/* The command line of the next version: @argv without --data-dir (each
 * version has its own data) and without the --NAME-port options, then
 * --NAME-port=N for each of @names whose @ports[i] is not -1 (the ports
 * the flags gave, as bound: a flag of 0 keeps the port it got) */
gchar  **tcd_daemon_exec_argv (gint argc, gchar **argv, const gchar *const *names,
                               const gint *ports);

/* Starts the watchdog (this program, @self) and replaces this process with
 * @exe; returns only if the exec failed */
void     tcd_daemon_upgrade_exec (const gchar *self, const gchar *state_dir,
                                  guint deadline_s, const gchar *exe, gchar **argv);

/* A trial start: confirms itself once the pipeline has run @confirm_s
 * seconds and the HTTP port answers on @address (NULL: loopback) */
void     tcd_daemon_confirm_start (TcdContext *ctx, const gchar *address, guint http_port,
                                   guint confirm_s);

G_END_DECLS
