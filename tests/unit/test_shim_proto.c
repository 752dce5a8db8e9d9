/* Unit tests for engine/shim_proto.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "engine/shim_proto.h"

static void
test_stdcopy (void **state)
{
  (void) state;
  polis_error *err = NULL;
  uint8_t h[8];
  shim_proto_stdcopy_header (h, SHIM_PROTO_STDERR, 0x01020304);
  const uint8_t want[8] = { 2, 0, 0, 0, 1, 2, 3, 4 };
  assert_memory_equal (h, want, 8);
  shim_proto_stream s;
  uint32_t len;
  assert_int_equal (shim_proto_stdcopy_parse (h, &s, &len, &err), 0);
  assert_int_equal (s, SHIM_PROTO_STDERR);
  assert_int_equal (len, 0x01020304);
  h[0] = 4;
  assert_int_equal (shim_proto_stdcopy_parse (h, &s, &len, &err), -1);
  error_free (&err);
}

static void
test_lines (void **state)
{
  (void) state;
  polis_error *err = NULL;
  size_t n;
  cleanup_free char *req = shim_proto_request ("kill", json_pack ("{s:i}", "signal", 15), &n);
  assert_int_equal (req[n - 1], '\n');
  const char *op;
  json_t *j = shim_proto_parse_request (req, n - 1, &op, &err);
  assert_non_null (j);
  assert_string_equal (op, "kill");
  assert_int_equal (json_integer_value (json_object_get (j, "signal")), 15);
  json_decref (j);
  assert_null (shim_proto_parse_request ("[1]", 3, &op, &err));
  error_free (&err);
  assert_null (shim_proto_parse_request ("{\"x\":1}", 7, &op, &err));
  error_free (&err);

  cleanup_free char *ok = shim_proto_reply_ok (json_pack ("{s:i}", "pid", 42), &n);
  j = shim_proto_parse_reply (ok, n, &err);
  assert_non_null (j);
  assert_int_equal (json_integer_value (json_object_get (j, "pid")), 42);
  json_decref (j);

  polis_error *e = NULL;
  error_set (&e, ERROR_CONFLICT, 0, "Container abc is not running");
  cleanup_free char *bad = shim_proto_reply_error (e, &n);
  assert_non_null (strstr (bad, "\"code\":409"));
  assert_null (shim_proto_parse_reply (bad, n, &err));
  assert_int_equal (err->cls, ERROR_CONFLICT);
  assert_string_equal (err->msg, "Container abc is not running");
  error_free (&err);
  error_free (&e);

  cleanup_free char *ev = shim_proto_event ("die", json_pack ("{s:i}", "exit_code", 3), 5, &n);
  assert_non_null (strstr (ev, "\"action\":\"die\""));
  assert_non_null (strstr (ev, "\"time_nano\":5"));
  cleanup_free char *w = shim_proto_wait_result (3, NULL, &n);
  assert_string_equal (w, "{\"exit_code\":3,\"error\":null}\n");
}

static void
test_detach_keys (void **state)
{
  (void) state;
  polis_error *err = NULL;
  uint8_t k[SHIM_PROTO_DETACH_KEYS_MAX];
  size_t n;
  assert_int_equal (shim_proto_parse_detach_keys ("ctrl-p,ctrl-q", k, &n, &err), 0);
  assert_int_equal (n, 2);
  assert_int_equal (k[0], 16);
  assert_int_equal (k[1], 17);
  assert_int_equal (shim_proto_parse_detach_keys ("a,ctrl-@,ctrl-[,CTRL-_", k, &n, &err), 0);
  assert_int_equal (n, 4);
  assert_int_equal (k[0], 'a');
  assert_int_equal (k[1], 0);
  assert_int_equal (k[2], 27);
  assert_int_equal (k[3], 31);
  assert_int_equal (shim_proto_parse_detach_keys ("ctrl-pp", k, &n, &err), -1);
  assert_string_equal (err->msg, "Invalid detach keys (ctrl-pp) provided");
  error_free (&err);
  assert_int_equal (shim_proto_parse_detach_keys ("", k, &n, &err), -1);
  error_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_stdcopy),
    cmocka_unit_test (test_lines),
    cmocka_unit_test (test_detach_keys),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
