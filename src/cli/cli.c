/* cli.c - the polis command line: global flags, the command table,
 * docker's usage messages and exit codes, and the list formatter. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "cli/gotemplate.h"
#include "cli/http_client.h"
#include "cli/table.h"
#include "polis-config.h"

typedef struct
{
  const char *name;
  cli_cmd_fn fn;
  const char *usage;
  const char *summary;
} cli_command;

static const cli_command commands[] = {
  { "attach", cmd_attach, "[OPTIONS] CONTAINER",
    "Attach local standard input, output, and error streams to a running container" },
  { "cp", cmd_cp, "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tpolis cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
    "Copy files/folders between a container and the local filesystem" },
  { "create", cmd_create, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container" },
  { "events", cmd_events, "[OPTIONS]", "Get real time events from the server" },
  { "exec", cmd_exec, "[OPTIONS] CONTAINER COMMAND [ARG...]",
    "Execute a command in a running container" },
  { "history", cmd_history, "[OPTIONS] IMAGE", "Show the history of an image" },
  { "images", cmd_images, "[OPTIONS] [REPOSITORY[:TAG]]", "List images" },
  { "import", cmd_import, "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
    "Import the contents from a tarball to create a filesystem image" },
  { "info", cmd_info, "[OPTIONS]", "Display system-wide information" },
  { "inspect", cmd_inspect, "[OPTIONS] NAME|ID [NAME|ID...]",
    "Return low-level information on Docker objects" },
  { "kill", cmd_kill, "[OPTIONS] CONTAINER [CONTAINER...]",
    "Kill one or more running containers" },
  { "load", cmd_load, "[OPTIONS]", "Load an image from a tar archive or STDIN" },
  { "logs", cmd_logs, "[OPTIONS] CONTAINER", "Fetch the logs of a container" },
  { "pause", cmd_pause, "CONTAINER [CONTAINER...]",
    "Pause all processes within one or more containers" },
  { "port", cmd_port, "CONTAINER [PRIVATE_PORT[/PROTO]]",
    "List port mappings or a specific mapping for the container" },
  { "ps", cmd_ps, "[OPTIONS]", "List containers" },
  { "pull", cmd_pull, "[OPTIONS] NAME[:TAG|@DIGEST]",
    "Download an image from a registry" },
  { "push", cmd_push, "[OPTIONS] NAME[:TAG]", "Upload an image to a registry" },
  { "rename", cmd_rename, "CONTAINER NEW_NAME", "Rename a container" },
  { "restart", cmd_restart, "[OPTIONS] CONTAINER [CONTAINER...]",
    "Restart one or more containers" },
  { "rm", cmd_rm, "[OPTIONS] CONTAINER [CONTAINER...]",
    "Remove one or more containers" },
  { "rmi", cmd_rmi, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images" },
  { "run", cmd_run, "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    "Create and run a new container from an image" },
  { "save", cmd_save, "[OPTIONS] IMAGE [IMAGE...]",
    "Save one or more images to a tar archive (streamed to STDOUT by default)" },
  { "start", cmd_start, "[OPTIONS] CONTAINER [CONTAINER...]",
    "Start one or more stopped containers" },
  { "stats", cmd_stats, "[OPTIONS] [CONTAINER...]",
    "Display a live stream of container(s) resource usage statistics" },
  { "stop", cmd_stop, "[OPTIONS] CONTAINER [CONTAINER...]",
    "Stop one or more running containers" },
  { "tag", cmd_tag, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
    "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
  { "top", cmd_top, "CONTAINER [ps OPTIONS]",
    "Display the running processes of a container" },
  { "unpause", cmd_unpause, "CONTAINER [CONTAINER...]",
    "Unpause all processes within one or more containers" },
  { "update", cmd_update, "[OPTIONS] CONTAINER [CONTAINER...]",
    "Update configuration of one or more containers" },
  { "version", cmd_version, "[OPTIONS]", "Show the Docker version information" },
  { "wait", cmd_wait, "CONTAINER [CONTAINER...]",
    "Block until one or more containers stop, then print their exit codes" },
  { NULL, NULL, NULL, NULL },
};

/* "polis container ls" and friends: management command, subcommand,
   and either the flat command it is (FLAT) or its own function. */
