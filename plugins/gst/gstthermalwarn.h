/* thermocam: a property value an element refuses, said where it is heard
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* A refused property value (the element keeps the old one): a warning
 * message on the element's bus; an element without a bus yet (gst-launch
 * sets the properties of the line before the elements are in the pipeline)
 * would lose it, so it is said with g_warning instead.  @text and @debug are
 * taken. */
static inline void
gst_thermal_warn_setting_full (GstElement * element, GQuark domain, gint code,
    gchar * text, gchar * debug, const gchar * file, const gchar * function,
    gint line)
{
  GstBus *bus = gst_element_get_bus (element);

  if (bus) {
    gst_object_unref (bus);
    gst_element_message_full (element, GST_MESSAGE_WARNING, domain, code, text,
        debug, file, function, line);
    return;
  }
  g_warning ("%s: %s (%s)", GST_ELEMENT_NAME (element), text,
      debug ? debug : "");
  g_free (text);
  g_free (debug);
}

/* GST_ELEMENT_WARNING's arguments: (element, DOMAIN, CODE, (text), (debug)) */
#define GST_THERMAL_WARN_SETTING(el, domain, code, text, debug) \
  gst_thermal_warn_setting_full (GST_ELEMENT (el), GST_ ## domain ## _ERROR, \
      GST_ ## domain ## _ERROR_ ## code, g_strdup_printf text, \
      g_strdup_printf debug, __FILE__, GST_FUNCTION, __LINE__)

G_END_DECLS
