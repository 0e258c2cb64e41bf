/* thermocam: thermalnuc, non-uniformity and defective pixel correction
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-thermalnuc
 * @title: thermalnuc
 *
 * Corrects a thermal sensor's raw counts (GRAY16_LE in and out):
 *
 * - two-point non-uniformity correction: corrected = gain * raw + offset per
 *   pixel, with the factory tables the source gives (a calibration query that
 *   thermalsrc answers) or tables from a file;
 * - flat-field correction (FFC) with the shutter: on the "ffc" action signal,
 *   every `ffc-interval` seconds, and when the sensor (FPA) temperature has
 *   drifted by `ffc-drift` kelvin since the last one.  The element asks the
 *   source to close its shutter (a "thermal-shutter" upstream event), averages
 *   `ffc-frames` shutter frames, renews the offsets so that the shutter reads
 *   the counts a blackbody at the FPA temperature gives, and opens the shutter;
 *   the picture freezes meanwhile.  One is also done on the first frame
 *   (`ffc-on-start`), as a camera does at power-on, which finds the defects
 *   that appeared since the factory calibration; no frame leaves the element
 *   before it is done;
 * - background correction (manual §7.2.2): with a uniform object in front of
 *   the lens, the "background-correction" action signal averages a few frames
 *   and makes them uniform;
 * - defective pixel correction: the factory list, pixels found at each FFC
 *   (`auto-dpc`), and a manual list (`defective-pixels`, "x,y;x,y"), each
 *   replaced by the mean of its good neighbours.
 *
 * After each correction it posts an element message "thermal-ffc" (kind,
 * target, fpa-temperature, new-defects).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 thermalsrc ! thermalnuc ffc-interval=120 defective-pixels="10,20;11,40" ! thermalradiometry ! thermalpalette ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstthermalnuc.h"
#include "gstthermalmeta.h"
#include "tc-nuc.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_thermal_nuc_debug);
#define GST_CAT_DEFAULT gst_thermal_nuc_debug

#define DEFAULT_PROP_TABLES GST_THERMAL_NUC_TABLES_SOURCE
#define DEFAULT_PROP_FFC_INTERVAL 0
#define DEFAULT_PROP_FFC_DRIFT 0.5
#define DEFAULT_PROP_FFC_ON_START TRUE
#define DEFAULT_PROP_FFC_FRAMES 4
#define DEFAULT_PROP_DPC TRUE
#define DEFAULT_PROP_AUTO_DPC TRUE
#define DEFAULT_PROP_DPC_THRESHOLD 400.0
/* frames to wait for the shutter before giving up */
#define SHUTTER_TIMEOUT_FRAMES 60

enum
{
  PROP_0,
  PROP_TABLES,
  PROP_TABLE_FILE,
  PROP_FFC_INTERVAL,
  PROP_FFC_DRIFT,
  PROP_FFC_FRAMES,
  PROP_FFC_ON_START,
  PROP_DPC,
  PROP_AUTO_DPC,
  PROP_DPC_THRESHOLD,
  PROP_DEFECTIVE_PIXELS,
  PROP_DEFECTIVE_COUNT,
  PROP_DETECTED_COUNT,
  PROP_FFC_COUNT,
};

enum
{
  SIGNAL_FFC,
  SIGNAL_BACKGROUND_CORRECTION,
  SIGNAL_CLEAR_DETECTED,
  SIGNAL_SAVE_TABLES,
  LAST_SIGNAL
};

static guint gst_thermal_nuc_signals[LAST_SIGNAL] = { 0 };

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY16_LE")));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY16_LE")));

#define GST_TYPE_THERMAL_NUC_TABLES (gst_thermal_nuc_tables_get_type ())
static GType
gst_thermal_nuc_tables_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_THERMAL_NUC_TABLES_SOURCE, "The source's factory tables", "source"},
    {GST_THERMAL_NUC_TABLES_FILE, "Tables from table-file", "file"},
    {GST_THERMAL_NUC_TABLES_NONE, "No tables (gain 1, offset 0)", "none"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstThermalNucTables",
            values));
  return type;
}

