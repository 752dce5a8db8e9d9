/* image_import.c - images made locally: import of a rootfs, and recording
 * an image whose blobs are already in the content store. */
#include "image_import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "manifest.h"
#include "pull.h"
#include "reference.h"
#include "unpack.h"

int
image_import_manifest (image_store *s, const char *manifest_digest,
                       char *const *names, progress *p, char **id_out,
                       polis_error **err)
{
  size_t len = 0, clen = 0;
  cleanup_free char *body = content_store_read_blob (
      s->cs, manifest_digest, MANIFEST_SIZE_MAX, &len, err);
  if (body == NULL)
    return -1;
  cleanup_manifest manifest *m = manifest_parse (body, len, NULL, err);
  if (m == NULL)
    return -1;
  if (m->kind != MANIFEST_IMAGE)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "%s is an index, not an image manifest", manifest_digest);
  cleanup_free char *cbuf = content_store_read_blob (
      s->cs, m->config.digest, MANIFEST_CONFIG_MAX, &clen, err);
  if (cbuf == NULL)
    return -1;
  cleanup_image_config image_config *cfg = image_config_parse (cbuf, clen, err);
  if (cfg == NULL)
    return -1;
  if (cfg->n_diff_ids != m->n_layers)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "image config has %zu diff IDs for %zu layers",
                      cfg->n_diff_ids, m->n_layers);
  cleanup_strv char **layers = xzalloc ((m->n_layers + 1) * sizeof (char *));
  for (size_t i = 0; i < m->n_layers; i++)
    {
      layers[i] = xstrdup (m->layers[i].digest);
      uint64_t size = 0;
      if (!content_store_has (s->cs, layers[i], &size))
        return error_set (err, ERROR_NOT_FOUND, ENOENT, "layer %s is missing",
                          layers[i]);
      if ((int64_t) size != m->layers[i].size)
        return error_set (err, ERROR_INVALID, EBADMSG,
                          "layer %s: size %llu, the manifest says %lld",
                          layers[i], (unsigned long long) size,
                          (long long) m->layers[i].size);
    }
  if (pull_unpack_local (s, layers, cfg->diff_ids, m->n_layers, p, err) < 0)
    return -1;

  image_record rec = { 0 };
  rec.id = m->config.digest;
  rec.manifest_digest = (char *) manifest_digest;
  rec.manifest_media_type = m->media_type;
  rec.created = (char *) cfg->created;
  rec.os = (char *) cfg->os;
  rec.architecture = (char *) cfg->architecture;
  rec.variant = (char *) cfg->variant;
  rec.n_layers = m->n_layers;
  rec.layers = xzalloc ((m->n_layers + 1) * sizeof *rec.layers);
  char (*chains)[DIGEST_STRING_LEN + 1]
      = xzalloc ((m->n_layers + 1) * sizeof *chains);
  rec.size = m->config.size;
  for (size_t i = 0; i < m->n_layers; i++)
    {
      manifest_chain_id (i ? chains[i - 1] : NULL, cfg->diff_ids[i], chains[i]);
      rec.layers[i] = (image_layer_rec){
        .chain_id = chains[i], .diff_id = cfg->diff_ids[i],
        .digest = m->layers[i].digest, .media_type = m->layers[i].media_type,
        .size = m->layers[i].size,
      };
      rec.size += m->layers[i].size;
    }
  int ret = image_db_begin (s->db, err);
  if (ret == 0)
    ret = image_db_put_image (s->db, &rec, err);
  for (char *const *n = names; ret == 0 && n && *n; n++)
    ret = image_db_set_name (s->db, *n, rec.id, NULL, err);
  if (ret == 0)
    ret = image_db_commit (s->db, err);
  else
    image_db_rollback (s->db);
  if (ret == 0 && id_out)
    *id_out = xstrdup (rec.id);
  free (rec.layers);
  free (chains);
  return ret;
}

static char *
now_rfc3339 (void)
{
  char buf[64];
  time_t t = time (NULL);
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup (buf);
}

/* "CMD ["a","b"]" or "CMD a b" (shell form). */
static json_t *
cmd_value (const char *v)
{
  json_error_t je;
  if (*v == '[')
    {
      json_t *j = json_loads (v, 0, &je);
      if (json_is_array (j))
        return j;
      json_decref (j);
    }
  return json_pack ("[s,s,s]", "/bin/sh", "-c", v);
}

