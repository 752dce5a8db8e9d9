/* shim_client.h - polisd's side of the polis-shim contract
 * (docs/internals/engine-contracts.md): starting a shim, and one request
 * per connection on RUNROOT/<id>/shim.sock.
 *
 * Requests are one JSON line; the reply is one JSON line ({"ok":true,...}
 * or {"ok":false,"message":...,"code":404|409|500}).  The reply line is
 * read exactly (peeking for its newline), so that whatever follows it on
 * a stream (attach, exec, events, wait) is left in the socket for the
 * caller.
 */
#ifndef POLIS_ENGINE_SHIM_CLIENT_H
#define POLIS_ENGINE_SHIM_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

#define SHIM_TIMEOUT_MS 30000

typedef struct
{
  const char *shim_path;
  const char *id;
  const char *bundle;       /* ROOT/containers/ID */
  const char *socket;       /* RUNROOT/ID/shim.sock */
  const char *runtime_root; /* RUNROOT/runtime */
  const char *log_path;     /* the shim's own stderr (appended) */
  bool tty, open_stdin, stdin_once;
  const char *log_driver;   /* "json-file" or "none" */
  const char *log_max_size; /* bytes, as text; NULL for the default */
  const char *log_max_file;
  const char *restart;      /* "no", "always", "on-failure:3", ... */
  const char *health_file;  /* NULL without a health check */
  bool auto_remove;
} shim_spawn_opts;

/* Start a shim with --no-start and wait for its readiness line.  *SHIM_PID
   gets its pid.  The shim's failure message (Docker's wording) becomes
   the error. */
int shim_spawn (const shim_spawn_opts *o, pid_t *shim_pid, polis_error **err);

/* Connect to SOCKET, send REQ, read the reply.  On success returns the
   reply (new reference) and, when STREAM is not NULL, leaves the
   connection open in *STREAM for what follows.  A reply with ok:false is
   an error of the class its code says. */
json_t *shim_call (const char *socket, const json_t *req, int *stream,
                   int timeout_ms, polis_error **err);

/* Is the shim whose pid file is PID_PATH alive? *PID gets its pid. */
bool shim_alive (const char *pid_path, pid_t *pid);

#endif
