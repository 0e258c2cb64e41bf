/* An application of the thermal elements from C: the simulated sensor through
 * the correction, radiometry and measurement; each frame's readings read from
 * the buffer (gstthermalmeta.h, pkg-config gstthermalmeta-1.0), a rule changed
 * while the pipeline runs, its alarm heard on the bus.
 *
 *   cc read-meta.c $(pkg-config --cflags --libs gstthermalmeta-1.0 gstreamer-app-1.0)
 *   GST_PLUGIN_PATH=build/plugins/gst ./read-meta
 *
 * Exits 0 when the motor of the simulated scene reads 85 °C within 0.5 and
 * its alarm came once its threshold was lowered below that.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <math.h>

#include "gstthermalmeta.h"

#define RULE "{\"id\": 1, \"name\": \"motor\", \"type\": \"polygon\", " \
  "\"points\": [[0.45, 0.63], [0.57, 0.63], [0.57, 0.81], [0.45, 0.81]]"

typedef struct {
  GstElement *measure;
  GMainLoop *loop;
  guint frames, readings;
  gdouble sum;
  gboolean alarm;
} App;

static GstFlowReturn
on_sample (GstAppSink *sink, gpointer data)
{
  App *app = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstThermalMeasureMeta *mm = buf ? gst_buffer_get_thermal_measure_meta (buf) : NULL;
  GstThermalRuleResult *r = mm ? gst_thermal_measure_meta_find_rule (mm, 1) : NULL;

  app->frames++;
  if (r && r->valid && app->frames > 5) {
    gdouble x, y;
    gst_thermal_rule_result_get_max_position (r, &x, &y);
    app->sum += r->max;
    app->readings++;
    if (app->readings == 1)
      g_print ("%s: max %.2f °C at (%.3f, %.3f), min %.2f, avg %.2f\n",
          gst_thermal_rule_result_get_name (r), r->max, x, y, r->min, r->avg);
  }
  if (app->frames == 30)
    /* the rule changed live: an alarm above 60 °C */
    g_object_set (app->measure, "rules", "[" RULE ", \"alarm\": {\"enabled\": true, "
        "\"on\": \"max\", \"pre_alarm\": 55, \"alarm\": 60}}]", NULL);
  if (sample)
    gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static gboolean
on_message (GstBus *bus, GstMessage *msg, gpointer data)
{
  App *app = data;
  const GstStructure *s = gst_message_get_structure (msg);

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && gst_structure_has_name (s, "thermal-alarm")
      && g_strcmp0 (gst_structure_get_string (s, "state"), "start") == 0 && !app->alarm) {
    gdouble v = 0;
    gst_structure_get_double (s, "value", &v);
    g_print ("alarm: %s %s at %.2f °C\n", gst_structure_get_string (s, "name"),
        gst_structure_get_string (s, "level"), v);
    app->alarm = TRUE;
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS
      || GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_main_loop_quit (app->loop);
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  App app = { 0 };
  GError *err = NULL;
  GstElement *pipeline, *sink;
  GstAppSinkCallbacks cb = { 0 };
  GstBus *bus;
  gdouble avg;
  gboolean ok;

  gst_init (&argc, &argv);
  pipeline = gst_parse_launch ("thermalsrc is-live=true num-buffers=90 "
      "! video/x-raw,format=GRAY16_LE,framerate=30/1 ! thermalnuc ! thermalradiometry "
      "! thermalmeasure name=measure ! appsink name=sink sync=false", &err);
  if (!pipeline) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  app.measure = gst_bin_get_by_name (GST_BIN (pipeline), "measure");
  g_object_set (app.measure, "rules", "[" RULE "}]", NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  cb.new_sample = on_sample;
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cb, &app, NULL);
  app.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_message, &app);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_main_loop_run (app.loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  avg = app.readings ? app.sum / app.readings : NAN;
  ok = fabs (avg - 85) <= 0.5 && app.alarm;
  g_print ("%u frames; motor max %.2f °C on average; %s\n", app.frames, avg,
      ok ? "ok" : "NOT as expected");
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_object_unref (app.measure);
  gst_object_unref (pipeline);
  g_main_loop_unref (app.loop);
  return ok ? 0 : 1;
}
