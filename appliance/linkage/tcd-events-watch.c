/* thermocamd: events: the 5 Hz watch (burning prevention, the environment
 * temperature, the calibration) and the network
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-events-private.h"

#include <gst/gst.h>
#include <math.h>
#include <string.h>

#include "gstthermalmeta.h"
#include "tcd-readings.h"
#include "tcd-schedule.h"
#include "tcd-transfer.h"
#include "tc-json.h"

/* ---- the watch: burning prevention, environment, calibration ---- */

static void
burning_event (TcdEvents *e, gboolean closed, const gchar *reason)
{
  JsonNode *ev = tcd_event_burning_new (closed, reason);
  JsonObject *o = json_node_get_object (ev);

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
  JsonNode *bp = tcd_ev_cfg (e, "burning_prevention");
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
  g_autoptr (JsonNode) ev = tcd_event_alarm_new ("environment", NULL, 0,
      "device temperature", "alarm", state);
  JsonObject *o = json_node_get_object (ev);
  JsonNode *conf = tcd_ev_cfg (e, "environment_alarm");

  json_object_set_boolean_member (o, "repeat", repeat);
  json_object_set_double_member (o, "value", round (value * 100) / 100);
  json_object_set_double_member (o, "threshold", threshold);
  g_message ("environment temperature alarm %s%s: %.2f C (threshold %.1f)", state,
      repeat ? " (repeat)" : "", value, threshold);
  tcd_bus_emit (e->bus, TCD_EVENT_ALARM, json_node_ref (ev));
  if (g_str_equal (state, "stop"))
    tcd_ev_link_event (e, ev, json_object_get_member (json_node_get_object (conf), "linkage"),
        "environment", "environment", FALSE, TRUE, FALSE);
  else if (tcd_ev_armed (e, json_object_get_member (json_node_get_object (conf), "schedule")))
    tcd_ev_link_event (e, ev, json_object_get_member (json_node_get_object (conf), "linkage"),
        "environment", "environment", TRUE, FALSE, FALSE);
}

void
tcd_ev_watch_environment (TcdEvents *e, GstThermalMeta *tm)
{
  JsonObject *o = json_node_get_object (tcd_ev_cfg (e, "environment_alarm"));
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
    tcd_ev_raise_exception (e, "calibration_changed", NULL, m);
  }
  if (!stored || !g_str_equal (stored, hash))
    if (!g_file_set_contents (e->cal_path, hash, -1, &err))
      g_warning ("cannot keep the calibration's fingerprint: %s", err->message);
  g_free (e->cal_hash);
  e->cal_hash = g_steal_pointer (&hash);
}

gboolean
tcd_ev_tick (gpointer user_data)
{
  TcdEvents *e = user_data;
  g_autoptr (GstSample) s = tcd_pipeline_get_temperature (e->pipeline);
  GstBuffer *buf = s ? gst_sample_get_buffer (s) : NULL;
  GstThermalMeta *tm = buf ? gst_buffer_get_thermal_meta (buf) : NULL;
  GstThermalMeasureMeta *mm = buf ? gst_buffer_get_thermal_measure_meta (buf) : NULL;

  watch_burning (e, mm);
  if (++e->ticks % (1000 / TICK_MS) == 0) {
    tcd_ev_watch_environment (e, tm);
    watch_calibration (e, tm);
    /* the readings, once a second, for whoever listens */
    if (s && tcd_bus_wanted (e->bus, TCD_EVENT_MEASUREMENT)
        && tcd_config_bool (e->config, "thermometry.enabled")) {
      gdouble lo, hi;
      JsonNode *r;
      tcd_reading_range (e->config, &lo, &hi);
      if ((r = tcd_reading_from_sample (s, lo, hi)))
        tcd_bus_emit (e->bus, TCD_EVENT_MEASUREMENT, r);
    }
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
    tcd_ev_raise_exception (e, "network_disconnected", down ? "start" : "stop",
        down ? "the device is offline" : "the device is online again");
  }
  if (conflict != e->ip_conflict) {
    e->ip_conflict = conflict;
    tcd_ev_raise_exception (e, "ip_conflict", conflict ? "start" : "stop",
        conflict ? "another device uses this device's IP address"
        : "the IP address conflict is over");
  }
}

void
tcd_ev_on_network_changed (GNetworkMonitor *m, gboolean available, gpointer user_data)
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

