/* thermocamd: MQTT's readings: a frame's scene and each rule as JSON texts
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Per-frame code (up to every frame, 40 rules): the texts are written into
 * one reused buffer straight from the frame's measurement meta, with no JSON
 * tree per frame.  They hold the members of GET /temperatures' readings
 * (tcd-readings.c) plus "time", each number at its resolution (tcd-json.h)
 * in its shortest form; a rule's name is escaped by json-glib once, and
 * again only when it changes.
 *
 * libmosquitto writes each message at once (one send() each, outside its
 * own thread); the frame's messages are corked into as few TCP segments
 * as fit, so that 41 messages cost one trip through the network stack
 * (on loopback the receiver's side of it is charged to this process).
 */
#include "tcd-mqtt-private.h"

#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "gstthermalmeta.h"
#include "tcd-clock.h"
#include "tcd-json.h"

typedef struct {
  gchar raw[GST_THERMAL_NAME_LEN];
  gchar *head;                  /* ","id":ID,"name":"NAME" (quoted, escaped) */
  gchar *topic;                 /* BASE/rule/ID */
} RuleText;

static const gchar *const state_names[] = { "normal", "pre_alarm", "alarm" };

static void
rule_text_free (gpointer p)
{
  RuleText *t = p;
  g_free (t->head);
  g_free (t->topic);
  g_free (t);
}

/* the resolutions of a reading's members (tcd-json.h), looked up once */
typedef struct {
  gint temperature;
  gint position;
} Decimals;

static const Decimals *
decimals (void)
{
  static Decimals d;
  static gsize once;

  if (g_once_init_enter (&once)) {
    d.temperature = CLAMP (tcd_json_decimals ("max"), 0, 6);
    d.position = CLAMP (tcd_json_decimals ("max_at"), 0, 6);
    g_once_init_leave (&once, 1);
  }
  return &d;
}

/* @v rounded to @dec decimals as the API rounds it (tcd_json_round_tree:
 * half away from zero), in its shortest form: 85.10 -> 85.1, 12.00 -> 12.
 * Written by hand: printf's "%.Nf" cost more than the rest of the frame's
 * messages together, and rounds halves to even */
static void
number (GString *s, gint dec, gdouble v)
{
  static const gdouble scale[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6 };
  gchar buf[32], *p = buf + sizeof buf;
  gdouble r;
  guint64 u;
  gboolean negative;

  if (!isfinite (v)) {
    g_string_append (s, "null");
    return;
  }
  r = round (v * scale[dec]);
  if (fabs (r) >= 9e15) {       /* past exact integers: not a reading */
    g_string_append (s, "null");
    return;
  }
  negative = r < 0;
  u = (guint64) fabs (r);
  while (dec > 0 && u % 10 == 0) {
    u /= 10;
    dec--;
  }
  for (gint i = 0; i < dec; i++) {
    *--p = '0' + u % 10;
    u /= 10;
  }
  if (dec > 0)
    *--p = '.';
  do {
    *--p = '0' + u % 10;
    u /= 10;
  } while (u);
  if (negative && !(p[0] == '0' && p + 1 == buf + sizeof buf))
    *--p = '-';
  g_string_append_len (s, p, buf + sizeof buf - p);
}

static void
member (GString *s, const gchar *head, gint dec, gdouble v)
{
  g_string_append (s, head);
  number (s, dec, v);
}

static void
position (GString *s, const gchar *head, gint dec, const gdouble at[2])
{
  g_string_append (s, head);
  number (s, dec, at[0]);
  g_string_append_c (s, ',');
  number (s, dec, at[1]);
  g_string_append_c (s, ']');
}

static void
values (GString *s, gdouble max, gdouble min, gdouble avg, const gdouble max_at[2],
    const gdouble min_at[2], gdouble lo, gdouble hi)
{
  const Decimals *d = decimals ();

  member (s, ",\"max\":", d->temperature, max);
  member (s, ",\"min\":", d->temperature, min);
  member (s, ",\"avg\":", d->temperature, avg);
  position (s, ",\"max_at\":[", d->position, max_at);
  position (s, ",\"min_at\":[", d->position, min_at);
  g_string_append (s, min < lo ? ",\"below_range\":true" : ",\"below_range\":false");
  g_string_append (s, max > hi ? ",\"above_range\":true" : ",\"above_range\":false");
}

static void
state (GString *s, gint st)
{
  g_string_append (s, ",\"state\":\"");
  g_string_append (s, state_names[st % 3]);
  g_string_append (s, "\"}");
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
  if (!t->head || strncmp (t->raw, r->name, sizeof t->raw) != 0) {
    g_autoptr (JsonNode) n = json_node_new (JSON_NODE_VALUE);
    /* the meta's copy may cut a long name inside a character */
    g_autofree gchar *name = g_utf8_make_valid (r->name, strnlen (r->name, sizeof r->name));
    g_autofree gchar *json = NULL;

    json_node_set_string (n, name);
    json = json_to_string (n, FALSE);
    g_free (t->head);
    t->head = g_strdup_printf ("\",\"id\":%d,\"name\":%s", r->id, json);
    g_strlcpy (t->raw, r->name, sizeof t->raw);
  }
  return t;
}

/* TCP_CORK: on, the messages wait in the socket; off, they leave together
 * (a failure, as on a socket that is not TCP, only costs the saving) */
static void
cork (TcdMqtt *m, gboolean on)
{
  gint fd = mosquitto_socket (m->mosq);
  gint v = on;

  if (fd >= 0)
    (void) setsockopt (fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v);
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
  cork (m, TRUE);

  g_string_assign (s, "{\"time\":\"");
  g_string_append (s, time_text);
  g_string_append (s, mm->valid ? "\",\"valid\":true" : "\",\"valid\":false");
  /* the closed shutter's numbers are no reading: not flagged */
  values (s, mm->max, mm->min, mm->avg, mm->max_at, mm->min_at,
      mm->valid ? lo : -G_MAXDOUBLE, mm->valid ? hi : G_MAXDOUBLE);
  state (s, mm->scene_state);
  mq_publish (m, m->scene_topic, s->str, qos, FALSE, NULL);

  for (guint i = 0; i < MIN (mm->n_rules, GST_THERMAL_MAX_RULES); i++) {
    const GstThermalRuleResult *r = &mm->rules[i];
    RuleText *t = rule_text (m, r);

    g_string_assign (s, "{\"time\":\"");
    g_string_append (s, time_text);
    g_string_append (s, t->head);
    g_string_append (s, r->valid ? ",\"valid\":true" : ",\"valid\":false");
    if (r->valid)
      values (s, r->max, r->min, r->avg, r->max_at, r->min_at, lo, hi);
    state (s, r->state);
    mq_publish (m, t->topic, s->str, qos, FALSE, NULL);
  }
  cork (m, FALSE);
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
