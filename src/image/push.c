/* push.c - push a stored image to a registry. */
#include "push.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "manifest.h"
#include "reference.h"

typedef struct
{
  progress *p;
  const char *id;
  uint64_t last;
} push_progress;

static void
push_progress_cb (void *ud, uint64_t sent, uint64_t total)
{
  push_progress *pp = ud;
  /* curl calls again with the same count while the registry answers. */
  if (sent == pp->last)
    return;
  pp->last = sent;
  progress_bytes (pp->p, pp->id, "Pushing", sent, total);
}

static int
push_blob (image_store *s, registry *reg, const image_reference *ref,
           const char *digest, const push_opts *o, polis_error **err)
{
  char short_id[13];
  snprintf (short_id, sizeof short_id, "%.12s", digest_hex (digest));
  progress_status (o->progress, short_id, "Preparing");
  int exists = registry_blob_exists (reg, digest, err);
  if (exists < 0)
    return -1;
  if (exists)
    {
      progress_status (o->progress, short_id, "Layer already exists");
      return 0;
    }
  uint64_t size = 0;
  if (!content_store_has (s->cs, digest, &size))
    return error_set (err, ERROR_NOT_FOUND, ENOENT,
                      "blob %s is not in the store", digest);
  cleanup_free char *from = image_db_blob_source (s->db, digest, ref->domain);
  if (from && strcmp (from, ref->path) == 0)
    {
      free (from);
      from = NULL;
    }
  cleanup_close int fd = content_store_open_blob (s->cs, digest, err);
  if (fd < 0)
    return -1;
  bool mounted = false;
  progress_bytes (o->progress, short_id, "Pushing", 0, size);
  push_progress pp = { .p = o->progress, .id = short_id };
  if (registry_upload_blob (reg, digest, fd, size, from, &mounted,
                            push_progress_cb, &pp, err)
      < 0)
    return error_wrap (err, "push blob %s", digest);
  if (mounted)
    {
      cleanup_free char *m = xasprintf ("Mounted from %s", from);
      progress_status (o->progress, short_id, m);
    }
  else
    progress_status (o->progress, short_id, "Pushed");
  return 0;
}

int
push_image (image_store *s, const char *ref_s, const push_opts *o,
            polis_error **err)
{
  cleanup_reference image_reference *ref = image_reference_parse (ref_s, err);
  if (ref == NULL)
    return -1;
  cleanup_free char *id = image_store_resolve (s, ref_s, err);
  if (id == NULL)
    return -1;
  cleanup_image_record image_record *rec = image_db_get_image (s->db, id, err);
  if (rec == NULL)
    return -1;
  cleanup_registry registry *reg
      = registry_new (&o->reg, ref->domain, ref->path, true);
  /* Ask for pull on the repositories we may mount from, in one token. */
  for (size_t i = 0; i < rec->n_layers; i++)
    {
      cleanup_free char *from
          = image_db_blob_source (s->db, rec->layers[i].digest, ref->domain);
      if (from && strcmp (from, ref->path) != 0)
        registry_add_scope_repo (reg, from);
    }
  cleanup_free char *familiar = image_reference_familiar (ref);
  cleanup_free char *line = xasprintf ("The push refers to repository [%s/%s]",
                                       ref->domain, ref->path);
  progress_status (o->progress, NULL, line);
  for (size_t i = 0; i < rec->n_layers; i++)
    if (push_blob (s, reg, ref, rec->layers[i].digest, o, err) < 0)
      return error_wrap (err, "push %s", familiar);
  if (push_blob (s, reg, ref, rec->id, o, err) < 0)
    return error_wrap (err, "push %s", familiar);
  size_t len = 0;
  cleanup_free char *body = content_store_read_blob (
      s->cs, rec->manifest_digest, MANIFEST_SIZE_MAX, &len, err);
  if (body == NULL)
    return error_wrap (err, "push %s", familiar);
  const char *tag = ref->digest ? ref->digest : ref->tag;
  if (ref->digest && strcmp (ref->digest, rec->manifest_digest) != 0)
    tag = rec->manifest_digest;
  if (registry_put_manifest (reg, tag, body, len, rec->manifest_media_type, err)
      < 0)
    return error_wrap (err, "push %s", familiar);
  for (size_t i = 0; i < rec->n_layers; i++)
    image_db_add_blob_source (s->db, rec->layers[i].digest, ref->domain,
                              ref->path, NULL);
  cleanup_free char *done = xasprintf ("%s: digest: %s size: %zu",
                                       ref->tag ? ref->tag : "", rec->manifest_digest,
                                       len);
  progress_status (o->progress, NULL, done);
  return 0;
}
