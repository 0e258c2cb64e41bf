/* thermocamd: ONVIF device service (tds, ver10/device/wsdl): identity,
 * services and capabilities, time, network, scopes, discovery mode,
 * maintenance and the ONVIF users
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "onvif-private.h"
#include "tcd-clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>
#include <time.h>

#include "tc-json.h"
#include "tcd-alarmio.h"

#define ONVIF_MAJOR 2
#define ONVIF_MINOR 60

/* ---- services and capabilities ---- */

static void
device_capabilities (OnvifRequest *r)
{
  gboolean https = tcd_config_bool (r->ctx->config, "security.https.enabled");

  onvif_open (r, "tds:Capabilities");
  onvif_raw (r, "<tds:Network IPFilter=\"true\" ZeroConfiguration=\"false\" IPVersion6=\"true\" "
      "DynDNS=\"false\" NTP=\"1\" HostnameFromDHCP=\"false\"/>");
  onvif_raw (r, "<tds:Security TLS1.0=\"false\" TLS1.1=\"false\" TLS1.2=\"%s\" "
      "OnboardKeyGeneration=\"false\" AccessPolicyConfig=\"false\" DefaultAccessPolicy=\"true\" "
      "Dot1X=\"false\" RemoteUserHandling=\"false\" X.509Token=\"false\" SAMLToken=\"false\" "
      "KerberosToken=\"false\" UsernameToken=\"%s\" HttpDigest=\"true\" RELToken=\"false\" "
      "MaxUsers=\"32\" MaxUserNameLength=\"32\" MaxPasswordLength=\"64\"/>",
      https ? "true" : "false",
      g_strcmp0 (tcd_config_string (r->ctx->config, "onvif.authentication"),
          "digest/ws-username-token") == 0 ? "true" : "false");
  onvif_raw (r, "<tds:System DiscoveryResolve=\"false\" DiscoveryBye=\"true\" "
      "RemoteDiscovery=\"false\" SystemBackup=\"false\" SystemLogging=\"false\" "
      "FirmwareUpgrade=\"false\" HttpFirmwareUpgrade=\"false\" HttpSystemBackup=\"false\" "
      "HttpSystemLogging=\"false\" HttpSupportInformation=\"false\" StorageConfiguration=\"false\"/>");
  onvif_close (r, "tds:Capabilities");
}

static gboolean
get_service_capabilities (OnvifRequest *r)
{
  onvif_open (r, "tds:GetServiceCapabilitiesResponse");
  device_capabilities (r);
  onvif_close (r, "tds:GetServiceCapabilitiesResponse");
  return TRUE;
}

static gboolean
get_services (OnvifRequest *r)
{
  gboolean with_caps = FALSE;

  if (!onvif_child_bool (r, r->op, "IncludeCapability", &with_caps, NULL))
    return FALSE;
  onvif_open (r, "tds:GetServicesResponse");
  for (const OnvifService *const *s = onvif_services (); *s; s++) {
    g_autofree gchar *xaddr = onvif_xaddr (r, *s);
    onvif_open (r, "tds:Service");
    onvif_elem (r, "tds:Namespace", (*s)->ns);
    onvif_elem (r, "tds:XAddr", xaddr);
    if (with_caps && (*s)->capabilities) {
      onvif_open (r, "tds:Capabilities");
      (*s)->capabilities (r);
      onvif_close (r, "tds:Capabilities");
    }
    onvif_raw (r, "<tds:Version><tt:Major>%u</tt:Major><tt:Minor>%u</tt:Minor></tds:Version>",
        (*s)->major, (*s)->minor);
    onvif_close (r, "tds:Service");
  }
  onvif_close (r, "tds:GetServicesResponse");
  return TRUE;
}

static void
xaddr_elem (OnvifRequest *r, const OnvifService *s)
{
  g_autofree gchar *x = onvif_xaddr (r, s);
  onvif_elem (r, "tt:XAddr", x);
}

