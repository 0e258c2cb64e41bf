/* thermocamd: WS-Discovery (WS-Discovery 2005/04 as ONVIF Core 7 uses it)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * While onvif.enabled, a UDP socket on the main loop (ports.wsd, 3702)
 * joined to 239.255.255.250 on every IPv4 interface that multicasts.
 * Probes (multicast, or sent to us directly) for NetworkVideoTransmitter or
 * Device, with scopes we have (RFC 3986 or strcmp matching), get a
 * ProbeMatch sent back to the prober, whose XAddrs is the device service at
 * the address the prober reaches us by.  Hello is multicast on start, when
 * discovery becomes discoverable and when the addresses, the HTTP port or
 * the scopes change (with a new MetadataVersion); Bye on stop and when it
 * becomes non-discoverable or ONVIF goes off.  Non-discoverable: silent.
 *
 * From the network: the IP filter first, a datagram of at most MAX_DATAGRAM
 * bytes, no DTD, parsed by libxml2 without network or entities and its depth
 * bounded; at most MAX_ANSWERS_PER_S answers a second (no amplifier).
 */
#include "tcd-wsd.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <libxml/parser.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define GROUP "239.255.255.250"
#define MAX_DATAGRAM 8192
#define MAX_DEPTH 16
#define MAX_ANSWERS_PER_S 20
#define WATCH_S 5

#define NS_SOAP "http://www.w3.org/2003/05/soap-envelope"
#define NS_WSA "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define NS_D "http://schemas.xmlsoap.org/ws/2005/04/discovery"
#define NS_DN "http://www.onvif.org/ver10/network/wsdl"
#define NS_TDS "http://www.onvif.org/ver10/device/wsdl"
#define ACTION_PROBE NS_D "/Probe"
#define MATCH_RFC3986 NS_D "/rfc3986"
#define MATCH_STRCMP NS_D "/strcmp0"
#define SCOPE "onvif://www.onvif.org/"

struct _TcdWsd {
  TcdContext *ctx;
  GSocket *sock;
  GSource *source;
  guint port_asked, port;
  gboolean started;             /* start () was called (and not stop ()) */
  gboolean said_hello;          /* discoverable while on: Bye is due at the end */
  gchar *endpoint;
  gchar *state;                 /* addresses, HTTP port and scopes when last told */
  guint metadata_version;
  gint64 instance_id;
  guint64 message_number;
  guint watch_id;
  guint retry_id;               /* the port was busy: tried again every WATCH_S */
  gint64 window_start;          /* the rate limit's second (monotonic us) */
  guint window_answers;
  guint64 probes, matches, dropped, hellos, byes;
};

/* ---- what we say ---- */

static gchar *
uuid_urn (void)
{
  g_autofree gchar *u = g_uuid_string_random ();
  return g_strconcat ("urn:uuid:", u, NULL);
}

static gchar *
scopes_text (TcdWsd *w)
{
  TcdConfig *c = w->ctx->config;
  JsonNode *own = tcd_config_node (tcd_config_get (c), "onvif.scopes");
  const gchar *location = tcd_config_string (c, "onvif.location");
  g_autofree gchar *name = g_uri_escape_string (tcd_config_string (c, "device.name"), NULL,
      FALSE);
  GString *s = g_string_new (SCOPE "type/NetworkVideoTransmitter " SCOPE "type/video_encoder "
      SCOPE "type/thermal " SCOPE "Profile/Streaming " SCOPE "hardware/TC-640 ");

  g_string_append_printf (s, SCOPE "name/%s", name);
  if (location && *location) {
    g_autofree gchar *l = g_uri_escape_string (location, NULL, FALSE);
    g_string_append_printf (s, " " SCOPE "location/%s", l);
  }
  for (guint i = 0; own && JSON_NODE_HOLDS_ARRAY (own)
      && i < json_array_get_length (json_node_get_array (own)); i++) {
    JsonNode *e = json_array_get_element (json_node_get_array (own), i);
    if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
      g_string_append_printf (s, " %s", json_node_get_string (e));
  }
  return g_string_free (s, FALSE);
}

