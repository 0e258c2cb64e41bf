/* thermocamd: the RTSP server
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two streams, each one shared GstRTSPMedia built from pipelines/stream.pipeline
 * (appsrc -> scale/rate -> x264enc -> rtph264pay) whatever the number of
 * clients, mounted twice: /Streaming/Channels/101 and /main, /102 and /sub.
 * The appsrc is fed from the core pipeline's video branch; it leaks, so a
 * slow stream never holds the core back.  Transports: UDP, TCP (interleaved),
 * UDP multicast (from an address pool) and RTSP over HTTP (the tunnel
 * gst-rtsp-server answers on the same port).
 *
 * Security: we accept the connections ourselves (tcd-conns: at most
 * RTSP_MAX_CLIENTS open, RTSP_MAX_PER_ADDRESS from one address; out of
 * descriptors, accepting backs off instead of spinning) and hand them to
 * gst-rtsp-server (gst_rtsp_server_transfer_connection) only when the IP
 * address filter lets them in: a refused one is closed before a client
 * object exists or anything is read.  A request body is at most
 * RTSP_MAX_BODY bytes (a larger Content-Length is answered 413 without
 * reserving it), and a connection that has not logged in
 * RTSP_LOGIN_TIMEOUT_S after it opened is closed.  TcdRtspAuth adds Basic
 * (where security.authentication.rtsp allows it, checked against the
 * password hash) to gst-rtsp-server's Digest, and feeds wrong credentials
 * to the illegal login lock, which then refuses the address.
 */
#include "tcd-rtsp.h"

#include <gst/rtsp-server/rtsp-server.h>
#include <string.h>

#include "tcd-config.h"
#include "tcd-conns.h"
#include "tcd-security.h"
#include "tcd-users.h"
#include "tc-json.h"

GST_DEBUG_CATEGORY_STATIC (tcd_rtsp_debug);
#define GST_CAT_DEFAULT tcd_rtsp_debug

#define ROLE "viewer"

#define RTSP_MAX_CLIENTS 64             /* connections at once, all addresses */
#define RTSP_MAX_PER_ADDRESS 32         /* from one address */
#define RTSP_MAX_BODY (64 * 1024)       /* a request's body (Content-Length) */
#define RTSP_LOGIN_TIMEOUT_S 30         /* to log in once connected */

/* what a connection did: read by the login timer (main context) and written
 * by the client's thread */
typedef struct {
  gint authenticated;           /* atomic */
} ClientInfo;

#define CLIENT_INFO "tcd-client-info"
#define CLIENT_CONN "tcd-client-conn"

/* ---- authentication: Digest by gst-rtsp-server, Basic and the lock here ---- */

#define TCD_TYPE_RTSP_AUTH (tcd_rtsp_auth_get_type ())
G_DECLARE_FINAL_TYPE (TcdRtspAuth, tcd_rtsp_auth, TCD, RTSP_AUTH, GstRTSPAuth)

