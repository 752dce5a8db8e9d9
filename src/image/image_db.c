/* image_db.c - image metadata in SQLite (WAL), shared with the engine. */
#include "image_db.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/strv.h"
#include "base/xalloc.h"

struct image_db
{
  sqlite3 *db;
};

static const char image_db_schema[]
    = "CREATE TABLE IF NOT EXISTS images ("
      " id TEXT PRIMARY KEY, manifest_digest TEXT NOT NULL,"
      " manifest_media_type TEXT NOT NULL, created TEXT, os TEXT,"
      " architecture TEXT, variant TEXT, size INTEGER NOT NULL,"
      " added INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS image_names ("
      " name TEXT PRIMARY KEY,"
      " image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
      "CREATE INDEX IF NOT EXISTS image_names_by_id ON image_names(image_id);"
      "CREATE TABLE IF NOT EXISTS image_layers ("
      " image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
      " idx INTEGER NOT NULL, chain_id TEXT NOT NULL, diff_id TEXT NOT NULL,"
      " digest TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,"
      " PRIMARY KEY (image_id, idx));"
      "CREATE INDEX IF NOT EXISTS image_layers_by_chain ON image_layers(chain_id);"
      "CREATE INDEX IF NOT EXISTS image_layers_by_digest ON image_layers(digest);"
      "CREATE TABLE IF NOT EXISTS layers ("
      " chain_id TEXT PRIMARY KEY, diff_id TEXT NOT NULL, parent TEXT,"
      " size INTEGER NOT NULL, created INTEGER NOT NULL, unsynced_boot TEXT);"
      "CREATE TABLE IF NOT EXISTS image_meta ("
      " key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS image_holds ("
      " image_id TEXT NOT NULL, holder TEXT NOT NULL,"
      " PRIMARY KEY (image_id, holder));"
      "CREATE TABLE IF NOT EXISTS image_blob_sources ("
      " digest TEXT NOT NULL, registry TEXT NOT NULL, repository TEXT NOT NULL,"
      " PRIMARY KEY (digest, registry, repository));";

static int
db_error (image_db *db, polis_error **err, const char *what)
{
  return error_set (err, ERROR_INTERNAL, EIO, "%s: %s", what,
                    sqlite3_errmsg (db->db));
}

static void
stmt_cleanup (sqlite3_stmt **s)
{
  if (*s)
    sqlite3_finalize (*s);
  *s = NULL;
}
#define cleanup_stmt __attribute__ ((cleanup (stmt_cleanup)))

static sqlite3_stmt *
prepare (image_db *db, const char *sql, polis_error **err)
{
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2 (db->db, sql, -1, &s, NULL) != SQLITE_OK)
    {
      db_error (db, err, "prepare");
      return NULL;
    }
  return s;
}

