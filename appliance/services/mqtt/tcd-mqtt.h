/* thermocamd: MQTT, a client of a broker (libmosquitto on the main loop)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Topics, under BASE = mqtt.topic_prefix/SERIAL:
 *   BASE/status                 "online" / "offline" (retained; the will)
 *   BASE/scene                  the scene's readings (JSON), every readings_interval_ms
 *   BASE/rule/ID                a rule's readings (JSON)
 *   BASE/event                  alarm and exception events (JSON), queued on
 *                               disk while the broker is away, sent in order
 *   BASE/alarm/SOURCE[/ID]      "ON" / "OFF" (retained): rule, comparison,
 *                               input, scene, environment alarms
 *   BASE/emissivity             the thermometry's emissivity (retained)
 *   BASE/rule/ID/enabled        "ON" / "OFF" (retained)
 * and, with mqtt.commands on:
 *   BASE/emissivity/set         a number
 *   BASE/rule/ID/enabled/set    "ON" / "OFF"
 *   BASE/ffc/set                "PRESS": a flat-field correction
 *   BASE/result                 each command's answer {"command", "ok",
 *                               ["error", "field"]}
 * Home Assistant discovery (tcd-mqtt-ha.c) under mqtt.discovery.prefix,
 * published again when Home Assistant says it is online.
 */
#pragma once

#include "tcd-service.h"

G_BEGIN_DECLS

typedef struct _TcdMqtt TcdMqtt;

/* the service (tcd-mqtt-service.c) */
extern const TcdServiceClass tcd_mqtt_service;

TcdMqtt  *tcd_mqtt_new (TcdContext *ctx);
void      tcd_mqtt_free (TcdMqtt *m);
/* Connects when mqtt.enabled; again (cleanly) when its settings change */
void      tcd_mqtt_apply (TcdMqtt *m, JsonNode *doc);
/* "offline" published, then a clean disconnect */
void      tcd_mqtt_stop (TcdMqtt *m);
JsonNode *tcd_mqtt_stats (TcdMqtt *m);

/* ---- tcd-mqtt-ha.c: Home Assistant discovery ---- */

/* The discovery messages of the camera @doc describes: {topic: payload
 * (a JSON string)}; @base: the camera's topics; @page: its page's URL or NULL */
GHashTable *tcd_mqtt_ha_messages (JsonNode *doc, const gchar *serial, const gchar *model,
                                  const gchar *base, const gchar *page);

G_END_DECLS
