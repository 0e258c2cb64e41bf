/* thermocamd: the change path, the one way the configuration changes
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whoever asks (the HTTP API, Modbus, next ONVIF and MQTT), a change goes:
 *
 *   section policy (incoming patch) -> merge -> validation (schema and the
 *   measurement code's own parsers, tcd_config_check) -> the registered
 *   checks (free ports, the IP filter, the sensor's limits, ...) ->
 *   [skip if unchanged] -> atomic commit (tcd_config_commit) -> the
 *   subscribers, in their fixed order -> audit -> a "config" event
 *
 * A refusal anywhere before the commit leaves everything as it was; its
 * GError (TCD_CONFIG_ERROR) carries the field it names (tcd_error_get_field).
 * The section policies also say how a section is shown (secrets are
 * write-only; read-only members added).
 */
#pragma once

#include "tcd-bus.h"
#include "tcd-config.h"
#include "tcd-security.h"

G_BEGIN_DECLS

/* Who changes what, for the audit log and the event */
typedef struct {
  const gchar *what;            /* "config.ftp", "rules", "restore", ... */
  const gchar *user;            /* NULL: the device itself */
  const gchar *address;         /* the peer's address; NULL: local */
  const gchar *protocol;        /* "http", "modbus", ...; NULL: the device */
} TcdOrigin;

/* The order subscribers are told in: security first (who may still talk),
 * then the media, the linkage, the services, and the daemon last (a restart
 * of the servers in place) */
typedef enum {
  TCD_CHANGE_ORDER_SECURITY = 0,
  TCD_CHANGE_ORDER_MEDIA = 10,
  TCD_CHANGE_ORDER_LINKAGE = 20,
  TCD_CHANGE_ORDER_SERVICES = 30,
  TCD_CHANGE_ORDER_DAEMON = 40
} TcdChangeOrder;

typedef enum {
  TCD_CHANGE_NONE = 0,
  TCD_CHANGE_SKIP_UNCHANGED = 1 << 0   /* no commit, audit or event if nothing changes */
} TcdChangeFlags;

typedef struct _TcdChange TcdChange;

/* A check of a whole new document @doc against the current one @current:
 * FALSE with @error set (tcd_change_refuse) refuses the change */
typedef gboolean (*TcdChangeCheck) (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
                                    gpointer user_data, GError **error);
/* The new document @doc is current (@old: the one before) */
typedef void (*TcdChangeApply) (JsonNode *doc, JsonNode *old, gpointer user_data);
/* The accounts changed (created, removed, a password, the activation) */
typedef void (*TcdChangeUsers) (gpointer user_data);
/* A patch of the section as it came in (changed in place: read-only
 * members dropped, write-only ones kept) */
typedef void (*TcdChangeIncoming) (TcdConfig *config, JsonNode *patch, gpointer user_data);
/* The section as shown (a copy, changed in place: secrets removed, members
 * added); @whole: it is shown within the whole document (GET /config), where
 * only the secrets go */
typedef void (*TcdChangeView) (JsonNode *section, gboolean whole, gpointer user_data);

TcdChange *tcd_change_new (TcdConfig *config, TcdSecurity *security, TcdBus *bus);
void       tcd_change_free (TcdChange *change);
TcdConfig *tcd_change_get_config (TcdChange *change);

/* Registered checks run in the order they were added */
void tcd_change_add_check (TcdChange *change, const gchar *name, TcdChangeCheck check,
                           gpointer user_data);
/* @apply and @users may be NULL; equal orders: in the order subscribed */
void tcd_change_subscribe (TcdChange *change, TcdChangeOrder order, const gchar *name,
                           TcdChangeApply apply, TcdChangeUsers users, gpointer user_data);
/* A policy for @section (either function may be NULL) */
void tcd_change_add_policy (TcdChange *change, const gchar *section,
                            TcdChangeIncoming incoming, TcdChangeView view,
                            gpointer user_data);

/* The whole new document (@doc, taken) through the path.  @changed (may be
 * NULL): whether anything changed (FALSE only with SKIP_UNCHANGED). */
gboolean tcd_change_commit (TcdChange *change, JsonNode *doc, const TcdOrigin *origin,
                            TcdChangeFlags flags, gboolean *changed, GError **error);
/* A patch of one section as it came in (borrowed, changed in place by the
 * section's policy) -> the whole new document to commit */
JsonNode *tcd_change_patched (TcdChange *change, const gchar *section, JsonNode *patch);
/* The configuration (@section NULL) or a section as shown to a client:
 * secrets removed, read-only members added (a new node) */
JsonNode *tcd_change_view (TcdChange *change, const gchar *section);

/* The accounts changed: every users subscriber is told */
void tcd_change_users_changed (TcdChange *change, const TcdOrigin *origin);

/* A check (TcdChangeCheck) to register: an IP filter that would shut out
 * the address making the change (the origin's) is refused, or the
 * administrator would lock themselves out for good */
gboolean tcd_change_check_ip_filter (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
                                     gpointer user_data, GError **error);

/* Sets @error to a refusal (TCD_CONFIG_ERROR_INVALID) naming @field */
void tcd_change_refuse (GError **error, const gchar *field, const gchar *format, ...)
    G_GNUC_PRINTF (3, 4);

G_END_DECLS
