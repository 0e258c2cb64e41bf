/* thermocamd: the security audit log
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The audit log is JSON lines in <state>/audit.log, one record per line,
 * appended and flushed to disk as it happens; at AUDIT_MAX bytes it is
 * rotated to audit.log.1 .. audit.log.<AUDIT_KEEP>.  Records never hold a
 * secret: the callers pass names, addresses and what changed.
 *
 * A full disk does not lose records.  <state>/audit.reserve holds
 * AUDIT_RESERVE bytes allocated at start; a write that fails for want of
 * space shrinks it by a slice (1/16) and is tried again, so that the log
 * goes on while the rest of the device finds the disk full (the others get
 * at most the slice the log is filling).  When even that fails, records
 * wait in memory (at most AUDIT_QUEUE_MAX, in order) and are written, oldest
 * first, as soon as space returns: before any later record, at the next
 * record or within AUDIT_RETRY_S.  Records past the queue's bound are
 * counted as lost (tcd_audit_status, diagnostics) and the gap is itself
 * recorded when the queue drains.  The reserve is made again once the queue
 * is empty and there is room.
 */
#include "tcd-security-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "tc-json.h"
#include "tcd-clock.h"

#define AUDIT_MAX (512 * 1024)
#define AUDIT_KEEP 4
#define AUDIT_RESERVE (256 * 1024)  /* bytes kept for the log on a full disk */
#define AUDIT_QUEUE_MAX 2048        /* records held in memory while nothing can be written */
#define AUDIT_RETRY_S 5             /* a waiting queue is tried this often */
#define AUDIT_RESERVE_RETRY_US (30 * G_USEC_PER_SEC)

/* with the mutex held, or at start: the reserve file back to its size */
static void
reserve_make (TcdSecurity *s)
{
  GStatBuf st;
  gint fd;

  s->reserve_next_try = g_get_monotonic_time () + AUDIT_RESERVE_RETRY_US;
  if (s->reserve_size == 0) {
    g_unlink (s->reserve_path);
    s->reserve_held = 0;
    return;
  }
  /* blocks the file really holds (a sparse file would keep nothing) */
  if (g_stat (s->reserve_path, &st) == 0 && (gsize) st.st_size == s->reserve_size
      && (gsize) st.st_blocks * 512 >= s->reserve_size) {
    s->reserve_held = s->reserve_size;
    return;
  }
  fd = g_open (s->reserve_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  if (fstat (fd, &st) == 0) {
    /* what it holds already (a reserve given back in part before a restart) */
    s->reserve_held = MIN ((gsize) st.st_size, (gsize) st.st_blocks * 512);
    s->reserve_held = MIN (s->reserve_held, s->reserve_size);
    if ((gsize) st.st_size > s->reserve_size && ftruncate (fd, s->reserve_size) != 0)
      g_warning ("audit reserve %s: %s", s->reserve_path, g_strerror (errno));
  }
  if (posix_fallocate (fd, 0, s->reserve_size) == 0 && fsync (fd) == 0) {
    s->reserve_held = s->reserve_size;
  } else if (fstat (fd, &st) == 0) {
    /* no room for all of it: what it had stays, nothing more */
    if ((gsize) st.st_size > s->reserve_held && ftruncate (fd, s->reserve_held) != 0)
      g_warning ("audit reserve %s: %s", s->reserve_path, g_strerror (errno));
  }
  close (fd);
}

/* with the mutex held: a slice of the reserve back to the disk for the log;
 * FALSE when nothing is left */
static gboolean
reserve_release (TcdSecurity *s)
{
  gsize slice = MAX (4096, s->reserve_size / 16);

  if (!s->reserve_held)
    return FALSE;
  s->reserve_held = s->reserve_held > slice ? s->reserve_held - slice : 0;
  if (s->reserve_held ? truncate (s->reserve_path, s->reserve_held) != 0
      : g_unlink (s->reserve_path) != 0) {
    g_warning ("audit reserve %s: %s", s->reserve_path, g_strerror (errno));
    s->reserve_held = 0;
    return FALSE;
  }
  s->reserve_next_try = g_get_monotonic_time () + AUDIT_RESERVE_RETRY_US;
  return TRUE;
}

/* with the mutex held */
static void
audit_rotate (TcdSecurity *s)
{
  if (s->audit_fd >= 0) {
    close (s->audit_fd);
    s->audit_fd = -1;
  }
  for (gint i = AUDIT_KEEP - 1; i >= 0; i--) {
    g_autofree gchar *from = i ? g_strdup_printf ("%s.%d", s->audit_path, i)
        : g_strdup (s->audit_path);
    g_autofree gchar *to = g_strdup_printf ("%s.%d", s->audit_path, i + 1);
    if (i == AUDIT_KEEP - 1)
      g_unlink (from);
    else
      g_rename (from, to);
  }
  s->audit_size = 0;
}

/* With the mutex held: appends @line (ending in a newline) and has it on
 * the disk, or leaves the file as it was and returns the errno */
static gint
audit_append (TcdSecurity *s, const gchar *line, gsize len)
{
  g_autofree gchar *torn_line = NULL;
  off_t end;
  gsize done = 0;
  gint err = 0;

  if (s->audit_size > AUDIT_MAX)
    audit_rotate (s);
  if (s->audit_fd < 0) {
    s->audit_fd = g_open (s->audit_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (s->audit_fd < 0)
      return errno;
    fchmod (s->audit_fd, 0600);
    end = lseek (s->audit_fd, 0, SEEK_END);
    s->audit_size = end > 0 ? end : 0;
    /* a record torn by a crash: the next one starts on a new line */
    {
      gchar last = '\n';
      s->torn = end > 0 && pread (s->audit_fd, &last, 1, end - 1) == 1 && last != '\n';
    }
  }
  if (s->torn) {
    torn_line = g_strconcat ("\n", line, NULL);
    line = torn_line;
    len++;
  }
  end = lseek (s->audit_fd, 0, SEEK_END);
  while (done < len) {
    gssize n = write (s->audit_fd, line + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      err = n < 0 ? errno : ENOSPC;
      break;
    }
    done += n;
  }
  /* a record is on the disk before whatever it tells about goes on */
  if (!err && fdatasync (s->audit_fd) != 0)
    err = errno;
  if (err) {
    /* no torn record: what got written of it goes */
    if (end >= 0 && ftruncate (s->audit_fd, end) != 0)
      g_warning ("audit log %s: %s", s->audit_path, g_strerror (errno));
    return err;
  }
  s->audit_size += len;
  s->torn = FALSE;
  return 0;
}

/* With the mutex held: appends @line, freeing the reserve when the disk is
 * full */
static gboolean
audit_write (TcdSecurity *s, const gchar *line)
{
  gsize len = strlen (line);
  gint err = audit_append (s, line, len);

  /* a slice of the reserve at a time (another writer may take one too) */
  for (guint tries = 0; (err == ENOSPC || err == EDQUOT) && tries < 4; tries++) {
    if (s->reserve_held == s->reserve_size)
      g_warning ("audit log %s: the disk is full, using the reserved space", s->audit_path);
    if (!reserve_release (s))
      break;
    err = audit_append (s, line, len);
  }
  if (err && !s->warned) {
    g_warning ("audit log %s: %s; records are kept in memory until they can be written",
        s->audit_path, g_strerror (err));
    s->warned = TRUE;
  }
  return err == 0;
}

static gchar *
audit_line (const gchar *type, const gchar *user, const gchar *address, const gchar *detail)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GDateTime) now = tcd_clock_now_utc_dt ();
  g_autofree gchar *time = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree gchar *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "time");
  json_builder_add_string_value (b, time);
  json_builder_set_member_name (b, "t");
  json_builder_add_int_value (b, g_date_time_to_unix (now));
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "user");
  if (user)
    json_builder_add_string_value (b, user);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "address");
  if (address)
    json_builder_add_string_value (b, address);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "detail");
  json_builder_add_string_value (b, detail);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  return g_strconcat (text, "\n", NULL);
}

