/* seccomp_cache.c - compiled seccomp programs kept under the state root.
 *
 * An entry is one file: the key, a NUL byte, then the program.  Entries
 * are written beside their final name and renamed into place, so a reader
 * sees a whole entry or none; two runtimes compiling the same profile at
 * once both write it, and either result is right.
 */
#include "seccomp_cache.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
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

/* The GNU build id of the running program, in hex, into the BUF of
   dl_iterate_phdr's callback (the program itself comes first). */
static int
seccomp_cache_build_id_cb (struct dl_phdr_info *info, size_t size, void *data)
{
  char *hex = data;
  (void) size;
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      if (ph->p_type != PT_NOTE)
        continue;
      const char *p = (const char *) (info->dlpi_addr + ph->p_vaddr);
      const char *end = p + ph->p_memsz;
      /* Notes are padded to the segment's alignment, 4 or 8. */
      size_t pad = ph->p_align == 8 ? 7 : 3;
      while (p + sizeof (ElfW (Nhdr)) <= end)
        {
          const ElfW (Nhdr) *n = (const ElfW (Nhdr) *) p;
          const char *name = p + sizeof *n;
          const unsigned char *desc
              = (const unsigned char *) name + ((n->n_namesz + pad) & ~pad);
          if ((const char *) desc + n->n_descsz > end)
            break;
          if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4
              && memcmp (name, "GNU", 4) == 0 && n->n_descsz <= 64)
            {
              for (unsigned k = 0; k < n->n_descsz; k++)
                snprintf (hex + 2 * k, 3, "%02x", desc[k]);
              return 1;
            }
          p = (const char *) desc + ((n->n_descsz + pad) & ~pad);
        }
    }
  return 1; /* only the program itself */
}

char *
seccomp_cache_key (const char *profile, size_t len)
{
  struct utsname u;
  char build_id[129] = "none";
  const struct scmp_version *v = seccomp_version ();
  if (uname (&u) < 0)
    memset (&u, 0, sizeof u);
  dl_iterate_phdr (seccomp_cache_build_id_cb, build_id);
  /* The program depends on how libseccomp generates it (its version),
     on what it finds the kernel supports, on the native architecture,
     and on how this build translates the profile: the build id changes
     with every rebuild that changes code, where the version and commit
     of a development build may not. */
  return xasprintf ("polis-seccomp %d %s %s build-id %s libseccomp %u.%u.%u %s %s %s\n%.*s",
                    SECCOMP_CACHE_FORMAT, POLIS_VERSION, POLIS_COMMIT, build_id,
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
