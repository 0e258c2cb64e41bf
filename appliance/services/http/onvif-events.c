/* thermocamd: ONVIF events (ver10, tev): pull-point subscriptions fed by
 * the daemon's event bus
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GetEventProperties (the topic set below), CreatePullPointSubscription,
 * PullMessages, Renew, Unsubscribe, SetSynchronizationPoint.  A
 * subscription's manager is /onvif/events_service?subscription=ID (ID
 * random, usable only by the user who made it).
 *
 * Bounds: at most MAX_PULLPOINTS subscriptions (then a fault,
 * ter:CapabilityViolated/ter:MaxPullPoints); each lives until its
 * termination time (at most MAX_TERMINATION_S ahead, Renew moves it) and is
 * then gone; each keeps at most MAX_QUEUE messages (the oldest go first);
 * PullMessages waits at most MAX_WAIT_S (under the HTTP answer deadline)
 * and returns at most MAX_MESSAGES.
 *
 * Topics (temperatures in kelvin):
 *   tns1:RuleEngine/Radiometry/TemperatureAlarm   property; Source: video
 *       source configuration, analytics configuration, Rule (a rule's
 *       ONVIF name, "Scene", "Environment", "comparison:NAME"), Level
 *       (Alarm, PreAlarm); Data: State, Value, Threshold
 *   tns1:VideoSource/RadiometryAlarm              property (ONVIF Thermal's
 *       basic event): State, true while any temperature alarm is on
 *   tns1:Device/Trigger/DigitalInput              property: the alarm
 *       inputs (InputToken AlarmIn_N, LogicalState)
 *   tns1:Device/Trigger/Relay                     property: the alarm
 *       outputs (RelayToken AlarmOut_N, LogicalState active|inactive)
 *   tns1:VideoAnalytics/Radiometry/SpotTemperatureReading and
 *   .../BoxTemperatureReading                     the readings of point rules
 *       and of the other rules (and the scene), once a second; only to a
 *       subscription whose filter names them (they would drown the alarms)
 *   tcd:Device/Exception                          the device exceptions
 *       (manual 4.2): Type, Message, State (start, stop; absent for a
 *       one-off such as an illegal login)
 *   tcd:Device/BurningPrevention                  property: ShutterClosed,
 *       Reason (manual 4.3)
 * A new subscription (and SetSynchronizationPoint) first gets the current
 * state of every property (PropertyOperation="Initialized").
 */
#include "onvif-events.h"

#include <string.h>

#include "tc-json.h"
#include "tcd-clock.h"

#define D(name, type) "<tt:SimpleItemDescription Name=\"" name "\" Type=\"" type "\"/>"
#define SRC_ANALYTICS D ("VideoSourceConfigurationToken", "tt:ReferenceToken") \
  D ("VideoAnalyticsConfigurationToken", "tt:ReferenceToken")

/* in the order of the topic tree (GetEventProperties nests them) */
const Topic ev_topics[N_TOPICS] = {
  [T_TEMPERATURE_ALARM] = { "tns1", "RuleEngine/Radiometry/TemperatureAlarm", TRUE, FALSE,
    SRC_ANALYTICS D ("Rule", "xs:string") D ("Level", "xs:string"),
    D ("State", "xs:boolean") D ("Value", "xs:float") D ("Threshold", "xs:float") },
  [T_RADIOMETRY_ALARM] = { "tns1", "VideoSource/RadiometryAlarm", TRUE, FALSE,
    D ("VideoSource", "tt:ReferenceToken"), D ("State", "xs:boolean") },
  [T_DIGITAL_INPUT] = { "tns1", "Device/Trigger/DigitalInput", TRUE, FALSE,
    D ("InputToken", "tt:ReferenceToken"), D ("LogicalState", "xs:boolean") },
  [T_RELAY] = { "tns1", "Device/Trigger/Relay", TRUE, FALSE,
    D ("RelayToken", "tt:ReferenceToken"), D ("LogicalState", "tt:RelayLogicalState") },
  [T_SPOT] = { "tns1", "VideoAnalytics/Radiometry/SpotTemperatureReading", FALSE, TRUE,
    SRC_ANALYTICS, "<tt:ElementItemDescription Name=\"Reading\" "
    "Type=\"ttr:SpotTemperatureReading\"/>" },
  [T_BOX] = { "tns1", "VideoAnalytics/Radiometry/BoxTemperatureReading", FALSE, TRUE,
    SRC_ANALYTICS, "<tt:ElementItemDescription Name=\"Reading\" "
    "Type=\"ttr:BoxTemperatureReading\"/>" },
  [T_EXCEPTION] = { "tcd", "Device/Exception", FALSE, FALSE,
    NULL, D ("Type", "xs:string") D ("Message", "xs:string") D ("State", "xs:string") },
  [T_BURNING] = { "tcd", "Device/BurningPrevention", TRUE, FALSE,
    D ("VideoSource", "tt:ReferenceToken"), D ("ShutterClosed", "xs:boolean")
    D ("Reason", "xs:string") },
};

