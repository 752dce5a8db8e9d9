/* process.h - the container process's own settings, applied in order.
 *
 * Called by the init (and by exec) after the file system is final: limits,
 * the executable lookup, the working directory, then the identity change
 * (groups, gid, uid, capabilities) that takes the privileges away.
 */
#ifndef POLIS_RUNTIME_PROCESS_H
#define POLIS_RUNTIME_PROCESS_H

#include <stdbool.h>

#include "base/error.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

/* setrlimit() each of process.rlimits; a hard limit above what the host
   allows is a clear error naming the limit. */
int process_apply_rlimits (const spec_process *p, polis_error **err);

/* Write process.oomScoreAdj, if set, for the calling process (unless it
   already has that value). */
int process_set_oom_score_adj (const spec_process *p, polis_error **err);
/* The same for process PID, from outside: the runtime sets it for the
   init, which inside a user namespace may not write its own (a process
   that is not dumpable, as the init, has /proc/self owned by the host's
   root). */
int process_set_oom_score_adj_of (pid_t pid, const spec_process *p,
                                  polis_error **err);

/* Resolve ARG0 as execvp would, with PATH from ENV.  Heap path, or NULL
   with runc's wording ("exec: \"x\": executable file not found in $PATH"). */
char *process_find_executable (const char *arg0, char *const *env,
                               polis_error **err);

/* chdir to process.cwd. */
int process_chdir (const spec_process *p, polis_error **err);

/* Drop the bounding set, set groups, gid, uid, then the capability sets
   and the umask.  SETGROUPS_ALLOWED is false in a user namespace whose
   setgroups file says deny. */
int process_set_identity (const spec_process *p, bool setgroups_allowed,
                          polis_error **err);

/* prctl(PR_SET_NO_NEW_PRIVS) when process.noNewPrivileges. */
int process_set_no_new_privs (const spec_process *p, polis_error **err);

typedef struct
{
  const spec_process *p;
  const seccomp_filter *seccomp; /* may be NULL */
  int seccomp_agent;      /* connection to the seccomp agent, or -1 */
  pid_t pid;              /* the process as the runtime sees it, for the agent */
  const char *state_json; /* the container's state, for the agent */
  int console_sock;       /* receives the pty master when p->terminal */
  bool mount_dev_console; /* the init: also mount the pty on /dev/console */
  bool in_userns;
} process_finish_opts;

/* Everything between "the file system is final" and "ready to exec", in
   the order security needs: rlimits and oomScoreAdj, the terminal, $HOME,
   the executable lookup and cwd (as root), the seccomp filter when it must
   be loaded while privileged, the identity change, noNewPrivileges.
   *EXE and *ENV (caller's) are what to execve; *SECCOMP_PENDING says the
   filter still has to be loaded (noNewPrivileges: as late as possible). */
int process_finish (const process_finish_opts *o, char **exe, char ***env,
                    bool *seccomp_pending, polis_error **err);

/* Every signal back to its default action and unblocked: a foreground
   run or exec blocks them for its signalfd, and a caller may have ignored
   some; a container process starts with neither. */
void process_reset_signals (void);

/* Make the three fds STDIO the calling process's 0, 1 and 2 (any of them
   may already be one of 0..2).  For a caller that hands the container its
   own pipes or files instead of letting it inherit its stdio (polis-shim).
   The originals stay open. */
int process_take_stdio (const int stdio[3], polis_error **err);

/* Close every fd above KEEP_UP_TO. */
int process_close_fds (int keep_up_to);

/* Close every fd from FIRST up, except the N fds in KEEP (any order, -1
   entries ignored). */
void process_close_fds_except (int first, const int *keep, size_t n);

#endif