struct _TcdRtspAuth {
  GstRTSPAuth parent;
  TcdSecurity *security;
  TcdUsers *users;
  GstRTSPToken *token;
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
  if (ctx->token) {
    ClientInfo *info = g_object_get_data (G_OBJECT (ctx->client), CLIENT_INFO);
    if (info)
      g_atomic_int_set (&info->authenticated, 1);
    tcd_security_login_succeeded (self->security, ip, "rtsp", user, FALSE);
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
  self->token = gst_rtsp_token_new (GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, ROLE,
      NULL);
}

typedef struct _TcdRtspStream TcdRtspStream;

/* ---- a media factory whose clients all share one media, whichever of its
 * two mount points they used ---- */

#define TCD_TYPE_STREAM_FACTORY (tcd_stream_factory_get_type ())
G_DECLARE_FINAL_TYPE (TcdStreamFactory, tcd_stream_factory, TCD, STREAM_FACTORY,
    GstRTSPMediaFactory)

struct _TcdStreamFactory {
  GstRTSPMediaFactory parent;
  gchar *key;
};

G_DEFINE_TYPE (TcdStreamFactory, tcd_stream_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

static gchar *
tcd_stream_factory_gen_key (GstRTSPMediaFactory *factory, const GstRTSPUrl *url)
{
  return g_strdup (TCD_STREAM_FACTORY (factory)->key);
}

static void
tcd_stream_factory_finalize (GObject *object)
{
  g_free (TCD_STREAM_FACTORY (object)->key);
  G_OBJECT_CLASS (tcd_stream_factory_parent_class)->finalize (object);
}

static void
tcd_stream_factory_class_init (TcdStreamFactoryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tcd_stream_factory_finalize;
  GST_RTSP_MEDIA_FACTORY_CLASS (klass)->gen_key = tcd_stream_factory_gen_key;
}

static void
tcd_stream_factory_init (TcdStreamFactory *self)
{
}

/* ---- streams ---- */

struct _TcdRtspStream {
  TcdRtsp *r;
  const gchar *name;            /* "main", "sub" */
  const gchar *channel;         /* "101", "102" */
  TcdStreamFactory *factory;
  GMutex lock;
  GstRTSPMedia *media;          /* the prepared shared media, if any */
  GstElement *enc;
  guint media_count;            /* media prepared since start */
  guint live;                   /* media alive now (encoders running) */
  gchar *launch;
  JsonNode *settings;
};

struct _TcdRtsp {
  TcdPipeline *pipeline;
  TcdSecurity *security;
  TcdUsers *users;
  gint refused;                 /* by the IP filter (atomic, as the rest) */
  gint login_timeouts;          /* closed after RTSP_LOGIN_TIMEOUT_S */
  gchar *dir;
  GstRTSPServer *server;
  TcdConns *conns;              /* the bounds, for the life of TcdRtsp */
  TcdListener *listener;
  guint port;
  GSocketConnection *handing;   /* being handed to the server (main context) */
  gint sensor_fps;              /* the frame rate the streams' appsrcs were given */
  TcdRtspStream streams[2];
};

static gchar *
stream_launch (TcdRtspStream *st, JsonNode *s, GError **error)
{
  g_autofree gchar *path = g_build_filename (st->r->dir, "stream.pipeline", NULL);
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_auto (GStrv) wh = NULL;
  GString *out = g_string_new (NULL);
  JsonObject *o = json_node_get_object (s);
  const gchar *res = tc_json_get_string (o, "resolution", NULL);
  gboolean cbr = g_str_equal (tc_json_get_string (o, "bitrate_type", NULL), "cbr");
  const gchar *quality = tc_json_get_string (o, "quality", NULL);
  static const gchar *qualities[] = { "lowest", "lower", "low", "medium", "higher", "highest" };
  /* constant-quality factors of x264 for the manual's six levels */
  static const gint crf[] = { 36, 32, 28, 25, 22, 19 };
  gint q = 3, smoothing = tc_json_get_int (o, "smoothing", 0);
  g_autofree gchar *rc = NULL;
  gchar *d;

  if (!g_file_get_contents (path, &text, NULL, error)) {
    g_string_free (out, TRUE);
    return NULL;
  }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    const gchar *l = lines[i] + strspn (lines[i], " \t");
    if (*l == '#' || !*l)
      continue;
    g_string_append (out, lines[i]);
    g_string_append_c (out, ' ');
  }
  for (guint i = 0; i < G_N_ELEMENTS (qualities); i++)
    if (g_strcmp0 (quality, qualities[i]) == 0)
      q = i;
  /* smoothing: the rate control's buffer, 100 ms (sharp, jumpy) to 3 s */
  rc = cbr ? g_strdup_printf ("pass=cbr vbv-buf-capacity=%d", 100 + smoothing * 29)
      : g_strdup_printf ("pass=qual quantizer=%d vbv-buf-capacity=%d", crf[q],
          100 + smoothing * 29);
  wh = g_strsplit (res, "x", 2);
  d = g_string_free (out, FALSE);
#define SUB(key, val) do { g_auto (GStrv) parts = g_strsplit (d, key, -1); \
    g_free (d); d = g_strjoinv (val, parts); } while (0)
  SUB ("@WIDTH@", wh[0]);
  SUB ("@HEIGHT@", wh[1]);
  {
    g_autofree gchar *fps = g_strdup_printf ("%" G_GINT64_FORMAT,
        tc_json_get_int (o, "frame_rate", 0));
    g_autofree gchar *gop = g_strdup_printf ("%" G_GINT64_FORMAT,
        tc_json_get_int (o, "iframe_interval", 0));
    g_autofree gchar *br = g_strdup_printf ("%" G_GINT64_FORMAT,
        tc_json_get_int (o, "max_bitrate", 0));
    SUB ("@FPS@", fps);
    SUB ("@GOP@", gop);
    SUB ("@BITRATE@", br);
  }
  SUB ("@RC@", rc);
  {
    const gchar *profile = tc_json_get_string (o, "profile", "main");
    SUB ("@PROFILE@", profile);
    SUB ("@TOOLS@", g_str_equal (profile, "high") ? "cabac=true dct8x8=true"
        : g_str_equal (profile, "main") ? "cabac=true" : "cabac=false dct8x8=false");
  }
#undef SUB
  return d;
}

