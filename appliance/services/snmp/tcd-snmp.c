/* thermocamd: SNMP: the agent on the main loop, access, v3 users, traps
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * net-snmp keeps one agent per process (global state): it is set up once,
 * the first time SNMP is switched on, with its configuration and persistent
 * files (the engine ID and engineBoots) in STATE/snmp and no host file read
 * (no /etc/snmp).  The UDP transports are opened and closed here as the
 * port, the address or the switches change; the USM users and the trap
 * sinks are made again from the configuration at each change.
 */
#include "tcd-snmp-private.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <glib/gstdio.h>

#include "tc-json.h"
#include "tcd-json.h"

static gboolean initialized;    /* net-snmp's global state */

/* ---- logging: net-snmp's messages into GLib's ---- */

static int
log_cb (int major, int minor, void *server, void *client)
{
  struct snmp_log_message *m = server;

  if (m && m->msg) {
    g_autofree gchar *t = g_strchomp (g_strdup (m->msg));
    if (m->priority <= LOG_ERR && !g_str_has_prefix (t, "Cannot find module")
        && !g_str_has_prefix (t, "MIB search path"))
      g_message ("net-snmp: %s", t);
    else
      g_debug ("net-snmp: %s", t);
  }
  return 0;
}

static void
global_init (TcdSnmp *s)
{
  g_autofree gchar *dir = g_build_filename (s->ctx->state_dir, "snmp", NULL);
  g_autofree gchar *conf = g_build_filename (dir, "conf", NULL);

  if (initialized)
    return;
  g_mkdir_with_parents (dir, 0700);
  snmp_disable_log ();
  netsnmp_register_loghandler (NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
  snmp_register_callback (SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, log_cb, NULL);
  netsnmp_ds_set_string (NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_CONFIGURATION_DIR, conf);
  netsnmp_ds_set_string (NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, dir);
  netsnmp_ds_set_boolean (NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
  netsnmp_ds_set_boolean (NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_NO_ROOT_ACCESS, 1);
  netsnmp_ds_set_boolean (NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 0);
  /* a GETBULK is bounded (the whole MIB is a few hundred objects at most) */
  netsnmp_ds_set_int (NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_MAX_GETBULKREPEATS, 64);
  netsnmp_ds_set_int (NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_MAX_GETBULKRESPONSES, 512);
  netsnmp_set_mib_directory (conf);     /* no MIB is parsed: the agent answers by OID */
  init_agent ("thermocamd");
  init_snmp ("thermocamd");
  initialized = TRUE;
}

/* ---- the peer of a request ---- */

static gboolean
peer_address (netsnmp_pdu *pdu, gchar *buf, gsize len)
{
  const netsnmp_indexed_addr_pair *p;
  g_autoptr (GSocketAddress) sa = NULL;
  g_autofree gchar *text = NULL;

  buf[0] = '\0';
  if (!pdu || !pdu->transport_data
      || pdu->transport_data_length < (int) sizeof (struct sockaddr_in))
    return FALSE;
  p = pdu->transport_data;
  if (p->remote_addr.sa.sa_family == AF_INET6
      && pdu->transport_data_length >= (int) sizeof (struct sockaddr_in6))
    sa = g_socket_address_new_from_native ((gpointer) &p->remote_addr.sin6,
        sizeof (struct sockaddr_in6));
  else if (p->remote_addr.sa.sa_family == AF_INET)
    sa = g_socket_address_new_from_native ((gpointer) &p->remote_addr.sin,
        sizeof (struct sockaddr_in));
  if (!sa || !G_IS_INET_SOCKET_ADDRESS (sa))
    return FALSE;
  text = g_inet_address_to_string (g_inet_socket_address_get_address (
          G_INET_SOCKET_ADDRESS (sa)));
  g_strlcpy (buf, text, len);
  return TRUE;
}

void
snmp_origin (netsnmp_pdu *pdu, TcdOrigin *o, gchar *user, gsize user_len)
{
  o->protocol = "snmp";
  if (pdu && pdu->version == SNMP_VERSION_3 && pdu->securityName)
    g_strlcpy (user, pdu->securityName, MIN (user_len, pdu->securityNameLen + 1));
  else
    g_strlcpy (user, "community", user_len);
  o->user = user;
  if (o->address && !peer_address (pdu, (gchar *) o->address, 64))
    o->address = NULL;
}

/* ---- access (in place of VACM) ---- */

static const gchar *
cfg_str (TcdSnmp *s, const gchar *name)
{
  return tc_json_get_string (json_node_get_object (s->cfg), name, "");
}

static gboolean
cfg_bool (TcdSnmp *s, const gchar *name)
{
  return tc_json_get_bool (json_node_get_object (s->cfg), name, FALSE);
}

static JsonObject *
find_user (TcdSnmp *s, const gchar *name, gsize len)
{
  JsonNode *users = json_object_get_member (json_node_get_object (s->cfg), "users");

  for (guint i = 0; users && JSON_NODE_HOLDS_ARRAY (users)
      && i < json_array_get_length (json_node_get_array (users)); i++) {
    JsonObject *u = tc_json_array_get_object (json_node_get_array (users), i);
    const gchar *n = u ? tc_json_get_string (u, "name", "") : "";
    if (strlen (n) == len && memcmp (n, name, len) == 0)
      return u;
  }
  return NULL;
}

static gboolean
community_is (const gchar *want, netsnmp_pdu *pdu)
{
  gsize n = strlen (want);
  guint diff = 0;

  if (!n || !pdu->community || pdu->community_len != n)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    diff |= (guint) (want[i] ^ pdu->community[i]);
  return diff == 0;
}

static gboolean
allowed (TcdSnmp *s, netsnmp_pdu *pdu)
{
  gboolean write = pdu->command == SNMP_MSG_SET;
  gchar address[64];
  JsonObject *u;

  if (!s->on || !s->cfg)
    return FALSE;
  if (peer_address (pdu, address, sizeof address)
      && !tcd_security_address_allowed_str (s->ctx->security, address))
    return FALSE;
  switch (pdu->version) {
  case SNMP_VERSION_1:
  case SNMP_VERSION_2c:
    if (!cfg_bool (s, pdu->version == SNMP_VERSION_1 ? "v1" : "v2c"))
      return FALSE;
    if (community_is (cfg_str (s, "write_community"), pdu))
      return TRUE;
    return !write && community_is (cfg_str (s, "read_community"), pdu);
  case SNMP_VERSION_3:
    if (!cfg_bool (s, "v3") || pdu->securityModel != SNMP_SEC_MODEL_USM || !pdu->securityName
        || !(u = find_user (s, pdu->securityName, pdu->securityNameLen)))
      return FALSE;
    if (pdu->securityLevel < (g_str_equal (tc_json_get_string (u, "level", "auth_priv"),
                "auth_no_priv") ? SNMP_SEC_LEVEL_AUTHNOPRIV : SNMP_SEC_LEVEL_AUTHPRIV))
      return FALSE;
    return !write || g_str_equal (tc_json_get_string (u, "access", "read"), "read_write");
  default:
    return FALSE;
  }
}

static int
acm_check (int major, int minor, void *server, void *client)
{
  struct view_parameters *vp = server;
  TcdSnmp *s = client;

  if (!vp || !vp->pdu)
    return 0;
  /* the last word: VACM (which has no views here) answered before */
  if (!allowed (s, vp->pdu)) {
    vp->errorcode = VACM_NOTINVIEW;
    if (minor == SNMPD_CALLBACK_ACM_CHECK_INITIAL)
      s->refused++;
  } else {
    vp->errorcode = 0;
    if (minor == SNMPD_CALLBACK_ACM_CHECK_INITIAL)
      s->requests++;
  }
  return 0;
}

static const gint acm_kinds[] = {
  SNMPD_CALLBACK_ACM_CHECK, SNMPD_CALLBACK_ACM_CHECK_INITIAL, SNMPD_CALLBACK_ACM_CHECK_SUBTREE
};

/* ---- the main loop: net-snmp's sockets and timers ---- */

typedef struct {
  GSource source;
  GArray *fds;                  /* gint */
  GPtrArray *tags;
  gint64 deadline;              /* monotonic us; -1: none */
} SnmpSource;

static gboolean
src_prepare (GSource *g, gint *timeout)
{
  SnmpSource *ss = (SnmpSource *) g;
  netsnmp_large_fd_set set;
  struct timeval tv = { 0, 0 };
  int numfds = 0, block = 1;
  gboolean same = TRUE;
  guint n = 0;

  netsnmp_large_fd_set_init (&set, FD_SETSIZE);
  snmp_select_info2 (&numfds, &set, &tv, &block);
  for (gint fd = 0; fd < numfds; fd++)
    if (NETSNMP_LARGE_FD_ISSET (fd, &set)) {
      same = same && n < ss->fds->len && g_array_index (ss->fds, gint, n) == fd;
      n++;
    }
  if (!same || n != ss->fds->len) {
    for (guint i = 0; i < ss->tags->len; i++)
      g_source_remove_unix_fd (g, g_ptr_array_index (ss->tags, i));
    g_ptr_array_set_size (ss->tags, 0);
    g_array_set_size (ss->fds, 0);
    for (gint fd = 0; fd < numfds; fd++)
      if (NETSNMP_LARGE_FD_ISSET (fd, &set)) {
        g_array_append_val (ss->fds, fd);
        g_ptr_array_add (ss->tags, g_source_add_unix_fd (g, fd, G_IO_IN | G_IO_ERR | G_IO_HUP));
      }
  }
  netsnmp_large_fd_set_cleanup (&set);
  if (block) {
    ss->deadline = -1;
    *timeout = -1;
    return FALSE;
  }
  *timeout = (gint) MIN ((gint64) tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000, G_MAXINT);
  ss->deadline = g_get_monotonic_time () + (gint64) tv.tv_sec * G_USEC_PER_SEC + tv.tv_usec;
  return *timeout == 0;
}

static gboolean
src_check (GSource *g)
{
  SnmpSource *ss = (SnmpSource *) g;

  for (guint i = 0; i < ss->tags->len; i++)
    if (g_source_query_unix_fd (g, g_ptr_array_index (ss->tags, i)))
      return TRUE;
  return ss->deadline >= 0 && g_get_monotonic_time () >= ss->deadline;
}

static gboolean
src_dispatch (GSource *g, GSourceFunc cb, gpointer data)
{
  SnmpSource *ss = (SnmpSource *) g;
  netsnmp_large_fd_set set;
  gboolean any = FALSE;

  netsnmp_large_fd_set_init (&set, FD_SETSIZE);
  for (guint i = 0; i < ss->tags->len; i++)
    if (g_source_query_unix_fd (g, g_ptr_array_index (ss->tags, i))) {
      netsnmp_large_fd_setfd (g_array_index (ss->fds, gint, i), &set);
      any = TRUE;
    }
  if (any)
    snmp_read2 (&set);
  netsnmp_large_fd_set_cleanup (&set);
  if (ss->deadline >= 0 && g_get_monotonic_time () >= ss->deadline)
    snmp_timeout ();
  run_alarms ();
  netsnmp_check_outstanding_agent_requests ();
  return G_SOURCE_CONTINUE;
}

static void
src_finalize (GSource *g)
{
  SnmpSource *ss = (SnmpSource *) g;

  g_array_unref (ss->fds);
  g_ptr_array_unref (ss->tags);
}

static GSourceFuncs src_funcs = { src_prepare, src_check, src_dispatch, src_finalize, NULL, NULL };

static void
source_start (TcdSnmp *s)
{
  SnmpSource *ss;

  if (s->source)
    return;
  s->source = g_source_new (&src_funcs, sizeof (SnmpSource));
  ss = (SnmpSource *) s->source;
  ss->fds = g_array_new (FALSE, FALSE, sizeof (gint));
  ss->tags = g_ptr_array_new ();
  ss->deadline = -1;
  g_source_set_name (s->source, "snmp");
  g_source_attach (s->source, NULL);
}

/* ---- the agent's transports ---- */

static void
close_ports (TcdSnmp *s)
{
  for (guint i = 0; i < G_N_ELEMENTS (s->nsap); i++)
    if (s->nsap[i] > 0) {
      netsnmp_deregister_agent_nsap (s->nsap[i]);
      s->nsap[i] = -1;
    }
  s->port = 0;
}

static gint
open_nsap (const gchar *spec, GError **error)
{
  netsnmp_transport *t = netsnmp_transport_open_server ("snmp", spec);
  gint h;

  if (!t) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
        "SNMP: cannot listen on %s", spec);
    return -1;
  }
  if ((h = netsnmp_register_agent_nsap (t)) <= 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "SNMP: cannot serve %s", spec);
    return -1;
  }
  return h;
}