static void
bind_text (sqlite3_stmt *s, int i, const char *v)
{
  if (v)
    sqlite3_bind_text (s, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (s, i);
}

static char *
col_text (sqlite3_stmt *s, int i)
{
  const unsigned char *t = sqlite3_column_text (s, i);
  return t ? xstrdup ((const char *) t) : NULL;
}

static int
exec_sql (image_db *db, const char *sql, polis_error **err)
{
  char *msg = NULL;
  if (sqlite3_exec (db->db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      error_set (err, ERROR_INTERNAL, EIO, "sql: %s", msg ? msg : "error");
      sqlite3_free (msg);
      return -1;
    }
  return 0;
}

static bool
has_column (image_db *db, const char *table, const char *column)
{
  cleanup_free char *sql = xasprintf ("PRAGMA table_info(%s)", table);
  cleanup_stmt sqlite3_stmt *s = prepare (db, sql, NULL);
  while (s && sqlite3_step (s) == SQLITE_ROW)
    if (strcmp ((const char *) sqlite3_column_text (s, 1), column) == 0)
      return true;
  return false;
}

/* Databases made by earlier versions. */
static int
migrate (image_db *db, polis_error **err)
{
  if (!has_column (db, "layers", "unsynced_boot")
      && exec_sql (db, "ALTER TABLE layers ADD COLUMN unsynced_boot TEXT", err)
             < 0)
    return -1;
  return 0;
}

image_db *
image_db_open (const char *root, polis_error **err)
{
  cleanup_free char *path = xasprintf ("%s/polis.db", root);
  image_db *db = xzalloc (sizeof *db);
  if (sqlite3_open_v2 (path, &db->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                           | SQLITE_OPEN_FULLMUTEX,
                       NULL)
      != SQLITE_OK)
    {
      error_set (err, ERROR_INTERNAL, EIO, "open `%s`: %s", path,
                 db->db ? sqlite3_errmsg (db->db) : "out of memory");
      image_db_close (db);
      return NULL;
    }
  /* Other processes (the engine, a second polis-image) use the same file:
     wait for their transactions instead of failing with SQLITE_BUSY. */
  sqlite3_busy_timeout (db->db, 30000);
  if (exec_sql (db,
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                " PRAGMA foreign_keys=ON;",
                err)
          < 0
      || exec_sql (db, image_db_schema, err) < 0
      || migrate (db, err) < 0)
    {
      error_wrap (err, "open `%s`", path);
      image_db_close (db);
      return NULL;
    }
  return db;
}

void
image_db_close (image_db *db)
{
  if (db == NULL)
    return;
  if (db->db)
    sqlite3_close (db->db);
  free (db);
}

void
image_db_cleanup (image_db **db)
{
  image_db_close (*db);
  *db = NULL;
}

int
image_db_begin (image_db *db, polis_error **err)
{
  return exec_sql (db, "BEGIN IMMEDIATE", err);
}

int
image_db_commit (image_db *db, polis_error **err)
{
  return exec_sql (db, "COMMIT", err);
}

void
image_db_rollback (image_db *db)
{
  sqlite3_exec (db->db, "ROLLBACK", NULL, NULL, NULL);
}

void
image_record_free (image_record *r)
{
  if (r == NULL)
    return;
  free (r->id);
  free (r->manifest_digest);
  free (r->manifest_media_type);
  free (r->created);
  free (r->os);
  free (r->architecture);
  free (r->variant);
  for (size_t i = 0; i < r->n_layers; i++)
    {
      free (r->layers[i].chain_id);
      free (r->layers[i].diff_id);
      free (r->layers[i].digest);
      free (r->layers[i].media_type);
    }
  free (r->layers);
  cleanup_strv_fn (&r->names);
  free (r);
}

void
image_record_cleanup (image_record **r)
{
  image_record_free (*r);
  *r = NULL;
}

void
image_record_list_free (image_record **list)
{
  if (list == NULL)
    return;
  for (image_record **p = list; *p; p++)
    image_record_free (*p);
  free (list);
}

void
image_record_list_cleanup (image_record ***l)
{
  image_record_list_free (*l);
  *l = NULL;
}

int
image_db_put_image (image_db *db, const image_record *r, polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db,
      "INSERT INTO images (id, manifest_digest, manifest_media_type, created,"
      " os, architecture, variant, size, added) VALUES (?,?,?,?,?,?,?,?,?)"
      " ON CONFLICT(id) DO UPDATE SET manifest_digest=excluded.manifest_digest,"
      " manifest_media_type=excluded.manifest_media_type, size=excluded.size",
      err);
  if (s == NULL)
    return -1;
  bind_text (s, 1, r->id);
  bind_text (s, 2, r->manifest_digest);
  bind_text (s, 3, r->manifest_media_type);
  bind_text (s, 4, r->created);
  bind_text (s, 5, r->os);
  bind_text (s, 6, r->architecture);
  bind_text (s, 7, r->variant);
  sqlite3_bind_int64 (s, 8, r->size);
  sqlite3_bind_int64 (s, 9, r->added ? r->added : (int64_t) time (NULL));
  if (sqlite3_step (s) != SQLITE_DONE)
    return db_error (db, err, "insert image");

  cleanup_stmt sqlite3_stmt *del
      = prepare (db, "DELETE FROM image_layers WHERE image_id = ?", err);
  if (del == NULL)
    return -1;
  bind_text (del, 1, r->id);
  if (sqlite3_step (del) != SQLITE_DONE)
    return db_error (db, err, "delete layers");

  cleanup_stmt sqlite3_stmt *ins = prepare (
      db,
      "INSERT INTO image_layers (image_id, idx, chain_id, diff_id, digest,"
      " media_type, size) VALUES (?,?,?,?,?,?,?)",
      err);
  if (ins == NULL)
    return -1;
  for (size_t i = 0; i < r->n_layers; i++)
    {
      const image_layer_rec *l = &r->layers[i];
      sqlite3_reset (ins);
      bind_text (ins, 1, r->id);
      sqlite3_bind_int64 (ins, 2, (int64_t) i);
      bind_text (ins, 3, l->chain_id);
      bind_text (ins, 4, l->diff_id);
      bind_text (ins, 5, l->digest);
      bind_text (ins, 6, l->media_type);
      sqlite3_bind_int64 (ins, 7, l->size);
      if (sqlite3_step (ins) != SQLITE_DONE)
        return db_error (db, err, "insert layer");
    }
  return 0;
}

char *
image_db_lookup_name (image_db *db, const char *name, polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s
      = prepare (db, "SELECT image_id FROM image_names WHERE name = ?", err);
  if (s == NULL)
    return NULL;
  bind_text (s, 1, name);
  if (sqlite3_step (s) == SQLITE_ROW)
    return col_text (s, 0);
  return NULL;
}

int
image_db_set_name (image_db *db, const char *name, const char *id,
                   char **old_id, polis_error **err)
{
  polis_error *e = NULL;
  char *old = image_db_lookup_name (db, name, &e);
  if (e)
    {
      *err = e;
      return -1;
    }
  if (old_id)
    *old_id = old;
  else
    free (old);
  cleanup_stmt sqlite3_stmt *s = prepare (
      db, "INSERT OR REPLACE INTO image_names (name, image_id) VALUES (?,?)",
      err);
  if (s == NULL)
    return -1;
  bind_text (s, 1, name);
  bind_text (s, 2, id);
  if (sqlite3_step (s) != SQLITE_DONE)
    return db_error (db, err, "set name");
  return 0;
}

int
image_db_remove_name (image_db *db, const char *name, polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s
      = prepare (db, "DELETE FROM image_names WHERE name = ?", err);
  if (s == NULL)
    return -1;
  bind_text (s, 1, name);
  if (sqlite3_step (s) != SQLITE_DONE)
    return db_error (db, err, "remove name");
  return sqlite3_changes (db->db) > 0 ? 1 : 0;
}

char **
image_db_find_id_prefix (image_db *db, const char *prefix, polis_error **err)
{
  cleanup_free char *pat = xasprintf (
      "%s%s*", strncmp (prefix, "sha256:", 7) == 0 ? "" : "sha256:", prefix);
  cleanup_stmt sqlite3_stmt *s
      = prepare (db, "SELECT id FROM images WHERE id GLOB ?", err);
  if (s == NULL)
    return NULL;
  bind_text (s, 1, pat);
  char **out = xzalloc (sizeof (char *));
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      cleanup_free char *id = col_text (s, 0);
      strv_append (&out, id);
    }
  return out;
}