static gboolean
get_capabilities (OnvifRequest *r)
{
  g_autofree gchar *category = onvif_child_text (r->op, "Category");
  const gchar *c = category ? category : "All";
  gboolean all = g_str_equal (c, "All");
  const OnvifService *events = onvif_service_by_ns (ONVIF_NS_TEV);
  const OnvifService *imaging = onvif_service_by_ns (ONVIF_NS_TIMG);
  const OnvifService *analytics = onvif_service_by_ns (ONVIF_NS_TAN);
  gboolean https = tcd_config_bool (r->ctx->config, "security.https.enabled");

  if (!all && !g_str_equal (c, "Device") && !g_str_equal (c, "Media")
      && !(g_str_equal (c, "Events") && events) && !(g_str_equal (c, "Imaging") && imaging)
      && !(g_str_equal (c, "Analytics") && analytics))
    return onvif_fault (r, TRUE, "ter:ActionNotSupported", "ter:NoSuchService",
        "the device has no %s service", c);
  onvif_open (r, "tds:GetCapabilitiesResponse");
  onvif_open (r, "tds:Capabilities");
  if (analytics && (all || g_str_equal (c, "Analytics"))) {
    onvif_open (r, "tt:Analytics");
    xaddr_elem (r, analytics);
    onvif_raw (r, "<tt:RuleSupport>true</tt:RuleSupport>"
        "<tt:AnalyticsModuleSupport>true</tt:AnalyticsModuleSupport>");
    onvif_close (r, "tt:Analytics");
  }
  if (all || g_str_equal (c, "Device")) {
    onvif_open (r, "tt:Device");
    xaddr_elem (r, &onvif_device_service);
    onvif_raw (r, "<tt:Network><tt:IPFilter>true</tt:IPFilter>"
        "<tt:ZeroConfiguration>false</tt:ZeroConfiguration><tt:IPVersion6>true</tt:IPVersion6>"
        "<tt:DynDNS>false</tt:DynDNS></tt:Network>");
    onvif_raw (r, "<tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve>"
        "<tt:DiscoveryBye>true</tt:DiscoveryBye><tt:RemoteDiscovery>false</tt:RemoteDiscovery>"
        "<tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging>"
        "<tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>"
        "<tt:SupportedVersions><tt:Major>%d</tt:Major><tt:Minor>%d</tt:Minor>"
        "</tt:SupportedVersions></tt:System>", ONVIF_MAJOR, ONVIF_MINOR);
    onvif_raw (r, "<tt:IO><tt:InputConnectors>%d</tt:InputConnectors>"
        "<tt:RelayOutputs>%d</tt:RelayOutputs></tt:IO>", TCD_IO_CHANNELS, TCD_IO_CHANNELS);
    onvif_raw (r, "<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>%s</tt:TLS1.2>"
        "<tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration>"
        "<tt:AccessPolicyConfig>false</tt:AccessPolicyConfig><tt:X.509Token>false</tt:X.509Token>"
        "<tt:SAMLToken>false</tt:SAMLToken><tt:KerberosToken>false</tt:KerberosToken>"
        "<tt:RELToken>false</tt:RELToken></tt:Security>", https ? "true" : "false");
    onvif_close (r, "tt:Device");
  }
  if (events && (all || g_str_equal (c, "Events"))) {
    onvif_open (r, "tt:Events");
    xaddr_elem (r, events);
    onvif_raw (r, "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
        "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
        "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
        "</tt:WSPausableSubscriptionManagerInterfaceSupport>");
    onvif_close (r, "tt:Events");
  }
  if (imaging && (all || g_str_equal (c, "Imaging"))) {
    onvif_open (r, "tt:Imaging");
    xaddr_elem (r, imaging);
    onvif_close (r, "tt:Imaging");
  }
  if (all || g_str_equal (c, "Media")) {
    onvif_open (r, "tt:Media");
    xaddr_elem (r, &onvif_media_service);
    onvif_raw (r, "<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>"
        "<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
        "</tt:StreamingCapabilities>");
    onvif_raw (r, "<tt:Extension><tt:ProfileCapabilities><tt:MaximumNumberOfProfiles>2"
        "</tt:MaximumNumberOfProfiles></tt:ProfileCapabilities></tt:Extension>");
    onvif_close (r, "tt:Media");
  }
  onvif_close (r, "tds:Capabilities");
  onvif_close (r, "tds:GetCapabilitiesResponse");
  return TRUE;
}

/* ---- identity and time ---- */

static gboolean
get_device_information (OnvifRequest *r)
{
  TcdContext *ctx = r->ctx;

  onvif_open (r, "tds:GetDeviceInformationResponse");
  onvif_elem (r, "tds:Manufacturer", "thermocam");
  onvif_elem (r, "tds:Model", g_str_has_prefix (ctx->source, "sim")
      ? "TC-640 (simulated sensor)" : "TC-640");
  onvif_elem (r, "tds:FirmwareVersion", PACKAGE_VERSION);
  onvif_elem (r, "tds:SerialNumber", ctx->serial);
  onvif_elem (r, "tds:HardwareId", "TC-640");
  onvif_close (r, "tds:GetDeviceInformationResponse");
  return TRUE;
}

