/* thermocamd: the HTTP API's answers, and the one table of error statuses
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every error is {"error": {"code", "message", "field"}} with a 4xx/5xx
 * status.  A GError becomes an answer here, by its domain and code, the
 * same for every route (http_error_status ()).
 */
#include "tcd-http-private.h"

#include <string.h>

#include "tc-json.h"
#include "tc-schema.h"
#include "tcd-alarmio.h"
#include "tcd-net.h"
#include "tcd-hw.h"
#include "tcd-certs.h"
#include "tcd-crypt.h"
#include "tcd-dpc.h"
#include "tcd-json.h"
#include "tcd-package.h"

#include <math.h>

void
send_correction (SoupServerMessage *msg, gboolean started, gint64 wait_us)
{
  g_autoptr (JsonNode) answer = json_node_new (JSON_NODE_OBJECT);
  JsonObject *a = json_object_new ();

  json_node_take_object (answer, a);
  json_object_set_boolean_member (a, "correcting", started);
  if (!started)
    json_object_set_double_member (a, "retry_after_s", ceil (wait_us / 100000.0) / 10);
  send_json (msg, SOUP_STATUS_ACCEPTED, answer);
}

void
send_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autofree gchar *text = tcd_json_to_string (node, TRUE);

  /* libsoup 3.2 knows no phrase for 429 */
  soup_server_message_set_status (msg, status, status == 429 ? "Too Many Requests" : NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
      text, strlen (text));
}

/* {"error": {"code", "message", "field"}} */
JsonNode *
error_node (const gchar *code, const gchar *field, const gchar *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "field");
  if (field)
    json_builder_add_string_value (b, field);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
send_error (SoupServerMessage *msg, guint status, const gchar *code, const gchar *field,
    const gchar *fmt, ...)
{
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *message = NULL;
  va_list ap;

  va_start (ap, fmt);
  message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  root = error_node (code, field, message);
  send_json (msg, status, root);
}

void
method_not_allowed (SoupServerMessage *msg, const gchar *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow);
  send_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", NULL,
      "%s is not allowed here; allowed: %s", soup_server_message_get_method (msg), allow);
}

/* ---- errors: (domain, code) -> (status, code) ---- */

#define ANY_CODE (-1)

