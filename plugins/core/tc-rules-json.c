/* thermocam: measurement rules, comparisons and alarms from JSON
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tc-rules-json.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "tc-json.h"

G_DEFINE_QUARK (tc-rules-error-quark, tc_rules_error);

#define TC_MAX_ID 1000000

static gboolean
fail (GError **error, const gchar *path, const gchar *field, const gchar *what)
{
  g_set_error (error, TC_RULES_ERROR, TC_RULES_ERROR_INVALID, "%s%s%s: %s",
      path, *path && field ? "." : "", field ? field : "", what);
  return FALSE;
}

static gboolean
check_members (JsonObject *o, const gchar *path, const gchar *const *allowed,
    GError **error)
{
  g_autoptr (GList) members = json_object_get_members (o);
  GList *l;

  for (l = members; l; l = l->next) {
    if (!g_strv_contains (allowed, l->data))
      return fail (error, path, l->data, "unknown field");
  }
  return TRUE;
}

static gboolean
get_num (JsonObject *o, const gchar *path, const gchar *key, gboolean required,
    gdouble lo, gdouble hi, gdouble *out, gboolean *present, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  GType t;

  if (present)
    *present = FALSE;
  if (!n || JSON_NODE_HOLDS_NULL (n)) {
    if (required)
      return fail (error, path, key, "is required");
    return TRUE;
  }
  t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
    return fail (error, path, key, "must be a number");
  *out = json_node_get_double (n);
  if (!(*out >= lo && *out <= hi)) {
    g_autofree gchar *msg = g_strdup_printf ("must be between %g and %g", lo, hi);
    return fail (error, path, key, msg);
  }
  if (present)
    *present = TRUE;
  return TRUE;
}

static gboolean
get_bool (JsonObject *o, const gchar *path, const gchar *key, gboolean def,
    gboolean *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n || JSON_NODE_HOLDS_NULL (n)) {
    *out = def;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return fail (error, path, key, "must be true or false");
  *out = json_node_get_boolean (n);
  return TRUE;
}

/* one of @choices, returning its index */
static gboolean
get_enum (JsonObject *o, const gchar *path, const gchar *key, gboolean required,
    const gchar *const *choices, gint def, gint *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  const gchar *s;
  gint i;

  if (!n || JSON_NODE_HOLDS_NULL (n)) {
    if (required)
      return fail (error, path, key, "is required");
    *out = def;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return fail (error, path, key, "must be a string");
  s = json_node_get_string (n);
  for (i = 0; choices[i]; i++) {
    if (g_str_equal (s, choices[i])) {
      *out = i;
      return TRUE;
    }
  }
  {
    g_autofree gchar *list = g_strjoinv (", ", (gchar **) choices);
    g_autofree gchar *msg = g_strdup_printf ("must be one of %s", list);
    return fail (error, path, key, msg);
  }
}

static gboolean
get_name (JsonObject *o, const gchar *path, gchar *name, GError **error)
{
  JsonNode *n = json_object_get_member (o, "name");
  const gchar *s;

  name[0] = '\0';
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return fail (error, path, "name", "must be a string");
  s = json_node_get_string (n);
  if (strlen (s) >= TC_RULE_NAME_LEN || !g_utf8_validate (s, -1, NULL))
    return fail (error, path, "name", "must be valid UTF-8 of at most 63 bytes");
  g_strlcpy (name, s, TC_RULE_NAME_LEN);
  return TRUE;
}

static gboolean
get_id (JsonObject *o, const gchar *path, const gchar *key, gint *id, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n || JSON_NODE_HOLDS_NULL (n)) {
    *id = -1;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64 ||
      json_node_get_int (n) < 1 || json_node_get_int (n) > TC_MAX_ID)
    return fail (error, path, key, "must be an integer from 1 to 1000000");
  *id = (gint) json_node_get_int (n);
  return TRUE;
}

