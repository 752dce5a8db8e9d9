/* container_ops.c - remove, rename, update, top, prune, and the paths the
 * file and log handlers need. */
#include "engine_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "bundle.h"
#include "container_fs.h"
#include "container_mounts.h"
#include "container_schema.h"
#include "netns.h"
#include "network.h"
#include "reaper.h"
#include "oci_spec.h"
#include "runtime/cgroup.h"
#include "shim_client.h"
#include "volume.h"

#define PS_OUTPUT_MAX (16u << 20)

/* --- remove ----------------------------------------------------------------------- */

int
lifecycle_destroy (engine *e, container *c, bool volumes, polis_error **err)
{
  engine_lock (e);
  bool shim_up = c->shim_up;
  c->status = CS_REMOVING;
  engine_unlock (e);
  if (shim_up)
    {
      cleanup_free char *sock = xasprintf ("%s/shim.sock", c->run_dir);
      cleanup_json json_t *req = json_pack ("{s:s,s:b}", "op", "delete", "force", true);
      polis_error *e2 = NULL;
      cleanup_json json_t *r = shim_call (sock, req, NULL, SHIM_TIMEOUT_MS, &e2);
      /* An auto-removed container's shim is gone already. */
      if (r == NULL && e2->cls != ERROR_NOT_FOUND && e2->cls != ERROR_UNAVAILABLE)
        log_warning ("delete %.12s in its shim: %s", c->id, e2->msg);
      error_free (&e2);
    }
  /* Ports go while the container is still listed; its addresses go with
     its row below, its host interfaces with its files (the reaper). */
  cleanup_strv char **links = network_container_release (e, c);
  engine_lock (e);
  if (state_db_delete_container (e->db, c->id, err) < 0)
    {
      engine_unlock (e);
      cleanup_error polis_error *ign = NULL;
      reaper_remove_now (links, NULL, NULL, NULL, &ign);
      return -1;
    }
  exec_forget_container (e, c);
  c->removed = true;
  c->shim_up = false;
  engine_table_remove (e, c);
  container_notify (c);
  engine_unlock (e);
  engine_release_image (e, c);
  volume_container_removed (e, c, volumes);
  /* Its files go in the background (the root's unmount is slow). */
  reaper_add (e->reaper, links, c->dir, c->run_dir, c->sandbox);
  container_event (e, c, "destroy", NULL);
  /* The table's reference. */
  container_unref (c);
  return 0;
}

int
engine_container_remove (engine *e, container *c, bool force, bool volumes,
                         polis_error **err)
{
  pthread_mutex_lock (&c->op_lock);
  engine_lock (e);
  int r = 0;
  if (c->removed)
    r = error_set (err, ERROR_NOT_FOUND, ENOENT, "No such container: %s", c->id);
  else if (c->status == CS_REMOVING && !c->auto_removing)
    r = error_set (err, ERROR_CONFLICT, 0,
                   "removal of container %s is already in progress", c->id);
  else if ((c->status == CS_RUNNING || c->status == CS_RESTARTING
            || c->status == CS_PAUSED)
           && !force)
    r = error_set (err, ERROR_CONFLICT, 0,
                   "cannot remove container \"/%s\": container is %s: stop "
                   "the container before removing or force remove",
                   c->name, c->status == CS_PAUSED ? "paused" : "running");
  engine_unlock (e);
  if (r == 0)
    r = lifecycle_destroy (e, c, volumes, err);
  pthread_mutex_unlock (&c->op_lock);
  return r;
}

/* --- rename ------------------------------------------------------------------------- */

