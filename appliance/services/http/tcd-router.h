/* thermocamd: the HTTP API's route table and its matching (GLib only)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A route is one row {method, pattern, level, handler, permission}.  A pattern is a path
 * of segments, each a literal ("config") or a named one ("{section}") that
 * matches any single segment, the empty one too: "/rules/{id}".  The router
 * knows nothing of HTTP servers or of the daemon: the level and the handler
 * are the caller's (the HTTP service puts a TcdLevel and a TcdHttpHandler
 * there), so that the matching can be tested on its own.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* the caller's handler, whatever its type: cast to this and back */
typedef void (*TcdRouteHandler) (void);

typedef struct {
  const gchar *method;          /* "GET", "PUT", ...; NULL ends a table */
  const gchar *pattern;         /* "/config/{section}" */
  gint level;                   /* who may ask (the caller's scale) */
  TcdRouteHandler handler;      /* the caller's, cast back by it */
  guint permission;             /* what else it needs (the caller's bits; the HTTP
                                 * service's TcdPermission, TCD_ROUTE_UNSET: not said) */
} TcdRoute;

#define TCD_ROUTE_UNSET G_MAXUINT

typedef enum {
  TCD_ROUTE_FOUND,              /* the path and the method */
  TCD_ROUTE_NO_METHOD,          /* the path, not with this method (405) */
  TCD_ROUTE_NO_PATH             /* no route has this path (404) */
} TcdRouteResult;

typedef struct {
  TcdRouteResult result;
  const TcdRoute *route;        /* FOUND: the row; else NULL */
  const gchar *pattern;         /* FOUND, NO_METHOD: the path's pattern; else NULL */
  /* FOUND: the row's level; NO_METHOD: the highest level of the path's rows
   * (a method that is not there is refused to no one who could not use the
   * others); NO_PATH: the router's level for a path it does not know */
  gint level;
  gchar *allow;                 /* NO_METHOD: the path's methods, "GET, PUT" */
  gchar **segments;             /* the path's segments (a trailing slash dropped) */
  guint n_segments;
} TcdRouteMatch;

typedef struct _TcdRouter TcdRouter;

/* @no_route_level: the level asked of a path no route has */
TcdRouter *tcd_router_new (gint no_route_level);
void       tcd_router_free (TcdRouter *r);
/* Adds the rows of @routes up to the one whose method is NULL; the table
 * is not copied (a static array).  A pattern starts with "/". */
void       tcd_router_add (TcdRouter *r, const TcdRoute *routes);
guint      tcd_router_get_size (TcdRouter *r);
/* the @i-th row, in the order added */
const TcdRoute *tcd_router_get (TcdRouter *r, guint i);

/* Matches @method and @path ("/rules/3": the path below the API's prefix;
 * one leading slash is optional).  The path is split at each "/"; one trailing
 * slash is dropped ("/device/" is "/device"), nothing else is cleaned: an
 * empty segment ("//device") is a segment like any other.  Where two
 * patterns match, the one with a literal segment further left wins
 * ("/system/audit-log" before "/system/{what}").  Rows with the same
 * pattern are one path; a method is a case-sensitive name. */
TcdRouteMatch *tcd_router_match (TcdRouter *r, const gchar *method, const gchar *path);
void           tcd_route_match_free (TcdRouteMatch *m);
/* the value of the named segment @name ("id" of "{id}"), or NULL */
const gchar   *tcd_route_match_param (const TcdRouteMatch *m, const gchar *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcdRouter, tcd_router_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcdRouteMatch, tcd_route_match_free)

G_END_DECLS
