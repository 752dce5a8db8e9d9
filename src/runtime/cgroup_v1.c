/* cgroup_v1.c - the cgroup backend for v1 (legacy and hybrid) hosts. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/path.h"
#include "base/xalloc.h"
#include "runtime/cgroup_internal.h"
#include "runtime/cgroup_v1_resources.h"

static char *
cgroup_v1_dir (const cgroup_hierarchy *h)
{
  return path_join (h->mount, h->path);
}

const cgroup_hierarchy *
cgroup_v1_find (const cgroup *cg, const char *controller)
{
  size_t cl = strlen (controller);
  for (size_t i = 0; i < cg->n_h; i++)
    {
      const char *c = cg->h[i].controllers;
      for (const char *p = c; (p = strstr (p, controller)) != NULL; p += cl)
        if ((p == c || p[-1] == ',') && (p[cl] == '\0' || p[cl] == ','))
          return &cg->h[i];
    }
  return NULL;
}

static bool
cgroup_v1_is_cpuset (const cgroup_hierarchy *h)
{
  return strcmp (h->controllers, "cpuset") == 0
         || strstr (h->controllers, "cpuset,") || strstr (h->controllers, ",cpuset");
}

static int
cgroup_v1_create (cgroup *cg, polis_error **err)
{
  for (size_t i = 0; i < cg->n_h; i++)
    {
      cgroup_hierarchy *h = &cg->h[i];
      cleanup_free char *clean = path_clean (h->path);
      cleanup_free char *cur = xstrdup (h->mount);
      char *save = NULL;
      for (char *part = strtok_r (clean, "/", &save); part; part = strtok_r (NULL, "/", &save))
        {
          char *next = path_join (cur, part);
          bool made = mkdir (next, 0755) == 0;
          if (!made && errno != EEXIST)
            {
              int e = errno;
              free (cur);
              cur = next;
              return error_sys_code (err, e, "mkdir `%s`", cur);
            }
          /* A new cpuset cgroup starts with no cpus and mems: copy the
             parent's, or no process could join it. */
          if (cgroup_v1_is_cpuset (h))
            {
              const char *files[] = { "cpuset.cpus", "cpuset.mems" };
              for (int f = 0; f < 2; f++)
                {
                  cleanup_error polis_error *e = NULL;
                  cleanup_free char *mine = cgroup_read (next, files[f], &e);
                  if (mine && mine[0] != '\n' && mine[0] != '\0')
                    continue;
                  cleanup_free char *parent = cgroup_read (cur, files[f], err);
                  if (parent == NULL || cgroup_write (next, files[f], parent, err) < 0)
                    {
                      free (next);
                      return -1;
                    }
                }
            }
          free (cur);
          cur = next;
        }
    }
  return 0;
}

static int
cgroup_v1_enter (const cgroup *cg, pid_t pid, polis_error **err)
{
  char buf[32];
  snprintf (buf, sizeof buf, "%d", (int) pid);
  for (size_t i = 0; i < cg->n_h; i++)
    {
      cleanup_free char *dir = cgroup_v1_dir (&cg->h[i]);
      if (cgroup_write (dir, "cgroup.procs", buf, err) < 0)
        return error_wrap (err, "join cgroup %s", cg->h[i].controllers);
    }
  return 0;
}

/* The hierarchy whose membership best reflects "the container's
   processes": pids, else memory, else the first. */
static const cgroup_hierarchy *
cgroup_v1_main (const cgroup *cg)
{
  const cgroup_hierarchy *h = cgroup_v1_find (cg, "pids");
  if (h == NULL)
    h = cgroup_v1_find (cg, "memory");
  if (h == NULL && cg->n_h)
    h = &cg->h[0];
  return h;
}

static int
cgroup_v1_pids (const cgroup *cg, pid_t **pids, size_t *n, polis_error **err)
{
  const cgroup_hierarchy *h = cgroup_v1_main (cg);
  if (h == NULL)
    return 0;
  cleanup_free char *dir = cgroup_v1_dir (h);
  return cgroup_read_pids_tree (dir, pids, n, err);
}

static int cgroup_v1_freeze (const cgroup *cg, bool frozen, polis_error **err);

static int
cgroup_v1_kill_all (const cgroup *cg, int sig, polis_error **err)
{
  /* Freeze first so that no process forks away while we signal. */
  bool frozen = cgroup_v1_find (cg, "freezer")
                && cgroup_v1_freeze (cg, true, NULL) == 0;
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  int ret = cgroup_v1_pids (cg, &pids, &n, err);
  if (ret == 0)
    ret = cgroup_signal_pids (pids, n, sig, err);
  if (frozen)
    cgroup_v1_freeze (cg, false, NULL);
  return ret;
}