const gchar *
ev_topic_ns (TopicId t)
{
  return g_str_equal (ev_topics[t].prefix, "tns1") ? NS_TNS1 : ONVIF_NS_TCD_TOPICS;
}

/* the current state of a property instance */

/* ---- messages ---- */


void
ev_item (GString *s, const gchar *name, const gchar *value)
{
  g_autofree gchar *v = g_markup_escape_text (value, -1);

  g_string_append_printf (s, "<tt:SimpleItem Name=\"%s\" Value=\"%s\"/>", name, v);
}

void
ev_item_kelvin (GString *s, const gchar *name, gdouble celsius)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  ev_item (s, name, g_ascii_formatd (buf, sizeof buf, "%.2f", celsius + ONVIF_KELVIN));
}

GRefString *
ev_render (TopicId t, const gchar *operation, gint64 time_us, const gchar *source,
        const gchar *data)
{
  g_autoptr (GString) s = g_string_new ("<wsnt:NotificationMessage><wsnt:Topic Dialect=\""
      DIALECT_CONCRETE_SET "\"");
  g_autofree gchar *when = onvif_datetime (time_us);
  GRefString *ref;

  if (!g_str_equal (ev_topics[t].prefix, "tns1"))
    g_string_append_printf (s, " xmlns:%s=\"%s\"", ev_topics[t].prefix, ev_topic_ns (t));
  g_string_append_printf (s, ">%s:%s</wsnt:Topic><wsnt:Message><tt:Message UtcTime=\"%s\"",
      ev_topics[t].prefix, ev_topics[t].path, when);
  if (operation)
    g_string_append_printf (s, " PropertyOperation=\"%s\"", operation);
  g_string_append (s, ">");
  if (source && *source)
    g_string_append_printf (s, "<tt:Source>%s</tt:Source>", source);
  g_string_append_printf (s, "<tt:Data>%s</tt:Data></tt:Message></wsnt:Message>"
      "</wsnt:NotificationMessage>", data ? data : "");
  ref = g_ref_string_new (s->str);
  return ref;
}

static void answer_pull (Sub *s);

static gboolean
pull_idle (gpointer data)
{
  Sub *s = data;

  s->wait_idle = 0;
  answer_pull (s);
  return G_SOURCE_REMOVE;
}

void
ev_enqueue (Events *ev, Sub *s, GRefString *m)
{
  if (s->queue.length >= MAX_QUEUE) {
    g_ref_string_release (g_queue_pop_head (&s->queue));
    s->dropped++;
    ev->dropped++;
  }
  g_queue_push_tail (&s->queue, g_ref_string_acquire (m));
  /* a waiting PullMessages gets what came in this turn of the loop */
  if (s->wait && !s->wait_idle)
    s->wait_idle = g_idle_add (pull_idle, s);
}

void
ev_publish (Events *ev, TopicId t, const gchar *operation, const gchar *source, const gchar *data)
{
  GHashTableIter it;
  Sub *s;
  GRefString *m = NULL;

  g_hash_table_iter_init (&it, ev->subs);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &s)) {
    if (!(s->mask & (1u << t)))
      continue;
    if (!m)
      m = ev_render (t, operation, tcd_clock_now_utc (), source, data);
    ev_enqueue (ev, s, m);
  }
  if (m) {
    ev->messages++;
    g_ref_string_release (m);
  }
}

