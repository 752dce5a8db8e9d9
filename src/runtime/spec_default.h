/* spec_default.h - the config.json that `polis-runtime spec` writes. */
#ifndef POLIS_RUNTIME_SPEC_DEFAULT_H
#define POLIS_RUNTIME_SPEC_DEFAULT_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* A default config in runc's shape (sh with a terminal, the usual mounts,
   pid/net/ipc/uts/mount/cgroup namespaces).  ROOTLESS gives the variant for
   an unprivileged user UID/GID: a user namespace mapping them to root, no
   network namespace, no cgroup limits.  New reference. */
json_t *spec_default (bool rootless, uid_t uid, gid_t gid);

#endif
