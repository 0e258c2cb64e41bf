/* thermocamd: upgrade: install, switch, confirm or roll back (tcd-upgrade.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every step leaves the state directory in a state the next start
 * understands: the tree is renamed into versions/ whole; upgrade.json is
 * written (temporary file, fsync, rename) before "current" moves; "current"
 * moves by renaming a new symlink over it.  A start that finds "trial"
 * either is that trial (counted: a second start of a trial that never
 * confirmed is rolled back) or is another program (then the trial is
 * started, or rolled back when it had its chance).
 */
#include "tcd-upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tc-json.h"
#include "tcd-config.h"
#include "tcd-package.h"

#define STATE_MAX (64 * 1024)
#define DEFAULT_MAX_BYTES (256 * 1024 * 1024)

struct _TcdUpgrade {
  gchar *state_dir, *data_dir, *self, *version, *base_exe;
  GMutex lock;
  gchar *state;                 /* idle, receiving, verifying, installing, restarting, failed */
  gchar *message;
  guint percent;
  gboolean busy;
  gboolean trial;
  guint64 max_bytes;
  TcdUpgradeRestartFunc restart;
  gpointer restart_data;
};

static gchar *
path_in (const gchar *state_dir, const gchar *name)
{
  return g_build_filename (state_dir, name, NULL);
}

static JsonNode *
read_state (const gchar *state_dir)
{
  g_autofree gchar *p = path_in (state_dir, "upgrade.json");
  JsonNode *n;

  if (!g_file_test (p, G_FILE_TEST_EXISTS))
    return NULL;
  n = tc_json_parse_file (p, STATE_MAX, 8, NULL);
  if (n && !JSON_NODE_HOLDS_OBJECT (n))
    g_clear_pointer (&n, json_node_unref);
  return n;
}

static gboolean
write_state (const gchar *state_dir, JsonNode *st)
{
  g_autofree gchar *p = path_in (state_dir, "upgrade.json");
  g_autofree gchar *text = json_to_string (st, TRUE);
  g_autoptr (GError) err = NULL;

  if (!g_file_set_contents (p, text, -1, &err)) {
    g_warning ("upgrade: %s", err->message);
    return FALSE;
  }
  return TRUE;
}

static const gchar *
st_string (JsonNode *st, const gchar *name)
{
  return st ? tc_json_get_string (json_node_get_object (st), name, "") : "";
}

/* "versions/<v>", or NULL: no "current" (the base program) */
static gchar *
current_target (const gchar *state_dir)
{
  g_autofree gchar *p = path_in (state_dir, "current");
  return g_file_read_link (p, NULL);
}

static gboolean
set_current (const gchar *state_dir, const gchar *target)
{
  g_autofree gchar *cur = path_in (state_dir, "current");
  g_autofree gchar *tmp = path_in (state_dir, "current.new");

  if (!target || !*target)
    return g_unlink (cur) == 0 || errno == ENOENT;
  g_unlink (tmp);
  if (symlink (target, tmp) != 0 || rename (tmp, cur) != 0) {
    g_warning ("upgrade: cannot switch %s to %s: %s", cur, target, g_strerror (errno));
    return FALSE;
  }
  {
    gint fd = open (state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      fsync (fd);
      close (fd);
    }
  }
  return TRUE;
}

static gchar *
exe_of (const gchar *state_dir, const gchar *target, const gchar *base_exe)
{
  if (!target || !*target)
    return g_strdup (base_exe);
  return g_build_filename (state_dir, target, "bin", "thermocamd", NULL);
}

static gboolean
same_file (const gchar *a, const gchar *b)
{
  g_autofree gchar *x = a ? realpath (a, NULL) : NULL;
  g_autofree gchar *y = b ? realpath (b, NULL) : NULL;
  return x && y && g_str_equal (x, y);
}

