/* file.c - whole-file reads with a cap, and complete writes. */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "xalloc.h"

char *
file_read_fd (int fd, size_t max, size_t *len, polis_error **err)
{
  size_t cap = 4096, used = 0;
  cleanup_free char *buf = xmalloc (cap + 1);

  for (;;)
    {
      if (used == cap)
        {
          if (cap >= max + 1)
            {
              error_set (err, ERROR_INVALID, E2BIG,
                         "file larger than the limit of %zu bytes", max);
              return NULL;
            }
          cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
          buf = xrealloc (buf, cap + 1);
        }
      ssize_t r = read (fd, buf + used, cap - used);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          error_sys (err, "read");
          return NULL;
        }
      if (r == 0)
        break;
      used += (size_t) r;
      if (used > max)
        {
          error_set (err, ERROR_INVALID, E2BIG,
                     "file larger than the limit of %zu bytes", max);
          return NULL;
        }
    }
  buf[used] = '\0';
  if (len)
    *len = used;
  return steal_pointer (&buf);
}

char *
file_read_at (int dirfd, const char *path, size_t max, size_t *len,
              polis_error **err)
{
  cleanup_close int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      error_sys (err, "open `%s`", path);
      return NULL;
    }
  char *r = file_read_fd (fd, max, len, err);
  if (r == NULL)
    error_wrap (err, "read `%s`", path);
  return r;
}

int
file_write_all (int fd, const void *buf, size_t len, polis_error **err)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return error_sys (err, "write");
      p += w;
      len -= (size_t) w;
    }
  return 0;
}

int
file_write_string_at (int dirfd, const char *path, const char *str,
                      polis_error **err)
{
  cleanup_close int fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "open `%s`", path);
  size_t len = strlen (str);
  ssize_t w;
  do
    w = write (fd, str, len);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return error_sys (err, "write `%s` to `%s`", str, path);
  if ((size_t) w != len)
    return error_set (err, ERROR_INTERNAL, EIO, "short write to `%s`", path);
  return 0;
}

int
file_write_atomic_at (int dirfd, const char *name, const void *buf, size_t len,
                      mode_t mode, bool sync, polis_error **err)
{
  int ret;
  cleanup_free char *tmp = xasprintf (".%s.tmp.%d", name, (int) getpid ());
  cleanup_close int fd
      = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return error_sys (err, "create `%s`", tmp);
  ret = file_write_all (fd, buf, len, err);
  if (ret == 0 && sync && fsync (fd) < 0)
    ret = error_sys (err, "fsync `%s`", tmp);
  if (ret == 0 && renameat (dirfd, tmp, dirfd, name) < 0)
    ret = error_sys (err, "rename `%s` to `%s`", tmp, name);
  if (ret < 0)
    {
      unlinkat (dirfd, tmp, 0);
      return error_wrap (err, "write `%s`", name);
    }
  return 0;
}

int
file_write_atomic (const char *path, const void *buf, size_t len, mode_t mode,
                   polis_error **err)
{
  cleanup_free char *copy = xstrdup (path);
  char *slash = strrchr (copy, '/');
  const char *dir = ".", *name = copy;
  if (slash)
    {
      *slash = '\0';
      dir = slash == copy ? "/" : copy;
      name = slash + 1;
    }
  if (*name == '\0')
    return error_set (err, ERROR_INVALID, EISDIR, "`%s` names a directory", path);
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return error_sys (err, "open directory of `%s`", path);
  return file_write_atomic_at (dfd, name, buf, len, mode, false, err);
}

static int
file_remove_children (int dfd, dev_t dev, int depth, polis_error **err)
{
  if (depth > 256)
    return error_set (err, ERROR_INVALID, ELOOP, "directory tree too deep");
  int dup_fd = dup (dfd);
  if (dup_fd < 0)
    return error_sys (err, "dup");
  cleanup_closedir DIR *dir = fdopendir (dup_fd);
  if (dir == NULL)
    {
      close (dup_fd);
      return error_sys (err, "opendir");
    }
  struct dirent *de;
  while ((errno = 0, de = readdir (dir)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      struct stat st;
      if (fstatat (dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return error_sys (err, "stat `%s`", de->d_name);
        }
      if (S_ISDIR (st.st_mode))
        {
          if (st.st_dev != dev)
            return error_set (err, ERROR_CONFLICT, EBUSY,
                              "`%s` is a mount point", de->d_name);
          cleanup_close int child = openat (
              dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (child < 0)
            return error_sys (err, "open `%s`", de->d_name);
          if (file_remove_children (child, dev, depth + 1, err) < 0)
            return error_wrap (err, "%s", de->d_name);
          if (unlinkat (dfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            return error_sys (err, "rmdir `%s`", de->d_name);
        }
      else if (unlinkat (dfd, de->d_name, 0) < 0 && errno != ENOENT)
        return error_sys (err, "unlink `%s`", de->d_name);
    }
  if (errno != 0)
    return error_sys (err, "readdir");
  return 0;
}

int
file_remove_tree_at (int dirfd, const char *path, polis_error **err)
{
  struct stat st;
  if (fstatat (dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return error_sys (err, "stat `%s`", path);
    }
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dirfd, path, 0) < 0 && errno != ENOENT)
        return error_sys (err, "unlink `%s`", path);
      return 0;
    }
  cleanup_close int fd
      = openat (dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "open `%s`", path);
  if (file_remove_children (fd, st.st_dev, 0, err) < 0)
    return error_wrap (err, "remove `%s`", path);
  if (unlinkat (dirfd, path, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return error_sys (err, "rmdir `%s`", path);
  return 0;
}

int
file_mkdir_p (const char *path, mode_t mode, polis_error **err)
{
  cleanup_free char *p = xstrdup (path);
  for (char *s = p + 1; *s; s++)
    {
      if (*s != '/')
        continue;
      *s = '\0';
      if (mkdir (p, mode) < 0 && errno != EEXIST)
        return error_sys (err, "mkdir `%s`", p);
      *s = '/';
    }
  if (mkdir (p, mode) < 0 && errno != EEXIST)
    return error_sys (err, "mkdir `%s`", p);
  return 0;
}
