/* thermocam: unit tests of the configuration schema validator, defaults and merge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The JSON texts below use ' for " to stay readable; parse() swaps them.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "tc-schema.h"

/* every keyword, in the shape of the appliance's configuration */
static const char *config_schema =
  "{'$schema': 'https://json-schema.org/draft/2020-12/schema',"
  " '$id': 'https://thermocam.example/config.schema.json',"
  " '$comment': 'test schema',"
  " 'title': 'thermocam configuration',"
  " 'description': 'the whole document',"
  " 'type': 'object',"
  " 'additionalProperties': false,"
  " 'required': ['version'],"
  " 'properties': {"
  "  'version': {'const': 1, 'default': 1, 'readOnly': true},"
  "  'image': {'type': 'object', 'default': {'palette': 'white_hot'},"
  "   'properties': {"
  "    'palette': {'enum': ['white_hot', 'black_hot', 'iron', 'rainbow'], 'default': 'iron',"
  "                'examples': ['iron'], 'x-ui': {'widget': 'select'}},"
  "    'brightness': {'type': 'integer', 'minimum': 0, 'maximum': 100, 'default': 50},"
  "    'contrast': {'type': 'number', 'exclusiveMinimum': 0, 'exclusiveMaximum': 10, 'default': 1.0},"
  "    'zoom': {'type': 'number', 'multipleOf': 0.1, 'minimum': 1, 'default': 1},"
  "    'mirror': {'type': 'boolean', 'default': false}}},"
  "  'thermometry': {'type': 'object', 'additionalProperties': false,"
  "   'properties': {"
  "    'emissivity': {'type': 'number', 'exclusiveMinimum': 0, 'maximum': 1, 'default': 0.95},"
  "    'distance': {'type': 'number', 'minimum': 0, 'default': 2.0},"
  "    'unit': {'type': 'string', 'enum': ['celsius', 'fahrenheit', 'kelvin'], 'default': 'celsius'},"
  "    'range': {'type': 'array', 'prefixItems': [{'type': 'number'}, {'type': 'number'}],"
  "              'items': false, 'default': [-20, 150]}}},"
  "  'osd': {'type': 'object', 'additionalProperties': false,"
  "   'properties': {"
  "    'text': {'type': 'string', 'minLength': 1, 'maxLength': 8, 'default': 'cam'},"
  "    'date_format': {'type': 'string', 'pattern': '[YMD]{2}', 'default': 'YYYY-MM-DD'},"
  "    'color': {'type': 'string', 'pattern': '^#[0-9a-fA-F]{6}$'},"
  "    'opacity': {'type': ['number', 'null'], 'minimum': 0, 'maximum': 1}}},"
  "  'network': {'type': 'object', 'required': ['dns'],"
  "   'additionalProperties': {'type': 'string'},"
  "   'properties': {"
  "    'host': {'default': '192.168.1.64', 'anyOf': ["
  "      {'type': 'string', 'format': 'ipv4', 'pattern': '^[0-9]+([.][0-9]+){3}$'},"
  "      {'type': 'string', 'pattern': '^[a-z][a-z0-9.-]*$'}]},"
  "    'port': {'default': 'auto', 'oneOf': ["
  "      {'type': 'integer', 'minimum': 1, 'maximum': 65535}, {'const': 'auto'}]},"
  "    'dns': {'type': 'array', 'items': {'type': 'string'}, 'uniqueItems': true, 'maxItems': 2}}},"
  "  'rules': {'type': 'array', 'maxItems': 3, 'items': {'$ref': '#/$defs/rule'}, 'default': []},"
  "  'scene': {'$ref': '#/definitions/alarm'},"
  "  'users': {'type': 'array', 'items': {'type': 'object', 'required': ['name'],"
  "   'properties': {"
  "    'name': {'type': 'string', 'not': {'const': 'root'}},"
  "    'password': {'type': 'string', 'writeOnly': true, 'minLength': 8},"
  "    'level': {'enum': ['administrator', 'operator', 'user'], 'default': 'user'}}}}},"
  " '$defs': {"
  "  'coord': {'type': 'number', 'minimum': 0, 'maximum': 1},"
  "  'point': {'type': 'array', 'minItems': 2, 'items': false,"
  "            'prefixItems': [{'$ref': '#/$defs/coord'}, {'$ref': '#/$defs/coord'}]},"
  "  'rule': {'type': 'object', 'required': ['name', 'type', 'points'], 'additionalProperties': false,"
  "   'properties': {"
  "    'id': {'type': 'integer', 'minimum': 1},"
  "    'name': {'type': 'string', 'minLength': 1, 'maxLength': 32},"
  "    'enabled': {'type': 'boolean', 'default': true},"
  "    'type': {'enum': ['point', 'line', 'polygon']},"
  "    'points': {'type': 'array', 'items': {'$ref': '#/$defs/point'}, 'minItems': 1, 'maxItems': 16},"
  "    'alarm': {'$ref': '#/definitions/alarm'}}}},"
  " 'definitions': {"
  "  'alarm': {'type': 'object', 'additionalProperties': false,"
  "   'properties': {"
  "    'enabled': {'type': 'boolean', 'default': false},"
  "    'condition': {'enum': ['above', 'below'], 'default': 'above'},"
  "    'pre_alarm': {'type': 'number', 'multipleOf': 0.1},"
  "    'alarm': {'type': 'number', 'multipleOf': 0.1},"
  "    'filter_time': {'type': 'integer', 'minimum': 0, 'default': 0}}}}}";

