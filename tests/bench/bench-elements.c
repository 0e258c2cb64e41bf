/* thermocam: the cost of each element per frame, and what OpenCV and numpy
 * take for the same work.  Prints JSON.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each element runs in a GstHarness on realistic frames from the simulated
 * sensor; the figure is the median time of push + pull over many frames
 * (so it includes GStreamer's per-buffer overhead).  The core kernel alone is
 * reported beside it.  Usage: bench-elements [--frames N] [--no-compare]
 */
#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "tc-dnr.h"
#include "tc-nuc.h"
#include "tc-palette.h"
#include "tc-radiometry.h"
#include "tc-sim.h"

#define N_INPUTS 8

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof (double), cmp_double);
  return v[n / 2];
}

/* median ms of push+pull through @h over @frames frames cycling @inputs.
 * For in-place elements (@own), each frame is a private copy made before
 * the clock starts, stamped 30 frames a second. */
static double
time_harness_full (GstHarness *h, GstBuffer **inputs, int frames, gboolean own)
{
  double *t = g_new (double, frames);
  double m;
  int i;

  for (i = -5; i < frames; i++) {     /* 5 to warm up: negotiation, pools, tables */
    GstBuffer *in = own ? gst_buffer_copy_deep (inputs[(i + 5) % N_INPUTS]) :
        gst_buffer_ref (inputs[(i + 5) % N_INPUTS]);
    gint64 t0;
    GstBuffer *out;

    if (own)
      GST_BUFFER_PTS (in) = (i + 5) * GST_SECOND / 30;
    t0 = g_get_monotonic_time ();
    out = gst_harness_push_and_pull (h, in);
    if (i >= 0)
      t[i] = (g_get_monotonic_time () - t0) / 1000.0;
    gst_buffer_unref (out);
  }
  m = median (t, frames);
  g_free (t);
  return m;
}

static double
time_harness (GstHarness *h, GstBuffer **inputs, int frames)
{
  return time_harness_full (h, inputs, frames, FALSE);
}

static GstHarness *
harness (const gchar *element, const gchar *in_caps, const gchar *out_caps)
{
  GstHarness *h = gst_harness_new (element);

  gst_harness_set_src_caps_str (h, in_caps);
  if (out_caps)
    gst_harness_set_sink_caps_str (h, out_caps);
  return h;
}

static GstBuffer *
wrap (const guint16 *data, gsize n)
{
  return gst_buffer_new_memdup (data, n * 2);
}

static gboolean
write_file (const gchar *path, const void *data, gsize len)
{
  return g_file_set_contents (path, data, len, NULL);
}

static JsonNode *
run_compare (int w, int h, const gchar *dir, guint16 *raw, guint16 *temp,
    const TcCalibration *cal, const TcObjectParams *obj, int frames)
{
  g_autofree gchar *raw_path = g_build_filename (dir, "raw.u16", NULL);
  g_autofree gchar *temp_path = g_build_filename (dir, "temp.u16", NULL);
  g_autofree gchar *cal_path = g_build_filename (dir, "cal.json", NULL);
  g_autofree gchar *script = g_build_filename (SOURCE_DIR, "compare.py", NULL);
  g_autofree gchar *ws = g_strdup_printf ("%d", w), *hs = g_strdup_printf ("%d", h);
  g_autofree gchar *fs = g_strdup_printf ("%d", frames);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree gchar *cal_json = NULL, *out = NULL, *err = NULL;
  gint status = 0;
  gchar *argv[] = { (gchar *) "/usr/bin/python3", script, (gchar *) "--width", ws,
    (gchar *) "--height", hs, (gchar *) "--raw", raw_path, (gchar *) "--temperature",
    temp_path, (gchar *) "--calibration", cal_path, (gchar *) "--frames", fs, NULL };
  JsonNode *root;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "calibration");
  json_builder_begin_object (b);
#define D(k, v) json_builder_set_member_name (b, k); json_builder_add_double_value (b, v)
  D ("r1", cal->r1); D ("r2", cal->r2); D ("b", cal->b); D ("f", cal->f); D ("o", cal->o);
  D ("ata1", cal->ata1); D ("ata2", cal->ata2); D ("atb1", cal->atb1);
  D ("atb2", cal->atb2); D ("atx", cal->atx);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "params");
  json_builder_begin_object (b);
  D ("emissivity", obj->emissivity); D ("distance", obj->distance);
  D ("reflected_temp", obj->reflected_temp); D ("atmospheric_temp", obj->atmospheric_temp);
  D ("relative_humidity", obj->relative_humidity); D ("window_temp", obj->window_temp);
  D ("window_transmission", obj->window_transmission);
