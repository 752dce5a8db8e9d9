/* state_db.c - the engine's tables in polis.db. */
#include "state_db.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

enum
{
  Q_INSERT_CONTAINER,
  Q_UPDATE_CONTAINER,
  Q_DELETE_CONTAINER,
  Q_DELETE_CONTAINER_EXECS,
  Q_EACH_CONTAINER,
  Q_PUT_EXEC,
  Q_DELETE_EXEC,
  Q_EACH_EXEC,
  Q_PUT_VOLUME,
  Q_DELETE_VOLUME,
  Q_EACH_VOLUME,
  Q_PUT_NETWORK,
  Q_DELETE_NETWORK,
  Q_EACH_NETWORK,
  Q_IP_TAKE,
  Q_IP_RELEASE,
  Q_IP_RELEASE_CONTAINER,
  Q_IP_COUNT,
  Q_COUNT
};

static const char *const queries[Q_COUNT] = {
  [Q_INSERT_CONTAINER] = "INSERT INTO containers (id, name, created, doc)"
                         " VALUES (?1, ?2, ?3, ?4)",
  [Q_UPDATE_CONTAINER] = "UPDATE containers SET name = ?2, doc = ?3"
                         " WHERE id = ?1",
  [Q_DELETE_CONTAINER] = "DELETE FROM containers WHERE id = ?1",
  [Q_DELETE_CONTAINER_EXECS] = "DELETE FROM execs WHERE container_id = ?1",
  [Q_EACH_CONTAINER] = "SELECT id, name, created, doc FROM containers"
                       " ORDER BY created, id",
  [Q_PUT_EXEC] = "INSERT OR REPLACE INTO execs (id, container_id, doc)"
                 " VALUES (?1, ?2, ?3)",
  [Q_DELETE_EXEC] = "DELETE FROM execs WHERE id = ?1",
  [Q_EACH_EXEC] = "SELECT id, container_id, 0, doc FROM execs",
  [Q_PUT_VOLUME] = "INSERT OR REPLACE INTO volumes (name, created, doc)"
                   " VALUES (?1, ?2, ?3)",
  [Q_DELETE_VOLUME] = "DELETE FROM volumes WHERE name = ?1",
  [Q_EACH_VOLUME] = "SELECT name, name, created, doc FROM volumes"
                    " ORDER BY created, name",
  [Q_PUT_NETWORK] = "INSERT OR REPLACE INTO networks (id, name, created, doc)"
                    " VALUES (?1, ?2, ?3, ?4)",
  [Q_DELETE_NETWORK] = "DELETE FROM networks WHERE id = ?1",
  [Q_EACH_NETWORK] = "SELECT id, name, created, doc FROM networks"
                     " ORDER BY created, id",
  [Q_IP_TAKE] = "INSERT INTO ipam (network, addr, container) VALUES (?1, ?2, ?3)",
  [Q_IP_RELEASE] = "DELETE FROM ipam WHERE network = ?1 AND addr = ?2",
  [Q_IP_RELEASE_CONTAINER] = "DELETE FROM ipam WHERE container = ?1",
  [Q_IP_COUNT] = "SELECT count(*) FROM ipam WHERE network = ?1",
};

static const char schema[]
    = "CREATE TABLE IF NOT EXISTS containers ("
      " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
      " created INTEGER NOT NULL, doc TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS execs ("
      " id TEXT PRIMARY KEY, container_id TEXT NOT NULL, doc TEXT NOT NULL);"
      "CREATE INDEX IF NOT EXISTS execs_by_container ON execs(container_id);"
      "CREATE TABLE IF NOT EXISTS volumes ("
      " name TEXT PRIMARY KEY, created INTEGER NOT NULL, doc TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS networks ("
      " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
      " created INTEGER NOT NULL, doc TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS ipam ("
      " network TEXT NOT NULL, addr INTEGER NOT NULL, container TEXT NOT NULL,"
      " PRIMARY KEY (network, addr));"
      "CREATE INDEX IF NOT EXISTS ipam_by_container ON ipam(container);";

struct state_db
{
  sqlite3 *db;
  sqlite3_stmt *q[Q_COUNT];
};

static int
db_fail (state_db *db, polis_error **err, const char *what)
{
  int code = sqlite3_extended_errcode (db->db);
  return error_set (err,
                    code == SQLITE_CONSTRAINT_UNIQUE
                            || code == SQLITE_CONSTRAINT_PRIMARYKEY
                        ? ERROR_CONFLICT
                        : ERROR_INTERNAL,
                    EIO, "%s: %s", what, sqlite3_errmsg (db->db));
}

