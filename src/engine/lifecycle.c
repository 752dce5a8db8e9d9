/* lifecycle.c - start, stop, kill, pause, restart, wait, attach: the
 * container state machine, driven by API calls and by the shim's events.
 *
 * The shim is the source of truth for a container's process (shim.json,
 * rewritten before each event); the engine mirrors it into memory and the
 * database when an event arrives or a call returns, and publishes Docker's
 * events.  Calls that change a container hold its op_lock for their whole
 * length; the engine lock is only taken for short reads and writes.
 */
#include "engine_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "bundle.h"
#include "container_fs.h"
#include "monitor.h"
#include "shim_client.h"
#include "volume.h"

#define SHIM_JSON_MAX (1u << 20)
#define ATTACH_WAIT_MS 5000

static json_t *
read_json (const char *dir, const char *name)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, name);
  polis_error *err = NULL;
  json_t *j = pjson_load_file_at (AT_FDCWD, p, SHIM_JSON_MAX, &err);
  error_free (&err);
  return j;
}

static json_t *
call (container *c, json_t *req, int *stream, polis_error **err)
{
  cleanup_free char *sock = xasprintf ("%s/shim.sock", c->run_dir);
  json_t *r = shim_call (sock, req, stream, SHIM_TIMEOUT_MS, err);
  json_decref (req);
  return r;
}

static int
call_ok (container *c, json_t *req, polis_error **err)
{
  json_t *r = call (c, req, NULL, err);
  if (r == NULL)
    return -1;
  json_decref (r);
  return 0;
}

/* --- the shim's view --------------------------------------------------------- */

static container_status
status_of (const char *s)
{
  if (s == NULL)
    return CS_EXITED;
  if (strcmp (s, "created") == 0)
    return CS_CREATED;
  if (strcmp (s, "running") == 0)
    return CS_RUNNING;
  if (strcmp (s, "paused") == 0)
    return CS_PAUSED;
  if (strcmp (s, "restarting") == 0)
    return CS_RESTARTING;
  if (strcmp (s, "dead") == 0)
    return CS_DEAD;
  return CS_EXITED;
}

/* The shim's health object -> Docker's State.Health. */
static json_t *
docker_health (const json_t *h)
{
  const char *st = json_string_value (json_object_get (h, "status"));
  json_t *log = json_array ();
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get (h, "log"), i, e)
  {
    const char *s = json_string_value (json_object_get (e, "start"));
    const char *en = json_string_value (json_object_get (e, "end"));
    const char *out = json_string_value (json_object_get (e, "output"));
    json_array_append_new (
        log, json_pack ("{s:s,s:s,s:I,s:s}", "Start", s ? s : "", "End",
                        en ? en : "", "ExitCode",
                        json_integer_value (json_object_get (e, "exit_code")),
                        "Output", out ? out : ""));
  }
  return json_pack ("{s:s,s:I,s:o}", "Status", st ? st : "starting",
                    "FailingStreak",
                    json_integer_value (json_object_get (h, "failing_streak")),
                    "Log", log);
}

void
lifecycle_apply_shim_state (engine *e, container *c, const json_t *st)
{
  (void) e;
  const char *s = json_string_value (json_object_get (st, "status"));
  container_status ns = status_of (s);
  /* A shim that created the container but was never asked to start it
     says "created"; keep "exited" for a container that ran before. */
  if (ns == CS_CREATED && c->has_been_started)
    ns = CS_EXITED;
  c->status = ns;
  c->pid = (int) json_integer_value (json_object_get (st, "pid"));
  c->exit_code = (int) json_integer_value (json_object_get (st, "exit_code"));
  c->oom_killed = json_is_true (json_object_get (st, "oom_killed"));
  int64_t t = engine_parse_time (json_string_value (json_object_get (st, "started_at")));
  if (t > 0)
    c->started_ns = t;
  t = engine_parse_time (json_string_value (json_object_get (st, "finished_at")));
  if (t > 0)
    c->finished_ns = t;
  c->restart_count = (int) json_integer_value (json_object_get (st, "restart_count"));
  if (json_is_boolean (json_object_get (st, "manually_stopped")))
    c->manually_stopped = json_is_true (json_object_get (st, "manually_stopped"));
  json_t *h = json_object_get (st, "health");
  if (json_is_object (h))
    {
      json_decref (c->health);
      c->health = docker_health (h);
    }
}

