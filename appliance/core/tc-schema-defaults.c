/* thermocam: JSON Schema: the default document
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built from the "default" keywords, through $ref and allOf (tc-schema.h,
 * tc_schema_defaults()).
 */
#include "tc-schema-private.h"

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

JsonNode *
tc_schema_defaults_of (const SchemaNode *n, GPtrArray *stack)
{
  JsonNode *res = NULL;

  if (n->is_bool || g_ptr_array_find (stack, n, NULL))
    return NULL;                /* a recursive schema: stop */
  g_ptr_array_add (stack, (gpointer) n);

  if (n->ref_target)
    res = tc_schema_defaults_of (n->ref_target, stack);
  for (guint i = 0; n->all_of && i < n->all_of->len; i++)
    res = tc_schema_merge_take (res,
        tc_schema_defaults_of (g_ptr_array_index (n->all_of, i), stack));
  if (n->props) {
    JsonObject *o = json_object_new ();

    for (guint i = 0; i < n->prop_names->len; i++) {
      const char *name = g_ptr_array_index (n->prop_names, i);
      const SchemaNode *p = g_ptr_array_index (n->prop_nodes, i);
      JsonNode *d = tc_schema_defaults_of (p, stack);

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
      res = tc_schema_merge_take (res, new_object_node (o));
    } else {
      json_object_unref (o);
    }
  }
  if (n->default_value) {
    JsonNode *d = tc_schema_copy_deep (n->default_value);

    if (res && obj_of (res) && obj_of (d))
      res = tc_schema_merge_take (res, d);
    else {
      g_clear_pointer (&res, json_node_unref);
      res = d;
    }
  }
  g_ptr_array_remove_index (stack, stack->len - 1);
  return res;
}

JsonNode *
tc_schema_defaults (TcSchema *s, const char *section)
{
  const SchemaNode *n;
  g_autoptr (GPtrArray) stack = NULL;
  JsonNode *d;

  g_return_val_if_fail (s != NULL, NULL);
  n = tc_schema_find_section (s, section);
  if (!n)
    return NULL;
  stack = g_ptr_array_new ();
  d = tc_schema_defaults_of (n, stack);
  if (!d && container_kind (n) == T_OBJECT)
    d = new_object_node (json_object_new ());
  return d;
}
