/* thermocamd: ONVIF (SOAP on the HTTP and HTTPS ports), shared between its files
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The handler interface, in short:
 *
 *   A service is one `const OnvifService` (its path "/onvif/NAME_service",
 *   its WSDL namespace and prefix, its version, a table of OnvifOperation
 *   rows {name, access class, handler} ending with ONVIF_OPS_END, and
 *   optionally create/destroy of a state and a writer of its
 *   <prefix:Capabilities> for GetServices).  Each service file exports its
 *   own; the list is onvif_services[] in onvif-soap.c (one line a service).
 *
 *   A request is served by onvif_serve () (onvif-soap.c): the IP filter and
 *   the illegal-login lock; the body bounded (ONVIF_MAX_BODY) before libxml2
 *   sees it, parsed without network, entities, DTD (and refused if it has
 *   one) and its depth bounded (ONVIF_MAX_DEPTH); the SOAP 1.2 (or 1.1)
 *   Envelope/Body checked; the operation (the first element of Body) looked
 *   up by (service path, namespace, local name); then the credentials
 *   (onvif-auth.c: HTTP Digest or WS-UsernameToken, as onvif.authentication
 *   allows) against the operation's access class (ONVIF Core 5.9.4: PRE_AUTH
 *   answers anyone).  Then the handler.
 *
 *   A handler: gboolean handler (OnvifRequest *r).  It reads its arguments
 *   from r->op (the operation element; onvif_child/onvif_child_text/...
 *   look up children by local name in any namespace), the device from
 *   r->ctx (TcdContext: config, change, bus, pipeline, encoders,
 *   commands...), its service's state with onvif_state (r).  It writes its
 *   answer element into r->out with the onvif_open/_close/_text/_textf/_raw
 *   helpers, with the prefixes declared once on the Envelope (ONVIF_NS
 *   below: soap, tds, trt, tr2, tt, ter, tev, wsnt, wsa, wstop, timg, tth,
 *   ttr, tan, tns1, xs, xsi), and returns TRUE.  Or it sets a fault with
 *   onvif_fault (r, sender?, "ter:InvalidArgVal", "ter:NoProfile", ...) and
 *   returns FALSE.  A configuration change goes through
 *   onvif_change (r, section, patch): the change path with origin
 *   {what, ONVIF user, address, "onvif"} (audited there); a refusal is a
 *   ter:InvalidArgVal fault naming the field.
 */
#pragma once

#include <libxml/tree.h>

#include "tcd-http-private.h"

G_BEGIN_DECLS

#define ONVIF_MAX_BODY (64 * 1024)   /* a SOAP request: the biggest real ones are a few KiB */
#define ONVIF_MAX_DEPTH 32           /* elements nested: Envelope/Body/op/... */
#define ONVIF_MAX_NODES 4096         /* elements in all */

#define ONVIF_NS_SOAP "http://www.w3.org/2003/05/soap-envelope"
#define ONVIF_NS_SOAP11 "http://schemas.xmlsoap.org/soap/envelope/"
#define ONVIF_NS_TT "http://www.onvif.org/ver10/schema"
#define ONVIF_NS_TDS "http://www.onvif.org/ver10/device/wsdl"
#define ONVIF_NS_TRT "http://www.onvif.org/ver10/media/wsdl"
#define ONVIF_NS_TR2 "http://www.onvif.org/ver20/media/wsdl"
#define ONVIF_NS_TEV "http://www.onvif.org/ver10/events/wsdl"
#define ONVIF_NS_TIMG "http://www.onvif.org/ver20/imaging/wsdl"
#define ONVIF_NS_TTH "http://www.onvif.org/ver10/thermal/wsdl"
#define ONVIF_NS_TAN "http://www.onvif.org/ver20/analytics/wsdl"
#define ONVIF_NS_TTR "http://www.onvif.org/ver20/analytics/radiometry"
#define ONVIF_NS_TER "http://www.onvif.org/ver10/error"
#define ONVIF_NS_WSSE "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#define ONVIF_NS_WSU "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

