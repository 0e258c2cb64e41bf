/* thermocamd: the event bus, and the list of event types
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every event the camera reports goes through one bus: the linkage, the
 * pipeline's alarms and the change path emit; the services that stream
 * events (the HTTP event stream today; MQTT, ONVIF next) subscribe.  An event
 * is a JSON object {"time": ISO 8601 UTC, "source": ..., ...} of one of the
 * types below; the list is written down once, here and in tcd-bus.c, where
 * each type says what its members are (GET /api/v1/events documents the same
 * list for API users, schemas/openapi.yaml).
 *
 * Everything runs on the main loop: emit calls the subscribers in the order
 * they subscribed, before it returns.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  TCD_EVENT_MEASUREMENT,        /* the readings, at the stream's interval (HTTP) */
  TCD_EVENT_ALARM,              /* a rule, comparison, input, scene or environment alarm */
  TCD_EVENT_EXCEPTION,          /* a device exception (manual 4.2) */
  TCD_EVENT_CONFIG,             /* the configuration changed */
  TCD_EVENT_OUTPUT,             /* an alarm output switched */
  TCD_EVENT_BURNING,            /* burning prevention closed or opened the shutter */
  TCD_EVENT_CAPTURE,            /* pictures were captured into the storage */
  TCD_EVENT_DELIVERY,           /* a delivery (FTP, email, center) ended */
  TCD_EVENT_N_TYPES
} TcdEventType;

#define TCD_EVENT_MASK(t) (1u << (t))
#define TCD_EVENT_ALL ((1u << TCD_EVENT_N_TYPES) - 1)

/* The type's name on the wire ("alarm", ...) and what it carries */
const gchar *tcd_event_type_name (TcdEventType type);
const gchar *tcd_event_type_doc (TcdEventType type);
/* The names, comma separated, in the order above */
const gchar *tcd_event_type_list (void);
/* -1: no such type */
gint         tcd_event_type_from_name (const gchar *name);

/* A new event {"time": now, "source": @source} (also the payload of a
 * delivery whose source is not streamed: "timed", "test") */
JsonNode *tcd_event_new (const gchar *source);
/* {"source": "config", "change": @what} */
JsonNode *tcd_event_config_new (const gchar *what);
/* {"source": "exception", "type": @kind, "message": @message} */
JsonNode *tcd_event_exception_new (const gchar *kind, const gchar *message);
/* An alarm (TCD_EVENT_ALARM): {"source": @source, [@id_member: @id,] "name",
 * "level" (alarm, pre_alarm), "state" (start, stop)}; the caller adds what
 * its source has (value, threshold, repeat, at, delay_ms) */
JsonNode *tcd_event_alarm_new (const gchar *source, const gchar *id_member, gint64 id,
                               const gchar *name, const gchar *level, const gchar *state);
/* {"source": "output", "output": @id, "name", "on", "why"} */
JsonNode *tcd_event_output_new (guint id, const gchar *name, gboolean on, const gchar *why);
/* {"source": "burning_prevention", "shutter": closed|open, "reason"} */
JsonNode *tcd_event_burning_new (gboolean closed, const gchar *reason);
/* {"source": "capture", "tag": @tag, "files": @files (taken)} */
JsonNode *tcd_event_capture_new (const gchar *tag, JsonArray *files);
/* {"source": "delivery", "id", "channel", "state", ["reason",] "attempts"} */
JsonNode *tcd_event_delivery_new (const gchar *id, const gchar *channel, const gchar *state,
                                  const gchar *reason, guint attempts);

typedef struct _TcdBus TcdBus;
/* @event is borrowed: take a reference to keep it */
typedef void (*TcdBusFunc) (TcdEventType type, JsonNode *event, gpointer user_data);

TcdBus *tcd_bus_new (void);
void    tcd_bus_free (TcdBus *bus);
/* @types: a mask of TCD_EVENT_MASK(); returns an id for unsubscribe */
guint   tcd_bus_subscribe (TcdBus *bus, guint types, TcdBusFunc func, gpointer user_data);
void    tcd_bus_unsubscribe (TcdBus *bus, guint id);
/* Whether anyone listens to @type now (an event that costs to make is made
 * only then) */
gboolean tcd_bus_wanted (TcdBus *bus, TcdEventType type);
/* @event taken */
void    tcd_bus_emit (TcdBus *bus, TcdEventType type, JsonNode *event);
/* How many events of each type went through (diagnostics) */
JsonNode *tcd_bus_stats (TcdBus *bus);

G_END_DECLS
