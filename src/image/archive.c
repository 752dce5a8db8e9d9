/* archive.c - image archives both ways (docker save and OCI layout). */
#include "archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "image_import.h"
#include "manifest.h"
#include "reference.h"

static void
write_cleanup (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
  *a = NULL;
}

static void
read_cleanup (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
  *a = NULL;
}

static int
tar_add_buffer (struct archive *a, const char *name, const void *buf,
                size_t len, polis_error **err)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) len);
  archive_entry_set_mtime (e, 0, 0);
  int r = archive_write_header (a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK || (len && archive_write_data (a, buf, len) < 0))
    return error_set (err, ERROR_INTERNAL, EIO, "write `%s`: %s", name,
                      archive_error_string (a));
  return 0;
}

static int
tar_add_dir (struct archive *a, const char *name, polis_error **err)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFDIR);
  archive_entry_set_perm (e, 0755);
  archive_entry_set_mtime (e, 0, 0);
  int r = archive_write_header (a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return error_set (err, ERROR_INTERNAL, EIO, "write `%s`: %s", name,
                      archive_error_string (a));
  return 0;
}

static int
tar_add_blob (image_store *s, struct archive *a, const char *digest,
              char ***written, polis_error **err)
{
  for (char **w = *written; w && *w; w++)
    if (strcmp (*w, digest) == 0)
      return 0;
  strv_append (written, digest);
  uint64_t size = 0;
  if (!content_store_has (s->cs, digest, &size))
    return error_set (err, ERROR_NOT_FOUND, ENOENT, "blob %s is missing",
                      digest);
  cleanup_close int fd = content_store_open_blob (s->cs, digest, err);
  if (fd < 0)
    return -1;
  cleanup_free char *name = xasprintf ("blobs/sha256/%s", digest_hex (digest));
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) size);
  archive_entry_set_mtime (e, 0, 0);
  int r = archive_write_header (a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return error_set (err, ERROR_INTERNAL, EIO, "write blob: %s",
                      archive_error_string (a));
  enum { BUF = 1 << 18 };
  cleanup_free char *buf = xmalloc (BUF);
  for (;;)
    {
      ssize_t n = read (fd, buf, BUF);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return error_sys (err, "read blob %s", digest);
      if (n == 0)
        break;
      if (archive_write_data (a, buf, (size_t) n) < 0)
        return error_set (err, ERROR_INTERNAL, EIO, "write blob: %s",
                          archive_error_string (a));
    }
  return 0;
}