#define gst_thermal_nuc_parent_class parent_class
G_DEFINE_TYPE (GstThermalNuc, gst_thermal_nuc, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (thermalnuc, "thermalnuc", GST_RANK_NONE,
    GST_TYPE_THERMAL_NUC);

/* "x,y;x,y" -> array of pairs; NULL when malformed */
static GArray *
parse_pixel_list (const gchar * str)
{
  GArray *arr = g_array_new (FALSE, FALSE, sizeof (gint) * 2);
  gchar **items;
  guint i;

  if (!str)
    return arr;
  items = g_strsplit_set (str, "; \t\n", -1);
  for (i = 0; items[i]; i++) {
    gchar *end;
    gint64 x, y;
    gint pt[2];

    if (!*items[i])
      continue;
    x = g_ascii_strtoll (items[i], &end, 10);
    if (end == items[i] || *end != ',')
      goto bad;
    {
      gchar *ys = end + 1;
      y = g_ascii_strtoll (ys, &end, 10);
      if (end == ys || *end != '\0')
        goto bad;
    }
    if (x < 0 || y < 0 || x > 8191 || y > 8191)
      goto bad;
    pt[0] = (gint) x;
    pt[1] = (gint) y;
    g_array_append_val (arr, pt);
  }
  g_strfreev (items);
  return arr;

bad:
  g_strfreev (items);
  g_array_free (arr, TRUE);
  return NULL;
}

static void
gst_thermal_nuc_free_tables (GstThermalNuc * self)
{
  g_clear_pointer (&self->gain, g_free);
  g_clear_pointer (&self->offset, g_free);
  g_clear_pointer (&self->acc, g_free);
  g_clear_pointer (&self->factory_bad, g_free);
  g_clear_pointer (&self->detected_bad, g_free);
  g_clear_pointer (&self->manual_bad, g_free);
  g_clear_pointer (&self->bad, g_free);
  g_clear_pointer (&self->frozen, g_free);
  tc_dpc_map_clear (&self->map);
}

static gboolean
gst_thermal_nuc_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstThermalNuc *self = GST_THERMAL_NUC (filter);
  gint w = GST_VIDEO_INFO_WIDTH (in_info), h = GST_VIDEO_INFO_HEIGHT (in_info);
  gsize n = (gsize) w * h;
  gboolean reopen;

  GST_OBJECT_LOCK (self);
  if (w != self->width || h != self->height || !self->gain) {
    gst_thermal_nuc_free_tables (self);
    self->width = w;
    self->height = h;
    self->gain = g_new (gfloat, n);
    self->offset = g_new (gfloat, n);
    self->acc = g_new0 (guint32, n);
    self->factory_bad = g_new0 (guint8, n);
    self->detected_bad = g_new0 (guint8, n);
    self->manual_bad = g_new0 (guint8, n);
    self->bad = g_new0 (guint8, n);
    self->frozen_stride = GST_VIDEO_INFO_PLANE_STRIDE (out_info, 0);
    self->frozen = g_malloc0 (self->frozen_stride * h);
    self->detected_count = 0;
  }
  self->tables_dirty = TRUE;
  reopen = self->state == GST_THERMAL_NUC_WAIT_CLOSED ||
      self->state == GST_THERMAL_NUC_WAIT_OPEN;
  self->state = GST_THERMAL_NUC_IDLE;
  self->starting = FALSE;
  GST_OBJECT_UNLOCK (self);
  /* a correction cut short by new caps must not leave the shutter closed */
  if (reopen)
    gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (self),
        gst_thermal_event_new_shutter (FALSE));
  return TRUE;
}

typedef struct {
  gfloat *gain, *offset;
  guint8 *bad;
  gboolean have_cal;
  TcCalibration cal;
} NucTables;

/* Asks the source for its factory tables; FALSE when it has none. */
static gboolean
tables_from_source (GstThermalNuc * self, gint width, gint height, NucTables * t)
{
  GstQuery *q = gst_thermal_query_new_calibration ();
  const GstStructure *s;
  gsize n = (gsize) width * height;
  GBytes *g = NULL, *o = NULL, *b = NULL;
  gint w = 0, h = 0;
  gboolean ok = FALSE;

  if (!gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (self), q))
    goto done;
  s = gst_query_get_structure (q);
  t->have_cal = gst_thermal_calibration_structure_get (s, &t->cal);
  if (!gst_structure_get (s, "width", G_TYPE_INT, &w, "height", G_TYPE_INT,
          &h, "gain", G_TYPE_BYTES, &g, "offset", G_TYPE_BYTES, &o, NULL))
    goto done;
  if (w != width || h != height ||
      g_bytes_get_size (g) != n * sizeof (gfloat) ||
      g_bytes_get_size (o) != n * sizeof (gfloat)) {
    GST_WARNING_OBJECT (self, "source tables are %dx%d, frames %dx%d", w, h,
        width, height);
    goto done;
  }
  memcpy (t->gain, g_bytes_get_data (g, NULL), n * sizeof (gfloat));
  memcpy (t->offset, g_bytes_get_data (o, NULL), n * sizeof (gfloat));
  if (gst_structure_get (s, "bad-pixels", G_TYPE_BYTES, &b, NULL)) {
    gsize nb, i;
    const guint32 *idx = g_bytes_get_data (b, &nb);

    for (i = 0; i < nb / sizeof (guint32); i++)
      if (idx[i] < n)
        t->bad[idx[i]] = 1;
  }
  ok = TRUE;

