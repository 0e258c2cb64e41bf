/* thermocamd: SNMP: the objects of THERMOCAM-MIB and SNMPv2-MIB's system group
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One handler answers both subtrees.  Each request (a PDU) takes one
 * snapshot of the values, a sorted table of a few dozen rows at most (the
 * device, the scene, up to the configured rules' seven columns, the
 * exceptions), and answers GET, GETNEXT and SET from it, so a walk sees one
 * frame's readings.  The temperatures are those of GET /api/v1/temperatures,
 * rounded as it rounds them, in tenths of a degree Celsius (Integer32).
 * A SET (device name, sysContact, sysLocation, a rule on or off) goes
 * through the change path as a change from "snmp".
 */
#include "tcd-snmp-private.h"

#include <math.h>
#include <string.h>

#include "gstthermalmeta.h"
#include "tc-json.h"
#include "tcd-json.h"

/* enterprises.32473 (RFC 5612, documentation) .42: THERMOCAM-MIB */
const oid snmp_mib_root[] = { 1, 3, 6, 1, 4, 1, 32473, 42 };
const gsize snmp_mib_root_len = G_N_ELEMENTS (snmp_mib_root);
static const oid system_root[] = { 1, 3, 6, 1, 2, 1, 1 };

#define MAX_ROWS 512

typedef enum { WR_NONE, WR_NAME, WR_CONTACT, WR_LOCATION, WR_RULE } Writable;

typedef struct {
  oid name[MAX_OID_LEN];
  gsize len;
  guchar type;                  /* ASN_INTEGER, ASN_OCTET_STR, ... */
  glong i;
  gchar *s;
  Writable wr;
  gint64 rule;
  gsize max_len;                /* strings that may be written */
} Row;

static netsnmp_handler_registration *regs[2];

static void
row_clear (gpointer p)
{
  g_free (((Row *) p)->s);
}

static Row *
row_add (GArray *t, const oid *base, gsize base_len, const oid *tail, gsize tail_len, guchar type)
{
  Row r = { 0 };

  if (t->len >= MAX_ROWS || base_len + tail_len > MAX_OID_LEN)
    return NULL;
  memcpy (r.name, base, base_len * sizeof (oid));
  memcpy (r.name + base_len, tail, tail_len * sizeof (oid));
  r.len = base_len + tail_len;
  r.type = type;
  g_array_append_val (t, r);
  return &g_array_index (t, Row, t->len - 1);
}

#define ADD(t, base, type, ...) \
  row_add ((t), (base), G_N_ELEMENTS (base), (const oid[]) { __VA_ARGS__ }, \
      G_N_ELEMENTS (((const oid[]) { __VA_ARGS__ })), (type))

static Row *
add_int (GArray *t, const oid *base, gsize base_len, const oid *tail, gsize tail_len,
    guchar type, glong v)
{
  Row *r = row_add (t, base, base_len, tail, tail_len, type);
  if (r)
    r->i = v;
  return r;
}

static Row *
add_str (GArray *t, const oid *base, gsize base_len, const oid *tail, gsize tail_len,
    const gchar *v)
{
  Row *r = row_add (t, base, base_len, tail, tail_len, ASN_OCTET_STR);
  if (r)
    r->s = g_strdup (v ? v : "");
  return r;
}

#define INT(t, base, type, v, ...) \
  add_int ((t), (base), G_N_ELEMENTS (base), (const oid[]) { __VA_ARGS__ }, \
      G_N_ELEMENTS (((const oid[]) { __VA_ARGS__ })), (type), (v))
#define STR(t, base, v, ...) \
  add_str ((t), (base), G_N_ELEMENTS (base), (const oid[]) { __VA_ARGS__ }, \
      G_N_ELEMENTS (((const oid[]) { __VA_ARGS__ })), (v))

/* tenths of a degree, as GET /temperatures rounds @key */
static glong
tenths (const gchar *key, gdouble v)
{
  return lround (tcd_json_round (key, v) * 10.0);
}

static gint
by_oid (gconstpointer a, gconstpointer b)
{
  const Row *x = a, *y = b;
  return snmp_oid_compare (x->name, x->len, y->name, y->len);
}

static const gchar *
cfg_string (TcdSnmp *s, const gchar *path)
{
  return tcd_config_string (s->ctx->config, path);
}

