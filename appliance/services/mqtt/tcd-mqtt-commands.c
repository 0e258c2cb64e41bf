/* thermocamd: MQTT's retained states, Home Assistant discovery on the
 * broker, and the commands that come from it (tcd-mqtt.h lists the topics)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-mqtt-private.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "tc-json.h"
#include "tcd-error.h"

#define COMMAND_MAX_BYTES 64            /* a command's payload */
#define COMMANDS_PER_S 10               /* more are refused */
#define HA_SETTLE_S 2                   /* Home Assistant's "online"s in this time: one answer */

/* ---- states (retained) ---- */

void
mq_publish_alarm (TcdMqtt *m, const gchar *key, const gchar *value)
{
  g_autofree gchar *t = mq_topic (m, "alarm/%s", key);
  mq_publish (m, t, value, mq_qos_of (m, "state"), TRUE, NULL);
}

void
mq_publish_settings_state (TcdMqtt *m)
{
  JsonNode *rules = tcd_config_get_section (m->ctx->config, "rules");
  g_autofree gchar *et = mq_topic (m, "emissivity");
  g_autoptr (GHashTable) now = g_hash_table_new (NULL, NULL);
  gchar num[G_ASCII_DTOSTR_BUF_SIZE];
  gint qos = mq_qos_of (m, "state");
  GHashTableIter it;
  gpointer k;

  g_ascii_formatd (num, sizeof num, "%.2f", tcd_config_double (m->ctx->config,
          "thermometry.emissivity"));
  mq_publish (m, et, num, qos, TRUE, NULL);
  for (guint i = 0; rules && JSON_NODE_HOLDS_ARRAY (rules)
      && i < json_array_get_length (json_node_get_array (rules)); i++) {
    JsonObject *r = tc_json_array_get_object (json_node_get_array (rules), i);
    gint64 id = tc_json_get_int (r, "id", -1);
    g_autofree gchar *t = NULL;
    if (id < 0 || id > G_MAXINT)
      continue;
    g_hash_table_add (now, GINT_TO_POINTER ((gint) id));
    t = mq_topic (m, "rule/%" G_GINT64_FORMAT "/enabled", id);
    mq_publish (m, t, tc_json_get_bool (r, "enabled", TRUE) ? "ON" : "OFF", qos, TRUE, NULL);
  }
  /* a rule deleted: its retained states go (an empty retained message) */
  g_hash_table_iter_init (&it, m->state_rules);
  while (g_hash_table_iter_next (&it, &k, NULL)) {
    gint id = GPOINTER_TO_INT (k);
    g_autofree gchar *en = NULL, *al = NULL, *key = NULL;
    if (g_hash_table_contains (now, k))
      continue;
    en = mq_topic (m, "rule/%d/enabled", id);
    al = mq_topic (m, "alarm/rule/%d", id);
    key = g_strdup_printf ("rule/%d", id);
    mq_publish (m, en, NULL, qos, TRUE, NULL);
    mq_publish (m, al, NULL, qos, TRUE, NULL);
    g_hash_table_remove (m->alarms, key);
  }
  g_hash_table_remove_all (m->state_rules);
  g_hash_table_iter_init (&it, now);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_hash_table_add (m->state_rules, k);
}

/* ---- discovery ---- */

static gchar *
page_url (TcdMqtt *m)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  guint port = tcd_services_port (m->ctx->services, "http");
  gint fd = mosquitto_socket (m->mosq);
  gchar host[INET6_ADDRSTRLEN] = "";

  /* the address the broker sees the camera at is where its page is */
  if (!port || fd < 0 || getsockname (fd, (struct sockaddr *) &ss, &len) != 0)
    return NULL;
  if (ss.ss_family == AF_INET)
    inet_ntop (AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, host, sizeof host);
  else if (ss.ss_family == AF_INET6) {
    gchar a[INET6_ADDRSTRLEN];
    inet_ntop (AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, a, sizeof a);
    g_snprintf (host, sizeof host, "[%s]", a);
  }
  return *host ? g_strdup_printf ("http://%s:%u/", host, port) : NULL;
}

static void
discovered_save (TcdMqtt *m)
{
  g_autoptr (JsonArray) a = json_array_new ();
  g_autoptr (JsonNode) n = json_node_new (JSON_NODE_ARRAY);
  g_autofree gchar *text = NULL, *path = g_build_filename (m->dir, "discovered.json", NULL);
  GHashTableIter it;
  gpointer k;

  g_hash_table_iter_init (&it, m->discovered);
  while (g_hash_table_iter_next (&it, &k, NULL))
    json_array_add_string_element (a, k);
  json_node_set_array (n, a);
  text = tcd_json_to_string (n, FALSE);
  g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL);
}

