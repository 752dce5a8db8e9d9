/* tar.h - tar archives of container files, both ways (`docker cp`,
 * `docker export`).
 *
 * The writer walks a tree by file descriptors, never following a symlink,
 * and writes POSIX ustar headers with PAX extended headers for what ustar
 * cannot hold (long names and link targets, sizes >= 8 GiB, big ids).
 * The reader accepts what Go's archive/tar and GNU tar write: ustar, PAX
 * ('x', 'g') and GNU long names ('L', 'K').
 *
 * Extraction is into a container's file system, which is hostile: every
 * entry name is cleaned (no "..", no absolute paths), its parent directory
 * is opened inside the destination one component at a time without
 * following symlinks, and the entry is created relative to that fd with
 * O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, so nothing the container put there can
 * redirect a write to the host.  Every size from the archive is capped.
 */
#ifndef POLIS_ENGINE_TAR_H
#define POLIS_ENGINE_TAR_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

#define TAR_NAME_MAX 4096         /* an entry's name or link target */
#define TAR_PAX_MAX (1u << 20)    /* one PAX extended header */
#define TAR_ENTRIES_MAX 10000000  /* entries in one archive */

/* Write the file or tree NAME (relative to DIRFD, not followed if it is a
   symlink) to OUT_FD as a tar stream whose top entry is called ARCNAME.
   Ends the
   archive (two zero blocks).  ARCNAME "." gives "./" and "./x" entries
   (Docker's rebase of "dir/." copies), "" gives "x" (an export).  Stops at other mounts' boundaries unless
   CROSS_MOUNTS. */
int tar_write_tree (int dirfd, const char *name, const char *arcname,
                    bool cross_mounts, int out_fd, polis_error **err);

typedef struct
{
  bool keep_owner;          /* copyUIDGID: the archive's uid/gid, else 0:0 */
  bool no_overwrite_dir_non_dir; /* a dir never replaces a non-dir, nor
                                    the reverse */
} tar_extract_opts;

/* Extract the archive read from IN_FD into DEST, a directory inside the
   root ROOTFD ("/tmp"): entries' parents are resolved inside the root
   (symlinks there stay there), missing ones created. */
int tar_extract (int in_fd, int rootfd, const char *dest,
                 const tar_extract_opts *o, polis_error **err);

#endif
