/* Unit tests for runtime/signals.c */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "runtime/signals.h"

static void
test_parse (void **state)
{
  (void) state;
  polis_error *err = NULL;
  assert_int_equal (signals_parse ("KILL", &err), SIGKILL);
  assert_int_equal (signals_parse ("SIGKILL", &err), SIGKILL);
  assert_int_equal (signals_parse ("sigterm", &err), SIGTERM);
  assert_int_equal (signals_parse ("9", &err), 9);
  assert_int_equal (signals_parse ("RTMIN+2", &err), SIGRTMIN + 2);
  assert_int_equal (signals_parse ("BOGUS", &err), -1);
  assert_string_equal (err->msg, "unknown signal \"BOGUS\"");
  error_free (&err);
  assert_int_equal (signals_parse ("0", &err), -1);
  error_free (&err);
  assert_int_equal (signals_parse ("99999", &err), -1);
  error_free (&err);
  assert_string_equal (signals_name (SIGTERM), "SIGTERM");
}

int
main (void)
{
  const struct CMUnitTest tests[] = { cmocka_unit_test (test_parse) };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
