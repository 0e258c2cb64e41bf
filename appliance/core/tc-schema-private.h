/* thermocam: JSON Schema (private): what the parts of the module share
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The module (API: tc-schema.h) is one file per job:
 *   tc-schema.c           loading: the schema document compiled into a graph of
 *                         SchemaNode, $refs resolved, cycles refused; sections
 *   tc-schema-validate.c  validation, and the error messages it writes
 *   tc-schema-defaults.c  the document built from the "default" keywords
 *   tc-schema-json.c      JSON values: deep copy, equality, merge
 * This header: the compiled form of a schema and the small helpers on JSON
 * values and numbers that all of them use.
 */
#pragma once

#include "tc-schema.h"

#include <math.h>               /* isfinite, isnan: macros, no libm needed */

G_BEGIN_DECLS

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

typedef struct {
  guint bit;
  const char *name, *article;
} TcSchemaTypeName;

/* the names of the types, in the order error messages list them */
#define TC_SCHEMA_N_TYPES 7
G_GNUC_INTERNAL extern const TcSchemaTypeName tc_schema_type_names[TC_SCHEMA_N_TYPES];

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

static inline JsonObject *
obj_of (JsonNode *n)
{
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static inline JsonArray *
arr_of (JsonNode *n)
{
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static inline GType
value_type (JsonNode *n)
{
  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
}

static inline gboolean
is_number (JsonNode *n)
{
  GType t = value_type (n);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

static inline Num
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
static inline gboolean
is_integral (double d)
{
  double a = d < 0 ? -d : d;

  if (!isfinite (d))
    return FALSE;
  if (a >= 9007199254740992.0)  /* 2^53: every double from here is whole */
    return TRUE;
  return d == (double) (gint64) d;
}

static inline int
num_cmp (Num a, Num b)
{
  if (a.is_int && b.is_int)
    return a.i < b.i ? -1 : a.i > b.i;
  return a.d < b.d ? -1 : a.d > b.d;
}

/* nodes that take (own) the container */
static inline JsonNode *
new_object_node (JsonObject *o)
{
  JsonNode *r = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (r, o);
  return r;
}

static inline JsonNode *
new_array_node (JsonArray *a)
{
  JsonNode *r = json_node_new (JSON_NODE_ARRAY);

  json_node_take_array (r, a);
  return r;
}

/* ------------------------------------------------------------------------ */
/* across the parts                                                          */

/* tc-schema.c: the schema of a dotted path of properties ("osd.text"), as
 * tc_schema_get_subschema() finds it without following a lone $ref; NULL
 * path = the root */
G_GNUC_INTERNAL const SchemaNode *tc_schema_find_section (TcSchema *s, const char *path);

/* tc-schema-json.c: a deep copy that shares nothing with @n (NULL for NULL) */
G_GNUC_INTERNAL JsonNode *tc_schema_copy_deep (JsonNode *n);
/* tc-schema-json.c: merges and frees both (either may be NULL) */
G_GNUC_INTERNAL JsonNode *tc_schema_merge_take (JsonNode *a, JsonNode *b);

/* tc-schema-validate.c: "white_hot, black_hot, ..." for the error messages
 * of an enum (at most MAX_ENUM_LISTED values) */
G_GNUC_INTERNAL char *tc_schema_describe_enum (JsonArray *a);
/* tc-schema-validate.c: validates @inst against @n, the paths of fields
 * starting at @prefix (NULL: at the root).  On failure sets *@code (if
 * non-NULL), *@field (the offending field's path) and *@msg (free both with
 * g_free) and returns FALSE. */
G_GNUC_INTERNAL gboolean tc_schema_node_validate (const SchemaNode *n, JsonNode *inst,
                                                  const char *prefix, TcSchemaError *code,
                                                  char **field, char **msg);

/* tc-schema-defaults.c: the defaults of @n (NULL: none); @stack holds the
 * schemas being expanded, to stop at a recursive one */
G_GNUC_INTERNAL JsonNode *tc_schema_defaults_of (const SchemaNode *n, GPtrArray *stack);

G_END_DECLS
