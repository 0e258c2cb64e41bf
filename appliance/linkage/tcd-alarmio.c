/* thermocamd: alarm inputs (manual 4.1) and alarm outputs (manual 5.2.1)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-alarmio.h"

#include "tcd-config.h"
#include "tc-json.h"

G_DEFINE_QUARK (tcd-alarmio-error-quark, tcd_alarmio_error)

typedef struct {
  guint8 relays;                /* bit i: relay i on */
  guint8 contacts;              /* bit i: contact i closed */
} SimBackend;

static void
sim_set_output (gpointer data, guint index, gboolean on)
{
  SimBackend *b = data;
  if (on)
    b->relays |= 1u << index;
  else
    b->relays &= ~(1u << index);
}

static gboolean
sim_get_input (gpointer data, guint index)
{
  SimBackend *b = data;
  return (b->contacts >> index) & 1;
}

static const TcdIoBackend sim_backend = {
  "simulated", TRUE, sim_set_output, sim_get_input
};

typedef struct {
  gchar *name;
  gboolean enabled, nc;
  gboolean alarm;
} Input;

typedef struct {
  gchar *name;
  guint delay;                  /* s; 0: until cleared */
  GHashTable *sources;          /* linked events in progress */
  gboolean manual, latched;
  gint64 until;                 /* monotonic us the hold ends, 0: none */
  guint timer;
  gboolean on;
} Output;

struct _TcdAlarmIo {
  const TcdIoBackend *backend;
  gpointer backend_data;
  SimBackend sim;
  gboolean handling;            /* alarm_inputs.enabled */
  Input in[TCD_IO_CHANNELS];
  Output out[TCD_IO_CHANNELS];
  gint in_bits, out_bits;       /* atomics, for the Modbus threads */
  TcdAlarmIoInputFunc on_input;
  TcdAlarmIoOutputFunc on_output;
  gpointer user_data;
};

TcdAlarmIo *
tcd_alarmio_new (void)
{
  TcdAlarmIo *io = g_new0 (TcdAlarmIo, 1);

  io->backend = &sim_backend;
  io->backend_data = &io->sim;
  io->handling = TRUE;
  for (guint i = 0; i < TCD_IO_CHANNELS; i++) {
    io->in[i].name = g_strdup_printf ("Alarm Input %u", i + 1);
    io->out[i].name = g_strdup_printf ("Alarm Output %u", i + 1);
    io->out[i].delay = 5;
    io->out[i].sources = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  }
  return io;
}

void
tcd_alarmio_free (TcdAlarmIo *io)
{
  if (!io)
    return;
  for (guint i = 0; i < TCD_IO_CHANNELS; i++) {
    g_free (io->in[i].name);
    g_free (io->out[i].name);
    g_clear_handle_id (&io->out[i].timer, g_source_remove);
    g_hash_table_unref (io->out[i].sources);
  }
  g_free (io);
}

void
tcd_alarmio_set_funcs (TcdAlarmIo *io, TcdAlarmIoInputFunc on_input,
    TcdAlarmIoOutputFunc on_output, gpointer user_data)
{
  io->on_input = on_input;
  io->on_output = on_output;
  io->user_data = user_data;
}

/* ---- outputs ---- */

static gboolean hold_done (gpointer user_data);

static void
update_output (TcdAlarmIo *io, guint i, const gchar *why)
{
  Output *o = &io->out[i];
  gint64 now = g_get_monotonic_time ();
  gboolean on;

  if (o->until && o->until <= now)
    o->until = 0;
  on = o->manual || o->latched || g_hash_table_size (o->sources) > 0 || o->until > 0;
  g_clear_handle_id (&o->timer, g_source_remove);
  if (o->until > 0)
    o->timer = g_timeout_add ((guint) ((o->until - now + 999) / 1000), hold_done, io);
  if (on == o->on)
    return;
  o->on = on;
  io->backend->set_output (io->backend_data, i, on);
  if (on)
    g_atomic_int_or ((guint *) &io->out_bits, 1u << i);
  else
    g_atomic_int_and ((guint *) &io->out_bits, ~(1u << i));
  g_message ("alarm output %u (%s) %s: %s", i + 1, o->name, on ? "on" : "off", why);
  if (io->on_output)
    io->on_output (i + 1, o->name, on, why, io->user_data);
}

