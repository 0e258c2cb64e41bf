/* thermocamd: upgrade (manual 10.6): versions installed beside each other,
 * switched atomically, a trial start that confirms itself or rolls back
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * In the state directory:
 *   versions/<v>/     an installed tree (bin/thermocamd, lib/, share/thermocam/)
 *                     with .manifest.json, the package's manifest
 *   current           symlink to versions/<v>: the version that runs; absent:
 *                     the program that was installed on the system ("base")
 *   upgrade.json      {"state": "trial" | "confirmed" | "rolled_back" | "failed",
 *                     "version", "from", "from_target", "base_exe", "attempts",
 *                     "time", "message"}
 *   upgrade/          uploads being received; config-before.json, the
 *                     configuration as the previous version had it
 *
 * The switch: the package is checked whole and unpacked into
 * versions/.tmp-*, renamed to versions/<v>; the configuration is copied
 * aside; upgrade.json says "trial"; a new symlink is renamed over
 * "current"; the daemon stops its servers, starts a watchdog (the old
 * program with --upgrade-watchdog PID) and execs the new one.  The new
 * version confirms itself once it has run (tcd_upgrade_confirm): the
 * watchdog then exits.  If the new one dies first, or has not confirmed by
 * the deadline, the watchdog kills it, switches "current" back, puts the
 * configuration back and execs the previous version.  Without the
 * watchdog (the machine went down in the trial), the next start does the
 * same: a trial that was started once and never confirmed is rolled back
 * (tcd_upgrade_boot).
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _TcdUpgrade TcdUpgrade;

/* The installed tree @exe runs from (…/versions/<v>/bin/thermocamd, or any
 * tree with a .manifest.json): its root, and its version in @version;
 * NULL: not a tree of ours (a build tree or the system's program) */
gchar *tcd_upgrade_tree_of (const gchar *exe, gchar **version);

typedef enum {
  TCD_UPGRADE_BOOT_RUN,         /* go on */
  TCD_UPGRADE_BOOT_EXEC,        /* exec *exe instead (another version is current) */
} TcdUpgradeBoot;

/* At the start, before anything else: what upgrade.json and "current" say
 * this start must do (a trial counted, a failed trial rolled back, the
 * current version started instead of the system's program).  @self: this
 * program (/proc/self/exe); @self_version its version. */
TcdUpgradeBoot tcd_upgrade_boot (const gchar *state_dir, const gchar *self,
                                 const gchar *self_version, gchar **exe);
/* Rolls a trial back (the watchdog, the boot): "current" back, the
 * configuration back; the previous version's program in *exe */
gboolean tcd_upgrade_rollback (const gchar *state_dir, const gchar *why, gchar **exe);
/* Replaces this process with @exe (its tree's lib/ first on the library
 * path) and @argv (argv[0] is replaced); returns only on failure */
void     tcd_upgrade_exec (const gchar *exe, gchar **argv);
/* The watchdog's loop (thermocamd --upgrade-watchdog PID): waits for the
 * trial to be confirmed, or for @pid to die or @deadline_s to pass, then
 * rolls back and execs the previous version with @argv.  Returns the exit
 * status. */
gint     tcd_upgrade_watchdog (const gchar *state_dir, gint pid, guint deadline_s,
                               gchar **argv);

TcdUpgrade *tcd_upgrade_new (const gchar *state_dir, const gchar *data_dir,
                             const gchar *self, const gchar *version);
void        tcd_upgrade_free (TcdUpgrade *u);
const gchar *tcd_upgrade_version (TcdUpgrade *u);
void        tcd_upgrade_set_max_bytes (TcdUpgrade *u, guint64 max_bytes);
guint64     tcd_upgrade_get_max_bytes (TcdUpgrade *u);
/* A new file for an upload in upgrade/ (free the path); NULL while an
 * upgrade is under way (one at a time) */
gchar      *tcd_upgrade_begin (TcdUpgrade *u, GError **error);
/* The upload ended without a package (refused, cut) */
void        tcd_upgrade_abort (TcdUpgrade *u, const gchar *path, const gchar *state,
                               const gchar *message);
void        tcd_upgrade_progress (TcdUpgrade *u, const gchar *state, guint percent);
/* In a worker thread: checks and installs the package at @path (removed
 * after) beside the running version and switches "current" to it;
 * @config_path the configuration to keep aside for a rollback */
gboolean    tcd_upgrade_install (TcdUpgrade *u, const gchar *path, gboolean force,
                                 const gchar *config_path, gchar **version, GError **error);
/* Who restarts the daemon into the new version (the daemon; called on the
 * main context by tcd_upgrade_restart, after the answer has gone) */
typedef void (*TcdUpgradeRestartFunc) (gpointer user_data);
void        tcd_upgrade_set_restart (TcdUpgrade *u, TcdUpgradeRestartFunc func,
                                     gpointer user_data);
void        tcd_upgrade_restart (TcdUpgrade *u);
/* Is this start a trial that has to confirm itself? */
gboolean    tcd_upgrade_is_trial (TcdUpgrade *u);
/* The trial went well: the version stays; older ones than the previous go */
void        tcd_upgrade_confirm (TcdUpgrade *u);
/* {"version", "state", "progress", "message", "previous", "installed": [...],
 *  "max_bytes", "last": upgrade.json} */
JsonNode   *tcd_upgrade_status (TcdUpgrade *u);

G_END_DECLS