static int
apply_change (json_t *config, const char *change, polis_error **err)
{
  const char *sp = strchr (change, ' ');
  if (sp == NULL)
    return error_set (err, ERROR_INVALID, EINVAL, "invalid change `%s`", change);
  cleanup_free char *kw = xstrndup (change, (size_t) (sp - change));
  const char *v = sp + 1;
  for (char *p = kw; *p; p++)
    *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
  if (strcmp (kw, "CMD") == 0)
    json_object_set_new (config, "Cmd", cmd_value (v));
  else if (strcmp (kw, "ENTRYPOINT") == 0)
    json_object_set_new (config, "Entrypoint", cmd_value (v));
  else if (strcmp (kw, "WORKDIR") == 0)
    json_object_set_new (config, "WorkingDir", json_string (v));
  else if (strcmp (kw, "USER") == 0)
    json_object_set_new (config, "User", json_string (v));
  else if (strcmp (kw, "ENV") == 0)
    {
      json_t *env = json_object_get (config, "Env");
      if (env == NULL)
        json_object_set_new (config, "Env", env = json_array ());
      cleanup_free char *kv = xstrdup (v);
      char *eq = strchr (kv, '=');
      if (eq == NULL && (eq = strchr (kv, ' ')))
        *eq = '=';
      json_array_append_new (env, json_string (kv));
    }
  else if (strcmp (kw, "EXPOSE") == 0)
    {
      json_t *ports = json_object_get (config, "ExposedPorts");
      if (ports == NULL)
        json_object_set_new (config, "ExposedPorts", ports = json_object ());
      cleanup_free char *p = strchr (v, '/') ? xstrdup (v) : xasprintf ("%s/tcp", v);
      json_object_set_new (ports, p, json_object ());
    }
  else if (strcmp (kw, "LABEL") == 0)
    {
      json_t *labels = json_object_get (config, "Labels");
      if (labels == NULL)
        json_object_set_new (config, "Labels", labels = json_object ());
      cleanup_free char *kv = xstrdup (v);
      char *eq = strchr (kv, '=');
      if (eq == NULL)
        return error_set (err, ERROR_INVALID, EINVAL, "invalid LABEL `%s`", v);
      *eq = '\0';
      json_object_set_new (labels, kv, json_string (eq + 1));
    }
  else if (strcmp (kw, "VOLUME") == 0)
    {
      /* VOLUME ["/a","/b"] or VOLUME /a /b */
      json_t *vols = json_object_get (config, "Volumes");
      if (!json_is_object (vols))
        json_object_set_new (config, "Volumes", vols = json_object ());
      json_error_t je;
      cleanup_json json_t *arr = *v == '[' ? json_loads (v, 0, &je) : NULL;
      size_t i;
      json_t *p;
      if (json_is_array (arr))
        json_array_foreach (arr, i, p)
        {
          if (json_is_string (p) && json_string_length (p) > 0)
            json_object_set_new (vols, json_string_value (p), json_object ());
        }
      else
        {
          cleanup_free char *copy = xstrdup (v);
          char *save = NULL;
          for (char *w = strtok_r (copy, " \t", &save); w; w = strtok_r (NULL, " \t", &save))
            json_object_set_new (vols, w, json_object ());
        }
    }
  else
    return error_set (err, ERROR_INVALID, EINVAL,
                      "%s is not a valid change command", kw);
  return 0;
}

int
image_import (image_store *s, int fd, const image_import_opts *o, char **id,
              polis_error **err)
{
  cleanup_strv char **names = xzalloc (sizeof (char *));
  if (o->name)
    {
      cleanup_reference image_reference *r = image_reference_parse (o->name, err);
      if (r == NULL)
        return -1;
      if (r->digest)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "import: a name with a digest is not allowed");
      cleanup_free char *n = image_reference_string (r);
      strv_append (&names, n);
    }
  /* The layer is stored uncompressed: its digest is its diff ID. */
  cleanup_content_writer content_writer *w
      = content_store_writer (s->cs, NULL, -1, 0, err);
  if (w == NULL)
    return -1;
  cleanup_close int wfd = content_writer_reader_fd (w, err);
  if (wfd < 0)
    return -1;
  char diff[DIGEST_STRING_LEN + 1], layer[DIGEST_STRING_LEN + 1];
  uint64_t size = 0;
  /* Decompress into a temporary file, then into the store. */
  FILE *tmp = tmpfile ();
  if (tmp == NULL)
    return error_sys (err, "tmpfile");
  int tfd = fileno (tmp);
  int ret = unpack_decompress (fd, tfd, diff, &size, err);
  if (ret == 0 && lseek (tfd, 0, SEEK_SET) < 0)
    ret = error_sys (err, "seek");
  enum { BUF = 1 << 17 };
  cleanup_free char *buf = xmalloc (BUF);
  while (ret == 0)
    {
      ssize_t n = read (tfd, buf, BUF);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        ret = error_sys (err, "read");
      if (n <= 0)
        break;
      ret = content_writer_write (w, buf, (size_t) n, err);
    }
  fclose (tmp);
  if (ret == 0)
    ret = content_writer_commit (w, layer, err);
  if (ret < 0)
    return error_wrap (err, "import");

  platform pf = { 0 };
  if (o->platform)
    {
      if (platform_parse (o->platform, &pf, err) < 0)
        return -1;
    }
  else
    platform_host (&pf);
  cleanup_free char *now = now_rfc3339 ();
  json_t *config = json_object ();
  for (char **c = o->changes; c && *c; c++)
    if (apply_change (config, *c, err) < 0)
      {
        json_decref (config);
        platform_clear (&pf);
        return -1;
      }
  cleanup_json json_t *cfg = json_pack (
      "{s:s, s:s, s:s, s:o, s:{s:s, s:[s]}, s:[{s:s, s:s, s:s}]}",
      "architecture", pf.architecture, "os", pf.os, "created", now, "config",
      config, "rootfs", "type", "layers", "diff_ids", diff, "history",
      "created", now, "created_by", "polis-image import", "comment",
      o->message ? o->message : "");
  if (pf.variant)
    json_object_set_new (cfg, "variant", json_string (pf.variant));
  platform_clear (&pf);
  cleanup_free char *cfg_s = pjson_dump (cfg);
  char cfg_digest[DIGEST_STRING_LEN + 1], man_digest[DIGEST_STRING_LEN + 1];
  if (content_store_put_blob (s->cs, cfg_s, strlen (cfg_s), NULL, cfg_digest,
                              err)
      < 0)
    return -1;
  cleanup_json json_t *man = json_pack (
      "{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2,
      "mediaType", MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG,
      "digest", cfg_digest, "size", (json_int_t) strlen (cfg_s), "layers",
      "mediaType", MT_OCI_LAYER, "digest", layer, "size", (json_int_t) size);
  cleanup_free char *man_s = pjson_dump (man);
  if (content_store_put_blob (s->cs, man_s, strlen (man_s), NULL, man_digest,
                              err)
      < 0)
    return -1;
  return image_import_manifest (s, man_digest, names, NULL, id, err);
}
