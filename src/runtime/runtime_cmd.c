/* runtime_cmd.c - the polis-runtime command line, compatible with runc's.
 *
 * Global flags come before the command, the command's flags after it, in
 * any of the spellings urfave/cli (runc) accepts.  Each command prints its
 * result on stdout; errors go to stderr (and to --log in JSON when asked,
 * which is where containerd looks for them), with exit status 1.
 */
#include "runtime_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/opts.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "polis-config.h"
#include "runtime/container.h"
#include "runtime/features.h"
#include "runtime/signals.h"
#include "runtime/spec_default.h"
#include "runtime/state.h"

typedef int (*runtime_cmd_fn) (const runtime_globals *g, int argc, char **argv,
                               polis_error **err);

static int
runtime_cmd_usage_error (polis_error **err, const char *cmd, const char *what)
{
  return error_set (err, ERROR_INVALID, EINVAL, "%s: %s", cmd, what);
}

/* Parse a command's flags; exactly NARGS positional arguments (or at least
   NARGS when VARIADIC).  *POS is the caller's. */
static int
runtime_cmd_parse (const char *cmd, const opt_def *defs, int argc, char **argv,
                   size_t nargs, bool variadic, bool stop_at_positional,
                   char ***pos, polis_error **err)
{
  if (opts_parse (defs, argc, argv, stop_at_positional, pos, err) < 0)
    return error_wrap (err, "%s", cmd);
  size_t n = strv_length (*pos);
  if (n < nargs || (!variadic && n > nargs))
    {
      if (nargs == 1 && n == 0)
        return runtime_cmd_usage_error (err, cmd, "requires a container id");
      return error_set (err, ERROR_INVALID, EINVAL,
                        "%s: expected %zu argument%s, got %zu", cmd, nargs,
                        nargs == 1 ? "" : "s", n);
    }
  return 0;
}

static int
runtime_cmd_preserve_fds (const char *s, int *out, polis_error **err)
{
  char *end;
  long n = s ? strtol (s, &end, 10) : 0;
  if (s && (*end || n < 0 || n > 65536))
    return error_set (err, ERROR_INVALID, EINVAL, "invalid --preserve-fds `%s`", s);
  *out = (int) n;
  /* Fill the gaps with /dev/null so that no fd this process opens later
     lands in the range handed to the container. */
  for (int fd = 3; fd < 3 + *out; fd++)
    if (fcntl (fd, F_GETFD) < 0)
      {
        int nul = open ("/dev/null", O_RDWR);
        if (nul >= 0 && nul != fd)
          {
            dup2 (nul, fd);
            close (nul);
          }
      }
  return 0;
}

static int
runtime_cmd_create_like (const runtime_globals *g, int argc, char **argv,
                         bool run, int *exit_status, polis_error **err)
{
  container_opts o = { .root = g->root };
  const char *preserve = NULL;
  bool no_subreaper = false;
  cleanup_strv char **pos = NULL;
  opt_def defs[] = {
    { "bundle", 'b', OPT_STRING, &o.bundle, "path to the bundle directory" },
    { "pid-file", 0, OPT_STRING, &o.pid_file, "file to write the init's pid to" },
    { "console-socket", 0, OPT_STRING, &o.console_socket,
      "unix socket that receives the pty master" },
    { "no-pivot", 0, OPT_BOOL, &o.no_pivot, "chroot instead of pivot_root" },
    { "no-new-keyring", 0, OPT_BOOL, &o.no_new_keyring,
      "keep the caller's session keyring" },
    { "preserve-fds", 0, OPT_STRING, &preserve, "pass N extra fds (from 3)" },
    { "no-subreaper", 0, OPT_BOOL, &no_subreaper, "accepted for runc compatibility" },
    /* run only, from here */
    { "detach", 'd', OPT_BOOL, &o.detach, "do not wait for the container" },
    { "keep", 0, OPT_BOOL, &o.keep, "keep the container after it exits" },
    { 0 },
  };
  if (!run)
    defs[7] = (opt_def){ 0 };
  if (runtime_cmd_parse (run ? "run" : "create", defs, argc, argv, 1, false,
                         false, &pos, err)
      < 0)
    return -1;
  o.id = pos[0];
  if (runtime_cmd_preserve_fds (preserve, &o.preserve_fds, err) < 0)
    return -1;
  if (run)
    return container_run (&o, exit_status, err);
  return container_create (&o, NULL, err);
}

