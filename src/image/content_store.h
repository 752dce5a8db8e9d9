/* content_store.h - blobs by digest under <root>/content/blobs/sha256/.
 *
 * A blob is only ever visible under its digest once it is complete and
 * verified: writers stream into <root>/content/ingest/, hashing as they go,
 * then fsync and rename.  A killed process leaves a partial file in ingest/
 * (which a later writer of the same digest resumes from), never a blob that
 * looks complete.  Writers start the write-back of what they wrote as they
 * go (sync_file_range), so that the fsync at the end finds little left to do.
 */
#ifndef POLIS_IMAGE_CONTENT_STORE_H
#define POLIS_IMAGE_CONTENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "digest.h"

typedef struct content_store content_store;
typedef struct content_writer content_writer;

/* Open (creating the directories) the store under ROOT.  Caller frees. */
content_store *content_store_open (const char *root, polis_error **err);
void content_store_free (content_store *cs);
void content_store_cleanup (content_store **cs);
#define cleanup_content_store __attribute__ ((cleanup (content_store_cleanup)))

/* Is DIGEST present?  *SIZE (optional) gets its size. */
bool content_store_has (content_store *cs, const char *digest, uint64_t *size);
/* The path of a blob (whether or not it exists).  Caller frees. */
char *content_store_blob_path (content_store *cs, const char *digest);
/* Open a present blob read-only.  -1 with ERROR_NOT_FOUND when missing. */
int content_store_open_blob (content_store *cs, const char *digest,
                             polis_error **err);
/* Read a whole blob of at most MAX bytes (manifests, configs).  Caller
   frees.  NULL on error. */
char *content_store_read_blob (content_store *cs, const char *digest,
                               size_t max, size_t *len, polis_error **err);
/* Store BUF, named by its digest (written to OUT when not NULL).  When
   EXPECTED is given, a different digest is refused and nothing is kept. */
int content_store_put_blob (content_store *cs, const void *buf, size_t len,
                            const char *expected,
                            char out[DIGEST_STRING_LEN + 1],
                            polis_error **err);
/* Write BUF (checked against EXPECTED when given) into ingest/ without
   making it visible yet: the returned writer is verified, and
   content_writer_commit makes it durable and visible later, so that a pull
   syncs its small blobs at its end with the rest instead of one by one
   before it starts.  When the blob is present already the writer is done.
   Freed uncommitted, the file goes.  NULL on error. */
content_writer *content_store_stage_blob (content_store *cs, const void *buf,
                                          size_t len, const char *expected,
                                          polis_error **err);
/* Remove the digest-less temporaries (staged blobs, loads) of processes
   that no longer exist.  Partials of known digests stay: they resume. */
void content_store_gc_temporaries (content_store *cs);
/* Remove a blob and any partial download of it; missing is fine. */
int content_store_delete_blob (content_store *cs, const char *digest,
                               polis_error **err);

/* Flags of content_store_writer. */
#define CONTENT_WRITER_RESUME 1u /* keep and re-hash what the partial holds */
#define CONTENT_WRITER_NOWAIT 2u /* fail with EAGAIN if another writer has it */

/* Start (or resume) writing a blob.  With EXPECTED (a digest), the partial
   file is content/ingest/<hex>.partial and, with CONTENT_WRITER_RESUME,
   whatever it already holds is kept and re-hashed so that the download
   continues at content_writer_offset().  EXPECTED_SIZE < 0 means unknown;
   writing past a known size is an error.  Without EXPECTED the digest is
   whatever the bytes hash to.  Concurrent writers of one digest serialise
   on a lock, held until commit or free; with CONTENT_WRITER_NOWAIT a busy
   lock is ERROR_CONFLICT/EAGAIN instead of a wait.  Caller frees with
   content_writer_free, which keeps the partial file of a resumable writer. */
content_writer *content_store_writer (content_store *cs, const char *expected,
                                      int64_t expected_size, unsigned flags,
                                      polis_error **err);
uint64_t content_writer_offset (const content_writer *w);
/* True when the blob turned out to be present already (another process
   finished it while we waited for the lock): nothing to write. */
bool content_writer_done (const content_writer *w);
int content_writer_write (content_writer *w, const void *buf, size_t len,
                          polis_error **err);
/* Drop what was written so far (a server that ignored a Range request). */
int content_writer_restart (content_writer *w, polis_error **err);
/* A new read-only fd on the file being written, for readers that follow the
   download (the unpacker).  It stays valid after commit.  -1 on error. */
int content_writer_reader_fd (content_writer *w, polis_error **err);
/* Check digest and size once all bytes are written, without making the
   blob visible.  On a mismatch the partial file is deleted.  OUT (optional)
   gets the digest.  Writing after this is an error. */
int content_writer_verify (content_writer *w, char out[DIGEST_STRING_LEN + 1],
                           polis_error **err);
/* Verify (unless done already), fsync, rename into blobs/, fsync blobs/,
   and release the lock.  OUT (optional) gets the digest.  On a mismatch the
   partial file is deleted.  Another thread may commit a writer that the
   thread that wrote it verified, once that thread no longer touches it. */
int content_writer_commit (content_writer *w, char out[DIGEST_STRING_LEN + 1],
                           polis_error **err);
/* Delete the partial file. */
void content_writer_discard (content_writer *w);
void content_writer_free (content_writer *w);
void content_writer_cleanup (content_writer **w);
#define cleanup_content_writer __attribute__ ((cleanup (content_writer_cleanup)))

#endif