static void
add_system (TcdSnmp *s, GArray *t)
{
  g_autofree gchar *descr = g_strdup_printf ("thermocam thermal camera, thermocamd %s (%s)",
      PACKAGE_VERSION, s->ctx->source ? s->ctx->source : "");
  gint64 up = (g_get_monotonic_time () - s->ctx->started_us) / 10000;
  Row *r;

  STR (t, system_root, descr, 1, 0);
  r = ADD (t, system_root, ASN_OBJECT_ID, 2, 0);   /* sysObjectID: the MIB's root */
  if (r)
    r->i = 0;
  INT (t, system_root, ASN_TIMETICKS, (glong) (up & 0xffffffff), 3, 0);
  if ((r = STR (t, system_root, cfg_string (s, "snmp.contact"), 4, 0)))
    r->wr = WR_CONTACT, r->max_len = 64;
  if ((r = STR (t, system_root, cfg_string (s, "device.name"), 5, 0)))
    r->wr = WR_NAME, r->max_len = 32;
  if ((r = STR (t, system_root, cfg_string (s, "snmp.location"), 6, 0)))
    r->wr = WR_LOCATION, r->max_len = 64;
  INT (t, system_root, ASN_INTEGER, 72, 7, 0);   /* sysServices: end-to-end, applications */
}

/* tcRangeState: inRange(1), belowRange(2), aboveRange(3), bothOutside(4) */
static gint
range_state (gboolean below, gboolean above)
{
  return below && above ? 4 : above ? 3 : below ? 2 : 1;
}

static void
add_rules (TcdSnmp *s, GArray *t, GstThermalMeasureMeta *mm)
{
  JsonNode *rules = tcd_config_node (tcd_config_get (s->ctx->config), "rules");
  JsonArray *a = rules && JSON_NODE_HOLDS_ARRAY (rules) ? json_node_get_array (rules) : NULL;

  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonObject *o = tc_json_array_get_object (a, i);
    gint64 id = o ? tc_json_get_int (o, "id", 0) : 0;
    const GstThermalRuleResult *rr = NULL;
    Row *r;

    if (id <= 0)
      continue;
    for (guint k = 0; mm && k < mm->n_rules; k++)
      if (mm->rules[k].id == id)
        rr = &mm->rules[k];
    STR (t, snmp_mib_root, tc_json_get_string (o, "name", ""), 1, 3, 1, 1, 2, (oid) id);
    if ((r = INT (t, snmp_mib_root, ASN_INTEGER,
                tc_json_get_bool (o, "enabled", TRUE) ? 1 : 2, 1, 3, 1, 1, 3, (oid) id)))
      r->wr = WR_RULE, r->rule = id;
    if (rr && rr->valid && mm->valid) {
      INT (t, snmp_mib_root, ASN_INTEGER, tenths ("max", rr->max), 1, 3, 1, 1, 4, (oid) id);
      INT (t, snmp_mib_root, ASN_INTEGER, tenths ("min", rr->min), 1, 3, 1, 1, 5, (oid) id);
      INT (t, snmp_mib_root, ASN_INTEGER, tenths ("avg", rr->avg), 1, 3, 1, 1, 6, (oid) id);
    }
    if (rr)
      INT (t, snmp_mib_root, ASN_INTEGER, MIN ((gint) rr->state, 2) + 1, 1, 3, 1, 1, 7,
          (oid) id);
    if (rr && rr->valid && mm->valid)
      INT (t, snmp_mib_root, ASN_INTEGER, range_state (rr->below_range, rr->above_range),
          1, 3, 1, 1, 8, (oid) id);
  }
}

/* The values now, sorted by OID */
static GArray *
snapshot (TcdSnmp *s)
{
  GArray *t = g_array_new (FALSE, TRUE, sizeof (Row));
  g_autoptr (GstSample) sample = tcd_pipeline_get_temperature (s->ctx->pipeline);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstThermalMeasureMeta *mm = buf ? gst_buffer_get_thermal_measure_meta (buf) : NULL;
  gboolean on = tcd_config_bool (s->ctx->config, "thermometry.enabled");
  gint64 up = (g_get_monotonic_time () - s->ctx->started_us) / 10000;
  Row *r;

  g_array_set_clear_func (t, row_clear);
  if (!on)
    mm = NULL;
  add_system (s, t);
  if ((r = STR (t, snmp_mib_root, cfg_string (s, "device.name"), 1, 1, 1, 0)))
    r->wr = WR_NAME, r->max_len = 32;
  INT (t, snmp_mib_root, ASN_INTEGER, tcd_config_int (s->ctx->config, "device.number"),
      1, 1, 2, 0);
  STR (t, snmp_mib_root, s->ctx->serial, 1, 1, 3, 0);
  STR (t, snmp_mib_root, PACKAGE_VERSION, 1, 1, 4, 0);
  INT (t, snmp_mib_root, ASN_TIMETICKS, (glong) (up & 0xffffffff), 1, 1, 5, 0);
  INT (t, snmp_mib_root, ASN_INTEGER, mm && mm->valid ? 1 : 2, 1, 1, 6, 0);
  if (mm && mm->valid) {
    INT (t, snmp_mib_root, ASN_INTEGER, tenths ("max", mm->max), 1, 2, 1, 0);
    INT (t, snmp_mib_root, ASN_INTEGER, tenths ("min", mm->min), 1, 2, 2, 0);
    INT (t, snmp_mib_root, ASN_INTEGER, tenths ("avg", mm->avg), 1, 2, 3, 0);
  }
  if (mm)
    INT (t, snmp_mib_root, ASN_INTEGER, MIN ((gint) mm->scene_state, 2) + 1, 1, 2, 4, 0);
  if (mm && mm->valid)
    INT (t, snmp_mib_root, ASN_INTEGER, range_state (mm->below_range, mm->above_range),
        1, 2, 5, 0);
  add_rules (s, t, mm);
  INT (t, snmp_mib_root, ASN_COUNTER, s->exceptions, 1, 4, 1, 0);
  STR (t, snmp_mib_root, s->last_exception_type, 1, 4, 2, 0);
  STR (t, snmp_mib_root, s->last_exception_message, 1, 4, 3, 0);
  STR (t, snmp_mib_root, s->last_exception_time, 1, 4, 4, 0);
  g_array_sort (t, by_oid);
  return t;
}