typedef struct
{
  const char *group, *sub, *flat;
  cli_cmd_fn fn;
  const char *usage;
  const char *summary;
  bool synonym; /* left out of the group's help */
} cli_alias;

static const cli_alias aliases[] = {
  { "container", "attach", "attach", NULL, NULL, NULL, false },
  { "container", "cp", "cp", NULL, NULL, NULL, false },
  { "container", "create", "create", NULL, NULL, NULL, false },
  { "container", "exec", "exec", NULL, NULL, NULL, false },
  { "container", "inspect", NULL, cmd_container_inspect, "[OPTIONS] CONTAINER [CONTAINER...]",
    "Display detailed information on one or more containers", false },
  { "container", "kill", "kill", NULL, NULL, NULL, false },
  { "container", "logs", "logs", NULL, NULL, NULL, false },
  { "container", "ls", "ps", NULL, NULL, NULL, false },
  { "container", "list", "ps", NULL, NULL, NULL, true },
  { "container", "ps", "ps", NULL, NULL, NULL, true },
  { "container", "pause", "pause", NULL, NULL, NULL, false },
  { "container", "port", "port", NULL, NULL, NULL, false },
  { "container", "prune", NULL, cmd_container_prune, "[OPTIONS]",
    "Remove all stopped containers", false },
  { "container", "rename", "rename", NULL, NULL, NULL, false },
  { "container", "restart", "restart", NULL, NULL, NULL, false },
  { "container", "rm", "rm", NULL, NULL, NULL, false },
  { "container", "remove", "rm", NULL, NULL, NULL, true },
  { "container", "run", "run", NULL, NULL, NULL, false },
  { "container", "start", "start", NULL, NULL, NULL, false },
  { "container", "stats", "stats", NULL, NULL, NULL, false },
  { "container", "stop", "stop", NULL, NULL, NULL, false },
  { "container", "top", "top", NULL, NULL, NULL, false },
  { "container", "unpause", "unpause", NULL, NULL, NULL, false },
  { "container", "update", "update", NULL, NULL, NULL, false },
  { "container", "wait", "wait", NULL, NULL, NULL, false },
  { "image", "history", "history", NULL, NULL, NULL, false },
  { "image", "import", "import", NULL, NULL, NULL, false },
  { "image", "inspect", NULL, cmd_image_inspect, "[OPTIONS] IMAGE [IMAGE...]",
    "Display detailed information on one or more images", false },
  { "image", "load", "load", NULL, NULL, NULL, false },
  { "image", "ls", "images", NULL, NULL, NULL, false },
  { "image", "list", "images", NULL, NULL, NULL, true },
  { "image", "prune", NULL, cmd_image_prune, "[OPTIONS]", "Remove unused images", false },
  { "image", "pull", "pull", NULL, NULL, NULL, false },
  { "image", "push", "push", NULL, NULL, NULL, false },
  { "image", "rm", "rmi", NULL, NULL, NULL, false },
  { "image", "remove", "rmi", NULL, NULL, NULL, true },
  { "image", "save", "save", NULL, NULL, NULL, false },
  { "image", "tag", "tag", NULL, NULL, NULL, false },
  { "system", "df", NULL, cmd_system_df, "[OPTIONS]", "Show docker disk usage", false },
  { "system", "events", "events", NULL, NULL, NULL, false },
  { "system", "info", "info", NULL, NULL, NULL, false },
  { "system", "prune", NULL, cmd_system_prune, "[OPTIONS]", "Remove unused data", false },
  { "volume", "create", NULL, cmd_volume_create, "[OPTIONS] [VOLUME]", "Create a volume", false },
  { "volume", "inspect", NULL, cmd_volume_inspect, "[OPTIONS] VOLUME [VOLUME...]",
    "Display detailed information on one or more volumes", false },
  { "volume", "ls", NULL, cmd_volume_ls, "[OPTIONS]", "List volumes", false },
  { "volume", "list", NULL, cmd_volume_ls, "[OPTIONS]", "List volumes", true },
  { "volume", "prune", NULL, cmd_volume_prune, "[OPTIONS]", "Remove unused local volumes", false },
  { "volume", "rm", NULL, cmd_volume_rm, "[OPTIONS] VOLUME [VOLUME...]",
    "Remove one or more volumes", false },
  { "volume", "remove", NULL, cmd_volume_rm, "[OPTIONS] VOLUME [VOLUME...]",
    "Remove one or more volumes", true },
  { "network", "connect", NULL, cmd_network_connect, "[OPTIONS] NETWORK CONTAINER",
    "Connect a container to a network", false },
  { "network", "create", NULL, cmd_network_create, "[OPTIONS] NETWORK", "Create a network", false },
  { "network", "disconnect", NULL, cmd_network_disconnect, "[OPTIONS] NETWORK CONTAINER",
    "Disconnect a container from a network", false },
  { "network", "inspect", NULL, cmd_network_inspect, "[OPTIONS] NETWORK [NETWORK...]",
    "Display detailed information on one or more networks", false },
  { "network", "ls", NULL, cmd_network_ls, "[OPTIONS]", "List networks", false },
  { "network", "list", NULL, cmd_network_ls, "[OPTIONS]", "List networks", true },
  { "network", "prune", NULL, cmd_network_prune, "[OPTIONS]", "Remove all unused networks", false },
  { "network", "rm", NULL, cmd_network_rm, "NETWORK [NETWORK...]", "Remove one or more networks", false },
  { "network", "remove", NULL, cmd_network_rm, "NETWORK [NETWORK...]", "Remove one or more networks", true },
  { NULL, NULL, NULL, NULL, NULL, NULL, false },
};

