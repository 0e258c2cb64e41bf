/* thermocamd: the RTSP server
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two streams, each one shared GstRTSPMedia (appsrc -> rtph264pay) whatever
 * the number of clients, mounted twice: /Streaming/Channels/101 and /main,
 * /102 and /sub.  The appsrc is fed by a tap of the stream's encoder (media
 * layer, tcd-encoder: shared with the web page), re-stamped into the media's
 * running time; a media stuck drops AUs up to the next key frame, so a slow
 * stream never holds the encoder back.  A client that starts playing asks
 * the encoder for a key frame (rate-limited there): no waiting for the GOP's
 * end.  Transports: UDP, TCP (interleaved),
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
 * RTSP_LOGIN_TIMEOUT_S after it opened is closed.  TcdRtspAuth
 * (tcd-rtsp-auth.c) adds Basic (where security.authentication.rtsp allows
 * it, checked against the password hash) to gst-rtsp-server's Digest, feeds
 * wrong credentials to the illegal login lock, which then refuses the
 * address, and refuses the streams to an account without live_view.
 */
#include "tcd-rtsp.h"
#include "tcd-rtsp-auth.h"

#include <gst/rtsp-server/rtsp-server.h>
#include <string.h>

#include "tcd-config.h"
#include "tcd-conns.h"
#include "tcd-dscp.h"
#include "tcd-security.h"
#include "tcd-users.h"
#include "tc-json.h"

GST_DEBUG_CATEGORY_STATIC (tcd_rtsp_debug);
#define GST_CAT_DEFAULT tcd_rtsp_debug

#define ROLE TCD_RTSP_ROLE

#define RTSP_MAX_CLIENTS 128            /* connections at once, all addresses */
#define RTSP_MAX_PER_ADDRESS 32         /* from one address */
#define RTSP_MAX_BODY (64 * 1024)       /* a request's body (Content-Length) */
#define RTSP_LOGIN_TIMEOUT_S 30         /* to log in once connected */
/* the threads the clients are spread over (their requests, and the
 * interleaved data of TCP viewers, which each client's thread writes):
 * gst-rtsp-server's default is one for all, and with a few dozen TCP
 * viewers joining at once on a busy machine that one thread fell behind,
 * their backlogs filled and most frames were dropped */
#define RTSP_CLIENT_THREADS_PER_CORE 4
#define RTSP_CLIENT_THREADS_MAX 16

typedef TcdRtspClientInfo ClientInfo;
#define CLIENT_INFO TCD_RTSP_CLIENT_INFO
#define CLIENT_CONN TCD_RTSP_CLIENT_CONN

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

/* the shared media's pipeline: the stream's encoder is in the media layer
 * (tcd-encoder), the media takes its access units from a tap */
#define MEDIA_LAUNCH "( appsrc name=src is-live=true format=time " \
  "! rtph264pay name=pay0 pt=96 config-interval=-1 )"
/* AUs waiting in the media's appsrc: more, it is stuck (or starved of CPU)
 * and the next ones are dropped up to a key frame (asked for), so that the
 * delay stays bounded (half a second at 30 fps); a drop costs every AU up to
 * that key frame, so the bound leaves room for a busy moment (dozens of
 * viewers joining at once, each a SETUP and a PLAY the media takes its lock
 * for) */
#define FEED_MAX_QUEUED 16
#define FEED_RING 32            /* AUs pushed whose capture time is kept */
/* how far an AU's time may lead the media's clock before it is stamped
 * again (at least): its sinks hold an AU until its time */
#define FEED_AHEAD_MAX (100 * GST_MSECOND)
/* how far the frame grid may put an AU after its own time (the sinks
 * hold it that long: a joining viewer's key frame too) */
#define FEED_GRID_LEAD (40 * GST_MSECOND)

struct _TcdRtspStream {
  TcdRtsp *r;
  const gchar *name;            /* "main", "sub" */
  const gchar *channel;         /* "101", "102" */
  TcdStreamFactory *factory;
  GMutex lock;
  GstRTSPMedia *media;          /* the prepared shared media, if any */
  guint media_count;            /* media prepared since start */
  JsonNode *settings;
};

