/* thermocamd: the delivery spool: linkage that must arrive (FTP, email,
 * surveillance center), kept on disk until delivered
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * On disk, under the spool directory:
 *   <id>/job.json     {"id", "channel", "created" (unix us), "attempts",
 *                      "job": the caller's JSON, "files": [names]}
 *   <id>/state.json   {"attempts", "next" (unix us)}: rewritten atomically
 *                     after each failed attempt, so the backoff survives a
 *                     restart
 *   <id>/<name>       the attachments
 * The id is the creation time in unix us as 16 hex digits (made strictly
 * increasing), so ids sort by creation.  A job is written in .tmp-<id>/,
 * fsync'd and renamed to <id>; a finished job is renamed to .done-<id>
 * before its files are removed, so a crash never leaves half a job that
 * would be sent again.  .tmp-* and .done-* are removed at start.
 *
 * Locking: one mutex guards the queues, the counters and the settings; each
 * channel's worker waits on its own condition.  The send function and the
 * disk work run without the mutex: a job in flight is never dropped, and a
 * job taken off a queue belongs to whoever took it.  Notifications are
 * queued to a ref-counted poster whose idle source runs them, in order, on
 * the main context of tcd_spool_new()'s caller; tcd_spool_free() (called on
 * that context's thread) kills the poster, so none runs after it.
 */
#include "tcd-spool.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tc-json.h"

#define ID_LEN 16

/* ---- notifications, on the main context ---- */

typedef struct {
  gchar *id, *channel, *state, *reason;
  JsonNode *job;                /* NULL: unreadable */
  guint attempts;
} Note;

typedef struct {
  gint ref;
  GMutex lock;
  gboolean alive;
  GMainContext *context;
  GSource *source;              /* the idle source that runs @notes, NULL: none */
  GQueue notes;                 /* Note */
  TcdSpoolNotifyFunc notify;
  gpointer user_data;
} Poster;

static void
note_free (gpointer data)
{
  Note *n = data;

  g_free (n->id);
  g_free (n->channel);
  g_free (n->state);
  g_free (n->reason);
  if (n->job)
    json_node_unref (n->job);
  g_free (n);
}

static Poster *
poster_ref (Poster *p)
{
  g_atomic_int_inc (&p->ref);
  return p;
}

static void
poster_unref (gpointer data)
{
  Poster *p = data;

  if (!g_atomic_int_dec_and_test (&p->ref))
    return;
  g_queue_clear_full (&p->notes, note_free);
  g_main_context_unref (p->context);
  g_mutex_clear (&p->lock);
  g_free (p);
}

static gboolean
poster_run (gpointer data)
{
  Poster *p = data;
  GQueue notes;
  Note *n;

  g_mutex_lock (&p->lock);
  notes = p->notes;
  g_queue_init (&p->notes);
  g_clear_pointer (&p->source, g_source_unref);
  g_mutex_unlock (&p->lock);
  while ((n = g_queue_pop_head (&notes))) {
    gboolean alive;

    /* a notification may free the spool: the rest are not run then */
    g_mutex_lock (&p->lock);
    alive = p->alive;
    g_mutex_unlock (&p->lock);
    if (alive && p->notify)
      p->notify (n->id, n->channel, n->job, n->state, n->reason, n->attempts, p->user_data);
    note_free (n);
  }
  return G_SOURCE_REMOVE;
}

static void
post (Poster *p, const gchar *id, const gchar *channel, JsonNode *job, const gchar *state,
    const gchar *reason, guint attempts)
{
  Note *n = g_new0 (Note, 1);

  n->id = g_strdup (id);
  n->channel = g_strdup (channel ? channel : "");
  n->job = job ? json_node_copy (job) : NULL;
  n->state = g_strdup (state);
  n->reason = g_strdup (reason);
  n->attempts = attempts;
  g_mutex_lock (&p->lock);
  if (!p->alive) {
    g_mutex_unlock (&p->lock);
    note_free (n);
    return;
  }
  g_queue_push_tail (&p->notes, n);
  if (!p->source) {
    p->source = g_idle_source_new ();
    g_source_set_priority (p->source, G_PRIORITY_DEFAULT);
    g_source_set_callback (p->source, poster_run, poster_ref (p), poster_unref);
    g_source_set_static_name (p->source, "tcd-spool notify");
    g_source_attach (p->source, p->context);
  }
  g_mutex_unlock (&p->lock);
}

