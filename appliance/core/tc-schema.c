/* thermocam: JSON Schema (draft 2020-12 subset): loading
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The schema is compiled once into a graph of SchemaNode (one per schema
 * object of the document, $refs resolved to pointers, patterns compiled);
 * validation (tc-schema-validate.c) walks that graph and stops at the first
 * error, which carries the instance path ("rules[1].alarm.pre_alarm") built
 * as it descends.  The parts of the module: tc-schema-private.h.
 */
#include "tc-schema-private.h"
#include "tc-json.h"

G_DEFINE_QUARK (tc-schema-error-quark, tc_schema_error)

const TcSchemaTypeName tc_schema_type_names[TC_SCHEMA_N_TYPES] = {
  { T_OBJECT, "object", "an object" },
  { T_ARRAY, "array", "an array" },
  { T_STRING, "string", "a string" },
  { T_NUMBER, "number", "a number" },
  { T_INTEGER, "integer", "an integer" },
  { T_BOOLEAN, "boolean", "a boolean" },
  { T_NULL, "null", "null" },
};

/* ------------------------------------------------------------------------ */
/* loading                                                                   */

static gboolean schema_error (GError **error, const char *where, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
schema_error (GError **error, const char *where, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, TC_SCHEMA_ERROR, TC_SCHEMA_ERROR_SCHEMA, "schema %s: %s", where, msg);
  return FALSE;
}

static void
schema_node_free (SchemaNode *n)
{
  g_free (n->where);
  g_clear_pointer (&n->props, g_hash_table_unref);
  g_clear_pointer (&n->prop_names, g_ptr_array_unref);
  g_clear_pointer (&n->prop_nodes, g_ptr_array_unref);
  g_clear_pointer (&n->required, g_ptr_array_unref);
  g_free (n->enum_desc);
  g_clear_pointer (&n->pattern, g_regex_unref);
  g_clear_pointer (&n->prefix, g_ptr_array_unref);
  g_clear_pointer (&n->all_of, g_ptr_array_unref);
  g_clear_pointer (&n->any_of, g_ptr_array_unref);
  g_clear_pointer (&n->one_of, g_ptr_array_unref);
  g_free (n);
}

void
tc_schema_free (TcSchema *s)
{
  if (!s)
    return;
  g_clear_pointer (&s->nodes, g_ptr_array_unref);
  g_clear_pointer (&s->by_src, g_hash_table_unref);
  g_clear_pointer (&s->root, json_node_unref);
  g_free (s);
}

/* "#/properties/a~1b" from "#/properties" and "a/b" */
static char *
ptr_join (const char *base, const char *token)
{
  GString *s = g_string_new (base);

  g_string_append_c (s, '/');
  for (const char *p = token; *p; p++) {
    if (*p == '~')
      g_string_append (s, "~0");
    else if (*p == '/')
      g_string_append (s, "~1");
    else
      g_string_append_c (s, *p);
  }
  return g_string_free (s, FALSE);
}

static gboolean
is_annotation (const char *k)
{
  static const char *const names[] = {
    "title", "description", "$schema", "$id", "$comment", "examples", "readOnly",
    "writeOnly", "deprecated", "format", "contentMediaType", "contentEncoding", NULL
  };
  return g_str_has_prefix (k, "x-") || g_strv_contains (names, k);
}

static gboolean
get_count (JsonNode *v, gint64 *out)
{
  Num x;

  if (!is_number (v))
    return FALSE;
  x = num_of (v);
  if (x.is_int) {
    *out = x.i;
  } else {
    if (!(x.d >= 0 && x.d <= (double) G_MAXINT32 && is_integral (x.d)))
      return FALSE;
    *out = (gint64) x.d;
  }
  return *out >= 0;
}

static SchemaNode *compile (TcSchema *s, JsonNode *node, const char *where, GError **error);

static SchemaNode *
compile_at (TcSchema *s, JsonNode *node, const char *where, const char *k1, const char *k2,
    GError **error)
{
  g_autofree char *w1 = ptr_join (where, k1);
  g_autofree char *w2 = k2 ? ptr_join (w1, k2) : NULL;

  return compile (s, node, k2 ? w2 : w1, error);
}

