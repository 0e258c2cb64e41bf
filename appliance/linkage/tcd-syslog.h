/* thermocamd: the security audit log sent to a log server (manual
 * 10.12.2): syslog (RFC 5424) over TCP (octet counting, RFC 6587) or TLS
 * (RFC 5425)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every audit record, while log_server.enabled, becomes one syslog message
 * queued on disk in the delivery spool (linkage/tcd-spool.h: its own
 * directory, STATE/syslog-spool/), so the queue survives a restart and is
 * bounded (log_server.queue_max: past it the oldest goes, logged).  One
 * worker thread keeps one connection to the server and sends the messages
 * in order; a failed attempt is retried with backoff (2 s doubling to 60 s)
 * and a changed setting is tried at once.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "tcd-change.h"
#include "tcd-security.h"

G_BEGIN_DECLS

typedef struct _TcdSyslog TcdSyslog;

/* @hostname: the HOSTNAME of the messages (the serial number) */
TcdSyslog *tcd_syslog_new (TcdSecurity *security, const gchar *state_dir,
                           const gchar *hostname, GError **error);
void       tcd_syslog_free (TcdSyslog *s);
/* The "log_server" section of @doc (already checked) */
void       tcd_syslog_apply (TcdSyslog *s, JsonNode *doc);
/* A check of the change path: log_server.ca must be PEM certificates */
gboolean   tcd_syslog_check (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
                             gpointer user_data, GError **error);
/* {"enabled", "connected", "sent", "queue": the spool's status} */
JsonNode  *tcd_syslog_status (TcdSyslog *s);
/* One RFC 5424 message (for the tests' and the reader's sake, here) */
gchar     *tcd_syslog_format (guint facility, gint64 time_us, const gchar *hostname,
                              gint pid, const gchar *type, const gchar *user,
                              const gchar *address, const gchar *detail);

G_END_DECLS