/* RTP leaves: tell the outlet the running time of the frame (the encoder
 * shifts timestamps by its own offset, the segment undoes it) */
static GstPadProbeReturn
rtp_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  TcdVideoOutlet *o = user_data;
  GstBuffer *buf = NULL;
  GstEvent *ev;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    buf = GST_PAD_PROBE_INFO_BUFFER (info);
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *l = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    if (gst_buffer_list_length (l))
      buf = gst_buffer_list_get (l, 0);
  }
  if (!buf || !(ev = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0)))
    return GST_PAD_PROBE_OK;
  {
    const GstSegment *seg;
    gst_event_parse_segment (ev, &seg);
    tcd_outlet_rtp_sent (o, gst_segment_to_running_time (seg, GST_FORMAT_TIME,
            GST_BUFFER_PTS (buf)));
  }
  gst_event_unref (ev);
  return GST_PAD_PROBE_OK;
}

static void
media_unprepared (GstRTSPMedia *media, gpointer user_data)
{
  TcdRtspStream *st = user_data;
  TcdVideoOutlet *o = g_object_steal_data (G_OBJECT (media), "tcd-outlet");

  if (o)
    tcd_pipeline_remove_outlet (st->r->pipeline, o);
  g_mutex_lock (&st->lock);
  if (st->media == media) {
    st->media = NULL;
    gst_clear_object (&st->enc);
  }
  st->live--;
  g_mutex_unlock (&st->lock);
  GST_INFO ("stream %s: media unprepared", st->name);
}

static void
media_configure (GstRTSPMediaFactory *factory, GstRTSPMedia *media, gpointer user_data)
{
  TcdRtspStream *st = user_data;
  GstElement *bin = gst_rtsp_media_get_element (media);
  GstElement *src = gst_bin_get_by_name_recurse_up (GST_BIN (bin), "src");
  GstElement *enc = gst_bin_get_by_name_recurse_up (GST_BIN (bin), "enc");
  GstElement *pay = gst_bin_get_by_name_recurse_up (GST_BIN (bin), "pay0");
  GstCaps *caps = tcd_pipeline_get_video_caps (st->r->pipeline);
  TcdVideoOutlet *o;
  GstPad *pad;

  if (!caps) {
    gint w, h, fps;
    tcd_pipeline_get_format (st->r->pipeline, &w, &h, &fps);
    caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
        "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
        "framerate", GST_TYPE_FRACTION, fps, 1, NULL);
  }
  g_object_set (src, "caps", caps, NULL);
  gst_caps_unref (caps);
  o = tcd_pipeline_add_outlet (st->r->pipeline, GST_APP_SRC (src), st->name);
  g_object_set_data (G_OBJECT (media), "tcd-outlet", o);
  pad = gst_element_get_static_pad (pay, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
      rtp_probe, o, NULL);
  gst_object_unref (pad);
  g_signal_connect (media, "unprepared", G_CALLBACK (media_unprepared), st);
  g_mutex_lock (&st->lock);
  st->media = media;
  gst_object_replace ((GstObject **) & st->enc, GST_OBJECT (enc));
  st->media_count++;
  st->live++;
  g_mutex_unlock (&st->lock);
  GST_INFO ("stream %s: new shared media", st->name);
  gst_object_unref (src);
  gst_object_unref (enc);
  gst_object_unref (pay);
  gst_object_unref (bin);
}

