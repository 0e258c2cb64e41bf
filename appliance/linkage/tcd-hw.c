/* thermocamd: lens, focus, light, wiper and local video output through a
 * backend (manual 6.1.8-6.1.12, 7.2.9)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-hw.h"

#include <math.h>
#include <string.h>

#include "tcd-clock.h"
#include "tcd-config.h"
#include "tc-json.h"

G_DEFINE_QUARK (tcd-hw-error-quark, tcd_hw_error)

#define POS_MAX 1000.0          /* zoom and focus: steps end to end */
#define IRIS_MAX 100.0
#define RATE_PER_SPEED 50.0     /* steps a second for each unit of speed (1..7) */
#define INIT_MS 2000            /* a lens initialization */
#define WIPE_MS 1500            /* one stroke of the wiper */
#define AUTOFOCUS_MS 1000
#define SHARP_AT 620.0          /* where the simulated scene is sharp */

static const gchar *const fn_names[TCD_HW_N_FUNCTIONS] = {
  "lens", "focus", "light", "wiper", "video_output"
};
static const gchar *const lens_actions[] = {
  "zoom_in", "zoom_out", "zoom_stop", "iris_open", "iris_close", "iris_stop", "init", NULL
};
static const gchar *const focus_actions[] = { "near", "far", "stop", "auto", NULL };
static const gchar *const wiper_actions[] = { "once", NULL };
static const gchar *const no_actions[] = { NULL };

TcdHwFunction
tcd_hw_function_from_string (const gchar *name)
{
  for (guint i = 0; i < TCD_HW_N_FUNCTIONS; i++)
    if (g_strcmp0 (name, fn_names[i]) == 0)
      return 1u << i;
  return 0;
}

const gchar *
tcd_hw_function_name (TcdHwFunction fn)
{
  for (guint i = 0; i < TCD_HW_N_FUNCTIONS; i++)
    if (fn == 1u << i)
      return fn_names[i];
  return "";
}

const gchar * const *
tcd_hw_actions (TcdHwFunction fn)
{
  switch (fn) {
    case TCD_HW_LENS: return lens_actions;
    case TCD_HW_FOCUS: return focus_actions;
    case TCD_HW_WIPER: return wiper_actions;
    default: return no_actions;
  }
}

/* ---- the simulated backend ---- */

/* a position that moves at a rate until it stops or reaches an end */
typedef struct {
  gdouble at;                   /* where it was at @since */
  gint dir;                     /* -1, 0, +1 */
  gdouble rate;                 /* steps a second */
  gint64 since;                 /* monotonic us */
  gdouble max;
  gdouble target;               /* moving to it (auto focus); < 0: none */
} Axis;

typedef struct {
  guint present;
  Axis zoom, iris, focus;
  gint zoom_speed, focus_speed, ptz_speed;
  gchar *iris_mode, *focus_mode;
  gboolean init_on_start, applied_once;
  gboolean light_on, video_on;
  gint brightness;
  guint wiper_interval_s;
  guint init_id, wipe_id, focus_id, interval_id;
  guint64 inits, wipes, autofocus_runs;
  gint64 last_wipe;             /* device time, unix us; 0: never */
} Sim;

static gdouble
axis_now (Axis *a)
{
  gdouble t = (g_get_monotonic_time () - a->since) / 1e6;
  gdouble v;

  if (a->target >= 0) {
    gdouble d = a->target - a->at;
    gdouble step = a->rate * t;
    return fabs (d) <= step ? a->target : a->at + (d > 0 ? step : -step);
  }
  v = a->at + a->dir * a->rate * t;
  return CLAMP (v, 0, a->max);
}

static void
axis_move (Axis *a, gint dir, gdouble rate)
{
  a->at = axis_now (a);
  a->since = g_get_monotonic_time ();
  a->dir = dir;
  a->rate = rate;
  a->target = -1;
}

static void
axis_to (Axis *a, gdouble target, gdouble rate)
{
  a->at = axis_now (a);
  a->since = g_get_monotonic_time ();
  a->dir = 0;
  a->rate = rate;
  a->target = target;
}