/* a UDP port free on @address (all: NULL) */
static guint
free_port (const gchar *address)
{
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GInetAddress) ia = address ? g_inet_address_new_from_string (address)
      : g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = NULL, bound = NULL;

  if (!ia || !(sock = g_socket_new (g_inet_address_get_family (ia), G_SOCKET_TYPE_DATAGRAM,
              G_SOCKET_PROTOCOL_UDP, NULL)))
    return 0;
  sa = g_inet_socket_address_new (ia, 0);
  if (!g_socket_bind (sock, sa, FALSE, NULL) || !(bound = g_socket_get_local_address (sock, NULL)))
    return 0;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
open_ports (TcdSnmp *s, GError **error)
{
  guint port = s->want_port ? s->want_port : free_port (s->address);
  g_autofree gchar *spec = NULL;

  close_ports (s);
  if (!port) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "SNMP: no free UDP port");
    return FALSE;
  }
  if (s->address && strchr (s->address, ':'))
    spec = g_strdup_printf ("udp6:[%s]:%u", s->address, port);
  else
    spec = g_strdup_printf ("udp:%s:%u", s->address ? s->address : "0.0.0.0", port);
  if ((s->nsap[0] = open_nsap (spec, error)) < 0)
    return FALSE;
  if (!s->address) {
    g_autofree gchar *six = g_strdup_printf ("udp6:[::]:%u", port);
    g_autoptr (GError) err = NULL;
    if ((s->nsap[1] = open_nsap (six, &err)) < 0)
      g_debug ("SNMP: no IPv6: %s", err->message);
  }
  s->port = port;
  g_message ("SNMP: listening on UDP port %u", port);
  return TRUE;
}

