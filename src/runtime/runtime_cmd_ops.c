/* runtime_cmd_ops.c - exec, ps, pause, resume, update, events: the
 * commands on a running container, with runc's flags and output. */
#include "runtime_cmd.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/opts.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "runtime/container_ctl.h"
#include "runtime/container_exec.h"

/* Largest `update -r` document and `ps` output read. */
#define RUNTIME_CMD_OPS_MAX_INPUT (1u << 20)
#define RUNTIME_CMD_OPS_MAX_PS (16u << 20)

/* Exactly one positional argument, the container id. */
static int
runtime_cmd_ops_one_id (const char *cmd, char **pos, polis_error **err)
{
  size_t n = strv_length (pos);
  if (n != 1)
    return error_set (err, ERROR_INVALID, EINVAL,
                      n == 0 ? "%s: requires a container id"
                             : "%s: expected exactly one container id",
                      cmd);
  return 0;
}

int
runtime_cmd_ops_exec (const runtime_globals *g, int argc, char **argv,
                      polis_error **err)
{
  container_exec_opts o = { .root = g->root, .id = NULL };
  cleanup_strv char **pos = NULL, **env = NULL, **gids = NULL, **caps = NULL;
  const char *preserve = NULL, *cgroup = NULL;
  opt_def defs[] = {
    { "console-socket", 0, OPT_STRING, &o.console_socket, "unix socket that receives the pty master" },
    { "cwd", 0, OPT_STRING, &o.cwd, "working directory" },
    { "env", 'e', OPT_STRV, &env, "set an environment variable" },
    { "tty", 't', OPT_BOOL, &o.tty, "allocate a terminal" },
    { "user", 'u', OPT_STRING, &o.user, "uid[:gid]" },
    { "additional-gids", 'g', OPT_STRV, &gids, "an additional gid" },
    { "process", 'p', OPT_STRING, &o.process_file, "a process.json to run" },
    { "detach", 'd', OPT_BOOL, &o.detach, "do not wait for the process" },
    { "pid-file", 0, OPT_STRING, &o.pid_file, "file to write the process's pid to" },
    { "process-label", 0, OPT_STRING, &o.process_label, "SELinux label" },
    { "apparmor", 0, OPT_STRING, &o.apparmor, "AppArmor profile" },
    { "no-new-privs", 0, OPT_BOOL, &o.no_new_privs, "set no_new_privs" },
    { "cap", 'c', OPT_STRV, &caps, "add a capability" },
    { "preserve-fds", 0, OPT_STRING, &preserve, "pass N extra fds (from 3)" },
    { "ignore-paused", 0, OPT_BOOL, &o.ignore_paused, "exec even if paused" },
    { "cgroup", 0, OPT_STRING, &cgroup, "accepted for runc compatibility (sub-cgroup)" },
    { 0 },
  };
  if (opts_parse (defs, argc, argv, true, &pos, err) < 0)
    return error_wrap (err, "exec");
  if (strv_length (pos) == 0)
    return error_set (err, ERROR_INVALID, EINVAL, "exec: requires a container id");
  o.id = pos[0];
  o.args = pos + 1;
  o.env = env;
  o.additional_gids = gids;
  o.caps = caps;
  if (preserve)
    {
      char *end;
      long n = strtol (preserve, &end, 10);
      if (*end || n < 0 || n > 65536)
        return error_set (err, ERROR_INVALID, EINVAL, "invalid --preserve-fds `%s`", preserve);
      o.preserve_fds = (int) n;
    }
  if (o.process_file && o.args[0])
    return error_set (err, ERROR_INVALID, EINVAL,
                      "exec: give either --process or a command, not both");
  int status = 0;
  if (container_exec (&o, &status, err) < 0)
    return -1;
  return status;
}

/* Whether the PID column of a `ps` output LINE (column COL) is in PIDS. */
static bool
runtime_cmd_ops_ps_match (const char *line, int col, const pid_t *pids, size_t n)
{
  const char *p = line;
  for (int c = 0; c <= col; c++)
    {
      while (*p == ' ' || *p == '\t')
        p++;
      if (c == col)
        break;
      while (*p && *p != ' ' && *p != '\t')
        p++;
    }
  long v = strtol (p, NULL, 10);
  for (size_t i = 0; i < n; i++)
    if (pids[i] == v)
      return true;
  return false;
}

