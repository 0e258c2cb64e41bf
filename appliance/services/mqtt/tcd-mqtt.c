/* thermocamd: MQTT, a client of a broker (libmosquitto on the main loop)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libmosquitto is driven from the GLib main loop with no thread of its own:
 * the socket is a GSource (read when readable, written while libmosquitto
 * wants to write, its keepalive once a second).  Only the connect (its name
 * lookup blocks) runs on a worker of GLib's pool; the main loop does not
 * touch that connection until the worker is done.  A lost or refused
 * connection is tried again after 1 s, doubling up to 60 s.
 *
 * Alarm and exception events are a queue kept on disk (one file each,
 * written whole or not at all, at most mqtt.queue_max: then the oldest is
 * dropped) and sent in order; a file goes when the broker took its message
 * (PUBACK at QoS 1, PUBCOMP at 2).  Readings are not queued: they resume.
 */
#include "tcd-mqtt-private.h"

#include <glib/gstdio.h>
#include <string.h>

#include "tc-json.h"
#include "tcd-certs.h"
#include "tcd-readings.h"

#define BACKOFF_MAX_S 60
#define STABLE_US (30 * G_USEC_PER_SEC)  /* a connection this old was a good one */
#define EVENT_PATIENCE_US (5 * G_USEC_PER_SEC)  /* an event unacknowledged that long holds the readings */
#define INFLIGHT_MAX 20                 /* queued events sent and not yet taken */


static void connect_now (TcdMqtt *m);
static void flush_queue (TcdMqtt *m);

const gchar *
mq_cfg_string (TcdMqtt *m, const gchar *name)
{
  return tc_json_get_string (json_node_get_object (m->cfg), name, "");
}

JsonObject *
mq_cfg_object (TcdMqtt *m, const gchar *name)
{
  return tc_json_get_object (json_node_get_object (m->cfg), name);
}

gint
mq_qos_of (TcdMqtt *m, const gchar *kind)
{
  return CLAMP (tc_json_get_int (mq_cfg_object (m, "qos"), kind, 1), 0, 2);
}

void
mq_set_error (TcdMqtt *m, const gchar *text)
{
  g_free (m->last_error);
  m->last_error = g_strdup (text);
}

/* ---- the exception of a broker out of reach ---- */

static void
exception (TcdMqtt *m, gboolean start, const gchar *message)
{
  g_autoptr (JsonNode) ev = NULL;
  JsonObject *o;

  if (start == m->exception_on)
    return;
  m->exception_on = start;
  ev = tcd_event_new ("exception");
  o = json_node_get_object (ev);
  json_object_set_string_member (o, "type", "mqtt_broker");
  json_object_set_string_member (o, "state", start ? "start" : "stop");
  json_object_set_string_member (o, "message", message);
  g_message ("exception mqtt_broker %s: %s", start ? "start" : "stop", message);
  tcd_events_exception (m->ctx->events, "mqtt_broker", ev);
}

/* ---- publishing ---- */

gboolean
mq_publish (TcdMqtt *m, const gchar *topic, const gchar *payload, gint qos, gboolean retain,
    gint *mid)
{
  gint rc;

  if (m->state != ST_CONNECTED)
    return FALSE;
  rc = mosquitto_publish (m->mosq, mid, topic, payload ? strlen (payload) : 0, payload, qos,
      retain);
  if (rc != MOSQ_ERR_SUCCESS) {
    mq_set_error (m, mosquitto_strerror (rc));
    return FALSE;
  }
  m->published++;
  return TRUE;
}

gchar *
mq_topic (TcdMqtt *m, const gchar *format, ...)
{
  va_list ap;
  g_autofree gchar *tail = NULL;

  va_start (ap, format);
  tail = g_strdup_vprintf (format, ap);
  va_end (ap);
  return g_strdup_printf ("%s/%s", m->base, tail);
}

void
mq_publish_node (TcdMqtt *m, const gchar *t, JsonNode *node, gint qos, gboolean retain)
{
  g_autofree gchar *text = tcd_json_to_string (node, FALSE);
  mq_publish (m, t, text, qos, retain, NULL);
}

