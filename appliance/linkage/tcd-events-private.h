/* thermocamd: what the parts of the events module share (tcd-events.c: the
 * linkage and the object; tcd-events-deliver.c: the deliveries and the tests
 * of their settings; tcd-events-watch.c: burning prevention, the environment
 * temperature, the calibration and the network)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "tcd-events.h"
#include "gstthermalmeta.h"

G_BEGIN_DECLS

#define TICK_MS 200
#define MiB (1024 * 1024)

struct _TcdEvents {
  TcdConfig *config;
  TcdSecurity *security;
  TcdBus *bus;
  TcdPipeline *pipeline;
  gchar *serial;
  TcdAlarmIo *io;
  TcdStore *captures, *recordings;
  TcdCapture *capture;
  TcdRecord *record;
  TcdSpool *spool;

  GMutex lock;                  /* doc */
  JsonNode *doc;                /* a copy of the configuration for the workers */
  GCancellable *cancel;

  guint tick;
  guint ticks;
  /* burning prevention */
  gboolean shutter_closed, no_shutter;
  gint64 burn_until;            /* monotonic us; 0: not closed by auto */
  const gchar *shutter_reason;
  guint recovery_id;
  gdouble burn_value;
  /* environment temperature */
  gboolean env_alarm;
  gint64 env_last;
  gdouble env_value;
  /* network */
  GNetworkMonitor *monitor;
  gulong monitor_id;
  gint sim_link, sim_conflict;  /* -1: not simulated */
  gboolean net_down, ip_conflict;
  /* calibration */
  gchar *cal_path, *cal_hash;
  /* linkage methods services offer (tcd_events_add_method): TcdEvMethod */
  GPtrArray *methods;
};

typedef struct {
  gchar *name;
  TcdEventsMethodFunc func;
  gpointer data;
} TcdEvMethod;

typedef struct {
  TcdEvents *e;
  JsonNode *ev;
  gchar *tag, *ftp_dir;
  gboolean ftp, email;
} PictureJob;

/* shared by the parts */
G_GNUC_INTERNAL JsonNode *tcd_ev_cfg (TcdEvents *e, const gchar *path);
G_GNUC_INTERNAL JsonNode *tcd_ev_doc_ref (TcdEvents *e);
G_GNUC_INTERNAL gboolean tcd_ev_armed (TcdEvents *e, JsonNode *schedule);
G_GNUC_INTERNAL JsonNode *tcd_ev_job_new (const gchar *kind, JsonNode *ev);
G_GNUC_INTERNAL gchar *tcd_ev_ftp_dir_now (TcdEvents *e, const gchar *tag);
G_GNUC_INTERNAL void tcd_ev_spool_add (TcdEvents *e, const gchar *channel, JsonNode *job,
                                       GPtrArray *pictures);
G_GNUC_INTERNAL void tcd_ev_link_event (TcdEvents *e, JsonNode *ev, JsonNode *linkage,
                                        const gchar *tag, const gchar *out_source,
                                        gboolean begin, gboolean end, gboolean momentary);
G_GNUC_INTERNAL void tcd_ev_raise_exception (TcdEvents *e, const gchar *type,
                                             const gchar *state, const gchar *message);
G_GNUC_INTERNAL gboolean tcd_ev_send_job (const gchar *channel, JsonNode *job,
                                          const gchar *job_dir, GCancellable *cancel,
                                          gpointer user_data, GError **error);
G_GNUC_INTERNAL void tcd_ev_on_delivery (const gchar *id, const gchar *channel, JsonNode *job,
                                         const gchar *state, const gchar *reason,
                                         guint attempts, gpointer user_data);
G_GNUC_INTERNAL void tcd_ev_on_timed (GPtrArray *pictures, gpointer user_data);
G_GNUC_INTERNAL void tcd_ev_on_network_changed (GNetworkMonitor *m, gboolean available,
                                                gpointer user_data);
G_GNUC_INTERNAL gboolean tcd_ev_tick (gpointer user_data);
G_GNUC_INTERNAL void tcd_ev_watch_environment (TcdEvents *e, GstThermalMeta *tm);

G_END_DECLS
