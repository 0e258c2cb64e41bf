/* thermocamd: a temperature frame's readings as JSON (HTTP, and the
 * measurement event; next MQTT and ONVIF)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "tcd-config.h"

G_BEGIN_DECLS

/* The reading of a temperature frame (GET /api/v1/temperatures and the
 * measurement event), or NULL when it has no measurement; readings outside
 * the measurement range @range_lo..@range_hi (degrees C) are flagged */
JsonNode *tcd_reading_from_sample (GstSample *sample, gdouble range_lo, gdouble range_hi);
/* the measurement range of thermometry.temperature_range ("-20~150");
 * unbounded when there is none */
void      tcd_reading_range (TcdConfig *config, gdouble *lo, gdouble *hi);

G_END_DECLS
