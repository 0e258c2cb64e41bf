/* thermocam: unit tests of bounded JSON parsing and the typed accessors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <string.h>

#include "tc-json.h"
#include "tc-rules-json.h"
#include "tc-calib-json.h"

static gchar *
nested (guint depth, const gchar *open, const gchar *close)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < depth; i++)
    g_string_append (s, open);
  for (guint i = 0; i < depth; i++)
    g_string_append (s, close);
  return g_string_free (s, FALSE);
}

static void
test_depth (void)
{
  g_assert_cmpuint (tc_json_depth ("1", 1, 32), ==, 0);
  g_assert_cmpuint (tc_json_depth ("[[1],{\"a\":[2]}]", 15, 32), ==, 3);
  /* brackets in strings, escaped quotes, escaped backslashes */
  g_assert_cmpuint (tc_json_depth ("[\"[[[{{{\"]", 10, 32), ==, 1);
  g_assert_cmpuint (tc_json_depth ("[\"\\\"[[[\"]", 9, 32), ==, 1);
  g_assert_cmpuint (tc_json_depth ("[\"\\\\\",[[]]]", 12, 32), ==, 3);
  /* closing more than opened does not wrap */
  g_assert_cmpuint (tc_json_depth ("]]]][", 5, 32), ==, 1);
  /* stops as soon as it passes the bound */
  g_assert_cmpuint (tc_json_depth ("[[[[[[", 6, 3), ==, 4);
}

