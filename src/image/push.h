/* push.h - push a stored image to a registry: each blob is checked with
 * HEAD, mounted from another repository of the same registry when the db
 * knows one that has it, or uploaded; then the manifest is PUT. */
#ifndef POLIS_IMAGE_PUSH_H
#define POLIS_IMAGE_PUSH_H

#include "base/error.h"
#include "image_store.h"
#include "progress.h"
#include "registry.h"

typedef struct
{
  registry_opts reg;
  progress *progress;
} push_opts;

int push_image (image_store *s, const char *ref, const push_opts *o,
                polis_error **err);

#endif
