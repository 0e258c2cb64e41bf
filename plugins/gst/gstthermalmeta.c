/* thermocam: what travels with thermal frames
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstthermalmeta.h"

#include <math.h>
#include <string.h>

GType
gst_thermal_meta_api_get_type (void)
{
  static GType type = 0;
  /* no tags: the meta describes the pixel values, and elements that keep the
   * values (scaling, flipping, ...) may keep it */
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstThermalMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
gst_thermal_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstThermalMeta *m = (GstThermalMeta *) meta;

  m->kind = GST_THERMAL_FRAME_RAW;
  m->has_calibration = FALSE;
  memset (&m->calibration, 0, sizeof (m->calibration));
  m->has_params = FALSE;
  tc_object_params_init_default (&m->params);
  m->scale = 0.0;
  m->fpa_temperature = NAN;
  m->shutter_closed = FALSE;
  m->clamped = 0;
  return TRUE;
}

static gboolean
gst_thermal_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  GstThermalMeta *src = (GstThermalMeta *) meta;
  GstThermalMeta *dst = gst_buffer_get_thermal_meta (dest);

  if (!dst)
    dst = gst_buffer_add_thermal_meta (dest);
  if (!dst)
    return FALSE;
  dst->kind = src->kind;
  dst->has_calibration = src->has_calibration;
  dst->calibration = src->calibration;
  dst->has_params = src->has_params;
  dst->params = src->params;
  dst->scale = src->scale;
  dst->fpa_temperature = src->fpa_temperature;
  dst->shutter_closed = src->shutter_closed;
  dst->clamped = src->clamped;
  return TRUE;
}

const GstMetaInfo *
gst_thermal_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_THERMAL_META_API_TYPE,
        "GstThermalMeta", sizeof (GstThermalMeta), gst_thermal_meta_init,
        NULL, gst_thermal_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * gst_buffer_add_thermal_meta: (skip)
 *
 * For the elements (C only).
 */
GstThermalMeta *
gst_buffer_add_thermal_meta (GstBuffer * buffer)
{
  return (GstThermalMeta *) gst_buffer_add_meta (buffer, GST_THERMAL_META_INFO,
      NULL);
}

/**
 * gst_buffer_ensure_thermal_meta: (skip)
 *
 * For the elements (C only).
 */
GstThermalMeta *
gst_buffer_ensure_thermal_meta (GstBuffer * buffer)
{
  GstThermalMeta *m = gst_buffer_get_thermal_meta (buffer);

  return m ? m : gst_buffer_add_thermal_meta (buffer);
}

GstEvent *
gst_thermal_event_new_shutter (gboolean closed)
{
  return gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
      gst_structure_new (GST_THERMAL_SHUTTER_EVENT, "closed", G_TYPE_BOOLEAN,
          closed, NULL));
}

gboolean
gst_thermal_event_parse_shutter (GstEvent * event, gboolean * closed)
{
  const GstStructure *s;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CUSTOM_UPSTREAM)
    return FALSE;
  s = gst_event_get_structure (event);
  if (!s || !gst_structure_has_name (s, GST_THERMAL_SHUTTER_EVENT))
    return FALSE;
  return gst_structure_get_boolean (s, "closed", closed);
}

GstQuery *
gst_thermal_query_new_calibration (void)
{
  return gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty (GST_THERMAL_CALIBRATION_QUERY));
}

gboolean
gst_thermal_query_is_calibration (GstQuery * query)
{
  const GstStructure *s;

  if (GST_QUERY_TYPE (query) != GST_QUERY_CUSTOM)
    return FALSE;
  s = gst_query_get_structure (query);
  return s && gst_structure_has_name (s, GST_THERMAL_CALIBRATION_QUERY);
}

static gboolean
copy_field (GQuark field, const GValue * value, gpointer dest)
{
  gst_structure_id_set_value (dest, field, value);
  return TRUE;
}

gboolean
gst_thermal_query_set_calibration (GstQuery * query, GstStructure * cal)
{
  GstStructure *s;

  if (!cal)
    return FALSE;
  s = gst_query_writable_structure (query);
  gst_structure_remove_all_fields (s);
  gst_structure_foreach (cal, copy_field, s);
  gst_structure_free (cal);
  return TRUE;
}

