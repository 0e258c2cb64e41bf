/* thermocam: blending drawn overlays (premultiplied ARGB) into video frames
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An overlay is found once, when it is drawn, as spans of pixels that are not
 * transparent; blending then touches only those pixels, in any frame layout
 * of 8-bit components (packed or planar RGB, YUV with any chroma
 * subsampling, with or without alpha).  For YUV the overlay's span pixels
 * are converted once per drawing; chroma is averaged over the pixels each
 * chroma sample covers.  Nothing here allocates per frame.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* a run of pixels of an overlay that are not transparent */
typedef struct {
  uint16_t y, x, n;
} TcBlendSpan;

/* where the components of a frame are; component order R, G, B (or Y, U,
 * V), then alpha */
typedef struct {
  unsigned n_components;     /* 3 or 4 */
  bool yuv;
  unsigned plane[4], poffset[4], pstride[4], wsub[4], hsub[4];
} TcPixelLayout;

typedef struct {
  bool ok, yuv, alpha;
  unsigned plane[4], poffset[4], pstride[4], wsub[4], hsub[4];
  int yc[3], uc[3], vc[3], yoff;   /* premultiplied RGB to YUV, 16.16 */
  int32_t *acc;                    /* chroma: alpha, u, v per sample of a row */
  unsigned n_acc;
  unsigned serial;                 /* changes with the coefficients */
} TcBlender;

/* a frame's planes */
typedef struct {
  uint8_t *data[4];
  size_t stride[4];
  int width, height;
} TcFrame;

/* Sets the blender up for a layout (and, for YUV, the matrix: kr, kb, and
 * full or limited range) and a frame width.  b->ok says whether it can blend
 * that layout (luma and alpha unsubsampled, U and V alike). */
void tc_blender_configure (TcBlender *b, const TcPixelLayout *layout, double kr,
                           double kb, bool full_range, int frame_width);
void tc_blender_clear (TcBlender *b);

/* The spans of a premultiplied ARGB32 image (native-endian uint32 pixels,
 * stride in bytes); allocates *spans (free()).  False for images wider or
 * taller than 65535 or out of memory. */
bool tc_blend_find_spans (const uint8_t *argb, size_t stride, int width, int height,
                          TcBlendSpan **spans, size_t *n_spans, size_t *n_pixels);
/* The span pixels in the blender's YUV (Y, U - 128, V - 128, alpha in bytes
 * 0..3), n_pixels of them into @out. */
void tc_blend_to_yuv (const TcBlender *b, const uint8_t *argb, size_t stride,
                      const TcBlendSpan *spans, size_t n_spans, uint32_t *out);
/* Blends the spans of an overlay placed at (@px, @py) (may stand over the
 * frame's edges) into @frame.  @yuv is tc_blend_to_yuv's output for YUV
 * layouts, unused for RGB. */
void tc_blend_spans (TcBlender *b, const TcFrame *frame, const uint8_t *argb,
                     size_t stride, const uint32_t *yuv, const TcBlendSpan *spans,
                     size_t n_spans, int px, int py);

#ifdef __cplusplus
}
#endif