/* every prefix an answer may use, declared once on its Envelope */
#define ONVIF_NS \
  " xmlns:soap=\"" ONVIF_NS_SOAP "\"" \
  " xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"" \
  " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"" \
  " xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"" \
  " xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\"" \
  " xmlns:wstop=\"http://docs.oasis-open.org/wsn/t-1\"" \
  " xmlns:tt=\"" ONVIF_NS_TT "\"" \
  " xmlns:ter=\"" ONVIF_NS_TER "\"" \
  " xmlns:tds=\"" ONVIF_NS_TDS "\"" \
  " xmlns:trt=\"" ONVIF_NS_TRT "\"" \
  " xmlns:tr2=\"" ONVIF_NS_TR2 "\"" \
  " xmlns:tev=\"" ONVIF_NS_TEV "\"" \
  " xmlns:timg=\"" ONVIF_NS_TIMG "\"" \
  " xmlns:tth=\"" ONVIF_NS_TTH "\"" \
  " xmlns:tan=\"" ONVIF_NS_TAN "\"" \
  " xmlns:ttr=\"" ONVIF_NS_TTR "\"" \
  " xmlns:tns1=\"http://www.onvif.org/ver10/topics\""

/* ONVIF Core 5.9.4.2: the access class of an operation */
typedef enum {
  ONVIF_PRE_AUTH = 0,
  ONVIF_READ_SYSTEM,
  ONVIF_READ_SYSTEM_SENSITIVE,
  ONVIF_READ_SYSTEM_SECRET,
  ONVIF_WRITE_SYSTEM,
  ONVIF_UNRECOVERABLE,
  ONVIF_READ_MEDIA,
  ONVIF_ACTUATE,
} OnvifClass;

/* ONVIF user levels (tt:UserLevel); NONE: anonymous */
typedef enum {
  ONVIF_LEVEL_NONE = 0,
  ONVIF_LEVEL_USER,
  ONVIF_LEVEL_OPERATOR,
  ONVIF_LEVEL_ADMINISTRATOR,
} OnvifLevel;

typedef struct _Onvif Onvif;
typedef struct _OnvifService OnvifService;

typedef struct {
  TcdHttp *h;
  TcdContext *ctx;
  Onvif *onvif;
  SoupServerMessage *msg;
  const OnvifService *service;
  xmlDocPtr doc;
  xmlNodePtr op;                /* the operation element (first child of Body) */
  const gchar *user;            /* the ONVIF user, NULL: anonymous */
  OnvifLevel level;
  const gchar *address;         /* the peer */
  const gchar *host;            /* how the client reached us: "host:port" of its request */
  gboolean tls;
  GString *out;                 /* the answer: the content of soap:Body */
  /* a fault (onvif_fault) */
  gboolean fault;
  gboolean fault_receiver;      /* env:Receiver, else env:Sender */
  gchar *subcode, *subcode2, *reason;
  guint http_status;            /* 0: by the fault (400 Sender, 500 Receiver) */
  /* the handler paused r->msg (soup_server_message_pause) and answers it
   * later with onvif_send_later/onvif_send_fault_later (PullMessages) */
  gboolean deferred;
} OnvifRequest;

typedef gboolean (*OnvifHandler) (OnvifRequest *r);

typedef struct {
  const gchar *name;            /* "GetDeviceInformation" */
  OnvifClass access;
  OnvifHandler handler;
} OnvifOperation;

#define ONVIF_OP(name, access, handler) { (name), (access), (handler) }
#define ONVIF_OPS_END { NULL, 0, NULL }

struct _OnvifService {
  const gchar *path;            /* "/onvif/device_service" */
  const gchar *ns;              /* its WSDL namespace */
  const gchar *prefix;          /* "tds" (declared in ONVIF_NS) */
  const gchar *ns2;             /* another namespace its operations may be in (NULL; events:
                                 * WS-BaseNotification's Renew, Unsubscribe) */
  guint major, minor;           /* the version GetServices tells */
  const OnvifOperation *ops;    /* ending with ONVIF_OPS_END */
  /* optional: a state made with the HTTP service, and freed with it */
  gpointer (*create) (Onvif *onvif, TcdContext *ctx);
  void     (*destroy) (gpointer state);
  /* optional: writes its <prefix:Capabilities ...> (GetServices) */
  void     (*capabilities) (OnvifRequest *r);
};

