/* thermocamd: UPnP port mapping (libminiupnpc in a worker)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-upnp.h"

#include <string.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include "tc-json.h"
#include "tcd-json.h"

#define DISCOVER_MS 2000
#define MIN_RENEW_S 15
#define RETRY_S 60              /* no IGD, or a mapping refused: tried again */
#define MAX_MAPPINGS 8

typedef struct {
  gchar name[16];               /* "http" */
  gchar proto[4];               /* "TCP", "UDP" */
  guint internal, external;
  /* out */
  gboolean ok;
  gchar *error;
} Mapping;

/* one sync: what the worker is given and gives back (the task's data) */
typedef struct {
  gchar *multicastif, *desc;
  guint lease_s;
  Mapping want[MAX_MAPPINGS];
  guint n_want;
  Mapping drop[MAX_MAPPINGS * 2];
  guint n_drop;
  /* the IGD, when known (kept between syncs) */
  gchar *control_url, *service_type, *lan_address;
  /* out */
  gchar *external_address, *error;
  gboolean igd_lost;            /* an HTTP error: discover again next time */
} Job;

struct _TcdUpnp {
  TcdContext *ctx;
  JsonNode *cfg;                /* the upnp section last synced (a copy) */
  gboolean running, again;
  guint timer;
  gchar *control_url, *service_type, *lan_address, *external_address, *last_error;
  Mapping mapped[MAX_MAPPINGS]; /* made on the router now */
  guint n_mapped;
  Mapping last[MAX_MAPPINGS];   /* the last sync's wanted ones, with their outcome */
  guint n_last;
  gint64 synced_at;             /* real time, us */
  guint64 syncs, renewals;
  const gchar *state;
};

static void job_free (Job *j)
{
  for (guint i = 0; i < j->n_want; i++)
    g_free (j->want[i].error);
  for (guint i = 0; i < j->n_drop; i++)
    g_free (j->drop[i].error);
  g_free (j->multicastif);
  g_free (j->desc);
  g_free (j->control_url);
  g_free (j->service_type);
  g_free (j->lan_address);
  g_free (j->external_address);
  g_free (j->error);
  g_free (j);
}

/* ---- the worker (blocking calls) ---- */

static gboolean
discover (Job *j)
{
  struct UPNPUrls urls = { 0 };
  struct IGDdatas data;
  struct UPNPDev *devs;
  gchar lan[64] = "";
  gint err = 0, r;

  memset (&data, 0, sizeof data);
  devs = upnpDiscover (DISCOVER_MS, j->multicastif && *j->multicastif ? j->multicastif : NULL,
      NULL, 0, 0, 2, &err);
  if (!devs) {
    j->error = g_strdup_printf ("no UPnP device answered (SSDP, %d ms)", DISCOVER_MS);
    return FALSE;
  }
  r = UPNP_GetValidIGD (devs, &urls, &data, lan, sizeof lan);
  freeUPNPDevlist (devs);
  if (r != 1 && r != 2) {
    if (r)
      FreeUPNPUrls (&urls);
    j->error = g_strdup ("no Internet Gateway Device among the UPnP devices that answered");
    return FALSE;
  }
  j->control_url = g_strdup (urls.controlURL);
  j->service_type = g_strdup (data.first.servicetype);
  j->lan_address = g_strdup (lan);
  FreeUPNPUrls (&urls);
  return TRUE;
}