int
runtime_cmd_ops_ps (const runtime_globals *g, int argc, char **argv,
                    polis_error **err)
{
  cleanup_strv char **pos = NULL;
  const char *format = "table";
  opt_def defs[] = { { "format", 'f', OPT_STRING, &format, "table or json" }, { 0 } };
  if (opts_parse (defs, argc, argv, true, &pos, err) < 0)
    return error_wrap (err, "ps");
  if (strv_length (pos) == 0)
    return error_set (err, ERROR_INVALID, EINVAL, "ps: requires a container id");
  if (strcmp (format, "table") && strcmp (format, "json"))
    return error_set (err, ERROR_INVALID, EINVAL, "ps: invalid format `%s`", format);
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (container_ctl_pids (g->root, pos[0], &pids, &n, err) < 0)
    return -1;
  if (strcmp (format, "json") == 0)
    {
      if (pos[1])
        return error_set (err, ERROR_INVALID, EINVAL, "ps: options cannot be used with --format json");
      cleanup_json json_t *arr = json_array ();
      for (size_t i = 0; i < n; i++)
        json_array_append_new (arr, json_integer (pids[i]));
      cleanup_free char *s = pjson_dump (arr);
      printf ("%s\n", s);
      return 0;
    }

  /* Like runc: run the host's ps with the given options (default -ef) and
     keep the header and the container's lines. */
  cleanup_strv char **psargv = NULL;
  strv_append (&psargv, "ps");
  if (pos[1] == NULL)
    strv_append (&psargv, "-ef");
  for (size_t i = 1; pos[i]; i++)
    strv_append (&psargv, pos[i]);
  int pfd[2];
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return error_sys (err, "pipe");
  pid_t child = fork ();
  if (child < 0)
    {
      close (pfd[0]);
      close (pfd[1]);
      return error_sys (err, "fork");
    }
  if (child == 0)
    {
      dup2 (pfd[1], 1);
      execvp ("ps", psargv);
      _exit (127);
    }
  close (pfd[1]);
  cleanup_close int rfd = pfd[0];
  cleanup_free char *out = file_read_fd (rfd, RUNTIME_CMD_OPS_MAX_PS, NULL, err);
  int status = 0;
  while (waitpid (child, &status, 0) < 0 && errno == EINTR)
    ;
  if (out == NULL)
    return error_wrap (err, "ps");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return error_set (err, ERROR_INTERNAL, 0, "ps: `ps` failed with status %d",
                      WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
  char *save = NULL;
  char *header = strtok_r (out, "\n", &save);
  if (header == NULL)
    return 0;
  /* Which column is PID? */
  int col = -1, c = 0;
  cleanup_free char *hcopy = xstrdup (header);
  char *hs = NULL;
  for (char *w = strtok_r (hcopy, " \t", &hs); w; w = strtok_r (NULL, " \t", &hs), c++)
    if (strcmp (w, "PID") == 0)
      col = c;
  if (col < 0)
    return error_set (err, ERROR_INVALID, EINVAL, "ps: the output has no PID column");
  printf ("%s\n", header);
  for (char *line = strtok_r (NULL, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (runtime_cmd_ops_ps_match (line, col, pids, n))
      printf ("%s\n", line);
  return 0;
}

int
runtime_cmd_ops_pause (const runtime_globals *g, int argc, char **argv,
                       polis_error **err)
{
  cleanup_strv char **pos = NULL;
  opt_def defs[] = { { 0 } };
  if (opts_parse (defs, argc, argv, false, &pos, err) < 0
      || runtime_cmd_ops_one_id ("pause", pos, err) < 0)
    return -1;
  return container_ctl_pause (g->root, pos[0], err);
}

int
runtime_cmd_ops_resume (const runtime_globals *g, int argc, char **argv,
                        polis_error **err)
{
  cleanup_strv char **pos = NULL;
  opt_def defs[] = { { 0 } };
  if (opts_parse (defs, argc, argv, false, &pos, err) < 0
      || runtime_cmd_ops_one_id ("resume", pos, err) < 0)
    return -1;
  return container_ctl_resume (g->root, pos[0], err);
}

/* A byte count as docker and runc take it: "512", "100m", "1.5g", "-1". */
static int
runtime_cmd_ops_parse_bytes (const char *flag, const char *s, json_int_t *out,
                             polis_error **err)
{
  if (strcmp (s, "-1") == 0)
    {
      *out = -1;
      return 0;
    }
  char *end;
  errno = 0;
  double v = strtod (s, &end);
  if (end == s || errno || v < 0)
    goto bad;
  double mult = 1;
  switch (tolower ((unsigned char) *end))
    {
    case '\0':
      break;
    case 'b':
      end++;
      break;
    case 'k':
      mult = 1024.0;
      end++;
      break;
    case 'm':
      mult = 1024.0 * 1024;
      end++;
      break;
    case 'g':
      mult = 1024.0 * 1024 * 1024;
      end++;
      break;
    case 't':
      mult = 1024.0 * 1024 * 1024 * 1024;
      end++;
      break;
    default:
      goto bad;
    }
  if (mult > 1 && tolower ((unsigned char) *end) == 'b')
    end++;
  if (*end || v * mult > 9.0e18)
    goto bad;
  *out = (json_int_t) (v * mult);
  return 0;
bad:
  return error_set (err, ERROR_INVALID, EINVAL, "update: invalid value `%s` for --%s", s, flag);
}

static int
runtime_cmd_ops_parse_int (const char *flag, const char *s, json_int_t *out,
                           polis_error **err)
{
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  if (*s == '\0' || *end || errno)
    return error_set (err, ERROR_INVALID, EINVAL, "update: invalid value `%s` for --%s", s, flag);
  *out = (json_int_t) v;
  return 0;
}

/* Set RES[GROUP][KEY] = V. */
static void
runtime_cmd_ops_set (json_t *res, const char *group, const char *key, json_t *v)
{
  json_t *o = json_object_get (res, group);
  if (o == NULL)
    {
      o = json_object ();
      json_object_set_new (res, group, o);
    }
  json_object_set_new (o, key, v);
}

int
runtime_cmd_ops_update (const runtime_globals *g, int argc, char **argv,
                        polis_error **err)
{
  cleanup_strv char **pos = NULL;
  const char *file = NULL;
  const char *v[16] = { 0 };
  enum { BLKIO, CPU_PERIOD, CPU_QUOTA, CPU_SHARE, RT_PERIOD, RT_RUNTIME, CPUS,
         MEMS, KMEM, KMEM_TCP, MEMORY, MEM_RES, MEM_SWAP, PIDS, L3, MEMBW };
  opt_def defs[] = {
    { "resources", 'r', OPT_STRING, &file, "linux.resources JSON file (- for stdin)" },
    { "blkio-weight", 0, OPT_STRING, &v[BLKIO], "block IO weight (10-1000)" },
    { "cpu-period", 0, OPT_STRING, &v[CPU_PERIOD], "CPU CFS period (us)" },
    { "cpu-quota", 0, OPT_STRING, &v[CPU_QUOTA], "CPU CFS quota (us)" },
    { "cpu-share", 0, OPT_STRING, &v[CPU_SHARE], "CPU shares" },
    { "cpu-rt-period", 0, OPT_STRING, &v[RT_PERIOD], "realtime period (us)" },
    { "cpu-rt-runtime", 0, OPT_STRING, &v[RT_RUNTIME], "realtime runtime (us)" },
    { "cpuset-cpus", 0, OPT_STRING, &v[CPUS], "CPUs to use" },
    { "cpuset-mems", 0, OPT_STRING, &v[MEMS], "memory nodes to use" },
    { "kernel-memory", 0, OPT_STRING, &v[KMEM], "accepted, ignored (deprecated by the kernel)" },
    { "kernel-memory-tcp", 0, OPT_STRING, &v[KMEM_TCP], "accepted, ignored (deprecated)" },
    { "memory", 0, OPT_STRING, &v[MEMORY], "memory limit" },
    { "memory-reservation", 0, OPT_STRING, &v[MEM_RES], "memory soft limit" },
    { "memory-swap", 0, OPT_STRING, &v[MEM_SWAP], "memory plus swap limit" },
    { "pids-limit", 0, OPT_STRING, &v[PIDS], "maximum number of processes" },
    { "l3-cache-schema", 0, OPT_STRING, &v[L3], "Intel RDT (not supported)" },
    { "mem-bw-schema", 0, OPT_STRING, &v[MEMBW], "Intel RDT (not supported)" },
    { 0 },
  };
  if (opts_parse (defs, argc, argv, false, &pos, err) < 0)
    return error_wrap (err, "update");
  if (runtime_cmd_ops_one_id ("update", pos, err) < 0)
    return -1;
  if (v[L3] || v[MEMBW])
    return error_set (err, ERROR_INVALID, ENOTSUP, "update: Intel RDT is not supported");

  cleanup_json json_t *res = NULL;
  if (file)
    {
      if (strcmp (file, "-") == 0)
        {
          size_t len = 0;
          cleanup_free char *buf = file_read_fd (0, RUNTIME_CMD_OPS_MAX_INPUT, &len, err);
          if (buf == NULL)
            return error_wrap (err, "update: read resources from stdin");
          res = pjson_parse (buf, len, "resources", err);
        }
      else
        res = pjson_load_file_at (AT_FDCWD, file, RUNTIME_CMD_OPS_MAX_INPUT, err);
      if (res == NULL)
        return error_wrap (err, "update");
      if (!json_is_object (res))
        return error_set (err, ERROR_INVALID, EINVAL, "update: resources must be a JSON object");
    }
  else
    res = json_object ();

  json_int_t n = 0;
  struct
  {
    int idx;
    const char *group, *key;
    bool bytes;
  } map[] = {
    { BLKIO, "blockIO", "weight", false },
    { CPU_PERIOD, "cpu", "period", false },
    { CPU_QUOTA, "cpu", "quota", false },
    { CPU_SHARE, "cpu", "shares", false },
    { RT_PERIOD, "cpu", "realtimePeriod", false },
    { RT_RUNTIME, "cpu", "realtimeRuntime", false },
    { MEMORY, "memory", "limit", true },
    { MEM_RES, "memory", "reservation", true },
    { MEM_SWAP, "memory", "swap", true },
    { PIDS, "pids", "limit", false },
  };
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    {
      const char *s = v[map[i].idx];
      if (s == NULL)
        continue;
      const char *flag = defs[map[i].idx + 1].name;
      int r = map[i].bytes ? runtime_cmd_ops_parse_bytes (flag, s, &n, err)
                           : runtime_cmd_ops_parse_int (flag, s, &n, err);
      if (r < 0)
        return -1;
      runtime_cmd_ops_set (res, map[i].group, map[i].key, json_integer (n));
    }
  if (v[CPUS])
    runtime_cmd_ops_set (res, "cpu", "cpus", json_string (v[CPUS]));
  if (v[MEMS])
    runtime_cmd_ops_set (res, "cpu", "mems", json_string (v[MEMS]));
  return container_ctl_update (g->root, pos[0], res, err);
}

/* "5s", "100ms", "1m", "2" (seconds) -> milliseconds. */
static int
runtime_cmd_ops_parse_interval (const char *s, int *ms, polis_error **err)
{
  char *end;
  double v = strtod (s, &end);
  double mult = 1000;
  if (end == s || v <= 0)
    goto bad;
  if (strcmp (end, "ms") == 0)
    mult = 1;
  else if (strcmp (end, "s") == 0 || *end == '\0')
    mult = 1000;
  else if (strcmp (end, "m") == 0)
    mult = 60000;
  else if (strcmp (end, "h") == 0)
    mult = 3600000;
  else
    goto bad;
  if (v * mult < 1 || v * mult > 86400000.0)
    goto bad;
  *ms = (int) (v * mult);
  return 0;
bad:
  return error_set (err, ERROR_INVALID, EINVAL, "events: invalid interval `%s`", s);
}

int
runtime_cmd_ops_events (const runtime_globals *g, int argc, char **argv,
                        polis_error **err)
{
  cleanup_strv char **pos = NULL;
  const char *interval = "5s";
  bool stats = false;
  opt_def defs[] = {
    { "interval", 0, OPT_STRING, &interval, "how often to print statistics" },
    { "stats", 0, OPT_BOOL, &stats, "print statistics once and exit" },
    { 0 },
  };
  int ms = 0;
  if (opts_parse (defs, argc, argv, false, &pos, err) < 0)
    return error_wrap (err, "events");
  if (runtime_cmd_ops_one_id ("events", pos, err) < 0
      || runtime_cmd_ops_parse_interval (interval, &ms, err) < 0)
    return -1;
  return container_ctl_events (g->root, pos[0], ms, stats, stdout, err);
}