struct _TcdRtsp {
  TcdEncoders *encoders;
  TcdSecurity *security;
  TcdUsers *users;
  gint refused;                 /* by the IP filter (atomic, as the rest) */
  gint login_timeouts;          /* closed after RTSP_LOGIN_TIMEOUT_S */
  GstRTSPServer *server;
  TcdConns *conns;              /* the bounds, for the life of TcdRtsp */
  TcdListener *listener;
  guint port;
  GSocketConnection *handing;   /* being handed to the server (main context) */
  gint sensor_fps;              /* the frame rate the streams were made for */
  TcdRtspStream streams[2];
  GHashTable *extra;            /* name -> password: the ONVIF users, who may watch too */
  GTlsCertificate *tls;         /* RTSP over TLS, SRTP media (tcd_rtsp_set_tls) */
};

/* One media's feed: the encoder's AUs into its appsrc, re-stamped into the
 * media's running time; freed with the media (the pay probe uses it) */
typedef struct {
  TcdRtspStream *st;
  GstAppSrc *src;
  GMutex tap_lock;
  TcdEncoderTap *tap;           /* from the media's first need-data to unprepared */
  gboolean closed;
  /* the encoder's streaming thread only */
  GstCaps *caps;
  gboolean need_key;            /* an AU was dropped: wait for a key frame */
  gboolean stamped;
  GstClockTime frame;           /* the stream's frame interval (its caps) */
  GstClockTimeDiff offset;      /* media running time - encoder running time */
  GstClockTime last_rt;         /* the encoder's running time of the last AU */
  GstClockTime last_pts;
  /* the capture times of the AUs pushed (their first RTP packet counts) */
  GMutex lock;
  struct {
    GstClockTime pts;
    gint64 capture_us;
  } ring[FEED_RING];
  guint pos;
} Feed;

static void
feed_free (gpointer data)
{
  Feed *f = data;

  gst_object_unref (f->src);
  gst_clear_caps (&f->caps);
  g_mutex_clear (&f->lock);
  g_mutex_clear (&f->tap_lock);
  g_free (f);
}

/* into the media's appsrc with its timestamp in the media */
static void
feed_push (Feed *f, GstSample *au, gint64 capture_us, GstClockTime pts)
{
  GstBuffer *buf = gst_sample_get_buffer (au), *copy;

  if (!f->caps || !gst_caps_is_equal (f->caps, gst_sample_get_caps (au))) {
    gint n = 0, d = 1;
    gst_caps_replace (&f->caps, gst_sample_get_caps (au));
    gst_app_src_set_caps (f->src, f->caps);
    f->frame = gst_structure_get_fraction (gst_caps_get_structure (f->caps, 0), "framerate",
        &n, &d) && n > 0 && d > 0 ? gst_util_uint64_scale_int (GST_SECOND, d, n) : 0;
  }
  f->last_pts = pts;
  /* the AU's memory is shared: only the header is new */
  copy = gst_buffer_new ();
  gst_buffer_copy_into (copy, buf, GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_MEMORY, 0, -1);
  GST_BUFFER_PTS (copy) = GST_BUFFER_DTS (copy) = pts;
  GST_BUFFER_DURATION (copy) = GST_BUFFER_DURATION (buf);
  g_mutex_lock (&f->lock);
  f->ring[f->pos].pts = pts;
  f->ring[f->pos].capture_us = capture_us;
  f->pos = (f->pos + 1) % FEED_RING;
  g_mutex_unlock (&f->lock);
  gst_app_src_push_buffer (f->src, copy);
}

/* an AU of the stream's encoder (its streaming thread): the first one a tap
 * gets is a key frame; one dropped (the media stuck) means waiting for the
 * next key frame, asked for at once */
