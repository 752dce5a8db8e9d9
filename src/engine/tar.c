/* tar.c - tar archives of container files, both ways. */
#include "tar.h"

#include <dirent.h>
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
#include "base/xalloc.h"

#define BLOCK 512
#define COPY_BUF (64u << 10)
#define TREE_DEPTH_MAX 256

typedef struct
{
  char name[100];
  char mode[8];
  char uid[8];
  char gid[8];
  char size[12];
  char mtime[12];
  char chksum[8];
  char typeflag;
  char linkname[100];
  char magic[6];
  char version[2];
  char uname[32];
  char gname[32];
  char devmajor[8];
  char devminor[8];
  char prefix[155];
  char pad[12];
} tar_header;

_Static_assert (sizeof (tar_header) == BLOCK, "a tar header is one block");

/* --- writing ----------------------------------------------------------------------- */

typedef struct
{
  int out;
  dev_t dev;
  bool cross;
  char *buf;
} writer;

static void
octal (char *field, size_t width, uint64_t v)
{
  /* width - 1 digits and a NUL, zero-padded. */
  char tmp[32];
  snprintf (tmp, sizeof tmp, "%0*llo", (int) (width - 1), (unsigned long long) v);
  memcpy (field, tmp, width - 1);
  field[width - 1] = '\0';
}

static bool
fits_octal (uint64_t v, size_t width)
{
  return v < (UINT64_C (1) << (3 * (width - 1)));
}

static void
checksum (tar_header *h)
{
  memset (h->chksum, ' ', sizeof h->chksum);
  unsigned sum = 0;
  const unsigned char *p = (const unsigned char *) h;
  for (size_t i = 0; i < BLOCK; i++)
    sum += p[i];
  snprintf (h->chksum, sizeof h->chksum, "%06o", sum);
  h->chksum[7] = ' ';
}

static int
write_blocks (writer *w, const void *buf, size_t len, polis_error **err)
{
  if (file_write_all (w->out, buf, len, err) < 0)
    return -1;
  size_t pad = (BLOCK - len % BLOCK) % BLOCK;
  static const char zeros[BLOCK];
  return pad ? file_write_all (w->out, zeros, pad, err) : 0;
}

/* "LEN key=value\n", where LEN counts itself. */
static void
pax_record (char **buf, size_t *len, const char *key, const char *value)
{
  size_t body = strlen (key) + strlen (value) + 3; /* ' ', '=', '\n' */
  size_t n = body + 1;
  while (snprintf (NULL, 0, "%zu", n) + body != n)
    n++;
  *buf = xrealloc (*buf, *len + n + 1);
  *len += (size_t) snprintf (*buf + *len, n + 1, "%zu %s=%s\n", n, key, value);
}

static int
write_header (writer *w, const char *name, const struct stat *st, char type,
              const char *link, uint64_t size, polis_error **err)
{
  cleanup_free char *pax = NULL;
  size_t pax_len = 0;
  tar_header h;
  memset (&h, 0, sizeof h);
  size_t nl = strlen (name);
  if (nl <= sizeof h.name)
    memcpy (h.name, name, nl);
  else
    {
      pax_record (&pax, &pax_len, "path", name);
      memcpy (h.name, name, sizeof h.name);
    }
  if (link)
    {
      size_t ll = strlen (link);
      if (ll <= sizeof h.linkname)
        memcpy (h.linkname, link, ll);
      else
        {
          pax_record (&pax, &pax_len, "linkpath", link);
          memcpy (h.linkname, link, sizeof h.linkname);
        }
    }
  char num[32];
  octal (h.mode, sizeof h.mode, st->st_mode & 07777);
  if (fits_octal (st->st_uid, sizeof h.uid))
    octal (h.uid, sizeof h.uid, st->st_uid);
  else
    {
      snprintf (num, sizeof num, "%u", (unsigned) st->st_uid);
      pax_record (&pax, &pax_len, "uid", num);
      octal (h.uid, sizeof h.uid, 0);
    }
  if (fits_octal (st->st_gid, sizeof h.gid))
    octal (h.gid, sizeof h.gid, st->st_gid);
  else
    {
      snprintf (num, sizeof num, "%u", (unsigned) st->st_gid);
      pax_record (&pax, &pax_len, "gid", num);
      octal (h.gid, sizeof h.gid, 0);
    }
  if (fits_octal (size, sizeof h.size))
    octal (h.size, sizeof h.size, size);
  else
    {
      snprintf (num, sizeof num, "%llu", (unsigned long long) size);
      pax_record (&pax, &pax_len, "size", num);
      octal (h.size, sizeof h.size, 0);
    }
  octal (h.mtime, sizeof h.mtime,
         st->st_mtim.tv_sec > 0 ? (uint64_t) st->st_mtim.tv_sec : 0);
  h.typeflag = type;
  memcpy (h.magic, "ustar", 6);
  memcpy (h.version, "00", 2);
  if (type == '3' || type == '4')
    {
      octal (h.devmajor, sizeof h.devmajor, major (st->st_rdev));
      octal (h.devminor, sizeof h.devminor, minor (st->st_rdev));
    }
  if (pax)
    {
      tar_header x;
      memset (&x, 0, sizeof x);
      snprintf (x.name, sizeof x.name, "PaxHeaders/%.80s", name);
      octal (x.mode, sizeof x.mode, 0644);
      octal (x.uid, sizeof x.uid, 0);
      octal (x.gid, sizeof x.gid, 0);
      octal (x.size, sizeof x.size, pax_len);
      octal (x.mtime, sizeof x.mtime, 0);
      x.typeflag = 'x';
      memcpy (x.magic, "ustar", 6);
      memcpy (x.version, "00", 2);
      checksum (&x);
      if (write_blocks (w, &x, BLOCK, err) < 0
          || write_blocks (w, pax, pax_len, err) < 0)
        return -1;
    }
  checksum (&h);
  return write_blocks (w, &h, BLOCK, err);
}

