/* thermocam: measure, render and inspect radiometric files; take a snapshot
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   thermocam measure FILE [--point X,Y]... [--line X1,Y1,X2,Y2]...
 *                          [--area X1,Y1,X2,Y2,X3,Y3,...]... [--emissivity E]
 *                          [--distance D] [--reflected T] [--json]
 *   thermocam render FILE --palette NAME [--range MIN,MAX] -o OUT.png
 *   thermocam info FILE [--json]
 *   thermocam snapshot [--scene NAME] [--palette NAME] -o OUT.jpg
 *   thermocam export FILE -o OUT.tiff
 *   thermocam package --tree DIR --version V --key KEY.pem -o OUT  (thermocam-package.c)
 *
 * FILE is a FLIR-format radiometric JPEG or a bare FFF file.  Coordinates
 * are pixels; temperatures degrees Celsius.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

#include "tc-dpc.h"
#include "tc-flir.h"
#include "tc-nuc.h"
#include "tc-palette.h"
#include "tc-radiometry.h"
#include "tc-rules.h"
#include "tc-sim.h"
#include "tcd-json.h"

#define THERMOCAM_ERROR (g_quark_from_static_string ("thermocam-error"))

/* the image in degrees C, pixel by pixel through the chain */
typedef struct {
  gint width, height;
  gdouble *c;
  TcCalibration cal;
  TcObjectParams params;
} Thermogram;

static gboolean
load (const gchar *path, const TcObjectParams *overrides, const gboolean *has,
    Thermogram *t, TcFlirImage *img, GError **error)
{
  TcChain chain;
  gsize i, n;
  const gchar *bad;

  if (!tc_flir_read_file (path, img, error))
    return FALSE;
  t->width = img->width;
  t->height = img->height;
  t->cal = img->cal;
  t->params = img->params;
  if (has[0])
    t->params.emissivity = overrides->emissivity;
  if (has[1])
    t->params.distance = overrides->distance;
  if (has[2])
    t->params.reflected_temp = overrides->reflected_temp;
  if ((bad = tc_object_params_check (&t->params))) {
    g_set_error (error, THERMOCAM_ERROR, 1, "%s is out of range", bad);
    return FALSE;
  }
  tc_chain_init (&chain, &t->cal, &t->params);
  n = (gsize) t->width * t->height;
  t->c = g_new (gdouble, n);
  for (i = 0; i < n; i++)
    t->c[i] = tc_chain_raw_to_kelvin (&chain, img->raw[i]) - TC_KELVIN_OFFSET;
  return TRUE;
}

typedef struct {
  const gchar *type;
  gdouble min, max, mean;
  gint min_at[2], max_at[2];
  gsize count;
} Reading;

/* over the pixels (NaN: outside the chain's domain) of a span list, or all */
static void
read_pixels (const Thermogram *t, const TcSpanList *spans, Reading *r)
{
  gdouble sum = 0;
  gsize i, k;

  r->min = INFINITY;
  r->max = -INFINITY;
  r->count = 0;
  for (i = 0; i < (spans ? spans->n : (gsize) t->height); i++) {
    gint y = spans ? spans->spans[i].y : (gint) i;
    gint x0 = spans ? spans->spans[i].x : 0;
    gint len = spans ? spans->spans[i].len : t->width;

    for (k = 0; k < (gsize) len; k++) {
      gdouble v = t->c[(gsize) y * t->width + x0 + k];

      if (isnan (v))
        continue;
      if (v < r->min) {
        r->min = v;
        r->min_at[0] = x0 + k;
        r->min_at[1] = y;
      }
      if (v > r->max) {
        r->max = v;
        r->max_at[0] = x0 + k;
        r->max_at[1] = y;
      }
      sum += v;
      r->count++;
    }
  }
  r->mean = r->count ? sum / r->count : NAN;
}

