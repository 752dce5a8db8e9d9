/* api_containers.c - the /containers routes that are plain request/reply
 * (plus wait and stats, which stream). */
#include "api.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

static void
reply_id_warnings (api_request *req, int status, const char *id,
                   json_t *warnings)
{
  api_reply_json (req, status,
                  json_pack ("{s:s,s:o}", "Id", id, "Warnings",
                             warnings ? warnings : json_array ()));
}

void
api_container_create (api_request *req)
{
  api_context *ctx = api_context_of (req);
  polis_error *err = NULL;
  cleanup_json json_t *body = api_body_json (req, true, &err);
  if (body == NULL && err)
    {
      api_reply_error (req, &err);
      return;
    }
  const char *platform = api_query (req, "platform");
  (void) platform;
  cleanup_free char *id = NULL;
  json_t *warnings = NULL;
  if (engine_container_create (ctx->eng, api_query (req, "name"), body,
                               api_version (req), &id, &warnings, &err)
      < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  reply_id_warnings (req, 201, id, warnings);
}

void
api_container_list (api_request *req)
{
  api_context *ctx = api_context_of (req);
  container_list_opts o = { .all = api_query_bool (req, "all"),
                            .size = api_query_bool (req, "size") };
  polis_error *err = NULL;
  if (api_query_int (req, "limit", 0, &o.limit, &err) < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  cleanup_json json_t *filters = NULL;
  if (api_filters (req, &filters) < 0)
    return;
  o.filters = filters;
  size_t len;
  cleanup_free char *list = engine_container_list (ctx->eng, &o, &len, &err);
  if (list == NULL)
    api_reply_error (req, &err);
  else
    api_reply_raw (req, 200, "application/json", list, len);
}

void
api_container_inspect (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  api_reply_json (req, 200,
                  engine_container_inspect (api_context_of (req)->eng, c,
                                            api_query_bool (req, "size"),
                                            api_version (req)));
}

/* 204, or 304 when the engine said there was nothing to do (1). */
static void
reply_done (api_request *req, int r, polis_error **err)
{
  if (r < 0)
    api_reply_error (req, err);
  else
    api_reply_empty (req, r == 1 ? 304 : 204);
}

void
api_container_start (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  if (api_query (req, "checkpoint"))
    {
      api_reply_errorf (req, 400, "checkpoints are not supported by polisd");
      return;
    }
  polis_error *err = NULL;
  int r = engine_container_start (api_context_of (req)->eng, c, &err);
  reply_done (req, r, &err);
}

static int
timeout_arg (api_request *req, long long *t, polis_error **err)
{
  /* "t" until 1.42, "timeout" after; both are accepted. */
  const char *key = api_query (req, "timeout") ? "timeout" : "t";
  return api_query_int (req, key, -1, t, err);
}

void
api_container_stop (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  polis_error *err = NULL;
  long long t;
  if (timeout_arg (req, &t, &err) < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  int r = engine_container_stop (api_context_of (req)->eng, c, (int) t,
                                 api_query (req, "signal"), &err);
  reply_done (req, r, &err);
}

void
api_container_restart (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  polis_error *err = NULL;
  long long t;
  if (timeout_arg (req, &t, &err) < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  int r = engine_container_restart (api_context_of (req)->eng, c, (int) t,
                                    api_query (req, "signal"), &err);
  reply_done (req, r < 0 ? r : 0, &err);
}

void
api_container_kill (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  polis_error *err = NULL;
  int r = engine_container_kill (api_context_of (req)->eng, c,
                                 api_query (req, "signal"), &err);
  reply_done (req, r, &err);
}

void
api_container_pause (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  polis_error *err = NULL;
  reply_done (req, engine_container_pause (api_context_of (req)->eng, c, &err),
              &err);
}

void
api_container_unpause (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  polis_error *err = NULL;
  reply_done (req, engine_container_unpause (api_context_of (req)->eng, c, &err),
              &err);
}

void
api_container_remove (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  if (api_query_bool (req, "link"))
    {
      api_reply_errorf (req, 400, "links are not supported by polisd");
      return;
    }
  polis_error *err = NULL;
  int r = engine_container_remove (api_context_of (req)->eng, c,
                                   api_query_bool (req, "force"),
                                   api_query_bool (req, "v"), &err);
  reply_done (req, r < 0 ? r : 0, &err);
}

void
api_container_rename (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  polis_error *err = NULL;
  int r = engine_container_rename (api_context_of (req)->eng, c,
                                   api_query (req, "name"), &err);
  reply_done (req, r < 0 ? r : 0, &err);
}

void
api_container_update (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  polis_error *err = NULL;
  cleanup_json json_t *body = api_body_json (req, false, &err);
  json_t *warnings = NULL;
  if (body == NULL
      || engine_container_update (api_context_of (req)->eng, c, body, &warnings,
                                  &err)
             < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  api_reply_json (req, 200, json_pack ("{s:o}", "Warnings", warnings));
}

void
api_container_resize (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  polis_error *err = NULL;
  long long h, w;
  if (api_query_int (req, "h", 0, &h, &err) < 0
      || api_query_int (req, "w", 0, &w, &err) < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  int r = engine_container_resize (api_context_of (req)->eng, c, (int) h, (int) w,
                                   &err);
  if (r < 0)
    api_reply_error (req, &err);
  else
    api_reply_raw (req, 200, "text/plain; charset=utf-8", "", 0);
}

void
api_container_top (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  polis_error *err = NULL;
  json_t *t = engine_container_top (api_context_of (req)->eng, c,
                                    api_query (req, "ps_args"), &err);
  if (t == NULL)
    api_reply_error (req, &err);
  else
    api_reply_json (req, 200, t);
}

void
api_container_prune (api_request *req)
{
  cleanup_json json_t *filters = NULL;
  if (api_filters (req, &filters) < 0)
    return;
  polis_error *err = NULL;
  json_t *r = engine_container_prune (api_context_of (req)->eng, filters, &err);
  if (r == NULL)
    api_reply_error (req, &err);
  else
    api_reply_json (req, 200, r);
}

/* --- wait ------------------------------------------------------------------------- */

typedef struct
{
  engine *eng;
  api_server *srv;
  container_waiter *w;
  int client_fd;
  bool done;
} wait_stream;

static int
wait_read (void *cls, char **chunk, size_t *len)
{
  wait_stream *st = cls;
  if (st->done)
    return 0;
  int code = 0;
  cleanup_free char *msg = NULL;
  if (engine_wait_block (st->eng, st->w, api_server_stop_fd (st->srv),
                         st->client_fd, &code, &msg)
      < 0)
    return -1;
  st->done = true;
  cleanup_json json_t *j = json_pack ("{s:i}", "StatusCode", code);
  if (msg)
    json_object_set_new (j, "Error", json_pack ("{s:s}", "Message", msg));
  return api_json_chunk (j, chunk, len);
}

static void
wait_free (void *cls)
{
  wait_stream *st = cls;
  engine_wait_free (st->eng, st->w);
  free (st);
}

void
api_container_wait (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  const char *cond = api_query (req, "condition");
  wait_condition wc;
  if (cond == NULL || *cond == '\0' || strcmp (cond, "not-running") == 0)
    wc = WAIT_NOT_RUNNING;
  else if (strcmp (cond, "next-exit") == 0)
    wc = WAIT_NEXT_EXIT;
  else if (strcmp (cond, "removed") == 0)
    wc = WAIT_REMOVED;
  else
    {
      api_reply_errorf (req, 400, "invalid condition: \"%s\"", cond);
      return;
    }
  api_context *ctx = api_context_of (req);
  wait_stream *st = xzalloc (sizeof *st);
  st->eng = ctx->eng;
  st->srv = api_request_server (req);
  st->client_fd = api_client_fd (req);
  /* Registered before the headers go out: `docker run` starts the
     container as soon as it has them. */
  st->w = engine_wait_register (ctx->eng, c, wc);
  if (st->w == NULL)
    {
      free (st);
      api_reply_errorf (req, 500, "wait: %s", strerror (errno));
      return;
    }
  api_reply_stream (req, 200, "application/json", wait_read, st, wait_free);
}

/* --- stats ------------------------------------------------------------------------- */

typedef struct
{
  engine *eng;
  api_server *srv;
  container *c;
  int client_fd;
  bool stream, one_shot;
  int sent;
  json_t *prev;
} stats_stream;

/* Sleep MS unless the server stops or the client goes. */
static bool
stats_sleep (stats_stream *st, int ms)
{
  struct pollfd p[2] = {
    { .fd = api_server_stop_fd (st->srv), .events = POLLIN },
    { .fd = st->client_fd, .events = POLLRDHUP },
  };
  int r = poll (p, 2, ms);
  return r == 0;
}

static int
stats_read (void *cls, char **chunk, size_t *len)
{
  stats_stream *st = cls;
  if (!st->stream && st->sent > 0)
    return 0;
  polis_error *err = NULL;
  bool running = container_is_running (st->eng, st->c);
  if (st->sent > 0 && !running)
    return 0;
  /* Without one-shot, a single sample is taken twice 1 s apart so that
     precpu_stats is filled in (Docker). */
  if (running && st->prev == NULL && !st->one_shot && !st->stream)
    {
      st->prev = engine_container_stats (st->eng, st->c, NULL, &err);
      error_free (&err);
      if (!stats_sleep (st, 1000))
        return -1;
    }
  else if (st->sent > 0 && !stats_sleep (st, 1000))
    return -1;
  json_t *s = engine_container_stats (st->eng, st->c, st->prev, &err);
  if (s == NULL)
    {
      error_free (&err);
      return st->sent > 0 ? 0 : -1;
    }
  json_decref (st->prev);
  st->prev = s;
  st->sent++;
  return api_json_chunk (s, chunk, len);
}

static void
stats_free (void *cls)
{
  stats_stream *st = cls;
  container_unref (st->c);
  json_decref (st->prev);
  free (st);
}

void
api_container_stats (api_request *req)
{
  container *c = api_container (req);
  if (c == NULL)
    return;
  api_context *ctx = api_context_of (req);
  stats_stream *st = xzalloc (sizeof *st);
  st->eng = ctx->eng;
  st->srv = api_request_server (req);
  st->c = c;
  st->client_fd = api_client_fd (req);
  const char *s = api_query (req, "stream");
  st->stream = s == NULL || api_query_bool (req, "stream");
  st->one_shot = api_query_bool (req, "one-shot");
  if (st->one_shot && st->stream)
    {
      stats_free (st);
      api_reply_errorf (req, 400, "cannot have stream=true and one-shot=true");
      return;
    }
  api_reply_stream (req, 200, "application/json", stats_read, st, stats_free);
}