static void
feed_au (GstSample *au, gint64 capture_us, gpointer user_data)
{
  Feed *f = user_data;
  GstBuffer *buf = gst_sample_get_buffer (au);
  GstElement *e = GST_ELEMENT (f->src);
  gboolean key = !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  GstClock *clock;
  GstClockTime now, rt, pts, age, captured;

  rt = gst_segment_to_running_time (gst_sample_get_segment (au), GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return;
  if (!(clock = gst_element_get_clock (e))) {
    f->need_key = TRUE;         /* stopping */
    return;
  }
  now = gst_clock_get_time (clock) - gst_element_get_base_time (e);
  gst_object_unref (clock);
  if (gst_app_src_get_current_level_buffers (f->src) >= FEED_MAX_QUEUED) {
    f->need_key = TRUE;
    return;
  }
  if (f->need_key && !key) {
    tcd_encoders_request_key_frame (f->st->r->encoders, f->st->name);
    return;
  }
  f->need_key = FALSE;
  /* the frame's capture in the media's running time: as long ago as the
   * capture was (the encoder's delay) */
  age = MAX (g_get_real_time () - capture_us, 0) * GST_USECOND;
  captured = now > age ? now - age : 0;
  /* the encoder's timestamps (the sensor's, regular) shifted once into the
   * media's running time, at the frame's capture; again when the encoder
   * restarted (they went back) or drifted away.  At its capture, not at
   * "now": the sinks hold an AU until its time, and a starting encoder's
   * first AU comes a few hundred ms after its capture, which "now" put on
   * every later AU: they waited that long in the media, piled up to
   * FEED_MAX_QUEUED and were dropped, and a joining viewer's key frame
   * waited behind them (half a second) */
  pts = rt + f->offset;
  if (!f->stamped || rt <= f->last_rt
      || GST_CLOCK_DIFF (now, pts) > (GstClockTimeDiff) MAX (3 * f->frame, FEED_AHEAD_MAX)
      || GST_CLOCK_DIFF (pts, now) > GST_SECOND) {
    /* never back in the media, whatever the encoder did */
    pts = f->stamped && captured <= f->last_pts ? f->last_pts + 1 : captured;
    f->offset = GST_CLOCK_DIFF (rt, pts);
    f->stamped = TRUE;
  } else if (f->frame) {
    /* on the stream's frame grid: the encoder keeps the sensor's times of the
     * frames it takes, and after frames lost upstream (a CPU starved) it
     * takes two a sensor interval apart; RTP shows whole frame intervals
     * (a player, or ffprobe's guess of the rate, sees the stream's rate),
     * within about an interval of the frame's own time (a guard keeps it so
     * whatever comes in) */
    GstClockTime next = f->last_pts + f->frame, own = pts;
    pts = pts <= next ? next : next + (pts - next + f->frame / 2) / f->frame * f->frame;
    if (pts > own + MIN (2 * f->frame, FEED_GRID_LEAD))
      pts = MAX (own, f->last_pts + 1);
  }
  f->last_rt = rt;
  GST_LOG ("feed %s: key %d, %u AUs waiting, %" G_GINT64_FORMAT " us ahead of the clock",
      f->st->name, key, (guint) gst_app_src_get_current_level_buffers (f->src),
      GST_CLOCK_DIFF (now, pts) / 1000);
  feed_push (f, au, capture_us, pts);
}

/* the media's appsrc wants data, so it plays (it has its clock): the tap,
 * once (a tap made before would give its first key frame to a media that
 * cannot take it yet).  The appsrc's streaming thread. */
static void
feed_need_data (GstAppSrc *src, guint length, gpointer user_data)
{
  Feed *f = user_data;

  if (g_atomic_pointer_get (&f->tap))
    return;
  g_mutex_lock (&f->tap_lock);
  if (!f->tap && !f->closed) {
    /* the encoder starts with the first tap; its AUs flow from now on */
    g_atomic_pointer_set (&f->tap, tcd_encoders_tap (f->st->r->encoders, f->st->name, feed_au,
            f, NULL));
    if (!f->tap) {
      g_warning ("stream %s: no encoder", f->st->name);
      f->closed = TRUE;
    }
  }
  g_mutex_unlock (&f->tap_lock);
}

static void
feed_close (Feed *f)
{
  TcdEncoderTap *tap;

  g_mutex_lock (&f->tap_lock);
  f->closed = TRUE;
  tap = f->tap;
  g_atomic_pointer_set (&f->tap, NULL);
  g_mutex_unlock (&f->tap_lock);
  if (tap)
    tcd_encoders_untap (f->st->r->encoders, tap);
}

/* RTP leaves: the capture-to-RTP delay of its AU (the first packet of each) */
static GstPadProbeReturn
rtp_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Feed *f = user_data;
  GstBuffer *buf = NULL;
  GstEvent *ev;
  GstClockTime rt;
  gint64 capture_us = 0;

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
    rt = gst_segment_to_running_time (seg, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  }
  gst_event_unref (ev);
  g_mutex_lock (&f->lock);
  for (guint i = 0; i < FEED_RING; i++)
    if (f->ring[i].capture_us && f->ring[i].pts == rt) {
      capture_us = f->ring[i].capture_us;
      f->ring[i].capture_us = 0;
      break;
    }
  g_mutex_unlock (&f->lock);
  if (capture_us)
    tcd_encoders_note_sent (f->st->r->encoders, f->st->name, capture_us);
  return GST_PAD_PROBE_OK;
}