static const struct {
  const gchar *name;
  gsize offset;
} cal_fields[] = {
  {"PlanckR1", G_STRUCT_OFFSET (TcCalibration, r1)},
  {"PlanckR2", G_STRUCT_OFFSET (TcCalibration, r2)},
  {"PlanckB", G_STRUCT_OFFSET (TcCalibration, b)},
  {"PlanckF", G_STRUCT_OFFSET (TcCalibration, f)},
  {"PlanckO", G_STRUCT_OFFSET (TcCalibration, o)},
  {"AtmosphericTransAlpha1", G_STRUCT_OFFSET (TcCalibration, ata1)},
  {"AtmosphericTransAlpha2", G_STRUCT_OFFSET (TcCalibration, ata2)},
  {"AtmosphericTransBeta1", G_STRUCT_OFFSET (TcCalibration, atb1)},
  {"AtmosphericTransBeta2", G_STRUCT_OFFSET (TcCalibration, atb2)},
  {"AtmosphericTransX", G_STRUCT_OFFSET (TcCalibration, atx)},
  {"CameraTemperatureRangeMin", G_STRUCT_OFFSET (TcCalibration, range_min)},
  {"CameraTemperatureRangeMax", G_STRUCT_OFFSET (TcCalibration, range_max)},
};

/**
 * gst_thermal_calibration_structure_new: (skip)
 *
 * For the elements (C only).
 */
GstStructure *
gst_thermal_calibration_structure_new (const TcCalibration * cal, gint width,
    gint height, const float *gain, const float *offset, const guint32 * bad,
    gsize n_bad)
{
  GstStructure *s = gst_structure_new ("thermal-calibration",
      "width", G_TYPE_INT, width, "height", G_TYPE_INT, height, NULL);
  gsize n = (gsize) width * height;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cal_fields); i++)
    gst_structure_set (s, cal_fields[i].name, G_TYPE_DOUBLE,
        G_STRUCT_MEMBER (double, cal, cal_fields[i].offset), NULL);
  if (gain && offset) {
    GBytes *g = g_bytes_new (gain, n * sizeof (float));
    GBytes *o = g_bytes_new (offset, n * sizeof (float));

    gst_structure_set (s, "gain", G_TYPE_BYTES, g, "offset", G_TYPE_BYTES, o,
        NULL);
    g_bytes_unref (g);
    g_bytes_unref (o);
  }
  if (bad) {
    GBytes *b = g_bytes_new (bad, n_bad * sizeof (guint32));

    gst_structure_set (s, "bad-pixels", G_TYPE_BYTES, b, NULL);
    g_bytes_unref (b);
  }
  return s;
}

/**
 * gst_thermal_calibration_structure_get: (skip)
 *
 * For the elements (C only).
 */
gboolean
gst_thermal_calibration_structure_get (const GstStructure * s,
    TcCalibration * cal)
{
  TcCalibration c;
  guint i;

  tc_calibration_init_default (&c);
  for (i = 0; i < G_N_ELEMENTS (cal_fields); i++) {
    gdouble v;

    if (gst_structure_get_double (s, cal_fields[i].name, &v))
      G_STRUCT_MEMBER (double, &c, cal_fields[i].offset) = v;
    else if (i < 5)
      return FALSE;             /* the Planck constants are required */
  }
  if (tc_calibration_check (&c))
    return FALSE;
  *cal = c;
  return TRUE;
}

GType
gst_thermal_palette_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstThermalPaletteMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
gst_thermal_palette_meta_init (GstMeta * meta, gpointer params,
    GstBuffer * buffer)
{
  GstThermalPaletteMeta *m = (GstThermalPaletteMeta *) meta;

  m->palette = 0;
  m->range_min = m->range_max = 0.0;
  m->equalized = FALSE;
  m->brightness = 0.0;
  m->contrast = 1.0;
  return TRUE;
}

static gboolean
gst_thermal_palette_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  GstThermalPaletteMeta *src = (GstThermalPaletteMeta *) meta;
  GstThermalPaletteMeta *dst = gst_buffer_add_thermal_palette_meta (dest,
      src->palette, src->range_min, src->range_max, src->equalized);

  if (!dst)
    return FALSE;
  dst->brightness = src->brightness;
  dst->contrast = src->contrast;
  return TRUE;
}