static void
sync_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  Job *j = data;
  gchar ext[64] = "";

  if (!j->control_url && !discover (j))
    return;
  for (guint i = 0; i < j->n_drop; i++) {
    gchar port[8];
    g_snprintf (port, sizeof port, "%u", j->drop[i].external);
    UPNP_DeletePortMapping (j->control_url, j->service_type, port, j->drop[i].proto, NULL);
  }
  for (guint i = 0; i < j->n_want; i++) {
    Mapping *m = &j->want[i];
    gchar in[8], out[8], lease[16];
    g_autofree gchar *desc = g_strdup_printf ("%s %s", j->desc, m->name);
    gint r;

    g_snprintf (in, sizeof in, "%u", m->internal);
    g_snprintf (out, sizeof out, "%u", m->external);
    g_snprintf (lease, sizeof lease, "%u", j->lease_s);
    r = UPNP_AddPortMapping (j->control_url, j->service_type, out, in, j->lan_address, desc,
        m->proto, NULL, lease);
    if (r == 725)               /* OnlyPermanentLeasesSupported */
      r = UPNP_AddPortMapping (j->control_url, j->service_type, out, in, j->lan_address, desc,
          m->proto, NULL, "0");
    m->ok = r == UPNPCOMMAND_SUCCESS;
    if (!m->ok) {
      m->error = g_strdup_printf ("%d %s", r, strupnperror (r) ? strupnperror (r) : "");
      if (r == UPNPCOMMAND_HTTP_ERROR || r == UPNPCOMMAND_INVALID_RESPONSE)
        j->igd_lost = TRUE;
    }
  }
  if (UPNP_GetExternalIPAddress (j->control_url, j->service_type, ext) == UPNPCOMMAND_SUCCESS)
    j->external_address = g_strdup (ext);
  else if (j->n_want)
    j->igd_lost = TRUE;
}

/* ---- the main loop ---- */

static void sync_now (TcdUpnp *u);

static gboolean
on_timer (gpointer data)
{
  TcdUpnp *u = data;

  u->timer = 0;
  u->renewals++;
  sync_now (u);
  return G_SOURCE_REMOVE;
}

static JsonObject *
cfg (TcdUpnp *u)
{
  return u->cfg && JSON_NODE_HOLDS_OBJECT (u->cfg) ? json_node_get_object (u->cfg) : NULL;
}

static void
sync_done (GObject *source, GAsyncResult *res, gpointer data)
{
  TcdUpnp *u = data;
  Job *j = g_task_get_task_data (G_TASK (res));
  JsonObject *c = cfg (u);
  gboolean on = c && tc_json_get_bool (c, "enabled", FALSE);
  guint failed = 0, renew;

  u->running = FALSE;
  u->syncs++;
  u->synced_at = g_get_real_time ();
  g_clear_pointer (&u->last_error, g_free);
  for (guint i = 0; i < u->n_last; i++)
    g_clear_pointer (&u->last[i].error, g_free);
  u->n_last = 0;
  if (j->error) {
    u->last_error = g_strdup (j->error);
    u->state = "no_igd";
    g_message ("UPnP: %s", j->error);
  } else {
    if (!u->control_url) {
      u->control_url = g_strdup (j->control_url);
      u->service_type = g_strdup (j->service_type);
      u->lan_address = g_strdup (j->lan_address);
      g_message ("UPnP: the Internet Gateway Device at %s (this device: %s)", u->control_url,
          u->lan_address);
    }
    g_free (u->external_address);
    u->external_address = g_strdup (j->external_address);
    u->n_mapped = 0;
    for (guint i = 0; i < j->n_want; i++) {
      u->last[u->n_last] = j->want[i];
      u->last[u->n_last++].error = g_strdup (j->want[i].error);
      if (j->want[i].ok)
        u->mapped[u->n_mapped++] = j->want[i];
      else
        failed++;
    }
    for (guint i = 0; i < u->n_mapped; i++)
      u->mapped[i].error = NULL;
    if (failed) {
      u->last_error = g_strdup_printf ("%u mapping(s) refused by the router", failed);
      g_message ("UPnP: %s", u->last_error);
    }
    u->state = !on ? "off" : failed == 0 ? "mapped" : u->n_mapped ? "partial" : "refused";
  }
  if (j->igd_lost) {
    g_clear_pointer (&u->control_url, g_free);
    g_clear_pointer (&u->service_type, g_free);
    g_clear_pointer (&u->lan_address, g_free);
  }
  if (on) {
    renew = MAX (MIN_RENEW_S, (guint) tc_json_get_int (c, "lease_s", 3600) / 2);
    if (j->error || failed)
      renew = MIN (renew, RETRY_S);
    g_clear_handle_id (&u->timer, g_source_remove);
    u->timer = g_timeout_add_seconds (renew, on_timer, u);
  }
  if (u->again) {
    u->again = FALSE;
    sync_now (u);
  }
}

