/* thermocamd: the configuration document
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-config.h"
#include "tcd-certs.h"

#include "tcd-clock.h"
#include "tcd-error.h"
#include "tcd-json.h"
#include "tcd-schedule.h"
#include "tcd-security.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "tc-json.h"
#include "tc-rules-json.h"

/* the configuration file is some 20 KiB; more is not ours */
#define TCD_CONFIG_MAX_FILE (4 * 1024 * 1024)



struct _TcdConfig {
  gchar *path;
  TcSchema *schema;
  JsonNode *doc;
};

gchar *
tcd_json_to_string (JsonNode *node, gboolean pretty)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();

  g_autofree gchar *text = NULL;

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, pretty);
  text = json_generator_to_data (gen, NULL);
  /* each number as its quantity means it (tcd-json.h) */
  return tcd_json_tidy_numbers (text);
}

JsonNode *
tcd_config_node (JsonNode *doc, const gchar *path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  JsonNode *n = doc;

  for (guint i = 0; parts[i] && n; i++) {
    if (!JSON_NODE_HOLDS_OBJECT (n))
      return NULL;
    n = json_object_get_member (json_node_get_object (n), parts[i]);
  }
  return n;
}

/* the field a message of the form "path: what" names */
static gchar *
field_of_message (const gchar *msg)
{
  const gchar *colon = strstr (msg, ": ");

  return colon ? g_strndup (msg, colon - msg) : NULL;
}

static gboolean
fail_field (GError **error, gchar **field, const gchar *name, const gchar *what)
{
  if (field)
    *field = g_strdup (name);
  g_set_error (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, "%s: %s", name, what);
  return FALSE;
}

gint
tcd_config_sensor_fps (JsonNode *doc)
{
  JsonNode *n = tcd_config_node (doc, "image.video_standard");

  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
      && g_str_equal (json_node_get_string (n), "pal") ? 25 : 30;
}

static const gchar *stream_paths[] = { "video.main", "video.sub" };

gboolean
tcd_config_fit_frame_rates (JsonNode *doc)
{
  gint fps = tcd_config_sensor_fps (doc);
  gboolean changed = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (stream_paths); i++) {
    JsonNode *s = tcd_config_node (doc, stream_paths[i]);
    JsonObject *o = s && JSON_NODE_HOLDS_OBJECT (s) ? json_node_get_object (s) : NULL;
    JsonNode *r = o ? json_object_get_member (o, "frame_rate") : NULL;

    if (r && JSON_NODE_HOLDS_VALUE (r) && json_node_get_value_type (r) == G_TYPE_INT64
        && json_node_get_int (r) > fps) {
      json_object_set_int_member (o, "frame_rate", fps);
      changed = TRUE;
    }
  }
  return changed;
}

