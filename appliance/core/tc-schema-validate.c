/* thermocam: JSON Schema: validation
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Validation walks the compiled graph (tc-schema-private.h) and stops at
 * the first error, which carries the instance path ("rules[1].alarm.pre_alarm")
 * built as it descends.  The messages' formatting of values is here too.
 */
#include "tc-schema-private.h"

#define MAX_NESTING 512         /* validation calls on the stack */
#define MAX_ENUM_LISTED 20      /* values an enum error message lists */
#define MAX_VALUE_CHARS 48      /* characters of a value an error message quotes */

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
  for (guint i = 0; i < G_N_ELEMENTS (tc_schema_type_names); i++)
    count += (bits & tc_schema_type_names[i].bit) != 0;
  for (guint i = 0; i < G_N_ELEMENTS (tc_schema_type_names); i++) {
    if (!(bits & tc_schema_type_names[i].bit))
      continue;
    if (n > 0)
      g_string_append (s, n + 1 == count ? " or " : ", ");
    g_string_append (s, tc_schema_type_names[i].article);
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
  for (guint i = 0; i < G_N_ELEMENTS (tc_schema_type_names); i++) {
    if (kind & tc_schema_type_names[i].bit)
      return tc_schema_type_names[i].article;
  }
  return "null";
}

char *
tc_schema_describe_enum (JsonArray *a)
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

gboolean
tc_schema_node_validate (const SchemaNode *n, JsonNode *inst, const char *prefix,
    TcSchemaError *code, char **field, char **msg)
{
  g_autoptr (GString) path = g_string_new (prefix);
  VCtx c = { 0 };

  c.path = path;
  if (validate (n, inst, &c))
    return TRUE;
  if (code)
    *code = c.f.code;
  *field = g_steal_pointer (&c.f.field);
  *msg = g_steal_pointer (&c.f.msg);
  return FALSE;
}

gboolean
tc_schema_validate (TcSchema *s, const char *section, JsonNode *instance, char **field_out,
    GError **error)
{
  const SchemaNode *n;
  TcSchemaError code;
  g_autofree char *field = NULL, *msg = NULL;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (instance != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (field_out)
    *field_out = NULL;
  n = tc_schema_find_section (s, section);
  if (!n) {
    g_set_error (error, TC_SCHEMA_ERROR, TC_SCHEMA_ERROR_UNKNOWN_FIELD, "%s: unknown section",
        section);
    if (field_out)
      *field_out = g_strdup (section);
    return FALSE;
  }
  if (tc_schema_node_validate (n, instance, section, &code, &field, &msg))
    return TRUE;

  if (*field)
    g_set_error (error, TC_SCHEMA_ERROR, code, "%s: %s", field, msg);
  else
    g_set_error_literal (error, TC_SCHEMA_ERROR, code, msg);
  if (field_out)
    *field_out = g_steal_pointer (&field);
  return FALSE;
}
