/* error.c - error values that carry a message up to the user. */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Longest message accepted from a child process over a pipe. */
#define ERROR_DECODE_MAX_MSG 4096

static char *
error_vformat (const char *fmt, va_list ap)
{
  char *out = NULL;
  if (vasprintf (&out, fmt, ap) < 0)
    abort ();
  return out;
}

static void
error_replace (polis_error **err, polis_error_class cls, int code, char *msg)
{
  if (err == NULL)
    {
      free (msg);
      return;
    }
  error_free (err);
  polis_error *e = xzalloc (sizeof *e);
  e->cls = cls;
  e->code = code;
  e->msg = msg;
  *err = e;
}

polis_error_class
error_class_from_errno (int code)
{
  switch (code)
    {
    case ENOENT:
    case ESRCH:
    case ENODEV:
    case ENXIO:
      return ERROR_NOT_FOUND;
    case EEXIST:
    case EBUSY:
    case ENOTEMPTY:
      return ERROR_CONFLICT;
    case EINVAL:
    case E2BIG:
    case ENAMETOOLONG:
    case ELOOP:
    case ENOTDIR:
    case EISDIR:
    case ERANGE:
    case EBADMSG:
    case EXDEV:
      return ERROR_INVALID;
    case EPERM:
    case EACCES:
    case EROFS:
      return ERROR_FORBIDDEN;
    case EAGAIN:
    case ECONNREFUSED:
    case ETIMEDOUT:
    case ECONNRESET:
    case EHOSTUNREACH:
      return ERROR_UNAVAILABLE;
    default:
      return ERROR_INTERNAL;
    }
}

int
error_set (polis_error **err, polis_error_class cls, int code, const char *fmt,
           ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *msg = error_vformat (fmt, ap);
  va_end (ap);
  error_replace (err, cls, code, msg);
  return -1;
}

static int
error_sys_v (polis_error **err, int code, const char *fmt, va_list ap)
{
  char *ctx = error_vformat (fmt, ap);
  char *msg = xasprintf ("%s: %s", ctx, strerror (code));
  free (ctx);
  error_replace (err, error_class_from_errno (code), code, msg);
  return -1;
}

int
error_sys (polis_error **err, const char *fmt, ...)
{
  int code = errno;
  va_list ap;
  va_start (ap, fmt);
  error_sys_v (err, code, fmt, ap);
  va_end (ap);
  errno = code;
  return -1;
}

int
error_sys_code (polis_error **err, int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  error_sys_v (err, code, fmt, ap);
  va_end (ap);
  return -1;
}

int
error_wrap (polis_error **err, const char *fmt, ...)
{
  if (err == NULL)
    return -1;
  va_list ap;
  va_start (ap, fmt);
  char *ctx = error_vformat (fmt, ap);
  va_end (ap);
  if (*err == NULL)
    {
      error_replace (err, ERROR_INTERNAL, 0, ctx);
      return -1;
    }
  char *msg = xasprintf ("%s: %s", ctx, (*err)->msg);
  free (ctx);
  free ((*err)->msg);
  (*err)->msg = msg;
  return -1;
}

void
error_free (polis_error **err)
{
  if (err == NULL || *err == NULL)
    return;
  int saved = errno;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
  errno = saved;
}

int
error_http_status (const polis_error *err)
{
  if (err == NULL)
    return 200;
  switch (err->cls)
    {
    case ERROR_NOT_FOUND:
      return 404;
    case ERROR_CONFLICT:
      return 409;
    case ERROR_INVALID:
      return 400;
    case ERROR_FORBIDDEN:
      return 403;
    case ERROR_UNAVAILABLE:
      return 503;
    case ERROR_INTERNAL:
    default:
      return 500;
    }
}

char *
error_encode (const polis_error *err)
{
  if (err == NULL)
    return xasprintf ("0 %d unknown error", ERROR_INTERNAL);
  return xasprintf ("%d %d %s", err->code, (int) err->cls,
                    err->msg ? err->msg : "");
}

int
error_decode (const char *buf, polis_error **err)
{
  int code = 0, cls = 0, consumed = 0;
  if (buf == NULL || sscanf (buf, "%d %d %n", &code, &cls, &consumed) < 2
      || cls < ERROR_INTERNAL || cls > ERROR_UNAVAILABLE)
    return error_set (err, ERROR_INTERNAL, 0, "malformed error report");
  const char *msg = buf + consumed;
  size_t len = strnlen (msg, ERROR_DECODE_MAX_MSG);
  error_replace (err, (polis_error_class) cls, code, xstrndup (msg, len));
  return -1;
}
