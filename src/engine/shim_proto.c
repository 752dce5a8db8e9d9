/* shim_proto.c - the polis-shim socket protocol, both ends. */
#include "shim_proto.h"

#include <errno.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"

void
shim_proto_stdcopy_header (uint8_t hdr[SHIM_PROTO_STDCOPY_HEADER],
                           shim_proto_stream stream, uint32_t len)
{
  hdr[0] = (uint8_t) stream;
  hdr[1] = hdr[2] = hdr[3] = 0;
  hdr[4] = (uint8_t) (len >> 24);
  hdr[5] = (uint8_t) (len >> 16);
  hdr[6] = (uint8_t) (len >> 8);
  hdr[7] = (uint8_t) len;
}

int
shim_proto_stdcopy_parse (const uint8_t hdr[SHIM_PROTO_STDCOPY_HEADER],
                          shim_proto_stream *stream, uint32_t *len,
                          polis_error **err)
{
  if (hdr[0] > SHIM_PROTO_SYSTEMERR || hdr[1] || hdr[2] || hdr[3])
    return error_set (err, ERROR_INVALID, EPROTO, "Unrecognized input header: %u", hdr[0]);
  *stream = (shim_proto_stream) hdr[0];
  *len = (uint32_t) hdr[4] << 24 | (uint32_t) hdr[5] << 16 | (uint32_t) hdr[6] << 8
         | (uint32_t) hdr[7];
  return 0;
}

/* J as one line ("\n" included), consuming J. */
static char *
shim_proto_line (json_t *j, size_t *len)
{
  char *s = json_dumps (j, JSON_COMPACT);
  json_decref (j);
  if (s == NULL)
    abort (); /* only allocation fails here */
  size_t n = strlen (s);
  char *out = xrealloc (s, n + 2);
  out[n] = '\n';
  out[n + 1] = '\0';
  *len = n + 1;
  return out;
}

static json_t *
shim_proto_object (json_t *fields)
{
  return fields ? fields : json_object ();
}

char *
shim_proto_request (const char *op, json_t *fields, size_t *len)
{
  json_t *j = shim_proto_object (fields);
  json_object_set_new (j, "op", json_string (op));
  return shim_proto_line (j, len);
}

json_t *
shim_proto_parse_request (const char *line, size_t len, const char **op,
                          polis_error **err)
{
  json_t *j = pjson_parse (line, len, "request", err);
  if (j == NULL)
    return NULL;
  if (!json_is_object (j))
    {
      json_decref (j);
      error_set (err, ERROR_INVALID, EINVAL, "request: expected an object");
      return NULL;
    }
  if (pjson_get_string (j, "request", "op", true, op, err) < 0)
    {
      json_decref (j);
      return NULL;
    }
  return j;
}

char *
shim_proto_reply_ok (json_t *fields, size_t *len)
{
  json_t *j = shim_proto_object (fields);
  json_object_set_new (j, "ok", json_true ());
  return shim_proto_line (j, len);
}

char *
shim_proto_reply_error (const polis_error *err, size_t *len)
{
  json_t *j = json_pack ("{s:b,s:s,s:i}", "ok", 0, "message",
                         err && err->msg ? err->msg : "internal error", "code",
                         error_http_status (err));
  return shim_proto_line (j, len);
}

polis_error_class
shim_proto_class_of (int code)
{
  switch (code)
    {
    case 404:
      return ERROR_NOT_FOUND;
    case 409:
      return ERROR_CONFLICT;
    case 400:
      return ERROR_INVALID;
    case 403:
      return ERROR_FORBIDDEN;
    case 503:
      return ERROR_UNAVAILABLE;
    default:
      return ERROR_INTERNAL;
    }
}

json_t *
shim_proto_parse_reply (const char *line, size_t len, polis_error **err)
{
  json_t *j = pjson_parse (line, len, "shim reply", err);
  if (j == NULL)
    return NULL;
  if (json_is_true (json_object_get (j, "ok")))
    return j;
  const char *msg = json_string_value (json_object_get (j, "message"));
  int code = (int) json_integer_value (json_object_get (j, "code"));
  error_set (err, shim_proto_class_of (code), 0, "%s", msg ? msg : "shim error");
  json_decref (j);
  return NULL;
}

char *
shim_proto_event (const char *action, json_t *fields, int64_t time_ns,
                  size_t *len)
{
  json_t *j = shim_proto_object (fields);
  json_object_set_new (j, "action", json_string (action));
  json_object_set_new (j, "time_nano", json_integer ((json_int_t) time_ns));
  return shim_proto_line (j, len);
}

char *
shim_proto_wait_result (int exit_code, const char *error, size_t *len)
{
  json_t *j = json_pack ("{s:i}", "exit_code", exit_code);
  json_object_set_new (j, "error",
                       error ? json_pack ("{s:s}", "Message", error) : json_null ());
  return shim_proto_line (j, len);
}

/* moby/term ToBytes. */
int
shim_proto_parse_detach_keys (const char *s,
                              uint8_t keys[SHIM_PROTO_DETACH_KEYS_MAX],
                              size_t *n, polis_error **err)
{
  *n = 0;
  const char *p = s;
  while (*p)
    {
      const char *end = strchrnul (p, ',');
      size_t len = (size_t) (end - p);
      uint8_t key;
      if (len == 1 && (unsigned char) *p >= 0x20 && (unsigned char) *p < 0x7f)
        key = (uint8_t) *p;
      else if (len == 6 && strncasecmp (p, "ctrl-", 5) == 0)
        {
          char c = p[5];
          if (c >= 'a' && c <= 'z')
            key = (uint8_t) (c - 'a' + 1);
          else if (c >= 'A' && c <= 'Z')
            key = (uint8_t) (c - 'A' + 1);
          else if (c == '@')
            key = 0;
          else if (c >= '[' && c <= '_')
            key = (uint8_t) (c - '[' + 27);
          else
            goto bad;
        }
      else
        goto bad;
      if (*n == SHIM_PROTO_DETACH_KEYS_MAX)
        goto bad;
      keys[(*n)++] = key;
      p = *end ? end + 1 : end;
    }
  if (*n > 0)
    return 0;
bad:
  return error_set (err, ERROR_INVALID, EINVAL, "Invalid detach keys (%s) provided", s);
}
