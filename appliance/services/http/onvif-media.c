/* thermocamd: ONVIF media service (trt, ver10/media/wsdl): the profiles of
 * the main and the sub stream, their video source and encoder
 * configurations, stream and snapshot addresses
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "onvif-private.h"

static void
media_capabilities (OnvifRequest *r)
{
  onvif_raw (r, "<trt:Capabilities SnapshotUri=\"true\" Rotation=\"false\" "
      "VideoSourceMode=\"false\" OSD=\"false\" EXICompression=\"false\">"
      "<trt:ProfileCapabilities MaximumNumberOfProfiles=\"2\"/>"
      "<trt:StreamingCapabilities RTPMulticast=\"false\" RTP_TCP=\"true\" "
      "RTP_RTSP_TCP=\"true\" NonAggregateControl=\"false\" NoRTSPStreaming=\"false\"/>"
      "</trt:Capabilities>");
}

static gboolean
get_service_capabilities (OnvifRequest *r)
{
  onvif_open (r, "trt:GetServiceCapabilitiesResponse");
  media_capabilities (r);
  onvif_close (r, "trt:GetServiceCapabilitiesResponse");
  return TRUE;
}

static const OnvifOperation ops[] = {
  ONVIF_OP ("GetServiceCapabilities", ONVIF_PRE_AUTH, get_service_capabilities),
  ONVIF_OPS_END
};

const OnvifService onvif_media_service = {
  .path = "/onvif/media_service",
  .ns = ONVIF_NS_TRT,
  .prefix = "trt",
  .major = 2,
  .minor = 60,
  .ops = ops,
  .capabilities = media_capabilities,
};

/* ---- Media2 (tr2, ver20/media/wsdl) ---- */

static void
media2_capabilities (OnvifRequest *r)
{
  onvif_raw (r, "<tr2:Capabilities SnapshotUri=\"true\" Rotation=\"false\" "
      "VideoSourceMode=\"false\" OSD=\"false\" Mask=\"false\" SourceMask=\"false\">"
      "<tr2:ProfileCapabilities MaximumNumberOfProfiles=\"2\" "
      "ConfigurationsSupported=\"VideoSource VideoEncoder\"/>"
      "<tr2:StreamingCapabilities RTSPStreaming=\"true\" RTPMulticast=\"false\" "
      "RTP_RTSP_TCP=\"true\" NonAggregateControl=\"false\" AutoStartMulticast=\"false\"/>"
      "</tr2:Capabilities>");
}

static gboolean
get_service_capabilities2 (OnvifRequest *r)
{
  onvif_open (r, "tr2:GetServiceCapabilitiesResponse");
  media2_capabilities (r);
  onvif_close (r, "tr2:GetServiceCapabilitiesResponse");
  return TRUE;
}

static const OnvifOperation ops2[] = {
  ONVIF_OP ("GetServiceCapabilities", ONVIF_PRE_AUTH, get_service_capabilities2),
  ONVIF_OPS_END
};

const OnvifService onvif_media2_service = {
  .path = "/onvif/media2_service",
  .ns = ONVIF_NS_TR2,
  .prefix = "tr2",
  .major = 2,
  .minor = 60,
  .ops = ops2,
  .capabilities = media2_capabilities,
};