void
mq_discovered_load (TcdMqtt *m)
{
  g_autofree gchar *path = g_build_filename (m->dir, "discovered.json", NULL);
  g_autoptr (JsonNode) n = tc_json_parse_file (path, 1024 * 1024, 0, NULL);

  for (guint i = 0; n && JSON_NODE_HOLDS_ARRAY (n)
      && i < json_array_get_length (json_node_get_array (n)); i++) {
    const gchar *t = tc_json_array_get_string (json_node_get_array (n), i);
    if (t)
      g_hash_table_add (m->discovered, g_strdup (t));
  }
}

/* the discovery messages; an entity no longer there (a rule deleted) is
 * removed with an empty retained message on its topic */
void
mq_publish_discovery (TcdMqtt *m)
{
  JsonObject *d = mq_cfg_object (m, "discovery");
  g_autoptr (GHashTable) msgs = NULL;
  g_autofree gchar *page = NULL;
  g_autoptr (GList) gone = NULL;
  GHashTableIter it;
  gpointer k, v;
  gint qos = mq_qos_of (m, "state");
  gboolean on = tc_json_get_bool (d, "enabled", TRUE), changed = FALSE;

  if (m->state != ST_CONNECTED)
    return;
  if (on) {
    page = page_url (m);
    msgs = tcd_mqtt_ha_messages (tcd_config_get (m->ctx->config), m->ctx->serial,
        g_str_has_prefix (m->ctx->source, "sim") ? "thermocam TC-640 (simulated sensor)"
        : "thermocam TC-640", m->base, page);
  } else {
    msgs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  }
  g_hash_table_iter_init (&it, m->discovered);
  while (g_hash_table_iter_next (&it, &k, NULL))
    if (!g_hash_table_contains (msgs, k))
      gone = g_list_prepend (gone, k);
  for (GList *l = gone; l; l = l->next) {
    mq_publish (m, l->data, NULL, qos, TRUE, NULL);
    g_hash_table_remove (m->discovered, l->data);
  }
  g_hash_table_iter_init (&it, msgs);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (mq_publish (m, k, v, qos, TRUE, NULL) && !g_hash_table_contains (m->discovered, k)) {
      g_hash_table_add (m->discovered, g_strdup (k));
      changed = TRUE;
    }
  /* written only when the set changed (not at each republication) */
  if (changed || gone)
    discovered_save (m);
}

/* ---- commands ---- */

static void
answer (TcdMqtt *m, const gchar *command, const GError *error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) n = NULL;
  g_autofree gchar *t = mq_topic (m, "result");
  const gchar *field = error ? tcd_error_get_field (error) : NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "command");
  json_builder_add_string_value (b, command);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, error == NULL);
  if (error) {
    json_builder_set_member_name (b, "error");
    json_builder_add_string_value (b, error->message);
    if (field) {
      json_builder_set_member_name (b, "field");
      json_builder_add_string_value (b, field);
    }
  }
  json_builder_end_object (b);
  n = json_builder_get_root (b);
  mq_publish_node (m, t, n, mq_qos_of (m, "state"), FALSE);
}

static TcdOrigin
origin (TcdMqtt *m, const gchar *what)
{
  TcdOrigin o = { what, "mqtt", mq_cfg_string (m, "server"), "mqtt" };
  return o;
}

static gboolean
set_emissivity (TcdMqtt *m, const gchar *text, GError **error)
{
  gchar *end = NULL;
  gdouble v = g_ascii_strtod (text, &end);
  g_autoptr (JsonObject) p = json_object_new ();
  g_autoptr (JsonNode) patch = json_node_new (JSON_NODE_OBJECT);
  TcdOrigin o = origin (m, "config.thermometry");

  if (!*text || !end || *end || !isfinite (v)) {
    tcd_change_refuse (error, "thermometry.emissivity", "emissivity: \"%s\" is not a number",
        text);
    return FALSE;
  }
  json_object_set_double_member (p, "emissivity", v);
  json_node_set_object (patch, p);
  return tcd_change_commit (m->ctx->change, tcd_change_patched (m->ctx->change, "thermometry",
          patch), &o, TCD_CHANGE_SKIP_UNCHANGED, NULL, error);
}

