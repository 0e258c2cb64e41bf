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

/* the median of 8 values: the mean of the 4th and 5th after a sorting network */
#define SWAP(a, b) do { if (v[a] > v[b]) { float t_ = v[a]; v[a] = v[b]; v[b] = t_; } } while (0)
static float
median8 (float *v)
{
  SWAP (0, 1); SWAP (2, 3); SWAP (4, 5); SWAP (6, 7);
  SWAP (0, 2); SWAP (1, 3); SWAP (4, 6); SWAP (5, 7);
  SWAP (1, 2); SWAP (5, 6); SWAP (0, 4); SWAP (3, 7);
  SWAP (1, 5); SWAP (2, 6);
  SWAP (1, 4); SWAP (3, 6);
  SWAP (2, 4); SWAP (3, 5);
  SWAP (3, 4);
  return 0.5f * (v[3] + v[4]);
}
#undef SWAP

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
  size_t added = 0, i, total = (size_t) width * height, flagged = 0, ns = 0;
  double inv = n > 0 ? 1.0 / n : 0.0;
  float *res, *sample, limit;
  int x, y;

  if (width < 3 || height < 3)
    return 0;
  res = malloc (total * sizeof (float));
  sample = malloc ((total / 7 + 1) * sizeof (float));
  if (!res || !sample) {
    free (res);
    free (sample);
    return 0;
  }
#define CORRECTED(xx, yy) \
  ((float) ((gain ? gain[(size_t) (yy) * width + (xx)] : 1.0f) * \
      (acc[(size_t) (yy) * width + (xx)] * inv) + \
      (offset ? offset[(size_t) (yy) * width + (xx)] : 0.0f)))

  /* each pixel against the median of its 8 neighbours (mirrored at the border) */
  for (y = 0; y < height; y++) {
    for (x = 0; x < width; x++) {
      float nb[8];
      int k = 0, dx, dy;

      for (dy = -1; dy <= 1; dy++) {
        for (dx = -1; dx <= 1; dx++) {
          int nx = x + dx, ny = y + dy;

          if (dx == 0 && dy == 0)
            continue;
          nx = nx < 0 ? -nx : (nx >= width ? 2 * width - 2 - nx : nx);
          ny = ny < 0 ? -ny : (ny >= height ? 2 * height - 2 - ny : ny);
          nb[k++] = CORRECTED (nx, ny);
        }
      }
      res[(size_t) y * width + x] = fabsf (CORRECTED (x, y) - median8 (nb));
    }
  }
#undef CORRECTED
  /* a robust spread of the residuals: what remains of the fixed pattern and
   * noise; defects stand far outside it */
  for (i = 0; i < total; i += 7)
    sample[ns++] = res[i];
  qsort (sample, ns, sizeof (float), cmp_float);
  limit = 10.0f * 1.4826f * sample[ns / 2];
  if (limit < threshold)
    limit = (float) threshold;
  for (i = 0; i < total; i++)
    flagged += res[i] > limit;
  /* more than 1 % is no defect map but tables that do not fit the sensor */
  if (flagged <= total / 100) {
    for (i = 0; i < total; i++) {
      if (res[i] > limit) {
        added += !bad[i];
        bad[i] = 1;
      }
    }
  }
  free (res);
  free (sample);
  return added;
}
