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
#include "tcd-events.h"

#include <gst/gst.h>
#include <math.h>
#include <string.h>

#include "gstthermalmeta.h"
#include "tcd-schedule.h"
#include "tcd-transfer.h"
#include "tc-json.h"

#define TICK_MS 200
#define MiB (1024 * 1024)

struct _TcdEvents {
  TcdConfig *config;
  TcdSecurity *security;
  TcdBus *bus;
  TcdPipeline *pipeline;
  gchar *serial;
  TcdAlarmIo *io;
  TcdStore *captures, *recordings;
  TcdCapture *capture;
  TcdRecord *record;
  TcdSpool *spool;

  GMutex lock;                  /* doc */
  JsonNode *doc;                /* a copy of the configuration for the workers */
  GCancellable *cancel;

  guint tick;
  guint ticks;
  /* burning prevention */
  gboolean shutter_closed, no_shutter;
  gint64 burn_until;            /* monotonic us; 0: not closed by auto */
  const gchar *shutter_reason;
  guint recovery_id;
  gdouble burn_value;
  /* environment temperature */
  gboolean env_alarm;
  gint64 env_last;
  gdouble env_value;
  /* network */
  GNetworkMonitor *monitor;
  gulong monitor_id;
  gint sim_link, sim_conflict;  /* -1: not simulated */
  gboolean net_down, ip_conflict;
  /* calibration */
  gchar *cal_path, *cal_hash;
};

typedef struct {
  TcdEvents *e;
  JsonNode *ev;
  gchar *tag, *ftp_dir;
  gboolean ftp, email;
} PictureJob;

/* ---- helpers ---- */

static JsonNode *
cfg (TcdEvents *e, const gchar *path)
{
  return tcd_config_node (tcd_config_get (e->config), path);
}

static GDateTime *
local_now (TcdEvents *e)
{
  JsonNode *tzn = cfg (e, "time.timezone");
  g_autoptr (GTimeZone) tz = g_time_zone_new_identifier (tzn ? json_node_get_string (tzn)
      : "UTC");

  if (!tz)
    tz = g_time_zone_new_utc ();
  return g_date_time_new_now (tz);
}

static gboolean
armed (TcdEvents *e, JsonNode *schedule)
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
static JsonNode *
doc_ref (TcdEvents *e)
{
  JsonNode *d;

  g_mutex_lock (&e->lock);
  d = json_node_ref (e->doc);
  g_mutex_unlock (&e->lock);
  return d;
}

static void
spool_add (TcdEvents *e, const gchar *channel, JsonNode *job, GPtrArray *pictures)
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

static JsonNode *
job_new (const gchar *kind, JsonNode *ev)
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
    JsonNode *ev = tcd_event_new ("capture");
    JsonArray *names = json_array_new ();
    for (guint i = 0; i < pictures->len; i++)
      json_array_add_string_element (names,
          ((TcdPicture *) g_ptr_array_index (pictures, i))->name);
    json_object_set_string_member (json_node_get_object (ev), "tag", j->tag);
    json_object_set_array_member (json_node_get_object (ev), "files", names);
    tcd_bus_emit (e->bus, TCD_EVENT_CAPTURE, ev);
  }
  if (j->ftp && pictures->len) {
    JsonNode *job = job_new ("ftp", j->ev);
    json_object_set_string_member (json_node_get_object (job), "dir", j->ftp_dir);
    spool_add (e, "ftp", job, pictures);
    json_node_unref (job);
  }
  if (j->email) {
    JsonNode *job = job_new ("email", j->ev);
    spool_add (e, "email", job, pictures);
    json_node_unref (job);
  }
  picture_job_free (j);
}