static void
poster_kill (Poster *p)
{
  GSource *source;

  g_mutex_lock (&p->lock);
  p->alive = FALSE;
  g_queue_clear_full (&p->notes, note_free);
  g_queue_init (&p->notes);
  source = g_steal_pointer (&p->source);
  g_mutex_unlock (&p->lock);
  if (source) {
    g_source_destroy (source);
    g_source_unref (source);
  }
  poster_unref (p);
}

/* ---- the spool ---- */

typedef struct {
  gchar *id, *channel, *path;
  JsonNode *job;
  gint64 created;               /* unix us */
  guint attempts;               /* failed so far */
  gint64 next;                  /* unix us: not before */
  gboolean in_flight;
  gboolean kicked;              /* kicked while in flight: retry at once */
} Job;

typedef struct {
  TcdSpool *spool;
  gchar *name;
  GThread *thread;
  GCond cond;
  GQueue jobs;                  /* Job, by id */
  gchar *last_error;
} Channel;

struct _TcdSpool {
  GMutex lock;
  gchar *dir;
  TcdSpoolSendFunc send;
  gpointer user_data;
  Poster *poster;
  GCancellable *cancellable;
  gboolean shutdown;
  GHashTable *channels;         /* name -> Channel */
  gint64 last_id;

  guint retry_initial_s, retry_max_s, max_pending, max_age_h;

  guint pending;
  guint64 delivered, dropped, failed_attempts;
};

static void
job_free (Job *j)
{
  g_free (j->id);
  g_free (j->channel);
  g_free (j->path);
  if (j->job)
    json_node_unref (j->job);
  g_free (j);
}

static void
channel_free (gpointer data)
{
  Channel *ch = data;

  g_queue_clear_full (&ch->jobs, (GDestroyNotify) job_free);
  g_cond_clear (&ch->cond);
  g_free (ch->name);
  g_free (ch->last_error);
  g_free (ch);
}

static gint
job_cmp (gconstpointer a, gconstpointer b, gpointer user_data)
{
  return strcmp (((const Job *) a)->id, ((const Job *) b)->id);
}

/* for arrays of strings */
static gint
name_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

static gboolean
is_id (const gchar *name)
{
  if (strlen (name) != ID_LEN)
    return FALSE;
  for (const gchar *c = name; *c; c++)
    if (!g_ascii_isxdigit (*c) || g_ascii_isupper (*c))
      return FALSE;
  return TRUE;
}

/* ---- the disk ---- */

static gboolean
sync_dir (const gchar *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0 || fsync (fd) != 0) {
    int e = errno;
    if (fd >= 0)
      close (fd);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot sync %s: %s",
        dir, g_strerror (e));
    return FALSE;
  }
  close (fd);
  return TRUE;
}

/* temporary file, fsync, rename */
static gboolean
write_file (const gchar *path, const gchar *data, gsize len, GError **error)
{
  return g_file_set_contents_full (path, data, len,
      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, error);
}

static void
remove_tree (const gchar *path)
{
  GStatBuf st;
  GDir *d;

  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode) && (d = g_dir_open (path, 0, NULL))) {
    const gchar *name;
    while ((name = g_dir_read_name (d))) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);
      remove_tree (child);
    }
    g_dir_close (d);
    if (g_rmdir (path) != 0)
      g_warning ("spool: cannot remove %s: %s", path, g_strerror (errno));
  } else if (g_unlink (path) != 0) {
    g_warning ("spool: cannot remove %s: %s", path, g_strerror (errno));
  }
}

/* A job is finished (delivered or dropped): out of the way whole first, then
 * removed, so a crash in between never leaves a half job to send again */
static void
remove_job_dir (TcdSpool *s, const gchar *id)
{
  g_autofree gchar *path = g_build_filename (s->dir, id, NULL);
  g_autofree gchar *done = g_strdup_printf ("%s/.done-%s", s->dir, id);

  if (g_rename (path, done) == 0) {
    sync_dir (s->dir, NULL);
    remove_tree (done);
  } else if (errno != ENOENT) {
    g_warning ("spool: cannot rename %s: %s", path, g_strerror (errno));
    remove_tree (path);
  }
}

