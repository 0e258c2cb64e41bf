/* thermocam: the command-line tool, run as a user runs it
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tiffio.h>
#include <stdlib.h>

#include "tc-flir.h"
#include "tc-radiometry.h"

static const gchar *samples[] = {
  "DJI_XT2.jpg", "FLIR.jpg", "FLIR_AX8.jpg", "FLIR_E40.jpg", "FLIR_T640.jpg",
  "IR_2412.jpg", "IR_6357.jpg", "frame_000000.fff",
};

/* runs thermocam with @args; returns its exit status, stdout, stderr */
static gint
run (const gchar *const *args, gchar **out, gchar **err)
{
  GPtrArray *argv = g_ptr_array_new ();
  gint status = -1;
  GError *error = NULL;

  g_ptr_array_add (argv, (gpointer) g_getenv ("THERMOCAM_BIN"));
  for (; *args; args++)
    g_ptr_array_add (argv, (gpointer) * args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, 0, NULL, NULL,
          out, err, &status, &error));
  g_assert_no_error (error);
  g_ptr_array_free (argv, TRUE);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static JsonObject *
parse (JsonParser *p, const gchar *text)
{
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  return json_node_get_object (json_parser_get_root (p));
}

/* The published formula (Thermimage raw2temp), written out, on the file's own
 * raw values and parameters */
static gdouble
raw2temp (gdouble raw, const TcCalibration *c, const TcObjectParams *p)
{
  gdouble E = p->emissivity, OD = p->distance, RT = p->reflected_temp;
  gdouble AT = p->atmospheric_temp, WT = p->window_temp, IRT = p->window_transmission;
  gdouble h2o = p->relative_humidity * exp (1.5587 + 0.06939 * AT - 0.00027816 * AT * AT +
      0.00000068455 * AT * AT * AT);
  gdouble tau = c->atx * exp (-sqrt (OD / 2) * (c->ata1 + c->atb1 * sqrt (h2o))) +
      (1 - c->atx) * exp (-sqrt (OD / 2) * (c->ata2 + c->atb2 * sqrt (h2o)));
  gdouble refl = c->r1 / (c->r2 * (exp (c->b / (RT + 273.15)) - c->f)) - c->o;
  gdouble atm = c->r1 / (c->r2 * (exp (c->b / (AT + 273.15)) - c->f)) - c->o;
  gdouble win = c->r1 / (c->r2 * (exp (c->b / (WT + 273.15)) - c->f)) - c->o;
  gdouble obj = raw / E / tau / IRT / tau - (1 - tau) / E / tau * atm -
      (1 - tau) / E / tau / IRT / tau * atm - (1 - IRT) / E / tau / IRT * win -
      (1 - E) / E * refl;

  return c->b / log (c->r1 / (c->r2 * (obj + c->o)) + c->f) - 273.15;
}

static void
test_measure_every_sample (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (samples); i++) {
    g_autofree gchar *path = g_build_filename (g_getenv ("THERMOCAM_SAMPLES"),
        samples[i], NULL);
    g_autofree gchar *out = NULL, *err = NULL;
    g_autoptr (JsonParser) p = json_parser_new ();
    g_autoptr (GError) error = NULL;
    const gchar *args[] = { "measure", path, "--json", "--point", "10,10",
      "--line", "0,0,20,20", "--area", "5,5,40,5,40,30,5,30", NULL
    };
    TcFlirImage img = { 0 };
    JsonObject *o;
    JsonArray *rules;
    gdouble mn = INFINITY, mx = -INFINITY, sum = 0, v;
    gsize k, n;

    g_assert_cmpint (run (args, &out, &err), ==, 0);
    o = parse (p, out);
    g_assert_true (tc_flir_read_file (path, &img, &error));
    n = (gsize) img.width * img.height;
    for (k = 0; k < n; k++) {
      v = raw2temp (img.raw[k], &img.cal, &img.params);
      mn = MIN (mn, v);
      mx = MAX (mx, v);
      sum += v;
    }
    g_test_message ("%s: %dx%d min %.4f max %.4f mean %.4f (formula %.4f %.4f %.4f)",
        samples[i], img.width, img.height, json_object_get_double_member (o, "min"),
        json_object_get_double_member (o, "max"),
        json_object_get_double_member (o, "mean"), mn, mx, sum / n);
    g_assert_cmpint (json_object_get_int_member (o, "width"), ==, img.width);
    g_assert_cmpint (json_object_get_int_member (o, "height"), ==, img.height);
    g_assert_cmpfloat (fabs (json_object_get_double_member (o, "min") - mn), <, 0.01);
    g_assert_cmpfloat (fabs (json_object_get_double_member (o, "max") - mx), <, 0.01);
    g_assert_cmpfloat (fabs (json_object_get_double_member (o, "mean") - sum / n), <, 0.01);
    rules = json_object_get_array_member (o, "rules");
    g_assert_cmpuint (json_array_get_length (rules), ==, 3);
    {
      JsonObject *pt = json_array_get_object_element (rules, 0);

      g_assert_cmpstr (json_object_get_string_member (pt, "type"), ==, "point");
      g_assert_cmpfloat (fabs (json_object_get_double_member (pt, "value") -
              raw2temp (img.raw[10 * img.width + 10], &img.cal, &img.params)), <, 0.01);
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rules,
                  1), "type"), ==, "line");
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rules,
                  2), "type"), ==, "area");
    }
    tc_flir_image_clear (&img);
  }
}