static gchar *
xaddr (TcdWsd *w, const gchar *ip)
{
  return g_strdup_printf ("http://%s:%u/onvif/device_service", ip,
      tcd_services_port (w->ctx->services, "http"));
}

/* a whole message: @relates (may be NULL), @body the content of soap:Body */
static gchar *
message (TcdWsd *w, const gchar *action, const gchar *to, const gchar *relates,
    const gchar *body)
{
  g_autofree gchar *id = uuid_urn ();
  g_autofree gchar *rel = relates ? g_markup_printf_escaped ("<wsa:RelatesTo>%s"
      "</wsa:RelatesTo>", relates) : g_strdup ("");

  return g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<soap:Envelope xmlns:soap=\"" NS_SOAP "\" xmlns:wsa=\"" NS_WSA "\" xmlns:d=\"" NS_D
      "\" xmlns:dn=\"" NS_DN "\" xmlns:tds=\"" NS_TDS "\"><soap:Header>"
      "<wsa:MessageID>%s</wsa:MessageID>%s<wsa:To>%s</wsa:To>"
      "<wsa:Action>" NS_D "/%s</wsa:Action>"
      "<d:AppSequence InstanceId=\"%" G_GINT64_FORMAT "\" MessageNumber=\"%" G_GUINT64_FORMAT
      "\"/></soap:Header><soap:Body>%s</soap:Body></soap:Envelope>",
      id, rel, to, action, w->instance_id, ++w->message_number, body);
}

/* EndpointReference, Types, Scopes, XAddrs, MetadataVersion */
static gchar *
announcement (TcdWsd *w, const gchar *ip)
{
  g_autofree gchar *scopes = scopes_text (w);
  g_autofree gchar *x = xaddr (w, ip);

  return g_markup_printf_escaped ("<wsa:EndpointReference><wsa:Address>%s</wsa:Address>"
      "</wsa:EndpointReference><d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>"
      "<d:Scopes>%s</d:Scopes><d:XAddrs>%s</d:XAddrs>"
      "<d:MetadataVersion>%u</d:MetadataVersion>", w->endpoint, scopes, x,
      w->metadata_version);
}

/* ---- interfaces ---- */

typedef struct {
  gchar name[IF_NAMESIZE];
  struct in_addr addr;
  guint index;
} Iface;

/* the IPv4 interfaces that are up and multicast */
static GArray *
interfaces (void)
{
  GArray *a = g_array_new (FALSE, TRUE, sizeof (Iface));
  struct ifaddrs *list = NULL;

  if (getifaddrs (&list) != 0)
    return a;
  for (struct ifaddrs *i = list; i; i = i->ifa_next) {
    Iface f = { 0 };
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)
        || !(i->ifa_flags & IFF_MULTICAST) || strlen (i->ifa_name) >= IF_NAMESIZE)
      continue;
    g_strlcpy (f.name, i->ifa_name, sizeof f.name);
    f.addr = ((struct sockaddr_in *) i->ifa_addr)->sin_addr;
    f.index = if_nametoindex (i->ifa_name);
    g_array_append_val (a, f);
  }
  freeifaddrs (list);
  return a;
}

static void
join (TcdWsd *w, GArray *ifs)
{
  gint fd = g_socket_get_fd (w->sock);

  for (guint i = 0; i < ifs->len; i++) {
    Iface *f = &g_array_index (ifs, Iface, i);
    struct ip_mreqn m = { .imr_address = f->addr, .imr_ifindex = f->index };
    inet_pton (AF_INET, GROUP, &m.imr_multiaddr);
    /* EADDRINUSE: joined there already */
    setsockopt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m);
  }
}

