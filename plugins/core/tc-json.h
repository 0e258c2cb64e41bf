/* thermocam: JSON from outside, bounded before it is parsed, and members
 * read only with the type they were checked for
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * json-glib's parser recurses once per nesting level (and its node free and
 * generator do too), so a document of some 75,000 '[' overflows the stack of
 * whoever parses it.  Every document that comes from outside (HTTP bodies,
 * imports, element properties, files, ...) goes through tc_json_parse(),
 * which measures its nesting with a linear scan first and refuses anything
 * deeper than asked.
 *
 * The member accessors return the default when the member is absent *or*
 * of another type: json-glib's own ones log a critical and return NULL/0 on
 * a type they did not expect, which a body such as {"link": 1} reaches.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TC_JSON_ERROR (tc_json_error_quark ())
GQuark tc_json_error_quark (void);

typedef enum {
  TC_JSON_ERROR_SYNTAX,         /* not JSON (json-glib's message) */
  TC_JSON_ERROR_ENCODING,       /* not UTF-8 */
  TC_JSON_ERROR_DEPTH,          /* nested deeper than allowed */
  TC_JSON_ERROR_EMPTY           /* no value at all */
} TcJsonError;

/* nesting enough for every document of the project (the configuration is
 * 6 deep, a rule's points 3) with room to spare */
#define TC_JSON_MAX_DEPTH 32

/* The deepest nesting of arrays and objects in @data (strings skipped); a
 * linear scan that stops as soon as @max_depth is passed (then returns
 * @max_depth + 1) */
guint      tc_json_depth (const gchar *data, gsize len, guint max_depth);

/* @data (@len bytes, or -1 for a NUL-terminated string) parsed when it is
 * UTF-8 and nested at most @max_depth deep (0: TC_JSON_MAX_DEPTH); the root
 * node (owned by the caller) or NULL with @error set */
JsonNode  *tc_json_parse (const gchar *data, gssize len, guint max_depth, GError **error);
/* the same for a file (at most @max_size bytes) */
JsonNode  *tc_json_parse_file (const gchar *path, gsize max_size, guint max_depth,
                               GError **error);

/* Typed members: @def when @o is NULL, the member is absent or it is not of
 * that type.  An integer is a JSON number without a fraction; a double any
 * JSON number. */
const gchar *tc_json_get_string (JsonObject *o, const gchar *name, const gchar *def);
gint64       tc_json_get_int (JsonObject *o, const gchar *name, gint64 def);
gdouble      tc_json_get_double (JsonObject *o, const gchar *name, gdouble def);
gboolean     tc_json_get_bool (JsonObject *o, const gchar *name, gboolean def);
JsonObject  *tc_json_get_object (JsonObject *o, const gchar *name);
JsonArray   *tc_json_get_array (JsonObject *o, const gchar *name);
/* Typed elements: the same for the @index-th element of @a (out of range:
 * the default) */
const gchar *tc_json_array_get_string (JsonArray *a, guint index);
gint64       tc_json_array_get_int (JsonArray *a, guint index, gint64 def);
gdouble      tc_json_array_get_double (JsonArray *a, guint index, gdouble def);
JsonObject  *tc_json_array_get_object (JsonArray *a, guint index);
JsonArray   *tc_json_array_get_array (JsonArray *a, guint index);
/* what the member is: "string", "integer", "number", "boolean", "null",
 * "object", "array", or NULL when absent */
const gchar *tc_json_member_kind (JsonObject *o, const gchar *name);
/* the same for a node */
const gchar *tc_json_node_kind (JsonNode *node);

G_END_DECLS
