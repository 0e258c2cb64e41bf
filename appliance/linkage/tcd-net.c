/* thermocamd: the network chapter: the section, its backend, the
 * rollback of an unconfirmed change, DDNS, the address test
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-net.h"

#include "tcd-certs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tc-json.h"
#include "tc-schema.h"
#include "tcd-config.h"
#include "tcd-ddns.h"
#include "tcd-dscp.h"

G_DEFINE_QUARK (tcd-net-error-quark, tcd_net_error)

#define ADDRESS_POLL_S 30               /* DHCP's address, for DDNS */
#define PROBE_MS 1500                   /* the address test's wait */

/* what could cut the operator off: confirmed or rolled back */
static const gchar *const link_members[] = {
  "interface", "nic_type", "ipv4", "ipv6", "mtu", "ieee8021x", NULL
};

struct _TcdNet {
  TcdChange *change;
  TcdEvents *events;
  TcdBus *bus;
  TcdSecurity *security;
  const TcdNetBackend *klass;
  gpointer backend;
  gchar *backend_error;
  TcdDdns *ddns;
  guint poll_id;
  /* the change waiting for a confirmation */
  JsonNode *previous;                   /* the link members before it */
  gint64 pending_since, pending_until;  /* real time, us */
  gchar *pending_by;
  guint rollback_id;
  gboolean rolling_back;
  gboolean factory;                     /* the change is the factory default */
  guint rollbacks, confirms;
  gchar *state_dir;                     /* its certificate store (802.1X) */
};

const gchar *
tcd_net_get_state_dir (TcdNet *n)
{
  return n->state_dir;
}

/* ---- the section ---- */

static JsonNode *
link_part (JsonNode *net)
{
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();

  json_node_take_object (n, o);
  for (guint i = 0; net && JSON_NODE_HOLDS_OBJECT (net) && link_members[i]; i++) {
    JsonNode *m = json_object_get_member (json_node_get_object (net), link_members[i]);
    if (m)
      json_object_set_member (o, link_members[i], tcd_json_deep_copy (m));
  }
  return n;
}

/* The device's IPv4 address for DDNS: the manual one, else the interface's
 * (a real backend only; NULL: the service takes the request's) */
static gchar *
current_address (TcdNet *n, JsonNode *net)
{
  JsonObject *o = json_node_get_object (net);
  JsonObject *v4 = tc_json_get_object (o, "ipv4");
  const gchar *iface = tc_json_get_string (o, "interface", "");
  struct ifaddrs *ifa = NULL;
  gchar *found = NULL;

  if (v4 && g_strcmp0 (tc_json_get_string (v4, "mode", ""), "manual") == 0)
    return g_strdup (tc_json_get_string (v4, "address", ""));
  if (n->klass->simulated || getifaddrs (&ifa) != 0)
    return NULL;
  for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && g_strcmp0 (i->ifa_name, iface) == 0) {
      gchar buf[INET_ADDRSTRLEN];
      if (inet_ntop (AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, buf, sizeof buf))
        found = g_strdup (buf);
    }
  freeifaddrs (ifa);
  return found;
}

static void
configure_ddns (TcdNet *n, JsonNode *net)
{
  g_autofree gchar *address = current_address (n, net);
  JsonObject *qos = tc_json_get_object (json_node_get_object (net), "qos");

  tcd_ddns_configure (n->ddns, json_object_get_member (json_node_get_object (net), "ddns"),
      address, qos ? (guint) tc_json_get_int (qos, "management_dscp", 0) : 0);
}

static gboolean
poll_cb (gpointer data)
{
  TcdNet *n = data;
  configure_ddns (n, tcd_config_get_section (tcd_change_get_config (n->change), "network"));
  return G_SOURCE_CONTINUE;
}

/* The section as the backend gets it: the 802.1X certificates it names
 * read from the store (ieee8021x.ca_pem, client_pem, client_key_pem) */