/* @body_of (ip) multicast on every interface */
static void
multicast (TcdWsd *w, const gchar *action, gboolean hello)
{
  g_autoptr (GArray) ifs = interfaces ();
  g_autoptr (GInetAddress) group = g_inet_address_new_from_string (GROUP);
  g_autoptr (GSocketAddress) to = g_inet_socket_address_new (group, w->port);
  gint fd = g_socket_get_fd (w->sock);

  for (guint i = 0; i < ifs->len; i++) {
    Iface *f = &g_array_index (ifs, Iface, i);
    gchar ip[INET_ADDRSTRLEN];
    g_autofree gchar *body = NULL, *inner = NULL, *text = NULL;
    struct ip_mreqn m = { .imr_address = f->addr, .imr_ifindex = f->index };

    inet_ntop (AF_INET, &f->addr, ip, sizeof ip);
    if (setsockopt (fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) != 0)
      continue;
    if (hello) {
      inner = announcement (w, ip);
      body = g_strconcat ("<d:Hello>", inner, "</d:Hello>", NULL);
    } else {
      body = g_markup_printf_escaped ("<d:Bye><wsa:EndpointReference><wsa:Address>%s"
          "</wsa:Address></wsa:EndpointReference></d:Bye>", w->endpoint);
    }
    text = message (w, action, "urn:schemas-xmlsoap-org:ws:2005:04:discovery", NULL, body);
    g_socket_send_to (w->sock, to, text, strlen (text), NULL, NULL);
  }
}

static void
say_hello (TcdWsd *w)
{
  multicast (w, "Hello", TRUE);
  w->said_hello = TRUE;
  w->hellos++;
}

static void
say_bye (TcdWsd *w)
{
  if (!w->said_hello || !w->sock)
    return;
  multicast (w, "Bye", FALSE);
  w->said_hello = FALSE;
  w->byes++;
}

static gboolean
discoverable (TcdWsd *w)
{
  return g_strcmp0 (tcd_config_string (w->ctx->config, "onvif.discovery"),
      "non-discoverable") != 0;
}

/* what a Hello tells: the addresses, the HTTP port, the scopes */
static gchar *
state_now (TcdWsd *w)
{
  g_autoptr (GArray) ifs = interfaces ();
  g_autofree gchar *scopes = scopes_text (w);
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < ifs->len; i++) {
    gchar ip[INET_ADDRSTRLEN];
    inet_ntop (AF_INET, &g_array_index (ifs, Iface, i).addr, ip, sizeof ip);
    g_string_append_printf (s, "%s=%s ", g_array_index (ifs, Iface, i).name, ip);
  }
  g_string_append_printf (s, "http=%u %s", tcd_services_port (w->ctx->services, "http"),
      scopes);
  return g_string_free (s, FALSE);
}

/* the interfaces, the port or the scopes changed: joined again, a new
 * metadata version, Hello */
static void
check_state (TcdWsd *w)
{
  g_autofree gchar *now = NULL;

  if (!w->sock)
    return;
  now = state_now (w);
  if (g_strcmp0 (now, w->state) == 0)
    return;
  if (w->state)
    w->metadata_version++;
  g_free (w->state);
  w->state = g_steal_pointer (&now);
  {
    g_autoptr (GArray) ifs = interfaces ();
    join (w, ifs);
  }
  if (discoverable (w))
    say_hello (w);
}

static gboolean
watch (gpointer data)
{
  check_state (data);
  return G_SOURCE_CONTINUE;
}

/* ---- probes ---- */

static gboolean
ns_is (xmlNodePtr n, const gchar *ns)
{
  return n && n->ns && n->ns->href && g_str_equal ((const gchar *) n->ns->href, ns);
}

static xmlNodePtr
child (xmlNodePtr parent, const gchar *ns, const gchar *name)
{
  for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE && g_str_equal ((const gchar *) n->name, name)
        && (!ns || ns_is (n, ns)))
      return n;
  return NULL;
}

static gchar *
text_of (xmlNodePtr n)
{
  xmlChar *c = n ? xmlNodeGetContent (n) : NULL;
  gchar *s = c ? g_strstrip (g_strdup ((const gchar *) c)) : NULL;
  xmlFree (c);
  return s;
}

