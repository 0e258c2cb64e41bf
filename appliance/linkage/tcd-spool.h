/* thermocamd: the delivery spool: linkage that must arrive (FTP, email,
 * surveillance center), kept on disk until delivered
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A job is a JSON object plus attachment files, stored in its own directory
 * under @dir (written to a temporary directory, fsync'd and renamed, so a
 * job is on disk whole or not at all) before tcd_spool_add() returns.  Each
 * channel ("ftp", "email", "center-1", ...) has its own worker thread, so a
 * slow or dead peer only delays its own channel.  A channel sends its jobs
 * in the order they were added, one at a time.  A failed attempt is
 * retried after retry_initial_s, doubling up to retry_max_s; jobs left on
 * disk by a previous run are loaded by tcd_spool_new() and sent again.
 * A delivered job's directory is removed.  At most max_pending jobs wait:
 * adding one more drops the oldest; a job older than max_age_h is dropped;
 * each drop is logged and notified.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _TcdSpool TcdSpool;

/* In the channel's worker thread: deliver @job (borrowed) whose attachments
 * are files in @job_dir.  TRUE when delivered; FALSE with @error to retry
 * later.  @cancellable is cancelled when the spool is freed. */
typedef gboolean (*TcdSpoolSendFunc) (const gchar *channel, JsonNode *job,
                                      const gchar *job_dir, GCancellable *cancellable,
                                      gpointer user_data, GError **error);
/* On the main context of tcd_spool_new()'s caller: what happened to a job.
 * @state is "delivered", "retry" (an attempt failed: @reason says why) or
 * "dropped" (@reason: "queue full", "too old", "unreadable"). */
typedef void (*TcdSpoolNotifyFunc) (const gchar *id, const gchar *channel, JsonNode *job,
                                    const gchar *state, const gchar *reason,
                                    guint attempts, gpointer user_data);

typedef struct {
  const gchar *name;            /* a plain file name */
  GBytes *data;
} TcdSpoolFile;

TcdSpool *tcd_spool_new (const gchar *dir, TcdSpoolSendFunc send, TcdSpoolNotifyFunc notify,
                         gpointer user_data, GError **error);
/* Stops the workers: a send in progress is cancelled; jobs stay on disk */
void      tcd_spool_free (TcdSpool *s);
void      tcd_spool_configure (TcdSpool *s, guint retry_initial_s, guint retry_max_s,
                               guint max_pending, guint max_age_h);
/* Stores the job (@job is copied) with its files and queues it on @channel.
 * Returns the new job's id (free it), NULL on a disk error. */
gchar    *tcd_spool_add (TcdSpool *s, const gchar *channel, JsonNode *job,
                         const TcdSpoolFile *files, guint n_files, GError **error);
/* Retry every waiting job of @channel now (its settings changed) */
void      tcd_spool_kick (TcdSpool *s, const gchar *channel);
/* {"pending": N, "delivered": N, "dropped": N, "failed_attempts": N,
 *  "channels": {"ftp": {"pending": N, "last_error": "...", "next_attempt":
 *  "ISO time"}, ...}} */
JsonNode *tcd_spool_status (TcdSpool *s);

G_END_DECLS
