/* thermocamd: HTTP routes of the HTTPS certificate (manual 10.12.5):
 * install, self-signed, request, delete
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"

#include <openssl/crypto.h>
#include <string.h>

#include "tc-json.h"
#include "tcd-certs.h"

static gboolean
cert_params (SoupServerMessage *msg, JsonNode *body, gboolean need_days, TcdCertParams *p)
{
  static const gchar *fields[] = { "country", "host", "days", "organization", "state",
    "locality", "email", NULL
  };
  static const gchar *strings[] = { "country", "host", "organization", "state", "locality",
    "email", NULL
  };
  JsonObject *o;
  g_autoptr (GList) members = NULL;
  g_autoptr (GError) err = NULL;
  const gchar *field = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "expected a JSON object");
    return FALSE;
  }
  o = json_node_get_object (body);
  members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next) {
    JsonNode *v = json_object_get_member (o, l->data);
    GType type = JSON_NODE_HOLDS_VALUE (v) ? json_node_get_value_type (v) : G_TYPE_NONE;
    if (!g_strv_contains (fields, l->data)
        || (g_strv_contains (strings, l->data) && type != G_TYPE_STRING)
        || (g_str_equal (l->data, "days") && type != G_TYPE_INT64)) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: %s",
          (gchar *) l->data, g_strv_contains (fields, l->data) ? "wrong type" : "unknown field");
      return FALSE;
    }
  }
  p->country = member (o, "country");
  p->host = member (o, "host");
  p->days = CLAMP (tc_json_get_int (o, "days", need_days ? 0 : 365),
      0, G_MAXUINT);
  p->organization = member (o, "organization");
  p->state = member (o, "state");
  p->locality = member (o, "locality");
  p->email = member (o, "email");
  if (!tcd_cert_params_check (p, need_days, &field, &err)) {
    send_gerror (msg, err, field, NULL);
    return FALSE;
  }
  return TRUE;
}

static void
send_certificate (TcdHttp *h, SoupServerMessage *msg, guint status)
{
  g_autoptr (JsonNode) info = tcd_certs_info (h->ctx->state_dir);

  g_autofree gchar *cert = NULL, *key = NULL, *pem = NULL;

  if (!info) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, "no certificate is installed");
    return;
  }
  /* the certificate itself (public), for clients to trust it */
  if (tcd_certs_installed (h->ctx->state_dir, &cert, &key)
      && g_file_get_contents (cert, &pem, NULL, NULL))
    json_object_set_string_member (json_node_get_object (info), "pem", pem);
  send_json (msg, status, info);
}

static void
handle_certificate_get (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  send_certificate (h, msg, SOUP_STATUS_OK);
}

static void
handle_certificate_delete (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdContext *ctx = h->ctx;
  Who *who = who_of (msg);
  g_autoptr (GError) err = NULL;

  if (!tcd_certs_delete (ctx->state_dir, &err)) {
    send_gerror (msg, err, NULL, NULL);
    return;
  }
  tcd_audit (ctx->security, "certificate", who->user, who->address,
      "deleted the certificate");
  /* HTTPS on: a new self-signed one is made */
  tcd_services_security_changed (h->ctx->services, TCD_SECURITY_CERTIFICATE);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* PUT: a PEM certificate (with its key, or for the key of our request) */
static void
handle_certificate_put (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdContext *ctx = h->ctx;
  Who *who = who_of (msg);
  g_autoptr (GError) err = NULL;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  gsize len = 0;
  const gchar *pem = g_bytes_get_data (bytes, &len);
  gboolean ok = tcd_certs_install (ctx->state_dir, pem, len, &err);
  GBytes *chunk;

  /* the body may hold a private key: not left in freed memory, neither
   * the copy nor the chunks it was received in */
  OPENSSL_cleanse ((gpointer) pem, len);
  for (goffset off = 0; (chunk = soup_message_body_get_chunk (body, off)); ) {
    gsize n;
    gconstpointer piece = g_bytes_get_data (chunk, &n);
    if (n)
      OPENSSL_cleanse ((gpointer) piece, n);
    off += n;
    g_bytes_unref (chunk);
    if (!n)
      break;
  }
  if (!ok) {
    send_gerror (msg, err, "certificate", NULL);
    return;
  }
  tcd_audit (ctx->security, "certificate", who->user, who->address,
      "installed a certificate");
  tcd_services_security_changed (h->ctx->services, TCD_SECURITY_CERTIFICATE);
  send_certificate (h, msg, SOUP_STATUS_OK);
}

static void
handle_self_signed (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdContext *ctx = h->ctx;
  Who *who = who_of (msg);
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  TcdCertParams p = { 0 };

  if (!(body = read_body (msg)) || !cert_params (msg, body, TRUE, &p))
    return;
  if (!tcd_certs_create_self_signed (ctx->state_dir, &p, &err)) {
    send_gerror (msg, err, NULL, NULL);
    return;
  }
  tcd_audit (ctx->security, "certificate", who->user, who->address,
      "created a self-signed certificate for %s, %u days", p.host, p.days);
  tcd_services_security_changed (h->ctx->services, TCD_SECURITY_CERTIFICATE);
  send_certificate (h, msg, SOUP_STATUS_CREATED);
}

static void
handle_request_get (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  gchar *pem = tcd_certs_get_request (h->ctx->state_dir);

  if (!pem) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL,
        "no certificate request: POST one first");
    return;
  }
  send_pem (msg, pem, "application/pkcs10", "thermocam.csr", SOUP_STATUS_OK);
}

