/* container_ctl.c - control of a running container through its cgroup:
 * pause, resume, update, its processes, its statistics and events. */
#include "container_ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/spec.h"
#include "runtime/state.h"

/* Open container ID, which must have a cgroup. */
static container_state *
container_ctl_open (const char *root, const char *id, bool exclusive,
                    int *dirfd, polis_error **err)
{
  container_state *st = state_open_container (root, id, exclusive, dirfd, err);
  if (st && st->cg == NULL)
    {
      error_set (err, ERROR_INVALID, ENOTSUP, "container %s has no cgroup", id);
      state_free (st);
      return NULL;
    }
  return st;
}

int
container_ctl_pause (const char *root, const char *id, polis_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state container_state *st = container_ctl_open (root, id, true, &dirfd, err);
  if (st == NULL)
    return -1;
  state_status status = state_status_of (dirfd, st);
  if (status != STATUS_RUNNING && status != STATUS_CREATED)
    return error_set (err, ERROR_CONFLICT, EINVAL, "container not running");
  if (cgroup_freeze (st->cg, true, err) < 0)
    return error_wrap (err, "pause %s", id);
  return 0;
}

int
container_ctl_resume (const char *root, const char *id, polis_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state container_state *st = container_ctl_open (root, id, true, &dirfd, err);
  if (st == NULL)
    return -1;
  if (state_status_of (dirfd, st) != STATUS_PAUSED)
    return error_set (err, ERROR_CONFLICT, EINVAL, "container not paused");
  if (cgroup_freeze (st->cg, false, err) < 0)
    return error_wrap (err, "resume %s", id);
  return 0;
}

/* Merge the fields of SRC into DST recursively (objects merge, anything
   else replaces). */
static void
container_ctl_merge (json_t *dst, const json_t *src)
{
  const char *key;
  json_t *v;
  json_object_foreach ((json_t *) src, key, v)
  {
    json_t *d = json_object_get (dst, key);
    if (json_is_object (d) && json_is_object (v))
      container_ctl_merge (d, v);
    else
      json_object_set (dst, key, v);
  }
}

int
container_ctl_update (const char *root, const char *id, const json_t *resources,
                      polis_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state container_state *st = container_ctl_open (root, id, true, &dirfd, err);
  if (st == NULL)
    return -1;
  if (state_status_of (dirfd, st) == STATUS_STOPPED)
    return error_set (err, ERROR_CONFLICT, EINVAL, "container not running");
  if (cgroup_update (st->cg, resources, err) < 0)
    return error_wrap (err, "update %s", id);

  /* Keep the saved config in step, so later commands see the new limits. */
  cleanup_json json_t *cfg = pjson_load_file_at (dirfd, STATE_CONFIG_FILE, SPEC_MAX_SIZE, err);
  if (cfg == NULL)
    return error_wrap (err, "update %s", id);
  json_t *lnx = json_object_get (cfg, "linux");
  if (!json_is_object (lnx))
    {
      lnx = json_object ();
      json_object_set_new (cfg, "linux", lnx);
    }
  json_t *res = json_object_get (lnx, "resources");
  if (!json_is_object (res))
    {
      res = json_object ();
      json_object_set_new (lnx, "resources", res);
    }
  container_ctl_merge (res, resources);
  cleanup_free char *s = pjson_dump (cfg);
  return file_write_atomic_at (dirfd, STATE_CONFIG_FILE, s, strlen (s), 0600, false, err);
}

int
container_ctl_pids (const char *root, const char *id, pid_t **pids, size_t *n,
                    polis_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state container_state *st = container_ctl_open (root, id, false, &dirfd, err);
  if (st == NULL)
    return -1;
  if (state_status_of (dirfd, st) == STATUS_STOPPED)
    return error_set (err, ERROR_CONFLICT, EINVAL, "container not running");
  return cgroup_pids (st->cg, pids, n, err);
}

json_t *
container_ctl_stats (const char *root, const char *id, polis_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state container_state *st = container_ctl_open (root, id, false, &dirfd, err);
  if (st == NULL)
    return NULL;
  if (state_status_of (dirfd, st) == STATUS_STOPPED)
    {
      error_set (err, ERROR_CONFLICT, EINVAL, "container not running");
      return NULL;
    }
  json_t *data = cgroup_stats (st->cg, err);
  if (data == NULL)
    return NULL;
  return json_pack ("{s:s, s:s, s:o}", "type", "stats", "id", id, "data", data);
}

static void
container_ctl_emit (FILE *out, json_t *event)
{
  char *s = json_dumps (event, JSON_COMPACT);
  if (s == NULL)
    abort ();
  fprintf (out, "%s\n", s);
  fflush (out);
  free (s);
}

int
container_ctl_events (const char *root, const char *id, int interval_ms,
                      bool stats_once, FILE *out, polis_error **err)
{
  if (stats_once)
    {
      cleanup_json json_t *ev = container_ctl_stats (root, id, err);
      if (ev == NULL)
        return -1;
      container_ctl_emit (out, ev);
      return 0;
    }

  cleanup_close int dirfd = -1;
  cleanup_state container_state *st = container_ctl_open (root, id, false, &dirfd, err);
  if (st == NULL)
    return -1;
  /* Do not hold the container's lock while streaming. */
  close (dirfd);
  dirfd = -1;

  long long ooms = cgroup_oom_kills (st->cg);
  int pidfd = (int) syscall (SYS_pidfd_open, st->pid, 0);
  long long next_stats = 0;
  for (;;)
    {
      struct timespec now;
      clock_gettime (CLOCK_MONOTONIC, &now);
      long long now_ms = (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
      if (!state_init_alive (st))
        break;
      long long o = cgroup_oom_kills (st->cg);
      if (o > ooms && ooms >= 0)
        {
          cleanup_json json_t *ev = json_pack ("{s:s, s:s}", "type", "oom", "id", id);
          container_ctl_emit (out, ev);
        }
      if (o >= 0)
        ooms = o;
      if (now_ms >= next_stats)
        {
          cleanup_error polis_error *e = NULL;
          cleanup_json json_t *data = cgroup_stats (st->cg, &e);
          if (data)
            {
              cleanup_json json_t *ev = json_pack ("{s:s, s:s, s:O}", "type", "stats",
                                                   "id", id, "data", data);
              container_ctl_emit (out, ev);
            }
          next_stats = now_ms + interval_ms;
        }
      /* Wake for the init's exit, and often enough to see OOM kills. */
      int wait_ms = interval_ms < 250 ? interval_ms : 250;
      if (pidfd >= 0)
        {
          struct pollfd p = { .fd = pidfd, .events = POLLIN };
          poll (&p, 1, wait_ms);
        }
      else
        {
          struct timespec ts = { wait_ms / 1000, (wait_ms % 1000) * 1000000L };
          nanosleep (&ts, NULL);
        }
    }
  if (pidfd >= 0)
    close (pidfd);
  return 0;
}
