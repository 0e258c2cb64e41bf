/* thermocam package: makes a signed upgrade package (core/tcd-package.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   thermocam package --tree DIR --version V --key KEY.pem -o OUT.tcpkg
 *
 * DIR is an installed prefix: bin/thermocamd, lib/ (the GStreamer plugin in
 * lib/gstreamer-1.0/ or lib/<triplet>/gstreamer-1.0/, libgstthermalmeta),
 * share/thermocam/ (pipelines, schemas, webui, keys).  KEY.pem is an
 * Ed25519 private key:
 *   openssl genpkey -algorithm ed25519 -out upgrade-key.pem
 *   openssl pkey -in upgrade-key.pem -pubout -out upgrade-key.pub.pem
 * (the public one goes to the device's share/thermocam/keys/ or
 * STATE_DIR/keys/; the private one stays with whoever signs releases).
 */
#include <glib.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "tcd-package.h"

gint cmd_package (gint argc, gchar **argv);

gint
cmd_package (gint argc, gchar **argv)
{
  g_autofree gchar *tree = NULL, *version = NULL, *key = NULL, *out = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (GOptionContext) octx = g_option_context_new ("- make a signed upgrade package");
  GOptionEntry entries[] = {
    {"tree", 0, 0, G_OPTION_ARG_FILENAME, &tree, "The installed tree (bin/, lib/, share/)",
        "DIR"},
    {"version", 0, 0, G_OPTION_ARG_STRING, &version, "The version it installs (1.2.3)", "V"},
    {"key", 0, 0, G_OPTION_ARG_FILENAME, &key, "The Ed25519 private key (PEM)", "KEY.pem"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The package to write", "OUT"},
    {NULL}
  };

  g_option_context_add_main_entries (octx, entries, NULL);
  if (!g_option_context_parse (octx, &argc, &argv, &err)) {
    g_printerr ("thermocam package: %s\n", err->message);
    return 2;
  }
  if (!tree || !version || !key || !out) {
    g_printerr ("usage: thermocam package --tree DIR --version V --key KEY.pem -o OUT\n");
    return 2;
  }
  if (!tcd_package_make (tree, version, key, out, &err)) {
    g_printerr ("thermocam package: %s\n", err->message);
    return 1;
  }
  g_print ("%s\n", out);
  return 0;
}
