/* rootfs_cgroup.c - the "cgroup" mount of a container (/sys/fs/cgroup).
 *
 * On a cgroup v2 host it is a cgroup2 mount (inside a cgroup namespace it
 * shows the container's own subtree).  On a v1 or hybrid host it is a tmpfs
 * holding one directory per hierarchy: a fresh mount of that hierarchy when
 * the container has a cgroup namespace, otherwise a bind mount of the
 * container's own cgroup in it, as runc does.
 */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/path.h"
#include "base/xalloc.h"
#include "runtime/cgroup.h"

#define ROOTFS_CGROUP_MAX_FILE (1u << 20)

static int
rootfs_cgroup_v1 (const spec_mount *m, int rootfd, int destfd, bool cgroupns,
                  polis_error **err)
{
  char target[PATH_PROC_FD_MAX];
  unsigned long flags = m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  cgroup_mount *mounts = NULL;
  size_t n = 0;
  cleanup_close int tmpfd = -1;
  cleanup_free char *selfcg = file_read_at (AT_FDCWD, "/proc/self/cgroup",
                                            ROOTFS_CGROUP_MAX_FILE, NULL, err);
  if (selfcg == NULL || cgroup_v1_mounts (&mounts, &n, err) < 0)
    return -1;

  int ret = -1;
  if (mount ("tmpfs", path_proc_fd (destfd, target), "tmpfs", flags, "mode=755") < 0)
    {
      error_sys (err, "mount tmpfs for cgroups");
      goto out;
    }
  tmpfd = path_open_in_root (rootfd, m->destination, O_RDONLY | O_DIRECTORY,
                             PATH_OPEN, 0, err);
  if (tmpfd < 0)
    goto out;

  for (size_t i = 0; i < n; i++)
    {
      const char *ctrl = mounts[i].controllers;
      const char *base = strrchr (mounts[i].mount, '/');
      base = base ? base + 1 : mounts[i].mount;
      if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
        continue;
      if (mkdirat (tmpfd, base, 0755) < 0 && errno != EEXIST)
        {
          error_sys (err, "mkdir cgroup `%s`", base);
          goto out;
        }
      cleanup_close int sub = openat (tmpfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        {
          error_sys (err, "open cgroup `%s`", base);
          goto out;
        }
      path_proc_fd (sub, target);
      int r;
      if (cgroupns)
        r = mount ("cgroup", target, "cgroup", flags, ctrl);
      else
        {
          /* Without a cgroup namespace: the container's own cgroup only. */
          cleanup_free char *own = cgroup_own_path (selfcg, ctrl);
          cleanup_free char *src = path_join (mounts[i].mount, own);
          r = mount (src, target, NULL, MS_BIND | MS_REC, NULL);
        }
      if (r < 0)
        {
          error_sys (err, "mount cgroup `%s`", ctrl);
          goto out;
        }
      if (m->flags & MS_RDONLY)
        {
          cleanup_close int nfd = openat (tmpfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (nfd < 0 || rootfs_remount (nfd, flags | MS_RDONLY, err) < 0)
            {
              error_wrap (err, "make cgroup `%s` read-only", ctrl);
              goto out;
            }
        }
      /* "cpu,cpuacct" also answers to "cpu" and "cpuacct". */
      if (strchr (base, ','))
        {
          cleanup_free char *names = xstrdup (base);
          char *s2 = NULL;
          for (char *nm = strtok_r (names, ",", &s2); nm; nm = strtok_r (NULL, ",", &s2))
            if (symlinkat (base, tmpfd, nm) < 0 && errno != EEXIST)
              {
                error_sys (err, "symlink cgroup `%s`", nm);
                goto out;
              }
        }
    }

  if (m->flags & MS_RDONLY)
    {
      cleanup_close int nfd = path_open_in_root (rootfd, m->destination, O_PATH, PATH_OPEN, 0, err);
      if (nfd < 0 || rootfs_remount (nfd, flags | MS_RDONLY, err) < 0)
        {
          error_wrap (err, "make the cgroup tmpfs read-only");
          goto out;
        }
    }
  ret = 0;
out:
  cgroup_mounts_free (mounts, n);
  return ret;
}

int
rootfs_cgroup_mount (const spec_mount *m, int rootfd, int destfd,
                     bool cgroupns, polis_error **err)
{
  struct statfs sfs;
  char target[PATH_PROC_FD_MAX];
  if (statfs ("/sys/fs/cgroup", &sfs) < 0)
    return error_sys (err, "statfs /sys/fs/cgroup");
  if (sfs.f_type != CGROUP2_SUPER_MAGIC)
    return rootfs_cgroup_v1 (m, rootfd, destfd, cgroupns, err);

  unsigned long flags = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (mount ("cgroup2", path_proc_fd (destfd, target), "cgroup2", flags, NULL) == 0)
    return 0;
  if (errno != EPERM && errno != EBUSY)
    return error_sys (err, "mount cgroup2");
  /* Not allowed here (a user namespace without a cgroup namespace): bind
     the container's own cgroup instead. */
  cleanup_free char *selfcg = file_read_at (AT_FDCWD, "/proc/self/cgroup",
                                            ROOTFS_CGROUP_MAX_FILE, NULL, err);
  if (selfcg == NULL)
    return -1;
  cleanup_free char *own = cgroup_own_path (selfcg, "");
  cleanup_free char *src = path_join (CGROUP_ROOT, own);
  if (mount (src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return error_sys (err, "bind cgroup `%s`", src);
  cleanup_close int nfd = path_open_in_root (rootfd, m->destination, O_PATH, PATH_OPEN, 0, err);
  if (nfd < 0 || rootfs_remount (nfd, flags, err) < 0)
    return error_wrap (err, "remount cgroup");
  return 0;
}
