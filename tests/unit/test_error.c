/* Unit tests for base/error.c */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"

static void
test_set_and_wrap (void **state)
{
  (void) state;
  polis_error *err = NULL;
  assert_int_equal (error_set (&err, ERROR_NOT_FOUND, ENOENT, "no such %s", "thing"), -1);
  assert_non_null (err);
  assert_string_equal (err->msg, "no such thing");
  assert_int_equal (err->cls, ERROR_NOT_FOUND);
  assert_int_equal (error_wrap (&err, "create %s", "abc"), -1);
  assert_string_equal (err->msg, "create abc: no such thing");
  assert_int_equal (err->code, ENOENT);
  error_free (&err);
  assert_null (err);
  error_free (&err); /* idempotent */
}

static void
test_sys_keeps_errno_and_class (void **state)
{
  (void) state;
  polis_error *err = NULL;
  errno = EACCES;
  error_sys (&err, "open `%s`", "/x");
  assert_int_equal (errno, EACCES);
  assert_string_equal (err->msg, "open `/x`: Permission denied");
  assert_int_equal (err->cls, ERROR_FORBIDDEN);
  assert_int_equal (error_http_status (err), 403);
  error_free (&err);
  error_sys_code (&err, EEXIST, "mkdir");
  assert_int_equal (error_http_status (err), 409);
  error_free (&err);
}

static void
test_http_mapping (void **state)
{
  (void) state;
  struct { polis_error_class cls; int status; } cases[] = {
    { ERROR_NOT_FOUND, 404 }, { ERROR_CONFLICT, 409 }, { ERROR_INVALID, 400 },
    { ERROR_FORBIDDEN, 403 }, { ERROR_UNAVAILABLE, 503 }, { ERROR_INTERNAL, 500 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    {
      polis_error *err = NULL;
      error_set (&err, cases[i].cls, 0, "x");
      assert_int_equal (error_http_status (err), cases[i].status);
      error_free (&err);
    }
  assert_int_equal (error_http_status (NULL), 200);
}

static void
test_encode_decode_round_trip (void **state)
{
  (void) state;
  polis_error *err = NULL, *back = NULL;
  error_set (&err, ERROR_INVALID, EINVAL, "mount `/proc`: bad: 1 2 3");
  char *enc = error_encode (err);
  assert_int_equal (error_decode (enc, &back), -1);
  assert_string_equal (back->msg, err->msg);
  assert_int_equal (back->cls, ERROR_INVALID);
  assert_int_equal (back->code, EINVAL);
  free (enc);
  error_free (&err);
  error_free (&back);
}

static void
test_decode_rejects_garbage (void **state)
{
  (void) state;
  polis_error *err = NULL;
  assert_int_equal (error_decode ("garbage", &err), -1);
  assert_string_equal (err->msg, "malformed error report");
  error_free (&err);
  assert_int_equal (error_decode ("1 99 x", &err), -1);
  assert_string_equal (err->msg, "malformed error report");
  error_free (&err);
  /* An over-long message is capped, not trusted. */
  char *big = malloc (10000);
  memset (big, 'a', 9999);
  big[9999] = '\0';
  big[0] = '0'; big[1] = ' '; big[2] = '0'; big[3] = ' ';
  assert_int_equal (error_decode (big, &err), -1);
  assert_true (strlen (err->msg) <= 4096);
  free (big);
  error_free (&err);
}

static void
test_wrap_null_becomes_internal (void **state)
{
  (void) state;
  polis_error *err = NULL;
  error_wrap (&err, "context only");
  assert_string_equal (err->msg, "context only");
  assert_int_equal (err->cls, ERROR_INTERNAL);
  error_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_set_and_wrap),
    cmocka_unit_test (test_sys_keeps_errno_and_class),
    cmocka_unit_test (test_http_mapping),
    cmocka_unit_test (test_encode_decode_round_trip),
    cmocka_unit_test (test_decode_rejects_garbage),
    cmocka_unit_test (test_wrap_null_becomes_internal),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
