/* thermocamd: the table of services as the daemon fills and walks it
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Only daemon/ includes this (tests/appliance/test_lint.py checks it): a
 * service never gets hold of another one.
 */
#pragma once

#include "tcd-service.h"

G_BEGIN_DECLS

TcdServices *tcd_services_new (void);
void         tcd_services_free (TcdServices *s);   /* destroys every service, last first */
void         tcd_services_add (TcdServices *s, const TcdServiceClass *klass, gpointer self);
guint        tcd_services_count (TcdServices *s);
const TcdServiceClass *tcd_services_class (TcdServices *s, guint i);
gpointer     tcd_services_instance (TcdServices *s, guint i);

G_END_DECLS
