/* cgroup_v2.c - the cgroup backend for unified (v2) hosts. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/path.h"
#include "base/xalloc.h"
#include "runtime/cgroup_internal.h"
#include "runtime/cgroup_v2_resources.h"

static char *
cgroup_v2_dir (const cgroup *cg)
{
  return path_join (CGROUP_ROOT, cg->path);
}

/* Enable in DIR's subtree_control every controller DIR has. */
static int
cgroup_v2_enable_controllers (const char *dir, polis_error **err)
{
  cleanup_free char *avail = cgroup_read (dir, "cgroup.controllers", err);
  if (avail == NULL)
    return -1;
  cleanup_free char *want = NULL;
  size_t len = 0;
  char *save = NULL;
  for (char *c = strtok_r (avail, " \n", &save); c; c = strtok_r (NULL, " \n", &save))
    {
      size_t cl = strlen (c);
      want = xrealloc (want, len + cl + 3);
      len += (size_t) snprintf (want + len, cl + 3, "%s+%s", len ? " " : "", c);
    }
  if (want == NULL)
    return 0;
  cleanup_error polis_error *e = NULL;
  if (cgroup_write (dir, "cgroup.subtree_control", want, &e) == 0)
    return 0;
  /* All at once failed (a controller in use elsewhere, or processes in
     DIR): enable them one by one and keep what works. */
  save = NULL;
  for (char *c = strtok_r (want, " ", &save); c; c = strtok_r (NULL, " ", &save))
    {
      cleanup_error polis_error *e2 = NULL;
      if (cgroup_write (dir, "cgroup.subtree_control", c, &e2) < 0)
        log_debug ("cgroup %s: cannot enable %s: %s", dir, c, e2->msg);
    }
  return 0;
}

static int
cgroup_v2_create (cgroup *cg, polis_error **err)
{
  cleanup_free char *clean = path_clean (cg->path);
  cleanup_free char *cur = xstrdup (CGROUP_ROOT);
  char *save = NULL;
  char *last_sep = NULL;
  (void) last_sep;
  for (char *part = strtok_r (clean, "/", &save); part; part = strtok_r (NULL, "/", &save))
    {
      if (cgroup_v2_enable_controllers (cur, err) < 0)
        return -1;
      char *next = path_join (cur, part);
      free (cur);
      cur = next;
      if (mkdir (cur, 0755) < 0 && errno != EEXIST)
        return error_sys (err, "mkdir `%s`", cur);
    }
  return 0;
}

static int
cgroup_v2_enter (const cgroup *cg, pid_t pid, polis_error **err)
{
  cleanup_free char *dir = cgroup_v2_dir (cg);
  char buf[32];
  snprintf (buf, sizeof buf, "%d", (int) pid);
  return cgroup_write (dir, "cgroup.procs", buf, err);
}

static int
cgroup_v2_pids (const cgroup *cg, pid_t **pids, size_t *n, polis_error **err)
{
  cleanup_free char *dir = cgroup_v2_dir (cg);
  return cgroup_read_pids_tree (dir, pids, n, err);
}

static int
cgroup_v2_kill_all (const cgroup *cg, int sig, polis_error **err)
{
  cleanup_free char *dir = cgroup_v2_dir (cg);
  if (sig == SIGKILL)
    {
      cleanup_error polis_error *e = NULL;
      if (cgroup_write (dir, "cgroup.kill", "1", &e) == 0)
        return 0;
    }
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (cgroup_read_pids_tree (dir, &pids, &n, err) < 0)
    return -1;
  return cgroup_signal_pids (pids, n, sig, err);
}

static bool
cgroup_v2_events_frozen (const char *dir)
{
  cleanup_error polis_error *e = NULL;
  cleanup_free char *ev = cgroup_read (dir, "cgroup.events", &e);
  return ev && strstr (ev, "frozen 1") != NULL;
}

static int
cgroup_v2_freeze (const cgroup *cg, bool frozen, polis_error **err)
{
  cleanup_free char *dir = cgroup_v2_dir (cg);
  if (cgroup_write (dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
    return -1;
  if (!frozen)
    return 0;
  /* cgroup.freeze is a request; wait until cgroup.events says done. */
  for (int i = 0; i < 500; i++)
    {
      if (cgroup_v2_events_frozen (dir))
        return 0;
      struct timespec ts = { 0, 2 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  return error_set (err, ERROR_UNAVAILABLE, ETIMEDOUT,
                    "cgroup %s did not freeze in time", cg->path);
}

static bool
cgroup_v2_is_frozen (const cgroup *cg)
{
  cleanup_free char *dir = cgroup_v2_dir (cg);
  cleanup_error polis_error *e = NULL;
  cleanup_free char *v = cgroup_read (dir, "cgroup.freeze", &e);
  return v && v[0] == '1';
}

static int
cgroup_v2_destroy (const cgroup *cg, polis_error **err)
{
  cleanup_free char *dir = cgroup_v2_dir (cg);
  return cgroup_rmdir_tree (dir, err);
}

static long long
cgroup_v2_oom_kills (const cgroup *cg)
{
  cleanup_free char *dir = cgroup_v2_dir (cg);
  cleanup_error polis_error *e = NULL;
  cleanup_free char *ev = cgroup_read (dir, "memory.events", &e);
  if (ev == NULL)
    return -1;
  const char *p = strstr (ev, "oom_kill ");
  return p ? strtoll (p + 9, NULL, 10) : 0;
}

static int
cgroup_v2_oom_watch (const cgroup *cg, polis_error **err)
{
  cleanup_free char *dir = cgroup_v2_dir (cg);
  cleanup_free char *events = path_join (dir, "memory.events");
  cleanup_close int fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "inotify_init1");
  /* The kernel notifies a modification of memory.events on each event. */
  if (inotify_add_watch (fd, events, IN_MODIFY) < 0)
    return error_sys (err, "watch %s", events);
  return move_fd (fd);
}

static int
cgroup_v2_apply (const cgroup *cg, const json_t *resources, bool update,
                 polis_error **err)
{
  cleanup_free char *dir = cgroup_v2_dir (cg);
  return cgroup_v2_resources_apply (dir, resources, update, err);
}

static json_t *
cgroup_v2_stats (const cgroup *cg, polis_error **err)
{
  cleanup_free char *dir = cgroup_v2_dir (cg);
  return cgroup_v2_resources_stats (dir, err);
}

const cgroup_ops cgroup_v2_ops = {
  .create = cgroup_v2_create,
  .apply = cgroup_v2_apply,
  .enter = cgroup_v2_enter,
  .pids = cgroup_v2_pids,
  .kill_all = cgroup_v2_kill_all,
  .freeze = cgroup_v2_freeze,
  .is_frozen = cgroup_v2_is_frozen,
  .destroy = cgroup_v2_destroy,
  .stats = cgroup_v2_stats,
  .oom_kills = cgroup_v2_oom_kills,
  .oom_watch = cgroup_v2_oom_watch,
};
