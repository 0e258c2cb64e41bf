/* thermocamd: QoS (manual 10.12.6): the DSCP of a socket's traffic
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-dscp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

static gint current[3];

void
tcd_dscp_set (TcdDscpKind kind, gint dscp)
{
  if ((guint) kind < G_N_ELEMENTS (current))
    g_atomic_int_set (&current[kind], CLAMP (dscp, 0, 63));
}

gint
tcd_dscp_get (TcdDscpKind kind)
{
  return (guint) kind < G_N_ELEMENTS (current) ? g_atomic_int_get (&current[kind]) : 0;
}

void
tcd_dscp_apply (gint fd, TcdDscpKind kind, gboolean fresh)
{
  gint v = tcd_dscp_get (kind);

  if (v || !fresh)
    tcd_dscp_set_fd (fd, v);
}

const gchar *
tcd_dscp_member (TcdDscpKind kind)
{
  switch (kind) {
    case TCD_DSCP_VIDEO:
      return "video_dscp";
    case TCD_DSCP_ALARM:
      return "alarm_dscp";
    case TCD_DSCP_MANAGEMENT:
    default:
      return "management_dscp";
  }
}

gboolean
tcd_dscp_set_fd (gint fd, gint dscp)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  gint tos = (CLAMP (dscp, 0, 63) << 2);

  if (fd < 0 || getsockname (fd, (struct sockaddr *) &ss, &len) != 0)
    return FALSE;
  if (ss.ss_family == AF_INET6) {
    /* the IPv6 traffic class, and the TOS of IPv4 sent mapped */
    if (setsockopt (fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos) != 0)
      return FALSE;
    (void) setsockopt (fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    return TRUE;
  }
  if (ss.ss_family == AF_INET)
    return setsockopt (fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos) == 0;
  errno = EAFNOSUPPORT;
  return FALSE;
}