static void
remove_tree (const gchar *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const gchar *n;

  while (d && (n = g_dir_read_name (d))) {
    g_autofree gchar *p = g_build_filename (path, n, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
      remove_tree (p);
    else
      g_unlink (p);
  }
  g_rmdir (path);
}

gchar *
tcd_upgrade_tree_of (const gchar *exe, gchar **version)
{
  g_autofree gchar *real = exe ? realpath (exe, NULL) : NULL;
  g_autofree gchar *bin = real ? g_path_get_dirname (real) : NULL;
  g_autofree gchar *root = bin ? g_path_get_dirname (bin) : NULL;
  g_autofree gchar *mpath = root ? g_build_filename (root, ".manifest.json", NULL) : NULL;
  g_autoptr (JsonNode) m = NULL;
  const gchar *v;

  if (!mpath || !g_file_test (mpath, G_FILE_TEST_IS_REGULAR))
    return NULL;
  m = tc_json_parse_file (mpath, 4 * 1024 * 1024, 16, NULL);
  v = m && JSON_NODE_HOLDS_OBJECT (m)
      ? tc_json_get_string (json_node_get_object (m), "version", NULL) : NULL;
  if (!tcd_version_valid (v))
    return NULL;
  if (version)
    *version = g_strdup (v);
  return g_steal_pointer (&root);
}

gboolean
tcd_upgrade_rollback (const gchar *state_dir, const gchar *why, gchar **exe)
{
  g_autoptr (JsonNode) st = read_state (state_dir);
  g_autofree gchar *saved = path_in (state_dir, "upgrade/config-before.json");
  g_autofree gchar *config = path_in (state_dir, "config.json");
  g_autofree gchar *failed = NULL;
  g_autofree gchar *text = NULL;
  gsize len = 0;
  JsonObject *o;

  if (!st || !g_str_equal (st_string (st, "state"), "trial")) {
    g_autofree gchar *t = current_target (state_dir);
    *exe = exe_of (state_dir, t, st_string (st, "base_exe"));
    return FALSE;
  }
  o = json_node_get_object (st);
  g_warning ("upgrade: rolling back from %s to %s: %s", st_string (st, "version"),
      st_string (st, "from"), why);
  set_current (state_dir, st_string (st, "from_target"));
  if (g_file_get_contents (saved, &text, &len, NULL)
      && !g_file_set_contents (config, text, len, NULL))
    g_warning ("upgrade: the configuration could not be put back");
  json_object_set_string_member (o, "state", "rolled_back");
  json_object_set_string_member (o, "message", why);
  json_object_set_int_member (o, "time", g_get_real_time () / G_USEC_PER_SEC);
  write_state (state_dir, st);
  failed = g_build_filename (state_dir, "versions", st_string (st, "version"), NULL);
  if (tcd_version_valid (st_string (st, "version")))
    remove_tree (failed);
  *exe = exe_of (state_dir, st_string (st, "from_target"), st_string (st, "base_exe"));
  return TRUE;
}

TcdUpgradeBoot
tcd_upgrade_boot (const gchar *state_dir, const gchar *self, const gchar *self_version,
    gchar **exe)
{
  g_autoptr (JsonNode) st = read_state (state_dir);
  g_autofree gchar *target = current_target (state_dir);

  *exe = NULL;
  if (st && g_str_equal (st_string (st, "state"), "trial")) {
    g_autofree gchar *trial = g_build_filename (state_dir, "versions",
        st_string (st, "version"), "bin", "thermocamd", NULL);
    gint64 attempts = tc_json_get_int (json_node_get_object (st), "attempts", 0);

    if (same_file (self, trial)) {
      if (attempts >= 1) {
        tcd_upgrade_rollback (state_dir, "the new version was started again before it "
            "confirmed its start", exe);
        return TCD_UPGRADE_BOOT_EXEC;
      }
      json_object_set_int_member (json_node_get_object (st), "attempts", attempts + 1);
      write_state (state_dir, st);
      return TCD_UPGRADE_BOOT_RUN;
    }
    if (attempts >= 1) {
      tcd_upgrade_rollback (state_dir, "the new version stopped before it confirmed its "
          "start", exe);
    } else {
      *exe = g_strdup (trial);
    }
  } else if (target) {
    g_autofree gchar *cur = exe_of (state_dir, target, NULL);
    g_autofree gchar *cur_version = NULL;
    g_autofree gchar *tree = tcd_upgrade_tree_of (cur, &cur_version);
    g_autofree gchar *self_tree = tcd_upgrade_tree_of (self, NULL);

    /* the system's program hands over to an installed version above its own */
    if (tree && !same_file (self, cur)
        && (self_tree || tcd_version_compare (cur_version, self_version) > 0))
      *exe = g_steal_pointer (&cur);
  }
  if (*exe && same_file (*exe, self))
    g_clear_pointer (exe, g_free);
  return *exe ? TCD_UPGRADE_BOOT_EXEC : TCD_UPGRADE_BOOT_RUN;
}

void
tcd_upgrade_exec (const gchar *exe, gchar **argv)
{
  g_autofree gchar *tree = tcd_upgrade_tree_of (exe, NULL);
  const gchar *base = g_getenv ("THERMOCAMD_BASE_LD_LIBRARY_PATH");
  g_autofree gchar *lib = NULL;

  /* the library path the system's program was started with, kept once */
  if (!base) {
    base = g_getenv ("LD_LIBRARY_PATH");
    g_setenv ("THERMOCAMD_BASE_LD_LIBRARY_PATH", base ? base : "", TRUE);
    base = base ? base : "";
  }
  if (tree) {
    g_autofree gchar *libdir = g_build_filename (tree, "lib", NULL);
    g_autoptr (GDir) d = g_dir_open (libdir, 0, NULL);
    const gchar *n;

    lib = g_strdup (libdir);
    /* lib/<triplet>/ of a Debian-style prefix too */
    while (d && (n = g_dir_read_name (d)))
      if (g_str_has_suffix (n, "-linux-gnu")) {
        gchar *more = g_strconcat (lib, ":", libdir, "/", n, NULL);
        g_free (lib);
        lib = more;
      }
    if (*base) {
      gchar *both = g_strconcat (lib, ":", base, NULL);
      g_free (lib);
      lib = both;
    }
    g_setenv ("LD_LIBRARY_PATH", lib, TRUE);
  } else if (*base) {
    g_setenv ("LD_LIBRARY_PATH", base, TRUE);
  } else {
    g_unsetenv ("LD_LIBRARY_PATH");
  }
  fflush (stdout);
  fflush (stderr);
  g_free (argv[0]);
  argv[0] = g_strdup (exe);
  execv (exe, argv);
  g_printerr ("thermocamd: cannot start %s: %s\n", exe, g_strerror (errno));
}

gint
tcd_upgrade_watchdog (const gchar *state_dir, gint pid, guint deadline_s, gchar **argv)
{
  gint64 end = g_get_monotonic_time () + (gint64) deadline_s * G_USEC_PER_SEC;

  for (;;) {
    g_autoptr (JsonNode) st = read_state (state_dir);
    g_autofree gchar *exe = NULL;
    const gchar *why = NULL;

    if (!st || !g_str_equal (st_string (st, "state"), "trial"))
      return 0;                 /* confirmed, or rolled back by the next start */
    if (getppid () != pid)
      why = "the new version stopped before it confirmed its start";
    else if (g_get_monotonic_time () > end)
      why = "the new version did not confirm its start in time";
    if (why) {
      if (getppid () == pid) {
        kill (pid, SIGKILL);
        for (guint i = 0; i < 100 && getppid () == pid; i++)
          g_usleep (50000);
      }
      tcd_upgrade_rollback (state_dir, why, &exe);
      if (exe)
        tcd_upgrade_exec (exe, argv);
      return 1;
    }
    g_usleep (200000);
  }
}

/* ---- the running daemon's side ---- */

TcdUpgrade *
tcd_upgrade_new (const gchar *state_dir, const gchar *data_dir, const gchar *self,
    const gchar *version)
{
  TcdUpgrade *u = g_new0 (TcdUpgrade, 1);
  g_autoptr (JsonNode) st = read_state (state_dir);
  g_autofree gchar *tree = tcd_upgrade_tree_of (self, NULL);

  u->state_dir = g_strdup (state_dir);
  u->data_dir = g_strdup (data_dir);
  u->self = g_strdup (self);
  u->version = g_strdup (version);
  u->state = g_strdup ("idle");
  u->max_bytes = DEFAULT_MAX_BYTES;
  g_mutex_init (&u->lock);
  /* the system's program: itself; an installed version: the one it came from */
  u->base_exe = g_strdup (tree ? st_string (st, "base_exe") : self);
  if (st && g_str_equal (st_string (st, "state"), "trial")) {
    g_autofree gchar *trial = g_build_filename (state_dir, "versions",
        st_string (st, "version"), "bin", "thermocamd", NULL);
    u->trial = same_file (self, trial);
  }
  return u;
}

void
tcd_upgrade_free (TcdUpgrade *u)
{
  if (!u)
    return;
  g_mutex_clear (&u->lock);
  g_free (u->state_dir);
  g_free (u->data_dir);
  g_free (u->self);
  g_free (u->version);
  g_free (u->base_exe);
  g_free (u->state);
  g_free (u->message);
  g_free (u);
}

const gchar *
tcd_upgrade_version (TcdUpgrade *u)
{
  return u->version;
}

void
tcd_upgrade_set_max_bytes (TcdUpgrade *u, guint64 max_bytes)
{
  u->max_bytes = max_bytes;
}

guint64
tcd_upgrade_get_max_bytes (TcdUpgrade *u)
{
  return u->max_bytes;
}

static void
set_state (TcdUpgrade *u, const gchar *state, guint percent, const gchar *message)
{
  g_mutex_lock (&u->lock);
  g_free (u->state);
  u->state = g_strdup (state);
  u->percent = percent;
  if (message) {
    g_free (u->message);
    u->message = g_strdup (message);
  }
  g_mutex_unlock (&u->lock);
}

gchar *
tcd_upgrade_begin (TcdUpgrade *u, GError **error)
{
  g_autofree gchar *dir = path_in (u->state_dir, "upgrade");
  g_autofree gchar *path = NULL;
  gint fd;

  g_mutex_lock (&u->lock);
  if (u->busy) {
    g_mutex_unlock (&u->lock);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY, "an upgrade is under way");
    return NULL;
  }
  u->busy = TRUE;
  g_mutex_unlock (&u->lock);
  g_mkdir_with_parents (dir, 0700);
  path = g_build_filename (dir, "package.XXXXXX", NULL);
  if ((fd = g_mkstemp_full (path, O_RDWR | O_CLOEXEC, 0600)) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", dir,
        g_strerror (errno));
    g_mutex_lock (&u->lock);
    u->busy = FALSE;
    g_mutex_unlock (&u->lock);
    return NULL;
  }
  close (fd);
  set_state (u, "receiving", 0, "");
  return g_steal_pointer (&path);
}

