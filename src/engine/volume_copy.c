/* volume_copy.c - copy-up of an image directory into a new volume, and the
 * size of a volume.  Every name is opened relative to its directory's fd
 * with O_NOFOLLOW: a symlink is copied as a symlink, never followed, so the
 * image cannot point the copy at a host file. */
#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/xalloc.h"

/* Deeper trees are refused rather than blowing the stack. */
#define COPY_DEPTH_MAX 128

static int
copy_data (int in, int out, off_t size, const char *name, polis_error **err)
{
  off_t left = size;
  while (left > 0)
    {
      ssize_t n = copy_file_range (in, NULL, out, NULL, (size_t) left, 0);
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL
                    || errno == EOPNOTSUPP))
        n = sendfile (out, in, NULL, (size_t) left);
      if (n < 0)
        return error_sys (err, "copy `%s`", name);
      if (n == 0)
        break; /* the file shrank */
      left -= n;
    }
  return 0;
}

/* Owner, then mode (chown clears set-id bits), then times. */
static int
finish (int fd, const struct stat *st, const char *name, polis_error **err)
{
  if (fchown (fd, st->st_uid, st->st_gid) < 0)
    return error_sys (err, "chown `%s`", name);
  if (fchmod (fd, st->st_mode & 07777) < 0)
    return error_sys (err, "chmod `%s`", name);
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  if (futimens (fd, ts) < 0)
    return error_sys (err, "set times of `%s`", name);
  return 0;
}

static int copy_dir (int sfd, int dfd, int depth, polis_error **err);

static int
copy_entry (int sfd, int dfd, const char *name, int depth, polis_error **err)
{
  struct stat st;
  if (fstatat (sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return error_sys (err, "stat `%s`", name);
  switch (st.st_mode & S_IFMT)
    {
    case S_IFDIR:
      {
        if (mkdirat (dfd, name, 0700) < 0)
          return error_sys (err, "mkdir `%s`", name);
        cleanup_close int s = openat (sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        cleanup_close int d = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
          return error_sys (err, "open `%s`", name);
        if (copy_dir (s, d, depth + 1, err) < 0)
          return error_wrap (err, "%s", name);
        return finish (d, &st, name, err);
      }
    case S_IFREG:
      {
        cleanup_close int s = openat (sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0)
          return error_sys (err, "open `%s`", name);
        cleanup_close int d = openat (dfd, name,
                                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                      0600);
        if (d < 0)
          return error_sys (err, "create `%s`", name);
        if (copy_data (s, d, st.st_size, name, err) < 0)
          return -1;
        return finish (d, &st, name, err);
      }
    case S_IFLNK:
      {
        if (st.st_size <= 0 || st.st_size > 4095)
          return error_set (err, ERROR_INVALID, ENAMETOOLONG,
                            "symlink `%s`: bad target length", name);
        char target[4096];
        ssize_t n = readlinkat (sfd, name, target, sizeof target - 1);
        if (n < 0)
          return error_sys (err, "readlink `%s`", name);
        target[n] = '\0';
        if (symlinkat (target, dfd, name) < 0)
          return error_sys (err, "symlink `%s`", name);
        if (fchownat (dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
          return error_sys (err, "chown `%s`", name);
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        utimensat (dfd, name, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
      }
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
      if (mknodat (dfd, name, st.st_mode, st.st_rdev) < 0)
        return error_sys (err, "mknod `%s`", name);
      if (fchownat (dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0
          || fchmodat (dfd, name, st.st_mode & 07777, 0) < 0)
        return error_sys (err, "chown `%s`", name);
      return 0;
    default:
      return 0;
    }
}

static int
copy_dir (int sfd, int dfd, int depth, polis_error **err)
{
  if (depth > COPY_DEPTH_MAX)
    return error_set (err, ERROR_INVALID, ELOOP,
                      "directories nested deeper than %d", COPY_DEPTH_MAX);
  int dup_fd = dup (sfd);
  if (dup_fd < 0)
    return error_sys (err, "dup");
  cleanup_closedir DIR *d = fdopendir (dup_fd);
  if (d == NULL)
    {
      close (dup_fd);
      return error_sys (err, "read directory");
    }
  struct dirent *de;
  errno = 0;
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (copy_entry (sfd, dfd, de->d_name, depth, err) < 0)
        return -1;
      errno = 0;
    }
  if (errno)
    return error_sys (err, "read directory");
  return 0;
}

/* Remove what a failed copy left, so that the next start copies again
   (the volume counts as empty). */
static void
empty_dir (int fd)
{
  int dup_fd = dup (fd);
  if (dup_fd < 0)
    return;
  cleanup_closedir DIR *d = fdopendir (dup_fd);
  if (d == NULL)
    {
      close (dup_fd);
      return;
    }
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      polis_error *e = NULL;
      if (file_remove_tree_at (fd, de->d_name, &e) < 0)
        error_free (&e);
    }
}

int
volume_copy_tree (int src_fd, int dst_fd, polis_error **err)
{
  struct stat st;
  if (fstat (src_fd, &st) < 0)
    return error_sys (err, "stat");
  if (copy_dir (src_fd, dst_fd, 0, err) < 0)
    {
      empty_dir (dst_fd);
      return -1;
    }
  /* Docker: the volume's root takes the owner and mode of the image's
     directory. */
  if (fchown (dst_fd, st.st_uid, st.st_gid) < 0 || fchmod (dst_fd, st.st_mode & 07777) < 0)
    return error_sys (err, "chown the volume");
  return 0;
}

static int
tree_size (int fd, dev_t dev, int depth, long long *size)
{
  if (depth > COPY_DEPTH_MAX)
    return 0;
  int dup_fd = dup (fd);
  if (dup_fd < 0)
    return -1;
  cleanup_closedir DIR *d = fdopendir (dup_fd);
  if (d == NULL)
    {
      close (dup_fd);
      return -1;
    }
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      struct stat st;
      if (fstatat (fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
        continue;
      if (S_ISREG (st.st_mode))
        *size += st.st_size;
      else if (S_ISDIR (st.st_mode))
        {
          cleanup_close int sub = openat (fd, de->d_name,
                                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0)
            tree_size (sub, dev, depth + 1, size);
        }
    }
  return 0;
}

int
volume_tree_size (const char *path, long long *size, polis_error **err)
{
  *size = 0;
  cleanup_close int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    return error_sys (err, "open `%s`", path);
  if (tree_size (fd, st.st_dev, 0, size) < 0)
    return error_sys (err, "read `%s`", path);
  return 0;
}
