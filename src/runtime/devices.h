/* devices.h - the container's /dev: default nodes, linux.devices, links.
 *
 * Nodes are made with mknod, or, in a user namespace (where mknod is not
 * allowed), bind-mounted from the host's node of the same path.
 */
#ifndef POLIS_RUNTIME_DEVICES_H
#define POLIS_RUNTIME_DEVICES_H

#include <stdbool.h>

#include "base/error.h"
#include "runtime/spec.h"

/* Create the default devices (null, zero, full, random, urandom, tty),
   those of linux.devices, and the /dev/fd, /dev/std*, /dev/ptmx links
   inside ROOTFD. */
int devices_setup (const spec *s, int rootfd, bool in_userns,
                   polis_error **err);

#endif
