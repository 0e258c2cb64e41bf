/* thermocamd: events and their linkage (manual 4, 5, 8)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Main loop side: events come in (thermalmeasure messages, alarm inputs,
 * exceptions, the 5 Hz watch of burning prevention, environment temperature
 * and calibration), are streamed, and inside their arming schedule go out
 * to the linkage methods.  Alarm outputs switch at once; pictures are taken
 * and encoded by tcd-capture's workers; FTP, email and the surveillance
 * center are spool jobs (tcd-spool.c) sent by one worker thread per channel
 * with tcd-transfer.c, so a dead server delays nothing but its own channel.
 * The workers read the configuration from a copy made at each change.
 */
#include "tcd-events-private.h"

#include <gst/gst.h>
#include <math.h>
#include <string.h>

#include "gstthermalmeta.h"
#include "tcd-clock.h"
#include "tcd-schedule.h"
#include "tcd-transfer.h"
#include "tc-json.h"


/* ---- helpers ---- */

JsonNode *
tcd_ev_cfg (TcdEvents *e, const gchar *path)
{
  return tcd_config_node (tcd_config_get (e->config), path);
}

static GDateTime *
local_now (TcdEvents *e)
{
  /* the device clock in its zone, with its DST rule */
  return tcd_clock_now_local ();
}

gboolean
tcd_ev_armed (TcdEvents *e, JsonNode *schedule)
{
  g_autoptr (GDateTime) now = local_now (e);
  return tcd_schedule_contains (schedule, now);
}

static gboolean
member_true (JsonNode *obj, const gchar *name)
{
  return obj && JSON_NODE_HOLDS_OBJECT (obj)
      && tc_json_get_bool (json_node_get_object (obj), name, FALSE);
}

/* the doc copy for a worker (a new reference) */
JsonNode *
tcd_ev_doc_ref (TcdEvents *e)
{
  JsonNode *d;

  g_mutex_lock (&e->lock);
  d = json_node_ref (e->doc);
  g_mutex_unlock (&e->lock);
  return d;
}

void
tcd_ev_spool_add (TcdEvents *e, const gchar *channel, JsonNode *job, GPtrArray *pictures)
{
  g_autoptr (GError) err = NULL;
  g_autofree TcdSpoolFile *files = NULL;
  g_autofree gchar *id = NULL;
  JsonArray *names = json_array_new ();
  guint n = pictures ? pictures->len : 0;

  files = g_new0 (TcdSpoolFile, MAX (n, 1));
  for (guint i = 0; i < n; i++) {
    TcdPicture *p = g_ptr_array_index (pictures, i);
    files[i].name = p->name;
    files[i].data = p->data;
    json_array_add_string_element (names, p->name);
  }
  json_object_set_array_member (json_node_get_object (job), "files", names);
  id = tcd_spool_add (e->spool, channel, job, files, n, &err);
  if (!id)
    g_warning ("linkage: cannot queue a delivery on %s: %s", channel, err->message);
}

JsonNode *
tcd_ev_job_new (const gchar *kind, JsonNode *ev)
{
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "kind", kind);
  json_object_set_member (o, "event", tcd_json_deep_copy (ev));
  json_node_take_object (n, o);
  return n;
}

/* ---- linkage ---- */

static void
picture_job_free (PictureJob *j)
{
  json_node_unref (j->ev);
  g_free (j->tag);
  g_free (j->ftp_dir);
  g_free (j);
}

static void
on_event_pictures (GPtrArray *pictures, gpointer user_data)
{
  PictureJob *j = user_data;
  TcdEvents *e = j->e;

  if (pictures->len && ((TcdPicture *) g_ptr_array_index (pictures, 0))->stored) {
    JsonArray *names = json_array_new ();
    for (guint i = 0; i < pictures->len; i++)
      json_array_add_string_element (names,
          ((TcdPicture *) g_ptr_array_index (pictures, i))->name);
    tcd_bus_emit (e->bus, TCD_EVENT_CAPTURE, tcd_event_capture_new (j->tag, names));
  }
  if (j->ftp && pictures->len) {
    JsonNode *job = tcd_ev_job_new ("ftp", j->ev);
    json_object_set_string_member (json_node_get_object (job), "dir", j->ftp_dir);
    tcd_ev_spool_add (e, "ftp", job, pictures);
    json_node_unref (job);
  }
  if (j->email) {
    JsonNode *job = tcd_ev_job_new ("email", j->ev);
    tcd_ev_spool_add (e, "email", job, pictures);
    json_node_unref (job);
  }
  picture_job_free (j);
}

