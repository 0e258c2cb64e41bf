/* thermocamd's delivery spool (appliance/tcd-spool.c): delivery, retry with
 * backoff, restart with jobs on disk, crash leftovers, bounds, independent
 * channels, stopping while a send hangs, the status
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include "tcd-spool.h"

/* how long to wait for what should happen in a few seconds at most (a busy
 * machine's fsync can take long) */
#define WAIT_MS 20000

/* ---- a peer: the send function ---- */

typedef struct {
  gchar *channel, *id, *job;    /* job: its JSON text */
  GBytes *file;                 /* the attachment named by the job's "file" */
  gint64 time;                  /* monotonic us */
  gboolean ok;
} Sent;

typedef struct {
  GMutex lock;
  GCond cond;
  guint fail;                   /* attempts that fail before they succeed */
  gchar *block;                 /* this channel's sends wait for release or cancel */
  gboolean released;
  guint blocked;                /* sends waiting now */
  GPtrArray *attempts;          /* Sent */
} Peer;

static void
sent_free (gpointer data)
{
  Sent *t = data;
  g_free (t->channel);
  g_free (t->id);
  g_free (t->job);
  g_clear_pointer (&t->file, g_bytes_unref);
  g_free (t);
}

static Peer *
peer_new (void)
{
  Peer *p = g_new0 (Peer, 1);
  g_mutex_init (&p->lock);
  g_cond_init (&p->cond);
  p->attempts = g_ptr_array_new_with_free_func (sent_free);
  return p;
}

static void
peer_free (Peer *p)
{
  g_ptr_array_unref (p->attempts);
  g_free (p->block);
  g_mutex_clear (&p->lock);
  g_cond_clear (&p->cond);
  g_free (p);
}

static void
peer_cancelled (GCancellable *c, gpointer data)
{
  Peer *p = data;
  g_mutex_lock (&p->lock);
  g_cond_broadcast (&p->cond);
  g_mutex_unlock (&p->lock);
}

static void
peer_release (Peer *p)
{
  g_mutex_lock (&p->lock);
  p->released = TRUE;
  g_cond_broadcast (&p->cond);
  g_mutex_unlock (&p->lock);
}

static gboolean
peer_send (const gchar *channel, JsonNode *job, const gchar *job_dir, GCancellable *cancellable,
    gpointer user_data, GError **error)
{
  Peer *p = user_data;
  Sent *t = g_new0 (Sent, 1);
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (job) ? json_node_get_object (job) : NULL;
  gulong handler;
  gboolean ok = TRUE;

  t->channel = g_strdup (channel);
  t->id = g_path_get_basename (job_dir);
  t->job = json_to_string (job, FALSE);
  if (o && json_object_has_member (o, "file")) {
    g_autofree gchar *path = g_build_filename (job_dir,
        json_object_get_string_member (o, "file"), NULL);
    gchar *data;
    gsize len;
    if (g_file_get_contents (path, &data, &len, NULL))
      t->file = g_bytes_new_take (data, len);
  }
  t->time = g_get_monotonic_time ();

  handler = g_cancellable_connect (cancellable, G_CALLBACK (peer_cancelled), p, NULL);
  g_mutex_lock (&p->lock);
  if (g_strcmp0 (channel, p->block) == 0) {
    p->blocked++;
    g_cond_broadcast (&p->cond);
    while (!p->released && !g_cancellable_is_cancelled (cancellable))
      g_cond_wait (&p->cond, &p->lock);
    p->blocked--;
    if (!p->released) {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
      ok = FALSE;
    }
  }
  if (ok && p->fail) {
    p->fail--;
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "peer down (%u)",
        p->attempts->len + 1);
    ok = FALSE;
  }
  t->ok = ok;
  g_ptr_array_add (p->attempts, t);
  g_cond_broadcast (&p->cond);
  g_mutex_unlock (&p->lock);
  g_cancellable_disconnect (cancellable, handler);
  return ok;
}

/* sends to @channel that succeeded, or all when @channel is NULL */
static guint
peer_count (Peer *p, const gchar *channel, gboolean ok)
{
  guint n = 0;
  g_mutex_lock (&p->lock);
  for (guint i = 0; i < p->attempts->len; i++) {
    Sent *t = g_ptr_array_index (p->attempts, i);
    if ((!channel || strcmp (t->channel, channel) == 0) && t->ok == ok)
      n++;
  }
  g_mutex_unlock (&p->lock);
  return n;
}

