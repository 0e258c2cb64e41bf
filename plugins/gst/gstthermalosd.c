/* thermocam: thermalosd, rules, readings, ruler and text over the video
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-thermalosd
 * @title: thermalosd
 *
 * Draws the on-screen display of a thermal camera over its coloured video:
 *
 * - the measurement rules of the frame's #GstThermalMeasureMeta (attached by
 *   thermalmeasure): a point as a cross, a line, a polygon, each in the colour
 *   of its alarm state (`normal-color`, `pre-alarm-color`, `alarm-color`,
 *   0xAARRGGBB), and their readings in the chosen `unit` (a reading outside
 *   the measurement range the #GstThermalMeasureMeta carries is shown as the
 *   range's end after "<" or ">"), either next to each
 *   rule or as one line per rule in a block at the top left (`info-position`).
 *   Points show their value; lines and polygons show max, min and average, or
 *   only their maximum when `show-max-min-avg` is off. `show-rule-names` puts
 *   the rule's name before its readings (without names, the top-left block
 *   names a rule P/L/A and its id). Readings are refreshed at most every
 *   `readings-interval` milliseconds of stream time (at once on an alarm state
 *   change), so that noise does not redraw the text on every frame;
 * - the scene's maximum and minimum (`show-scene`): a red cross at the hottest
 *   and a blue cross at the coldest place, and their temperatures next to them
 *   or in the top-left block;
 * - the colour-temperature ruler (`show-ruler`): a bar of the palette of the
 *   frame's #GstThermalPaletteMeta (attached by thermalpalette) at the right
 *   edge, W/40 pixels wide (6 to 32), from 20 % to 80 % of the height, palette
 *   index 255 at the top, with the temperatures of its ends (and three ticks
 *   between when the palette mapping is linear). A frame without that meta has
 *   no ruler;
 * - camera name, date and time (wall clock when the frame is drawn, in
 *   `timezone`, with `date-format`, `time-format` and optionally the week day)
 *   and free text lines (`text-lines`, lines separated by newlines or by the
 *   two characters `\n`, which gst-launch-1.0 wants written `\\n`), in a
 *   block at one corner (`osd-position`, `alignment`), in `font-size` pixels
 *   and `font-color`. Any language works: text is UTF-8 laid out by Pango;
 * - a picture (`picture-file`): a 24-bit uncompressed BMP of at most 128x128
 *   pixels whose top left corner goes at `picture-x`, `picture-y` (kept inside
 *   the frame). Any other file is refused with a warning message naming the
 *   reason, and the previous picture stays.
 *
 * Everything is a #GstVideoOverlayComposition: when downstream negotiates the
 * `meta:GstVideoOverlayComposition` caps feature and announces the meta in the
 * allocation query, the composition is attached to the buffers; otherwise it
 * is blended into the frames. Each piece (a rule's shape, a label, a line of
 * text, the ruler) is drawn only when what it shows changes and otherwise
 * reused, as is the composition itself when nothing changed. Blending touches
 * only the pixels the pieces cover (runs of them found once per drawing) in
 * frames of 8-bit components, the same result as
 * gst_video_overlay_composition_blend() but for chroma subsampling, where
 * a chroma sample gets the mean of its pixels; other formats go through
 * gst_video_blend(). The read-only `renders` property counts the pieces
 * drawn, for diagnostics.
 *
 * Every property can change while playing and applies from the next frame.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 thermalsrc ! thermalnuc ! thermalradiometry ! thermalmeasure rules='[{"id": 1, "name": "bearing", "type": "polygon", "points": [[0.4, 0.3], [0.6, 0.3], [0.6, 0.5], [0.4, 0.5]]}]' ! thermalpalette palette=ironbow ! thermalosd show-ruler=true camera-name="Line 3" text-lines='Hall B\\nConveyor 2' ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstthermalosd.h"
#include "gstthermalmeta.h"
#include "gstthermalwarn.h"
#include "tc-palette.h"
#include "tc-blend.h"

#include <glib/gstdio.h>
#include <pango/pangocairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_thermal_osd_debug);
#define GST_CAT_DEFAULT gst_thermal_osd_debug

#define DEFAULT_PROP_SHOW_RULES TRUE
#define DEFAULT_PROP_SHOW_RULE_NAMES TRUE
#define DEFAULT_PROP_SHOW_MAX_MIN_AVG TRUE
#define DEFAULT_PROP_INFO_POSITION GST_THERMAL_OSD_INFO_NEAR_TARGET
#define DEFAULT_PROP_UNIT GST_THERMAL_OSD_UNIT_CELSIUS
#define DEFAULT_PROP_SHOW_SCENE TRUE
#define DEFAULT_PROP_READINGS_INTERVAL 1000
#define DEFAULT_PROP_NORMAL_COLOR 0xff00ff00
#define DEFAULT_PROP_PRE_ALARM_COLOR 0xffffff00
#define DEFAULT_PROP_ALARM_COLOR 0xffff0000
#define DEFAULT_PROP_SHOW_RULER FALSE
#define DEFAULT_PROP_CAMERA_NAME NULL
#define DEFAULT_PROP_SHOW_DATE TRUE
#define DEFAULT_PROP_DATE_FORMAT GST_THERMAL_OSD_DATE_YYYY_MM_DD
#define DEFAULT_PROP_SHOW_WEEK FALSE
#define DEFAULT_PROP_TIME_FORMAT GST_THERMAL_OSD_TIME_24H
#define DEFAULT_PROP_TIMEZONE NULL
#define DEFAULT_PROP_TEXT_LINES NULL
#define DEFAULT_PROP_FONT_SIZE 16
#define DEFAULT_PROP_FONT_COLOR 0xffffffff
#define DEFAULT_PROP_OSD_POSITION GST_THERMAL_OSD_BOTTOM_LEFT
#define DEFAULT_PROP_ALIGNMENT GST_THERMAL_OSD_ALIGN_AUTO
#define DEFAULT_PROP_PICTURE_FILE NULL
#define DEFAULT_PROP_PICTURE_X 0
#define DEFAULT_PROP_PICTURE_Y 0

enum
{
  PROP_0,
  PROP_SHOW_RULES,
  PROP_SHOW_RULE_NAMES,
  PROP_SHOW_MAX_MIN_AVG,
  PROP_INFO_POSITION,
  PROP_UNIT,
  PROP_SHOW_SCENE,
  PROP_READINGS_INTERVAL,
  PROP_NORMAL_COLOR,
  PROP_PRE_ALARM_COLOR,
  PROP_ALARM_COLOR,
  PROP_SHOW_RULER,
  PROP_CAMERA_NAME,
  PROP_SHOW_DATE,
  PROP_DATE_FORMAT,
  PROP_SHOW_WEEK,
  PROP_TIME_FORMAT,
  PROP_TIMEZONE,
  PROP_CLOCK_OFFSET,
  PROP_TEXT_LINES,
  PROP_FONT_SIZE,
  PROP_FONT_COLOR,
  PROP_OSD_POSITION,
  PROP_ALIGNMENT,
  PROP_PICTURE_FILE,
  PROP_PICTURE_X,
  PROP_PICTURE_Y,
  PROP_RENDERS,
};

/* the scene's hottest and coldest places */
#define SCENE_MAX_COLOR 0xffff3030
#define SCENE_MIN_COLOR 0xff30a0ff
/* rule outlines */
#define LINE_WIDTH 2.0
#define MAX_TEXT_LINES 16
#define N_INFO_LINES (GST_THERMAL_MAX_RULES + 1)
#define N_OSD_LINES (MAX_TEXT_LINES + 2)
#define MAX_RECTS (1 + 2 * GST_THERMAL_MAX_RULES + 4 + N_INFO_LINES + 1 + \
    N_OSD_LINES)
/* a picture: 24-bit BMP, at most this many pixels a side */
#define BMP_MAX_SIDE 128
/* no such BMP is bigger than its 54 bytes of headers plus 128 rows of 388
 * bytes, but a V5 header, a colour table or a gap may come before the pixels */
#define BMP_MAX_FILE (64 * 1024)

#define OSD_FORMATS "{ I420, YV12, NV12, NV21, NV16, NV24, Y41B, Y42B, Y444, " \
    "v308, AYUV, YUY2, UYVY, YVYU, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, " \
    "ABGR, RGB, BGR, RGB16, BGR16, GRAY8 }"
#define OSD_CAPS \
    GST_VIDEO_CAPS_MAKE_WITH_FEATURES (GST_CAPS_FEATURE_MEMORY_SYSTEM_MEMORY \
        "," GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION, OSD_FORMATS) \
    ";" GST_VIDEO_CAPS_MAKE (OSD_FORMATS)

/* cairo's ARGB32 (native-endian, premultiplied) as a GstVideoFormat */
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
#define OSD_PIXEL_FORMAT GST_VIDEO_FORMAT_BGRA
#else
#define OSD_PIXEL_FORMAT GST_VIDEO_FORMAT_ARGB
#endif

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (OSD_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (OSD_CAPS));

/* What the properties say. The application's copy lives under the object
 * lock; the streaming thread works on its own copy, refreshed when the
 * cookie changes. */
typedef struct
{
  gboolean show_rules, show_rule_names, show_max_min_avg, show_scene;
  gboolean show_ruler, show_date, show_week;
  GstThermalOsdInfoPosition info_position;
  GstThermalOsdUnit unit;
  guint readings_interval;        /* ms */
  guint32 normal_color, pre_alarm_color, alarm_color, font_color;
  gint font_size;
  gchar *camera_name;
  gchar *text_lines;
  gchar *timezone;
  GTimeZone *tz;                  /* NULL: local time */
  gint64 clock_offset;            /* µs added to the real time for the date */
  GstThermalOsdDateFormat date_format;
  GstThermalOsdTimeFormat time_format;
  GstThermalOsdPosition osd_position;
  GstThermalOsdAlignment alignment;
  gchar *picture_file;
  GstBuffer *picture;             /* BGRA premultiplied with a GstVideoMeta */
  gint picture_w, picture_h;
  gint picture_x, picture_y;
  gchar **lines;                  /* text_lines split, streaming copy only */
} OsdSettings;

/* a run of pixels of a piece that are not transparent */
typedef TcBlendSpan OsdSpan;

/* One rectangle of the composition: its pixels and where they go. A new
 * rectangle is made only when the pixels or the place change. */
typedef struct
{
  GstBuffer *pixels;
  gint width, height;
  OsdSpan *spans;                 /* found when the pixels are drawn */
  guint n_spans, n_span_pixels;
  gboolean have_spans;
  /* the span pixels in YUV for the blender of that serial: premultiplied
   * Y, U - 128, V - 128 and alpha in bytes 0, 1, 2 and 3 */
  guint32 *yuv;
  guint yuv_serial;
  gint x, y;
  GstVideoOverlayRectangle *rect;
} OsdPiece;

/* How to blend pieces straight into frames of the negotiated format: any
 * format of 8-bit components (RGB or YUV, packed or planar, chroma
 * subsampled in any way); the per-pixel work is tc-blend's */
typedef TcBlender OsdBlender;

typedef struct
{
  OsdPiece piece;
  gchar *text;
  guint32 color;
  gint font_size;
} OsdText;

typedef struct
{
  OsdPiece piece;
  gboolean drawn;                 /* the key below is what the pixels show */
  GstThermalRuleType type;
  guint n_points;
  gdouble points[GST_THERMAL_MAX_POINTS][2];
  guint32 color;
  gint frame_w, frame_h, arm;
  gint ox, oy;                    /* where the pixels go */
} OsdShape;

typedef struct
{
  OsdPiece piece;
  gboolean drawn;
  gint palette;
  gdouble lo, hi;
  gboolean equalized;
  gdouble brightness, contrast;
  GstThermalOsdUnit unit;
  gint font_size;
  guint32 color;
  gint frame_w, frame_h;
  gint ox, oy;
} OsdRuler;

typedef struct
{
  gint id;
  GstThermalAlarmState state;
  gboolean valid;
  gdouble max, min, avg;
} OsdShownRule;

struct _GstThermalOsd
{
  GstVideoFilter parent;

  /* properties (object lock) */
  OsdSettings props;
  guint cookie;                   /* bumped on every property change */
  guint64 renders;

  /* streaming */
  OsdSettings cur;
  guint cur_cookie;
  gboolean have_cur;
  gint width, height;
  gboolean alloc_checked, attach;

  PangoFontMap *fontmap;
  PangoContext *context;
  PangoLayout *layout;
  PangoFontDescription *font_desc;
  gint layout_font_size;