bool
lifecycle_refresh_locked (engine *e, container *c)
{
  cleanup_json json_t *st = read_json (c->dir, "shim.json");
  if (st == NULL)
    return false;
  lifecycle_apply_shim_state (e, c, st);
  return true;
}

static void *
auto_remove_main (void *arg)
{
  container *c = arg;
  engine *e = c->eng;
  pthread_mutex_lock (&c->op_lock);
  polis_error *err = NULL;
  /* Docker's --rm takes the anonymous volumes along. */
  if (!c->removed && lifecycle_destroy (e, c, true, &err) < 0)
    {
      log_error ("auto-remove %.12s: %s", c->id, err->msg);
      error_free (&err);
    }
  pthread_mutex_unlock (&c->op_lock);
  container_unref (c);
  return NULL;
}

/* HostConfig.AutoRemove: remove C in the background once it ended. */
static void
schedule_auto_remove (engine *e, container *c)
{
  engine_lock (e);
  bool go = !c->auto_removing && !c->removed
            && json_is_true (json_object_get (c->host_config, "AutoRemove"));
  if (go)
    {
      c->auto_removing = true;
      c->refs++;
    }
  engine_unlock (e);
  if (!go)
    return;
  pthread_t t;
  pthread_attr_t at;
  pthread_attr_init (&at);
  pthread_attr_setdetachstate (&at, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize (&at, 256 << 10);
  if (pthread_create (&t, &at, auto_remove_main, c) != 0)
    {
      log_error ("auto-remove %.12s: cannot start a thread", c->id);
      container_unref (c);
    }
  pthread_attr_destroy (&at);
}

void
lifecycle_on_shim_event (engine *e, container *c, const json_t *ev)
{
  const char *action = json_string_value (json_object_get (ev, "action"));
  if (action == NULL)
    return;
  engine_lock (e);
  if (c->removed)
    {
      engine_unlock (e);
      return;
    }
  bool have = lifecycle_refresh_locked (e, c);
  bool died = strcmp (action, "die") == 0;
  if (died)
    {
      if (!have)
        {
          c->status = CS_EXITED;
          c->exit_code = (int) json_integer_value (json_object_get (ev, "exit_code"));
          c->finished_ns = events_now_ns ();
        }
      c->exit_gen++;
    }
  else if (strcmp (action, "start") == 0 && !have)
    c->status = CS_RUNNING;
  container_save (e, c, NULL);
  container_notify (c);
  bool restarting = c->status == CS_RESTARTING;
  int exit_code = c->exit_code;
  uint64_t exit_gen = c->exit_gen;
  engine_unlock (e);

  if (strcmp (action, "start") == 0)
    container_event (e, c, "start", NULL);
  else if (died)
    {
      char code[16];
      snprintf (code, sizeof code, "%d", exit_code);
      container_event (e, c, "die", json_pack ("{s:s}", "exitCode", code));
      if (!restarting)
        {
          volume_container_stop (e, c, exit_gen);
          schedule_auto_remove (e, c);
        }
    }
  else if (strcmp (action, "oom") == 0)
    container_event (e, c, "oom", NULL);
  else if (strcmp (action, "health_status") == 0)
    {
      const char *h = json_string_value (json_object_get (ev, "health"));
      cleanup_free char *a = xasprintf ("health_status: %s", h ? h : "unknown");
      container_event (e, c, a, NULL);
    }
  else if (strcmp (action, "exec_die") == 0)
    {
      const char *xid = json_string_value (json_object_get (ev, "exec_id"));
      exec_exited (e, c, xid, (int) json_integer_value (json_object_get (ev, "exit_code")));
      char code[16];
      snprintf (code, sizeof code, "%lld",
                (long long) json_integer_value (json_object_get (ev, "exit_code")));
      container_event (e, c, "exec_die",
                       json_pack ("{s:s,s:s}", "execID", xid ? xid : "",
                                  "exitCode", code));
    }
}

void
lifecycle_on_shim_gone (engine *e, container *c)
{
  engine_lock (e);
  c->shim_up = false;
  bool was_active = !c->removed
                    && (c->status == CS_RUNNING || c->status == CS_PAUSED
                        || c->status == CS_RESTARTING);
  if (was_active)
    {
      /* The shim died under a live container: what it recorded last is
         all we will ever know. */
      cleanup_json json_t *ex = read_json (c->dir, "exit.json");
      c->status = CS_EXITED;
      c->exit_code = ex ? (int) json_integer_value (json_object_get (ex, "exit_code")) : 255;
      int64_t f = ex ? engine_parse_time (json_string_value (json_object_get (ex, "finished_at"))) : 0;
      c->finished_ns = f > 0 ? f : events_now_ns ();
      c->pid = 0;
      c->exit_gen++;
      container_save (e, c, NULL);
    }
  container_notify (c);
  int code = c->exit_code;
  uint64_t exit_gen = c->exit_gen;
  engine_unlock (e);
  if (was_active)
    {
      char s[16];
      snprintf (s, sizeof s, "%d", code);
      container_event (e, c, "die", json_pack ("{s:s}", "exitCode", s));
      volume_container_stop (e, c, exit_gen);
      schedule_auto_remove (e, c);
    }
}

void
lifecycle_restore (engine *e, container *c)
{
  cleanup_free char *pidfile = xasprintf ("%s/shim.pid", c->run_dir);
  pid_t pid;
  polis_error *err = NULL;
  c->mounted = container_fs_mounted (c);
  if (shim_alive (pidfile, &pid))
    {
      cleanup_json json_t *r = call (c, json_pack ("{s:s}", "op", "state"), NULL, &err);
      if (r)
        {
          engine_lock (e);
          c->shim_pid = pid;
          lifecycle_apply_shim_state (e, c, json_object_get (r, "state"));
          container_save (e, c, NULL);
          engine_unlock (e);
          if (monitor_follow (e->mon, c, &err) == 0)
            {
              engine_lock (e);
              c->shim_up = true;
              c->shim_gen++;
              bool live = c->status == CS_RUNNING || c->status == CS_PAUSED
                          || c->status == CS_RESTARTING;
              engine_unlock (e);
              if (live)
                volume_container_restored (e, c);
              return;
            }
        }
      log_warning ("restore %.12s: shim %d does not answer: %s", c->id,
                   (int) pid, err ? err->msg : "?");
      error_free (&err);
    }
  /* No shim: whatever it recorded last. */
  engine_lock (e);
  bool active = c->status == CS_RUNNING || c->status == CS_PAUSED
                || c->status == CS_RESTARTING;
  if (active)
    {
      cleanup_json json_t *st = read_json (c->dir, "shim.json");
      cleanup_json json_t *ex = read_json (c->dir, "exit.json");
      if (st)
        lifecycle_apply_shim_state (e, c, st);
      c->status = c->has_been_started ? CS_EXITED : CS_CREATED;
      if (ex)
        {
          c->exit_code = (int) json_integer_value (json_object_get (ex, "exit_code"));
          int64_t f = engine_parse_time (json_string_value (json_object_get (ex, "finished_at")));
          if (f > 0)
            c->finished_ns = f;
        }
      else if (!st)
        c->exit_code = 255;
      if (c->finished_ns <= 0)
        c->finished_ns = events_now_ns ();
      c->pid = 0;
      container_save (e, c, NULL);
    }
  engine_unlock (e);
  if (active || (c->status == CS_EXITED
                 && json_is_true (json_object_get (c->host_config, "AutoRemove"))))
    schedule_auto_remove (e, c);
}

/* --- start ------------------------------------------------------------------------ */

/* Docker's exit codes for a failed start (the CLI maps the message too). */
static int
start_error_code (const char *msg)
{
  if (strstr (msg, "executable file not found") || strstr (msg, "no such file or directory"))
    return 127;
  if (strstr (msg, "permission denied") || strstr (msg, "is a directory"))
    return 126;
  return 128;
}

/* Wait (bounded) until the attachers that were promised before the
   start have connected to the new shim. */
static void
wait_for_attachers (engine *e, container *c)
{
  watcher w = { .fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK) };
  if (w.fd < 0)
    return;
  engine_lock (e);
  container_watch (c, &w);
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  while (c->pending_attach > 0)
    {
      engine_unlock (e);
      struct pollfd p = { .fd = w.fd, .events = POLLIN };
      struct timespec t1;
      clock_gettime (CLOCK_MONOTONIC, &t1);
      long spent = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
      int r = spent < ATTACH_WAIT_MS ? poll (&p, 1, (int) (ATTACH_WAIT_MS - spent)) : 0;
      uint64_t v;
      if (r > 0 && read (w.fd, &v, sizeof v) < 0)
        (void) 0;
      engine_lock (e);
      if (r == 0)
        break;
    }
  container_unwatch (c, &w);
  engine_unlock (e);
  close (w.fd);
}

