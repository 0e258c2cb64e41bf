/* thermocamd: how numbers are written in JSON
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * json-glib writes every double with 17 significant digits (0.95 comes out
 * as 0.94999999999999996).  Each quantity has a resolution that means
 * something (temperatures 0.01 °C, emissivity 0.001, positions 0.0001, ...):
 * one table, keyed by the member name that holds the number, says it; the
 * documents the daemon keeps are rounded to it and every JSON text it
 * writes (tcd_json_to_string) shows each number in the shortest form that
 * reads back as the same value.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The decimals of the quantity a member named @name holds (a number, or an
 * array of them such as a position), -1 when the table does not know it */
gint     tcd_json_decimals (const gchar *name);
/* @v rounded to the decimals of the quantity @name holds (as it is when
 * the table does not know it) */
gdouble  tcd_json_round (const gchar *name, gdouble v);
/* Rounds every double of @node (an object, array or value) in place to the
 * decimals of the member that holds it */
void     tcd_json_round_tree (JsonNode *node);
/* @text (JSON written by json-glib) with each floating-point number rounded
 * to the decimals of its member and written in its shortest form (at most
 * 15 significant digits where the table does not know the member);
 * integers, strings and layout unchanged */
gchar   *tcd_json_tidy_numbers (const gchar *text);

G_END_DECLS
