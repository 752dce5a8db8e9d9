/* seccomp_cache.c - compiled seccomp programs kept under the state root.
 *
 * An entry is one file: the key, a NUL byte, then the program.  Entries
 * are written beside their final name and renamed into place, so a reader
 * sees a whole entry or none; two runtimes compiling the same profile at
 * once both write it, and either result is right.
 */
#include "seccomp_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "polis-config.h"

/* Bumped when the meaning of a cached program changes. */
#define SECCOMP_CACHE_FORMAT 1

char *
seccomp_cache_key (const char *profile, size_t len)
{
  struct utsname u;
  const struct scmp_version *v = seccomp_version ();
  if (uname (&u) < 0)
    memset (&u, 0, sizeof u);
  /* The program depends on how libseccomp generates it (its version),
     on what it finds the kernel supports, on the native architecture,
     and on how this build translates the profile. */
  return xasprintf ("polis-seccomp %d %s %s libseccomp %u.%u.%u %s %s %s\n%.*s",
                    SECCOMP_CACHE_FORMAT, POLIS_VERSION, POLIS_COMMIT,
                    v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
                    u.sysname, u.release, u.machine, (int) len, profile);
}

void
seccomp_cache_name (const char *key, char buf[32])
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char *p = (const unsigned char *) key; *p; p++)
    {
      h ^= *p;
      h *= 0x100000001b3ull;
    }
  snprintf (buf, 32, "%016llx.bpf", (unsigned long long) h);
}

void *
seccomp_cache_get (int rootfd, const char *key, size_t max, size_t *len)
{
  char name[32];
  seccomp_cache_name (key, name);
  cleanup_free char *path = xasprintf (SECCOMP_CACHE_DIR "/%s", name);
  cleanup_close int fd = openat (rootfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      if (errno != ENOENT && errno != ENOTDIR)
        log_debug ("seccomp cache: open %s: %s", path, strerror (errno));
      return NULL;
    }
  size_t klen = strlen (key) + 1, n = 0;
  cleanup_error polis_error *err = NULL;
  cleanup_free char *buf = file_read_fd (fd, klen + max, &n, &err);
  if (buf == NULL)
    {
      log_debug ("seccomp cache: %s: %s", path, err->msg);
      return NULL;
    }
  if (n <= klen || memcmp (buf, key, klen) != 0)
    {
      log_debug ("seccomp cache: %s holds another profile", path);
      return NULL;
    }
  *len = n - klen;
  void *prog = xmalloc (*len);
  memcpy (prog, buf + klen, *len);
  return prog;
}

/* Make room for one more entry in DIRFD by removing the oldest. */
static void
seccomp_cache_evict (int dirfd)
{
  int d2 = dup (dirfd);
  cleanup_closedir DIR *dir = d2 >= 0 ? fdopendir (d2) : NULL;
  if (dir == NULL)
    {
      if (d2 >= 0)
        close (d2);
      return;
    }
  struct dirent *de;
  size_t count = 0;
  char oldest[256] = "";
  struct timespec oldest_time = { 0, 0 };
  while ((de = readdir (dir)) != NULL)
    {
      struct stat st;
      if (de->d_name[0] == '.'
          || fstatat (dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      count++;
      if (oldest[0] == '\0' || st.st_mtim.tv_sec < oldest_time.tv_sec
          || (st.st_mtim.tv_sec == oldest_time.tv_sec
              && st.st_mtim.tv_nsec < oldest_time.tv_nsec))
        {
          snprintf (oldest, sizeof oldest, "%s", de->d_name);
          oldest_time = st.st_mtim;
        }
    }
  if (count >= SECCOMP_CACHE_MAX_ENTRIES && oldest[0])
    unlinkat (dirfd, oldest, 0);
}

void
seccomp_cache_put (int rootfd, const char *key, const void *prog, size_t len)
{
  char name[32];
  cleanup_error polis_error *err = NULL;
  seccomp_cache_name (key, name);
  if (mkdirat (rootfd, SECCOMP_CACHE_DIR, 0700) < 0 && errno != EEXIST)
    {
      log_debug ("seccomp cache: mkdir: %s", strerror (errno));
      return;
    }
  cleanup_close int dirfd = openat (rootfd, SECCOMP_CACHE_DIR,
                                    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dirfd < 0)
    {
      log_debug ("seccomp cache: open: %s", strerror (errno));
      return;
    }
  seccomp_cache_evict (dirfd);
  size_t klen = strlen (key) + 1;
  cleanup_free char *buf = xmalloc (klen + len);
  memcpy (buf, key, klen);
  memcpy (buf + klen, prog, len);
  if (file_write_atomic_at (dirfd, name, buf, klen + len, 0600, false, &err) < 0)
    log_debug ("seccomp cache: %s", err->msg);
}
