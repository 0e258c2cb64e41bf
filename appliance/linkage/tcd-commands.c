/* thermocamd: the commands several protocols offer
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-commands.h"

#include <glib/gstdio.h>
#include <errno.h>

#include "tcd-certs.h"

struct _TcdCommands {
  TcdChange *change;
  TcdSecurity *security;
  TcdUsers *users;
  TcdPipeline *pipeline;
  TcdEvents *events;
  gchar *state_dir;
  TcdCommandsHooks hooks;
  gint64 last_ffc;              /* monotonic us; 0: none yet */
};

static const gchar *
user_of (const TcdOrigin *o)
{
  return o ? o->user : NULL;
}

static const gchar *
address_of (const TcdOrigin *o)
{
  return o ? o->address : NULL;
}

TcdCommands *
tcd_commands_new (TcdChange *change, TcdSecurity *security, TcdUsers *users,
    TcdPipeline *pipeline, TcdEvents *events, const gchar *state_dir)
{
  TcdCommands *c = g_new0 (TcdCommands, 1);

  c->change = change;
  c->security = security;
  c->users = users;
  c->pipeline = pipeline;
  c->events = events;
  c->state_dir = g_strdup (state_dir);
  return c;
}

void
tcd_commands_free (TcdCommands *c)
{
  if (!c)
    return;
  g_free (c->state_dir);
  g_free (c);
}

void
tcd_commands_set_hooks (TcdCommands *c, const TcdCommandsHooks *hooks)
{
  c->hooks = *hooks;
}

gboolean
tcd_commands_ffc (TcdCommands *c, const TcdOrigin *origin, gint64 *wait_us)
{
  gint64 now = g_get_monotonic_time ();

  /* one that follows the last too soon is answered but not repeated: a
   * correction freezes the picture, and a master writing its coils every
   * cycle must not freeze it for good */
  if (c->last_ffc && now - c->last_ffc < TCD_FFC_MIN_US) {
    if (wait_us)
      *wait_us = c->last_ffc + TCD_FFC_MIN_US - now;
    return FALSE;
  }
  c->last_ffc = now;
  tcd_pipeline_ffc (c->pipeline);
  tcd_audit (c->security, "system", user_of (origin), address_of (origin),
      "flat-field correction");
  return TRUE;
}

gboolean
tcd_commands_background (TcdCommands *c, const TcdOrigin *origin, gint64 *wait_us)
{
  gint64 now = g_get_monotonic_time ();

  if (c->last_ffc && now - c->last_ffc < TCD_FFC_MIN_US) {
    if (wait_us)
      *wait_us = c->last_ffc + TCD_FFC_MIN_US - now;
    return FALSE;
  }
  c->last_ffc = now;
  tcd_pipeline_background_correction (c->pipeline);
  tcd_audit (c->security, "system", user_of (origin), address_of (origin),
      "background correction");
  return TRUE;
}

gboolean
tcd_commands_output (TcdCommands *c, guint id, gboolean on, gboolean if_changes,
    const TcdOrigin *origin, GError **error)
{
  TcdAlarmIo *io = tcd_events_get_io (c->events);

  /* 1 to an output already triggered by hand, 0 to one that is off: nothing
   * to do.  1 to one an alarm holds on does trigger it, so that it stays on
   * when the alarm ends. */
  if (if_changes && (on ? tcd_alarmio_is_manual (io, id)
          : !((tcd_alarmio_output_bits (io) >> (id - 1)) & 1)))
    return FALSE;
  if (!(on ? tcd_alarmio_trigger (io, id, error) : tcd_alarmio_clear (io, id, error)))
    return FALSE;
  tcd_audit (c->security, "system", user_of (origin), address_of (origin),
      "alarm output %u %s by hand", id, on ? "triggered" : "cleared");
  return TRUE;
}

static gboolean
restore (TcdCommands *c, gboolean factory, const gchar * const *keep, const TcdOrigin *origin,
    GError **error)
{
  TcdConfig *config = tcd_change_get_config (c->change);
  TcdOrigin o = origin ? *origin : (TcdOrigin) { 0 };
  g_autofree gchar *picture = NULL;
  JsonNode *doc = tcd_config_defaults (config, !factory);
  guint captures, recordings;

  /* the sections the caller may not change stay as they are */
  for (; keep && *keep; keep++)
    if (tcd_config_node (tcd_config_get (config), *keep))
      json_object_set_member (json_node_get_object (doc), *keep,
          tcd_json_deep_copy (tcd_config_node (tcd_config_get (config), *keep)));
  o.what = factory ? "default" : "restore";
  if (!tcd_change_commit (c->change, doc, &o, TCD_CHANGE_NONE, NULL, error))
    return FALSE;
  if (!factory) {
    tcd_audit (c->security, "system", o.user, o.address,
        keep && *keep ? "restored the defaults (ports, security, users and the"
        " administrator's sections kept)" : "restored the defaults (ports, security and users kept)");
    return TRUE;
  }
  if (!tcd_users_reset (c->users, error))
    return FALSE;
  /* the old accounts are gone: their sessions and credentials go now,
   * whatever fails below */
  if (c->hooks.factory_reset)
    c->hooks.factory_reset (c->hooks.user_data);
  tcd_change_users_changed (c->change, &o);
  /* factory state (manual 10.5): what the device was given or made goes
   * too; the audit log, the serial number and the calibration stay */
  if (tcd_record_is_recording (tcd_events_get_record (c->events)))
    tcd_record_stop (tcd_events_get_record (c->events));
  captures = tcd_store_clear (tcd_events_get_captures (c->events));
  recordings = tcd_store_clear (tcd_events_get_recordings (c->events));
  if (!tcd_certs_delete (c->state_dir, error))
    return FALSE;
  if (c->hooks.certificate_changed)
    c->hooks.certificate_changed (c->hooks.user_data);
  picture = g_build_filename (c->state_dir, "overlay.bmp", NULL);
  if (g_unlink (picture) == 0)
    tcd_pipeline_reload_picture (c->pipeline);
  tcd_audit (c->security, "system", o.user, o.address,
      "factory default: everything reset, users, certificate, overlay picture, %u"
      " captures and %u recordings removed", captures, recordings);
  return TRUE;
}

gboolean
tcd_commands_restore (TcdCommands *c, gboolean factory, const TcdOrigin *origin,
    GError **error)
{
  return restore (c, factory, NULL, origin, error);
}

gboolean
tcd_commands_restore_keeping (TcdCommands *c, const gchar * const *keep,
    const TcdOrigin *origin, GError **error)
{
  return restore (c, FALSE, keep, origin, error);
}

void
tcd_commands_reboot (TcdCommands *c, const TcdOrigin *origin)
{
  tcd_audit (c->security, "reboot", user_of (origin), address_of (origin),
      "reboot requested");
  if (c->hooks.reboot)
    c->hooks.reboot (c->hooks.user_data);
}

gboolean
tcd_commands_activate (TcdCommands *c, const gchar *password, const TcdOrigin *origin,
    GError **error)
{
  if (!tcd_users_activate (c->users, password, error))
    return FALSE;
  tcd_change_users_changed (c->change, origin);
  tcd_audit (c->security, "user", "admin", address_of (origin),
      "activated: the account admin was created");
  return TRUE;
}
