/* thermocamd's IP filter, illegal login lock and audit log (appliance/tcd-security.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "tcd-security.h"

static JsonNode *
parse (const gchar *json)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, json, -1, NULL));
  return json_node_ref (json_parser_get_root (p));
}

static void
test_filter_entries (void)
{
  struct { const gchar *list; gboolean ok; guint bad; } cases[] = {
    {"[\"192.168.1.20\", \"10.0.0.0/8\", \"172.16.0.1-172.16.0.9\"]", TRUE, 0},
    {"[\"0.0.0.0/0\"]", TRUE, 0},
    {"[\"256.1.1.1\"]", FALSE, 0},
    {"[\"1.2.3.4\", \"1.2.3\"]", FALSE, 1},
    {"[\"1.2.3.4/33\"]", FALSE, 0},
    {"[\"1.2.3.4/\"]", FALSE, 0},
    {"[\"1.2.3.9-1.2.3.1\"]", FALSE, 0},
    {"[\"1.2.3.4x\"]", FALSE, 0},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (JsonNode) n = parse (cases[i].list);
    g_autoptr (GError) err = NULL;
    guint bad = 99;
    gboolean ok = tcd_ip_filter_check (json_node_get_array (n), &bad, &err);
    g_assert_cmpint (ok, ==, cases[i].ok);
    if (!ok) {
      g_assert_cmpuint (bad, ==, cases[i].bad);
      g_assert_nonnull (err);
    }
  }
}

static void
test_filter (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tc-sec-XXXXXX", NULL);
  TcdSecurity *s = tcd_security_new (dir);
  g_autoptr (JsonNode) deny = parse ("{\"ip_filter\": {\"enabled\": true, \"mode\": \"deny\","
      "\"addresses\": [\"10.0.0.0/8\", \"192.168.1.20-192.168.1.30\", \"1.2.3.4\"]}}");
  g_autoptr (JsonNode) allow = parse ("{\"ip_filter\": {\"enabled\": true, \"mode\": \"allow\","
      "\"addresses\": [\"10.0.0.0/8\"]}}");
  g_autoptr (JsonNode) off = parse ("{\"ip_filter\": {\"enabled\": false, \"mode\": \"allow\","
      "\"addresses\": []}}");

  /* off by default */
  g_assert_true (tcd_security_address_allowed_str (s, "10.1.2.3"));
  tcd_security_configure (s, deny);
  g_assert_false (tcd_security_address_allowed_str (s, "10.1.2.3"));
  g_assert_false (tcd_security_address_allowed_str (s, "10.255.255.255"));
  g_assert_true (tcd_security_address_allowed_str (s, "11.0.0.0"));
  g_assert_true (tcd_security_address_allowed_str (s, "192.168.1.19"));
  g_assert_false (tcd_security_address_allowed_str (s, "192.168.1.20"));
  g_assert_false (tcd_security_address_allowed_str (s, "192.168.1.30"));
  g_assert_true (tcd_security_address_allowed_str (s, "192.168.1.31"));
  g_assert_false (tcd_security_address_allowed_str (s, "1.2.3.4"));
  /* an IPv4 client on a dual-stack socket */
  g_assert_false (tcd_security_address_allowed_str (s, "::ffff:10.0.0.1"));
  /* the list is IPv4: other IPv6 clients are never listed */
  g_assert_true (tcd_security_address_allowed_str (s, "::1"));
  g_assert_false (tcd_security_address_allowed_str (s, "not an address"));
  tcd_security_configure (s, allow);
  g_assert_true (tcd_security_address_allowed_str (s, "10.9.8.7"));
  g_assert_false (tcd_security_address_allowed_str (s, "127.0.0.1"));
  g_assert_false (tcd_security_address_allowed_str (s, "::1"));
  tcd_security_configure (s, off);
  g_assert_true (tcd_security_address_allowed_str (s, "127.0.0.1"));
  tcd_security_free (s);
}

static guint locks_seen, lock_minutes;
static gchar *lock_address;

static void
on_lock (const gchar *address, const gchar *service, const gchar *user, guint minutes,
    gpointer user_data)
{
  g_free (lock_address);
  lock_address = g_strdup (address);
  lock_minutes = minutes;
  locks_seen++;
}

/* the lock calls are on the main context */
static void
run_lock_calls (void)
{
  while (g_main_context_iteration (NULL, FALSE));
}