gchar *
tcd_ev_ftp_dir_now (TcdEvents *e, const gchar *tag)
{
  g_autoptr (GDateTime) now = local_now (e);
  return tcd_transfer_ftp_dir (tcd_ev_cfg (e, "ftp"), tcd_ev_cfg (e, "device"), e->serial, tag, now);
}

/* Whether FTP and email can send at all: no job is queued for a destination
 * that is not configured (it would wait out max_age_h and push real ones
 * out of the bounded queue) */
static gboolean
ftp_ready (TcdEvents *e, const gchar *tag)
{
  if (*tcd_config_string (e->config, "ftp.server"))
    return TRUE;
  g_message ("%s: linked to FTP, but ftp.server is not set: no upload", tag);
  return FALSE;
}

static gboolean
email_ready (TcdEvents *e, const gchar *tag)
{
  if (*tcd_config_string (e->config, "email.server")
      && *tcd_config_string (e->config, "email.sender_address")
      && json_array_get_length (json_node_get_array (tcd_ev_cfg (e, "email.receivers"))) > 0)
    return TRUE;
  g_message ("%s: linked to email, but the server, the sender or the receivers are not set: "
      "no mail", tag);
  return FALSE;
}

/* An event ended: whatever output it holds lets go (whatever the linkage
 * says now: it may have changed since the start) */
static void
release_outputs (TcdEvents *e, const gchar *out_source)
{
  for (guint id = 1; id <= TCD_IO_CHANNELS; id++)
    tcd_alarmio_link (e->io, id, out_source, FALSE);
}

/* Links one event.  @tag names its source ("rule-3"); @out_source names
 * it for the alarm outputs ("rule-3:alarm").  @begin: it starts or repeats;
 * @end: it stops; @momentary: an event without an end. */
void
tcd_ev_link_event (TcdEvents *e, JsonNode *ev, JsonNode *linkage, const gchar *tag,
    const gchar *out_source, gboolean begin, gboolean end, gboolean momentary)
{
  JsonNode *outs, *receivers;
  gboolean ftp, email;

  if (end)
    release_outputs (e, out_source);
  if (!linkage || !JSON_NODE_HOLDS_OBJECT (linkage))
    return;
  outs = json_object_get_member (json_node_get_object (linkage), "alarm_outputs");
  for (guint i = 0; outs && i < json_array_get_length (json_node_get_array (outs)); i++) {
    guint id = tc_json_array_get_int (json_node_get_array (outs), i, 0);
    JsonArray *list = json_node_get_array (tcd_ev_cfg (e, "alarm_outputs.outputs"));
    JsonNode *schedule = NULL;

    for (guint k = 0; k < json_array_get_length (list); k++)
      if (tc_json_get_int (tc_json_array_get_object (list, k), "id", 0) == id)
        schedule = json_object_get_member (tc_json_array_get_object (list, k),
            "schedule");
    if (begin || momentary) {
      if (tcd_ev_armed (e, schedule))
        tcd_alarmio_link (e->io, id, out_source, TRUE);
      if (momentary)
        tcd_alarmio_link (e->io, id, out_source, FALSE);
    }
  }
  if (member_true (linkage, "center") && (receivers = tcd_ev_cfg (e, "center.receivers"))) {
    for (guint i = 0; i < json_array_get_length (json_node_get_array (receivers)); i++) {
      g_autofree gchar *channel = g_strdup_printf ("center-%u", i + 1);
      JsonNode *job = tcd_ev_job_new ("center", ev);
      json_object_set_int_member (json_node_get_object (job), "receiver", i);
      tcd_ev_spool_add (e, channel, job, NULL);
      json_node_unref (job);
    }
  }
  if ((begin || end || momentary) && e->methods
      && !tc_json_get_bool (json_node_get_object (ev), "repeat", FALSE)) {
    for (guint i = 0; i < e->methods->len; i++) {
      TcdEvMethod *m = g_ptr_array_index (e->methods, i);
      if (member_true (linkage, m->name))
        m->func (ev, tag, m->data);
    }
  }
  if (!(begin || momentary))
    return;
  ftp = member_true (linkage, "ftp") && ftp_ready (e, tag);
  email = member_true (linkage, "email") && email_ready (e, tag);
  if (ftp || member_true (linkage, "capture")) {
    PictureJob *j = g_new0 (PictureJob, 1);
    JsonObject *ce = json_node_get_object (tcd_ev_cfg (e, "capture.event"));

    j->e = e;
    j->ev = tcd_json_deep_copy (ev);
    j->tag = g_strdup (tag);
    j->ftp = ftp;
    j->ftp_dir = tcd_ev_ftp_dir_now (e, tag);
    tcd_capture_take (e->capture, json_object_get_member (ce, "picture"),
        tc_json_get_int (ce, "count", 0),
        tc_json_get_int (ce, "interval_s", 0) * 1000, tag,
        member_true (linkage, "capture"), on_event_pictures, j);
  }
  if (email) {
    PictureJob *j = g_new0 (PictureJob, 1);

    j->e = e;
    j->ev = tcd_json_deep_copy (ev);
    j->tag = g_strdup (tag);
    j->email = TRUE;
    if (tcd_config_bool (e->config, "email.attach_pictures")) {
      g_autoptr (JsonNode) pic = tc_json_parse ("{\"format\": \"jpeg\", "
          "\"resolution\": \"native\", \"quality\": 90}", -1, 0, NULL);
      tcd_capture_take (e->capture, pic, 3,
          tcd_config_int (e->config, "email.picture_interval_s") * 1000, tag, FALSE,
          on_event_pictures, j);
    } else {
      g_autoptr (GPtrArray) none = g_ptr_array_new ();
      on_event_pictures (none, j);
    }
  }
}