static int
start_locked (engine *e, container *c, polis_error **err)
{
  engine_lock (e);
  if (c->removed || c->status == CS_REMOVING)
    {
      engine_unlock (e);
      return error_set (err, ERROR_CONFLICT, 0,
                        "container is marked for removal and cannot be started");
    }
  if (c->status == CS_PAUSED)
    {
      engine_unlock (e);
      return error_set (err, ERROR_CONFLICT, 0,
                        "cannot start a paused container, try unpause instead");
    }
  if (c->status == CS_RUNNING || c->status == CS_RESTARTING)
    {
      engine_unlock (e);
      return 1;
    }
  if (c->status == CS_DEAD)
    {
      engine_unlock (e);
      return error_set (err, ERROR_CONFLICT, 0, "cannot start a dead container");
    }
  bool shim_up = c->shim_up;
  engine_unlock (e);

  int ret = bundle_prepare (e, c, err);
  if (ret == 0 && !shim_up)
    ret = bundle_spawn_shim (e, c, err);
  if (ret == 0)
    {
      wait_for_attachers (e, c);
      ret = call_ok (c, json_pack ("{s:s}", "op", "start"), err);
    }
  engine_lock (e);
  if (ret < 0)
    {
      free (c->error);
      c->error = xstrdup ((*err)->msg);
      c->exit_code = start_error_code ((*err)->msg);
      if (c->has_been_started)
        {
          c->status = CS_EXITED;
          c->finished_ns = events_now_ns ();
        }
      c->exit_gen++;
      uint64_t exit_gen = c->exit_gen;
      container_save (e, c, NULL);
      container_notify (c);
      engine_unlock (e);
      volume_container_stop (e, c, exit_gen);
      if (strstr ((*err)->msg, "executable file not found")
          || strstr ((*err)->msg, "no such file or directory")
          || strstr ((*err)->msg, "permission denied"))
        (*err)->cls = ERROR_INVALID;
      schedule_auto_remove (e, c);
      return -1;
    }
  lifecycle_refresh_locked (e, c);
  if (c->status == CS_CREATED || c->status == CS_EXITED)
    {
      /* The shim answered before rewriting shim.json: it is running. */
      c->status = CS_RUNNING;
      c->started_ns = events_now_ns ();
    }
  c->has_been_started = true;
  c->manually_stopped = false;
  free (c->error);
  c->error = NULL;
  container_save (e, c, NULL);
  container_notify (c);
  engine_unlock (e);
  return 0;
}