static guint
peer_delivered (Peer *p, const gchar *id)
{
  guint n = 0;
  g_mutex_lock (&p->lock);
  for (guint i = 0; i < p->attempts->len; i++) {
    Sent *t = g_ptr_array_index (p->attempts, i);
    if (t->ok && strcmp (t->id, id) == 0)
      n++;
  }
  g_mutex_unlock (&p->lock);
  return n;
}

/* waits (without running the main context) until @n sends are blocked */
static gboolean
peer_wait_blocked (Peer *p, guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
  gboolean ok = TRUE;
  g_mutex_lock (&p->lock);
  while (p->blocked < n && ok)
    ok = g_cond_wait_until (&p->cond, &p->lock, end);
  g_mutex_unlock (&p->lock);
  return ok;
}

/* ---- the notifications ---- */

typedef struct {
  gchar *id, *channel, *state, *reason;
  gboolean has_job;
  guint attempts;
} Note;

static GPtrArray *notes;        /* Note, on the main thread */
static GThread *main_thread;

static void
note_free (gpointer data)
{
  Note *n = data;
  g_free (n->id);
  g_free (n->channel);
  g_free (n->state);
  g_free (n->reason);
  g_free (n);
}

static void
on_notify (const gchar *id, const gchar *channel, JsonNode *job, const gchar *state,
    const gchar *reason, guint attempts, gpointer user_data)
{
  Note *n = g_new0 (Note, 1);

  g_assert_true (g_thread_self () == main_thread);
  n->id = g_strdup (id);
  n->channel = g_strdup (channel);
  n->state = g_strdup (state);
  n->reason = g_strdup (reason);
  n->has_job = job != NULL;
  n->attempts = attempts;
  g_ptr_array_add (notes, n);
}

static guint
count_notes (const gchar *state, const gchar *id)
{
  guint k = 0;
  for (guint i = 0; i < notes->len; i++) {
    Note *n = g_ptr_array_index (notes, i);
    if (strcmp (n->state, state) == 0 && (!id || g_strcmp0 (n->id, id) == 0))
      k++;
  }
  return k;
}

static Note *
note (guint i)
{
  g_assert_cmpuint (i, <, notes->len);
  return g_ptr_array_index (notes, i);
}

/* runs the main context until @cond holds, at most @ms */
#define RUN_UNTIL(cond, ms) G_STMT_START {                              \
    gint64 end_ = g_get_monotonic_time () + (ms) * 1000;               \
    while (!(cond) && g_get_monotonic_time () < end_) {                 \
      while (g_main_context_iteration (NULL, FALSE));                   \
      if (!(cond))                                                      \
        g_usleep (2000);                                                \
    }                                                                   \
    g_assert_true (cond);                                               \
  } G_STMT_END

/* runs the main context for @ms */
static void
run_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end) {
    while (g_main_context_iteration (NULL, FALSE));
    g_usleep (2000);
  }
}

static void
setup (void)
{
  if (notes)
    g_ptr_array_unref (notes);
  notes = g_ptr_array_new_with_free_func (note_free);
}

/* ---- helpers ---- */

static JsonNode *
job_new (guint n, const gchar *file)
{
  g_autofree gchar *text = file ? g_strdup_printf ("{\"n\": %u, \"file\": \"%s\"}", n, file)
      : g_strdup_printf ("{\"n\": %u}", n);
  return json_from_string (text, NULL);
}

static gchar *
add (TcdSpool *s, const gchar *channel, guint n)
{
  g_autoptr (JsonNode) job = job_new (n, NULL);
  g_autoptr (GError) err = NULL;
  gchar *id = tcd_spool_add (s, channel, job, NULL, 0, &err);
  g_assert_no_error (err);
  g_assert_nonnull (id);
  return id;
}

static guint
dir_entries (const gchar *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  g_assert_nonnull (d);
  while (g_dir_read_name (d))
    n++;
  g_dir_close (d);
  return n;
}

static gboolean
job_dir_exists (const gchar *dir, const gchar *id)
{
  g_autofree gchar *path = g_build_filename (dir, id, NULL);
  return g_file_test (path, G_FILE_TEST_IS_DIR);
}

static void
remove_tree (const gchar *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const gchar *name;
  if (d) {
    while ((name = g_dir_read_name (d))) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);
      remove_tree (child);
    }
    g_dir_close (d);
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

static JsonObject *
status_channel (JsonNode *status, const gchar *channel)
{
  return json_object_get_object_member (json_object_get_object_member (
      json_node_get_object (status), "channels"), channel);
}

