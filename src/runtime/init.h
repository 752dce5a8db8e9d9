/* init.h - the container's first process, from clone() to execve().
 *
 * init_main() runs in the child the runtime cloned into the container's
 * namespaces.  It talks to the runtime over the sync socket: it waits until
 * its id maps and cgroup are in place, builds the file system view, asks the
 * runtime to run the prestart hooks, pivots, finalises the process's
 * settings, reports ready, and waits to be started (the exec fifo for
 * create/start, a message for run).  Then it execs the user's program.
 * Failures before ready travel back to the runtime as error messages.
 */
#ifndef POLIS_RUNTIME_INIT_H
#define POLIS_RUNTIME_INIT_H

#include <stdbool.h>

#include "runtime/seccomp.h"
#include "runtime/spec.h"

typedef struct
{
  const spec *spec;
  const char *id;
  const char *rootfs;        /* absolute */
  int sync_fd;               /* the init's end of the sync pair */
  int fifo_fd;               /* exec.fifo (O_RDWR), or -1 for `run` */
  int console_sock;          /* where to send the pty master, or -1 */
  const int *stdio;          /* three fds to become 0, 1, 2; NULL: ours */
  int preserve_fds;          /* fds 3..3+n-1 pass into the container */
  bool no_pivot;
  bool no_new_keyring;
  const seccomp_filter *seccomp;
  int seccomp_agent;         /* connection to the seccomp agent, or -1 */
} init_config;

/* The child's entry point (a namespace_child_fn).  Never returns. */
void init_main (void *arg) __attribute__ ((noreturn));

#endif
