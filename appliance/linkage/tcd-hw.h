/* thermocamd: the hardware a camera body may have and this appliance does
 * not: motorized lens (zoom, iris, lens initialization, manual 6.1.8 and
 * 6.1.11), motorized focus (near, far, auxiliary focus, 6.1.8 and 6.1.12),
 * light (illuminator, 6.1.9), wiper (6.1.10), local video output (7.2.9)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The section `hardware` keeps their settings whether the hardware is
 * there or not (validated by the schema, persisted, applied live); they
 * and the actions go to a backend (TcdHwBackend), as the alarm I/O and the
 * network settings do:
 *
 *   simulated[:LIST]   (the default) simulates the functions of LIST
 *                      (comma separated: lens, focus, light, wiper,
 *                      video_output, or all; none without a LIST): the
 *                      positions move at the configured speeds, the lens
 *                      initialization and the wipe take their time, the
 *                      state is GET /hardware.
 *
 * A board with a real lens or wiper plugs in another backend.  An action of
 * a function the device does not have is refused (TCD_HW_ERROR_ABSENT).
 * Main loop only.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TCD_HW_ERROR (tcd_hw_error_quark ())
GQuark tcd_hw_error_quark (void);
typedef enum {
  TCD_HW_ERROR_ABSENT,          /* the device has no such hardware */
  TCD_HW_ERROR_UNKNOWN,         /* no such function or action */
  TCD_HW_ERROR_BUSY,            /* a lens initialization or a wipe is running */
  TCD_HW_ERROR_BACKEND,         /* the backend failed */
} TcdHwError;

typedef enum {
  TCD_HW_LENS = 1 << 0,
  TCD_HW_FOCUS = 1 << 1,
  TCD_HW_LIGHT = 1 << 2,
  TCD_HW_WIPER = 1 << 3,
  TCD_HW_VIDEO_OUTPUT = 1 << 4,
} TcdHwFunction;

#define TCD_HW_N_FUNCTIONS 5

typedef struct {
  const gchar *name;            /* "simulated" */
  gboolean simulated;
  /* the functions present (TcdHwFunction bits) */
  guint     (*present) (gpointer data);
  /* the section `hardware` (its settings for every function) */
  void      (*apply) (gpointer data, JsonNode *section);
  /* @action of function @fn (present, and the action one of its own) */
  gboolean  (*action) (gpointer data, TcdHwFunction fn, const gchar *action, GError **error);
  /* the state of each function present: {"lens": {...}, ...} */
  JsonNode *(*status) (gpointer data);
  void      (*free) (gpointer data);
} TcdHwBackend;

typedef struct _TcdHw TcdHw;

/* @backend: "simulated" (NULL too) or "simulated:lens,focus,..." */
TcdHw      *tcd_hw_new (const gchar *backend, GError **error);
void        tcd_hw_free (TcdHw *hw);
/* the section `hardware` of @doc */
void        tcd_hw_apply (TcdHw *hw, JsonNode *doc);
/* "lens", "focus", ... <-> the function; 0 when unknown */
TcdHwFunction tcd_hw_function_from_string (const gchar *name);
const gchar  *tcd_hw_function_name (TcdHwFunction fn);
/* The actions of each function (NULL-terminated) */
const gchar * const *tcd_hw_actions (TcdHwFunction fn);
/* @action ("zoom_in") of @function ("lens"); TCD_HW_ERROR */
gboolean    tcd_hw_action (TcdHw *hw, const gchar *function, const gchar *action,
                           GError **error);
/* "simulated" */
const gchar *tcd_hw_backend_name (TcdHw *hw);
/* {"lens": true, ...} of every function */
JsonNode   *tcd_hw_presence (TcdHw *hw);
/* {"backend", "simulated", "present": {...}, "lens": {...}, ...} */
JsonNode   *tcd_hw_status (TcdHw *hw);

G_END_DECLS