static const gchar *
axis_moving (Axis *a, const gchar *down, const gchar *up)
{
  gdouble v = axis_now (a);

  if (a->target >= 0)
    return v == a->target ? NULL : "auto";
  if (a->dir < 0 && v > 0)
    return down;
  if (a->dir > 0 && v < a->max)
    return up;
  return NULL;
}

static gboolean
init_done (gpointer data)
{
  Sim *s = data;

  s->init_id = 0;
  s->zoom.at = 0;
  s->focus.at = 0;
  s->iris.at = IRIS_MAX / 2;
  s->zoom.since = s->focus.since = s->iris.since = g_get_monotonic_time ();
  s->inits++;
  g_message ("hardware: lens initialized (simulated)");
  return G_SOURCE_REMOVE;
}

static gboolean
wipe_done (gpointer data)
{
  Sim *s = data;

  s->wipe_id = 0;
  s->wipes++;
  s->last_wipe = tcd_clock_now_utc ();
  return G_SOURCE_REMOVE;
}

static gboolean
focus_done (gpointer data)
{
  Sim *s = data;

  s->focus_id = 0;
  s->autofocus_runs++;
  return G_SOURCE_REMOVE;
}

static void
start_init (Sim *s)
{
  axis_move (&s->zoom, 0, 0);
  axis_move (&s->focus, 0, 0);
  axis_move (&s->iris, 0, 0);
  s->init_id = g_timeout_add (INIT_MS, init_done, s);
}

static void
start_autofocus (Sim *s)
{
  axis_to (&s->focus, SHARP_AT, POS_MAX * 1000.0 / AUTOFOCUS_MS);
  g_clear_handle_id (&s->focus_id, g_source_remove);
  s->focus_id = g_timeout_add (AUTOFOCUS_MS, focus_done, s);
}

static gboolean
wipe_interval (gpointer data)
{
  Sim *s = data;

  if (!s->wipe_id)
    s->wipe_id = g_timeout_add (WIPE_MS, wipe_done, s);
  return G_SOURCE_CONTINUE;
}

static guint
sim_present (gpointer data)
{
  return ((Sim *) data)->present;
}

static void
sim_apply (gpointer data, JsonNode *section)
{
  Sim *s = data;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (section) ? json_node_get_object (section) : NULL;
  JsonObject *lens = o ? tc_json_get_object (o, "lens") : NULL;
  JsonObject *focus = o ? tc_json_get_object (o, "focus") : NULL;
  JsonObject *light = o ? tc_json_get_object (o, "light") : NULL;
  JsonObject *wiper = o ? tc_json_get_object (o, "wiper") : NULL;
  JsonObject *video = o ? tc_json_get_object (o, "video_output") : NULL;
  guint interval;

  if (!lens || !focus || !light || !wiper || !video)
    return;
  s->zoom_speed = tc_json_get_int (lens, "zoom_speed", 4);
  s->ptz_speed = tc_json_get_int (lens, "ptz_speed", 4);
  s->init_on_start = tc_json_get_bool (lens, "init_on_start", FALSE);
  g_free (s->iris_mode);
  s->iris_mode = g_strdup (tc_json_get_string (lens, "iris_mode", "auto"));
  s->focus_speed = tc_json_get_int (focus, "speed", 4);
  g_free (s->focus_mode);
  s->focus_mode = g_strdup (tc_json_get_string (focus, "mode", "manual"));
  s->light_on = tc_json_get_bool (light, "enabled", FALSE);
  s->brightness = tc_json_get_int (light, "brightness", 100);
  s->video_on = tc_json_get_bool (video, "enabled", FALSE);
  interval = tc_json_get_int (wiper, "interval_s", 0);
  if (interval != s->wiper_interval_s || !s->applied_once) {
    s->wiper_interval_s = interval;
    g_clear_handle_id (&s->interval_id, g_source_remove);
    if (interval && (s->present & TCD_HW_WIPER))
      s->interval_id = g_timeout_add_seconds (interval, wipe_interval, s);
  }
  /* the lens initialized at start where asked */
  if (!s->applied_once && s->init_on_start && (s->present & TCD_HW_LENS))
    start_init (s);
  s->applied_once = TRUE;
}

