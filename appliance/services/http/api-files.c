/* thermocamd: HTTP routes of the stored files: captured pictures, the
 * recording and its recordings
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tcd-http-private.h"

#include "tcd-events.h"
#include "tcd-thumb.h"
#include "tc-json.h"
#include "tcd-json.h"

/* A Range (libsoup answers it from the whole body) is rewritten with its
 * ends inside the file first: libsoup's own answer to a range running past
 * the end (bytes=0-N with N >= the size, which RFC 9110 says is the rest of
 * the file) is a GLib critical, an abort under fatal-criticals. A Range that
 * cannot be satisfied or read is dropped: the whole file is sent, as RFC
 * 9110 allows. */
static void
clamp_ranges (SoupServerMessage *msg, goffset size)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  SoupRange *ranges = NULL;
  int n = 0;
  gboolean ok;

  if (!soup_message_headers_get_one (hdrs, "Range"))
    return;
  ok = size > 0 && soup_message_headers_get_ranges (hdrs, size, &ranges, &n) && n > 0;
  for (int i = 0; ok && i < n; i++) {
    ok = ranges[i].start >= 0 && ranges[i].start < size && ranges[i].start <= ranges[i].end;
    ranges[i].end = MIN (ranges[i].end, size - 1);
  }
  if (ok)
    soup_message_headers_set_ranges (hdrs, ranges, n);
  else
    soup_message_headers_remove (hdrs, "Range");
  if (ranges)
    soup_message_headers_free_ranges (hdrs, ranges);
}

/* a stored file, mapped rather than read */
static void
send_stored (SoupServerMessage *msg, TcdStore *store, const gchar *name)
{
  g_autofree gchar *path = tcd_store_path (store, name);
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree gchar *disp = NULL;
  const gchar *type = g_str_has_suffix (name, ".mp4") ? "video/mp4"
      : g_str_has_suffix (name, ".bmp") ? "image/bmp" : "image/jpeg";

  if (!path || !(map = g_mapped_file_new (path, FALSE, NULL))) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "name", "no file \"%s\"", name);
    return;
  }
  bytes = g_mapped_file_get_bytes (map);
  clamp_ranges (msg, g_bytes_get_size (bytes));
  disp = g_strdup_printf ("attachment; filename=\"%s\"", name);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Content-Disposition", disp);
  soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg), type,
      NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), bytes);
}

static void
captured (GPtrArray *pictures, gpointer user_data)
{
  SoupServerMessage *msg = user_data;
  TcdPicture *first = pictures->len ? g_ptr_array_index (pictures, 0) : NULL;

  if (!first) {
    send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no_frame", NULL,
        "no picture could be taken: the sensor is starting");
  } else if (!first->stored) {
    /* nothing was kept (the store leaves no part of it): no 201 */
    GError *e = first->store_error;
    if (e && g_error_matches (e, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
      send_error (msg, SOUP_STATUS_INSUFFICIENT_STORAGE, "storage_full", NULL,
          "the picture could not be stored: the disk is full (%s)", e->message);
    else
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "storage_error", NULL,
          "the picture could not be stored: %s",
          e ? e->message : "the store is not available");
  } else {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    TcdPicture *p = g_ptr_array_index (pictures, 0);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, p->name);
    json_builder_set_member_name (b, "size");
    json_builder_add_int_value (b, g_bytes_get_size (p->data));
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    send_json (msg, SOUP_STATUS_CREATED, root);
  }
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
list_files (SoupServerMessage *msg, TcdStore *store)
{
  g_autoptr (JsonNode) list = tcd_store_list (store);
  send_json (msg, SOUP_STATUS_OK, list);
}

static void
delete_file (SoupServerMessage *msg, TcdStore *store, const gchar *name)
{
  g_autoptr (GError) err = NULL;

  if (!tcd_store_delete (store, name, &err)) {
    send_gerror (msg, err, "name", NULL);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static TcdStore *
captures (TcdHttp *h)
{
  return tcd_events_get_captures (h->ctx->events);
}

static TcdStore *
recordings (TcdHttp *h)
{
  return tcd_events_get_recordings (h->ctx->events);
}

static void
handle_captures_list (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  list_files (msg, captures (h));
}

static void
handle_capture_get (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  send_stored (msg, captures (h), http_param (req, "name"));
}

/* GET /captures/{name}/thumbnail: the picture at most THUMB_SIDE pixels on
 * its longer side, as a JPEG of a few KB (tcd-thumb.c) */
#define THUMB_SIDE 320

static void
handle_capture_thumbnail (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  const gchar *name = http_param (req, "name");
  g_autofree gchar *path = tcd_store_path (captures (h), name);
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GBytes) thumb = NULL;
  g_autoptr (GError) err = NULL;

  if (!path || !(map = g_mapped_file_new (path, FALSE, NULL))) {
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "name", "no file \"%s\"", name);
    return;
  }
  thumb = tcd_thumbnail ((const guint8 *) g_mapped_file_get_contents (map),
      g_mapped_file_get_length (map), THUMB_SIDE, &err);
  if (!thumb) {
    send_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "unreadable", "name",
        "\"%s\" has no picture that can be shown: %s", name, err->message);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg),
      "image/jpeg", NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), thumb);
}