TcdRtsp *
tcd_rtsp_new (TcdPipeline *pipeline, const gchar *pipelines_dir, TcdSecurity *security)
{
  TcdRtsp *r = g_new0 (TcdRtsp, 1);
  static const gchar *names[] = { "main", "sub" }, *channels[] = { "101", "102" };

  GST_DEBUG_CATEGORY_INIT (tcd_rtsp_debug, "thermocamd-rtsp", 0, "thermocamd RTSP");
  r->pipeline = pipeline;
  r->security = security;
  r->dir = g_strdup (pipelines_dir);
  r->conns = tcd_conns_new (RTSP_MAX_CLIENTS, RTSP_MAX_PER_ADDRESS, tcd_address_key);
  for (guint i = 0; i < 2; i++) {
    r->streams[i].r = r;
    r->streams[i].name = names[i];
    r->streams[i].channel = channels[i];
    g_mutex_init (&r->streams[i].lock);
  }
  return r;
}

static void set_methods (TcdRtsp *r, GstRTSPAuth *auth);

static GstRTSPFilterResult
filter_client (GstRTSPServer *server, GstRTSPClient *client, gpointer user_data)
{
  TcdRtsp *r = user_data;
  GstRTSPConnection *conn = gst_rtsp_client_get_connection (client);
  const gchar *ip = conn ? gst_rtsp_connection_get_ip (conn) : NULL;

  if (ip && !tcd_security_address_allowed_str (r->security, ip)) {
    g_atomic_int_inc (&r->refused);
    return GST_RTSP_FILTER_REMOVE;
  }
  return GST_RTSP_FILTER_KEEP;
}

/* the connection's last reference goes on the main context, where its
 * bounds (tcd-conns) are kept */
static gboolean
unref_in_main (gpointer conn)
{
  g_object_unref (conn);
  return G_SOURCE_REMOVE;
}

static void
release_conn (gpointer conn)
{
  g_idle_add (unref_in_main, conn);
}

/* a connection within the bounds: the IP filter, then gst-rtsp-server */
static void
accept_connection (TcdListener *l, GSocketConnection *conn, GSocketAddress *remote,
    gpointer user_data)
{
  TcdRtsp *r = user_data;
  GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (remote);
  g_autofree gchar *text = g_inet_address_to_string (g_inet_socket_address_get_address (isa));
  /* an IPv4 client of a dual-stack socket as the IPv4 address it is */
  const gchar *ip = g_str_has_prefix (text, "::ffff:") && strchr (text, '.') ? text + 7 : text;

  if (!tcd_security_address_allowed_str (r->security, ip)) {
    g_atomic_int_inc (&r->refused);
    GST_INFO ("RTSP: %s is filtered out", ip);
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    return;
  }
  r->handing = conn;
  if (!gst_rtsp_server_transfer_connection (r->server,
          g_object_ref (g_socket_connection_get_socket (conn)), ip,
          g_inet_socket_address_get_port (isa), NULL))
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  r->handing = NULL;
}

typedef struct {
  TcdRtsp *r;
  GWeakRef client;
} LoginTimer;

static void
login_timer_free (gpointer data)
{
  LoginTimer *t = data;
  g_weak_ref_clear (&t->client);
  g_free (t);
}

static gboolean
login_timeout (gpointer data)
{
  LoginTimer *t = data;
  GstRTSPClient *client = g_weak_ref_get (&t->client);
  ClientInfo *info;

  if (!client)
    return G_SOURCE_REMOVE;
  info = g_object_get_data (G_OBJECT (client), CLIENT_INFO);
  if (info && !g_atomic_int_get (&info->authenticated)) {
    GSocketConnection *conn = g_object_get_data (G_OBJECT (client), CLIENT_CONN);
    GST_INFO ("RTSP: a client did not log in within %d s: closed", RTSP_LOGIN_TIMEOUT_S);
    g_atomic_int_inc (&t->r->login_timeouts);
    /* the socket is shut down, and the client's own thread sees the peer
     * go and closes it there: gst_rtsp_client_close () from here raced
     * the client's watch reading in its thread (a critical, then a thread
     * spinning on a freed stream) */
    if (conn)
      g_socket_shutdown (g_socket_connection_get_socket (conn), TRUE, TRUE, NULL);
    else
      gst_rtsp_client_close (client);
  }
  g_object_unref (client);
  return G_SOURCE_REMOVE;
}

/* a connection handed over has its client (emitted from
 * gst_rtsp_server_transfer_connection): the client keeps the connection
 * (its socket, its place in the bounds) and has RTSP_LOGIN_TIMEOUT_S to log in */