static gchar *
ftp_dir_now (TcdEvents *e, const gchar *tag)
{
  g_autoptr (GDateTime) now = local_now (e);
  return tcd_transfer_ftp_dir (cfg (e, "ftp"), cfg (e, "device"), e->serial, tag, now);
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
      && json_array_get_length (json_node_get_array (cfg (e, "email.receivers"))) > 0)
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
static void
link_event (TcdEvents *e, JsonNode *ev, JsonNode *linkage, const gchar *tag,
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
    JsonArray *list = json_node_get_array (cfg (e, "alarm_outputs.outputs"));
    JsonNode *schedule = NULL;

    for (guint k = 0; k < json_array_get_length (list); k++)
      if (tc_json_get_int (tc_json_array_get_object (list, k), "id", 0) == id)
        schedule = json_object_get_member (tc_json_array_get_object (list, k),
            "schedule");
    if (begin || momentary) {
      if (armed (e, schedule))
        tcd_alarmio_link (e->io, id, out_source, TRUE);
      if (momentary)
        tcd_alarmio_link (e->io, id, out_source, FALSE);
    }
  }
  if (member_true (linkage, "center") && (receivers = cfg (e, "center.receivers"))) {
    for (guint i = 0; i < json_array_get_length (json_node_get_array (receivers)); i++) {
      g_autofree gchar *channel = g_strdup_printf ("center-%u", i + 1);
      JsonNode *job = job_new ("center", ev);
      json_object_set_int_member (json_node_get_object (job), "receiver", i);
      spool_add (e, channel, job, NULL);
      json_node_unref (job);
    }
  }
  if (!(begin || momentary))
    return;
  ftp = member_true (linkage, "ftp") && ftp_ready (e, tag);
  email = member_true (linkage, "email") && email_ready (e, tag);
  if (ftp || member_true (linkage, "capture")) {
    PictureJob *j = g_new0 (PictureJob, 1);
    JsonObject *ce = json_node_get_object (cfg (e, "capture.event"));

    j->e = e;
    j->ev = tcd_json_deep_copy (ev);
    j->tag = g_strdup (tag);
    j->ftp = ftp;
    j->ftp_dir = ftp_dir_now (e, tag);
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
  conf = cfg (e, path);
  out_source = g_strdup_printf ("%s:%s", tag, level);
  if (g_str_equal (state, "stop"))
    release_outputs (e, out_source);
  if (g_str_equal (level, "pre_alarm") && !member_true (conf, "pre_alarm"))
    return;
  if (g_str_equal (state, "stop")) {
    /* an end is always linked: outputs go off, the center hears it */
    link_event (e, ev, json_object_get_member (json_node_get_object (conf), "linkage"), tag,
        out_source, FALSE, TRUE, FALSE);
    return;
  }
  if (!armed (e, json_object_get_member (json_node_get_object (conf), "schedule"))) {
    g_message ("%s %s %s: outside its arming schedule, not linked", tag, level,
        repeat ? "repeat" : "start");
    return;
  }
  link_event (e, ev, json_object_get_member (json_node_get_object (conf), "linkage"), tag,
      out_source, TRUE, FALSE, FALSE);
}

void
tcd_events_exception (TcdEvents *e, const gchar *type, JsonNode *ev)
{
  g_autofree gchar *path = g_strdup_printf ("exceptions.%s", type);
  JsonNode *conf = cfg (e, path);
  const gchar *state = tc_json_get_string (json_node_get_object (ev),
      "state", NULL);

  tcd_bus_emit (e->bus, TCD_EVENT_EXCEPTION, json_node_ref (ev));
  if (g_strcmp0 (state, "stop") == 0)
    release_outputs (e, type);
  if (!conf || !member_true (conf, "enabled"))
    return;
  link_event (e, ev, json_object_get_member (json_node_get_object (conf), "linkage"), type,
      type, g_strcmp0 (state, "start") == 0, g_strcmp0 (state, "stop") == 0, state == NULL);
}

