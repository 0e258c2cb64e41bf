/* thermocam: non-uniformity correction (two-point tables, flat field)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * corrected[i] = gain[i] * raw[i] + offset[i]: the factory gain table evens out
 * the pixels' responsivity, the offset table their dark level.  A flat-field
 * correction (the shutter closed, or a uniform object in front of the lens)
 * renews the offset table from the average of a few uniform frames.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One frame through the tables (strides in bytes), rounded and clamped. */
void tc_nuc_apply (const float *gain, const float *offset,
                   const uint8_t *src, size_t src_stride,
                   uint8_t *dst, size_t dst_stride, int width, int height);
/* acc[i] += raw[i] (acc is width * height, dense). */
void tc_nuc_accumulate (uint32_t *acc, const uint8_t *src, size_t src_stride,
                        int width, int height);
/* Renews @offset from @n accumulated uniform frames so that each corrected
 * pixel reads @target counts; with @target NAN, the mean the current tables
 * give over good pixels (a relative correction that keeps the level).
 * Pixels flagged in @bad (may be NULL) keep their offset.  Returns the target. */
double tc_nuc_flat_field (float *offset, const float *gain, const uint32_t *acc,
                          unsigned n, double target, const uint8_t *bad,
                          int width, int height);

/* Tables in a file: "TCNUC1\0\0", uint32 LE width, height, then width*height
 * float32 LE gains, then as many offsets. */
bool tc_nuc_file_read (const char *path, int *width, int *height,
                       float **gain, float **offset, char *err, size_t err_len);
bool tc_nuc_file_write (const char *path, int width, int height,
                        const float *gain, const float *offset, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif
