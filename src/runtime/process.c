/* process.c - the container process's own settings, applied in order. */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "runtime/caps.h"
#include "runtime/console.h"
#include "runtime/lsm.h"

/* Largest /etc/passwd read to find $HOME. */
#define PROCESS_PASSWD_MAX (4u << 20)

#define PROCESS_DEFAULT_PATH                                                   \
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int
process_apply_rlimits (const spec_process *p, polis_error **err)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      const spec_rlimit *r = &p->rlimits[i];
      struct rlimit lim = { .rlim_cur = r->soft, .rlim_max = r->hard };
      if (setrlimit (r->resource, &lim) == 0)
        continue;
      int e = errno;
      struct rlimit cur;
      if (e == EPERM && getrlimit (r->resource, &cur) == 0 && r->hard > cur.rlim_max)
        return error_set (err, ERROR_INVALID, EPERM,
                          "process.rlimits: %s hard limit %llu is above the limit this "
                          "host allows (%llu) and raising it needs CAP_SYS_RESOURCE",
                          r->name, (unsigned long long) r->hard,
                          (unsigned long long) cur.rlim_max);
      return error_sys_code (err, e, "process.rlimits: set %s to {soft %llu, hard %llu}",
                             r->name, (unsigned long long) r->soft,
                             (unsigned long long) r->hard);
    }
  return 0;
}

int
process_set_oom_score_adj_of (pid_t pid, const spec_process *p, polis_error **err)
{
  if (!p->has_oom_score_adj)
    return 0;
  char buf[16], path[64];
  snprintf (buf, sizeof buf, "%d", p->oom_score_adj);
  if (pid > 0)
    snprintf (path, sizeof path, "/proc/%d/oom_score_adj", (int) pid);
  else
    {
      /* Already set by the runtime for the init (see the header): inside a
         user namespace this process could not write it anyway. */
      cleanup_error polis_error *e = NULL;
      cleanup_free char *cur = file_read_at (AT_FDCWD, "/proc/self/oom_score_adj", 16,
                                             NULL, &e);
      if (cur && strtol (cur, NULL, 10) == p->oom_score_adj)
        return 0;
      snprintf (path, sizeof path, "/proc/self/oom_score_adj");
    }
  if (file_write_string_at (AT_FDCWD, path, buf, err) < 0)
    {
      if ((*err)->code == EACCES || (*err)->code == EPERM)
        return error_set (err, ERROR_FORBIDDEN, EACCES,
                          "process.oomScoreAdj: this host does not allow setting %d",
                          p->oom_score_adj);
      return error_wrap (err, "process.oomScoreAdj");
    }
  return 0;
}

int
process_set_oom_score_adj (const spec_process *p, polis_error **err)
{
  return process_set_oom_score_adj_of (0, p, err);
}

static bool
process_is_executable (const char *path, struct stat *st)
{
  if (stat (path, st) < 0)
    return false;
  if (!S_ISREG (st->st_mode))
    {
      errno = S_ISDIR (st->st_mode) ? EISDIR : EACCES;
      return false;
    }
  if ((st->st_mode & 0111) == 0)
    {
      errno = EACCES;
      return false;
    }
  return true;
}

char *
process_find_executable (const char *arg0, char *const *env,
                         polis_error **err)
{
  struct stat st;
  if (strchr (arg0, '/'))
    {
      if (process_is_executable (arg0, &st))
        return xstrdup (arg0);
      error_sys (err, "exec: \"%s\"", arg0);
      return NULL;
    }
  const char *path = strv_env_get (env, "PATH");
  if (path == NULL)
    path = PROCESS_DEFAULT_PATH;
  int last_errno = ENOENT;
  for (const char *p = path;;)
    {
      const char *end = strchrnul (p, ':');
      cleanup_free char *dir = xstrndup (p, (size_t) (end - p));
      cleanup_free char *cand = xasprintf ("%s/%s", *dir ? dir : ".", arg0);
      if (process_is_executable (cand, &st))
        return steal_pointer (&cand);
      if (errno != ENOENT && errno != ENOTDIR)
        last_errno = errno;
      if (*end == '\0')
        break;
      p = end + 1;
    }
  if (last_errno == ENOENT)
    error_set (err, ERROR_NOT_FOUND, ENOENT,
               "exec: \"%s\": executable file not found in $PATH", arg0);
  else
    error_sys_code (err, last_errno, "exec: \"%s\"", arg0);
  return NULL;
}

