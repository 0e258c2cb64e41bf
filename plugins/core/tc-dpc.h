/* thermocam: defective pixel correction
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A map of defective pixels (a mask) is compiled into a list of entries, each
 * with the good neighbours it is rebuilt from: the good pixels of the nearest
 * ring around it (3x3, else 5x5, up to 7x7).  Applying the map replaces each
 * defective pixel with the mean of its neighbours; the cost is proportional to
 * the number of defects, not to the frame.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TC_DPC_MAX_NEIGHBOURS 16

typedef struct {
  uint16_t x, y;
  uint8_t n;
  int8_t dx[TC_DPC_MAX_NEIGHBOURS];
  int8_t dy[TC_DPC_MAX_NEIGHBOURS];
} TcDpcEntry;

typedef struct {
  TcDpcEntry *entries;
  size_t n;
  size_t cap;
  size_t uncorrectable;   /* defects with no good pixel within 7x7 */
} TcDpcMap;

void tc_dpc_map_init (TcDpcMap *map);
void tc_dpc_map_clear (TcDpcMap *map);
/* Compiles @bad (width * height, non-zero = defective).  Allocates; call it
 * when the map changes, not per frame.  False when out of memory. */
bool tc_dpc_map_build (TcDpcMap *map, const uint8_t *bad, int width, int height);
/* Rebuilds every defective pixel of @frame in place (stride in bytes). */
void tc_dpc_apply (const TcDpcMap *map, uint8_t *frame, size_t stride);
/* Flags pixels of an averaged uniform frame (@acc / @n, corrected with @gain
 * and @offset, may be NULL for none) that stand out from the median of their
 * 8 neighbours by more than @threshold counts and more than ten times the
 * residuals' robust spread (so a leftover fixed pattern is not taken for
 * defects).  When over 1 % of the pixels would be flagged, the tables do not
 * fit the sensor and nothing is flagged.  Sets bad[i] = 1 for each and returns
 * how many it flagged that were not flagged already.  Allocates: call it at
 * a flat-field correction, not per frame. */
size_t tc_dpc_detect (const uint32_t *acc, unsigned n, const float *gain,
                      const float *offset, int width, int height,
                      double threshold, uint8_t *bad);

#ifdef __cplusplus
}
#endif
