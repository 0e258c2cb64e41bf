/* thermocam: reading FLIR-format radiometric files (FFF records, bare or in JPEG)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The layout (FFF header, record directory, RawData and CameraInfo records,
 * the JPEG APP1 "FLIR\0" chunking) is the one exiftool documents in
 * Image::ExifTool::FLIR.  Every offset and length read from the file is
 * checked against the data before use.
 *
 * Byte orders:
 *  - the FFF header's order is the one in which the format version (0x14)
 *    reads 100..199;
 *  - each record (RawData, CameraInfo) starts with a 16-bit word that is
 *    small (2) in the right order: the order is toggled when it reads
 *    >= 0x100;
 *  - raw 16-bit RawData follows the record's order (raw_byteswapped when
 *    big-endian);
 *  - TIFF RawData: libtiff handles the order (raw_byteswapped when the TIFF
 *    is big-endian);
 *  - PNG RawData: most FLIR cameras store little-endian values in the PNG's
 *    big-endian samples, some (e.g. the ThermaCAM E25) do not.  Both readings
 *    are tried and the smoother one wins: a thermal image varies slowly from
 *    pixel to pixel, so the right reading has a much smaller sum of absolute
 *    differences between neighbouring pixels, while the wrong one moves the
 *    noisy low byte into the high byte.  On a tie (flat image) the usual FLIR
 *    convention (swapped) is taken.  raw_byteswapped is TRUE when the PNG's
 *    samples had to be swapped.
 */
#include "tc-flir.h"

#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>
#include <tiffio.h>

G_DEFINE_QUARK (tc-flir-error-quark, tc_flir_error)

/* Largest raw image accepted: pixels on a side, pixels in all (cameras
 * go up to 1280x1024; this bounds what a damaged header can allocate). */
#define MAX_SIDE 16384
#define MAX_PIXELS (4096 * 4096)
#define MAX_FLIR_CHUNKS 256

#define FFF_HEADER_SIZE 0x40
#define FFF_DIR_ENTRY_SIZE 0x20
#define REC_RAW_DATA 0x01
#define REC_CAMERA_INFO 0x20
#define RAW_HEADER_SIZE 0x20
#define CAMINFO_MIN_SIZE 0x310

/* ------------------------------------------------------------------ */
/* Byte access */

static guint16
get16 (const guint8 *p, gboolean be)
{
  return be ? (guint16) ((p[0] << 8) | p[1]) : (guint16) ((p[1] << 8) | p[0]);
}

static guint32
get32 (const guint8 *p, gboolean be)
{
  if (be)
    return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
  return ((guint32) p[3] << 24) | ((guint32) p[2] << 16) | ((guint32) p[1] << 8) | p[0];
}

static double
getf (const guint8 *p, gboolean be)
{
  guint32 u = get32 (p, be);
  float f;

  memcpy (&f, &u, sizeof f);
  return (double) f;
}

/* Is [off, off + len) inside a buffer of @size bytes? */
static gboolean
in_bounds (gsize size, guint64 off, guint64 len)
{
  return off <= size && len <= size - off;
}

/* Copies a NUL-padded string field of at most @field bytes into @dst (33 bytes),
 * keeping printable characters only and trimming trailing spaces. */
static void
copy_string (gchar *dst, const guint8 *src, gsize field)
{
  gsize i, n = 0;

  for (i = 0; i < field && n < 32 && src[i] != '\0'; i++)
    dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f) ? (gchar) src[i] : '?';
  while (n > 0 && dst[n - 1] == ' ')
    n--;
  dst[n] = '\0';
}

/* ------------------------------------------------------------------ */
/* JPEG: gathering the FLIR APP1 chunks (and the EXIF Make) */

