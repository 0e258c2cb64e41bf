/* thermocam: temperature frames to colour pictures (range, AGC, DDE, palettes)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is a temperature frame (uint16 counts, linear in kelvin at some
 * scale; the range is given in the same counts).  A TcColorizer holds every
 * table; setters rebuild what they change, tc_colorizer_process() allocates
 * nothing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  TC_PALETTE_WHITE_HOT,
  TC_PALETTE_BLACK_HOT,
  TC_PALETTE_IRONBOW,
  TC_PALETTE_RAINBOW,
  TC_PALETTE_RAINBOW_HC,
  TC_PALETTE_LAVA,
  TC_PALETTE_ARCTIC,
  TC_PALETTE_FUSION,
  TC_PALETTE_MEDICAL,
  TC_PALETTE_RED_HOT,
  TC_PALETTE_GREEN_HOT,
  TC_PALETTE_SEPIA,
  TC_PALETTE_N
} TcPaletteId;

typedef enum {
  TC_PIXFMT_I420,
  TC_PIXFMT_RGB,
  TC_PIXFMT_BGR,
  TC_PIXFMT_RGBX,
  TC_PIXFMT_BGRX,
  TC_PIXFMT_XRGB,
  TC_PIXFMT_XBGR,
  TC_PIXFMT_RGBA,
  TC_PIXFMT_BGRA,
  TC_PIXFMT_ARGB,
  TC_PIXFMT_ABGR
} TcPixelFormat;

typedef enum {
  TC_YUV_BT601,  /* limited range */
  TC_YUV_BT709   /* limited range */
} TcYuvMatrix;

typedef enum {
  TC_AGC_LINEAR,
  TC_AGC_PLATEAU
} TcAgcMode;

typedef struct {
  uint8_t *data[3];
  size_t stride[3];
} TcPlanes;

typedef struct TcColorizer TcColorizer;

/* Palette tables: 256 RGB entries, index 0 = coldest. */
const char *tc_palette_nick (TcPaletteId id);           /* "white-hot", "ironbow", ... */
const char *tc_palette_display_name (TcPaletteId id);   /* "White hot", "Ironbow", ... */
const uint8_t *tc_palette_rgb (TcPaletteId id);         /* 256 * 3 bytes */
int tc_palette_from_nick (const char *nick);            /* -1 if unknown */

TcColorizer *tc_colorizer_new (void);
void tc_colorizer_free (TcColorizer *c);
/* Frame geometry and output layout; allocates the working buffers.  False on a
 * bad size (I420 needs even width and height). */
bool tc_colorizer_configure (TcColorizer *c, int width, int height, TcPixelFormat fmt,
                             TcYuvMatrix matrix);
void tc_colorizer_set_palette (TcColorizer *c, TcPaletteId id);
/* plateau: the largest share of the sampled pixels one histogram bin may hold,
 * 0 < plateau <= 1 (1 = plain histogram equalization). */
void tc_colorizer_set_agc (TcColorizer *c, TcAgcMode mode, double plateau);
/* automatic: the range follows the scene min/max, smoothed frame to frame by
 * damping (0 = none, 0.99 = slow); otherwise [lo, hi] in input counts. */
void tc_colorizer_set_range (TcColorizer *c, bool automatic, uint16_t lo, uint16_t hi,
                             double damping);
/* Digital detail enhancement: 0 = off, 1..100 = strength. */
void tc_colorizer_set_dde (TcColorizer *c, int level);
/* brightness -1..1 (0 = none), contrast 0..2 (1 = none), applied to the palette index. */
void tc_colorizer_set_balance (TcColorizer *c, double brightness, double contrast);
/* The palette index a colour index becomes under brightness and contrast
 * (what tc_colorizer_set_balance does), for drawing a matching scale. */
uint8_t tc_palette_balance_index (int index, double brightness, double contrast);
/* Forgets the damped automatic range (next frame starts afresh). */
void tc_colorizer_reset (TcColorizer *c);
/* One frame: src is width x height uint16 with a stride in bytes. */
void tc_colorizer_process (TcColorizer *c, const uint8_t *src, size_t src_stride,
                           const TcPlanes *out);
/* The range (input counts) the last frame was drawn with: palette index 0 is
 * lo, 255 is hi (with linear AGC; with plateau AGC the mapping between is
 * the equalized one). */
void tc_colorizer_last_range (const TcColorizer *c, uint16_t *lo, uint16_t *hi);

#ifdef __cplusplus
}
#endif
