/* thermocamd: small pictures of the stored captures, for the file list
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TCD_THUMB_ERROR (tcd_thumb_error_quark ())
GQuark tcd_thumb_error_quark (void);

typedef enum {
  TCD_THUMB_ERROR_CORRUPT,      /* a damaged picture */
  TCD_THUMB_ERROR_UNSUPPORTED   /* not a JPEG nor a 24-bit uncompressed BMP */
} TcdThumbError;

/* A JPEG of the picture @data (a JPEG, radiometric or not, or a 24-bit BMP)
 * at most @max_side (16..1024) pixels on its longer side, its proportions
 * kept.  A few milliseconds for a 640x512 picture. */
GBytes *tcd_thumbnail (const guint8 *data, gsize len, guint max_side, GError **error);

G_END_DECLS