static const struct {
  const gchar *name, *proto;
} port_protos[] = {
  { "http", "TCP" }, { "https", "TCP" }, { "rtsp", "TCP" }, { "srtp", "TCP" },
  { "modbus", "TCP" }, { "snmp", "UDP" }, { "server", "TCP" },
};

static const gchar *
proto_of (const gchar *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (port_protos); i++)
    if (g_str_equal (port_protos[i].name, name))
      return port_protos[i].proto;
  return NULL;
}

/* the job of the configuration now: the mappings wanted (the enabled
 * entries whose port is in use), those made that are no longer wanted */
static Job *
job_new (TcdUpnp *u)
{
  Job *j = g_new0 (Job, 1);
  JsonObject *c = cfg (u);
  gboolean on = c && tc_json_get_bool (c, "enabled", FALSE);
  gboolean manual = c && g_strcmp0 (tc_json_get_string (c, "mode", "auto"), "manual") == 0;
  JsonNode *ms = c ? json_object_get_member (c, "mappings") : NULL;
  const gchar *name = c ? tc_json_get_string (c, "friendly_name", "") : "";

  j->multicastif = g_strdup (c ? tc_json_get_string (c, "discovery_address", "") : "");
  j->desc = *name ? g_strdup (name) : g_strdup_printf ("thermocam %s", u->ctx->serial);
  j->lease_s = c ? (guint) tc_json_get_int (c, "lease_s", 3600) : 3600;
  j->control_url = g_strdup (u->control_url);
  j->service_type = g_strdup (u->service_type);
  j->lan_address = g_strdup (u->lan_address);
  for (guint i = 0; on && ms && JSON_NODE_HOLDS_ARRAY (ms)
      && i < json_array_get_length (json_node_get_array (ms)) && j->n_want < MAX_MAPPINGS; i++) {
    JsonObject *m = tc_json_array_get_object (json_node_get_array (ms), i);
    const gchar *port = m ? tc_json_get_string (m, "port", "") : "";
    const gchar *proto = proto_of (port);
    guint internal = proto ? tcd_services_port (u->ctx->services, port) : 0;
    Mapping *w;

    if (!m || !proto || !internal || !tc_json_get_bool (m, "enabled", TRUE))
      continue;
    w = &j->want[j->n_want++];
    g_strlcpy (w->name, port, sizeof w->name);
    g_strlcpy (w->proto, proto, sizeof w->proto);
    w->internal = internal;
    w->external = manual && tc_json_get_int (m, "external_port", 0) > 0
        ? (guint) tc_json_get_int (m, "external_port", 0) : internal;
  }
  for (guint i = 0; i < u->n_mapped; i++) {
    gboolean kept = FALSE;
    for (guint k = 0; k < j->n_want; k++)
      kept |= j->want[k].external == u->mapped[i].external
          && g_str_equal (j->want[k].proto, u->mapped[i].proto);
    if (!kept)
      j->drop[j->n_drop++] = u->mapped[i];
  }
  return j;
}

static void
sync_now (TcdUpnp *u)
{
  GTask *task;
  Job *j;

  if (u->running) {
    u->again = TRUE;
    return;
  }
  j = job_new (u);
  if (j->n_want == 0 && j->n_drop == 0) {
    job_free (j);
    g_clear_handle_id (&u->timer, g_source_remove);
    u->n_mapped = 0;
    u->state = "off";
    return;
  }
  u->running = TRUE;
  if (g_strcmp0 (u->state, "mapped") != 0)
    u->state = u->control_url ? "mapping" : "discovering";
  task = g_task_new (NULL, NULL, sync_done, u);
  g_task_set_task_data (task, j, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, sync_thread);
  g_object_unref (task);
}

