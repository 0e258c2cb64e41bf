/* thermocam: tests of the daemon's FTP upload, email and HTTP push
 * (tcd-transfer) against real servers on loopback
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The servers are tests/e2e/peers.py: pyftpdlib, aiosmtpd (plain,
 * STARTTLS, SMTPS, AUTH) and an HTTP(S) receiver, plus one that accepts
 * connections and never answers.  What arrives is checked on the servers'
 * side: the files on the FTP root, the raw messages (parsed by Python's
 * email package) and the POST bodies.  The TLS servers use a self-signed
 * certificate made by the openssl command.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcd-transfer.h"

#define PYTHON "/usr/bin/python3"

#define FTP_USER "camera"
#define FTP_PASSWORD "ftp-Secr3t-pw"
#define SMTP_USER "mailer"
#define SMTP_PASSWORD "smtp-Secr3t-pw"
#define HTTP_USER "center"
#define HTTP_PASSWORD "http-Secr3t-pw"
#define URL_PASSWORD "url-Secr3t-pw"
#define WRONG_PASSWORD "Wrong-Secr3t-pw"

/* none of these may ever appear in an error message */
static const gchar *const secrets[] = {
  FTP_PASSWORD, SMTP_PASSWORD, HTTP_PASSWORD, URL_PASSWORD, WRONG_PASSWORD, NULL
};

static gchar *tmp_root;         /* everything of this run */
static gchar *cert, *key;       /* self-signed for 127.0.0.1 */

/* ---- helpers ---- */

static gchar *
test_dir (const gchar *name)
{
  gchar *dir = g_build_filename (tmp_root, name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return dir;
}

static void
rm_rf (const gchar *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);

  if (dir) {
    const gchar *name;
    while ((name = g_dir_read_name (dir))) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);
      rm_rf (child);
    }
    g_dir_close (dir);
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

static JsonNode *
parse (const gchar *json)
{
  g_autoptr (GError) err = NULL;
  JsonNode *node = json_from_string (json, &err);

  g_assert_no_error (err);
  g_assert_nonnull (node);
  return node;
}

/* A JSON document from printf-style arguments */
static JsonNode * G_GNUC_PRINTF (1, 2)
parsef (const gchar *format, ...)
{
  g_autofree gchar *json = NULL;
  va_list ap;

  va_start (ap, format);
  json = g_strdup_vprintf (format, ap);
  va_end (ap);
  return parse (json);
}

static JsonNode *
parse_file (const gchar *path)
{
  g_autofree gchar *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return parse (text);
}

static GBytes *
read_bytes (const gchar *path)
{
  g_autoptr (GError) err = NULL;
  gchar *data = NULL;
  gsize len = 0;

  g_file_get_contents (path, &data, &len, &err);
  g_assert_no_error (err);
  return g_bytes_new_take (data, len);
}

static void
assert_file_equals (const gchar *path, GBytes *expected)
{
  g_autoptr (GBytes) got = read_bytes (path);

  g_assert_true (g_bytes_equal (got, expected));
}

/* "JPEG-ish" random bytes: a JPEG start, random middle, a JPEG end */
static GBytes *
random_bytes (gsize size)
{
  guint8 *d = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    d[i] = g_test_rand_int_range (0, 256);
  if (size >= 6) {
    memcpy (d, "\xff\xd8\xff\xe0", 4);
    memcpy (d + size - 2, "\xff\xd9", 2);
  }
  return g_bytes_new_take (d, size);
}

static guint
count_suffix (const gchar *path, const gchar *suffix)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_suffix (name, suffix) && !g_str_has_suffix (name, ".headers.json"))
      n++;
  g_dir_close (dir);
  return n;
}

static gchar *
sha256_hex (GBytes *b)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, b);
}

/* The error is @code, says what failed, and holds no password */
static void
assert_transfer_error (const GError *err, TcdTransferError code)
{
  g_assert_error (err, TCD_TRANSFER_ERROR, (gint) code);
  g_test_message ("error: %s", err->message);
  g_assert_cmpstr (err->message, !=, "");
  for (guint i = 0; secrets[i]; i++)
    g_assert_null (strstr (err->message, secrets[i]));
}

static gdouble
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC;
}

/* A TCP port where nobody listens */
static guint
closed_port (void)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &a, sizeof a), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &a, &len), ==, 0);
  close (fd);
  return ntohs (a.sin_port);
}

/* ---- the peers ---- */

typedef struct {
  GSubprocess *proc;
  GDataInputStream *out;
  guint port;
  gchar *host_port;             /* "127.0.0.1:PORT" */
} Peer;

/* A peer dies with us, even when an assertion aborts the test */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static Peer * G_GNUC_NULL_TERMINATED
peer_start (const gchar *kind, ...)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) err = NULL;
  g_autofree gchar *line = NULL, *cmd = NULL;
  Peer *p = g_new0 (Peer, 1);
  va_list ap;

  g_ptr_array_add (argv, (gpointer) PYTHON);
  g_ptr_array_add (argv, (gpointer) PEERS_PY);
  g_ptr_array_add (argv, (gpointer) kind);
  va_start (ap, kind);
  for (const gchar *a; (a = va_arg (ap, const gchar *));)
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  cmd = g_strjoinv (" ", (gchar **) argv->pdata);
  g_test_message ("$ %s", cmd);

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  p->proc = g_subprocess_launcher_spawnv (launcher, (const gchar *const *) argv->pdata, &err);
  g_assert_no_error (err);
  p->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p->proc));
  line = g_data_input_stream_read_line (p->out, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "ready "));
  p->port = atoi (line + 6);
  g_assert_cmpuint (p->port, >, 0);
  g_assert_cmpuint (p->port, <, 65536);
  p->host_port = g_strdup_printf ("127.0.0.1:%u", p->port);
  return p;
}

static void
peer_signal (Peer *p, int sig)
{
  g_subprocess_send_signal (p->proc, sig);
}

/* SIGTERM: the peer exits cleanly */
static void
peer_stop (Peer *p)
{
  g_autoptr (GError) err = NULL;

  peer_signal (p, SIGCONT);
  peer_signal (p, SIGTERM);
  g_subprocess_wait (p->proc, NULL, &err);
  g_assert_no_error (err);
  g_assert_true (g_subprocess_get_if_exited (p->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (p->proc), ==, 0);
  g_object_unref (p->out);
  g_object_unref (p->proc);
  g_free (p->host_port);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_stop)

/* Runs Python with @script and @arg; its stdout as JSON */
static JsonNode *
run_python (const gchar *script, const gchar *arg)
{
  const gchar *argv[] = { PYTHON, "-c", script, arg, NULL };
  g_autofree gchar *out = NULL, *errout = NULL;
  g_autoptr (GError) err = NULL;
  gint status = -1;

  g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errout,
      &status, &err);
  g_assert_no_error (err);
  if (errout && *errout)
    g_test_message ("python: %s", errout);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return parse (out);
}

/* ---- FTP ---- */

