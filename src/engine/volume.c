/* volume.c - the local volume driver: the table, its API, and what a
 * container's start, stop and removal do to its volumes. */
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/path.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "container_mounts.h"
#include "engine_internal.h"

#define ANON_LABEL "com.docker.volume.anonymous"

struct volume
{
  char *name;
  int64_t created_ns;
  json_t *labels;  /* object */
  json_t *options; /* object: type, device, o */
  int active;      /* running containers using it */
};

static void
volume_free (struct volume *v)
{
  if (v == NULL)
    return;
  free (v->name);
  json_decref (v->labels);
  json_decref (v->options);
  free (v);
}

void
volume_lock (engine *e)
{
  pthread_mutex_lock (&e->vol_lock);
}

void
volume_unlock (engine *e)
{
  pthread_mutex_unlock (&e->vol_lock);
}

int
volume_check_name (const char *name, polis_error **err)
{
  size_t n = strlen (name);
  if (n > VOLUME_NAME_MAX)
    return error_set (err, ERROR_INVALID, ENAMETOOLONG,
                      "create %.64s...: volume name is longer than %d bytes",
                      name, VOLUME_NAME_MAX);
  if (n < 2)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "volume name is too short, names should be at least two "
                      "alphanumeric characters");
  bool ok = (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')
            || (name[0] >= '0' && name[0] <= '9');
  for (size_t i = 1; i < n && ok; i++)
    ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z')
         || (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '.'
         || name[i] == '-';
  if (!ok)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "create %s: \"%s\" includes invalid characters for a "
                      "local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" "
                      "are allowed. If you intended to pass a host directory, "
                      "use absolute path",
                      name, name);
  return 0;
}

/* Docker's local driver accepts these options, and needs type and device
   together. */
static int
check_options (const json_t *opts, polis_error **err)
{
  if (json_object_size (opts) == 0)
    return 0;
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *) opts, k, v)
  {
    if (strcmp (k, "size") == 0)
      return error_set (err, ERROR_INVALID, EINVAL,
                        "quota size requested but no quota support");
    if (strcmp (k, "type") != 0 && strcmp (k, "device") != 0 && strcmp (k, "o") != 0)
      return error_set (err, ERROR_INVALID, EINVAL, "invalid option: \"%s\"", k);
  }
  bool type = json_object_get (opts, "type") != NULL;
  bool device = json_object_get (opts, "device") != NULL;
  if (type && !device)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "missing required option: \"device\"");
  if (!type)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "missing required option: \"type\"");
  return 0;
}

/* A {string: string} object of at most VOLUME_MAP_MAX entries. */
static int
check_map (const json_t *m, const char *what, polis_error **err)
{
  if (m == NULL || json_is_null (m))
    return 0;
  if (!json_is_object (m))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "json: cannot unmarshal into Go struct field "
                      "CreateOptions.%s of type map[string]string",
                      what);
  if (json_object_size (m) > VOLUME_MAP_MAX)
    return error_set (err, ERROR_INVALID, E2BIG, "more than %d %s",
                      VOLUME_MAP_MAX, what);
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *) m, k, v)
  {
    if (!json_is_string (v))
      return error_set (err, ERROR_INVALID, EINVAL,
                        "json: cannot unmarshal into Go struct field "
                        "CreateOptions.%s of type string",
                        what);
    if (strlen (k) > VOLUME_STRING_MAX || json_string_length (v) > VOLUME_STRING_MAX)
      return error_set (err, ERROR_INVALID, E2BIG,
                        "%s: an entry is longer than %d bytes", what,
                        VOLUME_STRING_MAX);
  }
  return 0;
}

static void
publish (engine *e, const char *action, const char *name)
{
  events_publish (e->bus, "volume", action, name,
                  json_pack ("{s:s}", "driver", "local"));
}

/* Docker's "mount" event of a volume as a container starts with it. */
static void
publish_mount (engine *e, const container *c, const json_t *m)
{
  events_publish (e->bus, "volume", "mount", container_mounts_str (m, "Name"),
                  json_pack ("{s:s,s:s,s:s,s:s,s:s}", "container", c->id,
                             "destination", container_mounts_str (m, "Destination"),
                             "driver", "local", "propagation", "",
                             "read/write",
                             json_is_true (json_object_get (m, "RW")) ? "true" : "false"));
}

/* --- the table (volume lock held) ---------------------------------------------- */