void
ev_prop_free (Prop *p)
{
  g_free (p->source);
  g_free (p->data);
  g_free (p);
}

gchar *
ev_prop_key (TopicId t, const gchar *source)
{
  return g_strdup_printf ("%d\n%s", t, source ? source : "");
}

/* a property's new state: kept (for new subscriptions) and published when
 * it changed */
void
ev_publish_property (Events *ev, TopicId t, const gchar *source, const gchar *data)
{
  g_autofree gchar *key = ev_prop_key (t, source);
  Prop *p = g_new0 (Prop, 1);

  p->topic = t;
  p->source = g_strdup (source);
  p->data = g_strdup (data);
  g_hash_table_replace (ev->props, g_steal_pointer (&key), p);
  ev_publish (ev, t, "Changed", source, data);
}

/* ---- subscriptions ---- */

static void
wait_end (Sub *s)
{
  if (s->wait_timer)
    g_source_remove (s->wait_timer);
  if (s->wait_idle)
    g_source_remove (s->wait_idle);
  if (s->wait && s->wait_finished)
    g_signal_handler_disconnect (s->wait, s->wait_finished);
  s->wait_timer = s->wait_idle = 0;
  s->wait_finished = 0;
  g_clear_object (&s->wait);
}

static gchar *
pull_answer (Sub *s, guint limit)
{
  g_autoptr (GString) b = g_string_new ("<tev:PullMessagesResponse>");
  g_autofree gchar *now = onvif_datetime (tcd_clock_now_utc ());
  g_autofree gchar *until = onvif_datetime (s->expires_us);

  g_string_append_printf (b, "<tev:CurrentTime>%s</tev:CurrentTime>"
      "<tev:TerminationTime>%s</tev:TerminationTime>", now, until);
  for (guint i = 0; i < limit && s->queue.length; i++) {
    GRefString *m = g_queue_pop_head (&s->queue);
    g_string_append (b, m);
    g_ref_string_release (m);
  }
  g_string_append (b, "</tev:PullMessagesResponse>");
  return g_string_free (g_steal_pointer (&b), FALSE);
}

/* the waiting PullMessages answered with what is queued (maybe nothing) */
static void
answer_pull (Sub *s)
{
  SoupServerMessage *msg;
  g_autofree gchar *body = NULL;

  if (!s->wait)
    return;
  msg = g_object_ref (s->wait);
  body = pull_answer (s, s->wait_limit);
  wait_end (s);
  onvif_send_later (msg, body);
  g_object_unref (msg);
}

static void
sub_free (Sub *s)
{
  if (s->wait) {
    SoupServerMessage *msg = g_object_ref (s->wait);
    wait_end (s);
    onvif_send_fault_later (msg, FALSE, "ter:InvalidArgVal", "ter:ResourceUnknown",
        "the subscription ended");
    g_object_unref (msg);
  }
  g_queue_clear_full (&s->queue, (GDestroyNotify) g_ref_string_release);
  g_free (s->id);
  g_free (s->user);
  g_free (s);
}

static gboolean
expire (gpointer data)
{
  Events *ev = data;
  GHashTableIter it;
  Sub *s;
  gint64 now = tcd_clock_now_utc ();

  g_hash_table_iter_init (&it, ev->subs);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &s))
    if (s->expires_us <= now) {
      g_message ("onvif: subscription %s of %s expired", s->id, s->user ? s->user : "-");
      ev->expired++;
      g_hash_table_iter_remove (&it);
    }
  ev_update_measurement (ev);
  if (g_hash_table_size (ev->subs))
    return G_SOURCE_CONTINUE;
  ev->expire_id = 0;
  return G_SOURCE_REMOVE;
}

/* the subscription a request is addressed to (?subscription=ID), or NULL
 * with the fault set */
