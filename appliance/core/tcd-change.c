/* thermocamd: the change path
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-change.h"

#include "tc-json.h"

typedef struct {
  gchar *name;
  TcdChangeCheck check;
  gpointer data;
} Check;

typedef struct {
  gint order;
  guint seq;
  gchar *name;
  TcdChangeApply apply;
  TcdChangeUsers users;
  gpointer data;
} Subscriber;

typedef struct {
  gchar *section;
  TcdChangeIncoming incoming;
  TcdChangeView view;
  gpointer data;
} Policy;

struct _TcdChange {
  TcdConfig *config;
  TcdSecurity *security;
  TcdBus *bus;
  GPtrArray *checks, *subscribers, *policies;
  guint seq;
};

void
tcd_change_refuse (GError **error, const gchar *field, const gchar *format, ...)
{
  va_list ap;
  g_autofree gchar *m = NULL;

  va_start (ap, format);
  m = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error_literal (error, TCD_CONFIG_ERROR, TCD_CONFIG_ERROR_INVALID, m);
  if (error)
    tcd_error_set_field (*error, field);
}

/* ---- the built-in policies: secrets are write-only ---- */

/* metrics.token is write-only too: shown as token_set (outside GET /config) */
static void
drop_token (JsonNode *section, gboolean whole, gpointer user_data)
{
  JsonObject *o;

  if (!section || !JSON_NODE_HOLDS_OBJECT (section))
    return;
  o = json_node_get_object (section);
  if (!whole)
    json_object_set_boolean_member (o, "token_set",
        *tc_json_get_string (o, "token", ""));
  json_object_remove_member (o, "token");
}

/* ... and a patch may carry token_set back: it is dropped */
static void
drop_token_set (TcdConfig *cfg, JsonNode *patch, gpointer user_data)
{
  if (patch && JSON_NODE_HOLDS_OBJECT (patch))
    json_object_remove_member (json_node_get_object (patch), "token_set");
}

static void
drop_password (JsonNode *section, gboolean whole, gpointer user_data)
{
  if (section && JSON_NODE_HOLDS_OBJECT (section))
    json_object_remove_member (json_node_get_object (section), "password");
}

/* MQTT's password, and its TLS client key */
static void
drop_password_and_key (JsonNode *section, gboolean whole, gpointer user_data)
{
  JsonObject *tls;

  drop_password (section, whole, user_data);
  if (section && JSON_NODE_HOLDS_OBJECT (section)
      && (tls = tc_json_get_object (json_node_get_object (section), "tls")))
    json_object_remove_member (tls, "key");
}

/* An FTP or SMTP password belongs to its server and user: a change of
 * those without a new password empties it, so that a stored password is
 * never sent to another server (a test route or a PUT could otherwise send
 * the administrator's password wherever an operator points it) */
static void
bind_password (TcdConfig *cfg, JsonNode *patch, gpointer user_data)
{
  /* MQTT's also to its TLS settings (no TLS, another CA: another peer) */
  static const gchar *const keys[] = { "server", "port", "user", "tls", NULL };
  JsonNode *cur = tcd_config_get_section (cfg, user_data);
  JsonObject *p, *c;

  if (!patch || !JSON_NODE_HOLDS_OBJECT (patch) || !cur || !JSON_NODE_HOLDS_OBJECT (cur))
    return;
  p = json_node_get_object (patch);
  c = json_node_get_object (cur);
  if (json_object_has_member (p, "password"))
    return;
  for (guint i = 0; keys[i]; i++) {
    JsonObject *pt, *ct;
    if (!json_object_has_member (p, keys[i]))
      continue;
    if (g_str_equal (keys[i], "tls") && (pt = tc_json_get_object (p, "tls"))
        && (ct = tc_json_get_object (c, "tls"))) {
      /* a patch of the TLS settings: what says who the peer is */
      static const gchar *const peer[] = { "enabled", "ca", "verify_hostname", NULL };
      for (guint k = 0; peer[k]; k++)
        if (json_object_has_member (pt, peer[k])
            && !tc_json_equal (json_object_get_member (pt, peer[k]),
                json_object_get_member (ct, peer[k]))) {
          json_object_set_string_member (p, "password", "");
          return;
        }
      continue;
    }
    if (!tc_json_equal (json_object_get_member (p, keys[i]), json_object_get_member (c, keys[i]))) {
      json_object_set_string_member (p, "password", "");
      return;
    }
  }
}

static void
drop_receiver_passwords (JsonNode *center, gboolean whole, gpointer user_data)
{
  JsonNode *rs = center && JSON_NODE_HOLDS_OBJECT (center)
      ? json_object_get_member (json_node_get_object (center), "receivers") : NULL;

  for (guint i = 0; rs && JSON_NODE_HOLDS_ARRAY (rs)
      && i < json_array_get_length (json_node_get_array (rs)); i++) {
    JsonNode *r = json_array_get_element (json_node_get_array (rs), i);
    if (JSON_NODE_HOLDS_OBJECT (r))
      json_object_remove_member (json_node_get_object (r), "password");
  }
}