void
tcd_upgrade_abort (TcdUpgrade *u, const gchar *path, const gchar *state, const gchar *message)
{
  if (path)
    g_unlink (path);
  set_state (u, state, 0, message);
  g_mutex_lock (&u->lock);
  u->busy = FALSE;
  g_mutex_unlock (&u->lock);
}

void
tcd_upgrade_progress (TcdUpgrade *u, const gchar *state, guint percent)
{
  set_state (u, state, percent, NULL);
}

static void
on_progress (guint percent, gpointer user_data)
{
  set_state (user_data, "verifying", percent, NULL);
}

gboolean
tcd_upgrade_install (TcdUpgrade *u, const gchar *path, gboolean force,
    const gchar *config_path, gchar **version, GError **error)
{
  g_autofree gchar *versions = path_in (u->state_dir, "versions");
  g_autofree gchar *keys_data = g_build_filename (u->data_dir, "keys", NULL);
  g_autofree gchar *keys_state = path_in (u->state_dir, "keys");
  const gchar *dirs[] = { keys_data, keys_state, NULL };
  g_autofree gchar *tmp = NULL, *final = NULL, *mtext = NULL, *exe = NULL, *target = NULL;
  g_autofree gchar *saved = path_in (u->state_dir, "upgrade/config-before.json");
  g_autofree gchar *config = NULL, *mpath = NULL, *cur = NULL;
  g_autoptr (JsonNode) manifest = NULL, st = NULL;
  const gchar *v;
  JsonObject *o;
  gsize len = 0;

  set_state (u, "verifying", 0, "");
  g_mkdir_with_parents (versions, 0755);
  tmp = g_build_filename (versions, ".tmp-XXXXXX", NULL);
  if (!g_mkdtemp (tmp) || g_rmdir (tmp) != 0) {
    g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_IO, "%s: %s", versions,
        g_strerror (errno));
    goto failed;
  }
  manifest = tcd_package_unpack (path, dirs, u->version, force, u->max_bytes, tmp,
      on_progress, u, error);
  if (!manifest)
    goto failed;
  v = tc_json_get_string (json_node_get_object (manifest), "version", "");
  exe = g_build_filename (tmp, "bin", "thermocamd", NULL);
  if (tcd_version_compare (v, u->version) == 0) {
    g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_DOWNGRADE,
        "version %s is the one running", v);
    goto failed_tree;
  }
  if (!g_file_test (exe, G_FILE_TEST_IS_EXECUTABLE)) {
    g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_INVALID,
        "the package has no program bin/thermocamd");
    goto failed_tree;
  }
  set_state (u, "installing", 100, "");
  mtext = json_to_string (manifest, TRUE);
  mpath = g_build_filename (tmp, ".manifest.json", NULL);
  final = g_build_filename (versions, v, NULL);
  cur = current_target (u->state_dir);
  target = g_build_filename ("versions", v, NULL);
  if (!g_file_set_contents (mpath, mtext, -1, error))
    goto failed_tree;
  /* the same version again (forced): the old copy of it goes (not the one
   * running: refused above) */
  if (g_file_test (final, G_FILE_TEST_IS_DIR))
    remove_tree (final);
  if (g_rename (tmp, final) != 0) {
    g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_IO, "%s: %s", final,
        g_strerror (errno));
    goto failed_tree;
  }
  /* the configuration as this version has it, for a rollback */
  if (g_file_get_contents (config_path, &config, &len, NULL)
      && !g_file_set_contents (saved, config, len, error))
    goto failed;
  st = json_node_new (JSON_NODE_OBJECT);
  o = json_object_new ();
  json_node_take_object (st, o);
  json_object_set_string_member (o, "state", "trial");
  json_object_set_string_member (o, "version", v);
  json_object_set_string_member (o, "from", u->version);
  json_object_set_string_member (o, "from_target", cur ? cur : "");
  json_object_set_string_member (o, "base_exe", u->base_exe);
  json_object_set_int_member (o, "attempts", 0);
  json_object_set_int_member (o, "time", g_get_real_time () / G_USEC_PER_SEC);
  json_object_set_string_member (o, "message", "");
  if (!write_state (u->state_dir, st) || !set_current (u->state_dir, target)) {
    /* "current" did not move: the next start must not take it for a trial */
    json_object_set_string_member (o, "state", "failed");
    write_state (u->state_dir, st);
    g_set_error (error, TCD_PACKAGE_ERROR, TCD_PACKAGE_ERROR_IO,
        "the new version could not be made current");
    goto failed;
  }
  g_unlink (path);
  set_state (u, "restarting", 100, "");
  *version = g_strdup (v);
  return TRUE;

