/* engine.c - the engine handle: state, the container table, lookups. */
#include "engine_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "container_fs.h"
#include "image/image_store.h"
#include "monitor.h"
#include "netns.h"
#include "network.h"
#include "reaper.h"
#include "volume.h"

/* Network namespaces kept ready (see netns.h). */
#define ENGINE_NETNS_POOL 2

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

void
engine_lock (engine *e)
{
  pthread_mutex_lock (&e->lock);
}

void
engine_unlock (engine *e)
{
  pthread_mutex_unlock (&e->lock);
}

events_bus *
engine_events (engine *e)
{
  return e->bus;
}

const engine_opts *
engine_options (engine *e)
{
  return &e->opts;
}

void
engine_table_add (engine *e, container *c)
{
  if (e->n_cs == e->cap_cs)
    {
      e->cap_cs = e->cap_cs ? e->cap_cs * 2 : 64;
      e->cs = xreallocarray (e->cs, e->cap_cs, sizeof *e->cs);
    }
  e->cs[e->n_cs++] = c;
}

void
engine_table_remove (engine *e, container *c)
{
  for (size_t i = 0; i < e->n_cs; i++)
    if (e->cs[i] == c)
      {
        memmove (e->cs + i, e->cs + i + 1, (e->n_cs - i - 1) * sizeof *e->cs);
        e->n_cs--;
        return;
      }
}

container *
engine_find_name (engine *e, const char *name)
{
  for (size_t i = 0; i < e->n_cs; i++)
    if (!e->cs[i]->removed && strcmp (e->cs[i]->name, name) == 0)
      return e->cs[i];
  return NULL;
}

container *
engine_find_id (engine *e, const char *id)
{
  for (size_t i = 0; i < e->n_cs; i++)
    if (!e->cs[i]->removed && strcmp (e->cs[i]->id, id) == 0)
      return e->cs[i];
  return NULL;
}

container *
engine_container_get (engine *e, const char *ref, polis_error **err)
{
  if (ref == NULL || *ref == '\0')
    {
      error_set (err, ERROR_NOT_FOUND, ENOENT, "No such container: %s",
                 ref ? ref : "");
      return NULL;
    }
  engine_lock (e);
  container *c = engine_find_id (e, ref);
  if (c == NULL)
    c = engine_find_name (e, ref[0] == '/' ? ref + 1 : ref);
  if (c == NULL)
    {
      size_t len = strlen (ref);
      size_t matches = 0;
      for (size_t i = 0; i < e->n_cs && len <= 64; i++)
        if (!e->cs[i]->removed && strncmp (e->cs[i]->id, ref, len) == 0)
          {
            c = e->cs[i];
            matches++;
          }
      if (matches > 1)
        {
          engine_unlock (e);
          error_set (err, ERROR_INVALID, EINVAL,
                     "multiple IDs found with provided prefix: %s", ref);
          return NULL;
        }
    }
  if (c == NULL)
    {
      engine_unlock (e);
      error_set (err, ERROR_NOT_FOUND, ENOENT, "No such container: %s", ref);
      return NULL;
    }
  c->refs++;
  engine_unlock (e);
  return c;
}

/* A container is freed when the table let go of it (removed) and the
   last handle is dropped. */
void
container_unref (container *c)
{
  engine *e = c->eng;
  engine_lock (e);
  bool last = --c->refs == 0;
  engine_unlock (e);
  if (last)
    container_free (c);
}

const char *
container_id (const container *c)
{
  return c->id;
}

char *
container_name (engine *e, const container *c)
{
  engine_lock (e);
  char *n = xstrdup (c->name);
  engine_unlock (e);
  return n;
}

bool
container_tty (const container *c)
{
  return json_is_true (json_object_get (c->config, "Tty"));
}

bool
container_is_running (engine *e, container *c)
{
  engine_lock (e);
  bool r = c->status == CS_RUNNING || c->status == CS_PAUSED
           || c->status == CS_RESTARTING;
  engine_unlock (e);
  return r;
}

void
engine_container_counts (engine *e, int *total, int *running, int *paused,
                         int *stopped)
{
  *total = *running = *paused = *stopped = 0;
  engine_lock (e);
  for (size_t i = 0; i < e->n_cs; i++)
    {
      container *c = e->cs[i];
      if (c->removed)
        continue;
      (*total)++;
      if (c->status == CS_PAUSED)
        (*paused)++;
      else if (c->status == CS_RUNNING || c->status == CS_RESTARTING)
        (*running)++;
      else
        (*stopped)++;
    }
  engine_unlock (e);
}

int
engine_image_users (engine *e, const char *image_id)
{
  int n = 0;
  engine_lock (e);
  for (size_t i = 0; i < e->n_cs; i++)
    if (!e->cs[i]->removed && strcmp (e->cs[i]->image_id, image_id) == 0)
      n++;
  engine_unlock (e);
  return n;
}

int
engine_with_images (engine *e, engine_image_fn fn, void *ud, polis_error **err)
{
  pthread_mutex_lock (&e->image_lock);
  int r = fn (ud, e->images, err);
  pthread_mutex_unlock (&e->image_lock);
  return r;
}

/* --- open / close ---------------------------------------------------------------- */

