/* image_mount.h - a container root: an overlay of an image's snapshots
 * (read-only lower layers, topmost first) plus a writable upper/work pair.
 *
 * Uses the new mount API with one "lowerdir+" per layer (Linux >= 6.8), so
 * that images with many layers are not limited by mount(2)'s one-page
 * option string; older kernels get mount(2) with the layers named relative
 * to the snapshots directory, which fits ~60 layers in a page.
 */
#ifndef POLIS_IMAGE_IMAGE_MOUNT_H
#define POLIS_IMAGE_IMAGE_MOUNT_H

#include "base/error.h"
#include "image_store.h"

/* Mount image ID at TARGET with UPPER and WORK (existing empty dirs on the
   same file system as each other).  Missing snapshots are unpacked again
   from their blobs first, by S->restore. */
int image_mount_overlay (image_store *s, const char *id, const char *upper,
                         const char *work, const char *target,
                         polis_error **err);

/* Force the mount(2) path (for tests of the fallback). */
void image_mount_force_legacy (int on);

#endif