done:
  if (g)
    g_bytes_unref (g);
  if (o)
    g_bytes_unref (o);
  if (b)
    g_bytes_unref (b);
  gst_query_unref (q);
  return ok;
}

static gboolean
tables_from_file (GstThermalNuc * self, const gchar * path, gint width,
    gint height, NucTables * t)
{
  gint w, h;
  gfloat *g, *o;
  gchar err[512];
  gsize n = (gsize) width * height;

  if (!path || !*path) {
    GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
        ("No NUC table file set"), ("tables=file needs table-file"));
    return FALSE;
  }
  if (!tc_nuc_file_read (path, &w, &h, &g, &o, err, sizeof (err))) {
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("Could not read NUC tables \"%s\"", path), ("%s", err));
    return FALSE;
  }
  if (w != width || h != height) {
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("NUC tables \"%s\" are for %dx%d frames, not %dx%d", path, w, h,
            width, height), (NULL));
    free (g);
    free (o);
    return FALSE;
  }
  memcpy (t->gain, g, n * sizeof (gfloat));
  memcpy (t->offset, o, n * sizeof (gfloat));
  free (g);
  free (o);
  return TRUE;
}

/* streaming thread, object lock held.  The query and the file are read
 * unlocked (a query or a warning must not run under our lock), into
 * temporaries swapped in only if the tables were not changed meanwhile. */
static void
gst_thermal_nuc_load_tables (GstThermalNuc * self)
{
  GstThermalNucTables which = self->tables;
  gchar *path = g_strdup (self->table_file);
  guint gen = self->tables_gen;
  gint w = self->width, h = self->height;
  gsize i, n = (gsize) w * h;
  NucTables t = { g_new (gfloat, n), g_new (gfloat, n), g_new0 (guint8, n),
    FALSE
  };
  gboolean ok = FALSE;

  GST_OBJECT_UNLOCK (self);
  if (which == GST_THERMAL_NUC_TABLES_SOURCE) {
    ok = tables_from_source (self, w, h, &t);
    if (!ok)
      GST_INFO_OBJECT (self, "the source has no factory tables: using none");
  } else if (which == GST_THERMAL_NUC_TABLES_FILE) {
    tables_from_source (self, w, h, &t);        /* still learn the calibration */
    memset (t.bad, 0, n);
    ok = tables_from_file (self, path, w, h, &t);
  }
  if (!ok) {
    for (i = 0; i < n; i++) {
      t.gain[i] = 1.0f;
      t.offset[i] = 0.0f;
    }
    memset (t.bad, 0, n);
  }
  GST_OBJECT_LOCK (self);
  if (gen == self->tables_gen && w == self->width && h == self->height) {
    memcpy (self->gain, t.gain, n * sizeof (gfloat));
    memcpy (self->offset, t.offset, n * sizeof (gfloat));
    memcpy (self->factory_bad, t.bad, n);
    self->have_cal = t.have_cal;
    if (t.have_cal)
      self->cal = t.cal;
    self->tables_dirty = FALSE;
    self->map_dirty = TRUE;
  }
  g_free (t.gain);
  g_free (t.offset);
  g_free (t.bad);
  g_free (path);
}

