/* thermocamd: accounts (activation creates admin); passwords never in clear
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The realm of every account's Digest credentials (HTTP, RTSP) */
#define TCD_REALM "thermocam"

#define TCD_USERS_ERROR (tcd_users_error_quark ())
GQuark tcd_users_error_quark (void);

typedef enum {
  TCD_USERS_ERROR_WEAK,         /* the password breaks the strong-password rule */
  TCD_USERS_ERROR_ACTIVATED,    /* activation of an active device */
  TCD_USERS_ERROR_IO,
  TCD_USERS_ERROR_INVALID,      /* a bad name or level (the message names the field) */
  TCD_USERS_ERROR_NOT_FOUND,
  TCD_USERS_ERROR_EXISTS,
  TCD_USERS_ERROR_FULL,         /* admin and 31 more accounts already */
  TCD_USERS_ERROR_PROTECTED     /* the administrator cannot be deleted or demoted */
} TcdUsersError;

/* User levels (manual 10.13): a user may view live video and change its own
 * password; an operator may do everything but manage accounts and security;
 * the administrator (the account "admin") may do everything. */
typedef enum {
  TCD_LEVEL_NONE = 0,
  TCD_LEVEL_USER,
  TCD_LEVEL_OPERATOR,
  TCD_LEVEL_ADMINISTRATOR
} TcdLevel;

#define TCD_USERS_MAX 32        /* admin + 31 */

/* Remote permissions (manual 10.13.1), one bit each; their stable names are
 * those of tcd_permission_to_string ("live_view", "playback", ...).  Every
 * HTTP route, RTSP mount and write names the one it needs (NONE: any account
 * of the route's level).  A user may hold only live view; an operator any;
 * the administrator holds all, always. */
typedef enum {
  TCD_PERM_NONE = 0,
  TCD_PERM_LIVE_VIEW = 1 << 0,          /* live view: MJPEG, WebSocket, SSE, RTSP live */
  TCD_PERM_PLAYBACK = 1 << 1,           /* recording and playback */
  TCD_PERM_PARAMETERS = 1 << 2,         /* parameter settings */
  TCD_PERM_LOG_STATUS = 1 << 3,         /* log and status */
  TCD_PERM_MAINTENANCE = 1 << 4,        /* upgrade and maintenance */
  TCD_PERM_CAPTURE = 1 << 5,            /* capture */
  TCD_PERM_ALARM_OUTPUT = 1 << 6,       /* alarm output control */
  TCD_PERM_SERIAL = 1 << 7,             /* serial port */
} TcdPermission;

#define TCD_PERM_COUNT 8
#define TCD_PERM_ALL ((1u << TCD_PERM_COUNT) - 1)

/* the name of one bit, or NULL */
const gchar *tcd_permission_to_string (guint permission);
/* one bit, or TCD_PERM_NONE for an unknown name */
guint        tcd_permission_from_string (const gchar *s);
/* what a level may hold, and what a new account of it holds */
guint        tcd_level_permissions_allowed (TcdLevel level);
guint        tcd_level_permissions_default (TcdLevel level);
/* a JSON array of permission names -> bits; a refusal names the field
 * "permissions" (not an array of strings, an unknown name, one twice, or
 * one that @level cannot hold), *@out untouched */
gboolean     tcd_permissions_from_json (JsonNode *node, TcdLevel level, guint *out,
                                        GError **error);
/* bits -> a JSON array of their names (in the order of the enum) */
JsonNode    *tcd_permissions_to_json (guint permissions);

const gchar *tcd_level_to_string (TcdLevel level);
TcdLevel     tcd_level_from_string (const gchar *s);   /* NONE when unknown */

typedef struct _TcdUsers TcdUsers;

TcdUsers    *tcd_users_new (const gchar *state_dir, const gchar *realm);
void         tcd_users_free (TcdUsers *u);
gboolean     tcd_users_is_activated (TcdUsers *u);
/* Creates "admin" with @password (strong: at least 8 characters and three of
 * upper case, lower case, digits, specials) */
gboolean     tcd_users_activate (TcdUsers *u, const gchar *password, GError **error);
/* The Digest HA1 (hex MD5 of user:realm:password) of a user, or NULL */
const gchar *tcd_users_get_ha1 (TcdUsers *u, const gchar *name);
/* Checks a password against the salted slow hash */
gboolean     tcd_users_check_password (TcdUsers *u, const gchar *name, const gchar *password);
/* user:realm:HA1 lines for the RTSP server, or NULL while inactive */
const gchar *tcd_users_htdigest_path (TcdUsers *u);
/* The level of a user, TCD_LEVEL_NONE when there is no such user */
TcdLevel     tcd_users_get_level (TcdUsers *u, const gchar *name);
/* The permissions of a user (bits), 0 when there is no such user; the
 * administrator's are all */
guint        tcd_users_get_permissions (TcdUsers *u, const gchar *name);
/* [{"name", "level", "permissions"}] (never a hash) */
JsonNode    *tcd_users_list (TcdUsers *u);
/* Adds an operator or user (the name: 1..32 of A-Z a-z 0-9 . _ -) */
gboolean     tcd_users_add (TcdUsers *u, const gchar *name, const gchar *password,
                            const gchar *level, GError **error);
/* Changes the password and/or the level (NULL: unchanged) */
gboolean     tcd_users_modify (TcdUsers *u, const gchar *name, const gchar *password,
                               const gchar *level, GError **error);
/* The same with permissions: @permissions bits, or -1 for the level's
 * defaults (add) / unchanged, or the new level's defaults when the level
 * changes (modify); refused (field "permissions", nothing changed) where the
 * level cannot hold one */
gboolean     tcd_users_add_full (TcdUsers *u, const gchar *name, const gchar *password,
                                 const gchar *level, gint permissions, GError **error);
gboolean     tcd_users_modify_full (TcdUsers *u, const gchar *name, const gchar *password,
                                    const gchar *level, gint permissions, GError **error);
gboolean     tcd_users_delete (TcdUsers *u, const gchar *name, GError **error);
/* The stored accounts (hashes and HA1, for the encrypted configuration
 * export) and their replacement from such an export (checked whole first) */
JsonNode    *tcd_users_export (TcdUsers *u);
gboolean     tcd_users_import_check (TcdUsers *u, JsonNode *node, GError **error);
gboolean     tcd_users_import (TcdUsers *u, JsonNode *node, GError **error);
/* Changes on every account change (sessions of a changed user end) */
guint        tcd_users_generation (TcdUsers *u);

/* Factory default: no users, the device inactive */
gboolean     tcd_users_reset (TcdUsers *u, GError **error);

gboolean     tcd_password_is_strong (const gchar *password, GError **error);

G_END_DECLS