const GstMetaInfo *
gst_thermal_palette_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi =
        gst_meta_register (GST_THERMAL_PALETTE_META_API_TYPE,
        "GstThermalPaletteMeta", sizeof (GstThermalPaletteMeta),
        gst_thermal_palette_meta_init, NULL,
        gst_thermal_palette_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * gst_buffer_add_thermal_palette_meta: (skip)
 *
 * For the elements (C only).
 */
GstThermalPaletteMeta *
gst_buffer_add_thermal_palette_meta (GstBuffer * buffer, gint palette,
    gdouble range_min, gdouble range_max, gboolean equalized)
{
  GstThermalPaletteMeta *m = (GstThermalPaletteMeta *)
      gst_buffer_add_meta (buffer, gst_thermal_palette_meta_get_info (), NULL);

  if (m) {
    m->palette = palette;
    m->range_min = range_min;
    m->range_max = range_max;
    m->equalized = equalized;
  }
  return m;
}

GType
gst_thermal_measure_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstThermalMeasureMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
gst_thermal_measure_meta_init (GstMeta * meta, gpointer params,
    GstBuffer * buffer)
{
  GstThermalMeasureMeta *m = (GstThermalMeasureMeta *) meta;

  m->max = m->min = m->avg = 0.0;
  m->max_at[0] = m->max_at[1] = m->min_at[0] = m->min_at[1] = 0.0;
  m->scene_state = GST_THERMAL_STATE_NORMAL;
  m->n_rules = 0;
  m->valid = TRUE;
  m->n_comparisons = 0;
  m->range_min = -G_MAXDOUBLE;
  m->range_max = G_MAXDOUBLE;
  m->below_range = m->above_range = FALSE;
  return TRUE;
}

static gboolean
gst_thermal_measure_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  GstThermalMeasureMeta *src = (GstThermalMeasureMeta *) meta;
  GstThermalMeasureMeta *dst = gst_buffer_get_thermal_measure_meta (dest);

  if (!dst)
    dst = gst_buffer_add_thermal_measure_meta (dest);
  if (!dst)
    return FALSE;
  dst->max = src->max;
  dst->min = src->min;
  dst->avg = src->avg;
  memcpy (dst->max_at, src->max_at, sizeof (src->max_at));
  memcpy (dst->min_at, src->min_at, sizeof (src->min_at));
  dst->scene_state = src->scene_state;
  dst->n_rules = src->n_rules;
  memcpy (dst->rules, src->rules, src->n_rules * sizeof (GstThermalRuleResult));
  dst->valid = src->valid;
  dst->n_comparisons = src->n_comparisons;
  memcpy (dst->comparisons, src->comparisons,
      src->n_comparisons * sizeof (GstThermalComparisonResult));
  dst->range_min = src->range_min;
  dst->range_max = src->range_max;
  dst->below_range = src->below_range;
  dst->above_range = src->above_range;
  return TRUE;
}