/* oneOf / anyOf / allOf / not / boolean schemas / recursion */
static const char *composition_schema =
  "{'type': 'object',"
  " '$defs': {"
  "  'shape': {'oneOf': ["
  "   {'type': 'object', 'required': ['kind', 'r'], 'additionalProperties': false,"
  "    'properties': {'kind': {'const': 'circle'}, 'r': {'type': 'number', 'minimum': 0}}},"
  "   {'type': 'object', 'required': ['kind', 'w', 'h'], 'additionalProperties': false,"
  "    'properties': {'kind': {'const': 'rect'}, 'w': {'type': 'number'},"
  "                   'h': {'type': 'number', 'minimum': 0}}}]},"
  "  'node': {'type': 'object',"
  "   'properties': {'value': {'type': 'integer', 'default': 0},"
  "                  'next': {'$ref': '#/$defs/node'},"
  "                  'children': {'type': 'array', 'items': {'$ref': '#/$defs/node'}}}}},"
  " 'properties': {"
  "  'shape': {'$ref': '#/$defs/shape'},"
  "  'tree': {'$ref': '#/$defs/node'},"
  "  'num': {'oneOf': [{'type': 'number'}, {'type': 'integer'}]},"
  "  'id': {'anyOf': [{'type': 'string'}, {'type': 'integer'}]},"
  "  'level': {'allOf': [{'type': 'integer'}, {'minimum': 1}, {'maximum': 5}]},"
  "  'mixed': {'enum': [1, 'two', null, [3]]},"
  "  'never': false,"
  "  'anything': true,"
  "  'pair': {'type': 'array', 'prefixItems': [{'type': 'string'}, false]}}}";

static JsonNode *
parse (const char *text)
{
  g_autofree char *json = g_strdelimit (g_strdup (text), "'", '"');
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) err = NULL;

  if (!json_parser_load_from_data (p, json, -1, &err))
    g_error ("bad test JSON: %s\n%s", err->message, json);
  return json_parser_steal_root (p);
}

static char *
to_string (JsonNode *n)
{
  return json_to_string (n, FALSE);
}

static TcSchema *
load (const char *text)
{
  g_autoptr (JsonNode) root = parse (text);
  g_autoptr (GError) err = NULL;
  TcSchema *s = tc_schema_new_from_node (root, &err);

  g_assert_no_error (err);
  g_assert_nonnull (s);
  return s;
}

typedef struct {
  const char *section;
  const char *instance;
  const char *field;            /* NULL: the instance is valid */
  TcSchemaError code;
  const char *message;          /* the whole message, or NULL not to check it */
} Case;

static void
run_cases (TcSchema *s, const Case *cases, guint n)
{
  for (guint i = 0; i < n; i++) {
    const Case *c = &cases[i];
    g_autoptr (JsonNode) inst = parse (c->instance);
    g_autoptr (GError) err = NULL;
    static char untouched[] = "untouched";
    char *out = untouched;
    g_autofree char *field = NULL;
    gboolean ok;

    g_test_message ("case %u: %s %s", i, c->section ? c->section : "(all)", c->instance);
    ok = tc_schema_validate (s, c->section, inst, &out, &err);
    g_assert_true (out != untouched);   /* always set: NULL on success */
    field = out;
    if (!c->field) {
      g_assert_no_error (err);
      g_assert_true (ok);
      g_assert_null (field);
      continue;
    }
    g_assert_false (ok);
    g_assert_error (err, TC_SCHEMA_ERROR, (gint) c->code);
    g_assert_cmpstr (field, ==, c->field);
    if (c->message)
      g_assert_cmpstr (err->message, ==, c->message);
    /* without field_out and error too */
    g_assert_false (tc_schema_validate (s, c->section, inst, NULL, NULL));
  }
}