static int
load_row (void *ud, const char *id, const char *name, int64_t created,
          const char *doc)
{
  engine *e = ud;
  polis_error *err = NULL;
  if (strlen (id) != 64)
    return 0;
  cleanup_json json_t *j = pjson_parse (doc, strlen (doc), "container", &err);
  container *c = container_new (e, id);
  c->name = xstrdup (name);
  c->created_ns = created;
  if (j == NULL || container_load_doc (c, j, &err) < 0)
    {
      log_error ("container %.12s: unreadable record, skipped: %s", id,
                 err ? err->msg : "?");
      error_free (&err);
      container_free (c);
      return 0;
    }
  engine_table_add (e, c);
  return 0;
}

static int
detect_cgroup_version (void)
{
  struct statfs sf;
  if (statfs ("/sys/fs/cgroup", &sf) == 0
      && (unsigned long) sf.f_type == CGROUP2_SUPER_MAGIC)
    return 2;
  return 1;
}

/* Directories of containers the database does not have: a daemon killed
   between a removal and its cleanup left them.  Only names that are
   container IDs (64 hex digits): `polis-image mount` uses containers/ too. */
static void
reap_leftovers (engine *e)
{
  cleanup_closedir DIR *d = opendir (e->containers_dir);
  struct dirent *de;
  while (d && (de = readdir (d)))
    {
      if (strlen (de->d_name) != 64 || strspn (de->d_name, "0123456789abcdef") != 64
          || engine_find_id (e, de->d_name))
        continue;
      cleanup_free char *dir = xasprintf ("%s/%s", e->containers_dir, de->d_name);
      cleanup_free char *run = xasprintf ("%s/%s", e->opts.run_root, de->d_name);
      reaper_add (e->reaper, NULL, dir, run, NULL);
    }
}

engine *
engine_open (const engine_opts *o, polis_error **err)
{
  engine *e = xzalloc (sizeof *e);
  e->opts = *o;
  e->opts.root = xstrdup (o->root);
  e->opts.run_root = xstrdup (o->run_root);
  e->opts.shim_path = xstrdup (o->shim_path);
  e->opts.image_tool = xstrdup (o->image_tool);
  e->opts.cgroup_parent = xstrdup (o->cgroup_parent ? o->cgroup_parent : "polis");
  e->opts.init_path = o->init_path ? xstrdup (o->init_path) : NULL;
  e->opts.insecure_registries = strv_dup (o->insecure_registries);
  e->opts.registry_mirrors = strv_dup (o->registry_mirrors);
  e->containers_dir = xasprintf ("%s/containers", e->opts.root);
  e->cgroup_version = detect_cgroup_version ();
  pthread_mutex_init (&e->lock, NULL);
  pthread_mutex_init (&e->image_lock, NULL);
  e->bus = events_bus_new ();

  cleanup_free char *tmp = xasprintf ("%s/tmp", e->opts.root);
  cleanup_free char *rt = xasprintf ("%s/runtime", e->opts.run_root);
  if (file_mkdir_p (e->containers_dir, 0710, err) < 0
      || file_mkdir_p (tmp, 0700, err) < 0 || file_mkdir_p (rt, 0700, err) < 0)
    goto fail;
  e->images = image_store_open (e->opts.root, err);
  if (e->images == NULL)
    goto fail;
  e->images->restore = container_fs_restore_image;
  e->images->restore_data = e;
  e->db = state_db_open (e->opts.root, err);
  if (e->db == NULL)
    goto fail;
  if (volume_open_all (e, err) < 0
      || state_db_each_container (e->db, load_row, e, err) < 0)
    goto fail;
  {
    cleanup_strv char **held = NULL;
    for (size_t i = 0; i < e->n_cs; i++)
      if (e->cs[i]->sandbox)
        strv_append (&held, e->cs[i]->sandbox);
    cleanup_free char *nsdir = xasprintf ("%s/netns", e->opts.run_root);
    e->netns = netns_pool_new (nsdir, ENGINE_NETNS_POOL, held, err);
    if (e->netns == NULL)
      goto fail;
  }
  if (network_open (e, err) < 0)
    goto fail;
  e->reaper = reaper_start (err);
  if (e->reaper == NULL)
    goto fail;
  reap_leftovers (e);
  e->mon = monitor_start (e, err);
  if (e->mon == NULL)
    goto fail;
  /* Live restore: every container whose shim still runs is followed
     again; the others get the exit their shim recorded. */
  for (size_t i = 0; i < e->n_cs; i++)
    lifecycle_restore (e, e->cs[i]);
  volume_restore_done (e);
  exec_load_all (e);
  return e;
fail:
  error_wrap (err, "open engine under `%s`", o->root);
  engine_close (e);
  return NULL;
}

void
engine_close (engine *e)
{
  if (e == NULL)
    return;
  monitor_stop (e->mon);
  reaper_stop (e->reaper);
  netns_pool_free (e->netns);
  network_close (e);
  exec_free_all (e);
  /* Handlers are gone (the API server stopped first): only the table's
     references are left. */
  for (size_t i = 0; i < e->n_cs; i++)
    container_free (e->cs[i]);
  free (e->cs);
  volume_close_all (e);
  state_db_close (e->db);
  image_store_free (e->images);
  events_bus_free (e->bus);
  pthread_mutex_destroy (&e->lock);
  pthread_mutex_destroy (&e->image_lock);
  free ((char *) e->opts.root);
  free ((char *) e->opts.run_root);
  free ((char *) e->opts.shim_path);
  free ((char *) e->opts.image_tool);
  free ((char *) e->opts.cgroup_parent);
  free ((char *) e->opts.init_path);
  cleanup_strv_fn (&e->opts.insecure_registries);
  cleanup_strv_fn (&e->opts.registry_mirrors);
  free (e->containers_dir);
  free (e);
}
