/* shim_container.c - the container's life as the shim drives it, through
 * the runtime library in this process: the init is our child.
 *
 * created --start--> running --exit--> exited (or restarting, by policy,
 * back to running after the back-off).  Every change is written to
 * shim.json at once; an exit is written to exit.json (fsynced) before the
 * `die` event goes out, so that a daemon that restarts finds it.
 */
#include "shim.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/container_ctl.h"

/* Docker's "never" for a time. */
#define SHIM_ZERO_TIME "0001-01-01T00:00:00Z"

int64_t
shim_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
shim_exit_code (int status)
{
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return WEXITSTATUS (status);
}

const char *
shim_status_name (shim_status s)
{
  static const char *const names[] = {
    [SHIM_CREATED] = "created",       [SHIM_RUNNING] = "running",
    [SHIM_PAUSED] = "paused",         [SHIM_RESTARTING] = "restarting",
    [SHIM_EXITED] = "exited",         [SHIM_DEAD] = "dead",
  };
  return names[s];
}

bool
shim_container_active (const shim *sh)
{
  return sh->status == SHIM_RUNNING || sh->status == SHIM_PAUSED;
}

static json_t *
shim_time_json (int64_t ns)
{
  if (ns == 0)
    return json_string (SHIM_ZERO_TIME);
  char buf[JSONLOG_TIME_MAX];
  jsonlog_format_time (ns, buf);
  return json_string (buf);
}

json_t *
shim_state_json (const shim *sh)
{
  char rbuf[32];
  json_t *j = json_pack ("{s:s,s:i,s:i,s:b,s:o,s:o,s:i,s:b,s:s}", "status",
                         shim_status_name (sh->status), "pid",
                         shim_container_active (sh) ? (int) sh->pid : 0, "exit_code",
                         sh->exit_code, "oom_killed", sh->oom_killed, "started_at",
                         shim_time_json (sh->started_ns), "finished_at",
                         shim_time_json (sh->finished_ns), "restart_count", sh->restart.count,
                         "manually_stopped", sh->manually_stopped, "restart_policy",
                         restart_name (&sh->o.restart, rbuf));
  if (sh->health.argv)
    json_object_set_new (j, "health", health_state_to_json (&sh->health_st));
  return j;
}

void
shim_save_state (shim *sh)
{
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *j = shim_state_json (sh);
  cleanup_free char *s = pjson_dump (j);
  if (file_write_atomic_at (sh->dirfd, "shim.json", s, strlen (s), 0600, false, &err) < 0)
    log_warning ("save shim.json: %s", err->msg);
}

static void
shim_save_exit (shim *sh)
{
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *j = json_pack ("{s:i,s:b,s:o}", "exit_code", sh->exit_code,
                                      "oom_killed", sh->oom_killed, "finished_at",
                                      shim_time_json (sh->finished_ns));
  cleanup_free char *s = pjson_dump (j);
  if (file_write_atomic_at (sh->dirfd, "exit.json", s, strlen (s), 0600, true, &err) < 0)
    log_warning ("save exit.json: %s", err->msg);
}

/* Has the cgroup counted an OOM kill since we last looked?  Then the
   container was OOM-killed (Docker's OOMKilled: any process of it), and
   the `oom` event goes out. */
static bool
shim_oom_check (shim *sh)
{
  if (sh->cst == NULL || sh->cst->cg == NULL || sh->oom_base < 0)
    return false;
  long long n = cgroup_oom_kills (sh->cst->cg);
  if (n <= sh->oom_seen)
    return false;
  sh->oom_seen = n;
  sh->oom_killed = true;
  shim_save_state (sh); /* before the event: polisd reads it then */
  shim_emit (sh, "oom", NULL);
  return true;
}

static loop_result
shim_oom_on_timer (loop *l, void *data)
{
  (void) l;
  shim *sh = data;
  sh->oom_timer = NULL;
  shim_oom_check (sh);
  return LOOP_CLOSE;
}

static loop_result
shim_oom_on_event (loop *l, int fd, uint32_t events, void *data)
{
  (void) events;
  shim *sh = data;
  char buf[512] __attribute__ ((aligned (8)));
  while (read (fd, buf, sizeof buf) > 0)
    ;
  /* cgroup v1 signals when the cgroup runs out of memory, before the
     OOM killer has counted its kill: look again a little later. */
  if (!shim_oom_check (sh) && sh->oom_timer == NULL)
    sh->oom_timer = loop_add_timer (l, 100, 0, shim_oom_on_timer, sh);
  return LOOP_CONTINUE;
}

