/* image_store.h - the image library's handle: content store, polis.db and
 * snapshots under one --root, and the operations on stored images that
 * need all three (resolve a name, tag, remove with garbage collection,
 * prune, record a new snapshot).
 *
 * Snapshots are derived data: each can be unpacked again from its blob,
 * which is durable before it is visible.  So a new snapshot is recorded
 * without waiting for its files to reach the disk, together with the
 * kernel's boot ID.  A killed process never loses what it wrote (the page
 * cache outlives it); a crash or power loss does, and always changes the
 * boot ID.  The first open of the store in a new boot therefore drops the
 * snapshots that were not known synced (their images stay, and their
 * layers are unpacked again from the blobs when next mounted or pulled),
 * and an open that finds snapshots older than IMAGE_STORE_SYNC_AFTER
 * seconds syncs them (by then the kernel has written them back: it is
 * cheap) and marks them synced.  Without a boot ID, snapshots are synced
 * before they are recorded.
 */
#ifndef POLIS_IMAGE_IMAGE_STORE_H
#define POLIS_IMAGE_IMAGE_STORE_H

#include <stdbool.h>

#include "base/error.h"
#include "content_store.h"
#include "image_db.h"
#include "snapshot.h"

#define IMAGE_STORE_SYNC_AFTER 30 /* s: the kernel's dirty_expire */

typedef struct image_store image_store;

/* Unpacks the layers of image ID whose snapshots are missing again from
   their blobs (see image_mount_overlay).  The unpacking code (libarchive)
   lives with the registry client; a program that links only the store
   (polisd) hands the work to a process that has it. */
typedef int (*image_restore_fn) (image_store *s, const char *id, void *data,
                                 polis_error **err);

struct image_store
{
  char *root;
  content_store *cs;
  image_db *db;
  snapshot_store *snaps;
  char boot_id[40]; /* "" when the system does not say */
  image_restore_fn restore; /* NULL: a missing snapshot is an error */
  void *restore_data;
};

/* Open (creating) the store under ROOT, recovering from a crash and
   syncing old snapshots as described above.  Caller frees. */
image_store *image_store_open (const char *root, polis_error **err);

/* Before recording new snapshots: sync them now when they cannot be
   trusted without (no boot ID). */
int image_store_before_commit (image_store *s, polis_error **err);
/* Record a snapshot unpacked into TMP_NAME (under snapshots/) as CHAIN_ID,
   inside the caller's transaction: rename it into place (replacing a
   directory the database does not know) and add its row.  When a recorded
   one is there already, ours is removed. */
int image_store_commit_layer (image_store *s, const char *tmp_name,
                              const char *chain_id, const char *diff_id,
                              const char *parent, int64_t size,
                              polis_error **err);
/* After the commits, before the transaction ends: make the renames
   durable when the rows claim the snapshots are (no boot ID). */
int image_store_after_commit (image_store *s, polis_error **err);
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

/* Remove dangling images (no tag) that nobody holds; with ALL, every
   image that nobody holds (docker image prune -a). */
int image_store_prune (image_store *s, bool all, char ***report,
                       polis_error **err);

/* Remove snapshots and blobs no image refers to any more. */
int image_store_gc (image_store *s, polis_error **err);

#endif
