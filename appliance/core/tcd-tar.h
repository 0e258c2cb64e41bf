/* thermocamd: ustar archives (POSIX.1-1988), written and read
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Only what the upgrade packages and the diagnostics archive need: regular
 * files with a name of at most 255 bytes (prefix + name), a size in octal,
 * a mode and a time.  The reader refuses anything else (links, devices,
 * directories, GNU or pax extensions): a package is a list of files.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TCD_TAR_BLOCK 512
#define TCD_TAR_ERROR (tcd_tar_error_quark ())
GQuark tcd_tar_error_quark (void);
/* codes: 1 the archive ends early, 2 a header is damaged or not a plain file */

/* Appends the header of a member @name of @size bytes (then the caller
 * appends the data and tcd_tar_pad) to @out; FALSE if the name does not fit */
gboolean tcd_tar_header (GByteArray *out, const gchar *name, guint64 size, guint mode,
                         gint64 mtime);
/* Appends the zeros that end a member of @size bytes at a block */
void     tcd_tar_pad (GByteArray *out, guint64 size);
/* Appends a whole member */
gboolean tcd_tar_add (GByteArray *out, const gchar *name, const void *data, gsize size,
                      guint mode, gint64 mtime);
/* Appends the end of the archive (two zero blocks) */
void     tcd_tar_end (GByteArray *out);

typedef struct {
  gchar name[256];
  guint64 size;
  guint mode;
  gint64 mtime;
} TcdTarEntry;

/* Reads the next header from @in: TRUE with @entry filled; FALSE with no
 * error at the end of the archive (a zero block); FALSE with @error when the
 * header is torn, its checksum wrong or its type not a regular file */
gboolean tcd_tar_next (GInputStream *in, TcdTarEntry *entry, GCancellable *cancellable,
                       GError **error);
/* Skips the padding after a member of @size bytes */
gboolean tcd_tar_skip_pad (GInputStream *in, guint64 size, GCancellable *cancellable,
                           GError **error);

G_END_DECLS
