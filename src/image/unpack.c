/* unpack.c - apply a layer tarball to an empty snapshot directory, safely.
 *
 * Two libarchive readers are stacked: the outer one only decompresses
 * (format "raw", any filter), the inner one reads tar from the outer one's
 * output through a callback that also hashes it.  That is how the diff ID
 * is computed over exactly the bytes the tar parser sees.
 *
 * Entries are written with *at() calls relative to directory fds obtained
 * by a walk that refuses symlinks (O_NOFOLLOW at each component): whatever
 * a hostile layer holds, no write leaves the snapshot.
 */
#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

#define UNPACK_READ_CHUNK (1 << 17)
#define UNPACK_FALLOCATE_MIN (64 << 10)

void
unpack_feed_init (unpack_feed *f)
{
  pthread_mutex_init (&f->lock, NULL);
  pthread_cond_init (&f->cond, NULL);
  f->available = 0;
  f->complete = f->failed = false;
}

void
unpack_feed_destroy (unpack_feed *f)
{
  pthread_mutex_destroy (&f->lock);
  pthread_cond_destroy (&f->cond);
}

void
unpack_feed_advance (unpack_feed *f, uint64_t available)
{
  pthread_mutex_lock (&f->lock);
  if (available > f->available)
    f->available = available;
  pthread_cond_broadcast (&f->cond);
  pthread_mutex_unlock (&f->lock);
}

void
unpack_feed_finish (unpack_feed *f, bool ok)
{
  pthread_mutex_lock (&f->lock);
  f->complete = true;
  f->failed = !ok;
  pthread_cond_broadcast (&f->cond);
  pthread_mutex_unlock (&f->lock);
}

typedef struct
{
  const unpack_opts *o;
  uint64_t offset;
  char *buf;
  bool aborted;
} outer_src;

/* Read from a blob that may still be growing. */
static la_ssize_t
outer_read (struct archive *a, void *ud, const void **out)
{
  outer_src *s = ud;
  size_t want = UNPACK_READ_CHUNK;
  if (s->o->feed)
    {
      unpack_feed *f = s->o->feed;
      pthread_mutex_lock (&f->lock);
      while (!f->failed && !f->complete && f->available <= s->offset)
        pthread_cond_wait (&f->cond, &f->lock);
      bool failed = f->failed;
      uint64_t avail = f->available;
      bool complete = f->complete;
      pthread_mutex_unlock (&f->lock);
      if (failed)
        {
          s->aborted = true;
          archive_set_error (a, ECANCELED, "download failed");
          return -1;
        }
      if (avail <= s->offset)
        {
          if (complete)
            return 0;
        }
      else if (avail - s->offset < want)
        want = (size_t) (avail - s->offset);
    }
  ssize_t n;
  do
    n = pread (s->o->src_fd, s->buf, want, (off_t) s->offset);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      archive_set_error (a, errno, "read blob");
      return -1;
    }
  s->offset += (uint64_t) n;
  if (s->o->progress)
    s->o->progress (s->o->progress_ud, s->offset);
  *out = s->buf;
  return n;
}

typedef struct
{
  struct archive *outer;
  digest_ctx *digest;
  uint64_t size;
} inner_src;

static la_ssize_t
inner_read (struct archive *a, void *ud, const void **out)
{
  inner_src *s = ud;
  const void *buf;
  size_t len;
  la_int64_t off;
  int r = archive_read_data_block (s->outer, &buf, &len, &off);
  if (r == ARCHIVE_EOF)
    return 0;
  if (r < ARCHIVE_WARN)
    {
      archive_set_error (a, archive_errno (s->outer), "%s",
                         archive_error_string (s->outer));
      return -1;
    }
  digest_update (s->digest, buf, len);
  s->size += len;
  *out = buf;
  return (la_ssize_t) len;
}

static void
archive_cleanup (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
  *a = NULL;
}
#define cleanup_archive __attribute__ ((cleanup (archive_cleanup)))

