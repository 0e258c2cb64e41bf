/* thermocamd: ONVIF events from the event bus: the temperature alarms
 * (and the radiometry alarm they make), inputs, outputs, exceptions,
 * burning prevention and the readings as messages; the properties' states
 * for new subscriptions and SetSynchronizationPoint (onvif-events.c has the
 * topics and the subscriptions)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "onvif-events.h"

#include <string.h>

#include "tc-json.h"
#include "tcd-clock.h"

/* ---- from the bus ---- */

static void
temperature_source (GString *s, const gchar *rule, const gchar *level)
{
  ev_item (s, "VideoSourceConfigurationToken", ONVIF_VIDEO_SOURCE_CONFIG_TOKEN);
  ev_item (s, "VideoAnalyticsConfigurationToken", ONVIF_ANALYTICS_CONFIG_TOKEN);
  ev_item (s, "Rule", rule);
  ev_item (s, "Level", level);
}

static void
radiometry_alarm (Events *ev, const gchar *key, gboolean on)
{
  guint before = g_hash_table_size (ev->active);
  g_autoptr (GString) src = g_string_new (NULL);
  g_autoptr (GString) data = g_string_new (NULL);

  if (on)
    g_hash_table_add (ev->active, g_strdup (key));
  else
    g_hash_table_remove (ev->active, key);
  if (!before == !g_hash_table_size (ev->active))
    return;
  ev_item (src, "VideoSource", ONVIF_VIDEO_SOURCE_TOKEN);
  ev_item (data, "State", g_hash_table_size (ev->active) ? "true" : "false");
  ev_publish_property (ev, T_RADIOMETRY_ALARM, src->str, data->str);
}

static gchar *
alarm_rule_label (Events *ev, JsonObject *o, const gchar *source)
{
  const gchar *name = tc_json_get_string (o, "name", "");

  if (g_str_equal (source, "rule")) {
    JsonNode *doc = tcd_config_get (ev->ctx->config);
    return onvif_rule_name (doc, tc_json_get_int (o, "rule", 0));
  }
  if (g_str_equal (source, "comparison"))
    return g_strdup_printf ("comparison:%s", name);
  if (g_str_equal (source, "scene"))
    return g_strdup ("Scene");
  if (g_str_equal (source, "environment"))
    return g_strdup ("Environment");
  return g_strdup_printf ("%s:%s", source, name);
}

static void
on_alarm (Events *ev, JsonObject *o)
{
  const gchar *source = tc_json_get_string (o, "source", "");
  const gchar *state = tc_json_get_string (o, "state", "");
  const gchar *level = tc_json_get_string (o, "level", "alarm");
  gboolean on = g_str_equal (state, "start");
  g_autoptr (GString) src = g_string_new (NULL);
  g_autoptr (GString) data = g_string_new (NULL);
  g_autofree gchar *rule = NULL;
  g_autofree gchar *key = NULL;

  if (tc_json_get_bool (o, "repeat", FALSE))
    return;
  if (g_str_equal (source, "input")) {
    g_autofree gchar *token = g_strdup_printf ("AlarmIn_%" G_GINT64_FORMAT,
        tc_json_get_int (o, "input", 0));
    ev_item (src, "InputToken", token);
    ev_item (data, "LogicalState", on ? "true" : "false");
    ev_publish_property (ev, T_DIGITAL_INPUT, src->str, data->str);
    return;
  }
  rule = alarm_rule_label (ev, o, source);
  temperature_source (src, rule, g_str_equal (level, "pre_alarm") ? "PreAlarm" : "Alarm");
  ev_item (data, "State", on ? "true" : "false");
  if (json_object_has_member (o, "value"))
    ev_item_kelvin (data, "Value", tc_json_get_double (o, "value", 0));
  if (json_object_has_member (o, "threshold"))
    ev_item_kelvin (data, "Threshold", tc_json_get_double (o, "threshold", 0));
  ev_publish_property (ev, T_TEMPERATURE_ALARM, src->str, data->str);
  key = ev_prop_key (T_TEMPERATURE_ALARM, src->str);
  radiometry_alarm (ev, key, on);
}

