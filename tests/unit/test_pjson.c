/* Unit tests for base/pjson.c */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/pjson.h"

static void
test_parse_error_names_position (void **state)
{
  (void) state;
  polis_error *err = NULL;
  const char *bad = "{\n  \"a\": [1, 2,,]\n}";
  assert_null (pjson_parse (bad, strlen (bad), "config.json", &err));
  assert_non_null (strstr (err->msg, "config.json: invalid JSON at line 2"));
  assert_int_equal (err->cls, ERROR_INVALID);
  error_free (&err);
  const char *dup = "{\"a\":1,\"a\":2}";
  assert_null (pjson_parse (dup, strlen (dup), "x", &err));
  error_free (&err);
}

static void
test_getters_name_the_field (void **state)
{
  (void) state;
  polis_error *err = NULL;
  const char *doc = "{\"s\":\"v\",\"n\":5,\"neg\":-1,\"b\":true,\"arr\":[\"x\",1]}";
  json_t *j = pjson_parse (doc, strlen (doc), "t", &err);
  assert_non_null (j);
  const char *s = NULL;
  assert_int_equal (pjson_get_string (j, "root", "s", true, &s, &err), 0);
  assert_string_equal (s, "v");
  assert_int_equal (pjson_get_string (j, "root", "n", true, &s, &err), -1);
  assert_string_equal (err->msg, "root.n: expected a string");
  error_free (&err);
  assert_int_equal (pjson_get_string (j, "root", "missing", true, &s, &err), -1);
  assert_string_equal (err->msg, "root.missing: missing");
  error_free (&err);
  uint64_t u = 0;
  assert_int_equal (pjson_get_uint64 (j, "root", "neg", true, 10, &u, &err), -1);
  error_free (&err);
  assert_int_equal (pjson_get_uint64 (j, "root", "n", true, 4, &u, &err), -1);
  error_free (&err);
  assert_int_equal (pjson_get_uint64 (j, "root", "n", true, 5, &u, &err), 0);
  assert_int_equal (u, 5);
  char **v = NULL;
  assert_int_equal (pjson_get_strv (j, "root", "arr", true, &v, &err), -1);
  assert_string_equal (err->msg, "root.arr[1]: expected a string");
  error_free (&err);
  bool b = false;
  assert_int_equal (pjson_get_bool (j, "", "b", &b, &err), 0);
  assert_true (b);
  json_decref (j);
}

static void
test_embedded_nul_rejected (void **state)
{
  (void) state;
  polis_error *err = NULL;
  const char *doc = "{\"s\":\"a\\u0000b\"}";
  json_t *j = json_loads (doc, JSON_ALLOW_NUL, NULL);
  assert_non_null (j);
  const char *s = NULL;
  assert_int_equal (pjson_get_string (j, "", "s", true, &s, &err), -1);
  error_free (&err);
  json_decref (j);
}

static void
test_uint64_above_int64_max (void **state)
{
  (void) state;
  polis_error *err = NULL;
  const char *doc = "{\"hard\":18446744073709551615,\"mask\":9223372036854775808,"
                    "\"small\":5,\"s\":\"18446744073709551615\",\"f\":1.5e300,"
                    "\"arr\":[18446744073709551614]}";
  json_t *j = pjson_parse (doc, strlen (doc), "t", &err);
  assert_non_null (j);
  uint64_t u = 0;
  assert_int_equal (pjson_get_uint64 (j, "", "hard", true, UINT64_MAX, &u, &err), 0);
  assert_true (u == UINT64_MAX);
  assert_int_equal (pjson_get_uint64 (j, "", "mask", true, UINT64_MAX, &u, &err), 0);
  assert_true (u == 9223372036854775808ULL);
  assert_int_equal (pjson_get_uint64 (j, "", "mask", true, 100, &u, &err), -1);
  error_free (&err);
  assert_int_equal (pjson_get_uint64 (j, "", "small", true, UINT64_MAX, &u, &err), 0);
  assert_int_equal (u, 5);
  /* A real string that looks like a number stays a string. */
  const char *sv = NULL;
  assert_int_equal (pjson_get_string (j, "", "s", true, &sv, &err), 0);
  assert_string_equal (sv, "18446744073709551615");
  /* Not a string either: a marked number is no string. */
  assert_int_equal (pjson_get_string (j, "", "hard", true, &sv, &err), -1);
  error_free (&err);
  json_decref (j);

  /* Above UINT64_MAX is out of range, not a silent wrap. */
  const char *big = "{\"v\":99999999999999999999999}";
  j = pjson_parse (big, strlen (big), "t", &err);
  assert_non_null (j);
  assert_int_equal (pjson_get_uint64 (j, "", "v", true, UINT64_MAX, &u, &err), -1);
  error_free (&err);
  json_decref (j);

  /* With a big number present, a user string holding NUL is still refused. */
  const char *nul = "{\"v\":18446744073709551615,\"s\":\"a\\u0000b\"}";
  assert_null (pjson_parse (nul, strlen (nul), "t", &err));
  error_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_error_names_position),
    cmocka_unit_test (test_getters_name_the_field),
    cmocka_unit_test (test_embedded_nul_rejected),
    cmocka_unit_test (test_uint64_above_int64_max),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