static void
date_time (OnvifRequest *r, const gchar *tag, GDateTime *t)
{
  onvif_open (r, tag);
  onvif_raw (r, "<tt:Time><tt:Hour>%d</tt:Hour><tt:Minute>%d</tt:Minute>"
      "<tt:Second>%d</tt:Second></tt:Time><tt:Date><tt:Year>%d</tt:Year>"
      "<tt:Month>%d</tt:Month><tt:Day>%d</tt:Day></tt:Date>",
      g_date_time_get_hour (t), g_date_time_get_minute (t), g_date_time_get_second (t),
      g_date_time_get_year (t), g_date_time_get_month (t), g_date_time_get_day_of_month (t));
  onvif_close (r, tag);
}

static gboolean
get_system_date_and_time (OnvifRequest *r)
{
  /* the device clock (the host's plus the daemon's offset) in its zone
   * with its DST rule, as every other time the device shows */
  g_autoptr (GDateTime) utc = tcd_clock_now_utc_dt ();
  g_autoptr (GDateTime) local = tcd_clock_now_local ();
  gint64 off = g_date_time_get_utc_offset (local) / G_USEC_PER_SEC;
  g_autofree gchar *posix = NULL;

  /* POSIX counts west positive: +08:00 is "UTC-8" */
  if (off == 0)
    posix = g_strdup ("UTC0");
  else if (ABS (off) % 3600 == 0)
    posix = g_strdup_printf ("UTC%c%" G_GINT64_FORMAT, off > 0 ? '-' : '+', ABS (off) / 3600);
  else
    posix = g_strdup_printf ("UTC%c%" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT, off > 0 ? '-' : '+',
        ABS (off) / 3600, ABS (off) % 3600 / 60);
  onvif_open (r, "tds:GetSystemDateAndTimeResponse");
  onvif_open (r, "tds:SystemDateAndTime");
  onvif_elem (r, "tt:DateTimeType", "Manual");
  onvif_elem (r, "tt:DaylightSavings", g_date_time_is_daylight_savings (local)
      ? "true" : "false");
  onvif_open (r, "tt:TimeZone");
  onvif_elem (r, "tt:TZ", posix);
  onvif_close (r, "tt:TimeZone");
  date_time (r, "tt:UTCDateTime", utc);
  date_time (r, "tt:LocalDateTime", local);
  onvif_close (r, "tds:SystemDateAndTime");
  onvif_close (r, "tds:GetSystemDateAndTimeResponse");
  return TRUE;
}

/* ---- names, addresses ---- */

static gboolean
get_hostname (OnvifRequest *r)
{
  onvif_open (r, "tds:GetHostnameResponse");
  onvif_open (r, "tds:HostnameInformation");
  onvif_elem (r, "tt:FromDHCP", "false");
  onvif_elem (r, "tt:Name", g_get_host_name ());
  onvif_close (r, "tds:HostnameInformation");
  onvif_close (r, "tds:GetHostnameResponse");
  return TRUE;
}

/* the device's endpoint reference, as WS-Discovery tells it (services/wsd:
 * a name-based UUID of the serial number) */
static gboolean
get_endpoint_reference (OnvifRequest *r)
{
  g_autofree gchar *h = g_compute_checksum_for_string (G_CHECKSUM_SHA1,
      r->ctx->serial ? r->ctx->serial : "", -1);

  onvif_open (r, "tds:GetEndpointReferenceResponse");
  onvif_elemf (r, "tds:GUID", "urn:uuid:%.8s-%.4s-5%.3s-%x%.3s-%.12s", h, h + 8, h + 13,
      0x8 | (g_ascii_xdigit_value (h[16]) & 0x3), h + 17, h + 20);
  onvif_close (r, "tds:GetEndpointReferenceResponse");
  return TRUE;
}

static gboolean
get_wsdl_url (OnvifRequest *r)
{
  onvif_open (r, "tds:GetWsdlUrlResponse");
  onvif_elem (r, "tds:WsdlUrl", "http://www.onvif.org/Documents/Specifications.aspx");
  onvif_close (r, "tds:GetWsdlUrlResponse");
  return TRUE;
}

static gchar *
read_sys (const gchar *ifname, const gchar *what)
{
  g_autofree gchar *path = g_strdup_printf ("/sys/class/net/%s/%s", ifname, what);
  gchar *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return g_strstrip (text);
}

