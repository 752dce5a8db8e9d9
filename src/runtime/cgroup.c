/* cgroup.c - the container's control group: resolution, state, dispatch. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/path.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "runtime/cgroup_internal.h"

static const cgroup_ops *
cgroup_ops_of (const cgroup *cg)
{
  return cg->version == CGROUP_V2 ? &cgroup_v2_ops : &cgroup_v1_ops;
}

cgroup_version
cgroup_host_version (void)
{
  static cgroup_version v;
  if (v)
    return v;
  struct statfs sfs;
  if (statfs (CGROUP_ROOT, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
    v = CGROUP_V2;
  else
    v = CGROUP_V1;
  return v;
}

void
cgroup_free (cgroup *cg)
{
  if (cg == NULL)
    return;
  for (size_t i = 0; i < cg->n_h; i++)
    {
      free (cg->h[i].controllers);
      free (cg->h[i].mount);
      free (cg->h[i].path);
    }
  free (cg->h);
  free (cg->path);
  free (cg);
}

char *
cgroup_own_path (const char *selfcg, const char *controllers)
{
  size_t clen = strlen (controllers);
  for (const char *line = selfcg; line && *line;)
    {
      const char *end = strchrnul (line, '\n');
      const char *c1 = memchr (line, ':', (size_t) (end - line));
      const char *c2 = c1 ? memchr (c1 + 1, ':', (size_t) (end - c1 - 1)) : NULL;
      if (c2 && (size_t) (c2 - c1 - 1) == clen
          && strncmp (c1 + 1, controllers, clen) == 0
          && (clen > 0 || strncmp (line, "0:", 2) == 0))
        return xstrndup (c2 + 1, (size_t) (end - c2 - 1));
      line = *end ? end + 1 : NULL;
    }
  return xstrdup ("/");
}

void
cgroup_mounts_free (cgroup_mount *m, size_t n)
{
  for (size_t i = 0; m && i < n; i++)
    {
      free (m[i].controllers);
      free (m[i].mount);
    }
  free (m);
}

/* The controllers of a cgroup v1 mount from its super options: all but
   the generic ones.  NULL when none is left. */
static char *
cgroup_mount_controllers (const char *super_opts)
{
  static const char *const generic[] = { "rw", "ro", "clone_children", "noprefix",
                                         "xattr", "cpuset_v2_mode", NULL };
  cleanup_free char *opts = xstrdup (super_opts);
  cleanup_free char *ctrl = NULL;
  size_t clen = 0;
  char *save = NULL;
  for (char *o = strtok_r (opts, ",", &save); o; o = strtok_r (NULL, ",", &save))
    {
      bool skip = strncmp (o, "release_agent", 13) == 0;
      for (size_t i = 0; !skip && generic[i]; i++)
        skip = strcmp (o, generic[i]) == 0;
      if (skip)
        continue;
      size_t ol = strlen (o);
      ctrl = xrealloc (ctrl, clen + ol + 2);
      if (clen)
        ctrl[clen++] = ',';
      memcpy (ctrl + clen, o, ol + 1);
      clen += ol;
    }
  return steal_pointer (&ctrl);
}

int
cgroup_v1_mounts (cgroup_mount **mounts, size_t *n, polis_error **err)
{
  cgroup_mount *out = NULL;
  size_t count = 0;
  cleanup_free char *mountinfo = file_read_at (AT_FDCWD, "/proc/self/mountinfo",
                                               CGROUP_MAX_FILE, NULL, err);
  if (mountinfo == NULL)
    return -1;
  for (char *line = mountinfo; line && *line;)
    {
      char *end = strchrnul (line, '\n');
      char saved = *end;
      *end = '\0';
      /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - cgroup SRC SUPER" */
      char *sep = strstr (line, " - cgroup ");
      char *f = line;
      for (int i = 0; i < 4 && f; i++)
        f = strchr (f + 1, ' ');
      char *mp_end = f ? strchr (f + 1, ' ') : NULL;
      char *super = sep ? strrchr (sep, ' ') : NULL;
      if (sep && f && mp_end && super)
        {
          cleanup_free char *mp = xstrndup (f + 1, (size_t) (mp_end - f - 1));
          cleanup_free char *ctrl = cgroup_mount_controllers (super + 1);
          bool dup = false;
          for (size_t i = 0; ctrl && i < count; i++)
            dup = dup || strcmp (out[i].controllers, ctrl) == 0;
          if (ctrl && !dup && strncmp (mp, CGROUP_ROOT "/", strlen (CGROUP_ROOT) + 1) == 0)
            {
              out = xreallocarray (out, count + 1, sizeof *out);
              out[count].controllers = steal_pointer (&ctrl);
              out[count].mount = steal_pointer (&mp);
              count++;
            }
        }
      *end = saved;
      line = saved ? end + 1 : NULL;
    }
  *mounts = out;
  *n = count;
  return 0;
}

