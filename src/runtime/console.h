/* console.h - the container's terminal.
 *
 * The init opens a pty inside the container's own devpts, makes the slave
 * its controlling terminal and stdio, bind-mounts it over /dev/console, and
 * hands the master to whoever listens on --console-socket (SCM_RIGHTS, as
 * runc does; the message data is the slave's name).
 */
#ifndef POLIS_RUNTIME_CONSOLE_H
#define POLIS_RUNTIME_CONSOLE_H

#include <stdbool.h>

#include "base/error.h"

#define CONSOLE_NAME_MAX 64

/* Inside the container (after pivot_root): create the pty, set its size
   (0 = leave), make it the controlling terminal and stdio, and with
   MOUNT_CONSOLE bind it over /dev/console (the init does, exec does not).
   Returns the master fd; NAME gets the slave's path. */
int console_setup (unsigned height, unsigned width, bool mount_console,
                   char name[CONSOLE_NAME_MAX], polis_error **err);

/* Connect to the unix socket at PATH.  Returns the fd. */
int console_socket_connect (const char *path, polis_error **err);

/* Send FD over the unix socket SOCK with NAME as the message data. */
int console_send_fd (int sock, int fd, const char *name, polis_error **err);

/* Receive one fd from SOCK.  Returns it. */
int console_recv_fd (int sock, polis_error **err);

/* Copy between our stdin/stdout and MASTER until MASTER hangs up (returns
   1) or STOP_FD becomes readable (returns 0), with the local terminal in
   raw mode when it is one.  Used by a foreground `run` with a terminal. */
int console_proxy (int master, int stop_fd, polis_error **err);

#endif
