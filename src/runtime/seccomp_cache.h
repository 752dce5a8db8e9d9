/* seccomp_cache.h - compiled seccomp programs kept under the state root.
 *
 * libseccomp takes ~15 ms to turn Docker's default profile into BPF, more
 * than the rest of a `create`; engines send the same profile for every
 * container.  The cache maps a key (the profile's JSON plus everything
 * else the program depends on: libseccomp's version, the kernel, this
 * build's version and build id) to the program, in
 * <root>/.seccomp-cache/.  The file name is a hash of the key, but a file
 * only counts when it holds the whole key, compared byte for byte: a hash
 * collision is a miss, never someone else's filter.  The entries are as
 * trusted as the rest of the state root (root's, 0700).  The cache is an
 * optimisation only: every failure to read or write it is a miss, logged
 * at debug level.
 */
#ifndef POLIS_RUNTIME_SECCOMP_CACHE_H
#define POLIS_RUNTIME_SECCOMP_CACHE_H

#include <stddef.h>

/* The directory under the state root. */
#define SECCOMP_CACHE_DIR ".seccomp-cache"
/* Entries kept; writing one more removes the oldest. */
#define SECCOMP_CACHE_MAX_ENTRIES 64

/* The cache key for the profile text PROFILE (LEN bytes).  Heap string,
   caller's; contains no NUL byte. */
char *seccomp_cache_key (const char *profile, size_t len);

/* The file name (in SECCOMP_CACHE_DIR) of KEY: its FNV-1a hash in hex.
   BUF has room for 32 bytes. */
void seccomp_cache_name (const char *key, char buf[32]);

/* The program stored for KEY under the state root ROOTFD: heap bytes
   (caller's), at most MAX of them, their count in *LEN.  NULL on a miss. */
void *seccomp_cache_get (int rootfd, const char *key, size_t max, size_t *len);

/* Store the program PROG (LEN bytes) for KEY, replacing any entry of the
   same name atomically.  Failures are logged, not reported. */
void seccomp_cache_put (int rootfd, const char *key, const void *prog, size_t len);

#endif