static void
shim_oom_unwatch (shim *sh)
{
  loop_watch_close (sh->oom_w);
  sh->oom_w = NULL;
  loop_timer_cancel (sh->oom_timer);
  sh->oom_timer = NULL;
}

/* Remove the runtime's container.  FORCE also kills a live one. */
static int
shim_runtime_delete (shim *sh, bool force, polis_error **err)
{
  shim_oom_unwatch (sh);
  state_free (sh->cst);
  sh->cst = NULL;
  return container_delete (sh->o.runtime_root, sh->o.id, force, err);
}

int
shim_container_create (shim *sh, polis_error **err)
{
  /* What a shim killed before us left behind: a stopped container only
     (a live one belongs to someone). */
  cleanup_error polis_error *qerr = NULL;
  cleanup_json json_t *old = container_query_state (sh->o.runtime_root, sh->o.id, &qerr);
  if (old)
    {
      const char *st = json_string_value (json_object_get (old, "status"));
      if (st && strcmp (st, "stopped") != 0)
        return error_set (err, ERROR_CONFLICT, EEXIST, "container %s is already %s",
                          sh->o.id, st);
      if (container_delete (sh->o.runtime_root, sh->o.id, true, err) < 0)
        return -1;
    }

  int child[3];
  shim_stdio *io = shim_stdio_new (sh, SHIM_IO_CONTAINER, sh->o.tty, sh->o.open_stdin,
                                   sh->o.stdin_once, child, NULL, NULL, err);
  if (io == NULL)
    return -1;
  container_opts o = {
    .root = sh->o.runtime_root,
    .id = sh->o.id,
    .bundle = sh->o.bundle,
    .stdio = child,
    .console_master = sh->o.tty,
  };
  container_created cr = { 0, -1 };
  int r = container_create (&o, &cr, err);
  /* create moved us into the bundle: hold no directory of it. */
  if (chdir ("/") < 0)
    (void) errno;
  if (r < 0)
    {
      shim_stdio_free (io);
      return -1;
    }
  if (shim_stdio_started (io, cr.console_master, err) < 0)
    {
      shim_stdio_free (io);
      cleanup_error polis_error *e = NULL;
      container_delete (sh->o.runtime_root, sh->o.id, true, &e);
      return -1;
    }
  shim_stdio_free (sh->io);
  sh->io = io;
  sh->pid = cr.pid;
  cleanup_close int dirfd = -1;
  cleanup_error polis_error *serr = NULL;
  state_free (sh->cst);
  sh->cst = state_open_container (sh->o.runtime_root, sh->o.id, false, &dirfd, &serr);
  sh->oom_base = sh->cst && sh->cst->cg ? cgroup_oom_kills (sh->cst->cg) : -1;
  sh->oom_seen = sh->oom_base;
  sh->oom_killed = false;
  shim_oom_unwatch (sh);
  if (sh->cst && sh->cst->cg && sh->oom_base >= 0)
    {
      cleanup_error polis_error *oerr = NULL;
      int fd = cgroup_oom_watch (sh->cst->cg, &oerr);
      if (fd >= 0)
        sh->oom_w = loop_add_fd (sh->loop, fd, EPOLLIN, shim_oom_on_event, NULL, sh, &oerr);
      if (oerr)
        log_debug ("%s: no OOM events: %s", sh->o.id, oerr->msg);
    }
  sh->status = SHIM_CREATED;
  shim_save_state (sh);
  return 0;
}

/* Start the created container (BY_POLICY: a restart, which keeps the
   restart count and back-off that a user's start resets). */
static int
shim_container_run (shim *sh, bool by_policy, polis_error **err)
{
  if (sh->status == SHIM_EXITED || sh->status == SHIM_RESTARTING
      || sh->status == SHIM_DEAD)
    {
      if (shim_container_create (sh, err) < 0)
        return -1;
    }
  if (container_start (sh->o.runtime_root, sh->o.id, err) < 0)
    {
      cleanup_error polis_error *e = NULL;
      int status;
      shim_runtime_delete (sh, true, &e);
      if (sh->pid > 0)
        while (waitpid (sh->pid, &status, 0) < 0 && errno == EINTR)
          ;
      sh->pid = 0;
      shim_stdio_process_exited (sh->io);
      sh->status = SHIM_EXITED;
      shim_save_state (sh);
      return -1;
    }
  if (!by_policy)
    sh->restart = (restart_state){ 0, 0 };
  sh->status = SHIM_RUNNING;
  sh->started_ns = shim_now_ns ();
  sh->manually_stopped = false;
  shim_health_start (sh);
  shim_save_state (sh);
  shim_emit (sh, "start", json_pack ("{s:i}", "pid", (int) sh->pid));
  return 0;
}

