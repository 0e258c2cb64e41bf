/* thermocamd: the change path (appliance/core/tcd-change.c) and the event bus
 * (appliance/core/tcd-bus.c), in process, with real configuration, security
 * and audit objects in a temporary state directory and fake subscribers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "tcd-bus.h"
#include "tcd-change.h"
#include "tcd-config.h"
#include "tcd-security.h"
#include "tc-json.h"

typedef struct {
  gchar *dir;
  TcdConfig *config;
  TcdSecurity *security;
  TcdBus *bus;
  TcdChange *change;
  GString *calls;               /* "name;" per subscriber call, in order */
  GPtrArray *events;            /* "type:change" of each event seen */
} Fixture;

static void
on_event (TcdEventType type, JsonNode *ev, gpointer user_data)
{
  Fixture *f = user_data;
  JsonObject *o = json_node_get_object (ev);
  g_ptr_array_add (f->events, g_strdup_printf ("%s:%s", tcd_event_type_name (type),
          tc_json_get_string (o, "change", tc_json_get_string (o, "type", ""))));
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *schema = g_build_filename (SOURCE_ROOT, "schemas", "config.schema.json",
      NULL);

  f->dir = g_dir_make_tmp ("test-change-XXXXXX", &err);
  g_assert_no_error (err);
  f->config = tcd_config_new (f->dir, schema, &err);
  g_assert_no_error (err);
  f->security = tcd_security_new (f->dir);
  f->bus = tcd_bus_new ();
  f->change = tcd_change_new (f->config, f->security, f->bus);
  f->calls = g_string_new (NULL);
  f->events = g_ptr_array_new_with_free_func (g_free);
  tcd_bus_subscribe (f->bus, TCD_EVENT_ALL, on_event, f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) d = NULL;
  const gchar *name;

  tcd_change_free (f->change);
  tcd_bus_free (f->bus);
  tcd_security_free (f->security);
  tcd_config_free (f->config);
  g_string_free (f->calls, TRUE);
  g_ptr_array_unref (f->events);
  /* the state directory: config.json, audit.log and what they made */
  d = g_dir_open (f->dir, 0, NULL);
  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *p = g_build_filename (f->dir, name, NULL);
    g_remove (p);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* a subscriber that writes its name and the new emissivity */
typedef struct {
  Fixture *f;
  const gchar *name;
} Sub;

static void
sub_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  Sub *s = user_data;
  g_string_append_printf (s->f->calls, "%s=%g/%g;", s->name,
      json_node_get_double (tcd_config_node (doc, "thermometry.emissivity")),
      json_node_get_double (tcd_config_node (old, "thermometry.emissivity")));
}

static void
sub_users (gpointer user_data)
{
  Sub *s = user_data;
  g_string_append_printf (s->f->calls, "%s:users;", s->name);
}

static JsonNode *
patched (Fixture *f, const gchar *section, const gchar *json)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) patch = tc_json_parse (json, -1, 32, &err);
  g_assert_no_error (err);
  return tcd_change_patched (f->change, section, patch);
}

static guint
audit_count (Fixture *f, const gchar *detail)
{
  g_autoptr (JsonNode) log = tcd_audit_query (f->security, "config", 0, 0);
  JsonArray *a = json_node_get_array (log);
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (a); i++)
    n += g_strcmp0 (tc_json_get_string (tc_json_array_get_object (a, i), "detail", ""),
        detail) == 0;
  return n;
}

/* subscribers are told in their order's order, equal orders as they came,
 * with the new and the old document; then the audit record and the event */
