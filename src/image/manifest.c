/* manifest.c - manifests, indexes and image configs, parsed as hostile input. */
#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"

static char *
dup_capped (const char *s)
{
  return s ? xstrndup (s, MANIFEST_STRING_MAX) : NULL;
}

void
platform_clear (platform *p)
{
  free (p->os);
  free (p->architecture);
  free (p->variant);
  p->os = p->architecture = p->variant = NULL;
}

static void
descriptor_clear (manifest_descriptor *d)
{
  free (d->media_type);
  free (d->digest);
  platform_clear (&d->platform);
}

void
manifest_free (manifest *m)
{
  if (m == NULL)
    return;
  free (m->media_type);
  descriptor_clear (&m->config);
  for (size_t i = 0; i < m->n_layers; i++)
    descriptor_clear (&m->layers[i]);
  free (m->layers);
  for (size_t i = 0; i < m->n_manifests; i++)
    descriptor_clear (&m->manifests[i]);
  free (m->manifests);
  free (m);
}

void
manifest_cleanup (manifest **m)
{
  manifest_free (*m);
  *m = NULL;
}

static int
parse_descriptor (json_t *j, const char *ctx, manifest_descriptor *d,
                  polis_error **err)
{
  const char *mt = NULL, *digest = NULL;
  int64_t size = 0;
  if (!json_is_object (j))
    return error_set (err, ERROR_INVALID, EINVAL, "%s: expected an object",
                      ctx);
  if (pjson_get_string (j, ctx, "mediaType", false, &mt, err) < 0
      || pjson_get_string (j, ctx, "digest", true, &digest, err) < 0
      || pjson_get_int64 (j, ctx, "size", true, &size, err) < 0)
    return -1;
  if (digest_validate (digest, err) < 0)
    return error_wrap (err, "%s", ctx);
  if (size < 0)
    return error_set (err, ERROR_INVALID, EINVAL, "%s.size: negative", ctx);
  d->media_type = dup_capped (mt ? mt : "");
  d->digest = xstrdup (digest);
  d->size = size;

  json_t *p = json_object_get (j, "platform");
  if (json_is_object (p))
    {
      const char *os = NULL, *arch = NULL, *variant = NULL;
      if (pjson_get_string (p, ctx, "os", false, &os, err) < 0
          || pjson_get_string (p, ctx, "architecture", false, &arch, err) < 0
          || pjson_get_string (p, ctx, "variant", false, &variant, err) < 0)
        return -1;
      d->has_platform = true;
      d->platform.os = dup_capped (os);
      d->platform.architecture = dup_capped (arch);
      d->platform.variant = dup_capped (variant);
    }
  json_t *ann = json_object_get (j, "annotations");
  const char *rt = json_string_value (
      json_object_get (ann, "vnd.docker.reference.type"));
  if (rt && strcmp (rt, "attestation-manifest") == 0)
    d->attestation = true;
  return 0;
}

static int
parse_descriptor_array (json_t *arr, const char *ctx, size_t max,
                        manifest_descriptor **out, size_t *n,
                        polis_error **err)
{
  if (!json_is_array (arr))
    return error_set (err, ERROR_INVALID, EINVAL, "%s: expected an array",
                      ctx);
  size_t len = json_array_size (arr);
  if (len > max)
    return error_set (err, ERROR_INVALID, E2BIG,
                      "%s: %zu entries, more than the limit of %zu", ctx, len,
                      max);
  *out = xzalloc ((len ? len : 1) * sizeof **out);
  *n = len;
  for (size_t i = 0; i < len; i++)
    {
      char c[64];
      snprintf (c, sizeof c, "%s[%zu]", ctx, i);
      if (parse_descriptor (json_array_get (arr, i), c, &(*out)[i], err) < 0)
        return -1;
    }
  return 0;
}

static bool
media_is (const char *a, const char *b)
{
  return a && strcmp (a, b) == 0;
}