#define RETRY_S 5

static gboolean
retry_open (gpointer data)
{
  TcdSnmp *s = data;
  g_autoptr (GError) err = NULL;

  if (!s->on || s->port || open_ports (s, &err)) {
    s->retry_id = 0;
    g_clear_pointer (&s->last_error, g_free);
    return G_SOURCE_REMOVE;
  }
  g_free (s->last_error);
  s->last_error = g_strdup (err->message);
  return G_SOURCE_CONTINUE;
}

/* the port cannot be opened (another program, or 161 without the right to
 * it): the daemon goes on, the port is tried again every RETRY_S */
static void
open_or_retry (TcdSnmp *s)
{
  g_autoptr (GError) err = NULL;

  if (open_ports (s, &err)) {
    g_clear_handle_id (&s->retry_id, g_source_remove);
    g_clear_pointer (&s->last_error, g_free);
    return;
  }
  g_warning ("%s; tried again every %d s", err->message, RETRY_S);
  g_free (s->last_error);
  s->last_error = g_strdup (err->message);
  if (!s->retry_id)
    s->retry_id = g_timeout_add_seconds (RETRY_S, retry_open, s);
}

/* ---- users and trap sinks ---- */

static void
users_apply (TcdSnmp *s)
{
  JsonNode *users = json_object_get_member (json_node_get_object (s->cfg), "users");
  struct usmUser *u;

  while ((u = usm_get_userList ())) {
    usm_remove_user (u);
    usm_free_user (u);
  }
  if (!s->on || !cfg_bool (s, "v3"))
    return;
  for (guint i = 0; users && JSON_NODE_HOLDS_ARRAY (users)
      && i < json_array_get_length (json_node_get_array (users)); i++) {
    JsonObject *o = tc_json_array_get_object (json_node_get_array (users), i);
    const gchar *priv = o ? tc_json_get_string (o, "priv_password", "") : "";
    g_autofree gchar *line = NULL;

    if (!o || !*tc_json_get_string (o, "auth_password", ""))
      continue;
    line = g_strdup_printf ("%s %s %s", tc_json_get_string (o, "name", ""),
        tc_json_get_string (o, "auth_protocol", "SHA"),
        tc_json_get_string (o, "auth_password", ""));
    if (*priv) {
      g_autofree gchar *with = g_strdup_printf ("%s %s %s", line,
          tc_json_get_string (o, "priv_protocol", "AES"), priv);
      g_free (line);
      line = g_steal_pointer (&with);
    }
    usm_parse_create_usmUser ("createUser", line);
    memset (line, 0, strlen (line));
  }
}

