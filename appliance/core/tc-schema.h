/* thermocam: JSON Schema (draft 2020-12 subset) validation, defaults and merge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The configuration is one JSON document described by
 * schemas/config.schema.json (DESIGN.md).  This module loads such a schema
 * once (unknown keywords, bad patterns, dangling or circular $ref are refused
 * at load time), validates documents or single sections against it with an
 * error that names the offending field ("rules[1].alarm.pre_alarm"), builds
 * the default document from the "default" keywords, and merges partial
 * updates into a document.
 *
 * Keywords: type, properties, required, additionalProperties, enum, const,
 * minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
 * minLength, maxLength (UTF-8 characters), pattern (GRegex, unanchored),
 * items, prefixItems, minItems, maxItems, uniqueItems, $ref (local JSON
 * pointers: "#", "#/$defs/name", "#/definitions/name", ...), allOf, anyOf,
 * oneOf, not, default, $defs/definitions; boolean schemas (true/false).
 * Annotations are ignored: title, description, $schema, $id, $comment,
 * examples, readOnly, writeOnly, deprecated, format, contentMediaType,
 * contentEncoding and any "x-*".
 *
 * A TcSchema is immutable once created: every function below may be called
 * from several threads at once.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TC_SCHEMA_ERROR (tc_schema_error_quark ())
GQuark tc_schema_error_quark (void);

typedef enum {
  TC_SCHEMA_ERROR_SCHEMA,        /* the schema itself is invalid (load time) */
  TC_SCHEMA_ERROR_TYPE,          /* type (and strings that are not UTF-8) */
  TC_SCHEMA_ERROR_RANGE,         /* minimum, maximum, exclusive*, multipleOf */
  TC_SCHEMA_ERROR_ENUM,          /* enum, const */
  TC_SCHEMA_ERROR_REQUIRED,      /* a required field is missing */
  TC_SCHEMA_ERROR_UNKNOWN_FIELD, /* additionalProperties false, a property whose
                                  * schema is false, an unknown section */
  TC_SCHEMA_ERROR_LENGTH,        /* minLength, maxLength */
  TC_SCHEMA_ERROR_PATTERN,       /* pattern */
  TC_SCHEMA_ERROR_ITEMS,         /* minItems, maxItems, uniqueItems, items: false */
  TC_SCHEMA_ERROR_NOT_ALLOWED,   /* a false schema, not */
  TC_SCHEMA_ERROR_AMBIGUOUS,     /* oneOf: more than one alternative matches */
  TC_SCHEMA_ERROR_TOO_DEEP       /* the instance nests too deeply */
} TcSchemaError;

typedef struct _TcSchema TcSchema;

/* I/O errors are G_FILE_ERROR; a parse error or an invalid schema is
 * TC_SCHEMA_ERROR_SCHEMA, its message naming the schema location as a JSON
 * pointer ("schema #/properties/image: unknown keyword \"enun\""). */
TcSchema *tc_schema_new_from_file (const char *path, GError **error);
/* @root is copied: the caller keeps it. */
TcSchema *tc_schema_new_from_node (JsonNode *root, GError **error);
void      tc_schema_free (TcSchema *s);

/* The sub-schema of a property, or of a dotted path of properties
 * ("thermometry", "rules", "osd.text"), following $ref and allOf; a schema
 * that is only a $ref is resolved to its target.  NULL property = the root.
 * Borrowed (valid as long as @s); NULL if there is no such property. */
JsonNode *tc_schema_get_subschema (TcSchema *s, const char *property);

/* Validates @instance against the whole schema, or against the sub-schema of
 * @section (as tc_schema_get_subschema() finds it) when @section != NULL.
 * On failure returns FALSE, sets *@field_out (if non-NULL, free with g_free)
 * to the path of the offending field ("image.palette",
 * "rules[1].alarm.pre_alarm"; prefixed with @section; "" for the root of a
 * whole document), and @error to "FIELD: what was expected, what was got".
 * For a missing required field the path is the missing field's.  On success
 * *@field_out is set to NULL.  An unknown @section fails with
 * TC_SCHEMA_ERROR_UNKNOWN_FIELD and the section as the field. */
gboolean  tc_schema_validate (TcSchema *s, const char *section, JsonNode *instance,
                              char **field_out, GError **error);

/* A new document built from the "default" keywords.  An object gets every
 * property that has a default, or that is an object whose properties have
 * defaults (recursively, through $ref and allOf); a required property without
 * one is [] for an array and {} for an object.  An explicit object default is
 * merged over the defaults of its properties.  The result for an object
 * schema (or section) is at least {}; NULL when there is nothing to build
 * (a scalar without default, an unknown section).  Free with json_node_unref. */
JsonNode *tc_schema_defaults (TcSchema *s, const char *section);

/* Deep merge: a new node = @base with @patch applied.  Objects merge key by
 * key recursively (base's keys keep their order, new keys are appended);
 * arrays, scalars and null in @patch replace.  Neither input is modified and
 * the result shares nothing with them.  A NULL input yields a deep copy of
 * the other (NULL if both are). */
JsonNode *tc_json_merge (JsonNode *base, JsonNode *patch);

/* Deep equality; numbers compare by value (1 == 1.0), object members in any
 * order.  Two NULL pointers are equal. */
gboolean  tc_json_equal (JsonNode *a, JsonNode *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcSchema, tc_schema_free)

G_END_DECLS