static gboolean
bounded (xmlNodePtr node, guint depth)
{
  for (xmlNodePtr n = node; n; n = n->next) {
    if (n->type == XML_ENTITY_REF_NODE || n->type == XML_DTD_NODE)
      return FALSE;
    if (n->type == XML_ELEMENT_NODE && (depth > MAX_DEPTH || !bounded (n->children, depth + 1)))
      return FALSE;
  }
  return TRUE;
}

/* every type asked is ours: dn:NetworkVideoTransmitter, tds:Device */
static gboolean
types_match (xmlNodePtr types)
{
  g_autofree gchar *t = text_of (types);
  g_auto (GStrv) list = t ? g_strsplit_set (t, " \t\r\n", 32) : NULL;

  for (guint i = 0; list && list[i]; i++) {
    gchar *colon = strchr (list[i], ':');
    const gchar *local = colon ? colon + 1 : list[i];
    xmlNsPtr ns;
    if (!*list[i])
      continue;
    if (colon)
      *colon = '\0';
    ns = xmlSearchNs (types->doc, types, colon ? (const xmlChar *) list[i] : NULL);
    if (!ns)
      return FALSE;
    if (!((g_str_equal ((const gchar *) ns->href, NS_DN)
                && g_str_equal (local, "NetworkVideoTransmitter"))
            || (g_str_equal ((const gchar *) ns->href, NS_TDS) && g_str_equal (local, "Device"))))
      return FALSE;
  }
  return TRUE;
}

/* every scope asked is one of ours (RFC 3986: by whole path segments) */
static gboolean
scopes_match (TcdWsd *w, xmlNodePtr scopes)
{
  g_autofree gchar *t = text_of (scopes);
  g_autofree gchar *by = NULL, *ours_text = NULL;
  g_auto (GStrv) asked = NULL, ours = NULL;

  if (!t || !*t)
    return TRUE;
  for (xmlAttrPtr a = scopes->properties; a; a = a->next)
    if (g_str_equal ((const gchar *) a->name, "MatchBy"))
      by = text_of ((xmlNodePtr) a);
  if (by && !g_str_equal (by, MATCH_RFC3986) && !g_str_equal (by, MATCH_STRCMP))
    return FALSE;
  ours_text = scopes_text (w);
  ours = g_strsplit (ours_text, " ", -1);
  asked = g_strsplit_set (t, " \t\r\n", 64);
  for (guint i = 0; asked[i]; i++) {
    gboolean found = FALSE;
    gsize len = strlen (asked[i]);
    if (!len)
      continue;
    for (guint k = 0; ours[k] && !found; k++) {
      if (by && g_str_equal (by, MATCH_STRCMP))
        found = g_str_equal (ours[k], asked[i]);
      else
        found = g_ascii_strncasecmp (ours[k], asked[i], len) == 0
            && (ours[k][len] == '\0' || ours[k][len] == '/' || asked[i][len - 1] == '/');
    }
    if (!found)
      return FALSE;
  }
  return TRUE;
}

/* the address the prober reaches us by: the kernel's route to it */
static gchar *
local_ip_for (GSocketAddress *peer)
{
  g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GSocketAddress) local = NULL;

  if (!s || !g_socket_connect (s, peer, NULL, NULL)
      || !(local = g_socket_get_local_address (s, NULL)))
    return NULL;
  return g_inet_address_to_string (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (local)));
}

static gboolean
rate_ok (TcdWsd *w)
{
  gint64 now = g_get_monotonic_time ();

  if (now - w->window_start >= G_USEC_PER_SEC) {
    w->window_start = now;
    w->window_answers = 0;
  }
  return ++w->window_answers <= MAX_ANSWERS_PER_S;
}