static gint64
status_int (JsonNode *status, const gchar *name)
{
  return json_object_get_int_member (json_node_get_object (status), name);
}

/* ---- the tests ---- */

/* a job is on disk whole before add() returns, delivered once, removed; the
 * notifications come in the order of delivery */
static void
test_deliver (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tc-spool-XXXXXX", NULL);
  Peer *p = peer_new ();
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) job = job_new (1, "a.jpg");
  g_autoptr (GBytes) data = g_bytes_new_static ("\xff\xd8picture", 9);
  TcdSpoolFile files[] = { { "a.jpg", data }, { "b.txt", NULL } };
  g_autofree gchar *id = NULL, *job_json = NULL, *text = NULL, *jid2 = NULL, *jid3 = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonNode) status = NULL;
  JsonObject *o;
  TcdSpool *s;

  setup ();
  p->block = g_strdup ("ftp");
  s = tcd_spool_new (dir, peer_send, on_notify, p, &err);
  g_assert_no_error (err);
  id = tcd_spool_add (s, "ftp", job, files, 2, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (strlen (id), ==, 16);

  /* on disk, while the send waits */
  g_assert_true (peer_wait_blocked (p, 1));
  job_json = g_build_filename (dir, id, "job.json", NULL);
  g_assert_true (json_parser_load_from_file (parser, job_json, &err));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (o, "channel"), ==, "ftp");
  g_assert_cmpint (json_object_get_int_member (o, "attempts"), ==, 0);
  g_assert_cmpint (ABS (json_object_get_int_member (o, "created") - g_get_real_time ()), <,
      10 * G_USEC_PER_SEC);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (o, "job"), "n"),
      ==, 1);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "files")), ==, 2);
  {
    g_autofree gchar *fp = g_build_filename (dir, id, "a.jpg", NULL);
    gsize len;
    g_assert_true (g_file_get_contents (fp, &text, &len, NULL));
    g_assert_cmpmem (text, len, "\xff\xd8picture", 9);
  }
  status = tcd_spool_status (s);
  g_assert_cmpint (status_int (status, "pending"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (status_channel (status, "ftp"), "pending"), ==, 1);
  g_clear_pointer (&status, json_node_unref);
  /* nothing notified before it is delivered */
  run_for (50);
  g_assert_cmpuint (notes->len, ==, 0);

  /* two more, then the peer answers: delivered in order */
  jid2 = add (s, "ftp", 2);
  jid3 = add (s, "ftp", 3);
  g_assert_cmpstr (id, <, jid2);
  g_assert_cmpstr (jid2, <, jid3);
  peer_release (p);
  RUN_UNTIL (notes->len == 3, WAIT_MS);
  g_assert_cmpstr (note (0)->id, ==, id);
  g_assert_cmpstr (note (1)->id, ==, jid2);
  g_assert_cmpstr (note (2)->id, ==, jid3);
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpstr (note (i)->state, ==, "delivered");
    g_assert_cmpstr (note (i)->channel, ==, "ftp");
    g_assert_cmpuint (note (i)->attempts, ==, 1);
    g_assert_true (note (i)->has_job);
  }
  g_assert_cmpuint (peer_delivered (p, id), ==, 1);
  {
    Sent *t = g_ptr_array_index (p->attempts, 0);
    g_assert_cmpstr (t->id, ==, id);
    g_assert_nonnull (t->file);
    g_assert_cmpmem (g_bytes_get_data (t->file, NULL), g_bytes_get_size (t->file),
        "\xff\xd8picture", 9);
  }
  /* removed: nothing left in the spool directory */
  g_assert_cmpuint (dir_entries (dir), ==, 0);

  /* still exactly once a while later */
  run_for (200);
  g_assert_cmpuint (notes->len, ==, 3);
  g_assert_cmpuint (peer_count (p, NULL, TRUE), ==, 3);
  g_assert_cmpuint (peer_count (p, NULL, FALSE), ==, 0);
  status = tcd_spool_status (s);
  g_assert_cmpint (status_int (status, "pending"), ==, 0);
  g_assert_cmpint (status_int (status, "delivered"), ==, 3);
  g_assert_cmpint (status_int (status, "dropped"), ==, 0);
  g_assert_cmpint (status_int (status, "failed_attempts"), ==, 0);
  g_assert_true (json_object_get_null_member (status_channel (status, "ftp"), "next_attempt"));

  /* bad attachment names are refused, nothing stored */
  {
    TcdSpoolFile bad[] = { { "../x", data } };
    TcdSpoolFile twice[] = { { "a", data }, { "a", data } };
    g_autoptr (GError) e1 = NULL, e2 = NULL;
    g_assert_null (tcd_spool_add (s, "ftp", job, bad, 1, &e1));
    g_assert_error (e1, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_assert_null (tcd_spool_add (s, "ftp", job, twice, 2, &e2));
    g_assert_error (e2, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_assert_cmpuint (dir_entries (dir), ==, 0);
  }

  tcd_spool_free (s);
  peer_free (p);
  remove_tree (dir);
}

/* failed attempts are retried after 1 s, then 2 s; the job is delivered once */
static void
test_retry (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tc-spool-XXXXXX", NULL);
  Peer *p = peer_new ();
  g_autoptr (GError) err = NULL;
  g_autofree gchar *id = NULL, *state_json = NULL;
  g_autoptr (JsonNode) status = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *ch;
  TcdSpool *s;
  Sent *a[3];

  setup ();
  p->fail = 2;
  s = tcd_spool_new (dir, peer_send, on_notify, p, &err);
  g_assert_no_error (err);
  tcd_spool_configure (s, 1, 2, 500, 72);
  id = add (s, "email", 1);

  RUN_UNTIL (notes->len == 1, WAIT_MS);
  g_assert_cmpstr (note (0)->state, ==, "retry");
  g_assert_cmpstr (note (0)->id, ==, id);
  g_assert_cmpstr (note (0)->reason, ==, "peer down (1)");
  g_assert_cmpuint (note (0)->attempts, ==, 1);
  /* the backoff is on disk */
  state_json = g_build_filename (dir, id, "state.json", NULL);
  g_assert_true (json_parser_load_from_file (parser, state_json, &err));
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (
      json_parser_get_root (parser)), "attempts"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (
      json_parser_get_root (parser)), "next"), >, g_get_real_time ());
  status = tcd_spool_status (s);
  g_assert_cmpint (status_int (status, "pending"), ==, 1);
  g_assert_cmpint (status_int (status, "failed_attempts"), ==, 1);
  ch = status_channel (status, "email");
  g_assert_cmpint (json_object_get_int_member (ch, "pending"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (ch, "last_error"), ==, "peer down (1)");
  {
    g_autoptr (GDateTime) next = g_date_time_new_from_iso8601 (
        json_object_get_string_member (ch, "next_attempt"), NULL);
    g_assert_nonnull (next);
    g_assert_cmpint (ABS (g_date_time_to_unix (next) - g_get_real_time () / G_USEC_PER_SEC),
        <=, 2);
  }

  RUN_UNTIL (count_notes ("delivered", id) == 1, WAIT_MS);
  g_assert_cmpuint (notes->len, ==, 3);
  g_assert_cmpstr (note (1)->state, ==, "retry");
  g_assert_cmpstr (note (1)->reason, ==, "peer down (2)");
  g_assert_cmpuint (note (1)->attempts, ==, 2);
  g_assert_cmpstr (note (2)->state, ==, "delivered");
  g_assert_cmpuint (note (2)->attempts, ==, 3);

  g_assert_cmpuint (p->attempts->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    a[i] = g_ptr_array_index (p->attempts, i);
  g_assert_false (a[0]->ok);
  g_assert_false (a[1]->ok);
  g_assert_true (a[2]->ok);
  g_test_message ("gaps: %.3f s, %.3f s", (a[1]->time - a[0]->time) / 1e6,
      (a[2]->time - a[1]->time) / 1e6);
  g_assert_cmpint (a[1]->time - a[0]->time, >=, 900000);
  g_assert_cmpint (a[1]->time - a[0]->time, <, 1900000);
  g_assert_cmpint (a[2]->time - a[1]->time, >=, 1900000);
  g_assert_cmpint (a[2]->time - a[1]->time, <, 4000000);

  run_for (200);
  g_assert_cmpuint (peer_delivered (p, id), ==, 1);
  g_assert_cmpuint (dir_entries (dir), ==, 0);
  g_clear_pointer (&status, json_node_unref);
  status = tcd_spool_status (s);
  g_assert_cmpint (status_int (status, "pending"), ==, 0);
  g_assert_cmpint (status_int (status, "delivered"), ==, 1);
  g_assert_cmpint (status_int (status, "failed_attempts"), ==, 2);
  g_assert_true (json_object_get_null_member (status_channel (status, "email"), "last_error"));

  tcd_spool_free (s);
  peer_free (p);
  remove_tree (dir);
}

/* kick: a waiting job is tried at once */
static void
test_kick (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tc-spool-XXXXXX", NULL);
  Peer *p = peer_new ();
  g_autoptr (GError) err = NULL;
  g_autofree gchar *id = NULL;
  TcdSpool *s;
  gint64 t0;

  setup ();
  p->fail = 1;
  s = tcd_spool_new (dir, peer_send, on_notify, p, &err);
  g_assert_no_error (err);
  tcd_spool_configure (s, 60, 600, 500, 72);
  id = add (s, "ftp", 1);
  RUN_UNTIL (count_notes ("retry", id) == 1, WAIT_MS);
  /* next attempt in a minute, unless kicked */
  run_for (100);
  g_assert_cmpuint (notes->len, ==, 1);
  t0 = g_get_monotonic_time ();
  tcd_spool_kick (s, "ftp");
  tcd_spool_kick (s, "no-such-channel");
  RUN_UNTIL (count_notes ("delivered", id) == 1, WAIT_MS);
  /* not the minute of the backoff */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 30 * G_USEC_PER_SEC);
  g_assert_cmpuint (peer_delivered (p, id), ==, 1);
  tcd_spool_free (s);
  peer_free (p);
  remove_tree (dir);
}