static JsonNode *
with_certificates (TcdNet *n, JsonNode *net)
{
  JsonNode *copy = tcd_json_deep_copy (net);
  JsonObject *x = JSON_NODE_HOLDS_OBJECT (copy)
      ? tc_json_get_object (json_node_get_object (copy), "ieee8021x") : NULL;
  const gchar *ca = x ? tc_json_get_string (x, "ca_certificate", "") : "";
  const gchar *client = x ? tc_json_get_string (x, "client_certificate", "") : "";
  g_autofree gchar *ca_pem = NULL, *client_pem = NULL, *key_pem = NULL;

  if (!x || !n->state_dir)
    return copy;
  if (*ca)
    tcd_certs_store_get (n->state_dir, ca, NULL, &ca_pem, NULL);
  if (*client)
    tcd_certs_store_get (n->state_dir, client, NULL, &client_pem, &key_pem);
  json_object_set_string_member (x, "ca_pem", ca_pem ? ca_pem : "");
  json_object_set_string_member (x, "client_pem", client_pem ? client_pem : "");
  json_object_set_string_member (x, "client_key_pem", key_pem ? key_pem : "");
  return copy;
}

static void
backend_apply (TcdNet *n, JsonNode *given)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) net = with_certificates (n, given);

  g_clear_pointer (&n->backend_error, g_free);
  if (!n->klass->apply (n->backend, net, &err)) {
    n->backend_error = g_strdup (err->message);
    g_warning ("network: the %s backend could not apply the settings: %s", n->klass->name,
        err->message);
  }
}

static void
clear_pending (TcdNet *n)
{
  g_clear_handle_id (&n->rollback_id, g_source_remove);
  g_clear_pointer (&n->previous, json_node_unref);
  g_clear_pointer (&n->pending_by, g_free);
  n->pending_since = n->pending_until = 0;
}

static gboolean
rollback_cb (gpointer data)
{
  TcdNet *n = data;
  TcdConfig *config = tcd_change_get_config (n->change);
  JsonNode *doc = tcd_json_deep_copy (tcd_config_get (config));
  JsonObject *net = json_node_get_object (tcd_config_node (doc, "network"));
  JsonObject *prev = json_node_get_object (n->previous);
  TcdOrigin o = { "network rollback", NULL, NULL, NULL };
  g_autoptr (GError) err = NULL;

  n->rollback_id = 0;
  g_message ("network: the change of the IP settings was not confirmed: rolled back");
  for (guint i = 0; link_members[i]; i++) {
    JsonNode *m = json_object_get_member (prev, link_members[i]);
    if (m)
      json_object_set_member (net, link_members[i], tcd_json_deep_copy (m));
  }
  n->rolling_back = TRUE;
  if (!tcd_change_commit (n->change, doc, &o, TCD_CHANGE_NONE, NULL, &err))
    g_warning ("network: the rollback was refused: %s", err->message);
  n->rolling_back = FALSE;
  n->rollbacks++;
  tcd_audit (n->security, "system", NULL, NULL,
      "the IP settings went back to the former ones: not confirmed in time");
  clear_pending (n);
  return G_SOURCE_REMOVE;
}

