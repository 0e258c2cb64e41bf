/* thermocam: calibration and object parameters from JSON
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tc-calib-json.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>

#include "tc-json.h"

G_DEFINE_QUARK (tc-calib-error-quark, tc_calib_error);

/* exiftool prints some values as strings ("-0.00227600010111928") */
static gboolean
get_number (JsonObject *o, const gchar *key, gboolean required, double *out,
    GError **error)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n || JSON_NODE_HOLDS_NULL (n)) {
    if (required) {
      g_set_error (error, TC_CALIB_ERROR, TC_CALIB_ERROR_MISSING,
          "calibration: %s is missing", key);
      return FALSE;
    }
    return TRUE;
  }
  if (JSON_NODE_HOLDS_VALUE (n)) {
    GType t = json_node_get_value_type (n);

    if (t == G_TYPE_DOUBLE || t == G_TYPE_INT64) {
      *out = json_node_get_double (n);
      if (isfinite (*out))
        return TRUE;
    } else if (t == G_TYPE_STRING) {
      const gchar *s = json_node_get_string (n);
      gchar *end = NULL;
      double v = g_ascii_strtod (s, &end);

      if (end && end != s && *end == '\0' && isfinite (v)) {
        *out = v;
        return TRUE;
      }
    }
  }
  g_set_error (error, TC_CALIB_ERROR, TC_CALIB_ERROR_INVALID,
      "calibration: %s is not a number", key);
  return FALSE;
}

gboolean
tc_calibration_parse_json (const gchar *data, gssize length, TcCalibration *cal,
    TcObjectParams *obj, gboolean *has_obj, GError **error)
{
  g_autoptr (JsonNode) doc = NULL;
  JsonNode *root;
  JsonObject *o;
  TcCalibration c;
  TcObjectParams p;
  const gchar *bad;
  gboolean found = FALSE;
  GError *err = NULL;
  static const struct {
    const gchar *key;
    gsize offset;
  } obj_keys[] = {
    {"Emissivity", G_STRUCT_OFFSET (TcObjectParams, emissivity)},
    {"ObjectDistance", G_STRUCT_OFFSET (TcObjectParams, distance)},
    {"ReflectedApparentTemperature", G_STRUCT_OFFSET (TcObjectParams, reflected_temp)},
    {"AtmosphericTemperature", G_STRUCT_OFFSET (TcObjectParams, atmospheric_temp)},
    {"RelativeHumidity", G_STRUCT_OFFSET (TcObjectParams, relative_humidity)},
    {"IRWindowTemperature", G_STRUCT_OFFSET (TcObjectParams, window_temp)},
    {"IRWindowTransmission", G_STRUCT_OFFSET (TcObjectParams, window_transmission)},
  };
  guint i;

  if (!(doc = tc_json_parse (data, length, TC_JSON_MAX_DEPTH, &err))) {
    g_set_error (error, TC_CALIB_ERROR, TC_CALIB_ERROR_PARSE,
        "calibration: not valid JSON: %s", err->message);
    g_error_free (err);
    return FALSE;
  }
  root = doc;
  if (root && JSON_NODE_HOLDS_ARRAY (root) &&
      json_array_get_length (json_node_get_array (root)) > 0)
    root = json_array_get_element (json_node_get_array (root), 0);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, TC_CALIB_ERROR, TC_CALIB_ERROR_PARSE,
        "calibration: expected a JSON object (or an array of one)");
    return FALSE;
  }
  o = json_node_get_object (root);

  tc_calibration_init_default (&c);
  if (!get_number (o, "PlanckR1", TRUE, &c.r1, error) ||
      !get_number (o, "PlanckR2", TRUE, &c.r2, error) ||
      !get_number (o, "PlanckB", TRUE, &c.b, error) ||
      !get_number (o, "PlanckF", TRUE, &c.f, error) ||
      !get_number (o, "PlanckO", TRUE, &c.o, error) ||
      !get_number (o, "AtmosphericTransAlpha1", FALSE, &c.ata1, error) ||
      !get_number (o, "AtmosphericTransAlpha2", FALSE, &c.ata2, error) ||
      !get_number (o, "AtmosphericTransBeta1", FALSE, &c.atb1, error) ||
      !get_number (o, "AtmosphericTransBeta2", FALSE, &c.atb2, error) ||
      !get_number (o, "AtmosphericTransX", FALSE, &c.atx, error) ||
      !get_number (o, "CameraTemperatureRangeMin", FALSE, &c.range_min, error) ||
      !get_number (o, "CameraTemperatureRangeMax", FALSE, &c.range_max, error))
    return FALSE;
  if ((bad = tc_calibration_check (&c))) {
    g_set_error (error, TC_CALIB_ERROR, TC_CALIB_ERROR_INVALID,
        "calibration: %s is out of range", bad);
    return FALSE;
  }

  if (obj)
    p = *obj;
  else
    tc_object_params_init_default (&p);
  for (i = 0; i < G_N_ELEMENTS (obj_keys); i++) {
    double v = NAN;

    if (!get_number (o, obj_keys[i].key, FALSE, &v, error))
      return FALSE;
    if (!isnan (v)) {
      G_STRUCT_MEMBER (double, &p, obj_keys[i].offset) = v;
      found = TRUE;
    }
  }
  /* FLIR's object distance 0 means "not set"; the chain treats it as no path */
  if ((bad = tc_object_params_check (&p))) {
    g_set_error (error, TC_CALIB_ERROR, TC_CALIB_ERROR_INVALID,
        "calibration: object parameter %s is out of range", bad);
    return FALSE;
  }

  *cal = c;
  if (obj)
    *obj = p;
  if (has_obj)
    *has_obj = found;
  return TRUE;
}

gboolean
tc_calibration_load_json (const gchar *path, TcCalibration *cal,
    TcObjectParams *obj, gboolean *has_obj, GError **error)
{
  g_autofree gchar *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, error))
    return FALSE;
  return tc_calibration_parse_json (data, (gssize) len, cal, obj, has_obj, error);
}
