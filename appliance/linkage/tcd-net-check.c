/* thermocamd: the checks of the network section on the change path
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the schema cannot say: an IPv4 address that is an address of a
 * host (not the network's, the broadcast, loopback, multicast), a mask
 * of contiguous ones, a gateway inside the subnet, IPv6 addresses that
 * parse, two DNS servers that differ, what DDNS and 802.1X need to work.
 * Each refusal names its field; nothing changes.
 */
#include "tcd-net.h"

#include <arpa/inet.h>
#include <string.h>

#include "tc-json.h"
#include "tc-schema.h"
#include "tcd-certs.h"
#include "tcd-config.h"

static gboolean
ipv4_parse (const gchar *s, guint32 *out)
{
  struct in_addr a;
  gint dots = 0;

  /* inet_pton takes only the dotted quad: 010.1.1.1 and 1.2.3 are refused */
  if (!s || !*s || strlen (s) > 15)
    return FALSE;
  for (const gchar *p = s; *p; p++)
    dots += *p == '.';
  if (dots != 3 || inet_pton (AF_INET, s, &a) != 1)
    return FALSE;
  *out = ntohl (a.s_addr);
  return TRUE;
}

static gint
mask_prefix (guint32 mask)
{
  gint n = 0;

  while (n < 32 && (mask & (0x80000000u >> n)))
    n++;
  /* contiguous: nothing set after the first zero */
  if (n < 32 && (mask << n) != 0)
    return -1;
  return n;
}

static gboolean
host_address_ok (guint32 a)
{
  guint8 first = a >> 24;
  return first != 0 && first != 127 && first < 224;
}

static const gchar *
str (JsonObject *o, const gchar *name)
{
  return o ? tc_json_get_string (o, name, "") : "";
}

static gboolean
check_ipv4 (JsonObject *v4, GError **error)
{
  guint32 addr, mask, gw = 0;
  gint prefix;
  const gchar *g = str (v4, "gateway");

  if (g_strcmp0 (str (v4, "mode"), "manual") != 0)
    return TRUE;
  if (!ipv4_parse (str (v4, "address"), &addr) || !host_address_ok (addr)) {
    tcd_change_refuse (error, "network.ipv4.address",
        "network.ipv4.address: \"%s\" is not the IPv4 address of a host", str (v4, "address"));
    return FALSE;
  }
  if (!ipv4_parse (str (v4, "netmask"), &mask) || (prefix = mask_prefix (mask)) < 8
      || prefix > 30) {
    tcd_change_refuse (error, "network.ipv4.netmask",
        "network.ipv4.netmask: \"%s\" is not a subnet mask (contiguous, /8 to /30)",
        str (v4, "netmask"));
    return FALSE;
  }
  if ((addr & ~mask) == 0 || (addr & ~mask) == ~mask) {
    tcd_change_refuse (error, "network.ipv4.address",
        "network.ipv4.address: %s is the subnet's network or broadcast address",
        str (v4, "address"));
    return FALSE;
  }
  if (!*g)
    return TRUE;
  if (!ipv4_parse (g, &gw) || !host_address_ok (gw)) {
    tcd_change_refuse (error, "network.ipv4.gateway",
        "network.ipv4.gateway: \"%s\" is not an IPv4 address of a host", g);
    return FALSE;
  }
  if ((gw & mask) != (addr & mask) || (gw & ~mask) == 0 || (gw & ~mask) == ~mask) {
    tcd_change_refuse (error, "network.ipv4.gateway",
        "network.ipv4.gateway: %s is not a host of the subnet %s/%d", g, str (v4, "address"),
        prefix);
    return FALSE;
  }
  if (gw == addr) {
    tcd_change_refuse (error, "network.ipv4.gateway",
        "network.ipv4.gateway: %s is the device's own address", g);
    return FALSE;
  }
  return TRUE;
}

