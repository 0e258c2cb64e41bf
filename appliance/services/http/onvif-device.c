/* thermocamd: ONVIF device service (tds, ver10/device/wsdl): identity,
 * services and capabilities, time, network, scopes, discovery mode,
 * maintenance and the ONVIF users
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "onvif-private.h"

#include <string.h>

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
  g_autoptr (GDateTime) utc = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) local = g_date_time_to_local (utc);
  g_autofree gchar *tz = g_strdup (g_date_time_get_timezone_abbreviation (local));

  onvif_open (r, "tds:GetSystemDateAndTimeResponse");
  onvif_open (r, "tds:SystemDateAndTime");
  onvif_elem (r, "tt:DateTimeType", "Manual");
  onvif_elem (r, "tt:DaylightSavings", g_date_time_is_daylight_savings (local)
      ? "true" : "false");
  onvif_open (r, "tt:TimeZone");
  onvif_elem (r, "tt:TZ", tz && *tz ? tz : "UTC");
  onvif_close (r, "tt:TimeZone");
  date_time (r, "tt:UTCDateTime", utc);
  date_time (r, "tt:LocalDateTime", local);
  onvif_close (r, "tds:SystemDateAndTime");
  onvif_close (r, "tds:GetSystemDateAndTimeResponse");
  return TRUE;
}

static const OnvifOperation ops[] = {
  ONVIF_OP ("GetSystemDateAndTime", ONVIF_PRE_AUTH, get_system_date_and_time),
  ONVIF_OP ("GetCapabilities", ONVIF_PRE_AUTH, get_capabilities),
  ONVIF_OP ("GetServices", ONVIF_PRE_AUTH, get_services),
  ONVIF_OP ("GetServiceCapabilities", ONVIF_PRE_AUTH, get_service_capabilities),
  ONVIF_OP ("GetDeviceInformation", ONVIF_READ_SYSTEM, get_device_information),
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