static const gchar *const alarm_fields[] = { "enabled", "on", "condition",
  "pre_alarm", "alarm", "tolerance", "filter_time", "interval", NULL
};
static const gchar *const on_choices[] = { "max", "min", "avg", NULL };
static const gchar *const cond_choices[] = { "above", "below", NULL };

static gboolean
parse_alarm (JsonNode *node, const gchar *path, TcAlarmConfig *cfg,
    gboolean *has_interval, GError **error)
{
  JsonObject *o;
  gint on, cond;
  gboolean enabled = TRUE, has_pre = FALSE;
  const gchar *bad;

  memset (cfg, 0, sizeof (*cfg));
  *has_interval = FALSE;
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return TRUE;                /* no alarm */
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, path, NULL, "must be an object");
  o = json_node_get_object (node);
  if (!check_members (o, path, alarm_fields, error) ||
      !get_bool (o, path, "enabled", TRUE, &enabled, error) ||
      !get_enum (o, path, "on", FALSE, on_choices, TC_ON_MAX, &on, error) ||
      !get_enum (o, path, "condition", FALSE, cond_choices, TC_ABOVE, &cond, error) ||
      !get_num (o, path, "pre_alarm", FALSE, -273.15, 10000, &cfg->pre_alarm,
          &has_pre, error) ||
      !get_num (o, path, "alarm", enabled, -273.15, 10000, &cfg->alarm, NULL, error) ||
      !get_num (o, path, "tolerance", FALSE, 0, 1000, &cfg->tolerance, NULL, error) ||
      !get_num (o, path, "filter_time", FALSE, 0, 86400, &cfg->filter_time, NULL, error) ||
      !get_num (o, path, "interval", FALSE, 0, 86400, &cfg->interval, has_interval, error))
    return FALSE;
  cfg->enabled = enabled;
  cfg->has_pre_alarm = has_pre;
  cfg->on = (TcAlarmOn) on;
  cfg->condition = (TcAlarmCondition) cond;
  if (cfg->enabled && (bad = tc_alarm_config_check (cfg))) {
    if (g_str_equal (bad, "pre_alarm"))
      return fail (error, path, bad, cfg->condition == TC_ABOVE ?
          "must not be above the alarm temperature" :
          "must not be below the alarm temperature");
    return fail (error, path, bad, "is out of range");
  }
  return TRUE;
}

/* the parsed document (owned by the caller) */
static JsonNode *
load (const gchar *json, gboolean array, GError **error)
{
  GError *err = NULL;
  JsonNode *root;

  if (!(root = tc_json_parse (json, -1, TC_JSON_MAX_DEPTH, &err))) {
    g_set_error (error, TC_RULES_ERROR, TC_RULES_ERROR_PARSE, "not valid JSON: %s",
        err->message);
    g_error_free (err);
    return NULL;
  }
  if (array ? !JSON_NODE_HOLDS_ARRAY (root) : !JSON_NODE_HOLDS_OBJECT (root)) {
    json_node_unref (root);
    g_set_error (error, TC_RULES_ERROR, TC_RULES_ERROR_PARSE, "expected a JSON %s",
        array ? "array" : "object");
    return NULL;
  }
  return root;
}

static const gchar *const rule_fields[] = { "id", "name", "enabled", "type", "points",
  "emissivity", "distance", "reflected_temperature", "alarm", NULL
};
static const gchar *const type_choices[] = { "point", "line", "polygon", NULL };