static void
exif_read_make (const guint8 *t, gsize len, gchar *make)
{
  gboolean be;
  guint32 ifd;
  guint16 n, i;

  if (len < 8)
    return;
  if (t[0] == 'I' && t[1] == 'I')
    be = FALSE;
  else if (t[0] == 'M' && t[1] == 'M')
    be = TRUE;
  else
    return;
  if (get16 (t + 2, be) != 42)
    return;
  ifd = get32 (t + 4, be);
  if (!in_bounds (len, ifd, 2))
    return;
  n = get16 (t + ifd, be);
  for (i = 0; i < n; i++) {
    guint64 e = (guint64) ifd + 2 + (guint64) i * 12;
    guint32 count, off;

    if (!in_bounds (len, e, 12))
      return;
    if (get16 (t + e, be) != 0x010f || get16 (t + e + 2, be) != 2)
      continue;
    count = get32 (t + e + 4, be);
    if (count <= 4) {
      copy_string (make, t + e + 8, count);
    } else {
      off = get32 (t + e + 8, be);
      if (in_bounds (len, off, count))
        copy_string (make, t + off, count);
    }
    return;
  }
}

/* Walks the JPEG's segments up to the first scan; returns the FFF data
 * (the FLIR chunks concatenated in index order) in a new GByteArray. */
static GByteArray *
jpeg_gather_fff (const guint8 *data, gsize length, TcFlirImage *img, GError **error)
{
  GByteArray *chunks[MAX_FLIR_CHUNKS] = { NULL };
  GByteArray *fff = NULL;
  gsize pos = 2;
  int total = -1, have = 0, i;

  while (pos < length) {
    guint8 marker;
    gsize seglen;
    const guint8 *seg;

    if (data[pos] != 0xff) {
      g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
          "JPEG: no marker at offset %" G_GSIZE_FORMAT, pos);
      goto fail;
    }
    while (pos < length && data[pos] == 0xff)
      pos++;
    if (pos >= length)
      break;
    marker = data[pos++];
    if (marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7))
      continue;
    if (marker == 0xda || marker == 0xd9)
      break;                    /* the FLIR segments come before the scan */
    if (length - pos < 2) {
      g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_TRUNCATED,
          "JPEG: segment 0x%02x at offset %" G_GSIZE_FORMAT " has no length",
          marker, pos - 2);
      goto fail;
    }
    seglen = ((gsize) data[pos] << 8) | data[pos + 1];
    if (seglen < 2) {
      g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
          "JPEG: segment 0x%02x has an invalid length %" G_GSIZE_FORMAT, marker, seglen);
      goto fail;
    }
    if (seglen > length - pos) {
      g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_TRUNCATED,
          "JPEG: segment 0x%02x at offset %" G_GSIZE_FORMAT " is cut (%" G_GSIZE_FORMAT
          " bytes announced, %" G_GSIZE_FORMAT " left)", marker, pos - 2, seglen,
          length - pos);
      goto fail;
    }
    seg = data + pos + 2;
    seglen -= 2;
    pos += seglen + 2;
    if (marker != 0xe1)
      continue;
    if (seglen >= 6 && memcmp (seg, "Exif\0\0", 6) == 0) {
      if (img->make[0] == '\0')
        exif_read_make (seg + 6, seglen - 6, img->make);
    } else if (seglen >= 8 && memcmp (seg, "FLIR\0", 5) == 0) {
      int index = seg[6], last = seg[7];

      if (total < 0)
        total = last + 1;
      else if (total != last + 1) {
        g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
            "JPEG: FLIR segments disagree on their count (%d and %d)", total, last + 1);
        goto fail;
      }
      if (index >= total) {
        g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
            "JPEG: FLIR segment index %d beyond the last index %d", index, last);
        goto fail;
      }
      if (chunks[index] == NULL) {
        chunks[index] = g_byte_array_new ();
        have++;
      }
      /* a repeated index is appended, as exiftool does */
      g_byte_array_append (chunks[index], seg + 8, (guint) (seglen - 8));
    }
  }

  if (total < 0) {
    g_set_error_literal (error, TC_FLIR_ERROR, TC_FLIR_ERROR_NOT_RADIOMETRIC,
        "JPEG without FLIR (FFF) segments");
    goto fail;
  }
  if (have < total) {
    for (i = 0; i < total && chunks[i] != NULL; i++)
      ;
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_TRUNCATED,
        "JPEG: FLIR segment %d of %d is missing", i + 1, total);
    goto fail;
  }
  fff = g_byte_array_new ();
  for (i = 0; i < total; i++)
    g_byte_array_append (fff, chunks[i]->data, chunks[i]->len);

