/* thermocamd: events: the deliveries (FTP, email, the surveillance center)
 * sent from the spool by worker threads, and the tests of their settings
 * SPDX-License-Identifier: LGPL-2.1-or-later
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

gboolean
tcd_ev_send_job (const gchar *channel, JsonNode *job, const gchar *job_dir, GCancellable *cancel,
    gpointer user_data, GError **error)
{
  TcdEvents *e = user_data;
  g_autoptr (JsonNode) doc = tcd_ev_doc_ref (e);
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

void
tcd_ev_on_delivery (const gchar *id, const gchar *channel, JsonNode *job, const gchar *state,
    const gchar *reason, guint attempts, gpointer user_data)
{
  TcdEvents *e = user_data;
  JsonNode *ev = tcd_event_delivery_new (id, channel, state, reason, attempts);
  JsonObject *o = json_node_get_object (ev);
  JsonObject *j = job && JSON_NODE_HOLDS_OBJECT (job) ? json_node_get_object (job) : NULL;

  if (j && json_object_has_member (j, "event"))
    json_object_set_member (o, "event", tcd_json_deep_copy (json_object_get_member (j,
                "event")));
  tcd_bus_emit (e->bus, TCD_EVENT_DELIVERY, ev);
  if (g_str_equal (state, "dropped")) {
    g_autofree gchar *m = g_strdup_printf ("a delivery on %s was dropped: %s", channel,
        reason ? reason : "");
    g_warning ("%s", m);
    tcd_audit (e->security, "system", NULL, NULL, "%s", m);
    tcd_ev_raise_exception (e, "delivery_dropped", NULL, m);
  } else if (g_str_equal (state, "retry")) {
    g_message ("delivery %s on %s failed (attempt %u): %s", id, channel, attempts,
        reason ? reason : "");
  } else {
    g_message ("delivery %s on %s delivered after %u attempt(s)", id, channel, attempts);
  }
}

void
tcd_ev_on_timed (GPtrArray *pictures, gpointer user_data)
{
  TcdEvents *e = user_data;

  if (!pictures->len || !tcd_config_bool (e->config, "ftp.upload_pictures")
      || !*tcd_config_string (e->config, "ftp.server"))
    return;
  {
    g_autoptr (JsonNode) ev = tcd_event_new ("timed");
    JsonNode *job = tcd_ev_job_new ("ftp", ev);
    g_autofree gchar *dir = tcd_ev_ftp_dir_now (e, "timed");
    json_object_set_string_member (json_node_get_object (job), "dir", dir);
    tcd_ev_spool_add (e, "ftp", job, pictures);
    json_node_unref (job);
  }
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
  g_autoptr (GDateTime) now = tcd_clock_now_utc_dt ();
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
  t->section = tcd_json_deep_copy (section ? section : tcd_ev_cfg (e, what));
  t->device = tcd_json_deep_copy (tcd_ev_cfg (e, "device"));
  t->serial = g_strdup (e->serial);
  t->timeout = tcd_config_int (e->config, "delivery.timeout_s");
  d->done = done;
  d->user_data = user_data;
  task = g_task_new (NULL, e->cancel, test_done, d);
  g_task_set_task_data (task, t, (GDestroyNotify) test_job_free);
  g_task_run_in_thread (task, test_thread);
}