static gboolean
set_rule_enabled (TcdMqtt *m, gint64 id, const gchar *text, GError **error)
{
  g_autoptr (JsonNode) rules = tcd_json_deep_copy (tcd_config_get_section (m->ctx->config,
          "rules"));
  g_autofree gchar *field = g_strdup_printf ("rules.%" G_GINT64_FORMAT ".enabled", id);
  TcdOrigin o = origin (m, "rules");
  gboolean on = g_str_equal (text, "ON"), found = FALSE;

  if (!on && !g_str_equal (text, "OFF")) {
    tcd_change_refuse (error, field, "a rule is switched with ON or OFF, not \"%s\"", text);
    return FALSE;
  }
  for (guint i = 0; JSON_NODE_HOLDS_ARRAY (rules)
      && i < json_array_get_length (json_node_get_array (rules)); i++) {
    JsonObject *r = tc_json_array_get_object (json_node_get_array (rules), i);
    if (r && tc_json_get_int (r, "id", -1) == id) {
      json_object_set_boolean_member (r, "enabled", on);
      found = TRUE;
    }
  }
  if (!found) {
    tcd_change_refuse (error, field, "there is no rule %" G_GINT64_FORMAT, id);
    return FALSE;
  }
  return tcd_change_commit (m->ctx->change, tcd_change_patched (m->ctx->change, "rules", rules),
      &o, TCD_CHANGE_SKIP_UNCHANGED, NULL, error);
}

static gboolean
ffc (TcdMqtt *m, const gchar *text, GError **error)
{
  TcdOrigin o = origin (m, "ffc");
  gint64 wait_us = 0;

  if (!g_str_equal (text, "PRESS")) {
    tcd_change_refuse (error, "ffc", "the flat-field correction is asked with PRESS, not \"%s\"",
        text);
    return FALSE;
  }
  if (!tcd_commands_ffc (m->ctx->commands, &o, &wait_us)) {
    tcd_change_refuse (error, "ffc", "a flat-field correction ran less than 5 s ago: "
        "again in %.1f s", wait_us / 1e6);
    return FALSE;
  }
  return TRUE;
}

static void
command (TcdMqtt *m, const gchar *what, const gchar *text)
{
  g_autoptr (GError) err = NULL;
  gint64 now = g_get_monotonic_time (), id;
  gchar *end;

  if (!tc_json_get_bool (json_node_get_object (m->cfg), "commands", FALSE)) {
    tcd_change_refuse (&err, "mqtt.commands", "commands from the broker are off (mqtt.commands)");
  } else {
    if (now - m->command_window > G_USEC_PER_SEC) {
      m->command_window = now;
      m->command_count = 0;
    }
    if (++m->command_count > COMMANDS_PER_S)
      tcd_change_refuse (&err, NULL, "more than %d commands a second: refused", COMMANDS_PER_S);
    else if (g_str_equal (what, "emissivity"))
      set_emissivity (m, text, &err);
    else if (g_str_equal (what, "ffc"))
      ffc (m, text, &err);
    else if (g_str_has_prefix (what, "rule/") && g_ascii_isdigit (what[5])
        && (id = g_ascii_strtoll (what + 5, &end, 10)) >= 0 && g_str_equal (end, "/enabled"))
      set_rule_enabled (m, id, text, &err);
    else
      tcd_change_refuse (&err, NULL, "no such command");
  }
  if (err) {
    m->refused_commands++;
    g_message ("MQTT: command %s refused: %s", what, err->message);
  }
  answer (m, what, err);
}

/* Home Assistant (re)started, and forgot what was not retained: one
 * republication for however many "online"s came in HA_SETTLE_S */
static gboolean
ha_online (gpointer data)
{
  TcdMqtt *m = data;

  m->ha_id = 0;
  mq_publish_discovery (m);
  mq_publish_settings_state (m);
  return G_SOURCE_REMOVE;
}

void
mq_on_message (struct mosquitto *mosq, void *data, const struct mosquitto_message *msg)
{
  TcdMqtt *m = data;
  const gchar *prefix = tc_json_get_string (mq_cfg_object (m, "discovery"), "prefix", "homeassistant");
  g_autofree gchar *ha_status = g_strdup_printf ("%s/status", prefix);
  g_autofree gchar *text = NULL, *what = NULL;
  gsize blen = strlen (m->base);

  if (!msg->topic)
    return;
  if (msg->payloadlen < 0 || msg->payloadlen > COMMAND_MAX_BYTES) {
    g_message ("MQTT: a message of %d bytes on %s: ignored", msg->payloadlen, msg->topic);
    return;
  }
  text = g_strndup (msg->payload, msg->payloadlen);
  if (!g_utf8_validate (text, -1, NULL))
    return;
  g_strstrip (text);
  if (g_str_equal (msg->topic, ha_status)) {
    /* Home Assistant (re)started: it forgets what it was not kept */
    if (g_str_equal (text, "online") && !m->ha_id)
      m->ha_id = g_timeout_add_seconds (HA_SETTLE_S, ha_online, m);
    return;
  }
  if (strncmp (msg->topic, m->base, blen) != 0 || msg->topic[blen] != '/'
      || !g_str_has_suffix (msg->topic, "/set"))
    return;
  what = g_strndup (msg->topic + blen + 1, strlen (msg->topic) - blen - 1 - 4);
  command (m, what, text);
}