static gboolean
write_state (const gchar *job_path, guint attempts, gint64 next, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *text = NULL, *path = g_build_filename (job_path, "state.json", NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "attempts");
  json_builder_add_int_value (b, attempts);
  json_builder_set_member_name (b, "next");
  json_builder_add_int_value (b, next);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  return write_file (path, text, strlen (text), error) && sync_dir (job_path, error);
}

static gboolean
member_int (JsonObject *o, const gchar *name, gint64 *out)
{
  JsonNode *n = json_object_get_member (o, name);

  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

static const gchar *
member_string (JsonObject *o, const gchar *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* "": unusable as an attachment name */
static gboolean
file_name_ok (const gchar *name)
{
  return name && *name && name[0] != '.' && !strchr (name, '/')
      && strcmp (name, "job.json") != 0 && strcmp (name, "state.json") != 0;
}

/* @channel is set when job.json says it, even if the job is unusable */
static Job *
load_job (TcdSpool *s, const gchar *id, gchar **channel, GError **error)
{
  g_autofree gchar *path = g_build_filename (s->dir, id, NULL);
  g_autofree gchar *job_json = g_build_filename (path, "job.json", NULL);
  g_autofree gchar *state_json = g_build_filename (path, "state.json", NULL);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o;
  JsonNode *files;
  const gchar *ch;
  gint64 created, attempts = 0, next = 0;
  Job *j;

  if (!(root = tc_json_parse_file (job_json, 1024 * 1024, TC_JSON_MAX_DEPTH, error)))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "job.json is not an object");
    return NULL;
  }
  o = json_node_get_object (root);
  ch = member_string (o, "channel");
  if (ch && *ch)
    *channel = g_strdup (ch);
  files = json_object_get_member (o, "files");
  if (!ch || !*ch || g_strcmp0 (member_string (o, "id"), id) != 0
      || !member_int (o, "created", &created) || !json_object_has_member (o, "job")
      || !files || !JSON_NODE_HOLDS_ARRAY (files)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "job.json lacks the id, channel, created, job or files");
    return NULL;
  }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (files)); i++) {
    JsonNode *f = json_array_get_element (json_node_get_array (files), i);
    const gchar *name = JSON_NODE_HOLDS_VALUE (f)
        && json_node_get_value_type (f) == G_TYPE_STRING ? json_node_get_string (f) : NULL;
    g_autofree gchar *fp = file_name_ok (name) ? g_build_filename (path, name, NULL) : NULL;
    if (!fp || !g_file_test (fp, G_FILE_TEST_IS_REGULAR)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "attachment %s is missing",
          name ? name : "(not a name)");
      return NULL;
    }
  }
  member_int (o, "attempts", &attempts);
  if (g_file_test (state_json, G_FILE_TEST_EXISTS)) {
    g_autoptr (JsonNode) state = tc_json_parse_file (state_json, 64 * 1024, 4, NULL);
    /* a bad state file only loses the backoff */
    if (state && JSON_NODE_HOLDS_OBJECT (state)) {
      JsonObject *so = json_node_get_object (state);
      member_int (so, "attempts", &attempts);
      member_int (so, "next", &next);
    }
  }

  j = g_new0 (Job, 1);
  j->id = g_strdup (id);
  j->channel = g_strdup (ch);
  j->path = g_steal_pointer (&path);
  j->job = json_node_copy (json_object_get_member (o, "job"));
  j->created = created;
  j->attempts = CLAMP (attempts, 0, G_MAXUINT);
  j->next = next;
  return j;
}

/* ---- the workers ---- */

static gpointer worker (gpointer data);