static Sub *
sub_of (OnvifRequest *r)
{
  Events *ev = onvif_state (r);
  GUri *uri = soup_server_message_get_uri (r->msg);
  const gchar *query = uri ? g_uri_get_query (uri) : NULL;
  g_autoptr (GHashTable) params = query && strlen (query) < 256
      ? g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL) : NULL;
  const gchar *id = params ? g_hash_table_lookup (params, "subscription") : NULL;
  Sub *s = id ? g_hash_table_lookup (ev->subs, id) : NULL;

  /* another user's is unknown to this one */
  if (s && g_strcmp0 (s->user, r->user) != 0)
    s = NULL;
  if (s && s->expires_us <= tcd_clock_now_utc ())
    s = NULL;
  if (!s)
    onvif_invalid_arg (r, "ter:ResourceUnknown", "no such subscription%s%s (it expired, "
        "was unsubscribed or never was: address a manager "
        "/onvif/events_service?subscription=ID)", id ? " " : "", id ? id : "");
  return s;
}

/* a termination time: an xs:duration from now or an xs:dateTime; 0 with
 * the fault set */
static gint64
termination (OnvifRequest *r, const gchar *text)
{
  gint64 now = tcd_clock_now_utc (), t;

  if (!text || !*text)
    return now + DEFAULT_TERMINATION_S * G_USEC_PER_SEC;
  if (text[0] == 'P' || (text[0] == '-' && text[1] == 'P')) {
    gint64 s = onvif_parse_duration (text);
    if (s < 0)
      return onvif_invalid_arg (r, "wsnt:UnacceptableTerminationTimeFault",
          "termination time %s: not a duration", text), 0;
    t = now + MAX (s, 1) * G_USEC_PER_SEC;
  } else {
    g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
    g_autoptr (GDateTime) dt = strlen (text) < 64 ? g_date_time_new_from_iso8601 (text, utc)
        : NULL;
    if (!dt)
      return onvif_invalid_arg (r, "wsnt:UnacceptableTerminationTimeFault",
          "termination time %s: neither a duration nor a date and time", text), 0;
    t = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
    if (t <= now)
      return onvif_invalid_arg (r, "wsnt:UnacceptableTerminationTimeFault",
          "termination time %s is past", text), 0;
  }
  return MIN (t, now + (gint64) MAX_TERMINATION_S * G_USEC_PER_SEC);
}

/* the topics a filter's expressions name (all but the readings when none) */
static gboolean
filter_mask (OnvifRequest *r, xmlNodePtr filter, guint *mask)
{
  gboolean any = FALSE;

  *mask = 0;
  for (xmlNodePtr n = onvif_child (filter, NULL); n; n = onvif_next (n, NULL)) {
    g_autofree gchar *dialect = onvif_attr (n, "Dialect");
    g_autofree gchar *text = onvif_text (n);
    g_auto (GStrv) terms = NULL;
    if (!g_str_equal ((const gchar *) n->name, "TopicExpression"))
      return onvif_invalid_arg (r, "wsnt:InvalidFilterFault", "%s: only TopicExpression "
          "filters are supported", (const gchar *) n->name);
    if (dialect && !g_str_equal (dialect, DIALECT_CONCRETE_SET)
        && !g_str_equal (dialect, DIALECT_CONCRETE))
      return onvif_invalid_arg (r, "wsnt:TopicExpressionDialectUnknownFault",
          "topic expression dialect %s: %s only", dialect, DIALECT_CONCRETE_SET);
    any = TRUE;
    terms = g_strsplit (text ? text : "", "|", 64);
    for (guint i = 0; terms[i]; i++) {
      gchar *term = g_strstrip (terms[i]);
      gchar *colon = strchr (term, ':');
      xmlNsPtr ns;
      gsize len;
      guint matched = 0;
      if (g_str_has_suffix (term, "//.") || g_str_has_suffix (term, "//*"))
        term[strlen (term) - 3] = '\0';
      if (!colon || strchr (term, '*'))
        return onvif_invalid_arg (r, "wsnt:InvalidTopicExpressionFault", "topic %s: PREFIX:"
            "Topic/Sub (ConcreteSet) expected", term);
      *colon = '\0';
      ns = xmlSearchNs (n->doc, n, (const xmlChar *) term);
      len = strlen (colon + 1);
      for (guint t = 0; t < N_TOPICS; t++)
        if (ns && g_str_equal ((const gchar *) ns->href, ev_topic_ns (t))
            && g_str_has_prefix (ev_topics[t].path, colon + 1)
            && (ev_topics[t].path[len] == '\0' || ev_topics[t].path[len] == '/'))
          matched |= 1u << t;
      if (!matched)
        return onvif_invalid_arg (r, "wsnt:TopicNotSupportedFault", "topic %s:%s is not one of "
            "this camera's (GetEventProperties)", term, colon + 1);
      *mask |= matched;
    }
  }
  if (!any)
    for (guint t = 0; t < N_TOPICS; t++)
      if (!ev_topics[t].on_request)
        *mask |= 1u << t;
  return TRUE;
}