/* streaming thread, object lock held */
static void
gst_thermal_nuc_build_map (GstThermalNuc * self)
{
  gsize i, n = (gsize) self->width * self->height;
  GArray *pts = parse_pixel_list (self->manual_pixels);

  memset (self->manual_bad, 0, n);
  if (pts) {
    for (i = 0; i < pts->len; i++) {
      gint *pt = &g_array_index (pts, gint, 2 * i);

      if (pt[0] < self->width && pt[1] < self->height)
        self->manual_bad[(gsize) pt[1] * self->width + pt[0]] = 1;
      else
        GST_WARNING_OBJECT (self, "defective pixel %d,%d is outside the "
            "%dx%d frame", pt[0], pt[1], self->width, self->height);
    }
    g_array_free (pts, TRUE);
  }
  for (i = 0; i < n; i++)
    self->bad[i] = self->factory_bad[i] | self->detected_bad[i] |
        self->manual_bad[i];
  if (!tc_dpc_map_build (&self->map, self->bad, self->width, self->height))
    GST_ERROR_OBJECT (self, "out of memory building the defect map");
  if (self->map.uncorrectable)
    GST_WARNING_OBJECT (self, "%" G_GSIZE_FORMAT " defective pixels have no "
        "good neighbour within 3 pixels", self->map.uncorrectable);
  self->map_dirty = FALSE;
}

static void
post_ffc_message (GstThermalNuc * self, const gchar * kind, gdouble target,
    gdouble fpa, guint new_defects)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("thermal-ffc", "kind", G_TYPE_STRING, kind,
              "target", G_TYPE_DOUBLE, target, "fpa-temperature",
              G_TYPE_DOUBLE, fpa, "new-defects", G_TYPE_UINT, new_defects,
              NULL)));
}

static void
copy_plane (guint8 * dst, gsize dst_stride, const guint8 * src,
    gsize src_stride, gsize row_bytes, gint height)
{
  gint y;

  for (y = 0; y < height; y++)
    memcpy (dst + y * dst_stride, src + y * src_stride, row_bytes);
}

