/* the fragmented-MP4 writer (appliance/media/tcd-fmp4.c): H.264 made by
 * x264enc, written as init + one media segment per access unit; the boxes
 * read back (sequence numbers, baseMediaDecodeTime, key-frame flags, data
 * offsets), then ffprobe and GStreamer's qtdemux read the file: the codec,
 * the size, every frame and its key flag
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "tcd-fmp4.h"

#define W 320
#define H 240
#define FRAMES 30
#define KEY_INT 10

static guint32
rd32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint64
rd64 (const guint8 *p)
{
  return ((guint64) rd32 (p) << 32) | rd32 (p + 4);
}

/* the box @type among the boxes of [p, p + len), or NULL; *blen its size */
static const guint8 *
find_box (const guint8 *p, gsize len, const gchar *type, gsize *blen)
{
  gsize at = 0;

  while (at + 8 <= len) {
    guint32 sz = rd32 (p + at);
    if (sz < 8 || at + sz > len)
      return NULL;
    if (memcmp (p + at + 4, type, 4) == 0) {
      *blen = sz;
      return p + at;
    }
    at += sz;
  }
  return NULL;
}

/* the box at the end of a path of box types, "moof/traf/tfdt" */
static const guint8 *
find_path (const guint8 *p, gsize len, const gchar *path, gsize *blen)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  const guint8 *b = p;
  gsize l = len;

  for (guint i = 0; parts[i]; i++) {
    /* into a box: past its header (and the 8 bytes of stsd, 78 of avc1) */
    if (i > 0) {
      gsize skip = 8;
      if (memcmp (b + 4, "stsd", 4) == 0)
        skip = 16;
      else if (memcmp (b + 4, "avc1", 4) == 0)
        skip = 86;
      b += skip;
      l -= skip;
    }
    if (!(b = find_box (b, l, parts[i], &l)))
      return NULL;
  }
  *blen = l;
  return b;
}

/* H.264 of a test pattern: FRAMES frames, an IDR every KEY_INT */
static GPtrArray *
make_h264 (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=%d pattern=ball ! "
      "video/x-raw,format=I420,width=%d,height=%d,framerate=10/1 ! "
      "x264enc tune=zerolatency key-int-max=%d speed-preset=ultrafast ! "
      "video/x-h264,stream-format=avc,alignment=au ! appsink name=sink sync=false",
      FRAMES, W, H, KEY_INT);
  GstElement *p = gst_parse_launch (desc, &err);
  GstElement *sink;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_sample_unref);
  GstSample *s;

  g_assert_no_error (err);
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  gst_element_set_state (p, GST_STATE_PLAYING);
  while ((s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND)))
    g_ptr_array_add (out, s);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  return out;
}

static gchar *tmpdir;
static GPtrArray *h264;
static gchar *file;             /* init + segments */
static GByteArray *init_seg;
static GPtrArray *segs;         /* GByteArray */

