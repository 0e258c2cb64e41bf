/* thermocamd: manual defective pixel correction (manual 7.5)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An operator marks defective pixels by their sensor coordinates (the page
 * converts a click on the live picture; the API takes them as they are):
 * marked pixels are pending until "correct" applies them all together; the
 * corrected list goes to thermalnuc's manual defect map (each pixel replaced
 * by the mean of its good neighbours).  "cancel" undoes the last change of
 * the corrected list (a correction or a removal): the list is back to what
 * it was before, and the pending marks are dropped.  Everything is kept in
 * STATE_DIR/dpc.json with the other calibration data (it survives a restart,
 * a restore and the factory state), written atomically.
 *
 * Coordinates are the sensor's (before the picture's mirror), 0-based, inside
 * the sensor; at most TCD_DPC_MAX_PIXELS corrected and pending together.  A
 * refusal changes nothing.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "tcd-change.h"
#include "tcd-pipeline.h"
#include "tcd-security.h"

G_BEGIN_DECLS

#define TCD_DPC_MAX_PIXELS 1024
/* the pixels one request may add or remove */
#define TCD_DPC_MAX_PER_REQUEST 256

#define TCD_DPC_ERROR (tcd_dpc_error_quark ())
GQuark tcd_dpc_error_quark (void);

typedef enum {
  TCD_DPC_ERROR_NOTHING,        /* nothing pending to correct, nothing to cancel */
  TCD_DPC_ERROR_FULL,           /* TCD_DPC_MAX_PIXELS reached */
  TCD_DPC_ERROR_NOT_READY,      /* no frame yet: the sensor's size is not known */
} TcdDpcError;
/* a pixel outside the sensor or a malformed list: TCD_CONFIG_ERROR_INVALID
 * with its field ("pixels[2].x"); could not be saved: TCD_CONFIG_ERROR_IO */

typedef struct _TcdDpc TcdDpc;

/* Loads STATE_DIR/dpc.json (none: empty) and gives the pipeline its list */
TcdDpc   *tcd_dpc_new (TcdPipeline *pipeline, TcdSecurity *security, const gchar *state_dir);
void      tcd_dpc_free (TcdDpc *d);

/* {"width", "height", "max", "pixels": [{x, y}], "pending": [{x, y}],
 *  "can_cancel", "mirror"}: @mirror is the picture's image.mirror, for a
 * client that converts what it shows to sensor coordinates */
JsonNode *tcd_dpc_state (TcdDpc *d, const gchar *mirror);
/* @pixels: a JSON array of {"x", "y"} objects (from outside: checked here) */
gboolean  tcd_dpc_add (TcdDpc *d, JsonNode *pixels, const TcdOrigin *origin, GError **error);
/* removes each from the pending marks and from the corrected list (applied
 * at once; cancel brings them back) */
gboolean  tcd_dpc_remove (TcdDpc *d, JsonNode *pixels, const TcdOrigin *origin,
                          GError **error);
gboolean  tcd_dpc_correct (TcdDpc *d, const TcdOrigin *origin, GError **error);
gboolean  tcd_dpc_cancel (TcdDpc *d, const TcdOrigin *origin, GError **error);

G_END_DECLS
