/* jsonlog_writer.c - append container output to a json-file log, cut
 * into lines, rotated, indexed. */
#include "jsonlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/xalloc.h"

/* What waits of one stream: the start of a line not yet complete. */
typedef struct
{
  char *buf; /* JSONLOG_LINE_MAX bytes once the stream has had a partial line */
  size_t len;
  int64_t partial_ns; /* time of the first part of a split line, else 0 */
} jsonlog_pending;

struct jsonlog_writer
{
  char *path;
  char *idx_path;
  int fd;
  int idx_fd;
  uint64_t size;
  uint64_t next_index; /* the first entry at or past this offset is indexed */
  uint64_t max_size;
  unsigned max_file;
  jsonlog_pending pending[3]; /* by jsonlog_stream */
};

static int
jsonlog_writer_open_files (jsonlog_writer *w, bool truncate, polis_error **err)
{
  int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  w->fd = open (w->path, flags, 0640);
  if (w->fd < 0)
    return error_sys (err, "open log `%s`", w->path);
  w->idx_fd = open (w->idx_path, flags, 0640);
  if (w->idx_fd < 0)
    return error_sys (err, "open log index `%s`", w->idx_path);
  struct stat st;
  if (fstat (w->fd, &st) < 0)
    return error_sys (err, "stat log `%s`", w->path);
  w->size = (uint64_t) st.st_size;
  w->next_index = 0;
  /* Go on after the last record of an existing index. */
  struct stat ist;
  if (fstat (w->idx_fd, &ist) == 0 && ist.st_size >= (off_t) sizeof (jsonlog_index_record))
    {
      jsonlog_index_record rec;
      off_t at = ist.st_size - ist.st_size % (off_t) sizeof rec - (off_t) sizeof rec;
      if (pread (w->idx_fd, &rec, sizeof rec, at) == (ssize_t) sizeof rec)
        w->next_index = rec.offset + JSONLOG_INDEX_EVERY;
    }
  else if (w->size > 0)
    w->next_index = w->size; /* an unindexed log: index from here on */
  return 0;
}

static void
jsonlog_writer_close_files (jsonlog_writer *w)
{
  if (w->fd >= 0)
    close (w->fd);
  if (w->idx_fd >= 0)
    close (w->idx_fd);
  w->fd = w->idx_fd = -1;
}

jsonlog_writer *
jsonlog_writer_open (const char *path, uint64_t max_size, unsigned max_file,
                     polis_error **err)
{
  jsonlog_writer *w = xzalloc (sizeof *w);
  w->path = xstrdup (path);
  w->idx_path = xasprintf ("%s.idx", path);
  w->fd = w->idx_fd = -1;
  w->max_size = max_size;
  w->max_file = max_file ? max_file : 1;
  if (jsonlog_writer_open_files (w, false, err) < 0)
    {
      jsonlog_writer_close (w);
      return NULL;
    }
  return w;
}

/* PATH.N, and PATH.N.idx beside it (N 0: PATH itself). */
static void
jsonlog_writer_names (const char *path, unsigned n, char **log, char **idx)
{
  *log = n ? xasprintf ("%s.%u", path, n) : xstrdup (path);
  *idx = xasprintf ("%s.idx", *log);
}

/* Docker's rotate(): drop the oldest file, shift the others up by one,
   start an empty file.  With one file, empty it. */
static int
jsonlog_writer_rotate (jsonlog_writer *w, polis_error **err)
{
  jsonlog_writer_close_files (w);
  if (w->max_file < 2)
    return jsonlog_writer_open_files (w, true, err);
  for (unsigned i = w->max_file - 1; i >= 1; i--)
    {
      cleanup_free char *from = NULL, *from_idx = NULL, *to = NULL, *to_idx = NULL;
      jsonlog_writer_names (w->path, i - 1, &from, &from_idx);
      jsonlog_writer_names (w->path, i, &to, &to_idx);
      if (i == w->max_file - 1)
        {
          unlink (to);
          unlink (to_idx);
        }
      if (rename (from, to) < 0 && errno != ENOENT)
        return error_sys (err, "rotate log `%s`", from);
      if (rename (from_idx, to_idx) < 0 && errno != ENOENT)
        return error_sys (err, "rotate log index `%s`", from_idx);
    }
  return jsonlog_writer_open_files (w, true, err);
}

