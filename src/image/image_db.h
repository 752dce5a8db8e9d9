/* image_db.h - image metadata in <root>/polis.db (SQLite, WAL).
 *
 * Tables are namespaced for the engine, which shares the file:
 *   images        one row per image (ID = config digest, as Docker's)
 *   image_names   tags and digest references pointing at an image
 *   image_layers  the ordered layers of each image (blob, diff ID, chain ID)
 *   layers        unpacked snapshots on disk, keyed by chain ID, with the
 *                 boot in which they were written when not known synced
 *   image_meta    small settings of the store (the last boot seen)
 *   image_holds   who uses an image (containers); rm refuses while held
 *   image_blob_sources  where a blob came from, for cross-repository mounts
 * Layer reference counts are the number of image_layers rows naming a
 * chain ID: they cannot drift from the images that hold them.
 */
#ifndef POLIS_IMAGE_IMAGE_DB_H
#define POLIS_IMAGE_IMAGE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct image_db image_db;

typedef struct
{
  char *chain_id;
  char *diff_id;
  char *digest;     /* blob in the content store */
  char *media_type; /* of the blob */
  int64_t size;     /* blob size */
} image_layer_rec;

typedef struct
{
  char *id;                  /* config digest */
  char *manifest_digest;
  char *manifest_media_type;
  char *created;             /* RFC 3339, from the config */
  char *os, *architecture, *variant;
  int64_t size;              /* sum of the layers' blob sizes + config */
  int64_t added;             /* unix time */
  size_t n_layers;
  image_layer_rec *layers;
  char **names;              /* canonical tag and digest names */
} image_record;

void image_record_free (image_record *r);
void image_record_cleanup (image_record **r);
#define cleanup_image_record __attribute__ ((cleanup (image_record_cleanup)))
void image_record_list_free (image_record **list);
void image_record_list_cleanup (image_record ***l);
#define cleanup_image_record_list                                               \
  __attribute__ ((cleanup (image_record_list_cleanup)))

/* Open ROOT/polis.db, creating tables.  Caller frees. */
image_db *image_db_open (const char *root, polis_error **err);
void image_db_close (image_db *db);
void image_db_cleanup (image_db **db);
#define cleanup_image_db __attribute__ ((cleanup (image_db_cleanup)))

int image_db_begin (image_db *db, polis_error **err);
int image_db_commit (image_db *db, polis_error **err);
void image_db_rollback (image_db *db);

/* Insert or replace an image and its layers (names are left alone). */
int image_db_put_image (image_db *db, const image_record *r,
                        polis_error **err);
/* Point NAME at ID; *OLD_ID (optional, caller frees) gets the image NAME
   named before, or NULL. */
int image_db_set_name (image_db *db, const char *name, const char *id,
                       char **old_id, polis_error **err);
/* Remove NAME.  Returns 1 when removed, 0 when absent. */
int image_db_remove_name (image_db *db, const char *name, polis_error **err);
/* The image ID of a canonical NAME, NULL (without error) when absent. */
char *image_db_lookup_name (image_db *db, const char *name, polis_error **err);
/* Image IDs starting with PREFIX ("sha256:" optional); strv, caller frees. */
char **image_db_find_id_prefix (image_db *db, const char *prefix,
                                polis_error **err);
/* Load one image with layers and names.  ERROR_NOT_FOUND when absent. */
image_record *image_db_get_image (image_db *db, const char *id,
                                  polis_error **err);
/* Every image, newest first.  NULL-terminated, caller frees. */
image_record **image_db_list (image_db *db, polis_error **err);
/* Delete an image row (its names and layers rows go with it). */
int image_db_delete_image (image_db *db, const char *id, polis_error **err);

/* Snapshots. */
bool image_db_has_layer (image_db *db, const char *chain_id);
/* UNSYNCED_BOOT: the boot ID when the snapshot's files were written and
   not synced (they are trusted in that boot only), NULL when on disk. */
int image_db_put_layer (image_db *db, const char *chain_id,
                        const char *diff_id, const char *parent,
                        int64_t size, const char *unsynced_boot,
                        polis_error **err);
/* Snapshots written without a sync in a boot other than BOOT: after a
   crash their files may be torn (strv, caller frees). */
char **image_db_layers_unsynced_elsewhere (image_db *db, const char *boot,
                                           polis_error **err);
/* The oldest creation time of BOOT's unsynced snapshots, -1 when none. */
int64_t image_db_oldest_unsynced (image_db *db, const char *boot);
/* BOOT's snapshots created before BEFORE (unix time) are on disk. */
int image_db_mark_synced (image_db *db, const char *boot, int64_t before,
                          polis_error **err);
/* image_meta: the value of KEY (caller frees), NULL when absent. */
char *image_db_get_meta (image_db *db, const char *key);
int image_db_set_meta (image_db *db, const char *key, const char *value,
                       polis_error **err);
int image_db_delete_layer (image_db *db, const char *chain_id,
                           polis_error **err);
/* Snapshots no image uses any more (strv, caller frees). */
char **image_db_unused_layers (image_db *db, polis_error **err);
/* Is blob DIGEST still referenced by an image (manifest, config, layer)? */
bool image_db_blob_in_use (image_db *db, const char *digest);

/* Holds: the engine (or `polis-image mount`) marks an image in use. */
int image_db_hold (image_db *db, const char *id, const char *holder,
                   polis_error **err);
int image_db_release (image_db *db, const char *holder, polis_error **err);
/* One holder of ID (caller frees), NULL when none. */
char *image_db_holder (image_db *db, const char *id);

/* Blob sources, for cross-repository mounts on push. */
int image_db_add_blob_source (image_db *db, const char *digest,
                              const char *registry, const char *repository,
                              polis_error **err);
/* A repository on REGISTRY known to have DIGEST, or NULL. */
char *image_db_blob_source (image_db *db, const char *digest,
                            const char *registry);

#endif