static char **
names_of (image_db *db, const char *id)
{
  char **out = xzalloc (sizeof (char *));
  cleanup_stmt sqlite3_stmt *s = prepare (
      db, "SELECT name FROM image_names WHERE image_id = ? ORDER BY name",
      NULL);
  if (s == NULL)
    return out;
  bind_text (s, 1, id);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      cleanup_free char *n = col_text (s, 0);
      strv_append (&out, n);
    }
  return out;
}

static image_record *
record_from_row (image_db *db, sqlite3_stmt *s)
{
  image_record *r = xzalloc (sizeof *r);
  r->id = col_text (s, 0);
  r->manifest_digest = col_text (s, 1);
  r->manifest_media_type = col_text (s, 2);
  r->created = col_text (s, 3);
  r->os = col_text (s, 4);
  r->architecture = col_text (s, 5);
  r->variant = col_text (s, 6);
  r->size = sqlite3_column_int64 (s, 7);
  r->added = sqlite3_column_int64 (s, 8);
  r->names = names_of (db, r->id);

  cleanup_stmt sqlite3_stmt *l = prepare (
      db,
      "SELECT chain_id, diff_id, digest, media_type, size FROM image_layers"
      " WHERE image_id = ? ORDER BY idx",
      NULL);
  if (l == NULL)
    return r;
  bind_text (l, 1, r->id);
  while (sqlite3_step (l) == SQLITE_ROW)
    {
      r->layers = xreallocarray (r->layers, r->n_layers + 1, sizeof *r->layers);
      image_layer_rec *x = &r->layers[r->n_layers++];
      x->chain_id = col_text (l, 0);
      x->diff_id = col_text (l, 1);
      x->digest = col_text (l, 2);
      x->media_type = col_text (l, 3);
      x->size = sqlite3_column_int64 (l, 4);
    }
  return r;
}

