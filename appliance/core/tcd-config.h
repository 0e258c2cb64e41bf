/* thermocamd: the configuration document (schemas/config.schema.json)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One JSON document, one path for every change: check (schema + the
 * measurement code's own parser) -> apply -> persist atomically.  The file
 * in the state directory is always the old or the new document, never a torn
 * one (temporary file, fsync, rename).
 */
#pragma once

#include <json-glib/json-glib.h>
#include "tc-schema.h"
#include "tcd-error.h"

G_BEGIN_DECLS

#define TCD_CONFIG_ERROR (tcd_config_error_quark ())
GQuark tcd_config_error_quark (void);

typedef enum {
  TCD_CONFIG_ERROR_INVALID,     /* the document breaks the schema or a rule */
  TCD_CONFIG_ERROR_NOT_FOUND,   /* no such section */
  TCD_CONFIG_ERROR_IO           /* could not persist */
} TcdConfigError;


typedef struct _TcdConfig TcdConfig;

/* Loads <state_dir>/config.json (first removing what a crash in the middle
 * of a save left in the state directory: tcd_state_clean_temp_files) */
TcdConfig *tcd_config_new (const gchar *state_dir, const gchar *schema_path,
                           GError **error);
/* Removes the temporary files "NAME.XXXXXX" of the files the daemon
 * replaces atomically (config.json, users.json, users.htdigest, overlay.bmp,
 * calibration.sha256, serial, the .pem files of tls), left when it died before
 * the rename */
void       tcd_state_clean_temp_files (const gchar *state_dir);
/* Renames in place the members that had another name before
 * (thermometry.alarm_interval -> alarm_interval_s) in @node: the whole
 * document (@section NULL) or that section */
void       tcd_config_rename_aliases (JsonNode *node, const gchar *section);
void       tcd_config_free (TcdConfig *cfg);

/* borrowed: the whole document, one section, the schema */
JsonNode  *tcd_config_get (TcdConfig *cfg);
JsonNode  *tcd_config_get_section (TcdConfig *cfg, const gchar *section);
TcSchema  *tcd_config_get_schema (TcdConfig *cfg);
gboolean   tcd_config_has_section (TcdConfig *cfg, const gchar *section);

/* A new whole document with @section replaced by the merge of its current
 * value and @patch (objects merge field by field, arrays and scalars replace). */
JsonNode  *tcd_config_patched (TcdConfig *cfg, const gchar *section, JsonNode *patch);

/* Validates a whole document; on failure *field names the offending field.
 * Its numbers are first rounded in place to their resolution (tcd-json.h),
 * so that what is checked is what is kept and shown. */
gboolean   tcd_config_check (TcdConfig *cfg, JsonNode *doc, gchar **field,
                             GError **error);

/* Persists @doc (already checked) and makes it current */
gboolean   tcd_config_commit (TcdConfig *cfg, JsonNode *doc, GError **error);

/* The factory document; with @keep (restore), the fields the manual keeps
 * (video standard, ports) are taken from the current one */
JsonNode  *tcd_config_defaults (TcdConfig *cfg, gboolean keep);

/* The sensor's frame rate under @doc's video standard (PAL 25, NTSC 30):
 * no stream may ask for more */
gint       tcd_config_sensor_fps (JsonNode *doc);
/* Brings the streams' frame rates above the sensor's down to it (a change of
 * the video standard takes them along); TRUE if one changed */
gboolean   tcd_config_fit_frame_rates (JsonNode *doc);

/* Convenience readers of the current document: "image.palette" style paths */
const gchar *tcd_config_string (TcdConfig *cfg, const gchar *path);
gdouble      tcd_config_double (TcdConfig *cfg, const gchar *path);
gint64       tcd_config_int (TcdConfig *cfg, const gchar *path);
gboolean     tcd_config_bool (TcdConfig *cfg, const gchar *path);
JsonNode    *tcd_config_node (JsonNode *doc, const gchar *path);  /* borrowed */

/* a copy sharing nothing with @node (json_node_copy shares containers) */
JsonNode    *tcd_json_deep_copy (JsonNode *node);
gchar       *tcd_json_to_string (JsonNode *node, gboolean pretty);

G_END_DECLS
