/* container_json.c - containers in Docker's JSON shapes: inspect
 * (ContainerJSON) and list (the ps summary), with ps' filters. */
#include "engine_internal.h"
#include "network.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "container_mounts.h"

/* Bytes used by the files under DIRFD (st_blocks, as du), not crossing
   into other mounts. */
static int64_t
dir_usage (int dfd, dev_t dev, int depth)
{
  if (depth > 128)
    return 0;
  DIR *d = fdopendir (dfd);
  if (d == NULL)
    {
      close (dfd);
      return 0;
    }
  int64_t total = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      struct stat st;
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISREG (st.st_mode) || S_ISLNK (st.st_mode))
        total += st.st_size;
      if (S_ISDIR (st.st_mode) && st.st_dev == dev)
        {
          int fd = openat (dirfd (d), de->d_name,
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd >= 0)
            total += dir_usage (fd, dev, depth + 1);
        }
    }
  closedir (d);
  return total;
}

static int64_t
path_usage (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  struct stat st;
  if (fstat (fd, &st) < 0)
    {
      close (fd);
      return 0;
    }
  return dir_usage (fd, st.st_dev, 0);
}

static json_t *
command_args (const container *c, bool with_path)
{
  json_t *args = json_array ();
  json_t *ep = json_object_get (c->config, "Entrypoint");
  json_t *cmd = json_object_get (c->config, "Cmd");
  size_t i;
  json_t *v;
  json_array_foreach (ep, i, v)
    json_array_append (args, v);
  json_array_foreach (cmd, i, v)
    json_array_append (args, v);
  if (!with_path && json_array_size (args) > 0)
    json_array_remove (args, 0);
  return args;
}

static const char *
first_arg (const container *c)
{
  json_t *ep = json_object_get (c->config, "Entrypoint");
  if (json_array_size (ep) > 0)
    return json_string_value (json_array_get (ep, 0));
  json_t *cmd = json_object_get (c->config, "Cmd");
  if (json_array_size (cmd) > 0)
    return json_string_value (json_array_get (cmd, 0));
  return "";
}

/* Docker's ps filter volume=: a volume's name or a mount's destination. */
static bool
mounts_volume (const container *c, const char *want)
{
  size_t i;
  json_t *m;
  json_array_foreach (c->mounts, i, m)
    if (strcmp (container_mounts_str (m, "Destination"), want) == 0
        || (strcmp (container_mounts_str (m, "Type"), "volume") == 0
            && strcmp (container_mounts_str (m, "Name"), want) == 0))
      return true;
  return false;
}

static json_t *
mounts_json (const container *c)
{
  return container_mounts_public (c->mounts);
}

static json_t *
network_settings (const container *c, bool summary)
{
  return network_settings_json (c->eng, c, summary);
}

