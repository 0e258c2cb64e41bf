/* thermocamd: ONVIF's SOAP engine: the envelope, the dispatch, answers and faults
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See onvif-private.h for the handler interface.  Everything from the
 * network is bounded before libxml2 sees it: the size (ONVIF_MAX_BODY), no
 * document type declaration (SOAP 1.2 part 1, 5: a SOAP message has none;
 * so no entity can be declared, neither "billion laughs" nor an external
 * one), UTF-8 only; the parser then runs without network, without entity
 * substitution and without loading a DTD, and the tree is refused past
 * ONVIF_MAX_DEPTH levels or ONVIF_MAX_NODES elements.
 */
#include "onvif-private.h"

#include <libxml/parser.h>
#include <math.h>
#include <string.h>

#include "tcd-error.h"

/* the services, one line each (a weak one that is not linked is skipped) */
static const OnvifService *const *
all_services (guint *n)
{
  static const OnvifService *const list[] = {
    &onvif_device_service,
    &onvif_media_service,
    &onvif_media2_service,
    &onvif_events_service,
    &onvif_imaging_service,
    &onvif_thermal_service,
    &onvif_analytics_service,
  };
  *n = G_N_ELEMENTS (list);
  return list;
}

#define MAX_SERVICES 16

struct _Onvif {
  TcdHttp *h;
  OnvifAuth *auth;
  const OnvifService *present[MAX_SERVICES + 1];
  gpointer state[MAX_SERVICES];
  guint n;
  guint64 requests, faults;
};

Onvif *
onvif_new (TcdHttp *h)
{
  Onvif *o = g_new0 (Onvif, 1);
  guint n;
  const OnvifService *const *list = all_services (&n);

  o->h = h;
  o->auth = onvif_auth_new (h);
  for (guint i = 0; i < n && o->n < MAX_SERVICES; i++) {
    if (!list[i])
      continue;
    o->present[o->n] = list[i];
    if (list[i]->create)
      o->state[o->n] = list[i]->create (o, h->ctx);
    o->n++;
  }
  return o;
}

void
onvif_free (Onvif *o)
{
  if (!o)
    return;
  for (guint i = o->n; i-- > 0;)
    if (o->present[i]->destroy && o->state[i])
      o->present[i]->destroy (o->state[i]);
  onvif_auth_free (o->auth);
  g_free (o);
}

/* {"enabled", "requests", "faults", "services": [paths]} */
JsonNode *
onvif_stats (Onvif *o)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, tcd_config_bool (o->h->ctx->config, "onvif.enabled"));
  json_builder_set_member_name (b, "requests");
  json_builder_add_int_value (b, o->requests);
  json_builder_set_member_name (b, "faults");
  json_builder_add_int_value (b, o->faults);
  json_builder_set_member_name (b, "services");
  json_builder_begin_array (b);
  for (guint i = 0; i < o->n; i++)
    json_builder_add_string_value (b, o->present[i]->path);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

const OnvifService *const *
onvif_services (void)
{
  static const OnvifService *present[MAX_SERVICES + 1];
  static gsize done;

  if (g_once_init_enter (&done)) {
    guint n, k = 0;
    const OnvifService *const *list = all_services (&n);
    for (guint i = 0; i < n && k < MAX_SERVICES; i++)
      if (list[i])
        present[k++] = list[i];
    g_once_init_leave (&done, 1);
  }
  return present;
}

const OnvifService *
onvif_service_by_ns (const gchar *ns)
{
  const OnvifService *const *s = onvif_services ();

  for (; *s; s++)
    if (g_strcmp0 ((*s)->ns, ns) == 0)
      return *s;
  return NULL;
}

gpointer
onvif_service_state (Onvif *o, const OnvifService *service)
{
  for (guint i = 0; i < o->n; i++)
    if (o->present[i] == service)
      return o->state[i];
  return NULL;
}

gpointer
onvif_state (OnvifRequest *r)
{
  return onvif_service_state (r->onvif, r->service);
}