/* Map "slice:prefix:name" to a cgroupfs path the way systemd would lay it
   out: "a-b.slice" lives in "a.slice/a-b.slice". */
static int
cgroup_systemd_path (const char *spec_path, const char *id, char **out,
                     polis_error **err)
{
  cleanup_free char *copy = xstrdup (spec_path);
  char *c1 = strchr (copy, ':');
  char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
  if (c1 == NULL || c2 == NULL || strchr (c2 + 1, ':'))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "linux.cgroupsPath: `%s` is not slice:prefix:name",
                      spec_path);
  *c1 = *c2 = '\0';
  const char *slice = *copy ? copy : "system.slice";
  const char *prefix = c1 + 1, *name = *(c2 + 1) ? c2 + 1 : id;
  size_t sl = strlen (slice);
  if (sl < 7 || strcmp (slice + sl - 6, ".slice") != 0 || strchr (slice, '/'))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "linux.cgroupsPath: invalid slice `%s`", slice);
  if (strchr (prefix, '/') || strchr (name, '/') || strstr (name, ".."))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "linux.cgroupsPath: invalid name in `%s`", spec_path);

  cleanup_free char *dir = xstrdup ("");
  if (strcmp (slice, "-.slice") != 0)
    {
      /* Every dash-separated prefix of the slice is a parent slice. */
      cleanup_free char *base = xstrndup (slice, sl - 6);
      for (char *d = base; (d = strchr (d, '-')) != NULL; d++)
        {
          char *next = xasprintf ("%s/%.*s.slice", dir, (int) (d - base), base);
          free (dir);
          dir = next;
        }
      char *next = xasprintf ("%s/%s", dir, slice);
      free (dir);
      dir = next;
    }
  /* A name that is already a unit (".slice") is used as it is. */
  size_t nl = strlen (name);
  if (nl > 6 && strcmp (name + nl - 6, ".slice") == 0)
    *out = xasprintf ("%s/%s", dir, name);
  else if (*prefix)
    *out = xasprintf ("%s/%s-%s.scope", dir, prefix, name);
  else
    *out = xasprintf ("%s/%s.scope", dir, name);
  return 0;
}

static int
cgroup_check_relpath (const char *p, polis_error **err)
{
  cleanup_free char *clean = path_clean (p);
  if (strncmp (clean, "..", 2) == 0 || strstr (clean, "/../"))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "linux.cgroupsPath: `%s` escapes the cgroup hierarchy", p);
  return 0;
}

