/* thermocam: JSON Schema: JSON values (deep copy, equality, merge)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tc_json_equal() and tc_json_merge() of tc-schema.h, and the deep copy
 * that loading and the defaults use (tc-schema-private.h).
 */
#include "tc-schema-private.h"

JsonNode *
tc_schema_copy_deep (JsonNode *n)
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
          json_object_set_member (dst, name, tc_schema_copy_deep (m));
      }
      return new_object_node (dst);
    }
    case JSON_NODE_ARRAY: {
      JsonArray *src = arr_of (n);
      guint len = src ? json_array_get_length (src) : 0;
      JsonArray *dst = json_array_sized_new (len);

      for (guint i = 0; i < len; i++)
        json_array_add_element (dst, tc_schema_copy_deep (json_array_get_element (src, i)));
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
    return tc_schema_copy_deep (base);
  bo = obj_of (base);
  po = obj_of (patch);
  if (!bo || !po)
    return tc_schema_copy_deep (patch);

  ro = json_object_new ();
  json_object_iter_init_ordered (&it, bo);
  while (json_object_iter_next_ordered (&it, &name, &m)) {
    JsonNode *p = json_object_get_member (po, name);
    json_object_set_member (ro, name, p ? tc_json_merge (m, p) : tc_schema_copy_deep (m));
  }
  json_object_iter_init_ordered (&it, po);
  while (json_object_iter_next_ordered (&it, &name, &m)) {
    if (!json_object_has_member (bo, name))
      json_object_set_member (ro, name, tc_schema_copy_deep (m));
  }
  return new_object_node (ro);
}

JsonNode *
tc_schema_merge_take (JsonNode *a, JsonNode *b)
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