static void
sinks_apply (TcdSnmp *s)
{
  JsonNode *rs = json_object_get_member (json_node_get_object (s->cfg), "trap_receivers");

  snmpd_free_trapsinks ();
  if (!s->on)
    return;
  for (guint i = 0; rs && JSON_NODE_HOLDS_ARRAY (rs)
      && i < json_array_get_length (json_node_get_array (rs)); i++) {
    JsonObject *r = tc_json_array_get_object (json_node_get_array (rs), i);
    const gchar *version = r ? tc_json_get_string (r, "version", "v2c") : "";
    const gchar *address = r ? tc_json_get_string (r, "address", "") : "";
    gboolean inform = r && tc_json_get_bool (r, "inform", FALSE);
    g_autofree gchar *host = NULL, *line = NULL;
    JsonObject *u;

    if (!r || !*address || !cfg_bool (s, version))
      continue;
    host = strchr (address, ':')
        ? g_strdup_printf ("udp6:[%s]:%" G_GINT64_FORMAT, address, tc_json_get_int (r, "port", 162))
        : g_strdup_printf ("udp:%s:%" G_GINT64_FORMAT, address, tc_json_get_int (r, "port", 162));
    if (g_str_equal (version, "v3")) {
      const gchar *name = tc_json_get_string (r, "user", "");
      const gchar *priv;
      if (!(u = find_user (s, name, strlen (name)))
          || !*tc_json_get_string (u, "auth_password", ""))
        continue;
      priv = tc_json_get_string (u, "priv_password", "");
      if (*priv && !g_str_equal (tc_json_get_string (u, "level", "auth_priv"), "auth_no_priv"))
        line = g_strdup_printf ("-v 3 -t 2 -r 2 %s -u %s -l authPriv -a %s -A %s -x %s -X %s %s",
            inform ? "-Ci" : "", name, tc_json_get_string (u, "auth_protocol", "SHA"),
            tc_json_get_string (u, "auth_password", ""),
            tc_json_get_string (u, "priv_protocol", "AES"), priv, host);
      else
        line = g_strdup_printf ("-v 3 -t 2 -r 2 %s -u %s -l authNoPriv -a %s -A %s %s",
            inform ? "-Ci" : "", name, tc_json_get_string (u, "auth_protocol", "SHA"),
            tc_json_get_string (u, "auth_password", ""), host);
    } else {
      line = g_strdup_printf ("-v %s -t 2 -r 2 %s -c %s %s",
          g_str_equal (version, "v1") ? "1" : "2c",
          inform && !g_str_equal (version, "v1") ? "-Ci" : "",
          tc_json_get_string (r, "community", "public"), host);
    }
    snmpd_parse_config_trapsess ("trapsess", line);
    memset (line, 0, strlen (line));
  }
}

