/* thermocamd: the network backends: simulated, and systemd-networkd
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * systemd-networkd rather than NetworkManager: it is Debian's own network
 * daemon for a headless host, it is configured by plain files (written
 * atomically, checked in a test directory without touching the machine),
 * needs no D-Bus session or libnm, and its .link files say the NIC's
 * speed, duplex and MTU; 802.1X on a wired port is wpa_supplicant's
 * (wpa_supplicant-wired@IFACE.service reads
 * /etc/wpa_supplicant/wpa_supplicant-wired-IFACE.conf).  SSH: Debian's
 * ssh.service does not start while /etc/ssh/sshd_not_to_be_run exists.
 */
#include "tcd-net.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "tc-json.h"
#include "tcd-config.h"

static const gchar *
str (JsonObject *o, const gchar *name)
{
  return o ? tc_json_get_string (o, name, "") : "";
}

static JsonObject *
obj (JsonNode *net, const gchar *name)
{
  return net && JSON_NODE_HOLDS_OBJECT (net)
      ? tc_json_get_object (json_node_get_object (net), name) : NULL;
}

static gint
prefix_of (const gchar *mask)
{
  guint a, b, c, d, n = 0;
  guint32 m;

  if (sscanf (mask, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
    return 24;
  m = (a << 24) | (b << 16) | (c << 8) | d;
  while (n < 32 && (m & (0x80000000u >> n)))
    n++;
  return n;
}

/* ---- the files ---- */

gchar *
tcd_net_networkd_network (JsonNode *net)
{
  JsonObject *o = json_node_get_object (net);
  JsonObject *v4 = obj (net, "ipv4"), *v6 = obj (net, "ipv6"), *dns = obj (net, "dns");
  JsonObject *ddn = obj (net, "dynamic_domain_name");
  gboolean dhcp4 = g_strcmp0 (str (v4, "mode"), "dhcp") == 0;
  const gchar *m6 = str (v6, "mode");
  gboolean dhcp6 = g_str_equal (m6, "dhcp");
  GString *s = g_string_new ("# written by thermocamd: the camera's network settings\n");

  g_string_append_printf (s, "[Match]\nName=%s\n\n[Network]\n", str (o, "interface"));
  g_string_append_printf (s, "DHCP=%s\n", dhcp4 && dhcp6 ? "yes" : dhcp4 ? "ipv4"
      : dhcp6 ? "ipv6" : "no");
  g_string_append_printf (s, "IPv6AcceptRA=%s\n", g_str_equal (m6, "manual") ? "no" : "yes");
  g_string_append (s, "LinkLocalAddressing=ipv6\n");
  if (!dhcp4)
    g_string_append_printf (s, "Address=%s/%d\n", str (v4, "address"),
        prefix_of (str (v4, "netmask")));
  if (!dhcp4 && *str (v4, "gateway"))
    g_string_append_printf (s, "Gateway=%s\n", str (v4, "gateway"));
  if (g_str_equal (m6, "manual")) {
    g_string_append_printf (s, "Address=%s/%d\n", str (v6, "address"),
        (gint) tc_json_get_int (v6, "prefix_length", 64));
    if (*str (v6, "gateway"))
      g_string_append_printf (s, "Gateway=%s\n", str (v6, "gateway"));
  }
  for (const gchar *const *k = (const gchar *[]) { "preferred", "alternate", NULL }; *k; k++)
    if (*str (dns, *k))
      g_string_append_printf (s, "DNS=%s\n", str (dns, *k));
  g_string_append_printf (s, "\n[Link]\nMTUBytes=%d\n", (gint) tc_json_get_int (o, "mtu", 1500));
  if (dhcp4) {
    gboolean reg = tc_json_get_bool (ddn, "enabled", FALSE);
    g_string_append (s, "\n[DHCPv4]\n");
    /* dynamic domain name: the name the DHCP server registers */
    if (reg)
      g_string_append_printf (s, "SendHostname=yes\nHostname=%s\n", str (ddn, "name"));
    else
      g_string_append (s, "SendHostname=no\n");
    /* a DNS given here goes first, DHCP's after */
    g_string_append_printf (s, "UseDNS=%s\n", *str (dns, "preferred") ? "no" : "yes");
  }
  return g_string_free (s, FALSE);
}

gchar *
tcd_net_networkd_link (JsonNode *net)
{
  JsonObject *o = json_node_get_object (net);
  const gchar *nic = str (o, "nic_type");
  GString *s = g_string_new ("# written by thermocamd: the camera's NIC\n");

  g_string_append_printf (s, "[Match]\nOriginalName=%s\n\n[Link]\n", str (o, "interface"));
  g_string_append_printf (s, "MTUBytes=%d\n", (gint) tc_json_get_int (o, "mtu", 1500));
  if (g_str_equal (nic, "auto") || !*nic) {
    g_string_append (s, "AutoNegotiation=yes\n");
  } else {
    guint mbit = 0;
    gchar duplex[8] = "";
    if (sscanf (nic, "%um_%7s", &mbit, duplex) == 2)
      g_string_append_printf (s, "AutoNegotiation=no\nBitsPerSecond=%uM\nDuplex=%s\n", mbit,
          duplex);
  }
  return g_string_free (s, FALSE);
}

/* a value inside wpa_supplicant's double quotes: the schema keeps quotes,
 * backslashes and line ends out of user and password */
gchar *
tcd_net_wpa_supplicant_conf (JsonNode *net, const gchar *cert_dir)
{
  JsonObject *x = obj (net, "ieee8021x");
  const gchar *proto = str (x, "protocol");
  GString *s = g_string_new ("# written by thermocamd: IEEE 802.1X on the wired port\n");

  g_string_append_printf (s, "ctrl_interface=/run/wpa_supplicant\nap_scan=0\n"
      "eapol_version=%d\n\nnetwork={\n\tkey_mgmt=IEEE8021X\n",
      (gint) tc_json_get_int (x, "eapol_version", 2));
  g_string_append_printf (s, "\teap=%s\n", g_str_equal (proto, "eap-tls") ? "TLS"
      : g_str_equal (proto, "peap") ? "PEAP" : "MD5");
  g_string_append_printf (s, "\tidentity=\"%s\"\n", str (x, "user"));
  if (g_str_equal (proto, "eap-tls")) {
    g_string_append_printf (s, "\tca_cert=\"%s/8021x-ca.pem\"\n", cert_dir);
    g_string_append_printf (s, "\tclient_cert=\"%s/8021x-client.pem\"\n", cert_dir);
    g_string_append_printf (s, "\tprivate_key=\"%s/8021x-client.key\"\n", cert_dir);
  } else {
    g_string_append_printf (s, "\tpassword=\"%s\"\n", str (x, "password"));
    if (g_str_equal (proto, "peap")) {
      if (*str (x, "ca_certificate"))
        g_string_append_printf (s, "\tca_cert=\"%s/8021x-ca.pem\"\n", cert_dir);
      g_string_append (s, "\tphase2=\"auth=MSCHAPV2\"\n");
    }
  }
  g_string_append (s, "\teapol_flags=0\n}\n");
  return g_string_free (s, FALSE);
}

/* ---- simulated ---- */

typedef struct {
  JsonNode *applied;
  guint applies;
  gint64 last;
} Simulated;

static gboolean
sim_apply (gpointer data, JsonNode *net, GError **error)
{
  Simulated *s = data;

  g_clear_pointer (&s->applied, json_node_unref);
  s->applied = tcd_json_deep_copy (net);
  if (JSON_NODE_HOLDS_OBJECT (s->applied)) {
    /* secrets stay in the configuration, not in the status */
    JsonObject *x = tc_json_get_object (json_node_get_object (s->applied), "ieee8021x");
    JsonObject *d = tc_json_get_object (json_node_get_object (s->applied), "ddns");
    if (x) {
      json_object_set_boolean_member (x, "password_set", *str (x, "password"));
      json_object_remove_member (x, "password");
      /* the certificates by name, as the configuration says */
      json_object_remove_member (x, "ca_pem");
      json_object_remove_member (x, "client_pem");
      json_object_remove_member (x, "client_key_pem");
    }
    if (d)
      json_object_remove_member (json_node_get_object (s->applied), "ddns");
    json_object_remove_member (json_node_get_object (s->applied), "qos");
    json_object_remove_member (json_node_get_object (s->applied), "confirm_timeout_s");
  }
  s->applies++;
  s->last = g_get_real_time ();
  return TRUE;
}

static JsonNode *
sim_status (gpointer data)
{
  Simulated *s = data;
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();

  json_node_take_object (n, o);
  if (s->applied)
    json_object_set_member (o, "applied", json_node_ref (s->applied));
  else
    json_object_set_null_member (o, "applied");
  json_object_set_int_member (o, "applies", s->applies);
  return n;
}

static void
sim_free (gpointer data)
{
  Simulated *s = data;
  g_clear_pointer (&s->applied, json_node_unref);
  g_free (s);
}

static const TcdNetBackend simulated_class = {
  .name = "simulated",
  .simulated = TRUE,
  .apply = sim_apply,
  .status = sim_status,
  .free = sim_free,
};

gpointer
tcd_net_backend_simulated_new (const TcdNetBackend **klass)
{
  *klass = &simulated_class;
  return g_new0 (Simulated, 1);
}

/* ---- systemd-networkd ---- */

typedef struct {
  gchar *root;                          /* "" for the host */
  gchar *network_dir, *wpa_dir, *ssh_flag;
  gchar *last_error;
  guint applies;
  gchar *interface;                     /* the one written last */
} Networkd;

static gboolean
write_file (const gchar *path, const gchar *text, gint mode, GError **error)
{
  g_autofree gchar *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0755) != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", dir,
        g_strerror (errno));
    return FALSE;
  }
  return g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, mode, error);
}

