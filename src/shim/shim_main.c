/* shim_main.c - polis-shim from its command line to its event loop.
 *
 * polisd runs it with a pipe on fd 3.  It checks its options, double-forks
 * into a new session (so it outlives polisd and never gets a terminal),
 * writes shim.pid, listens on its socket, creates the container (and
 * starts it, without --no-start), and only then writes its one readiness
 * line on fd 3: whoever reads it can talk to the socket at once.
 */
#include "shim_main.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/opts.h"
#include "base/path.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "runtime/spec.h"
#include "shim/shim.h"

/* Where the readiness line goes. */
#define SHIM_READY_FD 3
/* Largest --health file. */
#define SHIM_HEALTH_MAX (1u << 20)

/* Whether fd 3 was open at start: checked before we open anything, which
   could land on it. */
static bool shim_ready_open;

/* One JSON line on fd 3, then close it.  Nothing if fd 3 was not open. */
static void
shim_ready (json_t *j)
{
  cleanup_json json_t *owned = j;
  if (!shim_ready_open)
    return;
  shim_ready_open = false;
  cleanup_free char *s = pjson_dump (j);
  cleanup_free char *line = xasprintf ("%s\n", s);
  cleanup_error polis_error *err = NULL;
  file_write_all (SHIM_READY_FD, line, strlen (line), &err);
  close (SHIM_READY_FD);
}

static void
shim_ready_error (const polis_error *err)
{
  shim_ready (json_pack ("{s:b,s:s}", "ok", 0, "message",
                         err && err->msg ? err->msg : "polis-shim failed"));
}

/* "20971520", "10m", "1g" (decimal, as Docker's --log-opt max-size). */
static int
shim_parse_size (const char *s, uint64_t *out, polis_error **err)
{
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  uint64_t mult = 1;
  if (*end == 'k' || *end == 'K')
    mult = 1000, end++;
  else if (*end == 'm' || *end == 'M')
    mult = 1000 * 1000, end++;
  else if (*end == 'g' || *end == 'G')
    mult = 1000 * 1000 * 1000, end++;
  if (*end == 'b' || *end == 'B')
    end++;
  if (end == s || *end || errno || v < -1 || (v > 0 && (uint64_t) v > UINT64_MAX / mult))
    return error_set (err, ERROR_INVALID, EINVAL, "invalid --log-max-size `%s`", s);
  *out = v <= 0 ? 0 : (uint64_t) v * mult; /* -1 or 0: never rotate */
  return 0;
}

static int
shim_parse_opts (int argc, char **argv, shim_opts *o, health_config *hc,
                 polis_error **err)
{
  const char *log_driver = "json-file", *max_size = NULL, *max_file = NULL;
  const char *restart = NULL;
  cleanup_strv char **pos = NULL;
  opt_def defs[] = {
    { "id", 0, OPT_STRING, &o->id, "container id" },
    { "bundle", 0, OPT_STRING, &o->bundle, "OCI bundle directory" },
    { "dir", 0, OPT_STRING, &o->dir, "container directory (state, logs)" },
    { "socket", 0, OPT_STRING, &o->socket, "socket to listen on" },
    { "runtime-root", 0, OPT_STRING, &o->runtime_root, "runtime state root" },
    { "tty", 0, OPT_BOOL, &o->tty, "give the container a terminal" },
    { "stdin", 0, OPT_BOOL, &o->open_stdin, "keep the container's stdin open" },
    { "stdin-once", 0, OPT_BOOL, &o->stdin_once, "close stdin when an attach ends it" },
    { "log-driver", 0, OPT_STRING, &log_driver, "json-file or none" },
    { "log-max-size", 0, OPT_STRING, &max_size, "rotate the log at this size" },
    { "log-max-file", 0, OPT_STRING, &max_file, "log files kept" },
    { "restart", 0, OPT_STRING, &restart, "restart policy" },
    { "health", 0, OPT_STRING, &o->health_file, "health check (HealthConfig JSON)" },
    { "auto-remove", 0, OPT_BOOL, &o->auto_remove, "exit once the container ends" },
    { "no-start", 0, OPT_BOOL, &o->no_start, "create only; wait for start" },
    { 0 },
  };
  if (opts_parse (defs, argc - 1, argv + 1, false, &pos, err) < 0)
    return -1;
  if (strv_length (pos))
    return error_set (err, ERROR_INVALID, EINVAL, "unexpected argument `%s`", pos[0]);
  const char *need[] = { o->id, o->bundle, o->dir, o->socket, o->runtime_root };
  const char *names[] = { "--id", "--bundle", "--dir", "--socket", "--runtime-root" };
  for (size_t i = 0; i < 5; i++)
    if (need[i] == NULL || *need[i] == '\0')
      return error_set (err, ERROR_INVALID, EINVAL, "%s is required", names[i]);
  if (state_id_check (o->id, err) < 0)
    return -1;
  if (strcmp (log_driver, "json-file") == 0)
    o->log_json = true;
  else if (strcmp (log_driver, "none") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "logger: no log driver named '%s' is registered", log_driver);
  o->log_max_size = JSONLOG_DEFAULT_MAX_SIZE;
  o->log_max_file = JSONLOG_DEFAULT_MAX_FILE;
  if (max_size && shim_parse_size (max_size, &o->log_max_size, err) < 0)
    return -1;
  if (max_file)
    {
      char *end;
      long v = strtol (max_file, &end, 10);
      if (*end || end == max_file || v < 1 || v > JSONLOG_MAX_FILES)
        return error_set (err, ERROR_INVALID, EINVAL, "invalid --log-max-file `%s`", max_file);
      o->log_max_file = (unsigned) v;
    }
  if (restart_parse (restart, &o->restart, err) < 0)
    return -1;
  if (o->restart.kind != RESTART_NO && o->auto_remove)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "can't create 'AutoRemove' container with restart policy");
  if (o->health_file)
    {
      cleanup_json json_t *j = pjson_load_file_at (AT_FDCWD, o->health_file, SHIM_HEALTH_MAX, err);
      if (j == NULL || health_config_parse (j, hc, err) < 0)
        return error_wrap (err, "--health");
    }
  return 0;
}