static int
write_file_data (writer *w, int fd, uint64_t size, polis_error **err)
{
  uint64_t done = 0;
  while (done < size)
    {
      size_t want = size - done < COPY_BUF ? (size_t) (size - done) : COPY_BUF;
      ssize_t n = read (fd, w->buf, want);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return error_sys (err, "read");
      if (n == 0)
        {
          /* The file shrank while we read it: pad with zeros so the
             archive stays well formed. */
          memset (w->buf, 0, want);
          n = (ssize_t) want;
        }
      if (file_write_all (w->out, w->buf, (size_t) n, err) < 0)
        return -1;
      done += (uint64_t) n;
    }
  size_t pad = (BLOCK - size % BLOCK) % BLOCK;
  static const char zeros[BLOCK];
  return pad ? file_write_all (w->out, zeros, pad, err) : 0;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static int write_entry (writer *w, int dirfd, const char *name,
                        const char *arc, int depth, polis_error **err);

static int
write_dir_children (writer *w, int fd, const char *arc, int depth,
                    polis_error **err)
{
  int dup_fd = dup (fd);
  if (dup_fd < 0)
    return error_sys (err, "dup");
  cleanup_closedir DIR *d = fdopendir (dup_fd);
  if (d == NULL)
    {
      close (dup_fd);
      return error_sys (err, "opendir `%s`", arc);
    }
  /* Sorted, as Docker's archives are: the same tree gives the same tar. */
  cleanup_strv char **names = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      names = xreallocarray (names, n + 2, sizeof *names);
      names[n++] = xstrdup (de->d_name);
      names[n] = NULL;
    }
  if (n > 1)
    qsort (names, n, sizeof *names, compare_names);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *child = *arc ? xasprintf ("%s/%s", arc, names[i])
                                      : xstrdup (names[i]);
      if (write_entry (w, fd, names[i], child, depth + 1, err) < 0)
        return -1;
    }
  return 0;
}

static int
write_entry (writer *w, int dirfd, const char *name, const char *arc, int depth,
             polis_error **err)
{
  if (depth > TREE_DEPTH_MAX)
    return error_set (err, ERROR_INVALID, ELOOP, "`%s`: tree too deep", arc);
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0; /* removed while we walked */
      return error_sys (err, "stat `%s`", arc);
    }
  if (S_ISDIR (st.st_mode))
    {
      cleanup_close int fd = openat (dirfd, name,
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return error_sys (err, "open `%s`", arc);
      if (*arc)
        {
          cleanup_free char *dname = xasprintf ("%s/", arc);
          if (write_header (w, dname, &st, '5', NULL, 0, err) < 0)
            return -1;
        }
      if (!w->cross && st.st_dev != w->dev)
        return 0;
      return write_dir_children (w, fd, arc, depth, err);
    }
  if (S_ISLNK (st.st_mode))
    {
      char target[TAR_NAME_MAX + 1];
      ssize_t n = readlinkat (dirfd, name, target, TAR_NAME_MAX);
      if (n < 0)
        return error_sys (err, "readlink `%s`", arc);
      target[n] = '\0';
      return write_header (w, arc, &st, '2', target, 0, err);
    }
  if (S_ISREG (st.st_mode))
    {
      cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return error_sys (err, "open `%s`", arc);
      if (write_header (w, arc, &st, '0', NULL, (uint64_t) st.st_size, err) < 0)
        return -1;
      return write_file_data (w, fd, (uint64_t) st.st_size, err);
    }
  char type = S_ISCHR (st.st_mode) ? '3' : S_ISBLK (st.st_mode) ? '4'
              : S_ISFIFO (st.st_mode)                           ? '6'
                                                                : 0;
  /* Overlay whiteouts (char 0/0) and sockets have no place in a tar. */
  if (type == 0 || (type == '3' && st.st_rdev == 0))
    return 0;
  return write_header (w, arc, &st, type, NULL, 0, err);
}

int
tar_write_tree (int dirfd, const char *name, const char *arcname,
                bool cross_mounts, int out_fd, polis_error **err)
{
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return error_sys (err, "stat `%s`", name);
  writer w = { .out = out_fd, .dev = st.st_dev, .cross = cross_mounts,
               .buf = xmalloc (COPY_BUF) };
  const char *arc = arcname ? arcname : "";
  int r = write_entry (&w, dirfd, name, arc, 0, err);
  free (w.buf);
  if (r < 0)
    return -1;
  static const char end[2 * BLOCK];
  return file_write_all (out_fd, end, sizeof end, err);
}
