/* cgroup_internal.h - what cgroup.c shares with its two backends. */
#ifndef POLIS_RUNTIME_CGROUP_INTERNAL_H
#define POLIS_RUNTIME_CGROUP_INTERNAL_H

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
/* Send SIG to each pid of the list. */
int cgroup_signal_pids (pid_t *pids, size_t n, int sig, polis_error **err);

/* v1: the hierarchy that holds CONTROLLER ("memory"), or NULL. */
const cgroup_hierarchy *cgroup_v1_find (const cgroup *cg,
                                        const char *controller);

#endif
