/* http.h - polisd's HTTP server: libmicrohttpd on a unix socket.
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION), so that a
 * handler may block: a `wait` until the container exits, an `events`
 * stream, an attach that pumps bytes between the client and the shim.
 * Nothing polls: blocked handlers sleep in poll(2) on the fds that can
 * wake them, including the client's socket (to notice a client that went
 * away) and the server's stop fd (to end streams on shutdown).
 *
 * Every request goes through the route table (router.h): the path's
 * "/vX.Y" prefix is negotiated (1.24 up to API_VERSION_MAX, unversioned
 * paths get the maximum), the body is collected (capped) or spooled to a
 * temporary file for the routes that stream one in, then the handler runs
 * and queues exactly one reply with the api_reply_* functions.  Every
 * response carries Docker's headers (Api-Version, Ostype, Server,
 * Docker-Experimental); errors are Docker's {"message": ...} bodies with a
 * Content-Type of exactly application/json.
 */
#ifndef POLIS_API_HTTP_H
#define POLIS_API_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"

#define API_VERSION_MIN 124  /* 1.24 */
#define API_VERSION_MAX 151  /* 1.51 */
#define API_VERSION_MIN_STR "1.24"
#define API_VERSION_MAX_STR "1.51"

#define API_BODY_MAX (16u << 20)   /* a JSON request body */
#define API_PATH_SEGMENTS_MAX 64   /* path components of a request */
#define API_PARAMS_MAX 2           /* {id}/{name} captures per route */

typedef struct api_server api_server;
typedef struct api_request api_request;
typedef struct api_route api_route;

/* A handler: must queue one reply (api_reply_*); if it returns without
   doing so, the client gets a 500. */
typedef void (*api_handler) (api_request *req);

/* A streamed body: produce the next chunk (*CHUNK on the heap, *LEN > 0 bytes,
   taken over by the server) and return 1; return 0 at the end, -1 to
   abort the connection.  May block. */
typedef int (*api_stream_fn) (void *cls, char **chunk, size_t *len);
typedef void (*api_free_fn) (void *cls);

/* After a 101 upgrade: SOCK is the client's socket (raw bytes both ways),
   EXTRA the bytes the client sent after the request that were already
   read.  Runs in the connection's thread and may block; the socket is
   closed when it returns. */
typedef void (*api_upgrade_fn) (void *cls, int sock, const char *extra,
                                size_t extra_len);

typedef struct
{
  const char *socket_path; /* where to listen */
  const char *tmp_dir;     /* spooled request bodies */
  void *ctx;               /* handlers' context (api_ctx) */
} api_server_opts;

/* Make the unix socket (mode 0660, group "polis" when it exists) and start
   serving.  A socket path that another daemon answers on is an error; a
   stale one is replaced.  Caller stops it with api_server_stop. */
api_server *api_server_start (const api_server_opts *o, polis_error **err);
/* Stop accepting, end every stream, join the connection threads, remove
   the socket.  NULL-safe. */
void api_server_stop (api_server *s);
/* An fd that becomes readable when the server is stopping (for handlers
   that sleep in poll). */
int api_server_stop_fd (api_server *s);

/* Request accessors. */
void *api_ctx (api_request *req);
const char *api_method (api_request *req);
const char *api_path (api_request *req);    /* without the version */
int api_version (api_request *req);         /* 151 for 1.51 */
/* The path parameter of the route ("id", "name"), NULL when none. */
const char *api_param (api_request *req);
const char *api_query (api_request *req, const char *key);
/* Every value of a repeated query KEY (?names=a&names=b); strv, caller
   frees, NULL when none. */
char **api_query_all (api_request *req, const char *key);
/* Docker's booleans: "1", "true", "True" (anything else but "", "0",
   "false" counts as true, as Go's httputils.BoolValue). */
bool api_query_bool (api_request *req, const char *key);
/* An integer query value; DEF when absent.  -1 with *err when it is not a
   number. */
int api_query_int (api_request *req, const char *key, long long def,
                   long long *out, polis_error **err);
const char *api_header (api_request *req, const char *name);
/* The collected body (NUL-terminated), LEN may be NULL. */
const char *api_body (api_request *req, size_t *len);
/* The body parsed as JSON; an empty body is NULL without error (when
   ALLOW_EMPTY), a malformed one an ERROR_INVALID error. New reference. */
json_t *api_body_json (api_request *req, bool allow_empty, polis_error **err);
/* For API_ROUTE_BODY_FILE routes: the spooled body, positioned at 0
   (owned by the request). */
int api_body_fd (api_request *req);
/* The client's socket, to notice a client that went away (POLLRDHUP). */
int api_client_fd (api_request *req);
/* The server (for api_server_stop_fd). */
api_server *api_request_server (api_request *req);

/* Replies. */
void api_reply_json (api_request *req, int status, json_t *body_steal);
void api_reply_raw (api_request *req, int status, const char *content_type,
                    const void *buf, size_t len);
void api_reply_empty (api_request *req, int status);
/* Docker's error body for ERR (status from its class).  ERR is freed. */
void api_reply_error (api_request *req, polis_error **err);
void api_reply_errorf (api_request *req, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* A body of unknown length, sent chunked; headers go out at once. */
void api_reply_stream (api_request *req, int status, const char *content_type,
                       api_stream_fn fn, void *cls, api_free_fn free_fn);
/* Extra response header for the next reply (before api_reply_*). */
void api_reply_header (api_request *req, const char *name, const char *value);
/* 101 and hand the socket to FN. */
void api_reply_upgrade (api_request *req, const char *content_type,
                        api_upgrade_fn fn, void *cls, api_free_fn free_fn);
bool api_replied (api_request *req);

/* True when the client is gone (its socket saw a hang-up). */
bool api_client_gone (api_request *req);

#endif