/* "X,Y,..." pixel coordinates into normalized points (pixel centres) */
static gboolean
parse_points (const gchar *arg, gint min_points, gint max_points, gboolean even,
    gint width, gint height, gdouble (*pts)[2], guint *n, GError **error)
{
  gchar **v = g_strsplit (arg, ",", -1);
  guint k, count = g_strv_length (v);
  gboolean ok = count % 2 == 0 && (gint) count / 2 >= min_points &&
      (gint) count / 2 <= max_points && (!even || count == (guint) min_points * 2);

  for (k = 0; ok && k < count; k++) {
    gchar *end;
    gdouble c = g_ascii_strtod (v[k], &end);
    gdouble size = k % 2 ? height : width;

    if (end == v[k] || *end || !(c >= 0 && c <= size - 1)) {
      g_set_error (error, THERMOCAM_ERROR, 1, "\"%s\": %s is not a pixel of the "
          "%dx%d image", arg, v[k], width, height);
      g_strfreev (v);
      return FALSE;
    }
    pts[k / 2][k % 2] = (c + 0.5) / size;
  }
  g_strfreev (v);
  if (!ok) {
    g_set_error (error, THERMOCAM_ERROR, 1, "\"%s\": expected %s", arg,
        min_points == 1 ? "X,Y" : (min_points == 2 ? "X1,Y1,X2,Y2" :
            "at least three X,Y pairs (at most 16)"));
    return FALSE;
  }
  *n = count / 2;
  return TRUE;
}

static void
add_point (JsonBuilder *b, const gchar *name, const gint at[2])
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  json_builder_add_int_value (b, at[0]);
  json_builder_add_int_value (b, at[1]);
  json_builder_end_array (b);
}

static void
add_number (JsonBuilder *b, const gchar *name, gdouble v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, round (v * 10000.0) / 10000.0);
  else
    json_builder_add_null_value (b);
}