  /* the readings on display, refreshed every readings-interval */
  gboolean have_shown;
  GstClockTime shown_time;
  gboolean shown_has_meta;
  guint n_shown;
  OsdShownRule shown[GST_THERMAL_MAX_RULES];
  gdouble shown_scene_max, shown_scene_min;
  gdouble shown_scene_max_at[2], shown_scene_min_at[2];
  GstThermalAlarmState shown_scene_state;
  gboolean shown_scene_valid;     /* FALSE: the shutter is closed, "--" */
  gdouble shown_range_min, shown_range_max;     /* the measurement range, C */

  /* the date on display */
  gint64 date_second;
  guint date_cookie;
  gchar date_text[160];

  /* the pieces */
  OsdPiece picture;
  OsdShape shapes[GST_THERMAL_MAX_RULES];
  OsdShape markers[2];
  OsdText labels[GST_THERMAL_MAX_RULES];
  OsdText scene_labels[2];
  OsdText info[N_INFO_LINES];
  OsdRuler ruler;
  OsdText osd[N_OSD_LINES];

  /* the composition and the rectangles it was made of */
  GstVideoOverlayComposition *comp;
  GstVideoOverlayRectangle *active[MAX_RECTS];
  guint n_active;
  GstVideoOverlayRectangle *next[MAX_RECTS];
  OsdPiece *next_pieces[MAX_RECTS];
  guint n_next;
  OsdPiece *active_pieces[MAX_RECTS];

  OsdBlender blender;
};

#define GST_TYPE_THERMAL_OSD_INFO_POSITION (gst_thermal_osd_info_position_get_type ())
static GType
gst_thermal_osd_info_position_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_THERMAL_OSD_INFO_NEAR_TARGET, "Beside each rule", "near-target"},
    {GST_THERMAL_OSD_INFO_TOP_LEFT, "In a block at the top left", "top-left"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstThermalOsdInfoPosition", values));
  return type;
}

#define GST_TYPE_THERMAL_OSD_UNIT (gst_thermal_osd_unit_get_type ())
static GType
gst_thermal_osd_unit_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_THERMAL_OSD_UNIT_CELSIUS, "Degrees Celsius", "celsius"},
    {GST_THERMAL_OSD_UNIT_FAHRENHEIT, "Degrees Fahrenheit", "fahrenheit"},
    {GST_THERMAL_OSD_UNIT_KELVIN, "Kelvin", "kelvin"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstThermalOsdUnit",
            values));
  return type;
}

#define GST_TYPE_THERMAL_OSD_DATE_FORMAT (gst_thermal_osd_date_format_get_type ())
static GType
gst_thermal_osd_date_format_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_THERMAL_OSD_DATE_YYYY_MM_DD, "YYYY-MM-DD", "yyyy-mm-dd"},
    {GST_THERMAL_OSD_DATE_MM_DD_YYYY, "MM-DD-YYYY", "mm-dd-yyyy"},
    {GST_THERMAL_OSD_DATE_DD_MM_YYYY, "DD-MM-YYYY", "dd-mm-yyyy"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstThermalOsdDateFormat", values));
  return type;
}

#define GST_TYPE_THERMAL_OSD_TIME_FORMAT (gst_thermal_osd_time_format_get_type ())
static GType
gst_thermal_osd_time_format_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_THERMAL_OSD_TIME_24H, "24 hours", "24h"},
    {GST_THERMAL_OSD_TIME_12H, "12 hours, AM/PM", "12h"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstThermalOsdTimeFormat", values));
  return type;
}

#define GST_TYPE_THERMAL_OSD_POSITION (gst_thermal_osd_position_get_type ())
static GType
gst_thermal_osd_position_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_THERMAL_OSD_TOP_LEFT, "Top left", "top-left"},
    {GST_THERMAL_OSD_TOP_RIGHT, "Top right", "top-right"},
    {GST_THERMAL_OSD_BOTTOM_LEFT, "Bottom left", "bottom-left"},
    {GST_THERMAL_OSD_BOTTOM_RIGHT, "Bottom right", "bottom-right"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstThermalOsdPosition", values));
  return type;
}

#define GST_TYPE_THERMAL_OSD_ALIGNMENT (gst_thermal_osd_alignment_get_type ())
static GType
gst_thermal_osd_alignment_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_THERMAL_OSD_ALIGN_AUTO, "Towards the block's corner", "auto"},
    {GST_THERMAL_OSD_ALIGN_LEFT, "Left", "left"},
    {GST_THERMAL_OSD_ALIGN_CENTER, "Centered", "center"},
    {GST_THERMAL_OSD_ALIGN_RIGHT, "Right", "right"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstThermalOsdAlignment", values));
  return type;
}

#define gst_thermal_osd_parent_class parent_class
G_DEFINE_TYPE (GstThermalOsd, gst_thermal_osd, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (thermalosd, "thermalosd", GST_RANK_NONE,
    GST_TYPE_THERMAL_OSD);

/* ------------------------------------------------------------------------ */
/* settings */

/* "a\nb" or "a\\nb" (as typed in gst-launch) into lines; empty lines stay
 * (as blank lines), a trailing one does not */
static gchar **
osd_split_lines (const gchar * text)
{
  GPtrArray *lines;
  gchar *valid, **parts;
  GString *s;
  const gchar *p;
  guint i;

  if (!text || !*text)
    return NULL;
  valid = g_utf8_make_valid (text, -1);
  s = g_string_new (NULL);
  for (p = valid; *p; p++) {
    if (p[0] == '\\' && p[1] == 'n') {
      g_string_append_c (s, '\n');
      p++;
    } else {
      g_string_append_c (s, *p);
    }
  }
  g_free (valid);
  parts = g_strsplit (s->str, "\n", -1);
  g_string_free (s, TRUE);

  lines = g_ptr_array_new ();
  for (i = 0; parts[i] && lines->len < MAX_TEXT_LINES; i++) {
    if (!parts[i + 1] && !*parts[i])
      break;
    g_ptr_array_add (lines, g_strdup (parts[i]));
  }
  g_strfreev (parts);
  g_ptr_array_add (lines, NULL);
  return (gchar **) g_ptr_array_free (lines, FALSE);
}

static void
osd_settings_clear (OsdSettings * s)
{
  g_clear_pointer (&s->camera_name, g_free);
  g_clear_pointer (&s->text_lines, g_free);
  g_clear_pointer (&s->timezone, g_free);
  g_clear_pointer (&s->tz, g_time_zone_unref);
  g_clear_pointer (&s->picture_file, g_free);
  gst_clear_buffer (&s->picture);
  g_clear_pointer (&s->lines, g_strfreev);
}

static void
osd_settings_copy (OsdSettings * dst, const OsdSettings * src)
{
  osd_settings_clear (dst);
  *dst = *src;
  dst->camera_name = src->camera_name ?
      g_utf8_make_valid (src->camera_name, -1) : NULL;
  dst->text_lines = g_strdup (src->text_lines);
  dst->timezone = g_strdup (src->timezone);
  dst->tz = src->tz ? g_time_zone_ref (src->tz) : NULL;
  dst->picture_file = g_strdup (src->picture_file);
  dst->picture = src->picture ? gst_buffer_ref (src->picture) : NULL;
  dst->lines = osd_split_lines (src->text_lines);
}

/* ------------------------------------------------------------------------ */
/* pieces */

static void
osd_count_render (GstThermalOsd * self)
{
  GST_OBJECT_LOCK (self);
  self->renders++;
  GST_OBJECT_UNLOCK (self);
}

/* The pixels of a cairo surface as a buffer a rectangle can hold (the
 * buffer owns the surface). */
static GstBuffer *
osd_surface_to_buffer (cairo_surface_t * surface)
{
  gint w = cairo_image_surface_get_width (surface);
  gint h = cairo_image_surface_get_height (surface);
  gint stride = cairo_image_surface_get_stride (surface);
  gsize size = (gsize) stride * h;
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0, };
  gint strides[GST_VIDEO_MAX_PLANES] = { stride, };
  GstBuffer *buf;

  cairo_surface_flush (surface);
  buf = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY,
      cairo_image_surface_get_data (surface), size, 0, size, surface,
      (GDestroyNotify) cairo_surface_destroy);
  gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
      OSD_PIXEL_FORMAT, w, h, 1, offset, strides);
  return buf;
}

static void
osd_piece_clear (OsdPiece * p)
{
  gst_clear_buffer (&p->pixels);
  g_clear_pointer (&p->rect, gst_video_overlay_rectangle_unref);
  g_clear_pointer (&p->spans, g_free);
  g_clear_pointer (&p->yuv, g_free);
  p->n_spans = p->n_span_pixels = 0;
  p->yuv_serial = 0;
  p->have_spans = FALSE;
  p->width = p->height = 0;
}

/* Finds the runs of pixels that are not transparent, once per drawing, so
 * that blending touches only those. */
static void
osd_piece_find_spans (OsdPiece * p)
{
  GstVideoMeta *vmeta = gst_buffer_get_video_meta (p->pixels);
  GstMapInfo map;
  size_t n_spans = 0, n_pixels = 0;
  TcBlendSpan *spans = NULL;

  if (!vmeta || !gst_buffer_map (p->pixels, &map, GST_MAP_READ))
    return;
  if (tc_blend_find_spans (map.data + vmeta->offset[0], vmeta->stride[0],
          p->width, p->height, &spans, &n_spans, &n_pixels)) {
    p->spans = spans;
    p->n_spans = n_spans;
    p->n_span_pixels = n_pixels;
    p->have_spans = TRUE;
  }
  gst_buffer_unmap (p->pixels, &map);
}

/* takes @surface (NULL: nothing to show) */
static void
osd_piece_set_surface (OsdPiece * p, cairo_surface_t * surface)
{
  osd_piece_clear (p);
  if (!surface)
    return;
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS) {
    GST_WARNING ("cannot draw: %s",
        cairo_status_to_string (cairo_surface_status (surface)));
    cairo_surface_destroy (surface);
    return;
  }
  p->width = cairo_image_surface_get_width (surface);
  p->height = cairo_image_surface_get_height (surface);
  p->pixels = osd_surface_to_buffer (surface);
  osd_piece_find_spans (p);
}

/* The piece's rectangle at @x, @y (kept inside the frame, unless @clip: then
 * it may stand over the edge and is clipped), made anew only when it moved;
 * added to the next composition. */