static void
test_validate_config (void)
{
  static const Case cases[] = {
    /* the document and its root */
    { NULL, "{'version': 1}" },
    { NULL, "{'version': 1.0, 'image': {}, 'osd': {}, 'network': {'dns': []}}" },
    { NULL, "{}", "version", TC_SCHEMA_ERROR_REQUIRED, "version: required field missing" },
    { NULL, "{'version': 2}", "version", TC_SCHEMA_ERROR_ENUM, "version: expected 1, got 2" },
    { NULL, "{'version': 1, 'foo': 1}", "foo", TC_SCHEMA_ERROR_UNKNOWN_FIELD, "foo: unknown field" },
    { NULL, "[1]", "", TC_SCHEMA_ERROR_TYPE, "expected an object, got an array" },
    /* enum */
    { NULL, "{'version': 1, 'image': {'palette': 'iron'}}" },
    { NULL, "{'version': 1, 'image': {'palette': 'purple'}}", "image.palette", TC_SCHEMA_ERROR_ENUM,
      "image.palette: \"purple\" is not one of white_hot, black_hot, iron, rainbow" },
    { "image", "{'palette': 3}", "image.palette", TC_SCHEMA_ERROR_ENUM,
      "image.palette: 3 is not one of white_hot, black_hot, iron, rainbow" },
    /* integer, minimum, maximum */
    { "image", "{'brightness': 100}" },
    { "image", "{'brightness': 50.0}" },
    { "image", "{'brightness': 140}", "image.brightness", TC_SCHEMA_ERROR_RANGE,
      "image.brightness: 140 is above the maximum 100" },
    { "image", "{'brightness': -1}", "image.brightness", TC_SCHEMA_ERROR_RANGE,
      "image.brightness: -1 is below the minimum 0" },
    { "image", "{'brightness': 50.5}", "image.brightness", TC_SCHEMA_ERROR_TYPE,
      "image.brightness: expected an integer, got 50.5" },
    { "image", "{'brightness': '50'}", "image.brightness", TC_SCHEMA_ERROR_TYPE,
      "image.brightness: expected an integer, got a string" },
    /* exclusiveMinimum, exclusiveMaximum */
    { "image", "{'contrast': 9.99}" },
    { "image", "{'contrast': 0}", "image.contrast", TC_SCHEMA_ERROR_RANGE,
      "image.contrast: 0 is not above the exclusive minimum 0" },
    { "image", "{'contrast': 10}", "image.contrast", TC_SCHEMA_ERROR_RANGE,
      "image.contrast: 10 is not below the exclusive maximum 10" },
    /* multipleOf, with a tolerance */
    { "image", "{'zoom': 1.3}" },
    { "image", "{'zoom': 7}" },
    { "image", "{'zoom': 1.25}", "image.zoom", TC_SCHEMA_ERROR_RANGE,
      "image.zoom: 1.25 is not a multiple of 0.1" },
    /* boolean */
    { "image", "{'mirror': 1}", "image.mirror", TC_SCHEMA_ERROR_TYPE,
      "image.mirror: expected a boolean, got a number" },
    /* number (an integer is a number), sections */
    { "thermometry", "{'emissivity': 1, 'distance': 0}" },
    { "thermometry", "{'emissivity': 'high'}", "thermometry.emissivity", TC_SCHEMA_ERROR_TYPE,
      "thermometry.emissivity: expected a number, got a string" },
    { "thermometry", "{'emissivity': 0}", "thermometry.emissivity", TC_SCHEMA_ERROR_RANGE, NULL },
    { "thermometry", "{'unit': 'rankine'}", "thermometry.unit", TC_SCHEMA_ERROR_ENUM,
      "thermometry.unit: \"rankine\" is not one of celsius, fahrenheit, kelvin" },
    { "thermometry", "[]", "thermometry", TC_SCHEMA_ERROR_TYPE,
      "thermometry: expected an object, got an array" },
    /* prefixItems with items: false */
    { "thermometry", "{'range': [0, 100]}" },
    { "thermometry", "{'range': [0]}" },
    { "thermometry", "{'range': [1, 2, 3]}", "thermometry.range", TC_SCHEMA_ERROR_ITEMS,
      "thermometry.range: too many items (3, at most 2)" },
    { "thermometry", "{'range': [1, 'a']}", "thermometry.range[1]", TC_SCHEMA_ERROR_TYPE,
      "thermometry.range[1]: expected a number, got a string" },
    /* additionalProperties: false */
    { "osd", "{'foo': 1}", "osd.foo", TC_SCHEMA_ERROR_UNKNOWN_FIELD, "osd.foo: unknown field" },
    { NULL, "{'version': 1, 'osd': {'text': 'x', 'foo': 1}}", "osd.foo",
      TC_SCHEMA_ERROR_UNKNOWN_FIELD, "osd.foo: unknown field" },
    /* minLength, maxLength in characters */
    { "osd", "{'text': '\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9!'}" },      /* 8 characters, 12 bytes */
    { "osd", "{'text': ''}", "osd.text", TC_SCHEMA_ERROR_LENGTH,
      "osd.text: too short (0 characters, at least 1)" },
    { "osd", "{'text': '\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9!!'}", "osd.text",
      TC_SCHEMA_ERROR_LENGTH, "osd.text: too long (9 characters, at most 8)" },
    /* pattern: unanchored, and anchored by the pattern itself */
    { "osd", "{'date_format': 'xxYYxx', 'color': '#A0b1C2'}" },
    { "osd", "{'date_format': 'hh:mm'}", "osd.date_format", TC_SCHEMA_ERROR_PATTERN,
      "osd.date_format: \"hh:mm\" does not match the pattern [YMD]{2}" },
    { "osd", "{'color': '#12345'}", "osd.color", TC_SCHEMA_ERROR_PATTERN, NULL },
    { "osd", "{'color': 'x#123456'}", "osd.color", TC_SCHEMA_ERROR_PATTERN, NULL },
    /* a type array */
    { "osd", "{'opacity': null}" },
    { "osd", "{'opacity': 0.5}" },
    { "osd", "{'opacity': 'x'}", "osd.opacity", TC_SCHEMA_ERROR_TYPE,
      "osd.opacity: expected a number or null, got a string" },
    { "osd", "{'opacity': 2}", "osd.opacity", TC_SCHEMA_ERROR_RANGE, NULL },
    /* anyOf */
    { "network", "{'dns': [], 'host': '10.0.0.1'}" },
    { "network", "{'dns': [], 'host': 'cam-1.local'}" },
    { "network", "{'dns': [], 'host': 'Bad Host'}", "network.host", TC_SCHEMA_ERROR_PATTERN, NULL },
    { "network", "{'dns': [], 'host': 42}", "network.host", TC_SCHEMA_ERROR_TYPE,
      "network.host: expected a string, got a number" },
    /* oneOf with const: the relevant branch is reported */
    { "network", "{'dns': [], 'port': 8080}" },
    { "network", "{'dns': [], 'port': 'auto'}" },
    { "network", "{'dns': [], 'port': 0}", "network.port", TC_SCHEMA_ERROR_RANGE,
      "network.port: 0 is below the minimum 1" },
    { "network", "{'dns': [], 'port': 'manual'}", "network.port", TC_SCHEMA_ERROR_ENUM,
      "network.port: expected \"auto\", got \"manual\"" },
    /* required in a section: the path of the missing field */
    { "network", "{}", "network.dns", TC_SCHEMA_ERROR_REQUIRED,
      "network.dns: required field missing" },
    /* uniqueItems (1 and 1.0 are the same), maxItems */
    { "network", "{'dns': ['a', 'b']}" },
    { "network", "{'dns': ['a', 'a']}", "network.dns[1]", TC_SCHEMA_ERROR_ITEMS,
      "network.dns[1]: duplicate of network.dns[0] (items must be unique)" },
    { "network", "{'dns': ['a', 'b', 'c']}", "network.dns", TC_SCHEMA_ERROR_ITEMS,
      "network.dns: too many items (3, at most 2)" },
    /* additionalProperties as a schema; a key that needs quoting */
    { "network", "{'dns': [], 'location': 'roof'}" },
    { "network", "{'dns': [], 'location': 5}", "network.location", TC_SCHEMA_ERROR_TYPE,
      "network.location: expected a string, got a number" },
    { "network", "{'dns': [], 'a.b': 5}", "network[\"a.b\"]", TC_SCHEMA_ERROR_TYPE, NULL },
    /* items with $ref (#/$defs and #/definitions), nested paths */
    { NULL, "{'version': 1, 'rules': [{'name': 'a', 'type': 'point', 'points': [[0.5, 0.5]]},"
      " {'id': 2, 'name': 'b', 'type': 'line', 'points': [[0, 0], [1, 1]],"
      "  'alarm': {'enabled': true, 'pre_alarm': 50.1, 'alarm': 55}}]}" },
    { "rules", "[{'type': 'point', 'points': [[0.5, 0.5]]}]", "rules[0].name",
      TC_SCHEMA_ERROR_REQUIRED, "rules[0].name: required field missing" },
    { NULL, "{'version': 1, 'rules': [{'name': 'a', 'type': 'point', 'points': [[0.5, 0.5]]},"
      " {'name': 'b', 'type': 'point', 'points': [[0.5, 0.5]], 'alarm': {'pre_alarm': 50.05}}]}",
      "rules[1].alarm.pre_alarm", TC_SCHEMA_ERROR_RANGE,
      "rules[1].alarm.pre_alarm: 50.05 is not a multiple of 0.1" },
    { "rules", "[{'name': 'a', 'type': 'point', 'points': [[0.5, 1.5]]}]", "rules[0].points[0][1]",
      TC_SCHEMA_ERROR_RANGE, "rules[0].points[0][1]: 1.5 is above the maximum 1" },
    { "rules", "[{'name': 'a', 'type': 'point', 'points': [[0.1, 0.2, 0.3]]}]", "rules[0].points[0]",
      TC_SCHEMA_ERROR_ITEMS, "rules[0].points[0]: too many items (3, at most 2)" },
    { "rules", "[{'name': 'a', 'type': 'point', 'points': [[0.1]]}]", "rules[0].points[0]",
      TC_SCHEMA_ERROR_ITEMS, "rules[0].points[0]: too few items (1, at least 2)" },
    { "rules", "[{'name': 'a', 'type': 'point', 'points': []}]", "rules[0].points",
      TC_SCHEMA_ERROR_ITEMS, "rules[0].points: too few items (0, at least 1)" },
    { "rules", "[{'name': 'a', 'type': 'dot', 'points': [[0, 0]]}]", "rules[0].type",
      TC_SCHEMA_ERROR_ENUM, NULL },
    { "rules", "[{'name': 'a', 'type': 'point', 'points': [[0, 0]], 'colour': 'red'}]",
      "rules[0].colour", TC_SCHEMA_ERROR_UNKNOWN_FIELD, "rules[0].colour: unknown field" },
    { "rules", "[{'name': 'a', 'type': 'point', 'points': [[0, 0]], 'alarm': {'bogus': 1}}]",
      "rules[0].alarm.bogus", TC_SCHEMA_ERROR_UNKNOWN_FIELD, NULL },
    { "rules", "[{'name': '', 'type': 'point', 'points': [[0, 0]]}]", "rules[0].name",
      TC_SCHEMA_ERROR_LENGTH, NULL },
    { "rules", "[{'id': 0, 'name': 'a', 'type': 'point', 'points': [[0, 0]]}]", "rules[0].id",
      TC_SCHEMA_ERROR_RANGE, NULL },
    { "rules", "[1, 2, 3, 4]", "rules", TC_SCHEMA_ERROR_ITEMS, "rules: too many items (4, at most 3)" },
    { "rules", "{}", "rules", TC_SCHEMA_ERROR_TYPE, "rules: expected an array, got an object" },
    /* a property through $ref; not */
    { "scene", "{'enabled': true, 'alarm': 60}" },
    { "scene", "{'filter_time': -1}", "scene.filter_time", TC_SCHEMA_ERROR_RANGE, NULL },
    { "users", "[{'name': 'bob', 'password': 'longenough', 'level': 'operator'}]" },
    { "users", "[{'name': 'root'}]", "users[0].name", TC_SCHEMA_ERROR_NOT_ALLOWED,
      "users[0].name: \"root\" is not allowed" },
    { "users", "[{'name': 'bob', 'password': 'short'}]", "users[0].password",
      TC_SCHEMA_ERROR_LENGTH, NULL },
    /* dotted sections */
    { "osd.text", "'abc'" },
    { "osd.text", "'abcdefghi'", "osd.text", TC_SCHEMA_ERROR_LENGTH, NULL },
    /* an unknown section */
    { "nosuch", "{}", "nosuch", TC_SCHEMA_ERROR_UNKNOWN_FIELD, "nosuch: unknown section" },
  };
  g_autoptr (TcSchema) s = load (config_schema);

  run_cases (s, cases, G_N_ELEMENTS (cases));
}

