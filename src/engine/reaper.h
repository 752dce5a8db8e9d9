/* reaper.h - what a removed container leaves on disk, removed in the
 * background.
 *
 * `docker rm` answers once the container is gone from the database, the
 * table and its shim; its root file system's unmount is slow (overlayfs
 * syncs the whole upper file system when it goes) and nobody needs to
 * wait for it.  One thread unmounts the root, releases the network
 * namespace and removes the directories.  A daemon that stops finishes
 * the queue first; one that was killed finds the leftovers at its next
 * start (directories of containers the database does not have).
 */
#ifndef POLIS_ENGINE_REAPER_H
#define POLIS_ENGINE_REAPER_H

#include "base/error.h"

typedef struct reaper reaper;

reaper *reaper_start (polis_error **err);
/* Finish every queued removal, then stop.  NULL-safe. */
void reaper_stop (reaper *r);

/* Queue the removal of the host network interfaces LINKS (NULL-terminated),
   DIR (its rootfs/ unmounted first), RUN_DIR and the network namespace
   NETNS (any may be NULL).  Copies them. */
void reaper_add (reaper *r, char *const *links, const char *dir,
                 const char *run_dir, const char *netns);

/* The same, now, in the caller's thread. */
int reaper_remove_now (char *const *links, const char *dir, const char *run_dir,
                       const char *netns, polis_error **err);

#endif
