/* thermocamd: accounts (activation creates admin); passwords never in clear
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TCD_USERS_ERROR (tcd_users_error_quark ())
GQuark tcd_users_error_quark (void);

typedef enum {
  TCD_USERS_ERROR_WEAK,         /* the password breaks the strong-password rule */
  TCD_USERS_ERROR_ACTIVATED,    /* activation of an active device */
  TCD_USERS_ERROR_IO
} TcdUsersError;

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
/* Factory default: no users, the device inactive */
gboolean     tcd_users_reset (TcdUsers *u, GError **error);

gboolean     tcd_password_is_strong (const gchar *password, GError **error);

G_END_DECLS