static gboolean
sim_action (gpointer data, TcdHwFunction fn, const gchar *action, GError **error)
{
  Sim *s = data;
  gdouble zoom_rate = s->zoom_speed * RATE_PER_SPEED;
  gdouble focus_rate = s->focus_speed * RATE_PER_SPEED;

  if (s->init_id && (fn == TCD_HW_LENS || fn == TCD_HW_FOCUS)) {
    g_set_error (error, TCD_HW_ERROR, TCD_HW_ERROR_BUSY,
        "the lens is initializing (%d s)", INIT_MS / 1000);
    return FALSE;
  }
  if (fn == TCD_HW_LENS) {
    if (g_str_equal (action, "zoom_in") || g_str_equal (action, "zoom_out")) {
      axis_move (&s->zoom, action[5] == 'i' ? 1 : -1, zoom_rate);
    } else if (g_str_equal (action, "zoom_stop")) {
      axis_move (&s->zoom, 0, 0);
      if (g_str_equal (s->focus_mode, "auto") && (s->present & TCD_HW_FOCUS))
        start_autofocus (s);
    } else if (g_str_equal (action, "iris_open") || g_str_equal (action, "iris_close")) {
      axis_move (&s->iris, action[5] == 'o' ? 1 : -1, IRIS_MAX / 4);
    } else if (g_str_equal (action, "iris_stop")) {
      axis_move (&s->iris, 0, 0);
    } else if (g_str_equal (action, "init")) {
      start_init (s);
    }
  } else if (fn == TCD_HW_FOCUS) {
    if (g_str_equal (action, "near") || g_str_equal (action, "far"))
      axis_move (&s->focus, action[0] == 'f' ? 1 : -1, focus_rate);
    else if (g_str_equal (action, "stop"))
      axis_move (&s->focus, 0, 0);
    else if (g_str_equal (action, "auto"))
      start_autofocus (s);
  } else if (fn == TCD_HW_WIPER) {
    if (s->wipe_id) {
      g_set_error (error, TCD_HW_ERROR, TCD_HW_ERROR_BUSY, "the wiper is wiping");
      return FALSE;
    }
    s->wipe_id = g_timeout_add (WIPE_MS, wipe_done, s);
  }
  return TRUE;
}