static void
probe (TcdWsd *w, const gchar *data, gsize len, GSocketAddress *from)
{
  xmlDocPtr doc;
  xmlNodePtr env, header, body, pr;
  g_autofree gchar *action = NULL, *id = NULL, *ip = NULL, *inner = NULL, *text = NULL;
  g_autofree gchar *answer = NULL;

  if (g_strstr_len (data, len, "<!DOCTYPE") || g_strstr_len (data, len, "<!ENTITY")
      || memchr (data, '\0', len)) {
    w->dropped++;
    return;
  }
  doc = xmlReadMemory (data, len, "probe.xml", "UTF-8",
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!doc) {
    w->dropped++;
    return;
  }
  env = xmlDocGetRootElement (doc);
  if (doc->intSubset || !bounded (env, 1) || !ns_is (env, NS_SOAP)
      || !g_str_equal ((const gchar *) env->name, "Envelope")) {
    w->dropped++;
    xmlFreeDoc (doc);
    return;
  }
  header = child (env, NS_SOAP, "Header");
  body = child (env, NS_SOAP, "Body");
  action = text_of (child (header, NS_WSA, "Action"));
  id = text_of (child (header, NS_WSA, "MessageID"));
  pr = child (body, NS_D, "Probe");
  if (!pr || g_strcmp0 (action, ACTION_PROBE) != 0 || !id || strlen (id) > 256) {
    /* a Hello or Bye of another device, a Resolve: not for us */
    xmlFreeDoc (doc);
    return;
  }
  w->probes++;
  if (!types_match (child (pr, NS_D, "Types")) || !scopes_match (w, child (pr, NS_D, "Scopes"))
      || !rate_ok (w) || !(ip = local_ip_for (from))) {
    xmlFreeDoc (doc);
    return;
  }
  xmlFreeDoc (doc);
  inner = announcement (w, ip);
  text = g_strconcat ("<d:ProbeMatches><d:ProbeMatch>", inner, "</d:ProbeMatch>"
      "</d:ProbeMatches>", NULL);
  answer = message (w, "ProbeMatches", NS_WSA "/role/anonymous", id, text);
  if (g_socket_send_to (w->sock, from, answer, strlen (answer), NULL, NULL) > 0)
    w->matches++;
}

static gboolean
readable (GSocket *sock, GIOCondition cond, gpointer data)
{
  TcdWsd *w = data;
  gchar buf[MAX_DATAGRAM + 1];

  for (guint i = 0; i < 64; i++) {
    g_autoptr (GSocketAddress) from = NULL;
    GInetAddress *ia;
    gssize n = g_socket_receive_from (sock, &from, buf, sizeof buf, NULL, NULL);
    if (n < 0)
      break;
    ia = G_IS_INET_SOCKET_ADDRESS (from)
        ? g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from)) : NULL;
    if (n == 0 || n > MAX_DATAGRAM || !ia
        || !tcd_security_address_allowed (w->ctx->security, ia)) {
      w->dropped++;
      continue;
    }
    /* non-discoverable: silent */
    if (discoverable (w))
      probe (w, buf, n, from);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- life ---- */

static gboolean
open_socket (TcdWsd *w, GError **error)
{
  g_autoptr (GSocket) s = NULL;
  g_autoptr (GInetAddress) any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (any, w->port_asked);
  g_autoptr (GSocketAddress) bound = NULL;

  s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (!s)
    return FALSE;
  g_socket_set_blocking (s, FALSE);
  /* other discovery listeners on this host share the port (allow_reuse) */
  if (!g_socket_bind (s, addr, TRUE, error))
    return FALSE;
  g_socket_set_multicast_loopback (s, TRUE);
  g_socket_set_multicast_ttl (s, 1);
  bound = g_socket_get_local_address (s, error);
  if (!bound)
    return FALSE;
  w->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  w->sock = g_steal_pointer (&s);
  w->source = g_socket_create_source (w->sock, G_IO_IN, NULL);
  g_source_set_callback (w->source, (GSourceFunc) (GCallback) readable, w, NULL);
  g_source_attach (w->source, NULL);
  w->watch_id = g_timeout_add_seconds (WATCH_S, watch, w);
  g_clear_pointer (&w->state, g_free);
  check_state (w);              /* joins, and says Hello where discoverable */
  return TRUE;
}

static void
close_socket (TcdWsd *w)
{
  if (!w->sock)
    return;
  say_bye (w);
  g_clear_handle_id (&w->watch_id, g_source_remove);
  g_source_destroy (w->source);
  g_clear_pointer (&w->source, g_source_unref);
  g_socket_close (w->sock, NULL);
  g_clear_object (&w->sock);
  w->port = 0;
}

