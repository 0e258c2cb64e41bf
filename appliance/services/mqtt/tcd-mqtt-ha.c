/* thermocamd: Home Assistant's MQTT discovery of the camera
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One device (the camera) and its entities, each a retained message on
 * PREFIX/COMPONENT/NODE/OBJECT/config (Home Assistant's MQTT discovery):
 * temperature sensors for the scene and each rule, a binary sensor for each
 * rule's alarm, the scene alarm and each alarm input; with mqtt.commands, a
 * button for the flat-field correction, a switch per rule and a number for
 * the emissivity.  Every entity follows BASE/status for its availability.
 */
#include "tcd-mqtt.h"

#include <string.h>

#include "tc-json.h"

typedef struct {
  GHashTable *out;
  const gchar *prefix, *base;
  gchar *node;
  JsonNode *device;
} Ha;

/* an entity's config message: @b holds its own members, the common ones
 * are added here */
static void
entity (Ha *ha, const gchar *component, const gchar *object, const gchar *name, JsonBuilder *b)
{
  g_autoptr (JsonNode) n = NULL;
  g_autofree gchar *uid = g_strdup_printf ("%s_%s", ha->node, object);
  g_autofree gchar *avail = g_strdup_printf ("%s/status", ha->base);
  g_autofree gchar *entity_id = g_strdup_printf ("%s.%s", component, uid);

  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "unique_id");
  json_builder_add_string_value (b, uid);
  /* object_id for Home Assistant before 2025.10, default_entity_id after */
  json_builder_set_member_name (b, "object_id");
  json_builder_add_string_value (b, uid);
  json_builder_set_member_name (b, "default_entity_id");
  json_builder_add_string_value (b, entity_id);
  json_builder_set_member_name (b, "availability_topic");
  json_builder_add_string_value (b, avail);
  json_builder_set_member_name (b, "device");
  json_builder_add_value (b, json_node_copy (ha->device));
  json_builder_end_object (b);
  n = json_builder_get_root (b);
  g_hash_table_insert (ha->out, g_strdup_printf ("%s/%s/%s/%s/config", ha->prefix, component,
          ha->node, object), tcd_json_to_string (n, FALSE));
}

static JsonBuilder *
begin (void)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  return b;
}

static void
member (JsonBuilder *b, const gchar *name, const gchar *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
temperature (Ha *ha, const gchar *object, const gchar *name, const gchar *state, const gchar *key)
{
  g_autoptr (JsonBuilder) b = begin ();
  /* a reading that is not valid (a rule off the picture, the shutter
   * closed) has no value: unknown, not the last one */
  g_autofree gchar *tmpl = g_strdup_printf ("{{ value_json.%s if value_json.valid else None }}",
      key);

  member (b, "state_topic", state);
  member (b, "value_template", tmpl);
  member (b, "unit_of_measurement", "°C");
  member (b, "device_class", "temperature");
  member (b, "state_class", "measurement");
  json_builder_set_member_name (b, "suggested_display_precision");
  json_builder_add_int_value (b, 1);
  entity (ha, "sensor", object, name, b);
}

static void
binary (Ha *ha, const gchar *object, const gchar *name, const gchar *state, const gchar *cls)
{
  g_autoptr (JsonBuilder) b = begin ();

  member (b, "state_topic", state);
  member (b, "payload_on", "ON");
  member (b, "payload_off", "OFF");
  if (cls)
    member (b, "device_class", cls);
  entity (ha, "binary_sensor", object, name, b);
}

static JsonNode *
device (JsonNode *doc, const gchar *node, const gchar *serial, const gchar *model,
    const gchar *page)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  JsonNode *name = tcd_config_node (doc, "device.name");

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "identifiers");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, node);
  json_builder_end_array (b);
  member (b, "name", name && JSON_NODE_HOLDS_VALUE (name)
      && json_node_get_value_type (name) == G_TYPE_STRING ? json_node_get_string (name)
      : "thermocam");
  member (b, "manufacturer", "thermocam");
  member (b, "model", model);
  member (b, "serial_number", serial);
  member (b, "sw_version", PACKAGE_VERSION);
  if (page)
    member (b, "configuration_url", page);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

