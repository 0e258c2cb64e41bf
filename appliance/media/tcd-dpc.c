/* thermocamd: manual defective pixel correction (manual 7.5)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-dpc.h"

#include <glib/gstdio.h>

#include "tc-json.h"
#include "tcd-config.h"
#include "tcd-error.h"
#include "tcd-json.h"

#define FILE_MAX (256 * 1024)
#define KEY(x, y) (((guint32) (y) << 16) | (guint32) (x))
#define KEY_X(k) ((k) & 0xffff)
#define KEY_Y(k) ((k) >> 16)

G_DEFINE_QUARK (tcd-dpc-error-quark, tcd_dpc_error)

struct _TcdDpc {
  TcdPipeline *pipeline;
  TcdSecurity *security;
  gchar *path;
  GArray *pixels;               /* guint32 KEY, corrected */
  GArray *pending;              /* marked, not yet corrected */
  GArray *previous;             /* the corrected list before its last change; NULL: none */
};

static gboolean
has (GArray *a, guint32 k)
{
  for (guint i = 0; a && i < a->len; i++)
    if (g_array_index (a, guint32, i) == k)
      return TRUE;
  return FALSE;
}

static GArray *
copy (GArray *a)
{
  GArray *c = g_array_new (FALSE, FALSE, sizeof (guint32));

  if (a)
    g_array_append_vals (c, a->data, a->len);
  return c;
}

/* the sensor's size, from the newest radiometric frame; FALSE before the
 * first (then the pipeline's guess) */
static gboolean
sensor (TcdDpc *d, gint *w, gint *h)
{
  GstSample *s = tcd_pipeline_get_temperature (d->pipeline);
  GstStructure *st = s && gst_sample_get_caps (s) ?
      gst_caps_get_structure (gst_sample_get_caps (s), 0) : NULL;
  gboolean known = st && gst_structure_get_int (st, "width", w)
      && gst_structure_get_int (st, "height", h) && *w > 0 && *h > 0;
  gint fps;

  if (s)
    gst_sample_unref (s);
  if (!known)
    tcd_pipeline_get_format (d->pipeline, w, h, &fps);
  return known;
}

/* ---- the file ---- */

static void
add_list (JsonBuilder *b, const gchar *name, GArray *a, gboolean objects)
{
  json_builder_set_member_name (b, name);
  if (!a) {
    json_builder_add_null_value (b);
    return;
  }
  json_builder_begin_array (b);
  for (guint i = 0; i < a->len; i++) {
    guint32 k = g_array_index (a, guint32, i);
    if (objects) {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "x");
      json_builder_add_int_value (b, KEY_X (k));
      json_builder_set_member_name (b, "y");
      json_builder_add_int_value (b, KEY_Y (k));
      json_builder_end_object (b);
    } else {
      json_builder_begin_array (b);
      json_builder_add_int_value (b, KEY_X (k));
      json_builder_add_int_value (b, KEY_Y (k));
      json_builder_end_array (b);
    }
  }
  json_builder_end_array (b);
}

static gboolean
save (TcdDpc *d, GArray *pixels, GArray *pending, GArray *previous, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (GError) err = NULL;
  gint w, h;

  sensor (d, &w, &h);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, h);
  add_list (b, "pixels", pixels, FALSE);
  add_list (b, "pending", pending, FALSE);
  add_list (b, "previous", previous, FALSE);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = tcd_json_to_string (root, TRUE);
  if (!g_file_set_contents_full (d->path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
          &err)) {
    tcd_set_error_field (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_IO, NULL,
        "cannot keep the defective pixels: %s", err->message);
    return FALSE;
  }
  return TRUE;
}

/* [[x, y], ...] of the file (written by us: still checked, bounded) */
static GArray *
load_list (JsonObject *o, const gchar *name)
{
  JsonArray *a = tc_json_get_array (o, name);
  GArray *out;

  if (!a)
    return NULL;
  out = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint i = 0; i < json_array_get_length (a) && out->len < TCD_DPC_MAX_PIXELS; i++) {
    JsonArray *p = tc_json_array_get_array (a, i);
    gint64 x = tc_json_array_get_int (p, 0, -1), y = tc_json_array_get_int (p, 1, -1);
    if (p && x >= 0 && y >= 0 && x <= 8191 && y <= 8191 && !has (out, KEY (x, y))) {
      guint32 k = KEY (x, y);
      g_array_append_val (out, k);
    }
  }
  return out;
}

static gchar *
as_property (GArray *a)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < a->len; i++) {
    guint32 k = g_array_index (a, guint32, i);
    g_string_append_printf (s, "%s%u,%u", i ? ";" : "", KEY_X (k), KEY_Y (k));
  }
  return g_string_free (s, FALSE);
}

static void
apply (TcdDpc *d)
{
  g_autofree gchar *list = as_property (d->pixels);

  tcd_pipeline_set_defective_pixels (d->pipeline, *list ? list : NULL);
}

