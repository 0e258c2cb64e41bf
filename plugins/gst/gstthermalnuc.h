/* thermocam: thermalnuc, non-uniformity and defective pixel correction
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>
#include "tc-dpc.h"
#include "tc-radiometry.h"

G_BEGIN_DECLS

#define GST_TYPE_THERMAL_NUC (gst_thermal_nuc_get_type ())
G_DECLARE_FINAL_TYPE (GstThermalNuc, gst_thermal_nuc, GST, THERMAL_NUC,
    GstVideoFilter)

typedef enum {
  GST_THERMAL_NUC_TABLES_SOURCE,
  GST_THERMAL_NUC_TABLES_FILE,
  GST_THERMAL_NUC_TABLES_NONE,
} GstThermalNucTables;

typedef enum {
  GST_THERMAL_NUC_IDLE,
  GST_THERMAL_NUC_WAIT_CLOSED,   /* shutter asked to close, collecting its frames */
  GST_THERMAL_NUC_WAIT_OPEN,     /* done, waiting for the scene to come back */
  GST_THERMAL_NUC_BACKGROUND,    /* collecting frames of a uniform object */
} GstThermalNucState;

struct _GstThermalNuc
{
  GstVideoFilter parent;

  /* properties (object lock) */
  GstThermalNucTables tables;
  gchar *table_file;
  guint ffc_interval;            /* seconds, 0 = off */
  gdouble ffc_drift;             /* kelvin of FPA change, 0 = off */
  guint ffc_frames;
  gboolean dpc;
  gboolean auto_dpc;
  gdouble dpc_threshold;
  gchar *manual_pixels;          /* "x,y;x,y" */
  gboolean ffc_on_start;
  gboolean ffc_requested;        /* by the action signal */
  gboolean bg_requested;
  gboolean tables_dirty;         /* reload tables before the next frame */
  guint tables_gen;              /* bumped by every change of tables/table-file */
  gboolean map_dirty;            /* rebuild the defect map before the next frame */

  /* streaming state (streaming thread; read by properties under the lock) */
  gint width, height;
  gfloat *gain, *offset;         /* width * height */
  guint32 *acc;                  /* flat-field accumulator */
  guint8 *factory_bad, *detected_bad, *manual_bad, *bad;  /* masks */
  TcDpcMap map;
  guint16 *frozen;               /* last good output, shown while the shutter is closed */
  gsize frozen_stride;
  GstThermalNucState state;
  guint collected;
  guint waited;
  GstClockTime last_ffc_time;
  gdouble last_ffc_fpa;
  gboolean have_cal;
  TcCalibration cal;
  guint ffc_count;
  gboolean first_frame;          /* no frame since start */
  gboolean starting;             /* the FFC at start is running: nothing out yet */
  gboolean ffc_held;             /* the FFC began with the shutter already closed by
                                  * someone else (burning prevention): its frozen
                                  * frame is the shutter, and it does not open it */
  guint detected_count;
};

GST_ELEMENT_REGISTER_DECLARE (thermalnuc);

G_END_DECLS