int
engine_container_rename (engine *e, container *c, const char *new_name,
                         polis_error **err)
{
  if (new_name == NULL || *new_name == '\0')
    return error_set (err, ERROR_INVALID, EINVAL, "Neither old nor new names may be empty");
  if (!engine_valid_name (new_name))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "Invalid container name (%s), only "
                      "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                      new_name);
  const char *n = new_name[0] == '/' ? new_name + 1 : new_name;
  engine_lock (e);
  if (strcmp (c->name, n) == 0)
    {
      engine_unlock (e);
      return error_set (err, ERROR_INVALID, EINVAL,
                        "Renaming a container with the same name as its "
                        "current name");
    }
  container *other = engine_find_name (e, n);
  if (other)
    {
      engine_unlock (e);
      return error_set (err, ERROR_CONFLICT, EEXIST,
                        "Conflict. The container name \"/%s\" is already in "
                        "use by container \"%s\". You have to remove (or "
                        "rename) that container to be able to reuse that "
                        "name.",
                        n, other->id);
    }
  char *old = c->name;
  c->name = xstrdup (n);
  if (container_save (e, c, err) < 0)
    {
      free (c->name);
      c->name = old;
      engine_unlock (e);
      return -1;
    }
  engine_unlock (e);
  container_event (e, c, "rename", json_pack ("{s:s}", "oldName", old));
  free (old);
  return 0;
}

/* --- update ------------------------------------------------------------------------- */

int
engine_container_update (engine *e, container *c, json_t *body,
                         json_t **warnings, polis_error **err)
{
  cleanup_json json_t *upd = schema_normalize (SCHEMA_UPDATE, body, err);
  if (upd == NULL)
    return -1;
  json_int_t mem = json_integer_value (json_object_get (upd, "Memory"));
  if (json_object_get (upd, "Memory") && mem > 0 && mem < 6 * 1024 * 1024)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "Minimum memory limit allowed is 6MB");
  json_t *rp = json_object_get (upd, "RestartPolicy");
  if (rp)
    {
      const char *name = json_string_value (json_object_get (rp, "Name"));
      if (name && *name && strcmp (name, "no") != 0
          && json_is_true (json_object_get (c->host_config, "AutoRemove")))
        return error_set (err, ERROR_INVALID, EINVAL,
                          "Restart policy cannot be updated because AutoRemove "
                          "is enabled for the container");
      if (name && *name && strcmp (name, "no") != 0 && strcmp (name, "always") != 0
          && strcmp (name, "unless-stopped") != 0 && strcmp (name, "on-failure") != 0)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid restart policy: unknown policy '%s'", name);
    }
  pthread_mutex_lock (&c->op_lock);
  engine_lock (e);
  json_t *hc = json_deep_copy (c->host_config);
  json_object_update (hc, upd);
  if (rp)
    {
      const char *name = json_string_value (json_object_get (rp, "Name"));
      json_object_set_new (hc, "RestartPolicy",
                           json_pack ("{s:s,s:I}", "Name", name && *name ? name : "no",
                                      "MaximumRetryCount",
                                      json_integer_value (json_object_get (
                                          rp, "MaximumRetryCount"))));
    }
  bool running = (c->status == CS_RUNNING || c->status == CS_PAUSED) && c->shim_up;
  engine_unlock (e);
  int r = 0;
  if (running)
    {
      cleanup_free char *restart = bundle_restart_arg (hc);
      cleanup_free char *sock = xasprintf ("%s/shim.sock", c->run_dir);
      cleanup_json json_t *req = json_pack ("{s:s,s:o,s:s}", "op", "update",
                                            "resources", oci_spec_resources (upd),
                                            "restart", restart);
      cleanup_json json_t *reply = shim_call (sock, req, NULL, SHIM_TIMEOUT_MS, err);
      if (reply == NULL)
        {
          error_wrap (err, "Cannot update container %s", c->id);
          r = -1;
        }
    }
  if (r == 0)
    {
      engine_lock (e);
      json_decref (c->host_config);
      c->host_config = hc;
      hc = NULL;
      container_save (e, c, NULL);
      engine_unlock (e);
      container_event (e, c, "update", NULL);
    }
  json_decref (hc);
  pthread_mutex_unlock (&c->op_lock);
  if (r == 0)
    *warnings = json_array ();
  return r;
}

