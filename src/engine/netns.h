/* netns.h - network namespaces for containers, made by polisd.
 *
 * Networking proper is a later issue; until then a container gets a
 * network namespace of its own with only loopback, up (what Docker calls
 * --network none), or the host's (--network host).  As dockerd (through
 * libnetwork) does, polisd makes the namespace itself, bind-mounts it at
 * RUNROOT/netns/<name>, and hands the runtime its path in config.json.
 *
 * Making a namespace costs a few milliseconds of kernel work (and tearing
 * one down more, asynchronously), so a small pool of ready namespaces is
 * kept: a container's start takes one at once, and a background thread
 * makes the next while the container runs.  Released namespaces are
 * unmounted; the kernel frees them when nothing else holds them.
 */
#ifndef POLIS_ENGINE_NETNS_H
#define POLIS_ENGINE_NETNS_H

#include "base/error.h"

typedef struct netns_pool netns_pool;

/* A pool of TARGET ready namespaces under DIR (created).  Namespaces left
   there by an earlier daemon that no container uses are taken back into
   the pool (IN_USE, NULL-terminated, lists the paths containers hold). */
netns_pool *netns_pool_new (const char *dir, unsigned target,
                            char *const *in_use, polis_error **err);
/* Stop the thread and release the unused namespaces.  NULL-safe. */
void netns_pool_free (netns_pool *p);

/* A ready namespace (its path; caller frees), made now if the pool is
   empty. */
char *netns_pool_take (netns_pool *p, polis_error **err);

/* Unmount and remove a namespace's file (a missing one is fine). */
void netns_release (const char *path);

#endif
