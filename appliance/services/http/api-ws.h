/* thermocamd: the web page's live WebSocket, shared by its two files:
 * api-ws.c (the socket: admission, messages, radiometric frames, life) and
 * api-ws-video.c (the video: a tap of the stream's encoder, written as
 * fragmented MP4)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "tcd-http-private.h"

G_BEGIN_DECLS

/* the binary messages' kinds (byte 0 of their 16-byte header) */
enum {
  WS_KIND_INIT = 1,             /* fMP4 init segment (ftyp + moov) */
  WS_KIND_MEDIA = 2,            /* fMP4 media segment (moof + mdat), one AU */
  WS_KIND_RADIOMETRY = 3,       /* a radiometric frame */
};
#define WS_HEADER 16

/* the close codes of RFC 6455 7.4.1 */
#define WS_CLOSE_POLICY 1008
#define WS_CLOSE_UNSUPPORTED 1003
#define WS_CLOSE_TOO_BIG 1009
#define WS_CLOSE_TRY_LATER 1013

typedef struct _WsVideo WsVideo;

/* ---- the guard of what the peer sends (api-ws-guard.c) ---- */

typedef enum {
  WS_GUARD_PING,                /* a ping came (@value: its length): a pong will go */
  WS_GUARD_REFUSED,             /* past a bound (@value: the close code, @why) */
} WsGuardEvent;
typedef void (*WsGuardFunc) (WsGuardEvent event, gushort value, const gchar *why,
    gpointer data);
/* a stream over @base whose input is bounded (rate, a message's size,
 * pings); @func is told in the main context, from libsoup's read */
GIOStream *ws_guard_new (GIOStream *base, WsGuardFunc func, gpointer data);
/* @func is not called any more */
void       ws_guard_detach (GIOStream *guard);
/* the bytes read from the peer */
guint64    ws_guard_get_read (GIOStream *guard);

typedef struct {
  TcdHttp *h;
  SoupWebsocketConnection *conn;
  GSocketAddress *remote;       /* the connection's key in h->conns */
  GSocket *socket;              /* for what the peer acknowledged (TCP_INFO) */
  gchar *user, *address;
  gchar *token;                 /* the session's, when opened by its cookie */
  TcdLevel level;
  guint64 handed;               /* bytes given to the connection */
  guint64 acked0;               /* the peer's acknowledged bytes at the upgrade */
  gint64 window_start;          /* monotonic us: the second the messages are counted in */
  guint window_count;
  gint64 last_seen;             /* monotonic us of the last message or pong to our ping */
  gint64 upgraded_at;           /* monotonic us */
  guint pongs;                  /* pongs counted (at most one per ping sent) */
  guint64 last_acked;           /* what the peer had acknowledged at the last watch */
  gint64 progress_at;           /* monotonic us it last grew */
  guint rate;                   /* radiometric frames a second (0: off) */
  gboolean radio_first;         /* the next tick sends, whatever its phase */
  GstClockTime radio_pts;       /* of the last one sent */
  WsVideo *video;               /* api-ws-video.c; NULL while stopped */
  gint64 behind_since;          /* monotonic us it began skipping; 0 */
  gboolean closing;
} WsClient;

/* bytes queued for @c and not yet taken by its peer */
guint64  ws_backlog (WsClient *c);
/* sends a binary message: the 16-byte header (@kind, @capture_us) and
 * @payload; @buf holds WS_HEADER bytes of room before @payload */
void     ws_send_binary (WsClient *c, guint8 kind, gint64 capture_us, GByteArray *buf);
void     ws_send_text_node (WsClient *c, JsonNode *node);
/* {"type": "error", "code", "message"}; the socket stays open */
void     ws_send_error (WsClient *c, const gchar *code, const gchar *message);
/* refuses: {"type": "error", "code", "message"} then the close @close_code;
 * logged */
void     ws_refuse (WsClient *c, gushort close_code, const gchar *code, const gchar *fmt, ...)
         G_GNUC_PRINTF (4, 5);
/* a client too far behind: its connection is shut */
void     ws_drop (WsClient *c, const gchar *why);

/* ---- the video (api-ws-video.c) ---- */

/* the "streams" member of hello: {"main": {"width", "height", "fps"}, ...} */
void     ws_video_hello_streams (TcdHttp *h, JsonBuilder *b);
gboolean ws_video_has (TcdHttp *h, const gchar *stream);
/* starts @stream's video for @c (replacing what it had): a "video" text
 * message, the init segment, then a media segment per AU from a key frame */
void     ws_video_play (WsClient *c, const gchar *stream);
void     ws_video_stop (WsClient *c);

G_END_DECLS