/* ---- reading ---- */

xmlNodePtr
onvif_next (xmlNodePtr node, const gchar *name)
{
  for (xmlNodePtr n = node ? node->next : NULL; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE && (!name || g_str_equal ((const gchar *) n->name, name)))
      return n;
  return NULL;
}

xmlNodePtr
onvif_child (xmlNodePtr parent, const gchar *name)
{
  for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE && (!name || g_str_equal ((const gchar *) n->name, name)))
      return n;
  return NULL;
}

gchar *
onvif_text (xmlNodePtr node)
{
  xmlChar *c;
  gchar *s;

  if (!node)
    return NULL;
  c = xmlNodeGetContent (node);
  s = g_strstrip (g_strdup (c ? (const gchar *) c : ""));
  xmlFree (c);
  return s;
}

gchar *
onvif_child_text (xmlNodePtr parent, const gchar *name)
{
  return onvif_text (onvif_child (parent, name));
}

gchar *
onvif_attr (xmlNodePtr node, const gchar *name)
{
  for (xmlAttrPtr a = node ? node->properties : NULL; a; a = a->next)
    if (g_str_equal ((const gchar *) a->name, name)) {
      xmlChar *c = xmlNodeListGetString (node->doc, a->children, 1);
      gchar *s = g_strstrip (g_strdup (c ? (const gchar *) c : ""));
      xmlFree (c);
      return s;
    }
  return NULL;
}

gboolean
onvif_child_bool (OnvifRequest *r, xmlNodePtr parent, const gchar *name, gboolean *value,
    gboolean *found)
{
  g_autofree gchar *t = onvif_child_text (parent, name);

  if (found)
    *found = t != NULL;
  if (!t)
    return TRUE;
  if (g_str_equal (t, "true") || g_str_equal (t, "1"))
    *value = TRUE;
  else if (g_str_equal (t, "false") || g_str_equal (t, "0"))
    *value = FALSE;
  else
    return onvif_invalid_arg (r, NULL, "%s: not a boolean", name);
  return TRUE;
}

gboolean
onvif_child_int (OnvifRequest *r, xmlNodePtr parent, const gchar *name, gint64 min, gint64 max,
    gint64 *value, gboolean *found)
{
  g_autofree gchar *t = onvif_child_text (parent, name);
  gint64 v;

  if (found)
    *found = t != NULL;
  if (!t)
    return TRUE;
  if (!g_ascii_string_to_signed (t, 10, min, max, &v, NULL))
    return onvif_invalid_arg (r, NULL, "%s: not an integer in [%" G_GINT64_FORMAT ", %"
        G_GINT64_FORMAT "]", name, min, max);
  *value = v;
  return TRUE;
}

gboolean
onvif_child_double (OnvifRequest *r, xmlNodePtr parent, const gchar *name, gdouble *value,
    gboolean *found)
{
  g_autofree gchar *t = onvif_child_text (parent, name);
  gchar *end = NULL;
  gdouble v;

  if (found)
    *found = t != NULL;
  if (!t)
    return TRUE;
  v = g_ascii_strtod (t, &end);
  if (!*t || *end || !isfinite (v))
    return onvif_invalid_arg (r, NULL, "%s: not a number", name);
  *value = v;
  return TRUE;
}

/* ---- writing ---- */

void
onvif_open (OnvifRequest *r, const gchar *tag)
{
  g_string_append_printf (r->out, "<%s>", tag);
}

void
onvif_open_attrs (OnvifRequest *r, const gchar *tag, const gchar *fmt, ...)
{
  va_list ap;

  g_string_append_printf (r->out, "<%s ", tag);
  va_start (ap, fmt);
  g_string_append_vprintf (r->out, fmt, ap);
  va_end (ap);
  g_string_append_c (r->out, '>');
}

void
onvif_close (OnvifRequest *r, const gchar *tag)
{
  g_string_append_printf (r->out, "</%s>", tag);
}

