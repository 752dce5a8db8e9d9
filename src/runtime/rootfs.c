/* rootfs.c - the container's file system view: mounts, pivot_root, masks. */
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/path.h"
#include "base/xalloc.h"
#include "runtime/devices.h"
#include "runtime/lsm.h"

/* Flags that only a remount of a bind mount can change. */
#define ROOTFS_BIND_FLAGS                                                      \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME  \
   | MS_RELATIME | MS_STRICTATIME)

static unsigned long
rootfs_statvfs_flags (int fd)
{
  struct statvfs sv;
  if (fstatvfs (fd, &sv) < 0)
    return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_RDONLY)
    f |= MS_RDONLY;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  return f;
}

int
rootfs_remount (int fd, unsigned long flags, polis_error **err)
{
  char target[PATH_PROC_FD_MAX];
  path_proc_fd (fd, target);
  unsigned long want = MS_BIND | MS_REMOUNT | (flags & (ROOTFS_BIND_FLAGS | MS_REC));
  if (mount (NULL, target, NULL, want, NULL) == 0)
    return 0;
  if (errno != EPERM)
    return error_sys (err, "remount");
  /* In a user namespace the flags the mount already has are locked: a
     remount must repeat them. */
  unsigned long locked = rootfs_statvfs_flags (fd);
  unsigned long atime = locked & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME);
  if (want & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))
    atime = 0;
  if (mount (NULL, target, NULL, want | (locked & ~(MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) | atime, NULL) < 0)
    return error_sys (err, "remount");
  return 0;
}