static void
lock_configure (TcdSecurity *s, guint attempts, guint minutes)
{
  g_autofree gchar *json = g_strdup_printf ("{\"illegal_login_lock\": {\"enabled\": true,"
      "\"attempts\": %u, \"duration_min\": %u}}", attempts, minutes);
  g_autoptr (JsonNode) cfg = parse (json);

  tcd_security_configure (s, cfg);
}

static TcdSecurity *
lock_new (gchar **dir, guint attempts)
{
  TcdSecurity *s;

  *dir = g_dir_make_tmp ("tc-sec-XXXXXX", NULL);
  s = tcd_security_new (*dir);
  tcd_security_set_minute (s, 1);       /* a minute lasts a second here */
  tcd_security_set_lock_callback (s, on_lock, NULL);
  lock_configure (s, attempts, 1);
  run_lock_calls ();
  locks_seen = 0;
  return s;
}

static void
test_lock (void)
{
  g_autofree gchar *dir = NULL;
  TcdSecurity *s = lock_new (&dir, 3);
  g_autoptr (JsonNode) off = parse ("{\"illegal_login_lock\": {\"enabled\": false,"
      "\"attempts\": 3, \"duration_min\": 1}}");
  gint64 left = 0;

  g_assert_false (tcd_security_login_failed (s, "10.0.0.5", "http", "admin"));
  g_assert_false (tcd_security_login_failed (s, "10.0.0.5", "http", "admin"));
  /* a good login in between starts the count again */
  tcd_security_login_succeeded (s, "10.0.0.5", "http", "admin", FALSE);
  g_assert_false (tcd_security_login_failed (s, "10.0.0.5", "rtsp", "admin"));
  g_assert_false (tcd_security_login_failed (s, "10.0.0.5", "rtsp", "admin"));
  g_assert_false (tcd_security_is_locked (s, "10.0.0.5", NULL));
  g_assert_true (tcd_security_login_failed (s, "10.0.0.5", "rtsp", "admin"));
  g_assert_true (tcd_security_is_locked (s, "10.0.0.5", &left));
  g_assert_cmpint (left, ==, 1);
  g_assert_false (tcd_security_is_locked (s, "10.0.0.6", NULL));
  /* more failures while locked do not lock again */
  g_assert_false (tcd_security_login_failed (s, "10.0.0.5", "rtsp", "x"));
  /* nor does a good login unlock */
  tcd_security_login_succeeded (s, "10.0.0.5", "rtsp", "admin", FALSE);
  g_assert_true (tcd_security_is_locked (s, "10.0.0.5", NULL));
  run_lock_calls ();
  g_assert_cmpuint (locks_seen, ==, 1);
  g_assert_cmpstr (lock_address, ==, "10.0.0.5");
  g_assert_cmpuint (lock_minutes, ==, 1);
  g_usleep (1100 * 1000);
  g_assert_false (tcd_security_is_locked (s, "10.0.0.5", NULL));
  /* a fresh start after the lock */
  g_assert_false (tcd_security_login_failed (s, "10.0.0.5", "rtsp", "admin"));
  g_assert_false (tcd_security_login_failed (s, "10.0.0.5", "rtsp", "admin"));
  /* off: nothing locks */
  tcd_security_configure (s, off);
  for (guint i = 0; i < 10; i++)
    g_assert_false (tcd_security_login_failed (s, "10.0.0.7", "http", NULL));
  g_assert_false (tcd_security_is_locked (s, "10.0.0.7", NULL));
  run_lock_calls ();
  tcd_security_free (s);
}

/* failures count per (address, user name): a good login as one account
 * does not give fresh guesses at another; one count locks the address */