static void
client_connected (GstRTSPServer *server, GstRTSPClient *client, gpointer user_data)
{
  TcdRtsp *r = user_data;
  LoginTimer *t = g_new0 (LoginTimer, 1);

  if (r->handing)
    g_object_set_data_full (G_OBJECT (client), CLIENT_CONN, g_object_ref (r->handing),
        release_conn);
  g_object_set_data_full (G_OBJECT (client), CLIENT_INFO, g_new0 (ClientInfo, 1), g_free);
  t->r = r;
  g_weak_ref_init (&t->client, client);
  g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, RTSP_LOGIN_TIMEOUT_S, login_timeout, t,
      login_timer_free);
}

gboolean
tcd_rtsp_start (TcdRtsp *r, const gchar *address, guint port, JsonNode *doc,
    GError **error)
{
  GstRTSPMountPoints *mounts;
  GstRTSPAddressPool *pool;
  g_autoptr (GError) err = NULL;

  r->sensor_fps = tcd_config_sensor_fps (doc);
  r->server = gst_rtsp_server_new ();
  gst_rtsp_server_set_content_length_limit (r->server, RTSP_MAX_BODY);
  mounts = gst_rtsp_server_get_mount_points (r->server);
  pool = gst_rtsp_address_pool_new ();
  /* multicast groups for the two streams, administratively scoped */
  gst_rtsp_address_pool_add_range (pool, "239.255.42.1", "239.255.42.16", 50000, 50999, 4);
  for (guint i = 0; i < 2; i++) {
    TcdRtspStream *st = &r->streams[i];
    GstRTSPMediaFactory *f;
    g_autofree gchar *p101 = g_strdup_printf ("/Streaming/Channels/%s", st->channel);
    g_autofree gchar *alias = g_strdup_printf ("/%s", st->name);
    JsonNode *s = tcd_config_node (doc, i == 0 ? "video.main" : "video.sub");

    st->factory = g_object_new (TCD_TYPE_STREAM_FACTORY, NULL);
    st->factory->key = g_strdup (st->name);
    f = GST_RTSP_MEDIA_FACTORY (st->factory);
    g_free (st->launch);
    st->launch = stream_launch (st, s, error);
    if (!st->launch) {
      g_object_unref (mounts);
      g_object_unref (pool);
      return FALSE;
    }
    st->settings = tcd_json_deep_copy (s);
    gst_rtsp_media_factory_set_launch (f, st->launch);
    gst_rtsp_media_factory_set_shared (f, TRUE);
    gst_rtsp_media_factory_set_latency (f, 0);
    gst_rtsp_media_factory_set_address_pool (f, pool);
    gst_rtsp_media_factory_set_protocols (f, GST_RTSP_LOWER_TRANS_UDP
        | GST_RTSP_LOWER_TRANS_UDP_MCAST | GST_RTSP_LOWER_TRANS_TCP);
    gst_rtsp_media_factory_add_role (f, ROLE,
        GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
        GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, NULL);
    g_signal_connect (f, "media-configure", G_CALLBACK (media_configure), st);
    gst_rtsp_mount_points_add_factory (mounts, p101, g_object_ref (f));
    gst_rtsp_mount_points_add_factory (mounts, alias, g_object_ref (f));
  }
  g_object_unref (pool);
  g_object_unref (mounts);
  tcd_rtsp_set_users (r, r->users);
  g_signal_connect (r->server, "client-connected", G_CALLBACK (client_connected), r);
  /* all IPv4 addresses by default, as multicast and the transports are */
  r->listener = tcd_conns_listen (r->conns, address && *address ? address : "0.0.0.0", port,
      accept_connection, r, &r->port, &err);
  if (!r->listener) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
        "RTSP: cannot listen on port %u: %s", port, err->message);
    tcd_rtsp_stop (r);
    return FALSE;
  }
  return TRUE;
}

guint
tcd_rtsp_get_port (TcdRtsp *r)
{
  return r->listener ? r->port : 0;
}

static GstRTSPFilterResult
close_client (GstRTSPServer *server, GstRTSPClient *client, gpointer user_data)
{
  return GST_RTSP_FILTER_REMOVE;
}

