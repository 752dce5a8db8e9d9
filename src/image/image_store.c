/* image_store.c - stored images: resolve, tag, remove, prune, gc. */
#include "image_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "manifest.h"
#include "reference.h"

static void
read_boot_id (char out[40])
{
  size_t len = 0;
  polis_error *e = NULL;
  cleanup_free char *b = file_read_at (
      AT_FDCWD, "/proc/sys/kernel/random/boot_id", 64, &len, &e);
  error_free (&e);
  out[0] = '\0';
  while (b && len > 0 && (b[len - 1] == '\n' || b[len - 1] == ' '))
    b[--len] = '\0';
  if (b && len > 0 && len < 40)
    memcpy (out, b, len + 1);
}

/* The first open in a new boot: snapshots that were not known synced may
   have lost data in the crash (if there was one): drop them. */
static int
recover_new_boot (image_store *s, polis_error **err)
{
  if (image_db_begin (s->db, err) < 0)
    return -1;
  /* Another process may have done it while we waited for the lock. */
  cleanup_free char *last = image_db_get_meta (s->db, "boot_id");
  int ret = 0;
  if (last == NULL || strcmp (last, s->boot_id) != 0)
    {
      cleanup_strv char **stale
          = image_db_layers_unsynced_elsewhere (s->db, s->boot_id, err);
      ret = stale ? 0 : -1;
      for (char **c = stale; ret == 0 && *c; c++)
        {
          log_debug ("snapshot %s was not known synced when its boot ended: "
                     "dropped, it is unpacked again when needed",
                     *c);
          ret = snapshot_remove (s->snaps, *c, err);
          if (ret == 0)
            ret = image_db_delete_layer (s->db, *c, err);
        }
      if (ret == 0)
        ret = image_db_set_meta (s->db, "boot_id", s->boot_id, err);
    }
  if (ret == 0)
    return image_db_commit (s->db, err);
  image_db_rollback (s->db);
  return -1;
}

static int
store_recover (image_store *s, polis_error **err)
{
  if (s->boot_id[0] == '\0')
    return 0;
  cleanup_free char *last = image_db_get_meta (s->db, "boot_id");
  if (last == NULL || strcmp (last, s->boot_id) != 0)
    return recover_new_boot (s, err);
  int64_t oldest = image_db_oldest_unsynced (s->db, s->boot_id);
  int64_t now = (int64_t) time (NULL);
  if (oldest < 0 || now - oldest < IMAGE_STORE_SYNC_AFTER)
    return 0;
  /* Rows created before NOW were written before this syncfs starts. */
  if (snapshot_sync (s->snaps, err) < 0)
    return -1;
  return image_db_mark_synced (s->db, s->boot_id, now, err);
}

image_store *
image_store_open (const char *root, polis_error **err)
{
  if (file_mkdir_p (root, 0700, err) < 0)
    return NULL;
  image_store *s = xzalloc (sizeof *s);
  s->root = xstrdup (root);
  read_boot_id (s->boot_id);
  s->cs = content_store_open (root, err);
  if (s->cs)
    s->db = image_db_open (root, err);
  if (s->db)
    s->snaps = snapshot_store_open (root, err);
  if (s->snaps == NULL || store_recover (s, err) < 0)
    {
      image_store_free (s);
      return NULL;
    }
  return s;
}

int
image_store_before_commit (image_store *s, polis_error **err)
{
  return s->boot_id[0] ? 0 : snapshot_sync (s->snaps, err);
}

int
image_store_after_commit (image_store *s, polis_error **err)
{
  return s->boot_id[0] ? 0 : snapshot_sync_dir (s->snaps, err);
}

int
image_store_commit_layer (image_store *s, const char *tmp_name,
                          const char *chain_id, const char *diff_id,
                          const char *parent, int64_t size, polis_error **err)
{
  /* In the caller's (immediate) transaction: no other process records this
     layer between our look and our rename. */
  bool recorded = image_db_has_layer (s->db, chain_id);
  int r = snapshot_commit (s->snaps, tmp_name, chain_id, !recorded, err);
  if (r <= 0)
    return r;
  return image_db_put_layer (s->db, chain_id, diff_id, parent, size,
                             s->boot_id[0] ? s->boot_id : NULL, err);
}

void
image_store_free (image_store *s)
{
  if (s == NULL)
    return;
  content_store_free (s->cs);
  image_db_close (s->db);
  snapshot_store_free (s->snaps);
  free (s->root);
  free (s);
}

void
image_store_cleanup (image_store **s)
{
  image_store_free (*s);
  *s = NULL;
}

char *
image_store_resolve (image_store *s, const char *ref, polis_error **err)
{
  polis_error *e = NULL;
  /* A full or short image ID first, as Docker does for hex strings. */
  if (image_reference_is_hex_id (ref) && strlen (ref) >= 4)
    {
      cleanup_strv char **ids = image_db_find_id_prefix (s->db, ref, &e);
      if (ids && strv_length (ids) == 1)
        return xstrdup (ids[0]);
      error_free (&e);
    }
  cleanup_reference image_reference *r = image_reference_parse (ref, &e);
  if (r)
    {
      cleanup_free char *full = image_reference_string (r);
      char *id = image_db_lookup_name (s->db, full, &e);
      if (id)
        return id;
      /* name:tag@digest: the digest decides. */
      if (r->digest && r->tag)
        {
          cleanup_free char *repo = image_reference_repository (r);
          cleanup_free char *dn = xasprintf ("%s@%s", repo, r->digest);
          id = image_db_lookup_name (s->db, dn, &e);
          if (id)
            return id;
        }
    }
  error_free (&e);
  error_set (err, ERROR_NOT_FOUND, ENOENT, "No such image: %s", ref);
  return NULL;
}