state_db *
state_db_open (const char *root, polis_error **err)
{
  cleanup_free char *path = xasprintf ("%s/polis.db", root);
  state_db *db = xzalloc (sizeof *db);
  if (sqlite3_open_v2 (path, &db->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                           | SQLITE_OPEN_NOMUTEX,
                       NULL)
      != SQLITE_OK)
    {
      error_set (err, ERROR_INTERNAL, EIO, "open `%s`: %s", path,
                 db->db ? sqlite3_errmsg (db->db) : "out of memory");
      state_db_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db->db, 30000);
  char *msg = NULL;
  /* A small page cache: the working set lives in the engine's memory, the
     database is written far more than it is read. */
  if (sqlite3_exec (db->db,
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    " PRAGMA cache_size=-256;",
                    NULL, NULL, &msg)
          != SQLITE_OK
      || sqlite3_exec (db->db, schema, NULL, NULL, &msg) != SQLITE_OK)
    {
      error_set (err, ERROR_INTERNAL, EIO, "open `%s`: %s", path,
                 msg ? msg : sqlite3_errmsg (db->db));
      sqlite3_free (msg);
      state_db_close (db);
      return NULL;
    }
  for (int i = 0; i < Q_COUNT; i++)
    if (sqlite3_prepare_v3 (db->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT,
                            &db->q[i], NULL)
        != SQLITE_OK)
      {
        db_fail (db, err, "prepare");
        error_wrap (err, "open `%s`", path);
        state_db_close (db);
        return NULL;
      }
  return db;
}

void
state_db_close (state_db *db)
{
  if (db == NULL)
    return;
  for (int i = 0; i < Q_COUNT; i++)
    sqlite3_finalize (db->q[i]);
  sqlite3_close (db->db);
  free (db);
}

static sqlite3_stmt *
q (state_db *db, int which)
{
  sqlite3_stmt *s = db->q[which];
  sqlite3_reset (s);
  sqlite3_clear_bindings (s);
  return s;
}

static int
run (state_db *db, sqlite3_stmt *s, const char *what, polis_error **err)
{
  int r = sqlite3_step (s);
  int ret = r == SQLITE_DONE ? 0 : db_fail (db, err, what);
  sqlite3_reset (s);
  return ret;
}

int
state_db_insert_container (state_db *db, const char *id, const char *name,
                           int64_t created, const char *doc,
                           polis_error **err)
{
  sqlite3_stmt *s = q (db, Q_INSERT_CONTAINER);
  sqlite3_bind_text (s, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 3, created);
  sqlite3_bind_text (s, 4, doc, -1, SQLITE_STATIC);
  return run (db, s, "insert container", err);
}

int
state_db_update_container (state_db *db, const char *id, const char *name,
                           const char *doc, polis_error **err)
{
  sqlite3_stmt *s = q (db, Q_UPDATE_CONTAINER);
  sqlite3_bind_text (s, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 3, doc, -1, SQLITE_STATIC);
  return run (db, s, "update container", err);
}