static void
reading (Events *ev, JsonNode *doc, JsonObject *r, const gchar *item_id, gboolean spot)
{
  g_autoptr (GString) src = g_string_new (NULL);
  g_autoptr (GString) data = g_string_new ("<tt:ElementItem Name=\"Reading\">");
  g_autofree gchar *id = g_markup_escape_text (item_id, -1);
  gchar a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE];

  (void) doc;
  ev_item (src, "VideoSourceConfigurationToken", ONVIF_VIDEO_SOURCE_CONFIG_TOKEN);
  ev_item (src, "VideoAnalyticsConfigurationToken", ONVIF_ANALYTICS_CONFIG_TOKEN);
  g_ascii_formatd (a, sizeof a, "%.2f",
      tc_json_get_double (r, "max", 0) + ONVIF_KELVIN);
  g_ascii_formatd (b, sizeof b, "%.2f",
      tc_json_get_double (r, "min", 0) + ONVIF_KELVIN);
  g_ascii_formatd (c, sizeof c, "%.2f",
      tc_json_get_double (r, "avg", 0) + ONVIF_KELVIN);
  if (spot)
    g_string_append_printf (data, "<ttr:SpotTemperatureReading ItemID=\"%s\" "
        "SpotTemperature=\"%s\"/>", id, c);
  else
    g_string_append_printf (data, "<ttr:BoxTemperatureReading ItemID=\"%s\" "
        "MaxTemperature=\"%s\" MinTemperature=\"%s\" AverageTemperature=\"%s\"/>", id, a, b, c);
  g_string_append (data, "</tt:ElementItem>");
  ev_publish (ev, spot ? T_SPOT : T_BOX, NULL, src->str, data->str);
}

static void
on_measurement (Events *ev, JsonObject *o)
{
  JsonNode *doc = tcd_config_get (ev->ctx->config);
  JsonArray *rules = tc_json_get_array (o, "rules");
  JsonArray *conf = tc_json_get_array (json_node_get_object (doc), "rules");
  g_autoptr (GHashTable) by_id = g_hash_table_new (g_direct_hash, g_direct_equal);

  if (!tc_json_get_bool (o, "valid", FALSE))
    return;
  if (json_object_has_member (o, "scene"))
    reading (ev, doc, tc_json_get_object (o, "scene"), "Scene", FALSE);
  /* the configured rules by id (1..65535), once, not a lookup per reading */
  for (guint i = 0; conf && i < json_array_get_length (conf); i++) {
    JsonObject *c = tc_json_array_get_object (conf, i);
    if (c)
      g_hash_table_insert (by_id, GINT_TO_POINTER ((gint) tc_json_get_int (c, "id", 0)), c);
  }
  for (guint i = 0; rules && i < json_array_get_length (rules); i++) {
    JsonObject *r = tc_json_array_get_object (rules, i);
    gint64 id = tc_json_get_int (r, "id", 0);
    JsonObject *rule = g_hash_table_lookup (by_id, GINT_TO_POINTER ((gint) id));
    g_autofree gchar *name = NULL;
    if (!tc_json_get_bool (r, "valid", FALSE) || !rule)
      continue;
    name = onvif_rule_name (doc, id);
    reading (ev, doc, r, name, onvif_rule_kind (rule) == ONVIF_MODULE_SPOT);
  }
}

/* the rules changed: the alarm states of rules that are gone (or renamed)
 * are forgotten, and no longer hold the radiometry alarm on */