/* ---- the event queue (on disk) ---- */

static void
qitem_free (QItem *q)
{
  g_free (q->topic);
  g_free (q->payload);
  g_free (q);
}

static gchar *
qitem_path (TcdMqtt *m, guint64 seq)
{
  g_autofree gchar *name = g_strdup_printf ("%016" G_GINT64_MODIFIER "x.json", seq);
  return g_build_filename (m->queue_dir, name, NULL);
}

static void
qitem_forget (TcdMqtt *m, QItem *q)
{
  g_autofree gchar *path = qitem_path (m, q->seq);
  g_queue_remove (&m->queue, q);
  g_unlink (path);
  qitem_free (q);
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

static void
queue_load (TcdMqtt *m)
{
  g_autoptr (GDir) d = g_dir_open (m->queue_dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;

  while (d && (name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".json") && strlen (name) == 21)
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, by_name);
  for (guint i = 0; i < names->len; i++) {
    g_autofree gchar *path = g_build_filename (m->queue_dir, names->pdata[i], NULL);
    g_autoptr (JsonNode) n = tc_json_parse_file (path, 256 * 1024, 0, NULL);
    JsonObject *o = n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    const gchar *t = tc_json_get_string (o, "topic", NULL), *p = tc_json_get_string (o,
        "payload", NULL);
    QItem *q;

    if (!t || !p) {
      g_warning ("MQTT: %s is not a queued event: removed", path);
      g_unlink (path);
      continue;
    }
    q = g_new0 (QItem, 1);
    q->seq = g_ascii_strtoull (names->pdata[i], NULL, 16);
    q->topic = g_strdup (t);
    q->payload = g_strdup (p);
    g_queue_push_tail (&m->queue, q);
    m->next_seq = MAX (m->next_seq, q->seq + 1);
  }
  if (m->queue.length)
    g_message ("MQTT: %u events wait for the broker", m->queue.length);
}

static void
queue_event (TcdMqtt *m, const gchar *t, const gchar *payload)
{
  guint max = tc_json_get_int (json_node_get_object (m->cfg), "queue_max", 1000);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) n = NULL;
  g_autofree gchar *text = NULL, *path = NULL;
  g_autoptr (GError) err = NULL;
  QItem *q;

  /* full: the oldest waiting one goes (not one the broker is taking) */
  while (m->queue.length >= max) {
    QItem *old = NULL;
    for (GList *l = m->queue.head; l && !old; l = l->next)
      if (!((QItem *) l->data)->mid)
        old = l->data;
    if (!old)
      break;
    g_message ("MQTT: the event queue is full (%u): the oldest is dropped", max);
    m->dropped++;
    qitem_forget (m, old);
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "topic");
  json_builder_add_string_value (b, t);
  json_builder_set_member_name (b, "payload");
  json_builder_add_string_value (b, payload);
  json_builder_end_object (b);
  n = json_builder_get_root (b);
  text = tcd_json_to_string (n, FALSE);
  q = g_new0 (QItem, 1);
  q->seq = m->next_seq++;
  q->topic = g_strdup (t);
  q->payload = g_strdup (payload);
  path = qitem_path (m, q->seq);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT
          | G_FILE_SET_CONTENTS_DURABLE, 0600, &err))
    g_warning ("MQTT: an event is kept in memory only: %s", err->message);
  g_queue_push_tail (&m->queue, q);
  flush_queue (m);
}

/* sends the waiting events in order, INFLIGHT_MAX at a time */
static void
flush_queue (TcdMqtt *m)
{
  gint qos;

  if (m->state != ST_CONNECTED)
    return;
  qos = mq_qos_of (m, "events");
  for (GList *l = m->queue.head; l && m->inflight < INFLIGHT_MAX;) {
    QItem *q = l->data;
    gint mid = 0;

    l = l->next;
    if (q->mid)
      continue;
    if (!mq_publish (m, q->topic, q->payload, qos, FALSE, &mid))
      return;
    m->events_sent++;
    if (qos == 0) {
      /* nothing will come back for it: sent is all there is */
      qitem_forget (m, q);
      continue;
    }
    q->mid = mid;
    q->sent_at = g_get_monotonic_time ();
    m->inflight++;
  }
}

