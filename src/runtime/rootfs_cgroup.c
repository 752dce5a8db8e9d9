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

#define ROOTFS_CGROUP_MAX_FILE (1u << 20)

/* The path of this process's cgroup in the v1 hierarchy whose
   controller list is CONTROLLERS, from /proc/self/cgroup. */
static char *
rootfs_cgroup_own_path (const char *selfcg, const char *controllers)
{
  const char *line = selfcg;
  while (line && *line)
    {
      const char *end = strchrnul (line, '\n');
      const char *c1 = memchr (line, ':', (size_t) (end - line));
      const char *c2 = c1 ? memchr (c1 + 1, ':', (size_t) (end - c1 - 1)) : NULL;
      if (c2 && (size_t) (c2 - c1 - 1) == strlen (controllers)
          && strncmp (c1 + 1, controllers, strlen (controllers)) == 0)
        return xstrndup (c2 + 1, (size_t) (end - c2 - 1));
      line = *end ? end + 1 : NULL;
    }
  return xstrdup ("/");
}

static int
rootfs_cgroup_v1 (const spec_mount *m, int rootfd, int destfd, bool cgroupns,
                  polis_error **err)
{
  char target[PATH_PROC_FD_MAX];
  unsigned long flags = m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  cleanup_free char *mountinfo = file_read_at (AT_FDCWD, "/proc/self/mountinfo",
                                               ROOTFS_CGROUP_MAX_FILE, NULL, err);
  cleanup_free char *selfcg = file_read_at (AT_FDCWD, "/proc/self/cgroup",
                                            ROOTFS_CGROUP_MAX_FILE, NULL, err);
  if (mountinfo == NULL || selfcg == NULL)
    return -1;

  if (mount ("tmpfs", path_proc_fd (destfd, target), "tmpfs", flags, "mode=755") < 0)
    return error_sys (err, "mount tmpfs for cgroups");
  cleanup_close int tmpfd = path_open_in_root (rootfd, m->destination,
                                               O_RDONLY | O_DIRECTORY, PATH_OPEN, 0, err);
  if (tmpfd < 0)
    return -1;

  for (char *line = mountinfo; line && *line;)
    {
      char *end = strchrnul (line, '\n');
      char saved = *end;
      *end = '\0';
      /* "... mountpoint opts ... - cgroup cgroup rw,memory" */
      char *sep = strstr (line, " - cgroup ");
      if (sep)
        {
          char *f = line;
          for (int i = 0; i < 4 && f; i++)
            f = strchr (f + 1, ' ');
          char *mp_end = f ? strchr (f + 1, ' ') : NULL;
          char *super = strrchr (sep, ' ');
          if (f && mp_end && super)
            {
              cleanup_free char *mp = xstrndup (f + 1, (size_t) (mp_end - f - 1));
              /* Controllers are the super options minus rw/ro/etc. */
              cleanup_free char *ctrl = NULL;
              size_t clen = 0;
              char *opts = xstrdup (super + 1), *save = NULL;
              for (char *o = strtok_r (opts, ",", &save); o; o = strtok_r (NULL, ",", &save))
                {
                  if (strcmp (o, "rw") == 0 || strcmp (o, "ro") == 0
                      || strncmp (o, "release_agent", 13) == 0
                      || strcmp (o, "clone_children") == 0
                      || strcmp (o, "noprefix") == 0 || strcmp (o, "xattr") == 0
                      || strcmp (o, "cpuset_v2_mode") == 0)
                    continue;
                  size_t ol = strlen (o);
                  ctrl = xrealloc (ctrl, clen + ol + 2);
                  if (clen)
                    ctrl[clen++] = ',';
                  memcpy (ctrl + clen, o, ol + 1);
                  clen += ol;
                }
              free (opts);
              const char *base = strrchr (mp, '/');
              base = base ? base + 1 : mp;
              if (ctrl && *base && strcmp (base, ".") && strcmp (base, ".."))
                {
                  if (mkdirat (tmpfd, base, 0755) < 0 && errno != EEXIST)
                    return error_sys (err, "mkdir cgroup `%s`", base);
                  cleanup_close int sub = openat (tmpfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                  if (sub < 0)
                    return error_sys (err, "open cgroup `%s`", base);
                  path_proc_fd (sub, target);
                  int r;
                  if (cgroupns)
                    r = mount ("cgroup", target, "cgroup", flags, ctrl);
                  else
                    {
                      cleanup_free char *own = rootfs_cgroup_own_path (selfcg, ctrl);
                      cleanup_free char *src = path_join (mp, own);
                      r = mount (src, target, NULL, MS_BIND | MS_REC, NULL);
                    }
                  if (r < 0)
                    return error_sys (err, "mount cgroup `%s`", ctrl);
                  if (m->flags & MS_RDONLY)
                    {
                      cleanup_close int nfd = openat (tmpfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                      if (nfd < 0 || rootfs_remount (nfd, flags | MS_RDONLY, err) < 0)
                        return error_wrap (err, "make cgroup `%s` read-only", ctrl);
                    }
                  /* "cpu,cpuacct" also answers to "cpu" and "cpuacct". */
                  if (strchr (base, ','))
                    {
                      cleanup_free char *names = xstrdup (base);
                      char *s2 = NULL;
                      for (char *n = strtok_r (names, ",", &s2); n; n = strtok_r (NULL, ",", &s2))
                        if (symlinkat (base, tmpfd, n) < 0 && errno != EEXIST)
                          return error_sys (err, "symlink cgroup `%s`", n);
                    }
                }
            }
        }
      *end = saved;
      line = saved ? end + 1 : NULL;
    }

  if (m->flags & MS_RDONLY)
    {
      cleanup_close int nfd = path_open_in_root (rootfd, m->destination, O_PATH, PATH_OPEN, 0, err);
      if (nfd < 0 || rootfs_remount (nfd, flags | MS_RDONLY, err) < 0)
        return error_wrap (err, "make the cgroup tmpfs read-only");
    }
  return 0;
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
  const char *p = strstr (selfcg, "0::");
  cleanup_free char *own = xstrndup (p ? p + 3 : "/", p ? strcspn (p + 3, "\n") : 1);
  cleanup_free char *src = path_join ("/sys/fs/cgroup", own);
  if (mount (src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return error_sys (err, "bind cgroup `%s`", src);
  cleanup_close int nfd = path_open_in_root (rootfd, m->destination, O_PATH, PATH_OPEN, 0, err);
  if (nfd < 0 || rootfs_remount (nfd, flags, err) < 0)
    return error_wrap (err, "remount cgroup");
  return 0;
}