static void
test_overrides_and_errors (void)
{
  g_autofree gchar *path = g_build_filename (g_getenv ("THERMOCAM_SAMPLES"),
      "IR_2412.jpg", NULL);
  g_autofree gchar *o1 = NULL, *o2 = NULL, *e = NULL;
  g_autoptr (JsonParser) p1 = json_parser_new (), p2 = json_parser_new ();
  const gchar *a1[] = { "measure", path, "--json", NULL };
  const gchar *a2[] = { "measure", path, "--json", "--emissivity", "0.5", NULL };
  const gchar *missing[] = { "measure", "/nonexistent.jpg", NULL };
  const gchar *bad_point[] = { "measure", path, "--point", "9999,1", NULL };
  const gchar *bad_opt[] = { "measure", path, "--frobnicate", NULL };
  const gchar *no_file[] = { "render", "--palette", "ironbow", NULL };
  const gchar *bad_palette[] = { "render", path, "--palette", "plaid", "-o", "/tmp/x.png", NULL };
  gchar *plain = NULL;
  const gchar *plain_args[2][3] = { {"measure", NULL, NULL}, {NULL} };

  g_assert_cmpint (run (a1, &o1, NULL), ==, 0);
  g_assert_cmpint (run (a2, &o2, NULL), ==, 0);
  g_assert_cmpfloat (json_object_get_double_member (parse (p2, o2), "max"), >,
      json_object_get_double_member (parse (p1, o1), "max") + 5);

  g_assert_cmpint (run (missing, NULL, &e), ==, 1);
  g_assert_nonnull (strstr (e, "nonexistent"));
  g_clear_pointer (&e, g_free);
  g_assert_cmpint (run (bad_point, NULL, &e), !=, 0);
  g_assert_nonnull (strstr (e, "9999"));
  g_clear_pointer (&e, g_free);
  g_assert_cmpint (run (bad_opt, NULL, &e), ==, 2);
  g_clear_pointer (&e, g_free);
  g_assert_cmpint (run (no_file, NULL, &e), ==, 2);
  g_clear_pointer (&e, g_free);
  g_assert_cmpint (run (bad_palette, NULL, &e), ==, 2);
  g_assert_nonnull (strstr (e, "plaid"));
  g_clear_pointer (&e, g_free);

  /* a JPEG that is not radiometric */
  {
    gint fd = g_file_open_tmp ("plain-XXXXXX.jpg", &plain, NULL);
    static const guint8 jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F',
      0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xd9 };

    g_assert_cmpint (fd, >=, 0);
    g_assert_true (write (fd, jpeg, sizeof (jpeg)) == sizeof (jpeg));
    close (fd);
    plain_args[0][1] = plain;
    g_assert_cmpint (run (plain_args[0], NULL, &e), ==, 1);
    g_assert_nonnull (strstr (e, plain));
    g_clear_pointer (&e, g_free);
    g_unlink (plain);
    g_free (plain);
  }
}

