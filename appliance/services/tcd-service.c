/* thermocamd: the table of services
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-service-table.h"

typedef struct {
  const TcdServiceClass *klass;
  gpointer self;
} Entry;

struct _TcdServices {
  GArray *entries;
  guint restarts;
};

TcdServices *
tcd_services_new (void)
{
  TcdServices *s = g_new0 (TcdServices, 1);
  s->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  return s;
}

void
tcd_services_free (TcdServices *s)
{
  if (!s)
    return;
  /* the last made goes first */
  for (guint i = s->entries->len; i-- > 0;) {
    Entry *e = &g_array_index (s->entries, Entry, i);
    if (e->self)
      e->klass->destroy (e->self);
  }
  g_array_unref (s->entries);
  g_free (s);
}

void
tcd_services_add (TcdServices *s, const TcdServiceClass *klass, gpointer self)
{
  Entry e = { klass, self };
  g_array_append_val (s->entries, e);
}

guint
tcd_services_count (TcdServices *s)
{
  return s->entries->len;
}

const TcdServiceClass *
tcd_services_class (TcdServices *s, guint i)
{
  return g_array_index (s->entries, Entry, i).klass;
}

gpointer
tcd_services_instance (TcdServices *s, guint i)
{
  return g_array_index (s->entries, Entry, i).self;
}

guint
tcd_services_port (TcdServices *s, const gchar *port)
{
  for (guint i = 0; s && i < s->entries->len; i++) {
    Entry *e = &g_array_index (s->entries, Entry, i);
    for (guint k = 0; e->klass->ports[k]; k++)
      if (g_str_equal (e->klass->ports[k], port))
        return e->self ? e->klass->get_port (e->self, k) : 0;
  }
  return 0;
}

void
tcd_services_apply (TcdServices *s, JsonNode *doc)
{
  for (guint i = 0; i < s->entries->len; i++) {
    Entry *e = &g_array_index (s->entries, Entry, i);
    if (e->self && e->klass->apply)
      e->klass->apply (e->self, doc);
  }
}

void
tcd_services_security_changed (TcdServices *s, TcdSecurityChange what)
{
  for (guint i = 0; i < s->entries->len; i++) {
    Entry *e = &g_array_index (s->entries, Entry, i);
    if (e->self && e->klass->security_changed)
      e->klass->security_changed (e->self, what);
  }
}

JsonNode *
tcd_services_stats (TcdServices *s)
{
  JsonObject *o = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);

  for (guint i = 0; i < s->entries->len; i++) {
    Entry *e = &g_array_index (s->entries, Entry, i);
    if (e->self && e->klass->stats)
      json_object_set_member (o, e->klass->name, e->klass->stats (e->self));
  }
  json_node_take_object (n, o);
  return n;
}

guint
tcd_services_get_restarts (TcdServices *s)
{
  return s->restarts;
}

void
tcd_services_count_restart (TcdServices *s)
{
  s->restarts++;
}
