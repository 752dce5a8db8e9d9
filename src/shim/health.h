/* health.h - Docker's health checks: the configuration and what a result
 * does to the container's health (moby daemon/health.go).
 *
 * The test runs inside the container (the shim execs it) every interval,
 * or every start-interval while the container is still "starting" within
 * its start period; the first run comes one interval after the start.
 * Exit 0 is healthy; anything else, a timeout included, fails, and
 * RETRIES failures in a row make the container unhealthy, except that
 * failures within the start period do not count until the first success.
 * The last HEALTH_LOG_MAX results are kept, each with at most
 * HEALTH_OUTPUT_MAX bytes of output.
 */
#ifndef POLIS_SHIM_HEALTH_H
#define POLIS_SHIM_HEALTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

#define HEALTH_LOG_MAX 5
#define HEALTH_OUTPUT_MAX 4096
#define HEALTH_DEFAULT_INTERVAL_NS (30ll * 1000000000)
#define HEALTH_DEFAULT_TIMEOUT_NS (30ll * 1000000000)
#define HEALTH_DEFAULT_START_INTERVAL_NS (5ll * 1000000000)
#define HEALTH_DEFAULT_RETRIES 3
/* Docker refuses durations below this (other than 0, "the default"). */
#define HEALTH_MIN_DURATION_NS 1000000ll

typedef struct
{
  char **argv;               /* what to exec; NULL: no health check */
  int64_t interval_ns;       /* defaults applied */
  int64_t timeout_ns;
  int64_t start_period_ns;
  int64_t start_interval_ns;
  int retries;
} health_config;

typedef enum
{
  HEALTH_STARTING = 0,
  HEALTH_HEALTHY,
  HEALTH_UNHEALTHY,
} health_status;

typedef struct
{
  int64_t start_ns;
  int64_t end_ns;
  int exit_code; /* -1: did not finish (timeout) */
  char *output;  /* heap */
} health_result;

typedef struct
{
  health_status status;
  int failing_streak;
  health_result log[HEALTH_LOG_MAX]; /* oldest first */
  int n_log;
} health_state;

/* Parse Docker's HealthConfig ({"Test":[...],"Interval":ns,...}).  Test
   ["NONE"], [] or absent means no health check (C->argv NULL); ["CMD",
   args...] runs args; ["CMD-SHELL", cmd] runs /bin/sh -c cmd.  -1 with
   *err set, in Docker's words, when invalid. */
int health_config_parse (const json_t *j, health_config *c, polis_error **err);
void health_config_clear (health_config *c);

/* The container (re)started: "starting", no failing streak; the log
   stays. */
void health_state_restart (health_state *h);
void health_state_clear (health_state *h);

/* Record R (its output is taken) for a container started at STARTED_NS.
   Returns true when the status changed. */
bool health_record (health_state *h, const health_config *c, health_result *r,
                    int64_t started_ns);

/* How long until the next probe, the last one having ended at NOW_NS. */
int64_t health_next_interval_ns (const health_state *h, const health_config *c,
                                 int64_t started_ns, int64_t now_ns);

const char *health_status_name (health_status s);
/* {"status":...,"failing_streak":N,"log":[{"start","end","exit_code","output"}]}. */
json_t *health_state_to_json (const health_state *h);

/* Go's time.Duration.String() of NS ("30s", "1m30s", "500ms"), for
   Docker's "Health check exceeded timeout (30s)".  Writes BUF. */
const char *health_duration_string (int64_t ns, char buf[40]);

#endif
