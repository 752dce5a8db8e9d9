/* engine_internal.h - what the engine's files share: the engine and
 * container structures, and helpers between them.  Not for src/api. */
#ifndef POLIS_ENGINE_ENGINE_INTERNAL_H
#define POLIS_ENGINE_ENGINE_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "events.h"
#include "network/ipv4.h"
#include "state_db.h"

struct monitor;

typedef enum
{
  CS_CREATED = 0,
  CS_RUNNING,
  CS_PAUSED,
  CS_RESTARTING,
  CS_REMOVING,
  CS_EXITED,
  CS_DEAD,
} container_status;

/* A registered waiter (wait, attach-before-start): woken through its
   eventfd whenever the container's state changes. */
typedef struct watcher
{
  int fd;
  struct watcher *next;
} watcher;

struct container_waiter
{
  container *c;
  wait_condition cond;
  uint64_t exit_gen; /* for next-exit: the count of exits at registration */
  watcher w;
};

typedef struct exec_rec
{
  char id[65];
  container *c;
  json_t *config; /* Docker's ExecConfig as created */
  bool running, started, detached;
  int pid;
  int exit_code;
  bool has_exit;
  struct exec_rec *next;
} exec_rec;

struct container
{
  /* Set at creation, then read-only. */
  char id[65];
  int64_t created_ns;
  char *image_ref;    /* Config.Image as the client gave it */
  char *image_id;     /* sha256:... */
  json_t *config;     /* Docker's Config, image defaults merged in */
  json_t *host_config; /* Docker's HostConfig (update changes resources;
                          under the engine lock) */
  json_t *net_config; /* NetworkingConfig as given */
  engine *eng;
  char *dir;          /* ROOT/containers/<id> */
  char *run_dir;      /* RUNROOT/<id> */

  /* Under the engine lock. */
  char *name; /* without "/" */
  container_status status;
  int pid;
  int exit_code;
  bool oom_killed;
  char *error;
  int64_t started_ns, finished_ns;
  int restart_count;
  bool manually_stopped;
  bool has_been_started;
  json_t *health; /* Docker's State.Health, NULL without a health check */
  int refs;
  bool removed;
  bool auto_removing;
  uint64_t exit_gen;   /* exits seen so far */
  uint64_t shim_gen;   /* shims started so far */
  bool shim_up;        /* its socket answers */
  int shim_pid;
  int pending_attach;  /* attachers to connect before `start` */
  watcher *watchers;
  bool mounted;
  char *summary_static; /* the unchanging part of a ps entry, as text */
  char *sandbox;        /* its network namespace (RUNROOT/netns/...), "" none */
  json_t *mounts;       /* its mount points (container_mounts.h); read-only */
  bool volumes_active;  /* counted as a running user of its volumes (volume lock) */
  uint64_t volumes_exit_gen; /* exit_gen when they were counted (volume lock) */
  json_t *endpoints;    /* NetworkSettings.Networks (network.h) */
  json_t *ports;        /* NetworkSettings.Ports: host ports drawn at create */
  bool ports_on;        /* published in the firewall */

  /* Serialises lifecycle operations on this container. */
  pthread_mutex_t op_lock;
};

struct engine
{
  engine_opts opts;
  char *containers_dir;
  pthread_mutex_t lock; /* containers, execs, db */
  state_db *db;
  container **cs;
  size_t n_cs, cap_cs;
  exec_rec *execs;
  events_bus *bus;
  pthread_mutex_t image_lock;
  image_store *images;
  struct monitor *mon;
  struct netns_pool *netns;
  struct reaper *reaper;
  int cgroup_version; /* 1 or 2 */
  /* volume.c: the volume table, under vol_lock. */
  pthread_mutex_t vol_lock;
  char *volumes_dir; /* ROOT/volumes */
  struct volume **vols;
  size_t n_vols, cap_vols;
  /* Networks (network.c), under the lock. */
  struct net **nets;
  size_t n_nets;
  struct firewall *fw;
  struct dns_server *dns;
  ipv4_net pool;      /* --default-address-pool */
  unsigned pool_size; /* its subnets' prefix length */
};

/* --- container.c ----------------------------------------------------------- */

container *container_new (engine *e, const char *id);
void container_free (container *c);
/* Persist C (under the engine lock).  On error, the message is logged:
   memory stays authoritative until the next write. */
int container_save (engine *e, container *c, polis_error **err);
/* The persistent document of C.  New reference. */
json_t *container_doc (const container *c);
/* Fill C from a persistent document. */
int container_load_doc (container *c, const json_t *doc, polis_error **err);
const char *container_status_name (container_status s);
/* Wake every watcher of C (under the engine lock). */
void container_notify (container *c);
void container_watch (container *c, watcher *w);
void container_unwatch (container *c, watcher *w);
/* Docker's "Up 5 minutes" / "Exited (0) 3 seconds ago" (under the lock). */
char *container_status_string (const container *c);
/* Publish a container event with its name and image (and labels).  Takes
   the engine lock: call without it. */
void container_event (engine *e, container *c, const char *action,
                      json_t *extra_attrs);

/* --- container_create.c ------------------------------------------------------ */

/* Docker's name grammar: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (one leading "/"). */
bool engine_valid_name (const char *name);
/* Drop C's hold on its image (logged on failure). */
int engine_release_image (engine *e, container *c);

/* --- engine.c --------------------------------------------------------------- */

void engine_lock (engine *e);
void engine_unlock (engine *e);
/* Add/remove C to/from the table (under the lock). */
void engine_table_add (engine *e, container *c);
void engine_table_remove (engine *e, container *c);
/* The container named NAME (no "/"), or NULL (under the lock). */
container *engine_find_name (engine *e, const char *name);
container *engine_find_id (engine *e, const char *id);

/* --- exec.c ------------------------------------------------------------------ */

/* Load exec records from the database / free them (engine open/close). */
void exec_load_all (engine *e);
void exec_free_all (engine *e);
/* The shim reported exec ID of C ended with EXIT_CODE (takes the lock). */
void exec_exited (engine *e, container *c, const char *id, int exit_code);
/* Forget C's exec records (C is being removed; under the engine lock). */
void exec_forget_container (engine *e, container *c);

/* --- lifecycle.c ------------------------------------------------------------- */

/* Apply the shim's view (shim.json) to C and persist; publishes nothing.
   Under the engine lock. */
void lifecycle_apply_shim_state (engine *e, container *c, const json_t *st);
/* Refresh C from shim.json (under the lock).  False when there is none. */
bool lifecycle_refresh_locked (engine *e, container *c);
/* The monitor saw EVENT from C's shim (JSON line).  Takes the lock. */
void lifecycle_on_shim_event (engine *e, container *c, const json_t *ev);
/* C's shim connection closed (the shim exited or was killed). */
void lifecycle_on_shim_gone (engine *e, container *c);
/* Live restore of one loaded container. */
void lifecycle_restore (engine *e, container *c);
/* Remove C's files, mounts, DB row; publish destroy (C's op_lock held).
   With VOLUMES, its anonymous volumes go too (rm -v, AutoRemove). */
int lifecycle_destroy (engine *e, container *c, bool volumes,
                       polis_error **err);

#endif