int
engine_container_start (engine *e, container *c, polis_error **err)
{
  pthread_mutex_lock (&c->op_lock);
  int r = start_locked (e, c, err);
  pthread_mutex_unlock (&c->op_lock);
  return r;
}

/* --- waiting ---------------------------------------------------------------------- */

container_waiter *
engine_wait_register (engine *e, container *c, wait_condition cond)
{
  container_waiter *w = xzalloc (sizeof *w);
  w->w.fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w->w.fd < 0)
    {
      free (w);
      return NULL;
    }
  w->cond = cond;
  engine_lock (e);
  c->refs++;
  w->c = c;
  w->exit_gen = c->exit_gen;
  container_watch (c, &w->w);
  engine_unlock (e);
  return w;
}

static bool
wait_done_locked (container_waiter *w)
{
  container *c = w->c;
  bool active = c->status == CS_RUNNING || c->status == CS_PAUSED
                || c->status == CS_RESTARTING;
  switch (w->cond)
    {
    case WAIT_NOT_RUNNING:
      return c->removed || !active;
    case WAIT_NEXT_EXIT:
      return c->removed || c->exit_gen > w->exit_gen;
    case WAIT_REMOVED:
    default:
      return c->removed;
    }
}

int
engine_wait_block (engine *e, container_waiter *w, int stop_fd, int client_fd,
                   int *exit_code, char **errmsg)
{
  for (;;)
    {
      engine_lock (e);
      if (wait_done_locked (w))
        {
          *exit_code = w->c->exit_code;
          *errmsg = w->c->error ? xstrdup (w->c->error) : NULL;
          engine_unlock (e);
          return 0;
        }
      engine_unlock (e);
      struct pollfd p[3] = {
        { .fd = w->w.fd, .events = POLLIN },
        { .fd = stop_fd, .events = POLLIN },
        { .fd = client_fd, .events = POLLRDHUP },
      };
      int r = poll (p, client_fd >= 0 ? 3 : 2, -1);
      if (r < 0 && errno != EINTR)
        return -1;
      if (p[1].revents || (client_fd >= 0 && p[2].revents))
        return -1;
      uint64_t v;
      if (p[0].revents && read (w->w.fd, &v, sizeof v) < 0)
        (void) 0;
    }
}