/* jobs that failed before a restart are sent by the next spool, once each,
 * with their attachments intact */
static void
test_restart (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tc-spool-XXXXXX", NULL);
  Peer *p = peer_new ();
  g_autoptr (GError) err = NULL;
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (JsonNode) status = NULL;
  TcdSpool *s;

  setup ();
  p->fail = G_MAXUINT;
  s = tcd_spool_new (dir, peer_send, on_notify, p, &err);
  g_assert_no_error (err);
  tcd_spool_configure (s, 1, 2, 500, 72);
  for (guint i = 0; i < 3; i++) {
    g_autoptr (JsonNode) job = job_new (i, "picture.jpg");
    gsize len = 70000 + i * 1000;
    guint8 *data = g_malloc (len);
    TcdSpoolFile f;
    for (gsize k = 0; k < len; k++)
      data[k] = g_random_int_range (0, 256);
    g_ptr_array_add (blobs, g_bytes_new_take (data, len));
    f.name = "picture.jpg";
    f.data = g_ptr_array_index (blobs, i);
    g_ptr_array_add (ids, tcd_spool_add (s, i == 1 ? "email" : "ftp", job, &f, 1, &err));
    g_assert_no_error (err);
  }
  RUN_UNTIL (count_notes ("retry", ids->pdata[0]) >= 2
      && count_notes ("retry", ids->pdata[1]) >= 1, WAIT_MS);
  tcd_spool_free (s);
  g_assert_cmpuint (peer_count (p, NULL, TRUE), ==, 0);
  /* first in, first out: the second ftp job waits behind the failing first */
  g_assert_cmpuint (count_notes ("retry", ids->pdata[2]), ==, 0);
  for (guint i = 0; i < 3; i++) {
    g_autofree gchar *st = g_build_filename (dir, ids->pdata[i], "state.json", NULL);
    g_assert_true (job_dir_exists (dir, ids->pdata[i]));
    /* the attempts so far are on disk */
    g_assert_true (g_file_test (st, G_FILE_TEST_IS_REGULAR) == (i != 2));
  }

  /* the next run: the peer is back */
  setup ();
  g_mutex_lock (&p->lock);
  p->fail = 0;
  g_ptr_array_set_size (p->attempts, 0);
  g_mutex_unlock (&p->lock);
  s = tcd_spool_new (dir, peer_send, on_notify, p, &err);
  g_assert_no_error (err);
  RUN_UNTIL (count_notes ("delivered", NULL) == 3, WAIT_MS);
  run_for (200);
  g_assert_cmpuint (notes->len, ==, 3);
  g_assert_cmpuint (p->attempts->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpuint (peer_delivered (p, ids->pdata[i]), ==, 1);
    g_assert_cmpuint (count_notes ("delivered", ids->pdata[i]), ==, 1);
    /* the failed attempts of the first run count */
    for (guint k = 0; k < notes->len; k++)
      if (g_strcmp0 (note (k)->id, ids->pdata[i]) == 0)
        g_assert_cmpuint (note (k)->attempts, >=, i == 2 ? 1 : 2);
    for (guint k = 0; k < p->attempts->len; k++) {
      Sent *t = g_ptr_array_index (p->attempts, k);
      if (strcmp (t->id, ids->pdata[i]) == 0) {
        g_assert_nonnull (t->file);
        g_assert_true (g_bytes_equal (t->file, g_ptr_array_index (blobs, i)));
        g_assert_cmpstr (t->channel, ==, i == 1 ? "email" : "ftp");
      }
    }
  }
  g_assert_cmpuint (dir_entries (dir), ==, 0);
  status = tcd_spool_status (s);
  g_assert_cmpint (status_int (status, "pending"), ==, 0);
  g_assert_cmpint (status_int (status, "delivered"), ==, 3);
  tcd_spool_free (s);
  peer_free (p);
  remove_tree (dir);
}

