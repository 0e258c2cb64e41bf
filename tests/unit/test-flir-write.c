/* thermocam: unit tests of the FLIR JPEG and centikelvin TIFF writers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The JPEG is checked with exiftool, the reference reader of the format:
 * every CameraInfo field it prints, the raw data it extracts, and the
 * temperatures the published raw2temp formula gives from what it prints.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <tiffio.h>

#include "tc-flir.h"
#include "tc-radiometry.h"

#ifdef TC_FLIR_WRITE_STANDALONE
/* built without the reader, which defines the error domain */
G_DEFINE_QUARK (tc-flir-error-quark, tc_flir_error)
#endif

/* ------------------------------------------------------------ fixtures */

static void
make_image (TcFlirImage *img, gint width, gint height)
{
  gint x, y;

  memset (img, 0, sizeof (*img));
  img->width = width;
  img->height = height;
  img->raw = g_new (guint16, (gsize) width * height);
  /* counts spread over the calibrated range (about 4000..37000) and some
   * extreme but valid values */
  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++)
      img->raw[(gsize) y * width + x] =
          (guint16) (6000 + (x * 37 + y * 101 + (x * y) % 257) % 28000);
  img->raw[0] = 4500;
  img->raw[(gsize) width * height - 1] = 36000;

  tc_calibration_init_default (&img->cal);
  img->params.emissivity = 0.9;
  img->params.distance = 5.0;
  img->params.reflected_temp = 25.0;
  img->params.atmospheric_temp = 22.0;
  img->params.relative_humidity = 0.6;
  img->params.window_temp = 30.0;
  img->params.window_transmission = 0.9;
  g_strlcpy (img->model, "Simulated 16-bit core", sizeof (img->model));
  g_strlcpy (img->serial, "SIM0001", sizeof (img->serial));
  g_strlcpy (img->raw_format, "raw", sizeof (img->raw_format));
}

static guint8 *
make_rgb (gint width, gint height)
{
  guint8 *rgb = g_new (guint8, (gsize) width * height * 3);
  gint x, y;

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++) {
      guint8 *p = rgb + ((gsize) y * width + x) * 3;
      p[0] = (guint8) (x * 255 / MAX (1, width - 1));
      p[1] = (guint8) (y * 255 / MAX (1, height - 1));
      p[2] = 128;
    }
  return rgb;
}

static gchar *
write_temp (const guint8 *data, gsize len, const gchar *tmpl)
{
  GError *error = NULL;
  gchar *path = NULL;
  gint fd = g_file_open_tmp (tmpl, &path, &error);

  g_assert_no_error (error);
  g_close (fd, NULL);
  g_file_set_contents (path, (const gchar *) data, (gssize) len, &error);
  g_assert_no_error (error);
  return path;
}

static gboolean
have_exiftool (void)
{
  gchar *p = g_find_program_in_path ("exiftool");
  gboolean have = p != NULL;

  g_free (p);
  return have;
}