static gboolean
parse_rule (JsonNode *node, const gchar *path, TcRuleDef *r, GError **error)
{
  JsonObject *o;
  JsonNode *pn;
  JsonArray *pa;
  gint type;
  guint i, n;

  memset (r, 0, sizeof (*r));
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, path, NULL, "must be an object");
  o = json_node_get_object (node);
  if (!check_members (o, path, rule_fields, error) ||
      !get_id (o, path, "id", &r->id, error) ||
      !get_name (o, path, r->name, error) ||
      !get_bool (o, path, "enabled", TRUE, &r->enabled, error) ||
      !get_enum (o, path, "type", TRUE, type_choices, 0, &type, error) ||
      !get_num (o, path, "emissivity", FALSE, 0.01, 1.0, &r->emissivity,
          &r->has_emissivity, error) ||
      !get_num (o, path, "distance", FALSE, 0, 10000, &r->distance, &r->has_distance,
          error) ||
      !get_num (o, path, "reflected_temperature", FALSE, -100, 2000, &r->reflected_temp,
          &r->has_reflected, error))
    return FALSE;
  r->type = (TcRuleType) type;

  pn = json_object_get_member (o, "points");
  if (!pn || !JSON_NODE_HOLDS_ARRAY (pn))
    return fail (error, path, "points", "is required: an array of [x, y]");
  pa = json_node_get_array (pn);
  n = json_array_get_length (pa);
  if ((r->type == TC_RULE_POINT && n != 1) ||
      (r->type == TC_RULE_LINE && (n < 2 || n > TC_RULE_MAX_POINTS)) ||
      (r->type == TC_RULE_POLYGON && (n < 3 || n > TC_RULE_MAX_POINTS))) {
    return fail (error, path, "points", r->type == TC_RULE_POINT ?
        "a point has exactly one [x, y]" : (r->type == TC_RULE_LINE ?
            "a line has 2 to 16 points" : "a polygon has 3 to 16 points"));
  }
  for (i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (pa, i);
    JsonArray *xy = JSON_NODE_HOLDS_ARRAY (e) ? json_node_get_array (e) : NULL;
    guint k;

    if (!xy || json_array_get_length (xy) != 2)
      return fail (error, path, "points", "each point is [x, y]");
    for (k = 0; k < 2; k++) {
      JsonNode *c = json_array_get_element (xy, k);
      GType t = JSON_NODE_HOLDS_VALUE (c) ? json_node_get_value_type (c) : G_TYPE_INVALID;
      gdouble v;

      if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
        return fail (error, path, "points", "coordinates must be numbers");
      v = json_node_get_double (c);
      if (!(v >= 0.0 && v <= 1.0))
        return fail (error, path, "points", "coordinates are normalized: 0 to 1");
      r->points[i][k] = v;
    }
  }
  r->n_points = n;
  {
    g_autofree gchar *apath = g_strdup_printf ("%s.alarm", path);
    return parse_alarm (json_object_get_member (o, "alarm"), apath, &r->alarm,
        &r->has_interval, error);
  }
}

gboolean
tc_rules_parse_json (const gchar *json, TcRuleDef **rules, guint *n_rules,
    GError **error)
{
  JsonArray *arr;
  TcRuleDef *out;
  guint n, i, j;
  gint next_id = 1;
  g_autoptr (JsonNode) root = NULL;

  *rules = NULL;
  *n_rules = 0;
  if (!json || !*json)
    return TRUE;
  if (!(root = load (json, TRUE, error)))
    return FALSE;
  arr = json_node_get_array (root);
  n = json_array_get_length (arr);
  if (n > TC_MAX_RULES)
    return fail (error, "rules", NULL, "at most 40 rules");
  out = g_new0 (TcRuleDef, MAX (n, 1));
  for (i = 0; i < n; i++) {
    g_autofree gchar *path = g_strdup_printf ("rules[%u]", i);

    if (!parse_rule (json_array_get_element (arr, i), path, &out[i], error)) {
      g_free (out);
      return FALSE;
    }
    next_id = MAX (next_id, out[i].id + 1);
  }
  for (i = 0; i < n; i++) {
    if (out[i].id < 0)
      out[i].id = next_id++;
    for (j = 0; j < i; j++) {
      if (out[j].id == out[i].id) {
        g_autofree gchar *path = g_strdup_printf ("rules[%u]", i);

        g_free (out);
        return fail (error, path, "id", "is used by another rule");
      }
    }
  }
  *rules = out;
  *n_rules = n;
  return TRUE;
}

static const gchar *const cmp_fields[] = { "id", "name", "enabled", "rules", "alarm", NULL };

