/* sync.h - the messages between the runtime and the container's init.
 *
 * A SOCK_SEQPACKET socketpair keeps message boundaries, so each message is
 * one send: a fixed header and an optional payload (an error report, a
 * state document).  Payloads are capped.  Every receive has a peer-death
 * answer: EOF is reported as "container init exited".
 */
#ifndef POLIS_RUNTIME_SYNC_H
#define POLIS_RUNTIME_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define SYNC_MAX_PAYLOAD 65536

typedef enum
{
  SYNC_GO = 1,      /* runtime -> init: ids mapped, cgroup joined, go on;
                       value: the init's pid as the runtime sees it */
  SYNC_PID,         /* helper -> runtime: the init's pid (value) */
  SYNC_HOOKS,       /* init -> runtime: mounts done, run prestart hooks */
  SYNC_HOOKS_DONE,  /* runtime -> init: hooks ran */
  SYNC_READY,       /* init -> runtime: waiting to be started */
  SYNC_START,       /* runtime -> init: start now (used by `run`) */
  SYNC_ERROR,       /* either way: payload is an encoded polis_error */
} sync_type;

typedef struct
{
  uint32_t type;
  int32_t value;
  uint32_t len; /* payload bytes following */
} sync_header;

/* Make the socketpair (both ends O_CLOEXEC).  fds[0] for the runtime. */
int sync_pair (int fds[2], polis_error **err);

/* Send one message with an optional payload. */
int sync_send (int fd, sync_type type, int32_t value, const void *payload,
               size_t len, polis_error **err);
/* Send *FAILURE encoded as a SYNC_ERROR message (best effort). */
void sync_send_error (int fd, const polis_error *failure);

/* Receive one message.  *PAYLOAD (heap, NUL-terminated, may be NULL) is
   the caller's.  A SYNC_ERROR message is decoded into *err and -1 is
   returned; so is EOF. */
int sync_recv (int fd, sync_header *hdr, char **payload, polis_error **err);

/* Receive and insist on TYPE. */
int sync_expect (int fd, sync_type type, int32_t *value, polis_error **err);

#endif
