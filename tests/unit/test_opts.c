/* Unit tests for base/opts.c: the flag spellings runc and docker accept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/opts.h"

static void
test_spellings (void **state)
{
  (void) state;
  const char *bundle = NULL, *pidf = NULL;
  bool detach = false, tty = false, inter = false;
  char **env = NULL;
  opt_def defs[] = {
    { "bundle", 'b', OPT_STRING, &bundle, NULL },
    { "pid-file", 0, OPT_STRING, &pidf, NULL },
    { "detach", 'd', OPT_BOOL, &detach, NULL },
    { "tty", 't', OPT_BOOL, &tty, NULL },
    { "interactive", 'i', OPT_BOOL, &inter, NULL },
    { "env", 'e', OPT_STRV, &env, NULL },
    { 0 },
  };
  char *argv[] = { "-bundle", "/b", "--pid-file=/p", "-it", "ID", "-e", "A=1",
                   "--env=B=2", "-eC=3", "--detach=false", "more" };
  char **pos = NULL;
  polis_error *err = NULL;
  assert_int_equal (opts_parse (defs, 11, argv, false, &pos, &err), 0);
  assert_string_equal (bundle, "/b");
  assert_string_equal (pidf, "/p");
  assert_true (tty && inter);
  assert_false (detach);
  assert_int_equal (strv_length (env), 3);
  assert_string_equal (env[0], "A=1");
  assert_string_equal (env[1], "B=2");
  assert_string_equal (env[2], "C=3");
  assert_int_equal (strv_length (pos), 2);
  assert_string_equal (pos[0], "ID");
  assert_string_equal (pos[1], "more");
  cleanup_strv_fn (&pos);
  cleanup_strv_fn (&env);
}

static void
test_stop_at_positional_and_errors (void **state)
{
  (void) state;
  bool tty = false;
  opt_def defs[] = { { "tty", 't', OPT_BOOL, &tty, NULL }, { 0 } };
  char *argv[] = { "-t", "ID", "sh", "-c", "--tty" };
  char **pos = NULL;
  polis_error *err = NULL;
  assert_int_equal (opts_parse (defs, 5, argv, true, &pos, &err), 0);
  assert_int_equal (strv_length (pos), 4);
  assert_string_equal (pos[3], "--tty");
  cleanup_strv_fn (&pos);

  char *bad[] = { "--nope" };
  assert_int_equal (opts_parse (defs, 1, bad, false, &pos, &err), -1);
  assert_string_equal (err->msg, "flag provided but not defined: --nope");
  error_free (&err);
  char *badb[] = { "--tty=maybe" };
  assert_int_equal (opts_parse (defs, 1, badb, false, &pos, &err), -1);
  error_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_spellings),
    cmocka_unit_test (test_stop_at_positional_and_errors),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