fail:
  for (i = 0; i < MAX_FLIR_CHUNKS; i++)
    if (chunks[i] != NULL)
      g_byte_array_unref (chunks[i]);
  return fff;
}

/* ------------------------------------------------------------------ */
/* PNG raw data */

typedef struct {
  const guint8 *data;
  gsize length, pos;
  gchar message[160];
  jmp_buf jmp;
  guint8 *pixels;               /* owned until handed over */
  png_bytep *rows;
} PngCtx;

static void
png_error_cb (png_structp png, png_const_charp msg)
{
  PngCtx *ctx = png_get_error_ptr (png);

  g_strlcpy (ctx->message, msg != NULL ? msg : "error", sizeof ctx->message);
  longjmp (ctx->jmp, 1);
}

static void
png_warning_cb (png_structp png, png_const_charp msg)
{
}

static void
png_read_cb (png_structp png, png_bytep out, png_size_t count)
{
  PngCtx *ctx = png_get_io_ptr (png);

  if (count > ctx->length - ctx->pos)
    png_error (png, "PNG data ends early");
  memcpy (out, ctx->data + ctx->pos, count);
  ctx->pos += count;
}

/* Sum of absolute differences between horizontal neighbours, for the
 * samples read big-endian (@swap FALSE) or little-endian. */
static guint64
png_roughness (const guint8 *pix, gint width, gint height, gboolean swap)
{
  guint64 sum = 0;
  gint x, y;

  for (y = 0; y < height; y++) {
    const guint8 *row = pix + (gsize) y * width * 2;
    gint prev = swap ? get16 (row, FALSE) : get16 (row, TRUE);

    for (x = 1; x < width; x++) {
      gint v = swap ? get16 (row + 2 * x, FALSE) : get16 (row + 2 * x, TRUE);

      sum += (guint64) ABS (v - prev);
      prev = v;
    }
  }
  /* vertical neighbours for single-column images */
  if (width == 1) {
    for (y = 1; y < height; y++) {
      gint a = swap ? get16 (pix + 2 * (y - 1), FALSE) : get16 (pix + 2 * (y - 1), TRUE);
      gint b = swap ? get16 (pix + 2 * y, FALSE) : get16 (pix + 2 * y, TRUE);

      sum += (guint64) ABS (b - a);
    }
  }
  return sum;
}

static gboolean
decode_png (const guint8 *data, gsize length, TcFlirImage *img, GError **error)
{
  PngCtx *ctx = g_new0 (PngCtx, 1);
  png_structp png = NULL;
  png_infop info = NULL;
  gboolean ok = FALSE;
  png_uint_32 w = 0, h = 0, y;
  int depth = 0, color = 0, interlace = 0;
  gsize i, n;
  gboolean swap;

  ctx->data = data;
  ctx->length = length;
  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, ctx, png_error_cb, png_warning_cb);
  if (png == NULL) {
    g_set_error_literal (error, TC_FLIR_ERROR, TC_FLIR_ERROR_UNSUPPORTED,
        "cannot create a PNG reader");
    g_free (ctx);
    return FALSE;
  }
  info = png_create_info_struct (png);
  if (info == NULL) {
    png_destroy_read_struct (&png, NULL, NULL);
    g_set_error_literal (error, TC_FLIR_ERROR, TC_FLIR_ERROR_UNSUPPORTED,
        "cannot create a PNG reader");
    g_free (ctx);
    return FALSE;
  }

  /* Nothing below modifies a local variable that is read after a longjmp:
   * the buffers live in *ctx. */
  if (setjmp (ctx->jmp)) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "RawData PNG: %s", ctx->message);
    goto done;
  }
  png_set_user_limits (png, MAX_SIDE, MAX_SIDE);
  png_set_chunk_malloc_max (png, 64 * 1024 * 1024);
  png_set_read_fn (png, ctx, png_read_cb);
  png_read_info (png, info);
  png_get_IHDR (png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
  if (depth != 16 || color != PNG_COLOR_TYPE_GRAY) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_UNSUPPORTED,
        "RawData PNG is not 16-bit grey (bit depth %d, colour type %d)", depth, color);
    goto done;
  }
  if (w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || (guint64) w * h > MAX_PIXELS) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "RawData PNG has an invalid size %ux%u", (guint) w, (guint) h);
    goto done;
  }
  if (interlace != PNG_INTERLACE_NONE)
    png_set_interlace_handling (png);
  png_read_update_info (png, info);
  if (png_get_rowbytes (png, info) != (gsize) w * 2) {
    g_set_error_literal (error, TC_FLIR_ERROR, TC_FLIR_ERROR_UNSUPPORTED,
        "RawData PNG has an unexpected row size");
    goto done;
  }
  ctx->pixels = g_malloc ((gsize) w * h * 2);
  ctx->rows = g_new (png_bytep, h);
  for (y = 0; y < h; y++)
    ctx->rows[y] = ctx->pixels + (gsize) y * w * 2;
  png_read_image (png, ctx->rows);

  swap = png_roughness (ctx->pixels, (gint) w, (gint) h, TRUE) <=
      png_roughness (ctx->pixels, (gint) w, (gint) h, FALSE);
  n = (gsize) w * h;
  img->raw = g_new (guint16, n);
  for (i = 0; i < n; i++)
    img->raw[i] = get16 (ctx->pixels + 2 * i, !swap);
  img->width = (gint) w;
  img->height = (gint) h;
  img->raw_byteswapped = swap;
  g_strlcpy (img->raw_format, "png", sizeof img->raw_format);
  ok = TRUE;

