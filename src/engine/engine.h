/* engine.h - polisd's model: containers, exec instances, images, events.
 *
 * The engine owns the state database (state_db.h), the image store (the
 * image library, under the same --root), the event bus (events.h) and one
 * monitor thread that follows every live shim's event stream
 * (monitor.h).  The API layer calls it; it never speaks HTTP.
 *
 * Containers are kept in memory (the working set; listing 100 of them
 * touches no disk) and every change is written through to SQLite before
 * the call returns.  One engine lock guards the table and the database;
 * lifecycle operations on one container are serialised by that
 * container's own lock and do their slow work (spawning a shim, waiting
 * for a stop) without the engine lock.
 *
 * Handles: engine_container_get() returns a reference that the caller
 * drops with container_unref(); a container removed meanwhile stays valid
 * memory but is marked removed.
 *
 * Errors carry Docker's wording where clients match on it ("No such
 * container: x", 409 "is not running"); their class is the HTTP status.
 */
#ifndef POLIS_ENGINE_ENGINE_H
#define POLIS_ENGINE_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "events.h"
#include "image/image_store.h"

typedef struct engine engine;
typedef struct container container;

typedef struct
{
  const char *root;          /* --root: polis.db, containers/, images */
  const char *run_root;      /* --run-root: shim sockets, runtime state */
  const char *shim_path;     /* polis-shim */
  const char *image_tool;    /* polis-image (pull, push, load, save, import) */
  const char *cgroup_parent; /* "polis": cgroups at /polis/<id> */
  const char *init_path;     /* polis-init, for HostConfig.Init */
  char **insecure_registries;
  char **registry_mirrors;
  /* Networking (network.h); NULL: defaults. */
  const char *bridge;       /* --bridge: the default network's bridge (polis0) */
  const char *bip;          /* --bip: its address, CIDR (from the pool) */
  const char *address_pool; /* --default-address-pool base=CIDR,size=N */
  const char *nft_table;    /* --nft-table: Polis' nftables table (polis) */
  const char *nft_helper;   /* polis-nft */
  const char *dns_upstream; /* --dns-upstream IP[:PORT] (resolv.conf's) */
  bool ip_forward;          /* --ip-forward: turn net.ipv4.ip_forward on */
} engine_opts;

/* Open the state, load containers, reconcile them with their shims (live
   restore) and start the monitor.  Caller closes. */
engine *engine_open (const engine_opts *o, polis_error **err);
/* Stop the monitor and free everything; containers keep running. */
void engine_close (engine *e);

events_bus *engine_events (engine *e);
const engine_opts *engine_options (engine *e);

/* RFC 3339 with nanoseconds, Docker's format ("0001-01-01T00:00:00Z" for
   0).  Writes into BUF (>= 40 bytes) and returns it. */
const char *engine_format_time (int64_t ns, char *buf, size_t len);
/* The reverse (0 for the zero time or garbage). */
int64_t engine_parse_time (const char *s);

/* --- containers ------------------------------------------------------- */

/* Resolve REF (full ID, name with or without "/", unique ID prefix).
   ERROR_NOT_FOUND "No such container: REF".  New reference. */
container *engine_container_get (engine *e, const char *ref,
                                 polis_error **err);
void container_unref (container *c);
static inline void
cleanup_container_fn (container **c)
{
  if (*c)
    container_unref (*c);
  *c = NULL;
}
#define cleanup_container __attribute__ ((cleanup (cleanup_container_fn)))

const char *container_id (const container *c);
/* A copy of the name without "/" (caller frees). */
char *container_name (engine *e, const container *c);
bool container_tty (const container *c);
bool container_is_running (engine *e, container *c);
/* Publish a container event (its name, image and labels as attributes). */
void engine_container_event (engine *e, container *c, const char *action);

/* POST /containers/create: NAME may be NULL (one is generated); BODY is the
   request.  *ID (caller frees) and *WARNINGS (new array) on success.
   ERROR_NOT_FOUND "No such image: x" makes clients pull and retry. */
