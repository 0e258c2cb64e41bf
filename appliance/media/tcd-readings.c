/* thermocamd: a temperature frame's readings as JSON
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-readings.h"

#include <string.h>

#include "gstthermalmeta.h"
#include "tcd-clock.h"
#include "tcd-json.h"

static void
add_at (JsonBuilder *b, const gchar *name, const gdouble at[2])
{
  /* the resolution of each quantity: tcd-json.c's table */
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  json_builder_add_double_value (b, tcd_json_round (name, at[0]));
  json_builder_add_double_value (b, tcd_json_round (name, at[1]));
  json_builder_end_array (b);
}

static void
add_temp (JsonBuilder *b, const gchar *name, gdouble v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, tcd_json_round (name, v));
}

static const gchar *state_names[] = { "normal", "pre_alarm", "alarm" };

/* min and max outside the measurement range: the sensor still gives a
 * number there, but not one the range's accuracy holds for */
static void
add_range_flags (JsonBuilder *b, gdouble min, gdouble max, gdouble lo, gdouble hi)
{
  json_builder_set_member_name (b, "below_range");
  json_builder_add_boolean_value (b, min < lo);
  json_builder_set_member_name (b, "above_range");
  json_builder_add_boolean_value (b, max > hi);
}

/* the measurement range of thermometry.temperature_range ("-20~150") */
void
tcd_reading_range (TcdConfig *config, gdouble *lo, gdouble *hi)
{
  const gchar *r = tcd_config_string (config, "thermometry.temperature_range");
  gchar *end = NULL;

  *lo = -G_MAXDOUBLE;
  *hi = G_MAXDOUBLE;
  if (!r)
    return;
  *lo = g_ascii_strtod (r, &end);
  if (end && *end == '~')
    *hi = g_ascii_strtod (end + 1, NULL);
}

JsonNode *
tcd_reading_from_sample (GstSample *sample, gdouble range_lo, gdouble range_hi)
{
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstThermalMeasureMeta *mm = gst_buffer_get_thermal_measure_meta (buf);
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (GDateTime) now = tcd_clock_now_utc_dt ();
  g_autofree gchar *time = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");

  if (!mm)
    return NULL;
  /* milliseconds are enough */
  if (strlen (time) > 24)
    memmove (time + 23, time + strlen (time) - 1, 2);
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "time");
  json_builder_add_string_value (b, time);
  /* FALSE while the shutter is closed (burning prevention): the numbers are
   * the shutter's, the states are held */
  json_builder_set_member_name (b, "valid");
  json_builder_add_boolean_value (b, mm->valid);
  json_builder_set_member_name (b, "scene");
  json_builder_begin_object (b);
  add_temp (b, "max", mm->max);
  add_temp (b, "min", mm->min);
  add_temp (b, "avg", mm->avg);
  add_at (b, "max_at", mm->max_at);
  add_at (b, "min_at", mm->min_at);
  /* the closed shutter's numbers are no reading: not flagged */
  add_range_flags (b, mm->valid ? mm->min : range_lo, mm->valid ? mm->max : range_hi,
      range_lo, range_hi);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, state_names[mm->scene_state]);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "rules");
  json_builder_begin_array (b);
  for (guint i = 0; i < mm->n_rules; i++) {
    const GstThermalRuleResult *r = &mm->rules[i];
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, r->id);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, r->name);
    json_builder_set_member_name (b, "valid");
    json_builder_add_boolean_value (b, r->valid);
    if (r->valid) {
      add_temp (b, "max", r->max);
      add_temp (b, "min", r->min);
      add_temp (b, "avg", r->avg);
      add_at (b, "max_at", r->max_at);
      add_at (b, "min_at", r->min_at);
      add_range_flags (b, r->min, r->max, range_lo, range_hi);
    }
    json_builder_set_member_name (b, "state");
    json_builder_add_string_value (b, state_names[r->state]);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "comparisons");
  json_builder_begin_array (b);
  for (guint i = 0; i < mm->n_comparisons; i++) {
    const GstThermalComparisonResult *c = &mm->comparisons[i];
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, c->id);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, c->name);
    json_builder_set_member_name (b, "rules");
    json_builder_begin_array (b);
    json_builder_add_int_value (b, c->rule_a);
    json_builder_add_int_value (b, c->rule_b);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "valid");
    json_builder_add_boolean_value (b, c->valid);
    if (c->valid)
      add_temp (b, "value", c->value);
    json_builder_set_member_name (b, "state");
    json_builder_add_string_value (b, state_names[c->state]);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
