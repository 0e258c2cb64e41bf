/* thermocamd: WS-Discovery (ONVIF Core 7: the device is found on the network)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "tcd-service.h"

G_BEGIN_DECLS

typedef struct _TcdWsd TcdWsd;

TcdWsd   *tcd_wsd_new (TcdContext *ctx);
void      tcd_wsd_free (TcdWsd *w);
/* listens on UDP @port (0: a free one) while onvif.enabled; says Hello
 * while onvif.discovery is discoverable */
gboolean  tcd_wsd_start (TcdWsd *w, guint port, GError **error);
/* Bye (when it said Hello), then the socket closed */
void      tcd_wsd_stop (TcdWsd *w);
void      tcd_wsd_apply (TcdWsd *w, JsonNode *doc);
guint     tcd_wsd_get_port (TcdWsd *w);
JsonNode *tcd_wsd_stats (TcdWsd *w);
/* the device's endpoint ("urn:uuid:...", from its serial number) */
const gchar *tcd_wsd_endpoint (TcdWsd *w);

extern const TcdServiceClass tcd_wsd_service;

G_END_DECLS