static void
on_publish (struct mosquitto *mosq, void *data, int mid)
{
  TcdMqtt *m = data;

  for (GList *l = m->queue.head; l; l = l->next) {
    QItem *q = l->data;
    if (q->mid == mid) {
      qitem_forget (m, q);
      m->inflight--;
      flush_queue (m);
      return;
    }
  }
}

/* ---- the connection ---- */

static void
io_remove (TcdMqtt *m)
{
  if (!m->io)
    return;
  g_source_destroy ((GSource *) m->io);
  g_source_unref ((GSource *) m->io);
  m->io = NULL;
}

static gboolean
io_prepare (GSource *s, gint *timeout)
{
  IoSource *io = (IoSource *) s;
  GIOCondition want = G_IO_IN | G_IO_HUP | G_IO_ERR
      | (mosquitto_want_write (io->m->mosq) ? G_IO_OUT : 0);

  /* only on a change: a modification wakes the context up (done each
   * time, it kept the loop spinning) */
  if (want != io->events) {
    g_source_modify_unix_fd (s, io->tag, want);
    io->events = want;
  }
  *timeout = -1;
  return FALSE;
}

static gboolean
io_check (GSource *s)
{
  return g_source_query_unix_fd (s, ((IoSource *) s)->tag) != 0;
}

static void lost (TcdMqtt *m, gint rc);