static gboolean
get_network_interfaces (OnvifRequest *r)
{
  struct ifaddrs *list = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  gboolean any_other = FALSE;

  if (getifaddrs (&list) != 0)
    return onvif_fault (r, TRUE, "ter:Action", NULL, "the interfaces cannot be read");
  for (struct ifaddrs *i = list; i; i = i->ifa_next)
    if (!(i->ifa_flags & IFF_LOOPBACK))
      any_other = TRUE;
  for (struct ifaddrs *i = list; i; i = i->ifa_next) {
    gboolean seen = FALSE;
    /* the loopback only when it is all there is (a test's namespace) */
    if (any_other && (i->ifa_flags & IFF_LOOPBACK))
      continue;
    for (guint k = 0; k < names->len; k++)
      seen |= g_str_equal (names->pdata[k], i->ifa_name);
    if (!seen && strlen (i->ifa_name) < IFNAMSIZ && !strchr (i->ifa_name, '/'))
      g_ptr_array_add (names, g_strdup (i->ifa_name));
  }
  onvif_open (r, "tds:GetNetworkInterfacesResponse");
  for (guint k = 0; k < names->len; k++) {
    const gchar *name = names->pdata[k];
    g_autofree gchar *mac = read_sys (name, "address");
    g_autofree gchar *mtu = read_sys (name, "mtu");
    gboolean up = FALSE;
    g_autoptr (GString) v4 = g_string_new (NULL);

    for (struct ifaddrs *i = list; i; i = i->ifa_next) {
      if (!g_str_equal (i->ifa_name, name))
        continue;
      up |= (i->ifa_flags & IFF_UP) != 0;
      if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && i->ifa_netmask) {
        gchar a[INET_ADDRSTRLEN];
        guint32 mask = ntohl (((struct sockaddr_in *) i->ifa_netmask)->sin_addr.s_addr);
        inet_ntop (AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, a, sizeof a);
        g_string_append_printf (v4, "<tt:Manual><tt:Address>%s</tt:Address>"
            "<tt:PrefixLength>%d</tt:PrefixLength></tt:Manual>", a,
            __builtin_popcount (mask));
      }
    }
    onvif_open_attrs (r, "tds:NetworkInterfaces", "token=\"%s\"", name);
    onvif_elem (r, "tt:Enabled", up ? "true" : "false");
    onvif_open (r, "tt:Info");
    onvif_elem (r, "tt:Name", name);
    onvif_elem (r, "tt:HwAddress", mac ? mac : "00:00:00:00:00:00");
    onvif_elemf (r, "tt:MTU", "%d", mtu ? atoi (mtu) : 1500);
    onvif_close (r, "tt:Info");
    if (v4->len) {
      onvif_raw (r, "<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config>%s"
          "<tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4>", v4->str);
    }
    onvif_close (r, "tds:NetworkInterfaces");
  }
  onvif_close (r, "tds:GetNetworkInterfacesResponse");
  freeifaddrs (list);
  return TRUE;
}

static gboolean
get_dns (OnvifRequest *r)
{
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;

  onvif_open (r, "tds:GetDNSResponse");
  onvif_open (r, "tds:DNSInformation");
  onvif_elem (r, "tt:FromDHCP", "false");
  if (g_file_get_contents ("/etc/resolv.conf", &text, NULL, NULL)
      && (lines = g_strsplit (text, "\n", 64))) {
    for (guint i = 0; lines[i]; i++) {
      g_auto (GStrv) w = g_strsplit_set (g_strstrip (lines[i]), " \t", 8);
      if (g_strv_length (w) >= 2 && g_str_equal (w[0], "search"))
        for (guint k = 1; w[k]; k++)
          if (*w[k])
            onvif_elem (r, "tt:SearchDomain", w[k]);
    }
    for (guint i = 0; lines[i]; i++) {
      g_auto (GStrv) w = g_strsplit_set (lines[i], " \t", 4);
      g_autoptr (GInetAddress) a = NULL;
      if (g_strv_length (w) < 2 || !g_str_equal (w[0], "nameserver")
          || !(a = g_inet_address_new_from_string (w[1])))
        continue;
      if (g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV4)
        onvif_raw (r, "<tt:DNSManual><tt:Type>IPv4</tt:Type><tt:IPv4Address>%s"
            "</tt:IPv4Address></tt:DNSManual>", w[1]);
      else
        onvif_raw (r, "<tt:DNSManual><tt:Type>IPv6</tt:Type><tt:IPv6Address>%s"
            "</tt:IPv6Address></tt:DNSManual>", w[1]);
    }
  }
  onvif_close (r, "tds:DNSInformation");
  onvif_close (r, "tds:GetDNSResponse");
  return TRUE;
}