static void
raise_exception (TcdEvents *e, const gchar *type, const gchar *state, const gchar *message)
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
  JsonNode *ev = tcd_event_new ("input");
  JsonObject *o = json_node_get_object (ev);
  JsonArray *list = json_node_get_array (cfg (e, "alarm_inputs.inputs"));
  JsonObject *conf = NULL;
  g_autofree gchar *tag = g_strdup_printf ("input-%u", id);

  json_object_set_int_member (o, "input", id);
  json_object_set_string_member (o, "name", name);
  json_object_set_string_member (o, "level", "alarm");
  json_object_set_string_member (o, "state", alarm ? "start" : "stop");
  tcd_bus_emit (e->bus, TCD_EVENT_ALARM, json_node_ref (ev));
  for (guint k = 0; k < json_array_get_length (list); k++)
    if ((guint) tc_json_get_int (tc_json_array_get_object (list, k), "id", 0) == id)
      conf = tc_json_array_get_object (list, k);
  if (conf) {
    if (alarm && !armed (e, json_object_get_member (conf, "schedule")))
      g_message ("%s: outside its arming schedule, not linked", tag);
    else
      link_event (e, ev, json_object_get_member (conf, "linkage"), tag, tag, alarm, !alarm,
          FALSE);
  }
  json_node_unref (ev);
}

static void
on_output (guint id, const gchar *name, gboolean on, const gchar *why, gpointer user_data)
{
  TcdEvents *e = user_data;
  JsonNode *ev = tcd_event_new ("output");
  JsonObject *o = json_node_get_object (ev);

  json_object_set_int_member (o, "output", id);
  json_object_set_string_member (o, "name", name);
  json_object_set_boolean_member (o, "on", on);
  json_object_set_string_member (o, "why", why);
  tcd_bus_emit (e->bus, TCD_EVENT_OUTPUT, ev);
}

/* ---- deliveries (worker threads) ---- */

static GBytes *
read_file (const gchar *dir, const gchar *name, GError **error)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  gchar *data;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return g_bytes_new_take (data, len);
}

static gchar *
event_summary (JsonObject *ev)
{
  const gchar *source = tc_json_get_string (ev, "source", "event");
  const gchar *name = tc_json_get_string (ev, "name", NULL);
  const gchar *type = tc_json_get_string (ev, "type", NULL);
  const gchar *level = tc_json_get_string (ev, "level", NULL);
  const gchar *state = tc_json_get_string (ev, "state", NULL);

  return g_strdup_printf ("%s%s%s%s%s%s%s%s%s", source, type ? " " : "", type ? type : "",
      name ? " \"" : "", name ? name : "", name ? "\"" : "", level ? " " : "",
      level ? level : "", state && g_str_equal (state, "stop") ? " ended" : "");
}