/* With the mutex held: writes the waiting lines, oldest first, as far as
 * they go; TRUE when none is left */
static gboolean
audit_flush_locked (TcdSecurity *s)
{
  gchar *line;

  while ((line = g_queue_peek_head (&s->pending))) {
    if (!audit_write (s, line))
      return FALSE;
    g_free (g_queue_pop_head (&s->pending));
  }
  if (s->lost_unrecorded) {
    g_autofree gchar *detail = g_strdup_printf ("%" G_GUINT64_FORMAT
        " audit records were lost while the disk was full", s->lost_unrecorded);
    g_autofree gchar *gap = audit_line ("system", NULL, NULL, detail);
    if (!audit_write (s, gap))
      return FALSE;
    s->lost_unrecorded = 0;
  }
  if (s->warned) {
    g_message ("audit log %s: the records kept in memory are written", s->audit_path);
    s->warned = FALSE;
  }
  if (s->reserve_held < s->reserve_size
      && g_get_monotonic_time () >= s->reserve_next_try)
    reserve_make (s);
  return TRUE;
}

static gboolean
audit_retry (gpointer data)
{
  TcdSecurity *s = data;
  gboolean left;

  g_mutex_lock (&s->lock);
  left = !audit_flush_locked (s);
  if (!left) {
    g_source_unref (s->retry);
    s->retry = NULL;
  }
  g_mutex_unlock (&s->lock);
  return left ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

gboolean
tcd_audit_flush (TcdSecurity *s)
{
  gboolean done;

  g_mutex_lock (&s->lock);
  done = audit_flush_locked (s);
  g_mutex_unlock (&s->lock);
  return done;
}

void
tcd_audit (TcdSecurity *s, const gchar *type, const gchar *user, const gchar *address,
    const gchar *format, ...)
{
  g_autofree gchar *detail = NULL, *line = NULL;
  va_list ap;

  if (!s)
    return;
  va_start (ap, format);
  detail = g_strdup_vprintf (format, ap);
  va_end (ap);
  line = audit_line (type, user, address, detail);
  if (s->on_audit)
    s->on_audit (type, user, address, detail, s->on_audit_data);
  if (s->audit_tap)
    s->audit_tap (g_get_real_time (), type, user, address, detail, s->audit_tap_data);

  g_mutex_lock (&s->lock);
  /* in order: the waiting ones first */
  if (audit_flush_locked (s) && audit_write (s, line)) {
    g_mutex_unlock (&s->lock);
    return;
  }
  if (s->pending.length < s->pending_max) {
    g_queue_push_tail (&s->pending, g_steal_pointer (&line));
  } else {
    s->lost++;
    s->lost_unrecorded++;
  }
  if (!s->retry) {
    s->retry = g_timeout_source_new_seconds (AUDIT_RETRY_S);
    g_source_set_callback (s->retry, audit_retry, s, NULL);
    g_source_attach (s->retry, NULL);
  }
  g_mutex_unlock (&s->lock);
}

void
tcd_security_set_audit_tap (TcdSecurity *s, TcdAuditTap tap, gpointer user_data)
{
  s->audit_tap = tap;
  s->audit_tap_data = user_data;
}

void
tcd_audit_status (TcdSecurity *s, guint *queued, guint64 *lost, gsize *reserve)
{
  g_mutex_lock (&s->lock);
  if (queued)
    *queued = s->pending.length;
  if (lost)
    *lost = s->lost;
  if (reserve)
    *reserve = s->reserve_held;
  g_mutex_unlock (&s->lock);
}

void
tcd_audit_set_limits (TcdSecurity *s, gsize reserve_bytes, guint max_queued)
{
  g_mutex_lock (&s->lock);
  s->reserve_size = reserve_bytes;
  s->pending_max = max_queued;
  reserve_make (s);
  g_mutex_unlock (&s->lock);
}

/* one record (a line of the log, a torn one is skipped) into @out if it matches */
static void
audit_read_line (const gchar *line, const gchar *type, gint64 from, gint64 to, JsonArray *out)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o;
  gint64 when;

  if (!*line || !(root = tc_json_parse (line, -1, 4, NULL)) || !JSON_NODE_HOLDS_OBJECT (root))
    return;                     /* a torn last line after a crash */
  o = json_node_get_object (root);
  when = tc_json_get_int (o, "t", 0);
  if ((from && when < from) || (to && when > to))
    return;
  if (type && g_strcmp0 (tc_json_get_string (o, "type", ""), type) != 0)
    return;
  json_array_add_element (out, json_node_ref (root));
}