static void
media_unprepared (GstRTSPMedia *media, gpointer user_data)
{
  TcdRtspStream *st = user_data;
  Feed *f = g_object_get_data (G_OBJECT (media), "tcd-feed");

  if (f)
    feed_close (f);
  g_mutex_lock (&st->lock);
  if (st->media == media)
    st->media = NULL;
  g_mutex_unlock (&st->lock);
  GST_INFO ("stream %s: media unprepared", st->name);
}

static void
media_configure (GstRTSPMediaFactory *factory, GstRTSPMedia *media, gpointer user_data)
{
  TcdRtspStream *st = user_data;
  GstElement *bin = gst_rtsp_media_get_element (media);
  GstElement *src = gst_bin_get_by_name_recurse_up (GST_BIN (bin), "src");
  GstElement *pay = gst_bin_get_by_name_recurse_up (GST_BIN (bin), "pay0");
  Feed *f = g_new0 (Feed, 1);
  GstAppSrcCallbacks cb = { 0 };
  GstPad *pad;

  f->st = st;
  f->src = GST_APP_SRC (src);   /* takes the reference */
  g_mutex_init (&f->lock);
  g_mutex_init (&f->tap_lock);
  cb.need_data = feed_need_data;
  gst_app_src_set_callbacks (f->src, &cb, f, NULL);
  g_object_set_data_full (G_OBJECT (media), "tcd-feed", f, feed_free);
  g_object_set_data (G_OBJECT (media), "tcd-stream", (gpointer) st->name);
  pad = gst_element_get_static_pad (pay, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
      rtp_probe, f, NULL);
  gst_object_unref (pad);
  g_signal_connect (media, "unprepared", G_CALLBACK (media_unprepared), st);
  g_mutex_lock (&st->lock);
  st->media = media;
  st->media_count++;
  g_mutex_unlock (&st->lock);
  GST_INFO ("stream %s: new shared media", st->name);
  gst_object_unref (pay);
  gst_object_unref (bin);
}

/* QoS (manual 10.12.6): the video DSCP on the RTSP connection and on
 * the media's RTP and RTCP sockets (unicast and multicast, both families),
 * set before each PLAY: a change applies to the next one */
