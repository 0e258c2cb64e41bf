/* thermocam: the "thermal" GStreamer plugin
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstthermalsrc.h"
#include "gstthermalnuc.h"
#include "gstthermalradiometry.h"
#include "gstthermalpalette.h"
#include "gstthermaldnr.h"
#include "gstthermalmeasure.h"
#include "gstthermalosd.h"
#include "gstthermalrjpegdec.h"
#include "gstthermalrjpegenc.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (thermalsrc, plugin);
  ret |= GST_ELEMENT_REGISTER (thermalnuc, plugin);
  ret |= GST_ELEMENT_REGISTER (thermalradiometry, plugin);
  ret |= GST_ELEMENT_REGISTER (thermalpalette, plugin);
  ret |= GST_ELEMENT_REGISTER (thermaldnr, plugin);
  ret |= GST_ELEMENT_REGISTER (thermalmeasure, plugin);
  ret |= GST_ELEMENT_REGISTER (thermalosd, plugin);
  ret |= GST_ELEMENT_REGISTER (thermalrjpegdec, plugin);
  ret |= GST_ELEMENT_REGISTER (thermalrjpegenc, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, thermal,
    "Radiometric thermal camera elements: sensor simulation, correction, "
    "temperature, measurement and alarms, palettes, overlay", plugin_init, PACKAGE_VERSION, GST_LICENSE,
    GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