static int
runtime_cmd_create (const runtime_globals *g, int argc, char **argv,
                    polis_error **err)
{
  return runtime_cmd_create_like (g, argc, argv, false, NULL, err);
}

static int
runtime_cmd_run (const runtime_globals *g, int argc, char **argv,
                 polis_error **err)
{
  int status = 0;
  if (runtime_cmd_create_like (g, argc, argv, true, &status, err) < 0)
    return -1;
  return status;
}

static int
runtime_cmd_start (const runtime_globals *g, int argc, char **argv,
                   polis_error **err)
{
  cleanup_strv char **pos = NULL;
  opt_def defs[] = { { 0 } };
  if (runtime_cmd_parse ("start", defs, argc, argv, 1, false, false, &pos, err) < 0)
    return -1;
  return container_start (g->root, pos[0], err);
}

static int
runtime_cmd_print_json (json_t *j, bool pretty)
{
  char *s = json_dumps (j, pretty ? JSON_INDENT (2) : JSON_COMPACT);
  if (s == NULL)
    abort ();
  fputs (s, stdout);
  fputc ('\n', stdout);
  free (s);
  return 0;
}

static int
runtime_cmd_state (const runtime_globals *g, int argc, char **argv,
                   polis_error **err)
{
  cleanup_strv char **pos = NULL;
  opt_def defs[] = { { 0 } };
  if (runtime_cmd_parse ("state", defs, argc, argv, 1, false, false, &pos, err) < 0)
    return -1;
  cleanup_json json_t *j = container_query_state (g->root, pos[0], err);
  if (j == NULL)
    return -1;
  return runtime_cmd_print_json (j, true);
}

static int
runtime_cmd_kill (const runtime_globals *g, int argc, char **argv,
                  polis_error **err)
{
  cleanup_strv char **pos = NULL;
  bool all = false;
  const char *sigopt = NULL;
  opt_def defs[] = {
    { "all", 'a', OPT_BOOL, &all, "signal every process of the container" },
    { "signal", 's', OPT_STRING, &sigopt, "signal (older runc spelling)" },
    { 0 },
  };
  if (opts_parse (defs, argc, argv, false, &pos, err) < 0)
    return error_wrap (err, "kill");
  size_t n = strv_length (pos);
  if (n < 1 || n > 2)
    return runtime_cmd_usage_error (err, "kill", "usage: kill [--all] <container-id> [signal]");
  const char *signame = n == 2 ? pos[1] : sigopt ? sigopt : "SIGTERM";
  int sig = signals_parse (signame, err);
  if (sig < 0)
    return -1;
  return container_kill (g->root, pos[0], sig, all, err);
}

static int
runtime_cmd_delete (const runtime_globals *g, int argc, char **argv,
                    polis_error **err)
{
  cleanup_strv char **pos = NULL;
  bool force = false;
  opt_def defs[] = {
    { "force", 'f', OPT_BOOL, &force, "kill the container if it is running" },
    { 0 },
  };
  if (runtime_cmd_parse ("delete", defs, argc, argv, 1, true, false, &pos, err) < 0)
    return -1;
  int ret = 0;
  for (size_t i = 0; pos[i]; i++)
    {
      cleanup_error polis_error *e = NULL;
      if (container_delete (g->root, pos[i], force, &e) < 0)
        {
          if (pos[1] == NULL)
            {
              *err = steal_pointer (&e);
              return -1;
            }
          fprintf (stderr, "polis-runtime: %s\n", e->msg);
          ret = 1;
        }
    }
  return ret;
}

/* The text of a `list` table cell: a string, or an integer formatted into
   NUM. */
static const char *
runtime_cmd_cell (const json_t *v, char num[32])
{
  if (json_is_integer (v))
    {
      snprintf (num, 32, "%lld", (long long) json_integer_value (v));
      return num;
    }
  return json_is_string (v) ? json_string_value (v) : "";
}

