/* thermocam: writing FLIR-format radiometric JPEGs and centikelvin TIFFs
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The layout follows what exiftool documents and reads (Image::ExifTool::FLIR):
 *
 *   JPEG: SOI, APP0 (JFIF), APP1 "Exif" (IFD0: Make, Model, Software and the
 *   resolution tags), then the FFF record set split over APP1 segments, each
 *   starting with "FLIR\0", 0x01, the segment index and the last segment
 *   index, followed by its chunk of the FFF data; then the baseline-coded
 *   picture.
 *
 *   FFF data, all little-endian (exiftool detects the byte order from the
 *   header version, 100..199, and from the first int16u of each record, 2):
 *     0x000  header (0x40 bytes): "FFF\0", creator string[16], version 100,
 *            directory offset, directory entry count, next free index 2
 *     0x040  directory: one 0x20-byte entry a record (type, subtype, version,
 *            index id, offset, length, parent, object number, checksum)
 *     0x080  CameraInfo (type 0x20, 0x480 bytes)
 *     0x500  RawData (type 0x01, subtype 2 = little-endian raw): a 0x20-byte
 *            header of int16u (2, width, height, 0, 0, 0, width - 1, 0,
 *            height - 1, 0...), then width * height int16u.
 */
#include "tc-flir.h"

#include <glib/gstdio.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <tiffio.h>

/* FFF layout (offsets from the start of the FFF data) */
#define FFF_HEADER_SIZE        0x40
#define FFF_DIR_ENTRY_SIZE     0x20
#define FFF_VERSION            100
#define FFF_RECORD_VERSION     100
#define FFF_REC_RAW_DATA       0x01
#define FFF_REC_CAMERA_INFO    0x20
#define FFF_RAW_SUBTYPE_LE     2
#define FFF_BYTE_ORDER_MARK    2

#define CAMERA_INFO_SIZE       0x480
#define RAW_HEADER_SIZE        0x20

/* JPEG APP1 segments: the payload of a marker is at most 65533 bytes */
#define FLIR_SEG_HEADER        8
#define FLIR_SEG_PAYLOAD_MAX   65500
#define FLIR_SEG_CHUNK_MAX     (FLIR_SEG_PAYLOAD_MAX - FLIR_SEG_HEADER)
#define FLIR_SEG_COUNT_MAX     256

#define DEFAULT_MAKE           "thermocam"
#define CREATOR                "thermocam"

/* ---------------------------------------------------------------- bytes */

static inline void
put_u16 (guint8 * p, guint v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
}

