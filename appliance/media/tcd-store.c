/* thermocamd: a directory of files within a size limit (captures,
 * recordings): the oldest files go first
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The directory is scanned once, when the store is made (temporary files
 * left by a crash are removed then); from there on an index of the files
 * (name, size, modification time) and their running total are kept up to
 * date by the store's own writes and removals and by tcd_store_note for the
 * files others write.  The oldest files are those with the oldest
 * modification time, then the smallest name.
 */
#include "tcd-store.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 128
#define TMP_PREFIX ".tmp-"

typedef struct {
  gchar *name;
  guint64 size;
  gint64 mtime;                 /* unix time, microseconds */
} Entry;

struct _TcdStore {
  GMutex lock;                  /* everything below */
  gchar *dir;
  guint64 limit, total;
  GHashTable *files;            /* name -> Entry (owned) */
};

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->name);
  g_free (e);
}

static gint64
stat_mtime_us (const struct stat *st)
{
  return (gint64) st->st_mtim.tv_sec * G_USEC_PER_SEC + st->st_mtim.tv_nsec / 1000;
}

gboolean
tcd_store_name_ok (const gchar *name)
{
  gsize n = 0;

  if (!name || !*name || *name == '.')
    return FALSE;
  for (const gchar *c = name; *c; c++, n++)
    if (!g_ascii_isalnum (*c) && *c != '.' && *c != '_' && *c != '-')
      return FALSE;
  return n <= NAME_MAX_LEN;
}

/* oldest first: modification time, then name */
static gint
entry_cmp_oldest (gconstpointer a, gconstpointer b)
{
  const Entry *ea = *(Entry * const *) a, *eb = *(Entry * const *) b;

  if (ea->mtime != eb->mtime)
    return ea->mtime < eb->mtime ? -1 : 1;
  return strcmp (ea->name, eb->name);
}

static gint
entry_cmp_newest (gconstpointer a, gconstpointer b)
{
  return entry_cmp_oldest (b, a);
}

static GPtrArray *
sorted_entries (TcdStore *s, GCompareFunc cmp)
{
  GPtrArray *a = g_ptr_array_sized_new (g_hash_table_size (s->files));
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, s->files);
  while (g_hash_table_iter_next (&it, NULL, &v))
    g_ptr_array_add (a, v);
  g_ptr_array_sort (a, cmp);
  return a;
}

/* with the lock */
static void
index_remove (TcdStore *s, const gchar *name)
{
  Entry *e = g_hash_table_lookup (s->files, name);

  if (!e)
    return;
  s->total -= MIN (s->total, e->size);
  g_hash_table_remove (s->files, name);
}

/* with the lock */
static void
index_set (TcdStore *s, const gchar *name, guint64 size, gint64 mtime)
{
  Entry *e = g_hash_table_lookup (s->files, name);

  if (!e) {
    e = g_new0 (Entry, 1);
    e->name = g_strdup (name);
    g_hash_table_insert (s->files, e->name, e);
  } else {
    s->total -= MIN (s->total, e->size);
  }
  e->size = size;
  e->mtime = mtime;
  s->total += size;
}

/* with the lock: the oldest files (never @keep) go until the rest fit */
static void
evict (TcdStore *s, const gchar *keep)
{
  g_autoptr (GPtrArray) a = NULL;

  if (s->total <= s->limit)
    return;
  a = sorted_entries (s, entry_cmp_oldest);
  for (guint i = 0; i < a->len && s->total > s->limit; i++) {
    Entry *e = g_ptr_array_index (a, i);
    g_autofree gchar *path = NULL;
    g_autofree gchar *name = NULL;

    if (keep && g_str_equal (e->name, keep))
      continue;
    path = g_build_filename (s->dir, e->name, NULL);
    if (g_unlink (path) != 0 && errno != ENOENT) {
      int saved = errno;
      g_warning ("store %s: cannot remove %s: %s", s->dir, e->name, g_strerror (saved));
      continue;
    }
    name = g_strdup (e->name);
    g_debug ("store %s: removed %s (%" G_GUINT64_FORMAT " bytes) to stay within %"
        G_GUINT64_FORMAT " bytes", s->dir, name, e->size, s->limit);
    index_remove (s, name);
  }
}

static void
scan (TcdStore *s)
{
  GDir *d = g_dir_open (s->dir, 0, NULL);
  const gchar *name;

  if (!d)
    return;
  while ((name = g_dir_read_name (d))) {
    g_autofree gchar *path = g_build_filename (s->dir, name, NULL);
    struct stat st;

    if (g_str_has_prefix (name, TMP_PREFIX)) {
      /* a write a crash interrupted */
      if (g_unlink (path) == 0)
        g_debug ("store %s: removed the leftover %s", s->dir, name);
      continue;
    }
    if (!tcd_store_name_ok (name) || lstat (path, &st) != 0 || !S_ISREG (st.st_mode))
      continue;
    index_set (s, name, st.st_size, stat_mtime_us (&st));
  }
  g_dir_close (d);
}

