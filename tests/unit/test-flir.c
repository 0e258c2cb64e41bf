/* thermocam: unit tests of the FLIR (FFF) reader against exiftool
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every real sample in $THERMOCAM_SAMPLES is read and compared with what
 * exiftool (an independent reader) says of it: sizes, calibration, object
 * parameters, every raw pixel and the temperatures an independent raw2temp
 * gives.  Then every sample is truncated and corrupted many times: the reader
 * must answer with an image or a GError, never crash.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include <unistd.h>

#include "tc-flir.h"
#include "tc-radiometry.h"

typedef struct {
  const char *file;
  const char *format;           /* what our reader should report */
  gboolean byteswapped;
} Sample;

/* PNG raw data is byte-swapped in every FLIR PNG here but IR_6357.jpg's
 * (README of the samples); exiftool's "TIFF" is raw 16-bit data to which it
 * added a TIFF header. */
static const Sample samples[] = {
  { "DJI_XT2.jpg", "raw", FALSE },
  { "FLIR.jpg", "png", TRUE },
  { "FLIR_AX8.jpg", "png", TRUE },
  { "FLIR_E40.jpg", "raw", FALSE },
  { "FLIR_T640.jpg", "png", TRUE },
  { "IR_2412.jpg", "raw", FALSE },
  { "IR_6357.jpg", "png", FALSE },
  { "frame_000000.fff", "raw", FALSE },
};

static const char *
samples_dir (void)
{
  const char *d = g_getenv ("THERMOCAM_SAMPLES");

  return d != NULL ? d : "/work/shared/samples";
}

static gchar *
sample_path (const char *file)
{
  return g_build_filename (samples_dir (), file, NULL);
}

static gboolean
have_exiftool (void)
{
  gchar *p = g_find_program_in_path ("exiftool");
  gboolean ok = p != NULL;

  g_free (p);
  return ok;
}

/* Binary-safe capture of exiftool's standard output through a pipe. */
static GBytes *
capture_exiftool (const char *const *args)
{
  GSubprocess *proc;
  GBytes *out = NULL;
  GError *error = NULL;

  proc = g_subprocess_newv (args, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate (proc, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (proc));
  g_object_unref (proc);
  return out;
}

static JsonObject *
exiftool_json (const char *path, JsonParser **parser_out)
{
  const char *args[] = { "exiftool", "-j", "-n", path, NULL };
  GBytes *out = capture_exiftool (args);
  JsonParser *parser = json_parser_new ();
  GError *error = NULL;
  JsonNode *root;
  gsize len;
  const gchar *text = g_bytes_get_data (out, &len);

  json_parser_load_from_data (parser, text, (gssize) len, &error);
  g_assert_no_error (error);
  g_bytes_unref (out);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  *parser_out = parser;
  return json_array_get_object_element (json_node_get_array (root), 0);
}

static double
jnum (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL)
    g_error ("exiftool gives no %s", name);
  if (json_node_get_value_type (n) == G_TYPE_STRING)
    return g_ascii_strtod (json_node_get_string (n), NULL);
  return json_node_get_double (n);
}