#define IMAGE_COLUMNS                                                          \
  "id, manifest_digest, manifest_media_type, created, os, architecture,"      \
  " variant, size, added"

image_record *
image_db_get_image (image_db *db, const char *id, polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s
      = prepare (db, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?", err);
  if (s == NULL)
    return NULL;
  bind_text (s, 1, id);
  if (sqlite3_step (s) != SQLITE_ROW)
    {
      error_set (err, ERROR_NOT_FOUND, ENOENT, "No such image: %s", id);
      return NULL;
    }
  return record_from_row (db, s);
}

image_record **
image_db_list (image_db *db, polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db, "SELECT " IMAGE_COLUMNS " FROM images ORDER BY added DESC, id", err);
  if (s == NULL)
    return NULL;
  size_t n = 0;
  image_record **out = xzalloc (sizeof *out);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      out = xreallocarray (out, n + 2, sizeof *out);
      out[n++] = record_from_row (db, s);
      out[n] = NULL;
    }
  return out;
}

int
image_db_delete_image (image_db *db, const char *id, polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s
      = prepare (db, "DELETE FROM images WHERE id = ?", err);
  if (s == NULL)
    return -1;
  bind_text (s, 1, id);
  if (sqlite3_step (s) != SQLITE_DONE)
    return db_error (db, err, "delete image");
  return 0;
}

bool
image_db_has_layer (image_db *db, const char *chain_id)
{
  cleanup_stmt sqlite3_stmt *s
      = prepare (db, "SELECT 1 FROM layers WHERE chain_id = ?", NULL);
  if (s == NULL)
    return false;
  bind_text (s, 1, chain_id);
  return sqlite3_step (s) == SQLITE_ROW;
}

int
image_db_put_layer (image_db *db, const char *chain_id, const char *diff_id,
                    const char *parent, int64_t size,
                    const char *unsynced_boot, polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db,
      "INSERT OR REPLACE INTO layers (chain_id, diff_id, parent, size, created,"
      " unsynced_boot) VALUES (?,?,?,?,?,?)",
      err);
  if (s == NULL)
    return -1;
  bind_text (s, 1, chain_id);
  bind_text (s, 2, diff_id);
  bind_text (s, 3, parent);
  sqlite3_bind_int64 (s, 4, size);
  sqlite3_bind_int64 (s, 5, (int64_t) time (NULL));
  bind_text (s, 6, unsynced_boot);
  if (sqlite3_step (s) != SQLITE_DONE)
    return db_error (db, err, "insert snapshot");
  return 0;
}

char **
image_db_layers_unsynced_elsewhere (image_db *db, const char *boot,
                                    polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db,
      "SELECT chain_id FROM layers WHERE unsynced_boot IS NOT NULL"
      " AND unsynced_boot <> ?",
      err);
  if (s == NULL)
    return NULL;
  bind_text (s, 1, boot);
  char **out = xzalloc (sizeof (char *));
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      cleanup_free char *c = col_text (s, 0);
      strv_append (&out, c);
    }
  return out;
}

int64_t
image_db_oldest_unsynced (image_db *db, const char *boot)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db, "SELECT MIN(created) FROM layers WHERE unsynced_boot = ?", NULL);
  if (s == NULL)
    return -1;
  bind_text (s, 1, boot);
  int r = sqlite3_step (s);
  if (r != SQLITE_ROW || sqlite3_column_type (s, 0) == SQLITE_NULL)
    return -1;
  return sqlite3_column_int64 (s, 0);
}

int
image_db_mark_synced (image_db *db, const char *boot, int64_t before,
                      polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db,
      "UPDATE layers SET unsynced_boot = NULL WHERE unsynced_boot = ?"
      " AND created < ?",
      err);
  if (s == NULL)
    return -1;
  bind_text (s, 1, boot);
  sqlite3_bind_int64 (s, 2, before);
  if (sqlite3_step (s) != SQLITE_DONE)
    return db_error (db, err, "mark snapshots synced");
  return 0;
}