static void
test_order (Fixture *f, gconstpointer data)
{
  Sub daemon = { f, "daemon" }, media = { f, "media" }, services = { f, "services" },
      linkage = { f, "linkage" }, media2 = { f, "media2" };
  TcdOrigin o = { "config.thermometry", "admin", "192.0.2.7", "http" };
  g_autoptr (GError) err = NULL;
  gboolean changed = FALSE;

  tcd_change_subscribe (f->change, TCD_CHANGE_ORDER_DAEMON, "d", sub_apply, NULL, &daemon);
  tcd_change_subscribe (f->change, TCD_CHANGE_ORDER_SERVICES, "s", sub_apply, NULL, &services);
  tcd_change_subscribe (f->change, TCD_CHANGE_ORDER_MEDIA, "m", sub_apply, NULL, &media);
  tcd_change_subscribe (f->change, TCD_CHANGE_ORDER_LINKAGE, "l", sub_apply, NULL, &linkage);
  tcd_change_subscribe (f->change, TCD_CHANGE_ORDER_MEDIA, "m2", sub_apply, NULL, &media2);
  g_assert_true (tcd_change_commit (f->change, patched (f, "thermometry",
              "{\"emissivity\": 0.5}"), &o, TCD_CHANGE_NONE, &changed, &err));
  g_assert_no_error (err);
  g_assert_true (changed);
  g_assert_cmpstr (f->calls->str, ==,
      "media=0.5/0.95;media2=0.5/0.95;linkage=0.5/0.95;services=0.5/0.95;daemon=0.5/0.95;");
  g_assert_cmpfloat (tcd_config_double (f->config, "thermometry.emissivity"), ==, 0.5);
  g_assert_cmpuint (audit_count (f, "changed config.thermometry"), ==, 1);
  g_assert_cmpuint (f->events->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->events, 0), ==, "config:config.thermometry");
  {
    /* the audit record says who */
    g_autoptr (JsonNode) log = tcd_audit_query (f->security, "config", 0, 0);
    JsonObject *r = tc_json_array_get_object (json_node_get_array (log), 0);
    g_assert_cmpstr (tc_json_get_string (r, "user", ""), ==, "admin");
    g_assert_cmpstr (tc_json_get_string (r, "address", ""), ==, "192.0.2.7");
  }
  /* and it was persisted: a new configuration object reads it back */
  {
    g_autofree gchar *schema = g_build_filename (SOURCE_ROOT, "schemas",
        "config.schema.json", NULL);
    TcdConfig *again = tcd_config_new (f->dir, schema, &err);
    g_assert_no_error (err);
    g_assert_cmpfloat (tcd_config_double (again, "thermometry.emissivity"), ==, 0.5);
    tcd_config_free (again);
  }
}

/* a refused change: the schema, a registered check, the IP filter; each
 * leaves the document, the file, the subscribers, the audit and the bus as
 * they were, and names its field in the error */
static gboolean
refuse_distance (JsonNode *doc, JsonNode *current, const TcdOrigin *origin, gpointer user_data,
    GError **error)
{
  guint *runs = user_data;
  (*runs)++;
  if (json_node_get_double (tcd_config_node (doc, "thermometry.distance")) > 20) {
    tcd_change_refuse (error, "thermometry.distance", "thermometry.distance: too far for "
        "this test");
    return FALSE;
  }
  return TRUE;
}

static void
test_refused (Fixture *f, gconstpointer data)
{
  Sub s = { f, "s" };
  TcdOrigin o = { "config.thermometry", "admin", "192.0.2.7", "http" };
  g_autofree gchar *before = tcd_json_to_string (tcd_config_get (f->config), FALSE);
  g_autofree gchar *path = g_build_filename (f->dir, "config.json", NULL);
  g_autofree gchar *file_before = NULL, *file_after = NULL;
  guint runs = 0;

  tcd_change_add_check (f->change, "distance", refuse_distance, &runs);
  tcd_change_add_check (f->change, "ip_filter", tcd_change_check_ip_filter, NULL);
  tcd_change_subscribe (f->change, TCD_CHANGE_ORDER_MEDIA, "s", sub_apply, NULL, &s);
  g_file_get_contents (path, &file_before, NULL, NULL);
  {
    g_autoptr (GError) err = NULL;
    g_assert_false (tcd_change_commit (f->change, patched (f, "thermometry",
                "{\"emissivity\": 7}"), &o, TCD_CHANGE_NONE, NULL, &err));
    g_assert_error (err, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID);
    g_assert_cmpstr (tcd_error_get_field (err), ==, "thermometry.emissivity");
    g_assert_cmpuint (runs, ==, 0);     /* the schema refused it first */
  }
  {
    g_autoptr (GError) err = NULL;
    g_assert_false (tcd_change_commit (f->change, patched (f, "thermometry",
                "{\"distance\": 30}"), &o, TCD_CHANGE_NONE, NULL, &err));
    g_assert_error (err, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID);
    g_assert_cmpstr (tcd_error_get_field (err), ==, "thermometry.distance");
    g_assert_cmpuint (runs, ==, 1);
  }
  {
    /* an IP filter that shuts out the address making the change */
    g_autoptr (GError) err = NULL;
    g_assert_false (tcd_change_commit (f->change, patched (f, "security",
                "{\"ip_filter\": {\"enabled\": true, \"mode\": \"allow\", "
                "\"addresses\": [\"198.51.100.1\"]}}"), &o, TCD_CHANGE_NONE, NULL, &err));
    g_assert_error (err, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID);
    g_assert_cmpstr (tcd_error_get_field (err), ==, "security.ip_filter");
    g_assert_nonnull (strstr (err->message, "would shut out 192.0.2.7"));
  }
  {
    g_autofree gchar *after = tcd_json_to_string (tcd_config_get (f->config), FALSE);
    g_assert_cmpstr (after, ==, before);
  }
  g_file_get_contents (path, &file_after, NULL, NULL);
  g_assert_cmpstr (file_after, ==, file_before);
  g_assert_cmpstr (f->calls->str, ==, "");
  g_assert_cmpuint (f->events->len, ==, 0);
  g_assert_cmpuint (audit_count (f, "changed config.thermometry"), ==, 0);
}

