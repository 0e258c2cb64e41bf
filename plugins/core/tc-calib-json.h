/* thermocam: calibration and object parameters from JSON
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The keys are the names exiftool gives FLIR's tags (PlanckR1, PlanckR2,
 * PlanckB, PlanckF, PlanckO, AtmosphericTransAlpha1/2, AtmosphericTransBeta1/2,
 * AtmosphericTransX, CameraTemperatureRangeMin/Max; Emissivity, ObjectDistance,
 * ReflectedApparentTemperature, AtmosphericTemperature, RelativeHumidity,
 * IRWindowTemperature, IRWindowTransmission), so `exiftool -j -n FILE` output
 * is a valid file: an object, or an array whose first element is one.
 */
#pragma once

#include <glib.h>
#include "tc-radiometry.h"

G_BEGIN_DECLS

#define TC_CALIB_ERROR (tc_calib_error_quark ())
GQuark tc_calib_error_quark (void);

typedef enum {
  TC_CALIB_ERROR_PARSE,    /* not JSON, or not an object */
  TC_CALIB_ERROR_MISSING,  /* a required key is absent */
  TC_CALIB_ERROR_INVALID   /* a value is not a number or out of its domain */
} TcCalibError;

/* Fills @cal (Planck constants required; atmospheric constants and range
 * default to the usual values) and, when @obj is given, the object parameters
 * the document has (the others keep @obj's values; *@has_obj says whether any
 * was found).  On error nothing is changed and the message names the key. */
gboolean tc_calibration_parse_json (const gchar *data, gssize length,
                                    TcCalibration *cal, TcObjectParams *obj,
                                    gboolean *has_obj, GError **error);
gboolean tc_calibration_load_json (const gchar *path, TcCalibration *cal,
                                   TcObjectParams *obj, gboolean *has_obj,
                                   GError **error);

G_END_DECLS