static void
handle_capture_delete (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  delete_file (msg, captures (h), http_param (req, "name"));
}

/* POST /captures: a manual capture with capture.event's picture settings,
 * or the body's {"format", "resolution", "quality"} */
static void
handle_capture_take (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (JsonNode) body = NULL, picture = NULL;

  picture = tcd_json_deep_copy (tcd_config_node (tcd_config_get (h->ctx->config),
          "capture.event.picture"));
  if (soup_server_message_get_request_body (msg)->length > 0) {
    g_autoptr (JsonNode) merged = NULL, patch = NULL, doc = NULL;
    g_autoptr (GError) err = NULL;
    g_autofree gchar *field = NULL;
    if (!(body = read_body (msg)))
      return;
    /* checked as capture.event.picture would be */
    patch = tc_json_parse ("{\"event\": {}}", -1, 0, NULL);
    json_object_set_member (json_node_get_object (json_object_get_member (
                json_node_get_object (patch), "event")), "picture", json_node_ref (body));
    doc = tcd_config_patched (h->ctx->config, "capture", patch);
    if (!tcd_config_check (h->ctx->config, doc, &field, &err)) {
      send_gerror (msg, err, field, NULL);
      return;
    }
    merged = tcd_json_deep_copy (tcd_config_node (doc, "capture.event.picture"));
    json_node_unref (picture);
    picture = g_steal_pointer (&merged);
  }
  soup_server_message_pause (msg);
  tcd_capture_take (tcd_events_get_capture (h->ctx->events), picture, 1, 0, "manual", TRUE,
      captured, g_object_ref (msg));
}

static void
handle_recordings_list (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  list_files (msg, recordings (h));
}

static void
handle_recording_get (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  send_stored (msg, recordings (h), http_param (req, "name"));
}

static void
handle_recording_delete (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  delete_file (msg, recordings (h), http_param (req, "name"));
}

static void
send_record_status (TcdHttp *h, SoupServerMessage *msg)
{
  g_autoptr (JsonNode) st = tcd_record_status (tcd_events_get_record (h->ctx->events));
  send_json (msg, SOUP_STATUS_OK, st);
}

static void
handle_record_status (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  send_record_status (h, msg);
}

static void
handle_record_start (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  g_autoptr (GError) err = NULL;

  if (!tcd_record_start (tcd_events_get_record (h->ctx->events),
          tcd_config_get (h->ctx->config), &err)) {
    send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "recording_failed", NULL, "%s",
        err->message);
    return;
  }
  tcd_audit (h->ctx->security, "system", who_user (msg), address_of (msg),
      "recording started");
  send_record_status (h, msg);
}

static void
handle_record_stop (TcdHttp *h, SoupServerMessage *msg, TcdHttpRequest *req)
{
  tcd_record_stop (tcd_events_get_record (h->ctx->events));
  tcd_audit (h->ctx->security, "system", who_user (msg), address_of (msg),
      "recording stopped");
  send_record_status (h, msg);
}

const TcdRoute tcd_http_files_routes[] = {
  HTTP_ROUTE_P ("GET", "/captures", TCD_LEVEL_OPERATOR, TCD_PERM_CAPTURE, handle_captures_list),
  HTTP_ROUTE_P ("POST", "/captures", TCD_LEVEL_OPERATOR, TCD_PERM_CAPTURE, handle_capture_take),
  HTTP_ROUTE_P ("GET", "/captures/{name}", TCD_LEVEL_OPERATOR, TCD_PERM_CAPTURE, handle_capture_get),
  HTTP_ROUTE_P ("GET", "/captures/{name}/thumbnail", TCD_LEVEL_OPERATOR, TCD_PERM_CAPTURE, handle_capture_thumbnail),
  HTTP_ROUTE_P ("DELETE", "/captures/{name}", TCD_LEVEL_OPERATOR, TCD_PERM_CAPTURE, handle_capture_delete),
  HTTP_ROUTE_P ("GET", "/recording", TCD_LEVEL_OPERATOR, TCD_PERM_PLAYBACK, handle_record_status),
  HTTP_ROUTE_P ("POST", "/recording/start", TCD_LEVEL_OPERATOR, TCD_PERM_PLAYBACK, handle_record_start),
  HTTP_ROUTE_P ("POST", "/recording/stop", TCD_LEVEL_OPERATOR, TCD_PERM_PLAYBACK, handle_record_stop),
  HTTP_ROUTE_P ("GET", "/recordings", TCD_LEVEL_OPERATOR, TCD_PERM_PLAYBACK, handle_recordings_list),
  HTTP_ROUTE_P ("GET", "/recordings/{name}", TCD_LEVEL_OPERATOR, TCD_PERM_PLAYBACK, handle_recording_get),
  HTTP_ROUTE_P ("DELETE", "/recordings/{name}", TCD_LEVEL_OPERATOR, TCD_PERM_PLAYBACK, handle_recording_delete),
  HTTP_ROUTES_END
};