static void
test_lock_names (void)
{
  g_autofree gchar *dir = NULL;
  TcdSecurity *s = lock_new (&dir, 3);

  /* an operator's good logins (or a Digest client's requests) between
   * guesses at admin's password */
  for (guint i = 0; i < 2; i++) {
    g_assert_false (tcd_security_login_failed (s, "10.0.0.5", "http", "admin"));
    tcd_security_login_succeeded (s, "10.0.0.5", "rtsp", "op", FALSE);
    tcd_security_login_succeeded (s, "10.0.0.5", "web", "op", TRUE);
  }
  g_assert_true (tcd_security_login_failed (s, "10.0.0.5", "http", "admin"));
  g_assert_true (tcd_security_is_locked (s, "10.0.0.5", NULL));

  /* a good login clears its own name's count only */
  g_assert_false (tcd_security_login_failed (s, "10.0.0.6", "web", "admin"));
  g_assert_false (tcd_security_login_failed (s, "10.0.0.6", "web", "admin"));
  g_assert_false (tcd_security_login_failed (s, "10.0.0.6", "web", "bob"));
  g_assert_false (tcd_security_login_failed (s, "10.0.0.6", "web", "bob"));
  tcd_security_login_succeeded (s, "10.0.0.6", "web", "admin", TRUE);
  g_assert_false (tcd_security_login_failed (s, "10.0.0.6", "web", "admin"));
  g_assert_true (tcd_security_login_failed (s, "10.0.0.6", "web", "bob"));

  /* no name counts under a name of its own, and reaches the limit too */
  g_assert_false (tcd_security_login_failed (s, "10.0.0.7", "rtsp", NULL));
  g_assert_false (tcd_security_login_failed (s, "10.0.0.7", "rtsp", NULL));
  g_assert_false (tcd_security_login_failed (s, "10.0.0.7", "rtsp", "admin"));
  g_assert_false (tcd_security_login_failed (s, "10.0.0.7", "rtsp", "admin"));
  tcd_security_login_succeeded (s, "10.0.0.7", "rtsp", "admin", FALSE);
  g_assert_true (tcd_security_login_failed (s, "10.0.0.7", "rtsp", NULL));
  /* a name longer than any account's counts as none */
  g_assert_false (tcd_security_login_failed (s, "10.0.0.9", "http", ""));
  g_assert_false (tcd_security_login_failed (s, "10.0.0.9", "http", NULL));
  g_assert_true (tcd_security_login_failed (s, "10.0.0.9", "http",
          "a-name-longer-than-32-characters-x"));

  /* many names: past a bound they share one count, so memory stays bounded
   * and spraying names still locks */
  {
    gboolean locked = FALSE;
    for (guint i = 0; i < 200 && !locked; i++) {
      g_autofree gchar *name = g_strdup_printf ("u%u", i);
      locked = tcd_security_login_failed (s, "10.0.0.8", "web", name);
    }
    g_assert_true (locked);
  }
  run_lock_calls ();
  g_assert_cmpuint (locks_seen, ==, 5);
  tcd_security_free (s);
}

/* IPv6 clients are tracked and locked by their /64; IPv4-mapped addresses
 * are IPv4 */
static void
test_lock_ipv6 (void)
{
  g_autofree gchar *dir = NULL;
  TcdSecurity *s = lock_new (&dir, 3);
  gint64 left = 0;

  g_assert_false (tcd_security_login_failed (s, "2001:db8:1:2::1", "http", "admin"));
  g_assert_false (tcd_security_login_failed (s, "2001:db8:1:2:aaaa::2", "http", "admin"));
  g_assert_true (tcd_security_login_failed (s, "2001:DB8:1:2:ffff:1:2:3", "http", "admin"));
  g_assert_true (tcd_security_is_locked (s, "2001:db8:1:2::1", &left));
  g_assert_cmpint (left, ==, 1);
  g_assert_true (tcd_security_is_locked (s, "2001:db8:1:2:1234:5678:9abc:def0", NULL));
  g_assert_false (tcd_security_is_locked (s, "2001:db8:1:3::1", NULL));
  run_lock_calls ();
  g_assert_cmpstr (lock_address, ==, "2001:db8:1:2::/64");

  /* a zone index is not part of the address */
  g_assert_false (tcd_security_login_failed (s, "fe80::1%eth0", "rtsp", NULL));
  g_assert_false (tcd_security_login_failed (s, "fe80::2", "rtsp", NULL));
  g_assert_true (tcd_security_login_failed (s, "fe80::3%2", "rtsp", NULL));
  g_assert_true (tcd_security_is_locked (s, "fe80::99%eth1", NULL));

  /* ::ffff:a.b.c.d (RTSP, Modbus on a dual-stack socket) is a.b.c.d (HTTP) */
  g_assert_false (tcd_security_login_failed (s, "::ffff:10.0.0.9", "rtsp", "admin"));
  g_assert_false (tcd_security_login_failed (s, "10.0.0.9", "http", "admin"));
  g_assert_true (tcd_security_login_failed (s, "::ffff:10.0.0.9", "rtsp", "admin"));
  g_assert_true (tcd_security_is_locked (s, "10.0.0.9", NULL));
  g_assert_true (tcd_security_is_locked (s, "::ffff:10.0.0.9", NULL));
  g_assert_false (tcd_security_is_locked (s, "10.0.0.10", NULL));
  g_assert_false (tcd_security_is_locked (s, "::ffff:10.0.0.10", NULL));
  run_lock_calls ();
  g_assert_cmpstr (lock_address, ==, "10.0.0.9");
  tcd_security_free (s);
}