gboolean
tcd_config_check (TcdConfig *cfg, JsonNode *doc, gchar **field, GError **error)
{
  g_autoptr (GError) err = NULL;
  g_autofree TcRuleDef *rules = NULL;
  g_autofree TcComparisonDef *cmps = NULL;
  g_autofree gchar *rules_json = NULL, *cmps_json = NULL, *alarm_json = NULL;
  guint n_rules = 0, n_cmps = 0;
  TcAlarmConfig alarm;
  gboolean has_interval;
  JsonNode *n;

  /* kept and shown at the resolution each quantity has: checked so too
   * (two alarm levels a hair apart could otherwise become equal) */
  tcd_json_round_tree (doc);
  if (!tc_schema_validate (cfg->schema, NULL, doc, field, &err)) {
    g_set_error_literal (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, err->message);
    return FALSE;
  }
  /* what a schema cannot say: the measurement code's own checks (alarm
   * thresholds in order, unique ids, polygon sizes, comparison references) */
  rules_json = tcd_json_to_string (tcd_config_node (doc, "rules"), FALSE);
  if (!tc_rules_parse_json (rules_json, &rules, &n_rules, &err)
      || !(cmps_json = tcd_json_to_string (tcd_config_node (doc, "comparisons"), FALSE),
          tc_comparisons_parse_json (cmps_json, rules, n_rules, &cmps, &n_cmps, &err))) {
    if (field)
      *field = field_of_message (err->message);
    g_set_error_literal (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, err->message);
    return FALSE;
  }
  n = tcd_config_node (doc, "scene_alarm");
  alarm_json = tcd_json_to_string (n, FALSE);
  if (!tc_alarm_parse_json (alarm_json, &alarm, &has_interval, &err)) {
    g_autofree gchar *msg = g_strdup (err->message);
    /* the core names the field "alarm..." at the top: say "scene_alarm" */
    if (field)
      *field = field_of_message (msg);
    g_set_error_literal (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, msg);
    return FALSE;
  }
  /* a stream cannot have more frames than the sensor gives */
  for (guint i = 0; i < G_N_ELEMENTS (stream_paths); i++) {
    g_autofree gchar *f = g_strconcat (stream_paths[i], ".frame_rate", NULL);
    gint fps = tcd_config_sensor_fps (doc);
    if (json_node_get_int (tcd_config_node (doc, f)) > fps) {
      g_autofree gchar *m = g_strdup_printf ("at most %d fps, the sensor's rate under "
          "image.video_standard \"%s\"", fps,
          json_node_get_string (tcd_config_node (doc, "image.video_standard")));
      return fail_field (error, field, f, m);
    }
  }
  if (json_node_get_double (tcd_config_node (doc, "image.range.min"))
      >= json_node_get_double (tcd_config_node (doc, "image.range.max")))
    return fail_field (error, field, "image.range.max", "must be above image.range.min");
  {
    GTimeZone *tz = g_time_zone_new_identifier (json_node_get_string (tcd_config_node (doc,
                "time.timezone")));
    if (!tz)
      return fail_field (error, field, "time.timezone", "unknown time zone");
    g_time_zone_unref (tz);
  }
  {
    /* the DST rule must make a zone GLib reads (start and end apart) */
    g_autofree gchar *zone = NULL, *id = NULL;
    TcdDstRule rule;
    if (!tcd_clock_rule_from_config (tcd_config_node (doc, "time"), &zone, &rule, NULL)
        || !(id = tcd_clock_zone_identifier (zone, &rule, NULL)))
      return fail_field (error, field, "time.dst.end",
          "the DST start and end must be in different weeks");
  }
  {
    /* two servers cannot share a port: every number of the ports section
     * (the schema lists one per service) differs from the others */
    JsonNode *ports = tcd_config_node (doc, "ports");
    JsonObject *po = ports && JSON_NODE_HOLDS_OBJECT (ports) ? json_node_get_object (ports)
        : NULL;
    g_autoptr (GList) names = po ? json_object_get_members (po) : NULL;

    for (GList *a = names; a; a = a->next)
      for (GList *b = names; b != a; b = b->next)
        if (g_strcmp0 (tc_json_member_kind (po, a->data), "integer") == 0
            && g_strcmp0 (tc_json_member_kind (po, b->data), "integer") == 0
            && tc_json_get_int (po, a->data, -1) == tc_json_get_int (po, b->data, -2)) {
          g_autofree gchar *fa = g_strconcat ("ports.", (gchar *) a->data, NULL);
          g_autofree gchar *m = g_strdup_printf ("must differ from ports.%s",
              (gchar *) b->data);
          return fail_field (error, field, fa, m);
        }
  }
  {
    const gchar *a = json_node_get_string (tcd_config_node (doc, "ports.listen_address"));
    g_autoptr (GInetAddress) ia = a && *a ? g_inet_address_new_from_string (a) : NULL;
    if (a && *a && !ia)
      return fail_field (error, field, "ports.listen_address", "not an IP address");
  }
  {
    JsonNode *list = tcd_config_node (doc, "security.ip_filter.addresses");
    guint idx = 0;
    g_autoptr (GError) e = NULL;
    if (!tcd_ip_filter_check (json_node_get_array (list), &idx, &e)) {
      g_autofree gchar *f = g_strdup_printf ("security.ip_filter.addresses[%u]", idx);
      return fail_field (error, field, f, e->message);
    }
  }
  /* Modbus RTU frames are 8-bit binary; 7 data bits only carry ASCII (only
   * while the line is on: an older configuration with the line off loads) */
  if (json_node_get_boolean (tcd_config_node (doc, "rs485.enabled"))
      && json_node_get_int (tcd_config_node (doc, "rs485.data_bits")) != 8
      && g_strcmp0 (json_node_get_string (tcd_config_node (doc, "rs485.protocol")),
          "modbus-rtu") == 0)
    return fail_field (error, field, "rs485.data_bits", "modbus-rtu needs 8 data bits");
  /* arming schedules: periods in order and apart */
  if (!tcd_schedule_check_config (doc, field, error))
    return FALSE;
  /* alarm inputs and outputs: each channel once */
  {
    static const gchar *lists[] = { "alarm_inputs.inputs", "alarm_outputs.outputs" };
    for (guint l = 0; l < G_N_ELEMENTS (lists); l++) {
      JsonArray *a = json_node_get_array (tcd_config_node (doc, lists[l]));
      guint seen = 0;
      for (guint i = 0; i < json_array_get_length (a); i++) {
        gint64 id = tc_json_get_int (tc_json_array_get_object (a, i), "id", 0);
        if (seen & (1u << id)) {
          g_autofree gchar *f = g_strdup_printf ("%s[%u].id", lists[l], i);
          return fail_field (error, field, f, "each channel may appear once");
        }
        seen |= 1u << id;
      }
    }
  }
  return TRUE;
}

