/* exec.c - exec instances: created by the API, run by the shim.
 *
 * An exec record is the ExecConfig a client created, kept in memory and in
 * the execs table.  Its state (pid, running, exit code) belongs to the
 * shim, which writes containers/<id>/execs/<exec-id>.json; inspect reads
 * it from there.
 */
#include "engine_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "bundle.h"
#include "container_schema.h"
#include "shim_client.h"

static exec_rec *
find_locked (engine *e, const char *id)
{
  for (exec_rec *x = e->execs; x; x = x->next)
    if (strcmp (x->id, id) == 0)
      return x;
  return NULL;
}

static void
exec_free (exec_rec *x)
{
  json_decref (x->config);
  free (x);
}

static int
load_exec (void *ud, const char *id, const char *cid, int64_t created,
           const char *doc)
{
  (void) created;
  engine *e = ud;
  container *c = engine_find_id (e, cid);
  if (c == NULL || strlen (id) != 64)
    return 0;
  polis_error *err = NULL;
  json_t *j = pjson_parse (doc, strlen (doc), "exec", &err);
  if (j == NULL)
    {
      error_free (&err);
      return 0;
    }
  exec_rec *x = xzalloc (sizeof *x);
  memcpy (x->id, id, 65);
  x->c = c;
  x->config = j;
  x->next = e->execs;
  e->execs = x;
  return 0;
}

void
exec_load_all (engine *e)
{
  polis_error *err = NULL;
  engine_lock (e);
  if (state_db_each_exec (e->db, load_exec, e, &err) < 0)
    {
      log_error ("load exec records: %s", err->msg);
      error_free (&err);
    }
  engine_unlock (e);
}

void
exec_free_all (engine *e)
{
  while (e->execs)
    {
      exec_rec *x = e->execs;
      e->execs = x->next;
      exec_free (x);
    }
}

void
exec_forget_container (engine *e, container *c)
{
  for (exec_rec **p = &e->execs; *p;)
    if ((*p)->c == c)
      {
        exec_rec *x = *p;
        *p = x->next;
        exec_free (x);
      }
    else
      p = &(*p)->next;
}

void
exec_exited (engine *e, container *c, const char *id, int exit_code)
{
  if (id == NULL)
    return;
  engine_lock (e);
  exec_rec *x = find_locked (e, id);
  if (x && x->c == c)
    {
      x->has_exit = true;
      x->exit_code = exit_code;
      x->running = false;
      container_notify (c);
    }
  engine_unlock (e);
}

int
engine_exec_wait (engine *e, const char *id, int timeout_ms)
{
  watcher w = { .fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK) };
  if (w.fd < 0)
    return -1;
  engine_lock (e);
  exec_rec *x = find_locked (e, id);
  container *c = x ? x->c : NULL;
  if (c)
    container_watch (c, &w);
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  int r = -1;
  while ((x = find_locked (e, id)) != NULL)
    {
      if (x->has_exit)
        {
          r = 0;
          break;
        }
      engine_unlock (e);
      struct timespec t1;
      clock_gettime (CLOCK_MONOTONIC, &t1);
      long spent = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
      struct pollfd p = { .fd = w.fd, .events = POLLIN };
      int pr = spent < timeout_ms ? poll (&p, 1, (int) (timeout_ms - spent)) : 0;
      uint64_t v;
      if (pr > 0 && read (w.fd, &v, sizeof v) < 0)
        (void) 0;
      engine_lock (e);
      if (pr == 0)
        break;
    }
  if (c)
    container_unwatch (c, &w);
  engine_unlock (e);
  close (w.fd);
  return r;
}