static void
add_moving (JsonBuilder *b, const gchar *name, const gchar *v)
{
  json_builder_set_member_name (b, name);
  if (v)
    json_builder_add_string_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const gchar *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static JsonNode *
sim_status (gpointer data)
{
  Sim *s = data;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  if (s->present & TCD_HW_LENS) {
    json_builder_set_member_name (b, "lens");
    json_builder_begin_object (b);
    add_int (b, "zoom", (gint64) axis_now (&s->zoom));
    add_moving (b, "zooming", axis_moving (&s->zoom, "out", "in"));
    add_int (b, "iris", (gint64) axis_now (&s->iris));
    add_moving (b, "iris_moving", axis_moving (&s->iris, "close", "open"));
    json_builder_set_member_name (b, "iris_mode");
    json_builder_add_string_value (b, s->iris_mode);
    add_int (b, "zoom_speed", s->zoom_speed);
    add_int (b, "ptz_speed", s->ptz_speed);
    json_builder_set_member_name (b, "initializing");
    json_builder_add_boolean_value (b, s->init_id != 0);
    add_int (b, "initializations", s->inits);
    json_builder_end_object (b);
  }
  if (s->present & TCD_HW_FOCUS) {
    json_builder_set_member_name (b, "focus");
    json_builder_begin_object (b);
    add_int (b, "position", (gint64) axis_now (&s->focus));
    add_moving (b, "moving", axis_moving (&s->focus, "near", "far"));
    json_builder_set_member_name (b, "mode");
    json_builder_add_string_value (b, s->focus_mode);
    add_int (b, "speed", s->focus_speed);
    json_builder_set_member_name (b, "auto_focusing");
    json_builder_add_boolean_value (b, s->focus_id != 0);
    add_int (b, "auto_focus_runs", s->autofocus_runs);
    json_builder_end_object (b);
  }
  if (s->present & TCD_HW_LIGHT) {
    json_builder_set_member_name (b, "light");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "on");
    json_builder_add_boolean_value (b, s->light_on);
    add_int (b, "brightness", s->light_on ? s->brightness : 0);
    json_builder_end_object (b);
  }
  if (s->present & TCD_HW_WIPER) {
    json_builder_set_member_name (b, "wiper");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "wiping");
    json_builder_add_boolean_value (b, s->wipe_id != 0);
    add_int (b, "wipes", s->wipes);
    add_int (b, "interval_s", s->wiper_interval_s);
    json_builder_set_member_name (b, "last_wipe");
    if (s->last_wipe) {
      g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (s->last_wipe / G_USEC_PER_SEC);
      g_autofree gchar *iso = g_date_time_format_iso8601 (t);
      json_builder_add_string_value (b, iso);
    } else {
      json_builder_add_null_value (b);
    }
    json_builder_end_object (b);
  }
  if (s->present & TCD_HW_VIDEO_OUTPUT) {
    json_builder_set_member_name (b, "video_output");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "on");
    json_builder_add_boolean_value (b, s->video_on);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
sim_free (gpointer data)
{
  Sim *s = data;

  g_clear_handle_id (&s->init_id, g_source_remove);
  g_clear_handle_id (&s->wipe_id, g_source_remove);
  g_clear_handle_id (&s->focus_id, g_source_remove);
  g_clear_handle_id (&s->interval_id, g_source_remove);
  g_free (s->iris_mode);
  g_free (s->focus_mode);
  g_free (s);
}

static const TcdHwBackend sim_backend = {
  "simulated", TRUE, sim_present, sim_apply, sim_action, sim_status, sim_free
};

/* ---- the front ---- */

struct _TcdHw {
  const TcdHwBackend *backend;
  gpointer data;
};

TcdHw *
tcd_hw_new (const gchar *backend, GError **error)
{
  const gchar *list = NULL;
  g_auto (GStrv) names = NULL;
  guint present = 0;
  Sim *s;
  TcdHw *hw;

  if (!backend || g_str_equal (backend, "simulated"))
    list = "";
  else if (g_str_has_prefix (backend, "simulated:"))
    list = backend + strlen ("simulated:");
  if (!list) {
    g_set_error (error, TCD_HW_ERROR, TCD_HW_ERROR_UNKNOWN,
        "unknown hardware backend '%s' (simulated[:lens,focus,light,wiper,video_output|all])",
        backend);
    return NULL;
  }
  names = g_strsplit (list, ",", -1);
  for (guint i = 0; names[i]; i++) {
    TcdHwFunction fn = tcd_hw_function_from_string (g_strstrip (names[i]));
    if (g_str_equal (names[i], "all")) {
      present = (1u << TCD_HW_N_FUNCTIONS) - 1;
    } else if (fn) {
      present |= fn;
    } else if (*names[i]) {
      g_set_error (error, TCD_HW_ERROR, TCD_HW_ERROR_UNKNOWN,
          "unknown hardware '%s' (lens, focus, light, wiper, video_output, all)", names[i]);
      return NULL;
    }
  }
  s = g_new0 (Sim, 1);
  s->present = present;
  s->zoom.max = s->focus.max = POS_MAX;
  s->iris.max = IRIS_MAX;
  s->iris.at = IRIS_MAX / 2;
  s->zoom.target = s->focus.target = s->iris.target = -1;
  s->zoom.since = s->focus.since = s->iris.since = g_get_monotonic_time ();
  s->iris_mode = g_strdup ("auto");
  s->focus_mode = g_strdup ("manual");
  hw = g_new0 (TcdHw, 1);
  hw->backend = &sim_backend;
  hw->data = s;
  return hw;
}

