/* container_exec.h - run another process in a running container (`exec`). */
#ifndef POLIS_RUNTIME_CONTAINER_EXEC_H
#define POLIS_RUNTIME_CONTAINER_EXEC_H

#include <stdbool.h>

#include "base/error.h"

typedef struct
{
  const char *root;
  const char *id;
  const char *process_file; /* --process: a process.json; else the below */
  char **args;              /* the command */
  char **env;               /* appended to the container's env */
  const char *cwd;
  const char *user;         /* "uid[:gid]" */
  char **additional_gids;
  char **caps;              /* added to bounding, effective, permitted */
  bool tty;
  bool detach;
  bool no_new_privs;
  bool ignore_paused;
  const char *console_socket;
  const char *pid_file;
  const char *apparmor;
  const char *process_label;
  int preserve_fds;
} container_exec_opts;

/* Run the process in the namespaces, cgroup and confinement of container
   O->id.  Unless detached, wait for it and put its exit status (128+signal
   when killed) in *EXIT_STATUS. */
int container_exec (const container_exec_opts *o, int *exit_status,
                    polis_error **err);

#endif
