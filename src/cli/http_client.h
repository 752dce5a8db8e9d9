/* http_client.h - HTTP/1.1 over a unix socket, by hand, for the CLI.
 *
 * One connection carries one request.  The CLI needs exactly what this
 * offers and little more: a request with a JSON, streamed (chunked) or
 * empty body; the response head as soon as it arrives (docker run sends
 * start only once wait's headers are in); a body read incrementally
 * (Content-Length, chunked, or until close) for logs -f, events and pull
 * progress; and, after a 101, the raw socket for attach and exec.
 * Every buffer filled by the server has a named cap.
 */
#ifndef POLIS_CLI_HTTP_CLIENT_H
#define POLIS_CLI_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* Largest response head (status line and headers) accepted. */
#define HTTP_CLIENT_MAX_HEAD (64 * 1024)

typedef struct http_conn http_conn;

/* Connect to the unix socket PATH.  NULL on error (errno kept in the
   error's code: ENOENT / ECONNREFUSED mean nobody listens). */
http_conn *http_conn_open_unix (const char *path, polis_error **err);

/* Close and free; NULL-safe. */
void http_conn_free (http_conn *c);

static inline void
cleanup_http_conn_fn (http_conn **c)
{
  http_conn_free (*c);
  *c = NULL;
}
#define cleanup_http_conn __attribute__ ((cleanup (cleanup_http_conn_fn)))

/* Send a request.  TARGET is the path with its query.  HEADERS is a
   NULL-terminated list of "Name: value" (may be NULL).  With BODY set,
   LEN bytes are sent with a Content-Length; with CHUNKED, the body
   follows through http_conn_send_chunk / http_conn_end_chunks. */
int http_conn_send_request (http_conn *c, const char *method,
                            const char *target, const char *const *headers,
                            const void *body, size_t len, bool chunked,
                            polis_error **err);
int http_conn_send_chunk (http_conn *c, const void *buf, size_t len,
                          polis_error **err);
int http_conn_end_chunks (http_conn *c, polis_error **err);

/* Write raw bytes on the connection (stdin of a hijacked stream). */
int http_conn_send_raw (http_conn *c, const void *buf, size_t len,
                        polis_error **err);

/* Read the response head; the status is returned (>= 100), or -1. */
int http_conn_read_head (http_conn *c, polis_error **err);

/* The status of the head read, and a header's value (case-insensitive
   name; NULL when absent; lives as long as C). */
int http_conn_status (const http_conn *c);
const char *http_conn_header (const http_conn *c, const char *name);

/* Read up to LEN body bytes; 0 at the end of the body, -1 on error. */
ssize_t http_conn_read_body (http_conn *c, void *buf, size_t len,
                             polis_error **err);

/* The whole body as a NUL-terminated heap string of at most MAX bytes. */
char *http_conn_read_all (http_conn *c, size_t max, size_t *len,
                          polis_error **err);

/* The request target sent ("/v1.51/containers/json"), and the status
   line's reason phrase ("Not Found"). */
const char *http_conn_target (const http_conn *c);
const char *http_conn_reason (const http_conn *c);
/* The socket's path. */
const char *http_conn_sock_hint (const http_conn *c);

/* Make reads non-blocking: a read that would block fails with an error
   whose code is EAGAIN, and leaves the connection as it was, so the same
   call can be made again when poll() says the socket is readable. */
int http_conn_set_nonblocking (http_conn *c, polis_error **err);

/* Bytes read from the socket and not consumed yet (a poll() on the fd
   does not see them). */
size_t http_conn_buffered (const http_conn *c);

/* After a 101: the socket, and the bytes already read past the head
   (copied into BUF, at most LEN; returns how many).  The connection keeps
   owning the fd. */
int http_conn_fd (const http_conn *c);
size_t http_conn_take_buffered (http_conn *c, void *buf, size_t len);

/* Percent-encode S for a query value (Go's url.QueryEscape). */
char *http_query_escape (const char *s);

#endif