int
archive_save (image_store *s, char *const *refs, int fd, polis_error **err)
{
  __attribute__ ((cleanup (write_cleanup))) struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  archive_write_set_bytes_per_block (a, 10240);
  if (archive_write_open_fd (a, fd) != ARCHIVE_OK)
    return error_set (err, ERROR_INTERNAL, EIO, "save: %s",
                      archive_error_string (a));
  cleanup_json json_t *manifest_json = json_array ();
  cleanup_json json_t *repositories = json_object ();
  cleanup_json json_t *index = json_pack ("{s:i, s:s, s:[]}", "schemaVersion", 2,
                                          "mediaType", MT_OCI_INDEX, "manifests");
  cleanup_strv char **written = xzalloc (sizeof (char *));
  if (tar_add_dir (a, "blobs", err) < 0 || tar_add_dir (a, "blobs/sha256", err) < 0)
    return -1;
  for (char *const *r = refs; *r; r++)
    {
      cleanup_free char *id = image_store_resolve (s, *r, err);
      if (id == NULL)
        return -1;
      cleanup_image_record image_record *rec = image_db_get_image (s->db, id, err);
      if (rec == NULL)
        return -1;
      /* The tags to record: the one asked for, or all of the image's. */
      cleanup_strv char **tags = xzalloc (sizeof (char *));
      polis_error *e = NULL;
      cleanup_reference image_reference *pr = image_reference_parse (*r, &e);
      error_free (&e);
      cleanup_free char *asked = pr && !pr->digest ? image_reference_string (pr) : NULL;
      for (char **n = rec->names; n && *n; n++)
        if (!strchr (*n, '@') && (asked == NULL || strcmp (asked, *n) == 0))
          strv_append (&tags, *n);
      for (size_t i = 0; i < rec->n_layers; i++)
        if (tar_add_blob (s, a, rec->layers[i].digest, &written, err) < 0)
          return -1;
      if (tar_add_blob (s, a, rec->id, &written, err) < 0
          || tar_add_blob (s, a, rec->manifest_digest, &written, err) < 0)
        return -1;
      json_t *layers = json_array ();
      for (size_t i = 0; i < rec->n_layers; i++)
        {
          cleanup_free char *p
              = xasprintf ("blobs/sha256/%s", digest_hex (rec->layers[i].digest));
          json_array_append_new (layers, json_string (p));
        }
      json_t *repo_tags = json_array ();
      uint64_t msize = 0;
      content_store_has (s->cs, rec->manifest_digest, &msize);
      for (char **t = tags; *t; t++)
        {
          cleanup_free char *fam = image_reference_familiarize (*t);
          json_array_append_new (repo_tags, json_string (fam));
          char *colon = strrchr (fam, ':');
          *colon = '\0';
          json_t *repo = json_object_get (repositories, fam);
          if (repo == NULL)
            json_object_set_new (repositories, fam, repo = json_object ());
          if (rec->n_layers)
            json_object_set_new (
                repo, colon + 1,
                json_string (digest_hex (rec->layers[rec->n_layers - 1].chain_id)));
          json_t *desc = json_pack (
              "{s:s, s:s, s:I, s:{s:s, s:s}}", "mediaType",
              rec->manifest_media_type, "digest", rec->manifest_digest, "size",
              (json_int_t) msize, "annotations", "io.containerd.image.name", *t,
              "org.opencontainers.image.ref.name", colon + 1);
          json_array_append_new (json_object_get (index, "manifests"), desc);
        }
      if (tags[0] == NULL)
        json_array_append_new (json_object_get (index, "manifests"),
                               json_pack ("{s:s, s:s, s:I}", "mediaType",
                                          rec->manifest_media_type, "digest",
                                          rec->manifest_digest, "size",
                                          (json_int_t) msize));
      cleanup_free char *cfg = xasprintf ("blobs/sha256/%s", digest_hex (rec->id));
      json_array_append_new (manifest_json,
                             json_pack ("{s:s, s:o, s:o}", "Config", cfg,
                                        "RepoTags", repo_tags, "Layers", layers));
    }
  cleanup_free char *m = pjson_dump (manifest_json);
  cleanup_free char *ix = pjson_dump (index);
  cleanup_free char *rp = pjson_dump (repositories);
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  if (tar_add_buffer (a, "oci-layout", layout, strlen (layout), err) < 0
      || tar_add_buffer (a, "index.json", ix, strlen (ix), err) < 0
      || tar_add_buffer (a, "manifest.json", m, strlen (m), err) < 0
      || tar_add_buffer (a, "repositories", rp, strlen (rp), err) < 0)
    return -1;
  if (archive_write_close (a) != ARCHIVE_OK)
    return error_set (err, ERROR_INTERNAL, EIO, "save: %s",
                      archive_error_string (a));
  return 0;
}

/* A file of the archive, stored as a blob: its path and digest. */
typedef struct
{
  char **paths;
  char **digests;
  json_t *manifest_json, *index_json;
} load_state;

static const char *
load_find (load_state *st, const char *path)
{
  cleanup_free char *clean = xstrdup (path);
  const char *p = clean;
  while (strncmp (p, "./", 2) == 0)
    p += 2;
  for (size_t i = 0; st->paths && st->paths[i]; i++)
    if (strcmp (st->paths[i], p) == 0)
      return st->digests[i];
  return NULL;
}