static gboolean
io_dispatch (GSource *s, GSourceFunc cb, gpointer data)
{
  IoSource *io = (IoSource *) s;
  TcdMqtt *m = io->m;
  GIOCondition rev = g_source_query_unix_fd (s, io->tag);
  gint rc = MOSQ_ERR_SUCCESS;
  gint64 now = g_get_monotonic_time ();

  if (rev & (G_IO_IN | G_IO_HUP | G_IO_ERR))
    rc = mosquitto_loop_read (m->mosq, 1);
  if (rc == MOSQ_ERR_SUCCESS && m->io == io && (rev & G_IO_OUT))
    rc = mosquitto_loop_write (m->mosq, 1);
  /* the keepalive (and the retries of QoS messages) once a second */
  if (rc == MOSQ_ERR_SUCCESS && m->io == io && now >= g_source_get_ready_time (s)) {
    rc = mosquitto_loop_misc (m->mosq);
    g_source_set_ready_time (s, now + G_USEC_PER_SEC);
  }
  if (m->io != io)
    return G_SOURCE_REMOVE;   /* the callbacks above ended this connection */
  if (rc != MOSQ_ERR_SUCCESS)
    lost (m, rc);
  return m->io == io ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static GSourceFuncs io_funcs = { io_prepare, io_check, io_dispatch, NULL, NULL, NULL };

static void
io_add (TcdMqtt *m)
{
  gint fd = mosquitto_socket (m->mosq);

  io_remove (m);
  if (fd < 0)
    return;
  m->io = (IoSource *) g_source_new (&io_funcs, sizeof (IoSource));
  m->io->m = m;
  m->io->events = G_IO_IN;
  m->io->tag = g_source_add_unix_fd ((GSource *) m->io, fd, m->io->events);
  g_source_set_ready_time ((GSource *) m->io, g_get_monotonic_time () + G_USEC_PER_SEC);
  g_source_attach ((GSource *) m->io, g_main_context_get_thread_default ());
}

static gboolean
retry (gpointer data)
{
  TcdMqtt *m = data;

  m->retry_id = 0;
  connect_now (m);
  return G_SOURCE_REMOVE;
}

/* the connection is gone (or never came): again after the backoff */
static void
wait_and_retry (TcdMqtt *m, const gchar *why)
{
  io_remove (m);
  for (GList *l = m->queue.head; l; l = l->next)
    ((QItem *) l->data)->mid = 0;     /* sent again on the next connection */
  m->inflight = 0;
  if (m->state == ST_OFF || !m->cfg)
    return;
  m->state = ST_WAITING;
  m->backoff_s = m->backoff_s ? MIN (m->backoff_s * 2, BACKOFF_MAX_S) : 1;
  g_message ("MQTT: %s:%" G_GINT64_FORMAT ": %s; again in %u s", mq_cfg_string (m, "server"),
      tc_json_get_int (json_node_get_object (m->cfg), "port", 1883), why, m->backoff_s);
  mq_set_error (m, why);
  exception (m, TRUE, why);
  if (!m->retry_id)
    m->retry_id = g_timeout_add_seconds (m->backoff_s, retry, m);
}

static void
lost (TcdMqtt *m, gint rc)
{
  if (m->state == ST_CONNECTED) {
    m->disconnects++;
    /* the wait starts again from 1 s only after a connection that lasted:
     * a broker that takes the client and drops it at once (another camera
     * with its client id) is not asked every second */
    if (g_get_monotonic_time () - m->connected_at > STABLE_US)
      m->backoff_s = 0;
  }
  wait_and_retry (m, mosquitto_strerror (rc));
}

static void
on_connect (struct mosquitto *mosq, void *data, int rc)
{
  TcdMqtt *m = data;
  const gchar *prefix = tc_json_get_string (mq_cfg_object (m, "discovery"), "prefix", "homeassistant");
  g_autofree gchar *status = mq_topic (m, "status"), *ha = g_strdup_printf ("%s/status", prefix);
  g_autofree gchar *sets = mq_topic (m, "+/set"), *rule_sets = mq_topic (m, "rule/+/enabled/set");
  GHashTableIter it;
  gpointer k, v;

  if (rc != 0) {
    /* refused (a wrong password, not authorised): the disconnect ends it */
    g_autofree gchar *why = g_strdup_printf ("the broker refused the connection: %s",
        mosquitto_connack_string (rc));
    m->state = ST_WAITING;
    mosquitto_disconnect (mosq);
    wait_and_retry (m, why);
    return;
  }
  m->state = ST_CONNECTED;
  m->connects++;
  m->connected_at = g_get_monotonic_time ();
  g_message ("MQTT: connected to %s:%" G_GINT64_FORMAT " as %s", mq_cfg_string (m, "server"),
      tc_json_get_int (json_node_get_object (m->cfg), "port", 1883), m->base);
  exception (m, FALSE, "the broker is reachable again");
  mq_publish (m, status, "online", 1, TRUE, NULL);
  mosquitto_subscribe (mosq, NULL, ha, 0);
  mosquitto_subscribe (mosq, NULL, sets, 1);
  mosquitto_subscribe (mosq, NULL, rule_sets, 1);
  mq_publish_discovery (m);
  mq_publish_settings_state (m);
  g_hash_table_iter_init (&it, m->alarms);
  while (g_hash_table_iter_next (&it, &k, &v))
    mq_publish_alarm (m, k, v);
  flush_queue (m);
}

static void
on_disconnect (struct mosquitto *mosq, void *data, int rc)
{
  TcdMqtt *m = data;

  /* asked (rc 0): stop () or a change of settings handles what follows */
  if (rc == 0 || m->state == ST_WAITING || m->state == ST_OFF)
    return;
  lost (m, rc);
}

static void
attempt_free (Attempt *a)
{
  /* a connection nobody wants any more */
  if (a->mosq)
    mosquitto_destroy (a->mosq);
  g_free (a->host);
  g_free (a);
}

static void
attempt_run (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Attempt *a = data;
  gint rc = mosquitto_connect_async (a->mosq, a->host, a->port, a->keepalive);

  /* errno is this thread's */
  a->error = rc == MOSQ_ERR_ERRNO ? errno : 0;
  g_task_return_int (task, rc);
}

static void
attempt_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Attempt *a = g_task_get_task_data (G_TASK (res));
  TcdMqtt *m = a->m;
  gint rc = g_task_propagate_int (G_TASK (res), NULL);

  if (!m)
    return;                     /* not wanted any more: attempt_free destroys it */
  m->attempt = NULL;
  a->m = NULL;
  a->mosq = NULL;               /* m's */
  if (rc != MOSQ_ERR_SUCCESS) {
    wait_and_retry (m, rc == MOSQ_ERR_ERRNO ? g_strerror (a->error) : mosquitto_strerror (rc));
    return;
  }
  io_add (m);
}