static void
test_write (void)
{
  GstSample *first = h264->pdata[0];
  g_autoptr (GError) err = NULL;
  g_autoptr (TcdFmp4) f = tcd_fmp4_new_from_caps (gst_sample_get_caps (first), &err);
  g_autoptr (GByteArray) all = g_byte_array_new ();
  gsize bl;
  const guint8 *b;

  g_assert_no_error (err);
  g_assert_nonnull (f);
  g_assert_cmpuint (h264->len, ==, FRAMES);
  g_assert_true (g_str_has_prefix (tcd_fmp4_codecs (f), "avc1.42") || g_str_has_prefix
      (tcd_fmp4_codecs (f), "avc1.4d") || g_str_has_prefix (tcd_fmp4_codecs (f), "avc1.64"));
  g_assert_cmpuint (strlen (tcd_fmp4_codecs (f)), ==, 11);
  g_assert_cmpuint (tcd_fmp4_default_duration (f), ==, 9000);

  init_seg = g_byte_array_new ();
  tcd_fmp4_write_init (f, init_seg);
  g_assert_nonnull (find_box (init_seg->data, init_seg->len, "ftyp", &bl));
  g_assert_nonnull ((b = find_box (init_seg->data, init_seg->len, "moov", &bl)));
  g_assert_cmpuint (rd32 (init_seg->data) + bl, ==, init_seg->len);
  g_assert_nonnull ((b = find_path (init_seg->data, init_seg->len,
              "moov/trak/mdia/mdhd", &bl)));
  g_assert_cmpuint (rd32 (b + 20), ==, 90000);
  g_assert_nonnull ((b = find_path (init_seg->data, init_seg->len,
              "moov/trak/mdia/minf/stbl/stsd/avc1", &bl)));
  g_assert_cmpuint ((b[32] << 8) | b[33], ==, W);
  g_assert_cmpuint ((b[34] << 8) | b[35], ==, H);
  g_assert_nonnull (find_path (init_seg->data, init_seg->len,
          "moov/trak/mdia/minf/stbl/stsd/avc1/avcC", &bl));
  g_assert_nonnull (find_path (init_seg->data, init_seg->len, "moov/mvex/trex", &bl));
  g_byte_array_append (all, init_seg->data, init_seg->len);

  segs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_byte_array_unref);
  for (guint i = 0; i < h264->len; i++) {
    GstBuffer *buf = gst_sample_get_buffer (h264->pdata[i]);
    GstMapInfo map;
    GByteArray *o = g_byte_array_new ();
    gboolean key = !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
    guint64 dts = 1000000 + (guint64) i * 9000;   /* any start: the decode time is as given */

    g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
    tcd_fmp4_write_segment (f, o, map.data, map.size, dts, 9000, 0, key);
    /* moof { mfhd: sequence, traf { tfdt: decode time, trun: flags } }, mdat */
    b = find_path (o->data, o->len, "moof/mfhd", &bl);
    g_assert_nonnull (b);
    g_assert_cmpuint (rd32 (b + 12), ==, i + 1);
    b = find_path (o->data, o->len, "moof/traf/tfdt", &bl);
    g_assert_nonnull (b);
    g_assert_cmpuint (b[8], ==, 1);
    g_assert_cmpuint (rd64 (b + 12), ==, dts);
    b = find_path (o->data, o->len, "moof/traf/trun", &bl);
    g_assert_nonnull (b);
    g_assert_cmpuint (rd32 (b + 12), ==, 1);
    {
      /* the data offset leads to the AU's first byte */
      guint32 off = rd32 (b + 16);
      g_assert_cmpuint (off + map.size, ==, o->len);
      g_assert_cmpmem (o->data + off, map.size, map.data, map.size);
      g_assert_cmpuint (rd32 (b + 20), ==, 9000);
      g_assert_cmpuint (rd32 (b + 24), ==, map.size);
      g_assert_cmpuint (rd32 (b + 28), ==, key ? 0x02000000 : 0x01010000);
    }
    g_assert_nonnull (find_box (o->data, o->len, "mdat", &bl));
    g_assert_cmpuint ((i % KEY_INT) == 0, ==, key);
    gst_buffer_unmap (buf, &map);
    g_byte_array_append (all, o->data, o->len);
    g_ptr_array_add (segs, o);
  }
  g_assert_cmpuint (tcd_fmp4_get_sequence (f), ==, FRAMES + 1);
  file = g_build_filename (tmpdir, "live.mp4", NULL);
  g_assert_true (g_file_set_contents (file, (const gchar *) all->data, all->len, NULL));
}

