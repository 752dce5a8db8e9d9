/* container.h - the OCI lifecycle operations: create, start, run, kill,
 * delete, state, list.
 *
 * Each operation works on the state root given in its options and leaves
 * nothing behind when it fails: a create that fails part way kills the
 * half-made init, removes its cgroup and its state directory.
 */
#ifndef POLIS_RUNTIME_CONTAINER_H
#define POLIS_RUNTIME_CONTAINER_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

typedef struct
{
  const char *root;           /* state root */
  const char *id;
  const char *bundle;         /* default "." */
  const char *pid_file;       /* may be NULL */
  const char *console_socket; /* may be NULL */
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
  bool detach; /* run only */
  bool keep;   /* run only: do not delete after the process exits */
  /* For a caller that keeps the container as its child (polis-shim): */
  const int *stdio;    /* NULL: the init inherits our 0, 1, 2; else these
                          three fds become them */
  bool console_master; /* create only: with process.terminal and no
                          console_socket, hand the pty master back */
} container_opts;

/* What create made. */
typedef struct
{
  pid_t pid;          /* the init: our child until we exit */
  int console_master; /* the pty master (O->console_master), else -1 */
} container_created;

/* Create the container and leave it waiting for start.  CREATED (may be
   NULL) gets the init's pid and, with O->console_master, the pty master,
   which is the caller's. */
int container_create (const container_opts *o, container_created *created,
                      polis_error **err);

/* Start a created container: its init execs the user program. */
int container_start (const char *root, const char *id, polis_error **err);

/* Create and start; unless detached, wait, delete (unless keep) and put
   the process's exit status (128+signal when killed) in *EXIT_STATUS. */
int container_run (const container_opts *o, int *exit_status,
                   polis_error **err);

/* Send SIG to the init, or with ALL to every process of the container. */
int container_kill (const char *root, const char *id, int sig, bool all,
                    polis_error **err);

/* Delete a stopped (or created) container; FORCE kills a running one.
   FORCE also removes leftovers of a container whose state is damaged. */
int container_delete (const char *root, const char *id, bool force,
                      polis_error **err);

/* The state document of `state` (runtime spec shape plus rootfs, created,
   owner).  New reference. */
json_t *container_query_state (const char *root, const char *id, polis_error **err);

/* The state documents of every container under ROOT (an array, possibly
   empty when ROOT does not exist).  New reference. */
json_t *container_list (const char *root, polis_error **err);

/* The signals a foreground run or exec forwards to its process (all but
   the synchronous fault signals).  Block them before the process is made. */
void container_forwarded_signals (sigset_t *set);

/* Wait for PID (our child) in the foreground: forward the signals above,
   copy the terminal whose master arrives on CONSOLE_FD (-1: none), and put
   its exit status (128+signal when killed) in *EXIT_STATUS.  The signals
   must already be blocked. */
int container_wait_foreground (pid_t pid, int console_fd, int *exit_status,
                               polis_error **err);

#endif
