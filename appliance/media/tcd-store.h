/* thermocamd: a directory of files within a size limit (captures,
 * recordings): the oldest files go first
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Thread-safe (one mutex).  Names are plain file names ([A-Za-z0-9._-],
 * no leading dot): anything else is refused, so an API name never escapes
 * the directory.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _TcdStore TcdStore;

TcdStore *tcd_store_new (const gchar *dir, guint64 limit_bytes, GError **error);
void      tcd_store_free (TcdStore *s);
const gchar *tcd_store_get_dir (TcdStore *s);
/* A new limit: the oldest files are removed at once until the rest fit */
void      tcd_store_set_limit (TcdStore *s, guint64 limit_bytes);
/* Writes @data atomically (temporary file, fsync, rename) as @name, or as
 * @name with "-1", "-2" ... before the extension if taken; then removes the
 * oldest files until everything fits.  Returns the name used. */
gchar    *tcd_store_add (TcdStore *s, const gchar *name, GBytes *data, GError **error);
/* A file written into the directory by someone else (a recording) is now
 * complete: count it, and remove the oldest files (never @name) until
 * everything fits */
void      tcd_store_note (TcdStore *s, const gchar *name);
/* [{"name", "size", "time" (ISO 8601 UTC, the file's modification)}], newest first */
JsonNode *tcd_store_list (TcdStore *s);
/* The full path of an existing file, NULL for an invalid or unknown name */
gchar    *tcd_store_path (TcdStore *s, const gchar *name);
gboolean  tcd_store_delete (TcdStore *s, const gchar *name, GError **error);
/* Removes every file (a factory default); returns how many went */
guint     tcd_store_clear (TcdStore *s);
/* {"files": N, "bytes": N, "limit": N} */
JsonNode *tcd_store_usage (TcdStore *s);
gboolean  tcd_store_name_ok (const gchar *name);

G_END_DECLS
