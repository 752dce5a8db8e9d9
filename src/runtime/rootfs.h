/* rootfs.h - the container's file system view: mounts, pivot_root, masks.
 *
 * Runs in the container's init, inside its new mount namespace.  Every
 * destination is resolved inside the rootfs (base/path.h) and the mount is
 * made on the resulting file descriptor (/proc/self/fd/N), so that neither a
 * symlink nor ".." in the rootfs can redirect a mount onto the host.
 */
#ifndef POLIS_RUNTIME_ROOTFS_H
#define POLIS_RUNTIME_ROOTFS_H

#include <stdbool.h>

#include "base/error.h"
#include "runtime/spec.h"

/* Make the host's mounts slave (or the configured propagation) in the new
   namespace, bind the rootfs onto itself, and make every mount of S.
   Returns an O_PATH fd of the rootfs mount. */
int rootfs_prepare (const spec *s, const char *rootfs, bool in_userns,
                    polis_error **err);

/* Make ROOTFD the root: pivot_root and detach the old root, or with NO_PIVOT
   move the mount over / and chroot (for ramfs roots). */
int rootfs_pivot (int rootfd, bool no_pivot, polis_error **err);

/* After the pivot: write sysctls, apply readonlyPaths and maskedPaths, make
   the root read-only when asked, apply rootfsPropagation. */
int rootfs_finalize (const spec *s, polis_error **err);

/* Bind-mount the mount on fd FD read-only again (keeping the flags that a
   user namespace locks, else the remount fails).  Exposed for devices and
   cgroup mounts. */
int rootfs_remount (int fd, unsigned long flags, polis_error **err);

/* Mount the "cgroup" mount M onto DESTFD (see rootfs_cgroup.c). */
int rootfs_cgroup_mount (const spec_mount *m, int rootfd, int destfd,
                         bool cgroupns, polis_error **err);

#endif