static gchar *
nth_address (guint i)
{
  return g_strdup_printf ("10.1.%u.%u", i / 256, i % 256);
}

/* the table of addresses is bounded; a full one drops unlocked addresses,
 * the oldest first, and never a lock that lasts */
static void
test_lock_table (void)
{
  g_autofree gchar *dir = NULL, *dir1 = NULL;
  TcdSecurity *s = lock_new (&dir, 2);
  g_autofree gchar *a0 = nth_address (0), *a1 = nth_address (1), *a2 = nth_address (2),
      *a3 = nth_address (3);

  for (guint i = 0; i < 4096; i++) {
    g_autofree gchar *a = nth_address (i);
    g_assert_false (tcd_security_login_failed (s, a, "http", "admin"));
  }
  g_assert_true (tcd_security_login_failed (s, a0, "http", "admin"));
  /* room for a new address: the oldest unlocked one (a1) goes */
  g_assert_false (tcd_security_login_failed (s, "10.2.0.1", "http", "admin"));
  g_assert_true (tcd_security_is_locked (s, a0, NULL));
  g_assert_false (tcd_security_login_failed (s, a1, "http", "admin"));
  /* a2 went for a1; a3 kept its count */
  g_assert_true (tcd_security_login_failed (s, a3, "http", "admin"));
  g_assert_false (tcd_security_login_failed (s, a2, "http", "admin"));
  run_lock_calls ();
  tcd_security_free (s);

  /* all locked: no lock is lost (long locks, as writing the audit records
   * takes a while, and a short one), and a new address shares one entry
   * with every other untracked one: it still locks (all of them) */
  s = lock_new (&dir1, 1);
  lock_configure (s, 1, 600);
  for (guint i = 0; i < 4095; i++) {
    g_autofree gchar *a = nth_address (i);
    g_assert_true (tcd_security_login_failed (s, a, "http", "admin"));
  }
  lock_configure (s, 1, 1);
  g_assert_true (tcd_security_login_failed (s, "10.3.0.1", "http", "admin"));
  g_assert_false (tcd_security_is_locked (s, "10.2.0.1", NULL));
  g_assert_true (tcd_security_login_failed (s, "10.2.0.1", "http", "admin"));
  g_assert_true (tcd_security_is_locked (s, "10.2.0.1", NULL));
  g_assert_true (tcd_security_is_locked (s, "10.2.0.2", NULL));
  for (guint i = 0; i < 4095; i++) {
    g_autofree gchar *a = nth_address (i);
    g_assert_true (tcd_security_is_locked (s, a, NULL));
  }
  g_assert_true (tcd_security_is_locked (s, "10.3.0.1", NULL));
  run_lock_calls ();
  g_assert_cmpuint (locks_seen, ==, 4097);
  /* an address that logged in well before is not shut out by the shared
   * lock of the untracked addresses; its own failures still lock it */
  tcd_security_login_succeeded (s, "10.9.0.1", "http", "admin", FALSE);
  g_assert_false (tcd_security_is_locked (s, "10.9.0.1", NULL));
  g_assert_true (tcd_security_is_locked (s, "10.9.0.2", NULL));
  /* the short locks run out: room again, and the untracked are free */
  g_usleep (1100 * 1000);
  g_assert_false (tcd_security_is_locked (s, "10.2.0.2", NULL));
  g_assert_true (tcd_security_login_failed (s, "10.2.0.1", "http", "admin"));
  g_assert_true (tcd_security_is_locked (s, "10.2.0.1", NULL));
  g_assert_true (tcd_security_is_locked (s, a0, NULL));
  run_lock_calls ();
  tcd_security_free (s);
}