/* ---- operations ---- */

static void
write_capabilities (OnvifRequest *r)
{
  onvif_raw (r, "<tev:Capabilities WSSubscriptionPolicySupport=\"false\" "
      "WSPullPointSupport=\"false\" WSPausableSubscriptionManagerInterfaceSupport=\"false\" "
      "MaxNotificationProducers=\"0\" MaxPullPoints=\"%d\" "
      "PersistentNotificationStorage=\"false\"/>", MAX_PULLPOINTS);
}

static gboolean
get_capabilities (OnvifRequest *r)
{
  onvif_open (r, "tev:GetServiceCapabilitiesResponse");
  write_capabilities (r);
  onvif_close (r, "tev:GetServiceCapabilitiesResponse");
  return TRUE;
}

static gboolean
get_event_properties (OnvifRequest *r)
{
  g_auto (GStrv) prev = NULL;
  const gchar *prev_prefix = NULL;

  onvif_open (r, "tev:GetEventPropertiesResponse");
  onvif_elem (r, "tev:TopicNamespaceLocation",
      "http://www.onvif.org/onvif/ver10/topics/topicns.xml");
  onvif_elem (r, "wsnt:FixedTopicSet", "true");
  onvif_raw (r, "<wstop:TopicSet xmlns:tcd=\"%s\">", ONVIF_NS_TCD_TOPICS);
  /* the topics in tree order: close what differs from the one before */
  for (guint t = 0; t < N_TOPICS; t++) {
    g_auto (GStrv) parts = g_strsplit (ev_topics[t].path, "/", 8);
    guint common = 0, np = 0, n = g_strv_length (parts);
    if (prev && g_str_equal (prev_prefix, ev_topics[t].prefix))
      while (prev[common] && parts[common] && g_str_equal (prev[common], parts[common]))
        common++;
    np = prev ? g_strv_length (prev) : 0;
    for (guint i = np; i > common; i--)
      onvif_raw (r, "</%s:%s>", prev_prefix, prev[i - 1]);
    for (guint i = common; i < n; i++)
      onvif_raw (r, "<%s:%s wstop:topic=\"%s\">", ev_topics[t].prefix, parts[i],
          i + 1 == n ? "true" : "false");
    onvif_raw (r, "<tt:MessageDescription IsProperty=\"%s\">",
        ev_topics[t].property ? "true" : "false");
    if (ev_topics[t].source)
      onvif_raw (r, "<tt:Source>%s</tt:Source>", ev_topics[t].source);
    onvif_raw (r, "<tt:Data>%s</tt:Data></tt:MessageDescription>", ev_topics[t].data);
    g_strfreev (prev);
    prev = g_steal_pointer (&parts);
    prev_prefix = ev_topics[t].prefix;
  }
  for (guint i = prev ? g_strv_length (prev) : 0; i > 0; i--)
    onvif_raw (r, "</%s:%s>", prev_prefix, prev[i - 1]);
  onvif_raw (r, "</wstop:TopicSet>");
  onvif_elem (r, "wsnt:TopicExpressionDialect", DIALECT_CONCRETE_SET);
  onvif_elem (r, "wsnt:TopicExpressionDialect", DIALECT_CONCRETE);
  onvif_elem (r, "tev:MessageContentFilterDialect",
      "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter");
  onvif_elem (r, "tev:MessageContentSchemaLocation",
      "http://www.onvif.org/onvif/ver10/schema/onvif.xsd");
  onvif_close (r, "tev:GetEventPropertiesResponse");
  return TRUE;
}