/* skip-if-unchanged: nothing written, told, audited or emitted; without
 * the flag the same document is a change like any other */
static void
test_skip_unchanged (Fixture *f, gconstpointer data)
{
  Sub s = { f, "s" };
  TcdOrigin o = { "modbus: thermometry.emissivity", "modbus", "127.0.0.1", "modbus" };
  g_autoptr (GError) err = NULL;
  gboolean changed = TRUE;

  tcd_change_subscribe (f->change, TCD_CHANGE_ORDER_MEDIA, "s", sub_apply, NULL, &s);
  g_assert_true (tcd_change_commit (f->change, tcd_json_deep_copy (tcd_config_get (f->config)),
          &o, TCD_CHANGE_SKIP_UNCHANGED, &changed, &err));
  g_assert_no_error (err);
  g_assert_false (changed);
  g_assert_cmpstr (f->calls->str, ==, "");
  g_assert_cmpuint (f->events->len, ==, 0);
  g_assert_cmpuint (audit_count (f, "changed modbus: thermometry.emissivity"), ==, 0);
  /* a refused one is still refused with the flag */
  g_assert_false (tcd_change_commit (f->change, patched (f, "thermometry",
              "{\"emissivity\": -1}"), &o, TCD_CHANGE_SKIP_UNCHANGED, &changed, &err));
  g_clear_error (&err);
  g_assert_true (tcd_change_commit (f->change, tcd_json_deep_copy (tcd_config_get (f->config)),
          &o, TCD_CHANGE_NONE, &changed, &err));
  g_assert_true (changed);
  g_assert_cmpstr (f->calls->str, ==, "s=0.95/0.95;");
  g_assert_cmpuint (audit_count (f, "changed modbus: thermometry.emissivity"), ==, 1);
}

/* the section policies: FTP's password is write-only and bound to its
 * server; a center receiver sent back without its password keeps it */
static void
test_policies (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) err = NULL;
  TcdOrigin o = { "config.ftp", "admin", NULL, "http" };

  g_assert_true (tcd_change_commit (f->change, patched (f, "ftp",
              "{\"server\": \"ftp.example\", \"user\": \"u\", \"password\": \"secret\"}"), &o,
          TCD_CHANGE_NONE, NULL, &err));
  g_assert_no_error (err);
  {
    g_autoptr (JsonNode) shown = tcd_change_view (f->change, "ftp");
    g_autoptr (JsonNode) all = tcd_change_view (f->change, NULL);
    g_assert_false (json_object_has_member (json_node_get_object (shown), "password"));
    g_assert_cmpstr (tc_json_get_string (json_node_get_object (shown), "server", ""), ==,
        "ftp.example");
    g_assert_false (json_object_has_member (json_node_get_object (tcd_config_node (all,
                    "ftp")), "password"));
    /* the view is a copy: the stored password is still there */
    g_assert_cmpstr (tcd_config_string (f->config, "ftp.password"), ==, "secret");
  }
  /* the same server again without a password: kept */
  g_assert_true (tcd_change_commit (f->change, patched (f, "ftp", "{\"port\": 21}"), &o,
          TCD_CHANGE_NONE, NULL, &err));
  g_assert_cmpstr (tcd_config_string (f->config, "ftp.password"), ==, "secret");
  /* another server without a password: emptied, never sent there */
  g_assert_true (tcd_change_commit (f->change, patched (f, "ftp",
              "{\"server\": \"elsewhere.example\"}"), &o, TCD_CHANGE_NONE, NULL, &err));
  g_assert_cmpstr (tcd_config_string (f->config, "ftp.password"), ==, "");

  o.what = "config.center";
  g_assert_true (tcd_change_commit (f->change, patched (f, "center",
              "{\"receivers\": [{\"url\": \"http://192.0.2.1/in\", \"user\": \"c\", "
              "\"password\": \"pw\"}]}"), &o, TCD_CHANGE_NONE, NULL, &err));
  g_assert_no_error (err);
  {
    g_autoptr (JsonNode) shown = tcd_change_view (f->change, "center");
    JsonNode *r = tcd_config_node (shown, "receivers");
    g_assert_false (json_object_has_member (tc_json_array_get_object (json_node_get_array (r),
                0), "password"));
    /* sent back as shown: the password stays */
    g_assert_true (tcd_change_commit (f->change, tcd_change_patched (f->change, "center",
                shown), &o, TCD_CHANGE_NONE, NULL, &err));
    g_assert_no_error (err);
  }
  g_assert_cmpstr (tc_json_get_string (tc_json_array_get_object (json_node_get_array (
                  tcd_config_node (tcd_config_get (f->config), "center.receivers")), 0),
          "password", ""), ==, "pw");
}

