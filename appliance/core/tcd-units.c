/* thermocamd: the same unit (manual 10.11)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-units.h"

#include "tcd-config.h"

static const gchar *
str_at (JsonNode *doc, const gchar *path)
{
  JsonNode *n = doc ? tcd_config_node (doc, path) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
      ? json_node_get_string (n) : NULL;
}

static gboolean
bool_at (JsonNode *doc, const gchar *path)
{
  JsonNode *n = doc ? tcd_config_node (doc, path) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN
      && json_node_get_boolean (n);
}

gboolean
tcd_units_check (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
    gpointer user_data, GError **error)
{
  const gchar *unit = str_at (doc, "units.temperature");
  const gchar *thermo = str_at (doc, "thermometry.unit");
  JsonNode *th = tcd_config_node (doc, "thermometry");
  gboolean units_changed;

  if (!bool_at (doc, "units.same_unit") || !unit || !thermo || g_strcmp0 (unit, thermo) == 0)
    return TRUE;
  units_changed = !bool_at (current, "units.same_unit")
      || g_strcmp0 (unit, str_at (current, "units.temperature")) != 0;
  /* thermometry.unit set apart while the units stay: refused */
  if (!units_changed || g_strcmp0 (thermo, str_at (current, "thermometry.unit")) != 0) {
    tcd_change_refuse (error, "thermometry.unit", "thermometry.unit: units.same_unit is on: "
        "the temperature unit is units.temperature (\"%s\")", unit);
    return FALSE;
  }
  /* the units changed: thermometry.unit follows */
  if (th && JSON_NODE_HOLDS_OBJECT (th))
    json_object_set_string_member (json_node_get_object (th), "unit", unit);
  return TRUE;
}