TcdUpnp *
tcd_upnp_new (TcdContext *ctx)
{
  TcdUpnp *u = g_new0 (TcdUpnp, 1);

  u->ctx = ctx;
  u->state = "off";
  return u;
}

void
tcd_upnp_apply (TcdUpnp *u, JsonNode *doc)
{
  JsonNode *sec = tcd_config_node (doc, "upnp");

  g_clear_pointer (&u->cfg, json_node_unref);
  u->cfg = sec ? tcd_json_deep_copy (sec) : NULL;
  sync_now (u);
}

void
tcd_upnp_stop (TcdUpnp *u)
{
  Job *j;
  GTask *task;

  g_clear_handle_id (&u->timer, g_source_remove);
  if (!u->n_mapped || !u->control_url)
    return;
  /* the removals, waited for (a worker could outlive the daemon) */
  j = g_new0 (Job, 1);
  j->control_url = g_strdup (u->control_url);
  j->service_type = g_strdup (u->service_type);
  j->lan_address = g_strdup (u->lan_address);
  for (guint i = 0; i < u->n_mapped; i++)
    j->drop[j->n_drop++] = u->mapped[i];
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, j, (GDestroyNotify) job_free);
  g_task_run_in_thread_sync (task, sync_thread);
  g_object_unref (task);
  u->n_mapped = 0;
  u->state = "off";
  g_message ("UPnP: the mappings are removed");
}

JsonNode *
tcd_upnp_stats (TcdUpnp *u)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  JsonObject *c = cfg (u);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, c && tc_json_get_bool (c, "enabled", FALSE));
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, u->state);
  json_builder_set_member_name (b, "igd");
  if (u->control_url)
    json_builder_add_string_value (b, u->control_url);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "local_address");
  if (u->lan_address)
    json_builder_add_string_value (b, u->lan_address);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "external_address");
  if (u->external_address && *u->external_address)
    json_builder_add_string_value (b, u->external_address);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "mappings");
  json_builder_begin_array (b);
  for (guint i = 0; i < u->n_last; i++) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "port");
    json_builder_add_string_value (b, u->last[i].name);
    json_builder_set_member_name (b, "protocol");
    json_builder_add_string_value (b, u->last[i].proto);
    json_builder_set_member_name (b, "internal_port");
    json_builder_add_int_value (b, u->last[i].internal);
    json_builder_set_member_name (b, "external_port");
    json_builder_add_int_value (b, u->last[i].external);
    json_builder_set_member_name (b, "state");
    json_builder_add_string_value (b, u->last[i].ok ? "mapped" : "failed");
    if (u->last[i].error) {
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, u->last[i].error);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "synced_at");
  if (u->synced_at) {
    g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (u->synced_at / G_USEC_PER_SEC);
    g_autofree gchar *iso = g_date_time_format_iso8601 (t);
    json_builder_add_string_value (b, iso);
  } else {
    json_builder_add_null_value (b);
  }
  json_builder_set_member_name (b, "syncs");
  json_builder_add_int_value (b, (gint64) u->syncs);
  json_builder_set_member_name (b, "renewals");
  json_builder_add_int_value (b, (gint64) u->renewals);
  json_builder_set_member_name (b, "last_error");
  if (u->last_error)
    json_builder_add_string_value (b, u->last_error);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
tcd_upnp_free (TcdUpnp *u)
{
  if (!u)
    return;
  tcd_upnp_stop (u);
  /* a sync still running holds @u: wait for it (bounded by its timeouts) */
  while (u->running)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < u->n_last; i++)
    g_free (u->last[i].error);
  g_clear_pointer (&u->cfg, json_node_unref);
  g_free (u->control_url);
  g_free (u->service_type);
  g_free (u->lan_address);
  g_free (u->external_address);
  g_free (u->last_error);
  g_free (u);
}