done:
  png_destroy_read_struct (&png, &info, NULL);
  g_free (ctx->rows);
  g_free (ctx->pixels);
  g_free (ctx);
  return ok;
}

/* ------------------------------------------------------------------ */
/* TIFF raw data, read from memory */

typedef struct {
  const guint8 *data;
  gsize length;
  toff_t pos;
  gchar message[160];
} TiffMem;

static tmsize_t
tiff_read_cb (thandle_t h, void *buf, tmsize_t size)
{
  TiffMem *m = h;
  gsize left;

  if (size < 0 || m->pos >= m->length)
    return 0;
  left = m->length - (gsize) m->pos;
  if ((gsize) size > left)
    size = (tmsize_t) left;
  memcpy (buf, m->data + m->pos, (gsize) size);
  m->pos += (toff_t) size;
  return size;
}

static tmsize_t
tiff_write_cb (thandle_t h, void *buf, tmsize_t size)
{
  return 0;
}

static toff_t
tiff_seek_cb (thandle_t h, toff_t off, int whence)
{
  TiffMem *m = h;
  guint64 base;

  switch (whence) {
    case SEEK_SET:
      base = 0;
      break;
    case SEEK_CUR:
      base = m->pos;
      break;
    case SEEK_END:
      base = m->length;
      break;
    default:
      return (toff_t) -1;
  }
  /* toff_t is unsigned: negative relative seeks arrive wrapped around */
  m->pos = base + off;
  return m->pos;
}

static int
tiff_close_cb (thandle_t h)
{
  return 0;
}

static toff_t
tiff_size_cb (thandle_t h)
{
  TiffMem *m = h;

  return m->length;
}

static int
tiff_map_cb (thandle_t h, void **base, toff_t *size)
{
  return 0;
}

static void
tiff_unmap_cb (thandle_t h, void *base, toff_t size)
{
}

static int
tiff_error_cb (TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
  TiffMem *m = user_data;

  if (m != NULL && m->message[0] == '\0')
    g_vsnprintf (m->message, sizeof m->message, fmt, ap);
  return 1;                     /* handled: nothing on stderr */
}

static int
tiff_warning_cb (TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
  return 1;
}

