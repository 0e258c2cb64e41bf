/* thermocamd: FTP upload, email and HTTP(S) push with libcurl
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Blocking calls for worker threads (never the main loop).  Each attempt is
 * bounded by @timeout_s (connection included) and ends early when
 * @cancellable is cancelled (daemon shutdown).  Thread-safe: libcurl is
 * initialised once; each call has its own easy handle.  The settings are the
 * configuration's sections as JSON (schemas/config.schema.json): "ftp",
 * "email" and one item of "center.receivers".  No password ever appears in an
 * error message.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TCD_TRANSFER_ERROR (tcd_transfer_error_quark ())
GQuark tcd_transfer_error_quark (void);

typedef enum {
  TCD_TRANSFER_ERROR_CONFIG,    /* not configured (no server, no receiver) */
  TCD_TRANSFER_ERROR_CONNECT,   /* name resolution or connection failed */
  TCD_TRANSFER_ERROR_AUTH,      /* the server refused the credentials */
  TCD_TRANSFER_ERROR_TLS,       /* TLS handshake or certificate */
  TCD_TRANSFER_ERROR_TIMEOUT,   /* the attempt took longer than timeout_s */
  TCD_TRANSFER_ERROR_REFUSED,   /* the server answered with an error */
  TCD_TRANSFER_ERROR_CANCELLED,
  TCD_TRANSFER_ERROR_FAILED
} TcdTransferError;

typedef struct {
  const gchar *name;            /* file name as the receiver sees it */
  const gchar *content_type;    /* "image/jpeg", "image/bmp" */
  GBytes *data;
} TcdAttachment;

/* Uploads @data as @dir/@name (dir relative to the login directory, "" for
 * it; missing directories are created).  The file appears complete or not
 * at all: it is stored under a temporary name and renamed. */
gboolean tcd_transfer_ftp_put (JsonNode *ftp, const gchar *dir, const gchar *name,
                               GBytes *data, guint timeout_s, GCancellable *cancellable,
                               GError **error);
/* The directory of an event's pictures as ftp.directory says:
 * "", "PARENT" or "PARENT/CHILD".  @device is the "device" section,
 * @event_key names the source ("scene", "rule-3", "input-1", "timed"). */
gchar   *tcd_transfer_ftp_dir (JsonNode *ftp, JsonNode *device, const gchar *serial,
                               const gchar *event_key, GDateTime *when);
/* Sends one mail to every email.receivers address: a text/plain body and
 * the attachments (multipart/mixed).  Encryption, authentication and
 * certificate checking as the section says; "starttls" fails rather than
 * sending in clear when the server does not offer STARTTLS. */
gboolean tcd_transfer_email (JsonNode *email, const gchar *subject, const gchar *body,
                             const TcdAttachment *attachments, guint n_attachments,
                             guint timeout_s, GCancellable *cancellable, GError **error);
/* POSTs @json (application/json) to one center receiver ({"url", "user",
 * "password", "verify_certificate"}); any 2xx is success. */
gboolean tcd_transfer_http_post (JsonNode *receiver, const gchar *json, guint timeout_s,
                                 GCancellable *cancellable, GError **error);

G_END_DECLS