/* ---- the linkage method "snmp_trap" ---- */

static void
add_string (netsnmp_variable_list **vars, guint n, const gchar *v)
{
  oid name[MAX_OID_LEN];
  gsize len = snmp_mib_root_len;
  g_autofree gchar *t = g_strndup (v ? v : "", 255);

  memcpy (name, snmp_mib_root, len * sizeof (oid));
  name[len++] = 1;
  name[len++] = 5;
  name[len++] = n;
  name[len++] = 0;
  snmp_varlist_add_variable (vars, name, len, ASN_OCTET_STR, t, strlen (t));
}

static void
add_integer (netsnmp_variable_list **vars, guint n, glong v)
{
  oid name[MAX_OID_LEN];
  gsize len = snmp_mib_root_len;
  long i = v;

  memcpy (name, snmp_mib_root, len * sizeof (oid));
  name[len++] = 1;
  name[len++] = 5;
  name[len++] = n;
  name[len++] = 0;
  snmp_varlist_add_variable (vars, name, len, ASN_INTEGER, &i, sizeof i);
}

static void
on_linked (JsonNode *ev, const gchar *tag, gpointer data)
{
  TcdSnmp *s = data;
  JsonObject *o = json_node_get_object (ev);
  const gchar *source = tc_json_get_string (o, "source", "");
  const gchar *state = tc_json_get_string (o, "state", NULL);
  gboolean exception = g_str_equal (source, "exception");
  gboolean stop = g_strcmp0 (state, "stop") == 0;
  netsnmp_variable_list *vars = NULL;
  g_autofree gchar *message = NULL;

  if (!s->on)
    return;
  if (exception) {
    message = g_strdup (tc_json_get_string (o, "message", ""));
    add_string (&vars, 1, tc_json_get_string (o, "type", ""));
    add_string (&vars, 6, message);
  } else {
    const gchar *level = tc_json_get_string (o, "level", "alarm");
    gint64 id = 0;
    JsonNode *value = json_object_get_member (o, "value");

    if (json_object_has_member (o, source) && JSON_NODE_HOLDS_VALUE (json_object_get_member (o,
                source)))
      id = tc_json_get_int (o, source, 0);
    message = g_strdup_printf ("%s %s %s %s", tag, tc_json_get_string (o, "name", ""),
        level, stop ? "stop" : "start");
    add_string (&vars, 1, source);
    add_integer (&vars, 2, (glong) id);
    add_string (&vars, 3, tc_json_get_string (o, "name", ""));
    add_integer (&vars, 4, g_str_equal (level, "pre_alarm") ? 2 : 3);
    if (value && JSON_NODE_HOLDS_VALUE (value)
        && json_node_get_value_type (value) != G_TYPE_STRING)
      add_integer (&vars, 5, lround (json_node_get_double (value) * 10.0));
    add_string (&vars, 6, message);
  }
  send_enterprise_trap_vars (SNMP_TRAP_ENTERPRISESPECIFIC,
      exception ? (stop ? 4 : 3) : (stop ? 2 : 1), (oid *) snmp_mib_root, snmp_mib_root_len,
      vars);
  snmp_free_varbind (vars);
  s->traps++;
  g_debug ("SNMP: trap for %s (%s)", tag, message);
}

