/* thermocamd: the systemd-networkd backend of the network settings
 * (appliance/linkage/tcd-net-backend.c) writing into a temporary root, not
 * the host's; the DDNS answers (tcd-ddns.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tcd-ddns.h"
#include "tcd-net.h"

static JsonNode *
parse (const gchar *text)
{
  g_autoptr (GError) err = NULL;
  JsonNode *n = json_from_string (text, &err);
  g_assert_no_error (err);
  return n;
}

static gchar *
read_file (const gchar *root, const gchar *rel)
{
  g_autofree gchar *p = g_build_filename (root, rel, NULL);
  gchar *text = NULL;
  g_file_get_contents (p, &text, NULL, NULL);
  return text;
}

static gboolean
exists (const gchar *root, const gchar *rel)
{
  g_autofree gchar *p = g_build_filename (root, rel, NULL);
  return g_file_test (p, G_FILE_TEST_EXISTS);
}

static guint
mode_of (const gchar *root, const gchar *rel)
{
  g_autofree gchar *p = g_build_filename (root, rel, NULL);
  GStatBuf st;
  g_assert_cmpint (g_stat (p, &st), ==, 0);
  return st.st_mode & 0777;
}

static void
rm_rf (const gchar *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *p = g_build_filename (path, name, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_DIR))
      rm_rf (p);
    else
      g_remove (p);
  }
  g_rmdir (path);
}

static const gchar *MANUAL =
    "{\"interface\": \"enp3s0\", \"nic_type\": \"100m_full\", \"mtu\": 1400,"
    " \"ipv4\": {\"mode\": \"manual\", \"address\": \"192.168.10.64\","
    "   \"netmask\": \"255.255.255.0\", \"gateway\": \"192.168.10.1\"},"
    " \"ipv6\": {\"mode\": \"manual\", \"address\": \"2001:db8::64\", \"prefix_length\": 64,"
    "   \"gateway\": \"fe80::1\"},"
    " \"dns\": {\"preferred\": \"192.168.10.1\", \"alternate\": \"2001:db8::53\"},"
    " \"dynamic_domain_name\": {\"enabled\": false, \"name\": \"\"},"
    " \"ieee8021x\": {\"enabled\": true, \"protocol\": \"peap\", \"eapol_version\": 1,"
    "   \"user\": \"cam-7\", \"password\": \"p3ap-secret\", \"ca_certificate\": \"\"},"
    " \"ssh\": {\"enabled\": false}}";

static void
test_networkd_manual (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *root = g_dir_make_tmp ("test-net-XXXXXX", &err);
  const TcdNetBackend *k = NULL;
  gpointer b = tcd_net_backend_networkd_new (root, &k);
  g_autoptr (JsonNode) net = parse (MANUAL);
  g_autofree gchar *network = NULL, *link = NULL, *wpa = NULL;
  g_autoptr (JsonNode) st = NULL;

  g_assert_no_error (err);
  g_assert_cmpstr (k->name, ==, "networkd");
  g_assert_false (k->simulated);
  g_assert_true (k->apply (b, net, &err));
  g_assert_no_error (err);

  network = read_file (root, "etc/systemd/network/10-thermocam.network");
  g_assert_nonnull (network);
  g_assert_nonnull (strstr (network, "[Match]\nName=enp3s0\n"));
  g_assert_nonnull (strstr (network, "DHCP=no\n"));
  g_assert_nonnull (strstr (network, "IPv6AcceptRA=no\n"));
  g_assert_nonnull (strstr (network, "Address=192.168.10.64/24\n"));
  g_assert_nonnull (strstr (network, "Gateway=192.168.10.1\n"));
  g_assert_nonnull (strstr (network, "Address=2001:db8::64/64\n"));
  g_assert_nonnull (strstr (network, "Gateway=fe80::1\n"));
  g_assert_nonnull (strstr (network, "DNS=192.168.10.1\nDNS=2001:db8::53\n"));
  g_assert_nonnull (strstr (network, "MTUBytes=1400\n"));
  g_assert_null (strstr (network, "[DHCPv4]"));

  link = read_file (root, "etc/systemd/network/10-thermocam.link");
  g_assert_nonnull (strstr (link, "OriginalName=enp3s0\n"));
  g_assert_nonnull (strstr (link, "AutoNegotiation=no\nBitsPerSecond=100M\nDuplex=full\n"));

  /* 802.1X: PEAP for the wired interface, readable by root only */
  wpa = read_file (root, "etc/wpa_supplicant/wpa_supplicant-wired-enp3s0.conf");
  g_assert_nonnull (wpa);
  g_assert_cmpuint (mode_of (root, "etc/wpa_supplicant/wpa_supplicant-wired-enp3s0.conf"), ==,
      0600);
  g_assert_nonnull (strstr (wpa, "ap_scan=0\n"));
  g_assert_nonnull (strstr (wpa, "eapol_version=1\n"));
  g_assert_nonnull (strstr (wpa, "key_mgmt=IEEE8021X\n"));
  g_assert_nonnull (strstr (wpa, "eap=PEAP\n"));
  g_assert_nonnull (strstr (wpa, "identity=\"cam-7\"\n"));
  g_assert_nonnull (strstr (wpa, "password=\"p3ap-secret\"\n"));
  g_assert_nonnull (strstr (wpa, "phase2=\"auth=MSCHAPV2\"\n"));

  /* SSH off: Debian's ssh.service does not start */
  g_assert_true (exists (root, "etc/ssh/sshd_not_to_be_run"));

  st = k->status (b);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (st), "applies"), ==, 1);
  g_assert_true (json_object_get_null_member (json_node_get_object (st), "error"));
  k->free (b);
  rm_rf (root);
}

