/* snapshot.c - unpacked layers under <root>/snapshots/<chain ID hex>/. */
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/xalloc.h"
#include "digest.h"

struct snapshot_store
{
  char *dir;
  int fd;
};

snapshot_store *
snapshot_store_open (const char *root, polis_error **err)
{
  cleanup_free char *dir = xasprintf ("%s/snapshots", root);
  if (file_mkdir_p (dir, 0700, err) < 0)
    return NULL;
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      error_sys (err, "open `%s`", dir);
      return NULL;
    }
  snapshot_store *s = xzalloc (sizeof *s);
  s->dir = steal_pointer (&dir);
  s->fd = fd;
  return s;
}

void
snapshot_store_free (snapshot_store *s)
{
  if (s == NULL)
    return;
  if (s->fd >= 0)
    close (s->fd);
  free (s->dir);
  free (s);
}

int
snapshot_store_fd (snapshot_store *s)
{
  return s->fd;
}

bool
snapshot_exists (snapshot_store *s, const char *chain_id)
{
  struct stat st;
  if (digest_validate (chain_id, NULL) < 0)
    return false;
  return fstatat (s->fd, digest_hex (chain_id), &st, AT_SYMLINK_NOFOLLOW) == 0
         && S_ISDIR (st.st_mode);
}

char *
snapshot_path (snapshot_store *s, const char *chain_id)
{
  return xasprintf ("%s/%s", s->dir, digest_hex (chain_id));
}

int
snapshot_prepare (snapshot_store *s, const char *chain_id, char **name,
                  polis_error **err)
{
  static unsigned counter;
  cleanup_free char *n = xasprintf (
      ".tmp-%.16s-%d-%u", digest_hex (chain_id), (int) getpid (),
      __atomic_add_fetch (&counter, 1, __ATOMIC_RELAXED));
  if (mkdirat (s->fd, n, 0755) < 0)
    return error_sys (err, "mkdir snapshot `%s`", n);
  int fd = openat (s->fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "open snapshot `%s`", n);
  *name = steal_pointer (&n);
  return fd;
}

int
snapshot_commit (snapshot_store *s, const char *tmp_name, const char *chain_id,
                 bool replace, polis_error **err)
{
  const char *hex = digest_hex (chain_id);
  if (renameat (s->fd, tmp_name, s->fd, hex) == 0)
    return 1;
  if (errno != EEXIST && errno != ENOTEMPTY)
    return error_sys (err, "rename snapshot %s", chain_id);
  if (!replace)
    return snapshot_remove_name (s, tmp_name, err) < 0 ? -1 : 0;
  /* The name is never missing: whoever looks sees the old or the new. */
  if (renameat2 (s->fd, tmp_name, s->fd, hex, RENAME_EXCHANGE) < 0)
    return error_sys (err, "replace snapshot %s", chain_id);
  return snapshot_remove_name (s, tmp_name, err) < 0 ? -1 : 1;
}

int
snapshot_remove_name (snapshot_store *s, const char *name, polis_error **err)
{
  return file_remove_tree_at (s->fd, name, err);
}

int
snapshot_remove (snapshot_store *s, const char *chain_id, polis_error **err)
{
  if (digest_validate (chain_id, err) < 0)
    return -1;
  return file_remove_tree_at (s->fd, digest_hex (chain_id), err);
}

void
snapshot_gc_temporaries (snapshot_store *s)
{
  int dfd = dup (s->fd);
  if (dfd < 0)
    return;
  cleanup_closedir DIR *d = fdopendir (dfd);
  if (d == NULL)
    {
      close (dfd);
      return;
    }
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strncmp (de->d_name, ".tmp-", 5) != 0)
        continue;
      /* .tmp-<16 hex>-<pid>-<n> */
      const char *p = de->d_name + 5 + 16;
      if (*p != '-')
        continue;
      int pid = atoi (p + 1);
      if (pid > 0 && pid != getpid () && kill (pid, 0) < 0 && errno == ESRCH)
        {
          polis_error *e = NULL;
          file_remove_tree_at (s->fd, de->d_name, &e);
          error_free (&e);
        }
    }
}

int
snapshot_sync (snapshot_store *s, polis_error **err)
{
  if (syncfs (s->fd) < 0)
    return error_sys (err, "syncfs");
  return 0;
}

int
snapshot_sync_dir (snapshot_store *s, polis_error **err)
{
  if (fsync (s->fd) < 0)
    return error_sys (err, "fsync `%s`", s->dir);
  return 0;
}