cgroup *
cgroup_resolve (const char *cgroups_path, const char *id, polis_error **err)
{
  cleanup_cgroup cgroup *cg = xzalloc (sizeof *cg);
  cleanup_free char *rel = NULL;
  bool absolute = false;
  cleanup_free char *selfcg = NULL;

  cg->version = cgroup_host_version ();
  if (cgroups_path == NULL || *cgroups_path == '\0')
    rel = xstrdup (id);
  else if (cgroups_path[0] == '/')
    {
      rel = path_clean (cgroups_path);
      absolute = true;
    }
  else if (strchr (cgroups_path, ':'))
    {
      if (cgroup_systemd_path (cgroups_path, id, &rel, err) < 0)
        return NULL;
      absolute = true;
    }
  else
    rel = xstrdup (cgroups_path);
  if (!absolute && cgroup_check_relpath (rel, err) < 0)
    return NULL;

  if (!absolute)
    {
      selfcg = file_read_at (AT_FDCWD, "/proc/self/cgroup", CGROUP_MAX_FILE,
                             NULL, err);
      if (selfcg == NULL)
        return NULL;
    }

  if (cg->version == CGROUP_V2)
    {
      if (absolute)
        cg->path = steal_pointer (&rel);
      else
        {
          /* Not under the caller's own cgroup but beside it, as runc does:
             the caller is a process in its cgroup, and v2 enables no
             controller for the children of a cgroup with processes. */
          cleanup_free char *own = cgroup_own_path (selfcg, "");
          char *slash = strrchr (own, '/');
          if (slash)
            slash[slash == own ? 1 : 0] = '\0';
          cleanup_free char *joined = path_join (own, rel);
          cg->path = path_clean (joined);
        }
      return steal_pointer (&cg);
    }

  /* v1: one path per hierarchy mounted under CGROUP_ROOT. */
  cgroup_mount *mounts = NULL;
  size_t n = 0;
  if (cgroup_v1_mounts (&mounts, &n, err) < 0)
    return NULL;
  cg->h = xzalloc ((n + 1) * sizeof *cg->h);
  for (size_t i = 0; i < n; i++)
    {
      cgroup_hierarchy *h = &cg->h[cg->n_h++];
      h->controllers = steal_pointer (&mounts[i].controllers);
      h->mount = steal_pointer (&mounts[i].mount);
      if (absolute)
        h->path = xstrdup (rel);
      else
        {
          cleanup_free char *own = cgroup_own_path (selfcg, h->controllers);
          cleanup_free char *joined = path_join (own, rel);
          h->path = path_clean (joined);
        }
    }
  cgroup_mounts_free (mounts, n);
  if (cg->n_h == 0)
    {
      error_set (err, ERROR_UNAVAILABLE, ENOENT, "no cgroup hierarchy is mounted under %s",
                 CGROUP_ROOT);
      return NULL;
    }
  return steal_pointer (&cg);
}

int
cgroup_create (cgroup *cg, const json_t *resources, polis_error **err)
{
  const cgroup_ops *ops = cgroup_ops_of (cg);
  if (ops->create (cg, err) < 0)
    {
      cleanup_error polis_error *ignored = NULL;
      ops->destroy (cg, &ignored);
      return error_wrap (err, "create cgroup %s", cgroup_display_path (cg));
    }
  /* Even without linux.resources: the device rules every container gets
     come from the apply step. */
  if (ops->apply (cg, resources, false, err) < 0)
    {
      cleanup_error polis_error *ignored = NULL;
      ops->destroy (cg, &ignored);
      return error_wrap (err, "apply resources");
    }
  return 0;
}

int
cgroup_enter (const cgroup *cg, pid_t pid, polis_error **err)
{
  return cgroup_ops_of (cg)->enter (cg, pid, err);
}

int
cgroup_update (const cgroup *cg, const json_t *resources, polis_error **err)
{
  return cgroup_ops_of (cg)->apply (cg, resources, true, err);
}

int
cgroup_pids (const cgroup *cg, pid_t **pids, size_t *n, polis_error **err)
{
  *pids = NULL;
  *n = 0;
  return cgroup_ops_of (cg)->pids (cg, pids, n, err);
}

int
cgroup_kill_all (const cgroup *cg, int sig, polis_error **err)
{
  return cgroup_ops_of (cg)->kill_all (cg, sig, err);
}

int
cgroup_freeze (const cgroup *cg, bool frozen, polis_error **err)
{
  return cgroup_ops_of (cg)->freeze (cg, frozen, err);
}

bool
cgroup_is_frozen (const cgroup *cg)
{
  return cgroup_ops_of (cg)->is_frozen (cg);
}

int
cgroup_destroy (const cgroup *cg, polis_error **err)
{
  return cgroup_ops_of (cg)->destroy (cg, err);
}

json_t *
cgroup_stats (const cgroup *cg, polis_error **err)
{
  return cgroup_ops_of (cg)->stats (cg, err);
}

int
cgroup_oom_watch (const cgroup *cg, polis_error **err)
{
  return cgroup_ops_of (cg)->oom_watch (cg, err);
}

long long
cgroup_oom_kills (const cgroup *cg)
{
  return cgroup_ops_of (cg)->oom_kills (cg);
}

int
cgroup_open_dir (const cgroup *cg, polis_error **err)
{
  if (cg->version != CGROUP_V2)
    return -1;
  cleanup_free char *dir = path_join (CGROUP_ROOT, cg->path);
  int fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "open cgroup `%s`", dir);
  return fd;
}

