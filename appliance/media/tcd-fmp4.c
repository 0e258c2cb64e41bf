/* thermocamd: a small fragmented-MP4 writer for H.264
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The boxes, as ISO/IEC 14496-12 (and -15 for avc1/avcC) lay them out:
 *
 *   init:  ftyp, moov { mvhd, trak { tkhd, mdia { mdhd, hdlr, minf { vmhd,
 *          dinf { dref { url } }, stbl { stsd { avc1 { avcC } }, stts, stsc,
 *          stsz, stco } } } }, mvex { trex } }
 *   media: moof { mfhd, traf { tfhd (default-base-is-moof), tfdt (v1),
 *          trun (v1: data offset; one sample's duration, size, flags,
 *          composition offset) } }, mdat
 *
 * Every size is written when its box is closed (box_end ()), so the layout
 * is the code's order.  Numbers are big-endian.
 */
#include "tcd-fmp4.h"

#include <string.h>

struct _TcdFmp4 {
  guint8 *avcc;
  gsize avcc_len;
  guint width, height;
  guint32 default_duration;     /* 90 kHz */
  guint32 sequence;             /* of the next media segment */
  gchar codecs[16];
};

/* sample flags (14496-12 8.8.3.1): sample_depends_on 2 (an I picture) /
 * 1 with sample_is_non_sync_sample */
#define FLAGS_SYNC 0x02000000u
#define FLAGS_NON_SYNC 0x01010000u

/* ---- writing ---- */

static void
put16 (GByteArray *o, guint16 v)
{
  guint8 b[2] = { v >> 8, v };
  g_byte_array_append (o, b, 2);
}

static void
put32 (GByteArray *o, guint32 v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (o, b, 4);
}

static void
put64 (GByteArray *o, guint64 v)
{
  put32 (o, v >> 32);
  put32 (o, (guint32) v);
}

static void
put_zeros (GByteArray *o, guint n)
{
  static const guint8 z[64];
  while (n) {
    guint k = MIN (n, sizeof z);
    g_byte_array_append (o, z, k);
    n -= k;
  }
}

static void
set32 (GByteArray *o, gsize at, guint32 v)
{
  o->data[at] = v >> 24;
  o->data[at + 1] = v >> 16;
  o->data[at + 2] = v >> 8;
  o->data[at + 3] = v;
}

/* opens a box: its offset, for box_end () */
static gsize
box (GByteArray *o, const gchar type[4])
{
  gsize at = o->len;
  put32 (o, 0);
  g_byte_array_append (o, (const guint8 *) type, 4);
  return at;
}

/* a full box: version and flags */
static gsize
full_box (GByteArray *o, const gchar type[4], guint8 version, guint32 flags)
{
  gsize at = box (o, type);
  put32 (o, ((guint32) version << 24) | (flags & 0xffffff));
  return at;
}

static void
box_end (GByteArray *o, gsize at)
{
  set32 (o, at, o->len - at);
}

/* the unity matrix of mvhd and tkhd */
static void
put_matrix (GByteArray *o)
{
  static const guint32 m[9] = { 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000 };
  for (guint i = 0; i < 9; i++)
    put32 (o, m[i]);
}

/* ---- the writer ---- */

TcdFmp4 *
tcd_fmp4_new (const guint8 *avcc, gsize avcc_len, guint width, guint height, GError **error)
{
  TcdFmp4 *f;

  /* configurationVersion 1, profile, compatibility, level, lengthSizeMinusOne
   * (3: 4-byte lengths, as GStreamer writes them), then the SPS */
  if (!avcc || avcc_len < 7 || avcc[0] != 1 || (avcc[4] & 3) != 3 || (avcc[5] & 0x1f) < 1) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "not an avcC with 4-byte NAL lengths and an SPS");
    return NULL;
  }
  if (width == 0 || height == 0 || width > 16384 || height > 16384) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, "no picture size (%ux%u)",
        width, height);
    return NULL;
  }
  f = g_new0 (TcdFmp4, 1);
  f->avcc = g_memdup2 (avcc, avcc_len);
  f->avcc_len = avcc_len;
  f->width = width;
  f->height = height;
  f->default_duration = TCD_FMP4_TIMESCALE / 25;
  f->sequence = 1;
  g_snprintf (f->codecs, sizeof f->codecs, "avc1.%02x%02x%02x", avcc[1], avcc[2], avcc[3]);
  return f;
}