static void
print_json (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  JsonNode *root = json_builder_get_root (b);
  g_autofree gchar *text = NULL;

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  {
    /* numbers in their shortest form, not json-glib's 17 digits */
    g_autofree gchar *tidy = tcd_json_tidy_numbers (text);
    g_print ("%s\n", tidy);
  }
  json_node_unref (root);
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i */
static gboolean
option_value (gint argc, gchar **argv, gint *i, const gchar *name,
    const gchar **value)
{
  gsize len = strlen (name);

  if (strncmp (argv[*i], name, len) != 0)
    return FALSE;
  if (argv[*i][len] == '=') {
    *value = argv[*i] + len + 1;
    return TRUE;
  }
  if (argv[*i][len] != '\0')
    return FALSE;
  if (*i + 1 >= argc) {
    *value = NULL;              /* missing: the caller says so */
    return TRUE;
  }
  *value = argv[++*i];
  return TRUE;
}

static gboolean
parse_double (const gchar *s, gdouble *out)
{
  gchar *end;

  if (!s)
    return FALSE;
  *out = g_ascii_strtod (s, &end);
  return end != s && *end == '\0' && isfinite (*out);
}

typedef struct {
  gint kind;                    /* 0 point, 1 line, 2 area */
  const gchar *arg;
} RuleArg;

static gint
cmd_measure (gint argc, gchar **argv)
{
  static const struct { const gchar *opt, *type; TcRuleType rt; gint min, max; gboolean even; } kinds[] = {
    {"--point", "point", TC_RULE_POINT, 1, 1, TRUE},
    {"--line", "line", TC_RULE_LINE, 2, 2, TRUE},
    {"--area", "area", TC_RULE_POLYGON, 3, 16, FALSE},
  };
  const gchar *file = NULL, *v;
  gdouble num[3] = { NAN, NAN, NAN };
  static const gchar *num_opts[3] = { "--emissivity", "--distance", "--reflected" };
  gboolean json = FALSE, has[3];
  GArray *args = g_array_new (FALSE, TRUE, sizeof (RuleArg));
  GArray *rules = g_array_new (FALSE, TRUE, sizeof (Reading));
  g_autoptr (GError) err = NULL;
  TcFlirImage img = { 0 };
  Thermogram t = { 0 };
  TcObjectParams ov;
  Reading whole;
  gint ret = 2, i, k;
  guint r;

  for (i = 1; i < argc; i++) {
    gboolean matched = FALSE;

    for (k = 0; k < 3 && !matched; k++) {
      if (option_value (argc, argv, &i, kinds[k].opt, &v)) {
        RuleArg ra = { k, v };

        if (!v) {
          g_printerr ("thermocam measure: %s needs a value\n", kinds[k].opt);
          goto out;
        }
        g_array_append_val (args, ra);
        matched = TRUE;
      }
    }
    for (k = 0; k < 3 && !matched; k++) {
      if (option_value (argc, argv, &i, num_opts[k], &v)) {
        if (!parse_double (v, &num[k])) {
          g_printerr ("thermocam measure: %s needs a number\n", num_opts[k]);
          goto out;
        }
        matched = TRUE;
      }
    }
    if (matched)
      continue;
    if (g_str_equal (argv[i], "--json")) {
      json = TRUE;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      g_printerr ("thermocam measure: unknown option %s\n", argv[i]);
      goto out;
    } else if (file) {
      g_printerr ("thermocam measure: one FILE only\n");
      goto out;
    } else {
      file = argv[i];
    }
  }
  if (!file) {
    g_printerr ("usage: thermocam measure FILE [--point X,Y]... [--line X1,Y1,X2,Y2]... "
        "[--area X1,Y1,X2,Y2,X3,Y3,...]... [--emissivity E] [--distance D] "
        "[--reflected T] [--json]\n");
    goto out;
  }
  ret = 1;
  ov.emissivity = num[0];
  ov.distance = num[1];
  ov.reflected_temp = num[2];
  for (k = 0; k < 3; k++)
    has[k] = !isnan (num[k]);
  if (!load (file, &ov, has, &t, &img, &err)) {
    g_printerr ("thermocam measure: %s: %s\n", file, err->message);
    goto out;
  }
  read_pixels (&t, NULL, &whole);
  for (r = 0; r < args->len; r++) {
    RuleArg *ra = &g_array_index (args, RuleArg, r);
    gdouble pts[TC_RULE_MAX_POINTS][2];
    guint n;
    TcSpanList spans = { 0 };
    Reading rd;

    if (!parse_points (ra->arg, kinds[ra->kind].min, kinds[ra->kind].max,
            kinds[ra->kind].even, t.width, t.height, pts, &n, &err)) {
      g_printerr ("thermocam measure: %s %s\n", kinds[ra->kind].opt, err->message);
      ret = 2;
      goto out;
    }
    tc_rule_rasterize (kinds[ra->kind].rt, (const double (*)[2]) pts, n, t.width,
        t.height, &spans);
    read_pixels (&t, &spans, &rd);
    rd.type = kinds[ra->kind].type;
    tc_span_list_clear (&spans);
    g_array_append_val (rules, rd);
  }

  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "width");
    json_builder_add_int_value (b, t.width);
    json_builder_set_member_name (b, "height");
    json_builder_add_int_value (b, t.height);
    add_number (b, "min", whole.min);
    add_number (b, "max", whole.max);
    add_number (b, "mean", whole.mean);
    add_point (b, "min_at", whole.min_at);
    add_point (b, "max_at", whole.max_at);
    json_builder_set_member_name (b, "rules");
    json_builder_begin_array (b);
    for (r = 0; r < rules->len; r++) {
      Reading *rd = &g_array_index (rules, Reading, r);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, rd->type);
      add_number (b, "min", rd->min);
      add_number (b, "max", rd->max);
      add_number (b, "mean", rd->mean);
      add_point (b, "min_at", rd->min_at);
      add_point (b, "max_at", rd->max_at);
      if (g_str_equal (rd->type, "point"))
        add_number (b, "value", rd->mean);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
    print_json (b);
  } else {
    g_print ("%s: %dx%d\n", file, t.width, t.height);
    g_print ("min  %8.2f C at %d,%d\nmax  %8.2f C at %d,%d\nmean %8.2f C\n", whole.min,
        whole.min_at[0], whole.min_at[1], whole.max, whole.max_at[0], whole.max_at[1],
        whole.mean);
    for (r = 0; r < rules->len; r++) {
      Reading *rd = &g_array_index (rules, Reading, r);

      if (g_str_equal (rd->type, "point"))
        g_print ("%s %u: %.2f C\n", rd->type, r + 1, rd->mean);
      else
        g_print ("%s %u: min %.2f C, max %.2f C, mean %.2f C\n", rd->type, r + 1,
            rd->min, rd->max, rd->mean);
    }
  }
  ret = 0;

out:
  g_array_free (args, TRUE);
  g_array_free (rules, TRUE);
  g_free (t.c);
  tc_flir_image_clear (&img);
  return ret;
}

