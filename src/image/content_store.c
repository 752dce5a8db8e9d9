/* content_store.c - blobs by digest, verified, fsynced, renamed into place.
 *
 * Write-back is started every CONTENT_WRITEBACK_CHUNK bytes with
 * sync_file_range(SYNC_FILE_RANGE_WRITE), which only queues the pages for
 * the disk: a download of N MB then costs the disk's time while the bytes
 * arrive, and the fsync before the rename waits for little more than the
 * journal commit.  It changes nothing about what is durable when: only the
 * fsync counts. */
#include "content_store.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/xalloc.h"

struct content_store
{
  char *root;
  int blobs_fd;  /* content/blobs/sha256 */
  int ingest_fd; /* content/ingest */
};

struct content_writer
{
  content_store *cs;
  char *expected; /* NULL: digest unknown until commit */
  int64_t expected_size;
  char *partial; /* name in ingest/ */
  int fd;
  uint64_t offset;
  digest_ctx *digest;
  uint64_t kicked; /* write-back started up to here */
  bool resumable;  /* keep the partial file when freed */
  bool verified;
  char verified_digest[DIGEST_STRING_LEN + 1];
  bool done;
};

#define CONTENT_WRITEBACK_CHUNK (2u << 20)

static int
open_dir (const char *path, polis_error **err)
{
  int ret = file_mkdir_p (path, 0700, err);
  if (ret < 0)
    return ret;
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "open `%s`", path);
  return fd;
}

content_store *
content_store_open (const char *root, polis_error **err)
{
  cleanup_free char *blobs = xasprintf ("%s/content/blobs/sha256", root);
  cleanup_free char *ingest = xasprintf ("%s/content/ingest", root);
  content_store *cs = xzalloc (sizeof *cs);
  cs->blobs_fd = cs->ingest_fd = -1;
  cs->root = xstrdup (root);
  cs->blobs_fd = open_dir (blobs, err);
  if (cs->blobs_fd >= 0)
    cs->ingest_fd = open_dir (ingest, err);
  if (cs->ingest_fd < 0)
    {
      content_store_free (cs);
      error_wrap (err, "open content store");
      return NULL;
    }
  return cs;
}

void
content_store_free (content_store *cs)
{
  if (cs == NULL)
    return;
  if (cs->blobs_fd >= 0)
    close (cs->blobs_fd);
  if (cs->ingest_fd >= 0)
    close (cs->ingest_fd);
  free (cs->root);
  free (cs);
}

void
content_store_cleanup (content_store **cs)
{
  content_store_free (*cs);
  *cs = NULL;
}

bool
content_store_has (content_store *cs, const char *digest, uint64_t *size)
{
  struct stat st;
  if (digest_validate (digest, NULL) < 0)
    return false;
  if (fstatat (cs->blobs_fd, digest_hex (digest), &st, AT_SYMLINK_NOFOLLOW) < 0
      || !S_ISREG (st.st_mode))
    return false;
  if (size)
    *size = (uint64_t) st.st_size;
  return true;
}

char *
content_store_blob_path (content_store *cs, const char *digest)
{
  return xasprintf ("%s/content/blobs/sha256/%s", cs->root, digest_hex (digest));
}

int
content_store_open_blob (content_store *cs, const char *digest,
                         polis_error **err)
{
  if (digest_validate (digest, err) < 0)
    return -1;
  int fd = openat (cs->blobs_fd, digest_hex (digest),
                   O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return error_set (err, ERROR_NOT_FOUND, ENOENT, "blob %s not found",
                      digest);
  if (fd < 0)
    return error_sys (err, "open blob %s", digest);
  return fd;
}

char *
content_store_read_blob (content_store *cs, const char *digest, size_t max,
                         size_t *len, polis_error **err)
{
  cleanup_close int fd = content_store_open_blob (cs, digest, err);
  if (fd < 0)
    return NULL;
  char *buf = file_read_fd (fd, max, len, err);
  if (buf == NULL)
    error_wrap (err, "read blob %s", digest);
  return buf;
}

/* fsync a directory so that a rename in it survives a crash. */
static void
sync_dir (int dfd)
{
  fsync (dfd);
}

int
content_store_put_blob (content_store *cs, const void *buf, size_t len,
                        const char *expected, char out[DIGEST_STRING_LEN + 1],
                        polis_error **err)
{
  char d[DIGEST_STRING_LEN + 1];
  digest_buffer (buf, len, d);
  if (expected && strcmp (expected, d) != 0)
    return error_set (err, ERROR_INVALID, EBADMSG,
                      "digest mismatch: expected %s, got %s", expected, d);
  if (out)
    memcpy (out, d, sizeof d);
  if (content_store_has (cs, d, NULL))
    return 0;
  int ret = file_write_atomic_at (cs->blobs_fd, digest_hex (d), buf, len, 0644,
                                  true, err);
  if (ret < 0)
    return error_wrap (err, "store blob %s", d);
  sync_dir (cs->blobs_fd);
  return 0;
}

content_writer *
content_store_stage_blob (content_store *cs, const void *buf, size_t len,
                          const char *expected, polis_error **err)
{
  char d[DIGEST_STRING_LEN + 1];
  digest_buffer (buf, len, d);
  if (expected && strcmp (expected, d) != 0)
    {
      error_set (err, ERROR_INVALID, EBADMSG,
                 "digest mismatch: expected %s, got %s", expected, d);
      return NULL;
    }
  if (content_store_has (cs, d, NULL))
    {
      content_writer *w = xzalloc (sizeof *w);
      w->cs = cs;
      w->fd = -1;
      w->digest = digest_new ();
      w->expected = xstrdup (d);
      w->partial = xstrdup ("");
      w->done = true;
      return w;
    }
  /* A private temporary, not <hex>.partial: nothing to resume or to wait
     for, and two pulls renaming the same bytes into place is harmless. */
  content_writer *w = content_store_writer (cs, NULL, (int64_t) len, 0, err);
  if (w == NULL)
    return NULL;
  w->expected = xstrdup (d);
  if (content_writer_write (w, buf, len, err) < 0
      || content_writer_verify (w, NULL, err) < 0)
    {
      content_writer_free (w);
      return NULL;
    }
  return w;
}

void
content_store_gc_temporaries (content_store *cs)
{
  int dfd = dup (cs->ingest_fd);
  if (dfd < 0)
    return;
  DIR *d = fdopendir (dfd);
  if (d == NULL)
    {
      close (dfd);
      return;
    }
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      /* tmp-<pid>-<n>-<random>.partial */
      if (strncmp (de->d_name, "tmp-", 4) != 0)
        continue;
      int pid = atoi (de->d_name + 4);
      if (pid > 0 && pid != getpid () && kill (pid, 0) < 0 && errno == ESRCH)
        unlinkat (cs->ingest_fd, de->d_name, 0);
    }
  closedir (d);
}

