/* thermocamd: how numbers are written in JSON
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-json.h"

#include <math.h>
#include <string.h>

/* member names (exact) -> decimals */
static const struct {
  const gchar *name;
  gint decimals;
} names[] = {
  /* temperatures, °C: readings, alarms, ranges */
  {"max", 2}, {"min", 2}, {"avg", 2}, {"value", 2}, {"threshold", 2},
  {"pre_alarm", 2}, {"alarm", 2}, {"tolerance", 2}, {"temperature", 2},
  /* object parameters */
  {"emissivity", 3}, {"optical_transmissivity", 3},
  {"relative_humidity", 3},     /* a fraction: 0.1 % */
  {"distance", 2},              /* m */
  /* positions in the picture, 0..1 */
  {"max_at", 4}, {"min_at", 4}, {"at", 4}, {"points", 4}, {"x", 4}, {"y", 4},
};

/* member name endings -> decimals */
static const struct {
  const gchar *suffix;
  gint decimals;
} suffixes[] = {
  {"_temperature", 2},          /* °C */
  {"_ms", 2},
  {"_s", 3}, {"_seconds", 3},
};

gint
tcd_json_decimals (const gchar *name)
{
  gsize len;

  if (!name)
    return -1;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (name, names[i].name) == 0)
      return names[i].decimals;
  len = strlen (name);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++) {
    gsize n = strlen (suffixes[i].suffix);
    if (len > n && strcmp (name + len - n, suffixes[i].suffix) == 0)
      return suffixes[i].decimals;
  }
  return -1;
}

static gdouble
round_to (gdouble v, gint decimals)
{
  static const gdouble scale[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6 };
  gdouble r;

  if (decimals < 0 || decimals >= (gint) G_N_ELEMENTS (scale) || !isfinite (v))
    return v;
  r = round (v * scale[decimals]) / scale[decimals];
  if (!isfinite (r))
    return v;
  return r == 0 ? 0 : r;        /* no "-0.0" */
}

gdouble
tcd_json_round (const gchar *name, gdouble v)
{
  return round_to (v, tcd_json_decimals (name));
}

static void
round_node (JsonNode *node, gint decimals)
{
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObjectIter it;
    const gchar *name;
    JsonNode *m;

    json_object_iter_init (&it, json_node_get_object (node));
    while (json_object_iter_next (&it, &name, &m))
      round_node (m, tcd_json_decimals (name));
  } else if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);
    /* an array holds what its member holds (a position, a list of them) */
    for (guint i = 0; i < json_array_get_length (a); i++)
      round_node (json_array_get_element (a, i), decimals);
  } else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_DOUBLE
      && decimals >= 0) {
    json_node_set_double (node, round_to (json_node_get_double (node), decimals));
  }
}

void
tcd_json_round_tree (JsonNode *node)
{
  if (node)
    round_node (node, -1);
}

/* @v at @decimals (fixed, without trailing zeros), or where the table does
 * not know it, the shortest of %.<n>g (n <= 15, no exponent for the digits
 * before the point) that reads back as @v */
static void
append_number (GString *out, gdouble v, gint decimals)
{
  static const gchar *formats[] = {
    "%.0f", "%.1f", "%.2f", "%.3f", "%.4f", "%.5f", "%.6f",
  };
  static const gchar *shortest[] = {
    NULL, "%.1g", "%.2g", "%.3g", "%.4g", "%.5g", "%.6g", "%.7g", "%.8g", "%.9g",
    "%.10g", "%.11g", "%.12g", "%.13g", "%.14g", "%.15g"
  };
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v)) {
    g_string_append (out, "null");  /* not JSON: json-glib would write "inf" */
    return;
  }
  if (decimals >= 0 && decimals < (gint) G_N_ELEMENTS (formats) && fabs (v) < 1e15) {
    gchar *end;
    g_ascii_formatd (buf, sizeof buf, formats[decimals], round_to (v, decimals));
    end = buf + strlen (buf);
    if (strchr (buf, '.')) {
      while (end[-1] == '0' && end[-2] != '.')
        *--end = '\0';
    }
    if (strcmp (buf, "-0") == 0 || strcmp (buf, "-0.0") == 0)
      memmove (buf, buf + 1, strlen (buf));
  } else {
    gint first = fabs (v) >= 1 ? MIN (15, (gint) floor (log10 (fabs (v))) + 1) : 1;
    for (gint p = MAX (first, 1); p <= 15; p++) {
      g_ascii_formatd (buf, sizeof buf, shortest[p], v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }
  }
  g_string_append (out, buf);
  /* a double stays a double when read back */
  if (!strpbrk (buf, ".eE"))
    g_string_append (out, ".0");
}

typedef struct {
  gboolean object;              /* else an array */
  gchar *name;                  /* an array: the member that holds it */
} Level;

gchar *
tcd_json_tidy_numbers (const gchar *text)
{
  GString *out = g_string_sized_new (strlen (text));
  GArray *stack = g_array_new (FALSE, FALSE, sizeof (Level));
  GString *last = g_string_new (NULL);  /* the last string: a member name if ':' follows */
  g_autofree gchar *key = NULL;         /* the current member's name */
  const gchar *p = text;

  while (*p) {
    gchar c = *p;

    if (c == '"') {
      /* a string, copied as it is */
      const gchar *start = ++p;
      while (*p && *p != '"')
        p += (*p == '\\' && p[1]) ? 2 : 1;
      g_string_truncate (last, 0);
      g_string_append_len (last, start, p - start);
      g_string_append_c (out, '"');
      g_string_append_len (out, start, p - start);
      if (*p) {
        g_string_append_c (out, '"');
        p++;
      }
      continue;
    }
    if (c == ':') {
      g_free (key);
      key = g_strdup (last->str);
    } else if (c == '{' || c == '[') {
      Level l = { c == '{', NULL };
      if (!l.object) {
        const Level *up = stack->len ? &g_array_index (stack, Level, stack->len - 1) : NULL;
        l.name = g_strdup (up && !up->object ? up->name : up ? key : NULL);
      }
      g_array_append_val (stack, l);
    } else if ((c == '}' || c == ']') && stack->len) {
      g_free (g_array_index (stack, Level, stack->len - 1).name);
      g_array_set_size (stack, stack->len - 1);
    } else if (c == '-' || g_ascii_isdigit (c)) {
      const gchar *start = p;
      gboolean fraction = FALSE;
      while (*p && strchr ("+-0123456789.eE", *p)) {
        fraction |= *p == '.' || *p == 'e' || *p == 'E';
        p++;
      }
      if (fraction) {
        const Level *up = stack->len ? &g_array_index (stack, Level, stack->len - 1) : NULL;
        const gchar *name = up ? (up->object ? key : up->name) : NULL;
        append_number (out, g_ascii_strtod (start, NULL), tcd_json_decimals (name));
      } else {
        g_string_append_len (out, start, p - start);
      }
      continue;
    }
    g_string_append_c (out, c);
    p++;
  }
  for (guint i = 0; i < stack->len; i++)
    g_free (g_array_index (stack, Level, i).name);
  g_array_unref (stack);
  g_string_free (last, TRUE);
  return g_string_free (out, FALSE);
}