static void
net_apply (JsonNode *doc, JsonNode *old, gpointer user_data)
{
  TcdNet *n = user_data;
  JsonNode *net = tcd_config_node (doc, "network");
  JsonNode *was = old ? tcd_config_node (old, "network") : NULL;
  g_autoptr (JsonNode) lp = link_part (net), wlp = was ? link_part (was) : NULL;

  if (!net || !JSON_NODE_HOLDS_OBJECT (net))
    return;
  if (n->rolling_back || n->factory) {
    clear_pending (n);
  } else if (wlp && !tc_json_equal (lp, wlp)) {
    guint timeout = (guint) tc_json_get_int (json_node_get_object (net), "confirm_timeout_s", 60);
    /* the first unconfirmed change is where a rollback goes back to */
    if (!n->previous) {
      n->previous = json_node_ref (wlp);
      n->pending_since = g_get_real_time ();
    }
    g_clear_handle_id (&n->rollback_id, g_source_remove);
    n->rollback_id = g_timeout_add_seconds (timeout, rollback_cb, n);
    n->pending_until = g_get_real_time () + (gint64) timeout * G_USEC_PER_SEC;
    g_message ("network: the IP settings changed: confirm within %u s or they go back",
        timeout);
  }
  {
    JsonObject *qos = tc_json_get_object (json_node_get_object (net), "qos");
    for (TcdDscpKind k = TCD_DSCP_VIDEO; k <= TCD_DSCP_MANAGEMENT; k++)
      tcd_dscp_set (k, qos ? (gint) tc_json_get_int (qos, tcd_dscp_member (k), 0) : 0);
  }
  if (!wlp || !tc_json_equal (net, was))
    backend_apply (n, net);
  configure_ddns (n, net);
}

void
tcd_net_set_origin (TcdNet *n, const TcdOrigin *origin)
{
  n->factory = origin && g_strcmp0 (origin->what, "default") == 0;
}

/* ---- the section's policy: write-only secrets ---- */

static void
remove_secret (JsonObject *o, const gchar *name, gboolean whole)
{
  g_autofree gchar *set = g_strconcat (name, "_set", NULL);
  if (!o)
    return;
  if (!whole)
    json_object_set_boolean_member (o, set, *tc_json_get_string (o, name, ""));
  json_object_remove_member (o, name);
}

static void
net_view (JsonNode *section, gboolean whole, gpointer user_data)
{
  JsonObject *o;

  if (!section || !JSON_NODE_HOLDS_OBJECT (section))
    return;
  o = json_node_get_object (section);
  remove_secret (tc_json_get_object (o, "ddns"), "password", whole);
  remove_secret (tc_json_get_object (o, "ieee8021x"), "password", whole);
}

/* *_set come back and are dropped; a DDNS password belongs to its service
 * and user: a change of those without a new password empties it */
static void
net_incoming (TcdConfig *config, JsonNode *patch, gpointer user_data)
{
  JsonObject *p, *d, *x, *cd;
  JsonNode *cur = tcd_config_node (tcd_config_get (config), "network.ddns");

  if (!patch || !JSON_NODE_HOLDS_OBJECT (patch))
    return;
  p = json_node_get_object (patch);
  if ((x = tc_json_get_object (p, "ieee8021x"))) {
    json_object_remove_member (x, "password_set");
    json_object_remove_member (x, "client_key_set");   /* of before the store */
  }
  if (!(d = tc_json_get_object (p, "ddns")))
    return;
  json_object_remove_member (d, "password_set");
  if (json_object_has_member (d, "password") || !cur || !JSON_NODE_HOLDS_OBJECT (cur))
    return;
  cd = json_node_get_object (cur);
  for (const gchar *const *k = (const gchar *[]) { "type", "server", "user", "https", NULL };
      *k; k++)
    if (json_object_has_member (d, *k)
        && !tc_json_equal (json_object_get_member (d, *k), json_object_get_member (cd, *k))) {
      json_object_set_string_member (d, "password", "");
      return;
    }
}

/* ---- DDNS stopped ---- */

static void
ddns_fatal (const gchar *answer, const gchar *message, gpointer user_data)
{
  TcdNet *n = user_data;
  g_autofree gchar *m = g_strdup_printf ("DDNS stopped: the service answered \"%s\" (%s); "
      "change the settings to try again", answer ? answer : "?", message ? message : "");
  g_autoptr (JsonNode) ev = tcd_event_exception_new ("ddns", m);

  json_object_set_string_member (json_node_get_object (ev), "answer", answer ? answer : "");
  tcd_events_exception (n->events, "ddns", ev);
}

/* ---- the object ---- */