/* Names a member had before (section, old name, new name): accepted on
 * input and stored under the new name */
static const struct {
  const gchar *section, *old_name, *name;
} aliases[] = {
  {"thermometry", "alarm_interval", "alarm_interval_s"},
};

void
tcd_config_rename_aliases (JsonNode *node, const gchar *section)
{
  for (guint i = 0; node && i < G_N_ELEMENTS (aliases); i++) {
    JsonNode *sec = section ? (g_str_equal (section, aliases[i].section) ? node : NULL)
        : tcd_config_node (node, aliases[i].section);
    JsonObject *o;
    JsonNode *v;

    if (!sec || !JSON_NODE_HOLDS_OBJECT (sec))
      continue;
    o = json_node_get_object (sec);
    if (!(v = json_object_get_member (o, aliases[i].old_name)))
      continue;
    /* both given: the new name wins */
    if (!json_object_has_member (o, aliases[i].name))
      json_object_set_member (o, aliases[i].name, json_node_copy (v));
    json_object_remove_member (o, aliases[i].old_name);
  }
}

/* A file written before ports.server existed may use its default (8000)
 * for another server: the server port moves up to the next number no port
 * of the file has (two servers cannot share a port, and the file must not
 * be set aside for a member it never had) */
static void
fit_server_port (JsonNode *root, JsonNode *merged)
{
  JsonNode *had = tcd_config_node (root, "ports");
  JsonNode *ports = tcd_config_node (merged, "ports");
  JsonObject *po;
  gboolean moved = TRUE;
  gint64 server;

  if (!had || !JSON_NODE_HOLDS_OBJECT (had) || !ports || !JSON_NODE_HOLDS_OBJECT (ports)
      || json_object_has_member (json_node_get_object (had), "server"))
    return;
  po = json_node_get_object (ports);
  server = tc_json_get_int (po, "server", 8000);
  while (moved && server < 65535) {
    g_autoptr (GList) names = json_object_get_members (po);
    moved = FALSE;
    for (GList *l = names; l && !moved; l = l->next)
      if (!g_str_equal (l->data, "server")
          && g_strcmp0 (tc_json_member_kind (po, l->data), "integer") == 0
          && tc_json_get_int (po, l->data, -1) == server)
        moved = TRUE;
    if (moved)
      server++;
  }
  json_object_set_int_member (po, "server", server);
}

static JsonNode *
load_file (TcdConfig *cfg, JsonNode *defaults)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *field = NULL;
  JsonNode *merged;

  if (!g_file_test (cfg->path, G_FILE_TEST_EXISTS))
    return NULL;
  if (!(root = tc_json_parse_file (cfg->path, TCD_CONFIG_MAX_FILE, TC_JSON_MAX_DEPTH, &err))) {
    g_warning ("%s; starting from the defaults", err->message);
    return NULL;
  }
  /* fields added since the file was written get their defaults; renamed
   * ones their new names */
  tcd_config_rename_aliases (root, NULL);
  /* the 802.1X certificates of an older file go to the certificate store */
  {
    g_autofree gchar *dir = g_path_get_dirname (cfg->path);
    if (tcd_certs_store_migrate_8021x (dir, root))
      g_message ("%s: the 802.1X certificates moved to the certificate store", cfg->path);
  }
  merged = tc_json_merge (defaults, root);
  fit_server_port (root, merged);
  /* a file of a version that let a stream outrun the sensor under PAL */
  if (tcd_config_fit_frame_rates (merged))
    g_message ("%s: stream frame rates brought down to the sensor's", cfg->path);
  if (!tcd_config_check (cfg, merged, &field, &err)) {
    g_autofree gchar *aside = g_strconcat (cfg->path, ".invalid", NULL);
    g_warning ("%s: %s; kept as %s, starting from the defaults", cfg->path,
        err->message, aside);
    g_rename (cfg->path, aside);
    json_node_unref (merged);
    return NULL;
  }
  return merged;
}

