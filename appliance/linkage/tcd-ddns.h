/* thermocamd: DDNS (manual 9.5): the DynDNS and NO-IP update protocol
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GET http(s)://SERVER/nic/update?hostname=NAME[&myip=ADDRESS] with Basic
 * authentication and a user agent naming the device, through libcurl on a
 * worker thread.  The answers, as the services specify: "good ADDRESS" and
 * "nochg ADDRESS" are success; badauth, !donator, notfqdn, nohost, numhost,
 * abuse, badagent and an unknown answer stop the updates until the settings
 * change (the service must not be asked again as is), with an exception
 * event; dnserr and 911 (a trouble at the service) wait 30 minutes, and an
 * error of the connection retries at the next interval.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _TcdDdns TcdDdns;

/* The updates stopped on a fatal answer (@answer: "badauth"...) */
typedef void (*TcdDdnsFatalFunc) (const gchar *answer, const gchar *message,
                                  gpointer user_data);

TcdDdns  *tcd_ddns_new (TcdDdnsFatalFunc fatal, gpointer user_data);
void      tcd_ddns_free (TcdDdns *d);
/* The section network.ddns (@ddns) and the device's address (@address,
 * NULL: let the service take the request's); a change of either updates
 * now, a change of the settings lifts a stop */
void      tcd_ddns_configure (TcdDdns *d, JsonNode *ddns, const gchar *address,
                              guint dscp);
/* An update now */
gboolean  tcd_ddns_update_now (TcdDdns *d, GError **error);
/* {"enabled", "state": "off|idle|updating|ok|retry|stopped", "answer",
 *  "address", "last_update", "next_update", "updates", "message"} */
JsonNode *tcd_ddns_status (TcdDdns *d);

/* The answer's code: "good", "nochg", "badauth", ... (the first word) */
gchar    *tcd_ddns_answer_code (const gchar *body);
typedef enum { TCD_DDNS_OK, TCD_DDNS_RETRY_LATER, TCD_DDNS_FATAL } TcdDdnsVerdict;
TcdDdnsVerdict tcd_ddns_verdict (const gchar *code);

G_END_DECLS
