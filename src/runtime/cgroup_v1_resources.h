/* cgroup_v1_resources.h - linux.resources on cgroup v1 controllers. */
#ifndef POLIS_RUNTIME_CGROUP_V1_RESOURCES_H
#define POLIS_RUNTIME_CGROUP_V1_RESOURCES_H

#include "runtime/cgroup_internal.h"

/* Write RESOURCES into the controllers' files.  UPDATE is true for
   `update` (only the given fields change). */
int cgroup_v1_resources_apply (const cgroup *cg, const json_t *resources,
                               bool update, polis_error **err);

/* runc's `events --stats` document for CG. */
json_t *cgroup_v1_resources_stats (const cgroup *cg, polis_error **err);

#endif