/* Is @name what g_file_set_contents_full (CONSISTENT) leaves of @base when
 * the process dies before its rename: "BASE.XXXXXX" (mkstemp's letters)? */
static gboolean
is_temp_of (const gchar *name, const gchar *base)
{
  gsize n = strlen (base);

  if (strncmp (name, base, n) != 0 || name[n] != '.' || strlen (name + n + 1) != 6)
    return FALSE;
  for (const gchar *p = name + n + 1; *p; p++)
    if (!g_ascii_isalnum (*p))
      return FALSE;
  return TRUE;
}

static void
clean_dir (const gchar *dir, const gchar * const *bases)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    for (guint i = 0; bases[i]; i++) {
      if (is_temp_of (name, bases[i])) {
        g_autofree gchar *path = g_build_filename (dir, name, NULL);
        if (g_file_test (path, G_FILE_TEST_IS_REGULAR)
            && !g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
          g_message ("removing %s, left by a save that did not finish", path);
          g_unlink (path);
        }
        break;
      }
    }
  }
}

void
tcd_state_clean_temp_files (const gchar *state_dir)
{
  /* the files the daemon replaces atomically (temporary file, rename) */
  static const gchar * const state[] = {
    "config.json", "users.json", "users.htdigest", "overlay.bmp", "calibration.sha256",
    "serial", "dpc.json", NULL
  };
  static const gchar * const tls[] = {
    "key.pem", "cert.pem", "request-key.pem", "request.pem", NULL
  };
  g_autofree gchar *tls_dir = g_build_filename (state_dir, "tls", NULL);

  clean_dir (state_dir, state);
  clean_dir (tls_dir, tls);
}

TcdConfig *
tcd_config_new (const gchar *state_dir, const gchar *schema_path, GError **error)
{
  g_autoptr (GError) err = NULL;
  TcdConfig *cfg = g_new0 (TcdConfig, 1);
  g_autoptr (JsonNode) defaults = NULL;

  cfg->path = g_build_filename (state_dir, "config.json", NULL);
  /* what a crash in the middle of a save left */
  tcd_state_clean_temp_files (state_dir);
  cfg->schema = tc_schema_new_from_file (schema_path, error);
  if (!cfg->schema) {
    tcd_config_free (cfg);
    return NULL;
  }
  defaults = tc_schema_defaults (cfg->schema, NULL);
  if (!tcd_config_check (cfg, defaults, NULL, &err)) {
    g_set_error (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID,
        "the schema's defaults are not valid: %s", err->message);
    tcd_config_free (cfg);
    return NULL;
  }
  cfg->doc = load_file (cfg, defaults);
  if (!cfg->doc) {
    cfg->doc = tcd_json_deep_copy (defaults);
    if (!tcd_config_commit (cfg, tcd_json_deep_copy (defaults), error)) {
      tcd_config_free (cfg);
      return NULL;
    }
  }
  return cfg;
}

void
tcd_config_free (TcdConfig *cfg)
{
  if (!cfg)
    return;
  g_free (cfg->path);
  if (cfg->schema)
    tc_schema_free (cfg->schema);
  if (cfg->doc)
    json_node_unref (cfg->doc);
  g_free (cfg);
}

JsonNode *
tcd_config_get (TcdConfig *cfg)
{
  return cfg->doc;
}

TcSchema *
tcd_config_get_schema (TcdConfig *cfg)
{
  return cfg->schema;
}

gboolean
tcd_config_has_section (TcdConfig *cfg, const gchar *section)
{
  return json_object_has_member (json_node_get_object (cfg->doc), section);
}

JsonNode *
tcd_config_get_section (TcdConfig *cfg, const gchar *section)
{
  return json_object_get_member (json_node_get_object (cfg->doc), section);
}

JsonNode *
tcd_json_deep_copy (JsonNode *node)
{
  /* json-glib copies share the objects and arrays inside */
  return tc_json_merge (node, NULL);
}

JsonNode *
tcd_config_patched (TcdConfig *cfg, const gchar *section, JsonNode *patch)
{
  JsonNode *doc = tcd_json_deep_copy (cfg->doc);
  JsonNode *cur = json_object_get_member (json_node_get_object (doc), section);
  JsonNode *merged;

  tcd_config_rename_aliases (patch, section);
  merged = tc_json_merge (cur, patch);

  json_object_set_member (json_node_get_object (doc), section, merged);
  return doc;
}

