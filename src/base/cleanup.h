/* cleanup.h - scope-bound ownership for locals (STYLE.md rules 5-7).
 *
 * Declare every owning local with one of these attributes; ownership leaves a
 * function visibly through steal_pointer() / move_fd().  The cleanup helpers
 * are NULL-safe, idempotent and preserve errno.
 */
#ifndef POLIS_BASE_CLEANUP_H
#define POLIS_BASE_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void
cleanup_free_fn (void *p)
{
  void **pp = (void **) p;
  int saved = errno;
  free (*pp);
  *pp = NULL;
  errno = saved;
}

static inline void
cleanup_close_fn (int *fd)
{
  int saved = errno;
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
  errno = saved;
}

static inline void
cleanup_fclose_fn (FILE **f)
{
  int saved = errno;
  if (*f)
    fclose (*f);
  *f = NULL;
  errno = saved;
}

static inline void
cleanup_closedir_fn (DIR **d)
{
  int saved = errno;
  if (*d)
    closedir (*d);
  *d = NULL;
  errno = saved;
}

/* A NULL-terminated array of heap strings, each freed, then the array. */
static inline void
cleanup_strv_fn (char ***v)
{
  int saved = errno;
  if (*v)
    {
      for (char **p = *v; *p; p++)
        free (*p);
      free (*v);
    }
  *v = NULL;
  errno = saved;
}

#define cleanup_free __attribute__ ((cleanup (cleanup_free_fn)))
#define cleanup_close __attribute__ ((cleanup (cleanup_close_fn)))
#define cleanup_fclose __attribute__ ((cleanup (cleanup_fclose_fn)))
#define cleanup_closedir __attribute__ ((cleanup (cleanup_closedir_fn)))
#define cleanup_strv __attribute__ ((cleanup (cleanup_strv_fn)))

/* Take the pointer out of an owning local, leaving NULL behind. */
#define steal_pointer(pp)                                                      \
  ({                                                                           \
    __typeof__ (*(pp)) steal_tmp_ = *(pp);                                     \
    *(pp) = NULL;                                                              \
    steal_tmp_;                                                                \
  })

/* Take the fd out of an owning local, leaving -1 behind. */
static inline int
move_fd_fn (int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}
#define move_fd(fd) move_fd_fn (&(fd))

#endif