static inline void
put_u32 (guint8 * p, guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static inline void
put_f32 (guint8 * p, double v)
{
  float f = (float) v;
  guint32 u;

  memcpy (&u, &f, sizeof (u));
  put_u32 (p, u);
}

/* Copies @s into a NUL-padded field of @size bytes, always NUL-terminated. */
static void
put_string (guint8 * p, gsize size, const gchar * s)
{
  gsize n = s ? strnlen (s, size - 1) : 0;

  memset (p, 0, size);
  memcpy (p, s, n);
}

/* ---------------------------------------------------------------- FFF */

/* CameraSerialNumber holds 15 characters: a longer "PREFIX-NUMBER" serial
 * is written as its NUMBER when that fits (the model names the prefix),
 * else cut; the Exif SerialNumber has it whole */
static const gchar *
camera_info_serial (const gchar * serial)
{
  const gchar *dash = strrchr (serial, '-');

  if (strlen (serial) > 15 && dash && dash[1] && strlen (dash + 1) <= 15)
    return dash + 1;
  return serial;
}

static void
fill_camera_info (guint8 * ci, const TcFlirImage * img, guint16 raw_min,
    guint16 raw_max, guint16 raw_median)
{
  const TcCalibration *cal = &img->cal;
  const TcObjectParams *p = &img->params;
  const double k = TC_KELVIN_OFFSET;
  gint64 now_us = g_get_real_time ();

  memset (ci, 0, CAMERA_INFO_SIZE);
  put_u16 (ci + 0x00, FFF_BYTE_ORDER_MARK);
  put_u16 (ci + 0x02, img->width);
  put_u16 (ci + 0x04, img->height);
  put_u32 (ci + 0x0c, img->width - 1);
  put_u32 (ci + 0x10, img->height - 1);

  put_f32 (ci + 0x20, p->emissivity);
  put_f32 (ci + 0x24, p->distance);
  put_f32 (ci + 0x28, p->reflected_temp + k);
  put_f32 (ci + 0x2c, p->atmospheric_temp + k);
  put_f32 (ci + 0x30, p->window_temp + k);
  put_f32 (ci + 0x34, p->window_transmission);
  put_f32 (ci + 0x3c, p->relative_humidity);
  put_u32 (ci + 0x50, 1);

  put_f32 (ci + 0x58, cal->r1);
  put_f32 (ci + 0x5c, cal->b);
  put_f32 (ci + 0x60, cal->f);
  put_f32 (ci + 0x70, cal->ata1);
  put_f32 (ci + 0x74, cal->ata2);
  put_f32 (ci + 0x78, cal->atb1);
  put_f32 (ci + 0x7c, cal->atb2);
  put_f32 (ci + 0x80, cal->atx);

  /* The camera range and the limits FLIR derives from it. */
  put_f32 (ci + 0x90, cal->range_max + k);
  put_f32 (ci + 0x94, cal->range_min + k);
  put_f32 (ci + 0x98, cal->range_max + 50.0 + k);      /* MaxClip */
  put_f32 (ci + 0x9c, cal->range_min - 10.0 + k);      /* MinClip */
  put_f32 (ci + 0xa0, cal->range_max + k);     /* MaxWarn */
  put_f32 (ci + 0xa4, cal->range_min + k);     /* MinWarn */
  put_f32 (ci + 0xa8, cal->range_max + 50.0 + k);      /* MaxSaturated */
  put_f32 (ci + 0xac, cal->range_min - 10.0 + k);      /* MinSaturated */

  put_string (ci + 0xd4, 32, img->model);
  put_string (ci + 0xf4, 16, "");
  put_string (ci + 0x104, 16, camera_info_serial (img->serial));
  put_string (ci + 0x114, 16, CREATOR);

  put_u32 (ci + 0x308, (guint32) (gint32) lrint (cal->o));
  put_f32 (ci + 0x30c, cal->r2);
  put_u16 (ci + 0x310, raw_min);
  put_u16 (ci + 0x312, raw_max);
  put_u16 (ci + 0x338, raw_median);
  put_u16 (ci + 0x33c, raw_max - raw_min);

  /* DateTimeOriginal: unix seconds, milliseconds, time zone minutes (UTC) */
  put_u32 (ci + 0x384, (guint32) (now_us / G_USEC_PER_SEC));
  put_u32 (ci + 0x388, (guint32) ((now_us % G_USEC_PER_SEC) / 1000));
  put_u16 (ci + 0x38c, 0);
}

static void
raw_stats (const guint16 * raw, gsize n, guint16 * min, guint16 * max,
    guint16 * median)
{
  guint32 *hist = g_new0 (guint32, 65536);
  gsize i, acc = 0;
  guint lo = 65535, hi = 0, med = 0;

  for (i = 0; i < n; i++) {
    hist[raw[i]]++;
    lo = MIN (lo, raw[i]);
    hi = MAX (hi, raw[i]);
  }
  for (i = lo; i <= hi; i++) {
    acc += hist[i];
    if (acc * 2 >= n) {
      med = (guint) i;
      break;
    }
  }
  g_free (hist);
  *min = lo;
  *max = hi;
  *median = med;
}

static void
put_dir_entry (guint8 * e, guint type, guint subtype, guint32 offset,
    guint32 length)
{
  memset (e, 0, FFF_DIR_ENTRY_SIZE);
  put_u16 (e + 0x00, type);
  put_u16 (e + 0x02, subtype);
  put_u32 (e + 0x04, FFF_RECORD_VERSION);
  put_u32 (e + 0x08, 1);        /* index id */
  put_u32 (e + 0x0c, offset);
  put_u32 (e + 0x10, length);
  /* parent, object number, checksum: 0 */
}

/* Builds the FFF record set; returns a buffer of *length bytes (g_free). */
static guint8 *
build_fff (const TcFlirImage * img, gsize * length)
{
  const guint n_records = 2;
  gsize n_pixels = (gsize) img->width * (gsize) img->height;
  gsize dir_off = FFF_HEADER_SIZE;
  gsize ci_off = dir_off + n_records * FFF_DIR_ENTRY_SIZE;
  gsize raw_off = ci_off + CAMERA_INFO_SIZE;
  gsize raw_len = RAW_HEADER_SIZE + n_pixels * 2;
  gsize total = raw_off + raw_len;
  guint8 *fff = g_malloc0 (total);
  guint8 *rh = fff + raw_off;
  guint16 raw_min, raw_max, raw_median;
  gsize i;

  /* header */
  memcpy (fff, "FFF\0", 4);
  put_string (fff + 0x04, 16, CREATOR);
  put_u32 (fff + 0x14, FFF_VERSION);
  put_u32 (fff + 0x18, (guint32) dir_off);
  put_u32 (fff + 0x1c, n_records);
  put_u32 (fff + 0x20, 2);      /* next free index id */

  /* directory */
  put_dir_entry (fff + dir_off, FFF_REC_CAMERA_INFO, 1, (guint32) ci_off,
      CAMERA_INFO_SIZE);
  put_dir_entry (fff + dir_off + FFF_DIR_ENTRY_SIZE, FFF_REC_RAW_DATA,
      FFF_RAW_SUBTYPE_LE, (guint32) raw_off, (guint32) raw_len);

  /* CameraInfo */
  raw_stats (img->raw, n_pixels, &raw_min, &raw_max, &raw_median);
  fill_camera_info (fff + ci_off, img, raw_min, raw_max, raw_median);

  /* RawData */
  put_u16 (rh + 0x00, FFF_BYTE_ORDER_MARK);
  put_u16 (rh + 0x02, img->width);
  put_u16 (rh + 0x04, img->height);
  put_u16 (rh + 0x0c, img->width - 1);
  put_u16 (rh + 0x10, img->height - 1);
  for (i = 0; i < n_pixels; i++)
    put_u16 (rh + RAW_HEADER_SIZE + 2 * i, img->raw[i]);

  *length = total;
  return fff;
}

/* A minimal Exif APP1 payload: IFD0 with Make, Model, Software and the
 * resolution tags a JPEG's IFD0 requires; with a serial number, an Exif IFD
 * holding it (SerialNumber, 0xa431). */
typedef struct
{
  guint16 tag, type;
  guint32 count;
  guint8 data[36];              /* the value, little-endian */
  gsize size;
} ExifEntry;

static void
exif_ascii (ExifEntry * e, guint16 tag, const gchar * value)
{
  gsize len = strnlen (value, sizeof (e->data) - 1);

  memset (e, 0, sizeof (*e));
  e->tag = tag;
  e->type = 2;                  /* ASCII */
  memcpy (e->data, value, len);
  e->count = (guint32) (len + 1);
  e->size = len + 1;
}

static void
exif_short (ExifEntry * e, guint16 tag, guint value)
{
  memset (e, 0, sizeof (*e));
  e->tag = tag;
  e->type = 3;                  /* SHORT */
  e->count = 1;
  put_u16 (e->data, value);
  e->size = 2;
}

static void
exif_rational (ExifEntry * e, guint16 tag, guint32 num, guint32 den)
{
  memset (e, 0, sizeof (*e));
  e->tag = tag;
  e->type = 5;                  /* RATIONAL */
  e->count = 1;
  put_u32 (e->data, num);
  put_u32 (e->data + 4, den);
  e->size = 8;
}

static void
exif_long (ExifEntry * e, guint16 tag, guint32 value)
{
  memset (e, 0, sizeof (*e));
  e->tag = tag;
  e->type = 4;                  /* LONG */
  e->count = 1;
  put_u32 (e->data, value);
  e->size = 4;
}

/* writes an IFD of @n @entries at @tiff + @ifd_off, its values from
 * @data_off on; returns the offset after its values */
static gsize
exif_put_ifd (guint8 * tiff, gsize ifd_off, const ExifEntry * entries, guint n,
    gsize data_off)
{
  guint i;

  put_u16 (tiff + ifd_off, n);
  for (i = 0; i < n; i++) {
    guint8 *e = tiff + ifd_off + 2 + 12 * i;

    put_u16 (e, entries[i].tag);
    put_u16 (e + 2, entries[i].type);
    put_u32 (e + 4, entries[i].count);
    if (entries[i].size <= 4) {
      memcpy (e + 8, entries[i].data, entries[i].size);
    } else {
      put_u32 (e + 8, (guint32) data_off);
      memcpy (tiff + data_off, entries[i].data, entries[i].size);
      data_off += entries[i].size + (entries[i].size & 1);
    }
  }
  /* next IFD offset: 0 (the buffer is zeroed) */
  return data_off;
}

static gsize
exif_data_size (const ExifEntry * entries, guint n)
{
  gsize size = 0;
  guint i;

  for (i = 0; i < n; i++)
    if (entries[i].size > 4)
      size += entries[i].size + (entries[i].size & 1);
  return size;
}

static guint8 *
build_exif (const gchar * make, const gchar * model, const gchar * serial,
    gsize * length)
{
  ExifEntry entries[8], sub[1];
  guint n = 0, n_sub = 0;
  gsize ifd_size, data_size, sub_off = 0, total;
  guint8 *buf, *tiff;

  /* in ascending tag order */
  exif_ascii (&entries[n++], 0x010f, make);
  if (model && model[0])
    exif_ascii (&entries[n++], 0x0110, model);
  exif_rational (&entries[n++], 0x011a, 72, 1);
  exif_rational (&entries[n++], 0x011b, 72, 1);
  exif_short (&entries[n++], 0x0128, 2);        /* inches */
  exif_ascii (&entries[n++], 0x0131, CREATOR);
  exif_short (&entries[n++], 0x0213, 1);        /* centred */
  if (serial && serial[0]) {
    exif_ascii (&sub[n_sub++], 0xa431, serial);
    exif_long (&entries[n++], 0x8769, 0);       /* ExifOffset, set below */
  }

  ifd_size = 2 + 12 * n + 4;
  data_size = exif_data_size (entries, n);
  if (n_sub) {
    sub_off = 8 + ifd_size + data_size;
    put_u32 (entries[n - 1].data, (guint32) sub_off);
  }
  total = 6 + 8 + ifd_size + data_size;
  if (n_sub)
    total += 2 + 12 * n_sub + 4 + exif_data_size (sub, n_sub);
  buf = g_malloc0 (total);
  memcpy (buf, "Exif\0\0", 6);
  tiff = buf + 6;
  memcpy (tiff, "II*\0", 4);
  put_u32 (tiff + 4, 8);
  exif_put_ifd (tiff, 8, entries, n, 8 + ifd_size);
  if (n_sub)
    exif_put_ifd (tiff, sub_off, sub, n_sub, sub_off + 2 + 12 * n_sub + 4);
  *length = total;
  return buf;
}

/* ---------------------------------------------------------------- libjpeg */

typedef struct
{
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} TcJpegError;

static void
tc_jpeg_error_exit (j_common_ptr cinfo)
{
  TcJpegError *err = (TcJpegError *) cinfo->err;

  err->pub.format_message (cinfo, err->message);
  longjmp (err->jump, 1);
}

static void
tc_jpeg_output_message (j_common_ptr cinfo)
{
  /* warnings stay quiet; errors go through error_exit */
}

#define DEST_BUF_SIZE 16384

typedef struct
{
  struct jpeg_destination_mgr pub;
  GByteArray *out;
  JOCTET buf[DEST_BUF_SIZE];
} TcJpegDest;

static void
tc_dest_init (j_compress_ptr cinfo)
{
  TcJpegDest *d = (TcJpegDest *) cinfo->dest;

  d->pub.next_output_byte = d->buf;
  d->pub.free_in_buffer = DEST_BUF_SIZE;
}

static boolean
tc_dest_empty (j_compress_ptr cinfo)
{
  TcJpegDest *d = (TcJpegDest *) cinfo->dest;

  g_byte_array_append (d->out, d->buf, DEST_BUF_SIZE);
  d->pub.next_output_byte = d->buf;
  d->pub.free_in_buffer = DEST_BUF_SIZE;
  return TRUE;
}

static void
tc_dest_term (j_compress_ptr cinfo)
{
  TcJpegDest *d = (TcJpegDest *) cinfo->dest;

  g_byte_array_append (d->out, d->buf, DEST_BUF_SIZE - d->pub.free_in_buffer);
  d->pub.next_output_byte = d->buf;
  d->pub.free_in_buffer = DEST_BUF_SIZE;
}

/* Everything the compressor touches, allocated before setjmp so that the
 * error path frees it without relying on automatic variables. */
typedef struct
{
  struct jpeg_compress_struct cinfo;
  TcJpegError err;
  TcJpegDest dest;
  guint8 payload[FLIR_SEG_PAYLOAD_MAX];
} TcJpegWriter;

static gboolean
check_image (const TcFlirImage * img, GError ** error)
{
  const char *bad;

  if (img == NULL) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT, "no image");
    return FALSE;
  }
  if (img->raw == NULL) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "the image has no raw data");
    return FALSE;
  }
  if (img->width <= 0 || img->height <= 0 || img->width > 65535
      || img->height > 65535) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "bad raw image size %dx%d", img->width, img->height);
    return FALSE;
  }
  if ((bad = tc_calibration_check (&img->cal)) != NULL) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "bad calibration value %s", bad);
    return FALSE;
  }
  if ((bad = tc_object_params_check (&img->params)) != NULL) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "bad object parameter %s", bad);
    return FALSE;
  }
  if (!(fabs (img->cal.o) < 2147483647.0)) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "PlanckO out of range");
    return FALSE;
  }
  return TRUE;
}

