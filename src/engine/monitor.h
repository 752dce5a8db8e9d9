/* monitor.h - one thread that follows every live shim's event stream.
 *
 * For each container with a shim, the monitor holds one `events`
 * connection (the contract's stream of JSON lines: start, die, oom,
 * restart, health_status, exec_die) in an epoll set, and hands each line
 * to the lifecycle code, which updates the container and publishes
 * Docker's events.  A connection that closes means the shim is gone.
 * Nothing polls: the thread sleeps in epoll_wait.
 */
#ifndef POLIS_ENGINE_MONITOR_H
#define POLIS_ENGINE_MONITOR_H

#include "base/error.h"
#include "engine_internal.h"

typedef struct monitor monitor;

monitor *monitor_start (engine *e, polis_error **err);
/* Stop the thread and drop every connection (the shims keep running). */
void monitor_stop (monitor *m);

/* Subscribe to C's shim events (connects to its socket) and follow them.
   Takes a reference on C for as long as the stream lasts. */
int monitor_follow (monitor *m, container *c, polis_error **err);

#endif
