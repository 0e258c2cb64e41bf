/* the HTTP API's route matching (appliance/services/http/tcd-router.c), in
 * process: named segments, levels, 404, 405 and its Allow list, odd paths
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-router.h"

enum { NONE, USER, OPERATOR, ADMIN };

/* the handlers only need to be told apart */
static void h_list (void) { }
static void h_add (void) { }
static void h_get (void) { }
static void h_put (void) { }
static void h_delete (void) { }
static void h_audit (void) { }
static void h_system (void) { }
static void h_a (void) { }
static void h_b (void) { }
static void h_trigger (void) { }
static void h_session (void) { }

static const TcdRoute users[] = {
  { "GET", "/users", ADMIN, h_list },
  { "POST", "/users", ADMIN, h_add },
  { "GET", "/users/{name}", USER, h_get },
  { "PUT", "/users/{name}", USER, h_put },
  { "DELETE", "/users/{name}", ADMIN, h_delete },
  { NULL }
};

static const TcdRoute others[] = {
  { "GET", "/system/{what}", OPERATOR, h_system },
  { "GET", "/system/audit-log", OPERATOR, h_audit },
  { "GET", "/a/{x}", USER, h_a },
  { "GET", "/{y}/b", USER, h_b },
  { "POST", "/io/outputs/{id}/trigger", OPERATOR, h_trigger },
  { "GET", "/session", USER, h_session },
  { "POST", "/session", NONE, h_session },
  { "DELETE", "/session", USER, h_session },
  { NULL }
};

static TcdRouter *
router (void)
{
  TcdRouter *r = tcd_router_new (OPERATOR);
  tcd_router_add (r, users);
  tcd_router_add (r, others);
  return r;
}

static void
test_table (void)
{
  g_autoptr (TcdRouter) r = router ();

  g_assert_cmpuint (tcd_router_get_size (r), ==, 13);
  g_assert_true (tcd_router_get (r, 0) == &users[0]);
  g_assert_true (tcd_router_get (r, 5) == &others[0]);
  g_assert_true (tcd_router_get (r, 12) == &others[7]);
}

static void
test_found (void)
{
  g_autoptr (TcdRouter) r = router ();
  g_autoptr (TcdRouteMatch) list = tcd_router_match (r, "GET", "/users");
  g_autoptr (TcdRouteMatch) one = tcd_router_match (r, "GET", "/users/op1");
  g_autoptr (TcdRouteMatch) del = tcd_router_match (r, "DELETE", "/users/op1");
  g_autoptr (TcdRouteMatch) trig = tcd_router_match (r, "POST", "/io/outputs/2/trigger");

  g_assert_cmpint (list->result, ==, TCD_ROUTE_FOUND);
  g_assert_true (list->route->handler == h_list);
  g_assert_cmpint (list->level, ==, ADMIN);
  g_assert_null (list->allow);
  g_assert_null (tcd_route_match_param (list, "name"));

  g_assert_cmpint (one->result, ==, TCD_ROUTE_FOUND);
  g_assert_true (one->route->handler == h_get);
  g_assert_cmpint (one->level, ==, USER);
  g_assert_cmpstr (one->pattern, ==, "/users/{name}");
  g_assert_cmpstr (tcd_route_match_param (one, "name"), ==, "op1");
  g_assert_null (tcd_route_match_param (one, "nam"));
  g_assert_null (tcd_route_match_param (one, "users"));

  /* the same path, another method: another level */
  g_assert_cmpint (del->result, ==, TCD_ROUTE_FOUND);
  g_assert_true (del->route->handler == h_delete);
  g_assert_cmpint (del->level, ==, ADMIN);

  g_assert_cmpint (trig->result, ==, TCD_ROUTE_FOUND);
  g_assert_cmpstr (tcd_route_match_param (trig, "id"), ==, "2");
  g_assert_cmpint (trig->level, ==, OPERATOR);
}

static void
test_no_path (void)
{
  g_autoptr (TcdRouter) r = router ();
  const gchar *paths[] = {
    "/nosuch", "/users/op1/more", "/io/outputs/2/pulse", "/io/outputs/2", "//users",
    "/users//x", "/USERS", "/", "", "/a/b/c",
  };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++) {
    g_autoptr (TcdRouteMatch) m = tcd_router_match (r, "GET", paths[i]);
    g_test_message ("%s", paths[i]);
    g_assert_cmpint (m->result, ==, TCD_ROUTE_NO_PATH);
    g_assert_null (m->route);
    g_assert_null (m->pattern);
    g_assert_null (m->allow);
    /* the router's level for what it does not know */
    g_assert_cmpint (m->level, ==, OPERATOR);
  }
  {
    g_autoptr (TcdRouteMatch) root = tcd_router_match (r, "GET", "/");
    g_autoptr (TcdRouteMatch) empty = tcd_router_match (r, "GET", "");
    g_assert_cmpuint (root->n_segments, ==, 0);
    g_assert_cmpuint (empty->n_segments, ==, 0);
  }
}

