/* tar_extract.c - extract a tar archive into a container's file system. */
#include "tar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/path.h"
#include "base/xalloc.h"

#define BLOCK 512
#define COPY_BUF (64u << 10)

typedef struct
{
  int in;
  int rootfd;
  const char *dest;
  const tar_extract_opts *o;
  char *buf;
  /* From PAX ('x') or GNU ('L', 'K') headers, for the next entry. */
  char *next_path, *next_link;
  int64_t next_size, next_uid, next_gid, next_mtime;
} reader;

static int
read_full (int fd, void *buf, size_t len, polis_error **err)
{
  char *p = buf;
  while (len > 0)
    {
      ssize_t n = read (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return error_sys (err, "read the archive");
      if (n == 0)
        return error_set (err, ERROR_INVALID, EINVAL, "unexpected EOF in the archive");
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

static int
skip (reader *r, uint64_t size, polis_error **err)
{
  uint64_t total = (size + BLOCK - 1) / BLOCK * BLOCK;
  while (total > 0)
    {
      size_t n = total < COPY_BUF ? (size_t) total : COPY_BUF;
      if (read_full (r->in, r->buf, n, err) < 0)
        return -1;
      total -= n;
    }
  return 0;
}

/* An octal field, or GNU's base-256 form (high bit set). -1 if malformed. */
static int64_t
number (const char *f, size_t width)
{
  const unsigned char *u = (const unsigned char *) f;
  if (u[0] & 0x80)
    {
      uint64_t v = u[0] & 0x3f;
      for (size_t i = 1; i < width; i++)
        {
          if (v >> 55)
            return -1;
          v = (v << 8) | u[i];
        }
      return (int64_t) v;
    }
  size_t i = 0;
  while (i < width && (f[i] == ' ' || f[i] == '\0'))
    i++;
  int64_t v = 0;
  for (; i < width && f[i] >= '0' && f[i] <= '7'; i++)
    {
      if (v >> 60)
        return -1;
      v = v * 8 + (f[i] - '0');
    }
  return v;
}

static bool
checksum_ok (const unsigned char *h)
{
  int64_t want = number ((const char *) h + 148, 8);
  unsigned long u = 0;
  long s = 0;
  for (size_t i = 0; i < BLOCK; i++)
    {
      unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
      u += c;
      s += (signed char) c;
    }
  return want == (int64_t) u || want == (int64_t) s;
}

static char *
field_string (const char *f, size_t width)
{
  size_t n = strnlen (f, width);
  return xstrndup (f, n);
}

static int
read_blob (reader *r, uint64_t size, size_t max, char **out, polis_error **err)
{
  if (size > max)
    return error_set (err, ERROR_INVALID, E2BIG, "archive header too large");
  uint64_t padded = (size + BLOCK - 1) / BLOCK * BLOCK;
  char *b = xmalloc (padded + 1);
  if (read_full (r->in, b, padded, err) < 0)
    {
      free (b);
      return -1;
    }
  b[size] = '\0';
  *out = b;
  return 0;
}

static int
parse_pax (reader *r, const char *data, size_t len, polis_error **err)
{
  const char *p = data, *end = data + len;
  while (p < end)
    {
      char *sp;
      long rl = strtol (p, &sp, 10);
      if (rl <= 0 || *sp != ' ' || p + rl > end || p[rl - 1] != '\n')
        return error_set (err, ERROR_INVALID, EINVAL, "malformed PAX header");
      const char *kv = sp + 1;
      const char *eq = memchr (kv, '=', (size_t) (p + rl - kv));
      if (eq == NULL)
        return error_set (err, ERROR_INVALID, EINVAL, "malformed PAX record");
      size_t kl = (size_t) (eq - kv);
      cleanup_free char *val = xstrndup (eq + 1, (size_t) (p + rl - 1 - (eq + 1)));
      if (kl == 4 && memcmp (kv, "path", 4) == 0)
        {
          free (r->next_path);
          r->next_path = steal_pointer (&val);
        }
      else if (kl == 8 && memcmp (kv, "linkpath", 8) == 0)
        {
          free (r->next_link);
          r->next_link = steal_pointer (&val);
        }
      else if (kl == 4 && memcmp (kv, "size", 4) == 0)
        r->next_size = strtoll (val, NULL, 10);
      else if (kl == 3 && memcmp (kv, "uid", 3) == 0)
        r->next_uid = strtoll (val, NULL, 10);
      else if (kl == 3 && memcmp (kv, "gid", 3) == 0)
        r->next_gid = strtoll (val, NULL, 10);
      else if (kl == 5 && memcmp (kv, "mtime", 5) == 0)
        r->next_mtime = strtoll (val, NULL, 10);
      p += rl;
    }
  return 0;
}

/* NAME without leading "/" and "./", refusing "..": a relative path, or ""
   for the archive's root. */
static char *
clean_name (const char *name, polis_error **err)
{
  if (strlen (name) > TAR_NAME_MAX)
    {
      error_set (err, ERROR_INVALID, ENAMETOOLONG, "archive entry name too long");
      return NULL;
    }
  cleanup_free char *c = path_clean (name);
  const char *p = c;
  while (*p == '/')
    p++;
  if (strcmp (p, ".") == 0)
    p = "";
  if (strcmp (p, "..") == 0 || strncmp (p, "../", 3) == 0)
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "archive entry `%s` points outside the destination", name);
      return NULL;
    }
  return xstrdup (p);
}

static int
open_parent (reader *r, const char *rel, char **base, polis_error **err)
{
  cleanup_free char *full = xasprintf ("%s/%s", r->dest, rel);
  char *slash = strrchr (full, '/');
  *base = xstrdup (slash + 1);
  *slash = '\0';
  return path_open_in_root (r->rootfd, *full ? full : "/", O_RDONLY | O_DIRECTORY,
                            PATH_MKDIR, 0755, err);
}

/* Make room for a new entry BASE in DIRFD: a non-directory there is
   removed; a directory is kept for a directory, refused otherwise. */
static int
clear_place (reader *r, int dirfd, const char *base, bool want_dir,
             polis_error **err)
{
  struct stat st;
  if (fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : error_sys (err, "stat `%s`", base);
  bool is_dir = S_ISDIR (st.st_mode);
  if (is_dir && want_dir)
    return 1;
  if (r->o->no_overwrite_dir_non_dir && is_dir != want_dir)
    return error_set (err, ERROR_INVALID, EEXIST,
                      is_dir ? "cannot overwrite directory \"%s\" with non-directory"
                             : "cannot overwrite non-directory \"%s\" with directory",
                      base);
  if (is_dir)
    {
      if (file_remove_tree_at (dirfd, base, err) < 0)
        return -1;
      return 0;
    }
  if (unlinkat (dirfd, base, 0) < 0)
    return error_sys (err, "remove `%s`", base);
  return 0;
}

static int
copy_data (reader *r, int fd, uint64_t size, polis_error **err)
{
  uint64_t padded = (size + BLOCK - 1) / BLOCK * BLOCK, done = 0;
  while (done < padded)
    {
      size_t n = padded - done < COPY_BUF ? (size_t) (padded - done) : COPY_BUF;
      if (read_full (r->in, r->buf, n, err) < 0)
        return -1;
      size_t useful = done + n <= size ? n : (done < size ? (size_t) (size - done) : 0);
      if (useful && file_write_all (fd, r->buf, useful, err) < 0)
        return -1;
      done += n;
    }
  return 0;
}

static int
extract_entry (reader *r, const unsigned char *h, char type, const char *name,
               const char *link, uint64_t size, polis_error **err)
{
  int64_t mode = number ((const char *) h + 100, 8) & 07777;
  int64_t uid = r->next_uid >= 0 ? r->next_uid : number ((const char *) h + 108, 8);
  int64_t gid = r->next_gid >= 0 ? r->next_gid : number ((const char *) h + 116, 8);
  int64_t mtime = r->next_mtime >= 0 ? r->next_mtime : number ((const char *) h + 136, 12);
  if (!r->o->keep_owner)
    uid = gid = 0;
  bool is_file = type == '0' || type == '\0' || type == '7';
  if (!is_file && type != '1' && type != '2' && type != '3' && type != '4'
      && type != '5' && type != '6')
    return skip (r, size, err);
  cleanup_free char *rel = clean_name (name, err);
  if (rel == NULL)
    return -1;
  if (*rel == '\0')
    return is_file ? skip (r, size, err) : 0;
  cleanup_free char *base = NULL;
  cleanup_close int dfd = open_parent (r, rel, &base, err);
  if (dfd < 0)
    return -1;
  int placed = clear_place (r, dfd, base, type == '5', err);
  if (placed < 0)
    return -1;
  struct timespec ts[2] = { { .tv_sec = mtime, .tv_nsec = 0 },
                            { .tv_sec = mtime, .tv_nsec = 0 } };
  switch (type)
    {
    case '5':
      if (!placed && mkdirat (dfd, base, 0700) < 0)
        return error_sys (err, "mkdir `%s`", rel);
      {
        cleanup_close int fd = openat (dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fchown (fd, (uid_t) uid, (gid_t) gid) < 0
            || fchmod (fd, (mode_t) mode) < 0)
          return error_sys (err, "set up `%s`", rel);
      }
      return 0;
    case '2':
      if (symlinkat (link, dfd, base) < 0)
        return error_sys (err, "symlink `%s`", rel);
      fchownat (dfd, base, (uid_t) uid, (gid_t) gid, AT_SYMLINK_NOFOLLOW);
      utimensat (dfd, base, ts, AT_SYMLINK_NOFOLLOW);
      return 0;
    case '1':
      {
        cleanup_free char *trel = clean_name (link, err);
        if (trel == NULL)
          return -1;
        cleanup_free char *tbase = NULL;
        cleanup_close int tfd = open_parent (r, trel, &tbase, err);
        if (tfd < 0)
          return -1;
        if (linkat (tfd, tbase, dfd, base, 0) < 0)
          return error_sys (err, "hard link `%s` to `%s`", rel, link);
        return 0;
      }
    case '3':
    case '4':
    case '6':
      {
        dev_t dev = makedev ((unsigned) number ((const char *) h + 329, 8),
                             (unsigned) number ((const char *) h + 337, 8));
        mode_t kind = type == '3' ? S_IFCHR : type == '4' ? S_IFBLK : S_IFIFO;
        if (mknodat (dfd, base, kind | (mode_t) (mode & 0777), dev) < 0)
          return error_sys (err, "mknod `%s`", rel);
        fchownat (dfd, base, (uid_t) uid, (gid_t) gid, AT_SYMLINK_NOFOLLOW);
        return 0;
      }
    default:
      {
        cleanup_close int fd = openat (dfd, base,
                                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                       0600);
        if (fd < 0)
          return error_sys (err, "create `%s`", rel);
        if (copy_data (r, fd, size, err) < 0)
          return -1;
        /* chown before chmod: chown clears set-id bits. */
        if (fchown (fd, (uid_t) uid, (gid_t) gid) < 0 || fchmod (fd, (mode_t) mode) < 0)
          return error_sys (err, "set up `%s`", rel);
        futimens (fd, ts);
        return 0;
      }
    }
}

static void
reset_next (reader *r)
{
  free (r->next_path);
  free (r->next_link);
  r->next_path = r->next_link = NULL;
  r->next_size = r->next_uid = r->next_gid = r->next_mtime = -1;
}

int
tar_extract (int in_fd, int rootfd, const char *dest, const tar_extract_opts *o,
             polis_error **err)
{
  reader r = { .in = in_fd, .rootfd = rootfd, .dest = dest, .o = o,
               .buf = xmalloc (COPY_BUF) };
  reset_next (&r);
  unsigned char h[BLOCK];
  int ret = 0;
  for (size_t entries = 0;; entries++)
    {
      if (entries > TAR_ENTRIES_MAX)
        {
          ret = error_set (err, ERROR_INVALID, E2BIG, "too many archive entries");
          break;
        }
      ssize_t got = 0;
      while (got < BLOCK)
        {
          ssize_t n = read (in_fd, h + got, BLOCK - (size_t) got);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          got += n;
        }
      if (got == 0)
        break; /* no end blocks: Go writes them, curl users may not */
      if (got < BLOCK)
        {
          ret = error_set (err, ERROR_INVALID, EINVAL, "unexpected EOF in the archive");
          break;
        }
      bool zero = true;
      for (size_t i = 0; i < BLOCK && zero; i++)
        zero = h[i] == 0;
      if (zero)
        break;
      if (!checksum_ok (h))
        {
          ret = error_set (err, ERROR_INVALID, EINVAL, "archive/tar: invalid tar header");
          break;
        }
      char type = (char) h[156];
      int64_t size = r.next_size >= 0 ? r.next_size : number ((const char *) h + 124, 12);
      if (size < 0)
        {
          ret = error_set (err, ERROR_INVALID, EINVAL, "archive/tar: invalid size");
          break;
        }
      if (type == 'x' || type == 'g' || type == 'L' || type == 'K')
        {
          cleanup_free char *blob = NULL;
          size_t max = type == 'x' || type == 'g' ? TAR_PAX_MAX : TAR_NAME_MAX;
          if (read_blob (&r, (uint64_t) size, max, &blob, err) < 0)
            {
              ret = -1;
              break;
            }
          if (type == 'x' && parse_pax (&r, blob, (size_t) size, err) < 0)
            {
              ret = -1;
              break;
            }
          if (type == 'L')
            {
              free (r.next_path);
              r.next_path = steal_pointer (&blob);
            }
          else if (type == 'K')
            {
              free (r.next_link);
              r.next_link = steal_pointer (&blob);
            }
          continue;
        }
      cleanup_free char *name = NULL;
      if (r.next_path)
        name = xstrdup (r.next_path);
      else
        {
          cleanup_free char *n = field_string ((const char *) h, 100);
          cleanup_free char *prefix = memcmp (h + 257, "ustar", 5) == 0
                                          ? field_string ((const char *) h + 345, 155)
                                          : xstrdup ("");
          name = *prefix ? xasprintf ("%s/%s", prefix, n) : steal_pointer (&n);
        }
      cleanup_free char *link = r.next_link ? xstrdup (r.next_link)
                                            : field_string ((const char *) h + 157, 100);
      ret = extract_entry (&r, h, type, name, link, (uint64_t) size, err);
      reset_next (&r);
      if (ret < 0)
        break;
    }
  reset_next (&r);
  free (r.buf);
  return ret;
}