json_t *container_inspect_locked (engine *e, container *c, bool size);
json_t *
container_inspect_locked (engine *e, container *c, bool size)
{
  char created[48], started[48], finished[48];
  json_t *state = json_pack (
      "{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}", "Status",
      container_status_name (c->status), "Running",
      c->status == CS_RUNNING || c->status == CS_PAUSED
          || c->status == CS_RESTARTING,
      "Paused", c->status == CS_PAUSED, "Restarting",
      c->status == CS_RESTARTING, "OOMKilled", c->oom_killed, "Dead",
      c->status == CS_DEAD, "Pid",
      (c->status == CS_RUNNING || c->status == CS_PAUSED) ? c->pid : 0,
      "ExitCode", c->exit_code, "Error", c->error ? c->error : "",
      "StartedAt", engine_format_time (c->started_ns, started, sizeof started),
      "FinishedAt",
      engine_format_time (c->finished_ns, finished, sizeof finished));
  if (c->health)
    json_object_set (state, "Health", c->health);

  json_t *exec_ids = json_array ();
  for (exec_rec *x = e->execs; x; x = x->next)
    if (x->c == c)
      json_array_append_new (exec_ids, json_string (x->id));
  if (json_array_size (exec_ids) == 0)
    {
      json_decref (exec_ids);
      exec_ids = json_null ();
    }

  cleanup_free char *name = xasprintf ("/%s", c->name);
  cleanup_free char *resolv = xasprintf ("%s/resolv.conf", c->dir);
  cleanup_free char *hostname = xasprintf ("%s/hostname", c->dir);
  cleanup_free char *hosts = xasprintf ("%s/hosts", c->dir);
  cleanup_free char *log = xasprintf ("%s/%s-json.log", c->dir, c->id);
  cleanup_free char *merged = xasprintf ("%s/rootfs", c->dir);
  cleanup_free char *upper = xasprintf ("%s/upper", c->dir);
  cleanup_free char *work = xasprintf ("%s/work", c->dir);
  json_t *o = json_pack (
      "{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s,"
      " s:s, s:s, s:s, s:o, s:O, s:{s:{s:s,s:s,s:s}, s:s}, s:o, s:O, s:o}",
      "Id", c->id, "Created",
      engine_format_time (c->created_ns, created, sizeof created), "Path",
      first_arg (c), "Args", command_args (c, false), "State", state, "Image",
      c->image_id, "ResolvConfPath", resolv, "HostnamePath", hostname,
      "HostsPath", hosts, "LogPath", log, "Name", name, "RestartCount",
      c->restart_count, "Driver", "overlay2", "Platform", "linux",
      "MountLabel", "", "ProcessLabel", "", "AppArmorProfile", "", "ExecIDs",
      exec_ids, "HostConfig", c->host_config, "GraphDriver", "Data",
      "MergedDir", merged, "UpperDir", upper, "WorkDir", work, "Name",
      "overlay2", "Mounts", mounts_json (c), "Config", c->config,
      "NetworkSettings", network_settings (c, false));
  if (size)
    {
      int64_t rw = path_usage (upper);
      json_object_set_new (o, "SizeRw", json_integer (rw));
      json_object_set_new (o, "SizeRootFs", json_integer (rw));
    }
  return o;
}

bool
engine_container_paused (engine *e, container *c)
{
  engine_lock (e);
  bool paused = c->status == CS_PAUSED;
  engine_unlock (e);
  return paused;
}

json_t *
engine_container_inspect (engine *e, container *c, bool size,
                          int api_version)
{
  (void) api_version;
  engine_lock (e);
  /* The shim rewrites shim.json after every health probe without an
     event (those come only when the status changes): read the last
     results for State.Health.Log. */
  if (c->health && !c->removed
      && (c->status == CS_RUNNING || c->status == CS_PAUSED))
    lifecycle_refresh_locked (e, c);
  json_t *o = container_inspect_locked (e, c, size);
  engine_unlock (e);
  return o;
}

/* --- ps ------------------------------------------------------------------------ */

static char *
command_string (const container *c)
{
  cleanup_json json_t *args = command_args (c, true);
  size_t len = 0, i;
  json_t *v;
  json_array_foreach (args, i, v)
    len += strlen (json_string_value (v)) + 1;
  char *s = xmalloc (len + 1);
  s[0] = '\0';
  size_t o = 0;
  json_array_foreach (args, i, v)
  {
    const char *a = json_string_value (v);
    size_t l = strlen (a);
    if (i)
      s[o++] = ' ';
    memcpy (s + o, a, l);
    o += l;
  }
  s[o] = '\0';
  return s;
}

/* The parts of a ps entry that never change, as JSON text without the
   braces: built once per container, so that listing 100 containers
   formats 100 short strings instead of building and dumping 100 objects. */
static const char *
summary_static (container *c)
{
  if (c->summary_static)
    return c->summary_static;
  cleanup_free char *cmd = command_string (c);
  json_t *labels = json_object_get (c->config, "Labels");
  cleanup_json json_t *o = json_pack (
      "{s:s, s:s, s:s, s:s, s:I, s:o, s:O, s:{s:O}, s:o, s:o}", "Id", c->id,
      "Image", c->image_ref, "ImageID", c->image_id, "Command", cmd, "Created",
      (json_int_t) (c->created_ns / 1000000000), "Ports", network_ports_summary (c), "Labels",
      labels ? labels : json_object (), "HostConfig", "NetworkMode",
      json_object_get (c->host_config, "NetworkMode"), "NetworkSettings",
      network_settings (c, true), "Mounts", mounts_json (c));
  char *text = json_dumps (o, JSON_COMPACT);
  size_t n = strlen (text);
  /* "{...}" -> "..." */
  memmove (text, text + 1, n - 2);
  text[n - 2] = '\0';
  c->summary_static = text;
  return text;
}

