/* thermocamd: the same unit (manual 10.11)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * While units.same_unit is on, units.temperature is the device's one
 * temperature unit: thermometry.unit follows it (a change of the units, or
 * switching same unit on, carries it there), and a change that would set
 * thermometry.unit apart is refused at that field.  units.distance is the
 * one distance unit the page shows distances in.
 */
#pragma once

#include "tcd-change.h"

G_BEGIN_DECLS

/* A check (TcdChangeCheck) to register; it may set thermometry.unit in @doc */
gboolean tcd_units_check (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
                          gpointer user_data, GError **error);

G_END_DECLS