/* Runs a command; returns its standard output (g_free) and its length. */
static gchar *
run (const gchar * const *argv, gsize *length)
{
  GError *error = NULL;
  gchar *out = NULL, *err = NULL;
  gint status = 0;

  g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
      &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_test_message ("%s failed: %s", argv[0], err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_free (err);
  /* g_spawn_sync gives no length: stdout of -b may hold NULs, so the
   * caller of a binary command uses a file instead */
  if (length)
    *length = strlen (out);
  return out;
}

/* ------------------------------------------------------------ JSON */

/* exiftool -j writes one "Key": value a line; find the value of @key. */
static const gchar *
json_value (const gchar *json, const gchar *key)
{
  gchar *needle = g_strdup_printf ("\"%s\": ", key);
  const gchar *p = strstr (json, needle);
  const gchar *v = p ? p + strlen (needle) : NULL;

  g_free (needle);
  return v;
}

static gboolean
json_number (const gchar *json, const gchar *key, double *value)
{
  const gchar *v = json_value (json, key);
  gchar *end;

  if (v == NULL)
    return FALSE;
  /* exiftool quotes some numbers (small ones it prints with many digits) */
  if (*v == '"')
    v++;
  *value = g_ascii_strtod (v, &end);
  return end != v;
}

static gchar *
json_string (const gchar *json, const gchar *key)
{
  const gchar *v = json_value (json, key);
  const gchar *end;

  if (v == NULL || *v != '"')
    return NULL;
  end = strchr (v + 1, '"');
  return end ? g_strndup (v + 1, end - v - 1) : NULL;
}

static double
get_number (const gchar *json, const gchar *key)
{
  double v = NAN;

  if (!json_number (json, key, &v))
    g_error ("exiftool printed no number %s", key);
  return v;
}

/* The value exiftool should print for a float field: ours rounded to float. */
static void
check_float (const gchar *json, const gchar *key, double ours)
{
  double got = get_number (json, key);
  double want = (double) (float) ours;

  if (fabs (got - want) > 1e-9 * MAX (1.0, fabs (want)))
    g_error ("%s: exiftool %.12g, written %.12g", key, got, want);
}

/* A kelvin float field: exiftool -n prints it in Celsius (val - 273.15). */
static void
check_kelvin (const gchar *json, const gchar *key, double ours_c)
{
  double got = get_number (json, key);
  double want = (double) (float) (ours_c + TC_KELVIN_OFFSET) - TC_KELVIN_OFFSET;

  if (fabs (got - want) > 1e-9)
    g_error ("%s: exiftool %.12g C, written %.12g C", key, got, want);
  /* and within float precision of what we meant */
  g_assert_cmpfloat (fabs (got - ours_c), <, 1e-4);
}

/* ------------------------------------------------------------ raw2temp */

/* What exiftool printed, by the names it prints. */
typedef struct {
  double E, OD, RTemp, ATemp, IRWTemp, IRT, RH;
  double PR1, PB, PF, PO, PR2, ATA1, ATA2, ATB1, ATB2, ATX;
} FlirParams;

/* Thermimage's raw2temp (FLIR's chain) written out term by term, with the
 * humidity as the fraction exiftool -n prints (Thermimage takes percent). */
static double
raw2temp (double raw, const FlirParams *f)
{
  double emiss_wind = 1 - f->IRT, refl_wind = 0;
  double h2o = f->RH * exp (1.5587 + 0.06939 * f->ATemp - 0.00027816 * pow (f->ATemp, 2) +
      0.00000068455 * pow (f->ATemp, 3));
  double tau1 = f->ATX * exp (-sqrt (f->OD / 2) * (f->ATA1 + f->ATB1 * sqrt (h2o))) +
      (1 - f->ATX) * exp (-sqrt (f->OD / 2) * (f->ATA2 + f->ATB2 * sqrt (h2o)));
  double tau2 = tau1;
  double raw_refl1 = f->PR1 / (f->PR2 * (exp (f->PB / (f->RTemp + 273.15)) - f->PF)) - f->PO;
  double raw_refl1_attn = (1 - f->E) / f->E * raw_refl1;
  double raw_atm1 = f->PR1 / (f->PR2 * (exp (f->PB / (f->ATemp + 273.15)) - f->PF)) - f->PO;
  double raw_atm1_attn = (1 - tau1) / f->E / tau1 * raw_atm1;
  double raw_wind = f->PR1 / (f->PR2 * (exp (f->PB / (f->IRWTemp + 273.15)) - f->PF)) - f->PO;
  double raw_wind_attn = emiss_wind / f->E / tau1 / f->IRT * raw_wind;
  double raw_refl2 = raw_refl1;
  double raw_refl2_attn = refl_wind / f->E / tau1 / f->IRT * raw_refl2;
  double raw_atm2 = raw_atm1;
  double raw_atm2_attn = (1 - tau2) / f->E / tau1 / f->IRT / tau2 * raw_atm2;
  double raw_obj = raw / f->E / tau1 / f->IRT / tau2 - raw_atm1_attn - raw_atm2_attn -
      raw_wind_attn - raw_refl1_attn - raw_refl2_attn;

  return f->PB / log (f->PR1 / (f->PR2 * (raw_obj + f->PO)) + f->PF) - 273.15;
}

/* ------------------------------------------------------------ readers */

/* Any decoding error fails the test at once. */
static void
test_jpeg_error_exit (j_common_ptr cinfo)
{
  char msg[JMSG_LENGTH_MAX];

  cinfo->err->format_message (cinfo, msg);
  g_error ("the JPEG does not decode: %s", msg);
}

/* Decodes the JPEG; checks its size, its picture against @rgb, and the
 * FLIR APP1 segments (consecutive indices, consistent last index, sizes).
 * Returns the number of FLIR segments. */
static guint
check_jpeg (const guint8 *data, gsize len, const guint8 *rgb, gint width, gint height)
{
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr err;
  jpeg_saved_marker_ptr m;
  guint8 *row;
  guint n_flir = 0, last = 0;
  double sum_diff = 0;
  gint x, y;

  cinfo.err = jpeg_std_error (&err);
  err.error_exit = test_jpeg_error_exit;
  jpeg_create_decompress (&cinfo);
  jpeg_mem_src (&cinfo, data, (unsigned long) len);
  jpeg_save_markers (&cinfo, JPEG_APP0 + 1, 0xffff);
  g_assert_cmpint (jpeg_read_header (&cinfo, TRUE), ==, JPEG_HEADER_OK);

  for (m = cinfo.marker_list; m; m = m->next) {
    if (m->marker != JPEG_APP0 + 1 || m->data_length < 8 ||
        memcmp (m->data, "FLIR\0", 5) != 0)
      continue;
    g_assert_cmpuint (m->data_length, <=, 65533);
    g_assert_cmpuint (m->data[5], ==, 1);
    g_assert_cmpuint (m->data[6], ==, n_flir);
    if (n_flir == 0)
      last = m->data[7];
    g_assert_cmpuint (m->data[7], ==, last);
    if (n_flir == 0)
      g_assert_true (memcmp (m->data + 8, "FFF\0", 4) == 0);
    n_flir++;
  }
  g_assert_cmpuint (n_flir, ==, last + 1);

  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress (&cinfo);
  g_assert_cmpint (cinfo.output_width, ==, width);
  g_assert_cmpint (cinfo.output_height, ==, height);
  g_assert_cmpint (cinfo.output_components, ==, 3);
  row = g_new (guint8, (gsize) width * 3);
  for (y = 0; y < height; y++) {
    JSAMPROW r = row;
    jpeg_read_scanlines (&cinfo, &r, 1);
    for (x = 0; x < width * 3; x++)
      sum_diff += abs ((int) row[x] - (int) rgb[(gsize) y * width * 3 + x]);
  }
  jpeg_finish_decompress (&cinfo);
  jpeg_destroy_decompress (&cinfo);
  g_free (row);
  /* a smooth gradient at quality 90 decodes to within a few levels */
  g_assert_cmpfloat (sum_diff / ((double) width * height * 3), <, 3.0);
  return n_flir;
}

/* Reads a single-strip-or-more 16-bit greyscale TIFF. */
static guint16 *
read_tiff16 (const gchar *path, gint *width, gint *height)
{
  TIFF *tif = TIFFOpen (path, "r");
  guint32 w = 0, h = 0, y;
  guint16 bps = 0, spp = 0;
  guint16 *data;

  g_assert_nonnull (tif);
  g_assert_true (TIFFGetField (tif, TIFFTAG_IMAGEWIDTH, &w));
  g_assert_true (TIFFGetField (tif, TIFFTAG_IMAGELENGTH, &h));
  g_assert_true (TIFFGetFieldDefaulted (tif, TIFFTAG_BITSPERSAMPLE, &bps));
  g_assert_true (TIFFGetFieldDefaulted (tif, TIFFTAG_SAMPLESPERPIXEL, &spp));
  g_assert_cmpuint (bps, ==, 16);
  g_assert_cmpuint (spp, ==, 1);
  g_assert_cmpint (TIFFScanlineSize (tif), ==, (tmsize_t) w * 2);
  data = g_new (guint16, (gsize) w * h);
  for (y = 0; y < h; y++)
    g_assert_cmpint (TIFFReadScanline (tif, data + (gsize) y * w, y, 0), ==, 1);
  TIFFClose (tif);
  *width = (gint) w;
  *height = (gint) h;
  return data;
}

/* ------------------------------------------------------------ JPEG tests */

static void
check_flir_jpeg (gint raw_w, gint raw_h, gint rgb_w, gint rgb_h, const gchar *make)
{
  TcFlirImage img;
  GByteArray *out = g_byte_array_new ();
  GError *error = NULL;
  guint8 *rgb = make_rgb (rgb_w, rgb_h);
  gchar *path, *json, *s, *tiff_path, *tiff_out = NULL;
  gsize tiff_len = 0;
  guint16 *raw_back;
  gint bw, bh;
  guint n_segs;
  FlirParams f;
  TcChain chain;
  double worst = 0, worst_raw = 0;
  gsize i, n;

  make_image (&img, raw_w, raw_h);
  if (make)
    g_strlcpy (img.make, make, sizeof (img.make));
  g_assert_true (tc_flir_write_jpeg (&img, rgb, rgb_w, rgb_h, 90, out, &error));
  g_assert_no_error (error);
  n_segs = check_jpeg (out->data, out->len, rgb, rgb_w, rgb_h);
  g_test_message ("%dx%d raw in a %dx%d JPEG: %u bytes, %u FLIR segments", raw_w, raw_h,
      rgb_w, rgb_h, out->len, n_segs);
  n = (gsize) raw_w * raw_h;
  /* the FFF data is about the raw data; segments hold at most 65533 bytes */
  g_assert_cmpuint (n_segs, >=, (n * 2 + 65532) / 65533);

  if (!have_exiftool ()) {
    g_test_skip ("exiftool not installed");
    goto out;
  }
  path = write_temp (out->data, out->len, "tc-flir-XXXXXX.jpg");

  {
    const gchar *argv[] = { "exiftool", "-j", "-n", path, NULL };
    json = run (argv, NULL);
  }
  g_test_message ("%s", json);
  g_assert_null (json_value (json, "Warning"));
  g_assert_null (json_value (json, "Error"));

  /* object parameters */
  check_float (json, "Emissivity", img.params.emissivity);
  check_float (json, "ObjectDistance", img.params.distance);
  check_kelvin (json, "ReflectedApparentTemperature", img.params.reflected_temp);
  check_kelvin (json, "AtmosphericTemperature", img.params.atmospheric_temp);
  check_kelvin (json, "IRWindowTemperature", img.params.window_temp);
  check_float (json, "IRWindowTransmission", img.params.window_transmission);
  check_float (json, "RelativeHumidity", img.params.relative_humidity);
  /* calibration */
  check_float (json, "PlanckR1", img.cal.r1);
  check_float (json, "PlanckR2", img.cal.r2);
  check_float (json, "PlanckB", img.cal.b);
  check_float (json, "PlanckF", img.cal.f);
  g_assert_cmpfloat (get_number (json, "PlanckO"), ==, img.cal.o);
  check_float (json, "AtmosphericTransAlpha1", img.cal.ata1);
  check_float (json, "AtmosphericTransAlpha2", img.cal.ata2);
  check_float (json, "AtmosphericTransBeta1", img.cal.atb1);
  check_float (json, "AtmosphericTransBeta2", img.cal.atb2);
  check_float (json, "AtmosphericTransX", img.cal.atx);
  check_kelvin (json, "CameraTemperatureRangeMax", img.cal.range_max);
  check_kelvin (json, "CameraTemperatureRangeMin", img.cal.range_min);
  g_assert_cmpfloat (get_number (json, "CameraTemperatureMaxWarn"), >, 149.99);
  g_assert_cmpfloat (get_number (json, "CameraTemperatureMaxClip"), >, 150.0);
  g_assert_cmpfloat (get_number (json, "CameraTemperatureMinClip"), <, -20.0);
  /* raw data */
  g_assert_cmpfloat (get_number (json, "RawThermalImageWidth"), ==, raw_w);
  g_assert_cmpfloat (get_number (json, "RawThermalImageHeight"), ==, raw_h);
  s = json_string (json, "RawThermalImageType");
  g_assert_cmpstr (s, ==, "TIFF");
  g_free (s);
  /* strings */
  s = json_string (json, "CameraModel");
  g_assert_cmpstr (s, ==, img.model);
  g_free (s);
  s = json_string (json, "CameraSerialNumber");
  g_assert_cmpstr (s, ==, img.serial);
  g_free (s);
  s = json_string (json, "SerialNumber");
  g_assert_cmpstr (s, ==, img.serial);
  g_free (s);
  s = json_string (json, "Make");
  g_assert_cmpstr (s, ==, make ? make : "thermocam");
  g_free (s);
  s = json_string (json, "Model");
  g_assert_cmpstr (s, ==, img.model);
  g_free (s);
  s = json_string (json, "CreatorSoftware");
  g_assert_cmpstr (s, ==, "thermocam");
  g_free (s);

  /* the raw data exiftool extracts (as a TIFF, since it is little-endian) */
  tiff_path = g_strconcat (path, ".raw.tif", NULL);
  {
    const gchar *argv[] = { "exiftool", "-b", "-RawThermalImage", "-w!", "%d%f.jpg.raw.tif",
      path, NULL };
    g_free (run (argv, NULL));
  }
  g_assert_true (g_file_get_contents (tiff_path, &tiff_out, &tiff_len, NULL));
  g_assert_cmpuint (tiff_len, >, n * 2);
  g_assert_true (memcmp (tiff_out, "II*\0", 4) == 0);
  /* the data is the last width * height * 2 bytes, little-endian */
  for (i = 0; i < n; i++) {
    const guint8 *p = (const guint8 *) tiff_out + tiff_len - n * 2 + 2 * i;
    if ((guint16) (p[0] | (p[1] << 8)) != img.raw[i])
      g_error ("raw value %" G_GSIZE_FORMAT " differs", i);
  }
  raw_back = read_tiff16 (tiff_path, &bw, &bh);
  g_assert_cmpint (bw, ==, raw_w);
  g_assert_cmpint (bh, ==, raw_h);
  g_assert_true (memcmp (raw_back, img.raw, n * 2) == 0);
  g_free (raw_back);
  g_free (tiff_out);
  g_unlink (tiff_path);
  g_free (tiff_path);

  /* temperatures: raw2temp on what exiftool printed vs our chain */
  f.E = get_number (json, "Emissivity");
  f.OD = get_number (json, "ObjectDistance");
  f.RTemp = get_number (json, "ReflectedApparentTemperature");
  f.ATemp = get_number (json, "AtmosphericTemperature");
  f.IRWTemp = get_number (json, "IRWindowTemperature");
  f.IRT = get_number (json, "IRWindowTransmission");
  f.RH = get_number (json, "RelativeHumidity");
  f.PR1 = get_number (json, "PlanckR1");
  f.PB = get_number (json, "PlanckB");
  f.PF = get_number (json, "PlanckF");
  f.PO = get_number (json, "PlanckO");
  f.PR2 = get_number (json, "PlanckR2");
  f.ATA1 = get_number (json, "AtmosphericTransAlpha1");
  f.ATA2 = get_number (json, "AtmosphericTransAlpha2");
  f.ATB1 = get_number (json, "AtmosphericTransBeta1");
  f.ATB2 = get_number (json, "AtmosphericTransBeta2");
  f.ATX = get_number (json, "AtmosphericTransX");
  tc_chain_init (&chain, &img.cal, &img.params);
  for (i = 0; i < n; i++) {
    double ours = tc_chain_raw_to_kelvin (&chain, img.raw[i]) - TC_KELVIN_OFFSET;
    double theirs = raw2temp (img.raw[i], &f);
    double d = fabs (ours - theirs);

    g_assert_true (isfinite (ours) && isfinite (theirs));
    if (d > worst) {
      worst = d;
      worst_raw = img.raw[i];
    }
  }
  g_test_message ("worst temperature difference exiftool+raw2temp vs tc_chain: %.3g C "
      "(raw %.0f)", worst, worst_raw);
  g_assert_cmpfloat (worst, <=, 0.05);
  g_assert_cmpfloat (worst, <, 1e-4);

  g_free (json);
  g_unlink (path);
  g_free (path);
out:
  g_free (img.raw);
  g_free (rgb);
  g_byte_array_unref (out);
}

static void
test_jpeg_160 (void)
{
  check_flir_jpeg (160, 120, 160, 120, NULL);
}

static void
test_jpeg_640 (void)
{
  check_flir_jpeg (640, 512, 640, 512, NULL);
}

static void
test_jpeg_picture_size_and_make (void)
{
  /* the picture need not have the raw size; a make of our own is kept */
  check_flir_jpeg (320, 240, 401, 301, "Example Works");
}

/* a serial longer than CameraInfo's 15 characters: its number there, whole
 * in the Exif SerialNumber */
static void
test_jpeg_long_serial (void)
{
  TcFlirImage img;
  GByteArray *out = g_byte_array_new ();
  GError *error = NULL;
  guint8 *rgb = make_rgb (32, 24);
  gchar *path, *json, *v;

  make_image (&img, 32, 24);
  g_strlcpy (img.serial, "TC640-0A1B2C3D4E5F", sizeof (img.serial));
  g_assert_true (tc_flir_write_jpeg (&img, rgb, 32, 24, 90, out, &error));
  g_assert_no_error (error);
  if (!have_exiftool ()) {
    g_test_skip ("exiftool not installed");
  } else {
    const gchar *argv[] = { "exiftool", "-j", NULL, NULL };

    path = write_temp (out->data, out->len, "tc-flir-XXXXXX.jpg");
    argv[2] = path;
    json = run (argv, NULL);
    g_assert_null (json_value (json, "Warning"));
    v = json_string (json, "CameraSerialNumber");
    g_assert_cmpstr (v, ==, "0A1B2C3D4E5F");
    g_free (v);
    v = json_string (json, "SerialNumber");
    g_assert_cmpstr (v, ==, "TC640-0A1B2C3D4E5F");
    g_free (v);
    g_unlink (path);
    g_free (path);
    g_free (json);
  }
  tc_flir_image_clear (&img);
  g_free (rgb);
  g_byte_array_unref (out);
}

static void
test_jpeg_appends (void)
{
  TcFlirImage img;
  GByteArray *out = g_byte_array_new ();
  guint8 *rgb = make_rgb (32, 24);
  GError *error = NULL;

  make_image (&img, 32, 24);
  g_byte_array_append (out, (const guint8 *) "xyz", 3);
  g_assert_true (tc_flir_write_jpeg (&img, rgb, 32, 24, 75, out, &error));
  g_assert_no_error (error);
  g_assert_true (memcmp (out->data, "xyz\xff\xd8", 5) == 0);
  check_jpeg (out->data + 3, out->len - 3, rgb, 32, 24);
  g_free (img.raw);
  g_free (rgb);
  g_byte_array_unref (out);
}

static void
expect_jpeg_error (const TcFlirImage *img, const guint8 *rgb, gint w, gint h, gint q,
    gint code)
{
  GByteArray *out = g_byte_array_new ();
  GError *error = NULL;

  g_byte_array_append (out, (const guint8 *) "keep", 4);
  g_assert_false (tc_flir_write_jpeg (img, rgb, w, h, q, out, &error));
  g_assert_error (error, TC_FLIR_ERROR, code);
  g_assert_cmpuint (out->len, ==, 4);
  g_assert_true (memcmp (out->data, "keep", 4) == 0);
  g_clear_error (&error);
  /* and without a GError to fill */
  g_assert_false (tc_flir_write_jpeg (img, rgb, w, h, q, out, NULL));
  g_assert_cmpuint (out->len, ==, 4);
  g_byte_array_unref (out);
}

static void
test_jpeg_bad_arguments (void)
{
  TcFlirImage img, bad;
  guint8 *rgb = make_rgb (16, 16);
  GError *error = NULL;

  make_image (&img, 16, 16);
  expect_jpeg_error (NULL, rgb, 16, 16, 90, TC_FLIR_ERROR_CORRUPT);
  bad = img;
  bad.raw = NULL;
  expect_jpeg_error (&bad, rgb, 16, 16, 90, TC_FLIR_ERROR_CORRUPT);
  bad = img;
  bad.width = 0;
  expect_jpeg_error (&bad, rgb, 16, 16, 90, TC_FLIR_ERROR_CORRUPT);
  bad = img;
  bad.height = -3;
  expect_jpeg_error (&bad, rgb, 16, 16, 90, TC_FLIR_ERROR_CORRUPT);
  bad = img;
  bad.width = 70000;
  expect_jpeg_error (&bad, rgb, 16, 16, 90, TC_FLIR_ERROR_CORRUPT);
  bad = img;
  bad.cal.r1 = NAN;
  expect_jpeg_error (&bad, rgb, 16, 16, 90, TC_FLIR_ERROR_CORRUPT);
  bad = img;
  bad.params.emissivity = 0;
  expect_jpeg_error (&bad, rgb, 16, 16, 90, TC_FLIR_ERROR_CORRUPT);
  expect_jpeg_error (&img, NULL, 16, 16, 90, TC_FLIR_ERROR_CORRUPT);
  expect_jpeg_error (&img, rgb, 0, 16, 90, TC_FLIR_ERROR_CORRUPT);
  expect_jpeg_error (&img, rgb, 16, -1, 90, TC_FLIR_ERROR_CORRUPT);
  expect_jpeg_error (&img, rgb, 16, 16, 0, TC_FLIR_ERROR_CORRUPT);
  expect_jpeg_error (&img, rgb, 16, 16, 101, TC_FLIR_ERROR_CORRUPT);
  /* more raw data than 256 segments hold */
  bad = img;
  bad.width = 4000;
  bad.height = 3000;
  bad.raw = g_new0 (guint16, (gsize) 4000 * 3000);
  expect_jpeg_error (&bad, rgb, 16, 16, 90, TC_FLIR_ERROR_UNSUPPORTED);
  g_free (bad.raw);

  g_assert_false (tc_flir_write_jpeg (&img, rgb, 16, 16, 90, NULL, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT);
  g_clear_error (&error);

  g_free (img.raw);
  g_free (rgb);
}

/* ------------------------------------------------------------ TIFF tests */

static void
check_tiff_round_trip (gint width, gint height)
{
  gchar *dir = g_dir_make_tmp ("tc-tiff-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "frame.tif", NULL);
  guint16 *ck = g_new (guint16, (gsize) width * height), *back;
  GError *error = NULL;
  gint w, h;
  gsize i;

  for (i = 0; i < (gsize) width * height; i++)
    ck[i] = (guint16) ((i * 7919u + 29315u) & 0xffff);
  ck[0] = 0;
  ck[(gsize) width * height - 1] = 65535;
  g_assert_true (tc_tiff_write_centikelvin (path, ck, width, height, &error));
  g_assert_no_error (error);
  back = read_tiff16 (path, &w, &h);
  g_assert_cmpint (w, ==, width);
  g_assert_cmpint (h, ==, height);
  g_assert_true (memcmp (back, ck, (gsize) width * height * 2) == 0);
  g_free (back);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  g_free (ck);
}

static void
test_tiff_round_trip (void)
{
  check_tiff_round_trip (1, 1);
  check_tiff_round_trip (97, 53);
  check_tiff_round_trip (640, 512);
}

static void
test_tiff_errors (void)
{
  gchar *dir = g_dir_make_tmp ("tc-tiff-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "frame.tif", NULL);
  gchar *missing = g_build_filename (dir, "no-such-dir", "frame.tif", NULL);
  guint16 ck[16] = { 0 };
  GError *error = NULL;

  g_assert_false (tc_tiff_write_centikelvin (path, NULL, 4, 4, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_false (tc_tiff_write_centikelvin (path, ck, 0, 4, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_false (tc_tiff_write_centikelvin (path, ck, 4, -4, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_false (tc_tiff_write_centikelvin (NULL, ck, 4, 4, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  g_assert_false (tc_tiff_write_centikelvin (missing, ck, 4, 4, &error));
  g_assert_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_IO);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));

  g_rmdir (dir);
  g_free (missing);
  g_free (path);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/flir-write/jpeg-160x120", test_jpeg_160);
  g_test_add_func ("/flir-write/jpeg-640x512", test_jpeg_640);
  g_test_add_func ("/flir-write/jpeg-picture-size-and-make", test_jpeg_picture_size_and_make);
  g_test_add_func ("/flir-write/jpeg-appends", test_jpeg_appends);
  g_test_add_func ("/flir-write/jpeg-long-serial", test_jpeg_long_serial);
  g_test_add_func ("/flir-write/jpeg-bad-arguments", test_jpeg_bad_arguments);
  g_test_add_func ("/flir-write/tiff-round-trip", test_tiff_round_trip);
  g_test_add_func ("/flir-write/tiff-errors", test_tiff_errors);
  return g_test_run ();
}