static void
test_networkd_dhcp (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *root = g_dir_make_tmp ("test-net-XXXXXX", &err);
  const TcdNetBackend *k = NULL;
  gpointer b = tcd_net_backend_networkd_new (root, &k);
  g_autoptr (JsonNode) first = parse (MANUAL);
  g_autoptr (JsonNode) net = parse (
      "{\"interface\": \"enp3s0\", \"nic_type\": \"auto\", \"mtu\": 1500,"
      " \"ipv4\": {\"mode\": \"dhcp\"}, \"ipv6\": {\"mode\": \"router_advertisement\"},"
      " \"dns\": {\"preferred\": \"\", \"alternate\": \"\"},"
      " \"dynamic_domain_name\": {\"enabled\": true, \"name\": \"thermocam-7\"},"
      " \"ieee8021x\": {\"enabled\": false}, \"ssh\": {\"enabled\": true}}");
  g_autofree gchar *network = NULL, *link = NULL;

  g_assert_true (k->apply (b, first, &err));
  g_assert_true (k->apply (b, net, &err));
  g_assert_no_error (err);
  network = read_file (root, "etc/systemd/network/10-thermocam.network");
  g_assert_nonnull (strstr (network, "DHCP=ipv4\n"));
  g_assert_nonnull (strstr (network, "IPv6AcceptRA=yes\n"));
  g_assert_null (strstr (network, "Address="));
  g_assert_nonnull (strstr (network, "[DHCPv4]\nSendHostname=yes\nHostname=thermocam-7\n"));
  g_assert_nonnull (strstr (network, "UseDNS=yes\n"));
  link = read_file (root, "etc/systemd/network/10-thermocam.link");
  g_assert_nonnull (strstr (link, "AutoNegotiation=yes\n"));
  /* 802.1X off: its configuration goes; SSH on: the flag goes */
  g_assert_false (exists (root, "etc/wpa_supplicant/wpa_supplicant-wired-enp3s0.conf"));
  g_assert_false (exists (root, "etc/ssh/sshd_not_to_be_run"));
  k->free (b);
  rm_rf (root);
}

