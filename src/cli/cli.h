/* cli.h - what every command of the polis CLI shares: the command table,
 * flag parsing with docker's messages and exit codes, error printing, and
 * the formatter (--format, table output) of list commands.
 *
 * Exit codes follow the docker CLI: 0, 1 for a failed command, 125 for a
 * usage error or a daemon error in run/create, 126/127 when the container's
 * command cannot be run / found, otherwise the container's own status.
 */
#ifndef POLIS_CLI_CLI_H
#define POLIS_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"
#include "base/opts.h"
#include "cli/client.h"

typedef struct cli_ctx
{
  api_client *client;
  const char *prog; /* "polis", or "docker" when run under that name */
  const char *cmd;  /* "run", "ps", "image ls"... for messages */
  const char *usage; /* "[OPTIONS] CONTAINER [CONTAINER...]" */
  const char *summary;
} cli_ctx;

typedef int (*cli_cmd_fn) (cli_ctx *ctx, int argc, char **argv);

/* The program's entry point. */
int cli_main (int argc, char **argv);

/* Parse ARGV (after the command's name) against DEFS; a --help flag is
   added.  Returns 0, or an exit code > 0 after printing the usage or
   docker's error ("unknown flag: --x" -> 125; "requires at least 1
   argument" -> 1).  MAX_ARGS < 0 means no maximum. */
int cli_parse (cli_ctx *ctx, const opt_def *defs, int argc, char **argv,
               bool stop_at_positional, int min_args, int max_args,
               char ***positional);

/* Print ERR to stderr as docker does and return 1 (frees nothing). */
int cli_error (cli_ctx *ctx, const polis_error *err);