static int
load_entry (image_store *s, struct archive *a, struct archive_entry *e,
            load_state *st, polis_error **err)
{
  const char *name = archive_entry_pathname (e);
  if (name == NULL || archive_entry_filetype (e) != AE_IFREG)
    return 0;
  while (strncmp (name, "./", 2) == 0)
    name += 2;
  if (strlen (name) > 4096)
    return error_set (err, ERROR_INVALID, ENAMETOOLONG, "archive entry name too long");
  bool is_manifest = strcmp (name, "manifest.json") == 0;
  bool is_index = strcmp (name, "index.json") == 0;
  if (is_manifest || is_index)
    {
      la_int64_t size = archive_entry_size (e);
      if (size < 0 || size > (la_int64_t) ARCHIVE_JSON_MAX)
        return error_set (err, ERROR_INVALID, E2BIG, "%s larger than %u bytes",
                          name, ARCHIVE_JSON_MAX);
      cleanup_free char *buf = xmalloc ((size_t) size + 1);
      la_ssize_t n = archive_read_data (a, buf, (size_t) size);
      if (n != size)
        return error_set (err, ERROR_INVALID, EIO, "read %s: %s", name,
                          archive_error_string (a));
      json_t *j = pjson_parse (buf, (size_t) size, name, err);
      if (j == NULL)
        return -1;
      if (is_manifest)
        st->manifest_json = j;
      else
        st->index_json = j;
      return 0;
    }
  cleanup_content_writer content_writer *w
      = content_store_writer (s->cs, NULL, -1, 0, err);
  if (w == NULL)
    return -1;
  enum { BUF = 1 << 18 };
  cleanup_free char *buf = xmalloc (BUF);
  for (;;)
    {
      la_ssize_t n = archive_read_data (a, buf, BUF);
      if (n < 0)
        return error_set (err, ERROR_INVALID, EIO, "read `%s`: %s", name,
                          archive_error_string (a));
      if (n == 0)
        break;
      if (content_writer_write (w, buf, (size_t) n, err) < 0)
        return -1;
    }
  char d[DIGEST_STRING_LEN + 1];
  if (content_writer_commit (w, d, err) < 0)
    return -1;
  /* blobs/sha256/<hex> must hold what its name says. */
  if (strncmp (name, "blobs/sha256/", 13) == 0 && strcmp (name + 13, d + 7) != 0)
    return error_set (err, ERROR_INVALID, EBADMSG,
                      "archive entry `%s` has digest %s", name, d);
  strv_append (&st->paths, name);
  strv_append (&st->digests, d);
  return 0;
}

static const char *
layer_type_of (image_store *s, const char *digest, const char *diff_id)
{
  if (strcmp (digest, diff_id) == 0)
    return MT_OCI_LAYER;
  cleanup_close int fd = content_store_open_blob (s->cs, digest, NULL);
  unsigned char magic[4] = { 0 };
  if (fd >= 0 && read (fd, magic, 4) == 4)
    {
      if (magic[0] == 0x1f && magic[1] == 0x8b)
        return MT_OCI_LAYER_GZIP;
      if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f
          && magic[3] == 0xfd)
        return MT_OCI_LAYER_ZSTD;
    }
  return MT_OCI_LAYER;
}

/* An OCI manifest for a docker-save entry whose manifest we do not have. */
static int
synthesize_manifest (image_store *s, const char *cfg_digest,
                     char *const *layers, char out[DIGEST_STRING_LEN + 1],
                     polis_error **err)
{
  size_t clen = 0;
  uint64_t csize = 0;
  cleanup_free char *cbuf = content_store_read_blob (
      s->cs, cfg_digest, MANIFEST_CONFIG_MAX, &clen, err);
  if (cbuf == NULL)
    return -1;
  cleanup_image_config image_config *cfg = image_config_parse (cbuf, clen, err);
  if (cfg == NULL)
    return -1;
  if (cfg->n_diff_ids != strv_length ((char **) layers))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "manifest.json: %zu layers for %zu diff IDs",
                      strv_length ((char **) layers), cfg->n_diff_ids);
  content_store_has (s->cs, cfg_digest, &csize);
  json_t *ls = json_array ();
  for (size_t i = 0; layers[i]; i++)
    {
      uint64_t size = 0;
      content_store_has (s->cs, layers[i], &size);
      json_array_append_new (
          ls, json_pack ("{s:s, s:s, s:I}", "mediaType",
                         layer_type_of (s, layers[i], cfg->diff_ids[i]),
                         "digest", layers[i], "size", (json_int_t) size));
    }
  cleanup_json json_t *m = json_pack (
      "{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
      MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "digest",
      cfg_digest, "size", (json_int_t) csize, "layers", ls);
  cleanup_free char *ms = pjson_dump (m);
  return content_store_put_blob (s->cs, ms, strlen (ms), NULL, out, err);
}

