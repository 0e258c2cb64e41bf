/* thermocamd: the device clock (manual 10.8)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The device's time is the host's real time plus an offset the daemon owns
 * (no root needed: the host clock is never set).  Manual set, "sync with
 * the computer's time" and NTP change the offset; it is kept in
 * STATE_DIR/clock and survives a restart.  Everything that stamps a time
 * (OSD, events, files, audit, schedules, Modbus, ONVIF, SNMP) reads it here.
 *
 * The local time is the device time in the configured zone: an IANA zone
 * with its own rules, the same zone's standard offset with a custom DST
 * rule (start, end, bias: manual 10.8.3), or its standard offset with no
 * DST.  The zone is expressed as one identifier GLib understands (an IANA
 * name, or a POSIX TZ string such as "<+01>-1<+02>,M3.5.0/2,M10.5.0/3")
 * so that other processes' parts (the OSD element) can be given the same
 * string.
 *
 * One process-wide clock: the functions are thread-safe (a reader takes a
 * lock for a few loads).  The watchers are called in the thread that made
 * the change (the daemon makes them on its main loop).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ---- device time ---- */

/* Now, device time: microseconds since 1970-01-01 UTC */
gint64     tcd_clock_now_utc (void);
/* Now as a GDateTime in UTC / in the device's local zone (new references) */
GDateTime *tcd_clock_now_utc_dt (void);
GDateTime *tcd_clock_now_local (void);
/* A device-time instant (µs since the epoch, UTC) in the local zone */
GDateTime *tcd_clock_to_local (gint64 utc_us);
/* A host real-time stamp (g_get_real_time ()) as device time, and back */
gint64     tcd_clock_from_host (gint64 host_us);
gint64     tcd_clock_to_host (gint64 device_us);

/* ---- the offset ---- */

/* device time - host real time, µs */
gint64     tcd_clock_get_offset (void);
/* Set the offset (a step); persisted when a state file was given */
void       tcd_clock_set_offset (gint64 offset_us);
/* Move the offset by @delta_us gradually, @ppm µs per second (a slew): the
 * device's time never jumps.  The end value is what is kept; a step or
 * another slew replaces it.  The watchers are told when it starts. */
void       tcd_clock_slew (gint64 delta_us, guint ppm);
/* What is left of the slew, µs (0: none) */
gint64     tcd_clock_slew_remaining (void);
/* Set the device's time now to @utc_us (manual set, the computer's time) */
void       tcd_clock_set_now (gint64 utc_us);
/* Load the offset from @state_dir/clock and save there from now on
 * (NULL: no file; tests).  A missing or unreadable file: offset 0. */
void       tcd_clock_init (const gchar *state_dir);

/* ---- the zone ---- */

typedef enum {
  TCD_DST_ZONE,       /* the zone's own rules (IANA data) */
  TCD_DST_CUSTOM,     /* the zone's standard offset with the rule below */
  TCD_DST_OFF,        /* the zone's standard offset, no DST */
} TcdDstMode;

/* A DST change: month 1..12, week 1..5 of the month (5: the last),
 * weekday 0 (Sunday) .. 6, at hour:minute local time (before the change) */
typedef struct {
  guint month, week, weekday, hour, minute;
} TcdDstPoint;

typedef struct {
  TcdDstMode mode;
  TcdDstPoint start, end;
  guint bias_min;     /* 30, 60, 90, 120 */
} TcdDstRule;

/* The identifier (IANA name or POSIX TZ string) for @zone ("Europe/Paris",
 * "+05:30", "UTC") with @rule (NULL: the zone's own rules); NULL and an
 * error for an unknown zone or a bad rule.  Pure: for the checks and tests */
gchar     *tcd_clock_zone_identifier (const gchar *zone, const TcdDstRule *rule,
                                      GError **error);
/* Read a rule from the configuration's "time" section ({"timezone",
 * "dst": {"mode", "start", "end", "bias_min"}}) */
gboolean   tcd_clock_rule_from_config (JsonNode *time_section, gchar **zone,
                                       TcdDstRule *rule, GError **error);
/* Use @identifier (from tcd_clock_zone_identifier) as the local zone */
gboolean   tcd_clock_set_zone (const gchar *identifier, GError **error);
/* The local zone (a new reference) and its identifier (a copy) */
GTimeZone *tcd_clock_get_zone (void);
gchar     *tcd_clock_get_zone_identifier (void);

/* ---- who must know ---- */

typedef enum {
  TCD_CLOCK_CHANGED_OFFSET = 1 << 0,
  TCD_CLOCK_CHANGED_ZONE = 1 << 1,
} TcdClockChange;

typedef void (*TcdClockFunc) (TcdClockChange what, gpointer user_data);
/* Called after each change of the offset or the zone; returns an id */
guint      tcd_clock_watch (TcdClockFunc func, gpointer user_data);
void       tcd_clock_unwatch (guint id);

G_END_DECLS