/* with the mutex held */
static Channel *
channel_get (TcdSpool *s, const gchar *name)
{
  Channel *ch = g_hash_table_lookup (s->channels, name);

  if (!ch) {
    ch = g_new0 (Channel, 1);
    ch->spool = s;
    ch->name = g_strdup (name);
    g_cond_init (&ch->cond);
    g_queue_init (&ch->jobs);
    g_hash_table_insert (s->channels, ch->name, ch);
  }
  if (!ch->thread && !s->shutdown) {
    g_autofree gchar *tname = g_strdup_printf ("spool-%s", name);
    ch->thread = g_thread_new (tname, worker, ch);
  }
  return ch;
}

/* The backoff after @attempts failed attempts, in us */
static gint64
backoff (TcdSpool *s, guint attempts)
{
  guint64 delay = s->retry_initial_s;

  for (guint i = 1; i < attempts && delay < s->retry_max_s; i++)
    delay *= 2;
  return (gint64) MIN (delay, s->retry_max_s) * G_USEC_PER_SEC;
}

/* Jobs taken off their queue (no longer counted as pending): removed from
 * the disk, logged, notified; without the mutex */
static void
drop_jobs (TcdSpool *s, GPtrArray *jobs, const gchar *reason)
{
  for (guint i = 0; jobs && i < jobs->len; i++) {
    Job *j = g_ptr_array_index (jobs, i);
    remove_job_dir (s, j->id);
    g_warning ("spool: dropped job %s on %s after %u attempts: %s", j->id, j->channel,
        j->attempts, reason);
    post (s->poster, j->id, j->channel, j->job, "dropped", reason, j->attempts);
    job_free (j);
  }
}

/* With the mutex held: the oldest waiting jobs beyond max_pending, taken off
 * their queues into @dropped (created when needed) */
static void
enforce_bound (TcdSpool *s, GPtrArray **dropped)
{
  while (s->pending > s->max_pending) {
    GHashTableIter it;
    Channel *ch, *from = NULL;
    GList *oldest = NULL;

    g_hash_table_iter_init (&it, s->channels);
    while (g_hash_table_iter_next (&it, NULL, (gpointer *) &ch))
      for (GList *l = ch->jobs.head; l; l = l->next) {
        Job *j = l->data;
        if (j->in_flight)
          continue;
        if (!oldest || strcmp (j->id, ((Job *) oldest->data)->id) < 0) {
          oldest = l;
          from = ch;
        }
        break;
      }
    if (!oldest)
      break;                    /* all in flight */
    if (!*dropped)
      *dropped = g_ptr_array_new ();
    g_ptr_array_add (*dropped, oldest->data);
    g_queue_delete_link (&from->jobs, oldest);
    s->pending--;
    s->dropped++;
  }
}

/* With the mutex held (released meanwhile): one attempt at @job */
static void
attempt (TcdSpool *s, Channel *ch, Job *job)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) state_error = NULL;
  gboolean ok;
  guint attempts;
  gint64 next;

  job->in_flight = TRUE;
  job->kicked = FALSE;
  g_mutex_unlock (&s->lock);
  ok = s->send (ch->name, job->job, job->path, s->cancellable, s->user_data, &error);
  if (!ok && !error)
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "sending failed");
  g_mutex_lock (&s->lock);

  if (ok) {
    g_queue_remove (&ch->jobs, job);
    s->pending--;
    s->delivered++;
    g_clear_pointer (&ch->last_error, g_free);
    g_mutex_unlock (&s->lock);
    remove_job_dir (s, job->id);
    post (s->poster, job->id, job->channel, job->job, "delivered", NULL, job->attempts + 1);
    job_free (job);
    g_mutex_lock (&s->lock);
    return;
  }
  if (s->shutdown) {
    /* cancelled by tcd_spool_free(): not the peer's fault */
    job->in_flight = FALSE;
    return;
  }

  attempts = job->attempts + 1;
  next = g_get_real_time () + backoff (s, attempts);
  g_mutex_unlock (&s->lock);
  if (!write_state (job->path, attempts, next, &state_error))
    g_warning ("spool: job %s: %s", job->id, state_error->message);
  g_mutex_lock (&s->lock);
  job->attempts = attempts;
  job->next = job->kicked ? 0 : next;
  job->kicked = FALSE;
  job->in_flight = FALSE;
  s->failed_attempts++;
  g_free (ch->last_error);
  ch->last_error = g_strdup (error->message);
  post (s->poster, job->id, job->channel, job->job, "retry", error->message, attempts);
}