static int
open_outer (outer_src *src, struct archive **out, polis_error **err)
{
  struct archive *a = archive_read_new ();
  archive_read_support_filter_all (a);
  archive_read_support_format_raw (a);
  if (archive_read_open (a, src, NULL, outer_read, NULL) != ARCHIVE_OK)
    {
      error_set (err, ERROR_INVALID, EINVAL, "open layer: %s",
                 archive_error_string (a));
      archive_read_free (a);
      return -1;
    }
  struct archive_entry *e;
  if (archive_read_next_header (a, &e) != ARCHIVE_OK)
    {
      error_set (err, ERROR_INVALID, EINVAL, "open layer: %s",
                 archive_error_string (a) ? archive_error_string (a)
                                          : "empty blob");
      archive_read_free (a);
      return -1;
    }
  *out = a;
  return 0;
}

char *
unpack_clean_name (const char *name, polis_error **err)
{
  size_t len = strnlen (name, UNPACK_PATH_MAX + 1);
  if (len > UNPACK_PATH_MAX)
    {
      error_set (err, ERROR_INVALID, ENAMETOOLONG,
                 "layer entry name longer than %d bytes", UNPACK_PATH_MAX);
      return NULL;
    }
  cleanup_free char *out = xmalloc (len + 1);
  size_t o = 0;
  const char *p = name;
  while (*p)
    {
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      const char *e = strchrnul (p, '/');
      size_t n = (size_t) (e - p);
      if (n == 1 && p[0] == '.')
        ;
      else if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          error_set (err, ERROR_INVALID, EPERM,
                     "layer entry `%.200s` escapes the layer with `..`",
                     name);
          return NULL;
        }
      else
        {
          if (n > UNPACK_NAME_MAX)
            {
              error_set (err, ERROR_INVALID, ENAMETOOLONG,
                         "layer entry `%.200s`: component longer than %d bytes",
                         name, UNPACK_NAME_MAX);
              return NULL;
            }
          if (o > 0)
            out[o++] = '/';
          memcpy (out + o, p, n);
          o += n;
        }
      p = e;
    }
  out[o] = '\0';
  return steal_pointer (&out);
}

typedef struct
{
  int rootfd;
  char *cached_dir; /* relative path of cached_fd */
  int cached_fd;
  bool allow_devices;
  /* Directories and their mtimes, set again at the end: what is created
     in a directory after its entry changes its mtime. */
  char **dirs;
  struct timespec *dir_mtimes;
  size_t n_dirs, cap_dirs;
} unpack_ctx;

/* Open directory REL (clean, relative) inside the snapshot, creating
   missing components, refusing any symlink on the way. */