static void
forget_rules (Events *ev)
{
  JsonNode *doc = tcd_config_get (ev->ctx->config);
  JsonArray *a = tc_json_get_array (json_node_get_object (doc), "rules");
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  const gchar *key;
  Prop *p;

  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    g_autoptr (GString) src = g_string_new (NULL);
    g_autofree gchar *name = onvif_rule_name (doc, tc_json_get_int
        (tc_json_array_get_object (a, i), "id", 0));
    ev_item (src, "Rule", name);
    g_ptr_array_add (names, g_string_free (g_steal_pointer (&src), FALSE));
  }
  g_hash_table_iter_init (&it, ev->props);
  while (g_hash_table_iter_next (&it, (gpointer *) &key, (gpointer *) &p)) {
    const gchar *rule = p->topic == T_TEMPERATURE_ALARM
        ? strstr (p->source, "<tt:SimpleItem Name=\"Rule\"") : NULL;
    gboolean keep = FALSE;
    /* only rules' alarms: the scene's, comparisons' and environment's stay */
    if (!rule || strstr (rule, "Value=\"Scene\"") || strstr (rule, "Value=\"Environment\"")
        || strstr (rule, "Value=\"comparison:"))
      continue;
    for (guint i = 0; i < names->len && !keep; i++)
      keep = g_str_has_prefix (rule, g_ptr_array_index (names, i));
    if (!keep)
      g_ptr_array_add (gone, g_strdup (key));
  }
  for (guint i = 0; i < gone->len; i++) {
    g_hash_table_remove (ev->props, g_ptr_array_index (gone, i));
    radiometry_alarm (ev, g_ptr_array_index (gone, i), FALSE);
  }
}

void
ev_on_bus (TcdEventType type, JsonNode *event, gpointer user_data)
{
  Events *ev = user_data;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (event) ? json_node_get_object (event) : NULL;
  g_autoptr (GString) src = g_string_new (NULL);
  g_autoptr (GString) data = g_string_new (NULL);

  if (!o)
    return;
  switch (type) {
  case TCD_EVENT_ALARM:
    on_alarm (ev, o);
    break;
  case TCD_EVENT_MEASUREMENT:
    on_measurement (ev, o);
    break;
  case TCD_EVENT_EXCEPTION:
    ev_item (data, "Type", tc_json_get_string (o, "type", ""));
    ev_item (data, "Message", tc_json_get_string (o, "message", ""));
    /* those that last (a link down, a broker away) say when they start and stop */
    if (tc_json_get_string (o, "state", NULL))
      ev_item (data, "State", tc_json_get_string (o, "state", ""));
    ev_publish (ev, T_EXCEPTION, NULL, NULL, data->str);
    break;
  case TCD_EVENT_OUTPUT: {
    g_autofree gchar *token = g_strdup_printf ("AlarmOut_%" G_GINT64_FORMAT,
        tc_json_get_int (o, "output", 0));
    ev_item (src, "RelayToken", token);
    ev_item (data, "LogicalState", tc_json_get_bool (o, "on", FALSE)
        ? "active" : "inactive");
    ev_publish_property (ev, T_RELAY, src->str, data->str);
    break;
  }
  case TCD_EVENT_CONFIG:
    if (g_str_has_prefix (tc_json_get_string (o, "change", ""), "rules")
        || g_str_has_prefix (tc_json_get_string (o, "change", ""), "restore"))
      forget_rules (ev);
    break;
  case TCD_EVENT_BURNING:
    ev_item (src, "VideoSource", ONVIF_VIDEO_SOURCE_TOKEN);
    ev_item (data, "ShutterClosed", g_strcmp0 (tc_json_get_string (o,
        "shutter", ""), "closed") == 0 ? "true" : "false");
    ev_item (data, "Reason", tc_json_get_string (o, "reason", ""));
    ev_publish_property (ev, T_BURNING, src->str, data->str);
    break;
  default:
    break;
  }
}

/* the readings are made only while a subscription asks for them */
void
ev_update_measurement (Events *ev)
{
  GHashTableIter it;
  Sub *s;
  gboolean want = FALSE;

  g_hash_table_iter_init (&it, ev->subs);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &s))
    want |= (s->mask & ((1u << T_SPOT) | (1u << T_BOX))) != 0;
  if (want && !ev->measure_id)
    ev->measure_id = tcd_bus_subscribe (ev->ctx->bus, TCD_EVENT_MASK (TCD_EVENT_MEASUREMENT),
        ev_on_bus, ev);
  else if (!want && ev->measure_id) {
    tcd_bus_unsubscribe (ev->ctx->bus, ev->measure_id);
    ev->measure_id = 0;
  }
}

/* ---- the properties' current states ---- */