static void
method_free (TcdEvMethod *m)
{
  g_free (m->name);
  g_free (m);
}

void
tcd_events_add_method (TcdEvents *e, const gchar *name, TcdEventsMethodFunc func,
    gpointer user_data)
{
  TcdEvMethod *m = g_new0 (TcdEvMethod, 1);

  if (!e->methods)
    e->methods = g_ptr_array_new_with_free_func ((GDestroyNotify) method_free);
  m->name = g_strdup (name);
  m->func = func;
  m->data = user_data;
  g_ptr_array_add (e->methods, m);
}

void
tcd_events_remove_method (TcdEvents *e, const gchar *name)
{
  for (guint i = 0; e->methods && i < e->methods->len; i++)
    if (g_str_equal (((TcdEvMethod *) g_ptr_array_index (e->methods, i))->name, name)) {
      g_ptr_array_remove_index (e->methods, i);
      return;
    }
}

void
tcd_events_measurement (TcdEvents *e, JsonNode *ev)
{
  JsonObject *o = json_node_get_object (ev);
  const gchar *source = tc_json_get_string (o, "source", "rule");
  const gchar *level = tc_json_get_string (o, "level", "alarm");
  const gchar *state = tc_json_get_string (o, "state", "start");
  gboolean repeat = tc_json_get_bool (o, "repeat", FALSE);
  g_autofree gchar *tag = NULL, *out_source = NULL, *path = NULL;
  JsonNode *conf;

  if (g_str_equal (source, "rule")) {
    tag = g_strdup_printf ("rule-%" G_GINT64_FORMAT, tc_json_get_int (o, "rule", 0));
    path = g_strdup ("events.rules");
  } else if (g_str_equal (source, "comparison")) {
    tag = g_strdup_printf ("comparison-%" G_GINT64_FORMAT,
        tc_json_get_int (o, "comparison", 0));
    path = g_strdup ("events.comparisons");
  } else {
    tag = g_strdup ("scene");
    path = g_strdup ("events.scene");
  }
  conf = tcd_ev_cfg (e, path);
  out_source = g_strdup_printf ("%s:%s", tag, level);
  if (g_str_equal (state, "stop"))
    release_outputs (e, out_source);
  if (g_str_equal (level, "pre_alarm") && !member_true (conf, "pre_alarm"))
    return;
  if (g_str_equal (state, "stop")) {
    /* an end is always linked: outputs go off, the center hears it */
    tcd_ev_link_event (e, ev, json_object_get_member (json_node_get_object (conf), "linkage"), tag,
        out_source, FALSE, TRUE, FALSE);
    return;
  }
  if (!tcd_ev_armed (e, json_object_get_member (json_node_get_object (conf), "schedule"))) {
    g_message ("%s %s %s: outside its arming schedule, not linked", tag, level,
        repeat ? "repeat" : "start");
    return;
  }
  tcd_ev_link_event (e, ev, json_object_get_member (json_node_get_object (conf), "linkage"), tag,
      out_source, TRUE, FALSE, FALSE);
}