const GstMetaInfo *
gst_thermal_measure_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi =
        gst_meta_register (GST_THERMAL_MEASURE_META_API_TYPE,
        "GstThermalMeasureMeta", sizeof (GstThermalMeasureMeta),
        gst_thermal_measure_meta_init, NULL,
        gst_thermal_measure_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * gst_buffer_add_thermal_measure_meta: (skip)
 *
 * For the elements (C only).
 */
GstThermalMeasureMeta *
gst_buffer_add_thermal_measure_meta (GstBuffer * buffer)
{
  return (GstThermalMeasureMeta *) gst_buffer_add_meta (buffer,
      gst_thermal_measure_meta_get_info (), NULL);
}

/* ---- for applications (and GObject introspection: GstThermal-1.0) ---- */

/**
 * gst_buffer_get_thermal_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the radiometric parameters of the
 *   frame in @buffer, or %NULL
 */
GstThermalMeta *
gst_buffer_get_thermal_meta (GstBuffer * buffer)
{
  return (GstThermalMeta *) gst_buffer_get_meta (buffer, GST_THERMAL_META_API_TYPE);
}

/**
 * gst_buffer_get_thermal_palette_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): how the picture in @buffer was
 *   coloured, or %NULL
 */
GstThermalPaletteMeta *
gst_buffer_get_thermal_palette_meta (GstBuffer * buffer)
{
  return (GstThermalPaletteMeta *) gst_buffer_get_meta (buffer,
      GST_THERMAL_PALETTE_META_API_TYPE);
}

/**
 * gst_buffer_get_thermal_measure_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the readings thermalmeasure attached
 *   to the frame in @buffer, or %NULL
 */
GstThermalMeasureMeta *
gst_buffer_get_thermal_measure_meta (GstBuffer * buffer)
{
  return (GstThermalMeasureMeta *) gst_buffer_get_meta (buffer,
      GST_THERMAL_MEASURE_META_API_TYPE);
}

/**
 * gst_thermal_meta_to_celsius:
 * @meta: the #GstThermalMeta of a frame
 * @count: a pixel's count in that frame
 *
 * The temperature a count stands for: on a temperature frame (what
 * thermalradiometry makes) @count times the meta's scale, in kelvin; on a raw
 * frame, through the frame's calibration and object parameters when the meta
 * has them.
 *
 * Returns: degrees Celsius, or NAN when the meta cannot say
 */
gdouble
gst_thermal_meta_to_celsius (const GstThermalMeta * meta, guint count)
{
  TcChain chain;
  gdouble k;

  g_return_val_if_fail (meta != NULL, NAN);
  if (meta->kind == GST_THERMAL_FRAME_TEMPERATURE)
    return meta->scale > 0 ? count * meta->scale - 273.15 : NAN;
  if (!meta->has_calibration || !meta->has_params)
    return NAN;
  tc_chain_init (&chain, &meta->calibration, &meta->params);
  k = tc_chain_raw_to_kelvin (&chain, count);
  return isnan (k) ? NAN : k - 273.15;
}

/**
 * gst_thermal_meta_get_kind:
 * @meta: the #GstThermalMeta of a frame
 *
 * Returns: whether the frame holds raw counts or temperatures
 */
GstThermalFrameKind
gst_thermal_meta_get_kind (const GstThermalMeta * meta)
{
  g_return_val_if_fail (meta != NULL, GST_THERMAL_FRAME_RAW);
  return meta->kind;
}

/**
 * gst_thermal_meta_get_scale:
 * @meta: the #GstThermalMeta of a frame
 *
 * Returns: kelvin per count of a temperature frame (0.01 or 0.1); 0 for raw
 *   counts
 */
gdouble
gst_thermal_meta_get_scale (const GstThermalMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->kind == GST_THERMAL_FRAME_TEMPERATURE ? meta->scale : 0;
}

/**
 * gst_thermal_meta_get_parameters:
 * @meta: the #GstThermalMeta of a frame
 *
 * The meta as a structure "thermal-parameters": kind ("raw" or
 * "temperature"), scale (kelvin per count), fpa-temperature (°C),
 * shutter-closed, clamped; with the object parameters (emissivity, distance,
 * reflected-temperature, atmospheric-temperature, relative-humidity,
 * window-temperature, window-transmission) when it has them, and the
 * calibration's constants (the names exiftool gives them) when it has one.
 *
 * Returns: (transfer full): a new #GstStructure
 */
GstStructure *
gst_thermal_meta_get_parameters (const GstThermalMeta * meta)
{
  GstStructure *s;

  g_return_val_if_fail (meta != NULL, NULL);
  s = gst_structure_new ("thermal-parameters",
      "kind", G_TYPE_STRING, meta->kind == GST_THERMAL_FRAME_TEMPERATURE ? "temperature" : "raw",
      "scale", G_TYPE_DOUBLE, meta->scale,
      "fpa-temperature", G_TYPE_DOUBLE, meta->fpa_temperature,
      "shutter-closed", G_TYPE_BOOLEAN, meta->shutter_closed,
      "clamped", G_TYPE_UINT64, meta->clamped, NULL);
  if (meta->has_params)
    gst_structure_set (s,
        "emissivity", G_TYPE_DOUBLE, meta->params.emissivity,
        "distance", G_TYPE_DOUBLE, meta->params.distance,
        "reflected-temperature", G_TYPE_DOUBLE, meta->params.reflected_temp,
        "atmospheric-temperature", G_TYPE_DOUBLE, meta->params.atmospheric_temp,
        "relative-humidity", G_TYPE_DOUBLE, meta->params.relative_humidity,
        "window-temperature", G_TYPE_DOUBLE, meta->params.window_temp,
        "window-transmission", G_TYPE_DOUBLE, meta->params.window_transmission, NULL);
  if (meta->has_calibration) {
    GstStructure *cal = gst_thermal_calibration_structure_new (&meta->calibration, 0, 0,
        NULL, NULL, NULL, 0);
    gint n = cal ? gst_structure_n_fields (cal) : 0;
    for (gint i = 0; i < n; i++) {
      const gchar *name = gst_structure_nth_field_name (cal, i);
      if (!g_str_equal (name, "width") && !g_str_equal (name, "height"))
        gst_structure_set_value (s, name, gst_structure_get_value (cal, name));
    }
    if (cal)
      gst_structure_free (cal);
  }
  return s;
}

/**
 * gst_thermal_measure_meta_get_n_rules:
 * @meta: a #GstThermalMeasureMeta
 *
 * Returns: how many rules have readings in @meta
 */
guint
gst_thermal_measure_meta_get_n_rules (const GstThermalMeasureMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return MIN (meta->n_rules, GST_THERMAL_MAX_RULES);
}

/**
 * gst_thermal_measure_meta_get_rule:
 * @meta: a #GstThermalMeasureMeta
 * @index: 0 to gst_thermal_measure_meta_get_n_rules() - 1
 *
 * Returns: (transfer none) (nullable): the @index-th rule's readings, or
 *   %NULL when there is no such rule
 */
GstThermalRuleResult *
gst_thermal_measure_meta_get_rule (GstThermalMeasureMeta * meta, guint index)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return index < gst_thermal_measure_meta_get_n_rules (meta) ? &meta->rules[index] : NULL;
}

