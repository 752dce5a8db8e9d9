/* state.h - what the runtime remembers of a container between commands.
 *
 * Under the state root (--root, /run/polis-runtime by default) each
 * container has a directory named by its id holding state.json (written
 * atomically), a copy of its config.json, and, until it is started,
 * exec.fifo.  Commands on one container serialise on an flock() of its
 * directory.  A container's status is derived, never stored: its init is
 * checked by pid and start time, so a recycled pid is not mistaken for it.
 */
#ifndef POLIS_RUNTIME_STATE_H
#define POLIS_RUNTIME_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

#define STATE_DEFAULT_ROOT "/run/polis-runtime"
#define STATE_FILE "state.json"
#define STATE_CONFIG_FILE "config.json"
#define STATE_FIFO "exec.fifo"
/* Longest container id accepted (runc has no limit; 1024 keeps paths sane). */
#define STATE_ID_MAX 1024

typedef enum
{
  STATUS_CREATING = 0,
  STATUS_CREATED,
  STATUS_RUNNING,
  STATUS_PAUSED,
  STATUS_STOPPED,
} state_status;

typedef struct
{
  char *id;
  pid_t pid;
  unsigned long long pid_start; /* /proc/PID/stat starttime */
  char *bundle;                 /* absolute */
  char *rootfs;                 /* absolute */
  char *created;                /* RFC 3339, UTC */
  char *owner;
  struct cgroup *cg;            /* the container's cgroup, or NULL */
  json_t *annotations;          /* owned, may be NULL */
  bool has_pidns;               /* killing the init ends every process */
} container_state;

void state_free (container_state *st);
static inline void
cleanup_state_fn (container_state **st)
{
  state_free (*st);
  *st = NULL;
}
#define cleanup_state __attribute__ ((cleanup (cleanup_state_fn)))

/* Check a container id: non-empty, at most STATE_ID_MAX, only letters,
   digits, '_', '-', '.', '+', and not "." or "..". */
int state_id_check (const char *id, polis_error **err);

/* Open (creating with CREATE) the state root ROOT.  Returns an fd. */
int state_root_open (const char *root, bool create, polis_error **err);

/* Make the directory of a new container (ERROR_CONFLICT if it exists),
   locked.  Returns its fd. */
int state_dir_create (int rootfd, const char *id, polis_error **err);
/* Open and lock the directory of an existing container (ERROR_NOT_FOUND:
   `container "x" does not exist`): EXCLUSIVE for commands that change it,
   shared for those that only read.  Returns its fd. */
int state_dir_open (int rootfd, const char *id, bool exclusive,
                    polis_error **err);
/* Remove a container's directory. */
int state_dir_remove (int rootfd, const char *id, polis_error **err);

/* Let go of the lock state_dir_create/state_dir_open took, keeping DIRFD
   (for a long step other commands must not wait for, such as hooks that
   may themselves ask for the container's state). */
void state_dir_unlock (int dirfd);

/* Open the state root ROOT, the directory of container ID in it (locked as
   state_dir_open), and load its state.  *DIRFD (caller's) gets the
   directory.  ERROR_NOT_FOUND: `container "x" does not exist`. */
container_state *state_open_container (const char *root, const char *id,
                                       bool exclusive, int *dirfd,
                                       polis_error **err);

int state_save (int dirfd, const container_state *st, polis_error **err);
container_state *state_load (int dirfd, polis_error **err);

/* Derive the status (see above).  DIRFD is the container's directory. */
state_status state_status_of (int dirfd, const container_state *st);
const char *state_status_name (state_status status);

/* The runtime spec's state document for ST in STATUS, as hooks and
   `state` show it.  New reference. */
json_t *state_to_oci (const container_state *st, state_status status);

/* The starttime field of /proc/PID/stat, 0 if the process is gone. */
unsigned long long state_pid_start_time (pid_t pid);

/* Whether the init ST recorded is still alive (and not a zombie). */
bool state_init_alive (const container_state *st);

/* Now in RFC 3339 with nanoseconds, UTC.  Caller frees. */
char *state_now_rfc3339 (void);

#endif