TcdFmp4 *
tcd_fmp4_new_from_caps (const GstCaps *caps, GError **error)
{
  const GstStructure *s;
  const GValue *v;
  GstBuffer *cd;
  GstMapInfo map;
  gint w = 0, h = 0, num = 0, den = 0;
  TcdFmp4 *f;

  if (!caps || gst_caps_get_size (caps) < 1
      || !gst_structure_has_name ((s = gst_caps_get_structure (caps, 0)), "video/x-h264")
      || g_strcmp0 (gst_structure_get_string (s, "stream-format"), "avc") != 0
      || !(v = gst_structure_get_value (s, "codec_data")) || !GST_VALUE_HOLDS_BUFFER (v)
      || !gst_structure_get_int (s, "width", &w) || !gst_structure_get_int (s, "height", &h)) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "not video/x-h264,stream-format=avc with codec_data, width and height");
    return NULL;
  }
  cd = gst_value_get_buffer (v);
  if (!gst_buffer_map (cd, &map, GST_MAP_READ)) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, "codec_data cannot be read");
    return NULL;
  }
  f = tcd_fmp4_new (map.data, map.size, w, h, error);
  gst_buffer_unmap (cd, &map);
  if (f && gst_structure_get_fraction (s, "framerate", &num, &den) && num > 0 && den > 0)
    f->default_duration = MAX (gst_util_uint64_scale (TCD_FMP4_TIMESCALE, den, num), 1);
  return f;
}

void
tcd_fmp4_free (TcdFmp4 *f)
{
  if (!f)
    return;
  g_free (f->avcc);
  g_free (f);
}

const gchar *
tcd_fmp4_codecs (TcdFmp4 *f)
{
  return f->codecs;
}

guint
tcd_fmp4_get_width (TcdFmp4 *f)
{
  return f->width;
}

guint
tcd_fmp4_get_height (TcdFmp4 *f)
{
  return f->height;
}

guint32
tcd_fmp4_default_duration (TcdFmp4 *f)
{
  return f->default_duration;
}

guint32
tcd_fmp4_get_sequence (TcdFmp4 *f)
{
  return f->sequence;
}

static void
write_stbl (TcdFmp4 *f, GByteArray *o)
{
  gsize stbl = box (o, "stbl");
  gsize stsd = full_box (o, "stsd", 0, 0);
  gsize avc1, b;

  put32 (o, 1);                 /* entry_count */
  avc1 = box (o, "avc1");
  put_zeros (o, 6);             /* reserved */
  put16 (o, 1);                 /* data_reference_index */
  put_zeros (o, 16);            /* pre_defined, reserved, pre_defined[3] */
  put16 (o, f->width);
  put16 (o, f->height);
  put32 (o, 0x00480000);        /* 72 dpi */
  put32 (o, 0x00480000);
  put32 (o, 0);                 /* reserved */
  put16 (o, 1);                 /* frame_count */
  put_zeros (o, 32);            /* compressorname */
  put16 (o, 0x0018);            /* depth */
  put16 (o, 0xffff);            /* pre_defined = -1 */
  b = box (o, "avcC");
  g_byte_array_append (o, f->avcc, f->avcc_len);
  box_end (o, b);
  box_end (o, avc1);
  box_end (o, stsd);
  /* no samples here: they are in the fragments */
  b = full_box (o, "stts", 0, 0);
  put32 (o, 0);
  box_end (o, b);
  b = full_box (o, "stsc", 0, 0);
  put32 (o, 0);
  box_end (o, b);
  b = full_box (o, "stsz", 0, 0);
  put32 (o, 0);
  put32 (o, 0);
  box_end (o, b);
  b = full_box (o, "stco", 0, 0);
  put32 (o, 0);
  box_end (o, b);
  box_end (o, stbl);
}

