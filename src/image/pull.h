/* pull.h - pull an image from a registry into the store.
 *
 * Manifest (index -> platform), config, then the layers: up to PARALLEL
 * downloads at once on one curl multi handle, each streamed into the
 * content store (hashed as it arrives) and, at the same time, unpacked by a
 * thread that follows the growing file.  An interrupted download keeps its
 * partial blob and continues with a Range request, in this pull (retries)
 * or the next one.  Snapshots become visible only when the blob digest and
 * the diff ID both check out; the image is recorded in one transaction.
 */
#ifndef POLIS_IMAGE_PULL_H
#define POLIS_IMAGE_PULL_H

#include "base/error.h"
#include "image_store.h"
#include "progress.h"
#include "registry.h"

#define PULL_PARALLEL_DEFAULT 3
#define PULL_ATTEMPTS 5

typedef struct
{
  registry_opts reg;
  const char *platform; /* "os/arch[/variant]", NULL = this host */
  int parallel;         /* <= 0: PULL_PARALLEL_DEFAULT */
  progress *progress;   /* may be NULL */
} pull_opts;

/* Pull REF.  *ID (optional, caller frees) gets the image ID. */
int pull_image (image_store *s, const char *ref, const pull_opts *o,
                char **id, polis_error **err);

/* Unpack layer blobs already in the content store into snapshots (used by
   load and import).  LAYERS[i] is a blob digest, DIFF_IDS[i] the expected
   diff ID (verified).  Records the snapshots in the db. */
int pull_unpack_local (image_store *s, char *const *layers,
                       char *const *diff_ids, size_t n, progress *p,
                       polis_error **err);

/* An image_restore_fn: unpack again the missing snapshots of image ID
   from its blobs (DATA unused). */
int pull_restore_image (image_store *s, const char *id, void *data,
                        polis_error **err);

#endif