void
onvif_empty (OnvifRequest *r, const gchar *tag)
{
  g_string_append_printf (r->out, "<%s/>", tag);
}

void
onvif_elem (OnvifRequest *r, const gchar *tag, const gchar *text)
{
  g_autofree gchar *e = g_markup_escape_text (text ? text : "", -1);
  g_string_append_printf (r->out, "<%s>%s</%s>", tag, e, tag);
}

void
onvif_elemf (OnvifRequest *r, const gchar *tag, const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *t = NULL;

  va_start (ap, fmt);
  t = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  onvif_elem (r, tag, t);
}

void
onvif_raw (OnvifRequest *r, const gchar *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  g_string_append_vprintf (r->out, fmt, ap);
  va_end (ap);
}

gchar *
onvif_datetime (gint64 unix_us)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (unix_us / G_USEC_PER_SEC);
  return t ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("1970-01-01T00:00:00Z");
}

gchar *
onvif_duration (gint64 seconds)
{
  return g_strdup_printf ("PT%" G_GINT64_FORMAT "S", MAX (seconds, 0));
}

/* xs:duration without years or months ("PT1M30S", "P1DT2H", "PT10.5S"):
 * whole seconds, -1 when malformed or over a year */
gint64
onvif_parse_duration (const gchar *text)
{
  const gchar *p = text;
  gboolean in_time = FALSE, any = FALSE;
  gdouble total = 0;

  if (!p || *p++ != 'P')
    return -1;
  while (*p) {
    gchar *end = NULL;
    gdouble v;
    if (*p == 'T') {
      if (in_time)
        return -1;
      in_time = TRUE;
      p++;
      continue;
    }
    if (!g_ascii_isdigit (*p))
      return -1;
    v = g_ascii_strtod (p, &end);
    if (end == p || v < 0)
      return -1;
    p = end;
    switch (*p) {
      case 'D': if (in_time) return -1; total += v * 86400; break;
      case 'H': if (!in_time) return -1; total += v * 3600; break;
      case 'M': if (!in_time) return -1; total += v * 60; break;
      case 'S': if (!in_time) return -1; total += v; break;
      default: return -1;
    }
    any = TRUE;
    p++;
    if (total > 366.0 * 86400)
      return -1;
  }
  return any ? (gint64) total : -1;
}

/* ---- faults ---- */

gboolean
onvif_fault (OnvifRequest *r, gboolean receiver, const gchar *subcode, const gchar *subcode2,
    const gchar *fmt, ...)
{
  va_list ap;

  if (r->fault)                 /* the first one tells */
    return FALSE;
  r->fault = TRUE;
  r->fault_receiver = receiver;
  r->subcode = g_strdup (subcode);
  r->subcode2 = g_strdup (subcode2);
  va_start (ap, fmt);
  r->reason = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return FALSE;
}

gboolean
onvif_fault_gerror (OnvifRequest *r, const GError *error)
{
  const gchar *field = tcd_error_get_field (error);

  if (field && !strstr (error->message, field))
    return onvif_invalid_arg (r, "ter:ConfigModify", "%s: %s", field, error->message);
  return onvif_invalid_arg (r, "ter:ConfigModify", "%s", error->message);
}

static void
send_soap (SoupServerMessage *msg, guint status, const gchar *body)
{
  g_autofree gchar *text = g_strconcat ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<soap:Envelope" ONVIF_NS "><soap:Body>", body, "</soap:Body></soap:Envelope>\n", NULL);
  gsize len = strlen (text);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/soap+xml; charset=utf-8",
      SOUP_MEMORY_TAKE, g_steal_pointer (&text), len);
}