static gboolean
configure_tls (TcdMqtt *m, GError **error)
{
  JsonObject *t = mq_cfg_object (m, "tls");
  static const gchar *const names[] = { "ca.pem", "certificate.pem", "key.pem" };
  static const gchar *const members[] = { "ca", "certificate", "key" };
  gchar *paths[3] = { NULL, NULL, NULL };
  gboolean ok = TRUE;
  gint rc;

  if (!tc_json_get_bool (t, "enabled", FALSE))
    return TRUE;
  /* libmosquitto reads files: the PEMs of the settings, written where only
   * the daemon reads them */
  for (guint i = 0; i < 3 && ok; i++) {
    const gchar *pem = tc_json_get_string (t, members[i], "");
    if (!*pem) {
      /* not one left over from settings before */
      g_autofree gchar *old = g_build_filename (m->dir, names[i], NULL);
      g_unlink (old);
      continue;
    }
    paths[i] = g_build_filename (m->dir, names[i], NULL);
    ok = g_file_set_contents_full (paths[i], pem, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
        error);
  }
  if (ok) {
    rc = mosquitto_tls_set (m->mosq, paths[0], paths[0] ? NULL : "/etc/ssl/certs", paths[1],
        paths[1] ? paths[2] : NULL, NULL);
    if (rc == MOSQ_ERR_SUCCESS)
      rc = mosquitto_tls_insecure_set (m->mosq, !tc_json_get_bool (t, "verify_hostname", TRUE));
    if (rc != MOSQ_ERR_SUCCESS) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "TLS: %s",
          mosquitto_strerror (rc));
      ok = FALSE;
    }
  }
  for (guint i = 0; i < 3; i++)
    g_free (paths[i]);
  return ok;
}

/* a new client for the settings in m->cfg */
static gboolean
client_new (TcdMqtt *m, GError **error)
{
  JsonObject *c = json_node_get_object (m->cfg);
  const gchar *id = mq_cfg_string (m, "client_id"), *user = mq_cfg_string (m, "user");
  g_autofree gchar *cid = *id ? g_strdup (id) : g_strdup_printf ("thermocam-%s", m->ctx->serial);
  g_autofree gchar *status = mq_topic (m, "status");

  m->mosq = mosquitto_new (cid, TRUE, m);
  m->mosq_used = FALSE;
  if (!m->mosq) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no MQTT client: %s", g_strerror (errno));
    return FALSE;
  }
  mosquitto_int_option (m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_max_inflight_messages_set (m->mosq, INFLIGHT_MAX);
  mosquitto_connect_callback_set (m->mosq, on_connect);
  mosquitto_disconnect_callback_set (m->mosq, on_disconnect);
  mosquitto_publish_callback_set (m->mosq, on_publish);
  mosquitto_message_callback_set (m->mosq, mq_on_message);
  mosquitto_will_set (m->mosq, status, 7, "offline", 1, TRUE);
  if (*user)
    mosquitto_username_pw_set (m->mosq, user, tc_json_get_string (c, "password", ""));
  return configure_tls (m, error);
}

static void
connect_now (TcdMqtt *m)
{
  JsonObject *c;
  Attempt *a;
  GTask *task;

  if (!m->cfg || m->attempt || m->state == ST_CONNECTED || m->state == ST_CONNECTING)
    return;
  /* a new client for each connection: the one before keeps the messages it
   * had not seen taken, and would send them again beside the queue's */
  if (m->mosq_used) {
    g_autoptr (GError) err = NULL;
    mosquitto_destroy (m->mosq);
    m->mosq = NULL;
    if (!client_new (m, &err)) {
      m->state = ST_WAITING;
      wait_and_retry (m, err->message);
      return;
    }
  }
  c = json_node_get_object (m->cfg);
  a = g_new0 (Attempt, 1);
  a->m = m;
  a->mosq = m->mosq;
  a->host = g_strdup (mq_cfg_string (m, "server"));
  a->port = tc_json_get_int (c, "port", 1883);
  a->keepalive = tc_json_get_int (c, "keepalive_s", 60);
  m->mosq_used = TRUE;
  m->attempt = a;
  m->state = ST_CONNECTING;
  task = g_task_new (NULL, NULL, attempt_done, NULL);
  g_task_set_task_data (task, a, (GDestroyNotify) attempt_free);
  g_task_run_in_thread (task, attempt_run);
  g_object_unref (task);
}

