/* thermocamd: the HTTP API's route table and its matching (GLib only)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-router.h"

#include <string.h>

typedef struct {
  const TcdRoute *route;
  gchar **segs;                 /* the pattern's segments */
  guint n;
} Row;

struct _TcdRouter {
  GArray *rows;                 /* Row, in the order added */
  gint no_route_level;
};

/* "/a/b/" -> {"a", "b"}: split at each "/" after the leading one, one
 * trailing empty segment dropped; "/" and "" have none */
static gchar **
split_path (const gchar *path, guint *n)
{
  gchar **segs;

  if (*path == '/')
    path++;
  segs = g_strsplit (path, "/", -1);   /* "" gives an empty vector */
  *n = g_strv_length (segs);
  if (*n > 0 && *segs[*n - 1] == '\0') {
    g_free (segs[*n - 1]);
    segs[--*n] = NULL;
  }
  return segs;
}

static gboolean
is_param (const gchar *seg)
{
  gsize len = strlen (seg);
  return len >= 2 && seg[0] == '{' && seg[len - 1] == '}';
}

static void
row_clear (gpointer data)
{
  Row *row = data;
  g_strfreev (row->segs);
}

TcdRouter *
tcd_router_new (gint no_route_level)
{
  TcdRouter *r = g_new0 (TcdRouter, 1);

  r->rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_array_set_clear_func (r->rows, row_clear);
  r->no_route_level = no_route_level;
  return r;
}

void
tcd_router_free (TcdRouter *r)
{
  if (!r)
    return;
  g_array_unref (r->rows);
  g_free (r);
}

void
tcd_router_add (TcdRouter *r, const TcdRoute *routes)
{
  for (const TcdRoute *t = routes; t->method; t++) {
    Row row = { .route = t };
    g_return_if_fail (t->pattern && t->pattern[0] == '/');
    row.segs = split_path (t->pattern, &row.n);
    g_array_append_val (r->rows, row);
  }
}

guint
tcd_router_get_size (TcdRouter *r)
{
  return r->rows->len;
}

const TcdRoute *
tcd_router_get (TcdRouter *r, guint i)
{
  g_return_val_if_fail (i < r->rows->len, NULL);
  return g_array_index (r->rows, Row, i).route;
}

/* how specific a matching pattern is: a bit per segment, the leftmost the
 * highest, set where the pattern has a literal */
static guint64
specificity (const Row *row)
{
  guint64 s = 0;

  for (guint i = 0; i < row->n && i < 64; i++)
    if (!is_param (row->segs[i]))
      s |= G_GUINT64_CONSTANT (1) << (63 - i);
  return s;
}

static gboolean
row_matches (const Row *row, gchar **segs, guint n)
{
  if (row->n != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (!is_param (row->segs[i]) && !g_str_equal (row->segs[i], segs[i]))
      return FALSE;
  return TRUE;
}

TcdRouteMatch *
tcd_router_match (TcdRouter *r, const gchar *method, const gchar *path)
{
  TcdRouteMatch *m = g_new0 (TcdRouteMatch, 1);
  const Row *best = NULL;
  guint64 best_s = 0;
  GString *allow = NULL;

  m->segments = split_path (path ? path : "", &m->n_segments);
  for (guint i = 0; i < r->rows->len; i++) {
    const Row *row = &g_array_index (r->rows, Row, i);
    guint64 s;
    if (!row_matches (row, m->segments, m->n_segments))
      continue;
    s = specificity (row);
    if (!best || s > best_s) {
      best = row;
      best_s = s;
    }
  }
  if (!best) {
    m->result = TCD_ROUTE_NO_PATH;
    m->level = r->no_route_level;
    return m;
  }
  m->pattern = best->route->pattern;
  m->result = TCD_ROUTE_NO_METHOD;
  for (guint i = 0; i < r->rows->len; i++) {
    const TcdRoute *t = g_array_index (r->rows, Row, i).route;
    if (!g_str_equal (t->pattern, m->pattern))
      continue;
    if (g_strcmp0 (t->method, method) == 0) {
      m->result = TCD_ROUTE_FOUND;
      m->route = t;
      m->level = t->level;
      break;
    }
    if (!allow) {
      allow = g_string_new (t->method);
      m->level = t->level;
    } else {
      /* each method once, in the order of the table */
      g_auto (GStrv) seen = g_strsplit (allow->str, ", ", -1);
      if (!g_strv_contains ((const gchar * const *) seen, t->method))
        g_string_append_printf (allow, ", %s", t->method);
      m->level = MAX (m->level, t->level);
    }
  }
  if (m->result == TCD_ROUTE_NO_METHOD)
    m->allow = g_string_free (allow, FALSE);
  else if (allow)
    g_string_free (allow, TRUE);
  return m;
}

void
tcd_route_match_free (TcdRouteMatch *m)
{
  if (!m)
    return;
  g_free (m->allow);
  g_strfreev (m->segments);
  g_free (m);
}

const gchar *
tcd_route_match_param (const TcdRouteMatch *m, const gchar *name)
{
  gchar **segs;
  guint n;
  const gchar *value = NULL;

  if (!m->pattern)
    return NULL;
  segs = split_path (m->pattern, &n);
  for (guint i = 0; i < n && i < m->n_segments; i++) {
    gsize len = strlen (segs[i]);
    if (is_param (segs[i]) && len - 2 == strlen (name)
        && strncmp (segs[i] + 1, name, len - 2) == 0) {
      value = m->segments[i];
      break;
    }
  }
  g_strfreev (segs);
  return value;
}
