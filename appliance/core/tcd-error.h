/* thermocamd: errors that carry the field they name
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An error of TCD_CONFIG_ERROR (tcd-config.h) or TCD_USERS_ERROR
 * (tcd-users.h) carries the field it is about ("ftp.port", "rules[2].name",
 * "level"; NULL: no one field): every protocol shows it where the request
 * gave it, without reading the message.  Both are GLib extended error
 * domains (G_DEFINE_EXTENDED_ERROR), defined here; errors of other domains
 * carry none (set is ignored, get gives NULL).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void         tcd_error_set_field (GError *error, const gchar *field);
const gchar *tcd_error_get_field (const GError *error);

/* g_set_error with the field: @error may be NULL */
void         tcd_set_error_field (GError **error, GQuark domain, gint code, const gchar *field,
                                  const gchar *format, ...) G_GNUC_PRINTF (5, 6);

G_END_DECLS