static void
test_validate_composition (void)
{
  static const Case cases[] = {
    { NULL, "{'shape': {'kind': 'circle', 'r': 1}, 'num': 5.5, 'id': 'x', 'level': 3}" },
    { NULL, "{'shape': {'kind': 'rect', 'w': 1, 'h': 2}, 'id': 7, 'anything': [{}]}" },
    /* oneOf: the branch that got deepest, not the one whose discriminator failed */
    { NULL, "{'shape': {'kind': 'rect', 'w': 1, 'h': -1}}", "shape.h", TC_SCHEMA_ERROR_RANGE,
      "shape.h: -1 is below the minimum 0" },
    { NULL, "{'shape': {'kind': 'circle', 'r': 'big'}}", "shape.r", TC_SCHEMA_ERROR_TYPE,
      "shape.r: expected a number, got a string" },
    { NULL, "{'shape': {'kind': 'circle'}}", "shape.r", TC_SCHEMA_ERROR_REQUIRED,
      "shape.r: required field missing" },
    /* every branch wants another type: say so */
    { NULL, "{'shape': 'square'}", "shape", TC_SCHEMA_ERROR_TYPE,
      "shape: expected an object, got a string" },
    { NULL, "{'id': true}", "id", TC_SCHEMA_ERROR_TYPE,
      "id: expected a string or an integer, got a boolean" },
    { NULL, "{'num': 'a'}", "num", TC_SCHEMA_ERROR_TYPE, "num: expected a number, got a string" },
    /* oneOf: more than one matches */
    { NULL, "{'num': 5}", "num", TC_SCHEMA_ERROR_AMBIGUOUS, NULL },
    /* allOf */
    { NULL, "{'level': 0}", "level", TC_SCHEMA_ERROR_RANGE, "level: 0 is below the minimum 1" },
    { NULL, "{'level': 6}", "level", TC_SCHEMA_ERROR_RANGE, "level: 6 is above the maximum 5" },
    { NULL, "{'level': 2.5}", "level", TC_SCHEMA_ERROR_TYPE, NULL },
    /* a recursive $ref */
    { NULL, "{'tree': {'value': 1, 'next': {'value': 2}, 'children': [{'children': [{'value': 3}]}]}}" },
    { NULL, "{'tree': {'value': 1, 'children': [{'value': 2, 'children': [{'value': 'x'}]}]}}",
      "tree.children[0].children[0].value", TC_SCHEMA_ERROR_TYPE, NULL },
    { NULL, "{'tree': {'next': {'next': {'next': {'value': 0.5}}}}}", "tree.next.next.next.value",
      TC_SCHEMA_ERROR_TYPE, NULL },
    /* enum of any JSON values, compared by value */
    { NULL, "{'mixed': 1.0}" },
    { NULL, "{'mixed': null}" },
    { NULL, "{'mixed': [3.0]}" },
    { NULL, "{'mixed': 2}", "mixed", TC_SCHEMA_ERROR_ENUM, "mixed: 2 is not one of 1, \"two\", null, [3]" },
    /* boolean schemas */
    { NULL, "{'never': 1}", "never", TC_SCHEMA_ERROR_UNKNOWN_FIELD, "never: field not allowed" },
    { NULL, "{'pair': ['a']}" },
    { NULL, "{'pair': ['a', 1]}", "pair[1]", TC_SCHEMA_ERROR_NOT_ALLOWED, NULL },
  };
  g_autoptr (TcSchema) s = load (composition_schema);
  g_autoptr (JsonNode) deep = NULL;
  g_autoptr (GError) err = NULL;
  GString *text = g_string_new ("{'tree': ");

  run_cases (s, cases, G_N_ELEMENTS (cases));

  /* an absurdly deep document is refused, not a stack overflow */
  for (guint i = 0; i < 2000; i++)
    g_string_append (text, "{'next': ");
  g_string_append (text, "{}");
  for (guint i = 0; i < 2001; i++)
    g_string_append (text, "}");
  deep = parse (text->str);
  g_string_free (text, TRUE);
  g_assert_false (tc_schema_validate (s, NULL, deep, NULL, &err));
  g_assert_error (err, TC_SCHEMA_ERROR, TC_SCHEMA_ERROR_TOO_DEEP);
}

