/* cgroup.h - the container's control group, on cgroup v1 and v2 hosts.
 *
 * One handle names the container's cgroup on every hierarchy it uses.  The
 * host's layout (unified v2, or v1 / hybrid with per-controller
 * hierarchies) is detected once; a backend for each version sits behind an
 * ops table (cgroup_v1.c, cgroup_v2.c).  The resolved paths are saved in the
 * container's state, so later commands (run from another cgroup) find the
 * same directories.
 */
#ifndef POLIS_RUNTIME_CGROUP_H
#define POLIS_RUNTIME_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

typedef enum
{
  CGROUP_V1 = 1, /* legacy or hybrid: one hierarchy per controller */
  CGROUP_V2 = 2, /* unified */
} cgroup_version;

typedef struct cgroup cgroup;

/* A v1 hierarchy: its controllers ("memory", "cpu,cpuacct",
   "name=systemd") and where it is mounted. */
typedef struct
{
  char *controllers;
  char *mount;
} cgroup_mount;

/* The v1 hierarchies mounted under CGROUP_ROOT, from
   /proc/self/mountinfo.  *MOUNTS is the caller's (cgroup_mounts_free). */
int cgroup_v1_mounts (cgroup_mount **mounts, size_t *n, polis_error **err);
void cgroup_mounts_free (cgroup_mount *m, size_t n);

/* The caller's own cgroup in the hierarchy named CONTROLLERS ("" for v2),
   from the text of /proc/self/cgroup (SELFCG).  Heap; "/" when absent. */
char *cgroup_own_path (const char *selfcg, const char *controllers);

/* The host's cgroup layout, detected on first use. */
cgroup_version cgroup_host_version (void);

/* Where the cgroup of container ID goes, from linux.cgroupsPath:
   NULL or "" is "ID" relative to the caller, like "a/b"; "/a/b" is from
   the hierarchy root; "a/b" is under the caller's own cgroup on v1, and
   under its parent on v2 (as runc: the caller's cgroup has a process, the
   caller, so v2 cannot enable controllers for its children);
   "slice:prefix:name" (systemd form) maps to "/slice/prefix-name.scope"
   with the slice's parents expanded, as crun does without systemd.
   Nothing is created yet.  NULL with *err set on a malformed path. */
cgroup *cgroup_resolve (const char *cgroups_path, const char *id,
                        polis_error **err);

/* Create the directories (every level) and apply RESOURCES
   (linux.resources, may be NULL: the default device rules still apply).
   On failure nothing is left behind but the parent levels. */
int cgroup_create (cgroup *cg, const json_t *resources, polis_error **err);

/* Move PID into the cgroup on every hierarchy. */
int cgroup_enter (const cgroup *cg, pid_t pid, polis_error **err);

/* Apply RESOURCES to an existing cgroup (`update`): only the fields given
   change (a 0 for a memory, cpu or blkio number counts as not given, as
   in runc).  Errors name the field ("linux.resources.memory.limit: ..."). */
int cgroup_update (const cgroup *cg, const json_t *resources,
                   polis_error **err);

/* Every pid in the cgroup and below it.  *PIDS is the caller's. */
int cgroup_pids (const cgroup *cg, pid_t **pids, size_t *n,
                 polis_error **err);

/* Send SIG to every process in the cgroup. */
int cgroup_kill_all (const cgroup *cg, int sig, polis_error **err);

/* Freeze (pause) or thaw (resume) every process. */
int cgroup_freeze (const cgroup *cg, bool frozen, polis_error **err);
bool cgroup_is_frozen (const cgroup *cg);

/* Remove the directories, waiting briefly for dying processes to leave.
   Missing directories are fine (delete after a crash). */
int cgroup_destroy (const cgroup *cg, polis_error **err);

/* Statistics in runc's `events --stats` shape ("cpu", "memory", "pids",
   "blkio", "hugetlb").  New reference. */
json_t *cgroup_stats (const cgroup *cg, polis_error **err);

/* Memory events for OOM reporting: the oom_kill count so far, or -1. */
long long cgroup_oom_kills (const cgroup *cg);

/* An fd (O_NONBLOCK, the caller's) that polls readable when the cgroup
   may have had an OOM kill: on v1 an eventfd registered on
   memory.oom_control (it also fires when the cgroup is removed), on v2
   an inotify watch of memory.events (any memory event).  Compare
   cgroup_oom_kills to know; read the fd to clear it.  -1 with *err set
   where the memory controller is not there. */
int cgroup_oom_watch (const cgroup *cg, polis_error **err);

/* The v2 directory of the cgroup, opened for CLONE_INTO_CGROUP; -1 on v1. */
int cgroup_open_dir (const cgroup *cg, polis_error **err);

/* For the state file. */
json_t *cgroup_to_json (const cgroup *cg);
cgroup *cgroup_from_json (const json_t *j, polis_error **err);
/* A printable name ("/polis-abc" on v2, the memory path on v1). */
const char *cgroup_display_path (const cgroup *cg);

void cgroup_free (cgroup *cg);
static inline void
cleanup_cgroup_fn (cgroup **cg)
{
  cgroup_free (*cg);
  *cg = NULL;
}
#define cleanup_cgroup __attribute__ ((cleanup (cleanup_cgroup_fn)))

#endif