/* Leave polisd: a grandchild in a session of its own, re-parented to the
   nearest sub-reaper or init.  Returns in the grandchild only. */
static void
shim_daemonize (void)
{
  pid_t pid = fork ();
  if (pid < 0)
    return; /* carry on in the foreground */
  if (pid > 0)
    {
      int status = 0;
      while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
      _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 1);
    }
  setsid ();
  pid = fork ();
  if (pid < 0)
    _exit (1);
  if (pid > 0)
    _exit (0);
}

/* Our own stdio: /dev/null in and out; stderr (polisd's log for us) kept
   when it is open. */
static void
shim_setup_stdio (void)
{
  int nul = open ("/dev/null", O_RDWR);
  if (nul < 0)
    return;
  dup2 (nul, 0);
  dup2 (nul, 1);
  if (fcntl (2, F_GETFD) < 0)
    dup2 (nul, 2);
  if (nul > 2)
    close (nul);
  if (shim_ready_open)
    fcntl (SHIM_READY_FD, F_SETFD, FD_CLOEXEC);
}

static int
shim_write_pid (shim *sh, polis_error **err)
{
  cleanup_free char *dir = xstrdup (sh->o.socket);
  char *slash = strrchr (dir, '/');
  if (slash)
    *slash = '\0';
  const char *d = slash ? (*dir ? dir : "/") : ".";
  if (file_mkdir_p (d, 0700, err) < 0)
    return -1;
  cleanup_free char *path = path_join (d, "shim.pid");
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%d", (int) getpid ());
  return file_write_atomic (path, buf, (size_t) n, 0644, err);
}

static loop_result
shim_on_signal (loop *l, const struct signalfd_siginfo *si, void *data)
{
  (void) l;
  shim *sh = data;
  if (si->ssi_signo == SIGCHLD)
    {
      int status;
      pid_t pid;
      while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
        {
          if (pid == sh->pid)
            shim_container_exited (sh, status);
          else
            shim_exec_reaped (sh, pid, status);
        }
      return LOOP_CONTINUE;
    }
  if (si->ssi_signo == SIGTERM || si->ssi_signo == SIGINT)
    {
      /* A shim lives as long as its container: only an idle one quits. */
      if (shim_container_active (sh) || sh->status == SHIM_RESTARTING)
        {
          log_warning ("polis-shim %s: signal %u ignored: the container is running",
                       sh->o.id, si->ssi_signo);
          return LOOP_CONTINUE;
        }
      cleanup_error polis_error *err = NULL;
      if (shim_container_delete (sh, true, &err) < 0)
        log_warning ("polis-shim %s: %s", sh->o.id, err->msg);
      sh->exiting = true;
      loop_quit (sh->loop, 0);
    }
  return LOOP_CONTINUE;
}