TcdStore *
tcd_store_new (const gchar *dir, guint64 limit_bytes, GError **error)
{
  TcdStore *s;

  if (g_mkdir_with_parents (dir, 0700) != 0) {
    int saved = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "cannot create the directory %s: %s", dir, g_strerror (saved));
    return NULL;
  }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
        "%s is not a directory", dir);
    return NULL;
  }
  s = g_new0 (TcdStore, 1);
  g_mutex_init (&s->lock);
  s->dir = g_strdup (dir);
  s->limit = limit_bytes;
  s->files = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  g_mutex_lock (&s->lock);
  scan (s);
  evict (s, NULL);
  g_mutex_unlock (&s->lock);
  return s;
}

void
tcd_store_free (TcdStore *s)
{
  if (!s)
    return;
  g_hash_table_unref (s->files);
  g_mutex_clear (&s->lock);
  g_free (s->dir);
  g_free (s);
}

const gchar *
tcd_store_get_dir (TcdStore *s)
{
  return s->dir;
}

void
tcd_store_set_limit (TcdStore *s, guint64 limit_bytes)
{
  g_mutex_lock (&s->lock);
  s->limit = limit_bytes;
  evict (s, NULL);
  g_mutex_unlock (&s->lock);
}

static gboolean
write_all (int fd, const guint8 *p, gsize len, GError **error)
{
  while (len > 0) {
    gssize n = write (fd, p, len);
    if (n < 0) {
      int saved = errno;
      if (saved == EINTR)
        continue;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
          "cannot write: %s", g_strerror (saved));
      return FALSE;
    }
    p += n;
    len -= n;
  }
  return TRUE;
}

/* the data in a new temporary file of the directory, on the disk */
static gchar *
write_temp (TcdStore *s, GBytes *data, struct stat *st, GError **error)
{
  g_autofree gchar *path = g_build_filename (s->dir, TMP_PREFIX "XXXXXX", NULL);
  gsize len;
  const guint8 *p = g_bytes_get_data (data, &len);
  int fd = g_mkstemp_full (path, O_RDWR | O_CLOEXEC, 0600);

  if (fd < 0) {
    int saved = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "cannot create a file in %s: %s", s->dir, g_strerror (saved));
    return NULL;
  }
  if (!write_all (fd, p, len, error)) {
    close (fd);
    g_unlink (path);
    return NULL;
  }
  if (fsync (fd) != 0 || fstat (fd, st) != 0) {
    int saved = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "cannot write %s: %s", path, g_strerror (saved));
    close (fd);
    g_unlink (path);
    return NULL;
  }
  if (close (fd) != 0) {
    int saved = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "cannot write %s: %s", path, g_strerror (saved));
    g_unlink (path);
    return NULL;
  }
  return g_steal_pointer (&path);
}

/* with the lock: is @name taken, in the index or on the disk? */
static gboolean
taken (TcdStore *s, const gchar *name)
{
  g_autofree gchar *path = NULL;
  struct stat st;

  if (g_hash_table_contains (s->files, name))
    return TRUE;
  path = g_build_filename (s->dir, name, NULL);
  return lstat (path, &st) == 0;
}

/* with the lock: @name, or @name with "-N" before its extension */
static gchar *
free_name (TcdStore *s, const gchar *name)
{
  const gchar *dot = strrchr (name, '.');
  gsize base_len;

  if (!taken (s, name))
    return g_strdup (name);
  if (!dot || dot == name)
    dot = name + strlen (name);
  base_len = dot - name;
  for (guint n = 1; n < G_MAXUINT; n++) {
    g_autofree gchar *suffix = g_strdup_printf ("-%u", n);
    gsize len = base_len, extra = strlen (suffix) + strlen (dot);
    g_autofree gchar *candidate = NULL;

    /* too long: the base is shortened */
    if (len + extra > NAME_MAX_LEN)
      len = extra < NAME_MAX_LEN ? NAME_MAX_LEN - extra : 0;
    if (len == 0)
      return NULL;
    candidate = g_strdup_printf ("%.*s%s%s", (int) len, name, suffix, dot);
    if (!taken (s, candidate))
      return g_steal_pointer (&candidate);
  }
  return NULL;
}

static void
sync_dir (const gchar *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return;
  fsync (fd);
  close (fd);
}

