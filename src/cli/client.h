/* client.h - the CLI's client of the Docker Engine API.
 *
 * Resolves the daemon's address (-H, DOCKER_HOST, /run/polis/polis.sock),
 * negotiates the API version as the docker CLI does (HEAD /_ping, then
 * min(server's Api-Version, 1.51)), starts polisd when nobody answers on
 * the default kind of socket, and turns error responses into errors that
 * read as Docker's ("Error response from daemon: No such container: x")
 * with the class of their HTTP status.
 */
#ifndef POLIS_CLI_CLIENT_H
#define POLIS_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"
#include "cli/http_client.h"

#define CLIENT_DEFAULT_HOST "unix:///run/polis/polis.sock"
#define CLIENT_API_VERSION "1.51"
/* Largest JSON response the CLI reads whole. */
#define CLIENT_MAX_JSON (64 * 1024 * 1024)

typedef struct api_client
{
  char *host;      /* as given: unix:///path */
  char *sock_path; /* /path */
  char version[16]; /* negotiated, "1.51" */
  bool negotiated;
  bool fixed_version; /* DOCKER_API_VERSION */
  char *ostype;
  char *root; /* --root handed to an auto-started polisd, or NULL */
  bool autostart_tried;
} api_client;

/* A client for HOST (NULL: $DOCKER_HOST, else the default).  NULL with an
   error for an address that is not unix://. */
api_client *client_new (const char *host, polis_error **err);
void client_free (api_client *c);

static inline void
cleanup_client_fn (api_client **c)
{
  client_free (*c);
  *c = NULL;
}
#define cleanup_client __attribute__ ((cleanup (cleanup_client_fn)))

/* Ping and negotiate once (later calls return at once).  Starts polisd
   when the socket does not answer and polisd sits beside this program. */
int client_negotiate (api_client *c, polis_error **err);

/* True when the negotiated version is at least MAJOR.MINOR. */
bool client_version_at_least (api_client *c, int major, int minor);

/* Send METHOD PATH (with its query; the /vX.Y prefix is added) with an
   optional JSON BODY and extra HEADERS, and read the response head.
   Error statuses are NOT turned into errors here (see client_check). */
http_conn *client_send (api_client *c, const char *method, const char *path,
                        const json_t *body, const char *const *headers,
                        polis_error **err);

/* Send a bodiless request and return without waiting for the response:
   the caller reads the head (http_conn_read_head) when it wants it, so
   that several requests can be in flight (stats of many containers). */
http_conn *client_send_only (api_client *c, const char *method,
                             const char *path, polis_error **err);

/* Like client_send, but the body is streamed chunked from FD; *SENT (when
   not NULL) gets the number of body bytes. */
http_conn *client_send_fd (api_client *c, const char *method,
                           const char *path, int fd,
                           const char *const *headers, size_t *sent,
                           polis_error **err);

/* If CONN's status is >= 400, read its body and fail with the daemon's
   message ("Error response from daemon: ..."), classed by status. */
int client_check (http_conn *conn, polis_error **err);

/* One whole exchange: send, check, and parse a JSON body into *OUT when
   OUT is not NULL (NULL for an empty body).  Returns the status or -1. */
int client_call (api_client *c, const char *method, const char *path,
                 const json_t *body, json_t **out, polis_error **err);

/* Open a hijacked stream (attach, exec start): "Upgrade: tcp", status 101
   expected.  The returned connection's fd is the raw stream. */
http_conn *client_hijack (api_client *c, const char *path, const json_t *body,
                          polis_error **err);

/* Printf into a heap path, escaping nothing (callers escape values). */
char *client_path (const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2)));

/* Append "&key=escaped(value)" (or "?key=..." first) to the heap *PATH. */
void client_query_add (char **path, const char *key, const char *value);

#endif