/* Print a formatted message to stderr and return CODE. */
int cli_fail (int code, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Print WARNING and docker's "Are you sure you want to continue? [y/N]";
   true when the answer on stdin starts with y (prune without --force). */
bool cli_confirm (const char *warning);

/* Is stdout / stdin a terminal. */
bool cli_stdout_tty (void);

/* Filters: "key=value" flags into the API's JSON ({"key":{"value":true}}),
   URL-escaped into "&filters=...", appended to *PATH (nothing when none). */
void cli_add_filters (char **path, char **filters);

/* Formatting of list commands.  FORMAT is what --format gave (NULL or
   "table" for the default table, "json" for one JSON object per line, or
   a template).  DEFAULT_TABLE is the command's table template and HEADERS
   maps field names to column titles.  Each row is a JSON object of the
   fields docker's formatter offers. */
typedef struct cli_formatter cli_formatter;
cli_formatter *cli_formatter_new (const char *format, const char *default_table,
                                  const json_t *headers, polis_error **err);
int cli_formatter_row (cli_formatter *f, json_t *row, polis_error **err);
/* Write everything out (through the table writer for "table ..."). */
int cli_formatter_flush (cli_formatter *f, polis_error **err);
void cli_formatter_free (cli_formatter *f);

static inline void
cleanup_formatter_fn (cli_formatter **f)
{
  cli_formatter_free (*f);
  *f = NULL;
}
#define cleanup_formatter __attribute__ ((cleanup (cleanup_formatter_fn)))

/* The start of a list command: *F from FORMAT (QUIET_FORMAT instead when
   QUIET), DEFAULT_TABLE and HEADERS (JSON text), then GET PATH into *LIST.
   0, or the exit status with the error already printed. */
int cli_list_get (cli_ctx *ctx, const char *path, const char *format, bool quiet,
                  const char *quiet_format, const char *default_table,
                  const char *headers, json_t **list, cli_formatter **f);
/* Its end: flush F.  0, or the exit status with the error printed. */
int cli_list_flush (cli_ctx *ctx, cli_formatter *f);

/* docker's FamiliarString: "docker.io/library/busybox:1" -> "busybox:1". */
char *cli_familiar (const char *ref);

/* Short id: the first 12 characters, without "sha256:". */
char *cli_short_id (const char *id);

/* Run one request per argument (stop, kill, rm, pause...) on
   PREFIX + arg + SUFFIX + QUERY, printing each
   argument that succeeded and each error; 0 or 1 as docker.  With
   NOT_FOUND_OK (rm -f) a missing object is printed but not a failure. */
int cli_each (cli_ctx *ctx, char **args, const char *method,
              const char *prefix, const char *suffix, const char *query,
              bool not_found_ok);

/* Commands, by file. */
int cmd_run (cli_ctx *ctx, int argc, char **argv);
int cmd_create (cli_ctx *ctx, int argc, char **argv);
int cmd_start (cli_ctx *ctx, int argc, char **argv);
int cmd_attach (cli_ctx *ctx, int argc, char **argv);
int cmd_exec (cli_ctx *ctx, int argc, char **argv);
int cmd_ps (cli_ctx *ctx, int argc, char **argv);
int cmd_stop (cli_ctx *ctx, int argc, char **argv);
int cmd_restart (cli_ctx *ctx, int argc, char **argv);
int cmd_kill (cli_ctx *ctx, int argc, char **argv);
int cmd_rm (cli_ctx *ctx, int argc, char **argv);
int cmd_pause (cli_ctx *ctx, int argc, char **argv);
int cmd_unpause (cli_ctx *ctx, int argc, char **argv);
int cmd_wait (cli_ctx *ctx, int argc, char **argv);
int cmd_rename (cli_ctx *ctx, int argc, char **argv);
int cmd_logs (cli_ctx *ctx, int argc, char **argv);
int cmd_inspect (cli_ctx *ctx, int argc, char **argv);
int cmd_container_inspect (cli_ctx *ctx, int argc, char **argv);
int cmd_image_inspect (cli_ctx *ctx, int argc, char **argv);
int cmd_top (cli_ctx *ctx, int argc, char **argv);
int cmd_port (cli_ctx *ctx, int argc, char **argv);
int cmd_stats (cli_ctx *ctx, int argc, char **argv);
int cmd_update (cli_ctx *ctx, int argc, char **argv);
int cmd_cp (cli_ctx *ctx, int argc, char **argv);
int cmd_container_prune (cli_ctx *ctx, int argc, char **argv);
int cmd_images (cli_ctx *ctx, int argc, char **argv);
int cmd_pull (cli_ctx *ctx, int argc, char **argv);
int cmd_push (cli_ctx *ctx, int argc, char **argv);
int cmd_rmi (cli_ctx *ctx, int argc, char **argv);
int cmd_tag (cli_ctx *ctx, int argc, char **argv);
int cmd_save (cli_ctx *ctx, int argc, char **argv);
int cmd_load (cli_ctx *ctx, int argc, char **argv);
int cmd_import (cli_ctx *ctx, int argc, char **argv);
int cmd_history (cli_ctx *ctx, int argc, char **argv);
int cmd_image_prune (cli_ctx *ctx, int argc, char **argv);
int cmd_version (cli_ctx *ctx, int argc, char **argv);
int cmd_info (cli_ctx *ctx, int argc, char **argv);
int cmd_events (cli_ctx *ctx, int argc, char **argv);
int cmd_system_prune (cli_ctx *ctx, int argc, char **argv);
int cmd_system_df (cli_ctx *ctx, int argc, char **argv);
int cmd_volume_prune (cli_ctx *ctx, int argc, char **argv);
int cmd_network_prune (cli_ctx *ctx, int argc, char **argv);
int cmd_volume_create (cli_ctx *ctx, int argc, char **argv);
int cmd_volume_inspect (cli_ctx *ctx, int argc, char **argv);
int cmd_volume_ls (cli_ctx *ctx, int argc, char **argv);
int cmd_volume_rm (cli_ctx *ctx, int argc, char **argv);
int cmd_network_connect (cli_ctx *ctx, int argc, char **argv);
int cmd_network_create (cli_ctx *ctx, int argc, char **argv);
int cmd_network_disconnect (cli_ctx *ctx, int argc, char **argv);
int cmd_network_inspect (cli_ctx *ctx, int argc, char **argv);
int cmd_network_ls (cli_ctx *ctx, int argc, char **argv);
int cmd_network_rm (cli_ctx *ctx, int argc, char **argv);

/* Pull IMAGE (a reference as typed), rendering progress on OUT; used by
   pull and by run/create when the image is missing.  0 or -1. */
int cli_pull_image (cli_ctx *ctx, const char *image, const char *platform,
                    bool quiet, FILE *out, polis_error **err);

/* Normalise "busybox" to "docker.io/library/busybox" + tag "latest" as
   docker's reference.ParseNormalizedNamed does.  Heap strings. */
void cli_split_reference (const char *ref, char **name, char **tag);

#endif