void
tcd_rtsp_stop (TcdRtsp *r)
{
  if (!r->server)
    return;
  g_clear_pointer (&r->listener, tcd_listener_free);
  r->port = 0;
  /* the streams' media first, synchronously: nothing may call back into a
   * stopped server or a freed pipeline later */
  for (guint i = 0; i < 2; i++) {
    TcdRtspStream *st = &r->streams[i];
    GstRTSPMedia *media = NULL;
    TcdVideoOutlet *o;

    g_mutex_lock (&st->lock);
    if (st->media)
      media = g_object_ref (st->media);
    g_mutex_unlock (&st->lock);
    if (!media)
      continue;
    g_signal_handlers_disconnect_by_func (media, media_unprepared, st);
    gst_rtsp_media_unprepare (media);
    o = g_object_steal_data (G_OBJECT (media), "tcd-outlet");
    if (o)
      tcd_pipeline_remove_outlet (r->pipeline, o);
    g_mutex_lock (&st->lock);
    st->media = NULL;
    gst_clear_object (&st->enc);
    st->live = 0;
    g_mutex_unlock (&st->lock);
    g_object_unref (media);
  }
  gst_rtsp_server_client_filter (r->server, close_client, NULL);
  for (guint i = 0; i < 2; i++) {
    TcdRtspStream *st = &r->streams[i];
    g_clear_object (&st->factory);
    g_clear_pointer (&st->settings, json_node_unref);
  }
  g_clear_object (&r->server);
}

void
tcd_rtsp_free (TcdRtsp *r)
{
  if (!r)
    return;
  tcd_rtsp_stop (r);
  tcd_conns_free (r->conns);
  for (guint i = 0; i < 2; i++) {
    g_free (r->streams[i].launch);
    g_mutex_clear (&r->streams[i].lock);
  }
  g_free (r->dir);
  g_free (r);
}

