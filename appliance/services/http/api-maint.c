/* thermocamd: HTTP routes of maintenance (manual 10.3, 10.6): the upgrade
 * (a signed package uploaded, checked whole, installed beside the running
 * version, then the daemon restarts into it) and the diagnose information
 * (one tar archive)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The package is the request's body, written to a file in the state
 * directory as it comes (never held in memory), at most the upgrade's
 * max_bytes: a Content-Length above it is refused before a byte is read,
 * a body that grows past it is cut and refused.  The check and the
 * install run in a thread; the answer leaves before the restart.
 */
#include "tcd-http-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "tc-json.h"
#include "tcd-package.h"
#include "tcd-tar.h"

#define UPLOAD_PATH API "system/upgrade"
#define UPLOAD_TIMEOUT_MS (10 * 60 * 1000)

/* ---- the upload ---- */

typedef struct {
  TcdUpgrade *upgrade;
  gchar *path;                  /* NULL once the handler took it */
  gint fd;
  guint64 written, max;
  gboolean too_large, failed;
} Upload;

static void
upload_free (gpointer data)
{
  Upload *up = data;

  if (up->fd >= 0)
    close (up->fd);
  /* the request ended without reaching its handler (closed, cut) */
  if (up->path)
    tcd_upgrade_abort (up->upgrade, up->path, "idle", "the upload did not complete");
  g_free (up->path);
  g_free (up);
}

gboolean
upgrade_is_upload (SoupServerMessage *msg)
{
  return g_str_equal (soup_server_message_get_method (msg), "POST")
      && g_strcmp0 (http_path_of (msg), UPLOAD_PATH) == 0;
}

static void
upload_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  Upload *up = user_data;
  gsize n = g_bytes_get_size (chunk);
  const guint8 *d = g_bytes_get_data (chunk, NULL);

  if (up->too_large || up->failed || up->fd < 0)
    return;
  if (up->written + n > up->max) {
    up->too_large = TRUE;
    return;
  }
  while (n > 0) {
    gssize w = write (up->fd, d, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      up->failed = TRUE;
      return;
    }
    d += w;
    n -= w;
    up->written += w;
  }
}

void
upgrade_upload_begin (TcdHttp *h, SoupServerMessage *msg)
{
  TcdUpgrade *u = h->ctx->upgrade;
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  goffset len = soup_message_headers_get_content_length (hdrs);
  g_autoptr (GError) err = NULL;
  Upload *up;

  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  g_object_set_data (G_OBJECT (msg), "tcd-upload", GINT_TO_POINTER (1));
  if (soup_message_headers_get_encoding (hdrs) == SOUP_ENCODING_CONTENT_LENGTH
      && (guint64) len > tcd_upgrade_get_max_bytes (u)) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
        "Connection", "close");
    send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL,
        "the package (%" G_GOFFSET_FORMAT " bytes) is larger than %" G_GUINT64_FORMAT
        " bytes", len, tcd_upgrade_get_max_bytes (u));
    return;
  }
  up = g_new0 (Upload, 1);
  up->fd = -1;
  up->upgrade = u;
  up->max = tcd_upgrade_get_max_bytes (u);
  if (!(up->path = tcd_upgrade_begin (u, &err))) {
    g_free (up);
    send_error (msg, SOUP_STATUS_CONFLICT, "busy", NULL, "%s", err->message);
    return;
  }
  up->fd = g_open (up->path, O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  up->failed = up->fd < 0;
  g_object_set_data_full (G_OBJECT (msg), "tcd-upload-state", up, upload_free);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (upload_chunk), up);
  /* a package takes longer than a request's body */
  tcd_conns_set_deadline (h->conns, soup_server_message_get_remote_address (msg),
      UPLOAD_TIMEOUT_MS);
}

typedef struct {
  TcdHttp *h;
  SoupServerMessage *msg;
  gchar *path, *config, *version;
  gboolean force;
  TcdOrigin origin;
  gchar *user, *address;
  GError *error;
} Install;

static void
install_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  Install *in = data;
  tcd_upgrade_install (in->h->ctx->upgrade, in->path, in->force, in->config, &in->version,
      &in->error);
}

