/* container_ctl.h - control of a running container through its cgroup:
 * pause, resume, update, its processes, its statistics and events. */
#ifndef POLIS_RUNTIME_CONTAINER_CTL_H
#define POLIS_RUNTIME_CONTAINER_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/error.h"

/* Freeze every process of a running container. */
int container_ctl_pause (const char *root, const char *id, polis_error **err);
/* Thaw a paused container. */
int container_ctl_resume (const char *root, const char *id, polis_error **err);
/* Apply RESOURCES (a linux.resources object with only the fields to
   change) and remember them in the container's saved config. */
int container_ctl_update (const char *root, const char *id,
                          const json_t *resources, polis_error **err);
/* The pids (as the host sees them) of every process of the container.
   *PIDS is the caller's. */
int container_ctl_pids (const char *root, const char *id, pid_t **pids,
                        size_t *n, polis_error **err);
/* One statistics event: {"type":"stats","id":ID,"data":{...}} in runc's
   shape.  New reference. */
json_t *container_ctl_stats (const char *root, const char *id,
                             polis_error **err);
/* Write events to OUT as JSON lines: statistics every INTERVAL_MS and an
   "oom" event for each OOM kill, until the container stops.  With
   STATS_ONCE, one statistics event and return. */
int container_ctl_events (const char *root, const char *id, int interval_ms,
                          bool stats_once, FILE *out, polis_error **err);

#endif