/* ends the connection (after "offline" if it is up) and forgets the client */
static void
disconnect (TcdMqtt *m)
{
  g_autofree gchar *status = m->cfg ? mq_topic (m, "status") : NULL;

  if (m->retry_id)
    g_source_remove (m->retry_id);
  m->retry_id = 0;
  if (m->ha_id)
    g_source_remove (m->ha_id);
  m->ha_id = 0;
  if (m->state == ST_CONNECTED) {
    mq_publish (m, status, "offline", 1, TRUE, NULL);
    m->state = ST_OFF;
    mosquitto_disconnect (m->mosq);
    /* what is still to write goes now, as far as the socket takes it */
    for (guint i = 0; i < 8 && mosquitto_want_write (m->mosq); i++)
      if (mosquitto_loop_write (m->mosq, 1) != MOSQ_ERR_SUCCESS)
        break;
  }
  m->state = ST_OFF;
  io_remove (m);
  if (m->attempt) {
    /* the worker still has it: it goes when the worker is done */
    m->attempt->m = NULL;
    m->attempt = NULL;
  } else if (m->mosq) {
    mosquitto_destroy (m->mosq);
  }
  m->mosq = NULL;
  for (GList *l = m->queue.head; l; l = l->next)
    ((QItem *) l->data)->mid = 0;
  m->inflight = 0;
  m->backoff_s = 0;
}

/* ---- readings ---- */

static gboolean
events_stalled (TcdMqtt *m)
{
  gint64 now = g_get_monotonic_time ();

  for (GList *l = m->queue.head; l; l = l->next) {
    QItem *q = l->data;
    if (q->mid && now - q->sent_at > EVENT_PATIENCE_US)
      return TRUE;
  }
  return FALSE;
}

static gboolean
readings_tick (gpointer data)
{
  TcdMqtt *m = data;
  g_autoptr (GstSample) s = NULL;
  GstBuffer *buf;
  gdouble lo, hi;

  if (m->state != ST_CONNECTED || !tcd_config_bool (m->ctx->config, "thermometry.enabled"))
    return G_SOURCE_CONTINUE;
  /* readings are not queued: none while the socket has not taken the last
   * ones (a stalled link would pile them up in memory until the keepalive
   * ends it), nor while an event waits long for the broker (a reading's
   * message id, counted on the same 16 bits, could come to match its own) */
  if (mosquitto_want_write (m->mosq) || events_stalled (m)) {
    m->readings_skipped++;
    return G_SOURCE_CONTINUE;
  }
  s = tcd_pipeline_get_temperature (m->ctx->pipeline);
  if (!s || !(buf = gst_sample_get_buffer (s)) || GST_BUFFER_PTS (buf) == m->last_pts)
    return G_SOURCE_CONTINUE;
  m->last_pts = GST_BUFFER_PTS (buf);
  tcd_reading_range (m->ctx->config, &lo, &hi);
  mq_readings_publish (m, buf, lo, hi);
  return G_SOURCE_CONTINUE;
}

static void
readings_schedule (TcdMqtt *m)
{
  gint64 every;

  if (m->readings_id)
    g_source_remove (m->readings_id);
  if (m->frame_id)
    tcd_pipeline_remove_frame_func (m->ctx->pipeline, m->frame_id);
  m->readings_id = m->frame_id = 0;
  if (!m->cfg)
    return;
  every = tc_json_get_int (json_node_get_object (m->cfg), "readings_interval_ms", 1000);
  /* every frame: called by the pipeline as each frame comes (a timer a
   * frame long drifts past frames; one at twice the rate woke the main
   * loop twice a frame) */
  if (every == 0)
    m->frame_id = tcd_pipeline_add_frame_func (m->ctx->pipeline, readings_tick, m);
  else
    m->readings_id = g_timeout_add (MAX (every, 5), readings_tick, m);
}