/* A center receiver sent back without its (write-only) password keeps the
 * one it had, if it is the same receiver (URL and user) */
static void
keep_receiver_passwords (TcdConfig *cfg, JsonNode *patch, gpointer user_data)
{
  JsonNode *old = tcd_config_node (tcd_config_get (cfg), "center.receivers");
  JsonNode *rs = patch && JSON_NODE_HOLDS_OBJECT (patch)
      ? json_object_get_member (json_node_get_object (patch), "receivers") : NULL;

  if (!old || !JSON_NODE_HOLDS_ARRAY (old) || !rs || !JSON_NODE_HOLDS_ARRAY (rs))
    return;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (rs)); i++) {
    JsonNode *r = json_array_get_element (json_node_get_array (rs), i);
    JsonObject *ro;
    if (!JSON_NODE_HOLDS_OBJECT (r) || json_object_has_member (ro = json_node_get_object (r),
            "password"))
      continue;
    for (guint k = 0; k < json_array_get_length (json_node_get_array (old)); k++) {
      JsonObject *o = tc_json_array_get_object (json_node_get_array (old), k);
      if (o && g_strcmp0 (tc_json_get_string (o, "url", ""),
              tc_json_get_string (ro, "url", "")) == 0
          && g_strcmp0 (tc_json_get_string (o, "user", ""),
              tc_json_get_string (ro, "user", "")) == 0
          && json_object_has_member (o, "password")) {
        json_object_set_string_member (ro, "password",
            tc_json_get_string (o, "password", ""));
        break;
      }
    }
  }
}

/* ---- checks the owner registers ---- */

/* An IP filter that would shut out the address making the change is
 * refused (the administrator would lock themselves out for good) */
gboolean
tcd_change_check_ip_filter (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
    gpointer user_data, GError **error)
{
  if (!origin || !origin->address
      || tcd_ip_filter_allows (tcd_config_node (doc, "security.ip_filter"), origin->address))
    return TRUE;
  tcd_change_refuse (error, "security.ip_filter",
      "security.ip_filter: this filter would shut out %s, the address making the change; "
      "add it to the list first", origin->address);
  return FALSE;
}

/* ---- the path ---- */

static void
check_free (Check *c)
{
  g_free (c->name);
  g_free (c);
}

static void
subscriber_free (Subscriber *s)
{
  g_free (s->name);
  g_free (s);
}

static void
policy_free (Policy *p)
{
  g_free (p->section);
  g_free (p);
}

static void
security_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  tcd_security_configure (user_data, tcd_config_node (doc, "security"));
}

TcdChange *
tcd_change_new (TcdConfig *config, TcdSecurity *security, TcdBus *bus)
{
  TcdChange *c = g_new0 (TcdChange, 1);

  c->config = config;
  c->security = security;
  c->bus = bus;
  c->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) check_free);
  c->subscribers = g_ptr_array_new_with_free_func ((GDestroyNotify) subscriber_free);
  c->policies = g_ptr_array_new_with_free_func ((GDestroyNotify) policy_free);
  tcd_change_add_policy (c, "ftp", bind_password, drop_password, (gpointer) "ftp");
  tcd_change_add_policy (c, "email", bind_password, drop_password, (gpointer) "email");
  tcd_change_add_policy (c, "mqtt", bind_password, drop_password_and_key, (gpointer) "mqtt");
  tcd_change_add_policy (c, "center", keep_receiver_passwords, drop_receiver_passwords, NULL);
  tcd_change_add_policy (c, "metrics", drop_token_set, drop_token, NULL);
  tcd_change_subscribe (c, TCD_CHANGE_ORDER_SECURITY, "security", security_apply, NULL,
      security);
  return c;
}

void
tcd_change_free (TcdChange *c)
{
  if (!c)
    return;
  g_ptr_array_unref (c->checks);
  g_ptr_array_unref (c->subscribers);
  g_ptr_array_unref (c->policies);
  g_free (c);
}

TcdConfig *
tcd_change_get_config (TcdChange *c)
{
  return c->config;
}

void
tcd_change_add_check (TcdChange *c, const gchar *name, TcdChangeCheck check, gpointer data)
{
  Check *k = g_new0 (Check, 1);

  k->name = g_strdup (name);
  k->check = check;
  k->data = data;
  g_ptr_array_add (c->checks, k);
}