static struct volume *
find (engine *e, const char *name)
{
  for (size_t i = 0; i < e->n_vols; i++)
    if (strcmp (e->vols[i]->name, name) == 0)
      return e->vols[i];
  return NULL;
}

static void
table_add (engine *e, struct volume *v)
{
  if (e->n_vols == e->cap_vols)
    {
      e->cap_vols = e->cap_vols ? 2 * e->cap_vols : 16;
      e->vols = xrealloc (e->vols, e->cap_vols * sizeof *e->vols);
    }
  e->vols[e->n_vols++] = v;
}

static void
table_remove (engine *e, struct volume *v)
{
  for (size_t i = 0; i < e->n_vols; i++)
    if (e->vols[i] == v)
      {
        memmove (e->vols + i, e->vols + i + 1, (e->n_vols - i - 1) * sizeof *e->vols);
        e->n_vols--;
        return;
      }
}

static char *
data_path (engine *e, const char *name)
{
  return xasprintf ("%s/%s/_data", e->volumes_dir, name);
}

static int
save (engine *e, struct volume *v, polis_error **err)
{
  cleanup_json json_t *doc = json_pack ("{s:O,s:O}", "Labels", v->labels,
                                        "Options", v->options);
  cleanup_free char *text = json_dumps (doc, JSON_COMPACT);
  engine_lock (e);
  int r = state_db_put_volume (e->db, v->name, v->created_ns, text, err);
  engine_unlock (e);
  return r;
}

static int
load_row (void *ud, const char *name, const char *name2, int64_t created,
          const char *doc)
{
  engine *e = ud;
  (void) name2;
  polis_error *err = NULL;
  cleanup_json json_t *j = pjson_parse (doc, strlen (doc), "volume", &err);
  if (j == NULL || volume_check_name (name, &err) < 0)
    {
      log_error ("volume %s: unreadable record, skipped: %s", name,
                 err ? err->msg : "?");
      error_free (&err);
      return 0;
    }
  struct volume *v = xzalloc (sizeof *v);
  v->name = xstrdup (name);
  v->created_ns = created;
  json_t *l = json_object_get (j, "Labels");
  json_t *o = json_object_get (j, "Options");
  v->labels = json_is_object (l) ? json_incref (l) : json_object ();
  v->options = json_is_object (o) ? json_incref (o) : json_object ();
  table_add (e, v);
  return 0;
}

int
volume_open_all (engine *e, polis_error **err)
{
  pthread_mutex_init (&e->vol_lock, NULL);
  e->volumes_dir = xasprintf ("%s/volumes", e->opts.root);
  if (file_mkdir_p (e->volumes_dir, 0701, err) < 0)
    return -1;
  return state_db_each_volume (e->db, load_row, e, err);
}

void
volume_close_all (engine *e)
{
  if (e->volumes_dir == NULL)
    return;
  for (size_t i = 0; i < e->n_vols; i++)
    volume_free (e->vols[i]);
  free (e->vols);
  e->vols = NULL;
  e->n_vols = 0;
  free (e->volumes_dir);
  e->volumes_dir = NULL;
  pthread_mutex_destroy (&e->vol_lock);
}

/* Make NAME (directories, then the row: a crash in between leaves a
   directory a later create of the same name takes over). */
static struct volume *
create_locked (engine *e, const char *name, const json_t *labels,
               const json_t *opts, polis_error **err)
{
  if (volume_check_name (name, err) < 0 || check_map (labels, "Labels", err) < 0
      || check_map (opts, "DriverOpts", err) < 0 || check_options (opts, err) < 0)
    return NULL;
  cleanup_free char *dir = xasprintf ("%s/%s", e->volumes_dir, name);
  cleanup_free char *data = data_path (e, name);
  if ((mkdir (dir, 0701) < 0 && errno != EEXIST)
      || (mkdir (data, 0755) < 0 && errno != EEXIST))
    {
      error_sys (err, "create %s: mkdir", name);
      return NULL;
    }
  struct volume *v = xzalloc (sizeof *v);
  v->name = xstrdup (name);
  v->created_ns = events_now_ns ();
  v->labels = json_is_object (labels) ? json_deep_copy (labels) : json_object ();
  v->options = json_is_object (opts) ? json_deep_copy (opts) : json_object ();
  if (save (e, v, err) < 0)
    {
      volume_free (v);
      return NULL;
    }
  table_add (e, v);
  publish (e, "create", name);
  return v;
}