TcdNet *
tcd_net_new (TcdChange *change, TcdEvents *events, TcdBus *bus, TcdSecurity *security,
    const gchar *backend, const gchar *state_dir, GError **error)
{
  TcdNet *n;
  const TcdNetBackend *klass = NULL;
  gpointer b;
  JsonNode *net;

  if (!backend || !*backend || g_str_equal (backend, "simulated"))
    b = tcd_net_backend_simulated_new (&klass);
  else if (g_str_equal (backend, "networkd"))
    b = tcd_net_backend_networkd_new (NULL, &klass);
  else if (g_str_has_prefix (backend, "networkd:") && g_path_is_absolute (backend + 9))
    b = tcd_net_backend_networkd_new (backend + 9, &klass);
  else {
    g_set_error (error, TCD_NET_ERROR, TCD_NET_ERROR_INVALID,
        "no network backend \"%s\" (simulated, networkd, networkd:/ROOT)", backend);
    return NULL;
  }
  n = g_new0 (TcdNet, 1);
  n->change = change;
  n->events = events;
  n->bus = bus;
  n->security = security;
  n->klass = klass;
  n->backend = b;
  n->state_dir = g_strdup (state_dir);
  n->ddns = tcd_ddns_new (ddns_fatal, n);
  tcd_change_add_check (change, "network", tcd_net_check, n);
  tcd_change_add_policy (change, "network", net_incoming, net_view, n);
  tcd_change_subscribe (change, TCD_CHANGE_ORDER_LINKAGE, "network", net_apply, NULL, n);
  /* what the configuration holds now reaches the backend */
  net = tcd_config_get_section (tcd_change_get_config (change), "network");
  if (net && JSON_NODE_HOLDS_OBJECT (net)) {
    JsonObject *qos = tc_json_get_object (json_node_get_object (net), "qos");
    for (TcdDscpKind k = TCD_DSCP_VIDEO; k <= TCD_DSCP_MANAGEMENT; k++)
      tcd_dscp_set (k, qos ? (gint) tc_json_get_int (qos, tcd_dscp_member (k), 0) : 0);
    backend_apply (n, net);
    configure_ddns (n, net);
  }
  n->poll_id = g_timeout_add_seconds (ADDRESS_POLL_S, poll_cb, n);
  return n;
}

void
tcd_net_free (TcdNet *n)
{
  if (!n)
    return;
  clear_pending (n);
  g_clear_handle_id (&n->poll_id, g_source_remove);
  tcd_ddns_free (n->ddns);
  n->klass->free (n->backend);
  g_free (n->backend_error);
  g_free (n->state_dir);
  g_free (n);
}

static void
set_time (JsonObject *o, const gchar *name, gint64 us)
{
  g_autoptr (GDateTime) t = us ? g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC) : NULL;
  g_autofree gchar *s = t ? g_date_time_format_iso8601 (t) : NULL;

  if (s)
    json_object_set_string_member (o, name, s);
  else
    json_object_set_null_member (o, name);
}

JsonNode *
tcd_net_status (TcdNet *n)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();
  JsonNode *b = n->klass->status (n->backend);

  json_node_take_object (node, o);
  json_object_set_string_member (o, "backend", n->klass->name);
  json_object_set_boolean_member (o, "simulated", n->klass->simulated);
  json_object_set_member (o, "state", b);
  if (n->backend_error)
    json_object_set_string_member (o, "error", n->backend_error);
  else
    json_object_set_null_member (o, "error");
  if (n->previous) {
    JsonObject *p = json_object_new ();
    gint64 left = (n->pending_until - g_get_real_time () + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
    set_time (p, "since", n->pending_since);
    set_time (p, "until", n->pending_until);
    json_object_set_int_member (p, "seconds_left", MAX (left, 0));
    json_object_set_member (p, "previous", json_node_ref (n->previous));
    json_object_set_object_member (o, "pending", p);
  } else {
    json_object_set_null_member (o, "pending");
  }
  json_object_set_int_member (o, "confirms", n->confirms);
  json_object_set_int_member (o, "rollbacks", n->rollbacks);
  json_object_set_member (o, "ddns", tcd_ddns_status (n->ddns));
  return node;
}

