/* archive.h - image archives both ways.
 *
 * save writes one tar that is at once a `docker save` archive
 * (manifest.json, repositories) and an OCI image layout (oci-layout,
 * index.json, blobs/sha256/), as Docker >= 25 does; layers are kept as the
 * registry sent them, so a load + push gives back the same digests.
 * load reads either form (and the older docker save layout with
 * <id>/layer.tar), compressed or not.
 */
#ifndef POLIS_IMAGE_ARCHIVE_H
#define POLIS_IMAGE_ARCHIVE_H

#include "base/error.h"
#include "image_store.h"

#define ARCHIVE_JSON_MAX (8u << 20)  /* manifest.json, index.json, ... */
#define ARCHIVE_IMAGES_MAX 1000

/* Write the images REFS names (NULL-terminated) to FD. */
int archive_save (image_store *s, char *const *refs, int fd,
                  polis_error **err);

/* Load an archive from FD.  *LOADED (strv) gets Docker's lines ("Loaded
   image: busybox:latest" / "Loaded image ID: sha256:…"). */
int archive_load (image_store *s, int fd, char ***loaded, polis_error **err);

#endif