static gboolean
send_job (const gchar *channel, JsonNode *job, const gchar *job_dir, GCancellable *cancel,
    gpointer user_data, GError **error)
{
  TcdEvents *e = user_data;
  g_autoptr (JsonNode) doc = doc_ref (e);
  JsonObject *j = json_node_get_object (job);
  const gchar *kind = tc_json_get_string (j, "kind", "");
  JsonNode *ev = json_object_get_member (j, "event");
  JsonArray *files = tc_json_get_array (j, "files");
  guint n = files ? json_array_get_length (files) : 0;
  guint timeout = json_node_get_int (tcd_config_node (doc, "delivery.timeout_s"));

  (void) channel;
  if (g_str_equal (kind, "ftp")) {
    const gchar *dir = tc_json_get_string (j, "dir", "");
    for (guint i = 0; i < n; i++) {
      const gchar *name = tc_json_array_get_string (files, i);
      g_autoptr (GBytes) data = read_file (job_dir, name, error);
      if (!data || !tcd_transfer_ftp_put (tcd_config_node (doc, "ftp"), dir, name, data,
              timeout, cancel, error))
        return FALSE;
    }
    return TRUE;
  }
  if (g_str_equal (kind, "email")) {
    g_autofree TcdAttachment *att = g_new0 (TcdAttachment, MAX (n, 1));
    g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    g_autofree gchar *summary = event_summary (json_node_get_object (ev));
    g_autofree gchar *subject = NULL, *text = NULL;
    const gchar *devname = json_node_get_string (tcd_config_node (doc, "device.name"));
    GString *body = g_string_new (NULL);
    JsonObjectIter it;
    const gchar *key;
    JsonNode *val;

    for (guint i = 0; i < n; i++) {
      const gchar *name = tc_json_array_get_string (files, i);
      GBytes *data = read_file (job_dir, name, error);
      if (!data) {
        g_string_free (body, TRUE);
        return FALSE;
      }
      g_ptr_array_add (keep, data);
      att[i].name = name;
      att[i].content_type = g_str_has_suffix (name, ".bmp") ? "image/bmp" : "image/jpeg";
      att[i].data = data;
    }
    subject = g_strdup_printf ("%s: %s", devname, summary);
    g_string_append_printf (body, "%s (%s) reports: %s\n\n", devname, e->serial, summary);
    json_object_iter_init (&it, json_node_get_object (ev));
    while (json_object_iter_next (&it, &key, &val)) {
      g_autofree gchar *v = JSON_NODE_HOLDS_VALUE (val) && json_node_get_value_type (val)
          == G_TYPE_STRING ? g_strdup (json_node_get_string (val))
          : tcd_json_to_string (val, FALSE);
      g_string_append_printf (body, "%s: %s\n", key, v);
    }
    text = g_string_free (body, FALSE);
    return tcd_transfer_email (tcd_config_node (doc, "email"), subject, text, att, n, timeout,
        cancel, error);
  }
  if (g_str_equal (kind, "center")) {
    JsonArray *rs = json_node_get_array (tcd_config_node (doc, "center.receivers"));
    guint i = tc_json_get_int (j, "receiver", 0);
    g_autoptr (JsonNode) body = tcd_json_deep_copy (ev);
    g_autofree gchar *json = NULL;

    if (i >= json_array_get_length (rs)) {
      g_message ("center receiver %u is gone: its delivery is dropped", i + 1);
      return TRUE;
    }
    json_object_set_string_member (json_node_get_object (body), "device",
        json_node_get_string (tcd_config_node (doc, "device.name")));
    json_object_set_string_member (json_node_get_object (body), "serial", e->serial);
    json = tcd_json_to_string (body, FALSE);
    return tcd_transfer_http_post (json_array_get_element (rs, i), json, timeout, cancel,
        error);
  }
  g_message ("a delivery of unknown kind \"%s\" is dropped", kind);
  return TRUE;
}

static void
on_delivery (const gchar *id, const gchar *channel, JsonNode *job, const gchar *state,
    const gchar *reason, guint attempts, gpointer user_data)
{
  TcdEvents *e = user_data;
  JsonNode *ev = tcd_event_new ("delivery");
  JsonObject *o = json_node_get_object (ev);
  JsonObject *j = job && JSON_NODE_HOLDS_OBJECT (job) ? json_node_get_object (job) : NULL;

  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "channel", channel);
  json_object_set_string_member (o, "state", state);
  if (reason)
    json_object_set_string_member (o, "reason", reason);
  json_object_set_int_member (o, "attempts", attempts);
  if (j && json_object_has_member (j, "event"))
    json_object_set_member (o, "event", tcd_json_deep_copy (json_object_get_member (j,
                "event")));
  tcd_bus_emit (e->bus, TCD_EVENT_DELIVERY, ev);
  if (g_str_equal (state, "dropped")) {
    g_autofree gchar *m = g_strdup_printf ("a delivery on %s was dropped: %s", channel,
        reason ? reason : "");
    g_warning ("%s", m);
    tcd_audit (e->security, "system", NULL, NULL, "%s", m);
    raise_exception (e, "delivery_dropped", NULL, m);
  } else if (g_str_equal (state, "retry")) {
    g_message ("delivery %s on %s failed (attempt %u): %s", id, channel, attempts,
        reason ? reason : "");
  } else {
    g_message ("delivery %s on %s delivered after %u attempt(s)", id, channel, attempts);
  }
}

