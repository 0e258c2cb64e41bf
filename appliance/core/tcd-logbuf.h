/* thermocamd: the running log kept in memory (manual 10.3, diagnose
 * information)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A GLib structured log writer that keeps the last lines (at most
 * @max_lines and @max_bytes) and still writes every message where GLib's
 * default writer does (stderr, or the journal).  Thread-safe: any thread
 * logs.  One per process: tcd_logbuf_install () before the first message.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _TcdLogBuf TcdLogBuf;

TcdLogBuf *tcd_logbuf_install (guint max_lines, gsize max_bytes);
/* A line from elsewhere (GStreamer's debug log): "LEVEL domain: message" */
void       tcd_logbuf_append (TcdLogBuf *l, const gchar *level, const gchar *domain,
                              const gchar *message);
/* The lines kept, oldest first, each "ISO-time LEVEL domain: message\n" */
gchar     *tcd_logbuf_text (TcdLogBuf *l, gsize *len);
/* lines dropped past the bound since the start */
guint64    tcd_logbuf_dropped (TcdLogBuf *l);

G_END_DECLS
