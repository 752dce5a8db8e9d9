/* state_db.h - the engine's tables in ROOT/polis.db (SQLite, WAL).
 *
 * The image library owns its own tables in the same file (image_db.h);
 * these are the engine's:
 *   containers  one row per container: id, unique name, creation time and
 *               a JSON document (Config, HostConfig, State, ...)
 *   execs       exec instances: id, container, JSON document
 *   volumes     one row per volume: name, creation time, JSON document
 *               (Labels, Options)
 *   networks    user-defined and default networks (network.c)
 *   ipam        addresses in use, per network and container
 * Every change is one statement in autocommit, or a transaction, so a
 * daemon killed at any moment finds the last committed state.  WAL with
 * synchronous=NORMAL survives a killed process (not a power cut without
 * losing the last commits, which the live-restore reconciliation covers).
 * Statements are prepared once.  Not thread-safe: the engine serialises
 * calls under its lock.
 */
#ifndef POLIS_ENGINE_STATE_DB_H
#define POLIS_ENGINE_STATE_DB_H

#include <stdint.h>

#include "base/error.h"

typedef struct state_db state_db;

/* Open (creating) ROOT/polis.db.  Caller frees with state_db_close. */
state_db *state_db_open (const char *root, polis_error **err);
void state_db_close (state_db *db);

/* Insert a container.  A name already taken is ERROR_CONFLICT. */
int state_db_insert_container (state_db *db, const char *id, const char *name,
                               int64_t created, const char *doc,
                               polis_error **err);
/* Replace a container's name and document. */
int state_db_update_container (state_db *db, const char *id, const char *name,
                               const char *doc, polis_error **err);
/* Delete a container and its exec records. */
int state_db_delete_container (state_db *db, const char *id,
                               polis_error **err);

/* Call FN for every container row, oldest first; FN returning < 0 stops. */
typedef int (*state_db_row_fn) (void *ud, const char *id, const char *name,
                                int64_t created, const char *doc);
int state_db_each_container (state_db *db, state_db_row_fn fn, void *ud,
                             polis_error **err);

/* Exec records. */
int state_db_put_exec (state_db *db, const char *id, const char *container_id,
                       const char *doc, polis_error **err);
int state_db_delete_exec (state_db *db, const char *id, polis_error **err);
/* FN is called with (ud, id, container_id, 0, doc). */
int state_db_each_exec (state_db *db, state_db_row_fn fn, void *ud,
                        polis_error **err);

/* Volumes (one statement each: a volume is one row). */
int state_db_put_volume (state_db *db, const char *name, int64_t created,
                         const char *doc, polis_error **err);
int state_db_delete_volume (state_db *db, const char *name, polis_error **err);
/* FN is called with (ud, name, name, created, doc). */
int state_db_each_volume (state_db *db, state_db_row_fn fn, void *ud,
                          polis_error **err);

/* Networks: id, unique name, creation time, JSON document. */
int state_db_put_network (state_db *db, const char *id, const char *name,
                          int64_t created, const char *doc, polis_error **err);
int state_db_delete_network (state_db *db, const char *id, polis_error **err);
int state_db_each_network (state_db *db, state_db_row_fn fn, void *ud,
                           polis_error **err);

/* IPAM: one row per address in use (network id, address in host order,
   container id).  Taking a taken address is ERROR_CONFLICT.  A container's
   rows go with it in state_db_delete_container's transaction, so that no
   address outlives its container, whatever happens to the daemon. */
int state_db_ip_take (state_db *db, const char *network, uint32_t addr,
                      const char *container, polis_error **err);
int state_db_ip_release (state_db *db, const char *network, uint32_t addr,
                         polis_error **err);
int state_db_ip_release_container (state_db *db, const char *container,
                                   polis_error **err);
/* Addresses in use on NETWORK (-1 on a database error). */
long long state_db_ip_count (state_db *db, const char *network);

#endif
