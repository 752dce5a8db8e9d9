/* runtime_cmd_ops.c - exec, ps, pause, resume, update, events. */
#include "runtime_cmd.h"

#include <errno.h>

#define RUNTIME_CMD_OPS_TODO(name)                                             \
  int runtime_cmd_ops_##name (const runtime_globals *g, int argc, char **argv, \
                              polis_error **err)                               \
  {                                                                            \
    (void) g;                                                                  \
    (void) argc;                                                               \
    (void) argv;                                                               \
    return error_set (err, ERROR_INVALID, ENOTSUP, #name ": not implemented"); \
  }

RUNTIME_CMD_OPS_TODO (exec)
RUNTIME_CMD_OPS_TODO (ps)
RUNTIME_CMD_OPS_TODO (pause)
RUNTIME_CMD_OPS_TODO (resume)
RUNTIME_CMD_OPS_TODO (update)
RUNTIME_CMD_OPS_TODO (events)
