/* health.c - Docker's health checks: configuration and bookkeeping. */
#include "health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "engine/jsonlog.h"

/* One of the durations: absent or 0 is DEF; else at least 1 ms. */
static int
health_duration (const json_t *j, const char *key, int64_t def, int64_t *out,
                 polis_error **err)
{
  int64_t v = 0;
  if (pjson_get_int64 (j, "Healthcheck", key, false, &v, err) < 0)
    return -1;
  if (v == 0)
    v = def;
  else if (v < HEALTH_MIN_DURATION_NS)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "%s in Healthcheck cannot be less than 1ms", key);
  *out = v;
  return 0;
}

int
health_config_parse (const json_t *j, health_config *c, polis_error **err)
{
  cleanup_strv char **test = NULL;
  int64_t retries = 0;
  memset (c, 0, sizeof *c);
  if (j == NULL || json_is_null (j))
    return 0;
  if (!json_is_object (j))
    return error_set (err, ERROR_INVALID, EINVAL, "Healthcheck: expected an object");
  if (pjson_get_strv (j, "Healthcheck", "Test", false, &test, err) < 0
      || health_duration (j, "Interval", HEALTH_DEFAULT_INTERVAL_NS, &c->interval_ns, err) < 0
      || health_duration (j, "Timeout", HEALTH_DEFAULT_TIMEOUT_NS, &c->timeout_ns, err) < 0
      || health_duration (j, "StartPeriod", 0, &c->start_period_ns, err) < 0
      || health_duration (j, "StartInterval", HEALTH_DEFAULT_START_INTERVAL_NS,
                          &c->start_interval_ns, err) < 0
      || pjson_get_int64 (j, "Healthcheck", "Retries", false, &retries, err) < 0)
    return -1;
  if (retries < 0)
    return error_set (err, ERROR_INVALID, EINVAL, "Retries in Healthcheck cannot be negative");
  c->retries = retries == 0 ? HEALTH_DEFAULT_RETRIES
               : retries > 1000000 ? 1000000 : (int) retries;
  size_t n = strv_length (test);
  if (n == 0 || strcmp (test[0], "NONE") == 0)
    return 0;
  if (strcmp (test[0], "CMD") == 0)
    {
      if (n < 2)
        return error_set (err, ERROR_INVALID, EINVAL, "Healthcheck: CMD needs a command");
      c->argv = strv_dup (test + 1);
      return 0;
    }
  if (strcmp (test[0], "CMD-SHELL") == 0)
    {
      if (n < 2)
        return error_set (err, ERROR_INVALID, EINVAL, "Healthcheck: CMD-SHELL needs a command");
      strv_append (&c->argv, "/bin/sh");
      strv_append (&c->argv, "-c");
      for (size_t i = 1; i < n; i++)
        strv_append (&c->argv, test[i]);
      return 0;
    }
  return error_set (err, ERROR_INVALID, EINVAL,
                    "Unknown healthcheck type '%s' (expected 'CMD')", test[0]);
}

void
health_config_clear (health_config *c)
{
  cleanup_strv_fn (&c->argv);
}

static void
health_result_clear (health_result *r)
{
  free (r->output);
  r->output = NULL;
}

void
health_state_restart (health_state *h)
{
  h->status = HEALTH_STARTING;
  h->failing_streak = 0;
}

void
health_state_clear (health_state *h)
{
  for (int i = 0; i < h->n_log; i++)
    health_result_clear (&h->log[i]);
  memset (h, 0, sizeof *h);
}

