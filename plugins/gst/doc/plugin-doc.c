/* thermocam: the plugin's documentation cache, as GStreamer keeps one for
 * each of its plugins (gst_plugins_cache.json): every element with its
 * klass, description, pad templates and properties (type, blurb, range,
 * default, flags), every enum it uses with its values.  Printed as JSON.
 *
 *   GST_PLUGIN_PATH=build/plugins/gst build/plugins/gst/doc/plugin-doc > cache.json
 *   plugin-doc --check FILE   exits 1, naming what differs, when FILE is not
 *                             what the plugin says now, or when an element
 *                             or a property is not documented
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <string.h>

static GPtrArray *problems;

static void
problem (const gchar *format, ...) G_GNUC_PRINTF (1, 2);

static void
problem (const gchar *format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_ptr_array_add (problems, g_strdup_vprintf (format, ap));
  va_end (ap);
}

static JsonNode *
value_node (const GValue *v)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);
  g_autofree gchar *s = NULL;

  if (G_VALUE_HOLDS_BOOLEAN (v)) {
    json_node_set_boolean (n, g_value_get_boolean (v));
  } else if (G_VALUE_HOLDS_STRING (v)) {
    if (g_value_get_string (v))
      json_node_set_string (n, g_value_get_string (v));
    else
      json_node_init_null (n);
  } else {
    s = gst_value_serialize (v);
    if (s)
      json_node_set_string (n, s);
    else
      json_node_init_null (n);
  }
  return n;
}

static void
add_enum (JsonObject *types, GType t)
{
  g_autoptr (GEnumClass) k = NULL;
  JsonObject *o, *vals;
  JsonArray *a;

  if (json_object_has_member (types, g_type_name (t)))
    return;
  k = g_type_class_ref (t);
  o = json_object_new ();
  a = json_array_new ();
  for (guint i = 0; i < k->n_values; i++) {
    vals = json_object_new ();
    json_object_set_string_member (vals, "name", k->values[i].value_nick);
    json_object_set_string_member (vals, "desc", k->values[i].value_name);
    json_object_set_int_member (vals, "value", k->values[i].value);
    json_array_add_object_element (a, vals);
  }
  json_object_set_string_member (o, "kind", "enum");
  json_object_set_array_member (o, "values", a);
  json_object_set_object_member (types, g_type_name (t), o);
}

/* a numeric property's range, as text (an unsigned 64-bit maximum does not
 * fit a JSON number) */
static void
range (JsonObject *o, gdouble min, gdouble max)
{
  gchar b[G_ASCII_DTOSTR_BUF_SIZE];

  json_object_set_string_member (o, "min", g_ascii_formatd (b, sizeof b, "%.17g", min));
  json_object_set_string_member (o, "max", g_ascii_formatd (b, sizeof b, "%.17g", max));
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (GST_OBJECT_NAME (a), GST_OBJECT_NAME (b));
}

static gint
by_template_name (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (((const GstStaticPadTemplate *) a)->name_template,
      ((const GstStaticPadTemplate *) b)->name_template);
}

static gboolean
is_number (GParamSpec *p)
{
  return G_IS_PARAM_SPEC_INT (p) || G_IS_PARAM_SPEC_UINT (p) || G_IS_PARAM_SPEC_INT64 (p)
      || G_IS_PARAM_SPEC_UINT64 (p) || G_IS_PARAM_SPEC_DOUBLE (p) || G_IS_PARAM_SPEC_FLOAT (p);
}

/* The units a numeric property's blurb may name; a plain number says so
 * ("no unit", "a number of ...", "a factor", "a fraction") */
static gboolean
names_unit (const gchar *blurb)
{
  static const gchar *const units =
      "\\b(degrees C(elsius)?|kelvin|metres|seconds|milliseconds|microseconds|pixels|frames|counts|"
      "fraction|factor|0xAARRGGBB|no unit|a number)\\b";
  return g_regex_match_simple (units, blurb, G_REGEX_CASELESS, 0);
}

