/* thermocamd: MQTT, what its files share (tcd-mqtt.c: the connection, the
 * queue, the readings; tcd-mqtt-commands.c: states, discovery, commands)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <mosquitto.h>

#include "tcd-mqtt.h"

G_BEGIN_DECLS

typedef enum { ST_OFF, ST_CONNECTING, ST_CONNECTED, ST_WAITING } State;

typedef struct {
  guint64 seq;
  gchar *topic;
  gchar *payload;
  gint mid;                     /* in flight: its message id; 0: waiting */
  gint64 sent_at;               /* monotonic us, while in flight */
} QItem;

/* what a connect worker shares with the main loop (the task's data) */
typedef struct {
  TcdMqtt *m;                   /* NULL once the connection is not wanted */
  struct mosquitto *mosq;
  gchar *host;
  gint port, keepalive;
  gint error;                   /* the worker's errno */
} Attempt;

typedef struct {
  GSource source;
  TcdMqtt *m;
  gpointer tag;
  GIOCondition events;          /* asked of the socket now */
} IoSource;

struct _TcdMqtt {
  TcdContext *ctx;
  JsonNode *cfg;                /* the mqtt section in use (a copy); NULL: off */
  JsonNode *described;          /* what discovery describes, as last published */
  gchar *base, *dir, *queue_dir;
  struct mosquitto *mosq;
  gboolean mosq_used;           /* asked to connect once: a new client for the next */
  gint64 connected_at;          /* monotonic us */
  State state;
  Attempt *attempt;             /* a connect worker runs */
  IoSource *io;
  guint retry_id, backoff_s, readings_id, bus_id;
  guint frame_id;               /* readings at every frame: the pipeline's frame call */
  GstClockTime last_pts;
  GQueue queue;                 /* QItem, oldest first */
  guint inflight;
  guint64 next_seq;
  GHashTable *rule_texts;       /* rule id -> its escaped name and topic (tcd-mqtt-readings.c) */
  gchar *scene_topic;
  GString *text;                /* the readings' texts, reused */
  GHashTable *alarms;
  GHashTable *state_rules;      /* the rule ids whose states were published last */
  guint ha_id;                  /* a republication for Home Assistant, soon */           /* "rule/3" -> "ON" / "OFF" (the latest, published or not) */
  GHashTable *discovered;       /* discovery topics published (kept on disk) */
  gboolean exception_on;        /* an mqtt_broker exception started */
  gint64 command_window;
  guint command_count;
  /* diagnostics */
  guint64 connects, disconnects, published, events_sent, dropped, refused_commands;
  guint64 readings_skipped;
  gchar *last_error;
};

const gchar *mq_cfg_string (TcdMqtt *m, const gchar *name);
JsonObject  *mq_cfg_object (TcdMqtt *m, const gchar *name);
gint         mq_qos_of (TcdMqtt *m, const gchar *kind);
void         mq_set_error (TcdMqtt *m, const gchar *text);
/* FALSE when not connected or libmosquitto refused */
gboolean     mq_publish (TcdMqtt *m, const gchar *topic, const gchar *payload, gint qos,
                         gboolean retain, gint *mid);
void         mq_publish_node (TcdMqtt *m, const gchar *t, JsonNode *node, gint qos,
                              gboolean retain);
/* BASE/... */
gchar       *mq_topic (TcdMqtt *m, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

/* tcd-mqtt-readings.c: the scene's and the rules' readings of the frame in
 * @buf published; reset when the topics change */
void mq_readings_publish (TcdMqtt *m, GstBuffer *buf, gdouble lo, gdouble hi);
void mq_readings_reset (TcdMqtt *m);
void mq_readings_free (TcdMqtt *m);

/* tcd-mqtt-commands.c */
void mq_publish_alarm (TcdMqtt *m, const gchar *key, const gchar *value);
void mq_publish_settings_state (TcdMqtt *m);
void mq_discovered_load (TcdMqtt *m);
void mq_publish_discovery (TcdMqtt *m);
void mq_on_message (struct mosquitto *mosq, void *data, const struct mosquitto_message *msg);

G_END_DECLS