static const struct
{
  const char *name, *summary;
} groups[] = {
  { "container", "Manage containers" }, { "image", "Manage images" },
  { "network", "Manage networks" },     { "system", "Manage Docker" },
  { "volume", "Manage volumes" },       { NULL, NULL },
};

static const cli_command *
cli_find_command (const char *name)
{
  for (const cli_command *c = commands; c->name; c++)
    if (strcmp (c->name, name) == 0)
      return c;
  return NULL;
}

/* Fill FN, USAGE and SUMMARY from an alias (its flat command's when it
   has one). */
static void
cli_alias_resolve (const cli_alias *al, cli_cmd_fn *fn, const char **usage,
                   const char **summary)
{
  const cli_command *c = al->flat ? cli_find_command (al->flat) : NULL;
  *fn = c ? c->fn : al->fn;
  *usage = c ? c->usage : al->usage;
  *summary = c ? c->summary : al->summary;
}

static void
cli_print_group_help (const char *prog, const char *group, const char *summary)
{
  printf ("Usage:  %s %s COMMAND\n\n%s\n\nCommands:\n", prog, group, summary);
  for (const cli_alias *al = aliases; al->group; al++)
    if (strcmp (al->group, group) == 0 && !al->synonym)
      {
        cli_cmd_fn fn;
        const char *usage, *sum;
        cli_alias_resolve (al, &fn, &usage, &sum);
        printf ("  %-11s %s\n", al->sub, sum ? sum : "");
      }
  printf ("\nRun '%s %s COMMAND --help' for more information on a command.\n", prog, group);
}

bool
cli_stdout_tty (void)
{
  return isatty (STDOUT_FILENO);
}

int
cli_fail (int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  return code;
}

int
cli_error (cli_ctx *ctx, const polis_error *err)
{
  (void) ctx;
  fprintf (stderr, "%s\n", err && err->msg ? err->msg : "unknown error");
  return 1;
}

/* Flags as cobra lists them: "  -e, --env list   Set ..." */
static void
cli_print_flags (const opt_def *defs, FILE *out)
{
  size_t width = 0;
  char left[128];
  for (int pass = 0; pass < 2; pass++)
    for (const opt_def *d = defs; d->name; d++)
      {
        const char *type = d->type == OPT_BOOL ? "" : d->type == OPT_STRV ? " list" : " string";
        if (d->short_name)
          snprintf (left, sizeof left, "  -%c, --%s%s", d->short_name, d->name, type);
        else
          snprintf (left, sizeof left, "      --%s%s", d->name, type);
        if (pass == 0)
          {
            if (strlen (left) > width)
              width = strlen (left);
            continue;
          }
        fprintf (out, "%-*s   %s\n", (int) width, left, d->help ? d->help : "");
      }
}

