/* thermocamd: the running log kept in memory (tcd-logbuf.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-logbuf.h"

#include <string.h>

struct _TcdLogBuf {
  GMutex lock;
  GQueue lines;                 /* gchar *, oldest first */
  gsize bytes;
  guint max_lines;
  gsize max_bytes;
  guint64 dropped;
};

#define LINE_MAX_BYTES 4096

static const gchar *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "ERROR";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "CRITICAL";
  if (level & G_LOG_LEVEL_WARNING)
    return "WARNING";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "MESSAGE";
  if (level & G_LOG_LEVEL_INFO)
    return "INFO";
  return "DEBUG";
}

void
tcd_logbuf_append (TcdLogBuf *l, const gchar *level, const gchar *domain,
    const gchar *message)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *stamp = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
  gchar *line = g_strdup_printf ("%.23sZ %s %s: %.*s\n", stamp, level,
      domain && *domain ? domain : "thermocamd", LINE_MAX_BYTES, message ? message : "");
  gsize len = strlen (line);

  g_mutex_lock (&l->lock);
  g_queue_push_tail (&l->lines, line);
  l->bytes += len;
  while (l->lines.length > 1 && (l->lines.length > l->max_lines || l->bytes > l->max_bytes)) {
    gchar *old = g_queue_pop_head (&l->lines);
    l->bytes -= strlen (old);
    l->dropped++;
    g_free (old);
  }
  g_mutex_unlock (&l->lock);
}

static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  TcdLogBuf *l = user_data;
  const gchar *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++) {
    if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
      domain = fields[i].value;
    else if (g_str_equal (fields[i].key, "MESSAGE"))
      message = fields[i].value;
  }
  /* debug messages only when G_MESSAGES_DEBUG asks for them, as stderr */
  if (!(level & G_LOG_LEVEL_DEBUG) || !g_log_writer_default_would_drop (level, domain))
    tcd_logbuf_append (l, level_name (level), domain, message);
  return g_log_writer_default (level, fields, n_fields, NULL);
}

TcdLogBuf *
tcd_logbuf_install (guint max_lines, gsize max_bytes)
{
  static TcdLogBuf buf;

  g_mutex_init (&buf.lock);
  g_queue_init (&buf.lines);
  buf.max_lines = MAX (1, max_lines);
  buf.max_bytes = MAX (LINE_MAX_BYTES * 2, max_bytes);
  g_log_set_writer_func (writer, &buf, NULL);
  return &buf;
}

gchar *
tcd_logbuf_text (TcdLogBuf *l, gsize *len)
{
  GString *s;

  g_mutex_lock (&l->lock);
  s = g_string_sized_new (l->bytes + 1);
  for (GList *i = l->lines.head; i; i = i->next)
    g_string_append (s, i->data);
  g_mutex_unlock (&l->lock);
  if (len)
    *len = s->len;
  return g_string_free (s, FALSE);
}

guint64
tcd_logbuf_dropped (TcdLogBuf *l)
{
  guint64 n;

  g_mutex_lock (&l->lock);
  n = l->dropped;
  g_mutex_unlock (&l->lock);
  return n;
}