static gpointer
worker (gpointer data)
{
  Channel *ch = data;
  TcdSpool *s = ch->spool;

  g_mutex_lock (&s->lock);
  while (!s->shutdown) {
    gint64 now = g_get_real_time ();
    gint64 max_age = (gint64) s->max_age_h * 3600 * G_USEC_PER_SEC;
    /* a clock set back must not hold a job for long */
    gint64 cap = now + (gint64) s->retry_max_s * G_USEC_PER_SEC;
    g_autoptr (GPtrArray) old = NULL;
    Job *job = NULL;
    GList *l = ch->jobs.head;

    /* first in, first out: a channel is one destination, so the oldest job
     * goes first and the ones behind it wait for it (an alarm's start is
     * never delivered after its stop) */
    while (l) {
      GList *next = l->next;
      Job *j = l->data;
      if (max_age && now - j->created > max_age) {
        if (!old)
          old = g_ptr_array_new ();
        g_ptr_array_add (old, j);
        g_queue_delete_link (&ch->jobs, l);
        s->pending--;
        s->dropped++;
      } else {
        if (j->next > cap)
          j->next = cap;
        if (!job)
          job = j;
      }
      l = next;
    }
    if (old) {
      g_mutex_unlock (&s->lock);
      drop_jobs (s, old, "too old");
      g_mutex_lock (&s->lock);
    } else if (!job) {
      g_cond_wait (&ch->cond, &s->lock);
    } else if (job->next > now) {
      g_cond_wait_until (&ch->cond, &s->lock, g_get_monotonic_time () + (job->next - now));
    } else {
      attempt (s, ch, job);
    }
  }
  g_mutex_unlock (&s->lock);
  return NULL;
}

/* ---- the API ---- */

TcdSpool *
tcd_spool_new (const gchar *dir, TcdSpoolSendFunc send, TcdSpoolNotifyFunc notify,
    gpointer user_data, GError **error)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) jobs = NULL;
  TcdSpool *s;
  GDir *d;
  const gchar *name;

  g_return_val_if_fail (dir && send, NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0) {
    int e = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot create %s: %s",
        dir, g_strerror (e));
    return NULL;
  }
  d = g_dir_open (dir, 0, error);
  if (!d)
    return NULL;

  s = g_new0 (TcdSpool, 1);
  g_mutex_init (&s->lock);
  s->dir = g_strdup (dir);
  s->send = send;
  s->user_data = user_data;
  s->poster = g_new0 (Poster, 1);
  s->poster->ref = 1;
  g_mutex_init (&s->poster->lock);
  s->poster->alive = TRUE;
  s->poster->context = g_main_context_ref_thread_default ();
  g_queue_init (&s->poster->notes);
  s->poster->notify = notify;
  s->poster->user_data = user_data;
  s->cancellable = g_cancellable_new ();
  s->channels = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, channel_free);
  s->retry_initial_s = 5;
  s->retry_max_s = 600;
  s->max_pending = 500;
  s->max_age_h = 72;

  /* what a crash left behind; the jobs */
  while ((name = g_dir_read_name (d))) {
    if (g_str_has_prefix (name, ".tmp-") || g_str_has_prefix (name, ".done-")) {
      g_autofree gchar *path = g_build_filename (dir, name, NULL);
      remove_tree (path);
    } else if (is_id (name)) {
      g_ptr_array_add (ids, g_strdup (name));
    }
  }
  g_dir_close (d);
  g_ptr_array_sort (ids, name_cmp);

  for (guint i = 0; i < ids->len; i++) {
    const gchar *id = g_ptr_array_index (ids, i);
    g_autoptr (GError) err = NULL;
    g_autofree gchar *channel = NULL;
    Job *j = load_job (s, id, &channel, &err);

    if (!j) {
      g_warning ("spool: dropped unreadable job %s: %s", id, err->message);
      remove_job_dir (s, id);
      post (s->poster, id, channel, NULL, "dropped", "unreadable", 0);
    }
    /* the workers of the channels met so far are running */
    g_mutex_lock (&s->lock);
    s->last_id = MAX (s->last_id, g_ascii_strtoll (id, NULL, 16));
    if (j) {
      g_queue_push_tail (&channel_get (s, j->channel)->jobs, j);
      s->pending++;
    } else {
      s->dropped++;
    }
    g_mutex_unlock (&s->lock);
  }
  return s;
}

