/* cgroup_internal.h - what cgroup.c shares with its two backends. */
#ifndef POLIS_RUNTIME_CGROUP_INTERNAL_H
#define POLIS_RUNTIME_CGROUP_INTERNAL_H

#include <stdint.h>

#include "runtime/cgroup.h"

/* Cap on cgroup files we read (cgroup.procs of a big container, stats). */
#define CGROUP_MAX_FILE (8u << 20)

typedef struct
{
  char *controllers; /* "memory", "cpu,cpuacct", "name=systemd" */
  char *mount;       /* where the hierarchy is mounted on the host */
  char *path;        /* the container's cgroup inside the hierarchy */
} cgroup_hierarchy;

struct cgroup
{
  cgroup_version version;
  char *path; /* v2: the cgroup relative to CGROUP_ROOT ("/a/b") */
  cgroup_hierarchy *h; /* v1 only */
  size_t n_h;
};

typedef struct
{
  int (*create) (cgroup *cg, polis_error **err);
  int (*apply) (const cgroup *cg, const json_t *resources, bool update,
                polis_error **err);
  int (*enter) (const cgroup *cg, pid_t pid, polis_error **err);
  int (*pids) (const cgroup *cg, pid_t **pids, size_t *n, polis_error **err);
  int (*kill_all) (const cgroup *cg, int sig, polis_error **err);
  int (*freeze) (const cgroup *cg, bool frozen, polis_error **err);
  bool (*is_frozen) (const cgroup *cg);
  int (*destroy) (const cgroup *cg, polis_error **err);
  json_t *(*stats) (const cgroup *cg, polis_error **err);
  long long (*oom_kills) (const cgroup *cg);
  int (*oom_watch) (const cgroup *cg, polis_error **err);
} cgroup_ops;

extern const cgroup_ops cgroup_v1_ops;
extern const cgroup_ops cgroup_v2_ops;

/* Shared helpers (cgroup.c). */

/* Read the pids listed in FILE (cgroup.procs / tasks format), appending. */
int cgroup_read_pids_file (int dirfd, const char *file, pid_t **pids,
                           size_t *n, polis_error **err);
/* Read the pids of DIR (absolute) and every directory below it. */
int cgroup_read_pids_tree (const char *dir, pid_t **pids, size_t *n,
                           polis_error **err);
/* rmdir DIR's subdirectories bottom-up, then DIR; retries on EBUSY for a
   short while (exiting processes leave asynchronously). */
int cgroup_rmdir_tree (const char *dir, polis_error **err);
/* Write VALUE to DIR/FILE; the error names the file. */
int cgroup_write (const char *dir, const char *file, const char *value,
                  polis_error **err);
/* Read DIR/FILE (capped).  Caller frees.  NULL with *err set. */
char *cgroup_read (const char *dir, const char *file, polis_error **err);
/* Whether DIR/FILE exists (a controller's file, a kernel feature). */
bool cgroup_has_file (const char *dir, const char *file);
/* Read the first number of DIR/FILE; "max" reads as UINT64_MAX.  Returns
   false (and leaves *OUT alone) when the file is missing or unreadable. */
bool cgroup_read_u64 (const char *dir, const char *file, uint64_t *out);
/* The "key value" lines of DIR/FILE (memory.stat, cpu.stat) as a JSON
   object of integers; an empty object when the file is missing. */
json_t *cgroup_read_keyed (const char *dir, const char *file);
/* A byte count for the stats JSON, which cannot hold UINT64_MAX: "no
   limit" becomes the largest page-aligned int64, as a v1 kernel shows it. */
json_int_t cgroup_stats_bytes (uint64_t v);
/* Set KEY of OBJ to V unless V is 0 (Go's omitempty, for runc's shape). */
void cgroup_stats_set_nonzero (json_t *obj, const char *key, uint64_t v);

/* Send SIG to each pid of the list. */
int cgroup_signal_pids (pid_t *pids, size_t n, int sig, polis_error **err);

/* v1: the hierarchy that holds CONTROLLER ("memory"), or NULL. */
const cgroup_hierarchy *cgroup_v1_find (const cgroup *cg,
                                        const char *controller);

#endif
