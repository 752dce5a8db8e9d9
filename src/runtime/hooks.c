/* hooks.c - run OCI hooks: the state document on stdin, a timeout. */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"

static long long
hooks_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for PID, killing it after TIMEOUT seconds (0 = forever). */
static int
hooks_wait (pid_t pid, int timeout, int *status, bool *timed_out)
{
  *timed_out = false;
  if (timeout <= 0)
    {
      while (waitpid (pid, status, 0) < 0)
        if (errno != EINTR)
          return -1;
      return 0;
    }
  long long deadline = hooks_now_ms () + (long long) timeout * 1000;
  int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  for (;;)
    {
      pid_t r = waitpid (pid, status, WNOHANG);
      if (r == pid)
        break;
      if (r < 0 && errno != EINTR)
        {
          if (pidfd >= 0)
            close (pidfd);
          return -1;
        }
      long long left = deadline - hooks_now_ms ();
      if (left <= 0)
        {
          *timed_out = true;
          kill (pid, SIGKILL);
          while (waitpid (pid, status, 0) < 0 && errno == EINTR)
            ;
          break;
        }
      if (pidfd >= 0)
        {
          struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
          poll (&pfd, 1, (int) (left > 1000 ? 1000 : left));
        }
      else
        {
          struct timespec ts = { 0, 10 * 1000 * 1000 };
          nanosleep (&ts, NULL);
        }
    }
  if (pidfd >= 0)
    close (pidfd);
  return 0;
}

static int
hooks_run_one (const spec_hook *h, const char *what, const char *state_json,
               polis_error **err)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return error_sys (err, "%s: pipe", what);
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (p[0]);
      close (p[1]);
      return error_sys (err, "%s: fork", what);
    }
  if (pid == 0)
    {
      char *const no_env[] = { NULL };
      char *default_args[] = { (char *) h->path, NULL };
      signal (SIGPIPE, SIG_DFL);
      if (dup2 (p[0], 0) < 0)
        _exit (126);
      /* Hooks write their diagnostics to our stderr; keep stdout from
         interleaving with `state` output on containerd's pipes. */
      dup2 (2, 1);
      execve (h->path, h->args ? h->args : default_args,
              h->env ? h->env : no_env);
      dprintf (2, "exec hook %s: %s\n", h->path, strerror (errno));
      _exit (127);
    }
  close (p[0]);
  /* The hook may exit without reading: ignore EPIPE. */
  void (*old) (int) = signal (SIGPIPE, SIG_IGN);
  file_write_all (p[1], state_json, strlen (state_json), NULL);
  close (p[1]);
  signal (SIGPIPE, old);

  int status = 0;
  bool timed_out = false;
  if (hooks_wait (pid, h->timeout, &status, &timed_out) < 0)
    return error_sys (err, "%s: wait", what);
  if (timed_out)
    return error_set (err, ERROR_INTERNAL, ETIMEDOUT,
                      "%s (`%s`) timed out after %d seconds", what, h->path,
                      h->timeout);
  if (WIFSIGNALED (status))
    return error_set (err, ERROR_INTERNAL, 0, "%s (`%s`) killed by signal %d",
                      what, h->path, WTERMSIG (status));
  if (WEXITSTATUS (status) != 0)
    return error_set (err, ERROR_INTERNAL, 0,
                      "%s (`%s`) exited with status %d", what, h->path,
                      WEXITSTATUS (status));
  return 0;
}

int
hooks_run (const spec *s, spec_hook_kind kind, const char *state_json,
           polis_error **err)
{
  for (size_t i = 0; i < s->n_hooks[kind]; i++)
    {
      char what[64];
      snprintf (what, sizeof what, "%s hook %zu", spec_hook_name (kind), i);
      if (hooks_run_one (&s->hooks[kind][i], what, state_json, err) < 0)
        return -1;
    }
  return 0;
}

void
hooks_run_warn (const spec *s, spec_hook_kind kind, const char *state_json)
{
  for (size_t i = 0; i < s->n_hooks[kind]; i++)
    {
      cleanup_error polis_error *err = NULL;
      char what[64];
      snprintf (what, sizeof what, "%s hook %zu", spec_hook_name (kind), i);
      if (hooks_run_one (&s->hooks[kind][i], what, state_json, &err) < 0)
        log_warning ("%s", err->msg);
    }
}
