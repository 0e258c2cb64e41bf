/* thermocam: JSON Schema (draft 2020-12 subset) validation, defaults and merge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The schema is compiled once into a graph of SchemaNode (one per schema
 * object of the document, $refs resolved to pointers, patterns compiled);
 * validation walks that graph and stops at the first error, which carries the
 * instance path ("rules[1].alarm.pre_alarm") built as it descends.
 */
#include "tc-schema.h"
#include "tc-json.h"

#include <math.h>               /* isfinite, isnan: macros, no libm needed */
#include <string.h>

G_DEFINE_QUARK (tc-schema-error-quark, tc_schema_error)

/* instance kinds / "type" bits; an integral number is T_NUMBER | T_INTEGER */
enum {
  T_OBJECT = 1 << 0,
  T_ARRAY = 1 << 1,
  T_STRING = 1 << 2,
  T_NUMBER = 1 << 3,
  T_INTEGER = 1 << 4,
  T_BOOLEAN = 1 << 5,
  T_NULL = 1 << 6,
};

static const struct {
  guint bit;
  const char *name, *article;
} type_names[] = {
  { T_OBJECT, "object", "an object" },
  { T_ARRAY, "array", "an array" },
  { T_STRING, "string", "a string" },
  { T_NUMBER, "number", "a number" },
  { T_INTEGER, "integer", "an integer" },
  { T_BOOLEAN, "boolean", "a boolean" },
  { T_NULL, "null", "null" },
};

#define MAX_NESTING 512         /* validation calls on the stack */
#define MAX_ENUM_LISTED 20      /* values an enum error message lists */
#define MAX_VALUE_CHARS 48      /* characters of a value an error message quotes */

typedef struct {
  gboolean set, is_int;
  gint64 i;
  double d;
} Num;

typedef struct _SchemaNode SchemaNode;
struct _SchemaNode {
  JsonNode *src;                /* in TcSchema.root */
  char *where;                  /* JSON pointer, for schema errors */
  gboolean is_bool, bool_value; /* a boolean schema */
  guint n_keywords;             /* validation keywords (not annotations/default/$defs) */

  guint types;                  /* 0 = any */
  GHashTable *props;            /* name → SchemaNode (names borrowed from src) */
  GPtrArray *prop_names, *prop_nodes;   /* in schema order */
  GPtrArray *required;          /* const char *, borrowed */
  SchemaNode *additional;
  JsonNode *const_value;
  JsonArray *enum_values;
  char *enum_desc;              /* "white_hot, black_hot, ..." */
  Num minimum, maximum, xminimum, xmaximum, multiple_of;
  gint64 min_length, max_length, min_items, max_items;  /* -1 = unset */
  GRegex *pattern;
  const char *pattern_src;
  GPtrArray *prefix;            /* SchemaNode */
  SchemaNode *items;
  gboolean unique_items;
  const char *ref;
  SchemaNode *ref_target;
  GPtrArray *all_of, *any_of, *one_of;
  SchemaNode *not_;
  JsonNode *default_value;

  guint8 visit;                 /* load-time cycle check */
};

struct _TcSchema {
  JsonNode *root;               /* a private deep copy */
  SchemaNode *top;
  GPtrArray *nodes;             /* owns every SchemaNode */
  GHashTable *by_src;           /* JsonNode * → SchemaNode * */
};

/* ------------------------------------------------------------------------ */
/* JSON helpers                                                              */