/* exiftool prints strings or, when they look like numbers, numbers */
static gchar *
jstr (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  GType t;

  if (n == NULL)
    return g_strdup ("");
  t = json_node_get_value_type (n);
  if (t == G_TYPE_STRING)
    return g_strstrip (g_strdup (json_node_get_string (n)));
  if (t == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
  return g_strdup_printf ("%.15g", json_node_get_double (n));
}

static void
assert_close (const char *what, double ours, double ref)
{
  double tol = 1e-9 * MAX (1.0, fabs (ref));

  if (!(fabs (ours - ref) <= tol))
    g_error ("%s: ours %.17g, exiftool %.17g", what, ours, ref);
}

/* ---- decoding exiftool's RawThermalImage ---- */

typedef struct {
  const guint8 *data;
  gsize len, pos;
  jmp_buf jmp;
} TestPng;

static void
test_png_error (png_structp png, png_const_charp msg)
{
  TestPng *t = png_get_error_ptr (png);

  g_test_message ("png: %s", msg);
  longjmp (t->jmp, 1);
}

static void
test_png_read (png_structp png, png_bytep out, png_size_t n)
{
  TestPng *t = png_get_io_ptr (png);

  if (n > t->len - t->pos)
    png_error (png, "short");
  memcpy (out, t->data + t->pos, n);
  t->pos += n;
}

/* Returns the PNG's samples as the PNG says (big-endian), swapped if @swap. */
static guint16 *
decode_png_blob (const guint8 *data, gsize len, gboolean swap, gint *w, gint *h)
{
  TestPng *t = g_new0 (TestPng, 1);
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, t, test_png_error, NULL);
  png_infop info = png_create_info_struct (png);
  guint8 *pix;
  png_bytep *rows;
  guint16 *out;
  guint y, width, height;
  gsize i;

  t->data = data;
  t->len = len;
  if (setjmp (t->jmp))
    g_error ("exiftool's PNG does not decode");
  png_set_read_fn (png, t, test_png_read);
  png_read_info (png, info);
  g_assert_cmpint (png_get_bit_depth (png, info), ==, 16);
  g_assert_cmpint (png_get_color_type (png, info), ==, PNG_COLOR_TYPE_GRAY);
  width = png_get_image_width (png, info);
  height = png_get_image_height (png, info);
  png_set_interlace_handling (png);
  png_read_update_info (png, info);
  pix = g_malloc ((gsize) width * height * 2);
  rows = g_new (png_bytep, height);
  for (y = 0; y < height; y++)
    rows[y] = pix + (gsize) y * width * 2;
  png_read_image (png, rows);
  png_destroy_read_struct (&png, &info, NULL);
  out = g_new (guint16, (gsize) width * height);
  for (i = 0; i < (gsize) width * height; i++) {
    guint16 be = (guint16) ((pix[2 * i] << 8) | pix[2 * i + 1]);

    out[i] = swap ? GUINT16_SWAP_LE_BE (be) : be;
  }
  g_free (rows);
  g_free (pix);
  g_free (t);
  *w = (gint) width;
  *h = (gint) height;
  return out;
}

static void
quiet_tiff (const char *module, const char *fmt, va_list ap)
{
}

static guint16 *
decode_tiff_blob (const guint8 *data, gsize len, gint *w, gint *h)
{
  gchar *tmp = NULL;
  GError *error = NULL;
  gint fd = g_file_open_tmp ("test-flir-XXXXXX.tif", &tmp, &error);
  TIFF *tif;
  guint32 width = 0, height = 0, y;
  guint16 bps = 0;
  guint16 *out;

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (tmp, (const gchar *) data, (gssize) len, NULL));
  TIFFSetWarningHandler (quiet_tiff);
  tif = TIFFOpen (tmp, "r");
  g_assert_nonnull (tif);
  TIFFGetField (tif, TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField (tif, TIFFTAG_IMAGELENGTH, &height);
  TIFFGetField (tif, TIFFTAG_BITSPERSAMPLE, &bps);
  g_assert_cmpint (bps, ==, 16);
  g_assert_cmpint (TIFFScanlineSize (tif), ==, (tmsize_t) width * 2);
  out = g_new (guint16, (gsize) width * height);
  for (y = 0; y < height; y++)
    g_assert_cmpint (TIFFReadScanline (tif, out + (gsize) y * width, y, 0), ==, 1);
  TIFFClose (tif);
  g_unlink (tmp);
  g_free (tmp);
  *w = (gint) width;
  *h = (gint) height;
  return out;
}

/* exiftool's raw pixels of @path; @png_swapped says how to read a PNG. */
static guint16 *
exiftool_raw (const char *path, gboolean png_swapped, gint *w, gint *h, GBytes **blob_out)
{
  const char *args[] = { "exiftool", "-b", "-RawThermalImage", path, NULL };
  GBytes *blob = capture_exiftool (args);
  gsize len;
  const guint8 *d = g_bytes_get_data (blob, &len);
  guint16 *raw;

  g_assert_cmpuint (len, >, 8);
  if (memcmp (d, "\x89PNG", 4) == 0)
    raw = decode_png_blob (d, len, png_swapped, w, h);
  else if (memcmp (d, "II*\0", 4) == 0 || memcmp (d, "MM\0*", 4) == 0)
    raw = decode_tiff_blob (d, len, w, h);
  else
    g_error ("exiftool's RawThermalImage is neither PNG nor TIFF");
  if (blob_out != NULL)
    *blob_out = blob;
  else
    g_bytes_unref (blob);
  return raw;
}

/* ---- the independent raw2temp (Thermimage, as published) ---- */

