/* shim_exec.c - processes run inside the running container: exec
 * requests, and the health check's probes.
 *
 * Each is the shim's child (container_exec_spawn), with its own stdio.
 * It is over once it has been reaped and its output has ended; then an
 * exec's record, execs/<id>.json, gets its exit code and an exec_die event
 * goes out, or a probe's result goes into the container's health.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "runtime/container_exec.h"

#define SHIM_EXEC_ID_MAX 128

struct shim_exec
{
  shim *sh;
  char *id; /* NULL for a probe */
  pid_t pid;
  shim_stdio *io;
  bool reaped;
  bool io_done;
  int exit_code;
  /* probes */
  bool probe;
  bool abandoned; /* the container stopped: the result does not count */
  bool timed_out;
  int64_t start_ns;
  loop_timer *timeout;
  shim_exec *next;
};

static int
shim_exec_check_id (const char *id, polis_error **err)
{
  size_t n = strlen (id);
  if (n == 0 || n > SHIM_EXEC_ID_MAX || id[0] == '.')
    goto bad;
  for (size_t i = 0; i < n; i++)
    if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z')
          || (id[i] >= '0' && id[i] <= '9') || id[i] == '_' || id[i] == '-' || id[i] == '.'))
      goto bad;
  return 0;
bad:
  return error_set (err, ERROR_INVALID, EINVAL, "invalid exec id \"%.140s\"", id);
}

/* execs/<id>.json: {"exit_code":N|null,"pid":P,"running":B}. */
static void
shim_exec_record (shim *sh, const char *id, pid_t pid, bool running, int exit_code)
{
  cleanup_error polis_error *err = NULL;
  if (mkdirat (sh->dirfd, "execs", 0700) < 0 && errno != EEXIST)
    {
      log_warning ("exec %s: create execs/: %s", id, strerror (errno));
      return;
    }
  cleanup_close int dfd = openat (sh->dirfd, "execs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    {
      log_warning ("exec %s: open execs/: %s", id, strerror (errno));
      return;
    }
  cleanup_json json_t *j = json_pack ("{s:i,s:b}", "pid", (int) pid, "running", running);
  json_object_set_new (j, "exit_code", running ? json_null () : json_integer (exit_code));
  cleanup_free char *s = pjson_dump (j);
  cleanup_free char *name = xasprintf ("%s.json", id);
  if (file_write_atomic_at (dfd, name, s, strlen (s), 0600, false, &err) < 0)
    log_warning ("exec %s: %s", id, err->msg);
}

static void
shim_exec_unlink (shim *sh, shim_exec *x)
{
  for (shim_exec **pp = &sh->execs; *pp; pp = &(*pp)->next)
    if (*pp == x)
      {
        *pp = x->next;
        sh->n_execs--;
        break;
      }
}

static void
shim_exec_free (shim_exec *x)
{
  shim_stdio_free (x->io);
  loop_timer_cancel (x->timeout);
  free (x->id);
  free (x);
}

static void shim_health_schedule (shim *sh, int64_t delay_ns);

/* A probe is over: its result counts towards the container's health. */
static void
shim_probe_done (shim *sh, shim_exec *x, health_result *r)
{
  if (sh->probe == x)
    sh->probe = NULL;
  if (x && x->abandoned)
    {
      free (r->output);
      return;
    }
  bool changed = health_record (&sh->health_st, &sh->health, r, sh->started_ns);
  /* shim.json first: polisd reads it when the event arrives. */
  shim_save_state (sh);
  if (changed)
    shim_emit (sh, "health_status",
               json_pack ("{s:s}", "health", health_status_name (sh->health_st.status)));
  int64_t now = shim_now_ns ();
  shim_health_schedule (sh, health_next_interval_ns (&sh->health_st, &sh->health,
                                                     sh->started_ns, now));
}

static void
shim_exec_finish (shim_exec *x)
{
  shim *sh = x->sh;
  shim_exec_unlink (sh, x);
  if (x->probe)
    {
      health_result r = { .start_ns = x->start_ns, .end_ns = shim_now_ns () };
      if (x->timed_out)
        {
          char d[40];
          r.exit_code = -1;
          r.output = xasprintf ("Health check exceeded timeout (%s)",
                                health_duration_string (sh->health.timeout_ns, d));
        }
      else
        {
          r.exit_code = x->exit_code;
          r.output = shim_stdio_captured (x->io);
        }
      shim_probe_done (sh, x, &r);
    }
  else
    {
      shim_exec_record (sh, x->id, x->pid, false, x->exit_code);
      shim_emit (sh, "exec_die", json_pack ("{s:s,s:i,s:i}", "exec_id", x->id, "exit_code",
                                            x->exit_code, "pid", (int) x->pid));
    }
  shim_exec_free (x);
  /* Starting an exec parses the container's config and more: give the
     freed pages back rather than let the heap keep them. */
  malloc_trim (0);
}