/* the services (onvif-soap.c lists them) */
extern const OnvifService onvif_device_service;
extern const OnvifService onvif_media_service;
extern const OnvifService onvif_media2_service;
/* onvif2's (onvif-events.c, onvif-imaging.c, onvif-thermal.c,
 * onvif-analytics.c); no longer weak: from a static library a weak
 * reference does not pull its file in, so they were never linked */
extern const OnvifService onvif_events_service;
extern const OnvifService onvif_imaging_service;
extern const OnvifService onvif_thermal_service;
extern const OnvifService onvif_analytics_service;

/* ---- onvif-soap.c ---- */

Onvif   *onvif_new (TcdHttp *h);
void     onvif_free (Onvif *o);
/* for the diagnostics: requests and faults counted, the services served */
JsonNode *onvif_stats (Onvif *o);
/* answers a request for /onvif/... (root_handler of tcd-http.c) */
void     onvif_serve (TcdHttp *h, SoupServerMessage *msg, const gchar *path,
                      GHashTable *query);
/* the services present, in the list's order (NULL-terminated, static) */
const OnvifService *const *onvif_services (void);
/* a service by namespace, NULL when absent */
const OnvifService *onvif_service_by_ns (const gchar *ns);
/* the state of r's service (its create's), or of another present service */
gpointer onvif_state (OnvifRequest *r);
gpointer onvif_service_state (Onvif *o, const OnvifService *service);
/* "http://HOST:PORT/onvif/NAME_service" as this client reaches us (new) */
gchar   *onvif_xaddr (OnvifRequest *r, const OnvifService *service);
/* the host (without port) the client used, for stream URIs (new) */
gchar   *onvif_request_host (OnvifRequest *r);

/* reading the request: children by local name (any namespace) */
xmlNodePtr   onvif_child (xmlNodePtr parent, const gchar *name);
xmlNodePtr   onvif_next (xmlNodePtr node, const gchar *name);  /* the next sibling so named */
/* the text of a child (trimmed, new), NULL when absent */
gchar       *onvif_child_text (xmlNodePtr parent, const gchar *name);
gchar       *onvif_text (xmlNodePtr node);
/* an attribute by local name (new), NULL when absent */
gchar       *onvif_attr (xmlNodePtr node, const gchar *name);
/* xs:boolean, xs:int, xs:float of a child; FALSE (and a fault InvalidArgVal
 * naming @name) when present and malformed; @found: whether present */
gboolean     onvif_child_bool (OnvifRequest *r, xmlNodePtr parent, const gchar *name,
                               gboolean *value, gboolean *found);
gboolean     onvif_child_int (OnvifRequest *r, xmlNodePtr parent, const gchar *name,
                              gint64 min, gint64 max, gint64 *value, gboolean *found);
gboolean     onvif_child_double (OnvifRequest *r, xmlNodePtr parent, const gchar *name,
                                 gdouble *value, gboolean *found);

/* writing the answer */
void onvif_open (OnvifRequest *r, const gchar *tag);           /* "<tag>" */
void onvif_open_attrs (OnvifRequest *r, const gchar *tag, const gchar *fmt, ...)
    G_GNUC_PRINTF (3, 4);                                      /* "<tag fmt>": fmt is trusted */
void onvif_close (OnvifRequest *r, const gchar *tag);          /* "</tag>" */
void onvif_empty (OnvifRequest *r, const gchar *tag);          /* "<tag/>" */
void onvif_elem (OnvifRequest *r, const gchar *tag, const gchar *text);   /* escaped */
void onvif_elemf (OnvifRequest *r, const gchar *tag, const gchar *fmt, ...)
    G_GNUC_PRINTF (3, 4);                                      /* formatted, then escaped */