static void
install_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Install *in = data;
  TcdContext *ctx = in->h->ctx;

  if (in->error) {
    tcd_audit (ctx->security, "system", in->user, in->address, "upgrade refused: %s",
        in->error->message);
    send_gerror_message (in->msg, in->error, NULL, in->error->message);
  } else {
    g_autoptr (JsonNode) answer = json_node_new (JSON_NODE_OBJECT);
    JsonObject *o = json_object_new ();

    json_node_take_object (answer, o);
    json_object_set_string_member (o, "version", in->version);
    json_object_set_string_member (o, "from", tcd_upgrade_version (ctx->upgrade));
    json_object_set_boolean_member (o, "restarting", TRUE);
    tcd_audit (ctx->security, "system", in->user, in->address,
        "upgrade from version %s to %s installed; restarting",
        tcd_upgrade_version (ctx->upgrade), in->version);
    send_json (in->msg, SOUP_STATUS_ACCEPTED, answer);
  }
  soup_server_message_unpause (in->msg);
  if (!in->error)
    tcd_upgrade_restart (ctx->upgrade);
  g_object_unref (in->msg);
  g_free (in->path);
  g_free (in->config);
  g_free (in->version);
  g_free (in->user);
  g_free (in->address);
  g_clear_error (&in->error);
  g_free (in);
}

static void
handle_upgrade (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  Upload *up = g_object_get_data (G_OBJECT (msg), "tcd-upload-state");
  const gchar *force = req->query ? g_hash_table_lookup (req->query, "force") : NULL;
  Install *in;
  GTask *task;

  if (!up)
    return;                     /* answered when the headers came (too large, busy) */
  if (force && !g_str_equal (force, "true") && !g_str_equal (force, "false")) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "force", "force: true or false");
    return;
  }
  if (up->too_large || up->failed || up->written == 0) {
    guint64 max = up->max;
    gboolean large = up->too_large, failed = up->failed;

    tcd_upgrade_abort (up->upgrade, up->path, "failed", large ? "the package is too large"
        : failed ? "the package could not be stored" : "no package was sent");
    g_clear_pointer (&up->path, g_free);
    if (large)
      send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL,
          "the package is larger than %" G_GUINT64_FORMAT " bytes", max);
    else if (failed)
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL,
          "the package could not be stored");
    else
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_package", NULL,
          "send the package as the request's body");
    return;
  }
  if (fsync (up->fd) != 0)
    g_warning ("upgrade: %s: %s", up->path, g_strerror (errno));
  close (up->fd);
  up->fd = -1;
  in = g_new0 (Install, 1);
  in->h = h;
  in->msg = g_object_ref (msg);
  in->path = g_steal_pointer (&up->path);
  in->config = g_build_filename (h->ctx->state_dir, "config.json", NULL);
  in->force = force && g_str_equal (force, "true");
  in->user = g_strdup (who_user (msg));
  in->address = g_strdup (address_of (msg));
  soup_server_message_pause (msg);
  task = g_task_new (NULL, NULL, install_done, in);
  g_task_set_task_data (task, in, NULL);
  g_task_run_in_thread (task, install_thread);
  g_object_unref (task);
}

static void
handle_upgrade_status (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) st = tcd_upgrade_status (h->ctx->upgrade);
  send_json (msg, SOUP_STATUS_OK, st);
}

/* ---- diagnose information ---- */

static const gchar *const secret_names[] = {
  "password", "key", "token", "secret", "passphrase", "ha1", "community", NULL
};

/* Belt and braces after the section policies: a string member named like
 * a secret is emptied wherever it is (the policies already remove the
 * ones the schema has; a section added later is covered too) */
static guint
scrub (JsonNode *n)
{
  guint count = 0;

  if (JSON_NODE_HOLDS_OBJECT (n)) {
    JsonObject *o = json_node_get_object (n);
    g_autoptr (GList) names = json_object_get_members (o);

    for (GList *l = names; l; l = l->next) {
      JsonNode *m = json_object_get_member (o, l->data);
      g_autofree gchar *lower = g_ascii_strdown (l->data, -1);
      gboolean secret = FALSE;

      for (guint i = 0; secret_names[i]; i++)
        secret |= g_str_equal (lower, secret_names[i]);
      for (guint i = 0; secret_names[i] && !secret; i++) {
        g_autofree gchar *suffix = g_strconcat ("_", secret_names[i], NULL);
        secret = g_str_has_suffix (lower, suffix);
      }
      if (secret && JSON_NODE_HOLDS_VALUE (m) && json_node_get_value_type (m) == G_TYPE_STRING) {
        if (*json_node_get_string (m))
          count++;
        json_object_set_string_member (o, l->data, "");
      } else {
        count += scrub (m);
      }
    }
  } else if (JSON_NODE_HOLDS_ARRAY (n)) {
    JsonArray *a = json_node_get_array (n);
    for (guint i = 0; i < json_array_get_length (a); i++)
      count += scrub (json_array_get_element (a, i));
  }
  return count;
}