static void
test_ftp_dir (void)
{
  g_autoptr (GTimeZone) tokyo = g_time_zone_new_identifier ("+09:00");
  /* 01:30 in Tokyo is still the previous day in UTC */
  g_autoptr (GDateTime) when = g_date_time_new (tokyo, 2024, 4, 1, 1, 30, 0);
  g_autoptr (JsonNode) device = parse ("{\"name\": \"Lab/Cam #1 \xc3\xbcn\xc3\xaf\", \"number\": 7}");
  g_autoptr (JsonNode) plain_device = parse ("{\"name\": \"Thermal Camera\"}");
  g_autoptr (JsonNode) dots = parse ("{\"name\": \"..\"}");
  g_autoptr (JsonNode) blank = parse ("{\"name\": \"  \"}");
  g_autoptr (JsonNode) empty = parse ("{}");
  struct {
    const gchar *directory;
    JsonNode *device;
    const gchar *serial, *event, *expected;
  } cases[] = {
    { "{\"structure\": \"root\", \"parent\": \"custom\"}", device, "S1", "scene", "" },
    { NULL, device, "S1", "scene", "" },
    { "{\"structure\": \"parent\"}", plain_device, "S1", "scene", "Thermal Camera" },
    { "{\"structure\": \"parent\"}", empty, "S1", "scene", "Thermal Camera" },
    { "{\"structure\": \"parent\", \"parent\": \"device_name\"}", device, "S1", "scene",
      "Lab_Cam _1 _n_" },
    { "{\"structure\": \"parent\", \"parent\": \"device_name\"}", dots, "S1", "scene", "__" },
    { "{\"structure\": \"parent\", \"parent\": \"device_name\"}", blank, "S1", "scene", "thermocam" },
    { "{\"structure\": \"parent\", \"parent\": \"device_number\"}", device, "S1", "scene", "7" },
    { "{\"structure\": \"parent\", \"parent\": \"device_number\"}", empty, "S1", "scene", "88" },
    { "{\"structure\": \"parent\", \"parent\": \"serial\"}", device, "TC-2024-0001", "scene",
      "TC-2024-0001" },
    { "{\"structure\": \"parent\", \"parent\": \"serial\"}", device, "../etc", "scene", "___etc" },
    { "{\"structure\": \"parent\", \"parent\": \"custom\", \"custom_parent\": \"site A\"}", device,
      "S1", "scene", "site A" },
    { "{\"structure\": \"parent\", \"parent\": \"custom\"}", device, "S1", "scene", "thermocam" },
    { "{\"structure\": \"parent_child\", \"parent\": \"device_number\", \"child\": \"date\"}",
      device, "S1", "scene", "7/2024-04-01" },
    { "{\"structure\": \"parent_child\", \"parent\": \"serial\", \"child\": \"event\"}",
      device, "S1", "rule-3", "S1/rule-3" },
    { "{\"structure\": \"parent_child\", \"parent\": \"serial\", \"child\": \"event\"}",
      device, "S1", "in/put 1", "S1/in_put 1" },
    { "{\"structure\": \"parent_child\", \"parent\": \"custom\", \"custom_parent\": \"a\", "
      "\"child\": \"custom\", \"custom_child\": \"pics\"}", device, "S1", "scene", "a/pics" },
    { "{\"structure\": \"parent_child\"}", plain_device, "S1", "scene",
      "Thermal Camera/2024-04-01" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *json = cases[i].directory
        ? g_strdup_printf ("{\"server\": \"x\", \"directory\": %s}", cases[i].directory)
        : g_strdup ("{\"server\": \"x\"}");
    g_autoptr (JsonNode) ftp = parse (json);
    g_autofree gchar *dir = tcd_transfer_ftp_dir (ftp, cases[i].device, cases[i].serial,
        cases[i].event, when);

    g_test_message ("%s -> %s", json, dir);
    g_assert_cmpstr (dir, ==, cases[i].expected);
  }

  /* no time given: today, here */
  {
    g_autoptr (JsonNode) ftp = parse ("{\"directory\": {\"structure\": \"parent_child\", "
        "\"parent\": \"custom\", \"custom_parent\": \"p\"}}");
    g_autoptr (GDateTime) now = g_date_time_new_now_local ();
    g_autofree gchar *today = g_date_time_format (now, "p/%Y-%m-%d");
    g_autofree gchar *dir = tcd_transfer_ftp_dir (ftp, device, "S1", "scene", NULL);

    g_assert_cmpstr (dir, ==, today);
  }
}

static void
test_ftp_anonymous (void)
{
  g_autofree gchar *root = test_dir ("ftp-anon");
  g_autoptr (Peer) ftp = peer_start ("ftp", "--root", root, NULL);
  g_autoptr (JsonNode) conf = parsef ("{\"server\": \"127.0.0.1\", \"port\": %u, "
      "\"anonymous\": true, \"user\": \"ignored\", \"password\": \"" WRONG_PASSWORD "\"}",
      ftp->port);
  g_autoptr (GBytes) pic = random_bytes (200 * 1024);
  g_autoptr (GBytes) other = random_bytes (1000);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *path = g_build_filename (root, "parent", "child", "pic 1.jpg", NULL);
  g_autofree gchar *top = g_build_filename (root, "top.jpg", NULL);
  g_autofree gchar *spaced = g_build_filename (root, "Thermal Camera", "2024-04-01", "a#b%.jpg",
      NULL);
  g_autofree gchar *child = g_build_filename (root, "parent", "child", NULL);

  /* missing directories are made, the file arrives whole under its name */
  g_assert_true (tcd_transfer_ftp_put (conf, "parent/child", "pic 1.jpg", pic, 10, NULL, &err));
  g_assert_no_error (err);
  assert_file_equals (path, pic);
  /* nothing else is left there (no temporary file) */
  g_assert_cmpuint (count_suffix (child, ""), ==, 1);

  /* the login directory; a name with URL specials; a directory with a space */
  g_assert_true (tcd_transfer_ftp_put (conf, "", "top.jpg", other, 10, NULL, &err));
  g_assert_no_error (err);
  assert_file_equals (top, other);
  g_assert_true (tcd_transfer_ftp_put (conf, "Thermal Camera/2024-04-01", "a#b%.jpg", other, 10,
      NULL, &err));
  g_assert_no_error (err);
  assert_file_equals (spaced, other);

  /* the same name again: replaced */
  g_assert_true (tcd_transfer_ftp_put (conf, "parent/child", "pic 1.jpg", other, 10, NULL, &err));
  g_assert_no_error (err);
  assert_file_equals (path, other);
  g_assert_cmpuint (count_suffix (child, ""), ==, 1);

  /* an empty file is a file */
  {
    g_autoptr (GBytes) nothing = g_bytes_new_static ("", 0);
    g_autofree gchar *empty = g_build_filename (root, "empty.bmp", NULL);

    g_assert_true (tcd_transfer_ftp_put (conf, NULL, "empty.bmp", nothing, 10, NULL, &err));
    g_assert_no_error (err);
    assert_file_equals (empty, nothing);
  }

  /* names that would escape the directory are refused, nothing sent */
  g_assert_false (tcd_transfer_ftp_put (conf, "", "../x.jpg", other, 10, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_FAILED);
  g_clear_error (&err);
  g_assert_false (tcd_transfer_ftp_put (conf, "a/../..", "x.jpg", other, 10, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_FAILED);
  g_clear_error (&err);
}

static void
test_ftp_user (void)
{
  g_autofree gchar *root = test_dir ("ftp-user");
  g_autoptr (Peer) ftp = peer_start ("ftp", "--root", root, "--user", FTP_USER,
      "--password", FTP_PASSWORD, NULL);
  g_autoptr (JsonNode) conf = parsef ("{\"server\": \"127.0.0.1\", \"port\": %u, "
      "\"anonymous\": false, \"user\": \"" FTP_USER "\", \"password\": \"" FTP_PASSWORD "\", "
      "\"directory\": {\"structure\": \"parent\"}}", ftp->port);
  g_autoptr (JsonNode) wrong = parsef ("{\"server\": \"127.0.0.1\", \"port\": %u, "
      "\"user\": \"" FTP_USER "\", \"password\": \"" WRONG_PASSWORD "\"}", ftp->port);
  g_autoptr (JsonNode) anon = parsef ("{\"server\": \"127.0.0.1\", \"port\": %u, "
      "\"anonymous\": true}", ftp->port);
  g_autoptr (JsonNode) unset = parse ("{\"server\": \"\", \"port\": 21}");
  g_autoptr (GBytes) pic = random_bytes (64 * 1024);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *path = g_build_filename (root, "d", "x.jpg", NULL);
  g_autofree gchar *wrong_path = g_build_filename (root, "w", NULL);

  g_assert_true (tcd_transfer_ftp_put (conf, "d", "x.jpg", pic, 10, NULL, &err));
  g_assert_no_error (err);
  assert_file_equals (path, pic);

  g_assert_false (tcd_transfer_ftp_put (wrong, "w", "x.jpg", pic, 10, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_AUTH);
  g_assert_nonnull (strstr (err->message, ftp->host_port));
  g_assert_true (g_str_has_prefix (err->message, "FTP upload to "));
  g_clear_error (&err);
  g_assert_false (g_file_test (wrong_path, G_FILE_TEST_EXISTS));

  /* this server has no anonymous access */
  g_assert_false (tcd_transfer_ftp_put (anon, "w", "x.jpg", pic, 10, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_AUTH);
  g_clear_error (&err);
  g_assert_false (g_file_test (wrong_path, G_FILE_TEST_EXISTS));

  g_assert_false (tcd_transfer_ftp_put (unset, "", "x.jpg", pic, 10, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_CONFIG);
  g_clear_error (&err);
}

typedef struct {
  JsonNode *conf;
  GBytes *data;
  GCancellable *cancellable;
  GError *error;
  gboolean ok;
  gint done;
} Upload;

static gpointer
upload_thread (gpointer data)
{
  Upload *u = data;

  u->ok = tcd_transfer_ftp_put (u->conf, "big", "big.bin", u->data, 30, u->cancellable,
      &u->error);
  g_atomic_int_set (&u->done, 1);
  return NULL;
}

/* The files in @dir other than @name, and whether @name is there */
static guint
other_files (const gchar *dir, const gchar *name, gboolean *has_name, goffset *other_size)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *n;
  guint count = 0;

  *has_name = FALSE;
  if (!d)
    return 0;
  while ((n = g_dir_read_name (d))) {
    if (g_str_equal (n, name)) {
      *has_name = TRUE;
    } else {
      g_autofree gchar *path = g_build_filename (dir, n, NULL);
      GStatBuf st;
      if (other_size && g_stat (path, &st) == 0)
        *other_size = st.st_size;
      count++;
    }
  }
  g_dir_close (d);
  return count;
}

/* A file appears complete or not at all: while the upload is under way
 * (the server is stopped in the middle of it) only another name exists;
 * a cancelled upload never shows up under its name */
static void
test_ftp_atomic (void)
{
  g_autofree gchar *root = test_dir ("ftp-atomic");
  g_autofree gchar *dir = g_build_filename (root, "big", NULL);
  g_autofree gchar *final = g_build_filename (dir, "big.bin", NULL);
  g_autoptr (Peer) ftp = peer_start ("ftp", "--root", root, NULL);
  g_autoptr (JsonNode) conf = parsef ("{\"server\": \"127.0.0.1\", \"port\": %u, "
      "\"anonymous\": true}", ftp->port);
  gsize size = 64 * 1024 * 1024;
  guint8 *d = g_malloc (size);
  g_autoptr (GBytes) data = NULL;
  g_autoptr (GBytes) small = random_bytes (5000);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) err = NULL;
  Upload u = { 0 };
  GThread *thread;
  gboolean has_final = FALSE, stopped = FALSE;
  goffset part_size = -1;
  gint64 start;

  for (gsize i = 0; i < size; i++)
    d[i] = (guint8) (i * 7 + (i >> 12));
  data = g_bytes_new_take (d, size);
  u.conf = conf;
  u.data = data;
  u.cancellable = cancellable;

  /* the temporary file appears and grows: stop the server right there
   * (a busy machine may miss the moment: then the upload is complete under
   * its name, and we try again) */
  for (guint attempt = 0; attempt < 5 && !stopped; attempt++) {
    g_atomic_int_set (&u.done, 0);
    thread = g_thread_new ("upload", upload_thread, &u);
    while (!g_atomic_int_get (&u.done)) {
      part_size = 0;
      if (other_files (dir, "big.bin", &has_final, &part_size) > 0 && part_size > 0) {
        peer_signal (ftp, SIGSTOP);
        stopped = TRUE;
        break;
      }
      g_assert_false (has_final);
      g_usleep (50);
    }
    if (!stopped) {
      g_thread_join (thread);
      g_assert_no_error (u.error);
      g_assert_true (u.ok);
      assert_file_equals (final, data);
      g_assert_cmpint (g_unlink (final), ==, 0);
      g_test_message ("upload too fast to be seen, again");
    }
  }
  g_assert_true (stopped);

  /* the client is stuck in the middle: only the temporary file is there */
  g_usleep (300 * 1000);
  g_assert_false (g_atomic_int_get (&u.done));
  g_assert_cmpuint (other_files (dir, "big.bin", &has_final, &part_size), ==, 1);
  g_assert_false (has_final);
  g_assert_cmpint (part_size, >, 0);
  g_assert_cmpint (part_size, <, (goffset) size);
  g_test_message ("stopped with %" G_GOFFSET_FORMAT " of %" G_GSIZE_FORMAT " bytes stored",
      part_size, size);

  /* cancel it, and let the server go on */
  start = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  g_thread_join (thread);
  g_assert_cmpfloat (seconds_since (start), <, 2.0);
  g_assert_false (u.ok);
  assert_transfer_error (u.error, TCD_TRANSFER_ERROR_CANCELLED);
  g_clear_error (&u.error);
  peer_signal (ftp, SIGCONT);
  g_usleep (300 * 1000);
  g_assert_false (g_file_test (final, G_FILE_TEST_EXISTS));

  /* the same upload to the end: now the name is there, complete */
  g_assert_true (tcd_transfer_ftp_put (conf, "big", "big.bin", data, 30, NULL, &err));
  g_assert_no_error (err);
  assert_file_equals (final, data);
  g_assert_cmpuint (other_files (dir, "big.bin", &has_final, NULL), ==, 0);

  /* already cancelled: nothing is tried */
  g_assert_false (tcd_transfer_ftp_put (conf, "big", "small.bin", small, 30, cancellable, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_CANCELLED);
  g_clear_error (&err);
  g_assert_cmpuint (other_files (dir, "big.bin", &has_final, NULL), ==, 0);
}

/* ---- email ---- */

/* A summary of a message as Python's email package reads it */
static const gchar parse_mail_py[] =
  "import email, email.policy, email.utils, hashlib, json, sys, time\n"
  "raw = open(sys.argv[1], 'rb').read()\n"
  "m = email.message_from_bytes(raw, policy=email.policy.default)\n"
  "date = email.utils.parsedate_to_datetime(m['Date'])\n"
  "def who(h):\n"
  "    return [[a.display_name, a.addr_spec] for a in m[h].addresses]\n"
  "out = {'subject': str(m['Subject']), 'raw_subject': m.get('Subject').__class__.__name__,\n"
  "       'from': who('From'), 'to': who('To'),\n"
  "       'date_skew': abs(time.time() - date.timestamp()),\n"
  "       'date_zone': date.tzinfo is not None,\n"
  "       'message_id': str(m['Message-ID']), 'mime_version': str(m['MIME-Version']),\n"
  "       'type': m.get_content_type(),\n"
  "       'defects': sum(len(p.defects) for p in m.walk()),\n"
  "       'ascii': all(b < 128 for b in raw),\n"
  "       'longest_line': max(len(l) for l in raw.split(b'\\r\\n')),\n"
  "       'field_lines': {}, 'folded': [],\n"
  "       'encoded_lf': b'=0A' in raw or b'=0D' in raw,\n"
  "       'parts': []}\n"
  "name = None\n"
  "for line in raw.split(b'\\r\\n\\r\\n')[0].split(b'\\r\\n'):\n"
  "    if line[:1] not in (b' ', b'\\t'):\n"
  "        name = line.split(b':')[0].decode()\n"
  "    elif name not in out['folded']:\n"
  "        out['folded'].append(name)\n"
  "    out['field_lines'][name] = max(out['field_lines'].get(name, 0), len(line))\n"
  "for p in m.iter_parts():\n"
  "    c = p.get_content()\n"
  "    b = c if isinstance(c, bytes) else c.encode()\n"
  "    out['parts'].append({'type': p.get_content_type(),\n"
  "        'charset': p.get_content_charset(), 'filename': p.get_filename(),\n"
  "        'encoding': p.get('Content-Transfer-Encoding', ''),\n"
  "        'disposition': p.get_content_disposition(),\n"
  "        'text': c.replace('\\r\\n', '\\n') if isinstance(c, str) else None,\n"
  "        'sha256': hashlib.sha256(b).hexdigest()})\n"
  "print(json.dumps(out))\n";

static JsonNode *
email_conf (guint port, const gchar *extra)
{
  return parsef ("{\"sender_name\": \"Thermal \\\"Cam\\\" 1\", "
      "\"sender_address\": \"cam@example.org\", \"server\": \"127.0.0.1\", \"port\": %u, "
      "\"receivers\": [{\"name\": \"Ops\", \"address\": \"ops@example.org\"}, "
      "{\"name\": \"J\xc3\xbcrgen M\xc3\xbcller\", \"address\": \"jm@example.net\"}, "
      "{\"address\": \"noname@example.com\"}]%s%s}", port, extra ? ", " : "", extra ? extra : "");
}

/* Message @n (1, 2, ...) in @out: its metadata */
static JsonNode *
mail_meta (const gchar *out, guint n)
{
  g_autofree gchar *name = g_strdup_printf ("%04u.json", n);
  g_autofree gchar *path = g_build_filename (out, name, NULL);

  return parse_file (path);
}

static JsonNode *
mail_parsed (const gchar *out, guint n)
{
  g_autofree gchar *name = g_strdup_printf ("%04u.eml", n);
  g_autofree gchar *path = g_build_filename (out, name, NULL);

  return run_python (parse_mail_py, path);
}

static void
assert_meta (JsonNode *meta, gboolean tls, const gchar *auth_user)
{
  JsonObject *o = json_node_get_object (meta);
  JsonArray *rcpt = json_object_get_array_member (o, "rcpt_tos");

  g_assert_cmpstr (json_object_get_string_member (o, "mail_from"), ==, "cam@example.org");
  g_assert_cmpuint (json_array_get_length (rcpt), ==, 3);
  g_assert_cmpstr (json_array_get_string_element (rcpt, 0), ==, "ops@example.org");
  g_assert_cmpstr (json_array_get_string_element (rcpt, 1), ==, "jm@example.net");
  g_assert_cmpstr (json_array_get_string_element (rcpt, 2), ==, "noname@example.com");
  g_assert_cmpint (json_object_get_boolean_member (o, "tls"), ==, tls);
  if (auth_user)
    g_assert_cmpstr (json_object_get_string_member (o, "auth_user"), ==, auth_user);
  else
    g_assert_true (json_object_get_null_member (o, "auth_user"));
}

static gboolean
send_simple (JsonNode *conf, GError **error)
{
  return tcd_transfer_email (conf, "Test", "Hello", NULL, 0, 10, NULL, error);
}

/* A plain server: the message as a mail reader sees it */
static void
test_email_plain (void)
{
  g_autofree gchar *out = test_dir ("smtp-plain");
  g_autoptr (Peer) smtp = peer_start ("smtp", "--out", out, NULL);
  g_autoptr (JsonNode) conf = email_conf (smtp->port, "\"encryption\": \"none\"");
  g_autoptr (JsonNode) meta = NULL, mail = NULL;
  g_autoptr (GError) err = NULL;
  /* long enough for several encoded words, with multi-byte characters */
  const gchar *subject = "Alarm: \xc3\x9c" "berhitzung at rule-3 \xe2\x80\x94 87.5 \xc2\xb0"
      "C on \"Lab/Cam #1\" \xf0\x9f\x94\xa5 (ma\xc3\x9fnahmen erforderlich, sofort pr\xc3\xbc"
      "fen)";
  const gchar *body = "Rule 3 (max) reached 87.5 \xc2\xb0" "C.\nTime: 2024-04-01 01:30:00 "
      "+09:00\n\nA very long line that is longer than seventy-six characters so that the "
      "quoted-printable encoder has to break it with soft line breaks somewhere.\n";
  GBytes *pics[3];
  TcdAttachment att[3];
  JsonObject *o;
  JsonArray *parts, *to;

  for (guint i = 0; i < 3; i++) {
    pics[i] = random_bytes (20000 + 7 * i);
    att[i].name = i == 2 ? "picture 3.bmp" : (i == 0 ? "picture-1.jpg" : "picture-2.jpg");
    att[i].content_type = i == 2 ? "image/bmp" : "image/jpeg";
    att[i].data = pics[i];
  }
  g_assert_true (tcd_transfer_email (conf, subject, body, att, 3, 10, NULL, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (count_suffix (out, ".eml"), ==, 1);
  meta = mail_meta (out, 1);
  assert_meta (meta, FALSE, NULL);

  mail = mail_parsed (out, 1);
  o = json_node_get_object (mail);
  g_assert_cmpstr (json_object_get_string_member (o, "subject"), ==, subject);
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "multipart/mixed");
  g_assert_cmpstr (json_object_get_string_member (o, "mime_version"), ==, "1.0");
  g_assert_cmpint (json_object_get_int_member (o, "defects"), ==, 0);
  g_assert_true (json_object_get_boolean_member (o, "ascii"));
  /* the body's lines are lines (CRLF), not "=0A" inside one */
  g_assert_false (json_object_get_boolean_member (o, "encoded_lf"));
  g_assert_cmpint (json_object_get_int_member (o, "longest_line"), <=, 998);
  /* long header fields are folded to lines of 78 at most */
  {
    JsonObject *lines = json_object_get_object_member (o, "field_lines");
    JsonArray *folded = json_object_get_array_member (o, "folded");
    gboolean subject_folded = FALSE, to_folded = FALSE;

    for (guint i = 0; i < json_array_get_length (folded); i++) {
      subject_folded |= g_str_equal (json_array_get_string_element (folded, i), "Subject");
      to_folded |= g_str_equal (json_array_get_string_element (folded, i), "To");
    }
    g_assert_true (subject_folded);
    g_assert_true (to_folded);
    g_assert_cmpint (json_object_get_int_member (lines, "Subject"), <=, 78);
    g_assert_cmpint (json_object_get_int_member (lines, "To"), <=, 78);
    g_assert_cmpint (json_object_get_int_member (lines, "From"), <=, 78);
    g_assert_cmpint (json_object_get_int_member (lines, "Date"), <=, 78);
  }
  g_assert_true (json_object_get_boolean_member (o, "date_zone"));
  g_assert_cmpfloat (json_object_get_double_member (o, "date_skew"), <, 120.0);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "message_id"), "<"));
  g_assert_true (g_str_has_suffix (json_object_get_string_member (o, "message_id"),
      "@example.org>"));
  {
    JsonArray *from = json_object_get_array_member (o, "from");
    JsonArray *f = json_array_get_array_element (from, 0);
    g_assert_cmpuint (json_array_get_length (from), ==, 1);
    g_assert_cmpstr (json_array_get_string_element (f, 0), ==, "Thermal \"Cam\" 1");
    g_assert_cmpstr (json_array_get_string_element (f, 1), ==, "cam@example.org");
  }
  to = json_object_get_array_member (o, "to");
  g_assert_cmpuint (json_array_get_length (to), ==, 3);
  g_assert_cmpstr (json_array_get_string_element (json_array_get_array_element (to, 0), 0), ==,
      "Ops");
  g_assert_cmpstr (json_array_get_string_element (json_array_get_array_element (to, 1), 0), ==,
      "J\xc3\xbcrgen M\xc3\xbcller");
  g_assert_cmpstr (json_array_get_string_element (json_array_get_array_element (to, 1), 1), ==,
      "jm@example.net");
  g_assert_cmpstr (json_array_get_string_element (json_array_get_array_element (to, 2), 1), ==,
      "noname@example.com");

  parts = json_object_get_array_member (o, "parts");
  g_assert_cmpuint (json_array_get_length (parts), ==, 4);
  {
    JsonObject *p = json_array_get_object_element (parts, 0);
    g_assert_cmpstr (json_object_get_string_member (p, "type"), ==, "text/plain");
    g_assert_cmpstr (json_object_get_string_member (p, "charset"), ==, "utf-8");
    g_assert_cmpstr (json_object_get_string_member (p, "text"), ==, body);
    g_assert_true (json_object_get_null_member (p, "filename"));
  }
  for (guint i = 0; i < 3; i++) {
    JsonObject *p = json_array_get_object_element (parts, i + 1);
    g_autofree gchar *sum = sha256_hex (pics[i]);

    g_assert_cmpstr (json_object_get_string_member (p, "type"), ==, att[i].content_type);
    g_assert_cmpstr (json_object_get_string_member (p, "filename"), ==, att[i].name);
    g_assert_cmpstr (json_object_get_string_member (p, "disposition"), ==, "attachment");
    g_assert_cmpstr (json_object_get_string_member (p, "encoding"), ==, "base64");
    g_assert_cmpstr (json_object_get_string_member (p, "sha256"), ==, sum);
    g_bytes_unref (pics[i]);
  }

  /* no attachments, a plain ASCII subject */
  g_assert_true (send_simple (conf, &err));
  g_assert_no_error (err);
  g_clear_pointer (&mail, json_node_unref);
  mail = mail_parsed (out, 2);
  o = json_node_get_object (mail);
  g_assert_cmpstr (json_object_get_string_member (o, "subject"), ==, "Test");
  parts = json_object_get_array_member (o, "parts");
  g_assert_cmpuint (json_array_get_length (parts), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (parts, 0),
      "text"), ==, "Hello");

  /* a subject trying to add a header stays the subject */
  g_assert_true (tcd_transfer_email (conf, "Hi\r\nBcc: evil@example.com", "x", NULL, 0, 10,
      NULL, &err));
  g_assert_no_error (err);
  g_clear_pointer (&mail, json_node_unref);
  mail = mail_parsed (out, 3);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (mail), "subject"), ==,
      "Hi  Bcc: evil@example.com");
  g_clear_pointer (&meta, json_node_unref);
  meta = mail_meta (out, 3);
  assert_meta (meta, FALSE, NULL);

  /* a long ASCII subject, folded at its spaces */
  {
    g_autoptr (GString) s = g_string_new ("Timed");
    JsonObject *lines;

    while (s->len < 300)
      g_string_append (s, " capture  of  scene");
    g_assert_true (tcd_transfer_email (conf, s->str, "x", NULL, 0, 10, NULL, &err));
    g_assert_no_error (err);
    g_clear_pointer (&mail, json_node_unref);
    mail = mail_parsed (out, 4);
    o = json_node_get_object (mail);
    g_assert_cmpstr (json_object_get_string_member (o, "subject"), ==, s->str);
    lines = json_object_get_object_member (o, "field_lines");
    g_assert_cmpint (json_object_get_int_member (lines, "Subject"), <=, 78);
  }
}