static GInetAddress *
ipv6_parse (const gchar *s)
{
  GInetAddress *a = s && *s ? g_inet_address_new_from_string (s) : NULL;

  if (a && g_inet_address_get_family (a) != G_SOCKET_FAMILY_IPV6)
    g_clear_object (&a);
  return a;
}

static gboolean
check_ipv6 (JsonObject *v6, GError **error)
{
  g_autoptr (GInetAddress) a = NULL, g = NULL;
  const gchar *gs = str (v6, "gateway");

  if (g_strcmp0 (str (v6, "mode"), "manual") != 0)
    return TRUE;
  a = ipv6_parse (str (v6, "address"));
  if (!a || g_inet_address_get_is_any (a) || g_inet_address_get_is_loopback (a)
      || g_inet_address_get_is_multicast (a) || g_inet_address_get_is_link_local (a)) {
    tcd_change_refuse (error, "network.ipv6.address",
        "network.ipv6.address: \"%s\" is not a global or unique local IPv6 address",
        str (v6, "address"));
    return FALSE;
  }
  if (!*gs)
    return TRUE;
  g = ipv6_parse (gs);
  if (!g || g_inet_address_get_is_any (g) || g_inet_address_get_is_loopback (g)
      || g_inet_address_get_is_multicast (g) || g_inet_address_equal (a, g)) {
    tcd_change_refuse (error, "network.ipv6.gateway",
        "network.ipv6.gateway: \"%s\" is not a router's IPv6 address", gs);
    return FALSE;
  }
  if (!g_inet_address_get_is_link_local (g)) {
    /* a global gateway is on the link: in the prefix */
    g_autoptr (GInetAddressMask) m = g_inet_address_mask_new (a,
        (guint) tc_json_get_int (v6, "prefix_length", 64), NULL);
    if (!m || !g_inet_address_mask_matches (m, g)) {
      tcd_change_refuse (error, "network.ipv6.gateway",
          "network.ipv6.gateway: %s is neither link-local nor in %s/%d", gs,
          str (v6, "address"), (gint) tc_json_get_int (v6, "prefix_length", 64));
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
dns_ok (const gchar *s)
{
  g_autoptr (GInetAddress) a = NULL;
  guint32 v4;

  if (!*s)
    return TRUE;
  if (strchr (s, ':'))
    return (a = ipv6_parse (s)) && !g_inet_address_get_is_any (a)
        && !g_inet_address_get_is_multicast (a);
  return ipv4_parse (s, &v4) && (v4 >> 24) != 0 && (v4 >> 24) < 224;
}

static gboolean
check_dns (JsonObject *dns, GError **error)
{
  const gchar *names[] = { "preferred", "alternate" };
  g_autoptr (GInetAddress) p = NULL, a = NULL;

  for (guint i = 0; i < 2; i++)
    if (!dns_ok (str (dns, names[i]))) {
      tcd_change_refuse (error, i ? "network.dns.alternate" : "network.dns.preferred",
          "network.dns.%s: \"%s\" is not the IP address of a DNS server", names[i],
          str (dns, names[i]));
      return FALSE;
    }
  if (*str (dns, "alternate") && !*str (dns, "preferred")) {
    tcd_change_refuse (error, "network.dns.preferred",
        "network.dns.preferred: an alternate DNS server needs a preferred one");
    return FALSE;
  }
  p = *str (dns, "preferred") ? g_inet_address_new_from_string (str (dns, "preferred")) : NULL;
  a = *str (dns, "alternate") ? g_inet_address_new_from_string (str (dns, "alternate")) : NULL;
  if (p && a && g_inet_address_equal (p, a)) {
    tcd_change_refuse (error, "network.dns.alternate",
        "network.dns.alternate: the same server as the preferred one");
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_ddns (JsonObject *d, GError **error)
{
  if (!d || !tc_json_get_bool (d, "enabled", FALSE))
    return TRUE;
  if (!*str (d, "domain")) {
    tcd_change_refuse (error, "network.ddns.domain",
        "network.ddns.domain: the host name to update is needed");
    return FALSE;
  }
  if (!*str (d, "user")) {
    tcd_change_refuse (error, "network.ddns.user",
        "network.ddns.user: the account of the DDNS service is needed");
    return FALSE;
  }
  return TRUE;
}

/* a certificate the section names: in the store, of the kind asked */
static gboolean
check_stored (JsonObject *x, const gchar *member, const gchar *kind, const gchar *state_dir,
    GError **error)
{
  const gchar *name = str (x, member);
  g_autofree gchar *f = g_strconcat ("network.ieee8021x.", member, NULL);
  g_autofree gchar *have = NULL;

  if (!state_dir || !tcd_certs_store_get (state_dir, name, &have, NULL, NULL)) {
    tcd_change_refuse (error, f, "%s: the certificate store has no certificate named \"%s\" "
        "(POST /security/certificates)", f, name);
    return FALSE;
  }
  if (!g_str_equal (have, kind)) {
    tcd_change_refuse (error, f, "%s: \"%s\" is a %s certificate, a %s one is needed", f,
        name, have, kind);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_8021x (JsonObject *x, const gchar *state_dir, GError **error)
{
  const gchar *proto = str (x, "protocol");

  if (!x || !tc_json_get_bool (x, "enabled", FALSE))
    return TRUE;
  if (!*str (x, "user")) {
    tcd_change_refuse (error, "network.ieee8021x.user",
        "network.ieee8021x.user: the identity is needed");
    return FALSE;
  }
  if (g_str_equal (proto, "eap-tls")) {
    const gchar *names[] = { "ca_certificate", "client_certificate" };

    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      if (!*str (x, names[i])) {
        g_autofree gchar *f = g_strconcat ("network.ieee8021x.", names[i], NULL);
        tcd_change_refuse (error, f, "%s: EAP-TLS needs it (a name of the certificate store)",
            f);
        return FALSE;
      }
    /* the key matched its certificate when it went into the store */
    return check_stored (x, "ca_certificate", "ca", state_dir, error)
        && check_stored (x, "client_certificate", "client", state_dir, error);
  }
  if (!*str (x, "password")) {
    tcd_change_refuse (error, "network.ieee8021x.password",
        "network.ieee8021x.password: %s needs the password", proto);
    return FALSE;
  }
  if (g_str_equal (proto, "peap") && *str (x, "ca_certificate"))
    return check_stored (x, "ca_certificate", "ca", state_dir, error);
  return TRUE;
}

gboolean
tcd_net_check (JsonNode *doc, JsonNode *current, const TcdOrigin *origin, gpointer user_data,
    GError **error)
{
  JsonNode *n = tcd_config_node (doc, "network");
  JsonObject *o;

  tcd_net_set_origin (user_data, origin);
  if (!n || !JSON_NODE_HOLDS_OBJECT (n) || tc_json_equal (n, tcd_config_node (current, "network")))
    return TRUE;                /* not changed: what was kept stays */
  o = json_node_get_object (n);
  if (!check_ipv4 (tc_json_get_object (o, "ipv4"), error)
      || !check_ipv6 (tc_json_get_object (o, "ipv6"), error)
      || !check_dns (tc_json_get_object (o, "dns"), error)
      || !check_ddns (tc_json_get_object (o, "ddns"), error)
      || !check_8021x (tc_json_get_object (o, "ieee8021x"), tcd_net_get_state_dir (user_data),
          error))
    return FALSE;
  if (tc_json_get_bool (tc_json_get_object (o, "dynamic_domain_name"), "enabled", FALSE)
      && !*str (tc_json_get_object (o, "dynamic_domain_name"), "name")) {
    tcd_change_refuse (error, "network.dynamic_domain_name.name",
        "network.dynamic_domain_name.name: the name to register is needed");
    return FALSE;
  }
  return TRUE;
}