/* A rule's null emissivity, distance or reflected_temperature says "no
 * override, the global value": the rule is kept without the member */
static void
drop_null_overrides (JsonNode *doc)
{
  static const gchar *overrides[] = { "emissivity", "distance", "reflected_temperature" };
  JsonNode *rules = tcd_config_node (doc, "rules");

  if (!rules || !JSON_NODE_HOLDS_ARRAY (rules))
    return;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (rules)); i++) {
    JsonNode *r = json_array_get_element (json_node_get_array (rules), i);
    if (!JSON_NODE_HOLDS_OBJECT (r))
      continue;
    for (guint k = 0; k < G_N_ELEMENTS (overrides); k++) {
      JsonNode *v = json_object_get_member (json_node_get_object (r), overrides[k]);
      if (v && JSON_NODE_HOLDS_NULL (v))
        json_object_remove_member (json_node_get_object (r), overrides[k]);
    }
  }
}

gboolean
tcd_config_commit (TcdConfig *cfg, JsonNode *doc, GError **error)
{
  g_autofree gchar *text = NULL;
  g_autoptr (GError) err = NULL;

  drop_null_overrides (doc);
  text = tcd_json_to_string (doc, TRUE);

  /* temporary file, fsync, rename: a crash leaves the old or the new file */
  if (!g_file_set_contents_full (cfg->path, text, -1,
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, &err)) {
    g_set_error (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_IO,
        "could not save the configuration: %s", err->message);
    json_node_unref (doc);
    return FALSE;
  }
  if (cfg->doc)
    json_node_unref (cfg->doc);
  cfg->doc = doc;
  return TRUE;
}

JsonNode *
tcd_config_defaults (TcdConfig *cfg, gboolean keep)
{
  JsonNode *doc = tc_schema_defaults (cfg->schema, NULL);

  if (keep) {
    JsonObject *image = json_node_get_object (tcd_config_node (doc, "image"));
    json_object_set_member (image, "video_standard",
        tcd_json_deep_copy (tcd_config_node (cfg->doc, "image.video_standard")));
    /* the network side stays reachable as it was: ports, security (filter,
     * HTTPS, authentication), the serial line, ONVIF (on, and its users, as
     * the accounts are kept) */
    for (const gchar * const *s = (const gchar *[]) { "ports", "security", "rs485", "onvif",
            NULL };
        *s; s++)
      json_object_set_member (json_node_get_object (doc), *s,
          tcd_json_deep_copy (tcd_config_node (cfg->doc, *s)));
    /* and the IP parameters (manual 10.5): the network section but for
     * DDNS, QoS and SSH */
    if (tcd_config_node (cfg->doc, "network")) {
      JsonNode *def = json_object_dup_member (json_node_get_object (doc), "network");
      JsonNode *net = tcd_json_deep_copy (tcd_config_node (cfg->doc, "network"));
      for (const gchar * const *s = (const gchar *[]) { "ddns", "qos", "ssh", NULL }; *s; s++)
        if (def && JSON_NODE_HOLDS_OBJECT (def) && JSON_NODE_HOLDS_OBJECT (net))
          json_object_set_member (json_node_get_object (net), *s,
              json_object_dup_member (json_node_get_object (def), *s));
      json_object_set_member (json_node_get_object (doc), "network", net);
      if (def)
        json_node_unref (def);
    }
    /* the kept standard's sensor rate bounds the default streams (PAL: 25) */
    tcd_config_fit_frame_rates (doc);
  }
  return doc;
}

const gchar *
tcd_config_string (TcdConfig *cfg, const gchar *path)
{
  JsonNode *n = tcd_config_node (cfg->doc, path);
  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_string (n) : NULL;
}

gdouble
tcd_config_double (TcdConfig *cfg, const gchar *path)
{
  JsonNode *n = tcd_config_node (cfg->doc, path);
  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_double (n) : 0.0;
}

gint64
tcd_config_int (TcdConfig *cfg, const gchar *path)
{
  JsonNode *n = tcd_config_node (cfg->doc, path);
  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_int (n) : 0;
}

gboolean
tcd_config_bool (TcdConfig *cfg, const gchar *path)
{
  JsonNode *n = tcd_config_node (cfg->doc, path);
  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_boolean (n) : FALSE;
}