static void
on_timed (GPtrArray *pictures, gpointer user_data)
{
  TcdEvents *e = user_data;

  if (!pictures->len || !tcd_config_bool (e->config, "ftp.upload_pictures")
      || !*tcd_config_string (e->config, "ftp.server"))
    return;
  {
    g_autoptr (JsonNode) ev = tcd_event_new ("timed");
    JsonNode *job = job_new ("ftp", ev);
    g_autofree gchar *dir = ftp_dir_now (e, "timed");
    json_object_set_string_member (json_node_get_object (job), "dir", dir);
    spool_add (e, "ftp", job, pictures);
    json_node_unref (job);
  }
}

/* ---- the watch: burning prevention, environment, calibration ---- */

static void
burning_event (TcdEvents *e, gboolean closed, const gchar *reason)
{
  JsonNode *ev = tcd_event_new ("burning_prevention");
  JsonObject *o = json_node_get_object (ev);

  json_object_set_string_member (o, "shutter", closed ? "closed" : "open");
  json_object_set_string_member (o, "reason", reason);
  if (closed && g_str_equal (reason, "auto")) {
    json_object_set_double_member (o, "value", round (e->burn_value * 10) / 10);
    json_object_set_double_member (o, "threshold",
        tcd_config_double (e->config, "burning_prevention.threshold"));
  }
  g_message ("burning prevention: shutter %s (%s)", closed ? "closed" : "open", reason);
  tcd_bus_emit (e->bus, TCD_EVENT_BURNING, ev);
}

static gboolean
recover (gpointer user_data)
{
  TcdEvents *e = user_data;

  e->recovery_id = 0;
  /* if the shutter closed again since it opened, the correction takes
   * that shutter as its reference and leaves it closed (thermalnuc) */
  g_message ("burning recovery: flat-field correction");
  tcd_pipeline_ffc (e->pipeline);
  return G_SOURCE_REMOVE;
}

static void
watch_burning (TcdEvents *e, GstThermalMeasureMeta *mm)
{
  JsonNode *bp = cfg (e, "burning_prevention");
  JsonObject *o = json_node_get_object (bp);
  gboolean enabled = tc_json_get_bool (o, "enabled", FALSE);
  gboolean manual = g_str_equal (tc_json_get_string (o, "mode", NULL), "manual");
  gint64 now = g_get_monotonic_time ();
  gboolean want;
  const gchar *reason;

  if (!enabled) {
    want = FALSE;
    reason = "disabled";
    e->burn_until = 0;
  } else if (manual) {
    want = g_str_equal (tc_json_get_string (o, "shutter", NULL), "closed");
    reason = "manual";
    e->burn_until = 0;
  } else if (e->burn_until && now < e->burn_until) {
    want = TRUE;
    reason = "auto";
  } else if (!e->shutter_closed && mm && isfinite (mm->max)
      && mm->max >= tc_json_get_double (o, "threshold", 0)) {
    e->burn_value = mm->max;
    e->burn_until = now + tc_json_get_int (o, "duration_s", 0) * G_USEC_PER_SEC;
    want = TRUE;
    reason = "auto";
  } else {
    want = FALSE;
    reason = e->burn_until ? "duration over" : "auto";
  }
  if (want == e->shutter_closed) {
    if (want)
      tcd_pipeline_set_shutter (e->pipeline, TRUE);  /* an FFC may have opened it */
    return;
  }
  if (!tcd_pipeline_set_shutter (e->pipeline, want)) {
    if (want && !e->no_shutter)
      g_warning ("burning prevention: the source has no shutter");
    e->no_shutter = TRUE;
    e->burn_until = 0;
    return;
  }
  e->shutter_closed = want;
  e->shutter_reason = reason;
  burning_event (e, want, reason);
  if (!want && e->burn_until) {
    e->burn_until = 0;
    if (tc_json_get_bool (o, "recovery", FALSE) && !e->recovery_id)
      e->recovery_id = g_timeout_add (500, recover, e);
  }
}