static void
test_parse_bounds (void)
{
  g_autoptr (GError) err = NULL;
  /* the document that overflowed json-glib's stack: 75,000 '[' */
  g_autofree gchar *deep = nested (75000, "[", "]");
  g_autofree gchar *deep_obj = nested (40, "{\"a\":", "}");
  g_autofree gchar *ok32 = nested (32, "[", "]");
  g_autofree gchar *bad33 = nested (33, "[", "]");
  JsonNode *n;

  n = tc_json_parse (deep, -1, 0, &err);
  g_assert_null (n);
  g_assert_error (err, TC_JSON_ERROR, TC_JSON_ERROR_DEPTH);
  g_clear_error (&err);
  g_assert_null (tc_json_parse (deep_obj, -1, 0, &err));
  g_assert_error (err, TC_JSON_ERROR, TC_JSON_ERROR_DEPTH);
  g_clear_error (&err);
  n = tc_json_parse (ok32, -1, 0, &err);
  g_assert_no_error (err);
  json_node_unref (n);
  g_assert_null (tc_json_parse (bad33, -1, 0, &err));
  g_assert_error (err, TC_JSON_ERROR, TC_JSON_ERROR_DEPTH);
  g_clear_error (&err);
  g_assert_null (tc_json_parse ("{\"a\": \"\xff\"}", -1, 0, &err));
  g_assert_error (err, TC_JSON_ERROR, TC_JSON_ERROR_ENCODING);
  g_clear_error (&err);
  g_assert_null (tc_json_parse ("{\"a\":", -1, 0, &err));
  g_assert_error (err, TC_JSON_ERROR, TC_JSON_ERROR_SYNTAX);
  g_clear_error (&err);
  g_assert_null (tc_json_parse ("   ", -1, 0, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);
  /* json-glib takes a stream of containers as its first: not here */
  g_assert_null (tc_json_parse ("{} {}", -1, 0, &err));
  g_assert_error (err, TC_JSON_ERROR, TC_JSON_ERROR_SYNTAX);
  g_clear_error (&err);
  g_assert_null (tc_json_parse ("[1]\n[2]", -1, 0, &err));
  g_assert_error (err, TC_JSON_ERROR, TC_JSON_ERROR_SYNTAX);
  g_clear_error (&err);
  n = tc_json_parse (" [\"] [\"] ", -1, 0, &err);
  g_assert_no_error (err);
  json_node_unref (n);
  /* an integer beyond 64 bits: json-glib reads -1 */
  g_assert_null (tc_json_parse ("{\"t\": 99999999999999999999}", -1, 0, &err));
  g_assert_error (err, TC_JSON_ERROR, TC_JSON_ERROR_SYNTAX);
  g_clear_error (&err);
  g_assert_null (tc_json_parse ("[-9223372036854775809]", -1, 0, &err));
  g_assert_error (err, TC_JSON_ERROR, TC_JSON_ERROR_SYNTAX);
  g_clear_error (&err);
  n = tc_json_parse ("[123456789012345678, 1.2345678901234567890123, 1e300, -0.5E-7, "
      "\"12345678901234567890\"]", -1, 0, &err);
  g_assert_no_error (err);
  json_node_unref (n);
  /* a member named twice means one thing to json-glib, another elsewhere */
  g_assert_null (tc_json_parse ("{\"a\": 1, \"b\": {\"a\": 2}, \"a\": 3}", -1, 0, &err));
  g_assert_error (err, TC_JSON_ERROR, TC_JSON_ERROR_SYNTAX);
  g_clear_error (&err);
  n = tc_json_parse ("{\"a\": 1, \"b\": {\"a\": 2}, \"c\": [{\"a\": 1}, {\"a\": \"a:\"}]}",
      -1, 0, &err);
  g_assert_no_error (err);
  json_node_unref (n);
  /* a length shorter than the string: only that much is read */
  n = tc_json_parse ("[1]garbage", 3, 0, &err);
  g_assert_no_error (err);
  json_node_unref (n);
}

/* the element properties and calibration files go through it too */
static void
test_parse_users (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *deep = nested (75000, "[", "]");
  TcRuleDef *rules = NULL;
  guint n_rules = 0;
  TcCalibration cal;
  TcObjectParams obj;
  gboolean has_obj;

  g_assert_false (tc_rules_parse_json (deep, &rules, &n_rules, &err));
  g_assert_error (err, TC_RULES_ERROR, TC_RULES_ERROR_PARSE);
  g_clear_error (&err);
  g_assert_false (tc_calibration_parse_json (deep, -1, &cal, &obj, &has_obj, &err));
  g_assert_error (err, TC_CALIB_ERROR, TC_CALIB_ERROR_PARSE);
}

static void
test_typed (void)
{
  g_autoptr (JsonNode) n = tc_json_parse ("{\"s\": \"x\", \"i\": 3, \"d\": 2.5, \"b\": true, "
      "\"o\": {}, \"a\": [1, \"two\", {}, [], 4.5], \"z\": null}", -1, 0, NULL);
  JsonObject *o = json_node_get_object (n);
  JsonArray *a = tc_json_get_array (o, "a");

  g_assert_cmpstr (tc_json_get_string (o, "s", NULL), ==, "x");
  g_assert_null (tc_json_get_string (o, "i", NULL));
  g_assert_cmpstr (tc_json_get_string (o, "o", "def"), ==, "def");
  g_assert_cmpstr (tc_json_get_string (o, "missing", "def"), ==, "def");
  g_assert_cmpstr (tc_json_get_string (NULL, "s", "def"), ==, "def");
  g_assert_cmpint (tc_json_get_int (o, "i", -1), ==, 3);
  g_assert_cmpint (tc_json_get_int (o, "d", -1), ==, -1);     /* not an integer */
  g_assert_cmpint (tc_json_get_int (o, "s", -1), ==, -1);
  g_assert_cmpfloat (tc_json_get_double (o, "d", 0), ==, 2.5);
  g_assert_cmpfloat (tc_json_get_double (o, "i", 0), ==, 3.0);
  g_assert_cmpfloat (tc_json_get_double (o, "b", -1), ==, -1);
  g_assert_true (tc_json_get_bool (o, "b", FALSE));
  g_assert_false (tc_json_get_bool (o, "i", FALSE));
  g_assert_nonnull (tc_json_get_object (o, "o"));
  g_assert_null (tc_json_get_object (o, "a"));
  g_assert_null (tc_json_get_array (o, "o"));
  g_assert_null (tc_json_get_object (o, "z"));
  g_assert_nonnull (a);
  g_assert_cmpint (tc_json_array_get_int (a, 0, -1), ==, 1);
  g_assert_cmpint (tc_json_array_get_int (a, 1, -1), ==, -1);
  g_assert_cmpstr (tc_json_array_get_string (a, 1), ==, "two");
  g_assert_null (tc_json_array_get_string (a, 0));
  g_assert_nonnull (tc_json_array_get_object (a, 2));
  g_assert_null (tc_json_array_get_object (a, 3));
  g_assert_nonnull (tc_json_array_get_array (a, 3));
  g_assert_cmpfloat (tc_json_array_get_double (a, 4, 0), ==, 4.5);
  g_assert_cmpfloat (tc_json_array_get_double (a, 99, -1), ==, -1);   /* out of range */
  g_assert_null (tc_json_array_get_object (NULL, 0));
  g_assert_cmpstr (tc_json_member_kind (o, "s"), ==, "string");
  g_assert_cmpstr (tc_json_member_kind (o, "i"), ==, "integer");
  g_assert_cmpstr (tc_json_member_kind (o, "d"), ==, "number");
  g_assert_cmpstr (tc_json_member_kind (o, "z"), ==, "null");
  g_assert_null (tc_json_member_kind (o, "missing"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json/depth", test_depth);
  g_test_add_func ("/json/parse-bounds", test_parse_bounds);
  g_test_add_func ("/json/parse-users", test_parse_users);
  g_test_add_func ("/json/typed", test_typed);
  return g_test_run ();
}