static gboolean
create_pull_point (OnvifRequest *r)
{
  Events *ev = onvif_state (r);
  xmlNodePtr filter = onvif_child (r->op, "Filter");
  g_autofree gchar *when = onvif_child_text (r->op, "InitialTerminationTime");
  g_autofree gchar *now = NULL, *until = NULL, *xaddr = NULL;
  guint mask = 0;
  gint64 expires;
  Sub *s;

  if (g_hash_table_size (ev->subs) >= MAX_PULLPOINTS) {
    /* the expired ones are gone first */
    expire (ev);
    if (g_hash_table_size (ev->subs) >= MAX_PULLPOINTS)
      return onvif_fault (r, TRUE, "ter:CapabilityViolated", "ter:MaxPullPoints",
          "%d subscriptions exist: the most this camera keeps (they end at their "
          "termination time, or Unsubscribe)", MAX_PULLPOINTS);
  }
  if (!filter_mask (r, filter, &mask) || !(expires = termination (r, when)))
    return FALSE;
  s = g_new0 (Sub, 1);
  s->ev = ev;
  s->id = random_token ();
  s->user = g_strdup (r->user);
  s->expires_us = expires;
  s->mask = mask;
  g_queue_init (&s->queue);
  g_hash_table_replace (ev->subs, s->id, s);
  ev->created++;
  if (!ev->expire_id)
    ev->expire_id = g_timeout_add_seconds (1, expire, ev);
  ev_update_measurement (ev);
  ev_synchronize (ev, s);
  now = onvif_datetime (tcd_clock_now_utc ());
  until = onvif_datetime (s->expires_us);
  xaddr = onvif_xaddr (r, r->service);
  onvif_open (r, "tev:CreatePullPointSubscriptionResponse");
  onvif_open (r, "tev:SubscriptionReference");
  onvif_elemf (r, "wsa:Address", "%s?subscription=%s", xaddr, s->id);
  onvif_close (r, "tev:SubscriptionReference");
  onvif_elem (r, "wsnt:CurrentTime", now);
  onvif_elem (r, "wsnt:TerminationTime", until);
  onvif_close (r, "tev:CreatePullPointSubscriptionResponse");
  return TRUE;
}

static gboolean
wait_timeout (gpointer data)
{
  Sub *s = data;

  s->wait_timer = 0;
  answer_pull (s);
  return G_SOURCE_REMOVE;
}

static void
wait_finished (SoupServerMessage *msg, gpointer data)
{
  Sub *s = data;

  /* the client went away (or the answer went out) */
  s->wait_finished = 0;
  wait_end (s);
}

static gboolean
pull_messages (OnvifRequest *r)
{
  Sub *s = sub_of (r);
  g_autofree gchar *timeout = onvif_child_text (r->op, "Timeout");
  gint64 limit = 0, wait;
  gboolean found = FALSE;

  if (!s)
    return FALSE;
  if (!onvif_child_int (r, r->op, "MessageLimit", 1, G_MAXINT32, &limit, &found))
    return FALSE;
  wait = timeout ? onvif_parse_duration (timeout) : 0;
  if (wait < 0)
    return onvif_invalid_arg (r, NULL, "Timeout %s: not a duration", timeout);
  limit = found ? MIN (limit, MAX_MESSAGES) : MAX_MESSAGES;
  /* one waiting pull a subscription: an older one is answered now */
  answer_pull (s);
  if (s->queue.length || wait == 0) {
    g_autofree gchar *body = pull_answer (s, (guint) limit);
    onvif_raw (r, "%s", body);
    return TRUE;
  }
  s->wait = g_object_ref (r->msg);
  s->wait_limit = (guint) limit;
  s->wait_timer = g_timeout_add ((guint) MIN (wait, MAX_WAIT_S) * 1000, wait_timeout, s);
  s->wait_finished = g_signal_connect (r->msg, "finished", G_CALLBACK (wait_finished), s);
  soup_server_message_pause (r->msg);
  r->deferred = TRUE;
  return TRUE;
}

