/* thermocamd: port mapping by UPnP (manual 9.3), a client of the router's
 * Internet Gateway Device through libminiupnpc
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * While upnp.enabled is on, the IGD is discovered (SSDP, from
 * upnp.discovery_address's interface) and each enabled entry of
 * upnp.mappings (a port of the ports section in use now: HTTP, HTTPS, RTSP,
 * SRTP, Modbus TCP over TCP, SNMP over UDP) is added: external port =
 * internal port in mode auto, the entry's external_port in mode manual;
 * each is renewed at half its lease, removed when it is no longer wanted
 * (a change, UPnP off) and at stop.  Discovery and the SOAP calls block:
 * they run in a GTask worker, one sync at a time; the state (the IGD, the
 * external address, each mapping) is GET /network/port-mapping (the
 * service's stats).
 */
#pragma once

#include "tcd-service.h"

G_BEGIN_DECLS

typedef struct _TcdUpnp TcdUpnp;

/* the service (tcd-upnp-service.c) */
extern const TcdServiceClass tcd_upnp_service;

TcdUpnp  *tcd_upnp_new (TcdContext *ctx);
void      tcd_upnp_free (TcdUpnp *u);
/* The configuration or the ports in use changed: a sync */
void      tcd_upnp_apply (TcdUpnp *u, JsonNode *doc);
/* Every mapping made is removed (waits for the router, a few seconds at most) */
void      tcd_upnp_stop (TcdUpnp *u);
JsonNode *tcd_upnp_stats (TcdUpnp *u);

G_END_DECLS
