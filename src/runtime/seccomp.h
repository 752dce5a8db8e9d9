/* seccomp.h - the OCI linux.seccomp filter, compiled and loaded.
 *
 * The runtime compiles the profile before it clones the container's init
 * (so a bad profile is reported before anything is made); the init loads
 * it as the last step before exec (or before dropping capabilities when
 * noNewPrivileges is off, as runc does).
 */
#ifndef POLIS_RUNTIME_SECCOMP_H
#define POLIS_RUNTIME_SECCOMP_H

#include <jansson.h>

#include "base/error.h"

typedef struct seccomp_filter seccomp_filter;

/* Compile SECCOMP (the linux.seccomp object).  Unknown syscall names are
   skipped with a debug log.  NULL with *err set on an invalid profile. */
seccomp_filter *seccomp_compile (const json_t *seccomp, polis_error **err);

/* Load F into the calling process.  When the profile has a listenerPath,
   the notify fd is returned in *LISTENER (else -1). */
int seccomp_load (const seccomp_filter *f, int *listener, polis_error **err);

/* The listenerPath of the profile, or NULL. */
const char *seccomp_listener_path (const seccomp_filter *f);

/* Send the notify fd LISTENER with the state document STATE_JSON to the
   unix socket at PATH (the seccomp agent), as the runtime spec says. */
int seccomp_send_listener (const char *path, int listener,
                           const char *state_json, polis_error **err);

/* The "seccomp" object of the runtime's features document. */
json_t *seccomp_features (void);

void seccomp_filter_free (seccomp_filter *f);
static inline void
cleanup_seccomp_fn (seccomp_filter **f)
{
  seccomp_filter_free (*f);
  *f = NULL;
}
#define cleanup_seccomp __attribute__ ((cleanup (cleanup_seccomp_fn)))

#endif
