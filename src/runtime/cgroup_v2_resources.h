/* cgroup_v2_resources.h - linux.resources on the unified hierarchy. */
#ifndef POLIS_RUNTIME_CGROUP_V2_RESOURCES_H
#define POLIS_RUNTIME_CGROUP_V2_RESOURCES_H

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"

/* Write RESOURCES into the files of the cgroup directory DIR.  UPDATE is
   true for `update` (only the given fields change). */
int cgroup_v2_resources_apply (const char *dir, const json_t *resources,
                               bool update, polis_error **err);

/* runc's `events --stats` document for the cgroup at DIR. */
json_t *cgroup_v2_resources_stats (const char *dir, polis_error **err);

#endif