static void
test_bad_schemas (void)
{
  static const struct {
    const char *schema, *message_part;
  } bad[] = {
    { "{'type': 'object', 'properties': {'a': {'type': 'string', 'maxLenght': 3}}}",
      "schema #/properties/a: unknown keyword \"maxLenght\"" },
    { "{'properties': {'a': {'$ref': '#/$defs/missing'}}}",
      "schema #/properties/a: $ref \"#/$defs/missing\" not found" },
    { "{'definitions': {'x': {}}, 'properties': {'a': {'$ref': '#/definitions/y'}}}", "not found" },
    { "{'properties': {'a': {'enum': [1]}, 'b': {'$ref': '#/properties/a/enum'}}}",
      "does not point to a schema" },
    { "{'properties': {'a': {'$ref': 'other.json#/x'}}}", "only local references" },
    { "{'$defs': {'a': {'$ref': '#/$defs/b'}, 'b': {'allOf': [{'$ref': '#/$defs/a'}]}},"
      " 'properties': {'x': {'$ref': '#/$defs/a'}}}", "circular $ref" },
    { "{'$ref': '#'}", "circular $ref" },
    { "{'pattern': '['}", "schema #: invalid pattern [" },
    { "{'type': 'float'}", "unknown type float" },
    { "{'type': []}", "\"type\" must not be an empty array" },
    { "{'maximum': 5, 'exclusiveMaximum': true}", "\"exclusiveMaximum\" must be a number" },
    { "{'multipleOf': 0}", "\"multipleOf\" must be greater than 0" },
    { "{'minLength': -1}", "\"minLength\" must be a non-negative integer" },
    { "{'maxItems': 1.5}", "\"maxItems\" must be a non-negative integer" },
    { "{'items': [{'type': 'string'}]}", "use \"prefixItems\"" },
    { "{'prefixItems': []}", "\"prefixItems\" must be a non-empty array" },
    { "{'oneOf': {}}", "\"oneOf\" must be a non-empty array" },
    { "{'enum': []}", "\"enum\" must be a non-empty array" },
    { "{'required': 'a'}", "\"required\" must be an array" },
    { "{'uniqueItems': 1}", "\"uniqueItems\" must be a boolean" },
    { "{'properties': {'a': 5}}", "schema #/properties/a: a schema must be an object or a boolean" },
    { "{'properties': {'a~b/c': {'foo': 1}}}", "schema #/properties/a~0b~1c: unknown keyword" },
    { "{'properties': {'a': {'type': 'integer', 'maximum': 10, 'default': 11}}}",
      "schema #/properties/a: the default is invalid: 11 is above the maximum 10" },
    { "{'properties': {'a': {'type': 'object', 'properties': {'b': {'enum': ['x']}},"
      " 'default': {'b': 'y'}}}}", "the default is invalid: b: \"y\" is not one of x" },
    { "[]", "a schema must be an object or a boolean" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (JsonNode) root = parse (bad[i].schema);
    g_autoptr (GError) err = NULL;
    g_autoptr (TcSchema) s = NULL;

    g_test_message ("bad schema %u: %s", i, bad[i].schema);
    s = tc_schema_new_from_node (root, &err);
    g_assert_null (s);
    g_assert_error (err, TC_SCHEMA_ERROR, TC_SCHEMA_ERROR_SCHEMA);
    if (!strstr (err->message, bad[i].message_part))
      g_error ("\"%s\" is not in \"%s\"", bad[i].message_part, err->message);
  }

  /* boolean schemas and a harmless $ref to the root load */
  {
    g_autoptr (TcSchema) t = load ("true");
    g_autoptr (TcSchema) f = load ("false");
    g_autoptr (TcSchema) r = load ("{'properties': {'child': {'$ref': '#'}}}");
    g_autoptr (JsonNode) any = parse ("{'child': {'child': {}}}");

    g_assert_true (tc_schema_validate (t, NULL, any, NULL, NULL));
    g_assert_true (tc_schema_validate (r, NULL, any, NULL, NULL));
    g_assert_false (tc_schema_validate (f, NULL, any, NULL, NULL));
  }
}

static void
test_files (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-schema-XXXXXX", &err);
  g_autofree char *good = NULL, *broken = NULL, *missing = NULL, *text = NULL;
  g_autoptr (TcSchema) s = NULL;
  g_autoptr (JsonNode) inst = parse ("{'version': 1, 'osd': {'bogus': 1}}");
  g_autofree char *field = NULL;

  g_assert_no_error (err);
  good = g_build_filename (dir, "config.schema.json", NULL);
  broken = g_build_filename (dir, "broken.json", NULL);
  missing = g_build_filename (dir, "missing.json", NULL);
  text = g_strdelimit (g_strdup (config_schema), "'", '"');
  g_assert_true (g_file_set_contents (good, text, -1, NULL));
  g_assert_true (g_file_set_contents (broken, "{\"type\": ", -1, NULL));

  s = tc_schema_new_from_file (good, &err);
  g_assert_no_error (err);
  g_assert_nonnull (s);
  g_assert_false (tc_schema_validate (s, NULL, inst, &field, NULL));
  g_assert_cmpstr (field, ==, "osd.bogus");

  g_assert_null (tc_schema_new_from_file (broken, &err));
  g_assert_error (err, TC_SCHEMA_ERROR, TC_SCHEMA_ERROR_SCHEMA);
  g_assert_true (g_str_has_prefix (err->message, broken));
  g_clear_error (&err);

  g_assert_null (tc_schema_new_from_file (missing, &err));
  g_assert_error (err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&err);

  g_assert_true (g_file_set_contents (broken, "{\"enun\": []}", -1, NULL));
  g_assert_null (tc_schema_new_from_file (broken, &err));
  g_assert_error (err, TC_SCHEMA_ERROR, TC_SCHEMA_ERROR_SCHEMA);
  g_assert_true (g_str_has_prefix (err->message, broken));
  g_assert_nonnull (strstr (err->message, "unknown keyword \"enun\""));

  g_unlink (good);
  g_unlink (broken);
  g_rmdir (dir);
}

static void
test_subschema (void)
{
  g_autoptr (TcSchema) s = load (config_schema);
  JsonNode *n;
  JsonObject *o;

  n = tc_schema_get_subschema (s, NULL);
  g_assert_nonnull (n);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (n), "title"), ==,
      "thermocam configuration");

  n = tc_schema_get_subschema (s, "image");
  g_assert_nonnull (n);
  o = json_node_get_object (n);
  g_assert_true (json_object_has_member (json_object_get_object_member (o, "properties"),
          "palette"));

  /* a pure $ref is resolved: scene → #/definitions/alarm */
  n = tc_schema_get_subschema (s, "scene");
  g_assert_nonnull (n);
  o = json_node_get_object (n);
  g_assert_true (json_object_has_member (json_object_get_object_member (o, "properties"),
          "filter_time"));

  n = tc_schema_get_subschema (s, "osd.text");
  g_assert_nonnull (n);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (n), "maxLength"), ==, 8);

  g_assert_null (tc_schema_get_subschema (s, "nosuch"));
  g_assert_null (tc_schema_get_subschema (s, "osd.nosuch"));
  g_assert_null (tc_schema_get_subschema (s, "osd."));
}