int
engine_wait_fd (container_waiter *w)
{
  return w->w.fd;
}

bool
engine_wait_done (engine *e, container_waiter *w)
{
  uint64_t v;
  if (read (w->w.fd, &v, sizeof v) < 0)
    (void) 0; /* nothing pending */
  engine_lock (e);
  bool done = wait_done_locked (w);
  engine_unlock (e);
  return done;
}

void
engine_wait_free (engine *e, container_waiter *w)
{
  if (w == NULL)
    return;
  engine_lock (e);
  container_unwatch (w->c, &w->w);
  engine_unlock (e);
  close (w->w.fd);
  container_unref (w->c);
  free (w);
}

/* Block until C is not running (or MS pass). */
static void
wait_not_running (engine *e, container *c, int ms)
{
  container_waiter *w = engine_wait_register (e, c, WAIT_NOT_RUNNING);
  if (w == NULL)
    return;
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (;;)
    {
      engine_lock (e);
      bool done = wait_done_locked (w);
      engine_unlock (e);
      clock_gettime (CLOCK_MONOTONIC, &t1);
      long spent = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
      if (done || spent >= ms)
        break;
      struct pollfd p = { .fd = w->w.fd, .events = POLLIN };
      if (poll (&p, 1, (int) (ms - spent)) > 0)
        {
          uint64_t v;
          if (read (w->w.fd, &v, sizeof v) < 0)
            (void) 0;
        }
    }
  engine_wait_free (e, w);
}

/* --- stop, kill, restart, pause ----------------------------------------------------- */