int
shim_container_start (shim *sh, polis_error **err)
{
  if (shim_container_active (sh))
    return error_set (err, ERROR_CONFLICT, EBUSY, "container %s is already running", sh->o.id);
  if (sh->status == SHIM_RESTARTING)
    return error_set (err, ERROR_CONFLICT, EBUSY,
                      "container %s is restarting: stop it first", sh->o.id);
  return shim_container_run (sh, false, err);
}

static loop_result
shim_restart_on_timer (loop *l, void *data)
{
  (void) l;
  shim *sh = data;
  sh->restart_timer = NULL;
  cleanup_error polis_error *err = NULL;
  if (shim_container_run (sh, true, &err) < 0)
    {
      log_error ("restart %s: %s", sh->o.id, err->msg);
      sh->status = SHIM_EXITED;
      shim_save_state (sh);
      shim_notify_waiters (sh, false);
    }
  return LOOP_CLOSE;
}

void
shim_container_exited (shim *sh, int status)
{
  bool started = sh->status != SHIM_CREATED;
  sh->pid = 0;
  sh->exit_code = shim_exit_code (status);
  sh->finished_ns = shim_now_ns ();
  loop_timer_cancel (sh->stop_timer);
  sh->stop_timer = NULL;
  shim_health_stop (sh);
  /* One last look: the event may not have been read yet. */
  shim_oom_check (sh);
  shim_stdio_process_exited (sh->io);
  cleanup_error polis_error *err = NULL;
  if (shim_runtime_delete (sh, true, &err) < 0)
    log_warning ("delete %s: %s", sh->o.id, err->msg);

  uint64_t delay = 0;
  uint64_t ran_ms = (uint64_t) (sh->finished_ns - sh->started_ns) / 1000000;
  bool restart = started && !sh->exiting
                 && restart_decide (&sh->o.restart, &sh->restart, sh->exit_code,
                                    sh->manually_stopped, ran_ms, &delay);
  sh->status = restart ? SHIM_RESTARTING : SHIM_EXITED;
  shim_save_exit (sh);
  shim_save_state (sh);
  shim_emit (sh, "die", json_pack ("{s:i,s:b}", "exit_code", sh->exit_code, "oom_killed",
                                   sh->oom_killed));
  shim_notify_waiters (sh, restart);
  if (restart)
    {
      shim_emit (sh, "restart", json_pack ("{s:i,s:I}", "restart_count", sh->restart.count,
                                           "delay_ms", (json_int_t) delay));
      sh->restart_timer = loop_add_timer (sh->loop, delay, 0, shim_restart_on_timer, sh);
    }
  else if (sh->o.auto_remove)
    {
      sh->exiting = true;
      loop_quit (sh->loop, 0);
    }
}

/* A restart is due: call it off (stop, kill). */
static void
shim_cancel_restart (shim *sh)
{
  loop_timer_cancel (sh->restart_timer);
  sh->restart_timer = NULL;
  sh->status = SHIM_EXITED;
  shim_save_state (sh);
  shim_notify_waiters (sh, false);
}

int
shim_container_kill (shim *sh, int sig, bool all, polis_error **err)
{
  if (sh->status == SHIM_RESTARTING)
    {
      sh->manually_stopped = true;
      shim_cancel_restart (sh);
      return 0;
    }
  if (!shim_container_active (sh) && !all)
    return error_set (err, ERROR_CONFLICT, ESRCH, "Container %s is not running", sh->o.id);
  /* Docker: a container killed by hand is not restarted (ExitOnNext). */
  sh->manually_stopped = true;
  shim_save_state (sh);
  if (container_kill (sh->o.runtime_root, sh->o.id, sig, all, err) < 0)
    return -1;
  if (sh->status == SHIM_PAUSED && (sig == SIGKILL || sig == SIGTERM))
    {
      /* A frozen process cannot die: thaw it, as Docker does. */
      cleanup_error polis_error *e = NULL;
      if (container_ctl_resume (sh->o.runtime_root, sh->o.id, &e) == 0)
        sh->status = SHIM_RUNNING;
    }
  return 0;
}