static void
osd_piece_show_full (GstThermalOsd * self, OsdPiece * p, gint x, gint y,
    gboolean clip)
{
  if (!p->pixels || self->n_next >= MAX_RECTS)
    return;
  if (!clip) {
    x = CLAMP (x, 0, MAX (0, self->width - p->width));
    y = CLAMP (y, 0, MAX (0, self->height - p->height));
  }
  if (!p->rect || p->x != x || p->y != y) {
    g_clear_pointer (&p->rect, gst_video_overlay_rectangle_unref);
    p->rect = gst_video_overlay_rectangle_new_raw (p->pixels, x, y,
        p->width, p->height, GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
    p->x = x;
    p->y = y;
  }
  self->next_pieces[self->n_next] = p;
  self->next[self->n_next++] = p->rect;
}

static void
osd_piece_show (GstThermalOsd * self, OsdPiece * p, gint x, gint y)
{
  osd_piece_show_full (self, p, x, y, FALSE);
}

static void
osd_text_clear (OsdText * t)
{
  osd_piece_clear (&t->piece);
  g_clear_pointer (&t->text, g_free);
}

static void
osd_clear_pieces (GstThermalOsd * self)
{
  guint i;

  osd_piece_clear (&self->picture);
  for (i = 0; i < G_N_ELEMENTS (self->shapes); i++) {
    osd_piece_clear (&self->shapes[i].piece);
    self->shapes[i].drawn = FALSE;
  }
  for (i = 0; i < G_N_ELEMENTS (self->markers); i++) {
    osd_piece_clear (&self->markers[i].piece);
    self->markers[i].drawn = FALSE;
  }
  for (i = 0; i < G_N_ELEMENTS (self->labels); i++)
    osd_text_clear (&self->labels[i]);
  for (i = 0; i < G_N_ELEMENTS (self->scene_labels); i++)
    osd_text_clear (&self->scene_labels[i]);
  for (i = 0; i < G_N_ELEMENTS (self->info); i++)
    osd_text_clear (&self->info[i]);
  for (i = 0; i < G_N_ELEMENTS (self->osd); i++)
    osd_text_clear (&self->osd[i]);
  osd_piece_clear (&self->ruler.piece);
  self->ruler.drawn = FALSE;
  g_clear_pointer (&self->comp, gst_video_overlay_composition_unref);
  self->n_active = 0;
  self->n_next = 0;
}

/* ------------------------------------------------------------------------ */
/* drawing */

static void
osd_set_source (cairo_t * cr, guint32 argb)
{
  cairo_set_source_rgba (cr, ((argb >> 16) & 0xff) / 255.0,
      ((argb >> 8) & 0xff) / 255.0, (argb & 0xff) / 255.0,
      ((argb >> 24) & 0xff) / 255.0);
}

static void
osd_set_shadow (cairo_t * cr, guint32 argb)
{
  cairo_set_source_rgba (cr, 0, 0, 0, 0.6 * ((argb >> 24) & 0xff) / 255.0);
}

static gint
osd_outline (gint font_size)
{
  return MAX (1, font_size / 12);
}

static gint
osd_margin (gint font_size)
{
  return MAX (2, font_size / 4);
}

static gboolean
osd_ensure_pango (GstThermalOsd * self)
{
  cairo_font_options_t *opts;

  if (self->layout)
    return TRUE;
  self->fontmap = pango_cairo_font_map_new ();
  if (!self->fontmap)
    return FALSE;
  self->context = pango_font_map_create_context (self->fontmap);
  opts = cairo_font_options_create ();
  cairo_font_options_set_antialias (opts, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_metrics (opts, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (opts, CAIRO_HINT_STYLE_SLIGHT);
  pango_cairo_context_set_font_options (self->context, opts);
  cairo_font_options_destroy (opts);
  self->layout = pango_layout_new (self->context);
  self->font_desc = pango_font_description_from_string ("Sans Bold");
  self->layout_font_size = 0;
  return TRUE;
}

static void
osd_free_pango (GstThermalOsd * self)
{
  g_clear_object (&self->layout);
  g_clear_object (&self->context);
  g_clear_object (&self->fontmap);
  g_clear_pointer (&self->font_desc, pango_font_description_free);
}

/* Sets the layout to @text and gives the box that holds its ink and its
 * logical extents, in pixels relative to the layout's origin. */
static void
osd_layout_text (GstThermalOsd * self, const gchar * text, gint font_size,
    PangoRectangle * box)
{
  PangoRectangle ink, logical;
  gint x0, y0, x1, y1;

  if (font_size != self->layout_font_size) {
    pango_font_description_set_absolute_size (self->font_desc,
        (gdouble) font_size * PANGO_SCALE);
    pango_layout_set_font_description (self->layout, self->font_desc);
    self->layout_font_size = font_size;
  }
  pango_layout_set_text (self->layout, text, -1);
  pango_layout_get_pixel_extents (self->layout, &ink, &logical);
  x0 = MIN (ink.x, logical.x);
  y0 = MIN (ink.y, logical.y);
  x1 = MAX (ink.x + ink.width, logical.x + logical.width);
  y1 = MAX (ink.y + ink.height, logical.y + logical.height);
  box->x = x0;
  box->y = y0;
  box->width = MAX (1, x1 - x0);
  box->height = MAX (1, y1 - y0);
}

/* Draws the current layout (whose box is @box) with its top left corner at
 * @x, @y: a dark outline (the glyphs shifted around, cheaper than stroking
 * their paths), then the colour. */
static void
osd_draw_layout (GstThermalOsd * self, cairo_t * cr, const PangoRectangle * box,
    gdouble x, gdouble y, guint32 color, gint outline)
{
  static const gint around[8][2] = {
    {-1, -1}, {0, -1}, {1, -1}, {-1, 0}, {1, 0}, {-1, 1}, {0, 1}, {1, 1}
  };
  guint i;

  cairo_save (cr);
  osd_set_shadow (cr, color);
  for (i = 0; i < G_N_ELEMENTS (around); i++) {
    cairo_move_to (cr, x - box->x + around[i][0] * outline,
        y - box->y + around[i][1] * outline);
    pango_cairo_show_layout (cr, self->layout);
  }
  osd_set_source (cr, color);
  cairo_move_to (cr, x - box->x, y - box->y);
  pango_cairo_show_layout (cr, self->layout);
  cairo_restore (cr);
}

static cairo_surface_t *
osd_render_text (GstThermalOsd * self, const gchar * text, guint32 color,
    gint font_size)
{
  PangoRectangle box;
  gint outline = osd_outline (font_size);
  cairo_surface_t *surface;
  cairo_t *cr;

  osd_layout_text (self, text, font_size, &box);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32,
      box.width + 2 * outline, box.height + 2 * outline);
  cr = cairo_create (surface);
  osd_draw_layout (self, cr, &box, outline, outline, color, outline);
  cairo_destroy (cr);
  return surface;
}

/* Makes @t show @text (nothing if empty); draws only on a change. */
static void
osd_text_update (GstThermalOsd * self, OsdText * t, const gchar * text,
    guint32 color)
{
  gint size = self->cur.font_size;

  if (!text || !*text) {
    osd_text_clear (t);
    return;
  }
  if (t->text && t->piece.pixels && t->color == color && t->font_size == size
      && strcmp (t->text, text) == 0)
    return;
  g_free (t->text);
  t->text = g_strdup (text);
  t->color = color;
  t->font_size = size;
  osd_piece_set_surface (&t->piece, osd_render_text (self, text, color, size));
  osd_count_render (self);
}

static void
osd_rule_pixels (const GstThermalRuleResult * r, guint i, gint w, gint h,
    gdouble * x, gdouble * y)
{
  *x = CLAMP (r->points[i][0], 0.0, 1.0) * w;
  *y = CLAMP (r->points[i][1], 0.0, 1.0) * h;
  /* a point: the centre of the pixel thermalmeasure reads, floor (x * w) (a
   * polygon's edges are where its pixel centres stop: x * w itself) */
  if (r->type == GST_THERMAL_RULE_POINT) {
    *x = MIN (floor (*x), w - 1) + 0.5;
    *y = MIN (floor (*y), h - 1) + 0.5;
  }
}

static guint
osd_rule_n_points (const GstThermalRuleResult * r)
{
  return MIN (r->n_points, GST_THERMAL_MAX_POINTS);
}

/* a point is drawn as a cross; so is a line or polygon of one point */
static gboolean
osd_rule_is_cross (const GstThermalRuleResult * r)
{
  return r->type == GST_THERMAL_RULE_POINT || osd_rule_n_points (r) == 1;
}

/* The geometry's box in pixels (without line width or cross arms). */
static gboolean
osd_rule_box (const GstThermalRuleResult * r, gint w, gint h, gdouble * x0,
    gdouble * y0, gdouble * x1, gdouble * y1)
{
  guint i, n = osd_rule_n_points (r);

  if (n == 0)
    return FALSE;
  if (r->type == GST_THERMAL_RULE_POINT)
    n = 1;
  *x0 = *y0 = G_MAXDOUBLE;
  *x1 = *y1 = -G_MAXDOUBLE;
  for (i = 0; i < n; i++) {
    gdouble x, y;

    osd_rule_pixels (r, i, w, h, &x, &y);
    *x0 = MIN (*x0, x);
    *y0 = MIN (*y0, y);
    *x1 = MAX (*x1, x);
    *y1 = MAX (*y1, y);
  }
  return TRUE;
}

static gint
osd_cross_arm (gint font_size)
{
  return MAX (6, font_size / 2);
}

/* Draws a rule's geometry in its box (clipped to the frame). */
static cairo_surface_t *
osd_render_shape (const GstThermalRuleResult * r, guint32 color, gint w,
    gint h, gint arm, gint * ox, gint * oy)
{
  gdouble bx0, by0, bx1, by1;
  gint margin, x0, y0, x1, y1;
  guint i, n = osd_rule_n_points (r);
  cairo_surface_t *surface;
  cairo_t *cr;

  if (!osd_rule_box (r, w, h, &bx0, &by0, &bx1, &by1))
    return NULL;
  margin = (gint) ceil (LINE_WIDTH + 2) + (osd_rule_is_cross (r) ? arm : 0);
  x0 = MAX (0, (gint) floor (bx0) - margin);
  y0 = MAX (0, (gint) floor (by0) - margin);
  x1 = MIN (w, (gint) ceil (bx1) + margin);
  y1 = MIN (h, (gint) ceil (by1) + margin);
  if (x1 <= x0 || y1 <= y0)
    return NULL;

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, x1 - x0, y1 - y0);
  cr = cairo_create (surface);
  cairo_translate (cr, -x0, -y0);
  if (osd_rule_is_cross (r)) {
    gdouble x, y;

    osd_rule_pixels (r, 0, w, h, &x, &y);
    cairo_move_to (cr, x - arm, y);
    cairo_line_to (cr, x + arm, y);
    cairo_move_to (cr, x, y - arm);
    cairo_line_to (cr, x, y + arm);
    cairo_set_line_cap (cr, CAIRO_LINE_CAP_SQUARE);
  } else {
    for (i = 0; i < n; i++) {
      gdouble x, y;

      osd_rule_pixels (r, i, w, h, &x, &y);
      if (i == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
    if (r->type == GST_THERMAL_RULE_POLYGON && n > 2)
      cairo_close_path (cr);
    cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  }
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  /* a cross is centred on a pixel centre: an odd width keeps it sharp */
  cairo_set_line_width (cr, LINE_WIDTH + 2 + (osd_rule_is_cross (r) ? 1 : 0));
  osd_set_shadow (cr, color);
  cairo_stroke_preserve (cr);
  cairo_set_line_width (cr, LINE_WIDTH + (osd_rule_is_cross (r) ? 1 : 0));
  osd_set_source (cr, color);
  cairo_stroke (cr);
  cairo_destroy (cr);
  *ox = x0;
  *oy = y0;
  return surface;
}

/* Makes @s show @r's geometry in @color; draws only on a change. */
static void
osd_shape_update (GstThermalOsd * self, OsdShape * s,
    const GstThermalRuleResult * r, guint32 color)
{
  guint n = osd_rule_n_points (r);
  gint arm = osd_cross_arm (self->cur.font_size);

  if (s->drawn && s->type == r->type && s->n_points == n &&
      s->color == color && s->frame_w == self->width &&
      s->frame_h == self->height && s->arm == arm &&
      memcmp (s->points, r->points, n * sizeof (r->points[0])) == 0)
    return;
  s->drawn = TRUE;
  s->type = r->type;
  s->n_points = n;
  memcpy (s->points, r->points, n * sizeof (r->points[0]));
  s->color = color;
  s->frame_w = self->width;
  s->frame_h = self->height;
  s->arm = arm;
  osd_piece_set_surface (&s->piece, osd_render_shape (r, color, self->width,
          self->height, arm, &s->ox, &s->oy));
  osd_count_render (self);
}

/* a cross for the scene's max or min, centred in its pixels */
static void
osd_marker_update (GstThermalOsd * self, OsdShape * s, guint32 color)
{
  gint arm = MAX (4, osd_cross_arm (self->cur.font_size) - 2);
  GstThermalRuleResult r;
  gint size = 2 * (arm + (gint) ceil (LINE_WIDTH + 2));

  if (s->drawn && s->color == color && s->arm == arm)
    return;
  memset (&r, 0, sizeof (r));
  r.type = GST_THERMAL_RULE_POINT;
  r.n_points = 1;
  r.points[0][0] = r.points[0][1] = 0.5;
  s->drawn = TRUE;
  s->color = color;
  s->arm = arm;
  osd_piece_set_surface (&s->piece, osd_render_shape (&r, color, size, size,
          arm, &s->ox, &s->oy));
  osd_count_render (self);
}

static void
osd_format_temp (gchar * buf, gsize len, gdouble c, GstThermalOsdUnit unit)
{
  static const gchar *suffix[] = { "\302\260C", "\302\260F", "K" };
  gdouble v;

  if (!isfinite (c)) {
    g_strlcpy (buf, "--", len);
    return;
  }
  switch (unit) {
    case GST_THERMAL_OSD_UNIT_FAHRENHEIT:
      v = c * 9.0 / 5.0 + 32.0;
      break;
    case GST_THERMAL_OSD_UNIT_KELVIN:
      v = c + 273.15;
      break;
    default:
      unit = GST_THERMAL_OSD_UNIT_CELSIUS;
      v = c;
      break;
  }
  v = round (v * 10.0) / 10.0;
  if (v == 0.0)
    v = 0.0;                    /* no "-0.0" */
  g_snprintf (buf, len, "%.1f%s", v, suffix[unit]);
}

/* A reading: outside the measurement range it is flagged, shown as the
 * range's end with "<" or ">" (the number beyond is not one the range's
 * accuracy holds for) */
static void
osd_format_reading (GstThermalOsd * self, gchar * buf, gsize len, gdouble c,
    GstThermalOsdUnit unit)
{
  if (isfinite (c) && c > self->shown_range_max) {
    buf[0] = '>';
    osd_format_temp (buf + 1, len - 1, self->shown_range_max, unit);
  } else if (isfinite (c) && c < self->shown_range_min) {
    buf[0] = '<';
    osd_format_temp (buf + 1, len - 1, self->shown_range_min, unit);
  } else {
    osd_format_temp (buf, len, c, unit);
  }
}

/* The ruler: the palette bar with its temperatures on its left. */
static cairo_surface_t *
osd_render_ruler (GstThermalOsd * self, gint palette, gdouble lo, gdouble hi,
    gboolean equalized, gdouble brightness, gdouble contrast, gint * ox,
    gint * oy)
{
  const guint8 *rgb = tc_palette_rgb (palette);
  gint w = self->width, h = self->height;
  gint font_size = self->cur.font_size;
  gint outline = osd_outline (font_size);
  gint bar_w = CLAMP (w / 40, 6, 32), margin = MAX (2, w / 80);
  gint y0 = h / 5, y1 = h - h / 5, bar_x = w - margin - bar_w;
  gint tick = 4, gap = 2, n_ticks = equalized ? 2 : 5;
  gint label_w = 0, label_h = 0, left, top, bottom, k, y;
  gchar text[5][32];
  PangoRectangle box;
  cairo_surface_t *surface;
  cairo_t *cr;
  guint32 *data;
  gint stride;

  if (y1 - y0 < 2 || bar_x < 1)
    return NULL;
  for (k = 0; k < n_ticks; k++) {
    osd_format_temp (text[k], sizeof (text[k]),
        lo + (hi - lo) * k / (n_ticks - 1), self->cur.unit);
    osd_layout_text (self, text[k], font_size, &box);
    label_w = MAX (label_w, box.width);
    label_h = MAX (label_h, box.height);
  }
  left = MAX (0, bar_x - 1 - tick - gap - label_w - 2 * outline);
  top = MAX (0, y0 - label_h / 2 - outline - 1);
  bottom = MIN (h, y1 + label_h / 2 + outline + 1);

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32,
      MIN (w, bar_x + bar_w + 1) - left, bottom - top);
  cr = cairo_create (surface);
  cairo_translate (cr, -left, -top);
  /* a dark frame around the bar */
  cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
  cairo_rectangle (cr, bar_x - 1, y0 - 1, bar_w + 2, y1 - y0 + 2);
  cairo_fill (cr);
  for (k = 0; k < n_ticks; k++) {
    gdouble ty = (y1 - 1) - (gdouble) (y1 - 1 - y0) * k / (n_ticks - 1) + 0.5;

    cairo_set_line_width (cr, 2.0);
    osd_set_source (cr, self->cur.font_color);
    cairo_move_to (cr, bar_x - 1 - tick, ty);
    cairo_line_to (cr, bar_x - 1, ty);
    cairo_stroke (cr);
    osd_layout_text (self, text[k], font_size, &box);
    osd_draw_layout (self, cr, &box, bar_x - 1 - tick - gap - box.width -
        outline, ty - box.height / 2.0, self->cur.font_color, outline);
  }
  cairo_destroy (cr);

  /* the bar itself, straight into the pixels: index 255 on the top row */
  cairo_surface_flush (surface);
  data = (guint32 *) cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface) / 4;
  for (y = y0; y < y1; y++) {
    /* the picture's colour for that level: after brightness and contrast */
    gint idx = tc_palette_balance_index (y1 - 1 == y0 ? 255 :
        (gint) lrint (255.0 * (y1 - 1 - y) / (y1 - 1 - y0)), brightness,
        contrast);
    guint32 px = 0xff000000u | ((guint32) rgb[3 * idx] << 16) |
        ((guint32) rgb[3 * idx + 1] << 8) | rgb[3 * idx + 2];
    guint32 *row = data + (gsize) (y - top) * stride + (bar_x - left);
    gint x;

    if (y < top || y >= bottom)
      continue;
    for (x = 0; x < bar_w; x++)
      row[x] = px;
  }
  cairo_surface_mark_dirty (surface);
  *ox = left;
  *oy = top;
  return surface;
}

static void
osd_ruler_update (GstThermalOsd * self, const GstThermalPaletteMeta * pm)
{
  OsdRuler *r = &self->ruler;
  gint palette = CLAMP (pm->palette, 0, TC_PALETTE_N - 1);
  gdouble lo = pm->range_min, hi = pm->range_max;

  if (r->drawn && r->palette == palette && r->lo == lo && r->hi == hi &&
      r->equalized == pm->equalized && r->unit == self->cur.unit &&
      r->brightness == pm->brightness && r->contrast == pm->contrast &&
      r->font_size == self->cur.font_size &&
      r->color == self->cur.font_color && r->frame_w == self->width &&
      r->frame_h == self->height)
    return;
  r->drawn = TRUE;
  r->palette = palette;
  r->lo = lo;
  r->hi = hi;
  r->equalized = pm->equalized;
  r->brightness = pm->brightness;
  r->contrast = pm->contrast;
  r->unit = self->cur.unit;
  r->font_size = self->cur.font_size;
  r->color = self->cur.font_color;
  r->frame_w = self->width;
  r->frame_h = self->height;
  osd_piece_set_surface (&r->piece, osd_render_ruler (self, palette, lo, hi,
          pm->equalized, pm->brightness, pm->contrast, &r->ox, &r->oy));
  osd_count_render (self);
}

/* ------------------------------------------------------------------------ */
/* the picture */

#define OSD_ERROR (osd_error_quark ())
G_DEFINE_QUARK (thermal-osd-error-quark, osd_error);

typedef enum
{
  OSD_ERROR_OPEN,
  OSD_ERROR_FORMAT,
  OSD_ERROR_TOO_BIG,
  OSD_ERROR_TRUNCATED,
  OSD_ERROR_TIMEZONE,
} OsdError;

static guint32
read_u32 (const guint8 * p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) |
      ((guint32) p[3] << 24);
}