static gboolean
hold_done (gpointer user_data)
{
  TcdAlarmIo *io = user_data;
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < TCD_IO_CHANNELS; i++) {
    Output *o = &io->out[i];
    if (o->timer && g_main_current_source ()
        && g_source_get_id (g_main_current_source ()) == o->timer) {
      o->timer = 0;
      if (o->until && o->until <= now + 1000)
        o->until = 0;
      update_output (io, i, "hold delay over");
    }
  }
  return G_SOURCE_REMOVE;
}

void
tcd_alarmio_link (TcdAlarmIo *io, guint id, const gchar *source, gboolean active)
{
  Output *o;

  if (id < 1 || id > TCD_IO_CHANNELS)
    return;
  o = &io->out[id - 1];
  if (active) {
    g_hash_table_add (o->sources, g_strdup (source));
    if (o->delay == 0)
      o->latched = TRUE;
  } else if (g_hash_table_remove (o->sources, source) && o->delay > 0) {
    o->until = g_get_monotonic_time () + (gint64) o->delay * G_USEC_PER_SEC;
  }
  {
    g_autofree gchar *why = g_strdup_printf ("%s %s", source, active ? "started" : "ended");
    update_output (io, id - 1, why);
  }
}

void
tcd_alarmio_prune (TcdAlarmIo *io, TcdAlarmIoLinkedFunc still, gpointer user_data)
{
  for (guint i = 0; i < TCD_IO_CHANNELS; i++) {
    Output *o = &io->out[i];
    GHashTableIter it;
    gpointer key;
    gboolean gone = FALSE;

    g_hash_table_iter_init (&it, o->sources);
    while (g_hash_table_iter_next (&it, &key, NULL))
      if (!still (i + 1, key, user_data)) {
        g_hash_table_iter_remove (&it);
        gone = TRUE;
      }
    if (gone) {
      if (o->delay > 0)
        o->until = g_get_monotonic_time () + (gint64) o->delay * G_USEC_PER_SEC;
      update_output (io, i, "no longer linked");
    }
  }
}

static gboolean
check_id (guint id, const gchar *what, GError **error)
{
  if (id >= 1 && id <= TCD_IO_CHANNELS)
    return TRUE;
  g_set_error (error, TCD_ALARMIO_ERROR, TCD_ALARMIO_ERROR_NO_CHANNEL,
      "there is no alarm %s %u (1..%u)", what, id, TCD_IO_CHANNELS);
  return FALSE;
}

gboolean
tcd_alarmio_trigger (TcdAlarmIo *io, guint id, GError **error)
{
  if (!check_id (id, "output", error))
    return FALSE;
  io->out[id - 1].manual = TRUE;
  update_output (io, id - 1, "triggered by hand");
  return TRUE;
}

gboolean
tcd_alarmio_clear (TcdAlarmIo *io, guint id, GError **error)
{
  Output *o;

  if (!check_id (id, "output", error))
    return FALSE;
  o = &io->out[id - 1];
  o->manual = FALSE;
  o->latched = FALSE;
  o->until = 0;
  /* events still in progress trigger it again when they repeat or restart */
  g_hash_table_remove_all (o->sources);
  update_output (io, id - 1, "cleared by hand");
  return TRUE;
}

/* ---- inputs ---- */

static void
update_input (TcdAlarmIo *io, guint i)
{
  Input *in = &io->in[i];
  gboolean closed = io->backend->get_input (io->backend_data, i);
  gboolean alarm = io->handling && in->enabled && (in->nc ? !closed : closed);

  if (alarm == in->alarm)
    return;
  in->alarm = alarm;
  if (alarm)
    g_atomic_int_or ((guint *) &io->in_bits, 1u << i);
  else
    g_atomic_int_and ((guint *) &io->in_bits, ~(1u << i));
  g_message ("alarm input %u (%s): %s", i + 1, in->name, alarm ? "alarm" : "normal");
  if (io->on_input)
    io->on_input (i + 1, in->name, alarm, io->user_data);
}

gboolean
tcd_alarmio_set_contact (TcdAlarmIo *io, guint id, gboolean closed, GError **error)
{
  if (!check_id (id, "input", error))
    return FALSE;
  if (!io->backend->simulated) {
    g_set_error (error, TCD_ALARMIO_ERROR, TCD_ALARMIO_ERROR_NOT_SIMULATED,
        "the %s backend reads real contacts", io->backend->name);
    return FALSE;
  }
  if (closed)
    io->sim.contacts |= 1u << (id - 1);
  else
    io->sim.contacts &= ~(1u << (id - 1));
  update_input (io, id - 1);
  return TRUE;
}