int
jsonlog_writer_write (jsonlog_writer *w, jsonlog_stream stream,
                      const char *data, size_t len, int64_t time_ns,
                      polis_error **err)
{
  if (w->fd < 0)
    {
      /* A rotation failed earlier: try the files again. */
      if (jsonlog_writer_open_files (w, false, err) < 0)
        {
          jsonlog_writer_close_files (w);
          return -1;
        }
    }
  if (w->max_size && w->size >= w->max_size && jsonlog_writer_rotate (w, err) < 0)
    {
      jsonlog_writer_close_files (w);
      return -1;
    }
  size_t n;
  cleanup_free char *line = jsonlog_encode (stream, data, len, time_ns, &n);
  uint64_t at = w->size;
  if (file_write_all (w->fd, line, n, err) < 0)
    {
      /* Whatever part went in counts for the next rotation. */
      struct stat st;
      if (fstat (w->fd, &st) == 0)
        w->size = (uint64_t) st.st_size;
      return error_wrap (err, "write log `%s`", w->path);
    }
  w->size += n;
  /* The line first: a record never points past the data. */
  if (at >= w->next_index)
    {
      jsonlog_index_record rec = { .offset = at, .time_ns = time_ns };
      if (file_write_all (w->idx_fd, &rec, sizeof rec, err) < 0)
        return error_wrap (err, "write log index `%s`", w->idx_path);
      w->next_index = at + JSONLOG_INDEX_EVERY;
    }
  return 0;
}

/* Write the pending part of STREAM plus MORE, as one entry. */
static int
jsonlog_writer_emit (jsonlog_writer *w, jsonlog_stream stream, const char *more,
                     size_t more_len, bool complete, int64_t time_ns,
                     polis_error **err)
{
  jsonlog_pending *p = &w->pending[stream];
  const char *data = more;
  size_t len = more_len;
  if (p->len)
    {
      memcpy (p->buf + p->len, more, more_len);
      p->len += more_len;
      data = p->buf;
      len = p->len;
    }
  /* Every part of a split line carries the time of its first part. */
  int64_t t = p->partial_ns ? p->partial_ns : time_ns;
  p->len = 0;
  p->partial_ns = complete ? 0 : t;
  return jsonlog_writer_write (w, stream, data, len, t, err);
}

int
jsonlog_writer_feed (jsonlog_writer *w, jsonlog_stream stream,
                     const char *data, size_t len, int64_t time_ns,
                     polis_error **err)
{
  jsonlog_pending *p = &w->pending[stream];
  int ret = 0;
  while (len > 0)
    {
      size_t room = JSONLOG_LINE_MAX - p->len;
      size_t take = len < room ? len : room;
      const char *nl = memchr (data, '\n', take);
      if (nl)
        {
          /* The entry's text keeps its "\n", as Docker's does; it fits
             in the buffer since it lies within TAKE. */
          size_t q = (size_t) (nl - data) + 1;
          if (jsonlog_writer_emit (w, stream, data, q, true, time_ns, err) < 0)
            ret = -1;
          data += q;
          len -= q;
          continue;
        }
      if (p->buf == NULL)
        p->buf = xmalloc (JSONLOG_LINE_MAX);
      memcpy (p->buf + p->len, data, take);
      p->len += take;
      data += take;
      len -= take;
      if (p->len == JSONLOG_LINE_MAX
          && jsonlog_writer_emit (w, stream, "", 0, false, time_ns, err) < 0)
        ret = -1;
    }
  return ret;
}

int
jsonlog_writer_flush (jsonlog_writer *w, jsonlog_stream stream,
                      int64_t time_ns, polis_error **err)
{
  jsonlog_pending *p = &w->pending[stream];
  if (p->len == 0)
    return 0;
  int ret = jsonlog_writer_emit (w, stream, "", 0, false, time_ns, err);
  p->partial_ns = 0;
  /* The buffer served a long or unfinished line: give it back. */
  free (p->buf);
  p->buf = NULL;
  return ret;
}

void
jsonlog_writer_close (jsonlog_writer *w)
{
  if (w == NULL)
    return;
  for (int s = JSONLOG_STDOUT; s <= JSONLOG_STDERR; s++)
    {
      cleanup_error polis_error *e = NULL;
      if (w->fd >= 0 && w->pending[s].len)
        {
          struct timespec ts;
          clock_gettime (CLOCK_REALTIME, &ts);
          jsonlog_writer_flush (w, (jsonlog_stream) s,
                                (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec, &e);
        }
      free (w->pending[s].buf);
    }
  jsonlog_writer_close_files (w);
  free (w->path);
  free (w->idx_path);
  free (w);
}