/* a policy and a view a service adds (as the daemon does for ports) */
static void
add_in_use (JsonNode *section, gboolean whole, gpointer user_data)
{
  if (!whole)
    json_object_set_int_member (json_node_get_object (section), "in_use", 1234);
}

static void
drop_in_use (TcdConfig *config, JsonNode *patch, gpointer user_data)
{
  json_object_remove_member (json_node_get_object (patch), "in_use");
}

static void
test_added_policy (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) shown = NULL, all = NULL;

  tcd_change_add_policy (f->change, "ports", drop_in_use, add_in_use, NULL);
  shown = tcd_change_view (f->change, "ports");
  all = tcd_change_view (f->change, NULL);
  g_assert_cmpint (tc_json_get_int (json_node_get_object (shown), "in_use", 0), ==, 1234);
  g_assert_false (json_object_has_member (json_node_get_object (tcd_config_node (all,
                  "ports")), "in_use"));
  /* sent back with the read-only member: it is dropped, the change goes */
  g_assert_true (tcd_change_commit (f->change, tcd_change_patched (f->change, "ports", shown),
          NULL, TCD_CHANGE_NONE, NULL, &err));
  g_assert_no_error (err);
  g_assert_false (json_object_has_member (json_node_get_object (
              tcd_config_get_section (f->config, "ports")), "in_use"));
}

/* accounts changed: every users subscriber, in order, no audit of its own */
static void
test_users (Fixture *f, gconstpointer data)
{
  Sub a = { f, "a" }, b = { f, "b" }, c = { f, "c" };

  tcd_change_subscribe (f->change, TCD_CHANGE_ORDER_SERVICES, "b", NULL, sub_users, &b);
  tcd_change_subscribe (f->change, TCD_CHANGE_ORDER_MEDIA, "a", NULL, sub_users, &a);
  tcd_change_subscribe (f->change, TCD_CHANGE_ORDER_LINKAGE, "c", sub_apply, NULL, &c);
  tcd_change_users_changed (f->change, NULL);
  g_assert_cmpstr (f->calls->str, ==, "a:users;b:users;");
}

/* ---- the bus ---- */

typedef struct {
  GString *log;
  TcdBus *bus;
  guint other;
  const gchar *name;
} Listener;

static void
listen_cb (TcdEventType type, JsonNode *ev, gpointer user_data)
{
  Listener *l = user_data;
  g_string_append_printf (l->log, "%s<%s>;", l->name, tcd_event_type_name (type));
  /* a listener that unsubscribes another from its callback */
  if (l->other) {
    tcd_bus_unsubscribe (l->bus, l->other);
    l->other = 0;
  }
}

static void
test_bus (void)
{
  TcdBus *bus = tcd_bus_new ();
  g_autoptr (GString) log = g_string_new (NULL);
  Listener all = { log, bus, 0, "all" }, alarms = { log, bus, 0, "alarms" },
      last = { log, bus, 0, "last" };
  guint id_last;
  g_autoptr (JsonNode) stats = NULL;

  tcd_bus_subscribe (bus, TCD_EVENT_ALL, listen_cb, &all);
  tcd_bus_subscribe (bus, TCD_EVENT_MASK (TCD_EVENT_ALARM) | TCD_EVENT_MASK (TCD_EVENT_EXCEPTION),
      listen_cb, &alarms);
  id_last = tcd_bus_subscribe (bus, TCD_EVENT_ALL, listen_cb, &last);
  tcd_bus_emit (bus, TCD_EVENT_CONFIG, tcd_event_config_new ("config.osd"));
  tcd_bus_emit (bus, TCD_EVENT_ALARM, tcd_event_new ("rule"));
  g_assert_cmpstr (log->str, ==, "all<config>;last<config>;all<alarm>;alarms<alarm>;last<alarm>;");
  g_string_truncate (log, 0);
  /* "alarms" drops "last" while an event goes round: "last" no longer hears it */
  alarms.other = id_last;
  tcd_bus_emit (bus, TCD_EVENT_EXCEPTION, tcd_event_exception_new ("ip_conflict", "m"));
  g_assert_cmpstr (log->str, ==, "all<exception>;alarms<exception>;");
  stats = tcd_bus_stats (bus);
  g_assert_cmpint (tc_json_get_int (json_node_get_object (stats), "alarm", -1), ==, 1);
  g_assert_cmpint (tc_json_get_int (json_node_get_object (stats), "exception", -1), ==, 1);
  g_assert_cmpint (tc_json_get_int (json_node_get_object (stats), "delivery", -1), ==, 0);
  tcd_bus_free (bus);
}