/* --tty must say what the config says: a terminal the shim does not
   expect would take the output nowhere, and the runtime's own complaint
   (no console socket) would not say why. */
static int
shim_check_tty (shim *sh, polis_error **err)
{
  cleanup_free char *path = path_join (sh->o.bundle, "config.json");
  cleanup_json json_t *cfg = pjson_load_file_at (AT_FDCWD, path, SPEC_MAX_SIZE, err);
  if (cfg == NULL)
    return -1;
  bool terminal = json_is_true (json_object_get (json_object_get (cfg, "process"), "terminal"));
  if (terminal != sh->o.tty)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "config.json: process.terminal is %s but --tty was%s given",
                      terminal ? "true" : "false", sh->o.tty ? "" : " not");
  return 0;
}

/* Everything up to the readiness line. */
static int
shim_setup (shim *sh, polis_error **err)
{
  if (shim_check_tty (sh, err) < 0)
    return -1;
  sh->dirfd = open (sh->o.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sh->dirfd < 0)
    return error_sys (err, "open --dir `%s`", sh->o.dir);
  sh->loop = loop_new (err);
  if (sh->loop == NULL)
    return -1;
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGCHLD);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGHUP);
  if (loop_add_signals (sh->loop, &set, shim_on_signal, sh, err) < 0)
    return -1;
  if (sh->o.log_json)
    {
      cleanup_free char *name = xasprintf ("%s-json.log", sh->o.id);
      cleanup_free char *path = path_join (sh->o.dir, name);
      sh->log = jsonlog_writer_open (path, sh->o.log_max_size, sh->o.log_max_file, err);
      if (sh->log == NULL)
        return -1;
    }
  if (shim_write_pid (sh, err) < 0 || shim_server_listen (sh, err) < 0)
    return -1;
  if (shim_container_create (sh, err) < 0)
    return -1;
  if (!sh->o.no_start && shim_container_start (sh, err) < 0)
    {
      cleanup_error polis_error *e = NULL;
      shim_container_delete (sh, true, &e);
      return -1;
    }
  return 0;
}

static void
shim_free (shim *sh)
{
  /* Before the loop: they close their watches in it. */
  shim_exec_free_all (sh);
  shim_stdio_free (sh->io);
  loop_free (sh->loop);
  jsonlog_writer_close (sh->log);
  state_free (sh->cst);
  health_config_clear (&sh->health);
  health_state_clear (&sh->health_st);
  if (sh->dirfd >= 0)
    close (sh->dirfd);
}

int
shim_main (int argc, char **argv)
{
  shim sh = { .dirfd = -1 };
  cleanup_error polis_error *err = NULL;
  shim_ready_open = fcntl (SHIM_READY_FD, F_GETFD) >= 0;
  signal (SIGPIPE, SIG_IGN);
  /* A shim lives long and mostly idles: give back what a burst of
     output (a slow client's queue) took, instead of letting glibc raise
     its mmap threshold and keep the memory in the heap. */
  mallopt (M_MMAP_THRESHOLD, 64 * 1024);
  mallopt (M_TRIM_THRESHOLD, 128 * 1024);
  if (shim_parse_opts (argc, argv, &sh.o, &sh.health, &err) < 0)
    {
      fprintf (stderr, "polis-shim: %s\n", err->msg);
      shim_ready_error (err);
      return 2;
    }
  shim_daemonize ();
  shim_setup_stdio ();
  if (shim_setup (&sh, &err) < 0)
    {
      log_error ("polis-shim %s: %s", sh.o.id, err->msg);
      /* Gone before the line: whoever reads it may retry at once. */
      if (sh.loop)
        shim_server_close (&sh);
      shim_ready_error (err);
      shim_free (&sh);
      return 1;
    }
  shim_ready (json_pack ("{s:b,s:i,s:i}", "ok", 1, "shim_pid", (int) getpid (), "pid",
                         sh.o.no_start ? 0 : (int) sh.pid));
  int status = loop_run (sh.loop, &err);
  if (status < 0)
    log_error ("polis-shim %s: %s", sh.o.id, err->msg);
  shim_server_flush (&sh, 1000);
  shim_server_close (&sh);
  shim_free (&sh);
  return status < 0 ? 1 : 0;
}
