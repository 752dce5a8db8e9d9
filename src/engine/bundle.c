/* bundle.c - a container's OCI bundle and the shim that runs it. */
#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "container_fs.h"
#include "monitor.h"
#include "netns.h"
#include "network.h"
#include "oci_spec.h"
#include "shim_client.h"
#include "volume.h"

static const struct
{
  const char *name;
  int num;
} signals[] = {
  { "HUP", SIGHUP },     { "INT", SIGINT },     { "QUIT", SIGQUIT },
  { "ILL", SIGILL },     { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },
  { "IOT", SIGIOT },     { "BUS", SIGBUS },     { "FPE", SIGFPE },
  { "KILL", SIGKILL },   { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },   { "ALRM", SIGALRM },
  { "TERM", SIGTERM },   { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
  { "CONT", SIGCONT },   { "STOP", SIGSTOP },   { "TSTP", SIGTSTP },
  { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },   { "URG", SIGURG },
  { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM },
  { "PROF", SIGPROF },   { "WINCH", SIGWINCH }, { "IO", SIGIO },
  { "POLL", SIGPOLL },   { "PWR", SIGPWR },     { "SYS", SIGSYS },
};

int
bundle_parse_signal (const char *s)
{
  if (s == NULL || *s == '\0')
    return 0;
  char *end;
  long n = strtol (s, &end, 10);
  if (*end == '\0')
    return n > 0 && n < 65 ? (int) n : 0;
  if (strncasecmp (s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < sizeof signals / sizeof *signals; i++)
    if (strcasecmp (s, signals[i].name) == 0)
      return signals[i].num;
  if (strncasecmp (s, "RTMIN", 5) == 0)
    {
      long off = s[5] == '+' ? strtol (s + 6, NULL, 10) : 0;
      return SIGRTMIN + (int) off <= SIGRTMAX ? SIGRTMIN + (int) off : 0;
    }
  return 0;
}

char *
bundle_cgroups_path (engine *e, const container *c)
{
  const char *parent = json_string_value (json_object_get (c->host_config,
                                                           "CgroupParent"));
  if (parent == NULL || *parent == '\0')
    parent = e->opts.cgroup_parent;
  while (*parent == '/')
    parent++;
  return xasprintf ("/%s/%s", parent, c->id);
}

char *
bundle_restart_arg (const json_t *hc)
{
  json_t *rp = json_object_get (hc, "RestartPolicy");
  const char *name = json_string_value (json_object_get (rp, "Name"));
  json_int_t max = json_integer_value (json_object_get (rp, "MaximumRetryCount"));
  if (name == NULL || *name == '\0')
    name = "no";
  if (strcmp (name, "on-failure") == 0 && max > 0)
    return xasprintf ("on-failure:%lld", (long long) max);
  return xstrdup (name);
}

static int
write_json_at (const char *dir, const char *name, const json_t *j,
               polis_error **err)
{
  cleanup_free char *text = json_dumps (j, JSON_COMPACT);
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return error_sys (err, "open `%s`", dir);
  return file_write_atomic_at (dfd, name, text, strlen (text), 0600, false, err);
}

/* C's network namespace: kept from start to removal (a restart joins the
   same one); a new one when there is none or it did not survive (a
   reboot empties the run root).  With container:ID, that container's
   (*SHARED, caller frees; C holds none of its own). */
static int
bundle_network (engine *e, container *c, char **shared, polis_error **err)
{
  const char *mode = json_string_value (json_object_get (c->host_config, "NetworkMode"));
  if (mode && strcmp (mode, "host") == 0)
    return 0;
  if (mode && strncmp (mode, "container:", 10) == 0)
    {
      cleanup_container container *other = engine_container_get (e, mode + 10, err);
      if (other == NULL)
        return -1;
      engine_lock (e);
      bool running = other->status == CS_RUNNING || other->status == CS_PAUSED;
      *shared = running && other->sandbox ? xstrdup (other->sandbox) : NULL;
      engine_unlock (e);
      if (*shared == NULL)
        return error_set (err, ERROR_CONFLICT, ESRCH,
                          "cannot join network namespace of a non running container: %s",
                          other->id);
      return 0;
    }
  struct stat a, b;
  if (c->sandbox && stat (c->sandbox, &a) == 0 && stat (e->opts.run_root, &b) == 0
      && a.st_dev != b.st_dev)
    return network_container_start (e, c, false, err);
  char *path = netns_pool_take (e->netns, err);
  if (path == NULL)
    return error_wrap (err, "make a network namespace");
  engine_lock (e);
  free (c->sandbox);
  c->sandbox = path;
  container_save (e, c, NULL);
  engine_unlock (e);
  return network_container_start (e, c, true, err);
}

int
bundle_prepare (engine *e, container *c, polis_error **err)
{
  if (container_fs_mount (e, c, err) < 0)
    return -1;
  if (container_fs_write_etc (c, err) < 0)
    return error_wrap (err, "write /etc files");
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", c->dir);
  uid_t uid;
  gid_t gid;
  gid_t groups[CONTAINER_FS_GROUPS_MAX];
  size_t n_groups;
  if (container_fs_resolve_user (
          rootfs, json_string_value (json_object_get (c->config, "User")),
          json_object_get (c->host_config, "GroupAdd"), &uid, &gid, groups,
          &n_groups, err)
      < 0)
    return -1;
  if (container_fs_make_workdir (
          rootfs, json_string_value (json_object_get (c->config, "WorkingDir")),
          uid, gid, err)
      < 0)
    return -1;
  cleanup_free char *cg = bundle_cgroups_path (e, c);
  struct stat st;
  cleanup_free char *shared_netns = NULL;
  if (bundle_network (e, c, &shared_netns, err) < 0)
    return -1;
  if (volume_container_start (e, c, rootfs, err) < 0)
    return -1;
  oci_spec_input in = {
    .config = c->config,
    .host_config = c->host_config,
    .dir = c->dir,
    .cgroups_path = cg,
    .init_path = e->opts.init_path && stat (e->opts.init_path, &st) == 0
                     ? e->opts.init_path
                     : NULL,
    .uid = uid,
    .gid = gid,
    .groups = groups,
    .n_groups = n_groups,
    .cgroup_version = e->cgroup_version,
    .netns_path = shared_netns ? shared_netns : c->sandbox,
    .mounts = c->mounts,
  };
  if (json_is_true (json_object_get (c->host_config, "Init")) && in.init_path == NULL)
    return error_set (err, ERROR_INVALID, ENOENT,
                      "--init: the init binary `%s` is missing",
                      e->opts.init_path ? e->opts.init_path : "polis-init");
  cleanup_json json_t *spec = oci_spec_generate (&in, err);
  if (spec == NULL)
    return -1;
  if (write_json_at (c->dir, "config.json", spec, err) < 0)
    return error_wrap (err, "write config.json");
  json_t *hc = json_object_get (c->config, "Healthcheck");
  json_t *test = json_object_get (hc, "Test");
  const char *t0 = json_string_value (json_array_get (test, 0));
  if (t0 && strcmp (t0, "NONE") != 0 && write_json_at (c->dir, "health.json", hc, err) < 0)
    return error_wrap (err, "write health.json");
  if (mkdir (c->run_dir, 0700) < 0 && errno != EEXIST)
    return error_sys (err, "mkdir `%s`", c->run_dir);
  return 0;
}

/* Docker's LogConfig sizes ("10m", "1g", "500k") in bytes. */
static char *
parse_size (const char *s)
{
  if (s == NULL || *s == '\0')
    return NULL;
  char *end;
  double v = strtod (s, &end);
  unsigned long long mul = 1;
  switch (*end)
    {
    case 'k':
    case 'K':
      mul = 1024;
      break;
    case 'm':
    case 'M':
      mul = 1024 * 1024;
      break;
    case 'g':
    case 'G':
      mul = 1024ULL * 1024 * 1024;
      break;
    default:
      break;
    }
  if (v <= 0)
    return NULL;
  return xasprintf ("%llu", (unsigned long long) (v * (double) mul));
}

int
bundle_spawn_shim (engine *e, container *c, polis_error **err)
{
  cleanup_free char *sock = xasprintf ("%s/shim.sock", c->run_dir);
  cleanup_free char *rt = xasprintf ("%s/runtime", e->opts.run_root);
  cleanup_free char *log = xasprintf ("%s/shim.log", c->dir);
  cleanup_free char *health = xasprintf ("%s/health.json", c->dir);
  cleanup_free char *restart = bundle_restart_arg (c->host_config);
  json_t *lc = json_object_get (c->host_config, "LogConfig");
  json_t *lcc = json_object_get (lc, "Config");
  cleanup_free char *max_size
      = parse_size (json_string_value (json_object_get (lcc, "max-size")));
  const char *max_file = json_string_value (json_object_get (lcc, "max-file"));
  struct stat st;
  shim_spawn_opts o = {
    .shim_path = e->opts.shim_path,
    .id = c->id,
    .bundle = c->dir,
    .socket = sock,
    .runtime_root = rt,
    .log_path = log,
    .tty = container_tty (c),
    .open_stdin = json_is_true (json_object_get (c->config, "OpenStdin")),
    .stdin_once = json_is_true (json_object_get (c->config, "StdinOnce")),
    .log_driver = json_string_value (json_object_get (lc, "Type")),
    .log_max_size = max_size,
    .log_max_file = max_file,
    .restart = restart,
    .health_file = stat (health, &st) == 0 ? health : NULL,
    .auto_remove = json_is_true (json_object_get (c->host_config, "AutoRemove")),
  };
  pid_t pid;
  if (shim_spawn (&o, &pid, err) < 0)
    return -1;
  engine_lock (e);
  c->shim_pid = pid;
  engine_unlock (e);
  if (monitor_follow (e->mon, c, err) < 0)
    return error_wrap (err, "follow the shim's events");
  engine_lock (e);
  c->shim_up = true;
  c->shim_gen++;
  container_notify (c);
  engine_unlock (e);
  return 0;
}

json_t *
bundle_exec_process (engine *e, container *c, const json_t *x,
                     polis_error **err)
{
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", c->dir);
  const char *user = json_string_value (json_object_get (x, "User"));
  if (user == NULL || *user == '\0')
    user = json_string_value (json_object_get (c->config, "User"));
  uid_t uid;
  gid_t gid;
  gid_t groups[CONTAINER_FS_GROUPS_MAX];
  size_t n_groups;
  if (container_fs_resolve_user (rootfs, user,
                                 json_object_get (c->host_config, "GroupAdd"),
                                 &uid, &gid, groups, &n_groups, err)
      < 0)
    return NULL;
  json_t *gids = json_array ();
  for (size_t i = 0; i < n_groups; i++)
    json_array_append_new (gids, json_integer (groups[i]));
  bool tty = json_is_true (json_object_get (x, "Tty"));
  const char *cwd = json_string_value (json_object_get (x, "WorkingDir"));
  if (cwd == NULL || *cwd == '\0')
    cwd = json_string_value (json_object_get (c->config, "WorkingDir"));
  json_t *hc = c->host_config;
  cleanup_json json_t *priv_hc = NULL;
  if (json_is_true (json_object_get (x, "Privileged")))
    {
      priv_hc = json_deep_copy (hc);
      json_object_set_new (priv_hc, "Privileged", json_true ());
      hc = priv_hc;
    }
  json_t *caps = oci_spec_capabilities (hc, NULL);
  json_t *p = json_pack (
      "{s:b, s:{s:I,s:I,s:o}, s:O, s:o, s:s, s:{s:O,s:O,s:O,s:o}, s:b}",
      "terminal", tty, "user", "uid", (json_int_t) uid, "gid", (json_int_t) gid,
      "additionalGids", gids, "args", json_object_get (x, "Cmd"), "env",
      oci_spec_env (c->config, tty, json_object_get (x, "Env")), "cwd",
      cwd && *cwd ? cwd : "/", "capabilities", "bounding", caps, "effective",
      caps, "permitted", caps, "inheritable", json_array (),
      "noNewPrivileges", oci_spec_no_new_privileges (c->host_config));
  json_decref (caps);
  json_t *cs = json_object_get (x, "ConsoleSize");
  if (tty && json_integer_value (json_array_get (cs, 0)) > 0)
    json_object_set_new (p, "consoleSize",
                         json_pack ("{s:O,s:O}", "height", json_array_get (cs, 0),
                                    "width", json_array_get (cs, 1)));
  (void) e;
  return p;
}
