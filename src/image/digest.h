/* digest.h - sha256 content digests ("sha256:<64 hex>") computed while
 * streaming, as the content store and the unpacker need them.
 */
#ifndef POLIS_IMAGE_DIGEST_H
#define POLIS_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define DIGEST_STRING_LEN (7 + 64) /* "sha256:" + hex */

typedef struct digest_ctx digest_ctx;

/* A new running sha256.  Never NULL (allocation failure aborts). */
digest_ctx *digest_new (void);
void digest_update (digest_ctx *d, const void *buf, size_t len);
/* Finish into OUT ("sha256:…", NUL-terminated).  The context may be reset
   with digest_reset and used again. */
void digest_final (digest_ctx *d, char out[DIGEST_STRING_LEN + 1]);
void digest_reset (digest_ctx *d);
void digest_free (digest_ctx *d);
void digest_cleanup (digest_ctx **d);
#define cleanup_digest __attribute__ ((cleanup (digest_cleanup)))

/* One-shot digest of BUF. */
void digest_buffer (const void *buf, size_t len,
                    char out[DIGEST_STRING_LEN + 1]);

/* Digest of everything readable from FD (from its current offset);
   *SIZE gets the byte count.  Returns -1 with *err set on read errors. */
int digest_fd (int fd, char out[DIGEST_STRING_LEN + 1], uint64_t *size,
               polis_error **err);

/* Check that S is a digest we can verify ("sha256:" + 64 lowercase hex).
   Anything from a manifest goes through this before it names a file. */
int digest_validate (const char *s, polis_error **err);

/* The 64 hex digits of a validated digest (points into S). */
const char *digest_hex (const char *s);

#endif