/* ---- exceptions, for tcExceptions ---- */

static void
on_bus (TcdEventType type, JsonNode *event, gpointer data)
{
  TcdSnmp *s = data;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (event) ? json_node_get_object (event) : NULL;

  if (!o || type != TCD_EVENT_EXCEPTION
      || g_strcmp0 (tc_json_get_string (o, "state", NULL), "stop") == 0)
    return;
  s->exceptions++;
  g_free (s->last_exception_type);
  g_free (s->last_exception_message);
  g_free (s->last_exception_time);
  s->last_exception_type = g_strndup (tc_json_get_string (o, "type", ""), 64);
  s->last_exception_message = g_strndup (tc_json_get_string (o, "message", ""), 255);
  s->last_exception_time = g_strndup (tc_json_get_string (o, "time", ""), 32);
}

/* ---- the section's policy and checks ---- */

static const gchar *const secrets[] = { "auth_password", "priv_password", NULL };

/* shown without communities and passwords (which are only set) */
static void
view (JsonNode *sec, gboolean whole, gpointer data)
{
  JsonObject *o = sec && JSON_NODE_HOLDS_OBJECT (sec) ? json_node_get_object (sec) : NULL;
  JsonNode *n;

  if (!o)
    return;
  json_object_remove_member (o, "read_community");
  json_object_remove_member (o, "write_community");
  for (guint k = 0; k < 2; k++) {
    n = json_object_get_member (o, k ? "trap_receivers" : "users");
    for (guint i = 0; n && JSON_NODE_HOLDS_ARRAY (n)
        && i < json_array_get_length (json_node_get_array (n)); i++) {
      JsonObject *e = tc_json_array_get_object (json_node_get_array (n), i);
      if (!e)
        continue;
      if (k)
        json_object_remove_member (e, "community");
      else
        for (guint j = 0; secrets[j]; j++)
          json_object_remove_member (e, secrets[j]);
    }
  }
}

/* a patch without a secret keeps the one kept: communities as they are,
 * a user's passwords by its name, a receiver's community by its address
 * and port */
static void
incoming (TcdConfig *config, JsonNode *patch, gpointer data)
{
  JsonNode *old = tcd_config_node (tcd_config_get (config), "snmp");
  JsonObject *p = patch && JSON_NODE_HOLDS_OBJECT (patch) ? json_node_get_object (patch) : NULL;
  JsonObject *oo = old && JSON_NODE_HOLDS_OBJECT (old) ? json_node_get_object (old) : NULL;
  JsonNode *n, *on;

  if (!p || !oo)
    return;
  for (guint k = 0; k < 2; k++) {
    const gchar *c = k ? "write_community" : "read_community";
    if (!json_object_has_member (p, c) && json_object_has_member (oo, c))
      json_object_set_string_member (p, c, tc_json_get_string (oo, c, ""));
  }
  for (guint k = 0; k < 2; k++) {
    n = json_object_get_member (p, k ? "trap_receivers" : "users");
    on = json_object_get_member (oo, k ? "trap_receivers" : "users");
    if (!n || !JSON_NODE_HOLDS_ARRAY (n) || !on || !JSON_NODE_HOLDS_ARRAY (on))
      continue;
    for (guint i = 0; i < json_array_get_length (json_node_get_array (n)); i++) {
      JsonObject *e = tc_json_array_get_object (json_node_get_array (n), i);
      for (guint j = 0; e && j < json_array_get_length (json_node_get_array (on)); j++) {
        JsonObject *was = tc_json_array_get_object (json_node_get_array (on), j);
        if (!was)
          continue;
        if (k && g_strcmp0 (tc_json_get_string (was, "address", ""),
                tc_json_get_string (e, "address", "")) == 0
            && tc_json_get_int (was, "port", 162) == tc_json_get_int (e, "port", 162)
            && !json_object_has_member (e, "community") && json_object_has_member (was,
                "community"))
          json_object_set_string_member (e, "community",
              tc_json_get_string (was, "community", ""));
        if (!k && g_strcmp0 (tc_json_get_string (was, "name", ""),
                tc_json_get_string (e, "name", "")) == 0)
          for (guint q = 0; secrets[q]; q++)
            if (!json_object_has_member (e, secrets[q]) && json_object_has_member (was,
                    secrets[q]))
              json_object_set_string_member (e, secrets[q],
                  tc_json_get_string (was, secrets[q], ""));
      }
    }
  }
}

