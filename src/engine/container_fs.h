/* container_fs.h - a container's files on the host: the root file system
 * (an overlay of the image, mounted through the image library), the
 * hostname / hosts / resolv.conf files that are bind-mounted into it, and
 * the user and group names read from its /etc (a hostile rootfs: every
 * path is resolved inside it). */
#ifndef POLIS_ENGINE_CONTAINER_FS_H
#define POLIS_ENGINE_CONTAINER_FS_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "engine_internal.h"

#define CONTAINER_FS_GROUPS_MAX 64

/* Mount C's root at C->dir/rootfs unless it is mounted already. */
int container_fs_mount (engine *e, container *c, polis_error **err);
/* An image_restore_fn (DATA: the engine): `polis-image unpack ID`, which
   unpacks the snapshots a crash dropped again from their blobs.  polisd
   links only the image store, not its unpacking code. */
int container_fs_restore_image (image_store *s, const char *id, void *data,
                                polis_error **err);
/* Is C->dir/rootfs a mount point? */
bool container_fs_mounted (container *c);

/* Write hostname, hosts and resolv.conf in C->dir. */
int container_fs_write_etc (container *c, polis_error **err);

/* Resolve Docker's USER ("", "uid", "name", "uid:gid", "name:group")
   against ROOTFS/etc/passwd and /etc/group.  GROUPS gets the user's
   supplementary groups plus EXTRA_GROUPS (HostConfig.GroupAdd).  Docker's
   wording on failure: "unable to find user x: no matching entries in
   passwd file". */
int container_fs_resolve_user (const char *rootfs, const char *user,
                               const json_t *extra_groups, uid_t *uid,
                               gid_t *gid, gid_t *groups, size_t *n_groups,
                               polis_error **err);

/* Create WorkingDir inside the root (owned by UID:GID) as Docker does. */
int container_fs_make_workdir (const char *rootfs, const char *dir, uid_t uid,
                               gid_t gid, polis_error **err);

#endif