static void
shim_exec_io_ended (void *data)
{
  shim_exec *x = data;
  x->io_done = true;
  if (x->reaped)
    shim_exec_finish (x);
}

bool
shim_exec_reaped (shim *sh, pid_t pid, int status)
{
  for (shim_exec *x = sh->execs; x; x = x->next)
    {
      if (x->pid != pid || x->reaped)
        continue;
      x->reaped = true;
      x->exit_code = shim_exit_code (status);
      /* Ends the output (the end is reported from the loop, later). */
      shim_stdio_process_exited (x->io);
      if (x->io_done)
        shim_exec_finish (x);
      return true;
    }
  return false;
}

/* Start a process in the container with PROCESS (or ARGV on the
   container's process) and the stdio of MODE.  Returns the new exec,
   linked in; NULL with *err set. */
static shim_exec *
shim_exec_spawn (shim *sh, const char *id, const json_t *process, char **argv,
                 shim_io_mode mode, bool tty, bool in, polis_error **err)
{
  if (sh->n_execs >= SHIM_EXECS_MAX)
    {
      error_set (err, ERROR_UNAVAILABLE, EAGAIN, "too many execs in container %s", sh->o.id);
      return NULL;
    }
  shim_exec *x = xzalloc (sizeof *x);
  x->sh = sh;
  x->id = id ? xstrdup (id) : NULL;
  int child[3];
  x->io = shim_stdio_new (sh, mode, tty, in, true, child, shim_exec_io_ended, x, err);
  if (x->io == NULL)
    {
      shim_exec_free (x);
      return NULL;
    }
  container_exec_opts o = {
    .root = sh->o.runtime_root,
    .id = sh->o.id,
    .process = process,
    .args = argv,
    .tty = tty,
    .stdio = child,
  };
  int master = -1;
  if (container_exec_spawn (&o, &x->pid, &master, err) < 0
      || shim_stdio_started (x->io, master, err) < 0)
    {
      if (x->pid > 0)
        {
          kill (x->pid, SIGKILL); /* reaped by the SIGCHLD handler as unknown */
          x->pid = 0;
        }
      shim_exec_free (x);
      return NULL;
    }
  x->next = sh->execs;
  sh->execs = x;
  sh->n_execs++;
  return x;
}

int
shim_exec_request (shim *sh, shim_conn *c, const json_t *req, polis_error **err)
{
  const char *id = NULL, *keys = NULL;
  json_t *process = NULL;
  bool tty = false, in = false, detach = false, out = true, errs = true;
  if (pjson_get_string (req, "request", "exec_id", true, &id, err) < 0
      || pjson_get_object (req, "request", "process", true, &process, err) < 0
      || pjson_get_bool (req, "request", "tty", &tty, err) < 0
      || pjson_get_bool (req, "request", "stdin", &in, err) < 0
      || pjson_get_bool (req, "request", "detach", &detach, err) < 0
      || pjson_get_bool (req, "request", "stdout", &out, err) < 0
      || pjson_get_bool (req, "request", "stderr", &errs, err) < 0
      || pjson_get_string (req, "request", "detach_keys", false, &keys, err) < 0
      || shim_exec_check_id (id, err) < 0)
    return -1;
  uint8_t k[SHIM_PROTO_DETACH_KEYS_MAX];
  size_t nk;
  if (keys && *keys && shim_proto_parse_detach_keys (keys, k, &nk, err) < 0)
    return -1; /* now: after the reply it could not be said */
  if (sh->status == SHIM_PAUSED)
    return error_set (err, ERROR_CONFLICT, EBUSY,
                      "Container %s is paused, unpause the container before exec", sh->o.id);
  if (sh->status != SHIM_RUNNING)
    return error_set (err, ERROR_CONFLICT, EINVAL, "Container %s is not running", sh->o.id);
  for (shim_exec *x = sh->execs; x; x = x->next)
    if (x->id && strcmp (x->id, id) == 0)
      return error_set (err, ERROR_CONFLICT, EEXIST, "exec %s is already running", id);

  cleanup_json json_t *proc = json_deep_copy (process);
  json_object_set_new (proc, "terminal", json_boolean (tty));
  shim_exec *x = shim_exec_spawn (sh, id, proc, NULL,
                                  detach ? SHIM_IO_DISCARD : SHIM_IO_EXEC, tty,
                                  in && !detach, err);
  if (x == NULL)
    {
      /* Docker's codes: 127 for a missing program, 126 otherwise. */
      int code = strstr ((*err)->msg, "executable file not found")
                         || strstr ((*err)->msg, "no such file or directory")
                         || strstr ((*err)->msg, "No such file or directory")
                     ? 127
                     : 126;
      shim_exec_record (sh, id, 0, false, code);
      return -1;
    }
  shim_exec_record (sh, id, x->pid, true, 0);
  json_t *fields = json_pack ("{s:i}", "pid", (int) x->pid);
  size_t n;
  cleanup_free char *line = shim_proto_reply_ok (fields, &n);
  shim_conn_send (c, line, n);
  if (detach)
    return 0;
  /* Nothing was read yet: the loop has not run since the start. */
  return shim_stdio_attach (x->io, c, in, out, errs, keys, err);
}