gchar *
tcd_store_add (TcdStore *s, const gchar *name, GBytes *data, GError **error)
{
  g_autofree gchar *tmp = NULL, *final = NULL, *path = NULL;
  struct stat st;

  if (!tcd_store_name_ok (name)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
        "\"%s\" is not a valid file name", name ? name : "");
    return NULL;
  }
  /* the slow part (writing, fsync) without the lock */
  if (!(tmp = write_temp (s, data, &st, error)))
    return NULL;
  g_mutex_lock (&s->lock);
  final = free_name (s, name);
  if (!final) {
    g_mutex_unlock (&s->lock);
    g_unlink (tmp);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
        "no free name for \"%s\"", name);
    return NULL;
  }
  path = g_build_filename (s->dir, final, NULL);
  if (g_rename (tmp, path) != 0) {
    int saved = errno;
    g_mutex_unlock (&s->lock);
    g_unlink (tmp);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "cannot store %s: %s", final, g_strerror (saved));
    return NULL;
  }
  sync_dir (s->dir);
  index_set (s, final, st.st_size, stat_mtime_us (&st));
  evict (s, final);
  g_mutex_unlock (&s->lock);
  return g_steal_pointer (&final);
}

void
tcd_store_note (TcdStore *s, const gchar *name)
{
  g_autofree gchar *path = NULL;
  struct stat st;

  if (!tcd_store_name_ok (name))
    return;
  path = g_build_filename (s->dir, name, NULL);
  g_mutex_lock (&s->lock);
  if (lstat (path, &st) == 0 && S_ISREG (st.st_mode)) {
    index_set (s, name, st.st_size, stat_mtime_us (&st));
    evict (s, name);
  } else {
    index_remove (s, name);
  }
  g_mutex_unlock (&s->lock);
}

static gchar *
format_time (gint64 mtime_us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (mtime_us / G_USEC_PER_SEC);

  return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("");
}

JsonNode *
tcd_store_list (TcdStore *s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GPtrArray) a = NULL;

  json_builder_begin_array (b);
  g_mutex_lock (&s->lock);
  a = sorted_entries (s, entry_cmp_newest);
  for (guint i = 0; i < a->len; i++) {
    Entry *e = g_ptr_array_index (a, i);
    g_autofree gchar *t = format_time (e->mtime);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, e->name);
    json_builder_set_member_name (b, "size");
    json_builder_add_int_value (b, e->size);
    json_builder_set_member_name (b, "time");
    json_builder_add_string_value (b, t);
    json_builder_end_object (b);
  }
  g_mutex_unlock (&s->lock);
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

gchar *
tcd_store_path (TcdStore *s, const gchar *name)
{
  g_autofree gchar *path = NULL;
  struct stat st;
  gboolean known;

  if (!tcd_store_name_ok (name))
    return NULL;
  path = g_build_filename (s->dir, name, NULL);
  g_mutex_lock (&s->lock);
  known = g_hash_table_contains (s->files, name);
  if (known && (lstat (path, &st) != 0 || !S_ISREG (st.st_mode))) {
    /* removed behind the store's back */
    index_remove (s, name);
    known = FALSE;
  }
  g_mutex_unlock (&s->lock);
  return known ? g_steal_pointer (&path) : NULL;
}

gboolean
tcd_store_delete (TcdStore *s, const gchar *name, GError **error)
{
  g_autofree gchar *path = NULL;

  if (!tcd_store_name_ok (name)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
        "\"%s\" is not a valid file name", name ? name : "");
    return FALSE;
  }
  path = g_build_filename (s->dir, name, NULL);
  g_mutex_lock (&s->lock);
  if (!g_hash_table_contains (s->files, name)) {
    g_mutex_unlock (&s->lock);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no file \"%s\"", name);
    return FALSE;
  }
  if (g_unlink (path) != 0 && errno != ENOENT) {
    int saved = errno;
    g_mutex_unlock (&s->lock);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "cannot remove %s: %s", name, g_strerror (saved));
    return FALSE;
  }
  index_remove (s, name);
  g_mutex_unlock (&s->lock);
  return TRUE;
}

guint
tcd_store_clear (TcdStore *s)
{
  GHashTableIter it;
  Entry *e;
  guint n = 0;

  g_mutex_lock (&s->lock);
  g_hash_table_iter_init (&it, s->files);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & e)) {
    g_autofree gchar *path = g_build_filename (s->dir, e->name, NULL);
    if (g_unlink (path) != 0 && errno != ENOENT) {
      g_warning ("store %s: cannot remove %s: %s", s->dir, e->name, g_strerror (errno));
      continue;
    }
    s->total -= MIN (s->total, e->size);
    g_hash_table_iter_remove (&it);
    n++;
  }
  g_mutex_unlock (&s->lock);
  sync_dir (s->dir);
  return n;
}

JsonNode *
tcd_store_usage (TcdStore *s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  g_mutex_lock (&s->lock);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "files");
  json_builder_add_int_value (b, g_hash_table_size (s->files));
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, s->total);
  json_builder_set_member_name (b, "limit");
  json_builder_add_int_value (b, s->limit);
  json_builder_end_object (b);
  g_mutex_unlock (&s->lock);
  return json_builder_get_root (b);
}