/* --- top ----------------------------------------------------------------------------- */

static char *
run_ps (char **argv, polis_error **err)
{
  int pfd[2];
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    {
      error_sys (err, "pipe");
      return NULL;
    }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, pfd[1], 1);
  posix_spawn_file_actions_addopen (&fa, 2, "/dev/null", O_WRONLY, 0);
  static char *const env[] = { "PATH=/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL=C", NULL };
  pid_t pid;
  int r = posix_spawnp (&pid, "ps", &fa, NULL, argv, env);
  posix_spawn_file_actions_destroy (&fa);
  close (pfd[1]);
  cleanup_close int rd = pfd[0];
  if (r != 0)
    {
      error_sys_code (err, r, "run ps");
      return NULL;
    }
  char *out = file_read_fd (rd, PS_OUTPUT_MAX, NULL, err);
  int st;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (out && (!WIFEXITED (st) || WEXITSTATUS (st) != 0))
    {
      free (out);
      error_set (err, ERROR_INTERNAL, 0,
                 "ps: exit status %d", WIFEXITED (st) ? WEXITSTATUS (st) : -1);
      return NULL;
    }
  return out;
}

static char **
split_ws (const char *s, size_t max_fields)
{
  char **out = NULL;
  size_t n = 0;
  while (*s)
    {
      while (*s == ' ' || *s == '\t')
        s++;
      if (*s == '\0')
        break;
      size_t l = n + 1 == max_fields ? strlen (s) : strcspn (s, " \t");
      char *f = xstrndup (s, l);
      strv_append (&out, f);
      free (f);
      n++;
      s += l;
    }
  return out;
}

json_t *
engine_container_top (engine *e, container *c, const char *ps_args,
                      polis_error **err)
{
  engine_lock (e);
  bool running = (c->status == CS_RUNNING || c->status == CS_PAUSED);
  engine_unlock (e);
  if (!running)
    {
      error_set (err, ERROR_CONFLICT, 0, "Container %s is not running", c->id);
      return NULL;
    }
  cleanup_free char *cgpath = bundle_cgroups_path (e, c);
  cgroup *cg = cgroup_resolve (cgpath, c->id, err);
  if (cg == NULL)
    return NULL;
  pid_t *pids = NULL;
  size_t n_pids = 0;
  int r = cgroup_pids (cg, &pids, &n_pids, err);
  cgroup_free (cg);
  if (r < 0)
    return NULL;
  cleanup_free pid_t *pids_owned = pids;
  cleanup_strv char **argv = NULL;
  strv_append (&argv, "ps");
  cleanup_free char *args = xstrdup (ps_args && *ps_args ? ps_args : "-ef");
  for (char *a = strtok (args, " "); a; a = strtok (NULL, " "))
    strv_append (&argv, a);
  cleanup_free char *out = run_ps (argv, err);
  if (out == NULL)
    return NULL;
  char *line = strtok (out, "\n");
  if (line == NULL)
    {
      error_set (err, ERROR_INTERNAL, 0, "ps printed nothing");
      return NULL;
    }
  cleanup_strv char **titles = split_ws (line, 1000);
  size_t nt = strv_length (titles);
  ssize_t pid_col = -1;
  for (size_t i = 0; i < nt; i++)
    if (strcmp (titles[i], "PID") == 0)
      pid_col = (ssize_t) i;
  if (pid_col < 0)
    {
      error_set (err, ERROR_INTERNAL, 0, "Couldn't find PID field in ps output");
      return NULL;
    }
  json_t *tj = json_array ();
  for (size_t i = 0; i < nt; i++)
    json_array_append_new (tj, json_string (titles[i]));
  json_t *procs = json_array ();
  while ((line = strtok (NULL, "\n")))
    {
      cleanup_strv char **f = split_ws (line, nt);
      if (strv_length (f) <= (size_t) pid_col)
        continue;
      pid_t p = (pid_t) atoi (f[pid_col]);
      bool mine = false;
      for (size_t i = 0; i < n_pids && !mine; i++)
        mine = pids[i] == p;
      if (!mine)
        continue;
      json_t *row = json_array ();
      for (char **x = f; *x; x++)
        json_array_append_new (row, json_string (*x));
      json_array_append_new (procs, row);
    }
  return json_pack ("{s:o,s:o}", "Titles", tj, "Processes", procs);
}

