/* thermocamd: HTTP routes about the device: its versions and addresses
 * (manual 10.1, 3.1 "Version"), the open source licenses of what it is built
 * from (10.7), and the common materials' emissivity (11.1)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"

#include <string.h>

#include "tc-json.h"

/* made at build time by scripts/licenses.py */
extern const gchar tcd_licenses_json[];

/* manual 11.1, Common Material Emissivity Reference */
static const struct {
  const gchar *id, *name;
  gdouble emissivity;
} materials[] = {
  {"human_skin", "Human Skin", 0.98},
  {"pcb", "Printed Circuit Board", 0.91},
  {"concrete", "Concrete", 0.95},
  {"ceramic", "Ceramic", 0.92},
  {"rubber", "Rubber", 0.95},
  {"paint", "Paint", 0.93},
  {"wood", "Wood", 0.85},
  {"pitch", "Pitch", 0.96},
  {"brick", "Brick", 0.95},
  {"sand", "Sand", 0.90},
  {"soil", "Soil", 0.92},
  {"cloth", "Cloth", 0.98},
  {"paperboard", "Hard Paperboard", 0.90},
  {"white_paper", "White Paper", 0.90},
  {"water", "Water", 0.96},
};

/* GET /materials */
static void
handle_materials (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "materials");
  json_builder_begin_array (b);
  for (guint i = 0; i < G_N_ELEMENTS (materials); i++) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_string_value (b, materials[i].id);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, materials[i].name);
    json_builder_set_member_name (b, "emissivity");
    json_builder_add_double_value (b, materials[i].emissivity);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

/* GET /system/licenses */
static void
handle_licenses (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) doc = tc_json_parse (tcd_licenses_json, -1, 0, &err);

  if (!doc) {
    send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL,
        "the license list does not read: %s", err->message);
    return;
  }
  send_json (msg, SOUP_STATUS_OK, doc);
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* The MAC address of the first network interface that has one (sorted by
 * name, the loopback left out), and its name */
static gchar *
mac_address (gchar **ifname)
{
  g_autoptr (GDir) d = g_dir_open ("/sys/class/net", 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const gchar *n;

  *ifname = NULL;
  while (d && (n = g_dir_read_name (d)) && names->len < 256)
    if (!g_str_equal (n, "lo"))
      g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, by_name);
  for (guint i = 0; i < names->len; i++) {
    g_autofree gchar *path = g_build_filename ("/sys/class/net", names->pdata[i], "address",
        NULL);
    g_autofree gchar *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents (path, &text, &len, NULL) || len > 64)
      continue;
    g_strstrip (text);
    if (strlen (text) == 17 && !g_str_equal (text, "00:00:00:00:00:00")) {
      *ifname = g_strdup (names->pdata[i]);
      return g_ascii_strup (text, -1);
    }
  }
  return g_strdup ("");
}

/* "name version" of the plugin of @factory ("" when absent) */
static gchar *
plugin_version (const gchar *factory)
{
  g_autoptr (GstElementFactory) f = gst_element_factory_find (factory);
  g_autoptr (GstPlugin) p = f ? GST_PLUGIN (gst_plugin_feature_get_plugin (
          GST_PLUGIN_FEATURE (f))) : NULL;
  return p ? g_strdup_printf ("%s %s", factory, gst_plugin_get_version (p)) : g_strdup ("");
}

/* The members of GET /device that say what the device is made of */
void
about_device_members (TcdHttp *h, JsonBuilder *b)
{
  g_autofree gchar *ifname = NULL, *mac = mac_address (&ifname);
  g_autofree gchar *enc = plugin_version ("x264enc");
  g_autofree gchar *cal_path = g_build_filename (h->ctx->state_dir, "calibration.sha256", NULL);
  g_autofree gchar *cal = NULL;
  gsize len = 0;

  json_builder_set_member_name (b, "mac_address");
  json_builder_add_string_value (b, mac);
  json_builder_set_member_name (b, "network_interface");
  json_builder_add_string_value (b, ifname ? ifname : "");
  json_builder_set_member_name (b, "encoding_version");
  json_builder_add_string_value (b, enc);
  json_builder_set_member_name (b, "web_version");
  json_builder_add_string_value (b, PACKAGE_VERSION);
  /* the thermometry (plugins/core) is built with the firmware */
  json_builder_set_member_name (b, "algorithm_version");
  json_builder_add_string_value (b, "thermalcore " PACKAGE_VERSION);
  /* the factory calibration's digest, as the calibration watch keeps it */
  if (g_file_get_contents (cal_path, &cal, &len, NULL) && len <= 128)
    g_strstrip (cal);
  else
    g_clear_pointer (&cal, g_free);
  json_builder_set_member_name (b, "calibration_version");
  if (cal && strlen (cal) >= 12) {
    g_autofree gchar *v = g_strdup_printf ("sha256:%.12s", cal);
    json_builder_add_string_value (b, v);
  } else {
    json_builder_add_string_value (b, "");
  }
}

const TcdRoute tcd_http_about_routes[] = {
  HTTP_ROUTE_P ("GET", "/materials", TCD_LEVEL_USER, TCD_PERM_NONE, handle_materials),
  HTTP_ROUTE_P ("GET", "/system/licenses", TCD_LEVEL_USER, TCD_PERM_NONE, handle_licenses),
  HTTP_ROUTES_END
};
