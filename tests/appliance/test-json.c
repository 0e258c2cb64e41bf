/* how thermocamd writes numbers in JSON (appliance/tcd-json.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "tcd-json.h"

static JsonNode *
parse (const gchar *json)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, json, -1, NULL));
  return json_node_ref (json_parser_get_root (p));
}

static gchar *
generate (JsonNode *n, gboolean pretty)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, n);
  json_generator_set_pretty (gen, pretty);
  return json_generator_to_data (gen, NULL);
}

static void
test_tidy (void)
{
  struct { const gchar *in, *out; } cases[] = {
    /* json-glib's 17 digits, in each quantity's resolution */
    {"{\"emissivity\":0.94999999999999996}", "{\"emissivity\":0.95}"},
    {"{\"emissivity\":0.95123}", "{\"emissivity\":0.951}"},
    {"{\"max\":36.123456,\"min\":-10.004999,\"avg\":20.0}",
     "{\"max\":36.12,\"min\":-10.0,\"avg\":20.0}"},
    {"{\"max_at\":[0.123456789,0.5]}", "{\"max_at\":[0.1235,0.5]}"},
    {"{\"points\":[[0.1234567,0.2],[0.30000000000000004,1.0]]}",
     "{\"points\":[[0.1235,0.2],[0.3,1.0]]}"},
    {"{\"relative_humidity\":0.55555}", "{\"relative_humidity\":0.556}"},
    {"{\"window_temperature\":20.005000000000001}", "{\"window_temperature\":20.01}"},
    {"{\"remaining_s\":1.23456}", "{\"remaining_s\":1.235}"},
    /* not in the table: the shortest that reads back (at most 15 digits) */
    {"{\"cpu_seconds_x\":0.30000000000000004}", "{\"cpu_seconds_x\":0.3}"},
    /* integers, strings (even with numbers and quotes in them), layout */
    {"{\"id\":3,\"name\":\"0.94999999999999996 \\\"max\\\":1.5\",\"rules\":[{\"id\":12,"
      "\"max\":1.0049999999999999}]}",
     "{\"id\":3,\"name\":\"0.94999999999999996 \\\"max\\\":1.5\",\"rules\":[{\"id\":12,"
      "\"max\":1.0}]}"},
    {"{\"alarm\":{\"pre_alarm\":49.990000000000002,\"filter_time\":0},\"at\":[1e-05,0.5]}",
     "{\"alarm\":{\"pre_alarm\":49.99,\"filter_time\":0},\"at\":[0.0,0.5]}"},
    {"[0.10000000000000001,2]", "[0.1,2]"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *got = tcd_json_tidy_numbers (cases[i].in);
    g_assert_cmpstr (got, ==, cases[i].out);
  }
}

/* what json-glib writes, pretty or not, comes out short and reads back */
static void
test_generated (void)
{
  g_autoptr (JsonNode) n = parse ("{\"thermometry\": {\"emissivity\": 0.95, \"distance\": 2.0,"
      " \"relative_humidity\": 0.45}, \"scene\": {\"max\": 36.6, \"max_at\": [0.7, 0.1]}}");

  for (gint pretty = 0; pretty < 2; pretty++) {
    g_autofree gchar *raw = generate (n, pretty);
    g_autofree gchar *tidy = tcd_json_tidy_numbers (raw);
    g_autoptr (JsonNode) back = parse (tidy);
    g_autoptr (GRegex) long_number = g_regex_new ("[0-9]\\.[0-9]{5,}", 0, 0, NULL);

    g_assert_nonnull (strstr (raw, "0.94999999999999996"));   /* why this exists */
    g_assert_false (g_regex_match (long_number, tidy, 0, NULL));
    g_assert_true (json_node_equal (n, back));
  }
}

static void
test_round_tree (void)
{
  g_autoptr (JsonNode) n = parse ("{\"rules\": [{\"id\": 1, \"emissivity\": 0.95123, "
      "\"points\": [[0.123456, 0.5]], \"alarm\": {\"alarm\": 55.555, \"filter_time\": 3}}], "
      "\"other\": 0.123456789}");
  JsonObject *r;

  tcd_json_round_tree (n);
  r = json_array_get_object_element (json_object_get_array_member (json_node_get_object (n),
          "rules"), 0);
  g_assert_cmpfloat (json_object_get_double_member (r, "emissivity"), ==, 0.951);
  g_assert_cmpfloat (json_array_get_double_element (json_array_get_array_element
          (json_object_get_array_member (r, "points"), 0), 0), ==, 0.1235);
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (r, "alarm"),
          "alarm"), ==, 55.56);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (r, "alarm"),
          "filter_time"), ==, 3);
  /* not in the table: as it was */
  g_assert_cmpfloat (json_object_get_double_member (json_node_get_object (n), "other"), ==,
      0.123456789);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json/tidy", test_tidy);
  g_test_add_func ("/json/generated", test_generated);
  g_test_add_func ("/json/round-tree", test_round_tree);
  return g_test_run ();
}