static void
assert_json (JsonNode *got, const char *expected)
{
  g_autoptr (JsonNode) want = parse (expected);

  if (!tc_json_equal (got, want)) {
    g_autofree char *g = got ? to_string (got) : g_strdup ("NULL"), *w = to_string (want);
    g_error ("got %s\nexpected %s", g, w);
  }
}

static void
test_defaults (void)
{
  g_autoptr (TcSchema) s = load (config_schema);
  g_autoptr (TcSchema) c = load (composition_schema);
  g_autoptr (JsonNode) all = tc_schema_defaults (s, NULL);
  g_autoptr (JsonNode) image = tc_schema_defaults (s, "image");
  g_autoptr (JsonNode) rules = tc_schema_defaults (s, "rules");
  g_autoptr (JsonNode) scene = tc_schema_defaults (s, "scene");
  g_autoptr (JsonNode) text = tc_schema_defaults (s, "osd.text");
  g_autoptr (JsonNode) tree = tc_schema_defaults (c, "tree");
  g_autoptr (JsonNode) comp = tc_schema_defaults (c, NULL);
  g_autoptr (GError) err = NULL;
  g_autofree char *field = NULL;

  /* nested objects; the explicit image default over its properties';
   * a required array without default is []; users (an array without
   * default, not required) and osd.color/opacity (no default) are absent */
  assert_json (all,
      "{'version': 1,"
      " 'image': {'palette': 'white_hot', 'brightness': 50, 'contrast': 1, 'zoom': 1, 'mirror': false},"
      " 'thermometry': {'emissivity': 0.95, 'distance': 2, 'unit': 'celsius', 'range': [-20, 150]},"
      " 'osd': {'text': 'cam', 'date_format': 'YYYY-MM-DD'},"
      " 'network': {'host': '192.168.1.64', 'port': 'auto', 'dns': []},"
      " 'rules': [],"
      " 'scene': {'enabled': false, 'condition': 'above', 'filter_time': 0}}");
  /* the defaults are a valid document */
  g_assert_true (tc_schema_validate (s, NULL, all, &field, &err));
  g_assert_no_error (err);

  /* the schema's property order is kept */
  {
    g_autoptr (GList) keys = json_object_get_members (json_node_get_object (all));
    g_assert_cmpstr (keys->data, ==, "version");
    g_assert_cmpstr (g_list_last (keys)->data, ==, "scene");
  }

  assert_json (image, "{'palette': 'white_hot', 'brightness': 50, 'contrast': 1.0, 'zoom': 1,"
      " 'mirror': false}");
  assert_json (rules, "[]");
  assert_json (scene, "{'enabled': false, 'condition': 'above', 'filter_time': 0}");
  assert_json (text, "'cam'");
  g_assert_null (tc_schema_defaults (s, "osd.color"));
  g_assert_null (tc_schema_defaults (s, "users"));
  g_assert_null (tc_schema_defaults (s, "nosuch"));
  /* a recursive schema stops at the recursion */
  assert_json (tree, "{'value': 0}");
  assert_json (comp, "{'tree': {'value': 0}}");

  /* an object schema with no defaults at all: {} */
  {
    g_autoptr (TcSchema) e = load ("{'type': 'object', 'properties': {'a': {'type': 'string'}}}");
    g_autoptr (JsonNode) d = tc_schema_defaults (e, NULL);
    assert_json (d, "{}");
  }
}