/* the NTP servers of time.ntp.servers where the configuration has them */
static gboolean
get_ntp (OnvifRequest *r)
{
  JsonNode *servers = tcd_config_node (tcd_config_get (r->ctx->config), "time.ntp.servers");

  onvif_open (r, "tds:GetNTPResponse");
  onvif_open (r, "tds:NTPInformation");
  onvif_elem (r, "tt:FromDHCP", "false");
  for (guint i = 0; servers && JSON_NODE_HOLDS_ARRAY (servers)
      && i < json_array_get_length (json_node_get_array (servers)); i++) {
    const gchar *s = tc_json_array_get_string (json_node_get_array (servers), i);
    g_autoptr (GInetAddress) a = s ? g_inet_address_new_from_string (s) : NULL;
    if (!s)
      continue;
    onvif_open (r, "tt:NTPManual");
    if (a && g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV4) {
      onvif_elem (r, "tt:Type", "IPv4");
      onvif_elem (r, "tt:IPv4Address", s);
    } else if (a) {
      onvif_elem (r, "tt:Type", "IPv6");
      onvif_elem (r, "tt:IPv6Address", s);
    } else {
      onvif_elem (r, "tt:Type", "DNS");
      onvif_elem (r, "tt:DNSname", s);
    }
    onvif_close (r, "tt:NTPManual");
  }
  onvif_close (r, "tds:NTPInformation");
  onvif_close (r, "tds:GetNTPResponse");
  return TRUE;
}

/* ---- time ---- */

/* a POSIX TZ of a fixed offset ("UTC0", "CST-8", "IST-5:30") -> "+08:00"
 * (POSIX counts west positive); NULL for one with daylight-saving rules */
static gchar *
posix_tz_offset (const gchar *tz)
{
  const gchar *p = tz;
  gint sign = 1, h = 0, m = 0;

  if (*p == '<') {
    p = strchr (p, '>');
    if (!p)
      return NULL;
    p++;
  } else {
    while (g_ascii_isalpha (*p))
      p++;
  }
  if (p - tz < 3)
    return NULL;
  if (*p == '+' || *p == '-')
    sign = *p++ == '-' ? -1 : 1;
  if (!g_ascii_isdigit (*p))
    return NULL;
  while (g_ascii_isdigit (*p))
    h = h * 10 + (*p++ - '0');
  if (*p == ':') {
    p++;
    if (!g_ascii_isdigit (p[0]) || !g_ascii_isdigit (p[1]))
      return NULL;
    m = (p[0] - '0') * 10 + (p[1] - '0');
    p += 2;
  }
  if (*p || h > 14 || m > 59)
    return NULL;
  if (h == 0 && m == 0)
    return g_strdup ("UTC");
  return g_strdup_printf ("%c%02d:%02d", sign > 0 ? '-' : '+', h, m);
}

static gboolean
set_system_date_and_time (OnvifRequest *r)
{
  g_autofree gchar *type = onvif_child_text (r->op, "DateTimeType");
  g_autofree gchar *tz = onvif_child_text (onvif_child (r->op, "TimeZone"), "TZ");
  xmlNodePtr utc = onvif_child (r->op, "UTCDateTime");
  g_autofree gchar *zone = NULL;
  gint64 v[6] = { 0 };
  static const gchar *const path[][2] = {
    { "Date", "Year" }, { "Date", "Month" }, { "Date", "Day" },
    { "Time", "Hour" }, { "Time", "Minute" }, { "Time", "Second" },
  };
  static const gint64 lim[][2] = { {1970, 2099}, {1, 12}, {1, 31}, {0, 23}, {0, 59}, {0, 60} };

  if (g_strcmp0 (type, "Manual") != 0)
    return onvif_invalid_arg (r, "ter:NtpServerUndefined",
        "only DateTimeType Manual: the device has no NTP client configured");
  if (tz && *tz && !(zone = posix_tz_offset (tz)))
    return onvif_invalid_arg (r, "ter:InvalidTimeZone",
        "TZ %s: only a fixed offset in POSIX form (\"CST-8\", \"UTC0\")", tz);
  if (utc) {
    for (guint i = 0; i < 6; i++) {
      gboolean found = FALSE;
      if (!onvif_child_int (r, onvif_child (utc, path[i][0]), path[i][1], lim[i][0], lim[i][1],
              &v[i], &found)) {
        if (!r->subcode2)
          r->subcode2 = g_strdup ("ter:InvalidDateTime");
        return FALSE;
      }
      if (!found)
        return onvif_invalid_arg (r, "ter:InvalidDateTime", "UTCDateTime needs %s/%s",
            path[i][0], path[i][1]);
    }
  }
  {
    g_autoptr (GDateTime) t = utc ? g_date_time_new_utc (v[0], v[1], v[2], v[3], v[4],
        MIN (v[5], 59)) : NULL;
    if (utc && !t)
      return onvif_invalid_arg (r, "ter:InvalidDateTime", "no such date");
    if (t && tcd_config_bool (r->ctx->config, "time.ntp.enabled"))
      return onvif_fault (r, TRUE, "ter:InvalidArgVal", "ter:NtpServerUndefined",
          "the device takes its time from NTP (time.ntp.enabled): switch it off to set the time");
    if (t) {
      gint64 us = g_date_time_to_unix (t) * G_USEC_PER_SEC;
      g_autofree gchar *when = onvif_datetime (us);
      /* the device clock (an offset the daemon keeps, as PUT /time sets
       * it; the host's clock is never touched); set only when it differs
       * (a client that sets it to what it is changes nothing) */
      if (ABS (tcd_clock_now_utc () - us) > G_USEC_PER_SEC) {
        tcd_clock_set_now (us);
        tcd_audit (r->ctx->security, "system", r->user, r->address,
            "set the clock to %s (ONVIF)", when);
      }
    }
    if (zone) {
      JsonNode *patch = onvif_object_new ();
      json_object_set_string_member (json_node_get_object (patch), "timezone", zone);
      if (!onvif_change (r, "time", patch))
        return FALSE;
    }
  }
  onvif_empty (r, "tds:SetSystemDateAndTimeResponse");
  return TRUE;
}