int
engine_exec_create (engine *e, container *c, json_t *body, char **id_out,
                    polis_error **err)
{
  cleanup_json json_t *cfg = schema_normalize (SCHEMA_EXEC, body, err);
  if (cfg == NULL)
    return -1;
  if (json_array_size (json_object_get (cfg, "Cmd")) == 0)
    return error_set (err, ERROR_INVALID, EINVAL, "No exec command specified");
  engine_lock (e);
  int r = 0;
  if (c->removed)
    r = error_set (err, ERROR_NOT_FOUND, ENOENT, "No such container: %s", c->id);
  else if (c->status == CS_PAUSED)
    r = error_set (err, ERROR_CONFLICT, 0,
                   "Container %s is paused, unpause the container before exec",
                   c->id);
  else if (c->status != CS_RUNNING || !c->shim_up)
    r = error_set (err, ERROR_CONFLICT, 0, "container %s is not running", c->id);
  if (r < 0)
    {
      engine_unlock (e);
      return -1;
    }
  exec_rec *x = xzalloc (sizeof *x);
  unsigned char b[32];
  if (getrandom (b, sizeof b, 0) != sizeof b)
    abort ();
  for (int i = 0; i < 32; i++)
    snprintf (x->id + 2 * i, 3, "%02x", b[i]);
  x->c = c;
  x->config = json_incref (cfg);
  cleanup_free char *doc = json_dumps (cfg, JSON_COMPACT);
  if (state_db_put_exec (e->db, x->id, c->id, doc, err) < 0)
    {
      engine_unlock (e);
      exec_free (x);
      return -1;
    }
  x->next = e->execs;
  e->execs = x;
  *id_out = xstrdup (x->id);
  engine_unlock (e);
  cleanup_free char *action = NULL;
  {
    size_t i;
    json_t *v;
    size_t len = 16;
    json_array_foreach (json_object_get (cfg, "Cmd"), i, v)
      len += strlen (json_string_value (v)) + 1;
    action = xmalloc (len);
    size_t o = (size_t) snprintf (action, len, "exec_create:");
    json_array_foreach (json_object_get (cfg, "Cmd"), i, v)
      o += (size_t) snprintf (action + o, len - o, " %s", json_string_value (v));
  }
  container_event (e, c, action, json_pack ("{s:s}", "execID", *id_out));
  return 0;
}

container *
engine_exec_container (engine *e, const char *id, polis_error **err)
{
  engine_lock (e);
  exec_rec *x = find_locked (e, id);
  container *c = x ? x->c : NULL;
  if (c)
    c->refs++;
  engine_unlock (e);
  if (c == NULL)
    error_set (err, ERROR_NOT_FOUND, ENOENT, "No such exec instance: %s", id);
  return c;
}

bool
engine_exec_tty (engine *e, const char *id)
{
  engine_lock (e);
  exec_rec *x = find_locked (e, id);
  bool tty = x && json_is_true (json_object_get (x->config, "Tty"));
  engine_unlock (e);
  return tty;
}

int
engine_exec_start (engine *e, const char *id, bool detach, bool tty,
                   polis_error **err)
{
  (void) tty;
  engine_lock (e);
  exec_rec *x = find_locked (e, id);
  if (x == NULL)
    {
      engine_unlock (e);
      return error_set (err, ERROR_NOT_FOUND, ENOENT,
                        "No such exec instance: %s", id);
    }
  if (x->started)
    {
      engine_unlock (e);
      return error_set (err, ERROR_CONFLICT, 0,
                        "Error: Exec command %s is already running", id);
    }
  container *c = x->c;
  if (c->status != CS_RUNNING || !c->shim_up)
    {
      engine_unlock (e);
      return error_set (err, ERROR_CONFLICT, 0, "container %s is not running",
                        c->id);
    }
  x->started = true;
  c->refs++;
  cleanup_json json_t *cfg = json_incref (x->config);
  engine_unlock (e);

  int fd = -1;
  json_t *process = bundle_exec_process (e, c, cfg, err);
  if (process)
    {
      cleanup_free char *sock = xasprintf ("%s/shim.sock", c->run_dir);
      cleanup_json json_t *req = json_pack (
          "{s:s,s:s,s:o,s:b,s:b,s:b,s:b,s:b}", "op", "exec", "exec_id", id,
          "process", process, "tty", json_is_true (json_object_get (cfg, "Tty")),
          "stdin", json_is_true (json_object_get (cfg, "AttachStdin")), "stdout",
          json_is_true (json_object_get (cfg, "AttachStdout")), "stderr",
          json_is_true (json_object_get (cfg, "AttachStderr")), "detach", detach);
      const char *dk = json_string_value (json_object_get (cfg, "DetachKeys"));
      if (dk && *dk)
        json_object_set_new (req, "detach_keys", json_string (dk));
      cleanup_json json_t *reply
          = shim_call (sock, req, detach ? NULL : &fd, SHIM_TIMEOUT_MS, err);
      if (reply && detach)
        fd = 0;
    }
  if (fd < 0)
    {
      engine_lock (e);
      x = find_locked (e, id);
      if (x)
        {
          x->started = false;
          x->has_exit = true;
          x->exit_code = 126;
        }
      engine_unlock (e);
    }
  else
    {
      size_t i;
      json_t *v;
      size_t len = 16;
      json_array_foreach (json_object_get (cfg, "Cmd"), i, v)
        len += strlen (json_string_value (v)) + 1;
      cleanup_free char *action = xmalloc (len);
      size_t o = (size_t) snprintf (action, len, "exec_start:");
      json_array_foreach (json_object_get (cfg, "Cmd"), i, v)
        o += (size_t) snprintf (action + o, len - o, " %s", json_string_value (v));
      container_event (e, c, action, json_pack ("{s:s}", "execID", id));
    }
  container_unref (c);
  if (fd < 0)
    return -1;
  return detach ? 0 : fd;
}