static int
cgroup_v1_freeze (const cgroup *cg, bool frozen, polis_error **err)
{
  const cgroup_hierarchy *h = cgroup_v1_find (cg, "freezer");
  if (h == NULL)
    return error_set (err, ERROR_UNAVAILABLE, ENOTSUP,
                      "the freezer cgroup controller is not mounted");
  cleanup_free char *dir = cgroup_v1_dir (h);
  const char *want = frozen ? "FROZEN" : "THAWED";
  for (int i = 0; i < 1000; i++)
    {
      if (cgroup_write (dir, "freezer.state", want, err) < 0)
        return -1;
      cleanup_free char *state = cgroup_read (dir, "freezer.state", err);
      if (state == NULL)
        return -1;
      if (strncmp (state, want, strlen (want)) == 0)
        return 0;
      /* FREEZING: some task has not stopped yet; write again. */
      struct timespec ts = { 0, 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  return error_set (err, ERROR_UNAVAILABLE, ETIMEDOUT,
                    "cgroup %s did not freeze in time", h->path);
}

static bool
cgroup_v1_is_frozen (const cgroup *cg)
{
  const cgroup_hierarchy *h = cgroup_v1_find (cg, "freezer");
  if (h == NULL)
    return false;
  cleanup_free char *dir = cgroup_v1_dir (h);
  cleanup_error polis_error *e = NULL;
  cleanup_free char *state = cgroup_read (dir, "freezer.state", &e);
  return state && strncmp (state, "FROZEN", 6) == 0;
}

static int
cgroup_v1_destroy (const cgroup *cg, polis_error **err)
{
  for (size_t i = 0; i < cg->n_h; i++)
    {
      cleanup_free char *dir = cgroup_v1_dir (&cg->h[i]);
      if (cgroup_rmdir_tree (dir, err) < 0)
        return -1;
    }
  return 0;
}

static long long
cgroup_v1_oom_kills (const cgroup *cg)
{
  const cgroup_hierarchy *h = cgroup_v1_find (cg, "memory");
  if (h == NULL)
    return -1;
  cleanup_free char *dir = cgroup_v1_dir (h);
  cleanup_error polis_error *e = NULL;
  cleanup_free char *ev = cgroup_read (dir, "memory.oom_control", &e);
  if (ev == NULL)
    return -1;
  const char *p = strstr (ev, "oom_kill ");
  return p ? strtoll (p + 9, NULL, 10) : 0;
}

static int
cgroup_v1_oom_watch (const cgroup *cg, polis_error **err)
{
  const cgroup_hierarchy *h = cgroup_v1_find (cg, "memory");
  if (h == NULL)
    return error_set (err, ERROR_UNAVAILABLE, ENOENT, "no memory cgroup");
  cleanup_free char *dir = cgroup_v1_dir (h);
  cleanup_free char *ctl_path = path_join (dir, "memory.oom_control");
  cleanup_close int ctl = open (ctl_path, O_RDONLY | O_CLOEXEC);
  if (ctl < 0)
    return error_sys (err, "open %s", ctl_path);
  cleanup_close int efd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0)
    return error_sys (err, "eventfd");
  char buf[32];
  snprintf (buf, sizeof buf, "%d %d", efd, ctl);
  /* The registration lives as long as the eventfd (or the cgroup). */
  if (cgroup_write (dir, "cgroup.event_control", buf, err) < 0)
    return -1;
  return move_fd (efd);
}

static int
cgroup_v1_apply (const cgroup *cg, const json_t *resources, bool update,
                 polis_error **err)
{
  return cgroup_v1_resources_apply (cg, resources, update, err);
}

static json_t *
cgroup_v1_stats (const cgroup *cg, polis_error **err)
{
  return cgroup_v1_resources_stats (cg, err);
}

const cgroup_ops cgroup_v1_ops = {
  .create = cgroup_v1_create,
  .apply = cgroup_v1_apply,
  .enter = cgroup_v1_enter,
  .pids = cgroup_v1_pids,
  .kill_all = cgroup_v1_kill_all,
  .freeze = cgroup_v1_freeze,
  .is_frozen = cgroup_v1_is_frozen,
  .destroy = cgroup_v1_destroy,
  .stats = cgroup_v1_stats,
  .oom_kills = cgroup_v1_oom_kills,
  .oom_watch = cgroup_v1_oom_watch,
};
