/* shim_server.c - the shim's socket: one request per connection, its
 * reply, and the streams some requests turn into (engine-contracts.md). */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/path.h"
#include "base/pjson.h"
#include "base/xalloc.h"

/* Bytes read from a client at a time. */
#define SHIM_CONN_READ 8192
/* Most clients at once: one more is refused. */
#define SHIM_CONNS_MAX 4096

static unsigned shim_n_conns;

/* ---- connections ------------------------------------------------------------ */

static void
shim_conn_update (shim_conn *c)
{
  uint32_t ev = 0;
  if (c->reading)
    ev |= EPOLLIN;
  if (c->out_len > c->out_off || c->finishing || c->broken)
    ev |= EPOLLOUT;
  /* Nothing to do but notice the client hanging up: EPOLLHUP comes once,
     edge-triggered, whatever the mask. */
  if (ev == 0)
    ev = EPOLLET;
  loop_watch_set_events (c->w, ev, NULL);
}

size_t
shim_conn_backlog (const shim_conn *c)
{
  return c->out_len - c->out_off;
}

bool
shim_conn_send (shim_conn *c, const void *data, size_t len)
{
  if (c->broken)
    return false;
  const char *p = data;
  if (c->out_len == c->out_off)
    {
      c->out_len = c->out_off = 0;
      while (len > 0)
        {
          ssize_t n = send (loop_watch_fd (c->w), p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n > 0)
            {
              p += n;
              len -= (size_t) n;
              continue;
            }
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && errno == EAGAIN)
            break;
          c->broken = true;
          shim_conn_update (c);
          return false;
        }
      if (len == 0)
        return true;
    }
  if (c->out_len + len > c->out_cap)
    {
      if (c->out_off)
        {
          memmove (c->out, c->out + c->out_off, c->out_len - c->out_off);
          c->out_len -= c->out_off;
          c->out_off = 0;
        }
      if (c->out_len + len > c->out_cap)
        {
          size_t cap = c->out_cap ? c->out_cap : 4096;
          while (cap < c->out_len + len)
            cap *= 2;
          c->out = xrealloc (c->out, cap);
          c->out_cap = cap;
        }
    }
  memcpy (c->out + c->out_len, p, len);
  c->out_len += len;
  shim_conn_update (c);
  return true;
}

void
shim_conn_finish (shim_conn *c)
{
  c->finishing = true;
  c->reading = false;
  shim_conn_update (c);
}

void
shim_conn_set_reading (shim_conn *c, bool on)
{
  if (c->reading == on || c->finishing)
    return;
  c->reading = on;
  shim_conn_update (c);
}