static void
test_networkd_tls (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *root = g_dir_make_tmp ("test-net-XXXXXX", &err);
  const TcdNetBackend *k = NULL;
  gpointer b = tcd_net_backend_networkd_new (root, &k);
  g_autoptr (JsonNode) net = parse (
      "{\"interface\": \"eth0\", \"mtu\": 1500, \"ipv4\": {\"mode\": \"dhcp\"},"
      " \"ipv6\": {\"mode\": \"dhcp\"}, \"dns\": {},"
      " \"ieee8021x\": {\"enabled\": true, \"protocol\": \"eap-tls\", \"eapol_version\": 2,"
      "   \"user\": \"cam\", \"ca_certificate\": \"corp-ca\", \"client_certificate\": \"cam\","
      /* what tcd-net.c reads from the certificate store for the backend */
      "   \"ca_pem\": \"-----BEGIN CERTIFICATE-----\\nCA\\n\","
      "   \"client_pem\": \"-----BEGIN CERTIFICATE-----\\nME\\n\","
      "   \"client_key_pem\": \"-----BEGIN PRIVATE KEY-----\\nK\\n\"}, \"ssh\": {}}");
  g_autofree gchar *wpa = NULL, *key = NULL, *network = NULL;
  g_autofree gchar *dir = g_build_filename (root, "etc/wpa_supplicant/thermocam", NULL);
  g_autofree gchar *ca = g_strdup_printf ("ca_cert=\"%s/8021x-ca.pem\"", dir);
  g_autofree gchar *cl = g_strdup_printf ("client_cert=\"%s/8021x-client.pem\"", dir);
  g_autofree gchar *pk = g_strdup_printf ("private_key=\"%s/8021x-client.key\"", dir);

  g_assert_true (k->apply (b, net, &err));
  g_assert_no_error (err);
  network = read_file (root, "etc/systemd/network/10-thermocam.network");
  g_assert_nonnull (strstr (network, "DHCP=yes\n"));
  wpa = read_file (root, "etc/wpa_supplicant/wpa_supplicant-wired-eth0.conf");
  g_assert_nonnull (strstr (wpa, "eap=TLS\n"));
  g_assert_nonnull (strstr (wpa, "eapol_version=2\n"));
  g_assert_nonnull (strstr (wpa, ca));
  g_assert_nonnull (strstr (wpa, cl));
  g_assert_nonnull (strstr (wpa, pk));
  g_assert_null (strstr (wpa, "password="));
  key = read_file (root, "etc/wpa_supplicant/thermocam/8021x-client.key");
  g_assert_cmpstr (key, ==, "-----BEGIN PRIVATE KEY-----\nK\n");
  g_assert_cmpuint (mode_of (root, "etc/wpa_supplicant/thermocam/8021x-client.key"), ==, 0600);
  k->free (b);
  rm_rf (root);
}

/* a root that cannot be written: the error is said, in the status too */
static void
test_networkd_failure (void)
{
  g_autoptr (GError) err = NULL;
  const TcdNetBackend *k = NULL;
  gpointer b = tcd_net_backend_networkd_new ("/proc/thermocam-test", &k);
  g_autoptr (JsonNode) net = parse (MANUAL);
  g_autoptr (JsonNode) st = NULL;

  g_assert_false (k->apply (b, net, &err));
  g_assert_nonnull (err);
  st = k->status (b);
  g_assert_nonnull (json_object_get_string_member (json_node_get_object (st), "error"));
  k->free (b);
}

static void
test_simulated (void)
{
  g_autoptr (GError) err = NULL;
  const TcdNetBackend *k = NULL;
  gpointer b = tcd_net_backend_simulated_new (&k);
  g_autoptr (JsonNode) net = parse (MANUAL);
  g_autoptr (JsonNode) st = NULL;
  g_autofree gchar *text = NULL;

  g_assert_true (k->simulated);
  g_assert_true (k->apply (b, net, &err));
  st = k->status (b);
  text = json_to_string (st, FALSE);
  /* what it holds, without the secrets */
  g_assert_nonnull (strstr (text, "\"address\":\"192.168.10.64\""));
  g_assert_null (strstr (text, "p3ap-secret"));
  g_assert_nonnull (strstr (text, "\"password_set\":true"));
  k->free (b);
}

/* wpa_supplicant itself reads the configuration written (the wired driver
 * on lo, for two seconds, its control socket in the test's directory): a
 * file it cannot parse makes it exit at once saying so */