static void
environment_event (TcdEvents *e, const gchar *state, gboolean repeat, gdouble value,
    gdouble threshold)
{
  g_autoptr (JsonNode) ev = tcd_event_new ("environment");
  JsonObject *o = json_node_get_object (ev);
  JsonNode *conf = cfg (e, "environment_alarm");

  json_object_set_string_member (o, "name", "device temperature");
  json_object_set_string_member (o, "level", "alarm");
  json_object_set_string_member (o, "state", state);
  json_object_set_boolean_member (o, "repeat", repeat);
  json_object_set_double_member (o, "value", round (value * 100) / 100);
  json_object_set_double_member (o, "threshold", threshold);
  g_message ("environment temperature alarm %s%s: %.2f C (threshold %.1f)", state,
      repeat ? " (repeat)" : "", value, threshold);
  tcd_bus_emit (e->bus, TCD_EVENT_ALARM, json_node_ref (ev));
  if (g_str_equal (state, "stop"))
    link_event (e, ev, json_object_get_member (json_node_get_object (conf), "linkage"),
        "environment", "environment", FALSE, TRUE, FALSE);
  else if (armed (e, json_object_get_member (json_node_get_object (conf), "schedule")))
    link_event (e, ev, json_object_get_member (json_node_get_object (conf), "linkage"),
        "environment", "environment", TRUE, FALSE, FALSE);
}

static void
watch_environment (TcdEvents *e, GstThermalMeta *tm)
{
  JsonObject *o = json_node_get_object (cfg (e, "environment_alarm"));
  gboolean enabled = tc_json_get_bool (o, "enabled", FALSE);
  gdouble th = tc_json_get_double (o, "threshold", 0);
  gint64 interval = tc_json_get_int (o, "interval_s", 0) * G_USEC_PER_SEC;
  gint64 now = g_get_monotonic_time ();
  gdouble t;

  if (!tm || !isfinite (tm->fpa_temperature))
    return;
  t = e->env_value = tm->fpa_temperature;
  if (!e->env_alarm && enabled && t > th) {
    e->env_alarm = TRUE;
    e->env_last = now;
    environment_event (e, "start", FALSE, t, th);
  } else if (e->env_alarm && (!enabled || t < th - 1.0)) {
    /* 1 K of hysteresis */
    e->env_alarm = FALSE;
    environment_event (e, "stop", FALSE, t, th);
  } else if (e->env_alarm && interval > 0 && now - e->env_last >= interval) {
    e->env_last = now;
    environment_event (e, "start", TRUE, t, th);
  }
}

static void
watch_calibration (TcdEvents *e, GstThermalMeta *tm)
{
  g_autofree gchar *hash = NULL, *stored = NULL;
  g_autoptr (GError) err = NULL;

  if (!tm || !tm->has_calibration)
    return;
  /* the factory calibration: 13 doubles, no padding */
  hash = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) &tm->calibration,
      sizeof tm->calibration);
  if (e->cal_hash && g_str_equal (hash, e->cal_hash))
    return;
  if (g_file_get_contents (e->cal_path, &stored, NULL, NULL))
    g_strstrip (stored);
  if (stored && *stored && !g_str_equal (stored, hash)) {
    g_autofree gchar *m = g_strdup_printf ("the sensor's calibration changed (%.12s... -> "
        "%.12s...): temperatures may be affected", stored, hash);
    raise_exception (e, "calibration_changed", NULL, m);
  }
  if (!stored || !g_str_equal (stored, hash))
    if (!g_file_set_contents (e->cal_path, hash, -1, &err))
      g_warning ("cannot keep the calibration's fingerprint: %s", err->message);
  g_free (e->cal_hash);
  e->cal_hash = g_steal_pointer (&hash);
}