manifest *
manifest_parse (const char *buf, size_t len, const char *content_type,
                polis_error **err)
{
  if (len > MANIFEST_SIZE_MAX)
    {
      error_set (err, ERROR_INVALID, E2BIG,
                 "manifest of %zu bytes is larger than the limit of %u", len,
                 MANIFEST_SIZE_MAX);
      return NULL;
    }
  cleanup_free char *ct = NULL;
  if (content_type)
    {
      ct = xstrndup (content_type, strcspn (content_type, "; \t"));
      if (media_is (ct, MT_DOCKER_SCHEMA1) || media_is (ct, MT_DOCKER_SCHEMA1_SIGNED))
        {
          error_set (err, ERROR_INVALID, EPROTONOSUPPORT,
                     "manifest is Docker image manifest v2 schema 1, which is "
                     "no longer supported: push the image again with a "
                     "current docker, podman or skopeo");
          return NULL;
        }
    }
  cleanup_json json_t *j = pjson_parse (buf, len, "manifest", err);
  if (j == NULL)
    return NULL;
  if (!json_is_object (j))
    {
      error_set (err, ERROR_INVALID, EINVAL, "manifest: expected an object");
      return NULL;
    }
  int64_t schema = 0;
  if (pjson_get_int64 (j, "manifest", "schemaVersion", false, &schema, err) < 0)
    return NULL;
  if (schema == 1)
    {
      error_set (err, ERROR_INVALID, EPROTONOSUPPORT,
                 "manifest is Docker image manifest v2 schema 1, which is no "
                 "longer supported: push the image again with a current "
                 "docker, podman or skopeo");
      return NULL;
    }
  const char *mt = NULL;
  if (pjson_get_string (j, "manifest", "mediaType", false, &mt, err) < 0)
    return NULL;
  /* The Content-Type decides; a mediaType in the document must agree. */
  bool ct_known = media_is (ct, MT_OCI_INDEX) || media_is (ct, MT_DOCKER_LIST)
                  || media_is (ct, MT_OCI_MANIFEST)
                  || media_is (ct, MT_DOCKER_MANIFEST);
  const char *kind_type = ct_known ? ct : mt;
  if (mt && kind_type != mt && strcmp (mt, kind_type) != 0)
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "manifest: mediaType %.100s does not match Content-Type %.100s",
                 mt, kind_type);
      return NULL;
    }
  manifest *m = xzalloc (sizeof *m);
  cleanup_manifest manifest *guard = m;
  json_t *manifests = json_object_get (j, "manifests");
  if (media_is (kind_type, MT_OCI_INDEX) || media_is (kind_type, MT_DOCKER_LIST)
      || (kind_type == NULL && manifests))
    {
      m->kind = MANIFEST_INDEX;
      m->media_type = xstrdup (kind_type ? kind_type : MT_OCI_INDEX);
      if (parse_descriptor_array (manifests, "manifest.manifests",
                                  MANIFEST_INDEX_MAX, &m->manifests,
                                  &m->n_manifests, err)
          < 0)
        return NULL;
    }
  else if (media_is (kind_type, MT_OCI_MANIFEST)
           || media_is (kind_type, MT_DOCKER_MANIFEST) || kind_type == NULL)
    {
      m->kind = MANIFEST_IMAGE;
      m->media_type = xstrdup (kind_type ? kind_type : MT_OCI_MANIFEST);
      json_t *config = json_object_get (j, "config");
      if (config == NULL)
        {
          error_set (err, ERROR_INVALID, EINVAL, "manifest.config: missing");
          return NULL;
        }
      if (parse_descriptor (config, "manifest.config", &m->config, err) < 0
          || parse_descriptor_array (json_object_get (j, "layers"),
                                     "manifest.layers", MANIFEST_LAYERS_MAX,
                                     &m->layers, &m->n_layers, err)
                 < 0)
        return NULL;
    }
  else
    {
      error_set (err, ERROR_INVALID, EPROTONOSUPPORT,
                 "unsupported manifest media type %.200s", kind_type);
      return NULL;
    }
  return steal_pointer (&guard);
}