static gboolean
decode_tiff (const guint8 *data, gsize length, TcFlirImage *img, GError **error)
{
  TiffMem mem = { data, length, 0, "" };
  TIFFOpenOptions *opts;
  TIFF *tif;
  guint32 w = 0, h = 0, y;
  guint16 bps = 0, spp = 1, fmt = SAMPLEFORMAT_UINT;
  tmsize_t line;
  guint8 *buf = NULL;
  gboolean ok = FALSE;

  opts = TIFFOpenOptionsAlloc ();
  TIFFOpenOptionsSetErrorHandlerExtR (opts, tiff_error_cb, &mem);
  TIFFOpenOptionsSetWarningHandlerExtR (opts, tiff_warning_cb, &mem);
  TIFFOpenOptionsSetMaxSingleMemAlloc (opts, 256 * 1024 * 1024);
  tif = TIFFClientOpenExt ("RawData", "rm", &mem, tiff_read_cb, tiff_write_cb,
      tiff_seek_cb, tiff_close_cb, tiff_size_cb, tiff_map_cb, tiff_unmap_cb, opts);
  TIFFOpenOptionsFree (opts);
  if (tif == NULL) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "RawData TIFF cannot be opened: %s", mem.message[0] ? mem.message : "invalid");
    return FALSE;
  }
  TIFFGetField (tif, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField (tif, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted (tif, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted (tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted (tif, TIFFTAG_SAMPLEFORMAT, &fmt);
  if (bps != 16 || spp != 1 || (fmt != SAMPLEFORMAT_UINT && fmt != SAMPLEFORMAT_INT) ||
      TIFFIsTiled (tif)) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_UNSUPPORTED,
        "RawData TIFF is not 16-bit grey in strips (%u bits, %u samples)",
        (guint) bps, (guint) spp);
    goto done;
  }
  if (w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || (guint64) w * h > MAX_PIXELS) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "RawData TIFF has an invalid size %ux%u", (guint) w, (guint) h);
    goto done;
  }
  line = TIFFScanlineSize (tif);
  if (line < (tmsize_t) w * 2) {
    g_set_error_literal (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "RawData TIFF has an invalid line size");
    goto done;
  }
  buf = g_malloc ((gsize) line);
  img->raw = g_new (guint16, (gsize) w * h);
  for (y = 0; y < h; y++) {
    if (TIFFReadScanline (tif, buf, y, 0) < 0) {
      g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
          "RawData TIFF: cannot read line %u: %s", (guint) y,
          mem.message[0] ? mem.message : "invalid data");
      g_clear_pointer (&img->raw, g_free);
      goto done;
    }
    /* libtiff has put the samples in host order */
    memcpy (img->raw + (gsize) y * w, buf, (gsize) w * 2);
  }
  img->width = (gint) w;
  img->height = (gint) h;
  img->raw_byteswapped = TIFFIsBigEndian (tif) ? TRUE : FALSE;
  g_strlcpy (img->raw_format, "tiff", sizeof img->raw_format);
  ok = TRUE;

done:
  g_free (buf);
  TIFFClose (tif);
  return ok;
}

/* ------------------------------------------------------------------ */
/* FFF records */

/* Each record starts with a small 16-bit word (2) that tells its byte order. */
static gboolean
record_big_endian (const guint8 *rec, gboolean fff_be)
{
  return get16 (rec, fff_be) >= 0x100 ? !fff_be : fff_be;
}

static gboolean
read_raw_data (const guint8 *rec, gsize len, gboolean fff_be, TcFlirImage *img,
    GError **error)
{
  gboolean be;
  guint w, h;
  const guint8 *p;
  gsize plen, need, i;

  if (len < RAW_HEADER_SIZE) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "RawData record too short (%" G_GSIZE_FORMAT " bytes)", len);
    return FALSE;
  }
  be = record_big_endian (rec, fff_be);
  w = get16 (rec + 2, be);
  h = get16 (rec + 4, be);
  p = rec + RAW_HEADER_SIZE;
  plen = len - RAW_HEADER_SIZE;

  if (plen >= 8 && memcmp (p, "\x89PNG\r\n\x1a\n", 8) == 0) {
    if (!decode_png (p, plen, img, error))
      return FALSE;
  } else if (plen >= 4 && (memcmp (p, "II*\0", 4) == 0 || memcmp (p, "MM\0*", 4) == 0)) {
    if (!decode_tiff (p, plen, img, error))
      return FALSE;
  } else if (plen >= 3 && memcmp (p, "\xff\xd8\xff", 3) == 0) {
    g_set_error_literal (error, TC_FLIR_ERROR, TC_FLIR_ERROR_UNSUPPORTED,
        "RawData stored as JPEG is not supported");
    return FALSE;
  } else {
    if (w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE) {
      g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
          "RawData has an invalid size %ux%u", w, h);
      return FALSE;
    }
    need = (gsize) w * h * 2;
    if (plen < need) {
      g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_TRUNCATED,
          "RawData holds %" G_GSIZE_FORMAT " bytes, %ux%u 16-bit pixels need %"
          G_GSIZE_FORMAT, plen, w, h, need);
      return FALSE;
    }
    img->raw = g_new (guint16, (gsize) w * h);
    for (i = 0; i < (gsize) w * h; i++)
      img->raw[i] = get16 (p + 2 * i, be);
    img->width = (gint) w;
    img->height = (gint) h;
    img->raw_byteswapped = be;
    g_strlcpy (img->raw_format, "raw", sizeof img->raw_format);
  }
  return TRUE;
}