/* an array of schemas, "allOf" and the like */
static GPtrArray *
compile_list (TcSchema *s, JsonNode *v, const char *where, const char *key, GError **error)
{
  JsonArray *a = arr_of (v);
  g_autoptr (GPtrArray) list = NULL;
  guint len = a ? json_array_get_length (a) : 0;

  if (len == 0) {
    schema_error (error, where, "\"%s\" must be a non-empty array of schemas", key);
    return NULL;
  }
  list = g_ptr_array_sized_new (len);
  for (guint i = 0; i < len; i++) {
    char idx[16];
    SchemaNode *c;

    g_snprintf (idx, sizeof idx, "%u", i);
    c = compile_at (s, json_array_get_element (a, i), where, key, idx, error);
    if (!c)
      return NULL;
    g_ptr_array_add (list, c);
  }
  return g_steal_pointer (&list);
}

static gboolean
compile_type (SchemaNode *n, JsonNode *v, GError **error)
{
  JsonArray *a = arr_of (v);
  guint len = a ? json_array_get_length (a) : 1;

  if (!a && value_type (v) != G_TYPE_STRING)
    return schema_error (error, n->where, "\"type\" must be a type name or an array of them");
  if (len == 0)
    return schema_error (error, n->where, "\"type\" must not be an empty array");
  for (guint i = 0; i < len; i++) {
    JsonNode *e = a ? json_array_get_element (a, i) : v;
    const char *name = value_type (e) == G_TYPE_STRING ? json_node_get_string (e) : NULL;
    guint bit = 0;

    for (guint k = 0; name && k < G_N_ELEMENTS (tc_schema_type_names); k++) {
      if (g_str_equal (name, tc_schema_type_names[k].name))
        bit = tc_schema_type_names[k].bit;
    }
    if (!bit)
      return schema_error (error, n->where, "unknown type %s (expected object, array, "
          "string, number, integer, boolean or null)", name ? name : "(not a string)");
    n->types |= bit;
  }
  return TRUE;
}

static gboolean
compile_num (SchemaNode *n, const char *key, JsonNode *v, Num *out, GError **error)
{
  if (!is_number (v))
    return schema_error (error, n->where, "\"%s\" must be a number", key);
  *out = num_of (v);
  return TRUE;
}

