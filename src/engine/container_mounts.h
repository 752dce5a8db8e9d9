/* container_mounts.h - a container's mounts, from its create request.
 *
 * HostConfig.Binds ("src:dst[:mode]"), HostConfig.Mounts (Docker's mount
 * objects) and Config.Volumes (the image's VOLUME, `-v /path`) become one
 * list of mount points, validated with Docker's wording and kept in the
 * container's document ("MountPoints").  An entry has Docker's inspect
 * fields (Type, Name, Source, Destination, Driver, Mode, RW, Propagation)
 * and a few of polisd's own:
 *   CopyUp        a volume that takes the image's content when empty
 *   Anonymous     a volume made for this container (rm -v removes it)
 *   CreateSource  a -v bind whose missing source directory is made
 *   TmpfsData     the tmpfs mount data ("size=...,mode=...")
 *   VolumeLabels, VolumeOptions  for a named volume --mount creates
 * Resolving touches no volume: volume.c creates what the list names.
 * HostConfig.Tmpfs stays HostConfig's (Docker does not list it in Mounts).
 */
#ifndef POLIS_ENGINE_CONTAINER_MOUNTS_H
#define POLIS_ENGINE_CONTAINER_MOUNTS_H

#include <jansson.h>

#include "base/error.h"

/* Caps on what a create request may hold. */
#define CONTAINER_MOUNTS_MAX 256
#define CONTAINER_MOUNTS_STR_MAX 4096

/* The mount points of CONFIG + HC; volume sources are under VOLUMES_DIR
   (ROOT/volumes).  New array, or NULL with an ERROR_INVALID in Docker's
   words ("invalid mount config for type ...", "Duplicate mount point"). */
json_t *container_mounts_resolve (const char *volumes_dir, const json_t *config,
                                  const json_t *hc, polis_error **err);

/* Docker's inspect "Mounts" from MOUNTS (only the public fields).  New. */
json_t *container_mounts_public (const json_t *mounts);

/* A mount point's field, "" when absent. */
const char *container_mounts_str (const json_t *m, const char *key);

#endif