failed_tree:
  remove_tree (tmp);
failed:
  g_unlink (path);
  set_state (u, "failed", 0, (*error)->message);
  g_mutex_lock (&u->lock);
  u->busy = FALSE;
  g_mutex_unlock (&u->lock);
  return FALSE;
}

void
tcd_upgrade_set_restart (TcdUpgrade *u, TcdUpgradeRestartFunc func, gpointer user_data)
{
  u->restart = func;
  u->restart_data = user_data;
}

void
tcd_upgrade_restart (TcdUpgrade *u)
{
  if (u->restart)
    u->restart (u->restart_data);
}

gboolean
tcd_upgrade_is_trial (TcdUpgrade *u)
{
  return u->trial;
}

void
tcd_upgrade_confirm (TcdUpgrade *u)
{
  g_autoptr (JsonNode) st = read_state (u->state_dir);
  g_autofree gchar *versions = path_in (u->state_dir, "versions");
  g_autofree gchar *cur = current_target (u->state_dir);
  g_autoptr (GDir) d = NULL;
  const gchar *n, *from;

  if (!st || !u->trial)
    return;
  u->trial = FALSE;
  json_object_set_string_member (json_node_get_object (st), "state", "confirmed");
  json_object_set_int_member (json_node_get_object (st), "time",
      g_get_real_time () / G_USEC_PER_SEC);
  write_state (u->state_dir, st);
  g_message ("upgrade: version %s confirmed its start", u->version);
  /* kept: this version and the one before it */
  from = st_string (st, "from_target");
  d = g_dir_open (versions, 0, NULL);
  while (d && (n = g_dir_read_name (d))) {
    g_autofree gchar *t = g_build_filename ("versions", n, NULL);
    if (g_strcmp0 (t, cur) != 0 && g_strcmp0 (t, from) != 0) {
      g_autofree gchar *p = g_build_filename (versions, n, NULL);
      remove_tree (p);
    }
  }
}

JsonNode *
tcd_upgrade_status (TcdUpgrade *u)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) st = read_state (u->state_dir);
  g_autofree gchar *versions = path_in (u->state_dir, "versions");
  g_autofree gchar *cur = current_target (u->state_dir);
  g_autoptr (GDir) d = g_dir_open (versions, 0, NULL);
  const gchar *n;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, u->version);
  g_mutex_lock (&u->lock);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, u->trial ? "confirming" : u->state);
  json_builder_set_member_name (b, "progress");
  json_builder_add_int_value (b, u->percent);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, u->message ? u->message : "");
  g_mutex_unlock (&u->lock);
  json_builder_set_member_name (b, "current");
  json_builder_add_string_value (b, cur ? cur : "");
  json_builder_set_member_name (b, "installed");
  json_builder_begin_array (b);
  while (d && (n = g_dir_read_name (d)))
    if (tcd_version_valid (n))
      json_builder_add_string_value (b, n);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "max_bytes");
  json_builder_add_int_value (b, u->max_bytes);
  json_builder_set_member_name (b, "last");
  if (st)
    json_builder_add_value (b, json_node_ref (st));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