static void
test_refuses (void)
{
  static const guint8 bad[] = { 2, 0x42, 0, 0x1e, 0xff, 0xe1, 0 };
  g_autoptr (GError) err = NULL;
  g_autoptr (GstCaps) raw = gst_caps_from_string ("video/x-raw,width=4,height=4");
  g_autoptr (GstCaps) bs = gst_caps_from_string
      ("video/x-h264,stream-format=byte-stream,width=4,height=4");

  g_assert_null (tcd_fmp4_new (bad, sizeof bad, 4, 4, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);
  g_assert_null (tcd_fmp4_new (bad, 3, 4, 4, &err));
  g_clear_error (&err);
  g_assert_null (tcd_fmp4_new_from_caps (raw, &err));
  g_clear_error (&err);
  g_assert_null (tcd_fmp4_new_from_caps (bs, &err));
  g_clear_error (&err);
  g_assert_null (tcd_fmp4_new_from_caps (NULL, &err));
}

static void
test_ffprobe (void)
{
  g_autofree gchar *out = NULL, *errs = NULL;
  gint status = 0;
  const gchar *argv[] = { "ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
    "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "json", file, NULL };
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *s;

  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
          &out, &errs, &status, NULL));
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (errs, ==, "");
  g_assert_true (json_parser_load_from_data (p, out, -1, NULL));
  s = json_array_get_object_element (json_object_get_array_member (json_node_get_object
          (json_parser_get_root (p)), "streams"), 0);
  g_assert_cmpstr (json_object_get_string_member (s, "codec_name"), ==, "h264");
  g_assert_cmpint (json_object_get_int_member (s, "width"), ==, W);
  g_assert_cmpint (json_object_get_int_member (s, "height"), ==, H);
  g_assert_cmpstr (json_object_get_string_member (s, "nb_read_frames"), ==, G_STRINGIFY (FRAMES));
}

/* qtdemux of the file: every access unit, unchanged, its key flag, its time */
static void
test_qtdemux (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! qtdemux ! "
      "video/x-h264,stream-format=avc ! appsink name=sink sync=false", file);
  GstElement *p = gst_parse_launch (desc, &err);
  GstElement *sink;
  GstSample *s;
  guint n = 0;

  g_assert_no_error (err);
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  gst_element_set_state (p, GST_STATE_PLAYING);
  while ((s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND))) {
    GstBuffer *got = gst_sample_get_buffer (s);
    GstBuffer *want = gst_sample_get_buffer (h264->pdata[MIN (n, h264->len - 1)]);
    GstMapInfo a, b;
    gboolean key = !GST_BUFFER_FLAG_IS_SET (got, GST_BUFFER_FLAG_DELTA_UNIT);

    g_assert_true (gst_buffer_map (got, &a, GST_MAP_READ));
    g_assert_true (gst_buffer_map (want, &b, GST_MAP_READ));
    g_assert_cmpmem (a.data, a.size, b.data, b.size);
    gst_buffer_unmap (got, &a);
    gst_buffer_unmap (want, &b);
    g_assert_cmpuint (key, ==, (n % KEY_INT) == 0);
    /* the first sample at its baseMediaDecodeTime (1000000 / 90000 s), the
     * next 9000 ticks of 90 kHz (100 ms) apart */
    g_assert_cmpuint (GST_BUFFER_DTS_OR_PTS (got), ==,
        gst_util_uint64_scale (1000000 + (guint64) n * 9000, GST_SECOND, 90000));
    n++;
    gst_sample_unref (s);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  g_assert_cmpuint (n, ==, FRAMES);
}

int
main (int argc, char **argv)
{
  int r;

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  tmpdir = g_dir_make_tmp ("test-fmp4-XXXXXX", NULL);
  h264 = make_h264 ();
  g_test_add_func ("/fmp4/write", test_write);
  g_test_add_func ("/fmp4/refuses", test_refuses);
  g_test_add_func ("/fmp4/ffprobe", test_ffprobe);
  g_test_add_func ("/fmp4/qtdemux", test_qtdemux);
  r = g_test_run ();
  if (file)
    g_unlink (file);
  g_rmdir (tmpdir);
  return r;
}
