/* thermocamd: manual recording (manual 8.2): the core's video as H.264 in
 * MP4 files split at recording.file_size_mb, kept in a TcdStore
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "tcd-pipeline.h"
#include "tcd-store.h"

G_BEGIN_DECLS

typedef struct _TcdRecord TcdRecord;

TcdRecord *tcd_record_new (TcdPipeline *pipeline, TcdStore *store);
/* Stops a recording first (the last file is finished) */
void       tcd_record_free (TcdRecord *r);
/* Starts recording with the configuration @doc (recording.file_size_mb and
 * video.main's encoder settings).  Files are named
 * rec-YYYYmmdd-HHMMSS-NNN.mp4 (UTC start of the recording, part number).
 * Recording again while recording is no error. */
gboolean   tcd_record_start (TcdRecord *r, JsonNode *doc, GError **error);
/* Finishes the current file (EOS through the muxer, bounded wait) so that
 * every file is a playable MP4; no-op when not recording */
void       tcd_record_stop (TcdRecord *r);
gboolean   tcd_record_is_recording (TcdRecord *r);
/* {"recording": bool, "since": ISO or null, "file": current name or null,
 *  "files": N written by this recording} */
JsonNode  *tcd_record_status (TcdRecord *r);

G_END_DECLS