static void
test_merge (void)
{
  g_autoptr (JsonNode) base = parse (
      "{'image': {'palette': 'iron', 'brightness': 50},"
      " 'thermometry': {'range': [-20, 150, 300], 'emissivity': 0.95},"
      " 'osd': {'color': '#ffffff', 'text': 'cam'},"
      " 'rules': [{'id': 1}, {'id': 2}], 'version': 1}");
  g_autoptr (JsonNode) patch = parse (
      "{'image': {'brightness': 70},"
      " 'thermometry': {'range': [0]},"
      " 'osd': {'color': null},"
      " 'rules': [{'id': 3}],"
      " 'version': {'major': 2},"
      " 'new': {'a': [1]}}");
  g_autofree char *base_before = to_string (base), *patch_before = to_string (patch);
  g_autofree char *base_after = NULL, *patch_after = NULL;
  g_autoptr (JsonNode) merged = tc_json_merge (base, patch);
  JsonObject *image;

  assert_json (merged,
      "{'image': {'palette': 'iron', 'brightness': 70},"
      " 'thermometry': {'range': [0], 'emissivity': 0.95},"
      " 'osd': {'color': null, 'text': 'cam'},"
      " 'rules': [{'id': 3}], 'version': {'major': 2}, 'new': {'a': [1]}}");

  /* base's keys keep their order, new ones are appended */
  {
    g_autoptr (GList) keys = json_object_get_members (json_node_get_object (merged));
    g_assert_cmpstr (keys->data, ==, "image");
    g_assert_cmpstr (g_list_last (keys)->data, ==, "new");
  }

  /* the inputs are untouched, and share nothing with the result */
  image = json_object_get_object_member (json_node_get_object (merged), "image");
  json_object_set_string_member (image, "palette", "rainbow");
  json_array_add_int_element (json_object_get_array_member (
          json_object_get_object_member (json_node_get_object (merged), "new"), "a"), 2);
  json_node_set_string (json_object_get_member (
          json_object_get_object_member (json_node_get_object (merged), "osd"), "text"), "x");
  base_after = to_string (base);
  patch_after = to_string (patch);
  g_assert_cmpstr (base_after, ==, base_before);
  g_assert_cmpstr (patch_after, ==, patch_before);

  /* scalars and objects replace each other; NULL sides copy */
  {
    g_autoptr (JsonNode) a = parse ("{'a': {'b': 1}}");
    g_autoptr (JsonNode) b = parse ("{'a': 5}");
    g_autoptr (JsonNode) ab = tc_json_merge (a, b);
    g_autoptr (JsonNode) ba = tc_json_merge (b, a);
    g_autoptr (JsonNode) arr = parse ("[1, 2]");
    g_autoptr (JsonNode) a_arr = tc_json_merge (a, arr);
    g_autoptr (JsonNode) only_patch = tc_json_merge (NULL, a);
    g_autoptr (JsonNode) only_base = tc_json_merge (a, NULL);

    assert_json (ab, "{'a': 5}");
    assert_json (ba, "{'a': {'b': 1}}");
    assert_json (a_arr, "[1, 2]");
    assert_json (only_patch, "{'a': {'b': 1}}");
    assert_json (only_base, "{'a': {'b': 1}}");
    g_assert_true (only_base != a);
    g_assert_null (tc_json_merge (NULL, NULL));
  }

  /* a section update through defaults + patch, then validated */
  {
    g_autoptr (TcSchema) s = load (config_schema);
    g_autoptr (JsonNode) current = tc_schema_defaults (s, "image");
    g_autoptr (JsonNode) change = parse ("{'brightness': 140}");
    g_autoptr (JsonNode) next = tc_json_merge (current, change);
    g_autoptr (GError) err = NULL;
    g_autofree char *field = NULL;

    g_assert_false (tc_schema_validate (s, "image", next, &field, &err));
    g_assert_cmpstr (field, ==, "image.brightness");
    g_assert_cmpstr (err->message, ==, "image.brightness: 140 is above the maximum 100");
  }
}