static void
tcd_rtsp_set_dscp (GstRTSPClient *client, GstRTSPMedia *media)
{
  GstRTSPConnection *conn = gst_rtsp_client_get_connection (client);
  GSocketFamily families[] = { G_SOCKET_FAMILY_IPV4, G_SOCKET_FAMILY_IPV6 };

  if (conn)
    tcd_dscp_apply (g_socket_get_fd (gst_rtsp_connection_get_read_socket (conn)),
        TCD_DSCP_VIDEO, FALSE);
  for (guint i = 0; media && i < gst_rtsp_media_n_streams (media); i++) {
    GstRTSPStream *stream = gst_rtsp_media_get_stream (media, i);
    for (guint k = 0; k < G_N_ELEMENTS (families); k++) {
      GSocket *socks[] = {
        gst_rtsp_stream_get_rtp_socket (stream, families[k]),
        gst_rtsp_stream_get_rtcp_socket (stream, families[k]),
        gst_rtsp_stream_get_rtp_multicast_socket (stream, families[k]),
        gst_rtsp_stream_get_rtcp_multicast_socket (stream, families[k]),
      };
      for (guint m = 0; m < G_N_ELEMENTS (socks); m++)
        if (socks[m]) {
          tcd_dscp_apply (g_socket_get_fd (socks[m]), TCD_DSCP_VIDEO, FALSE);
          g_object_unref (socks[m]);
        }
    }
  }
}

/* a client starts playing a shared media (perhaps running for others): a
 * key frame at once, not at the end of the encoder's GOP (rate-limited by
 * the encoder, so that a crowd of joins costs one) */
static void
client_play (GstRTSPClient *client, GstRTSPContext *ctx, gpointer user_data)
{
  TcdRtsp *r = user_data;
  const gchar *name = ctx->media ? g_object_get_data (G_OBJECT (ctx->media), "tcd-stream")
      : NULL;

  if (name)
    tcd_encoders_request_key_frame (r->encoders, name);
}

/* before the media plays: its UDP sockets get the video DSCP (over TCP the
 * media shares the RTSP connection, which has it since it was accepted; the
 * streams' sockets are left alone, their locks busy sending) */
static GstRTSPStatusCode
client_pre_play (GstRTSPClient *client, GstRTSPContext *ctx, gpointer user_data)
{
  GstRTSPStreamTransport *st = ctx->sessmedia
      ? gst_rtsp_session_media_get_transport (ctx->sessmedia, 0) : NULL;
  const GstRTSPTransport *tr = st ? gst_rtsp_stream_transport_get_transport (st) : NULL;

  if (tr && tr->lower_transport != GST_RTSP_LOWER_TRANS_TCP)
    tcd_rtsp_set_dscp (client, ctx->media);
  return GST_RTSP_STS_OK;
}