static gboolean
write_png (const gchar *path, const guint8 *rgb, gint width, gint height,
    GError **error)
{
  FILE *f = g_fopen (path, "wb");
  png_structp png;
  png_infop info;
  gint y;

  if (!f) {
    g_set_error (error, THERMOCAM_ERROR, 1, "cannot create %s: %s", path,
        g_strerror (errno));
    return FALSE;
  }
  png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  info = png ? png_create_info_struct (png) : NULL;
  if (!png || !info || setjmp (png_jmpbuf (png))) {
    png_destroy_write_struct (&png, info ? &info : NULL);
    fclose (f);
    g_set_error (error, THERMOCAM_ERROR, 1, "cannot write %s", path);
    return FALSE;
  }
  png_init_io (png, f);
  png_set_IHDR (png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
      PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  for (y = 0; y < height; y++)
    png_write_row (png, rgb + (gsize) y * width * 3);
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  if (fclose (f) != 0) {
    g_set_error (error, THERMOCAM_ERROR, 1, "cannot write %s: %s", path,
        g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

/* temperatures (C) into an RGB picture with a palette; @range NULL = auto */
static guint8 *
colorize (const gdouble *c, gint width, gint height, TcPaletteId palette,
    const gdouble *range)
{
  gsize i, n = (gsize) width * height;
  gdouble hottest = -INFINITY, scale;
  guint16 *counts = g_new (guint16, n);
  guint8 *rgb = g_malloc (n * 3);
  TcColorizer *col = tc_colorizer_new ();
  TcPlanes planes = { {rgb}, {(gsize) width * 3} };

  for (i = 0; i < n; i++)
    if (!isnan (c[i]))
      hottest = MAX (hottest, c[i]);
  scale = tc_scale_for_range (range ? MAX (range[1], hottest) : hottest);
  for (i = 0; i < n; i++) {
    gdouble v = isnan (c[i]) ? 0 : (c[i] + TC_KELVIN_OFFSET) / scale;

    counts[i] = (guint16) CLAMP (lrint (v), 0, 65535);
  }
  tc_colorizer_configure (col, width, height, TC_PIXFMT_RGB, TC_YUV_BT601);
  tc_colorizer_set_palette (col, palette);
  if (range) {
    tc_colorizer_set_agc (col, TC_AGC_LINEAR, 1.0);
    tc_colorizer_set_range (col, FALSE,
        (guint16) CLAMP (lrint ((range[0] + TC_KELVIN_OFFSET) / scale), 0, 65535),
        (guint16) CLAMP (lrint ((range[1] + TC_KELVIN_OFFSET) / scale), 0, 65535), 0);
  } else {
    tc_colorizer_set_agc (col, TC_AGC_PLATEAU, 0.02);
    tc_colorizer_set_range (col, TRUE, 0, 0, 0.0);
  }
  tc_colorizer_process (col, (const guint8 *) counts, (gsize) width * 2, &planes);
  tc_colorizer_free (col);
  g_free (counts);
  return rgb;
}

static gint
palette_arg (const gchar *name)
{
  gint p = tc_palette_from_nick (name);

  if (p < 0) {
    gint i;

    g_printerr ("thermocam: unknown palette \"%s\"; one of:", name);
    for (i = 0; i < TC_PALETTE_N; i++)
      g_printerr (" %s", tc_palette_nick (i));
    g_printerr ("\n");
  }
  return p;
}

static gint
cmd_render (gint argc, gchar **argv)
{
  const gchar *file = NULL, *out = NULL, *palette_name = "ironbow", *range_arg = NULL;
  const gchar *v;
  gdouble range[2];
  gboolean has[3] = { FALSE, FALSE, FALSE };
  g_autoptr (GError) err = NULL;
  TcFlirImage img = { 0 };
  Thermogram t = { 0 };
  TcObjectParams ov = { 0 };
  guint8 *rgb = NULL;
  gint palette, i, ret = 2;

  for (i = 1; i < argc; i++) {
    if (option_value (argc, argv, &i, "--palette", &v))
      palette_name = v;
    else if (option_value (argc, argv, &i, "--range", &v))
      range_arg = v ? v : "";
    else if (option_value (argc, argv, &i, "-o", &v) ||
        option_value (argc, argv, &i, "--output", &v))
      out = v;
    else if (argv[i][0] == '-' && argv[i][1]) {
      g_printerr ("thermocam render: unknown option %s\n", argv[i]);
      return 2;
    } else if (file) {
      g_printerr ("thermocam render: one FILE only\n");
      return 2;
    } else
      file = argv[i];
  }
  if (!file || !out || !palette_name) {
    g_printerr ("usage: thermocam render FILE --palette NAME [--range MIN,MAX] -o OUT.png\n");
    return 2;
  }
  if ((palette = palette_arg (palette_name)) < 0)
    return 2;
  if (range_arg) {
    gchar **mm = g_strsplit (range_arg, ",", -1);
    gboolean ok = g_strv_length (mm) == 2 && parse_double (mm[0], &range[0]) &&
        parse_double (mm[1], &range[1]) && range[1] > range[0];

    g_strfreev (mm);
    if (!ok) {
      g_printerr ("thermocam render: --range MIN,MAX in degrees C, MIN below MAX\n");
      return 2;
    }
  }
  ret = 1;
  if (!load (file, &ov, has, &t, &img, &err)) {
    g_printerr ("thermocam render: %s: %s\n", file, err->message);
    goto out;
  }
  rgb = colorize (t.c, t.width, t.height, palette, range_arg ? range : NULL);
  if (!write_png (out, rgb, t.width, t.height, &err)) {
    g_printerr ("thermocam render: %s\n", err->message);
    goto out;
  }
  ret = 0;
out:
  g_free (rgb);
  g_free (t.c);
  tc_flir_image_clear (&img);
  return ret;
}

/* the temperature frame as a 16-bit TIFF in centikelvin, for analysis tools */
static gint
cmd_export (gint argc, gchar **argv)
{
  const gchar *file = NULL, *out = NULL, *v;
  gboolean has[3] = { FALSE, FALSE, FALSE };
  g_autoptr (GError) err = NULL;
  TcFlirImage img = { 0 };
  Thermogram t = { 0 };
  TcObjectParams ov = { 0 };
  guint16 *ck = NULL;
  gint i, ret = 1;
  gsize k, n;

  for (i = 1; i < argc; i++) {
    if (option_value (argc, argv, &i, "-o", &v) ||
        option_value (argc, argv, &i, "--output", &v))
      out = v;
    else if (argv[i][0] == '-' && argv[i][1]) {
      g_printerr ("thermocam export: unknown option %s\n", argv[i]);
      return 2;
    } else if (file) {
      g_printerr ("thermocam export: one FILE only\n");
      return 2;
    } else
      file = argv[i];
  }
  if (!file || !out) {
    g_printerr ("usage: thermocam export FILE -o OUT.tiff\n");
    return 2;
  }
  if (!load (file, &ov, has, &t, &img, &err)) {
    g_printerr ("thermocam export: %s: %s\n", file, err->message);
    goto out;
  }
  n = (gsize) t.width * t.height;
  ck = g_new (guint16, n);
  for (k = 0; k < n; k++) {
    gdouble c = isnan (t.c[k]) ? 0 : (t.c[k] + TC_KELVIN_OFFSET) * 100.0;

    ck[k] = (guint16) CLAMP (lrint (c), 0, 65535);
  }
  if (!tc_tiff_write_centikelvin (out, ck, t.width, t.height, &err)) {
    g_printerr ("thermocam export: %s\n", err->message);
    goto out;
  }
  ret = 0;
out:
  g_free (ck);
  g_free (t.c);
  tc_flir_image_clear (&img);
  return ret;
}

static gint
cmd_info (gint argc, gchar **argv)
{
  const gchar *file = NULL;
  gboolean json = FALSE;
  g_autoptr (GError) err = NULL;
  TcFlirImage img = { 0 };
  gint i;
  const struct { const gchar *name; gdouble v; } f[] = {
    {"PlanckR1", 0}, {"PlanckR2", 0}, {"PlanckB", 0}, {"PlanckF", 0}, {"PlanckO", 0},
    {"AtmosphericTransAlpha1", 0}, {"AtmosphericTransAlpha2", 0},
    {"AtmosphericTransBeta1", 0}, {"AtmosphericTransBeta2", 0},
    {"AtmosphericTransX", 0}, {"CameraTemperatureRangeMin", 0},
    {"CameraTemperatureRangeMax", 0}, {"Emissivity", 0}, {"ObjectDistance", 0},
    {"ReflectedApparentTemperature", 0}, {"AtmosphericTemperature", 0},
    {"RelativeHumidity", 0}, {"IRWindowTemperature", 0}, {"IRWindowTransmission", 0},
  };
  gdouble vals[G_N_ELEMENTS (f)];

  for (i = 1; i < argc; i++) {
    if (g_str_equal (argv[i], "--json"))
      json = TRUE;
    else if (argv[i][0] == '-' && argv[i][1]) {
      g_printerr ("thermocam info: unknown option %s\n", argv[i]);
      return 2;
    } else if (file) {
      g_printerr ("thermocam info: one FILE only\n");
      return 2;
    } else
      file = argv[i];
  }
  if (!file) {
    g_printerr ("usage: thermocam info FILE [--json]\n");
    return 2;
  }
  if (!tc_flir_read_file (file, &img, &err)) {
    g_printerr ("thermocam info: %s: %s\n", file, err->message);
    return 1;
  }
  {
    const TcCalibration *c = &img.cal;
    const TcObjectParams *p = &img.params;
    const gdouble v[] = { c->r1, c->r2, c->b, c->f, c->o, c->ata1, c->ata2, c->atb1,
      c->atb2, c->atx, c->range_min, c->range_max, p->emissivity, p->distance,
      p->reflected_temp, p->atmospheric_temp, p->relative_humidity, p->window_temp,
      p->window_transmission
    };
    memcpy (vals, v, sizeof (vals));
  }
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "Make");
    json_builder_add_string_value (b, img.make);
    json_builder_set_member_name (b, "Model");
    json_builder_add_string_value (b, img.model);
    json_builder_set_member_name (b, "SerialNumber");
    json_builder_add_string_value (b, img.serial);
    json_builder_set_member_name (b, "RawThermalImageWidth");
    json_builder_add_int_value (b, img.width);
    json_builder_set_member_name (b, "RawThermalImageHeight");
    json_builder_add_int_value (b, img.height);
    json_builder_set_member_name (b, "RawThermalImageType");
    json_builder_add_string_value (b, img.raw_format);
    for (i = 0; i < (gint) G_N_ELEMENTS (f); i++) {
      json_builder_set_member_name (b, f[i].name);
      json_builder_add_double_value (b, vals[i]);
    }
    json_builder_end_object (b);
    print_json (b);
  } else {
    g_print ("%s\n  camera        %s %s (serial %s)\n  raw image     %dx%d, %s%s\n",
        file, img.make, img.model, img.serial, img.width, img.height, img.raw_format,
        img.raw_byteswapped ? " (big-endian)" : "");
    for (i = 0; i < (gint) G_N_ELEMENTS (f); i++)
      g_print ("  %-30s %.10g\n", f[i].name, vals[i]);
  }
  tc_flir_image_clear (&img);
  return 0;
}

/* A frame of the simulated camera, corrected as thermalnuc does (factory
 * tables, a flat-field correction with the shutter that also finds the
 * defects, defective pixel correction) */
static guint16 *
simulate (TcSceneKind scene, gint width, gint height, TcSimConfig *cfg_out)
{
  TcSimConfig cfg;
  TcSim *sim;
  gsize n = (gsize) width * height;
  guint16 *frame = g_new (guint16, n);
  guint32 *acc = g_new0 (guint32, n);
  guint8 *bad = g_new0 (guint8, n);
  float *gain = g_new (float, n), *offset = g_new (float, n);
  const guint32 *listed;
  gsize n_listed, i;
  TcDpcMap map;
  gint f;

  tc_sim_config_init_default (&cfg);
  cfg.width = width;
  cfg.height = height;
  cfg.scene = scene;
  sim = tc_sim_new (&cfg);
  memcpy (gain, tc_sim_factory_gain (sim), n * sizeof (float));
  memcpy (offset, tc_sim_factory_offset (sim), n * sizeof (float));
  listed = tc_sim_factory_bad_pixels (sim, &n_listed);
  for (i = 0; i < n_listed; i++)
    bad[listed[i]] = 1;
  for (f = 0; f < 4; f++) {
    tc_sim_render (sim, f, f / 25.0, TRUE, (guint8 *) frame, (gsize) width * 2);
    tc_nuc_accumulate (acc, (guint8 *) frame, (gsize) width * 2, width, height);
  }
  tc_dpc_detect (acc, 4, gain, offset, width, height, 400.0, bad);
  tc_nuc_flat_field (offset, gain, acc, 4, tc_planck_counts (&cfg.cal,
          tc_sim_fpa_temperature (sim, 0.2) + TC_KELVIN_OFFSET), bad, width, height);
  tc_sim_render (sim, 5, 0.2, FALSE, (guint8 *) frame, (gsize) width * 2);
  tc_nuc_apply (gain, offset, (guint8 *) frame, (gsize) width * 2, (guint8 *) frame,
      (gsize) width * 2, width, height);
  tc_dpc_map_init (&map);
  tc_dpc_map_build (&map, bad, width, height);
  tc_dpc_apply (&map, (guint8 *) frame, (gsize) width * 2);
  tc_dpc_map_clear (&map);
  *cfg_out = *tc_sim_get_config (sim);
  tc_sim_free (sim);
  g_free (acc);
  g_free (bad);
  g_free (gain);
  g_free (offset);
  return frame;
}

static gint
cmd_snapshot (gint argc, gchar **argv)
{
  const gchar *out = NULL, *palette_name = "ironbow", *scene_name = "default", *v;
  g_autoptr (GError) err = NULL;
  TcFlirImage img = { 0 };
  TcSimConfig cfg;
  TcSceneKind scene;
  TcChain chain;
  GByteArray *jpeg = NULL;
  gdouble *c;
  guint8 *rgb;
  gint palette, i, w = 640, h = 512, ret = 1;
  gsize k;

  for (i = 1; i < argc; i++) {
    if (option_value (argc, argv, &i, "--palette", &v))
      palette_name = v;
    else if (option_value (argc, argv, &i, "--scene", &v))
      scene_name = v;
    else if (option_value (argc, argv, &i, "-o", &v) ||
        option_value (argc, argv, &i, "--output", &v))
      out = v;
    else {
      g_printerr ("thermocam snapshot: unexpected %s\n", argv[i]);
      return 2;
    }
  }
  if (!out || !palette_name || !scene_name) {
    g_printerr ("usage: thermocam snapshot [--scene default|blackbody] [--palette NAME] "
        "-o OUT.jpg\n");
    return 2;
  }
  if ((palette = palette_arg (palette_name)) < 0)
    return 2;
  if (g_str_equal (scene_name, "default"))
    scene = TC_SCENE_DEFAULT;
  else if (g_str_equal (scene_name, "blackbody"))
    scene = TC_SCENE_BLACKBODY;
  else {
    g_printerr ("thermocam snapshot: unknown scene \"%s\" (default, blackbody)\n",
        scene_name);
    return 2;
  }
  img.raw = simulate (scene, w, h, &cfg);
  img.width = w;
  img.height = h;
  img.cal = cfg.cal;
  img.params = cfg.obj;
  g_strlcpy (img.make, "thermocam", sizeof (img.make));
  g_strlcpy (img.model, "thermocam simulator", sizeof (img.model));
  tc_chain_init (&chain, &img.cal, &img.params);
  c = g_new (gdouble, (gsize) w * h);
  for (k = 0; k < (gsize) w * h; k++)
    c[k] = tc_chain_raw_to_kelvin (&chain, img.raw[k]) - TC_KELVIN_OFFSET;
  rgb = colorize (c, w, h, palette, NULL);
  jpeg = g_byte_array_new ();
  if (!tc_flir_write_jpeg (&img, rgb, w, h, 90, jpeg, &err) ||
      !g_file_set_contents (out, (const gchar *) jpeg->data, jpeg->len, &err)) {
    g_printerr ("thermocam snapshot: %s\n", err->message);
    goto done;
  }
  g_print ("%s\n", out);
  ret = 0;
done:
  g_byte_array_unref (jpeg);
  g_free (rgb);
  g_free (c);
  tc_flir_image_clear (&img);
  return ret;
}

gint cmd_package (gint argc, gchar **argv);

int
main (int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "measure"))
    return cmd_measure (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "render"))
    return cmd_render (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "info"))
    return cmd_info (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "snapshot"))
    return cmd_snapshot (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "export"))
    return cmd_export (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "package"))
    return cmd_package (argc - 1, argv + 1);
  g_printerr ("usage: thermocam measure|render|info|snapshot|export|package ...\n"
      "  thermocam measure FILE [--point X,Y]... [--line X1,Y1,X2,Y2]...\n"
      "                         [--area X1,Y1,X2,Y2,X3,Y3,...]... [--emissivity E]\n"
      "                         [--distance D] [--reflected T] [--json]\n"
      "  thermocam render FILE --palette NAME [--range MIN,MAX] -o OUT.png\n"
      "  thermocam info FILE [--json]\n"
      "  thermocam snapshot [--scene default|blackbody] [--palette NAME] -o OUT.jpg\n"
      "  thermocam export FILE -o OUT.tiff   (temperatures, 16-bit, centikelvin)\n"
      "  thermocam package --tree DIR --version V --key KEY.pem -o OUT   (an upgrade)\n");
  return 2;
}