static void
cli_print_usage (cli_ctx *ctx, const opt_def *defs, FILE *out)
{
  fprintf (out, "Usage:  %s %s %s\n\n%s\n", ctx->prog, ctx->cmd,
           ctx->usage ? ctx->usage : "", ctx->summary ? ctx->summary : "");
  if (defs && defs[0].name)
    {
      fprintf (out, "\nOptions:\n");
      cli_print_flags (defs, out);
    }
}

int
cli_parse (cli_ctx *ctx, const opt_def *defs, int argc, char **argv,
           bool stop_at_positional, int min_args, int max_args,
           char ***positional)
{
  size_t n = 0;
  while (defs[n].name)
    n++;
  bool help = false;
  cleanup_free opt_def *all = xzalloc ((n + 2) * sizeof (opt_def));
  memcpy (all, defs, n * sizeof (opt_def));
  all[n] = (opt_def){ "help", 0, OPT_BOOL, &help, "Print usage" };
  cleanup_error polis_error *err = NULL;
  /* "-h" is --help where the command has no -h of its own. */
  bool has_h = false;
  for (size_t i = 0; i < n; i++)
    if (defs[i].short_name == 'h')
      has_h = true;
  if (!has_h)
    all[n].short_name = 'h';
  int r = opts_parse (all, argc, argv, stop_at_positional, positional, &err);
  if (r < 0)
    {
      const char *m = err->msg;
      const char *p = strstr (m, "not defined: ");
      if (p)
        {
          p += strlen ("not defined: ");
          if (p[0] == '-' && p[1] == '-')
            fprintf (stderr, "unknown flag: %s\n", p);
          else
            fprintf (stderr, "unknown shorthand flag: '%c' in %s\n", p[1], p);
        }
      else
        fprintf (stderr, "%s\n", m);
      fprintf (stderr, "\nUsage:  %s %s %s\n\nRun '%s %s --help' for more information\n",
               ctx->prog, ctx->cmd, ctx->usage ? ctx->usage : "", ctx->prog, ctx->cmd);
      return 125;
    }
  if (help)
    {
      cli_print_usage (ctx, defs, stdout);
      return -1;
    }
  int got = (int) strv_length (*positional);
  if (got < min_args || (max_args >= 0 && got > max_args))
    {
      /* docker's cli/required.go wordings, "See" and "Run" as it has them. */
      char what[96];
      const char *verb = "Run";
      if (max_args == 0)
        snprintf (what, sizeof what, "accepts no arguments");
      else if (min_args == max_args)
        snprintf (what, sizeof what, "requires %d argument%s", min_args,
                  min_args == 1 ? "" : "s");
      else if (max_args < 0)
        {
          snprintf (what, sizeof what, "requires at least %d argument%s",
                    min_args, min_args == 1 ? "" : "s");
          verb = "See";
        }
      else if (min_args == 0)
        snprintf (what, sizeof what, "requires at most %d argument%s",
                  max_args, max_args == 1 ? "" : "s");
      else
        snprintf (what, sizeof what, "requires at least %d and at most %d arguments",
                  min_args, max_args);
      fprintf (stderr, "%s: '%s %s' %s\n\nUsage:  %s %s %s\n\n%s '%s %s --help' for more information\n",
               ctx->prog, ctx->prog, ctx->cmd, what, ctx->prog, ctx->cmd,
               ctx->usage ? ctx->usage : "", verb, ctx->prog, ctx->cmd);
      return 1;
    }
  return 0;
}

void
cli_add_filters (char **path, char **filters)
{
  if (filters == NULL || filters[0] == NULL)
    return;
  cleanup_json json_t *f = json_object ();
  for (char **p = filters; *p; p++)
    {
      const char *eq = strchr (*p, '=');
      cleanup_free char *key = eq ? xstrndup (*p, (size_t) (eq - *p))
                                  : xstrdup (*p);
      const char *value = eq ? eq + 1 : "";
      json_t *m = json_object_get (f, key);
      if (m == NULL)
        {
          m = json_object ();
          json_object_set_new (f, key, m);
        }
      json_object_set_new (m, value, json_true ());
    }
  cleanup_free char *d = json_dumps (f, JSON_COMPACT);
  client_query_add (path, "filters", d);
}

