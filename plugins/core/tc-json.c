/* thermocam: bounded JSON parsing and typed members
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tc-json.h"

#include <string.h>

G_DEFINE_QUARK (tc-json-error-quark, tc_json_error)

/* the deepest nesting (stops past @max_depth) and how many arrays or
 * objects stand at the top level (json-glib takes "{} {}" as its first);
 * *too_long is set for an integer of more than 18 digits (json-glib reads
 * one beyond 64 bits as -1, which a range check then lets through) */
static guint
scan (const gchar *data, gsize len, guint max_depth, guint *roots, gboolean *too_long)
{
  guint depth = 0, deepest = 0, digits = 0;
  gboolean in_string = FALSE, in_number = FALSE, fraction = FALSE;

  *roots = 0;
  *too_long = FALSE;
  for (gsize i = 0; i < len; i++) {
    gchar c = data[i];

    if (in_string) {
      if (c == '\\')
        i++;                    /* the escaped character, whatever it is */
      else if (c == '"')
        in_string = FALSE;
      continue;
    }
    if (g_ascii_isdigit (c)) {
      if (!in_number) {
        in_number = TRUE;
        fraction = FALSE;
        digits = 0;
      }
      if (!fraction && ++digits > 18)
        *too_long = TRUE;
      continue;
    }
    if (in_number && (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      fraction = TRUE;          /* a double: json-glib reads it as one */
      continue;
    }
    in_number = FALSE;
    switch (c) {
      case '"':
        in_string = TRUE;
        break;
      case '[':
      case '{':
        if (depth == 0)
          (*roots)++;
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > max_depth)
            return max_depth + 1;
        }
        break;
      case ']':
      case '}':
        if (depth > 0)
          depth--;
        break;
      default:
        break;
    }
  }
  return deepest;
}

/* Whether an object of @data (whose depth was checked before) names a
 * member twice: json-glib keeps the last, another
 * reader the first, so such a document means different things to different
 * readers and is refused.  Names are compared as written. */
static gboolean
duplicate_names (const gchar *data, gsize len)
{
  g_autoptr (GPtrArray) stack = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_hash_table_unref);
  gssize name_start = -1, name_end = -1;
  gboolean in_string = FALSE;
  gsize start = 0;

  for (gsize i = 0; i < len; i++) {
    gchar c = data[i];

    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"') {
        in_string = FALSE;
        name_start = start;
        name_end = i;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = TRUE;
        start = i + 1;
        break;
      case '{':
      case '[':
        /* an array's table stays empty: no name is followed by ':' in it */
        g_ptr_array_add (stack, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL));
        name_start = -1;
        break;
      case ']':
      case '}':
        if (stack->len)
          g_ptr_array_remove_index (stack, stack->len - 1);
        name_start = -1;
        break;
      case ':':
        if (name_start >= 0 && stack->len) {
          GHashTable *names = stack->pdata[stack->len - 1];
          gchar *name = g_strndup (data + name_start, name_end - name_start);
          if (g_hash_table_contains (names, name)) {
            g_free (name);
            return TRUE;
          }
          g_hash_table_add (names, name);
        }
        name_start = -1;
        break;
      case ' ':
      case '\t':
      case '\n':
      case '\r':
        break;
      default:
        name_start = -1;
        break;
    }
  }
  return FALSE;
}

guint
tc_json_depth (const gchar *data, gsize len, guint max_depth)
{
  guint roots;
  gboolean too_long;
  return scan (data, len, max_depth, &roots, &too_long);
}

JsonNode *
tc_json_parse (const gchar *data, gssize len, guint max_depth, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) err = NULL;
  guint roots;
  gboolean too_long;
  gsize n;

  if (!data) {
    g_set_error_literal (error, TC_JSON_ERROR, TC_JSON_ERROR_EMPTY, "no JSON document");
    return NULL;
  }
  n = len < 0 ? strlen (data) : (gsize) len;
  if (max_depth == 0)
    max_depth = TC_JSON_MAX_DEPTH;
  if (!g_utf8_validate_len (data, n, NULL)) {
    g_set_error_literal (error, TC_JSON_ERROR, TC_JSON_ERROR_ENCODING, "not UTF-8");
    return NULL;
  }
  if (scan (data, n, max_depth, &roots, &too_long) > max_depth) {
    g_set_error (error, TC_JSON_ERROR, TC_JSON_ERROR_DEPTH,
        "nested deeper than %u levels", max_depth);
    return NULL;
  }
  if (duplicate_names (data, n)) {
    g_set_error_literal (error, TC_JSON_ERROR, TC_JSON_ERROR_SYNTAX,
        "an object names a member twice");
    return NULL;
  }
  if (too_long) {
    g_set_error_literal (error, TC_JSON_ERROR, TC_JSON_ERROR_SYNTAX,
        "an integer of more than 18 digits: out of range");
    return NULL;
  }
  if (roots > 1) {
    g_set_error_literal (error, TC_JSON_ERROR, TC_JSON_ERROR_SYNTAX,
        "more than one value: one JSON document is expected");
    return NULL;
  }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) n, &err)) {
    g_set_error_literal (error, TC_JSON_ERROR, TC_JSON_ERROR_SYNTAX, err->message);
    return NULL;
  }
  if (!json_parser_get_root (parser)) {
    g_set_error_literal (error, TC_JSON_ERROR, TC_JSON_ERROR_EMPTY, "no JSON value");
    return NULL;
  }
  return json_node_ref (json_parser_get_root (parser));
}