static void
wpa_parses (const gchar *root, const gchar *conf_text)
{
  g_autofree gchar *conf = g_build_filename (root, "check.conf", NULL);
  g_autofree gchar *local = g_strdup_printf ("ctrl_interface=%s/ctrl", root);
  g_auto (GStrv) parts = g_strsplit (conf_text, "ctrl_interface=/run/wpa_supplicant", 2);
  g_autofree gchar *text = g_strjoinv (local, parts);
  g_autofree gchar *out = NULL, *err_text = NULL;
  g_autoptr (GError) err = NULL;
  gint status = 0;
  const gchar *argv[] = { "timeout", "2", "wpa_supplicant", "-c", conf, "-i", "lo", "-D",
    "wired", NULL };

  /* the control socket goes to the test's directory, not /run */
  g_assert_nonnull (strstr (text, local));
  g_assert_true (g_file_set_contents (conf, text, -1, NULL));
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
          &out, &err_text, &status, &err));
  g_assert_no_error (err);
  g_test_message ("wpa_supplicant: %s%s", out, err_text);
  g_assert_null (strstr (out, "Failed to read or parse"));
  g_assert_null (strstr (out, "failed to parse"));
  /* it ran until stopped: 124 is timeout's word for that */
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 124);
}

static void
test_wpa_supplicant_parses (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *root = NULL, *wpa = g_find_program_in_path ("wpa_supplicant");
  static const gchar *const variants[] = {
    "\"protocol\": \"peap\", \"eapol_version\": 1, \"user\": \"cam-7\", \"password\": \"p3ap-secret\"",
    "\"protocol\": \"eap-md5\", \"eapol_version\": 2, \"user\": \"cam-7\", \"password\": \"md5 secret\"",
    "\"protocol\": \"eap-tls\", \"eapol_version\": 2, \"user\": \"cam-7\"",
  };

  if (!wpa) {
    g_test_skip ("no wpa_supplicant (scripts/setup.sh installs wpasupplicant)");
    return;
  }
  root = g_dir_make_tmp ("test-net-XXXXXX", &err);
  g_assert_no_error (err);
  for (guint i = 0; i < G_N_ELEMENTS (variants); i++) {
    g_autofree gchar *json = g_strdup_printf ("{\"ieee8021x\": {\"enabled\": true, %s}}",
        variants[i]);
    g_autoptr (JsonNode) net = parse (json);
    g_autofree gchar *conf = tcd_net_wpa_supplicant_conf (net, root);
    wpa_parses (root, conf);
  }
  /* and a file it refuses is seen refused */
  {
    g_autofree gchar *conf = g_build_filename (root, "bad.conf", NULL);
    g_autofree gchar *out = NULL;
    gint status = 0;
    const gchar *argv[] = { "timeout", "2", "wpa_supplicant", "-c", conf, "-i", "lo", "-D",
      "wired", NULL };
    g_assert_true (g_file_set_contents (conf, "ap_scan=0\nnetwork={\n\teap=BOGUS\n}\n", -1,
            NULL));
    g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH
            | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, NULL));
    g_assert_nonnull (strstr (out, "Failed to read or parse"));
  }
  rm_rf (root);
}

static void
test_ddns_answers (void)
{
  static const gchar *const ok[] = { "good 192.0.2.7", "nochg 192.0.2.7\r\n", " good", NULL };
  static const gchar *const later[] = { "911", "dnserr", NULL };
  static const gchar *const fatal[] = { "badauth", "!donator", "notfqdn", "nohost", "numhost",
    "abuse", "badagent", "!yours", "", "<html>", NULL };

  for (guint i = 0; ok[i]; i++) {
    g_autofree gchar *c = tcd_ddns_answer_code (ok[i]);
    g_assert_cmpint (tcd_ddns_verdict (c), ==, TCD_DDNS_OK);
  }
  for (guint i = 0; later[i]; i++) {
    g_autofree gchar *c = tcd_ddns_answer_code (later[i]);
    g_assert_cmpint (tcd_ddns_verdict (c), ==, TCD_DDNS_RETRY_LATER);
  }
  for (guint i = 0; fatal[i]; i++) {
    g_autofree gchar *c = tcd_ddns_answer_code (fatal[i]);
    g_assert_cmpint (tcd_ddns_verdict (c), ==, TCD_DDNS_FATAL);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/networkd/manual", test_networkd_manual);
  g_test_add_func ("/net/networkd/dhcp", test_networkd_dhcp);
  g_test_add_func ("/net/networkd/eap-tls", test_networkd_tls);
  g_test_add_func ("/net/networkd/failure", test_networkd_failure);
  g_test_add_func ("/net/simulated", test_simulated);
  g_test_add_func ("/net/wpa_supplicant", test_wpa_supplicant_parses);
  g_test_add_func ("/net/ddns/answers", test_ddns_answers);
  return g_test_run ();
}