/* The containers (IDs, new array) whose mount points name V. */
static json_t *
users_locked (engine *e, const char *name)
{
  json_t *ids = json_array ();
  engine_lock (e);
  for (size_t i = 0; i < e->n_cs; i++)
    {
      container *c = e->cs[i];
      size_t j;
      json_t *m;
      json_array_foreach (c->mounts, j, m)
        if (strcmp (container_mounts_str (m, "Type"), "volume") == 0
            && strcmp (container_mounts_str (m, "Name"), name) == 0)
          {
            json_array_append_new (ids, json_string (c->id));
            break;
          }
    }
  engine_unlock (e);
  return ids;
}

static bool
is_mountpoint (const char *path)
{
  struct statx sx;
  if (statx (AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
    return false;
  if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
    return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  /* Older kernels: a different device than the parent. */
  cleanup_free char *parent = xasprintf ("%s/..", path);
  struct stat a, b;
  return stat (path, &a) == 0 && stat (parent, &b) == 0 && a.st_dev != b.st_dev;
}

/* Remove V's directory and row (not in use: the caller checked). */
static int
remove_locked (engine *e, struct volume *v, polis_error **err)
{
  cleanup_free char *data = data_path (e, v->name);
  if (is_mountpoint (data) && umount2 (data, MNT_DETACH) < 0)
    return error_sys (err, "remove %s: unmount", v->name);
  engine_lock (e);
  int r = state_db_delete_volume (e->db, v->name, err);
  engine_unlock (e);
  if (r < 0)
    return error_wrap (err, "remove %s", v->name);
  cleanup_free char *dir = xasprintf ("%s/%s", e->volumes_dir, v->name);
  polis_error *e2 = NULL;
  if (file_remove_tree_at (AT_FDCWD, dir, &e2) < 0)
    {
      log_warning ("remove volume %s: %s", v->name, e2->msg);
      error_free (&e2);
    }
  publish (e, "destroy", v->name);
  table_remove (e, v);
  volume_free (v);
  return 0;
}

/* --- mounting volumes with driver options ------------------------------------------ */

static const struct
{
  const char *name;
  bool clear;
  unsigned long flag;
} mount_flags[] = {
  { "ro", false, MS_RDONLY },        { "rw", true, MS_RDONLY },
  { "nosuid", false, MS_NOSUID },    { "suid", true, MS_NOSUID },
  { "nodev", false, MS_NODEV },      { "dev", true, MS_NODEV },
  { "noexec", false, MS_NOEXEC },    { "exec", true, MS_NOEXEC },
  { "sync", false, MS_SYNCHRONOUS }, { "async", true, MS_SYNCHRONOUS },
  { "dirsync", false, MS_DIRSYNC },  { "noatime", false, MS_NOATIME },
  { "atime", true, MS_NOATIME },     { "nodiratime", false, MS_NODIRATIME },
  { "diratime", true, MS_NODIRATIME }, { "relatime", false, MS_RELATIME },
  { "norelatime", true, MS_RELATIME }, { "strictatime", false, MS_STRICTATIME },
  { "bind", false, MS_BIND },        { "rbind", false, MS_BIND | MS_REC },
};

/* Docker's local driver: mount DEVICE on _data with TYPE and O (flags
   taken out of O, the rest is the file system's data). */
static int
mount_options (engine *e, struct volume *v, polis_error **err)
{
  cleanup_free char *data = data_path (e, v->name);
  if (is_mountpoint (data))
    return 0;
  const char *type = json_string_value (json_object_get (v->options, "type"));
  const char *device = json_string_value (json_object_get (v->options, "device"));
  const char *o = json_string_value (json_object_get (v->options, "o"));
  cleanup_free char *copy = xstrdup (o ? o : "");
  cleanup_free char *rest = xstrdup ("");
  unsigned long flags = 0;
  char *save = NULL;
  for (char *p = strtok_r (copy, ",", &save); p; p = strtok_r (NULL, ",", &save))
    {
      bool known = false;
      for (size_t i = 0; i < sizeof mount_flags / sizeof *mount_flags; i++)
        if (strcmp (p, mount_flags[i].name) == 0)
          {
            known = true;
            if (mount_flags[i].clear)
              flags &= ~mount_flags[i].flag;
            else
              flags |= mount_flags[i].flag;
          }
      if (!known)
        {
          char *n = xasprintf ("%s%s%s", rest, *rest ? "," : "", p);
          free (rest);
          rest = n;
        }
    }
  if (mount (device, data, type, flags, *rest ? rest : NULL) < 0)
    return error_sys (err, "error while mounting volume '%s': failed to mount "
                           "local volume: mount %s:%s",
                      data, device ? device : "", data);
  /* A read-only bind needs a remount to take. */
  if ((flags & MS_BIND) && (flags & MS_RDONLY)
      && mount (NULL, data, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
    {
      int saved = errno;
      umount2 (data, MNT_DETACH);
      return error_sys_code (err, saved, "mount volume %s read-only", v->name);
    }
  return 0;
}

static void
unmount_options (engine *e, struct volume *v)
{
  cleanup_free char *data = data_path (e, v->name);
  if (is_mountpoint (data) && umount2 (data, MNT_DETACH) < 0)
    log_warning ("unmount volume %s: %s", v->name, strerror (errno));
}

/* --- containers ---------------------------------------------------------------------- */

int
volume_ensure_for (engine *e, container *c, json_t *created, polis_error **err)
{
  size_t i;
  json_t *m;
  json_array_foreach (c->mounts, i, m)
  {
    if (strcmp (container_mounts_str (m, "Type"), "volume") != 0)
      continue;
    const char *name = container_mounts_str (m, "Name");
    if (find (e, name))
      continue;
    cleanup_json json_t *labels = json_object ();
    json_t *vl = json_object_get (m, "VolumeLabels");
    if (json_is_object (vl))
      json_object_update (labels, vl);
    if (json_is_true (json_object_get (m, "Anonymous")))
      json_object_set_new (labels, ANON_LABEL, json_string (""));
    if (create_locked (e, name, labels, json_object_get (m, "VolumeOptions"), err) == NULL)
      return -1;
    json_array_append_new (created, json_string (name));
  }
  return 0;
}

void
volume_remove_names (engine *e, json_t *names)
{
  size_t i;
  json_t *n;
  json_array_foreach (names, i, n)
  {
    struct volume *v = find (e, json_string_value (n));
    if (v == NULL)
      continue;
    cleanup_json json_t *users = users_locked (e, v->name);
    polis_error *err = NULL;
    if (json_array_size (users) == 0 && remove_locked (e, v, &err) < 0)
      {
        log_warning ("%s", err->msg);
        error_free (&err);
      }
  }
}

static bool
dir_empty (int fd)
{
  int d = dup (fd);
  if (d < 0)
    return false;
  cleanup_closedir DIR *dir = fdopendir (d);
  if (dir == NULL)
    {
      close (d);
      return false;
    }
  struct dirent *de;
  while ((de = readdir (dir)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      return false;
  return true;
}

/* Docker's copy-up: a volume that is empty takes what the image has at
   its destination.  The destination is resolved inside the root file
   system, so a symlink in the image cannot point the copy at the host. */
static int
copy_up (engine *e, const json_t *m, int rootfd, polis_error **err)
{
  const char *name = container_mounts_str (m, "Name");
  cleanup_free char *data = data_path (e, name);
  cleanup_close int dfd = open (data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return error_sys (err, "open volume %s", name);
  if (!dir_empty (dfd))
    return 0;
  polis_error *e2 = NULL;
  cleanup_close int sfd = path_open_in_root (
      rootfd, container_mounts_str (m, "Destination"),
      O_RDONLY | O_DIRECTORY, PATH_OPEN, 0, &e2);
  if (sfd < 0)
    {
      /* Nothing (or not a directory) in the image there: nothing to copy. */
      error_free (&e2);
      return 0;
    }
  if (volume_copy_tree (sfd, dfd, err) < 0)
    return error_wrap (err, "copy the image's %s into volume %s",
                       container_mounts_str (m, "Destination"), name);
  return 0;
}

static uint64_t
exit_gen_of (engine *e, container *c)
{
  engine_lock (e);
  uint64_t g = c->exit_gen;
  engine_unlock (e);
  return g;
}

static void
release_locked (engine *e, container *c)
{
  if (!c->volumes_active)
    return;
  c->volumes_active = false;
  size_t i;
  json_t *m;
  json_array_foreach (c->mounts, i, m)
  {
    if (strcmp (container_mounts_str (m, "Type"), "volume") != 0)
      continue;
    struct volume *v = find (e, container_mounts_str (m, "Name"));
    if (v == NULL || v->active <= 0)
      continue;
    if (--v->active == 0 && json_object_size (v->options) > 0)
      unmount_options (e, v);
    events_publish (e->bus, "volume", "unmount", v->name,
                    json_pack ("{s:s,s:s}", "container", c->id, "driver", "local"));
  }
}

/* Undo mountinfo's octal escapes ("\040" for a space) in place. */
static void
unescape_octal (char *s)
{
  char *w = s;
  for (char *r = s; *r; r++)
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7'
        && r[3] >= '0' && r[3] <= '7')
      {
        *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
        r += 3;
      }
    else
      *w++ = *r;
  *w = '\0';
}

/* Docker's rule for a bind with shared or slave propagation: the mount
   holding its source must be shared (or, for slave, a slave), else the
   propagation could not happen. */
static int
check_propagation (const char *src, const char *prop, polis_error **err)
{
  bool want_shared = strstr (prop, "shared") != NULL;
  if (!want_shared && strstr (prop, "slave") == NULL)
    return 0;
  cleanup_free char *real = realpath (src, NULL);
  if (real == NULL)
    return error_sys (err, "resolve bind source `%s`", src);
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  if (f == NULL)
    return error_sys (err, "open /proc/self/mountinfo");
  char line[4096];
  size_t best = 0;
  bool shared = false, slave = false;
  cleanup_free char *best_mp = NULL;
  while (fgets (line, sizeof line, f))
    {
      char *save = NULL;
      char *fields[7] = { NULL };
      size_t n = 0;
      for (char *t = strtok_r (line, " \n", &save); t && n < 7; t = strtok_r (NULL, " \n", &save))
        fields[n++] = t;
      if (n < 7)
        continue;
      char *mp = fields[4];
      unescape_octal (mp);
      size_t l = strlen (mp);
      bool under = strcmp (mp, "/") == 0
                   || (strncmp (real, mp, l) == 0 && (real[l] == '\0' || real[l] == '/'));
      if (!under || l < best)
        continue;
      best = l;
      free (best_mp);
      best_mp = xstrdup (mp);
      shared = slave = false;
      /* Optional fields, up to the "-" separator. */
      for (char *t = fields[6]; t && strcmp (t, "-") != 0; t = strtok_r (NULL, " \n", &save))
        {
          shared = shared || strncmp (t, "shared:", 7) == 0;
          slave = slave || strncmp (t, "master:", 7) == 0;
        }
    }
  if (best_mp == NULL)
    return 0;
  if (want_shared && !shared)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "path %s is mounted on %s but it is not a shared mount",
                      src, best_mp);
  if (!want_shared && !shared && !slave)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "path %s is mounted on %s but it is not a shared or "
                      "slave mount",
                      src, best_mp);
  return 0;
}

int
volume_container_start (engine *e, container *c, const char *rootfs,
                        polis_error **err)
{
  size_t i;
  json_t *m;
  /* -v binds: Docker makes a missing source directory. */
  json_array_foreach (c->mounts, i, m)
  {
    const char *src = container_mounts_str (m, "Source");
    struct stat st;
    if (strcmp (container_mounts_str (m, "Type"), "bind") == 0
        && json_is_true (json_object_get (m, "CreateSource")) && stat (src, &st) < 0
        && errno == ENOENT && file_mkdir_p (src, 0755, err) < 0)
      return error_wrap (err, "create bind source `%s`", src);
    if (strcmp (container_mounts_str (m, "Type"), "bind") == 0
        && check_propagation (src, container_mounts_str (m, "Propagation"), err) < 0)
      return -1;
  }
  volume_lock (e);
  /* Still counted from a run whose end the monitor has not reported to
     us yet: that count ends here, this run counts anew. */
  release_locked (e, c);
  cleanup_close int rootfd = open (rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    {
      volume_unlock (e);
      return error_sys (err, "open `%s`", rootfs);
    }
  c->volumes_active = true;
  c->volumes_exit_gen = exit_gen_of (e, c);
  int r = 0;
  json_array_foreach (c->mounts, i, m)
  {
    if (strcmp (container_mounts_str (m, "Type"), "volume") != 0)
      continue;
    const char *name = container_mounts_str (m, "Name");
    struct volume *v = find (e, name);
    if (v == NULL)
      {
        /* Its row went missing (a database from before it): make it. */
        cleanup_json json_t *made = json_array ();
        r = volume_ensure_for (e, c, made, err);
        v = r < 0 ? NULL : find (e, name);
        if (v == NULL)
          {
            r = r < 0 ? r : error_set (err, ERROR_NOT_FOUND, ENOENT, "no such volume: %s", name);
            break;
          }
      }
    v->active++;
    if (json_object_size (v->options) > 0)
      {
        r = mount_options (e, v, err);
        if (r < 0)
          break;
      }
    if (json_is_true (json_object_get (m, "CopyUp")))
      {
        r = copy_up (e, m, rootfd, err);
        if (r < 0)
          break;
      }
    publish_mount (e, c, m);
  }
  if (r < 0)
    {
      /* Count back exactly the volumes counted so far. */
      size_t upto = i;
      c->volumes_active = false;
      json_array_foreach (c->mounts, i, m)
      {
        if (i > upto)
          break;
        if (strcmp (container_mounts_str (m, "Type"), "volume") != 0)
          continue;
        struct volume *v = find (e, container_mounts_str (m, "Name"));
        if (v && v->active > 0 && --v->active == 0 && json_object_size (v->options) > 0)
          unmount_options (e, v);
      }
    }
  volume_unlock (e);
  return r;
}

void
volume_container_stop (engine *e, container *c, uint64_t exit_gen)
{
  volume_lock (e);
  if (c->volumes_exit_gen < exit_gen)
    release_locked (e, c);
  volume_unlock (e);
}


void
volume_restore_done (engine *e)
{
  volume_lock (e);
  for (size_t i = 0; i < e->n_vols; i++)
    if (e->vols[i]->active == 0 && json_object_size (e->vols[i]->options) > 0)
      unmount_options (e, e->vols[i]);
  volume_unlock (e);
}

void
volume_container_restored (engine *e, container *c)
{
  volume_lock (e);
  if (!c->volumes_active)
    {
      c->volumes_active = true;
      c->volumes_exit_gen = exit_gen_of (e, c);
      size_t i;
      json_t *m;
      json_array_foreach (c->mounts, i, m)
      {
        struct volume *v = strcmp (container_mounts_str (m, "Type"), "volume") == 0
                               ? find (e, container_mounts_str (m, "Name"))
                               : NULL;
        if (v)
          v->active++;
      }
    }
  volume_unlock (e);
}

void
volume_container_removed (engine *e, container *c, bool anonymous)
{
  volume_lock (e);
  release_locked (e, c);
  if (anonymous)
    {
      cleanup_json json_t *names = json_array ();
      size_t i;
      json_t *m;
      json_array_foreach (c->mounts, i, m)
      {
        struct volume *v = strcmp (container_mounts_str (m, "Type"), "volume") == 0
                               ? find (e, container_mounts_str (m, "Name"))
                               : NULL;
        if (v && json_object_get (v->labels, ANON_LABEL))
          json_array_append_new (names, json_string (v->name));
      }
      volume_remove_names (e, names);
    }
  volume_unlock (e);
}

/* --- the API ----------------------------------------------------------------------------- */

static json_t *
volume_json (engine *e, struct volume *v, bool usage, json_int_t refs)
{
  char created[48];
  time_t secs = (time_t) (v->created_ns / 1000000000);
  struct tm tm;
  gmtime_r (&secs, &tm);
  strftime (created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  cleanup_free char *data = data_path (e, v->name);
  json_t *j = json_pack ("{s:s,s:s,s:O,s:s,s:s,s:O,s:s}", "CreatedAt", created,
                         "Driver", "local", "Labels", v->labels, "Mountpoint",
                         data, "Name", v->name, "Options", v->options, "Scope",
                         "local");
  if (usage)
    {
      long long size = -1;
      polis_error *err = NULL;
      if (volume_tree_size (data, &size, &err) < 0)
        {
          size = -1;
          error_free (&err);
        }
      json_object_set_new (j, "UsageData", json_pack ("{s:I,s:I}", "Size",
                                                      (json_int_t) size,
                                                      "RefCount", refs));
    }
  return j;
}

json_t *
engine_volume_create (engine *e, const json_t *body, polis_error **err)
{
  if (body != NULL && !json_is_object (body))
    {
      error_set (err, ERROR_INVALID, EINVAL, "invalid JSON: the body must be an object");
      return NULL;
    }
  json_t *jn = json_object_get (body, "Name");
  json_t *jd = json_object_get (body, "Driver");
  if ((jn && !json_is_string (jn) && !json_is_null (jn))
      || (jd && !json_is_string (jd) && !json_is_null (jd)))
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "json: cannot unmarshal into Go struct field "
                 "CreateOptions.%s of type string",
                 jn && !json_is_string (jn) ? "Name" : "Driver");
      return NULL;
    }
  const char *name = json_string_value (jn);
  const char *driver = json_string_value (jd);
  if (driver && *driver && strcmp (driver, "local") != 0)
    {
      error_set (err, ERROR_NOT_FOUND, ENOENT,
                 "create %s: error looking up volume plugin %s: plugin \"%s\" "
                 "not found",
                 name ? name : "", driver, driver);
      return NULL;
    }
  char anon[65];
  if (name == NULL || *name == '\0')
    {
      /* Docker names an unnamed volume with 64 random hex digits. */
      unsigned char b[32];
      if (getentropy (b, sizeof b) < 0)
        abort ();
      for (int i = 0; i < 32; i++)
        snprintf (anon + 2 * i, 3, "%02x", b[i]);
      name = anon;
    }
  volume_lock (e);
  struct volume *v = find (e, name);
  if (v == NULL)
    v = create_locked (e, name, json_object_get (body, "Labels"),
                       json_object_get (body, "DriverOpts"), err);
  json_t *j = v ? volume_json (e, v, false, 0) : NULL;
  volume_unlock (e);
  return j;
}

json_t *
engine_volume_inspect (engine *e, const char *name, polis_error **err)
{
  volume_lock (e);
  struct volume *v = find (e, name);
  json_t *j = v ? volume_json (e, v, false, 0) : NULL;
  volume_unlock (e);
  if (j == NULL)
    error_set (err, ERROR_NOT_FOUND, ENOENT, "get %s: no such volume", name);
  return j;
}

/* The values of filter KEY ({"k":{"v":true}} or {"k":["v"]}) in a new
   array; NULL when the filter is absent. */
static json_t *
filter_values (const json_t *filters, const char *key)
{
  json_t *f = json_object_get (filters, key);
  if (f == NULL)
    return NULL;
  json_t *out = json_array ();
  const char *k;
  json_t *v;
  size_t i;
  if (json_is_object (f))
    json_object_foreach (f, k, v)
    {
      if (json_is_true (v))
        json_array_append_new (out, json_string (k));
    }
  else
    json_array_foreach (f, i, v)
      if (json_is_string (v))
        json_array_append (out, v);
  return out;
}

static bool
label_match (const json_t *labels, const char *want)
{
  const char *eq = strchr (want, '=');
  cleanup_free char *key = eq ? xstrndup (want, (size_t) (eq - want)) : xstrdup (want);
  json_t *v = json_object_get (labels, key);
  return v && (eq == NULL || strcmp (json_string_value (v), eq + 1) == 0);
}

static int
check_filters (const json_t *filters, const char *const *known, polis_error **err)
{
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *) filters, k, v)
  {
    bool ok = false;
    for (const char *const *p = known; *p && !ok; p++)
      ok = strcmp (*p, k) == 0;
    if (!ok)
      return error_set (err, ERROR_INVALID, EINVAL, "invalid filter '%s'", k);
  }
  return 0;
}

/* Does V pass the label filters (all of label, none of label!)? */
static bool
labels_pass (const struct volume *v, const json_t *lab, const json_t *nolab)
{
  size_t i;
  json_t *x;
  json_array_foreach (lab, i, x)
    if (!label_match (v->labels, json_string_value (x)))
      return false;
  json_array_foreach (nolab, i, x)
    if (label_match (v->labels, json_string_value (x)))
      return false;
  return true;
}

static bool
bool_filter (const json_t *vals, bool *out, polis_error **err)
{
  const char *s = json_string_value (json_array_get (vals, 0));
  if (s == NULL)
    return true;
  if (strcmp (s, "true") == 0 || strcmp (s, "1") == 0)
    *out = true;
  else if (strcmp (s, "false") == 0 || strcmp (s, "0") == 0)
    *out = false;
  else
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "invalid filter 'dangling=%s'", s);
      return false;
    }
  return true;
}

