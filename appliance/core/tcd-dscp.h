/* thermocamd: QoS (manual 10.12.6): the DSCP of a socket's traffic
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The DSCP is the upper six bits of the IPv4 TOS byte and of the IPv6
 * traffic class.  A socket of either family gets both (an IPv6 socket
 * that also carries IPv4, mapped, sends with IP_TOS).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  TCD_DSCP_VIDEO,               /* RTP and RTSP */
  TCD_DSCP_ALARM,               /* linkage deliveries */
  TCD_DSCP_MANAGEMENT,          /* HTTP, Modbus TCP, ... */
} TcdDscpKind;

/* The DSCP each kind of traffic gets now (any thread); set when
 * network.qos changes */
void         tcd_dscp_set (TcdDscpKind kind, gint dscp);
gint         tcd_dscp_get (TcdDscpKind kind);
/* Sets the DSCP of @kind on socket @fd (nothing while it is 0 and
 * @fresh: a new socket has 0) */
void         tcd_dscp_apply (gint fd, TcdDscpKind kind, gboolean fresh);

/* The member of network.qos for @kind ("video_dscp") */
const gchar *tcd_dscp_member (TcdDscpKind kind);
/* Sets @dscp (0..63) on socket @fd; FALSE with errno set if the socket
 * refuses (not an IP socket) */
gboolean     tcd_dscp_set_fd (gint fd, gint dscp);

G_END_DECLS