int
manifest_layer_compression (const char *mt, layer_compression *out,
                            polis_error **err)
{
  static const struct
  {
    const char *type;
    layer_compression c;
  } table[] = {
    { MT_OCI_LAYER, LAYER_TAR },
    { MT_OCI_LAYER_GZIP, LAYER_GZIP },
    { MT_OCI_LAYER_ZSTD, LAYER_ZSTD },
    { MT_DOCKER_LAYER_GZIP, LAYER_GZIP },
    { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", LAYER_GZIP },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar", LAYER_TAR },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", LAYER_GZIP },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", LAYER_ZSTD },
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (media_is (mt, table[i].type))
      {
        *out = table[i].c;
        return 0;
      }
  return error_set (err, ERROR_INVALID, EPROTONOSUPPORT,
                    "unsupported layer media type %.200s", mt ? mt : "");
}

void
platform_host (platform *out)
{
  struct utsname u;
  const char *arch = "amd64", *variant = NULL;
  uname (&u);
  if (strcmp (u.machine, "x86_64") == 0)
    arch = "amd64";
  else if (strcmp (u.machine, "aarch64") == 0)
    arch = "arm64", variant = "v8";
  else if (strncmp (u.machine, "armv7", 5) == 0)
    arch = "arm", variant = "v7";
  else if (strncmp (u.machine, "armv6", 5) == 0)
    arch = "arm", variant = "v6";
  else if (strcmp (u.machine, "i686") == 0 || strcmp (u.machine, "i386") == 0)
    arch = "386";
  else if (strcmp (u.machine, "ppc64le") == 0)
    arch = "ppc64le";
  else if (strcmp (u.machine, "s390x") == 0)
    arch = "s390x";
  else if (strcmp (u.machine, "riscv64") == 0)
    arch = "riscv64";
  out->os = xstrdup ("linux");
  out->architecture = xstrdup (arch);
  out->variant = variant ? xstrdup (variant) : NULL;
}

int
platform_parse (const char *s, platform *out, polis_error **err)
{
  cleanup_free char *c = xstrndup (s, MANIFEST_STRING_MAX);
  char *parts[4] = { 0 };
  size_t n = 0;
  for (char *save = NULL, *t = strtok_r (c, "/", &save); t;
       t = strtok_r (NULL, "/", &save))
    {
      if (n == 3)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid platform `%s`: expected os/arch[/variant]",
                          s);
      parts[n++] = t;
    }
  if (n < 2)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid platform `%s`: expected os/arch[/variant]", s);
  out->os = xstrdup (parts[0]);
  const char *arch = parts[1];
  const char *variant = parts[2];
  /* Go's normalisation of the common aliases. */
  if (strcmp (arch, "x86_64") == 0 || strcmp (arch, "x86-64") == 0)
    arch = "amd64";
  else if (strcmp (arch, "aarch64") == 0)
    arch = "arm64";
  else if (strcmp (arch, "armhf") == 0)
    arch = "arm", variant = variant ? variant : "v7";
  out->architecture = xstrdup (arch);
  out->variant = variant ? xstrdup (variant) : NULL;
  return 0;
}

char *
platform_string (const platform *p)
{
  return xasprintf ("%s/%s%s%s", p->os ? p->os : "?",
                    p->architecture ? p->architecture : "?",
                    p->variant ? "/" : "", p->variant ? p->variant : "");
}

static bool
str_eq (const char *a, const char *b)
{
  return a && b && strcmp (a, b) == 0;
}

