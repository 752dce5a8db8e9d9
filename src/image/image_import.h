/* image_import.h - images made locally: `import` of a rootfs tarball, and
 * recording an image whose manifest, config and layer blobs are already in
 * the content store (used by load). */
#ifndef POLIS_IMAGE_IMAGE_IMPORT_H
#define POLIS_IMAGE_IMAGE_IMPORT_H

#include "base/error.h"
#include "image_store.h"
#include "progress.h"

typedef struct
{
  const char *name;     /* REPOSITORY[:TAG] or NULL */
  const char *message;  /* history comment */
  char **changes;       /* "CMD [...]", "ENV K=V", "WORKDIR /x", ... */
  const char *platform; /* default: this host */
} image_import_opts;

/* Import the (possibly compressed) tar on FD as a one-layer image.  *ID
   (caller frees) gets the image ID. */
int image_import (image_store *s, int fd, const image_import_opts *o,
                  char **id, polis_error **err);

/* Record the image whose manifest MANIFEST_DIGEST (an image manifest, not
   an index) and blobs are in the content store: unpack its layers, check
   the diff IDs, record it under NAMES (canonical).  *ID gets its ID. */
int image_import_manifest (image_store *s, const char *manifest_digest,
                           char *const *names, progress *p, char **id,
                           polis_error **err);

#endif