static SchemaNode *
compile (TcSchema *s, JsonNode *node, const char *where, GError **error)
{
  SchemaNode *n = g_new0 (SchemaNode, 1);
  JsonObject *o;
  JsonObjectIter it;
  const char *k;
  JsonNode *v;

  g_ptr_array_add (s->nodes, n);
  n->src = node;
  n->where = g_strdup (where);
  n->min_length = n->max_length = n->min_items = n->max_items = -1;
  g_hash_table_insert (s->by_src, node, n);

  if (value_type (node) == G_TYPE_BOOLEAN) {
    n->is_bool = TRUE;
    n->bool_value = json_node_get_boolean (node);
    return n;
  }
  o = obj_of (node);
  if (!o) {
    schema_error (error, where, "a schema must be an object or a boolean");
    return NULL;
  }

  json_object_iter_init_ordered (&it, o);
  while (json_object_iter_next_ordered (&it, &k, &v)) {
    if (is_annotation (k))
      continue;
    if (g_str_equal (k, "default")) {
      n->default_value = v;
      continue;
    }
    if (g_str_equal (k, "$defs") || g_str_equal (k, "definitions")) {
      JsonObject *defs = obj_of (v);
      JsonObjectIter dit;
      const char *dname;
      JsonNode *dv;

      if (!defs) {
        schema_error (error, where, "\"%s\" must be an object of schemas", k);
        return NULL;
      }
      json_object_iter_init_ordered (&dit, defs);
      while (json_object_iter_next_ordered (&dit, &dname, &dv)) {
        if (!compile_at (s, dv, where, k, dname, error))
          return NULL;
      }
      continue;
    }

    n->n_keywords++;
    if (g_str_equal (k, "type")) {
      if (!compile_type (n, v, error))
        return NULL;
    } else if (g_str_equal (k, "properties")) {
      JsonObject *props = obj_of (v);
      JsonObjectIter pit;
      const char *pname;
      JsonNode *pv;

      if (!props) {
        schema_error (error, where, "\"properties\" must be an object of schemas");
        return NULL;
      }
      n->props = g_hash_table_new (g_str_hash, g_str_equal);
      n->prop_names = g_ptr_array_new ();
      n->prop_nodes = g_ptr_array_new ();
      json_object_iter_init_ordered (&pit, props);
      while (json_object_iter_next_ordered (&pit, &pname, &pv)) {
        SchemaNode *c = compile_at (s, pv, where, k, pname, error);

        if (!c)
          return NULL;
        g_hash_table_insert (n->props, (gpointer) pname, c);
        g_ptr_array_add (n->prop_names, (gpointer) pname);
        g_ptr_array_add (n->prop_nodes, c);
      }
    } else if (g_str_equal (k, "required")) {
      JsonArray *a = arr_of (v);
      guint len = a ? json_array_get_length (a) : 0;

      if (!a) {
        schema_error (error, where, "\"required\" must be an array of property names");
        return NULL;
      }
      n->required = g_ptr_array_sized_new (len);
      for (guint i = 0; i < len; i++) {
        JsonNode *e = json_array_get_element (a, i);
        if (value_type (e) != G_TYPE_STRING) {
          schema_error (error, where, "\"required\" must be an array of property names");
          return NULL;
        }
        g_ptr_array_add (n->required, (gpointer) json_node_get_string (e));
      }
    } else if (g_str_equal (k, "additionalProperties")) {
      if (!(n->additional = compile_at (s, v, where, k, NULL, error)))
        return NULL;
    } else if (g_str_equal (k, "enum")) {
      n->enum_values = arr_of (v);
      if (!n->enum_values || json_array_get_length (n->enum_values) == 0) {
        schema_error (error, where, "\"enum\" must be a non-empty array");
        return NULL;
      }
      n->enum_desc = tc_schema_describe_enum (n->enum_values);
    } else if (g_str_equal (k, "const")) {
      n->const_value = v;
    } else if (g_str_equal (k, "minimum")) {
      if (!compile_num (n, k, v, &n->minimum, error))
        return NULL;
    } else if (g_str_equal (k, "maximum")) {
      if (!compile_num (n, k, v, &n->maximum, error))
        return NULL;
    } else if (g_str_equal (k, "exclusiveMinimum")) {
      if (!compile_num (n, k, v, &n->xminimum, error))
        return NULL;
    } else if (g_str_equal (k, "exclusiveMaximum")) {
      if (!compile_num (n, k, v, &n->xmaximum, error))
        return NULL;
    } else if (g_str_equal (k, "multipleOf")) {
      if (!compile_num (n, k, v, &n->multiple_of, error))
        return NULL;
      if (!(n->multiple_of.d > 0)) {
        schema_error (error, where, "\"multipleOf\" must be greater than 0");
        return NULL;
      }
    } else if (g_str_equal (k, "minLength") || g_str_equal (k, "maxLength")
        || g_str_equal (k, "minItems") || g_str_equal (k, "maxItems")) {
      gint64 *dst = g_str_equal (k, "minLength") ? &n->min_length
          : g_str_equal (k, "maxLength") ? &n->max_length
          : g_str_equal (k, "minItems") ? &n->min_items : &n->max_items;

      if (!get_count (v, dst)) {
        schema_error (error, where, "\"%s\" must be a non-negative integer", k);
        return NULL;
      }
    } else if (g_str_equal (k, "pattern")) {
      g_autoptr (GError) err = NULL;

      if (value_type (v) != G_TYPE_STRING) {
        schema_error (error, where, "\"pattern\" must be a string");
        return NULL;
      }
      n->pattern_src = json_node_get_string (v);
      n->pattern = g_regex_new (n->pattern_src, G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT, &err);
      if (!n->pattern) {
        schema_error (error, where, "invalid pattern %s: %s", n->pattern_src, err->message);
        return NULL;
      }
    } else if (g_str_equal (k, "items")) {
      if (JSON_NODE_HOLDS_ARRAY (v)) {
        schema_error (error, where, "\"items\" must be a schema (use \"prefixItems\" for tuples)");
        return NULL;
      }
      if (!(n->items = compile_at (s, v, where, k, NULL, error)))
        return NULL;
    } else if (g_str_equal (k, "prefixItems")) {
      if (!(n->prefix = compile_list (s, v, where, k, error)))
        return NULL;
    } else if (g_str_equal (k, "uniqueItems")) {
      if (value_type (v) != G_TYPE_BOOLEAN) {
        schema_error (error, where, "\"uniqueItems\" must be a boolean");
        return NULL;
      }
      n->unique_items = json_node_get_boolean (v);
    } else if (g_str_equal (k, "$ref")) {
      if (value_type (v) != G_TYPE_STRING) {
        schema_error (error, where, "\"$ref\" must be a string");
        return NULL;
      }
      n->ref = json_node_get_string (v);
    } else if (g_str_equal (k, "allOf")) {
      if (!(n->all_of = compile_list (s, v, where, k, error)))
        return NULL;
    } else if (g_str_equal (k, "anyOf")) {
      if (!(n->any_of = compile_list (s, v, where, k, error)))
        return NULL;
    } else if (g_str_equal (k, "oneOf")) {
      if (!(n->one_of = compile_list (s, v, where, k, error)))
        return NULL;
    } else if (g_str_equal (k, "not")) {
      if (!(n->not_ = compile_at (s, v, where, k, NULL, error)))
        return NULL;
    } else {
      schema_error (error, where, "unknown keyword \"%s\"", k);
      return NULL;
    }
  }
  return n;
}