static guint16
read_u16 (const guint8 * p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

/* Decodes a 24-bit uncompressed BMP of at most 128x128 pixels. */
static cairo_surface_t *
osd_decode_bmp (const guint8 * data, gsize size, GError ** error)
{
  guint32 offset, header, compression, stride;
  gint32 width, height;
  guint16 planes, bpp;
  gboolean top_down;
  gsize need;
  cairo_surface_t *surface;
  guint8 *pixels;
  gint pstride, x, y;

  if (size < 2 || data[0] != 'B' || data[1] != 'M') {
    g_set_error (error, OSD_ERROR, OSD_ERROR_FORMAT,
        "not a BMP file (no \"BM\" signature)");
    return NULL;
  }
  if (size < 14 + 4) {
    g_set_error (error, OSD_ERROR, OSD_ERROR_TRUNCATED,
        "truncated BMP file (%" G_GSIZE_FORMAT " bytes)", size);
    return NULL;
  }
  offset = read_u32 (data + 10);
  header = read_u32 (data + 14);
  if (header < 40 || header > 255) {
    g_set_error (error, OSD_ERROR, OSD_ERROR_FORMAT,
        "unsupported BMP header (%u bytes; only Windows BMP with a "
        "BITMAPINFOHEADER or later)", header);
    return NULL;
  }
  if (size < 14 + (gsize) header) {
    g_set_error (error, OSD_ERROR, OSD_ERROR_TRUNCATED,
        "truncated BMP file (header cut at %" G_GSIZE_FORMAT " bytes)", size);
    return NULL;
  }
  width = (gint32) read_u32 (data + 18);
  height = (gint32) read_u32 (data + 22);
  planes = read_u16 (data + 26);
  bpp = read_u16 (data + 28);
  compression = read_u32 (data + 30);
  if (planes != 1) {
    g_set_error (error, OSD_ERROR, OSD_ERROR_FORMAT,
        "invalid BMP (%u planes)", planes);
    return NULL;
  }
  if (bpp != 24) {
    g_set_error (error, OSD_ERROR, OSD_ERROR_FORMAT,
        "%u bits per pixel; only 24-bit BMP pictures are supported", bpp);
    return NULL;
  }
  if (compression != 0) {
    g_set_error (error, OSD_ERROR, OSD_ERROR_FORMAT,
        "compressed BMP (method %u); only uncompressed (BI_RGB) BMP pictures "
        "are supported", compression);
    return NULL;
  }
  if (width <= 0 || height == 0 || height == G_MININT32) {
    g_set_error (error, OSD_ERROR, OSD_ERROR_FORMAT,
        "invalid BMP size %dx%d", width, height);
    return NULL;
  }
  top_down = height < 0;
  if (top_down)
    height = -height;
  if (width > BMP_MAX_SIDE || height > BMP_MAX_SIDE) {
    g_set_error (error, OSD_ERROR, OSD_ERROR_TOO_BIG,
        "picture is %dx%d; the largest is %dx%d", width, height,
        BMP_MAX_SIDE, BMP_MAX_SIDE);
    return NULL;
  }
  stride = ((guint32) width * 3 + 3) & ~3u;
  if (offset < 14 + header || offset > size) {
    g_set_error (error, OSD_ERROR, OSD_ERROR_TRUNCATED,
        "BMP pixel data offset %u is outside the file (%" G_GSIZE_FORMAT
        " bytes)", offset, size);
    return NULL;
  }
  /* the last row's padding may be missing */
  need = (gsize) stride * (height - 1) + (gsize) width * 3;
  if (size - offset < need) {
    g_set_error (error, OSD_ERROR, OSD_ERROR_TRUNCATED,
        "truncated BMP file (%" G_GSIZE_FORMAT " bytes of pixels, %dx%d "
        "needs %" G_GSIZE_FORMAT ")", size - offset, width, height, need);
    return NULL;
  }

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy (surface);
    g_set_error (error, OSD_ERROR, OSD_ERROR_FORMAT, "out of memory");
    return NULL;
  }
  cairo_surface_flush (surface);
  pixels = cairo_image_surface_get_data (surface);
  pstride = cairo_image_surface_get_stride (surface);
  for (y = 0; y < height; y++) {
    const guint8 *src = data + offset +
        (gsize) stride * (top_down ? y : height - 1 - y);
    guint32 *dst = (guint32 *) (pixels + (gsize) y * pstride);

    for (x = 0; x < width; x++)
      dst[x] = 0xff000000u | ((guint32) src[3 * x + 2] << 16) |
          ((guint32) src[3 * x + 1] << 8) | src[3 * x];
  }
  cairo_surface_mark_dirty (surface);
  return surface;
}

static cairo_surface_t *
osd_load_bmp (const gchar * path, GError ** error)
{
  cairo_surface_t *surface;
  guint8 *data;
  gsize n;
  FILE *f;

  f = g_fopen (path, "rb");
  if (!f) {
    int err = errno;

    g_set_error (error, OSD_ERROR, OSD_ERROR_OPEN, "cannot open: %s",
        g_strerror (err));
    return NULL;
  }
  data = g_malloc (BMP_MAX_FILE + 1);
  n = fread (data, 1, BMP_MAX_FILE + 1, f);
  if (ferror (f)) {
    g_set_error (error, OSD_ERROR, OSD_ERROR_OPEN, "cannot read");
    surface = NULL;
  } else if (n > BMP_MAX_FILE) {
    /* the header tells best what is wrong with it */
    surface = osd_decode_bmp (data, BMP_MAX_FILE, error);
    if (surface) {
      cairo_surface_destroy (surface);
      surface = NULL;
      g_set_error (error, OSD_ERROR, OSD_ERROR_TOO_BIG,
          "file is larger than %d bytes, more than a 24-bit BMP of %dx%d "
          "pixels needs", BMP_MAX_FILE, BMP_MAX_SIDE, BMP_MAX_SIDE);
    }
  } else {
    surface = osd_decode_bmp (data, n, error);
  }
  fclose (f);
  g_free (data);
  return surface;
}

/* ------------------------------------------------------------------------ */
/* per frame */

static guint32
osd_state_color (GstThermalOsd * self, GstThermalAlarmState state)
{
  switch (state) {
    case GST_THERMAL_STATE_ALARM:
      return self->cur.alarm_color;
    case GST_THERMAL_STATE_PRE_ALARM:
      return self->cur.pre_alarm_color;
    default:
      return self->cur.normal_color;
  }
}

/* Takes the frame's readings for display when the interval has passed, the
 * settings changed or an alarm state or the set of rules changed. */