typedef struct {
  double E, OD, RTemp, ATemp, IRWTemp, IRT, RH;
  double PR1, PB, PF, PO, PR2, ATA1, ATA2, ATB1, ATB2, ATX;
} Raw2Temp;

static double
raw2temp (double raw, const Raw2Temp *p)
{
  double emiss_wind = 1 - p->IRT, refl_wind = 0;
  double h2o = p->RH * exp (1.5587 + 0.06939 * p->ATemp - 0.00027816 * pow (p->ATemp, 2) +
      0.00000068455 * pow (p->ATemp, 3));
  double tau1 = p->ATX * exp (-sqrt (p->OD / 2) * (p->ATA1 + p->ATB1 * sqrt (h2o))) +
      (1 - p->ATX) * exp (-sqrt (p->OD / 2) * (p->ATA2 + p->ATB2 * sqrt (h2o)));
  double tau2 = tau1;
  double raw_refl1 = p->PR1 / (p->PR2 * (exp (p->PB / (p->RTemp + 273.15)) - p->PF)) - p->PO;
  double raw_refl1_attn = (1 - p->E) / p->E * raw_refl1;
  double raw_atm1 = p->PR1 / (p->PR2 * (exp (p->PB / (p->ATemp + 273.15)) - p->PF)) - p->PO;
  double raw_atm1_attn = (1 - tau1) / p->E / tau1 * raw_atm1;
  double raw_wind = p->PR1 / (p->PR2 * (exp (p->PB / (p->IRWTemp + 273.15)) - p->PF)) - p->PO;
  double raw_wind_attn = emiss_wind / p->E / tau1 / p->IRT * raw_wind;
  double raw_refl2_attn = refl_wind / p->E / tau1 / p->IRT * raw_refl1;
  double raw_atm2_attn = (1 - tau2) / p->E / tau1 / p->IRT / tau2 * raw_atm1;
  double raw_obj = raw / p->E / tau1 / p->IRT / tau2 - raw_atm1_attn - raw_atm2_attn -
      raw_wind_attn - raw_refl1_attn - raw_refl2_attn;

  return p->PB / log (p->PR1 / (p->PR2 * (raw_obj + p->PO)) + p->PF) - 273.15;
}

static void
raw2temp_from_exiftool (Raw2Temp *p, JsonObject *o)
{
  p->E = jnum (o, "Emissivity");
  p->OD = jnum (o, "ObjectDistance");
  p->RTemp = jnum (o, "ReflectedApparentTemperature");
  p->ATemp = jnum (o, "AtmosphericTemperature");
  p->IRWTemp = jnum (o, "IRWindowTemperature");
  p->IRT = jnum (o, "IRWindowTransmission");
  p->RH = jnum (o, "RelativeHumidity");
  p->PR1 = jnum (o, "PlanckR1");
  p->PB = jnum (o, "PlanckB");
  p->PF = jnum (o, "PlanckF");
  p->PO = jnum (o, "PlanckO");
  p->PR2 = jnum (o, "PlanckR2");
  p->ATA1 = jnum (o, "AtmosphericTransAlpha1");
  p->ATA2 = jnum (o, "AtmosphericTransAlpha2");
  p->ATB1 = jnum (o, "AtmosphericTransBeta1");
  p->ATB2 = jnum (o, "AtmosphericTransBeta2");
  p->ATX = jnum (o, "AtmosphericTransX");
}

typedef struct {
  double min, max, sum;
  gsize n, undefined;
} Stats;

static void
stats_add (Stats *s, double t)
{
  if (!isfinite (t)) {
    s->undefined++;
    return;
  }
  if (s->n == 0 || t < s->min)
    s->min = t;
  if (s->n == 0 || t > s->max)
    s->max = t;
  s->sum += t;
  s->n++;
}

static double worst_temperature_diff = 0.0;

/* ---- reading every sample ---- */