const manifest_descriptor *
manifest_select_platform (const manifest *index, const platform *want,
                          polis_error **err)
{
  const manifest_descriptor *best = NULL;
  int best_score = -1;
  for (size_t i = 0; i < index->n_manifests; i++)
    {
      const manifest_descriptor *d = &index->manifests[i];
      int score;
      if (d->attestation)
        continue;
      /* Unknown media types in an index are skipped, not errors. */
      if (*d->media_type && !media_is (d->media_type, MT_OCI_MANIFEST)
          && !media_is (d->media_type, MT_DOCKER_MANIFEST))
        continue;
      if (!d->has_platform)
        score = 0;
      else
        {
          if (!str_eq (d->platform.os, want->os)
              || !str_eq (d->platform.architecture, want->architecture))
            continue;
          if (want->variant && d->platform.variant)
            {
              if (!str_eq (want->variant, d->platform.variant))
                {
                  /* arm64 images are v8 whether or not they say so. */
                  continue;
                }
              score = 3;
            }
          else if (!d->platform.variant)
            score = 2;
          else
            score = 1;
        }
      if (score > best_score)
        {
          best = d;
          best_score = score;
        }
    }
  if (best == NULL)
    {
      cleanup_free char *w = platform_string (want);
      cleanup_free char *avail = xstrdup ("");
      for (size_t i = 0; i < index->n_manifests && i < 16; i++)
        {
          const manifest_descriptor *d = &index->manifests[i];
          if (!d->has_platform || d->attestation)
            continue;
          cleanup_free char *p = platform_string (&d->platform);
          char *n = xasprintf ("%s%s%s", avail, *avail ? ", " : "", p);
          free (avail);
          avail = n;
        }
      error_set (err, ERROR_NOT_FOUND, ENOENT,
                 "no matching manifest for %s in the manifest list entries"
                 "%s%s%s",
                 w, *avail ? " (available: " : "", avail, *avail ? ")" : "");
    }
  return best;
}

void
image_config_free (image_config *c)
{
  if (c == NULL)
    return;
  if (c->json)
    json_decref (c->json);
  cleanup_strv_fn (&c->diff_ids);
  free (c);
}

void
image_config_cleanup (image_config **c)
{
  image_config_free (*c);
  *c = NULL;
}

image_config *
image_config_parse (const char *buf, size_t len, polis_error **err)
{
  if (len > MANIFEST_CONFIG_MAX)
    {
      error_set (err, ERROR_INVALID, E2BIG,
                 "image config larger than the limit of %u bytes",
                 MANIFEST_CONFIG_MAX);
      return NULL;
    }
  cleanup_json json_t *j = pjson_parse (buf, len, "image config", err);
  if (j == NULL)
    return NULL;
  json_t *rootfs = NULL, *ids = NULL;
  const char *type = NULL;
  if (!json_is_object (j)
      || pjson_get_object (j, "config", "rootfs", true, &rootfs, err) < 0
      || pjson_get_string (rootfs, "config.rootfs", "type", true, &type, err)
             < 0
      || pjson_get_array (rootfs, "config.rootfs", "diff_ids", true, &ids, err)
             < 0)
    {
      if (!json_is_object (j))
        error_set (err, ERROR_INVALID, EINVAL, "image config: not an object");
      return NULL;
    }
  if (strcmp (type, "layers") != 0)
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "image config: rootfs.type %.50s is not \"layers\"", type);
      return NULL;
    }
  size_t n = json_array_size (ids);
  if (n > MANIFEST_LAYERS_MAX)
    {
      error_set (err, ERROR_INVALID, E2BIG,
                 "image config: %zu layers, more than the limit of %d", n,
                 MANIFEST_LAYERS_MAX);
      return NULL;
    }
  image_config *c = xzalloc (sizeof *c);
  c->diff_ids = xzalloc ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      const char *d = json_string_value (json_array_get (ids, i));
      if (digest_validate (d, err) < 0)
        {
          image_config_free (c);
          error_wrap (err, "image config: rootfs.diff_ids[%zu]", i);
          return NULL;
        }
      c->diff_ids[i] = xstrdup (d);
    }
  c->n_diff_ids = n;
  c->os = json_string_value (json_object_get (j, "os"));
  c->architecture = json_string_value (json_object_get (j, "architecture"));
  c->variant = json_string_value (json_object_get (j, "variant"));
  c->created = json_string_value (json_object_get (j, "created"));
  c->json = steal_pointer (&j);
  return c;
}

void
manifest_chain_id (const char *parent, const char *diff_id,
                   char out[DIGEST_STRING_LEN + 1])
{
  if (parent == NULL)
    {
      memcpy (out, diff_id, DIGEST_STRING_LEN);
      out[DIGEST_STRING_LEN] = '\0';
      return;
    }
  cleanup_free char *s = xasprintf ("%s %s", parent, diff_id);
  digest_buffer (s, strlen (s), out);
}
