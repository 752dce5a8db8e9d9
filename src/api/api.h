/* api.h - the Docker-compatible handlers of polisd's API.
 *
 * Each handler reads its request (http.h accessors), calls the engine and
 * queues one reply.  They are listed, with their compatibility notes, in
 * the route table (routes.c).
 */
#ifndef POLIS_API_API_H
#define POLIS_API_API_H

#include <stdint.h>

#include "base/pjson.h"
#include "engine/engine.h"
#include "http.h"

/* What every handler gets from api_ctx(). */
typedef struct
{
  engine *eng;
  const char *root;
  const char *image_tool; /* polis-image */
  int64_t started_ns;
  char **insecure_registries;
  char **registry_mirrors;
} api_context;

static inline api_context *
api_context_of (api_request *req)
{
  return (api_context *) api_ctx (req);
}

/* A time query parameter as Docker's clients send it ("1700000000",
   "1700000000.123456789" or RFC 3339), in nanoseconds since the epoch;
   ABSENT when it is missing or empty. */
int64_t api_query_time (api_request *req, const char *name, int64_t absent);

/* Parse the `filters` query parameter (JSON).  *OUT is NULL when absent.
   An invalid one gets the 400 reply and returns -1. */
int api_filters (api_request *req, json_t **out);

/* The container named by the route's {id}, or a 404 reply and NULL. */
container *api_container (api_request *req);

/* J as one line of a JSON stream (ending in a newline), into CHUNK and
   LEN; returns 1 (the api_stream_fn convention).  J is not consumed. */
int api_json_chunk (const json_t *j, char **chunk, size_t *len);

/* Standard base64 (OpenSSL's; the image library's auth.c has the same
   for registries, but brings libcurl along).  Caller frees; decode
   accepts unpadded input and returns NULL on garbage or above MAX. */
char *api_base64_encode (const void *buf, size_t len);
char *api_base64_decode (const char *s, size_t max, size_t *len);

/* Write all of BUF to FD; false when the peer is gone. */
bool api_write_all (int fd, const void *buf, size_t len);

/* system */
void api_ping (api_request *req);
void api_version_handler (api_request *req);
void api_info (api_request *req);
void api_events (api_request *req);
void api_system_df (api_request *req);

/* volumes */
void api_volume_list (api_request *req);
void api_volume_create (api_request *req);
void api_volume_inspect (api_request *req);
void api_volume_remove (api_request *req);
void api_volume_prune (api_request *req);

/* containers */
void api_container_create (api_request *req);
void api_container_list (api_request *req);
void api_container_inspect (api_request *req);
void api_container_start (api_request *req);
void api_container_stop (api_request *req);
void api_container_restart (api_request *req);
void api_container_kill (api_request *req);
void api_container_pause (api_request *req);
void api_container_unpause (api_request *req);
void api_container_wait (api_request *req);
void api_container_remove (api_request *req);
void api_container_rename (api_request *req);
void api_container_update (api_request *req);
void api_container_resize (api_request *req);
void api_container_top (api_request *req);
void api_container_prune (api_request *req);
void api_container_stats (api_request *req);
void api_container_logs (api_request *req);
void api_container_attach (api_request *req);

/* exec */
void api_exec_create (api_request *req);
void api_exec_start (api_request *req);
void api_exec_inspect (api_request *req);
void api_exec_resize (api_request *req);

/* files */
void api_archive_head (api_request *req);
void api_archive_get (api_request *req);
void api_archive_put (api_request *req);
void api_container_export (api_request *req);

/* images */
void api_image_list (api_request *req);
void api_image_create (api_request *req);
void api_image_inspect (api_request *req);
void api_image_history (api_request *req);
void api_image_tag (api_request *req);
void api_image_remove (api_request *req);
void api_image_push (api_request *req);
void api_image_get (api_request *req);
void api_image_get_all (api_request *req);
void api_image_load (api_request *req);
void api_image_prune (api_request *req);

/* networks */
void api_network_list (api_request *req);
void api_network_inspect (api_request *req);
void api_network_create (api_request *req);
void api_network_remove (api_request *req);
void api_network_prune (api_request *req);
void api_network_connect (api_request *req);
void api_network_disconnect (api_request *req);

#endif
