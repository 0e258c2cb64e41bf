/* thermocam: fuzz target of the FLIR (FFF) reader
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built with -DTHERMOCAM_LIBFUZZER and -fsanitize=fuzzer it is a libFuzzer
 * target.  Built without, it is a stand-alone driver for the test suite:
 *
 *   fuzz-flir [--runs N] [--seed S] FILE...
 *
 * reads every FILE, then N (default 2000) deterministic mutations of them
 * (byte flips, truncations, duplicated and removed chunks), and prints TAP.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc-flir.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  TcFlirImage img;
  GError *error = NULL;

  if (tc_flir_read_data (data, size, &img, &error)) {
    if (img.raw == NULL || img.width <= 0 || img.height <= 0)
      abort ();
    /* touch every pixel so that a short buffer shows under sanitizers */
    {
      size_t i, n = (size_t) img.width * (size_t) img.height;
      volatile unsigned sum = 0;

      for (i = 0; i < n; i++)
        sum += img.raw[i];
      (void) sum;
    }
    tc_flir_image_clear (&img);
  } else {
    if (error == NULL || error->domain != TC_FLIR_ERROR || error->message == NULL)
      abort ();
    g_error_free (error);
  }
  return 0;
}

#ifndef THERMOCAM_LIBFUZZER

/* xorshift64*: the same mutations on every run */
static guint64
next_rand (guint64 *s)
{
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}

static gsize
rand_below (guint64 *s, gsize n)
{
  return n == 0 ? 0 : (gsize) (next_rand (s) % n);
}

/* Where the mutations are aimed: mostly the metadata (a JPEG's segments
 * before the scan, or the whole of a bare FFF), where the reader looks. */
static gsize
metadata_end (const guint8 *d, gsize len)
{
  gsize pos = 2;

  if (len < 4 || d[0] != 0xff || d[1] != 0xd8)
    return len;
  while (pos + 4 <= len && d[pos] == 0xff) {
    if (d[pos + 1] == 0xda)
      return pos;
    pos += (((gsize) d[pos + 2] << 8) | d[pos + 3]) + 2;
  }
  return MIN (pos, len);
}

static GByteArray *
mutate (const GBytes *src, guint64 *s)
{
  gsize len;
  const guint8 *d = g_bytes_get_data ((GBytes *) src, &len);
  GByteArray *out = g_byte_array_sized_new ((guint) len);
  gsize area, k, n_ops;

  g_byte_array_append (out, d, (guint) len);
  area = metadata_end (d, len);
  n_ops = 1 + rand_below (s, 4);
  for (k = 0; k < n_ops && out->len > 0; k++) {
    gsize span = MIN (area, (gsize) out->len);
    gsize at = rand_below (s, (next_rand (s) & 3) == 0 ? out->len : MAX (span, 1));
    gsize chunk = 1 + rand_below (s, 64);
    gsize i;

    if (at >= out->len)
      at = out->len - 1;
    switch (rand_below (s, 6)) {
      case 0:                  /* flip bits in a few bytes */
      case 1:
        for (i = 0; i < 1 + rand_below (s, 8) && at + i < out->len; i++)
          out->data[at + i] ^= (guint8) (1u << rand_below (s, 8));
        break;
      case 2:                  /* interesting values */
        {
          static const guint8 vals[] = { 0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe };

          for (i = 0; i < 1 + rand_below (s, 4) && at + i < out->len; i++)
            out->data[at + i] = vals[rand_below (s, sizeof vals)];
        }
        break;
      case 3:                  /* truncate */
        g_byte_array_set_size (out, (guint) at);
        break;
      case 4:                  /* duplicate a chunk */
        {
          gsize c = MIN (chunk, out->len - at);
          guint8 *tmp = g_memdup2 (out->data + at, c);

          gsize old = out->len;

          g_byte_array_set_size (out, (guint) (old + c));
          memmove (out->data + at + c, out->data + at, old - at);
          memcpy (out->data + at, tmp, c);
          g_free (tmp);
        }
        break;
      default:                 /* remove a chunk */
        g_byte_array_remove_range (out, (guint) at, (guint) MIN (chunk, out->len - at));
        break;
    }
  }
  return out;
}

int
main (int argc, char **argv)
{
  GPtrArray *inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  guint64 runs = 2000, seed = 0x7468657266756aULL, state, i, total = 0;
  int a;

  printf ("1..1\n");
  for (a = 1; a < argc; a++) {
    gchar *contents = NULL;
    gsize len = 0;
    GError *error = NULL;

    if (strcmp (argv[a], "--runs") == 0 && a + 1 < argc) {
      runs = g_ascii_strtoull (argv[++a], NULL, 10);
      continue;
    }
    if (strcmp (argv[a], "--seed") == 0 && a + 1 < argc) {
      seed = g_ascii_strtoull (argv[++a], NULL, 10);
      continue;
    }
    if (!g_file_get_contents (argv[a], &contents, &len, &error)) {
      printf ("not ok 1 fuzz-flir: %s\n", error->message);
      g_error_free (error);
      g_ptr_array_unref (inputs);
      return 1;
    }
    g_ptr_array_add (inputs, g_bytes_new_take (contents, len));
  }

  for (i = 0; i < inputs->len; i++) {
    gsize len;
    const guint8 *d = g_bytes_get_data (g_ptr_array_index (inputs, i), &len);
    /* an exact-size copy so that memory checkers see any overread */
    guint8 *copy = g_memdup2 (d, len);

    LLVMFuzzerTestOneInput (copy, len);
    g_free (copy);
    total++;
  }
  state = seed != 0 ? seed : 1;
  for (i = 0; i < runs && inputs->len > 0; i++) {
    GByteArray *m = mutate (g_ptr_array_index (inputs, i % inputs->len), &state);
    guint8 *copy = g_memdup2 (m->data, m->len);

    LLVMFuzzerTestOneInput (copy, m->len);
    g_free (copy);
    g_byte_array_unref (m);
    total++;
  }
  printf ("ok 1 fuzz-flir: %" G_GUINT64_FORMAT " inputs\n", total);
  g_ptr_array_unref (inputs);
  return 0;
}

#endif /* THERMOCAM_LIBFUZZER */
