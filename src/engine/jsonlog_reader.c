/* jsonlog_reader.c - read a json-file log and its rotated files: from the
 * last N entries or from a time on, and on as the log grows and rotates.
 *
 * The files are opened at once, oldest first, so that a rotation while we
 * read renames what we hold without changing it.  Following, the reader
 * notices a rotation at the end of the current file (the path names
 * another file now): it drains what was written before the rename, then
 * moves on to the new file.  A file emptied in place (max-file 1) is read
 * again from its start.
 */
#include "jsonlog.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

/* Size of each backwards read of `tail`, and the first read buffer. */
#define JSONLOG_READ_BLOCK (64 * 1024)

typedef struct
{
  int fd;
  char *path;
  dev_t dev;
  ino_t ino;
} jsonlog_file;

struct jsonlog_reader
{
  char *path;
  jsonlog_read_opts o;
  jsonlog_file *files; /* oldest first; the last is PATH when it existed */
  size_t n_files;
  size_t cur;
  /* Buffered bytes of files[cur]: buf[start, end) is at file offset OFF. */
  char *buf;
  size_t cap, start, end;
  uint64_t off;
  bool skipping; /* inside a line longer than JSONLOG_READ_LINE_MAX */
  bool done;     /* past until */
  json_t *entry; /* the entry last returned (its strings are the caller's view) */
  int inotify_fd;
  uint64_t bytes_read;
};

static ssize_t
jsonlog_reader_pread (jsonlog_reader *r, int fd, void *buf, size_t len, uint64_t at)
{
  ssize_t n;
  do
    n = pread (fd, buf, len, (off_t) at);
  while (n < 0 && errno == EINTR);
  if (n > 0)
    r->bytes_read += (uint64_t) n;
  return n;
}

/* Add the file at PATH (if it exists) after the others. */
static int
jsonlog_reader_add_file (jsonlog_reader *r, const char *path, polis_error **err)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return 0;
      return error_sys (err, "open log `%s`", path);
    }
  struct stat st;
  fstat (fd, &st);
  r->files = xreallocarray (r->files, r->n_files + 1, sizeof *r->files);
  r->files[r->n_files++] = (jsonlog_file){ .fd = fd, .path = xstrdup (path),
                                           .dev = st.st_dev, .ino = st.st_ino };
  return 1;
}

static void
jsonlog_reader_close_files (jsonlog_reader *r)
{
  for (size_t i = 0; i < r->n_files; i++)
    {
      close (r->files[i].fd);
      free (r->files[i].path);
    }
  free (r->files);
  r->files = NULL;
  r->n_files = 0;
}

/* Open PATH.K ... PATH.1, PATH.  A rotation between two opens would shift
   the names under us: check that PATH is still what we opened, else try
   again. */
static int
jsonlog_reader_open_files (jsonlog_reader *r, polis_error **err)
{
  for (int attempt = 0; attempt < 5; attempt++)
    {
      unsigned k = 0;
      struct stat st;
      for (unsigned i = 1; i <= JSONLOG_MAX_FILES; i++)
        {
          cleanup_free char *p = xasprintf ("%s.%u", r->path, i);
          if (stat (p, &st) < 0)
            break;
          k = i;
        }
      for (unsigned i = k; i >= 1; i--)
        {
          cleanup_free char *p = xasprintf ("%s.%u", r->path, i);
          if (jsonlog_reader_add_file (r, p, err) < 0)
            return -1;
        }
      int have = jsonlog_reader_add_file (r, r->path, err);
      if (have < 0)
        return -1;
      jsonlog_file *last = r->n_files ? &r->files[r->n_files - 1] : NULL;
      bool same = have == 0 ? stat (r->path, &st) < 0
                            : stat (r->path, &st) == 0 && st.st_ino == last->ino
                                  && st.st_dev == last->dev;
      if (same)
        return 0;
      jsonlog_reader_close_files (r);
    }
  return error_set (err, ERROR_UNAVAILABLE, EAGAIN, "log `%s` keeps rotating", r->path);
}

/* ---- where to start -------------------------------------------------------- */

typedef struct
{
  size_t file;
  uint64_t off;
} jsonlog_pos;

static bool
jsonlog_pos_before (jsonlog_pos a, jsonlog_pos b)
{
  return a.file < b.file || (a.file == b.file && a.off < b.off);
}

static uint64_t
jsonlog_file_size (const jsonlog_file *f)
{
  struct stat st;
  return fstat (f->fd, &st) == 0 ? (uint64_t) st.st_size : 0;
}