gboolean
tc_flir_write_jpeg (const TcFlirImage * img, const guint8 * rgb, gint rgb_width,
    gint rgb_height, gint quality, GByteArray * out, GError ** error)
{
  TcJpegWriter *w;
  guint8 *fff, *exif;
  gsize fff_len, exif_len, n_segs, seg, orig_len;
  const gchar *make;
  volatile gboolean ok = FALSE;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_image (img, error))
    return FALSE;
  if (rgb == NULL) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT, "no picture");
    return FALSE;
  }
  if (rgb_width <= 0 || rgb_height <= 0 || rgb_width > JPEG_MAX_DIMENSION
      || rgb_height > JPEG_MAX_DIMENSION) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "bad picture size %dx%d", rgb_width, rgb_height);
    return FALSE;
  }
  if (quality < 1 || quality > 100) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "bad JPEG quality %d (1..100)", quality);
    return FALSE;
  }
  if (out == NULL) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "no output buffer");
    return FALSE;
  }

  /* the FFF data must fit in 256 segments */
  fff_len = FFF_HEADER_SIZE + 2 * FFF_DIR_ENTRY_SIZE + CAMERA_INFO_SIZE +
      RAW_HEADER_SIZE + (gsize) img->width * (gsize) img->height * 2;
  n_segs = (fff_len + FLIR_SEG_CHUNK_MAX - 1) / FLIR_SEG_CHUNK_MAX;
  if (n_segs > FLIR_SEG_COUNT_MAX) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_UNSUPPORTED,
        "raw image %dx%d too large for FLIR JPEG segments", img->width,
        img->height);
    return FALSE;
  }

  fff = build_fff (img, &fff_len);
  g_assert (n_segs == (fff_len + FLIR_SEG_CHUNK_MAX - 1) / FLIR_SEG_CHUNK_MAX);
  make = img->make[0] ? img->make : DEFAULT_MAKE;
  exif = build_exif (make, img->model, img->serial, &exif_len);

  orig_len = out->len;
  w = g_new0 (TcJpegWriter, 1);
  w->cinfo.err = jpeg_std_error (&w->err.pub);
  w->err.pub.error_exit = tc_jpeg_error_exit;
  w->err.pub.output_message = tc_jpeg_output_message;

  if (setjmp (w->err.jump)) {
    /* libjpeg failed: nothing on the automatic variables changed since
     * setjmp matters here (w, fff, exif, out, orig_len are all set before) */
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_IO,
        "JPEG encoding failed: %s", w->err.message);
    goto done;
  }

  jpeg_create_compress (&w->cinfo);
  w->dest.pub.init_destination = tc_dest_init;
  w->dest.pub.empty_output_buffer = tc_dest_empty;
  w->dest.pub.term_destination = tc_dest_term;
  w->dest.out = out;
  w->cinfo.dest = &w->dest.pub;

  w->cinfo.image_width = (JDIMENSION) rgb_width;
  w->cinfo.image_height = (JDIMENSION) rgb_height;
  w->cinfo.input_components = 3;
  w->cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults (&w->cinfo);
  jpeg_set_quality (&w->cinfo, quality, TRUE);
  jpeg_start_compress (&w->cinfo, TRUE);

  jpeg_write_marker (&w->cinfo, JPEG_APP0 + 1, exif, (unsigned int) exif_len);

  for (seg = 0; seg < n_segs; seg++) {
    guint8 *payload = w->payload;
    gsize off = seg * FLIR_SEG_CHUNK_MAX;
    gsize chunk = MIN (FLIR_SEG_CHUNK_MAX, fff_len - off);

    memcpy (payload, "FLIR\0", 5);
    payload[5] = 0x01;
    payload[6] = (guint8) seg;
    payload[7] = (guint8) (n_segs - 1);
    memcpy (payload + FLIR_SEG_HEADER, fff + off, chunk);
    jpeg_write_marker (&w->cinfo, JPEG_APP0 + 1, payload,
        (unsigned int) (FLIR_SEG_HEADER + chunk));
  }

  while (w->cinfo.next_scanline < w->cinfo.image_height) {
    JSAMPROW row = (JSAMPROW) (rgb + (gsize) w->cinfo.next_scanline *
        (gsize) rgb_width * 3);
    jpeg_write_scanlines (&w->cinfo, &row, 1);
  }
  jpeg_finish_compress (&w->cinfo);
  ok = TRUE;