/**
 * gst_thermal_measure_meta_find_rule:
 * @meta: a #GstThermalMeasureMeta
 * @id: a rule's id
 *
 * Returns: (transfer none) (nullable): the readings of the rule @id, or
 *   %NULL when it has none on this frame
 */
GstThermalRuleResult *
gst_thermal_measure_meta_find_rule (GstThermalMeasureMeta * meta, gint id)
{
  g_return_val_if_fail (meta != NULL, NULL);
  for (guint i = 0; i < gst_thermal_measure_meta_get_n_rules (meta); i++)
    if (meta->rules[i].id == id)
      return &meta->rules[i];
  return NULL;
}

/**
 * gst_thermal_measure_meta_get_max_position:
 * @meta: a #GstThermalMeasureMeta
 * @x: (out): where the scene's max is, 0..1 from the left
 * @y: (out): 0..1 from the top
 */
void
gst_thermal_measure_meta_get_max_position (const GstThermalMeasureMeta * meta,
    gdouble * x, gdouble * y)
{
  g_return_if_fail (meta != NULL);
  *x = meta->max_at[0];
  *y = meta->max_at[1];
}

/**
 * gst_thermal_measure_meta_get_min_position:
 * @meta: a #GstThermalMeasureMeta
 * @x: (out): where the scene's min is, 0..1 from the left
 * @y: (out): 0..1 from the top
 */
void
gst_thermal_measure_meta_get_min_position (const GstThermalMeasureMeta * meta,
    gdouble * x, gdouble * y)
{
  g_return_if_fail (meta != NULL);
  *x = meta->min_at[0];
  *y = meta->min_at[1];
}

/**
 * gst_thermal_rule_result_get_name:
 * @result: a #GstThermalRuleResult
 *
 * Returns: (transfer none): the rule's name (UTF-8)
 */
const gchar *
gst_thermal_rule_result_get_name (const GstThermalRuleResult * result)
{
  g_return_val_if_fail (result != NULL, NULL);
  return result->name;
}

/**
 * gst_thermal_rule_result_get_max_position:
 * @result: a #GstThermalRuleResult
 * @x: (out): where the rule's max is, 0..1 from the left
 * @y: (out): 0..1 from the top
 */
void
gst_thermal_rule_result_get_max_position (const GstThermalRuleResult * result,
    gdouble * x, gdouble * y)
{
  g_return_if_fail (result != NULL);
  *x = result->max_at[0];
  *y = result->max_at[1];
}

/**
 * gst_thermal_rule_result_get_min_position:
 * @result: a #GstThermalRuleResult
 * @x: (out): where the rule's min is, 0..1 from the left
 * @y: (out): 0..1 from the top
 */
void
gst_thermal_rule_result_get_min_position (const GstThermalRuleResult * result,
    gdouble * x, gdouble * y)
{
  g_return_if_fail (result != NULL);
  *x = result->min_at[0];
  *y = result->min_at[1];
}

/**
 * gst_thermal_rule_result_get_point:
 * @result: a #GstThermalRuleResult
 * @index: 0 to n_points - 1
 * @x: (out): the point, 0..1 from the left
 * @y: (out): 0..1 from the top
 *
 * Returns: %FALSE when the rule has no such point
 */
gboolean
gst_thermal_rule_result_get_point (const GstThermalRuleResult * result, guint index,
    gdouble * x, gdouble * y)
{
  g_return_val_if_fail (result != NULL, FALSE);
  if (index >= MIN (result->n_points, GST_THERMAL_MAX_POINTS))
    return FALSE;
  *x = result->points[index][0];
  *y = result->points[index][1];
  return TRUE;
}
