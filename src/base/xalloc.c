/* xalloc.c - allocation that aborts on failure. */
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void __attribute__ ((noreturn))
xalloc_die (void)
{
  static const char msg[] = "polis: out of memory\n";
  ssize_t r = write (2, msg, sizeof msg - 1);
  (void) r;
  abort ();
}

void *
xmalloc (size_t size)
{
  void *p = malloc (size ? size : 1);
  if (p == NULL)
    xalloc_die ();
  return p;
}

void *
xzalloc (size_t size)
{
  void *p = calloc (1, size ? size : 1);
  if (p == NULL)
    xalloc_die ();
  return p;
}

void *
xrealloc (void *ptr, size_t size)
{
  void *p = realloc (ptr, size ? size : 1);
  if (p == NULL)
    xalloc_die ();
  return p;
}

void *
xreallocarray (void *ptr, size_t nmemb, size_t size)
{
  size_t total;
  if (__builtin_mul_overflow (nmemb, size, &total))
    xalloc_die ();
  return xrealloc (ptr, total);
}

char *
xstrdup (const char *s)
{
  char *p = strdup (s ? s : "");
  if (p == NULL)
    xalloc_die ();
  return p;
}

char *
xstrndup (const char *s, size_t n)
{
  char *p = strndup (s, n);
  if (p == NULL)
    xalloc_die ();
  return p;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *out = NULL;
  va_start (ap, fmt);
  int r = vasprintf (&out, fmt, ap);
  va_end (ap);
  if (r < 0)
    xalloc_die ();
  return out;
}
