/* image_store.h - the image library's handle: content store, polis.db and
 * snapshots under one --root, and the operations on stored images that
 * need all three (resolve a name, tag, remove with garbage collection,
 * prune, record a new image).
 */
#ifndef POLIS_IMAGE_IMAGE_STORE_H
#define POLIS_IMAGE_IMAGE_STORE_H

#include <stdbool.h>

#include "base/error.h"
#include "content_store.h"
#include "image_db.h"
#include "snapshot.h"

typedef struct
{
  char *root;
  content_store *cs;
  image_db *db;
  snapshot_store *snaps;
} image_store;

/* Open (creating) the store under ROOT.  Caller frees. */
image_store *image_store_open (const char *root, polis_error **err);
void image_store_free (image_store *s);
void image_store_cleanup (image_store **s);
#define cleanup_image_store __attribute__ ((cleanup (image_store_cleanup)))

/* The image ID a user's REF names: a name ("busybox", "x:1",
   "x@sha256:…"), a full ID or an unambiguous ID prefix.
   ERROR_NOT_FOUND "No such image: REF".  Caller frees. */
char *image_store_resolve (image_store *s, const char *ref, polis_error **err);

/* Tag: point TARGET (a normalised name) at the image SOURCE names. */
int image_store_tag (image_store *s, const char *source, const char *target,
                     polis_error **err);

/* Docker's `rmi`: a name is untagged, and the image is deleted when no name
   is left; an ID deletes the image (with FORCE even when several names
   point at it).  Refused while an image is held (in use by a container).
   Each action is appended to *REPORT as "Untagged: x" / "Deleted: id". */
int image_store_remove (image_store *s, const char *ref, bool force,
                        char ***report, polis_error **err);

/* Remove dangling images (no tag) that nobody holds. */
int image_store_prune (image_store *s, char ***report, polis_error **err);

/* Remove snapshots and blobs no image refers to any more. */
int image_store_gc (image_store *s, polis_error **err);

#endif
