/* thermocamd: HTTP routes of the audit log (manual 10.12.2) and of the
 * configuration's export and import (manual 10.2)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"

#include "tcd-certs.h"

#include <string.h>

#include "tc-json.h"
#include "tcd-clock.h"
#include "tcd-crypt.h"
#include "tcd-json.h"

/* ---- the audit log (manual 10.12.2) ---- */

static gboolean
parse_time (const gchar *s, gint64 *out)
{
  gchar *end;
  g_autoptr (GDateTime) dt = NULL;

  if (!s || !*s) {
    *out = 0;
    return TRUE;
  }
  *out = g_ascii_strtoll (s, &end, 10);
  if (*end == '\0' && end != s)
    return TRUE;
  dt = g_date_time_new_from_iso8601 (s, g_time_zone_new_utc ());
  if (!dt)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

static const gchar *audit_types[] = { "login", "login_failed", "lock", "logout", "config",
  "user", "reboot", "system", "certificate", "import", "export", NULL
};

static void
audit (TcdHttp *h, SoupServerMessage *msg, GHashTable *query, gboolean export)
{
  const gchar *type = query ? g_hash_table_lookup (query, "type") : NULL;
  const gchar *format = query ? g_hash_table_lookup (query, "format") : NULL;
  g_autoptr (JsonNode) records = NULL;
  gint64 from, to;

  if (type && *type && !g_strv_contains (audit_types, type)) {
    g_autofree gchar *all = g_strjoinv (", ", (gchar **) audit_types);
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "type", "type: one of %s", all);
    return;
  }
  if (!parse_time (query ? g_hash_table_lookup (query, "from") : NULL, &from)
      || !parse_time (query ? g_hash_table_lookup (query, "to") : NULL, &to)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "from",
        "from, to: unix seconds or ISO 8601 times (2026-11-24T08:00:00Z)");
    return;
  }
  records = tcd_audit_query (h->ctx->security, type && *type ? type : NULL, from, to);
  if (!export) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "records");
    json_builder_add_value (b, json_node_ref (records));
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    send_json (msg, SOUP_STATUS_OK, root);
    return;
  }
  if (format && g_str_equal (format, "json")) {
    gchar *text = tcd_json_to_string (records, TRUE);
    return send_pem (msg, text, "application/json", "audit-log.json", SOUP_STATUS_OK);
  }
  if (format && !g_str_equal (format, "csv")) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "format", "format: csv or json");
    return;
  }
  {
    GString *csv = g_string_new ("time,type,user,address,detail\r\n");
    JsonArray *a = json_node_get_array (records);
    for (guint i = 0; i < json_array_get_length (a); i++) {
      JsonObject *o = tc_json_array_get_object (a, i);
      static const gchar *cols[] = { "time", "type", "user", "address", "detail" };
      for (guint c = 0; c < G_N_ELEMENTS (cols); c++) {
        JsonNode *vn = json_object_get_member (o, cols[c]);
        const gchar *v = vn && JSON_NODE_HOLDS_VALUE (vn) ? json_node_get_string (vn) : "";
        g_auto (GStrv) parts = g_strsplit (v, "\"", -1);
        g_autofree gchar *q = g_strjoinv ("\"\"", parts);
        /* RFC 4180 quoting; a leading = + - @ would be a formula in a
         * spreadsheet: prefix it */
        g_string_append_printf (csv, "%s\"%s%s\"", c ? "," : "",
            *v && strchr ("=+-@", *v) ? "'" : "", q);
      }
      g_string_append (csv, "\r\n");
    }
    send_pem (msg, g_string_free (csv, FALSE), "text/csv", "audit-log.csv", SOUP_STATUS_OK);
  }
}

/* ---- configuration export and import (manual 10.2) ---- */

#define EXPORT_FORMAT "thermocam-configuration"

/* POST /system/config-export {"password"}: the configuration, the accounts
 * (their hashes) and the overlay picture, sealed with the password */
