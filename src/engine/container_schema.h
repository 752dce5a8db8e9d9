/* container_schema.h - Docker's Config and HostConfig objects, typed.
 *
 * A create request is Go JSON decoded into Docker's structs: unknown keys
 * are ignored, key names match case-insensitively, a value of the wrong
 * type is a 400 ("json: cannot unmarshal string into Go struct field
 * Config.Env of type []string"), and what is absent gets Go's zero value.
 * The normalised objects here have exactly the fields Docker's inspect
 * shows, with Docker's defaults, so inspect and `docker inspect --format`
 * templates find every field they expect.
 */
#ifndef POLIS_ENGINE_CONTAINER_SCHEMA_H
#define POLIS_ENGINE_CONTAINER_SCHEMA_H

#include <jansson.h>

#include "base/error.h"

typedef enum
{
  SCHEMA_CONFIG,
  SCHEMA_HOST_CONFIG,
  SCHEMA_HEALTHCHECK,
  SCHEMA_UPDATE, /* the resources an update may change */
  SCHEMA_EXEC,
} schema_kind;

/* A new object with every field of KIND: IN's values (type-checked), the
   defaults for the rest.  IN may be NULL (all defaults). */
json_t *schema_normalize (schema_kind kind, const json_t *in,
                          polis_error **err);

/* Docker's StrSlice: a string or an array of strings (or null) as a new
   array (or null).  CTX names the field in errors. */
json_t *schema_strslice (const json_t *v, const char *ctx, polis_error **err);

#endif