/* a client filter closing the sessions of one stream's media */
static GstRTSPFilterResult
drop_media_filter (GstRTSPSession *sess, GstRTSPSessionMedia *smedia, gpointer user_data)
{
  return gst_rtsp_session_media_get_media (smedia) == user_data
      ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult
drop_client_sessions (GstRTSPClient *client, GstRTSPSession *sess, gpointer user_data)
{
  gst_rtsp_session_filter (sess, drop_media_filter, user_data);
  return gst_rtsp_session_filter (sess, NULL, NULL) ? GST_RTSP_FILTER_KEEP
      : GST_RTSP_FILTER_REMOVE;
}

static GstRTSPFilterResult
drop_clients (GstRTSPServer *server, GstRTSPClient *client, gpointer user_data)
{
  GList *left;

  gst_rtsp_client_session_filter (client, drop_client_sessions, user_data);
  left = gst_rtsp_client_session_filter (client, NULL, NULL);
  if (!left)
    return GST_RTSP_FILTER_REMOVE;
  g_list_free_full (left, g_object_unref);
  return GST_RTSP_FILTER_KEEP;
}

static gboolean
only_bitrate_differs (JsonNode *a, JsonNode *b)
{
  JsonObject *oa = json_node_get_object (a), *ob = json_node_get_object (b);
  g_autoptr (GList) members = json_object_get_members (oa);

  for (GList *l = members; l; l = l->next) {
    const gchar *k = l->data;
    if (g_str_equal (k, "max_bitrate"))
      continue;
    if (!json_object_has_member (ob, k)
        || !tc_json_equal (json_object_get_member (oa, k), json_object_get_member (ob, k)))
      return FALSE;
  }
  return TRUE;
}

void
tcd_rtsp_apply (TcdRtsp *r, JsonNode *doc)
{
  GstRTSPAuth *auth;
  /* a new sensor rate (video standard): the prepared media's sources carry
   * the old one in their caps, every stream restarts */
  gboolean new_rate = tcd_config_sensor_fps (doc) != r->sensor_fps;

  if (!r->server)
    return;
  r->sensor_fps = tcd_config_sensor_fps (doc);
  /* the authentication mode, live */
  if ((auth = gst_rtsp_server_get_auth (r->server))) {
    set_methods (r, auth);
    g_object_unref (auth);
  }
  /* a new IP filter also ends the sessions of the addresses it refuses */
  gst_rtsp_server_client_filter (r->server, filter_client, r);
  for (guint i = 0; i < 2; i++) {
    TcdRtspStream *st = &r->streams[i];
    JsonNode *s = tcd_config_node (doc, i == 0 ? "video.main" : "video.sub");
    g_autoptr (GError) err = NULL;
    g_autofree gchar *launch = NULL;
    GstRTSPMedia *media = NULL;

    if (!new_rate && tc_json_equal (s, st->settings))
      continue;
    launch = stream_launch (st, s, &err);
    if (!launch) {
      g_warning ("stream %s: %s", st->name, err->message);
      continue;
    }
    gst_rtsp_media_factory_set_launch (GST_RTSP_MEDIA_FACTORY (st->factory), launch);
    g_mutex_lock (&st->lock);
    if (st->media && !new_rate && only_bitrate_differs (s, st->settings) && st->enc) {
      /* x264enc takes a new bitrate while playing: the viewers stay */
      g_object_set (st->enc, "bitrate",
          (guint) tc_json_get_int (json_node_get_object (s), "max_bitrate", 0), NULL);
    } else if (st->media) {
      media = g_object_ref (st->media);
    }
    g_mutex_unlock (&st->lock);
    if (media) {
      /* new caps: the stream restarts and its clients reconnect */
      gst_rtsp_server_client_filter (r->server, drop_clients, media);
      gst_rtsp_media_unprepare (media);
      g_object_unref (media);
    }
    g_free (st->launch);
    st->launch = g_steal_pointer (&launch);
    json_node_unref (st->settings);
    st->settings = tcd_json_deep_copy (s);
  }
}

static void
set_methods (TcdRtsp *r, GstRTSPAuth *auth)
{
  gst_rtsp_auth_set_supported_methods (auth, GST_RTSP_AUTH_DIGEST
      | (tcd_security_basic_allowed (r->security, "rtsp") ? GST_RTSP_AUTH_BASIC : 0));
}

void
tcd_rtsp_set_users (TcdRtsp *r, TcdUsers *users)
{
  TcdRtspAuth *auth;
  const gchar *htdigest = users ? tcd_users_htdigest_path (users) : NULL;

  r->users = users;
  if (!r->server)
    return;
  auth = g_object_new (TCD_TYPE_RTSP_AUTH, NULL);
  auth->security = r->security;
  auth->users = users;
  set_methods (r, GST_RTSP_AUTH (auth));
  gst_rtsp_auth_set_realm (GST_RTSP_AUTH (auth), TCD_REALM);
  if (htdigest && !gst_rtsp_auth_parse_htdigest (GST_RTSP_AUTH (auth), htdigest, auth->token))
    g_warning ("RTSP: cannot read the users from %s: nobody may watch", htdigest);
  gst_rtsp_server_set_auth (r->server, GST_RTSP_AUTH (auth));
  g_object_unref (auth);
}

static GstRTSPFilterResult
count_client (GstRTSPServer *server, GstRTSPClient *client, gpointer user_data)
{
  (*(guint *) user_data)++;
  return GST_RTSP_FILTER_KEEP;
}

JsonNode *
tcd_rtsp_stats (TcdRtsp *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  guint clients = 0;

  if (r->server)
    gst_rtsp_server_client_filter (r->server, count_client, &clients);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, tcd_rtsp_get_port (r));
  json_builder_set_member_name (b, "clients");
  json_builder_add_int_value (b, clients);
  json_builder_set_member_name (b, "refused_connections");
  json_builder_add_int_value (b, g_atomic_int_get (&r->refused));
  {
    TcdConnsStats cs;
    tcd_conns_get_stats (r->conns, &cs);
    json_builder_set_member_name (b, "refused_busy");
    json_builder_add_int_value (b, cs.over_limit);
    json_builder_set_member_name (b, "no_descriptors");
    json_builder_add_int_value (b, cs.no_descriptors);
  }
  json_builder_set_member_name (b, "login_timeouts");
  json_builder_add_int_value (b, g_atomic_int_get (&r->login_timeouts));
  json_builder_set_member_name (b, "streams");
  json_builder_begin_array (b);
  for (guint i = 0; i < 2; i++) {
    TcdRtspStream *st = &r->streams[i];
    g_mutex_lock (&st->lock);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, st->name);
    json_builder_set_member_name (b, "encoders");
    json_builder_add_int_value (b, st->live);
    json_builder_set_member_name (b, "media_prepared_total");
    json_builder_add_int_value (b, st->media_count);
    json_builder_set_member_name (b, "pipeline");
    json_builder_add_string_value (b, st->launch ? st->launch : "");
    json_builder_end_object (b);
    g_mutex_unlock (&st->lock);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