gboolean
tcd_net_confirm (TcdNet *n, const gchar *local, const TcdOrigin *origin, GError **error)
{
  JsonNode *net = tcd_config_get_section (tcd_change_get_config (n->change), "network");
  JsonObject *v4 = tc_json_get_object (json_node_get_object (net), "ipv4");
  JsonObject *v6 = tc_json_get_object (json_node_get_object (net), "ipv6");

  if (!n->previous) {
    g_set_error (error, TCD_NET_ERROR, TCD_NET_ERROR_NOTHING_PENDING,
        "no change of the IP settings waits for a confirmation");
    return FALSE;
  }
  /* on the host, the confirmation must come through a new manual address
   * (the operator reached it); the simulated backend has none to reach */
  if (!n->klass->simulated && local) {
    gboolean m4 = g_strcmp0 (tc_json_get_string (v4, "mode", ""), "manual") == 0;
    gboolean m6 = g_strcmp0 (tc_json_get_string (v6, "mode", ""), "manual") == 0;
    g_autoptr (GInetAddress) l = g_inet_address_new_from_string (local);
    g_autoptr (GInetAddress) a4 = m4 ? g_inet_address_new_from_string (tc_json_get_string (v4,
            "address", "")) : NULL;
    g_autoptr (GInetAddress) a6 = m6 ? g_inet_address_new_from_string (tc_json_get_string (v6,
            "address", "")) : NULL;
    if ((a4 || a6) && !(l && ((a4 && g_inet_address_equal (l, a4))
                || (a6 && g_inet_address_equal (l, a6))))) {
      g_set_error (error, TCD_NET_ERROR, TCD_NET_ERROR_WRONG_ADDRESS,
          "confirm through the new address (this request came to %s)", local);
      return FALSE;
    }
  }
  clear_pending (n);
  n->confirms++;
  tcd_audit (n->security, "system", origin ? origin->user : NULL,
      origin ? origin->address : NULL, "the new IP settings were confirmed");
  return TRUE;
}

gboolean
tcd_net_ddns_update (TcdNet *n, GError **error)
{
  return tcd_ddns_update_now (n->ddns, error);
}

/* ---- is this address free? ---- */

/* one of this host's addresses */
static gboolean
is_local (GInetAddress *a)
{
  struct ifaddrs *ifa = NULL;
  gboolean found = FALSE;

  if (getifaddrs (&ifa) != 0)
    return FALSE;
  for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
    g_autoptr (GSocketAddress) sa = NULL;
    if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET
            && i->ifa_addr->sa_family != AF_INET6))
      continue;
    sa = g_socket_address_new_from_native (i->ifa_addr, i->ifa_addr->sa_family == AF_INET
        ? sizeof (struct sockaddr_in) : sizeof (struct sockaddr_in6));
    found = sa && G_IS_INET_SOCKET_ADDRESS (sa)
        && g_inet_address_equal (a, g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS
                (sa)));
  }
  freeifaddrs (ifa);
  return found;
}

/* the MAC the neighbour table holds for @ip (IPv4), NULL if none */
static gchar *
arp_entry (const gchar *ip)
{
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/net/arp", &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i]; i++) {
    g_auto (GStrv) f = g_strsplit_set (lines[i], " \t", -1);
    const gchar *col[6];
    guint n = 0;
    for (guint k = 0; f[k] && n < 6; k++)
      if (*f[k])
        col[n++] = f[k];
    /* IP, HW type, flags (0x2: complete), HW address, mask, device */
    if (n >= 4 && g_str_equal (col[0], ip) && (strtoul (col[2], NULL, 16) & 0x2))
      return g_strdup (col[3]);
  }
  return NULL;
}

typedef struct {
  gchar *address;
} Probe;

static void
probe_free (Probe *p)
{
  g_free (p->address);
  g_free (p);
}