/* a command on the host (only without a root): best effort, said in the log */
static void
run (const gchar *const *argv)
{
  g_autoptr (GError) err = NULL;
  gint status = 0;

  if (!g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH
          | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
          &status, &err) || !g_spawn_check_wait_status (status, &err))
    g_warning ("network: %s: %s", argv[0], err->message);
}

static gboolean
nd_apply (gpointer data, JsonNode *net, GError **error)
{
  Networkd *n = data;
  JsonObject *o = json_node_get_object (net);
  JsonObject *x = obj (net, "ieee8021x");
  const gchar *iface = str (o, "interface");
  g_autofree gchar *network = tcd_net_networkd_network (net);
  g_autofree gchar *link = tcd_net_networkd_link (net);
  g_autofree gchar *npath = g_build_filename (n->network_dir, "10-thermocam.network", NULL);
  g_autofree gchar *lpath = g_build_filename (n->network_dir, "10-thermocam.link", NULL);
  g_autofree gchar *wname = g_strdup_printf ("wpa_supplicant-wired-%s.conf", iface);
  g_autofree gchar *wpath = g_build_filename (n->wpa_dir, wname, NULL);
  g_autofree gchar *cert_dir = g_build_filename (n->wpa_dir, "thermocam", NULL);
  gboolean x_on = tc_json_get_bool (x, "enabled", FALSE);
  gboolean ssh = tc_json_get_bool (obj (net, "ssh"), "enabled", FALSE);
  gboolean host = !*n->root;

  g_clear_pointer (&n->last_error, g_free);
  if (!write_file (npath, network, 0644, error) || !write_file (lpath, link, 0644, error))
    goto failed;
  /* a former interface's 802.1X goes */
  if (n->interface && g_strcmp0 (n->interface, iface) != 0) {
    g_autofree gchar *old = g_strdup_printf ("%s/wpa_supplicant-wired-%s.conf", n->wpa_dir,
        n->interface);
    g_unlink (old);
  }
  if (x_on) {
    g_autofree gchar *conf = tcd_net_wpa_supplicant_conf (net, cert_dir);
    const gchar *files[][2] = {
      { "8021x-ca.pem", str (x, "ca_pem") },
      { "8021x-client.pem", str (x, "client_pem") },
      { "8021x-client.key", str (x, "client_key_pem") },
    };
    for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
      g_autofree gchar *p = g_build_filename (cert_dir, files[i][0], NULL);
      if (*files[i][1]) {
        if (!write_file (p, files[i][1], 0600, error))
          goto failed;
      } else {
        g_unlink (p);
      }
    }
    if (!write_file (wpath, conf, 0600, error))
      goto failed;
  } else {
    g_unlink (wpath);
  }
  if (ssh) {
    if (g_unlink (n->ssh_flag) != 0 && errno != ENOENT) {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s",
          n->ssh_flag, g_strerror (errno));
      goto failed;
    }
  } else if (!write_file (n->ssh_flag, "thermocamd: SSH is off (network.ssh.enabled)\n", 0644,
          error)) {
    goto failed;
  }
  g_free (n->interface);
  n->interface = g_strdup (iface);
  n->applies++;
  if (host) {
    g_autofree gchar *unit = g_strdup_printf ("wpa_supplicant-wired@%s.service", iface);
    run ((const gchar *[]) { "networkctl", "reload", NULL });
    run ((const gchar *[]) { "networkctl", "reconfigure", iface, NULL });
    run ((const gchar *[]) { "systemctl", x_on ? "restart" : "stop", unit, NULL });
    run ((const gchar *[]) { "systemctl", ssh ? "restart" : "stop", "ssh.service", NULL });
  }
  return TRUE;
