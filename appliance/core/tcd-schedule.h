/* thermocamd: arming schedules (manual 5.1)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A schedule is the config's $defs/schedule: for each weekday ("monday" ..
 * "sunday") up to 8 periods {"start": "HH:MM", "end": "HH:MM"} (end may be
 * "24:00"), start inclusive, end exclusive, in local time.  A missing
 * schedule or a missing day means always armed (the factory default is
 * 00:00-24:00 every day); an empty day means never.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

extern const gchar *const tcd_weekdays[8];   /* "monday" .. "sunday", NULL */

/* Whether @when (in its own time zone) falls inside @schedule (NULL: always) */
gboolean tcd_schedule_contains (JsonNode *schedule, GDateTime *when);
/* Periods must end after they start and must not overlap.  On failure
 * *field (relative: "monday[1]") names the culprit. */
gboolean tcd_schedule_check (JsonNode *schedule, gchar **field, GError **error);
/* Every schedule in a whole configuration: @field is the full path
 * ("alarm_inputs.inputs[0].schedule.monday[1]") */
gboolean tcd_schedule_check_config (JsonNode *doc, gchar **field, GError **error);
/* A new schedule: @schedule with the periods of @from copied to each day of
 * @to (NULL-terminated).  NULL and an error for an unknown day name. */
JsonNode *tcd_schedule_copy_day (JsonNode *schedule, const gchar *from,
                                 const gchar *const *to, GError **error);

G_END_DECLS
