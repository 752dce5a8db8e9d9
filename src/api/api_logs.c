/* api_logs.c - GET /containers/{id}/logs: the json-file log (written by the
 * shim, read with src/engine/jsonlog.h) as Docker streams it: raw bytes
 * with a TTY, stdcopy frames without; timestamps, since/until, tail; with
 * follow, the stream stays open until the container stops. */
#include "api.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/jsonlog.h"
#include "engine/shim_proto.h"

typedef struct
{
  engine *eng;
  api_server *srv;
  container *c;
  container_waiter *w; /* follow: when the container stops */
  jsonlog_reader *r;
  int client_fd;
  bool tty, want_out, want_err, timestamps, follow;
  bool stopped; /* seen not running: drain what is left, then end */
} logs_stream;

/* "2006-01-02T15:04:05.000000000Z": Docker's fixed-width timestamps. */
static size_t
fixed_time (int64_t ns, char *buf, size_t len)
{
  char t[48];
  engine_format_time (ns - ns % 1000000000, t, sizeof t);
  size_t l = strlen (t);
  if (l > 0 && t[l - 1] == 'Z')
    t[--l] = '\0';
  return (size_t) snprintf (buf, len, "%s.%09lldZ ", t, (long long) (ns % 1000000000));
}

static int
logs_read (void *cls, char **chunk, size_t *len)
{
  logs_stream *s = cls;
  for (;;)
    {
      jsonlog_entry e;
      polis_error *err = NULL;
      int r = jsonlog_reader_next (s->r, &e, &err);
      if (r < 0)
        {
          error_free (&err);
          return -1;
        }
      if (r > 0)
        {
          if ((e.stream == JSONLOG_STDOUT && !s->want_out)
              || (e.stream == JSONLOG_STDERR && !s->want_err))
            continue;
          char ts[64];
          size_t tl = s->timestamps ? fixed_time (e.time_ns, ts, sizeof ts) : 0;
          size_t hl = s->tty ? 0 : SHIM_PROTO_STDCOPY_HEADER;
          size_t n = hl + tl + e.log_len;
          char *out = xmalloc (n);
          if (!s->tty)
            shim_proto_stdcopy_header ((uint8_t *) out,
                                       e.stream == JSONLOG_STDERR ? SHIM_PROTO_STDERR
                                                                  : SHIM_PROTO_STDOUT,
                                       (uint32_t) (tl + e.log_len));
          memcpy (out + hl, ts, tl);
          memcpy (out + hl + tl, e.log, e.log_len);
          *chunk = out;
          *len = n;
          return 1;
        }
      if (!s->follow || s->stopped)
        return 0;
      /* Nothing more for now: sleep until the log grows, the container
         stops, the client goes or the server stops. */
      struct pollfd p[4] = {
        { .fd = jsonlog_reader_fd (s->r), .events = POLLIN },
        { .fd = engine_wait_fd (s->w), .events = POLLIN },
        { .fd = api_server_stop_fd (s->srv), .events = POLLIN },
        { .fd = s->client_fd, .events = POLLRDHUP },
      };
      int pr = poll (p, 4, -1);
      if (pr < 0 && errno != EINTR)
        return -1;
      if (p[2].revents || p[3].revents)
        return -1;
      if (p[0].revents && jsonlog_reader_wait (s->r, 0, &err) < 0)
        {
          error_free (&err);
          return -1;
        }
      if (engine_wait_done (s->eng, s->w))
        s->stopped = true; /* one more pass over what was written */
    }
}

static void
logs_free (void *cls)
{
  logs_stream *s = cls;
  jsonlog_reader_free (s->r);
  engine_wait_free (s->eng, s->w);
  container_unref (s->c);
  free (s);
}

void
api_container_logs (api_request *req)
{
  container *c = api_container (req);
  if (c == NULL)
    return;
  api_context *ctx = api_context_of (req);
  logs_stream *s = xzalloc (sizeof *s);
  s->eng = ctx->eng;
  s->srv = api_request_server (req);
  s->c = c;
  s->client_fd = api_client_fd (req);
  s->tty = container_tty (c);
  s->want_out = api_query_bool (req, "stdout");
  s->want_err = api_query_bool (req, "stderr");
  s->timestamps = api_query_bool (req, "timestamps");
  s->follow = api_query_bool (req, "follow");
  if (!s->want_out && !s->want_err)
    {
      logs_free (s);
      api_reply_errorf (req, 400, "Bad parameters: you must choose at least one stream");
      return;
    }
  cleanup_json json_t *ins = engine_container_inspect (ctx->eng, c, false, api_version (req));
  const char *driver = json_string_value (json_object_get (
      json_object_get (json_object_get (ins, "HostConfig"), "LogConfig"), "Type"));
  if (driver && strcmp (driver, "none") == 0)
    {
      logs_free (s);
      api_reply_errorf (req, 501, "configured logging driver does not support reading");
      return;
    }
  jsonlog_read_opts o = { .tail = -1, .follow = s->follow };
  const char *tail = api_query (req, "tail");
  if (tail && *tail && strcmp (tail, "all") != 0)
    {
      char *end;
      long long t = strtoll (tail, &end, 10);
      o.tail = *end == '\0' && t >= 0 ? t : -1;
    }
  o.since_ns = api_query_time (req, "since", 0);
  o.until_ns = api_query_time (req, "until", 0);
  /* Registered before the reader opens: a stop after that is seen. */
  s->w = engine_wait_register (ctx->eng, c, WAIT_NOT_RUNNING);
  polis_error *err = NULL;
  cleanup_free char *path = engine_container_log_path (ctx->eng, c);
  s->r = s->w ? jsonlog_reader_open (path, &o, &err) : NULL;
  if (s->r == NULL)
    {
      logs_free (s);
      if (err)
        api_reply_error (req, &err);
      else
        api_reply_errorf (req, 500, "logs: %s", strerror (errno));
      return;
    }
  if (engine_wait_done (ctx->eng, s->w))
    s->stopped = true;
  api_reply_stream (req, 200,
                    s->tty || api_version (req) < 142
                        ? "application/vnd.docker.raw-stream"
                        : "application/vnd.docker.multiplexed-stream",
                    logs_read, s, logs_free);
}