/* a local reference: "#" or "#/a/b~1c/0" (URI-escaped JSON pointer) */
static gboolean
resolve_ref (TcSchema *s, SchemaNode *n, GError **error)
{
  g_autofree char *frag = NULL;
  g_auto (GStrv) tokens = NULL;
  JsonNode *cur = s->root;

  if (n->ref[0] != '#')
    return schema_error (error, n->where, "$ref \"%s\": only local references "
        "(\"#/$defs/name\") are supported", n->ref);
  frag = g_uri_unescape_string (n->ref + 1, NULL);
  if (!frag || (frag[0] && frag[0] != '/'))
    return schema_error (error, n->where, "$ref \"%s\" is not a JSON pointer", n->ref);
  if (frag[0]) {
    tokens = g_strsplit (frag + 1, "/", -1);
    for (guint i = 0; tokens[i]; i++) {
      g_autoptr (GString) t = g_string_new (tokens[i]);
      JsonArray *a = arr_of (cur);

      g_string_replace (t, "~1", "/", 0);
      g_string_replace (t, "~0", "~", 0);
      if (obj_of (cur)) {
        cur = json_object_get_member (obj_of (cur), t->str);
      } else if (a) {
        char *end = NULL;
        guint64 idx = g_ascii_strtoull (t->str, &end, 10);
        cur = t->len && !*end && idx < json_array_get_length (a)
            ? json_array_get_element (a, (guint) idx) : NULL;
      } else {
        cur = NULL;
      }
      if (!cur)
        return schema_error (error, n->where, "$ref \"%s\" not found", n->ref);
    }
  }
  n->ref_target = g_hash_table_lookup (s->by_src, cur);
  if (!n->ref_target)
    return schema_error (error, n->where, "$ref \"%s\" does not point to a schema", n->ref);
  return TRUE;
}

/* $ref and the in-place applicators must reach the instance's children
 * before they come back to a schema, or validation would never end */