static void
test_audit (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tc-sec-XXXXXX", NULL);
  g_autofree gchar *log = g_build_filename (dir, "audit.log", NULL);
  g_autofree gchar *log1 = g_build_filename (dir, "audit.log.1", NULL);
  g_autofree gchar *log5 = g_build_filename (dir, "audit.log.5", NULL);
  TcdSecurity *s = tcd_security_new (dir);
  g_autoptr (JsonNode) all = NULL, users = NULL, none = NULL;
  g_autofree gchar *pad = g_strnfill (400, 'x');
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  GStatBuf st;
  JsonObject *first;

  tcd_audit (s, "user", "admin", "10.0.0.1", "added \"op\" (operator)");
  tcd_audit (s, "config", NULL, NULL, "changed %s", "config.device");
  all = tcd_audit_query (s, NULL, 0, 0);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (all)), ==, 2);
  first = json_array_get_object_element (json_node_get_array (all), 0);
  g_assert_cmpstr (json_object_get_string_member (first, "type"), ==, "user");
  g_assert_cmpstr (json_object_get_string_member (first, "detail"), ==, "added \"op\" (operator)");
  g_assert_cmpstr (json_object_get_string_member (first, "address"), ==, "10.0.0.1");
  g_assert_true (json_object_get_null_member (json_array_get_object_element (json_node_get_array
              (all), 1), "user"));
  users = tcd_audit_query (s, "user", now - 5, now + 5);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (users)), ==, 1);
  none = tcd_audit_query (s, NULL, now + 100, 0);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (none)), ==, 0);
  g_assert_cmpint (g_stat (log, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* rotation: about 2.5 MiB of records keep at most 4 old files + the current */
  for (guint i = 0; i < 5000; i++)
    tcd_audit (s, "system", NULL, NULL, "%u %s", i, pad);
  g_assert_true (g_file_test (log1, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (log5, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_stat (log, &st), ==, 0);
  g_assert_cmpint (st.st_size, <, 600 * 1024);
  {
    g_autoptr (JsonNode) kept = tcd_audit_query (s, "system", 0, 0);
    JsonArray *a = json_node_get_array (kept);
    guint n = json_array_get_length (a);
    const gchar *last = json_object_get_string_member (json_array_get_object_element (a,
            n - 1), "detail");
    /* the newest are all there, in order; the oldest went first */
    g_assert_cmpuint (n, >, 3000);
    g_assert_cmpuint (n, <, 5000);
    g_assert_true (g_str_has_prefix (last, "4999 "));
  }
  tcd_security_free (s);
  /* a torn last line (a crash while writing) is skipped; the next record
   * starts on a line of its own */
  {
    FILE *f = fopen (log, "a");
    fputs ("{\"time\":\"2026-", f);
    fclose (f);
    s = tcd_security_new (dir);
    tcd_audit (s, "reboot", NULL, NULL, "after the crash");
    g_autoptr (JsonNode) r = tcd_audit_query (s, "reboot", 0, 0);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (r)), ==, 1);
    tcd_security_free (s);
  }
}

/* the lines of the audit log file that parse, as "detail" strings */
static GPtrArray *
log_details (const gchar *path)
{
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return out;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    g_autoptr (JsonParser) p = json_parser_new ();
    if (!*lines[i])
      continue;
    g_assert_true (json_parser_load_from_data (p, lines[i], -1, NULL));
    g_ptr_array_add (out, g_strdup (json_object_get_string_member (json_node_get_object
                (json_parser_get_root (p)), "detail")));
  }
  return out;
}

/* fills the file system of @dir to the last byte */
static gchar *
fill_disk (const gchar *dir)
{
  gchar *path = g_build_filename (dir, "filler", NULL);
  gint fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  gchar block[4096];

  g_assert_cmpint (fd, >=, 0);
  memset (block, 'f', sizeof block);
  for (gsize size = sizeof block; size; ) {
    if (write (fd, block, size) < 0) {
      g_assert_cmpint (errno, ==, ENOSPC);
      size /= 2;
    }
  }
  close (fd);
  return path;
}

/* A full disk (a 256 KiB tmpfs in a mount namespace of the test's own):
 * records go to the reserve, then wait in memory (bounded, the rest
 * counted as lost) and reach the file in order when space returns */