static JsonObject *
property (GParamSpec *p, GObject *obj, JsonObject *types, const gchar *element)
{
  JsonObject *o = json_object_new ();
  GValue v = G_VALUE_INIT;
  const gchar *blurb = g_param_spec_get_blurb (p);

  json_object_set_string_member (o, "blurb", blurb ? blurb : "");
  json_object_set_string_member (o, "nick", g_param_spec_get_nick (p));
  json_object_set_string_member (o, "type", g_type_name (p->value_type));
  json_object_set_boolean_member (o, "readable", (p->flags & G_PARAM_READABLE) != 0);
  json_object_set_boolean_member (o, "writable", (p->flags & G_PARAM_WRITABLE) != 0);
  json_object_set_boolean_member (o, "construct-only", (p->flags & G_PARAM_CONSTRUCT_ONLY) != 0);
  json_object_set_boolean_member (o, "controllable", (p->flags & GST_PARAM_CONTROLLABLE) != 0);
  json_object_set_string_member (o, "mutable", (p->flags & GST_PARAM_MUTABLE_PLAYING) ? "playing"
      : (p->flags & GST_PARAM_MUTABLE_PAUSED) ? "paused"
      : (p->flags & GST_PARAM_MUTABLE_READY) ? "ready" : "null");
  /* the default as the class says (not the instance's value: a live
   * property such as a calibration changes with the stream) */
  g_value_init (&v, p->value_type);
  g_param_value_set_default (p, &v);
  if (!G_VALUE_HOLDS_POINTER (&v) && !G_VALUE_HOLDS_OBJECT (&v) && !G_VALUE_HOLDS_BOXED (&v))
    json_object_set_member (o, "default", value_node (&v));
  g_value_unset (&v);
#define RANGE(T)                                                             \
  if (G_IS_PARAM_SPEC_##T (p)) {                                            \
    range (o, G_PARAM_SPEC_##T (p)->minimum, G_PARAM_SPEC_##T (p)->maximum); \
  }
  RANGE (INT) RANGE (UINT) RANGE (INT64) RANGE (UINT64) RANGE (DOUBLE) RANGE (FLOAT)
#undef RANGE
  if (G_IS_PARAM_SPEC_ENUM (p))
    add_enum (types, p->value_type);
  /* documented: a blurb that says more than the name */
  if (!blurb || strlen (blurb) < 8 || g_ascii_strcasecmp (blurb, p->name) == 0)
    problem ("%s::%s has no description", element, p->name);
  /* a number says its unit (its range is the spec's, above) */
  else if (is_number (p) && !names_unit (blurb))
    problem ("%s::%s does not say its unit (\"%s\")", element, p->name, blurb);
  return o;
}

static JsonObject *
element (GstElementFactory *f, JsonObject *types)
{
  JsonObject *o = json_object_new (), *pads = json_object_new (), *props = json_object_new ();
  const gchar *name = GST_OBJECT_NAME (f);
  g_autoptr (GstElement) e = gst_element_factory_create (f, NULL);
  g_autofree GParamSpec **specs = NULL;
  guint n = 0;
  const gchar *desc = gst_element_factory_get_metadata (f, GST_ELEMENT_METADATA_DESCRIPTION);
  GList *templates;

  json_object_set_string_member (o, "author",
      gst_element_factory_get_metadata (f, GST_ELEMENT_METADATA_AUTHOR));
  json_object_set_string_member (o, "description", desc);
  json_object_set_string_member (o, "klass",
      gst_element_factory_get_metadata (f, GST_ELEMENT_METADATA_KLASS));
  json_object_set_string_member (o, "long-name",
      gst_element_factory_get_metadata (f, GST_ELEMENT_METADATA_LONGNAME));
  json_object_set_int_member (o, "rank", gst_plugin_feature_get_rank (GST_PLUGIN_FEATURE (f)));
  if (!desc || strlen (desc) < 16)
    problem ("%s has no description", name);
  /* by name: the registry's cache keeps them in another order than a fresh load */
  templates = g_list_sort (g_list_copy ((GList *) gst_element_factory_get_static_pad_templates (f)),
      by_template_name);
  for (const GList *l = templates; l; l = l->next) {
    GstStaticPadTemplate *t = l->data;
    JsonObject *po = json_object_new ();
    g_autoptr (GstCaps) caps = gst_static_caps_get (&t->static_caps);
    g_autofree gchar *c = gst_caps_to_string (caps);

    json_object_set_string_member (po, "caps", c);
    json_object_set_string_member (po, "direction", t->direction == GST_PAD_SRC ? "src" : "sink");
    json_object_set_string_member (po, "presence", t->presence == GST_PAD_ALWAYS ? "always"
        : t->presence == GST_PAD_SOMETIMES ? "sometimes" : "request");
    json_object_set_object_member (pads, t->name_template, po);
  }
  g_list_free (templates);
  json_object_set_object_member (o, "pad-templates", pads);
  if (e) {
    specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);
    for (guint i = 0; i < n; i++)
      /* the element's own, not its base classes' */
      if (specs[i]->owner_type == G_OBJECT_TYPE (e))
        json_object_set_object_member (props, specs[i]->name,
            property (specs[i], G_OBJECT (e), types, name));
  } else {
    problem ("%s cannot be made", name);
  }
  json_object_set_object_member (o, "properties", props);
  return o;
}