static GstFlowReturn
gst_thermal_nuc_transform_frame (GstVideoFilter * filter,
    GstVideoFrame * in_frame, GstVideoFrame * out_frame)
{
  GstThermalNuc *self = GST_THERMAL_NUC (filter);
  GstThermalMeta *meta = gst_buffer_get_thermal_meta (in_frame->buffer);
  GstClockTime pts = GST_BUFFER_PTS (in_frame->buffer);
  const guint8 *src = GST_VIDEO_FRAME_PLANE_DATA (in_frame, 0);
  gsize src_stride = GST_VIDEO_FRAME_PLANE_STRIDE (in_frame, 0);
  guint8 *dst = GST_VIDEO_FRAME_PLANE_DATA (out_frame, 0);
  gsize dst_stride = GST_VIDEO_FRAME_PLANE_STRIDE (out_frame, 0);
  gint w = self->width, h = self->height;
  gdouble fpa = meta ? meta->fpa_temperature : NAN;
  gboolean closed = meta && meta->shutter_closed;
  gboolean frozen = FALSE, start_ffc = FALSE, start_bg = FALSE;
  gboolean quiet = FALSE, shows_shutter, held;
  const gchar *done_kind = NULL;
  gdouble done_target = NAN;
  guint new_defects = 0;

  GST_OBJECT_LOCK (self);
  if (self->tables_dirty)
    gst_thermal_nuc_load_tables (self);
  if (meta && meta->has_calibration) {
    self->cal = meta->calibration;
    self->have_cal = TRUE;
  }
  if (!GST_CLOCK_TIME_IS_VALID (self->last_ffc_time))
    self->last_ffc_time = pts;
  if (isnan (self->last_ffc_fpa))
    self->last_ffc_fpa = fpa;

  switch (self->state) {
    case GST_THERMAL_NUC_IDLE:
      if (self->bg_requested) {
        start_bg = TRUE;
      } else if (self->ffc_requested) {
        start_ffc = TRUE;
      } else if (self->first_frame && self->ffc_on_start) {
        GST_INFO_OBJECT (self, "FFC: start");
        start_ffc = TRUE;
        quiet = TRUE;           /* a source without a shutter is no error */
        self->starting = TRUE;
      } else if (self->ffc_interval > 0 && GST_CLOCK_TIME_IS_VALID (pts) &&
          GST_CLOCK_TIME_IS_VALID (self->last_ffc_time) &&
          pts >= self->last_ffc_time + self->ffc_interval * GST_SECOND) {
        GST_INFO_OBJECT (self, "FFC: interval of %u s", self->ffc_interval);
        start_ffc = TRUE;
      } else if (self->ffc_drift > 0 && !isnan (fpa) &&
          fabs (fpa - self->last_ffc_fpa) >= self->ffc_drift) {
        GST_INFO_OBJECT (self, "FFC: sensor drifted from %.2f to %.2f C",
            self->last_ffc_fpa, fpa);
        start_ffc = TRUE;
      }
      self->ffc_requested = FALSE;
      self->bg_requested = FALSE;
      break;
    case GST_THERMAL_NUC_WAIT_CLOSED:
      frozen = TRUE;
      if (!closed) {
        if (++self->waited > SHUTTER_TIMEOUT_FRAMES) {
          GST_OBJECT_UNLOCK (self);
          GST_ELEMENT_WARNING (self, STREAM, FAILED,
              ("The shutter did not close: flat-field correction abandoned"),
              ("waited %u frames", self->waited));
          gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (self),
              gst_thermal_event_new_shutter (FALSE));
          GST_OBJECT_LOCK (self);
          self->state = GST_THERMAL_NUC_IDLE;
          self->last_ffc_time = pts;
        }
        break;
      }
      tc_nuc_accumulate (self->acc, src, src_stride, w, h);
      if (++self->collected >= self->ffc_frames) {
        if (self->auto_dpc) {
          gsize i, n = (gsize) w * h;

          tc_dpc_detect (self->acc, self->collected, self->gain, self->offset,
              w, h, self->dpc_threshold, self->detected_bad);
          self->detected_count = 0;
          for (i = 0; i < n; i++)
            self->detected_count += self->detected_bad[i] &&
                !self->factory_bad[i];
          for (i = 0; i < n; i++) {
            guint8 b = self->factory_bad[i] | self->detected_bad[i] |
                self->manual_bad[i];
            new_defects += b && !self->bad[i];
          }
          self->map_dirty = TRUE;
        }
        done_target = tc_nuc_flat_field (self->offset, self->gain, self->acc,
            self->collected, (self->have_cal && !isnan (fpa)) ?
            tc_planck_counts (&self->cal, fpa + TC_KELVIN_OFFSET) : NAN,
            self->bad, w, h);
        self->state = GST_THERMAL_NUC_WAIT_OPEN;
        self->last_ffc_time = pts;
        self->last_ffc_fpa = fpa;
        self->ffc_count++;
        done_kind = "shutter";
      }
      break;
    case GST_THERMAL_NUC_WAIT_OPEN:
      if (closed)
        frozen = TRUE;
      else
        self->state = GST_THERMAL_NUC_IDLE;
      break;
    case GST_THERMAL_NUC_BACKGROUND:
      frozen = TRUE;
      tc_nuc_accumulate (self->acc, src, src_stride, w, h);
      if (++self->collected >= self->ffc_frames) {
        done_target = tc_nuc_flat_field (self->offset, self->gain, self->acc,
            self->collected, NAN, self->bad, w, h);
        self->state = GST_THERMAL_NUC_IDLE;
        self->last_ffc_time = pts;
        self->last_ffc_fpa = fpa;
        self->ffc_count++;
        done_kind = "background";
      }
      break;
  }
  self->first_frame = FALSE;
  if (self->map_dirty)
    gst_thermal_nuc_build_map (self);

  if (!frozen) {
    tc_nuc_apply (self->gain, self->offset, src, src_stride, dst, dst_stride,
        w, h);
    if (self->dpc)
      tc_dpc_apply (&self->map, dst, dst_stride);
  }
  if (start_ffc || start_bg) {
    memset (self->acc, 0, sizeof (guint32) * w * h);
    self->collected = 0;
    self->waited = 0;
    self->state = start_bg ? GST_THERMAL_NUC_BACKGROUND :
        GST_THERMAL_NUC_WAIT_CLOSED;
    self->ffc_held = start_ffc && closed;
    /* what viewers see until the correction is done */
    copy_plane ((guint8 *) self->frozen, self->frozen_stride, dst, dst_stride,
        (gsize) w * 2, h);
  }
  /* a frozen frame is the scene, unless the correction froze the shutter
   * that another closed (and then it shows the shutter as long as that
   * one holds it closed) */
  shows_shutter = closed && (!frozen || self->ffc_held);
  held = self->ffc_held;
  if (self->state == GST_THERMAL_NUC_IDLE)
    self->ffc_held = FALSE;
  GST_OBJECT_UNLOCK (self);

  if (frozen)
    copy_plane (dst, dst_stride, (guint8 *) self->frozen, self->frozen_stride,
        (gsize) w * 2, h);

  if (start_ffc && !gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (self),
          gst_thermal_event_new_shutter (TRUE))) {
    if (quiet)
      GST_INFO_OBJECT (self, "the source has no shutter: no FFC at start");
    else
      GST_ELEMENT_WARNING (self, STREAM, FAILED,
          ("The source has no shutter: flat-field correction not possible"),
          ("use background-correction with a uniform object in front of the lens"));
    GST_OBJECT_LOCK (self);
    self->state = GST_THERMAL_NUC_IDLE;
    self->last_ffc_time = pts;
    GST_OBJECT_UNLOCK (self);
  }
  if (done_kind) {
    /* the shutter is opened only when the correction closed it: one that
     * another holds closed (burning prevention) stays closed */
    if (g_str_equal (done_kind, "shutter") && !held)
      gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (self),
          gst_thermal_event_new_shutter (FALSE));
    GST_INFO_OBJECT (self, "%s correction done: target %.1f counts, FPA %.2f C,"
        " %u new defects", done_kind, done_target, fpa, new_defects);
    post_ffc_message (self, done_kind, done_target, fpa, new_defects);
  }

  GST_OBJECT_LOCK (self);
  if (self->state == GST_THERMAL_NUC_IDLE)
    self->starting = FALSE;
  frozen = self->starting;
  GST_OBJECT_UNLOCK (self);
  if (frozen)
    return GST_BASE_TRANSFORM_FLOW_DROPPED;

  if (meta) {
    GstThermalMeta *out = gst_buffer_ensure_thermal_meta (out_frame->buffer);
    /* during a correction downstream sees the scene frozen, not the
     * shutter; a shutter closed for another reason (burning prevention)
     * is what the frame shows */
    out->shutter_closed = shows_shutter;
  }
  return GST_FLOW_OK;
}