int
process_chdir (const spec_process *p, polis_error **err)
{
  if (chdir (p->cwd) < 0)
    return error_sys (err, "chdir to cwd (\"%s\") set in config.json failed",
                      p->cwd);
  return 0;
}

int
process_set_identity (const spec_process *p, bool setgroups_allowed,
                      polis_error **err)
{
  /* The bounding set can only be lowered with CAP_SETPCAP, which the
     uid change below may take away: drop first. */
  if (p->has_caps && caps_drop_bounding (p->caps[CAP_SET_BOUNDING], err) < 0)
    return -1;

  if (setgroups_allowed)
    {
      if (setgroups (p->n_additional_gids, p->additional_gids) < 0)
        return error_sys (err, "setgroups");
    }
  else if (p->n_additional_gids)
    return error_set (err, ERROR_INVALID, EPERM,
                      "process.user.additionalGids: setgroups is denied in this user namespace");

  /* Keep the permitted set across the uid change; capset fixes it up. */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return error_sys (err, "keep capabilities");
  if (syscall (SYS_setresgid, p->gid, p->gid, p->gid) < 0)
    return error_sys (err, "setgid %u", (unsigned) p->gid);
  if (syscall (SYS_setresuid, p->uid, p->uid, p->uid) < 0)
    return error_sys (err, "setuid %u", (unsigned) p->uid);
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return error_sys (err, "reset keep capabilities");

  if (p->has_caps)
    {
      if (caps_apply_sets (p->caps[CAP_SET_EFFECTIVE], p->caps[CAP_SET_PERMITTED],
                           p->caps[CAP_SET_INHERITABLE], p->caps[CAP_SET_AMBIENT],
                           err)
          < 0)
        return -1;
    }
  else if (p->uid != 0)
    {
      /* No capabilities object: a non-root user gets none, as after a
         normal setuid. */
      if (caps_apply_sets (0, 0, 0, 0, err) < 0)
        return -1;
    }

  if (p->has_umask)
    umask (p->umask);
  else
    umask (022);
  return 0;
}