const char *
cgroup_display_path (const cgroup *cg)
{
  if (cg->version == CGROUP_V2)
    return cg->path;
  for (size_t i = 0; i < cg->n_h; i++)
    if (strcmp (cg->h[i].controllers, "memory") == 0)
      return cg->h[i].path;
  return cg->n_h ? cg->h[0].path : "";
}

json_t *
cgroup_to_json (const cgroup *cg)
{
  json_t *j = json_pack ("{s:i}", "version", (int) cg->version);
  if (cg->version == CGROUP_V2)
    {
      json_object_set_new (j, "path", json_string (cg->path));
      return j;
    }
  json_t *arr = json_array ();
  for (size_t i = 0; i < cg->n_h; i++)
    json_array_append_new (arr, json_pack ("{s:s, s:s, s:s}", "controllers",
                                           cg->h[i].controllers, "mount",
                                           cg->h[i].mount, "path",
                                           cg->h[i].path));
  json_object_set_new (j, "hierarchies", arr);
  return j;
}

cgroup *
cgroup_from_json (const json_t *j, polis_error **err)
{
  cleanup_cgroup cgroup *cg = xzalloc (sizeof *cg);
  int64_t version = 0;
  if (pjson_get_int64 (j, "cgroup", "version", true, &version, err) < 0)
    return NULL;
  cg->version = version == 2 ? CGROUP_V2 : CGROUP_V1;
  if (cg->version == CGROUP_V2)
    {
      const char *p = NULL;
      if (pjson_get_string (j, "cgroup", "path", true, &p, err) < 0)
        return NULL;
      cg->path = xstrdup (p);
      return steal_pointer (&cg);
    }
  json_t *arr = NULL;
  if (pjson_get_array (j, "cgroup", "hierarchies", true, &arr, err) < 0)
    return NULL;
  size_t n = json_array_size (arr);
  cg->h = xzalloc ((n + 1) * sizeof *cg->h);
  for (size_t i = 0; i < n; i++)
    {
      json_t *hj = json_array_get (arr, i);
      const char *c = NULL, *m = NULL, *p = NULL;
      if (pjson_get_string (hj, "cgroup", "controllers", true, &c, err) < 0
          || pjson_get_string (hj, "cgroup", "mount", true, &m, err) < 0
          || pjson_get_string (hj, "cgroup", "path", true, &p, err) < 0)
        return NULL;
      cg->h[i].controllers = xstrdup (c);
      cg->h[i].mount = xstrdup (m);
      cg->h[i].path = xstrdup (p);
      cg->n_h = i + 1;
    }
  return steal_pointer (&cg);
}

/* Shared helpers. */

int
cgroup_write (const char *dir, const char *file, const char *value,
              polis_error **err)
{
  cleanup_free char *p = path_join (dir, file);
  if (file_write_string_at (AT_FDCWD, p, value, err) < 0)
    return -1;
  return 0;
}

char *
cgroup_read (const char *dir, const char *file, polis_error **err)
{
  cleanup_free char *p = path_join (dir, file);
  return file_read_at (AT_FDCWD, p, CGROUP_MAX_FILE, NULL, err);
}

int
cgroup_read_pids_file (int dirfd, const char *file, pid_t **pids, size_t *n,
                       polis_error **err)
{
  cleanup_free char *buf = file_read_at (dirfd, file, CGROUP_MAX_FILE, NULL, err);
  if (buf == NULL)
    return -1;
  for (char *p = buf; *p;)
    {
      char *end;
      long v = strtol (p, &end, 10);
      if (end == p)
        break;
      if (v > 0)
        {
          *pids = xreallocarray (*pids, *n + 1, sizeof (pid_t));
          (*pids)[(*n)++] = (pid_t) v;
        }
      p = end;
      while (*p == '\n')
        p++;
    }
  return 0;
}

