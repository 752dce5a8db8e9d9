/* container_exec.h - run another process in a running container (`exec`). */
#ifndef POLIS_RUNTIME_CONTAINER_EXEC_H
#define POLIS_RUNTIME_CONTAINER_EXEC_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

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
  /* For a caller that keeps the process as its child (polis-shim): */
  const json_t *process; /* an OCI process object, instead of process_file
                            and the command-line fields above */
  const int *stdio;      /* NULL: the process inherits our 0, 1, 2; else
                            these three fds become them */
} container_exec_opts;

/* Run the process in the namespaces, cgroup and confinement of container
   O->id.  Unless detached, wait for it and put its exit status (128+signal
   when killed) in *EXIT_STATUS. */
int container_exec (const container_exec_opts *o, int *exit_status,
                    polis_error **err);

/* Start the process as container_exec does and return as soon as it runs
   (its program has replaced ours), without waiting: *PID gets it, our
   child, for the caller to reap.  With process.terminal and no
   console_socket, *CONSOLE_MASTER gets the pty master (the caller's), else
   -1.  O->detach is ignored. */
int container_exec_spawn (const container_exec_opts *o, pid_t *pid,
                          int *console_master, polis_error **err);

#endif