static int
open_dir_nofollow (unpack_ctx *c, const char *rel, const char *entry,
                   polis_error **err)
{
  if (c->cached_dir && strcmp (c->cached_dir, rel) == 0)
    return c->cached_fd;
  cleanup_close int fd = dup (c->rootfd);
  if (fd < 0)
    return error_sys (err, "dup");
  cleanup_free char *copy = xstrdup (rel);
  char *save = NULL;
  for (char *comp = strtok_r (copy, "/", &save); comp;
       comp = strtok_r (NULL, "/", &save))
    {
      int nfd = openat (fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (nfd < 0 && errno == ENOENT)
        {
          if (mkdirat (fd, comp, 0755) < 0 && errno != EEXIST)
            return error_sys (err, "layer entry `%.200s`: mkdir `%s`", entry,
                              comp);
          nfd = openat (fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (nfd < 0 && (errno == ELOOP || errno == ENOTDIR))
        {
          struct stat st;
          if (fstatat (fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0
              && S_ISLNK (st.st_mode))
            return error_set (err, ERROR_INVALID, ELOOP,
                              "layer entry `%.200s` is written through the "
                              "symlink `%s`",
                              entry, comp);
          return error_set (err, ERROR_INVALID, ENOTDIR,
                            "layer entry `%.200s`: `%s` is not a directory",
                            entry, comp);
        }
      if (nfd < 0)
        return error_sys (err, "layer entry `%.200s`: open `%s`", entry, comp);
      close (fd);
      fd = nfd;
    }
  if (c->cached_fd >= 0)
    close (c->cached_fd);
  free (c->cached_dir);
  c->cached_dir = xstrdup (rel);
  c->cached_fd = move_fd (fd);
  return c->cached_fd;
}

/* Make room for a new entry NAME in DIRFD: a directory stays when the new
   entry is one too; anything else is replaced, as tar does. */
static int
make_room (int dirfd, const char *name, bool new_is_dir, bool *exists_dir,
           polis_error **err)
{
  struct stat st;
  *exists_dir = false;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : error_sys (err, "stat `%s`", name);
  if (S_ISDIR (st.st_mode))
    {
      if (new_is_dir)
        {
          *exists_dir = true;
          return 0;
        }
      /* Replacing a directory by a file within one layer: rare, allowed. */
      cleanup_close int d = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (d < 0)
        return error_sys (err, "open `%s`", name);
      if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0)
        return error_set (err, ERROR_INVALID, ENOTEMPTY,
                          "layer replaces the non-empty directory `%s`", name);
      return 0;
    }
  if (unlinkat (dirfd, name, 0) < 0)
    return error_sys (err, "replace `%s`", name);
  return 0;
}

static int
apply_xattrs (struct archive_entry *e, int fd, const char *entry,
              polis_error **err)
{
  const char *name;
  const void *value;
  size_t size;
  (void) err;
  archive_entry_xattr_reset (e);
  while (archive_entry_xattr_next (e, &name, &value, &size) == ARCHIVE_OK)
    {
      if (name == NULL || size > UNPACK_XATTR_MAX)
        continue;
      /* A layer must not forge overlayfs' own metadata (opaque markers,
         redirects): only whiteout conversion sets trusted.overlay.*. */
      if (strncmp (name, "trusted.", 8) == 0)
        continue;
      /* Best effort, as tar: a file system without xattrs (or an LSM
         refusing security.*) must not fail the pull. */
      if (fsetxattr (fd, name, value, size, 0) < 0)
        (void) entry;
    }
  return 0;
}

static int
copy_data (struct archive *a, int fd, polis_error **err)
{
  const void *buf;
  size_t len;
  la_int64_t off;
  for (;;)
    {
      int r = archive_read_data_block (a, &buf, &len, &off);
      if (r == ARCHIVE_EOF)
        return 0;
      if (r < ARCHIVE_WARN)
        return error_set (err, ERROR_INVALID, EIO, "read layer: %s",
                          archive_error_string (a));
      const char *p = buf;
      while (len > 0)
        {
          ssize_t w = pwrite (fd, p, len, off);
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return error_sys (err, "write");
          p += w;
          len -= (size_t) w;
          off += w;
        }
    }
}

static int
set_owner_mode_times (int fd, struct archive_entry *e, bool chmod_ok,
                      polis_error **err)
{
  if (fchown (fd, (uid_t) archive_entry_uid (e), (gid_t) archive_entry_gid (e))
      < 0)
    return error_sys (err, "chown");
  /* After chown: chown clears the setuid and setgid bits. */
  if (chmod_ok && fchmod (fd, archive_entry_perm (e) & 07777) < 0)
    return error_sys (err, "chmod");
  struct timespec ts[2] = {
    { .tv_sec = archive_entry_mtime (e), .tv_nsec = archive_entry_mtime_nsec (e) },
    { .tv_sec = archive_entry_mtime (e), .tv_nsec = archive_entry_mtime_nsec (e) },
  };
  futimens (fd, ts);
  return 0;
}

static int
unpack_entry (unpack_ctx *c, struct archive *a, struct archive_entry *e,
              polis_error **err)
{
  const char *raw = archive_entry_pathname (e);
  if (raw == NULL)
    return error_set (err, ERROR_INVALID, EINVAL, "layer entry without a name");
  cleanup_free char *rel = unpack_clean_name (raw, err);
  if (rel == NULL)
    return -1;
  if (*rel == '\0')
    return 0; /* "./" itself */
  char *slash = strrchr (rel, '/');
  const char *base = slash ? slash + 1 : rel;
  cleanup_free char *dir = slash ? xstrndup (rel, (size_t) (slash - rel)) : xstrdup ("");
  int dfd = open_dir_nofollow (c, dir, raw, err);
  if (dfd < 0)
    return -1;
  bool exists_dir = false;

  /* OCI whiteouts, in overlayfs form. */
  if (strncmp (base, ".wh.", 4) == 0)
    {
      if (strcmp (base, ".wh..wh..opq") == 0)
        {
          if (fsetxattr (dfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
            return error_sys (err, "layer entry `%.200s`: set opaque", raw);
          return 0;
        }
      const char *victim = base + 4;
      if (*victim == '\0' || strcmp (victim, ".") == 0 || strcmp (victim, "..") == 0)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "layer entry `%.200s`: invalid whiteout", raw);
      if (make_room (dfd, victim, false, &exists_dir, err) < 0)
        return -1;
      if (mknodat (dfd, victim, S_IFCHR | 0, makedev (0, 0)) < 0)
        return error_sys (err, "layer entry `%.200s`: whiteout", raw);
      return 0;
    }

  const char *hardlink = archive_entry_hardlink (e);
  mode_t type = archive_entry_filetype (e);
  if (hardlink)
    {
      cleanup_free char *trel = unpack_clean_name (hardlink, err);
      if (trel == NULL)
        return -1;
      char *ts = strrchr (trel, '/');
      cleanup_free char *tdir = ts ? xstrndup (trel, (size_t) (ts - trel)) : xstrdup ("");
      const char *tbase = ts ? ts + 1 : trel;
      /* The target's directory fd may replace the cache: take our own. */
      cleanup_close int tfd = -1;
      {
        int t = open_dir_nofollow (c, tdir, raw, err);
        if (t < 0)
          return -1;
        tfd = dup (t);
      }
      dfd = open_dir_nofollow (c, dir, raw, err);
      if (dfd < 0)
        return -1;
      if (make_room (dfd, base, false, &exists_dir, err) < 0)
        return -1;
      if (linkat (tfd, tbase, dfd, base, 0) < 0)
        return error_sys (err, "layer entry `%.200s`: hard link to `%.200s`",
                          raw, hardlink);
      return 0;
    }

  if (make_room (dfd, base, type == AE_IFDIR, &exists_dir, err) < 0)
    return -1;
  switch (type)
    {
    case AE_IFREG:
      {
        cleanup_close int fd = openat (dfd, base,
                                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                       0600);
        if (fd < 0)
          return error_sys (err, "layer entry `%.200s`: create", raw);
        /* Allocating the whole file first makes the writes cheaper (no
           delayed-allocation bookkeeping per page) and the file contiguous.
           Not for holes (sparse entries), not worth it for small files;
           a file system without fallocate just does without. */
        la_int64_t fsize = archive_entry_size (e);
        if (fsize >= UNPACK_FALLOCATE_MIN && archive_entry_sparse_count (e) == 0)
          (void) fallocate (fd, 0, 0, (off_t) fsize);
        if (copy_data (a, fd, err) < 0)
          return error_wrap (err, "layer entry `%.200s`", raw);
        if (ftruncate (fd, archive_entry_size (e)) < 0)
          return error_sys (err, "layer entry `%.200s`: truncate", raw);
        apply_xattrs (e, fd, raw, err);
        if (set_owner_mode_times (fd, e, true, err) < 0)
          return error_wrap (err, "layer entry `%.200s`", raw);
        return 0;
      }
    case AE_IFDIR:
      {
        if (!exists_dir && mkdirat (dfd, base, 0700) < 0)
          return error_sys (err, "layer entry `%.200s`: mkdir", raw);
        cleanup_close int fd = openat (dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
          return error_sys (err, "layer entry `%.200s`: open", raw);
        apply_xattrs (e, fd, raw, err);
        if (set_owner_mode_times (fd, e, true, err) < 0)
          return error_wrap (err, "layer entry `%.200s`", raw);
        if (c->n_dirs == c->cap_dirs)
          {
            c->cap_dirs = c->cap_dirs ? 2 * c->cap_dirs : 64;
            c->dirs = xreallocarray (c->dirs, c->cap_dirs, sizeof *c->dirs);
            c->dir_mtimes = xreallocarray (c->dir_mtimes, c->cap_dirs,
                                           sizeof *c->dir_mtimes);
          }
        c->dirs[c->n_dirs] = steal_pointer (&rel);
        c->dir_mtimes[c->n_dirs++] = (struct timespec){
          .tv_sec = archive_entry_mtime (e),
          .tv_nsec = archive_entry_mtime_nsec (e),
        };
        return 0;
      }
    case AE_IFLNK:
      {
        const char *target = archive_entry_symlink (e);
        if (target == NULL || strnlen (target, UNPACK_PATH_MAX + 1) > UNPACK_PATH_MAX)
          return error_set (err, ERROR_INVALID, EINVAL,
                            "layer entry `%.200s`: bad symlink target", raw);
        /* The target is only data: nothing here ever follows it. */
        if (symlinkat (target, dfd, base) < 0)
          return error_sys (err, "layer entry `%.200s`: symlink", raw);
        if (fchownat (dfd, base, (uid_t) archive_entry_uid (e),
                      (gid_t) archive_entry_gid (e), AT_SYMLINK_NOFOLLOW)
            < 0)
          return error_sys (err, "layer entry `%.200s`: chown", raw);
        return 0;
      }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      {
        dev_t dev = 0;
        if (type != AE_IFIFO)
          {
            dev = makedev (archive_entry_rdevmajor (e), archive_entry_rdevminor (e));
            bool under_dev = strncmp (rel, "dev/", 4) == 0;
            if (type == AE_IFCHR && dev == makedev (0, 0))
              return error_set (err, ERROR_INVALID, EPERM,
                                "layer entry `%.200s`: a 0/0 device node is "
                                "not allowed (whiteouts use .wh. names)",
                                raw);
            if (!under_dev && !c->allow_devices)
              return error_set (err, ERROR_INVALID, EPERM,
                                "layer entry `%.200s`: device nodes are only "
                                "allowed under /dev",
                                raw);
          }
        if (mknodat (dfd, base, type | 0600, dev) < 0)
          return error_sys (err, "layer entry `%.200s`: mknod", raw);
        cleanup_close int fd = openat (dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
          return error_sys (err, "layer entry `%.200s`: open", raw);
        char p[PATH_MAX];
        snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
        if (chown (p, (uid_t) archive_entry_uid (e), (gid_t) archive_entry_gid (e)) < 0
            || chmod (p, archive_entry_perm (e) & 07777) < 0)
          return error_sys (err, "layer entry `%.200s`: chown", raw);
        return 0;
      }
    default:
      return error_set (err, ERROR_INVALID, EINVAL,
                        "layer entry `%.200s`: unsupported file type 0%o", raw,
                        (unsigned) type);
    }
}

int
unpack_layer (const unpack_opts *o, char diff_id[DIGEST_STRING_LEN + 1],
              uint64_t *size, polis_error **err)
{
  cleanup_free char *buf = xmalloc (UNPACK_READ_CHUNK);
  outer_src src = { .o = o, .buf = buf };
  cleanup_archive struct archive *outer = NULL;
  if (open_outer (&src, &outer, err) < 0)
    return -1;
  cleanup_digest digest_ctx *d = digest_new ();
  inner_src in = { .outer = outer, .digest = d };
  cleanup_archive struct archive *tar = archive_read_new ();
  archive_read_support_format_tar (tar);
  archive_read_support_format_gnutar (tar);
  if (archive_read_open (tar, &in, NULL, inner_read, NULL) != ARCHIVE_OK)
    return error_set (err, ERROR_INVALID, EINVAL, "layer: %s",
                      archive_error_string (tar));
  unpack_ctx c = { .rootfd = o->dest_fd, .cached_fd = -1,
                   .allow_devices = o->allow_devices };
  int ret = 0;
  size_t entries = 0;
  for (;;)
    {
      struct archive_entry *e;
      int r = archive_read_next_header (tar, &e);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          ret = error_set (err, src.aborted ? ERROR_UNAVAILABLE : ERROR_INVALID,
                           src.aborted ? ECANCELED : EINVAL, "layer: %s",
                           archive_error_string (tar));
          break;
        }
      if (++entries > UNPACK_ENTRIES_MAX)
        {
          ret = error_set (err, ERROR_INVALID, E2BIG,
                           "layer has more than %d entries", UNPACK_ENTRIES_MAX);
          break;
        }
      ret = unpack_entry (&c, tar, e, err);
      if (ret < 0)
        break;
    }
  /* Directory mtimes, as the layer has them (through the same walk that
     refuses symlinks; setting a child's times leaves its parent's alone). */
  for (size_t i = 0; i < c.n_dirs; i++)
    {
      if (ret == 0)
        {
          int dfd = open_dir_nofollow (&c, c.dirs[i], c.dirs[i], err);
          struct timespec ts[2] = { c.dir_mtimes[i], c.dir_mtimes[i] };
          if (dfd < 0)
            ret = -1;
          else
            futimens (dfd, ts);
        }
      free (c.dirs[i]);
    }
  free (c.dirs);
  free (c.dir_mtimes);
  if (c.cached_fd >= 0)
    close (c.cached_fd);
  free (c.cached_dir);
  if (ret < 0)
    return ret;
  /* The tar reader stops at the end-of-archive blocks: hash the padding
     after them too, the diff ID covers the whole stream. */
  const void *b;
  size_t len;
  la_int64_t off;
  for (;;)
    {
      int r = archive_read_data_block (outer, &b, &len, &off);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return error_set (err, src.aborted ? ERROR_UNAVAILABLE : ERROR_INVALID,
                          EINVAL, "layer: %s", archive_error_string (outer));
      digest_update (d, b, len);
      in.size += len;
    }
  digest_final (d, diff_id);
  if (size)
    *size = in.size;
  return 0;
}

int
unpack_decompress (int src_fd, int dest_fd, char digest[DIGEST_STRING_LEN + 1],
                   uint64_t *size, polis_error **err)
{
  cleanup_free char *buf = xmalloc (UNPACK_READ_CHUNK);
  unpack_opts o = { .src_fd = src_fd };
  outer_src src = { .o = &o, .buf = buf };
  cleanup_archive struct archive *outer = NULL;
  if (open_outer (&src, &outer, err) < 0)
    return -1;
  cleanup_digest digest_ctx *d = digest_new ();
  uint64_t total = 0;
  const void *b;
  size_t len;
  la_int64_t off;
  for (;;)
    {
      int r = archive_read_data_block (outer, &b, &len, &off);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return error_set (err, ERROR_INVALID, EINVAL, "decompress: %s",
                          archive_error_string (outer));
      digest_update (d, b, len);
      total += len;
      const char *p = b;
      while (len > 0)
        {
          ssize_t w = write (dest_fd, p, len);
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return error_sys (err, "write");
          p += w;
          len -= (size_t) w;
        }
    }
  digest_final (d, digest);
  if (size)
    *size = total;
  return 0;
}