/* The first of the last N complete lines, reading backwards. */
static jsonlog_pos
jsonlog_reader_seek_tail (jsonlog_reader *r, int64_t n)
{
  jsonlog_pos end = { 0, 0 };
  if (r->n_files == 0)
    return end;
  if (n == 0)
    {
      /* Nothing old: start after the last complete line. */
      jsonlog_file *f = &r->files[r->n_files - 1];
      uint64_t size = jsonlog_file_size (f);
      char c;
      uint64_t p = size;
      while (p > 0 && jsonlog_reader_pread (r, f->fd, &c, 1, p - 1) == 1 && c != '\n')
        p--;
      return (jsonlog_pos){ r->n_files - 1, p };
    }
  cleanup_free char *blk = xmalloc (JSONLOG_READ_BLOCK);
  int64_t count = 0;
  for (size_t i = r->n_files; i-- > 0;)
    {
      jsonlog_file *f = &r->files[i];
      uint64_t p = jsonlog_file_size (f);
      bool terminated = false; /* found the "\n" of the file's last complete line */
      while (p > 0)
        {
          size_t want = p > JSONLOG_READ_BLOCK ? JSONLOG_READ_BLOCK : (size_t) p;
          ssize_t got = jsonlog_reader_pread (r, f->fd, blk, want, p - want);
          if (got != (ssize_t) want)
            break;
          for (size_t j = want; j-- > 0;)
            {
              if (blk[j] != '\n')
                continue;
              if (!terminated)
                {
                  terminated = true;
                  continue;
                }
              if (++count == n)
                return (jsonlog_pos){ i, p - want + j + 1 };
            }
          p -= want;
        }
      if (terminated && ++count == n)
        return (jsonlog_pos){ i, 0 };
    }
  return (jsonlog_pos){ 0, 0 };
}

/* Parse the entry LINE (LEN bytes, no "\n").  New reference or NULL. */
static json_t *
jsonlog_reader_decode (const char *line, size_t len, jsonlog_entry *e)
{
  json_error_t jerr;
  json_t *j = json_loadb (line, len, JSON_ALLOW_NUL, &jerr);
  if (!json_is_object (j))
    goto bad;
  json_t *log = json_object_get (j, "log");
  json_t *time = json_object_get (j, "time");
  const char *stream = json_string_value (json_object_get (j, "stream"));
  if (!json_is_string (log) || !json_is_string (time))
    goto bad;
  cleanup_error polis_error *err = NULL;
  if (jsonlog_parse_time (json_string_value (time), json_string_length (time),
                          &e->time_ns, &err) < 0)
    goto bad;
  e->stream = stream && strcmp (stream, "stderr") == 0 ? JSONLOG_STDERR : JSONLOG_STDOUT;
  e->log = json_string_value (log);
  e->log_len = json_string_length (log);
  return j;

bad:
  json_decref (j);
  return NULL;
}

/* The time of the first entry of file I: its first index record, else its
   first line.  False when it has none. */
static bool
jsonlog_reader_first_time (jsonlog_reader *r, size_t i, int64_t *t)
{
  jsonlog_file *f = &r->files[i];
  cleanup_free char *idx = xasprintf ("%s.idx", f->path);
  cleanup_close int ifd = open (idx, O_RDONLY | O_CLOEXEC);
  jsonlog_index_record rec;
  if (ifd >= 0 && jsonlog_reader_pread (r, ifd, &rec, sizeof rec, 0) == (ssize_t) sizeof rec
      && rec.offset == 0)
    {
      *t = rec.time_ns;
      return true;
    }
  cleanup_free char *blk = xmalloc (JSONLOG_READ_BLOCK);
  ssize_t n = jsonlog_reader_pread (r, f->fd, blk, JSONLOG_READ_BLOCK, 0);
  char *nl = n > 0 ? memchr (blk, '\n', (size_t) n) : NULL;
  if (nl == NULL)
    return false;
  jsonlog_entry e;
  json_t *j = jsonlog_reader_decode (blk, (size_t) (nl - blk), &e);
  if (j == NULL)
    return false;
  *t = e.time_ns;
  json_decref (j);
  return true;
}

/* Where entries at or after SINCE may begin: the file whose first entry
   is older, and in it the last indexed entry older than SINCE. */
