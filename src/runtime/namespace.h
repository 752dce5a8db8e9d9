/* namespace.h - start the container's init inside its namespaces.
 *
 * The fast path is one clone() with every CLONE_NEW* flag of the namespaces
 * to create.  Namespaces to join by path, and a time namespace (its offsets
 * must be written before any process enters it), need a short-lived helper:
 * it setns()es, unshares the time namespace, and clones the init with
 * CLONE_PARENT so that the init is still the runtime's child.  The cgroup
 * namespace is never part of the clone: the init unshares it after it has
 * been put into its cgroup, so that its cgroup is the namespace's root.
 */
#ifndef POLIS_RUNTIME_NAMESPACE_H
#define POLIS_RUNTIME_NAMESPACE_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "runtime/spec.h"

typedef void (*namespace_child_fn) (void *arg);

/* Start FN(ARG) in a new process inside the namespaces of S.  FN must not
   return (it execs or _exits).  SYNC_FD is the runtime's end of the sync
   pair, CHILD_FD the init's: a helper reports the init's pid (or its
   failure) on CHILD_FD, for the caller to read on SYNC_FD.  Returns the
   pid of the init as seen by the caller, or -1 with *err set. */
pid_t namespace_spawn (const spec *s, int sync_fd, int child_fd, int cgroup_fd,
                       bool *in_cgroup,
                       namespace_child_fn fn, void *arg, polis_error **err);

/* Write the uid and gid maps of S for process PID (new user namespace). */
int namespace_write_idmaps (pid_t pid, const spec *s, polis_error **err);

/* In the child: unshare the namespaces that must come after the cgroup is
   joined (the cgroup namespace). */
int namespace_unshare_late (const spec *s, polis_error **err);

/* Join the namespaces of running process PID for an exec: every kind in
   MASK (bit = spec_ns_kind) that differs from the caller's.  The pid
   namespace only applies to children of the caller. */
int namespace_join_pid (pid_t pid, unsigned mask, polis_error **err);

#endif