void
tcd_events_exception (TcdEvents *e, const gchar *type, JsonNode *ev)
{
  g_autofree gchar *path = g_strdup_printf ("exceptions.%s", type);
  JsonNode *conf = tcd_ev_cfg (e, path);
  const gchar *state = tc_json_get_string (json_node_get_object (ev),
      "state", NULL);

  tcd_bus_emit (e->bus, TCD_EVENT_EXCEPTION, json_node_ref (ev));
  if (g_strcmp0 (state, "stop") == 0)
    release_outputs (e, type);
  if (!conf || !member_true (conf, "enabled"))
    return;
  tcd_ev_link_event (e, ev, json_object_get_member (json_node_get_object (conf), "linkage"), type,
      type, g_strcmp0 (state, "start") == 0, g_strcmp0 (state, "stop") == 0, state == NULL);
}

void
tcd_ev_raise_exception (TcdEvents *e, const gchar *type, const gchar *state, const gchar *message)
{
  g_autoptr (JsonNode) ev = tcd_event_new ("exception");
  JsonObject *o = json_node_get_object (ev);

  json_object_set_string_member (o, "type", type);
  if (state)
    json_object_set_string_member (o, "state", state);
  json_object_set_string_member (o, "message", message);
  g_message ("exception %s%s%s: %s", type, state ? " " : "", state ? state : "", message);
  tcd_events_exception (e, type, ev);
}

/* ---- alarm inputs and outputs ---- */

static void
on_input (guint id, const gchar *name, gboolean alarm, gpointer user_data)
{
  TcdEvents *e = user_data;
  JsonNode *ev = tcd_event_alarm_new ("input", "input", id, name, "alarm",
      alarm ? "start" : "stop");
  JsonArray *list = json_node_get_array (tcd_ev_cfg (e, "alarm_inputs.inputs"));
  JsonObject *conf = NULL;
  g_autofree gchar *tag = g_strdup_printf ("input-%u", id);

  tcd_bus_emit (e->bus, TCD_EVENT_ALARM, json_node_ref (ev));
  for (guint k = 0; k < json_array_get_length (list); k++)
    if ((guint) tc_json_get_int (tc_json_array_get_object (list, k), "id", 0) == id)
      conf = tc_json_array_get_object (list, k);
  if (conf) {
    if (alarm && !tcd_ev_armed (e, json_object_get_member (conf, "schedule")))
      g_message ("%s: outside its arming schedule, not linked", tag);
    else
      tcd_ev_link_event (e, ev, json_object_get_member (conf, "linkage"), tag, tag, alarm, !alarm,
          FALSE);
  }
  json_node_unref (ev);
}

static void
on_output (guint id, const gchar *name, gboolean on, const gchar *why, gpointer user_data)
{
  TcdEvents *e = user_data;

  tcd_bus_emit (e->bus, TCD_EVENT_OUTPUT, tcd_event_output_new (id, name, on, why));
}

/* ---- from the pipeline and the lock ---- */

