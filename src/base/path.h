/* path.h - resolve paths inside a root directory, never outside it.
 *
 * A container's rootfs is hostile: any component of a mount destination,
 * device path or masked path may be a symlink pointing at the host's /, or
 * a "..".  These functions resolve a path as if ROOTFD were "/": absolute
 * symlinks restart at ROOTFD and ".." stops at it.  With openat2() and
 * RESOLVE_IN_ROOT the kernel does the walk; without it (old kernels, or a
 * seccomp filter answering ENOSYS) a component-by-component walk with
 * O_NOFOLLOW gives the same answer.
 */
#ifndef POLIS_BASE_PATH_H
#define POLIS_BASE_PATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

typedef enum
{
  PATH_OPEN = 0,  /* the path must exist */
  PATH_MKDIR,     /* create missing directories, the last one included */
  PATH_MKFILE,    /* create missing parents, and the last one as a file */
} path_create_mode;

/* Open PATH inside ROOTFD with FLAGS (e.g. O_PATH, O_RDONLY|O_DIRECTORY).
   With PATH_MKDIR / PATH_MKFILE, missing components are created with MODE
   (files with 0644 & MODE).  Returns the new fd (O_CLOEXEC), or -1 with *err
   set.  The fd refers to an object inside ROOTFD even if PATH holds symlinks
   or ".." that point elsewhere. */
int path_open_in_root (int rootfd, const char *path, int flags,
                       path_create_mode create, mode_t mode,
                       polis_error **err);

/* Make path_open_in_root() skip openat2() (for tests of the fallback walk). */
void path_force_fallback (bool on);

/* Lexically clean PATH: collapse "//", "." and "..", keep a leading "/".
   Never touches the file system.  Caller frees. */
char *path_clean (const char *path);

/* Join A and B with exactly one "/" between them.  Caller frees. */
char *path_join (const char *a, const char *b);

/* The path that /proc/self/fd/FD names, for mounting on an fd.  Writes into
   BUF, which must hold at least PATH_PROC_FD_MAX bytes. */
#define PATH_PROC_FD_MAX 32
const char *path_proc_fd (int fd, char buf[PATH_PROC_FD_MAX]);

#endif