static gboolean
tick (gpointer user_data)
{
  TcdEvents *e = user_data;
  g_autoptr (GstSample) s = tcd_pipeline_get_temperature (e->pipeline);
  GstBuffer *buf = s ? gst_sample_get_buffer (s) : NULL;
  GstThermalMeta *tm = buf ? gst_buffer_get_thermal_meta (buf) : NULL;
  GstThermalMeasureMeta *mm = buf ? gst_buffer_get_thermal_measure_meta (buf) : NULL;

  watch_burning (e, mm);
  if (++e->ticks % (1000 / TICK_MS) == 0) {
    watch_environment (e, tm);
    watch_calibration (e, tm);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- network ---- */

static void
update_network (TcdEvents *e)
{
  gboolean down = e->sim_link >= 0 ? !e->sim_link
      : !g_network_monitor_get_network_available (e->monitor);
  gboolean conflict = e->sim_conflict > 0;

  if (down != e->net_down) {
    e->net_down = down;
    raise_exception (e, "network_disconnected", down ? "start" : "stop",
        down ? "the device is offline" : "the device is online again");
  }
  if (conflict != e->ip_conflict) {
    e->ip_conflict = conflict;
    raise_exception (e, "ip_conflict", conflict ? "start" : "stop",
        conflict ? "another device uses this device's IP address"
        : "the IP address conflict is over");
  }
}

static void
on_network_changed (GNetworkMonitor *m, gboolean available, gpointer user_data)
{
  (void) m;
  (void) available;
  update_network (user_data);
}

void
tcd_events_simulate_network (TcdEvents *e, gint link_up, gint ip_conflict)
{
  if (link_up >= 0)
    e->sim_link = link_up;
  if (ip_conflict >= 0)
    e->sim_conflict = ip_conflict;
  update_network (e);
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
  ev = tcd_event_new (source ? source : "rule");
  o = json_node_get_object (ev);
  gst_structure_get_int (s, "id", &id);
  if (g_strcmp0 (source, "rule") == 0)
    json_object_set_int_member (o, "rule", id);
  else if (g_strcmp0 (source, "comparison") == 0)
    json_object_set_int_member (o, "comparison", id);
  json_object_set_string_member (o, "name", gst_structure_get_string (s, "name"));
  json_object_set_string_member (o, "level", gst_structure_get_string (s, "level"));
  json_object_set_string_member (o, "state", gst_structure_get_string (s, "state"));
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
      || !(e->spool = tcd_spool_new (spool, send_job, on_delivery, e, error))) {
    tcd_events_free (e);
    return NULL;
  }
  e->capture = tcd_capture_new (pipeline, e->captures);
  tcd_capture_set_timed_func (e->capture, on_timed, e);
  e->record = tcd_record_new (pipeline, e->recordings);
  e->monitor = g_network_monitor_get_default ();
  e->net_down = !g_network_monitor_get_network_available (e->monitor);
  if (e->net_down)
    g_message ("the network is not available");
  e->monitor_id = g_signal_connect (e->monitor, "network-changed",
      G_CALLBACK (on_network_changed), e);
  tcd_events_apply (e, doc);
  e->tick = g_timeout_add (TICK_MS, tick, e);
  return e;
}

void
tcd_events_free (TcdEvents *e)
{
  if (!e)
    return;
  g_clear_handle_id (&e->tick, g_source_remove);
  g_clear_handle_id (&e->recovery_id, g_source_remove);
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
    conf = cfg (e, "events.rules");
  else if (g_str_has_prefix (tag, "comparison-"))
    conf = cfg (e, "events.comparisons");
  else if (g_str_equal (tag, "scene"))
    conf = cfg (e, "events.scene");
  else if (g_str_equal (tag, "environment"))
    conf = cfg (e, "environment_alarm");
  else if (g_str_has_prefix (tag, "input-")) {
    JsonArray *list = json_node_get_array (cfg (e, "alarm_inputs.inputs"));
    for (guint k = 0; k < json_array_get_length (list); k++)
      if (tc_json_get_int (tc_json_array_get_object (list, k), "id", 0)
          == g_ascii_strtoll (tag + 6, NULL, 10))
        conf = json_array_get_element (list, k);
  } else {
    g_autofree gchar *path = g_strconcat ("exceptions.", tag, NULL);
    conf = cfg (e, path);
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
    watch_environment (e, &(GstThermalMeta) { .fpa_temperature = e->env_value });
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

/* ---- tests of the settings ---- */

typedef struct {
  gchar *what;
  JsonNode *section, *device;
  gchar *serial;
  guint timeout;
} TestJob;

static void
test_job_free (TestJob *t)
{
  g_free (t->what);
  json_node_unref (t->section);
  json_node_unref (t->device);
  g_free (t->serial);
  g_free (t);
}

static void
test_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  TestJob *t = data;
  GError *err = NULL;
  gboolean ok = FALSE;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *stamp = g_date_time_format_iso8601 (now);
  g_autofree gchar *text = g_strdup_printf ("A test from thermocam %s at %s.\n", t->serial,
      stamp);
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  (void) source;
  if (g_str_equal (t->what, "ftp")) {
    g_autofree gchar *dir = tcd_transfer_ftp_dir (t->section, t->device, t->serial, "test",
        now);
    ok = tcd_transfer_ftp_put (t->section, dir, "thermocam-test.txt", bytes, t->timeout,
        cancel, &err);
  } else if (g_str_equal (t->what, "email")) {
    ok = tcd_transfer_email (t->section, "thermocam: a test", text, NULL, 0, t->timeout,
        cancel, &err);
  } else {
    JsonArray *rs = tc_json_get_array (json_node_get_object (t->section),
        "receivers");
    g_autoptr (JsonNode) ev = tcd_event_new ("test");
    g_autofree gchar *json = NULL;

    json_object_set_string_member (json_node_get_object (ev), "serial", t->serial);
    json = tcd_json_to_string (ev, FALSE);
    ok = TRUE;
    if (!rs || json_array_get_length (rs) == 0) {
      ok = FALSE;
      g_set_error (&err, TCD_TRANSFER_ERROR, TCD_TRANSFER_ERROR_CONFIG,
          "no surveillance center receiver is configured");
    }
    for (guint i = 0; ok && rs && i < json_array_get_length (rs); i++)
      ok = tcd_transfer_http_post (json_array_get_element (rs, i), json, t->timeout, cancel,
          &err);
  }
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, err);
}

typedef struct {
  TcdEventsTestFunc done;
  gpointer user_data;
} TestDone;

static void
test_done (GObject *source, GAsyncResult *res, gpointer data)
{
  TestDone *d = data;
  GError *err = NULL;

  (void) source;
  g_task_propagate_boolean (G_TASK (res), &err);
  d->done (err, d->user_data);
  g_clear_error (&err);
  g_free (d);
}

void
tcd_events_test (TcdEvents *e, const gchar *what, JsonNode *section, TcdEventsTestFunc done,
    gpointer user_data)
{
  TestJob *t = g_new0 (TestJob, 1);
  TestDone *d = g_new0 (TestDone, 1);
  g_autoptr (GTask) task = NULL;

  t->what = g_strdup (what);
  t->section = tcd_json_deep_copy (section ? section : cfg (e, what));
  t->device = tcd_json_deep_copy (cfg (e, "device"));
  t->serial = g_strdup (e->serial);
  t->timeout = tcd_config_int (e->config, "delivery.timeout_s");
  d->done = done;
  d->user_data = user_data;
  task = g_task_new (NULL, e->cancel, test_done, d);
  g_task_set_task_data (task, t, (GDestroyNotify) test_job_free);
  g_task_run_in_thread (task, test_thread);
}
