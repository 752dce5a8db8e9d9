/* manifest.h - manifests, indexes and image configs, parsed as hostile input.
 *
 * Docker schema2 and OCI manifests and indexes (manifest lists) are read
 * into one shape; schema1 is refused with a message that says what to do.
 * Every size and count from outside has a cap (MANIFEST_*_MAX).
 */
#ifndef POLIS_IMAGE_MANIFEST_H
#define POLIS_IMAGE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "digest.h"

#define MANIFEST_SIZE_MAX (4u << 20)  /* as distribution's registry */
#define MANIFEST_CONFIG_MAX (8u << 20)
#define MANIFEST_LAYERS_MAX 500
#define MANIFEST_INDEX_MAX 1000
#define MANIFEST_STRING_MAX 1024      /* media types, os names, ... */

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED                                               \
  "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* What the registry client asks for. */
#define MANIFEST_ACCEPT                                                        \
  MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST                  \
                     ", " MT_OCI_INDEX

typedef struct
{
  char *os, *architecture, *variant;
} platform;

typedef struct
{
  char *media_type;
  char *digest;
  int64_t size;
  platform platform; /* index entries; all NULL when absent */
  bool has_platform;
  bool attestation;  /* BuildKit attestation manifests: never chosen */
} manifest_descriptor;

typedef enum
{
  MANIFEST_IMAGE,
  MANIFEST_INDEX,
} manifest_kind;

typedef struct
{
  manifest_kind kind;
  char *media_type;
  manifest_descriptor config; /* images */
  size_t n_layers;
  manifest_descriptor *layers;
  size_t n_manifests; /* indexes */
  manifest_descriptor *manifests;
} manifest;

typedef enum
{
  LAYER_TAR,
  LAYER_GZIP,
  LAYER_ZSTD,
} layer_compression;

/* Parse BUF.  CONTENT_TYPE (may be NULL) is the HTTP header; parameters
   are ignored.  Caller frees with manifest_free. */
manifest *manifest_parse (const char *buf, size_t len,
                          const char *content_type, polis_error **err);
void manifest_free (manifest *m);
void manifest_cleanup (manifest **m);
#define cleanup_manifest __attribute__ ((cleanup (manifest_cleanup)))

/* The compression of a layer media type; -1 with *err for unknown ones. */
int manifest_layer_compression (const char *media_type,
                                layer_compression *out, polis_error **err);

/* The host's platform in Go's names (amd64, arm64/v8, arm/v7). */
void platform_host (platform *out);
/* Parse "os/arch[/variant]" (--platform). */
int platform_parse (const char *s, platform *out, polis_error **err);
void platform_clear (platform *p);
/* "linux/amd64" or "linux/arm/v7".  Caller frees. */
char *platform_string (const platform *p);

/* The best entry of INDEX for WANT: os and architecture must match, an
   exact variant is preferred; attestations are skipped.  Borrowed
   pointer; NULL with *err naming what is available. */
const manifest_descriptor *manifest_select_platform (const manifest *index,
                                                     const platform *want,
                                                     polis_error **err);

typedef struct
{
  json_t *json;      /* the whole config */
  size_t n_diff_ids;
  char **diff_ids;
  const char *os, *architecture, *variant, *created; /* into json */
} image_config;

/* Parse an image config (checks rootfs.type and every diff ID). */
image_config *image_config_parse (const char *buf, size_t len,
                                  polis_error **err);
void image_config_free (image_config *c);
void image_config_cleanup (image_config **c);
#define cleanup_image_config __attribute__ ((cleanup (image_config_cleanup)))

/* ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n)), ChainID(0) = DiffID(0). */
void manifest_chain_id (const char *parent, const char *diff_id,
                        char out[DIGEST_STRING_LEN + 1]);

#endif
