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
/* [{"name", "level"}] (never a hash) */
JsonNode    *tcd_users_list (TcdUsers *u);
/* Adds an operator or user (the name: 1..32 of A-Z a-z 0-9 . _ -) */
gboolean     tcd_users_add (TcdUsers *u, const gchar *name, const gchar *password,
                            const gchar *level, GError **error);
/* Changes the password and/or the level (NULL: unchanged) */
gboolean     tcd_users_modify (TcdUsers *u, const gchar *name, const gchar *password,
                               const gchar *level, GError **error);
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