static void
test_equal (void)
{
  static const struct {
    const char *a, *b;
    gboolean equal;
  } pairs[] = {
    { "1", "1.0", TRUE },
    { "1", "1.5", FALSE },
    { "-0.0", "0", TRUE },
    { "1", "'1'", FALSE },
    { "true", "true", TRUE },
    { "true", "false", FALSE },
    { "true", "1", FALSE },
    { "null", "null", TRUE },
    { "null", "false", FALSE },
    { "'a'", "'a'", TRUE },
    { "'a'", "'b'", FALSE },
    { "{'a': 1, 'b': [1, 2]}", "{'b': [1, 2.0], 'a': 1.0}", TRUE },
    { "{'a': 1}", "{'a': 1, 'b': 2}", FALSE },
    { "{'a': 1, 'c': 2}", "{'a': 1, 'b': 2}", FALSE },
    { "{'a': null}", "{}", FALSE },
    { "{}", "{}", TRUE },
    { "[1, 2]", "[2, 1]", FALSE },
    { "[1, 2]", "[1, 2, 3]", FALSE },
    { "[]", "{}", FALSE },
    { "[[{'x': [1]}]]", "[[{'x': [1.0]}]]", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++) {
    g_autoptr (JsonNode) a = parse (pairs[i].a);
    g_autoptr (JsonNode) b = parse (pairs[i].b);

    g_test_message ("%s == %s", pairs[i].a, pairs[i].b);
    g_assert_cmpint (tc_json_equal (a, b), ==, pairs[i].equal);
    g_assert_cmpint (tc_json_equal (b, a), ==, pairs[i].equal);
    g_assert_true (tc_json_equal (a, a));
  }
  g_assert_true (tc_json_equal (NULL, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/schema/validate/config", test_validate_config);
  g_test_add_func ("/schema/validate/composition", test_validate_composition);
  g_test_add_func ("/schema/load/bad", test_bad_schemas);
  g_test_add_func ("/schema/load/files", test_files);
  g_test_add_func ("/schema/subschema", test_subschema);
  g_test_add_func ("/schema/defaults", test_defaults);
  g_test_add_func ("/json/merge", test_merge);
  g_test_add_func ("/json/equal", test_equal);
  return g_test_run ();
}