static void
write_text (const gchar *dir, const gchar *sub, const gchar *name, const gchar *text)
{
  g_autofree gchar *d = g_build_filename (dir, sub, NULL);
  g_autofree gchar *path = g_build_filename (d, name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (d, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

/* what a crash leaves is cleaned; unreadable jobs are dropped; too old
 * jobs are dropped; the rest are sent */
static void
test_leftovers (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tc-spool-XXXXXX", NULL);
  g_autofree gchar *id = NULL, *old = NULL, *old_json = NULL, *text = NULL, *edited = NULL;
  Peer *p = peer_new ();
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) status = NULL;
  g_autoptr (JsonNode) job = job_new (9, "x.bin");
  g_autoptr (GBytes) data = g_bytes_new_static ("xyz", 3);
  TcdSpoolFile f = { "x.bin", data };
  GRegex *re;
  TcdSpool *s;

  setup ();
  /* two jobs left by a run that could not send them */
  p->block = g_strdup ("ftp");
  s = tcd_spool_new (dir, peer_send, on_notify, p, &err);
  g_assert_no_error (err);
  old = add (s, "ftp", 1);
  id = tcd_spool_add (s, "ftp", job, &f, 1, &err);
  g_assert_no_error (err);
  g_assert_true (peer_wait_blocked (p, 1));
  tcd_spool_free (s);
  g_clear_pointer (&p->block, g_free);
  g_assert_cmpuint (peer_count (p, NULL, TRUE), ==, 0);

  /* the first one was made 100 hours ago */
  old_json = g_build_filename (dir, old, "job.json", NULL);
  g_assert_true (g_file_get_contents (old_json, &text, NULL, NULL));
  re = g_regex_new ("\"created\":[0-9]+", 0, 0, NULL);
  {
    g_autofree gchar *created = g_strdup_printf ("\"created\":%" G_GINT64_FORMAT,
        g_get_real_time () - (gint64) 100 * 3600 * G_USEC_PER_SEC);
    edited = g_regex_replace_literal (re, text, -1, 0, created, 0, NULL);
  }
  g_regex_unref (re);
  g_assert_cmpstr (edited, !=, text);
  g_assert_true (g_file_set_contents (old_json, edited, -1, NULL));

  /* a crash while writing, a crash while removing, a torn job, a job whose
   * attachment is gone, something that is not a job */
  write_text (dir, ".tmp-0000000000000001", "job.json", "{\"id\": \"0000000000000001\"");
  write_text (dir, ".done-0000000000000002", "job.json", "{}");
  write_text (dir, ".done-0000000000000002", "a.jpg", "half");
  write_text (dir, "00000000000000ab", "job.json", "{\"id\": \"00000000000000ab\", \"chan");
  write_text (dir, "00000000000000ac", "job.json",
      "{\"id\": \"00000000000000ac\", \"channel\": \"email\", \"created\": 1, \"attempts\": 0,"
      " \"job\": {}, \"files\": [\"gone.jpg\"]}");
  write_text (dir, "lost+found", "keep", "not ours");

  setup ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*unreadable job 00000000000000ab*");
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*unreadable job 00000000000000ac*");
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*dropped job*too old*");
  s = tcd_spool_new (dir, peer_send, on_notify, p, &err);
  g_assert_no_error (err);
  RUN_UNTIL (count_notes ("delivered", id) == 1 && count_notes ("dropped", NULL) == 3, WAIT_MS);
  g_test_assert_expected_messages ();

  g_assert_cmpuint (count_notes ("dropped", "00000000000000ab"), ==, 1);
  g_assert_cmpuint (count_notes ("dropped", "00000000000000ac"), ==, 1);
  g_assert_cmpuint (count_notes ("dropped", old), ==, 1);
  for (guint i = 0; i < notes->len; i++) {
    Note *n = note (i);
    if (g_strcmp0 (n->id, "00000000000000ab") == 0) {
      g_assert_cmpstr (n->reason, ==, "unreadable");
      g_assert_false (n->has_job);
    } else if (g_strcmp0 (n->id, "00000000000000ac") == 0) {
      g_assert_cmpstr (n->reason, ==, "unreadable");
      g_assert_cmpstr (n->channel, ==, "email");
    } else if (g_strcmp0 (n->id, old) == 0) {
      g_assert_cmpstr (n->reason, ==, "too old");
      g_assert_cmpstr (n->channel, ==, "ftp");
      g_assert_true (n->has_job);
    }
  }
  g_assert_cmpuint (notes->len, ==, 4);
  g_assert_cmpuint (peer_delivered (p, id), ==, 1);
  g_assert_cmpuint (peer_delivered (p, old), ==, 0);
  {
    Sent *t = g_ptr_array_index (p->attempts, p->attempts->len - 1);
    g_assert_cmpstr (t->id, ==, id);
    g_assert_cmpmem (g_bytes_get_data (t->file, NULL), g_bytes_get_size (t->file), "xyz", 3);
  }
  /* only what is not ours is left */
  g_assert_cmpuint (dir_entries (dir), ==, 1);
  g_assert_true (job_dir_exists (dir, "lost+found"));
  status = tcd_spool_status (s);
  g_assert_cmpint (status_int (status, "dropped"), ==, 3);
  g_assert_cmpint (status_int (status, "delivered"), ==, 1);
  g_assert_cmpint (status_int (status, "pending"), ==, 0);

  /* a new job after the restart sorts after the old ones */
  {
    g_autofree gchar *id2 = add (s, "ftp", 2);
    g_assert_cmpstr (id2, >, id);
    RUN_UNTIL (count_notes ("delivered", id2) == 1, WAIT_MS);
  }
  tcd_spool_free (s);
  peer_free (p);
  remove_tree (dir);
}

/* beyond max_pending the oldest waiting jobs are dropped, never the one in
 * flight */
static void
test_bound (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tc-spool-XXXXXX", NULL);
  Peer *p = peer_new ();
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) status = NULL;
  gchar *ids[5];
  TcdSpool *s;

  setup ();
  p->block = g_strdup ("ftp");
  s = tcd_spool_new (dir, peer_send, on_notify, p, &err);
  g_assert_no_error (err);
  tcd_spool_configure (s, 1, 2, 3, 72);
  ids[0] = add (s, "ftp", 0);
  g_assert_true (peer_wait_blocked (p, 1));
  ids[1] = add (s, "ftp", 1);
  ids[2] = add (s, "ftp", 2);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*dropped job*queue full*");
  ids[3] = add (s, "ftp", 3);
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*dropped job*queue full*");
  ids[4] = add (s, "ftp", 4);
  g_test_assert_expected_messages ();

  RUN_UNTIL (notes->len == 2, WAIT_MS);
  g_assert_cmpstr (note (0)->id, ==, ids[1]);
  g_assert_cmpstr (note (1)->id, ==, ids[2]);
  for (guint i = 0; i < 2; i++) {
    g_assert_cmpstr (note (i)->state, ==, "dropped");
    g_assert_cmpstr (note (i)->reason, ==, "queue full");
  }
  g_assert_false (job_dir_exists (dir, ids[1]));
  g_assert_false (job_dir_exists (dir, ids[2]));
  g_assert_true (job_dir_exists (dir, ids[0]));
  g_assert_true (job_dir_exists (dir, ids[3]));
  g_assert_true (job_dir_exists (dir, ids[4]));
  g_assert_cmpuint (dir_entries (dir), ==, 3);
  status = tcd_spool_status (s);
  g_assert_cmpint (status_int (status, "pending"), ==, 3);
  g_assert_cmpint (status_int (status, "dropped"), ==, 2);
  g_assert_cmpint (status_int (status, "delivered"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (status_channel (status, "ftp"), "pending"), ==, 3);

  peer_release (p);
  RUN_UNTIL (count_notes ("delivered", NULL) == 3, WAIT_MS);
  g_assert_cmpstr (note (2)->id, ==, ids[0]);
  g_assert_cmpstr (note (3)->id, ==, ids[3]);
  g_assert_cmpstr (note (4)->id, ==, ids[4]);
  run_for (100);
  g_assert_cmpuint (notes->len, ==, 5);
  g_assert_cmpuint (peer_count (p, NULL, TRUE), ==, 3);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (peer_delivered (p, ids[i]), ==, i == 1 || i == 2 ? 0 : 1);
  g_assert_cmpuint (dir_entries (dir), ==, 0);
  g_clear_pointer (&status, json_node_unref);
  status = tcd_spool_status (s);
  g_assert_cmpint (status_int (status, "pending"), ==, 0);
  g_assert_cmpint (status_int (status, "dropped"), ==, 2);
  g_assert_cmpint (status_int (status, "delivered"), ==, 3);

  tcd_spool_free (s);
  for (guint i = 0; i < 5; i++)
    g_free (ids[i]);
  peer_free (p);
  remove_tree (dir);
}

/* a dead peer holds up its own channel only; freeing the spool while its
 * send hangs is quick, and leaves the job on disk */
static void
test_channels (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tc-spool-XXXXXX", NULL);
  Peer *p = peer_new ();
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) status = NULL;
  g_autofree gchar *stuck = NULL, *stuck2 = NULL;
  gchar *ids[3];
  TcdSpool *s;
  gint64 t0;

  setup ();
  p->block = g_strdup ("center-1");
  s = tcd_spool_new (dir, peer_send, on_notify, p, &err);
  g_assert_no_error (err);
  stuck = add (s, "center-1", 0);
  g_assert_true (peer_wait_blocked (p, 1));
  stuck2 = add (s, "center-1", 1);
  /* (center-1's send never returns by itself) */
  for (guint i = 0; i < 3; i++)
    ids[i] = add (s, "email", i);
  RUN_UNTIL (count_notes ("delivered", NULL) == 3, WAIT_MS);
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpstr (note (i)->id, ==, ids[i]);
    g_assert_cmpstr (note (i)->channel, ==, "email");
    g_assert_cmpuint (peer_delivered (p, ids[i]), ==, 1);
  }
  status = tcd_spool_status (s);
  g_assert_cmpint (status_int (status, "pending"), ==, 2);
  g_assert_cmpint (status_int (status, "delivered"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (status_channel (status, "center-1"), "pending"),
      ==, 2);
  g_assert_cmpint (json_object_get_int_member (status_channel (status, "email"), "pending"),
      ==, 0);

  /* one more delivered but not yet notified when the spool goes: the
   * notification never runs */
  {
    g_autofree gchar *late = add (s, "email", 9);
    gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
    while (!peer_delivered (p, late) && g_get_monotonic_time () < end)
      g_usleep (1000);
    g_assert_cmpuint (peer_delivered (p, late), ==, 1);
    /* and its directory removed (the notification is posted after that) */
    end = g_get_monotonic_time () + WAIT_MS * 1000;
    while (job_dir_exists (dir, late) && g_get_monotonic_time () < end)
      g_usleep (1000);
    g_assert_false (job_dir_exists (dir, late));
  }
  g_usleep (50000);

  t0 = g_get_monotonic_time ();
  tcd_spool_free (s);
  g_test_message ("free took %.3f s", (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, G_USEC_PER_SEC);
  g_assert_cmpuint (p->blocked, ==, 0);
  run_for (100);
  g_assert_cmpuint (notes->len, ==, 3);
  /* the cancelled send was not a failed attempt; both jobs wait on disk */
  g_assert_true (job_dir_exists (dir, stuck));
  g_assert_true (job_dir_exists (dir, stuck2));
  {
    g_autofree gchar *st = g_build_filename (dir, stuck, "state.json", NULL);
    g_assert_false (g_file_test (st, G_FILE_TEST_EXISTS));
  }
  g_assert_cmpuint (dir_entries (dir), ==, 2);

  for (guint i = 0; i < 3; i++)
    g_free (ids[i]);
  peer_free (p);
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();
  g_test_add_func ("/spool/deliver", test_deliver);
  g_test_add_func ("/spool/retry", test_retry);
  g_test_add_func ("/spool/kick", test_kick);
  g_test_add_func ("/spool/restart", test_restart);
  g_test_add_func ("/spool/leftovers", test_leftovers);
  g_test_add_func ("/spool/bound", test_bound);
  g_test_add_func ("/spool/channels", test_channels);
  int r = g_test_run ();
  g_clear_pointer (&notes, g_ptr_array_unref);
  return r;
}