void
tcd_spool_free (TcdSpool *s)
{
  GHashTableIter it;
  Channel *ch;

  if (!s)
    return;
  g_mutex_lock (&s->lock);
  s->shutdown = TRUE;
  g_hash_table_iter_init (&it, s->channels);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &ch))
    g_cond_broadcast (&ch->cond);
  g_mutex_unlock (&s->lock);
  /* the sends in flight give up (outside the mutex: the handlers are the
   * send functions' business) */
  g_cancellable_cancel (s->cancellable);

  /* no channel is created from now on */
  g_hash_table_iter_init (&it, s->channels);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &ch))
    if (ch->thread)
      g_thread_join (g_steal_pointer (&ch->thread));

  poster_kill (s->poster);
  g_hash_table_unref (s->channels);
  g_object_unref (s->cancellable);
  g_free (s->dir);
  g_mutex_clear (&s->lock);
  g_free (s);
}

void
tcd_spool_configure (TcdSpool *s, guint retry_initial_s, guint retry_max_s,
    guint max_pending, guint max_age_h)
{
  g_autoptr (GPtrArray) dropped = NULL;
  GHashTableIter it;
  Channel *ch;

  g_mutex_lock (&s->lock);
  s->retry_initial_s = MAX (retry_initial_s, 1);
  s->retry_max_s = MAX (retry_max_s, s->retry_initial_s);
  s->max_pending = MAX (max_pending, 1);
  s->max_age_h = max_age_h;     /* 0: no limit */
  enforce_bound (s, &dropped);
  g_hash_table_iter_init (&it, s->channels);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &ch))
    g_cond_broadcast (&ch->cond);
  g_mutex_unlock (&s->lock);
  drop_jobs (s, dropped, "queue full");
}

static gboolean
write_job (TcdSpool *s, const gchar *id, const gchar *channel, gint64 created, JsonNode *job,
    const TcdSpoolFile *files, guint n_files, GError **error)
{
  g_autofree gchar *tmp = g_strdup_printf ("%s/.tmp-%s", s->dir, id);
  g_autofree gchar *path = g_build_filename (s->dir, id, NULL);
  g_autofree gchar *job_json = g_build_filename (tmp, "job.json", NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *text = NULL;

  if (g_mkdir (tmp, 0700) != 0) {
    int e = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot create %s: %s",
        tmp, g_strerror (e));
    return FALSE;
  }
  for (guint i = 0; i < n_files; i++) {
    g_autofree gchar *fp = g_build_filename (tmp, files[i].name, NULL);
    gsize len = 0;
    const gchar *data = files[i].data ? g_bytes_get_data (files[i].data, &len) : NULL;
    if (!write_file (fp, data ? data : "", len, error))
      goto fail;
  }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "channel");
  json_builder_add_string_value (b, channel);
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, created);
  json_builder_set_member_name (b, "attempts");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "job");
  json_builder_add_value (b, job ? json_node_copy (job) : json_node_new (JSON_NODE_NULL));
  json_builder_set_member_name (b, "files");
  json_builder_begin_array (b);
  for (guint i = 0; i < n_files; i++)
    json_builder_add_string_value (b, files[i].name);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  if (!write_file (job_json, text, strlen (text), error) || !sync_dir (tmp, error))
    goto fail;
  if (g_rename (tmp, path) != 0) {
    int e = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot rename %s: %s",
        tmp, g_strerror (e));
    goto fail;
  }
  if (!sync_dir (s->dir, error)) {
    remove_tree (path);
    return FALSE;
  }
  return TRUE;

fail:
  remove_tree (tmp);
  return FALSE;
}

