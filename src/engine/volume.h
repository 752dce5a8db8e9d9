/* volume.h - volumes of the local driver: ROOT/volumes/<name>/_data.
 *
 * The table lives in memory (under the engine's volume lock) and in the
 * state database (`volumes`: name, creation time, JSON with Labels and
 * Options); every change is written through.  Who uses a volume is not
 * stored: it is every container whose mount points name it, so nothing
 * can disagree after a crash.
 *
 * A volume with driver options (type/device/o, like Docker's local
 * driver: a tmpfs, a bind of another directory) is mounted on its _data
 * when the first container using it starts and unmounted when the last
 * one stops (a count of running users, rebuilt by live restore).
 *
 * Lock order: the volume lock, then the engine lock.
 * The API calls are engine_volume_* in engine.h.
 */
#ifndef POLIS_ENGINE_VOLUME_H
#define POLIS_ENGINE_VOLUME_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

struct engine;
struct container;

#define VOLUME_NAME_MAX 255
/* Labels and driver options of one volume. */
#define VOLUME_MAP_MAX 256
#define VOLUME_STRING_MAX 4096

/* Docker's local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+, so that no
   name holds "/" or is "..".  ERROR_INVALID in Docker's words. */
int volume_check_name (const char *name, polis_error **err);

/* Load the table from the database (engine open) / free it (close). */
int volume_open_all (struct engine *e, polis_error **err);
void volume_close_all (struct engine *e);

void volume_lock (struct engine *e);
void volume_unlock (struct engine *e);

/* Create every volume C's mount points name that does not exist yet
   (anonymous ones get Docker's com.docker.volume.anonymous label).  The
   names made are appended to CREATED (a JSON array) so that a failed
   create can take them back with volume_remove_names.  Volume lock held. */
int volume_ensure_for (struct engine *e, struct container *c, json_t *created,
                       polis_error **err);
/* Remove the volumes named in NAMES (a JSON array) that no container uses.
   Volume lock held. */
void volume_remove_names (struct engine *e, json_t *names);

/* C starts: mount its volumes that have driver options (first user),
   copy the image's content (ROOTFS, mounted) into empty volumes, make
   missing -v bind sources.  Undone on error. */
int volume_container_start (struct engine *e, struct container *c,
                            const char *rootfs, polis_error **err);
/* C's run ended with its exit number EXIT_GEN (container->exit_gen after
   the exit): unmount option volumes it was the last running user of.
   Idempotent, and a no-op when C was started again after that exit (the
   monitor may report a stop after a restart's start counted C again). */
void volume_container_stop (struct engine *e, struct container *c,
                            uint64_t exit_gen);
/* Live restore found C running: count it as a user again. */
void volume_container_restored (struct engine *e, struct container *c);
/* After live restore: unmount option volumes no running container uses
   (their last user stopped while polisd was down). */
void volume_restore_done (struct engine *e);
/* C is out of the table: with ANONYMOUS (rm -v, --rm) remove its
   anonymous volumes no other container uses. */
void volume_container_removed (struct engine *e, struct container *c,
                               bool anonymous);

/* Copy the content of directory SRC_FD into the empty directory DST_FD
   (volume_copy.c): modes, owners, times, symlinks as symlinks, devices;
   never follows a link; hard links become copies.  DST_FD takes SRC_FD's
   owner and mode.  On failure DST_FD is emptied again. */
int volume_copy_tree (int src_fd, int dst_fd, polis_error **err);
/* The bytes of the regular files under PATH (not crossing into other
   file systems). */
int volume_tree_size (const char *path, long long *size, polis_error **err);

#endif