void
tcd_events_pipeline_message (const GstStructure *s, gpointer user_data)
{
  TcdEvents *e = user_data;
  const gchar *source = gst_structure_get_string (s, "source");
  JsonNode *ev;
  JsonObject *o;
  gint id = 0;
  gdouble v = 0, th = 0, x = 0, y = 0;
  gboolean repeat = FALSE;
  JsonArray *at;
  guint64 ts = GST_CLOCK_TIME_NONE;
  gint64 t0;

  if (!gst_structure_has_name (s, "thermal-alarm"))
    return;
  gst_structure_get_int (s, "id", &id);
  ev = tcd_event_alarm_new (source ? source : "rule",
      g_strcmp0 (source, "rule") == 0 ? "rule"
      : g_strcmp0 (source, "comparison") == 0 ? "comparison" : NULL, id,
      gst_structure_get_string (s, "name"), gst_structure_get_string (s, "level"),
      gst_structure_get_string (s, "state"));
  o = json_node_get_object (ev);
  gst_structure_get_boolean (s, "repeat", &repeat);
  json_object_set_boolean_member (o, "repeat", repeat);
  gst_structure_get_double (s, "value", &v);
  gst_structure_get_double (s, "threshold", &th);
  gst_structure_get_double (s, "x", &x);
  gst_structure_get_double (s, "y", &y);
  json_object_set_double_member (o, "value", round (v * 100) / 100);
  json_object_set_double_member (o, "threshold", th);
  at = json_array_new ();
  json_array_add_double_element (at, round (x * 10000) / 10000);
  json_array_add_double_element (at, round (y * 10000) / 10000);
  json_object_set_array_member (o, "at", at);
  /* a rule's or the scene's value outside the measurement range */
  if (g_strcmp0 (source, "comparison") != 0) {
    gboolean below = FALSE, above = FALSE;
    gst_structure_get_boolean (s, "below-range", &below);
    gst_structure_get_boolean (s, "above-range", &above);
    json_object_set_boolean_member (o, "below_range", below);
    json_object_set_boolean_member (o, "above_range", above);
  }
  /* how long from the frame leaving the sensor to this event */
  if (gst_structure_get_uint64 (s, "timestamp", &ts)
      && (t0 = tcd_pipeline_capture_time (e->pipeline, ts)))
    json_object_set_double_member (o, "delay_ms",
        round ((g_get_monotonic_time () - t0) / 100.0) / 10.0);
  g_message ("alarm: %s %d %s %s %s %.2f", source, id, gst_structure_get_string (s, "name"),
      gst_structure_get_string (s, "level"), gst_structure_get_string (s, "state"), v);
  tcd_bus_emit (e->bus, TCD_EVENT_ALARM, json_node_ref (ev));
  tcd_events_measurement (e, ev);
  json_node_unref (ev);
}

void
tcd_events_pipeline_exception (const gchar *kind, const gchar *message, gpointer user_data)
{
  g_autoptr (JsonNode) ev = tcd_event_exception_new (kind, message);
  tcd_events_exception (user_data, kind, ev);
}

void
tcd_events_illegal_login (TcdEvents *e, const gchar *address, const gchar *service,
    const gchar *user, guint minutes)
{
  g_autofree gchar *m = g_strdup_printf ("%s locked for %u min after failed logins on %s",
      address, minutes, service);
  g_autoptr (JsonNode) ev = tcd_event_exception_new ("illegal_login", m);
  JsonObject *o = json_node_get_object (ev);

  json_object_set_string_member (o, "address", address);
  json_object_set_string_member (o, "service", service);
  if (user)
    json_object_set_string_member (o, "user", user);
  g_message ("illegal login: %s", m);
  tcd_events_exception (e, "illegal_login", ev);
}

/* ---- life ---- */

TcdEvents *
tcd_events_new (TcdConfig *config, TcdSecurity *security, TcdBus *bus, TcdPipeline *pipeline,
    const gchar *state_dir, const gchar *serial, GError **error)
{
  TcdEvents *e = g_new0 (TcdEvents, 1);
  g_autofree gchar *spool = g_build_filename (state_dir, "spool", NULL);
  g_autofree gchar *caps = g_build_filename (state_dir, "captures", NULL);
  g_autofree gchar *recs = g_build_filename (state_dir, "recordings", NULL);
  JsonNode *doc = tcd_config_get (config);

  e->config = config;
  e->security = security;
  e->bus = bus;
  e->pipeline = pipeline;
  e->serial = g_strdup (serial);
  g_mutex_init (&e->lock);
  e->doc = tcd_json_deep_copy (doc);
  e->cancel = g_cancellable_new ();
  e->sim_link = e->sim_conflict = -1;
  e->cal_path = g_build_filename (state_dir, "calibration.sha256", NULL);
  e->io = tcd_alarmio_new ();
  tcd_alarmio_set_funcs (e->io, on_input, on_output, e);
  if (!(e->captures = tcd_store_new (caps,
              (guint64) tcd_config_int (config, "capture.storage_mb") * MiB, error))
      || !(e->recordings = tcd_store_new (recs,
              (guint64) tcd_config_int (config, "recording.storage_mb") * MiB, error))
      || !(e->spool = tcd_spool_new (spool, tcd_ev_send_job, tcd_ev_on_delivery, e, error))) {
    tcd_events_free (e);
    return NULL;
  }
  e->capture = tcd_capture_new (pipeline, e->captures);
  tcd_capture_set_timed_func (e->capture, tcd_ev_on_timed, e);
  e->record = tcd_record_new (pipeline, e->recordings);
  e->monitor = g_network_monitor_get_default ();
  e->net_down = !g_network_monitor_get_network_available (e->monitor);
  if (e->net_down)
    g_message ("the network is not available");
  e->monitor_id = g_signal_connect (e->monitor, "network-changed",
      G_CALLBACK (tcd_ev_on_network_changed), e);
  tcd_events_apply (e, doc);
  e->tick = g_timeout_add (TICK_MS, tcd_ev_tick, e);
  return e;
}

