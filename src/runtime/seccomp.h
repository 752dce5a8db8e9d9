/* seccomp.h - the OCI linux.seccomp filter, compiled and loaded.
 *
 * The runtime compiles the profile before it clones the container's init
 * (so a bad profile is reported before anything is made): libseccomp turns
 * it into a classic BPF program, which the child inherits with the rest of
 * the runtime's memory.  The init loads it with seccomp(2) as the last step
 * before exec (or before dropping capabilities when noNewPrivileges is off,
 * as runc does).  With SCMP_ACT_NOTIFY rules the kernel hands out a
 * listener fd, which goes to the seccomp agent at listenerPath; the runtime
 * connects to the agent before the clone, while the host's paths are
 * still in view.
 */
#ifndef POLIS_RUNTIME_SECCOMP_H
#define POLIS_RUNTIME_SECCOMP_H

#include <jansson.h>
#include <sys/types.h>

#include "base/error.h"

typedef struct seccomp_filter seccomp_filter;

/* Compile SECCOMP (the linux.seccomp object).  Unknown syscall names and
   architectures this libseccomp cannot add are skipped with a debug log.
   NULL with *err set (ERROR_INVALID, naming the field:
   `syscalls[3].action: unknown action "SCMP_ACT_FOO"`) on an invalid
   profile.  The caller owns the result (seccomp_filter_free). */
seccomp_filter *seccomp_compile (const json_t *seccomp, polis_error **err);

/* seccomp_compile, with the program looked up in (and, on a miss, added
   to) the cache under the state root CACHE_ROOTFD (see seccomp_cache.h).
   The profile is validated either way; -1 means no cache. */
seccomp_filter *seccomp_compile_cached (const json_t *seccomp, int cache_rootfd,
                                        polis_error **err);

/* Load F into the calling process with seccomp(2).  The caller needs
   no_new_privs or CAP_SYS_ADMIN.  When F has SCMP_ACT_NOTIFY rules the
   listener fd (O_CLOEXEC, the caller's) is returned in *LISTENER, else -1.
   (Not named seccomp_load: libseccomp has that name.) */
int seccomp_filter_load (const seccomp_filter *f, int *listener,
                         polis_error **err);

/* The listenerPath of the profile when it has SCMP_ACT_NOTIFY rules (the
   only case a seccomp agent is talked to), else NULL. */
const char *seccomp_listener_path (const seccomp_filter *f);

/* Connect to the seccomp agent listening on the unix socket PATH.
   Returns the socket (O_CLOEXEC, the caller's) or -1 with *err set. */
int seccomp_agent_connect (const char *path, polis_error **err);

/* The container process state the runtime spec has the runtime send to
   the agent: ociVersion, fds ["seccompFd"], PID, F's listenerMetadata and
   STATE_JSON (the container's state document).  Heap string, caller's;
   NULL with *err set when STATE_JSON does not parse. */
char *seccomp_agent_document (const seccomp_filter *f, pid_t pid,
                              const char *state_json, polis_error **err);

/* Send the listener fd LISTENER with DOC (from seccomp_agent_document)
   over SOCK, the connection to the agent, then shut the connection down:
   the spec allows one state per connection. */
int seccomp_send_listener (int sock, int listener, const char *doc,
                           polis_error **err);

/* Load F and, when it makes a listener, hand it to the agent on
   AGENT_SOCK with the state of process PID (see seccomp_agent_document).
   The document is made before the filter is in place, so that between
   the load and the hand-over the process makes one system call (sendmsg):
   a notify rule on anything else cannot hang it waiting for an agent that
   has no listener yet. */
int seccomp_apply (const seccomp_filter *f, int agent_sock, pid_t pid,
                   const char *state_json, polis_error **err);

/* The "seccomp" object of the runtime's features document: enabled,
   actions, operators, archs, knownFlags, supportedFlags.  New reference. */
json_t *seccomp_features (void);

/* Free F; NULL-safe. */
void seccomp_filter_free (seccomp_filter *f);
static inline void
cleanup_seccomp_fn (seccomp_filter **f)
{
  seccomp_filter_free (*f);
  *f = NULL;
}
#define cleanup_seccomp __attribute__ ((cleanup (cleanup_seccomp_fn)))

#endif
