/* thermocamd: the event bus
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-bus.h"

#include <string.h>

#include "tcd-clock.h"

static const struct {
  const gchar *name;
  const gchar *doc;
} types[TCD_EVENT_N_TYPES] = {
  [TCD_EVENT_MEASUREMENT] = {"measurement",
      "the readings of every rule and the scene (as GET /temperatures), once a second while "
      "thermometry is on and someone listens"},
  [TCD_EVENT_ALARM] = {"alarm",
      "source rule, comparison, input, scene or environment: state start|stop, level "
      "alarm|pre_alarm, value, threshold, at [x, y], delay_ms; below_range, above_range "
      "(rule and scene)"},
  [TCD_EVENT_EXCEPTION] = {"exception",
      "type (network_disconnected, ip_conflict, illegal_login, calibration_changed, ddns, "
      "a pipeline exception), message"},
  [TCD_EVENT_CONFIG] = {"config", "change: what changed (config.SECTION, rules, restore, ...)"},
  [TCD_EVENT_OUTPUT] = {"output", "output: the channel, name, on: true|false, why"},
  [TCD_EVENT_BURNING] = {"burning",
      "source burning_prevention: shutter closed|open, reason, value and threshold when "
      "the temperature closed it"},
  [TCD_EVENT_CAPTURE] = {"capture", "tag: the event that took them, files: their names"},
  [TCD_EVENT_DELIVERY] = {"delivery",
      "id, channel ftp|email|center, state (sent, retrying, dropped), reason, attempts, "
      "the event delivered"},
};

typedef struct {
  guint id, types;
  TcdBusFunc func;
  gpointer data;
} Sub;

struct _TcdBus {
  GArray *subs;                 /* of Sub, in the order they subscribed */
  guint next_id;
  guint64 counts[TCD_EVENT_N_TYPES];
};

const gchar *
tcd_event_type_name (TcdEventType type)
{
  g_return_val_if_fail (type < TCD_EVENT_N_TYPES, NULL);
  return types[type].name;
}

const gchar *
tcd_event_type_doc (TcdEventType type)
{
  g_return_val_if_fail (type < TCD_EVENT_N_TYPES, NULL);
  return types[type].doc;
}

const gchar *
tcd_event_type_list (void)
{
  static gsize once;
  static gchar *list;

  if (g_once_init_enter (&once)) {
    GString *s = g_string_new (NULL);
    for (guint i = 0; i < TCD_EVENT_N_TYPES; i++)
      g_string_append_printf (s, "%s%s", i ? ", " : "", types[i].name);
    list = g_string_free (s, FALSE);
    g_once_init_leave (&once, 1);
  }
  return list;
}

gint
tcd_event_type_from_name (const gchar *name)
{
  for (guint i = 0; name && i < TCD_EVENT_N_TYPES; i++)
    if (strcmp (types[i].name, name) == 0)
      return i;
  return -1;
}

JsonNode *
tcd_event_new (const gchar *source)
{
  JsonObject *o = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (GDateTime) now = tcd_clock_now_utc_dt ();
  g_autofree gchar *t = g_date_time_format_iso8601 (now);

  json_object_set_string_member (o, "time", t);
  json_object_set_string_member (o, "source", source);
  json_node_take_object (n, o);
  return n;
}

JsonNode *
tcd_event_config_new (const gchar *what)
{
  JsonNode *ev = tcd_event_new ("config");
  json_object_set_string_member (json_node_get_object (ev), "change", what);
  return ev;
}

JsonNode *
tcd_event_exception_new (const gchar *kind, const gchar *message)
{
  JsonNode *ev = tcd_event_new ("exception");
  json_object_set_string_member (json_node_get_object (ev), "type", kind);
  json_object_set_string_member (json_node_get_object (ev), "message", message);
  return ev;
}

JsonNode *
tcd_event_alarm_new (const gchar *source, const gchar *id_member, gint64 id, const gchar *name,
    const gchar *level, const gchar *state)
{
  JsonNode *ev = tcd_event_new (source);
  JsonObject *o = json_node_get_object (ev);

  if (id_member)
    json_object_set_int_member (o, id_member, id);
  json_object_set_string_member (o, "name", name);
  json_object_set_string_member (o, "level", level);
  json_object_set_string_member (o, "state", state);
  return ev;
}