/* ---- scopes and discovery ---- */

#define SCOPE "onvif://www.onvif.org/"

static gchar *
scope_of (const gchar *kind, const gchar *value)
{
  g_autofree gchar *e = g_uri_escape_string (value, NULL, FALSE);
  return g_strconcat (SCOPE, kind, "/", e, NULL);
}

static void
scope_item (OnvifRequest *r, gboolean fixed, const gchar *item)
{
  onvif_open (r, "tds:Scopes");
  onvif_elem (r, "tt:ScopeDef", fixed ? "Fixed" : "Configurable");
  onvif_elem (r, "tt:ScopeItem", item);
  onvif_close (r, "tds:Scopes");
}

static gboolean
get_scopes (OnvifRequest *r)
{
  TcdConfig *c = r->ctx->config;
  JsonNode *own = tcd_config_node (tcd_config_get (c), "onvif.scopes");
  const gchar *location = tcd_config_string (c, "onvif.location");
  g_autofree gchar *name = scope_of ("name", tcd_config_string (c, "device.name"));
  g_autofree gchar *loc = location && *location ? scope_of ("location", location) : NULL;

  onvif_open (r, "tds:GetScopesResponse");
  scope_item (r, TRUE, SCOPE "type/NetworkVideoTransmitter");
  scope_item (r, TRUE, SCOPE "type/video_encoder");
  scope_item (r, TRUE, SCOPE "type/thermal");
  scope_item (r, TRUE, SCOPE "Profile/Streaming");
  scope_item (r, TRUE, SCOPE "hardware/TC-640");
  scope_item (r, FALSE, name);
  if (loc)
    scope_item (r, FALSE, loc);
  for (guint i = 0; own && JSON_NODE_HOLDS_ARRAY (own)
      && i < json_array_get_length (json_node_get_array (own)); i++)
    scope_item (r, FALSE, tc_json_array_get_string (json_node_get_array (own), i));
  onvif_close (r, "tds:GetScopesResponse");
  return TRUE;
}

/* the configurable scopes as they are now, or as @items (ScopeItem or
 * Scopes elements) add to or replace them: name and location go to
 * device.name and onvif.location, the others to onvif.scopes */
static gboolean
apply_scopes (OnvifRequest *r, GPtrArray *items, gboolean replace)
{
  JsonNode *cur = tcd_config_node (tcd_config_get (r->ctx->config), "onvif.scopes");
  g_autoptr (JsonArray) own = json_array_new ();
  g_autofree gchar *name = NULL, *location = NULL;
  JsonNode *patch;
  gboolean location_set = FALSE;

  if (!replace)
    for (guint i = 0; cur && JSON_NODE_HOLDS_ARRAY (cur)
        && i < json_array_get_length (json_node_get_array (cur)); i++)
      json_array_add_string_element (own,
          tc_json_array_get_string (json_node_get_array (cur), i));
  for (guint i = 0; i < items->len; i++) {
    const gchar *s = items->pdata[i];
    if (g_str_has_prefix (s, SCOPE "name/")) {
      g_free (name);
      name = g_uri_unescape_string (s + strlen (SCOPE "name/"), NULL);
    } else if (g_str_has_prefix (s, SCOPE "location/")) {
      g_free (location);
      location = g_uri_unescape_string (s + strlen (SCOPE "location/"), NULL);
      location_set = TRUE;
    } else if (g_str_has_prefix (s, SCOPE "type/") || g_str_has_prefix (s, SCOPE "Profile/")
        || g_str_has_prefix (s, SCOPE "hardware/")) {
      return onvif_fault (r, FALSE, "ter:OperationProhibited", "ter:ScopeOverwrite",
          "%s is a fixed scope", s);
    } else {
      json_array_add_string_element (own, s);
    }
    if ((name && !*name) || (location_set && !location))
      return onvif_invalid_arg (r, NULL, "%s: not a scope this device can keep", s);
  }
  if (name) {
    patch = onvif_object_new ();
    json_object_set_string_member (json_node_get_object (patch), "name", name);
    if (!onvif_change (r, "device", patch))
      return FALSE;
  }
  patch = onvif_object_new ();
  if (location_set || replace)
    json_object_set_string_member (json_node_get_object (patch), "location",
        location ? location : "");
  json_object_set_array_member (json_node_get_object (patch), "scopes",
      json_array_ref (own));
  return onvif_change (r, "onvif", patch);
}