char *
cli_familiar (const char *ref)
{
  if (ref == NULL)
    return xstrdup ("");
  if (strncmp (ref, "docker.io/library/", 18) == 0)
    return xstrdup (ref + 18);
  if (strncmp (ref, "docker.io/", 10) == 0)
    return xstrdup (ref + 10);
  return xstrdup (ref);
}

char *
cli_short_id (const char *id)
{
  if (id == NULL)
    return xstrdup ("");
  const char *c = strchr (id, ':');
  if (c)
    id = c + 1;
  return xstrndup (id, 12);
}

int
cli_each (cli_ctx *ctx, char **args, const char *method, const char *prefix,
          const char *suffix, const char *query, bool not_found_ok)
{
  int status = 0;
  for (char **a = args; a && *a; a++)
    {
      cleanup_error polis_error *err = NULL;
      cleanup_free char *path = xasprintf ("%s%s%s", prefix, *a, suffix);
      if (query && *query)
        {
          char *full = xasprintf ("%s%s", path, query);
          free (path);
          path = full;
        }
      int r = client_call (ctx->client, method, path, NULL, NULL, &err);
      if (r < 0)
        {
          fprintf (stderr, "%s\n", err->msg);
          if (!(not_found_ok && err->cls == ERROR_NOT_FOUND))
            status = 1;
          continue;
        }
      printf ("%s\n", *a);
    }
  fflush (stdout);
  return status;
}

/* ---- the formatter ---- */

struct cli_formatter
{
  gotemplate *tpl;
  bool table;
  json_t *headers;
  char *buf;
  size_t n, cap;
  bool header_done;
};

cli_formatter *
cli_formatter_new (const char *format, const char *default_table,
                   const json_t *headers, polis_error **err)
{
  cleanup_free char *text = NULL;
  bool table = false;
  if (format == NULL || *format == '\0' || strcmp (format, "table") == 0)
    {
      text = xstrdup (strncmp (default_table, "table", 5) == 0 ? default_table + 5 : default_table);
      table = true;
    }
  else if (strcmp (format, "json") == 0)
    text = xstrdup ("{{json .}}");
  else if (strncmp (format, "table", 5) == 0)
    {
      text = xstrdup (format + 5);
      table = true;
    }
  else
    text = xstrdup (format);
  /* docker: trim spaces, and \t \n typed literally mean tab and newline. */
  char *s = text;
  while (*s == ' ')
    s++;
  size_t l = strlen (s);
  while (l > 0 && s[l - 1] == ' ')
    s[--l] = '\0';
  cleanup_free char *fin = xmalloc (l + 1);
  size_t o = 0;
  for (size_t i = 0; i < l; i++)
    {
      if (s[i] == '\\' && (s[i + 1] == 't' || s[i + 1] == 'n'))
        {
          fin[o++] = s[i + 1] == 't' ? '\t' : '\n';
          i++;
        }
      else
        fin[o++] = s[i];
    }
  fin[o] = '\0';
  gotemplate *tpl = gotemplate_parse (fin, err);
  if (tpl == NULL)
    return NULL;
  cli_formatter *f = xzalloc (sizeof *f);
  f->tpl = tpl;
  f->table = table;
  f->headers = headers ? json_deep_copy (headers) : json_object ();
  f->cap = 1024;
  f->buf = xmalloc (f->cap);
  f->buf[0] = '\0';
  return f;
}

static void
formatter_add (cli_formatter *f, const char *s)
{
  size_t l = strlen (s);
  if (f->n + l + 2 > f->cap)
    {
      f->cap = (f->n + l + 2) * 2;
      f->buf = xrealloc (f->buf, f->cap);
    }
  memcpy (f->buf + f->n, s, l);
  f->n += l;
  f->buf[f->n++] = '\n';
  f->buf[f->n] = '\0';
}