static gboolean
gst_thermal_nuc_start (GstBaseTransform * trans)
{
  GstThermalNuc *self = GST_THERMAL_NUC (trans);

  GST_OBJECT_LOCK (self);
  self->state = GST_THERMAL_NUC_IDLE;
  self->last_ffc_time = GST_CLOCK_TIME_NONE;
  self->last_ffc_fpa = NAN;
  self->ffc_count = 0;
  self->first_frame = TRUE;
  self->starting = FALSE;
  self->tables_dirty = TRUE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_thermal_nuc_stop (GstBaseTransform * trans)
{
  GstThermalNuc *self = GST_THERMAL_NUC (trans);

  GST_OBJECT_LOCK (self);
  gst_thermal_nuc_free_tables (self);
  self->width = self->height = 0;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static void
gst_thermal_nuc_request_ffc (GstThermalNuc * self)
{
  GST_OBJECT_LOCK (self);
  self->ffc_requested = TRUE;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_nuc_request_background (GstThermalNuc * self)
{
  GST_OBJECT_LOCK (self);
  self->bg_requested = TRUE;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_nuc_clear_detected (GstThermalNuc * self)
{
  GST_OBJECT_LOCK (self);
  if (self->detected_bad)
    memset (self->detected_bad, 0, (gsize) self->width * self->height);
  self->detected_count = 0;
  self->map_dirty = TRUE;
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_thermal_nuc_save_tables (GstThermalNuc * self, const gchar * path)
{
  gchar err[512];
  gboolean ok = FALSE;

  GST_OBJECT_LOCK (self);
  if (self->gain && path)
    ok = tc_nuc_file_write (path, self->width, self->height, self->gain,
        self->offset, err, sizeof (err));
  else
    g_strlcpy (err, "no tables yet (not negotiated) or no path", sizeof (err));
  GST_OBJECT_UNLOCK (self);
  if (!ok)
    GST_WARNING_OBJECT (self, "save-tables: %s", err);
  return ok;
}

static void
gst_thermal_nuc_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstThermalNuc *self = GST_THERMAL_NUC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_TABLES:
      self->tables = g_value_get_enum (value);
      self->tables_dirty = TRUE;
      self->tables_gen++;
      break;
    case PROP_TABLE_FILE:
      g_free (self->table_file);
      self->table_file = g_value_dup_string (value);
      self->tables_dirty = TRUE;
      self->tables_gen++;
      break;
    case PROP_FFC_INTERVAL:
      self->ffc_interval = g_value_get_uint (value);
      break;
    case PROP_FFC_DRIFT:
      self->ffc_drift = g_value_get_double (value);
      break;
    case PROP_FFC_FRAMES:
      self->ffc_frames = g_value_get_uint (value);
      break;
    case PROP_FFC_ON_START:
      self->ffc_on_start = g_value_get_boolean (value);
      break;
    case PROP_DPC:
      self->dpc = g_value_get_boolean (value);
      break;
    case PROP_AUTO_DPC:
      self->auto_dpc = g_value_get_boolean (value);
      break;
    case PROP_DPC_THRESHOLD:
      self->dpc_threshold = g_value_get_double (value);
      break;
    case PROP_DEFECTIVE_PIXELS:{
      const gchar *str = g_value_get_string (value);
      GArray *pts = parse_pixel_list (str);

      if (!pts) {
        GST_WARNING_OBJECT (self, "defective-pixels \"%s\" is not a list of "
            "x,y pairs separated by ';': kept \"%s\"", str,
            GST_STR_NULL (self->manual_pixels));
        break;
      }
      g_array_free (pts, TRUE);
      g_free (self->manual_pixels);
      self->manual_pixels = g_strdup (str);
      self->map_dirty = TRUE;
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_nuc_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstThermalNuc *self = GST_THERMAL_NUC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_TABLES:
      g_value_set_enum (value, self->tables);
      break;
    case PROP_TABLE_FILE:
      g_value_set_string (value, self->table_file);
      break;
    case PROP_FFC_INTERVAL:
      g_value_set_uint (value, self->ffc_interval);
      break;
    case PROP_FFC_DRIFT:
      g_value_set_double (value, self->ffc_drift);
      break;
    case PROP_FFC_FRAMES:
      g_value_set_uint (value, self->ffc_frames);
      break;
    case PROP_FFC_ON_START:
      g_value_set_boolean (value, self->ffc_on_start);
      break;
    case PROP_DPC:
      g_value_set_boolean (value, self->dpc);
      break;
    case PROP_AUTO_DPC:
      g_value_set_boolean (value, self->auto_dpc);
      break;
    case PROP_DPC_THRESHOLD:
      g_value_set_double (value, self->dpc_threshold);
      break;
    case PROP_DEFECTIVE_PIXELS:
      g_value_set_string (value, self->manual_pixels);
      break;
    case PROP_DEFECTIVE_COUNT:
      g_value_set_uint (value, (guint) self->map.n);
      break;
    case PROP_DETECTED_COUNT:
      g_value_set_uint (value, self->detected_count);
      break;
    case PROP_FFC_COUNT:
      g_value_set_uint (value, self->ffc_count);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_nuc_finalize (GObject * object)
{
  GstThermalNuc *self = GST_THERMAL_NUC (object);

  gst_thermal_nuc_free_tables (self);
  g_free (self->table_file);
  g_free (self->manual_pixels);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_thermal_nuc_class_init (GstThermalNucClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (gst_thermal_nuc_debug, "thermalnuc", 0,
      "Thermal non-uniformity correction");

  gobject_class->set_property = gst_thermal_nuc_set_property;
  gobject_class->get_property = gst_thermal_nuc_get_property;
  gobject_class->finalize = gst_thermal_nuc_finalize;

  g_object_class_install_property (gobject_class, PROP_TABLES,
      g_param_spec_enum ("tables", "Tables", "Where the gain/offset tables "
          "come from", GST_TYPE_THERMAL_NUC_TABLES, DEFAULT_PROP_TABLES, rw));
  g_object_class_install_property (gobject_class, PROP_TABLE_FILE,
      g_param_spec_string ("table-file", "Table file",
          "NUC table file (TCNUC1 format, see save-tables) for tables=file",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_FFC_INTERVAL,
      g_param_spec_uint ("ffc-interval", "FFC interval",
          "Seconds between automatic flat-field corrections (0 = off)", 0,
          86400, DEFAULT_PROP_FFC_INTERVAL, rw));
  g_object_class_install_property (gobject_class, PROP_FFC_DRIFT,
      g_param_spec_double ("ffc-drift", "FFC drift",
          "Sensor temperature change in kelvin since the last correction that "
          "triggers one (0 = off)", 0.0, 50.0, DEFAULT_PROP_FFC_DRIFT, rw));
  g_object_class_install_property (gobject_class, PROP_FFC_FRAMES,
      g_param_spec_uint ("ffc-frames", "FFC frames",
          "Uniform frames averaged by a correction", 1, 64,
          DEFAULT_PROP_FFC_FRAMES, rw));
  g_object_class_install_property (gobject_class, PROP_FFC_ON_START,
      g_param_spec_boolean ("ffc-on-start", "FFC on start",
          "Do a flat-field correction on the first frame", DEFAULT_PROP_FFC_ON_START,
          rw));
  g_object_class_install_property (gobject_class, PROP_DPC,
      g_param_spec_boolean ("dpc", "DPC", "Correct defective pixels",
          DEFAULT_PROP_DPC, rw));
  g_object_class_install_property (gobject_class, PROP_AUTO_DPC,
      g_param_spec_boolean ("auto-dpc", "Automatic DPC",
          "Find defective pixels at each shutter correction", DEFAULT_PROP_AUTO_DPC,
          rw));
  g_object_class_install_property (gobject_class, PROP_DPC_THRESHOLD,
      g_param_spec_double ("dpc-threshold", "DPC threshold",
          "Counts a shutter pixel may stand from its neighbours' median before "
          "it is taken as defective", 10.0, 65535.0, DEFAULT_PROP_DPC_THRESHOLD,
          rw));
  g_object_class_install_property (gobject_class, PROP_DEFECTIVE_PIXELS,
      g_param_spec_string ("defective-pixels", "Defective pixels",
          "Manual list of defective pixels: \"x,y;x,y;...\"", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_DEFECTIVE_COUNT,
      g_param_spec_uint ("defective-count", "Defective count",
          "Pixels being corrected (factory, found and manual)", 0, G_MAXUINT, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_DETECTED_COUNT,
      g_param_spec_uint ("detected-count", "Detected count",
          "Defective pixels found at shutter corrections, beyond the factory list",
          0, G_MAXUINT, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_FFC_COUNT,
      g_param_spec_uint ("ffc-count", "FFC count",
          "Flat-field corrections done since start (a number of corrections)", 0, G_MAXUINT, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstThermalNuc::ffc:
   *
   * Starts a flat-field correction with the shutter (manual correction).
   */
  gst_thermal_nuc_signals[SIGNAL_FFC] = g_signal_new_class_handler ("ffc",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_thermal_nuc_request_ffc), NULL, NULL, NULL, G_TYPE_NONE,
      0);
  /**
   * GstThermalNuc::background-correction:
   *
   * Makes the next frames (a uniform object in front of the lens) uniform.
   */
  gst_thermal_nuc_signals[SIGNAL_BACKGROUND_CORRECTION] =
      g_signal_new_class_handler ("background-correction",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_thermal_nuc_request_background), NULL, NULL, NULL,
      G_TYPE_NONE, 0);
  /**
   * GstThermalNuc::clear-detected:
   *
   * Forgets the defective pixels found automatically.
   */
  gst_thermal_nuc_signals[SIGNAL_CLEAR_DETECTED] =
      g_signal_new_class_handler ("clear-detected", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_thermal_nuc_clear_detected), NULL, NULL, NULL,
      G_TYPE_NONE, 0);
  /**
   * GstThermalNuc::save-tables:
   * @path: file to write
   *
   * Writes the current gain/offset tables (for tables=file later).
   * Returns: whether the file was written.
   */
  gst_thermal_nuc_signals[SIGNAL_SAVE_TABLES] =
      g_signal_new_class_handler ("save-tables", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_thermal_nuc_save_tables), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 1, G_TYPE_STRING);

  gst_element_class_set_static_metadata (element_class,
      "Thermal NUC", "Filter/Effect/Video",
      "Non-uniformity correction, flat-field correction and defective pixel "
      "correction of raw thermal sensor counts", "thermocam developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_thermal_nuc_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_thermal_nuc_stop);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_thermal_nuc_set_info);
  filter_class->transform_frame =
      GST_DEBUG_FUNCPTR (gst_thermal_nuc_transform_frame);

  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_NUC_TABLES, 0);
}

static void
gst_thermal_nuc_init (GstThermalNuc * self)
{
  self->tables = DEFAULT_PROP_TABLES;
  self->ffc_interval = DEFAULT_PROP_FFC_INTERVAL;
  self->ffc_drift = DEFAULT_PROP_FFC_DRIFT;
  self->ffc_frames = DEFAULT_PROP_FFC_FRAMES;
  self->ffc_on_start = DEFAULT_PROP_FFC_ON_START;
  self->dpc = DEFAULT_PROP_DPC;
  self->auto_dpc = DEFAULT_PROP_AUTO_DPC;
  self->dpc_threshold = DEFAULT_PROP_DPC_THRESHOLD;
  self->last_ffc_time = GST_CLOCK_TIME_NONE;
  self->last_ffc_fpa = NAN;
  tc_dpc_map_init (&self->map);
  /* corrections must not depend on how fast a display downstream is */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}
