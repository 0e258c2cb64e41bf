/* thermocamd: small pictures of the stored captures, for the file list
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A radiometric JPEG is mostly its raw counts (about 700 KB at 640x512, in
 * APP1 segments before the picture): a page listing a few dozen of them
 * would download megabytes to show stamps.  A JPEG (plain or radiometric:
 * libjpeg skips the APP segments) is decoded at 1/2, 1/4 or 1/8 of its size
 * (libjpeg scales in the DCT: the cheapest decode there is), a 24-bit BMP is
 * read directly; either is then subsampled to at most @max_side pixels on
 * its longer side and encoded as a baseline JPEG at quality 80: a few KB.
 * The input is a stored file, read as hostile all the same: every size is
 * checked, a libjpeg error is a GError, never an exit.
 */
#include "tcd-thumb.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

#define MAX_SIDE 16384           /* a bigger picture is refused */
#define QUALITY 80

G_DEFINE_QUARK (tcd-thumb-error-quark, tcd_thumb_error)

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} ThumbJpegError;

static void
error_exit (j_common_ptr cinfo)
{
  ThumbJpegError *e = (ThumbJpegError *) cinfo->err;

  e->pub.format_message (cinfo, e->message);
  longjmp (e->jump, 1);
}

static void
output_message (j_common_ptr cinfo)
{
}

/* RGB rows, 3 bytes a pixel, no padding */
typedef struct {
  guint width, height;
  guint8 *rgb;
} Rgb;

typedef struct {
  struct jpeg_decompress_struct d;
  struct jpeg_compress_struct c;
  ThumbJpegError err;
  guint8 *rgb;
  guint8 *out;
  unsigned long out_len;
} Work;

static gboolean
decode_jpeg (Work *w, const guint8 *data, gsize len, guint max_side, Rgb *img, GError **error)
{
  guint denom, longest;

  w->d.err = jpeg_std_error (&w->err.pub);
  w->err.pub.error_exit = error_exit;
  w->err.pub.output_message = output_message;
  if (setjmp (w->err.jump)) {
    g_set_error (error, TCD_THUMB_ERROR, TCD_THUMB_ERROR_CORRUPT, "JPEG: %s", w->err.message);
    jpeg_destroy_decompress (&w->d);
    return FALSE;
  }
  jpeg_create_decompress (&w->d);
  jpeg_mem_src (&w->d, data, (unsigned long) len);
  jpeg_read_header (&w->d, TRUE);
  if (w->d.image_width == 0 || w->d.image_height == 0 || w->d.image_width > MAX_SIDE
      || w->d.image_height > MAX_SIDE) {
    g_set_error (error, TCD_THUMB_ERROR, TCD_THUMB_ERROR_CORRUPT,
        "JPEG: the picture is %ux%u", w->d.image_width, w->d.image_height);
    jpeg_destroy_decompress (&w->d);
    return FALSE;
  }
  longest = MAX (w->d.image_width, w->d.image_height);
  for (denom = 8; denom > 1 && (longest + denom - 1) / denom < max_side; denom /= 2)
    ;
  w->d.scale_num = 1;
  w->d.scale_denom = denom;
  w->d.out_color_space = JCS_RGB;
  w->d.dct_method = JDCT_IFAST;
  jpeg_start_decompress (&w->d);
  img->width = w->d.output_width;
  img->height = w->d.output_height;
  w->rgb = g_malloc ((gsize) img->width * img->height * 3);
  while (w->d.output_scanline < w->d.output_height) {
    JSAMPROW row = w->rgb + (gsize) w->d.output_scanline * img->width * 3;
    jpeg_read_scanlines (&w->d, &row, 1);
  }
  jpeg_finish_decompress (&w->d);
  jpeg_destroy_decompress (&w->d);
  img->rgb = w->rgb;
  return TRUE;
}

static guint32
le32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

