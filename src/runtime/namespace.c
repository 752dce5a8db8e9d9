/* namespace.c - start the container's init inside its namespaces. */
#include "namespace.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/xalloc.h"
#include "runtime/sync.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* /proc/PID/ns/<name> for each kind. */
static const char *const namespace_proc_names[NS_COUNT] = {
  [NS_USER] = "user", [NS_MNT] = "mnt",       [NS_PID] = "pid",
  [NS_NET] = "net",   [NS_IPC] = "ipc",       [NS_UTS] = "uts",
  [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
};

/* fork()-like clone: the child continues on a copy of the stack. */
static pid_t
namespace_clone (unsigned long flags)
{
  return (pid_t) syscall (SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

static unsigned long
namespace_new_flags (const spec *s)
{
  unsigned long flags = 0;
  for (int k = 0; k < NS_COUNT; k++)
    if (s->ns[k].present && s->ns[k].path == NULL && k != NS_CGROUP
        && k != NS_TIME)
      flags |= (unsigned long) spec_ns_clone_flag (k);
  return flags;
}

static int
namespace_write_time_offsets (const spec *s, polis_error **err)
{
  char buf[128];
  int n = 0;
  if (s->time_monotonic.set)
    n += snprintf (buf + n, sizeof buf - (size_t) n, "monotonic %lld %u\n",
                   (long long) s->time_monotonic.secs,
                   s->time_monotonic.nanosecs);
  if (s->time_boottime.set)
    n += snprintf (buf + n, sizeof buf - (size_t) n, "boottime %lld %u\n",
                   (long long) s->time_boottime.secs,
                   s->time_boottime.nanosecs);
  if (n == 0)
    return 0;
  cleanup_close int fd
      = open ("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "open /proc/self/timens_offsets");
  return file_write_all (fd, buf, (size_t) n, err) < 0
             ? error_wrap (err, "write time namespace offsets")
             : 0;
}

/* The helper's work: join, unshare time, clone the init.  Reports failures
   and the init's pid through CHILD_FD (the init's end of the sync pair, so
   that the runtime reads them), then exits. */
static void __attribute__ ((noreturn))
namespace_helper (const spec *s, int child_fd, namespace_child_fn fn, void *arg)
{
  cleanup_error polis_error *err = NULL;
  int fds[NS_COUNT];

  /* Open every path first: joining the mount namespace would change what
     the later paths mean. */
  for (int k = 0; k < NS_COUNT; k++)
    {
      fds[k] = -1;
      if (!s->ns[k].present || s->ns[k].path == NULL)
        continue;
      fds[k] = open (s->ns[k].path, O_RDONLY | O_CLOEXEC);
      if (fds[k] < 0)
        {
          error_sys (&err, "open %s namespace `%s`", spec_ns_name (k),
                     s->ns[k].path);
          goto fail;
        }
    }
  /* The user namespace first: the others may belong to it. */
  for (int k = 0; k < NS_COUNT; k++)
    {
      if (fds[k] < 0)
        continue;
      if (setns (fds[k], spec_ns_clone_flag (k)) < 0)
        {
          error_sys (&err, "join %s namespace `%s`", spec_ns_name (k),
                     s->ns[k].path);
          goto fail;
        }
      close (fds[k]);
    }
  if (s->ns[NS_TIME].present && s->ns[NS_TIME].path == NULL)
    {
      if (unshare (CLONE_NEWTIME) < 0)
        {
          error_sys (&err, "create time namespace");
          goto fail;
        }
      if (namespace_write_time_offsets (s, &err) < 0)
        goto fail;
    }

  pid_t pid = namespace_clone (namespace_new_flags (s) | CLONE_PARENT);
  if (pid < 0)
    {
      error_sys (&err, "clone the container process");
      goto fail;
    }
  if (pid == 0)
    {
      fn (arg);
      _exit (127);
    }
  sync_send (child_fd, SYNC_PID, pid, NULL, 0, NULL);
  _exit (0);

fail:
  sync_send_error (child_fd, err);
  _exit (1);
}

pid_t
namespace_spawn (const spec *s, int sync_fd, int child_fd, int cgroup_fd,
                 bool *in_cgroup, namespace_child_fn fn, void *arg,
                 polis_error **err)
{
  *in_cgroup = false;
  bool helper = s->ns[NS_TIME].present;
  for (int k = 0; k < NS_COUNT; k++)
    if (s->ns[k].present && s->ns[k].path)
      helper = true;

  if (!helper)
    {
      pid_t pid = -1;
      if (cgroup_fd >= 0)
        {
          /* Born in its cgroup (Linux 5.7+, cgroup v2): one write less, and
             not even a moment in the runtime's cgroup. */
          struct clone_args ca = {
            .flags = namespace_new_flags (s) | CLONE_INTO_CGROUP,
            .exit_signal = SIGCHLD,
            .cgroup = (uint64_t) cgroup_fd,
          };
          pid = (pid_t) syscall (SYS_clone3, &ca, sizeof ca);
          if (pid >= 0)
            *in_cgroup = true;
          else if (errno != ENOSYS && errno != E2BIG && errno != EINVAL
                   && errno != EOPNOTSUPP && errno != EPERM)
            return error_sys (err, "clone the container process into its cgroup");
        }
      if (pid < 0)
        pid = namespace_clone (namespace_new_flags (s));
      if (pid < 0)
        return error_sys (err, "clone the container process");
      if (pid == 0)
        {
          fn (arg);
          _exit (127);
        }
      return pid;
    }

  pid_t hpid = fork ();
  if (hpid < 0)
    return error_sys (err, "fork");
  if (hpid == 0)
    namespace_helper (s, child_fd, fn, arg);

  int32_t init_pid = -1;
  int ret = sync_expect (sync_fd, SYNC_PID, &init_pid, err);
  int status;
  while (waitpid (hpid, &status, 0) < 0 && errno == EINTR)
    ;
  if (ret < 0)
    return error_wrap (err, "set up namespaces");
  return (pid_t) init_pid;
}

static int
namespace_write_map (pid_t pid, const char *file, const spec_idmap *maps,
                     size_t n, polis_error **err)
{
  cleanup_free char *buf = xmalloc (n * 36 + 1);
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += (size_t) snprintf (buf + len, 37, "%u %u %u\n", maps[i].container_id,
                              maps[i].host_id, maps[i].size);
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "open %s", path);
  ssize_t w = write (fd, buf, len);
  if (w < 0)
    return error_sys (err, "write %s", file);
  if ((size_t) w != len)
    return error_set (err, ERROR_INTERNAL, EIO, "short write to %s", file);
  return 0;
}

int
namespace_write_idmaps (pid_t pid, const spec *s, polis_error **err)
{
  if (namespace_write_map (pid, "uid_map", s->uid_maps, s->n_uid_maps, err) < 0
      || namespace_write_map (pid, "gid_map", s->gid_maps, s->n_gid_maps, err)
             < 0)
    return error_wrap (err, "set up user namespace mappings");
  return 0;
}

int
namespace_unshare_late (const spec *s, polis_error **err)
{
  if (s->ns[NS_CGROUP].present && s->ns[NS_CGROUP].path == NULL
      && unshare (CLONE_NEWCGROUP) < 0)
    return error_sys (err, "create cgroup namespace");
  return 0;
}

int
namespace_join_pid (pid_t pid, unsigned mask, polis_error **err)
{
  int fds[NS_COUNT];
  int ret = 0;
  for (int k = 0; k < NS_COUNT; k++)
    {
      fds[k] = -1;
      if (!(mask & (1u << k)))
        continue;
      char path[64], self[64];
      struct stat a, b;
      snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) pid,
                namespace_proc_names[k]);
      snprintf (self, sizeof self, "/proc/self/ns/%s", namespace_proc_names[k]);
      if (stat (path, &a) < 0)
        {
          if (errno == ENOENT && k == NS_TIME)
            continue;
          ret = error_sys (err, "stat %s", path);
          goto out;
        }
      if (stat (self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        continue;
      fds[k] = open (path, O_RDONLY | O_CLOEXEC);
      if (fds[k] < 0)
        {
          ret = error_sys (err, "open %s", path);
          goto out;
        }
    }
  for (int k = 0; k < NS_COUNT; k++)
    {
      if (fds[k] < 0)
        continue;
      if (setns (fds[k], spec_ns_clone_flag (k)) < 0)
        {
          ret = error_sys (err, "join %s namespace of process %d",
                           spec_ns_name (k), (int) pid);
          goto out;
        }
    }
out:
  for (int k = 0; k < NS_COUNT; k++)
    if (fds[k] >= 0)
      close (fds[k]);
  return ret;
}