/* Write the queue.  Returns false when the client is gone. */
static bool
shim_conn_flush (shim_conn *c)
{
  while (c->out_off < c->out_len)
    {
      ssize_t n = send (loop_watch_fd (c->w), c->out + c->out_off, c->out_len - c->out_off,
                        MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        {
          c->out_off += (size_t) n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return true;
      return false;
    }
  c->out_off = c->out_len = 0;
  /* A connection's queue only grows while its client is slow. */
  if (c->out_cap > 65536)
    {
      free (c->out);
      c->out = NULL;
      c->out_cap = 0;
    }
  return true;
}

static void
shim_conn_reply (shim_conn *c, json_t *fields)
{
  size_t n;
  cleanup_free char *line = shim_proto_reply_ok (fields, &n);
  shim_conn_send (c, line, n);
}

static void
shim_conn_reply_error (shim_conn *c, const polis_error *err)
{
  size_t n;
  cleanup_free char *line = shim_proto_reply_error (err, &n);
  shim_conn_send (c, line, n);
}

static void
shim_conn_on_close (void *data)
{
  shim_conn *c = data;
  shim *sh = c->sh;
  if (c->prev)
    c->prev->next = c->next;
  else
    sh->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  shim_stdio *io = c->io;
  c->io = NULL;
  if (io)
    shim_stdio_resume (io); /* it may have waited for this client */
  shim_n_conns--;
  free (c->in);
  free (c->out);
  free (c);
}

/* ---- requests --------------------------------------------------------------- */

static bool
shim_req_bool (const json_t *req, const char *key, bool def)
{
  json_t *v = json_object_get (req, key);
  return json_is_boolean (v) ? json_is_true (v) : def;
}

static int
shim_op_state (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  (void) req;
  (void) err;
  shim_conn_reply (c, json_pack ("{s:o}", "state", shim_state_json (sh)));
  return 0;
}

static int
shim_op_start (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  (void) req;
  if (shim_container_start (sh, err) < 0)
    return -1;
  shim_conn_reply (c, json_pack ("{s:i}", "pid", (int) sh->pid));
  return 0;
}

static int
shim_op_attach (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  const char *keys = json_string_value (json_object_get (req, "detach_keys"));
  uint8_t k[SHIM_PROTO_DETACH_KEYS_MAX];
  size_t n;
  if (keys && *keys && shim_proto_parse_detach_keys (keys, k, &n, err) < 0)
    return -1;
  shim_conn_reply (c, NULL);
  if (sh->io == NULL || shim_stdio_ended (sh->io))
    {
      c->kind = SHIM_CONN_STREAM;
      shim_conn_finish (c); /* nothing runs: the stream ends at once */
      return 0;
    }
  return shim_stdio_attach (sh->io, c, shim_req_bool (req, "stdin", false),
                            shim_req_bool (req, "stdout", true),
                            shim_req_bool (req, "stderr", true), keys, err);
}

static int
shim_op_resize (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  int64_t h = 0, w = 0;
  const char *exec_id = NULL;
  if (pjson_get_int64 (req, "request", "height", true, &h, err) < 0
      || pjson_get_int64 (req, "request", "width", true, &w, err) < 0
      || pjson_get_string (req, "request", "exec_id", false, &exec_id, err) < 0)
    return -1;
  if (h < 0 || w < 0 || h > USHRT_MAX || w > USHRT_MAX)
    return error_set (err, ERROR_INVALID, EINVAL, "invalid terminal size %lldx%lld",
                      (long long) h, (long long) w);
  int r = exec_id ? shim_exec_resize (sh, exec_id, (unsigned) h, (unsigned) w, err)
                  : shim_stdio_resize (sh->io, (unsigned) h, (unsigned) w, err);
  if (r < 0)
    return -1;
  shim_conn_reply (c, NULL);
  return 0;
}

static int
shim_op_signal (const json_t *req, int def, int *sig, polis_error **err)
{
  int64_t s = def;
  if (pjson_get_int64 (req, "request", "signal", false, &s, err) < 0)
    return -1;
  if (s == 0)
    s = def;
  if (s < 1 || s >= NSIG)
    return error_set (err, ERROR_INVALID, EINVAL, "invalid signal %lld", (long long) s);
  *sig = (int) s;
  return 0;
}

static int
shim_op_kill (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  int sig;
  if (shim_op_signal (req, SIGKILL, &sig, err) < 0
      || shim_container_kill (sh, sig, shim_req_bool (req, "all", false), err) < 0)
    return -1;
  shim_conn_reply (c, NULL);
  return 0;
}

static int
shim_op_stop (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  int sig;
  int64_t timeout = 10;
  if (shim_op_signal (req, SIGTERM, &sig, err) < 0
      || pjson_get_int64 (req, "request", "timeout", false, &timeout, err) < 0)
    return -1;
  if (timeout > INT_MAX / 1000)
    timeout = INT_MAX / 1000;
  if (shim_container_stop (sh, sig, (int) timeout, err) < 0)
    return -1;
  shim_conn_reply (c, NULL);
  return 0;
}

static void
shim_wait_fire (shim *sh, shim_conn *c)
{
  size_t n;
  cleanup_free char *line = shim_proto_wait_result (sh->exit_code, NULL, &n);
  shim_conn_send (c, line, n);
  shim_conn_finish (c);
}

static int
shim_op_wait (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  const char *cond = "not-running";
  if (pjson_get_string (req, "request", "condition", false, &cond, err) < 0)
    return -1;
  if (strcmp (cond, "next-exit") != 0 && strcmp (cond, "not-running") != 0)
    return error_set (err, ERROR_INVALID, EINVAL, "invalid condition: \"%s\"", cond);
  /* Registered before the reply goes out: a start that follows cannot
     finish before we listen (docker run's order). */
  c->kind = SHIM_CONN_WAIT;
  c->wait_next_exit = strcmp (cond, "next-exit") == 0;
  shim_conn_reply (c, NULL);
  if (!c->wait_next_exit && !shim_container_active (sh) && sh->status != SHIM_RESTARTING)
    shim_wait_fire (sh, c);
  return 0;
}

static int
shim_op_pause (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  const char *op = json_string_value (json_object_get (req, "op"));
  if (shim_container_pause (sh, strcmp (op, "pause") == 0, err) < 0)
    return -1;
  shim_conn_reply (c, NULL);
  return 0;
}

static int
shim_op_update (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  json_t *res = NULL;
  const char *restart = NULL;
  if (pjson_get_object (req, "request", "resources", false, &res, err) < 0
      || pjson_get_string (req, "request", "restart", false, &restart, err) < 0
      || shim_container_update (sh, res, restart, err) < 0)
    return -1;
  shim_conn_reply (c, NULL);
  return 0;
}

static int
shim_op_events (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  (void) sh;
  (void) req;
  (void) err;
  c->kind = SHIM_CONN_EVENTS;
  shim_conn_reply (c, NULL);
  return 0;
}

static int
shim_op_exec (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  return shim_exec_request (sh, c, req, err);
}

static int
shim_op_delete (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  if (shim_container_delete (sh, shim_req_bool (req, "force", false), err) < 0)
    return -1;
  shim_conn_reply (c, NULL);
  sh->exiting = true;
  loop_quit (sh->loop, 0);
  return 0;
}

static int
shim_op_shutdown (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  (void) req;
  if (shim_container_active (sh))
    return error_set (err, ERROR_CONFLICT, EBUSY,
                      "container %s is running: stop it first", sh->o.id);
  if (shim_container_delete (sh, true, err) < 0)
    return -1;
  shim_conn_reply (c, NULL);
  sh->exiting = true;
  loop_quit (sh->loop, 0);
  return 0;
}

typedef int (*shim_op_fn) (shim *sh, shim_conn *c, const json_t *req,
                           polis_error **err);

static const struct
{
  const char *name;
  shim_op_fn fn;
} shim_ops[] = {
  { "state", shim_op_state },   { "start", shim_op_start },
  { "attach", shim_op_attach }, { "resize", shim_op_resize },
  { "kill", shim_op_kill },     { "stop", shim_op_stop },
  { "wait", shim_op_wait },     { "exec", shim_op_exec },
  { "pause", shim_op_pause },   { "resume", shim_op_pause },
  { "update", shim_op_update }, { "events", shim_op_events },
  { "delete", shim_op_delete }, { "shutdown", shim_op_shutdown },
};

/* One complete request line (LEN bytes, no "\n"); REST are the bytes the
   client sent after it (stdin of an attach). */
static void
shim_conn_dispatch (shim_conn *c, const char *line, size_t len,
                    const char *rest, size_t rest_len)
{
  shim *sh = c->sh;
  cleanup_error polis_error *err = NULL;
  const char *op = NULL;
  cleanup_json json_t *req = shim_proto_parse_request (line, len, &op, &err);
  c->reading = false;
  c->kind = SHIM_CONN_DONE;
  shim_op_fn fn = NULL;
  if (req)
    {
      for (size_t i = 0; i < sizeof shim_ops / sizeof *shim_ops; i++)
        if (strcmp (op, shim_ops[i].name) == 0)
          fn = shim_ops[i].fn;
      if (fn == NULL)
        error_set (&err, ERROR_INVALID, EINVAL, "unknown op \"%s\"", op);
      else if (sh->exiting)
        error_set (&err, ERROR_CONFLICT, ESHUTDOWN, "the shim is shutting down");
    }
  if (fn == NULL || err || fn (sh, c, req, &err) < 0)
    {
      shim_conn_reply_error (c, err);
      shim_conn_finish (c);
      return;
    }
  if (c->kind == SHIM_CONN_DONE)
    shim_conn_finish (c);
  else if (c->kind == SHIM_CONN_STREAM && c->io && rest_len)
    shim_stdio_input (c->io, c, rest, rest_len, false);
  shim_conn_update (c);
}

/* Read more of the request line. */
static void
shim_conn_read_request (shim_conn *c, int fd)
{
  char buf[SHIM_CONN_READ];
  ssize_t n = read (fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      c->broken = true; /* gone before asking anything */
      return;
    }
  char *nl = memchr (buf, '\n', (size_t) n);
  size_t take = nl ? (size_t) (nl - buf) : (size_t) n;
  if (c->in_len + take > SHIM_PROTO_REQUEST_MAX)
    {
      cleanup_error polis_error *err = NULL;
      error_set (&err, ERROR_INVALID, E2BIG, "request longer than %u bytes",
                 SHIM_PROTO_REQUEST_MAX);
      c->kind = SHIM_CONN_DONE;
      shim_conn_reply_error (c, err);
      shim_conn_finish (c);
      return;
    }
  if (nl && c->in_len == 0)
    {
      shim_conn_dispatch (c, buf, take, nl + 1, (size_t) n - take - 1);
      return;
    }
  c->in = xrealloc (c->in, c->in_len + take + 1);
  memcpy (c->in + c->in_len, buf, take);
  c->in_len += take;
  if (nl)
    shim_conn_dispatch (c, c->in, c->in_len, nl + 1, (size_t) n - take - 1);
}

static loop_result
shim_conn_on_event (loop *l, int fd, uint32_t events, void *data)
{
  (void) l;
  shim_conn *c = data;
  if (c->broken)
    return LOOP_CLOSE;
  if (c->out_off < c->out_len)
    {
      if (!shim_conn_flush (c))
        return LOOP_CLOSE;
      if (c->io && shim_conn_backlog (c) <= SHIM_CONN_LOW)
        shim_stdio_resume (c->io);
    }
  if (c->finishing && c->out_off == c->out_len)
    return LOOP_CLOSE;
  if ((events & EPOLLIN) && c->reading)
    {
      if (c->kind == SHIM_CONN_REQUEST)
        shim_conn_read_request (c, fd);
      else if (c->kind == SHIM_CONN_STREAM && c->io)
        {
          char buf[SHIM_CONN_READ];
          ssize_t n = read (fd, buf, sizeof buf);
          if (n > 0)
            shim_stdio_input (c->io, c, buf, (size_t) n, false);
          else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            shim_stdio_input (c->io, c, NULL, 0, true);
        }
      else
        c->reading = false;
      if (c->broken)
        return LOOP_CLOSE;
      if (c->finishing && c->out_off == c->out_len)
        return LOOP_CLOSE;
    }
  else if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
    return LOOP_CLOSE; /* the client is gone */
  shim_conn_update (c);
  return LOOP_CONTINUE;
}

static loop_result
shim_server_on_accept (loop *l, int fd, uint32_t events, void *data)
{
  (void) events;
  shim *sh = data;
  for (int i = 0; i < 16; i++)
    {
      int cfd = accept4 (fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (cfd < 0)
        break;
      if (shim_n_conns >= SHIM_CONNS_MAX)
        {
          close (cfd);
          continue;
        }
      shim_conn *c = xzalloc (sizeof *c);
      c->sh = sh;
      c->reading = true;
      cleanup_error polis_error *err = NULL;
      c->w = loop_add_fd (l, cfd, EPOLLIN, shim_conn_on_event, shim_conn_on_close, c, &err);
      if (c->w == NULL)
        {
          log_warning ("accept: %s", err->msg);
          free (c);
          continue;
        }
      shim_n_conns++;
      c->next = sh->conns;
      if (sh->conns)
        sh->conns->prev = c;
      sh->conns = c;
    }
  return LOOP_CONTINUE;
}

/* ---- the rest ---------------------------------------------------------------- */

void
shim_emit (shim *sh, const char *action, json_t *fields)
{
  size_t n;
  cleanup_free char *line = shim_proto_event (action, fields, shim_now_ns (), &n);
  for (shim_conn *c = sh->conns; c; c = c->next)
    if (c->kind == SHIM_CONN_EVENTS)
      shim_conn_send (c, line, n);
}

void
shim_notify_waiters (shim *sh, bool next_exit_only)
{
  for (shim_conn *c = sh->conns; c; c = c->next)
    if (c->kind == SHIM_CONN_WAIT && !c->finishing
        && (c->wait_next_exit || !next_exit_only))
      shim_wait_fire (sh, c);
}

int
shim_server_listen (shim *sh, polis_error **err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int dirfd = -1;
  const char *path = sh->o.socket;
  char buf[sizeof addr.sun_path];
  if (strlen (path) >= sizeof addr.sun_path)
    {
      /* Too long for sun_path: bind through the directory's fd. */
      cleanup_free char *dir = xstrdup (path);
      char *slash = strrchr (dir, '/');
      if (slash == NULL)
        return error_set (err, ERROR_INVALID, ENAMETOOLONG, "socket path `%s` too long", path);
      *slash = '\0';
      dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dirfd < 0)
        return error_sys (err, "open `%s`", dir);
      int n = snprintf (buf, sizeof buf, "/proc/self/fd/%d/%s", dirfd, slash + 1);
      if (n < 0 || (size_t) n >= sizeof buf)
        return error_set (err, ERROR_INVALID, ENAMETOOLONG, "socket path `%s` too long", path);
      path = buf;
    }
  memcpy (addr.sun_path, path, strlen (path) + 1);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return error_sys (err, "socket");
  unlink (path);
  mode_t old = umask (0077);
  int r = bind (fd, (struct sockaddr *) &addr, sizeof addr);
  umask (old);
  if (r < 0 || listen (fd, 128) < 0)
    {
      error_sys (err, "listen on `%s`", sh->o.socket);
      close (fd);
      return -1;
    }
  return loop_add_fd (sh->loop, fd, EPOLLIN, shim_server_on_accept, NULL, sh, err) ? 0 : -1;
}

void
shim_server_flush (shim *sh, int timeout_ms)
{
  uint64_t end = loop_now_ms () + (uint64_t) timeout_ms;
  for (shim_conn *c = sh->conns; c; c = c->next)
    {
      int fd = loop_watch_fd (c->w);
      while (!c->broken && c->out_off < c->out_len)
        {
          uint64_t now = loop_now_ms ();
          if (now >= end || !shim_conn_flush (c))
            break;
          if (c->out_off == c->out_len)
            break;
          struct pollfd p = { .fd = fd, .events = POLLOUT };
          poll (&p, 1, (int) (end - now));
        }
    }
}

void
shim_server_close (shim *sh)
{
  unlink (sh->o.socket);
  cleanup_free char *dir = xstrdup (sh->o.socket);
  char *slash = strrchr (dir, '/');
  if (slash)
    *slash = '\0';
  cleanup_free char *pid = path_join (slash ? dir : ".", "shim.pid");
  unlink (pid);
}
