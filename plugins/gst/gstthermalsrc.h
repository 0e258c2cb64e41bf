/* thermocam: thermalsrc, a simulated radiometric thermal sensor
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstpushsrc.h>
#include <gst/video/video.h>
#include "tc-sim.h"

G_BEGIN_DECLS

/* the scene-defects property holds at most this many pixels */
#define GST_THERMAL_SRC_MAX_SCENE_DEFECTS 64
/* counts a scene defect reads above what it should while the shutter is open */
#define GST_THERMAL_SRC_SCENE_DEFECT_COUNTS 4000

#define GST_TYPE_THERMAL_SRC (gst_thermal_src_get_type ())
G_DECLARE_FINAL_TYPE (GstThermalSrc, gst_thermal_src, GST, THERMAL_SRC,
    GstPushSrc)

struct _GstThermalSrc
{
  GstPushSrc parent;

  /* properties (object lock) */
  TcSimConfig cfg;
  gboolean shutter_closed;
  gboolean cfg_changed;          /* push cfg into the sim before the next frame */
  gchar *scene_defects;          /* "x,y;x,y": pixels wrong in the scene only */
  guint n_scene_defects;
  guint16 scene_defect_xy[GST_THERMAL_SRC_MAX_SCENE_DEFECTS][2];

  /* streaming */
  TcSim *sim;                    /* object lock to create/free; read by signal handlers */
  GstVideoInfo info;
  guint64 n_frames;
  GstClockTime running_time;
};

GST_ELEMENT_REGISTER_DECLARE (thermalsrc);

G_END_DECLS