int
shim_exec_resize (shim *sh, const char *exec_id, unsigned height,
                  unsigned width, polis_error **err)
{
  for (shim_exec *x = sh->execs; x; x = x->next)
    if (x->id && strcmp (x->id, exec_id) == 0)
      return shim_stdio_resize (x->io, height, width, err);
  return error_set (err, ERROR_NOT_FOUND, ENOENT, "No such exec instance: %s", exec_id);
}

void
shim_exec_free_all (shim *sh)
{
  while (sh->execs)
    {
      shim_exec *x = sh->execs;
      sh->execs = x->next;
      shim_exec_free (x);
    }
  sh->n_execs = 0;
  sh->probe = NULL;
}

/* ---- health checks ------------------------------------------------------------ */

static loop_result
shim_probe_on_timeout (loop *l, void *data)
{
  (void) l;
  shim_exec *x = data;
  x->timeout = NULL;
  x->timed_out = true;
  if (!x->reaped)
    kill (x->pid, SIGKILL);
  return LOOP_CLOSE;
}

static loop_result
shim_health_on_timer (loop *l, void *data)
{
  (void) l;
  shim *sh = data;
  sh->health_timer = NULL;
  if (sh->status != SHIM_RUNNING)
    {
      /* Paused: try again later, as Docker's exec would fail now. */
      shim_health_schedule (sh, sh->health.interval_ns);
      return LOOP_CLOSE;
    }
  cleanup_error polis_error *err = NULL;
  int64_t start = shim_now_ns ();
  shim_exec *x = shim_exec_spawn (sh, NULL, NULL, sh->health.argv, SHIM_IO_CAPTURE, false,
                                  false, &err);
  if (x == NULL)
    {
      /* Docker records a probe that cannot start as a failure. */
      health_result r = { .start_ns = start, .end_ns = shim_now_ns (), .exit_code = -1,
                          .output = xstrdup (err->msg) };
      shim_probe_done (sh, NULL, &r);
      return LOOP_CLOSE;
    }
  x->probe = true;
  x->start_ns = start;
  x->timeout = loop_add_timer (sh->loop, (uint64_t) (sh->health.timeout_ns / 1000000), 0,
                               shim_probe_on_timeout, x);
  sh->probe = x;
  return LOOP_CLOSE;
}

static void
shim_health_schedule (shim *sh, int64_t delay_ns)
{
  loop_timer_cancel (sh->health_timer);
  sh->health_timer = NULL;
  if (sh->health.argv == NULL || !shim_container_active (sh))
    return;
  sh->health_timer = loop_add_timer (sh->loop, (uint64_t) (delay_ns / 1000000), 0,
                                     shim_health_on_timer, sh);
}

void
shim_health_start (shim *sh)
{
  if (sh->health.argv == NULL)
    return;
  health_state_restart (&sh->health_st);
  shim_health_schedule (sh, health_next_interval_ns (&sh->health_st, &sh->health,
                                                     sh->started_ns, sh->started_ns));
}

void
shim_health_stop (shim *sh)
{
  loop_timer_cancel (sh->health_timer);
  sh->health_timer = NULL;
  if (sh->probe)
    {
      sh->probe->abandoned = true;
      sh->probe = NULL;
    }
}
