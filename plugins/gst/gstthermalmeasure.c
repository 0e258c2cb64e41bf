/* thermocam: thermalmeasure, temperature rules and alarms
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-thermalmeasure
 * @title: thermalmeasure
 *
 * Measures temperature frames (GRAY16_LE in kelvin, as thermalradiometry
 * makes) and passes them on unchanged, with their results attached as a
 * #GstThermalMeasureMeta:
 *
 * - the whole scene: max, min, average, and where max and min are;
 * - up to 40 rules (`rules`, a JSON array in the shape of DESIGN.md: point,
 *   line, polygon with normalized coordinates; each may have its own
 *   emissivity, distance and reflected temperature, applied through the
 *   frame's radiometric meta);
 * - alarms per rule (above/below on max, min or avg, pre-alarm and alarm
 *   temperatures, tolerance as hysteresis, filter time, alarm interval),
 *   area comparisons (`comparisons`: an alarm on reading(a) - reading(b)) and
 *   a scene alarm (`scene-alarm`).
 *
 * While the source's shutter is closed (the frame's #GstThermalMeta says so:
 * burning prevention) the frame is the shutter, not the scene: the meta is
 * marked not valid (`valid` FALSE, every rule and comparison not valid) and
 * no alarm changes state.
 *
 * Each alarm transition posts an element message "thermal-alarm" (source,
 * id, name, level pre_alarm/alarm, state start/stop, repeat, value, threshold,
 * x, y, timestamp, time); every `message-interval` ms a "thermal-measurement"
 * message carries the readings.  Rule masks are compiled when the rules or the
 * frame size change, not per frame.
 *
 * `rule-distance` is the distance mode: TRUE (self-adaption) a rule's own
 * distance replaces the frame's where the rule sets one; FALSE (fixed) every
 * rule is read at the frame's distance (its own emissivity and reflected
 * temperature still count).  `range-min` and `range-max` are the measurement
 * range: a scene or rule whose minimum is below it or maximum above it is
 * flagged (`below_range`, `above_range` in the meta and the messages).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m thermalsrc ! thermalnuc ! thermalradiometry ! thermalmeasure rules='[{"id":1,"name":"motor","type":"polygon","points":[[0.38,0.55],[0.64,0.55],[0.64,0.9],[0.38,0.9]],"alarm":{"condition":"above","pre_alarm":80,"alarm":90,"tolerance":2}}]' ! thermalpalette ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstthermalmeasure.h"
#include "gstthermalmeta.h"
#include "gstthermalwarn.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_thermal_measure_debug);
#define GST_CAT_DEFAULT gst_thermal_measure_debug

#define DEFAULT_PROP_ALARM_INTERVAL 0.0
#define DEFAULT_PROP_MESSAGE_INTERVAL 1000
#define DEFAULT_PROP_RULE_DISTANCE TRUE
#define RANGE_LIMIT 100000.0

enum
{
  PROP_0,
  PROP_RULES,
  PROP_COMPARISONS,
  PROP_SCENE_ALARM,
  PROP_ALARM_INTERVAL,
  PROP_MESSAGE_INTERVAL,
  PROP_RULE_DISTANCE,
  PROP_RANGE_MIN,
  PROP_RANGE_MAX,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY16_LE")));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY16_LE")));

#define gst_thermal_measure_parent_class parent_class
G_DEFINE_TYPE (GstThermalMeasure, gst_thermal_measure, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (thermalmeasure, "thermalmeasure", GST_RANK_NONE,
    GST_TYPE_THERMAL_MEASURE);

static const gchar *level_names[] = { "normal", "pre_alarm", "alarm" };
static const gchar *kind_names[] = { "start", "stop", "start" };

/* the same alarm, whatever its repeat interval: its state carries over */
static gboolean
alarm_same (const TcAlarmConfig * a, const TcAlarmConfig * b)
{
  return a->enabled == b->enabled && a->on == b->on &&
      a->condition == b->condition && a->has_pre_alarm == b->has_pre_alarm &&
      (!a->has_pre_alarm || a->pre_alarm == b->pre_alarm) &&
      a->alarm == b->alarm && a->tolerance == b->tolerance &&
      a->filter_time == b->filter_time;
}

static void
free_rules (GstThermalMeasureRule * rules, guint n)
{
  guint i;

  for (i = 0; i < n; i++) {
    tc_span_list_clear (&rules[i].spans);
    g_free (rules[i].lut);
  }
  g_free (rules);
}