static void
send_fault (OnvifRequest *r)
{
  g_autoptr (GString) f = g_string_new (NULL);
  g_autofree gchar *reason = g_markup_escape_text (r->reason ? r->reason : "", -1);
  const gchar *code = r->fault_receiver ? "soap:Receiver" : "soap:Sender";
  guint status = r->http_status ? r->http_status
      : r->fault_receiver ? SOUP_STATUS_INTERNAL_SERVER_ERROR : SOUP_STATUS_BAD_REQUEST;

  if (r->subcode && g_str_has_prefix (r->subcode, "soap:"))
    code = r->subcode;          /* VersionMismatch, MustUnderstand: no subcode */
  g_string_append_printf (f, "<soap:Fault><soap:Code><soap:Value>%s</soap:Value>", code);
  if (r->subcode && !g_str_has_prefix (r->subcode, "soap:")) {
    g_string_append_printf (f, "<soap:Subcode><soap:Value>%s</soap:Value>", r->subcode);
    if (r->subcode2)
      g_string_append_printf (f, "<soap:Subcode><soap:Value>%s</soap:Value></soap:Subcode>",
          r->subcode2);
    g_string_append (f, "</soap:Subcode>");
  }
  g_string_append_printf (f, "</soap:Code><soap:Reason><soap:Text xml:lang=\"en\">%s"
      "</soap:Text></soap:Reason></soap:Fault>", reason);
  if (r->onvif)
    r->onvif->faults++;
  send_soap (r->msg, status, f->str);
}

void
onvif_send_later (SoupServerMessage *msg, const gchar *body)
{
  send_soap (msg, SOUP_STATUS_OK, body);
  soup_server_message_unpause (msg);
}

void
onvif_send_fault_later (SoupServerMessage *msg, gboolean receiver, const gchar *subcode,
                        const gchar *subcode2, const gchar *reason)
{
  OnvifRequest r = { 0 };

  r.msg = msg;
  r.fault_receiver = receiver;
  r.subcode = (gchar *) subcode;
  r.subcode2 = (gchar *) subcode2;
  r.reason = (gchar *) reason;
  send_fault (&r);
  soup_server_message_unpause (msg);
}

/* ---- the change path ---- */

JsonNode *
onvif_object_new (void)
{
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, json_object_new ());
  return n;
}

gboolean
onvif_change_doc (OnvifRequest *r, JsonNode *doc, const gchar *what)
{
  TcdOrigin o = { what, r->user, r->address, "onvif" };
  g_autoptr (GError) err = NULL;

  if (!tcd_change_commit (r->ctx->change, doc, &o, TCD_CHANGE_NONE, NULL, &err))
    return onvif_fault_gerror (r, err);
  return TRUE;
}

gboolean
onvif_change (OnvifRequest *r, const gchar *section, JsonNode *patch)
{
  g_autoptr (JsonNode) p = patch;
  g_autofree gchar *what = g_strdup_printf ("config.%s", section);

  return onvif_change_doc (r, tcd_change_patched (r->ctx->change, section, p), what);
}

/* ---- addresses ---- */

gchar *
onvif_request_host (OnvifRequest *r)
{
  g_autofree gchar *h = g_strdup (r->host);
  gchar *colon;

  if (h[0] == '[') {
    gchar *end = strchr (h, ']');
    if (end)
      end[1] = '\0';
    return g_steal_pointer (&h);
  }
  if ((colon = strrchr (h, ':')))
    *colon = '\0';
  return g_steal_pointer (&h);
}

gchar *
onvif_xaddr (OnvifRequest *r, const OnvifService *service)
{
  return g_strdup_printf ("%s://%s%s", r->tls ? "https" : "http", r->host, service->path);
}

/* the host and port the client asked (Host), else ours; checked so that it
 * cannot inject markup into an address we hand back */
