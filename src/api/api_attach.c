/* api_attach.c - hijacked streams (attach, exec start) and the exec routes.
 *
 * After a 101 the client's socket is a raw byte pipe: client -> server is
 * stdin, never framed; server -> client is what the shim sends, already in
 * Docker's wire form (raw with a TTY, stdcopy frames without).  A read EOF
 * from the client is a half-close (its stdin ended), not a hang-up: it is
 * passed on to the shim as our own half-close, and output keeps flowing
 * until the shim ends the stream.
 */
#include "api.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "engine/shim_proto.h"

#define PUMP_BUF (32u << 10)

/* Copy bytes both ways until the shim's side ends (or the client hangs
   up, or the server stops). */
static void
pump (int client, int shim, int stop_fd, const char *extra, size_t extra_len)
{
  if (extra_len > 0 && !api_write_all (shim, extra, extra_len))
    return;
  char *buf = xmalloc (PUMP_BUF);
  bool client_open = true;
  for (;;)
    {
      struct pollfd p[3] = {
        { .fd = shim, .events = POLLIN },
        { .fd = client_open ? client : -1, .events = POLLIN | POLLRDHUP },
        { .fd = stop_fd, .events = POLLIN },
      };
      int r = poll (p, 3, -1);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (p[2].revents)
        break;
      if (p[0].revents)
        {
          ssize_t n = read (shim, buf, PUMP_BUF);
          if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          if (n <= 0)
            break;
          if (!api_write_all (client, buf, (size_t) n))
            break;
        }
      if (client_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR | POLLRDHUP)))
        {
          ssize_t n = read (client, buf, PUMP_BUF);
          if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          if (n <= 0)
            {
              /* The client's stdin ended (or it is gone: then the next
                 write to it fails). */
              shutdown (shim, SHUT_WR);
              client_open = false;
              if (p[1].revents & POLLHUP)
                break;
              continue;
            }
          if (!api_write_all (shim, buf, (size_t) n))
            client_open = false;
        }
    }
  free (buf);
}

/* An error after the 101: the message, framed for a client without a
   TTY (stream 2, stderr), raw with one. */
static void
write_stream_error (int sock, bool tty, const char *msg)
{
  size_t len = strlen (msg);
  cleanup_free char *line = xasprintf ("%s\r\n", msg);
  if (!tty)
    {
      uint8_t hdr[SHIM_PROTO_STDCOPY_HEADER];
      shim_proto_stdcopy_header (hdr, SHIM_PROTO_STDERR, (uint32_t) (len + 2));
      if (!api_write_all (sock, hdr, sizeof hdr))
        return;
    }
  api_write_all (sock, line, len + 2);
}

static const char *
stream_type (api_request *req, bool tty)
{
  return tty || api_version (req) < 142 ? "application/vnd.docker.raw-stream"
                                        : "application/vnd.docker.multiplexed-stream";
}

/* --- attach -------------------------------------------------------------------------- */

typedef struct
{
  engine *eng;
  container *c;
  api_server *srv;
  bool in, out, err, tty;
  bool expected;
  char *detach_keys;
} attach_state;

static void
attach_run (void *cls, int sock, const char *extra, size_t extra_len)
{
  attach_state *st = cls;
  polis_error *err = NULL;
  int fd = engine_attach_open (st->eng, st->c, st->in, st->out, st->err,
                               st->detach_keys, api_server_stop_fd (st->srv), sock,
                               &err);
  engine_attach_expect (st->eng, st->c, -1);
  st->expected = false;
  if (fd < 0)
    {
      if (err)
        write_stream_error (sock, st->tty, err->msg);
      error_free (&err);
      return;
    }
  engine_container_event (st->eng, st->c, "attach");
  pump (sock, fd, api_server_stop_fd (st->srv), extra, extra_len);
  close (fd);
  engine_container_event (st->eng, st->c, "detach");
}

static void
attach_free (void *cls)
{
  attach_state *st = cls;
  if (st->expected)
    engine_attach_expect (st->eng, st->c, -1);
  container_unref (st->c);
  free (st->detach_keys);
  free (st);
}

