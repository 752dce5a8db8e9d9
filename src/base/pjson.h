/* pjson.h - Polis helpers over jansson for reading hostile JSON.
 *
 * Loading takes a size cap; getters check types and produce errors that name
 * the field ("process.args: expected an array of strings").  The CTX
 * argument is the dotted path of the object being read, used in messages.
 */
#ifndef POLIS_BASE_PJSON_H
#define POLIS_BASE_PJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

static inline void
cleanup_json_fn (json_t **j)
{
  if (*j)
    json_decref (*j);
  *j = NULL;
}
#define cleanup_json __attribute__ ((cleanup (cleanup_json_fn)))

/* Parse BUF (LEN bytes) as JSON.  NAME is used in messages
   ("config.json: line 3 column 5: ...").  New reference or NULL. */
json_t *pjson_parse (const char *buf, size_t len, const char *name,
                     polis_error **err);

/* Read PATH (at most MAX bytes, relative to DIRFD) and parse it. */
json_t *pjson_load_file_at (int dirfd, const char *path, size_t max,
                            polis_error **err);

/* Serialize J compactly into a heap string.  Caller frees. */
char *pjson_dump (const json_t *j);

/* Getters: a missing key yields the default (or an error when REQUIRED);
   a present key of the wrong type is always an error naming CTX.KEY.
   String results point into OBJ and live as long as it does. */
int pjson_get_string (const json_t *obj, const char *ctx, const char *key,
                      bool required, const char **out, polis_error **err);
int pjson_get_bool (const json_t *obj, const char *ctx, const char *key,
                    bool *out, polis_error **err);
int pjson_get_int64 (const json_t *obj, const char *ctx, const char *key,
                     bool required, int64_t *out, polis_error **err);
/* An unsigned value that must also be <= MAX. */
int pjson_get_uint64 (const json_t *obj, const char *ctx, const char *key,
                      bool required, uint64_t max, uint64_t *out,
                      polis_error **err);
/* Borrowed object/array (NULL when absent and not required). */
int pjson_get_object (const json_t *obj, const char *ctx, const char *key,
                      bool required, json_t **out, polis_error **err);
int pjson_get_array (const json_t *obj, const char *ctx, const char *key,
                     bool required, json_t **out, polis_error **err);
/* A NULL-terminated heap copy of an array of strings (NULL when absent). */
int pjson_get_strv (const json_t *obj, const char *ctx, const char *key,
                    bool required, char ***out, polis_error **err);

#endif
