/* thermocamd: ONVIF events, shared by its two files: the subscriptions
 * and operations (onvif-events.c) and the messages made from the event bus
 * with the properties' states (onvif-events-bus.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "onvif-ext.h"

G_BEGIN_DECLS

#define MAX_PULLPOINTS 10
#define MAX_QUEUE 256
#define MAX_TERMINATION_S 3600
#define DEFAULT_TERMINATION_S 60
#define MAX_WAIT_S 50
#define MAX_MESSAGES 100

#define DIALECT_CONCRETE_SET "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
#define DIALECT_CONCRETE "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"
#define NS_TNS1 "http://www.onvif.org/ver10/topics"
#define NS_WSNT "http://docs.oasis-open.org/wsn/b-2"

typedef enum {
  T_TEMPERATURE_ALARM,
  T_RADIOMETRY_ALARM,
  T_DIGITAL_INPUT,
  T_RELAY,
  T_SPOT,
  T_BOX,
  T_EXCEPTION,
  T_BURNING,
  N_TOPICS
} TopicId;

typedef struct {
  const gchar *prefix;          /* tns1, tcd */
  const gchar *path;
  gboolean property;
  gboolean on_request;          /* only to subscriptions that name it */
  const gchar *source, *data;   /* the SimpleItemDescriptions */
} Topic;

extern const Topic ev_topics[N_TOPICS];
const gchar *ev_topic_ns (TopicId t);

typedef struct {
  TopicId topic;
  gchar *source, *data;         /* their items' XML */
} Prop;

typedef struct _Events Events;

typedef struct {
  Events *ev;
  gchar *id, *user;
  gint64 expires_us;            /* real time */
  guint mask;                   /* 1 << TopicId */
  GQueue queue;                 /* GRefString: a rendered NotificationMessage */
  guint64 dropped;
  /* a PullMessages waiting */
  SoupServerMessage *wait;
  gulong wait_finished;
  guint wait_timer, wait_idle, wait_limit;
} Sub;

struct _Events {
  TcdContext *ctx;
  GHashTable *subs;             /* id -> Sub */
  GHashTable *props;            /* "topic\nsource" -> Prop */
  GHashTable *active;           /* keys of temperature alarms on (RadiometryAlarm) */
  guint bus_id, measure_id, expire_id;
  guint64 created, expired, messages, dropped;
};

/* onvif-events.c: messages into the subscriptions */
void        ev_item (GString *s, const gchar *name, const gchar *value);
void        ev_item_kelvin (GString *s, const gchar *name, gdouble celsius);
GRefString *ev_render (TopicId t, const gchar *operation, gint64 time_us, const gchar *source,
                       const gchar *data);
void        ev_enqueue (Events *ev, Sub *s, GRefString *m);
void        ev_publish (Events *ev, TopicId t, const gchar *operation, const gchar *source,
                        const gchar *data);
void        ev_prop_free (Prop *p);
gchar      *ev_prop_key (TopicId t, const gchar *source);
/* a property's new state: kept (for new subscriptions) and published */
void        ev_publish_property (Events *ev, TopicId t, const gchar *source, const gchar *data);

/* onvif-events-bus.c */
void        ev_on_bus (TcdEventType type, JsonNode *event, gpointer user_data);
/* the readings are made only while a subscription asks for them */
void        ev_update_measurement (Events *ev);
/* every property's state, Initialized, into @s */
void        ev_synchronize (Events *ev, Sub *s);

G_END_DECLS
