/* thermocamd: alarm inputs (manual 4.1) and alarm outputs (manual 5.2.1)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The contacts and relays are reached through a backend.  The appliance has
 * no terminals of its own, so the backend here is the simulated one: it
 * keeps the relay states and contact levels in memory and lets the API set
 * the contacts (PUT /api/v1/io/inputs/{id}).  A board with real terminals
 * plugs in another TcdIoBackend.
 *
 * An output is on while a linked event lasts, for `delay` seconds after the
 * last one (0: until cleared by hand), and while triggered by hand.  Main
 * loop only, except tcd_alarmio_output_bits / input_bits (any thread).
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TCD_IO_CHANNELS 4

#define TCD_ALARMIO_ERROR (tcd_alarmio_error_quark ())
GQuark tcd_alarmio_error_quark (void);
typedef enum {
  TCD_ALARMIO_ERROR_NO_CHANNEL,     /* no such input or output */
  TCD_ALARMIO_ERROR_NOT_SIMULATED   /* the backend's contacts are real */
} TcdAlarmIoError;

typedef struct {
  const gchar *name;                /* "simulated" */
  gboolean simulated;               /* contacts may be set through the API */
  /* drive relay @index (0-based) */
  void     (*set_output) (gpointer data, guint index, gboolean on);
  /* TRUE while contact @index is closed */
  gboolean (*get_input) (gpointer data, guint index);
} TcdIoBackend;

typedef struct _TcdAlarmIo TcdAlarmIo;

/* an input's alarm state changed (id 1-based) */
typedef void (*TcdAlarmIoInputFunc) (guint id, const gchar *name, gboolean alarm,
                                     gpointer user_data);
/* an output went on or off */
typedef void (*TcdAlarmIoOutputFunc) (guint id, const gchar *name, gboolean on,
                                      const gchar *why, gpointer user_data);

/* With the simulated backend */
TcdAlarmIo *tcd_alarmio_new (void);
void        tcd_alarmio_free (TcdAlarmIo *io);
void        tcd_alarmio_set_funcs (TcdAlarmIo *io, TcdAlarmIoInputFunc on_input,
                                   TcdAlarmIoOutputFunc on_output, gpointer user_data);
/* alarm_inputs and alarm_outputs of the configuration @doc */
void        tcd_alarmio_apply (TcdAlarmIo *io, JsonNode *doc);

/* A linked event of @source ("rule-3") started (@active) or stopped; an
 * event without an end (an exception) passes TRUE then FALSE */
void        tcd_alarmio_link (TcdAlarmIo *io, guint id, const gchar *source, gboolean active);
/* Lets go of the events of each output for which @still returns FALSE (as
 * if they had ended: the hold delay runs) */
typedef gboolean (*TcdAlarmIoLinkedFunc) (guint id, const gchar *source, gpointer user_data);
void        tcd_alarmio_prune (TcdAlarmIo *io, TcdAlarmIoLinkedFunc still, gpointer user_data);
gboolean    tcd_alarmio_trigger (TcdAlarmIo *io, guint id, GError **error);
gboolean    tcd_alarmio_clear (TcdAlarmIo *io, guint id, GError **error);
/* Simulated backend: contact @id is closed or open */
gboolean    tcd_alarmio_set_contact (TcdAlarmIo *io, guint id, gboolean closed,
                                     GError **error);
/* Whether output @id was triggered by hand (and not cleared since) */
gboolean    tcd_alarmio_is_manual (TcdAlarmIo *io, guint id);
/* bit i: output i+1 on / input i+1 in alarm (any thread) */
guint       tcd_alarmio_output_bits (TcdAlarmIo *io);
guint       tcd_alarmio_input_bits (TcdAlarmIo *io);
/* {"backend", "simulated", "inputs": [{id, name, type, enabled, contact:
 *  "open|closed", alarm}], "outputs": [{id, name, delay, on, manual,
 *  sources: [...], until}]} */
JsonNode   *tcd_alarmio_status (TcdAlarmIo *io);

G_END_DECLS