TcdWsd *
tcd_wsd_new (TcdContext *ctx)
{
  TcdWsd *w = g_new0 (TcdWsd, 1);
  g_autofree gchar *h = g_compute_checksum_for_string (G_CHECKSUM_SHA1,
      ctx->serial ? ctx->serial : "", -1);

  w->ctx = ctx;
  /* a name-based UUID (version 5 layout) of the serial number: the same
   * device is the same endpoint across restarts */
  w->endpoint = g_strdup_printf ("urn:uuid:%.8s-%.4s-5%.3s-%x%.3s-%.12s", h, h + 8, h + 13,
      0x8 | (g_ascii_xdigit_value (h[16]) & 0x3), h + 17, h + 20);
  w->metadata_version = 1;
  w->instance_id = g_get_real_time () / G_USEC_PER_SEC;
  return w;
}

/* a busy port does not stop the daemon: it is tried again */
static gboolean
retry (gpointer data)
{
  TcdWsd *w = data;
  g_autoptr (GError) err = NULL;

  if (!w->started || w->sock || !tcd_config_bool (w->ctx->config, "onvif.enabled")
      || open_socket (w, &err)) {
    w->retry_id = 0;
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static void
open_or_retry (TcdWsd *w)
{
  g_autoptr (GError) err = NULL;

  if (open_socket (w, &err) || w->retry_id)
    return;
  g_warning ("WS-Discovery: %s: tried again every %d s", err->message, WATCH_S);
  w->retry_id = g_timeout_add_seconds (WATCH_S, retry, w);
}

gboolean
tcd_wsd_start (TcdWsd *w, guint port, GError **error)
{
  w->port_asked = port;
  w->started = TRUE;
  if (tcd_config_bool (w->ctx->config, "onvif.enabled"))
    open_or_retry (w);
  return TRUE;
}

void
tcd_wsd_stop (TcdWsd *w)
{
  close_socket (w);
  g_clear_handle_id (&w->retry_id, g_source_remove);
  w->started = FALSE;
}

void
tcd_wsd_apply (TcdWsd *w, JsonNode *doc)
{
  gboolean on = tcd_config_bool (w->ctx->config, "onvif.enabled");

  if (!w->started)
    return;
  if (!on) {
    close_socket (w);
    return;
  }
  if (!w->sock) {
    open_or_retry (w);
    return;
  }
  if (!discoverable (w)) {
    say_bye (w);
    return;
  }
  if (!w->said_hello)
    g_clear_pointer (&w->state, g_free);
  check_state (w);
}

guint
tcd_wsd_get_port (TcdWsd *w)
{
  return w->port;
}

const gchar *
tcd_wsd_endpoint (TcdWsd *w)
{
  return w->endpoint;
}

JsonNode *
tcd_wsd_stats (TcdWsd *w)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, w->port);
  json_builder_set_member_name (b, "endpoint");
  json_builder_add_string_value (b, w->endpoint);
  json_builder_set_member_name (b, "discoverable");
  json_builder_add_boolean_value (b, w->sock && discoverable (w));
  json_builder_set_member_name (b, "probes");
  json_builder_add_int_value (b, w->probes);
  json_builder_set_member_name (b, "matches");
  json_builder_add_int_value (b, w->matches);
  json_builder_set_member_name (b, "dropped");
  json_builder_add_int_value (b, w->dropped);
  json_builder_set_member_name (b, "hellos");
  json_builder_add_int_value (b, w->hellos);
  json_builder_set_member_name (b, "byes");
  json_builder_add_int_value (b, w->byes);
  json_builder_set_member_name (b, "metadata_version");
  json_builder_add_int_value (b, w->metadata_version);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
tcd_wsd_free (TcdWsd *w)
{
  if (!w)
    return;
  close_socket (w);
  g_clear_handle_id (&w->retry_id, g_source_remove);
  g_free (w->endpoint);
  g_free (w->state);
  g_free (w);
}