int
image_store_tag (image_store *s, const char *source, const char *target,
                 polis_error **err)
{
  cleanup_free char *id = image_store_resolve (s, source, err);
  if (id == NULL)
    return -1;
  cleanup_reference image_reference *r = image_reference_parse (target, err);
  if (r == NULL)
    return -1;
  if (r->digest)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "refusing to create a tag with a digest reference");
  cleanup_free char *name = image_reference_string (r);
  return image_db_set_name (s->db, name, id, NULL, err);
}

static bool
name_is_tag (const char *name)
{
  return strchr (name, '@') == NULL;
}

static size_t
count_tags (char **names)
{
  size_t n = 0;
  for (char **p = names; p && *p; p++)
    n += name_is_tag (*p);
  return n;
}

static void
report_add (char ***report, const char *prefix, const char *v)
{
  if (report == NULL)
    return;
  cleanup_free char *line = xasprintf ("%s%s", prefix, v);
  strv_append (report, line);
}

/* Delete image ID (names, rows), then collect garbage. */
static int
delete_image (image_store *s, const char *id, char ***report, polis_error **err)
{
  cleanup_image_record image_record *rec = image_db_get_image (s->db, id, err);
  if (rec == NULL)
    return -1;
  if (image_db_begin (s->db, err) < 0)
    return -1;
  for (char **n = rec->names; n && *n; n++)
    {
      if (image_db_remove_name (s->db, *n, err) < 0)
        goto fail;
      cleanup_free char *fam = image_reference_familiarize (*n);
      report_add (report, "Untagged: ", fam);
    }
  if (image_db_delete_image (s->db, id, err) < 0)
    goto fail;
  if (image_db_commit (s->db, err) < 0)
    goto fail;
  report_add (report, "Deleted: ", id);
  /* Blobs of this image that nothing else uses. */
  const char *blobs[2] = { rec->id, rec->manifest_digest };
  for (size_t i = 0; i < 2; i++)
    if (!image_db_blob_in_use (s->db, blobs[i]))
      content_store_delete_blob (s->cs, blobs[i], NULL);
  for (size_t i = 0; i < rec->n_layers; i++)
    if (!image_db_blob_in_use (s->db, rec->layers[i].digest))
      content_store_delete_blob (s->cs, rec->layers[i].digest, NULL);
  return image_store_gc (s, err);
fail:
  image_db_rollback (s->db);
  return -1;
}

int
image_store_remove (image_store *s, const char *ref, bool force,
                    char ***report, polis_error **err)
{
  cleanup_free char *id = image_store_resolve (s, ref, err);
  if (id == NULL)
    return -1;
  cleanup_image_record image_record *rec = image_db_get_image (s->db, id, err);
  if (rec == NULL)
    return -1;
  cleanup_free char *holder = image_db_holder (s->db, id);

  /* Is REF a name (untag) or an ID (delete)? */
  polis_error *e = NULL;
  cleanup_free char *name = NULL;
  bool by_id = image_reference_is_hex_id (ref)
               && strncmp (id + (strncmp (ref, "sha256:", 7) == 0 ? 0 : 7), ref,
                           strlen (ref))
                      == 0;
  if (!by_id)
    {
      cleanup_reference image_reference *r = image_reference_parse (ref, &e);
      error_free (&e);
      if (r)
        name = image_reference_string (r);
    }
  cleanup_free char *named = name ? image_db_lookup_name (s->db, name, NULL)
                                   : NULL;
  if (named)
    {
      bool last = count_tags (rec->names) <= 1 || !name_is_tag (name);
      if (!last)
        {
          if (image_db_remove_name (s->db, name, err) < 0)
            return -1;
          cleanup_free char *fam = image_reference_familiarize (name);
          report_add (report, "Untagged: ", fam);
          return 0;
        }
    }
  else if (!force && count_tags (rec->names) > 1)
    return error_set (err, ERROR_CONFLICT, EBUSY,
                      "conflict: unable to delete %.12s (must be forced) - "
                      "image is referenced in multiple repositories",
                      id + 7);
  if (holder && !force)
    return error_set (err, ERROR_CONFLICT, EBUSY,
                      "conflict: unable to remove repository reference \"%s\" "
                      "(must force) - container %.12s is using its "
                      "referenced image %.12s",
                      ref, holder, id + 7);
  if (holder)
    return error_set (err, ERROR_CONFLICT, EBUSY,
                      "conflict: unable to delete %.12s (cannot be forced) - "
                      "image is being used by running container %.12s",
                      id + 7, holder);
  return delete_image (s, id, report, err);
}

int
image_store_prune (image_store *s, bool all, char ***report,
                   polis_error **err)
{
  cleanup_image_record_list image_record **list = image_db_list (s->db, err);
  if (list == NULL)
    return -1;
  for (image_record **p = list; *p; p++)
    {
      if (!all && count_tags ((*p)->names) > 0)
        continue;
      cleanup_free char *holder = image_db_holder (s->db, (*p)->id);
      if (holder)
        continue;
      if (delete_image (s, (*p)->id, report, err) < 0)
        return -1;
    }
  return 0;
}

int
image_store_gc (image_store *s, polis_error **err)
{
  cleanup_strv char **unused = image_db_unused_layers (s->db, err);
  if (unused == NULL)
    return -1;
  for (char **c = unused; *c; c++)
    {
      if (snapshot_remove (s->snaps, *c, err) < 0)
        return -1;
      if (image_db_delete_layer (s->db, *c, err) < 0)
        return -1;
    }
  return 0;
}