static void
test_audit_full_disk (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tc-sec-full-XXXXXX", NULL);
  g_autofree gchar *log = g_build_filename (dir, "audit.log", NULL);
  g_autofree gchar *filler = NULL;
  g_autoptr (GPtrArray) details = NULL;
  g_autofree gchar *pad = g_strnfill (150, 'p');
  TcdSecurity *s;
  guint queued, total, kept;
  guint64 lost;
  gsize reserve;
  struct statvfs fs;

  if (geteuid () != 0) {
    g_test_skip ("mounting a small tmpfs needs root");
    return;
  }
  if (unshare (CLONE_NEWNS) != 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0
      || mount ("tmpfs", dir, "tmpfs", 0, "size=256k,mode=0700") != 0) {
    g_autofree gchar *why = g_strdup_printf ("cannot mount a tmpfs: %s", g_strerror (errno));
    g_test_skip (why);
    return;
  }
  s = tcd_security_new (dir);
  tcd_audit_set_limits (s, 32 * 1024, 100);
  tcd_audit_status (s, &queued, &lost, &reserve);
  g_assert_cmpuint (reserve, ==, 32 * 1024);
  filler = fill_disk (dir);

  /* 80 audited actions (about 20 KiB) on a full disk: all on the disk,
   * in the reserved space */
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*disk is full, using the reserved*");
  for (total = 0; total < 80; total++)
    tcd_audit (s, "system", "admin", "10.0.0.1", "record %u %s", total, pad);
  tcd_audit_status (s, &queued, &lost, &reserve);
  g_assert_cmpuint (queued, ==, 0);
  g_assert_cmpuint (lost, ==, 0);
  /* given back a slice at a time: the rest of the system gets no more */
  g_assert_cmpuint (reserve, <, 32 * 1024 - 80 * 150);
  g_assert_cmpuint (reserve, >, 0);
  g_assert_cmpint (statvfs (dir, &fs), ==, 0);
  g_assert_cmpuint (fs.f_bavail * fs.f_bsize, <=, 8192);
  details = log_details (log);
  g_assert_cmpuint (details->len, ==, 80);
  g_clear_pointer (&details, g_ptr_array_unref);

  g_test_assert_expected_messages ();

  /* past the reserve: kept in memory, in order, shown by the query; past
   * the bound of 100: counted */
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*kept in memory until*");
  for (; total < 300; total++)
    tcd_audit (s, "system", "admin", "10.0.0.1", "record %u %s", total, pad);
  g_test_assert_expected_messages ();
  tcd_audit_status (s, &queued, &lost, &reserve);
  g_assert_cmpuint (queued, ==, 100);
  g_assert_cmpuint (lost, >, 0);
  g_assert_cmpuint (reserve, ==, 0);
  details = log_details (log);
  kept = details->len + queued;
  g_assert_cmpuint (kept + lost, ==, total);
  g_clear_pointer (&details, g_ptr_array_unref);
  {
    g_autoptr (JsonNode) all = tcd_audit_query (s, "system", 0, 0);
    JsonArray *a = json_node_get_array (all);
    g_assert_cmpuint (json_array_get_length (a), ==, kept);
    for (guint i = 0; i < kept; i++) {
      g_autofree gchar *want = g_strdup_printf ("record %u ", i);
      g_assert_true (g_str_has_prefix (json_object_get_string_member
              (json_array_get_object_element (a, i), "detail"), want));
    }
  }
  /* still full: nothing to write */
  g_assert_false (tcd_audit_flush (s));

  /* space returns: the next record comes after the waiting ones and the
   * note of the gap */
  g_assert_cmpint (g_unlink (filler), ==, 0);
  tcd_audit (s, "system", "admin", "10.0.0.1", "after");
  tcd_audit_status (s, &queued, NULL, NULL);
  g_assert_cmpuint (queued, ==, 0);
  details = log_details (log);
  g_assert_cmpuint (details->len, ==, kept + 2);
  for (guint i = 0; i < kept; i++) {
    g_autofree gchar *want = g_strdup_printf ("record %u ", i);
    g_assert_true (g_str_has_prefix (details->pdata[i], want));
  }
  {
    g_autofree gchar *gap = g_strdup_printf ("%" G_GUINT64_FORMAT
        " audit records were lost while the disk was full", lost);
    g_assert_cmpstr (details->pdata[kept], ==, gap);
  }
  g_assert_cmpstr (details->pdata[kept + 1], ==, "after");
  g_assert_true (tcd_audit_flush (s));
  /* the reserve is made again */
  tcd_audit_set_limits (s, 32 * 1024, 100);
  tcd_audit_status (s, NULL, NULL, &reserve);
  g_assert_cmpuint (reserve, ==, 32 * 1024);
  tcd_security_free (s);
  g_assert_cmpint (umount (dir), ==, 0);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/security/filter-entries", test_filter_entries);
  g_test_add_func ("/security/filter", test_filter);
  g_test_add_func ("/security/lock", test_lock);
  g_test_add_func ("/security/lock-names", test_lock_names);
  g_test_add_func ("/security/lock-ipv6", test_lock_ipv6);
  g_test_add_func ("/security/lock-table", test_lock_table);
  g_test_add_func ("/security/audit", test_audit);
  g_test_add_func ("/security/audit-full-disk", test_audit_full_disk);
  return g_test_run ();
}
