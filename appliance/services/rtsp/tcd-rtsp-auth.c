/* thermocamd: who may watch over RTSP: Digest by gst-rtsp-server, Basic and
 * the illegal login lock here, and the remote permission live_view
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Manual 10.13.1: an account watches with live_view (the streams are live;
 * there is no playback mount).  The set of who may watch (the accounts with
 * live_view and the ONVIF users) is made with each authentication object on
 * the main loop and only read by the clients' threads, never the accounts
 * themselves.
 */
#include "tcd-rtsp-auth.h"

#include <string.h>

#include "tc-json.h"

#define TCD_TYPE_RTSP_AUTH (tcd_rtsp_auth_get_type ())
G_DECLARE_FINAL_TYPE (TcdRtspAuth, tcd_rtsp_auth, TCD, RTSP_AUTH, GstRTSPAuth)

struct _TcdRtspAuth {
  GstRTSPAuth parent;
  TcdSecurity *security;
  TcdUsers *users;
  GstRTSPToken *token;
  GstRTSPToken *no_view;        /* an account without live_view: known, may not watch */
  /* who may watch: the accounts with live_view and the ONVIF users, made
   * on the main loop with this object (tcd_rtsp_set_users, at every change
   * of the accounts) and only read by the clients' threads */
  GHashTable *watchers;
};

G_DEFINE_TYPE (TcdRtspAuth, tcd_rtsp_auth, GST_TYPE_RTSP_AUTH)

static gchar *
credential_user (GstRTSPAuthCredential *cred, gchar **password)
{
  if (cred->scheme == GST_RTSP_AUTH_BASIC && cred->authorization) {
    gsize len;
    g_autofree guchar *dec = g_base64_decode (cred->authorization, &len);
    g_autofree gchar *s = g_strndup ((gchar *) dec, len);
    gchar *colon = strchr (s, ':');
    if (!colon)
      return NULL;
    *colon = '\0';
    if (password)
      *password = g_strdup (colon + 1);
    return g_strdup (s);
  }
  for (GstRTSPAuthParam **p = cred->params; p && *p; p++)
    if (g_ascii_strcasecmp ((*p)->name, "username") == 0)
      return g_strdup ((*p)->value);
  return NULL;
}

static gboolean
tcd_rtsp_auth_authenticate (GstRTSPAuth *auth, GstRTSPContext *ctx)
{
  TcdRtspAuth *self = TCD_RTSP_AUTH (auth);
  GstRTSPConnection *conn = gst_rtsp_client_get_connection (ctx->client);
  const gchar *ip = conn ? gst_rtsp_connection_get_ip (conn) : NULL;
  GstRTSPAuthCredential **creds;
  g_autofree gchar *user = NULL, *password = NULL;
  gboolean basic = FALSE;

  if (tcd_security_is_locked (self->security, ip, NULL))
    return FALSE;
  if (!GST_RTSP_AUTH_CLASS (tcd_rtsp_auth_parent_class)->authenticate (auth, ctx))
    return FALSE;
  creds = gst_rtsp_message_parse_auth_credentials (ctx->request, GST_RTSP_HDR_AUTHORIZATION);
  if (!creds)
    return TRUE;                /* no credentials: the challenge follows */
  for (GstRTSPAuthCredential **c = creds; *c && !user; c++) {
    user = credential_user (*c, &password);
    basic = (*c)->scheme == GST_RTSP_AUTH_BASIC;
  }
  gst_rtsp_auth_credentials_free (creds);
  if (!ctx->token && basic && user && password
      && (gst_rtsp_auth_get_supported_methods (auth) & GST_RTSP_AUTH_BASIC)
      && tcd_users_check_password (self->users, user, password))
    ctx->token = self->token;   /* borrowed, as the parent does */
  /* manual 10.13.1: an account watches with the live view permission (the
   * streams are live; there is no playback mount); one without it logged in
   * right but is refused the media: 403 here (the role of the token it
   * would have has no access to a mount, for which gst-rtsp-server would
   * answer 404), and this request ends (FALSE: the server sends nothing
   * more).  An ONVIF user (no account of its name) keeps what ONVIF gives
   * it. */
  if (ctx->token && user && self->watchers && !g_hash_table_contains (self->watchers, user))
    ctx->token = self->no_view;
  if (ctx->token) {
    TcdRtspClientInfo *info = g_object_get_data (G_OBJECT (ctx->client), TCD_RTSP_CLIENT_INFO);
    if (info) {
      g_atomic_int_set (&info->authenticated, 1);
      if (user)
        g_atomic_pointer_set (&info->user, g_intern_string (user));
    }
    tcd_security_login_succeeded (self->security, ip, "rtsp", user, FALSE);
    if (ctx->token == self->no_view && ctx->response && ctx->request) {
      gst_rtsp_message_init_response (ctx->response, GST_RTSP_STS_FORBIDDEN,
          gst_rtsp_status_as_text (GST_RTSP_STS_FORBIDDEN), ctx->request);
      gst_rtsp_client_send_message (ctx->client, ctx->session, ctx->response);
      return FALSE;
    }
  } else {
    /* once per request: a failed check answers 401 and ends the request */
    tcd_security_login_failed (self->security, ip, "rtsp", user);
  }
  return TRUE;
}