static gchar *
request_host (TcdHttp *h, SoupServerMessage *msg, gboolean tls)
{
  const gchar *host = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Host");
  g_autoptr (GSocketAddress) local = NULL;

  if (host && *host && strlen (host) < 256) {
    gboolean ok = TRUE;
    for (const gchar *p = host; *p && ok; p++)
      ok = g_ascii_isalnum (*p) || strchr ("-.:[]_", *p);
    if (ok)
      return strchr (host, ':') && host[0] != '[' ? g_strdup (host)
          : host[0] == '[' && strstr (host, "]:") ? g_strdup (host)
          : g_strdup_printf ("%s:%u", host, tls ? tcd_http_get_https_port (h)
              : tcd_http_get_port (h));
  }
  {
    GSocketAddress *l = soup_server_message_get_local_address (msg);
    if (G_IS_INET_SOCKET_ADDRESS (l)) {
      g_autofree gchar *a = g_inet_address_to_string (g_inet_socket_address_get_address
          (G_INET_SOCKET_ADDRESS (l)));
      guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (l));
      return strchr (a, ':') ? g_strdup_printf ("[%s]:%u", a, port)
          : g_strdup_printf ("%s:%u", a, port);
    }
  }
  return g_strdup_printf ("127.0.0.1:%u", tcd_http_get_port (h));
}

/* ---- the envelope ---- */

static gboolean
tree_bounded (xmlNodePtr node, guint depth, guint *count)
{
  for (xmlNodePtr n = node; n; n = n->next) {
    if (n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_NODE
        || n->type == XML_DTD_NODE || n->type == XML_ENTITY_DECL)
      return FALSE;
    if (n->type != XML_ELEMENT_NODE)
      continue;
    if (depth > ONVIF_MAX_DEPTH || ++*count > ONVIF_MAX_NODES)
      return FALSE;
    if (!tree_bounded (n->children, depth + 1, count))
      return FALSE;
  }
  return TRUE;
}

static gboolean
ns_is (xmlNodePtr n, const gchar *ns)
{
  return n && n->ns && n->ns->href && g_str_equal ((const gchar *) n->ns->href, ns);
}