static bool
active_locked (container *c)
{
  return c->status == CS_RUNNING || c->status == CS_PAUSED
         || c->status == CS_RESTARTING;
}

static int
stop_locked (engine *e, container *c, int timeout, const char *signal,
             polis_error **err)
{
  engine_lock (e);
  if (!active_locked (c) || !c->shim_up)
    {
      engine_unlock (e);
      return 1;
    }
  if (timeout < 0)
    {
      json_t *st = json_object_get (c->config, "StopTimeout");
      timeout = json_is_integer (st) ? (int) json_integer_value (st) : 10;
    }
  if (signal == NULL || *signal == '\0')
    signal = json_string_value (json_object_get (c->config, "StopSignal"));
  int sig = signal && *signal ? bundle_parse_signal (signal) : SIGTERM;
  if (sig == 0)
    {
      engine_unlock (e);
      return error_set (err, ERROR_INVALID, EINVAL, "Invalid signal: %s", signal);
    }
  c->manually_stopped = true;
  container_save (e, c, NULL);
  engine_unlock (e);

  char s[16];
  snprintf (s, sizeof s, "%d", sig);
  container_event (e, c, "kill", json_pack ("{s:s}", "signal", s));
  if (call_ok (c, json_pack ("{s:s,s:i,s:i}", "op", "stop", "timeout", timeout,
                             "signal", sig),
               err)
      < 0)
    return -1;
  /* The shim kills after TIMEOUT; give it that and some slack. */
  wait_not_running (e, c, timeout < 0 ? 20000 : (timeout + 10) * 1000);
  container_event (e, c, "stop", NULL);
  return 0;
}

int
engine_container_stop (engine *e, container *c, int timeout,
                       const char *signal, polis_error **err)
{
  pthread_mutex_lock (&c->op_lock);
  int r = stop_locked (e, c, timeout, signal, err);
  pthread_mutex_unlock (&c->op_lock);
  return r;
}

int
engine_container_restart (engine *e, container *c, int timeout,
                          const char *signal, polis_error **err)
{
  pthread_mutex_lock (&c->op_lock);
  int r = stop_locked (e, c, timeout, signal, err);
  if (r >= 0)
    r = start_locked (e, c, err);
  pthread_mutex_unlock (&c->op_lock);
  if (r >= 0)
    {
      container_event (e, c, "restart", NULL);
      return 0;
    }
  return -1;
}

int
engine_container_kill (engine *e, container *c, const char *signal,
                       polis_error **err)
{
  int sig = signal && *signal ? bundle_parse_signal (signal) : SIGKILL;
  if (sig == 0)
    return error_set (err, ERROR_INVALID, EINVAL, "Invalid signal: %s", signal);
  pthread_mutex_lock (&c->op_lock);
  engine_lock (e);
  bool ok = active_locked (c) && c->shim_up;
  cleanup_free char *name = xstrdup (c->name);
  engine_unlock (e);
  int r = 0;
  if (!ok)
    r = error_set (err, ERROR_CONFLICT, 0,
                   "cannot kill container: %s: container %s is not running",
                   name, c->id);
  else
    r = call_ok (c, json_pack ("{s:s,s:i,s:b}", "op", "kill", "signal", sig, "all",
                               false),
                 err);
  if (r == 0)
    {
      char s[16];
      snprintf (s, sizeof s, "%d", sig);
      container_event (e, c, "kill", json_pack ("{s:s}", "signal", s));
      /* Docker waits for a SIGKILLed container to be gone, so that a
         following `rm` finds it stopped. */
      if (sig == SIGKILL)
        wait_not_running (e, c, 10000);
    }
  pthread_mutex_unlock (&c->op_lock);
  return r;
}