json_t *
engine_volume_list (engine *e, const json_t *filters, polis_error **err)
{
  static const char *const known[] = { "dangling", "name", "label", "label!",
                                       "driver", NULL };
  if (check_filters (filters, known, err) < 0)
    return NULL;
  cleanup_json json_t *dang = filter_values (filters, "dangling");
  cleanup_json json_t *names = filter_values (filters, "name");
  cleanup_json json_t *lab = filter_values (filters, "label");
  cleanup_json json_t *nolab = filter_values (filters, "label!");
  cleanup_json json_t *drv = filter_values (filters, "driver");
  bool want_dangling = false;
  if (dang && !bool_filter (dang, &want_dangling, err))
    return NULL;
  json_t *out = json_array ();
  volume_lock (e);
  for (size_t i = 0; i < e->n_vols; i++)
    {
      struct volume *v = e->vols[i];
      if (!labels_pass (v, lab, nolab))
        continue;
      bool ok = names == NULL;
      size_t j;
      json_t *x;
      json_array_foreach (names, j, x)
        ok = ok || strstr (v->name, json_string_value (x)) != NULL;
      if (!ok)
        continue;
      ok = drv == NULL;
      json_array_foreach (drv, j, x)
        ok = ok || strcmp (json_string_value (x), "local") == 0;
      if (!ok)
        continue;
      if (dang)
        {
          cleanup_json json_t *users = users_locked (e, v->name);
          if ((json_array_size (users) == 0) != want_dangling)
            continue;
        }
      json_array_append_new (out, volume_json (e, v, false, 0));
    }
  volume_unlock (e);
  return json_pack ("{s:o,s:[]}", "Volumes", out, "Warnings");
}