static void
test_sample (gconstpointer data)
{
  const Sample *s = data;
  gchar *path = sample_path (s->file);
  TcFlirImage img;
  GError *error = NULL;
  JsonParser *parser = NULL;
  JsonObject *o;
  guint16 *ref;
  gint w = 0, h = 0;
  gsize i, n;
  gchar *str;
  Raw2Temp p;
  TcChain chain;
  Stats ours = { 0 }, theirs = { 0 };

  if (!have_exiftool ()) {
    g_test_skip ("exiftool is not installed");
    g_free (path);
    return;
  }
  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_test_skip ("sample missing");
    g_free (path);
    return;
  }

  g_assert_true (tc_flir_read_file (path, &img, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (img.raw_format, ==, s->format);
  g_assert_cmpint (img.raw_byteswapped, ==, s->byteswapped);

  o = exiftool_json (path, &parser);
  g_assert_cmpint (img.width, ==, (gint) jnum (o, "RawThermalImageWidth"));
  g_assert_cmpint (img.height, ==, (gint) jnum (o, "RawThermalImageHeight"));

  assert_close ("Emissivity", img.params.emissivity, jnum (o, "Emissivity"));
  assert_close ("ObjectDistance", img.params.distance, jnum (o, "ObjectDistance"));
  assert_close ("ReflectedApparentTemperature", img.params.reflected_temp,
      jnum (o, "ReflectedApparentTemperature"));
  assert_close ("AtmosphericTemperature", img.params.atmospheric_temp,
      jnum (o, "AtmosphericTemperature"));
  assert_close ("IRWindowTemperature", img.params.window_temp, jnum (o, "IRWindowTemperature"));
  assert_close ("IRWindowTransmission", img.params.window_transmission,
      jnum (o, "IRWindowTransmission"));
  assert_close ("RelativeHumidity", img.params.relative_humidity, jnum (o, "RelativeHumidity"));
  assert_close ("PlanckR1", img.cal.r1, jnum (o, "PlanckR1"));
  assert_close ("PlanckR2", img.cal.r2, jnum (o, "PlanckR2"));
  assert_close ("PlanckB", img.cal.b, jnum (o, "PlanckB"));
  assert_close ("PlanckF", img.cal.f, jnum (o, "PlanckF"));
  assert_close ("PlanckO", img.cal.o, jnum (o, "PlanckO"));
  assert_close ("AtmosphericTransAlpha1", img.cal.ata1, jnum (o, "AtmosphericTransAlpha1"));
  assert_close ("AtmosphericTransAlpha2", img.cal.ata2, jnum (o, "AtmosphericTransAlpha2"));
  assert_close ("AtmosphericTransBeta1", img.cal.atb1, jnum (o, "AtmosphericTransBeta1"));
  assert_close ("AtmosphericTransBeta2", img.cal.atb2, jnum (o, "AtmosphericTransBeta2"));
  assert_close ("AtmosphericTransX", img.cal.atx, jnum (o, "AtmosphericTransX"));
  assert_close ("CameraTemperatureRangeMax", img.cal.range_max,
      jnum (o, "CameraTemperatureRangeMax"));
  assert_close ("CameraTemperatureRangeMin", img.cal.range_min,
      jnum (o, "CameraTemperatureRangeMin"));

  str = jstr (o, "CameraModel");
  g_assert_cmpstr (g_strstrip (img.model), ==, str);
  g_free (str);
  str = jstr (o, "CameraSerialNumber");
  g_assert_cmpstr (img.serial, ==, str);
  g_free (str);
  str = jstr (o, "Make");
  g_assert_cmpstr (img.make, ==, str);
  g_free (str);

  /* every raw pixel */
  ref = exiftool_raw (path, s->byteswapped, &w, &h, NULL);
  g_assert_cmpint (w, ==, img.width);
  g_assert_cmpint (h, ==, img.height);
  n = (gsize) w * h;
  for (i = 0; i < n; i++)
    if (ref[i] != img.raw[i])
      g_error ("%s: pixel %" G_GSIZE_FORMAT ": ours %u, exiftool %u", s->file, i,
          img.raw[i], ref[i]);

  /* temperatures: our chain on our data against raw2temp on exiftool's */
  raw2temp_from_exiftool (&p, o);
  tc_chain_init (&chain, &img.cal, &img.params);
  for (i = 0; i < n; i++) {
    stats_add (&ours, tc_chain_raw_to_kelvin (&chain, img.raw[i]) - TC_KELVIN_OFFSET);
    stats_add (&theirs, raw2temp (ref[i], &p));
  }
  g_assert_cmpuint (ours.n, >, 0);
  g_assert_cmpuint (ours.n, ==, theirs.n);
  g_assert_cmpuint (ours.undefined, ==, theirs.undefined);
  g_assert_cmpfloat_with_epsilon (ours.min, theirs.min, 0.01);
  g_assert_cmpfloat_with_epsilon (ours.max, theirs.max, 0.01);
  g_assert_cmpfloat_with_epsilon (ours.sum / ours.n, theirs.sum / theirs.n, 0.01);
  worst_temperature_diff = MAX (worst_temperature_diff, fabs (ours.min - theirs.min));
  worst_temperature_diff = MAX (worst_temperature_diff, fabs (ours.max - theirs.max));
  worst_temperature_diff = MAX (worst_temperature_diff,
      fabs (ours.sum / ours.n - theirs.sum / theirs.n));
  g_test_message ("%s: %dx%d %s%s, %.4f .. %.4f C, mean %.4f C (raw2temp %.4f .. %.4f, "
      "mean %.4f); worst difference so far %.2e C", s->file, img.width, img.height,
      img.raw_format, img.raw_byteswapped ? " byte-swapped" : "", ours.min, ours.max,
      ours.sum / ours.n, theirs.min, theirs.max, theirs.sum / theirs.n,
      worst_temperature_diff);

  g_free (ref);
  g_object_unref (parser);
  tc_flir_image_clear (&img);
  g_assert_null (img.raw);
  g_free (path);
}

/* The flirextractor project's published figure. */
static void
test_ir2412_first_pixel (void)
{
  gchar *path = sample_path ("IR_2412.jpg");
  TcFlirImage img;
  GError *error = NULL;
  TcChain chain;
  double c;

  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_test_skip ("sample missing");
    g_free (path);
    return;
  }
  g_assert_true (tc_flir_read_file (path, &img, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (img.raw[0], ==, 18090);
  tc_chain_init (&chain, &img.cal, &img.params);
  c = tc_chain_raw_to_kelvin (&chain, img.raw[0]) - TC_KELVIN_OFFSET;
  g_test_message ("IR_2412.jpg pixel 0: %.6f C", c);
  g_assert_cmpfloat_with_epsilon (c, 23.7344, 0.0001);
  tc_flir_image_clear (&img);
  g_free (path);
}

/* ---- errors ---- */

static void
test_missing_file (void)
{
  TcFlirImage img;
  GError *error = NULL;

  g_assert_false (tc_flir_read_file ("/nonexistent/thermocam/none.jpg", &img, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_IO);
  g_assert_null (img.raw);
  g_error_free (error);
}

static void
test_plain_jpeg (void)
{
  /* SOI, a JFIF APP0, an EXIF APP1, EOI */
  static const guint8 jpeg[] = {
    0xff, 0xd8,
    0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    0xff, 0xe1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0,
    0xff, 0xd9
  };
  TcFlirImage img;
  GError *error = NULL;
  gchar *path;
  gchar *contents = NULL;
  gsize len = 0, pos = 2;
  GByteArray *stripped;

  g_assert_false (tc_flir_read_data (jpeg, sizeof jpeg, &img, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_NOT_RADIOMETRIC);
  g_test_message ("plain JPEG: %s", error->message);
  g_clear_error (&error);

  g_assert_false (tc_flir_read_data ((const guint8 *) "hello", 5, &img, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_NOT_RADIOMETRIC);
  g_clear_error (&error);
  g_assert_false (tc_flir_read_data (NULL, 0, &img, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_NOT_RADIOMETRIC);
  g_clear_error (&error);

  /* a real camera JPEG with its FLIR segments taken out */
  path = sample_path ("FLIR_E40.jpg");
  if (!g_file_get_contents (path, &contents, &len, NULL)) {
    g_free (path);
    return;
  }
  stripped = g_byte_array_new ();
  g_byte_array_append (stripped, (const guint8 *) contents, 2);
  while (pos + 4 <= len) {
    const guint8 *d = (const guint8 *) contents + pos;
    gsize seg = ((gsize) d[2] << 8) | d[3];

    g_assert_cmpint (d[0], ==, 0xff);
    if (d[1] == 0xda) {
      g_byte_array_append (stripped, d, (guint) (len - pos));
      break;
    }
    if (!(d[1] == 0xe1 && seg >= 7 && memcmp (d + 4, "FLIR\0", 5) == 0))
      g_byte_array_append (stripped, d, (guint) (seg + 2));
    pos += seg + 2;
  }
  g_assert_false (tc_flir_read_data (stripped->data, stripped->len, &img, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_NOT_RADIOMETRIC);
  g_clear_error (&error);
  g_byte_array_unref (stripped);
  g_free (contents);
  g_free (path);
}

/* ---- synthetic FFF: TIFF raw data and a big-endian file ---- */

static void
put16 (guint8 *p, guint v, gboolean be)
{
  if (be) {
    p[0] = (guint8) (v >> 8);
    p[1] = (guint8) v;
  } else {
    p[0] = (guint8) v;
    p[1] = (guint8) (v >> 8);
  }
}

static void
put32 (guint8 *p, guint32 v, gboolean be)
{
  if (be) {
    put16 (p, v >> 16, TRUE);
    put16 (p + 2, v & 0xffff, TRUE);
  } else {
    put16 (p, v & 0xffff, FALSE);
    put16 (p + 2, v >> 16, FALSE);
  }
}

static void
putf (guint8 *p, float f, gboolean be)
{
  guint32 u;

  memcpy (&u, &f, 4);
  put32 (p, u, be);
}

/* An FFF with a CameraInfo and a RawData record holding @payload. */
static GByteArray *
make_fff (gboolean be, gint w, gint h, const guint8 *payload, gsize plen)
{
  const gsize cam_off = 0x80, cam_len = 0x400, raw_off = cam_off + cam_len;
  GByteArray *a = g_byte_array_new ();
  guint8 *d;

  g_byte_array_set_size (a, (guint) (raw_off + 0x20 + plen));
  d = a->data;
  memset (d, 0, a->len);
  memcpy (d, "FFF\0", 4);
  put32 (d + 0x14, 100, be);
  put32 (d + 0x18, 0x40, be);
  put32 (d + 0x1c, 2, be);
  /* directory */
  put16 (d + 0x40, 0x20, be);
  put32 (d + 0x40 + 0x0c, (guint32) cam_off, be);
  put32 (d + 0x40 + 0x10, (guint32) cam_len, be);
  put16 (d + 0x60, 0x01, be);
  put32 (d + 0x60 + 0x0c, (guint32) raw_off, be);
  put32 (d + 0x60 + 0x10, (guint32) (0x20 + plen), be);
  /* CameraInfo */
  put16 (d + cam_off, 2, be);
  putf (d + cam_off + 0x20, 0.9f, be);
  putf (d + cam_off + 0x24, 3.0f, be);
  putf (d + cam_off + 0x28, 293.15f, be);
  putf (d + cam_off + 0x2c, 288.15f, be);
  putf (d + cam_off + 0x30, 293.15f, be);
  putf (d + cam_off + 0x34, 1.0f, be);
  putf (d + cam_off + 0x3c, 45.0f, be);       /* percent, as some files store it */
  putf (d + cam_off + 0x58, 14866.5f, be);
  putf (d + cam_off + 0x5c, 1395.7f, be);
  putf (d + cam_off + 0x60, 1.0f, be);
  putf (d + cam_off + 0x70, 0.006569f, be);
  putf (d + cam_off + 0x74, 0.01262f, be);
  putf (d + cam_off + 0x78, -0.002276f, be);
  putf (d + cam_off + 0x7c, -0.00667f, be);
  putf (d + cam_off + 0x80, 1.9f, be);
  putf (d + cam_off + 0x90, 393.15f, be);
  putf (d + cam_off + 0x94, 253.15f, be);
  memcpy (d + cam_off + 0xd4, "Test Camera", 11);
  memcpy (d + cam_off + 0x104, "12345", 5);
  put32 (d + cam_off + 0x308, (guint32) -5859, be);
  putf (d + cam_off + 0x30c, 0.0110865f, be);
  /* RawData */
  put16 (d + raw_off, 2, be);
  put16 (d + raw_off + 2, (guint) w, be);
  put16 (d + raw_off + 4, (guint) h, be);
  memcpy (d + raw_off + 0x20, payload, plen);
  return a;
}

static void
test_synthetic (void)
{
  gchar *path = sample_path ("FLIR_E40.jpg");
  GBytes *blob = NULL;
  gint w, h, b;
  guint16 *ref;
  gsize len, i, n;
  const guint8 *tiff;
  GByteArray *fff;
  TcFlirImage img;
  GError *error = NULL;
  guint8 *be_raw;

  if (!have_exiftool () || !g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_test_skip ("exiftool or sample missing");
    g_free (path);
    return;
  }
  /* exiftool's TIFF of E40's raw data, put back into an FFF as a TIFF record */
  ref = exiftool_raw (path, FALSE, &w, &h, &blob);
  tiff = g_bytes_get_data (blob, &len);
  n = (gsize) w * h;
  for (b = 0; b < 2; b++) {
    fff = make_fff (b, w, h, tiff, len);
    g_assert_true (tc_flir_read_data (fff->data, fff->len, &img, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (img.raw_format, ==, "tiff");
    g_assert_false (img.raw_byteswapped);
    g_assert_cmpint (img.width, ==, w);
    g_assert_cmpint (img.height, ==, h);
    g_assert_true (memcmp (img.raw, ref, n * 2) == 0);
    g_assert_cmpfloat_with_epsilon (img.params.relative_humidity, 0.45, 1e-6);
    g_assert_cmpfloat_with_epsilon (img.params.atmospheric_temp, 15.0, 1e-4);
    g_assert_cmpfloat (img.cal.o, ==, -5859.0);
    g_assert_cmpstr (img.model, ==, "Test Camera");
    g_assert_cmpstr (img.serial, ==, "12345");
    g_assert_cmpstr (img.make, ==, "");
    tc_flir_image_clear (&img);
    g_byte_array_unref (fff);
  }

  /* raw big-endian data in a big-endian FFF */
  be_raw = g_malloc (n * 2);
  for (i = 0; i < n; i++)
    put16 (be_raw + 2 * i, ref[i], TRUE);
  fff = make_fff (TRUE, w, h, be_raw, n * 2);
  g_assert_true (tc_flir_read_data (fff->data, fff->len, &img, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (img.raw_format, ==, "raw");
  g_assert_true (img.raw_byteswapped);
  g_assert_true (memcmp (img.raw, ref, n * 2) == 0);
  g_assert_cmpfloat (img.cal.o, ==, -5859.0);
  tc_flir_image_clear (&img);

  /* raw data one byte short */
  g_byte_array_set_size (fff, fff->len - 1);
  put32 (fff->data + 0x60 + 0x10, (guint32) (0x20 + n * 2 - 1), TRUE);
  g_assert_false (tc_flir_read_data (fff->data, fff->len, &img, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_TRUNCATED);
  g_clear_error (&error);
  g_byte_array_unref (fff);

  g_free (be_raw);
  g_free (ref);
  g_bytes_unref (blob);
  g_free (path);
}

/* ---- robustness ---- */

static gsize reads_done;
static gsize outcome[6];         /* per error code, then successes */

static void
read_must_not_crash (const guint8 *d, gsize len)
{
  TcFlirImage img;
  GError *error = NULL;

  if (tc_flir_read_data (d, len, &img, &error)) {
    g_assert_no_error (error);
    g_assert_nonnull (img.raw);
    g_assert_cmpint (img.width, >, 0);
    g_assert_cmpint (img.height, >, 0);
    tc_flir_image_clear (&img);
    outcome[5]++;
  } else {
    g_assert_nonnull (error);
    if (error->code >= 0 && error->code < 5)
      outcome[error->code]++;
    g_assert_true (error->domain == TC_FLIR_ERROR);
    g_assert_nonnull (error->message);
    g_assert_null (img.raw);
    g_error_free (error);
  }
  reads_done++;
}

/* Where the FFF data begins in the file, and where the metadata ends
 * (the start of the scan in a JPEG). */
static void
find_areas (const guint8 *d, gsize len, gsize *fff_start, gsize *meta_end)
{
  gsize pos = 2;

  *fff_start = 0;
  *meta_end = len;
  if (len < 4 || memcmp (d, "FFF\0", 4) == 0)
    return;
  while (pos + 4 <= len && d[pos] == 0xff) {
    gsize seg = ((gsize) d[pos + 2] << 8) | d[pos + 3];

    if (d[pos + 1] == 0xda) {
      *meta_end = pos;
      return;
    }
    if (*fff_start == 0 && d[pos + 1] == 0xe1 && pos + 4 + 5 <= len &&
        memcmp (d + pos + 4, "FLIR\0", 5) == 0)
      *fff_start = pos + 4 + 8;
    pos += seg + 2;
  }
}

static guint
env_uint (const char *name, guint def)
{
  const char *v = g_getenv (name);

  return v != NULL ? (guint) strtoul (v, NULL, 10) : def;
}

static void
test_robust (gconstpointer data)
{
  const Sample *s = data;
  gchar *path = sample_path (s->file);
  gchar *contents = NULL;
  gsize len = 0, fff_start, meta_end, cut, i;
  guint8 *copy;
  GRand *rand;
  guint n_cuts = env_uint ("THERMOCAM_FLIR_CUTS", 200);
  guint n_head = env_uint ("THERMOCAM_FLIR_HEAD", 1024);
  guint n_flips = env_uint ("THERMOCAM_FLIR_FLIPS", 300);
  gsize before = reads_done;

  if (!g_file_get_contents (path, &contents, &len, NULL)) {
    g_test_skip ("sample missing");
    g_free (path);
    return;
  }
  find_areas ((const guint8 *) contents, len, &fff_start, &meta_end);

  /* truncations: spread over the file, then every cut in the FFF header area */
  for (i = 0; i < n_cuts; i++) {
    cut = (gsize) ((guint64) len * i / n_cuts);
    copy = g_memdup2 (contents, cut);   /* an exact-size copy for valgrind */
    read_must_not_crash (copy, cut);
    g_free (copy);
  }
  for (cut = fff_start; cut < fff_start + n_head && cut < len; cut++) {
    copy = g_memdup2 (contents, cut);
    read_must_not_crash (copy, cut);
    g_free (copy);
  }

  /* corruptions: a few bytes each, mostly in the metadata (the JPEG's scan is
   * never read) */
  rand = g_rand_new_with_seed (0x7c0ffee ^ (guint32) len);
  copy = g_malloc (len);
  for (i = 0; i < n_flips; i++) {
    gint k, nbytes = g_rand_int_range (rand, 1, 9);

    memcpy (copy, contents, len);
    for (k = 0; k < nbytes; k++) {
      gsize at;
      guint32 r = g_rand_int (rand);

      if (g_rand_int_range (rand, 0, 4) == 0 || meta_end <= fff_start)
        at = (gsize) g_rand_double_range (rand, 0, (double) len);
      else if (g_rand_boolean (rand))
        /* the FFF header, directory and CameraInfo */
        at = fff_start + (gsize) g_rand_int_range (rand, 0, 2048);
      else
        at = fff_start + (gsize) g_rand_double_range (rand, 0, (double) (meta_end - fff_start));
      if (at >= len)
        at = len - 1;
      switch (r % 4) {
        case 0:
          copy[at] ^= (guint8) (1u << (r >> 8) % 8);
          break;
        case 1:
          copy[at] = (guint8) (r >> 8);
          break;
        case 2:
          copy[at] = 0xff;
          break;
        default:
          copy[at] = 0;
          break;
      }
    }
    read_must_not_crash (copy, len);
  }
  g_free (copy);
  g_rand_free (rand);
  g_test_message ("%s: %" G_GSIZE_FORMAT " damaged reads; so far %" G_GSIZE_FORMAT
      " read, %" G_GSIZE_FORMAT " not radiometric, %" G_GSIZE_FORMAT " truncated, %"
      G_GSIZE_FORMAT " corrupt, %" G_GSIZE_FORMAT " unsupported", s->file,
      reads_done - before, outcome[5], outcome[TC_FLIR_ERROR_NOT_RADIOMETRIC],
      outcome[TC_FLIR_ERROR_TRUNCATED], outcome[TC_FLIR_ERROR_CORRUPT],
      outcome[TC_FLIR_ERROR_UNSUPPORTED]);
  g_free (contents);
  g_free (path);
}

int
main (int argc, char **argv)
{
  gsize i;

  g_test_init (&argc, &argv, NULL);

  for (i = 0; i < G_N_ELEMENTS (samples); i++) {
    gchar *name = g_strdup_printf ("/flir/read/%s", samples[i].file);

    g_test_add_data_func (name, &samples[i], test_sample);
    g_free (name);
  }
  g_test_add_func ("/flir/read/ir2412-first-pixel", test_ir2412_first_pixel);
  g_test_add_func ("/flir/read/synthetic", test_synthetic);
  g_test_add_func ("/flir/errors/missing-file", test_missing_file);
  g_test_add_func ("/flir/errors/plain-jpeg", test_plain_jpeg);
  for (i = 0; i < G_N_ELEMENTS (samples); i++) {
    gchar *name = g_strdup_printf ("/flir/robust/%s", samples[i].file);

    g_test_add_data_func (name, &samples[i], test_robust);
    g_free (name);
  }
  return g_test_run ();
}
