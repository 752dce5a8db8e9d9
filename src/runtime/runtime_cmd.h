/* runtime_cmd.h - the polis-runtime command line. */
#ifndef POLIS_RUNTIME_RUNTIME_CMD_H
#define POLIS_RUNTIME_RUNTIME_CMD_H

#include <stdbool.h>

#include "base/error.h"

/* The global flags, as every command sees them. */
typedef struct
{
  const char *root;
  const char *log;
  const char *log_format;
  bool debug;
  bool systemd_cgroup;
  const char *rootless;
  const char *criu;
  bool version;
  bool help;
} runtime_globals;

/* Commands on a running container (runtime_cmd_ops.c), called with the
   command's own arguments. */
int runtime_cmd_ops_exec (const runtime_globals *g, int argc, char **argv,
                          polis_error **err);
int runtime_cmd_ops_ps (const runtime_globals *g, int argc, char **argv,
                        polis_error **err);
int runtime_cmd_ops_pause (const runtime_globals *g, int argc, char **argv,
                           polis_error **err);
int runtime_cmd_ops_resume (const runtime_globals *g, int argc, char **argv,
                            polis_error **err);
int runtime_cmd_ops_update (const runtime_globals *g, int argc, char **argv,
                            polis_error **err);
int runtime_cmd_ops_events (const runtime_globals *g, int argc, char **argv,
                            polis_error **err);

/* Run polis-runtime with ARGV; returns the process exit status. */
int runtime_cmd_main (int argc, char **argv);

#endif