/* ---- events from the bus ---- */

static void
on_event (TcdEventType type, JsonNode *ev, gpointer data)
{
  TcdMqtt *m = data;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (ev) ? json_node_get_object (ev) : NULL;
  const gchar *source = tc_json_get_string (o, "source", NULL);

  if (!m->cfg || !o)
    return;
  if (type == TCD_EVENT_ALARM || type == TCD_EVENT_EXCEPTION) {
    g_autofree gchar *text = tcd_json_to_string (ev, FALSE);
    g_autofree gchar *t = mq_topic (m, "event");
    queue_event (m, t, text);
  }
  if (type == TCD_EVENT_ALARM && source) {
    const gchar *state = tc_json_get_string (o, "state", NULL);
    const gchar *member = tc_json_member_kind (o, source) ? source : NULL;
    g_autofree gchar *key = member ? g_strdup_printf ("%s/%" G_GINT64_FORMAT, source,
        tc_json_get_int (o, member, 0)) : g_strdup (source);
    /* the alarm level only: a pre-alarm is its own event, and its stop
     * says nothing of the alarm */
    if (g_strcmp0 (tc_json_get_string (o, "level", "alarm"), "alarm") == 0
        && (g_strcmp0 (state, "start") == 0 || g_strcmp0 (state, "stop") == 0)) {
      const gchar *v = g_str_equal (state, "start") ? "ON" : "OFF";
      g_hash_table_insert (m->alarms, g_strdup (key), g_strdup (v));
      mq_publish_alarm (m, key, v);
    }
  }
}

/* ---- the service ---- */

/* a change of the TLS settings: certificates and a key that can be read,
 * and a key that is its certificate's (or the connection would only fail) */
static gboolean
check_tls (JsonNode *doc, JsonNode *current, const TcdOrigin *origin, gpointer data,
    GError **error)
{
  JsonNode *tls = tcd_config_node (doc, "mqtt.tls");
  JsonObject *t = tls && JSON_NODE_HOLDS_OBJECT (tls) ? json_node_get_object (tls) : NULL;
  g_autoptr (GError) err = NULL;
  const gchar *which = NULL;

  if (!t || tcd_certs_check_client (tc_json_get_string (t, "ca", ""),
          tc_json_get_string (t, "certificate", ""), tc_json_get_string (t, "key", ""),
          &which, &err))
    return TRUE;
  g_autofree gchar *field = g_strdup_printf ("mqtt.tls.%s", which);
  tcd_change_refuse (error, field, "%s: %s", field, err->message);
  return FALSE;
}

TcdMqtt *
tcd_mqtt_new (TcdContext *ctx)
{
  TcdMqtt *m = g_new0 (TcdMqtt, 1);

  mosquitto_lib_init ();
  m->ctx = ctx;
  m->last_pts = GST_CLOCK_TIME_NONE;
  m->dir = g_build_filename (ctx->state_dir, "mqtt", NULL);
  m->queue_dir = g_build_filename (m->dir, "queue", NULL);
  g_mkdir_with_parents (m->queue_dir, 0700);
  g_queue_init (&m->queue);
  m->alarms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  m->state_rules = g_hash_table_new (NULL, NULL);
  m->discovered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  queue_load (m);
  mq_discovered_load (m);
  tcd_change_add_check (ctx->change, "mqtt.tls", check_tls, NULL);
  m->bus_id = tcd_bus_subscribe (ctx->bus, TCD_EVENT_MASK (TCD_EVENT_ALARM)
      | TCD_EVENT_MASK (TCD_EVENT_EXCEPTION), on_event, m);
  return m;
}

/* what discovery and the retained settings describe */
static JsonNode *
described (JsonNode *doc)
{
  static const gchar *const parts[] = { "device", "rules", "alarm_inputs", "thermometry", NULL };
  g_autoptr (JsonObject) o = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);

  for (guint i = 0; parts[i]; i++) {
    JsonNode *p = tcd_config_node (doc, parts[i]);
    if (p)
      json_object_set_member (o, parts[i], tcd_json_deep_copy (p));
  }
  json_node_set_object (n, o);
  return n;
}

