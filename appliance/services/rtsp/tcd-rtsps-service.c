/* thermocamd: RTSP over TLS with SRTP media as a service of the table
 * (services/tcd-service.h): rtsps:// on ports.srtp (manual 9.2, "SRTP
 * port") while HTTPS is on, with the HTTPS certificate
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A second server of tcd-rtsp.c with the same streams and accounts: TLS on
 * each connection (gst-rtsp-server's own, GstRTSPConnection's
 * GTlsServerConnection) and the media offered as RTP/SAVP only (srtpenc,
 * its key in the SDP as MIKEY; the client's in its SETUP), so neither the
 * requests nor the video go in clear.
 */
#include "tcd-rtsp.h"

#include "tcd-certs.h"

typedef struct {
  TcdContext *ctx;
  TcdRtsp *rtsp;
  gboolean on;
  gchar *address;
  guint port;
  guint retry_id;               /* the port could not be bound: tried again */
} Service;

#define RETRY_S 5

static gpointer
create (TcdContext *ctx)
{
  Service *s = g_new0 (Service, 1);

  s->ctx = ctx;
  s->rtsp = tcd_rtsp_new (ctx->encoders, ctx->security);
  return s;
}

/* the installed certificate (the HTTPS service made a self-signed one at
 * its start when there was none) */
static GTlsCertificate *
certificate (Service *s, GError **error)
{
  g_autofree gchar *cert = NULL, *key = NULL;

  if (!tcd_certs_installed (s->ctx->state_dir, &cert, &key)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no certificate is installed");
    return NULL;
  }
  return g_tls_certificate_new_from_files (cert, key, error);
}

/* HTTPS on: the secure server on s->port; FALSE (and why) when it cannot */
static gboolean
try_start (Service *s, GError **error)
{
  g_autoptr (GTlsCertificate) cert = NULL;

  if (!(cert = certificate (s, error)))
    return FALSE;
  tcd_rtsp_set_tls (s->rtsp, cert);
  if (!tcd_rtsp_start (s->rtsp, s->address, s->port, tcd_config_get (s->ctx->config), error))
    return FALSE;
  tcd_rtsp_set_users (s->rtsp, s->ctx->users);
  s->on = TRUE;
  return TRUE;
}

static gboolean
retry (gpointer data)
{
  Service *s = data;

  if (s->on || !tcd_config_bool (s->ctx->config, "security.https.enabled")
      || try_start (s, NULL)) {
    s->retry_id = 0;
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
start (gpointer self, const gchar *address, const guint *ports, GError **error)
{
  Service *s = self;
  g_autoptr (GError) err = NULL;

  g_clear_handle_id (&s->retry_id, g_source_remove);
  tcd_rtsp_stop (s->rtsp);
  s->on = FALSE;
  g_free (s->address);
  s->address = g_strdup (address);
  s->port = ports[0];
  if (!tcd_config_bool (s->ctx->config, "security.https.enabled"))
    return TRUE;
  if (!try_start (s, &err)) {
    /* the plain servers go on (a port such as 322 may need a right the
     * daemon lacks, or another program holds it): tried again */
    g_warning ("RTSPS: %s; tried again every %d s", err->message, RETRY_S);
    s->retry_id = g_timeout_add_seconds (RETRY_S, retry, s);
  }
  return TRUE;
}

static void
apply (gpointer self, JsonNode *doc)
{
  Service *s = self;

  if (s->on)
    tcd_rtsp_apply (s->rtsp, doc);
}

static void
security_changed (gpointer self, TcdSecurityChange what)
{
  Service *s = self;

  if (!s->on)
    return;
  if (what & (TCD_SECURITY_USERS | TCD_SECURITY_FACTORY))
    tcd_rtsp_set_users (s->rtsp, s->ctx->users);
  if (what & TCD_SECURITY_CERTIFICATE) {
    g_autoptr (GError) err = NULL;
    g_autoptr (GTlsCertificate) cert = certificate (s, &err);
    if (cert)
      tcd_rtsp_set_tls (s->rtsp, cert);
    else
      g_warning ("RTSPS: %s: the previous certificate stays", err->message);
  }
}

static guint
get_port (gpointer self, guint i)
{
  Service *s = self;

  return s->on ? tcd_rtsp_get_port (s->rtsp) : 0;
}

static JsonNode *
stats (gpointer self)
{
  return tcd_rtsp_stats (((Service *) self)->rtsp);
}

static void
stop (gpointer self)
{
  Service *s = self;

  g_clear_handle_id (&s->retry_id, g_source_remove);
  tcd_rtsp_stop (s->rtsp);
  s->on = FALSE;
}

static void
destroy (gpointer self)
{
  Service *s = self;

  g_clear_handle_id (&s->retry_id, g_source_remove);
  tcd_rtsp_free (s->rtsp);
  g_free (s->address);
  g_free (s);
}

const TcdServiceClass tcd_rtsps_service = {
  .name = "rtsps",
  .ports = { "srtp", NULL },
  .port_help = { "RTSP over TLS with SRTP media while security.https is enabled (0: a free "
        "one; default: the configuration's, 322)" },
  .create = create,
  .start = start,
  .apply = apply,
  .security_changed = security_changed,
  .get_port = get_port,
  .stats = stats,
  .stop = stop,
  .destroy = destroy,
};