#undef D
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  cal_json = json_generator_to_data (gen, NULL);
  json_node_unref (root);

  if (!write_file (raw_path, raw, (gsize) w * h * 2) ||
      !write_file (temp_path, temp, (gsize) w * h * 2) ||
      !write_file (cal_path, cal_json, strlen (cal_json)))
    return NULL;
  if (!g_spawn_sync (NULL, argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL)) {
    g_printerr ("compare.py failed (is python3-opencv/python3-numpy installed?): %s\n",
        err ? err : "");
    return NULL;
  }
  g_unlink (raw_path);
  g_unlink (temp_path);
  g_unlink (cal_path);
  if (!json_parser_load_from_data (parser, out, -1, NULL))
    return NULL;
  return json_node_copy (json_parser_get_root (parser));
}

static void
bench_size (JsonBuilder *out, int w, int h, int frames, gboolean compare,
    const gchar *dir)
{
  gsize n = (gsize) w * h;
  TcSimConfig cfg;
  TcSim *sim;
  TcChain chain;
  GstBuffer *raw[N_INPUTS], *temp[N_INPUTS];
  guint16 *frame = g_new (guint16, n), *tframe = g_new (guint16, n);
  guint16 *lut = g_new (guint16, 65536), lo, hi;
  g_autofree gchar *caps = g_strdup_printf ("video/x-raw,format=GRAY16_LE,width=%d,"
      "height=%d,framerate=30/1", w, h);
  g_autofree gchar *tcaps = g_strdup_printf ("%s,temperature-scale=(double)0.01", caps);
  g_autofree gchar *nuc_path = g_build_filename (dir, "bench.nuc", NULL);
  GString *bad_list = g_string_new (NULL);
  const guint32 *bad;
  gsize n_bad, i;
  double *t = g_new (double, frames);
  double sim_ms, nuc_kernel_ms, rad_kernel_ms, nuc_ms, rad_ms, pal_plateau_ms;
  double pal_linear_i420_ms, pal_dde_ms, pal_kernel_ms, measure_ms, osd_ms, osd_i420_ms;
  double dnr_ms, dnr_temporal_ms, dnr_spatial_ms, dnr_kernel_ms[3];
  char err[256];
  GstHarness *hn, *hr, *hp;
  TcColorizer *col;
  TcPlanes planes;
  guint8 *rgbx = g_malloc (n * 4);
  int f;

  tc_sim_config_init_default (&cfg);
  cfg.width = w;
  cfg.height = h;
  sim = tc_sim_new (&cfg);
  tc_chain_init (&chain, &cfg.cal, &cfg.obj);
  tc_radiometry_lut_build (lut, &chain, 0.01, &lo, &hi);

  /* the sensor, and frames for the others */
  for (f = 0; f < frames; f++) {
    gint64 t0 = g_get_monotonic_time ();
    tc_sim_render (sim, f, f / 30.0, FALSE, (guint8 *) frame, w * 2);
    t[f] = (g_get_monotonic_time () - t0) / 1000.0;
    if (f < N_INPUTS)
      raw[f] = wrap (frame, n);
  }
  sim_ms = median (t, frames);

  /* temperature frames as the camera makes them: the whole chain, with the
   * FFC at start that finds the defects (a stray hot pixel would stretch the
   * range the palette covers) */
  {
    g_autofree gchar *desc = g_strdup_printf ("thermalsrc num-buffers=%d "
        "! video/x-raw,width=%d,height=%d,framerate=30/1 ! thermalnuc "
        "! thermalradiometry", N_INPUTS + 20, w, h);
    GstHarness *hc = gst_harness_new_parse (desc);
    GstMapInfo map;

    gst_harness_play (hc);
    for (f = 0; f < N_INPUTS; f++)
      temp[f] = gst_harness_pull (hc);
    gst_harness_teardown (hc);
    gst_buffer_map (temp[N_INPUTS - 1], &map, GST_MAP_READ);
    memcpy (tframe, map.data, n * 2);
    gst_buffer_unmap (temp[N_INPUTS - 1], &map);
  }

  /* core kernels alone */
  for (f = 0; f < frames; f++) {
    gint64 t0 = g_get_monotonic_time ();
    tc_nuc_apply (tc_sim_factory_gain (sim), tc_sim_factory_offset (sim),
        (guint8 *) frame, w * 2, (guint8 *) tframe, w * 2, w, h);
    t[f] = (g_get_monotonic_time () - t0) / 1000.0;
  }
  nuc_kernel_ms = median (t, frames);
  for (f = 0; f < frames; f++) {
    gint64 t0 = g_get_monotonic_time ();
    tc_radiometry_lut_apply (lut, lo, hi, (guint8 *) frame, w * 2, (guint8 *) tframe,
        w * 2, w, h);
    t[f] = (g_get_monotonic_time () - t0) / 1000.0;
  }
  rad_kernel_ms = median (t, frames);
  col = tc_colorizer_new ();
  tc_colorizer_configure (col, w, h, TC_PIXFMT_RGBX, TC_YUV_BT601);
  tc_colorizer_set_palette (col, TC_PALETTE_IRONBOW);
  tc_colorizer_set_agc (col, TC_AGC_PLATEAU, 0.02);
  tc_colorizer_set_range (col, TRUE, 0, 0, 0.8);
  memset (&planes, 0, sizeof (planes));
  planes.data[0] = rgbx;
  planes.stride[0] = (gsize) w * 4;
  for (f = 0; f < frames; f++) {
    GstMapInfo map;
    gint64 t0;

    gst_buffer_map (temp[f % N_INPUTS], &map, GST_MAP_READ);
    t0 = g_get_monotonic_time ();
    tc_colorizer_process (col, map.data, w * 2, &planes);
    t[f] = (g_get_monotonic_time () - t0) / 1000.0;
    gst_buffer_unmap (temp[f % N_INPUTS], &map);
  }
  pal_kernel_ms = median (t, frames);
  tc_colorizer_free (col);
  {
    TcDnr *dnr = tc_dnr_new ();
    TcDnrParams p;
    int k;

    tc_dnr_configure (dnr, w, h);
    tc_dnr_params_for_levels (&p, 50, 50, 0.01);
    tc_dnr_set_params (dnr, &p);
    /* the kernels the CPU has (what the element runs), the baseline SIMD
     * (SSE2 on x86-64), plain C */
    for (k = 0; k < 3; k++) {
      tc_dnr_set_simd (dnr, TC_DNR_SIMD_BEST - k);
      for (f = 0; f < frames; f++) {
        GstMapInfo map;
        gint64 t0;

        gst_buffer_map (temp[f % N_INPUTS], &map, GST_MAP_READ);
        t0 = g_get_monotonic_time ();
        tc_dnr_process (dnr, map.data, w * 2, (guint8 *) frame, w * 2);
        t[f] = (g_get_monotonic_time () - t0) / 1000.0;
        gst_buffer_unmap (temp[f % N_INPUTS], &map);
      }
      dnr_kernel_ms[k] = median (t, frames);
    }
    tc_dnr_free (dnr);
  }

  /* thermalnuc: the factory tables from a file, the factory defects as its list */
  tc_nuc_file_write (nuc_path, w, h, tc_sim_factory_gain (sim), tc_sim_factory_offset (sim),
      err, sizeof (err));
  bad = tc_sim_factory_bad_pixels (sim, &n_bad);
  for (i = 0; i < n_bad; i++)
    g_string_append_printf (bad_list, "%s%u,%u", i ? ";" : "", bad[i] % w, bad[i] / w);
  hn = harness ("thermalnuc", caps, NULL);
  g_object_set (hn->element, "ffc-on-start", FALSE, "tables", 1, "table-file", nuc_path,
      "defective-pixels", bad_list->str, NULL);
  nuc_ms = time_harness (hn, raw, frames);
  {
    guint count = 0;
    g_object_get (hn->element, "defective-count", &count, NULL);
    g_assert (count == n_bad);
  }
  gst_harness_teardown (hn);
  g_unlink (nuc_path);

  hr = harness ("thermalradiometry", caps, NULL);
  rad_ms = time_harness (hr, raw, frames);
  gst_harness_teardown (hr);

  /* thermalmeasure: 8 rules, 4 of them polygons each covering a quarter of
   * the frame (one concave), 2 lines, 2 points, all with alarms */
  {
    GstHarness *hm = harness ("thermalmeasure", tcaps, NULL);
    const gchar *rules = "["
        "{\"type\":\"polygon\",\"points\":[[0,0],[0.5,0],[0.5,0.5],[0,0.5]],"
        "\"alarm\":{\"pre_alarm\":60,\"alarm\":70,\"tolerance\":2}},"
        "{\"type\":\"polygon\",\"points\":[[0.5,0],[1,0],[1,0.5],[0.5,0.5]],"
        "\"alarm\":{\"on\":\"avg\",\"alarm\":70}},"
        "{\"type\":\"polygon\",\"points\":[[0,0.5],[0.5,0.5],[0.5,1],[0,1]],"
        "\"alarm\":{\"on\":\"min\",\"condition\":\"below\",\"alarm\":0}},"
        "{\"type\":\"polygon\",\"points\":[[0.5,0.5],[1,0.5],[1,0.75],[0.75,0.75],"
        "[0.75,0.8333],[1,0.8333],[1,1],[0.5,1]],\"alarm\":{\"alarm\":90}},"
        "{\"type\":\"line\",\"points\":[[0.1,0.1],[0.9,0.9]],\"alarm\":{\"alarm\":90}},"
        "{\"type\":\"line\",\"points\":[[0.1,0.9],[0.9,0.1]],\"alarm\":{\"alarm\":90}},"
        "{\"type\":\"point\",\"points\":[[0.3,0.3]],\"alarm\":{\"alarm\":90}},"
        "{\"type\":\"point\",\"points\":[[0.7,0.7]],\"alarm\":{\"alarm\":90}}]";

    g_object_set (hm->element, "rules", rules, "message-interval", 0, NULL);
    measure_ms = time_harness (hm, temp, frames);
    gst_harness_teardown (hm);

    /* thermalosd on the pictures of those rules: the 8 rules with their
     * readings (changing once a second), the ruler, name, date, two lines */
    {
      const char *formats[2] = { "RGBx", "I420" };
      double *res[2] = { &osd_ms, &osd_i420_ms };
      int k;

      for (k = 0; k < 2; k++) {
        g_autofree gchar *desc = g_strdup_printf ("thermalmeasure name=m message-interval=0 "
            "! thermalpalette ! capsfilter caps=video/x-raw,format=%s", formats[k]);
        GstHarness *hc = gst_harness_new_parse (desc);
        GstElement *m = gst_harness_find_element (hc, "thermalmeasure");
        GstBuffer *pic[N_INPUTS];
        GstHarness *ho;

        g_object_set (m, "rules", rules, NULL);
        gst_object_unref (m);
        gst_harness_set_src_caps_str (hc, tcaps);
        for (f = 0; f < N_INPUTS; f++)
          pic[f] = gst_harness_push_and_pull (hc, gst_buffer_ref (temp[f]));
        ho = gst_harness_new ("thermalosd");
        gst_harness_set_src_caps (ho, gst_pad_get_current_caps (hc->sinkpad));
        g_object_set (ho->element, "show-ruler", TRUE, "camera-name", "Line 3",
            "text-lines", "Kiln A\nZone 2", NULL);
        *res[k] = time_harness_full (ho, pic, frames, TRUE);
        gst_harness_teardown (ho);
        for (f = 0; f < N_INPUTS; f++)
          gst_buffer_unref (pic[f]);
        gst_harness_teardown (hc);
      }
    }
  }

  hp = harness ("thermalpalette", tcaps, "video/x-raw,format=RGBx");
  gst_util_set_object_arg (G_OBJECT (hp->element), "palette", "ironbow");
  pal_plateau_ms = time_harness (hp, temp, frames);
  g_object_set (hp->element, "dde-level", 50, NULL);
  pal_dde_ms = time_harness (hp, temp, frames);
  gst_harness_teardown (hp);

  hp = harness ("thermalpalette", tcaps, "video/x-raw,format=I420");
  gst_util_set_object_arg (G_OBJECT (hp->element), "agc", "linear");
  pal_linear_i420_ms = time_harness (hp, temp, frames);
  gst_harness_teardown (hp);

  /* thermaldnr: both filters at level 50, then each alone */
  {
    GstHarness *hd = harness ("thermaldnr", tcaps, NULL);

    dnr_ms = time_harness (hd, temp, frames);
    gst_util_set_object_arg (G_OBJECT (hd->element), "mode", "expert");
    g_object_set (hd->element, "spatial-level", 0, "temporal-level", 50, NULL);
    dnr_temporal_ms = time_harness (hd, temp, frames);
    g_object_set (hd->element, "spatial-level", 50, "temporal-level", 0, NULL);
    dnr_spatial_ms = time_harness (hd, temp, frames);
    gst_harness_teardown (hd);
  }

  json_builder_begin_object (out);
  json_builder_set_member_name (out, "width");
  json_builder_add_int_value (out, w);
  json_builder_set_member_name (out, "height");
  json_builder_add_int_value (out, h);
  json_builder_set_member_name (out, "median_ms_per_frame");
  json_builder_begin_object (out);
#define M(k, v) json_builder_set_member_name (out, k); \
  json_builder_add_double_value (out, ((gint64) ((v) * 10000 + 0.5)) / 10000.0)
  M ("thermalsrc_render", sim_ms);
  M ("thermalnuc_dpc", nuc_ms);
  M ("thermalradiometry", rad_ms);
  M ("thermalmeasure_8_rules", measure_ms);
  M ("thermalosd_8_rules_ruler_text_rgbx", osd_ms);
  M ("thermalosd_8_rules_ruler_text_i420", osd_i420_ms);
  M ("thermalpalette_plateau_rgbx", pal_plateau_ms);
  M ("thermalpalette_linear_i420", pal_linear_i420_ms);
  M ("thermalpalette_plateau_dde50_rgbx", pal_dde_ms);
  M ("thermaldnr_normal50", dnr_ms);
  M ("thermaldnr_temporal50", dnr_temporal_ms);
  M ("thermaldnr_spatial50", dnr_spatial_ms);
  json_builder_end_object (out);
  json_builder_set_member_name (out, "core_kernel_ms_per_frame");
  json_builder_begin_object (out);
  M ("nuc_apply", nuc_kernel_ms);
  M ("radiometry_lut_apply", rad_kernel_ms);
  M ("colorizer_plateau_rgbx", pal_kernel_ms);
  M ("dnr_process_normal50", dnr_kernel_ms[0]);
  M ("dnr_process_normal50_baseline_simd", dnr_kernel_ms[1]);
  M ("dnr_process_normal50_plain_c", dnr_kernel_ms[2]);
  json_builder_end_object (out);
  if (compare) {
    JsonNode *cmp = run_compare (w, h, dir, frame, tframe, &cfg.cal, &cfg.obj,
        MIN (frames, 50));

    if (cmp) {
      JsonObject *o = json_node_get_object (cmp);
      double np_ms = json_object_get_double_member (o, "numpy_radiometry_ms");
      double cv_ms = json_object_get_double_member (o, "opencv_agc_colormap_ms");

      json_builder_set_member_name (out, "compare");
      json_builder_add_value (out, cmp);
      json_builder_set_member_name (out, "speedup");
      json_builder_begin_object (out);
      M ("thermalradiometry_vs_numpy", np_ms / rad_ms);
      M ("thermalpalette_vs_opencv", cv_ms / pal_plateau_ms);
      json_builder_end_object (out);
    }
  }
#undef M
  json_builder_end_object (out);

  for (f = 0; f < N_INPUTS; f++) {
    gst_buffer_unref (raw[f]);
    gst_buffer_unref (temp[f]);
  }
  g_string_free (bad_list, TRUE);
  tc_sim_free (sim);
  g_free (frame);
  g_free (tframe);
  g_free (lut);
  g_free (t);
  g_free (rgbx);
}

int
main (int argc, char **argv)
{
  gint frames = 200;
  gboolean no_compare = FALSE;
  GOptionEntry entries[] = {
    {"frames", 'n', 0, G_OPTION_ARG_INT, &frames, "Frames per figure", "N"},
    {"no-compare", 0, 0, G_OPTION_ARG_NONE, &no_compare, "Skip OpenCV/numpy", NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- thermocam element costs");
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree gchar *dir = g_dir_make_tmp ("tcbench-XXXXXX", NULL);
  g_autofree gchar *text = NULL;
  JsonNode *root;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, NULL) || frames < 5)
    return 2;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "gstreamer");
  json_builder_add_string_value (b, gst_version_string ());
  json_builder_set_member_name (b, "cpus");
  json_builder_add_int_value (b, g_get_num_processors ());
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, frames);
  json_builder_set_member_name (b, "sizes");
  json_builder_begin_array (b);
  bench_size (b, 640, 512, frames, !no_compare, dir);
  bench_size (b, 1280, 1024, frames, !no_compare, dir);
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
  json_node_unref (root);
  g_rmdir (dir);
  return 0;
}