static JsonObject *
obj_of (JsonNode *n)
{
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
arr_of (JsonNode *n)
{
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static GType
value_type (JsonNode *n)
{
  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
}

static gboolean
is_number (JsonNode *n)
{
  GType t = value_type (n);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

static Num
num_of (JsonNode *n)
{
  Num x = { .set = TRUE };

  if (value_type (n) == G_TYPE_INT64) {
    x.is_int = TRUE;
    x.i = json_node_get_int (n);
    x.d = (double) x.i;
  } else {
    x.d = json_node_get_double (n);
  }
  return x;
}

/* whole numbers (no libm: the module builds with glib and json-glib alone) */
static gboolean
is_integral (double d)
{
  double a = d < 0 ? -d : d;

  if (!isfinite (d))
    return FALSE;
  if (a >= 9007199254740992.0)  /* 2^53: every double from here is whole */
    return TRUE;
  return d == (double) (gint64) d;
}

static int
num_cmp (Num a, Num b)
{
  if (a.is_int && b.is_int)
    return a.i < b.i ? -1 : a.i > b.i;
  return a.d < b.d ? -1 : a.d > b.d;
}

/* nodes that take (own) the container */
static JsonNode *
new_object_node (JsonObject *o)
{
  JsonNode *r = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (r, o);
  return r;
}

static JsonNode *
new_array_node (JsonArray *a)
{
  JsonNode *r = json_node_new (JSON_NODE_ARRAY);

  json_node_take_array (r, a);
  return r;
}

static JsonNode *
copy_deep (JsonNode *n)
{
  JsonNode *r;

  if (!n)
    return NULL;
  switch (json_node_get_node_type (n)) {
    case JSON_NODE_OBJECT: {
      JsonObject *src = obj_of (n), *dst = json_object_new ();
      JsonObjectIter it;
      const char *name;
      JsonNode *m;

      if (src) {
        json_object_iter_init_ordered (&it, src);
        while (json_object_iter_next_ordered (&it, &name, &m))
          json_object_set_member (dst, name, copy_deep (m));
      }
      return new_object_node (dst);
    }
    case JSON_NODE_ARRAY: {
      JsonArray *src = arr_of (n);
      guint len = src ? json_array_get_length (src) : 0;
      JsonArray *dst = json_array_sized_new (len);

      for (guint i = 0; i < len; i++)
        json_array_add_element (dst, copy_deep (json_array_get_element (src, i)));
      return new_array_node (dst);
    }
    case JSON_NODE_VALUE: {
      /* not json_node_copy(): it shares the JsonValue with the original */
      GType t = json_node_get_value_type (n);

      r = json_node_alloc ();
      if (t == G_TYPE_INT64)
        return json_node_init_int (r, json_node_get_int (n));
      if (t == G_TYPE_DOUBLE)
        return json_node_init_double (r, json_node_get_double (n));
      if (t == G_TYPE_BOOLEAN)
        return json_node_init_boolean (r, json_node_get_boolean (n));
      if (t == G_TYPE_STRING)
        return json_node_init_string (r, json_node_get_string (n));
      return json_node_init_null (r);
    }
    case JSON_NODE_NULL:
    default:
      return json_node_new (JSON_NODE_NULL);
  }
}

gboolean
tc_json_equal (JsonNode *a, JsonNode *b)
{
  JsonNodeType ta, tb;

  if (!a || !b)
    return a == b;
  if (a == b)
    return TRUE;
  ta = json_node_get_node_type (a);
  tb = json_node_get_node_type (b);
  if (ta != tb)
    return FALSE;
  switch (ta) {
    case JSON_NODE_NULL:
      return TRUE;
    case JSON_NODE_VALUE:
      if (is_number (a) && is_number (b))
        return num_cmp (num_of (a), num_of (b)) == 0;
      if (json_node_get_value_type (a) != json_node_get_value_type (b))
        return FALSE;
      if (json_node_get_value_type (a) == G_TYPE_BOOLEAN)
        return !json_node_get_boolean (a) == !json_node_get_boolean (b);
      if (json_node_get_value_type (a) == G_TYPE_STRING)
        return g_strcmp0 (json_node_get_string (a), json_node_get_string (b)) == 0;
      return FALSE;
    case JSON_NODE_ARRAY: {
      JsonArray *x = arr_of (a), *y = arr_of (b);
      guint lx = x ? json_array_get_length (x) : 0, ly = y ? json_array_get_length (y) : 0;

      if (lx != ly)
        return FALSE;
      for (guint i = 0; i < lx; i++) {
        if (!tc_json_equal (json_array_get_element (x, i), json_array_get_element (y, i)))
          return FALSE;
      }
      return TRUE;
    }
    case JSON_NODE_OBJECT: {
      JsonObject *x = obj_of (a), *y = obj_of (b);
      guint sx = x ? json_object_get_size (x) : 0, sy = y ? json_object_get_size (y) : 0;
      JsonObjectIter it;
      const char *name;
      JsonNode *m;

      if (sx != sy)
        return FALSE;
      if (sx == 0)
        return TRUE;
      json_object_iter_init (&it, x);
      while (json_object_iter_next (&it, &name, &m)) {
        JsonNode *other = json_object_get_member (y, name);
        if (!other || !tc_json_equal (m, other))
          return FALSE;
      }
      return TRUE;
    }
    default:
      return FALSE;
  }
}

JsonNode *
tc_json_merge (JsonNode *base, JsonNode *patch)
{
  JsonObject *bo, *po, *ro;
  JsonObjectIter it;
  const char *name;
  JsonNode *m;

  if (!patch)
    return copy_deep (base);
  bo = obj_of (base);
  po = obj_of (patch);
  if (!bo || !po)
    return copy_deep (patch);

  ro = json_object_new ();
  json_object_iter_init_ordered (&it, bo);
  while (json_object_iter_next_ordered (&it, &name, &m)) {
    JsonNode *p = json_object_get_member (po, name);
    json_object_set_member (ro, name, p ? tc_json_merge (m, p) : copy_deep (m));
  }
  json_object_iter_init_ordered (&it, po);
  while (json_object_iter_next_ordered (&it, &name, &m)) {
    if (!json_object_has_member (bo, name))
      json_object_set_member (ro, name, copy_deep (m));
  }
  return new_object_node (ro);
}

/* merges and frees both (either may be NULL) */
static JsonNode *
merge_take (JsonNode *a, JsonNode *b)
{
  JsonNode *r;

  if (!a)
    return b;
  if (!b)
    return a;
  r = tc_json_merge (a, b);
  json_node_unref (a);
  json_node_unref (b);
  return r;
}

/* ------------------------------------------------------------------------ */
/* formatting values for messages                                            */

static char *
fmt_double (double d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE], fmt[8];

  if (!isfinite (d))
    return g_strdup (isnan (d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
  /* the shortest form that reads back as the same double */
  for (int prec = 1; prec <= 17; prec++) {
    g_snprintf (fmt, sizeof fmt, "%%.%dg", prec);
    g_ascii_formatd (buf, sizeof buf, fmt, d);
    if (g_ascii_strtod (buf, NULL) == d)
      break;
  }
  return g_strdup (buf);
}

static char *
fmt_num (Num x)
{
  return x.is_int ? g_strdup_printf ("%" G_GINT64_FORMAT, x.i) : fmt_double (x.d);
}

static char *
quote_string (const char *s)
{
  g_autoptr (JsonNode) n = json_node_init_string (json_node_alloc (), s ? s : "");
  return json_to_string (n, FALSE);
}

static char *
truncate_utf8 (const char *s, const char *open, const char *close)
{
  if (g_utf8_strlen (s, -1) <= MAX_VALUE_CHARS)
    return g_strconcat (open, s, close, NULL);
  return g_strdup_printf ("%s%.*s...%s", open,
      (int) (g_utf8_offset_to_pointer (s, MAX_VALUE_CHARS) - s), s, close);
}

/* a value as an error message shows it: JSON, numbers in their shortest
 * form, long values cut */
static char *
fmt_value (JsonNode *n)
{
  GType t;

  if (!n || JSON_NODE_HOLDS_NULL (n))
    return g_strdup ("null");
  t = value_type (n);
  if (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE)
    return fmt_num (num_of (n));
  if (t == G_TYPE_BOOLEAN)
    return g_strdup (json_node_get_boolean (n) ? "true" : "false");
  if (t == G_TYPE_STRING) {
    const char *s = json_node_get_string (n);
    g_autofree char *cut = NULL, *q = NULL;

    if (!s || !g_utf8_validate (s, -1, NULL))
      return g_strdup ("(invalid UTF-8)");
    cut = truncate_utf8 (s, "", "");
    q = quote_string (cut);
    return g_steal_pointer (&q);
  } else {
    g_autofree char *j = json_to_string (n, FALSE);
    return truncate_utf8 (j, "", "");
  }
}

/* "a string", "a number or null", "an object, an array or null" */
static char *
describe_types (guint bits)
{
  GString *s = g_string_new (NULL);
  guint n = 0, count = 0;

  if ((bits & T_NUMBER) && (bits & T_INTEGER))
    bits &= ~T_INTEGER;
  for (guint i = 0; i < G_N_ELEMENTS (type_names); i++)
    count += (bits & type_names[i].bit) != 0;
  for (guint i = 0; i < G_N_ELEMENTS (type_names); i++) {
    if (!(bits & type_names[i].bit))
      continue;
    if (n > 0)
      g_string_append (s, n + 1 == count ? " or " : ", ");
    g_string_append (s, type_names[i].article);
    n++;
  }
  return g_string_free (s, FALSE);
}

static guint
kind_of (JsonNode *n)
{
  GType t;

  if (!n)
    return T_NULL;
  switch (json_node_get_node_type (n)) {
    case JSON_NODE_OBJECT:
      return T_OBJECT;
    case JSON_NODE_ARRAY:
      return T_ARRAY;
    case JSON_NODE_NULL:
      return T_NULL;
    default:
      break;
  }
  t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    return T_NUMBER | T_INTEGER;
  if (t == G_TYPE_DOUBLE) {
    double d = json_node_get_double (n);
    return is_integral (d) ? T_NUMBER | T_INTEGER : T_NUMBER;
  }
  if (t == G_TYPE_BOOLEAN)
    return T_BOOLEAN;
  if (t == G_TYPE_STRING)
    return T_STRING;
  return T_NULL;
}

static const char *
kind_name (guint kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (type_names); i++) {
    if (kind & type_names[i].bit)
      return type_names[i].article;
  }
  return "null";
}

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

    for (guint k = 0; name && k < G_N_ELEMENTS (type_names); k++) {
      if (g_str_equal (name, type_names[k].name))
        bit = type_names[k].bit;
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

static char *
describe_enum (JsonArray *a)
{
  GString *s = g_string_new (NULL);
  guint len = json_array_get_length (a);
  gboolean all_strings = TRUE;

  for (guint i = 0; i < len; i++)
    all_strings = all_strings && value_type (json_array_get_element (a, i)) == G_TYPE_STRING;
  for (guint i = 0; i < len && i < MAX_ENUM_LISTED; i++) {
    JsonNode *e = json_array_get_element (a, i);
    g_autofree char *v = all_strings ? truncate_utf8 (json_node_get_string (e), "", "")
        : fmt_value (e);

    g_string_append_printf (s, "%s%s", i ? ", " : "", v);
  }
  if (len > MAX_ENUM_LISTED)
    g_string_append (s, ", ...");
  return g_string_free (s, FALSE);
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
      n->enum_desc = describe_enum (n->enum_values);
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
/* validation                                                                */

typedef struct {
  gboolean set;
  TcSchemaError code;
  char *field, *msg;
  guint depth;                  /* path components of field */
  guint expected, got;          /* TYPE: the kinds expected and got */
} Failure;

typedef struct {
  GString *path;
  guint depth, nesting;
  Failure f;
} VCtx;

static void
failure_clear (Failure *f)
{
  g_clear_pointer (&f->field, g_free);
  g_clear_pointer (&f->msg, g_free);
  f->set = FALSE;
}

static gboolean fail (VCtx *c, TcSchemaError code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (VCtx *c, TcSchemaError code, const char *fmt, ...)
{
  va_list ap;

  failure_clear (&c->f);
  c->f.set = TRUE;
  c->f.code = code;
  c->f.field = g_strdup (c->path->str);
  c->f.depth = c->depth;
  va_start (ap, fmt);
  c->f.msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return FALSE;
}

static gboolean
fail_type (VCtx *c, guint expected, guint got, JsonNode *inst)
{
  g_autofree char *want = describe_types (expected);

  if ((got & T_NUMBER) && (expected & T_INTEGER)) {
    /* a number, but not an integer: show it */
    g_autofree char *v = fmt_value (inst);
    fail (c, TC_SCHEMA_ERROR_TYPE, "expected %s, got %s", want, v);
  } else {
    fail (c, TC_SCHEMA_ERROR_TYPE, "expected %s, got %s", want, kind_name (got));
  }
  c->f.expected = expected;
  c->f.got = got;
  return FALSE;
}

static gboolean
is_identifier (const char *name)
{
  if (!*name)
    return FALSE;
  for (const char *p = name; *p; p++) {
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '$' && *p != '@')
      return FALSE;
  }
  return TRUE;
}

static gsize
push_name (VCtx *c, const char *name)
{
  gsize mark = c->path->len;

  if (is_identifier (name)) {
    if (c->path->len)
      g_string_append_c (c->path, '.');
    g_string_append (c->path, name);
  } else {
    g_autofree char *q = quote_string (name);
    g_string_append_printf (c->path, "[%s]", q);
  }
  c->depth++;
  return mark;
}

static gsize
push_index (VCtx *c, guint i)
{
  gsize mark = c->path->len;

  g_string_append_printf (c->path, "[%u]", i);
  c->depth++;
  return mark;
}

static void
pop (VCtx *c, gsize mark)
{
  g_string_truncate (c->path, mark);
  c->depth--;
}

static gboolean validate (const SchemaNode *n, JsonNode *inst, VCtx *c);

static gboolean
check_number (const SchemaNode *n, JsonNode *inst, VCtx *c)
{
  Num x = num_of (inst);
  g_autofree char *xs = NULL, *bs = NULL;

#define FAIL_RANGE(bound, what) \
  (xs = fmt_num (x), bs = fmt_num (bound), \
   fail (c, TC_SCHEMA_ERROR_RANGE, "%s " what " %s", xs, bs))

  if (n->minimum.set && num_cmp (x, n->minimum) < 0)
    return FAIL_RANGE (n->minimum, "is below the minimum");
  if (n->maximum.set && num_cmp (x, n->maximum) > 0)
    return FAIL_RANGE (n->maximum, "is above the maximum");
  if (n->xminimum.set && num_cmp (x, n->xminimum) <= 0)
    return FAIL_RANGE (n->xminimum, "is not above the exclusive minimum");
  if (n->xmaximum.set && num_cmp (x, n->xmaximum) >= 0)
    return FAIL_RANGE (n->xmaximum, "is not below the exclusive maximum");
  if (n->multiple_of.set) {
    gboolean ok;

    if (x.is_int && n->multiple_of.is_int) {
      ok = x.i % n->multiple_of.i == 0;
    } else {
      /* with a tolerance: 0.3 is a multiple of 0.1 */
      double q = x.d / n->multiple_of.d, aq = q < 0 ? -q : q;

      if (!isfinite (q))
        ok = FALSE;
      else if (aq >= 9007199254740992.0)
        ok = TRUE;              /* beyond the precision of a double */
      else {
        double r = (double) (gint64) (q < 0 ? q - 0.5 : q + 0.5), diff = q - r;
        double tol = aq * 1e-12 > 1e-9 ? aq * 1e-12 : 1e-9;
        ok = (diff < 0 ? -diff : diff) <= tol;
      }
    }
    if (!ok)
      return FAIL_RANGE (n->multiple_of, "is not a multiple of");
  }
#undef FAIL_RANGE
  return TRUE;
}

static gboolean
check_string (const SchemaNode *n, JsonNode *inst, VCtx *c)
{
  const char *str = json_node_get_string (inst);

  if (!str)
    str = "";
  if (!g_utf8_validate (str, -1, NULL))
    return fail (c, TC_SCHEMA_ERROR_TYPE, "expected a string, got invalid UTF-8");
  if (n->min_length >= 0 || n->max_length >= 0) {
    gint64 len = g_utf8_strlen (str, -1);

    if (n->min_length >= 0 && len < n->min_length)
      return fail (c, TC_SCHEMA_ERROR_LENGTH, "too short (%" G_GINT64_FORMAT " character%s, "
          "at least %" G_GINT64_FORMAT ")", len, len == 1 ? "" : "s", n->min_length);
    if (n->max_length >= 0 && len > n->max_length)
      return fail (c, TC_SCHEMA_ERROR_LENGTH, "too long (%" G_GINT64_FORMAT " character%s, "
          "at most %" G_GINT64_FORMAT ")", len, len == 1 ? "" : "s", n->max_length);
  }
  if (n->pattern && !g_regex_match (n->pattern, str, G_REGEX_MATCH_DEFAULT, NULL)) {
    g_autofree char *v = fmt_value (inst);
    return fail (c, TC_SCHEMA_ERROR_PATTERN, "%s does not match the pattern %s", v,
        n->pattern_src);
  }
  return TRUE;
}

static gboolean
check_object (const SchemaNode *n, JsonNode *inst, VCtx *c)
{
  JsonObject *o = obj_of (inst);
  JsonObjectIter it;
  const char *name;
  JsonNode *m;

  if (o && (n->props || n->additional)) {
    json_object_iter_init_ordered (&it, o);
    while (json_object_iter_next_ordered (&it, &name, &m)) {
      const SchemaNode *sub = n->props ? g_hash_table_lookup (n->props, name) : NULL;
      gboolean declared = sub != NULL, ok = TRUE;
      gsize mark;

      if (!sub)
        sub = n->additional;
      if (!sub)
        continue;
      mark = push_name (c, name);
      if (sub->is_bool && !sub->bool_value)
        ok = fail (c, TC_SCHEMA_ERROR_UNKNOWN_FIELD, declared ? "field not allowed"
            : "unknown field");
      else
        ok = validate (sub, m, c);
      pop (c, mark);
      if (!ok)
        return FALSE;
    }
  }
  for (guint i = 0; n->required && i < n->required->len; i++) {
    const char *req = g_ptr_array_index (n->required, i);

    if (!o || !json_object_has_member (o, req)) {
      gsize mark = push_name (c, req);
      fail (c, TC_SCHEMA_ERROR_REQUIRED, "required field missing");
      pop (c, mark);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_array (const SchemaNode *n, JsonNode *inst, VCtx *c)
{
  JsonArray *a = arr_of (inst);
  guint len = a ? json_array_get_length (a) : 0;
  guint n_prefix = n->prefix ? n->prefix->len : 0;

  if (n->min_items >= 0 && (gint64) len < n->min_items)
    return fail (c, TC_SCHEMA_ERROR_ITEMS, "too few items (%u, at least %" G_GINT64_FORMAT ")",
        len, n->min_items);
  if (n->max_items >= 0 && (gint64) len > n->max_items)
    return fail (c, TC_SCHEMA_ERROR_ITEMS, "too many items (%u, at most %" G_GINT64_FORMAT ")",
        len, n->max_items);
  if (n->items && n->items->is_bool && !n->items->bool_value && len > n_prefix)
    return fail (c, TC_SCHEMA_ERROR_ITEMS, "too many items (%u, at most %u)", len, n_prefix);
  for (guint i = 0; i < len; i++) {
    const SchemaNode *sub = i < n_prefix ? g_ptr_array_index (n->prefix, i) : n->items;
    gsize mark;
    gboolean ok;

    if (!sub)
      continue;
    mark = push_index (c, i);
    ok = validate (sub, json_array_get_element (a, i), c);
    pop (c, mark);
    if (!ok)
      return FALSE;
  }
  if (n->unique_items) {
    for (guint j = 1; j < len; j++) {
      for (guint i = 0; i < j; i++) {
        if (tc_json_equal (json_array_get_element (a, i), json_array_get_element (a, j))) {
          g_autofree char *other = g_strdup_printf ("%s[%u]", c->path->str, i);
          gsize mark = push_index (c, j);

          fail (c, TC_SCHEMA_ERROR_ITEMS, "duplicate of %s (items must be unique)", other);
          pop (c, mark);
          return FALSE;
        }
      }
    }
  }
  return TRUE;
}

/* no alternative of anyOf/oneOf matched: report the most relevant one.
 * When every alternative wants another type here, say which types would do;
 * else prefer the alternative whose type matched, then the one that got the
 * deepest into the value, then one not failing on enum/const (a
 * discriminator such as "type": {"const": "point"}).  Ties: the first. */
static gboolean
fail_best (VCtx *c, Failure *fs, guint n, JsonNode *inst)
{
  gboolean all_type_here = TRUE;
  guint expected = 0, best = 0;
  gint64 best_score = -1;

  for (guint i = 0; i < n; i++) {
    gboolean type_here = fs[i].code == TC_SCHEMA_ERROR_TYPE && fs[i].depth == c->depth
        && fs[i].expected;
    gint64 score = ((gint64) !type_here << 40) | ((gint64) fs[i].depth << 1)
        | (fs[i].code != TC_SCHEMA_ERROR_ENUM);

    all_type_here = all_type_here && type_here;
    expected |= fs[i].expected;
    if (score > best_score) {
      best_score = score;
      best = i;
    }
  }
  if (all_type_here) {
    for (guint i = 0; i < n; i++)
      failure_clear (&fs[i]);
    return fail_type (c, expected, kind_of (inst), inst);
  }
  failure_clear (&c->f);
  c->f = fs[best];
  fs[best] = (Failure) { 0 };
  for (guint i = 0; i < n; i++)
    failure_clear (&fs[i]);
  return FALSE;
}

static gboolean
check_alternatives (const SchemaNode *n, JsonNode *inst, VCtx *c)
{
  for (guint i = 0; n->all_of && i < n->all_of->len; i++) {
    if (!validate (g_ptr_array_index (n->all_of, i), inst, c))
      return FALSE;
  }
  if (n->any_of) {
    g_autofree Failure *fs = g_new0 (Failure, n->any_of->len);
    gboolean matched = FALSE;

    for (guint i = 0; i < n->any_of->len && !matched; i++) {
      VCtx sub = { c->path, c->depth, c->nesting, { 0 } };

      matched = validate (g_ptr_array_index (n->any_of, i), inst, &sub);
      fs[i] = sub.f;
    }
    if (!matched)
      return fail_best (c, fs, n->any_of->len, inst);
    for (guint k = 0; k < n->any_of->len; k++)
      failure_clear (&fs[k]);
  }
  if (n->one_of) {
    g_autofree Failure *fs = g_new0 (Failure, n->one_of->len);
    gint first = -1;

    for (guint i = 0; i < n->one_of->len; i++) {
      VCtx sub = { c->path, c->depth, c->nesting, { 0 } };

      if (!validate (g_ptr_array_index (n->one_of, i), inst, &sub)) {
        fs[i] = sub.f;
        continue;
      }
      if (first < 0) {
        first = (gint) i;
        continue;
      }
      for (guint k = 0; k < n->one_of->len; k++)
        failure_clear (&fs[k]);
      return fail (c, TC_SCHEMA_ERROR_AMBIGUOUS, "matches more than one of the allowed "
          "alternatives (#%d and #%u of oneOf)", first + 1, i + 1);
    }
    if (first < 0)
      return fail_best (c, fs, n->one_of->len, inst);
    for (guint k = 0; k < n->one_of->len; k++)
      failure_clear (&fs[k]);
  }
  if (n->not_) {
    VCtx sub = { c->path, c->depth, c->nesting, { 0 } };
    gboolean matched = validate (n->not_, inst, &sub);

    failure_clear (&sub.f);
    if (matched) {
      g_autofree char *v = fmt_value (inst);
      return fail (c, TC_SCHEMA_ERROR_NOT_ALLOWED, "%s is not allowed", v);
    }
  }
  return TRUE;
}

static gboolean
validate_inner (const SchemaNode *n, JsonNode *inst, VCtx *c)
{
  guint kind = kind_of (inst);

  if (n->is_bool) {
    if (n->bool_value)
      return TRUE;
    return fail (c, TC_SCHEMA_ERROR_NOT_ALLOWED, "no value is allowed here");
  }
  if (n->ref_target && !validate (n->ref_target, inst, c))
    return FALSE;
  if (n->types && !(n->types & kind))
    return fail_type (c, n->types, kind, inst);
  if (n->const_value && !tc_json_equal (n->const_value, inst)) {
    g_autofree char *want = fmt_value (n->const_value), *got = fmt_value (inst);
    return fail (c, TC_SCHEMA_ERROR_ENUM, "expected %s, got %s", want, got);
  }
  if (n->enum_values) {
    guint len = json_array_get_length (n->enum_values);
    gboolean found = FALSE;

    for (guint i = 0; i < len && !found; i++)
      found = tc_json_equal (json_array_get_element (n->enum_values, i), inst);
    if (!found) {
      g_autofree char *got = fmt_value (inst);
      return fail (c, TC_SCHEMA_ERROR_ENUM, "%s is not one of %s", got, n->enum_desc);
    }
  }
  if ((kind & T_NUMBER) && !check_number (n, inst, c))
    return FALSE;
  if ((kind & T_STRING) && !check_string (n, inst, c))
    return FALSE;
  if ((kind & T_OBJECT) && !check_object (n, inst, c))
    return FALSE;
  if ((kind & T_ARRAY) && !check_array (n, inst, c))
    return FALSE;
  return check_alternatives (n, inst, c);
}

static gboolean
validate (const SchemaNode *n, JsonNode *inst, VCtx *c)
{
  gboolean ok;

  if (c->nesting >= MAX_NESTING)
    return fail (c, TC_SCHEMA_ERROR_TOO_DEEP, "nested too deeply");
  c->nesting++;
  ok = validate_inner (n, inst, c);
  c->nesting--;
  return ok;
}

/* ------------------------------------------------------------------------ */
/* defaults                                                                  */

/* T_OBJECT or T_ARRAY when the schema (through its $refs) is one, else 0 */
static guint
container_kind (const SchemaNode *n)
{
  for (guint hops = 0; n && hops < 64; hops++, n = n->ref_target) {
    if (n->is_bool)
      return 0;
    if (n->types) {
      guint t = n->types & ~T_NULL;
      return t == T_OBJECT || t == T_ARRAY ? t : 0;
    }
    if (n->props || n->additional || n->required)
      return T_OBJECT;
    if (n->items || n->prefix)
      return T_ARRAY;
  }
  return 0;
}

static gboolean
is_required (const SchemaNode *n, const char *name)
{
  for (guint i = 0; n->required && i < n->required->len; i++) {
    if (g_str_equal (g_ptr_array_index (n->required, i), name))
      return TRUE;
  }
  return FALSE;
}

static JsonNode *
defaults_of (const SchemaNode *n, GPtrArray *stack)
{
  JsonNode *res = NULL;

  if (n->is_bool || g_ptr_array_find (stack, n, NULL))
    return NULL;                /* a recursive schema: stop */
  g_ptr_array_add (stack, (gpointer) n);

  if (n->ref_target)
    res = defaults_of (n->ref_target, stack);
  for (guint i = 0; n->all_of && i < n->all_of->len; i++)
    res = merge_take (res, defaults_of (g_ptr_array_index (n->all_of, i), stack));
  if (n->props) {
    JsonObject *o = json_object_new ();

    for (guint i = 0; i < n->prop_names->len; i++) {
      const char *name = g_ptr_array_index (n->prop_names, i);
      const SchemaNode *p = g_ptr_array_index (n->prop_nodes, i);
      JsonNode *d = defaults_of (p, stack);

      if (!d && is_required (n, name)) {
        guint kind = container_kind (p);
        if (kind == T_ARRAY)
          d = new_array_node (json_array_new ());
        else if (kind == T_OBJECT)
          d = new_object_node (json_object_new ());
      }
      if (d)
        json_object_set_member (o, name, d);
    }
    if (json_object_get_size (o) > 0) {
      res = merge_take (res, new_object_node (o));
    } else {
      json_object_unref (o);
    }
  }
  if (n->default_value) {
    JsonNode *d = copy_deep (n->default_value);

    if (res && obj_of (res) && obj_of (d))
      res = merge_take (res, d);
    else {
      g_clear_pointer (&res, json_node_unref);
      res = d;
    }
  }
  g_ptr_array_remove_index (stack, stack->len - 1);
  return res;
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

static const SchemaNode *
find_section (TcSchema *s, const char *path)
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
  s->root = copy_deep (root);
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
    g_autoptr (GString) path = NULL;
    VCtx c = { 0 };

    if (!n->default_value)
      continue;
    stack = g_ptr_array_new ();
    d = defaults_of (n, stack);
    path = g_string_new (NULL);
    c.path = path;
    if (!validate (n, d, &c)) {
      schema_error (error, n->where, "the default is invalid: %s%s%s", c.f.field,
          *c.f.field ? ": " : "", c.f.msg);
      failure_clear (&c.f);
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
  n = find_section (s, property);
  /* a schema that is only a $ref: its target */
  for (guint hops = 0; n && hops < 64 && n->ref_target && n->n_keywords == 1
      && !n->default_value; hops++)
    n = n->ref_target;
  return n ? n->src : NULL;
}

gboolean
tc_schema_validate (TcSchema *s, const char *section, JsonNode *instance, char **field_out,
    GError **error)
{
  const SchemaNode *n;
  g_autoptr (GString) path = NULL;
  VCtx c = { 0 };

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (instance != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (field_out)
    *field_out = NULL;
  n = find_section (s, section);
  if (!n) {
    g_set_error (error, TC_SCHEMA_ERROR, TC_SCHEMA_ERROR_UNKNOWN_FIELD, "%s: unknown section",
        section);
    if (field_out)
      *field_out = g_strdup (section);
    return FALSE;
  }
  path = g_string_new (section);
  c.path = path;
  c.depth = 0;
  if (validate (n, instance, &c))
    return TRUE;

  if (*c.f.field)
    g_set_error (error, TC_SCHEMA_ERROR, c.f.code, "%s: %s", c.f.field, c.f.msg);
  else
    g_set_error_literal (error, TC_SCHEMA_ERROR, c.f.code, c.f.msg);
  if (field_out)
    *field_out = g_steal_pointer (&c.f.field);
  failure_clear (&c.f);
  return FALSE;
}

JsonNode *
tc_schema_defaults (TcSchema *s, const char *section)
{
  const SchemaNode *n;
  g_autoptr (GPtrArray) stack = NULL;
  JsonNode *d;

  g_return_val_if_fail (s != NULL, NULL);
  n = find_section (s, section);
  if (!n)
    return NULL;
  stack = g_ptr_array_new ();
  d = defaults_of (n, stack);
  if (!d && container_kind (n) == T_OBJECT)
    d = new_object_node (json_object_new ());
  return d;
}