int
main (int argc, char **argv)
{
  g_autoptr (GstPlugin) plugin = NULL;
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;
  JsonObject *top = json_object_new (), *p = json_object_new (), *els = json_object_new ();
  JsonObject *types = json_object_new ();
  g_autoptr (GList) features = NULL;
  GList *sorted = NULL;
  const gchar *check = argc == 3 && g_str_equal (argv[1], "--check") ? argv[2] : NULL;

  gst_init (&argc, &argv);
  problems = g_ptr_array_new_with_free_func (g_free);
  plugin = gst_registry_find_plugin (gst_registry_get (), "thermal");
  if (!plugin) {
    g_printerr ("plugin-doc: the plugin thermal is not found (GST_PLUGIN_PATH)\n");
    return 2;
  }
  json_object_set_string_member (p, "description", gst_plugin_get_description (plugin));
  json_object_set_string_member (p, "license", gst_plugin_get_license (plugin));
  json_object_set_string_member (p, "package", gst_plugin_get_package (plugin));
  json_object_set_string_member (p, "source", gst_plugin_get_source (plugin));
  json_object_set_string_member (p, "filename", "gstthermal");
  features = gst_registry_get_feature_list_by_plugin (gst_registry_get (), "thermal");
  for (GList *l = features; l; l = l->next)
    if (GST_IS_ELEMENT_FACTORY (l->data))
      sorted = g_list_insert_sorted (sorted, l->data, by_name);
  for (GList *l = sorted; l; l = l->next)
    json_object_set_object_member (els, GST_OBJECT_NAME (l->data), element (l->data, types));
  g_list_free (sorted);
  gst_plugin_feature_list_free (g_steal_pointer (&features));
  json_object_set_object_member (p, "elements", els);
  json_object_set_object_member (p, "other-types", types);
  json_object_set_object_member (top, "thermal", p);
  json_node_take_object (root, top);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);

  if (!check) {
    g_print ("%s\n", text);
  } else {
    g_autofree gchar *kept = NULL;
    g_autoptr (GError) err = NULL;
    if (!g_file_get_contents (check, &kept, NULL, &err))
      problem ("%s", err->message);
    else if (!g_str_equal (g_strchomp (kept), text))
      problem ("%s is not what the plugin says now: run scripts/plugin-doc.sh and commit it", check);
  }
  for (guint i = 0; i < problems->len; i++)
    g_printerr ("plugin-doc: %s\n", (gchar *) problems->pdata[i]);
  return problems->len ? 1 : 0;
}