void
tcd_mqtt_apply (TcdMqtt *m, JsonNode *doc)
{
  JsonNode *sec = tcd_config_node (doc, "mqtt");
  gboolean on = sec && JSON_NODE_HOLDS_OBJECT (sec)
      && tc_json_get_bool (json_node_get_object (sec), "enabled", FALSE)
      && *tc_json_get_string (json_node_get_object (sec), "server", "");
  g_autoptr (JsonNode) now = described (doc);
  g_autoptr (GError) err = NULL;

  if (on && m->cfg && tc_json_equal (sec, m->cfg)) {
    /* the same broker: what it is told may have changed */
    if (!m->described || !tc_json_equal (now, m->described)) {
      mq_publish_discovery (m);
      mq_publish_settings_state (m);
    }
    g_clear_pointer (&m->described, json_node_unref);
    m->described = g_steal_pointer (&now);
    return;
  }
  disconnect (m);
  g_clear_pointer (&m->cfg, json_node_unref);
  g_clear_pointer (&m->base, g_free);
  g_clear_pointer (&m->described, json_node_unref);
  m->described = g_steal_pointer (&now);
  exception (m, FALSE, "MQTT settings changed");
  if (!on) {
    readings_schedule (m);
    return;
  }
  m->cfg = tcd_json_deep_copy (sec);
  m->base = g_strdup_printf ("%s/%s", mq_cfg_string (m, "topic_prefix"), m->ctx->serial);
  mq_readings_reset (m);
  if (!client_new (m, &err)) {
    g_warning ("MQTT: %s", err->message);
    mq_set_error (m, err->message);
    g_clear_pointer (&m->cfg, json_node_unref);
    if (m->mosq)
      mosquitto_destroy (m->mosq);
    m->mosq = NULL;
    return;
  }
  readings_schedule (m);
  connect_now (m);
}

void
tcd_mqtt_stop (TcdMqtt *m)
{
  disconnect (m);
  g_clear_pointer (&m->cfg, json_node_unref);
  readings_schedule (m);
}

void
tcd_mqtt_free (TcdMqtt *m)
{
  tcd_mqtt_stop (m);
  tcd_bus_unsubscribe (m->ctx->bus, m->bus_id);
  g_queue_clear_full (&m->queue, (GDestroyNotify) qitem_free);
  g_hash_table_unref (m->alarms);
  g_hash_table_unref (m->state_rules);
  g_hash_table_unref (m->discovered);
  mq_readings_free (m);
  g_clear_pointer (&m->described, json_node_unref);
  g_free (m->base);
  g_free (m->dir);
  g_free (m->queue_dir);
  g_free (m->last_error);
  g_free (m);
}

JsonNode *
tcd_mqtt_stats (TcdMqtt *m)
{
  static const gchar *const states[] = { "off", "connecting", "connected", "waiting" };
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, states[m->state]);
  json_builder_set_member_name (b, "connects");
  json_builder_add_int_value (b, m->connects);
  json_builder_set_member_name (b, "disconnects");
  json_builder_add_int_value (b, m->disconnects);
  json_builder_set_member_name (b, "published");
  json_builder_add_int_value (b, m->published);
  json_builder_set_member_name (b, "events_sent");
  json_builder_add_int_value (b, m->events_sent);
  json_builder_set_member_name (b, "events_waiting");
  json_builder_add_int_value (b, m->queue.length);
  json_builder_set_member_name (b, "events_dropped");
  json_builder_add_int_value (b, m->dropped);
  json_builder_set_member_name (b, "readings_skipped");
  json_builder_add_int_value (b, m->readings_skipped);
  json_builder_set_member_name (b, "commands_refused");
  json_builder_add_int_value (b, m->refused_commands);
  json_builder_set_member_name (b, "retry_in_s");
  json_builder_add_int_value (b, m->state == ST_WAITING ? m->backoff_s : 0);
  json_builder_set_member_name (b, "last_error");
  if (m->last_error)
    json_builder_add_string_value (b, m->last_error);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
