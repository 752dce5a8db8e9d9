/* opts.h - command-line flags in the styles runc and docker users type.
 *
 * Accepts "--name value", "--name=value", "-name value" (urfave/cli, which
 * runc uses), "-n value", "-nvalue" and combined short booleans ("-it").
 * Booleans take an optional "=true"/"=false".  "--" ends the flags.
 */
#ifndef POLIS_BASE_OPTS_H
#define POLIS_BASE_OPTS_H

#include <stdbool.h>

#include "error.h"
#include "strv.h"

typedef enum
{
  OPT_BOOL,   /* bool * */
  OPT_STRING, /* const char ** (points into argv) */
  OPT_STRV,   /* char *** : each use appends (heap strv, caller frees) */
} opt_type;

typedef struct
{
  const char *name; /* long name, without dashes */
  char short_name;  /* 0 when none */
  opt_type type;
  void *target;
  const char *help;
} opt_def;

/* Parse flags in ARGV[0..ARGC) against DEFS (terminated by a zeroed entry).
   Positional arguments are collected in *POSITIONAL (heap strv of pointers
   copied from argv; caller frees with cleanup_strv).  With
   STOP_AT_POSITIONAL, everything from the first positional on is positional
   (for "exec ID cmd --flag").  Unknown flags are an error that names them. */
int opts_parse (const opt_def *defs, int argc, char **argv,
                bool stop_at_positional, char ***positional,
                polis_error **err);

/* Print DEFS as a help table to STREAM (a FILE *). */
void opts_print_help (const opt_def *defs, void *stream);

#endif
