/* thermocamd: ustar archives (tcd-tar.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The header (POSIX.1-1988 ustar): name[100] mode[8] uid[8] gid[8]
 * size[12] mtime[12] chksum[8] typeflag[1] linkname[100] magic[6]
 * version[2] uname[32] gname[32] devmajor[8] devminor[8] prefix[155],
 * numbers in octal, the checksum the sum of the header's bytes with its own
 * field taken as spaces.
 */
#include "tcd-tar.h"

#include <string.h>



G_DEFINE_QUARK (tcd-tar-error-quark, tcd_tar_error)

static void
octal (guint8 *field, gsize width, guint64 v)
{
  g_snprintf ((gchar *) field, width, "%0*" G_GINT64_MODIFIER "o", (gint) width - 1, v);
}

static guint
checksum (const guint8 *h)
{
  guint sum = 0;

  for (guint i = 0; i < TCD_TAR_BLOCK; i++)
    sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return sum;
}

gboolean
tcd_tar_header (GByteArray *out, const gchar *name, guint64 size, guint mode, gint64 mtime)
{
  guint8 h[TCD_TAR_BLOCK] = { 0 };
  gsize len = strlen (name), split = 0;

  if (len == 0 || len > 255)
    return FALSE;
  if (len > 100) {
    /* the prefix ends at a slash; the rest (at most 100) is the name */
    for (gsize i = len - 1; i > 0; i--)
      if (name[i] == '/' && i <= 155 && len - i - 1 <= 100) {
        split = i;
        break;
      }
    if (!split)
      return FALSE;
    memcpy (h + 345, name, split);
    memcpy (h, name + split + 1, len - split - 1);
  } else {
    memcpy (h, name, len);
  }
  octal (h + 100, 8, mode & 07777);
  octal (h + 108, 8, 0);
  octal (h + 116, 8, 0);
  octal (h + 124, 12, size);
  octal (h + 136, 12, MAX (mtime, 0));
  h[156] = '0';
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  memcpy (h + 265, "root", 4);
  memcpy (h + 297, "root", 4);
  g_snprintf ((gchar *) h + 148, 8, "%06o", checksum (h));
  h[155] = ' ';
  g_byte_array_append (out, h, sizeof h);
  return TRUE;
}

void
tcd_tar_pad (GByteArray *out, guint64 size)
{
  static const guint8 zeros[TCD_TAR_BLOCK] = { 0 };
  guint rest = size % TCD_TAR_BLOCK;

  if (rest)
    g_byte_array_append (out, zeros, TCD_TAR_BLOCK - rest);
}

gboolean
tcd_tar_add (GByteArray *out, const gchar *name, const void *data, gsize size, guint mode,
    gint64 mtime)
{
  if (!tcd_tar_header (out, name, size, mode, mtime))
    return FALSE;
  g_byte_array_append (out, data, size);
  tcd_tar_pad (out, size);
  return TRUE;
}

void
tcd_tar_end (GByteArray *out)
{
  static const guint8 zeros[2 * TCD_TAR_BLOCK] = { 0 };
  g_byte_array_append (out, zeros, sizeof zeros);
}

static gboolean
parse_octal (const guint8 *field, gsize width, guint64 *out)
{
  guint64 v = 0;
  gsize i = 0;

  while (i < width && field[i] == ' ')
    i++;
  if (i == width || field[i] < '0' || field[i] > '7')
    return FALSE;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; i++) {
    if (v >> 60)
      return FALSE;
    v = v * 8 + (field[i] - '0');
  }
  for (; i < width; i++)
    if (field[i] != ' ' && field[i] != '\0')
      return FALSE;
  *out = v;
  return TRUE;
}

gboolean
tcd_tar_next (GInputStream *in, TcdTarEntry *entry, GCancellable *cancellable, GError **error)
{
  guint8 h[TCD_TAR_BLOCK];
  gsize got = 0, nlen, plen;
  guint64 sum, mode, size, mtime;
  gboolean zero = TRUE;

  if (!g_input_stream_read_all (in, h, sizeof h, &got, cancellable, error))
    return FALSE;
  if (got != sizeof h) {
    g_set_error (error, TCD_TAR_ERROR, 1, "the archive is truncated");
    return FALSE;
  }
  for (guint i = 0; i < sizeof h && zero; i++)
    zero = h[i] == 0;
  if (zero)
    return FALSE;
  if (!parse_octal (h + 148, 8, &sum) || sum != checksum (h)) {
    g_set_error (error, TCD_TAR_ERROR, 2, "an archive header is damaged");
    return FALSE;
  }
  if (memcmp (h + 257, "ustar", 5) != 0 || (h[156] != '0' && h[156] != '\0')) {
    g_set_error (error, TCD_TAR_ERROR, 2, "an archive member is not a plain file");
    return FALSE;
  }
  if (!parse_octal (h + 100, 8, &mode) || !parse_octal (h + 124, 12, &size)
      || !parse_octal (h + 136, 12, &mtime)) {
    g_set_error (error, TCD_TAR_ERROR, 2, "an archive header is damaged");
    return FALSE;
  }
  nlen = strnlen ((const gchar *) h, 100);
  plen = strnlen ((const gchar *) h + 345, 155);
  memset (entry->name, 0, sizeof entry->name);
  if (plen) {
    memcpy (entry->name, h + 345, plen);
    entry->name[plen] = '/';
    memcpy (entry->name + plen + 1, h, nlen);
  } else {
    memcpy (entry->name, h, nlen);
  }
  entry->size = size;
  entry->mode = mode;
  entry->mtime = mtime;
  return TRUE;
}

gboolean
tcd_tar_skip_pad (GInputStream *in, guint64 size, GCancellable *cancellable, GError **error)
{
  guint8 pad[TCD_TAR_BLOCK];
  guint rest = size % TCD_TAR_BLOCK;
  gsize got = 0;

  if (!rest)
    return TRUE;
  if (!g_input_stream_read_all (in, pad, TCD_TAR_BLOCK - rest, &got, cancellable, error))
    return FALSE;
  if (got != TCD_TAR_BLOCK - rest) {
    g_set_error (error, TCD_TAR_ERROR, 1, "the archive is truncated");
    return FALSE;
  }
  return TRUE;
}