int engine_container_create (engine *e, const char *name, json_t *body,
                             int api_version, char **id, json_t **warnings,
                             polis_error **err);

/* Is C paused now?  (Cheaper than reading it from inspect.) */
bool engine_container_paused (engine *e, container *c);

typedef struct
{
  bool all;
  long long limit; /* <= 0: no limit */
  bool size;
  json_t *filters; /* {"key":{"value":true}} or {"key":["value"]}, may be NULL */
} container_list_opts;
/* GET /containers/json: the JSON array as text (*LEN bytes; caller
   frees). */
char *engine_container_list (engine *e, const container_list_opts *o,
                             size_t *len, polis_error **err);
/* GET /containers/{id}/json. New object. */
json_t *engine_container_inspect (engine *e, container *c, bool size,
                                  int api_version);

int engine_container_rename (engine *e, container *c, const char *new_name,
                             polis_error **err);
/* DELETE: refuses a running container without FORCE (409). */
int engine_container_remove (engine *e, container *c, bool force,
                             bool volumes, polis_error **err);
/* Returns 1 when already running (HTTP 304). */
int engine_container_start (engine *e, container *c, polis_error **err);
/* TIMEOUT < 0: the container's StopTimeout or 10 s.  SIGNAL NULL: its
   StopSignal or SIGTERM.  Returns 1 when not running (304). */
int engine_container_stop (engine *e, container *c, int timeout,
                           const char *signal, polis_error **err);
int engine_container_restart (engine *e, container *c, int timeout,
                              const char *signal, polis_error **err);
/* SIGNAL NULL: SIGKILL.  409 when not running. */
int engine_container_kill (engine *e, container *c, const char *signal,
                           polis_error **err);
int engine_container_pause (engine *e, container *c, polis_error **err);
int engine_container_unpause (engine *e, container *c, polis_error **err);
int engine_container_resize (engine *e, container *c, int height, int width,
                             polis_error **err);
/* POST /containers/{id}/update: body is Docker's UpdateConfig. */
int engine_container_update (engine *e, container *c, json_t *body,
                             json_t **warnings, polis_error **err);
/* GET /containers/{id}/top. */
json_t *engine_container_top (engine *e, container *c, const char *ps_args,
                              polis_error **err);
/* POST /containers/prune.  New {"ContainersDeleted":[...],"SpaceReclaimed":N}. */
json_t *engine_container_prune (engine *e, json_t *filters, polis_error **err);

/* --- waiting ------------------------------------------------------------ */

typedef enum
{
  WAIT_NOT_RUNNING,
  WAIT_NEXT_EXIT,
  WAIT_REMOVED,
} wait_condition;

typedef struct container_waiter container_waiter;
/* Register a waiter on C for COND (before replying, so nothing is missed). */
container_waiter *engine_wait_register (engine *e, container *c,
                                        wait_condition cond);
/* Block until the condition holds (returns 0, *EXIT_CODE set, *ERRMSG the
   State.Error if any, caller frees) or one of the fds STOP_FD / CLIENT_FD
   is readable or hung up (returns -1). */
int engine_wait_block (engine *e, container_waiter *w, int stop_fd,
                       int client_fd, int *exit_code, char **errmsg);
void engine_wait_free (engine *e, container_waiter *w);
/* For callers with their own poll loop: an fd readable when the
   container's state may have changed, and a non-blocking check. */
int engine_wait_fd (container_waiter *w);
bool engine_wait_done (engine *e, container_waiter *w);

/* --- attach and exec ---------------------------------------------------- */

/* Attach to C's stdio through its shim.  Waits (for a container not yet
   started) until its shim exists, then returns a connected socket whose
   stream is already in Docker's wire form.  -1 when STOP_FD fires or
   CLIENT_FD (a hijacked socket: only a hang-up counts) goes first, or on
   error. */