static void
handle_export (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  static const gchar *fields[] = { "password", NULL };
  TcdContext *ctx = h->ctx;
  Who *who = who_of (msg);
  g_autoptr (JsonNode) body = NULL, users = NULL, doc = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GBytes) plain = NULL, sealed = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *picture = NULL, *text = NULL;
  g_autofree gchar *pic_path = g_build_filename (ctx->state_dir, "overlay.bmp", NULL);
  g_autoptr (GDateTime) now = tcd_clock_now_utc_dt ();
  g_autofree gchar *time = g_date_time_format_iso8601 (now);
  JsonObject *o;
  gsize len;

  if (!(body = read_body (msg)) || !(o = body_object (msg, body, fields)))
    return;
  if (!member (o, "password")) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "weak_password", "password",
        "password: required");
    return;
  }
  if (!tcd_password_is_strong (member (o, "password"), &err)) {
    send_gerror (msg, err, "password", "password: ");
    return;
  }
  users = tcd_users_export (ctx->users);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, EXPORT_FORMAT);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "exported");
  json_builder_add_string_value (b, time);
  json_builder_set_member_name (b, "serial");
  json_builder_add_string_value (b, ctx->serial);
  json_builder_set_member_name (b, "config");
  json_builder_add_value (b, tcd_json_deep_copy (tcd_config_get (ctx->config)));
  json_builder_set_member_name (b, "users");
  json_builder_add_value (b, json_node_ref (users));
  /* the certificate store (the 802.1X settings name its entries) */
  json_builder_set_member_name (b, "certificates");
  json_builder_add_value (b, tcd_certs_store_export (ctx->state_dir));
  json_builder_set_member_name (b, "osd_picture");
  if (g_file_get_contents (pic_path, &picture, &len, NULL)) {
    g_autofree gchar *b64 = g_base64_encode ((guchar *) picture, len);
    json_builder_add_string_value (b, b64);
  } else {
    json_builder_add_null_value (b);
  }
  json_builder_end_object (b);
  doc = json_builder_get_root (b);
  text = tcd_json_to_string (doc, FALSE);
  len = strlen (text);
  plain = g_bytes_new_take (g_steal_pointer (&text), len);
  sealed = tcd_crypt_seal (plain, member (o, "password"), &err);
  if (!sealed) {
    send_gerror (msg, err, NULL, NULL);
    return;
  }
  tcd_audit (ctx->security, "export", who->user, who->address, "exported the configuration");
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Content-Disposition", "attachment; filename=\"thermocam-configuration.bin\"");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
      g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed));
}

/* the parts of a multipart/form-data body by name */
static GBytes *
form_part (SoupMultipart *mp, const gchar *name)
{
  for (gint i = 0; mp && i < soup_multipart_get_length (mp); i++) {
    SoupMessageHeaders *hdrs;
    GBytes *body;
    g_autoptr (GHashTable) params = NULL;
    if (!soup_multipart_get_part (mp, i, &hdrs, &body))
      continue;
    if (soup_message_headers_get_content_disposition (hdrs, NULL, &params)
        && g_strcmp0 (g_hash_table_lookup (params, "name"), name) == 0)
      return body;
  }
  return NULL;
}

/* POST /system/config-import (multipart: file, password): everything is
 * checked before anything changes */
