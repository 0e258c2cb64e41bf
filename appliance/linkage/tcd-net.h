/* thermocamd: the network chapter (manual 9.1, 9.5, 10.12.4, 10.12.6,
 * 10.12.7): TCP/IP, DDNS, SSH, QoS and IEEE 802.1X
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A software appliance does not own its host's network: the daemon keeps
 * the section `network`, checks it on the change path (addresses, masks,
 * a gateway in the subnet, DNS, the 802.1X certificates) and hands what
 * changes the host to a backend (TcdNetBackend):
 *
 *   simulated          (the default) keeps what it was given, shown by
 *                      GET /network/status, as the alarm I/O backend does;
 *   networkd[:ROOT]    systemd-networkd: ROOT/etc/systemd/network/
 *                      10-thermocam.network and .link, a wpa_supplicant
 *                      configuration for the wired interface, and SSH
 *                      through ROOT/etc/ssh/sshd_not_to_be_run; without ROOT
 *                      (the host itself) networkd, wpa_supplicant@wired and
 *                      ssh are told (networkctl reload, systemctl).
 *
 * A change of the IP settings (interface, NIC, IPv4, IPv6, MTU, 802.1X) is
 * applied at once and rolled back by itself after confirm_timeout_s unless
 * tcd_net_confirm comes first (the operator reached the device again).
 * Main loop only.
 */
#pragma once

#include "tcd-change.h"
#include "tcd-events.h"

G_BEGIN_DECLS

#define TCD_NET_ERROR (tcd_net_error_quark ())
GQuark tcd_net_error_quark (void);
typedef enum {
  TCD_NET_ERROR_NOTHING_PENDING,        /* confirm with no change waiting */
  TCD_NET_ERROR_BACKEND,                /* the backend could not apply */
  TCD_NET_ERROR_WRONG_ADDRESS,          /* confirm not through the new address */
  TCD_NET_ERROR_INVALID,                /* a bad argument (test-address) */
} TcdNetError;

typedef struct {
  const gchar *name;                    /* "simulated", "networkd" */
  gboolean simulated;                   /* changes nothing on the host */
  /* the host's part of the section @net (the whole network section) */
  gboolean  (*apply) (gpointer data, JsonNode *net, GError **error);
  /* what it holds: a JSON object */
  JsonNode *(*status) (gpointer data);
  void      (*free) (gpointer data);
} TcdNetBackend;

/* The backends (tcd-net-backend.c).  @root: where the files go ("" or NULL:
 * the host itself, and the services are told) */
gpointer tcd_net_backend_simulated_new (const TcdNetBackend **klass);
gpointer tcd_net_backend_networkd_new (const gchar *root, const TcdNetBackend **klass);
/* The files (tcd-net-backend.c, for the tests too) */
gchar   *tcd_net_networkd_network (JsonNode *net);
gchar   *tcd_net_networkd_link (JsonNode *net);
gchar   *tcd_net_wpa_supplicant_conf (JsonNode *net, const gchar *cert_dir);

typedef struct _TcdNet TcdNet;

/* The checks of the section (tcd-net-check.c): a TcdChangeCheck
 * (@user_data: the TcdNet, told the origin of the change) */
gboolean tcd_net_check (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
                        gpointer user_data, GError **error);

/* What the change about to be committed is (a factory default is not
 * rolled back) */
void      tcd_net_set_origin (TcdNet *net, const TcdOrigin *origin);

/* @backend: "simulated" (NULL too), "networkd" or "networkd:ROOT"; adds
 * its check, its policy (write-only secrets) and its subscriber to @change */
TcdNet   *tcd_net_new (TcdChange *change, TcdEvents *events, TcdBus *bus, TcdSecurity *security,
                       const gchar *backend, const gchar *state_dir, GError **error);
void      tcd_net_free (TcdNet *net);
/* The state directory (its certificate store holds the 802.1X certificates) */
const gchar *tcd_net_get_state_dir (TcdNet *net);
/* {"backend", "simulated", "applied", "pending": {...} or null, "ddns": {...}} */
JsonNode *tcd_net_status (TcdNet *net);
/* The pending change of the IP settings is kept; @local: the address the
 * request came to (with a real backend it must be the new one) */
gboolean  tcd_net_confirm (TcdNet *net, const gchar *local, const TcdOrigin *origin,
                           GError **error);
/* Is @address free?  (ARP through the neighbour table, and ICMP echo);
 * the answer {"address", "free", "method", "detail"} */
void      tcd_net_test_address_async (TcdNet *net, const gchar *address,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);
JsonNode *tcd_net_test_address_finish (TcdNet *net, GAsyncResult *result, GError **error);
/* An update of the DDNS now (whatever the interval) */
gboolean  tcd_net_ddns_update (TcdNet *net, GError **error);

G_END_DECLS