static int
formatter_header (cli_formatter *f, polis_error **err)
{
  if (!f->table || f->header_done)
    return 0;
  f->header_done = true;
  cleanup_free char *h = NULL;
  int r = gotemplate_exec (f->tpl, f->headers, false, &h, err);
  if (r < 0)
    return -1;
  formatter_add (f, h);
  return 0;
}

static int
cmp_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
cli_formatter_row (cli_formatter *f, json_t *row, polis_error **err)
{
  if (formatter_header (f, err) < 0)
    return -1;
  /* docker's formatters marshal their rows as maps: keys sorted. */
  cleanup_json json_t *sorted = json_object ();
  {
    size_t n = json_object_size (row), i = 0;
    cleanup_free const char **keys = xmalloc ((n + 1) * sizeof (char *));
    const char *k;
    json_t *v;
    json_object_foreach (row, k, v)
    keys[i++] = k;
    qsort (keys, i, sizeof (char *), cmp_keys);
    for (size_t j = 0; j < i; j++)
      json_object_set (sorted, keys[j], json_object_get (row, keys[j]));
  }
  cleanup_free char *out = NULL;
  int r = gotemplate_exec (f->tpl, sorted, true, &out, err);
  if (r < 0)
    return error_wrap (err, "template parsing error");
  formatter_add (f, out);
  return 0;
}

int
cli_formatter_flush (cli_formatter *f, polis_error **err)
{
  if (formatter_header (f, err) < 0)
    return -1;
  if (f->table)
    table_write (stdout, f->buf, 10, 3);
  else
    fputs (f->buf, stdout);
  fflush (stdout);
  f->n = 0;
  f->buf[0] = '\0';
  return 0;
}

int
cli_list_get (cli_ctx *ctx, const char *path, const char *format, bool quiet,
              const char *quiet_format, const char *default_table,
              const char *headers, json_t **list, cli_formatter **f)
{
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *h = json_loads (headers, 0, NULL);
  *f = cli_formatter_new (quiet ? quiet_format : format, default_table, h, &err);
  if (*f == NULL)
    return cli_fail (1, "template parsing error: %s", err->msg);
  if (client_call (ctx->client, "GET", path, NULL, list, &err) < 0)
    return cli_error (ctx, err);
  return 0;
}

int
cli_list_flush (cli_ctx *ctx, cli_formatter *f)
{
  cleanup_error polis_error *err = NULL;
  if (cli_formatter_flush (f, &err) < 0)
    return cli_error (ctx, err);
  return 0;
}

void
cli_formatter_free (cli_formatter *f)
{
  if (f == NULL)
    return;
  gotemplate_free (f->tpl);
  json_decref (f->headers);
  free (f->buf);
  free (f);
}

/* ---- main ---- */

static void
cli_print_main_help (const char *prog)
{
  printf ("Usage:  %s [OPTIONS] COMMAND\n\nA Docker-compatible client for "
          "the Polis container engine\n\nCommands:\n",
          prog);
  for (const cli_command *c = commands; c->name; c++)
    printf ("  %-10s %s\n", c->name, c->summary);
  printf ("\nManagement Commands:\n");
  for (size_t g = 0; groups[g].name; g++)
    printf ("  %-10s %s\n", groups[g].name, groups[g].summary);
  printf ("\nGlobal Options:\n"
          "  -H, --host string     Daemon socket to connect to "
          "(default " CLIENT_DEFAULT_HOST ", or $DOCKER_HOST)\n"
          "      --root string     Root directory for an auto-started polisd\n"
          "  -v, --version         Print version information and quit\n"
          "\nRun '%s COMMAND --help' for more information on a command.\n",
          prog);
}