static void
osd_refresh_readings (GstThermalOsd * self, const GstThermalMeasureMeta * mm,
    GstClockTime now, gboolean force)
{
  guint i, n = mm ? MIN (mm->n_rules, GST_THERMAL_MAX_RULES) : 0;
  gboolean need = force || !self->have_shown ||
      self->shown_has_meta != (mm != NULL) || n != self->n_shown;

  if (!need && mm) {
    need = mm->scene_state != self->shown_scene_state ||
        mm->valid != self->shown_scene_valid;
    for (i = 0; i < n && !need; i++) {
      const GstThermalRuleResult *r = &mm->rules[i];
      const OsdShownRule *s = &self->shown[i];

      need = s->id != r->id || s->state != r->state || s->valid != r->valid;
    }
  }
  if (!need)
    need = now < self->shown_time ||
        now - self->shown_time >=
        (GstClockTime) self->cur.readings_interval * GST_MSECOND;
  if (!need)
    return;

  self->have_shown = TRUE;
  self->shown_time = now;
  self->shown_has_meta = mm != NULL;
  self->n_shown = n;
  if (!mm)
    return;
  for (i = 0; i < n; i++) {
    const GstThermalRuleResult *r = &mm->rules[i];
    OsdShownRule *s = &self->shown[i];

    s->id = r->id;
    s->state = r->state;
    s->valid = r->valid;
    s->max = r->max;
    s->min = r->min;
    s->avg = r->avg;
  }
  self->shown_scene_valid = mm->valid;
  self->shown_scene_max = mm->valid ? mm->max : NAN;
  self->shown_scene_min = mm->valid ? mm->min : NAN;
  memcpy (self->shown_scene_max_at, mm->max_at, sizeof (mm->max_at));
  memcpy (self->shown_scene_min_at, mm->min_at, sizeof (mm->min_at));
  self->shown_scene_state = mm->scene_state;
  self->shown_range_min = mm->range_min;
  self->shown_range_max = mm->range_max;
}

/* the rule's name, valid UTF-8 and NUL-terminated */
static void
osd_rule_name (const GstThermalRuleResult * r, gchar * buf, gsize len)
{
  const gchar *end;
  gsize n = strnlen (r->name, sizeof (r->name));

  n = MIN (n, len - 1);
  memcpy (buf, r->name, n);
  buf[n] = '\0';
  if (!g_utf8_validate (buf, -1, &end))
    buf[end - buf] = '\0';
}

/* The readings of a rule: on one line for the top-left block, on several
 * beside the rule. */
static void
osd_rule_text (GstThermalOsd * self, const GstThermalRuleResult * r,
    const OsdShownRule * v, gboolean block, gchar * buf, gsize len)
{
  GstThermalOsdUnit unit = self->cur.unit;
  const gchar *sep = block ? " " : "\n";
  gchar name[GST_THERMAL_NAME_LEN + 16], a[32], b[32], c[32];
  gdouble none = NAN;

  name[0] = '\0';
  if (self->cur.show_rule_names)
    osd_rule_name (r, name, sizeof (name));
  if (block && !name[0])
    g_snprintf (name, sizeof (name), "%c%d",
        r->type == GST_THERMAL_RULE_POINT ? 'P' :
        r->type == GST_THERMAL_RULE_LINE ? 'L' : 'A', r->id);
  if (name[0])
    g_strlcat (name, block ? ": " : "\n", sizeof (name));

  if (osd_rule_is_cross (r)) {
    osd_format_reading (self, a, sizeof (a), v->valid ? v->max : none, unit);
    g_snprintf (buf, len, "%s%s", name, a);
  } else if (self->cur.show_max_min_avg) {
    osd_format_reading (self, a, sizeof (a), v->valid ? v->max : none, unit);
    osd_format_reading (self, b, sizeof (b), v->valid ? v->min : none, unit);
    osd_format_reading (self, c, sizeof (c), v->valid ? v->avg : none, unit);
    g_snprintf (buf, len, "%sMax %s%sMin %s%sAvg %s", name, a, sep, b, sep, c);
  } else {
    osd_format_reading (self, a, sizeof (a), v->valid ? v->max : none, unit);
    g_snprintf (buf, len, "%sMax %s", name, a);
  }
}

/* beside the rule: right of a cross (left if there is no room before
 * @right), above a line or polygon (else inside a polygon's box, below a
 * line) */
static void
osd_place_label (GstThermalOsd * self, const GstThermalRuleResult * r,
    const OsdPiece * p, gint right, gint * x, gint * y)
{
  gdouble x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  gint gap = (gint) LINE_WIDTH + 3;

  osd_rule_box (r, self->width, self->height, &x0, &y0, &x1, &y1);
  if (osd_rule_is_cross (r)) {
    gint arm = osd_cross_arm (self->cur.font_size);

    *x = (gint) x0 + arm + gap;
    *y = (gint) y0 - p->height / 2;
    if (*x + p->width > right)
      *x = (gint) x0 - arm - gap - p->width;
  } else {
    *x = MIN ((gint) x0, right - p->width);
    *y = (gint) y0 - gap - p->height;
    if (*y < 0 && r->type == GST_THERMAL_RULE_POLYGON) {
      *x = MIN ((gint) x0 + gap, right - p->width);
      *y = (gint) y0 + gap;
    } else if (*y < 0) {
      *y = (gint) y1 + gap;
    }
  }
}

/* a label's rectangle on the frame */
typedef struct
{
  gint x, y, w, h;
} OsdBox;

static gboolean
osd_box_hits (const OsdBox * a, const OsdBox * b)
{
  return a->x < b->x + b->w && b->x < a->x + a->w &&
      a->y < b->y + b->h && b->y < a->y + a->h;
}

static gboolean
osd_box_free (const OsdBox * placed, guint n, const OsdBox * b)
{
  guint i;

  for (i = 0; i < n; i++)
    if (osd_box_hits (&placed[i], b))
      return FALSE;
  return TRUE;
}

/* Labels of rules close together must not cover each other: @b (where the
 * label wants to be) moves off the labels @placed before it, to the nearest
 * free place just below or above one of them (same x), else just beside one
 * (same y), inside the frame left of @right; where nothing is free it stays.
 * At most 2 * 42 candidates checked against 42 boxes: no allocation. */
static void
osd_unclutter (const OsdBox * placed, guint n, OsdBox * b, gint right,
    gint height)
{
  OsdBox best = *b, c;
  gint best_d = G_MAXINT, d;
  guint i, k;

  /* where osd_piece_show would put it */
  b->x = CLAMP (b->x, 0, MAX (0, right - b->w));
  b->y = CLAMP (b->y, 0, MAX (0, height - b->h));
  if (osd_box_free (placed, n, b))
    return;
  for (i = 0; i < n; i++)
    for (k = 0; k < 4; k++) {
      c = *b;
      if (k == 0)
        c.y = placed[i].y + placed[i].h + 1;
      else if (k == 1)
        c.y = placed[i].y - b->h - 1;
      else if (k == 2)
        c.x = placed[i].x + placed[i].w + 1;
      else
        c.x = placed[i].x - b->w - 1;
      if (c.x < 0 || c.x + c.w > right || c.y < 0 || c.y + c.h > height)
        continue;
      /* a move sideways costs more than the same move down or up */
      d = k < 2 ? ABS (c.y - b->y) : 2 * ABS (c.x - b->x);
      if (d < best_d && osd_box_free (placed, n, &c)) {
        best = c;
        best_d = d;
      }
    }
  *b = best;
}

static void
osd_update_date (GstThermalOsd * self)
{
  static const gchar *dates[] = { "%Y-%m-%d", "%m-%d-%Y", "%d-%m-%Y" };
  gint64 second = (g_get_real_time () + self->cur.clock_offset) / G_USEC_PER_SEC;
  GDateTime *utc, *dt;
  gchar *fmt, *text;

  if (second == self->date_second && self->date_cookie == self->cur_cookie)
    return;
  self->date_second = second;
  self->date_cookie = self->cur_cookie;

  utc = g_date_time_new_from_unix_utc (second);
  if (self->cur.tz)
    dt = g_date_time_to_timezone (utc, self->cur.tz);
  else
    dt = g_date_time_to_local (utc);
  fmt = g_strdup_printf ("%s%s %s", dates[CLAMP (self->cur.date_format, 0,
              (gint) G_N_ELEMENTS (dates) - 1)],
      self->cur.show_week ? " %a" : "",
      self->cur.time_format == GST_THERMAL_OSD_TIME_12H ?
      "%I:%M:%S %p" : "%H:%M:%S");
  text = dt ? g_date_time_format (dt, fmt) : NULL;
  g_strlcpy (self->date_text, text ? text : "", sizeof (self->date_text));
  /* once a second: what the picture says, for who checks the clock */
  GST_DEBUG_OBJECT (self, "date \"%s\" (clock offset %" G_GINT64_FORMAT " us)",
      self->date_text, self->cur.clock_offset);
  g_free (text);
  g_free (fmt);
  if (dt)
    g_date_time_unref (dt);
  g_date_time_unref (utc);
}

/* the camera name, date and text lines at their corner; returns nothing,
 * @top is where a block at the top left may start */
static void
osd_layout_osd_block (GstThermalOsd * self, gint top)
{
  OsdSettings *s = &self->cur;
  const gchar *texts[N_OSD_LINES];
  gint margin = osd_margin (s->font_size);
  gint blank = s->font_size * 6 / 5 + 2 * osd_outline (s->font_size);
  gint n = 0, i, block_w = 0, block_h = 0, bx, y;
  gboolean right = s->osd_position == GST_THERMAL_OSD_TOP_RIGHT ||
      s->osd_position == GST_THERMAL_OSD_BOTTOM_RIGHT;
  gboolean bottom = s->osd_position == GST_THERMAL_OSD_BOTTOM_LEFT ||
      s->osd_position == GST_THERMAL_OSD_BOTTOM_RIGHT;
  GstThermalOsdAlignment align = s->alignment;

  if (s->camera_name && *s->camera_name)
    texts[n++] = s->camera_name;
  if (s->show_date) {
    osd_update_date (self);
    texts[n++] = self->date_text;
  }
  for (i = 0; s->lines && s->lines[i] && n < N_OSD_LINES; i++)
    texts[n++] = s->lines[i];
  if (n == 0)
    return;

  for (i = 0; i < n; i++) {
    OsdText *t = &self->osd[i];

    osd_text_update (self, t, texts[i], s->font_color);
    block_w = MAX (block_w, t->piece.width);
    block_h += t->piece.pixels ? t->piece.height : blank;
  }
  if (align == GST_THERMAL_OSD_ALIGN_AUTO)
    align = right ? GST_THERMAL_OSD_ALIGN_RIGHT : GST_THERMAL_OSD_ALIGN_LEFT;
  bx = right ? self->width - margin - block_w : margin;
  if (bottom)
    y = self->height - margin - block_h;
  else
    y = s->osd_position == GST_THERMAL_OSD_TOP_LEFT ? top : margin;

  for (i = 0; i < n; i++) {
    OsdText *t = &self->osd[i];
    gint x = bx;

    if (!t->piece.pixels) {
      y += blank;
      continue;
    }
    if (align == GST_THERMAL_OSD_ALIGN_RIGHT)
      x = bx + block_w - t->piece.width;
    else if (align == GST_THERMAL_OSD_ALIGN_CENTER)
      x = bx + (block_w - t->piece.width) / 2;
    osd_piece_show (self, &t->piece, x, y);
    y += t->piece.height;
  }
}