/* the archive's members are DIR/NAME */
typedef struct {
  GByteArray *tar;
  const gchar *dir;
  gint64 now;
} Archive;

static void
add_text (Archive *a, const gchar *name, const gchar *text)
{
  g_autofree gchar *full = g_strconcat (a->dir, "/", name, NULL);
  tcd_tar_add (a->tar, full, text, strlen (text), 0644, a->now);
}

static void
add_json (Archive *a, const gchar *name, JsonNode *node)
{
  g_autofree gchar *text = tcd_json_to_string (node, TRUE);
  add_text (a, name, text);
}

static void
add_file (Archive *a, const gchar *name, const gchar *path, gsize max)
{
  g_autofree gchar *full = g_strconcat (a->dir, "/", name, NULL);
  g_autofree gchar *text = NULL;
  gsize len = 0;

  if (g_file_get_contents (path, &text, &len, NULL))
    tcd_tar_add (a->tar, full, text, MIN (len, max), 0644, a->now);
}

static JsonNode *
system_info (TcdContext *ctx)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *gst = gst_version_string ();
  struct utsname un;
  struct statvfs vfs;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "firmware_version");
  json_builder_add_string_value (b, tcd_upgrade_version (ctx->upgrade));
  json_builder_set_member_name (b, "build_version");
  json_builder_add_string_value (b, PACKAGE_VERSION);
  json_builder_set_member_name (b, "gstreamer");
  json_builder_add_string_value (b, gst);
  json_builder_set_member_name (b, "glib");
  {
    g_autofree gchar *v = g_strdup_printf ("%u.%u.%u", glib_major_version, glib_minor_version,
        glib_micro_version);
    json_builder_add_string_value (b, v);
  }
  if (uname (&un) == 0) {
    json_builder_set_member_name (b, "kernel");
    json_builder_add_string_value (b, un.release);
    json_builder_set_member_name (b, "machine");
    json_builder_add_string_value (b, un.machine);
    json_builder_set_member_name (b, "hostname");
    json_builder_add_string_value (b, un.nodename);
  }
  json_builder_set_member_name (b, "cpus");
  json_builder_add_int_value (b, g_get_num_processors ());
  json_builder_set_member_name (b, "uptime_seconds");
  json_builder_add_int_value (b, (g_get_monotonic_time () - ctx->started_us) / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "time");
  {
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
    g_autofree gchar *iso = g_date_time_format_iso8601 (now);
    json_builder_add_string_value (b, iso);
  }
  if (statvfs (ctx->state_dir, &vfs) == 0) {
    json_builder_set_member_name (b, "state_disk");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "size_bytes");
    json_builder_add_int_value (b, (gint64) vfs.f_blocks * vfs.f_frsize);
    json_builder_set_member_name (b, "free_bytes");
    json_builder_add_int_value (b, (gint64) vfs.f_bavail * vfs.f_frsize);
    json_builder_end_object (b);
  }
  json_builder_set_member_name (b, "log_lines_dropped");
  json_builder_add_int_value (b, ctx->log ? tcd_logbuf_dropped (ctx->log) : 0);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static JsonNode *
hardware_info (TcdContext *ctx)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gint w, hh, fps;

  tcd_pipeline_get_format (ctx->pipeline, &w, &hh, &fps);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, g_str_has_prefix (ctx->source, "sim")
      ? "thermocam TC-640 (simulated sensor)" : "thermocam TC-640");
  json_builder_set_member_name (b, "serial_number");
  json_builder_add_string_value (b, ctx->serial);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, ctx->source);
  json_builder_set_member_name (b, "sensor");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, hh);
  json_builder_set_member_name (b, "frame_rate");
  json_builder_add_int_value (b, fps);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "alarm_inputs");
  json_builder_add_int_value (b, TCD_IO_CHANNELS);
  json_builder_set_member_name (b, "alarm_outputs");
  json_builder_add_int_value (b, TCD_IO_CHANNELS);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* the pipeline's state and its elements' states */