static gboolean
read_camera_info (const guint8 *rec, gsize len, gboolean fff_be, TcFlirImage *img,
    GError **error)
{
  TcCalibration *c = &img->cal;
  TcObjectParams *o = &img->params;
  const char *bad;
  gboolean be;
  double rh;

  if (len < CAMINFO_MIN_SIZE) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "CameraInfo record too short (%" G_GSIZE_FORMAT " bytes, need %d)", len,
        CAMINFO_MIN_SIZE);
    return FALSE;
  }
  be = record_big_endian (rec, fff_be);

  o->emissivity = getf (rec + 0x20, be);
  o->distance = getf (rec + 0x24, be);
  o->reflected_temp = getf (rec + 0x28, be) - TC_KELVIN_OFFSET;
  o->atmospheric_temp = getf (rec + 0x2c, be) - TC_KELVIN_OFFSET;
  o->window_temp = getf (rec + 0x30, be) - TC_KELVIN_OFFSET;
  o->window_transmission = getf (rec + 0x34, be);
  /* a fraction, though some files store percent (exiftool: > 2 is percent) */
  rh = getf (rec + 0x3c, be);
  o->relative_humidity = rh > 2.0 ? rh / 100.0 : rh;

  c->r1 = getf (rec + 0x58, be);
  c->b = getf (rec + 0x5c, be);
  c->f = getf (rec + 0x60, be);
  c->ata1 = getf (rec + 0x70, be);
  c->ata2 = getf (rec + 0x74, be);
  c->atb1 = getf (rec + 0x78, be);
  c->atb2 = getf (rec + 0x7c, be);
  c->atx = getf (rec + 0x80, be);
  c->range_max = getf (rec + 0x90, be) - TC_KELVIN_OFFSET;
  c->range_min = getf (rec + 0x94, be) - TC_KELVIN_OFFSET;
  c->o = (double) (gint32) get32 (rec + 0x308, be);
  c->r2 = getf (rec + 0x30c, be);

  copy_string (img->model, rec + 0xd4, 32);
  copy_string (img->serial, rec + 0x104, 16);

  bad = tc_calibration_check (c);
  if (bad == NULL)
    bad = tc_object_params_check (o);
  if (bad != NULL) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_CORRUPT,
        "CameraInfo: invalid %s", bad);
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_fff (const guint8 *d, gsize len, TcFlirImage *img, GError **error)
{
  gboolean be;
  guint32 version, dir, num, i;
  const guint8 *raw_rec = NULL, *cam_rec = NULL;
  gsize raw_len = 0, cam_len = 0;

  if (len < 4 || (memcmp (d, "FFF\0", 4) != 0 && memcmp (d, "AFF\0", 4) != 0)) {
    g_set_error_literal (error, TC_FLIR_ERROR, TC_FLIR_ERROR_NOT_RADIOMETRIC,
        "FLIR data does not start with an FFF header");
    return FALSE;
  }
  if (len < FFF_HEADER_SIZE) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_TRUNCATED,
        "FFF header cut at %" G_GSIZE_FORMAT " bytes", len);
    return FALSE;
  }
  version = get32 (d + 0x14, FALSE);
  be = FALSE;
  if (version < 100 || version >= 200) {
    be = TRUE;
    version = get32 (d + 0x14, TRUE);
    if (version < 100 || version >= 200) {
      g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_UNSUPPORTED,
          "unsupported FFF version (0x%08x)", get32 (d + 0x14, FALSE));
      return FALSE;
    }
  }
  dir = get32 (d + 0x18, be);
  num = get32 (d + 0x1c, be);
  if (dir > len) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_TRUNCATED,
        "FFF record directory at %u beyond the data (%" G_GSIZE_FORMAT " bytes)", dir, len);
    return FALSE;
  }
  if (num > (len - dir) / FFF_DIR_ENTRY_SIZE) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_TRUNCATED,
        "FFF record directory (%u entries at %u) runs past the data (%" G_GSIZE_FORMAT
        " bytes)", num, dir, len);
    return FALSE;
  }

  for (i = 0; i < num; i++) {
    const guint8 *e = d + dir + (gsize) i * FFF_DIR_ENTRY_SIZE;
    guint16 type = get16 (e, be);
    guint32 off, rlen;

    if (type != REC_RAW_DATA && type != REC_CAMERA_INFO)
      continue;
    if ((type == REC_RAW_DATA && raw_rec != NULL) ||
        (type == REC_CAMERA_INFO && cam_rec != NULL))
      continue;                 /* the first of each is the picture's */
    off = get32 (e + 0x0c, be);
    rlen = get32 (e + 0x10, be);
    if (!in_bounds (len, off, rlen)) {
      g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_TRUNCATED,
          "FFF record %u (type 0x%02x, %u bytes at %u) runs past the data (%"
          G_GSIZE_FORMAT " bytes)", i, type, rlen, off, len);
      return FALSE;
    }
    if (type == REC_RAW_DATA) {
      raw_rec = d + off;
      raw_len = rlen;
    } else {
      cam_rec = d + off;
      cam_len = rlen;
    }
  }
  if (cam_rec == NULL) {
    g_set_error_literal (error, TC_FLIR_ERROR, TC_FLIR_ERROR_UNSUPPORTED,
        "FFF data without a CameraInfo record");
    return FALSE;
  }
  if (raw_rec == NULL) {
    g_set_error_literal (error, TC_FLIR_ERROR, TC_FLIR_ERROR_UNSUPPORTED,
        "FFF data without a RawData record");
    return FALSE;
  }
  if (!read_camera_info (cam_rec, cam_len, be, img, error))
    return FALSE;
  return read_raw_data (raw_rec, raw_len, be, img, error);
}

