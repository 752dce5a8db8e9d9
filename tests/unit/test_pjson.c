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

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_error_names_position),
    cmocka_unit_test (test_getters_name_the_field),
    cmocka_unit_test (test_embedded_nul_rejected),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