void
api_container_attach (api_request *req)
{
  container *c = api_container (req);
  if (c == NULL)
    return;
  api_context *ctx = api_context_of (req);
  if (engine_container_paused (ctx->eng, c))
    {
      container_unref (c);
      api_reply_errorf (req, 409,
                        "You cannot attach to a paused container, unpause it first");
      return;
    }
  attach_state *st = xzalloc (sizeof *st);
  st->eng = ctx->eng;
  st->c = c;
  st->srv = api_request_server (req);
  st->in = api_query_bool (req, "stdin");
  st->out = api_query_bool (req, "stdout");
  st->err = api_query_bool (req, "stderr");
  st->tty = container_tty (c);
  const char *dk = api_query (req, "detachKeys");
  st->detach_keys = dk && *dk ? xstrdup (dk) : NULL;
  /* Announced before the 101, so that a start that follows waits for
     this attach to reach the shim. */
  engine_attach_expect (ctx->eng, c, 1);
  st->expected = true;
  api_reply_upgrade (req, stream_type (req, st->tty), attach_run, st, attach_free);
}

/* --- exec ------------------------------------------------------------------------------ */

void
api_exec_create (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  polis_error *err = NULL;
  cleanup_json json_t *body = api_body_json (req, false, &err);
  cleanup_free char *id = NULL;
  if (body == NULL
      || engine_exec_create (api_context_of (req)->eng, c, body, &id, &err) < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  api_reply_json (req, 201, json_pack ("{s:s}", "Id", id));
}

typedef struct
{
  engine *eng;
  api_server *srv;
  char *id;
  bool tty;
} exec_state;

static void
exec_run (void *cls, int sock, const char *extra, size_t extra_len)
{
  exec_state *st = cls;
  polis_error *err = NULL;
  int fd = engine_exec_start (st->eng, st->id, false, st->tty, &err);
  if (fd < 0)
    {
      write_stream_error (sock, st->tty, err ? err->msg : "exec failed");
      error_free (&err);
      return;
    }
  pump (sock, fd, api_server_stop_fd (st->srv), extra, extra_len);
  close (fd);
  /* The CLI asks for the exit code as soon as the stream ends: have it. */
  engine_exec_wait (st->eng, st->id, 5000);
}

static void
exec_free_state (void *cls)
{
  exec_state *st = cls;
  free (st->id);
  free (st);
}

void
api_exec_start (api_request *req)
{
  api_context *ctx = api_context_of (req);
  polis_error *err = NULL;
  cleanup_json json_t *body = api_body_json (req, true, &err);
  if (body == NULL && err)
    {
      api_reply_error (req, &err);
      return;
    }
  const char *id = api_param (req);
  cleanup_container container *c = engine_exec_container (ctx->eng, id, &err);
  if (c == NULL)
    {
      api_reply_error (req, &err);
      return;
    }
  if (!container_is_running (ctx->eng, c))
    {
      api_reply_errorf (req, 409, "container %s is not running", container_id (c));
      return;
    }
  bool detach = json_is_true (json_object_get (body, "Detach"));
  bool tty = engine_exec_tty (ctx->eng, id);
  if (detach)
    {
      if (engine_exec_start (ctx->eng, id, true, tty, &err) < 0)
        api_reply_error (req, &err);
      else
        api_reply_raw (req, 200, "application/json", "", 0);
      return;
    }
  exec_state *st = xzalloc (sizeof *st);
  st->eng = ctx->eng;
  st->srv = api_request_server (req);
  st->id = xstrdup (id);
  st->tty = tty;
  api_reply_upgrade (req, stream_type (req, tty), exec_run, st, exec_free_state);
}

void
api_exec_inspect (api_request *req)
{
  polis_error *err = NULL;
  json_t *j = engine_exec_inspect (api_context_of (req)->eng, api_param (req), &err);
  if (j == NULL)
    api_reply_error (req, &err);
  else
    api_reply_json (req, 200, j);
}

void
api_exec_resize (api_request *req)
{
  polis_error *err = NULL;
  long long h, w;
  if (api_query_int (req, "h", 0, &h, &err) < 0
      || api_query_int (req, "w", 0, &w, &err) < 0
      || engine_exec_resize (api_context_of (req)->eng, api_param (req), (int) h,
                             (int) w, &err)
             < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  api_reply_raw (req, 200, "text/plain; charset=utf-8", "", 0);
}