static void
initial (Events *ev, Sub *s, GHashTable *done, TopicId t, const gchar *source,
         const gchar *data)
{
  g_autofree gchar *key = ev_prop_key (t, source);
  Prop *p = g_hash_table_lookup (ev->props, key);
  GRefString *m;

  if (!(s->mask & (1u << t)) || g_hash_table_contains (done, key))
    return;
  m = ev_render (t, "Initialized", tcd_clock_now_utc (), source, p ? p->data : data);
  ev_enqueue (ev, s, m);
  g_ref_string_release (m);
  g_hash_table_add (done, g_steal_pointer (&key));
}

static void
initial_temperature (Events *ev, Sub *s, GHashTable *done, const gchar *rule)
{
  static const gchar *const levels[] = { "Alarm", "PreAlarm" };

  for (guint i = 0; i < G_N_ELEMENTS (levels); i++) {
    g_autoptr (GString) src = g_string_new (NULL);
    temperature_source (src, rule, levels[i]);
    initial (ev, s, done, T_TEMPERATURE_ALARM, src->str, "<tt:SimpleItem Name=\"State\" "
        "Value=\"false\"/>");
  }
}

static void
initial_io (Events *ev, Sub *s, GHashTable *done, JsonNode *doc, const gchar *path,
            TopicId t, const gchar *prefix, const gchar *token_name, const gchar *off)
{
  JsonNode *n = tcd_config_node (doc, path);
  JsonArray *a = n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;

  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonObject *o = tc_json_array_get_object (a, i);
    g_autoptr (GString) src = g_string_new (NULL);
    g_autoptr (GString) data = g_string_new (NULL);
    g_autofree gchar *token = g_strdup_printf ("%s%" G_GINT64_FORMAT, prefix,
        tc_json_get_int (o, "id", 0));
    ev_item (src, token_name, token);
    ev_item (data, "LogicalState", off);
    initial (ev, s, done, t, src->str, data->str);
  }
}

/* every property's state, Initialized, into @s */
void
ev_synchronize (Events *ev, Sub *s)
{
  JsonNode *doc = tcd_config_get (ev->ctx->config);
  g_autoptr (GHashTable) done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonNode *rules = tcd_config_node (doc, "rules");
  JsonArray *ra = rules && JSON_NODE_HOLDS_ARRAY (rules) ? json_node_get_array (rules) : NULL;
  g_autoptr (GString) src = g_string_new (NULL);
  g_autoptr (GString) data = g_string_new (NULL);
  GHashTableIter it;
  Prop *p;
  gboolean closed;

  for (guint i = 0; ra && i < json_array_get_length (ra); i++) {
    JsonObject *r = tc_json_array_get_object (ra, i);
    JsonObject *a = tc_json_get_object (r, "alarm");
    g_autofree gchar *name = NULL;
    if (!a || !tc_json_get_bool (a, "enabled", FALSE))
      continue;
    name = onvif_rule_name (doc, tc_json_get_int (r, "id", 0));
    initial_temperature (ev, s, done, name);
  }
  if (tcd_config_bool (ev->ctx->config, "scene_alarm.enabled"))
    initial_temperature (ev, s, done, "Scene");
  ev_item (src, "VideoSource", ONVIF_VIDEO_SOURCE_TOKEN);
  initial (ev, s, done, T_RADIOMETRY_ALARM, src->str,
      "<tt:SimpleItem Name=\"State\" Value=\"false\"/>");
  initial_io (ev, s, done, doc, "alarm_inputs.inputs", T_DIGITAL_INPUT, "AlarmIn_",
      "InputToken", "false");
  initial_io (ev, s, done, doc, "alarm_outputs.outputs", T_RELAY, "AlarmOut_", "RelayToken",
      "inactive");
  closed = g_strcmp0 (tcd_config_string (ev->ctx->config, "burning_prevention.mode"),
      "manual") == 0 && g_strcmp0 (tcd_config_string (ev->ctx->config,
      "burning_prevention.shutter"), "closed") == 0;
  ev_item (data, "ShutterClosed", closed ? "true" : "false");
  ev_item (data, "Reason", closed ? "manual" : "");
  initial (ev, s, done, T_BURNING, src->str, data->str);
  /* and whatever else was seen (an environment alarm, a comparison) */
  g_hash_table_iter_init (&it, ev->props);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &p))
    initial (ev, s, done, p->topic, p->source, p->data);
}

