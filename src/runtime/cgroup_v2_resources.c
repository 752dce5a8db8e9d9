/* cgroup_v2_resources.c - linux.resources on the unified hierarchy.
   PLACEHOLDER: filled in by the cgroup resources work. */
#include "runtime/cgroup_v2_resources.h"

int
cgroup_v2_resources_apply (const char *dir, const json_t *resources,
                           bool update, polis_error **err)
{
  (void) dir;
  (void) resources;
  (void) update;
  (void) err;
  return 0;
}

json_t *
cgroup_v2_resources_stats (const char *dir, polis_error **err)
{
  (void) dir;
  (void) err;
  return json_object ();
}