static gboolean
gst_thermal_measure_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstThermalMeasure *self = GST_THERMAL_MEASURE (filter);
  gdouble scale;

  if (!gst_structure_get_double (gst_caps_get_structure (incaps, 0),
          GST_THERMAL_CAPS_SCALE, &scale) || !(scale > 0))
    scale = 0.01;
  GST_OBJECT_LOCK (self);
  self->width = GST_VIDEO_INFO_WIDTH (in_info);
  self->height = GST_VIDEO_INFO_HEIGHT (in_info);
  self->caps_scale = scale;
  self->dirty = TRUE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* A message for an alarm transition */
static GstMessage *
alarm_message (GstThermalMeasure * self, const gchar * source, gint id,
    const gchar * name, const TcAlarmEvent * ev, const gdouble at[2],
    GstClockTime ts, gdouble lo, gdouble hi)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *time = g_date_time_format_iso8601 (now);

  return gst_message_new_element (GST_OBJECT (self),
      gst_structure_new ("thermal-alarm",
          "source", G_TYPE_STRING, source,
          "id", G_TYPE_INT, id,
          "name", G_TYPE_STRING, name,
          "level", G_TYPE_STRING, level_names[ev->level],
          "state", G_TYPE_STRING, kind_names[ev->kind],
          "repeat", G_TYPE_BOOLEAN, ev->kind == TC_EVENT_REPEAT,
          "value", G_TYPE_DOUBLE, ev->value,
          "threshold", G_TYPE_DOUBLE, ev->threshold,
          "x", G_TYPE_DOUBLE, at[0], "y", G_TYPE_DOUBLE, at[1],
          "timestamp", G_TYPE_UINT64, ts, "time", G_TYPE_STRING, time,
          /* a temperature outside the measurement range (not for a difference) */
          "below-range", G_TYPE_BOOLEAN, ev->value < lo,
          "above-range", G_TYPE_BOOLEAN, ev->value > hi, NULL));
}

/* streaming thread, object lock held: compile the rules for this frame size,
 * keeping the alarm state of rules whose id and alarm did not change */
