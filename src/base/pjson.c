/* pjson.c - Polis helpers over jansson for reading hostile JSON. */
#include "pjson.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "file.h"
#include "xalloc.h"

/* jansson refuses integers above INT64_MAX, yet OCI fields are uint64 (an
   rlimit of 18446744073709551615, a seccomp argument mask).  Such literals
   are rewritten into a marked string, PJSON_U64_MARK followed by the
   digits, which the uint64 getter reads back exactly.  The mark starts with
   a NUL, which no string the rest of the code reads may hold (they are
   checked below and by pjson_get_string). */
#define PJSON_U64_MARK "\\u0000u64:"
#define PJSON_U64_PREFIX "\0u64:"

static bool
pjson_digits_above_int64 (const char *p, size_t n)
{
  static const char max[] = "9223372036854775807";
  while (n > 1 && *p == '0')
    p++, n--;
  return n > 19 || (n == 19 && memcmp (p, max, 19) > 0);
}

/* A copy of BUF with big unsigned literals marked, or NULL when none. */
static char *
pjson_mark_big_uints (const char *buf, size_t len, size_t *out_len)
{
  cleanup_free char *out = NULL;
  size_t olen = 0, start = 0;
  bool in_string = false;
  for (size_t i = 0; i < len; i++)
    {
      char c = buf[i];
      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = false;
          continue;
        }
      if (c == '"')
        {
          in_string = true;
          continue;
        }
      if (c < '0' || c > '9' || (i > 0 && (buf[i - 1] == '-' || buf[i - 1] == '.'
                                            || buf[i - 1] == 'e' || buf[i - 1] == 'E'
                                            || buf[i - 1] == '+')))
        continue;
      size_t j = i;
      while (j < len && buf[j] >= '0' && buf[j] <= '9')
        j++;
      bool plain = j >= len || (buf[j] != '.' && buf[j] != 'e' && buf[j] != 'E');
      if (plain && pjson_digits_above_int64 (buf + i, j - i))
        {
          size_t piece = (i - start) + (j - i) + sizeof PJSON_U64_MARK + 2;
          out = xrealloc (out, olen + piece + 1);
          memcpy (out + olen, buf + start, i - start);
          olen += i - start;
          olen += (size_t) snprintf (out + olen, piece + 1 - (i - start),
                                     "\"%s%.*s\"", PJSON_U64_MARK, (int) (j - i), buf + i);
          start = j;
        }
      i = j - 1;
    }
  if (out == NULL)
    return NULL;
  out = xrealloc (out, olen + (len - start) + 1);
  memcpy (out + olen, buf + start, len - start);
  olen += len - start;
  out[olen] = '\0';
  *out_len = olen;
  return steal_pointer (&out);
}

/* After parsing a marked document: no string may hold a NUL except marks. */
static bool
pjson_nul_only_in_marks (const json_t *j, int depth)
{
  if (depth > 256)
    return false;
  if (json_is_string (j))
    {
      const char *v = json_string_value (j);
      size_t n = json_string_length (j);
      if (strlen (v) == n)
        return true;
      if (n < sizeof PJSON_U64_PREFIX || memcmp (v, PJSON_U64_PREFIX, sizeof PJSON_U64_PREFIX - 1) != 0)
        return false;
      for (size_t i = sizeof PJSON_U64_PREFIX - 1; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
          return false;
      return true;
    }
  const char *key;
  json_t *v;
  size_t i;
  if (json_is_object (j))
    {
      json_object_foreach ((json_t *) j, key, v)
      if (!pjson_nul_only_in_marks (v, depth + 1))
        return false;
    }
  else if (json_is_array (j))
    {
      json_array_foreach (j, i, v)
      if (!pjson_nul_only_in_marks (v, depth + 1))
        return false;
    }
  return true;
}

json_t *
pjson_parse (const char *buf, size_t len, const char *name, polis_error **err)
{
  json_error_t jerr;
  size_t mlen = 0;
  cleanup_free char *marked = pjson_mark_big_uints (buf, len, &mlen);
  json_t *j = marked ? json_loadb (marked, mlen, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr)
                     : json_loadb (buf, len, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "%s: invalid JSON at line %d column %d: %s", name, jerr.line,
                 jerr.column, jerr.text);
      return NULL;
    }
  if (marked && !pjson_nul_only_in_marks (j, 0))
    {
      json_decref (j);
      error_set (err, ERROR_INVALID, EINVAL, "%s: invalid JSON: a string holds a NUL byte", name);
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
  if (json_is_string (v) && json_string_length (v) > sizeof PJSON_U64_PREFIX - 1
      && memcmp (json_string_value (v), PJSON_U64_PREFIX, sizeof PJSON_U64_PREFIX - 1) == 0)
    {
      /* A literal above INT64_MAX (see pjson_mark_big_uints). */
      const char *digits = json_string_value (v) + sizeof PJSON_U64_PREFIX - 1;
      char *end;
      errno = 0;
      unsigned long long u = strtoull (digits, &end, 10);
      if (errno || *end || u > max)
        return pjson_wrong_type (ctx, key, "an unsigned integer in range", err);
      *out = u;
      return 0;
    }
  if (!json_is_integer (v) || json_integer_value (v) < 0
      || (uint64_t) json_integer_value (v) > max)
    return pjson_wrong_type (ctx, key, "an unsigned integer in range", err);
  *out = (uint64_t) json_integer_value (v);
  return 0;
}

/* A present, non-null KEY of type TYPE in *OUT (borrowed); NULL when
   absent and not REQUIRED. */
static int
pjson_get_typed (const json_t *obj, const char *ctx, const char *key,
                 bool required, json_type type, const char *what, json_t **out,
                 polis_error **err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL || json_is_null (v))
    {
      if (required)
        return pjson_missing (ctx, key, err);
      *out = NULL;
      return 0;
    }
  if (json_typeof (v) != type)
    return pjson_wrong_type (ctx, key, what, err);
  *out = v;
  return 0;
}

int
pjson_get_object (const json_t *obj, const char *ctx, const char *key,
                  bool required, json_t **out, polis_error **err)
{
  return pjson_get_typed (obj, ctx, key, required, JSON_OBJECT, "an object", out, err);
}

int
pjson_get_array (const json_t *obj, const char *ctx, const char *key,
                 bool required, json_t **out, polis_error **err)
{
  return pjson_get_typed (obj, ctx, key, required, JSON_ARRAY, "an array", out, err);
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