GHashTable *
tcd_mqtt_ha_messages (JsonNode *doc, const gchar *serial, const gchar *model,
    const gchar *base, const gchar *page)
{
  JsonNode *mqtt = tcd_config_node (doc, "mqtt");
  JsonObject *mo = mqtt && JSON_NODE_HOLDS_OBJECT (mqtt) ? json_node_get_object (mqtt) : NULL;
  JsonNode *rules = tcd_config_node (doc, "rules"), *inputs = tcd_config_node (doc,
      "alarm_inputs.inputs");
  gboolean commands = tc_json_get_bool (mo, "commands", FALSE);
  g_autofree gchar *scene = g_strdup_printf ("%s/scene", base);
  g_autofree gchar *scene_alarm = g_strdup_printf ("%s/alarm/scene", base);
  Ha ha = { 0 };

  ha.out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  ha.prefix = tc_json_get_string (tc_json_get_object (mo, "discovery"), "prefix", "homeassistant");
  ha.base = base;
  /* Home Assistant's node ids: letters, digits, _ and - */
  ha.node = g_strdup_printf ("thermocam_%s", serial);
  g_strcanon (ha.node, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", '_');
  ha.device = device (doc, ha.node, serial, model, page);

  temperature (&ha, "scene_max", "Scene max", scene, "max");
  temperature (&ha, "scene_min", "Scene min", scene, "min");
  temperature (&ha, "scene_avg", "Scene average", scene, "avg");
  binary (&ha, "scene_alarm", "Scene alarm", scene_alarm, "heat");

  for (guint i = 0; rules && JSON_NODE_HOLDS_ARRAY (rules)
      && i < json_array_get_length (json_node_get_array (rules)); i++) {
    JsonObject *r = tc_json_array_get_object (json_node_get_array (rules), i);
    gint64 id = tc_json_get_int (r, "id", -1);
    const gchar *name = tc_json_get_string (r, "name", "rule");
    g_autofree gchar *state = NULL, *astate = NULL, *obj = NULL, *label = NULL;
    if (id < 0)
      continue;
    state = g_strdup_printf ("%s/rule/%" G_GINT64_FORMAT, base, id);
    astate = g_strdup_printf ("%s/alarm/rule/%" G_GINT64_FORMAT, base, id);
    if (g_strcmp0 (tc_json_get_string (r, "type", ""), "point") == 0) {
      obj = g_strdup_printf ("rule_%" G_GINT64_FORMAT, id);
      temperature (&ha, obj, name, state, "max");
    } else {
      static const gchar *const keys[] = { "max", "min", "avg" };
      static const gchar *const words[] = { "max", "min", "average" };
      for (guint k = 0; k < 3; k++) {
        g_autofree gchar *o = g_strdup_printf ("rule_%" G_GINT64_FORMAT "_%s", id, keys[k]);
        g_autofree gchar *l = g_strdup_printf ("%s %s", name, words[k]);
        temperature (&ha, o, l, state, keys[k]);
      }
    }
    g_free (obj);
    obj = g_strdup_printf ("rule_%" G_GINT64_FORMAT "_alarm", id);
    label = g_strdup_printf ("%s alarm", name);
    binary (&ha, obj, label, astate, "heat");
    if (commands) {
      g_autoptr (JsonBuilder) b = begin ();
      g_autofree gchar *cmd = g_strdup_printf ("%s/rule/%" G_GINT64_FORMAT "/enabled/set", base, id);
      g_autofree gchar *st = g_strdup_printf ("%s/rule/%" G_GINT64_FORMAT "/enabled", base, id);
      g_autofree gchar *o = g_strdup_printf ("rule_%" G_GINT64_FORMAT "_enabled", id);
      g_autofree gchar *l = g_strdup_printf ("%s enabled", name);
      member (b, "command_topic", cmd);
      member (b, "state_topic", st);
      member (b, "payload_on", "ON");
      member (b, "payload_off", "OFF");
      member (b, "entity_category", "config");
      entity (&ha, "switch", o, l, b);
    }
  }

  for (guint i = 0; inputs && JSON_NODE_HOLDS_ARRAY (inputs)
      && i < json_array_get_length (json_node_get_array (inputs)); i++) {
    JsonObject *in = tc_json_array_get_object (json_node_get_array (inputs), i);
    gint64 id = tc_json_get_int (in, "id", -1);
    g_autofree gchar *st = NULL, *o = NULL;
    if (id < 0)
      continue;
    st = g_strdup_printf ("%s/alarm/input/%" G_GINT64_FORMAT, base, id);
    o = g_strdup_printf ("input_%" G_GINT64_FORMAT, id);
    binary (&ha, o, tc_json_get_string (in, "name", "Alarm input"), st, NULL);
  }

  if (commands) {
    g_autoptr (JsonBuilder) fb = begin ();
    g_autoptr (JsonBuilder) eb = begin ();
    g_autofree gchar *ffc = g_strdup_printf ("%s/ffc/set", base);
    g_autofree gchar *eset = g_strdup_printf ("%s/emissivity/set", base);
    g_autofree gchar *est = g_strdup_printf ("%s/emissivity", base);

    member (fb, "command_topic", ffc);
    member (fb, "payload_press", "PRESS");
    member (fb, "entity_category", "config");
    entity (&ha, "button", "ffc", "Flat-field correction", fb);
    member (eb, "command_topic", eset);
    member (eb, "state_topic", est);
    json_builder_set_member_name (eb, "min");
    json_builder_add_double_value (eb, 0.01);
    json_builder_set_member_name (eb, "max");
    json_builder_add_double_value (eb, 1.0);
    json_builder_set_member_name (eb, "step");
    json_builder_add_double_value (eb, 0.01);
    member (eb, "mode", "box");
    member (eb, "entity_category", "config");
    entity (&ha, "number", "emissivity", "Emissivity", eb);
  }
  json_node_unref (ha.device);
  g_free (ha.node);
  return ha.out;
}