JsonNode *
tcd_event_output_new (guint id, const gchar *name, gboolean on, const gchar *why)
{
  JsonNode *ev = tcd_event_new ("output");
  JsonObject *o = json_node_get_object (ev);

  json_object_set_int_member (o, "output", id);
  json_object_set_string_member (o, "name", name);
  json_object_set_boolean_member (o, "on", on);
  json_object_set_string_member (o, "why", why);
  return ev;
}

JsonNode *
tcd_event_burning_new (gboolean closed, const gchar *reason)
{
  JsonNode *ev = tcd_event_new ("burning_prevention");
  JsonObject *o = json_node_get_object (ev);

  json_object_set_string_member (o, "shutter", closed ? "closed" : "open");
  json_object_set_string_member (o, "reason", reason);
  return ev;
}

JsonNode *
tcd_event_capture_new (const gchar *tag, JsonArray *files)
{
  JsonNode *ev = tcd_event_new ("capture");
  JsonObject *o = json_node_get_object (ev);

  json_object_set_string_member (o, "tag", tag);
  json_object_set_array_member (o, "files", files);
  return ev;
}

JsonNode *
tcd_event_delivery_new (const gchar *id, const gchar *channel, const gchar *state,
    const gchar *reason, guint attempts)
{
  JsonNode *ev = tcd_event_new ("delivery");
  JsonObject *o = json_node_get_object (ev);

  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "channel", channel);
  json_object_set_string_member (o, "state", state);
  if (reason)
    json_object_set_string_member (o, "reason", reason);
  json_object_set_int_member (o, "attempts", attempts);
  return ev;
}

TcdBus *
tcd_bus_new (void)
{
  TcdBus *bus = g_new0 (TcdBus, 1);
  bus->subs = g_array_new (FALSE, TRUE, sizeof (Sub));
  return bus;
}

void
tcd_bus_free (TcdBus *bus)
{
  if (!bus)
    return;
  g_array_unref (bus->subs);
  g_free (bus);
}

guint
tcd_bus_subscribe (TcdBus *bus, guint mask, TcdBusFunc func, gpointer user_data)
{
  Sub s = { ++bus->next_id, mask, func, user_data };
  g_array_append_val (bus->subs, s);
  return s.id;
}

void
tcd_bus_unsubscribe (TcdBus *bus, guint id)
{
  for (guint i = 0; bus && i < bus->subs->len; i++)
    if (g_array_index (bus->subs, Sub, i).id == id) {
      g_array_remove_index (bus->subs, i);
      return;
    }
}

gboolean
tcd_bus_wanted (TcdBus *bus, TcdEventType type)
{
  for (guint i = 0; bus && i < bus->subs->len; i++)
    if (g_array_index (bus->subs, Sub, i).types & TCD_EVENT_MASK (type))
      return TRUE;
  return FALSE;
}

void
tcd_bus_emit (TcdBus *bus, TcdEventType type, JsonNode *event)
{
  g_return_if_fail (type < TCD_EVENT_N_TYPES && event);
  bus->counts[type]++;
  /* by id, so that a subscriber that unsubscribes (itself or another)
   * from its callback does not upset the walk */
  for (guint id = 0, i = 0; i < bus->subs->len;) {
    Sub s = g_array_index (bus->subs, Sub, i);
    if (s.id <= id) {
      i++;
      continue;
    }
    id = s.id;
    if (s.types & TCD_EVENT_MASK (type))
      s.func (type, event, s.data);
    /* find the next one after @id again: the array may have changed */
    for (i = 0; i < bus->subs->len && g_array_index (bus->subs, Sub, i).id <= id; i++);
  }
  json_node_unref (event);
}

JsonNode *
tcd_bus_stats (TcdBus *bus)
{
  JsonObject *o = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);

  for (guint i = 0; i < TCD_EVENT_N_TYPES; i++)
    json_object_set_int_member (o, types[i].name, bus->counts[i]);
  json_node_take_object (n, o);
  return n;
}
