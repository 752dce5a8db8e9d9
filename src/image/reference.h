/* reference.h - image references the way Docker reads them.
 *
 * "busybox" is docker.io/library/busybox:latest; "localhost:5000/a/b@sha256:…"
 * names a registry with a port and a digest.  Parsing follows the grammar of
 * distribution/reference (ParseNormalizedNamed) and keeps Docker's error
 * wording, which users and scripts match on.
 */
#ifndef POLIS_IMAGE_REFERENCE_H
#define POLIS_IMAGE_REFERENCE_H

#include <stdbool.h>

#include "base/error.h"

/* Caps from distribution/reference. */
#define REFERENCE_NAME_MAX 255
#define REFERENCE_TAG_MAX 128

typedef struct
{
  char *domain; /* "docker.io", "localhost:5000" */
  char *path;   /* "library/busybox" */
  char *tag;    /* "latest"; NULL when the reference only has a digest */
  char *digest; /* "sha256:<64 hex>" or NULL */
} image_reference;

/* Parse S as Docker does for `docker pull S`: normalise the domain and the
   "library/" prefix, and add the tag "latest" when neither a tag nor a
   digest is given.  Errors carry Docker's messages ("invalid reference
   format", "invalid reference format: repository name (library/Busybox) must
   be lowercase", ...).  Caller frees with image_reference_free. */
image_reference *image_reference_parse (const char *s, polis_error **err);

/* Like image_reference_parse, without adding "latest" (for `ls busybox`). */
image_reference *image_reference_parse_name (const char *s,
                                             polis_error **err);

void image_reference_free (image_reference *r);
#define cleanup_reference                                                      \
  __attribute__ ((cleanup (image_reference_cleanup)))
void image_reference_cleanup (image_reference **r);

/* "docker.io/library/busybox" (no tag, no digest).  Caller frees. */
char *image_reference_repository (const image_reference *r);
/* The full string: "docker.io/library/busybox:latest[@sha256:…]". */
char *image_reference_string (const image_reference *r);
/* Docker's short form: "busybox:latest", "localhost:5000/x:1". */
char *image_reference_familiar (const image_reference *r);
/* The familiar form of a canonical name string (as stored in the db). */
char *image_reference_familiarize (const char *canonical);

/* True when S is "sha256:" followed by 64 lowercase hex digits. */
bool image_reference_is_digest (const char *s);
/* True when S looks like a full or short image ID (hex, >= 1 char). */
bool image_reference_is_hex_id (const char *s);

/* The host to connect to for DOMAIN: Docker Hub's API lives at
   registry-1.docker.io.  Static string or DOMAIN itself. */
const char *image_reference_api_host (const char *domain);

#endif
