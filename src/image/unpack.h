/* unpack.h - apply a layer tarball to an empty snapshot directory, safely.
 *
 * The blob (gzip, zstd or plain tar, detected from its bytes) is read from
 * a file that may still be growing: the puller unpacks while it downloads,
 * and the unpacker waits on an unpack_feed for more bytes.  The
 * uncompressed stream is hashed as it goes, giving the diff ID.
 *
 * Every entry is created relative to the snapshot's fd and never through a
 * symlink: "../", absolute names and a symlink followed by a write cannot
 * touch anything outside.  OCI whiteouts become overlayfs whiteouts (char
 * 0/0) and opaque directories the trusted.overlay.opaque xattr.
 */
#ifndef POLIS_IMAGE_UNPACK_H
#define POLIS_IMAGE_UNPACK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "digest.h"

#define UNPACK_PATH_MAX 4096     /* an entry's name or link target */
#define UNPACK_NAME_MAX 255      /* one component */
#define UNPACK_ENTRIES_MAX 2000000
#define UNPACK_XATTR_MAX 65536   /* one xattr value */

/* Bytes of a growing file that may be read, shared between the downloader
   (which advances it) and the unpacker (which waits on it). */
typedef struct
{
  pthread_mutex_t lock;
  pthread_cond_t cond;
  uint64_t available;
  bool complete; /* no more bytes will come */
  bool failed;   /* the download failed: stop */
} unpack_feed;

void unpack_feed_init (unpack_feed *f);
void unpack_feed_destroy (unpack_feed *f);
void unpack_feed_advance (unpack_feed *f, uint64_t available);
void unpack_feed_finish (unpack_feed *f, bool ok);

typedef struct
{
  int src_fd;          /* the blob, read with pread from offset 0 */
  unpack_feed *feed;   /* NULL: SRC_FD is complete */
  int dest_fd;         /* an empty directory */
  bool allow_devices;  /* device nodes outside /dev (import of a rootfs) */
  /* Progress: called with uncompressed bytes so far (may be NULL). */
  void (*progress) (void *ud, uint64_t compressed_read);
  void *progress_ud;
} unpack_opts;

/* Unpack.  DIFF_ID gets the sha256 of the uncompressed tar, *SIZE its
   length.  On error the destination holds a partial tree that the caller
   removes. */
int unpack_layer (const unpack_opts *o, char diff_id[DIGEST_STRING_LEN + 1],
                  uint64_t *size, polis_error **err);

/* Decompress SRC_FD into DEST_FD (import of a .tar.gz, load of docker save
   archives): what the tar looks like uncompressed.  DIGEST gets its sha256. */
int unpack_decompress (int src_fd, int dest_fd,
                       char digest[DIGEST_STRING_LEN + 1], uint64_t *size,
                       polis_error **err);

/* Split and check an entry name: strips leading "/" and "./", refuses ".."
   and over-long names.  Returns a heap copy of the clean relative path, or
   NULL with *err set.  (Exported for the unit tests.) */
char *unpack_clean_name (const char *name, polis_error **err);

#endif