static gboolean
check_cycles (SchemaNode *n, GError **error)
{
  GPtrArray *lists[3] = { n->all_of, n->any_of, n->one_of };

  if (n->visit == 2)
    return TRUE;
  if (n->visit == 1)
    return schema_error (error, n->where, "circular $ref (the schema refers back to "
        "itself without descending into the value)");
  n->visit = 1;
  if (n->ref_target && !check_cycles (n->ref_target, error))
    return FALSE;
  if (n->not_ && !check_cycles (n->not_, error))
    return FALSE;
  for (guint l = 0; l < G_N_ELEMENTS (lists); l++) {
    for (guint i = 0; lists[l] && i < lists[l]->len; i++) {
      if (!check_cycles (g_ptr_array_index (lists[l], i), error))
        return FALSE;
    }
  }
  n->visit = 2;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* public                                                                    */

static const SchemaNode *
find_property (const SchemaNode *n, const char *name, guint depth)
{
  const SchemaNode *r;

  if (!n || depth > 64)
    return NULL;
  if (n->props && (r = g_hash_table_lookup (n->props, name)))
    return r;
  if ((r = find_property (n->ref_target, name, depth + 1)))
    return r;
  for (guint i = 0; n->all_of && i < n->all_of->len; i++) {
    if ((r = find_property (g_ptr_array_index (n->all_of, i), name, depth + 1)))
      return r;
  }
  return NULL;
}

const SchemaNode *
tc_schema_find_section (TcSchema *s, const char *path)
{
  g_auto (GStrv) parts = NULL;
  const SchemaNode *n = s->top;

  if (!path)
    return n;
  parts = g_strsplit (path, ".", -1);
  for (guint i = 0; n && parts[i]; i++)
    n = *parts[i] ? find_property (n, parts[i], 0) : NULL;
  return n;
}

TcSchema *
tc_schema_new_from_node (JsonNode *root, GError **error)
{
  g_autoptr (TcSchema) s = NULL;

  g_return_val_if_fail (root != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  s = g_new0 (TcSchema, 1);
  s->root = tc_schema_copy_deep (root);
  s->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) schema_node_free);
  s->by_src = g_hash_table_new (g_direct_hash, g_direct_equal);
  if (!(s->top = compile (s, s->root, "#", error)))
    return NULL;
  for (guint i = 0; i < s->nodes->len; i++) {
    SchemaNode *n = g_ptr_array_index (s->nodes, i);
    if (n->ref && !resolve_ref (s, n, error))
      return NULL;
  }
  for (guint i = 0; i < s->nodes->len; i++) {
    if (!check_cycles (g_ptr_array_index (s->nodes, i), error))
      return NULL;
  }
  /* a default must pass its own schema: a typo there is a schema bug */
  for (guint i = 0; i < s->nodes->len; i++) {
    SchemaNode *n = g_ptr_array_index (s->nodes, i);
    g_autoptr (GPtrArray) stack = NULL;
    g_autoptr (JsonNode) d = NULL;
    g_autofree char *field = NULL, *msg = NULL;

    if (!n->default_value)
      continue;
    stack = g_ptr_array_new ();
    d = tc_schema_defaults_of (n, stack);
    if (!tc_schema_node_validate (n, d, NULL, NULL, &field, &msg)) {
      schema_error (error, n->where, "the default is invalid: %s%s%s", field,
          *field ? ": " : "", msg);
      return NULL;
    }
  }
  return g_steal_pointer (&s);
}

TcSchema *
tc_schema_new_from_file (const char *path, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) err = NULL;
  TcSchema *s;

  g_return_val_if_fail (path != NULL, NULL);
  if (!(root = tc_json_parse_file (path, 16 * 1024 * 1024, 64, &err))) {
    if (err->domain == G_FILE_ERROR)
      g_propagate_error (error, g_steal_pointer (&err));
    else
      g_set_error (error, TC_SCHEMA_ERROR, TC_SCHEMA_ERROR_SCHEMA, "%s", err->message);
    return NULL;
  }
  s = tc_schema_new_from_node (root, error);
  if (!s)
    g_prefix_error (error, "%s: ", path);
  return s;
}

JsonNode *
tc_schema_get_subschema (TcSchema *s, const char *property)
{
  const SchemaNode *n;

  g_return_val_if_fail (s != NULL, NULL);
  n = tc_schema_find_section (s, property);
  /* a schema that is only a $ref: its target */
  for (guint hops = 0; n && hops < 64 && n->ref_target && n->n_keywords == 1
      && !n->default_value; hops++)
    n = n->ref_target;
  return n ? n->src : NULL;
}