static int
cgroup_read_pids_at (int dfd, int depth, pid_t **pids, size_t *n,
                     polis_error **err)
{
  if (depth > 64)
    return 0;
  if (cgroup_read_pids_file (dfd, "cgroup.procs", pids, n, err) < 0)
    return -1;
  int d2 = dup (dfd);
  if (d2 < 0)
    return error_sys (err, "dup");
  cleanup_closedir DIR *dir = fdopendir (d2);
  if (dir == NULL)
    {
      close (d2);
      return error_sys (err, "opendir");
    }
  struct dirent *de;
  while ((de = readdir (dir)) != NULL)
    {
      if (de->d_type != DT_DIR || de->d_name[0] == '.')
        continue;
      cleanup_close int child = openat (dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (child < 0)
        continue;
      if (cgroup_read_pids_at (child, depth + 1, pids, n, err) < 0)
        return -1;
    }
  return 0;
}

int
cgroup_read_pids_tree (const char *dir, pid_t **pids, size_t *n,
                       polis_error **err)
{
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return 0;
      return error_sys (err, "open cgroup `%s`", dir);
    }
  return cgroup_read_pids_at (fd, 0, pids, n, err);
}

static int
cgroup_rmdir_children (const char *dir, int depth, polis_error **err)
{
  if (depth > 64)
    return 0;
  cleanup_closedir DIR *d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : error_sys (err, "open cgroup `%s`", dir);
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (de->d_type != DT_DIR || de->d_name[0] == '.')
        continue;
      cleanup_free char *sub = path_join (dir, de->d_name);
      if (cgroup_rmdir_children (sub, depth + 1, err) < 0)
        return -1;
      if (rmdir (sub) < 0 && errno != ENOENT)
        return error_sys (err, "remove cgroup `%s`", sub);
    }
  return 0;
}

int
cgroup_rmdir_tree (const char *dir, polis_error **err)
{
  /* Processes that were just killed leave their cgroup asynchronously;
     wait up to ~2 s for the directory to empty. */
  for (int attempt = 0;; attempt++)
    {
      cleanup_error polis_error *e = NULL;
      int r = cgroup_rmdir_children (dir, 0, &e);
      if (r == 0 && (rmdir (dir) == 0 || errno == ENOENT))
        return 0;
      int code = r < 0 ? e->code : errno;
      if (code != EBUSY || attempt >= 200)
        {
          if (r < 0)
            {
              *err = steal_pointer (&e);
              return -1;
            }
          return error_sys_code (err, code, "remove cgroup `%s`", dir);
        }
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
}

int
cgroup_signal_pids (pid_t *pids, size_t n, int sig, polis_error **err)
{
  for (size_t i = 0; i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      return error_sys (err, "signal process %d", (int) pids[i]);
  return 0;
}

bool
cgroup_has_file (const char *dir, const char *file)
{
  cleanup_free char *p = path_join (dir, file);
  return access (p, F_OK) == 0;
}

bool
cgroup_read_u64 (const char *dir, const char *file, uint64_t *out)
{
  cleanup_error polis_error *e = NULL;
  cleanup_free char *buf = cgroup_read (dir, file, &e);
  if (buf == NULL)
    return false;
  if (strncmp (buf, "max", 3) == 0)
    {
      *out = UINT64_MAX;
      return true;
    }
  char *end;
  errno = 0;
  unsigned long long v = strtoull (buf, &end, 10);
  if (end == buf || errno)
    return false;
  *out = v;
  return true;
}

json_t *
cgroup_read_keyed (const char *dir, const char *file)
{
  json_t *obj = json_object ();
  cleanup_error polis_error *e = NULL;
  cleanup_free char *buf = cgroup_read (dir, file, &e);
  for (char *line = buf; line && *line;)
    {
      char *eol = strchrnul (line, '\n');
      char *sp = memchr (line, ' ', (size_t) (eol - line));
      if (sp)
        {
          char *end;
          unsigned long long v = strtoull (sp + 1, &end, 10);
          if (end != sp + 1)
            {
              cleanup_free char *key = xstrndup (line, (size_t) (sp - line));
              json_object_set_new (obj, key, json_integer (cgroup_stats_bytes (v)));
            }
        }
      line = *eol ? eol + 1 : NULL;
    }
  return obj;
}

json_int_t
cgroup_stats_bytes (uint64_t v)
{
  if (v <= (uint64_t) INT64_MAX)
    return (json_int_t) v;
  long page = sysconf (_SC_PAGESIZE);
  if (page <= 0)
    page = 4096;
  return (json_int_t) (INT64_MAX / page * page);
}

void
cgroup_stats_set_nonzero (json_t *obj, const char *key, uint64_t v)
{
  if (v != 0)
    json_object_set_new (obj, key, json_integer (cgroup_stats_bytes (v)));
}
