/* thermocam: thermalpalette, temperature to a coloured picture
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>
#include "tc-palette.h"

G_BEGIN_DECLS

#define GST_TYPE_THERMAL_PALETTE (gst_thermal_palette_get_type ())
G_DECLARE_FINAL_TYPE (GstThermalPalette, gst_thermal_palette, GST,
    THERMAL_PALETTE, GstVideoFilter)

typedef enum {
  GST_THERMAL_RANGE_AUTO,
  GST_THERMAL_RANGE_MANUAL,
} GstThermalRangeMode;

struct _GstThermalPalette
{
  GstVideoFilter parent;

  /* properties (object lock) */
  TcPaletteId palette;
  GstThermalRangeMode range_mode;
  gdouble range_min, range_max;   /* degrees C */
  gdouble damping;
  TcAgcMode agc;
  gdouble plateau;
  gint dde_level;
  gdouble brightness, contrast;
  gboolean dirty;                 /* push the properties into the colorizer */

  /* streaming */
  TcColorizer *colorizer;
  gdouble scale;                  /* kelvin per input count */
  gboolean warned_raw;            /* raw counts came in: said once */
};

GST_ELEMENT_REGISTER_DECLARE (thermalpalette);

/* The palettes as a GEnum (nicks "white-hot", "ironbow", ...) */
GType gst_thermal_palette_id_get_type (void);
#define GST_TYPE_THERMAL_PALETTE_ID (gst_thermal_palette_id_get_type ())

G_END_DECLS