done:
  jpeg_destroy_compress (&w->cinfo);
  if (!ok)
    g_byte_array_set_size (out, orig_len);
  g_free (w);
  g_free (exif);
  g_free (fff);
  return ok;
}

/* ---------------------------------------------------------------- TIFF */

typedef struct
{
  gchar *message;
} TcTiffErrors;

static int
tc_tiff_error_handler (TIFF * tif, void *user_data, const char *module,
    const char *fmt, va_list ap)
{
  TcTiffErrors *errs = user_data;

  if (errs && errs->message == NULL)
    errs->message = g_strdup_vprintf (fmt, ap);
  return 1;
}

static int
tc_tiff_warning_handler (TIFF * tif, void *user_data, const char *module,
    const char *fmt, va_list ap)
{
  return 1;
}

gboolean
tc_tiff_write_centikelvin (const gchar * path, const guint16 * ck, gint width,
    gint height, GError ** error)
{
  TcTiffErrors errs = { NULL };
  TIFFOpenOptions *opts;
  TIFF *tif;
  guint16 *row = NULL;
  guint32 rows_per_strip;
  gboolean deflate, ok = FALSE;
  gint y;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (path == NULL || ck == NULL) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "no path or no frame");
    return FALSE;
  }
  if (width <= 0 || height <= 0 || width > 1000000 || height > 1000000) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "bad frame size %dx%d", width, height);
    return FALSE;
  }

  opts = TIFFOpenOptionsAlloc ();
  TIFFOpenOptionsSetErrorHandlerExtR (opts, tc_tiff_error_handler, &errs);
  TIFFOpenOptionsSetWarningHandlerExtR (opts, tc_tiff_warning_handler, NULL);
  tif = TIFFOpenExt (path, "w", opts);
  TIFFOpenOptionsFree (opts);
  if (tif == NULL) {
    /* libtiff's message names the file already */
    if (errs.message)
      g_set_error_literal (error, TC_FLIR_ERROR, TC_FLIR_ERROR_IO, errs.message);
    else
      g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_IO, "cannot create %s", path);
    g_free (errs.message);
    return FALSE;
  }

  /* strips of about 64 KiB */
  rows_per_strip = MAX (1u, (guint32) (65536 / ((gsize) width * 2)));
  deflate = TIFFIsCODECConfigured (COMPRESSION_ADOBE_DEFLATE);

  if (!TIFFSetField (tif, TIFFTAG_IMAGEWIDTH, (guint32) width) ||
      !TIFFSetField (tif, TIFFTAG_IMAGELENGTH, (guint32) height) ||
      !TIFFSetField (tif, TIFFTAG_BITSPERSAMPLE, 16) ||
      !TIFFSetField (tif, TIFFTAG_SAMPLESPERPIXEL, 1) ||
      !TIFFSetField (tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT) ||
      !TIFFSetField (tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK) ||
      !TIFFSetField (tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) ||
      !TIFFSetField (tif, TIFFTAG_ROWSPERSTRIP, rows_per_strip) ||
      !TIFFSetField (tif, TIFFTAG_COMPRESSION,
          deflate ? COMPRESSION_ADOBE_DEFLATE : COMPRESSION_NONE) ||
      (deflate && !TIFFSetField (tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL))
      || !TIFFSetField (tif, TIFFTAG_SOFTWARE, CREATOR)
      || !TIFFSetField (tif, TIFFTAG_XRESOLUTION, 72.0)
      || !TIFFSetField (tif, TIFFTAG_YRESOLUTION, 72.0)
      || !TIFFSetField (tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH)
      || !TIFFSetField (tif, TIFFTAG_IMAGEDESCRIPTION,
          "temperature in centikelvin (0.01 K)"))
    goto failed;

  /* the predictor may work in place: hand libtiff a copy of each row */
  row = g_new (guint16, width);
  for (y = 0; y < height; y++) {
    memcpy (row, ck + (gsize) y * (gsize) width, (gsize) width * 2);
    if (TIFFWriteScanline (tif, row, (guint32) y, 0) < 0)
      goto failed;
  }
  if (!TIFFFlush (tif))
    goto failed;
  ok = TRUE;

failed:
  TIFFClose (tif);
  if (ok && errs.message != NULL)
    ok = FALSE;                 /* an error reported only at close */
  if (!ok) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_IO, "cannot write %s: %s", path,
        errs.message ? errs.message : "libtiff failed");
    g_unlink (path);
  }
  g_free (row);
  g_free (errs.message);
  return ok;
}