static gchar *
pipeline_state (GstElement *pl)
{
  GString *s = g_string_new (NULL);
  GstState cur = GST_STATE_VOID_PENDING, pending = GST_STATE_VOID_PENDING;
  g_autoptr (GstIterator) it = NULL;
  GValue v = G_VALUE_INIT;

  if (!pl)
    return g_string_free (g_string_append (s, "the pipeline is stopped\n"), FALSE);
  gst_element_get_state (pl, &cur, &pending, 0);
  g_string_append_printf (s, "%s: %s (pending %s)\n", GST_OBJECT_NAME (pl),
      gst_element_state_get_name (cur), gst_element_state_get_name (pending));
  it = gst_bin_iterate_recurse (GST_BIN (pl));
  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstElementFactory *f = gst_element_get_factory (e);
    gst_element_get_state (e, &cur, &pending, 0);
    g_string_append_printf (s, "  %s (%s): %s\n", GST_OBJECT_NAME (e),
        f ? gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (f)) : "-",
        gst_element_state_get_name (cur));
    g_value_reset (&v);
  }
  g_value_unset (&v);
  return g_string_free (s, FALSE);
}

static void
handle_diagnose_archive (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdContext *ctx = h->ctx;
  GByteArray *tar = g_byte_array_new ();
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr (GDateTime) dt = g_date_time_new_now_utc ();
  g_autofree gchar *stamp = g_date_time_format (dt, "%Y%m%dT%H%M%SZ");
  g_autofree gchar *dir = g_strdup_printf ("thermocam-diagnose-%s-%s", ctx->serial, stamp);
  g_autofree gchar *disposition = g_strdup_printf ("attachment; filename=\"%s.tar\"", dir);
  g_autoptr (GstElement) pl = tcd_pipeline_element (ctx->pipeline);
  TcdOrigin o = origin_of (msg, "diagnose");
  Archive ar = { tar, dir, now }, *a = &ar;

  {
    g_autofree gchar *log = ctx->log ? tcd_logbuf_text (ctx->log, NULL) : g_strdup ("");
    add_text (a, "log.txt", log);
  }
  {
    g_autoptr (JsonNode) n = system_info (ctx);
    add_json (a, "system.json", n);
  }
  add_file (a, "os-release", "/etc/os-release", 16384);
  add_file (a, "cpuinfo.txt", "/proc/cpuinfo", 65536);
  add_file (a, "meminfo.txt", "/proc/meminfo", 16384);
  add_file (a, "process-status.txt", "/proc/self/status", 16384);
  {
    g_autoptr (JsonNode) n = hardware_info (ctx);
    add_json (a, "hardware.json", n);
  }
  {
    g_autofree gchar *state = pipeline_state (pl);
    g_autoptr (JsonNode) stats = tcd_pipeline_stats (ctx->pipeline);
    add_text (a, "pipeline-state.txt", state);
    add_json (a, "pipeline.json", stats);
    if (pl) {
      g_autofree gchar *dot = gst_debug_bin_to_dot_data (GST_BIN (pl),
          GST_DEBUG_GRAPH_SHOW_ALL);
      add_text (a, "pipeline.dot", dot);
    }
  }
  {
    g_autoptr (JsonNode) n = http_diagnostics (h);
    add_json (a, "counters.json", n);
  }
  {
    /* the configuration as the API shows it (the section policies remove
     * the secrets), then scrubbed again by name */
    g_autoptr (JsonNode) view = tcd_change_view (ctx->change, NULL);
    scrub (view);
    add_json (a, "config.json", view);
  }
  {
    g_autoptr (JsonNode) users = tcd_users_list (ctx->users);
    scrub (users);
    add_json (a, "users.json", users);
  }
  {
    g_autoptr (JsonNode) up = tcd_upgrade_status (ctx->upgrade);
    add_json (a, "upgrade.json", up);
  }
  tcd_tar_end (tar);
  tcd_audit (ctx->security, "export", o.user, o.address, "diagnose information exported");
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Content-Disposition", disposition);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  {
    gsize len = tar->len;
    soup_server_message_set_response (msg, "application/x-tar", SOUP_MEMORY_TAKE,
        (gchar *) g_byte_array_free (tar, FALSE), len);
  }
}

/* The upgrade and the diagnose information are "upgrade and maintenance"
 * (manual 10.13): the operator's and the administrator's */
const TcdRoute tcd_http_maint_routes[] = {
  HTTP_ROUTE_P ("GET", "/system/upgrade", TCD_LEVEL_OPERATOR, TCD_PERM_MAINTENANCE, handle_upgrade_status),
  HTTP_ROUTE_P ("POST", "/system/upgrade", TCD_LEVEL_OPERATOR, TCD_PERM_MAINTENANCE, handle_upgrade),
  HTTP_ROUTE_P ("GET", "/system/diagnostics/archive", TCD_LEVEL_OPERATOR, TCD_PERM_MAINTENANCE,
      handle_diagnose_archive),
  HTTP_ROUTES_END
};