JsonNode *
tc_json_parse_file (const gchar *path, gsize max_size, guint max_depth, GError **error)
{
  g_autoptr (GMappedFile) map = g_mapped_file_new (path, FALSE, error);
  JsonNode *node;

  if (!map)
    return NULL;
  if (g_mapped_file_get_length (map) > max_size) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "%s is larger than %" G_GSIZE_FORMAT " bytes", path, max_size);
    return NULL;
  }
  node = tc_json_parse (g_mapped_file_get_length (map)
      ? g_mapped_file_get_contents (map) : "", (gssize) g_mapped_file_get_length (map),
      max_depth, error);
  if (!node)
    g_prefix_error (error, "%s: ", path);
  return node;
}

static JsonNode *
typed (JsonNode *n, GType type)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return NULL;
  if (type == G_TYPE_DOUBLE)
    return json_node_get_value_type (n) == G_TYPE_DOUBLE
        || json_node_get_value_type (n) == G_TYPE_INT64 ? n : NULL;
  return json_node_get_value_type (n) == type ? n : NULL;
}

static JsonNode *
value_of (JsonObject *o, const gchar *name, GType type)
{
  return typed (o ? json_object_get_member (o, name) : NULL, type);
}

static JsonNode *
element (JsonArray *a, guint index)
{
  return a && index < json_array_get_length (a) ? json_array_get_element (a, index) : NULL;
}

const gchar *
tc_json_array_get_string (JsonArray *a, guint index)
{
  JsonNode *n = typed (element (a, index), G_TYPE_STRING);
  return n ? json_node_get_string (n) : NULL;
}

gint64
tc_json_array_get_int (JsonArray *a, guint index, gint64 def)
{
  JsonNode *n = typed (element (a, index), G_TYPE_INT64);
  return n ? json_node_get_int (n) : def;
}

gdouble
tc_json_array_get_double (JsonArray *a, guint index, gdouble def)
{
  JsonNode *n = typed (element (a, index), G_TYPE_DOUBLE);
  return n ? json_node_get_double (n) : def;
}

JsonObject *
tc_json_array_get_object (JsonArray *a, guint index)
{
  JsonNode *n = element (a, index);
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

JsonArray *
tc_json_array_get_array (JsonArray *a, guint index)
{
  JsonNode *n = element (a, index);
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

const gchar *
tc_json_get_string (JsonObject *o, const gchar *name, const gchar *def)
{
  JsonNode *n = value_of (o, name, G_TYPE_STRING);
  return n ? json_node_get_string (n) : def;
}

gint64
tc_json_get_int (JsonObject *o, const gchar *name, gint64 def)
{
  JsonNode *n = value_of (o, name, G_TYPE_INT64);
  return n ? json_node_get_int (n) : def;
}

gdouble
tc_json_get_double (JsonObject *o, const gchar *name, gdouble def)
{
  JsonNode *n = value_of (o, name, G_TYPE_DOUBLE);
  return n ? json_node_get_double (n) : def;
}

gboolean
tc_json_get_bool (JsonObject *o, const gchar *name, gboolean def)
{
  JsonNode *n = value_of (o, name, G_TYPE_BOOLEAN);
  return n ? json_node_get_boolean (n) : def;
}

JsonObject *
tc_json_get_object (JsonObject *o, const gchar *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

JsonArray *
tc_json_get_array (JsonObject *o, const gchar *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

const gchar *
tc_json_node_kind (JsonNode *n)
{
  if (!n)
    return NULL;
  switch (JSON_NODE_TYPE (n)) {
    case JSON_NODE_OBJECT:
      return "object";
    case JSON_NODE_ARRAY:
      return "array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (n)) {
        case G_TYPE_STRING:
          return "string";
        case G_TYPE_INT64:
          return "integer";
        case G_TYPE_DOUBLE:
          return "number";
        case G_TYPE_BOOLEAN:
          return "boolean";
        default:
          return "value";
      }
  }
  return NULL;
}

const gchar *
tc_json_member_kind (JsonObject *o, const gchar *name)
{
  return tc_json_node_kind (o ? json_object_get_member (o, name) : NULL);
}