int
process_set_no_new_privs (const spec_process *p, polis_error **err)
{
  if (p->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return error_sys (err, "set no_new_privs");
  return 0;
}

int
process_close_fds (int keep_up_to)
{
  if (syscall (SYS_close_range, (unsigned) keep_up_to + 1, ~0U, 0) == 0)
    return 0;
  /* Old kernel: walk /proc/self/fd instead, or brute-force up to the limit. */
  struct rlimit lim;
  int max = getrlimit (RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 65536
                ? (int) lim.rlim_cur
                : 65536;
  for (int fd = keep_up_to + 1; fd < max; fd++)
    close (fd);
  return 0;
}

int
process_take_stdio (const int stdio[3], polis_error **err)
{
  int tmp[3] = { -1, -1, -1 };
  int ret = 0;
  /* Copy each above 2 first: a source may be a target of another. */
  for (int i = 0; i < 3 && ret == 0; i++)
    {
      tmp[i] = fcntl (stdio[i], F_DUPFD_CLOEXEC, 3);
      if (tmp[i] < 0)
        ret = error_sys (err, "take fd %d as stdio", stdio[i]);
    }
  for (int i = 0; i < 3 && ret == 0; i++)
    if (dup2 (tmp[i], i) < 0)
      ret = error_sys (err, "dup2 %d to %d", tmp[i], i);
  for (int i = 0; i < 3; i++)
    if (tmp[i] >= 0)
      close (tmp[i]);
  return ret;
}

void
process_close_fds_except (int first, const int *keep, size_t n)
{
  int lo = first;
  for (;;)
    {
      /* The smallest kept fd at or above LO. */
      int next = -1;
      for (size_t i = 0; i < n; i++)
        if (keep[i] >= lo && (next < 0 || keep[i] < next))
          next = keep[i];
      if (next < 0)
        {
          process_close_fds (lo - 1);
          return;
        }
      if (next > lo)
        {
          if (syscall (SYS_close_range, (unsigned) lo, (unsigned) next - 1, 0) < 0)
            for (int fd = lo; fd < next; fd++)
              close (fd);
        }
      lo = next + 1;
    }
}

/* $HOME of UID from the container's /etc/passwd, or "/". */
static char *
process_home_of (uid_t uid)
{
  cleanup_error polis_error *err = NULL;
  cleanup_free char *pw = file_read_at (AT_FDCWD, "/etc/passwd", PROCESS_PASSWD_MAX, NULL, &err);
  for (char *line = pw; line && *line;)
    {
      char *end = strchrnul (line, '\n');
      char *f[7] = { 0 };
      int n = 0;
      for (char *q = line; n < 7 && q <= end;)
        {
          f[n++] = q;
          char *colon = memchr (q, ':', (size_t) (end - q));
          if (colon == NULL)
            break;
          q = colon + 1;
        }
      if (n >= 6 && f[2][0] != ':' && strtoul (f[2], NULL, 10) == uid)
        {
          char *hend = memchr (f[5], ':', (size_t) (end - f[5]));
          if (hend && hend > f[5])
            return xstrndup (f[5], (size_t) (hend - f[5]));
        }
      line = *end ? end + 1 : NULL;
    }
  return xstrdup ("/");
}

static bool
process_setgroups_allowed (bool in_userns)
{
  if (!in_userns)
    return true;
  cleanup_error polis_error *err = NULL;
  cleanup_free char *v = file_read_at (AT_FDCWD, "/proc/self/setgroups", 64, NULL, &err);
  return v == NULL || strncmp (v, "deny", 4) != 0;
}

int
process_finish (const process_finish_opts *o, char **exe, char ***env,
                bool *seccomp_pending, polis_error **err)
{
  const spec_process *p = o->p;
  cleanup_strv char **e = strv_dup (p->env);
  cleanup_free char *path = NULL;

  *seccomp_pending = false;
  if (process_apply_rlimits (p, err) < 0 || process_set_oom_score_adj (p, err) < 0)
    return -1;

  if (p->terminal)
    {
      char name[CONSOLE_NAME_MAX];
      if (o->console_sock < 0)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "process.terminal is set but there is no console socket");
      cleanup_close int master = console_setup (p->console_height, p->console_width,
                                                o->mount_dev_console, name, err);
      if (master < 0)
        return error_wrap (err, "set up console");
      if (console_send_fd (o->console_sock, master, name, err) < 0)
        return -1;
    }

  if (strv_env_find (e, "HOME", 4) < 0)
    {
      cleanup_free char *home = process_home_of (p->uid);
      cleanup_free char *kv = xasprintf ("HOME=%s", home);
      strv_env_set (&e, kv);
    }
  path = process_find_executable (p->args[0], e, err);
  if (path == NULL)
    return -1;
  bool cwd_done = chdir (p->cwd) == 0;
  if (!cwd_done && errno != EACCES)
    return process_chdir (p, err);

  if (o->seccomp && !p->no_new_privileges
      && seccomp_apply (o->seccomp, o->seccomp_agent, o->pid, o->state_json, err) < 0)
    return -1;
  if (lsm_apply_exec (p, err) < 0)
    return -1;
  if (process_set_identity (p, process_setgroups_allowed (o->in_userns), err) < 0)
    return -1;
  /* The user may reach a directory that root (squashed on NFS, say)
     could not. */
  if (!cwd_done && process_chdir (p, err) < 0)
    return -1;
  if (process_set_no_new_privs (p, err) < 0)
    return -1;
  *seccomp_pending = o->seccomp && p->no_new_privileges;
  *exe = steal_pointer (&path);
  *env = steal_pointer (&e);
  return 0;
}

void
process_reset_signals (void)
{
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}