static void
gst_thermal_measure_compile (GstThermalMeasure * self, GPtrArray * msgs,
    GstClockTime ts)
{
  GstThermalMeasureRule *rules = g_new0 (GstThermalMeasureRule, MAX (1,
          self->n_defs));
  GstThermalMeasureComparison *cmps = g_new0 (GstThermalMeasureComparison,
      MAX (1, self->n_cmp_defs));
  guint i, j;

  for (i = 0; i < self->n_defs; i++) {
    GstThermalMeasureRule *r = &rules[i];

    r->def = self->defs[i];
    if (!self->rule_distance)
      r->def.has_distance = FALSE;
    if (!r->def.has_interval)
      r->def.alarm.interval = self->alarm_interval;
    if (!r->def.enabled)
      r->def.alarm.enabled = FALSE;
    tc_alarm_state_reset (&r->alarm);
    if (!tc_rule_rasterize (r->def.type, (const double (*)[2]) r->def.points,
            r->def.n_points, self->width, self->height, &r->spans))
      GST_WARNING_OBJECT (self, "rule %d: could not compile", r->def.id);
    for (j = 0; j < self->n_rules; j++) {
      GstThermalMeasureRule *old = &self->rules[j];

      if (old->def.id == r->def.id && alarm_same (&old->def.alarm, &r->def.alarm))
        r->alarm = old->alarm;
      /* the table for its own emissivity etc. stays good if those did not change */
      if (old->def.id == r->def.id && old->lut &&
          old->def.has_emissivity == r->def.has_emissivity &&
          old->def.has_distance == r->def.has_distance &&
          old->def.has_reflected == r->def.has_reflected &&
          old->def.emissivity == r->def.emissivity &&
          old->def.distance == r->def.distance &&
          old->def.reflected_temp == r->def.reflected_temp) {
        r->lut = old->lut;
        old->lut = NULL;
        r->lut_valid = old->lut_valid;
        r->lut_cal = old->lut_cal;
        r->lut_params = old->lut_params;
        r->lut_scale = old->lut_scale;
      }
    }
  }
  /* alarms of rules that went away or changed stop */
  for (j = 0; j < self->n_rules; j++) {
    GstThermalMeasureRule *old = &self->rules[j];
    gboolean kept = FALSE;

    for (i = 0; i < self->n_defs; i++)
      kept |= old->def.id == rules[i].def.id &&
          alarm_same (&old->def.alarm, &rules[i].def.alarm);
    if (!kept) {
      TcAlarmConfig off = old->def.alarm;
      TcAlarmEvent ev[4];
      guint n, k;

      off.enabled = FALSE;
      n = tc_alarm_update (&off, &old->alarm, old->max, 0, ev);
      for (k = 0; k < n; k++)
        g_ptr_array_add (msgs, alarm_message (self, "rule", old->def.id,
                old->def.name, &ev[k], old->max_at, ts, self->range_min,
                self->range_max));
    }
  }
  for (i = 0; i < self->n_cmp_defs; i++) {
    gboolean have_a = FALSE, have_b = FALSE;

    for (j = 0; j < self->n_defs; j++) {
      have_a |= self->defs[j].id == self->cmp_defs[i].rule_a;
      have_b |= self->defs[j].id == self->cmp_defs[i].rule_b;
    }
    if (!have_a || !have_b)
      GST_WARNING_OBJECT (self, "comparison %d names rule %d, which does not "
          "exist: it has no reading", self->cmp_defs[i].id,
          have_a ? self->cmp_defs[i].rule_b : self->cmp_defs[i].rule_a);
    cmps[i].def = self->cmp_defs[i];
    if (!cmps[i].def.has_interval)
      cmps[i].def.alarm.interval = self->alarm_interval;
    if (!cmps[i].def.enabled)
      cmps[i].def.alarm.enabled = FALSE;
    tc_alarm_state_reset (&cmps[i].alarm);
    for (j = 0; j < self->n_cmps; j++)
      if (self->cmps[j].def.id == cmps[i].def.id &&
          alarm_same (&self->cmps[j].def.alarm, &cmps[i].def.alarm))
        cmps[i].alarm = self->cmps[j].alarm;
  }
  {
    TcAlarmConfig scene = self->scene_cfg;

    if (!self->scene_has_interval)
      scene.interval = self->alarm_interval;
    if (!alarm_same (&scene, &self->scene_alarm_cfg)) {
      TcAlarmConfig off = self->scene_alarm_cfg;
      TcAlarmEvent ev[4];
      gdouble at[2] = { 0, 0 };
      guint n, k;

      off.enabled = FALSE;
      n = tc_alarm_update (&off, &self->scene_alarm, 0, 0, ev);
      for (k = 0; k < n; k++)
        g_ptr_array_add (msgs, alarm_message (self, "scene", 0, "scene", &ev[k],
                at, ts, self->range_min, self->range_max));
    }
    self->scene_alarm_cfg = scene;
  }
  free_rules (self->rules, self->n_rules);
  g_free (self->cmps);
  self->rules = rules;
  self->n_rules = self->n_defs;
  self->cmps = cmps;
  self->n_cmps = self->n_cmp_defs;
  self->dirty = FALSE;
}

/* the table from frame temperature counts to the rule's own parameters */
static void
rule_build_lut (GstThermalMeasureRule * r, const GstThermalMeta * m,
    gdouble scale)
{
  TcObjectParams p = m->params;
  TcChain frame_chain, rule_chain;
  guint i;

  if (r->def.has_emissivity)
    p.emissivity = r->def.emissivity;
  if (r->def.has_distance)
    p.distance = r->def.distance;
  if (r->def.has_reflected)
    p.reflected_temp = r->def.reflected_temp;
  tc_chain_init (&frame_chain, &m->calibration, &m->params);
  tc_chain_init (&rule_chain, &m->calibration, &p);
  if (!r->lut)
    r->lut = g_new (guint16, 65536);
  for (i = 0; i < 65536; i++) {
    gdouble raw = tc_chain_kelvin_to_raw (&frame_chain, i * scale);
    gdouble k = tc_chain_raw_to_kelvin (&rule_chain, raw);
    gdouble v = k / scale;

    r->lut[i] = isfinite (v) ? (guint16) CLAMP (lrint (v), 0, 65535) :
        (i > 0 ? r->lut[i - 1] : 0);
  }
  r->lut_cal = m->calibration;
  r->lut_params = m->params;
  r->lut_scale = scale;
  r->lut_valid = TRUE;
}

static inline gdouble
to_c (gdouble counts, gdouble scale)
{
  return counts * scale - TC_KELVIN_OFFSET;
}