gboolean
tc_comparisons_parse_json (const gchar *json, const TcRuleDef *rules, guint n_rules,
    TcComparisonDef **cmps, guint *n_cmps, GError **error)
{
  TcComparisonDef *out;
  JsonArray *arr;
  g_autoptr (JsonNode) root = NULL;
  guint n, i;

  *cmps = NULL;
  *n_cmps = 0;
  if (!json || !*json)
    return TRUE;
  if (!(root = load (json, TRUE, error)))
    return FALSE;
  arr = json_node_get_array (root);
  n = json_array_get_length (arr);
  if (n > TC_MAX_RULES)
    return fail (error, "comparisons", NULL, "at most 40 comparisons");
  out = g_new0 (TcComparisonDef, MAX (n, 1));
  for (i = 0; i < n; i++) {
    g_autofree gchar *path = g_strdup_printf ("comparisons[%u]", i);
    g_autofree gchar *apath = g_strdup_printf ("comparisons[%u].alarm", i);
    JsonNode *node = json_array_get_element (arr, i);
    TcComparisonDef *c = &out[i];
    JsonObject *o;
    JsonNode *rn;
    guint k, j;

    if (!JSON_NODE_HOLDS_OBJECT (node)) {
      g_free (out);
      return fail (error, path, NULL, "must be an object");
    }
    o = json_node_get_object (node);
    if (!check_members (o, path, cmp_fields, error) ||
        !get_id (o, path, "id", &c->id, error) ||
        !get_name (o, path, c->name, error) ||
        !get_bool (o, path, "enabled", TRUE, &c->enabled, error)) {
      g_free (out);
      return FALSE;
    }
    rn = json_object_get_member (o, "rules");
    if (!rn || !JSON_NODE_HOLDS_ARRAY (rn) ||
        json_array_get_length (json_node_get_array (rn)) != 2) {
      g_free (out);
      return fail (error, path, "rules", "is required: the ids of two rules");
    }
    for (k = 0; k < 2; k++) {
      JsonNode *e = json_array_get_element (json_node_get_array (rn), k);
      gint id = JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_INT64 ?
          (gint) json_node_get_int (e) : -1;
      gboolean found = FALSE;

      if (!rules)
        found = id > 0;
      for (j = 0; rules && j < n_rules; j++)
        found |= rules[j].id == id;
      if (!found) {
        g_free (out);
        return fail (error, path, "rules", "names a rule that does not exist");
      }
      if (k == 0)
        c->rule_a = id;
      else
        c->rule_b = id;
    }
    if (!parse_alarm (json_object_get_member (o, "alarm"), apath, &c->alarm,
            &c->has_interval, error)) {
      g_free (out);
      return FALSE;
    }
  }
  /* ids: given ones unique, missing ones the next free */
  {
    gint next_id = 1;
    guint j;

    for (i = 0; i < n; i++)
      next_id = MAX (next_id, out[i].id + 1);
    for (i = 0; i < n; i++) {
      if (out[i].id < 0)
        out[i].id = next_id++;
      for (j = 0; j < i; j++) {
        if (out[j].id == out[i].id) {
          g_autofree gchar *path = g_strdup_printf ("comparisons[%u]", i);

          g_free (out);
          return fail (error, path, "id", "is used by another comparison");
        }
      }
    }
  }
  *cmps = out;
  *n_cmps = n;
  return TRUE;
}

gboolean
tc_alarm_parse_json (const gchar *json, TcAlarmConfig *cfg, gboolean *has_interval,
    GError **error)
{
  TcAlarmConfig c;
  gboolean hi;
  g_autoptr (JsonNode) root = NULL;

  if (!json || !*json) {
    memset (cfg, 0, sizeof (*cfg));
    *has_interval = FALSE;
    return TRUE;
  }
  if (!(root = load (json, FALSE, error)))
    return FALSE;
  if (!parse_alarm (root, "scene_alarm", &c, &hi, error))
    return FALSE;
  *cfg = c;
  *has_interval = hi;
  return TRUE;
}