int
state_db_delete_container (state_db *db, const char *id, polis_error **err)
{
  if (sqlite3_exec (db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return db_fail (db, err, "begin");
  sqlite3_stmt *s = q (db, Q_DELETE_CONTAINER_EXECS);
  sqlite3_bind_text (s, 1, id, -1, SQLITE_STATIC);
  if (run (db, s, "delete execs", err) < 0)
    goto fail;
  s = q (db, Q_IP_RELEASE_CONTAINER);
  sqlite3_bind_text (s, 1, id, -1, SQLITE_STATIC);
  if (run (db, s, "release addresses", err) < 0)
    goto fail;
  s = q (db, Q_DELETE_CONTAINER);
  sqlite3_bind_text (s, 1, id, -1, SQLITE_STATIC);
  if (run (db, s, "delete container", err) < 0)
    goto fail;
  if (sqlite3_exec (db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
      db_fail (db, err, "commit");
      goto fail;
    }
  return 0;
fail:
  sqlite3_exec (db->db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

static int
each (state_db *db, int which, state_db_row_fn fn, void *ud, polis_error **err)
{
  sqlite3_stmt *s = q (db, which);
  int r;
  while ((r = sqlite3_step (s)) == SQLITE_ROW)
    {
      const char *id = (const char *) sqlite3_column_text (s, 0);
      const char *name = (const char *) sqlite3_column_text (s, 1);
      int64_t created = sqlite3_column_int64 (s, 2);
      const char *doc = (const char *) sqlite3_column_text (s, 3);
      if (id == NULL || name == NULL || doc == NULL)
        continue;
      if (fn (ud, id, name, created, doc) < 0)
        {
          sqlite3_reset (s);
          return 0;
        }
    }
  int ret = r == SQLITE_DONE ? 0 : db_fail (db, err, "read");
  sqlite3_reset (s);
  return ret;
}

int
state_db_each_container (state_db *db, state_db_row_fn fn, void *ud,
                         polis_error **err)
{
  return each (db, Q_EACH_CONTAINER, fn, ud, err);
}

int
state_db_put_exec (state_db *db, const char *id, const char *container_id,
                   const char *doc, polis_error **err)
{
  sqlite3_stmt *s = q (db, Q_PUT_EXEC);
  sqlite3_bind_text (s, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, container_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 3, doc, -1, SQLITE_STATIC);
  return run (db, s, "put exec", err);
}

int
state_db_delete_exec (state_db *db, const char *id, polis_error **err)
{
  sqlite3_stmt *s = q (db, Q_DELETE_EXEC);
  sqlite3_bind_text (s, 1, id, -1, SQLITE_STATIC);
  return run (db, s, "delete exec", err);
}

int
state_db_each_exec (state_db *db, state_db_row_fn fn, void *ud,
                    polis_error **err)
{
  return each (db, Q_EACH_EXEC, fn, ud, err);
}

int
state_db_put_volume (state_db *db, const char *name, int64_t created,
                     const char *doc, polis_error **err)
{
  sqlite3_stmt *s = q (db, Q_PUT_VOLUME);
  sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 2, created);
  sqlite3_bind_text (s, 3, doc, -1, SQLITE_STATIC);
  return run (db, s, "put volume", err);
}

int
state_db_delete_volume (state_db *db, const char *name, polis_error **err)
{
  sqlite3_stmt *s = q (db, Q_DELETE_VOLUME);
  sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
  return run (db, s, "delete volume", err);
}

int
state_db_each_volume (state_db *db, state_db_row_fn fn, void *ud,
                      polis_error **err)
{
  return each (db, Q_EACH_VOLUME, fn, ud, err);
}

int
state_db_put_network (state_db *db, const char *id, const char *name,
                      int64_t created, const char *doc, polis_error **err)
{
  sqlite3_stmt *s = q (db, Q_PUT_NETWORK);
  sqlite3_bind_text (s, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 3, created);
  sqlite3_bind_text (s, 4, doc, -1, SQLITE_STATIC);
  return run (db, s, "put network", err);
}

int
state_db_delete_network (state_db *db, const char *id, polis_error **err)
{
  sqlite3_stmt *s = q (db, Q_DELETE_NETWORK);
  sqlite3_bind_text (s, 1, id, -1, SQLITE_STATIC);
  return run (db, s, "delete network", err);
}

int
state_db_each_network (state_db *db, state_db_row_fn fn, void *ud,
                       polis_error **err)
{
  return each (db, Q_EACH_NETWORK, fn, ud, err);
}

int
state_db_ip_take (state_db *db, const char *network, uint32_t addr,
                  const char *container, polis_error **err)
{
  sqlite3_stmt *s = q (db, Q_IP_TAKE);
  sqlite3_bind_text (s, 1, network, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 2, addr);
  sqlite3_bind_text (s, 3, container, -1, SQLITE_STATIC);
  return run (db, s, "take address", err);
}

int
state_db_ip_release (state_db *db, const char *network, uint32_t addr,
                     polis_error **err)
{
  sqlite3_stmt *s = q (db, Q_IP_RELEASE);
  sqlite3_bind_text (s, 1, network, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 2, addr);
  return run (db, s, "release address", err);
}

int
state_db_ip_release_container (state_db *db, const char *container,
                               polis_error **err)
{
  sqlite3_stmt *s = q (db, Q_IP_RELEASE_CONTAINER);
  sqlite3_bind_text (s, 1, container, -1, SQLITE_STATIC);
  return run (db, s, "release addresses", err);
}

long long
state_db_ip_count (state_db *db, const char *network)
{
  sqlite3_stmt *s = q (db, Q_IP_COUNT);
  sqlite3_bind_text (s, 1, network, -1, SQLITE_STATIC);
  long long n = sqlite3_step (s) == SQLITE_ROW ? sqlite3_column_int64 (s, 0) : -1;
  sqlite3_reset (s);
  return n;
}