static gdouble
reading (const GstThermalMeasureRule * r, TcAlarmOn on)
{
  return on == TC_ON_MAX ? r->max : (on == TC_ON_MIN ? r->min : r->avg);
}

static void
rule_result (GstThermalRuleResult * out, const GstThermalMeasureRule * r,
    gdouble lo, gdouble hi)
{
  out->id = r->def.id;
  g_strlcpy (out->name, r->def.name, sizeof (out->name));
  out->type = (GstThermalRuleType) r->def.type;
  out->n_points = r->def.n_points;
  memcpy (out->points, r->def.points, sizeof (out->points));
  out->valid = r->valid;
  out->max = r->max;
  out->min = r->min;
  out->avg = r->avg;
  memcpy (out->max_at, r->max_at, sizeof (out->max_at));
  memcpy (out->min_at, r->min_at, sizeof (out->min_at));
  out->state = (GstThermalAlarmState) tc_alarm_level (&r->alarm);
  out->has_alarm = r->def.alarm.enabled;
  out->below_range = r->valid && r->min < lo;
  out->above_range = r->valid && r->max > hi;
}

static GstMessage *
measurement_message (GstThermalMeasure * self, const GstThermalMeasureMeta * mm,
    GstClockTime ts)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *time = g_date_time_format_iso8601 (now);
  GValue list = G_VALUE_INIT;
  GstStructure *s;
  guint i;

  g_value_init (&list, GST_TYPE_LIST);
  for (i = 0; i < mm->n_rules; i++) {
    const GstThermalRuleResult *r = &mm->rules[i];
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("rule",
            "id", G_TYPE_INT, r->id, "name", G_TYPE_STRING, r->name,
            "valid", G_TYPE_BOOLEAN, r->valid,
            "max", G_TYPE_DOUBLE, r->max, "min", G_TYPE_DOUBLE, r->min,
            "avg", G_TYPE_DOUBLE, r->avg,
            "max-x", G_TYPE_DOUBLE, r->max_at[0], "max-y", G_TYPE_DOUBLE,
            r->max_at[1], "min-x", G_TYPE_DOUBLE, r->min_at[0], "min-y",
            G_TYPE_DOUBLE, r->min_at[1], "state", G_TYPE_STRING,
            level_names[r->state], "below-range", G_TYPE_BOOLEAN, r->below_range,
            "above-range", G_TYPE_BOOLEAN, r->above_range, NULL));
    gst_value_list_append_and_take_value (&list, &v);
  }
  s = gst_structure_new ("thermal-measurement",
      "timestamp", G_TYPE_UINT64, ts, "time", G_TYPE_STRING, time,
      "max", G_TYPE_DOUBLE, mm->max, "min", G_TYPE_DOUBLE, mm->min,
      "avg", G_TYPE_DOUBLE, mm->avg,
      "max-x", G_TYPE_DOUBLE, mm->max_at[0], "max-y", G_TYPE_DOUBLE, mm->max_at[1],
      "min-x", G_TYPE_DOUBLE, mm->min_at[0], "min-y", G_TYPE_DOUBLE, mm->min_at[1],
      "state", G_TYPE_STRING, level_names[mm->scene_state],
      "valid", G_TYPE_BOOLEAN, mm->valid,
      "below-range", G_TYPE_BOOLEAN, mm->below_range,
      "above-range", G_TYPE_BOOLEAN, mm->above_range, NULL);
  gst_structure_take_value (s, "rules", &list);
  g_value_init (&list, GST_TYPE_LIST);
  for (i = 0; i < mm->n_comparisons; i++) {
    const GstThermalComparisonResult *c = &mm->comparisons[i];
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("comparison",
            "id", G_TYPE_INT, c->id, "name", G_TYPE_STRING, c->name,
            "valid", G_TYPE_BOOLEAN, c->valid, "value", G_TYPE_DOUBLE, c->value,
            "state", G_TYPE_STRING, level_names[c->state], NULL));
    gst_value_list_append_and_take_value (&list, &v);
  }
  gst_structure_take_value (s, "comparisons", &list);
  return gst_message_new_element (GST_OBJECT (self), s);
}