static void
audit_read_file (const gchar *path, const gchar *type, gint64 from, gint64 to,
    JsonArray *out)
{
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    audit_read_line (lines[i], type, from, to, out);
}

JsonNode *
tcd_audit_query (TcdSecurity *s, const gchar *type, gint64 from, gint64 to)
{
  JsonArray *out = json_array_new ();
  JsonNode *n = json_node_new (JSON_NODE_ARRAY);

  g_mutex_lock (&s->lock);
  for (gint i = AUDIT_KEEP; i >= 0; i--) {
    g_autofree gchar *path = i ? g_strdup_printf ("%s.%d", s->audit_path, i)
        : g_strdup (s->audit_path);
    audit_read_file (path, type, from, to, out);
  }
  /* and those still waiting for room on the disk */
  for (GList *l = s->pending.head; l; l = l->next)
    audit_read_line (l->data, type, from, to, out);
  g_mutex_unlock (&s->lock);
  json_node_take_array (n, out);
  return n;
}

void
tcd_security_audit_init (TcdSecurity *s, const gchar *state_dir)
{
  GStatBuf st;

  s->audit_path = g_build_filename (state_dir, "audit.log", NULL);
  s->audit_fd = -1;
  s->reserve_path = g_build_filename (state_dir, "audit.reserve", NULL);
  s->reserve_size = AUDIT_RESERVE;
  s->pending_max = AUDIT_QUEUE_MAX;
  g_queue_init (&s->pending);
  if (g_stat (s->audit_path, &st) == 0)
    s->audit_size = st.st_size;
  reserve_make (s);
}

void
tcd_security_audit_clear (TcdSecurity *s)
{
  if (s->retry) {
    g_source_destroy (s->retry);
    g_source_unref (s->retry);
  }
  if (s->audit_fd >= 0)
    close (s->audit_fd);
  if (s->pending.length)
    g_warning ("audit log %s: %u records could not be written (the disk is full)",
        s->audit_path, s->pending.length);
  g_queue_clear_full (&s->pending, g_free);
  g_free (s->audit_path);
  g_free (s->reserve_path);
}
