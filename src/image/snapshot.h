/* snapshot.h - unpacked layers under <root>/snapshots/<chain ID hex>/.
 *
 * A snapshot holds one layer's own files (overlayfs form: whiteouts are
 * char 0/0, opaque dirs carry trusted.overlay.opaque); an image's root is
 * the overlay of its snapshots.  Keyed by chain ID, a snapshot is shared by
 * every image with the same layer stack.  New snapshots are unpacked into
 * .tmp-<hex>-<pid>-<n> and renamed into place only when verified.
 */
#ifndef POLIS_IMAGE_SNAPSHOT_H
#define POLIS_IMAGE_SNAPSHOT_H

#include <stdbool.h>

#include "base/error.h"

typedef struct snapshot_store snapshot_store;

snapshot_store *snapshot_store_open (const char *root, polis_error **err);
void snapshot_store_free (snapshot_store *s);

/* Does the snapshot directory of CHAIN_ID exist? */
bool snapshot_exists (snapshot_store *s, const char *chain_id);
/* Absolute path of a snapshot.  Caller frees. */
char *snapshot_path (snapshot_store *s, const char *chain_id);
/* The snapshots directory's fd (borrowed). */
int snapshot_store_fd (snapshot_store *s);

/* A fresh temporary directory for unpacking CHAIN_ID.  *NAME (heap) is its
   name under snapshots/; returns an O_DIRECTORY fd. */
int snapshot_prepare (snapshot_store *s, const char *chain_id, char **name,
                      polis_error **err);
/* Make a prepared directory the snapshot of CHAIN_ID.  When one is there
   already: with REPLACE (nothing vouches for it: a process died between
   renaming and recording it, or a crash lost its record) ours takes its
   place atomically and the old one is removed; without, ours is removed
   and theirs kept.  1 when ours is in place, 0 when theirs was kept. */
int snapshot_commit (snapshot_store *s, const char *tmp_name,
                     const char *chain_id, bool replace, polis_error **err);
/* Remove a temporary or a snapshot (by name under snapshots/). */
int snapshot_remove_name (snapshot_store *s, const char *name,
                          polis_error **err);
int snapshot_remove (snapshot_store *s, const char *chain_id,
                     polis_error **err);
/* Remove temporaries left by processes that no longer exist. */
void snapshot_gc_temporaries (snapshot_store *s);
/* Flush unpacked files to disk before they are recorded as complete
   (syncfs of the snapshots' file system). */
int snapshot_sync (snapshot_store *s, polis_error **err);
/* fsync snapshots/ itself, so that commits (renames) survive a crash. */
int snapshot_sync_dir (snapshot_store *s, polis_error **err);

#endif