TcdRtsp *
tcd_rtsp_new (TcdEncoders *encoders, TcdSecurity *security)
{
  TcdRtsp *r = g_new0 (TcdRtsp, 1);
  static const gchar *names[] = { "main", "sub" }, *channels[] = { "101", "102" };

  GST_DEBUG_CATEGORY_INIT (tcd_rtsp_debug, "thermocamd-rtsp", 0, "thermocamd RTSP");
  r->encoders = encoders;
  r->security = security;
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
  tcd_dscp_apply (g_socket_get_fd (g_socket_connection_get_socket (conn)), TCD_DSCP_VIDEO, TRUE);
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
  g_signal_connect (client, "play-request", G_CALLBACK (client_play), r);
  if (r->tls) {
    /* what gst-rtsp-server's own accept does (auth's check_connect), for
     * a connection handed over: TLS on it before the client reads */
    GstRTSPConnection *conn = gst_rtsp_client_get_connection (client);
    GTlsConnection *tls = conn ? gst_rtsp_connection_get_tls (conn, NULL) : NULL;
    if (tls)
      g_tls_connection_set_certificate (tls, r->tls);
    else
      gst_rtsp_client_close (client);
  }
  g_signal_connect (client, "pre-play-request", G_CALLBACK (client_pre_play), r);
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
  {
    GstRTSPThreadPool *tp = gst_rtsp_server_get_thread_pool (r->server);
    gst_rtsp_thread_pool_set_max_threads (tp, CLAMP (RTSP_CLIENT_THREADS_PER_CORE
            * (gint) g_get_num_processors (), RTSP_CLIENT_THREADS_PER_CORE, RTSP_CLIENT_THREADS_MAX));
    g_object_unref (tp);
  }
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
    st->settings = tcd_json_deep_copy (s);
    gst_rtsp_media_factory_set_launch (f, MEDIA_LAUNCH);
    gst_rtsp_media_factory_set_shared (f, TRUE);
    gst_rtsp_media_factory_set_latency (f, 0);
    gst_rtsp_media_factory_set_address_pool (f, pool);
    gst_rtsp_media_factory_set_protocols (f, GST_RTSP_LOWER_TRANS_UDP
        | GST_RTSP_LOWER_TRANS_UDP_MCAST | GST_RTSP_LOWER_TRANS_TCP);
    if (r->tls) {
      /* SRTP only (RTP/SAVP and its feedback profile), no multicast */
      gst_rtsp_media_factory_set_profiles (f, GST_RTSP_PROFILE_SAVP | GST_RTSP_PROFILE_SAVPF);
      gst_rtsp_media_factory_set_protocols (f, GST_RTSP_LOWER_TRANS_UDP
          | GST_RTSP_LOWER_TRANS_TCP);
    }
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

void
tcd_rtsp_set_tls (TcdRtsp *r, GTlsCertificate *cert)
{
  g_set_object (&r->tls, cert);
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

    g_mutex_lock (&st->lock);
    if (st->media)
      media = g_object_ref (st->media);
    g_mutex_unlock (&st->lock);
    if (!media)
      continue;
    g_signal_handlers_disconnect_by_func (media, media_unprepared, st);
    gst_rtsp_media_unprepare (media);
    media_unprepared (media, st);
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
  g_clear_pointer (&r->extra, g_hash_table_unref);
  g_clear_object (&r->tls);
  for (guint i = 0; i < 2; i++)
    g_mutex_clear (&r->streams[i].lock);
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
    GstRTSPMedia *media = NULL;

    if (!new_rate && tc_json_equal (s, st->settings))
      continue;
    /* a new bitrate reaches the encoder live (tcd_encoders_apply): the
     * viewers stay */
    g_mutex_lock (&st->lock);
    if (st->media && (new_rate || !tcd_encoders_only_bitrate_differs (s, st->settings)))
      media = g_object_ref (st->media);
    g_mutex_unlock (&st->lock);
    if (media) {
      /* new caps: the stream restarts and its clients reconnect */
      gst_rtsp_server_client_filter (r->server, drop_clients, media);
      gst_rtsp_media_unprepare (media);
      g_object_unref (media);
    }
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
  GstRTSPAuth *auth;

  r->users = users;
  if (!r->server)
    return;
  auth = tcd_rtsp_auth_new (r->security, users, r->extra);
  set_methods (r, auth);
  gst_rtsp_server_set_auth (r->server, auth);
  tcd_rtsp_auth_close_others (auth, r->server);
  g_object_unref (auth);
}

void
tcd_rtsp_set_extra_users (TcdRtsp *r, GHashTable *users)
{
  g_clear_pointer (&r->extra, g_hash_table_unref);
  r->extra = users ? g_hash_table_ref (users) : NULL;
  tcd_rtsp_set_users (r, r->users);
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
    json_builder_add_int_value (b, tcd_encoders_running (r->encoders, st->name));
    json_builder_set_member_name (b, "media_prepared_total");
    json_builder_add_int_value (b, st->media_count);
    json_builder_set_member_name (b, "pipeline");
    json_builder_add_string_value (b, MEDIA_LAUNCH);
    json_builder_end_object (b);
    g_mutex_unlock (&st->lock);
  }
  json_builder_end_array (b);
  /* the encoders' own figures (media layer): taps, frames, key frames */
  json_builder_set_member_name (b, "encoders");
  json_builder_add_value (b, tcd_encoders_stats (r->encoders));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