void
tcd_events_free (TcdEvents *e)
{
  if (!e)
    return;
  g_clear_handle_id (&e->tick, g_source_remove);
  g_clear_handle_id (&e->recovery_id, g_source_remove);
  g_clear_pointer (&e->methods, g_ptr_array_unref);
  if (e->monitor_id)
    g_signal_handler_disconnect (e->monitor, e->monitor_id);
  g_cancellable_cancel (e->cancel);
  tcd_record_free (e->record);
  tcd_capture_free (e->capture);
  if (e->spool)
    tcd_spool_free (e->spool);
  if (e->shutter_closed)
    tcd_pipeline_set_shutter (e->pipeline, FALSE);
  tcd_alarmio_free (e->io);
  if (e->captures)
    tcd_store_free (e->captures);
  if (e->recordings)
    tcd_store_free (e->recordings);
  g_object_unref (e->cancel);
  json_node_unref (e->doc);
  g_mutex_clear (&e->lock);
  g_free (e->cal_path);
  g_free (e->cal_hash);
  g_free (e->serial);
  g_free (e);
}

/* Whether the event @source ("rule-3:alarm", "input-1", "environment",
 * "network_disconnected") still links output @id in the configuration */
static gboolean
still_linked (guint id, const gchar *source, gpointer user_data)
{
  TcdEvents *e = user_data;
  g_auto (GStrv) parts = g_strsplit (source, ":", 2);
  const gchar *tag = parts[0], *level = parts[1];
  JsonNode *conf = NULL, *link, *outs;

  if (g_str_has_prefix (tag, "rule-"))
    conf = tcd_ev_cfg (e, "events.rules");
  else if (g_str_has_prefix (tag, "comparison-"))
    conf = tcd_ev_cfg (e, "events.comparisons");
  else if (g_str_equal (tag, "scene"))
    conf = tcd_ev_cfg (e, "events.scene");
  else if (g_str_equal (tag, "environment"))
    conf = tcd_ev_cfg (e, "environment_alarm");
  else if (g_str_has_prefix (tag, "input-")) {
    JsonArray *list = json_node_get_array (tcd_ev_cfg (e, "alarm_inputs.inputs"));
    for (guint k = 0; k < json_array_get_length (list); k++)
      if (tc_json_get_int (tc_json_array_get_object (list, k), "id", 0)
          == g_ascii_strtoll (tag + 6, NULL, 10))
        conf = json_array_get_element (list, k);
  } else {
    g_autofree gchar *path = g_strconcat ("exceptions.", tag, NULL);
    conf = tcd_ev_cfg (e, path);
    if (conf && !member_true (conf, "enabled"))
      return FALSE;
  }
  if (!conf || !JSON_NODE_HOLDS_OBJECT (conf))
    return FALSE;
  if (level && g_str_equal (level, "pre_alarm") && !member_true (conf, "pre_alarm"))
    return FALSE;
  link = json_object_get_member (json_node_get_object (conf), "linkage");
  outs = link && JSON_NODE_HOLDS_OBJECT (link)
      ? json_object_get_member (json_node_get_object (link), "alarm_outputs") : NULL;
  for (guint i = 0; outs && i < json_array_get_length (json_node_get_array (outs)); i++)
    if ((guint) tc_json_array_get_int (json_node_get_array (outs), i, 0) == id)
      return TRUE;
  return FALSE;
}