static int
pause_op (engine *e, container *c, bool pause, polis_error **err)
{
  pthread_mutex_lock (&c->op_lock);
  engine_lock (e);
  int r = 0;
  if (!active_locked (c) || !c->shim_up)
    r = error_set (err, ERROR_CONFLICT, 0, "Container %s is not running", c->id);
  else if (pause && c->status == CS_PAUSED)
    r = error_set (err, ERROR_CONFLICT, 0, "Container %s is already paused",
                   c->id);
  else if (!pause && c->status != CS_PAUSED)
    r = error_set (err, ERROR_CONFLICT, 0, "Container %s is not paused", c->id);
  else if (c->status == CS_RESTARTING)
    r = error_set (err, ERROR_CONFLICT, 0,
                   "Container %s is restarting, wait until the container is "
                   "running",
                   c->id);
  engine_unlock (e);
  if (r == 0)
    r = call_ok (c, json_pack ("{s:s}", "op", pause ? "pause" : "resume"), err);
  if (r == 0)
    {
      engine_lock (e);
      if (!lifecycle_refresh_locked (e, c) || c->status != (pause ? CS_PAUSED : CS_RUNNING))
        c->status = pause ? CS_PAUSED : CS_RUNNING;
      container_save (e, c, NULL);
      container_notify (c);
      engine_unlock (e);
      container_event (e, c, pause ? "pause" : "unpause", NULL);
    }
  pthread_mutex_unlock (&c->op_lock);
  return r;
}

int
engine_container_pause (engine *e, container *c, polis_error **err)
{
  return pause_op (e, c, true, err);
}

int
engine_container_unpause (engine *e, container *c, polis_error **err)
{
  return pause_op (e, c, false, err);
}

int
engine_container_resize (engine *e, container *c, int height, int width,
                         polis_error **err)
{
  engine_lock (e);
  bool ok = active_locked (c) && c->shim_up;
  engine_unlock (e);
  if (!ok)
    return error_set (err, ERROR_CONFLICT, 0, "Container %s is not running",
                      c->id);
  return call_ok (c, json_pack ("{s:s,s:i,s:i}", "op", "resize", "height", height,
                                "width", width),
                  err);
}

/* --- attach ----------------------------------------------------------------------- */

void
engine_attach_expect (engine *e, container *c, int delta)
{
  engine_lock (e);
  c->pending_attach += delta;
  if (c->pending_attach < 0)
    c->pending_attach = 0;
  container_notify (c);
  engine_unlock (e);
}

int
engine_attach_open (engine *e, container *c, bool in, bool out, bool errs,
                    const char *detach_keys, int stop_fd, int client_fd,
                    polis_error **err)
{
  watcher w = { .fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK) };
  if (w.fd < 0)
    return error_sys (err, "eventfd");
  engine_lock (e);
  container_watch (c, &w);
  while (!c->shim_up && !c->removed)
    {
      engine_unlock (e);
      /* The client's socket is hijacked: a half-close (its stdin ended, or
         it attached no stdin) is not a hang-up; only HUP/ERR are. */
      struct pollfd p[3] = {
        { .fd = w.fd, .events = POLLIN },
        { .fd = stop_fd, .events = POLLIN },
        { .fd = client_fd, .events = 0 },
      };
      int r = poll (p, 3, -1);
      engine_lock (e);
      if (r < 0 && errno != EINTR)
        break;
      if (p[1].revents || p[2].revents)
        break;
      uint64_t v;
      if (p[0].revents && read (w.fd, &v, sizeof v) < 0)
        (void) 0;
    }
  bool up = c->shim_up && !c->removed;
  container_unwatch (c, &w);
  engine_unlock (e);
  close (w.fd);
  int fd = -1;
  if (!up)
    error_set (err, ERROR_CONFLICT, 0, "container %s is not running", c->id);
  else
    {
      json_t *req = json_pack ("{s:s,s:b,s:b,s:b}", "op", "attach", "stdin", in,
                               "stdout", out, "stderr", errs);
      if (detach_keys && *detach_keys)
        json_object_set_new (req, "detach_keys", json_string (detach_keys));
      json_t *r = call (c, req, &fd, err);
      json_decref (r);
    }
  return fd;
}
