/* Unit tests for shim/restart.c: Docker's policies and back-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "shim/restart.h"

static void
test_parse (void **state)
{
  (void) state;
  polis_error *err = NULL;
  restart_policy p;
  char buf[32];
  assert_int_equal (restart_parse (NULL, &p, &err), 0);
  assert_int_equal (p.kind, RESTART_NO);
  assert_int_equal (restart_parse ("", &p, &err), 0);
  assert_int_equal (p.kind, RESTART_NO);
  assert_int_equal (restart_parse ("always", &p, &err), 0);
  assert_int_equal (p.kind, RESTART_ALWAYS);
  assert_int_equal (restart_parse ("unless-stopped", &p, &err), 0);
  assert_int_equal (p.kind, RESTART_UNLESS_STOPPED);
  assert_int_equal (restart_parse ("on-failure", &p, &err), 0);
  assert_int_equal (p.kind, RESTART_ON_FAILURE);
  assert_int_equal (p.max_retries, 0);
  assert_string_equal (restart_name (&p, buf), "on-failure");
  assert_int_equal (restart_parse ("on-failure:3", &p, &err), 0);
  assert_int_equal (p.max_retries, 3);
  assert_string_equal (restart_name (&p, buf), "on-failure:3");

  assert_int_equal (restart_parse ("sometimes", &p, &err), -1);
  assert_string_equal (err->msg, "invalid restart policy: unknown policy 'sometimes'; use one "
                                 "of 'no', 'always', 'on-failure', or 'unless-stopped'");
  error_free (&err);
  assert_int_equal (restart_parse ("always:3", &p, &err), -1);
  assert_string_equal (err->msg, "invalid restart policy: maximum retry count can only be "
                                 "used with 'on-failure'");
  error_free (&err);
  assert_int_equal (restart_parse ("on-failure:x", &p, &err), -1);
  error_free (&err);
  assert_int_equal (restart_parse ("on-failure:-1", &p, &err), -1);
  assert_string_equal (err->msg,
                       "invalid restart policy: maximum retry count cannot be negative");
  error_free (&err);
}

static void
test_backoff (void **state)
{
  (void) state;
  restart_policy p = { RESTART_ALWAYS, 0 };
  restart_state st = { 0, 0 };
  uint64_t d = 0;
  /* 100 ms, doubling, capped at a minute. */
  uint64_t want[] = { 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000 };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    {
      assert_true (restart_decide (&p, &st, 1, false, 50, &d));
      assert_int_equal (d, want[i]);
      assert_int_equal (st.count, (int) i + 1);
    }
  /* A run of 10 s or more starts again from 100 ms. */
  assert_true (restart_decide (&p, &st, 0, false, 10000, &d));
  assert_int_equal (d, 100);
  assert_true (restart_decide (&p, &st, 0, false, 9999, &d));
  assert_int_equal (d, 200);
  /* Stopped by hand: never, whatever the policy. */
  assert_false (restart_decide (&p, &st, 1, true, 50, &d));
  p.kind = RESTART_UNLESS_STOPPED;
  assert_false (restart_decide (&p, &st, 1, true, 50, &d));
  assert_true (restart_decide (&p, &st, 0, false, 50, &d));
  p.kind = RESTART_NO;
  assert_false (restart_decide (&p, &st, 1, false, 50, &d));
}

static void
test_on_failure (void **state)
{
  (void) state;
  restart_policy p = { RESTART_ON_FAILURE, 3 };
  restart_state st = { 0, 0 };
  uint64_t d;
  assert_false (restart_decide (&p, &st, 0, false, 50, &d)); /* success: no */
  assert_true (restart_decide (&p, &st, 1, false, 50, &d));
  assert_true (restart_decide (&p, &st, 2, false, 50, &d));
  assert_true (restart_decide (&p, &st, 137, false, 50, &d));
  assert_int_equal (st.count, 3);
  assert_false (restart_decide (&p, &st, 1, false, 50, &d)); /* 3 restarts: done */
  assert_int_equal (st.count, 3);
  /* No limit. */
  p.max_retries = 0;
  for (int i = 0; i < 100; i++)
    assert_true (restart_decide (&p, &st, 1, false, 50, &d));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse),
    cmocka_unit_test (test_backoff),
    cmocka_unit_test (test_on_failure),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