static void
test_render_info_snapshot_round_trip (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("thermocam-XXXXXX", NULL);
  g_autofree gchar *png = g_build_filename (dir, "out.png", NULL);
  g_autofree gchar *snap = g_build_filename (dir, "snap.jpg", NULL);
  g_autofree gchar *path = g_build_filename (g_getenv ("THERMOCAM_SAMPLES"),
      "FLIR_E40.jpg", NULL);
  g_autofree gchar *out = NULL, *exif = NULL;
  g_autoptr (JsonParser) p = json_parser_new (), pe = json_parser_new ();
  const gchar *render[] = { "render", path, "--palette", "rainbow", "--range", "20,40",
    "-o", png, NULL
  };
  const gchar *info[] = { "info", path, "--json", NULL };
  const gchar *snapshot[] = { "snapshot", "--scene", "blackbody", "--palette", "ironbow",
    "-o", snap, NULL
  };
  const gchar *measure[] = { "measure", snap, "--json", NULL };
  gchar *exargv[] = { (gchar *) "exiftool", (gchar *) "-j", (gchar *) "-n", snap, NULL };
  gchar *data = NULL;
  gsize len;
  gint status;
  JsonObject *o;

  /* render: a PNG of the image's size */
  g_assert_cmpint (run (render, NULL, NULL), ==, 0);
  g_assert_true (g_file_get_contents (png, &data, &len, NULL));
  g_assert_cmpmem (data + 1, 3, "PNG", 3);
  g_assert_cmpuint (GUINT32_FROM_BE (*(guint32 *) (data + 16)), ==, 160);
  g_assert_cmpuint (GUINT32_FROM_BE (*(guint32 *) (data + 20)), ==, 120);
  g_free (data);

  /* info: the calibration */
  g_assert_cmpint (run (info, &out, NULL), ==, 0);
  o = parse (p, out);
  g_assert_cmpfloat (json_object_get_double_member (o, "PlanckR1"), >, 1000);
  g_assert_cmpint (json_object_get_int_member (o, "RawThermalImageWidth"), ==, 160);
  g_clear_pointer (&out, g_free);

  /* snapshot of the blackbody (35 C), read back by us and by exiftool */
  g_assert_cmpint (run (snapshot, &out, NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (measure, &out, NULL), ==, 0);
  o = parse (p, out);
  g_test_message ("snapshot of a 35 C blackbody reads %.3f C mean (%.3f..%.3f)",
      json_object_get_double_member (o, "mean"), json_object_get_double_member (o, "min"),
      json_object_get_double_member (o, "max"));
  g_assert_cmpfloat (fabs (json_object_get_double_member (o, "mean") - 35.0), <, 0.05);
  g_assert_cmpfloat (json_object_get_double_member (o, "max") -
      json_object_get_double_member (o, "min"), <, 1.0);
  g_assert_true (g_spawn_sync (NULL, exargv, NULL, G_SPAWN_SEARCH_PATH |
          G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &exif, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_data (pe, exif, -1, NULL));
  o = json_array_get_object_element (json_node_get_array (json_parser_get_root (pe)), 0);
  g_assert_true (json_object_has_member (o, "PlanckR1"));
  g_assert_cmpint (json_object_get_int_member (o, "RawThermalImageWidth"), ==, 640);
  /* no trademark as the make */
  if (json_object_has_member (o, "Make"))
    g_assert_null (strstr (json_object_get_string_member (o, "Make"), "FLIR"));
  /* export: the temperatures as a 16-bit TIFF in centikelvin */
  {
    g_autofree gchar *tif = g_build_filename (dir, "t.tiff", NULL);
    const gchar *exp[] = { "export", snap, "-o", tif, NULL };
    TIFF *tf;
    guint32 tw = 0, th = 0;
    guint16 bps = 0, row[640];

    g_assert_cmpint (run (exp, NULL, NULL), ==, 0);
    tf = TIFFOpen (tif, "r");
    g_assert_nonnull (tf);
    TIFFGetField (tf, TIFFTAG_IMAGEWIDTH, &tw);
    TIFFGetField (tf, TIFFTAG_IMAGELENGTH, &th);
    TIFFGetField (tf, TIFFTAG_BITSPERSAMPLE, &bps);
    g_assert_cmpuint (tw, ==, 640);
    g_assert_cmpuint (th, ==, 512);
    g_assert_cmpuint (bps, ==, 16);
    for (guint r = 0; r <= 256; r++)      /* compressed strips: read in order */
      g_assert_cmpint (TIFFReadScanline (tf, row, r, 0), ==, 1);
    /* the 35 C blackbody: 30815 centikelvin, give or take the noise */
    g_assert_cmpint (abs ((gint) row[320] - 30815), <, 40);
    TIFFClose (tf);
    g_unlink (tif);
  }
  g_unlink (png);
  g_unlink (snap);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/thermocam/measure-every-sample", test_measure_every_sample);
  g_test_add_func ("/thermocam/overrides-and-errors", test_overrides_and_errors);
  g_test_add_func ("/thermocam/render-info-snapshot-round-trip",
      test_render_info_snapshot_round_trip);
  return g_test_run ();
}