/* --- prune -------------------------------------------------------------------------- */

json_t *
engine_container_prune (engine *e, json_t *filters, polis_error **err)
{
  const char *k;
  json_t *v;
  json_object_foreach (filters, k, v)
    if (strcmp (k, "until") != 0 && strcmp (k, "label") != 0)
      {
        error_set (err, ERROR_INVALID, EINVAL, "invalid filter '%s'", k);
        return NULL;
      }
  json_t *deleted = json_array ();
  json_int_t reclaimed = 0;
  for (;;)
    {
      container *victim = NULL;
      engine_lock (e);
      for (size_t i = 0; i < e->n_cs && !victim; i++)
        {
          container *c = e->cs[i];
          if (c->removed || (c->status != CS_EXITED && c->status != CS_CREATED
                             && c->status != CS_DEAD))
            continue;
          bool seen = false;
          size_t j;
          json_t *d;
          json_array_foreach (deleted, j, d)
            seen = seen || strcmp (json_string_value (d), c->id) == 0;
          if (seen)
            continue;
          victim = c;
          victim->refs++;
        }
      engine_unlock (e);
      if (victim == NULL)
        break;
      json_array_append_new (deleted, json_string (victim->id));
      polis_error *e2 = NULL;
      if (engine_container_remove (e, victim, false, false, &e2) < 0)
        {
          log_warning ("prune %.12s: %s", victim->id, e2->msg);
          error_free (&e2);
          json_array_remove (deleted, json_array_size (deleted) - 1);
          container_unref (victim);
          break;
        }
      container_unref (victim);
    }
  return json_pack ("{s:o,s:I}", "ContainersDeleted", deleted, "SpaceReclaimed",
                    reclaimed);
}

/* --- paths ------------------------------------------------------------------------------- */

char *
engine_container_rootfs (engine *e, container *c, polis_error **err)
{
  pthread_mutex_lock (&c->op_lock);
  int r = container_fs_mount (e, c, err);
  pthread_mutex_unlock (&c->op_lock);
  if (r < 0)
    return NULL;
  return xasprintf ("%s/rootfs", c->dir);
}

json_t *
engine_container_binds (engine *e, container *c)
{
  (void) e;
  json_t *out = json_array ();
  static const char *const files[][2] = { { "/etc/hosts", "hosts" },
                                          { "/etc/hostname", "hostname" },
                                          { "/etc/resolv.conf", "resolv.conf" } };
  for (size_t i = 0; i < 3; i++)
    {
      cleanup_free char *src = xasprintf ("%s/%s", c->dir, files[i][1]);
      json_array_append_new (out, json_pack ("{s:s,s:s,s:b}", "destination",
                                             files[i][0], "source", src,
                                             "readonly", false));
    }
  size_t i;
  json_t *v;
  /* Binds and volumes (a tmpfs has nothing on the host to reach). */
  json_array_foreach (c->mounts, i, v)
  {
    if (strcmp (container_mounts_str (v, "Type"), "tmpfs") == 0)
      continue;
    json_array_append_new (
        out, json_pack ("{s:s,s:s,s:b}", "destination",
                        container_mounts_str (v, "Destination"), "source",
                        container_mounts_str (v, "Source"), "readonly",
                        !json_is_true (json_object_get (v, "RW"))));
  }
  return out;
}

char *
engine_container_log_path (engine *e, container *c)
{
  (void) e;
  return xasprintf ("%s/%s-json.log", c->dir, c->id);
}