static GstFlowReturn
gst_thermal_measure_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstThermalMeasure *self = GST_THERMAL_MEASURE (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  GstThermalMeta *tm = gst_buffer_get_thermal_meta (buf);
  GstThermalMeasureMeta *mm;
  GPtrArray *msgs = g_ptr_array_new ();
  GstVideoFrame frame;
  const guint8 *data;
  gsize stride;
  gdouble scale, w, h, t;
  GstClockTime ts = GST_BUFFER_PTS (buf);
  TcStats st;
  TcAlarmEvent ev[4];
  guint i, k, n;
  gboolean post_measurement = FALSE, closed;
  guint message_interval;
  gdouble lo, hi;

  if (tm && tm->kind == GST_THERMAL_FRAME_RAW) {
    g_ptr_array_unref (msgs);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("thermalmeasure needs temperature frames, not raw sensor counts"),
        ("put thermalradiometry before it"));
    return GST_FLOW_ERROR;
  }
  /* before mapping: the frame holds a ref, and metas need a writable buffer */
  mm = gst_buffer_add_thermal_measure_meta (buf);
  if (!gst_video_frame_map (&frame, &filter->in_info, buf, GST_MAP_READ)) {
    g_ptr_array_unref (msgs);
    return GST_FLOW_ERROR;
  }
  data = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
  w = self->width;
  h = self->height;
  t = GST_CLOCK_TIME_IS_VALID (ts) ? (gdouble) ts / GST_SECOND :
      self->frames / 25.0;

  GST_OBJECT_LOCK (self);
  scale = tm && tm->kind == GST_THERMAL_FRAME_TEMPERATURE && tm->scale > 0 ?
      tm->scale : self->caps_scale;
  if (self->dirty)
    gst_thermal_measure_compile (self, msgs, ts);

  message_interval = self->message_interval;
  lo = self->range_min;
  hi = self->range_max;
  /* what follows (rules, comparisons, alarm states) belongs to this thread */
  GST_OBJECT_UNLOCK (self);

  /* a frame of the closed shutter: readings not valid, alarms hold */
  closed = tm && tm->shutter_closed;
  mm->valid = !closed;

  /* the scene */
  tc_stats_frame (data, stride, self->width, self->height, &st);
  mm->max = to_c (st.max, scale);
  mm->min = to_c (st.min, scale);
  mm->avg = to_c ((gdouble) st.sum / MAX (1, st.count), scale);
  mm->max_at[0] = (st.max_x + 0.5) / w;
  mm->max_at[1] = (st.max_y + 0.5) / h;
  mm->min_at[0] = (st.min_x + 0.5) / w;
  mm->min_at[1] = (st.min_y + 0.5) / h;
  mm->range_min = lo;
  mm->range_max = hi;
  /* the shutter's numbers are no reading: never flagged */
  mm->below_range = !closed && mm->min < lo;
  mm->above_range = !closed && mm->max > hi;
  {
    gdouble v = self->scene_alarm_cfg.on == TC_ON_MAX ? mm->max :
        (self->scene_alarm_cfg.on == TC_ON_MIN ? mm->min : mm->avg);
    const gdouble *at = self->scene_alarm_cfg.on == TC_ON_MIN ? mm->min_at :
        mm->max_at;

    n = closed ? 0 : tc_alarm_update (&self->scene_alarm_cfg, &self->scene_alarm,
        v, t, ev);
    for (k = 0; k < n; k++)
      g_ptr_array_add (msgs, alarm_message (self, "scene", 0, "scene", &ev[k],
              at, ts, lo, hi));
    mm->scene_state = (GstThermalAlarmState) tc_alarm_level (&self->scene_alarm);
  }

  /* the rules */
  for (i = 0; i < self->n_rules; i++) {
    GstThermalMeasureRule *r = &self->rules[i];
    gboolean own = r->def.has_emissivity || r->def.has_distance ||
        r->def.has_reflected;

    if (!r->def.enabled)
      continue;
    if (closed) {
      /* listed with its held state; its readings are not the scene's */
      if (r->valid && mm->n_rules < GST_THERMAL_MAX_RULES) {
        rule_result (&mm->rules[mm->n_rules], r, lo, hi);
        mm->rules[mm->n_rules].below_range = mm->rules[mm->n_rules].above_range = FALSE;
        mm->rules[mm->n_rules++].valid = FALSE;
      }
      continue;
    }
    tc_stats_spans (&r->spans, data, stride, &st);
    r->valid = st.count > 0;
    if (!r->valid)
      continue;
    if (own && tm && tm->has_calibration && tm->has_params) {
      if (!r->lut_valid || r->lut_scale != scale ||
          memcmp (&r->lut_cal, &tm->calibration, sizeof (TcCalibration)) != 0 ||
          memcmp (&r->lut_params, &tm->params, sizeof (TcObjectParams)) != 0)
        rule_build_lut (r, tm, scale);
      r->max = to_c (r->lut[st.max], scale);
      r->min = to_c (r->lut[st.min], scale);
      r->avg = to_c (tc_mean_spans_lut (&r->spans, data, stride, r->lut), scale);
    } else {
      r->max = to_c (st.max, scale);
      r->min = to_c (st.min, scale);
      r->avg = to_c ((gdouble) st.sum / st.count, scale);
    }
    r->max_at[0] = (st.max_x + 0.5) / w;
    r->max_at[1] = (st.max_y + 0.5) / h;
    r->min_at[0] = (st.min_x + 0.5) / w;
    r->min_at[1] = (st.min_y + 0.5) / h;

    n = tc_alarm_update (&r->def.alarm, &r->alarm, reading (r, r->def.alarm.on),
        t, ev);
    for (k = 0; k < n; k++)
      g_ptr_array_add (msgs, alarm_message (self, "rule", r->def.id, r->def.name,
              &ev[k], r->def.alarm.on == TC_ON_MIN ? r->min_at : r->max_at, ts, lo, hi));
    if (mm->n_rules < GST_THERMAL_MAX_RULES)
      rule_result (&mm->rules[mm->n_rules++], r, lo, hi);
  }

  /* the comparisons */
  for (i = 0; i < self->n_cmps; i++) {
    GstThermalMeasureComparison *c = &self->cmps[i];
    GstThermalMeasureRule *a = NULL, *b = NULL;
    gdouble v = NAN;

    for (k = 0; k < self->n_rules; k++) {
      if (self->rules[k].def.id == c->def.rule_a)
        a = &self->rules[k];
      if (self->rules[k].def.id == c->def.rule_b)
        b = &self->rules[k];
    }
    if (!closed && a && b && a->valid && b->valid && a->def.enabled &&
        b->def.enabled)
      v = reading (a, c->def.alarm.on) - reading (b, c->def.alarm.on);
    n = closed ? 0 : tc_alarm_update (&c->def.alarm, &c->alarm, v, t, ev);
    for (k = 0; k < n; k++)
      g_ptr_array_add (msgs, alarm_message (self, "comparison", c->def.id,
              c->def.name, &ev[k], a ? a->max_at : mm->max_at, ts, -G_MAXDOUBLE,
              G_MAXDOUBLE));
    if (c->def.enabled && mm->n_comparisons < GST_THERMAL_MAX_COMPARISONS) {
      GstThermalComparisonResult *out = &mm->comparisons[mm->n_comparisons++];

      out->id = c->def.id;
      g_strlcpy (out->name, c->def.name, sizeof (out->name));
      out->rule_a = c->def.rule_a;
      out->rule_b = c->def.rule_b;
      out->valid = isfinite (v);
      out->value = v;
      out->state = (GstThermalAlarmState) tc_alarm_level (&c->alarm);
      out->has_alarm = c->def.alarm.enabled;
    }
  }

  /* frames without timestamps: their count at 25 per second */
  if (!GST_CLOCK_TIME_IS_VALID (ts))
    ts = gst_util_uint64_scale (self->frames, GST_SECOND, 25);
  if (message_interval > 0 &&
      (!GST_CLOCK_TIME_IS_VALID (self->last_message) || ts < self->last_message ||
          ts - self->last_message >= message_interval * GST_MSECOND)) {
    self->last_message = ts;
    post_measurement = TRUE;
  }
  self->frames++;
  gst_video_frame_unmap (&frame);

  if (post_measurement)
    g_ptr_array_add (msgs, measurement_message (self, mm, ts));
  for (i = 0; i < msgs->len; i++)
    gst_element_post_message (GST_ELEMENT (self), msgs->pdata[i]);
  g_ptr_array_unref (msgs);
  return GST_FLOW_OK;
}