static void
probe_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Probe *p = task_data;
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (p->address);
  gboolean v6 = g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV6;
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();
  gboolean echo = FALSE, icmp_ok = FALSE;
  g_autofree gchar *mac = NULL;
  GString *method = g_string_new (NULL);
  gint fd;

  json_node_take_object (node, o);
  json_object_set_string_member (o, "address", p->address);
  if (is_local (a)) {
    json_object_set_boolean_member (o, "free", FALSE);
    json_object_set_string_member (o, "method", "local");
    json_object_set_string_member (o, "detail", "an address of this device");
    g_string_free (method, TRUE);
    g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
    return;
  }
  /* ICMP echo through a datagram socket (no raw socket needed where
   * net.ipv4.ping_group_range allows it) */
  fd = socket (v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, v6 ? IPPROTO_ICMPV6
      : IPPROTO_ICMP);
  if (fd >= 0) {
    struct sockaddr_storage ss = { 0 };
    socklen_t len;
    guint8 pkt[16] = { 0 };

    if (v6) {
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
      s6->sin6_family = AF_INET6;
      memcpy (&s6->sin6_addr, g_inet_address_to_bytes (a), 16);
      len = sizeof *s6;
      pkt[0] = ICMP6_ECHO_REQUEST;
    } else {
      struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;
      s4->sin_family = AF_INET;
      memcpy (&s4->sin_addr, g_inet_address_to_bytes (a), 4);
      len = sizeof *s4;
      pkt[0] = ICMP_ECHO;
    }
    pkt[7] = 1;                 /* sequence 1; the kernel sets the id */
    if (sendto (fd, pkt, sizeof pkt, 0, (struct sockaddr *) &ss, len) >= 0) {
      struct pollfd pfd = { fd, POLLIN, 0 };
      gint64 end = g_get_monotonic_time () + PROBE_MS * 1000;
      icmp_ok = TRUE;
      while (!echo && g_get_monotonic_time () < end) {
        guint8 buf[256];
        gint left = (gint) ((end - g_get_monotonic_time ()) / 1000);
        if (poll (&pfd, 1, MAX (left, 0)) <= 0)
          break;
        if (recv (fd, buf, sizeof buf, 0) > 0)
          echo = buf[0] == (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY);
      }
    } else {
      json_object_set_string_member (o, "icmp_error", g_strerror (errno));
    }
    close (fd);
  } else {
    json_object_set_string_member (o, "icmp_error", g_strerror (errno));
  }
  if (icmp_ok)
    g_string_append (method, "icmp");
  /* the echo request made the kernel resolve the address on the link: a
   * host that does not answer pings still answers ARP */
  if (!v6) {
    mac = arp_entry (p->address);
    g_string_append (method, method->len ? "+arp" : "arp");
  }
  json_object_set_boolean_member (o, "free", !echo && !mac);
  json_object_set_string_member (o, "method", method->str);
  if (mac)
    json_object_set_string_member (o, "mac", mac);
  json_object_set_string_member (o, "detail", echo ? "a host answered the echo request"
      : mac ? "a host answered ARP" : icmp_ok ? "no host answered"
      : "ICMP is not allowed here: only the neighbour table was read");
  g_string_free (method, TRUE);
  g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
}

void
tcd_net_test_address_async (TcdNet *n, const gchar *address, GCancellable *cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr (GInetAddress) a = address ? g_inet_address_new_from_string (address) : NULL;
  Probe *p;

  if (!a || g_inet_address_get_is_any (a) || g_inet_address_get_is_multicast (a)) {
    g_task_return_new_error (task, TCD_NET_ERROR, TCD_NET_ERROR_INVALID,
        "\"%s\" is not a host's IP address", address ? address : "");
    return;
  }
  p = g_new0 (Probe, 1);
  p->address = g_inet_address_to_string (a);
  g_task_set_task_data (task, p, (GDestroyNotify) probe_free);
  g_task_run_in_thread (task, probe_thread);
}

JsonNode *
tcd_net_test_address_finish (TcdNet *n, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
