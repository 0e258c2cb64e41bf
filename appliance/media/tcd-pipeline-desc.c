/* thermocamd: the core pipeline's launch description, from its templates
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-pipeline-desc.h"

#include <stdio.h>
#include <string.h>

static gchar *
read_template (const gchar *dir, const gchar *name, GError **error)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  GString *out = g_string_new (NULL);

  if (!g_file_get_contents (path, &text, NULL, error)) {
    g_string_free (out, TRUE);
    return NULL;
  }
  /* drop the comments: gst-launch syntax has none */
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    const gchar *l = lines[i];
    while (*l == ' ' || *l == '\t')
      l++;
    if (*l == '#' || *l == '\0')
      continue;
    g_string_append (out, lines[i]);
    g_string_append_c (out, '\n');
  }
  return g_string_free (out, FALSE);
}

static gchar *
replace (gchar *text, const gchar *key, const gchar *value)
{
  g_auto (GStrv) parts = g_strsplit (text, key, -1);

  g_free (text);
  return g_strjoinv (value, parts);
}

/* a value for a gst-launch property: quoted, with its quotes escaped */
static gchar *
launch_quote (const gchar *s)
{
  GString *q = g_string_new ("\"");

  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      g_string_append_c (q, '\\');
    g_string_append_c (q, *s);
  }
  g_string_append_c (q, '"');
  return g_string_free (q, FALSE);
}

/* the simulated sensor's size, "1280x1024" */
static gboolean
sim_size (const gchar *text, guint *width, guint *height)
{
  guint w, h;
  gchar end;

  if (sscanf (text, "%ux%u%c", &w, &h, &end) != 2 || w < 16 || h < 16 || w > 4096 || h > 4096)
    return FALSE;
  if (width)
    *width = w;
  if (height)
    *height = h;
  return TRUE;
}

gboolean
tcd_pipeline_source_valid (const gchar *kind, const gchar *arg)
{
  if (g_str_equal (kind, "sim"))
    return !arg || sim_size (arg, NULL, NULL);
  return (g_str_equal (kind, "v4l2") || g_str_equal (kind, "file")) && arg && arg[0];
}

gchar *
tcd_pipeline_describe (const gchar *dir, const gchar *kind, const gchar *arg, gint rate,
    GError **error)
{
  g_autofree gchar *core = read_template (dir, "core.pipeline", error);
  g_autofree gchar *tmpl_name = g_strdup_printf ("source-%s.pipeline", kind);
  g_autofree gchar *source = NULL;
  g_autofree gchar *fps = g_strdup_printf ("%d", rate);
  gchar *d;

  if (!core)
    return NULL;
  source = read_template (dir, tmpl_name, error);
  if (!source)
    return NULL;
  g_strstrip (source);
  if (g_str_equal (kind, "sim") && arg) {
    guint w = 0, h = 0;
    gchar *sized;
    sim_size (arg, &w, &h);
    sized = g_strdup_printf ("%s ! capsfilter caps=video/x-raw,width=%u,height=%u", source, w, h);
    g_free (source);
    source = sized;
  } else if (arg) {
    g_autofree gchar *q = launch_quote (arg);
    source = replace (source, "@DEVICE@", q);
    source = replace (source, "@PATH@", q);
  }
  d = replace (g_strdup (core), "@SOURCE@", source);
  d = replace (d, "@FPS@", fps);
  return d;
}