typedef struct
{
  char *buf;
  size_t len, cap;
} strbuf;

static void
sb_add (strbuf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap)
    {
      b->cap = (b->len + n + 1) * 2;
      b->buf = xrealloc (b->buf, b->cap);
    }
  memcpy (b->buf + b->len, s, n);
  b->len += n;
  b->buf[b->len] = '\0';
}

static void
sb_str (strbuf *b, const char *s)
{
  sb_add (b, s, strlen (s));
}

/* One ps entry (under the lock).  Names are [a-zA-Z0-9_.-] and the state
   words ASCII: nothing to escape. */
static void
summary_text (strbuf *b, container *c, bool size)
{
  sb_str (b, "{");
  sb_str (b, summary_static (c));
  sb_str (b, ",\"Names\":[\"/");
  sb_str (b, c->name);
  sb_str (b, "\"],\"State\":\"");
  sb_str (b, container_status_name (c->status));
  sb_str (b, "\",\"Status\":\"");
  cleanup_free char *status = container_status_string (c);
  sb_str (b, status);
  sb_str (b, "\"");
  if (size)
    {
      cleanup_free char *upper = xasprintf ("%s/upper", c->dir);
      char num[96];
      int64_t rw = path_usage (upper);
      snprintf (num, sizeof num, ",\"SizeRw\":%lld,\"SizeRootFs\":%lld",
                (long long) rw, (long long) rw);
      sb_str (b, num);
    }
  sb_str (b, "}");
}

/* The values of filter KEY: {"key":{"v":true}} or {"key":["v"]}. */
static size_t
filter_values (json_t *filters, const char *key, const char **out, size_t max)
{
  json_t *f = json_object_get (filters, key);
  size_t n = 0;
  if (json_is_object (f))
    {
      const char *k;
      json_t *v;
      json_object_foreach (f, k, v)
        if (n < max && json_is_true (v))
          out[n++] = k;
    }
  else if (json_is_array (f))
    {
      size_t i;
      json_t *v;
      json_array_foreach (f, i, v)
        if (n < max && json_is_string (v))
          out[n++] = json_string_value (v);
    }
  return n;
}

static bool
label_matches (const container *c, const char *want)
{
  json_t *labels = json_object_get (c->config, "Labels");
  const char *eq = strchr (want, '=');
  cleanup_free char *key = eq ? xstrndup (want, (size_t) (eq - want)) : xstrdup (want);
  json_t *v = json_object_get (labels, key);
  if (v == NULL)
    return false;
  return eq == NULL || strcmp (json_string_value (v), eq + 1) == 0;
}

/* Docker matches names with a regexp; a substring with optional ^ and $
   anchors covers what people type. */
static bool
name_matches (const char *name, const char *pat)
{
  size_t pl = strlen (pat);
  bool start = pat[0] == '^', end = pl > 0 && pat[pl - 1] == '$';
  cleanup_free char *p = xstrndup (pat + start, pl - start - (end && pl > start));
  if (p[0] == '/')
    memmove (p, p + 1, strlen (p));
  size_t nl = strlen (name), ql = strlen (p);
  if (start && end)
    return strcmp (name, p) == 0;
  if (start)
    return strncmp (name, p, ql) == 0;
  if (end)
    return nl >= ql && strcmp (name + nl - ql, p) == 0;
  return strstr (name, p) != NULL;
}

static const char *
health_status (const container *c)
{
  const char *s = c->health ? json_string_value (json_object_get (c->health, "Status")) : NULL;
  return s ? s : "none";
}

typedef struct
{
  const char *v[32];
  size_t n;
} fvals;

#define ANY_MATCH(fv, expr)                                                    \
  ({                                                                           \
    bool any_ = (fv).n == 0;                                                   \
    for (size_t i_ = 0; i_ < (fv).n && !any_; i_++)                            \
      {                                                                        \
        const char *val = (fv).v[i_];                                          \
        any_ = (expr);                                                         \
      }                                                                        \
    any_;                                                                      \
  })

