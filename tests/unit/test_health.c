/* Unit tests for shim/health.c: Docker's health-check rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/xalloc.h"
#include "shim/health.h"

#define S 1000000000ll

static json_t *
parse_json (const char *s)
{
  json_error_t e;
  json_t *j = json_loads (s, JSON_DECODE_ANY, &e);
  assert_non_null (j);
  return j;
}

static void
test_parse (void **state)
{
  (void) state;
  polis_error *err = NULL;
  health_config c;
  json_t *j = parse_json ("{\"Test\":[\"CMD\",\"true\",\"x\"]}");
  assert_int_equal (health_config_parse (j, &c, &err), 0);
  assert_string_equal (c.argv[0], "true");
  assert_string_equal (c.argv[1], "x");
  assert_null (c.argv[2]);
  assert_int_equal (c.interval_ns, 30 * S);
  assert_int_equal (c.timeout_ns, 30 * S);
  assert_int_equal (c.start_period_ns, 0);
  assert_int_equal (c.start_interval_ns, 5 * S);
  assert_int_equal (c.retries, 3);
  health_config_clear (&c);
  json_decref (j);

  j = parse_json ("{\"Test\":[\"CMD-SHELL\",\"exit 1\"],\"Interval\":1000000000,"
                  "\"Timeout\":2000000000,\"StartPeriod\":3000000000,"
                  "\"StartInterval\":500000000,\"Retries\":2}");
  assert_int_equal (health_config_parse (j, &c, &err), 0);
  assert_string_equal (c.argv[0], "/bin/sh");
  assert_string_equal (c.argv[1], "-c");
  assert_string_equal (c.argv[2], "exit 1");
  assert_int_equal (c.interval_ns, 1 * S);
  assert_int_equal (c.timeout_ns, 2 * S);
  assert_int_equal (c.start_period_ns, 3 * S);
  assert_int_equal (c.start_interval_ns, S / 2);
  assert_int_equal (c.retries, 2);
  health_config_clear (&c);
  json_decref (j);

  const char *none[] = { "{\"Test\":[\"NONE\"]}", "{\"Test\":[]}", "{}", "null" };
  for (size_t i = 0; i < 4; i++)
    {
      j = parse_json (none[i]);
      assert_int_equal (health_config_parse (j, &c, &err), 0);
      assert_null (c.argv);
      json_decref (j);
    }
  assert_int_equal (health_config_parse (NULL, &c, &err), 0);
  assert_null (c.argv);

  const char *bad[][2] = {
    { "{\"Test\":[\"CMD\",\"x\"],\"Interval\":999}", "Interval in Healthcheck cannot be less than 1ms" },
    { "{\"Test\":[\"CMD\",\"x\"],\"Retries\":-1}", "Retries in Healthcheck cannot be negative" },
    { "{\"Test\":[\"BOGUS\",\"x\"]}", "Unknown healthcheck type 'BOGUS' (expected 'CMD')" },
    { "{\"Test\":[\"CMD\"]}", "Healthcheck: CMD needs a command" },
    { "{\"Test\":\"CMD\"}", NULL },
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      j = parse_json (bad[i][0]);
      assert_int_equal (health_config_parse (j, &c, &err), -1);
      if (bad[i][1])
        assert_string_equal (err->msg, bad[i][1]);
      error_free (&err);
      health_config_clear (&c);
      json_decref (j);
    }
}

static health_result
result (int64_t start, int code)
{
  health_result r = { .start_ns = start, .end_ns = start + 1, .exit_code = code,
                      .output = xstrdup (code == 0 ? "ok" : "fail") };
  return r;
}

static void
test_record (void **state)
{
  (void) state;
  health_config c = { .interval_ns = 10 * S, .timeout_ns = S, .start_period_ns = 5 * S,
                      .start_interval_ns = S, .retries = 2 };
  health_state h = { 0 };
  health_state_restart (&h);
  int64_t t0 = 1000 * S;
  /* Failures within the start period do not count while starting. */
  health_result r = result (t0 + S, 1);
  assert_false (health_record (&h, &c, &r, t0));
  assert_int_equal (h.failing_streak, 0);
  assert_int_equal (h.status, HEALTH_STARTING);
  assert_int_equal (health_next_interval_ns (&h, &c, t0, t0 + 2 * S), S);
  /* Past it, they do: RETRIES of them make it unhealthy. */
  r = result (t0 + 6 * S, 1);
  assert_false (health_record (&h, &c, &r, t0));
  assert_int_equal (h.failing_streak, 1);
  r = result (t0 + 7 * S, 1);
  assert_true (health_record (&h, &c, &r, t0));
  assert_int_equal (h.status, HEALTH_UNHEALTHY);
  assert_int_equal (health_next_interval_ns (&h, &c, t0, t0 + 8 * S), 10 * S);
  /* One success: healthy, streak cleared. */
  r = result (t0 + 8 * S, 0);
  assert_true (health_record (&h, &c, &r, t0));
  assert_int_equal (h.status, HEALTH_HEALTHY);
  assert_int_equal (h.failing_streak, 0);
  /* Once healthy, a failure in the start period counts. */
  health_state hs = { 0 };
  health_state_restart (&hs);
  r = result (t0 + 1, 0);
  health_record (&hs, &c, &r, t0);
  r = result (t0 + 2, 1);
  health_record (&hs, &c, &r, t0);
  assert_int_equal (hs.failing_streak, 1);
  assert_int_equal (health_next_interval_ns (&hs, &c, t0, t0 + 3), 10 * S);
  health_state_clear (&hs);

  /* The log keeps the last five, oldest first. */
  for (int i = 0; i < 7; i++)
    {
      r = result (t0 + 100 * S + i, i);
      health_record (&h, &c, &r, t0);
    }
  assert_int_equal (h.n_log, HEALTH_LOG_MAX);
  assert_int_equal (h.log[0].exit_code, 2);
  assert_int_equal (h.log[4].exit_code, 6);
  json_t *j = health_state_to_json (&h);
  assert_int_equal (json_array_size (json_object_get (j, "log")), 5);
  assert_string_equal (json_string_value (json_object_get (j, "status")), "unhealthy");
  json_decref (j);
  /* A restart: starting again, the log stays. */
  health_state_restart (&h);
  assert_int_equal (h.status, HEALTH_STARTING);
  assert_int_equal (h.n_log, 5);
  health_state_clear (&h);
}

static void
test_duration (void **state)
{
  (void) state;
  char b[40];
  assert_string_equal (health_duration_string (30 * S, b), "30s");
  assert_string_equal (health_duration_string (90 * S, b), "1m30s");
  assert_string_equal (health_duration_string (2 * 3600 * S, b), "2h0m0s");
  assert_string_equal (health_duration_string (S + S / 2, b), "1.5s");
  assert_string_equal (health_duration_string (500000000, b), "500ms");
  assert_string_equal (health_duration_string (1500000, b), "1.5ms");
  assert_string_equal (health_duration_string (0, b), "0s");
  assert_string_equal (health_duration_string (12, b), "12ns");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse),
    cmocka_unit_test (test_record),
    cmocka_unit_test (test_duration),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