/* Brings every piece up to date and lists the rectangles to show. */
static void
osd_layout (GstThermalOsd * self, const GstThermalMeasureMeta * mm,
    const GstThermalPaletteMeta * pm)
{
  OsdSettings *s = &self->cur;
  gboolean top_left = s->info_position == GST_THERMAL_OSD_INFO_TOP_LEFT;
  gint margin = osd_margin (s->font_size);
  gint w = self->width, h = self->height, right = w;
  guint i, n_rules = mm ? self->n_shown : 0, n_info = 0, n_placed = 0;
  gint y;
  gchar text[512];
  OsdBox placed[GST_THERMAL_MAX_RULES + 2];

  self->n_next = 0;

  /* the ruler first: labels keep to its left */
  if (s->show_ruler && pm) {
    osd_ruler_update (self, pm);
    if (self->ruler.piece.pixels)
      right = self->ruler.ox - 2;
  }

  /* the picture, underneath everything */
  if (s->picture) {
    if (self->picture.pixels != s->picture) {
      osd_piece_clear (&self->picture);
      self->picture.pixels = gst_buffer_ref (s->picture);
      self->picture.width = s->picture_w;
      self->picture.height = s->picture_h;
      osd_piece_find_spans (&self->picture);
    }
    osd_piece_show (self, &self->picture, s->picture_x, s->picture_y);
  }

  /* the rules */
  if (s->show_rules) {
    for (i = 0; i < n_rules; i++) {
      const GstThermalRuleResult *r = &mm->rules[i];
      OsdShape *shape = &self->shapes[i];

      osd_shape_update (self, shape, r, osd_state_color (self, r->state));
      osd_piece_show (self, &shape->piece, shape->ox, shape->oy);
    }
  }

  /* the scene's max and min (not while the frame shows the shutter) */
  if (s->show_scene && mm && self->shown_scene_valid) {
    const gdouble *at[2] = { self->shown_scene_max_at,
      self->shown_scene_min_at
    };
    const gdouble value[2] = { self->shown_scene_max, self->shown_scene_min };
    const guint32 color[2] = { SCENE_MAX_COLOR, SCENE_MIN_COLOR };

    for (i = 0; i < 2; i++) {
      OsdShape *m = &self->markers[i];
      gint cx = (gint) lrint (CLAMP (at[i][0], 0.0, 1.0) * w);
      gint cy = (gint) lrint (CLAMP (at[i][1], 0.0, 1.0) * h);

      osd_marker_update (self, m, color[i]);
      /* centred on the pixel even at the frame's edge: clipped, not moved */
      osd_piece_show_full (self, &m->piece, cx - m->piece.width / 2,
          cy - m->piece.height / 2, TRUE);
      if (!top_left) {
        OsdText *t = &self->scene_labels[i];
        gchar v[32];
        gint lx;

        osd_format_reading (self, v, sizeof (v), value[i], s->unit);
        g_snprintf (text, sizeof (text), "%s %s", i == 0 ? "Max" : "Min", v);
        osd_text_update (self, t, text, color[i]);
        lx = cx + m->piece.width / 2 + 2;
        if (lx + t->piece.width > right)
          lx = cx - m->piece.width / 2 - 2 - t->piece.width;
        osd_piece_show (self, &t->piece, lx, cy - t->piece.height / 2);
        if (t->piece.pixels && n_placed < G_N_ELEMENTS (placed)) {
          /* the rules' labels keep off it */
          OsdBox *pb = &placed[n_placed++];

          pb->x = t->piece.x;
          pb->y = t->piece.y;
          pb->w = t->piece.width;
          pb->h = t->piece.height;
        }
      }
    }
  }

  /* the readings */
  if (s->show_rules && !top_left) {
    for (i = 0; i < n_rules; i++) {
      const GstThermalRuleResult *r = &mm->rules[i];
      OsdText *t = &self->labels[i];
      gint x, ly;

      if (osd_rule_n_points (r) == 0)
        continue;
      osd_rule_text (self, r, &self->shown[i], FALSE, text, sizeof (text));
      osd_text_update (self, t, text, osd_state_color (self, r->state));
      osd_place_label (self, r, &t->piece, right, &x, &ly);
      if (t->piece.pixels && n_placed < G_N_ELEMENTS (placed)) {
        OsdBox *b = &placed[n_placed];

        b->x = x;
        b->y = ly;
        b->w = t->piece.width;
        b->h = t->piece.height;
        osd_unclutter (placed, n_placed, b, MAX (right, t->piece.width), h);
        x = b->x;
        ly = b->y;
        n_placed++;
      }
      osd_piece_show (self, &t->piece, x, ly);
    }
  }
  y = margin;
  if (top_left) {
    if (s->show_scene && mm) {
      gchar a[32], b[32];

      osd_format_reading (self, a, sizeof (a), self->shown_scene_max, s->unit);
      osd_format_reading (self, b, sizeof (b), self->shown_scene_min, s->unit);
      g_snprintf (text, sizeof (text), "Max %s  Min %s", a, b);
      osd_text_update (self, &self->info[n_info], text,
          osd_state_color (self, self->shown_scene_state));
      n_info++;
    }
    for (i = 0; s->show_rules && i < n_rules; i++) {
      const GstThermalRuleResult *r = &mm->rules[i];

      osd_rule_text (self, r, &self->shown[i], TRUE, text, sizeof (text));
      osd_text_update (self, &self->info[n_info], text,
          osd_state_color (self, r->state));
      n_info++;
    }
    for (i = 0; i < n_info; i++) {
      OsdPiece *p = &self->info[i].piece;

      osd_piece_show (self, p, margin, y);
      y += p->height;
    }
  }

  /* the ruler */
  if (s->show_ruler && pm)
    osd_piece_show (self, &self->ruler.piece, self->ruler.ox, self->ruler.oy);

  /* name, date, text */
  osd_layout_osd_block (self, y);
}

/* A new composition if the rectangles are not those of the last one. */
static void
osd_update_composition (GstThermalOsd * self)
{
  guint i;

  /* (a piece's rectangle is the same as long as its pixels are) */
  memcpy (self->active_pieces, self->next_pieces,
      self->n_next * sizeof (self->next_pieces[0]));
  if (self->n_next == self->n_active && (self->n_next == 0 ||
          memcmp (self->next, self->active,
              self->n_next * sizeof (self->next[0])) == 0))
    return;

  /* (the old composition holds the old rectangles until here, so a new
   * rectangle cannot have the address of one in the old list) */
  g_clear_pointer (&self->comp, gst_video_overlay_composition_unref);
  for (i = 0; i < self->n_next; i++) {
    if (!self->comp)
      self->comp = gst_video_overlay_composition_new (self->next[i]);
    else
      gst_video_overlay_composition_add_rectangle (self->comp, self->next[i]);
  }
  memcpy (self->active, self->next, self->n_next * sizeof (self->next[0]));
  self->n_active = self->n_next;
  GST_LOG_OBJECT (self, "new composition of %u rectangles", self->n_active);
}

/* Blends one rectangle with gst_video_blend() into a view of the frame cut
 * down to the rectangle (aligned to the chroma subsampling):
 * gst_video_overlay_composition_blend() converts whole rows of the frame for
 * each rectangle, which costs more than the rectangles themselves. YUV
 * frames get the rectangle's AYUV pixels, converted once per rectangle. */
static gboolean
osd_blend_rectangle (GstVideoFrame * frame, GstVideoOverlayRectangle * rect)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  gint fw = GST_VIDEO_FRAME_WIDTH (frame), fh = GST_VIDEO_FRAME_HEIGHT (frame);
  gint x, y, x0, y0, x1, y1, xa, ya, xsub = 0, ysub = 0;
  guint w, h, c, p;
  GstVideoFrame view, src;
  GstVideoInfo sinfo;
  GstVideoMeta *vmeta;
  GstBuffer *pixels;
  gboolean yuv = GST_VIDEO_FORMAT_INFO_IS_YUV (finfo), ok;

  if (GST_VIDEO_FORMAT_INFO_IS_TILED (finfo) ||
      GST_VIDEO_FORMAT_INFO_HAS_PALETTE (finfo) ||
      (GST_VIDEO_FORMAT_INFO_FLAGS (finfo) & GST_VIDEO_FORMAT_FLAG_COMPLEX))
    return FALSE;

  gst_video_overlay_rectangle_get_render_rectangle (rect, &x, &y, &w, &h);
  x0 = MAX (x, 0);
  y0 = MAX (y, 0);
  x1 = MIN (x + (gint) w, fw);
  y1 = MIN (y + (gint) h, fh);
  if (x1 <= x0 || y1 <= y0)
    return TRUE;
  for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    xsub = MAX (xsub, (gint) GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c));
    ysub = MAX (ysub, (gint) GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c));
  }
  xa = x0 & ~((1 << xsub) - 1);
  ya = y0 & ~((1 << ysub) - 1);

  view = *frame;
  view.info.width = x1 - xa;
  view.info.height = y1 - ya;
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (frame); p++) {
    for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++)
      if (GST_VIDEO_FORMAT_INFO_PLANE (finfo, c) == p)
        break;
    if (c == GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo))
      return FALSE;
    view.data[p] = (guint8 *) frame->data[p] +
        (gsize) (ya >> GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c)) *
        GST_VIDEO_FRAME_PLANE_STRIDE (frame, p) +
        (gsize) (xa >> GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c)) *
        GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, c);
  }

  pixels = yuv ?
      gst_video_overlay_rectangle_get_pixels_ayuv (rect,
      GST_VIDEO_OVERLAY_FORMAT_FLAG_NONE) :
      gst_video_overlay_rectangle_get_pixels_raw (rect,
      GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  vmeta = pixels ? gst_buffer_get_video_meta (pixels) : NULL;
  if (!vmeta)
    return FALSE;
  gst_video_info_set_format (&sinfo, vmeta->format, vmeta->width,
      vmeta->height);
  if (!yuv)
    GST_VIDEO_INFO_FLAGS (&sinfo) |= GST_VIDEO_FLAG_PREMULTIPLIED_ALPHA;
  if (!gst_video_frame_map (&src, &sinfo, pixels, GST_MAP_READ))
    return FALSE;
  ok = gst_video_blend (&view, &src, x - xa, y - ya, 1.0f);
  gst_video_frame_unmap (&src);
  return ok;
}

/* Sets the span blender up for frames of @info, when every component is 8
 * bits in its own bytes. */
static void
osd_blender_configure (OsdBlender * b, const GstVideoInfo * info)
{
  const GstVideoFormatInfo *finfo = info->finfo;
  guint c, n = GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo);
  TcPixelLayout layout = { 0 };
  gdouble kr = 0.299, kb = 0.114;

  layout.n_components = 0;      /* unusable unless proven otherwise */
  if (GST_VIDEO_FORMAT_INFO_BITS (finfo) == 8 && n >= 3 && n <= 4 &&
      !GST_VIDEO_FORMAT_INFO_IS_TILED (finfo) &&
      !GST_VIDEO_FORMAT_INFO_HAS_PALETTE (finfo) &&
      !(GST_VIDEO_FORMAT_INFO_FLAGS (finfo) & GST_VIDEO_FORMAT_FLAG_COMPLEX) &&
      !GST_VIDEO_INFO_IS_INTERLACED (info) &&
      (GST_VIDEO_FORMAT_INFO_IS_RGB (finfo) ||
          GST_VIDEO_FORMAT_INFO_IS_YUV (finfo))) {
    layout.n_components = n;
    for (c = 0; c < n; c++) {
      if (GST_VIDEO_FORMAT_INFO_DEPTH (finfo, c) != 8 ||
          GST_VIDEO_FORMAT_INFO_SHIFT (finfo, c) != 0 ||
          GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, c) <= 0) {
        layout.n_components = 0;
        break;
      }
      layout.plane[c] = GST_VIDEO_FORMAT_INFO_PLANE (finfo, c);
      layout.poffset[c] = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, c);
      layout.pstride[c] = GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, c);
      layout.wsub[c] = GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c);
      layout.hsub[c] = GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c);
    }
    layout.yuv = GST_VIDEO_FORMAT_INFO_IS_YUV (finfo);
  }
  if (!gst_video_color_matrix_get_Kr_Kb (info->colorimetry.matrix, &kr, &kb)) {
    kr = 0.299;
    kb = 0.114;
  }
  tc_blender_configure (b, &layout, kr, kb,
      info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255,
      GST_VIDEO_INFO_WIDTH (info));
}

/* Blends the non-transparent pixels of @p (premultiplied ARGB32) at its
 * place. */
static void
osd_blend_piece (OsdBlender * b, GstVideoFrame * frame, OsdPiece * p)
{
  GstVideoMeta *vmeta = gst_buffer_get_video_meta (p->pixels);
  TcFrame f = { {0}, {0}, GST_VIDEO_FRAME_WIDTH (frame),
    GST_VIDEO_FRAME_HEIGHT (frame)
  };
  const guint8 *argb;
  GstMapInfo map;
  guint i;

  if (!vmeta || !gst_buffer_map (p->pixels, &map, GST_MAP_READ))
    return;
  argb = map.data + vmeta->offset[0];
  for (i = 0; i < GST_VIDEO_FRAME_N_PLANES (frame); i++) {
    f.data[i] = GST_VIDEO_FRAME_PLANE_DATA (frame, i);
    f.stride[i] = GST_VIDEO_FRAME_PLANE_STRIDE (frame, i);
  }
  /* the YUV of the span pixels, once per drawing (and per colorimetry) */
  if (b->yuv && p->yuv_serial != b->serial) {
    g_free (p->yuv);
    p->yuv = g_new (guint32, MAX (1, p->n_span_pixels));
    p->yuv_serial = b->serial;
    tc_blend_to_yuv (b, argb, vmeta->stride[0], p->spans, p->n_spans, p->yuv);
  }
  tc_blend_spans (b, &f, argb, vmeta->stride[0], p->yuv, p->spans, p->n_spans,
      p->x, p->y);
  gst_buffer_unmap (p->pixels, &map);
}

static void
osd_blend (GstThermalOsd * self, GstVideoFrame * frame)
{
  guint i;

  if (self->blender.ok) {
    for (i = 0; i < self->n_active; i++)
      if (!self->active_pieces[i]->have_spans)
        break;
    if (i == self->n_active) {
      for (i = 0; i < self->n_active; i++)
        osd_blend_piece (&self->blender, frame, self->active_pieces[i]);
      return;
    }
  }
  for (i = 0; i < self->n_active; i++) {
    if (!osd_blend_rectangle (frame, self->active[i])) {
      /* the slow and sure way, for all of them */
      GST_LOG_OBJECT (self, "blending the whole composition");
      gst_video_overlay_composition_blend (self->comp, frame);
      return;
    }
  }
}