int
cli_main (int argc, char **argv)
{
  const char *prog = "polis";
  if (argc > 0)
    {
      const char *b = strrchr (argv[0], '/');
      b = b ? b + 1 : argv[0];
      if (strcmp (b, "docker") == 0)
        prog = "docker";
    }
  const char *host = NULL, *root = NULL;
  int i = 1;
  /* Global flags come before the command. */
  while (i < argc && argv[i][0] == '-')
    {
      const char *a = argv[i];
      const char *val = NULL;
      if (strcmp (a, "-H") == 0 || strcmp (a, "--host") == 0
          || strcmp (a, "--root") == 0 || strcmp (a, "--config") == 0
          || strcmp (a, "-l") == 0 || strcmp (a, "--log-level") == 0
          || strcmp (a, "-c") == 0 || strcmp (a, "--context") == 0)
        {
          if (i + 1 >= argc)
            return cli_fail (125, "flag needs an argument: %s\nSee '%s --help'.",
                             a, prog);
          val = argv[++i];
        }
      else if (strncmp (a, "--host=", 7) == 0 || strncmp (a, "-H=", 3) == 0)
        val = strchr (a, '=') + 1;
      else if (strncmp (a, "--root=", 7) == 0)
        val = a + 7;
      if (strcmp (a, "-H") == 0 || strncmp (a, "--host", 6) == 0
          || strncmp (a, "-H=", 3) == 0)
        host = val;
      else if (strncmp (a, "--root", 6) == 0)
        root = val;
      else if (strcmp (a, "-v") == 0 || strcmp (a, "--version") == 0)
        {
          printf ("Polis version %s, build %s\n", POLIS_VERSION, POLIS_COMMIT);
          return 0;
        }
      else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
        {
          cli_print_main_help (prog);
          return 0;
        }
      else if (strcmp (a, "-D") == 0 || strcmp (a, "--debug") == 0
               || strcmp (a, "--tls") == 0 || strcmp (a, "--tlsverify") == 0)
        ;
      else if (val == NULL)
        return cli_fail (125, "unknown flag: %s\nSee '%s --help'.", a, prog);
      i++;
    }
  if (i >= argc)
    {
      cli_print_main_help (prog);
      return 0;
    }
  if (strcmp (argv[i], "help") == 0)
    {
      cli_print_main_help (prog);
      return 0;
    }

  cli_ctx ctx = { .prog = prog };
  cli_cmd_fn fn = NULL;
  char cmdname[64];
  for (size_t g = 0; groups[g].name; g++)
    if (strcmp (argv[i], groups[g].name) == 0)
      {
        const char *group = groups[g].name;
        if (i + 1 >= argc || strcmp (argv[i + 1], "--help") == 0
            || strcmp (argv[i + 1], "-h") == 0)
          {
            cli_print_group_help (prog, group, groups[g].summary);
            return 0;
          }
        const char *sub = argv[i + 1];
        for (const cli_alias *al = aliases; al->group && fn == NULL; al++)
          if (strcmp (al->group, group) == 0 && strcmp (al->sub, sub) == 0)
            cli_alias_resolve (al, &fn, &ctx.usage, &ctx.summary);
        if (fn == NULL)
          return cli_fail (1, "%s: unknown command: %s %s %s\n\nRun '%s %s --help' for more information",
                           prog, prog, group, sub, prog, group);
        snprintf (cmdname, sizeof cmdname, "%s %s", group, sub);
        ctx.cmd = cmdname;
        i += 2;
        break;
      }
  if (fn == NULL)
    {
      for (const cli_command *c = commands; c->name; c++)
        if (strcmp (argv[i], c->name) == 0)
          {
            fn = c->fn;
            ctx.usage = c->usage;
            ctx.summary = c->summary;
          }
      if (fn == NULL)
        return cli_fail (1, "%s: unknown command: %s %s\n\nRun '%s --help' for more information",
                         prog, prog, argv[i], prog);
      snprintf (cmdname, sizeof cmdname, "%s", argv[i]);
      ctx.cmd = cmdname;
      i++;
    }

  cleanup_error polis_error *err = NULL;
  cleanup_client api_client *client = client_new (host, &err);
  if (client == NULL)
    return cli_error (&ctx, err);
  if (root)
    client->root = xstrdup (root);
  else if (getenv ("POLIS_ROOT"))
    client->root = xstrdup (getenv ("POLIS_ROOT"));
  ctx.client = client;
  int rc = fn (&ctx, argc - i, argv + i);
  return rc < 0 ? 0 : rc;
}