static void
answer (netsnmp_variable_list *v, const Row *r)
{
  if (r->type == ASN_OCTET_STR) {
    snmp_set_var_typed_value (v, ASN_OCTET_STR, r->s, strlen (r->s));
  } else if (r->type == ASN_OBJECT_ID) {
    snmp_set_var_typed_value (v, ASN_OBJECT_ID, snmp_mib_root,
        snmp_mib_root_len * sizeof (oid));
  } else if (r->type == ASN_INTEGER) {
    long i = r->i;
    snmp_set_var_typed_value (v, ASN_INTEGER, &i, sizeof i);
  } else {
    u_long u = (u_long) r->i;
    snmp_set_var_typed_value (v, r->type, &u, sizeof u);
  }
}

static const Row *
find (GArray *t, const oid *name, gsize len)
{
  for (guint i = 0; i < t->len; i++) {
    const Row *r = &g_array_index (t, Row, i);
    if (snmp_oid_compare (r->name, r->len, name, len) == 0)
      return r;
  }
  return NULL;
}

/* the first row after @name inside @reg's subtree */
static const Row *
find_next (GArray *t, netsnmp_handler_registration *reg, const oid *name, gsize len)
{
  for (guint i = 0; i < t->len; i++) {
    const Row *r = &g_array_index (t, Row, i);
    if (snmp_oid_compare (r->name, r->len, name, len) > 0
        && netsnmp_oid_is_subtree (reg->rootoid, reg->rootoid_len, (oid *) r->name, r->len) == 0)
      return r;
  }
  return NULL;
}

/* ---- SET ---- */

static gboolean
set_string (TcdSnmp *s, const gchar *section, const gchar *member, const gchar *value,
    const TcdOrigin *o, GError **error)
{
  g_autoptr (JsonNode) patch = json_node_new (JSON_NODE_OBJECT);
  JsonObject *p = json_object_new ();

  json_object_set_string_member (p, member, value);
  json_node_take_object (patch, p);
  return tcd_change_commit (s->ctx->change, tcd_change_patched (s->ctx->change, section, patch),
      o, TCD_CHANGE_SKIP_UNCHANGED, NULL, error);
}

static gboolean
set_rule (TcdSnmp *s, gint64 id, gboolean on, const TcdOrigin *o, GError **error)
{
  g_autoptr (JsonNode) rules = tcd_json_deep_copy (tcd_config_get_section (s->ctx->config,
          "rules"));
  gboolean found = FALSE;

  for (guint i = 0; JSON_NODE_HOLDS_ARRAY (rules)
      && i < json_array_get_length (json_node_get_array (rules)); i++) {
    JsonObject *r = tc_json_array_get_object (json_node_get_array (rules), i);
    if (r && tc_json_get_int (r, "id", -1) == id) {
      json_object_set_boolean_member (r, "enabled", on);
      found = TRUE;
    }
  }
  if (!found) {
    tcd_change_refuse (error, "rules", "there is no rule %" G_GINT64_FORMAT, id);
    return FALSE;
  }
  return tcd_change_commit (s->ctx->change, tcd_change_patched (s->ctx->change, "rules", rules),
      o, TCD_CHANGE_SKIP_UNCHANGED, NULL, error);
}

