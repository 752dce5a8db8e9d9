/* devices.c - the container's /dev: default nodes, linux.devices, links. */
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/path.h"
#include "base/xalloc.h"

static const spec_device devices_default[] = {
  { .path = "/dev/null", .type = 'c', .major = 1, .minor = 3, .mode = 0666, .has_mode = true },
  { .path = "/dev/zero", .type = 'c', .major = 1, .minor = 5, .mode = 0666, .has_mode = true },
  { .path = "/dev/full", .type = 'c', .major = 1, .minor = 7, .mode = 0666, .has_mode = true },
  { .path = "/dev/random", .type = 'c', .major = 1, .minor = 8, .mode = 0666, .has_mode = true },
  { .path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9, .mode = 0666, .has_mode = true },
  { .path = "/dev/tty", .type = 'c', .major = 5, .minor = 0, .mode = 0666, .has_mode = true },
};

/* Open the parent directory of PATH inside ROOTFD (creating it) and return
   the last component in *NAME (pointing into *BUF, heap). */
static int
devices_open_parent (int rootfd, const char *path, char **buf,
                     const char **name, polis_error **err)
{
  *buf = path_clean (path);
  char *slash = strrchr (*buf, '/');
  if (slash == NULL || slash[1] == '\0' || strcmp (slash + 1, "..") == 0
      || strcmp (slash + 1, ".") == 0)
    return error_set (err, ERROR_INVALID, EINVAL, "invalid device path `%s`", path);
  *slash = '\0';
  *name = slash + 1;
  return path_open_in_root (rootfd, **buf ? *buf : "/", O_PATH | O_DIRECTORY,
                            PATH_MKDIR, 0755, err);
}

static int
devices_create (const spec_device *d, int rootfd, bool in_userns,
                polis_error **err)
{
  cleanup_free char *buf = NULL;
  const char *name = NULL;
  cleanup_close int dirfd = devices_open_parent (rootfd, d->path, &buf, &name, err);
  if (dirfd < 0)
    return -1;
  /* O_PATH dirfds cannot be used by mknodat; reopen it. */
  cleanup_close int wdir = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (wdir < 0)
    return error_sys (err, "open parent of `%s`", d->path);

  struct stat st;
  if (fstatat (wdir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (S_ISDIR (st.st_mode))
        return error_set (err, ERROR_INVALID, EISDIR,
                          "device path `%s` is a directory", d->path);
      if (unlinkat (wdir, name, 0) < 0)
        return error_sys (err, "replace `%s`", d->path);
    }

  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  mode_t perm = d->has_mode ? (d->mode & 07777) : 0666;
  if (!in_userns)
    {
      dev_t dev = makedev ((unsigned) d->major, (unsigned) d->minor);
      if (mknodat (wdir, name, type | perm, d->type == 'p' ? 0 : dev) < 0)
        return error_sys (err, "mknod `%s`", d->path);
      if (fchmodat (wdir, name, perm, 0) < 0)
        return error_sys (err, "chmod `%s`", d->path);
      if (fchownat (wdir, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
        return error_sys (err, "chown `%s`", d->path);
      return 0;
    }
  /* In a user namespace: bind the host's node over an empty file. */
  cleanup_close int f = openat (wdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (f < 0)
    return error_sys (err, "create `%s`", d->path);
  cleanup_close int target = openat (wdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (target < 0)
    return error_sys (err, "open `%s`", d->path);
  char t[PATH_PROC_FD_MAX];
  if (mount (d->path, path_proc_fd (target, t), NULL, MS_BIND, NULL) < 0)
    return error_sys (err, "bind host device `%s`", d->path);
  return 0;
}

static int
devices_symlink (int rootfd, const char *target, const char *path,
                 polis_error **err)
{
  cleanup_free char *buf = NULL;
  const char *name = NULL;
  cleanup_close int dirfd = devices_open_parent (rootfd, path, &buf, &name, err);
  if (dirfd < 0)
    return -1;
  cleanup_close int wdir = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (wdir < 0)
    return error_sys (err, "open parent of `%s`", path);
  if (symlinkat (target, wdir, name) == 0)
    return 0;
  if (errno != EEXIST)
    return error_sys (err, "symlink `%s`", path);
  struct stat st;
  if (fstatat (wdir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
    return 0; /* leave a real directory alone (e.g. /dev/fd bind) */
  if (unlinkat (wdir, name, 0) < 0 || symlinkat (target, wdir, name) < 0)
    return error_sys (err, "symlink `%s`", path);
  return 0;
}

int
devices_setup (const spec *s, int rootfd, bool in_userns, polis_error **err)
{
  mode_t old = umask (0);
  int ret = 0;
  for (size_t i = 0; ret == 0 && i < sizeof devices_default / sizeof *devices_default; i++)
    {
      bool overridden = false;
      for (size_t k = 0; k < s->n_devices; k++)
        if (strcmp (s->devices[k].path, devices_default[i].path) == 0)
          overridden = true;
      if (!overridden)
        ret = devices_create (&devices_default[i], rootfd, in_userns, err);
    }
  for (size_t k = 0; ret == 0 && k < s->n_devices; k++)
    ret = devices_create (&s->devices[k], rootfd, in_userns, err);
  umask (old);
  if (ret < 0)
    return -1;

  static const char *const links[][2] = {
    { "/proc/self/fd", "/dev/fd" },
    { "/proc/self/fd/0", "/dev/stdin" },
    { "/proc/self/fd/1", "/dev/stdout" },
    { "/proc/self/fd/2", "/dev/stderr" },
    { "pts/ptmx", "/dev/ptmx" },
  };
  for (size_t i = 0; i < sizeof links / sizeof *links; i++)
    if (devices_symlink (rootfd, links[i][0], links[i][1], err) < 0)
      return -1;
  if (access ("/proc/kcore", F_OK) == 0
      && devices_symlink (rootfd, "/proc/kcore", "/dev/core", err) < 0)
    return -1;
  return 0;
}