void
tcd_fmp4_write_init (TcdFmp4 *f, GByteArray *o)
{
  static const gchar brands[][5] = { "isom", "iso6", "avc1", "mp41" };
  gsize moov, trak, mdia, minf, b, c;

  b = box (o, "ftyp");
  g_byte_array_append (o, (const guint8 *) "isom", 4);
  put32 (o, 0x200);
  for (guint i = 0; i < G_N_ELEMENTS (brands); i++)
    g_byte_array_append (o, (const guint8 *) brands[i], 4);
  box_end (o, b);

  moov = box (o, "moov");
  b = full_box (o, "mvhd", 0, 0);
  put32 (o, 0);                 /* creation_time */
  put32 (o, 0);                 /* modification_time */
  put32 (o, 1000);              /* timescale */
  put32 (o, 0);                 /* duration: unknown (fragments) */
  put32 (o, 0x00010000);        /* rate 1.0 */
  put16 (o, 0x0100);            /* volume 1.0 */
  put_zeros (o, 10);            /* reserved */
  put_matrix (o);
  put_zeros (o, 24);            /* pre_defined */
  put32 (o, 2);                 /* next_track_ID */
  box_end (o, b);

  trak = box (o, "trak");
  b = full_box (o, "tkhd", 0, 3);       /* enabled, in movie */
  put32 (o, 0);
  put32 (o, 0);
  put32 (o, 1);                 /* track_ID */
  put32 (o, 0);                 /* reserved */
  put32 (o, 0);                 /* duration */
  put_zeros (o, 8);             /* reserved */
  put16 (o, 0);                 /* layer */
  put16 (o, 0);                 /* alternate_group */
  put16 (o, 0);                 /* volume: video */
  put16 (o, 0);                 /* reserved */
  put_matrix (o);
  put32 (o, f->width << 16);
  put32 (o, f->height << 16);
  box_end (o, b);

  mdia = box (o, "mdia");
  b = full_box (o, "mdhd", 0, 0);
  put32 (o, 0);
  put32 (o, 0);
  put32 (o, TCD_FMP4_TIMESCALE);
  put32 (o, 0);
  put16 (o, 0x55c4);            /* language "und" */
  put16 (o, 0);
  box_end (o, b);
  b = full_box (o, "hdlr", 0, 0);
  put32 (o, 0);                 /* pre_defined */
  g_byte_array_append (o, (const guint8 *) "vide", 4);
  put_zeros (o, 12);
  g_byte_array_append (o, (const guint8 *) "thermocam video", 16);  /* with its NUL */
  box_end (o, b);

  minf = box (o, "minf");
  b = full_box (o, "vmhd", 0, 1);
  put_zeros (o, 8);             /* graphicsmode, opcolor */
  box_end (o, b);
  b = box (o, "dinf");
  c = full_box (o, "dref", 0, 0);
  put32 (o, 1);
  box_end (o, full_box (o, "url ", 0, 1));      /* the data is in this file */
  box_end (o, c);
  box_end (o, b);
  write_stbl (f, o);
  box_end (o, minf);
  box_end (o, mdia);
  box_end (o, trak);

  b = box (o, "mvex");
  c = full_box (o, "trex", 0, 0);
  put32 (o, 1);                 /* track_ID */
  put32 (o, 1);                 /* default_sample_description_index */
  put32 (o, 0);                 /* default_sample_duration */
  put32 (o, 0);                 /* default_sample_size */
  put32 (o, 0);                 /* default_sample_flags */
  box_end (o, c);
  box_end (o, b);
  box_end (o, moov);
  f->sequence = 1;
}

void
tcd_fmp4_write_segment (TcdFmp4 *f, GByteArray *o, const guint8 *au, gsize len,
    guint64 decode_time, guint32 duration, gint32 cts_offset, gboolean key)
{
  gsize moof, traf, b, data_offset_at;

  moof = box (o, "moof");
  b = full_box (o, "mfhd", 0, 0);
  put32 (o, f->sequence++);
  box_end (o, b);
  traf = box (o, "traf");
  b = full_box (o, "tfhd", 0, 0x020000);       /* default-base-is-moof */
  put32 (o, 1);                 /* track_ID */
  box_end (o, b);
  b = full_box (o, "tfdt", 1, 0);
  put64 (o, decode_time);
  box_end (o, b);
  /* data-offset, sample-duration, -size, -flags, -composition-time-offset
   * (version 1: signed) */
  b = full_box (o, "trun", 1, 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800);
  put32 (o, 1);                 /* sample_count */
  data_offset_at = o->len;
  put32 (o, 0);
  put32 (o, duration);
  put32 (o, len);
  put32 (o, key ? FLAGS_SYNC : FLAGS_NON_SYNC);
  put32 (o, (guint32) cts_offset);
  box_end (o, b);
  box_end (o, traf);
  box_end (o, moof);
  /* from the moof's first byte to the sample: past the moof and mdat's header */
  set32 (o, data_offset_at, o->len - moof + 8);
  put32 (o, len + 8);
  g_byte_array_append (o, (const guint8 *) "mdat", 4);
  g_byte_array_append (o, au, len);
}