static const struct {
  GQuark (*domain) (void);
  gint code;                    /* ANY_CODE: every code of the domain */
  guint status;
  const gchar *name;
} error_table[] = {
  /* the configuration and its change path */
  { tcd_config_error_quark, TCD_CONFIG_ERROR_INVALID, SOUP_STATUS_BAD_REQUEST, "invalid" },
  { tcd_config_error_quark, TCD_CONFIG_ERROR_NOT_FOUND, SOUP_STATUS_NOT_FOUND, "not_found" },
  { tcd_config_error_quark, TCD_CONFIG_ERROR_IO, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io" },
  { tc_schema_error_quark, ANY_CODE, SOUP_STATUS_BAD_REQUEST, "invalid" },
  /* accounts */
  { tcd_users_error_quark, TCD_USERS_ERROR_WEAK, SOUP_STATUS_BAD_REQUEST, "weak_password" },
  { tcd_users_error_quark, TCD_USERS_ERROR_ACTIVATED, SOUP_STATUS_CONFLICT,
    "already_activated" },
  { tcd_users_error_quark, TCD_USERS_ERROR_IO, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io" },
  { tcd_users_error_quark, TCD_USERS_ERROR_INVALID, SOUP_STATUS_BAD_REQUEST, "invalid" },
  { tcd_users_error_quark, TCD_USERS_ERROR_NOT_FOUND, SOUP_STATUS_NOT_FOUND, "not_found" },
  { tcd_users_error_quark, TCD_USERS_ERROR_EXISTS, SOUP_STATUS_CONFLICT, "exists" },
  { tcd_users_error_quark, TCD_USERS_ERROR_FULL, SOUP_STATUS_CONFLICT, "full" },
  { tcd_users_error_quark, TCD_USERS_ERROR_PROTECTED, SOUP_STATUS_CONFLICT, "protected" },
  /* certificates */
  { tcd_certs_error_quark, TCD_CERTS_ERROR_INVALID, SOUP_STATUS_BAD_REQUEST, "invalid" },
  { tcd_certs_error_quark, TCD_CERTS_ERROR_MISMATCH, SOUP_STATUS_BAD_REQUEST, "mismatch" },
  { tcd_certs_error_quark, TCD_CERTS_ERROR_NO_REQUEST, SOUP_STATUS_CONFLICT, "no_request" },
  { tcd_certs_error_quark, TCD_CERTS_ERROR_IO, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io" },
  { tcd_certs_error_quark, TCD_CERTS_ERROR_EXISTS, SOUP_STATUS_CONFLICT, "exists" },
  { tcd_certs_error_quark, TCD_CERTS_ERROR_NOT_FOUND, SOUP_STATUS_NOT_FOUND, "not_found" },
  /* the configuration file's encryption */
  { tcd_crypt_error_quark, TCD_CRYPT_ERROR_FORMAT, SOUP_STATUS_BAD_REQUEST, "invalid" },
  { tcd_crypt_error_quark, TCD_CRYPT_ERROR_AUTH, SOUP_STATUS_BAD_REQUEST, "wrong_password" },
  { tcd_crypt_error_quark, TCD_CRYPT_ERROR_FAILED, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io" },
  /* alarm inputs and outputs */
  { tcd_alarmio_error_quark, TCD_ALARMIO_ERROR_NO_CHANNEL, SOUP_STATUS_NOT_FOUND,
    "not_found" },
  { tcd_alarmio_error_quark, TCD_ALARMIO_ERROR_NOT_SIMULATED, SOUP_STATUS_CONFLICT,
    "not_simulated" },
  /* the network */
  { tcd_net_error_quark, TCD_NET_ERROR_NOTHING_PENDING, SOUP_STATUS_CONFLICT, "nothing_pending" },
  { tcd_net_error_quark, TCD_NET_ERROR_WRONG_ADDRESS, SOUP_STATUS_CONFLICT, "wrong_address" },
  { tcd_net_error_quark, TCD_NET_ERROR_BACKEND, SOUP_STATUS_BAD_GATEWAY, "backend" },
  { tcd_net_error_quark, TCD_NET_ERROR_INVALID, SOUP_STATUS_BAD_REQUEST, "invalid" },
  /* manual defective pixel correction */
  { tcd_dpc_error_quark, TCD_DPC_ERROR_NOTHING, SOUP_STATUS_CONFLICT, "nothing_pending" },
  { tcd_dpc_error_quark, TCD_DPC_ERROR_FULL, SOUP_STATUS_CONFLICT, "full" },
  { tcd_dpc_error_quark, TCD_DPC_ERROR_NOT_READY, SOUP_STATUS_SERVICE_UNAVAILABLE, "no_frame" },
  /* the hardware this appliance may lack (lens, focus, wiper...) */
  { tcd_hw_error_quark, TCD_HW_ERROR_ABSENT, SOUP_STATUS_CONFLICT, "not_present" },
  { tcd_hw_error_quark, TCD_HW_ERROR_UNKNOWN, SOUP_STATUS_NOT_FOUND, "not_found" },
  { tcd_hw_error_quark, TCD_HW_ERROR_BUSY, SOUP_STATUS_CONFLICT, "busy" },
  { tcd_hw_error_quark, TCD_HW_ERROR_BACKEND, SOUP_STATUS_BAD_GATEWAY, "backend" },
  /* files: a name that is not a file's names none */
  { g_io_error_quark, G_IO_ERROR_NOT_FOUND, SOUP_STATUS_NOT_FOUND, "not_found" },
  { g_io_error_quark, G_IO_ERROR_INVALID_FILENAME, SOUP_STATUS_NOT_FOUND, "not_found" },
  { g_io_error_quark, G_IO_ERROR_INVALID_DATA, SOUP_STATUS_BAD_REQUEST, "invalid" },
  { g_io_error_quark, G_IO_ERROR_NO_SPACE, SOUP_STATUS_INSUFFICIENT_STORAGE, "storage_full" },
  /* an upgrade package refused (nothing changed) */
  { tcd_package_error_quark, TCD_PACKAGE_ERROR_INVALID, SOUP_STATUS_BAD_REQUEST,
    "invalid_package" },
  { tcd_package_error_quark, TCD_PACKAGE_ERROR_TRUNCATED, SOUP_STATUS_BAD_REQUEST, "truncated" },
  { tcd_package_error_quark, TCD_PACKAGE_ERROR_TOO_LARGE, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
    "too_large" },
  { tcd_package_error_quark, TCD_PACKAGE_ERROR_UNKNOWN_KEY, SOUP_STATUS_BAD_REQUEST,
    "unknown_key" },
  { tcd_package_error_quark, TCD_PACKAGE_ERROR_SIGNATURE, SOUP_STATUS_BAD_REQUEST,
    "bad_signature" },
  { tcd_package_error_quark, TCD_PACKAGE_ERROR_HASH, SOUP_STATUS_BAD_REQUEST, "bad_hash" },
  { tcd_package_error_quark, TCD_PACKAGE_ERROR_DOWNGRADE, SOUP_STATUS_BAD_REQUEST, "downgrade" },
  { tcd_package_error_quark, TCD_PACKAGE_ERROR_IO, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io" },
};

void
http_error_status (const GError *err, guint *status, const gchar **code)
{
  for (guint i = 0; err && i < G_N_ELEMENTS (error_table); i++)
    if (err->domain == error_table[i].domain ()
        && (error_table[i].code == ANY_CODE || err->code == error_table[i].code)) {
      *status = error_table[i].status;
      *code = error_table[i].name;
      return;
    }
  *status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  *code = "io";
}

void
send_gerror_message (SoupServerMessage *msg, const GError *err, const gchar *field,
    const gchar *message)
{
  guint status;
  const gchar *code;

  http_error_status (err, &status, &code);
  send_error (msg, status, code, field, "%s", message);
}

void
send_gerror (SoupServerMessage *msg, const GError *err, const gchar *field,
    const gchar *prefix)
{
  g_autofree gchar *message = g_strconcat (prefix ? prefix : "",
      err ? err->message : "unknown error", NULL);

  send_gerror_message (msg, err, field, message);
}

/* ---- bodies ---- */

/* Content-Type: application/json (or any +json), with or without charset */
static gboolean
is_json_type (SoupServerMessage *msg)
{
  const gchar *type = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), NULL);

  return type && (g_ascii_strcasecmp (type, "application/json") == 0
      || (g_str_has_prefix (type, "application/") && g_str_has_suffix (type, "+json")));
}

JsonNode *
read_body (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (GError) err = NULL;
  JsonNode *root;
  gsize len = 0;
  const gchar *data = bytes ? g_bytes_get_data (bytes, &len) : NULL;

  if (len == 0) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "missing_body", NULL, "a JSON body is required");
    return NULL;
  }
  if (len > MAX_BODY) {
    send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL,
        "the body is larger than %d bytes", MAX_BODY);
    return NULL;
  }
  if (!is_json_type (msg)) {
    send_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", NULL,
        "the body must be sent as Content-Type: application/json");
    return NULL;
  }
  if (!(root = tc_json_parse (data, len, TC_JSON_MAX_DEPTH, &err))) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed_json", NULL,
        "the body is not JSON: %s", err->message);
    return NULL;
  }
  return root;
}

JsonObject *
body_object (SoupServerMessage *msg, JsonNode *body, const gchar * const *allowed)
{
  JsonObject *o;
  g_autoptr (GList) members = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "expected a JSON object");
    return NULL;
  }
  o = json_node_get_object (body);
  members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next) {
    JsonNode *v = json_object_get_member (o, l->data);
    if (!g_strv_contains (allowed, l->data)) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: unknown field",
          (gchar *) l->data);
      return NULL;
    }
    if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: a string is required",
          (gchar *) l->data);
      return NULL;
    }
  }
  return o;
}

const gchar *
member (JsonObject *o, const gchar *name)
{
  return tc_json_get_string (o, name, NULL);
}

/* ---- files ---- */

void
send_file (SoupServerMessage *msg, const gchar *path, const gchar *type)
{
  g_autofree gchar *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, NULL)) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "%s is missing", path);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_TAKE, g_steal_pointer (&data), len);
}

void
send_pem (SoupServerMessage *msg, gchar *data, const gchar *type, const gchar *filename,
    guint status)
{
  g_autofree gchar *disposition = g_strdup_printf ("attachment; filename=\"%s\"", filename);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Content-Disposition", disposition);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_TAKE, data, strlen (data));
}