static int
runtime_cmd_list (const runtime_globals *g, int argc, char **argv,
                  polis_error **err)
{
  cleanup_strv char **pos = NULL;
  const char *format = "table";
  bool quiet = false;
  opt_def defs[] = {
    { "format", 'f', OPT_STRING, &format, "table or json" },
    { "quiet", 'q', OPT_BOOL, &quiet, "print only the ids" },
    { 0 },
  };
  if (runtime_cmd_parse ("list", defs, argc, argv, 0, false, false, &pos, err) < 0)
    return -1;
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "list: invalid format `%s`: expected table or json", format);
  cleanup_json json_t *arr = container_list (g->root, err);
  if (arr == NULL)
    return -1;
  size_t i;
  json_t *c;
  if (quiet)
    {
      json_array_foreach (arr, i, c)
      printf ("%s\n", json_string_value (json_object_get (c, "id")));
      return 0;
    }
  if (strcmp (format, "json") == 0)
    return runtime_cmd_print_json (arr, false);

  /* A table with columns as wide as their widest cell, like Go's
     tabwriter in runc. */
  const char *cols[] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
  const char *keys[] = { "id", "pid", "status", "bundle", "created", "owner" };
  size_t w[6];
  for (int k = 0; k < 6; k++)
    w[k] = strlen (cols[k]);
  json_array_foreach (arr, i, c)
  for (int k = 0; k < 6; k++)
    {
      char num[32];
      const char *s = runtime_cmd_cell (json_object_get (c, keys[k]), num);
      if (strlen (s) > w[k])
        w[k] = strlen (s);
    }
  for (int k = 0; k < 6; k++)
    printf ("%-*s%s", (int) w[k], cols[k], k < 5 ? "   " : "\n");
  json_array_foreach (arr, i, c)
  for (int k = 0; k < 6; k++)
    {
      char num[32];
      printf ("%-*s%s", (int) w[k], runtime_cmd_cell (json_object_get (c, keys[k]), num),
              k < 5 ? "   " : "\n");
    }
  return 0;
}