gchar *
tcd_spool_add (TcdSpool *s, const gchar *channel, JsonNode *job,
    const TcdSpoolFile *files, guint n_files, GError **error)
{
  g_autoptr (GPtrArray) dropped = NULL;
  gint64 created;
  gchar id[ID_LEN + 1];
  Channel *ch;
  Job *j;

  g_return_val_if_fail (s && channel && *channel, NULL);
  g_return_val_if_fail (files || !n_files, NULL);

  for (guint i = 0; i < n_files; i++) {
    if (!file_name_ok (files[i].name)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "'%s' cannot be an attachment name", files[i].name ? files[i].name : "");
      return NULL;
    }
    for (guint k = 0; k < i; k++)
      if (strcmp (files[i].name, files[k].name) == 0) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
            "two attachments are named '%s'", files[i].name);
        return NULL;
      }
  }

  /* ids increase strictly, even with the clock set back */
  g_mutex_lock (&s->lock);
  created = MAX (g_get_real_time (), s->last_id + 1);
  s->last_id = created;
  g_mutex_unlock (&s->lock);
  g_snprintf (id, sizeof id, "%016" G_GINT64_MODIFIER "x", created);

  if (!write_job (s, id, channel, created, job, files, n_files, error))
    return NULL;

  j = g_new0 (Job, 1);
  j->id = g_strdup (id);
  j->channel = g_strdup (channel);
  j->path = g_build_filename (s->dir, id, NULL);
  j->job = job ? json_node_copy (job) : json_node_new (JSON_NODE_NULL);
  j->created = created;
  j->next = created;

  g_mutex_lock (&s->lock);
  ch = channel_get (s, channel);
  g_queue_insert_sorted (&ch->jobs, j, job_cmp, NULL);
  s->pending++;
  enforce_bound (s, &dropped);
  g_cond_signal (&ch->cond);
  g_mutex_unlock (&s->lock);
  drop_jobs (s, dropped, "queue full");
  return g_strdup (id);
}

void
tcd_spool_kick (TcdSpool *s, const gchar *channel)
{
  Channel *ch;

  g_mutex_lock (&s->lock);
  ch = channel ? g_hash_table_lookup (s->channels, channel) : NULL;
  if (ch) {
    for (GList *l = ch->jobs.head; l; l = l->next) {
      Job *j = l->data;
      if (j->in_flight)
        j->kicked = TRUE;
      else
        j->next = 0;
    }
    g_cond_signal (&ch->cond);
  }
  g_mutex_unlock (&s->lock);
}

JsonNode *
tcd_spool_status (TcdSpool *s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gpointer *names = NULL;
  gint64 now = g_get_real_time ();
  guint n;

  g_mutex_lock (&s->lock);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "pending");
  json_builder_add_int_value (b, s->pending);
  json_builder_set_member_name (b, "delivered");
  json_builder_add_int_value (b, s->delivered);
  json_builder_set_member_name (b, "dropped");
  json_builder_add_int_value (b, s->dropped);
  json_builder_set_member_name (b, "failed_attempts");
  json_builder_add_int_value (b, s->failed_attempts);
  json_builder_set_member_name (b, "channels");
  json_builder_begin_object (b);
  names = g_hash_table_get_keys_as_array (s->channels, &n);
  qsort (names, n, sizeof (gpointer), name_cmp);
  for (guint i = 0; i < n; i++) {
    Channel *ch = g_hash_table_lookup (s->channels, names[i]);
    gint64 next = G_MAXINT64;

    for (GList *l = ch->jobs.head; l; l = l->next) {
      Job *j = l->data;
      next = MIN (next, j->in_flight ? now : MAX (j->next, now));
    }
    json_builder_set_member_name (b, ch->name);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "pending");
    json_builder_add_int_value (b, ch->jobs.length);
    json_builder_set_member_name (b, "last_error");
    if (ch->last_error)
      json_builder_add_string_value (b, ch->last_error);
    else
      json_builder_add_null_value (b);
    json_builder_set_member_name (b, "next_attempt");
    if (next != G_MAXINT64) {
      g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (next / G_USEC_PER_SEC);
      g_autofree gchar *iso = dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : NULL;
      if (iso)
        json_builder_add_string_value (b, iso);
      else
        json_builder_add_null_value (b);
    } else {
      json_builder_add_null_value (b);
    }
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);
  g_mutex_unlock (&s->lock);
  return json_builder_get_root (b);
}