static void
handle_request_create (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  TcdContext *ctx = h->ctx;
  Who *who = who_of (msg);
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  TcdCertParams p = { 0 };
  gchar *pem;

  if (!(body = read_body (msg)) || !cert_params (msg, body, FALSE, &p))
    return;
  if (!(pem = tcd_certs_create_request (ctx->state_dir, &p, &err))) {
    send_gerror (msg, err, NULL, NULL);
    return;
  }
  tcd_audit (ctx->security, "certificate", who->user, who->address,
      "created a certificate request for %s", p.host);
  send_pem (msg, pem, "application/pkcs10", "thermocam.csr", SOUP_STATUS_CREATED);
}

/* ---- the certificate store (802.1X): GET, POST /security/certificates,
 * DELETE /security/certificates/{name} ---- */

static void
handle_store_list (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "certificates");
  json_builder_add_value (b, tcd_certs_store_list (h->ctx->state_dir));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

/* {"name", "kind": "ca" | "client", "pem"} */
static void
handle_store_add (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  static const gchar *fields[] = { "name", "kind", "pem", NULL };
  Who *who = who_of (msg);
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (GList) members = NULL;
  JsonObject *o;
  const gchar *name, *kind, *pem;

  if (!(body = read_body (msg)))
    return;
  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", NULL, "expected a JSON object");
    return;
  }
  o = json_node_get_object (body);
  members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next) {
    JsonNode *v = json_object_get_member (o, l->data);
    if (!g_strv_contains (fields, l->data) || !JSON_NODE_HOLDS_VALUE (v)
        || json_node_get_value_type (v) != G_TYPE_STRING) {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", l->data, "%s: %s",
          (gchar *) l->data, g_strv_contains (fields, l->data) ? "a string" : "unknown field");
      return;
    }
  }
  name = tc_json_get_string (o, "name", "");
  kind = tc_json_get_string (o, "kind", "");
  pem = tc_json_get_string (o, "pem", "");
  if (!tcd_certs_store_name_valid (name)) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "name",
        "name: 1 to 32 letters, digits, _ or - (first a letter or digit)");
    return;
  }
  if (!g_str_equal (kind, "ca") && !g_str_equal (kind, "client")) {
    send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid", "kind", "kind: \"ca\" or \"client\"");
    return;
  }
  if (!tcd_certs_store_add (h->ctx->state_dir, name, kind, pem, strlen (pem), &err)) {
    send_gerror (msg, err, g_error_matches (err, TCD_CERTS_ERROR, TCD_CERTS_ERROR_EXISTS)
        ? "name" : "pem", NULL);
    return;
  }
  tcd_audit (h->ctx->security, "certificate", who->user, who->address,
      "added the %s certificate %s to the store", kind, name);
  {
    g_autoptr (JsonNode) all = tcd_certs_store_list (h->ctx->state_dir);
    JsonArray *a = json_node_get_array (all);
    for (guint i = 0; i < json_array_get_length (a); i++) {
      JsonNode *e = json_array_get_element (a, i);
      if (g_strcmp0 (tc_json_get_string (json_node_get_object (e), "name", ""), name) == 0) {
        send_json (msg, SOUP_STATUS_CREATED, e);
        return;
      }
    }
  }
  send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "io", NULL, "stored, then not found");
}

static void
handle_store_delete (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  const gchar *name = http_param (req, "name");
  Who *who = who_of (msg);
  g_autoptr (GError) err = NULL;
  const gchar *refs[] = { "network.ieee8021x.ca_certificate",
    "network.ieee8021x.client_certificate" };

  /* what the 802.1X settings name stays (their checks found it there) */
  for (guint i = 0; i < G_N_ELEMENTS (refs); i++)
    if (g_strcmp0 (tcd_config_string (h->ctx->config, refs[i]), name) == 0) {
      send_error (msg, SOUP_STATUS_CONFLICT, "in_use", refs[i],
          "%s names it: change that first", refs[i]);
      return;
    }
  if (!tcd_certs_store_remove (h->ctx->state_dir, name, &err)) {
    send_gerror (msg, err, NULL, NULL);
    return;
  }
  tcd_audit (h->ctx->security, "certificate", who->user, who->address,
      "removed the certificate %s from the store", name);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

const TcdRoute tcd_http_certificate_routes[] = {
  HTTP_ROUTE_P ("GET", "/security/certificates", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_store_list),
  HTTP_ROUTE_P ("POST", "/security/certificates", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_store_add),
  HTTP_ROUTE_P ("DELETE", "/security/certificates/{name}", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_store_delete),
  HTTP_ROUTE_P ("GET", "/security/certificate", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_certificate_get),
  HTTP_ROUTE_P ("PUT", "/security/certificate", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_certificate_put),
  HTTP_ROUTE_P ("DELETE", "/security/certificate", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_certificate_delete),
  HTTP_ROUTE_P ("POST", "/security/certificate/self-signed", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_self_signed),
  HTTP_ROUTE_P ("GET", "/security/certificate/request", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS, handle_request_get),
  HTTP_ROUTE_P ("POST", "/security/certificate/request", TCD_LEVEL_OPERATOR, TCD_PERM_PARAMETERS,
      handle_request_create),
  HTTP_ROUTES_END
};