/* user names once each; a v3 receiver names a user with a password; a
 * user with privacy at auth_priv has a privacy password */
static gboolean
check (JsonNode *doc, JsonNode *current, const TcdOrigin *origin, gpointer data,
    GError **error)
{
  JsonNode *sec = tcd_config_node (doc, "snmp");
  JsonObject *o = sec && JSON_NODE_HOLDS_OBJECT (sec) ? json_node_get_object (sec) : NULL;
  JsonNode *users = o ? json_object_get_member (o, "users") : NULL;
  JsonNode *rs = o ? json_object_get_member (o, "trap_receivers") : NULL;
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; users && JSON_NODE_HOLDS_ARRAY (users)
      && i < json_array_get_length (json_node_get_array (users)); i++) {
    JsonObject *u = tc_json_array_get_object (json_node_get_array (users), i);
    const gchar *name = u ? tc_json_get_string (u, "name", "") : "";
    g_autofree gchar *field = g_strdup_printf ("snmp.users.%u", i);
    if (!u)
      continue;
    if (!g_hash_table_add (names, (gpointer) name)) {
      tcd_change_refuse (error, field, "%s.name: the user \"%s\" is listed twice", field, name);
      return FALSE;
    }
    if (!*tc_json_get_string (u, "auth_password", "")) {
      tcd_change_refuse (error, field, "%s.auth_password: a v3 user needs an authentication "
          "password (8 characters or more)", field);
      return FALSE;
    }
    if (g_str_equal (tc_json_get_string (u, "level", "auth_priv"), "auth_priv")
        && !*tc_json_get_string (u, "priv_password", "")) {
      tcd_change_refuse (error, field, "%s.priv_password: level auth_priv needs a privacy "
          "password (8 characters or more)", field);
      return FALSE;
    }
  }
  for (guint i = 0; rs && JSON_NODE_HOLDS_ARRAY (rs)
      && i < json_array_get_length (json_node_get_array (rs)); i++) {
    JsonObject *r = tc_json_array_get_object (json_node_get_array (rs), i);
    g_autofree gchar *field = g_strdup_printf ("snmp.trap_receivers.%u", i);
    if (!r)
      continue;
    if (g_str_equal (tc_json_get_string (r, "version", "v2c"), "v3")
        && !g_hash_table_contains (names, tc_json_get_string (r, "user", ""))) {
      tcd_change_refuse (error, field, "%s.user: a v3 receiver names one of snmp.users", field);
      return FALSE;
    }
    if (g_str_equal (tc_json_get_string (r, "version", "v2c"), "v1")
        && tc_json_get_bool (r, "inform", FALSE)) {
      tcd_change_refuse (error, field, "%s.inform: SNMPv1 has no informs", field);
      return FALSE;
    }
  }
  return TRUE;
}

/* ---- the service ---- */

TcdSnmp *
tcd_snmp_new (TcdContext *ctx)
{
  TcdSnmp *s = g_new0 (TcdSnmp, 1);

  s->ctx = ctx;
  s->nsap[0] = s->nsap[1] = -1;
  tcd_change_add_policy (ctx->change, "snmp", incoming, view, s);
  tcd_change_add_check (ctx->change, "snmp", check, s);
  s->bus_id = tcd_bus_subscribe (ctx->bus, TCD_EVENT_MASK (TCD_EVENT_EXCEPTION), on_bus, s);
  tcd_events_add_method (ctx->events, "snmp_trap", on_linked, s);
  s->method = TRUE;
  return s;
}

