/* restart.h - Docker's restart policies and their back-off.
 *
 * "no", "always", "unless-stopped", "on-failure[:N]".  After each exit the
 * delay before the next start doubles from 100 ms up to one minute, and
 * falls back to 100 ms when the container had run for 10 s or more
 * (moby's restartmanager).  A container stopped by hand (stop, kill) is
 * not restarted, whatever the policy, until it is started again.
 */
#ifndef POLIS_SHIM_RESTART_H
#define POLIS_SHIM_RESTART_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

#define RESTART_DELAY_MIN_MS 100
#define RESTART_DELAY_MAX_MS 60000
#define RESTART_RESET_AFTER_MS 10000

typedef enum
{
  RESTART_NO = 0,
  RESTART_ALWAYS,
  RESTART_UNLESS_STOPPED,
  RESTART_ON_FAILURE,
} restart_kind;

typedef struct
{
  restart_kind kind;
  int max_retries; /* on-failure:N; 0: no limit */
} restart_policy;

typedef struct
{
  uint64_t delay_ms; /* the last back-off, 0 before the first */
  int count;         /* restarts so far (Docker's RestartCount) */
} restart_state;

/* Parse a policy as `docker run --restart` takes it ("" is "no").
   -1 with *err set, in Docker's words, when malformed. */
int restart_parse (const char *s, restart_policy *p, polis_error **err);

/* The policy back as text ("on-failure:3").  Static or BUF. */
const char *restart_name (const restart_policy *p, char buf[32]);

/* The container exited with EXIT_CODE after running RAN_MS.  Returns
   whether to start it again and, if so, counts the restart and puts the
   delay in *DELAY_MS (the back-off advances either way, as Docker's). */
bool restart_decide (const restart_policy *p, restart_state *st,
                     int exit_code, bool manually_stopped, uint64_t ran_ms,
                     uint64_t *delay_ms);

#endif
