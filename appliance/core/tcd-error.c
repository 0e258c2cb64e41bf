/* thermocamd: errors that carry the field they name
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-error.h"

/* declared in tcd-config.h and tcd-users.h */
GQuark tcd_config_error_quark (void);
GQuark tcd_users_error_quark (void);

typedef struct {
  gchar *field;
} TcdConfigErrorPrivate, TcdUsersErrorPrivate;

static void
field_init (TcdConfigErrorPrivate *priv)
{
  priv->field = NULL;
}

static void
field_copy (const TcdConfigErrorPrivate *src, TcdConfigErrorPrivate *dest)
{
  dest->field = g_strdup (src->field);
}

static void
field_clear (TcdConfigErrorPrivate *priv)
{
  g_clear_pointer (&priv->field, g_free);
}

#define tcd_config_error_private_init field_init
#define tcd_config_error_private_copy field_copy
#define tcd_config_error_private_clear field_clear
#define tcd_users_error_private_init field_init
#define tcd_users_error_private_copy field_copy
#define tcd_users_error_private_clear field_clear

G_DEFINE_EXTENDED_ERROR (TcdConfigError, tcd_config_error)
G_DEFINE_EXTENDED_ERROR (TcdUsersError, tcd_users_error)

static TcdConfigErrorPrivate *
private_of (const GError *error)
{
  TcdConfigErrorPrivate *p;

  /* get_private asks for its own domain */
  if (!error)
    p = NULL;
  else if (error->domain == tcd_config_error_quark ())
    p = tcd_config_error_get_private (error);
  else if (error->domain == tcd_users_error_quark ())
    p = tcd_users_error_get_private (error);
  else
    p = NULL;
  return p;
}

void
tcd_error_set_field (GError *error, const gchar *field)
{
  TcdConfigErrorPrivate *p = private_of (error);

  if (p) {
    g_free (p->field);
    p->field = g_strdup (field);
  }
}

const gchar *
tcd_error_get_field (const GError *error)
{
  TcdConfigErrorPrivate *p = private_of (error);
  return p ? p->field : NULL;
}

void
tcd_set_error_field (GError **error, GQuark domain, gint code, const gchar *field,
    const gchar *format, ...)
{
  va_list ap;
  gchar *m;

  if (!error)
    return;
  va_start (ap, format);
  m = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error_literal (error, domain, code, m);
  g_free (m);
  tcd_error_set_field (*error, field);
}