static gboolean
section_on (JsonNode *sec)
{
  JsonObject *o = sec && JSON_NODE_HOLDS_OBJECT (sec) ? json_node_get_object (sec) : NULL;

  return o && (tc_json_get_bool (o, "v1", FALSE) || tc_json_get_bool (o, "v2c", FALSE)
      || tc_json_get_bool (o, "v3", FALSE));
}

static void
switch_on (TcdSnmp *s)
{
  if (!initialized) {
    global_init (s);
    for (guint i = 0; i < G_N_ELEMENTS (acm_kinds); i++)
      netsnmp_register_callback (SNMP_CALLBACK_APPLICATION, acm_kinds[i], acm_check, s,
          NETSNMP_CALLBACK_LOWEST_PRIORITY);
    snmp_mib_register (s);
  }
  source_start (s);
}

gboolean
tcd_snmp_start (TcdSnmp *s, const gchar *address, guint port, GError **error)
{
  JsonNode *sec = tcd_config_node (tcd_config_get (s->ctx->config), "snmp");

  g_clear_handle_id (&s->retry_id, g_source_remove);
  close_ports (s);
  g_clear_pointer (&s->address, g_free);
  s->address = g_strdup (address);
  s->want_port = port;
  g_clear_pointer (&s->cfg, json_node_unref);
  s->cfg = tcd_json_deep_copy (sec);
  s->on = section_on (sec);
  if (!s->on)
    return TRUE;
  switch_on (s);
  users_apply (s);
  sinks_apply (s);
  open_or_retry (s);
  return TRUE;
}

void
tcd_snmp_apply (TcdSnmp *s, JsonNode *doc)
{
  JsonNode *sec = tcd_config_node (doc, "snmp");
  gboolean on = section_on (sec);

  if (s->cfg && tc_json_equal (sec, s->cfg))
    return;
  g_clear_pointer (&s->cfg, json_node_unref);
  s->cfg = tcd_json_deep_copy (sec);
  s->on = on;
  if (on)
    switch_on (s);
  if (initialized) {
    users_apply (s);
    sinks_apply (s);
  }
  if (on && !s->port) {
    open_or_retry (s);
  } else if (!on && (s->port || s->retry_id)) {
    g_clear_handle_id (&s->retry_id, g_source_remove);
    close_ports (s);
    g_message ("SNMP: off");
  }
}

guint
tcd_snmp_get_port (TcdSnmp *s)
{
  return s->port;
}

JsonNode *
tcd_snmp_stats (TcdSnmp *s)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *n;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "on");
  json_builder_add_boolean_value (b, s->on);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, s->port);
  json_builder_set_member_name (b, "requests");
  json_builder_add_int_value (b, (gint64) s->requests);
  json_builder_set_member_name (b, "refused");
  json_builder_add_int_value (b, (gint64) s->refused);
  json_builder_set_member_name (b, "sets");
  json_builder_add_int_value (b, (gint64) s->sets);
  json_builder_set_member_name (b, "traps");
  json_builder_add_int_value (b, (gint64) s->traps);
  json_builder_set_member_name (b, "last_error");
  if (s->last_error)
    json_builder_add_string_value (b, s->last_error);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  n = json_builder_get_root (b);
  g_object_unref (b);
  return n;
}

void
tcd_snmp_stop (TcdSnmp *s)
{
  g_clear_handle_id (&s->retry_id, g_source_remove);
  close_ports (s);
}

void
tcd_snmp_free (TcdSnmp *s)
{
  if (!s)
    return;
  g_clear_handle_id (&s->retry_id, g_source_remove);
  close_ports (s);
  if (s->method)
    tcd_events_remove_method (s->ctx->events, "snmp_trap");
  if (s->bus_id)
    tcd_bus_unsubscribe (s->ctx->bus, s->bus_id);
  if (s->source) {
    g_source_destroy (s->source);
    g_source_unref (s->source);
  }
  if (initialized) {
    snmp_mib_unregister ();
    for (guint i = 0; i < G_N_ELEMENTS (acm_kinds); i++)
      snmp_unregister_callback (SNMP_CALLBACK_APPLICATION, acm_kinds[i], acm_check, s, 1);
    snmpd_free_trapsinks ();
    snmp_shutdown ("thermocamd");
    initialized = FALSE;
  }
  g_clear_pointer (&s->cfg, json_node_unref);
  g_free (s->address);
  g_free (s->last_exception_type);
  g_free (s->last_exception_message);
  g_free (s->last_exception_time);
  g_free (s->last_error);
  g_free (s);
}