/* a 24-bit uncompressed BMP (as tcd-snapshot writes them) */
static gboolean
decode_bmp (Work *w, const guint8 *data, gsize len, Rgb *img, GError **error)
{
  guint32 off, hsize, row;
  gint32 width, height;
  gboolean top_down;

  if (len < 54 || le32 (data + 14) < 40) {
    g_set_error_literal (error, TCD_THUMB_ERROR, TCD_THUMB_ERROR_CORRUPT, "BMP: the header is cut");
    return FALSE;
  }
  off = le32 (data + 10);
  hsize = le32 (data + 14);
  width = (gint32) le32 (data + 18);
  height = (gint32) le32 (data + 22);
  top_down = height < 0;
  if (top_down)
    height = -height;
  if (data[26] != 1 || data[27] != 0 || data[28] != 24 || data[29] != 0 || le32 (data + 30) != 0) {
    g_set_error_literal (error, TCD_THUMB_ERROR, TCD_THUMB_ERROR_UNSUPPORTED,
        "BMP: not 24-bit uncompressed");
    return FALSE;
  }
  if (width <= 0 || height <= 0 || width > MAX_SIDE || height > MAX_SIDE || off < 14 + hsize) {
    g_set_error (error, TCD_THUMB_ERROR, TCD_THUMB_ERROR_CORRUPT, "BMP: the picture is %dx%d",
        width, height);
    return FALSE;
  }
  row = ((guint32) width * 3 + 3) & ~3u;
  if (off > len || (guint64) row * height > len - off) {
    g_set_error_literal (error, TCD_THUMB_ERROR, TCD_THUMB_ERROR_CORRUPT, "BMP: the pixels are cut");
    return FALSE;
  }
  img->width = width;
  img->height = height;
  w->rgb = g_malloc ((gsize) width * height * 3);
  for (gint32 y = 0; y < height; y++) {
    const guint8 *src = data + off + (gsize) (top_down ? y : height - 1 - y) * row;
    guint8 *dst = w->rgb + (gsize) y * width * 3;
    for (gint32 x = 0; x < width; x++) {
      dst[3 * x] = src[3 * x + 2];
      dst[3 * x + 1] = src[3 * x + 1];
      dst[3 * x + 2] = src[3 * x];
    }
  }
  img->rgb = w->rgb;
  return TRUE;
}

/* nearest pixels, in place, to at most @max_side on the longer side */
static void
subsample (Rgb *img, guint max_side)
{
  guint longest = MAX (img->width, img->height);
  guint step = (longest + max_side - 1) / max_side;
  guint w, h;

  if (step <= 1)
    return;
  w = MAX (1u, img->width / step);
  h = MAX (1u, img->height / step);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      memmove (img->rgb + ((gsize) y * w + x) * 3,
          img->rgb + ((gsize) y * step * img->width + (gsize) x * step) * 3, 3);
  img->width = w;
  img->height = h;
}

static gboolean
encode (Work *w, const Rgb *img, GError **error)
{
  w->c.err = jpeg_std_error (&w->err.pub);
  w->err.pub.error_exit = error_exit;
  w->err.pub.output_message = output_message;
  if (setjmp (w->err.jump)) {
    g_set_error (error, TCD_THUMB_ERROR, TCD_THUMB_ERROR_CORRUPT, "JPEG encoding: %s",
        w->err.message);
    jpeg_destroy_compress (&w->c);
    return FALSE;
  }
  jpeg_create_compress (&w->c);
  jpeg_mem_dest (&w->c, &w->out, &w->out_len);
  w->c.image_width = img->width;
  w->c.image_height = img->height;
  w->c.input_components = 3;
  w->c.in_color_space = JCS_RGB;
  jpeg_set_defaults (&w->c);
  jpeg_set_quality (&w->c, QUALITY, TRUE);
  jpeg_start_compress (&w->c, TRUE);
  while (w->c.next_scanline < w->c.image_height) {
    JSAMPROW row = img->rgb + (gsize) w->c.next_scanline * img->width * 3;
    jpeg_write_scanlines (&w->c, &row, 1);
  }
  jpeg_finish_compress (&w->c);
  jpeg_destroy_compress (&w->c);
  return TRUE;
}

GBytes *
tcd_thumbnail (const guint8 *data, gsize len, guint max_side, GError **error)
{
  Work *w;
  Rgb img = { 0 };
  GBytes *out = NULL;
  gboolean ok;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  max_side = CLAMP (max_side, 16, 1024);
  /* everything libjpeg's longjmp may leave behind lives in *w */
  w = g_new0 (Work, 1);
  if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) {
    ok = decode_jpeg (w, data, len, max_side, &img, error);
  } else if (len >= 2 && data[0] == 'B' && data[1] == 'M') {
    ok = decode_bmp (w, data, len, &img, error);
  } else {
    g_set_error_literal (error, TCD_THUMB_ERROR, TCD_THUMB_ERROR_UNSUPPORTED,
        "neither a JPEG nor a BMP");
    ok = FALSE;
  }
  if (ok) {
    subsample (&img, max_side);
    ok = encode (w, &img, error);
  }
  if (ok)
    out = g_bytes_new (w->out, w->out_len);
  free (w->out);                /* jpeg_mem_dest's buffer is malloc'd */
  g_free (w->rgb);
  g_free (w);
  return out;
}