/* Does downstream take the composition as a meta? */
static void
osd_check_allocation (GstThermalOsd * self)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstCaps *caps = gst_pad_get_current_caps (trans->srcpad);
  gboolean attach = FALSE;

  self->alloc_checked = TRUE;
  if (caps) {
    GstCapsFeatures *f = gst_caps_get_features (caps, 0);

    if (f && gst_caps_features_contains (f,
            GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION)) {
      GstQuery *query = gst_query_new_allocation (caps, FALSE);

      if (gst_pad_peer_query (trans->srcpad, query))
        attach = gst_query_find_allocation_meta (query,
            GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
      gst_query_unref (query);
    }
    gst_caps_unref (caps);
  }
  if (attach != self->attach || !self->have_cur)
    GST_INFO_OBJECT (self, "%s the overlay", attach ?
        "attaching (downstream blends)" : "blending");
  self->attach = attach;
}

static GstFlowReturn
gst_thermal_osd_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstThermalOsd *self = GST_THERMAL_OSD (filter);
  GstBuffer *buf = frame->buffer;
  GstThermalMeasureMeta *mm = gst_buffer_get_thermal_measure_meta (buf);
  GstThermalPaletteMeta *pm = gst_buffer_get_thermal_palette_meta (buf);
  GstVideoOverlayCompositionMeta *upstream;
  gboolean changed = FALSE;
  GstClockTime now;

  GST_OBJECT_LOCK (self);
  if (!self->have_cur || self->cookie != self->cur_cookie) {
    osd_settings_copy (&self->cur, &self->props);
    self->cur_cookie = self->cookie;
    changed = TRUE;
  }
  GST_OBJECT_UNLOCK (self);
  if (!self->alloc_checked)
    osd_check_allocation (self);
  self->have_cur = TRUE;
  if (!osd_ensure_pango (self)) {
    GST_ELEMENT_ERROR (self, LIBRARY, INIT, (NULL),
        ("cannot create a Pango font map"));
    return GST_FLOW_ERROR;
  }

  now = GST_BUFFER_PTS (buf);
  if (!GST_CLOCK_TIME_IS_VALID (now))
    now = (GstClockTime) g_get_monotonic_time () * GST_USECOND;
  osd_refresh_readings (self, mm, now, changed);
  osd_layout (self, mm, pm);
  osd_update_composition (self);

  upstream = gst_buffer_get_video_overlay_composition_meta (buf);
  if (self->attach) {
    if (upstream) {
      GstVideoOverlayComposition *merged =
          gst_video_overlay_composition_copy (upstream->overlay);
      guint i;

      for (i = 0; i < self->n_active; i++)
        gst_video_overlay_composition_add_rectangle (merged, self->active[i]);
      gst_buffer_remove_meta (buf, (GstMeta *) upstream);
      gst_buffer_add_video_overlay_composition_meta (buf, merged);
      gst_video_overlay_composition_unref (merged);
    } else if (self->comp) {
      gst_buffer_add_video_overlay_composition_meta (buf, self->comp);
    }
  } else {
    if (upstream) {
      gst_video_overlay_composition_blend (upstream->overlay, frame);
      gst_buffer_remove_meta (buf, (GstMeta *) upstream);
    }
    if (self->comp)
      osd_blend (self, frame);
  }
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------------------ */
/* negotiation */

/* system memory, with or without the composition meta (other memory: no) */
static gboolean
osd_features_usable (GstCapsFeatures * f, gboolean * has_meta)
{
  guint i, n = gst_caps_features_get_size (f);

  *has_meta = FALSE;
  for (i = 0; i < n; i++) {
    const gchar *name = gst_caps_features_get_nth (f, i);

    if (g_str_equal (name, GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION))
      *has_meta = TRUE;
    else if (!g_str_equal (name, GST_CAPS_FEATURE_MEMORY_SYSTEM_MEMORY))
      return FALSE;
  }
  return TRUE;
}

static void
osd_append_caps (GstCaps * caps, const GstStructure * s, gboolean meta)
{
  GstCapsFeatures *f = meta ?
      gst_caps_features_new (GST_CAPS_FEATURE_MEMORY_SYSTEM_MEMORY,
      GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION, NULL) : NULL;

  gst_caps_append_structure_full (caps, gst_structure_copy (s), f);
}

/* The same video either way. Downstream of plain video we offer the
 * composition meta first (and blend if it is not taken); downstream of video
 * that carries the meta, it must go on carrying it. */
static GstCaps *
gst_thermal_osd_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstCaps *ret;
  guint i;

  if (gst_caps_is_any (caps))
    return filter ? gst_caps_ref (filter) : gst_caps_ref (caps);

  ret = gst_caps_new_empty ();
  for (i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);
    gboolean has_meta;

    if (!osd_features_usable (gst_caps_get_features (caps, i), &has_meta))
      continue;
    if (has_meta) {
      osd_append_caps (ret, s, TRUE);
      if (direction == GST_PAD_SRC)
        osd_append_caps (ret, s, FALSE);
    } else {
      if (direction == GST_PAD_SINK)
        osd_append_caps (ret, s, TRUE);
      osd_append_caps (ret, s, FALSE);
    }
  }
  ret = gst_caps_simplify (ret);
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, ret,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (ret);
    ret = tmp;
  }
  GST_LOG_OBJECT (trans, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, ret);
  return ret;
}

static gboolean
gst_thermal_osd_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstThermalOsd *self = GST_THERMAL_OSD (filter);

  self->width = GST_VIDEO_INFO_WIDTH (in_info);
  self->height = GST_VIDEO_INFO_HEIGHT (in_info);
  self->alloc_checked = FALSE;
  osd_blender_configure (&self->blender, in_info);
  GST_DEBUG_OBJECT (self, "%dx%d %s, %s", self->width, self->height,
      gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (in_info)),
      self->blender.ok ? "span blending" : "blending with gst_video_blend()");
  return TRUE;
}

/* a new allocation (renegotiation, downstream reconfigured): whether
 * downstream takes the overlay as a meta is asked again */
static gboolean
gst_thermal_osd_decide_allocation (GstBaseTransform * trans, GstQuery * query)
{
  GST_THERMAL_OSD (trans)->alloc_checked = FALSE;
  return GST_BASE_TRANSFORM_CLASS (parent_class)->decide_allocation (trans,
      query);
}

static gboolean
gst_thermal_osd_start (GstBaseTransform * trans)
{
  GstThermalOsd *self = GST_THERMAL_OSD (trans);

  self->have_cur = FALSE;
  self->have_shown = FALSE;
  self->alloc_checked = FALSE;
  self->attach = FALSE;
  self->date_second = -1;
  return TRUE;
}