void
tcd_alarmio_apply (TcdAlarmIo *io, JsonNode *doc)
{
  JsonArray *ins = json_node_get_array (tcd_config_node (doc, "alarm_inputs.inputs"));
  JsonArray *outs = json_node_get_array (tcd_config_node (doc, "alarm_outputs.outputs"));

  io->handling = json_node_get_boolean (tcd_config_node (doc, "alarm_inputs.enabled"));
  for (guint k = 0; k < json_array_get_length (ins); k++) {
    JsonObject *o = tc_json_array_get_object (ins, k);
    Input *in = &io->in[tc_json_get_int (o, "id", 0) - 1];
    g_free (in->name);
    in->name = g_strdup (tc_json_get_string (o, "name", NULL));
    in->enabled = tc_json_get_bool (o, "enabled", FALSE);
    in->nc = g_strcmp0 (tc_json_get_string (o, "type", "NO"),
        "NC") == 0;
  }
  for (guint k = 0; k < json_array_get_length (outs); k++) {
    JsonObject *o = tc_json_array_get_object (outs, k);
    Output *out = &io->out[tc_json_get_int (o, "id", 0) - 1];
    g_free (out->name);
    out->name = g_strdup (tc_json_get_string (o, "name", NULL));
    out->delay = tc_json_get_int (o, "delay", 5);
  }
  for (guint i = 0; i < TCD_IO_CHANNELS; i++)
    update_input (io, i);
}

guint
tcd_alarmio_output_bits (TcdAlarmIo *io)
{
  return io ? (guint) g_atomic_int_get (&io->out_bits) : 0;
}

gboolean
tcd_alarmio_is_manual (TcdAlarmIo *io, guint id)
{
  return io && id >= 1 && id <= G_N_ELEMENTS (io->out) && io->out[id - 1].manual;
}

guint
tcd_alarmio_input_bits (TcdAlarmIo *io)
{
  return io ? (guint) g_atomic_int_get (&io->in_bits) : 0;
}

JsonNode *
tcd_alarmio_status (TcdAlarmIo *io)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gint64 now = g_get_monotonic_time ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "backend");
  json_builder_add_string_value (b, io->backend->name);
  json_builder_set_member_name (b, "simulated");
  json_builder_add_boolean_value (b, io->backend->simulated);
  json_builder_set_member_name (b, "handling");
  json_builder_add_boolean_value (b, io->handling);
  json_builder_set_member_name (b, "inputs");
  json_builder_begin_array (b);
  for (guint i = 0; i < TCD_IO_CHANNELS; i++) {
    Input *in = &io->in[i];
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, i + 1);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, in->name);
    json_builder_set_member_name (b, "type");
    json_builder_add_string_value (b, in->nc ? "NC" : "NO");
    json_builder_set_member_name (b, "enabled");
    json_builder_add_boolean_value (b, in->enabled);
    json_builder_set_member_name (b, "contact");
    json_builder_add_string_value (b, io->backend->get_input (io->backend_data, i)
        ? "closed" : "open");
    json_builder_set_member_name (b, "alarm");
    json_builder_add_boolean_value (b, in->alarm);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "outputs");
  json_builder_begin_array (b);
  for (guint i = 0; i < TCD_IO_CHANNELS; i++) {
    Output *o = &io->out[i];
    GHashTableIter it;
    gpointer key;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, i + 1);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, o->name);
    json_builder_set_member_name (b, "delay");
    json_builder_add_int_value (b, o->delay);
    json_builder_set_member_name (b, "on");
    json_builder_add_boolean_value (b, o->on);
    json_builder_set_member_name (b, "manual");
    json_builder_add_boolean_value (b, o->manual);
    json_builder_set_member_name (b, "sources");
    json_builder_begin_array (b);
    g_hash_table_iter_init (&it, o->sources);
    while (g_hash_table_iter_next (&it, &key, NULL))
      json_builder_add_string_value (b, key);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "hold_s");
    json_builder_add_double_value (b, o->until > now ? (o->until - now) / 1e6 : 0);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