failed:
  n->last_error = g_strdup ((*error)->message);
  return FALSE;
}

static JsonNode *
nd_status (gpointer data)
{
  Networkd *n = data;
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();

  json_node_take_object (node, o);
  json_object_set_string_member (o, "root", *n->root ? n->root : "/");
  json_object_set_string_member (o, "network_dir", n->network_dir);
  json_object_set_string_member (o, "wpa_supplicant_dir", n->wpa_dir);
  json_object_set_int_member (o, "applies", n->applies);
  if (n->last_error)
    json_object_set_string_member (o, "error", n->last_error);
  else
    json_object_set_null_member (o, "error");
  return node;
}

static void
nd_free (gpointer data)
{
  Networkd *n = data;
  g_free (n->root);
  g_free (n->network_dir);
  g_free (n->wpa_dir);
  g_free (n->ssh_flag);
  g_free (n->last_error);
  g_free (n->interface);
  g_free (n);
}

static const TcdNetBackend networkd_class = {
  .name = "networkd",
  .simulated = FALSE,
  .apply = nd_apply,
  .status = nd_status,
  .free = nd_free,
};

gpointer
tcd_net_backend_networkd_new (const gchar *root, const TcdNetBackend **klass)
{
  Networkd *n = g_new0 (Networkd, 1);
  const gchar *r = root && *root && g_strcmp0 (root, "/") != 0 ? root : "";

  n->root = g_strdup (r);
  n->network_dir = g_build_filename (*r ? r : "/", "etc/systemd/network", NULL);
  n->wpa_dir = g_build_filename (*r ? r : "/", "etc/wpa_supplicant", NULL);
  n->ssh_flag = g_build_filename (*r ? r : "/", "etc/ssh/sshd_not_to_be_run", NULL);
  *klass = &networkd_class;
  return n;
}