static void
handle_import (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdContext *ctx = h->ctx;
  Who *who = who_of (msg);
  g_autoptr (GBytes) whole = NULL, plain = NULL;
  g_autoptr (SoupMultipart) mp = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) doc = NULL;
  g_autoptr (JsonNode) defaults = NULL;
  g_autofree gchar *password = NULL, *field = NULL;
  g_autofree guchar *picture = NULL;
  gsize picture_len = 0;
  GBytes *file, *pw;
  JsonObject *root;
  JsonNode *config, *users, *pic;

  whole = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  mp = soup_multipart_new_from_message (soup_server_message_get_request_headers (msg), whole);
  file = form_part (mp, "file");
  pw = form_part (mp, "password");
  if (!file || !pw) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", file ? "password" : "file",
        "a multipart/form-data body with the parts file and password is required");
    return;
  }
  password = g_strndup (g_bytes_get_data (pw, NULL), g_bytes_get_size (pw));
  if (!*password) {
    /* as a file that does not open (tcd_crypt_open's own words; its error
     * code is the one of a failure to encrypt, 500 in the table) */
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "file",
        "a password is needed to decrypt the file");
    tcd_audit (ctx->security, "import", who->user, who->address,
        "refused a configuration file: a password is needed to decrypt the file");
    return;
  }
  if (!(plain = tcd_crypt_open (file, password, &err))) {
    send_gerror (msg, err, g_error_matches (err, TCD_CRYPT_ERROR, TCD_CRYPT_ERROR_AUTH)
        ? "password" : "file", NULL);
    tcd_audit (ctx->security, "import", who->user, who->address,
        "refused a configuration file: %s", err->message);
    return;
  }
  /* everything is checked before anything changes */
  if (!(doc = tc_json_parse (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain),
              TC_JSON_MAX_DEPTH, NULL))
      || !JSON_NODE_HOLDS_OBJECT (doc)
      || g_strcmp0 (tc_json_get_string (root =
              json_node_get_object (doc), "format", ""),
          EXPORT_FORMAT) != 0
      || tc_json_get_int (root, "version", 0) != 1
      || !(config = json_object_get_member (root, "config"))
      || !(users = json_object_get_member (root, "users"))) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "file",
        "the file is not a thermocam configuration of a version this device knows");
    return;
  }
  /* sections added since the export get their defaults; the 802.1X
   * certificates of a file of before the store (inline) go to the store */
  defaults = tc_schema_defaults (tcd_config_get_schema (ctx->config), NULL);
  tcd_config_rename_aliases (config, NULL);
  tcd_certs_store_migrate_8021x (ctx->state_dir, config);
  config = tc_json_merge (defaults, config);
  if (!tcd_config_check (ctx->config, config, &field, &err)) {
    send_gerror (msg, err, field, "config: ");
    json_node_unref (config);
    return;
  }
  if (!tcd_users_import_check (ctx->users, users, &err)) {
    send_gerror (msg, err, "users", NULL);
    json_node_unref (config);
    return;
  }
  pic = json_object_get_member (root, "osd_picture");
  if (pic && JSON_NODE_HOLDS_VALUE (pic)) {
    picture = g_base64_decode (json_node_get_string (pic), &picture_len);
    if (!picture_ok (picture, picture_len, &err)) {
      send_gerror (msg, err, "osd_picture", NULL);
      json_node_unref (config);
      return;
    }
  }
  /* the file's certificates the store lacks, before the settings that name
   * them are checked */
  if (!tcd_certs_store_import (ctx->state_dir, json_object_get_member (root, "certificates"),
          &err)) {
    send_gerror (msg, err, "certificates", NULL);
    json_node_unref (config);
    return;
  }
  {
    TcdOrigin o = { "import", who->user, who->address, "http" };
    if (!tcd_change_commit (ctx->change, config, &o, TCD_CHANGE_NONE, NULL, &err)) {
      send_gerror (msg, err, tcd_error_get_field (err), NULL);
      return;
    }
  }
  if (!tcd_users_import (ctx->users, users, &err)) {
    send_gerror (msg, err, NULL, NULL);
    return;
  }
  drop_sessions (h, NULL);
  {
    TcdOrigin o = { "import", who->user, who->address, "http" };
    tcd_change_users_changed (ctx->change, &o);
  }
  if (picture) {
    g_autofree gchar *path = g_build_filename (ctx->state_dir, "overlay.bmp", NULL);
    if (g_file_set_contents_full (path, (gchar *) picture, picture_len,
            G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, NULL))
      tcd_pipeline_reload_picture (ctx->pipeline);
  }
  tcd_audit (ctx->security, "import", who->user, who->address,
      "imported a configuration exported %s from %s",
      tc_json_get_string (root, "exported", "?"),
      tc_json_get_string (root, "serial", "?"));
  {
    g_autoptr (JsonNode) shown = tcd_change_view (ctx->change, NULL);
    send_json (msg, SOUP_STATUS_OK, shown);
  }
}

static void
handle_audit (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  audit (h, msg, req->query, FALSE);
}

static void
handle_audit_export (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  audit (h, msg, req->query, TRUE);
}

/* an export carries the accounts' hashes, an import replaces them: the
 * administrator's (manual 10.13) */
const TcdRoute tcd_http_audit_routes[] = {
  HTTP_ROUTE_P ("GET", "/system/audit-log", TCD_LEVEL_OPERATOR, TCD_PERM_LOG_STATUS, handle_audit),
  HTTP_ROUTE_P ("GET", "/system/audit-log/export", TCD_LEVEL_OPERATOR, TCD_PERM_LOG_STATUS, handle_audit_export),
  HTTP_ROUTE_P ("POST", "/system/config-export", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_MAINTENANCE, handle_export),
  HTTP_ROUTE_P ("POST", "/system/config-import", TCD_LEVEL_ADMINISTRATOR, TCD_PERM_MAINTENANCE, handle_import),
  HTTP_ROUTES_END
};
