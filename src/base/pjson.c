/* pjson.c - Polis helpers over jansson for reading hostile JSON. */
#include "pjson.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "cleanup.h"
#include "file.h"
#include "xalloc.h"

json_t *
pjson_parse (const char *buf, size_t len, const char *name, polis_error **err)
{
  json_error_t jerr;
  json_t *j = json_loadb (buf, len, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "%s: invalid JSON at line %d column %d: %s", name, jerr.line,
                 jerr.column, jerr.text);
      return NULL;
    }
  return j;
}

json_t *
pjson_load_file_at (int dirfd, const char *path, size_t max, polis_error **err)
{
  size_t len = 0;
  cleanup_free char *buf = file_read_at (dirfd, path, max, &len, err);
  if (buf == NULL)
    return NULL;
  return pjson_parse (buf, len, path, err);
}

char *
pjson_dump (const json_t *j)
{
  char *s = json_dumps (j, JSON_COMPACT);
  if (s == NULL)
    abort ();
  return s;
}

static int
pjson_missing (const char *ctx, const char *key, polis_error **err)
{
  return error_set (err, ERROR_INVALID, EINVAL, "%s%s%s: missing", ctx,
                    *ctx ? "." : "", key);
}

static int
pjson_wrong_type (const char *ctx, const char *key, const char *what,
                  polis_error **err)
{
  return error_set (err, ERROR_INVALID, EINVAL, "%s%s%s: expected %s", ctx,
                    *ctx ? "." : "", key, what);
}

int
pjson_get_string (const json_t *obj, const char *ctx, const char *key,
                  bool required, const char **out, polis_error **err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL || json_is_null (v))
    {
      if (required)
        return pjson_missing (ctx, key, err);
      *out = NULL;
      return 0;
    }
  if (!json_is_string (v))
    return pjson_wrong_type (ctx, key, "a string", err);
  if (strlen (json_string_value (v)) != json_string_length (v))
    return pjson_wrong_type (ctx, key, "a string without NUL bytes", err);
  *out = json_string_value (v);
  return 0;
}

int
pjson_get_bool (const json_t *obj, const char *ctx, const char *key, bool *out,
                polis_error **err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_boolean (v))
    return pjson_wrong_type (ctx, key, "a boolean", err);
  *out = json_is_true (v);
  return 0;
}

int
pjson_get_int64 (const json_t *obj, const char *ctx, const char *key,
                 bool required, int64_t *out, polis_error **err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL || json_is_null (v))
    {
      if (required)
        return pjson_missing (ctx, key, err);
      return 0;
    }
  if (!json_is_integer (v))
    return pjson_wrong_type (ctx, key, "an integer", err);
  *out = (int64_t) json_integer_value (v);
  return 0;
}

int
pjson_get_uint64 (const json_t *obj, const char *ctx, const char *key,
                  bool required, uint64_t max, uint64_t *out,
                  polis_error **err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL || json_is_null (v))
    {
      if (required)
        return pjson_missing (ctx, key, err);
      return 0;
    }
  if (json_is_real (v))
    {
      /* jansson parses integers above INT64_MAX as reals; accept the exact
         ones so that e.g. a uint64 max limit keeps working. */
      double d = json_real_value (v);
      if (d < 0 || d > (double) max || d != (double) (uint64_t) d)
        return pjson_wrong_type (ctx, key, "an unsigned integer in range",
                                 err);
      *out = (uint64_t) d;
      return 0;
    }
  if (!json_is_integer (v) || json_integer_value (v) < 0
      || (uint64_t) json_integer_value (v) > max)
    return pjson_wrong_type (ctx, key, "an unsigned integer in range", err);
  *out = (uint64_t) json_integer_value (v);
  return 0;
}

int
pjson_get_object (const json_t *obj, const char *ctx, const char *key,
                  bool required, json_t **out, polis_error **err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL || json_is_null (v))
    {
      if (required)
        return pjson_missing (ctx, key, err);
      *out = NULL;
      return 0;
    }
  if (!json_is_object (v))
    return pjson_wrong_type (ctx, key, "an object", err);
  *out = v;
  return 0;
}

int
pjson_get_array (const json_t *obj, const char *ctx, const char *key,
                 bool required, json_t **out, polis_error **err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL || json_is_null (v))
    {
      if (required)
        return pjson_missing (ctx, key, err);
      *out = NULL;
      return 0;
    }
  if (!json_is_array (v))
    return pjson_wrong_type (ctx, key, "an array", err);
  *out = v;
  return 0;
}

int
pjson_get_strv (const json_t *obj, const char *ctx, const char *key,
                bool required, char ***out, polis_error **err)
{
  json_t *arr = NULL;
  int ret = pjson_get_array (obj, ctx, key, required, &arr, err);
  if (ret < 0)
    return ret;
  if (arr == NULL)
    {
      *out = NULL;
      return 0;
    }
  size_t n = json_array_size (arr);
  cleanup_strv char **v = xzalloc ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      json_t *s = json_array_get (arr, i);
      if (!json_is_string (s)
          || strlen (json_string_value (s)) != json_string_length (s))
        return error_set (err, ERROR_INVALID, EINVAL,
                          "%s%s%s[%zu]: expected a string", ctx,
                          *ctx ? "." : "", key, i);
      v[i] = xstrdup (json_string_value (s));
    }
  *out = steal_pointer (&v);
  return 0;
}