/* Copy the content of directory SRC into DST (for tmpcopyup). */
static int
rootfs_copy_tree (int src, int dst, int depth, polis_error **err)
{
  if (depth > 64)
    return error_set (err, ERROR_INVALID, ELOOP, "tree too deep to copy");
  int dfd = openat (src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return error_sys (err, "open directory to copy");
  cleanup_closedir DIR *dir = fdopendir (dfd);
  if (dir == NULL)
    {
      close (dfd);
      return error_sys (err, "opendir");
    }
  struct dirent *de;
  while ((de = readdir (dir)) != NULL)
    {
      const char *n = de->d_name;
      struct stat st;
      if (strcmp (n, ".") == 0 || strcmp (n, "..") == 0)
        continue;
      if (fstatat (src, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return error_sys (err, "stat `%s`", n);
      if (S_ISDIR (st.st_mode))
        {
          if (mkdirat (dst, n, st.st_mode & 07777) < 0 && errno != EEXIST)
            return error_sys (err, "mkdir `%s`", n);
          cleanup_close int s2 = openat (src, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          cleanup_close int d2 = openat (dst, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (s2 < 0 || d2 < 0)
            return error_sys (err, "open `%s`", n);
          if (rootfs_copy_tree (s2, d2, depth + 1, err) < 0)
            return -1;
        }
      else if (S_ISLNK (st.st_mode))
        {
          char target[4096];
          ssize_t len = readlinkat (src, n, target, sizeof target - 1);
          if (len < 0)
            return error_sys (err, "readlink `%s`", n);
          target[len] = '\0';
          if (symlinkat (target, dst, n) < 0)
            return error_sys (err, "symlink `%s`", n);
        }
      else if (S_ISREG (st.st_mode))
        {
          cleanup_close int in = openat (src, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
          cleanup_close int out = openat (dst, n, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);
          if (in < 0 || out < 0)
            return error_sys (err, "copy `%s`", n);
          char buf[65536];
          ssize_t r;
          while ((r = read (in, buf, sizeof buf)) > 0)
            if (file_write_all (out, buf, (size_t) r, err) < 0)
              return -1;
          if (r < 0)
            return error_sys (err, "read `%s`", n);
        }
      else if (mknodat (dst, n, st.st_mode, st.st_rdev) < 0)
        return error_sys (err, "mknod `%s`", n);
      if (fchownat (dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0
          && errno != EPERM && errno != EINVAL)
        return error_sys (err, "chown `%s`", n);
    }
  return 0;
}

static int
rootfs_set_attr (int fd, const spec_mount *m, polis_error **err)
{
  struct mount_attr attr = { .attr_set = m->attr_set, .attr_clr = m->attr_clr };
  /* Clearing one atime mode means setting the whole atime field. */
  if (attr.attr_set & MOUNT_ATTR__ATIME)
    attr.attr_clr |= MOUNT_ATTR__ATIME;
  if (syscall (SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
               sizeof attr)
      < 0)
    {
      if (errno == ENOSYS)
        return error_set (err, ERROR_INVALID, ENOSYS,
                          "recursive mount options need mount_setattr() (Linux 5.12)");
      return error_sys (err, "set recursive mount attributes");
    }
  return 0;
}

static int
rootfs_mount_one (const spec *s, size_t idx, int rootfd, bool in_userns,
                  polis_error **err)
{
  const spec_mount *m = &s->mounts[idx];
  const char *type = m->type;
  cleanup_close int destfd = -1, newfd = -1;
  char target[PATH_PROC_FD_MAX];
  bool is_dir = true;

  if (m->bind)
    {
      struct stat st;
      if (stat (m->source, &st) < 0)
        return error_sys (err, "bind source `%s`", m->source);
      is_dir = S_ISDIR (st.st_mode);
    }
  destfd = path_open_in_root (rootfd, m->destination, O_PATH,
                              is_dir ? PATH_MKDIR : PATH_MKFILE, 0755, err);
  if (destfd < 0)
    return -1;
  path_proc_fd (destfd, target);

  if (m->bind)
    {
      if (mount (m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL)
          < 0)
        return error_sys (err, "bind `%s`", m->source);
    }
  else if (strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0)
    {
      if (rootfs_cgroup_mount (m, rootfd, destfd,
                               s->ns[NS_CGROUP].present, err)
          < 0)
        return -1;
      return 0;
    }
  else
    {
      const char *source = m->source && *m->source ? m->source : type;
      unsigned long flags = m->flags & ~MS_REMOUNT;
      bool labelled = strcmp (type, "proc") && strcmp (type, "sysfs") && strcmp (type, "mqueue");
      cleanup_free char *data_owned = labelled ? lsm_mount_data (m->data, s->mount_label) : NULL;
      const char *data = labelled ? data_owned : m->data;
      int r = mount (source, target, type, flags, data);
      if (r < 0 && errno == EINVAL && in_userns && strcmp (type, "devpts") == 0
          && data && strstr (data, "gid="))
        {
          /* gid=5 (tty) may not be mapped in the user namespace. */
          cleanup_free char *d2 = xstrdup (data);
          char *g = strstr (d2, "gid=");
          char *end = strchrnul (g, ',');
          memmove (g, *end ? end + 1 : end, strlen (*end ? end + 1 : end) + 1);
          size_t l = strlen (d2);
          if (l && d2[l - 1] == ',')
            d2[l - 1] = '\0';
          r = mount (source, target, type, flags, d2);
        }
      if (r < 0 && errno == EPERM && in_userns
          && (strcmp (type, "sysfs") == 0 || strcmp (type, "mqueue") == 0))
        {
          /* Without its own netns (sysfs) or ipcns (mqueue) a user
             namespace may not mount these: bind the host's instead. */
          const char *host = strcmp (type, "sysfs") == 0 ? "/sys" : "/dev/mqueue";
          r = mount (host, target, NULL, MS_BIND | MS_REC, NULL);
          if (r == 0 && (flags & ROOTFS_BIND_FLAGS))
            {
              newfd = path_open_in_root (rootfd, m->destination, O_PATH,
                                         PATH_OPEN, 0, err);
              if (newfd < 0 || rootfs_remount (newfd, flags | MS_REC, err) < 0)
                return -1;
            }
          return 0;
        }
      if (r < 0)
        return error_sys (err, "mount %s", type);
      if (m->tmpcopyup && strcmp (type, "tmpfs") == 0)
        {
          /* destfd still names the directory under the new mount. */
          newfd = path_open_in_root (rootfd, m->destination,
                                     O_RDONLY | O_DIRECTORY, PATH_OPEN, 0, err);
          if (newfd < 0)
            return -1;
          cleanup_close int old = openat (destfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (old < 0)
            return error_sys (err, "open `%s`", m->destination);
          if (rootfs_copy_tree (old, newfd, 0, err) < 0)
            return error_wrap (err, "tmpcopyup");
          close (newfd);
          newfd = -1;
        }
    }

  bool need_remount = m->bind && (m->flags & ROOTFS_BIND_FLAGS);
  if (need_remount || m->propagation || m->attr_set || m->attr_clr)
    {
      /* The new mount hides destfd's directory: reopen to reach it. */
      newfd = path_open_in_root (rootfd, m->destination, O_PATH, PATH_OPEN, 0,
                                 err);
      if (newfd < 0)
        return -1;
      if (need_remount && rootfs_remount (newfd, m->flags, err) < 0)
        return -1;
      if (m->propagation
          && mount (NULL, path_proc_fd (newfd, target), NULL, m->propagation,
                    NULL)
                 < 0)
        return error_sys (err, "set propagation");
      if ((m->attr_set || m->attr_clr) && rootfs_set_attr (newfd, m, err) < 0)
        return -1;
    }
  return 0;
}

int
rootfs_prepare (const spec *s, const char *rootfs, bool in_userns,
                polis_error **err)
{
  unsigned long prop = MS_SLAVE | MS_REC;
  if (s->rootfs_propagation & MS_PRIVATE)
    prop = MS_PRIVATE | MS_REC;
  if (mount (NULL, "/", NULL, prop, NULL) < 0)
    return error_sys (err, "make / %s", (prop & MS_PRIVATE) ? "rprivate" : "rslave");
  if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return error_sys (err, "bind mount rootfs `%s`", rootfs);
  cleanup_close int rootfd
      = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return error_sys (err, "open rootfs `%s`", rootfs);

  bool dev_bound = false;
  for (size_t i = 0; i < s->n_mounts; i++)
    {
      const spec_mount *m = &s->mounts[i];
      if (rootfs_mount_one (s, i, rootfd, in_userns, err) < 0)
        return error_wrap (err, "mount `%s` on `%s`",
                           m->source ? m->source : m->type, m->destination);
      cleanup_free char *clean = path_clean (m->destination);
      if (m->bind && strcmp (clean, "/dev") == 0)
        dev_bound = true;
    }
  if (!dev_bound && devices_setup (s, rootfd, in_userns, err) < 0)
    return error_wrap (err, "set up /dev");
  return move_fd (rootfd);
}

int
rootfs_pivot (int rootfd, bool no_pivot, polis_error **err)
{
  if (fchdir (rootfd) < 0)
    return error_sys (err, "chdir to rootfs");
  if (no_pivot)
    {
      if (mount (".", "/", NULL, MS_MOVE, NULL) < 0)
        return error_sys (err, "move rootfs to /");
      if (chroot (".") < 0)
        return error_sys (err, "chroot");
      if (chdir ("/") < 0)
        return error_sys (err, "chdir /");
      return 0;
    }
  cleanup_close int oldroot = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (oldroot < 0)
    return error_sys (err, "open /");
  /* pivot_root(".", ".") stacks the old root on top of the new one, so no
     directory for it is needed inside the rootfs. */
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return error_sys (err, "pivot_root");
  if (fchdir (oldroot) < 0)
    return error_sys (err, "chdir to old root");
  /* Keep the unmount below from propagating to the host. */
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return error_sys (err, "make old root rslave");
  if (umount2 (".", MNT_DETACH) < 0)
    return error_sys (err, "detach old root");
  if (chdir ("/") < 0)
    return error_sys (err, "chdir /");
  return 0;
}

/* sysctls a container may set, and the namespace that makes it its own. */
static int
rootfs_sysctl_check (const spec *s, const char *key, polis_error **err)
{
  static const char *const ipc_names[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
  };
  for (size_t i = 0; i < sizeof ipc_names / sizeof *ipc_names; i++)
    if (strcmp (key, ipc_names[i]) == 0)
      goto ipc;
  if (strncmp (key, "fs.mqueue.", 10) == 0)
    goto ipc;
  if (strncmp (key, "net.", 4) == 0)
    {
      if (!s->ns[NS_NET].present)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "sysctl `%s` needs a private network namespace", key);
      return 0;
    }
  if (strcmp (key, "kernel.hostname") == 0 || strcmp (key, "kernel.domainname") == 0)
    {
      if (!s->ns[NS_UTS].present)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "sysctl `%s` needs a private UTS namespace", key);
      return 0;
    }
  return error_set (err, ERROR_INVALID, EINVAL,
                    "sysctl `%s` is not namespaced: setting it would change the host",
                    key);
ipc:
  if (!s->ns[NS_IPC].present)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "sysctl `%s` needs a private IPC namespace", key);
  return 0;
}

static int
rootfs_write_sysctls (const spec *s, polis_error **err)
{
  if (s->sysctl == NULL)
    return 0;
  const char *key;
  json_t *val;
  json_object_foreach (s->sysctl, key, val)
  {
    if (rootfs_sysctl_check (s, key, err) < 0)
      return -1;
    cleanup_free char *path = xasprintf ("/proc/sys/%s", key);
    for (char *p = path + 10; *p; p++)
      if (*p == '.')
        *p = '/';
    if (file_write_string_at (AT_FDCWD, path, json_string_value (val), err) < 0)
      return error_wrap (err, "sysctl `%s`", key);
  }
  return 0;
}

/* A recursive rootfsPropagation reaches every mount: give back the mounts
   that asked for their own propagation what they asked for. */
static int
rootfs_reapply_propagation (const spec *s, int rootfd, polis_error **err)
{
  char target[PATH_PROC_FD_MAX];
  for (size_t i = 0; i < s->n_mounts; i++)
    {
      const spec_mount *m = &s->mounts[i];
      if (m->propagation == 0)
        continue;
      cleanup_close int fd = path_open_in_root (rootfd, m->destination, O_PATH,
                                                PATH_OPEN, 0, err);
      if (fd < 0)
        return error_wrap (err, "mount `%s`", m->destination);
      if (mount (NULL, path_proc_fd (fd, target), NULL, m->propagation, NULL) < 0)
        return error_sys (err, "mount `%s`: set propagation", m->destination);
    }
  return 0;
}

int
rootfs_finalize (const spec *s, polis_error **err)
{
  cleanup_close int rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  char target[PATH_PROC_FD_MAX];
  if (rootfd < 0)
    return error_sys (err, "open /");

  /* Before readonlyPaths: /proc/sys is usually one of them. */
  if (rootfs_write_sysctls (s, err) < 0)
    return -1;

  for (size_t i = 0; s->readonly_paths && s->readonly_paths[i]; i++)
    {
      const char *p = s->readonly_paths[i];
      cleanup_close int fd = path_open_in_root (rootfd, p, O_PATH, PATH_OPEN, 0, NULL);
      if (fd < 0)
        continue; /* absent paths are fine, as in runc */
      if (mount (path_proc_fd (fd, target), target, NULL, MS_BIND | MS_REC, NULL) < 0)
        return error_sys (err, "bind readonly path `%s`", p);
      cleanup_close int nfd = path_open_in_root (rootfd, p, O_PATH, PATH_OPEN, 0, err);
      if (nfd < 0 || rootfs_remount (nfd, MS_RDONLY | MS_REC, err) < 0)
        return error_wrap (err, "make `%s` read-only", p);
    }

  for (size_t i = 0; s->masked_paths && s->masked_paths[i]; i++)
    {
      const char *p = s->masked_paths[i];
      cleanup_close int fd = path_open_in_root (rootfd, p, O_PATH, PATH_OPEN, 0, NULL);
      struct stat st;
      if (fd < 0 || fstat (fd, &st) < 0)
        continue;
      path_proc_fd (fd, target);
      int r;
      if (S_ISDIR (st.st_mode))
        r = mount ("tmpfs", target, "tmpfs", MS_RDONLY, s->mount_label ? NULL : "size=0k");
      else
        r = mount ("/dev/null", target, NULL, MS_BIND, NULL);
      if (r < 0)
        return error_sys (err, "mask `%s`", p);
    }

  if (s->root_readonly && rootfs_remount (rootfd, MS_RDONLY, err) < 0)
    return error_wrap (err, "make the root read-only");

  if (s->rootfs_propagation
      && mount (NULL, "/", NULL, s->rootfs_propagation, NULL) < 0)
    return error_sys (err, "set rootfs propagation");
  if (s->rootfs_propagation & MS_REC)
    return rootfs_reapply_propagation (s, rootfd, err);
  return 0;
}