int
content_store_delete_blob (content_store *cs, const char *digest,
                           polis_error **err)
{
  if (digest_validate (digest, err) < 0)
    return -1;
  if (unlinkat (cs->blobs_fd, digest_hex (digest), 0) < 0 && errno != ENOENT)
    return error_sys (err, "remove blob %s", digest);
  cleanup_free char *partial = xasprintf ("%s.partial", digest_hex (digest));
  unlinkat (cs->ingest_fd, partial, 0);
  return 0;
}

/* Re-hash what a partial file already holds, so that a resumed download
   is verified over all of its bytes. */
static int
writer_rehash (content_writer *w, polis_error **err)
{
  enum { BUF = 1 << 17 };
  cleanup_free char *buf = xmalloc (BUF);
  uint64_t total = 0;
  if (lseek (w->fd, 0, SEEK_SET) < 0)
    return error_sys (err, "seek");
  for (;;)
    {
      ssize_t r = read (w->fd, buf, BUF);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return error_sys (err, "read partial blob");
      if (r == 0)
        break;
      digest_update (w->digest, buf, (size_t) r);
      total += (uint64_t) r;
    }
  w->offset = total;
  return 0;
}

content_writer *
content_store_writer (content_store *cs, const char *expected,
                      int64_t expected_size, unsigned flags, polis_error **err)
{
  bool resume = flags & CONTENT_WRITER_RESUME;
  if (expected && digest_validate (expected, err) < 0)
    return NULL;
  content_writer *w = xzalloc (sizeof *w);
  w->cs = cs;
  w->fd = -1;
  w->expected_size = expected_size;
  w->resumable = resume && expected;
  w->digest = digest_new ();
  if (expected)
    {
      w->expected = xstrdup (expected);
      w->partial = xasprintf ("%s.partial", digest_hex (expected));
    }
  else
    {
      static unsigned counter;
      w->partial = xasprintf ("tmp-%d-%u-%lx.partial", (int) getpid (),
                              __atomic_add_fetch (&counter, 1, __ATOMIC_RELAXED),
                              (unsigned long) random ());
    }
  w->fd = openat (cs->ingest_fd, w->partial,
                  O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (w->fd < 0)
    {
      error_sys (err, "open `%s`", w->partial);
      content_writer_free (w);
      return NULL;
    }
  /* Two pulls of one blob: the second waits, then finds it complete. */
  int lock = LOCK_EX | (flags & CONTENT_WRITER_NOWAIT ? LOCK_NB : 0);
  if (flock (w->fd, lock) < 0)
    {
      if (errno == EWOULDBLOCK)
        error_set (err, ERROR_CONFLICT, EAGAIN, "`%s` is being written",
                   w->partial);
      else
        error_sys (err, "lock `%s`", w->partial);
      w->resumable = true; /* not ours to delete */
      content_writer_free (w);
      return NULL;
    }
  if (expected && content_store_has (cs, expected, NULL))
    {
      w->done = true;
      unlinkat (cs->ingest_fd, w->partial, 0);
      return w;
    }
  int ret = 0;
  if (resume && expected)
    ret = writer_rehash (w, err);
  else if (ftruncate (w->fd, 0) < 0)
    ret = error_sys (err, "truncate `%s`", w->partial);
  if (ret == 0 && expected_size >= 0 && w->offset > (uint64_t) expected_size)
    ret = content_writer_restart (w, err);
  if (ret < 0)
    {
      content_writer_free (w);
      return NULL;
    }
  return w;
}

uint64_t
content_writer_offset (const content_writer *w)
{
  return w->offset;
}

bool
content_writer_done (const content_writer *w)
{
  return w->done;
}

int
content_writer_write (content_writer *w, const void *buf, size_t len,
                      polis_error **err)
{
  if (w->verified || w->done)
    return error_set (err, ERROR_INTERNAL, EINVAL, "blob %s: write after verify",
                      w->partial);
  if (w->expected_size >= 0 && w->offset + len > (uint64_t) w->expected_size)
    return error_set (err, ERROR_INVALID, EBADMSG,
                      "blob %s: more data than the %lld bytes announced",
                      w->expected ? w->expected : "", (long long) w->expected_size);
  const char *p = buf;
  size_t left = len;
  while (left > 0)
    {
      ssize_t n = pwrite (w->fd, p, left, (off_t) (w->offset + (len - left)));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return error_sys (err, "write `%s`", w->partial);
      p += n;
      left -= (size_t) n;
    }
  digest_update (w->digest, buf, len);
  w->offset += len;
  if (w->offset - w->kicked >= CONTENT_WRITEBACK_CHUNK)
    {
      /* Advisory: an error here shows again at fsync. */
      sync_file_range (w->fd, (off_t) w->kicked, (off_t) (w->offset - w->kicked),
                       SYNC_FILE_RANGE_WRITE);
      w->kicked = w->offset;
    }
  return 0;
}

int
content_writer_restart (content_writer *w, polis_error **err)
{
  if (ftruncate (w->fd, 0) < 0)
    return error_sys (err, "truncate `%s`", w->partial);
  digest_reset (w->digest);
  w->offset = w->kicked = 0;
  return 0;
}

int
content_writer_reader_fd (content_writer *w, polis_error **err)
{
  if (w->done)
    return content_store_open_blob (w->cs, w->expected, err);
  int fd = openat (w->cs->ingest_fd, w->partial,
                   O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "open `%s`", w->partial);
  return fd;
}

int
content_writer_verify (content_writer *w, char out[DIGEST_STRING_LEN + 1],
                       polis_error **err)
{
  char d[DIGEST_STRING_LEN + 1];
  if (w->done || w->verified)
    {
      if (out)
        memcpy (out, w->done ? w->expected : w->verified_digest,
                DIGEST_STRING_LEN + 1);
      return 0;
    }
  digest_final (w->digest, d);
  if (w->expected_size >= 0 && w->offset != (uint64_t) w->expected_size)
    {
      content_writer_discard (w);
      return error_set (err, ERROR_INVALID, EBADMSG,
                        "blob %s: size %llu, expected %lld",
                        w->expected ? w->expected : d,
                        (unsigned long long) w->offset,
                        (long long) w->expected_size);
    }
  if (w->expected && strcmp (w->expected, d) != 0)
    {
      content_writer_discard (w);
      return error_set (err, ERROR_INVALID, EBADMSG,
                        "digest mismatch: expected %s, got %s", w->expected,
                        d);
    }
  memcpy (w->verified_digest, d, sizeof d);
  w->verified = true;
  if (out)
    memcpy (out, d, sizeof d);
  return 0;
}

int
content_writer_commit (content_writer *w, char out[DIGEST_STRING_LEN + 1],
                       polis_error **err)
{
  if (w->done)
    return content_writer_verify (w, out, err);
  if (content_writer_verify (w, NULL, err) < 0)
    return -1;
  const char *d = w->verified_digest;
  if (fsync (w->fd) < 0)
    return error_sys (err, "fsync `%s`", w->partial);
  if (renameat (w->cs->ingest_fd, w->partial, w->cs->blobs_fd, digest_hex (d))
      < 0)
    return error_sys (err, "rename blob %s", d);
  sync_dir (w->cs->blobs_fd);
  w->done = true;
  if (w->expected == NULL)
    w->expected = xstrdup (d);
  /* Visible now: release the lock, so that a pull waiting for this blob
     goes on while we are still busy with the rest of ours. */
  close (w->fd);
  w->fd = -1;
  if (out)
    memcpy (out, d, DIGEST_STRING_LEN + 1);
  return 0;
}

void
content_writer_discard (content_writer *w)
{
  if (!w->done && w->fd >= 0)
    unlinkat (w->cs->ingest_fd, w->partial, 0);
}

void
content_writer_free (content_writer *w)
{
  if (w == NULL)
    return;
  /* Digest-less temporaries cannot be resumed, and a blob written from
     memory is written again whole: do not keep them. */
  if (!w->resumable && !w->done && w->fd >= 0)
    unlinkat (w->cs->ingest_fd, w->partial, 0);
  if (w->fd >= 0)
    close (w->fd);
  digest_free (w->digest);
  free (w->expected);
  free (w->partial);
  free (w);
}

void
content_writer_cleanup (content_writer **w)
{
  content_writer_free (*w);
  *w = NULL;
}