static void
test_no_method (void)
{
  g_autoptr (TcdRouter) r = router ();
  g_autoptr (TcdRouteMatch) patch = tcd_router_match (r, "PATCH", "/users");
  g_autoptr (TcdRouteMatch) post = tcd_router_match (r, "POST", "/users/op1");
  g_autoptr (TcdRouteMatch) put = tcd_router_match (r, "PUT", "/session");
  g_autoptr (TcdRouteMatch) get = tcd_router_match (r, "GET", "/io/outputs/1/trigger");
  g_autoptr (TcdRouteMatch) lower = tcd_router_match (r, "get", "/users");

  g_assert_cmpint (patch->result, ==, TCD_ROUTE_NO_METHOD);
  g_assert_cmpstr (patch->allow, ==, "GET, POST");
  g_assert_null (patch->route);
  g_assert_cmpstr (patch->pattern, ==, "/users");
  g_assert_cmpint (patch->level, ==, ADMIN);

  /* the methods in the table's order; the level the highest of the path's */
  g_assert_cmpint (post->result, ==, TCD_ROUTE_NO_METHOD);
  g_assert_cmpstr (post->allow, ==, "GET, PUT, DELETE");
  g_assert_cmpint (post->level, ==, ADMIN);
  g_assert_cmpstr (tcd_route_match_param (post, "name"), ==, "op1");

  /* a method of level none does not make the others' none */
  g_assert_cmpint (put->result, ==, TCD_ROUTE_NO_METHOD);
  g_assert_cmpstr (put->allow, ==, "GET, POST, DELETE");
  g_assert_cmpint (put->level, ==, USER);

  g_assert_cmpint (get->result, ==, TCD_ROUTE_NO_METHOD);
  g_assert_cmpstr (get->allow, ==, "POST");

  /* methods are case-sensitive (RFC 9110) */
  g_assert_cmpint (lower->result, ==, TCD_ROUTE_NO_METHOD);
  g_assert_cmpstr (lower->allow, ==, "GET, POST");
}

static void
test_odd_paths (void)
{
  g_autoptr (TcdRouter) r = router ();
  g_autoptr (TcdRouteMatch) slash = tcd_router_match (r, "GET", "/users/");
  g_autoptr (TcdRouteMatch) slash_one = tcd_router_match (r, "GET", "/users/op1/");
  g_autoptr (TcdRouteMatch) empty_name = tcd_router_match (r, "GET", "/users//");
  g_autoptr (TcdRouteMatch) no_lead = tcd_router_match (r, "GET", "users/op1");
  g_autoptr (TcdRouteMatch) encoded = tcd_router_match (r, "GET", "/users/a%2Fb");

  /* one trailing slash is dropped */
  g_assert_cmpint (slash->result, ==, TCD_ROUTE_FOUND);
  g_assert_true (slash->route->handler == h_list);
  g_assert_cmpint (slash_one->result, ==, TCD_ROUTE_FOUND);
  g_assert_cmpstr (tcd_route_match_param (slash_one, "name"), ==, "op1");
  /* a second one is an empty segment, which a named segment takes */
  g_assert_cmpint (empty_name->result, ==, TCD_ROUTE_FOUND);
  g_assert_true (empty_name->route->handler == h_get);
  g_assert_cmpstr (tcd_route_match_param (empty_name, "name"), ==, "");
  /* the leading slash is optional; nothing is decoded */
  g_assert_cmpint (no_lead->result, ==, TCD_ROUTE_FOUND);
  g_assert_cmpstr (tcd_route_match_param (no_lead, "name"), ==, "op1");
  g_assert_cmpint (encoded->result, ==, TCD_ROUTE_FOUND);
  g_assert_cmpstr (tcd_route_match_param (encoded, "name"), ==, "a%2Fb");
}

static void
test_specific (void)
{
  g_autoptr (TcdRouter) r = router ();
  g_autoptr (TcdRouteMatch) audit = tcd_router_match (r, "GET", "/system/audit-log");
  g_autoptr (TcdRouteMatch) other = tcd_router_match (r, "GET", "/system/diagnostics");
  g_autoptr (TcdRouteMatch) ab = tcd_router_match (r, "GET", "/a/b");
  g_autoptr (TcdRouteMatch) cb = tcd_router_match (r, "GET", "/c/b");
  g_autoptr (TcdRouteMatch) audit_post = tcd_router_match (r, "POST", "/system/audit-log");

  /* a literal beats a named segment, though the named one comes first */
  g_assert_true (audit->route->handler == h_audit);
  g_assert_true (other->route->handler == h_system);
  g_assert_cmpstr (tcd_route_match_param (other, "what"), ==, "diagnostics");
  /* both fit: the literal further left wins */
  g_assert_true (ab->route->handler == h_a);
  g_assert_cmpstr (tcd_route_match_param (ab, "x"), ==, "b");
  g_assert_true (cb->route->handler == h_b);
  g_assert_cmpstr (tcd_route_match_param (cb, "y"), ==, "c");
  /* the path is the most specific pattern's: its methods only */
  g_assert_cmpint (audit_post->result, ==, TCD_ROUTE_NO_METHOD);
  g_assert_cmpstr (audit_post->allow, ==, "GET");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/router/table", test_table);
  g_test_add_func ("/router/found", test_found);
  g_test_add_func ("/router/no-path", test_no_path);
  g_test_add_func ("/router/no-method", test_no_method);
  g_test_add_func ("/router/odd-paths", test_odd_paths);
  g_test_add_func ("/router/specific", test_specific);
  return g_test_run ();
}