TcdDpc *
tcd_dpc_new (TcdPipeline *pipeline, TcdSecurity *security, const gchar *state_dir)
{
  TcdDpc *d = g_new0 (TcdDpc, 1);
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = NULL;

  d->pipeline = pipeline;
  d->security = security;
  d->path = g_build_filename (state_dir, "dpc.json", NULL);
  if (g_file_test (d->path, G_FILE_TEST_EXISTS)) {
    root = tc_json_parse_file (d->path, FILE_MAX, 4, &err);
    if (!root || !JSON_NODE_HOLDS_OBJECT (root))
      g_warning ("%s: not a list of defective pixels (%s): none corrected", d->path,
          err ? err->message : "not an object");
  }
  if (root && JSON_NODE_HOLDS_OBJECT (root)) {
    JsonObject *o = json_node_get_object (root);
    d->pixels = load_list (o, "pixels");
    d->pending = load_list (o, "pending");
    d->previous = load_list (o, "previous");
  }
  if (!d->pixels)
    d->pixels = g_array_new (FALSE, FALSE, sizeof (guint32));
  if (!d->pending)
    d->pending = g_array_new (FALSE, FALSE, sizeof (guint32));
  if (d->pixels->len)
    g_message ("%u defective pixels corrected by hand (%s)", d->pixels->len, d->path);
  apply (d);
  return d;
}

void
tcd_dpc_free (TcdDpc *d)
{
  if (!d)
    return;
  g_array_unref (d->pixels);
  g_array_unref (d->pending);
  if (d->previous)
    g_array_unref (d->previous);
  g_free (d->path);
  g_free (d);
}

JsonNode *
tcd_dpc_state (TcdDpc *d, const gchar *mirror)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gint w, h;

  sensor (d, &w, &h);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, h);
  json_builder_set_member_name (b, "max");
  json_builder_add_int_value (b, TCD_DPC_MAX_PIXELS);
  json_builder_set_member_name (b, "mirror");
  json_builder_add_string_value (b, mirror ? mirror : "none");
  add_list (b, "pixels", d->pixels, TRUE);
  add_list (b, "pending", d->pending, TRUE);
  json_builder_set_member_name (b, "can_cancel");
  json_builder_add_boolean_value (b, d->previous != NULL || d->pending->len > 0);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* the request's pixels, each inside the sensor, without repeats; NULL with
 * the error naming the first bad one */
static GArray *
parse_pixels (TcdDpc *d, JsonNode *node, GError **error)
{
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (guint32));
  JsonArray *a;
  gint w, h;

  if (!node || !JSON_NODE_HOLDS_ARRAY (node)) {
    tcd_set_error_field (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, "pixels",
        "pixels: an array of {\"x\", \"y\"} is required");
    return NULL;
  }
  a = json_node_get_array (node);
  if (json_array_get_length (a) == 0 || json_array_get_length (a) > TCD_DPC_MAX_PER_REQUEST) {
    tcd_set_error_field (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, "pixels",
        "pixels: 1 to %d pixels a request", TCD_DPC_MAX_PER_REQUEST);
    return NULL;
  }
  if (!sensor (d, &w, &h)) {
    g_set_error (error, TCD_DPC_ERROR, TCD_DPC_ERROR_NOT_READY,
        "no frame from the sensor yet: its size is not known, try again in a moment");
    return NULL;
  }
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonObject *p = tc_json_array_get_object (a, i);
    g_autoptr (GList) members = p ? json_object_get_members (p) : NULL;
    const gchar *axis[] = { "x", "y" };
    gint64 v[2];
    guint32 k;

    if (!p) {
      g_autofree gchar *f = g_strdup_printf ("pixels[%u]", i);
      tcd_set_error_field (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, f,
          "%s: an object {\"x\", \"y\"} is required", f);
      return NULL;
    }
    for (GList *l = members; l; l = l->next)
      if (!g_str_equal (l->data, "x") && !g_str_equal (l->data, "y")) {
        g_autofree gchar *f = g_strdup_printf ("pixels[%u].%s", i, (gchar *) l->data);
        tcd_set_error_field (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, f,
            "%s: unknown field", f);
        return NULL;
      }
    for (guint j = 0; j < 2; j++) {
      gint limit = j ? h : w;
      const gchar *kind = tc_json_member_kind (p, axis[j]);
      v[j] = tc_json_get_int (p, axis[j], -1);
      if (g_strcmp0 (kind, "integer") != 0 || v[j] < 0 || v[j] >= limit) {
        g_autofree gchar *f = g_strdup_printf ("pixels[%u].%s", i, axis[j]);
        tcd_set_error_field (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, f,
            "%s: an integer from 0 to %d (the sensor is %dx%d)", f, limit - 1, w, h);
        return NULL;
      }
    }
    k = KEY (v[0], v[1]);
    if (!has (out, k))
      g_array_append_val (out, k);
  }
  return g_steal_pointer (&out);
}

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