static gboolean
gst_thermal_measure_start (GstBaseTransform * trans)
{
  GstThermalMeasure *self = GST_THERMAL_MEASURE (trans);

  GST_OBJECT_LOCK (self);
  self->last_message = GST_CLOCK_TIME_NONE;
  self->frames = 0;
  /* a new run: no alarm of the last one is standing */
  tc_alarm_state_reset (&self->scene_alarm);
  free_rules (self->rules, self->n_rules);
  self->rules = NULL;
  self->n_rules = 0;
  g_clear_pointer (&self->cmps, g_free);
  self->n_cmps = 0;
  self->dirty = TRUE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* Parses a JSON property; on error warns (naming the field) and keeps the old */
static void
gst_thermal_measure_set_json (GstThermalMeasure * self, guint prop_id,
    const gchar * json)
{
  GError *err = NULL;
  const gchar *what = prop_id == PROP_RULES ? "rules" :
      (prop_id == PROP_COMPARISONS ? "comparisons" : "scene-alarm");

  if (prop_id == PROP_RULES) {
    TcRuleDef *defs;
    guint n;

    if (tc_rules_parse_json (json, &defs, &n, &err)) {
      GST_OBJECT_LOCK (self);
      g_free (self->defs);
      self->defs = defs;
      self->n_defs = n;
      g_free (self->rules_json);
      self->rules_json = g_strdup (json);
      self->dirty = TRUE;
      GST_OBJECT_UNLOCK (self);
      return;
    }
  } else if (prop_id == PROP_COMPARISONS) {
    TcComparisonDef *cmps;
    guint n;

    /* the rules they name may come later (property order): a comparison
     * whose rules do not exist has no reading, and no alarm */
    if (tc_comparisons_parse_json (json, NULL, 0, &cmps, &n, &err)) {
      GST_OBJECT_LOCK (self);
      g_free (self->cmp_defs);
      self->cmp_defs = cmps;
      self->n_cmp_defs = n;
      g_free (self->comparisons_json);
      self->comparisons_json = g_strdup (json);
      self->dirty = TRUE;
      GST_OBJECT_UNLOCK (self);
      return;
    }
  } else {
    TcAlarmConfig cfg;
    gboolean has_interval;

    if (tc_alarm_parse_json (json, &cfg, &has_interval, &err)) {
      GST_OBJECT_LOCK (self);
      self->scene_cfg = cfg;
      self->scene_has_interval = has_interval;
      g_free (self->scene_alarm_json);
      self->scene_alarm_json = g_strdup (json);
      self->dirty = TRUE;
      GST_OBJECT_UNLOCK (self);
      return;
    }
  }

  GST_THERMAL_WARN_SETTING (self, LIBRARY, SETTINGS,
      ("Invalid %s: %s", what, err->message), ("kept the previous %s", what));
  g_error_free (err);
}

static void
gst_thermal_measure_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstThermalMeasure *self = GST_THERMAL_MEASURE (object);

  switch (prop_id) {
    case PROP_RULES:
    case PROP_COMPARISONS:
    case PROP_SCENE_ALARM:
      gst_thermal_measure_set_json (self, prop_id, g_value_get_string (value));
      break;
    case PROP_ALARM_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->alarm_interval = g_value_get_double (value);
      self->dirty = TRUE;
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MESSAGE_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->message_interval = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_RULE_DISTANCE:
      GST_OBJECT_LOCK (self);
      self->rule_distance = g_value_get_boolean (value);
      self->dirty = TRUE;
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_RANGE_MIN:
      GST_OBJECT_LOCK (self);
      self->range_min = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_RANGE_MAX:
      GST_OBJECT_LOCK (self);
      self->range_max = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_thermal_measure_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstThermalMeasure *self = GST_THERMAL_MEASURE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_RULES:
      g_value_set_string (value, self->rules_json ? self->rules_json : "[]");
      break;
    case PROP_COMPARISONS:
      g_value_set_string (value, self->comparisons_json ?
          self->comparisons_json : "[]");
      break;
    case PROP_SCENE_ALARM:
      g_value_set_string (value, self->scene_alarm_json);
      break;
    case PROP_ALARM_INTERVAL:
      g_value_set_double (value, self->alarm_interval);
      break;
    case PROP_MESSAGE_INTERVAL:
      g_value_set_uint (value, self->message_interval);
      break;
    case PROP_RULE_DISTANCE:
      g_value_set_boolean (value, self->rule_distance);
      break;
    case PROP_RANGE_MIN:
      g_value_set_double (value, self->range_min);
      break;
    case PROP_RANGE_MAX:
      g_value_set_double (value, self->range_max);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_measure_finalize (GObject * object)
{
  GstThermalMeasure *self = GST_THERMAL_MEASURE (object);

  free_rules (self->rules, self->n_rules);
  g_free (self->cmps);
  g_free (self->defs);
  g_free (self->cmp_defs);
  g_free (self->rules_json);
  g_free (self->comparisons_json);
  g_free (self->scene_alarm_json);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_thermal_measure_class_init (GstThermalMeasureClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (gst_thermal_measure_debug, "thermalmeasure", 0,
      "Thermal measurement rules and alarms");

  gobject_class->set_property = gst_thermal_measure_set_property;
  gobject_class->get_property = gst_thermal_measure_get_property;
  gobject_class->finalize = gst_thermal_measure_finalize;

  g_object_class_install_property (gobject_class, PROP_RULES,
      g_param_spec_string ("rules", "Rules",
          "Measurement rules: a JSON array of {id, name, enabled, type "
          "(point|line|polygon), points [[x,y],...] normalized, emissivity, "
          "distance, reflected_temperature, alarm {enabled, on (max|min|avg), "
          "condition (above|below), pre_alarm, alarm, tolerance, filter_time, "
          "interval}}; at most 40", "[]", rw));
  g_object_class_install_property (gobject_class, PROP_COMPARISONS,
      g_param_spec_string ("comparisons", "Comparisons",
          "Area temperature comparisons: a JSON array of {id, name, enabled, "
          "rules [a, b], alarm {...}} alarming on reading(a) - reading(b)",
          "[]", rw));
  g_object_class_install_property (gobject_class, PROP_SCENE_ALARM,
      g_param_spec_string ("scene-alarm", "Scene alarm",
          "Alarm on the whole scene: a JSON alarm object {enabled, on, condition, "
          "pre_alarm, alarm, tolerance, filter_time, interval}; empty = none",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_ALARM_INTERVAL,
      g_param_spec_double ("alarm-interval", "Alarm interval",
          "Seconds between repeated notifications of a standing alarm, for "
          "alarms without their own (0 = none)", 0.0, 86400.0,
          DEFAULT_PROP_ALARM_INTERVAL, rw));
  g_object_class_install_property (gobject_class, PROP_MESSAGE_INTERVAL,
      g_param_spec_uint ("message-interval", "Message interval",
          "Milliseconds between thermal-measurement messages (0 = none)", 0,
          3600000, DEFAULT_PROP_MESSAGE_INTERVAL, rw));
  g_object_class_install_property (gobject_class, PROP_RULE_DISTANCE,
      g_param_spec_boolean ("rule-distance", "Rule distance",
          "Distance mode: TRUE (self-adaption) a rule's own distance counts where "
          "it sets one, FALSE (fixed) every rule is read at the frame's distance",
          DEFAULT_PROP_RULE_DISTANCE, rw));
  g_object_class_install_property (gobject_class, PROP_RANGE_MIN,
      g_param_spec_double ("range-min", "Range minimum",
          "Lower end of the measurement range, degrees C: a minimum below it is "
          "flagged below_range", -RANGE_LIMIT, RANGE_LIMIT, -RANGE_LIMIT, rw));
  g_object_class_install_property (gobject_class, PROP_RANGE_MAX,
      g_param_spec_double ("range-max", "Range maximum",
          "Upper end of the measurement range, degrees C: a maximum above it is "
          "flagged above_range", -RANGE_LIMIT, RANGE_LIMIT, RANGE_LIMIT, rw));

  gst_element_class_set_static_metadata (element_class,
      "Thermal measurement", "Filter/Analyzer/Video",
      "Measures temperature rules (point, line, polygon) and raises alarms",
      "thermocam developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_thermal_measure_start);
  /* reads the frame and adds a meta: in place, mapped read-only */
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_thermal_measure_transform_ip);
  trans_class->transform_ip_on_passthrough = FALSE;
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_thermal_measure_set_info);
}

static void
gst_thermal_measure_init (GstThermalMeasure * self)
{
  self->alarm_interval = DEFAULT_PROP_ALARM_INTERVAL;
  self->message_interval = DEFAULT_PROP_MESSAGE_INTERVAL;
  self->rule_distance = DEFAULT_PROP_RULE_DISTANCE;
  self->range_min = -RANGE_LIMIT;
  self->range_max = RANGE_LIMIT;
  self->caps_scale = 0.01;
  self->last_message = GST_CLOCK_TIME_NONE;
  tc_alarm_state_reset (&self->scene_alarm);
  self->dirty = TRUE;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  /* alarms must not depend on how fast a display downstream is */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}
