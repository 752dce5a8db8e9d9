/* xalloc.h - allocation that aborts on failure (STYLE.md rule 8).
 *
 * Polis treats out-of-memory as fatal: the daemon is supervised and
 * containers outlive it.  Buffers filled from outside still need named caps.
 */
#ifndef POLIS_BASE_XALLOC_H
#define POLIS_BASE_XALLOC_H

#include <stddef.h>

void *xmalloc (size_t size);
void *xzalloc (size_t size);
void *xrealloc (void *ptr, size_t size);
/* Grow an array of NMEMB elements of SIZE bytes, checking for overflow. */
void *xreallocarray (void *ptr, size_t nmemb, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
/* asprintf that aborts instead of failing. */
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
