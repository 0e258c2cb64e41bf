/* thermocam: FLIR-format radiometric files (FFF records, bare or inside JPEG)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The format most thermography tools read (exiftool and everything built on
 * it): an FFF record set, either a bare .fff file or split over JPEG APP1
 * segments ("FLIR\0").  Of its records we use the raw sensor data (RawData:
 * 16-bit raw, PNG or TIFF) and the camera information (CameraInfo: Planck
 * constants, atmospheric constants, object parameters).  Readers never
 * crash on bad input: a truncated or malformed file is a GError.
 */
#pragma once

#include <glib.h>
#include "tc-radiometry.h"

G_BEGIN_DECLS

#define TC_FLIR_ERROR (tc_flir_error_quark ())
GQuark tc_flir_error_quark (void);

typedef enum {
  TC_FLIR_ERROR_IO,               /* cannot read or write the file */
  TC_FLIR_ERROR_NOT_RADIOMETRIC,  /* no FFF data (e.g. a plain JPEG) */
  TC_FLIR_ERROR_TRUNCATED,        /* the data ends too early */
  TC_FLIR_ERROR_CORRUPT,          /* inconsistent sizes, offsets, values */
  TC_FLIR_ERROR_UNSUPPORTED       /* a valid file with something we cannot read */
} TcFlirError;

typedef struct {
  gint width, height;
  guint16 *raw;                   /* width * height raw counts (g_free) */
  TcCalibration cal;              /* Planck R1 R2 B F O, atmospheric constants, range */
  TcObjectParams params;          /* emissivity, distance, reflected, atmosphere, window */
  gchar make[33], model[33], serial[33];   /* as the file says ("" if absent) */
  gchar raw_format[8];            /* "raw", "png" or "tiff": how the raw data was stored */
  gboolean raw_byteswapped;       /* the stored 16-bit values were big-endian */
} TcFlirImage;

void     tc_flir_image_clear (TcFlirImage *img);

/* A JPEG with FLIR APP1 segments, or a bare FFF file. */
gboolean tc_flir_read_data (const guint8 *data, gsize length, TcFlirImage *img,
                            GError **error);
gboolean tc_flir_read_file (const gchar *path, TcFlirImage *img, GError **error);

/* Writes a JPEG of the picture @rgb (width x height, 3 bytes a pixel, no
 * padding) at @quality with the FFF records of @img (CameraInfo with its
 * calibration and parameters, RawData as raw 16-bit) in APP1 segments, so
 * that exiftool reads them.  @img's make must not be a trademark: the
 * writer puts "thermocam" when it is empty.  @img's serial goes whole into
 * the Exif SerialNumber; CameraInfo's CameraSerialNumber holds 15
 * characters: a longer "PREFIX-NUMBER" is written there as its NUMBER. */
gboolean tc_flir_write_jpeg (const TcFlirImage *img, const guint8 *rgb, gint rgb_width,
                             gint rgb_height, gint quality, GByteArray *out,
                             GError **error);
/* A 16-bit greyscale TIFF of a temperature frame in centikelvin. */
gboolean tc_tiff_write_centikelvin (const gchar *path, const guint16 *ck, gint width,
                                    gint height, GError **error);

G_END_DECLS