static void
test_email_config (void)
{
  g_autoptr (JsonNode) no_server = email_conf (25, "\"server\": \"\"");
  g_autoptr (JsonNode) no_receivers = parse ("{\"server\": \"127.0.0.1\", \"port\": 25, "
      "\"sender_address\": \"cam@example.org\", \"receivers\": []}");
  g_autoptr (JsonNode) no_sender = parse ("{\"server\": \"127.0.0.1\", \"port\": 25, "
      "\"receivers\": [{\"address\": \"a@example.org\"}]}");
  g_autoptr (JsonNode) bad_rcpt = parse ("{\"server\": \"127.0.0.1\", \"port\": 25, "
      "\"sender_address\": \"cam@example.org\", "
      "\"receivers\": [{\"address\": \"a@example.org>\\r\\nRCPT TO:<b@example.org\"}]}");
  g_autoptr (GError) err = NULL;

  /* the server name is parsed after "server" in email_conf: the empty one wins */
  g_assert_false (send_simple (no_server, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_CONFIG);
  g_clear_error (&err);
  g_assert_false (send_simple (no_receivers, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_CONFIG);
  g_clear_error (&err);
  g_assert_false (send_simple (no_sender, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_CONFIG);
  g_clear_error (&err);
  g_assert_false (send_simple (bad_rcpt, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_CONFIG);
  g_clear_error (&err);
}

static void
test_email_auth (void)
{
  g_autofree gchar *out = test_dir ("smtp-auth");
  g_autoptr (Peer) smtp = peer_start ("smtp", "--out", out, "--auth",
      SMTP_USER ":" SMTP_PASSWORD, NULL);
  g_autoptr (JsonNode) ok = email_conf (smtp->port, "\"authentication\": true, "
      "\"user\": \"" SMTP_USER "\", \"password\": \"" SMTP_PASSWORD "\"");
  g_autoptr (JsonNode) wrong = email_conf (smtp->port, "\"authentication\": true, "
      "\"user\": \"" SMTP_USER "\", \"password\": \"" WRONG_PASSWORD "\"");
  g_autoptr (JsonNode) none = email_conf (smtp->port, "\"authentication\": false, "
      "\"user\": \"" SMTP_USER "\", \"password\": \"" SMTP_PASSWORD "\"");
  g_autoptr (JsonNode) meta = NULL;
  g_autoptr (GError) err = NULL;

  g_assert_true (send_simple (ok, &err));
  g_assert_no_error (err);
  meta = mail_meta (out, 1);
  assert_meta (meta, FALSE, SMTP_USER);

  g_assert_false (send_simple (wrong, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_AUTH);
  g_assert_true (g_str_has_prefix (err->message, "Email to "));
  g_assert_nonnull (strstr (err->message, smtp->host_port));
  g_clear_error (&err);

  /* the server wants AUTH, we do not log in: 530 */
  g_assert_false (send_simple (none, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_AUTH);
  g_clear_error (&err);
  g_assert_cmpuint (count_suffix (out, ".eml"), ==, 1);
}

/* STARTTLS (with AUTH inside it) and what happens without it */
static void
test_email_starttls (void)
{
  g_autofree gchar *out = test_dir ("smtp-starttls");
  g_autofree gchar *plain_out = test_dir ("smtp-no-starttls");
  g_autoptr (Peer) smtp = peer_start ("smtp", "--out", out, "--starttls", cert, key,
      "--auth", SMTP_USER ":" SMTP_PASSWORD, NULL);
  g_autoptr (Peer) plain = peer_start ("smtp", "--out", plain_out, NULL);
  g_autoptr (JsonNode) conf = email_conf (smtp->port, "\"encryption\": \"starttls\", "
      "\"verify_certificate\": false, \"authentication\": true, "
      "\"user\": \"" SMTP_USER "\", \"password\": \"" SMTP_PASSWORD "\"");
  g_autoptr (JsonNode) verify = email_conf (smtp->port, "\"encryption\": \"starttls\", "
      "\"verify_certificate\": true, \"authentication\": true, "
      "\"user\": \"" SMTP_USER "\", \"password\": \"" SMTP_PASSWORD "\"");
  g_autoptr (JsonNode) to_plain = email_conf (plain->port, "\"encryption\": \"starttls\", "
      "\"verify_certificate\": false");
  g_autoptr (JsonNode) meta = NULL;
  g_autoptr (GError) err = NULL;

  g_assert_true (send_simple (conf, &err));
  g_assert_no_error (err);
  meta = mail_meta (out, 1);
  assert_meta (meta, TRUE, SMTP_USER);

  /* the self-signed certificate is not trusted when checked */
  g_assert_false (send_simple (verify, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_TLS);
  g_clear_error (&err);
  g_assert_cmpuint (count_suffix (out, ".eml"), ==, 1);

  /* no STARTTLS offered: nothing goes out in clear */
  g_assert_false (send_simple (to_plain, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_TLS);
  g_clear_error (&err);
  g_assert_cmpuint (count_suffix (plain_out, ".eml"), ==, 0);
}

/* SMTPS: TLS from the first byte */
static void
test_email_tls (void)
{
  g_autofree gchar *out = test_dir ("smtp-tls");
  g_autoptr (Peer) smtp = peer_start ("smtp", "--out", out, "--tls", cert, key, NULL);
  g_autoptr (JsonNode) conf = email_conf (smtp->port, "\"encryption\": \"ssl_tls\", "
      "\"verify_certificate\": false");
  g_autoptr (JsonNode) verify = email_conf (smtp->port, "\"encryption\": \"ssl_tls\"");
  g_autoptr (JsonNode) meta = NULL;
  g_autoptr (GBytes) pic = random_bytes (30000);
  g_autoptr (GError) err = NULL;
  TcdAttachment att = { "p.jpg", "image/jpeg", pic };

  g_assert_true (tcd_transfer_email (conf, "TLS", "body", &att, 1, 10, NULL, &err));
  g_assert_no_error (err);
  meta = mail_meta (out, 1);
  assert_meta (meta, TRUE, NULL);

  /* verify_certificate defaults to TRUE */
  g_assert_false (send_simple (verify, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_TLS);
  g_clear_error (&err);
  g_assert_cmpuint (count_suffix (out, ".eml"), ==, 1);
}

/* ---- HTTP ---- */

static JsonNode *
receiver (const gchar *url, const gchar *extra)
{
  return parsef ("{\"url\": \"%s\"%s%s}", url, extra ? ", " : "", extra ? extra : "");
}

static const gchar event_json[] =
  "{\"event\": \"rule_alarm\", \"rule\": 3, \"temperature\": 87.5, \"name\": \"\xc3\xbc\"}";

static void
test_http_post (void)
{
  g_autofree gchar *out = test_dir ("http-post");
  g_autoptr (Peer) http = peer_start ("http", "--out", out, NULL);
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/api/events?x=1", http->port);
  g_autoptr (JsonNode) conf = receiver (url, NULL);
  g_autoptr (JsonNode) headers = NULL;
  g_autofree gchar *body_path = g_build_filename (out, "0001.json", NULL);
  g_autofree gchar *headers_path = g_build_filename (out, "0001.headers.json", NULL);
  g_autofree gchar *body = NULL;
  g_autoptr (GString) large = g_string_new ("{\"pad\": \"");
  g_autoptr (GError) err = NULL;
  JsonObject *h;

  g_assert_true (tcd_transfer_http_post (conf, event_json, 10, NULL, &err));
  g_assert_no_error (err);
  g_assert_true (g_file_get_contents (body_path, &body, NULL, NULL));
  g_assert_cmpstr (body, ==, event_json);
  headers = parse_file (headers_path);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (headers), "path"), ==,
      "/api/events?x=1");
  h = json_object_get_object_member (json_node_get_object (headers), "headers");
  g_assert_cmpstr (json_object_get_string_member (h, "Content-Type"), ==, "application/json");
  g_assert_false (json_object_has_member (h, "Authorization"));

  /* larger than curl's 1 KiB Expect: 100-continue threshold: no wait */
  while (large->len < 100000)
    g_string_append (large, "0123456789abcdef");
  g_string_append (large, "\"}");
  {
    gint64 start = g_get_monotonic_time ();
    g_autofree gchar *path2 = g_build_filename (out, "0002.json", NULL);
    g_autofree gchar *body2 = NULL;

    g_assert_true (tcd_transfer_http_post (conf, large->str, 10, NULL, &err));
    g_assert_no_error (err);
    g_assert_cmpfloat (seconds_since (start), <, 0.9);
    g_assert_true (g_file_get_contents (path2, &body2, NULL, NULL));
    g_assert_cmpstr (body2, ==, large->str);
  }
}

static void
test_http_auth (void)
{
  g_autofree gchar *out = test_dir ("http-auth");
  g_autoptr (Peer) http = peer_start ("http", "--out", out, "--user", HTTP_USER,
      "--password", HTTP_PASSWORD, NULL);
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/", http->port);
  g_autofree gchar *url_creds = g_strdup_printf ("http://" HTTP_USER ":" URL_PASSWORD
      "@127.0.0.1:%u/", http->port);
  g_autoptr (JsonNode) ok = receiver (url, "\"user\": \"" HTTP_USER "\", \"password\": \""
      HTTP_PASSWORD "\"");
  g_autoptr (JsonNode) wrong = receiver (url, "\"user\": \"" HTTP_USER "\", \"password\": \""
      WRONG_PASSWORD "\"");
  g_autoptr (JsonNode) none = receiver (url, NULL);
  g_autoptr (JsonNode) in_url = receiver (url_creds, NULL);
  g_autoptr (JsonNode) headers = NULL;
  g_autofree gchar *headers_path = g_build_filename (out, "0001.headers.json", NULL);
  g_autofree gchar *basic = NULL, *expected = NULL;
  g_autoptr (GError) err = NULL;
  JsonObject *h;

  g_assert_true (tcd_transfer_http_post (ok, event_json, 10, NULL, &err));
  g_assert_no_error (err);
  headers = parse_file (headers_path);
  h = json_object_get_object_member (json_node_get_object (headers), "headers");
  basic = g_base64_encode ((const guchar *) HTTP_USER ":" HTTP_PASSWORD,
      strlen (HTTP_USER ":" HTTP_PASSWORD));
  expected = g_strdup_printf ("Basic %s", basic);
  g_assert_cmpstr (json_object_get_string_member (h, "Authorization"), ==, expected);

  g_assert_false (tcd_transfer_http_post (wrong, event_json, 10, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_AUTH);
  g_assert_nonnull (strstr (err->message, "401"));
  g_clear_error (&err);
  g_assert_false (tcd_transfer_http_post (none, event_json, 10, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_AUTH);
  g_clear_error (&err);
  /* credentials in the URL (wrong ones here): not in the message */
  g_assert_false (tcd_transfer_http_post (in_url, event_json, 10, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_AUTH);
  g_assert_nonnull (strstr (err->message, http->host_port));
  g_clear_error (&err);
  g_assert_cmpuint (count_suffix (out, ".json"), ==, 1);
}

static void
test_http_status (void)
{
  g_autofree gchar *out = test_dir ("http-500");
  g_autoptr (Peer) http = peer_start ("http", "--out", out, "--status", "500", NULL);
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/", http->port);
  g_autoptr (JsonNode) conf = receiver (url, NULL);
  g_autoptr (GError) err = NULL;

  g_assert_false (tcd_transfer_http_post (conf, event_json, 10, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_REFUSED);
  g_assert_nonnull (strstr (err->message, "500"));
  g_assert_true (g_str_has_prefix (err->message, "HTTP POST to "));
  g_clear_error (&err);
  /* it did arrive: the answer is what counts */
  g_assert_cmpuint (count_suffix (out, ".json"), ==, 1);
}

static void
test_http_tls (void)
{
  g_autofree gchar *out = test_dir ("http-tls");
  g_autoptr (Peer) http = peer_start ("http", "--out", out, "--tls", cert, key, NULL);
  g_autofree gchar *url = g_strdup_printf ("https://127.0.0.1:%u/", http->port);
  g_autoptr (JsonNode) insecure = receiver (url, "\"verify_certificate\": false");
  g_autoptr (JsonNode) verify = receiver (url, NULL);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *body_path = g_build_filename (out, "0001.json", NULL);
  g_autofree gchar *body = NULL;

  g_assert_true (tcd_transfer_http_post (insecure, event_json, 10, NULL, &err));
  g_assert_no_error (err);
  g_assert_true (g_file_get_contents (body_path, &body, NULL, NULL));
  g_assert_cmpstr (body, ==, event_json);

  g_assert_false (tcd_transfer_http_post (verify, event_json, 10, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_TLS);
  g_clear_error (&err);
  g_assert_cmpuint (count_suffix (out, ".json"), ==, 1);
}

/* Nobody listening; no URL; not an URL */
static void
test_connect (void)
{
  guint port = closed_port ();
  g_autofree gchar *url = g_strdup_printf ("http://" HTTP_USER ":" URL_PASSWORD
      "@127.0.0.1:%u/", port);
  g_autoptr (JsonNode) http = receiver (url, "\"user\": \"" HTTP_USER "\", \"password\": \""
      HTTP_PASSWORD "\"");
  g_autoptr (JsonNode) ftp = parsef ("{\"server\": \"127.0.0.1\", \"port\": %u, "
      "\"user\": \"" FTP_USER "\", \"password\": \"" FTP_PASSWORD "\"}", port);
  g_autoptr (JsonNode) email = email_conf (port, "\"authentication\": true, \"user\": \"u\", "
      "\"password\": \"" SMTP_PASSWORD "\"");
  g_autoptr (JsonNode) no_url = parse ("{\"url\": \"\"}");
  g_autoptr (JsonNode) bad_url = parse ("{\"url\": \"http://[::1/\"}");
  g_autoptr (GBytes) pic = random_bytes (100);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *where = g_strdup_printf ("127.0.0.1:%u", port);

  g_assert_false (tcd_transfer_http_post (http, event_json, 5, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_CONNECT);
  g_assert_nonnull (strstr (err->message, where));
  g_clear_error (&err);
  g_assert_false (tcd_transfer_ftp_put (ftp, "a", "b.jpg", pic, 5, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_CONNECT);
  g_assert_nonnull (strstr (err->message, where));
  g_clear_error (&err);
  g_assert_false (send_simple (email, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_CONNECT);
  g_assert_nonnull (strstr (err->message, where));
  g_clear_error (&err);

  g_assert_false (tcd_transfer_http_post (no_url, event_json, 5, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_CONFIG);
  g_clear_error (&err);
  g_assert_false (tcd_transfer_http_post (bad_url, event_json, 5, NULL, &err));
  assert_transfer_error (err, TCD_TRANSFER_ERROR_CONFIG);
  g_clear_error (&err);
}

/* A server that never answers: the attempt ends after timeout_s */
static void
test_timeout (void)
{
  g_autoptr (Peer) hang = peer_start ("hang", NULL);
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/", hang->port);
  g_autoptr (JsonNode) http = receiver (url, NULL);
  g_autoptr (JsonNode) email = email_conf (hang->port, NULL);
  g_autoptr (GError) err = NULL;
  gint64 start;
  gdouble t;

  start = g_get_monotonic_time ();
  g_assert_false (tcd_transfer_http_post (http, event_json, 2, NULL, &err));
  t = seconds_since (start);
  g_test_message ("HTTP timed out after %.2f s", t);
  assert_transfer_error (err, TCD_TRANSFER_ERROR_TIMEOUT);
  g_clear_error (&err);
  g_assert_cmpfloat (t, >=, 1.8);
  g_assert_cmpfloat (t, <=, 3.2);

  /* no SMTP greeting either */
  start = g_get_monotonic_time ();
  g_assert_false (tcd_transfer_email (email, "x", "y", NULL, 0, 1, NULL, &err));
  t = seconds_since (start);
  assert_transfer_error (err, TCD_TRANSFER_ERROR_TIMEOUT);
  g_clear_error (&err);
  g_assert_cmpfloat (t, >=, 0.8);
  g_assert_cmpfloat (t, <=, 2.2);
}

typedef struct {
  GCancellable *cancellable;
  guint delay_ms;
} CancelLater;

static gpointer
cancel_thread (gpointer data)
{
  CancelLater *c = data;

  g_usleep (c->delay_ms * 1000);
  g_cancellable_cancel (c->cancellable);
  return NULL;
}

/* Cancelled from another thread while waiting for an answer: ends at once */
static void
test_cancel (void)
{
  g_autoptr (Peer) hang = peer_start ("hang", NULL);
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/", hang->port);
  g_autoptr (JsonNode) http = receiver (url, NULL);
  g_autoptr (JsonNode) email = email_conf (hang->port, NULL);
  g_autoptr (JsonNode) ftp = parsef ("{\"server\": \"127.0.0.1\", \"port\": %u}", hang->port);
  g_autoptr (GBytes) pic = random_bytes (100);

  for (guint i = 0; i < 3; i++) {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    g_autoptr (GError) err = NULL;
    CancelLater c = { cancellable, 500 };
    GThread *thread = g_thread_new ("cancel", cancel_thread, &c);
    gint64 start = g_get_monotonic_time ();
    gboolean ok;
    gdouble t;

    if (i == 0)
      ok = tcd_transfer_http_post (http, event_json, 30, cancellable, &err);
    else if (i == 1)
      ok = tcd_transfer_email (email, "x", "y", NULL, 0, 30, cancellable, &err);
    else
      ok = tcd_transfer_ftp_put (ftp, "", "x.jpg", pic, 30, cancellable, &err);
    t = seconds_since (start);
    g_thread_join (thread);
    g_test_message ("cancelled after %.3f s", t);
    g_assert_false (ok);
    assert_transfer_error (err, TCD_TRANSFER_ERROR_CANCELLED);
    g_assert_cmpfloat (t, >=, 0.45);
    g_assert_cmpfloat (t, <, 1.0);
  }

  /* cancelled before: returns at once */
  {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    g_autoptr (GError) err = NULL;
    gint64 start = g_get_monotonic_time ();

    g_cancellable_cancel (cancellable);
    g_assert_false (tcd_transfer_http_post (http, event_json, 30, cancellable, &err));
    assert_transfer_error (err, TCD_TRANSFER_ERROR_CANCELLED);
    g_assert_cmpfloat (seconds_since (start), <, 0.2);
  }
}

typedef struct {
  JsonNode *conf;
  guint index;
  gint *ok;
} Poster;

static gpointer
post_thread (gpointer data)
{
  Poster *p = data;

  for (guint i = 0; i < 5; i++) {
    g_autofree gchar *json = g_strdup_printf ("{\"thread\": %u, \"i\": %u}", p->index, i);
    g_autoptr (GError) err = NULL;
    if (tcd_transfer_http_post (p->conf, json, 10, NULL, &err))
      g_atomic_int_inc (p->ok);
    else
      g_test_message ("thread %u: %s", p->index, err->message);
  }
  return NULL;
}

/* Calls from several threads at once (the delivery workers) */
static void
test_threads (void)
{
  g_autofree gchar *out = test_dir ("http-threads");
  g_autoptr (Peer) http = peer_start ("http", "--out", out, NULL);
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/", http->port);
  g_autoptr (JsonNode) conf = receiver (url, NULL);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Poster posters[4];
  GThread *threads[4];
  gint ok = 0;

  for (guint i = 0; i < 4; i++) {
    posters[i] = (Poster) { conf, i, &ok };
    threads[i] = g_thread_new ("post", post_thread, &posters[i]);
  }
  for (guint i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (ok, ==, 20);
  g_assert_cmpuint (count_suffix (out, ".json"), ==, 20);
  for (guint n = 1; n <= 20; n++) {
    g_autofree gchar *name = g_strdup_printf ("%04u.json", n);
    g_autofree gchar *path = g_build_filename (out, name, NULL);
    gchar *body = NULL;

    g_assert_true (g_file_get_contents (path, &body, NULL, NULL));
    g_hash_table_add (seen, body);
  }
  for (guint t = 0; t < 4; t++)
    for (guint i = 0; i < 5; i++) {
      g_autofree gchar *json = g_strdup_printf ("{\"thread\": %u, \"i\": %u}", t, i);
      g_assert_true (g_hash_table_contains (seen, json));
    }
}

/* ---- main ---- */

static void
make_cert (void)
{
  const gchar *argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", NULL };
  g_autofree gchar *errout = NULL;
  g_autoptr (GError) err = NULL;
  gint status = -1;

  g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
      NULL, NULL, NULL, &errout, &status, &err);
  g_assert_no_error (err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) err = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* a peer that exits early must not kill us with SIGPIPE */
  signal (SIGPIPE, SIG_IGN);
  tmp_root = g_dir_make_tmp ("tcd-transfer-XXXXXX", &err);
  g_assert_no_error (err);
  cert = g_build_filename (tmp_root, "cert.pem", NULL);
  key = g_build_filename (tmp_root, "key.pem", NULL);
  make_cert ();

  g_test_add_func ("/transfer/ftp/dir", test_ftp_dir);
  g_test_add_func ("/transfer/ftp/anonymous", test_ftp_anonymous);
  g_test_add_func ("/transfer/ftp/user", test_ftp_user);
  g_test_add_func ("/transfer/ftp/atomic", test_ftp_atomic);
  g_test_add_func ("/transfer/email/plain", test_email_plain);
  g_test_add_func ("/transfer/email/config", test_email_config);
  g_test_add_func ("/transfer/email/auth", test_email_auth);
  g_test_add_func ("/transfer/email/starttls", test_email_starttls);
  g_test_add_func ("/transfer/email/tls", test_email_tls);
  g_test_add_func ("/transfer/http/post", test_http_post);
  g_test_add_func ("/transfer/http/auth", test_http_auth);
  g_test_add_func ("/transfer/http/status", test_http_status);
  g_test_add_func ("/transfer/http/tls", test_http_tls);
  g_test_add_func ("/transfer/connect", test_connect);
  g_test_add_func ("/transfer/timeout", test_timeout);
  g_test_add_func ("/transfer/cancel", test_cancel);
  g_test_add_func ("/transfer/threads", test_threads);
  ret = g_test_run ();

  rm_rf (tmp_root);
  g_free (tmp_root);
  g_free (cert);
  g_free (key);
  return ret;
}