static loop_result
shim_stop_on_timer (loop *l, void *data)
{
  (void) l;
  shim *sh = data;
  sh->stop_timer = NULL;
  cleanup_error polis_error *err = NULL;
  if (shim_container_active (sh)
      && container_kill (sh->o.runtime_root, sh->o.id, SIGKILL, false, &err) < 0)
    log_warning ("stop %s: %s", sh->o.id, err->msg);
  return LOOP_CLOSE;
}

int
shim_container_stop (shim *sh, int sig, int timeout_s, polis_error **err)
{
  sh->manually_stopped = true;
  if (sh->status == SHIM_RESTARTING)
    {
      shim_cancel_restart (sh);
      return 0;
    }
  if (!shim_container_active (sh))
    {
      shim_save_state (sh);
      return 0;
    }
  cleanup_error polis_error *kerr = NULL;
  if (shim_container_kill (sh, timeout_s == 0 ? SIGKILL : sig, false, &kerr) < 0
      && kerr->cls != ERROR_CONFLICT)
    {
      *err = steal_pointer (&kerr);
      return -1;
    }
  if (timeout_s > 0 && sh->stop_timer == NULL)
    sh->stop_timer = loop_add_timer (sh->loop, (uint64_t) timeout_s * 1000, 0,
                                     shim_stop_on_timer, sh);
  return 0;
}

int
shim_container_pause (shim *sh, bool pause, polis_error **err)
{
  if (pause)
    {
      if (sh->status == SHIM_PAUSED)
        return error_set (err, ERROR_CONFLICT, EBUSY, "Container %s is already paused",
                          sh->o.id);
      if (sh->status != SHIM_RUNNING)
        return error_set (err, ERROR_CONFLICT, EINVAL, "Container %s is not running",
                          sh->o.id);
      if (container_ctl_pause (sh->o.runtime_root, sh->o.id, err) < 0)
        return -1;
      sh->status = SHIM_PAUSED;
    }
  else
    {
      if (sh->status != SHIM_PAUSED)
        return error_set (err, ERROR_CONFLICT, EINVAL, "Container %s is not paused",
                          sh->o.id);
      if (container_ctl_resume (sh->o.runtime_root, sh->o.id, err) < 0)
        return -1;
      sh->status = SHIM_RUNNING;
    }
  shim_save_state (sh);
  return 0;
}

int
shim_container_update (shim *sh, const json_t *resources, const char *restart,
                       polis_error **err)
{
  restart_policy p = sh->o.restart;
  if (restart && restart_parse (restart, &p, err) < 0)
    return -1;
  if (resources)
    {
      if (!shim_container_active (sh) && sh->status != SHIM_CREATED)
        return error_set (err, ERROR_CONFLICT, EINVAL,
                          "Container %s is not running: its resources cannot change",
                          sh->o.id);
      if (container_ctl_update (sh->o.runtime_root, sh->o.id, resources, err) < 0)
        return -1;
    }
  sh->o.restart = p;
  shim_save_state (sh);
  return 0;
}

int
shim_container_delete (shim *sh, bool force, polis_error **err)
{
  if (shim_container_active (sh) && !force)
    return error_set (err, ERROR_CONFLICT, EBUSY,
                      "You cannot remove a running container %s. Stop the container "
                      "before attempting removal or force remove",
                      sh->o.id);
  loop_timer_cancel (sh->restart_timer);
  sh->restart_timer = NULL;
  if (sh->status == SHIM_RESTARTING)
    sh->status = SHIM_EXITED;
  if (sh->pid > 0)
    {
      pid_t pid = sh->pid;
      bool was_started = sh->status != SHIM_CREATED;
      sh->manually_stopped = true;
      if (shim_runtime_delete (sh, true, err) < 0)
        return -1;
      sh->exiting = true; /* the exit below must not restart it */
      int status = 0;
      while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
      if (was_started)
        shim_container_exited (sh, status);
      else
        {
          /* Never started: no exit to report. */
          sh->pid = 0;
          shim_stdio_process_exited (sh->io);
          sh->status = SHIM_EXITED;
          shim_save_state (sh);
        }
      return 0;
    }
  return shim_runtime_delete (sh, true, err);
}