/* ------------------------------------------------------------------ */
/* Public entry points */

void
tc_flir_image_clear (TcFlirImage *img)
{
  if (img == NULL)
    return;
  g_free (img->raw);
  memset (img, 0, sizeof *img);
}

gboolean
tc_flir_read_data (const guint8 *data, gsize length, TcFlirImage *img, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (img != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (img, 0, sizeof *img);

  if (length >= 4 && (memcmp (data, "FFF\0", 4) == 0 || memcmp (data, "AFF\0", 4) == 0)) {
    ok = read_fff (data, length, img, error);
  } else if (length >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) {
    GByteArray *fff = jpeg_gather_fff (data, length, img, error);

    if (fff == NULL) {
      ok = FALSE;
    } else {
      ok = read_fff (fff->data, fff->len, img, error);
      g_byte_array_unref (fff);
    }
  } else {
    g_set_error_literal (error, TC_FLIR_ERROR, TC_FLIR_ERROR_NOT_RADIOMETRIC,
        length < 4 ? "data too short for a JPEG or an FFF file" :
        "neither a JPEG nor an FFF file");
    ok = FALSE;
  }
  if (!ok)
    tc_flir_image_clear (img);
  return ok;
}

gboolean
tc_flir_read_file (const gchar *path, TcFlirImage *img, GError **error)
{
  gchar *contents = NULL;
  gsize length = 0;
  GError *local = NULL;
  gboolean ok;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (img != NULL, FALSE);

  memset (img, 0, sizeof *img);
  if (!g_file_get_contents (path, &contents, &length, &local)) {
    g_set_error (error, TC_FLIR_ERROR, TC_FLIR_ERROR_IO, "%s", local->message);
    g_error_free (local);
    return FALSE;
  }
  ok = tc_flir_read_data ((const guint8 *) contents, length, img, &local);
  if (!ok) {
    g_set_error (error, local->domain, local->code, "%s: %s", path, local->message);
    g_error_free (local);
  }
  g_free (contents);
  return ok;
}