static jsonlog_pos
jsonlog_reader_seek_since (jsonlog_reader *r, int64_t since)
{
  size_t i = r->n_files;
  while (i-- > 0)
    {
      int64_t t;
      if (jsonlog_reader_first_time (r, i, &t) && t < since)
        break;
    }
  if (i == (size_t) -1)
    return (jsonlog_pos){ 0, 0 };
  cleanup_free char *idx = xasprintf ("%s.idx", r->files[i].path);
  cleanup_close int ifd = open (idx, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (ifd < 0 || fstat (ifd, &st) < 0)
    return (jsonlog_pos){ i, 0 }; /* no index: read the file from its start */
  size_t lo = 0, hi = (size_t) st.st_size / sizeof (jsonlog_index_record);
  uint64_t off = 0;
  /* Invariant: records before LO are older than SINCE, from HI on not. */
  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      jsonlog_index_record rec;
      if (jsonlog_reader_pread (r, ifd, &rec, sizeof rec, mid * sizeof rec)
          != (ssize_t) sizeof rec)
        break;
      if (rec.time_ns < since)
        {
          off = rec.offset;
          lo = mid + 1;
        }
      else
        hi = mid;
    }
  return (jsonlog_pos){ i, off };
}

/* ---- reading entries ----------------------------------------------------- */

static void
jsonlog_reader_goto (jsonlog_reader *r, size_t file, uint64_t off)
{
  r->cur = file;
  r->off = off;
  r->start = r->end = 0;
  r->skipping = false;
}

/* The next complete line of the current file (without its "\n"): 1, or 0
   at its end (an incomplete last line stays for later). */
static int
jsonlog_reader_line (jsonlog_reader *r, const char **line, size_t *len,
                     polis_error **err)
{
  if (r->cur >= r->n_files)
    return 0;
  int fd = r->files[r->cur].fd;
  for (;;)
    {
      char *nl = r->end > r->start ? memchr (r->buf + r->start, '\n', r->end - r->start) : NULL;
      if (nl)
        {
          size_t n = (size_t) (nl - (r->buf + r->start));
          bool skip = r->skipping;
          *line = r->buf + r->start;
          *len = n;
          r->start += n + 1;
          r->off += n + 1;
          r->skipping = false;
          if (skip)
            continue; /* the end of an overlong line */
          return 1;
        }
      if (r->start > 0)
        {
          memmove (r->buf, r->buf + r->start, r->end - r->start);
          r->end -= r->start;
          r->start = 0;
        }
      if (r->end == r->cap)
        {
          if (r->cap >= JSONLOG_READ_LINE_MAX)
            {
              r->off += r->end;
              r->end = 0;
              r->skipping = true;
            }
          else
            {
              r->cap = r->cap ? r->cap * 2 : JSONLOG_READ_BLOCK;
              r->buf = xrealloc (r->buf, r->cap);
            }
        }
      ssize_t n = jsonlog_reader_pread (r, fd, r->buf + r->end, r->cap - r->end,
                                        r->off + (r->end - r->start));
      if (n < 0)
        return error_sys (err, "read log `%s`", r->files[r->cur].path);
      if (n == 0)
        return 0;
      r->end += (size_t) n;
    }
}

typedef enum
{
  JSONLOG_SAME,      /* nothing new */
  JSONLOG_EMPTIED,   /* the file was emptied in place (max-file 1) */
  JSONLOG_ROTATED,   /* the path names a new file, now the last one */
} jsonlog_change;

/* At the end of the last file, following: has the log rotated, or been
   emptied? */
static jsonlog_change
jsonlog_reader_check_rotation (jsonlog_reader *r, polis_error **err)
{
  struct stat st;
  if (stat (r->path, &st) < 0)
    return JSONLOG_SAME; /* between rename and create */
  jsonlog_file *last = r->n_files ? &r->files[r->n_files - 1] : NULL;
  if (last && st.st_ino == last->ino && st.st_dev == last->dev)
    return (uint64_t) st.st_size < r->off + (r->end - r->start) ? JSONLOG_EMPTIED
                                                               : JSONLOG_SAME;
  if (last)
    {
      /* Rotated, maybe more than once: our file is PATH.K now, and
         PATH.K-1 ... PATH.1 came after it. */
      unsigned k = 0;
      for (unsigned i = 1; i <= JSONLOG_MAX_FILES && k == 0; i++)
        {
          cleanup_free char *p = xasprintf ("%s.%u", r->path, i);
          struct stat ost;
          if (stat (p, &ost) < 0)
            break;
          if (ost.st_ino == last->ino && ost.st_dev == last->dev)
            k = i;
        }
      for (unsigned i = k ? k - 1 : 0; i >= 1; i--)
        {
          cleanup_free char *p = xasprintf ("%s.%u", r->path, i);
          if (jsonlog_reader_add_file (r, p, err) < 0)
            return JSONLOG_SAME;
        }
    }
  if (jsonlog_reader_add_file (r, r->path, err) <= 0)
    return JSONLOG_SAME;
  if (r->n_files == 1)
    jsonlog_reader_goto (r, 0, 0); /* the log did not exist at open */
  return JSONLOG_ROTATED;
}