bool
health_record (health_state *h, const health_config *c, health_result *r,
               int64_t started_ns)
{
  health_status old = h->status;
  if (h->n_log == HEALTH_LOG_MAX)
    {
      health_result_clear (&h->log[0]);
      memmove (&h->log[0], &h->log[1], (HEALTH_LOG_MAX - 1) * sizeof h->log[0]);
      h->n_log--;
    }
  h->log[h->n_log++] = *r;
  int exit_code = r->exit_code;
  int64_t start = r->start_ns;
  r->output = NULL;

  if (exit_code == 0)
    {
      h->failing_streak = 0;
      h->status = HEALTH_HEALTHY;
    }
  else
    {
      /* Within the start period, before the first success, failures do
         not count. */
      bool count = !(h->status == HEALTH_STARTING
                     && start - started_ns < c->start_period_ns);
      if (count)
        {
          h->failing_streak++;
          if (h->failing_streak >= c->retries)
            h->status = HEALTH_UNHEALTHY;
        }
    }
  return h->status != old;
}

int64_t
health_next_interval_ns (const health_state *h, const health_config *c,
                         int64_t started_ns, int64_t now_ns)
{
  if (now_ns - started_ns >= c->start_period_ns)
    return c->interval_ns;
  return h->status == HEALTH_STARTING ? c->start_interval_ns : c->interval_ns;
}

const char *
health_status_name (health_status s)
{
  switch (s)
    {
    case HEALTH_HEALTHY:
      return "healthy";
    case HEALTH_UNHEALTHY:
      return "unhealthy";
    case HEALTH_STARTING:
    default:
      return "starting";
    }
}

json_t *
health_state_to_json (const health_state *h)
{
  json_t *log = json_array ();
  for (int i = 0; i < h->n_log; i++)
    {
      const health_result *r = &h->log[i];
      char s[JSONLOG_TIME_MAX], e[JSONLOG_TIME_MAX];
      jsonlog_format_time (r->start_ns, s);
      jsonlog_format_time (r->end_ns, e);
      json_array_append_new (log, json_pack ("{s:s,s:s,s:i,s:s}", "start", s, "end", e,
                                             "exit_code", r->exit_code, "output",
                                             r->output ? r->output : ""));
    }
  return json_pack ("{s:s,s:i,s:o}", "status", health_status_name (h->status),
                    "failing_streak", h->failing_streak, "log", log);
}

/* Append V with up to PREC fraction digits (trailing zeros dropped) and
   UNIT to BUF at *N. */
static void
health_fmt_frac (char *buf, size_t *n, int64_t whole, int64_t frac, int prec,
                 const char *unit)
{
  *n += (size_t) snprintf (buf + *n, 40 - *n, "%lld", (long long) whole);
  if (frac)
    {
      char d[16];
      snprintf (d, sizeof d, "%0*lld", prec, (long long) frac);
      int len = prec;
      while (len > 0 && d[len - 1] == '0')
        len--;
      *n += (size_t) snprintf (buf + *n, 40 - *n, ".%.*s", len, d);
    }
  *n += (size_t) snprintf (buf + *n, 40 - *n, "%s", unit);
}

const char *
health_duration_string (int64_t ns, char buf[40])
{
  size_t n = 0;
  if (ns < 0)
    {
      buf[n++] = '-';
      ns = -ns;
    }
  buf[n] = '\0';
  if (ns == 0)
    snprintf (buf, 40, "0s");
  else if (ns < 1000)
    snprintf (buf + n, 40 - n, "%lldns", (long long) ns);
  else if (ns < 1000000)
    health_fmt_frac (buf, &n, ns / 1000, ns % 1000, 3, "\xc2\xb5s");
  else if (ns < 1000000000)
    health_fmt_frac (buf, &n, ns / 1000000, ns % 1000000, 6, "ms");
  else
    {
      int64_t s = ns / 1000000000, frac = ns % 1000000000;
      int64_t h = s / 3600, m = (s / 60) % 60;
      if (h)
        n += (size_t) snprintf (buf + n, 40 - n, "%lldh", (long long) h);
      if (h || m)
        n += (size_t) snprintf (buf + n, 40 - n, "%lldm", (long long) m);
      health_fmt_frac (buf, &n, s % 60, frac, 9, "s");
    }
  return buf;
}