int engine_attach_open (engine *e, container *c, bool in, bool out, bool err_,
                        const char *detach_keys, int stop_fd, int client_fd,
                        polis_error **err);
/* Mark one attacher as expected before the 101 reply, so that a start
   waits for it to connect (Docker: attach before start misses nothing). */
void engine_attach_expect (engine *e, container *c, int delta);

/* POST /containers/{id}/exec.  *ID caller frees. */
int engine_exec_create (engine *e, container *c, json_t *body, char **id,
                        polis_error **err);
/* The container of exec ID (new reference), ERROR_NOT_FOUND "No such exec
   instance: ID". */
container *engine_exec_container (engine *e, const char *id,
                                  polis_error **err);
bool engine_exec_tty (engine *e, const char *id);
/* Start: with DETACH the exec runs on its own and -1/0 is returned; else a
   connected stream socket like engine_attach_open's. */
int engine_exec_start (engine *e, const char *id, bool detach, bool tty,
                       polis_error **err);
json_t *engine_exec_inspect (engine *e, const char *id, polis_error **err);
/* Wait (at most TIMEOUT_MS) until the shim reported exec ID's exit: its
   stream may end a moment before.  0 when it has, -1 otherwise. */
int engine_exec_wait (engine *e, const char *id, int timeout_ms);
int engine_exec_resize (engine *e, const char *id, int height, int width,
                        polis_error **err);

/* --- files --------------------------------------------------------------- */

/* The host path of C's root file system (mounted), caller frees. */
char *engine_container_rootfs (engine *e, container *c, polis_error **err);
/* C's bind mounts as {destination, source, readonly}; for `docker cp`. */
json_t *engine_container_binds (engine *e, container *c);
/* The log file path (caller frees). */
char *engine_container_log_path (engine *e, container *c);

/* --- stats ---------------------------------------------------------------- */

/* One Docker stats sample; PREV (may be NULL) fills precpu_stats. */
json_t *engine_container_stats (engine *e, container *c, json_t *prev,
                                 polis_error **err);

/* --- volumes (volume.c) --------------------------------------------------------- */

/* POST /volumes/create: BODY is Docker's CreateOptions (Name, Driver,
   DriverOpts, Labels); an existing name is returned as it is.  New
   volume object (Docker's Volume). */
json_t *engine_volume_create (engine *e, const json_t *body, polis_error **err);
/* GET /volumes/{name}.  ERROR_NOT_FOUND "get NAME: no such volume". */
json_t *engine_volume_inspect (engine *e, const char *name, polis_error **err);
/* GET /volumes: filters dangling, name, label, label!, driver.  New
   {"Volumes":[...],"Warnings":[]}. */
json_t *engine_volume_list (engine *e, const json_t *filters, polis_error **err);
/* DELETE /volumes/{name}: 409 "remove NAME: volume is in use - [IDs]"
   while a container (running or not) uses it; FORCE ignores a missing
   one. */
int engine_volume_remove (engine *e, const char *name, bool force,
                          polis_error **err);
/* POST /volumes/prune: unused volumes, only anonymous ones from API 1.42
   unless the filter all=true; filters label, label!.  New
   {"VolumesDeleted":[...],"SpaceReclaimed":N}. */
json_t *engine_volume_prune (engine *e, const json_t *filters, int api_version,
                             polis_error **err);
/* /system/df's Volumes: every volume with UsageData (Size, RefCount). */
json_t *engine_volume_df (engine *e);

/* --- images and system ----------------------------------------------------- */

/* Run FN with the image store, under the engine's image lock. */
typedef int (*engine_image_fn) (void *ud, image_store *s, polis_error **err);
int engine_with_images (engine *e, engine_image_fn fn, void *ud,
                        polis_error **err);
/* The number of containers using image ID. */
int engine_image_users (engine *e, const char *image_id);
/* Counts for /info: total, running, paused, stopped. */
void engine_container_counts (engine *e, int *total, int *running,
                              int *paused, int *stopped);

#endif