static gint
by_order (gconstpointer a, gconstpointer b)
{
  const Subscriber *x = *(Subscriber * const *) a, *y = *(Subscriber * const *) b;
  if (x->order != y->order)
    return x->order < y->order ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
tcd_change_subscribe (TcdChange *c, TcdChangeOrder order, const gchar *name,
    TcdChangeApply apply, TcdChangeUsers users, gpointer data)
{
  Subscriber *s = g_new0 (Subscriber, 1);

  s->order = order;
  s->seq = c->seq++;
  s->name = g_strdup (name);
  s->apply = apply;
  s->users = users;
  s->data = data;
  g_ptr_array_add (c->subscribers, s);
  g_ptr_array_sort (c->subscribers, by_order);
}

void
tcd_change_add_policy (TcdChange *c, const gchar *section, TcdChangeIncoming incoming,
    TcdChangeView view, gpointer data)
{
  Policy *p = g_new0 (Policy, 1);

  p->section = g_strdup (section);
  p->incoming = incoming;
  p->view = view;
  p->data = data;
  g_ptr_array_add (c->policies, p);
}

gboolean
tcd_change_commit (TcdChange *c, JsonNode *doc, const TcdOrigin *origin, TcdChangeFlags flags,
    gboolean *changed, GError **error)
{
  g_autoptr (JsonNode) new_doc = doc;
  g_autoptr (JsonNode) old = NULL;
  g_autofree gchar *field = NULL;
  const gchar *what = origin && origin->what ? origin->what : "config";
  JsonNode *current = tcd_config_get (c->config);

  if (changed)
    *changed = FALSE;
  /* the same document again (a PLC writing every cycle): the current one
   * passed every check already */
  if ((flags & TCD_CHANGE_SKIP_UNCHANGED) && tc_json_equal (new_doc, current))
    return TRUE;
  /* a new video standard takes the streams' frame rates along (PAL: at most
   * 25); a stream asking for more than the standard's rate is refused */
  if (!tc_json_equal (tcd_config_node (new_doc, "image.video_standard"),
          tcd_config_node (current, "image.video_standard")))
    tcd_config_fit_frame_rates (new_doc);
  if (!tcd_config_check (c->config, new_doc, &field, error)) {
    if (error && *error && !tcd_error_get_field (*error))
      tcd_error_set_field (*error, field);
    return FALSE;
  }
  for (guint i = 0; i < c->checks->len; i++) {
    Check *k = g_ptr_array_index (c->checks, i);
    if (!k->check (new_doc, current, origin, k->data, error))
      return FALSE;
  }
  old = tcd_json_deep_copy (current);
  if (!tcd_config_commit (c->config, json_node_ref (new_doc), error))
    return FALSE;
  if (changed)
    *changed = TRUE;
  for (guint i = 0; i < c->subscribers->len; i++) {
    Subscriber *s = g_ptr_array_index (c->subscribers, i);
    if (s->apply)
      s->apply (new_doc, old, s->data);
  }
  g_message ("configuration changed: %s (%s%s%s)", what,
      origin && origin->protocol ? origin->protocol : "device",
      origin && origin->user ? ", " : "", origin && origin->user ? origin->user : "");
  tcd_audit (c->security, "config", origin ? origin->user : NULL,
      origin ? origin->address : NULL, "changed %s", what);
  if (c->bus)
    tcd_bus_emit (c->bus, TCD_EVENT_CONFIG, tcd_event_config_new (what));
  return TRUE;
}

static Policy *
policy_of (TcdChange *c, const gchar *section)
{
  for (guint i = 0; section && i < c->policies->len; i++) {
    Policy *p = g_ptr_array_index (c->policies, i);
    if (g_str_equal (p->section, section))
      return p;
  }
  return NULL;
}

JsonNode *
tcd_change_patched (TcdChange *c, const gchar *section, JsonNode *patch)
{
  Policy *p = policy_of (c, section);

  if (p && p->incoming)
    p->incoming (c->config, patch, p->data);
  return tcd_config_patched (c->config, section, patch);
}

JsonNode *
tcd_change_view (TcdChange *c, const gchar *section)
{
  JsonNode *copy = tcd_json_deep_copy (section ? tcd_config_get_section (c->config, section)
      : tcd_config_get (c->config));

  for (guint i = 0; i < c->policies->len; i++) {
    Policy *p = g_ptr_array_index (c->policies, i);
    if (!p->view)
      continue;
    if (!section)
      p->view (tcd_config_node (copy, p->section), TRUE, p->data);
    else if (g_str_equal (section, p->section))
      p->view (copy, FALSE, p->data);
  }
  return copy;
}

void
tcd_change_users_changed (TcdChange *c, const TcdOrigin *origin)
{
  for (guint i = 0; i < c->subscribers->len; i++) {
    Subscriber *s = g_ptr_array_index (c->subscribers, i);
    if (s->users)
      s->users (s->data);
  }
}