static xmlDocPtr
parse (OnvifRequest *r, const gchar *data, gsize len)
{
  xmlParserCtxtPtr ctxt;
  xmlDocPtr doc;
  guint count = 0;

  if (len == 0)
    return onvif_fault (r, FALSE, "ter:WellFormed", NULL, "no body"), NULL;
  /* UTF-8 (or ASCII) only: no BOM of UTF-16/32, no NUL */
  if (memchr (data, '\0', len) || (len >= 2 && ((guchar) data[0] == 0xfe
              || (guchar) data[0] == 0xff)))
    return onvif_fault (r, FALSE, "ter:WellFormed", NULL, "the body is not UTF-8 XML"), NULL;
  if (g_strstr_len (data, len, "<!DOCTYPE") || g_strstr_len (data, len, "<!ENTITY"))
    return onvif_fault (r, FALSE, "ter:WellFormed", NULL,
        "a SOAP message has no document type declaration"), NULL;
  ctxt = xmlNewParserCtxt ();
  if (!ctxt)
    return onvif_fault (r, TRUE, "ter:Action", NULL, "out of memory"), NULL;
  doc = xmlCtxtReadMemory (ctxt, data, (int) len, "soap.xml", "UTF-8",
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlFreeParserCtxt (ctxt);
  if (!doc)
    return onvif_fault (r, FALSE, "ter:WellFormed", NULL, "the body is not well-formed XML"),
        NULL;
  if (doc->intSubset || doc->extSubset || !tree_bounded (xmlDocGetRootElement (doc), 1, &count)) {
    xmlFreeDoc (doc);
    return onvif_fault (r, FALSE, "ter:WellFormed", NULL, "the message is nested deeper than "
        "%d elements, has more than %d, or declares entities", ONVIF_MAX_DEPTH,
        ONVIF_MAX_NODES), NULL;
  }
  return doc;
}

static const OnvifService *
service_of_path (const gchar *path)
{
  const OnvifService *const *s = onvif_services ();

  for (; *s; s++)
    if (g_str_equal ((*s)->path, path))
      return *s;
  return NULL;
}

static const OnvifOperation *
operation_of (const OnvifService *s, const gchar *name)
{
  for (const OnvifOperation *op = s->ops; op && op->name; op++)
    if (g_str_equal (op->name, name))
      return op;
  return NULL;
}

static void
serve (OnvifRequest *r, const gchar *path)
{
  SoupMessageBody *b = soup_server_message_get_request_body (r->msg);
  g_autoptr (GBytes) body = NULL;
  xmlNodePtr env, header = NULL, bodyn = NULL;
  const OnvifOperation *op;
  gsize len;
  const gchar *data;

  if (!(r->service = service_of_path (path))) {
    send_error (r->msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL,
        "no ONVIF service %s (the device service: /onvif/device_service)", path);
    return;
  }
  if (g_object_get_data (G_OBJECT (r->msg), "tcd-cut") || b->length > ONVIF_MAX_BODY) {
    r->http_status = SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
    onvif_fault (r, FALSE, "ter:InvalidArgs", NULL, "the body is larger than %d bytes",
        ONVIF_MAX_BODY);
    return;
  }
  body = soup_message_body_flatten (b);
  data = g_bytes_get_data (body, &len);
  /* a Digest client's first try (curl sends it without its body) */
  if (len == 0 && !soup_message_headers_get_one (soup_server_message_get_request_headers
          (r->msg), "Authorization")) {
    onvif_authenticate (r->onvif->auth, r, NULL, ONVIF_READ_SYSTEM);
    return;
  }
  if (!(r->doc = parse (r, data, len)))
    return;
  env = xmlDocGetRootElement (r->doc);
  if (!env || !g_str_equal ((const gchar *) env->name, "Envelope")) {
    onvif_fault (r, FALSE, "ter:WellFormed", NULL, "not a SOAP Envelope");
    return;
  }
  if (!ns_is (env, ONVIF_NS_SOAP)) {
    onvif_fault (r, FALSE, "soap:VersionMismatch", NULL, "only SOAP 1.2 (%s) is spoken here",
        ONVIF_NS_SOAP);
    return;
  }
  for (xmlNodePtr n = onvif_child (env, NULL); n; n = onvif_next (n, NULL)) {
    if (!ns_is (n, ONVIF_NS_SOAP))
      continue;
    if (g_str_equal ((const gchar *) n->name, "Header") && !header && !bodyn)
      header = n;
    else if (g_str_equal ((const gchar *) n->name, "Body") && !bodyn)
      bodyn = n;
  }
  if (!bodyn || !(r->op = onvif_child (bodyn, NULL))) {
    onvif_fault (r, FALSE, "ter:WellFormed", NULL, "no SOAP Body, or an empty one");
    return;
  }
  /* a header block we must understand and do not (Security we do) */
  for (xmlNodePtr n = onvif_child (header, NULL); n; n = onvif_next (n, NULL)) {
    g_autofree gchar *mu = NULL;
    for (xmlAttrPtr a = n->properties; a; a = a->next)
      if (g_str_equal ((const gchar *) a->name, "mustUnderstand") && a->ns
          && g_str_equal ((const gchar *) a->ns->href, ONVIF_NS_SOAP)) {
        xmlChar *v = xmlNodeListGetString (r->doc, a->children, 1);
        mu = g_strdup ((const gchar *) v);
        xmlFree (v);
      }
    if (mu && (g_str_equal (mu, "true") || g_str_equal (mu, "1"))
        && !(ns_is (n, ONVIF_NS_WSSE) && g_str_equal ((const gchar *) n->name, "Security"))
        && !ns_is (n, "http://www.w3.org/2005/08/addressing")) {
      onvif_fault (r, FALSE, "soap:MustUnderstand", NULL, "the header block %s is not understood",
          (const gchar *) n->name);
      return;
    }
  }
  /* an operation of another namespace (another service's, or none of
   * ONVIF's) is not one of this service: refused like an unknown one */
  if (!ns_is (r->op, r->service->ns) && !(r->service->ns2 && ns_is (r->op, r->service->ns2))) {
    onvif_not_supported (r, "%s (namespace %s) is not an operation of %s (namespace %s)",
        (const gchar *) r->op->name, r->op->ns ? (const gchar *) r->op->ns->href : "none",
        r->service->path, r->service->ns);
    return;
  }
  if (!(op = operation_of (r->service, (const gchar *) r->op->name))) {
    onvif_not_supported (r, "%s is not supported by %s", (const gchar *) r->op->name,
        r->service->path);
    return;
  }
  if (!onvif_authenticate (r->onvif->auth, r, header, op->access))
    return;
  if (!onvif_level_allows (r->level, op->access)) {
    r->http_status = r->user ? SOUP_STATUS_BAD_REQUEST : SOUP_STATUS_UNAUTHORIZED;
    onvif_fault (r, FALSE, "ter:NotAuthorized", NULL, "%s (%s) may not call %s",
        r->user ? r->user : "an anonymous client", onvif_level_name (r->level), op->name);
    return;
  }
  if (op->handler (r))
    return;
  if (!r->fault)
    onvif_fault (r, TRUE, "ter:Action", NULL, "%s failed", op->name);
}

void
onvif_serve (TcdHttp *h, SoupServerMessage *msg, const gchar *path, GHashTable *query)
{
  gboolean snapshot;
  TcdContext *ctx = h->ctx;
  OnvifRequest r = { 0 };
  gint64 remaining = 0;
  g_autofree gchar *host = NULL;

  if (!h->onvif || !tcd_config_bool (ctx->config, "onvif.enabled")) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "onvif.enabled",
        "ONVIF is off (onvif.enabled)");
    return;
  }
  snapshot = g_str_equal (path, "/onvif/snapshot");
  if (!g_str_equal (soup_server_message_get_method (msg), snapshot ? "GET" : "POST")) {
    method_not_allowed (msg, snapshot ? "GET" : "POST");
    return;
  }
  r.address = address_of (msg);
  /* a connection accepted before the filter changed */
  if (!tcd_security_address_allowed_str (ctx->security, r.address)) {
    h->refused++;
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
        "Connection", "close");
    send_error (msg, SOUP_STATUS_FORBIDDEN, "filtered", NULL,
        "this address may not use the device (IP address filter)");
    return;
  }
  r.h = h;
  r.ctx = ctx;
  r.onvif = h->onvif;
  r.msg = msg;
  r.tls = is_tls (h, msg);
  r.host = host = request_host (h, msg, r.tls);
  r.out = g_string_new (NULL);
  h->onvif->requests++;
  if (tcd_security_is_locked (ctx->security, r.address, &remaining)) {
    r.http_status = SOUP_STATUS_FORBIDDEN;
    onvif_fault (&r, FALSE, "ter:NotAuthorized", NULL, "too many failed logins from this "
        "address: locked for %" G_GINT64_FORMAT " more seconds", MAX (remaining, 1));
  } else if (snapshot) {
    /* HTTP Digest of an ONVIF user (ONVIF Core: the snapshot URI) */
    if (onvif_authenticate (r.onvif->auth, &r, NULL, ONVIF_READ_MEDIA)) {
      if (!onvif_level_allows (r.level, ONVIF_READ_MEDIA))
        onvif_fault (&r, FALSE, "ter:NotAuthorized", NULL, "not allowed");
      else
        onvif_snapshot (&r, query);
    }
  } else {
    serve (&r, path);
  }
  if (r.deferred && !r.fault)
    ;                           /* the handler answers later (onvif_send_later) */
  else if (r.fault)
    send_fault (&r);
  else if (snapshot)
    ;
  else if (soup_server_message_get_status (msg) == 0 || r.out->len)
    send_soap (msg, SOUP_STATUS_OK, r.out->str);
  if (r.doc)
    xmlFreeDoc (r.doc);
  g_string_free (r.out, TRUE);
  g_free (r.subcode);
  g_free (r.subcode2);
  g_free (r.reason);
  g_free ((gchar *) r.user);
}
