/* thermocamd: what the ONVIF events, thermal, analytics and imaging
 * services share (onvif-events.c, onvif-thermal.c, onvif-analytics.c,
 * onvif-imaging.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Temperatures on the ONVIF side are in kelvin (the Thermal and radiometry
 * schemas say so); the configuration's are in degrees Celsius.
 */
#pragma once

#include "onvif-private.h"

G_BEGIN_DECLS

/* the one thermal video source, and the configurations of it that the
 * media profiles carry (the same strings as onvif-media.c) */
#define ONVIF_VIDEO_SOURCE_TOKEN "video_source"
#define ONVIF_VIDEO_SOURCE_CONFIG_TOKEN "video_source_config"
#define ONVIF_ANALYTICS_CONFIG_TOKEN "video_analytics"

/* our vendor topics (exceptions, burning prevention) */
#define ONVIF_NS_TCD_TOPICS "http://www.thermocam.org/onvif/topics"

#define ONVIF_KELVIN 273.15

/* The name of rule @id as ONVIF shows it (an analytics module's Name, the
 * Rule of an alarm event, the ItemID of a reading): the rule's own name
 * when no other rule has it, else "name#id" (new) */
gchar *onvif_rule_name (JsonNode *doc, gint64 id);
/* the rule a module or rule name means, or NULL (borrowed from @doc);
 * @id set when found */
JsonObject *onvif_rule_by_name (JsonNode *doc, const gchar *name, gint64 *id);
/* "point" rules are spot modules; a 4-point polygon with sides along the
 * axes is a box; the rest (lines, other polygons) are not ONVIF modules */
typedef enum { ONVIF_MODULE_SPOT, ONVIF_MODULE_BOX, ONVIF_MODULE_OTHER } OnvifModuleKind;
OnvifModuleKind onvif_rule_kind (JsonObject *rule);

G_END_DECLS