static char *
canonical_name (const char *n)
{
  polis_error *e = NULL;
  cleanup_reference image_reference *r = image_reference_parse (n, &e);
  error_free (&e);
  return r && !r->digest ? image_reference_string (r) : NULL;
}

static int
load_images (image_store *s, load_state *st, char ***loaded, polis_error **err)
{
  size_t count = 0;
  /* manifest.json: the docker form, with tags. */
  if (json_is_array (st->manifest_json))
    {
      size_t i;
      json_t *entry;
      json_array_foreach (st->manifest_json, i, entry)
      {
        if (++count > ARCHIVE_IMAGES_MAX)
          return error_set (err, ERROR_INVALID, E2BIG, "too many images");
        const char *cfg_path = json_string_value (json_object_get (entry, "Config"));
        json_t *lpaths = json_object_get (entry, "Layers");
        const char *cfg = cfg_path ? load_find (st, cfg_path) : NULL;
        if (cfg == NULL || !json_is_array (lpaths))
          return error_set (err, ERROR_INVALID, EINVAL,
                            "manifest.json[%zu]: missing Config or Layers", i);
        cleanup_strv char **layers = xzalloc (sizeof (char *));
        size_t k;
        json_t *lp;
        json_array_foreach (lpaths, k, lp)
        {
          const char *d = json_is_string (lp) ? load_find (st, json_string_value (lp)) : NULL;
          if (d == NULL)
            return error_set (err, ERROR_INVALID, EINVAL,
                              "manifest.json[%zu]: layer %zu is not in the archive",
                              i, k);
          strv_append (&layers, d);
        }
        /* Prefer the original manifest (same digests) from index.json. */
        char man[DIGEST_STRING_LEN + 1] = "";
        size_t mi;
        json_t *md;
        json_array_foreach (json_object_get (st->index_json, "manifests"), mi, md)
        {
          const char *dg = json_string_value (json_object_get (md, "digest"));
          if (dg == NULL || !content_store_has (s->cs, dg, NULL))
            continue;
          size_t blen = 0;
          cleanup_free char *b = content_store_read_blob (s->cs, dg, MANIFEST_SIZE_MAX, &blen, NULL);
          cleanup_manifest manifest *m = b ? manifest_parse (b, blen, NULL, NULL) : NULL;
          if (m && m->kind == MANIFEST_IMAGE && strcmp (m->config.digest, cfg) == 0)
            {
              snprintf (man, sizeof man, "%s", dg);
              break;
            }
        }
        if (!*man && synthesize_manifest (s, cfg, layers, man, err) < 0)
          return -1;
        cleanup_strv char **names = xzalloc (sizeof (char *));
        json_t *tags = json_object_get (entry, "RepoTags");
        size_t t;
        json_t *tag;
        json_array_foreach (tags, t, tag)
        {
          cleanup_free char *c = json_is_string (tag) ? canonical_name (json_string_value (tag)) : NULL;
          if (c)
            strv_append (&names, c);
        }
        cleanup_free char *id = NULL;
        if (image_import_manifest (s, man, names, NULL, &id, err) < 0)
          return -1;
        if (names[0] == NULL)
          {
            cleanup_free char *l = xasprintf ("Loaded image ID: %s", id);
            strv_append (loaded, l);
          }
        json_array_foreach (tags, t, tag)
        {
          cleanup_free char *l = xasprintf ("Loaded image: %s", json_string_value (tag));
          strv_append (loaded, l);
        }
      }
      return 0;
    }
  /* An OCI layout only. */
  size_t mi;
  json_t *md;
  json_array_foreach (json_object_get (st->index_json, "manifests"), mi, md)
  {
    if (++count > ARCHIVE_IMAGES_MAX)
      return error_set (err, ERROR_INVALID, E2BIG, "too many images");
    const char *dg = json_string_value (json_object_get (md, "digest"));
    if (digest_validate (dg, err) < 0)
      return -1;
    size_t blen = 0;
    cleanup_free char *b = content_store_read_blob (s->cs, dg, MANIFEST_SIZE_MAX, &blen, err);
    if (b == NULL)
      return -1;
    cleanup_manifest manifest *m = manifest_parse (b, blen, NULL, err);
    if (m == NULL)
      return -1;
    const char *man = dg;
    if (m->kind == MANIFEST_INDEX)
      {
        platform want = { 0 };
        platform_host (&want);
        const manifest_descriptor *d = manifest_select_platform (m, &want, err);
        platform_clear (&want);
        if (d == NULL)
          return -1;
        man = d->digest;
      }
    json_t *ann = json_object_get (md, "annotations");
    const char *full = json_string_value (json_object_get (ann, "io.containerd.image.name"));
    const char *ref = json_string_value (json_object_get (ann, "org.opencontainers.image.ref.name"));
    cleanup_strv char **names = xzalloc (sizeof (char *));
    cleanup_free char *c = full ? canonical_name (full) : ref ? canonical_name (ref) : NULL;
    if (c)
      strv_append (&names, c);
    cleanup_free char *id = NULL;
    if (image_import_manifest (s, man, names, NULL, &id, err) < 0)
      return -1;
    cleanup_free char *fam = c ? image_reference_familiarize (c) : NULL;
    cleanup_free char *l = fam ? xasprintf ("Loaded image: %s", fam)
                               : xasprintf ("Loaded image ID: %s", id);
    strv_append (loaded, l);
  }
  if (count == 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "archive has neither manifest.json nor index.json");
  return 0;
}