json_t *
engine_exec_inspect (engine *e, const char *id, polis_error **err)
{
  engine_lock (e);
  exec_rec *x = find_locked (e, id);
  if (x == NULL)
    {
      engine_unlock (e);
      error_set (err, ERROR_NOT_FOUND, ENOENT, "No such exec instance: %s", id);
      return NULL;
    }
  cleanup_json json_t *cfg = json_incref (x->config);
  cleanup_free char *dir = xstrdup (x->c->dir);
  char cid[65];
  memcpy (cid, x->c->id, 65);
  bool exited = x->has_exit;
  int exit_code = x->exit_code;
  engine_unlock (e);

  cleanup_free char *path = xasprintf ("%s/execs/%s.json", dir, id);
  polis_error *e2 = NULL;
  cleanup_json json_t *st = pjson_load_file_at (AT_FDCWD, path, 1 << 20, &e2);
  error_free (&e2);
  bool running = !exited && st && json_is_true (json_object_get (st, "running"));
  json_t *code = st ? json_object_get (st, "exit_code") : NULL;
  json_t *cmd = json_object_get (cfg, "Cmd");
  json_t *args = json_deep_copy (cmd);
  const char *entry = json_string_value (json_array_get (cmd, 0));
  if (json_array_size (args) > 0)
    json_array_remove (args, 0);
  json_t *o = json_pack (
      "{s:s, s:b, s:o, s:{s:b,s:s,s:o,s:b,s:s}, s:b, s:b, s:b, s:b, s:s,"
      " s:s, s:I}",
      "ID", id, "Running", running, "ExitCode",
      exited ? json_integer (exit_code)
      : (code && !running) ? json_incref (code)
                           : json_null (),
      "ProcessConfig", "tty", json_is_true (json_object_get (cfg, "Tty")),
      "entrypoint", entry ? entry : "", "arguments", args, "privileged",
      json_is_true (json_object_get (cfg, "Privileged")), "user",
      json_string_value (json_object_get (cfg, "User")), "OpenStdin",
      json_is_true (json_object_get (cfg, "AttachStdin")), "OpenStderr",
      json_is_true (json_object_get (cfg, "AttachStderr")), "OpenStdout",
      json_is_true (json_object_get (cfg, "AttachStdout")), "CanRemove", false,
      "ContainerID", cid, "DetachKeys", "", "Pid",
      st ? json_integer_value (json_object_get (st, "pid")) : (json_int_t) 0);
  return o;
}

int
engine_exec_resize (engine *e, const char *id, int height, int width,
                    polis_error **err)
{
  engine_lock (e);
  exec_rec *x = find_locked (e, id);
  cleanup_free char *sock = x ? xasprintf ("%s/shim.sock", x->c->run_dir) : NULL;
  engine_unlock (e);
  if (x == NULL)
    return error_set (err, ERROR_NOT_FOUND, ENOENT,
                      "No such exec instance: %s", id);
  cleanup_json json_t *req = json_pack ("{s:s,s:s,s:i,s:i}", "op", "resize",
                                        "exec_id", id, "height", height, "width",
                                        width);
  cleanup_json json_t *r = shim_call (sock, req, NULL, SHIM_TIMEOUT_MS, err);
  return r ? 0 : -1;
}