char *
image_db_get_meta (image_db *db, const char *key)
{
  cleanup_stmt sqlite3_stmt *s
      = prepare (db, "SELECT value FROM image_meta WHERE key = ?", NULL);
  if (s == NULL)
    return NULL;
  bind_text (s, 1, key);
  return sqlite3_step (s) == SQLITE_ROW ? col_text (s, 0) : NULL;
}

int
image_db_set_meta (image_db *db, const char *key, const char *value,
                   polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db, "INSERT OR REPLACE INTO image_meta (key, value) VALUES (?,?)", err);
  if (s == NULL)
    return -1;
  bind_text (s, 1, key);
  bind_text (s, 2, value);
  if (sqlite3_step (s) != SQLITE_DONE)
    return db_error (db, err, "set store setting");
  return 0;
}

int
image_db_delete_layer (image_db *db, const char *chain_id, polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s
      = prepare (db, "DELETE FROM layers WHERE chain_id = ?", err);
  if (s == NULL)
    return -1;
  bind_text (s, 1, chain_id);
  if (sqlite3_step (s) != SQLITE_DONE)
    return db_error (db, err, "delete snapshot");
  return 0;
}

char **
image_db_unused_layers (image_db *db, polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db,
      "SELECT chain_id FROM layers WHERE chain_id NOT IN"
      " (SELECT chain_id FROM image_layers)",
      err);
  if (s == NULL)
    return NULL;
  char **out = xzalloc (sizeof (char *));
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      cleanup_free char *c = col_text (s, 0);
      strv_append (&out, c);
    }
  return out;
}

bool
image_db_blob_in_use (image_db *db, const char *digest)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db,
      "SELECT 1 FROM images WHERE id = ?1 OR manifest_digest = ?1"
      " UNION ALL SELECT 1 FROM image_layers WHERE digest = ?1"
      " UNION ALL SELECT 1 FROM image_names WHERE name LIKE '%@' || ?1"
      " LIMIT 1",
      NULL);
  if (s == NULL)
    return true;
  bind_text (s, 1, digest);
  return sqlite3_step (s) == SQLITE_ROW;
}

int
image_db_hold (image_db *db, const char *id, const char *holder,
               polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db, "INSERT OR REPLACE INTO image_holds (image_id, holder) VALUES (?,?)",
      err);
  if (s == NULL)
    return -1;
  bind_text (s, 1, id);
  bind_text (s, 2, holder);
  if (sqlite3_step (s) != SQLITE_DONE)
    return db_error (db, err, "hold image");
  return 0;
}

int
image_db_release (image_db *db, const char *holder, polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s
      = prepare (db, "DELETE FROM image_holds WHERE holder = ?", err);
  if (s == NULL)
    return -1;
  bind_text (s, 1, holder);
  if (sqlite3_step (s) != SQLITE_DONE)
    return db_error (db, err, "release image");
  return 0;
}

char *
image_db_holder (image_db *db, const char *id)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db, "SELECT holder FROM image_holds WHERE image_id = ? LIMIT 1", NULL);
  if (s == NULL)
    return NULL;
  bind_text (s, 1, id);
  if (sqlite3_step (s) == SQLITE_ROW)
    return col_text (s, 0);
  return NULL;
}

int
image_db_add_blob_source (image_db *db, const char *digest,
                          const char *registry, const char *repository,
                          polis_error **err)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db,
      "INSERT OR IGNORE INTO image_blob_sources (digest, registry, repository)"
      " VALUES (?,?,?)",
      err);
  if (s == NULL)
    return -1;
  bind_text (s, 1, digest);
  bind_text (s, 2, registry);
  bind_text (s, 3, repository);
  if (sqlite3_step (s) != SQLITE_DONE)
    return db_error (db, err, "add blob source");
  return 0;
}

char *
image_db_blob_source (image_db *db, const char *digest, const char *registry)
{
  cleanup_stmt sqlite3_stmt *s = prepare (
      db,
      "SELECT repository FROM image_blob_sources WHERE digest = ?"
      " AND registry = ? LIMIT 1",
      NULL);
  if (s == NULL)
    return NULL;
  bind_text (s, 1, digest);
  bind_text (s, 2, registry);
  if (sqlite3_step (s) == SQLITE_ROW)
    return col_text (s, 0);
  return NULL;
}