int
engine_volume_remove (engine *e, const char *name, bool force, polis_error **err)
{
  volume_lock (e);
  struct volume *v = find (e, name);
  int r = 0;
  if (v == NULL)
    r = force ? 0 : error_set (err, ERROR_NOT_FOUND, ENOENT, "get %s: no such volume", name);
  else
    {
      cleanup_json json_t *users = users_locked (e, name);
      if (json_array_size (users) > 0)
        {
          cleanup_free char *list = xstrdup ("");
          size_t i;
          json_t *u;
          json_array_foreach (users, i, u)
          {
            char *n = xasprintf ("%s%s%s", list, i ? " " : "", json_string_value (u));
            free (list);
            list = n;
          }
          r = error_set (err, ERROR_CONFLICT, EBUSY,
                         "remove %s: volume is in use - [%s]", name, list);
        }
      else
        r = remove_locked (e, v, err);
    }
  volume_unlock (e);
  return r;
}

json_t *
engine_volume_prune (engine *e, const json_t *filters, int api_version,
                     polis_error **err)
{
  static const char *const known[] = { "label", "label!", "all", NULL };
  if (check_filters (filters, known, err) < 0)
    return NULL;
  cleanup_json json_t *lab = filter_values (filters, "label");
  cleanup_json json_t *nolab = filter_values (filters, "label!");
  cleanup_json json_t *allv = filter_values (filters, "all");
  /* API 1.42 made prune take anonymous volumes only, unless all=true. */
  bool all = api_version < 142;
  if (allv && !bool_filter (allv, &all, err))
    return NULL;
  json_t *deleted = json_array ();
  long long reclaimed = 0;
  volume_lock (e);
  for (size_t i = e->n_vols; i > 0; i--)
    {
      struct volume *v = e->vols[i - 1];
      if (!labels_pass (v, lab, nolab)
          || (!all && json_object_get (v->labels, ANON_LABEL) == NULL))
        continue;
      cleanup_json json_t *users = users_locked (e, v->name);
      if (json_array_size (users) > 0)
        continue;
      cleanup_free char *data = data_path (e, v->name);
      long long size = 0;
      polis_error *e2 = NULL;
      if (volume_tree_size (data, &size, &e2) < 0)
        error_free (&e2);
      cleanup_free char *name = xstrdup (v->name);
      if (remove_locked (e, v, &e2) < 0)
        {
          log_warning ("prune: %s", e2->msg);
          error_free (&e2);
          continue;
        }
      reclaimed += size;
      json_array_append_new (deleted, json_string (name));
    }
  volume_unlock (e);
  return json_pack ("{s:o,s:I}", "VolumesDeleted", deleted, "SpaceReclaimed",
                    (json_int_t) reclaimed);
}

json_t *
engine_volume_df (engine *e)
{
  json_t *out = json_array ();
  volume_lock (e);
  for (size_t i = 0; i < e->n_vols; i++)
    {
      cleanup_json json_t *users = users_locked (e, e->vols[i]->name);
      json_array_append_new (out, volume_json (e, e->vols[i], true,
                                               (json_int_t) json_array_size (users)));
    }
  volume_unlock (e);
  return out;
}
