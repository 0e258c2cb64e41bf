/* thermocam: defective pixel correction
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tc-dpc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
tc_dpc_map_init (TcDpcMap *map)
{
  memset (map, 0, sizeof (*map));
}

void
tc_dpc_map_clear (TcDpcMap *map)
{
  free (map->entries);
  tc_dpc_map_init (map);
}

bool
tc_dpc_map_build (TcDpcMap *map, const uint8_t *bad, int width, int height)
{
  size_t count = 0, i, total = (size_t) width * height;
  int x, y;

  for (i = 0; i < total; i++)
    count += bad[i] != 0;

  if (count > map->cap) {
    TcDpcEntry *e = realloc (map->entries, count * sizeof (TcDpcEntry));
    if (!e)
      return false;
    map->entries = e;
    map->cap = count;
  }
  map->n = 0;
  map->uncorrectable = 0;

  for (y = 0; y < height; y++) {
    for (x = 0; x < width; x++) {
      TcDpcEntry *e;
      int r;

      if (!bad[(size_t) y * width + x])
        continue;
      e = &map->entries[map->n];
      e->x = (uint16_t) x;
      e->y = (uint16_t) y;
      e->n = 0;
      /* the nearest ring with at least two good pixels (or any, at the end) */
      for (r = 1; r <= 3 && e->n < 2; r++) {
        int dx, dy;

        for (dy = -r; dy <= r; dy++) {
          for (dx = -r; dx <= r; dx++) {
            int nx = x + dx, ny = y + dy;

            if (abs (dx) != r && abs (dy) != r)
              continue;       /* inner rings were looked at already */
            if (nx < 0 || ny < 0 || nx >= width || ny >= height)
              continue;
            if (bad[(size_t) ny * width + nx])
              continue;
            if (e->n < TC_DPC_MAX_NEIGHBOURS) {
              e->dx[e->n] = (int8_t) dx;
              e->dy[e->n] = (int8_t) dy;
              e->n++;
            }
          }
        }
      }
      if (e->n == 0) {
        map->uncorrectable++;
        continue;
      }
      map->n++;
    }
  }
  return true;
}

void
tc_dpc_apply (const TcDpcMap *map, uint8_t *frame, size_t stride)
{
  size_t i;

  for (i = 0; i < map->n; i++) {
    const TcDpcEntry *e = &map->entries[i];
    uint32_t sum = 0;
    int k;

    for (k = 0; k < e->n; k++) {
      const uint16_t *row = (const uint16_t *) (frame + (size_t) (e->y + e->dy[k]) * stride);
      sum += row[e->x + e->dx[k]];
    }
    ((uint16_t *) (frame + (size_t) e->y * stride))[e->x] = (uint16_t) ((sum + e->n / 2) / e->n);
  }
}

static int
cmp_float (const void *a, const void *b)
{
  float fa = *(const float *) a, fb = *(const float *) b;
  return (fa > fb) - (fa < fb);
}

size_t
tc_dpc_detect (const uint32_t *acc, unsigned n, const float *gain,
    const float *offset, int width, int height, double threshold, uint8_t *bad)
{
  size_t added = 0;
  double inv = n > 0 ? 1.0 / n : 0.0;
  int x, y;

#define CORRECTED(xx, yy) \
  ((float) ((gain ? gain[(size_t) (yy) * width + (xx)] : 1.0f) * \
      (acc[(size_t) (yy) * width + (xx)] * inv) + \
      (offset ? offset[(size_t) (yy) * width + (xx)] : 0.0f)))

  for (y = 0; y < height; y++) {
    for (x = 0; x < width; x++) {
      float nb[8];
      int k = 0, dx, dy;
      float v, med;

      for (dy = -1; dy <= 1; dy++) {
        for (dx = -1; dx <= 1; dx++) {
          int nx = x + dx, ny = y + dy;

          if ((dx == 0 && dy == 0) || nx < 0 || ny < 0 || nx >= width || ny >= height)
            continue;
          nb[k++] = CORRECTED (nx, ny);
        }
      }
      qsort (nb, k, sizeof (float), cmp_float);
      med = (k % 2) ? nb[k / 2] : 0.5f * (nb[k / 2 - 1] + nb[k / 2]);
      v = CORRECTED (x, y);
      if (fabsf (v - med) > threshold) {
        size_t i = (size_t) y * width + x;

        if (!bad[i])
          added++;
        bad[i] = 1;
      }
    }
  }
#undef CORRECTED
  return added;
}