static int
runtime_cmd_spec (const runtime_globals *g, int argc, char **argv,
                  polis_error **err)
{
  (void) g;
  cleanup_strv char **pos = NULL;
  const char *bundle = ".";
  bool rootless = false;
  opt_def defs[] = {
    { "bundle", 'b', OPT_STRING, &bundle, "directory to write config.json to" },
    { "rootless", 0, OPT_BOOL, &rootless, "a config for an unprivileged user" },
    { 0 },
  };
  if (runtime_cmd_parse ("spec", defs, argc, argv, 0, false, false, &pos, err) < 0)
    return -1;
  cleanup_close int dfd = open (bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return error_sys (err, "spec: bundle `%s`", bundle);
  if (faccessat (dfd, "config.json", F_OK, 0) == 0)
    return error_set (err, ERROR_CONFLICT, EEXIST,
                      "File config.json exists. Remove it first");
  cleanup_json json_t *j = spec_default (rootless, geteuid (), getegid ());
  cleanup_free char *s = json_dumps (j, JSON_INDENT (2));
  size_t len = strlen (s);
  cleanup_close int fd = openat (dfd, "config.json",
                                 O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    return error_sys (err, "spec: create config.json");
  if (file_write_all (fd, s, len, err) < 0 || file_write_all (fd, "\n", 1, err) < 0)
    return error_wrap (err, "spec: write config.json");
  return 0;
}

static int
runtime_cmd_features (const runtime_globals *g, int argc, char **argv,
                      polis_error **err)
{
  (void) g;
  cleanup_strv char **pos = NULL;
  opt_def defs[] = { { 0 } };
  if (runtime_cmd_parse ("features", defs, argc, argv, 0, false, false, &pos, err) < 0)
    return -1;
  cleanup_json json_t *j = features_document ();
  return runtime_cmd_print_json (j, true);
}

static const struct
{
  const char *name;
  runtime_cmd_fn fn;
  const char *help;
} runtime_cmds[] = {
  { "create", runtime_cmd_create, "create a container, waiting to be started" },
  { "start", runtime_cmd_start, "start a created container" },
  { "run", runtime_cmd_run, "create and start a container" },
  { "state", runtime_cmd_state, "print the state of a container" },
  { "kill", runtime_cmd_kill, "send a signal to a container" },
  { "delete", runtime_cmd_delete, "delete a container" },
  { "list", runtime_cmd_list, "list containers" },
  { "exec", runtime_cmd_ops_exec, "run a process in a running container" },
  { "ps", runtime_cmd_ops_ps, "list the processes of a container" },
  { "pause", runtime_cmd_ops_pause, "freeze every process of a container" },
  { "resume", runtime_cmd_ops_resume, "thaw a paused container" },
  { "update", runtime_cmd_ops_update, "change a container's resource limits" },
  { "events", runtime_cmd_ops_events, "show a container's events and stats" },
  { "spec", runtime_cmd_spec, "write a default config.json" },
  { "features", runtime_cmd_features, "print the features document" },
};

static void
runtime_cmd_print_usage (FILE *out, const opt_def *globals)
{
  fprintf (out, "usage: polis-runtime [global options] command [options] [arguments]\n\n"
                "commands:\n");
  for (size_t i = 0; i < sizeof runtime_cmds / sizeof *runtime_cmds; i++)
    fprintf (out, "   %-10s %s\n", runtime_cmds[i].name, runtime_cmds[i].help);
  fprintf (out, "\nglobal options:\n");
  opts_print_help (globals, out);
}

int
runtime_cmd_main (int argc, char **argv)
{
  runtime_globals g = { .root = STATE_DEFAULT_ROOT, .log_format = "text" };
  cleanup_error polis_error *err = NULL;
  opt_def globals[] = {
    { "root", 0, OPT_STRING, &g.root, "state directory (default " STATE_DEFAULT_ROOT ")" },
    { "log", 0, OPT_STRING, &g.log, "log file (default stderr)" },
    { "log-format", 0, OPT_STRING, &g.log_format, "text or json" },
    { "debug", 0, OPT_BOOL, &g.debug, "log debug messages" },
    { "systemd-cgroup", 0, OPT_BOOL, &g.systemd_cgroup,
      "accepted; cgroupsPath slice:prefix:name is mapped to cgroupfs" },
    { "rootless", 0, OPT_STRING, &g.rootless, "accepted for runc compatibility" },
    { "criu", 0, OPT_STRING, &g.criu, "accepted for runc compatibility" },
    { "version", 'v', OPT_BOOL, &g.version, "print the version" },
    { "help", 'h', OPT_BOOL, &g.help, "show this help" },
    { 0 },
  };

  /* Global flags end at the first word that is not one. */
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *name = argv[i] + 1 + (argv[i][1] == '-');
      size_t nlen = strcspn (name, "=");
      for (const opt_def *x = globals; x->name; x++)
        if (x->type == OPT_STRING && name[nlen] != '=' && strlen (x->name) == nlen
            && strncmp (x->name, name, nlen) == 0)
          i++; /* its value is the next word */
    }
  if (i > argc)
    i = argc;
  cleanup_strv char **pos = NULL;
  if (opts_parse (globals, i - 1, argv + 1, false, &pos, &err) < 0)
    {
      fprintf (stderr, "polis-runtime: %s\n", err->msg);
      return 1;
    }

  if (g.version)
    {
      printf ("polis-runtime version %s\ncommit: %s\nspec: %s\n", POLIS_VERSION,
              POLIS_COMMIT, POLIS_OCI_VERSION);
      return 0;
    }
  if (g.help || i >= argc)
    {
      runtime_cmd_print_usage (g.help ? stdout : stderr, globals);
      return g.help ? 0 : 1;
    }

  log_format fmt;
  if (log_parse_format (g.log_format, &fmt, &err) < 0)
    {
      fprintf (stderr, "polis-runtime: %s\n", err->msg);
      return 1;
    }
  log_set_format (fmt);
  log_set_debug (g.debug);
  if (g.log && *g.log && log_open (g.log, &err) < 0)
    {
      fprintf (stderr, "polis-runtime: %s\n", err->msg);
      return 1;
    }

  const char *cmd = argv[i];
  for (size_t k = 0; k < sizeof runtime_cmds / sizeof *runtime_cmds; k++)
    {
      if (strcmp (runtime_cmds[k].name, cmd) != 0)
        continue;
      if (argc > i + 1 && (strcmp (argv[i + 1], "--help") == 0 || strcmp (argv[i + 1], "-h") == 0))
        {
          printf ("usage: polis-runtime %s [options] ...\n%s\n", cmd, runtime_cmds[k].help);
          return 0;
        }
      int r = runtime_cmds[k].fn (&g, argc - i - 1, argv + i + 1, &err);
      fflush (stdout);
      if (r < 0)
        {
          const char *msg = err ? err->msg : "unknown error";
          if (g.log && *g.log)
            log_error ("%s", msg);
          fprintf (stderr, "polis-runtime: %s\n", msg);
          return 1;
        }
      return r;
    }
  fprintf (stderr, "polis-runtime: no such command: %s\n", cmd);
  return 1;
}