static GPtrArray *
scope_items (OnvifRequest *r, const gchar *element)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);

  for (xmlNodePtr n = onvif_child (r->op, element); n; n = onvif_next (n, element))
    g_ptr_array_add (a, onvif_text (n));
  return a;
}

static gboolean
set_scopes (OnvifRequest *r)
{
  g_autoptr (GPtrArray) items = scope_items (r, "Scopes");

  if (!apply_scopes (r, items, TRUE))
    return FALSE;
  onvif_empty (r, "tds:SetScopesResponse");
  return TRUE;
}

static gboolean
add_scopes (OnvifRequest *r)
{
  g_autoptr (GPtrArray) items = scope_items (r, "ScopeItem");

  if (!apply_scopes (r, items, FALSE))
    return FALSE;
  onvif_empty (r, "tds:AddScopesResponse");
  return TRUE;
}

static gboolean
remove_scopes (OnvifRequest *r)
{
  g_autoptr (GPtrArray) items = scope_items (r, "ScopeItem");
  JsonNode *cur = tcd_config_node (tcd_config_get (r->ctx->config), "onvif.scopes");
  JsonArray *own = json_array_new ();
  JsonNode *patch = onvif_object_new ();

  json_object_set_array_member (json_node_get_object (patch), "scopes", own);
  for (guint i = 0; i < items->len; i++) {
    gboolean found = FALSE;
    const gchar *location = tcd_config_string (r->ctx->config, "onvif.location");
    g_autofree gchar *loc = location && *location ? scope_of ("location", location) : NULL;
    if (loc && g_str_equal (loc, items->pdata[i])) {
      json_object_set_string_member (json_node_get_object (patch), "location", "");
      continue;
    }
    for (guint k = 0; cur && JSON_NODE_HOLDS_ARRAY (cur)
        && k < json_array_get_length (json_node_get_array (cur)); k++)
      found |= g_strcmp0 (tc_json_array_get_string (json_node_get_array (cur), k),
          items->pdata[i]) == 0;
    if (!found) {
      json_node_unref (patch);
      return onvif_invalid_arg (r, "ter:NoScope", "%s is not a scope one can remove",
          (const gchar *) items->pdata[i]);
    }
  }
  for (guint k = 0; cur && JSON_NODE_HOLDS_ARRAY (cur)
      && k < json_array_get_length (json_node_get_array (cur)); k++) {
    const gchar *s = tc_json_array_get_string (json_node_get_array (cur), k);
    gboolean drop = FALSE;
    for (guint i = 0; i < items->len; i++)
      drop |= g_strcmp0 (s, items->pdata[i]) == 0;
    if (!drop)
      json_array_add_string_element (own, s);
  }
  if (!onvif_change (r, "onvif", patch))
    return FALSE;
  onvif_open (r, "tds:RemoveScopesResponse");
  for (guint i = 0; i < items->len; i++)
    onvif_elem (r, "tds:ScopeItem", items->pdata[i]);
  onvif_close (r, "tds:RemoveScopesResponse");
  return TRUE;
}

static gboolean
get_discovery_mode (OnvifRequest *r)
{
  onvif_open (r, "tds:GetDiscoveryModeResponse");
  onvif_elem (r, "tds:DiscoveryMode", g_strcmp0 (tcd_config_string (r->ctx->config,
              "onvif.discovery"), "non-discoverable") == 0 ? "NonDiscoverable" : "Discoverable");
  onvif_close (r, "tds:GetDiscoveryModeResponse");
  return TRUE;
}

static gboolean
set_discovery_mode (OnvifRequest *r)
{
  g_autofree gchar *mode = onvif_child_text (r->op, "DiscoveryMode");
  JsonNode *patch;

  if (g_strcmp0 (mode, "Discoverable") != 0 && g_strcmp0 (mode, "NonDiscoverable") != 0)
    return onvif_invalid_arg (r, NULL, "DiscoveryMode: Discoverable or NonDiscoverable");
  patch = onvif_object_new ();
  json_object_set_string_member (json_node_get_object (patch), "discovery",
      g_str_equal (mode, "Discoverable") ? "discoverable" : "non-discoverable");
  if (!onvif_change (r, "onvif", patch))
    return FALSE;
  onvif_empty (r, "tds:SetDiscoveryModeResponse");
  return TRUE;
}