static gboolean
renew (OnvifRequest *r)
{
  Sub *s = sub_of (r);
  g_autofree gchar *when = onvif_child_text (r->op, "TerminationTime");
  g_autofree gchar *now = NULL, *until = NULL;
  gint64 expires;

  if (!s)
    return FALSE;
  if (!when)
    return onvif_invalid_arg (r, "wsnt:UnacceptableTerminationTimeFault",
        "TerminationTime is missing");
  if (!(expires = termination (r, when)))
    return FALSE;
  s->expires_us = expires;
  now = onvif_datetime (tcd_clock_now_utc ());
  until = onvif_datetime (s->expires_us);
  onvif_open (r, "wsnt:RenewResponse");
  onvif_elem (r, "wsnt:TerminationTime", until);
  onvif_elem (r, "wsnt:CurrentTime", now);
  onvif_close (r, "wsnt:RenewResponse");
  return TRUE;
}

static gboolean
unsubscribe (OnvifRequest *r)
{
  Events *ev = onvif_state (r);
  Sub *s = sub_of (r);

  if (!s)
    return FALSE;
  /* a pull still waiting is answered with what there is */
  answer_pull (s);
  g_hash_table_remove (ev->subs, s->id);
  ev_update_measurement (ev);
  onvif_empty (r, "wsnt:UnsubscribeResponse");
  return TRUE;
}

static gboolean
set_synchronization_point (OnvifRequest *r)
{
  Events *ev = onvif_state (r);
  Sub *s = sub_of (r);

  if (!s)
    return FALSE;
  ev_synchronize (ev, s);
  onvif_empty (r, "tev:SetSynchronizationPointResponse");
  return TRUE;
}

/* ---- the state ---- */

static gpointer
events_create (Onvif *onvif, TcdContext *ctx)
{
  Events *ev = g_new0 (Events, 1);

  (void) onvif;
  ev->ctx = ctx;
  ev->subs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) sub_free);
  ev->props = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) ev_prop_free);
  ev->active = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ev->bus_id = tcd_bus_subscribe (ctx->bus, TCD_EVENT_MASK (TCD_EVENT_ALARM)
      | TCD_EVENT_MASK (TCD_EVENT_EXCEPTION) | TCD_EVENT_MASK (TCD_EVENT_OUTPUT)
      | TCD_EVENT_MASK (TCD_EVENT_BURNING) | TCD_EVENT_MASK (TCD_EVENT_CONFIG), ev_on_bus, ev);
  return ev;
}

static void
events_destroy (gpointer state)
{
  Events *ev = state;

  tcd_bus_unsubscribe (ev->ctx->bus, ev->bus_id);
  if (ev->measure_id)
    tcd_bus_unsubscribe (ev->ctx->bus, ev->measure_id);
  if (ev->expire_id)
    g_source_remove (ev->expire_id);
  g_hash_table_destroy (ev->subs);
  g_hash_table_destroy (ev->props);
  g_hash_table_destroy (ev->active);
  g_free (ev);
}

static const OnvifOperation ops[] = {
  ONVIF_OP ("GetServiceCapabilities", ONVIF_PRE_AUTH, get_capabilities),
  ONVIF_OP ("GetEventProperties", ONVIF_READ_MEDIA, get_event_properties),
  ONVIF_OP ("CreatePullPointSubscription", ONVIF_READ_MEDIA, create_pull_point),
  ONVIF_OP ("PullMessages", ONVIF_READ_MEDIA, pull_messages),
  ONVIF_OP ("SetSynchronizationPoint", ONVIF_READ_MEDIA, set_synchronization_point),
  /* WS-BaseNotification's, to a subscription's manager */
  ONVIF_OP ("Renew", ONVIF_READ_MEDIA, renew),
  ONVIF_OP ("Unsubscribe", ONVIF_READ_MEDIA, unsubscribe),
  ONVIF_OPS_END
};

const OnvifService onvif_events_service = {
  .path = "/onvif/events_service",
  .ns = ONVIF_NS_TEV,
  .ns2 = NS_WSNT,
  .prefix = "tev",
  .major = 1, .minor = 0,
  .ops = ops,
  .create = events_create,
  .destroy = events_destroy,
  .capabilities = write_capabilities,
};
