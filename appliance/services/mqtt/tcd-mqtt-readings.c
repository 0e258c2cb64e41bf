/* thermocamd: MQTT's readings: a frame's scene and each rule as JSON texts
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Per-frame code (up to every frame, 40 rules): the texts are written into
 * one reused buffer straight from the frame's measurement meta, with no JSON
 * tree per frame.  They hold the members of GET /temperatures' readings
 * (tcd-readings.c) plus "time", each number at its resolution (tcd-json.h)
 * in its shortest form; a rule's name is escaped by json-glib once, and
 * again only when it changes.
 */
#include "tcd-mqtt-private.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "gstthermalmeta.h"
#include "tcd-clock.h"
#include "tcd-json.h"

typedef struct {
  gchar raw[GST_THERMAL_NAME_LEN];
  gchar *json;                  /* "name", quoted and escaped */
  gchar *topic;                 /* BASE/rule/ID */
} RuleText;

static const gchar *const state_names[] = { "normal", "pre_alarm", "alarm" };

static void
rule_text_free (gpointer p)
{
  RuleText *t = p;
  g_free (t->json);
  g_free (t->topic);
  g_free (t);
}

/* @v at the resolution of @key, shortest: 85.10 -> 85.1, 12.00 -> 12 */
static void
number (GString *s, const gchar *key, gdouble v)
{
  static const gchar *const formats[] = { "%.0f", "%.1f", "%.2f", "%.3f", "%.4f", "%.5f", "%.6f" };
  gint dec = CLAMP (tcd_json_decimals (key), 0, 6);
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  gsize n;

  if (!isfinite (v)) {
    g_string_append (s, "null");
    return;
  }
  g_ascii_formatd (buf, sizeof buf, formats[dec], v);
  n = strlen (buf);
  if (strchr (buf, '.')) {
    while (n > 0 && buf[n - 1] == '0')
      buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
      buf[--n] = '\0';
  }
  g_string_append (s, strcmp (buf, "-0") == 0 ? "0" : buf);
}

static void
member (GString *s, const gchar *key, gdouble v)
{
  g_string_append_printf (s, ",\"%s\":", key);
  number (s, key, v);
}

static void
position (GString *s, const gchar *key, const gdouble at[2])
{
  g_string_append_printf (s, ",\"%s\":[", key);
  number (s, key, at[0]);
  g_string_append_c (s, ',');
  number (s, key, at[1]);
  g_string_append_c (s, ']');
}

static void
values (GString *s, gdouble max, gdouble min, gdouble avg, const gdouble max_at[2],
    const gdouble min_at[2], gdouble lo, gdouble hi)
{
  member (s, "max", max);
  member (s, "min", min);
  member (s, "avg", avg);
  position (s, "max_at", max_at);
  position (s, "min_at", min_at);
  g_string_append_printf (s, ",\"below_range\":%s,\"above_range\":%s",
      min < lo ? "true" : "false", max > hi ? "true" : "false");
}

static RuleText *
rule_text (TcdMqtt *m, const GstThermalRuleResult *r)
{
  RuleText *t = g_hash_table_lookup (m->rule_texts, GINT_TO_POINTER (r->id));

  if (!t) {
    t = g_new0 (RuleText, 1);
    t->topic = mq_topic (m, "rule/%d", r->id);
    g_hash_table_insert (m->rule_texts, GINT_TO_POINTER (r->id), t);
  }
  if (!t->json || strncmp (t->raw, r->name, sizeof t->raw) != 0) {
    g_autoptr (JsonNode) n = json_node_new (JSON_NODE_VALUE);
    /* the meta's copy may cut a long name inside a character */
    g_autofree gchar *name = g_utf8_make_valid (r->name, strnlen (r->name, sizeof r->name));
    json_node_set_string (n, name);
    g_free (t->json);
    t->json = json_to_string (n, FALSE);
    g_strlcpy (t->raw, r->name, sizeof t->raw);
  }
  return t;
}

void
mq_readings_publish (TcdMqtt *m, GstBuffer *buf, gdouble lo, gdouble hi)
{
  GstThermalMeasureMeta *mm = gst_buffer_get_thermal_measure_meta (buf);
  gint64 now = tcd_clock_now_utc ();
  time_t secs = now / G_USEC_PER_SEC;
  struct tm tm;
  gchar time_text[40];
  gint qos = mq_qos_of (m, "readings");
  GString *s = m->text;

  if (!mm)
    return;
  gmtime_r (&secs, &tm);
  strftime (time_text, sizeof time_text, "%Y-%m-%dT%H:%M:%S", &tm);
  g_snprintf (time_text + strlen (time_text), sizeof time_text - strlen (time_text), ".%03dZ",
      (gint) (now % G_USEC_PER_SEC / 1000));
  if (!m->scene_topic)
    m->scene_topic = mq_topic (m, "scene");

  g_string_printf (s, "{\"time\":\"%s\",\"valid\":%s", time_text, mm->valid ? "true" : "false");
  values (s, mm->max, mm->min, mm->avg, mm->max_at, mm->min_at, lo, hi);
  g_string_append_printf (s, ",\"state\":\"%s\"}", state_names[mm->scene_state % 3]);
  mq_publish (m, m->scene_topic, s->str, qos, FALSE, NULL);

  for (guint i = 0; i < MIN (mm->n_rules, GST_THERMAL_MAX_RULES); i++) {
    const GstThermalRuleResult *r = &mm->rules[i];
    RuleText *t = rule_text (m, r);

    g_string_printf (s, "{\"time\":\"%s\",\"id\":%d,\"name\":%s,\"valid\":%s", time_text,
        r->id, t->json, r->valid ? "true" : "false");
    if (r->valid)
      values (s, r->max, r->min, r->avg, r->max_at, r->min_at, lo, hi);
    g_string_append_printf (s, ",\"state\":\"%s\"}", state_names[r->state % 3]);
    mq_publish (m, t->topic, s->str, qos, FALSE, NULL);
  }
}

void
mq_readings_reset (TcdMqtt *m)
{
  if (!m->rule_texts)
    m->rule_texts = g_hash_table_new_full (NULL, NULL, NULL, rule_text_free);
  g_hash_table_remove_all (m->rule_texts);
  g_clear_pointer (&m->scene_topic, g_free);
  if (!m->text)
    m->text = g_string_sized_new (512);
}

void
mq_readings_free (TcdMqtt *m)
{
  g_clear_pointer (&m->rule_texts, g_hash_table_unref);
  g_clear_pointer (&m->scene_topic, g_free);
  if (m->text)
    g_string_free (m->text, TRUE);
  m->text = NULL;
}