/* the list of event types: every type has a name and a text, names are
 * unique and found again by name */
static void
test_event_types (void)
{
  g_auto (GStrv) listed = g_strsplit (tcd_event_type_list (), ", ", -1);

  g_assert_cmpuint (g_strv_length (listed), ==, TCD_EVENT_N_TYPES);
  for (guint i = 0; i < TCD_EVENT_N_TYPES; i++) {
    g_assert_nonnull (tcd_event_type_name (i));
    g_assert_true (strlen (tcd_event_type_doc (i)) > 10);
    g_assert_cmpint (tcd_event_type_from_name (tcd_event_type_name (i)), ==, i);
    g_assert_cmpstr (listed[i], ==, tcd_event_type_name (i));
  }
  g_assert_cmpint (tcd_event_type_from_name ("nope"), ==, -1);
  {
    /* the typed constructors: the members of their type, in the order the
     * stream has always sent them */
    g_autoptr (JsonNode) a = tcd_event_alarm_new ("input", "input", 2, "door", "alarm", "start");
    g_autoptr (JsonNode) o = tcd_event_output_new (3, "horn", TRUE, "rule-1:alarm");
    g_autoptr (JsonNode) b = tcd_event_burning_new (TRUE, "auto");
    g_autoptr (JsonNode) d = tcd_event_delivery_new ("j1", "ftp", "sent", NULL, 1);
    g_autoptr (JsonArray) files = json_array_new ();
    g_autoptr (JsonNode) c = NULL;
    g_autoptr (GList) names = json_object_get_members (json_node_get_object (a));
    const gchar *order[] = { "time", "source", "input", "name", "level", "state" };
    guint k = 0;

    for (GList *l = names; l; l = l->next, k++)
      g_assert_cmpstr (l->data, ==, order[k]);
    g_assert_cmpuint (k, ==, G_N_ELEMENTS (order));
    g_assert_cmpint (tc_json_get_int (json_node_get_object (a), "input", 0), ==, 2);
    g_assert_true (tc_json_get_bool (json_node_get_object (o), "on", FALSE));
    g_assert_cmpstr (tc_json_get_string (json_node_get_object (b), "shutter", ""), ==, "closed");
    g_assert_cmpstr (tc_json_get_string (json_node_get_object (b), "source", ""), ==,
        "burning_prevention");
    g_assert_false (json_object_has_member (json_node_get_object (d), "reason"));
    json_array_add_string_element (files, "a.jpg");
    c = tcd_event_capture_new ("input-1", json_array_ref (files));
    g_assert_cmpuint (json_array_get_length (tc_json_get_array (json_node_get_object (c),
                "files")), ==, 1);
  }
  {
    g_autoptr (JsonNode) ev = tcd_event_exception_new ("ip_conflict", "two of us");
    JsonObject *o = json_node_get_object (ev);
    g_assert_cmpstr (tc_json_get_string (o, "source", ""), ==, "exception");
    g_assert_cmpstr (tc_json_get_string (o, "type", ""), ==, "ip_conflict");
    g_assert_true (g_str_has_suffix (tc_json_get_string (o, "time", ""), "Z"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL);
#define ADD(name, fn) g_test_add (name, Fixture, NULL, setup, fn, teardown)
  ADD ("/change/order", test_order);
  ADD ("/change/refused", test_refused);
  ADD ("/change/skip-unchanged", test_skip_unchanged);
  ADD ("/change/policies", test_policies);
  ADD ("/change/added-policy", test_added_policy);
  ADD ("/change/users", test_users);
  g_test_add_func ("/bus/emit", test_bus);
  g_test_add_func ("/bus/event-types", test_event_types);
  return g_test_run ();
}