void
tcd_events_apply (TcdEvents *e, JsonNode *doc)
{
  JsonNode *copy = tcd_json_deep_copy (doc), *old;
  gboolean kick_ftp, kick_email, kick_center;

  g_mutex_lock (&e->lock);
  old = e->doc;
  e->doc = copy;
  g_mutex_unlock (&e->lock);
  tcd_alarmio_apply (e->io, doc);
  /* an event whose link to an output was removed lets go of it: its end
   * would not reach the output any more */
  tcd_alarmio_prune (e->io, still_linked, e);
  tcd_capture_apply (e->capture, doc);
  tcd_store_set_limit (e->recordings, (guint64) json_node_get_int (tcd_config_node (doc,
              "recording.storage_mb")) * MiB);
  tcd_spool_configure (e->spool,
      json_node_get_int (tcd_config_node (doc, "delivery.retry_initial_s")),
      json_node_get_int (tcd_config_node (doc, "delivery.retry_max_s")),
      json_node_get_int (tcd_config_node (doc, "delivery.max_pending")),
      json_node_get_int (tcd_config_node (doc, "delivery.max_age_h")));
  /* new server settings: what waits is tried again now */
  kick_ftp = !tc_json_equal (tcd_config_node (old, "ftp"), tcd_config_node (doc, "ftp"));
  kick_email = !tc_json_equal (tcd_config_node (old, "email"), tcd_config_node (doc, "email"));
  kick_center = !tc_json_equal (tcd_config_node (old, "center"),
      tcd_config_node (doc, "center"));
  json_node_unref (old);
  if (kick_ftp)
    tcd_spool_kick (e->spool, "ftp");
  if (kick_email)
    tcd_spool_kick (e->spool, "email");
  for (guint i = 1; kick_center && i <= 4; i++) {
    g_autofree gchar *ch = g_strdup_printf ("center-%u", i);
    tcd_spool_kick (e->spool, ch);
  }
  if (e->env_alarm && !json_node_get_boolean (tcd_config_node (doc, "environment_alarm.enabled")))
    tcd_ev_watch_environment (e, &(GstThermalMeta) { .fpa_temperature = e->env_value });
}

TcdAlarmIo *
tcd_events_get_io (TcdEvents *e)
{
  return e ? e->io : NULL;
}

TcdStore *
tcd_events_get_captures (TcdEvents *e)
{
  return e->captures;
}

TcdStore *
tcd_events_get_recordings (TcdEvents *e)
{
  return e->recordings;
}

TcdCapture *
tcd_events_get_capture (TcdEvents *e)
{
  return e->capture;
}

TcdRecord *
tcd_events_get_record (TcdEvents *e)
{
  return e->record;
}

TcdSpool *
tcd_events_get_spool (TcdEvents *e)
{
  return e->spool;
}

JsonNode *
tcd_events_state (TcdEvents *e)
{
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new (), *b = json_object_new (), *env = json_object_new ();
  JsonObject *net = json_object_new (), *st = json_object_new ();
  gint64 now = g_get_monotonic_time ();

  json_object_set_member (o, "io", tcd_alarmio_status (e->io));
  json_object_set_string_member (b, "shutter", e->shutter_closed ? "closed" : "open");
  json_object_set_boolean_member (b, "supported", !e->no_shutter);
  if (e->shutter_closed)
    json_object_set_string_member (b, "reason", e->shutter_reason);
  json_object_set_double_member (b, "remaining_s", e->burn_until > now
      ? round ((e->burn_until - now) / 1e5) / 10 : 0);
  json_object_set_object_member (o, "burning_prevention", b);
  json_object_set_boolean_member (env, "alarm", e->env_alarm);
  if (isfinite (e->env_value) && e->env_value != 0)
    json_object_set_double_member (env, "device_temperature", round (e->env_value * 100) / 100);
  json_object_set_object_member (o, "environment", env);
  json_object_set_boolean_member (net, "available", !e->net_down);
  json_object_set_boolean_member (net, "ip_conflict", e->ip_conflict);
  json_object_set_boolean_member (net, "simulated", e->sim_link >= 0 || e->sim_conflict >= 0);
  json_object_set_object_member (o, "network", net);
  json_object_set_member (o, "delivery", tcd_spool_status (e->spool));
  json_object_set_member (o, "recording", tcd_record_status (e->record));
  json_object_set_member (st, "captures", tcd_store_usage (e->captures));
  json_object_set_member (st, "recordings", tcd_store_usage (e->recordings));
  json_object_set_object_member (o, "storage", st);
  json_node_take_object (n, o);
  return n;
}

