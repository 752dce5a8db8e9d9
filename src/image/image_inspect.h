/* image_inspect.h - stored images in the JSON shapes of Docker's API:
 * `docker image inspect` and `docker history` (the engine serves the same
 * objects on /images/{name}/json and /images/{name}/history). */
#ifndef POLIS_IMAGE_IMAGE_INSPECT_H
#define POLIS_IMAGE_IMAGE_INSPECT_H

#include <jansson.h>

#include "base/error.h"
#include "image_store.h"

/* The inspect object of image ID.  New reference or NULL. */
json_t *image_inspect_json (image_store *s, const char *id, polis_error **err);
/* The history array (newest first).  New reference or NULL. */
json_t *image_inspect_history (image_store *s, const char *id,
                               polis_error **err);
/* RFC 3339 -> unix seconds (0 when unparsable). */
long long image_inspect_parse_time (const char *s);

#endif
