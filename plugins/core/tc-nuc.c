/* thermocam: non-uniformity correction
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tc-nuc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char nuc_magic[8] = { 'T', 'C', 'N', 'U', 'C', '1', 0, 0 };

void
tc_nuc_apply (const float *gain, const float *offset, const uint8_t *src,
    size_t src_stride, uint8_t *dst, size_t dst_stride, int width, int height)
{
  int x, y;

  for (y = 0; y < height; y++) {
    const uint16_t *restrict s = (const uint16_t *) (src + (size_t) y * src_stride);
    uint16_t *restrict d = (uint16_t *) (dst + (size_t) y * dst_stride);
    const float *restrict g = gain + (size_t) y * width;
    const float *restrict o = offset + (size_t) y * width;

    /* float multiply-add, +0.5 and truncate after clamping: vectorizes */
    for (x = 0; x < width; x++) {
      float v = g[x] * (float) s[x] + o[x] + 0.5f;
      v = v < 0.0f ? 0.0f : v;
      v = v > 65535.0f ? 65535.0f : v;
      d[x] = (uint16_t) (int32_t) v;
    }
  }
}

void
tc_nuc_accumulate (uint32_t *acc, const uint8_t *src, size_t src_stride,
    int width, int height)
{
  int x, y;

  for (y = 0; y < height; y++) {
    const uint16_t *restrict s = (const uint16_t *) (src + (size_t) y * src_stride);
    uint32_t *restrict a = acc + (size_t) y * width;

    for (x = 0; x < width; x++)
      a[x] += s[x];
  }
}

double
tc_nuc_flat_field (float *offset, const float *gain, const uint32_t *acc,
    unsigned n, double target, const uint8_t *bad, int width, int height)
{
  size_t i, count = (size_t) width * height;
  double inv = n > 0 ? 1.0 / n : 0.0;

  if (isnan (target)) {
    double sum = 0.0;
    size_t good = 0;

    /* the level the current tables give: a relative correction keeps it */
    for (i = 0; i < count; i++) {
      if (bad && bad[i])
        continue;
      sum += gain[i] * (acc[i] * inv) + offset[i];
      good++;
    }
    target = good ? sum / good : 0.0;
  }

  for (i = 0; i < count; i++) {
    if (bad && bad[i])
      continue;
    offset[i] = (float) (target - gain[i] * (acc[i] * inv));
  }
  return target;
}

static void
put_le32 (uint8_t *p, uint32_t v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static uint32_t
get_le32 (const uint8_t *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t) p[3] << 24);
}

static bool
read_floats (FILE *f, float *dst, size_t n)
{
  uint8_t buf[4096];
  size_t done = 0;

  while (done < n) {
    size_t chunk = n - done > sizeof (buf) / 4 ? sizeof (buf) / 4 : n - done;
    size_t k;

    if (fread (buf, 4, chunk, f) != chunk)
      return false;
    for (k = 0; k < chunk; k++) {
      uint32_t u = get_le32 (buf + 4 * k);
      float v;
      memcpy (&v, &u, 4);
      if (!isfinite (v))
        return false;
      dst[done + k] = v;
    }
    done += chunk;
  }
  return true;
}

static bool
write_floats (FILE *f, const float *src, size_t n)
{
  uint8_t buf[4096];
  size_t done = 0;

  while (done < n) {
    size_t chunk = n - done > sizeof (buf) / 4 ? sizeof (buf) / 4 : n - done;
    size_t k;

    for (k = 0; k < chunk; k++) {
      uint32_t u;
      memcpy (&u, &src[done + k], 4);
      put_le32 (buf + 4 * k, u);
    }
    if (fwrite (buf, 4, chunk, f) != chunk)
      return false;
    done += chunk;
  }
  return true;
}

bool
tc_nuc_file_read (const char *path, int *width, int *height, float **gain,
    float **offset, char *err, size_t err_len)
{
  uint8_t head[16];
  FILE *f = fopen (path, "rb");
  uint32_t w, h;
  float *g = NULL, *o = NULL;
  int c;

  if (!f) {
    snprintf (err, err_len, "cannot open %s: %s", path, strerror (errno));
    return false;
  }
  if (fread (head, 1, sizeof (head), f) != sizeof (head) ||
      memcmp (head, nuc_magic, sizeof (nuc_magic)) != 0) {
    snprintf (err, err_len, "%s is not a NUC table file (bad header)", path);
    goto fail;
  }
  w = get_le32 (head + 8);
  h = get_le32 (head + 12);
  if (w < 1 || h < 1 || w > 8192 || h > 8192) {
    snprintf (err, err_len, "%s: unusable size %ux%u", path, w, h);
    goto fail;
  }
  g = malloc (sizeof (float) * w * h);
  o = malloc (sizeof (float) * w * h);
  if (!g || !o) {
    snprintf (err, err_len, "%s: out of memory", path);
    goto fail;
  }
  if (!read_floats (f, g, (size_t) w * h) || !read_floats (f, o, (size_t) w * h)) {
    snprintf (err, err_len, "%s: truncated, or a value is not a finite number", path);
    goto fail;
  }
  c = fgetc (f);
  if (c != EOF) {
    snprintf (err, err_len, "%s: trailing data after the tables", path);
    goto fail;
  }
  fclose (f);
  *width = (int) w;
  *height = (int) h;
  *gain = g;
  *offset = o;
  return true;

fail:
  free (g);
  free (o);
  fclose (f);
  return false;
}

bool
tc_nuc_file_write (const char *path, int width, int height, const float *gain,
    const float *offset, char *err, size_t err_len)
{
  uint8_t head[16];
  FILE *f = fopen (path, "wb");
  bool ok;

  if (!f) {
    snprintf (err, err_len, "cannot create %s: %s", path, strerror (errno));
    return false;
  }
  memcpy (head, nuc_magic, 8);
  put_le32 (head + 8, (uint32_t) width);
  put_le32 (head + 12, (uint32_t) height);
  ok = fwrite (head, 1, sizeof (head), f) == sizeof (head) &&
      write_floats (f, gain, (size_t) width * height) &&
      write_floats (f, offset, (size_t) width * height);
  if (fclose (f) != 0)
    ok = false;
  if (!ok)
    snprintf (err, err_len, "cannot write %s: %s", path, strerror (errno));
  return ok;
}