char *
engine_container_list (engine *e, const container_list_opts *o, size_t *len,
                       polis_error **err)
{
  static const char *const known[]
      = { "id", "name", "label", "status", "exited", "ancestor", "before",
          "since", "health", "volume", "network", "publish", "expose",
          "is-task", NULL };
  const char *k;
  json_t *v;
  json_object_foreach (o->filters, k, v)
  {
    bool ok = false;
    for (const char *const *p = known; *p && !ok; p++)
      ok = strcmp (*p, k) == 0;
    if (!ok)
      {
        error_set (err, ERROR_INVALID, EINVAL, "invalid filter '%s'", k);
        return NULL;
      }
  }
  fvals ids, names, labels, statuses, exited, ancestors, health, before, since,
      volumes;
  volumes.n = filter_values (o->filters, "volume", volumes.v, 32);
  ids.n = filter_values (o->filters, "id", ids.v, 32);
  names.n = filter_values (o->filters, "name", names.v, 32);
  labels.n = filter_values (o->filters, "label", labels.v, 32);
  statuses.n = filter_values (o->filters, "status", statuses.v, 32);
  exited.n = filter_values (o->filters, "exited", exited.v, 32);
  ancestors.n = filter_values (o->filters, "ancestor", ancestors.v, 32);
  health.n = filter_values (o->filters, "health", health.v, 32);
  before.n = filter_values (o->filters, "before", before.v, 1);
  since.n = filter_values (o->filters, "since", since.v, 1);
  static const char *const valid_status[]
      = { "created", "restarting", "running", "removing", "paused", "exited",
          "dead", NULL };
  for (size_t i = 0; i < statuses.n; i++)
    {
      bool ok = false;
      for (const char *const *p = valid_status; *p && !ok; p++)
        ok = strcmp (*p, statuses.v[i]) == 0;
      if (!ok)
        {
          error_set (err, ERROR_INVALID, EINVAL,
                     "invalid filter 'status=%s'", statuses.v[i]);
          return NULL;
        }
    }
  bool all = o->all || statuses.n > 0 || o->limit > 0;

  strbuf out = { 0 };
  sb_str (&out, "[");
  long long shown = 0;
  engine_lock (e);
  int64_t before_ns = INT64_MAX, since_ns = INT64_MIN;
  for (int pass = 0; pass < 2; pass++)
    {
      fvals *f = pass == 0 ? &before : &since;
      if (f->n == 0)
        continue;
      container *ref = engine_find_name (e, f->v[0][0] == '/' ? f->v[0] + 1 : f->v[0]);
      if (ref == NULL)
        ref = engine_find_id (e, f->v[0]);
      if (ref == NULL)
        {
          engine_unlock (e);
          free (out.buf);
          error_set (err, ERROR_NOT_FOUND, ENOENT, "No such container: %s",
                     f->v[0]);
          return NULL;
        }
      if (pass == 0)
        before_ns = ref->created_ns;
      else
        since_ns = ref->created_ns;
    }
  /* Newest first: the table is in creation order. */
  for (size_t i = e->n_cs; i > 0; i--)
    {
      container *c = e->cs[i - 1];
      if (c->removed)
        continue;
      bool active = c->status == CS_RUNNING || c->status == CS_PAUSED
                    || c->status == CS_RESTARTING;
      if (!all && !active)
        continue;
      if (c->created_ns >= before_ns || c->created_ns <= since_ns)
        continue;
      const char *st = container_status_name (c->status);
      if (!ANY_MATCH (ids, strncmp (c->id, val, strlen (val)) == 0)
          || !ANY_MATCH (names, name_matches (c->name, val))
          || !ANY_MATCH (statuses, strcmp (st, val) == 0)
          || !ANY_MATCH (exited, c->status == CS_EXITED && c->finished_ns > 0
                                     && atoi (val) == c->exit_code)
          || !ANY_MATCH (ancestors,
                         strcmp (c->image_ref, val) == 0
                             || strncmp (c->image_id + 7, val, strlen (val)) == 0
                             || strcmp (c->image_id, val) == 0)
          || !ANY_MATCH (health, strcmp (health_status (c), val) == 0)
          || !ANY_MATCH (volumes, mounts_volume (c, val)))
        continue;
      bool labels_ok = true;
      for (size_t l = 0; l < labels.n && labels_ok; l++)
        labels_ok = label_matches (c, labels.v[l]);
      if (!labels_ok)
        continue;
      if (shown++ > 0)
        sb_str (&out, ",");
      summary_text (&out, c, o->size);
      if (o->limit > 0 && shown >= o->limit)
        break;
    }
  engine_unlock (e);
  sb_str (&out, "]\n");
  *len = out.len;
  return out.buf;
}
