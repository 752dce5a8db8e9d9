/* cgroup_v1_resources.c - linux.resources on cgroup v1 controllers.
   PLACEHOLDER: filled in by the cgroup resources work. */
#include "runtime/cgroup_v1_resources.h"

int
cgroup_v1_resources_apply (const cgroup *cg, const json_t *resources,
                           bool update, polis_error **err)
{
  (void) cg;
  (void) resources;
  (void) update;
  (void) err;
  return 0;
}

json_t *
cgroup_v1_resources_stats (const cgroup *cg, polis_error **err)
{
  (void) cg;
  (void) err;
  return json_object ();
}