/* ---- maintenance ---- */

static gboolean
system_reboot (OnvifRequest *r)
{
  TcdOrigin o = { "reboot", r->user, r->address, "onvif" };

  tcd_commands_reboot (r->ctx->commands, &o);
  onvif_open (r, "tds:SystemRebootResponse");
  onvif_elem (r, "tds:Message", "Rebooting: the services restart in a few seconds");
  onvif_close (r, "tds:SystemRebootResponse");
  return TRUE;
}

/* Soft: the defaults, the ports, security and accounts kept (manual 10.5,
 * restore); Hard: the factory state */
static gboolean
set_system_factory_default (OnvifRequest *r)
{
  g_autofree gchar *kind = onvif_child_text (r->op, "FactoryDefault");
  gboolean hard = g_strcmp0 (kind, "Hard") == 0;
  TcdOrigin o = { hard ? "default" : "restore", r->user, r->address, "onvif" };
  g_autoptr (GError) err = NULL;

  if (!hard && g_strcmp0 (kind, "Soft") != 0)
    return onvif_invalid_arg (r, NULL, "FactoryDefault: Hard or Soft");
  if (!tcd_commands_restore (r->ctx->commands, hard, &o, &err))
    return onvif_fault (r, TRUE, "ter:Action", NULL, "%s", err->message);
  onvif_empty (r, "tds:SetSystemFactoryDefaultResponse");
  return TRUE;
}

static const OnvifOperation ops[] = {
  ONVIF_OP ("GetSystemDateAndTime", ONVIF_PRE_AUTH, get_system_date_and_time),
  ONVIF_OP ("GetCapabilities", ONVIF_PRE_AUTH, get_capabilities),
  ONVIF_OP ("GetServices", ONVIF_PRE_AUTH, get_services),
  ONVIF_OP ("GetServiceCapabilities", ONVIF_PRE_AUTH, get_service_capabilities),
  ONVIF_OP ("GetHostname", ONVIF_PRE_AUTH, get_hostname),
  ONVIF_OP ("GetWsdlUrl", ONVIF_PRE_AUTH, get_wsdl_url),
  ONVIF_OP ("GetEndpointReference", ONVIF_PRE_AUTH, get_endpoint_reference),
  ONVIF_OP ("GetDeviceInformation", ONVIF_READ_SYSTEM, get_device_information),
  ONVIF_OP ("SetSystemDateAndTime", ONVIF_WRITE_SYSTEM, set_system_date_and_time),
  ONVIF_OP ("GetNetworkInterfaces", ONVIF_READ_SYSTEM, get_network_interfaces),
  ONVIF_OP ("GetDNS", ONVIF_READ_SYSTEM, get_dns),
  ONVIF_OP ("GetNTP", ONVIF_READ_SYSTEM, get_ntp),
  ONVIF_OP ("GetScopes", ONVIF_READ_SYSTEM, get_scopes),
  ONVIF_OP ("SetScopes", ONVIF_WRITE_SYSTEM, set_scopes),
  ONVIF_OP ("AddScopes", ONVIF_WRITE_SYSTEM, add_scopes),
  ONVIF_OP ("RemoveScopes", ONVIF_WRITE_SYSTEM, remove_scopes),
  ONVIF_OP ("GetDiscoveryMode", ONVIF_READ_SYSTEM, get_discovery_mode),
  ONVIF_OP ("SetDiscoveryMode", ONVIF_WRITE_SYSTEM, set_discovery_mode),
  ONVIF_OP ("SystemReboot", ONVIF_UNRECOVERABLE, system_reboot),
  ONVIF_OP ("SetSystemFactoryDefault", ONVIF_UNRECOVERABLE, set_system_factory_default),
  ONVIF_OP ("GetUsers", ONVIF_READ_SYSTEM_SECRET, onvif_get_users),
  ONVIF_OP ("CreateUsers", ONVIF_WRITE_SYSTEM, onvif_create_users),
  ONVIF_OP ("DeleteUsers", ONVIF_WRITE_SYSTEM, onvif_delete_users),
  ONVIF_OP ("SetUser", ONVIF_WRITE_SYSTEM, onvif_set_user),
  ONVIF_OPS_END
};

const OnvifService onvif_device_service = {
  .path = "/onvif/device_service",
  .ns = ONVIF_NS_TDS,
  .prefix = "tds",
  .major = ONVIF_MAJOR,
  .minor = ONVIF_MINOR,
  .ops = ops,
  .capabilities = device_capabilities,
};