/* RESERVE1: is the value one the row takes?  An SNMP error or 0 */
static gint
set_check (const Row *r, netsnmp_variable_list *v)
{
  if (!r)
    return SNMP_ERR_NOCREATION;
  if (r->wr == WR_NONE)
    return SNMP_ERR_NOTWRITABLE;
  if (v->type != r->type)
    return SNMP_ERR_WRONGTYPE;
  if (r->type == ASN_OCTET_STR) {
    if (v->val_len > r->max_len || (r->wr == WR_NAME && v->val_len == 0))
      return SNMP_ERR_WRONGLENGTH;
    if (!g_utf8_validate ((const gchar *) v->val.string, v->val_len, NULL)
        || memchr (v->val.string, 0, v->val_len))
      return SNMP_ERR_WRONGVALUE;
    return 0;
  }
  if (r->wr == WR_RULE && *v->val.integer != 1 && *v->val.integer != 2)
    return SNMP_ERR_WRONGVALUE;
  return 0;
}

static gint
set_apply (TcdSnmp *s, const Row *r, netsnmp_variable_list *v, netsnmp_pdu *pdu)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *text = NULL;
  gchar user[64], address[64];
  TcdOrigin o = { 0 };
  gboolean ok;

  o.address = address;
  snmp_origin (pdu, &o, user, sizeof user);
  if (r->type == ASN_OCTET_STR)
    text = g_strndup ((const gchar *) v->val.string, v->val_len);
  switch (r->wr) {
  case WR_NAME:
    o.what = "config.device";
    ok = set_string (s, "device", "name", text, &o, &err);
    break;
  case WR_CONTACT:
    o.what = "config.snmp";
    ok = set_string (s, "snmp", "contact", text, &o, &err);
    break;
  case WR_LOCATION:
    o.what = "config.snmp";
    ok = set_string (s, "snmp", "location", text, &o, &err);
    break;
  case WR_RULE:
    o.what = "rules";
    ok = set_rule (s, r->rule, *v->val.integer == 1, &o, &err);
    break;
  default:
    return SNMP_ERR_NOTWRITABLE;
  }
  s->sets++;
  if (ok)
    return 0;
  g_message ("SNMP: a SET from %s refused: %s", o.address ? o.address : "?", err->message);
  return SNMP_ERR_WRONGVALUE;
}

static int
handler (netsnmp_mib_handler *h, netsnmp_handler_registration *reg,
    netsnmp_agent_request_info *ri, netsnmp_request_info *requests)
{
  TcdSnmp *s = h->myvoid;
  g_autoptr (GArray) t = snapshot (s);

  for (netsnmp_request_info *q = requests; q; q = q->next) {
    netsnmp_variable_list *v = q->requestvb;
    const Row *r;
    gint err;

    if (q->processed)
      continue;
    switch (ri->mode) {
    case MODE_GET:
      if ((r = find (t, v->name, v->name_length)))
        answer (v, r);
      else
        netsnmp_set_request_error (ri, q, SNMP_NOSUCHINSTANCE);
      break;
    case MODE_GETNEXT:
      if ((r = find_next (t, reg, v->name, v->name_length))) {
        snmp_set_var_objid (v, r->name, r->len);
        answer (v, r);
      }
      break;
    case MODE_SET_RESERVE1:
      if ((err = set_check (find (t, v->name, v->name_length), v)))
        netsnmp_set_request_error (ri, q, err);
      break;
    case MODE_SET_ACTION:
      if ((r = find (t, v->name, v->name_length))
          && (err = set_apply (s, r, v, ri->asp ? ri->asp->pdu : NULL)))
        netsnmp_set_request_error (ri, q, err);
      break;
    default:
      break;
    }
  }
  return SNMP_ERR_NOERROR;
}

void
snmp_mib_register (TcdSnmp *s)
{
  const oid *roots[2] = { system_root, snmp_mib_root };
  const gsize lens[2] = { G_N_ELEMENTS (system_root), G_N_ELEMENTS (snmp_mib_root) };
  const gchar *names[2] = { "thermocam-system", "thermocam" };

  for (guint i = 0; i < 2; i++) {
    netsnmp_mib_handler *h;
    if (regs[i])
      continue;
    h = netsnmp_create_handler (names[i], handler);
    h->myvoid = s;
    regs[i] = netsnmp_handler_registration_create (names[i], h, roots[i], lens[i],
        HANDLER_CAN_RWRITE);
    if (netsnmp_register_handler (regs[i]) != MIB_REGISTERED_OK) {
      g_warning ("SNMP: cannot register %s", names[i]);
      regs[i] = NULL;
    }
  }
}

void
snmp_mib_unregister (void)
{
  for (guint i = 0; i < 2; i++)
    if (regs[i]) {
      netsnmp_unregister_handler (regs[i]);
      regs[i] = NULL;
    }
}