int
archive_load (image_store *s, int fd, char ***loaded, polis_error **err)
{
  __attribute__ ((cleanup (read_cleanup))) struct archive *a = archive_read_new ();
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  archive_read_support_format_gnutar (a);
  if (archive_read_open_fd (a, fd, 1 << 18) != ARCHIVE_OK)
    return error_set (err, ERROR_INVALID, EINVAL, "load: %s",
                      archive_error_string (a));
  load_state st = { .paths = xzalloc (sizeof (char *)),
                    .digests = xzalloc (sizeof (char *)) };
  *loaded = xzalloc (sizeof (char *));
  int ret = 0;
  for (;;)
    {
      struct archive_entry *e;
      int r = archive_read_next_header (a, &e);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          ret = error_set (err, ERROR_INVALID, EINVAL, "load: %s",
                           archive_error_string (a));
          break;
        }
      if (strv_length (st.paths) > 100000)
        {
          ret = error_set (err, ERROR_INVALID, E2BIG, "load: too many entries");
          break;
        }
      ret = load_entry (s, a, e, &st, err);
      if (ret < 0)
        break;
    }
  if (ret == 0)
    ret = load_images (s, &st, loaded, err);
  /* Files of the archive that no image uses (legacy json, VERSION...). */
  for (size_t i = 0; st.digests[i]; i++)
    if (!image_db_blob_in_use (s->db, st.digests[i]))
      {
        bool other = false;
        for (size_t k = 0; k < i; k++)
          other |= strcmp (st.digests[k], st.digests[i]) == 0;
        if (!other)
          content_store_delete_blob (s->cs, st.digests[i], NULL);
      }
  cleanup_strv_fn (&st.paths);
  cleanup_strv_fn (&st.digests);
  if (st.manifest_json)
    json_decref (st.manifest_json);
  if (st.index_json)
    json_decref (st.index_json);
  return ret < 0 ? error_wrap (err, "load") : 0;
}