int
jsonlog_reader_next (jsonlog_reader *r, jsonlog_entry *e, polis_error **err)
{
  json_decref (r->entry);
  r->entry = NULL;
  while (!r->done)
    {
      const char *line = NULL;
      size_t len = 0;
      int ret = jsonlog_reader_line (r, &line, &len, err);
      if (ret < 0)
        return -1;
      if (ret == 0)
        {
          if (r->cur + 1 < r->n_files)
            {
              jsonlog_reader_goto (r, r->cur + 1, 0);
              continue;
            }
          if (!r->o.follow)
            return 0;
          /* After a rotation the loop reads the old file once more (what
             was written just before the rename), then the new one. */
          jsonlog_change c = jsonlog_reader_check_rotation (r, err);
          if (c == JSONLOG_SAME)
            return 0;
          if (c == JSONLOG_EMPTIED)
            jsonlog_reader_goto (r, r->cur, 0);
          continue;
        }
      json_t *j = jsonlog_reader_decode (line, len, e);
      if (j == NULL)
        continue;
      if (r->o.since_ns && e->time_ns < r->o.since_ns)
        {
          json_decref (j);
          continue;
        }
      if (r->o.until_ns && e->time_ns > r->o.until_ns)
        {
          json_decref (j);
          r->done = true;
          return 0;
        }
      r->entry = j;
      return 1;
    }
  return 0;
}

jsonlog_reader *
jsonlog_reader_open (const char *path, const jsonlog_read_opts *o,
                     polis_error **err)
{
  jsonlog_reader *r = xzalloc (sizeof *r);
  r->path = xstrdup (path);
  r->o = *o;
  r->inotify_fd = -1;
  if (o->follow)
    {
      /* Watch the directory: rotation creates and renames names in it. */
      cleanup_free char *dir = xstrdup (path);
      char *slash = strrchr (dir, '/');
      if (slash == dir)
        slash[1] = '\0';
      else if (slash)
        *slash = '\0';
      r->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
      if (r->inotify_fd < 0
          || inotify_add_watch (r->inotify_fd, slash ? dir : ".",
                                IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE)
                 < 0)
        {
          error_sys (err, "watch log `%s`", path);
          jsonlog_reader_free (r);
          return NULL;
        }
    }
  if (jsonlog_reader_open_files (r, err) < 0)
    {
      jsonlog_reader_free (r);
      return NULL;
    }
  jsonlog_pos pos = { 0, 0 };
  if (o->tail >= 0)
    pos = jsonlog_reader_seek_tail (r, o->tail);
  if (o->since_ns > 0)
    {
      jsonlog_pos s = jsonlog_reader_seek_since (r, o->since_ns);
      if (jsonlog_pos_before (pos, s))
        pos = s;
    }
  jsonlog_reader_goto (r, pos.file, pos.off);
  return r;
}

int
jsonlog_reader_wait (jsonlog_reader *r, int timeout_ms, polis_error **err)
{
  if (r->inotify_fd < 0)
    return 0;
  struct pollfd p = { .fd = r->inotify_fd, .events = POLLIN };
  int n;
  do
    n = poll (&p, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return error_sys (err, "wait for log");
  if (n == 0)
    return 0;
  char buf[4096] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
  while (read (r->inotify_fd, buf, sizeof buf) > 0)
    ;
  return 1;
}

int
jsonlog_reader_fd (const jsonlog_reader *r)
{
  return r->inotify_fd;
}

uint64_t
jsonlog_reader_bytes_read (const jsonlog_reader *r)
{
  return r->bytes_read;
}

void
jsonlog_reader_free (jsonlog_reader *r)
{
  if (r == NULL)
    return;
  json_decref (r->entry);
  jsonlog_reader_close_files (r);
  if (r->inotify_fd >= 0)
    close (r->inotify_fd);
  free (r->buf);
  free (r->path);
  free (r);
}
