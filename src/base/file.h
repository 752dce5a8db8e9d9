/* file.h - whole-file reads with a cap, and complete writes.
 *
 * Every read of a file that comes from outside takes an explicit maximum so
 * that a hostile config.json or a huge /proc entry cannot exhaust memory.
 */
#ifndef POLIS_BASE_FILE_H
#define POLIS_BASE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Read all of PATH (relative to DIRFD, or AT_FDCWD) into a NUL-terminated heap
   buffer, failing with ERROR_INVALID/E2BIG if it is larger than MAX bytes.
   *LEN (if not NULL) gets the length.  Caller frees.  NULL on error. */
char *file_read_at (int dirfd, const char *path, size_t max, size_t *len,
                    polis_error **err);

/* Read all of FD from its current offset, same cap and ownership rules. */
char *file_read_fd (int fd, size_t max, size_t *len, polis_error **err);

/* Write all LEN bytes of BUF to FD, retrying on EINTR and short writes. */
int file_write_all (int fd, const void *buf, size_t len, polis_error **err);

/* Open PATH relative to DIRFD for writing (no create, no truncate - the
   shape of /proc and cgroup files) and write STR to it. */
int file_write_string_at (int dirfd, const char *path, const char *str,
                          polis_error **err);

/* Replace NAME in DIRFD with BUF: write a temporary file beside it, optionally
   fsync it, then rename it over NAME, so that readers see the old or the new
   content, never a partial one. */
int file_write_atomic_at (int dirfd, const char *name, const void *buf,
                          size_t len, mode_t mode, bool sync,
                          polis_error **err);

/* file_write_atomic_at() for a PATH given whole (directory + name). */
int file_write_atomic (const char *path, const void *buf, size_t len,
                       mode_t mode, polis_error **err);

/* Remove PATH (relative to DIRFD) and everything below it, not following
   symlinks and not crossing into other mounts.  A missing PATH is success. */
int file_remove_tree_at (int dirfd, const char *path, polis_error **err);

/* mkdir -p PATH with MODE for each created level; existing dirs are fine. */
int file_mkdir_p (const char *path, mode_t mode, polis_error **err);

#endif