void onvif_raw (OnvifRequest *r, const gchar *fmt, ...) G_GNUC_PRINTF (2, 3);   /* trusted */
/* xs:dateTime of a unix time in µs, UTC ("2026-12-03T18:50:12Z") (new) */
gchar *onvif_datetime (gint64 unix_us);
/* xs:duration "PT60S" of seconds, and back (-1: malformed) */
gchar *onvif_duration (gint64 seconds);
gint64 onvif_parse_duration (const gchar *text);

/* faults (SOAP 1.2, ONVIF Core 5.11): @subcode e.g. "ter:InvalidArgVal",
 * @subcode2 may be NULL ("ter:NoProfile"); returns FALSE for `return
 * onvif_fault (...)` */
gboolean onvif_fault (OnvifRequest *r, gboolean receiver, const gchar *subcode,
                      const gchar *subcode2, const gchar *fmt, ...) G_GNUC_PRINTF (5, 6);
#define onvif_invalid_arg(r, subcode2, ...) \
  onvif_fault ((r), FALSE, "ter:InvalidArgVal", (subcode2), __VA_ARGS__)
#define onvif_not_supported(r, ...) \
  onvif_fault ((r), TRUE, "ter:ActionNotSupported", NULL, __VA_ARGS__)
/* a refusal of the change path (or any GError) as a fault: InvalidArgVal
 * (ter:ConfigModify) naming the field */
gboolean onvif_fault_gerror (OnvifRequest *r, const GError *error);

/* a new empty JSON object node (a patch to fill) */
JsonNode *onvif_object_new (void);
/* a patch of @section through the change path (taken): the origin is the
 * ONVIF user at the peer's address; FALSE with the fault set */
gboolean onvif_change (OnvifRequest *r, const gchar *section, JsonNode *patch);
/* the same with a whole new document (taken) */
gboolean onvif_change_doc (OnvifRequest *r, JsonNode *doc, const gchar *what);

/* a deferred answer (OnvifRequest.deferred): a 200 SOAP answer of @body
 * (the content of soap:Body), or a fault; @msg is unpaused */
void onvif_send_later (SoupServerMessage *msg, const gchar *body);
void onvif_send_fault_later (SoupServerMessage *msg, gboolean receiver, const gchar *subcode,
                             const gchar *subcode2, const gchar *reason);

/* ---- onvif-auth.c ---- */

typedef struct _OnvifAuth OnvifAuth;

OnvifAuth  *onvif_auth_new (TcdHttp *h);
void        onvif_auth_free (OnvifAuth *a);
/* who asks: TRUE with r->user and r->level set (anonymous: NULL and NONE)
 * when the credentials given are good or there are none; FALSE with the
 * fault (or the 401 challenge) set when they are wrong.  @needed: the
 * class of the operation asked */
gboolean    onvif_authenticate (OnvifAuth *a, OnvifRequest *r, xmlNodePtr header,
                                OnvifClass needed);
/* whether @level may call an operation of @access (ONVIF Core 5.9.4.3) */
gboolean    onvif_level_allows (OnvifLevel level, OnvifClass access);
const gchar *onvif_level_name (OnvifLevel level);       /* "Administrator" */
OnvifLevel  onvif_level_parse (const gchar *name);      /* NONE when unknown */
/* the ONVIF users: their names and levels, in the configuration's order */
guint       onvif_users_count (TcdContext *ctx);

/* ---- onvif-media.c: GET /onvif/snapshot (authenticated): a JPEG, answered
 * later (the message is paused); FALSE with the fault set ---- */

gboolean    onvif_snapshot (OnvifRequest *r, GHashTable *query);

/* ---- onvif-users.c: the device service's user operations ---- */

gboolean    onvif_get_users (OnvifRequest *r);
gboolean    onvif_create_users (OnvifRequest *r);
gboolean    onvif_delete_users (OnvifRequest *r);
gboolean    onvif_set_user (OnvifRequest *r);

G_END_DECLS