static void
tcd_rtsp_auth_finalize (GObject *object)
{
  TcdRtspAuth *self = TCD_RTSP_AUTH (object);
  gst_rtsp_token_unref (self->token);
  gst_rtsp_token_unref (self->no_view);
  g_clear_pointer (&self->watchers, g_hash_table_unref);
  G_OBJECT_CLASS (tcd_rtsp_auth_parent_class)->finalize (object);
}

static void
tcd_rtsp_auth_class_init (TcdRtspAuthClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tcd_rtsp_auth_finalize;
  GST_RTSP_AUTH_CLASS (klass)->authenticate = tcd_rtsp_auth_authenticate;
}

static void
tcd_rtsp_auth_init (TcdRtspAuth *self)
{
  self->token = gst_rtsp_token_new (GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, TCD_RTSP_ROLE,
      NULL);
  self->no_view = gst_rtsp_token_new (GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING,
      "no-live-view", NULL);
}

/* a client whose account may no longer watch (its live view taken away, or
 * deleted) is shut as the login timer shuts one: its socket, which the
 * client's own thread sees go */
static GstRTSPFilterResult
close_no_view (GstRTSPServer *server, GstRTSPClient *client, gpointer user_data)
{
  GHashTable *watchers = user_data;
  TcdRtspClientInfo *info = g_object_get_data (G_OBJECT (client), TCD_RTSP_CLIENT_INFO);
  const gchar *user = info ? g_atomic_pointer_get (&info->user) : NULL;
  GSocketConnection *conn = g_object_get_data (G_OBJECT (client), TCD_RTSP_CLIENT_CONN);

  if (user && !g_hash_table_contains (watchers, user) && conn) {
    g_info ("RTSP: %s may no longer watch: its connection is closed", user);
    g_socket_shutdown (g_socket_connection_get_socket (conn), TRUE, TRUE, NULL);
  }
  return GST_RTSP_FILTER_KEEP;
}

GstRTSPAuth *
tcd_rtsp_auth_new (TcdSecurity *security, TcdUsers *users, GHashTable *extra)
{
  TcdRtspAuth *auth = g_object_new (TCD_TYPE_RTSP_AUTH, NULL);
  const gchar *htdigest = users ? tcd_users_htdigest_path (users) : NULL;

  auth->security = security;
  auth->users = users;
  gst_rtsp_auth_set_realm (GST_RTSP_AUTH (auth), TCD_REALM);
  if (!htdigest)
    return GST_RTSP_AUTH (auth);
  auth->watchers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* the ONVIF users first: an account of the same name is the account */
  if (extra) {
    GHashTableIter it;
    const gchar *name, *password;
    g_hash_table_iter_init (&it, extra);
    while (g_hash_table_iter_next (&it, (gpointer *) &name, (gpointer *) &password)) {
      gst_rtsp_auth_add_digest (GST_RTSP_AUTH (auth), name, password, auth->token);
      g_hash_table_add (auth->watchers, g_strdup (name));
    }
  }
  {
    g_autoptr (JsonNode) list = tcd_users_list (users);
    JsonArray *a = json_node_get_array (list);
    for (guint i = 0; i < json_array_get_length (a); i++) {
      const gchar *name = tc_json_get_string (tc_json_array_get_object (a, i), "name", NULL);
      if (!name)
        continue;
      if (tcd_users_get_permissions (users, name) & TCD_PERM_LIVE_VIEW)
        g_hash_table_add (auth->watchers, g_strdup (name));
      else
        g_hash_table_remove (auth->watchers, name);
    }
  }
  if (!gst_rtsp_auth_parse_htdigest (GST_RTSP_AUTH (auth), htdigest, auth->token))
    g_warning ("RTSP: cannot read the users from %s: nobody may watch", htdigest);
  return GST_RTSP_AUTH (auth);
}

void
tcd_rtsp_auth_close_others (GstRTSPAuth *auth, GstRTSPServer *server)
{
  TcdRtspAuth *self = TCD_RTSP_AUTH (auth);

  if (self->watchers)
    g_list_free_full (gst_rtsp_server_client_filter (server, close_no_view, self->watchers),
        g_object_unref);
}
