/* error.h - the one error convention of Polis (STYLE.md rules 1-4).
 *
 * A fallible function returns int (< 0 on failure) or a pointer (NULL on
 * failure) and takes `polis_error **err` last.  On failure it fills *err with
 * an errno-style code, a class and a heap message; on success *err is left
 * untouched.  Callers add context on the way up with error_wrap(), so a
 * message reads "create container: mount /proc: Permission denied".
 */
#ifndef POLIS_BASE_ERROR_H
#define POLIS_BASE_ERROR_H

#include <stdarg.h>

typedef enum
{
  ERROR_INTERNAL = 0,
  ERROR_NOT_FOUND,
  ERROR_CONFLICT,
  ERROR_INVALID,
  ERROR_FORBIDDEN,
  ERROR_UNAVAILABLE,
} polis_error_class;

typedef struct polis_error
{
  int code;              /* errno value, 0 when none applies */
  polis_error_class cls; /* what kind of failure, for HTTP and exit codes */
  char *msg;             /* heap, lowercase, no final period */
} polis_error;

/* Fill *err with a formatted message of class CLS and errno CODE (0 = none).
   Returns -1 so that callers can `return error_set (...)`.  If *err is
   already set the old error is replaced. */
int error_set (polis_error **err, polis_error_class cls, int code,
               const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

/* Like error_set, but for a failed system call: takes errno, derives the
   class from it and appends ": <strerror>".  Returns -1. */
int error_sys (polis_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Same as error_sys with an explicit errno value (for APIs that return it). */
int error_sys_code (polis_error **err, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Prefix the message of an existing *err with "<context>: ".  Returns -1.
   A NULL *err is turned into an internal error carrying only the context. */
int error_wrap (polis_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Free *err and set it to NULL; NULL-safe. */
void error_free (polis_error **err);

/* The class that an errno value belongs to. */
polis_error_class error_class_from_errno (int code);

/* The HTTP status for an error: the single place this mapping lives. */
int error_http_status (const polis_error *err);

/* Encode an error as bytes for a pipe to a parent process, and back.
   Used by forked children, which cannot return an error value.  The encoded
   form is "<code> <class> <message>"; decode caps the message. */
char *error_encode (const polis_error *err);
int error_decode (const char *buf, polis_error **err);

#define cleanup_error __attribute__ ((cleanup (error_free)))

#endif