/* the new lists are saved, then taken (the old freed); FALSE: nothing changed */
static gboolean
commit (TcdDpc *d, GArray *pixels, GArray *pending, GArray *previous, gboolean keep_previous,
    GError **error)
{
  GArray *prev = keep_previous ? d->previous : previous;
  gboolean changed_list = pixels != d->pixels;

  if (!save (d, pixels, pending, prev, error)) {
    if (pixels != d->pixels)
      g_array_unref (pixels);
    if (pending != d->pending)
      g_array_unref (pending);
    if (!keep_previous && previous)
      g_array_unref (previous);
    return FALSE;
  }
  if (pixels != d->pixels) {
    g_array_unref (d->pixels);
    d->pixels = pixels;
  }
  if (pending != d->pending) {
    g_array_unref (d->pending);
    d->pending = pending;
  }
  if (!keep_previous) {
    if (d->previous)
      g_array_unref (d->previous);
    d->previous = previous;
  }
  if (changed_list)
    apply (d);
  return TRUE;
}

gboolean
tcd_dpc_add (TcdDpc *d, JsonNode *pixels, const TcdOrigin *origin, GError **error)
{
  g_autoptr (GArray) add = parse_pixels (d, pixels, error);
  GArray *pending;
  guint n = 0;

  if (!add)
    return FALSE;
  pending = copy (d->pending);
  for (guint i = 0; i < add->len; i++) {
    guint32 k = g_array_index (add, guint32, i);
    if (has (pending, k) || has (d->pixels, k))
      continue;
    if (d->pixels->len + pending->len >= TCD_DPC_MAX_PIXELS) {
      g_array_unref (pending);
      g_set_error (error, TCD_DPC_ERROR, TCD_DPC_ERROR_FULL,
          "at most %d defective pixels, corrected and marked together", TCD_DPC_MAX_PIXELS);
      return FALSE;
    }
    g_array_append_val (pending, k);
    n++;
  }
  if (!commit (d, d->pixels, pending, NULL, TRUE, error))
    return FALSE;
  tcd_audit (d->security, "system", user_of (origin), address_of (origin),
      "defective pixels: %u marked (%u pending)", n, d->pending->len);
  return TRUE;
}

gboolean
tcd_dpc_remove (TcdDpc *d, JsonNode *pixels, const TcdOrigin *origin, GError **error)
{
  g_autoptr (GArray) rm = parse_pixels (d, pixels, error);
  GArray *list, *pending;
  guint corrected = 0, marked = 0;

  if (!rm)
    return FALSE;
  list = g_array_new (FALSE, FALSE, sizeof (guint32));
  pending = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint i = 0; i < d->pixels->len; i++) {
    guint32 k = g_array_index (d->pixels, guint32, i);
    if (has (rm, k))
      corrected++;
    else
      g_array_append_val (list, k);
  }
  for (guint i = 0; i < d->pending->len; i++) {
    guint32 k = g_array_index (d->pending, guint32, i);
    if (has (rm, k))
      marked++;
    else
      g_array_append_val (pending, k);
  }
  if (!corrected) {
    g_array_unref (list);
    list = d->pixels;
  }
  /* a change of the corrected list: cancel brings it back */
  if (!commit (d, list, pending, corrected ? copy (d->pixels) : NULL, !corrected, error))
    return FALSE;
  tcd_audit (d->security, "system", user_of (origin), address_of (origin),
      "defective pixels: %u no longer corrected, %u marks removed", corrected, marked);
  return TRUE;
}

gboolean
tcd_dpc_correct (TcdDpc *d, const TcdOrigin *origin, GError **error)
{
  GArray *list;
  guint n = d->pending->len;

  if (!n) {
    g_set_error (error, TCD_DPC_ERROR, TCD_DPC_ERROR_NOTHING,
        "no defective pixel is marked: add some first");
    return FALSE;
  }
  list = copy (d->pixels);
  g_array_append_vals (list, d->pending->data, d->pending->len);
  if (!commit (d, list, g_array_new (FALSE, FALSE, sizeof (guint32)), copy (d->pixels), FALSE,
          error))
    return FALSE;
  tcd_audit (d->security, "system", user_of (origin), address_of (origin),
      "defective pixels: %u corrected (%u in all)", n, d->pixels->len);
  return TRUE;
}

gboolean
tcd_dpc_cancel (TcdDpc *d, const TcdOrigin *origin, GError **error)
{
  guint before = d->pixels->len, marks = d->pending->len;

  if (!d->previous && !marks) {
    g_set_error (error, TCD_DPC_ERROR, TCD_DPC_ERROR_NOTHING,
        "nothing to cancel: no correction since the last cancel and no pixel marked");
    return FALSE;
  }
  if (!commit (d, d->previous ? copy (d->previous) : d->pixels,
          g_array_new (FALSE, FALSE, sizeof (guint32)), NULL, FALSE, error))
    return FALSE;
  tcd_audit (d->security, "system", user_of (origin), address_of (origin),
      "defective pixel correction cancelled: %u corrected before, %u now, %u marks dropped",
      before, d->pixels->len, marks);
  return TRUE;
}