void
tcd_hw_free (TcdHw *hw)
{
  if (!hw)
    return;
  hw->backend->free (hw->data);
  g_free (hw);
}

void
tcd_hw_apply (TcdHw *hw, JsonNode *doc)
{
  JsonNode *sec = tcd_config_node (doc, "hardware");

  if (sec)
    hw->backend->apply (hw->data, sec);
}

gboolean
tcd_hw_action (TcdHw *hw, const gchar *function, const gchar *action, GError **error)
{
  TcdHwFunction fn = tcd_hw_function_from_string (function);

  if (!fn) {
    g_set_error (error, TCD_HW_ERROR, TCD_HW_ERROR_UNKNOWN,
        "no hardware function '%s' (lens, focus, light, wiper, video_output)", function);
    return FALSE;
  }
  if (!g_strv_contains (tcd_hw_actions (fn), action)) {
    g_autofree gchar *list = g_strjoinv (", ", (gchar **) tcd_hw_actions (fn));
    if (*list)
      g_set_error (error, TCD_HW_ERROR, TCD_HW_ERROR_UNKNOWN, "%s has no action '%s' (%s)",
          function, action, list);
    else
      g_set_error (error, TCD_HW_ERROR, TCD_HW_ERROR_UNKNOWN,
          "%s has no actions: its settings are hardware.%s", function, function);
    return FALSE;
  }
  if (!(hw->backend->present (hw->data) & fn)) {
    g_set_error (error, TCD_HW_ERROR, TCD_HW_ERROR_ABSENT,
        "this device has no %s (the %s backend): its settings are kept, it cannot act",
        fn == TCD_HW_LENS ? "motorized lens" : fn == TCD_HW_FOCUS ? "motorized focus"
        : function, hw->backend->name);
    return FALSE;
  }
  if (!hw->backend->action (hw->data, fn, action, error))
    return FALSE;
  g_message ("hardware: %s %s", function, action);
  return TRUE;
}

const gchar *
tcd_hw_backend_name (TcdHw *hw)
{
  return hw->backend->name;
}

JsonNode *
tcd_hw_presence (TcdHw *hw)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  guint present = hw->backend->present (hw->data);

  json_builder_begin_object (b);
  for (guint i = 0; i < TCD_HW_N_FUNCTIONS; i++) {
    json_builder_set_member_name (b, fn_names[i]);
    json_builder_add_boolean_value (b, (present >> i) & 1);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
tcd_hw_status (TcdHw *hw)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) st = hw->backend->status (hw->data);
  JsonObject *o = json_node_get_object (st);
  guint present = hw->backend->present (hw->data);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "backend");
  json_builder_add_string_value (b, hw->backend->name);
  json_builder_set_member_name (b, "simulated");
  json_builder_add_boolean_value (b, hw->backend->simulated);
  json_builder_set_member_name (b, "present");
  json_builder_add_value (b, tcd_hw_presence (hw));
  json_builder_set_member_name (b, "actions");
  json_builder_begin_object (b);
  for (guint i = 0; i < TCD_HW_N_FUNCTIONS; i++) {
    const gchar * const *a = tcd_hw_actions (1u << i);
    json_builder_set_member_name (b, fn_names[i]);
    json_builder_begin_array (b);
    for (guint k = 0; (present >> i) & 1 && a[k]; k++)
      json_builder_add_string_value (b, a[k]);
    json_builder_end_array (b);
  }
  json_builder_end_object (b);
  for (guint i = 0; i < TCD_HW_N_FUNCTIONS; i++) {
    JsonNode *m = json_object_get_member (o, fn_names[i]);
    json_builder_set_member_name (b, fn_names[i]);
    if (m)
      json_builder_add_value (b, json_node_copy (m));
    else
      json_builder_add_null_value (b);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
