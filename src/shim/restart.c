/* restart.c - Docker's restart policies and their back-off. */
#include "restart.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
restart_parse (const char *s, restart_policy *p, polis_error **err)
{
  *p = (restart_policy){ RESTART_NO, 0 };
  if (s == NULL || *s == '\0' || strcmp (s, "no") == 0)
    return 0;
  const char *colon = strchr (s, ':');
  size_t n = colon ? (size_t) (colon - s) : strlen (s);
  if (n == 6 && strncmp (s, "always", n) == 0)
    p->kind = RESTART_ALWAYS;
  else if (n == 14 && strncmp (s, "unless-stopped", n) == 0)
    p->kind = RESTART_UNLESS_STOPPED;
  else if (n == 10 && strncmp (s, "on-failure", n) == 0)
    p->kind = RESTART_ON_FAILURE;
  else if (n == 2 && strncmp (s, "no", n) == 0)
    p->kind = RESTART_NO;
  else
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid restart policy: unknown policy '%.*s'; use one of 'no', "
                      "'always', 'on-failure', or 'unless-stopped'",
                      (int) n, s);
  if (colon == NULL)
    return 0;
  if (p->kind != RESTART_ON_FAILURE)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid restart policy: maximum retry count can only be used with 'on-failure'");
  char *end;
  errno = 0;
  long v = strtol (colon + 1, &end, 10);
  if (colon[1] == '\0' || *end || errno || v > 1000000000)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid restart policy format: maximum retry count must be an integer");
  if (v < 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid restart policy: maximum retry count cannot be negative");
  p->max_retries = (int) v;
  return 0;
}

const char *
restart_name (const restart_policy *p, char buf[32])
{
  switch (p->kind)
    {
    case RESTART_ALWAYS:
      return "always";
    case RESTART_UNLESS_STOPPED:
      return "unless-stopped";
    case RESTART_ON_FAILURE:
      if (p->max_retries == 0)
        return "on-failure";
      snprintf (buf, 32, "on-failure:%d", p->max_retries);
      return buf;
    case RESTART_NO:
    default:
      return "no";
    }
}

bool
restart_decide (const restart_policy *p, restart_state *st, int exit_code,
                bool manually_stopped, uint64_t ran_ms, uint64_t *delay_ms)
{
  if (p->kind == RESTART_NO)
    return false;
  /* moby restartmanager.ShouldRestart, step by step. */
  if (ran_ms >= RESTART_RESET_AFTER_MS)
    st->delay_ms = 0;
  if (st->delay_ms == 0)
    st->delay_ms = RESTART_DELAY_MIN_MS;
  else if (st->delay_ms < RESTART_DELAY_MAX_MS)
    st->delay_ms *= 2;
  if (st->delay_ms > RESTART_DELAY_MAX_MS)
    st->delay_ms = RESTART_DELAY_MAX_MS;

  bool restart = false;
  if (manually_stopped)
    restart = false; /* Docker cancels the restart manager on stop and kill */
  else if (p->kind == RESTART_ALWAYS || p->kind == RESTART_UNLESS_STOPPED)
    restart = true;
  else if (p->kind == RESTART_ON_FAILURE
           && (p->max_retries == 0 || st->count < p->max_retries))
    restart = exit_code != 0;
  if (!restart)
    return false;
  st->count++;
  *delay_ms = st->delay_ms;
  return true;
}