static gboolean
gst_thermal_osd_stop (GstBaseTransform * trans)
{
  GstThermalOsd *self = GST_THERMAL_OSD (trans);

  osd_clear_pieces (self);
  osd_free_pango (self);
  osd_settings_clear (&self->cur);
  self->have_cur = FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* properties */

static void
gst_thermal_osd_set_picture (GstThermalOsd * self, const gchar * path)
{
  cairo_surface_t *surface = NULL;
  GstBuffer *pixels = NULL;
  GError *err = NULL;
  gint w = 0, h = 0;

  if (path && *path) {
    surface = osd_load_bmp (path, &err);
    if (!surface) {
      GST_THERMAL_WARN_SETTING (self, RESOURCE, SETTINGS,
          ("Picture \"%s\" refused: %s", path, err->message),
          ("picture-file keeps its previous value"));
      g_clear_error (&err);
      return;
    }
    w = cairo_image_surface_get_width (surface);
    h = cairo_image_surface_get_height (surface);
    pixels = osd_surface_to_buffer (surface);
  }
  GST_OBJECT_LOCK (self);
  g_free (self->props.picture_file);
  self->props.picture_file = pixels ? g_strdup (path) : NULL;
  gst_clear_buffer (&self->props.picture);
  self->props.picture = pixels;
  self->props.picture_w = w;
  self->props.picture_h = h;
  self->cookie++;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_osd_set_timezone (GstThermalOsd * self, const gchar * id)
{
  GTimeZone *tz = NULL;

  if (id && *id) {
    tz = g_time_zone_new_identifier (id);
    if (!tz) {
      GST_THERMAL_WARN_SETTING (self, RESOURCE, SETTINGS,
          ("Unknown time zone \"%s\"", id),
          ("timezone keeps its previous value"));
      return;
    }
  }
  GST_OBJECT_LOCK (self);
  g_free (self->props.timezone);
  self->props.timezone = tz ? g_strdup (id) : NULL;
  g_clear_pointer (&self->props.tz, g_time_zone_unref);
  self->props.tz = tz;
  self->cookie++;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_osd_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstThermalOsd *self = GST_THERMAL_OSD (object);
  OsdSettings *s = &self->props;

  /* these load or check something first, and may post a warning: outside
   * the object lock */
  switch (prop_id) {
    case PROP_PICTURE_FILE:
      gst_thermal_osd_set_picture (self, g_value_get_string (value));
      return;
    case PROP_TIMEZONE:
      gst_thermal_osd_set_timezone (self, g_value_get_string (value));
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SHOW_RULES:
      s->show_rules = g_value_get_boolean (value);
      break;
    case PROP_CLOCK_OFFSET:
      s->clock_offset = g_value_get_int64 (value);
      break;
    case PROP_SHOW_RULE_NAMES:
      s->show_rule_names = g_value_get_boolean (value);
      break;
    case PROP_SHOW_MAX_MIN_AVG:
      s->show_max_min_avg = g_value_get_boolean (value);
      break;
    case PROP_INFO_POSITION:
      s->info_position = g_value_get_enum (value);
      break;
    case PROP_UNIT:
      s->unit = g_value_get_enum (value);
      break;
    case PROP_SHOW_SCENE:
      s->show_scene = g_value_get_boolean (value);
      break;
    case PROP_READINGS_INTERVAL:
      s->readings_interval = g_value_get_uint (value);
      break;
    case PROP_NORMAL_COLOR:
      s->normal_color = g_value_get_uint (value);
      break;
    case PROP_PRE_ALARM_COLOR:
      s->pre_alarm_color = g_value_get_uint (value);
      break;
    case PROP_ALARM_COLOR:
      s->alarm_color = g_value_get_uint (value);
      break;
    case PROP_SHOW_RULER:
      s->show_ruler = g_value_get_boolean (value);
      break;
    case PROP_CAMERA_NAME:
      g_free (s->camera_name);
      s->camera_name = g_value_dup_string (value);
      break;
    case PROP_SHOW_DATE:
      s->show_date = g_value_get_boolean (value);
      break;
    case PROP_DATE_FORMAT:
      s->date_format = g_value_get_enum (value);
      break;
    case PROP_SHOW_WEEK:
      s->show_week = g_value_get_boolean (value);
      break;
    case PROP_TIME_FORMAT:
      s->time_format = g_value_get_enum (value);
      break;
    case PROP_TEXT_LINES:
      g_free (s->text_lines);
      s->text_lines = g_value_dup_string (value);
      break;
    case PROP_FONT_SIZE:
      s->font_size = g_value_get_int (value);
      break;
    case PROP_FONT_COLOR:
      s->font_color = g_value_get_uint (value);
      break;
    case PROP_OSD_POSITION:
      s->osd_position = g_value_get_enum (value);
      break;
    case PROP_ALIGNMENT:
      s->alignment = g_value_get_enum (value);
      break;
    case PROP_PICTURE_X:
      s->picture_x = g_value_get_int (value);
      break;
    case PROP_PICTURE_Y:
      s->picture_y = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  self->cookie++;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_osd_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstThermalOsd *self = GST_THERMAL_OSD (object);
  OsdSettings *s = &self->props;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SHOW_RULES:
      g_value_set_boolean (value, s->show_rules);
      break;
    case PROP_SHOW_RULE_NAMES:
      g_value_set_boolean (value, s->show_rule_names);
      break;
    case PROP_SHOW_MAX_MIN_AVG:
      g_value_set_boolean (value, s->show_max_min_avg);
      break;
    case PROP_INFO_POSITION:
      g_value_set_enum (value, s->info_position);
      break;
    case PROP_UNIT:
      g_value_set_enum (value, s->unit);
      break;
    case PROP_SHOW_SCENE:
      g_value_set_boolean (value, s->show_scene);
      break;
    case PROP_READINGS_INTERVAL:
      g_value_set_uint (value, s->readings_interval);
      break;
    case PROP_NORMAL_COLOR:
      g_value_set_uint (value, s->normal_color);
      break;
    case PROP_PRE_ALARM_COLOR:
      g_value_set_uint (value, s->pre_alarm_color);
      break;
    case PROP_ALARM_COLOR:
      g_value_set_uint (value, s->alarm_color);
      break;
    case PROP_SHOW_RULER:
      g_value_set_boolean (value, s->show_ruler);
      break;
    case PROP_CAMERA_NAME:
      g_value_set_string (value, s->camera_name);
      break;
    case PROP_SHOW_DATE:
      g_value_set_boolean (value, s->show_date);
      break;
    case PROP_DATE_FORMAT:
      g_value_set_enum (value, s->date_format);
      break;
    case PROP_SHOW_WEEK:
      g_value_set_boolean (value, s->show_week);
      break;
    case PROP_TIME_FORMAT:
      g_value_set_enum (value, s->time_format);
      break;
    case PROP_TIMEZONE:
      g_value_set_string (value, s->timezone);
      break;
    case PROP_CLOCK_OFFSET:
      g_value_set_int64 (value, s->clock_offset);
      break;
    case PROP_TEXT_LINES:
      g_value_set_string (value, s->text_lines);
      break;
    case PROP_FONT_SIZE:
      g_value_set_int (value, s->font_size);
      break;
    case PROP_FONT_COLOR:
      g_value_set_uint (value, s->font_color);
      break;
    case PROP_OSD_POSITION:
      g_value_set_enum (value, s->osd_position);
      break;
    case PROP_ALIGNMENT:
      g_value_set_enum (value, s->alignment);
      break;
    case PROP_PICTURE_FILE:
      g_value_set_string (value, s->picture_file);
      break;
    case PROP_PICTURE_X:
      g_value_set_int (value, s->picture_x);
      break;
    case PROP_PICTURE_Y:
      g_value_set_int (value, s->picture_y);
      break;
    case PROP_RENDERS:
      g_value_set_uint64 (value, self->renders);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_thermal_osd_finalize (GObject * object)
{
  GstThermalOsd *self = GST_THERMAL_OSD (object);

  osd_clear_pieces (self);
  osd_free_pango (self);
  osd_settings_clear (&self->cur);
  osd_settings_clear (&self->props);
  tc_blender_clear (&self->blender);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_thermal_osd_class_init (GstThermalOsdClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (gst_thermal_osd_debug, "thermalosd", 0,
      "Thermal on-screen display");

  gobject_class->set_property = gst_thermal_osd_set_property;
  gobject_class->get_property = gst_thermal_osd_get_property;
  gobject_class->finalize = gst_thermal_osd_finalize;

  g_object_class_install_property (gobject_class, PROP_SHOW_RULES,
      g_param_spec_boolean ("show-rules", "Show rules",
          "Draw the measurement rules and their readings",
          DEFAULT_PROP_SHOW_RULES, rw));
  g_object_class_install_property (gobject_class, PROP_SHOW_RULE_NAMES,
      g_param_spec_boolean ("show-rule-names", "Show rule names",
          "Put each rule's name before its readings",
          DEFAULT_PROP_SHOW_RULE_NAMES, rw));
  g_object_class_install_property (gobject_class, PROP_SHOW_MAX_MIN_AVG,
      g_param_spec_boolean ("show-max-min-avg", "Show max/min/avg",
          "Show maximum, minimum and average of lines and polygons (off: only "
          "their maximum)", DEFAULT_PROP_SHOW_MAX_MIN_AVG, rw));
  g_object_class_install_property (gobject_class, PROP_INFO_POSITION,
      g_param_spec_enum ("info-position", "Info position",
          "Where the readings go", GST_TYPE_THERMAL_OSD_INFO_POSITION,
          DEFAULT_PROP_INFO_POSITION, rw));
  g_object_class_install_property (gobject_class, PROP_UNIT,
      g_param_spec_enum ("unit", "Unit", "Temperature unit of the display",
          GST_TYPE_THERMAL_OSD_UNIT, DEFAULT_PROP_UNIT, rw));
  g_object_class_install_property (gobject_class, PROP_SHOW_SCENE,
      g_param_spec_boolean ("show-scene", "Show scene",
          "Mark the scene's maximum and minimum with their temperatures",
          DEFAULT_PROP_SHOW_SCENE, rw));
  g_object_class_install_property (gobject_class, PROP_READINGS_INTERVAL,
      g_param_spec_uint ("readings-interval", "Readings interval",
          "Refresh the displayed readings at most this often (milliseconds of "
          "stream time; 0 = every frame; alarm state changes show at once)",
          0, 60000, DEFAULT_PROP_READINGS_INTERVAL, rw));
  g_object_class_install_property (gobject_class, PROP_NORMAL_COLOR,
      g_param_spec_uint ("normal-color", "Normal color",
          "Colour of rules in the normal state (0xAARRGGBB)", 0, G_MAXUINT32,
          DEFAULT_PROP_NORMAL_COLOR, rw));
  g_object_class_install_property (gobject_class, PROP_PRE_ALARM_COLOR,
      g_param_spec_uint ("pre-alarm-color", "Pre-alarm color",
          "Colour of rules in pre-alarm (0xAARRGGBB)", 0, G_MAXUINT32,
          DEFAULT_PROP_PRE_ALARM_COLOR, rw));
  g_object_class_install_property (gobject_class, PROP_ALARM_COLOR,
      g_param_spec_uint ("alarm-color", "Alarm color",
          "Colour of rules in alarm (0xAARRGGBB)", 0, G_MAXUINT32,
          DEFAULT_PROP_ALARM_COLOR, rw));
  g_object_class_install_property (gobject_class, PROP_SHOW_RULER,
      g_param_spec_boolean ("show-ruler", "Show ruler",
          "Draw the colour-temperature ruler of the frame's palette",
          DEFAULT_PROP_SHOW_RULER, rw));
  g_object_class_install_property (gobject_class, PROP_CAMERA_NAME,
      g_param_spec_string ("camera-name", "Camera name",
          "Camera name to display (UTF-8; empty: none)",
          DEFAULT_PROP_CAMERA_NAME, rw));
  g_object_class_install_property (gobject_class, PROP_SHOW_DATE,
      g_param_spec_boolean ("show-date", "Show date",
          "Display the date and time", DEFAULT_PROP_SHOW_DATE, rw));
  g_object_class_install_property (gobject_class, PROP_DATE_FORMAT,
      g_param_spec_enum ("date-format", "Date format", "Date format",
          GST_TYPE_THERMAL_OSD_DATE_FORMAT, DEFAULT_PROP_DATE_FORMAT, rw));
  g_object_class_install_property (gobject_class, PROP_SHOW_WEEK,
      g_param_spec_boolean ("show-week", "Show week day",
          "Display the day of the week after the date", DEFAULT_PROP_SHOW_WEEK,
          rw));
  g_object_class_install_property (gobject_class, PROP_TIME_FORMAT,
      g_param_spec_enum ("time-format", "Time format", "Time format",
          GST_TYPE_THERMAL_OSD_TIME_FORMAT, DEFAULT_PROP_TIME_FORMAT, rw));
  g_object_class_install_property (gobject_class, PROP_TIMEZONE,
      g_param_spec_string ("timezone", "Time zone",
          "Time zone of the displayed time: an identifier such as "
          "\"Europe/Paris\", \"UTC\", \"+05:30\" or a POSIX TZ string with a DST rule "
          "(empty: local time)",
          DEFAULT_PROP_TIMEZONE, rw));
  g_object_class_install_property (gobject_class, PROP_CLOCK_OFFSET,
      g_param_spec_int64 ("clock-offset", "Clock offset",
          "Microseconds added to the system's real time for the displayed date "
          "(the application's own clock: its offset from the system clock)",
          -G_GINT64_CONSTANT (3155760000000000), G_GINT64_CONSTANT (3155760000000000), 0,
          rw));
  g_object_class_install_property (gobject_class, PROP_TEXT_LINES,
      g_param_spec_string ("text-lines", "Text lines",
          "Text to display under the name and date (UTF-8; lines separated by "
          "newlines or by the two characters \\n; at most 16 lines)",
          DEFAULT_PROP_TEXT_LINES, rw));
  g_object_class_install_property (gobject_class, PROP_FONT_SIZE,
      g_param_spec_int ("font-size", "Font size", "Font size in pixels",
          6, 256, DEFAULT_PROP_FONT_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_FONT_COLOR,
      g_param_spec_uint ("font-color", "Font color",
          "Colour of the name, date, text and ruler labels (0xAARRGGBB)", 0,
          G_MAXUINT32, DEFAULT_PROP_FONT_COLOR, rw));
  g_object_class_install_property (gobject_class, PROP_OSD_POSITION,
      g_param_spec_enum ("osd-position", "OSD position",
          "Corner of the camera name, date and text block",
          GST_TYPE_THERMAL_OSD_POSITION, DEFAULT_PROP_OSD_POSITION, rw));
  g_object_class_install_property (gobject_class, PROP_ALIGNMENT,
      g_param_spec_enum ("alignment", "Alignment",
          "Alignment of the lines of the camera name, date and text block",
          GST_TYPE_THERMAL_OSD_ALIGNMENT, DEFAULT_PROP_ALIGNMENT, rw));
  g_object_class_install_property (gobject_class, PROP_PICTURE_FILE,
      g_param_spec_string ("picture-file", "Picture file",
          "24-bit uncompressed BMP of at most 128x128 pixels to overlay "
          "(empty: none); any other file is refused with a warning and the "
          "previous picture stays", DEFAULT_PROP_PICTURE_FILE, rw));
  g_object_class_install_property (gobject_class, PROP_PICTURE_X,
      g_param_spec_int ("picture-x", "Picture x",
          "Left edge of the picture, pixels (kept inside the frame)",
          0, G_MAXINT, DEFAULT_PROP_PICTURE_X, rw));
  g_object_class_install_property (gobject_class, PROP_PICTURE_Y,
      g_param_spec_int ("picture-y", "Picture y",
          "Top edge of the picture, pixels (kept inside the frame)",
          0, G_MAXINT, DEFAULT_PROP_PICTURE_Y, rw));
  g_object_class_install_property (gobject_class, PROP_RENDERS,
      g_param_spec_uint64 ("renders", "Renders",
          "Diagnostics: how many overlay pieces (shapes, texts, ruler) were "
          "drawn (a number, no unit); it stays still while nothing on display changes",
          0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_set_static_metadata (element_class,
      "Thermal on-screen display", "Filter/Editor/Video",
      "Draws measurement rules with their readings, the colour-temperature "
      "ruler, camera name, date, text and a picture over thermal video",
      "thermocam developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_thermal_osd_transform_caps);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_thermal_osd_start);
  trans_class->decide_allocation =
      GST_DEBUG_FUNCPTR (gst_thermal_osd_decide_allocation);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_thermal_osd_stop);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_thermal_osd_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_thermal_osd_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_OSD_INFO_POSITION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_OSD_UNIT, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_OSD_DATE_FORMAT, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_OSD_TIME_FORMAT, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_OSD_POSITION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_THERMAL_OSD_ALIGNMENT, 0);
}

static void
gst_thermal_osd_init (GstThermalOsd * self)
{
  OsdSettings *s = &self->props;

  self->shown_range_min = -G_MAXDOUBLE;
  self->shown_range_max = G_MAXDOUBLE;
  s->show_rules = DEFAULT_PROP_SHOW_RULES;
  s->show_rule_names = DEFAULT_PROP_SHOW_RULE_NAMES;
  s->show_max_min_avg = DEFAULT_PROP_SHOW_MAX_MIN_AVG;
  s->info_position = DEFAULT_PROP_INFO_POSITION;
  s->unit = DEFAULT_PROP_UNIT;
  s->show_scene = DEFAULT_PROP_SHOW_SCENE;
  s->readings_interval = DEFAULT_PROP_READINGS_INTERVAL;
  s->normal_color = DEFAULT_PROP_NORMAL_COLOR;
  s->pre_alarm_color = DEFAULT_PROP_PRE_ALARM_COLOR;
  s->alarm_color = DEFAULT_PROP_ALARM_COLOR;
  s->show_ruler = DEFAULT_PROP_SHOW_RULER;
  s->camera_name = g_strdup (DEFAULT_PROP_CAMERA_NAME);
  s->show_date = DEFAULT_PROP_SHOW_DATE;
  s->date_format = DEFAULT_PROP_DATE_FORMAT;
  s->show_week = DEFAULT_PROP_SHOW_WEEK;
  s->time_format = DEFAULT_PROP_TIME_FORMAT;
  s->timezone = g_strdup (DEFAULT_PROP_TIMEZONE);
  s->text_lines = g_strdup (DEFAULT_PROP_TEXT_LINES);
  s->font_size = DEFAULT_PROP_FONT_SIZE;
  s->font_color = DEFAULT_PROP_FONT_COLOR;
  s->osd_position = DEFAULT_PROP_OSD_POSITION;
  s->alignment = DEFAULT_PROP_ALIGNMENT;
  s->picture_file = g_strdup (DEFAULT_PROP_PICTURE_FILE);
  s->picture_x = DEFAULT_PROP_PICTURE_X;
  s->picture_y = DEFAULT_PROP_PICTURE_Y;
  self->date_second = -1;

  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
